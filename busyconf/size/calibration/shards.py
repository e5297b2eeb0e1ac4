"""A calibration split into shards that run apart, and the shards' partial results merged.

Toggling every symbol around each reference (:mod:`.toggles`) is most of a
calibration's time, and each toggle is measured on its own. Shard ``K`` of
``N`` measures everything every shard needs (the references' builds,
relinks, the forced toggles and their reach, the usage texts, the ladder)
and, of the toggles, the units (:func:`.toggles.units`: one symbol, or a
group measured together) ``K-1``, ``K-1+N``, ... of the order a fresh,
unsharded run measures them in (cheapest first, so the shards take turns
at the cheap and the dear ones).

A shard writes a :class:`Partial`: its measurements, the shard, the table's
key, busyconf's version and the calibration's *identity* (a digest of the
reference configurations and of the full candidate lists). :func:`merge`
refuses partials of different calibrations, a shard twice or missing, and
shared measurements that differ; it puts the toggles back in the unsharded
order, so the merged measurements, and the table re-fit from them, are the
same bytes an unsharded run writes.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from busyconf import __version__
from busyconf.errors import UserError
from busyconf.savefile import write_atomic
from busyconf.size.calibration.measurements import Measurements, Reference, read_xz_json, xz_json
from busyconf.size.calibration.records import Json, Toggle
from busyconf.size.table import TableKey

#: Version of the partial file (a merge refuses another).
PARTIAL_FORMAT = 1
#: What a partial file says it is (a table's measurements file has no ``kind``).
PARTIAL_KIND = "busyconf calibration shard"


@dataclass(frozen=True)
class Shard:
    """Shard ``index`` (from 1) of ``count``."""

    index: int
    count: int

    @classmethod
    def parse(cls, text: str) -> Shard:
        """``K/N`` (1 <= K <= N); a one-line :class:`UserError` else."""
        match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text)
        if match is None or not 1 <= int(match[1]) <= int(match[2]):
            raise UserError(f"--shard {text}: give K/N with 1 <= K <= N (e.g. 1/4)")
        return cls(int(match[1]), int(match[2]))

    def take(self, units: Sequence[Sequence[str]]) -> set[str]:
        """The names of this shard's units: round robin over ``units``."""
        return {n for unit in units[self.index - 1 :: self.count] for n in unit}

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


@dataclass(frozen=True)
class Split:
    """How one reference's toggles split between shards.

    ``shared``: the forced toggles, measured by every shard, in the order
    measured; ``order``: the others, in the order an unsharded run measures
    them; ``identity``: digest of the reference's configuration and of its
    candidate lists.
    """

    shared: tuple[str, ...]
    order: tuple[str, ...]
    identity: str

    @classmethod
    def of(
        cls, config: str, selected: Sequence[str], candidates: Sequence[str], order: Sequence[str]
    ) -> Split:
        doc = json.dumps([config, list(selected), list(candidates)], separators=(",", ":"))
        return cls(tuple(selected), tuple(order), hashlib.sha256(doc.encode()).hexdigest())

    def to_json(self) -> Json:
        return {"shared": list(self.shared), "order": list(self.order), "identity": self.identity}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Split:
        return cls(
            tuple(str(n) for n in data["shared"]), tuple(str(n) for n in data["order"]), str(data["identity"])
        )


@dataclass(frozen=True)
class Partial:
    """One shard's result: its measurements (shared toggles and its own) and what merging checks."""

    shard: Shard
    version: str
    splits: dict[str, Split]
    measurements: Measurements

    @property
    def identity(self) -> str:
        """The calibration's identity: a digest of every reference's :attr:`Split.identity`."""
        doc = json.dumps({k: s.identity for k, s in sorted(self.splits.items())}, sort_keys=True)
        return hashlib.sha256(doc.encode()).hexdigest()[:16]

    def to_json(self) -> Json:
        return {
            "format": PARTIAL_FORMAT,
            "kind": PARTIAL_KIND,
            "shard": self.shard.index,
            "shards": self.shard.count,
            "busyconf": self.version,
            "identity": self.identity,
            "splits": {k: s.to_json() for k, s in self.splits.items()},
            "measurements": self.measurements.to_json(),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Partial:
        shard = Shard(int(data["shard"]), int(data["shards"]))
        if not 1 <= shard.index <= shard.count:
            raise ValueError(f"shard {shard}")
        splits = {str(k): Split.from_json(s) for k, s in data["splits"].items()}
        out = cls(shard, str(data["busyconf"]), splits, Measurements.from_json(data["measurements"]))
        if out.identity != data["identity"]:
            raise ValueError("its identity does not match its references")
        return out


def partial_path(directory: Path, key: TableKey, shard: Shard) -> Path:
    """``1.38.0-x86_64-zig.shard-2-of-4.measurements.json.xz`` in ``directory``."""
    stem = key.filename.removesuffix(".json")
    return directory / f"{stem}.shard-{shard.index}-of-{shard.count}.measurements.json.xz"


def partial(shard: Shard, splits: dict[str, Split], m: Measurements) -> Partial:
    """The partial result of a shard that measured ``m`` (its toggles: the shared ones and its own)."""
    return Partial(shard, __version__, splits, m)


def encode_partial(p: Partial) -> bytes:
    """Deterministic bytes, as :func:`.measurements.encode` writes them."""
    return xz_json(p.to_json())


def write_partial(p: Partial, path: Path) -> None:
    write_atomic(path, encode_partial(p))


def read_partial(path: Path) -> Partial:
    """The partial at ``path``; a one-line :class:`UserError` naming it when it is not one."""
    try:
        data = path.read_bytes()
    except OSError as e:
        raise UserError(f"{path}: cannot read it ({e.strerror or e})") from None
    doc = read_xz_json(data, str(path), "a calibration shard's partial result")
    if not isinstance(doc, dict) or doc.get("kind") != PARTIAL_KIND:
        whole = isinstance(doc, dict) and "full" in doc
        what = "a calibration's measurements" if whole else "something else"
        raise UserError(f"{path}: not a calibration shard's partial result ({what}; made with --shard K/N)")
    if doc.get("format") != PARTIAL_FORMAT:
        raise UserError(
            f"{path}: shard of format {doc.get('format')!r}, this busyconf merges {PARTIAL_FORMAT}"
        )
    try:
        return Partial.from_json(doc)
    except (KeyError, TypeError, ValueError, AttributeError) as e:
        raise UserError(f"{path}: malformed shard ({type(e).__name__}: {e})") from None


def _shared(p: Partial) -> str:
    """What every shard measures alike: the measurements without the shard's own toggles, and the splits."""
    m = p.measurements

    def kept(name: str, ref: Reference) -> Reference:
        split = p.splits.get(name)
        return replace(ref, toggles=_only(ref.toggles, split.shared)) if split is not None else ref

    low = None if m.sparse is None else kept("sparse", m.sparse)
    doc = replace(m, full=kept("full", m.full), sparse=low).to_json()
    return json.dumps([doc, {k: s.to_json() for k, s in p.splits.items()}], sort_keys=True)


def _only(toggles: Mapping[str, Toggle], names: Iterable[str]) -> dict[str, Toggle]:
    keep = set(names)
    return {n: t for n, t in toggles.items() if n in keep}


def merge(partials: Sequence[tuple[Path, Partial]]) -> Measurements:
    """The measurements of the whole calibration; a one-line :class:`UserError` naming the odd file out."""
    if not partials:
        raise UserError("--merge: give the partial files of every shard")
    first_path, first = partials[0]
    m0 = first.measurements
    seen: dict[int, Path] = {}
    for path, p in partials:
        m = p.measurements
        theirs = (m.release, m.arch, m.toolchain, m.toolchain_version, m.tools_digest, p.shard.count)
        ours = (m0.release, m0.arch, m0.toolchain, m0.toolchain_version, m0.tools_digest, first.shard.count)
        if theirs != ours:
            raise UserError(
                f"{path}: shard {p.shard} of {m.release} {m.arch}/{m.toolchain} ({m.toolchain_version}), "
                f"{first_path} is {first.shard} of {m0.release} {m0.arch}/{m0.toolchain} "
                f"({m0.toolchain_version}): not the same calibration"
            )
        if p.version != first.version:
            raise UserError(
                f"{path}: measured by busyconf {p.version}, {first_path} by {first.version}: "
                "measure every shard with the same busyconf"
            )
        if p.identity != first.identity:
            raise UserError(
                f"{path}: calibration {p.identity}, {first_path} is {first.identity} "
                "(other reference configurations or candidates): not the same calibration"
            )
        if p.shard.index in seen:
            raise UserError(f"{path}: shard {p.shard} given twice (also {seen[p.shard.index]})")
        seen[p.shard.index] = path
        if _shared(p) != _shared(first):
            raise UserError(
                f"{path}: its shared measurements (references, relinks, forced toggles) differ from "
                f"{first_path}'s: measure every shard with the same toolchain and sources"
            )
    missing = [str(i) for i in range(1, first.shard.count + 1) if i not in seen]
    if missing:
        raise UserError(
            f"--merge: shard {', '.join(missing)} of {first.shard.count} missing "
            f"(given {', '.join(str(p.shard) for _, p in partials)})"
        )
    full = _joined("full", m0.full, partials)
    sparse = None if m0.sparse is None else _joined("sparse", m0.sparse, partials)
    return replace(m0, full=full, sparse=sparse)


def _joined(name: str, ref: Reference, partials: Sequence[tuple[Path, Partial]]) -> Reference:
    """``ref`` with every shard's toggles, in the order an unsharded run keeps them."""
    split = partials[0][1].splits.get(name)
    if split is None:
        return ref
    owner: dict[str, Path] = {}
    toggles = _only(ref.toggles, split.shared)
    own: dict[str, Toggle] = {}
    for path, p in partials:
        r = p.measurements.full if name == "full" else p.measurements.sparse
        for n, t in (r.toggles if r is not None else {}).items():
            if n in toggles:
                continue
            if n in owner:
                raise UserError(f"{path}: toggle {n} ({name}) measured by two shards (also {owner[n]})")
            owner[n] = path
            own[n] = t
    extra = sorted(set(own) - set(split.order))
    lost = [n for n in split.order if n not in own]
    if extra or lost:
        which = f"{extra[0]} is no candidate" if extra else f"no shard measured {lost[0]}"
        raise UserError(
            f"{owner.get(extra[0], partials[0][0]) if extra else partials[0][0]}: {which} ({name})"
        )
    toggles.update((n, own[n]) for n in split.order)
    return replace(ref, toggles=toggles)
