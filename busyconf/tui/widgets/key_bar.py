"""The key line at the bottom of every screen: one widget, drawn as one line of text.

Textual's ``Footer`` mounts a widget per key and mounts them all again whenever
the focus or an action's state changes; at start-up that was about 30 ms before
the first menu showed. This draws the same keys, in the same order and colours,
as a single line, and a click on a key presses it.
"""

from __future__ import annotations

from typing import NamedTuple

from rich.style import Style
from rich.text import Text
from textual import events
from textual.screen import Screen
from textual.widget import Widget

DIM = Style(dim=True)


class KeySpan(NamedTuple):
    """Where one key is drawn (columns ``start`` to ``end``) and what it presses."""

    start: int
    end: int
    key: str
    enabled: bool


class KeyBar(Widget, can_focus=False):
    """The screen's shown bindings: ``key description`` pairs, the palette key at the right."""

    ALLOW_SELECT = False
    COMPONENT_CLASSES = {"key-bar--key", "key-bar--description"}
    DEFAULT_CSS = """
    KeyBar {
        dock: bottom;
        height: 1;
        color: $footer-foreground;
        background: $footer-background;
        .key-bar--key {
            color: $footer-key-foreground;
            background: $footer-key-background;
            text-style: bold;
        }
        .key-bar--description {
            color: $footer-description-foreground;
            background: $footer-description-background;
        }
    }
    """

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002 - Textual's name
        super().__init__(id=id)
        self.spans: list[KeySpan] = []

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _bindings_changed(self, screen: Screen[object]) -> None:
        if self.is_attached and screen is self.screen:
            self.refresh()

    def keys(self) -> list[tuple[str, str, str, bool]]:
        """``(key, shown key, description, enabled)`` per action, the palette's last."""
        shown: dict[str, tuple[str, str, str, bool]] = {}
        palette: tuple[str, str, str, bool] | None = None
        palette_key = self.app.COMMAND_PALETTE_BINDING if self.app.ENABLE_COMMAND_PALETTE else None
        for key, (_node, binding, enabled, _tooltip) in self.screen.active_bindings.items():
            entry = (key, self.app.get_key_display(binding), binding.description, enabled)
            if key == palette_key:
                palette = entry
            elif binding.show and binding.action not in shown:
                shown[binding.action] = entry
        return [*shown.values(), *([palette] if palette else [])]

    def render(self) -> Text:
        width = self.size.width
        key_style = self.get_component_rich_style("key-bar--key")
        text_style = self.get_component_rich_style("key-bar--description")
        keys = self.keys()
        palette = keys.pop() if keys and keys[-1][0] == self.app.COMMAND_PALETTE_BINDING else None
        line = Text(no_wrap=True, overflow="crop", end="")
        spans: list[KeySpan] = []

        def add(key: str, display: str, description: str, enabled: bool) -> None:
            start = line.cell_len
            dim = Style() if enabled else DIM
            line.append(display, key_style + dim)
            if description:
                line.append(f" {description}", text_style + dim)
            spans.append(KeySpan(start, line.cell_len, key, enabled))
            line.append(" ")

        for entry in keys:
            add(*entry)
        if palette is not None:
            tail = Text(no_wrap=True, end="")
            tail.append(palette[1], key_style)
            tail.append(f" {palette[2]}", text_style)
            room = max(0, width - tail.cell_len - 1)
            line.truncate(room, pad=True)
            spans = [s for s in spans if s.end <= room]
            spans.append(KeySpan(room + 1, width, palette[0], palette[3]))
            line.append("▏")
            line.append_text(tail)
        self.spans = spans
        return line

    def key_at(self, x: int) -> KeySpan | None:
        """The key drawn at column ``x``, if any."""
        return next((span for span in self.spans if span.start <= x < span.end), None)

    def on_click(self, event: events.Click) -> None:
        span = self.key_at(event.x)
        if span is None:
            return
        event.stop()
        if span.enabled:
            self.app.simulate_key(span.key)
        else:
            self.app.bell()
