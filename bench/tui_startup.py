"""Time to the first interactive screen: busyconf's TUI against kconfiglib's menuconfig.

Both run as fresh processes under a pseudo-terminal of the same size on the same
BusyBox Kconfig tree (from the source cache); the clock stops when the first
screen listing the applet menus ("Archival Utilities") has been written. The
medians and their ratio are printed. Rerunnable: ``python bench/tui_startup.py [-n 7]``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import pexpect

ROWS, COLS = 40, 140
MARKER = "Archival Utilities"
PROFILE = """\
[profile]
description = "startup benchmark"
busybox = "{release}"
arch = "x86_64"
base = "defconfig"

[config]
FEATURE_LS_COLOR = false
"""


def time_to_screen(argv: list[str], env: dict[str, str], cwd: Path) -> tuple[float, float]:
    """Wall seconds from spawning ``argv`` until ``MARKER`` is on the terminal,
    and the CPU seconds the process used by then (steadier on a busy machine)."""
    start = time.perf_counter()
    child = pexpect.spawn(argv[0], argv[1:], env=env, cwd=str(cwd), dimensions=(ROWS, COLS), encoding="utf-8")
    try:
        child.expect_exact(MARKER, timeout=30)
        wall = time.perf_counter() - start
        cpu = _cpu_seconds(child.pid)
        return wall, cpu
    finally:
        child.terminate(force=True)


def _cpu_seconds(pid: int) -> float:
    """user + system time of a running process, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=5, help="runs of each (default 5)")
    parser.add_argument("--release", default="1.38.0")
    args = parser.parse_args()

    from busyconf.source import SourceCache

    cache = SourceCache()
    kconfig_dir = cache.kconfig_dir(args.release)
    menuconfig = shutil.which("menuconfig")
    import menuconfig as menuconfig_module

    menuconfig_py = menuconfig or menuconfig_module.__file__
    work = Path(tempfile.mkdtemp(prefix="busyconf-bench-"))
    try:
        profile = work / "bench.toml"
        profile.write_text(PROFILE.format(release=args.release))
        env = dict(os.environ, TERM="xterm-256color", COLUMNS=str(COLS), LINES=str(ROWS))
        env.pop("TEXTUAL", None)
        repo = Path(__file__).resolve().parent.parent
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(repo), env.get("PYTHONPATH", "")]))
        ours_argv = [sys.executable, "-m", "busyconf", str(profile)]
        kconf_env = dict(env, srctree=str(kconfig_dir), KCONFIG_CONFIG=str(work / "dot-config"))
        theirs_argv = [sys.executable, str(menuconfig_py), str(kconfig_dir / "Config.in")]
        time_to_screen(ours_argv, env, work)
        time_to_screen(theirs_argv, kconf_env, work)
        ours_runs = [time_to_screen(ours_argv, env, work) for _ in range(args.n)]
        theirs_runs = [time_to_screen(theirs_argv, kconf_env, work) for _ in range(args.n)]
    finally:
        shutil.rmtree(work, ignore_errors=True)

    ours = [w for w, _ in ours_runs]
    theirs = [w for w, _ in theirs_runs]
    o, t = statistics.median(ours), statistics.median(theirs)
    oc = statistics.median(c for _, c in ours_runs)
    tc = statistics.median(c for _, c in theirs_runs)
    load = os.getloadavg()[0]
    where = f"{os.cpu_count()} CPUs (load {load:.1f}), {args.n} runs each, {COLS}x{ROWS} pty"
    print(f"BusyBox {args.release}, {where}")
    for label, med, low, cpu in (
        ("busyconf TUI", o, min(ours), oc),
        ("kconfiglib menuconfig", t, min(theirs), tc),
    ):
        print(f"{label:<22} wall median {med * 1000:5.0f} ms (min {low * 1000:.0f}), CPU {cpu * 1000:.0f} ms")
    print(f"ratio busyconf/menuconfig: wall {o / t:.2f}, CPU {oc / tc:.2f}")
    print("target: busyconf interactive within 1 s:", "met" if o < 1.0 else "NOT met")
    return 0 if o < 1.0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
