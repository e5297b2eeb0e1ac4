"""``busyconf size``: estimated sizes, comparisons, real measurements, calibration.

::

    busyconf size PROFILE [--arch A] [--json] [--against OTHER] [--measure]
    busyconf size PROFILE --against MANIFEST [--max-growth 1%] [--measure]
    busyconf size calibrate --arch A [--release R] [--toolchain T] [--borrow ARCH | --shard K/N] [--out PATH]
    busyconf size calibrate --merge FILE... [--out TABLE]
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from busyconf.cli.console import err, esc, out, plain
from busyconf.cli.options import DEFAULT_TOOLCHAIN, whole_number
from busyconf.errors import UserError
from busyconf.size.units import grouped

#: ``--transfer`` without FROM (busyconf.size.calibration.run.NEAREST; not imported: --help stays light).
NEAREST = "nearest"

if TYPE_CHECKING:
    from busyconf.size.calibration import CalibrationProgress
    from busyconf.size.cost_model import SizeModel

#: The parser name ``busyconf size calibrate`` is routed to.
CALIBRATE = "size-calibrate"

#: Loads PROFILE for ``--against MANIFEST``: (path, arch, toolchain) -> (profile, config, arch, toolchain).
Load = Callable[[str, str | None, str | None], tuple[Any, Any, str, str]]
#: Measures a configuration exactly: (config, arch, toolchain, quiet) -> bytes.
Measure = Callable[..., int]
#: ``size PROFILE --against MANIFEST``: the size gate (:func:`busyconf.cli.size_gate.gate`).
Gate = Callable[[argparse.Namespace, Load, Measure], int]


def register(subparsers: argparse._SubParsersAction, against_manifest: Gate) -> None:  # type: ignore[type-arg]
    """Add ``size`` and ``size-calibrate`` to the CLI; ``--against MANIFEST`` goes to ``against_manifest``.

    The gate is handed in (by :mod:`busyconf.cli.commands`) rather than imported: a command
    module imports no other.
    """
    p = subparsers.add_parser(
        "size",
        help="what a profile's applets and features cost in bytes; 'size calibrate' measures a CPU",
        description="busyconf size PROFILE [--arch A] [--json] [--against OTHER] [--measure]\n"
        "busyconf size PROFILE --against MANIFEST [--max-growth 1%] [--measure]\n"
        "busyconf size calibrate --arch A [--release R] [--toolchain T] [--transfer [FROM] | --shard K/N]"
        " (see busyconf size calibrate --help)",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("profile", metavar="PROFILE", help="a profile (./calibrate for a file of that name)")
    p.add_argument("--arch", help="target CPU (default: the profile's)")
    p.add_argument("--json", action="store_true", help="one JSON document on stdout")
    p.add_argument(
        "--against",
        metavar="OTHER",
        help="show what changes from PROFILE to OTHER; OTHER a manifest.json: PROFILE against that build",
    )
    p.add_argument(
        "--max-growth",
        type=_growth,
        metavar="LIMIT",
        help="with --against MANIFEST: exit 1 when PROFILE is bigger by more than LIMIT (1%%, 2048, 4K)",
    )
    p.add_argument("--measure", action="store_true", help="also build and report the real size")
    p.add_argument("--toolchain", help=f"toolchain (default: the profile's, or {DEFAULT_TOOLCHAIN})")
    # 0 or more: a negative --top would cut rows from the end.
    p.add_argument(
        "--top", type=whole_number(0, 1_000_000), default=40, help="rows to show (default 40; 0 = all)"
    )
    p.set_defaults(func=functools.partial(cmd_size, gate=against_manifest))

    # `busyconf size calibrate ...` is routed here by busyconf.cli.commands.run (argparse cannot give
    # `size` both a PROFILE and subcommands); no help=, so it is not listed as a command.
    c = subparsers.add_parser(
        CALIBRATE,
        prog="busyconf size calibrate",
        description="Measure a CPU's size table.\n\n"
        "Calibration builds two references (defconfig and allnoconfig, each with every applet), "
        "relinks them per applet and toggles every symbol around each: about an hour per reference on "
        "2 cores, resumable. --transfer builds and relinks the references here but takes the "
        "toggles of a table measured for another CPU or release (scaled; symbols it never toggled "
        "are toggled here) and takes minutes. `busyconf size PROFILE --arch A` says which kind of "
        "table a CPU has (measured, transferred, or none: coarse).\n\n"
        "  busyconf size calibrate --arch riscv64 --transfer            (from the nearest measured table)\n"
        "  busyconf size calibrate --arch x86_64 --release 1.35.0 --transfer 1.38.0\n\n"
        "To spread one calibration over machines, run it as N shards and merge them:\n"
        "  busyconf size calibrate --arch A --shard 1/N   (on each machine: 1/N ... N/N)\n"
        "  busyconf size calibrate --merge FILE...        (the N partial files, on one machine)\n"
        "Each shard builds the references and takes every Nth symbol toggle; the merge checks the\n"
        "shards belong together and writes the same table an unsharded run would.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    c.add_argument("--arch", help="target CPU (required, except with --merge)")
    c.add_argument("--release", help="BusyBox release (default 1.38.0)")
    c.add_argument("--toolchain", help=f"toolchain (default {DEFAULT_TOOLCHAIN})")
    c.add_argument(
        "--transfer",
        nargs="?",
        const=NEAREST,
        metavar="FROM",
        help="take the compile-level toggles of a measured table: FROM a CPU (this release), "
        "a release (this CPU) or RELEASE/CPU; without FROM the nearest measured one "
        "(this CPU at the nearest release, else x86_64)",
    )
    c.add_argument(
        "--budget",
        type=whole_number(1, 100_000),
        metavar="MINUTES",
        help="toggle symbols one by one for at most MINUTES per reference, cheapest first; the rest "
        "are measured in groups that recompile the same objects, each charged an equal share, "
        "which misprices the big ones (x86_64's table went from 0.2 to 1.8 %% median error); a "
        "later run without --budget measures them alone",
    )
    c.add_argument(
        "--shard",
        metavar="K/N",
        help="measure only shard K of N and write its partial result "
        "(default ./RELEASE-ARCH-TOOLCHAIN.shard-K-of-N.measurements.json.xz)",
    )
    c.add_argument(
        "--merge",
        nargs="+",
        metavar="FILE",
        help="merge every shard's partial file into the table (release, CPU and toolchain come from them)",
    )
    c.add_argument(
        "--out",
        metavar="PATH",
        help="where to write: the table (its measurements beside it; default the user's table), "
        "or with --shard the partial file",
    )
    c.add_argument("--json", action="store_true", help="one JSON document on stdout")
    c.set_defaults(func=cmd_calibrate)


def _growth(text: str) -> Any:
    """argparse type for --max-growth (a bad one is a one-line usage error)."""
    from busyconf.supply.size_gate import parse_budget

    try:
        return parse_budget(text)
    except UserError as e:
        raise argparse.ArgumentTypeError(str(e).removeprefix("--max-growth ")) from None


def _check_names(arch: str | None, toolchain: str | None, release: str | None = None) -> None:
    """Every name that becomes part of a cache path, checked before anything is read or made."""
    from busyconf.build import get_arch
    from busyconf.build.toolchain import check_toolchain_name
    from busyconf.source.releases import check_version

    if arch is not None:
        get_arch(arch)
    if toolchain is not None:
        check_toolchain_name(toolchain)
    if release is not None:
        check_version(release)


def cmd_size(args: argparse.Namespace, gate: Gate) -> int:
    _check_names(args.arch, args.toolchain)
    if args.against is not None and args.against.endswith(".json"):
        return gate(args, _load, _measure)
    if args.max_growth is not None:
        raise UserError("--max-growth needs --against MANIFEST (a previous build's manifest.json)")
    return _report(args)


def _load(path: str, arch: str | None, toolchain: str | None) -> tuple[Any, Any, str, str]:
    from busyconf.model.profile import load_profile, resolve_profile

    prof = load_profile(Path(path))
    config = resolve_profile(prof)
    arch = arch if arch is not None else prof.arch
    toolchain = toolchain if toolchain is not None else prof.toolchain
    _check_names(arch, toolchain)
    return prof, config, arch, toolchain


def _report(args: argparse.Namespace) -> int:
    from busyconf.size import UNPRICED, estimator_for
    from busyconf.size.calibration.donors import offer
    from busyconf.size.table import TableKey, table_kind

    prof, config, arch, toolchain = _load(args.profile, args.arch, args.toolchain)
    est = estimator_for(config.release, arch, toolchain)
    e = est.estimate(config)
    tree = est.tree
    key = TableKey(config.release, arch, toolchain)
    kind = table_kind(key)
    measured: int | None = None
    if args.measure:
        measured = _measure(config, arch, toolchain, quiet=args.json)
    data: dict[str, Any] = {
        "profile": str(prof.path),
        "release": config.release,
        "arch": arch,
        "toolchain": toolchain,
        "basis": e.basis,
        "calibrated": e.calibrated,
        "table": kind,
        "estimate": e.total,
        # A coarse estimate's ± N % (max |error| the bench measured on this CPU); None: calibrated or unknown.
        "coarse_range_percent": None if est.coarse_range is None else est.coarse_range.percent,
        "shared": e.shared,
        # Options on that no table prices (the estimate leaves out what they cost), with why.
        "unpriced": {n: UNPRICED[n] for n in e.unpriced},
        "measured": measured,
        "symbols": [
            {"name": n, "bytes": b, "kind": "applet" if tree.is_applet(n) else "feature"}
            for n, b in sorted(e.per_symbol.items(), key=lambda kv: (-kv[1], kv[0]))
        ],
    }
    if measured:
        data["error_percent"] = round((e.total - measured) / measured * 100, 2)
    if not e.calibrated:
        made = offer(key)
        data["make_table"] = {"command": made.command, "transfer_from": made.donor, "text": made.text}
    if args.against:
        oprof, oconfig, _, _ = _load(args.against, arch, toolchain)
        if oconfig.release != config.release:
            raise UserError(
                f"{args.against}: release {oconfig.release} differs from {args.profile}'s {config.release}"
            )
        o = est.estimate(oconfig)
        data["against"] = _compare(e.per_symbol, o.per_symbol, e.total, o.total, str(oprof.path))
    if args.json:
        sys.stdout.write(json.dumps(data, indent=2) + "\n")
        return 0
    _print_report(data, args.top)
    return 0


def _compare(a: dict[str, int], b: dict[str, int], ta: int, tb: int, other: str) -> dict[str, Any]:
    """bloat-o-meter by config symbol: what each symbol adds or saves from A to B."""
    rows: list[dict[str, Any]] = []
    for name in set(a) | set(b):
        d = b.get(name, 0) - a.get(name, 0)
        if d:
            kind = "add" if name not in a else "remove" if name not in b else "grow" if d > 0 else "shrink"
            rows.append(
                {"name": name, "old": a.get(name, 0), "new": b.get(name, 0), "delta": d, "change": kind}
            )
    rows.sort(key=lambda r: (-abs(r["delta"]), r["name"]))
    return {
        "other": other,
        "other_estimate": tb,
        "delta": tb - ta,
        "up": sum(r["delta"] for r in rows if r["delta"] > 0),
        "down": sum(r["delta"] for r in rows if r["delta"] < 0),
        "added": sum(1 for r in rows if r["change"] == "add"),
        "removed": sum(1 for r in rows if r["change"] == "remove"),
        "symbols": rows,
    }


def _print_report(data: dict[str, Any], top: int) -> None:
    style = "green" if data["calibrated"] else "yellow"
    out.print(
        f"[bold]{esc(data['profile'])}[/]  BusyBox {esc(data['release'])}  "
        f"{esc(data['arch'])}/{esc(data['toolchain'])}"
    )
    out.print(f"estimate: [bold]{grouped(data['estimate'])}[/] bytes  ([{style}]{esc(data['basis'])}[/])")
    for name, why in data["unpriced"].items():
        out.print(f"not priced: {name} ({why})", style="yellow", markup=False)
    if data["calibrated"]:
        out.print(f"size table: {esc(data['table'])}")
    elif "make_table" in data:
        out.print(plain(data["make_table"]["text"]), style="yellow", markup=False)
    if data["measured"]:
        error = f"error {data['error_percent']:+.2f} %"
        out.print(f"measured: [bold]{grouped(data['measured'])}[/] bytes  ({error})")
    if "against" in data:
        a = data["against"]
        out.print(
            f"against {esc(a['other'])}: {grouped(a['other_estimate'])} bytes, "
            f"add/remove: {a['added']}/{a['removed']}  up/down: {a['up']:+,}/{a['down']:+,} ({a['delta']:+,})"
        )
        t = Table("symbol", "change", "old", "new", "delta")
        rows = a["symbols"][:top] if top else a["symbols"]
        for r in rows:
            t.add_row(esc(r["name"]), r["change"], grouped(r["old"]), grouped(r["new"]), f"{r['delta']:+,}")
        out.print(t)
        return
    if data["calibrated"]:
        title = f"shared library code not charged to one symbol: {grouped(data['shared'])} bytes"
    else:
        title = "each option's label price, scaled: they do not add up to the total"
    t = Table("symbol", "kind", "bytes", title=title)
    rows = data["symbols"][:top] if top else data["symbols"]
    for r in rows:
        t.add_row(esc(r["name"]), r["kind"], grouped(r["bytes"]))
    out.print(t)
    if top and len(data["symbols"]) > top:
        out.print(f"({len(data['symbols']) - top} more; --top 0 shows all)")


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}", markup=False),
        BarColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[detail]}", markup=False),
        console=err,
        transient=True,
        # Off a terminal a live display only leaves an empty line before the error or the result.
        disable=not err.is_terminal,
    )


def _measure(config: Any, arch: str, toolchain: str, quiet: bool) -> int:
    """The exact stripped size from the object cache (a real kbuild build on a miss it cannot serve)."""
    from busyconf.model import load_tree
    from busyconf.model.dotconfig import dotconfig_text
    from busyconf.size.exact import engine_for

    tree = load_tree(config.release)
    text = dotconfig_text(tree, list(config.values.items()))
    engine = engine_for(config.release, arch, toolchain)
    with _progress() as bar:
        task = bar.add_task(plain(f"measuring {arch}"), total=None, detail="")

        def on_line(line: str) -> None:
            if line.startswith("  CC "):
                bar.update(task, advance=1, detail=plain(line.strip()[-40:]))

        return engine.measure(text, on_line=on_line).size


def cmd_calibrate(args: argparse.Namespace) -> int:
    from busyconf.size.calibration import Shard, calibrate, calibrate_shard, merge_files
    from busyconf.source import DEFAULT_RELEASE

    out_path = Path(args.out) if args.out is not None else None
    if args.merge is not None:
        options = ("arch", "release", "toolchain", "transfer", "budget", "shard")
        given = [f"--{o}" for o in options if getattr(args, o)]
        if given:
            raise UserError(
                f"--merge takes the release, CPU and toolchain from its files: leave out {given[0]}"
            )
        path, model = merge_files([Path(f) for f in args.merge], out_path)
        return _calibrated(args, path, model)
    if args.arch is None:
        raise UserError("size calibrate: give --arch A (or --merge FILE... to merge shards)")
    _check_names(args.arch, args.toolchain, args.release)
    release = args.release if args.release is not None else DEFAULT_RELEASE
    toolchain = args.toolchain if args.toolchain is not None else DEFAULT_TOOLCHAIN
    if args.transfer is not None:
        _check_transfer(args.transfer)
        if args.shard is not None:
            raise UserError("--shard splits the toggles measured here; --transfer takes them: give one")
    if args.budget is not None and args.shard is not None:
        raise UserError("--shard measures each toggle of its share alone, so shards merge: drop --budget")
    shard = Shard.parse(args.shard) if args.shard is not None else None
    if shard is None:
        with _progress() as bar:
            path, model = calibrate(
                release,
                args.arch,
                toolchain,
                progress=_on_progress(bar),
                transfer=args.transfer,
                budget=None if args.budget is None else args.budget * 60.0,
                out=out_path,
            )
        return _calibrated(args, path, model)
    with _progress() as bar:
        part = calibrate_shard(release, args.arch, toolchain, shard, progress=_on_progress(bar), out=out_path)
    if args.json:
        sys.stdout.write(json.dumps({"partial": str(part), "shard": str(shard)}, indent=2) + "\n")
    else:
        out.print(plain(f"shard {shard}: {part}"), markup=False)
        out.print(
            f"merge every shard's file with: busyconf size calibrate --merge FILE... ({shard.count} files)"
        )
    return 0


def _check_transfer(source: str) -> None:
    """--transfer's FROM, checked like --arch and --release before anything is read."""
    from busyconf.size.calibration.donors import parse_source

    if source == NEAREST:
        return
    release, arch = parse_source(source)
    try:
        _check_names(arch, None, release)
    except UserError as e:
        raise UserError(f"--transfer {source}: {e}") from None


#: Off a terminal (a CI log, nohup), a calibration's progress is one line per phase and then
#: at most one line per this many seconds.
LOG_EVERY = 60.0
#: What each calibration phase is called in the progress bars and log lines.
PHASE_LABELS = {
    "build": "reference build",
    "relink": "relinks",
    "toggle": "toggles",
    "usage": "usage texts",
    "reach": "library reach",
    "ladder": "small configurations",
    "done": "done",
}


def _on_progress(bar: Progress) -> Callable[[CalibrationProgress], None]:
    """A calibration's progress: one bar per phase and reference, or off a terminal, log lines."""
    tasks: dict[str, Any] = {}
    last_key, last_at = "", 0.0

    def label_of(event: CalibrationProgress) -> str:
        label = PHASE_LABELS[event.phase]
        if event.reference != "full" and event.phase != "done":
            label += f" ({event.reference})"
        return label

    def log(event: CalibrationProgress) -> None:
        nonlocal last_key, last_at
        key = f"{event.phase} {event.reference}"
        now = time.monotonic()
        if key == last_key and now - last_at < LOG_EVERY:
            return
        last_key, last_at = key, now
        count = f" {event.done}/{event.total}" if event.total else ""
        line = f"{time.strftime('%H:%M:%S')} {label_of(event)}{count} {event.message}"
        err.print(plain(line.rstrip()), markup=False)

    def on(event: CalibrationProgress) -> None:
        if bar.disable:
            log(event)
            return
        key = f"{event.phase} {event.reference}"
        if key not in tasks:
            tasks[key] = bar.add_task(label_of(event), total=event.total or None, detail="")
        bar.update(
            tasks[key],
            completed=event.done,
            total=event.total or None,
            detail=plain(event.message[-40:]),
        )

    return on


def _calibrated(args: argparse.Namespace, path: Path, model: SizeModel) -> int:
    """Say which table a calibration (or merge) wrote, and what it measured."""
    info = model.info
    if args.json:
        doc = {"table": str(path), "basis": model.basis, **info}
        if model.sparse is not None:
            doc["sparse"] = dict(model.sparse.info)
        sys.stdout.write(json.dumps(doc, indent=2) + "\n")
        return 0
    out.print(plain(f"size table: {path}"), markup=False)
    out.print(
        f"reference ({esc(info.get('reference'))}): {grouped(int(info.get('reference_size', 0)))} bytes; "
        f"{info.get('applet_symbols', 0)} applet symbols relinked, "
        f"{info.get('toggled_symbols', 0)} symbols measured by exact toggles"
    )
    if model.sparse is not None:
        low = model.sparse.info
        out.print(
            f"sparse reference ({esc(low.get('reference'))}): "
            f"{grouped(int(low.get('reference_size', 0)))} bytes; "
            f"blended by the share of {len(model.blend)} features on"
        )
    return 0
