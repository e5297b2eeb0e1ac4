"""One line at the top: profile, release, arch, and whether there are unsaved changes."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static


class ProfileHeader(Static):
    """``busyconf  router.toml  BusyBox 1.38.0  mipsel  ● modified``."""

    def show(self, profile: str, release: str, arch: str, dirty: bool, description: str = "") -> None:
        text = Text()
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
        self.update(text)
