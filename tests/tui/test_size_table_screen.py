"""T: the editor offers to make the size table a CPU lacks, and says how."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Button, Label, Static

from busyconf.errors import Interrupted
from busyconf.size import calibration, table
from busyconf.size.calibration import (
    CalibrationProgress,
    Measurements,
    Reference,
    Relinks,
    Toggle,
    donors,
    write_measurements,
)
from busyconf.size.calibration.measurements import measurements_path
from busyconf.size.linkmap import LinkMap
from busyconf.size.table import TableKey
from busyconf.tui import make_app
from busyconf.tui.screens.size_table import SizeTableScreen
from busyconf.tui.widgets.key_bar import KeyBar
from tests.tui.conftest import write
from tests.tui.tui_fixtures import PROFILE

pytestmark = pytest.mark.usefixtures("coarse_riscv64")

RISCV = PROFILE.replace('arch = "x86_64"', 'arch = "riscv64"')


def _donor(release: str, arch: str) -> Measurements:
    toggles = {"LS": Toggle("n", ["LS"], 960, {"ls.o:(.text.ls_main)": -40})}
    full = Reference(1000, {"LS": "y"}, Relinks({"(none)": LinkMap({}, 1000)}, {}), toggles)
    return Measurements(release, arch, "zig", "zig 0.17.1", "abc", (), full, None, None, ())


async def _phase_shows(screen: SizeTableScreen, pilot: Any, want: str) -> str:
    """The phase label once it shows want, or what it shows after 10 s.

    Progress reaches the label on a 0.2 s timer, so one pause may come before it.
    """
    label = screen.query_one("#table-phase", Label)
    for _ in range(100):
        if str(label.render()) == want:
            break
        await pilot.pause(0.1)
    return str(label.render())


async def _offer(tmp_path: Path) -> tuple[str, bool]:
    """The plan the screen shows for riscv64, and whether Start is offered."""
    app = make_app(write(tmp_path, "riscv.toml", RISCV))
    async with app.run_test(size=(100, 30)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.press("T")
        screen = app.screen
        assert isinstance(screen, SizeTableScreen)
        assert screen.key == TableKey("1.38.0", "riscv64", "zig")
        await screen.workers.wait_for_complete()
        await pilot.pause()
        plan = str(screen.query_one("#table-plan", Static).render())
        start = not screen.query_one("#table-start", Button).disabled
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, SizeTableScreen)
        return plan, start


async def test_without_a_measured_table_t_offers_a_calibration(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Neither the user nor the package has measurements to lend.
    monkeypatch.setattr(table, "user_table_path", lambda key: tmp_path / "tables" / key.filename)
    monkeypatch.setattr(donors, "_shipped_names", dict)
    plan, start = await _offer(tmp_path)
    assert plan.startswith("Calibrate here: no measurements of another CPU or release to transfer from.")
    assert "busyconf size calibrate --arch riscv64 --release 1.38.0 --toolchain zig" in plan
    assert "--transfer" not in plan and start


async def test_with_a_measured_table_t_offers_a_transfer_from_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tables = tmp_path / "tables"
    monkeypatch.setattr(table, "user_table_path", lambda key: tables / key.filename)
    tables.mkdir()
    write_measurements(_donor("1.38.0", "x86_64"), measurements_path(tables / "1.38.0-x86_64-zig.json"))
    plan, start = await _offer(tmp_path)
    assert plan.startswith("Transfer from 1.38.0/x86_64: build and relink the references here")
    assert plan.endswith("--toolchain zig --transfer 1.38.0/x86_64") and start


async def test_the_key_bar_shows_start_until_it_is_pressed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    started = threading.Event()

    def until_cancelled(*_: Any, progress: Any, cancel: threading.Event, **__: Any) -> Any:
        progress(CalibrationProgress("build", 0, 0))
        started.set()
        cancel.wait(30)
        raise Interrupted("calibration cancelled")

    monkeypatch.setattr(calibration, "calibrate", until_cancelled)
    app = make_app(write(tmp_path, "riscv.toml", RISCV))
    async with app.run_test(size=(80, 24)) as pilot:
        await app.workers.wait_for_complete()
        screen = SizeTableScreen(TableKey("1.38.0", "riscv64", "zig"))
        await app.push_screen(screen)
        await screen.workers.wait_for_complete()
        await pilot.pause()
        bar = screen.query_one(KeyBar)
        assert [k[2] for k in bar.keys()][:2] == ["Start", "Close"]
        await pilot.press("s")
        assert started.wait(10)
        await pilot.pause()
        assert [k[2] for k in bar.keys()][:2] == ["Cancel", "Close"]
        assert await _phase_shows(screen, pilot, "building the reference") == "building the reference"
        await pilot.press("c")
        await screen.workers.wait_for_complete()


async def test_a_coarse_cpu_says_so_and_names_the_key(tmp_path: Path) -> None:
    app = make_app(write(tmp_path, "riscv.toml", RISCV))
    async with app.run_test(size=(100, 30)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        said = [str(n.message) for n in app._notifications]
        assert "Sizes on riscv64 are coarse: no size table. T makes one." in said


async def test_a_running_table_cancels_with_c_and_only_then_closes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Esc while it measures says to cancel first; c stops it, keeps the screen, and Esc then closes."""
    started = threading.Event()

    def until_cancelled(*_: Any, progress: Any, cancel: threading.Event, **__: Any) -> Any:
        progress(CalibrationProgress("toggle", 3, 10, "FEATURE_LS_COLOR"))
        started.set()
        cancel.wait(30)
        raise Interrupted("calibration cancelled")

    monkeypatch.setattr(calibration, "calibrate", until_cancelled)
    app = make_app(write(tmp_path, "riscv.toml", RISCV))
    closed: list[bool | None] = []
    async with app.run_test(size=(100, 30)) as pilot:
        await app.workers.wait_for_complete()
        screen = SizeTableScreen(TableKey("1.38.0", "riscv64", "zig"))
        await app.push_screen(screen, closed.append)
        await screen.workers.wait_for_complete()
        await pilot.press("enter")
        assert started.wait(10)
        want = "toggling symbols: FEATURE_LS_COLOR"
        assert await _phase_shows(screen, pilot, want) == want
        assert screen.running and screen.check_action("cancel", ()) and not screen.check_action("start", ())
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is screen and "Still measuring: press c to cancel it first." in [
            str(n.message) for n in app._notifications
        ]
        await pilot.press("c")
        await screen.workers.wait_for_complete()
        await pilot.pause()
        result = str(screen.query_one("#table-result", Static).render())
        assert result == "Cancelled; what was measured is kept for the next run."
        assert str(screen.query_one("#table-phase", Label).render()) == "cancelled"
        assert not screen.query_one("#table-cancel", Button).display and not screen.check_action("cancel", ())
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is not screen and closed == [False]
