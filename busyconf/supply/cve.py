"""Which known BusyBox CVEs apply to a profile or a build, as OpenVEX.

The CVE data and the rules live in :mod:`busyconf.source.advisories`; this module reads
what a user points at and writes the documents. Input is a profile or a build's
``manifest.json`` with its ``busybox.config``: a manifest is untrusted, so it is checked
field by field and the config against its ``config_sha256``.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from busyconf.build.manifest import CONFIG_NAME, pinned_config
from busyconf.errors import UserError, read_user_json_object
from busyconf.source.advisories import (
    AFFECTED,
    NOT_AFFECTED,
    PATCH_NAME,
    SHA256_HEX,
    Database,
    Finding,
    action,
    load_database,
)
from busyconf.source.releases import check_version

if TYPE_CHECKING:
    from busyconf.model.config import Configuration

MANIFEST_NAME = "manifest.json"
MAX_MANIFEST = 1024 * 1024


@dataclass(frozen=True)
class Subject:
    """What the CVEs are checked against: a configuration and what is known about its build."""

    name: str
    config: Configuration
    #: sha256 of the Debian patches the build applied.
    patches: tuple[str, ...] = ()
    source_date_epoch: int | None = None
    binary_sha256: str = ""


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
    want = _manifest_text(data, "config_sha256", path, SHA256_HEX)
    if "binary_sha256" in data:
        _manifest_text(data, "binary_sha256", path, SHA256_HEX)
    epoch = data.get("source_date_epoch", 0)
    if not isinstance(epoch, int) or isinstance(epoch, bool) or not 0 <= epoch < 2**40:
        raise UserError(f"{path}: source_date_epoch is not a whole number of seconds")
    patches = data.get("patches", [])
    if not isinstance(patches, list) or len(patches) > 1000:
        raise UserError(f"{path}: patches is not a list")
    for p in patches:
        if not isinstance(p, dict):
            raise UserError(f"{path}: patches holds a {type(p).__name__}, not an object with name and sha256")
        _manifest_text(p, "name", path, PATCH_NAME)
        _manifest_text(p, "sha256", path, SHA256_HEX)
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
    from busyconf.model.inputs import is_profile, load_any
    from busyconf.model.kconfig import load_tree

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
            st["action_statement"] = action(f)
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
