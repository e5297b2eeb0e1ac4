"""What is known about each BusyBox release's CVEs, and which apply to a configuration.

Scanners flag BusyBox by version alone; busyconf knows which applets and options went
into the binary. ``cves.toml`` beside this module maps each CVE to the Kconfig symbols
that compile its code in, the release that fixed it and the Debian patches that fix it
(with where each mapping comes from). :func:`applicability` applies that to one
configuration; :func:`cyclonedx_vulnerabilities` turns the answer into the VEX part of a
CycloneDX SBOM (the build writes it, :mod:`busyconf.build.sbom`), and
:mod:`busyconf.supply.cve` into OpenVEX documents for a profile or a build.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

from busyconf.source.releases import check_version, version_key

DATA = Path(__file__).with_name("cves.toml")

AFFECTED = "affected"
NOT_AFFECTED = "not_affected"
FIXED = "fixed"

_CVE_ID = re.compile(r"^CVE-(19|20)\d\d-\d{4,7}$")
#: A sha256 in hex, as patches and manifests give it.
SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")
_SYMBOL = re.compile(r"^[A-Z0-9_]{1,64}$")
#: A Debian patch file name: no folder, nothing a shell or a terminal would read.
PATCH_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]{0,199}$")


@dataclass(frozen=True)
class Patch:
    """A Debian patch that fixes a CVE in one release."""

    release: str
    debian: str
    name: str
    sha256: str


@dataclass(frozen=True)
class Narrowed:
    """From ``since`` on, an upstream partial fix leaves code that also needs every ``requires``."""

    since: str
    requires: tuple[str, ...]
    why: str


@dataclass(frozen=True)
class Cve:
    """One entry of ``cves.toml``."""

    id: str
    summary: str
    symbols: tuple[str, ...]
    files: tuple[str, ...]
    source: str
    introduced: str = ""
    fixed: str = ""
    fixed_when: str = ""
    upstream: tuple[str, ...] = ()
    marker: tuple[str, str] | None = None
    patches: tuple[Patch, ...] = ()
    narrowed: tuple[Narrowed, ...] = ()

    @property
    def affected_versions(self) -> str:
        """The affected range in words: ``>= 1.30.0, < 1.37.0`` or ``all (no upstream fix)``."""
        low = f">= {self.introduced}" if self.introduced else ""
        high = f"< {self.fixed}" if self.fixed else ""
        if low and high:
            return f"{low}, {high}"
        return low or high or "all (no upstream fix)"


@dataclass(frozen=True)
class Database:
    """Every known CVE and the release dates VEX documents fall back to."""

    cves: tuple[Cve, ...]
    release_dates: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Finding:
    """What one CVE means for one configuration."""

    cve: Cve
    status: str  # AFFECTED, NOT_AFFECTED or FIXED
    reason: str
    #: OpenVEX / CycloneDX justification of a not_affected status.
    justification: str = ""

    def to_json(self) -> dict[str, object]:
        return {
            "id": self.cve.id,
            "status": self.status,
            "reason": self.reason,
            "justification": self.justification or None,
            "summary": self.cve.summary,
            "affected_versions": self.cve.affected_versions,
            "symbols": list(self.cve.symbols),
            "files": list(self.cve.files),
            "source": self.cve.source,
        }


# -- the data file ------------------------------------------------------------------------------


def _strs(entry: Mapping[str, Any], key: str, where: str) -> tuple[str, ...]:
    value = entry.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"{where}: {key} is not a list of strings")
    return tuple(value)


def _str(entry: Mapping[str, Any], key: str, where: str, required: bool = False) -> str:
    value = entry.get(key, "")
    if not isinstance(value, str) or (required and not value):
        raise ValueError(f"{where}: {key} is missing or not a string")
    return value


def parse_database(text: str) -> Database:
    """Parse ``cves.toml``; a malformed entry is a ValueError naming it (the file ships with busyconf)."""
    doc = tomllib.loads(text)
    cves = []
    for n, entry in enumerate(doc.get("cve", [])):
        where = f"cves.toml [[cve]] #{n + 1} {entry.get('id', '?')}"
        marker = entry.get("marker")
        cves.append(
            Cve(
                id=_str(entry, "id", where, required=True),
                summary=_str(entry, "summary", where, required=True),
                symbols=_strs(entry, "symbols", where),
                files=_strs(entry, "files", where),
                source=_str(entry, "source", where, required=True),
                introduced=_str(entry, "introduced", where),
                fixed=_str(entry, "fixed", where),
                fixed_when=_str(entry, "fixed_when", where),
                upstream=_strs(entry, "upstream", where),
                marker=(marker["file"], marker["text"]) if marker else None,
                patches=tuple(
                    Patch(p["release"], p["debian"], p["name"], p["sha256"]) for p in entry.get("patches", [])
                ),
                narrowed=tuple(
                    Narrowed(r["since"], tuple(r["requires"]), r["why"]) for r in entry.get("narrowed", [])
                ),
            )
        )
    dates = {str(k): int(v) for k, v in doc.get("releases", {}).items()}
    return Database(tuple(cves), dates)


@lru_cache(maxsize=1)
def load_database() -> Database:
    """The CVE data shipped with busyconf."""
    return parse_database(DATA.read_text())


# -- applicability ------------------------------------------------------------------------------


def _names(symbols: Sequence[str]) -> str:
    """``CONFIG_A``, ``CONFIG_A and CONFIG_B``, ``CONFIG_A, CONFIG_B and CONFIG_C``."""
    names = [f"CONFIG_{s}" for s in symbols]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _off(symbols: Sequence[str]) -> str:
    return f"{_names(symbols)} {'is' if len(symbols) == 1 else 'are'} off"


def _on(symbols: Sequence[str]) -> str:
    return f"{_names(symbols)} {'is' if len(symbols) == 1 else 'are'} on"


def _newer_or_same(release: str, than: str) -> bool:
    return bool(than) and version_key(release) >= version_key(than)


def _check(cve: Cve, values: Mapping[str, str], release: str, applied: frozenset[str]) -> Finding:
    def on(name: str) -> bool:
        return values.get(name) == "y"

    compiled = [s for s in cve.symbols if on(s)]
    if cve.introduced and version_key(release) < version_key(cve.introduced):
        return Finding(
            cve,
            NOT_AFFECTED,
            f"BusyBox {release} predates the vulnerable code (introduced in {cve.introduced})",
            "vulnerable_code_not_present",
        )
    if _newer_or_same(release, cve.fixed):
        if not cve.fixed_when or on(cve.fixed_when):
            when = f" with CONFIG_{cve.fixed_when} on" if cve.fixed_when else ""
            return Finding(cve, FIXED, f"fixed in BusyBox {cve.fixed}{when}")
        if compiled:
            return Finding(
                cve,
                AFFECTED,
                f"{_on(compiled)}; the fix in BusyBox {cve.fixed} acts only with "
                f"CONFIG_{cve.fixed_when}, which is off",
            )
    if not compiled:
        return Finding(cve, NOT_AFFECTED, _off(cve.symbols), "vulnerable_code_not_present")
    ours = [p for p in cve.patches if p.release == release]
    if ours and all(p.sha256 in applied for p in ours):
        names = ", ".join(p.name for p in ours)
        return Finding(cve, FIXED, f"fixed by Debian {ours[0].debian} patch {names}")
    for part in cve.narrowed:
        if _newer_or_same(release, part.since):
            missing = [s for s in part.requires if not on(s)]
            if missing:
                return Finding(
                    cve,
                    NOT_AFFECTED,
                    f"{_off(missing)}: {part.why}",
                    "vulnerable_code_not_present",
                )
            compiled += list(part.requires)
    where = f"no fix in BusyBox {release}" if not cve.fixed else f"fixed only in BusyBox {cve.fixed}"
    hint = f" (Debian {ours[0].debian} patches it)" if ours else ""
    return Finding(cve, AFFECTED, f"{_on(compiled)}; {where}{hint}")


class Resolved(Protocol):
    """A resolved configuration (:class:`busyconf.model.config.Configuration` is one)."""

    @property
    def release(self) -> str: ...

    @property
    def values(self) -> Mapping[str, str]: ...


def applicability(
    config: Resolved | Mapping[str, str],
    release: str | None = None,
    patches: Iterable[str] = (),
    database: Database | None = None,
) -> list[Finding]:
    """Each known CVE's status for ``config`` (a resolved configuration or its symbol values).

    Args:
        config: every symbol's value (``"y"`` is on); a resolved configuration brings its release.
        release: the BusyBox release (default: the configuration's).
        patches: sha256 of each patch the build applied on top of the release.
    """
    if isinstance(config, Mapping):
        values: Mapping[str, str] = config
        if release is None:
            raise TypeError("applicability() needs the release for plain symbol values")
    else:
        values = config.values
        release = config.release if release is None else release
    check_version(release)
    db = database or load_database()
    applied = frozenset(patches)
    return [_check(cve, values, release, applied) for cve in db.cves]


# -- VEX ------------------------------------------------------------------------------------------


def action(finding: Finding) -> str:
    """What a user can do about an affecting CVE, in words."""
    cve = finding.cve
    ways = [f"turn off {_names([s for s in cve.symbols])}" if cve.symbols else ""]
    if cve.fixed:
        ways.append(f"move to BusyBox {cve.fixed} or newer")
    if cve.fixed_when:
        ways.append(f"turn on CONFIG_{cve.fixed_when}")
    if cve.patches:
        names = sorted({p.name for p in cve.patches})
        ways.append("apply Debian's " + ", ".join(names))
    return "; or ".join(w for w in ways if w)


#: OpenVEX status -> CycloneDX 1.6 analysis state.
_CDX_STATE = {AFFECTED: "exploitable", NOT_AFFECTED: "not_affected", FIXED: "resolved"}
#: OpenVEX justification -> CycloneDX 1.6 analysis justification.
_CDX_JUSTIFICATION = {"vulnerable_code_not_present": "code_not_present"}


def cyclonedx_vulnerabilities(findings: Sequence[Finding], bom_ref: str) -> list[dict[str, Any]]:
    """The ``vulnerabilities`` array of a CycloneDX 1.6 BOM (VEX) about the component ``bom_ref``.

    For embedding in busyconf's ``sbom.cdx.json``: ``bom_ref`` is the BusyBox component's bom-ref.
    """
    out = []
    for f in findings:
        analysis: dict[str, Any] = {"state": _CDX_STATE[f.status], "detail": f.reason}
        if f.status == NOT_AFFECTED:
            analysis["justification"] = _CDX_JUSTIFICATION[f.justification]
        if f.status == AFFECTED:
            analysis["response"] = ["update"] if f.cve.fixed else ["workaround_available"]
        vuln: dict[str, Any] = {
            "bom-ref": f"vex-{f.cve.id}",
            "id": f.cve.id,
            "source": {"name": "NVD", "url": f"https://nvd.nist.gov/vuln/detail/{f.cve.id}"},
            "description": f.cve.summary,
            "analysis": analysis,
            "affects": [{"ref": bom_ref}],
        }
        if f.status == AFFECTED:
            vuln["recommendation"] = action(f)
        out.append(vuln)
    return out
