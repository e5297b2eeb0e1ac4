"""Tests of BusyBox's own suite that fail on a correct musl build (data + a lookup).

Each was checked against a Debian gcc + musl-gcc build of the same
configuration (``bench/build_vs_gcc.py --check``): it fails there too, so
the cause is the test's environment or musl, not busyconf's toolchain.
``busyconf test`` reports them as known and exits 0 when nothing else fails.
"""

from __future__ import annotations

from dataclasses import dataclass

from busyconf.build.arch import in_release_range


@dataclass(frozen=True)
class KnownFailure:
    """One test (as ``make check`` names it) and why it fails; releases inclusive."""

    test: str
    reason: str
    min_release: str | None = None
    max_release: str | None = None


_NET = "fetches from a public web server; no network here"
_NUL = "NUL bytes in sed's input or script"
_LSQ = "ls -q/-Q quoting of non-printable names"
_SAME = "; fails the same way with Debian's gcc and musl-gcc"

KNOWN_FAILURES: tuple[KnownFailure, ...] = tuple(
    KnownFailure(test, reason + _SAME, "1.38.0", "1.38.0")
    for test, reason in (
        ("awk gsub erroneous word start match", "awk regex word-start matching"),
        ("cpio lists hardlinks", "cpio hard links"),
        ("date-timezone", "time zone names"),
        ("ls -Q", _LSQ),
        ("ls -q", _LSQ),
        ("ls -qQ", _LSQ),
        ("mount -o remount,mand", "mount with mandatory locking"),
        ("sed NUL in command", _NUL),
        ("sed embedded NUL", _NUL),
        ("sed nonexistent label", "sed's error for a missing label"),
        ("wget--O-overrides--P", _NET),
        ("wget-handles-empty-path", _NET),
        ("wget-retrieves-google-index", _NET),
        ("wget-supports--P", _NET),
    )
)


def known_failure(test: str, release: str) -> KnownFailure | None:
    """The entry for ``test`` in ``release``, if its failure is known."""
    for k in KNOWN_FAILURES:
        if k.test == test and in_release_range(release, k.min_release, k.max_release):
            return k
    return None
