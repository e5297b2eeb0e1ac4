"""``busyconf upgrade``: the drift report against BusyBox's real ``make oldconfig``.

The profiles are real: Debian's three configs of the old release's source
package, and the four starters exported at 1.38.0 and imported at the old
release. For each of the three upgrades (no downgrades) the upgraded profile
must build exactly the applets the old one did (unless new ones are
accepted), and the report's symbols must be exactly those whose ``.config``
line BusyBox's own ``make oldconfig`` changes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from busyconf.model.config import Configuration, resolve
from busyconf.model.dotconfig import dotconfig_text, parse_dotconfig
from busyconf.model.kconfig import KconfigTree, load_tree
from busyconf.model.profile import (
    Profile,
    import_dotconfig,
    layered_base,
    load_profile,
    minimal_overrides,
    profile_assignments,
    resolve_profile,
)
from busyconf.source import SourceCache
from busyconf.upgrade import (
    DriftReport,
    drift_report,
    match_renames,
    new_in_release,
    previous_release,
    upgrade_profile,
)
from tests.conftest import STARTERS, BusyBoxConf
from tests.conftest import testdata_dir as _testdata

PAIRS = [("1.35.0", "1.37.0"), ("1.35.0", "1.38.0"), ("1.37.0", "1.38.0")]
DEBIAN = ("deb", "static", "udeb")
SOURCES = [f"debian-{n}" for n in DEBIAN] + [p.stem for p in STARTERS]


def _cache() -> SourceCache:
    c = SourceCache()
    for v in ("1.35.0", "1.37.0", "1.38.0"):
        if not c.has(v):
            pytest.fail(f"BusyBox {v} is not in {c.root}: run scripts/setup.sh first")
    return c


#: (release, source name) -> a saved profile at that release.
OldProfiles = dict[tuple[str, str], Path]


@pytest.fixture(scope="module")
def old_profiles(tmp_path_factory: pytest.TempPathFactory) -> OldProfiles:
    """(release, source name) -> a saved profile at that release."""
    cache = _cache()
    out = tmp_path_factory.mktemp("upgrade-profiles")
    made: dict[tuple[str, str], Path] = {}
    for release in ("1.35.0", "1.37.0"):
        tree = load_tree(release, cache)
        archives = sorted(_testdata().glob(f"busybox_{release}-*.debian.tar.xz"))
        if not archives:
            pytest.fail(f"no Debian busybox {release} source package in {_testdata()}: run scripts/setup.sh")
        with tarfile.open(archives[-1]) as tar:
            texts = {
                n: tar.extractfile(f"debian/config/pkg/{n}").read().decode()  # type: ignore[union-attr]
                for n in DEBIAN
            }
        for n, text in texts.items():
            # Debian's configs name symbols of its own patches (PLATFORM_LINUX, FEATURE_DI_ENV_HACK).
            path = out / f"debian-{n}-{release}.toml"
            prof, _dropped = import_dotconfig(text, f"debian/{n}", tree, out_path=path, drop_unknown=True)
            path.write_text(prof.doc.as_string())
            made[(release, f"debian-{n}")] = path
        for starter in STARTERS:
            sp = load_profile(starter)
            cfg = resolve_profile(sp, cache)
            src = load_tree(cfg.release, cache)
            text = dotconfig_text(src, list(cfg.values.items()))
            path = out / f"{starter.stem}-{release}.toml"
            prof, _dropped = import_dotconfig(
                text, str(starter), tree, out_path=path, arch=sp.arch, drop_unknown=True
            )
            path.write_text(prof.doc.as_string())
            made[(release, starter.stem)] = path
    return made


def _config(tree: KconfigTree, prof: Profile) -> Configuration:
    return resolve(tree, profile_assignments(tree, prof))


def _names(report: DriftReport) -> set[str]:
    return {s.name for s in report.symbols} | {s.renamed_to for s in report.symbols if s.renamed_to}


@pytest.mark.slow
@pytest.mark.parametrize("source", SOURCES)
@pytest.mark.parametrize(("old", "new"), PAIRS, ids=[f"{a}-{b}" for a, b in PAIRS])
def test_upgrade_keeps_the_applets(old: str, new: str, source: str, old_profiles: OldProfiles) -> None:
    cache = _cache()
    prof = load_profile(old_profiles[(old, source)])
    old_tree, new_tree = load_tree(old, cache), load_tree(new, cache)
    before = _config(old_tree, prof)
    upgraded, report = upgrade_profile(prof, new, cache=cache)
    assert upgraded.busybox == new and upgraded.doc["profile"]["busybox"] == new
    assert prof.busybox == old, "the profile handed in is not changed"
    after = _config(new_tree, upgraded)
    assert after.applets == before.applets
    assert report.applets_added == () and report.applets_removed == ()
    # Every symbol of both releases keeps its value unless the report says oldconfig loses it.
    lost = {s.name for s in report.symbols if s.kind in ("value_lost", "default_changed")}
    for name, value in before.values.items():
        if new_tree.has(name) and name not in lost:
            assert after.values[name] == value, name
    # Every new symbol that would switch on is pinned off, and pinned entries really are off.
    for s in report.of_kind("new"):
        if s.new == "y" and s.pinned:
            assert after.values[s.name] == "n"
            assert upgraded.config[s.name] is False
    # Saved minimal: no [config] entry can go.
    base = layered_base(new_tree, upgraded)
    again = minimal_overrides(new_tree, base, after, list(_own(new_tree, upgraded)))
    assert {n for n, _ in again} == set(upgraded.config)


def _own(tree: KconfigTree, prof: Profile) -> list[tuple[str, str]]:
    from busyconf.model.profile import own_assignments

    return own_assignments(tree, prof)


@pytest.mark.slow
@pytest.mark.parametrize("source", ["defconfig", "allnoconfig"])
@pytest.mark.parametrize(("old", "new"), PAIRS, ids=[f"{a}-{b}" for a, b in PAIRS])
def test_accept_new_takes_the_defaults(
    old: str, new: str, source: str, old_profiles: OldProfiles, tmp_path: Path
) -> None:
    """Accepting gives oldconfig's "on", also over allnoconfig, whose new symbols the base turns off."""
    cache = _cache()
    if source == "defconfig":
        prof = load_profile(old_profiles[(old, source)])
    else:
        # container-shell as written, on allnoconfig, pinned to the old release.
        text = next(p for p in STARTERS if p.stem == "container-shell").read_text()
        path = tmp_path / "shell.toml"
        path.write_text(text.replace('busybox = "1.38.0"', f'busybox = "{old}"'))
        prof = load_profile(path)
        assert prof.base == "allnoconfig" and prof.busybox == old
    upgraded, report = upgrade_profile(prof, new, accept_new=True, cache=cache)
    new_tree = load_tree(new, cache)
    after = _config(new_tree, upgraded)
    assert report.pinned == ()
    assert set(report.applets_added) == set(after.applets) - set(_config(load_tree(old, cache), prof).applets)
    assert report.applets_added, "each of these releases adds applets that default on"
    # One accepted by name: only that applet appears.
    name = report.applets_added[0]
    one, rep1 = upgrade_profile(prof, new, accept_new={name}, cache=cache)
    assert rep1.applets_added == (name,)
    assert name in _config(new_tree, one).applets


def _dotconfig_values(text: str, tree: KconfigTree) -> dict[str, str]:
    return dict(parse_dotconfig(text, "conf", tree).assignments)


@pytest.fixture(scope="module")
def target_conf(tmp_path_factory: pytest.TempPathFactory) -> dict[str, BusyBoxConf]:
    cache = _cache()
    base = tmp_path_factory.mktemp("upgrade-oldconfig")
    return {v: BusyBoxConf(cache.tree(v), base / v) for v in ("1.37.0", "1.38.0")}


@pytest.mark.slow
@pytest.mark.parametrize("source", SOURCES)
@pytest.mark.parametrize(("old", "new"), PAIRS, ids=[f"{a}-{b}" for a, b in PAIRS])
def test_report_equals_real_oldconfig(
    old: str, new: str, source: str, old_profiles: OldProfiles, target_conf: dict[str, BusyBoxConf]
) -> None:
    """The report lists exactly the symbols whose line BusyBox's `make oldconfig` changes, with its values."""
    cache = _cache()
    prof = load_profile(old_profiles[(old, source)])
    old_tree, new_tree = load_tree(old, cache), load_tree(new, cache)
    before = _config(old_tree, prof)
    old_text = dotconfig_text(old_tree, list(before.values.items()))
    new_text = target_conf[new].run("oldconfig", old_text)
    a = _dotconfig_values(old_text, old_tree)
    b = _dotconfig_values(new_text, new_tree)
    changed = {n for n in set(a) | set(b) if a.get(n) != b.get(n)}
    report = drift_report(prof, new, cache=cache)
    assert _names(report) == changed
    for s in report.symbols:
        assert s.old == a.get(s.name), s
        assert s.new == b.get(s.renamed_to or s.name), s


def test_renames_are_matched_by_text_not_taken_from_siblings() -> None:
    """1.35.0 -> 1.38.0 renames nothing; every kept symbol with a prompt finds its own later self."""
    cache = _cache()
    old, new = load_tree("1.35.0", cache), load_tree("1.38.0", cache)
    added = [n for n in new.symbols if not old.has(n)]
    assert [n for n in old.symbols if not new.has(n)] == []
    # As if every 1.35.0 symbol had gone: none of the new ones is taken for a renamed old one,
    # though sha3sum/sha384sum, setfattr/getfattr and USE_BB_CRYPT_SHA/_YES read nearly alike.
    assert match_renames(old, new, list(old.symbols), added) == {}
    found = 0
    for name in ("LS", "FEATURE_LS_COLOR", "SHA3SUM", "SETFATTR", "USE_BB_CRYPT_SHA", "BASENAME", "TS"):
        assert match_renames(old, new, [name], [*added, name]) == {name: name}
        found += 1
    assert found == 7


@pytest.mark.slow
def test_new_in_release(old_profiles: OldProfiles) -> None:
    cache = _cache()
    assert previous_release("1.38.0", cache) == "1.37.0"
    marks = new_in_release("1.38.0", cache)
    assert {"SHA384SUM", "LSBLK", "HUSH_ALIAS"} <= marks
    assert "TREE" not in marks  # new in 1.37.0
    assert "TREE" in new_in_release("1.37.0", cache)
    old, new = load_tree("1.37.0", cache), load_tree("1.38.0", cache)
    assert marks == {n for n in new.symbols if not old.has(n)}
    # The report's new symbols for 1.37.0 -> 1.38.0 are the same set.
    report = drift_report(load_profile(old_profiles[("1.37.0", "router")]), "1.38.0", cache=cache)
    assert {s.name for s in report.of_kind("new")} == marks


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "busyconf", *args], capture_output=True, text=True, cwd=cwd, timeout=120
    )


@pytest.mark.slow
def test_cli_upgrade_in_place_keeps_comments_and_crlf(tmp_path: Path, old_profiles: OldProfiles) -> None:
    text = old_profiles[("1.35.0", "router")].read_text()
    text = "# my router\n" + text.replace("[config]\n", "[config]\n# why TC is off\n", 1)
    p = tmp_path / "r.toml"
    p.write_bytes(text.replace("\n", "\r\n").encode())
    dry = _cli("upgrade", "r.toml", "--to", "1.38.0", "--dry-run", cwd=tmp_path)
    assert dry.returncode == 0, dry.stderr
    assert "pinned off" in dry.stdout and "dry run: nothing written" in dry.stdout
    assert p.read_bytes() == text.replace("\n", "\r\n").encode()
    res = _cli("upgrade", "r.toml", "--to", "1.38.0", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    data = p.read_bytes().decode()
    assert "\r\n" in data and "\n" not in data.replace("\r\n", "")
    assert data.startswith("# my router\r\n") and "# why TC is off\r\n" in data
    assert 'busybox = "1.38.0"' in data
    assert "# pinned off by busyconf upgrade 1.35.0 -> 1.38.0" in data
    assert "LSBLK = false" in data
    # Upgrading again is refused: it is at 1.38.0 now.
    again = _cli("upgrade", "r.toml", "--to", "1.38.0", cwd=tmp_path)
    assert again.returncode == 2 and "already at" in again.stderr


@pytest.mark.slow
def test_cli_upgrade_json_and_output(tmp_path: Path, old_profiles: OldProfiles) -> None:
    src = old_profiles[("1.35.0", "container-shell")]
    before = src.read_bytes()
    out = tmp_path / "sub" / "new.toml"
    out.parent.mkdir()
    res = _cli(
        "upgrade",
        str(src),
        "--to",
        "1.37.0",
        "--accept",
        "TREE,tsort",
        "--json",
        "-o",
        str(out),
        cwd=tmp_path,
    )
    assert res.returncode == 0, res.stderr
    data = json.loads(res.stdout)
    assert data["from"] == "1.35.0" and data["to"] == "1.37.0" and data["written"] == str(out)
    assert set(data["applets_added"]) == {"tree", "tsort"}
    new = {s["name"]: s for s in data["symbols"] if s["kind"] == "new"}
    assert not new["TREE"]["pinned"] and not new["TSORT"]["pinned"] and new["SEEDRNG"]["pinned"]
    assert src.read_bytes() == before, "-o leaves the source alone"
    prof = load_profile(out)
    assert prof.busybox == "1.37.0" and prof.config["SEEDRNG"] is False and "TREE" not in prof.config
    exists = _cli("upgrade", str(src), "--to", "1.37.0", "-o", str(out), cwd=tmp_path)
    assert exists.returncode == 2 and "already exists" in exists.stderr


@pytest.mark.slow
def test_report_in_words(old_profiles: OldProfiles) -> None:
    """TLS, which nothing in the old profile selected, is switched on by the new ssl_server."""
    cache = _cache()
    prof = load_profile(old_profiles[("1.35.0", "debian-udeb")])
    report = drift_report(prof, "1.38.0", cache=cache)
    tls = next(s for s in report.symbols if s.name == "TLS")
    assert tls.kind == "default_changed" and (tls.old, tls.new) == ("n", "y")
    assert "SSL_SERVER" in tls.reason and "keeps 'n'" in tls.reason
    assert report.size_before and report.size_after
    # x86_64 has a 1.35.0 table (transferred): each release is priced by its own.
    assert prof.arch == "x86_64" and report.size_basis_before == "calibrated x86_64/zig 1.35.0"
    assert os.path.basename(str(report.profile)) == "debian-udeb-1.35.0.toml"
    # riscv64 has none: the old configuration is priced with the new release's estimator, and it says so.
    prof.arch = "riscv64"
    coarse = drift_report(prof, "1.38.0", cache=cache)
    assert "1.35.0 has no calibrated size table here" in coarse.size_basis_before


@pytest.mark.slow
def test_upgrade_with_a_fragment(tmp_path: Path, old_profiles: OldProfiles) -> None:
    """A profile with a fragment keeps it, and stays minimal against base plus fragment."""
    cache = _cache()
    (tmp_path / "fragments").mkdir()
    frag = Path(__file__).resolve().parents[2] / "configs" / "fragments" / "syslog.cfg"
    (tmp_path / "fragments" / "syslog.cfg").write_text(frag.read_text())
    text = old_profiles[("1.35.0", "router")].read_text()
    p = tmp_path / "r.toml"
    p.write_text(
        text.replace('base = "defconfig"\n', 'base = "defconfig"\nfragments = ["fragments/syslog.cfg"]\n')
    )
    prof = load_profile(p)
    old_tree, new_tree = load_tree("1.35.0", cache), load_tree("1.38.0", cache)
    before = _config(old_tree, prof)
    assert "syslogd" in before.applets
    upgraded, _report = upgrade_profile(prof, "1.38.0", cache=cache)
    assert upgraded.fragments == ("fragments/syslog.cfg",)
    after = _config(new_tree, upgraded)
    assert after.applets == before.applets
    again = minimal_overrides(new_tree, layered_base(new_tree, upgraded), after, _own(new_tree, upgraded))
    assert {n for n, _ in again} == set(upgraded.config)
