"""What a symbol's code reaches only while it is on: forced toggles and library functions."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import replace

from busyconf.errors import BuildError
from busyconf.size import usage as usage_texts
from busyconf.size.calibration.context import Measuring
from busyconf.size.calibration.records import Toggle, siblings
from busyconf.size.calibration.toggles import Around, Plan, section_diff
from busyconf.size.linkmap import LinkMap, object_of

#: Version of what :func:`forced_reach` keeps (a change measures the forced toggles again).
REACH_RULE = 5
#: Version of what :func:`library_reach` keeps (a change probes the toggles again).
LIBRARY_REACH_RULE = 2
#: Objects whose code applets share: a toggle that changes a function there may make it
#: call code other applets keep (FEATURE_SEAMLESS_XZ: open_zipped calls the xz decoder).
LIBRARY_OBJECTS = ("libbb/", "archival/libarchive/")


def forced_toggle(ctx: Measuring, ref_text: str, ref_map: LinkMap, name: str, mains: list[str]) -> Toggle:
    """The reference with a selected symbol forced off in the compiled headers.

    Besides the toggle's size and section differences, a *probe*: the
    functions whose code changed, relinked with no applet; :func:`forced_reach`
    relinks them again with the symbol on to see what they reach through it.
    See :func:`.references.selected_candidates`.
    """
    res = ctx.eng.measure(ref_text, force={name: False})
    diff = section_diff(ref_map, ctx.link_map("toggle", ()))
    probe = sorted({function_of(k) for k in diff} - {""})
    return Toggle(
        flip="n",
        changed=[name],
        size=res.size,
        diff=diff,
        forced=True,
        probe=probe,
        probe_off_each={f: probe_link(ctx, mains, [f]).sections for f in probe},
    )


def is_current(t: Toggle) -> bool:
    """A forced toggle measured by this rule (or measured and waiting for its reach)."""
    return t.reach_rule == REACH_RULE or t.probe_off_each is not None


def forced_reach(ctx: Measuring, ref_text: str, ref_values: Mapping[str, str], forced: list[Toggle]) -> None:
    """What each forced symbol's code reaches only while it is on (``reach`` of its toggle).

    Each function of the probe relinked alone with the reference's objects,
    against the same with the symbol off: sections that appear only with it
    on, and that the toggle itself did not change (musl's syslog and strftime
    behind FEATURE_SYSLOG; gunzip behind FEATURE_SEAMLESS_GZ), are kept alive
    by the symbol, so the symbol becomes one more user of their units. One
    function at a time, because logger's main, which the toggle also changed,
    reaches syslog either way.
    """
    todo = [t for t in forced if t.probe_off_each is not None]
    if not todo:
        return
    ctx.eng.measure(ref_text, cancel=ctx.cancel)
    mains = applet_mains(ctx, ref_values)
    for t in todo:
        off_each = t.probe_off_each or {}
        t.probe_off_each = None
        pairs = ((probe_link(ctx, mains, [f]).sections, off) for f, off in off_each.items())
        t.reach = reached(pairs, t.diff)
        t.reach_rule = REACH_RULE
    ctx.save()


def reached(
    pairs: Iterable[tuple[Mapping[str, int], Mapping[str, int]]], diff: Mapping[str, int]
) -> dict[str, int]:
    """Sections some probe keeps only in its on state (``pairs``: on, off), and the toggle did not change."""
    reach: dict[str, int] = {}
    for on, off in pairs:
        reach.update((k, v) for k, v in on.items() if k not in off and k not in diff)
    return reach


def changes_library(t: Toggle) -> list[str]:
    """Functions of :data:`LIBRARY_OBJECTS` that grow with the symbol on, sorted."""
    if t.forced or t.needs or t.group > 1:
        return []
    sign = 1 if t.flip == "y" else -1
    return sorted(
        {function_of(k) for k, d in t.diff.items() if sign * d > 0 and k.startswith(LIBRARY_OBJECTS)} - {""}
    )


def library_reach(
    ctx: Measuring, ref: Around, ref_text: str, measured: dict[str, Toggle], plans: Mapping[str, Plan]
) -> None:
    """What a toggle's library functions reach only while the symbol is on, as :func:`forced_reach` does.

    A toggle's link map shows what its code changed, not the code it starts
    (or stops) calling that other applets keep alive anyway: around the
    sparse reference the xz decoder is unxz's, and FEATURE_SEAMLESS_XZ came to
    211 bytes where it brings 8.8 KB to man. The functions it changed are
    relinked with no applet in both states; the sections only the on state
    keeps make the symbol one more user of their units. Each function is
    relinked alone: tar's get_header_tar_xz, which the toggle also changed,
    reaches the decoder either way and would hide what open_transformer's
    function reaches only with the option on.
    """
    tree = ctx.tree
    todo = {
        n: probe
        for n, t in measured.items()
        if t.library_reach != LIBRARY_REACH_RULE
        and n in t.changed
        and n in plans
        and not tree.is_applet(n)
        and n not in usage_texts.SYMBOLS
        and (probe := changes_library(t))
    }
    if not todo:
        return
    mains = applet_mains(ctx, ref.values)

    def probe_maps(probe: list[str]) -> dict[str, dict[str, int]]:
        return {f: probe_link(ctx, mains, [f]).sections for f in probe}

    toggled: dict[str, dict[str, dict[str, int]]] = {}
    for i, (name, probe) in enumerate(sorted(todo.items())):
        ctx.checkpoint()
        plan = plans[name]
        # Linked as the toggle was: with the reference's stand-ins when it was approximate.
        approx = measured[name].approx
        reuse = {t: k for t, k in ref.keys.items() if t not in plan.compiled} if approx else {}
        try:
            ctx.eng.measure(
                ctx.config_text([*ref.assignments, (name, plan.flip)]), cancel=ctx.cancel, reuse=reuse
            )
        except BuildError:
            measured[name].reach = {}
            measured[name].library_reach = LIBRARY_REACH_RULE
            continue
        toggled[name] = probe_maps(probe)
        ctx.emit("reach", i + 1, len(todo), name)
    ctx.eng.measure(ref_text, cancel=ctx.cancel)
    for name, probe in todo.items():
        if name not in toggled:
            continue
        t = measured[name]
        pairs = (
            (toggled[name][f], at_ref) if t.flip == "y" else (at_ref, toggled[name][f])
            for f, at_ref in probe_maps(probe).items()
        )
        t.reach = reached(pairs, t.diff)
        t.library_reach = LIBRARY_REACH_RULE
    ctx.save()


def probe_link(ctx: Measuring, mains: list[str], functions: list[str]) -> LinkMap:
    """The tree's objects linked with no applet but ``functions`` (an applet's main among them)."""
    keep = set(functions)
    undefined = [f"--undefined={f}" for f in functions]
    return ctx.link_map("probe", [m for m in mains if m not in keep], undefined)


def applet_mains(ctx: Measuring, values: Mapping[str, str]) -> list[str]:
    return sorted({a.main for a in ctx.tree.applets if a.main and a.enabled(values)})


#: A function's static data: ``.rodata.ip_main.ip_func_ptrs`` belongs to ``ip_main``.
_STATIC_OF = re.compile(r"\.(?:rodata|data\.rel\.ro|data|bss)\.([A-Za-z_]\w*)\.[A-Za-z_]\w*\)$")


def function_of(key: str) -> str:
    """``bb_verror_msg`` for ``libbb/verror_msg.o:(.text.bb_verror_msg)``; "" for other data or libc.

    A function's static data counts as the function: FEATURE_IP_ADDRESS,
    forced off, changes only ``ip_main``'s table of subcommands.
    """
    obj, _, section = key.partition(":(")
    if ".a(" in obj or obj.startswith(("/", "<")):
        return ""
    if section.startswith(".text."):
        return section[len(".text.") : -1].split(".")[-1]
    static = _STATIC_OF.match(section)
    return static.group(1) if static else ""


#: Version of what :func:`sibling_reach` keeps (a change probes the applets again).
SIBLING_REACH_RULE = 1
#: What every applet toggle changes (applet tables, the linker's merged strings): no applet's code.
_TABLES = ("libbb/appletlib.o", "miscutils/bbconfig.o", "<internal>")


def sibling_probes(
    toggles: Mapping[str, Toggle], by_symbol: Mapping[str, list[str]], values: Mapping[str, str]
) -> dict[str, set[str]]:
    """Applets sharing a main with another applet on in the reference: the objects their toggle grows.

    The applet tables every applet toggle changes do not count; an applet
    whose toggle changes nothing else compiles nothing its siblings share.
    """
    sib = siblings(by_symbol)
    out: dict[str, set[str]] = {}
    for name, t in toggles.items():
        if t.forced or t.failed or name not in t.changed or name not in by_symbol:
            continue
        if not any(values.get(s) == "y" for s in sib.get(name, ())):
            continue
        sign = 1 if t.flip == "y" else -1
        grown = {object_of(k) for k, d in t.diff.items() if sign * d > 0 and not k.startswith(_TABLES)}
        if grown:
            out[name] = grown
    return out


def sibling_reach(
    ctx: Measuring,
    assignments: list[tuple[str, str]],
    ref_text: str,
    ref_values: Mapping[str, str],
    toggles: Mapping[str, Toggle],
    by_symbol: Mapping[str, list[str]],
    cache: dict[str, dict[str, int]],
) -> dict[str, Toggle]:
    """``toggles`` with ``reach`` set for applets whose code other applets share.

    ``[[`` (TEST2) compiles ``=~`` into test.o, so test_main calls musl's
    regex only while TEST2 is on; the per-applet relinks, made with every
    applet on, charge the regex to ``test`` too. The applet's main is relinked
    with no other applet, with the applet on and off; what only the on state
    keeps is its ``reach``, and :func:`.fit.units` takes it from the applets
    sharing the main. Applets whose toggles change different objects are
    flipped together, one build per round. ``cache`` (the state's, by
    applet) holds what was probed.
    """
    probes = sibling_probes(toggles, by_symbol, ref_values)
    todo = sorted(n for n in probes if n not in cache)
    if todo:
        sib = siblings(by_symbol)
        rounds: list[tuple[list[str], set[str]]] = []
        for name in todo:
            spot = next(
                (r for r in rounds if not r[1] & probes[name] and not any(o in sib[name] for o in r[0])),
                None,
            )
            if spot is None:
                rounds.append(([name], set(probes[name])))
            else:
                spot[0].append(name)
                spot[1].update(probes[name])
        mains = applet_mains(ctx, ref_values)
        flipped: dict[str, dict[str, int]] = {}
        for i, (members, _) in enumerate(rounds):
            ctx.checkpoint()
            shown = ", ".join(members[:4]) + (f" and {len(members) - 4} more" if len(members) > 4 else "")
            ctx.emit("reach", i + 1, len(rounds), f"applets whose code others share: {shown}")
            flips = [(n, toggles[n].flip) for n in members]
            try:
                ctx.eng.measure(ctx.config_text([*assignments, *flips]), cancel=ctx.cancel)
            except BuildError:
                cache.update({n: {} for n in members})
                continue
            flipped.update({n: probe_link(ctx, mains, list(by_symbol[n])).sections for n in members})
        ctx.eng.measure(ref_text, cancel=ctx.cancel)
        for name, sections in flipped.items():
            at_ref = probe_link(ctx, mains, list(by_symbol[name])).sections
            on, off = (sections, at_ref) if toggles[name].flip == "y" else (at_ref, sections)
            cache[name] = reached([(on, off)], toggles[name].diff)
        ctx.save()
    out = dict(toggles)
    for name in probes:
        if cache.get(name):
            out[name] = replace(toggles[name], reach=dict(cache[name]))
    return out
