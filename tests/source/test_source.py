"""Release table, fetching, importing and safe extraction, on real tarballs."""

from __future__ import annotations

import io
import shutil
import tarfile
from pathlib import Path

import pytest

from busyconf.cli import main
from busyconf.errors import SourceError, UnsafeArchiveError
from busyconf.model.kconfig import KconfigTree
from busyconf.source import RELEASES, SourceCache, sha256_file
from busyconf.source.releases import DEFAULT_RELEASE
from tests.conftest import DEFAULT, OLDEST, tarball


@pytest.mark.parametrize("version", [OLDEST, DEFAULT])
def test_release_hash_matches_the_real_tarball(testdata: Path, version: str) -> None:
    assert sha256_file(tarball(testdata, version)) == RELEASES[version].sha256


def test_default_is_the_newest_known_release() -> None:
    from busyconf.source.releases import version_key

    assert DEFAULT_RELEASE == max(RELEASES, key=version_key) == DEFAULT


@pytest.fixture
def tmp_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> SourceCache:
    root = tmp_path / "cache"
    monkeypatch.setenv("BUSYCONF_CACHE", str(root))
    return SourceCache(root)


@pytest.mark.slow
def test_add_tarball_verifies_and_generates_kconfig(testdata: Path, tmp_cache: SourceCache) -> None:
    rel = tmp_cache.add(tarball(testdata, OLDEST))
    assert rel.verified and rel.version == OLDEST
    kdir = tmp_cache.kconfig_dir(OLDEST)
    assert (kdir / "coreutils" / "Config.in").is_file()
    # The pristine tree got no generated files: they live beside it.
    assert not (tmp_cache.tree(OLDEST) / "coreutils" / "Config.in").exists()
    tree = KconfigTree(OLDEST, kdir, tmp_cache.tree(OLDEST))
    assert len(tree.symbols) == 1067


@pytest.mark.slow
def test_fetch_from_a_mirror_verifies(
    testdata: Path, tmp_cache: SourceCache, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    shutil.copy(tarball(testdata, OLDEST), mirror / f"busybox-{OLDEST}.tar.bz2")
    monkeypatch.setenv("BUSYCONF_MIRRORS", mirror.as_uri())
    assert main(["source", "fetch", OLDEST]) == 0
    assert tmp_cache.has(OLDEST)
    assert sha256_file(tmp_cache.root / "tarballs" / f"busybox-{OLDEST}.tar.bz2") == RELEASES[OLDEST].sha256


def test_fetch_refuses_a_wrong_hash(
    testdata: Path,
    tmp_cache: SourceCache,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    # The right name with the wrong bytes: a tampered mirror.
    shutil.copy(tarball(testdata, DEFAULT), mirror / f"busybox-{OLDEST}.tar.bz2")
    monkeypatch.setenv("BUSYCONF_MIRRORS", mirror.as_uri())
    assert main(["source", "fetch", OLDEST]) == 1
    assert "sha256 mismatch" in capsys.readouterr().err
    assert not tmp_cache.has(OLDEST)
    assert not (tmp_cache.root / "tarballs" / f"busybox-{OLDEST}.tar.bz2").exists()


@pytest.mark.slow
def test_add_refuses_a_known_release_with_the_wrong_hash(
    testdata: Path, tmp_cache: SourceCache, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / f"busybox-{OLDEST}.tar.bz2"
    data = bytearray(tarball(testdata, OLDEST).read_bytes())
    data[-100] ^= 0xFF
    bad.write_bytes(bytes(data))
    assert main(["source", "add", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "does not match" in err and str(bad) in err
    assert not tmp_cache.has(OLDEST)


def test_fetch_unknown_version_is_a_usage_error(
    tmp_cache: SourceCache, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["source", "fetch", "9.9.9"]) == 2
    assert "not a known release" in capsys.readouterr().err


@pytest.mark.slow
def test_add_unpacked_tree_leaves_it_untouched(
    testdata: Path, tmp_cache: SourceCache, tmp_path: Path
) -> None:
    user = tmp_path / "mytree"
    with tarfile.open(tarball(testdata, OLDEST)) as tar:
        tar.extractall(tmp_path / "x", filter="data")
    shutil.move(str(next((tmp_path / "x").iterdir())), user)
    # A known release's folder is refused (tests/source/test_source_trust.py): make it another version.
    makefile = user / "Makefile"
    makefile.write_text(makefile.read_text().replace("SUBLEVEL = 0\n", "SUBLEVEL = 98\n", 1))
    version = OLDEST.rsplit(".", 1)[0] + ".98"
    before = sorted(str(p.relative_to(user)) for p in user.rglob("*"))
    rel = tmp_cache.add(user, trust=True)
    assert rel.version == version and not rel.verified and rel.trusted
    assert sorted(str(p.relative_to(user)) for p in user.rglob("*")) == before
    assert (tmp_cache.kconfig_dir(version) / "Config.in").is_file()


def _evil_tar(path: Path, member: tarfile.TarInfo, data: bytes = b"x") -> Path:
    with tarfile.open(path, "w:bz2") as tar:
        ok = tarfile.TarInfo("busybox-9.9.9/Makefile")
        ok.size = 1
        tar.addfile(ok, io.BytesIO(b"x"))
        if member.isfile():
            member.size = len(data)
            tar.addfile(member, io.BytesIO(data))
        else:
            tar.addfile(member)
    return path


def _sym(name: str, target: str) -> tarfile.TarInfo:
    t = tarfile.TarInfo(name)
    t.type = tarfile.SYMTYPE
    t.linkname = target
    return t


def _hard(name: str, target: str) -> tarfile.TarInfo:
    t = tarfile.TarInfo(name)
    t.type = tarfile.LNKTYPE
    t.linkname = target
    return t


def _dev(name: str) -> tarfile.TarInfo:
    t = tarfile.TarInfo(name)
    t.type = tarfile.CHRTYPE
    t.devmajor, t.devminor = 1, 3
    return t


@pytest.mark.parametrize(
    ("member", "reason"),
    [
        (tarfile.TarInfo("busybox-9.9.9/../../escaped"), "'..'"),
        (tarfile.TarInfo("/tmp/busyconf-absolute"), "absolute"),
        (_sym("busybox-9.9.9/link", "../../../etc/passwd"), "symlink pointing out"),
        (_sym("busybox-9.9.9/abs", "/etc/passwd"), "symlink pointing out"),
        (_hard("busybox-9.9.9/hard", "../outside"), "hard link pointing out"),
        (_dev("busybox-9.9.9/null"), "device"),
    ],
    ids=["dotdot", "absolute", "symlink-out", "symlink-abs", "hardlink-out", "device"],
)
def test_unsafe_tarball_is_refused_and_writes_nothing(
    tmp_cache: SourceCache,
    tmp_path: Path,
    member: tarfile.TarInfo,
    reason: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    evil = _evil_tar(tmp_path / "evil.tar.bz2", member)
    work = tmp_path / "work"
    work.mkdir()
    assert main(["source", "add", str(evil)]) == 2
    err = capsys.readouterr().err
    assert reason in err and str(evil) in err and err.count("\n") == 1
    assert not (tmp_path / "escaped").exists() and not Path("/tmp/busyconf-absolute").exists()
    trees = tmp_cache.root / "trees"
    assert not trees.exists() or not [p for p in trees.iterdir()]
    with pytest.raises(UnsafeArchiveError):
        from busyconf.source.safe_tar import extract_release

        extract_release(evil, tmp_path / "dest")
    assert not (tmp_path / "dest").exists()


def test_missing_release_names_the_fix(tmp_cache: SourceCache) -> None:
    with pytest.raises(SourceError, match="busyconf source fetch 1.37.0"):
        tmp_cache.tree("1.37.0")


def test_source_list_json(capsys: pytest.CaptureFixture[str], cache: SourceCache) -> None:
    import json

    assert main(["source", "list", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    rows = {r["version"]: r for r in data["releases"]}
    assert rows[DEFAULT]["cached"] and rows[DEFAULT]["verified"] and rows[DEFAULT]["default"]
