"""Transfers: compile-level toggles measured for another CPU or release, scaled to this reference.

A transfer builds this CPU's references on this release's tree and relinks
them per applet here (the link level is always measured on the target);
only the symbol toggles, the hour-long part of a calibration, come from a
*donor*: the measurements (:mod:`.measurements`) of a natively measured
table. Symbols the donor never toggled (new in this release) are toggled
here. A lent toggle's bytes are scaled section by section, by what the
same section (else its object, else its kind: code, read-only data...)
weighs in the two CPUs' per-applet links (Thumb-2 shrinks code by a quarter
and leaves strings as they are),
its sections are renamed to this tree's, and what its code reaches only
while on (``reach``: FEATURE_SEAMLESS_XZ's decoder in man) comes along.
Donors are found beside the user's tables, then among the tables shipped
in the package.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from importlib import resources

from busyconf.errors import UserError
from busyconf.size import table
from busyconf.size.calibration.measurements import Measurements, decode, measurements_path, read_measurements
from busyconf.size.calibration.records import Relinks, Toggle
from busyconf.size.linkmap import object_of, portable
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


def _shipped_transfer(key: TableKey) -> bool:
    """True when ``key``'s donor would be shipped measurements of a transfer.

    The shipped table's info tells it in milliseconds; decoding the measurements
    to learn it took some 0.5 s per table.
    """
    own = measurements_path(table.user_table_path(key)).is_file()
    return not own and table.shipped_kind(key).startswith("transferred")


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
        if _shipped_transfer(key):
            continue
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
    donor: Donor,
    reference: str,
    ref_size: int,
    symbols: set[str],
    relinks: Relinks | None = None,
    forced: frozenset[str] | set[str] = frozenset(),
) -> tuple[dict[str, Toggle], str]:
    """The donor's toggles around ``reference`` ("full", "sparse") for ``symbols``, scaled to ``ref_size``.

    ``relinks``: the target reference's per-applet links, to scale by section kind and rename sections.
    The donor's forced toggles are lent only for ``forced`` (:func:`forced_lent`).
    """
    m = donor.measurements
    ref = m.full if reference == "full" else m.sparse
    if ref is None:
        raise UserError(f"{donor.where}: the measurements have no {reference} reference to transfer")
    theirs = {n: t for n, t in ref.toggles.items() if (n in symbols and not t.forced) or n in forced}
    where = f"{donor.where}: the {reference} reference"
    sections = None if relinks is None else (SectionMap.of(ref.relinks), SectionMap.of(relinks))
    return scaled(theirs, ref.size, ref_size, where, m.arch, m.release, sections)


def _toggles(donor: Donor | None, reference: str) -> dict[str, Toggle]:
    """``donor``'s toggles around ``reference`` ("full", "sparse"); none without one."""
    m = None if donor is None else donor.measurements
    ref = None if m is None else m.full if reference == "full" else m.sparse
    return {} if ref is None else ref.toggles


def forced_lent(donor: Donor | None, reference: str, selected: list[str]) -> set[str]:
    """The selected symbols whose forced-off toggle a transfer takes from ``donor``.

    One that did not build there (LONG_OPTS forced off around defconfig) is
    lent as not built: the headers fail to compile on any CPU, after a
    minute of trying.
    """
    theirs = _toggles(donor, reference)
    return {n for n in selected if (t := theirs.get(n)) is not None and t.forced}


def lent_failed(donor: Donor | None, reference: str, name: str) -> bool:
    """Whether ``donor``'s toggle of ``name`` around ``reference`` could not be built."""
    t = _toggles(donor, reference).get(name)
    return t is not None and t.failed


#: Kinds of section a lent toggle's bytes are scaled by, each by its own ratio.
KINDS = (".text", ".rodata", ".data.rel.ro", ".data", ".bss")
#: Fewer bytes of a kind in both links than this: that kind takes the reference sizes' ratio.
MIN_KIND_BYTES = 4096


def section_kind(key: str) -> str:
    section = key.partition(":(")[2]
    return next((k for k in KINDS if section.startswith(k)), "other")


@dataclass(frozen=True)
class SectionMap:
    """A reference's input sections by :func:`portable` name: (name in its links, largest size)."""

    sections: dict[str, tuple[str, int]]

    @classmethod
    def of(cls, relinks: Relinks) -> SectionMap:
        out: dict[str, tuple[str, int]] = {}
        for link in relinks.links.values():
            for key, size in link.sections.items():
                p = portable(key)
                if size > out.get(p, ("", -1))[1]:
                    out[p] = (key, size)
        return cls(out)


#: Fewer bytes of a section (an object) in the donor's links: it takes its object's (kind's) ratio.
MIN_SECTION_BYTES = 16
MIN_OBJECT_BYTES = 64


def kind_ratios(theirs: SectionMap, ours: SectionMap, fallback: float) -> dict[str, float]:
    """Per section kind: our bytes / theirs over the sections both links have (else ``fallback``)."""
    sums: dict[str, list[int]] = {}
    for p, (_, size) in theirs.sections.items():
        mine = ours.sections.get(p)
        if mine is not None and size > 0:
            acc = sums.setdefault(section_kind(p), [0, 0])
            acc[0] += mine[1]
            acc[1] += size
    out = {k: fallback for k in (*KINDS, "other")}
    out.update({k: a[0] / a[1] for k, a in sums.items() if min(a) >= MIN_KIND_BYTES})
    return out


@dataclass(frozen=True)
class Ratios:
    """Our bytes over the donor's: per section both links hold, per object, per kind of section."""

    section: dict[str, float]
    obj: dict[str, float]
    kind: dict[str, float]

    @classmethod
    def of(cls, theirs: SectionMap, ours: SectionMap, fallback: float) -> Ratios:
        section: dict[str, float] = {}
        objects: dict[str, list[int]] = {}
        for p, (_, size) in theirs.sections.items():
            mine = ours.sections.get(p)
            if mine is None or size <= 0:
                continue
            if size >= MIN_SECTION_BYTES:
                section[p] = mine[1] / size
            acc = objects.setdefault(object_of(p), [0, 0])
            acc[0] += mine[1]
            acc[1] += size
        obj = {o: a[0] / a[1] for o, a in objects.items() if a[1] >= MIN_OBJECT_BYTES}
        return cls(section, obj, kind_ratios(theirs, ours, fallback))

    def __call__(self, key: str) -> float:
        """The ratio for a donor's section: its own, else its object's, else its kind's."""
        p = portable(key)
        found = self.section.get(p)
        if found is None:
            found = self.obj.get(object_of(p))
        return found if found is not None else self.kind[section_kind(p)]


def scaled(
    toggles: dict[str, Toggle],
    their_size: int,
    ref_size: int,
    what: str,
    arch: str,
    release: str = "",
    sections: tuple[SectionMap, SectionMap] | None = None,
) -> tuple[dict[str, Toggle], str]:
    """``toggles`` measured around a reference of ``their_size``, scaled to ``ref_size`` (pure).

    With ``sections`` (the donor's and the target's :class:`SectionMap`), each
    section's bytes take the ratio :class:`Ratios` gives it (the same
    section's on both CPUs, else its object's, else its kind's), sections are
    renamed to the target's, and ``reach`` is kept (sizes the target's);
    without, every byte takes the ratio of the reference sizes.
    """
    if not toggles:
        raise UserError(f"{what} measured no toggles to transfer")
    ratio = ref_size / their_size
    where = f"{release} on {arch}" if release else arch
    if sections is None:
        out = {
            name: Toggle(
                flip=t.flip,
                changed=t.changed,
                size=ref_size + round((t.size - their_size) * ratio),
                diff={k: round(d * ratio) for k, d in t.diff.items()},
                forced=t.forced,
                failed=t.failed,
            )
            for name, t in toggles.items()
        }
        return out, f"compile-level costs measured for {where}, scaled x{ratio:.3f} (reference sizes)"
    theirs, ours = sections
    ratios = Ratios.of(theirs, ours, ratio)

    def renamed(key: str) -> str:
        hit = ours.sections.get(portable(key))
        return key if hit is None else hit[0]

    out = {}
    for name, t in toggles.items():
        diff: dict[str, int] = {}
        for k, d in t.diff.items():
            new = renamed(k)
            diff[new] = diff.get(new, 0) + round(d * ratios(k))
        # What the link maps do not name (alignment, headers) scales with the reference.
        rest = (t.size - their_size) - sum(t.diff.values())
        reach = None
        if t.reach is not None:
            reach = {}
            for k, v in t.reach.items():
                hit = ours.sections.get(portable(k))
                reach[hit[0] if hit else k] = hit[1] if hit else round(v * ratios(k))
        out[name] = Toggle(
            flip=t.flip,
            changed=t.changed,
            size=ref_size + sum(diff.values()) + round(rest * ratio),
            diff=diff,
            forced=t.forced,
            failed=t.failed,
            reach=reach,
        )
    shown = ", ".join(f"{k.lstrip('.')} x{ratios.kind[k]:.3f}" for k in (".text", ".rodata", ".data"))
    return out, f"compile-level costs measured for {where}, scaled per section ({shown} overall)"


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
