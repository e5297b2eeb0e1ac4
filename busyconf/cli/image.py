"""``busyconf image``: the profile built for each CPU, as an OCI image (or docker-archive) FROM scratch."""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

from busyconf.cli.console import BuildBar, err, esc, fragment_notes, out, plain
from busyconf.cli.options import (
    DEFAULT_ARCH,
    DEFAULT_TOOLCHAIN,
    add_jobs,
    check_output_dir,
    check_output_file,
)
from busyconf.errors import UserError


def register(sub: Any) -> None:
    s = sub.add_parser(
        "image",
        help="build the profile and write an OCI image (or docker-archive) FROM scratch",
        description="Build the profile for each --arch (comma-separated), make a rootfs "
        "(/bin/busybox, the applet links at BusyBox's own install paths, /etc/passwd, "
        "/etc/group, /etc/shadow with every account locked, /etc/localtime UTC, the build's SBOMs "
        f"in {SBOM_DIR}, /root, /tmp) and write an OCI image layout in -o DIR with the standard "
        "org.opencontainers.image.* annotations; several arches give one multi-platform index. "
        "The same inputs give the same digests. --check runs docker-library's image tests on it.",
    )
    s.add_argument("profile", help="profile (.toml) or .config")
    s.add_argument("--arch", help="target CPU(s), comma-separated (default: the profile's arch)")
    s.add_argument(
        "-o",
        "--output",
        required=True,
        help="OCI layout directory (docker-archive: a .tar file for one arch, else a directory)",
    )
    s.add_argument("--format", choices=("oci", "docker-archive"), default="oci", help="output format")
    s.add_argument("--tag", default="latest", help="image tag (default latest)")
    s.add_argument("--rootfs-tar", help="also write the rootfs tarball here (several arches: FILE-ARCH.tar)")
    s.add_argument("--toolchain", help=f"{DEFAULT_TOOLCHAIN} (default), musl-gcc, or a cross prefix")
    s.add_argument("--drop-broken", action="store_true", help="set known-broken options to values that build")
    s.add_argument("--release", help="release of a .config without a version header")
    add_jobs(s)
    s.add_argument(
        "--check",
        action="store_true",
        help="then run docker-library's image tests (utc, no-hard-coded-passwords, override-cmd, "
        "busybox) on each platform, unpacked with umoci; exit 1 if one fails",
    )
    s.add_argument("--json", action="store_true", help="print digests and sizes as JSON on stdout")
    s.set_defaults(func=cmd_image)


#: Where the build's SBOMs go in the image: a package's doc folder; syft's SBOM cataloger
#: finds ``*.spdx.json`` and ``*.cdx.json`` anywhere in a layer.
SBOM_DIR = "usr/share/doc/busybox"
SBOM_NAMES = ("sbom.spdx.json", "sbom.cdx.json")


def _arches(args: argparse.Namespace) -> list[str]:
    from busyconf.build import get_arch
    from busyconf.image import platform_for

    if args.arch is not None:
        names = [a.strip() for a in args.arch.split(",") if a.strip()]
    else:
        from busyconf.model.profile import load_profile

        names = [load_profile(Path(args.profile)).arch] if args.profile.endswith(".toml") else [DEFAULT_ARCH]
    if not names:
        raise UserError("--arch: no architecture given")
    for name in names:
        get_arch(name)
        platform_for(name)
    if len(set(names)) != len(names):
        raise UserError(f"--arch {args.arch}: an arch is named twice")
    return names


def _repo_name(profile: str) -> str:
    stem = re.sub(r"[^a-z0-9._-]+", "-", Path(profile).stem.lower()).strip("-._") or "image"
    return f"busyconf/{stem}"


def _archive_paths(output: Path, arches: list[str], stem: str) -> dict[str, Path]:
    if len(arches) == 1 and output.suffix == ".tar":
        return {arches[0]: output}
    if output.exists() and not output.is_dir():
        raise UserError(f"{output}: not a directory (several arches give one archive each)")
    return {a: output / f"{stem}-{a}.tar" for a in arches}


def _rootfs_paths(target: str | None, arches: list[str]) -> dict[str, Path]:
    if not target:
        return {}
    path = Path(target)
    if len(arches) == 1:
        return {arches[0]: path}
    return {a: path.with_name(f"{path.stem}-{a}{path.suffix or '.tar'}") for a in arches}


def _description(profile: str) -> str:
    if not profile.endswith(".toml"):
        return ""
    from busyconf.model.profile import load_profile

    return load_profile(Path(profile)).description


def _sbom_files(out_dir: Path) -> dict[str, bytes]:
    """The SBOMs ``build`` wrote beside the manifest, as rootfs paths."""
    return {
        f"{SBOM_DIR}/{name}": (out_dir / name).read_bytes()
        for name in SBOM_NAMES
        if (out_dir / name).is_file()
    }


def cmd_image(args: argparse.Namespace) -> int:
    from busyconf.build import build
    from busyconf.image import (
        ImageInput,
        docker_archive_bytes,
        make_rootfs,
        oci_image,
        tar_bytes,
        write_layout,
    )
    from busyconf.image.oci import build_meta, check_tag, is_replaceable
    from busyconf.model.prepare import prepare_build
    from busyconf.savefile import write_atomic
    from busyconf.source import SourceCache

    arches = _arches(args)
    check_tag(args.tag)
    if args.check and args.format != "oci":
        raise UserError("--check runs on an OCI layout; drop --format docker-archive")
    # Every output is checked before the first compile, not after it.
    one_tar = args.format == "docker-archive" and len(arches) == 1 and args.output.endswith(".tar")
    output = check_output_file(args.output) if one_tar else check_output_dir(args.output)
    if args.rootfs_tar is not None:
        check_output_file(args.rootfs_tar)
    stem = Path(args.profile).stem
    if args.format == "oci" and not is_replaceable(output):
        raise UserError(f"{output}: exists and is not an OCI image layout; choose a new directory")
    archives = _archive_paths(output, arches, stem) if args.format == "docker-archive" else {}
    rootfs_tars = _rootfs_paths(args.rootfs_tar, arches)
    description = _description(args.profile)

    inputs: list[ImageInput] = []
    built: dict[str, Any] = {}
    for arch in arches:
        prepared = prepare_build(
            args.profile,
            arch=arch,
            toolchain=args.toolchain,
            release=args.release,
            drop_broken=args.drop_broken,
            on_fragments=lambda report: fragment_notes(report, strict=False),
        )
        config, text, arch, toolchain = prepared.config, prepared.dotconfig, prepared.arch, prepared.toolchain
        for name in prepared.dropped_settings:
            err.print(
                plain(f"busyconf: set CONFIG_{name} for {arch} (known not to build otherwise)"), markup=False
            )
        bar = BuildBar(err, f"build {arch}")
        cancel = threading.Event()
        with tempfile.TemporaryDirectory(prefix="busyconf-image-") as tmp, bar.progress:
            try:
                result = build(
                    text,
                    list(config.applets),
                    config.release,
                    arch,
                    toolchain,
                    out_dir=Path(tmp),
                    source_tree=SourceCache().tree(config.release),
                    progress=bar,
                    cancel=cancel,
                    jobs=args.jobs,
                )
            except KeyboardInterrupt:
                cancel.set()
                raise
            m = result.manifest
            sboms = _sbom_files(Path(tmp))
            rootfs = make_rootfs(
                result.binary, arch, m.source_date_epoch, release=config.release, files=sboms
            )
        if not sboms:
            err.print(
                plain(f"busyconf: the {arch} build wrote no SBOM; the image carries none"), markup=False
            )
        built[arch] = m
        tool = f"busyconf {m.busyconf_version}" if m.busyconf_version else "busyconf"
        inputs.append(
            ImageInput(
                arch,
                rootfs,
                created_by=f"{tool} image {stem} (BusyBox {m.release}, {m.toolchain_version})",
                meta=build_meta(m.release, m.config_sha256, stem, description),
            )
        )
    image = oci_image(inputs, args.tag)
    for arch, path in rootfs_tars.items():
        write_atomic(path, tar_bytes(next(i.rootfs for i in inputs if i.arch == arch)))
    if args.format == "oci":
        write_layout(image, output)
    else:
        for img, inp in zip(image.images, inputs, strict=True):
            data = docker_archive_bytes(img, f"{_repo_name(args.profile)}:{args.tag}", inp.rootfs.mtime)
            write_atomic(archives[inp.arch], data)

    rows = []
    for img, inp in zip(image.images, inputs, strict=True):
        m = built[inp.arch]
        rows.append(
            {
                "arch": inp.arch,
                "platform": str(img.platform),
                "manifest_digest": img.manifest.digest,
                "layer_digest": img.layer.digest,
                "compressed_size": len(img.config.data) + len(img.layer.data) + len(img.manifest.data),
                "layer_size": len(img.layer_tar),
                "binary_size": m.binary_size,
                "binary_sha256": m.binary_sha256,
                "applets": len(inp.rootfs.applets),
                "annotations": json.loads(img.manifest.data).get("annotations", {}),
                "sbom": sorted("/" + e.path for e in inp.rootfs.entries if e.path.startswith(SBOM_DIR + "/")),
                "archive": str(archives[inp.arch]) if archives else None,
                "rootfs_tar": str(rootfs_tars[inp.arch]) if inp.arch in rootfs_tars else None,
            }
        )
    doc: dict[str, Any] = {
        "format": args.format,
        "output": str(output),
        "tag": args.tag,
        "digest": image.digest,
        "platforms": rows,
    }
    failed = False
    results: list[Any] = []
    if args.check:
        from busyconf.image.checks import check_layout

        results = check_layout(output, args.tag)
        doc["checks"] = [r.to_json() for r in results]
        failed = any(r.status == "fail" for r in results)
    if args.json:
        sys.stdout.write(json.dumps(doc, indent=2) + "\n")
        return 1 if failed else 0
    if args.format == "oci":
        out.print(
            f"[green]wrote[/] OCI image layout {esc(output)} (tag {esc(args.tag)}): {esc(image.digest)}"
        )
        out.print(plain(f"  check: skopeo inspect oci:{output}:{args.tag}"), markup=False)
    for row in rows:
        where = f" -> {row['archive']}" if row["archive"] else ""
        out.print(
            plain(
                f"  {row['platform']}: {row['compressed_size']:,} bytes compressed "
                f"({row['binary_size']:,}-byte busybox, {row['applets']} applets){where}"
            ),
            markup=False,
        )
    for r in results:
        colour = {"pass": "green", "fail": "red"}.get(r.status, "yellow")
        out.print(f"  [{colour}]{r.status}[/] {esc(r.platform)} {esc(r.check)}: {esc(r.detail)}")
        for w in r.warnings:
            out.print(f"    [yellow]warning:[/] {esc(w)}")
    if failed:
        err.print(plain("busyconf: an image check failed (see above)"), markup=False)
    return 1 if failed else 0
