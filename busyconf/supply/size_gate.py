"""The size gate: a profile's size against a previous build's ``manifest.json``, with a growth budget.

The old size is the real one the manifest records. The new size is measured
(the exact engine) when asked, else estimated as the old size plus what the
size model says the changed symbols add: the model's own bias (up to about
2 % on some configurations) then cancels out instead of tripping a 1 % budget.
The table lists the symbols whose value differs between the manifest's
``busybox.config`` and the profile, with the bytes the model charges each.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from busyconf.build.manifest import CONFIG_NAME, pinned_config
from busyconf.errors import UserError, read_user_bytes

#: A manifest is a few KB; anything much bigger is not one.
MAX_MANIFEST_BYTES = 1024 * 1024
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_PERCENT = re.compile(r"^\s*(\d{1,6}(?:\.\d{1,6})?)\s*%\s*$")
_BYTES = re.compile(r"^\s*(\d{1,12}(?:\.\d{1,6})?)\s*([KMG]?)(?:i?B)?\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class Budget:
    """``--max-growth``: a percentage of the old size, or bytes."""

    text: str
    percent: float | None = None
    bytes: int | None = None

    def allowed(self, old: int) -> float:
        """Bytes of growth allowed over ``old``."""
        return old * self.percent / 100 if self.percent is not None else float(self.bytes or 0)


def parse_budget(text: str) -> Budget:
    """``1%``, ``0.5 %``, ``2048`` (bytes), ``4K`` (KiB), ``1M``; a one-line UserError otherwise."""
    m = _PERCENT.match(text)
    if m:
        value = float(m.group(1))
        if value > 1000:
            raise UserError(f"--max-growth {text!r}: more than 1000 %")
        return Budget(text.strip(), percent=value)
    m = _BYTES.match(text)
    if not m:
        shown = text.encode("unicode_escape").decode("ascii")[:40]
        raise UserError(f"--max-growth {shown!r}: expected a percentage (1%, 0.5 %) or bytes (2048, 4K)")
    n = float(m.group(1)) * {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3}[m.group(2).upper()]
    if n > 1024**3:
        raise UserError(f"--max-growth {text!r}: more than 1 GiB")
    return Budget(text.strip(), bytes=int(n))


@dataclass(frozen=True)
class Baseline:
    """What the gate needs from a previous build: its manifest and the config beside it."""

    path: Path
    release: str
    arch: str
    toolchain: str
    binary_size: int
    config_sha256: str
    config_text: str


def _field(data: dict[str, Any], name: str, kind: type, path: Path) -> Any:
    value = data.get(name)
    # bool is an int to Python, never a size.
    if not isinstance(value, kind) or isinstance(value, bool):
        raise UserError(f"{path}: field {name!r} must be a {kind.__name__}, got {type(value).__name__}")
    return value


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def load_baseline(path: Path) -> Baseline:
    """Read and check a ``manifest.json`` and the ``busybox.config`` beside it (untrusted input).

    Raises:
        UserError: not a regular file, too big, not JSON, a missing or mistyped field, an unknown
            release, arch or toolchain, no ``busybox.config`` beside it, or one whose sha256 is not
            the manifest's ``config_sha256``.
    """
    from busyconf.build.arch import get_arch
    from busyconf.build.toolchain import check_toolchain_name
    from busyconf.source.releases import check_version

    raw = read_user_bytes(path, MAX_MANIFEST_BYTES, "a manifest", "no such manifest")
    try:
        data = json.loads(raw.decode("utf-8"), parse_constant=_no_constant)
    except UnicodeDecodeError as e:
        raise UserError(f"{path}: not UTF-8 text (byte {e.start})") from None
    except json.JSONDecodeError as e:
        raise UserError(f"{path}: not JSON ({e.msg}, line {e.lineno} column {e.colno})") from None
    except RecursionError:
        raise UserError(f"{path}: not a manifest (JSON nested too deep)") from None
    except ValueError as e:
        raise UserError(f"{path}: not a manifest ({str(e)[:80]})") from None
    if not isinstance(data, dict):
        raise UserError(f"{path}: not a manifest (a JSON object is expected, got {type(data).__name__})")
    release = _field(data, "release", str, path)
    arch = _field(data, "arch", str, path)
    toolchain = _field(data, "toolchain", str, path)
    size = _field(data, "binary_size", int, path)
    sha = _field(data, "config_sha256", str, path)
    try:
        check_version(release)
        get_arch(arch)
        check_toolchain_name(toolchain)
    except UserError as e:
        raise UserError(f"{path}: {e}") from None
    if not 0 < size < 1 << 31:
        raise UserError(f"{path}: field 'binary_size' {size} is not a binary's size")
    if not _HEX64.match(sha):
        raise UserError(f"{path}: field 'config_sha256' is not 64 lowercase hex digits")
    text = pinned_config(path, sha)
    return Baseline(path, release, arch, toolchain, size, sha, text)


@dataclass(frozen=True)
class Row:
    """One symbol whose value differs; bytes as the size model charges it."""

    name: str
    old_value: str | None
    new_value: str | None
    old_bytes: int
    new_bytes: int

    @property
    def delta(self) -> int:
        return self.new_bytes - self.old_bytes


@dataclass(frozen=True)
class GateResult:
    """The comparison: sizes, the budget's verdict and the symbols behind it."""

    manifest: str
    old_size: int
    new_size: int
    how: str  # "measured" or "estimated"
    basis: str
    budget: Budget | None
    rows: tuple[Row, ...]
    other: int  # what the model's total changes by beyond the listed symbols (shared library code)

    @property
    def growth(self) -> int:
        return self.new_size - self.old_size

    @property
    def percent(self) -> float:
        return self.growth / self.old_size * 100

    @property
    def allowed(self) -> float | None:
        return None if self.budget is None else self.budget.allowed(self.old_size)

    @property
    def over(self) -> bool:
        allowed = self.allowed
        return allowed is not None and self.growth > allowed

    def to_dict(self) -> dict[str, Any]:
        return {
            "manifest": self.manifest,
            "old_size": self.old_size,
            "new_size": self.new_size,
            "size_from": self.how,
            "basis": self.basis,
            "growth": self.growth,
            "growth_percent": round(self.percent, 3),
            "max_growth": None if self.budget is None else self.budget.text,
            "allowed_bytes": None if self.allowed is None else int(self.allowed),
            "over_budget": self.over,
            "other_bytes": self.other,
            "symbols": [
                {
                    "name": r.name,
                    "old": r.old_value,
                    "new": r.new_value,
                    "old_bytes": r.old_bytes,
                    "new_bytes": r.new_bytes,
                    "delta": r.delta,
                }
                for r in self.rows
            ],
        }


def baseline_config(base: Baseline) -> Any:
    """The manifest's ``busybox.config`` as a Configuration (parsed strictly against its release)."""
    from busyconf.model.config import resolve
    from busyconf.model.dotconfig import parse_dotconfig
    from busyconf.model.kconfig import load_tree

    tree = load_tree(base.release)
    dot = parse_dotconfig(base.config_text, str(base.path.parent / CONFIG_NAME), tree)
    return resolve(tree, dot.assignments)


def compare(
    base: Baseline, config: Any, toolchain: str, budget: Budget | None, measured: int | None
) -> GateResult:
    """The profile's ``config`` against ``base`` for the manifest's CPU; ``measured`` if it was built."""
    from busyconf.size import estimator_for

    old_config = baseline_config(base)
    est = estimator_for(base.release, base.arch, toolchain)
    eo, en = est.estimate(old_config), est.estimate(config)
    rows = [
        Row(name, a, b, eo.per_symbol.get(name, 0), en.per_symbol.get(name, 0))
        for name, a, b in old_config.diff(config)
    ]
    rows.sort(key=lambda r: (-r.delta, r.name))
    model_delta = en.total - eo.total
    new = measured if measured is not None else base.binary_size + model_delta
    return GateResult(
        manifest=str(base.path),
        old_size=base.binary_size,
        new_size=new,
        how="measured" if measured is not None else "estimated",
        basis=en.basis,
        budget=budget,
        rows=tuple(rows),
        other=model_delta - sum(r.delta for r in rows),
    )
