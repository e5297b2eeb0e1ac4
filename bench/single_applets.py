"""Single-applet binaries (``busyconf build --applet``) per CPU, next to docker-library's busybox.

Builds nslookup, wget, sh (ash) and vi one at a time through the real CLI
(``-j2``, one build at a time) for each CPU, and prints each binary's size and
its ``gzip -9`` size (what a layer holding only it would roughly weigh).
docker-library's figures are the ones measured in docs/design.md (their musl
BusyBox 1.38.0 multi-call binary per arch, and the amd64 layers); none are
made up here: a CPU they do not publish shows "-".

    python3 bench/single_applets.py                      # every supported CPU
    python3 bench/single_applets.py --arch x86_64,aarch64
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._common import busyconf_build  # noqa: E402
from busyconf.build.arch import known_arches  # noqa: E402

APPLETS = ("nslookup", "wget", "sh", "vi")

#: docker-library busybox 1.38.0 musl, the multi-call binary (``bin/[`` of each rootfs.tar.gz),
#: by busyconf CPU name (docs/design.md, docker-library's BusyBox).
DOCKER_MUSL_BINARY = {
    "x86_64": 1_239_304,
    "armv6": 1_472_068,
    "armv7": 1_013_304,
    "aarch64": 1_378_528,
    "i386": 1_214_028,
    "powerpc64le": 1_640_672,
    "riscv64": 1_214_744,
    "s390x": 1_484_936,
}
#: Compressed layers of docker-library busybox 1.38.0 on amd64 (docs/design.md, its image-manifest.json).
DOCKER_AMD64_LAYERS = {"busybox:musl": 886_160, "busybox:uclibc": 773_906, "busybox:glibc": 2_226_327}


def build_one(applet: str, arch: str, out: Path) -> dict[str, object]:
    """``busyconf build --applet APPLET --arch ARCH -j2 --json``: its manifest, with the gzipped size."""
    manifest = busyconf_build(["--applet", applet], arch, out)
    if "error" not in manifest:
        data = (out / "busybox").read_bytes()
        manifest["gzip"] = len(gzip.compress(data, compresslevel=9, mtime=0))
    return manifest


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--arch", help="comma-separated CPUs (default: every supported one)")
    p.add_argument("--applet", action="append", help=f"applets (default: {' '.join(APPLETS)})")
    p.add_argument("--json", action="store_true", help="print the results as JSON")
    args = p.parse_args()
    arches = args.arch.split(",") if args.arch else known_arches(supported_only=True)
    applets = tuple(args.applet) if args.applet else APPLETS
    results: dict[str, dict[str, dict[str, object]]] = {}
    with tempfile.TemporaryDirectory(prefix="busyconf-single-") as tmp:
        for arch in arches:
            for applet in applets:
                m = build_one(applet, arch, Path(tmp) / f"{applet}-{arch}")
                results.setdefault(arch, {})[applet] = m
                print(f"# {arch} {applet}: {m.get('binary_size', m.get('error'))}", file=sys.stderr)
    if args.json:
        print(json.dumps({"results": results, "docker_musl_binary": DOCKER_MUSL_BINARY}, indent=2))
        return 0
    head = "| CPU | " + " | ".join(f"{a} B (gzip -9)" for a in applets) + " | docker-library musl binary B |"
    print(head)
    print("|" + "---|" * (len(applets) + 2))
    for arch in arches:
        cells = []
        for applet in applets:
            m = results[arch][applet]
            cells.append(
                f"{m['binary_size']:,} ({m['gzip']:,})" if "binary_size" in m else f"failed: {m['error']}"
            )
        docker = DOCKER_MUSL_BINARY.get(arch)
        print(f"| {arch} | " + " | ".join(cells) + f" | {f'{docker:,}' if docker else '-'} |")
    layers = ", ".join(f"{k} {v:,} B" for k, v in DOCKER_AMD64_LAYERS.items())
    print(f"\ndocker-library busybox 1.38.0 compressed layers on amd64: {layers}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
