"""The build screen running a real build of a small profile."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from textual.pilot import Pilot
from textual.widgets import Label, Log, Static

from busyconf.tui import make_app
from busyconf.tui.app import BusyconfApp
from busyconf.tui.screens.build import BuildScreen
from busyconf.tui.screens.dialogs import DropBrokenModal

SMALL = """\
[profile]
description = "four applets"
busybox = "1.38.0"
arch = "x86_64"
base = "allnoconfig"

[config]
BUSYBOX = true
ECHO = true
CAT = true
LS = true
TRUE = true
SH_IS_NONE = true
BASH_IS_NONE = true

[build]
toolchain = "zig"
"""


async def finished_build(app: BusyconfApp, pilot: Pilot[Any]) -> BuildScreen:
    """The build screen on top, once its build has ended without an error."""
    screen = app.screen
    assert isinstance(screen, BuildScreen)
    while screen.running:
        await pilot.pause(0.5)
    await pilot.pause(0.3)
    assert screen.error is None, screen.error
    return screen


@pytest.mark.slow
async def test_build_of_a_small_profile_finishes_with_real_size_beside_estimate(tmp_path: Path) -> None:
    profile = tmp_path / "small.toml"
    profile.write_text(SMALL)
    out = tmp_path / "out"
    app = make_app(profile, out_dir=out)
    async with app.run_test(size=(140, 40)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.press("b")
        await pilot.pause()
        screen = await finished_build(app, pilot)
        real = screen.result.manifest.binary_size
        assert (out / "busybox").stat().st_size == real
        console = Console(width=300, record=True, file=io.StringIO())
        console.print(screen.query_one("#build-result", Static).content)
        shown = console.export_text()
        assert f"real size  {real:,} B" in shown
        assert "estimate" in shown
        assert screen.query_one(Log).line_count > 0
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, BuildScreen)


@pytest.mark.slow
async def test_an_option_that_does_not_build_is_dropped_for_this_build_only(tmp_path: Path) -> None:
    """TC (broken with musl's headers): b asks; Esc builds nothing; y builds TC=n; the profile keeps TC."""
    profile = tmp_path / "small-tc.toml"
    text = SMALL.replace("TRUE = true\n", "TRUE = true\nTC = true\n")
    profile.write_text(text)
    out = tmp_path / "out"
    app = make_app(profile, out_dir=out)
    async with app.run_test(size=(140, 40)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.press("b")
        await pilot.pause()
        modal = app.screen
        assert isinstance(modal, DropBrokenModal)
        assert any(line.startswith("TC=n: ") for line in modal.problems), modal.problems
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, (DropBrokenModal, BuildScreen))
        await pilot.press("b")
        await pilot.pause()
        await pilot.press("y")
        await pilot.pause()
        screen = await finished_build(app, pilot)
        assert "# CONFIG_TC is not set" in (out / "busybox.config").read_text()
        assert "TC=n" in str(screen.query_one("#build-title", Label).content)
        session = screen.session
        assert session.config.values["TC"] == "y"
        assert not session.has_edits
        assert profile.read_text() == text
