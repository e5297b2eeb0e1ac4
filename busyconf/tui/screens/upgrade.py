"""``U``: move the profile to a newer BusyBox release, after reading what the move changes.

The report is :func:`busyconf.upgrade.drift_report`'s, the same as
``busyconf upgrade``'s. New symbols that would switch on are listed with a
checkbox each, unchecked: applying pins them off, as the command does without
``--accept-new``. Applying loads the upgraded profile as an unsaved change on
the new release's tree; the file is written on save, like every edit.
"""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Button, Label, LoadingIndicator, OptionList, SelectionList, Static
from textual.widgets.option_list import Option
from textual.widgets.selection_list import Selection
from textual.worker import Worker, WorkerState

from busyconf.errors import BusyconfError
from busyconf.size.units import format_bytes, format_delta
from busyconf.tui.session import Session
from busyconf.tui.widgets.key_bar import KeyBar
from busyconf.upgrade import DriftReport, SymbolDrift, drift_report, upgrade_profile

#: Report sections: (kind, title, what the value columns hold).
SECTIONS = (
    ("new", "New symbols", "value they take"),
    ("renamed", "Renamed", "value carried"),
    ("removed", "Removed", "value they had"),
    ("value_lost", "Values that no longer take effect", "set -> gets"),
    ("default_changed", "Changed by a new default", "was -> is"),
)
#: Applets shown in the size-by-applet table (the largest changes first).
APPLET_ROWS = 12


class ReleasePickerModal(ModalScreen[str | None]):
    """Which newer cached release to upgrade to."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, current: str, releases: list[str]) -> None:
        super().__init__()
        self.current = current
        self.releases = releases

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="release-picker"):
            yield Label(f"Upgrade from BusyBox {self.current} to", classes="dialog-title")
            # Newest first: the usual target.
            yield OptionList(*[Option(r, id=r) for r in reversed(self.releases)], id="releases")
            yield Label("Enter shows what the upgrade changes; Escape cancels", classes="dim")

    @on(OptionList.OptionSelected, "#releases")
    def _picked(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)


class UpgradeScreen(Screen[Session | None]):
    """The drift report to one release; Apply returns the upgraded session (nothing saved)."""

    BINDINGS = [
        Binding("escape,q", "cancel", "Cancel"),
        Binding("enter", "enter", "Apply", priority=True),
    ]

    def __init__(self, session: Session, release: str) -> None:
        super().__init__()
        self.session = session
        self.release = release
        self.report: DriftReport | None = None
        self.busy = True

    def compose(self) -> ComposeResult:
        s = self.session
        name = s.profile.path.name if s.profile.path else s.profile.name
        yield Label(
            f" Upgrade {name}: BusyBox {s.tree.release} → {self.release}  ({s.arch})", id="upgrade-title"
        )
        with VerticalScroll(id="upgrade-body"):
            yield LoadingIndicator(id="upgrade-loading")
            yield Static("", id="upgrade-summary")
            # The choice comes before the details: it is what the user decides here.
            yield Label("", id="upgrade-accept-title", classes="upgrade-heading")
            yield SelectionList[str](id="upgrade-accept")
            yield Static("", id="upgrade-accept-note", classes="dim")
            yield Static("", id="upgrade-report")
        yield Static("", id="upgrade-confirm")
        with Horizontal(id="upgrade-buttons"):
            yield Button("Apply", id="apply", variant="primary", disabled=True, compact=True)
            yield Button("Cancel", id="cancel", compact=True)
        yield KeyBar()

    def on_mount(self) -> None:
        self.query_one("#upgrade-accept", SelectionList).display = False
        self.query_one("#upgrade-accept-title").display = False
        self.compute()

    # -- the report --------------------------------------------------------------
    @work(thread=True, exclusive=True, group="upgrade", exit_on_error=False)
    def compute(self) -> None:
        """The drift report of the profile as edited now (unsaved changes included)."""
        try:
            report = drift_report(
                self.session.profile_after_changes(), self.release, cache=self.session.cache
            )
        except BusyconfError as e:
            self.app.call_from_thread(self._failed, e)
            return
        self.app.call_from_thread(self._show, report)

    def _failed(self, error: BusyconfError) -> None:
        self.busy = False
        self.query_one("#upgrade-loading").display = False
        self.query_one("#upgrade-summary", Static).update(Text(str(error), style="bold red"))

    def _show(self, report: DriftReport) -> None:
        self.report = report
        self.busy = False
        self.query_one("#upgrade-loading").display = False
        self.query_one("#upgrade-summary", Static).update(summary(report, self.session.config.applets))
        self.query_one("#upgrade-report", Static).update(render_report(report))
        pinned = [d for d in report.symbols if d.pinned]
        choices = self.query_one("#upgrade-accept", SelectionList)
        title = self.query_one("#upgrade-accept-title", Label)
        note = self.query_one("#upgrade-accept-note", Static)
        if pinned:
            title.update(
                f"Would switch on by default ({len(pinned)}): pinned off unless checked (Space checks)"
            )
            choices.add_options([Selection(_choice_label(d), d.name, False) for d in pinned])
            title.display = choices.display = True
            choices.focus()
        else:
            note.update("Nothing new would switch on by default: nothing to pin.")
        self._update_note()
        self.query_one("#upgrade-confirm", Static).update(
            f"Enter applies it as an unsaved change: s saves it, u goes back to {report.from_release}."
        )
        apply = self.query_one("#apply", Button)
        apply.disabled = False
        if not pinned:
            apply.focus()

    @on(SelectionList.SelectedChanged, "#upgrade-accept")
    def _update_note(self) -> None:
        if self.report is None or not self.report.pinned:
            return
        checked = set(self.checked)
        applets = sorted({d.applet for d in self.report.symbols if d.name in checked and d.applet})
        text = Text()
        if checked:
            text.append(f"Switching on {len(checked)}: ", style="bold")
            text.append(" ".join(sorted(checked)))
            if applets:
                text.append(f"  (in applets: {' '.join(applets)})")
        else:
            text.append("Nothing checked: the upgraded profile builds the same applets as now.")
        self.query_one("#upgrade-accept-note", Static).update(text)

    @property
    def checked(self) -> list[str]:
        return list(self.query_one("#upgrade-accept", SelectionList).selected)

    # -- actions -------------------------------------------------------------------
    def action_enter(self) -> None:
        if isinstance(self.focused, Button):
            self.focused.press()
        else:
            self.apply()

    @on(Button.Pressed, "#apply")
    def apply(self) -> None:
        if self.report is None or self.busy:
            return
        self.busy = True
        self.query_one("#apply", Button).disabled = True
        self.notify(f"Upgrading to {self.release}…", timeout=2)
        self.upgrade(self.checked)

    @work(thread=True, exclusive=True, group="upgrade", exit_on_error=False)
    def upgrade(self, accept: list[str]) -> Session | None:
        """The upgraded session; the screen closes on it once this worker has finished.

        Dismissing from inside the worker would cancel the worker still waiting
        on the call (the screen's workers stop with it).
        """
        s = self.session
        try:
            profile, _report = upgrade_profile(
                s.profile_after_changes(), self.release, accept_new=accept, cache=s.cache
            )
            return Session.upgraded(s, profile, s.cache)
        except BusyconfError as e:
            self.app.call_from_thread(self._apply_failed, e)
            return None

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.name == "upgrade" and event.state == WorkerState.SUCCESS:
            if isinstance(upgraded := event.worker.result, Session):
                self.dismiss(upgraded)

    def _apply_failed(self, error: BusyconfError) -> None:
        self.busy = False
        self.query_one("#apply", Button).disabled = False
        self.notify(str(error), title="Cannot upgrade", severity="error", markup=False)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)


def _choice_label(d: SymbolDrift) -> Text:
    text = Text(d.name, style="bold")
    if d.applet:
        text.append(f"  ({d.applet})", style="cyan")
    return text


def _value(value: str | None) -> str:
    if value is None:
        return "-"
    return {"y": "on", "n": "off", "m": "module"}.get(value, repr(value) if not value.isdigit() else value)


def render_report(report: DriftReport) -> RenderableType:
    """The drift report's details: sizes by applet, then the symbols by kind."""
    parts: list[RenderableType] = []
    sizes = _applet_sizes(report)
    if sizes is not None:
        parts.append(sizes)
    for kind, title, column in SECTIONS:
        drifts = report.of_kind(kind)
        if drifts:
            parts.append(_section(f"{title} ({len(drifts)})", column, drifts))
    if report.defaults_kept:
        parts.append(
            _section(
                f"Defaults that changed, the profile's value kept ({len(report.defaults_kept)})",
                "kept -> new default",
                report.defaults_kept,
            )
        )
    if not report.symbols:
        parts.append(Text("No symbol changes its value.", style="dim"))
    return Group(*parts)


def summary(report: DriftReport, applets_now: tuple[str, ...]) -> Text:
    """How many symbols change and how, the applets added and removed, the size before and after."""
    text = Text()
    counts = {kind: len(report.of_kind(kind)) for kind, _t, _c in SECTIONS}
    text.append(f"{len(report.symbols)} symbols change", style="bold")
    text.append(": " + ", ".join(f"{n} {k.replace('_', ' ')}" for k, n in counts.items() if n))
    pinned = len(report.pinned)
    if pinned:
        text.append(f"\n{pinned} would switch on by default and are pinned off unless checked below.")
    text.append("\nApplets: ", style="bold")
    after = len(applets_now) + len(report.applets_added) - len(report.applets_removed)
    text.append(f"{len(applets_now)} -> {after}")
    if report.applets_added:
        text.append("\n  added:   ", style="green")
        text.append(" ".join(report.applets_added))
    if report.applets_removed:
        text.append("\n  removed: ", style="red")
        text.append(" ".join(report.applets_removed))
    if not report.applets_added and not report.applets_removed:
        text.append("  (the same applets)", style="dim")
    if report.size_before is not None and report.size_after is not None:
        text.append("\nSize: ", style="bold")
        text.append(f"{format_bytes(report.size_before)} -> {format_bytes(report.size_after)}")
        text.append(f" ({format_delta(report.size_after - report.size_before)})")
        if report.size_basis_before != report.size_basis_after:
            # A coarse estimate against a calibrated one: the difference is mostly the method's.
            text.append(
                f"\n  before: {report.size_basis_before}\n  after:  {report.size_basis_after}", style="dim"
            )
        else:
            text.append(f"  {report.size_basis_after}", style="dim")
    return text


def _applet_sizes(report: DriftReport) -> Table | None:
    if not report.applet_sizes:
        return None
    table = Table(title="Size by applet", title_justify="left", title_style="bold", expand=False, box=None)
    table.add_column("applet")
    table.add_column("change", justify="right")
    for applet, delta in report.applet_sizes[:APPLET_ROWS]:
        table.add_row(applet, Text(format_delta(delta), style="red" if delta > 0 else "green"))
    more = len(report.applet_sizes) - APPLET_ROWS
    if more > 0:
        table.add_row(Text(f"… {more} more", style="dim"), "")
    return table


def _section(title: str, column: str, drifts: tuple[SymbolDrift, ...]) -> Table:
    table = Table(title=title, title_justify="left", title_style="bold", expand=True, box=None)
    table.add_column("symbol", no_wrap=True)
    table.add_column(column, no_wrap=True)
    table.add_column("why", ratio=1)
    for d in drifts:
        name = Text(d.name, style="bold")
        if d.renamed_to:
            name.append(f" -> {d.renamed_to}")
        if d.kind == "new":
            value = Text(_value(d.new))
            if d.pinned:
                value = Text("pinned off", style="yellow")
        elif d.kind in ("removed",):
            value = Text(_value(d.old))
        elif d.kind == "renamed":
            value = Text(_value(d.old))
        else:
            value = Text(f"{_value(d.old)} -> {_value(d.new)}")
        table.add_row(name, value, Text(d.reason, style="dim"))
    return table
