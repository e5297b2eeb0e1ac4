"""``/``: find an applet, option or menu; the best match for what you mean first.

A query with a regular-expression character (``ls.*color``) is a regex; see
:mod:`busyconf.model.search`. Each result is one line, cut with an
ellipsis, so a long prompt never wraps into what looks like another result.
"""

from __future__ import annotations

from kconfiglib import MenuNode
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.css.query import NoMatches
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList
from textual.widgets.option_list import Option

from busyconf.model.search import BadQuery, Hit, is_regex, search
from busyconf.tui.session import Session


def _value_cell(value: str) -> str:
    """A symbol's value in at most 6 columns: ``[*]``, ``[ ]`` or ``(value)`` cut with an ellipsis."""
    if value == "y":
        return "[*]"
    if value == "n":
        return "[ ]"
    return f"({value})" if len(value) <= 4 else f"({value[:3]}…)"


class SearchScreen(ModalScreen[MenuNode | None]):
    """Type to search; Up/Down pick, Enter jumps there, Escape goes back."""

    DEFAULT_CSS = """
    #search-dialog #hits {
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    """

    BINDINGS = [
        Binding("escape", "cancel", "Back"),
        Binding("down", "move(1)", "Next", show=False),
        Binding("up", "move(-1)", "Previous", show=False),
    ]

    def __init__(self, session: Session, query: str = "") -> None:
        super().__init__()
        self.session = session
        self.query_text = query
        self.hits: list[Hit] = []

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="search-dialog") as dialog:
            # In the border, not a title line: at 80x24 every row is a result more.
            dialog.border_title = "Search applets, options and menus"
            yield Input(self.query_text, placeholder="ls, FEATURE_LS_COLOR, ls.*color (regex)...", id="query")
            yield OptionList(id="hits")
            yield Label("", id="hit-count", classes="dim")

    def on_mount(self) -> None:
        self.query_one(Input).focus()
        self._update(self.query_text)

    def type_ahead(self, text: str) -> None:
        """Add ``text`` to the query (menuconfig keeps type-ahead too: ``/ls`` typed fast finds ls)."""
        try:
            box = self.query_one(Input)
        except NoMatches:
            self.query_text += text  # not composed yet: the box starts with it
            return
        box.focus()
        box.insert_text_at_cursor(text)

    @on(Input.Changed, "#query")
    def _changed(self, event: Input.Changed) -> None:
        self._update(event.value)

    def _update(self, query: str) -> None:
        count = self.query_one("#hit-count", Label)
        try:
            with self.session.kconfig():
                self.hits = search(self.session.tree, query)
        except BadQuery as e:
            self.hits = []
            self.query_one("#hits", OptionList).clear_options()
            count.update(Text(str(e)))
            count.set_class(True, "error")
            return
        count.set_class(False, "error")
        values = self.session.config.values
        options = []
        for hit in self.hits:
            label = Text()
            if hit.name:
                label.append(f"{_value_cell(values.get(hit.name, '')):<7}")
                label.append(hit.prompt or hit.name, style="bold")
                label.append(f"  {hit.name}", style="cyan")
            else:
                label.append(" " * 7 + hit.prompt + "  --->", style="bold")
            if hit.menu_path:
                label.append(f"  {hit.menu_path}", style="dim")
            options.append(Option(label))
        hits = self.query_one("#hits", OptionList)
        hits.clear_options()
        hits.add_options(options)
        if options:
            hits.highlighted = 0
        if not query.strip():
            count.update("Type to search; a query with . * [ ] ( ) | ^ $ is a regex")
        else:
            count.update(f"{len(self.hits)} matches" + (" (regex)" if is_regex(query) else ""))

    def action_move(self, step: int) -> None:
        hits = self.query_one("#hits", OptionList)
        if hits.option_count:
            current = hits.highlighted or 0
            hits.highlighted = max(0, min(hits.option_count - 1, current + step))

    @on(Input.Submitted, "#query")
    def _submitted(self) -> None:
        index = self.query_one("#hits", OptionList).highlighted
        if index is not None and index < len(self.hits):
            self.dismiss(self.hits[index].node)

    @on(OptionList.OptionSelected, "#hits")
    def _picked(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self.hits[event.option_index].node)

    def action_cancel(self) -> None:
        self.dismiss(None)
