"""``busyconf trim``: a profile cut to the applets scripts run (--scan), or to a size budget (--budget)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from busyconf.cli.console import err, esc, out, plain
from busyconf.cli.options import DEFAULT_ARCH, DEFAULT_TOOLCHAIN, check_output_file
from busyconf.errors import UserError


def register(sub: Any) -> None:
    s = sub.add_parser(
        "trim",
        help="cut a profile to the applets scripts use (--scan), or to a size budget (--budget)",
        description="--scan: read shell scripts, Dockerfiles and a rootfs's init scripts, find "
        "every command they run and write a profile with only those applets plus the shell. "
        "--budget: list the removals that bring PROFILE's size estimate within the budget, "
        "cheapest loss first, and write them as a new profile with -o.",
    )
    s.add_argument("profile", nargs="?", help="with --budget: the profile to fit")
    s.add_argument("--scan", nargs="+", metavar="PATH", help="scripts, Dockerfiles, directories, a rootfs")
    s.add_argument(
        "--base",
        help="with --scan: profile whose features the kept applets keep (default: BusyBox's defconfig)",
    )
    s.add_argument(
        "--keep",
        action="extend",
        nargs="+",
        default=[],
        metavar="APPLET",
        help="applets to keep whatever the scan finds (also comma-separated)",
    )
    s.add_argument(
        "--interactive",
        action="store_true",
        help="with --scan: keep line editing, job control and tab completion as the base has them "
        "(for `docker run -it`); without it they go",
    )
    s.add_argument("--budget", help="size budget such as 600K or 1.2M (K = 1024 bytes)")
    s.add_argument("--arch", help="target CPU of the new profile (default: the base's)")
    s.add_argument("-o", "--output", help="profile to write (required with --scan)")
    s.add_argument("--force", action="store_true", help="replace an existing output file")
    s.add_argument("--json", action="store_true", help="print the result as JSON on stdout")
    s.set_defaults(func=cmd_trim)


def _keep_list(args: argparse.Namespace) -> list[str]:
    return [k for item in args.keep for k in item.split(",") if k]


def _check_output(args: argparse.Namespace) -> Path | None:
    if args.output is None:
        return None
    if not args.output:
        raise UserError("-o '': name the profile to write")
    path = Path(args.output)
    if path.suffix != ".toml":
        raise UserError(f"{path}: a profile file name ends in .toml")
    check_output_file(path)
    if path.is_file() and not args.force:
        raise UserError(f"{path}: already exists; pass --force to replace it")
    return path


def cmd_trim(args: argparse.Namespace) -> int:
    if bool(args.scan) == bool(args.budget):
        raise UserError("trim: give either --scan PATH... or --budget SIZE PROFILE")
    if args.scan:
        if args.profile:
            raise UserError(f"trim --scan: unexpected {args.profile!r}; the base profile goes in --base")
        for name in args.scan:
            if name.endswith(".toml"):
                raise UserError(
                    f"trim --scan {name}: a profile is not a script; the base profile goes in --base"
                )
        return _trim_scan(args)
    if not args.profile:
        raise UserError("trim --budget: name the profile to fit")
    return _trim_budget(args)


def _trim_scan(args: argparse.Namespace) -> int:
    from busyconf.build import broken, get_arch
    from busyconf.model.inputs import load_any
    from busyconf.model.profile import new_profile, profile_assignments, profile_lock, tree_for, write_atomic
    from busyconf.trim import plan_trim, scan_paths, trimmed_profile_text
    from busyconf.trim.plan import check_keep

    output = _check_output(args)
    if output is None:
        raise UserError("trim --scan: -o configs/NAME.toml is required")
    if args.base:
        loaded = load_any(Path(args.base))
        tree, assignments = loaded.tree, loaded.assignments
        prof = loaded.profile
        arch = args.arch if args.arch is not None else (prof.arch if prof else DEFAULT_ARCH)
        toolchain = prof.toolchain if prof else DEFAULT_TOOLCHAIN
        base_name = args.base
    else:
        prof = new_profile()
        tree = tree_for(prof)
        assignments = profile_assignments(tree, prof)
        arch = args.arch if args.arch is not None else prof.arch
        toolchain, base_name = prof.toolchain, "defconfig"
    get_arch(arch)
    keep = check_keep(tree, _keep_list(args))
    scan = scan_paths([Path(p) for p in args.scan])
    plan = plan_trim(scan, tree, assignments, keep, interactive=args.interactive)
    problems = broken.check(plan.config.values, release=tree.release, toolchain=toolchain, arch=arch)
    if problems:
        plan = plan_trim(
            scan,
            tree,
            [*assignments, *((p.symbol, p.safe) for p in problems)],
            keep,
            interactive=args.interactive,
        )
    description = f"trimmed from {base_name} to what {len(scan.files)} scanned file(s) run"
    text = trimmed_profile_text(plan, tree, arch, toolchain, description, output)
    with profile_lock(output):
        write_atomic(output, text)

    if args.json:
        sys.stdout.write(
            json.dumps(
                {
                    "output": str(output),
                    "files": list(scan.files),
                    "applets": list(plan.kept),
                    "added": list(plan.added),
                    "behind": plan.behind,
                    "dropped": len(plan.dropped),
                    "not_applets": plan.not_applets,
                    "builtins": list(plan.builtins),
                    "notes": [{"where": n.where, "message": n.message} for n in plan.notes],
                    "skipped": [{"path": p, "reason": r} for p, r in plan.skipped],
                    "switched_off_broken": [p.symbol for p in problems],
                    "options": [{"symbol": s, "reason": r} for s, r in plan.options],
                    "options_off": list(plan.options_off),
                    "unplaced": [{"where": w, "applet": a, "option": o} for w, a, o in plan.unplaced],
                },
                indent=2,
            )
            + "\n"
        )
        return 0
    for name, places in plan.not_applets.items():
        more = f" (and {len(places) - 1} more)" if len(places) > 1 else ""
        err.print(f"{places[0]}: {name!r} is not a BusyBox applet{more}", markup=False)
    for note in plan.notes:
        err.print(f"{note.where}: {note.message}", markup=False)
    quiet = 0
    for path, reason in plan.skipped:
        if reason.startswith("not a shell script"):
            err.print(f"{path}: skipped, {reason}", markup=False)
        else:
            quiet += 1
    if quiet:
        err.print(
            f"skipped {quiet} file(s) that are not scripts (binaries, data; --json lists them)", markup=False
        )
    for p in problems:
        err.print(f"set CONFIG_{p.symbol}={p.safe} (known not to build otherwise)", markup=False)
    out.print(
        f"[green]wrote[/] {esc(output)}: {len(plan.kept)} applets from {len(scan.files)} file(s), "
        f"{len(plan.dropped)} dropped from {esc(base_name)}"
    )
    out.print(plain("  " + " ".join(plan.kept)), markup=False)
    if plan.added:
        out.print(f"  [yellow]not in the base, added:[/] {esc(' '.join(plan.added))}")
    for why in plan.behind.values():
        out.print(f"  kept, {why}", markup=False)
    for where, applet, option in plan.unplaced:
        err.print(
            f"{where}: {applet} {option}: no feature symbol found for it; "
            f"{applet}'s options stay as in the base",
            markup=False,
        )
    for sym, reason in plan.options:
        out.print(f"  option {sym}: {reason}", markup=False)
    if plan.options_off:
        out.print(
            plain(f"  options switched off (no script passes them): {' '.join(plan.options_off)}"),
            markup=False,
        )
    return 0


def _trim_budget(args: argparse.Namespace) -> int:
    from rich.table import Table

    from busyconf.build import get_arch
    from busyconf.model.inputs import load_any
    from busyconf.model.profile import (
        apply_changes,
        load_profile,
        minimal_overrides,
        new_profile,
        profile_lock,
        relocate,
        save_profile,
        write_overrides,
    )
    from busyconf.size import estimator_for
    from busyconf.size.units import format_size
    from busyconf.trim import parse_size, plan_budget
    from busyconf.trim.plan import check_keep

    budget = parse_size(args.budget)
    output = _check_output(args)
    loaded = load_any(Path(args.profile))
    prof = loaded.profile
    arch = args.arch if args.arch is not None else (prof.arch if prof else DEFAULT_ARCH)
    get_arch(arch)
    toolchain = prof.toolchain if prof else DEFAULT_TOOLCHAIN
    keep = check_keep(loaded.tree, _keep_list(args))
    est = estimator_for(loaded.tree.release, arch, toolchain)
    plan = plan_budget(loaded.tree, loaded.assignments, est, budget, keep)

    if output is not None:
        # Read, change and write under the output's lock (the same lock when trimming in place).
        with profile_lock(output):
            if prof is not None and prof.path is not None:
                new = load_profile(prof.path)
                relocate(new, loaded.tree, output)
                apply_changes(new, loaded.tree, plan.changes)
            else:
                new = new_profile(
                    loaded.tree.release,
                    arch,
                    "defconfig",
                    f"imported from {Path(args.profile).name}",
                    toolchain,
                    path=output,
                )
                write_overrides(new, loaded.tree, minimal_overrides(loaded.tree, [], plan.config))
            save_profile(new, output)

    if args.json:
        sys.stdout.write(
            json.dumps(
                {
                    "budget": plan.budget,
                    "before": plan.before,
                    "after": plan.after,
                    "basis": plan.basis,
                    "removals": [
                        {"symbol": r.symbol, "saved": r.saved, "applets": list(r.applets)}
                        for r in plan.removals
                    ],
                    "output": str(output) if output else None,
                },
                indent=2,
            )
            + "\n"
        )
        return 0
    table = Table(
        title=f"{esc(args.profile)}: {format_size(plan.before)} -> {format_size(plan.after)} "
        f"(budget {format_size(budget)}; estimate: {esc(plan.basis)})"
    )
    table.add_column("switch off")
    table.add_column("applets lost")
    table.add_column("saves", justify="right")
    for r in plan.removals:
        table.add_row(esc(r.symbol), esc(" ".join(r.applets) or "-"), f"{r.saved:,}")
    out.print(table)
    if not plan.removals:
        out.print("already within the budget: nothing to remove")
    if output:
        out.print(f"[green]wrote[/] {esc(output)}")
    return 0
