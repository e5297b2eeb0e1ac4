"""Issue 14's small editor defects, each driven by keys on the real BusyBox 1.38.0 tree."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from textual import events
from textual.pilot import Pilot
from textual.widgets import Button, Input, Label, OptionList, Static

from busyconf.cli import main as cli_main
from busyconf.errors import Interrupted, UserError
from busyconf.model.profile import load_profile
from busyconf.size.coarse_range import coarse_head, read_ranges
from busyconf.tui import make_app
from busyconf.tui.app import BusyconfApp
from busyconf.tui.screens.build import BuildScreen
from busyconf.tui.screens.dialogs import ArchPickerModal, DropBrokenModal
from busyconf.tui.screens.edit import EditValueModal
from busyconf.tui.screens.main import MainScreen
from busyconf.tui.screens.search import SearchScreen
from busyconf.tui.session import Session
from tests.tui.tui_fixtures import PROFILE, fake_build

SMALL = (80, 24)


async def ready(app: BusyconfApp, pilot: Pilot[Any]) -> MainScreen:
    await app.workers.wait_for_complete()
    await pilot.pause()
    screen = app.screen
    assert isinstance(screen, MainScreen), screen
    return screen


async def open_search(app: BusyconfApp, pilot: Pilot[Any], query: str) -> SearchScreen:
    await pilot.press("slash")
    await pilot.press(*query)
    await pilot.pause()
    search = app.screen
    assert isinstance(search, SearchScreen)
    return search


def hit_count(search: SearchScreen) -> str:
    return str(search.query_one("#hit-count", Label).content)


# -- search --------------------------------------------------------------------------------


@pytest.mark.slow
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


@pytest.mark.slow
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


@pytest.mark.slow
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


@pytest.mark.slow
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


@pytest.mark.slow
@pytest.mark.usefixtures("coarse_riscv64")
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
        # A CPU without a table (riscv64's hidden): coarse, with the range the bench measured for it.
        assert rows["riscv64"].endswith(f"sizes: {coarse_head(read_ranges().get('riscv64'))}")
        assert rows["riscv64"].endswith(("%", "unknown"))
        assert picker.query_one(".dialog").region.right <= SMALL[0]
        legend = picker.query_one("#arch-legend", Static).region
        assert legend.height == 1 and legend.bottom <= SMALL[1], "the legend is on screen at 80x24"
        await pilot.press("escape")


@pytest.mark.slow
async def test_arch_picker_answers_for_the_release_it_is_given(profile: Path) -> None:
    app = make_app(profile)
    async with app.run_test(size=SMALL) as pilot:
        await ready(app, pilot)
        picker = ArchPickerModal("x86_64", release="0.0.1")
        await app.push_screen(picker)
        await pilot.pause()
        rows = option_texts(picker.query_one("#arches", OptionList))
        assert all("sizes: coarse ±" in row for row in rows.values())
        assert "BusyBox 0.0.1" in str(picker.query_one(".dialog").border_title)


# -- int/hex/string edit dialog ------------------------------------------------------------------


async def edit(app: BusyconfApp, pilot: Pilot[Any], name: str, text: str) -> str:
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


@pytest.mark.slow
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


async def open_build(app: BusyconfApp, pilot: Pilot[Any]) -> BuildScreen:
    """b, and y to the question about TC (on in defconfig, and it does not build with musl)."""
    await pilot.press("b")
    await pilot.pause()
    assert isinstance(app.screen, DropBrokenModal)
    await pilot.press("y")
    await pilot.pause()
    screen = app.screen
    assert isinstance(screen, BuildScreen)
    return screen


async def wait_done(screen: BuildScreen, pilot: Pilot[Any]) -> None:
    for _ in range(100):
        if screen.done:
            break
        await pilot.pause(0.05)
    await pilot.pause()
    assert screen.done


def footer_keys(app: BusyconfApp) -> set[str]:
    return {key for key, active in app.active_bindings.items() if active.binding.show and active.enabled}


@pytest.mark.slow
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


@pytest.mark.slow
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


# -- where a new key lands in the profile ---------------------------------------------------------

STARTERS = Path(__file__).resolve().parents[2] / "configs"
ROUTER_TAIL = """\
# httpd, udhcpd, udhcpc and ntpd, which a router does need, stay on from
# defconfig. A longer shell history helps on a serial console.
FEATURE_EDITING_HISTORY = 64
"""


def router_copy(tmp_path: Path, text_change: tuple[str, str] = ("", "")) -> Path:
    path = tmp_path / "router.toml"
    text = (STARTERS / "router.toml").read_text()
    assert ROUTER_TAIL + "\n[build]" in text, "the starter changed: adjust this test"
    path.write_text(text.replace(*text_change))
    return path


def test_a_new_key_starts_its_own_block_not_under_the_last_comment(tmp_path: Path) -> None:
    path = router_copy(tmp_path)
    before = path.read_text()
    session = Session.open(path)
    assert session.set_value("SED", "n") is None
    session.save()
    assert path.read_text() == before.replace(ROUTER_TAIL, ROUTER_TAIL + "\nSED = false\n")
    # The next new key joins the block the last one started: it has no comment to fall under.
    session = Session.open(path)
    assert session.set_value("AWK", "n") is None
    session.save()
    assert path.read_text() == before.replace(ROUTER_TAIL, ROUTER_TAIL + "\nSED = false\nAWK = false\n")


def test_a_new_key_goes_before_a_comment_that_trails_the_table(tmp_path: Path) -> None:
    about_build = "# Built with zig: no host toolchain needed.\n"
    path = router_copy(tmp_path, ("\n[build]", "\n" + about_build + "[build]"))
    session = Session.open(path)
    assert session.set_value("SED", "n") is None
    session.save()
    text = path.read_text()
    assert ROUTER_TAIL + "\nSED = false\n\n" + about_build + "[build]" in text
    assert load_profile(path).config["SED"] is False


def test_busyconf_set_places_new_keys_as_the_editor_does(tmp_path: Path) -> None:
    by_cli = router_copy(tmp_path)
    by_editor = tmp_path / "editor.toml"
    by_editor.write_text(by_cli.read_text())
    assert cli_main(["set", str(by_cli), "SED=n", "FEATURE_EDITING_HISTORY=32"]) == 0
    session = Session.open(by_editor)
    assert session.set_values([("SED", "n"), ("FEATURE_EDITING_HISTORY", "32")]) is None
    session.save()
    assert by_cli.read_text() == by_editor.read_text()
    assert "FEATURE_EDITING_HISTORY = 32\n\nSED = false\n" in by_cli.read_text()


def test_a_new_key_in_a_config_without_comments_follows_the_last_key(tmp_path: Path) -> None:
    path = tmp_path / "plain.toml"
    path.write_text(PROFILE)
    session = Session.open(path)
    assert session.set_value("SED", "n") is None
    session.save()
    assert "[config]\nFEATURE_LS_COLOR = false\nSED = false\n\n[build]" in path.read_text()


def test_a_new_key_set_back_leaves_the_file_as_it_was(tmp_path: Path) -> None:
    path = router_copy(tmp_path)
    before = path.read_text()
    session = Session.open(path)
    assert session.set_values([("SED", "n"), ("AWK", "n")]) is None
    session.save()
    assert path.read_text() != before
    session = Session.open(path)
    assert session.set_values([("SED", "y"), ("AWK", "y")]) is None
    session.save()
    assert path.read_text() == before


@pytest.mark.slow
async def test_keys_typed_right_after_slash_go_into_the_search(profile: Path) -> None:
    """``/ls`` typed in one burst: the l and s come before the query box has the focus."""
    app = make_app(profile)
    async with app.run_test(size=SMALL) as pilot:
        main = await ready(app, pilot)
        for key, char in (("slash", "/"), ("l", "l"), ("s", "s")):
            app.post_message(events.Key(key, char))
        await pilot.pause()
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, SearchScreen)
        assert screen.query_one(Input).value == "ls"
        assert screen.hits and screen.hits[0].name == "LS"
        assert not main.session.dirty
