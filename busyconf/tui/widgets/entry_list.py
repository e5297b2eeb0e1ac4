"""The entries of the selected menu: value, prompt (or name) and size, one line each.

A line-API widget rather than a DataTable: a key that changes one value
redraws the lines that changed, not the whole table, and the columns are laid
out for the width at hand so the size column never leaves the screen.
"""

from __future__ import annotations

import functools

from kconfiglib import COMMENT
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from busyconf.model.menu import Entry

#: Columns the value (``[*]``, ``(64)``) gets; longer values are cut.
VALUE_WIDTH = 6
#: Columns the size (``+45.2K``, ``~12.4K``) gets, right-aligned.
SIZE_WIDTH = 8
#: The narrowest the prompt gets before the value and size columns would give way.
MIN_LABEL = 12
#: The mark after an option the profile's release added (the detail pane says which release).
NEW_MARK = " new"


class EntryList(ScrollView, can_focus=True):
    """A menu's entries as menuconfig lists them, with each option's size on the right."""

    BINDINGS = [
        Binding("enter", "select", "Select", show=False),
        Binding("up", "cursor(-1)", "Up", show=False),
        Binding("down", "cursor(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home", "first", "First", show=False),
        Binding("end", "last", "Last", show=False),
    ]

    COMPONENT_CLASSES = {"entry-list--cursor"}

    DEFAULT_CSS = """
    EntryList {
        background: $surface;
        color: $foreground;
        overflow-x: hidden;
        & > .entry-list--cursor {
            background: $block-cursor-blurred-background;
        }
        &:focus > .entry-list--cursor {
            background: $block-cursor-background;
            color: $block-cursor-foreground;
            text-style: $block-cursor-text-style;
        }
    }
    """

    class Highlighted(Message):
        """The cursor moved to another row."""

        def __init__(self, entry_list: EntryList, row: int) -> None:
            super().__init__()
            self.entry_list = entry_list
            self.row = row

        @property
        def control(self) -> EntryList:
            return self.entry_list

    class Selected(Highlighted):
        """Enter (or a double click) on a row."""

    class ValueClicked(Highlighted):
        """A click on a row's value: toggle it."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.entries: list[Entry] = []
        self.sizes: list[Text] = []
        self.show_names = False
        #: Symbols new in the profile's release, marked ``new``.
        self.new_names: frozenset[str] = frozenset()
        self.cursor_row = 0
        self._strips: dict[tuple[int, int, bool], Strip] = {}

    # -- content -----------------------------------------------------------------
    @property
    def row_count(self) -> int:
        return len(self.entries)

    @property
    def current(self) -> Entry | None:
        if not self.entries or not 0 <= self.cursor_row < len(self.entries):
            return None
        return self.entries[self.cursor_row]

    def show(self, entries: list[Entry], sizes: list[Text], cursor: int = 0) -> None:
        """Replace the rows (redrawing only the lines that changed); keep the cursor at ``cursor``.

        Posts no Highlighted: the caller, having just drawn everything, draws the details too.
        """
        same_rows = len(entries) == len(self.entries) and all(
            a.node is b.node for a, b in zip(entries, self.entries, strict=True)
        )
        old_entries, old_sizes = self.entries, self.sizes
        self.entries = list(entries)
        self.sizes = list(sizes)
        if same_rows:
            for i, (entry, size) in enumerate(zip(entries, sizes, strict=True)):
                if entry != old_entries[i] or size != old_sizes[i]:
                    self._redraw(i)
        else:
            self._strips.clear()
            # One column wide: rows are laid out to the view's width, so there is never sideways scrolling.
            self.virtual_size = Size(1, len(entries))
            self.refresh()
        self.move_cursor(row=cursor, scroll=not same_rows, announce=False)
        if not same_rows:
            self.scroll_to_region(Region(0, self.cursor_row, 1, 1), animate=False, force=True)

    def set_size(self, row: int, size: Text) -> None:
        """Put a newly computed size in one row."""
        if 0 <= row < len(self.sizes) and size != self.sizes[row]:
            self.sizes[row] = size
            self._redraw(row)

    def get_row_at(self, row: int) -> list[Text]:
        """The value, label and size cells of ``row`` as they are drawn."""
        entry = self.entries[row]
        return [self._value(entry), self._label(entry, self._label_width()), self.sizes[row]]

    def refresh_labels(self) -> None:
        """Redraw every row (after ``show_names`` or ``new_names`` changed)."""
        self._strips.clear()
        self.refresh()

    # -- cursor --------------------------------------------------------------------
    def move_cursor(
        self, *, row: int, animate: bool = False, scroll: bool = True, announce: bool = True
    ) -> None:
        """Put the cursor on ``row`` (clamped), scroll it into view and (``announce``) say so."""
        row = max(0, min(row, len(self.entries) - 1)) if self.entries else 0
        old = self.cursor_row
        self.cursor_row = row
        if old != row:
            self._redraw(old)
        self._redraw(row)
        if scroll and self.entries:
            self.scroll_to_region(Region(0, row, 1, 1), animate=False, immediate=True)
        if announce:
            self.post_message(self.Highlighted(self, row))

    def action_cursor(self, step: int) -> None:
        self.move_cursor(row=self.cursor_row + step)

    def action_page(self, direction: int) -> None:
        self.move_cursor(row=self.cursor_row + direction * max(1, self.scrollable_content_region.height - 1))

    def action_first(self) -> None:
        self.move_cursor(row=0)

    def action_last(self) -> None:
        self.move_cursor(row=len(self.entries) - 1)

    def action_select(self) -> None:
        if self.entries:
            self.post_message(self.Selected(self, self.cursor_row))

    def on_click(self, event: events.Click) -> None:
        row = event.y + int(self.scroll_offset.y)
        if not 0 <= row < len(self.entries):
            return
        event.stop()
        self.focus()
        self.move_cursor(row=row)
        if event.x < VALUE_WIDTH:
            self.post_message(self.ValueClicked(self, row))
        elif event.chain >= 2:
            self.post_message(self.Selected(self, row))

    def on_resize(self, event: events.Resize) -> None:
        self._strips.clear()
        self.virtual_size = Size(1, len(self.entries))

    def on_focus(self) -> None:
        self._redraw(self.cursor_row)

    def on_blur(self) -> None:
        self._redraw(self.cursor_row)

    # -- drawing -------------------------------------------------------------------
    def _redraw(self, row: int) -> None:
        for key in [k for k in self._strips if k[0] == row]:
            del self._strips[key]
        if 0 <= row - int(self.scroll_offset.y) < self.size.height:
            # ScrollView.refresh_line takes the row in the content, not on screen.
            self.refresh_line(row)

    def _label_width(self) -> int:
        return max(MIN_LABEL, self.scrollable_content_region.width - VALUE_WIDTH - SIZE_WIDTH - 2)

    def render_line(self, y: int) -> Strip:
        row = y + int(self.scroll_offset.y)
        width = self.scrollable_content_region.width
        if not 0 <= row < len(self.entries):
            return Strip.blank(width, self.rich_style)
        cursor = row == self.cursor_row
        key = (row, width, cursor and self.has_focus)
        strip = self._strips.get(key)
        if strip is None:
            strip = self._strips[key] = self.render_row(row, width, cursor)
        return strip

    def render_row(self, row: int, width: int, cursor: bool) -> Strip:
        """One row as drawn: value, label, size right-aligned, cut or padded to ``width``."""
        entry = self.entries[row]
        label_width = self._label_width()
        value = self._value(entry)
        label = self._label(entry, label_width)
        size = self.sizes[row]
        if size.cell_len > SIZE_WIDTH:
            size = size.copy()
            size.truncate(SIZE_WIDTH, overflow="ellipsis")
        base = self.rich_style
        if cursor:
            base += self.get_component_rich_style("entry-list--cursor")
        segments = [Segment(value.plain, _style(value.style)), Segment(" ")]
        segments += _segments(label)
        segments.append(Segment(" " * (label_width - label.cell_len + 1 + SIZE_WIDTH - size.cell_len)))
        segments += _segments(size)
        return Strip(segments).crop_extend(0, width, None).apply_style(base)

    def _value(self, entry: Entry) -> Text:
        value = entry.value
        if len(value) > VALUE_WIDTH:
            value = value[: VALUE_WIDTH - 2] + "…)"
        return Text(value.ljust(VALUE_WIDTH), style=self._style(entry))

    def _style(self, entry: Entry) -> str:
        if not entry.visible:
            return "dim"
        return "bold" if entry.changeable else ""

    def _label(self, entry: Entry, width: int) -> Text:
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
        # The prompt gives way first: the marks after it say what the entry is.
        room = width - len(text) - len(tail)
        if len(prompt) > room:
            prompt.truncate(max(room, 6), overflow="ellipsis")
        text.append_text(prompt)
        text.append_text(tail)
        text.truncate(width, overflow="ellipsis")
        return text


@functools.lru_cache(maxsize=64)
def _parse(style: str) -> Style:
    return Style.parse(style)


def _style(style: str | Style) -> Style | None:
    if isinstance(style, Style):
        return style
    return _parse(style) if style else None


def _segments(text: Text) -> list[Segment]:
    """``text`` as segments, styled span by span (what Rich's render gives, without a console)."""
    plain = text.plain
    if not text.spans:
        return [Segment(plain, _style(text.style))] if plain else []
    base = _style(text.style)
    cuts = sorted({0, len(plain), *(s.start for s in text.spans), *(s.end for s in text.spans)})
    out = []
    for a, b in zip(cuts, cuts[1:], strict=False):
        if a >= b:
            continue
        style = base
        for span in text.spans:
            if span.start <= a and span.end >= b:
                part = _style(span.style)
                if part is not None:
                    style = part if style is None else style + part
        out.append(Segment(plain[a:b], style))
    return out
