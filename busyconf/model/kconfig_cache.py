"""A parsed Kconfig tree kept next to its sources, so that a process can start without parsing.

kconfiglib parses BusyBox's ~100 Kconfig files in about 25 ms here; loading the
pickled result takes about 8. The pickle is busyconf's own output, written into
the release's folder of the source cache next to the files it was made from (the
same owner, the same trust). It is used only when it was made by this format,
this kconfiglib and this Python, for the same trust setting, and when every file
the parse read still has the size and modification time it had then. Anything
else (a missing, stale, foreign or damaged file) means a fresh parse, which
writes the file again; a folder that cannot be written just means no cache.
"""

from __future__ import annotations

import os
import pickle
import sys
import tempfile
from pathlib import Path
from typing import Any

import kconfiglib

#: Bumped when what is pickled changes shape.
FORMAT = 1
FILE_NAME = "kconfig.pickle"
#: kconfiglib's menu tree is a linked structure that the pickler walks recursively.
RECURSION_LIMIT = 20_000

Stamps = tuple[tuple[str, int, int], ...]


def cache_file(kconfig_dir: Path) -> Path:
    return kconfig_dir.parent / FILE_NAME


def _identity(trusted: bool) -> tuple[object, ...]:
    return (FORMAT, kconfiglib.VERSION, sys.version_info[:2], trusted)


def _stamps(kconfig_dir: Path, names: list[str]) -> Stamps | None:
    """``(name, size, mtime_ns)`` of each file, or None when one is gone."""
    out = []
    for name in names:
        try:
            st = os.stat(kconfig_dir / name)
        except OSError:
            return None
        out.append((name, st.st_size, st.st_mtime_ns))
    return tuple(out)


def load(kconfig_dir: Path, trusted: bool) -> tuple[kconfiglib.Kconfig, Any] | None:
    """The tree and applet table pickled for ``kconfig_dir``, if still valid."""
    try:
        with open(cache_file(kconfig_dir), "rb") as f:
            identity, stamps, env = pickle.load(f)
            if identity != _identity(trusted) or any(os.environ.get(k) != v for k, v in env.items()):
                return None
            if _stamps(kconfig_dir, [name for name, _, _ in stamps]) != stamps:
                return None
            kconf, applets = pickle.load(f)
    except Exception:  # noqa: BLE001 - any unreadable cache is just a cache miss
        return None
    return kconf, applets


def save(
    kconfig_dir: Path, trusted: bool, kconf: kconfiglib.Kconfig, applets: object, read: list[str]
) -> None:
    """Keep a freshly parsed tree; ``read`` names the other files the parse used."""
    names = set(read)
    for name in kconf.kconfig_filenames:
        path = Path(name)  # kconfiglib gives the top file as opened, the others relative to srctree
        if path.is_absolute():
            if not path.is_relative_to(kconfig_dir):
                return  # a file outside the tree: not worth tracking
            path = path.relative_to(kconfig_dir)
        names.add(str(path))
    stamps = _stamps(kconfig_dir, sorted(names))
    if stamps is None:
        return
    ours = {"srctree", "KCONFIG_FUNCTIONS"}
    env = {name: os.environ.get(name) for name in kconf.env_vars if name not in ours}
    kconf._readline = None  # the parse's file, closed by now
    limit = sys.getrecursionlimit()
    target = cache_file(kconfig_dir)
    tmp = None
    try:
        sys.setrecursionlimit(max(limit, RECURSION_LIMIT))
        header = pickle.dumps((_identity(trusted), stamps, env), protocol=pickle.HIGHEST_PROTOCOL)
        body = pickle.dumps((kconf, applets), protocol=pickle.HIGHEST_PROTOCOL)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{FILE_NAME}-")
        with os.fdopen(fd, "wb") as f:
            f.write(header)
            f.write(body)
        os.replace(tmp, target)
        tmp = None
    except (OSError, RecursionError, pickle.PicklingError):
        pass
    finally:
        sys.setrecursionlimit(limit)
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
