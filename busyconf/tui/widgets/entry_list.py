"""The entries of the selected menu: value, prompt (or name) and size."""

from __future__ import annotations

from kconfiglib import COMMENT
from rich.text import Text
from textual.widgets import DataTable

from busyconf.tui.menu import Entry


class EntryList(DataTable[Text]):
    """A menu's entries as menuconfig lists them, one row each."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(cursor_type="row", zebra_stripes=False, **kwargs)  # type: ignore[arg-type]
        self.entries: list[Entry] = []
        self.show_names = False

    def on_mount(self) -> None:
        self.add_column("value", key="value", width=8)
        self.add_column("option", key="option")
        self.add_column("size", key="size", width=10)

    @property
    def current(self) -> Entry | None:
        if not self.entries or not 0 <= self.cursor_row < len(self.entries):
            return None
        return self.entries[self.cursor_row]

    def show(self, entries: list[Entry], sizes: list[Text], cursor: int = 0) -> None:
        """Replace the rows; keep the cursor at ``cursor`` (clamped)."""
        self.entries = entries
        self.clear()
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
        text = Text("  " * entry.depth)
        style = "" if entry.visible else "dim"
        if entry.node.item == COMMENT:
            style = "italic" if entry.visible else "dim italic"
        text.append(entry.prompt, style=style)
        if self.show_names and entry.name and entry.prompt != entry.name:
            text.append(f"  {entry.name}", style="dim cyan")
        if entry.is_menu:
            text.append("  --->", style="dim")
        return text
