"""``?``: everything about one symbol, with its Kconfig definition."""

from __future__ import annotations

from kconfiglib import MenuNode
from rich.console import Group
from rich.syntax import Syntax
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, Static

from busyconf.tui.session import Session
from busyconf.tui.widgets.detail_pane import symbol_details


class SymbolInfoScreen(ModalScreen[None]):
    """Name, type, value, why it is locked, dependencies, definition and help."""

    BINDINGS = [Binding("escape,q,question_mark", "close", "Close")]

    def __init__(self, session: Session, node: MenuNode) -> None:
        super().__init__()
        self.session = session
        self.node = node

    def compose(self) -> ComposeResult:
        s = self.session
        name = self.node.item.name
        reason = s.reason(name)
        new = s.toggled(name)
        # The exact preview, as the detail pane shows it (the size model's quick figure can differ).
        delta = s.preview(name, new).delta if new is not None and reason is None else None
        with s.kconfig():
            info = s.tree.info(name)
            definitions = "\n\n".join(str(n) for n in s.tree.symbols[name].nodes)
            defaults = ", ".join(
                f"{_expr_text(v)}{'' if _expr_text(c) in ('y', '') else ' if ' + _expr_text(c)}"
                for v, c in s.tree.symbols[name].defaults
            )
        body = Group(
            symbol_details(
                info,
                s.config.values[name],
                reason,
                s.size().per_symbol.get(name),
                delta,
                full=True,
                new_in=s.tree.release if s.is_new(name) else None,
            ),
            Text(f"\ndefaults    {defaults or '(none)'}", style="dim"),
            Text("\nKconfig definition", style="bold"),
            Syntax(definitions, "text", theme="ansi_dark", word_wrap=True),
        )
        with Vertical(classes="dialog", id="info-dialog"):
            yield Label(f"Symbol info: {name}", classes="dialog-title")
            with VerticalScroll():
                yield Static(body)
            yield Label("Escape closes", classes="dim")

    def action_close(self) -> None:
        self.dismiss(None)


def _expr_text(expr: object) -> str:
    import kconfiglib

    return str(kconfiglib.expr_str(expr))
