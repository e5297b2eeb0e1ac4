"""Tests of BusyBox's own suite that fail on a correct musl build (data + a lookup).

Each was checked against a Debian gcc + musl-gcc build of the same
configuration (``bench/build_vs_gcc.py --check``): it fails there too, so
the cause is the test's environment or musl, not busyconf's toolchain.
``busyconf test`` reports them as known and exits 0 when nothing else fails.

A few fail only when the suite runs another CPU's binary under qemu-user
(``under_qemu``): a test that copies ``busybox`` into a chroot and execs it
there cannot work without binfmt_misc. Each was checked by hand under qemu
with qemu-user copied into the chroot, where it passes (docs/design.md).
"""

from __future__ import annotations

from dataclasses import dataclass

from busyconf.build.arch import in_release_range


@dataclass(frozen=True)
class KnownFailure:
    """One test (as ``make check`` names it) and why it fails; releases inclusive.

    ``under_qemu``: it fails only when the binary runs under qemu-user.
    """

    test: str
    reason: str
    min_release: str | None = None
    max_release: str | None = None
    under_qemu: bool = False


_NET = "fetches from a public web server; no network here"
_NUL = "NUL bytes in sed's input or script"
_LSQ = "ls -q/-Q quoting of non-printable names"
_SAME = "; fails the same way with Debian's gcc and musl-gcc"

_MDEV = (
    "copies busybox into a chroot and runs it there: no binfmt_misc, so the kernel cannot exec it "
    "(the qemu-user script copied as /mdev and /bin/sh loops: ELOOP); passes natively"
)
_MDEV_TESTS = (
    "mdev add /block/sda",
    "mdev deletes /block/sda",
    "mdev stops on first rule",
    "mdev does not stop on dash-rule",
    "mdev $ENVVAR=regex match",
    "mdev move/symlink rule '>bar/baz'",
    "mdev move/symlink rule '>bar/'",
    "mdev move rule '=bar/baz/fname'",
    "mdev regexp substring match + replace",
    "mdev command",
    "mdev move and command",
    "mdev #maj,min and no explicit uid",
    "move rule does not delete node with name == device_name",
)

KNOWN_FAILURES: tuple[KnownFailure, ...] = tuple(
    KnownFailure(test, _MDEV, "1.38.0", "1.38.0", under_qemu=True) for test in _MDEV_TESTS
) + tuple(
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


def known_failure(test: str, release: str, *, under_qemu: bool = False) -> KnownFailure | None:
    """The entry for ``test`` in ``release``, if its failure is known (``under_qemu``: the
    suite ran the binary under qemu-user, which adds the entries only qemu-user causes)."""
    for k in KNOWN_FAILURES:
        if k.test != test or (k.under_qemu and not under_qemu):
            continue
        if in_release_range(release, k.min_release, k.max_release):
            return k
    return None
