"""Real images: container-shell for x86_64 and aarch64, checked with skopeo, umoci,
chroot and qemu-user; two builds give the same digests; docker-library's image
checks pass on both platforms."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tarfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from busyconf.image.checks import CHECKS, check_layout
from tests.conftest import StarterBuild
from tests.image.image_helpers import CONTAINER_SHELL, image_json, skopeo_inspect

pytestmark = pytest.mark.slow


@pytest.fixture(scope="session")
def images(
    private_builds: Path,
    tmp_path_factory: pytest.TempPathFactory,
    starter_build: Callable[[Path], StarterBuild],
) -> dict[str, Any]:
    """One build per CPU: a two-platform image, then x86_64 alone twice (incremental builds).

    The session's container-shell build goes first, so the image commands find its tree as
    they need it and compile nothing again.
    """
    starter = starter_build(CONTAINER_SHELL)
    base = tmp_path_factory.mktemp("images")
    multi = image_json(
        [
            "image",
            str(CONTAINER_SHELL),
            "--arch",
            "x86_64,aarch64",
            "-o",
            str(base / "multi"),
            "--rootfs-tar",
            str(base / "rootfs.tar"),
        ]
    )
    single = image_json(["image", str(CONTAINER_SHELL), "--arch", "x86_64", "-o", str(base / "single")])
    again = image_json(
        [
            "image",
            str(CONTAINER_SHELL),
            "--arch",
            "x86_64",
            "-o",
            str(base / "again"),
            "--rootfs-tar",
            str(base / "again.tar"),
            "--check",
        ]
    )
    archive = image_json(
        [
            "image",
            str(CONTAINER_SHELL),
            "--arch",
            "x86_64",
            "--format",
            "docker-archive",
            "-o",
            str(base / "cs.tar"),
        ]
    )
    return {
        "base": base,
        "multi": multi,
        "single": single,
        "again": again,
        "archive": archive,
        "starter": starter,
    }


def _unpack(layout: Path, tag: str, dest: Path) -> Path:
    subprocess.run(
        ["umoci", "unpack", "--rootless", "--image", f"{layout}:{tag}", str(dest)],
        capture_output=True,
        check=True,
    )
    return dest / "rootfs"


def test_two_builds_give_identical_digests(images: dict[str, Any]) -> None:
    single, again, multi = images["single"], images["again"], images["multi"]
    assert single["digest"] == again["digest"]
    base = images["base"]
    assert (base / "rootfs-x86_64.tar").read_bytes() == (base / "again.tar").read_bytes()
    by_arch = {p["arch"]: p for p in multi["platforms"]}
    assert by_arch["x86_64"]["manifest_digest"] == single["digest"]

    def files(name: str) -> dict[str, bytes]:
        top = base / name
        return {str(p.relative_to(top)): p.read_bytes() for p in top.rglob("*") if p.is_file()}

    assert files("single") == files("again")


def test_skopeo_reads_the_multi_platform_index(images: dict[str, Any]) -> None:
    layout = images["base"] / "multi"
    raw = skopeo_inspect("--raw", f"oci:{layout}")
    assert raw["mediaType"] == "application/vnd.oci.image.index.v1+json"
    assert [m["platform"] for m in raw["manifests"]] == [
        {"architecture": "amd64", "os": "linux"},
        {"architecture": "arm64", "os": "linux", "variant": "v8"},
    ]
    info = skopeo_inspect(f"oci:{layout}")
    assert info["Digest"] == images["multi"]["digest"] and info["Architecture"] == "amd64"
    arm = skopeo_inspect("--override-arch", "arm64", f"oci:{layout}")
    assert arm["Architecture"] == "arm64"


def test_image_config(images: dict[str, Any]) -> None:
    layout = images["base"] / "single"
    cfg = skopeo_inspect("--config", f"oci:{layout}:latest")
    assert cfg["config"]["Cmd"] == ["sh"]
    assert "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" in cfg["config"]["Env"]
    assert cfg["architecture"] == "amd64" and cfg["os"] == "linux"


def test_x86_64_rootfs_runs_in_chroot(images: dict[str, Any], tmp_path: Path) -> None:
    rootfs = _unpack(images["base"] / "single", "latest", tmp_path / "bundle")
    script = (
        "echo $((6*7)); ls /usr/bin | grep -c '^awk$'; echo 'a b' | awk '{print $2}'; "
        "head -n1 /etc/passwd; id -u; ls -ld /tmp | cut -c1-10; [ -d /root ] && echo root-ok"
    )
    proc = subprocess.run(
        ["chroot", str(rootfs), "/bin/sh", "-c", script],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin"},
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split("\n") == [
        "42",
        "1",
        "b",
        "root:x:0:0:root:/root:/bin/sh",
        "0",
        "drwxrwxrwt",
        "root-ok",
        "",
    ]
    assert os.readlink(rootfs / "usr" / "bin" / "awk") == "../../bin/busybox"


def test_aarch64_rootfs_runs_under_qemu(images: dict[str, Any], tmp_path: Path) -> None:
    arm_layout = tmp_path / "arm"
    subprocess.run(
        [
            "skopeo",
            "copy",
            "--override-arch",
            "arm64",
            f"oci:{images['base'] / 'multi'}:latest",
            f"oci:{arm_layout}:latest",
        ],
        capture_output=True,
        check=True,
    )
    arm = next(p for p in images["multi"]["platforms"] if p["arch"] == "aarch64")
    assert skopeo_inspect(f"oci:{arm_layout}:latest")["Digest"] == arm["manifest_digest"]
    rootfs = _unpack(arm_layout, "latest", tmp_path / "bundle")
    elf = subprocess.run(
        ["readelf", "-h", str(rootfs / "bin" / "busybox")], capture_output=True, text=True, check=True
    ).stdout
    assert "AArch64" in elf
    qemu = shutil.which("qemu-aarch64-static")
    assert qemu, "qemu-user-static is not installed"

    # No binfmt_misc here: the shell cannot exec another aarch64 program, so each
    # applet runs under qemu itself; -L makes /etc/passwd and /usr/bin the rootfs's.
    def run(*argv: str) -> str:
        proc = subprocess.run(
            [qemu, "-L", str(rootfs), str(rootfs / "bin" / "busybox"), *argv],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert proc.returncode == 0, proc.stderr
        return proc.stdout

    assert run("sh", "-c", "echo $((6*7)) $(( 1 << 10 ))") == "42 1024\n"
    assert run("head", "-n1", "/etc/passwd") == "root:x:0:0:root:/root:/bin/sh\n"
    assert "awk" in run("ls", "/usr/bin").split()
    # the link BusyBox installs runs the applet by its name
    proc = subprocess.run(
        [qemu, str(rootfs / "usr" / "bin" / "awk"), "BEGIN { print 7 }"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.stdout == "7\n"


def test_docker_archive(images: dict[str, Any]) -> None:
    path = images["base"] / "cs.tar"
    info = skopeo_inspect(f"docker-archive:{path}")
    assert info["Architecture"] == "amd64"
    with tarfile.open(path) as tar:
        manifest = json.loads(tar.extractfile("manifest.json").read())  # type: ignore[union-attr]
    assert manifest[0]["RepoTags"] == ["busyconf/container-shell:latest"]
    single = images["single"]["platforms"][0]
    assert images["archive"]["platforms"][0]["binary_sha256"] == single["binary_sha256"]


def test_rootfs_tar_is_sorted_with_fixed_owners(images: dict[str, Any]) -> None:
    with tarfile.open(images["base"] / "rootfs-x86_64.tar") as tar:
        members = tar.getmembers()
    names = [m.name for m in members]
    assert names == sorted(names) and "bin/busybox" in names and "usr/bin/awk" in names
    assert len({m.mtime for m in members}) == 1
    assert all(m.uid == 0 and m.gid == 0 for m in members)
    sizes = images["single"]["platforms"][0]
    assert sizes["compressed_size"] < 250_000


def test_image_of_a_build_is_that_build(images: dict[str, Any]) -> None:
    """The image command's binary is the session's `busyconf build` binary, and so are its SBOMs."""
    starter = images["starter"]
    row = images["single"]["platforms"][0]
    assert row["binary_sha256"] == starter.manifest["binary_sha256"]
    assert row["sbom"] == ["/usr/share/doc/busybox/sbom.cdx.json", "/usr/share/doc/busybox/sbom.spdx.json"]
    notes = row["annotations"]
    assert notes["org.opencontainers.image.revision"] == starter.manifest["config_sha256"]
    assert notes["org.opencontainers.image.title"] == "container-shell"
    assert notes["org.opencontainers.image.version"] == "1.38.0"


def test_image_check_flag_runs_docker_library_checks(images: dict[str, Any]) -> None:
    checks = images["again"]["checks"]
    assert [(c["check"], c["status"]) for c in checks] == [(c, "pass") for c in CHECKS]


def test_checks_pass_on_both_platforms_of_the_index(images: dict[str, Any]) -> None:
    """amd64 runs through chroot, arm64 through qemu-aarch64 with -L."""
    results = check_layout(images["base"] / "multi", "latest")
    assert sorted({r.platform for r in results}) == ["linux/amd64", "linux/arm64/v8"]
    assert [r for r in results if r.status != "pass"] == []
    raw = skopeo_inspect("--raw", f"oci:{images['base'] / 'multi'}:latest")
    assert raw["annotations"]["org.opencontainers.image.licenses"] == "GPL-2.0-only"
