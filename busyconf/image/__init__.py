"""Root filesystems and container images from a build.

::

    from busyconf.image import make_rootfs, oci_image, ImageInput, write_layout

    rootfs = make_rootfs(Path("out/busybox"), "x86_64", mtime=manifest.source_date_epoch)
    image = oci_image([ImageInput("x86_64", rootfs)], tag="latest")
    write_layout(image, Path("out/image"))      # then: skopeo inspect oci:out/image:latest

``checks.check_layout(Path("out/image"), "latest")`` runs docker-library's image
tests (utc, no-hard-coded-passwords, override-cmd, busybox) on each platform.
Trimming a profile to what scripts use is :mod:`busyconf.trim`. Nothing here
imports Rich or Textual.
"""

from __future__ import annotations

from busyconf.image.oci import (
    ImageInput,
    ImageMeta,
    OciImage,
    Platform,
    docker_archive_bytes,
    oci_image,
    platform_for,
    write_layout,
)
from busyconf.image.rootfs import Entry, Rootfs, list_full, make_rootfs, tar_bytes, write_dir, write_tar

__all__ = [
    "Entry",
    "ImageInput",
    "ImageMeta",
    "OciImage",
    "Platform",
    "Rootfs",
    "docker_archive_bytes",
    "list_full",
    "make_rootfs",
    "oci_image",
    "platform_for",
    "tar_bytes",
    "write_dir",
    "write_layout",
    "write_tar",
]
