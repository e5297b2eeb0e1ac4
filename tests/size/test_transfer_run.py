"""Real transfers of a reduced calibration: to another release of the same CPU, and to another CPU."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.app import App
from textual.widgets import Static

from busyconf.size import estimator_for, table
from busyconf.size.calibration import CalibrationProgress, calibrate, measurements_path, read_measurements
from busyconf.size.calibration.donors import Donor, forced_lent, lent_toggles
from busyconf.size.calibration.run import NEAREST
from busyconf.size.linkmap import portable
from busyconf.size.table import TableKey, table_kind
from busyconf.tui.screens.size_table import SizeTableScreen
from tests.size import reduced
from tests.size.reduced import SELECTED, TOGGLES, Reduced, reduce

pytestmark = pytest.mark.slow

#: Toggled by the reduced calibrations of the targets, not of the donor: what another release adds.
NEW = "FEATURE_LS_SORTFILES"


class _Host(App[None]):
    """Only the size table screen, as T opens it."""

    def __init__(self, key: TableKey) -> None:
        super().__init__()
        self.key = key

    def on_mount(self) -> None:
        self.push_screen(SizeTableScreen(self.key))


async def test_transfers_take_the_donors_toggles_and_measure_the_rest_here(
    reduced_x86_64: Reduced, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reduce(tmp_path, monkeypatch, root=reduced_x86_64.root)
    donor = read_measurements(measurements_path(reduced_x86_64.table))
    assert NEW not in donor.full.toggles
    monkeypatch.setattr(reduced, "TOGGLES", TOGGLES | {NEW})

    toggled: list[str] = []

    def progress(event: CalibrationProgress) -> None:
        if event.phase == "toggle" and event.message:
            toggled.append(event.message)

    # Another release of the same CPU: the nearest measured table is 1.38.0's.
    path, model = calibrate("1.37.0", "x86_64", transfer=NEAREST, progress=progress)
    m = read_measurements(measurements_path(path))
    assert (m.release, m.arch, m.full.donor) == ("1.37.0", "x86_64", "1.38.0/x86_64")
    assert model.info["transferred_from"] == "1.38.0/x86_64"
    assert table_kind(TableKey("1.37.0", "x86_64", "zig")) == "transferred from 1.38.0"
    # The donor's toggles, the forced ones too, scaled by section kind onto this tree's sections.
    lender = Donor(donor, "donor")
    forced = forced_lent(lender, "full", sorted(SELECTED))
    assert forced, "the donor's forced toggles are lent"
    lent, _ = lent_toggles(lender, "full", m.full.size, set(TOGGLES), m.full.relinks, forced)
    assert set(lent) == TOGGLES | forced
    for name, t in lent.items():
        ours, theirs = m.full.toggles[name], donor.full.toggles[name]
        assert ours == t, name
        assert {portable(k) for k in ours.diff} == {portable(k) for k in theirs.diff}, name
        assert ours.forced == theirs.forced and (ours.reach is None) == (theirs.reach is None), name
    # The symbol the donor never toggled is measured here, and only it.
    assert NEW in m.full.toggles and not m.full.toggles[NEW].forced
    assert toggled and all(NEW in t for t in toggled), toggled
    assert set(m.full.toggles) == TOGGLES | SELECTED | {NEW}
    # The references are this tree's, built here.
    assert m.full.values != donor.full.values or m.full.size != donor.full.size
    est = estimator_for("1.37.0", "x86_64")
    assert est.calibrated and est.total(m.full.values) == pytest.approx(m.full.size, rel=0.01)

    # Another CPU at the same release, made from the editor's T: x86_64's toggles (the nearest
    # native table: 1.37.0's is itself a transfer), aarch64's references and relinks.
    key = TableKey("1.38.0", "aarch64", "zig")
    app = _Host(key)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = app.screen
        assert isinstance(screen, SizeTableScreen)
        await screen.workers.wait_for_complete()
        assert screen.offer.donor == "1.38.0/x86_64"
        await pilot.press("enter")
        await pilot.pause()
        while screen.running:
            await pilot.pause(0.5)
        await pilot.pause(0.3)
        assert screen.made, str(screen.query_one("#table-result", Static).render())
        await pilot.press("escape")
    path = table.user_table_path(key)
    m = read_measurements(measurements_path(path))
    assert m.full.donor == "1.38.0/x86_64" and m.full.size != donor.full.size
    assert table_kind(TableKey("1.38.0", "aarch64", "zig")) == "transferred from x86_64"
    assert set(m.full.relinks.links) == set(donor.full.relinks.links)
    assert m.full.relinks.links["(none)"].file_size != donor.full.relinks.links["(none)"].file_size
