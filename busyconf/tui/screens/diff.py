"""``d``: what this session changes against the base and against the saved file."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import DataTable, Label, Static, TabbedContent, TabPane

from busyconf.model.config import Configuration
from busyconf.size.units import format_bytes, format_delta
from busyconf.tui.session import Session
from busyconf.tui.widgets.key_bar import KeyBar


class DiffScreen(Screen[None]):
    """Two tabs: changes since the saved file, and differences from the base."""

    BINDINGS = [Binding("escape,q,d", "close", "Back")]

    def __init__(self, session: Session) -> None:
        super().__init__()
        self.session = session

    def compose(self) -> ComposeResult:
        s = self.session
        name = s.profile.path.name if s.profile.path else s.profile.name
        yield Label(f" Diff: {name}  (BusyBox {s.tree.release}, {s.arch})", id="diff-title")
        with TabbedContent(initial="vs-saved"):
            with TabPane("vs saved file", id="vs-saved"):
                yield from self._pane(s.saved_config, "saved file", "diff-saved")
            with TabPane(f"vs base ({s.profile.base})", id="vs-base"):
                yield from self._pane(s.base_config, f"base {s.profile.base}", "diff-base")
        yield KeyBar()

    def _pane(self, other: Configuration, label: str, table_id: str) -> ComposeResult:
        s = self.session
        rows = s.diff_against(other)
        gained = sorted(set(s.config.applets) - set(other.applets))
        lost = sorted(set(other.applets) - set(s.config.applets))
        summary = Text()
        summary.append(f"{len(rows)} symbols differ from the {label}", style="bold")
        if s.arch != s.saved_arch and label == "saved file":
            summary.append(f"; arch {s.saved_arch} -> {s.arch}", style="bold")
        here, there = s.size_of(s.config), s.size_of(other)
        if here is not None and there is not None:
            summary.append(
                f"; estimated {format_bytes(there)} -> {format_bytes(here)} ({format_delta(here - there)})"
            )
        if gained:
            summary.append("\napplets added:   ", style="green")
            summary.append(" ".join(gained))
        if lost:
            summary.append("\napplets removed: ", style="red")
            summary.append(" ".join(lost))
        with Vertical(classes="diff-pane"):
            yield Static(summary, classes="diff-summary")
            table: DataTable[Text] = DataTable(id=table_id, cursor_type="row")
            table.add_column("symbol", key="symbol")
            table.add_column(label, key="there")
            table.add_column("now", key="here")
            table.add_column("prompt", key="prompt")
            for name, there_v, here_v in rows:
                info = s.info(name)
                table.add_row(
                    Text(name, style="bold"),
                    Text(_show(there_v), style="red"),
                    Text(_show(here_v), style="green"),
                    Text(info.prompt or "", style="dim"),
                )
            if not rows:
                table.add_row(Text("(no differences)", style="dim"), Text(""), Text(""), Text(""))
            yield table

    def action_close(self) -> None:
        self.dismiss(None)


def _show(value: str | None) -> str:
    if value is None:
        return "(absent)"
    return {"y": "on", "n": "off"}.get(value, value)
