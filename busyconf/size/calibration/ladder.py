"""Around allnoconfig: configurations with random shares of the applets, and the line they give.

Anchored at the sparse reference, the model adds up applets measured one
at a time; code that any of several applets compiles in is not in any
one's toggle, and the anchor gives it to every configuration (allnoconfig
with true alone: 13,614 estimated, 3,792 real on x86_64). allnoconfig
with seeded random shares of the applets is built (:func:`measure_ladder`)
and the model's excess there gives a line from allnoconfig to the
reference, taken off in between (:func:`with_residual`, pure).
"""

from __future__ import annotations

import dataclasses
import hashlib
import random
import statistics
from collections.abc import Iterable, Mapping, Sequence

from busyconf.errors import BuildError
from busyconf.model.profile import allnoconfig_assignments
from busyconf.size import usage as usage_texts
from busyconf.size.calibration.context import Measuring
from busyconf.size.calibration.records import LadderPoint
from busyconf.size.calibration.references import every_applet_on
from busyconf.size.cost_model import Evaluation, SizeModel

#: Shares of the sparse reference's applets in the configurations :func:`measure_ladder` builds.
LADDER = (0.0, 0.01, 0.02, 0.05, 0.1, 0.2, 0.4, 0.7)


def measure_ladder(ctx: Measuring, symbols: list[str], done: dict[str, LadderPoint]) -> list[LadderPoint]:
    """Build allnoconfig with each share of :data:`LADDER` of ``symbols`` (stored in ``done``)."""
    tree = ctx.tree
    rng = random.Random(7)
    start = allnoconfig_assignments(tree)
    out = []
    for i, share in enumerate(LADDER):
        subset = [n for n in symbols if rng.random() < share]
        key = ladder_key(share, subset)
        if key not in done:
            ctx.checkpoint()
            ctx.emit("ladder", i, len(LADDER), f"{len(subset)} applets")
            assignments = every_applet_on(tree, start, ctx.arch, ctx.toolchain_kind, subset)
            try:
                size = ctx.eng.measure(ctx.config_text(assignments), cancel=ctx.cancel).size
            except BuildError:
                done[key] = LadderPoint(share, tuple(subset), failed=True)
            else:
                on = tuple(sorted(n for n, v in ctx.built_values().items() if v == "y"))
                done[key] = LadderPoint(share, tuple(subset), size, on)
            ctx.save()
        out.append(done[key])
    ctx.emit("ladder", len(LADDER), len(LADDER), "done")
    return out


def ladder_key(share: float, applets: Sequence[str]) -> str:
    """How a ladder point is kept in the calibration state."""
    return f"{share} {len(applets)} {hash_names(applets)}"


def hash_names(names: Iterable[str]) -> str:
    """A short digest of a list of names (a key for stored measurements)."""
    return hashlib.sha256(" ".join(names).encode()).hexdigest()[:12]


def with_residual(
    model: SizeModel,
    symbols: list[str],
    points: Iterable[LadderPoint],
    usage: usage_texts.UsageModel | None,
) -> SizeModel:
    """The sparse model with what it overestimates between allnoconfig and its reference.

    Each point's excess (model minus real size) at its share of ``symbols``;
    a line to 0 at the reference, its slope the median of the points': one
    configuration mispriced by a borrowed toggle (armv7: 25.9 KB at 6 % of the
    applets, about 1 KB at the shares beside it) does not bend it.
    """
    by_share: dict[float, list[int]] = {}
    for p in points:
        if p.failed:
            continue
        on = set(p.on)
        ev = Evaluation(model)
        ev.sync(n for n in model.names if n in on)
        excess = ev.total + usage_total(usage, {n: "y" for n in on}) - p.size
        by_share.setdefault(sum(1 for n in symbols if n in on) / len(symbols), []).append(excess)
    measured = sorted((x, e) for x, v in by_share.items() for e in v)
    if not any(x < 1 for x, _ in measured):
        return model
    at_none = round(statistics.median(e / (1 - x) for x, e in measured if x < 1))
    return dataclasses.replace(
        model,
        residual=((0.0, at_none), (1.0, 0)),
        residual_symbols=tuple(symbols),
        info={**model.info, "residual_measured": [list(p) for p in measured]},
    )


def usage_total(usage: usage_texts.UsageModel | None, values: Mapping[str, str]) -> int:
    """What the usage term gives ``values`` (0 without one)."""
    if usage is None:
        return 0
    state = usage_texts.UsageState(usage)
    for name, value in values.items():
        if value == "y":
            state.set(name, True)
    return state.total
