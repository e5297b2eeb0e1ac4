"""The entries of the selected menu: value, prompt (or name) and size."""

from __future__ import annotations

from kconfiglib import COMMENT
from rich.text import Text
from textual import events
from textual.widgets import DataTable
from textual.widgets.data_table import ColumnKey

from busyconf.tui.menu import Entry

VALUE_WIDTH = 8
SIZE_WIDTH = 10
#: Columns beside the option's: value, size, each column's padding, the scrollbar.
OTHER_COLUMNS = VALUE_WIDTH + SIZE_WIDTH + 3 * 2 + 2
#: The mark after an option the profile's release added (the detail pane says which release).
NEW_MARK = " new"


class EntryList(DataTable[Text]):
    """A menu's entries as menuconfig lists them, one row each."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(cursor_type="row", zebra_stripes=False, **kwargs)  # type: ignore[arg-type]
        self.entries: list[Entry] = []
        self.sizes: list[Text] = []
        self.show_names = False
        #: Symbols new in the profile's release, marked ``new``.
        self.new_names: frozenset[str] = frozenset()
        self._label_width: int | None = None

    def on_mount(self) -> None:
        self.add_column("value", key="value", width=VALUE_WIDTH)
        self.add_column("option", key="option")
        self.add_column("size", key="size", width=SIZE_WIDTH)

    def on_resize(self, event: events.Resize) -> None:
        # Long prompts are cut to the width so that the size column stays on screen.
        if self.entries and self._fit_width() != self._label_width:
            self.show(self.entries, self.sizes, self.cursor_row)

    def _fit_width(self) -> int | None:
        width = self.size.width
        return max(16, width - OTHER_COLUMNS) if width else None

    @property
    def current(self) -> Entry | None:
        if not self.entries or not 0 <= self.cursor_row < len(self.entries):
            return None
        return self.entries[self.cursor_row]

    def show(self, entries: list[Entry], sizes: list[Text], cursor: int = 0) -> None:
        """Replace the rows; keep the cursor at ``cursor`` (clamped)."""
        self.entries = entries
        self.sizes = sizes
        self._label_width = self._fit_width()
        self.clear()
        # The column fits this menu's labels: DataTable keeps the widest it ever held, which
        # pushed the size column off narrow screens after a menu with a long prompt.
        self.columns[ColumnKey("option")].content_width = 0
        rows = []
        for entry, size in zip(entries, sizes, strict=True):
            rows.append([Text(entry.value, style=self._style(entry)), self._label(entry), size])
        self.add_rows(rows)
        if entries:
            self.move_cursor(row=max(0, min(cursor, len(entries) - 1)), animate=False)

    def _style(self, entry: Entry) -> str:
        if not entry.visible:
            return "dim"
        return "bold" if entry.changeable else ""

    def _label(self, entry: Entry) -> Text:
        style = "" if entry.visible else "dim"
        if entry.node.item == COMMENT:
            style = "italic" if entry.visible else "dim italic"
        tail = Text()
        if self.show_names and entry.name and entry.prompt != entry.name:
            tail.append(f"  {entry.name}", style="dim cyan")
        if entry.name in self.new_names:
            tail.append(NEW_MARK, style="bold green")
        if entry.is_menu:
            tail.append("  --->", style="dim")
        text = Text("  " * entry.depth)
        prompt = Text(entry.prompt, style=style)
        if self._label_width is not None:
            # The prompt gives way first: the marks after it say what the entry is.
            room = self._label_width - len(text) - len(tail)
            if len(prompt) > room:
                prompt.truncate(max(room, 6), overflow="ellipsis")
        text.append_text(prompt)
        text.append_text(tail)
        if self._label_width is not None:
            text.truncate(self._label_width, overflow="ellipsis")
        return text
