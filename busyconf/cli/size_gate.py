"""``busyconf size PROFILE --against MANIFEST [--max-growth LIMIT]``: the size gate's output.

Kept apart from :mod:`busyconf.cli.size`, which hands over when --against names a ``.json``
(:mod:`busyconf.cli.commands` gives it :func:`gate`; it loads and measures for it).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from busyconf.cli.console import err, esc, out, plain
from busyconf.errors import UserError


def gate(args: argparse.Namespace, load: Callable[..., Any], measure: Callable[..., int]) -> int:
    """Compare PROFILE with the build a manifest records; 1 when it grew past --max-growth."""
    from busyconf.supply.size_gate import compare, load_baseline

    base = load_baseline(Path(args.against))
    if args.arch is not None and args.arch != base.arch:
        raise UserError(f"{args.against}: a build for {base.arch}, not --arch {args.arch}")
    prof, config, arch, toolchain = load(args.profile, base.arch, args.toolchain)
    if config.release != base.release:
        raise UserError(f"{args.against}: BusyBox {base.release}, but {args.profile} is for {config.release}")
    if toolchain != base.toolchain:
        raise UserError(
            f"{args.against}: built with {base.toolchain}, but {args.profile} uses {toolchain} "
            f"(pass --toolchain {base.toolchain})"
        )
    measured = measure(config, arch, toolchain, quiet=args.json) if args.measure else None
    res = compare(base, config, toolchain, args.max_growth, measured)
    if args.json:
        doc = {"profile": str(prof.path), "release": base.release, "arch": arch, "toolchain": toolchain}
        sys.stdout.write(json.dumps({**doc, **res.to_dict()}, indent=2) + "\n")
    else:
        _print(res, str(prof.path), arch, args.top, out)
    if res.over:
        err.print(
            plain(
                f"busyconf: {args.profile}: {res.growth:+,} bytes ({res.percent:+.2f} %) against "
                f"{args.against}, over --max-growth {res.budget.text if res.budget else ''}"
            ),
            markup=False,
        )
        return 1
    return 0


def _print(res: Any, profile: str, arch: str, top: int, out: Any) -> None:
    from rich.table import Table

    how = (
        "measured (exact engine)"
        if res.how == "measured"
        else f"estimated: the manifest's size plus the size model's difference ({esc(res.basis)})"
    )
    out.print(f"[bold]{esc(profile)}[/] against {esc(res.manifest)}  ({esc(arch)})")
    out.print(f"new size {how}")
    t = Table("symbol", "old", "new", "old bytes", "new bytes", "delta")
    rows = res.rows[:top] if top else res.rows
    for r in rows:
        t.add_row(
            esc(r.name),
            esc(r.old_value or "-"),
            esc(r.new_value or "-"),
            f"{r.old_bytes:,}",
            f"{r.new_bytes:,}",
            f"{r.delta:+,}",
        )
    out.print(t)
    if top and len(res.rows) > top:
        out.print(f"({len(res.rows) - top} more symbols; --top 0 shows all)")
    up = sum(r.delta for r in res.rows if r.delta > 0)
    down = sum(r.delta for r in res.rows if r.delta < 0)
    out.print(f"symbols up/down: {up:+,}/{down:+,}  shared code and the rest: {res.other:+,}")
    verdict = ""
    if res.budget is not None:
        verdict = f"  max {esc(res.budget.text)} = {int(res.allowed):,} bytes: " + (
            "[red]OVER[/]" if res.over else "[green]ok[/]"
        )
    out.print(
        f"Total: {res.old_size:,} -> {res.new_size:,} bytes ({res.how}), "
        f"{res.growth:+,} bytes ({res.percent:+.2f} %){verdict}"
    )
