"""SVG snapshots of the main screens (pytest-textual-snapshot).

Update with ``pytest tests/tui/test_snapshots.py --snapshot-update`` after a
deliberate change, and look at the report it writes before committing.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from busyconf.source import SourceCache
from busyconf.tui import make_app
from busyconf.tui.headless import settle
from tests.tui.tui_fixtures import PROFILE, fake_build

#: Every snapshot runs the whole app.
pytestmark = pytest.mark.slow
#: pytest-textual-snapshot's fixture: snap_compare(app, terminal_size=..., run_before=...) -> bool.
SnapCompare = Callable[..., bool]

SIZE = (120, 40)
#: The terminals the main views are checked at: a laptop's 80x24 and a roomy 120x40.
SIZES = [(80, 24), (120, 40)]


@pytest.fixture
def demo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    path = Path("router-demo.toml")
    path.write_text(PROFILE)
    return path


async def _settle(pilot: Pilot[Any]) -> None:
    await settle(pilot)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_main_screen(snap_compare: SnapCompare, demo: Path, size: tuple[int, int]) -> None:
    """The first screen: header (router-demo.toml, BusyBox 1.38.0, x86_64), the
    menu tree on the left (SELinux Utilities dimmed: SELINUX is off), the top
    menu (Settings, Applets, the applet groups)
    with the cursor on Settings, the detail pane, the size meter with the
    estimated total, and the footer keys."""
    assert snap_compare(make_app(demo), terminal_size=size, run_before=_settle)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_coreutils_with_ls_highlighted(snap_compare: SnapCompare, demo: Path, size: tuple[int, int]) -> None:
    """After searching ``ls``: Coreutils listed with values and per-entry sizes,
    the cursor on ``ls (14 kb)``, its help and facts in the detail pane, and the
    meter showing what Space would save (a negative delta)."""

    async def run(pilot: Pilot[Any]) -> None:
        await _settle(pilot)
        await pilot.press("slash", "l", "s", "enter")
        await pilot.pause(0.2)

    assert snap_compare(make_app(demo), terminal_size=size, run_before=run)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_search(snap_compare: SnapCompare, demo: Path, size: tuple[int, int]) -> None:
    """The search dialog for ``ls``: the ls applet first, then LSOF, LSMOD and
    the other names starting with ls, then the rest; a match count below."""

    async def run(pilot: Pilot[Any]) -> None:
        await _settle(pilot)
        await pilot.press("slash", "l", "s")
        await pilot.pause(0.2)

    assert snap_compare(make_app(demo), terminal_size=size, run_before=run)


def test_symbol_info(snap_compare: SnapCompare, demo: Path) -> None:
    """Symbol info for FEATURE_LS_COLOR: bool, off in this profile, its menu
    path, where it is defined, depends on LS, its help and Kconfig definition."""

    async def run(pilot: Pilot[Any]) -> None:
        await _settle(pilot)
        await pilot.press("slash", *"FEATURE_LS_COLOR", "enter")
        await pilot.pause(0.2)
        await pilot.press("question_mark")
        await pilot.pause(0.2)

    assert snap_compare(make_app(demo), terminal_size=SIZE, run_before=run)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_diff_view(snap_compare: SnapCompare, demo: Path, size: tuple[int, int]) -> None:
    """The diff view after switching ls off: the "vs saved file" tab lists LS
    and its sub-features from on to off, the estimated size change, and "applets
    removed: ls"."""

    async def run(pilot: Pilot[Any]) -> None:
        await _settle(pilot)
        await pilot.press("slash", "l", "s", "enter", "space", "d")
        await pilot.pause(0.2)

    assert snap_compare(make_app(demo), terminal_size=size, run_before=run)


def test_quit_confirmation(snap_compare: SnapCompare, demo: Path) -> None:
    """Quitting with an unsaved change: the header says modified and a dialog
    offers Save and quit, Discard, Stay."""

    async def run(pilot: Pilot[Any]) -> None:
        await _settle(pilot)
        await pilot.press("slash", "l", "s", "enter", "space", "q")
        await pilot.pause(0.2)

    assert snap_compare(make_app(demo), terminal_size=SIZE, run_before=run)


def test_build_screen_finished(snap_compare: SnapCompare, demo: Path) -> None:
    """A finished build (stand-in builder) after y to dropping TC (defconfig has it;
    it does not build with musl): full progress bar, phase "done", the title
    naming TC=n, the log of compile lines, and the real size beside the estimate
    with the error in percent."""

    async def run(pilot: Pilot[Any]) -> None:
        await _settle(pilot)
        await pilot.press("b")
        await _settle(pilot)
        await pilot.press("y")
        await _settle(pilot)
        await pilot.pause(0.3)

    app = make_app(demo, out_dir=Path("out/router-demo"), build_fn=fake_build)
    assert snap_compare(app, terminal_size=SIZE, run_before=run)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_locked_option_offers_what_it_needs(
    snap_compare: SnapCompare, tmp_path: Path, size: tuple[int, int]
) -> None:
    """VI off: FEATURE_VI_REGEX_SEARCH is locked, the help says it needs VI and
    FEATURE_VI_SEARCH and that + switches them on, and the meter prices that key."""
    path = tmp_path / "no-vi.toml"
    path.write_text(PROFILE.replace("[config]\n", "[config]\nVI = false\n"))

    async def run(pilot: Pilot[Any]) -> None:
        await _settle(pilot)
        await pilot.press("slash", *"FEATURE_VI_REGEX", "enter")
        await _settle(pilot)

    assert snap_compare(make_app(path), terminal_size=size, run_before=run)


def test_arch_picker(snap_compare: SnapCompare, demo: Path) -> None:
    """x: the CPUs, each with the kind of size table it has at 1.38.0."""

    async def run(pilot: Pilot[Any]) -> None:
        await _settle(pilot)
        await pilot.press("x")
        await pilot.pause(0.2)

    assert snap_compare(make_app(demo), terminal_size=(80, 24), run_before=run)


def test_missing_source(snap_compare: SnapCompare, demo: Path) -> None:
    """The profile's release is not in the cache: the screen names the release,
    the cache folder and offers f to fetch (with a progress bar) or q to quit."""
    app = make_app(demo, cache=SourceCache(Path("empty-cache")))
    assert snap_compare(app, terminal_size=SIZE)
