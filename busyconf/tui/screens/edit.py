"""Editing an int, hex or string value, checked before it is accepted."""

from __future__ import annotations

from kconfiglib import expr_value
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static

from busyconf.errors import BusyconfError
from busyconf.tui.session import Session


def naming_once(message: str, name: str) -> str:
    """``message`` without its ``NAME:`` lead when the rest names the symbol again.

    The checks prefix where a value came from, which for the editor is the
    symbol itself: "FOO: FOO=9 is out of its range" says FOO twice.
    """
    lead = f"{name}: "
    rest = message.removeprefix(lead)
    return rest if rest != message and name in rest else message


class EditValueModal(ModalScreen[str | None]):
    """Asks for a new value of one symbol; Enter accepts a valid one, Escape cancels."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, session: Session, name: str) -> None:
        super().__init__()
        self.session = session
        self.symbol = name

    def compose(self) -> ComposeResult:
        info = self.session.info(self.symbol)
        with Vertical(classes="dialog"):
            yield Label(Text(info.prompt or self.symbol), classes="dialog-title")
            yield Static(self._hint(), classes="dim")
            yield Input(self.session.config.values.get(self.symbol, ""), id="value")
            yield Static("", id="error", classes="error")

    def _hint(self) -> str:
        tree = self.session.tree
        kind = tree.type_of(self.symbol)
        with self.session.kconfig():
            sym = tree.symbols[self.symbol]
            ranges = [
                f"{low.str_value}..{high.str_value}" for low, high, cond in sym.ranges if expr_value(cond)
            ]
        extra = f", range {ranges[0]}" if ranges else ""
        return f"{self.symbol} ({kind}{extra}). Enter accepts, Escape cancels."

    @on(Input.Submitted, "#value")
    def _submitted(self, event: Input.Submitted) -> None:
        try:
            value = self.session.check_value(self.symbol, event.value)
        except BusyconfError as e:
            # Text, not markup: the reason may quote what was typed, brackets and all.
            self.query_one("#error", Static).update(Text(naming_once(str(e), self.symbol)))
            return
        self.dismiss(value)

    def action_cancel(self) -> None:
        self.dismiss(None)
