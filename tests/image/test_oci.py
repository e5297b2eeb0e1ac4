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
    docker_archive_bytes,
    make_rootfs,
    oci_image,
    platform_for,
    tar_bytes,
    write_dir,
    write_layout,
)
from busyconf.image.oci import gzip_bytes
from busyconf.image.rootfs import install_dirs

LINKS = ["bin/sh", "bin/ash", "bin/ls", "usr/bin/awk", "sbin/ifconfig", "usr/sbin/chroot", "linuxrc"]
EPOCH = 1_700_000_000


@pytest.fixture()
def binary(tmp_path: Path) -> Path:
    p = tmp_path / "busybox"
    p.write_bytes(b"\x7fELF not really a busybox" * 100)
    return p


def _rootfs(binary: Path, links: list[str] = LINKS) -> object:
    return make_rootfs(binary, "x86_64", EPOCH, links=links)


@pytest.mark.parametrize(
    ("arch", "expected"),
    [("x86_64", "linux/amd64"), ("aarch64", "linux/arm64/v8"), ("armv7", "linux/arm/v7"),
     ("armv6", "linux/arm/v6"), ("i386", "linux/386"), ("mipsel", "linux/mipsle"),
     ("powerpc64le", "linux/ppc64le"), ("s390x", "linux/s390x"), ("riscv64", "linux/riscv64"),
     ("loongarch64", "linux/loong64")],
)
def test_platforms_are_spelled_as_oci_does(arch: str, expected: str) -> None:
    assert str(platform_for(arch)) == expected


def test_every_known_arch_has_a_platform() -> None:
    for arch in known_arches():
        assert platform_for(arch).architecture


def test_rootfs_tar_is_sorted_normalised_and_reproducible(binary: Path) -> None:
    rootfs = _rootfs(binary)
    data = tar_bytes(rootfs)  # type: ignore[arg-type]
    assert data == tar_bytes(_rootfs(binary))  # type: ignore[arg-type]
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
    passwd = rootfs.entry("etc/passwd").data.decode()  # type: ignore[attr-defined]
    assert passwd.startswith("root:x:0:0:root:/root:/bin/sh\n")
    assert rootfs.entry("etc/group").data.decode().startswith("root:x:0:")  # type: ignore[attr-defined]
    no_shell = make_rootfs(binary, "x86_64", EPOCH, links=["bin/ls"])
    assert "/bin/false" in no_shell.entry("etc/passwd").data.decode().splitlines()[0]  # type: ignore[union-attr]


def test_rootfs_directory(binary: Path, tmp_path: Path) -> None:
    dest = tmp_path / "rootfs"
    write_dir(_rootfs(binary), dest)  # type: ignore[arg-type]
    assert (dest / "bin" / "busybox").read_bytes() == binary.read_bytes()
    assert (dest / "usr/bin/awk").resolve() == (dest / "bin/busybox").resolve()
    assert oct((dest / "tmp").stat().st_mode & 0o7777) == "0o1777"
    assert (dest / "tmp").stat().st_mtime == EPOCH
    with pytest.raises(UserError, match="already exists"):
        write_dir(_rootfs(binary), dest)  # type: ignore[arg-type]


def test_install_dirs_from_the_applet_table() -> None:
    text = (
        "IF_LS(APPLET_NOEXEC(ls, ls, BB_DIR_BIN, BB_SUID_DROP, ls))\n"
        "IF_AWK(APPLET_NOEXEC(awk, awk, BB_DIR_USR_BIN, BB_SUID_DROP, awk))\n"
        "IF_CHROOT(APPLET_NOEXEC(chroot, chroot, BB_DIR_USR_SBIN, BB_SUID_DROP, chroot))\n"
        "IF_IFCONFIG(APPLET(ifconfig, BB_DIR_SBIN, BB_SUID_DROP))\n"
        "IF_LINUXRC(APPLET_ODDNAME(linuxrc, init, BB_DIR_ROOT, BB_SUID_DROP, linuxrc))\n"
    )
    assert install_dirs(text) == {"ls": "bin", "awk": "usr/bin", "chroot": "usr/sbin",
                                  "ifconfig": "sbin", "linuxrc": ""}


def test_gzip_has_no_name_and_no_time() -> None:
    data = gzip_bytes(b"hello" * 1000)
    assert data[4:8] == b"\0\0\0\0" and data[3] & 0x08 == 0
    assert gzip.decompress(data) == b"hello" * 1000
    assert gzip_bytes(b"hello" * 1000) == data


def test_image_config_and_reproducible_digest(binary: Path) -> None:
    a = oci_image([ImageInput("x86_64", _rootfs(binary))])  # type: ignore[arg-type]
    b = oci_image([ImageInput("x86_64", _rootfs(binary))])  # type: ignore[arg-type]
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
    img = oci_image([ImageInput(a, _rootfs(binary)) for a in ("x86_64", "aarch64", "armv7")])  # type: ignore[arg-type]
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
        oci_image([ImageInput("x86_64", _rootfs(binary)), ImageInput("x86_64", _rootfs(binary))])  # type: ignore[arg-type]


def test_bad_tag_is_a_user_error(binary: Path) -> None:
    with pytest.raises(UserError, match="bad tag"):
        oci_image([ImageInput("x86_64", _rootfs(binary))], tag="no/slashes")  # type: ignore[arg-type]


def test_layout_is_read_by_skopeo_and_umoci(binary: Path, tmp_path: Path) -> None:
    img = oci_image([ImageInput("x86_64", _rootfs(binary))], tag="v1")  # type: ignore[arg-type]
    layout = tmp_path / "layout"
    write_layout(img, layout)
    info = json.loads(subprocess.run(["skopeo", "inspect", f"oci:{layout}"], capture_output=True,
                                     text=True, check=True).stdout)
    assert info["Digest"] == img.digest and info["Architecture"] == "amd64"
    bundle = tmp_path / "bundle"
    subprocess.run(["umoci", "unpack", "--rootless", "--image", f"{layout}:v1", str(bundle)],
                   capture_output=True, check=True)
    assert (bundle / "rootfs" / "bin" / "busybox").read_bytes() == binary.read_bytes()
    assert (bundle / "rootfs" / "usr" / "bin" / "awk").is_symlink()
    write_layout(img, layout)  # an earlier layout is replaced
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "file").write_text("x")
    with pytest.raises(UserError, match="not an OCI image layout"):
        write_layout(img, tmp_path / "other")
    assert (tmp_path / "other" / "file").read_text() == "x"


def test_docker_archive_is_read_by_skopeo(binary: Path, tmp_path: Path) -> None:
    img = oci_image([ImageInput("x86_64", _rootfs(binary))])  # type: ignore[arg-type]
    data = docker_archive_bytes(img.images[0], "busyconf/test:latest", EPOCH)
    assert data == docker_archive_bytes(img.images[0], "busyconf/test:latest", EPOCH)
    path = tmp_path / "image.tar"
    path.write_bytes(data)
    with tarfile.open(path) as tar:
        manifest = json.loads(tar.extractfile("manifest.json").read())  # type: ignore[union-attr]
    assert manifest[0]["RepoTags"] == ["busyconf/test:latest"]
    info = json.loads(subprocess.run(["skopeo", "inspect", f"docker-archive:{path}"], capture_output=True,
                                     text=True, check=True).stdout)
    assert info["Architecture"] == "amd64"
    assert info["Layers"] == [img.images[0].diff_id]
