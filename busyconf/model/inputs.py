"""Load "a configuration" from whatever the user names: a profile or a .config."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from busyconf.errors import SourceError, read_user_file
from busyconf.model.config import Configuration, resolve
from busyconf.model.dotconfig import parse_dotconfig
from busyconf.model.kconfig import KconfigTree, load_tree
from busyconf.model.profile import Profile, load_profile, profile_assignments, tree_for
from busyconf.source import SourceCache
from busyconf.source.releases import check_version


@dataclass
class Loaded:
    """A configuration and where it came from."""

    path: Path
    tree: KconfigTree
    config: Configuration
    assignments: list[tuple[str, str]]
    profile: Profile | None = None
    dropped: tuple[str, ...] = ()


def is_profile(path: Path) -> bool:
    return path.suffix == ".toml"


def dotconfig_release(text: str, explicit: str | None, cache: SourceCache) -> str:
    """``--release``, else the .config header's version, else the newest cached."""
    if explicit:
        return explicit
    for line in text.splitlines()[:10]:
        if line.startswith("# Busybox version:"):
            version = line.split(":", 1)[1].strip()
            if cache.has(version):
                return version
            raise SourceError(
                f"the .config was made for BusyBox {version}, which is not in the cache; "
                f"fetch it or pass --release"
            )
    newest = cache.newest()
    if newest is None:
        raise SourceError("no BusyBox release in the cache; run `busyconf source fetch VERSION`")
    return newest


def load_any(
    path: Path,
    release: str | None = None,
    drop_unknown: bool = False,
    cache: SourceCache | None = None,
) -> Loaded:
    cache = cache or SourceCache()
    if release is not None:
        check_version(release)
    if is_profile(path):
        prof = load_profile(path)
        tree = tree_for(prof, cache)
        assignments = profile_assignments(tree, prof)
        return Loaded(path, tree, resolve(tree, assignments), assignments, prof)
    text = read_user_file(path)
    tree = load_tree(dotconfig_release(text, release, cache), cache)
    dot = parse_dotconfig(text, str(path), tree, drop_unknown=drop_unknown)
    return Loaded(path, tree, resolve(tree, dot.assignments), dot.assignments, None, tuple(dot.dropped))
