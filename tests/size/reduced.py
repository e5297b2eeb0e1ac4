"""A reduced real calibration for the slow tests: a few applets, features and toggles, a private cache."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from busyconf.model.kconfig import KconfigTree
from busyconf.model.profile import allnoconfig_assignments
from busyconf.size import exact
from busyconf.size.calibration import run
from busyconf.size.calibration.references import every_applet_on, selected_candidates, toggle_candidates
from busyconf.source import cache_root

APPLETS = ["LS", "CAT", "ECHO", "TRUE", "MKDIR", "LOGGER"]
FEATURES = ["FEATURE_LS_COLOR", "SHOW_USAGE", "FEATURE_COMPRESS_USAGE", "LONG_OPTS"]
TOGGLES = {*FEATURES, "FEATURE_LS_FILETYPES", "TRUE"}
SELECTED = {"FEATURE_SYSLOG"}


@dataclass(frozen=True)
class Reduced:
    """A reduced x86_64 1.38.0 calibration, made once per test session (the ``reduced_x86_64`` fixture)."""

    root: Path  #: its private cache; the table and measurements are the user's tables there
    table: Path
    phases: tuple[str, ...]  #: the progress phases it went through


def reduce(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, root: Path | None = None) -> Path:
    """Both references are allnoconfig with a few applets (the full one with a few features), few toggles.

    In a private cache (the source tarballs copied over; its root returned),
    so that no user's measuring tree or calibration state is touched, and with
    no exact engine in memory: an engine an earlier test made still points at
    that test's measuring tree, whose calibration state would be resumed.
    ``root``: use this private cache again (a :class:`Reduced`'s) instead.
    """
    monkeypatch.setattr(exact, "_ENGINES", {})
    if root is None:
        real = cache_root()
        root = tmp_path / "cache"
        root.mkdir(parents=True)
        for sub in ("tarballs", "trees"):
            if (real / sub).is_dir():
                shutil.copytree(real / sub, root / sub, symlinks=True)
    monkeypatch.setenv("BUSYCONF_CACHE", str(root))

    def full(tree: KconfigTree, arch: str, kind: str = "zig") -> list[tuple[str, str]]:
        return [
            *every_applet_on(tree, allnoconfig_assignments(tree), arch, kind, APPLETS),
            *((f, "y") for f in FEATURES),
        ]

    def sparse(tree: KconfigTree, arch: str, kind: str = "zig") -> list[tuple[str, str]]:
        return every_applet_on(tree, allnoconfig_assignments(tree), arch, kind, APPLETS)

    def toggles(tree: KconfigTree, referenced: set[str]) -> list[str]:
        return [n for n in toggle_candidates(tree, referenced) if n in TOGGLES]

    def selected(tree: KconfigTree, a: list[tuple[str, str]], v: dict[str, str], r: set[str]) -> list[str]:
        return [n for n in selected_candidates(tree, a, v, r) if n in SELECTED]

    monkeypatch.setattr(run, "reference_assignments", full)
    monkeypatch.setattr(run, "minimal_assignments", sparse)
    monkeypatch.setattr(run, "toggle_candidates", toggles)
    monkeypatch.setattr(run, "selected_candidates", selected)
    return root
