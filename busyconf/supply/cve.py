"""Which known BusyBox CVEs apply to a configuration: affected, not compiled in, or fixed.

Scanners flag BusyBox by version alone; busyconf knows which applets and options went
into the binary. ``cves.toml`` beside this module maps each CVE to the Kconfig symbols
that compile its code in, the release that fixed it and the Debian patches that fix it
(with where each mapping comes from). :func:`applicability` applies that to one resolved
configuration; :func:`openvex` and :func:`cyclonedx_vulnerabilities` turn the answer into
VEX documents.

Input is a profile or a build's ``manifest.json`` with its ``busybox.config``: a manifest is
untrusted, so it is checked field by field and the config against its ``config_sha256``.
"""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from busyconf.build.manifest import CONFIG_NAME, pinned_config
from busyconf.errors import UserError, read_user_json_object
from busyconf.source.releases import check_version, version_key

if TYPE_CHECKING:
    # Only for annotations: busyconf.build imports this module (the SBOM's VEX) and model imports build.
    from busyconf.model.config import Configuration

DATA = Path(__file__).with_name("cves.toml")

AFFECTED = "affected"
NOT_AFFECTED = "not_affected"
FIXED = "fixed"

MANIFEST_NAME = "manifest.json"
MAX_MANIFEST = 1024 * 1024

_CVE_ID = re.compile(r"^CVE-(19|20)\d\d-\d{4,7}$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_SYMBOL = re.compile(r"^[A-Z0-9_]{1,64}$")
# A Debian patch file name: no folder, nothing a shell or a terminal would read.
_PATCH_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]{0,199}$")


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


@dataclass(frozen=True)
class Subject:
    """What the CVEs are checked against: a configuration and what is known about its build."""

    name: str
    config: Configuration
    #: sha256 of the Debian patches the build applied.
    patches: tuple[str, ...] = ()
    source_date_epoch: int | None = None
    binary_sha256: str = ""


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


def applicability(
    config: Configuration | Mapping[str, str],
    release: str | None = None,
    patches: Iterable[str] = (),
    database: Database | None = None,
) -> list[Finding]:
    """Each known CVE's status for ``config`` (a resolved configuration or its symbol values).

    Args:
        config: every symbol's value (``"y"`` is on); a :class:`Configuration` brings its release.
        release: the BusyBox release (default: the configuration's).
        patches: sha256 of each patch the build applied on top of the release.
    """
    from busyconf.model.config import Configuration

    values = config.values if isinstance(config, Configuration) else config
    if release is None:
        if not isinstance(config, Configuration):
            raise TypeError("applicability() needs the release for plain symbol values")
        release = config.release
    check_version(release)
    db = database or load_database()
    applied = frozenset(patches)
    return [_check(cve, values, release, applied) for cve in db.cves]


# -- manifests ------------------------------------------------------------------------------------


def _manifest_text(data: Mapping[str, object], key: str, where: Path, pattern: re.Pattern[str]) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not pattern.match(value):
        shown = value[:40] if isinstance(value, str) else type(value).__name__
        raise UserError(f"{where}: {key} is {shown!r}, not what a busyconf manifest holds")
    return value


def read_manifest(path: Path) -> tuple[dict[str, object], str]:
    """A build's manifest and the ``busybox.config`` text beside it, checked; bad input is a UserError.

    Checks: JSON object; ``release`` a version; ``config_sha256`` the sha256 of the config
    beside it; ``source_date_epoch`` (if present) a whole number; ``binary_sha256`` (if present)
    a sha256; ``patches`` (if present) a list of ``{name, sha256}``. No path inside the manifest
    is ever used: the config is always the file beside it.
    """
    data = read_user_json_object(path, MAX_MANIFEST, "a manifest")
    release = data.get("release")
    if not isinstance(release, str):
        raise UserError(f"{path}: release is a {type(release).__name__}, not a string")
    try:
        check_version(release)
    except UserError as e:
        raise UserError(f"{path}: release: {e}") from None
    want = _manifest_text(data, "config_sha256", path, _SHA256)
    if "binary_sha256" in data:
        _manifest_text(data, "binary_sha256", path, _SHA256)
    epoch = data.get("source_date_epoch", 0)
    if not isinstance(epoch, int) or isinstance(epoch, bool) or not 0 <= epoch < 2**40:
        raise UserError(f"{path}: source_date_epoch is not a whole number of seconds")
    patches = data.get("patches", [])
    if not isinstance(patches, list) or len(patches) > 1000:
        raise UserError(f"{path}: patches is not a list")
    for p in patches:
        if not isinstance(p, dict):
            raise UserError(f"{path}: patches holds a {type(p).__name__}, not an object with name and sha256")
        _manifest_text(p, "name", path, _PATCH_NAME)
        _manifest_text(p, "sha256", path, _SHA256)
    text = pinned_config(path, want)
    return data, text


def manifest_patches(data: Mapping[str, object]) -> tuple[str, ...]:
    """sha256 of each patch a (checked) manifest says the build applied."""
    entries = data.get("patches", [])
    return (
        tuple(str(p["sha256"]) for p in entries if isinstance(p, dict)) if isinstance(entries, list) else ()
    )


def load_subject(path: Path) -> Subject:
    """A profile (``.toml``), a build's ``manifest.json`` or the build folder holding one."""
    from busyconf.model.config import resolve
    from busyconf.model.dotconfig import parse_dotconfig
    from busyconf.model.kconfig import load_tree
    from busyconf.model.sources import is_profile, load_any

    if path.is_dir():
        path = path / MANIFEST_NAME
    elif not path.exists() and not path.is_symlink():
        raise UserError(f"{path}: no such file or folder")
    if is_profile(path):
        loaded = load_any(path)
        return Subject(path.stem, loaded.config)
    if path.suffix != ".json":
        raise UserError(f"{path}: not a profile (.toml) or a build's {MANIFEST_NAME}")
    data, text = read_manifest(path)
    release = str(data["release"])
    header = re.search(r"^# Busybox version: (\S+)", text, re.M)
    if header and header.group(1) != release:
        raise UserError(
            f"{path.parent / CONFIG_NAME}: made for BusyBox {header.group(1)}, but {path} says {release}"
        )
    tree = load_tree(release)
    dot = parse_dotconfig(text, str(path.parent / CONFIG_NAME), tree)
    epoch = data.get("source_date_epoch")
    return Subject(
        path.parent.name or path.stem,
        resolve(tree, dot.assignments),
        manifest_patches(data),
        epoch if isinstance(epoch, int) else None,
        str(data.get("binary_sha256", "")),
    )


# -- VEX ------------------------------------------------------------------------------------------


def cpe(release: str) -> str:
    """NVD's CPE for a BusyBox release (what scanners match BusyBox by)."""
    return f"cpe:2.3:a:busybox:busybox:{release}:*:*:*:*:*:*:*"


def purl(release: str) -> str:
    """The package URL busyconf's SBOMs give BusyBox (no ecosystem has upstream tarballs)."""
    return f"pkg:generic/busybox@{release}"


def timestamp(subject: Subject, database: Database | None = None) -> str:
    """The document time: the build's SOURCE_DATE_EPOCH, else the release's date (deterministic)."""
    db = database or load_database()
    epoch = subject.source_date_epoch
    if epoch is None:
        epoch = db.release_dates.get(subject.config.release, max(db.release_dates.values(), default=0))
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _action(finding: Finding) -> str:
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


def openvex(subject: Subject, findings: Sequence[Finding], tooling: str = "busyconf") -> dict[str, Any]:
    """An OpenVEX 0.2.0 document: one statement per CVE for this BusyBox build or profile."""
    release = subject.config.release
    product: dict[str, Any] = {
        "@id": purl(release),
        "identifiers": {"purl": purl(release), "@cpe23": cpe(release)},
    }
    if subject.binary_sha256:
        product["hashes"] = {"sha-256": subject.binary_sha256}
    when = timestamp(subject)
    statements = []
    for f in findings:
        st: dict[str, Any] = {
            "vulnerability": {"name": f.cve.id, "description": f.cve.summary},
            "timestamp": when,
            "products": [product],
            "status": f.status,
            "status_notes": f.reason,
        }
        if f.status == NOT_AFFECTED:
            st["justification"] = f.justification
        elif f.status == AFFECTED:
            st["action_statement"] = _action(f)
        statements.append(st)
    body = json.dumps([subject.name, statements], sort_keys=True).encode()
    doc_id = uuid.uuid5(uuid.NAMESPACE_URL, "busyconf-openvex:" + hashlib.sha256(body).hexdigest())
    return {
        "@context": "https://openvex.dev/ns/v0.2.0",
        "@id": f"urn:uuid:{doc_id}",
        "author": "busyconf",
        "timestamp": when,
        "version": 1,
        "tooling": tooling,
        "statements": statements,
    }


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
            vuln["recommendation"] = _action(f)
        out.append(vuln)
    return out
