"""Seed a native calibration's resumable state from its measurements file.

The state (``calibration-state*.json`` in the measuring tree) is cache and
can be lost; the measurements (``<table>.measurements.json.xz``) are kept in
the package. After a calibration step is added (a new probe), a native table
whose state is gone would otherwise be measured again from scratch, for
hours. This writes the state the calibration would have left, so that::

    python scripts/state_from_measurements.py busyconf/size/tables/1.38.0-x86_64-zig.measurements.json.xz
    python -m busyconf size calibrate --arch x86_64 --release 1.38.0 --out NEW.json.xz

rebuilds the references, relinks them, and measures only what the
measurements lack. Compare the new measurements with the old before
shipping them: everything but the new step's records should be equal.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from busyconf.model.dotconfig import dotconfig_text
from busyconf.model.kconfig import KconfigTree, load_tree
from busyconf.size.calibration.ladder import ladder_key
from busyconf.size.calibration.measurements import Reference, read_measurements
from busyconf.size.calibration.relinks import relink_signature, relink_text
from busyconf.size.calibration.run import FULL_STATE, SPARSE_STATE, reference_states, state_signature
from busyconf.size.calibration.state import RelinkState, State
from busyconf.size.exact import engine_for
from busyconf.size.linkmap import LinkMap


def _relinks(
    tree: KconfigTree, assignments: list[tuple[str, str]], ref: Reference, links: dict[str, LinkMap]
) -> RelinkState:
    """The relinks as :func:`.relinks.variant_relinks` keeps them (its signature, the links by job)."""
    forced_off = [n for n, t in ref.toggles.items() if t.forced and not t.failed]
    return RelinkState(relink_signature(relink_text(tree, assignments), forced_off), dict(links))


def _state(signature: str, ref: Reference) -> State:
    state = State(signature, ref.size, dict(ref.toggles))
    state.ladder = {ladder_key(p.share, p.applets): p for p in ref.ladder}
    return state


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("measurements", type=Path, help="a RELEASE-ARCH-zig.measurements.json.xz file")
    parser.add_argument("--force", action="store_true", help="replace a state that is there")
    args = parser.parse_args(argv)
    m = read_measurements(args.measurements)
    if m.full.donor:
        why = "a transfer's measurements; a transfer is re-run from its donor"
        print(f"{args.measurements}: {why}", file=sys.stderr)
        return 2
    tree = load_tree(m.release)
    eng = engine_for(m.release, m.arch, m.toolchain)
    wt = eng.wt
    refs = dict(zip((FULL_STATE, SPARSE_STATE), (m.full, m.sparse), strict=True))
    states = reference_states(tree, wt)
    there = [wt.root / name for name, _ in states if (wt.root / name).exists()]
    if there and not args.force:
        print(f"{there[0]}: a state is there; --force replaces it", file=sys.stderr)
        return 2
    for name, assignments in states:
        ref = refs[name]
        if ref is None:
            continue
        path = wt.root / name
        state = _state(state_signature(dotconfig_text(tree, assignments), wt), ref)
        state.relinks = _relinks(tree, assignments, ref, ref.relinks.links)
        if name == FULL_STATE and m.minimal is not None:
            state.minimal_size = m.minimal.size
            state.minimal_values = dict(m.minimal.values)
            state.minimal_relinks = _relinks(tree, dict(states)[SPARSE_STATE], ref, m.minimal.links)
        state.save(path)
        print(f"{path}: {len(ref.toggles)} toggles, {len(ref.ladder)} ladder points")
    return 0


if __name__ == "__main__":
    sys.exit(main())
