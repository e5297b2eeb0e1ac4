"""Fit a profile into a size budget: removals that reach it, options before applets.

The rule is lexicographic: an applet (a command) goes only when switching off
every removable option (a symbol whose removal loses no applet) would not reach
the budget. Within each class the cheapest loss per byte saved goes first: an
option costs 1 unit of loss, a removal that loses applets 3 units per applet
lost, and the size model says how many bytes it saves. After each removal the
configuration is resolved and estimated again. A last pass puts back removals
the budget no longer needs, applets first, so that what remains of the plan
loses as few applets and then as few options as it can. The shell, the
``busybox`` applet, ``STATIC`` and what the caller keeps (applets such as
``ls`` or symbols such as ``FEATURE_LS_COLOR``) are never removed or lost.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import kconfiglib

from busyconf.errors import UserError
from busyconf.model.config import Configuration, resolve
from busyconf.model.deps import dependants, holds, switched_off
from busyconf.model.kconfig import Applet, KconfigTree
from busyconf.size.units import format_size

FEATURE_LOSS = 1.0
APPLET_LOSS = 3.0
#: A ranking is reused for this many removals, while each saves within REUSE_TOLERANCE of its figure.
REUSE_STEPS = 8
REUSE_TOLERANCE = 0.1
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

    def total(self, config: Configuration | Mapping[str, str]) -> int: ...


class PlanCancelled(Exception):
    """The caller's ``cancelled()`` said stop (a newer plan replaces this one)."""


#: ``progress(removals so far, current estimate)``, called once per step.
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Removal:
    """One symbol switched off, the bytes the estimate saved and the applets lost."""

    symbol: str
    saved: int
    applets: tuple[str, ...]
    loss: float

    @property
    def is_option(self) -> bool:
        """True when switching it off loses no applet."""
        return not self.applets


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


def plan_budget(
    tree: KconfigTree,
    assignments: Sequence[tuple[str, str]],
    estimator: SizeEstimator,
    budget: int,
    keep: Collection[str] = (),
    *,
    progress: Progress | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> BudgetPlan:
    """Removals (on top of ``assignments``) that bring the estimate within ``budget``.

    ``keep`` names applets (``ls``) and symbols (``FEATURE_LS_COLOR``) that must
    stay: they are never proposed, nor is anything whose removal would lose them.
    Raises UserError when the budget cannot be reached, PlanCancelled when
    ``cancelled()`` turns true.
    """
    return _Planner(tree, assignments, estimator, budget, keep, progress, cancelled).run()


class _Planner:
    def __init__(
        self,
        tree: KconfigTree,
        assignments: Sequence[tuple[str, str]],
        estimator: SizeEstimator,
        budget: int,
        keep: Collection[str],
        progress: Progress | None,
        cancelled: Callable[[], bool] | None,
    ) -> None:
        self.tree = tree
        self.assignments = list(assignments)
        self.est = estimator
        self.budget = budget
        self.progress = progress
        self.cancelled = cancelled
        self.kept_applets = {a.name for a in tree.applets if a.name in keep}
        self.kept_symbols = {k for k in keep if k not in self.kept_applets}
        self.protected = set(PROTECTED_SYMBOLS) | self.kept_symbols
        for a in tree.applets:
            if a.name in self.kept_applets:
                self.protected.update(a.requires)
        self.children = dependants(tree)
        self.mentions = _mentions(tree)
        self.applets_of = _applets_by_requirement(tree.applets)
        self.chosen: list[Removal] = []
        self.config = resolve(tree, self.assignments)
        self.total = 0

    def _changes(self, extra: Sequence[str] = (), without: Removal | None = None) -> list[tuple[str, str]]:
        gone = [r.symbol for r in self.chosen if r is not without] + list(extra)
        return [*self.assignments, *((s, "n") for s in gone)]

    def _check(self) -> None:
        if self.cancelled is not None and self.cancelled():
            raise PlanCancelled
        if self.progress is not None:
            self.progress(len(self.chosen), self.total)

    def run(self) -> BudgetPlan:
        first = self.est.estimate(self.config)
        before = self.total = int(first.total)
        if self.total > self.budget:
            self._options_at_once(first.per_symbol)
        if self.total > self.budget:
            self._greedy(options_only=True)
        if self.total > self.budget:
            self._greedy(options_only=False)
        if self.total > self.budget:
            raise UserError(
                f"cannot reach {format_size(self.budget)}: the estimate stays at "
                f"{format_size(self.total)} with only the shell, busybox and the kept applets left"
            )
        self._put_back()
        config = resolve(self.tree, self._changes())
        after = int(self.est.total(config))
        return BudgetPlan(self.budget, before, after, tuple(self.chosen), config, str(first.basis))

    def _candidates(self, config: Configuration) -> list[str]:
        """Bools on in ``config`` (the plan's current one) that a user could switch off."""
        out = []
        with self.tree.applied(self._changes()):
            for name, sym in self.tree.symbols.items():
                if (
                    config.values.get(name) == "y"
                    and name not in self.protected
                    and sym.orig_type == kconfiglib.BOOL
                    and sym.visibility
                    and sym.choice is None
                ):
                    out.append(name)
        return out

    def _predicted_loss(self, values: Mapping[str, str], name: str) -> tuple[str, ...]:
        """The enabled applets switching ``name`` off loses, by ``depends on`` alone (resolve checks)."""
        off = switched_off(self.tree, self.children, values, name)
        lost = {a.name for s in off for a in self.applets_of.get(s, ()) if a.enabled(values)}
        return tuple(sorted(lost))

    def _accept(self, new: Configuration, names: Sequence[str], options_only: bool) -> tuple[str, ...] | None:
        """The applets ``new`` loses, or None when it breaks a rule (a name stayed on, a kept one went)."""
        if any(new.values.get(n) == "y" for n in names):
            return None
        if any(new.values.get(k) != self.config.values.get(k) for k in self.kept_symbols):
            return None
        kept = set(new.applets)
        lost = tuple(a for a in self.config.applets if a not in kept)
        if self.kept_applets & set(lost) or (options_only and lost):
            return None
        return lost

    def _options_at_once(self, per: Mapping[str, int]) -> None:
        """When every option together still misses the budget, take them all in one step.

        The greedy walk would take them one at a time (a resolve and an estimate
        each); the put-back pass returns those the budget does not need. An
        option that only loses an applet together with the rest (a ``default y
        if`` rather than a ``depends on``) is left to the walk.
        """
        values = self.config.values
        names = [
            n
            for n in self._candidates(self.config)
            if per.get(n, 0) > 0 and not self._predicted_loss(values, n)
        ]
        for _ in range(4):
            if not names:
                return
            self._check()
            new = resolve(self.tree, self._changes(names))
            # an option something selects stays on: it is no removal
            names = [n for n in names if new.values.get(n) != "y"]
            bad = {k for k in self.kept_symbols if new.values.get(k) != self.config.values.get(k)}
            kept = set(new.applets)
            for a in self.tree.applets:
                if a.name in self.config.applets and a.name not in kept:
                    bad.update((*a.requires, *a.any_of))
            if not bad:
                break
            culprits = self._culprits(new, bad, names)
            if not culprits:
                return
            names = [n for n in names if n not in culprits]
        else:
            return
        total = int(self.est.total(new))
        if total <= self.budget:
            return
        names.sort(key=lambda n: -per[n])
        self.chosen.extend(Removal(n, per[n], (), FEATURE_LOSS) for n in names)
        self.config, self.total = new, total

    def _culprits(self, new: Configuration, bad: set[str], names: Sequence[str]) -> set[str]:
        """The ``names`` that switched a ``bad`` symbol off, following what changed value upwards."""
        old = self.config.values
        wanted = set(names)
        out: set[str] = set()
        seen = set(bad)
        stack = list(bad)
        while stack:
            for m in self.mentions.get(stack.pop(), ()):
                if m not in seen and old.get(m) != new.values.get(m):
                    seen.add(m)
                    if m in wanted:
                        out.add(m)
                    else:
                        stack.append(m)
        return out

    def _greedy(self, options_only: bool) -> None:
        """Take the best loss per byte saved, one at a time, until the budget holds or nothing is left.

        The ranking comes from one per-symbol breakdown (the costly part of a
        step) and is reused while the bytes a removal really saves stay close
        to what the ranking expected, for at most REUSE_STEPS removals.
        """
        tried: set[str] = set()
        ranked: list[tuple[float, str, int]] = []
        fresh = False
        since = 0
        while self.total > self.budget:
            self._check()
            if not ranked or since >= REUSE_STEPS:
                if fresh and not ranked:
                    return
                ranked, fresh, since = self._rank(tried, options_only), True, 0
                continue
            _score, name, expected = ranked.pop(0)
            tried.add(name)
            if self.config.values.get(name) != "y":
                continue
            new = resolve(self.tree, self._changes([name]))
            real = self._accept(new, [name], options_only)
            if real is None:
                continue
            total = int(self.est.total(new))
            saved = self.total - total
            if saved <= 0 or (real and options_only):
                continue
            loss = APPLET_LOSS * len(real) if real else FEATURE_LOSS
            self.chosen.append(Removal(name, saved, real, loss))
            self.config, self.total = new, total
            fresh = False
            since += 1
            if abs(saved - expected) > expected * REUSE_TOLERANCE:
                since = REUSE_STEPS

    def _rank(self, tried: set[str], options_only: bool) -> list[tuple[float, str, int]]:
        """(loss per byte saved, symbol, bytes) of what may still go, best first."""
        per = self.est.estimate(self.config).per_symbol
        values = self.config.values
        out = []
        for name in self._candidates(self.config):
            saved = per.get(name, 0)
            if saved <= 0 or name in tried:
                continue
            lost = self._predicted_loss(values, name)
            if options_only and lost:
                continue
            out.append(((APPLET_LOSS * len(lost) if lost else FEATURE_LOSS) / saved, name, saved))
        out.sort()
        return out

    def _put_back(self) -> None:
        """Undo removals the budget does not need: applets first, then options.

        The estimate with only the removal itself back on is a cheap lower
        bound (putting it back may also bring its sub-options); when that
        already misses the budget, the resolve is skipped. A removal whose
        ``depends on`` no longer holds is always resolved: it is off anyway,
        and the plan need not list it.
        """
        for r in sorted(self.chosen, key=lambda r: (-r.loss, r.saved)):
            self._check()
            values = self.config.values
            can_come_on = holds(self.tree.symbols[r.symbol].direct_dep, values, set())
            # one whose parent went later cannot come back: the resolve drops it from the plan
            if can_come_on and self.est.total({**values, r.symbol: "y"}) > self.budget:
                continue
            new = resolve(self.tree, self._changes(without=r))
            total = int(self.est.total(new))
            if total <= self.budget:
                self.chosen.remove(r)
                self.config, self.total = new, total


def _mentions(tree: KconfigTree) -> dict[str, set[str]]:
    """The symbols each symbol's value reads: ``depends on``, ``select``/``imply`` sources, defaults."""
    out: dict[str, set[str]] = {}
    for name, sym in tree.symbols.items():
        exprs: list[object] = [sym.direct_dep, sym.rev_dep, sym.weak_rev_dep]
        for value, cond in sym.defaults:
            exprs += [value, cond]
        refs = out.setdefault(name, set())
        for expr in exprs:
            for item in kconfiglib.expr_items(expr):
                if isinstance(item, kconfiglib.Symbol) and not item.is_constant and item.name != name:
                    refs.add(item.name)
    return out


def _applets_by_requirement(applets: Sequence[Applet]) -> dict[str, list[Applet]]:
    out: dict[str, list[Applet]] = {}
    for a in applets:
        for s in (*a.requires, *a.any_of):
            out.setdefault(s, []).append(a)
    return out
