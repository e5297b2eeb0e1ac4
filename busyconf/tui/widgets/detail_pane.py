"""The detail pane: what the highlighted entry is, where it lives, why it is locked."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from busyconf.model.kconfig import SymbolInfo
from busyconf.tui.menu import Entry
from busyconf.tui.widgets.size_meter import format_bytes, format_delta


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


class DetailPane(VerticalScroll, can_focus=False):
    """Scrollable details of the highlighted entry (the mouse wheel scrolls it; Tab skips it)."""

    def compose(self) -> ComposeResult:
        yield Static(id="detail-body")

    def show(self, renderable: RenderableType) -> None:
        self.query_one("#detail-body", Static).update(renderable)
        self.scroll_home(animate=False)
