"""Fit a profile into a size budget: removals that reach it, cheapest loss first.

Each step ranks what is still on by *loss per byte saved*: a feature option
costs 1 unit of loss, an applet 3 units per applet it provides (losing a
command hurts more than losing an option), and the size model says how many
bytes switching the symbol off saves. The best one goes, the configuration is
resolved and estimated again, until the estimate is within the budget. A last
pass puts back removals, most expensive loss first, that the budget no longer
needs. The shell, the ``busybox`` applet, ``STATIC`` and ``--keep`` applets are
never removed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from busyconf.errors import UserError
from busyconf.model.config import Configuration, resolve
from busyconf.model.kconfig import KconfigTree

FEATURE_LOSS = 1.0
APPLET_LOSS = 3.0
PROTECTED_SYMBOLS = frozenset({"BUSYBOX", "STATIC", "ASH", "SH_IS_ASH", "HUSH", "SH_IS_HUSH"})

#: No BusyBox comes near this; larger numbers are typos (and 400 digits overflow a float).
MAX_BUDGET = 1024**4
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([KMG]?)(?:i?B)?\s*$", re.IGNORECASE)


def parse_size(text: str) -> int:
    """``600K`` -> 614400, ``1.5M`` -> 1572864, ``90000`` -> 90000 (K = 1024)."""
    m = _SIZE.match(text)
    if not m:
        raise UserError(f"bad budget {text!r}: expected bytes or a size like 600K or 1.2M")
    if len(m.group(1)) > 20:
        raise UserError(f"bad budget {text[:30]!r}...: a number of at most 20 digits")
    value = float(m.group(1)) * {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3}[m.group(2).upper()]
    if value < 1:
        raise UserError(f"bad budget {text!r}: must be at least 1 byte")
    if value > MAX_BUDGET:
        raise UserError(f"bad budget {text!r}: more than 1 TiB")
    return int(value)


def format_size(n: int) -> str:
    return f"{n / 1024:.1f}K" if n < 1024 * 1024 else f"{n / 1024 / 1024:.2f}M"


class EstimateLike(Protocol):
    """The part of ``busyconf.size.Estimate`` the budget reads."""

    @property
    def total(self) -> int: ...

    @property
    def per_symbol(self) -> dict[str, int]: ...

    @property
    def basis(self) -> str: ...


class SizeEstimator(Protocol):
    """The part of ``busyconf.size.Estimator`` the budget uses."""

    def estimate(self, config: Configuration, breakdown: bool = True) -> EstimateLike: ...


@dataclass(frozen=True)
class Removal:
    """One symbol switched off, the bytes the estimate saved and the applets lost."""

    symbol: str
    saved: int
    applets: tuple[str, ...]
    loss: float


@dataclass(frozen=True)
class BudgetPlan:
    """The removals in order and the estimates before and after."""

    budget: int
    before: int
    after: int
    removals: tuple[Removal, ...]
    config: Configuration
    basis: str

    @property
    def changes(self) -> list[tuple[str, str]]:
        return [(r.symbol, "n") for r in self.removals]


def _applet_symbols(tree: KconfigTree) -> dict[str, tuple[str, ...]]:
    out: dict[str, list[str]] = {}
    for a in tree.applets:
        out.setdefault(a.requires[0], []).append(a.name)
    return {k: tuple(sorted(set(v))) for k, v in out.items()}


def _protected(tree: KconfigTree, keep: Sequence[str]) -> set[str]:
    keep_set = set(keep)
    protected = set(PROTECTED_SYMBOLS)
    for a in tree.applets:
        if a.name in keep_set:
            protected.update(a.requires)
    return protected


def _candidates(tree: KconfigTree, config: Configuration, protected: set[str]) -> list[str]:
    out = []
    with tree.lock:
        for name, sym in tree.symbols.items():
            if (
                config.values.get(name) == "y"
                and name not in protected
                and tree.type_of(name) == "bool"
                and sym.visibility
                and sym.choice is None
            ):
                out.append(name)
    return out


def plan_budget(
    tree: KconfigTree,
    assignments: Sequence[tuple[str, str]],
    estimator: SizeEstimator,
    budget: int,
    keep: Sequence[str] = (),
) -> BudgetPlan:
    """Removals (on top of ``assignments``) that bring the estimate within ``budget``."""
    est = estimator
    applet_syms = _applet_symbols(tree)
    protected = _protected(tree, keep)
    chosen: list[Removal] = []
    config = resolve(tree, assignments)
    first = est.estimate(config)
    before = int(first.total)
    current = first
    tried: set[str] = set()
    while current.total > budget:
        per: dict[str, int] = current.per_symbol
        best: tuple[float, str] | None = None
        for name in _candidates(tree, config, protected):
            saved = per.get(name, 0)
            if saved <= 0 or name in tried:
                continue
            loss = APPLET_LOSS * len(applet_syms[name]) if name in applet_syms else FEATURE_LOSS
            score = loss / saved
            if best is None or (score, name) < best:
                best = (score, name)
        if best is None:
            raise UserError(
                f"cannot reach {format_size(budget)}: the estimate stays at "
                f"{format_size(int(current.total))} "
                "with only the shell, busybox and the kept applets left"
            )
        name = best[1]
        tried.add(name)
        new_config = resolve(tree, [*assignments, *((r.symbol, "n") for r in chosen), (name, "n")])
        if new_config.values.get(name) == "y":
            continue
        lost = tuple(a for a in config.applets if a not in new_config.applets)
        new_est = est.estimate(new_config)
        loss = APPLET_LOSS * len(lost) if lost else FEATURE_LOSS
        chosen.append(Removal(name, int(current.total - new_est.total), lost, loss))
        config, current = new_config, new_est
    chosen = _put_back(tree, assignments, est, budget, chosen)
    config = resolve(tree, [*assignments, *((r.symbol, "n") for r in chosen)])
    after = int(est.estimate(config).total)
    return BudgetPlan(budget, before, after, tuple(chosen), config, str(first.basis))


def _put_back(
    tree: KconfigTree,
    assignments: Sequence[tuple[str, str]],
    est: SizeEstimator,
    budget: int,
    chosen: list[Removal],
) -> list[Removal]:
    """Undo removals the budget does not need, the most expensive loss first."""
    result = list(chosen)
    for r in sorted(chosen, key=lambda r: (-r.loss, r.saved)):
        trial = [x for x in result if x is not r]
        config = resolve(tree, [*assignments, *((x.symbol, "n") for x in trial)])
        if est.estimate(config).total <= budget:
            result = trial
    return result
