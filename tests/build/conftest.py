"""Shared fixtures: one BusyBox source tree, one build tree per CPU.

Builds use the build root of ``busyconf build`` itself, shared with every
other test module, so each CPU is built from scratch at most once per machine.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from busyconf.build import BuildResult, build, config_lines
from busyconf.errors import BusyconfError
from busyconf.model.kconfig import load_tree

RELEASE = "1.38.0"


def applets_of(text: str) -> list[str]:
    """The applets a .config enables, as the model reads BusyBox's applet table."""
    return load_tree(RELEASE).enabled_applets(config_lines.parse(text))


@dataclass(frozen=True)
class Defconfig:
    text: str
    applets: list[str]


@pytest.fixture(scope="session")
def source_tree() -> Path:
    """The pristine 1.38.0 tree from the user's source cache (fetched if missing; fails, never skips)."""
    from busyconf.source import SourceCache

    cache = SourceCache()
    try:
        if not cache.has(RELEASE):
            cache.fetch(RELEASE)
        return cache.tree(RELEASE)
    except BusyconfError as exc:
        pytest.fail(f"BusyBox {RELEASE} source not available: {exc}")


@pytest.fixture(scope="session")
def build_cache(source_tree: Path) -> Path:
    """The build root every test shares: one build tree per CPU per machine.

    Builds are incremental, so sharing the user's build trees across tests
    (and across runs) costs nothing in correctness and saves a full build
    per CPU per test module.
    """
    from busyconf.build.builder import cache_build_root

    return cache_build_root()


@pytest.fixture(scope="session")
def defconfig(source_tree: Path, tmp_path_factory: pytest.TempPathFactory) -> Defconfig:
    """BusyBox's own ``make defconfig`` with TC off (TC does not build with current headers)."""
    import subprocess

    obj = tmp_path_factory.mktemp("defconfig")
    subprocess.run(
        ["make", "-C", str(source_tree), f"O={obj}", "defconfig"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        check=True,
    )
    text = config_lines.set_values((obj / ".config").read_text(), {"TC": "n"})
    shutil.rmtree(obj)
    return Defconfig(text, applets_of(text))


@pytest.fixture(scope="session")
def x86_64_build(
    build_cache: Path, defconfig: Defconfig, source_tree: Path, tmp_path_factory: pytest.TempPathFactory
) -> BuildResult:
    """The one full x86_64 defconfig build of the session."""
    out = tmp_path_factory.mktemp("out-x86_64")
    return build(defconfig.text, defconfig.applets, RELEASE, "x86_64", out_dir=out, source_tree=source_tree)


@pytest.fixture(scope="session")
def small_config(source_tree: Path, tmp_path_factory: pytest.TempPathFactory) -> Defconfig:
    """``make allnoconfig`` (ash as sh, no shell math, no ``busybox`` applet) plus
    the multi-call applet and the applets the smoke checks use, settled by oldconfig."""
    import subprocess

    obj = tmp_path_factory.mktemp("allnoconfig")
    base = ["make", "-C", str(source_tree), f"O={obj}"]
    subprocess.run([*base, "allnoconfig"], stdin=subprocess.DEVNULL, capture_output=True, check=True)
    on = {s: "y" for s in ("BUSYBOX", "LS", "SED", "SORT", "GZIP", "GUNZIP", "STATIC")}
    (obj / ".config").write_text(config_lines.set_values((obj / ".config").read_text(), on))
    subprocess.run([*base, "oldconfig"], input=b"\n" * 2000, capture_output=True, check=True)
    text = (obj / ".config").read_text()
    shutil.rmtree(obj)
    values = config_lines.parse(text)
    assert values["SH_IS_ASH"] == "y" and values["FEATURE_SH_MATH"] == "n"
    return Defconfig(text, applets_of(text))
