"""Link level: the reference's objects relinked with no applet, each applet alone, and random subsets."""

from __future__ import annotations

import json
import random
from collections.abc import Iterable

from busyconf.errors import BuildError
from busyconf.model.dotconfig import dotconfig_text
from busyconf.model.kconfig import KconfigTree
from busyconf.size.calibration.context import Measuring
from busyconf.size.calibration.records import Relinks
from busyconf.size.calibration.references import applet_symbol
from busyconf.size.calibration.state import RelinkState

#: Random applet subsets relinked to fit the merged-strings term.
SUBSETS = 40

#: Off in the tree whose objects are relinked: the unit tests register themselves
#: from constructors, which keep printf, strftime and more alive in every relink
#: (44.7 KB instead of 11.4 KB with no applet, allnoconfig, x86_64). The reference
#: keeps it on; its toggle prices it.
RELINK_OFF = ("UNIT_TEST",)


def variant_relinks(
    ctx: Measuring,
    assignments: list[tuple[str, str]],
    forced_off: list[str],
    done: RelinkState,
    n_subsets: int = SUBSETS,
) -> Relinks:
    """Relinks (:func:`relinks`) of the reference with :data:`RELINK_OFF` and ``forced_off`` off.

    With the options that ``select`` them off, libbb compiled for every applet
    does not call what they add (syslog, and with it musl's strftime and time
    zones, from every error message): the units' users are then those that
    call it themselves. The relinks are kept in ``done``.
    """
    text = relink_text(ctx.tree, assignments)
    force = {n: False for n in forced_off}
    signature = relink_signature(text, forced_off)
    if done.config != signature:
        done.links.clear()
        done.config = signature
    try:
        ctx.eng.measure(text, cancel=ctx.cancel, force=force)
    except BuildError:
        # Forced off together they do not build: relink with them as Kconfig says.
        ctx.eng.measure(text, cancel=ctx.cancel)
    return relinks(ctx, ctx.built_values(), done, n_subsets=n_subsets)


def relink_text(tree: KconfigTree, assignments: list[tuple[str, str]]) -> str:
    """The .config the reference is relinked from: :data:`RELINK_OFF` off."""
    return dotconfig_text(tree, [*assignments, *((n, "n") for n in RELINK_OFF if tree.has(n))])


def relink_signature(text: str, forced_off: Iterable[str]) -> str:
    """What a :class:`.state.RelinkState` was relinked for: the .config and the options forced off."""
    return json.dumps([text, sorted(forced_off)])


def relinks(
    ctx: Measuring, ref_values: dict[str, str], done: RelinkState, n_subsets: int = SUBSETS
) -> Relinks:
    """Link maps of the reference with no applet, each applet symbol alone, and random subsets."""
    tree = ctx.tree
    by_symbol: dict[str, list[str]] = {}
    for applet in tree.applets:
        if applet.main and applet.enabled(ref_values):
            by_symbol.setdefault(applet_symbol(applet), []).append(applet.main)
    all_mains = sorted({m for ms in by_symbol.values() for m in ms})
    # A choice the reference did not pick (sh is ash, not hush) runs a main another
    # symbol keeps: it costs what that symbol's code costs.
    owner = {m: s for s, ms in by_symbol.items() for m in ms}
    aliases = {
        applet_symbol(a): owner[a.main]
        for a in tree.applets
        if a.main in owner and applet_symbol(a) not in by_symbol and tree.has(applet_symbol(a))
    }
    subsets = random_subsets(sorted(by_symbol), n_subsets) if n_subsets else {}
    links = done.links
    jobs = ["(none)", *sorted(by_symbol), *sorted(subsets)]
    for i, job in enumerate(jobs):
        if job in links:
            continue
        ctx.checkpoint()
        keep = (
            {m for s in subsets[job] for m in by_symbol[s]} if job in subsets else set(by_symbol.get(job, ()))
        )
        links[job] = ctx.link_map("applet", [m for m in all_mains if m not in keep])
        ctx.emit("relink", i + 1, len(jobs), job)
        if i % 50 == 49:
            ctx.save()
    ctx.save()
    return Relinks(dict(links), by_symbol, tuple((j, tuple(s)) for j, s in subsets.items()), aliases)


def random_subsets(symbols: list[str], n: int) -> dict[str, list[str]]:
    rng = random.Random(1)
    out: dict[str, list[str]] = {}
    for i in range(n):
        p = (0.02, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 1.0)[i % 8]
        out[f"(subset {i})"] = sorted(s for s in symbols if rng.random() < p) or symbols[:1]
    return out
