"""Shared fixtures: the real BusyBox trees and Debian's real configs.

``scripts/setup.sh`` puts Debian's source packages (byte-identical upstream
tarballs plus Debian's three BusyBox configs) under ``$BUSYCONF_TESTDATA``
and adds the releases to the user's cache. Tests fail, never skip, when that
has not been done: a missing fixture must not look like a pass.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from busyconf.model.kconfig import KconfigTree, load_tree
from busyconf.source import SourceCache

OLDEST = "1.35.0"
DEFAULT = "1.38.0"
REPO = Path(__file__).resolve().parents[1]

# Tests that run `python3 -m busyconf` in another folder must run this tree's
# busyconf, not whichever checkout `pip install -e` last pointed at.
os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH")) if p)


def testdata_dir() -> Path:
    return Path(os.environ.get("BUSYCONF_TESTDATA", Path.home() / ".cache" / "busyconf-testdata"))


@pytest.fixture(scope="session")
def testdata() -> Path:
    d = testdata_dir()
    if not (d / f"busybox_{DEFAULT}.orig.tar.bz2").is_file():
        pytest.fail(f"test data missing in {d}: run scripts/setup.sh first")
    return d


def tarball(testdata: Path, version: str) -> Path:
    return testdata / f"busybox_{version}.orig.tar.bz2"


@pytest.fixture(scope="session")
def debian_configs(testdata: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Debian's deb, static and udeb configs from its busybox 1.38.0 source package."""
    archives = sorted(testdata.glob(f"busybox_{DEFAULT}-*.debian.tar.xz"))
    if not archives:
        pytest.fail(f"no Debian busybox {DEFAULT} source package in {testdata}: run scripts/setup.sh")
    out = tmp_path_factory.mktemp("debian")
    with tarfile.open(archives[-1]) as tar:
        members = [m for m in tar.getmembers() if m.name.startswith("debian/config/pkg/")]
        tar.extractall(out, members=members, filter="data")
    return {name: out / "debian" / "config" / "pkg" / name for name in ("deb", "static", "udeb")}


@pytest.fixture(scope="session")
def private_builds() -> Path:
    """The shared build root of ``busyconf build`` (one build tree per CPU for the whole run)."""
    from busyconf.build.builder import cache_build_root

    return cache_build_root()


@pytest.fixture(scope="session")
def cache() -> SourceCache:
    c = SourceCache()
    for v in (OLDEST, DEFAULT):
        if not c.has(v):
            pytest.fail(f"BusyBox {v} is not in {c.root}: run scripts/setup.sh first")
    return c


@pytest.fixture(scope="session")
def tree(cache: SourceCache) -> KconfigTree:
    return load_tree(DEFAULT, cache)


@pytest.fixture(scope="session")
def tree_oldest(cache: SourceCache) -> KconfigTree:
    return load_tree(OLDEST, cache)


class BusyBoxConf:
    """BusyBox's own ``make`` config targets, in one out-of-tree folder per release."""

    def __init__(self, src: Path, obj: Path) -> None:
        self.src = src
        self.obj = obj
        obj.mkdir(parents=True, exist_ok=True)

    def run(self, target: str, config: str | None = None) -> str:
        if config is not None:
            (self.obj / ".config").write_text(config)
        env = dict(os.environ, KCONFIG_NOTIMESTAMP="1")
        # BusyBox has no olddefconfig: answer every new question with Enter.
        proc = subprocess.run(
            ["make", "-s", f"O={self.obj}", target],
            cwd=self.src,
            input=b"\n" * 5000,
            capture_output=True,
            env=env,
        )
        assert proc.returncode == 0, proc.stderr.decode()[-2000:]
        return (self.obj / ".config").read_text()


@pytest.fixture(scope="session")
def busybox_conf(cache: SourceCache, tmp_path_factory: pytest.TempPathFactory) -> dict[str, BusyBoxConf]:
    base = tmp_path_factory.mktemp("bbconf")
    return {v: BusyBoxConf(cache.tree(v), base / v) for v in (OLDEST, DEFAULT)}


#: The starter profiles shipped in configs/.
STARTERS = sorted((REPO / "configs").glob("*.toml"))


@dataclass(frozen=True)
class StarterBuild:
    """One starter built for x86_64 by ``busyconf build --json``."""

    profile: Path
    out: Path
    manifest: dict[str, Any]  # what --json printed
    promised: list[str]  # the applets ``busyconf show --json`` promised


@pytest.fixture(scope="session")
def starter_build(
    cache: SourceCache, tmp_path_factory: pytest.TempPathFactory
) -> Callable[[Path], StarterBuild]:
    """``starter_build(profile)``: that starter built for x86_64 once per session, whichever tests ask.

    The builds share the user's build tree, so one starter after another recompiles only what
    their configs change.
    """
    built: dict[Path, StarterBuild] = {}

    def cli(*args: str) -> Any:
        proc = subprocess.run([sys.executable, "-m", "busyconf", *args], capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr[-2000:]
        return json.loads(proc.stdout)

    def get(profile: Path) -> StarterBuild:
        if profile not in built:
            promised = cli("show", str(profile), "--json")["applets"]
            out = tmp_path_factory.mktemp(f"starter-{profile.stem}") / "out"
            manifest = cli("build", str(profile), "--arch", "x86_64", "-j", "2", "-o", str(out), "--json")
            built[profile] = StarterBuild(profile, out, manifest, promised)
        return built[profile]

    return get


#: The CPU tests use for "no size table here", the coarse estimate (see :func:`coarse_riscv64`).
COARSE_ARCH = "riscv64"


@pytest.fixture
def coarse_riscv64(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[str]:
    """riscv64 without a size table, user's or shipped: every CPU ships one at 1.38.0.

    The coarse estimate is what a user gets for a release or toolchain nobody
    calibrated; tests of that path hide riscv64's table rather than depend on
    which tables happen to ship.
    """
    from busyconf.size import table

    shipped = table.shipped_table_text

    def hidden(key: table.TableKey) -> tuple[str, str] | None:
        return None if key.arch == COARSE_ARCH else shipped(key)

    monkeypatch.setattr(table, "shipped_table_text", hidden)
    monkeypatch.setattr(table, "user_table_path", lambda key: tmp_path / "no-user-tables" / key.filename)
    table.shipped_kind.cache_clear()
    yield COARSE_ARCH
    table.shipped_kind.cache_clear()
