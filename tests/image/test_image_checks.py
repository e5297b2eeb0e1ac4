"""docker-library's image tests on every starter's image, without Docker.

Each starter is built once per session by the shared ``starter_build`` fixture
(tests/conftest.py); its image is made here from that build's own output
(binary, manifest, SBOMs) the way ``busyconf image`` makes it, then unpacked
with umoci and run through chroot. Broken copies of one image prove that each
check can fail.
"""

from __future__ import annotations

import dataclasses
import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from busyconf.image import ImageInput, make_rootfs, oci_image, write_layout
from busyconf.image.checks import CHECKS, check_layout
from busyconf.image.oci import build_meta, rfc3339
from busyconf.image.rootfs import FILE, Entry, Rootfs
from busyconf.model.profile import load_profile
from tests.conftest import STARTERS, StarterBuild
from tests.image.image_helpers import skopeo_inspect

pytestmark = pytest.mark.slow

SBOM_DIR = "usr/share/doc/busybox"
SBOMS = ("sbom.spdx.json", "sbom.cdx.json")


def _rootfs(built: StarterBuild) -> Rootfs:
    m = built.manifest
    files = {f"{SBOM_DIR}/{n}": (built.out / n).read_bytes() for n in SBOMS if (built.out / n).is_file()}
    return make_rootfs(
        built.out / "busybox", m["arch"], m["source_date_epoch"], release=m["release"], files=files
    )


def _layout(built: StarterBuild, rootfs: Rootfs, dest: Path) -> Path:
    m = built.manifest
    meta = build_meta(
        m["release"], m["config_sha256"], built.profile.stem, load_profile(built.profile).description
    )
    write_layout(oci_image([ImageInput(m["arch"], rootfs, meta=meta)], tag="latest"), dest)
    return dest


@pytest.fixture(scope="session")
def starter_layouts(
    starter_build: Callable[[Path], StarterBuild], tmp_path_factory: pytest.TempPathFactory
) -> Callable[[Path], tuple[StarterBuild, Path]]:
    """``starter_layouts(profile)``: the starter's session build and its OCI layout, made once."""
    made: dict[Path, tuple[StarterBuild, Path]] = {}

    def get(profile: Path) -> tuple[StarterBuild, Path]:
        if profile not in made:
            built = starter_build(profile)
            dest = tmp_path_factory.mktemp(f"layout-{profile.stem}") / "image"
            made[profile] = (built, _layout(built, _rootfs(built), dest))
        return made[profile]

    return get


@pytest.mark.parametrize("starter", STARTERS, ids=lambda p: p.stem)
def test_docker_library_checks_pass(
    starter: Path, starter_layouts: Callable[[Path], tuple[StarterBuild, Path]]
) -> None:
    _built, layout = starter_layouts(starter)
    results = check_layout(layout, "latest")
    assert [(r.check, r.platform) for r in results] == [(c, "linux/amd64") for c in CHECKS]
    failed = [r for r in results if r.status != "pass"]
    assert not failed, failed
    assert all(not r.warnings for r in results)


@pytest.mark.parametrize("starter", STARTERS, ids=lambda p: p.stem)
def test_skopeo_shows_the_annotations_and_the_sbom_is_in_the_layer(
    starter: Path, starter_layouts: Callable[[Path], tuple[StarterBuild, Path]], tmp_path: Path
) -> None:
    built, layout = starter_layouts(starter)
    m = built.manifest
    raw = skopeo_inspect("--raw", f"oci:{layout}:latest")
    expected = {
        "org.opencontainers.image.created": rfc3339(m["source_date_epoch"]),
        "org.opencontainers.image.version": m["release"],
        "org.opencontainers.image.revision": m["config_sha256"],
        "org.opencontainers.image.source": f"https://busybox.net/downloads/busybox-{m['release']}.tar.bz2",
        "org.opencontainers.image.licenses": "GPL-2.0-only",
        "org.opencontainers.image.title": starter.stem,
        "org.opencontainers.image.description": load_profile(starter).description,
    }
    assert raw["annotations"] == expected
    info = skopeo_inspect(f"oci:{layout}:latest")
    assert info["Labels"] == expected and info["Created"] == expected["org.opencontainers.image.created"]

    bundle = tmp_path / "bundle"
    subprocess.run(
        ["umoci", "unpack", "--rootless", "--image", f"{layout}:latest", str(bundle)],
        capture_output=True,
        check=True,
    )
    rootfs = bundle / "rootfs"
    assert (rootfs / "etc" / "shadow").stat().st_mode & 0o777 == 0o600
    for name in SBOMS:
        # The SBOMs the build wrote beside manifest.json, byte for byte.
        assert (rootfs / SBOM_DIR / name).read_bytes() == (built.out / name).read_bytes(), name
    spdx = json.loads((rootfs / SBOM_DIR / "sbom.spdx.json").read_bytes())
    assert m["binary_sha256"] in json.dumps(spdx)


def _broken(rootfs: Rootfs, path: str, data: bytes | None) -> Rootfs:
    """``rootfs`` with ``path`` replaced by ``data`` (or removed)."""
    entries = [e for e in rootfs.entries if e.path != path]
    if data is not None:
        entries.append(Entry(path, FILE, 0o644, data))
    return dataclasses.replace(rootfs, entries=tuple(sorted(entries, key=lambda e: e.path)))


BERLIN = Path("/usr/share/zoneinfo/Europe/Berlin")


@pytest.mark.parametrize(
    ("path", "data", "check", "says", "also"),
    [
        (
            "etc/shadow",
            b"root:$6$salt$0123456789abcdef:19000:0:99999:7:::\nnobody:*:::::::\n",
            "no-hard-coded-passwords",
            "crypt password for 'root'",
            (),
        ),
        (
            "etc/shadow",
            b"root::::::::\nnobody:*:::::::\n",
            "no-hard-coded-passwords",
            "empty password for 'root'",
            (),
        ),
        ("etc/localtime", BERLIN.read_bytes() if BERLIN.is_file() else b"", "utc", "printed 'CE", ()),
        ("bin/ls", None, "busybox", "applets without a link: ['ls']", ()),
        ("bin/echo", None, "override-cmd", "no echo", ("busybox",)),
    ],
    ids=["crypt-hash", "empty-root", "berlin", "missing-link", "no-echo"],
)
def test_each_check_fails_on_a_broken_image(
    path: str,
    data: bytes | None,
    check: str,
    says: str,
    also: tuple[str, ...],
    starter_layouts: Callable[[Path], tuple[StarterBuild, Path]],
    tmp_path: Path,
) -> None:
    built, _layout_dir = starter_layouts(STARTERS[0])
    rootfs = _rootfs(built)
    assert rootfs.entry(path) is not None, path
    layout = _layout(built, _broken(rootfs, path, data), tmp_path / "broken")
    result = {r.check: r for r in check_layout(layout, "latest")}
    assert says in result[check].detail
    # no echo is a single-binary image to official-images: skipped, not failed
    assert result[check].status == ("skip" if check == "override-cmd" else "fail")
    assert all(r.status == "pass" for r in result.values() if r.check not in (check, *also))
    assert all(result[c].status == "fail" for c in also)
