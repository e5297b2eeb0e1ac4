"""SBOMs of a build: SPDX 2.3 and CycloneDX 1.6 JSON, written beside ``manifest.json``.

Both documents are made from the build's :class:`~busyconf.build.manifest.Manifest`, its final
``.config`` and the binary alone, with no clock and no random number: the dates come from the
manifest's ``source_date_epoch`` and the document ids from the binary's sha256, so a rebuild
that reproduces the binary reproduces its SBOMs byte for byte.

Identifiers: BusyBox gets the NVD CPE ``cpe:2.3:a:busybox:busybox:VER`` (what grype matches a
binary BusyBox by; syft's ``busybox-binary`` classifier emits the same) and the purl
``pkg:generic/busybox@VER`` (what syft and Docker Scout give a BusyBox found as a file: there is
no package ecosystem for an upstream tarball, and an ``apk`` or ``deb`` purl would claim a
distribution's patched package). musl gets ``cpe:2.3:a:musl-libc:musl:VER``; built with Debian's
musl-gcc it is Debian's package (``pkg:deb/debian/musl``), with zig the copy zig bundles.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import subprocess
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from busyconf import __version__
from busyconf.build import config_lines
from busyconf.source.advisories import applicability, cyclonedx_vulnerabilities
from busyconf.source.releases import RELEASES, UPSTREAM_URL

if TYPE_CHECKING:
    from busyconf.build.manifest import Manifest
    from busyconf.build.toolchain import Toolchain

SPDX_NAME = "sbom.spdx.json"
CYCLONEDX_NAME = "sbom.cdx.json"

BUSYBOX_LICENSE = "GPL-2.0-only"
MUSL_LICENSE = "MIT"
MUSL_URL = "https://musl.libc.org/releases/musl-{version}.tar.gz"
TOOL = f"busyconf-{__version__}"

#: uuid5 namespace of busyconf's document ids (any fixed UUID works; this one is uuid5(URL, "busyconf")).
_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "busyconf")

_ZIG_MUSL_VERSION_H = Path("libc/musl/src/internal/version.h")

#: Toolchain kind -> (name, supplier, SPDX license) of the compiler.
_COMPILERS: dict[str, tuple[str, str, str]] = {
    "zig": ("zig", "Zig Software Foundation", "MIT"),
    "musl-gcc": ("gcc", "GNU Project", "GPL-3.0-or-later WITH GCC-exception-3.1"),
    "cross": ("gcc", "GNU Project", "GPL-3.0-or-later WITH GCC-exception-3.1"),
}


def libc_version(toolchain: Toolchain) -> str:
    """``musl VERSION`` of the C library ``toolchain`` links in statically, or ``""`` if unknown.

    zig: the ``VERSION`` in its bundled ``lib/libc/musl/src/internal/version.h`` (zig ships
    no ``VERSION`` file). musl-gcc: the version of Debian's ``musl-dev`` package, whose
    ``libc.a`` is what gets linked. A cross prefix: unknown (its sysroot does not say).
    """
    if toolchain.kind == "zig":
        exe = Path(toolchain.compiler).resolve()
        # The ziglang wheel and zig's tarballs keep lib/ beside the executable; distributions lib/zig.
        for lib in (exe.parent / "lib", exe.parent.parent / "lib" / "zig"):
            try:
                m = re.search(r'#define\s+VERSION\s+"([^"\s]+)"', (lib / _ZIG_MUSL_VERSION_H).read_text())
            except OSError:
                continue
            if m:
                return f"musl {m.group(1)}"
        return ""
    if toolchain.kind == "musl-gcc":
        try:
            proc = subprocess.run(
                ["dpkg-query", "-W", "-f=${Version}", "musl-dev"],
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=30,
                check=False,
            )
        except OSError:
            proc = None
        if proc is not None and proc.returncode == 0 and re.fullmatch(r"[0-9][A-Za-z0-9.+~:-]*", proc.stdout):
            return f"musl {proc.stdout}"
        m = re.search(r"\+ musl (\S+)$", toolchain.version)
        return f"musl {m.group(1)}" if m else ""
    return ""


def _hashes(data: bytes) -> dict[str, str]:
    return {
        "SHA1": hashlib.sha1(data).hexdigest(),
        "SHA256": hashlib.sha256(data).hexdigest(),
        "SHA512": hashlib.sha512(data).hexdigest(),
    }


def _timestamp(epoch: int) -> str:
    return dt.datetime.fromtimestamp(epoch, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _purl(kind: str, namespace: str, name: str, version: str, qualifiers: dict[str, str]) -> str:
    """A canonical purl: qualifiers sorted by key, values percent-encoded as the purl spec says."""
    path = f"{namespace}/{name}" if namespace else name
    text = f"pkg:{kind}/{path}@{quote(version, safe='')}"
    if qualifiers:
        text += "?" + "&".join(f"{k}={quote(v, safe='/:')}" for k, v in sorted(qualifiers.items()) if v)
    return text


def _upstream_version(version: str) -> str:
    """``1.2.3`` of Debian's ``1.2.3-1`` (the CPE names upstream versions); others as given."""
    return re.sub(r"-[^-]*$", "", version.split(":", 1)[-1])


class _Facts:
    """Everything both documents say, computed once from the manifest, config and binary."""

    def __init__(self, manifest: Manifest, config_text: str, binary: bytes) -> None:
        self.manifest = manifest
        self.binary = _hashes(binary)
        if self.binary["SHA256"] != manifest.binary_sha256:
            raise ValueError("the binary is not the one the manifest describes (sha256 differs)")
        config = config_text.encode()
        self.config = _hashes(config)
        if self.config["SHA256"] != manifest.config_sha256:
            raise ValueError("the .config is not the one the manifest describes (sha256 differs)")
        values = config_lines.parse(config_text)
        self.enabled = tuple(sorted(sym for sym, value in values.items() if value == "y"))
        self.version = manifest.release
        self.created = _timestamp(manifest.source_date_epoch)
        tarball_sha = manifest.source_sha256 or (
            RELEASES[self.version].sha256 if self.version in RELEASES else ""
        )
        self.tarball_sha256: str = tarball_sha
        self.tarball_url = UPSTREAM_URL.format(version=self.version)
        qualifiers = {"download_url": self.tarball_url}
        if tarball_sha:
            qualifiers["checksum"] = f"sha256:{tarball_sha}"
        self.purl = _purl("generic", "", "busybox", self.version, qualifiers)
        self.cpe = f"cpe:2.3:a:busybox:busybox:{self.version}:*:*:*:*:*:*:*"

        libc = manifest.libc
        self.musl_version = libc.split(" ", 1)[1] if libc.startswith("musl ") else ""
        musl_upstream = _upstream_version(self.musl_version)
        # No CPE for an unknown version: a wildcard one would match every musl CVE ever filed.
        self.musl_cpe = f"cpe:2.3:a:musl-libc:musl:{musl_upstream}:*:*:*:*:*:*:*" if musl_upstream else ""
        self.musl_download = ""
        if manifest.toolchain == "musl-gcc" and self.musl_version:
            self.musl_purl = _purl("deb", "debian", "musl", self.musl_version, {})
        elif self.musl_version:
            self.musl_download = MUSL_URL.format(version=self.musl_version)
            self.musl_purl = _purl(
                "generic", "", "musl", self.musl_version, {"download_url": self.musl_download}
            )
        else:
            self.musl_purl = "pkg:generic/musl"

        kind = manifest.toolchain if manifest.toolchain in ("zig", "musl-gcc") else "cross"
        self.compiler, self.compiler_supplier, self.compiler_license = _COMPILERS[kind]
        found = re.findall(
            r"\b\d+\.\d+(?:\.\d+)?(?:[-.+][0-9A-Za-z.+-]*)?", manifest.toolchain_version.split(" + ")[0]
        )
        self.compiler_version = found[-1] if found else ""
        self.compiler_purl = _purl("generic", "", self.compiler, self.compiler_version or "unknown", {})
        self.serial = uuid.uuid5(_NAMESPACE, f"cyclonedx:{manifest.binary_sha256}")
        self.spdx_id = uuid.uuid5(_NAMESPACE, f"spdx:{manifest.binary_sha256}")
        self.title = f"busybox-{self.version}-{manifest.arch}"

    def properties(self) -> list[tuple[str, str]]:
        """(name, value) pairs about the build, in a fixed order."""
        m = self.manifest
        pairs = [
            ("busyconf:arch", m.arch),
            ("busyconf:toolchain", m.toolchain),
            ("busyconf:toolchain_version", m.toolchain_version),
            ("busyconf:libc", m.libc or "unknown"),
            ("busyconf:config_sha256", m.config_sha256),
            ("busyconf:binary_size", str(m.binary_size)),
            ("busyconf:source_date_epoch", str(m.source_date_epoch)),
        ]
        pairs += [("busyconf:dropped_option", d) for d in m.dropped_options]
        return pairs


def _spdx_annotation(created: str, text: str) -> dict[str, str]:
    return {
        "annotationDate": created,
        "annotationType": "OTHER",
        "annotator": f"Tool: {TOOL}",
        "comment": text,
    }


def spdx_document(manifest: Manifest, config_text: str, binary: bytes) -> dict[str, Any]:
    """The SPDX 2.3 document (JSON form) of a build.

    Packages: BusyBox (the release, with CPE and purl; it CONTAINS the binary and its
    ``busybox.config``), musl (STATIC_LINK) and the compiler (BUILD_TOOL_OF). The applets, the
    enabled symbols and the build's facts are annotations on the BusyBox package, one line each
    of the form ``busyconf:KEY=VALUE`` (SPDX 2.3 packages have no properties).
    """
    f = _Facts(manifest, config_text, binary)
    files = [
        {
            "SPDXID": "SPDXRef-File-busybox",
            "fileName": "./busybox",
            "fileTypes": ["BINARY", "APPLICATION"],
            "checksums": [{"algorithm": alg, "checksumValue": v} for alg, v in f.binary.items()],
            "licenseConcluded": BUSYBOX_LICENSE,
            "licenseInfoInFiles": ["NOASSERTION"],
            "copyrightText": "NOASSERTION",
        },
        {
            "SPDXID": "SPDXRef-File-busybox.config",
            "fileName": "./busybox.config",
            "fileTypes": ["TEXT"],
            "checksums": [{"algorithm": alg, "checksumValue": v} for alg, v in f.config.items()],
            "licenseConcluded": "NOASSERTION",
            "licenseInfoInFiles": ["NOASSERTION"],
            "copyrightText": "NOASSERTION",
            "comment": "The full BusyBox .config the binary was built from.",
        },
    ]
    # SPDX 2.3 clause 7.9: the SHA1 of the package's files' sorted SHA1s.
    verification = hashlib.sha1("".join(sorted((f.binary["SHA1"], f.config["SHA1"]))).encode()).hexdigest()
    notes = [f"busyconf:{k.removeprefix('busyconf:')}={v}" for k, v in f.properties()]
    notes.append("busyconf:applets=" + " ".join(manifest.applets))
    notes.append("busyconf:enabled=" + " ".join(f.enabled))
    busybox: dict[str, Any] = {
        "SPDXID": "SPDXRef-Package-busybox",
        "name": "busybox",
        "versionInfo": f.version,
        "packageFileName": f"busybox-{f.version}.tar.bz2",
        "supplier": "Organization: BusyBox project",
        "downloadLocation": f.tarball_url,
        "filesAnalyzed": True,
        "packageVerificationCode": {"packageVerificationCodeValue": verification},
        "homepage": "https://busybox.net/",
        "licenseConcluded": BUSYBOX_LICENSE,
        "licenseDeclared": BUSYBOX_LICENSE,
        "licenseInfoFromFiles": ["NOASSERTION"],
        "copyrightText": "NOASSERTION",
        "summary": f"Static BusyBox {f.version} for {manifest.arch} with {len(manifest.applets)} applets",
        "externalRefs": [
            {"referenceCategory": "SECURITY", "referenceType": "cpe23Type", "referenceLocator": f.cpe},
            {"referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl", "referenceLocator": f.purl},
        ],
        "primaryPackagePurpose": "APPLICATION",
        "annotations": [_spdx_annotation(f.created, note) for note in notes],
    }
    if f.tarball_sha256:
        busybox["checksums"] = [{"algorithm": "SHA256", "checksumValue": f.tarball_sha256}]
    musl: dict[str, Any] = {
        "SPDXID": "SPDXRef-Package-musl",
        "name": "musl",
        "supplier": "Organization: musl libc",
        "downloadLocation": f.musl_download or "NOASSERTION",
        "filesAnalyzed": False,
        "homepage": "https://musl.libc.org/",
        "licenseConcluded": MUSL_LICENSE,
        "licenseDeclared": MUSL_LICENSE,
        "copyrightText": "NOASSERTION",
        "externalRefs": [
            {
                "referenceCategory": "PACKAGE-MANAGER",
                "referenceType": "purl",
                "referenceLocator": f.musl_purl,
            },
        ],
        "primaryPackagePurpose": "LIBRARY",
        "comment": "The C library, linked in statically.",
    }
    if f.musl_version:
        musl["versionInfo"] = f.musl_version
    if f.musl_cpe:
        musl["externalRefs"].insert(
            0, {"referenceCategory": "SECURITY", "referenceType": "cpe23Type", "referenceLocator": f.musl_cpe}
        )
    compiler: dict[str, Any] = {
        "SPDXID": "SPDXRef-Package-toolchain",
        "name": f.compiler,
        "supplier": f"Organization: {f.compiler_supplier}",
        "downloadLocation": "NOASSERTION",
        "filesAnalyzed": False,
        "licenseConcluded": "NOASSERTION",
        "licenseDeclared": f.compiler_license,
        "copyrightText": "NOASSERTION",
        "externalRefs": [
            {
                "referenceCategory": "PACKAGE-MANAGER",
                "referenceType": "purl",
                "referenceLocator": f.compiler_purl,
            },
        ],
        "primaryPackagePurpose": "APPLICATION",
        "comment": f"busyconf toolchain {manifest.toolchain}: {manifest.toolchain_version}",
    }
    if f.compiler_version:
        compiler["versionInfo"] = f.compiler_version

    def rel(a: str, kind: str, b: str) -> dict[str, str]:
        return {"spdxElementId": a, "relationshipType": kind, "relatedSpdxElement": b}

    return {
        "spdxVersion": "SPDX-2.3",
        "dataLicense": "CC0-1.0",
        "SPDXID": "SPDXRef-DOCUMENT",
        "name": f.title,
        "documentNamespace": f"https://spdx.org/spdxdocs/{f.title}-{f.spdx_id}",
        "creationInfo": {"created": f.created, "creators": [f"Tool: {TOOL}"]},
        "packages": [busybox, musl, compiler],
        "files": files,
        "relationships": [
            rel("SPDXRef-DOCUMENT", "DESCRIBES", "SPDXRef-Package-busybox"),
            rel("SPDXRef-Package-busybox", "CONTAINS", "SPDXRef-File-busybox"),
            rel("SPDXRef-Package-busybox", "CONTAINS", "SPDXRef-File-busybox.config"),
            rel("SPDXRef-File-busybox", "GENERATED_FROM", "SPDXRef-File-busybox.config"),
            rel("SPDXRef-File-busybox", "STATIC_LINK", "SPDXRef-Package-musl"),
            rel("SPDXRef-Package-toolchain", "BUILD_TOOL_OF", "SPDXRef-Package-busybox"),
        ],
    }


def _cdx_hashes(hashes: dict[str, str]) -> list[dict[str, str]]:
    names = {"SHA1": "SHA-1", "SHA256": "SHA-256", "SHA512": "SHA-512"}
    return [{"alg": names[alg], "content": value} for alg, value in hashes.items()]


def _cdx_properties(pairs: Sequence[tuple[str, str]]) -> list[dict[str, str]]:
    return [{"name": k, "value": v} for k, v in pairs]


def cyclonedx_document(manifest: Manifest, config_text: str, binary: bytes) -> dict[str, Any]:
    """The CycloneDX 1.6 BOM (JSON form) of a build.

    ``metadata.component`` is the BusyBox binary (hashes of the file, CPE, purl); its
    properties list each applet (``busyconf:applet``) and each enabled symbol
    (``busyconf:enabled``, without ``CONFIG_``). musl is a component it depends on; the
    compiler and ``busybox.config`` are in ``formulation`` (how it was made, not what ships).
    The bom-refs are the purls (``pkg:generic/busybox@VER?...``), for VEX statements to name.
    """
    f = _Facts(manifest, config_text, binary)
    busybox_props = f.properties()
    busybox_props += [("busyconf:applet", a) for a in manifest.applets]
    busybox_props += [("busyconf:enabled", s) for s in f.enabled]
    distribution: dict[str, Any] = {"type": "distribution", "url": f.tarball_url}
    if f.tarball_sha256:
        distribution["hashes"] = [{"alg": "SHA-256", "content": f.tarball_sha256}]
    busybox = {
        "type": "application",
        "bom-ref": f.purl,
        "supplier": {"name": "BusyBox project", "url": ["https://busybox.net/"]},
        "name": "busybox",
        "version": f.version,
        "description": f"Static BusyBox {f.version} for {manifest.arch} with {len(manifest.applets)} applets",
        "licenses": [{"license": {"id": BUSYBOX_LICENSE}}],
        "hashes": _cdx_hashes(f.binary),
        "cpe": f.cpe,
        "purl": f.purl,
        "externalReferences": [distribution, {"type": "website", "url": "https://busybox.net/"}],
        "properties": _cdx_properties(busybox_props),
    }
    musl: dict[str, Any] = {
        "type": "library",
        "bom-ref": f.musl_purl,
        "supplier": {"name": "musl libc", "url": ["https://musl.libc.org/"]},
        "name": "musl",
        "licenses": [{"license": {"id": MUSL_LICENSE}}],
        **({"cpe": f.musl_cpe} if f.musl_cpe else {}),
        "purl": f.musl_purl,
        "properties": _cdx_properties([("busyconf:linkage", "static")]),
    }
    if f.musl_version:
        musl["version"] = f.musl_version
    compiler: dict[str, Any] = {
        "type": "application",
        "bom-ref": f.compiler_purl,
        "supplier": {"name": f.compiler_supplier},
        "name": f.compiler,
        "licenses": [{"expression": f.compiler_license}],
        "purl": f.compiler_purl,
        "properties": _cdx_properties(
            [
                ("busyconf:toolchain", manifest.toolchain),
                ("busyconf:toolchain_version", manifest.toolchain_version),
            ]
        ),
    }
    if f.compiler_version:
        compiler["version"] = f.compiler_version
    config = {
        "type": "file",
        "bom-ref": "file:busybox.config",
        "name": "busybox.config",
        "description": "The full BusyBox .config the binary was built from.",
        "hashes": _cdx_hashes(f.config),
    }
    return {
        "$schema": "http://cyclonedx.org/schema/bom-1.6.schema.json",
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "serialNumber": f"urn:uuid:{f.serial}",
        "version": 1,
        "metadata": {
            "timestamp": f.created,
            "lifecycles": [{"phase": "build"}],
            "tools": {"components": [{"type": "application", "name": "busyconf", "version": __version__}]},
            "component": busybox,
        },
        "components": [musl],
        # VEX: each known BusyBox CVE, judged by what this .config compiles in (busyconf.source.advisories).
        "vulnerabilities": cyclonedx_vulnerabilities(
            applicability(config_lines.parse(config_text), manifest.release), f.purl
        ),
        "dependencies": [
            {"ref": f.purl, "dependsOn": [f.musl_purl]},
            {"ref": f.musl_purl, "dependsOn": []},
        ],
        "formulation": [
            {
                "bom-ref": "formula:build",
                "components": [compiler, config],
                "properties": _cdx_properties(
                    [("busyconf:source_date_epoch", str(manifest.source_date_epoch))]
                ),
            }
        ],
    }


def _dump(doc: dict[str, Any]) -> bytes:
    return (json.dumps(doc, indent=2, ensure_ascii=False) + "\n").encode()


def sbom_files(manifest: Manifest, config_text: str, binary: bytes) -> dict[str, bytes]:
    """``{SPDX_NAME: ..., CYCLONEDX_NAME: ...}``: both SBOMs as the bytes to write beside the manifest.

    Raises:
        ValueError: ``binary`` or ``config_text`` is not what ``manifest`` describes.
    """
    return {
        SPDX_NAME: _dump(spdx_document(manifest, config_text, binary)),
        CYCLONEDX_NAME: _dump(cyclonedx_document(manifest, config_text, binary)),
    }
