"""Calibration: measure a size model for (release, arch, toolchain) with real builds.

Method (chosen by measurement; see ``bench/size_accuracy.py``), done around
two references, defconfig and allnoconfig, each with every applet on:

1. The reference ``R`` (known-broken options off) is built once; the exact
   engine (:mod:`busyconf.size.exact`) then measures everything else from
   cached objects.
2. Options that others ``select`` (:func:`selected_candidates`) are measured
   forced off in the compiled headers, and what their code reaches only
   while they are on is found by relinking it both ways (:func:`_reach`).
3. Link level: ``R``'s objects, compiled with the unit tests and the
   selected options off (:func:`_variant_relinks`), are relinked with the
   real linker, once with every applet's ``*_main`` defined away and once per
   applet symbol keeping only that applet. The link maps say which input
   sections each applet keeps alive under ``--gc-sections``; sections with
   the same set of users form a *unit*, so libbb code several applets share
   is counted once. A selected option is one more user of what it reaches.
4. Compile level: every bool symbol that some object, host program or Kbuild
   file depends on is toggled from ``R`` (off when on, on when off) and the
   exact stripped size measured. The link-map difference is charged to the
   units whose sections changed (a feature of ``ls`` grows ``ls``'s units and
   counts only while they are live; a libbb feature grows the units of every
   applet that uses that code); what no unit holds is the symbol's own cost.
   Symbols a toggle switches along with it (sub-options) are subtracted, so
   each symbol is charged only for itself. An option that cannot be on alone
   (FEATURE_SUN_LABEL around allnoconfig) is measured from the reference
   with the options it needs on (:func:`prerequisites`).
   A toggle that changes a library function is relinked once more, that
   function alone with the symbol on and off: what it reaches only while on
   (FEATURE_SEAMLESS_XZ: the decoder other applets keep) makes the symbol
   one more user of those units (:func:`_library_reach`).
5. The usage texts are left to :mod:`busyconf.size.usage` (from
   ``include/usage.h``); the model is anchored so that, with them, it gives
   ``R``'s size exactly.
6. Around allnoconfig, a few configurations with random shares of the
   applets are built; what the sparse model gives too many there, as a line
   from allnoconfig to the reference, is taken off (:func:`_ladder`).

Measurements are stored as they finish, so an interrupted calibration resumes.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
import random
import re
import statistics
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import kconfiglib

from busyconf.build import broken
from busyconf.build import config_lines as bdot
from busyconf.build.kbuild import FORCED
from busyconf.errors import BuildError, Interrupted, UserError
from busyconf.model.config import resolve
from busyconf.model.dotconfig import dotconfig_text
from busyconf.model.kconfig import KconfigTree, load_tree
from busyconf.model.profile import allnoconfig_assignments
from busyconf.size import usage as usage_texts
from busyconf.size.cost_model import Evaluation, SizeModel, SymbolCost
from busyconf.size.exact import FLAG_SYMBOLS, ExactEngine, engine_for
from busyconf.size.linkmap import LinkMap, read_map
from busyconf.size.table import TableKey, save_table

#: Random applet subsets relinked to fit the merged-strings term.
SUBSETS = 40
#: Version of the measurements in the state file (a change starts afresh).
STATE_VERSION = 2


@dataclass(frozen=True)
class CalibrationProgress:
    """``phase``: build, relink, toggle, done; ``done``/``total`` within the phase."""

    phase: str
    done: int
    total: int
    message: str = ""
    reference: str = "full"


Progress = Callable[[CalibrationProgress], None]


def _emit(progress: Progress | None, event: CalibrationProgress) -> None:
    if progress is not None:
        progress(event)


def reference_assignments(tree: KconfigTree, arch: str, toolchain_kind: str = "zig") -> list[tuple[str, str]]:
    """defconfig with every applet symbol on and the known-broken options off."""
    return _every_applet_on(tree, [], arch, toolchain_kind)


def _every_applet_on(
    tree: KconfigTree,
    start: list[tuple[str, str]],
    arch: str,
    toolchain_kind: str,
    only: Iterable[str] | None = None,
) -> list[tuple[str, str]]:
    """``start``, every applet symbol (or those of ``only``), the forced values; known-broken options off."""
    out = list(start)
    every = sorted({a.requires[-1] for a in tree.applets}) if only is None else list(only)
    out += [(n, "y") for n in every if tree.has(n)]
    out += [(k, v) for k, v in FORCED.items() if tree.has(k) and tree.type_of(k) == "bool"]
    for _ in range(3):
        config = resolve(tree, out)
        problems = broken.check(config.values, release=tree.release, toolchain=toolchain_kind, arch=arch)
        if not problems:
            break
        out += [(p.symbol, p.safe) for p in problems]
    return out


def config_text(tree: KconfigTree, assignments: list[tuple[str, str]]) -> str:
    return dotconfig_text(tree, assignments)


def referenced_symbols(obj: Path, tree: KconfigTree) -> set[str]:
    """Symbols some object, host program or Kbuild file of the tree depends on."""
    by_path = {"include/config/" + n.lower().replace("_", "/") + ".h": n for n in tree.symbols}
    out: set[str] = set()
    for cmd in obj.rglob(".*.cmd"):
        for line in cmd.read_text(errors="replace").splitlines():
            s = line.strip()
            if s.startswith("$(wildcard include/config/"):
                name = by_path.get(s[len("$(wildcard ") :].split(")")[0])
                if name:
                    out.add(name)
    for kb in obj.rglob("Kbuild"):
        for word in kb.read_text(errors="replace").replace("(", " ").replace(")", " ").split():
            if word.startswith("CONFIG_") and word[7:] in tree.symbols:
                out.add(word[7:])
    return out | {s for s in FLAG_SYMBOLS if s in tree.symbols}


_MENTION = re.compile(r"\b(?:ENABLE|IF_NOT|IF|CONFIG)_([A-Z0-9_]+)")
#: Headers every object includes: a symbol they mention is not a direct use.
_GLOBAL_HEADERS = ("/include/libbb.h", "/include/platform.h")
#: Toggles that would recompile more objects than this compile only the direct users.
DIRECT_ONLY_ABOVE = 40
#: Toggles that recompile more object bytes than this are measured in groups. Every
#: toggle of 1.38.0 stays below it (the biggest, FEATURE_EDITING and UNICODE_SUPPORT,
#: recompile about 450 KB): equal shares of a group misprice ash's options by kilobytes.
GROUP_ABOVE = 600_000


def dependents(
    obj: Path, tree: KconfigTree, targets: Iterable[str]
) -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """(symbol -> targets whose .cmd depends on it, symbol -> targets whose own sources mention it).

    "Own sources" are the C file and the headers it includes other than
    ``libbb.h`` and ``platform.h``.
    """
    by_path = {"include/config/" + n.lower().replace("_", "/") + ".h": n for n in tree.symbols}
    deps: dict[str, set[str]] = {}
    direct: dict[str, set[str]] = {}
    texts: dict[str, set[str]] = {}
    for t in targets:
        p = Path(t)
        cmd = obj / p.parent / f".{p.name}.cmd"
        if not cmd.is_file():
            continue
        for line in cmd.read_text(errors="replace").splitlines():
            s = line.strip().rstrip("\\").strip()
            if s.startswith("$(wildcard include/config/"):
                name = by_path.get(s[len("$(wildcard ") :].split(")")[0])
                if name:
                    deps.setdefault(name, set()).add(t)
            elif s.startswith("/") and s.endswith((".c", ".h")) and not s.endswith(_GLOBAL_HEADERS):
                if s not in texts:
                    try:
                        texts[s] = set(_MENTION.findall(Path(s).read_text(errors="replace")))
                    except OSError:
                        texts[s] = set()
                for name in texts[s]:
                    direct.setdefault(name, set()).add(t)
    return deps, direct


#: Symbols that change every compile command and the size (each costs a full build to measure).
#: The others of FLAG_SYMBOLS are forced, broken, dropped by zig or do not build.
MEASURED_FLAGS = frozenset({"LFS", "TIME64", "DEBUG", "DEBUG_PESSIMIZE", "FEATURE_NSLOOKUP_BIG"})


def toggle_candidates(tree: KconfigTree, ref_values: Mapping[str, str], referenced: set[str]) -> list[str]:
    """Bool symbols worth toggling from the reference: user-visible, referenced, not forced."""
    out = []
    for name, sym in tree.symbols.items():
        if sym.orig_type != kconfiglib.BOOL or name in FORCED or name not in referenced:
            continue
        if name in FLAG_SYMBOLS and name not in MEASURED_FLAGS:
            continue
        if sym.choice is not None or not any(n.prompt for n in sym.nodes):
            continue
        out.append(name)
    return out


def calibrate(
    release: str,
    arch: str,
    toolchain: str = "zig",
    *,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
    out: Path | None = None,
    toggles: bool = True,
    borrow: str | None = None,
    budget: float | None = None,
    sparse: bool = True,
) -> tuple[Path, SizeModel]:
    """Measure and save the size table; returns its path and the model.

    ``borrow``: instead of toggling here, take the compile-level toggles
    measured for that CPU (same release and toolchain), scaled by the ratio of
    the two reference sizes (a quicker, coarser calibration). ``budget``:
    seconds for toggling symbols one by one (cheapest first); the rest, and
    toggles that recompile a big object (ash, hush, bc), are measured in groups
    of symbols that recompile the same objects, each charged an equal share.
    ``sparse``: also calibrate the second model around the sparse reference
    (allnoconfig + every applet), which the estimate blends in for
    configurations built up from allnoconfig.
    """
    tree = load_tree(release)
    eng = engine_for(release, arch, toolchain)
    wt = eng.wt
    assignments = reference_assignments(tree, wt.arch.name, wt.toolchain.kind)
    full = _measure_reference(
        tree, eng, assignments, "calibration-state.json", progress, cancel, toggles, borrow, budget
    )
    minimal: dict[str, Any] | None
    try:
        minimal = _minimal(tree, eng, full, progress, cancel)
    except BuildError:
        minimal = None
    low: _Measured | None = None
    if sparse:

        def sparse_progress(event: CalibrationProgress) -> None:
            _emit(progress, dataclasses.replace(event, reference="sparse"))

        low = _measure_reference(
            tree,
            eng,
            minimal_assignments(tree, wt.arch.name, wt.toolchain.kind),
            "calibration-state-sparse.json",
            sparse_progress,
            cancel,
            toggles,
            borrow,
            budget,
        )
    _emit(progress, CalibrationProgress("usage", 0, 1, "usage texts from include/usage.h"))
    usage_model = _usage_model(tree, wt, full, low)
    model = full.model(tree, wt, minimal, usage_model)
    if low is not None:
        blend = [
            n
            for n in model.symbols
            if full.ref_values.get(n) == "y"
            and low.ref_values.get(n) != "y"
            and not tree.is_applet(n)
            and n not in FLAG_SYMBOLS
        ]
        sparse_model = low.model(tree, wt, None, usage_model, reference="allnoconfig + every applet")
        sparse_model = _ladder(tree, eng, low, sparse_model, usage_model, progress, cancel)
        model = model.with_sparse(sparse_model, blend)
    model = dataclasses.replace(model, usage=usage_model)
    key = TableKey(release, wt.arch.name, toolchain)
    path = save_table(key, model.to_dict(), out)
    _emit(progress, CalibrationProgress("done", 1, 1, str(path)))
    return path, model


@dataclass
class _Measured:
    """Everything measured around one reference."""

    state: dict[str, Any]
    save: Callable[[], None]
    work: Path
    ref_size: int
    ref_values: dict[str, str]
    ref_map: LinkMap
    links: dict[str, Any]
    toggles: dict[str, Any]
    note: str
    forced_off: list[str]

    def model(
        self,
        tree: KconfigTree,
        wt: Any,
        minimal: Mapping[str, Any] | None,
        usage: usage_texts.UsageModel | None,
        reference: str = "defconfig + every applet, known-broken options off",
    ) -> SizeModel:
        model = build_model(
            tree,
            wt.arch.name,
            self.links,
            self.ref_values,
            self.ref_size,
            self.ref_map,
            self.toggles,
            wt.toolchain.version,
            wt.tools.tools_dir.name,
            minimal,
            reference,
            usage,
        )
        if not self.note:
            return model
        return dataclasses.replace(model, info={**model.info, "toggles": self.note})


def _measure_reference(
    tree: KconfigTree,
    eng: ExactEngine,
    assignments: list[tuple[str, str]],
    state_name: str,
    progress: Progress | None,
    cancel: threading.Event | None,
    toggles: bool,
    borrow: str | None,
    budget: float | None,
) -> _Measured:
    """Build a reference, relink it per applet and toggle every symbol around it (resumable)."""
    wt = eng.wt
    ref_text = config_text(tree, assignments)
    state_path = wt.root / state_name
    state = _load_state(state_path, ref_text, f"{wt.toolchain.version} {wt.tools.variables}")

    def save() -> None:
        tmp = state_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(state))
        os.replace(tmp, state_path)

    _emit(progress, CalibrationProgress("build", 0, 0, f"building the reference in {wt.root}"))
    compiled = 0

    def on_line(line: str) -> None:
        nonlocal compiled
        if line.startswith("  CC "):
            compiled += 1
            _emit(progress, CalibrationProgress("build", compiled, 0, line.strip()))

    ref = eng.measure(ref_text, cancel=cancel, on_line=on_line)
    ref_values = bdot.parse((wt.obj / ".config").read_text())
    work = wt.root / "relink"
    work.mkdir(exist_ok=True)
    ref_map = _map(eng, work, "ref", ())
    state["ref_size"] = ref.size
    measured: dict[str, Any] = state.setdefault("toggles", {})
    referenced = referenced_symbols(wt.obj, tree)
    forced_off: list[str] = []
    for name in selected_candidates(tree, assignments, ref_values, referenced):
        t = measured.get(name) or {}
        current = t.get("reach_rule") == REACH_RULE or "probe_off_each" in t
        if not (t.get("forced") and (t.get("failed") or current)):
            if cancel is not None and cancel.is_set():
                save()
                raise Interrupted("calibration cancelled")
            _emit(progress, CalibrationProgress("toggle", 0, 0, f"{name} (forced off)"))
            try:
                t = _forced_toggle(eng, work, ref_text, ref_map, name, _mains(tree, ref_values))
            except BuildError:
                t = {"flip": "n", "changed": [], "size": ref.size, "diff": {}, "forced": True, "failed": True}
            measured[name] = t
            save()
        if not t.get("failed"):
            forced_off.append(name)
    _reach(tree, eng, work, ref_text, ref_values, [measured[n] for n in forced_off], save, cancel)
    links = _variant_relinks(tree, eng, work, assignments, forced_off, state, save, progress, cancel)
    if toggles and not borrow:
        eng.measure(ref_text, cancel=cancel)
        names = toggle_candidates(tree, ref_values, referenced)
        ref_keys = eng.tree_keys()
        deps, direct = dependents(wt.obj, tree, ref_keys)
        planned_ref = resolve(tree, assignments).values
        plans = {
            n: _plan(tree, assignments, planned_ref, n, deps, direct, ref_keys, wt.obj, wt.arch.name)
            for n in names
        }
        # A share of a group measured by an earlier, more hurried run is measured again alone.
        todo = sorted(
            (
                n
                for n in names
                if n not in measured
                or (measured[n].get("group", 1) > 1 and plans[n].cost <= GROUP_ABOVE)
                or _stale(measured[n], plans[n])
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
            if cancel is not None and cancel.is_set():
                save()
                raise Interrupted("calibration cancelled")
            began = time.monotonic()
            measured[name] = _toggle(
                tree, eng, work, assignments, ref_values, ref_map, ref.size, [plans[name]], ref_keys
            )
            done += 1
            _emit(progress, CalibrationProgress("toggle", done, len(names), name))
            if i % 10 == 9 or time.monotonic() - began > 3:
                save()
        groups: dict[tuple[str, str], list[str]] = {}
        for name in rest:
            # An applet is never grouped: its toggle takes its sub-options along.
            key = name if tree.is_applet(name) else plans[name].primary
            groups.setdefault((plans[name].flip, key), []).append(name)
        for members in groups.values():
            if cancel is not None and cancel.is_set():
                save()
                raise Interrupted("calibration cancelled")
            res = _toggle(
                tree,
                eng,
                work,
                assignments,
                ref_values,
                ref_map,
                ref.size,
                [plans[n] for n in members],
                ref_keys,
            )
            for name in members:
                measured[name] = _share(res, name, plans[name], members, ref_size=int(state["ref_size"]))
            done += len(members)
            _emit(
                progress,
                CalibrationProgress("toggle", done, len(names), f"{len(members)} together: {members[0]}..."),
            )
            save()
        _library_reach(
            tree,
            eng,
            work,
            assignments,
            ref_text,
            ref_values,
            measured,
            (plans, ref_keys),
            progress,
            save,
            cancel,
        )
        eng.measure(ref_text, cancel=cancel)
    note = ""
    if borrow:
        borrowed, note = _borrowed(tree.release, borrow, wt.toolchain.kind, ref.size, state_name)
        # The forced toggles' reach names this CPU's sections: keep the ones measured here.
        measured = {**borrowed, **{n: t for n, t in measured.items() if t.get("forced")}}
    return _Measured(state, save, work, ref.size, ref_values, ref_map, links, measured, note, forced_off)


#: The bunzip2 decoder's object: the full reference's base holds it (compressed usage texts).
_DECODER_OBJECT = "archival/libarchive/decompress_bunzip2.o"


def _usage_model(
    tree: KconfigTree, wt: Any, full: _Measured, low: _Measured | None
) -> usage_texts.UsageModel:
    """The usage term: texts from include/usage.h, code sizes from the usage toggles measured.

    Code: SHOW_USAGE switched on at the sparse reference (short, uncompressed
    texts) less its texts, else switched off at the full one. Compression:
    FEATURE_COMPRESS_USAGE switched off at the full reference less the texts'
    change, plus ``unpack_bz2_data``; the rest of the decoder is what the
    texts pay when no applet links it.
    """
    marked = usage_texts.extract_texts(
        wt.obj / "include",
        tree.applets,
        full.ref_values,
        {n: tree.type_of(n) for n in tree.symbols},
        wt.tools.variables.get("HOSTCC", "gcc"),
    )
    on_full = {n for n, v in full.ref_values.items() if v == "y"}

    def code_of(m: _Measured | None, name: str) -> int | None:
        t = m.toggles.get(name) if m is not None else None
        if m is None or not t or name not in t["changed"]:
            return None
        sign = -1 if t["flip"] == "n" else 1
        texts = sum(int(d) for k, d in t["diff"].items() if _is_usage(k))
        return sign * (int(t["size"]) - m.ref_size - texts)

    none = full.links["links"]["(none)"]["sections"]
    decoder = {k: v for k, v in none.items() if k.startswith(_DECODER_OBJECT + ":")}
    unpack = sum(v for k, v in decoder.items() if k.endswith("unpack_bz2_data)"))
    glue = code_of(full, usage_texts.COMPRESS) or 0
    code = code_of(low, usage_texts.SHOW)
    if code is None:
        code = (code_of(full, usage_texts.SHOW) or 0) - glue
    return usage_texts.UsageModel(
        usage_texts.segments(marked),
        usage_texts.fit_compression(marked, on_full),
        code=code,
        compress_code=glue + unpack,
        decoder=sum(decoder.values()) - unpack,
    )


def minimal_assignments(tree: KconfigTree, arch: str, toolchain_kind: str = "zig") -> list[tuple[str, str]]:
    """allnoconfig with every applet symbol on, the forced values set and the known-broken options off."""
    return _every_applet_on(tree, allnoconfig_assignments(tree), arch, toolchain_kind)


def _minimal(
    tree: KconfigTree,
    eng: ExactEngine,
    full: _Measured,
    progress: Progress | None,
    cancel: threading.Event | None,
) -> dict[str, Any]:
    """The minimal reference: its exact size, values and per-applet link maps."""
    wt = eng.wt
    assignments = minimal_assignments(tree, wt.arch.name, wt.toolchain.kind)
    mstate: dict[str, Any] = full.state.setdefault("minimal", {})
    if "size" not in mstate:
        _emit(progress, CalibrationProgress("build", 0, 0, "building the minimal reference"))
        mstate["size"] = eng.measure(config_text(tree, assignments), cancel=cancel).size
        mstate["values"] = bdot.parse((wt.obj / ".config").read_text())
        full.save()
    _variant_relinks(
        tree, eng, full.work, assignments, full.forced_off, mstate, full.save, progress, cancel, n_subsets=0
    )
    return mstate


#: Shares of the sparse reference's applets in the configurations :func:`_ladder` measures.
LADDER = (0.0, 0.01, 0.02, 0.05, 0.1, 0.2, 0.4, 0.7)


def _ladder(
    tree: KconfigTree,
    eng: ExactEngine,
    low: _Measured,
    model: SizeModel,
    usage: usage_texts.UsageModel | None,
    progress: Progress | None,
    cancel: threading.Event | None,
) -> SizeModel:
    """The sparse model with what it overestimates between allnoconfig and its reference.

    Anchored at the sparse reference, the model adds up applets measured one
    at a time; code that any of several applets compiles in is not in any
    one's toggle, and the anchor gives it to every configuration (allnoconfig
    with true alone: 13,614 estimated, 3,792 real on x86_64). allnoconfig
    with seeded random shares of the applets is built and the model's excess
    there gives a line from allnoconfig to the reference, taken off in between.
    """
    symbols = sorted(low.links["by_symbol"])
    done: dict[str, Any] = low.state.setdefault("ladder", {})
    rng = random.Random(7)
    start = allnoconfig_assignments(tree)
    points: dict[float, list[int]] = {}
    for i, share in enumerate(LADDER):
        subset = [n for n in symbols if rng.random() < share]
        key = f"{share} {len(subset)} {_hash_names(subset)}"
        if key not in done:
            if cancel is not None and cancel.is_set():
                low.save()
                raise Interrupted("calibration cancelled")
            _emit(progress, CalibrationProgress("ladder", i, len(LADDER), f"{len(subset)} applets"))
            assignments = _every_applet_on(tree, start, eng.wt.arch.name, eng.wt.toolchain.kind, subset)
            try:
                size = eng.measure(config_text(tree, assignments), cancel=cancel).size
            except BuildError:
                done[key] = {"failed": True}
            else:
                values = bdot.parse((eng.obj / ".config").read_text())
                done[key] = {"size": size, "on": sorted(n for n, v in values.items() if v == "y")}
            low.save()
        if done[key].get("failed"):
            continue
        on = set(done[key]["on"])
        ev = Evaluation(model)
        ev.sync(n for n in model.names if n in on)
        excess = ev.total + _usage_total(usage, {n: "y" for n in on}) - int(done[key]["size"])
        points.setdefault(sum(1 for n in symbols if n in on) / len(symbols), []).append(excess)
    _emit(progress, CalibrationProgress("ladder", len(LADDER), len(LADDER), "done"))
    # A line to 0 at the reference, its slope the median of the points': one
    # configuration mispriced by a borrowed toggle (armv7: 25.9 KB at 6 % of the
    # applets, about 1 KB at the shares beside it) does not bend it.
    measured = sorted((x, e) for x, v in points.items() for e in v)
    if not any(x < 1 for x, _ in measured):
        return model
    at_none = round(statistics.median(e / (1 - x) for x, e in measured if x < 1))
    return dataclasses.replace(
        model,
        residual=((0.0, at_none), (1.0, 0)),
        residual_symbols=tuple(symbols),
        info={**model.info, "residual_measured": [list(p) for p in measured]},
    )


def _hash_names(names: Iterable[str]) -> str:
    """A short digest of a list of names (a key for stored measurements)."""
    return hashlib.sha256(" ".join(names).encode()).hexdigest()[:12]


#: Version of what :func:`_reach` keeps (a change measures the forced toggles again).
REACH_RULE = 5

#: Off in the tree whose objects are relinked: the unit tests register themselves
#: from constructors, which keep printf, strftime and more alive in every relink
#: (44.7 KB instead of 11.4 KB with no applet, allnoconfig, x86_64). The reference
#: keeps it on; its toggle prices it.
RELINK_OFF = ("UNIT_TEST",)


def _variant_relinks(
    tree: KconfigTree,
    eng: ExactEngine,
    work: Path,
    assignments: list[tuple[str, str]],
    forced_off: list[str],
    state: dict[str, Any],
    save: Callable[[], None],
    progress: Progress | None,
    cancel: threading.Event | None,
    n_subsets: int = SUBSETS,
) -> dict[str, Any]:
    """Relinks (:func:`_relinks`) of the reference with :data:`RELINK_OFF` and ``forced_off`` off.

    With the options that ``select`` them off, libbb compiled for every applet
    does not call what they add (syslog, and with it musl's strftime and time
    zones, from every error message): the units' users are then those that
    call it themselves. The relinks are kept in ``state``.
    """
    text = config_text(tree, [*assignments, *((n, "n") for n in RELINK_OFF if tree.has(n))])
    force = {n: False for n in forced_off}
    signature = json.dumps([text, sorted(force)])
    if state.get("links_config") != signature:
        state.pop("links", None)
        state["links_config"] = signature
    try:
        eng.measure(text, cancel=cancel, force=force)
    except BuildError:
        # Forced off together they do not build: relink with them as Kconfig says.
        eng.measure(text, cancel=cancel)
    values = bdot.parse((eng.wt.obj / ".config").read_text())
    return _relinks(tree, eng, work, values, state, save, progress, cancel, n_subsets=n_subsets)


def _borrowed(
    release: str, arch: str, toolchain: str, ref_size: int, state_name: str
) -> tuple[dict[str, Any], str]:
    """Another CPU's toggles around the same reference, scaled to this one's reference size."""
    from busyconf.size.workdir import work_root

    path = work_root(release, arch, toolchain) / state_name
    try:
        state = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        raise UserError(
            f"{path}: no calibration of {arch} to borrow from; run: busyconf size calibrate --arch {arch}"
        ) from None
    if not state.get("toggles"):
        raise UserError(f"{path}: the calibration of {arch} measured no toggles to borrow")
    ratio = ref_size / state["ref_size"]
    out = {
        name: {
            "flip": t["flip"],
            "changed": t["changed"],
            "size": ref_size + round((t["size"] - state["ref_size"]) * ratio),
            "diff": {k: round(d * ratio) for k, d in t["diff"].items()},
        }
        for name, t in state.get("toggles", {}).items()
    }
    return out, f"compile-level costs measured on {arch}, scaled x{ratio:.3f} (reference sizes)"


def _load_state(path: Path, ref_text: str, toolchain_version: str) -> dict[str, Any]:
    signature = json.dumps([STATE_VERSION, ref_text, toolchain_version])
    state: dict[str, Any]
    try:
        state = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        state = {}
    if not isinstance(state, dict) or state.get("signature") != signature:
        state = {"signature": signature}
    return state


def _map(
    eng: ExactEngine, work: Path, tag: str, defsyms: Iterable[str], extra: Iterable[str] = ()
) -> LinkMap:
    mp = work / f"{tag}.map"
    out = work / f"{tag}.bin"
    size = eng.link([f"--defsym={d}=0" for d in defsyms] + [*extra, f"-Map={mp}"], output=out)
    result = read_map(mp, size)
    mp.unlink()
    out.unlink(missing_ok=True)
    return result


def _relinks(
    tree: KconfigTree,
    eng: ExactEngine,
    work: Path,
    ref_values: Mapping[str, str],
    state: dict[str, Any],
    save: Callable[[], None],
    progress: Progress | None,
    cancel: threading.Event | None,
    n_subsets: int = SUBSETS,
) -> dict[str, Any]:
    """Link maps of the reference with no applet, each applet symbol alone, and random subsets."""
    by_symbol: dict[str, list[str]] = {}
    for applet in tree.applets:
        if applet.main and applet.enabled(ref_values):
            by_symbol.setdefault(applet.requires[-1], []).append(applet.main)
    all_mains = sorted({m for ms in by_symbol.values() for m in ms})
    # A choice the reference did not pick (sh is ash, not hush) runs a main another
    # symbol keeps: it costs what that symbol's code costs.
    owner = {m: s for s, ms in by_symbol.items() for m in ms}
    aliases = {
        a.requires[-1]: owner[a.main]
        for a in tree.applets
        if a.main in owner and a.requires[-1] not in by_symbol and tree.has(a.requires[-1])
    }
    subsets = _random_subsets(sorted(by_symbol), n_subsets) if n_subsets else {}
    done: dict[str, Any] = state.setdefault("links", {})
    jobs = ["(none)", *sorted(by_symbol), *sorted(subsets)]
    for i, job in enumerate(jobs):
        if job in done:
            continue
        if cancel is not None and cancel.is_set():
            save()
            raise Interrupted("calibration cancelled")
        keep = (
            {m for s in subsets[job] for m in by_symbol[s]} if job in subsets else set(by_symbol.get(job, ()))
        )
        lm = _map(eng, work, "applet", [m for m in all_mains if m not in keep])
        done[job] = {"sections": lm.sections, "file_size": lm.file_size}
        _emit(progress, CalibrationProgress("relink", i + 1, len(jobs), job))
        if i % 50 == 49:
            save()
    save()
    return {"links": done, "by_symbol": by_symbol, "subsets": subsets, "aliases": aliases}


@dataclass(frozen=True)
class _Plan:
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


#: The object that holds the applet table (generated from the configuration).
APPLET_TABLE = "libbb/appletlib.o"
#: Version of how toggles that need other options (:func:`prerequisites`) are measured.
CHAIN_RULE = 1


def _stale(t: Mapping[str, Any], plan: _Plan) -> bool:
    """A stored toggle measured by an older rule than ``plan`` asks for."""
    if list(plan.needs) != t.get("needs", []) or (plan.needs and t.get("chain") != CHAIN_RULE):
        return True
    return plan.applets and not t.get("applets")


def _plan(
    tree: KconfigTree,
    assignments: list[tuple[str, str]],
    planned_ref: Mapping[str, str],
    name: str,
    deps: Mapping[str, set[str]],
    direct: Mapping[str, set[str]],
    ref_keys: Mapping[str, str],
    obj: Path,
    arch: str,
) -> _Plan:
    """Which objects a toggle recompiles, and their bytes (a proxy for the compile time).

    A symbol that ``libbb.h`` mentions is a dependency of every object; such a
    toggle recompiles only the objects whose own sources use the symbols it
    changes and links the reference's objects for the rest.
    """
    flip = "n" if planned_ref.get(name) == "y" else "y"
    needs = prerequisites(tree, assignments, name, arch) if flip == "y" else ()
    planned = resolve(tree, [*assignments, *((n, "y") for n in needs), (name, flip)]).values
    moved = tuple(n for n, v in planned.items() if v != planned_ref.get(n))
    touched = set().union(*(deps.get(n, set()) for n in moved)) if moved else set()
    reuse = len(touched) > DIRECT_ONLY_ABOVE and not set(moved) & set(FLAG_SYMBOLS)
    compiled = set().union(*(direct.get(n, set()) for n in moved)) & touched if reuse and moved else touched
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
    return _Plan(
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


def prerequisites(
    tree: KconfigTree, assignments: list[tuple[str, str]], name: str, arch: str
) -> tuple[str, ...]:
    """Options to switch on with ``name`` when it cannot be on by itself from ``assignments``.

    FEATURE_SUN_LABEL needs FEATURE_FDISK_WRITABLE, UDHCPC6 needs FEATURE_IPV6:
    around allnoconfig such an option would never be measured. The toggle then
    switches the options it depends on along with it, and the model charges
    it only for itself (what they cost alone is measured by their own toggles).
    Empty when ``name`` can be on alone, or no chain of options makes it so
    without a full rebuild (DEBUG, LFS) or a known-broken option (SELINUX).
    """
    needs: list[str] = []
    for _ in range(8):
        with tree.applied([*assignments, *((n, "y") for n in needs), (name, "y")]):
            sym = tree.symbols[name]
            if sym.str_value == "y":
                values = tree.values()
                break
            step = _unmet(sym, set(needs))
        if step is None:
            return ()
        needs.append(step)
    else:
        return ()
    if not needs or broken.check(values, release=tree.release, arch=arch):
        return ()
    return tuple(needs)


def _unmet(sym: kconfiglib.Symbol, taken: set[str], depth: int = 0) -> str | None:
    """The first option, down ``sym``'s dependencies, that can be switched on now and is off."""
    if depth > 8:
        return None
    items = sorted(
        (i for i in kconfiglib.expr_items(sym.direct_dep) if isinstance(i, kconfiglib.Symbol)),
        key=lambda i: i.name,
    )
    for item in items:
        if item.orig_type != kconfiglib.BOOL or item.choice is not None or item.name in taken:
            continue
        if item.name in FLAG_SYMBOLS or item.name in FORCED:
            continue
        if item.str_value == "y" or not any(n.prompt for n in item.nodes):
            continue
        if item.visibility:
            return str(item.name)
        deeper = _unmet(item, taken, depth + 1)
        if deeper is not None:
            return deeper
    return None


def _toggle(
    tree: KconfigTree,
    eng: ExactEngine,
    work: Path,
    assignments: list[tuple[str, str]],
    ref_values: Mapping[str, str],
    ref_map: LinkMap,
    ref_size: int,
    plans: list[_Plan],
    ref_keys: Mapping[str, str],
) -> dict[str, Any]:
    """Measure symbols flipped from the reference: size, changed symbols, section differences.

    A symbol that needs other options (one plan with ``needs``) is measured
    from the reference with them on, so that what it changes is its alone.
    """
    needs = [(n, "y") for n in plans[0].needs] if len(plans) == 1 else []
    reuse: dict[str, str] = {}
    if any(p.reuse for p in plans):
        users = set().union(*(p.compiled for p in plans))
        reuse = {t: k for t, k in ref_keys.items() if t not in users}
    start_size, start_values, start_map = ref_size, ref_values, ref_map
    start_text = config_text(tree, [*assignments, *needs, (plans[0].name, "n")]) if needs else ""
    text = config_text(tree, [*assignments, *needs, *((p.name, p.flip) for p in plans)])
    while True:
        try:
            if needs:
                start_size = eng.measure(start_text, reuse=reuse).size
                start_values = bdot.parse((eng.obj / ".config").read_text())
                start_map = _map(eng, work, "start", ())
            size = eng.measure(text, reuse=reuse).size
            break
        except BuildError:
            if not reuse:
                raise
            # Stand-ins compiled for the reference do not link with this change: compile for real.
            reuse = {}
    values = bdot.parse((eng.obj / ".config").read_text())
    changed = sorted(
        n for n in set(values) | set(start_values) if values.get(n, "n") != start_values.get(n, "n")
    )
    out: dict[str, Any] = {
        "flip": plans[0].flip,
        "changed": changed,
        "size": ref_size + size - start_size,
        "diff": {},
        "approx": bool(reuse),
        "applets": any(p.applets for p in plans),
    }
    if needs:
        out["needs"] = [n for n, _ in needs]
        out["chain"] = CHAIN_RULE
    if not any(p.name in changed for p in plans):
        return out
    out["diff"] = _section_diff(start_map, _map(eng, work, "toggle", ()))
    return out


def _section_diff(ref_map: LinkMap, lm: LinkMap) -> dict[str, int]:
    """Bytes each input section gained against the reference's link (negative: lost or gone)."""
    ref = ref_map.sections
    diff = {k: v - ref.get(k, 0) for k, v in lm.sections.items() if v != ref.get(k, 0)}
    diff.update({k: -v for k, v in ref.items() if k not in lm.sections})
    return diff


def selected_candidates(
    tree: KconfigTree, assignments: list[tuple[str, str]], ref_values: Mapping[str, str], referenced: set[str]
) -> list[str]:
    """Bool symbols on in the reference that options ``select``, so no assignment turns off.

    FEATURE_SYSLOG is one: selected by logger, syslogd and more, it compiles
    syslog support (and with it musl's syslog, strftime and time zones) into
    every error message of libbb; LONG_OPTS another. Toggles of the options
    that select them cannot see them: they are measured forced off.
    """
    out = []
    for name, sym in tree.symbols.items():
        if sym.orig_type != kconfiglib.BOOL or name in FORCED or name in FLAG_SYMBOLS:
            continue
        if sym.choice is not None or name == "HAVE_DOT_CONFIG" or tree.is_applet(name):
            continue
        if ref_values.get(name) != "y" or name not in referenced:
            continue
        if resolve(tree, [*assignments, (name, "n")]).values.get(name) == "y":
            out.append(name)
    return out


def _forced_toggle(
    eng: ExactEngine, work: Path, ref_text: str, ref_map: LinkMap, name: str, mains: list[str]
) -> dict[str, Any]:
    """The reference with a selected symbol forced off in the compiled headers.

    Besides the toggle's size and section differences, a *probe*: the
    functions whose code changed, relinked with no applet; :func:`_reach`
    relinks them again with the symbol on to see what they reach through it.
    See :func:`selected_candidates`.
    """
    res = eng.measure(ref_text, force={name: False})
    diff = _section_diff(ref_map, _map(eng, work, "toggle", ()))
    probe = sorted({_function_of(k) for k in diff} - {""})
    return {
        "flip": "n",
        "changed": [name],
        "size": res.size,
        "diff": diff,
        "forced": True,
        "probe": probe,
        "probe_off_each": {f: _probe(eng, work, mains, [f]).sections for f in probe},
    }


def _reach(
    tree: KconfigTree,
    eng: ExactEngine,
    work: Path,
    ref_text: str,
    ref_values: Mapping[str, str],
    forced: list[dict[str, Any]],
    save: Callable[[], None],
    cancel: threading.Event | None,
) -> None:
    """What each forced symbol's code reaches only while it is on (``reach`` of its toggle).

    Each function of the probe relinked alone with the reference's objects,
    against the same with the symbol off: sections that appear only with it
    on, and that the toggle itself did not change (musl's syslog and strftime
    behind FEATURE_SYSLOG; gunzip behind FEATURE_SEAMLESS_GZ), are kept alive
    by the symbol, so the symbol becomes one more user of their units. One
    function at a time, because logger's main, which the toggle also changed,
    reaches syslog either way.
    """
    todo = [t for t in forced if "probe_off_each" in t]
    if not todo:
        return
    eng.measure(ref_text, cancel=cancel)
    mains = _mains(tree, ref_values)
    for t in todo:
        pairs = ((_probe(eng, work, mains, [f]).sections, off) for f, off in t.pop("probe_off_each").items())
        t["reach"] = _reached(pairs, t["diff"])
        t["reach_rule"] = REACH_RULE
    save()


def _reached(
    pairs: Iterable[tuple[Mapping[str, int], Mapping[str, int]]], diff: Mapping[str, int]
) -> dict[str, int]:
    """Sections some probe keeps only in its on state (``pairs``: on, off), and the toggle did not change."""
    reach: dict[str, int] = {}
    for on, off in pairs:
        reach.update((k, v) for k, v in on.items() if k not in off and k not in diff)
    return reach


#: Version of what :func:`_library_reach` keeps (a change probes the toggles again).
LIBRARY_REACH_RULE = 2
#: Objects whose code applets share: a toggle that changes a function there may make it
#: call code other applets keep (FEATURE_SEAMLESS_XZ: open_zipped calls the xz decoder).
LIBRARY_OBJECTS = ("libbb/", "archival/libarchive/")


def _changes_library(t: Mapping[str, Any]) -> list[str]:
    """Functions of :data:`LIBRARY_OBJECTS` that grow with the symbol on, sorted."""
    if t.get("forced") or t.get("needs") or t.get("group", 1) > 1:
        return []
    sign = 1 if t["flip"] == "y" else -1
    return sorted(
        {_function_of(k) for k, d in t["diff"].items() if sign * d > 0 and k.startswith(LIBRARY_OBJECTS)}
        - {""}
    )


def _library_reach(
    tree: KconfigTree,
    eng: ExactEngine,
    work: Path,
    assignments: list[tuple[str, str]],
    ref_text: str,
    ref_values: Mapping[str, str],
    measured: dict[str, Any],
    planned: tuple[Mapping[str, _Plan], Mapping[str, str]],
    progress: Progress | None,
    save: Callable[[], None],
    cancel: threading.Event | None,
) -> None:
    """What a toggle's library functions reach only while the symbol is on, as :func:`_reach` does.

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
    plans, ref_keys = planned
    todo = {
        n: probe
        for n, t in measured.items()
        if t.get("library_reach") != LIBRARY_REACH_RULE
        and n in t["changed"]
        and n in plans
        and not tree.is_applet(n)
        and n not in usage_texts.SYMBOLS
        and (probe := _changes_library(t))
    }
    if not todo:
        return
    mains = _mains(tree, ref_values)

    def probe_maps(probe: list[str]) -> dict[str, dict[str, int]]:
        return {f: _probe(eng, work, mains, [f]).sections for f in probe}

    toggled: dict[str, dict[str, dict[str, int]]] = {}
    for i, (name, probe) in enumerate(sorted(todo.items())):
        if cancel is not None and cancel.is_set():
            save()
            raise Interrupted("calibration cancelled")
        plan = plans[name]
        # Linked as the toggle was: with the reference's stand-ins when it was approximate.
        approx = measured[name]["approx"]
        reuse = {t: k for t, k in ref_keys.items() if t not in plan.compiled} if approx else {}
        try:
            eng.measure(config_text(tree, [*assignments, (name, plan.flip)]), cancel=cancel, reuse=reuse)
        except BuildError:
            measured[name].update(reach={}, library_reach=LIBRARY_REACH_RULE)
            continue
        toggled[name] = probe_maps(probe)
        _emit(progress, CalibrationProgress("reach", i + 1, len(todo), name))
    eng.measure(ref_text, cancel=cancel)
    for name, probe in todo.items():
        if name not in toggled:
            continue
        t = measured[name]
        pairs = (
            (toggled[name][f], at_ref) if t["flip"] == "y" else (at_ref, toggled[name][f])
            for f, at_ref in probe_maps(probe).items()
        )
        t["reach"] = _reached(pairs, t["diff"])
        t["library_reach"] = LIBRARY_REACH_RULE
    save()


def _probe(eng: ExactEngine, work: Path, mains: list[str], functions: list[str]) -> LinkMap:
    """The tree's objects linked with no applet but ``functions`` (an applet's main among them)."""
    keep = set(functions)
    undefined = [f"--undefined={f}" for f in functions]
    return _map(eng, work, "probe", [m for m in mains if m not in keep], undefined)


def _mains(tree: KconfigTree, values: Mapping[str, str]) -> list[str]:
    return sorted({a.main for a in tree.applets if a.main and a.enabled(values)})


#: A function's static data: ``.rodata.ip_main.ip_func_ptrs`` belongs to ``ip_main``.
_STATIC_OF = re.compile(r"\.(?:rodata|data\.rel\.ro|data|bss)\.([A-Za-z_]\w*)\.[A-Za-z_]\w*\)$")


def _function_of(key: str) -> str:
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


def _share(res: dict[str, Any], name: str, plan: _Plan, members: list[str], ref_size: int) -> dict[str, Any]:
    """One member's equal share of a group toggle."""
    n = len(members)
    changed = sorted(set(plan.moved) & set(res["changed"])) if name in res["changed"] else []
    return {
        "flip": res["flip"],
        "changed": changed,
        "size": ref_size + round((res["size"] - ref_size) / n),
        "diff": {k: round(d / n) for k, d in res["diff"].items()},
        "approx": True,
        "group": n,
        "members": members,
    }


def _random_subsets(symbols: list[str], n: int) -> dict[str, list[str]]:
    rng = random.Random(1)
    out: dict[str, list[str]] = {}
    for i in range(n):
        p = (0.02, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 1.0)[i % 8]
        out[f"(subset {i})"] = sorted(s for s in symbols if rng.random() < p) or symbols[:1]
    return out


def _fit_power(xs: list[float], ys: list[float]) -> tuple[float, float]:
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


def _is_usage(key: str) -> bool:
    return key.startswith("libbb/appletlib.o:(.rodata.") and key.endswith(
        ("packed_usage)", "usage_messages)")
    )


def _object_of(key: str) -> str:
    return key.split(":(", 1)[0]


def build_model(
    tree: KconfigTree,
    arch: str,
    relinks: dict[str, Any],
    ref_values: Mapping[str, str],
    ref_size: int,
    ref_map: LinkMap,
    toggles: Mapping[str, Any],
    toolchain_version: str,
    tools_digest: str = "",
    minimal: Mapping[str, Any] | None = None,
    reference: str = "defconfig + every applet, known-broken options off",
    usage_model: usage_texts.UsageModel | None = None,
) -> SizeModel:
    """Units from the per-applet link maps, compile-level costs from the toggles.

    The usage texts and the usage symbols are left to ``usage_model`` (the term the
    estimate adds): the texts' share of every toggle is dropped, and the
    anchor takes off what the term gives the reference.
    """
    links = {k: LinkMap(v["sections"], v["file_size"]) for k, v in relinks["links"].items()}
    by_symbol: dict[str, list[str]] = relinks["by_symbol"]
    subsets: dict[str, list[str]] = relinks["subsets"]
    none = links["(none)"]
    users: dict[str, set[str]] = {}
    sizes: dict[str, int] = {}
    strings: dict[str, int] = {}
    for sym in by_symbol:
        for key, size in links[sym].sections.items():
            if key in none.sections:
                extra = size - none.sections[key]
                if extra > 0:
                    strings[sym] = strings.get(sym, 0) + extra
                continue
            users.setdefault(key, set()).add(sym)
            sizes[key] = size
    for name, t in toggles.items():
        if name in t["changed"]:
            for key, size in t.get("reach", {}).items():
                if key not in none.sections:
                    users.setdefault(key, set()).add(name)
                    sizes.setdefault(key, size)
    if minimal:
        users = _feature_users(users, minimal, toggles, ref_values, by_symbol)
    groups: dict[frozenset[str], list[str]] = {}
    for key, us in users.items():
        groups.setdefault(frozenset(us), []).append(key)
    unit_list = sorted(groups.items(), key=lambda kv: (-sum(sizes[k] for k in kv[1]), sorted(kv[0])))
    unit_users = [set(g) for g, _ in unit_list]
    on_in_ref = {n for n, v in ref_values.items() if v == "y"}
    usize = [sum(sizes[k] for k in keys) for _, keys in unit_list]
    unit_of_key: dict[str, int] = {}
    units_of: dict[str, list[int]] = {}
    for i, (g, keys) in enumerate(unit_list):
        for k in keys:
            unit_of_key[k] = i
        for sym in g:
            units_of.setdefault(sym, []).append(i)
    per_obj: dict[str, dict[int, int]] = {}
    for k, u in unit_of_key.items():
        in_obj = per_obj.setdefault(_object_of(k), {})
        in_obj[u] = in_obj.get(u, 0) + sizes[k]
    unit_of_obj = {o: max(m, key=lambda u: m[u]) for o, m in per_obj.items()}

    xs, ys = [], []
    for job, syms in subsets.items():
        xs.append(float(sum(strings.get(s, 0) for s in syms)))
        ys.append(
            float(
                sum(
                    v - none.sections.get(k, 0)
                    for k, v in links[job].sections.items()
                    if k.startswith("<internal>")
                )
            )
        )
    coef, power = _fit_power(xs, ys)
    link_model = SizeModel(
        "link",
        none.file_size,
        tuple(usize),
        {s: SymbolCost(strings=strings.get(s, 0), units=tuple(units_of.get(s, ()))) for s in units_of},
        True,
        {},
        coef,
        power,
    )
    ev_link = Evaluation(link_model)
    n_link = len(usize)
    ev_link.sync(n for n in units_of if ref_values.get(n) == "y")

    # Each toggle as a vector "on minus off": (own, {unit: bytes}).
    vectors: dict[str, tuple[float, dict[int, float]]] = {}
    changed_of: dict[str, set[str]] = {}
    for name, t in toggles.items():
        if name not in t["changed"] or name in usage_texts.SYMBOLS:
            continue
        sign = -1 if t["flip"] == "n" else 1
        total = sign * (t["size"] - ref_size)
        per_unit: dict[int, float] = {}
        placed = 0.0
        usage = strings_d = 0.0
        for k, d in t["diff"].items():
            if _is_usage(k):
                usage += sign * d
                continue
            if k.startswith("<internal>"):
                strings_d += sign * d
                continue
            if k in none.sections:
                continue
            unit = unit_of_key.get(k, unit_of_obj.get(_object_of(k)))
            if unit is None:
                continue
            per_unit[unit] = per_unit.get(unit, 0) + sign * d
            placed += sign * d
        total -= usage
        if t["flip"] == "n":
            # Link level already charges the units that go with this symbol and what it switches off.
            switched = {name} | set(t["changed"])
            for u, unit_syms in enumerate(unit_users):
                if unit_syms & on_in_ref and unit_syms <= switched:
                    per_unit[u] = per_unit.get(u, 0) - usize[u]
                    placed -= usize[u]
                    total -= usize[u]
        if name in by_symbol:
            sole = sum(
                ev_link.usize[u] for u in units_of.get(name, ()) if u < n_link and ev_link.refs[u] == 1
            )
            total -= ev_link.cost_of(name) - sole
        elif strings_d and per_unit:
            # Strings move with the code that uses them.
            weight = sum(abs(d) for d in per_unit.values()) or 1.0
            for u, d in list(per_unit.items()):
                per_unit[u] = d + strings_d * abs(d) / weight
            placed += strings_d
        vectors[name] = (total - placed, per_unit)
        changed_of[name] = set(t["changed"]) - {name}

    # Charge each symbol only for itself: subtract what its sub-options cost.
    own_cost: dict[str, tuple[float, dict[int, float]]] = {}
    for name in sorted(vectors, key=lambda n: len(changed_of[n])):
        own, per_unit = vectors[name][0], dict(vectors[name][1])
        flip = toggles[name]["flip"]
        for other in changed_of[name]:
            if other in own_cost and toggles[other]["flip"] == flip and changed_of[other] <= changed_of[name]:
                o_own, o_units = own_cost[other]
                own -= o_own
                for u, d in o_units.items():
                    per_unit[u] = per_unit.get(u, 0) - d
        own_cost[name] = (own, per_unit)

    if minimal:
        own_cost = _rescale(
            own_cost,
            minimal,
            ref_values,
            none,
            unit_of_key,
            unit_of_obj,
            ev_link.usize,
            len(link_model.units),
        )

    symbols: dict[str, SymbolCost] = {}
    base = float(none.file_size)
    unit_sizes = [float(s) for s in usize]
    aliases: dict[str, str] = relinks.get("aliases", {})
    for alias, target in aliases.items():
        if target in units_of:
            units_of[alias] = sorted(set(units_of.get(alias, ())) | set(units_of[target]))
            strings[alias] = strings.get(target, 0)
    for name in set(by_symbol) | set(own_cost) | set(aliases):
        own, per_unit = own_cost.get(name, (0.0, {}))
        deltas = tuple(sorted((u, round(d)) for u, d in per_unit.items() if round(d)))
        symbols[name] = SymbolCost(
            own=round(own),
            strings=strings.get(name, 0) if name in by_symbol or name in aliases else 0,
            units=tuple(units_of.get(name, ())),
            deltas=deltas,
        )
        if ref_values.get(name) == "y":
            base -= own
            for u, d in deltas:
                unit_sizes[u] -= d
    basis = (
        f"calibrated {arch}/zig {tree.release}"
        if "zig" in toolchain_version
        else f"calibrated {arch} {tree.release}"
    )
    model = SizeModel(basis, round(base), tuple(round(s) for s in unit_sizes), symbols, True, {}, coef, power)
    ev = Evaluation(model)
    ev.sync(n for n in model.symbols if ref_values.get(n) == "y")
    # Every reference has bunzip2 on, so the full model's decoder fix is 0 there.
    anchor = ref_size - ev.total - _usage_total(usage_model, ref_values)
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
        ev.sync(n for n in final.symbols if minimal["values"].get(n) == "y")
        info["minimal_reference"] = "allnoconfig + every applet"
        info["minimal_size"] = minimal["size"]
        info["minimal_error"] = ev.total - minimal["size"]
    return final


def _usage_total(usage: usage_texts.UsageModel | None, values: Mapping[str, str]) -> int:
    if usage is None:
        return 0
    state = usage_texts.UsageState(usage)
    for name, value in values.items():
        if value == "y":
            state.set(name, True)
    return state.total


def _feature_users(
    users: dict[str, set[str]],
    minimal: Mapping[str, Any],
    toggles: Mapping[str, Any],
    ref_values: Mapping[str, str],
    by_symbol: Mapping[str, list[str]],
) -> dict[str, set[str]]:
    """Code an applet keeps alive only with its sub-options on belongs to those sub-options.

    The minimal reference's per-applet relinks say what each applet needs
    without its features; what it keeps in the full reference beyond that is
    live while any of its features (on in the reference) is on.
    """
    m_links = minimal["links"]
    m_none = m_links["(none)"]["sections"]
    out: dict[str, set[str]] = {}
    for key, us in users.items():
        new: set[str] = set()
        for a in us:
            kept = m_links.get(a)
            t = toggles.get(a)
            if kept is None or t is None or key in kept["sections"] or key in m_none:
                new.add(a)
                continue
            children = {c for c in t["changed"] if c != a and c not in by_symbol and ref_values.get(c) == "y"}
            new |= children or {a}
        out[key] = new
    return out


def _rescale(
    own_cost: dict[str, tuple[float, dict[int, float]]],
    minimal: Mapping[str, Any],
    ref_values: Mapping[str, str],
    none: LinkMap,
    unit_of_key: Mapping[str, int],
    unit_of_obj: Mapping[str, int],
    ref_units: list[int],
    n_link: int,
) -> dict[str, tuple[float, dict[int, float]]]:
    """Scale toggle costs so that switching off together what the minimal reference lacks lands on it.

    Toggles are measured one at a time from the full reference; switched off
    together they interact. The minimal reference (allnoconfig with every
    applet) is relinked like the full one: per unit, the sum of the deltas of
    the symbols it lacks is scaled to the bytes the unit really loses (when
    the ratio is plausible), and the same for the code no unit holds.
    """
    links = minimal["links"]
    m_none = links["(none)"]["sections"]
    m_sizes: dict[str, int] = {}
    for job, lm in links.items():
        if job.startswith("("):
            continue
        for k, v in lm["sections"].items():
            if k not in m_none:
                m_sizes[k] = v
    m_unit = [0.0] * n_link
    for k, v in m_sizes.items():
        u = unit_of_key.get(k, unit_of_obj.get(_object_of(k)))
        if u is not None and u < n_link:
            m_unit[u] += v
    m_values = minimal["values"]
    lacking = [n for n in own_cost if ref_values.get(n) == "y" and m_values.get(n) != "y"]
    explained = [0.0] * n_link
    explained_own = 0.0
    for n in lacking:
        explained_own += own_cost[n][0]
        for u, d in own_cost[n][1].items():
            if u < n_link:
                explained[u] += d
    scale = [1.0] * n_link
    for u in range(n_link):
        if m_unit[u] > 0 and explained[u] > 0:
            ratio = (ref_units[u] - m_unit[u]) / explained[u]
            if 0.0 <= ratio <= 4.0:
                scale[u] = ratio
    own_scale = 1.0
    if explained_own > 0:
        ratio = (none.file_size - int(links["(none)"]["file_size"])) / explained_own
        if 0.0 <= ratio <= 4.0:
            own_scale = ratio
    out: dict[str, tuple[float, dict[int, float]]] = {}
    lack = set(lacking)
    for n, (own, per_unit) in own_cost.items():
        if n not in lack:
            out[n] = (own, per_unit)
            continue
        out[n] = (own * own_scale, {u: d * (scale[u] if u < n_link else 1.0) for u, d in per_unit.items()})
    return out
