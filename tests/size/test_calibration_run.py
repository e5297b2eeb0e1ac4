"""A reduced real calibration: its table is the re-fit of its measurements, and it resumes."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from busyconf.model.kconfig import KconfigTree
from busyconf.model.profile import allnoconfig_assignments
from busyconf.size.calibration import (
    CalibrationProgress,
    calibrate,
    measurements_path,
    read_measurements,
    refit_file,
    run,
)
from busyconf.size.calibration.references import every_applet_on, selected_candidates, toggle_candidates
from busyconf.source import cache_root

pytestmark = pytest.mark.slow

APPLETS = ["LS", "CAT", "ECHO", "TRUE", "MKDIR", "LOGGER"]
FEATURES = ["FEATURE_LS_COLOR", "SHOW_USAGE", "FEATURE_COMPRESS_USAGE", "LONG_OPTS"]
TOGGLES = {*FEATURES, "FEATURE_LS_FILETYPES", "TRUE"}
SELECTED = {"FEATURE_SYSLOG"}


@pytest.fixture
def reduced(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Both references are allnoconfig with a few applets (the full one with a few features), few toggles.

    In a private cache (the source tarballs copied over), so that no user's
    measuring tree or calibration state is touched.
    """
    real = cache_root()
    root = tmp_path / "cache"
    root.mkdir()
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


@pytest.mark.usefixtures("reduced")
def test_reduced_calibration_writes_the_refit_of_its_measurements(tmp_path: Path) -> None:
    phases: list[str] = []

    def progress(event: CalibrationProgress) -> None:
        phases.append(event.phase)

    out = tmp_path / "1.38.0-x86_64-zig.json"
    path, model = calibrate("1.38.0", "x86_64", progress=progress, out=out)
    saved = measurements_path(path)
    assert path == out and saved.name == "1.38.0-x86_64-zig.measurements.json.xz"
    table = path.read_text()
    assert table == refit_file(saved)
    m = read_measurements(saved)
    assert m.minimal is not None and m.sparse is not None and len(m.sparse.ladder) == 8
    assert set(m.full.toggles) == TOGGLES | SELECTED
    assert m.full.toggles["FEATURE_LS_COLOR"].flip == "n" and m.sparse.toggles["FEATURE_LS_COLOR"].flip == "y"
    assert m.full.toggles["FEATURE_SYSLOG"].forced and m.full.toggles["FEATURE_SYSLOG"].reach is not None
    assert model.info["reference_size"] == m.full.size
    assert {"build", "relink", "toggle", "ladder", "done"} <= set(phases)

    # Resumed from its state: nothing is measured again, the same bytes are written.
    phases.clear()
    again, _ = calibrate("1.38.0", "x86_64", progress=progress, out=out)
    assert again.read_text() == table and measurements_path(again).read_bytes() == saved.read_bytes()
    assert "toggle" not in phases and "relink" not in phases
