"""No way out of the editor drops unsaved changes; a save never overwrites someone else's edit.

Driven with real key presses on the real BusyBox 1.38.0 tree; the hang-up
test runs the real editor on a pseudo-terminal and closes it.
"""

from __future__ import annotations

import os
import pty
import select
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Static

from busyconf.model.profile import load_profile
from busyconf.model.recovery import (
    END_OF_HEADER,
    RecoveryError,
    read_recovery,
    recovery_path,
    write_recovery,
)
from busyconf.tui import make_app
from busyconf.tui.app import BusyconfApp
from busyconf.tui.screens.dialogs import ChangedOnDiskModal, ConfirmQuitModal, RecoveryModal
from busyconf.tui.screens.diff import DiffScreen
from busyconf.tui.screens.edit import EditValueModal
from busyconf.tui.screens.main import MainScreen
from tests.tui.tui_fixtures import PROFILE, current_screen

SIZE = (100, 30)


@pytest.fixture
def rroot(tmp_path: Path) -> Path:
    """Where the tests' recovery files go (not the user's cache)."""
    return tmp_path / "recovery-root"


def app_for(profile: Path, rroot: Path) -> BusyconfApp:
    return make_app(profile, recovery_root=rroot)


async def ready(app: BusyconfApp, pilot: Pilot[Any]) -> MainScreen:
    await app.workers.wait_for_complete()
    await pilot.pause()
    mains = [s for s in app.screen_stack if isinstance(s, MainScreen)]
    assert mains, app.screen_stack
    return mains[-1]


async def switch_ls_off(app: BusyconfApp, pilot: Pilot[Any]) -> MainScreen:
    screen = await ready(app, pilot)
    screen.jump_to_symbol("LS")
    await pilot.press("space")
    await pilot.pause()
    assert screen.session.config.values["LS"] == "n" and screen.session.dirty
    return screen


async def palette(pilot: Pilot[Any], query: str) -> None:
    await pilot.press("ctrl+p")
    await pilot.pause()
    await pilot.press(*query)
    await pilot.pause(0.5)
    await pilot.press("enter")
    await pilot.pause()


QUIT_PATHS = {
    "q": ["q"],
    "ctrl+q": ["ctrl+q"],
    "palette Quit": None,
}


@pytest.mark.slow
@pytest.mark.parametrize("path", list(QUIT_PATHS))
async def test_every_quit_path_asks_when_there_are_unsaved_changes(
    profile: Path, rroot: Path, path: str
) -> None:
    before = profile.read_bytes()
    app = app_for(profile, rroot)
    async with app.run_test(size=SIZE) as pilot:
        screen = await switch_ls_off(app, pilot)
        keys = QUIT_PATHS[path]
        if keys is None:
            await palette(pilot, "quit")
        else:
            await pilot.press(*keys)
        await pilot.pause()
        assert isinstance(app.screen, ConfirmQuitModal), f"{path} did not ask"
        assert app.is_running
        await pilot.press("escape")
        await pilot.pause()
        assert current_screen(app) is screen and app.is_running
        assert screen.session.config.values["LS"] == "n", "staying keeps the change"
    assert profile.read_bytes() == before


@pytest.mark.slow
async def test_textual_system_quit_and_ctrl_q_over_another_screen_ask(profile: Path, rroot: Path) -> None:
    app = app_for(profile, rroot)
    async with app.run_test(size=SIZE) as pilot:
        screen = await switch_ls_off(app, pilot)
        titles = [c.title for c in app.get_system_commands(screen)]
        assert titles.count("Quit") == 1, "one Quit in the palette on the main screen"
        await pilot.press("d")
        await pilot.pause()
        assert isinstance(app.screen, DiffScreen)
        # Textual's own "Quit the application" is what the palette offers here.
        quit_commands = [c for c in app.get_system_commands(app.screen) if c.title == "Quit"]
        assert len(quit_commands) == 1
        await palette(pilot, "quit")
        assert isinstance(app.screen, ConfirmQuitModal) and app.is_running
        await pilot.press("ctrl+q")
        await pilot.pause()
        assert sum(isinstance(s, ConfirmQuitModal) for s in app.screen_stack) == 1, "asked once"
        await pilot.press("escape", "escape")
        await pilot.pause()
        assert current_screen(app) is screen
        await pilot.press("ctrl+c")
        await pilot.pause()
        assert app.is_running and current_screen(app) is screen, "Ctrl+C does not quit"


@pytest.mark.slow
async def test_ctrl_q_asks_while_editing_a_value(profile: Path, rroot: Path) -> None:
    app = app_for(profile, rroot)
    async with app.run_test(size=SIZE) as pilot:
        screen = await switch_ls_off(app, pilot)
        screen.jump_to_symbol("BUSYBOX_EXEC_PATH")
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, EditValueModal)
        await pilot.press("ctrl+q")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmQuitModal) and app.is_running


@pytest.mark.slow
@pytest.mark.parametrize("keys", [["q"], ["ctrl+q"], ["palette"]])
async def test_quit_without_changes_leaves_at_once(profile: Path, rroot: Path, keys: list[str]) -> None:
    app = app_for(profile, rroot)
    async with app.run_test(size=SIZE) as pilot:
        await ready(app, pilot)
        if keys == ["palette"]:
            await palette(pilot, "quit")
        else:
            await pilot.press(*keys)
        await pilot.pause()
        assert not app.is_running
    assert app.return_code == 0
    assert not rroot.exists()


@pytest.mark.slow
async def test_save_and_quit_saves_then_leaves(profile: Path, rroot: Path) -> None:
    app = app_for(profile, rroot)
    async with app.run_test(size=SIZE) as pilot:
        await switch_ls_off(app, pilot)
        await pilot.press("ctrl+q")
        await pilot.pause()
        await pilot.press("s")
        await pilot.pause()
        assert not app.is_running
    assert load_profile(profile).config["LS"] is False


# -- hang-up and recovery -----------------------------------------------------------


@pytest.mark.slow
async def test_hangup_keeps_unsaved_changes_and_the_next_start_offers_them(
    profile: Path, rroot: Path
) -> None:
    before = profile.read_bytes()
    app = app_for(profile, rroot)
    async with app.run_test(size=SIZE) as pilot:
        screen = await switch_ls_off(app, pilot)
        expected = screen.session.recovery_text()
        app.hangup(signal.SIGHUP)
        await pilot.pause()
        assert not app.is_running
    assert app.return_value == 128 + signal.SIGHUP
    assert profile.read_bytes() == before, "the profile is not touched"
    kept = recovery_path(profile, rroot)
    assert app.kept == kept and kept.stat().st_mode & 0o777 == 0o600
    head, _, text = kept.read_text().partition(END_OF_HEADER + "\n")
    assert str(profile.resolve()) in head and "SIGHUP" in head
    assert text == expected and "LS = false" in text

    app = app_for(profile, rroot)
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(app, pilot)
        assert isinstance(app.screen, RecoveryModal), app.screen
        shown = " ".join(str(w.render()) for w in app.screen.query(Static))
        assert str(kept) in shown
        await pilot.press("r")
        await pilot.pause()
        assert current_screen(app) is screen
        assert screen.session.config.values["LS"] == "n" and screen.session.dirty
        assert profile.read_bytes() == before, "restoring does not write the file"
        assert kept.exists(), "kept until saved"
        await pilot.press("u")
        await pilot.pause()
        assert screen.session.config.values["LS"] == "y", "a restore is one undo step"
        await pilot.press("r", "s")
        await pilot.pause()
    assert profile.read_text() == expected, "the same bytes the lost session would have saved"
    assert not kept.exists(), "saved: the recovery file has done its job"


@pytest.mark.slow
async def test_recovery_discard_and_keep_for_later(profile: Path, rroot: Path) -> None:
    kept = write_recovery(profile, PROFILE.replace("[config]\n", "[config]\nLS = false\n"), "test", rroot)
    app = app_for(profile, rroot)
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(app, pilot)
        assert isinstance(app.screen, RecoveryModal)
        await pilot.press("escape")
        await pilot.pause()
        assert current_screen(app) is screen and not screen.session.dirty
    assert kept.exists(), "kept for later"

    app = app_for(profile, rroot)
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(app, pilot)
        await pilot.press("d")
        await pilot.pause()
        assert app.screen is screen and not screen.session.dirty
    assert not kept.exists()

    app = app_for(profile, rroot)
    async with app.run_test(size=SIZE) as pilot:
        await ready(app, pilot)
        await pilot.pause()
        assert isinstance(app.screen, MainScreen), "nothing left to offer"


@pytest.mark.slow
async def test_hangup_without_changes_writes_nothing(profile: Path, rroot: Path) -> None:
    app = app_for(profile, rroot)
    async with app.run_test(size=SIZE) as pilot:
        await ready(app, pilot)
        app.hangup(signal.SIGHUP)
        await pilot.pause()
    assert app.kept is None and not recovery_path(profile, rroot).exists()


@pytest.mark.slow
async def test_a_hostile_recovery_file_is_refused_in_one_line(profile: Path, rroot: Path) -> None:
    bad = PROFILE.replace("[config]\n", '[config]\nBUSYBOX_EXEC_PATH = "$(touch /tmp/busyconf-pwned)"\n')
    kept = write_recovery(profile, bad, "test", rroot)
    app = app_for(profile, rroot)
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(app, pilot)
        await pilot.press("r")
        await pilot.pause()
        assert app.screen is screen and not screen.session.dirty
        errors = [n for n in app._notifications if n.title == "Cannot restore"]
        assert errors and "BUSYBOX_EXEC_PATH" in errors[0].message and "\n" not in errors[0].message
    assert kept.exists(), "not restored, so kept"
    assert not Path("/tmp/busyconf-pwned").exists()


def test_recovery_files_are_checked(profile: Path, rroot: Path, tmp_path: Path) -> None:
    assert read_recovery(profile, rroot) is None
    other = tmp_path / "other.toml"
    other.write_text(PROFILE)
    kept = write_recovery(other, PROFILE, "test", rroot)
    os.replace(kept, recovery_path(profile, rroot))
    with pytest.raises(RecoveryError, match="another profile"):
        read_recovery(profile, rroot)
    recovery_path(profile, rroot).write_text("LS = false\n")
    with pytest.raises(RecoveryError, match="not a busyconf recovery file"):
        read_recovery(profile, rroot)
    recovery_path(profile, rroot).unlink()
    os.mkfifo(recovery_path(profile, rroot))
    with pytest.raises(RecoveryError, match="not a regular file"):
        read_recovery(profile, rroot)
    link = tmp_path / "link.toml"
    link.symlink_to(profile)
    assert recovery_path(link, rroot) == recovery_path(profile, rroot), "keyed by the real path"


def _read_until(fd: int, marker: bytes, seconds: float) -> bytes:
    seen = b""
    end = time.monotonic() + seconds
    while marker not in seen and time.monotonic() < end:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                seen += os.read(fd, 65536)
            except OSError:
                break
    return seen


@pytest.mark.slow
def test_closing_the_terminal_keeps_unsaved_changes(profile: Path) -> None:
    """The real editor on a pseudo-terminal: switch ls off, close the terminal (SIGHUP)."""
    kept = recovery_path(profile)
    kept.unlink(missing_ok=True)
    before = profile.read_bytes()
    pid, fd = pty.fork()
    if pid == 0:  # pragma: no cover - the child becomes the editor
        os.environ.update(TERM="xterm-256color", COLUMNS="100", LINES="30")
        os.execv(sys.executable, [sys.executable, "-m", "busyconf", str(profile)])
    try:
        assert b"Estimated" in _read_until(fd, b"Estimated", 60), "the editor did not start"
        for keys in (b"/", b"ls", b"\r"):
            os.write(fd, keys)
            _read_until(fd, b"\x00", 1.5)
        os.write(fd, b" ")
        assert b"modified" in _read_until(fd, b"modified", 10)
        os.close(fd)  # the terminal goes away: the kernel sends SIGHUP
        fd = -1
        for _ in range(150):
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                break
            time.sleep(0.2)
        else:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            pytest.fail("the editor did not exit after its terminal closed")
        assert os.WIFEXITED(status), "SIGHUP is handled, not fatal"
        assert kept.exists(), "no recovery file"
        assert "LS = false" in kept.read_text()
        assert profile.read_bytes() == before
    finally:
        if fd >= 0:
            os.close(fd)
        kept.unlink(missing_ok=True)


# -- saves ----------------------------------------------------------------------------


# Switching LS off makes FEATURE_LS_COLOR = false redundant: a minimal save drops it.
THEIRS = PROFILE.replace("FEATURE_LS_COLOR = false", "FEATURE_LS_COLOR = false\nCAT = false")


@pytest.mark.slow
@pytest.mark.parametrize(
    ("choice", "expected"),
    [
        ("escape", {"FEATURE_LS_COLOR": False, "CAT": False}),
        ("m", {"CAT": False, "LS": False}),
        ("o", {"LS": False}),
        ("r", {"FEATURE_LS_COLOR": False, "CAT": False}),
    ],
)
async def test_a_file_changed_on_disk_is_not_overwritten_without_asking(
    profile: Path, rroot: Path, choice: str, expected: dict[str, object]
) -> None:
    app = app_for(profile, rroot)
    async with app.run_test(size=SIZE) as pilot:
        screen = await switch_ls_off(app, pilot)
        profile.write_text(THEIRS)
        await pilot.press("s")
        await pilot.pause()
        assert isinstance(app.screen, ChangedOnDiskModal), app.screen
        assert load_profile(profile).config == {"FEATURE_LS_COLOR": False, "CAT": False}
        await pilot.press(choice)
        await pilot.pause()
        main = app.screen
        assert isinstance(main, MainScreen)
        if choice == "r":
            assert main is not screen and not main.session.dirty
            assert main.session.config.values["CAT"] == "n" and main.session.config.values["LS"] == "y"
        elif choice != "escape":
            assert not main.session.dirty
    assert load_profile(profile).config == expected


@pytest.mark.slow
async def test_save_and_quit_over_a_changed_file_asks_and_then_leaves(profile: Path, rroot: Path) -> None:
    app = app_for(profile, rroot)
    async with app.run_test(size=SIZE) as pilot:
        await switch_ls_off(app, pilot)
        profile.write_text(THEIRS)
        await pilot.press("q", "s")
        await pilot.pause()
        assert isinstance(app.screen, ChangedOnDiskModal) and app.is_running
        await pilot.press("m")
        await pilot.pause()
        assert not app.is_running
    assert load_profile(profile).config == {"CAT": False, "LS": False}


@pytest.mark.slow
async def test_a_saved_file_is_ours_again(profile: Path, rroot: Path) -> None:
    """After a save the file on disk is what the editor wrote: the next save does not ask."""
    app = app_for(profile, rroot)
    async with app.run_test(size=SIZE) as pilot:
        screen = await switch_ls_off(app, pilot)
        await pilot.press("s")
        await pilot.pause()
        screen.jump_to_symbol("CAT")
        await pilot.press("space", "s")
        await pilot.pause()
        assert app.screen is screen and not screen.session.dirty
    assert load_profile(profile).config == {"LS": False, "CAT": False}


@pytest.mark.slow
async def test_save_keeps_crlf_line_ends(tmp_path: Path, rroot: Path) -> None:
    profile = tmp_path / "crlf.toml"
    profile.write_bytes(PROFILE.replace("\n", "\r\n").encode())
    app = app_for(profile, rroot)
    async with app.run_test(size=SIZE) as pilot:
        await switch_ls_off(app, pilot)
        await pilot.press("s")
        await pilot.pause()
    data = profile.read_bytes()
    assert b"LS = false\r\n" in data and data.count(b"\n") == data.count(b"\r\n")


# -- values the build's gate refuses --------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize(
    "payload", ["$(touch /tmp/busyconf-pwned)", "`touch /tmp/busyconf-pwned`", "[/]$(id)", "x;id"]
)
async def test_a_refused_string_says_why_in_one_line_and_changes_nothing(
    profile: Path, rroot: Path, payload: str
) -> None:
    app = app_for(profile, rroot)
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(app, pilot)
        screen.jump_to_symbol("BUSYBOX_EXEC_PATH")
        old = screen.session.config.values["BUSYBOX_EXEC_PATH"]
        await pilot.press("enter")
        await pilot.pause()
        modal = app.screen
        assert isinstance(modal, EditValueModal)
        await pilot.press("ctrl+u", *payload, "enter")
        await pilot.pause()
        assert app.screen is modal, "the dialog stays open"
        message = str(modal.query_one("#error", Static).render())
        assert "BUSYBOX_EXEC_PATH" in message and "\n" not in message.strip(), message
        await pilot.press("escape")
        await pilot.pause()
        assert screen.session.config.values["BUSYBOX_EXEC_PATH"] == old and not screen.session.dirty
    assert not Path("/tmp/busyconf-pwned").exists()


def test_recovery_is_domain_code() -> None:
    """The recovery model is domain code: no Textual or Rich."""
    code = (
        "import sys, busyconf.model.recovery; "
        "sys.exit(any(m.split('.')[0] in ('textual', 'rich') for m in sys.modules))"
    )
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


@pytest.mark.slow
async def test_a_new_profile_created_meanwhile_is_not_overwritten(tmp_path: Path, rroot: Path) -> None:
    path = tmp_path / "fresh.toml"
    app = app_for(path, rroot)
    async with app.run_test(size=SIZE) as pilot:
        await ready(app, pilot)
        path.write_text(THEIRS)
        await pilot.press("s")
        await pilot.pause()
        assert isinstance(app.screen, ChangedOnDiskModal)
        await pilot.press("escape")
        await pilot.pause()
    assert path.read_text() == THEIRS


@pytest.mark.slow
async def test_markup_in_the_profile_path_is_shown_as_text(tmp_path: Path, rroot: Path) -> None:
    """A folder named ``[`` makes the path contain ``[/b]``: shown as typed, never parsed as markup."""
    folder = tmp_path / "["
    folder.mkdir()
    path = folder / "b]p.toml"
    path.write_text(PROFILE)
    assert "[/b]" in str(path)
    app = app_for(path, rroot)
    async with app.run_test(size=SIZE) as pilot:
        await switch_ls_off(app, pilot)
        await pilot.press("s")
        await pilot.pause()
        path.write_text(THEIRS)
        await pilot.press("space", "s")
        await pilot.pause()
        assert isinstance(app.screen, ChangedOnDiskModal)
        await pilot.press("m")
        await pilot.pause()
        assert any(str(path) in n.message for n in app._notifications)
        app.hangup(signal.SIGHUP)
    assert load_profile(path).config == {"FEATURE_LS_COLOR": False, "CAT": False}


@pytest.mark.slow
async def test_after_save_as_a_hangup_keeps_the_changes_for_the_new_file(
    profile: Path, rroot: Path, tmp_path: Path
) -> None:
    app = app_for(profile, rroot)
    async with app.run_test(size=SIZE) as pilot:
        screen = await switch_ls_off(app, pilot)
        await pilot.press("S")
        await pilot.pause()
        await pilot.press("ctrl+u", *"copy", "enter")
        await pilot.pause()
        screen.jump_to_symbol("CAT")
        await pilot.press("space")
        await pilot.pause()
        app.hangup(signal.SIGHUP)
    copy = tmp_path / "copy.toml"
    assert read_recovery(profile, rroot) is None
    found = read_recovery(copy, rroot)
    assert found is not None and "CAT = false" in found.text and "LS = false" in found.text
