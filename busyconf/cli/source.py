"""``busyconf source``: BusyBox releases in the cache (list, fetch, add)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from rich.markup import escape
from rich.table import Table

from busyconf.cli.console import err, out, plain, print_json


def register(sub: Any) -> None:
    src = sub.add_parser("source", help="BusyBox releases: list, fetch, add")
    ssub = src.add_subparsers(dest="source_command", metavar="ACTION", required=True)
    s = ssub.add_parser("list", help="releases known, cached and verified")
    s.add_argument("--json", action="store_true", help="print JSON")
    s.set_defaults(func=cmd_source_list)
    s = ssub.add_parser(
        "fetch",
        help="download and sha256-verify a release into the cache",
        description="Download a known release and check its sha256. Extra mirrors: "
        "BUSYCONF_MIRRORS='URL...' (tried before upstream). Cache: BUSYCONF_CACHE.",
    )
    s.add_argument("version", help="e.g. 1.38.0")
    s.set_defaults(func=cmd_source_fetch)
    s = ssub.add_parser(
        "add",
        help="import a local release tarball (or, with --trust, any BusyBox tree)",
        description="Import a release tarball: a known release is accepted only when its sha256 "
        "matches. Any other tarball, and any unpacked source folder, can only be added with --trust: "
        "setting it up and building it runs its own scripts, Makefiles and Kconfig preprocessor. "
        "A known release's folder is refused (add its tarball or use `source fetch`). The input is "
        "copied into the cache and never modified.",
    )
    s.add_argument("path", help="busybox-X.Y.Z.tar.bz2 or a source folder")
    s.add_argument(
        "--trust",
        action="store_true",
        help="add a tree busyconf cannot verify: its code (scripts, Makefiles, Kconfig $(shell,...)) "
        "will run on this machine",
    )
    s.set_defaults(func=cmd_source_add)


def cmd_source_list(args: argparse.Namespace) -> int:
    from busyconf.source import DEFAULT_RELEASE, RELEASES, SourceCache

    cache = SourceCache()
    cached = {r.version: r for r in cache.list()}
    if args.json:
        rows = []
        for v in sorted(set(RELEASES) | set(cached), key=_vkey):
            c = cached.get(v)
            rows.append(
                {
                    "version": v,
                    "known_sha256": RELEASES[v].sha256 if v in RELEASES else None,
                    "default": v == DEFAULT_RELEASE,
                    "cached": c is not None,
                    "verified": bool(c and c.verified),
                    "trusted": bool(c and c.trusted),
                    "path": str(c.path) if c else None,
                }
            )
        print_json({"cache": str(cache.root), "releases": rows})
        return 0
    table = Table(title=f"BusyBox releases (cache: {escape(str(cache.root))})")
    table.add_column("version")
    table.add_column("cached")
    table.add_column("verified")
    table.add_column("sha256")
    for v in sorted(set(RELEASES) | set(cached), key=_vkey):
        c = cached.get(v)
        sha = RELEASES[v].sha256 if v in RELEASES else (c.sha256 if c else None)
        label = v + (" (default)" if v == DEFAULT_RELEASE else "")
        table.add_row(
            label,
            "yes" if c else "no",
            _verified_cell(c),
            (sha or "-")[:16] + ("…" if sha else ""),
        )
    out.print(table)
    return 0


def _verified_cell(c: Any) -> str:
    if c is None:
        return "-"
    if c.verified:
        return "yes"
    return "[yellow]no, trusted[/]" if c.trusted else "[yellow]no[/]"


def _vkey(v: str) -> tuple[int, ...]:
    from busyconf.source.releases import version_key

    return version_key(v)


def cmd_source_fetch(args: argparse.Namespace) -> int:
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn

    from busyconf.source import SourceCache

    cache = SourceCache()
    with Progress(
        TextColumn("{task.description}", style="progress.description", markup=False),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        console=err,
        transient=True,
        # Off a terminal a live display only leaves an empty line before the error or the result.
        disable=not err.is_terminal,
    ) as bar:
        task = bar.add_task(plain(f"BusyBox {args.version}"), total=None)

        def progress(done: int, total: int | None) -> None:
            bar.update(task, completed=done, total=total)

        rel = cache.fetch(args.version, progress)
    out.print(f"BusyBox {rel.version}: verified sha256 {rel.sha256}\n  {escape(str(rel.path))}")
    return 0


def cmd_source_add(args: argparse.Namespace) -> int:
    from busyconf.source import SourceCache

    rel = SourceCache().add(Path(args.path), trust=args.trust)
    state = (
        f"verified sha256 {rel.sha256}"
        if rel.verified
        else "[yellow]unverified, trusted[/] (not a known release; its code runs when it is built)"
    )
    out.print(f"BusyBox {rel.version}: {state}\n  {escape(str(rel.path))}")
    return 0
