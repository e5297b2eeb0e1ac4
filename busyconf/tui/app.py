"""The Textual application: picks the first screen and wires the command palette."""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial
from pathlib import Path
from typing import Any

from textual.app import App, SystemCommand
from textual.screen import Screen

from busyconf.errors import SourceError
from busyconf.source import SourceCache
from busyconf.tui.screens.main import COMMANDS, MainScreen
from busyconf.tui.session import Session


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
    ) -> None:
        super().__init__()
        self.profile_path = profile_path
        self.cache = cache
        self.out_dir = out_dir
        self.build_fn = build_fn
        self.session = session
        self.missing = missing

    def on_mount(self) -> None:
        if self.session is not None:
            self.show_main()
        elif self.missing is not None:
            from busyconf.tui.screens.source import SourceMissingScreen

            release, error = self.missing
            self.push_screen(SourceMissingScreen(self.profile_path, release, str(error), self.cache))

    def open_profile(self) -> None:
        """Load the profile again (after its source was fetched) and show it."""
        self.session = Session.open(self.profile_path, self.cache)
        self.show_main()

    def show_main(self) -> None:
        assert self.session is not None
        main = MainScreen(self.session, self.out_dir, self.build_fn)
        if len(self.screen_stack) <= 1:
            self.push_screen(main)
        else:
            self.switch_screen(main)

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        if isinstance(screen, MainScreen):
            for title, help_text, action in COMMANDS:
                yield SystemCommand(title, help_text, partial(screen.run_action, action))
        yield from super().get_system_commands(screen)
