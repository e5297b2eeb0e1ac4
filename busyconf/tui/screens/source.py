"""Shown when the profile's BusyBox release is not in the cache: fetch it here."""

from __future__ import annotations

import os
from pathlib import Path

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Button, Label, ProgressBar, Static
from textual.worker import Worker, WorkerState

from busyconf.errors import BusyconfError
from busyconf.source import RELEASES, SourceCache
from busyconf.tui.widgets.key_bar import KeyBar


def _shown(path: Path) -> str:
    """``path`` relative to the current folder when it is inside it (shorter, and what the user typed)."""
    rel = os.path.relpath(path)
    return str(path) if rel.startswith("..") else rel


class SourceMissingScreen(Screen[None]):
    """Says which release is missing and why, and offers to download it."""

    BINDINGS = [
        Binding("f", "fetch", "Fetch"),
        Binding("q,escape", "app.quit", "Quit"),
    ]

    def __init__(
        self, profile_path: Path, release: str, message: str, cache: SourceCache | None = None
    ) -> None:
        super().__init__()
        self.profile_path = profile_path
        self.release = release
        self.message = message
        self.cache = cache or SourceCache()

    def compose(self) -> ComposeResult:
        known = self.release in RELEASES
        with Vertical(classes="dialog", id="source-dialog"):
            yield Label(f"BusyBox {self.release} is not in the cache", classes="dialog-title")
            root = _shown(self.cache.root)
            body = Text(self.message.replace(str(self.cache.root), root) + "\n\n", style="")
            body.append(f"Profile: {self.profile_path}\nCache:   {root}\n\n", style="dim")
            if known:
                body.append("Press f to download it (checked against its sha256), or q to quit.")
            else:
                body.append(
                    "busyconf cannot download this release: import its tarball with "
                    "`busyconf source add PATH --trust`."
                )
            yield Static(body, id="source-message")
            yield ProgressBar(total=None, id="source-progress")
            yield Label("", id="source-status")
            with Horizontal(classes="buttons"):
                yield Button("Fetch", id="fetch", variant="primary", disabled=not known)
                yield Button("Quit", id="quit")
        yield KeyBar()

    @on(Button.Pressed, "#quit")
    def _quit(self) -> None:
        self.app.exit(1)

    @on(Button.Pressed, "#fetch")
    def action_fetch(self) -> None:
        if self.release not in RELEASES or any(w.is_running for w in self.workers):
            return
        self.query_one("#fetch", Button).disabled = True
        self.query_one(ProgressBar).add_class("-fetching")
        self.query_one("#source-status", Label).update("downloading...")
        self.fetch()

    @work(thread=True, exclusive=True, group="fetch", exit_on_error=False)
    def fetch(self) -> None:
        def progress(done: int, total: int | None) -> None:
            self.app.call_from_thread(self._progress, done, total)

        self.cache.fetch(self.release, progress)

    def _progress(self, done: int, total: int | None) -> None:
        bar = self.query_one(ProgressBar)
        bar.update(total=total, progress=done)
        size = f"{done / 1e6:.1f} MB" + (f" of {total / 1e6:.1f} MB" if total else "")
        self.query_one("#source-status", Label).update(f"downloading... {size}")

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group != "fetch":
            return
        status = self.query_one("#source-status", Label)
        if event.state == WorkerState.SUCCESS:
            status.update("verified and unpacked")
            self.app.call_later(self.app.open_profile)  # type: ignore[attr-defined]
        elif event.state == WorkerState.ERROR:
            error = event.worker.error
            msg = (
                f"{error.title}: {error}"
                if isinstance(error, BusyconfError)
                else f"{type(error).__name__}: {error}"
            )
            status.update(Text(msg, style="bold red"))
            self.query_one("#fetch", Button).disabled = False
