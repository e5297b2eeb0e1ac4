"""``U`` in the editor: the drift report to a newer release, applied as an unsaved change;
and the ``new`` marks on options the profile's release added.

Real BusyBox 1.35.0, 1.37.0 and 1.38.0 trees from the cache (scripts/setup.sh fetches
them), real keys.
"""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import SelectionList, Static

from busyconf.model.profile import load_profile
from busyconf.tui import headless, make_app
from busyconf.tui.app import BusyconfApp
from busyconf.tui.screens.dialogs import RecoveryModal
from busyconf.tui.screens.info import SymbolInfoScreen
from busyconf.tui.screens.main import MainScreen
from busyconf.tui.screens.upgrade import ReleasePickerModal, UpgradeScreen
from busyconf.tui.widgets import EntryList, ProfileHeader
from busyconf.tui.widgets.entry_list import NEW_MARK
from busyconf.upgrade import new_in_release
from tests.tui.test_app import detail_text, text_of
from tests.tui.tui_fixtures import PROFILE

SIZE = (120, 40)
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def old_profile(tmp_path: Path) -> Path:
    """The container-shell starter moved back to 1.35.0 (it says nothing release-specific)."""
    text = (REPO / "configs" / "container-shell.toml").read_text()
    assert 'busybox = "1.38.0"' in text
    path = tmp_path / "shell.toml"
    path.write_text(text.replace('busybox = "1.38.0"', 'busybox = "1.35.0"'))
    return path


@pytest.fixture
def old_defconfig_profile(tmp_path: Path) -> Path:
    """A defconfig-based profile on 1.35.0: there, new applets are on by default in 1.38.0."""
    path = tmp_path / "router.toml"
    path.write_text(PROFILE.replace('busybox = "1.38.0"', 'busybox = "1.35.0"'))
    return path


async def settle(app: BusyconfApp, pilot: Pilot[Any]) -> None:
    """Wait for the editor's loads: sizes and the release comparison start after the first paint."""
    await headless.settle(pilot)


def main_of(app: BusyconfApp) -> MainScreen:
    return next(s for s in reversed(app.screen_stack) if isinstance(s, MainScreen))


async def open_report(app: BusyconfApp, pilot: Pilot[Any]) -> UpgradeScreen:
    """Press U and, when more than one newer release is cached, take the newest (the first offered)."""
    await settle(app, pilot)
    await pilot.press("U")
    await pilot.pause()
    if isinstance(app.screen, ReleasePickerModal):
        assert app.screen.releases[-1] == "1.38.0", app.screen.releases
        await pilot.press("enter")
        await pilot.pause()
    await settle(app, pilot)
    screen = app.screen
    assert isinstance(screen, UpgradeScreen), screen
    assert screen.report is not None, "the report is computed"
    return screen


def report_text(screen: UpgradeScreen) -> str:
    return "\n".join(text_of(screen.query_one(f"#upgrade-{part}", Static)) for part in ("summary", "report"))


@pytest.mark.slow
async def test_report_then_apply_keeps_the_applets_and_saves_only_on_s(old_profile: Path) -> None:
    before_bytes = old_profile.read_bytes()
    new_symbols = new_in_release("1.38.0")
    app = make_app(old_profile)
    async with app.run_test(size=SIZE) as pilot:
        report = await open_report(app, pilot)
        applets = main_of(app).session.config.applets
        text = report_text(report)
        assert "SHA384SUM" in new_symbols and "SHA384SUM" in text, "a symbol 1.38.0 added is listed"
        assert f"Applets: {len(applets)} -> {len(applets)}  (the same applets)" in text, text
        assert "New symbols (" in text and "pinned off" in text
        pinned = report.report.pinned  # type: ignore[union-attr]
        assert {"SHA384SUM", "TSORT", "TREE"} <= set(pinned), pinned
        assert report.checked == [], "nothing is switched on unless checked"

        await pilot.press("enter")
        await settle(app, pilot)
        main = main_of(app)
        assert app.screen is main
        session = main.session
        assert session.tree.release == "1.38.0"
        assert session.config.applets == applets, "the same applets as on 1.35.0"
        assert all(session.config.values[n] == "n" for n in pinned)
        header = text_of(main.query_one(ProfileHeader))
        assert "BusyBox 1.38.0" in header and "modified" in header, header
        assert old_profile.read_bytes() == before_bytes, "applying writes nothing"

        await pilot.press("s")
        await pilot.pause()
        assert "modified" not in text_of(main.query_one(ProfileHeader))
    saved = load_profile(old_profile)
    assert saved.busybox == "1.38.0"
    assert saved.config == load_profile(old_profile).config, "allnoconfig base: the pins need no line"
    assert "# ash (also installed as sh)" in old_profile.read_text(), "comments stay"
    app = make_app(old_profile)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        assert main_of(app).session.config.applets == applets, "the saved file builds the same applets"


@pytest.mark.slow
async def test_a_checked_new_applet_is_switched_on(old_defconfig_profile: Path) -> None:
    app = make_app(old_defconfig_profile)
    async with app.run_test(size=SIZE) as pilot:
        report = await open_report(app, pilot)
        applets = set(main_of(app).session.config.applets)
        choices = report.query_one("#upgrade-accept", SelectionList)
        assert choices.has_focus, "the choice has the focus: Space checks"
        index = next(
            i for i in range(choices.option_count) if choices.get_option_at_index(i).value == "TSORT"
        )
        choices.highlighted = index
        await pilot.press("space")
        await pilot.pause()
        assert report.checked == ["TSORT"]
        assert "Switching on 1: TSORT" in text_of(report.query_one("#upgrade-accept-note"))  # type: ignore[arg-type]
        await pilot.press("enter")
        await settle(app, pilot)
        session = main_of(app).session
        assert set(session.config.applets) == applets | {"tsort"}
        assert session.config.values["SHA384SUM"] == "n", "the unchecked ones stay pinned"
        await pilot.press("s")
        await pilot.pause()
    saved = load_profile(old_defconfig_profile)
    assert saved.busybox == "1.38.0"
    assert saved.config["SHA384SUM"] is False, "pinned off in the file"
    assert "TSORT" not in saved.config, "accepted: it takes its default"


@pytest.mark.slow
async def test_undo_goes_back_to_the_old_release_and_escape_changes_nothing(old_profile: Path) -> None:
    app = make_app(old_profile)
    async with app.run_test(size=SIZE) as pilot:
        await open_report(app, pilot)
        await pilot.press("escape")
        await pilot.pause()
        assert main_of(app).session.tree.release == "1.35.0" and not main_of(app).session.dirty

        await open_report(app, pilot)
        await pilot.press("enter")
        await settle(app, pilot)
        upgraded = main_of(app)
        upgraded.jump_to_symbol("LS")
        await pilot.press("space")
        await pilot.pause()
        assert upgraded.session.config.values["LS"] == "n"
        await pilot.press("u")
        await pilot.pause()
        assert upgraded.session.config.values["LS"] == "y", "undo takes back the later edit first"
        assert app.screen is upgraded
        await pilot.press("u")
        await settle(app, pilot)
        back = main_of(app)
        assert back.session.tree.release == "1.35.0" and not back.session.dirty
        assert "BusyBox 1.35.0" in text_of(back.query_one(ProfileHeader))


@pytest.mark.slow
async def test_an_unsaved_upgrade_is_kept_and_restored_on_its_release(
    old_profile: Path, tmp_path: Path
) -> None:
    rroot = tmp_path / "recovery"
    before_bytes = old_profile.read_bytes()
    app = make_app(old_profile, recovery_root=rroot)
    async with app.run_test(size=SIZE) as pilot:
        await open_report(app, pilot)
        await pilot.press("enter")
        await settle(app, pilot)
        applets = main_of(app).session.config.applets
        app.hangup(signal.SIGHUP)
        await pilot.pause()
    assert old_profile.read_bytes() == before_bytes and app.kept is not None

    app = make_app(old_profile, recovery_root=rroot)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        assert isinstance(app.screen, RecoveryModal), app.screen
        await pilot.press("r")
        await settle(app, pilot)
        session = main_of(app).session
        assert session.tree.release == "1.38.0" and session.dirty
        assert session.config.applets == applets
        await pilot.press("u")
        await settle(app, pilot)
        assert main_of(app).session.tree.release == "1.35.0"


@pytest.mark.slow
async def test_no_newer_release_says_so(tmp_path: Path) -> None:
    path = tmp_path / "new.toml"
    path.write_text(PROFILE)
    app = make_app(path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("U")
        await pilot.pause()
        assert isinstance(app.screen, MainScreen)
        messages = [n.message for n in app._notifications]
        assert any("No release newer than 1.38.0" in m for m in messages), messages


@pytest.mark.slow
async def test_options_new_in_the_release_are_marked(tmp_path: Path) -> None:
    path = tmp_path / "new.toml"
    path.write_text(PROFILE)
    app = make_app(path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        main = main_of(app)
        main.jump_to_symbol("SHA384SUM")
        await pilot.pause()
        table = main.query_one(EntryList)
        assert table.current is not None and table.current.name == "SHA384SUM"
        row = table.get_row_at(table.cursor_row)
        assert str(row[1]).endswith(NEW_MARK.strip()), row[1]
        assert "new in 1.38.0" in detail_text(app)
        assert str(row[2]).strip(), "the size column is on screen at 80 columns"
        assert table.virtual_size.width <= table.scrollable_content_region.width, "no sideways scrolling"
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, SymbolInfoScreen)
        shown = "\n".join(text_of(w) for w in app.screen.query(Static))
        assert "new in 1.38.0" in shown
        await pilot.press("escape")
        await pilot.pause()
        main.jump_to_symbol("MD5SUM")
        await pilot.pause()
        assert not str(table.get_row_at(table.cursor_row)[1]).endswith("new")
        assert "new in" not in detail_text(app)
