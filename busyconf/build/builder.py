"""Orchestration: .config text + applet list -> verified static BusyBox + manifest."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from busyconf import __version__, savefile
from busyconf.build import config_lines, gate, runner, sbom, testsuite
from busyconf.build.arch import Arch, get_arch, host_arch
from busyconf.build.kbuild import MAKE_ENV, Kbuild, build_lock, buildable_config, date_epoch, prepared_source
from busyconf.build.manifest import BINARY_NAME, CONFIG_NAME, MANIFEST_NAME, Manifest, reproducer
from busyconf.build.testsuite import SuiteResult, parse_testsuite
from busyconf.build.toolchain import (
    MakeTools,
    Toolchain,
    check_toolchain_name,
    is_safe_word,
    resolve_toolchain,
)
from busyconf.build.verify import VerifyResult, runner_for, verify
from busyconf.errors import BuildError, EnvError, UserError


@dataclass(frozen=True)
class PhaseEvent:
    """A build phase starts: wait (for another build of the tree), prepare, configure, compile,
    verify, write, done."""

    phase: str
    message: str


@dataclass(frozen=True)
class ProgressEvent:
    """A compile step; ``total`` is an estimate, ``done`` never exceeds it."""

    done: int
    total: int
    step: runner.MakeStep


@dataclass(frozen=True)
class OutputEvent:
    """One raw line of make's output (for a log view)."""

    line: str


BuildEvent = PhaseEvent | ProgressEvent | OutputEvent
ProgressCallback = Callable[[BuildEvent], None]


@dataclass(frozen=True)
class BuildResult:
    """A finished, verified build; the paths are in ``out_dir``."""

    binary: Path
    config: Path
    manifest_path: Path
    manifest: Manifest
    build_dir: Path
    compiled: int
    seconds: float
    verification: VerifyResult
    dropped: tuple[str, ...] = field(default=())


@dataclass(frozen=True)
class _Compiled:
    """Internal: a built tree, before verification and artifacts."""

    obj: Path
    srctree: Path
    tools: MakeTools
    toolchain: Toolchain
    arch: Arch
    config_text: str
    dropped: tuple[str, ...]
    compiled: int
    seconds: float
    source_date_epoch: int
    make_vars: tuple[str, ...]
    kbuild: Kbuild


def cache_build_root() -> Path:
    """``cache_root()/build``: one sub-directory per (release, arch, toolchain)."""
    from busyconf.source import cache_root

    return Path(cache_root()) / "build"


def build_dir_for(release: str, arch: str, toolchain: str, root: Path | None = None) -> Path:
    """The build folder of (release, arch, toolchain) under ``root`` (default
    :func:`cache_build_root`); every name is checked first.

    Raises:
        UserError: a release that is no version number, an unknown arch, a bad toolchain name.
    """
    from busyconf.source.releases import check_version

    check_version(release)
    get_arch(arch)
    check_toolchain_name(toolchain)
    slug = toolchain.rstrip("-") or "cross"
    return (cache_build_root() if root is None else root) / f"{release}-{arch}-{slug}"


def _check_target(arch_name: str, toolchain_name: str) -> None:
    """Fail on an unsupported CPU or a missing compiler before the build folder or its lock is made."""
    arch = get_arch(arch_name)
    if not arch.supported:
        raise UserError(f"arch {arch.name} is not supported: {arch.reason}")
    resolve_toolchain(toolchain_name, arch)


def _emit(progress: ProgressCallback | None, event: BuildEvent) -> None:
    if progress is not None:
        progress(event)


def source_sha256(source_tree: Path) -> str:
    """The sha256 of the tarball a cached tree was unpacked from, as the cache recorded it ("" if none)."""
    try:
        meta = json.loads((source_tree.parent / "release.json").read_text())
    except (OSError, ValueError):
        return ""
    sha = meta.get("sha256") if isinstance(meta, dict) else None
    return sha if isinstance(sha, str) else ""


def _error_line(tail: Sequence[str]) -> str:
    for line in reversed(tail):
        if re.search(r"\berror\b|Error \d|undefined reference|cannot find", line, re.IGNORECASE):
            return line.strip()
    return tail[-1].strip() if tail else "no output"


def _compile(
    config_text: str,
    release: str,
    arch_name: str,
    toolchain_name: str,
    source_tree: Path,
    progress: ProgressCallback | None,
    cancel: threading.Event | None,
    drop_broken: bool,
    jobs: int | None,
    *,
    build_root: Path | None = None,
    source_date_epoch: int | None = None,
) -> _Compiled:
    arch = get_arch(arch_name)
    if not arch.supported:
        raise UserError(f"arch {arch.name} is not supported: {arch.reason}")
    toolchain = resolve_toolchain(toolchain_name, arch)
    text, dropped = buildable_config(config_text, release, arch.name, toolchain.kind, drop_broken=drop_broken)
    if not (source_tree / "Makefile").is_file():
        raise UserError(f"{source_tree}: not a BusyBox source tree (no Makefile)")

    build_dir = build_dir_for(release, arch.name, toolchain.name, build_root)
    for path in (build_dir, source_tree.resolve()):
        if not is_safe_word(str(path)):
            raise UserError(f"{path}: path has characters make cannot handle; set BUSYCONF_CACHE")
    start = time.monotonic()
    _emit(progress, PhaseEvent("prepare", f"build directory {build_dir}"))
    srctree = prepared_source(source_tree, arch, release, build_dir)
    obj = build_dir / "obj"
    obj.mkdir(parents=True, exist_ok=True)
    tools = toolchain.write_wrappers(arch, release, build_dir / "tools")
    config_path = obj / ".config"
    # conf rewrites .config in its own form, so compare with the last input:
    # rewriting an unchanged config would regenerate headers and recompile.
    last_input = build_dir / "input.config"
    changed = not config_path.is_file() or not last_input.is_file() or last_input.read_text() != text
    if changed:
        last_input.unlink(missing_ok=True)
        config_path.write_text(text)

    epoch = date_epoch(srctree, source_date_epoch)
    kb = Kbuild(srctree, obj, tools, epoch)
    log_path = build_dir / "last-build.log"

    with log_path.open("w") as log:

        def on_config_line(line: str) -> None:
            log.write(line + "\n")

        if changed:
            _emit(progress, PhaseEvent("configure", "make oldconfig"))
            res = kb.configure(build_dir, on_config_line, cancel)
            if res.returncode != 0:
                raise BuildError(
                    f"make oldconfig failed (exit {res.returncode}) for {arch.name}: "
                    f"{_error_line(res.tail)}; log {log_path}"
                )
            last_input.write_text(text)
        final_text = config_path.read_text()
        total = max(1, runner.count_object_rules(srctree, config_lines.parse(final_text)))
        compiled = 0

        def on_line(line: str) -> None:
            nonlocal compiled
            log.write(line + "\n")
            _emit(progress, OutputEvent(line))
            step = runner.parse_step(line)
            if step is not None and step.tag == "CC":
                compiled += 1
                _emit(progress, ProgressEvent(min(compiled, total - 1), total, step))

        jobs = jobs or os.cpu_count() or 1
        _emit(progress, PhaseEvent("compile", f"make -j{jobs} busybox"))
        res = kb.make(f"-j{jobs}", "busybox", cwd=build_dir, on_line=on_line, cancel=cancel)
        log.write(f"# {res.command_line}\n# exit {res.returncode} after {res.seconds:.1f}s\n")
    if res.returncode != 0:
        raise BuildError(
            f"make failed (exit {res.returncode}) for {arch.name}/{toolchain.name}: "
            f"{_error_line(res.tail)}; log {log_path}"
        )
    if not (obj / BINARY_NAME).is_file():
        raise BuildError(f"{obj / BINARY_NAME}: make succeeded but wrote no binary")
    _emit(progress, ProgressEvent(total, total, runner.MakeStep("LINK", BINARY_NAME)))
    return _Compiled(
        obj=obj,
        srctree=srctree,
        tools=tools,
        toolchain=toolchain,
        arch=arch,
        config_text=final_text,
        dropped=dropped,
        compiled=compiled,
        seconds=time.monotonic() - start,
        source_date_epoch=epoch,
        make_vars=kb.make_variables,
        kbuild=kb,
    )


def check_out_dir(out_dir: Path | str) -> None:
    """Refuse an ``out_dir`` busyconf did not make (a non-empty folder without its marker).

    Called before anything is compiled, so a wrong ``-o`` costs nothing.
    """
    savefile.check_out_dir(out_dir)


def _write_artifacts(out_dir: Path, files: dict[str, bytes], modes: dict[str, int]) -> None:
    """Make ``out_dir`` hold ``files`` and nothing else, all at once.

    They are written into a fresh sibling folder that is exchanged with
    ``out_dir`` in one step (see :func:`busyconf.savefile.publish_dir`),
    so ``manifest.json`` always describes the ``busybox`` beside it, whatever
    interrupts the build.
    """
    savefile.publish_dir(out_dir, files, modes)


def build(
    config_text: str,
    applets: Sequence[str],
    release: str,
    arch: str,
    toolchain: str = "zig",
    *,
    out_dir: Path,
    source_tree: Path,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
    drop_broken: bool = False,
    jobs: int | None = None,
    build_root: Path | None = None,
    source_date_epoch: int | None = None,
) -> BuildResult:
    """Build, verify and publish a static BusyBox.

    Args:
        config_text: a full BusyBox .config.
        applets: the applets that config enables (``--list`` must match).
        release: BusyBox release of ``source_tree`` (``"1.38.0"``).
        arch: busyconf CPU name (see ``arches.toml``).
        toolchain: ``zig``, ``musl-gcc`` or a cross prefix (``aarch64-linux-musl-``).
        out_dir: where ``busybox``, ``busybox.config``, ``manifest.json`` and the SBOMs
            (:mod:`busyconf.build.sbom`) go,
            only after the build and its verification succeed.
        source_tree: a pristine BusyBox tree (never modified).
        progress: called with :data:`BuildEvent` objects, in the calling thread.
        cancel: set it to stop the build (raises ``Interrupted``).
        drop_broken: set known-broken options off instead of refusing them.
        jobs: parallel make jobs (default: CPU count).
        build_root: where the build folder goes (default the cache's; a rebuild passes a fresh one).
        source_date_epoch: the build date (default ``$SOURCE_DATE_EPOCH``, else the release's).

    Raises:
        UserError: unknown arch, a known-broken option, an unsafe string symbol.
        ToolchainError: the toolchain or qemu is missing.
        BuildError: make or verification failed.
        Interrupted: ``cancel`` was set or Ctrl-C was pressed.
    """
    start = time.monotonic()
    check_out_dir(out_dir)
    gate.check_config_text(config_text)
    build_dir = build_dir_for(release, arch, toolchain, build_root)
    _check_target(arch, toolchain)
    with build_lock(build_dir, cancel, on_wait=lambda why: _emit(progress, PhaseEvent("wait", why))):
        compiled = _compile(
            config_text,
            release,
            arch,
            toolchain,
            source_tree,
            progress,
            cancel,
            drop_broken,
            jobs,
            build_root=build_root,
            source_date_epoch=source_date_epoch,
        )
        binary = compiled.obj / BINARY_NAME
        _emit(progress, PhaseEvent("verify", f"running {BINARY_NAME} --list and smoke checks"))
        checked = verify(binary, compiled.arch, applets, config_lines.parse(compiled.config_text))
        binary_bytes = binary.read_bytes()
        config_bytes = compiled.config_text.encode()
        seconds = time.monotonic() - start
        manifest = Manifest(
            release=release,
            arch=compiled.arch.name,
            toolchain=compiled.toolchain.name,
            toolchain_version=compiled.toolchain.version,
            config_sha256=hashlib.sha256(config_bytes).hexdigest(),
            binary_sha256=hashlib.sha256(binary_bytes).hexdigest(),
            binary_size=len(binary_bytes),
            applets=checked.applets,
            build_seconds=round(seconds, 2),
            built_at=dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat(),
            source_date_epoch=compiled.source_date_epoch,
            dropped_options=compiled.dropped,
            verified_with=" ".join(Path(p).name for p in checked.runner[:1]) or "native",
            smoke_checks=checked.checks,
            source_sha256=source_sha256(source_tree),
            compiler_flags=compiled.toolchain.compile_flags(compiled.arch, release),
            make_variables=tuple(v.replace(str(build_dir), "$BUILD") for v in compiled.make_vars),
            make_env=tuple(
                f"{k}={v}"
                for k, v in sorted({**MAKE_ENV, "SOURCE_DATE_EPOCH": str(compiled.source_date_epoch)}.items())
            ),
            busyconf_version=__version__,
            reproducer=reproducer(
                release, compiled.arch.name, compiled.toolchain.name, compiled.source_date_epoch
            ),
            libc=sbom.libc_version(compiled.toolchain),
        )
        _emit(progress, PhaseEvent("write", f"writing artifacts to {out_dir}"))
        _write_artifacts(
            out_dir,
            {
                BINARY_NAME: binary_bytes,
                CONFIG_NAME: config_bytes,
                MANIFEST_NAME: manifest.to_json().encode(),
                **sbom.sbom_files(manifest, compiled.config_text, binary_bytes),
            },
            {BINARY_NAME: 0o755},
        )
    _emit(progress, PhaseEvent("done", f"{BINARY_NAME}: {manifest.binary_size} bytes"))
    return BuildResult(
        binary=out_dir / BINARY_NAME,
        config=out_dir / CONFIG_NAME,
        manifest_path=out_dir / MANIFEST_NAME,
        manifest=manifest,
        build_dir=build_dir,
        compiled=compiled.compiled,
        seconds=seconds,
        verification=checked,
        dropped=compiled.dropped,
    )


def run_testsuite(
    config_text: str,
    release: str,
    toolchain: str = "zig",
    *,
    source_tree: Path,
    arch: str | None = None,
    only: Sequence[str] = (),
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
    drop_broken: bool = False,
    jobs: int | None = None,
) -> SuiteResult:
    """Build for ``arch`` (default the host's CPU) and run BusyBox's own test suite on it.

    The binary is built statically (``CONFIG_STATIC=y``, else 13 mdev tests
    skip) in the same cached build directory as :func:`build`; no artifacts
    are written. Another CPU's binary runs under its qemu-user
    (:mod:`busyconf.build.testsuite`). ``only``: run just these applets' tests
    (runtest's arguments). A failing test is a result, not an exception.

    Raises:
        UserError: an unknown or unsupported arch, a known-broken option.
        EnvError: no ``arch`` and a host CPU busyconf does not know.
        ToolchainError: the toolchain or the CPU's qemu-user is missing.
        BuildError: the build failed or the suite ran no test.
    """
    if arch is None:
        arch = host_arch()
        if arch is None:
            raise EnvError("this machine's CPU is not one busyconf knows; give the CPU to test (--arch)")
    gate.check_config_text(config_text)
    testsuite.check_applet_names(only)
    build_dir = build_dir_for(release, arch, toolchain)
    _check_target(arch, toolchain)
    qemu = runner_for(get_arch(arch))  # before compiling: a missing qemu costs nothing
    start = time.monotonic()
    with build_lock(build_dir, cancel, on_wait=lambda why: _emit(progress, PhaseEvent("wait", why))):
        compiled = _compile(
            config_text, release, arch, toolchain, source_tree, progress, cancel, drop_broken, jobs
        )
        cwd = testsuite.lay_out(
            build_dir / "check", compiled.obj / BINARY_NAME, compiled.obj / ".config", compiled.srctree, qemu
        )
        env = compiled.kbuild.env()
        env.update(bindir=str(cwd.parent), srcdir=str(compiled.srctree / "testsuite"))
        # Tests such as taskset's run `$SHELL -c ...`; CI runners and cron often
        # leave SHELL unset, which turns those tests into false failures.
        if not env.get("SHELL"):
            env["SHELL"] = "/bin/sh"
        log_path = build_dir / "last-check.log"
        lines: list[str] = []

        def on_line(line: str) -> None:
            lines.append(line)
            _emit(progress, OutputEvent(line))

        how = f"under {Path(qemu[0]).name}" if qemu else "natively"
        _emit(progress, PhaseEvent("test", f"BusyBox's testsuite/runtest {how}"))
        runtest = str(compiled.srctree / "testsuite" / "runtest")
        res = runner.run([runtest, *only], cwd=cwd, env=env, on_line=on_line, cancel=cancel)
        log_path.write_text("\n".join(lines) + f"\n# {res.command_line}\n# exit {res.returncode}\n")
    passed, failed, skipped, failures = parse_testsuite(lines)
    if passed == 0 and failed == 0:
        raise BuildError(
            f"BusyBox's test suite ran no tests (exit {res.returncode}): "
            f"{_error_line(res.tail)}; log {log_path}"
        )
    seconds = time.monotonic() - start
    return SuiteResult(passed, failed, skipped, failures, seconds, log_path, release, arch, qemu)
