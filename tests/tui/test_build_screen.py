"""The build screen running a real build of a small profile."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from rich.console import Console
from textual.widgets import Log, Static

from busyconf.tui import make_app
from busyconf.tui.screens.build import BuildScreen

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
        screen = app.screen
        assert isinstance(screen, BuildScreen)
        while screen.running:
            await pilot.pause(0.5)
        await pilot.pause(0.3)
        assert screen.error is None, screen.error
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
