"""CVE applicability: real profiles on real BusyBox trees, the data file checked against
Debian's real source packages and the release trees, VEX output checked against its specs."""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
import tarfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from busyconf.cli import main
from busyconf.source import SourceCache
from busyconf.source.advisories import (
    AFFECTED,
    FIXED,
    NOT_AFFECTED,
    Finding,
    applicability,
    cyclonedx_vulnerabilities,
    load_database,
)
from busyconf.source.releases import RELEASES, version_key
from busyconf.supply.cve import load_subject, openvex

REPO = Path(__file__).resolve().parents[2]
CONFIGS = REPO / "configs"
DB = load_database()
CVE_ID = re.compile(r"^CVE-(19|20)\d\d-\d{4,7}$")


def profile(tmp: Path, release: str, *config: str, base: str = "defconfig") -> Path:
    path = tmp / f"p{release.replace('.', '')}.toml"
    body = "\n".join(config)
    path.write_text(f'[profile]\nbusybox = "{release}"\nbase = "{base}"\n[config]\n{body}\n')
    return path


def finding(findings: list[Finding], cve: str) -> Finding:
    return next(f for f in findings if f.cve.id == cve)


# -- the "done when" ------------------------------------------------------------------


def test_28391_not_affected_on_container_shell(cache: SourceCache) -> None:
    subject = load_subject(CONFIGS / "container-shell.toml")
    f = finding(applicability(subject.config), "CVE-2022-28391")
    assert f.status == NOT_AFFECTED
    assert f.reason == "CONFIG_NETSTAT and CONFIG_NSLOOKUP are off"
    assert f.justification == "vulnerable_code_not_present"


def test_28391_affected_on_135_defconfig(tmp_path: Path, cache: SourceCache) -> None:
    subject = load_subject(profile(tmp_path, "1.35.0"))
    assert subject.config.release == "1.35.0"
    f = finding(applicability(subject.config), "CVE-2022-28391")
    assert f.status == AFFECTED
    assert "CONFIG_NETSTAT and CONFIG_NSLOOKUP are on" in f.reason


def test_28391_one_applet_is_enough(tmp_path: Path, cache: SourceCache) -> None:
    subject = load_subject(profile(tmp_path, "1.38.0", "NETSTAT = false"))
    f = finding(applicability(subject.config), "CVE-2022-28391")
    assert f.status == AFFECTED and f.reason.startswith("CONFIG_NSLOOKUP is on")


# -- statuses ---------------------------------------------------------------------------------


def test_fixed_before_138_on_138_defconfig(tmp_path: Path, cache: SourceCache) -> None:
    findings = applicability(load_subject(profile(tmp_path, "1.38.0")).config)
    for cve, release in (
        ("CVE-2023-42363", "1.37.0"),
        ("CVE-2021-42380", "1.37.0"),
        ("CVE-2021-28831", "1.33.0"),
    ):
        f = finding(findings, cve)
        assert (f.status, f.reason) == (FIXED, f"fixed in BusyBox {release}")


def test_135_defconfig_is_affected_by_what_137_fixed(tmp_path: Path, cache: SourceCache) -> None:
    findings = applicability(load_subject(profile(tmp_path, "1.35.0")).config)
    assert finding(findings, "CVE-2023-42363").status == AFFECTED
    assert finding(findings, "CVE-2022-48174").status == AFFECTED
    assert finding(findings, "CVE-2021-42375").status == FIXED  # fixed in 1.34.0


def test_fixed_by_applied_debian_patch(tmp_path: Path, cache: SourceCache) -> None:
    config = load_subject(profile(tmp_path, "1.35.0")).config
    cve = next(c for c in DB.cves if c.id == "CVE-2023-42364")
    shas = [p.sha256 for p in cve.patches if p.release == "1.35.0"]
    assert len(shas) == 2
    # Both parts are needed: one of two is still affected.
    assert finding(applicability(config, patches=shas[:1]), cve.id).status == AFFECTED
    f = finding(applicability(config, patches=shas), cve.id)
    assert f.status == FIXED and "CVE-2023-42364-part1.patch" in f.reason


def test_fix_behind_an_option(tmp_path: Path, cache: SourceCache) -> None:
    """CVE-2023-39810's fix in 1.38.0 is FEATURE_PATH_TRAVERSAL_PROTECTION, default off."""
    off = applicability(load_subject(profile(tmp_path, "1.38.0")).config)
    f = finding(off, "CVE-2023-39810")
    assert f.status == AFFECTED and "CONFIG_FEATURE_PATH_TRAVERSAL_PROTECTION, which is off" in f.reason
    on = load_subject(profile(tmp_path, "1.38.0", "FEATURE_PATH_TRAVERSAL_PROTECTION = true")).config
    assert finding(applicability(on), "CVE-2023-39810").status == FIXED
    no_cpio = load_subject(profile(tmp_path, "1.38.0", "CPIO = false")).config
    assert finding(applicability(no_cpio), "CVE-2023-39810").reason == "CONFIG_CPIO is off"


def test_partial_upstream_fix(tmp_path: Path, cache: SourceCache) -> None:
    """1.38.0 has most of CVE-2025-46394's fix; what is left needs FEATURE_TAR_UNAME_GNAME."""
    on = applicability(load_subject(profile(tmp_path, "1.38.0")).config)
    assert finding(on, "CVE-2025-46394").status == AFFECTED
    off = load_subject(profile(tmp_path, "1.38.0", "FEATURE_TAR_UNAME_GNAME = false")).config
    f = finding(applicability(off), "CVE-2025-46394")
    assert f.status == NOT_AFFECTED and f.reason.startswith("CONFIG_FEATURE_TAR_UNAME_GNAME is off")
    old = load_subject(profile(tmp_path, "1.37.0", "FEATURE_TAR_UNAME_GNAME = false")).config
    assert finding(applicability(old), "CVE-2025-46394").status == AFFECTED


# -- the data file ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def trees(cache: SourceCache) -> dict[str, Path]:
    found = {
        v: cache.root / "trees" / v / "src" for v in RELEASES if (cache.root / "trees" / v / "src").is_dir()
    }
    assert set(RELEASES) <= set(found), (
        f"run scripts/setup.sh: trees missing for {set(RELEASES) - set(found)}"
    )
    return found


@pytest.fixture(scope="module")
def debian(testdata: Path) -> dict[str, dict[str, bytes]]:
    """Each Debian source package's changelog and patches, by Debian version."""
    out: dict[str, dict[str, bytes]] = {}
    for archive in sorted(testdata.glob("busybox_*.debian.tar.xz")):
        version = archive.name.removeprefix("busybox_").removesuffix(".debian.tar.xz")
        with tarfile.open(archive) as tar:
            out[version] = {
                m.name.removeprefix("debian/"): tar.extractfile(m).read()  # type: ignore[union-attr]
                for m in tar.getmembers()
                if m.isfile() and (m.name == "debian/changelog" or m.name.startswith("debian/patches/"))
            }
    assert len(out) >= 3, f"Debian busybox source packages missing in {testdata}: run scripts/setup.sh"
    return out


def _symbols(tree: Path) -> set[str]:
    """Every Kconfig symbol a release defines, from its Config.in/Config.src files and //config: lines."""
    names: set[str] = set()
    pattern = re.compile(r"^(?://config:)?\s*(?:menu)?config\s+([A-Z0-9_]+)\s*$", re.M)
    for path in tree.rglob("*"):
        if path.suffix in (".c", ".src", ".in") or path.name.startswith("Config"):
            if path.is_file():
                names.update(pattern.findall(path.read_text(errors="replace")))
    return names


def test_ids_sources_and_fields() -> None:
    ids = [c.id for c in DB.cves]
    assert len(ids) == len(set(ids)), "a CVE is listed twice"
    assert len(ids) >= 30
    for c in DB.cves:
        assert CVE_ID.match(c.id), c.id
        assert c.summary and c.source and c.symbols and c.files, c.id
        for v in (c.introduced, c.fixed):
            assert not v or re.match(r"^\d+\.\d+\.\d+$", v), (c.id, v)
        for commit in c.upstream:
            assert re.match(r"^[0-9a-f]{40}$", commit), (c.id, commit)
        for p in c.patches:
            assert not c.fixed or version_key(p.release) < version_key(c.fixed), (
                c.id,
                "patched after the fix",
            )
    # The batches the issue names are all there.
    want = {f"CVE-2021-{n}" for n in range(42373, 42387)} | {f"CVE-2023-{n}" for n in range(42363, 42367)}
    want |= {"CVE-2022-28391", "CVE-2022-48174", "CVE-2022-30065", "CVE-2021-28831", "CVE-2023-39810"}
    want |= {"CVE-2024-58251", "CVE-2025-46394"}
    assert want <= set(ids), want - set(ids)


@pytest.mark.slow
def test_symbols_and_files_exist_in_the_trees(trees: dict[str, Path]) -> None:
    for release, tree in trees.items():
        known = _symbols(tree)
        assert {"AWK", "NETSTAT", "SHELL_ASH", "FEATURE_SH_MATH"} <= known, (
            f"symbol scan broken for {release}"
        )
        for c in DB.cves:
            for s in c.symbols:
                assert s in known, f"{c.id}: {s} is not a symbol of BusyBox {release}"
            for name in c.files:
                assert (tree / name).is_file(), f"{c.id}: {name} is not in BusyBox {release}"
            if c.fixed_when and version_key(release) >= version_key(c.fixed):
                assert c.fixed_when in known, (c.id, release)
            for part in c.narrowed:
                if version_key(release) >= version_key(part.since):
                    assert set(part.requires) <= known, (c.id, release)


def _derived(tree: Path, files: tuple[str, ...]) -> set[str]:
    """The symbols that compile ``files`` in: their //config: and //kbuild: lines, and Kbuild.src."""
    out: set[str] = set()
    for name in files:
        path = tree / name
        text = path.read_text(errors="replace")
        out |= set(re.findall(r"^//config:\s*config\s+([A-Z0-9_]+)", text, re.M))
        obj = re.compile(rf"(^|\s){re.escape(path.stem)}\.o(\s|$)")
        kbuild = path.parent / "Kbuild.src"
        lines = re.findall(r"^//kbuild:lib-\$\(CONFIG_([A-Z0-9_]+)\)\s*\+=(.*)$", text, re.M)
        if kbuild.is_file():
            joined = kbuild.read_text().replace("\\\n", " ")
            lines += re.findall(r"^lib-\$\(CONFIG_([A-Z0-9_]+)\)\s*\+=(.*)$", joined, re.M)
        out |= {symbol for symbol, objects in lines if obj.search(objects)}
    return out


def test_symbols_come_from_the_files(trees: dict[str, Path]) -> None:
    """Each CVE's symbols are what compiles its files in, per the release trees' own build files."""
    for release, tree in trees.items():
        for c in DB.cves:
            missing = set(c.symbols) - _derived(tree, c.files)
            assert not missing, f"{c.id}: {missing} compile none of {c.files} in BusyBox {release}"


def test_markers_prove_the_fixed_release(trees: dict[str, Path]) -> None:
    """A fix's code is in every tree from `fixed` (or a partial fix's `since`) on, and in none before."""
    checked = 0
    for c in DB.cves:
        if c.marker is None:
            continue
        name, text = c.marker
        since = c.fixed or (c.narrowed[0].since if c.narrowed else "")
        for release, tree in trees.items():
            has = text in (tree / name).read_text(errors="replace")
            should = bool(since) and version_key(release) >= version_key(since)
            assert has == should, f"{c.id}: marker {text!r} in {release}/{name}: {has}, expected {should}"
            checked += 1
    assert checked >= 40


def test_debian_patches_match_the_source_packages(debian: dict[str, dict[str, bytes]]) -> None:
    """Each recorded patch is byte for byte Debian's, touches a listed file; the changelog names the CVE."""
    for c in DB.cves:
        for p in c.patches:
            package = debian.get(p.debian)
            assert package is not None, f"{c.id}: no Debian package {p.debian} in the test data"
            data = package.get(f"patches/{p.name}")
            assert data is not None, f"{c.id}: {p.name} is not in Debian {p.debian}"
            assert hashlib.sha256(data).hexdigest() == p.sha256, (c.id, p.name)
            touched = set(re.findall(rb"^\+\+\+ b/(\S+)", data, re.M))
            assert touched & {f.encode() for f in c.files}, f"{c.id}: {p.name} touches none of {c.files}"
            changelog = package["changelog"].decode()
            assert c.id in changelog or p.name in changelog, (
                f"{c.id}: Debian {p.debian}'s changelog is silent"
            )
        if c.source.startswith("Debian"):
            assert any(c.id in pkg["changelog"].decode() for pkg in debian.values()), c.id


@pytest.mark.slow
def test_debian_patches_apply_where_the_release_lacks_the_fix(
    trees: dict[str, Path], debian: dict[str, dict[str, bytes]], tmp_path: Path
) -> None:
    """Debian's series up to a CVE's patches applies to the release's pristine tree with no fuzz.

    So the fix is not already in that release: what "affected unless patched" rests on.
    """
    for c in DB.cves:
        for release in sorted({p.release for p in c.patches}):
            ours = [p for p in c.patches if p.release == release]
            package = debian[ours[0].debian]
            series = [
                line.split()[0] for line in package["patches/series"].decode().splitlines() if line.strip()
            ]
            series = [n for n in series if not n.startswith("#")]
            upto = series[: max(series.index(p.name) for p in ours) + 1]
            work = tmp_path / f"{c.id}-{release}"
            for name in upto:
                for touched in re.findall(rb"^\+\+\+ b/(\S+)", package[f"patches/{name}"], re.M):
                    src, dst = trees[release] / touched.decode(), work / touched.decode()
                    if src.is_file() and not dst.exists():
                        dst.parent.mkdir(parents=True, exist_ok=True)
                        dst.write_bytes(src.read_bytes())
            for name in upto:
                run = subprocess.run(
                    ["patch", "-p1", "-F0", "-s", "-f", "-d", str(work)],
                    input=package[f"patches/{name}"],
                    capture_output=True,
                )
                assert run.returncode == 0, f"{c.id}: {name} does not apply to {release}: {run.stdout!r}"


# -- VEX --------------------------------------------------------------------------------------

_OPENVEX_TOP = {
    "@context",
    "@id",
    "author",
    "role",
    "timestamp",
    "last_updated",
    "version",
    "tooling",
    "statements",
}
_STATEMENT = {
    "@id",
    "version",
    "vulnerability",
    "timestamp",
    "last_updated",
    "products",
    "status",
    "supplier",
    "status_notes",
    "justification",
    "impact_statement",
    "action_statement",
    "action_statement_timestamp",
}
_JUSTIFICATIONS = {
    "component_not_present",
    "vulnerable_code_not_present",
    "vulnerable_code_not_in_execute_path",
    "vulnerable_code_cannot_be_controlled_by_adversary",
    "inline_mitigations_already_exist",
}


def check_openvex(doc: dict[str, object]) -> None:
    """The rules of OpenVEX 0.2.0's JSON schema (openvex_json_schema.json), checked by hand:
    no PyPI package ships that schema."""
    assert {"@context", "@id", "author", "timestamp", "version", "statements"} <= set(doc)
    assert set(doc) <= _OPENVEX_TOP
    assert doc["@context"] == "https://openvex.dev/ns/v0.2.0"
    assert isinstance(doc["@id"], str) and re.match(r"^[a-z][a-z0-9+.-]*:", doc["@id"])
    assert isinstance(doc["version"], int) and doc["version"] >= 1
    datetime.fromisoformat(str(doc["timestamp"]))
    statements = doc["statements"]
    assert isinstance(statements, list) and statements
    assert len({json.dumps(s, sort_keys=True) for s in statements}) == len(statements), (
        "statements not unique"
    )
    for s in statements:
        assert set(s) <= _STATEMENT and {"vulnerability", "status"} <= set(s), s
        assert (
            set(s["vulnerability"]) <= {"@id", "name", "description", "aliases"}
            and s["vulnerability"]["name"]
        )
        assert s["status"] in ("not_affected", "affected", "fixed", "under_investigation")
        datetime.fromisoformat(s["timestamp"])
        for product in s["products"]:
            assert set(product) <= {"@id", "identifiers", "hashes", "subcomponents"}
            assert set(product.get("identifiers", {})) <= {"purl", "@cpe22", "@cpe23"}
            assert set(product.get("hashes", {})) <= {"sha-256", "sha-512", "sha1", "md5"}
        if s["status"] == "not_affected":
            # Exactly one of justification and impact_statement.
            assert ("justification" in s) != ("impact_statement" in s), s
            assert s.get("justification", "vulnerable_code_not_present") in _JUSTIFICATIONS
        if s["status"] == "affected":
            assert s["action_statement"], s


def test_openvex_document(tmp_path: Path, cache: SourceCache) -> None:
    out = tmp_path / "vex.json"
    assert main(["cve", str(CONFIGS / "container-shell.toml"), "--vex", str(out), "--json"]) == 0
    doc = json.loads(out.read_text())
    check_openvex(doc)
    by_id = {s["vulnerability"]["name"]: s for s in doc["statements"]}
    assert set(by_id) == {c.id for c in DB.cves}
    s = by_id["CVE-2022-28391"]
    assert s["status"] == "not_affected" and s["justification"] == "vulnerable_code_not_present"
    assert s["status_notes"] == "CONFIG_NETSTAT and CONFIG_NSLOOKUP are off"
    assert s["products"][0]["identifiers"]["@cpe23"].startswith("cpe:2.3:a:busybox:busybox:1.38.0:")
    assert {st["status"] for st in doc["statements"]} == {"not_affected", "affected", "fixed"}
    # No build: the release's date, so the same profile gives the same bytes.
    assert doc["timestamp"] == "2026-05-13T02:21:49Z"
    again = tmp_path / "again.json"
    assert main(["cve", str(CONFIGS / "container-shell.toml"), "--vex", str(again), "--json"]) == 0
    assert again.read_bytes() == out.read_bytes()


def test_cyclonedx_vex_validates(tmp_path: Path, cache: SourceCache) -> None:
    """The vulnerabilities section inside a CycloneDX 1.6 BOM, checked by cyclonedx-python-lib's validator."""
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    subject = load_subject(profile(tmp_path, "1.35.0"))
    vulns = cyclonedx_vulnerabilities(applicability(subject.config), "busybox")
    bom = {
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "version": 1,
        "components": [{"type": "application", "bom-ref": "busybox", "name": "busybox", "version": "1.35.0"}],
        "vulnerabilities": vulns,
    }
    error = JsonStrictValidator(SchemaVersion.V1_6).validate_str(json.dumps(bom))
    assert error is None, error
    states = {v["id"]: v["analysis"]["state"] for v in vulns}
    assert states["CVE-2022-28391"] == "exploitable" and states["CVE-2021-42375"] == "resolved"
    small = load_subject(CONFIGS / "container-shell.toml")
    v = {x["id"]: x for x in cyclonedx_vulnerabilities(applicability(small.config), "busybox")}
    assert v["CVE-2022-28391"]["analysis"]["justification"] == "code_not_present"


# -- manifests --------------------------------------------------------------------------------


def fake_build(tmp: Path, profile_path: Path, **extra: object) -> Path:
    """A build folder as `busyconf build` leaves it, minus the binary: cve reads only the two files."""
    folder = tmp / "out"
    folder.mkdir()
    assert main(["export", str(profile_path), "-o", str(folder / "busybox.config")]) == 0
    config = (folder / "busybox.config").read_bytes()
    manifest = {
        "release": "1.38.0",
        "arch": "x86_64",
        "config_sha256": hashlib.sha256(config).hexdigest(),
        "binary_sha256": "ab" * 32,
        "source_date_epoch": 1700000000,
        **extra,
    }
    (folder / "manifest.json").write_text(json.dumps(manifest))
    return folder


def test_manifest_input(tmp_path: Path, cache: SourceCache) -> None:
    folder = fake_build(tmp_path, CONFIGS / "container-shell.toml")
    for target in (folder, folder / "manifest.json"):
        subject = load_subject(target)
        assert subject.source_date_epoch == 1700000000 and subject.binary_sha256 == "ab" * 32
        f = finding(applicability(subject.config), "CVE-2022-28391")
        assert f.status == NOT_AFFECTED
    doc = openvex(subject, applicability(subject.config))
    check_openvex(doc)
    assert doc["timestamp"] == "2023-11-14T22:13:20Z"
    assert doc["statements"][0]["products"][0]["hashes"] == {"sha-256": "ab" * 32}


def test_manifest_records_patches(tmp_path: Path, cache: SourceCache) -> None:
    cve = next(c for c in DB.cves if c.id == "CVE-2023-42366")
    patch = next(p for p in cve.patches if p.release == "1.38.0")
    folder = fake_build(
        tmp_path, CONFIGS / "defconfig.toml", patches=[{"name": patch.name, "sha256": patch.sha256}]
    )
    subject = load_subject(folder)
    assert subject.patches == (patch.sha256,)
    f = finding(applicability(subject.config, patches=subject.patches), cve.id)
    assert f.status == FIXED and patch.name in f.reason


@pytest.mark.slow
def test_cli_table_and_json(cache: SourceCache) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "busyconf", "cve", str(CONFIGS / "container-shell.toml")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0, run.stderr
    assert "CVE-2022-28391" in run.stdout and "CONFIG_NETSTAT and CONFIG_NSLOOKUP are off" in run.stdout
    js = subprocess.run(
        [sys.executable, "-m", "busyconf", "cve", str(CONFIGS / "router.toml"), "--json"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert js.returncode == 0 and js.stderr == ""
    data = json.loads(js.stdout)
    assert data["release"] == "1.38.0" and sum(data["counts"].values()) == len(DB.cves)
    statuses = {c["id"]: c["status"] for c in data["cves"]}
    assert statuses["CVE-2022-28391"] == "affected"


def test_sbom_carries_the_vex_section(tmp_path: Path, cache: SourceCache) -> None:
    """The CycloneDX SBOM a build writes embeds the same verdicts, about its BusyBox component."""
    from busyconf.build import sbom
    from busyconf.build.manifest import Manifest

    assert main(["export", str(CONFIGS / "container-shell.toml"), "-o", str(tmp_path / "c")]) == 0
    config = (tmp_path / "c").read_text()
    binary = b"\x7fELF stand-in bytes: the SBOM hashes them, nothing runs them"
    manifest = Manifest(
        release="1.38.0",
        arch="x86_64",
        toolchain="zig",
        toolchain_version="zig 0.15.1",
        config_sha256=hashlib.sha256(config.encode()).hexdigest(),
        binary_sha256=hashlib.sha256(binary).hexdigest(),
        binary_size=len(binary),
        applets=("sh",),
        build_seconds=1.0,
        built_at="2026-01-01T00:00:00+00:00",
        source_date_epoch=1_700_000_000,
    )
    cdx = sbom.cyclonedx_document(manifest, config, binary)
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(json.dumps(cdx)) is None
    ref = cdx["metadata"]["component"]["bom-ref"]
    vulns = {v["id"]: v for v in cdx["vulnerabilities"]}
    assert set(vulns) == {c.id for c in DB.cves}
    assert all(v["affects"] == [{"ref": ref}] for v in vulns.values())
    assert vulns["CVE-2022-28391"]["analysis"]["state"] == "not_affected"
    expected = applicability(load_subject(CONFIGS / "container-shell.toml").config)
    state = {"affected": "exploitable", "not_affected": "not_affected", "fixed": "resolved"}
    assert {i: v["analysis"]["state"] for i, v in vulns.items()} == {
        f.cve.id: state[f.status] for f in expected
    }


@pytest.mark.slow
def test_real_build_manifest(starter_build: Callable[[Path], Any], tmp_path: Path) -> None:
    """`busyconf cve` on a real container-shell build: its manifest, config, binary hash and SBOM agree."""
    built = starter_build(CONFIGS / "container-shell.toml")
    vex = tmp_path / "vex.json"
    run = subprocess.run(
        [sys.executable, "-m", "busyconf", "cve", str(built.out), "--json", "--vex", str(vex)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    verdicts = {c["id"]: c["status"] for c in json.loads(run.stdout)["cves"]}
    assert verdicts["CVE-2022-28391"] == "not_affected"
    doc = json.loads(vex.read_text())
    check_openvex(doc)
    manifest = json.loads((built.out / "manifest.json").read_text())
    binary = hashlib.sha256((built.out / "busybox").read_bytes()).hexdigest()
    assert manifest["binary_sha256"] == binary
    assert doc["statements"][0]["products"][0]["hashes"] == {"sha-256": binary}
    epoch = datetime.fromtimestamp(manifest["source_date_epoch"], UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert doc["timestamp"] == epoch
    # The SBOM the build wrote carries the same verdicts.
    sbom = json.loads((built.out / "sbom.cdx.json").read_text())
    states = {v["id"]: v["analysis"]["state"] for v in sbom["vulnerabilities"]}
    assert states["CVE-2022-28391"] == "not_affected"
    assert {i for i, s in states.items() if s == "exploitable"} == {
        i for i, s in verdicts.items() if s == "affected"
    }
