"""Size tables on disk: a JSON document with a checked header.

::

    {"format": "busyconf-size-table", "format_version": 2,
     "release": "1.38.0", "arch": "x86_64", "toolchain": "zig",
     "busyconf": "0.1.0", "checksum": "sha256:<hex of the canonical model>",
     "model": {...}}

Tables shipped in the package are xz-compressed (``NAME.json.xz``, about a
sixth of the JSON); a table written to a path ending in ``.xz`` is too. A
table whose JSON, checksum, format or header does not match what was asked
for is refused with a :class:`SizeTableError` naming the file and offering
recalibration; it is never used silently.
"""

from __future__ import annotations

import hashlib
import json
import lzma
import os
import re
import tempfile
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from busyconf import __version__
from busyconf.errors import UserError
from busyconf.source import cache_root

FORMAT = "busyconf-size-table"
FORMAT_VERSION = 2


class SizeTableError(UserError):
    """A size table that cannot be trusted."""

    title = "Size table"


@dataclass(frozen=True)
class TableKey:
    """What a table was measured for."""

    release: str
    arch: str
    toolchain: str

    @property
    def filename(self) -> str:
        slug = self.toolchain.rstrip("-") or "cross"
        return f"{self.release}-{self.arch}-{slug}.json"

    @property
    def recalibrate(self) -> str:
        return (
            f"busyconf size calibrate --arch {self.arch} --release {self.release} "
            f"--toolchain {self.toolchain}"
        )


def checksum(model: dict[str, Any]) -> str:
    body = json.dumps(model, sort_keys=True, separators=(",", ":")).encode()
    return "sha256:" + hashlib.sha256(body).hexdigest()


def _minor(version: str) -> str:
    return ".".join(version.split(".")[:2])


def dumps(key: TableKey, model: dict[str, Any]) -> str:
    doc = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "release": key.release,
        "arch": key.arch,
        "toolchain": key.toolchain,
        "busyconf": __version__,
        "checksum": checksum(model),
        "model": model,
    }
    return json.dumps(doc, sort_keys=True, separators=(",", ":")) + "\n"


def loads(text: str, where: str, key: TableKey) -> dict[str, Any]:
    """The model of a table, after checking everything; else :class:`SizeTableError`."""
    fix = f"; recalibrate with: {key.recalibrate}"
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as e:
        raise SizeTableError(
            f"{where}: corrupt size table (not JSON: {e.msg} at line {e.lineno}){fix}"
        ) from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise SizeTableError(f"{where}: not a busyconf size table{fix}")
    if doc.get("format_version") != FORMAT_VERSION:
        raise SizeTableError(
            f"{where}: size table format {doc.get('format_version')!r}, "
            f"this busyconf reads {FORMAT_VERSION}{fix}"
        )
    for field in ("release", "arch", "toolchain"):
        want = getattr(key, field)
        if doc.get(field) != want:
            raise SizeTableError(f"{where}: size table is for {field} {doc.get(field)!r}, not {want!r}{fix}")
    made_by = str(doc.get("busyconf", ""))
    if _minor(made_by) != _minor(__version__):
        raise SizeTableError(
            f"{where}: size table made by busyconf {made_by or '?'}, this is {__version__}{fix}"
        )
    model = doc.get("model")
    if not isinstance(model, dict) or doc.get("checksum") != checksum(model):
        raise SizeTableError(f"{where}: corrupt size table (checksum mismatch){fix}")
    return model


def user_table_path(key: TableKey) -> Path:
    return Path(cache_root()) / "size" / "tables" / key.filename


#: Written after a table's name: compressed with xz.
XZ = ".xz"


def encode_table(text: str, name: str) -> bytes:
    """``text`` as a file named ``name`` holds it: xz (deterministic, no name or time) for ``*.xz``."""
    data = text.encode("utf-8")
    return lzma.compress(data, format=lzma.FORMAT_XZ, preset=9) if name.endswith(XZ) else data


def decode_table(data: bytes, where: str, key: TableKey) -> str:
    """The JSON text of a table file's bytes (``where`` ending in ``.xz``: decompressed)."""
    try:
        if where.endswith(XZ):
            data = lzma.decompress(data, format=lzma.FORMAT_XZ)
        return data.decode("utf-8")
    except (lzma.LZMAError, EOFError, UnicodeDecodeError) as e:
        fix = f"recalibrate with: {key.recalibrate}"
        raise SizeTableError(f"{where}: corrupt size table ({e}); {fix}") from None


def shipped_table_text(key: TableKey) -> tuple[str, str] | None:
    """(text, where) of the table shipped in the package (``NAME.json.xz``, else ``NAME.json``), if any."""
    folder = resources.files("busyconf.size").joinpath("tables")
    for name in (key.filename + XZ, key.filename):
        ref = folder.joinpath(name)
        if ref.is_file():
            where = f"busyconf/size/tables/{name}"
            return decode_table(ref.read_bytes(), where, key), where
    return None


def find_table(key: TableKey) -> tuple[dict[str, Any], str] | None:
    """The user's calibrated table, else the shipped one, else None; bad ones raise."""
    path = user_table_path(key)
    if path.is_file():
        try:
            text = path.read_text("utf-8")
        except (OSError, UnicodeDecodeError) as e:
            raise SizeTableError(
                f"{path}: cannot read size table ({e}); recalibrate with: {key.recalibrate}"
            ) from None
        return loads(text, str(path), key), str(path)
    shipped = shipped_table_text(key)
    if shipped is None:
        return None
    text, where = shipped
    return loads(text, where, key), where


def save_table(key: TableKey, model: dict[str, Any], path: Path | None = None) -> Path:
    """Write a table atomically (to the user cache unless ``path`` is given; ``*.xz``: compressed)."""
    target = path or user_table_path(key)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(encode_table(dumps(key, model), target.name))
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return target


# -- what kind of table a key has (for pickers: no estimator, no checksum) ------------------

#: A table whose compile-level costs came from another CPU says so in ``info["toggles"]``.
_MEASURED_ON = re.compile(r"measured on ([\w.-]+)")
_DECODER = json.JSONDecoder()


def _kind_of_info(info: dict[str, Any], key: TableKey) -> str:
    donor = info.get("transferred_from")
    if isinstance(donor, str) and "/" in donor:
        release, arch = donor.split("/", 1)
        if arch == key.arch:
            return f"transferred from {release}"
        return f"transferred from {arch}" if release == key.release else f"transferred from {release} {arch}"
    note = info.get("toggles")
    if not isinstance(note, str) or not note:
        return "measured"
    found = _MEASURED_ON.search(note)
    return f"transferred from {found.group(1)}" if found else "transferred"


def _model_info(text: str) -> dict[str, Any]:
    """``model.info`` of a table's text, without decoding its ~400 KB model when it can.

    :func:`dumps` writes sorted keys compactly, so the first ``"info":`` after
    ``"model":{`` is the model's own (every model key sorting before it holds
    no object). Any other layout is decoded whole.
    """
    start = text.find('"model":{')
    at = text.find('"info":', start) if start >= 0 else -1
    if at >= 0:
        try:
            info, _end = _DECODER.raw_decode(text, at + len('"info":'))
        except json.JSONDecodeError:
            info = None
        if isinstance(info, dict):
            return info
    doc = json.loads(text)
    model = doc.get("model") if isinstance(doc, dict) else None
    info = model.get("info") if isinstance(model, dict) else None
    return info if isinstance(info, dict) else {}


def _kind_of_text(text: str, key: TableKey) -> str:
    try:
        return _kind_of_info(_model_info(text), key)
    except ValueError:
        return "unreadable"


@lru_cache(maxsize=64)
def shipped_kind(key: TableKey) -> str:
    """Shipped tables do not change while busyconf runs: one read per key."""
    shipped = shipped_table_text(key)
    return "coarse" if shipped is None else _kind_of_text(shipped[0], key)


@lru_cache(maxsize=64)
def _user_kind(path: Path, stamp: tuple[int, int], key: TableKey) -> str:
    """``stamp`` (mtime, size) renews the answer when a recalibration rewrites the file."""
    try:
        return _kind_of_text(path.read_text("utf-8"), key)
    except (OSError, UnicodeDecodeError):
        return "unreadable"


def table_kind(key: TableKey) -> str:
    """What sizes for ``key`` rest on, as the table records it, for a picker to show.

    ``"measured"``: a table calibrated on this CPU; ``"transferred from
    x86_64"`` (``"from 1.38.0"``, ``"from 1.38.0 x86_64"``): link-level units
    measured here, compile-level costs scaled from that CPU's (release's);
    ``"coarse"``: no table, sizes come from BusyBox's prompt
    labels; ``"unreadable"``: a table that cannot be read. The user's table
    wins over the shipped one, as in :func:`find_table`. Only the table's
    ``info`` is read (its checksum is checked when sizes are loaded), and the
    answer is cached until the file changes.
    """
    path = user_table_path(key)
    try:
        st = path.stat()
    except OSError:
        return shipped_kind(key)
    return _user_kind(path, (st.st_mtime_ns, st.st_size), key)
