"""Issue 14's small editor defects, each driven by keys on the real BusyBox 1.38.0 tree."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Button, Label, OptionList, Static
from tui_fixtures import fake_build

from busyconf.errors import Interrupted, UserError
from busyconf.tui import make_app
from busyconf.tui.app import BusyconfApp
from busyconf.tui.screens.build import BuildScreen
from busyconf.tui.screens.dialogs import ArchPickerModal
from busyconf.tui.screens.edit import EditValueModal
from busyconf.tui.screens.main import MainScreen
from busyconf.tui.screens.search import SearchScreen

SMALL = (80, 24)


async def ready(app: BusyconfApp, pilot) -> MainScreen:  # type: ignore[no-untyped-def]
    await app.workers.wait_for_complete()
    await pilot.pause()
    screen = app.screen
    assert isinstance(screen, MainScreen), screen
    return screen


async def open_search(app: BusyconfApp, pilot, query: str) -> SearchScreen:  # type: ignore[no-untyped-def]
    await pilot.press("slash")
    await pilot.press(*query)
    await pilot.pause()
    search = app.screen
    assert isinstance(search, SearchScreen)
    return search


def hit_count(search: SearchScreen) -> str:
    return str(search.query_one("#hit-count", Label).content)


# -- search --------------------------------------------------------------------------------


async def test_regex_search_finds_ls_color_and_enter_jumps_there(profile: Path) -> None:
    app = make_app(profile)
    async with app.run_test(size=SMALL) as pilot:
        screen = await ready(app, pilot)
        search = await open_search(app, pilot, "ls.*color")
        names = [h.name for h in search.hits]
        assert names[:2] == ["FEATURE_LS_COLOR", "FEATURE_LS_COLOR_IS_DEFAULT"]
        assert "(regex)" in hit_count(search)
        await pilot.press("enter")
        await pilot.pause()
        entry = screen.entry_list.current
        assert entry is not None and entry.name == "FEATURE_LS_COLOR"


async def test_invalid_regex_shows_one_line_and_recovers(profile: Path) -> None:
    app = make_app(profile)
    async with app.run_test(size=SMALL) as pilot:
        await ready(app, pilot)
        search = await open_search(app, pilot, "ls(")
        message = hit_count(search)
        assert message.startswith("not a valid regular expression: ")
        assert "\n" not in message and "Traceback" not in message
        assert search.hits == [] and search.query_one("#hits", OptionList).option_count == 0
        await pilot.press("backspace")
        await pilot.pause()
        assert search.hits[0].name == "LS"
        assert "matches" in hit_count(search)


async def test_ls_options_rank_above_tls_and_false(profile: Path) -> None:
    app = make_app(profile)
    async with app.run_test(size=SMALL) as pilot:
        await ready(app, pilot)
        search = await open_search(app, pilot, "ls")
        names = [h.name for h in search.hits]
        assert names[0] == "LS"
        ls_options = [n for n in names if n and n.startswith("FEATURE_LS_")]
        assert len(ls_options) >= 8
        last_ls_option = max(names.index(n) for n in ls_options)
        assert last_ls_option < names.index("TLS")
        assert last_ls_option < names.index("FALSE")


async def test_long_results_take_one_line_each_at_80x24(profile: Path) -> None:
    app = make_app(profile)
    async with app.run_test(size=SMALL) as pilot:
        await ready(app, pilot)
        search = await open_search(app, pilot, "ls")
        hits = search.query_one("#hits", OptionList)
        first_long = next(i for i, h in enumerate(search.hits) if h.name == "FEATURE_LS_COLOR")
        await pilot.press(*["down"] * first_long)
        await pilot.pause()
        lines = [hits.render_line(y).text for y in range(hits.size.height)]
        assert len(hits._lines) == hits.option_count, "a result wrapped onto a second line"
        assert any(line.rstrip().endswith("…") for line in lines), lines
        assert search.query_one("#search-dialog").region.right <= SMALL[0]


# -- arch picker -------------------------------------------------------------------------------


def option_texts(options: OptionList) -> dict[str, str]:
    return {
        str(options.get_option_at_index(i).id): str(options.get_option_at_index(i).prompt)
        for i in range(options.option_count)
    }


async def test_arch_picker_says_which_cpus_have_measured_tables(profile: Path) -> None:
    app = make_app(profile)
    async with app.run_test(size=SMALL) as pilot:
        await ready(app, pilot)
        await pilot.press("x")
        await pilot.pause()
        picker = app.screen
        assert isinstance(picker, ArchPickerModal)
        rows = option_texts(picker.query_one("#arches", OptionList))
        assert rows["x86_64"].startswith("● x86_64") and rows["x86_64"].endswith("sizes: measured")
        assert rows["aarch64"].endswith("sizes: measured")
        assert rows["armv7"].endswith("sizes: transferred from x86_64")
        assert rows["riscv64"].endswith("sizes: coarse")
        assert picker.query_one(".dialog").region.right <= SMALL[0]
        await pilot.press("escape")


async def test_arch_picker_answers_for_the_release_it_is_given(profile: Path) -> None:
    app = make_app(profile)
    async with app.run_test(size=SMALL) as pilot:
        await ready(app, pilot)
        picker = ArchPickerModal("x86_64", release="0.0.1")
        await app.push_screen(picker)
        await pilot.pause()
        rows = option_texts(picker.query_one("#arches", OptionList))
        assert all(row.endswith("sizes: coarse") for row in rows.values())


# -- int/hex/string edit dialog ------------------------------------------------------------------


async def edit(app: BusyconfApp, pilot, name: str, text: str) -> str:  # type: ignore[no-untyped-def]
    """Type ``text`` into ``name``'s edit dialog; what its error line then says."""
    await pilot.press("slash", *name)
    await pilot.pause()
    await pilot.press("enter")
    await pilot.pause()
    await pilot.press("enter")
    await pilot.pause()
    assert isinstance(app.screen, EditValueModal)
    await pilot.press("ctrl+u", *text, "enter")
    await pilot.pause()
    assert isinstance(app.screen, EditValueModal), "a bad value is refused"
    return str(app.screen.query_one("#error", Static).content)


async def test_range_error_names_the_symbol_once(profile: Path) -> None:
    app = make_app(profile)
    async with app.run_test(size=SMALL) as pilot:
        await ready(app, pilot)
        error = await edit(app, pilot, "FEATURE_EDITING_HISTORY", "99999")
        assert error == "FEATURE_EDITING_HISTORY=99999 is out of its range 0..2000"
        await pilot.press("ctrl+u", *"abc", "enter")
        await pilot.pause()
        error = str(app.screen.query_one("#error", Static).content)
        assert error.count("FEATURE_EDITING_HISTORY") == 1 and "'abc' is not a number" in error


# -- build screen ----------------------------------------------------------------------------------


def until_cancelled(
    config_text: str, applets: list[str], release: str, arch: str, toolchain: str, **kw: Any
) -> Any:
    """A build that runs until it is cancelled, then stops as the real one does."""
    cancel: threading.Event = kw["cancel"]
    cancel.wait(30)
    raise Interrupted("build cancelled")


def refused(config_text: str, applets: list[str], release: str, arch: str, toolchain: str, **kw: Any) -> Any:
    raise UserError("zig: toolchain not found; run: busyconf toolchain install")


async def open_build(app: BusyconfApp, pilot) -> BuildScreen:  # type: ignore[no-untyped-def]
    await pilot.press("b")
    await pilot.pause()
    screen = app.screen
    assert isinstance(screen, BuildScreen)
    return screen


async def wait_done(screen: BuildScreen, pilot) -> None:  # type: ignore[no-untyped-def]
    for _ in range(100):
        if screen.done:
            break
        await pilot.pause(0.05)
    await pilot.pause()
    assert screen.done


def footer_keys(app: BusyconfApp) -> set[str]:
    return {key for key, active in app.active_bindings.items() if active.binding.show and active.enabled}


@pytest.mark.parametrize("build_fn", [fake_build, refused], ids=["built", "failed"])
async def test_a_finished_build_keeps_close_not_cancel(profile: Path, tmp_path: Path, build_fn: Any) -> None:
    app = make_app(profile, out_dir=tmp_path / "out", build_fn=build_fn)
    async with app.run_test(size=SMALL) as pilot:
        await ready(app, pilot)
        screen = await open_build(app, pilot)
        await wait_done(screen, pilot)
        assert not screen.query_one("#build-cancel", Button).display
        close = screen.query_one("#build-close", Button)
        assert close.display and str(close.label) == "Close (Esc)" and close.has_focus
        assert "c" not in footer_keys(app)
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, BuildScreen)


async def test_cancel_is_there_while_the_build_runs_and_goes_once_cancelled(
    profile: Path, tmp_path: Path
) -> None:
    app = make_app(profile, out_dir=tmp_path / "out", build_fn=until_cancelled)
    async with app.run_test(size=SMALL) as pilot:
        await ready(app, pilot)
        screen = await open_build(app, pilot)
        assert screen.query_one("#build-cancel", Button).display
        assert "c" in footer_keys(app)
        await pilot.press("c")
        await wait_done(screen, pilot)
        assert "cancelled" in str(screen.query_one("#build-phase", Label).content)
        assert not screen.query_one("#build-cancel", Button).display
        assert "c" not in footer_keys(app)
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, BuildScreen)
