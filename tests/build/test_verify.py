"""Verification: smoke checks follow the config, binaries without the
``busybox`` applet, and the musl-gcc toolchain through ``build()``."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from busyconf.build import build, config_lines
from busyconf.build.verify import SMOKE, _table_applets
from busyconf.errors import BuildError

RELEASE = "1.38.0"


def test_sh_arithmetic_needs_shell_math() -> None:
    (math,) = [c for c in SMOKE if c.name == "sh arithmetic"]
    assert not math.applies({"sh"}, {"FEATURE_SH_MATH": "n", "SH_IS_ASH": "y"})
    assert math.applies({"sh"}, {"FEATURE_SH_MATH": "y"})
    assert math.applies({"sh"}, None)
    assert not math.applies({"ls"}, {"FEATURE_SH_MATH": "y"})


def test_applet_name_table_is_read_from_the_binary(tmp_path: Path) -> None:
    binary = tmp_path / "busybox"
    binary.write_bytes(b"\x7fELF junk\0[\0[[\0ls\0sed\0more data")
    assert _table_applets(binary, ["[", "[[", "ls", "sed"]) == ["[", "[[", "ls", "sed"]
    with pytest.raises(BuildError, match="without CONFIG_BUSYBOX .*table differs"):
        _table_applets(binary, ["[", "ls", "sed"])
    assert _table_applets(binary, ["true"]) == ["true"]


needs_musl_gcc = pytest.mark.skipif(shutil.which("musl-gcc") is None, reason="musl-gcc not installed")


@pytest.mark.slow
@needs_musl_gcc
def test_musl_gcc_build_of_a_small_profile(small_config: Any, source_tree: Path, tmp_path: Path) -> None:
    """allnoconfig-based: ash without shell math, so no arithmetic check."""
    r = build(
        small_config.text,
        small_config.applets,
        RELEASE,
        "x86_64",
        "musl-gcc",
        out_dir=tmp_path,
        source_tree=source_tree,
    )
    manifest = json.loads(r.manifest_path.read_text())
    assert manifest["toolchain"] == "musl-gcc" and "musl" in manifest["toolchain_version"]
    assert manifest["verified_with"] == "native"
    assert manifest["applets"] == sorted(small_config.applets) and "sh" in manifest["applets"]
    assert manifest["smoke_checks"] == ["ls", "sed", "sort", "gzip round trip"]
    out = subprocess.run([str(r.binary), "sh", "-c", "echo ok"], capture_output=True, text=True, check=True)
    assert out.stdout == "ok\n"


@pytest.mark.slow
@needs_musl_gcc
def test_profile_without_busybox_applet_is_verified_through_links(
    small_config: Any, source_tree: Path, tmp_path: Path
) -> None:
    """CONFIG_BUSYBOX off: no --list; the name table and applets run via symlinks."""
    text = config_lines.set_values(small_config.text, {"BUSYBOX": "n"})
    r = build(
        text, small_config.applets, RELEASE, "x86_64", "musl-gcc", out_dir=tmp_path, source_tree=source_tree
    )
    assert not r.verification.listed
    assert r.manifest.smoke_checks == ("applet-name table", "ls", "sed", "sort", "gzip round trip")
    listed = subprocess.run([str(r.binary), "--list"], capture_output=True, text=True, check=False)
    assert listed.returncode != 0
    with pytest.raises(BuildError, match="applet-name table differs"):
        build(
            text,
            [*small_config.applets, "cat"],
            RELEASE,
            "x86_64",
            "musl-gcc",
            out_dir=tmp_path / "bad",
            source_tree=source_tree,
        )
    assert not (tmp_path / "bad").exists()
