"""OCI image layouts and docker-archives, written with tarfile, hashlib and json.

One layer (the rootfs tarball, gzip with mtime 0), FROM scratch. Every byte
depends only on the rootfs and the metadata, so the same build gives the same
digests. Several platforms give one image index (``index.json`` points at it
under the tag) listing one manifest per platform.

Each manifest carries the standard ``org.opencontainers.image.*`` annotations
(:class:`ImageMeta`); an index carries those its platforms share, and the
image config carries them as ``Labels`` too, which is what ``docker inspect``
shows.
"""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import io
import json
import tarfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from busyconf.errors import UserError
from busyconf.image.rootfs import Rootfs, tar_bytes
from busyconf.savefile import publish_dir

MEDIA_INDEX = "application/vnd.oci.image.index.v1+json"
MEDIA_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MEDIA_CONFIG = "application/vnd.oci.image.config.v1+json"
MEDIA_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
MEDIA_LAYER_TAR = "application/vnd.oci.image.layer.v1.tar"
REF_NAME = "org.opencontainers.image.ref.name"
#: The pre-defined annotation keys of the OCI image spec (annotations.md) that busyconf sets.
ANNOTATION_PREFIX = "org.opencontainers.image."
LICENSE = "GPL-2.0-only"
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

#: busyconf CPU name -> (OCI architecture, variant), spelled as Go's GOARCH and the image spec do.
PLATFORMS: dict[str, tuple[str, str]] = {
    "x86_64": ("amd64", ""),
    "i386": ("386", ""),
    "aarch64": ("arm64", "v8"),
    "armv7": ("arm", "v7"),
    "armv6": ("arm", "v6"),
    "armv5te": ("arm", "v5"),
    "riscv64": ("riscv64", ""),
    "mips": ("mips", ""),
    "mipsel": ("mipsle", ""),
    "mips64": ("mips64", ""),
    "mips64el": ("mips64le", ""),
    "powerpc": ("ppc", ""),
    "powerpc64": ("ppc64", ""),
    "powerpc64le": ("ppc64le", ""),
    "s390x": ("s390x", ""),
    "loongarch64": ("loong64", ""),
}


@dataclass(frozen=True)
class Platform:
    """An OCI platform: ``os``/``architecture``[/``variant``]."""

    architecture: str
    variant: str = ""
    os: str = "linux"

    def to_json(self) -> dict[str, str]:
        out = {"architecture": self.architecture, "os": self.os}
        if self.variant:
            out["variant"] = self.variant
        return out

    def __str__(self) -> str:
        return "/".join(p for p in (self.os, self.architecture, self.variant) if p)


def platform_for(arch: str) -> Platform:
    """The OCI platform of a busyconf CPU (``mipsel`` -> ``linux/mipsle``)."""
    try:
        architecture, variant = PLATFORMS[arch]
    except KeyError:
        raise UserError(f"no OCI platform name for arch {arch!r}") from None
    return Platform(architecture, variant)


@dataclass(frozen=True)
class Blob:
    """Content-addressed bytes."""

    media_type: str
    data: bytes
    annotations: tuple[tuple[str, str], ...] = ()

    @property
    def digest(self) -> str:
        return "sha256:" + hashlib.sha256(self.data).hexdigest()

    def descriptor(
        self, platform: Platform | None = None, annotations: dict[str, str] | None = None
    ) -> dict[str, object]:
        out: dict[str, object] = {"mediaType": self.media_type, "digest": self.digest, "size": len(self.data)}
        if platform is not None:
            out["platform"] = platform.to_json()
        notes = dict(self.annotations) | (annotations or {})
        if notes:
            out["annotations"] = dict(sorted(notes.items()))
        return out


@dataclass(frozen=True)
class PlatformImage:
    """One platform's manifest, config and layer (compressed and not)."""

    platform: Platform
    manifest: Blob
    config: Blob
    layer: Blob
    layer_tar: bytes
    blobs: tuple[Blob, ...] = field(default=())

    @property
    def diff_id(self) -> str:
        return "sha256:" + hashlib.sha256(self.layer_tar).hexdigest()


@dataclass(frozen=True)
class ImageMeta:
    """What the standard annotations say about one platform's image.

    ``created`` is derived from the rootfs's mtime (``SOURCE_DATE_EPOCH``), so
    annotating an image keeps it reproducible.
    """

    version: str
    title: str
    description: str = ""
    source: str = ""
    revision: str = ""
    licenses: str = LICENSE

    def annotations(self, mtime: int) -> dict[str, str]:
        fields = {
            "created": rfc3339(mtime),
            "version": self.version,
            "title": self.title,
            "description": self.description,
            "source": self.source,
            "revision": self.revision,
            "licenses": self.licenses,
        }
        return {ANNOTATION_PREFIX + k: v for k, v in sorted(fields.items()) if v}


def build_meta(release: str, config_sha256: str, title: str, description: str = "") -> ImageMeta:
    """The annotations of an image of one busyconf build.

    ``version`` is the BusyBox release and ``source`` its upstream tarball (the
    source the binary is built from); ``revision`` is the sha256 of the exact
    ``.config`` (``manifest.json``'s ``config_sha256``), which with the release
    pins the binary the way a commit pins a checkout.
    """
    from busyconf.source.releases import UPSTREAM_URL

    return ImageMeta(
        version=release,
        title=title,
        description=description or f"BusyBox {release} built by busyconf",
        source=UPSTREAM_URL.format(version=release),
        revision=config_sha256,
    )


@dataclass(frozen=True)
class ImageInput:
    """What one platform's image is made of."""

    arch: str
    rootfs: Rootfs
    created_by: str = "busyconf image"
    labels: tuple[tuple[str, str], ...] = ()
    meta: ImageMeta | None = None

    @property
    def annotations(self) -> dict[str, str]:
        return self.meta.annotations(self.rootfs.mtime) if self.meta else {}


def _json(data: object) -> bytes:
    return json.dumps(data, sort_keys=True, separators=(",", ":")).encode()


def gzip_bytes(data: bytes) -> bytes:
    """gzip with no name and mtime 0, so the output depends only on ``data``."""
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, mtime=0, compresslevel=9) as gz:
        gz.write(data)
    return buf.getvalue()


def rfc3339(mtime: int) -> str:
    """``SOURCE_DATE_EPOCH`` as RFC 3339 in UTC (``2023-11-14T22:13:20Z``)."""
    return dt.datetime.fromtimestamp(mtime, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def image_config(inp: ImageInput, diff_id: str) -> dict[str, object]:
    """The image config: FROM scratch, PATH, ``Cmd ["sh"]`` when there is a shell."""
    platform = platform_for(inp.arch)
    cfg: dict[str, object] = {"Env": [f"PATH={DEFAULT_PATH}"], "WorkingDir": "/"}
    if inp.rootfs.has_shell:
        cfg["Cmd"] = ["sh"]
    labels = inp.annotations | dict(inp.labels)
    if labels:
        cfg["Labels"] = dict(sorted(labels.items()))
    created = rfc3339(inp.rootfs.mtime)
    return {
        **platform.to_json(),
        "created": created,
        "config": cfg,
        "rootfs": {"type": "layers", "diff_ids": [diff_id]},
        "history": [{"created": created, "created_by": inp.created_by}],
    }


def platform_image(inp: ImageInput) -> PlatformImage:
    """Manifest, config and gzip layer for one platform."""
    layer_tar = tar_bytes(inp.rootfs)
    diff_id = "sha256:" + hashlib.sha256(layer_tar).hexdigest()
    layer = Blob(MEDIA_LAYER_GZIP, gzip_bytes(layer_tar))
    config = Blob(MEDIA_CONFIG, _json(image_config(inp, diff_id)))
    doc: dict[str, object] = {
        "schemaVersion": 2,
        "mediaType": MEDIA_MANIFEST,
        "config": config.descriptor(),
        "layers": [layer.descriptor()],
    }
    if inp.annotations:
        doc["annotations"] = inp.annotations
    manifest = Blob(MEDIA_MANIFEST, _json(doc))
    platform = platform_for(inp.arch)
    return PlatformImage(platform, manifest, config, layer, layer_tar, (layer, config, manifest))


@dataclass(frozen=True)
class OciImage:
    """An OCI image layout's contents: its blobs and its ``index.json``."""

    tag: str
    images: tuple[PlatformImage, ...]
    index: Blob | None
    blobs: tuple[Blob, ...]
    index_json: bytes

    @property
    def digest(self) -> str:
        """The digest the tag points at (the manifest, or the multi-platform index)."""
        return self.index.digest if self.index else self.images[0].manifest.digest

    @property
    def compressed_size(self) -> int:
        """Bytes a registry would transfer for one platform: config + gzip layer."""
        img = self.images[0]
        return len(img.config.data) + len(img.layer.data)


def check_tag(tag: str) -> str:
    import re

    if not re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}", tag):
        raise UserError(f"bad tag {tag!r}: letters, digits, '_', '.', '-', at most 128")
    return tag


def oci_image(inputs: Sequence[ImageInput], tag: str = "latest") -> OciImage:
    """The image layout for one or several platforms under ``tag``."""
    check_tag(tag)
    if not inputs:
        raise UserError("no architecture given")
    seen: dict[str, str] = {}
    for inp in inputs:
        p = str(platform_for(inp.arch))
        if p in seen:
            raise UserError(f"arch {inp.arch} and {seen[p]} are the same platform {p}")
        seen[p] = inp.arch
    images = tuple(platform_image(i) for i in inputs)
    blobs = [b for img in images for b in img.blobs]
    index: Blob | None = None
    if len(images) == 1:
        top = images[0].manifest.descriptor(images[0].platform, {REF_NAME: tag})
    else:
        doc: dict[str, object] = {
            "schemaVersion": 2,
            "mediaType": MEDIA_INDEX,
            "manifests": [img.manifest.descriptor(img.platform) for img in images],
        }
        # The index says what every platform's manifest says alike (a revision may differ by CPU).
        shared = dict(inputs[0].annotations)
        for inp in inputs[1:]:
            shared = {k: v for k, v in shared.items() if inp.annotations.get(k) == v}
        if shared:
            doc["annotations"] = shared
        index = Blob(MEDIA_INDEX, _json(doc))
        blobs.append(index)
        top = index.descriptor(annotations={REF_NAME: tag})
    index_json = _json({"schemaVersion": 2, "mediaType": MEDIA_INDEX, "manifests": [top]})
    unique = {b.digest: b for b in blobs}
    return OciImage(tag, images, index, tuple(unique[d] for d in sorted(unique)), index_json)


def _layout_files(image: OciImage) -> dict[str, bytes]:
    files = {"oci-layout": _json({"imageLayoutVersion": "1.0.0"}), "index.json": image.index_json}
    for blob in image.blobs:
        files["blobs/sha256/" + blob.digest.split(":", 1)[1]] = blob.data
    return files


def is_replaceable(dest: Path) -> bool:
    if not dest.exists():
        return True
    return dest.is_dir() and ((dest / "oci-layout").is_file() or not any(dest.iterdir()))


def write_layout(image: OciImage, dest: Path) -> None:
    """Write an OCI image layout directory; an earlier layout there is replaced whole, in one step."""
    if not is_replaceable(dest):
        raise UserError(f"{dest}: exists and is not an OCI image layout; choose a new directory")
    publish_dir(dest, _layout_files(image), marker=False)


def docker_archive_bytes(image: PlatformImage, repo_tag: str, mtime: int) -> bytes:
    """A ``docker load``-able archive: Docker's manifest.json plus an OCI layout.

    The layer is stored uncompressed (``docker load`` has always read that).
    """
    layer = Blob(MEDIA_LAYER_TAR, image.layer_tar)
    doc: dict[str, object] = {
        "schemaVersion": 2,
        "mediaType": MEDIA_MANIFEST,
        "config": image.config.descriptor(),
        "layers": [layer.descriptor()],
    }
    notes = json.loads(image.manifest.data).get("annotations")
    if notes:
        doc["annotations"] = notes
    manifest = Blob(MEDIA_MANIFEST, _json(doc))
    tag = repo_tag.rsplit(":", 1)[1] if ":" in repo_tag.rsplit("/", 1)[-1] else "latest"
    index_json = _json(
        {
            "schemaVersion": 2,
            "mediaType": MEDIA_INDEX,
            "manifests": [
                manifest.descriptor(image.platform, {REF_NAME: tag, "io.containerd.image.name": repo_tag})
            ],
        }
    )
    hexes = {b.digest.split(":", 1)[1]: b.data for b in (image.config, layer, manifest)}
    files: dict[str, bytes] = {
        "manifest.json": json.dumps(
            [
                {
                    "Config": "blobs/sha256/" + image.config.digest.split(":", 1)[1],
                    "RepoTags": [repo_tag],
                    "Layers": ["blobs/sha256/" + layer.digest.split(":", 1)[1]],
                }
            ],
            separators=(",", ":"),
        ).encode(),
        "oci-layout": _json({"imageLayoutVersion": "1.0.0"}),
        "index.json": index_json,
    }
    files.update({f"blobs/sha256/{h}": data for h, data in hexes.items()})
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        dirs = {"blobs", "blobs/sha256"}
        for name in sorted(dirs | set(files)):
            info = tarfile.TarInfo(name)
            info.mtime = mtime
            info.uid = info.gid = 0
            info.uname = info.gname = "root"
            if name in dirs:
                info.type = tarfile.DIRTYPE
                info.mode = 0o755
                tar.addfile(info)
            else:
                info.mode = 0o644
                info.size = len(files[name])
                tar.addfile(info, io.BytesIO(files[name]))
    return buf.getvalue()
