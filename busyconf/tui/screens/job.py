"""A screen that runs one long, cancellable job in a thread: the build (``b``) and the size table (``T``).

The job runs in a thread worker of group :attr:`JobScreen.JOB`; it reports
progress events from its thread, which are queued and drawn by a timer on the
screen's own. ``c`` (or the ``.job-cancel`` button) asks it to stop; Esc (or
``.job-close``) closes the screen once nothing runs. When it ends, Cancel goes
and Close takes the focus.
"""

from __future__ import annotations

import threading
from typing import Any, ClassVar, TypeVar

from rich.text import Text
from textual import on
from textual.screen import Screen
from textual.widgets import Button, Label, Static

from busyconf.errors import BusyconfError, Interrupted

ResultType = TypeVar("ResultType")


class JobScreen(Screen[ResultType]):
    """The shared part: the event queue, cancel, close and the end of the job.

    A subclass names its widgets ``#{JOB}-phase`` (a Label) and ``#{JOB}-result``
    (a Static), gives its Cancel and Close buttons the classes ``job-cancel``
    and ``job-close``, and says what closing returns (:meth:`close_result`).
    """

    #: The job's worker group, and the prefix of its widgets' ids.
    JOB: ClassVar[str] = "job"
    #: What Close says while the job runs.
    STILL_RUNNING: ClassVar[str] = "Still running: press c to cancel it first."
    #: The result's first words when the job was cancelled, and what follows them.
    CANCELLED: ClassVar[tuple[str, str]] = ("Cancelled.", "")
    #: The result's first words when the job raised something not busyconf's own.
    CRASHED: ClassVar[str] = "Crashed: "

    def __init__(self) -> None:
        super().__init__()
        self.cancel_event = threading.Event()
        #: Finished, failed or cancelled: nothing left to cancel.
        self.done = False
        self._pending: list[Any] = []
        self._pending_lock = threading.Lock()

    @property
    def running(self) -> bool:
        return any(w.is_running for w in self.workers if w.group == self.JOB)

    def _queue(self, event: Any) -> None:
        """The job's progress callback (any thread)."""
        with self._pending_lock:
            self._pending.append(event)

    def _take_events(self) -> list[Any]:
        """The events queued since the last call, oldest first."""
        with self._pending_lock:
            events, self._pending = self._pending, []
        return events

    def failure(self, error: BaseException | None) -> tuple[Text, str]:
        """What a job that ended by ``error`` shows, and its phase: cancelled or failed."""
        text = Text()
        if isinstance(error, Interrupted) or self.cancel_event.is_set():
            head, rest = self.CANCELLED
            text.append(head, style="bold yellow")
            text.append(rest)
            return text, "cancelled"
        if isinstance(error, BusyconfError):
            text.append(f"{error.title}: ", style="bold red")
            text.append(str(error))
        else:
            text.append(self.CRASHED, style="bold red")
            text.append(f"{type(error).__name__}: {error}")
        return text, "failed"

    def end(self, text: Text, phase: str) -> None:
        """The job is over: show ``text`` and ``phase``; Cancel goes, Close takes the focus."""
        self.done = True
        self.query_one(f"#{self.JOB}-result", Static).update(text)
        self.query_one(f"#{self.JOB}-phase", Label).update(phase)
        self.query_one(".job-cancel", Button).display = False
        self.query_one(".job-close", Button).focus()
        self.refresh_bindings()

    def cancellable(self) -> bool:
        """Whether ``c`` applies now (the key bar shows it only then)."""
        return not self.done

    def close_result(self) -> ResultType:
        """What the screen is dismissed with."""
        raise NotImplementedError

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "cancel":
            return self.cancellable()
        return True

    @on(Button.Pressed, ".job-cancel")
    def action_cancel(self) -> None:
        if self.running:
            self.cancel_event.set()
            self.query_one(f"#{self.JOB}-phase", Label).update("cancelling...")

    @on(Button.Pressed, ".job-close")
    def action_close(self) -> None:
        if self.running:
            self.notify(self.STILL_RUNNING, timeout=3)
            return
        self.dismiss(self.close_result())
