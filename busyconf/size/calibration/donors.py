"""Transfers: compile-level toggles measured for another CPU or release, scaled to this reference.

A transfer builds this CPU's references on this release's tree and relinks
them per applet here (the link level is always measured on the target);
only the symbol toggles, the hour-long part of a calibration, come from a
*donor*: the measurements (:mod:`.measurements`) of a natively measured
table. Symbols the donor never toggled (new in this release) are toggled
here. Donors are found beside the user's tables, then among the tables
shipped in the package.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from importlib import resources

from busyconf.errors import UserError
from busyconf.size import table
from busyconf.size.calibration.measurements import Measurements, decode, measurements_path, read_measurements
from busyconf.size.calibration.records import Toggle
from busyconf.size.table import TableKey
from busyconf.source.releases import version_key

_SUFFIX = ".measurements.json.xz"
_NAME = re.compile(r"^(\d+\.\d+\.\d+)-([a-z0-9_]+)-([a-z0-9_-]+)" + re.escape(_SUFFIX) + "$")


@dataclass(frozen=True)
class Donor:
    """A natively measured table's measurements, and where they were read."""

    measurements: Measurements
    where: str

    @property
    def label(self) -> str:
        """``1.38.0/x86_64``: how a transfer names its donor."""
        return f"{self.measurements.release}/{self.measurements.arch}"


def parse_source(text: str) -> tuple[str | None, str | None]:
    """``x86_64``, ``1.38.0`` or ``1.38.0/x86_64`` as (release, arch); either may be None."""
    release, _, arch = text.rpartition("/")
    if release:
        return release, arch
    if text[:1].isdigit():
        return text, None
    return None, text


def _shipped_names() -> dict[str, str]:
    """File name -> package-relative path of every shipped measurements file."""
    folder = resources.files("busyconf.size").joinpath("tables")
    return {p.name: f"busyconf/size/tables/{p.name}" for p in folder.iterdir() if p.name.endswith(_SUFFIX)}


def candidates(toolchain: str) -> list[TableKey]:
    """Every (release, arch) with measurements for ``toolchain``: the user's and the shipped ones."""
    names = set(_shipped_names())
    folder = table.user_table_path(TableKey("0", "x", toolchain)).parent
    if folder.is_dir():
        names |= {p.name for p in folder.iterdir() if p.name.endswith(_SUFFIX)}
    slug = toolchain.rstrip("-") or "cross"
    out: set[TableKey] = set()
    for name in names:
        m = _NAME.match(name)
        if m and m.group(3) == slug:
            out.add(TableKey(m.group(1), m.group(2), toolchain))
    return sorted(out, key=lambda k: (version_key(k.release), k.arch))


def load_donor(key: TableKey) -> Donor | None:
    """The measurements for ``key``: the user's (beside their table), else the shipped ones."""
    path = measurements_path(table.user_table_path(key))
    if path.is_file():
        return Donor(read_measurements(path), str(path))
    name = path.name
    shipped = _shipped_names().get(name)
    if shipped is None:
        return None
    data = resources.files("busyconf.size").joinpath("tables").joinpath(name).read_bytes()
    return Donor(decode(data, shipped), shipped)


def _native(donor: Donor | None) -> Donor | None:
    """Only a natively measured donor lends: a transfer of a transfer would compound the scaling."""
    if donor is None or donor.measurements.full.donor:
        return None
    return donor


def find_donor(release: str, arch: str, toolchain: str, source: str | None) -> Donor:
    """The donor a transfer to (release, arch) takes its toggles from.

    ``source`` names it (``x86_64``, ``1.38.0``, ``1.38.0/x86_64``: a CPU
    means this release, a release this CPU); without it, the nearest: this
    CPU at the nearest measured release, else this release on another CPU
    (x86_64 first, then by name), else the nearest release on any CPU.
    """
    if source is not None:
        r, a = parse_source(source)
        key = TableKey(r or release, a or arch, toolchain)
        if (key.release, key.arch) == (release, arch):
            raise UserError(f"--transfer {source}: that is the table being made; name another CPU or release")
        donor = _native(load_donor(key))
        if donor is None:
            raise UserError(
                f"--transfer {source}: no measurements of {key.release} on {key.arch} to transfer from "
                f"(measure them with: {key.recalibrate})"
            )
        return donor
    keys = [k for k in candidates(toolchain) if (k.release, k.arch) != (release, arch)]
    target = version_key(release)

    def distance(k: TableKey) -> tuple[int, float, int, str]:
        release_gap = _release_gap(version_key(k.release), target)
        return (
            0 if k.arch == arch else 1 if k.release == release else 2,
            release_gap,
            0 if k.arch == "x86_64" else 1,
            k.arch,
        )

    for key in sorted(keys, key=distance):
        donor = _native(load_donor(key))
        if donor is not None:
            return donor
    raise UserError(
        f"no measured size table to transfer from for {release} on {arch}; "
        f"measure one with: {TableKey(release, arch, toolchain).recalibrate}"
    )


def _release_gap(a: tuple[int, ...], b: tuple[int, ...]) -> float:
    """How far two releases are apart (minor versions count most)."""
    width = max(len(a), len(b))
    pa, pb = (*a, *(0,) * (width - len(a))), (*b, *(0,) * (width - len(b)))
    return math.fsum(abs(x - y) * 1000.0**-i for i, (x, y) in enumerate(zip(pa, pb, strict=True)))


def lent_toggles(
    donor: Donor, reference: str, ref_size: int, symbols: set[str]
) -> tuple[dict[str, Toggle], str]:
    """The donor's toggles around ``reference`` ("full", "sparse") for ``symbols``, scaled to ``ref_size``."""
    m = donor.measurements
    ref = m.full if reference == "full" else m.sparse
    if ref is None:
        raise UserError(f"{donor.where}: the measurements have no {reference} reference to transfer")
    theirs = {n: t for n, t in ref.toggles.items() if n in symbols and not t.forced}
    return scaled(theirs, ref.size, ref_size, f"{donor.where}: the {reference} reference", m.arch, m.release)


def scaled(
    toggles: dict[str, Toggle], their_size: int, ref_size: int, what: str, arch: str, release: str = ""
) -> tuple[dict[str, Toggle], str]:
    """``toggles`` measured around a reference of ``their_size``, scaled to ``ref_size`` (pure)."""
    if not toggles:
        raise UserError(f"{what} measured no toggles to transfer")
    ratio = ref_size / their_size
    out = {
        name: Toggle(
            flip=t.flip,
            changed=t.changed,
            size=ref_size + round((t.size - their_size) * ratio),
            diff={k: round(d * ratio) for k, d in t.diff.items()},
            failed=t.failed,
        )
        for name, t in toggles.items()
    }
    where = f"{release} on {arch}" if release else arch
    return out, f"compile-level costs measured for {where}, scaled x{ratio:.3f} (reference sizes)"


@dataclass(frozen=True)
class Offer:
    """What makes a missing table: a transfer from ``donor`` (minutes), else a calibration (hours)."""

    key: TableKey
    donor: str | None

    @property
    def command(self) -> str:
        if self.donor is None:
            return self.key.recalibrate
        return f"{self.key.recalibrate} --transfer {self.donor}"

    @property
    def text(self) -> str:
        missing = f"no size table for {self.key.release} on {self.key.arch}"
        if self.donor is None:
            return f"{missing}; calibrate one (hours): {self.command}"
        return f"{missing}; transfer one from {self.donor} (minutes): {self.command}"


def offer(key: TableKey) -> Offer:
    """How to make the table for ``key``: the transfer :func:`find_donor` would pick, else calibration."""
    try:
        donor = find_donor(key.release, key.arch, key.toolchain, None)
    except UserError:
        return Offer(key, None)
    return Offer(key, donor.label)
