"""A reduced real calibration: its table is the re-fit of its measurements, and it resumes."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from busyconf.errors import UserError
from busyconf.size import table as size_table
from busyconf.size.calibration import (
    CalibrationProgress,
    calibrate,
    measurements_path,
    read_measurements,
    refit_file,
)
from busyconf.size.calibration.run import FULL_STATE, SPARSE_STATE
from busyconf.size.calibration.state import read_state
from busyconf.size.exact import engine_for
from busyconf.size.table import TableKey
from tests.size.reduced import SELECTED, TOGGLES, Reduced, reduce

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]


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


def test_a_state_seeded_from_the_measurements_is_the_one_the_calibration_left(
    reduced_x86_64: Reduced, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """scripts/state_from_measurements.py: what a resumed calibration needs, from the measurements alone."""
    reduce(tmp_path, monkeypatch, root=reduced_x86_64.root)
    spec = importlib.util.spec_from_file_location("seed", ROOT / "scripts" / "state_from_measurements.py")
    assert spec is not None and spec.loader is not None
    seed = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(seed)
    wt = engine_for("1.38.0", "x86_64").wt
    paths = [wt.root / FULL_STATE, wt.root / SPARSE_STATE]
    kept = [p.read_bytes() for p in paths]
    left = [read_state(p) for p in paths]
    saved = measurements_path(reduced_x86_64.table)
    try:
        assert seed.main([str(saved)]) == 2, "a state is there: refused without --force"
        assert [p.read_bytes() for p in paths] == kept
        assert seed.main(["--force", str(saved)]) == 0
        for path, before in zip(paths, left, strict=True):
            after = read_state(path)
            assert before is not None and after is not None, path
            assert after.signature == before.signature and after.ref_size == before.ref_size
            assert after.toggles == {n: t.measured_only() for n, t in before.toggles.items()}
            assert after.relinks == before.relinks and after.ladder == before.ladder
            assert after.minimal_size == before.minimal_size
            assert after.minimal_values == before.minimal_values
            assert after.minimal_relinks == before.minimal_relinks
        # Toggles measured around another build of the reference are refused, not mixed in.
        seeded = read_state(paths[0])
        assert seeded is not None
        seeded.ref_size += 16
        seeded.save(paths[0])
        with pytest.raises(UserError, match=r"calibration-state.json: its toggles were measured around a"):
            calibrate("1.38.0", "x86_64")
    finally:
        for path, data in zip(paths, kept, strict=True):
            path.write_bytes(data)
