"""``busyconf image`` and ``busyconf trim``: container images and profiles cut to use."""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

from busyconf.cli import check_output_dir, check_output_file, esc, plain
from busyconf.cli_build import positive_int
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
    s.add_argument("-o", "--output", required=True,
                   help="OCI layout directory (docker-archive: a .tar file for one arch, else a directory)")
    s.add_argument("--format", choices=("oci", "docker-archive"), default="oci", help="output format")
    s.add_argument("--tag", default="latest", help="image tag (default latest)")
    s.add_argument("--rootfs-tar", help="also write the rootfs tarball here (several arches: FILE-ARCH.tar)")
    s.add_argument("--toolchain", help="zig (default), musl-gcc, or a cross prefix")
    s.add_argument("--drop-broken", action="store_true", help="set known-broken options to values that build")
    s.add_argument("--release", help="release of a .config without a version header")
    s.add_argument("-j", "--jobs", type=positive_int, help="parallel compile jobs (default: CPU count)")
    s.add_argument("--check", action="store_true",
                   help="then run docker-library's image tests (utc, no-hard-coded-passwords, override-cmd, "
                   "busybox) on each platform, unpacked with umoci; exit 1 if one fails")
    s.add_argument("--json", action="store_true", help="print digests and sizes as JSON on stdout")
    s.set_defaults(func=cmd_image)

    s = sub.add_parser(
        "trim",
        help="cut a profile to the applets scripts use (--scan), or to a size budget (--budget)",
        description="--scan: read shell scripts, Dockerfiles and a rootfs's init scripts, find "
        "every command they run and write a profile with only those applets plus the shell. "
        "--budget: list the removals that bring PROFILE's size estimate within the budget, "
        "cheapest loss first, and write them as a new profile with -o.",
    )
    s.add_argument("profile", nargs="?", help="with --budget: the profile to fit")
    s.add_argument("--scan", nargs="+", metavar="PATH", help="scripts, Dockerfiles, directories, a rootfs")
    s.add_argument("--base", help="with --scan: profile whose features the kept applets keep (default: "
                   "BusyBox's defconfig)")
    s.add_argument("--keep", action="extend", nargs="+", default=[], metavar="APPLET",
                   help="applets to keep whatever the scan finds (also comma-separated)")
    s.add_argument("--interactive", action="store_true",
                   help="with --scan: keep line editing, job control and tab completion as the base has them "
                   "(for `docker run -it`); without it they go")
    s.add_argument("--budget", help="size budget such as 600K or 1.2M (K = 1024 bytes)")
    s.add_argument("--arch", help="target CPU of the new profile (default: the base's)")
    s.add_argument("-o", "--output", help="profile to write (required with --scan)")
    s.add_argument("--force", action="store_true", help="replace an existing output file")
    s.add_argument("--json", action="store_true", help="print the result as JSON on stdout")
    s.set_defaults(func=cmd_trim)


# -- image ----------------------------------------------------------------------------

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

        names = [load_profile(Path(args.profile)).arch] if args.profile.endswith(".toml") else ["x86_64"]
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
    return {f"{SBOM_DIR}/{name}": (out_dir / name).read_bytes()
            for name in SBOM_NAMES if (out_dir / name).is_file()}


def cmd_image(args: argparse.Namespace) -> int:
    from busyconf.build import build
    from busyconf.cli import err, out
    from busyconf.cli_build import BuildBar, prepare
    from busyconf.image import (
        ImageInput,
        docker_archive_bytes,
        make_rootfs,
        oci_image,
        tar_bytes,
        write_bytes_atomic,
        write_layout,
    )
    from busyconf.image.oci import build_meta, check_tag, is_replaceable
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
        prepared = prepare(args, arch)
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
                    text, list(config.applets), config.release, arch, toolchain,
                    out_dir=Path(tmp), source_tree=SourceCache().tree(config.release),
                    progress=bar, cancel=cancel, jobs=args.jobs,
                )
            except KeyboardInterrupt:
                cancel.set()
                raise
            m = result.manifest
            sboms = _sbom_files(Path(tmp))
            rootfs = make_rootfs(result.binary, arch, m.source_date_epoch, release=config.release,
                                 files=sboms)
        if not sboms:
            err.print(plain(f"busyconf: the {arch} build wrote no SBOM; the image carries none"),
                      markup=False)
        built[arch] = m
        tool = f"busyconf {m.busyconf_version}" if m.busyconf_version else "busyconf"
        inputs.append(ImageInput(
            arch, rootfs,
            created_by=f"{tool} image {stem} (BusyBox {m.release}, {m.toolchain_version})",
            meta=build_meta(m.release, m.config_sha256, stem, description),
        ))
    image = oci_image(inputs, args.tag)
    for arch, path in rootfs_tars.items():
        write_bytes_atomic(path, tar_bytes(next(i.rootfs for i in inputs if i.arch == arch)))
    if args.format == "oci":
        write_layout(image, output)
    else:
        for img, inp in zip(image.images, inputs, strict=True):
            data = docker_archive_bytes(img, f"{_repo_name(args.profile)}:{args.tag}", inp.rootfs.mtime)
            write_bytes_atomic(archives[inp.arch], data)

    rows = []
    for img, inp in zip(image.images, inputs, strict=True):
        m = built[inp.arch]
        rows.append({
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
        })
    doc: dict[str, Any] = {"format": args.format, "output": str(output), "tag": args.tag,
                           "digest": image.digest, "platforms": rows}
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
        out.print(plain(f"  {row['platform']}: {row['compressed_size']:,} bytes compressed "
                        f"({row['binary_size']:,}-byte busybox, {row['applets']} applets){where}"),
                  markup=False)
    for r in results:
        colour = {"pass": "green", "fail": "red"}.get(r.status, "yellow")
        out.print(f"  [{colour}]{r.status}[/] {esc(r.platform)} {esc(r.check)}: {esc(r.detail)}")
        for w in r.warnings:
            out.print(f"    [yellow]warning:[/] {esc(w)}")
    if failed:
        err.print(plain("busyconf: an image check failed (see above)"), markup=False)
    return 1 if failed else 0


# -- trim -------------------------------------------------------------------------------

def _keep_list(args: argparse.Namespace) -> list[str]:
    return [k for item in args.keep for k in item.split(",") if k]


def _check_output(args: argparse.Namespace) -> Path | None:
    if args.output is None:
        return None
    if not args.output:
        raise UserError("-o '': name the profile to write")
    path = Path(args.output)
    if path.suffix != ".toml":
        raise UserError(f"{path}: a profile file name ends in .toml")
    check_output_file(path)
    if path.is_file() and not args.force:
        raise UserError(f"{path}: already exists; pass --force to replace it")
    return path


def cmd_trim(args: argparse.Namespace) -> int:
    if bool(args.scan) == bool(args.budget):
        raise UserError("trim: give either --scan PATH... or --budget SIZE PROFILE")
    if args.scan:
        if args.profile:
            raise UserError(f"trim --scan: unexpected {args.profile!r}; the base profile goes in --base")
        for name in args.scan:
            if name.endswith(".toml"):
                raise UserError(
                    f"trim --scan {name}: a profile is not a script; the base profile goes in --base"
                )
        return _trim_scan(args)
    if not args.profile:
        raise UserError("trim --budget: name the profile to fit")
    return _trim_budget(args)


def _trim_scan(args: argparse.Namespace) -> int:
    from busyconf.build import broken, get_arch
    from busyconf.cli import err, out
    from busyconf.model.inputs import load_any
    from busyconf.model.profile import new_profile, profile_assignments, profile_lock, tree_for, write_atomic
    from busyconf.trim import plan_trim, scan_paths, trimmed_profile_text
    from busyconf.trim.plan import check_keep

    output = _check_output(args)
    if output is None:
        raise UserError("trim --scan: -o configs/NAME.toml is required")
    if args.base:
        loaded = load_any(Path(args.base))
        tree, assignments = loaded.tree, loaded.assignments
        prof = loaded.profile
        arch = args.arch if args.arch is not None else (prof.arch if prof else "x86_64")
        toolchain = prof.toolchain if prof else "zig"
        base_name = args.base
    else:
        prof = new_profile()
        tree = tree_for(prof)
        assignments = profile_assignments(tree, prof)
        arch = args.arch if args.arch is not None else prof.arch
        toolchain, base_name = prof.toolchain, "defconfig"
    get_arch(arch)
    keep = check_keep(tree, _keep_list(args))
    scan = scan_paths([Path(p) for p in args.scan])
    plan = plan_trim(scan, tree, assignments, keep, interactive=args.interactive)
    problems = broken.check(plan.config.values, release=tree.release, toolchain=toolchain, arch=arch)
    if problems:
        plan = plan_trim(scan, tree, [*assignments, *((p.symbol, p.safe) for p in problems)], keep,
                         interactive=args.interactive)
    description = f"trimmed from {base_name} to what {len(scan.files)} scanned file(s) run"
    text = trimmed_profile_text(plan, tree, arch, toolchain, description, output)
    with profile_lock(output):
        write_atomic(output, text)

    if args.json:
        sys.stdout.write(json.dumps({
            "output": str(output),
            "files": list(scan.files),
            "applets": list(plan.kept),
            "added": list(plan.added),
            "behind": plan.behind,
            "dropped": len(plan.dropped),
            "not_applets": plan.not_applets,
            "builtins": list(plan.builtins),
            "notes": [{"where": n.where, "message": n.message} for n in plan.notes],
            "skipped": [{"path": p, "reason": r} for p, r in plan.skipped],
            "switched_off_broken": [p.symbol for p in problems],
            "options": [{"symbol": s, "reason": r} for s, r in plan.options],
            "options_off": list(plan.options_off),
            "unplaced": [{"where": w, "applet": a, "option": o} for w, a, o in plan.unplaced],
        }, indent=2) + "\n")
        return 0
    for name, places in plan.not_applets.items():
        more = f" (and {len(places) - 1} more)" if len(places) > 1 else ""
        err.print(f"{places[0]}: {name!r} is not a BusyBox applet{more}", markup=False)
    for note in plan.notes:
        err.print(f"{note.where}: {note.message}", markup=False)
    quiet = 0
    for path, reason in plan.skipped:
        if reason.startswith("not a shell script"):
            err.print(f"{path}: skipped, {reason}", markup=False)
        else:
            quiet += 1
    if quiet:
        err.print(f"skipped {quiet} file(s) that are not scripts (binaries, data; --json lists them)",
                  markup=False)
    for p in problems:
        err.print(f"set CONFIG_{p.symbol}={p.safe} (known not to build otherwise)", markup=False)
    out.print(f"[green]wrote[/] {esc(output)}: {len(plan.kept)} applets from {len(scan.files)} file(s), "
              f"{len(plan.dropped)} dropped from {esc(base_name)}")
    out.print(plain("  " + " ".join(plan.kept)), markup=False)
    if plan.added:
        out.print(f"  [yellow]not in the base, added:[/] {esc(' '.join(plan.added))}")
    for why in plan.behind.values():
        out.print(f"  kept, {why}", markup=False)
    for where, applet, option in plan.unplaced:
        err.print(f"{where}: {applet} {option}: no feature symbol found for it; "
                  f"{applet}'s options stay as in the base", markup=False)
    for sym, reason in plan.options:
        out.print(f"  option {sym}: {reason}", markup=False)
    if plan.options_off:
        out.print(plain(f"  options switched off (no script passes them): {' '.join(plan.options_off)}"),
                  markup=False)
    return 0


def _trim_budget(args: argparse.Namespace) -> int:
    from rich.table import Table

    from busyconf.build import get_arch
    from busyconf.cli import out
    from busyconf.model.inputs import load_any
    from busyconf.model.profile import (
        apply_changes,
        load_profile,
        minimal_overrides,
        new_profile,
        profile_lock,
        relocate,
        save_profile,
        write_overrides,
    )
    from busyconf.size import estimator_for
    from busyconf.trim import format_size, parse_size, plan_budget
    from busyconf.trim.plan import check_keep

    budget = parse_size(args.budget)
    output = _check_output(args)
    loaded = load_any(Path(args.profile))
    prof = loaded.profile
    arch = args.arch if args.arch is not None else (prof.arch if prof else "x86_64")
    get_arch(arch)
    toolchain = prof.toolchain if prof else "zig"
    keep = check_keep(loaded.tree, _keep_list(args))
    est = estimator_for(loaded.tree.release, arch, toolchain)
    plan = plan_budget(loaded.tree, loaded.assignments, est, budget, keep)

    if output is not None:
        # Read, change and write under the output's lock (the same lock when trimming in place).
        with profile_lock(output):
            if prof is not None and prof.path is not None:
                new = load_profile(prof.path)
                relocate(new, loaded.tree, output)
                apply_changes(new, loaded.tree, plan.changes)
            else:
                new = new_profile(loaded.tree.release, arch, "defconfig",
                                  f"imported from {Path(args.profile).name}", toolchain, path=output)
                write_overrides(new, loaded.tree, minimal_overrides(loaded.tree, [], plan.config))
            save_profile(new, output)

    if args.json:
        sys.stdout.write(json.dumps({
            "budget": plan.budget, "before": plan.before, "after": plan.after, "basis": plan.basis,
            "removals": [{"symbol": r.symbol, "saved": r.saved, "applets": list(r.applets)}
                         for r in plan.removals],
            "output": str(output) if output else None,
        }, indent=2) + "\n")
        return 0
    table = Table(title=f"{esc(args.profile)}: {format_size(plan.before)} -> {format_size(plan.after)} "
                        f"(budget {format_size(budget)}; estimate: {esc(plan.basis)})")
    table.add_column("switch off")
    table.add_column("applets lost")
    table.add_column("saves", justify="right")
    for r in plan.removals:
        table.add_row(esc(r.symbol), esc(" ".join(r.applets) or "-"), f"{r.saved:,}")
    out.print(table)
    if not plan.removals:
        out.print("already within the budget: nothing to remove")
    if output:
        out.print(f"[green]wrote[/] {esc(output)}")
    return 0
