#!/usr/bin/env python3
"""Build BusyBox defconfig for every CPU with zig, run each under qemu, print a table.

Usage: python bench/build_all.py [--release 1.38.0] [--arch A ...] [--fresh]
``--fresh`` builds in a temporary cache (full builds); otherwise the user's
build cache is used (incremental when warm).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import defconfig, source_tree  # noqa: E402
from busyconf.build import all_arches, build  # noqa: E402
from busyconf.errors import BusyconfError  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--release", default="1.38.0")
    ap.add_argument("--arch", action="append", help="only these CPUs (repeatable)")
    ap.add_argument("--fresh", action="store_true", help="build in a temporary cache")
    args = ap.parse_args()
    tree = source_tree(args.release)
    text, applets = defconfig(tree)
    arches = args.arch or list(all_arches())
    rows: list[tuple[str, str, str, str]] = []
    load_start = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="busyconf-bench-") as tmp:
        if args.fresh:
            os.environ["BUSYCONF_CACHE"] = str(Path(tmp) / "cache")
        for name in arches:
            arch = all_arches()[name]
            if not arch.supported:
                rows.append((name, "-", "-", f"unsupported: {arch.reason}"))
                print(f"{name}: unsupported", flush=True)
                continue
            start = time.monotonic()
            try:
                r = build(
                    text, applets, args.release, name, out_dir=Path(tmp) / "out" / name, source_tree=tree
                )
                result = f"ok ({r.manifest.verified_with}: --list + {len(r.verification.checks)} checks)"
                size = f"{r.manifest.binary_size:,}"
            except BusyconfError as exc:
                result, size = f"FAIL: {exc}"[:100], "-"
            secs = f"{time.monotonic() - start:.1f}"
            rows.append((name, size, secs, result))
            print(f"{name}: {size} bytes, {secs} s, {result}", flush=True)
    print()
    print(f"BusyBox {args.release} defconfig (TC off), zig, static musl, {os.cpu_count()} cores")
    print(f"load average (1 min): {load_start:.1f} at the start, {os.getloadavg()[0]:.1f} at the end")
    print(f"| {'CPU':<12} | {'size (bytes)':>12} | {'time (s)':>8} | result")
    print(f"|{'-' * 14}|{'-' * 14}|{'-' * 10}|{'-' * 40}")
    for name, size, secs, result in rows:
        print(f"| {name:<12} | {size:>12} | {secs:>8} | {result}")
    ok = sum(1 for r in rows if r[3].startswith("ok"))
    print(f"\n{ok} of {len(rows)} CPUs built and verified")
    return 0 if all(r[3].startswith(("ok", "unsupported")) for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
