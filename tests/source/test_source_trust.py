"""Untrusted trees: known releases only by sha256, --trust for anything else, no Kconfig $(shell)."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tarfile
from pathlib import Path

import pytest

from busyconf.build import build, build_dir_for
from busyconf.cli import main
from busyconf.errors import SourceError, ToolchainError, UserError
from busyconf.model.kconfig import KconfigTree, load_tree
from busyconf.source import RELEASES, SourceCache, cache_root, sha256_file
from tests.conftest import DEFAULT, OLDEST, tarball

REPO = Path(__file__).resolve().parents[2]
UNKNOWN = OLDEST.rsplit(".", 1)[0] + ".99"


@pytest.fixture
def tmp_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> SourceCache:
    root = tmp_path / "cache"
    monkeypatch.setenv("BUSYCONF_CACHE", str(root))
    return SourceCache(root)


@pytest.fixture(scope="session")
def oldest_tree(testdata: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real OLDEST release, unpacked once; tests copy it before changing anything."""
    out = tmp_path_factory.mktemp("unpacked")
    with tarfile.open(tarball(testdata, OLDEST)) as tar:
        tar.extractall(out, filter="data")
    return next(out.iterdir())


def _copy(tree: Path, dest: Path, *, sublevel: str | None = None, config_head: str = "") -> Path:
    shutil.copytree(tree, dest, symlinks=True)
    if sublevel is not None:
        mk = dest / "Makefile"
        text = mk.read_text()
        mk.write_text(text.replace("SUBLEVEL = 0\n", f"SUBLEVEL = {sublevel}\n", 1))
    if config_head:
        top = dest / "Config.in"
        top.write_text(config_head + top.read_text())
    return dest


def _pack(tree: Path, archive: Path) -> Path:
    with tarfile.open(archive, "w:gz", compresslevel=1) as tar:
        tar.add(tree, arcname=f"busybox-{tree.name}")
    return archive


def _listing(root: Path) -> dict[str, str]:
    """Every path under ``root`` with its content hash (folders as "dir")."""
    out: dict[str, str] = {}
    for p in sorted(root.rglob("*")):
        rel = str(p.relative_to(root))
        if p.is_symlink() or not p.is_file():
            out[rel] = "dir" if p.is_dir() else "other"
        else:
            out[rel] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def _one_line(err: str) -> str:
    assert err.count("\n") == 1 and "Traceback" not in err, err
    return err


# -- known releases: only the verified tarball ------------------------------------------------


@pytest.mark.slow
def test_tampered_folder_of_a_known_release_never_replaces_it(
    testdata: Path,
    tmp_cache: SourceCache,
    tmp_path: Path,
    oldest_tree: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["source", "add", str(tarball(testdata, OLDEST))]) == 0
    meta = tmp_cache.release_dir(OLDEST) / "release.json"
    ls_c = tmp_cache.tree(OLDEST) / "coreutils" / "ls.c"
    before = (meta.read_bytes(), sha256_file(ls_c), _listing(tmp_cache.root))
    tampered = _copy(oldest_tree, tmp_path / "tampered")
    data = bytearray((tampered / "coreutils" / "ls.c").read_bytes())
    data[100] ^= 0x20
    (tampered / "coreutils" / "ls.c").write_bytes(bytes(data))
    capsys.readouterr()
    for argv in (["source", "add", str(tampered)], ["source", "add", str(tampered), "--trust"]):
        assert main(argv) == 2
        err = _one_line(capsys.readouterr().err)
        assert str(tampered) in err and "tarball" in err and f"source fetch {OLDEST}" in err
    # Even the pristine folder: a folder cannot be checked against the sha256.
    assert main(["source", "add", str(oldest_tree)]) == 2
    _one_line(capsys.readouterr().err)
    assert (meta.read_bytes(), sha256_file(ls_c), _listing(tmp_cache.root)) == before
    assert json.loads(meta.read_text())["verified"] is True


@pytest.mark.slow
def test_a_renamed_or_tampered_tarball_of_a_known_release_is_refused_even_with_trust(
    tmp_cache: SourceCache, tmp_path: Path, oldest_tree: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A repacked 1.35.0 (same version in its Makefile, other bytes): refused by sha256.
    repacked = _pack(_copy(oldest_tree, tmp_path / OLDEST), tmp_path / "whatever.tar.gz")
    assert main(["source", "add", str(repacked), "--trust"]) == 2
    err = _one_line(capsys.readouterr().err)
    assert "does not match" in err and RELEASES[OLDEST].sha256 in err
    assert not tmp_cache.root.exists()


@pytest.mark.slow
def test_fetch_replaces_an_unverified_entry_of_a_known_release(
    testdata: Path,
    tmp_cache: SourceCache,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # What an older busyconf left after `source add FOLDER` of a tampered 1.35.0.
    old = tmp_cache.release_dir(OLDEST)
    (old / "src").mkdir(parents=True)
    (old / "release.json").write_text(
        json.dumps({"version": OLDEST, "sha256": None, "verified": False, "origin": "added tree /x"})
    )
    with pytest.raises(SourceError, match="not the verified release"):
        tmp_cache.tree(OLDEST)
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    shutil.copy(tarball(testdata, OLDEST), mirror / f"busybox-{OLDEST}.tar.bz2")
    monkeypatch.setenv("BUSYCONF_MIRRORS", mirror.as_uri())
    capsys.readouterr()
    assert main(["source", "fetch", OLDEST]) == 0
    out = capsys.readouterr().out
    assert f"verified sha256 {RELEASES[OLDEST].sha256}" in out and "None" not in out
    meta = json.loads((old / "release.json").read_text())
    assert meta["verified"] is True and meta["sha256"] == RELEASES[OLDEST].sha256
    assert (tmp_cache.tree(OLDEST) / "Makefile").is_file()


# -- unknown versions: --trust or nothing ---------------------------------------------------------


@pytest.mark.slow
def test_unknown_tarball_needs_trust(
    tmp_cache: SourceCache, tmp_path: Path, oldest_tree: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = _copy(oldest_tree, tmp_path / UNKNOWN, sublevel="99")
    archive = _pack(src, tmp_path / f"busybox-{UNKNOWN}.tar.gz")
    assert main(["source", "add", str(archive)]) == 2
    err = _one_line(capsys.readouterr().err)
    assert str(archive) in err and "--trust" in err and UNKNOWN in err
    assert not tmp_cache.root.exists()

    assert main(["source", "add", str(archive), "--trust"]) == 0
    assert "trusted" in capsys.readouterr().out
    meta = json.loads((tmp_cache.release_dir(UNKNOWN) / "release.json").read_text())
    assert meta["verified"] is False and meta["trusted"] is True
    assert tmp_cache.trusted(UNKNOWN) and not tmp_cache.trusted(OLDEST)
    assert main(["source", "list", "--json"]) == 0
    rows = {r["version"]: r for r in json.loads(capsys.readouterr().out)["releases"]}
    assert rows[UNKNOWN]["trusted"] and not rows[UNKNOWN]["verified"]
    assert len(load_tree(UNKNOWN, tmp_cache).symbols) > 1000


@pytest.mark.slow
def test_unknown_folder_needs_trust(
    tmp_cache: SourceCache, tmp_path: Path, oldest_tree: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = _copy(oldest_tree, tmp_path / "mine", sublevel="99")
    before = _listing(src)
    assert main(["source", "add", str(src)]) == 2
    assert "--trust" in _one_line(capsys.readouterr().err)
    assert not tmp_cache.root.exists()
    rel = tmp_cache.add(src, trust=True)
    assert rel.version == UNKNOWN and rel.trusted and not rel.verified
    assert _listing(src) == before


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"hello\n", "not a tar archive"),
        (b"BZh91AY&SY" + b"\0" * 64, "tar archive"),
        (b"", "not a tar archive"),
    ],
    ids=["text", "broken-bzip2", "empty"],
)
def test_a_non_tarball_is_one_line(
    tmp_cache: SourceCache, tmp_path: Path, content: bytes, reason: str, capsys: pytest.CaptureFixture[str]
) -> None:
    f = tmp_path / "busybox-1.99.0.tar.bz2"
    f.write_bytes(content)
    assert main(["source", "add", str(f), "--trust"]) == 2
    err = _one_line(capsys.readouterr().err)
    assert str(f) in err and reason in err
    assert not tmp_cache.root.exists()


def test_a_fifo_is_refused_without_reading(
    tmp_cache: SourceCache, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fifo = tmp_path / "busybox-1.99.0.tar.bz2"
    os.mkfifo(fifo)
    assert main(["source", "add", str(fifo)]) == 2
    assert "not a regular file" in _one_line(capsys.readouterr().err)


# -- Kconfig preprocessor -----------------------------------------------------------------------------


@pytest.mark.slow
def test_shell_in_kconfig_never_runs_without_trust(
    tmp_cache: SourceCache, tmp_path: Path, oldest_tree: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    marker = tmp_path / "MARKER"
    head = f"EVIL := $(shell,touch {marker})\n"
    src = _copy(oldest_tree, tmp_path / "evil", sublevel="99", config_head=head)
    archive = _pack(src, tmp_path / f"busybox-{UNKNOWN}.tar.gz")
    assert main(["source", "add", str(archive)]) == 2
    assert main(["source", "add", str(src)]) == 2
    capsys.readouterr()
    assert not marker.exists()

    # A cache entry nobody trusted (left by an older busyconf, or release.json edited).
    tmp_cache.add(src, trust=True)
    assert not marker.exists()  # adding parses no Kconfig
    meta = tmp_cache.release_dir(UNKNOWN) / "release.json"
    meta.write_text(json.dumps({**json.loads(meta.read_text()), "trusted": False}))
    dotconfig = tmp_path / "empty.config"
    dotconfig.write_text("")
    assert main(["show", str(dotconfig), "--release", UNKNOWN]) == 2
    err = _one_line(capsys.readouterr().err)
    assert "Config.in:1:" in err and "$(shell,touch" in err and "--trust" in err
    assert not marker.exists()

    # Trusted, it runs, as `--trust` says it will.
    meta.write_text(json.dumps({**json.loads(meta.read_text()), "trusted": True}))
    KconfigTree(UNKNOWN, tmp_cache.kconfig_dir(UNKNOWN), tmp_cache.tree(UNKNOWN), trusted=True)
    assert marker.exists()


def _mini_tree(root: Path, config_in: str) -> Path:
    (root / "include").mkdir(parents=True)
    (root / "include" / "applets.h").write_text("")
    (root / "Config.in").write_text(config_in)
    return root


@pytest.mark.parametrize(
    ("config_in", "reason"),
    [
        ('config A\n\tstring "a"\n\tdefault "$(shell,touch {marker})"\n', "$(shell,touch"),
        ("$(info,$(shell,touch {marker}))\n", "$(shell,touch"),
        ('config A\n\tstring "a"\n\tdefault "$(HOME)"\n', "$(HOME)"),
        ("X := $(filename)\n", "$(filename)"),
        ("$(warning-if,y,oops)\n", "$(warning-if,y,oops)"),
        ("$(error-if,$(lineno),x)\n", "$(lineno)"),
        ('source "/etc/passwd"\n', "outside the tree"),
        ('source "../outside/Config.in"\n', "outside the tree"),
        ('config A\n\tstring\n\toption env="HOME"\n', "environment variable HOME"),
    ],
    ids=[
        "shell",
        "info",
        "env",
        "filename",
        "warning-if",
        "error-if",
        "source-abs",
        "source-dotdot",
        "option-env",
    ],
)
def test_untrusted_kconfig_refuses_preprocessor_and_outside_files(
    tmp_path: Path, config_in: str, reason: str
) -> None:
    marker = tmp_path / "MARKER"
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "Config.in").write_text('config B\n\tbool "b"\n')
    kdir = _mini_tree(tmp_path / "kconfig", config_in.format(marker=marker))
    with pytest.raises(SourceError) as exc:
        KconfigTree("9.9.9", kdir, kdir)
    assert reason in str(exc.value) and "\n" not in str(exc.value)
    assert not marker.exists()


def test_no_kconfigfunctions_module_is_imported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """kconfiglib imports ``kconfigfunctions`` from sys.path (the current folder under ``python -m``)."""
    import sys

    marker = tmp_path / "MARKER"
    evil = tmp_path / "evil"
    evil.mkdir()
    (evil / "kconfigfunctions.py").write_text(f"open({str(marker)!r}, 'w').close()\nfunctions = {{}}\n")
    monkeypatch.syspath_prepend(str(evil))
    monkeypatch.delitem(sys.modules, "kconfigfunctions", raising=False)
    monkeypatch.setenv("KCONFIG_FUNCTIONS", "kconfigfunctions")
    kdir = _mini_tree(tmp_path / "k", 'config A\n\tbool "a"\n')
    for trusted in (False, True):
        KconfigTree("9.9.9", kdir, kdir, trusted=trusted)
    assert not marker.exists() and os.environ["KCONFIG_FUNCTIONS"] == "kconfigfunctions"


def test_help_text_dollar_paren_is_not_a_macro(tmp_path: Path) -> None:
    """BusyBox's shell/Config.in says ``$(command)`` in help text: that is never expanded."""
    kdir = _mini_tree(tmp_path / "k", 'config A\n\tbool "a"\n\thelp\n\t  Enable $(command) and $((1+2)).\n')
    assert "A" in KconfigTree("9.9.9", kdir, kdir).symbols


@pytest.mark.slow
@pytest.mark.parametrize("version", [OLDEST, DEFAULT])
def test_verified_releases_parse_without_the_preprocessor(cache: SourceCache, version: str) -> None:
    strict = KconfigTree(version, cache.kconfig_dir(version), cache.tree(version))
    full = KconfigTree(version, cache.kconfig_dir(version), cache.tree(version), trusted=True)
    assert strict.values() == full.values() and len(strict.symbols) > 1000
    assert not cache.trusted(version) and cache.list()


# -- the cache path and names that become folders ---------------------------------------------------


@pytest.mark.slow
def test_relative_cache_is_made_absolute(
    testdata: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("BUSYCONF_CACHE", "rel/cache")
    assert cache_root() == tmp_path / "rel" / "cache"
    assert main(["source", "add", str(tarball(testdata, OLDEST))]) == 0
    assert str(tmp_path / "rel" / "cache") in capsys.readouterr().out
    monkeypatch.chdir(tmp_path / "rel")
    assert SourceCache(tmp_path / "rel" / "cache").has(OLDEST)


HOSTILE_TOOLCHAINS = [
    "../../../../ESCAPED/x",
    "x;y",
    "",
    "a/b-",
    "..-",
    "-",
    "$(touch x)-",
    "a b-",
    "x" * 200 + "-",
]
HOSTILE_ARCHES = ["", "vax", "../x86_64", "x86_64/../../x"]


@pytest.fixture
def sandbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """A cache four folders deep (so '../..' stays inside tmp_path) and a profile beside it."""
    root = tmp_path / "a" / "b" / "c" / "cache"
    monkeypatch.setenv("BUSYCONF_CACHE", str(root))
    (root / "build").mkdir(parents=True)
    profile = tmp_path / "p.toml"
    shutil.copy(REPO / "configs" / "container-shell.toml", profile)
    return tmp_path, profile


@pytest.mark.parametrize("toolchain", HOSTILE_TOOLCHAINS)
def test_hostile_toolchain_creates_nothing(
    sandbox: tuple[Path, Path], toolchain: str, capsys: pytest.CaptureFixture[str]
) -> None:
    top, profile = sandbox
    before = _listing(top)
    for cmd in (["build", str(profile)], ["size", str(profile)], ["test", str(profile)]):
        assert main([*cmd, "--toolchain", toolchain]) == 2, cmd
        assert "toolchain" in _one_line(capsys.readouterr().err)
    with pytest.raises(UserError):
        build("", [], DEFAULT, "x86_64", toolchain, out_dir=top / "out", source_tree=top)
    with pytest.raises(UserError):
        build_dir_for(DEFAULT, "x86_64", toolchain)
    from busyconf.size.workdir import open_worktree

    with pytest.raises(UserError):
        open_worktree(DEFAULT, "x86_64", toolchain)
    assert _listing(top) == before
    assert not (top.parent / "ESCAPED").exists()


@pytest.mark.parametrize("arch", HOSTILE_ARCHES)
def test_hostile_arch_creates_nothing(
    sandbox: tuple[Path, Path], arch: str, capsys: pytest.CaptureFixture[str]
) -> None:
    top, profile = sandbox
    before = _listing(top)
    for cmd in (["build", str(profile)], ["size", str(profile)]):
        assert main([*cmd, "--arch", arch]) == 2, cmd
        assert "unknown arch" in _one_line(capsys.readouterr().err)
    with pytest.raises(UserError):
        build("", [], DEFAULT, arch, "zig", out_dir=top / "out", source_tree=top)
    assert _listing(top) == before


@pytest.mark.parametrize("release", ["../1.38.0", "1.38.0/../../x", ""])
def test_hostile_release_creates_nothing(sandbox: tuple[Path, Path], release: str) -> None:
    top, _ = sandbox
    before = _listing(top)
    with pytest.raises(UserError):
        build("", [], release, "x86_64", "zig", out_dir=top / "out", source_tree=top)
    with pytest.raises(UserError):
        SourceCache().tree(release)
    assert _listing(top) == before


def test_missing_cross_compiler_leaves_no_build_folder(sandbox: tuple[Path, Path]) -> None:
    top, _ = sandbox
    before = _listing(top)
    with pytest.raises(ToolchainError, match="not found on PATH"):
        build("", [], DEFAULT, "x86_64", "nosuch-linux-musl-", out_dir=top / "out", source_tree=top)
    assert _listing(top) == before


@pytest.mark.parametrize("jobs", ["-1", "0", "two", "99999"])
def test_jobs_must_be_a_positive_number(
    sandbox: tuple[Path, Path], jobs: str, capsys: pytest.CaptureFixture[str]
) -> None:
    top, profile = sandbox
    before = _listing(top)
    assert main(["build", str(profile), "-j", jobs]) == 2
    err = capsys.readouterr().err
    assert "-j" in err and "Report bugs" not in err and "Traceback" not in err
    assert _listing(top) == before
