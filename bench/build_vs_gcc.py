#!/usr/bin/env python3
"""busyconf (zig) vs BusyBox's plain make with Debian gcc + musl-gcc, x86_64 defconfig.

Prints, from one run on this machine: full build time of each and the ratio,
the incremental rebuild after toggling one applet as a fraction of a full
build, and the binary size ratio busyconf/gcc. ``--check`` also runs BusyBox's
test suite (``make check``) on both binaries and compares the failures.

The gcc build is what a user would type: ``make defconfig``-style .config in
an ``O=`` directory, ``yes "" | make oldconfig``, ``make CC=musl-gcc busybox``
(same .config as busyconf's, so CONFIG_STATIC=y and TC off). The machine may
be shared: ``--repeat`` full builds of each run interleaved, the fastest of
each counts, and the load average is printed after every step.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import defconfig, source_tree  # noqa: E402
from busyconf.build import build, config_lines, run_testsuite  # noqa: E402
from busyconf.build.testsuite import parse_testsuite  # noqa: E402
from busyconf.build.toolchain import kernel_headers_dir  # noqa: E402

TOGGLE = "SEQ"


def gcc_make(
    tree: Path, obj: Path, config: str, *targets: str
) -> tuple[float, subprocess.CompletedProcess[str]]:
    env = dict(os.environ, SOURCE_DATE_EPOCH="1700000000", KCONFIG_NOTIMESTAMP="1", LC_ALL="C")
    # Debian's musl-gcc does not search the kernel headers: add them as busyconf does.
    headers = kernel_headers_dir(obj.parent / "kernel-headers")
    base = ["make", "-C", str(tree), f"O={obj}", f"CC=musl-gcc -isystem {headers}"]
    start = time.monotonic()
    obj.mkdir(parents=True, exist_ok=True)
    (obj / ".config").write_text(config)
    subprocess.run(
        [*base, "oldconfig"], input="\n" * 5000, text=True, capture_output=True, check=True, env=env
    )
    proc = subprocess.run([*base, f"-j{os.cpu_count()}", *targets], text=True, capture_output=True, env=env)
    return time.monotonic() - start, proc


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--release", default="1.38.0")
    ap.add_argument("--check", action="store_true", help="also run make check on both binaries")
    ap.add_argument(
        "--repeat",
        type=int,
        default=2,
        help="full builds of each, interleaved (zig gcc, gcc zig, ...); the fastest counts",
    )
    args = ap.parse_args()
    if shutil.which("musl-gcc") is None:
        print("musl-gcc not found (Debian package musl-tools)")
        return 1
    tree = source_tree(args.release)
    text, applets = defconfig(tree)
    with tempfile.TemporaryDirectory(prefix="busyconf-vs-gcc-") as tmp:
        out = Path(tmp) / "out"
        loads: list[tuple[str, float]] = [("start", os.getloadavg()[0])]
        zig_times: list[float] = []
        gcc_times: list[float] = []
        built_config = ""
        zig_size = gcc_size = 0
        gcc_obj = Path(tmp) / "gcc-0"
        for i in range(max(1, args.repeat)):
            for which in ("zig", "gcc") if i % 2 == 0 else ("gcc", "zig"):
                if which == "zig":
                    # A fresh build root each time: a full build, zig's own cache stays warm.
                    os.environ["BUSYCONF_CACHE"] = str(Path(tmp) / f"cache-{i}")
                    r = build(text, applets, args.release, "x86_64", out_dir=out, source_tree=tree)
                    zig_times.append(r.seconds)
                    zig_size = r.manifest.binary_size
                    built_config = r.config.read_text()
                else:
                    # The .config busyconf built (CONFIG_STATIC=y, TC off): round 1 runs zig first.
                    gcc_obj = Path(tmp) / f"gcc-{i}"
                    secs, proc = gcc_make(tree, gcc_obj, built_config, "busybox")
                    if proc.returncode != 0:
                        print("gcc build failed:\n" + proc.stdout[-2000:] + proc.stderr[-2000:])
                        return 1
                    gcc_times.append(secs)
                    gcc_size = (gcc_obj / "busybox").stat().st_size
                loads.append((f"after {which} full #{i + 1}", os.getloadavg()[0]))

        toggled = config_lines.set_values(text, {TOGGLE: "n"})
        inc = build(
            toggled,
            [a for a in applets if a != TOGGLE.lower()],
            args.release,
            "x86_64",
            out_dir=out,
            source_tree=tree,
        )
        zig_inc = inc.seconds
        loads.append(("after zig toggle", os.getloadavg()[0]))
        gcc_inc, _ = gcc_make(tree, gcc_obj, config_lines.set_values(built_config, {TOGGLE: "n"}), "busybox")
        loads.append(("after gcc toggle", os.getloadavg()[0]))
        zig_full, gcc_full = min(zig_times), min(gcc_times)

        print(f"BusyBox {args.release} defconfig (TC off, static), x86_64, {os.cpu_count()} cores")
        print("load average (1 min): " + ", ".join(f"{k} {v:.1f}" for k, v in loads))
        print(
            "full builds (s): busyconf "
            + " ".join(f"{t:.1f}" for t in zig_times)
            + "; gcc "
            + " ".join(f"{t:.1f}" for t in gcc_times)
            + " (the fastest of each counts)"
        )
        print(f"| {'':<34} | {'busyconf (zig)':>14} | {'gcc + musl-gcc':>14} | ratio")
        print(f"|{'-' * 36}|{'-' * 16}|{'-' * 16}|------")
        print(f"| {'full build (s)':<34} | {zig_full:>14.1f} | {gcc_full:>14.1f} | {zig_full / gcc_full:.2f}")
        print(f"| {'rebuild after toggling ' + TOGGLE + ' (s)':<34} | {zig_inc:>14.1f} | {gcc_inc:>14.1f} |")
        label = "  as a fraction of a full build"
        print(f"| {label:<34} | {zig_inc / zig_full:>14.2f} | {gcc_inc / gcc_full:>14.2f} |")
        print(
            f"| {'binary size (bytes)':<34} | {zig_size:>14,} | {gcc_size:>14,} | {zig_size / gcc_size:.3f}"
        )
        print("(busyconf times include oldconfig, --list and smoke checks; gcc's include oldconfig)")

        if args.check:
            zig = run_testsuite(text, args.release, source_tree=tree)
            gcc_make(tree, gcc_obj, built_config, "busybox")
            (gcc_obj / "scripts").mkdir(exist_ok=True)
            echo = gcc_obj / "scripts" / "echo.c"
            if not echo.exists():
                echo.symlink_to(tree / "scripts" / "echo.c")
            _, proc = gcc_make(tree, gcc_obj, built_config, "check")
            g = parse_testsuite(proc.stdout.splitlines())
            print()
            print(
                f"make check: busyconf pass {zig.passed} fail {zig.failed} skip {zig.skipped}; "
                f"gcc pass {g[0]} fail {g[1]} skip {g[2]}"
            )
            only_zig = sorted(set(zig.failures) - set(g[3]))
            print(f"failing only with busyconf: {only_zig or 'none'}")
            print(f"failing with both: {sorted(set(zig.failures) & set(g[3]))}")
            print(f"failing only with gcc: {sorted(set(g[3]) - set(zig.failures)) or 'none'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
