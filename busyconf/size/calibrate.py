"""Calibration: measure a size model for (release, arch, toolchain) with real builds.

Method (chosen by measurement; see ``bench/size_accuracy.py``):

1. Build a reference configuration (defconfig, known-broken options off) in a
   private kbuild tree; its stripped size anchors the model.
2. Relink that tree with the real linker (``zig ld.lld``, ~0.05 s a link),
   once with every applet's ``*_main`` defined away (what any BusyBox costs)
   and once per applet symbol keeping only that applet. The link maps say
   which input sections each applet keeps alive under ``--gc-sections``;
   sections with the same set of users become one *unit*, so libbb code
   shared by several applets is counted once (the second user is cheaper).
3. The applet table and packed usage texts grow with each applet: their
   reference size is spread evenly over the reference applets.
4. Symbols this cannot measure (features, applets off in the reference) take
   their BusyBox prompt label, scaled as the coarse model does.

Relinks are stored as they finish, so an interrupted calibration resumes.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from busyconf.build.toolchain import find_zig
from busyconf.errors import Interrupted, ToolchainError
from busyconf.model.dotconfig import write_dotconfig
from busyconf.model.kconfig import KconfigTree, load_tree
from busyconf.size.labels import label_model
from busyconf.size.linkmap import LinkMap, applet_mains, link_map, lld_args
from busyconf.size.model import Evaluation, SizeModel, SymbolCost, enabled_names
from busyconf.size.table import TableKey, save_table
from busyconf.size.workdir import WorkTree, make_binary, open_worktree

#: appletlib.o sections that hold one entry per applet.
_TABLE_SECTIONS = (
    "applet_names",
    "applet_nameofs",
    "applet_main",
    "applet_suid",
    "applet_install_loc",
    "packed_usage",
)


@dataclass(frozen=True)
class CalibrationProgress:
    """``phase``: build, relink, done; ``done``/``total`` within the phase."""

    phase: str
    done: int
    total: int
    message: str = ""


Progress = Callable[[CalibrationProgress], None]


def reference_config(tree: KconfigTree) -> str:
    """The reference .config: defconfig (the build drops known-broken options)."""
    with tree.lock:
        tree.apply([])
        return write_dotconfig(tree)


def _emit(progress: Progress | None, event: CalibrationProgress) -> None:
    if progress is not None:
        progress(event)


def calibrate(
    release: str,
    arch: str,
    toolchain: str = "zig",
    *,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
    out: Path | None = None,
) -> tuple[Path, SizeModel]:
    """Measure and save the size table; returns its path and the model."""
    tree = load_tree(release)
    wt = open_worktree(release, arch, toolchain)
    zig = find_zig()
    if zig is None:
        raise ToolchainError("zig not found: calibration relinks with zig ld.lld")

    compiled = 0

    def on_line(line: str) -> None:
        nonlocal compiled
        if line.startswith("  CC "):
            compiled += 1
            _emit(progress, CalibrationProgress("build", compiled, 0, line.strip()))

    _emit(progress, CalibrationProgress("build", 0, 0, f"building reference in {wt.root}"))
    ref_size = make_binary(wt, reference_config(tree), on_line=on_line, cancel=cancel)
    model = _measure(tree, wt, zig, ref_size, progress, cancel)
    key = TableKey(release, wt.arch.name, toolchain)
    path = save_table(key, model.to_dict(), out)
    _emit(progress, CalibrationProgress("done", 1, 1, str(path)))
    return path, model


def _measure(
    tree: KconfigTree,
    wt: WorkTree,
    zig: Path,
    ref_size: int,
    progress: Progress | None,
    cancel: threading.Event | None,
) -> SizeModel:
    obj = wt.obj
    args = lld_args(obj, zig)
    mains_of_applet = applet_mains((obj / "include" / "applets.h").read_text())
    ref_values = _dotconfig_values((obj / ".config").read_text())
    by_symbol: dict[str, list[str]] = {}
    for applet in tree.applets:
        main = mains_of_applet.get(applet.name)
        if main and applet.enabled(ref_values):
            by_symbol.setdefault(applet.requires[-1], []).append(main)
    all_mains = sorted({m for ms in by_symbol.values() for m in ms})
    work = wt.root / "relink"
    work.mkdir(exist_ok=True)
    state_path = wt.root / "relink-state.json"
    signature = json.dumps([args, all_mains, ref_size])
    state: dict[str, Any] = {}
    if state_path.is_file():
        try:
            state = json.loads(state_path.read_text())
        except json.JSONDecodeError:
            state = {}
        if state.get("signature") != signature:
            state = {}
    state["signature"] = signature
    done: dict[str, dict[str, Any]] = state.setdefault("links", {})
    lock = threading.Lock()
    subsets = _random_subsets(sorted(by_symbol), SUBSETS)
    jobs = ["(none)"] + sorted(by_symbol) + sorted(subsets)
    todo = [j for j in jobs if j not in done]

    def run(job: str) -> None:
        if cancel is not None and cancel.is_set():
            raise Interrupted("calibration cancelled")
        if job in subsets:
            keep = {m for sym in subsets[job] for m in by_symbol[sym]}
        else:
            keep = set(by_symbol.get(job, ()))
        lm = link_map(zig, obj, args, work, job, [m for m in all_mains if m not in keep])
        with lock:
            done[job] = {"sections": lm.sections, "file_size": lm.file_size}
            _emit(progress, CalibrationProgress("relink", len(done), len(jobs), job))
            if len(done) % 25 == 0:
                state_path.write_text(json.dumps(state))

    _emit(progress, CalibrationProgress("relink", len(done), len(jobs), "relinking"))
    with ThreadPoolExecutor(max_workers=2) as pool:
        for f in [pool.submit(run, j) for j in todo]:
            f.result()
    state_path.write_text(json.dumps(state))
    links = {k: LinkMap(v["sections"], v["file_size"]) for k, v in done.items()}
    return build_model(tree, wt, links, by_symbol, ref_values, ref_size, subsets)


#: Random applet subsets relinked to fit the merged-strings term and check the model.
SUBSETS = 40


def _random_subsets(symbols: list[str], n: int) -> dict[str, list[str]]:
    import random

    rng = random.Random(1)
    out: dict[str, list[str]] = {}
    for i in range(n):
        p = (0.02, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 1.0)[i % 8]
        out[f"(subset {i})"] = sorted(s for s in symbols if rng.random() < p) or symbols[:1]
    return out


def _fit_power(xs: list[float], ys: list[float]) -> tuple[float, float]:
    """Least squares of log y = log c + p log x; (c, p)."""
    import math

    pts = [(math.log(x), math.log(y)) for x, y in zip(xs, ys) if x > 0 and y > 0]
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


def _dotconfig_values(text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in text.splitlines():
        if line.startswith("CONFIG_") and "=" in line:
            name, value = line[7:].split("=", 1)
            out[name] = value
    return out


def build_model(
    tree: KconfigTree,
    wt: WorkTree,
    links: dict[str, LinkMap],
    by_symbol: dict[str, list[str]],
    ref_values: dict[str, str],
    ref_size: int,
    subsets: dict[str, list[str]],
) -> SizeModel:
    """Units from the per-applet link maps; labels for what was not measured."""
    none = links["(none)"]
    users: dict[str, set[str]] = {}
    sizes: dict[str, int] = {}
    strings: dict[str, int] = {}
    for sym in by_symbol:
        lm = links[sym]
        for key, size in lm.sections.items():
            if key in none.sections:
                extra = size - none.sections[key]
                if extra > 0:
                    strings[sym] = strings.get(sym, 0) + extra
                continue
            users.setdefault(key, set()).add(sym)
            sizes[key] = size
    groups: dict[frozenset[str], int] = {}
    for key, us in users.items():
        g = frozenset(us)
        groups[g] = groups.get(g, 0) + sizes[key]
    unit_list = sorted(groups.items(), key=lambda kv: (-kv[1], sorted(kv[0])))
    units = tuple(size for _, size in unit_list)
    units_of: dict[str, list[int]] = {}
    for i, (g, _) in enumerate(unit_list):
        for sym in g:
            units_of.setdefault(sym, []).append(i)
    table_bytes = sum(
        size for key, size in none.sections.items() if "appletlib.o" in key and key.rsplit(".", 1)[-1].rstrip(")") in _TABLE_SECTIONS
    )
    n_applets = sum(len(tree.applets_of(s)) for s in by_symbol) or 1
    per_applet = table_bytes / n_applets
    base = none.file_size - table_bytes
    labels = label_model(tree, wt.arch.name if wt.arch.name in _label_arches() else None)
    symbols: dict[str, SymbolCost] = {}
    for sym in by_symbol:
        symbols[sym] = SymbolCost(
            own=round(per_applet * len(tree.applets_of(sym))),
            strings=strings.get(sym, 0),
            units=tuple(units_of.get(sym, ())),
        )
    label_only = []
    unit_sizes = list(units)
    for sym, cost in labels.symbols.items():
        if sym in symbols:
            continue
        label_only.append(sym)
        carrier = _carrier(tree, sym, units_of)
        ref_on = ref_values.get(sym) == "y"
        if carrier is None:
            symbols[sym] = cost
            if ref_on:
                base -= cost.own
        else:
            symbols[sym] = SymbolCost(deltas=((carrier, cost.own),))
            if ref_on:
                unit_sizes[carrier] -= cost.own
    units = tuple(unit_sizes)
    xs, ys = [], []
    for job, syms in subsets.items():
        lm = links[job]
        xs.append(float(sum(strings.get(s, 0) for s in syms)))
        ys.append(float(sum(v - none.sections.get(k, 0) for k, v in lm.sections.items() if k.startswith("<internal>"))))
    coef, power = _fit_power(xs, ys)
    basis = f"calibrated {wt.arch.name}/{wt.toolchain.name} {tree.release}"
    link_model = SizeModel(basis, none.file_size, tuple(groups[g] for g, _ in unit_list), {
        s: SymbolCost(strings=strings.get(s, 0), units=tuple(units_of.get(s, ()))) for s in by_symbol
    }, True, {}, coef, power)
    link_errors = []
    for job, syms in subsets.items():
        lev = Evaluation(link_model)
        lev.sync(syms)
        link_errors.append(round((lev.total - links[job].file_size) / links[job].file_size * 100, 3))
    model = SizeModel(basis, base, units, symbols, True, {}, coef, power)
    ev = Evaluation(model)
    ev.sync(enabled_names(ref_values, model))
    anchor = ref_size - ev.total
    info = {
        "reference": "defconfig",
        "reference_size": ref_size,
        "anchor_correction": anchor,
        "measured_symbols": sorted(by_symbol),
        "label_symbols": sorted(label_only),
        "per_applet_table_bytes": round(per_applet, 1),
        "toolchain_version": wt.toolchain.version,
        "link_level_errors_percent": sorted(link_errors, key=abs)[-5:],
    }
    return SizeModel(model.basis, base + anchor, units, symbols, True, info, coef, power)


def _carrier(tree: KconfigTree, sym: str, units_of: dict[str, list[int]]) -> int | None:
    """The first unit of the nearest measured symbol ``sym`` depends on."""
    import kconfiglib

    seen = {sym}
    queue = [sym]
    while queue:
        name = queue.pop(0)
        node = tree.symbols.get(name)
        if node is None:
            continue
        for item in kconfiglib.expr_items(node.direct_dep):
            if not isinstance(item, kconfiglib.Symbol) or item.is_constant or item.name in seen:
                continue
            if units_of.get(item.name):
                return units_of[item.name][0]
            seen.add(item.name)
            queue.append(item.name)
    return None


def _label_arches() -> tuple[str, ...]:
    from busyconf.size.labels import DEFCONFIG_SIZES

    return tuple(DEFCONFIG_SIZES)
