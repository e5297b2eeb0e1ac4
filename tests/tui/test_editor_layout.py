"""The editor at the sizes people's terminals have, and the defects a new user hit.

Each test drives the real editor (Pilot) on the real 1.38.0 tree with the
shipped size tables, and reads what is drawn, line by line.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from textual.pilot import Pilot

from busyconf.model.menu import menus
from busyconf.size.units import signed_size
from busyconf.tui import make_app
from busyconf.tui.app import BusyconfApp
from busyconf.tui.headless import settle
from busyconf.tui.screens.main import MainScreen
from busyconf.tui.widgets import EntryList, MenuTree
from busyconf.tui.widgets.key_bar import KeyBar
from tests.tui.test_app import detail_text

REPO = Path(__file__).resolve().parents[2]
STARTERS = sorted((REPO / "configs").glob("*.toml"))
#: A drawn size cell: ``812``, ``14.2K``, ``+5.6K``, ``−12``, ``0``, ``~`` while a guess.
SIZE_CELL = re.compile(r"~?[+−]?\d+(\.\d)?K?$")


def copy(name: str, tmp_path: Path) -> Path:
    path = tmp_path / name
    shutil.copy(REPO / "configs" / name, path)
    return path


async def settled(app: BusyconfApp, pilot: Pilot[int]) -> MainScreen:
    """The main screen once its sizes are loaded and every row's exact size is drawn."""
    screen = await settle(pilot)
    assert isinstance(screen, MainScreen) and screen is app.screen
    assert screen.sizes_settled
    return screen


def drawn_rows(entries: EntryList) -> list[str]:
    """The list's rows as drawn on screen (all of them, scrolling through)."""
    lines = []
    width = entries.scrollable_content_region.width
    for row in range(entries.row_count):
        strip = entries.render_row(row, width, cursor=False)
        assert strip.cell_length == width
        lines.append(strip.text)
    return lines


def option_rows(screen: MainScreen) -> list[tuple[str, str]]:
    """(symbol, drawn line) of each row whose key toggles a value."""
    entries = screen.entry_list
    rows = drawn_rows(entries)
    return [
        (e.name or "", line)
        for e, k, line in zip(entries.entries, screen.row_keys, rows, strict=True)
        if k is not None
    ]


@pytest.mark.slow
@pytest.mark.parametrize("starter", STARTERS, ids=lambda p: p.stem)
async def test_at_80x24_every_option_row_shows_value_prompt_and_size_in_every_menu(
    starter: Path, tmp_path: Path
) -> None:
    app = make_app(copy(starter.name, tmp_path))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await settled(app, pilot)
        assert not screen.query_one(MenuTree).display, "the tree gives way at 80 columns"
        checked = 0
        for node, _parent in menus(screen.session.tree):
            screen.open_menu(node)
            screen = await settled(app, pilot)
            for name, line in option_rows(screen):
                assert len(line) == 80 - 2 or len(line) == 80, line
                assert re.match(r"^(\[[ *]\]|\([ X]\)|-[ *]-)", line), f"{name}: no value in {line!r}"
                assert SIZE_CELL.search(line.rstrip()), f"{name}: no size in {line!r}"
                assert not line.rstrip().endswith("~"), line
                assert "~" not in line[-10:], f"{name}: still a guess once settled: {line!r}"
                checked += 1
        assert checked > 100, checked


@pytest.mark.slow
async def test_the_footer_keeps_the_keys_that_matter_at_80_and_120_columns(tmp_path: Path) -> None:
    for width, height in ((80, 24), (120, 40)):
        app = make_app(copy("router.toml", tmp_path))
        async with app.run_test(size=(width, height)) as pilot:
            await settled(app, pilot)
            bar = app.screen.query_one(KeyBar)
            line = "".join(str(strip.text) for strip in bar.render_lines(bar.region.reset_offset))
            assert len(line.rstrip()) <= width
            shown = {span.key for span in bar.spans}
            for key in ("space", "slash", "u", "s", "x", "d", "b", "t", "q", "ctrl+p"):
                assert key in shown, (width, key, line)
            for label in ("spc Toggle", "/ Find", "u Undo", "s Save", "t Trim", "q Quit", "^p palette"):
                assert label in line, (width, label, line)


@pytest.mark.slow
async def test_a_click_on_a_key_in_the_footer_presses_it(tmp_path: Path) -> None:
    app = make_app(copy("router.toml", tmp_path))
    async with app.run_test(size=(120, 40)) as pilot:
        await settled(app, pilot)
        bar = app.screen.query_one(KeyBar)
        diff = next(span for span in bar.spans if span.key == "d")
        await pilot.click(KeyBar, offset=(diff.start + 1, 0))
        await pilot.pause()
        assert type(app.screen).__name__ == "DiffScreen"


@pytest.mark.slow
async def test_the_size_column_survives_menus_with_long_prompts(tmp_path: Path) -> None:
    """router: Down x3 Enter, Esc, Up x3 Enter (Settings), Esc, Down x3 Enter: sizes still there."""
    app = make_app(copy("router.toml", tmp_path))
    async with app.run_test(size=(120, 40)) as pilot:
        await settled(app, pilot)
        await pilot.press("down", "down", "down", "enter", "escape", "up", "up", "up", "enter")
        screen = await settled(app, pilot)
        assert screen.menu.prompt[0] == "Settings"
        await pilot.press("escape", "down", "down", "down", "enter")
        screen = await settled(app, pilot)
        rows = option_rows(screen)
        assert rows and all(SIZE_CELL.search(line.rstrip()) for _, line in rows), rows[:5]


@pytest.mark.slow
async def test_size_cells_are_whole_after_a_show_all_jump(tmp_path: Path) -> None:
    app = make_app(copy("container-shell.toml", tmp_path))
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await settled(app, pilot)
        screen.jump_to_symbol("FEATURE_VI_REGEX_SEARCH")
        screen = await settled(app, pilot)
        assert not any("~" in line for line in drawn_rows(screen.entry_list)), "no guess left once settled"
        for entry, key, line in zip(
            screen.entry_list.entries, screen.row_keys, drawn_rows(screen.entry_list), strict=True
        ):
            if key is None:
                continue
            preview = screen.session.known_preview(entry.name or "", key)
            assert preview is not None and preview.delta is not None
            cell = line.rstrip().rsplit(" ", 1)[-1]
            expected = signed_size(preview.delta) if key == "y" else signed_size(-preview.delta).lstrip("+")
            assert cell == expected, (entry.name, line)


def test_negative_sizes_have_one_sign() -> None:
    assert signed_size(-5) == "−5"
    assert signed_size(5) == "+5"
    assert signed_size(0) == "0"
    assert signed_size(-2048) == "−2.0K"


@pytest.mark.slow
async def test_undoing_an_arch_switch_keeps_the_sizes(tmp_path: Path) -> None:
    app = make_app(copy("container-shell.toml", tmp_path))
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await settled(app, pilot)
        x86_total = screen.session.total()
        await pilot.press("x")
        await pilot.pause()
        app.screen.dismiss("aarch64")
        screen = await settled(app, pilot)
        assert screen.session.arch == "aarch64"
        arm_total = screen.session.total()
        assert arm_total is not None and arm_total != x86_total
        await pilot.press("u")
        screen = await settled(app, pilot)
        assert screen.session.arch == "x86_64" and screen.session.total() == x86_total
        assert "n/a" not in str(screen.query_one("#size").render())
        await pilot.press("r")
        screen = await settled(app, pilot)
        assert screen.session.total() == arm_total


@pytest.mark.slow
async def test_a_locked_option_names_all_it_needs_and_plus_switches_them_on_in_one_step(
    tmp_path: Path,
) -> None:
    path = tmp_path / "no-vi.toml"
    text = (REPO / "configs" / "container-shell.toml").read_text()
    path.write_text(text.replace("[config]\n", "[config]\nVI = false\n", 1))
    app = make_app(path)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await settled(app, pilot)
        assert screen.session.config.values["VI"] == "n"
        screen.jump_to_symbol("FEATURE_VI_REGEX_SEARCH")
        screen = await settled(app, pilot)
        meter = str(screen.query_one("#size").render())
        assert "+ FEATURE_VI_REGEX_SEARCH and 2 more" in meter, meter
        detail = detail_text(app)
        assert "switches on VI and FEATURE_VI_SEARCH too" in detail.replace("\n", " "), detail
        before = screen.session.total()
        promised = re.search(r"→ ([\d,]+) B", meter)
        assert promised is not None
        await pilot.press("plus")
        screen = await settled(app, pilot)
        values = screen.session.config.values
        assert values["VI"] == values["FEATURE_VI_REGEX_SEARCH"] == "y"
        assert f"{screen.session.total():,}" == promised.group(1), "the preview is the result"
        await pilot.press("u")
        await pilot.pause()
        assert screen.session.config.values["VI"] == "n" and screen.session.total() == before


@pytest.mark.slow
async def test_home_and_end_move_to_the_first_and_last_row(tmp_path: Path) -> None:
    app = make_app(copy("router.toml", tmp_path))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await settled(app, pilot)
        await pilot.press("end")
        assert screen.entry_list.cursor_row == screen.entry_list.row_count - 1
        await pilot.press("home")
        assert screen.entry_list.cursor_row == 0


@pytest.mark.slow
async def test_tab_goes_between_the_tree_and_the_list_even_when_the_tree_is_hidden(tmp_path: Path) -> None:
    app = make_app(copy("router.toml", tmp_path))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await settled(app, pilot)
        tree = screen.query_one(MenuTree)
        assert not tree.display
        await pilot.press("tab")
        assert tree.display and tree.has_focus
        await pilot.press("tab")
        assert screen.entry_list.has_focus and not tree.display
        await pilot.press("m")
        assert tree.display, "m shows the tree for good"


@pytest.mark.slow
async def test_clicking_a_value_toggles_it(tmp_path: Path) -> None:
    app = make_app(copy("router.toml", tmp_path))
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await settled(app, pilot)
        screen.jump_to_symbol("FEATURE_VERBOSE")
        screen = await settled(app, pilot)
        row = screen.entry_list.cursor_row - int(screen.entry_list.scroll_offset.y)
        before = screen.session.config.values["FEATURE_VERBOSE"]
        await pilot.click(EntryList, offset=(1, row))
        await pilot.pause()
        assert screen.session.config.values["FEATURE_VERBOSE"] != before
