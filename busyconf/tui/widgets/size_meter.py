"""The size meter: estimated total and what toggling the highlighted entry does."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static


def format_bytes(n: int) -> str:
    """``1,232,232 B`` style; the unit stays bytes so numbers compare at a glance."""
    return f"{n:,} B"


def format_delta(n: int) -> str:
    if n == 0:
        return "±0 B"
    return f"{'+' if n > 0 else '−'}{abs(n):,} B"


def short_size(n: int) -> str:
    """A compact size for table cells: ``14.2K``, ``812``."""
    if abs(n) >= 1024:
        return f"{n / 1024:.1f}K"
    return str(n)


class SizeMeter(Static):
    """``Estimated 1,232,232 B`` plus the delta of the highlighted entry."""

    def show(self, total: int | None, basis: str, delta: int | None, label: str = "") -> None:
        text = Text()
        if total is None:
            text.append("size: ", style="bold")
            text.append(basis if basis != "size: n/a" else "n/a", style="dim")
            self.update(text)
            return
        text.append("Estimated ", style="bold")
        text.append(format_bytes(total), style="bold")
        if delta is not None and label:
            style = "green" if delta < 0 else ("red" if delta > 0 else "dim")
            text.append(f"   {label}: ", style="dim")
            text.append(format_delta(delta), style=style)
            text.append(f" → {format_bytes(total + delta)}", style="dim")
        text.append(f"   ({basis})", style="dim italic")
        self.update(text)
