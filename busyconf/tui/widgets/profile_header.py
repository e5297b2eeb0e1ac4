"""One line at the top: profile, release, arch, and whether there are unsaved changes."""

from __future__ import annotations

from rich.text import Text
from textual.widget import Widget


class ProfileHeader(Widget):
    """``busyconf  router.toml  BusyBox 1.38.0  mipsel  ● modified``.

    A plain widget, not a Static: its height is fixed, so a change redraws this
    line only (a Static's update lays out the whole screen again, on every key).
    """

    DEFAULT_CSS = """
    ProfileHeader {
        height: 1;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002 - Textual's name
        super().__init__(id=id)
        self.content = Text()

    def show(self, profile: str, release: str, arch: str, dirty: bool, description: str = "") -> None:
        text = Text(no_wrap=True, overflow="ellipsis", end="")
        text.append(" busyconf ", style="bold reverse")
        text.append(f"  {profile}", style="bold")
        text.append("   BusyBox ", style="dim")
        text.append(release, style="bold")
        text.append("   arch ", style="dim")
        text.append(arch, style="bold")
        if dirty:
            text.append("   ● modified", style="bold yellow")
        if description:
            text.append(f"   {description}", style="dim italic")
        if text != self.content:
            self.content = text
            self.refresh()

    def render(self) -> Text:
        return self.content
