"""Prove a built BusyBox runs: natively or under qemu-user-static.

Its ``--list`` must equal the expected applets, and a few smoke checks (sh
arithmetic, ls, sed, sort, a gzip round trip) pass for the applets it has.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from busyconf.build.arch import Arch, host_arch
from busyconf.errors import BuildError, ToolchainError

_IF = re.compile(r"\s*IF_(NOT_)?([A-Za-z0-9_]+)\(")
_APPLET = re.compile(r"\s*APPLET\w*\(\s*([^,\s)]+)")


@dataclass(frozen=True)
class SmokeCheck:
    """Run ``busybox *argv`` with ``stdin``; stdout must equal ``expect``."""

    name: str
    needs: tuple[str, ...]
    argv: tuple[str, ...]
    stdin: bytes
    expect: bytes


SMOKE: tuple[SmokeCheck, ...] = (
    SmokeCheck("sh arithmetic", ("sh",), ("sh", "-c", "echo $((6*7)) $((1<<10))"), b"", b"42 1024\n"),
    SmokeCheck("ls", ("ls",), ("ls", "-1"), b"", b"a.txt\nb.txt\n"),
    SmokeCheck("sed", ("sed",), ("sed", "-e", "s/h/j/", "-e", "2d"), b"hello\nx\nhi\n", b"jello\nji\n"),
    SmokeCheck("sort", ("sort",), ("sort", "-n"), b"10\n9\n100\n", b"9\n10\n100\n"),
)


@dataclass(frozen=True)
class VerifyResult:
    """``runner`` is the qemu command prefix (empty when run natively)."""

    runner: tuple[str, ...]
    applets: tuple[str, ...]
    checks: tuple[str, ...]


def runner_for(arch: Arch) -> tuple[str, ...]:
    """How to run a binary for ``arch`` here: natively or through qemu-user."""
    if host_arch() == arch.name:
        return ()
    qemu = shutil.which(arch.qemu)
    if qemu is None:
        raise ToolchainError(
            f"{arch.qemu} not found: install Debian's qemu-user-static to run {arch.name} binaries"
        )
    return (qemu, *arch.qemu_args)


def _applet_if_enabled(rest: str, values: Mapping[str, str]) -> str | None:
    """``IF_A(IF_NOT_B(APPLET(name, ...)))`` -> ``name`` when A is on and B off."""
    pos = 0
    while m := _IF.match(rest, pos):
        on = values.get(m.group(2), "n") == "y"
        if on == bool(m.group(1)):
            return None
        pos = m.end()
    m = _APPLET.match(rest, pos)
    return m.group(1) if m and pos > 0 else None


def applets_from_source(srctree: Path, values: Mapping[str, str]) -> list[str]:
    """Applets a .config enables, from the ``//applet:IF_X(APPLET(name...`` lines.

    A model-free fallback for tests and benchmarks; the model is the authority.
    """
    names: set[str] = set()
    for path in srctree.rglob("*.c"):
        text = path.read_text(errors="replace")
        if "//applet:" not in text:
            continue
        for line in text.splitlines():
            if line.startswith("//applet:"):
                name = _applet_if_enabled(line.removeprefix("//applet:"), values)
                if name:
                    names.add(name)
    return sorted(names)


def _run(
    prefix: tuple[str, ...], binary: Path, argv: Iterable[str], stdin: bytes, cwd: Path
) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(
            [*prefix, str(binary), *argv],
            input=stdin,
            capture_output=True,
            cwd=cwd,
            timeout=60,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise BuildError(f"verify: {binary.name} {' '.join(argv)} timed out") from exc
    except OSError as exc:
        raise BuildError(f"verify: cannot run {binary}: {exc.strerror}") from exc


def verify(binary: Path, arch: Arch, expected_applets: Iterable[str]) -> VerifyResult:
    """Run ``binary``'s ``--list`` and the smoke checks; raise BuildError on a mismatch."""
    prefix = runner_for(arch)
    expected = sorted(set(expected_applets))
    with tempfile.TemporaryDirectory(prefix="busyconf-verify-") as tmp:
        work = Path(tmp)
        proc = _run(prefix, binary, ["--list"], b"", work)
        if proc.returncode != 0:
            err = proc.stderr.decode(errors="replace").strip().splitlines()
            raise BuildError(
                f"verify: {binary} --list exited {proc.returncode}: {err[-1] if err else 'no output'}"
            )
        got = sorted(set(proc.stdout.decode().split()))
        if got != expected:
            missing = sorted(set(expected) - set(got))
            extra = sorted(set(got) - set(expected))
            raise BuildError(
                f"verify: {binary} --list differs from the config: missing {missing[:10]}, extra {extra[:10]}"
            )
        have = set(got)
        ran: list[str] = []
        (work / "a.txt").write_text("a\n")
        (work / "b.txt").write_text("b\n")
        for check in SMOKE:
            if not set(check.needs) <= have:
                continue
            proc = _run(prefix, binary, check.argv, check.stdin, work)
            if proc.returncode != 0 or proc.stdout != check.expect:
                raise BuildError(
                    f"verify: smoke check {check.name!r} failed: exit {proc.returncode}, "
                    f"stdout {proc.stdout[:80]!r}, expected {check.expect!r}"
                )
            ran.append(check.name)
        if {"gzip", "gunzip"} <= have:
            data = b"".join(b"line %d of the gzip round trip\n" % i for i in range(2000))
            packed = _run(prefix, binary, ["gzip", "-c"], data, work)
            unpacked = _run(prefix, binary, ["gunzip", "-c"], packed.stdout, work)
            if packed.returncode or unpacked.returncode or unpacked.stdout != data:
                raise BuildError("verify: smoke check 'gzip round trip' failed")
            ran.append("gzip round trip")
    return VerifyResult(prefix, tuple(got), tuple(ran))
