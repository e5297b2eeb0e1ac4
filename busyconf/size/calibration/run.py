"""A calibration run: measure both references, write the measurements, then the table re-fit from them."""

from __future__ import annotations

import dataclasses
import json
import threading
from pathlib import Path

from busyconf.errors import BuildError, UserError
from busyconf.model.kconfig import KconfigTree, load_tree
from busyconf.size.calibration.context import CalibrationProgress, Measuring, Progress
from busyconf.size.calibration.donors import Donor, find_donor, forced_lent, lent_failed, lent_toggles
from busyconf.size.calibration.ladder import measure_ladder
from busyconf.size.calibration.measurements import (
    Measurements,
    Reference,
    measurements_path,
    read_measurements,
    refit,
    write_measurements,
)
from busyconf.size.calibration.reach import (
    SIBLING_REACH_RULE,
    applet_mains,
    forced_reach,
    forced_toggle,
    is_current,
    library_reach,
    sibling_reach,
)
from busyconf.size.calibration.records import Minimal, Toggle
from busyconf.size.calibration.references import (
    applet_symbol,
    minimal_assignments,
    reference_assignments,
    referenced_symbols,
    selected_candidates,
    toggle_candidates,
)
from busyconf.size.calibration.relinks import variant_relinks
from busyconf.size.calibration.shards import (
    Shard,
    Split,
    merge,
    partial,
    partial_path,
    read_partial,
    write_partial,
)
from busyconf.size.calibration.state import State, load_state
from busyconf.size.calibration.toggles import around, measure_toggles, plan_toggles, units
from busyconf.size.calibration.usage_fit import measure_texts
from busyconf.size.cost_model import SizeModel
from busyconf.size.exact import ExactEngine, engine_for
from busyconf.size.table import save_table, user_table_path
from busyconf.size.workdir import WorkTree

#: ``transfer=NEAREST``: take the toggles of the nearest natively measured table.
NEAREST = "nearest"

FULL_STATE = "calibration-state.json"
SPARSE_STATE = "calibration-state-sparse.json"


@dataclasses.dataclass
class _Measured:
    """One reference measured: its record for the fit, and where it is kept while measuring."""

    reference: Reference
    ctx: Measuring
    state: State
    forced_off: list[str]
    split: Split | None = None


def calibrate(
    release: str,
    arch: str,
    toolchain: str = "zig",
    *,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
    out: Path | None = None,
    toggles: bool = True,
    transfer: str | None = None,
    budget: float | None = None,
    sparse: bool = True,
) -> tuple[Path, SizeModel]:
    """Measure, write the measurements and the table re-fit from them; returns the table's path and model.

    ``transfer``: instead of toggling here, take the compile-level toggles of
    a natively measured table (:mod:`.donors`: ``x86_64``, ``1.38.0``,
    ``1.38.0/x86_64``, or :data:`NEAREST`), scaled by the ratio of the
    reference sizes; symbols it never toggled are toggled here (minutes
    instead of hours; the link level is measured here either way). ``budget``:
    seconds for toggling symbols one by one (cheapest first); the rest, and
    toggles that recompile a big object (ash, hush, bc), are measured in groups
    of symbols that recompile the same objects, each charged an equal share.
    ``sparse``: also calibrate the second model around the sparse reference
    (allnoconfig + every applet), which the estimate blends in for
    configurations built up from allnoconfig. The measurements go beside the
    table (:func:`.measurements.measurements_path`).
    """
    m = measure(
        release,
        arch,
        toolchain,
        progress=progress,
        cancel=cancel,
        toggles=toggles,
        transfer=transfer,
        budget=budget,
        sparse=sparse,
    )
    return _write(m, out, progress)


def merge_files(paths: list[Path], out: Path | None = None) -> tuple[Path, SizeModel]:
    """Merge the shards' partial files (:func:`.shards.merge`) and write as :func:`calibrate` does."""
    return _write(merge([(p, read_partial(p)) for p in paths]), out, None)


def _write(m: Measurements, out: Path | None, progress: Progress | None) -> tuple[Path, SizeModel]:
    """Write the measurements and the table re-fit from them; the table's path and model."""
    path = out or user_table_path(m.key)
    saved = measurements_path(path)
    write_measurements(m, saved)
    # The table is the re-fit of what was written, so the two can never disagree.
    model = refit(read_measurements(saved))
    save_table(m.key, model.to_dict(), path)
    if progress is not None:
        progress(CalibrationProgress("done", 1, 1, str(path)))
    return path, model


def measure(
    release: str,
    arch: str,
    toolchain: str = "zig",
    *,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
    toggles: bool = True,
    transfer: str | None = None,
    budget: float | None = None,
    sparse: bool = True,
) -> Measurements:
    """Build the references and measure around them (resumable); the measurements, not yet fit."""
    donor = None
    if transfer is not None:
        donor = find_donor(release, arch, toolchain, None if transfer == NEAREST else transfer)
    m, _ = _measure(release, arch, toolchain, progress, cancel, toggles, donor, budget, sparse, None)
    return m


def calibrate_shard(
    release: str,
    arch: str,
    toolchain: str,
    shard: Shard,
    *,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
    out: Path | None = None,
    sparse: bool = True,
) -> Path:
    """Measure shard ``K/N`` of a calibration (:mod:`.shards`) and write its partial result; its path.

    ``out``: the partial file (default :func:`.shards.partial_path` in the
    current directory). Every toggle is measured alone or in its group, as
    with no budget, so that the merged shards give the unsharded table.
    """
    m, splits = _measure(release, arch, toolchain, progress, cancel, True, None, None, sparse, shard)
    p = partial(shard, splits, m)
    path = out or partial_path(Path.cwd(), m.key, shard)
    write_partial(p, path)
    if progress is not None:
        progress(CalibrationProgress("done", 1, 1, str(path)))
    return path


def _measure(
    release: str,
    arch: str,
    toolchain: str,
    progress: Progress | None,
    cancel: threading.Event | None,
    toggles: bool,
    donor: Donor | None,
    budget: float | None,
    sparse: bool,
    shard: Shard | None,
) -> tuple[Measurements, dict[str, Split]]:
    """:func:`measure`, or one shard of it (then also how each reference's toggles split)."""
    tree = load_tree(release)
    eng = engine_for(release, arch, toolchain)
    wt = eng.wt
    assignments = reference_assignments(tree, wt.arch.name, wt.toolchain.kind)
    full = _measure_reference(
        tree, eng, assignments, FULL_STATE, progress, cancel, toggles, donor, budget, shard=shard
    )
    minimal: Minimal | None
    try:
        minimal = _minimal(full)
    except BuildError:
        minimal = None
    low: _Measured | None = None
    if sparse:
        low = _measure_reference(
            tree,
            eng,
            minimal_assignments(tree, wt.arch.name, wt.toolchain.kind),
            SPARSE_STATE,
            progress,
            cancel,
            toggles,
            donor,
            budget,
            reference="sparse",
            shard=shard,
        )
    if progress is not None:
        progress(CalibrationProgress("usage", 0, 1, "usage texts from include/usage.h"))
    texts = measure_texts(tree, wt, full.reference.values)
    sparse_ref = None
    if low is not None:
        # Measured with the full reference's progress, as the usage texts are.
        ladder_ctx = dataclasses.replace(low.ctx, progress=progress, reference="full")
        points = measure_ladder(ladder_ctx, sorted(low.reference.relinks.by_symbol), low.state.ladder)
        sparse_ref = dataclasses.replace(low.reference, ladder=tuple(points))
    splits = {
        k: r.split for k, r in (("full", full), ("sparse", low)) if r is not None and r.split is not None
    }
    m = Measurements(
        release,
        wt.arch.name,
        toolchain,
        wt.toolchain.version,
        wt.tools.tools_dir.name,
        tuple(sorted({applet_symbol(a) for a in tree.applets})),
        full.reference,
        minimal,
        sparse_ref,
        texts,
    )
    return m, splits


def _measure_reference(
    tree: KconfigTree,
    eng: ExactEngine,
    assignments: list[tuple[str, str]],
    state_name: str,
    progress: Progress | None,
    cancel: threading.Event | None,
    toggles: bool,
    donor: Donor | None,
    budget: float | None,
    reference: str = "full",
    shard: Shard | None = None,
) -> _Measured:
    """Build a reference, relink it per applet and toggle every symbol around it (resumable)."""
    wt = eng.wt
    work = wt.root / "relink"
    ctx = Measuring(tree, eng, work, progress, cancel, reference=reference)
    ref_text = ctx.config_text(assignments)
    state_path = wt.root / state_name
    state = load_state(state_path, state_signature(ref_text, wt))
    ctx.save = lambda: state.save(state_path)

    ctx.emit("build", 0, 0, f"building the reference in {wt.root}")
    compiled = 0

    def on_line(line: str) -> None:
        nonlocal compiled
        if line.startswith("  CC "):
            compiled += 1
            ctx.emit("build", compiled, 0, line.strip())

    ref = eng.measure(ref_text, cancel=cancel, on_line=on_line)
    if state.toggles and state.ref_size and state.ref_size != ref.size:
        # Every toggle is a size against the reference it was measured around.
        raise UserError(
            f"{state_path}: its toggles were measured around a {state.ref_size:,}-byte reference, "
            f"built now at {ref.size:,} bytes; delete it to measure afresh"
        )
    ref_values = ctx.built_values()
    work.mkdir(exist_ok=True)
    ref_map = ctx.link_map("ref", ())
    state.ref_size = ref.size
    measured = state.toggles
    referenced = referenced_symbols(wt.obj, tree)
    forced_off: list[str] = []
    selected = selected_candidates(tree, assignments, ref_values, referenced)
    # A transfer lends the donor's forced toggles too (their reach renamed to this tree's
    # sections): measuring them was six of a transfer's ten minutes, for no better a table.
    lent_forced = forced_lent(donor, reference, selected)
    for name in selected:
        if name in lent_forced:
            if not lent_failed(donor, reference, name):
                forced_off.append(name)
            continue
        t = measured.get(name)
        if not (t is not None and t.forced and (t.failed or is_current(t))):
            ctx.checkpoint()
            ctx.emit("toggle", 0, 0, f"{name} (forced off)")
            try:
                t = forced_toggle(ctx, ref_text, ref_map, name, applet_mains(ctx, ref_values))
            except BuildError:
                t = Toggle("n", [], ref.size, {}, forced=True, failed=True)
            measured[name] = t
            ctx.save()
        if not t.failed:
            forced_off.append(name)
    forced_reach(ctx, ref_text, ref_values, [measured[n] for n in forced_off if n not in lent_forced])
    relinks = variant_relinks(ctx, assignments, forced_off, state.relinks)
    split = None
    used: dict[str, Toggle] = dict(measured)
    note = ""
    if toggles and donor is None:
        eng.measure(ref_text, cancel=cancel)
        names = toggle_candidates(tree, referenced)
        ref_around = around(ctx, assignments, ref_values, ref.size, ref_map)
        plans = plan_toggles(ctx, ref_around, names)
        mine = names
        if shard is not None:
            # The forced toggles are every shard's; the others go round robin, a group whole.
            order = units(tree, plans, [n for n in names if n not in selected])
            split = Split.of(ref_text, selected, names, [n for unit in order for n in unit])
            taken = shard.take(order)
            mine = [n for n in names if n in taken or n in selected]
        measure_toggles(ctx, ref_around, mine, measured, budget, plans)
        library_reach(ctx, ref_around, ref_text, measured, {n: plans[n] for n in mine})
        eng.measure(ref_text, cancel=cancel)
        keep = {*mine, *selected}
        used = {n: t for n, t in measured.items() if shard is None or n in keep}
    elif donor is not None:
        names = toggle_candidates(tree, referenced)
        lent, note = lent_toggles(donor, reference, ref.size, set(names), relinks, lent_forced)
        # What the donor never toggled (new in this release) is toggled here.
        new = [n for n in names if n not in lent and n not in selected]
        if new:
            eng.measure(ref_text, cancel=cancel)
            ref_around = around(ctx, assignments, ref_values, ref.size, ref_map)
            plans = plan_toggles(ctx, ref_around, new)
            measure_toggles(ctx, ref_around, new, measured, budget, plans)
            library_reach(ctx, ref_around, ref_text, measured, plans)
            eng.measure(ref_text, cancel=cancel)
        here = {n: t for n, t in measured.items() if t.forced and n in selected and n not in lent}
        used = {**lent, **here, **{n: t for n, t in measured.items() if n in new}}
    if state.sibling_rule != SIBLING_REACH_RULE:
        state.sibling_reach, state.sibling_rule = {}, SIBLING_REACH_RULE
    used = sibling_reach(ctx, assignments, ref_text, ref_values, used, relinks.by_symbol, state.sibling_reach)
    record = Reference(ref.size, ref_values, relinks, used, note, donor=donor.label if donor else "")
    return _Measured(record, ctx, state, forced_off, split)


def state_signature(ref_text: str, wt: WorkTree) -> str:
    """What a reference's state was measured for: its .config and the toolchain."""
    return json.dumps([ref_text, f"{wt.toolchain.version} {wt.tools.variables}"])


def reference_states(tree: KconfigTree, wt: WorkTree) -> list[tuple[str, list[tuple[str, str]]]]:
    """Each reference's state file and assignments: the full one, then the sparse one."""
    arch, kind = wt.arch.name, wt.toolchain.kind
    return [
        (FULL_STATE, reference_assignments(tree, arch, kind)),
        (SPARSE_STATE, minimal_assignments(tree, arch, kind)),
    ]


def _minimal(full: _Measured) -> Minimal:
    """The minimal reference: its exact size, values and per-applet link maps."""
    ctx, state = full.ctx, full.state
    tree, eng = ctx.tree, ctx.eng
    assignments = minimal_assignments(tree, ctx.arch, ctx.toolchain_kind)
    if state.minimal_size is None:
        ctx.emit("build", 0, 0, "building the minimal reference")
        state.minimal_size = eng.measure(ctx.config_text(assignments), cancel=ctx.cancel).size
        state.minimal_values = ctx.built_values()
        ctx.save()
    relinks = variant_relinks(ctx, assignments, full.forced_off, state.minimal_relinks, n_subsets=0)
    return Minimal(state.minimal_size, dict(state.minimal_values), relinks.links)
