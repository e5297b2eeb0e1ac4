"""SBOMs: SPDX 2.3 and CycloneDX 1.6 beside every build's manifest.

The reference libraries judge the schema (spdx-tools, cyclonedx-python-lib); the content is
checked against the manifest, the ``.config`` and the binary itself (``busybox --list``, its
hashes, the version string compiled into it).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator
from packageurl import PackageURL
from spdx_tools.spdx.parser.parse_anything import parse_file
from spdx_tools.spdx.validation.document_validator import validate_full_spdx_document

from busyconf.build import config_lines, sbom
from busyconf.build.arch import get_arch
from busyconf.build.manifest import Manifest
from busyconf.build.toolchain import resolve_toolchain
from tests.conftest import STARTERS, StarterBuild

CONFIG = (
    "CONFIG_ASH=y\nCONFIG_LS=y\n# CONFIG_VI is not set\nCONFIG_FEATURE_EDITING_HISTORY=255\n"
    "CONFIG_SH_IS_ASH=y\n"
)
BINARY = b"\x7fELF not really BusyBox v1.38.0"


def _manifest(binary: bytes = BINARY, config: str = CONFIG, **changes: Any) -> Manifest:
    fields: dict[str, Any] = dict(
        release="1.38.0",
        arch="x86_64",
        toolchain="zig",
        toolchain_version="zig 0.17.1",
        config_sha256=hashlib.sha256(config.encode()).hexdigest(),
        binary_sha256=hashlib.sha256(binary).hexdigest(),
        binary_size=len(binary),
        applets=("ash", "ls", "sh"),
        build_seconds=12.5,
        built_at="2026-11-29T20:00:00+00:00",
        source_date_epoch=1_700_000_000,
        libc="musl 1.2.5",
    )
    fields.update(changes)
    return Manifest(**fields)


def _spdx_problems(path: Path) -> list[str]:
    return [m.validation_message for m in validate_full_spdx_document(parse_file(str(path)))]


def _cdx_problem(text: str) -> object:
    return JsonStrictValidator(SchemaVersion.V1_6).validate_str(text)


def _write(folder: Path, files: dict[str, bytes]) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (folder / name).write_bytes(data)
    return {name: folder / name for name in files}


def _applets_and_enabled(spdx: dict[str, Any], cdx: dict[str, Any]) -> tuple[list[str], ...]:
    """(SPDX applets, CycloneDX applets, SPDX enabled, CycloneDX enabled) as the documents say."""
    notes = {
        a["comment"].split("=", 1)[0]: a["comment"].split("=", 1)[1]
        for a in spdx["packages"][0]["annotations"]
    }
    props = cdx["metadata"]["component"]["properties"]
    return (
        notes["busyconf:applets"].split(),
        [p["value"] for p in props if p["name"] == "busyconf:applet"],
        notes["busyconf:enabled"].split(),
        [p["value"] for p in props if p["name"] == "busyconf:enabled"],
    )


def test_hand_made_manifest_gives_valid_deterministic_sboms(tmp_path: Path) -> None:
    first = sbom.sbom_files(_manifest(), CONFIG, BINARY)
    # The wall clock and the build's duration are in the manifest but not in the SBOMs.
    again = sbom.sbom_files(
        _manifest(built_at="2030-01-01T00:00:00+00:00", build_seconds=99.0), CONFIG, BINARY
    )
    assert first == again
    paths = _write(tmp_path, first)
    assert _spdx_problems(paths[sbom.SPDX_NAME]) == []
    assert _cdx_problem(first[sbom.CYCLONEDX_NAME].decode()) is None

    spdx = json.loads(first[sbom.SPDX_NAME])
    cdx = json.loads(first[sbom.CYCLONEDX_NAME])
    assert spdx["creationInfo"]["created"] == cdx["metadata"]["timestamp"] == "2023-11-14T22:13:20Z"
    spdx_applets, cdx_applets, spdx_on, cdx_on = _applets_and_enabled(spdx, cdx)
    assert spdx_applets == cdx_applets == ["ash", "ls", "sh"]
    assert spdx_on == cdx_on == ["ASH", "LS", "SH_IS_ASH"]

    # Another binary: other document ids, so two builds never share a namespace or serial.
    other = b"another binary"
    changed = sbom.sbom_files(_manifest(other), CONFIG, other)
    assert json.loads(changed[sbom.SPDX_NAME])["documentNamespace"] != spdx["documentNamespace"]
    assert json.loads(changed[sbom.CYCLONEDX_NAME])["serialNumber"] != cdx["serialNumber"]


def test_identifiers_are_what_scanners_match(tmp_path: Path) -> None:
    cdx = sbom.cyclonedx_document(_manifest(), CONFIG, BINARY)
    busybox = cdx["metadata"]["component"]
    assert busybox["cpe"] == "cpe:2.3:a:busybox:busybox:1.38.0:*:*:*:*:*:*:*"
    purl = PackageURL.from_string(busybox["purl"])
    assert (purl.type, purl.name, purl.version) == ("generic", "busybox", "1.38.0")
    assert purl.qualifiers["download_url"] == "https://busybox.net/downloads/busybox-1.38.0.tar.bz2"
    musl = cdx["components"][0]
    assert musl["version"] == "1.2.5" and musl["cpe"].startswith("cpe:2.3:a:musl-libc:musl:1.2.5:")
    for p in (busybox["purl"], musl["purl"]):
        assert PackageURL.from_string(p).to_string() == p, "purl not in canonical form"
    assert cdx["dependencies"][0] == {"ref": busybox["bom-ref"], "dependsOn": [musl["bom-ref"]]}
    zig = cdx["formulation"][0]["components"][0]
    assert (zig["name"], zig["version"]) == ("zig", "0.17.1")

    # Debian's musl-gcc: the musl is Debian's package, the CPE names the upstream version.
    debian = _manifest(
        toolchain="musl-gcc",
        toolchain_version="musl-gcc (Debian 12.2.0-14) 12.2.0 + musl 1.2.3",
        libc="musl 1.2.3-1",
    )
    files = sbom.sbom_files(debian, CONFIG, BINARY)
    cdx = json.loads(files[sbom.CYCLONEDX_NAME])
    assert cdx["components"][0]["purl"] == "pkg:deb/debian/musl@1.2.3-1"
    assert cdx["components"][0]["cpe"].startswith("cpe:2.3:a:musl-libc:musl:1.2.3:")
    gcc = cdx["formulation"][0]["components"][0]
    assert (gcc["name"], gcc["version"]) == ("gcc", "12.2.0")
    assert _spdx_problems(_write(tmp_path, files)[sbom.SPDX_NAME]) == []
    assert _cdx_problem(files[sbom.CYCLONEDX_NAME].decode()) is None


def test_unknown_libc_version_gets_no_wildcard_cpe(tmp_path: Path) -> None:
    """A cross prefix does not say its musl version: no CPE, else a scanner would match every musl CVE."""
    cross = _manifest(
        toolchain="aarch64-linux-musl-",
        toolchain_version="aarch64-linux-musl-gcc (GCC) 11.2.1 20211120",
        libc="",
        arch="aarch64",
    )
    files = sbom.sbom_files(cross, CONFIG, BINARY)
    cdx = json.loads(files[sbom.CYCLONEDX_NAME])
    assert "cpe" not in cdx["components"][0] and "version" not in cdx["components"][0]
    spdx = json.loads(files[sbom.SPDX_NAME])
    assert [r["referenceType"] for r in spdx["packages"][1]["externalRefs"]] == ["purl"]
    assert cdx["formulation"][0]["components"][0]["version"] == "11.2.1"
    assert _spdx_problems(_write(tmp_path, files)[sbom.SPDX_NAME]) == []
    assert _cdx_problem(files[sbom.CYCLONEDX_NAME].decode()) is None


def test_validators_catch_a_broken_document(tmp_path: Path) -> None:
    """The reference validators are no rubber stamps: each refuses a damaged document."""
    spdx = sbom.spdx_document(_manifest(), CONFIG, BINARY)
    spdx["packages"][0]["externalRefs"][0]["referenceLocator"] = "cpe:busybox"
    path = tmp_path / "broken.spdx.json"
    path.write_text(json.dumps(spdx))
    assert any("cpe" in p for p in _spdx_problems(path))
    cdx = sbom.cyclonedx_document(_manifest(), CONFIG, BINARY)
    cdx["metadata"]["component"]["hashes"][0]["alg"] = "CRC32"
    assert _cdx_problem(json.dumps(cdx)) is not None


def test_a_binary_or_config_the_manifest_does_not_describe_is_refused() -> None:
    with pytest.raises(ValueError, match="binary"):
        sbom.sbom_files(_manifest(), CONFIG, BINARY + b"x")
    with pytest.raises(ValueError, match="config"):
        sbom.sbom_files(_manifest(), CONFIG + "CONFIG_VI=y\n", BINARY)


def test_zig_bundles_musl_1_2_5() -> None:
    """ziglang 0.17.1 (pinned in pyproject.toml) carries musl 1.2.5 in its lib/libc/musl."""
    assert sbom.libc_version(resolve_toolchain("zig", get_arch("x86_64"))) == "musl 1.2.5"


def _manifest_of(path: Path) -> Manifest:
    data = json.loads(path.read_text())
    for f in dataclasses.fields(Manifest):
        if isinstance(data.get(f.name), list):
            data[f.name] = tuple(data[f.name])
    return Manifest(**data)


@pytest.mark.slow
@pytest.mark.parametrize("starter", STARTERS, ids=lambda p: p.stem)
def test_starter_sboms_validate_and_match_the_binary(
    starter: Path, starter_build: Callable[[Path], StarterBuild]
) -> None:
    built = starter_build(starter)
    out, manifest = built.out, built.manifest
    spdx_path, cdx_path = out / sbom.SPDX_NAME, out / sbom.CYCLONEDX_NAME
    assert _spdx_problems(spdx_path) == []
    assert _cdx_problem(cdx_path.read_text()) is None

    spdx, cdx = json.loads(spdx_path.read_text()), json.loads(cdx_path.read_text())
    binary, config = (out / "busybox").read_bytes(), (out / "busybox.config").read_text()

    # Applets: the SBOMs, the manifest and the binary itself agree.
    listed = subprocess.run([out / "busybox", "--list"], capture_output=True, text=True, check=True)
    spdx_applets, cdx_applets, spdx_on, cdx_on = _applets_and_enabled(spdx, cdx)
    assert spdx_applets == cdx_applets == manifest["applets"] == sorted(listed.stdout.split())
    on = sorted(s for s, v in config_lines.parse(config).items() if v == "y")
    assert spdx_on == cdx_on == on and "STATIC" in on

    # Hashes: of the files beside them.
    want = {
        "SHA1": hashlib.sha1(binary).hexdigest(),
        "SHA256": hashlib.sha256(binary).hexdigest(),
        "SHA512": hashlib.sha512(binary).hexdigest(),
    }
    assert want["SHA256"] == manifest["binary_sha256"]
    files = {
        f["fileName"]: {c["algorithm"]: c["checksumValue"] for c in f["checksums"]} for f in spdx["files"]
    }
    assert files["./busybox"] == want
    assert files["./busybox.config"]["SHA256"] == hashlib.sha256(config.encode()).hexdigest()
    assert files["./busybox.config"]["SHA256"] == manifest["config_sha256"]
    component = cdx["metadata"]["component"]
    assert {h["alg"].replace("-", ""): h["content"] for h in component["hashes"]} == want
    config_file = cdx["formulation"][0]["components"][1]
    assert config_file["name"] == "busybox.config"
    assert {h["alg"]: h["content"] for h in config_file["hashes"]}["SHA-256"] == manifest["config_sha256"]

    # Versions: the manifest's, and the one compiled into the binary.
    release = manifest["release"]
    assert f"BusyBox v{release}".encode() in binary
    package = spdx["packages"][0]
    assert package["versionInfo"] == component["version"] == release
    assert component["cpe"] == f"cpe:2.3:a:busybox:busybox:{release}:*:*:*:*:*:*:*"
    assert {r["referenceLocator"] for r in package["externalRefs"]} == {component["cpe"], component["purl"]}
    assert manifest["libc"] == "musl 1.2.5"
    assert spdx["packages"][1]["versionInfo"] == cdx["components"][0]["version"] == "1.2.5"
    toolchain = cdx["formulation"][0]["components"][0]
    assert f"{toolchain['name']} {toolchain['version']}" == manifest["toolchain_version"]
    assert spdx["packages"][2]["versionInfo"] == toolchain["version"]
    assert spdx["creationInfo"]["created"] == cdx["metadata"]["timestamp"]
    epoch = dt.datetime.fromtimestamp(manifest["source_date_epoch"], dt.timezone.utc)
    assert cdx["metadata"]["timestamp"] == epoch.strftime("%Y-%m-%dT%H:%M:%SZ")

    # Deterministic: the manifest, config and binary beside them give the same bytes again.
    again = sbom.sbom_files(_manifest_of(out / "manifest.json"), config, binary)
    assert again == {sbom.SPDX_NAME: spdx_path.read_bytes(), sbom.CYCLONEDX_NAME: cdx_path.read_bytes()}
