"""The measuring context: the tree, the exact engine, progress, and the one place that cancels."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from busyconf.errors import Interrupted
from busyconf.model.dotconfig import dotconfig_text
from busyconf.model.kconfig import KconfigTree
from busyconf.size.exact import ExactEngine
from busyconf.size.linkmap import LinkMap, read_map


@dataclass(frozen=True)
class CalibrationProgress:
    """``phase``: build, relink, toggle, done; ``done``/``total`` within the phase."""

    phase: str
    done: int
    total: int
    message: str = ""
    reference: str = "full"


Progress = Callable[[CalibrationProgress], None]


def _nothing() -> None:
    pass


@dataclass
class Measuring:
    """What every measuring step needs: where it links, whom it tells, and when it stops.

    ``save`` stores what was measured so far (the state of the reference
    being measured); :meth:`checkpoint` is the only place a cancelled
    calibration stops: it saves, then raises :class:`Interrupted`.
    """

    tree: KconfigTree
    eng: ExactEngine
    work: Path
    progress: Progress | None = None
    cancel: threading.Event | None = None
    save: Callable[[], None] = _nothing
    reference: str = "full"

    def emit(self, phase: str, done: int, total: int, message: str = "") -> None:
        if self.progress is not None:
            self.progress(CalibrationProgress(phase, done, total, message, self.reference))

    def checkpoint(self) -> None:
        """Save and stop if the calibration was cancelled."""
        if self.cancel is not None and self.cancel.is_set():
            self.save()
            raise Interrupted("calibration cancelled")

    @property
    def arch(self) -> str:
        return self.eng.wt.arch.name

    @property
    def toolchain_kind(self) -> str:
        return self.eng.wt.toolchain.kind

    def config_text(self, assignments: list[tuple[str, str]]) -> str:
        return dotconfig_text(self.tree, assignments)

    def built_values(self) -> dict[str, str]:
        """The values of the configuration the engine built last."""
        return dict(self.eng.built().values)

    def link_map(self, tag: str, defsyms: Iterable[str], extra: Iterable[str] = ()) -> LinkMap:
        return link_map(self.eng, self.work, tag, defsyms, extra)


def link_map(
    eng: ExactEngine, work: Path, tag: str, defsyms: Iterable[str], extra: Iterable[str] = ()
) -> LinkMap:
    """The engine's objects relinked with ``defsyms`` defined away (0): the sections kept."""
    mp = work / f"{tag}.map"
    out = work / f"{tag}.bin"
    size = eng.link([f"--defsym={d}=0" for d in defsyms] + [*extra, f"-Map={mp}"], output=out)
    result = read_map(mp, size)
    mp.unlink()
    out.unlink(missing_ok=True)
    return result
