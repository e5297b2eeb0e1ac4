"""The Textual application: picks the first screen, wires the command palette, and
makes sure no way out of the editor drops unsaved changes."""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterable
from functools import partial
from pathlib import Path
from typing import Any

from rich.console import RenderableType
from textual import events
from textual.app import App, SystemCommand
from textual.screen import Screen

from busyconf.errors import BusyconfError, SourceError
from busyconf.model.profile import parse_profile
from busyconf.model.recovery import RecoveryError, discard_recovery, read_recovery, write_recovery
from busyconf.source import SourceCache
from busyconf.tui.screens.main import COMMANDS, MainScreen
from busyconf.tui.session import Session

#: Signals that end the editor without asking: unsaved changes go to a recovery file.
HANGUP_SIGNALS = (signal.SIGHUP, signal.SIGTERM)
#: Seconds the app gets to shut down after a hang-up before the process ends anyway
#: (with the terminal gone, Textual's shutdown can wait forever on its dead output thread).
HANGUP_GRACE = 3.0


class BusyconfApp(App[int]):
    """``busyconf [PROFILE]``: menuconfig for BusyBox profiles, with sizes and builds."""

    CSS_PATH = "app.tcss"
    TITLE = "busyconf"

    def __init__(
        self,
        profile_path: Path,
        cache: SourceCache | None = None,
        out_dir: Path | None = None,
        build_fn: Any = None,
        session: Session | None = None,
        missing: tuple[str, SourceError] | None = None,
        recovery_root: Path | None = None,
    ) -> None:
        super().__init__()
        self.profile_path = profile_path
        self.cache = cache
        self.out_dir = out_dir
        self.build_fn = build_fn
        self.session = session
        self.missing = missing
        #: Where recovery files go (default: the cache's ``recovery`` folder).
        self.recovery_root = recovery_root
        #: The user chose to leave (nothing unsaved, saved, or discarded).
        self.quit_confirmed = False
        #: The recovery file written on the way out, if any.
        self.kept: Path | None = None
        #: A recovery file restored into this session: removed once saved or discarded.
        self.restored: Path | None = None
        self._keeping = threading.Lock()
        self._hung_up = False

    def on_mount(self) -> None:
        if not self.is_headless:
            self._catch_hangups()
        if self.session is not None:
            self.show_main()
        elif self.missing is not None:
            from busyconf.tui.screens.source import SourceMissingScreen

            release, error = self.missing
            self.push_screen(SourceMissingScreen(self.profile_path, release, str(error), self.cache))
        if self.session is None:
            # The main screen ends start-up after its first paint; without one, this does.
            from busyconf.tui.gc_pause import resume_gc

            self.call_after_refresh(resume_gc)

    def on_key(self, event: events.Key) -> None:
        """A printable key nobody took while a screen that keeps type-ahead is on top goes to it.

        ``/ls`` typed in one burst: ``l`` and ``s`` are handed to the main screen before the
        search opens, and come back here unclaimed once it is open.
        """
        type_ahead = getattr(self.screen, "type_ahead", None)
        if type_ahead is not None and event.is_printable and event.character:
            type_ahead(event.character)

    def open_profile(self, offer_recovery: bool = True) -> None:
        """Load the profile again (after its source was fetched, or to take the file on disk)."""
        try:
            self.session = Session.open(self.profile_path, self.cache)
        except BusyconfError as e:
            self.notify(str(e), title=e.title, severity="error", markup=False)
            return
        self.show_main(offer_recovery)

    def show_main(self, offer_recovery: bool = True) -> None:
        assert self.session is not None
        main = MainScreen(self.session, self.out_dir, self.build_fn)
        if len(self.screen_stack) <= 1:
            self.push_screen(main)
        else:
            self.switch_screen(main)
        if offer_recovery:
            self.call_after_refresh(self.offer_recovery)

    def use_session(self, session: Session) -> None:
        """Edit ``session`` from now on (an upgrade, or undoing one): a main screen on its release's tree."""
        self.session = session
        self.show_main(offer_recovery=False)

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        if isinstance(screen, MainScreen):
            for title, help_text, action in COMMANDS:
                yield SystemCommand(title, help_text, partial(screen.run_action, action))
        for command in super().get_system_commands(screen):
            # Ours says that it asks first; both go through request_quit.
            if not (command.title == "Quit" and isinstance(screen, MainScreen)):
                yield command

    # -- leaving ---------------------------------------------------------------
    async def action_quit(self) -> None:
        """Ctrl+Q, the palette's Quit and every screen's q: asks first when there are unsaved changes."""
        self.request_quit()

    def request_quit(self) -> None:
        if self.session is None or not self.session.dirty:
            self.leave()
            return
        from busyconf.tui.screens.dialogs import ConfirmQuitModal

        if any(isinstance(s, ConfirmQuitModal) for s in self.screen_stack):
            return

        def done(choice: str | None) -> None:
            if choice == "save":
                self._main().save(then=self.leave)
            elif choice == "discard":
                if self.restored is not None:
                    self.restored.unlink(missing_ok=True)
                self.leave()

        self.push_screen(ConfirmQuitModal(), done)

    def leave(self) -> None:
        self.quit_confirmed = True
        self.exit(0)

    def saved(self) -> None:
        """Called after every save: a restored recovery file has done its job."""
        if self.restored is not None:
            self.restored.unlink(missing_ok=True)
            self.restored = None
        if self.session is not None and self.session.profile.path is not None:
            # After "save as" the session edits the new file: recover and reload that one.
            self.profile_path = self.session.profile.path

    def _main(self) -> MainScreen:
        return next(s for s in reversed(self.screen_stack) if isinstance(s, MainScreen))

    # -- recovery --------------------------------------------------------------
    def keep_unsaved(self, reason: str) -> Path | None:
        """Write unsaved changes to the recovery file once (the profile is not touched)."""
        with self._keeping:
            session = self.session
            if self.kept is not None or self.quit_confirmed or session is None or not session.has_edits:
                return self.kept
            try:
                text = session.recovery_text()
                self.kept = write_recovery(self.profile_path, text, reason, self.recovery_root)
            except (BusyconfError, OSError):
                # Nowhere left to report it (the terminal may be gone): the profile stays as it was.
                return None
            return self.kept

    def hangup(self, signum: int) -> None:
        """The terminal closed (SIGHUP) or the editor was told to stop (SIGTERM): keep, then leave."""
        self.keep_unsaved(f"{signal.Signals(signum).name}: the editor could not ask")
        self.quit_confirmed = True
        self.exit(128 + signum)

    def panic(self, *renderables: RenderableType) -> None:
        self.keep_unsaved("the editor failed")
        super().panic(*renderables)

    def _catch_hangups(self) -> None:
        for signum in HANGUP_SIGNALS:
            signal.signal(signum, self._on_hangup_signal)

    def _on_hangup_signal(self, signum: int, frame: object) -> None:
        # The event loop may never run again: with the terminal gone, Textual's
        # output thread dies and the next write blocks the loop for good. So
        # the work is done in a thread of its own, which ends the process if
        # the app cannot.
        if not self._hung_up:
            self._hung_up = True
            threading.Thread(target=self._hangup_thread, args=(signum,), daemon=True).start()

    def _hangup_thread(self, signum: int) -> None:
        try:
            self.keep_unsaved(f"{signal.Signals(signum).name}: the editor could not ask")
            self.quit_confirmed = True
            # call_from_thread waits for the loop, which may be stuck: ask from a thread that may wait.
            threading.Thread(target=self._ask_loop_to_exit, args=(128 + signum,), daemon=True).start()
            threading.Event().wait(HANGUP_GRACE)
        finally:
            os._exit(128 + signum)

    def _ask_loop_to_exit(self, code: int) -> None:
        try:
            self.call_from_thread(self.exit, code)
        except RuntimeError:
            # The app has already stopped.
            pass

    def offer_recovery(self) -> None:
        """Offer the recovery file a closed editor left for this profile, if any."""
        session = self.session
        if session is None:
            return
        try:
            found = read_recovery(self.profile_path, self.recovery_root)
        except RecoveryError as e:
            self.notify(str(e), title=e.title, severity="warning", markup=False)
            return
        if found is None:
            return
        recovery = found

        def done(choice: str | None) -> None:
            if choice == "discard":
                discard_recovery(self.profile_path, self.recovery_root)
            elif choice == "restore":
                try:
                    changed = self._restore(session, recovery.text)
                except BusyconfError as e:
                    message = f"{e} (kept in {recovery.file})"
                    self.notify(message, title="Cannot restore", severity="error", markup=False)
                    return
                if not changed:
                    discard_recovery(self.profile_path, self.recovery_root)
                    self.notify("The file already has the recovered changes.", timeout=3)
                    return
                self.restored = recovery.file
                if self.session is session:
                    # Otherwise a main screen on the recovered release draws itself as it mounts.
                    self._main().refresh_view()
                self.notify("Restored: the changes are unsaved until you press s.", timeout=4)

        from busyconf.tui.screens.dialogs import RecoveryModal

        self.push_screen(RecoveryModal(recovery.file, recovery.written), done)

    def _restore(self, session: Session, text: str) -> bool:
        """Take a recovered text as unsaved changes; one on another release (an unsaved upgrade)
        moves the editor to that release's tree, as the upgrade did."""
        recovered = parse_profile(text, session.profile.path)
        if recovered.busybox == session.tree.release:
            return session.restore(text)
        self.use_session(Session.upgraded(session, recovered, self.cache))
        return True
