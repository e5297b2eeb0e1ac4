"""The size column of a listed menu: the figure each row's key would change the total by.

Plain Python over the session (no Textual): the main screen asks for the cells
when it lists a menu, and hands in the exact previews its worker computes.
A row shows the exact figure once :meth:`Session.preview` knows it, the size
model's quick figure marked ``~`` until then (for the rows on screen), or
nothing.
"""

from __future__ import annotations

import kconfiglib
from kconfiglib import MenuNode, Symbol
from rich.text import Text

from busyconf.model.menu import Entry
from busyconf.size.units import short_size, signed_size
from busyconf.tui.session import Session
from busyconf.tui.sizing import Preview

#: A row the exact pass should price: (row, node, symbol, value its key sets).
Wanted = tuple[int, MenuNode, str, str]


def key_value(entry: Entry) -> str | None:
    """The value Space gives a bool option's row (None: not a toggle). Call with values applied."""
    item = entry.node.item
    if not isinstance(item, Symbol) or item.orig_type != kconfiglib.BOOL or not entry.changeable:
        return None
    if item.choice is not None and item.visibility == 2:
        return None if item.choice.selection is item else "y"
    return "n" if item.tri_value == 2 else "y"


def size_cell(delta: int | None, new: str, exact: bool) -> Text:
    """A row that is on shows what it costs; a row that is off, what switching it on adds."""
    if delta is None:
        return Text("")
    text = short_size(-delta) if new == "n" else signed_size(delta)
    if exact:
        return Text(text, style="" if new == "n" else "dim")
    return Text("~" + text, style="dim italic")


class RowSizes:
    """Which rows of the listed menu toggle, and which of them show their exact size."""

    def __init__(self, session: Session) -> None:
        self.session = session
        #: The value Space gives each listed row's symbol (None: not a toggle).
        self.keys: list[str | None] = []
        self._rows: list[Entry] = []
        self._exact: set[int] = set()

    def cells_for(self, rows: list[Entry], keys: list[str | None], window: range) -> list[Text]:
        """The cells for a new listing; quick figures only for the rows in ``window``."""
        s = self.session
        self._rows, self.keys, self._exact = rows, keys, set()
        if not s.size_ready:
            return [Text("") for _ in rows]
        cells: list[Text | None] = []
        guesses: list[tuple[str, str]] = []
        for i, (entry, new) in enumerate(zip(rows, keys, strict=True)):
            known = s.known_preview(entry.name, new) if entry.name and new else None
            if known is not None and new is not None:
                cells.append(size_cell(known.delta, new, exact=True))
                self._exact.add(i)
            elif entry.name and new and i in window:
                cells.append(None)
                guesses.append((entry.name, new))
            else:
                cells.append(Text(""))
        quick = iter(zip(guesses, s.quick_deltas(guesses), strict=True))
        out = []
        for cell in cells:
            if cell is None:
                (_, new), delta = next(quick)
                cell = size_cell(delta, new, exact=False)
            out.append(cell)
        return out

    def key_at(self, row: int) -> str | None:
        return self.keys[row] if 0 <= row < len(self.keys) else None

    @property
    def settled(self) -> bool:
        """Whether every toggling row shows its exact size."""
        return self.session.size_ready and all(
            i in self._exact for i, (e, k) in enumerate(self._pairs()) if e.name is not None and k is not None
        )

    def pending(self, window: range) -> tuple[list[Wanted], list[tuple[int, MenuNode, Preview]]]:
        """Rows still to price (those in ``window`` first), and rows priced since they were drawn."""
        s = self.session
        wanted: list[Wanted] = []
        known_now: list[tuple[int, MenuNode, Preview]] = []
        for i, (e, k) in enumerate(self._pairs()):
            if e.name is None or k is None or i in self._exact:
                continue
            known = s.known_preview(e.name, k)
            if known is None:
                wanted.append((i, e.node, e.name, k))
            else:
                known_now.append((i, e.node, known))
        wanted.sort(key=lambda w: w[0] not in window)
        return wanted, known_now

    def exact(self, generation: int, row: int, node: MenuNode, preview: Preview) -> Text | None:
        """The exact cell for ``row``, or None when the values or the listing moved on."""
        if generation != self.session.generation or not 0 <= row < len(self._rows):
            return None
        if self._rows[row].node is not node:
            return None
        self._exact.add(row)
        return size_cell(preview.delta, preview.value, exact=True)

    def _pairs(self) -> list[tuple[Entry, str | None]]:
        return list(zip(self._rows, self.keys, strict=True))
