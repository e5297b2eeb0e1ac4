"""``busyconf rebuild MANIFEST``: build again from a manifest in a clean tree, compare bit for bit."""

from __future__ import annotations

import argparse
import threading
from pathlib import Path
from typing import Any

from busyconf.cli.console import BuildBar, err, print_rebuild
from busyconf.cli.options import add_jobs, check_output_dir
from busyconf.errors import UserError


def register(sub: Any) -> None:
    s = sub.add_parser(
        "rebuild",
        help="rebuild what a manifest records in a clean tree and compare the binary bit for bit",
        description="Read MANIFEST (manifest.json of a build) and the busybox.config beside it, check "
        "that this machine has the same BusyBox tarball, toolchain version and compiler flags, build "
        "again in a fresh build tree with the recorded SOURCE_DATE_EPOCH, and compare the result with "
        "the busybox beside the manifest and its binary_sha256. Exit 0 when they are the same bytes, "
        "1 when they differ (naming the first differing byte and its ELF section) or this machine "
        "would build differently, 2 for a bad manifest.",
    )
    s.add_argument("manifest", help="manifest.json of a busyconf build")
    s.add_argument(
        "--cache", metavar="DIR", help="folder for the fresh build tree (default: the temporary folder)"
    )
    s.add_argument("-o", "--output", help="keep the rebuilt busybox, busybox.config and manifest.json here")
    s.add_argument("--json", action="store_true", help="print the comparison as JSON on stdout")
    add_jobs(s)
    s.set_defaults(func=cmd_rebuild)


def cmd_rebuild(args: argparse.Namespace) -> int:
    from busyconf.supply.reproduce import load_manifest, rebuild

    manifest = Path(args.manifest)
    out_dir = check_output_dir(args.output) if args.output is not None else None
    cache_dir = _cache_dir(args.cache) if args.cache is not None else None
    load_manifest(manifest)  # bad input is refused before the progress bar starts
    bar = BuildBar(err, "rebuild")
    cancel = threading.Event()
    with bar.progress:
        try:
            result = rebuild(
                manifest, cache_dir=cache_dir, out_dir=out_dir, progress=bar, cancel=cancel, jobs=args.jobs
            )
        except KeyboardInterrupt:
            cancel.set()
            raise
    print_rebuild(result, args.json)
    return 0 if result.reproduced else 1


def _cache_dir(name: str) -> Path:
    """``--cache DIR`` checked before any work: named, and a folder if it exists."""
    path = Path(name)
    if not name.strip() or (path.exists() and not path.is_dir()):
        raise UserError(f"--cache {name!r}: not a folder; --cache names the folder for the build tree")
    return path
