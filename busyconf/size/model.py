"""The size model and its incremental evaluation.

A model (the ``model`` of a size table, or one made from prompt labels) says::

    total = base
          + sum(own[s] for enabled s)
          + sum(size[u] for units u kept alive by at least one enabled symbol)
          + coef * (sum(strings[s] for enabled s)) ** power

(with ``coef * S ** power`` the merged string literals, below). A table may
carry a second model calibrated around a sparse reference (allnoconfig with
every applet) and the list of ``blend`` symbols: the features on in the full
reference and off in the sparse one. The total is then
``f * full + (1 - f) * sparse`` with ``f`` the share of ``blend`` symbols on,
so that a configuration built up from allnoconfig is estimated around the
reference it resembles (the full reference shares library code that a sparse
configuration does not). Symbols the sparse reference could not measure
(``from_full``: usage texts, which it has none of) count in the sparse part
as the full model prices them: ``sparse(C - X) + full(C) - full(C - X)``.

The last term is the merged string literals: the linker keeps one copy of a
string however many applets use it, so they grow less than linearly (the
coefficient and power are fitted on random relinks).

A *unit* is a group of linked sections (code or data) with the same set of
users: libbb code that ``ls`` and ``du`` both call is one unit, counted once
however many of its users are on, and its bytes fall on the last user
switched off. A feature symbol changes the sizes of units (``deltas``: bytes
the unit grows by when the feature is on), which counts only while the unit is
live. The evaluation keeps reference counts, so a toggle costs time in
proportion to the units it touches, not to the configuration.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from busyconf.errors import UserError


@dataclass(frozen=True)
class SymbolCost:
    """What enabling one symbol does to the model."""

    own: int = 0
    strings: int = 0
    units: tuple[int, ...] = ()
    deltas: tuple[tuple[int, int], ...] = ()


@dataclass(frozen=True)
class SizeModel:
    """A parsed model; see the module docstring."""

    basis: str
    base: int
    units: tuple[int, ...]
    symbols: Mapping[str, SymbolCost]
    calibrated: bool
    info: Mapping[str, Any] = field(default_factory=dict)
    strings_coef: float = 0.0
    strings_power: float = 1.0
    sparse: SizeModel | None = None
    blend: tuple[str, ...] = ()
    from_full: tuple[str, ...] = ()

    def with_sparse(
        self, sparse: SizeModel, blend: Iterable[str], from_full: Iterable[str] = ()
    ) -> SizeModel:
        """This model blended with one calibrated around the sparse reference."""
        return replace(self, sparse=sparse, blend=tuple(sorted(blend)), from_full=tuple(sorted(from_full)))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], where: str) -> SizeModel:
        try:
            units = tuple(int(u) for u in data["units"])
            symbols: dict[str, SymbolCost] = {}
            for name, raw in data["symbols"].items():
                cost = SymbolCost(
                    own=int(raw.get("own", 0)),
                    strings=int(raw.get("strings", 0)),
                    units=tuple(int(u) for u in raw.get("units", ())),
                    deltas=tuple((int(u), int(d)) for u, d in raw.get("deltas", ())),
                )
                for u in cost.units + tuple(u for u, _ in cost.deltas):
                    if not 0 <= u < len(units):
                        raise ValueError(f"{name}: unit {u} out of range")
                symbols[str(name)] = cost
            sparse = cls.from_dict(data["sparse"], f"{where} (sparse model)") if data.get("sparse") else None
            blend = tuple(str(n) for n in data.get("blend", ()))
            if sparse is not None and not blend:
                raise ValueError("a sparse model without blend symbols")
            return cls(
                sparse=sparse,
                blend=blend,
                from_full=tuple(str(n) for n in data.get("from_full", ())),
                basis=str(data["basis"]),
                base=int(data["base"]),
                units=units,
                symbols=symbols,
                calibrated=bool(data.get("calibrated", True)),
                info=dict(data.get("info", {})),
                strings_coef=float(data.get("strings", [0.0, 1.0])[0]),
                strings_power=float(data.get("strings", [0.0, 1.0])[1]),
            )
        except (KeyError, TypeError, ValueError, AttributeError) as e:
            raise UserError(f"{where}: malformed size model ({e})") from None

    def to_dict(self) -> dict[str, Any]:
        syms: dict[str, Any] = {}
        for name, c in self.symbols.items():
            entry: dict[str, Any] = {}
            if c.own:
                entry["own"] = c.own
            if c.strings:
                entry["strings"] = c.strings
            if c.units:
                entry["units"] = list(c.units)
            if c.deltas:
                entry["deltas"] = [list(p) for p in c.deltas]
            if entry:
                syms[name] = entry
        return {
            "basis": self.basis,
            "base": self.base,
            "units": list(self.units),
            "symbols": syms,
            "calibrated": self.calibrated,
            "info": dict(self.info),
            "strings": [self.strings_coef, self.strings_power],
            **(
                {
                    "sparse": self.sparse.to_dict(),
                    "blend": list(self.blend),
                    "from_full": list(self.from_full),
                }
                if self.sparse
                else {}
            ),
        }


class Evaluation:
    """Mutable evaluation state of one model: enabled symbols, unit counts, total."""

    def __init__(self, model: SizeModel) -> None:
        self.model = model
        self.enabled: set[str] = set()
        self.refs = [0] * len(model.units)
        self.usize = list(model.units)
        self.linear = model.base
        self.strings = 0
        self._low = Evaluation(model.sparse) if model.sparse is not None else None
        # The full model without the from_full symbols: what they add is full - bare.
        self._bare = Evaluation(replace(model, sparse=None)) if model.sparse is not None else None
        self._from_full = frozenset(model.from_full)
        self._blend = frozenset(model.blend)
        self._blend_on = 0

    def _own_total(self) -> int:
        """This model's total, not blended."""
        return self.linear + self._merged(self.strings)

    @property
    def total(self) -> int:
        """The model's total for the enabled set."""
        own = self._own_total()
        if self._low is None or self._bare is None:
            return own
        return self._mix(self._blend_on, own, self._low.total, self._bare.total)

    def _mix(self, blend_on: int, full: float, sparse: float, bare: float) -> int:
        f = blend_on / len(self._blend)
        return round(f * full + (1 - f) * (sparse + full - bare))

    def _merged(self, s: int) -> int:
        """Merged string literals: deduplication makes them grow less than linearly."""
        m = self.model
        return round(m.strings_coef * s**m.strings_power) if s > 0 and m.strings_coef else 0

    def set(self, name: str, on: bool) -> None:
        """Switch ``name`` on or off (no-op when already so or unknown to the model)."""
        if on == (name in self.enabled):
            return
        cost = self.model.symbols.get(name)
        if on:
            self.enabled.add(name)
        else:
            self.enabled.discard(name)
        if self._low is not None and self._bare is not None:
            if name not in self._from_full:
                self._low.set(name, on)
                self._bare.set(name, on)
            if name in self._blend:
                self._blend_on += 1 if on else -1
        if cost is None:
            return
        refs, usize = self.refs, self.usize
        sign = 1 if on else -1
        self.strings += sign * cost.strings
        total = self.linear + sign * cost.own
        for u, d in cost.deltas:
            usize[u] += sign * d
            if refs[u]:
                total += sign * d
        if on:
            for u in cost.units:
                if refs[u] == 0:
                    total += usize[u]
                refs[u] += 1
        else:
            for u in cost.units:
                refs[u] -= 1
                if refs[u] == 0:
                    total -= usize[u]
        self.linear = total

    def sync(self, on: Iterable[str]) -> None:
        """Make the enabled set equal ``on``, touching only what differs."""
        want = set(on)
        for name in list(self.enabled - want):
            self.set(name, False)
        for name in want - self.enabled:
            self.set(name, True)

    def cost_of(self, name: str) -> int:
        """Bytes saved by switching ``name`` (enabled) off alone.

        With a sparse model, what the ``from_full`` symbols add stays theirs: an
        applet is not charged the change in its share of the usage texts, which
        the full reference measures only through compression noise.
        """
        if name not in self.enabled:
            return 0
        if self._low is None or self._bare is None:
            return self._own_cost(name)
        full = self._own_total()
        low, bare = self._low.total, self._bare.total
        n = self._blend_on
        c_full = self._own_cost(name)
        alone = name in self._from_full
        after = self._mix(
            n - (name in self._blend),
            full - c_full,
            low - (0 if alone else self._low.cost_of(name)),
            bare - (0 if alone else c_full),
        )
        return self._mix(n, full, low, bare) - after

    def saving(self, names: Iterable[str]) -> int:
        """Bytes saved by switching the enabled ``names`` off together (as :meth:`cost_of`)."""
        gone = [n for n in names if n in self.enabled]
        if self._low is None or self._bare is None:
            before = self.total
            for n in gone:
                self.set(n, False)
            after = self.total
            for n in gone:
                self.set(n, True)
            return before - after
        low, bare = self._low, self._bare
        was = (self._blend_on, self._own_total(), low.total, bare.total)
        for n in gone:
            self.set(n, False)
        now = [self._blend_on, self._own_total(), low.total, bare.total]
        for n in gone:
            self.set(n, True)
        if not self._from_full.intersection(gone):
            # What the usage texts add stays theirs (see cost_of).
            now[3] = was[3] - (was[1] - now[1])
        return self._mix(*was) - self._mix(*now)

    def _own_cost(self, name: str) -> int:
        """What switching ``name`` off saves in this model alone (not blended)."""
        cost = self.model.symbols.get(name)
        if cost is None:
            return 0
        refs, usize = self.refs, self.usize
        out = cost.own
        if cost.strings:
            out += self._merged(self.strings) - self._merged(self.strings - cost.strings)
        for u, d in cost.deltas:
            if refs[u]:
                out += d
        for u in cost.units:
            if refs[u] == 1:
                out += usize[u]
        return out

    def shared(self) -> int:
        """Bytes in units that two or more enabled symbols keep alive."""
        own = sum(s for r, s in zip(self.refs, self.usize, strict=True) if r > 1)
        if self._low is None or self._bare is None:
            return own
        return self._mix(self._blend_on, own, self._low.shared(), self._bare.shared())


def enabled_names(values: Mapping[str, str], model: SizeModel) -> set[str]:
    """Model symbols that are ``y`` in ``values``."""
    names = model.symbols.keys() | (model.sparse.symbols.keys() if model.sparse else set())
    return {n for n in names if values.get(n) == "y"}
