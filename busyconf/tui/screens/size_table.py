"""``T``: make the size table the current release and CPU lack, live, cancellable.

Without a table the editor's sizes are the coarse label estimate. A
transfer from the nearest measured table (:mod:`busyconf.size.calibration.donors`)
builds and relinks the references here and takes minutes; with no table to
transfer from, a full calibration takes hours (resumable: a cancelled run
keeps what it measured). When it is done, the editor's sizes come from the new table.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Label, ProgressBar, Static
from textual.worker import Worker, WorkerState

from busyconf.size.table import TableKey
from busyconf.tui.screens.job import JobScreen
from busyconf.tui.widgets.key_bar import KeyBar

#: What each phase of a calibration is called on screen.
PHASES = {
    "build": "building the reference",
    "relink": "relinking per applet",
    "toggle": "toggling symbols",
    "usage": "usage texts",
    "reach": "library reach",
    "ladder": "small configurations",
    "done": "done",
}


class SizeTableScreen(JobScreen[bool]):
    """What will be done, then its progress; dismissed with True when a table was made."""

    JOB = "table"
    STILL_RUNNING = "Still measuring: press c to cancel it first."
    CANCELLED = ("Cancelled; ", "what was measured is kept for the next run.")

    # The focused Start button takes Enter itself and hides a screen binding of Enter from
    # the key bar: s is the key the bar shows.
    BINDINGS = [
        Binding("s", "start", "Start"),
        Binding("enter", "start", "Start", show=False),
        Binding("c", "cancel", "Cancel"),
        Binding("escape,q", "close", "Close"),
    ]

    def __init__(self, key: TableKey) -> None:
        super().__init__()
        self.key = key
        self.offer: Any = None
        self.started = False
        self.made = False

    def compose(self) -> ComposeResult:
        with Vertical(id="table-top"):
            yield Label(
                Text(f" Size table for BusyBox {self.key.release} on {self.key.arch}"), id="table-title"
            )
            yield Static("Looking for a measured table to transfer from...", id="table-plan")
            with Horizontal(id="table-progress-row"):
                yield ProgressBar(total=None, show_eta=False, id="table-progress")
                yield Label("", id="table-phase")
            yield Static("", id="table-result")
        with Horizontal(id="table-buttons"):
            yield Button("Start (s)", id="table-start", variant="primary")
            yield Button("Cancel (c)", id="table-cancel", variant="error", classes="job-cancel")
            yield Button("Close (Esc)", id="table-close", classes="job-close")
        yield KeyBar()

    def on_mount(self) -> None:
        self.query_one("#table-cancel", Button).display = False
        self.query_one("#table-progress-row").display = False
        self.query_one("#table-start", Button).disabled = True
        self.set_interval(0.2, self._drain)
        self.find_offer()

    @work(thread=True, exclusive=True, group="offer", exit_on_error=False)
    def find_offer(self) -> None:
        from busyconf.size.calibration.donors import offer

        found = offer(self.key)
        self.app.call_from_thread(self._offer_ready, found)

    def _offer_ready(self, found: Any) -> None:
        self.offer = found
        text = Text()
        if found.donor is not None:
            text.append("Transfer ", style="bold")
            text.append(
                f"from {found.donor}: build and relink the references here, take {found.donor}'s "
                "symbol toggles scaled, toggle here what it never measured. Minutes on 2 cores."
            )
        else:
            text.append("Calibrate ", style="bold")
            text.append(
                "here: no measurements of another CPU or release to transfer from. Hours on 2 cores; "
                "a cancelled run keeps what it measured and resumes."
            )
        text.append(f"\n{found.command}", style="dim")
        self.query_one("#table-plan", Static).update(text)
        start = self.query_one("#table-start", Button)
        start.disabled = False
        start.focus()

    def action_start(self) -> None:
        if self.offer is None or self.started:
            return
        self.started = True
        self.query_one("#table-start", Button).display = False
        self.query_one("#table-cancel", Button).display = True
        self.query_one("#table-progress-row").display = True
        self.query_one("#table-phase", Label).update("starting")
        self.refresh_bindings()
        self.make_table()

    @on(Button.Pressed, "#table-start")
    def _start_pressed(self) -> None:
        self.action_start()

    @work(thread=True, exclusive=True, group="table", exit_on_error=False)
    def make_table(self) -> Any:
        from busyconf.size.calibration import calibrate

        k = self.key
        return calibrate(
            k.release,
            k.arch,
            k.toolchain,
            progress=self._queue,
            cancel=self.cancel_event,
            transfer=self.offer.donor,
        )

    def _drain(self) -> None:
        events = self._take_events()
        if not events:
            return
        event = events[-1]
        what = PHASES.get(event.phase, event.phase)
        if event.reference != "full" and event.phase != "done":
            what += f" ({event.reference})"
        message = event.message if len(event.message) <= 50 else "…" + event.message[-49:]
        self.query_one("#table-phase", Label).update(Text(f"{what}: {message}" if message else what))
        bar = self.query_one(ProgressBar)
        if event.total:
            bar.update(total=event.total, progress=event.done)
        else:
            bar.update(total=None)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group != "table":
            return
        if event.state == WorkerState.SUCCESS:
            self._drain()
            path, model = cast(tuple[Path, Any], event.worker.result)
            self.made = True
            text = Text()
            text.append("Made ", style="bold green")
            text.append(str(path), style="bold")
            text.append(f"\n{model.basis}; the editor's sizes now come from it.", style="dim")
            self._finish(text, "done")
        elif event.state in (WorkerState.ERROR, WorkerState.CANCELLED):
            self._drain()
            self._finish(*self.failure(event.worker.error))

    def _finish(self, text: Text, phase: str) -> None:
        self.query_one(ProgressBar).update(total=1, progress=1 if self.made else 0)
        self.end(text, phase)

    def cancellable(self) -> bool:
        return self.started and not self.done

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "start":
            return not self.started
        return super().check_action(action, parameters)

    def close_result(self) -> bool:
        return self.made
