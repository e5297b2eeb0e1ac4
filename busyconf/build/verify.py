"""Prove a built BusyBox runs: natively or under qemu-user-static.

Its ``--list`` must equal the expected applets, and a few smoke checks (sh
arithmetic, ls, sed, sort, awk, a gzip round trip) pass for the applets and
features it has. A binary without the ``busybox`` applet (``CONFIG_BUSYBOX``
off) cannot answer ``--list``: its applet-name table is read from the binary
instead, and the checks run each applet through a symlink named after it.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from busyconf.build.arch import Arch, host_arch
from busyconf.errors import BuildError, ToolchainError


@dataclass(frozen=True)
class SmokeCheck:
    """Run applet ``argv[0]`` with ``stdin``; stdout must equal ``expect``.

    ``needs``: applets that must be enabled; ``symbols``: config options
    (without ``CONFIG_``) that must be ``y``.
    """

    name: str
    needs: tuple[str, ...]
    argv: tuple[str, ...]
    stdin: bytes
    expect: bytes
    symbols: tuple[str, ...] = ()

    def applies(self, applets: set[str], config: Mapping[str, str] | None) -> bool:
        if not set(self.needs) <= applets:
            return False
        return config is None or all(config.get(s) == "y" for s in self.symbols)


SMOKE: tuple[SmokeCheck, ...] = (
    SmokeCheck(
        "sh arithmetic",
        ("sh",),
        ("sh", "-c", "echo $((6*7)) $((1<<10))"),
        b"",
        b"42 1024\n",
        symbols=("FEATURE_SH_MATH",),
    ),
    SmokeCheck("ls", ("ls",), ("ls", "-1"), b"", b"a.txt\nb.txt\n"),
    SmokeCheck("sed", ("sed",), ("sed", "-e", "s/h/j/", "-e", "2d"), b"hello\nx\nhi\n", b"jello\nji\n"),
    SmokeCheck("sort", ("sort",), ("sort", "-n"), b"10\n9\n100\n", b"9\n10\n100\n"),
    # awk and ash keep their state behind ptr_to_globals: the first to crash
    # when a compiler hoists its reads (docs/design.md, powerpc).
    SmokeCheck(
        "awk",
        ("awk",),
        ("awk", "-F:", "function f(x) { return x * 2 } { s += f($2); n[$1]++ } END { print s, length(n) }"),
        b"a:1\nb:2\na:18\n",
        b"42 2\n",
    ),
)


@dataclass(frozen=True)
class VerifyResult:
    """``runner`` is the qemu command prefix (empty when run natively);
    ``listed`` is False when the applets came from the binary's name table
    (no ``busybox`` applet, so no ``--list``)."""

    runner: tuple[str, ...]
    applets: tuple[str, ...]
    checks: tuple[str, ...]
    listed: bool = True


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


def _listed_applets(prefix: tuple[str, ...], binary: Path, work: Path) -> list[str]:
    """The applets ``binary --list`` prints."""
    proc = _run(prefix, binary, ["--list"], b"", work)
    if proc.returncode != 0:
        err = proc.stderr.decode(errors="replace").strip().splitlines()
        raise BuildError(
            f"verify: {binary} --list exited {proc.returncode}: {err[-1] if err else 'no output'}"
        )
    return sorted(set(proc.stdout.decode().split()))


def _table_applets(binary: Path, expected: list[str]) -> list[str]:
    """``expected`` when the binary holds exactly that applet-name table.

    Without the ``busybox`` applet there is no ``--list``; BusyBox keeps the
    names as one sorted, NUL-separated string (``applet_names``), so the
    expected table must appear in the binary as a whole, bounded by NULs.
    Weaker than ``--list``: an extra applet sorting before the first or after
    the last expected one would go unnoticed.
    """
    if len(expected) < 2:
        # A single-applet binary has no name table; running it is the check.
        return expected
    table = b"\0" + b"\0".join(name.encode() for name in expected) + b"\0"
    data = binary.read_bytes()
    if table not in data:
        raise BuildError(
            f"verify: {binary} was built without CONFIG_BUSYBOX (no --list) and its applet-name "
            "table differs from the config"
        )
    return expected


def verify(
    binary: Path,
    arch: Arch,
    expected_applets: Iterable[str],
    config: Mapping[str, str] | None = None,
) -> VerifyResult:
    """Check ``binary``'s applets and run the smoke checks; raise BuildError on a mismatch.

    ``config`` (symbol -> value, without ``CONFIG_``) decides which smoke
    checks apply and whether the ``busybox`` applet exists; without it every
    check whose applets are present runs and ``--list`` is used.
    """
    prefix = runner_for(arch)
    expected = sorted(set(expected_applets))
    multicall = config is None or config.get("BUSYBOX") == "y"
    with tempfile.TemporaryDirectory(prefix="busyconf-verify-") as tmp:
        work = Path(tmp) / "work"
        links = Path(tmp) / "bin"
        work.mkdir()
        if multicall:
            got = _listed_applets(prefix, binary, work)
            if got != expected:
                missing = sorted(set(expected) - set(got))
                extra = sorted(set(got) - set(expected))
                raise BuildError(
                    f"verify: {binary} --list differs from the config: "
                    f"missing {missing[:10]}, extra {extra[:10]}"
                )
        else:
            got = _table_applets(binary, expected)
            links.mkdir()
            for name in got:
                if "/" not in name:
                    (links / name).symlink_to(binary.resolve())

        def run(argv: Sequence[str], stdin: bytes) -> subprocess.CompletedProcess[bytes]:
            if multicall:
                return _run(prefix, binary, argv, stdin, work)
            # Called through a link named after the applet, as an installed system does.
            return _run(prefix, links / argv[0], argv[1:], stdin, work)

        have = set(got)
        ran: list[str] = [] if multicall else ["applet-name table"]
        (work / "a.txt").write_text("a\n")
        (work / "b.txt").write_text("b\n")
        for check in SMOKE:
            if not check.applies(have, config):
                continue
            proc = run(check.argv, check.stdin)
            if proc.returncode != 0 or proc.stdout != check.expect:
                raise BuildError(
                    f"verify: smoke check {check.name!r} failed: exit {proc.returncode}, "
                    f"stdout {proc.stdout[:80]!r}, expected {check.expect!r}"
                )
            ran.append(check.name)
        if {"gzip", "gunzip"} <= have:
            data = b"".join(b"line %d of the gzip round trip\n" % i for i in range(2000))
            packed = run(["gzip", "-c"], data)
            unpacked = run(["gunzip", "-c"], packed.stdout)
            if packed.returncode or unpacked.returncode or unpacked.stdout != data:
                raise BuildError("verify: smoke check 'gzip round trip' failed")
            ran.append("gzip round trip")
    return VerifyResult(prefix, tuple(got), tuple(ran), multicall)
