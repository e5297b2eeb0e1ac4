"""BusyBox releases: the known table, fetching, importing and the cache."""

from busyconf.paths import cache_root
from busyconf.source.cache import CachedRelease, SourceCache, sha256_file, tree_version
from busyconf.source.releases import DEFAULT_RELEASE, RELEASES, Release, known_release

__all__ = [
    "DEFAULT_RELEASE",
    "RELEASES",
    "CachedRelease",
    "Release",
    "SourceCache",
    "cache_root",
    "known_release",
    "sha256_file",
    "tree_version",
]
