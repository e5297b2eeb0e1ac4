"""A reduced real calibration: its table is the re-fit of its measurements, and it resumes."""

from __future__ import annotations

from pathlib import Path

import pytest

from busyconf.size.calibration import (
    CalibrationProgress,
    calibrate,
    measurements_path,
    read_measurements,
    refit_file,
)
from tests.size.reduced import SELECTED, TOGGLES, reduce

pytestmark = pytest.mark.slow

@pytest.fixture
def reduced(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A reduced calibration (:func:`tests.size.reduced.reduce`) in a private cache."""
    reduce(tmp_path, monkeypatch)


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
