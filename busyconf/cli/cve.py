"""``busyconf cve``: which known BusyBox CVEs apply to a profile or a build, and VEX documents.

::

    busyconf cve PROFILE|MANIFEST [--json] [--vex FILE]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from rich.table import Table

from busyconf.cli.console import esc, out
from busyconf.cli.options import check_output_file
from busyconf.errors import UserError

_STYLE = {"affected": "bold red", "not_affected": "green", "fixed": "cyan"}


def register(sub: Any) -> None:
    """Add ``cve`` to the CLI."""
    p = sub.add_parser(
        "cve",
        help="known BusyBox CVEs: affected, not compiled in (which symbol is off), or fixed",
        description="busyconf cve PROFILE|MANIFEST [--json] [--vex FILE]\n\n"
        "For each CVE in busyconf's data (busyconf/source/cves.toml, mapped from Debian's "
        "per-CVE patches to Kconfig symbols): affected, not_affected (its code is not compiled "
        "in: which symbols are off) or fixed (in this release, or by a patch the build applied). "
        "MANIFEST is a build's manifest.json (or its folder), read with the busybox.config beside "
        "it. --vex writes an OpenVEX 0.2.0 document ('-' for stdout). Exit 0 whatever applies.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("target", metavar="PROFILE|MANIFEST", help="a profile, a manifest.json or a build folder")
    p.add_argument("--json", action="store_true", help="one JSON document on stdout")
    p.add_argument("--vex", metavar="FILE", help="write OpenVEX 0.2.0 JSON to FILE")
    p.set_defaults(func=cmd_cve)


def cmd_cve(args: argparse.Namespace) -> int:
    from busyconf import __version__
    from busyconf.savefile import write_output
    from busyconf.source.advisories import applicability
    from busyconf.supply.cve import load_subject, openvex

    if args.vex == "-" and args.json:
        raise UserError("--vex - and --json both write to stdout; give --vex a file name")
    if args.vex is not None and args.vex != "-":
        check_output_file(args.vex)
    subject = load_subject(Path(args.target))
    findings = applicability(subject.config, patches=subject.patches)
    if args.vex is not None:
        doc = openvex(subject, findings, tooling=f"busyconf {__version__}")
        write_output(args.vex, json.dumps(doc, indent=2) + "\n")
    if args.json:
        counts = {s: sum(f.status == s for f in findings) for s in ("affected", "not_affected", "fixed")}
        sys.stdout.write(
            json.dumps(
                {
                    "target": str(args.target),
                    "release": subject.config.release,
                    "counts": counts,
                    "cves": [f.to_json() for f in findings],
                },
                indent=2,
            )
            + "\n"
        )
        return 0
    if args.vex == "-":
        return 0
    table = Table(title=f"BusyBox {esc(subject.config.release)}: {esc(args.target)}", title_justify="left")
    table.add_column("CVE", no_wrap=True)
    table.add_column("status", no_wrap=True)
    table.add_column("reason")
    for f in findings:
        table.add_row(f.cve.id, f"[{_STYLE[f.status]}]{f.status}[/]", esc(f.reason))
    out.print(table)
    n = sum(f.status == "affected" for f in findings)
    out.print(f"{n} affected, {len(findings) - n} not affected or fixed, of {len(findings)} known CVEs")
    return 0
