"""A reduced real calibration: its table is the re-fit of its measurements, and it resumes."""

from __future__ import annotations

from pathlib import Path

import pytest

from busyconf.size import table as size_table
from busyconf.size.calibration import (
    CalibrationProgress,
    calibrate,
    measurements_path,
    read_measurements,
    refit_file,
)
from busyconf.size.table import TableKey
from tests.size.reduced import SELECTED, TOGGLES, Reduced, reduce

pytestmark = pytest.mark.slow


def test_reduced_calibration_writes_the_refit_of_its_measurements(
    reduced_x86_64: Reduced, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reduce(tmp_path, monkeypatch, root=reduced_x86_64.root)
    path = reduced_x86_64.table
    saved = measurements_path(path)
    assert path == size_table.user_table_path(TableKey("1.38.0", "x86_64", "zig"))
    assert saved.name == "1.38.0-x86_64-zig.measurements.json.xz"
    table = path.read_text()
    assert table == refit_file(saved)
    m = read_measurements(saved)
    assert m.minimal is not None and m.sparse is not None and len(m.sparse.ladder) == 8
    assert set(m.full.toggles) == TOGGLES | SELECTED
    assert m.full.toggles["FEATURE_LS_COLOR"].flip == "n" and m.sparse.toggles["FEATURE_LS_COLOR"].flip == "y"
    assert m.full.toggles["FEATURE_SYSLOG"].forced and m.full.toggles["FEATURE_SYSLOG"].reach is not None
    assert {"build", "relink", "toggle", "ladder", "done"} <= set(reduced_x86_64.phases)

    # Resumed from its state: nothing is measured again, the same bytes are written.
    phases: list[str] = []

    def progress(event: CalibrationProgress) -> None:
        phases.append(event.phase)

    before = saved.read_bytes()
    again, model = calibrate("1.38.0", "x86_64", progress=progress)
    assert again == path and again.read_text() == table and measurements_path(again).read_bytes() == before
    assert model.info["reference_size"] == m.full.size
    assert "toggle" not in phases and "relink" not in phases
