"""The BusyBox releases busyconf knows, with their upstream sha256.

Each hash was checked against a real release tarball (Debian's
``busybox_X.orig.tar.bz2``, byte-identical to upstream's) before it was
written here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from busyconf.errors import SourceError

UPSTREAM_URL = "https://busybox.net/downloads/busybox-{version}.tar.bz2"


@dataclass(frozen=True)
class Release:
    version: str
    sha256: str

    @property
    def filename(self) -> str:
        return f"busybox-{self.version}.tar.bz2"


RELEASES: dict[str, Release] = {
    r.version: r
    for r in (
        Release("1.35.0", "faeeb244c35a348a334f4a59e44626ee870fb07b6884d68c10ae8bc19f83a694"),
        Release("1.37.0", "3311dff32e746499f4df0d5df04d7eb396382d7e108bb9250e7b519b837043a4"),
        Release("1.38.0", "34f9ea6ff8636f2c9241153b9114eefa9e65674a45318ae1ef95bb5f31c53bb2"),
    )
}

DEFAULT_RELEASE = "1.38.0"

_VERSION_RE = re.compile(r"^\d+\.\d+\.\d+(?:\.[A-Za-z0-9]+)?$")


def version_key(version: str) -> tuple[int, ...]:
    """Sort key: ``1.38.0`` > ``1.9.1``."""
    return tuple(int(p) if p.isdigit() else -1 for p in version.split("."))


def check_version(version: str) -> str:
    """Return ``version`` if it looks like a BusyBox version, else raise."""
    if not _VERSION_RE.match(version):
        raise SourceError(f"{version!r} is not a BusyBox version (expected e.g. {DEFAULT_RELEASE})")
    return version


def known_release(version: str) -> Release:
    check_version(version)
    try:
        return RELEASES[version]
    except KeyError:
        known = ", ".join(sorted(RELEASES, key=version_key))
        raise SourceError(
            f"BusyBox {version} is not a known release (known: {known}); "
            "`busyconf source add PATH --trust` imports its tarball (its code will run here)"
        ) from None
