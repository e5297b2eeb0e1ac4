"""``busyconf upgrade``: move a profile to a newer BusyBox release, with a drift report."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from rich.table import Table

from busyconf.cli.console import esc, out, plain
from busyconf.cli.options import check_output_file
from busyconf.errors import UserError


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add ``upgrade`` to the CLI."""
    p = subparsers.add_parser(
        "upgrade",
        help="move a profile to a newer BusyBox release, keeping its applets; reports what drifts",
        description="busyconf upgrade PROFILE --to RELEASE [--accept-new | --accept SYM,...] "
        "[--dry-run] [--json] [-o NEW]\n\n"
        "Reports every symbol BusyBox's `make oldconfig` would change (new, removed or renamed, "
        "changed defaults, values that no longer take effect, and why), the applets added or removed "
        "and the size change on the profile's CPU, applet by applet. Then writes the profile for the "
        "new release: new symbols that would switch on are pinned off unless accepted, a renamed "
        "symbol's value moves to its new name, a removed one is dropped; comments stay.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("profile", metavar="PROFILE", help="the profile to upgrade")
    p.add_argument("--to", required=True, metavar="RELEASE", help="the newer BusyBox release")
    p.add_argument("--accept-new", action="store_true", help="let every new symbol take its default")
    p.add_argument(
        "--accept",
        metavar="SYM,...",
        default="",
        help="let these new symbols (or new applets, by name) take their default",
    )
    p.add_argument("--dry-run", action="store_true", help="only report; write nothing")
    p.add_argument("--json", action="store_true", help="print the report as one JSON document")
    p.add_argument(
        "-o", "--output", metavar="NEW", help="write the upgraded profile here (default: in place)"
    )
    p.add_argument("--force", action="store_true", help="replace an existing -o file")
    p.set_defaults(func=cmd_upgrade)


def _accept(args: argparse.Namespace) -> bool | frozenset[str]:
    if args.accept_new:
        if args.accept:
            raise UserError("--accept-new and --accept: give one of them")
        return True
    names = [n.strip() for n in args.accept.split(",") if n.strip()]
    return frozenset(n[len("CONFIG_") :] if n.startswith("CONFIG_") else n for n in names)


def cmd_upgrade(args: argparse.Namespace) -> int:
    from busyconf.model.profile import load_profile, profile_lock
    from busyconf.source.releases import check_version

    check_version(args.to)
    accept = _accept(args)
    source = Path(args.profile)
    output = None
    if args.output is not None and not args.dry_run:
        output = check_output_file(args.output)
        same = output.exists() and source.exists() and os.path.realpath(output) == os.path.realpath(source)
        if same:
            output = None
        elif output.exists() and not args.force:
            raise UserError(f"{output}: already exists; pass --force to replace it")
    if args.dry_run:
        report = _report_only(load_profile(source), args.to, accept)
        written = None
    else:
        with profile_lock(source):
            if output is None:
                report, written = _upgrade(source, None, args.to, accept)
            else:
                with profile_lock(output):
                    report, written = _upgrade(source, output, args.to, accept)
    if args.json:
        data = report.to_json()
        data["written"] = str(written) if written else None
        sys.stdout.write(json.dumps(data, indent=2) + "\n")
        return 0
    _print(report, written, args)
    return 0


def _report_only(prof: Any, to: str, accept: bool | frozenset[str]) -> Any:
    from busyconf.upgrade import drift_report

    return drift_report(prof, to, accept_new=accept)


def _upgrade(source: Path, output: Path | None, to: str, accept: bool | frozenset[str]) -> tuple[Any, Path]:
    """Read, upgrade and write with the locks held: no other save lands in between."""
    from busyconf.model.kconfig import load_tree
    from busyconf.model.profile import dumps, load_profile, relocate, save_profile
    from busyconf.savefile import newline_of, write_atomic
    from busyconf.upgrade import upgrade_profile

    prof = load_profile(source)
    new, report = upgrade_profile(prof, to, accept_new=accept)
    if output is None:
        return report, save_profile(new)
    relocate(new, load_tree(to), output)
    # A new file keeps the source's line ends (save_profile would take the target's).
    newline = newline_of(source)
    text = dumps(new)
    write_atomic(output, text.replace("\n", newline) if newline != "\n" else text)
    return report, output


def _value(v: str | None) -> str:
    if v is None:
        return "-"
    return {"y": "on", "n": "off"}.get(v, repr(v))


def _print(report: Any, written: Path | None, args: argparse.Namespace) -> None:
    name = esc(report.profile or args.profile)
    out.print(
        f"[bold]{name}[/]: BusyBox {esc(report.from_release)} -> {esc(report.to_release)} "
        f"({esc(report.arch)}), {len(report.symbols)} symbols change under make oldconfig"
    )
    new = report.of_kind("new")
    if new:
        t = Table(title=f"new in {esc(report.to_release)}", title_justify="left")
        for col in ("symbol", "applet", "oldconfig", "upgraded profile"):
            t.add_column(col)
        for s in new:
            kept = "pinned off" if s.pinned else _value(s.new)
            t.add_row(esc(s.name), esc(s.applet or ""), _value(s.new), kept)
        out.print(t)
    gone = report.of_kind("removed") + report.of_kind("renamed")
    if gone:
        t = Table(title="removed or renamed", title_justify="left")
        for col in ("symbol", "was", "now", "why"):
            t.add_column(col)
        for s in gone:
            t.add_row(esc(s.name), _value(s.old), esc(s.renamed_to or "-"), esc(s.reason))
        out.print(t)
    for kind, title in (
        ("default_changed", "defaults that changed"),
        ("value_lost", "values that no longer take"),
    ):
        rows = report.of_kind(kind)
        if rows:
            t = Table(title=title, title_justify="left")
            for col in ("symbol", "was", "now", "why"):
                t.add_column(col)
            for s in rows:
                t.add_row(esc(s.name), _value(s.old), _value(s.new), esc(s.reason))
            out.print(t)
    if report.defaults_kept:
        t = Table(title="defaults that changed, your value kept", title_justify="left")
        for col in ("symbol", "yours", "new default"):
            t.add_column(col)
        for s in report.defaults_kept:
            t.add_row(esc(s.name), _value(s.old), _value(s.new))
        out.print(t)
    added = " ".join(report.applets_added) or "none"
    removed = " ".join(report.applets_removed) or "none"
    out.print(f"applets added: {esc(added)}; removed: {esc(removed)}")
    if report.size_before is not None and report.size_after is not None:
        delta = report.size_after - report.size_before
        out.print(
            f"size: {report.size_before:,} -> {report.size_after:,} bytes ({delta:+,})\n"
            f"  before: {esc(report.size_basis_before)}\n  after:  {esc(report.size_basis_after)}"
        )
        if report.applet_sizes:
            t = Table(title="size change by applet (largest first)", title_justify="left")
            t.add_column("applet")
            t.add_column("bytes", justify="right")
            for applet, b in report.applet_sizes[:15]:
                t.add_row(esc(applet), f"{b:+,}")
            out.print(t)
            if len(report.applet_sizes) > 15:
                out.print(f"  ... {len(report.applet_sizes) - 15} more (--json lists all)")
    if written is not None:
        pinned = len(report.pinned)
        out.print(plain(f"wrote {written} (busybox = {report.to_release}, {pinned} new symbols pinned off)"))
    else:
        out.print("dry run: nothing written")
