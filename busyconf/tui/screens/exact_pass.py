"""The size column's exact pass: once the keys stop, each listed row is priced exactly, off the UI thread.

Rows first show the size model's quick figure (marked ``~``); this replaces it
with an exact preview (about a millisecond a row), the rows on screen first,
and drops results for values that have changed since.
"""

from __future__ import annotations

import time
from functools import partial
from typing import Any, Protocol

from kconfiglib import MenuNode
from textual.screen import Screen
from textual.timer import Timer
from textual.worker import get_current_worker

from busyconf.tui.row_sizes import RowSizes, Wanted
from busyconf.tui.session import Session
from busyconf.tui.sizing import Preview
from busyconf.tui.widgets import EntryList

#: Seconds of quiet after a key before the pass starts (a key restarts the wait).
DELAY = 0.12
#: Rows priced between two updates of the screen.
BATCH = 8

Priced = list[tuple[int, MenuNode, Preview]]


class Listing(Protocol):
    """What the pass reads of the screen that shows the listing (the main screen)."""

    session: Session
    sizes: RowSizes

    @property
    def entry_list(self) -> EntryList: ...

    def window(self, cursor: int, count: int) -> range: ...


class ExactPass:
    """Runs the exact pass for a screen's listing."""

    def __init__(self, screen: Screen[Any], listing: Listing) -> None:
        self.screen = screen
        self.listing = listing
        self._timer: Timer | None = None

    def schedule(self) -> None:
        """Start the pass once the keys stop."""
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.screen.set_timer(DELAY, self._start)

    def _start(self) -> None:
        screen, host = self.screen, self.listing
        s = host.session
        if not s.size_ready:
            return
        listing = host.entry_list
        wanted, known_now = host.sizes.pending(host.window(listing.cursor_row, len(listing.entries)))
        # Priced since the rows were drawn (by a pass for another menu): show them now.
        self.show(s.generation, known_now)
        if wanted:
            screen.run_worker(
                partial(self._price, s.generation, wanted),
                thread=True,
                exclusive=True,
                group="exact",
                exit_on_error=False,
            )

    def _price(self, generation: int, wanted: list[Wanted]) -> None:
        """In a worker thread: exact previews, handed to the UI thread every ``BATCH`` rows."""
        worker = get_current_worker()
        s = self.listing.session
        done: Priced = []
        for row, node, name, value in wanted:
            if worker.is_cancelled or s.generation != generation:
                return
            done.append((row, node, s.preview(name, value)))
            # Let the UI thread have the interpreter: a key pressed now is answered first.
            time.sleep(0.001)
            if len(done) == BATCH:
                self.screen.app.call_from_thread(self.show, generation, done)
                done = []
        if done:
            self.screen.app.call_from_thread(self.show, generation, done)

    def show(self, generation: int, results: Priced) -> None:
        """Put exact cells into the listing (those for values that have moved on are dropped)."""
        for row, node, preview in results:
            cell = self.listing.sizes.exact(generation, row, node, preview)
            if cell is not None:
                self.listing.entry_list.set_size(row, cell)
