"""The TUI driven with real key presses on the real BusyBox 1.38.0 tree."""

from __future__ import annotations

import io
import shutil
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from rich.text import Text
from textual.pilot import Pilot
from textual.widgets import DataTable, OptionList, Static
from textual.widgets.tree import TreeNode

from busyconf.cli import main as cli_main
from busyconf.model.profile import load_profile
from busyconf.source import SourceCache
from busyconf.tui import make_app
from busyconf.tui.app import BusyconfApp
from busyconf.tui.screens.dialogs import ConfirmQuitModal, SaveAsModal
from busyconf.tui.screens.diff import DiffScreen
from busyconf.tui.screens.edit import EditValueModal
from busyconf.tui.screens.info import SymbolInfoScreen
from busyconf.tui.screens.main import MainScreen
from busyconf.tui.screens.search import SearchScreen
from busyconf.tui.screens.source import SourceMissingScreen
from busyconf.tui.widgets import DetailPane, EntryList, MenuTree, ProfileHeader, SizeMeter
from tests.tui.tui_fixtures import current_screen

SIZE = (140, 40)


def main_screen(app: BusyconfApp) -> MainScreen:
    screen = app.screen
    assert isinstance(screen, MainScreen), screen
    return screen


def text_of(widget: Static | SizeMeter | ProfileHeader | DetailPane) -> str:
    """What a widget shows, as plain text."""
    console = Console(width=300, record=True, file=io.StringIO())
    console.print(widget.content)
    return console.export_text()


def detail_text(app: BusyconfApp) -> str:
    return text_of(app.screen.query_one(DetailPane))


async def ready(app: BusyconfApp, pilot: Pilot[Any]) -> MainScreen:
    await app.workers.wait_for_complete()
    await pilot.pause()
    return main_screen(app)


async def search_and_jump(pilot: Pilot[Any], query: str) -> None:
    await pilot.press("slash")
    await pilot.press(*query)
    await pilot.pause()
    await pilot.press("enter")
    await pilot.pause()


@pytest.mark.slow
async def test_search_ls_lands_on_the_ls_applet(profile: Path) -> None:
    app = make_app(profile)
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(app, pilot)
        await pilot.press("slash", "l", "s")
        await pilot.pause()
        search = app.screen
        assert isinstance(search, SearchScreen)
        assert search.hits[0].name == "LS"
        assert all(h.name and h.name.startswith("LS") for h in search.hits[1:8])
        await pilot.press("enter")
        await pilot.pause()
        entry = screen.query_one(EntryList).current
        assert entry is not None and entry.name == "LS"
        assert screen.menu.prompt[0] == "Coreutils"
        assert "ls is used to list the contents of directories" in detail_text(app)


@pytest.mark.slow
async def test_toggle_applet_off_total_falls_by_its_cost_then_save_and_reload(profile: Path) -> None:
    app = make_app(profile)
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(app, pilot)
        await search_and_jump(pilot, "ls")
        size = screen.session.size()
        assert size.total is not None, "the size layer gives an estimate"
        cost = -(screen.session.preview("LS", "n").delta or 0)
        assert cost > 0
        meter = text_of(screen.query_one(SizeMeter))
        assert f"−{cost:,} B → {size.total - cost:,} B" in meter, meter
        await pilot.press("space")
        await pilot.pause()
        assert screen.session.config.values["LS"] == "n"
        assert screen.session.size().total == size.total - cost, "the preview is the result"
        assert f"Estimated {size.total - cost:,} B" in text_of(screen.query_one(SizeMeter))
        assert "modified" in text_of(screen.query_one(ProfileHeader))
        await pilot.press("s")
        await pilot.pause()
        assert "modified" not in text_of(screen.query_one(ProfileHeader))
    reloaded = load_profile(profile)
    assert reloaded.config["LS"] is False
    assert "FEATURE_LS_COLOR" not in reloaded.config, "kept minimal: it no longer matters without ls"


@pytest.mark.slow
async def test_enabling_a_symbol_whose_dependency_is_off_says_why(no_ls_profile: Path) -> None:
    app = make_app(no_ls_profile)
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(app, pilot)
        await search_and_jump(pilot, "FEATURE_LS_COLOR")
        entry = screen.query_one(EntryList).current
        assert entry is not None and entry.name == "FEATURE_LS_COLOR"
        assert screen.show_all, "jumping to a hidden option turns show-all on"
        assert "FEATURE_LS_COLOR needs LS, which is off" in detail_text(app)
        await pilot.press("space")
        await pilot.pause()
        assert screen.session.config.values["FEATURE_LS_COLOR"] == "n"
        assert not screen.session.dirty
        messages = [n.message for n in app._notifications]
        assert any("FEATURE_LS_COLOR needs LS, which is off" in m for m in messages), messages


@pytest.mark.slow
async def test_quit_with_unsaved_changes_asks_first(profile: Path) -> None:
    app = make_app(profile)
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(app, pilot)
        await search_and_jump(pilot, "ls")
        await pilot.press("space", "q")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmQuitModal)
        await pilot.press("escape")
        await pilot.pause()
        assert current_screen(app) is screen and app.is_running
        await pilot.press("q")
        await pilot.pause()
        await pilot.press("d")
        await pilot.pause()
        assert not app.is_running
    assert load_profile(profile).config == {"FEATURE_LS_COLOR": False}, "discard leaves the file alone"


@pytest.mark.slow
async def test_quit_without_changes_does_not_ask(profile: Path) -> None:
    app = make_app(profile)
    async with app.run_test(size=SIZE) as pilot:
        await ready(app, pilot)
        await pilot.press("q")
        await pilot.pause()
        assert not app.is_running


@pytest.mark.slow
async def test_tui_save_is_byte_equal_to_cli_set(profile: Path, tmp_path: Path) -> None:
    by_cli = tmp_path / "by-cli.toml"
    shutil.copy(profile, by_cli)
    assert cli_main(["set", str(by_cli), "LS=n", "FEATURE_EDITING_HISTORY=64"]) == 0
    app = make_app(profile)
    async with app.run_test(size=SIZE) as pilot:
        await ready(app, pilot)
        await search_and_jump(pilot, "ls")
        await pilot.press("space")
        await search_and_jump(pilot, "FEATURE_EDITING_HISTORY")
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, EditValueModal)
        await pilot.press("ctrl+u", *"99999", "enter")
        await pilot.pause()
        assert isinstance(app.screen, EditValueModal), "out of range is refused"
        assert "99999" in text_of(app.screen.query_one("#error", Static))
        await pilot.press("ctrl+u", *"64", "enter")
        await pilot.pause()
        await pilot.press("s")
        await pilot.pause()
    assert profile.read_bytes() == by_cli.read_bytes()


@pytest.mark.slow
async def test_undo_and_redo(profile: Path) -> None:
    app = make_app(profile)
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(app, pilot)
        await search_and_jump(pilot, "ls")
        await pilot.press("space")
        assert screen.session.config.values["LS"] == "n"
        await pilot.press("u")
        await pilot.pause()
        assert screen.session.config.values["LS"] == "y"
        assert not screen.session.dirty
        await pilot.press("r")
        await pilot.pause()
        assert screen.session.config.values["LS"] == "n"


@pytest.mark.slow
async def test_switch_arch_updates_sizes_and_is_saved(profile: Path) -> None:
    app = make_app(profile)
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(app, pilot)
        before = screen.session.size()
        await pilot.press("x")
        await pilot.pause()
        picker = app.screen.query_one("#arches", OptionList)
        ids = [picker.get_option_at_index(i).id for i in range(picker.option_count)]
        target = "mipsel" if "mipsel" in ids else next(a for a in ids if a != "x86_64")
        picker.highlighted = ids.index(target)
        await pilot.press("enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert screen.session.arch == target
        assert target in text_of(screen.query_one(ProfileHeader))
        after = screen.session.size()
        assert after.total is not None and after.basis != before.basis or after.total != before.total
        await pilot.press("s")
        await pilot.pause()
    assert load_profile(profile).arch == target


@pytest.mark.slow
async def test_diff_view_against_saved_file_and_base(profile: Path) -> None:
    app = make_app(profile)
    async with app.run_test(size=SIZE) as pilot:
        await ready(app, pilot)
        await search_and_jump(pilot, "ls")
        await pilot.press("space", "d")
        await pilot.pause()
        diff = app.screen
        assert isinstance(diff, DiffScreen)
        saved = diff.query_one("#diff-saved", DataTable)
        names = [str(saved.get_row_at(i)[0]) for i in range(saved.row_count)]
        assert names[0] == "LS"
        base = diff.query_one("#diff-base", DataTable)
        base_names = {str(base.get_row_at(i)[0]) for i in range(base.row_count)}
        assert {"LS", "FEATURE_LS_COLOR"} <= base_names
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, MainScreen)


@pytest.mark.slow
async def test_symbol_info_and_show_names(profile: Path) -> None:
    app = make_app(profile)
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(app, pilot)
        await search_and_jump(pilot, "ls")
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, SymbolInfoScreen)
        await pilot.press("escape", "c")
        await pilot.pause()
        entries = screen.query_one(EntryList)
        assert entries.show_names
        assert "LS" in str(entries.get_row_at(entries.cursor_row)[1])


@pytest.mark.slow
async def test_enter_opens_menus_and_backspace_goes_back(profile: Path) -> None:
    app = make_app(profile)
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(app, pilot)
        top = screen.menu
        await pilot.press("enter")
        await pilot.pause()
        assert screen.menu.prompt[0] == "Settings"
        await pilot.press("backspace")
        await pilot.pause()
        assert screen.menu is top
        current = screen.query_one(EntryList).current
        assert current is not None and current.prompt == "Settings"


@pytest.mark.slow
async def test_command_palette_has_every_action(profile: Path) -> None:
    app = make_app(profile)
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(app, pilot)
        titles = {c.title for c in app.get_system_commands(screen)}
        assert {
            "Save",
            "Save as",
            "Search",
            "Switch arch",
            "Diff",
            "Build",
            "Undo",
            "Redo",
            "Show all",
        } <= titles
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"save as")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, SaveAsModal)


@pytest.mark.slow
async def test_save_as_writes_a_new_profile(profile: Path, tmp_path: Path) -> None:
    app = make_app(profile)
    async with app.run_test(size=SIZE) as pilot:
        await ready(app, pilot)
        await search_and_jump(pilot, "ls")
        await pilot.press("space", "S")
        await pilot.pause()
        await pilot.press("ctrl+u", *"trimmed", "enter")
        await pilot.pause()
    new = tmp_path / "trimmed.toml"
    assert load_profile(new).config["LS"] is False
    assert "LS" not in load_profile(profile).config


@pytest.mark.slow
async def test_save_as_onto_another_profile_asks_first(profile: Path, tmp_path: Path) -> None:
    other = tmp_path / "other.toml"
    other.write_text("# someone else's profile\n")
    app = make_app(profile)
    async with app.run_test(size=SIZE) as pilot:
        await ready(app, pilot)
        await search_and_jump(pilot, "ls")
        await pilot.press("space", "S")
        await pilot.pause()
        await pilot.press("ctrl+u", *"other", "enter")
        await pilot.pause()
        assert isinstance(app.screen, SaveAsModal)
        assert "exists" in text_of(app.screen.query_one("#error", Static))
        assert other.read_text() == "# someone else's profile\n"
        await pilot.press("enter")
        await pilot.pause()
    assert load_profile(other).config["LS"] is False


@pytest.mark.slow
async def test_missing_profile_file_starts_a_new_profile(tmp_path: Path) -> None:
    path = tmp_path / "fresh.toml"
    app = make_app(path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(app, pilot)
        assert screen.session.dirty
        await pilot.press("s")
        await pilot.pause()
    assert load_profile(path).base == "defconfig"


@pytest.mark.slow
async def test_missing_source_tree_offers_to_fetch_it(profile: Path, tmp_path: Path) -> None:
    app = make_app(profile, cache=SourceCache(tmp_path / "empty-cache"))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, SourceMissingScreen)
        assert "1.38.0" in text_of(app.screen.query_one("#source-message", Static))
        await pilot.press("q")
        await pilot.pause()
        assert not app.is_running


@pytest.mark.slow
async def test_trim_to_budget_switches_off_what_the_plan_lists(profile: Path) -> None:
    from busyconf.tui.screens.budget import BudgetModal

    app = make_app(profile)
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(app, pilot)
        await app.workers.wait_for_complete()
        await pilot.pause()
        before = screen.session.size().total
        assert before is not None
        budget = before - 40_000
        await pilot.press("t")
        await pilot.pause()
        modal = app.screen
        assert isinstance(modal, BudgetModal)
        await pilot.press("x")  # not a size: refused in words, nothing planned
        await pilot.press("enter")
        await pilot.pause()
        assert "bad budget 'x'" in text_of(modal.query_one("#error", Static))
        await pilot.press("backspace", *str(budget), "enter")
        await app.workers.wait_for_complete()  # the plan is worked out in a thread
        await pilot.pause()
        assert modal.plan is not None and modal.plan.removals
        off = [r.symbol for r in modal.plan.removals]
        await pilot.click("#apply")
        await pilot.pause()
        assert app.screen is screen
        assert all(screen.session.config.values[name] == "n" for name in off)
        after = screen.session.size().total
        assert after is not None and after <= budget < before


def _menu_item(menus: MenuTree, prompt: str) -> TreeNode[Any]:
    stack = [menus.root]
    while stack:
        item = stack.pop()
        if str(item.label) == prompt:
            return item
        stack.extend(item.children)
    raise AssertionError(f"no menu {prompt!r} in the tree")


def _style(item: TreeNode[Any]) -> str:
    """The style of a menu's label (the tree keeps every label as a Text)."""
    label = item.label
    assert isinstance(label, Text), label
    return str(label.style)


@pytest.mark.slow
async def test_menu_tree_dims_the_menus_the_values_hide(profile: Path) -> None:
    app = make_app(profile)
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(app, pilot)
        menus = screen.query_one(MenuTree)
        assert "dim" in _style(_menu_item(menus, "SELinux Utilities")), "SELINUX is off in defconfig"
        behaviour = _menu_item(menus, "Choose makedevs behaviour")
        assert "dim" not in _style(behaviour)
        await search_and_jump(pilot, "makedevs")
        assert screen.query_one(EntryList).current.name == "MAKEDEVS"  # type: ignore[union-attr]
        await pilot.press("space")
        await pilot.pause()
        assert "dim" in _style(behaviour), "the choice depends on MAKEDEVS, now off"
        await pilot.press("space")
        await pilot.pause()
        assert "dim" not in _style(behaviour)
