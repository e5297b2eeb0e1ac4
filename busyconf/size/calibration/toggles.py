"""Compile level: every referenced bool symbol flipped from a reference and measured exactly."""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from busyconf.errors import BuildError
from busyconf.model.config import resolve
from busyconf.model.kconfig import KconfigTree
from busyconf.size.calibration.context import Measuring
from busyconf.size.calibration.records import Toggle
from busyconf.size.calibration.references import dependents, prerequisites
from busyconf.size.kbuild_facts import FLAG_SYMBOLS
from busyconf.size.linkmap import LinkMap

#: Toggles that would recompile more objects than this compile only the direct users.
DIRECT_ONLY_ABOVE = 40
#: Toggles that recompile more object bytes than this are measured in groups. Every
#: toggle of 1.38.0 stays below it (the biggest, FEATURE_EDITING and UNICODE_SUPPORT,
#: recompile about 450 KB): equal shares of a group misprice ash's options by kilobytes.
GROUP_ABOVE = 600_000
#: The object that holds the applet table (generated from the configuration).
APPLET_TABLE = "libbb/appletlib.o"
#: Version of how toggles that need other options (:func:`prerequisites`) are measured.
CHAIN_RULE = 1


@dataclass(frozen=True)
class Around:
    """A built reference that symbols are flipped from.

    ``planned``: the values Kconfig gives ``assignments``; ``values``: the
    built ``.config``; ``keys``: the engine's object keys for it; ``deps`` and
    ``direct``: :func:`dependents` of those objects.
    """

    assignments: list[tuple[str, str]]
    planned: Mapping[str, str]
    values: Mapping[str, str]
    size: int
    link: LinkMap
    keys: Mapping[str, str]
    deps: Mapping[str, set[str]]
    direct: Mapping[str, set[str]]


def around(
    ctx: Measuring, assignments: list[tuple[str, str]], values: Mapping[str, str], size: int, link: LinkMap
) -> Around:
    """The reference the engine built last (``values``, ``size``, ``link``), ready to plan toggles from."""
    keys = ctx.eng.built().keys
    deps, direct = dependents(ctx.eng.wt.obj, ctx.tree, keys)
    planned = resolve(ctx.tree, assignments).values
    return Around(assignments, planned, values, size, link, keys, deps, direct)


@dataclass(frozen=True)
class Plan:
    """How to measure one symbol's toggle."""

    name: str
    flip: str
    moved: tuple[str, ...]
    compiled: frozenset[str]
    reuse: bool
    cost: int
    primary: str
    needs: tuple[str, ...] = ()
    applets: bool = False


def stale(t: Toggle, plan: Plan) -> bool:
    """A stored toggle measured by an older rule than ``plan`` asks for."""
    if plan.needs != t.needs or (plan.needs and t.chain != CHAIN_RULE):
        return True
    return plan.applets and not t.applets


def plan_toggle(tree: KconfigTree, ref: Around, name: str, obj: Path, arch: str) -> Plan:
    """Which objects a toggle recompiles, and their bytes (a proxy for the compile time).

    A symbol that ``libbb.h`` mentions is a dependency of every object; such a
    toggle recompiles only the objects whose own sources use the symbols it
    changes and links the reference's objects for the rest.
    """
    planned_ref = ref.planned
    flip = "n" if planned_ref.get(name) == "y" else "y"
    needs = prerequisites(tree, ref.assignments, name, arch) if flip == "y" else ()
    planned = resolve(tree, [*ref.assignments, *((n, "y") for n in needs), (name, flip)]).values
    moved = tuple(n for n, v in planned.items() if v != planned_ref.get(n))
    touched = set().union(*(ref.deps.get(n, set()) for n in moved)) if moved else set()
    reuse = len(touched) > DIRECT_ONLY_ABOVE and not set(moved) & set(FLAG_SYMBOLS)
    compiled = (
        set().union(*(ref.direct.get(n, set()) for n in moved)) & touched if reuse and moved else touched
    )
    applets = reuse and any(tree.is_applet(n) for n in moved)
    if applets:
        # The applet table lives there: a stand-in would keep the old set of applets.
        compiled |= {APPLET_TABLE}
    sizes = {
        t: (obj / t).stat().st_size
        for t in compiled
        if t.endswith(".o") and (obj / t).is_file() and t not in (APPLET_TABLE, "miscutils/bbconfig.o")
    }
    flag = bool(set(moved) & set(FLAG_SYMBOLS))
    cost = 10**9 if flag else sum(sizes.values())
    primary = max(sizes, key=lambda t: sizes[t]) if sizes and not flag else name
    return Plan(
        name,
        flip,
        moved,
        frozenset(compiled) if not flag else frozenset({name}),
        reuse,
        cost,
        primary,
        needs,
        applets,
    )


def measure_toggle(ctx: Measuring, ref: Around, plans: list[Plan]) -> Toggle:
    """Measure symbols flipped from the reference: size, changed symbols, section differences.

    A symbol that needs other options (one plan with ``needs``) is measured
    from the reference with them on, so that what it changes is its alone.
    """
    eng = ctx.eng
    needs = [(n, "y") for n in plans[0].needs] if len(plans) == 1 else []
    reuse: dict[str, str] = {}
    if any(p.reuse for p in plans):
        users = set().union(*(p.compiled for p in plans))
        reuse = {t: k for t, k in ref.keys.items() if t not in users}
    start_size, start_values, start_map = ref.size, ref.values, ref.link
    start_text = ctx.config_text([*ref.assignments, *needs, (plans[0].name, "n")]) if needs else ""
    text = ctx.config_text([*ref.assignments, *needs, *((p.name, p.flip) for p in plans)])
    while True:
        try:
            if needs:
                start_size = eng.measure(start_text, reuse=reuse).size
                start_values = ctx.built_values()
                start_map = ctx.link_map("start", ())
            size = eng.measure(text, reuse=reuse).size
            break
        except BuildError:
            if not reuse:
                raise
            # Stand-ins compiled for the reference do not link with this change: compile for real.
            reuse = {}
    values = ctx.built_values()
    changed = sorted(
        n for n in set(values) | set(start_values) if values.get(n, "n") != start_values.get(n, "n")
    )
    out = Toggle(
        flip=plans[0].flip,
        changed=changed,
        size=ref.size + size - start_size,
        diff={},
        approx=bool(reuse),
        applets=any(p.applets for p in plans),
    )
    if needs:
        out.needs = tuple(n for n, _ in needs)
        out.chain = CHAIN_RULE
    if not any(p.name in changed for p in plans):
        return out
    out.diff = section_diff(start_map, ctx.link_map("toggle", ()))
    return out


def section_diff(ref_map: LinkMap, lm: LinkMap) -> dict[str, int]:
    """Bytes each input section gained against the reference's link (negative: lost or gone)."""
    ref = ref_map.sections
    diff = {k: v - ref.get(k, 0) for k, v in lm.sections.items() if v != ref.get(k, 0)}
    diff.update({k: -v for k, v in ref.items() if k not in lm.sections})
    return diff


def share(res: Toggle, name: str, plan: Plan, members: list[str], ref_size: int) -> Toggle:
    """One member's equal share of a group toggle."""
    n = len(members)
    changed = sorted(set(plan.moved) & set(res.changed)) if name in res.changed else []
    return Toggle(
        flip=res.flip,
        changed=changed,
        size=ref_size + round((res.size - ref_size) / n),
        diff={k: round(d / n) for k, d in res.diff.items()},
        approx=True,
        group=n,
        members=members,
    )


def plan_toggles(ctx: Measuring, ref: Around, names: Iterable[str]) -> dict[str, Plan]:
    """:func:`plan_toggle` for each of ``names``."""
    obj, arch = ctx.eng.wt.obj, ctx.arch
    return {n: plan_toggle(ctx.tree, ref, n, obj, arch) for n in names}


def units(tree: KconfigTree, plans: Mapping[str, Plan], names: Iterable[str]) -> list[list[str]]:
    """``names`` as a fresh run with no budget measures them: in order, each unit measured together.

    Cheapest first, one by one; then the toggles above :data:`GROUP_ABOVE`,
    in groups (see :func:`measure_toggles`). A shard of a calibration takes
    whole units, so a group is never split between shards.
    """
    ordered = sorted(names, key=lambda n: (plans[n].cost, n))
    out = [[n] for n in ordered if plans[n].cost <= GROUP_ABOVE]
    groups: dict[tuple[str, str], list[str]] = {}
    for name in ordered:
        if plans[name].cost > GROUP_ABOVE:
            key = name if tree.is_applet(name) else plans[name].primary
            groups.setdefault((plans[name].flip, key), []).append(name)
    return out + list(groups.values())


def measure_toggles(
    ctx: Measuring,
    ref: Around,
    names: list[str],
    measured: dict[str, Toggle],
    budget: float | None,
    plans: Mapping[str, Plan] | None = None,
) -> dict[str, Plan]:
    """Toggle ``names`` around ``ref`` into ``measured`` (resumable); the plans, for the reach.

    ``budget``: seconds for toggling symbols one by one (cheapest first); the
    rest, and toggles that recompile more than :data:`GROUP_ABOVE`, are
    measured in groups of symbols that recompile the same objects, each
    charged an equal share. ``plans``: made already (:func:`plan_toggles`).
    """
    tree = ctx.tree
    plans = {n: plans[n] for n in names} if plans is not None else plan_toggles(ctx, ref, names)
    # A share of a group measured by an earlier, more hurried run is measured again alone.
    todo = sorted(
        (
            n
            for n in names
            if n not in measured
            or (measured[n].group > 1 and plans[n].cost <= GROUP_ABOVE)
            or stale(measured[n], plans[n])
        ),
        key=lambda n: (plans[n].cost, n),
    )
    deadline = None if budget is None else time.monotonic() + budget
    singles = [n for n in todo if plans[n].cost <= GROUP_ABOVE]
    rest = [n for n in todo if plans[n].cost > GROUP_ABOVE]
    done = len(names) - len(todo)
    for i, name in enumerate(singles):
        if deadline is not None and time.monotonic() > deadline:
            rest = singles[i:] + rest
            break
        ctx.checkpoint()
        began = time.monotonic()
        measured[name] = measure_toggle(ctx, ref, [plans[name]])
        done += 1
        ctx.emit("toggle", done, len(names), name)
        if i % 10 == 9 or time.monotonic() - began > 3:
            ctx.save()
    groups: dict[tuple[str, str], list[str]] = {}
    for name in rest:
        # An applet is never grouped: its toggle takes its sub-options along.
        key = name if tree.is_applet(name) else plans[name].primary
        groups.setdefault((plans[name].flip, key), []).append(name)
    for members in groups.values():
        ctx.checkpoint()
        res = measure_toggle(ctx, ref, [plans[n] for n in members])
        for name in members:
            measured[name] = share(res, name, plans[name], members, ref_size=ref.size)
        done += len(members)
        ctx.emit("toggle", done, len(names), f"{len(members)} together: {members[0]}...")
        ctx.save()
    return plans
