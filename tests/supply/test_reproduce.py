"""``busyconf rebuild`` and ``build --check-reproducible``: a real build rebuilt in a fresh tree from
another cache folder is the same bytes, and a binary changed after the build is caught at its offset."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from busyconf import __version__
from busyconf.build.arch import get_arch
from busyconf.build.toolchain import resolve_toolchain
from busyconf.source.releases import RELEASES
from busyconf.supply.reproduce import elf_section_at, first_difference

CONFIGS = Path(__file__).resolve().parents[2] / "configs"
PROFILE = CONFIGS / "container-shell.toml"


def busyconf(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "busyconf", *args], capture_output=True, text=True)


def _copy_build(starter_build: Callable[[Path], Any], dest: Path) -> Path:
    """The session's container-shell build, copied so a test may change it."""
    shutil.copytree(starter_build(PROFILE).out, dest)
    return dest


def _sections(binary: Path) -> list[tuple[str, int, int]]:
    """(name, file offset, size) of each section with file bytes, as llvm-readelf reads them."""
    text = subprocess.run(["llvm-readelf", "-S", "-W", str(binary)], capture_output=True, text=True).stdout
    found = []
    for m in re.finditer(r"\]\s+(\S+)\s+(\S+)\s+[0-9a-f]+\s+([0-9a-f]+)\s+([0-9a-f]+)", text):
        name, kind, off, size = m.group(1), m.group(2), int(m.group(3), 16), int(m.group(4), 16)
        if kind != "NOBITS" and size:
            found.append((name, off, size))
    return found


# -- without a build -------------------------------------------------------------------------


def test_elf_sections_agree_with_llvm_readelf() -> None:
    """The section a byte falls in, on a real ELF file of the host, is the one llvm-readelf names."""
    binary = Path(shutil.which("ls") or "/bin/ls").resolve()
    data = binary.read_bytes()
    sections = _sections(binary)
    assert len(sections) > 5
    for name, off, size in sections:
        for at in (off, off + size // 2, off + size - 1):
            assert elf_section_at(data, at) == name, (name, hex(at))
    assert elf_section_at(data, 3) == "the ELF header"
    assert elf_section_at(b"not an ELF file" * 10, 3) is None


def test_first_difference() -> None:
    assert first_difference(b"abc" * 5000, b"abc" * 5000) is None
    d = first_difference(b"a" * 9000 + b"x", b"a" * 9000 + b"y")
    assert d is not None and (d.offset, d.ours, d.rebuilt) == (9000, ord("x"), ord("y"))
    shorter = first_difference(b"a" * 10, b"a" * 12)
    assert shorter is not None and shorter.offset == 10 and shorter.ours is None
    assert "busybox ends there" in shorter.describe()


def test_other_compiler_flags_stop_before_compiling(tmp_path: Path) -> None:
    """A manifest made with flags this busyconf no longer passes is an environment failure (exit 1)."""
    config = "# Busybox version: 1.38.0\nCONFIG_LS=y\n"
    (tmp_path / "busybox.config").write_text(config)
    manifest = {
        "release": "1.38.0",
        "arch": "x86_64",
        "toolchain": "zig",
        "toolchain_version": resolve_toolchain("zig", get_arch("x86_64")).version,
        "config_sha256": hashlib.sha256(config.encode()).hexdigest(),
        "binary_sha256": "0" * 64,
        "binary_size": 1,
        "applets": ["ls"],
        "source_date_epoch": 1,
        "dropped_options": [],
        "source_sha256": RELEASES["1.38.0"].sha256,
        "compiler_flags": ["-O9"],
        "busyconf_version": "0.0.1",
        "make_env": ["KCONFIG_NOTIMESTAMP=1", "LC_ALL=C", "SOURCE_DATE_EPOCH=1", "TZ=UTC"],
    }
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    proc = busyconf("rebuild", str(tmp_path / "manifest.json"))
    assert proc.returncode == 1 and proc.stdout == ""
    assert "other compiler flags" in proc.stderr and "'-O9' there" in proc.stderr
    assert len(proc.stderr.splitlines()) == 1


# -- with the session's container-shell build ------------------------------------------------


@pytest.mark.slow
def test_manifest_records_its_reproducer(starter_build: Callable[[Path], Any]) -> None:
    built = starter_build(PROFILE)
    m = json.loads((built.out / "manifest.json").read_text())
    assert m["source_sha256"] == RELEASES[m["release"]].sha256
    assert m["busyconf_version"] == __version__
    assert "-target" in m["compiler_flags"] and "x86_64-linux-musl" in m["compiler_flags"]
    assert f"SOURCE_DATE_EPOCH={m['source_date_epoch']}" in m["make_env"]
    assert "ARCH=x86_64" in m["make_variables"]
    # No path of this machine's cache: the build folder is shown as $BUILD.
    assert all("/build/1.38.0-x86_64-zig" not in v for v in m["make_variables"])
    assert m["reproducer"].startswith(
        f"SOURCE_DATE_EPOCH={m['source_date_epoch']} busyconf build busybox.config"
    )
    config = (built.out / "busybox.config").read_bytes()
    assert hashlib.sha256(config).hexdigest() == m["config_sha256"]


@pytest.mark.slow
def test_rebuild_from_another_cache_is_bit_identical(
    starter_build: Callable[[Path], Any], tmp_path: Path
) -> None:
    out = _copy_build(starter_build, tmp_path / "out")
    other = tmp_path / "other-cache"
    start = time.monotonic()
    proc = busyconf(
        "rebuild",
        str(out / "manifest.json"),
        "--cache",
        str(other),
        "-o",
        str(tmp_path / "kept"),
        "-j",
        "2",
        "--json",
    )
    seconds = time.monotonic() - start
    assert proc.returncode == 0, proc.stderr[-2000:]
    doc = json.loads(proc.stdout)
    manifest = json.loads((out / "manifest.json").read_text())
    assert doc["reproduced"] is True and doc["first_difference"] is None
    assert doc["rebuilt_sha256"] == doc["binary_sha256"] == manifest["binary_sha256"]
    assert (tmp_path / "kept" / "busybox").read_bytes() == (out / "busybox").read_bytes()
    assert (tmp_path / "kept" / "busybox.config").read_bytes() == (out / "busybox.config").read_bytes()
    # The fresh build tree was made in --cache and is gone afterwards.
    assert other.is_dir() and not any(other.iterdir())
    print(f"clean rebuild of container-shell for x86_64 with -j2: {seconds:.1f} s")


@pytest.mark.slow
def test_rebuild_names_the_first_byte_of_a_tampered_binary(
    starter_build: Callable[[Path], Any], tmp_path: Path
) -> None:
    out = _copy_build(starter_build, tmp_path / "out")
    binary = out / "busybox"
    text = next(s for s in _sections(binary) if s[0] == ".text")
    at = text[1] + text[2] // 2
    data = bytearray(binary.read_bytes())
    data[at] ^= 0x40
    binary.write_bytes(bytes(data))

    proc = busyconf("rebuild", str(out / "manifest.json"), "-j", "2")
    assert proc.returncode == 1, proc.stderr[-2000:]
    assert f"byte {at:#x} ({at}) in .text" in proc.stdout
    assert "changed after the build" in proc.stdout
    assert proc.stderr.strip() == ""


@pytest.mark.slow
def test_build_check_reproducible(tmp_path: Path) -> None:
    proc = busyconf(
        "build",
        str(PROFILE),
        "--arch",
        "x86_64",
        "-j",
        "2",
        "-o",
        str(tmp_path / "out"),
        "--check-reproducible",
        "--json",
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    doc = json.loads(proc.stdout)
    assert doc["reproducible"]["reproduced"] is True
    assert doc["reproducible"]["rebuilt_sha256"] == doc["binary_sha256"]
