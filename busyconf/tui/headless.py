"""Driving the editor headless (Textual's Pilot): what tests and the screenshot script share."""

from __future__ import annotations

from typing import Any

from textual.pilot import Pilot

from busyconf.tui.screens.main import MainScreen


async def settle(pilot: Pilot[Any], rounds: int = 300) -> MainScreen | None:
    """Wait until the editor has drawn all it will: exact sizes on every row, new-in-release marks.

    Returns the main screen (None when there is none, e.g. the missing-source
    screen); gives up after ``rounds`` short pauses, so a caller asserts what
    it needs.
    """
    app = pilot.app
    main: MainScreen | None = None
    for _ in range(rounds):
        await app.workers.wait_for_complete()
        await pilot.pause(0.02)
        main = next((s for s in reversed(app.screen_stack) if isinstance(s, MainScreen)), None)
        if main is None or (main.sizes_settled and main.session.new_names_known):
            break
    await app.workers.wait_for_complete()
    await pilot.pause(0.1)
    return main
