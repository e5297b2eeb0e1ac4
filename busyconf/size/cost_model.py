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
configuration does not). The usage texts, an interaction of the usage options
and every applet, are priced outside both by :mod:`busyconf.size.usage` and
added to the total.

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

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any

from busyconf.errors import UserError
from busyconf.size.usage import UsageModel, UsageState


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
    usage: UsageModel | None = None
    #: (share of ``residual_symbols`` on, bytes the model gives too many there), by share.
    residual: tuple[tuple[float, int], ...] = ()
    residual_symbols: tuple[str, ...] = ()

    def residual_at(self, on: int) -> int:
        """What the model overestimates with ``on`` of ``residual_symbols`` on (linear between points)."""
        points = self.residual
        if not points:
            return 0
        x = on / len(self.residual_symbols)
        if x <= points[0][0]:
            return points[0][1]
        for (x0, y0), (x1, y1) in zip(points, points[1:], strict=False):
            if x <= x1:
                return round(y0 + (y1 - y0) * (x - x0) / (x1 - x0)) if x1 > x0 else y1
        return points[-1][1]

    def with_sparse(self, sparse: SizeModel, blend: Iterable[str]) -> SizeModel:
        """This model blended with one calibrated around the sparse reference."""
        return replace(self, sparse=sparse, blend=tuple(sorted(blend)))

    @cached_property
    def delta_users(self) -> tuple[tuple[tuple[str, int, int], ...], ...]:
        """Per unit: (symbol, bytes, 1 if the unit is also the symbol's own else 0) for each delta on it."""
        out: list[list[tuple[str, int, int]]] = [[] for _ in self.units]
        for name, c in self.symbols.items():
            own = set(c.units)
            for u, d in c.deltas:
                out[u].append((name, d, 1 if u in own else 0))
        return tuple(tuple(x) for x in out)

    @cached_property
    def names(self) -> frozenset[str]:
        """Every symbol the model (with its sparse model and usage term) prices."""
        out = set(self.symbols)
        if self.sparse is not None:
            out |= self.sparse.names
        if self.usage is not None:
            out |= self.usage.symbols()
        return frozenset(out)

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
            usage = UsageModel.from_dict(data["usage"]) if data.get("usage") else None
            residual = tuple((float(x), int(y)) for x, y in data.get("residual", ()))
            residual_symbols = tuple(str(n) for n in data.get("residual_symbols", ()))
            xs = [x for x, _ in residual]
            if residual and (not residual_symbols or xs != sorted(xs)):
                raise ValueError("residual points without symbols or out of order")
            return cls(
                residual=residual,
                residual_symbols=residual_symbols,
                sparse=sparse,
                blend=blend,
                usage=usage,
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
                }
                if self.sparse
                else {}
            ),
            **({"usage": self.usage.to_dict()} if self.usage else {}),
            **(
                {
                    "residual": [list(p) for p in self.residual],
                    "residual_symbols": list(self.residual_symbols),
                }
                if self.residual
                else {}
            ),
        }


#: Of a group of symbols: own bytes, string bytes, (unit, users in the group), (unit, delta, users).
_Group = tuple[int, int, tuple[tuple[int, int], ...], tuple[tuple[int, int, int], ...]]


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
        self._usage = UsageState(model.usage) if model.usage is not None else None
        self._blend = frozenset(model.blend)
        self._blend_on = 0
        self._beyond_linear: int | None = None
        # Kept up to date by set(), so that what one symbol saves is O(1) (see _single):
        # the bytes of the units it alone keeps alive, and of its deltas that count.
        self._sole: dict[str, int] = {}
        self._dlive: dict[str, int] = {}
        self._ids = {n: i + 1 for i, n in enumerate(model.symbols)}
        self._by_id = ["", *model.symbols]
        self._xor = [0] * len(model.units)
        self._rsyms = frozenset(model.residual_symbols)
        self._groups: dict[tuple[str, ...], _Group] = {}
        self._r_on = 0

    def _own_total(self) -> int:
        """This model's link-level total, not blended, without the usage texts."""
        if self._beyond_linear is None:
            self._beyond_linear = self._merged(self.strings) - self.model.residual_at(self._r_on)
        return self.linear + self._beyond_linear

    def _residual_back(self, names: Iterable[str]) -> int:
        """How much the residual correction grows when the enabled ``names`` go (0 without one)."""
        if not self._rsyms:
            return 0
        k = sum(1 for n in names if n in self._rsyms)
        return self.model.residual_at(self._r_on - k) - self.model.residual_at(self._r_on) if k else 0

    @property
    def total(self) -> int:
        """The model's total for the enabled set."""
        usage = fix = 0
        if self._usage is not None:
            usage, fix = self._usage.total, self._usage.full_model_fix()
        return self._mix(self._blend_on, self._own_total() + fix, self._low) + usage

    def _mix(self, blend_on: int, full: float, low: Evaluation | None) -> int:
        """``f * full + (1 - f) * sparse`` (``full`` alone without a sparse model)."""
        if low is None:
            return round(full)
        f = blend_on / len(self._blend)
        return round(f * full + (1 - f) * low.total)

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
        if self._low is not None:
            self._low.set(name, on)
            if name in self._blend:
                self._blend_on += 1 if on else -1
        if self._usage is not None:
            self._usage.set(name, on)
        if name in self._rsyms:
            self._r_on += 1 if on else -1
            self._beyond_linear = None
        if cost is None:
            return
        refs, usize, xor, sole = self.refs, self.usize, self._xor, self._sole
        sign = 1 if on else -1
        if cost.strings:
            self.strings += sign * cost.strings
            self._beyond_linear = None
        total = self.linear + sign * cost.own
        for u, d in cost.deltas:
            usize[u] += sign * d
            if refs[u]:
                total += sign * d
                if refs[u] == 1:
                    sole[self._by_id[xor[u]]] += sign * d
        me = self._ids[name]
        moved: list[tuple[int, int]] = []
        if on:
            sole[name] = 0
            for u in cost.units:
                before = refs[u]
                if before == 0:
                    total += usize[u]
                    sole[name] += usize[u]
                elif before == 1:
                    sole[self._by_id[xor[u]]] -= usize[u]
                refs[u] += 1
                xor[u] ^= me
                if before < 2:
                    moved.append((u, before))
        else:
            for u in cost.units:
                before = refs[u]
                refs[u] -= 1
                xor[u] ^= me
                if refs[u] == 0:
                    total -= usize[u]
                elif refs[u] == 1:
                    sole[self._by_id[xor[u]]] += usize[u]
                if before <= 2:
                    moved.append((u, before))
            del sole[name]
            del self._dlive[name]
        self.linear = total
        self._recount_deltas(moved, name)
        if on:
            self._dlive[name] = sum(d for u, d in cost.deltas if refs[u] > (1 if u in cost.units else 0))

    def _recount_deltas(self, moved: list[tuple[int, int]], skip: str) -> None:
        """Deltas of other enabled symbols on units whose user count crossed 0, 1 or 2."""
        refs, dlive, enabled = self.refs, self._dlive, self.enabled
        users = self.model.delta_users
        for u, before in moved:
            after = refs[u]
            for other, d, own in users[u]:
                if other != skip and other in enabled:
                    was, now = before > own, after > own
                    if was != now:
                        dlive[other] += d if now else -d

    def sync(self, on: Iterable[str]) -> None:
        """Make the enabled set equal ``on``, touching only what differs."""
        want = set(on)
        for name in list(self.enabled - want):
            self.set(name, False)
        for name in want - self.enabled:
            self.set(name, True)

    def cost_of(self, name: str) -> int:
        """Bytes saved by switching ``name`` (enabled) off alone."""
        return self.saving((name,))

    def saving(self, names: Iterable[str]) -> int:
        """Bytes saved by switching the enabled ``names`` off together (the state is left alone)."""
        return self.savings([list(names)])[0]

    def savings(self, groups: Iterable[Sequence[str]]) -> list[int]:
        """:meth:`saving` of each group, what does not depend on the group worked out once."""
        full = self._own_total()
        u = self._usage
        usage = fix = 0
        if u is not None:
            usage, fix = u.total, u.full_model_fix()
        low = self._low
        low_total = low.total if low is not None else 0
        n, blend, width = self._blend_on, self._blend, len(self._blend) or 1
        before = self._mix(n, full + fix, low)
        out = []
        for names in groups:
            gone = [x for x in names if x in self.enabled]
            if not gone:
                out.append(0)
                continue
            if len(gone) == 1:
                mine = self._single(gone[0])
                low_less = low._single(gone[0]) if low is not None else 0
            else:
                mine = self._own_saving(gone)
                low_less = low._own_saving(gone) if low is not None else 0
            usage_after, fix_after = (u.without(gone), u.full_model_fix(gone)) if u is not None else (0, 0)
            full_after = full - mine + fix_after
            if low is None:
                after = round(full_after)
            else:
                f = (n - sum(1 for g in gone if g in blend)) / width
                after = round(f * full_after + (1 - f) * (low_total - low_less))
            out.append(before - after + usage - usage_after)
        return out

    def _single(self, name: str) -> int:
        """:meth:`_own_saving` of one enabled symbol, from the counts set() keeps."""
        cost = self.model.symbols.get(name)
        back = self._residual_back((name,)) if name in self._rsyms else 0
        if cost is None:
            return back
        out = cost.own + self._sole[name] + self._dlive[name] + back
        if cost.strings:
            out += self._merged(self.strings) - self._merged(self.strings - cost.strings)
        return out

    def _own_saving(self, names: list[str]) -> int:
        """What switching the enabled ``names`` off saves in this model alone (not blended).

        As :meth:`set` would: a unit goes when its last user does, with all its
        bytes; a feature's delta goes with it from a unit that stays.
        """
        key = tuple(names)
        group = self._groups.get(key)
        if group is None:
            group = self._groups[key] = self._group(names)
        own, strings, dec, deltas = group
        refs, usize = self.refs, self.usize
        out = own + self._residual_back(names)
        if strings:
            out += self._merged(self.strings) - self._merged(self.strings - strings)
        for u, k in dec:
            if refs[u] == k:
                out += usize[u]
        for u, d, k in deltas:
            if refs[u] > k:
                out += d
        return out

    def _group(self, names: list[str]) -> _Group:
        """What does not change with the state in :meth:`_own_saving` of ``names``."""
        symbols = self.model.symbols
        costs = [c for c in (symbols.get(n) for n in names) if c is not None]
        dec: dict[int, int] = {}
        for c in costs:
            for u in c.units:
                dec[u] = dec.get(u, 0) + 1
        deltas = tuple((u, d, dec.get(u, 0)) for c in costs for u, d in c.deltas)
        return sum(c.own for c in costs), sum(c.strings for c in costs), tuple(dec.items()), deltas

    def shared(self) -> int:
        """Bytes in units that two or more enabled symbols keep alive."""
        own = sum(s for r, s in zip(self.refs, self.usize, strict=True) if r > 1)
        if self._low is None:
            return own
        f = self._blend_on / len(self._blend)
        return round(f * own + (1 - f) * self._low.shared())


def enabled_names(values: Mapping[str, str], model: SizeModel) -> set[str]:
    """Model symbols that are ``y`` in ``values``."""
    return {n for n in model.names if values.get(n) == "y"}
