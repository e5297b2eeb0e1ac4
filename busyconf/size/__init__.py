"""What every applet and feature costs on the target CPU.

::

    from busyconf.size import estimator_for

    est = estimator_for("1.38.0", "x86_64")       # calibrated table, else coarse labels
    e = est.estimate(config)                      # Configuration or {name: value}
    e.total, e.per_symbol["LS"], e.basis
    est.delta(config, "LS", "n")                  # bytes the total changes by

Exact sizes (seconds, from objects cached per value of the symbols they
depend on, then the real linker) come from :mod:`busyconf.size.exact`::

    from busyconf.size.exact import engine_for
    engine_for("1.38.0", "x86_64").measure(dotconfig_text).size

Tables come from the user's cache (``busyconf size calibrate``), else the ones
shipped in ``busyconf/size/tables/``; a corrupt or mismatched table raises
:class:`~busyconf.size.table.SizeTableError` (a UserError naming the file and
the calibrate command) unless ``on_bad_table="coarse"``, which falls back to the
labels and says why in :attr:`Estimator.warning`. Nothing here imports Rich.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

import kconfiglib

from busyconf.model.config import Configuration
from busyconf.model.deps import dependants, holds
from busyconf.model.kconfig import KconfigTree, load_tree
from busyconf.size.coarse_range import CoarseRange
from busyconf.size.cost_model import Evaluation, SizeModel, enabled_names
from busyconf.size.labels import label_model
from busyconf.size.table import SizeTableError, TableKey, find_table

__all__ = ["UNPRICED", "CoarseRange", "Estimate", "Estimator", "SizeTableError", "TableKey", "estimator_for"]


#: Options no size table prices, and why: an estimate names them when they are on.
UNPRICED = {
    "DEBUG_PESSIMIZE": "-O0 depends on DEBUG, which the calibration references have off; "
    "such builds measured 2 to 2.5 times the estimate",
}


@dataclass(frozen=True)
class Estimate:
    """An estimated stripped binary size.

    ``per_symbol``: bytes each enabled symbol costs (what switching it off alone
    saves); ``shared``: bytes of code two or more enabled symbols use, which no
    single symbol pays for.
    """

    total: int
    per_symbol: dict[str, int]
    basis: str
    calibrated: bool
    shared: int = 0
    warning: str | None = field(default=None)
    #: The options of :data:`UNPRICED` that are on: the total leaves out what they cost.
    unpriced: tuple[str, ...] = ()


ConfigLike = Configuration | Mapping[str, str]


def _values(config: ConfigLike) -> Mapping[str, str]:
    return config.values if isinstance(config, Configuration) else config


class Estimator:
    """Estimates for one (release, arch, toolchain); thread-safe, incremental."""

    def __init__(self, model: SizeModel, tree: KconfigTree, warning: str | None = None) -> None:
        self.model = model
        self.tree = tree
        self.warning = warning
        self._eval = Evaluation(model)
        self._lock = threading.Lock()
        self._children = dependants(tree)
        self._default_y = _default_y(tree)
        self._closures: dict[str, list[str]] = {}

    @property
    def basis(self) -> str:
        return self.model.basis

    @property
    def calibrated(self) -> bool:
        return self.model.calibrated

    @property
    def coarse_range(self) -> CoarseRange | None:
        """The coarse model's measured error range (None: calibrated, or never measured on this CPU)."""
        found = self.model.info.get("range")
        return found if isinstance(found, CoarseRange) else None

    def estimate(self, config: ConfigLike, breakdown: bool = True) -> Estimate:
        """Total and (unless ``breakdown`` is False) the per-symbol costs of ``config``."""
        values = _values(config)
        on = enabled_names(values, self.model)
        with self._lock:
            ev = self._eval
            ev.sync(on)
            names = list(ev.enabled) if breakdown else []
            costs = ev.savings([self._switched_off(values, n) for n in names])
            per = dict(zip(names, costs, strict=True))
            return Estimate(
                total=max(0, ev.total),
                per_symbol={n: c for n, c in per.items() if c},
                basis=self.basis,
                calibrated=self.calibrated,
                shared=ev.shared() if breakdown else 0,
                warning=self.warning,
                unpriced=self.unpriced(values),
            )

    @staticmethod
    def unpriced(config: ConfigLike) -> tuple[str, ...]:
        """The options of :data:`UNPRICED` on in ``config``."""
        values = _values(config)
        return tuple(n for n in UNPRICED if values.get(n) == "y")

    def total(self, config: ConfigLike) -> int:
        return self.estimate(config, breakdown=False).total

    def delta(self, config: ConfigLike, name: str, new_value: str) -> int:
        """Bytes the total changes by when ``name`` is set to ``new_value`` in ``config``.

        Switching a symbol off also switches off what depends on it; switching
        it on also brings its ``default y`` sub-options, as Kconfig would.
        """
        return self.deltas(config, [(name, new_value)])[0]

    def deltas(self, config: ConfigLike, changes: Sequence[tuple[str, str]]) -> list[int]:
        """:meth:`delta` of each ``(name, new_value)`` on its own, priced in one pass."""
        values = _values(config)
        on = enabled_names(values, self.model)
        out = []
        with self._lock:
            ev = self._eval
            ev.sync(on)
            before = ev.total
            for name, new_value in changes:
                flips = self._flips(values, name, new_value)
                for n, v in flips.items():
                    ev.set(n, v)
                out.append(ev.total - before)
                for n, v in flips.items():
                    ev.set(n, not v)
        return out

    def _flips(self, values: Mapping[str, str], name: str, new_value: str) -> dict[str, bool]:
        """The symbols setting ``name`` to ``new_value`` switches on (True) or off (False)."""
        changes: dict[str, bool] = {}
        if new_value == "y":
            if values.get(name) != "y":
                changes[name] = True
                for child in self._closure(name):
                    if child in self._default_y and values.get(child) != "y":
                        changes[child] = True
        elif values.get(name) == "y":
            changes = {n: False for n in self._switched_off(values, name)}
        return changes

    def _switched_off(self, values: Mapping[str, str], name: str) -> list[str]:
        """``name`` and the enabled symbols whose ``depends on`` fails once it is off."""
        off = {name}
        out = [name]
        for child in self._closure(name):
            if values.get(child) == "y" and not holds(self.tree.symbols[child].direct_dep, values, off):
                off.add(child)
                out.append(child)
        return out

    def _closure(self, name: str) -> list[str]:
        """Symbols whose ``depends on`` mentions ``name``, directly or through one another (cached)."""
        cached = self._closures.get(name)
        if cached is None:
            cached = self._closures[name] = self._walk(name)
        return cached

    def _walk(self, name: str) -> list[str]:
        out: list[str] = []
        seen = {name}
        stack = [name]
        while stack:
            for child in self._children.get(stack.pop(), ()):
                if child not in seen:
                    seen.add(child)
                    out.append(child)
                    stack.append(child)
        return out


def _default_y(tree: KconfigTree) -> frozenset[str]:
    out = set()
    for name, sym in tree.symbols.items():
        for value, _cond in sym.defaults:
            if isinstance(value, kconfiglib.Symbol) and value.name == "y":
                out.add(name)
                break
    return frozenset(out)


@lru_cache(maxsize=32)
def _coarse(release: str, arch: str) -> SizeModel:
    return label_model(load_tree(release), arch)


def estimator_for(release: str, arch: str, toolchain: str = "zig", on_bad_table: str = "raise") -> Estimator:
    """The best estimator for (release, arch, toolchain).

    A calibrated table (user cache, then shipped) when there is one; otherwise
    the coarse, clearly labelled estimate from BusyBox's prompt labels.

    Raises:
        SizeTableError: a table exists but is corrupt or mismatched (unless
            ``on_bad_table="coarse"``).
    """
    tree = load_tree(release)
    key = TableKey(release, arch, toolchain)
    try:
        found = find_table(key)
    except SizeTableError as e:
        if on_bad_table != "coarse":
            raise
        return Estimator(_coarse(release, arch), tree, warning=str(e))
    if found is None:
        return Estimator(_coarse(release, arch), tree)
    data, where = found
    return Estimator(SizeModel.from_dict(data, where), tree)
