"""Rootfs tarballs and OCI layouts from a stand-in binary: structure, reproducibility, real tools."""

from __future__ import annotations

import gzip
import io
import json
import subprocess
import tarfile
from pathlib import Path

import pytest

from busyconf.build import known_arches
from busyconf.errors import UserError
from busyconf.image import (
    ImageInput,
    ImageMeta,
    Rootfs,
    docker_archive_bytes,
    make_rootfs,
    oci_image,
    platform_for,
    tar_bytes,
    write_dir,
    write_layout,
)
from busyconf.image.checks import check_layout, inside, platform_manifests
from busyconf.image.oci import build_meta, gzip_bytes
from busyconf.image.rootfs import install_dirs, utc_tzif
from tests.image.image_helpers import skopeo_inspect

LINKS = ["bin/sh", "bin/ash", "bin/ls", "usr/bin/awk", "sbin/ifconfig", "usr/sbin/chroot", "linuxrc"]
EPOCH = 1_700_000_000


@pytest.fixture()
def binary(tmp_path: Path) -> Path:
    p = tmp_path / "busybox"
    p.write_bytes(b"\x7fELF not really a busybox" * 100)
    return p


def _rootfs(binary: Path, links: list[str] = LINKS) -> Rootfs:
    return make_rootfs(binary, "x86_64", EPOCH, links=links)


def _data(rootfs: Rootfs, path: str) -> str:
    entry = rootfs.entry(path)
    assert entry is not None, f"{path} is not in the image"
    return entry.data.decode()


@pytest.mark.parametrize(
    ("arch", "expected"),
    [
        ("x86_64", "linux/amd64"),
        ("aarch64", "linux/arm64/v8"),
        ("armv7", "linux/arm/v7"),
        ("armv6", "linux/arm/v6"),
        ("i386", "linux/386"),
        ("mipsel", "linux/mipsle"),
        ("powerpc64le", "linux/ppc64le"),
        ("s390x", "linux/s390x"),
        ("riscv64", "linux/riscv64"),
        ("loongarch64", "linux/loong64"),
    ],
)
def test_platforms_are_spelled_as_oci_does(arch: str, expected: str) -> None:
    assert str(platform_for(arch)) == expected


def test_every_known_arch_has_a_platform() -> None:
    for arch in known_arches():
        assert platform_for(arch).architecture


def test_rootfs_tar_is_sorted_normalised_and_reproducible(binary: Path) -> None:
    rootfs = _rootfs(binary)
    data = tar_bytes(rootfs)
    assert data == tar_bytes(_rootfs(binary))
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        members = tar.getmembers()
    names = [m.name for m in members]
    assert names == sorted(names)
    assert all(m.uid == 0 and m.gid == 0 and m.mtime == EPOCH for m in members)
    by = {m.name: m for m in members}
    assert by["tmp"].mode == 0o1777 and by["tmp"].isdir()
    assert by["root"].isdir() and by["root"].mode == 0o700
    assert by["bin/busybox"].mode == 0o755 and by["bin/busybox"].size == binary.stat().st_size
    assert by["usr/bin/awk"].issym() and by["usr/bin/awk"].linkname == "../../bin/busybox"
    assert by["bin/ls"].linkname == "busybox"
    assert by["linuxrc"].linkname == "bin/busybox"
    assert {"etc/passwd", "etc/group", "dev", "proc", "sys"} <= set(names)


def test_passwd_and_group_hold_root(binary: Path) -> None:
    rootfs = _rootfs(binary)
    passwd = _data(rootfs, "etc/passwd")
    assert passwd.startswith("root:x:0:0:root:/root:/bin/sh\n")
    assert _data(rootfs, "etc/group").startswith("root:x:0:")
    no_shell = make_rootfs(binary, "x86_64", EPOCH, links=["bin/ls"])
    assert "/bin/false" in _data(no_shell, "etc/passwd").splitlines()[0]


def test_rootfs_directory(binary: Path, tmp_path: Path) -> None:
    dest = tmp_path / "rootfs"
    write_dir(_rootfs(binary), dest)
    assert (dest / "bin" / "busybox").read_bytes() == binary.read_bytes()
    assert (dest / "usr/bin/awk").resolve() == (dest / "bin/busybox").resolve()
    assert oct((dest / "tmp").stat().st_mode & 0o7777) == "0o1777"
    assert (dest / "tmp").stat().st_mtime == EPOCH
    with pytest.raises(UserError, match="already exists"):
        write_dir(_rootfs(binary), dest)


def test_install_dirs_from_the_applet_table() -> None:
    text = (
        "IF_LS(APPLET_NOEXEC(ls, ls, BB_DIR_BIN, BB_SUID_DROP, ls))\n"
        "IF_AWK(APPLET_NOEXEC(awk, awk, BB_DIR_USR_BIN, BB_SUID_DROP, awk))\n"
        "IF_CHROOT(APPLET_NOEXEC(chroot, chroot, BB_DIR_USR_SBIN, BB_SUID_DROP, chroot))\n"
        "IF_IFCONFIG(APPLET(ifconfig, BB_DIR_SBIN, BB_SUID_DROP))\n"
        "IF_LINUXRC(APPLET_ODDNAME(linuxrc, init, BB_DIR_ROOT, BB_SUID_DROP, linuxrc))\n"
    )
    assert install_dirs(text) == {
        "ls": "bin",
        "awk": "usr/bin",
        "chroot": "usr/sbin",
        "ifconfig": "sbin",
        "linuxrc": "",
    }


def test_gzip_has_no_name_and_no_time() -> None:
    data = gzip_bytes(b"hello" * 1000)
    assert data[4:8] == b"\0\0\0\0" and data[3] & 0x08 == 0
    assert gzip.decompress(data) == b"hello" * 1000
    assert gzip_bytes(b"hello" * 1000) == data


def test_image_config_and_reproducible_digest(binary: Path) -> None:
    a = oci_image([ImageInput("x86_64", _rootfs(binary))])
    b = oci_image([ImageInput("x86_64", _rootfs(binary))])
    assert a.digest == b.digest and a.index is None
    cfg = json.loads(a.images[0].config.data)
    assert cfg["architecture"] == "amd64" and cfg["os"] == "linux"
    assert cfg["config"]["Cmd"] == ["sh"]
    assert any(e.startswith("PATH=") and "/usr/bin" in e for e in cfg["config"]["Env"])
    assert cfg["rootfs"]["diff_ids"] == [a.images[0].diff_id]
    assert cfg["created"] == "2023-11-14T22:13:20Z"
    no_shell = oci_image([ImageInput("x86_64", make_rootfs(binary, "x86_64", EPOCH, links=["bin/ls"]))])
    assert "Cmd" not in json.loads(no_shell.images[0].config.data)["config"]
    assert no_shell.digest != a.digest


def test_several_arches_give_one_index(binary: Path) -> None:
    img = oci_image([ImageInput(a, _rootfs(binary)) for a in ("x86_64", "aarch64", "armv7")])
    assert img.index is not None and img.digest == img.index.digest
    index = json.loads(img.index.data)
    assert [m["platform"] for m in index["manifests"]] == [
        {"architecture": "amd64", "os": "linux"},
        {"architecture": "arm64", "os": "linux", "variant": "v8"},
        {"architecture": "arm", "os": "linux", "variant": "v7"},
    ]
    top = json.loads(img.index_json)["manifests"]
    assert len(top) == 1 and top[0]["digest"] == img.digest
    with pytest.raises(UserError, match="same platform"):
        oci_image([ImageInput("x86_64", _rootfs(binary)), ImageInput("x86_64", _rootfs(binary))])


def test_bad_tag_is_a_user_error(binary: Path) -> None:
    with pytest.raises(UserError, match="bad tag"):
        oci_image([ImageInput("x86_64", _rootfs(binary))], tag="no/slashes")


def test_layout_is_read_by_skopeo_and_umoci(binary: Path, tmp_path: Path) -> None:
    img = oci_image([ImageInput("x86_64", _rootfs(binary))], tag="v1")
    layout = tmp_path / "layout"
    write_layout(img, layout)
    info = skopeo_inspect(f"oci:{layout}")
    assert info["Digest"] == img.digest and info["Architecture"] == "amd64"
    bundle = tmp_path / "bundle"
    subprocess.run(
        ["umoci", "unpack", "--rootless", "--image", f"{layout}:v1", str(bundle)],
        capture_output=True,
        check=True,
    )
    assert (bundle / "rootfs" / "bin" / "busybox").read_bytes() == binary.read_bytes()
    assert (bundle / "rootfs" / "usr" / "bin" / "awk").is_symlink()
    write_layout(img, layout)  # an earlier layout is replaced
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "file").write_text("x")
    with pytest.raises(UserError, match="not an OCI image layout"):
        write_layout(img, tmp_path / "other")
    assert (tmp_path / "other" / "file").read_text() == "x"


def test_docker_archive_is_read_by_skopeo(binary: Path, tmp_path: Path) -> None:
    img = oci_image([ImageInput("x86_64", _rootfs(binary))])
    data = docker_archive_bytes(img.images[0], "busyconf/test:latest", EPOCH)
    assert data == docker_archive_bytes(img.images[0], "busyconf/test:latest", EPOCH)
    path = tmp_path / "image.tar"
    path.write_bytes(data)
    with tarfile.open(path) as tar:
        manifest = json.loads(tar.extractfile("manifest.json").read())  # type: ignore[union-attr]
    assert manifest[0]["RepoTags"] == ["busyconf/test:latest"]
    info = skopeo_inspect(f"docker-archive:{path}")
    assert info["Architecture"] == "amd64"
    assert info["Layers"] == [img.images[0].diff_id]


# -- annotations, /etc, SBOM files, and the checks' layout reading (issue 17) ------------

#: The pre-defined keys of the OCI image spec's annotations.md.
SPEC_KEYS = {
    f"org.opencontainers.image.{k}"
    for k in (
        "created",
        "authors",
        "url",
        "documentation",
        "source",
        "version",
        "revision",
        "vendor",
        "licenses",
        "ref.name",
        "title",
        "description",
        "base.digest",
        "base.name",
    )
}


def _meta(revision: str = "ab" * 32) -> ImageMeta:
    return build_meta("1.38.0", revision, "container-shell", "Minimal shell")


def test_annotations_on_manifest_index_and_labels(binary: Path) -> None:
    arches = ("x86_64", "armv7")
    img = oci_image([ImageInput(a, _rootfs(binary), meta=_meta()) for a in arches])
    manifest = json.loads(img.images[0].manifest.data)
    notes = manifest["annotations"]
    assert notes == {
        "org.opencontainers.image.created": "2023-11-14T22:13:20Z",
        "org.opencontainers.image.version": "1.38.0",
        "org.opencontainers.image.source": "https://busybox.net/downloads/busybox-1.38.0.tar.bz2",
        "org.opencontainers.image.revision": "ab" * 32,
        "org.opencontainers.image.licenses": "GPL-2.0-only",
        "org.opencontainers.image.title": "container-shell",
        "org.opencontainers.image.description": "Minimal shell",
    }
    assert set(notes) <= SPEC_KEYS
    assert json.loads(img.index.data)["annotations"] == notes  # type: ignore[union-attr]
    assert json.loads(img.images[0].config.data)["config"]["Labels"] == notes
    assert json.loads(img.index_json)["manifests"][0]["annotations"] == {
        "org.opencontainers.image.ref.name": "latest"
    }
    # created follows SOURCE_DATE_EPOCH, so annotating keeps the digest reproducible
    again = oci_image([ImageInput(a, _rootfs(binary), meta=_meta()) for a in arches])
    assert again.digest == img.digest


def test_index_keeps_only_what_every_platform_says(binary: Path) -> None:
    img = oci_image(
        [
            ImageInput("x86_64", _rootfs(binary), meta=_meta("aa" * 32)),
            ImageInput("aarch64", _rootfs(binary), meta=_meta("bb" * 32)),
        ]
    )
    shared = json.loads(img.index.data)["annotations"]  # type: ignore[union-attr]
    assert "org.opencontainers.image.revision" not in shared and "org.opencontainers.image.version" in shared
    arm = json.loads(img.images[1].manifest.data)["annotations"]
    assert arm["org.opencontainers.image.revision"] == "bb" * 32


def test_docker_archive_keeps_the_annotations(binary: Path) -> None:
    img = oci_image([ImageInput("x86_64", _rootfs(binary), meta=_meta())])
    with tarfile.open(fileobj=io.BytesIO(docker_archive_bytes(img.images[0], "busyconf/t:1", EPOCH))) as tar:
        index = json.loads(tar.extractfile("index.json").read())  # type: ignore[union-attr]
        digest = index["manifests"][0]["digest"].split(":")[1]
        manifest = json.loads(tar.extractfile(f"blobs/sha256/{digest}").read())  # type: ignore[union-attr]
    assert manifest["annotations"]["org.opencontainers.image.licenses"] == "GPL-2.0-only"


def test_shadow_locks_every_account_and_localtime_is_utc(binary: Path) -> None:
    rootfs = _rootfs(binary)
    shadow = rootfs.entry("etc/shadow")
    assert shadow is not None and shadow.mode == 0o600
    lines = shadow.data.decode().splitlines()
    assert lines[0] == "root:*:::::::"
    users = [line.split(":")[0] for line in _data(rootfs, "etc/passwd").splitlines()]
    assert [line.split(":")[0] for line in lines] == users
    assert all(line.split(":")[1] == "*" for line in lines)
    localtime = rootfs.entry("etc/localtime")
    assert localtime is not None and localtime.mode == 0o644
    # byte for byte the tzdata file docker-library links in (Debian's tzdata here)
    assert localtime.data == utc_tzif() == Path("/usr/share/zoneinfo/Etc/UTC").read_bytes()


def test_extra_files_such_as_the_sbom(binary: Path) -> None:
    rootfs = make_rootfs(
        binary,
        "x86_64",
        EPOCH,
        links=LINKS,
        files={"usr/share/doc/busybox/sbom.spdx.json": b'{"spdxVersion": "SPDX-2.3"}'},
    )
    entry = rootfs.entry("usr/share/doc/busybox/sbom.spdx.json")
    assert entry is not None and entry.mode == 0o644 and entry.data.startswith(b"{")
    assert rootfs.entry("usr/share/doc") is not None and rootfs.entry("usr/share/doc/busybox") is not None
    for bad in ("etc/passwd", "/etc/motd", "usr/../../x", "bin/"):
        with pytest.raises(UserError, match="cannot add"):
            make_rootfs(binary, "x86_64", EPOCH, links=LINKS, files={bad: b"x"})


def test_skopeo_shows_annotations_and_arm_variants(binary: Path, tmp_path: Path) -> None:
    """Structure only (a stand-in binary): the index skopeo reads names each arm variant."""
    arches = ("x86_64", "aarch64", "armv7", "armv6", "armv5te")
    img = oci_image([ImageInput(a, _rootfs(binary), meta=_meta()) for a in arches], tag="1.38.0")
    layout = tmp_path / "layout"
    write_layout(img, layout)
    raw = skopeo_inspect("--raw", f"oci:{layout}:1.38.0")
    assert [(m["platform"]["architecture"], m["platform"].get("variant")) for m in raw["manifests"]] == [
        ("amd64", None),
        ("arm64", "v8"),
        ("arm", "v7"),
        ("arm", "v6"),
        ("arm", "v5"),
    ]
    assert raw["annotations"]["org.opencontainers.image.licenses"] == "GPL-2.0-only"
    # skopeo picks each variant's own image (1.9 prints no Variant: its config says which it read)
    for variant in ("v7", "v6", "v5"):
        pick = ["skopeo", "--override-arch", "arm", "--override-variant", variant, "inspect"]
        info = json.loads(
            subprocess.run([*pick, f"oci:{layout}:1.38.0"], capture_output=True, text=True, check=True).stdout
        )
        assert info["Architecture"] == "arm" and info["Digest"] == img.digest
        assert info["Labels"]["org.opencontainers.image.version"] == "1.38.0"
        config = json.loads(
            subprocess.run(
                [*pick, "--config", f"oci:{layout}:1.38.0"], capture_output=True, text=True, check=True
            ).stdout
        )
        assert (config["architecture"], config["variant"]) == ("arm", variant)


def test_checks_read_only_good_layouts(binary: Path, tmp_path: Path) -> None:
    img = oci_image([ImageInput("x86_64", _rootfs(binary))], tag="v1")
    layout = tmp_path / "layout"
    write_layout(img, layout)
    assert len(platform_manifests(layout, "v1")) == 1
    with pytest.raises(UserError, match="names 0 images"):
        platform_manifests(layout, "v2")
    with pytest.raises(UserError, match="not an OCI image layout"):
        platform_manifests(tmp_path, "v1")
    with pytest.raises(UserError, match="unknown image check"):
        check_layout(layout, "v1", checks=["nope"])
    blob = layout / "blobs" / "sha256" / img.images[0].manifest.digest.split(":")[1]
    blob.chmod(0o644)
    blob.write_bytes(blob.read_bytes().replace(b"schemaVersion", b"schemaVersioN"))
    with pytest.raises(UserError, match="does not match its digest"):
        platform_manifests(layout, "v1")


def test_paths_in_the_rootfs_stay_inside_it(tmp_path: Path) -> None:
    root = tmp_path / "rootfs"
    (root / "etc").mkdir(parents=True)
    (root / "etc" / "real").write_text("inside")
    (root / "etc" / "abs").symlink_to("/etc/real")
    (root / "etc" / "up").symlink_to("../../../../etc/real")
    (root / "etc" / "loop").symlink_to("loop")
    assert inside(root, "/etc/abs") == root / "etc" / "real"
    assert inside(root, "/etc/up") == root / "etc" / "real"
    assert inside(root, "/../../etc/real") == root / "etc" / "real"
    assert inside(root, "/etc/loop") is None
    assert inside(root, "/etc/passwd") is None
