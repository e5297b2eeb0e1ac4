"""BusyBox releases: the known table, fetching, importing and the cache."""

from busyconf.source.cache import CachedRelease, SourceCache, cache_root, sha256_file, tree_version
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
