"""The detail pane: what the highlighted entry is, where it lives, why it is locked."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.text import Text
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from busyconf.model.kconfig import SymbolInfo
from busyconf.model.menu import Entry
from busyconf.size.units import format_bytes, format_delta


def symbol_details(
    info: SymbolInfo,
    value: str,
    reason: str | None,
    cost: int | None = None,
    delta: int | None = None,
    full: bool = False,
    new_in: str | None = None,
) -> RenderableType:
    """The help and facts of one symbol; ``full`` adds everything for ``?``.

    ``new_in`` names the release that added the symbol, when it is the profile's.
    """
    head = Text()
    head.append(info.name, style="bold")
    head.append(f"  {info.type}", style="cyan")
    head.append(f" = {value!r}" if info.type in ("string",) else f" = {value}", style="bold")
    if info.prompt:
        head.append(f"  {info.prompt}", style="italic")
    facts = Text()

    def fact(label: str, text: str, style: str = "") -> None:
        facts.append(f"{label:<12}", style="dim")
        facts.append(text + "\n", style=style)

    if new_in:
        fact("release", f"new in {new_in}", "bold green")
    if info.applets:
        fact("applets", " ".join(info.applets))
    if reason:
        fact("locked", reason, "bold yellow")
    if cost:
        fact("costs", format_bytes(cost))
    if delta is not None:
        fact("toggling", format_delta(delta), "green" if delta < 0 else "red" if delta > 0 else "")
    fact("menu", " > ".join(info.menu_path) or "(top)")
    fact("defined at", ", ".join(info.locations))
    if info.depends_on:
        fact("depends on", info.depends_on)
    if info.selected_by:
        fact("selected by", info.selected_by)
    if info.implied_by:
        fact("implied by", info.implied_by)
    if info.choices and full:
        fact("choice of", " ".join(info.choices))
    help_text = Text(info.help.strip() or "(no help text)", style="" if info.help else "dim")
    return Group(head, Text(""), facts, help_text)


def menu_details(entry: Entry | None) -> Text:
    """What the pane says for a menu, comment or empty menu (no symbol to describe)."""
    if entry is None:
        return Text("This menu is empty (press a to show hidden options).", style="dim")
    text = Text(entry.prompt, style="bold")
    help_text = getattr(entry.node, "help", None)
    if help_text:
        text.append("\n\n" + help_text)
    if entry.is_menu:
        text.append("\n\nEnter opens this menu.", style="dim")
    return text


class DetailPane(ScrollView, can_focus=False):
    """Scrollable details of the highlighted entry (the mouse wheel scrolls it; Tab skips it).

    A line-API widget: new details redraw this pane only. (A Static in a scroll
    container grows to its text, and so laid out the whole screen on every key.)
    """

    DEFAULT_CSS = """
    DetailPane {
        overflow-x: hidden;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002 - Textual's name
        super().__init__(id=id)
        #: What the pane shows now.
        self.content: RenderableType = Text()
        self._lines: list[Strip] = []
        self._width = -1

    def show(self, renderable: RenderableType) -> None:
        self.content = renderable
        self._width = -1
        self.scroll_to(y=0, animate=False)
        self._lay_out()
        self.refresh()

    def _lay_out(self) -> None:
        """Wrap the details to the pane's width and size the scroll range to them."""
        width = self.scrollable_content_region.width
        if width <= 0 or width == self._width:
            return
        console = self.app.console
        lines = console.render_lines(self.content, console.options.update_width(width), pad=False)
        self._lines = [Strip(line) for line in lines]
        self._width = width
        # One column wide: the text is wrapped to the pane, so it never scrolls sideways.
        size = Size(1, len(self._lines))
        if size == self.virtual_size:
            return
        height = self.scrollable_content_region.height
        if (size.height > height) != (self.virtual_size.height > height):
            self.virtual_size = size  # the scroll bar comes or goes: that takes a layout
        else:
            # Same scroll bar, another range: no need to lay out the whole screen again.
            self.set_reactive(DetailPane.virtual_size, size)
            self._scroll_update(size)

    def on_resize(self) -> None:
        self._lay_out()

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        if width != self._width:
            # The scroll bar came or went: wrap again once this frame is drawn.
            self.call_after_refresh(self._lay_out)
        row = y + int(self.scroll_offset.y)
        if not 0 <= row < len(self._lines):
            return Strip.blank(width, self.rich_style)
        return self._lines[row].crop_extend(0, width, None).apply_style(self.rich_style)
