"""Where busyconf keeps what it downloads, builds and locks: one cache folder."""

from __future__ import annotations

import os
from pathlib import Path


def cache_root() -> Path:
    """``$BUSYCONF_CACHE``, else ``$XDG_CACHE_HOME/busyconf``, else ``~/.cache/busyconf``."""
    # Absolute from the start: the paths reach make, sh and subprocesses that
    # run in other folders, where a relative cache would name another place.
    env = os.environ.get("BUSYCONF_CACHE")
    if env:
        return Path(os.path.abspath(env))
    xdg = os.environ.get("XDG_CACHE_HOME")
    # The XDG spec says a relative XDG_CACHE_HOME is to be ignored.
    base = Path(xdg) if xdg and os.path.isabs(xdg) else Path.home() / ".cache"
    return Path(os.path.abspath(base / "busyconf"))
