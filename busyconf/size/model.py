"""The size model and its incremental evaluation.

A model (the ``model`` of a size table, or one made from prompt labels) says::

    total = base
          + sum(own[s] for enabled s)
          + sum(size[u] for units u kept alive by at least one enabled symbol)
          + coef * (sum(strings[s] for enabled s)) ** power

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
from dataclasses import dataclass, field
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
            return cls(
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

    @property
    def total(self) -> int:
        """The model's total for the enabled set."""
        return self.linear + self._merged(self.strings)

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
        """Bytes saved by switching ``name`` (enabled) off alone."""
        cost = self.model.symbols.get(name)
        if cost is None or name not in self.enabled:
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
        return sum(s for r, s in zip(self.refs, self.usize, strict=True) if r > 1)


def enabled_names(values: Mapping[str, str], model: SizeModel) -> set[str]:
    """Model symbols that are ``y`` in ``values``."""
    return {n for n in model.symbols if values.get(n) == "y"}
