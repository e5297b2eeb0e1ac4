"""The size meter: estimated total and what the highlighted entry's key would make it."""

from __future__ import annotations

from rich.text import Text
from textual.widget import Widget

from busyconf.size.units import format_bytes, format_delta


def short_basis(basis: str) -> str:
    """The estimate's kind in a word or two, for a narrow meter.

    A coarse one keeps its ``± N %``, and any keeps the options it does not price.
    """
    head, sep, unpriced = basis.rpartition("; ")
    if not (sep and unpriced.endswith(" not priced")):
        head, sep, unpriced = basis, "", ""
    kind = "calibrated" if head.startswith("calibrated") else head.split(":", 1)[0]
    return kind + sep + unpriced


class SizeMeter(Widget):
    """``Estimated 1,232,232 B   Space LS=n: −2,792 B → 1,229,440 B   (basis)``.

    Laid out for its width: the total and the preview always show; the basis
    shortens, then goes, when the line would not fit.
    """

    DEFAULT_CSS = """
    SizeMeter {
        height: 1;
    }
    """

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.total: int | None = None
        self.basis = "size: n/a"
        self.delta: int | None = None
        self.label = ""

    def show(self, total: int | None, basis: str, delta: int | None, label: str = "") -> None:
        if (total, basis, delta, label) != (self.total, self.basis, self.delta, self.label):
            self.total, self.basis, self.delta, self.label = total, basis, delta, label
            self.refresh()

    @property
    def content(self) -> Text:
        """What the meter shows now."""
        return self.render()

    def render(self) -> Text:
        width = self.content_region.width or 200
        if self.total is None:
            text = Text()
            text.append("size: ", style="bold")
            text.append(self.basis if self.basis != "size: n/a" else "n/a", style="dim")
            return text
        for basis in (self.basis, short_basis(self.basis), ""):
            for word in ("Estimated ", ""):
                text = self._line(word, basis)
                if text.cell_len <= width:
                    return text
        return text

    def _line(self, word: str, basis: str) -> Text:
        assert self.total is not None
        text = Text()
        text.append(word + format_bytes(self.total), style="bold")
        if self.delta is not None and self.label:
            style = "green" if self.delta < 0 else ("red" if self.delta > 0 else "dim")
            text.append(f"   {self.label}: ", style="dim")
            text.append(format_delta(self.delta), style=style)
            text.append(f" → {format_bytes(self.total + self.delta)}", style="dim")
        if basis:
            text.append(f"   ({basis})", style="dim italic")
        return text
