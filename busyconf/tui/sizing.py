"""What the editor knows of sizes: the estimator it uses, the estimate, a key's preview.

Plain Python (no Textual): :class:`busyconf.tui.session.Session` keeps these
per configuration; the screens render them.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any, Protocol

from busyconf.errors import BusyconfError
from busyconf.model.config import Configuration


class Estimator(Protocol):
    """What ``busyconf.size.estimator_for`` returns (see the size layer)."""

    def estimate(self, config: Configuration) -> Any: ...

    def total(self, config: Configuration) -> int: ...

    @property
    def basis(self) -> str: ...

    @property
    def calibrated(self) -> bool: ...

    def delta(self, config: Configuration, name: str, new_value: str) -> int: ...

    def deltas(self, config: Configuration, changes: list[tuple[str, str]]) -> list[int]: ...

    def unpriced(self, config: Configuration) -> tuple[str, ...]: ...


@dataclass(frozen=True)
class SizeInfo:
    """The estimate for the current configuration, or why there is none."""

    total: int | None
    per_symbol: dict[str, int]
    basis: str


NO_SIZE = SizeInfo(None, {}, "size: n/a")


@dataclass(frozen=True)
class Preview:
    """What setting a symbol would give, computed on a copy of the real configuration.

    ``total`` is the estimate after the change, so the number shown before a
    key is the number after it; ``taken`` is False when Kconfig would keep
    another value (then there is no total).
    """

    name: str
    value: str
    taken: bool
    total: int | None
    delta: int | None


def load_estimator(release: str, arch: str) -> Estimator | None:
    """``busyconf.size.estimator_for(release, arch)``, or None when unavailable."""
    try:
        size = importlib.import_module("busyconf.size")
    except ImportError:
        return None
    factory = getattr(size, "estimator_for", None)
    if factory is None:
        return None
    try:
        return factory(release, arch)  # type: ignore[no-any-return]
    except BusyconfError:
        return None
