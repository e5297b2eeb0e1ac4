"""The exact engine's object-cache index: which cached object fits which commands and inputs.

Each target (``libbb/xfuncs.o``) lists the keys it was cached under and the
files its key hashes. Several engines (the editor, a bench, a calibration)
may share one tree, each holding the index in memory; saving merges what
others saved since, so that no cached object is lost to a later writer.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path

Entry = dict[str, object]


class ObjectIndex:
    """The index file of one object cache, loaded once, merged on save (under the tree's build lock)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._stamp = _stamp(path)
        self._entries = self._read()
        self.changed = False

    def _read(self) -> dict[str, list[Entry]]:
        # Tuples of strings: the garbage collector stops tracking them, and an index of
        # some 200,000 lists made every collection (and a key press in the TUI) slower.
        try:
            data = json.loads(self.path.read_text())
            return {t: [{"key": e["key"], "deps": tuple(e["deps"])} for e in es] for t, es in data.items()}
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return {}

    def entries(self, target: str) -> Iterable[Entry]:
        return tuple(self._entries.get(target, ()))

    def add(self, target: str, key: str, deps: Sequence[str]) -> None:
        with self._lock:
            entries = [e for e in self._entries.get(target, []) if e["key"] != key]
            entries.append({"key": key, "deps": tuple(deps)})
            self._entries[target] = entries
            self.changed = True

    def save(self) -> None:
        """Write the index when something was added, with the entries others saved since it was read.

        The index runs to tens of megabytes: it is not written when nothing changed.
        """
        if not self.changed:
            return
        with self._lock:
            if _stamp(self.path) != self._stamp:
                for target, theirs in self._read().items():
                    mine = self._entries.setdefault(target, [])
                    known = {e["key"] for e in mine}
                    mine.extend(e for e in theirs if e["key"] not in known)
            tmp = self.path.with_suffix(".tmp")
            tmp.write_text(json.dumps(self._entries))
            os.replace(tmp, self.path)
            self._stamp = _stamp(self.path)
            self.changed = False


def _stamp(path: Path) -> tuple[int, int] | None:
    """What tells whether a file changed since it was read: its mtime and size."""
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_mtime_ns, st.st_size
