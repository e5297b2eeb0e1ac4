"""Root filesystems and container images from a build; trimming a profile by use.

::

    from busyconf.image import make_rootfs, oci_image, ImageInput, write_layout

    rootfs = make_rootfs(Path("out/busybox"), "x86_64", mtime=manifest.source_date_epoch)
    image = oci_image([ImageInput("x86_64", rootfs)], tag="latest")
    write_layout(image, Path("out/image"))      # then: skopeo inspect oci:out/image:latest

``checks.check_layout(Path("out/image"), "latest")`` runs docker-library's image
tests (utc, no-hard-coded-passwords, override-cmd, busybox) on each platform.
``trim`` scans scripts for the commands they run and cuts a profile to those
applets; ``budget`` lists removals that bring the size estimate within a
budget. Nothing here imports Rich or Textual.
"""

from __future__ import annotations

from busyconf.image.budget import BudgetPlan, Removal, format_size, parse_size, plan_budget
from busyconf.image.oci import (
    ImageInput,
    ImageMeta,
    OciImage,
    Platform,
    docker_archive_bytes,
    oci_image,
    platform_for,
    write_bytes_atomic,
    write_layout,
)
from busyconf.image.rootfs import Entry, Rootfs, list_full, make_rootfs, tar_bytes, write_dir, write_tar
from busyconf.image.trim import Scan, TrimPlan, plan_trim, scan_paths, trimmed_profile_text

__all__ = [
    "BudgetPlan",
    "Entry",
    "ImageInput",
    "ImageMeta",
    "OciImage",
    "Platform",
    "Removal",
    "Rootfs",
    "Scan",
    "TrimPlan",
    "docker_archive_bytes",
    "format_size",
    "list_full",
    "make_rootfs",
    "oci_image",
    "parse_size",
    "plan_budget",
    "plan_trim",
    "platform_for",
    "scan_paths",
    "tar_bytes",
    "trimmed_profile_text",
    "write_bytes_atomic",
    "write_dir",
    "write_layout",
    "write_tar",
]
