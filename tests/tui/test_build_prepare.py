"""The editor's b builds what ``busyconf build`` would: both go through prepare_build."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from busyconf.cli import main as cli_main
from busyconf.model.prepare import prepare_build
from busyconf.tui import make_app
from busyconf.tui.screens.build import BuildScreen
from busyconf.tui.screens.dialogs import DropBrokenModal
from busyconf.tui.screens.main import MainScreen
from tests.tui.tui_fixtures import fake_build


@pytest.mark.slow
async def test_b_builds_what_the_cli_would_with_unsaved_changes(profile: Path, tmp_path: Path) -> None:
    """An unsaved LS=n, then b and y to dropping TC: the build gets the .config, applets and
    target ``busyconf set LS=n`` + ``busyconf build --drop-broken`` would; the file is unchanged."""
    seen: dict[str, Any] = {}

    def capture(
        config_text: str, applets: list[str], release: str, arch: str, toolchain: str, **kw: Any
    ) -> Any:
        seen.update(text=config_text, applets=applets, release=release, arch=arch, toolchain=toolchain)
        return fake_build(config_text, applets, release, arch, toolchain, **kw)

    before = profile.read_text()
    app = make_app(profile, out_dir=tmp_path / "out", build_fn=capture)
    async with app.run_test(size=(80, 24)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        main = app.screen
        assert isinstance(main, MainScreen)
        main.session.set_value("LS", "n")
        await pilot.press("b")
        await pilot.pause()
        assert isinstance(app.screen, DropBrokenModal)
        await pilot.press("y")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, BuildScreen)
        for _ in range(100):
            if screen.done:
                break
            await pilot.pause(0.05)
        assert screen.done and screen.error is None, screen.error
    assert profile.read_text() == before

    by_cli = tmp_path / "by-cli.toml"
    shutil.copy(profile, by_cli)
    assert cli_main(["set", str(by_cli), "LS=n"]) == 0
    want = prepare_build(by_cli, drop_broken=True)
    assert "TC=n" in want.dropped_settings
    assert seen["text"] == want.dotconfig
    assert seen["applets"] == list(want.config.applets) and "ls" not in seen["applets"]
    assert (seen["release"], seen["arch"], seen["toolchain"]) == (want.release, want.arch, want.toolchain)
