"""busyconf's binary for docker-library's busybox:musl configuration, per CPU, and size flags.

    python3 bench/docker_library.py                        # every CPU docker-library publishes
    python3 bench/docker_library.py --arch x86_64,armv7 --flags

Builds docker-library's musl configuration (their builder: defconfig + AR,
FEATURE_AR_CREATE, FEATURE_AR_LONG_FILENAMES, INOTIFYD, LAST_SUPPORTED_WCHAR=0,
STATIC; off: FEATURE_SYNC_FANCY, FEATURE_HAVE_RPC, FEATURE_INETD_RPC,
FEATURE_UTMP, FEATURE_WTMP; TC, which they keep by a patch, is off here; FEATURE_HAVE_RPC
is gone from 1.38.0, where their sed of it changes nothing) with
``busyconf build`` (``-j2``, verified under qemu as every build is) and prints
its stripped size next to docker-library's own binary (docs/design.md; Alpine's
gcc, static-PIE). ``--flags`` also builds the same configuration with each size
flag changed and prints each as a ratio to busyconf's default build of the same
run: ``-Os`` instead of BusyBox's ``-Oz`` (zig cc hands clang ``-Os`` for
both, so the two must be equal), no per-function sections (what
``--gc-sections`` can then drop: trylink puts its own ``--gc-sections`` after
EXTRA_LDFLAGS, so the link flag cannot be turned off, but the sections it
works on can), and static-PIE (``-fPIE`` and ``-static-pie``: BusyBox's own
PIE option depends on !STATIC).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._common import busyconf_build  # noqa: E402
from bench.single_applets import DOCKER_MUSL_BINARY  # noqa: E402

PROFILE = """\
[profile]
description = "docker-library busybox:musl's configuration (TC off)"
busybox = "1.38.0"
arch = "x86_64"
base = "defconfig"

[config]
AR = true
FEATURE_AR_CREATE = true
FEATURE_AR_LONG_FILENAMES = true
INOTIFYD = true
LAST_SUPPORTED_WCHAR = 0
STATIC = true
TC = false
FEATURE_SYNC_FANCY = false
FEATURE_INETD_RPC = false
FEATURE_UTMP = false
FEATURE_WTMP = false
"""

#: Size-flag variants: extra ``[config]`` lines on top of :data:`PROFILE`.
FLAGS = {
    "-Os": 'EXTRA_CFLAGS = "-Os"',
    "no function sections": 'EXTRA_CFLAGS = "-fno-function-sections -fno-data-sections"',
    # BusyBox's PIE depends on !STATIC: static-PIE is the compiler's and linker's flags.
    "static-PIE": 'EXTRA_CFLAGS = "-fPIE"\nEXTRA_LDFLAGS = "-static-pie"',
}


def build(profile: Path, arch: str, out: Path) -> dict[str, object]:
    """``busyconf build PROFILE --arch ARCH -j2 --json``: its manifest, or the error's last line."""
    return busyconf_build([str(profile)], arch, out)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument(
        "--arch", help="comma-separated CPUs (default: every CPU docker-library publishes musl for)"
    )
    p.add_argument("--flags", action="store_true", help="also build each size-flag variant")
    p.add_argument("--json", type=Path, help="also write every manifest here")
    args = p.parse_args()
    arches = args.arch.split(",") if args.arch else list(DOCKER_MUSL_BINARY)
    variants = {"busyconf": "", **(FLAGS if args.flags else {})}
    results: dict[str, dict[str, dict[str, object]]] = {}
    with tempfile.TemporaryDirectory(prefix="busyconf-docker-") as tmp:
        for name, extra in variants.items():
            profile = Path(tmp) / f"{len(results)}-{name.strip('-').replace(' ', '-')}.toml"
            profile.write_text(PROFILE + (extra + "\n" if extra else ""))
            for arch in arches:
                m = build(profile, arch, Path(tmp) / f"{profile.stem}-{arch}")
                results.setdefault(arch, {})[name] = m
                print(f"# {arch} {name}: {m.get('binary_size', m.get('error'))}", file=sys.stderr, flush=True)
    if args.json:
        args.json.write_text(
            json.dumps({"results": results, "docker_musl_binary": DOCKER_MUSL_BINARY}, indent=2)
        )
    head = "| CPU | busyconf B | docker-library B | busyconf / docker-library |"
    if args.flags:
        head += "".join(f" {f} |" for f in FLAGS)
    print(head)
    print("|" + "---|" * (head.count("|") - 1))
    for arch in arches:
        row = results[arch]
        ours = row["busyconf"].get("binary_size")
        docker = DOCKER_MUSL_BINARY.get(arch)
        if not isinstance(ours, int):
            print(f"| {arch} | failed: {row['busyconf'].get('error')} | {docker or '-'} | - |")
            continue
        ratio = f"{ours / docker:.3f}" if docker else "-"
        line = f"| {arch} | {ours:,} | {f'{docker:,}' if docker else '-'} | {ratio} |"
        for f in FLAGS if args.flags else ():
            size = row[f].get("binary_size")
            line += f" {size / ours:.3f} |" if isinstance(size, int) else f" failed: {row[f].get('error')} |"
        print(line)
    if args.flags:
        print("\nflag columns: the variant's size / busyconf's default build of the same run")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
