"""``b``: build the current profile for the current arch, live, cancellable.

Cancel is there only while the build runs; once it is done (built, failed or
cancelled) Close (Esc) is what remains.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Label, Log, ProgressBar, Static
from textual.worker import Worker, WorkerState

from busyconf.model.inputs import Loaded
from busyconf.model.prepare import PreparedBuild, prepare_build
from busyconf.size.units import format_bytes, format_delta
from busyconf.tui.screens.job import JobScreen
from busyconf.tui.session import Session
from busyconf.tui.widgets.key_bar import KeyBar

BuildFn = Callable[..., Any]


def default_build_fn() -> BuildFn:
    from busyconf.build import build

    return build


def prepare_session(session: Session, drop_broken: bool = False) -> PreparedBuild:
    """The editor's values, unsaved changes too, for its current CPU: ready to build.

    Raises :class:`~busyconf.model.prepare.BrokenOptionsError` (its ``problems``
    are what the editor asks about) for options known not to build, unless
    ``drop_broken``: then they are set to a value that builds, for this build only.
    """
    s = session
    loaded = Loaded(s.profile.path or Path(s.profile.name), s.tree, s.config, list(s.assignments), s.profile)
    return prepare_build(loaded, arch=s.arch, toolchain=s.profile.toolchain, drop_broken=drop_broken)


class BuildScreen(JobScreen[None]):
    """Progress bar, phase, make's log; at the end the real size beside the estimate."""

    JOB = "build"
    STILL_RUNNING = "The build is still running: press c to cancel it first."
    CANCELLED = ("Build cancelled.", "")
    CRASHED = "Build crashed: "

    BINDINGS = [
        Binding("c", "cancel", "Cancel build"),
        Binding("escape,q", "close", "Close"),
    ]

    def __init__(
        self,
        session: Session,
        prepared: PreparedBuild,
        out_dir: Path | None = None,
        build_fn: BuildFn | None = None,
    ) -> None:
        super().__init__()
        self.session = session
        #: What is built (:func:`prepare_session`): the session's values, exported.
        self.prepared = prepared
        #: Options known not to build here, set to their safe values for this build only.
        self.drop = prepared.dropped
        self.config = prepared.config
        name = session.profile.path.stem if session.profile.path else "profile"
        self.out_dir = out_dir or Path("out") / f"{name}-{prepared.arch}"
        self.build_fn = build_fn
        self.estimate = session.size().total if not self.drop else session.size_of(self.config)
        self.result: Any = None
        self.error: BaseException | None = None

    def compose(self) -> ComposeResult:
        s = self.session
        name = s.profile.path.name if s.profile.path else s.profile.name
        with Vertical(id="build-top"):
            p = self.prepared
            what = f"BusyBox {p.release} for {p.arch} with {p.toolchain}"
            if self.drop:
                what += ", with " + ", ".join(p.dropped_settings)
            yield Label(Text(f" Build {name}: {what}  ->  {self.out_dir}"), id="build-title")
            with Horizontal(id="build-progress-row"):
                yield ProgressBar(total=None, show_eta=False, id="build-progress")
                yield Label("starting", id="build-phase")
            yield Static("", id="build-result")
        yield Log(id="build-log", highlight=False, max_lines=5000)
        with Horizontal(id="build-buttons"):
            yield Button("Cancel (c)", id="build-cancel", variant="error", classes="job-cancel")
            yield Button("Close (Esc)", id="build-close", classes="job-close")
        yield KeyBar()

    def on_mount(self) -> None:
        self.set_interval(0.1, self._drain)
        self.run_build()

    @work(thread=True, exclusive=True, group="build", exit_on_error=False)
    def run_build(self) -> Any:
        """Call the build layer; events are queued and drawn by a timer."""
        p = self.prepared
        fn = self.build_fn or default_build_fn()
        return fn(
            p.dotconfig,
            list(p.config.applets),
            p.release,
            p.arch,
            p.toolchain,
            out_dir=self.out_dir,
            source_tree=self.session.tree.src_dir,
            progress=self._queue,
            cancel=self.cancel_event,
        )

    def _drain(self) -> None:
        events = self._take_events()
        if not events:
            return
        log = self.query_one(Log)
        bar = self.query_one(ProgressBar)
        lines = []
        for event in events:
            kind = type(event).__name__
            if kind == "OutputEvent":
                lines.append(event.line)
            elif kind == "ProgressEvent":
                bar.update(total=max(event.total, 1), progress=event.done)
            elif kind == "PhaseEvent":
                self.query_one("#build-phase", Label).update(Text(f"{event.phase}: {event.message}"))
                lines.append(f"== {event.phase}: {event.message}")
        if lines:
            log.write_lines(lines)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group != "build":
            return
        if event.state == WorkerState.SUCCESS:
            self._drain()
            self.result = event.worker.result
            self._finished()
        elif event.state in (WorkerState.ERROR, WorkerState.CANCELLED):
            self._drain()
            self.error = event.worker.error
            self._failed(self.error)

    def _finished(self) -> None:
        manifest = self.result.manifest
        real = int(manifest.binary_size)
        text = Text()
        text.append("Built ", style="bold green")
        text.append(f"{self.result.binary}", style="bold")
        text.append(f" in {self.result.seconds:.1f} s\n")
        text.append("real size  ", style="dim")
        text.append(format_bytes(real), style="bold")
        if self.estimate:
            error = (self.estimate - real) / real * 100 if real else 0.0
            text.append("   estimate ", style="dim")
            text.append(format_bytes(self.estimate))
            text.append(f"  ({format_delta(self.estimate - real)}, {error:+.1f} %)", style="dim")
        text.append(f"\n{len(manifest.applets)} applets, verified with {manifest.verified_with}", style="dim")
        bar = self.query_one(ProgressBar)
        bar.update(total=bar.total or 1, progress=bar.total or 1)
        self.end(text, "done")

    def _failed(self, error: BaseException | None) -> None:
        self.end(*self.failure(error))

    def close_result(self) -> None:
        return None
