"""The pickled Kconfig tree: the same tree as a fresh parse, and never used once stale."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from busyconf.model import kconfig, kconfig_cache
from busyconf.model.config import resolve
from busyconf.model.kconfig import KconfigTree
from busyconf.model.profile import load_profile, own_assignments
from busyconf.source import SourceCache

DEFAULT = "1.38.0"
CONFIGS = Path(__file__).resolve().parents[2] / "configs"


@pytest.fixture()
def kconfig_dir(cache: SourceCache, tmp_path: Path) -> Path:
    """A copy of the release's Kconfig folder, so the pickle goes into a fresh folder."""
    target = tmp_path / DEFAULT / "kconfig"
    shutil.copytree(cache.kconfig_dir(DEFAULT), target)
    return target


def open_tree(kconfig_dir: Path, cache: SourceCache, trusted: bool = False) -> KconfigTree:
    return KconfigTree(DEFAULT, kconfig_dir, cache.tree(DEFAULT), trusted=trusted)


def menu_shape(tree: KconfigTree) -> list[tuple[str, str, int]]:
    out = []
    node = tree.kconf.top_node
    stack = [node]
    while stack:
        node = stack.pop()
        name = getattr(node.item, "name", None) or str(node.item)
        out.append((name, node.prompt[0] if node.prompt else "", node.linenr))
        child = node.list
        children = []
        while child is not None:
            children.append(child)
            child = child.next
        stack.extend(reversed(children))
    return out


def test_a_loaded_tree_resolves_every_starter_as_a_parsed_one(
    kconfig_dir: Path, cache: SourceCache, monkeypatch: pytest.MonkeyPatch
) -> None:
    parsed = open_tree(kconfig_dir, cache)
    assert kconfig_cache.cache_file(kconfig_dir).is_file()

    def no_parse(*args: object) -> None:
        raise AssertionError("parsed again although the pickle is fresh")

    monkeypatch.setattr(kconfig, "_parse", no_parse)
    loaded = open_tree(kconfig_dir, cache)
    assert menu_shape(loaded) == menu_shape(parsed)
    assert loaded.applets == parsed.applets
    starters = sorted(CONFIGS.glob("*.toml"))
    assert len(starters) >= 4
    for path in starters:
        profile = load_profile(path)
        if profile.busybox != DEFAULT:
            continue
        a = resolve(parsed, own_assignments(parsed, profile))
        b = resolve(loaded, own_assignments(loaded, profile))
        assert a.values == b.values, path.name
    for name, sym in parsed.symbols.items():
        other = loaded.symbols[name]
        assert (sym.str_value, sym.visibility, sym.orig_type) == (
            other.str_value,
            other.visibility,
            other.orig_type,
        )


@pytest.mark.slow
def test_a_changed_kconfig_file_means_a_fresh_parse(kconfig_dir: Path, cache: SourceCache) -> None:
    open_tree(kconfig_dir, cache)
    assert kconfig_cache.load(kconfig_dir, trusted=False) is not None
    edited = kconfig_dir / "archival" / "Config.in"
    text = edited.read_text()
    edited.write_text(text.replace('"Archival Utilities"', '"Archive Tools"', 1))
    st = edited.stat()
    os.utime(edited, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    assert kconfig_cache.load(kconfig_dir, trusted=False) is None
    tree = open_tree(kconfig_dir, cache)
    assert "Archive Tools" in {prompt for _, prompt, _ in menu_shape(tree)}
    assert kconfig_cache.load(kconfig_dir, trusted=False) is not None


@pytest.mark.slow
def test_another_trust_setting_or_a_damaged_file_is_not_used(kconfig_dir: Path, cache: SourceCache) -> None:
    open_tree(kconfig_dir, cache)
    assert kconfig_cache.load(kconfig_dir, trusted=True) is None
    pickled = kconfig_cache.cache_file(kconfig_dir)
    pickled.write_bytes(pickled.read_bytes()[: pickled.stat().st_size // 2])
    assert kconfig_cache.load(kconfig_dir, trusted=False) is None
    pickled.write_bytes(b"not a pickle")
    assert kconfig_cache.load(kconfig_dir, trusted=False) is None
    assert open_tree(kconfig_dir, cache).has("LS")


def test_a_folder_that_cannot_be_written_still_parses(kconfig_dir: Path, cache: SourceCache) -> None:
    kconfig_cache.cache_file(kconfig_dir).mkdir()  # in the way of the file
    tree = open_tree(kconfig_dir, cache)
    assert tree.has("LS")
    assert kconfig_cache.load(kconfig_dir, trusted=False) is None
    assert not list(kconfig_dir.parent.glob(".kconfig.pickle-*"))
