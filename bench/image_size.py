#!/usr/bin/env python3
"""Compressed size of the container-shell image, next to busybox:musl and alpine.

Usage: python bench/image_size.py [--profile configs/container-shell.toml] [--arch A ...]

Builds the profile (incremental in the user's build cache), writes the OCI
image to a temporary directory and prints, per CPU: the busybox binary, the
uncompressed layer, the gzip layer and the whole image as a registry would
transfer it (config + manifest + layer). The reference figures below are not
measured here (no network): they are the sizes the stored pages and Docker
Hub's tag lists give, approximate, and say so in the output.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from busyconf import cli  # noqa: E402

#: (image, size in bytes, where the figure comes from)
REFERENCES: tuple[tuple[str, int, str], ...] = (
    ("busybox:musl", 1_320_000, "uncompressed, elegantinfrastructure.com 'Container of the Week: busybox'"),
    ("busybox:musl", 900_000, "compressed, Docker Hub tag list for linux/amd64, from memory (approx.)"),
    ("alpine", 5_000_000, "uncompressed, Alpine's own 'only 5MB in size' (docker-alpine README)"),
    ("alpine", 3_600_000, "compressed, Docker Hub tag list for linux/amd64, from memory (approx.)"),
)


def _image(profile: str, arches: list[str], out: Path) -> dict[str, object]:
    argv = ["image", profile, "--arch", ",".join(arches), "-o", str(out), "--json"]
    real_stdout = sys.stdout
    with tempfile.TemporaryFile("w+") as buf:
        sys.stdout = buf
        try:
            code = cli.main(argv)
        finally:
            sys.stdout = real_stdout
        buf.seek(0)
        text = buf.read()
    if code != 0:
        raise SystemExit(code)
    data: dict[str, object] = json.loads(text)
    return data


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--profile", default="configs/container-shell.toml")
    ap.add_argument("--arch", action="append", help="CPUs (repeatable; default x86_64)")
    args = ap.parse_args()
    arches = args.arch or ["x86_64"]
    with tempfile.TemporaryDirectory(prefix="busyconf-image-bench-") as tmp:
        doc = _image(args.profile, arches, Path(tmp) / "layout")
    print(f"{args.profile}  (image digest {doc['digest']})")
    print(f"{'platform':<16}{'busybox':>10}{'layer tar':>11}{'gzip image':>12}  applets")
    for row in doc["platforms"]:  # type: ignore[attr-defined]
        print(
            f"{row['platform']:<16}{row['binary_size']:>10,}{row['layer_size']:>11,}"
            f"{row['compressed_size']:>12,}  {row['applets']}"
        )
    print("\nfor comparison (not measured here):")
    for name, size, source in REFERENCES:
        print(f"  {name:<14}{size / 1e6:>6.2f} MB  {source}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
