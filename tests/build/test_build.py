"""Real builds with zig and qemu: x86_64, two foreign CPUs, reproducibility,
interruption, a malicious profile, BusyBox's own test suite."""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from busyconf.build import (
    BuildResult,
    PhaseEvent,
    ProgressEvent,
    build,
    build_dir_for,
    config_lines,
    run_testsuite,
)
from busyconf.errors import BuildError, Interrupted, UserError
from tests.build.conftest import applets_of

RELEASE = "1.38.0"

pytestmark = pytest.mark.slow


def _digest(out: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(out.iterdir())}


def _section_names(binary: Path) -> set[str]:
    out = subprocess.run(["readelf", "-SW", str(binary)], capture_output=True, text=True, check=True)
    return {w for line in out.stdout.splitlines() for w in line.split() if w.startswith(".")}


def test_x86_64_defconfig_builds_verifies_and_writes_manifest(
    x86_64_build: BuildResult, defconfig: Any
) -> None:
    r = x86_64_build
    manifest = json.loads(r.manifest_path.read_text())
    assert manifest["release"] == RELEASE and manifest["arch"] == "x86_64"
    assert manifest["toolchain"] == "zig" and manifest["toolchain_version"].startswith("zig ")
    assert manifest["binary_size"] == r.binary.stat().st_size > 900_000
    assert manifest["applets"] == sorted(defconfig.applets)
    assert "gzip round trip" in manifest["smoke_checks"]
    assert r.config.read_text().count("CONFIG_STATIC=y") == 1
    out = subprocess.run([str(r.binary), "uname", "-m"], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "x86_64"


def test_second_build_is_incremental_and_bit_identical(
    x86_64_build: BuildResult, defconfig: Any, source_tree: Path, tmp_path: Path
) -> None:
    events: list[object] = []
    again = build(
        defconfig.text,
        defconfig.applets,
        RELEASE,
        "x86_64",
        out_dir=tmp_path,
        source_tree=source_tree,
        progress=events.append,
    )
    assert again.compiled == 0
    assert again.manifest.binary_sha256 == x86_64_build.manifest.binary_sha256
    assert any(isinstance(e, PhaseEvent) and e.phase == "done" for e in events)


def test_fresh_build_elsewhere_is_bit_identical(
    x86_64_build: BuildResult,
    defconfig: Any,
    source_tree: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A different cache path and a from-scratch build: same bytes (no dates, no paths)."""
    monkeypatch.setenv("BUSYCONF_CACHE", str(tmp_path / "other-cache"))
    progress: list[ProgressEvent] = []
    r = build(
        defconfig.text,
        defconfig.applets,
        RELEASE,
        "x86_64",
        out_dir=tmp_path / "out",
        source_tree=source_tree,
        progress=lambda e: progress.append(e) if isinstance(e, ProgressEvent) else None,
    )
    assert r.manifest.binary_sha256 == x86_64_build.manifest.binary_sha256
    assert r.manifest.config_sha256 == x86_64_build.manifest.config_sha256
    dones = [e.done for e in progress]
    assert dones == sorted(dones) and progress[-1].done == progress[-1].total > 400


@pytest.mark.parametrize("arch,uname", [("aarch64", "aarch64"), ("mipsel", "mips")])
def test_foreign_cpu_runs_under_qemu(
    arch: str, uname: str, build_cache: Path, defconfig: Any, source_tree: Path, tmp_path: Path
) -> None:
    r = build(defconfig.text, defconfig.applets, RELEASE, arch, out_dir=tmp_path, source_tree=source_tree)
    assert r.manifest.verified_with.startswith("qemu-")
    assert r.verification.checks[-1] == "gzip round trip"
    out = subprocess.run(
        [*r.verification.runner, str(r.binary), "uname", "-m"], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == uname
    if arch.startswith("mips"):
        assert ".pdr" not in _section_names(r.binary)


def test_known_broken_option_is_refused_or_dropped(
    x86_64_build: BuildResult, defconfig: Any, source_tree: Path, tmp_path: Path
) -> None:
    bad = config_lines.set_values(defconfig.text, {"TC": "y"})
    with pytest.raises(UserError, match="CONFIG_TC: .*kernel headers.*fix:"):
        build(bad, defconfig.applets + ["tc"], RELEASE, "x86_64", out_dir=tmp_path, source_tree=source_tree)
    assert not any(tmp_path.iterdir())
    r = build(
        bad, defconfig.applets, RELEASE, "x86_64", out_dir=tmp_path, source_tree=source_tree, drop_broken=True
    )
    assert r.dropped == ("TC",) and "# CONFIG_TC is not set" in r.config.read_text()
    assert r.manifest.binary_sha256 == x86_64_build.manifest.binary_sha256


def test_unsupported_and_unknown_arch(
    defconfig: Any, source_tree: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from busyconf.build import arch as arch_mod

    arches = dict(arch_mod.all_arches())
    arches["armv5te"] = dataclasses.replace(arches["armv5te"], supported=False, reason="no linker")
    monkeypatch.setattr(arch_mod, "all_arches", lambda: arches)
    with pytest.raises(UserError, match="armv5te is not supported: no linker"):
        build(defconfig.text, [], RELEASE, "armv5te", out_dir=tmp_path, source_tree=source_tree)
    assert not any(tmp_path.iterdir())
    with pytest.raises(UserError, match="known: x86_64, i386, aarch64"):
        build(defconfig.text, [], RELEASE, "pdp11", out_dir=tmp_path, source_tree=source_tree)


def test_malicious_profile_strings_run_nothing(
    x86_64_build: BuildResult, defconfig: Any, source_tree: Path, tmp_path: Path
) -> None:
    marker = tmp_path / "pwned"
    evil = config_lines.set_values(
        defconfig.text,
        {
            "CROSS_COMPILER_PREFIX": f'"$(shell touch {marker})x;touch {marker};"',
            "SYSROOT": f'"`touch {marker}`"',
        },
    )
    # The gate refuses them even though the build would blank both.
    with pytest.raises(UserError, match="CONFIG_CROSS_COMPILER_PREFIX"):
        build(evil, defconfig.applets, RELEASE, "x86_64", out_dir=tmp_path / "out", source_tree=source_tree)
    assert not marker.exists()
    harmless = config_lines.set_values(
        defconfig.text, {"CROSS_COMPILER_PREFIX": '"/opt/x/bin/arm-linux-"', "SYSROOT": '"/opt/sysroot"'}
    )
    r = build(
        harmless, defconfig.applets, RELEASE, "x86_64", out_dir=tmp_path / "out", source_tree=source_tree
    )
    text = r.config.read_text()
    assert 'CONFIG_CROSS_COMPILER_PREFIX=""' in text and 'CONFIG_SYSROOT=""' in text
    worse = config_lines.set_values(defconfig.text, {"EXTRA_CFLAGS": f'"-Os $(shell touch {marker})"'})
    with pytest.raises(UserError, match="CONFIG_EXTRA_CFLAGS"):
        build(worse, defconfig.applets, RELEASE, "x86_64", out_dir=tmp_path / "out", source_tree=source_tree)
    assert not marker.exists()


_CHILD = r"""
import signal, sys, threading
from pathlib import Path
from busyconf.build import build, ProgressEvent
from busyconf.errors import Interrupted
# A shell's background job starts with SIGINT ignored; Ctrl-C must reach this one.
signal.signal(signal.SIGINT, signal.default_int_handler)
text = Path(sys.argv[1]).read_text()
applets = Path(sys.argv[2]).read_text().split()
def progress(e):
    if isinstance(e, ProgressEvent):
        print("COMPILING", flush=True)
try:
    build(text, applets, "1.38.0", "x86_64", out_dir=Path(sys.argv[3]), source_tree=Path(sys.argv[4]),
          progress=progress)
except Interrupted as exc:
    print("INTERRUPTED", exc, flush=True)
    sys.exit(130)
"""


def _toggled(defconfig: Any, source_tree: Path, symbol: str, value: str) -> Any:
    text = config_lines.set_values(defconfig.text, {symbol: value})
    return type(defconfig)(text, applets_of(text))


def test_sigint_keeps_artifacts_and_next_build_succeeds(
    x86_64_build: BuildResult, defconfig: Any, source_tree: Path, tmp_path: Path
) -> None:
    out = x86_64_build.binary.parent
    before = _digest(out)
    cfg = _toggled(defconfig, source_tree, "SEQ", "n")
    (tmp_path / "config").write_text(cfg.text)
    (tmp_path / "applets").write_text("\n".join(cfg.applets))
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            _CHILD,
            str(tmp_path / "config"),
            str(tmp_path / "applets"),
            str(out),
            str(source_tree),
        ],
        stdout=subprocess.PIPE,
        text=True,
        env=dict(os.environ),
    )
    assert child.stdout is not None
    for line in child.stdout:
        if line.startswith("COMPILING"):
            child.send_signal(signal.SIGINT)
            break
    rest = child.stdout.read()
    assert child.wait(timeout=60) == 130, rest
    assert "INTERRUPTED" in rest
    assert _digest(out) == before
    leftover = subprocess.run(
        ["pgrep", "-f", f"O={build_dir_for(RELEASE, 'x86_64', 'zig')}/obj"], capture_output=True, text=True
    )
    assert leftover.stdout == ""
    r = build(cfg.text, cfg.applets, RELEASE, "x86_64", out_dir=out, source_tree=source_tree)
    assert "seq" not in r.manifest.applets
    assert _digest(out) != before


def _make_pids(obj: Path) -> list[int]:
    pids = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            argv = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if argv and argv[0] == b"make" and f"O={obj}".encode() in argv:
            pids.append(int(proc.name))
    return pids


def test_sigkill_of_make_keeps_artifacts_and_next_build_succeeds(
    x86_64_build: BuildResult, defconfig: Any, source_tree: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    first = build(defconfig.text, defconfig.applets, RELEASE, "x86_64", out_dir=out, source_tree=source_tree)
    before = _digest(out)
    cfg = _toggled(defconfig, source_tree, "FEATURE_LS_COLOR", "n")
    obj = build_dir_for(RELEASE, "x86_64", "zig") / "obj"
    killed = threading.Event()

    def progress(e: object) -> None:
        if isinstance(e, ProgressEvent) and not killed.is_set():
            for pid in _make_pids(obj):
                os.kill(pid, signal.SIGKILL)
            killed.set()

    with pytest.raises(BuildError, match=r"make failed \(exit -9\)"):
        build(
            cfg.text, cfg.applets, RELEASE, "x86_64", out_dir=out, source_tree=source_tree, progress=progress
        )
    assert killed.is_set() and _digest(out) == before
    r = build(cfg.text, cfg.applets, RELEASE, "x86_64", out_dir=out, source_tree=source_tree)
    assert r.manifest.binary_sha256 != first.manifest.binary_sha256


def test_second_build_of_a_busy_tree_waits_its_turn(
    x86_64_build: BuildResult, defconfig: Any, source_tree: Path, tmp_path: Path
) -> None:
    """Another process holds the tree: the build says it waits; cancel ends the wait, release lets it run."""
    lock = build_dir_for(RELEASE, "x86_64", "zig") / "lock"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import fcntl,sys; f=open(sys.argv[1],'w'); fcntl.flock(f, fcntl.LOCK_EX); "
            "print('held', flush=True); sys.stdin.read()",
            str(lock),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    events: list[PhaseEvent] = []
    waiting = threading.Event()
    cancel = threading.Event()

    def progress(e: object) -> None:
        if isinstance(e, PhaseEvent):
            events.append(e)
            if e.phase == "wait":
                waiting.set()

    out = tmp_path / "out"
    args = (defconfig.text, defconfig.applets, RELEASE, "x86_64")
    with pytest.raises(Interrupted):
        threading.Timer(1.0, cancel.set).start()
        build(*args, out_dir=out, source_tree=source_tree, progress=progress, cancel=cancel)
    assert waiting.is_set() and [e.phase for e in events] == ["wait"] and not out.exists()

    waiting.clear()
    result: list[BuildResult] = []
    worker = threading.Thread(
        target=lambda: result.append(build(*args, out_dir=out, source_tree=source_tree, progress=progress))
    )
    worker.start()
    assert waiting.wait(30)
    holder.communicate("")
    worker.join(600)
    assert result and result[0].manifest.binary_sha256 == x86_64_build.manifest.binary_sha256


def test_busybox_testsuite(
    x86_64_build: BuildResult, defconfig: Any, source_tree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As under a CI runner: no SHELL in the environment (taskset's test runs `$SHELL -c`).
    monkeypatch.delenv("SHELL", raising=False)
    result = run_testsuite(defconfig.text, RELEASE, source_tree=source_tree)
    assert result.passed > 1000, result
    # Known failures (busyconf/build/known_failures.py) fail with Debian's gcc + musl-gcc too.
    assert result.unexpected == (), result.unexpected
