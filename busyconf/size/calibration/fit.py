"""The fit: units from the per-applet relinks, compile-level costs from the toggles (pure).

Nothing here builds or reads a file: :func:`build_model` turns the records
of one reference (:class:`.records.Relinks`, :class:`.records.Toggle`) into
a :class:`SizeModel`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from busyconf.size import usage as usage_texts
from busyconf.size.calibration.ladder import usage_total
from busyconf.size.calibration.records import Minimal, Relinks, Toggle, siblings
from busyconf.size.cost_model import Evaluation, SizeModel, SymbolCost
from busyconf.size.linkmap import LinkMap, object_of, portable

#: What the full reference is (the sparse one says "allnoconfig + every applet").
FULL_REFERENCE = "defconfig + every applet, known-broken options off"

#: A symbol's cost as "own bytes, bytes per unit".
Cost = tuple[float, dict[int, float]]


def fit_power(xs: list[float], ys: list[float]) -> tuple[float, float]:
    """Least squares of log y = log c + p log x; (c, p)."""
    pts = [(math.log(x), math.log(y)) for x, y in zip(xs, ys, strict=True) if x > 0 and y > 0]
    if len(pts) < 2:
        return 1.0, 1.0
    n = len(pts)
    mx = sum(p[0] for p in pts) / n
    my = sum(p[1] for p in pts) / n
    sxx = sum((p[0] - mx) ** 2 for p in pts)
    if sxx == 0:
        return 1.0, 1.0
    power = sum((p[0] - mx) * (p[1] - my) for p in pts) / sxx
    return math.exp(my - power * mx), power


def is_usage(key: str) -> bool:
    """The usage texts' sections (their bytes are the usage term's, not a toggle's)."""
    return key.startswith("libbb/appletlib.o:(.rodata.") and key.endswith(
        ("packed_usage)", "usage_messages)")
    )


@dataclass
class Units:
    """Sections grouped by the set of symbols that keep them alive."""

    users: list[set[str]]
    sizes: list[int]
    of_key: dict[str, int]
    of_obj: dict[str, int]
    of_symbol: dict[str, list[int]]
    strings: dict[str, int]
    #: :attr:`of_obj` by :func:`portable` object name.
    of_portable: dict[str, int] = field(default_factory=dict)
    #: Objects (:func:`portable` names) the link with no applet keeps: always linked.
    core: frozenset[str] = frozenset()

    def unit_of(self, key: str) -> int | None:
        """The unit of a section, else of its object's largest unit.

        Debug info (DEBUG) is kept for every object linked, whatever of its
        code is collected: an always-linked object's is nobody's unit. An
        object is also found under another zig cache folder: DEBUG builds
        musl with ``-g`` into another libc.a, whose members' debug info
        belongs to the units their code is in (regcomp's to sed's and grep's).
        """
        obj = object_of(key)
        if key.endswith(")") and ":(.debug" in key and portable(obj) in self.core:
            return None
        found = self.of_key.get(key, self.of_obj.get(obj))
        if found is None:
            found = self.of_portable.get(portable(obj))
        return found


def units(
    relinks: Relinks,
    toggles: Mapping[str, Toggle],
    minimal: Minimal | None,
    ref_values: Mapping[str, str],
) -> Units:
    """Each section's users: applet symbols that keep it, and symbols whose reach holds it."""
    none = relinks.none
    users: dict[str, set[str]] = {}
    sizes: dict[str, int] = {}
    strings: dict[str, int] = {}
    for sym in relinks.by_symbol:
        for key, size in relinks.links[sym].sections.items():
            if key in none.sections:
                extra = size - none.sections[key]
                if extra > 0:
                    strings[sym] = strings.get(sym, 0) + extra
                continue
            users.setdefault(key, set()).add(sym)
            sizes[key] = size
    for name, t in toggles.items():
        if name in t.changed:
            for key, size in (t.reach or {}).items():
                if key not in none.sections:
                    users.setdefault(key, set()).add(name)
                    sizes.setdefault(key, size)
    users = shared_code_users(users, toggles, relinks.by_symbol)
    if minimal:
        users = feature_users(users, minimal, toggles, ref_values, relinks.by_symbol)
    groups: dict[frozenset[str], list[str]] = {}
    for key, us in users.items():
        groups.setdefault(frozenset(us), []).append(key)
    unit_list = sorted(groups.items(), key=lambda kv: (-sum(sizes[k] for k in kv[1]), sorted(kv[0])))
    of_key: dict[str, int] = {}
    of_symbol: dict[str, list[int]] = {}
    for i, (g, keys) in enumerate(unit_list):
        for k in keys:
            of_key[k] = i
        for sym in g:
            of_symbol.setdefault(sym, []).append(i)
    per_obj: dict[str, dict[int, int]] = {}
    for k, u in of_key.items():
        in_obj = per_obj.setdefault(object_of(k), {})
        in_obj[u] = in_obj.get(u, 0) + sizes[k]
    of_obj = {o: max(m, key=lambda u: m[u]) for o, m in per_obj.items()}
    return Units(
        [set(g) for g, _ in unit_list],
        [sum(sizes[k] for k in keys) for _, keys in unit_list],
        of_key,
        of_obj,
        of_symbol,
        strings,
        {portable(o): u for o, u in of_obj.items()},
        frozenset(portable(object_of(k)) for k in none.sections),
    )


def strings_fit(relinks: Relinks, strings: Mapping[str, int]) -> tuple[float, float]:
    """The merged-strings term: linker-merged bytes of each subset against its applets' strings."""
    none = relinks.none
    xs, ys = [], []
    for job, syms in relinks.subsets:
        xs.append(float(sum(strings.get(s, 0) for s in syms)))
        merged = sum(
            v - none.sections.get(k, 0)
            for k, v in relinks.links[job].sections.items()
            if k.startswith("<internal>")
        )
        ys.append(float(merged))
    return fit_power(xs, ys)


def toggle_vectors(
    relinks: Relinks,
    toggles: Mapping[str, Toggle],
    u: Units,
    ref_values: Mapping[str, str],
    ref_size: int,
    ev_link: Evaluation,
) -> tuple[dict[str, Cost], dict[str, set[str]]]:
    """Each toggle as a vector "on minus off": (own, {unit: bytes}); and what else it switched."""
    none = relinks.none
    on_in_ref = {n for n, v in ref_values.items() if v == "y"}
    n_link = len(u.sizes)
    vectors: dict[str, Cost] = {}
    changed_of: dict[str, set[str]] = {}
    for name, t in toggles.items():
        if name not in t.changed or name in usage_texts.SYMBOLS:
            continue
        sign = -1 if t.flip == "n" else 1
        total: float = sign * (t.size - ref_size)
        per_unit: dict[int, float] = {}
        placed = 0.0
        usage = strings_d = 0.0
        for k, d in t.diff.items():
            if is_usage(k):
                usage += sign * d
                continue
            if k.startswith("<internal>"):
                strings_d += sign * d
                continue
            if k in none.sections:
                continue
            unit = u.unit_of(k)
            if unit is None:
                continue
            per_unit[unit] = per_unit.get(unit, 0) + sign * d
            placed += sign * d
        total -= usage
        if t.flip == "n":
            # Link level already charges the units that go with this symbol and what it switches off.
            switched = {name} | set(t.changed)
            for i, unit_syms in enumerate(u.users):
                if unit_syms & on_in_ref and unit_syms <= switched:
                    per_unit[i] = per_unit.get(i, 0) - u.sizes[i]
                    placed -= u.sizes[i]
                    total -= u.sizes[i]
        if name in relinks.by_symbol:
            sole = sum(
                ev_link.usize[i] for i in u.of_symbol.get(name, ()) if i < n_link and ev_link.refs[i] == 1
            )
            total -= ev_link.cost_of(name) - sole
        elif strings_d and per_unit:
            # Strings move with the code that uses them.
            weight = sum(abs(b) for b in per_unit.values()) or 1.0
            for i, b in list(per_unit.items()):
                per_unit[i] = b + strings_d * abs(b) / weight
            placed += strings_d
        vectors[name] = (total - placed, per_unit)
        changed_of[name] = set(t.changed) - {name}
    return vectors, changed_of


def own_costs(
    vectors: Mapping[str, Cost], changed_of: Mapping[str, set[str]], toggles: Mapping[str, Toggle]
) -> dict[str, Cost]:
    """Charge each symbol only for itself: subtract what its sub-options cost."""
    own_cost: dict[str, Cost] = {}
    for name in sorted(vectors, key=lambda n: len(changed_of[n])):
        own, per_unit = vectors[name][0], dict(vectors[name][1])
        flip = toggles[name].flip
        for other in changed_of[name]:
            if other in own_cost and toggles[other].flip == flip and changed_of[other] <= changed_of[name]:
                o_own, o_units = own_cost[other]
                own -= o_own
                for i, d in o_units.items():
                    per_unit[i] = per_unit.get(i, 0) - d
        own_cost[name] = (own, per_unit)
    return own_cost


def build_model(
    *,
    release: str,
    arch: str,
    relinks: Relinks,
    ref_values: Mapping[str, str],
    ref_size: int,
    toggles: Mapping[str, Toggle],
    toolchain_version: str,
    tools_digest: str = "",
    minimal: Minimal | None = None,
    reference: str = FULL_REFERENCE,
    usage_model: usage_texts.UsageModel | None = None,
) -> SizeModel:
    """Units from the per-applet link maps, compile-level costs from the toggles.

    The usage texts and the usage symbols are left to ``usage_model`` (the term the
    estimate adds): the texts' share of every toggle is dropped, and the
    anchor takes off what the term gives the reference.
    """
    by_symbol = relinks.by_symbol
    none = relinks.none
    u = units(relinks, toggles, minimal, ref_values)
    coef, power = strings_fit(relinks, u.strings)
    link_model = SizeModel(
        "link",
        none.file_size,
        tuple(u.sizes),
        {
            s: SymbolCost(strings=u.strings.get(s, 0), units=tuple(u.of_symbol.get(s, ())))
            for s in u.of_symbol
        },
        True,
        {},
        coef,
        power,
    )
    ev_link = Evaluation(link_model)
    ev_link.sync(n for n in u.of_symbol if ref_values.get(n) == "y")
    vectors, changed_of = toggle_vectors(relinks, toggles, u, ref_values, ref_size, ev_link)
    own_cost = own_costs(vectors, changed_of, toggles)
    if minimal:
        own_cost = rescale(own_cost, minimal, ref_values, none, u, ev_link.usize)

    units_of = u.of_symbol
    strings = dict(u.strings)
    symbols: dict[str, SymbolCost] = {}
    base = float(none.file_size)
    unit_sizes = [float(s) for s in u.sizes]
    for alias, target in relinks.aliases.items():
        if target in units_of:
            units_of[alias] = sorted(set(units_of.get(alias, ())) | set(units_of[target]))
            strings[alias] = strings.get(target, 0)
    for name in set(by_symbol) | set(own_cost) | set(relinks.aliases):
        own, per_unit = own_cost.get(name, (0.0, {}))
        deltas = tuple(sorted((i, round(d)) for i, d in per_unit.items() if round(d)))
        symbols[name] = SymbolCost(
            own=round(own),
            strings=strings.get(name, 0) if name in by_symbol or name in relinks.aliases else 0,
            units=tuple(units_of.get(name, ())),
            deltas=deltas,
        )
        if ref_values.get(name) == "y":
            base -= own
            for i, d in deltas:
                unit_sizes[i] -= d
    basis = (
        f"calibrated {arch}/zig {release}" if "zig" in toolchain_version else f"calibrated {arch} {release}"
    )
    model = SizeModel(basis, round(base), tuple(round(s) for s in unit_sizes), symbols, True, {}, coef, power)
    ev = Evaluation(model)
    ev.sync(n for n in model.symbols if ref_values.get(n) == "y")
    # Every reference has bunzip2 on, so the full model's decoder fix is 0 there.
    anchor = ref_size - ev.total - usage_total(usage_model, ref_values)
    info = {
        "method": "link-level units from relinks of the reference; compile-level costs from exact toggles",
        "reference": reference,
        "reference_size": ref_size,
        "anchor_correction": anchor,
        "applet_symbols": len(by_symbol),
        "toggled_symbols": len(own_cost),
        "toolchain_version": toolchain_version,
        "compiler_wrappers": tools_digest,
    }
    final = SizeModel(basis, model.base + anchor, model.units, symbols, True, info, coef, power)
    if minimal:
        ev = Evaluation(final)
        ev.sync(n for n in final.symbols if minimal.values.get(n) == "y")
        info["minimal_reference"] = "allnoconfig + every applet"
        info["minimal_size"] = minimal.size
        info["minimal_error"] = ev.total - minimal.size
    return final


def shared_code_users(
    users: dict[str, set[str]], toggles: Mapping[str, Toggle], by_symbol: Mapping[str, list[str]]
) -> dict[str, set[str]]:
    """Code a shared main reaches only while one applet is on is that applet's, not its siblings'.

    The ``reach`` of an applet's toggle (:func:`.reach.sibling_reach`): musl's
    regex, which test_main calls only with ``[[`` (TEST2) compiled in, is
    kept by TEST2 and by sed or grep, not by ``test`` or ``[``.
    """
    reached_by: dict[str, set[str]] = {}
    for name, t in toggles.items():
        if name in by_symbol and t.reach:
            for key in t.reach:
                reached_by.setdefault(key, set()).add(name)
    if not reached_by:
        return users
    sib = siblings(by_symbol)
    out = dict(users)
    for key, reachers in reached_by.items():
        if key in out:
            drop = set().union(*(sib.get(n, set()) for n in reachers)) - reachers
            out[key] = (out[key] - drop) | reachers
    return out


def feature_users(
    users: dict[str, set[str]],
    minimal: Minimal,
    toggles: Mapping[str, Toggle],
    ref_values: Mapping[str, str],
    by_symbol: Mapping[str, list[str]],
) -> dict[str, set[str]]:
    """Code an applet keeps alive only with its sub-options on belongs to those sub-options.

    The minimal reference's per-applet relinks say what each applet needs
    without its features; what it keeps in the full reference beyond that is
    live while any of its features (on in the reference) is on.
    """
    m_none = minimal.links["(none)"].sections
    out: dict[str, set[str]] = {}
    for key, us in users.items():
        new: set[str] = set()
        for a in us:
            kept = minimal.links.get(a)
            t = toggles.get(a)
            if kept is None or t is None or key in kept.sections or key in m_none:
                new.add(a)
                continue
            children = {c for c in t.changed if c != a and c not in by_symbol and ref_values.get(c) == "y"}
            new |= children or {a}
        out[key] = new
    return out


def rescale(
    own_cost: dict[str, Cost],
    minimal: Minimal,
    ref_values: Mapping[str, str],
    none: LinkMap,
    u: Units,
    ref_units: list[int],
) -> dict[str, Cost]:
    """Scale toggle costs so that switching off together what the minimal reference lacks lands on it.

    Toggles are measured one at a time from the full reference; switched off
    together they interact. The minimal reference (allnoconfig with every
    applet) is relinked like the full one: per unit, the sum of the deltas of
    the symbols it lacks is scaled to the bytes the unit really loses (when
    the ratio is plausible), and the same for the code no unit holds.
    """
    n_link = len(u.sizes)
    m_none = minimal.links["(none)"].sections
    m_sizes: dict[str, int] = {}
    for job, lm in minimal.links.items():
        if job.startswith("("):
            continue
        for k, v in lm.sections.items():
            if k not in m_none:
                m_sizes[k] = v
    m_unit = [0.0] * n_link
    for k, v in m_sizes.items():
        i = u.unit_of(k)
        if i is not None and i < n_link:
            m_unit[i] += v
    lacking = [n for n in own_cost if ref_values.get(n) == "y" and minimal.values.get(n) != "y"]
    explained = [0.0] * n_link
    explained_own = 0.0
    for n in lacking:
        explained_own += own_cost[n][0]
        for i, d in own_cost[n][1].items():
            if i < n_link:
                explained[i] += d
    scale = [1.0] * n_link
    for i in range(n_link):
        if m_unit[i] > 0 and explained[i] > 0:
            ratio = (ref_units[i] - m_unit[i]) / explained[i]
            if 0.0 <= ratio <= 4.0:
                scale[i] = ratio
    own_scale = 1.0
    if explained_own > 0:
        ratio = (none.file_size - minimal.links["(none)"].file_size) / explained_own
        if 0.0 <= ratio <= 4.0:
            own_scale = ratio
    out: dict[str, Cost] = {}
    lack = set(lacking)
    for n, (own, per_unit) in own_cost.items():
        if n not in lack:
            out[n] = (own, per_unit)
            continue
        out[n] = (own * own_scale, {i: d * (scale[i] if i < n_link else 1.0) for i, d in per_unit.items()})
    return out
