"""Everything the fit reads, in one versioned, compact file, and the table re-fit from it.

A calibration writes its measurements next to its table
(``1.38.0-x86_64-zig.measurements.json.xz``): xz-compressed JSON with
sorted keys, no timestamps, the same bytes for the same measurements, small
enough to commit (xz rather than gzip: the relinks repeat the same sections
hundreds of times, further apart than gzip's 32 KB window; a reduced run
is 0.6 MB gzip'd, 78 KB with xz). :func:`refit` turns them into the
table's model without a build; the table a calibration writes *is*
:func:`table_text` of the measurements it wrote, read back.
"""

from __future__ import annotations

import json
import lzma
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from busyconf.errors import UserError
from busyconf.savefile import write_atomic
from busyconf.size.calibration.fit import FULL_REFERENCE, build_model
from busyconf.size.calibration.ladder import with_residual
from busyconf.size.calibration.records import (
    Json,
    LadderPoint,
    Minimal,
    Relinks,
    Toggle,
    UsageText,
    toggles_from_json,
    toggles_to_json,
)
from busyconf.size.calibration.usage_fit import usage_model
from busyconf.size.cost_model import SizeModel
from busyconf.size.kbuild_facts import FLAG_SYMBOLS
from busyconf.size.table import TableKey, dumps

#: Version of the measurements file (a reader refuses another).
MEASUREMENTS_FORMAT = 1
SPARSE_REFERENCE = "allnoconfig + every applet"


@dataclass(frozen=True)
class Reference:
    """What the fit reads of one reference: its size, values, relinks and toggles.

    ``note`` says where transferred toggles came from (empty when measured
    here), ``donor`` whose they are (``1.38.0/x86_64``; empty when measured
    here); ``ladder``: the sparse reference's configurations (:mod:`.ladder`).
    """

    size: int
    values: dict[str, str]
    relinks: Relinks
    toggles: dict[str, Toggle]
    note: str = ""
    ladder: tuple[LadderPoint, ...] = ()
    donor: str = ""

    def to_json(self) -> Json:
        out: Json = {
            "size": self.size,
            "values": dict(self.values),
            "relinks": self.relinks.to_json(),
            "toggles": toggles_to_json({n: t.measured_only() for n, t in self.toggles.items()}),
            "note": self.note,
            "ladder": [p.to_json() for p in self.ladder],
        }
        if self.donor:
            out["donor"] = self.donor
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Reference:
        return cls(
            int(data["size"]),
            {str(k): str(v) for k, v in data["values"].items()},
            Relinks.from_json(data["relinks"]),
            toggles_from_json(data["toggles"]),
            str(data.get("note", "")),
            tuple(LadderPoint.from_json(p) for p in data.get("ladder", ())),
            str(data.get("donor", "")),
        )


@dataclass(frozen=True)
class Measurements:
    """One calibration's measurements: the table's key, the toolchain, both references, the usage texts.

    ``applet_symbols``: the symbols the Kconfig tree calls applets (the
    sparse model is blended in only for the others).
    """

    release: str
    arch: str
    toolchain: str
    toolchain_version: str
    tools_digest: str
    applet_symbols: tuple[str, ...]
    full: Reference
    minimal: Minimal | None = None
    sparse: Reference | None = None
    usage: tuple[UsageText, ...] = field(default=())

    @property
    def key(self) -> TableKey:
        return TableKey(self.release, self.arch, self.toolchain)

    def to_json(self) -> Json:
        return {
            "format": MEASUREMENTS_FORMAT,
            "release": self.release,
            "arch": self.arch,
            "toolchain": self.toolchain,
            "toolchain_version": self.toolchain_version,
            "tools_digest": self.tools_digest,
            "applet_symbols": list(self.applet_symbols),
            "full": self.full.to_json(),
            "minimal": None if self.minimal is None else self.minimal.to_json(),
            "sparse": None if self.sparse is None else self.sparse.to_json(),
            "usage": [t.to_json() for t in self.usage],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Measurements:
        return cls(
            str(data["release"]),
            str(data["arch"]),
            str(data["toolchain"]),
            str(data["toolchain_version"]),
            str(data["tools_digest"]),
            tuple(str(n) for n in data["applet_symbols"]),
            Reference.from_json(data["full"]),
            None if data.get("minimal") is None else Minimal.from_json(data["minimal"]),
            None if data.get("sparse") is None else Reference.from_json(data["sparse"]),
            tuple(UsageText.from_json(t) for t in data.get("usage", ())),
        )


def xz_json(doc: Json) -> bytes:
    """``doc`` as deterministic bytes: sorted keys, ASCII, xz (an xz stream has no name or time)."""
    text = json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return lzma.compress(text.encode("ascii"), format=lzma.FORMAT_XZ, preset=6)


def read_xz_json(data: bytes, where: str, what: str) -> Any:
    """The JSON document in :func:`xz_json`'s bytes; else a one-line :class:`UserError`: not ``what``."""
    try:
        return json.loads(lzma.decompress(data, format=lzma.FORMAT_XZ))
    except (lzma.LZMAError, EOFError, ValueError) as e:
        raise UserError(f"{where}: not {what} ({e})") from None


def encode(m: Measurements) -> bytes:
    """The file's bytes (deterministic)."""
    return xz_json(m.to_json())


def decode(data: bytes, where: str) -> Measurements:
    """Measurements from :func:`encode`'s bytes; a one-line :class:`UserError` naming ``where`` else."""
    doc = read_xz_json(data, where, "a calibration's measurements")
    if not isinstance(doc, dict) or doc.get("format") != MEASUREMENTS_FORMAT:
        found = doc.get("format") if isinstance(doc, dict) else None
        raise UserError(
            f"{where}: measurements of format {found!r}, this busyconf reads {MEASUREMENTS_FORMAT}"
        )
    try:
        return Measurements.from_json(doc)
    except (KeyError, TypeError, ValueError, AttributeError) as e:
        raise UserError(f"{where}: malformed calibration measurements ({type(e).__name__}: {e})") from None


def measurements_path(table: Path) -> Path:
    """Where the measurements of the table at ``table`` (``NAME.json`` or ``NAME.json.xz``) go: beside it."""
    return table.with_name(table.name.removesuffix(".xz").removesuffix(".json") + ".measurements.json.xz")


def write_measurements(m: Measurements, path: Path) -> None:
    write_atomic(path, encode(m))


def read_measurements(path: Path) -> Measurements:
    try:
        data = path.read_bytes()
    except OSError as e:
        raise UserError(f"{path}: cannot read measurements ({e.strerror or e})") from None
    return decode(data, str(path))


def refit(m: Measurements) -> SizeModel:
    """The table's model from the measurements alone (pure: no build, no file)."""
    usage = usage_model(
        m.usage,
        m.full.values,
        m.full.relinks,
        m.full.toggles,
        m.full.size,
        None if m.sparse is None else m.sparse.toggles,
        0 if m.sparse is None else m.sparse.size,
    )
    model = _model(m, m.full, m.minimal, FULL_REFERENCE, usage)
    low = m.sparse
    if low is not None:
        applets = set(m.applet_symbols)
        blend = [
            n
            for n in model.symbols
            if m.full.values.get(n) == "y"
            and low.values.get(n) != "y"
            and n not in applets
            and n not in FLAG_SYMBOLS
        ]
        sparse_model = _model(m, low, None, SPARSE_REFERENCE, usage)
        sparse_model = with_residual(sparse_model, sorted(low.relinks.by_symbol), low.ladder, usage)
        model = model.with_sparse(sparse_model, blend)
    return replace(model, usage=usage)


def _model(m: Measurements, ref: Reference, minimal: Minimal | None, reference: str, usage: Any) -> SizeModel:
    model = build_model(
        release=m.release,
        arch=m.arch,
        relinks=ref.relinks,
        ref_values=ref.values,
        ref_size=ref.size,
        toggles=ref.toggles,
        toolchain_version=m.toolchain_version,
        tools_digest=m.tools_digest,
        minimal=minimal,
        reference=reference,
        usage_model=usage,
    )
    if not ref.note:
        return model
    info = {**model.info, "toggles": ref.note}
    if ref.donor:
        info["transferred_from"] = ref.donor
    return replace(model, info=info)


def table_text(m: Measurements) -> str:
    """The size table (file text) :func:`refit` gives."""
    return dumps(m.key, refit(m).to_dict())


def refit_file(path: Path) -> str:
    """The size table's text re-fit from a measurements file (no build; what the tests call)."""
    return table_text(read_measurements(path))
