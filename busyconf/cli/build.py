"""``busyconf build`` and ``busyconf test``: the build layer with a progress bar."""

from __future__ import annotations

import argparse
import json
import sys
import threading
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from busyconf.cli.console import BuildBar, err, esc, fragment_notes, out, plain, print_rebuild
from busyconf.cli.options import DEFAULT_ARCH, DEFAULT_TOOLCHAIN, add_jobs, check_output_dir
from busyconf.errors import EnvError, UserError

if TYPE_CHECKING:
    from busyconf.model.prepare import PreparedBuild


def register(sub: Any) -> None:
    s = sub.add_parser(
        "build",
        help="build a static musl BusyBox from a profile, verify it, write a manifest",
        description="Cross-compile the profile for its CPU (or --arch) out of tree in the "
        "per-user cache (incremental), run the binary (natively or under qemu-user) to check "
        "its applet list and a smoke script, then write busybox, busybox.config, "
        "manifest.json and the SBOMs sbom.spdx.json and sbom.cdx.json into -o DIR "
        "(default out/PROFILE-ARCH). Nothing is written unless "
        "the build and the checks pass.",
    )
    s.add_argument("profile", nargs="?", help="profile (.toml) or .config (none with --applet)")
    s.add_argument(
        "--applet",
        action="append",
        metavar="NAME",
        help="instead of a profile: a binary of only this applet (repeatable), for COPY --from. Built "
        "from allnoconfig: every feature off except what the applet needs to be enabled or to work on "
        "musl (nslookup: FEATURE_NSLOOKUP_BIG), plus the applets it runs; no busybox applet, so one "
        "applet runs whatever the file is called and several by their link name or `busybox NAME`. "
        f"Release: --release (default 1.38.0), CPU: --arch (default {DEFAULT_ARCH})",
    )
    s.add_argument("--arch", help="target CPU (default: the profile's arch)")
    s.add_argument(
        "--toolchain",
        help=f"{DEFAULT_TOOLCHAIN} (default), musl-gcc, or a cross prefix like aarch64-linux-musl-",
    )
    s.add_argument("-o", "--output", help="artifact folder (default out/PROFILE-ARCH, out/APPLET-ARCH)")
    s.add_argument(
        "--drop-broken",
        action="store_true",
        help="set options known not to build here to a value that builds (off; LFS on for 32-bit CPUs) "
        "instead of stopping",
    )
    s.add_argument("--json", action="store_true", help="print the manifest as JSON on stdout")
    s.add_argument(
        "--strict", action="store_true", help="a fragment or [config] value that does not apply is an error"
    )
    add_jobs(s)
    s.add_argument("--release", help="release of a .config without a version header, or of --applet")
    s.add_argument(
        "--check-reproducible",
        action="store_true",
        help="then rebuild from the manifest in a clean tree and compare bit for bit (exit 1 if it differs)",
    )
    s.set_defaults(func=cmd_build)

    s = sub.add_parser(
        "test",
        help="run BusyBox's own test suite (make check) on a build for this CPU or, under qemu-user, another",
        description="Build PROFILE for this machine's CPU (or --arch) and run BusyBox's own test suite on "
        "it; another CPU's binary runs under qemu-user. "
        "Failures known for the release (network tests, musl differences; each listed with its reason) "
        "are reported but do not fail: the exit code is 1 only when another test fails.",
    )
    s.add_argument("profile", help="profile (.toml) or .config")
    s.add_argument(
        "--arch",
        help="target CPU (default: this machine's, not the profile's); a cross CPU's binary runs "
        "the suite under its qemu-user-static (qemu-arm-static for armv7...), no binfmt_misc needed",
    )
    s.add_argument("--toolchain", help=f"{DEFAULT_TOOLCHAIN} (default), musl-gcc, or a cross prefix")
    s.add_argument(
        "--drop-broken", action="store_true", help="set options known not to build to a value that builds"
    )
    s.add_argument("--json", action="store_true", help="print the counts as JSON on stdout")
    s.add_argument("--release", help="release of a .config without a version header")
    add_jobs(s)
    s.set_defaults(func=cmd_test)


def prepare(args: argparse.Namespace, arch: str | None) -> PreparedBuild:
    """``build PROFILE`` and ``test``: :func:`~busyconf.model.prepare.prepare_build` of the arguments."""
    from busyconf.model.prepare import prepare_build

    strict = getattr(args, "strict", False)
    return prepare_build(
        args.profile,
        arch=arch,
        toolchain=args.toolchain,
        release=args.release,
        drop_broken=args.drop_broken,
        # Before any compile: --strict refuses a value that would not make it into the binary.
        on_fragments=lambda report: fragment_notes(report, strict=strict),
    )


def cmd_build(args: argparse.Namespace) -> int:
    from busyconf.build import build
    from busyconf.build.builder import check_out_dir
    from busyconf.source import SourceCache

    if (args.profile is None) == (args.applet is None):
        raise UserError("build: give a PROFILE or --applet NAME, not both and not neither")
    if args.output is not None:
        check_out_dir(args.output)  # before any work: -o DIR belongs to busyconf
    if args.applet is not None:
        from busyconf.trim.single import prepare_single

        prepared, plan = prepare_single(
            args.applet, arch=args.arch, toolchain=args.toolchain, release=args.release
        )
        for name, why in plan.added.items():
            err.print(plain(f"busyconf: added applet {name} ({why})"), markup=False)
        stem = plan.name()
    else:
        prepared = prepare(args, args.arch)
        stem = Path(args.profile).stem
    config, text, arch, toolchain = prepared.config, prepared.dotconfig, prepared.arch, prepared.toolchain
    for name in prepared.dropped_settings:
        err.print(plain(f"busyconf: set CONFIG_{name} (known not to build otherwise)"), markup=False)
    # Checked now, not after a compile of several minutes.
    default = Path("out") / f"{stem}-{arch}"
    out_dir = check_output_dir(default if args.output is None else args.output)
    bar = BuildBar(err, f"build {arch}")
    cancel = threading.Event()
    with bar.progress:
        try:
            result = build(
                text,
                list(config.applets),
                config.release,
                arch,
                toolchain,
                out_dir=out_dir,
                source_tree=SourceCache().tree(config.release),
                progress=bar,
                cancel=cancel,
                jobs=args.jobs,
            )
            again = _check_reproducible(args, result.manifest_path, bar, cancel)
        except KeyboardInterrupt:
            cancel.set()
            raise
    manifest = asdict(result.manifest)
    if args.json:
        if again is not None:
            manifest["reproducible"] = again.to_json()
        sys.stdout.write(json.dumps(manifest, indent=2) + "\n")
        return 0 if again is None or again.reproduced else 1
    m = result.manifest
    out.print(
        f"[green]built[/] {esc(result.binary)} ({m.binary_size:,} bytes, {len(m.applets)} applets) "
        f"for {esc(arch)} with {esc(m.toolchain_version)} in {result.seconds:.1f} s"
    )
    how = (
        "--list matches the profile"
        if result.verification.listed
        else "its applet-name table matches the profile (no busybox applet, so no --list)"
        if len(m.applets) > 1
        else "a single applet (no busybox applet, so no --list and no name table to compare)"
    )
    out.print(
        plain(f"verified ({m.verified_with}): {how}; smoke checks {', '.join(m.smoke_checks) or 'none'}"),
        markup=False,
    )
    out.print(plain(f"manifest: {result.manifest_path}"), markup=False)
    from busyconf.build.sbom import CYCLONEDX_NAME, SPDX_NAME

    sboms = ", ".join(str(result.manifest_path.parent / n) for n in (SPDX_NAME, CYCLONEDX_NAME))
    out.print(plain(f"SBOMs: {sboms}"), markup=False)
    if again is not None:
        print_rebuild(again, False)
        return 0 if again.reproduced else 1
    return 0


def _check_reproducible(
    args: argparse.Namespace, manifest: Path, bar: BuildBar, cancel: threading.Event
) -> Any:
    """``--check-reproducible``: the :class:`~busyconf.supply.reproduce.RebuildResult`, else None."""
    if not args.check_reproducible:
        return None
    from busyconf.supply.reproduce import rebuild

    return rebuild(manifest, progress=bar, cancel=cancel, jobs=args.jobs)


def cmd_test(args: argparse.Namespace) -> int:
    from busyconf.build import host_arch, run_testsuite
    from busyconf.source import SourceCache

    arch = args.arch or host_arch()
    if arch is None:
        raise EnvError("this machine's CPU is not one busyconf knows; give the CPU to test with --arch")
    prepared = prepare(args, arch)
    config, text, toolchain = prepared.config, prepared.dotconfig, prepared.toolchain
    bar = BuildBar(err, f"make check {prepared.arch}")
    with bar.progress:
        res = run_testsuite(
            text,
            config.release,
            toolchain,
            source_tree=SourceCache().tree(config.release),
            arch=prepared.arch,
            progress=bar,
            jobs=args.jobs,
        )
    if args.json:
        sys.stdout.write(
            json.dumps(
                {
                    "arch": res.arch,
                    "runner": list(res.runner),
                    "passed": res.passed,
                    "failed": res.failed,
                    "skipped": res.skipped,
                    "failures": list(res.failures),
                    "unexpected_failures": list(res.unexpected),
                    "log": str(res.log),
                },
                indent=2,
            )
            + "\n"
        )
    else:
        for name in res.failures:
            known = res.known(name)
            if known is None:
                out.print(f"  [red]FAIL[/] {esc(name)}")
            else:
                out.print(f"  [yellow]FAIL[/] {esc(name)} [dim](known: {esc(known.reason)})[/]")
        n_known = res.failed - len(res.unexpected)
        how = f"under {Path(res.runner[0]).name}" if res.runner else "natively"
        out.print(
            plain(
                f"{res.passed} passed, {res.failed} failed ({n_known} known), {res.skipped} skipped "
                f"(BusyBox's own test suite, {res.arch} {how}; log {res.log})"
            ),
            markup=False,
        )
    return 0 if not res.unexpected else 1
