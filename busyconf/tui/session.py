"""The editing session behind the TUI: a profile, its changes, undo and sizes.

Plain Python on top of the domain (no Textual): the screens call it and
render what it returns, and tests can drive it directly.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import kconfiglib

from busyconf.errors import BusyconfError
from busyconf.model.config import Configuration, explain, resolve, to_kconfig
from busyconf.model.dotconfig import check_ranges
from busyconf.model.kconfig import KconfigTree
from busyconf.model.profile import (
    Profile,
    apply_changes,
    base_assignments,
    dumps,
    load_profile,
    new_profile,
    own_assignments,
    parse_profile,
    save_profile,
    set_header,
    tree_for,
)
from busyconf.source import SourceCache

Assignments = list[tuple[str, str]]


class Estimator(Protocol):
    """What ``busyconf.size.estimator_for`` returns (see the size layer)."""

    def estimate(self, config: Configuration) -> Any: ...

    def delta(self, config: Configuration, name: str, new_value: str) -> int: ...


@dataclass(frozen=True)
class State:
    """One point in the undo history."""

    changes: tuple[tuple[str, str], ...]
    arch: str


@dataclass(frozen=True)
class SizeInfo:
    """The estimate for the current configuration, or why there is none."""

    total: int | None
    per_symbol: dict[str, int]
    basis: str


NO_SIZE = SizeInfo(None, {}, "size: n/a")


def load_estimator(release: str, arch: str) -> Estimator | None:
    """``busyconf.size.estimator_for(release, arch)``, or None when unavailable."""
    try:
        size = importlib.import_module("busyconf.size")
    except ImportError:
        return None
    factory = getattr(size, "estimator_for", None)
    if factory is None:
        return None
    try:
        return factory(release, arch)  # type: ignore[no-any-return]
    except BusyconfError:
        return None


class Session:
    """A profile being edited: the user's changes on top of what the file says."""

    def __init__(self, profile: Profile, tree: KconfigTree) -> None:
        self.profile = profile
        self.tree = tree
        self.base: Assignments = base_assignments(tree, profile.base, profile.path, _stack(profile))
        self.own: Assignments = own_assignments(tree, profile)
        self.saved_text = dumps(profile)
        self.saved_arch = profile.arch
        self.state = State((), profile.arch)
        self.undo_stack: list[State] = []
        self.redo_stack: list[State] = []
        self.base_config = resolve(tree, self.base)
        self.config = self._resolve()
        self.saved_config = self.config
        self.estimator: Estimator | None = None
        self.estimator_arch: str | None = None
        self._size: SizeInfo | None = None
        self._deltas: dict[tuple[str, str], int | None] = {}
        self.new_file = False

    @classmethod
    def open(cls, path: Path, cache: SourceCache | None = None) -> Session:
        """Load ``path`` and its release's tree (raises SourceError when missing)."""
        if path.exists():
            profile = load_profile(path)
            return cls(profile, tree_for(profile, cache))
        profile = new_profile(path=path, description=f"{path.stem}, made with busyconf")
        session = cls(profile, tree_for(profile, cache))
        session.new_file = True
        return session

    # -- values --------------------------------------------------------------
    @property
    def arch(self) -> str:
        return self.state.arch

    @property
    def assignments(self) -> Assignments:
        return self.base + _merge(self.own, list(self.state.changes))

    def _resolve(self) -> Configuration:
        return resolve(self.tree, self.assignments)

    @contextmanager
    def kconfig(self) -> Iterator[kconfiglib.Kconfig]:
        """The kconfiglib state of this session, locked, for reading nodes."""
        with self.tree.lock:
            self.tree.apply(self.assignments)
            yield self.tree.kconf

    @property
    def dirty(self) -> bool:
        return self.new_file or self.config.values != self.saved_config.values or self.arch != self.saved_arch

    def _push(self, state: State) -> None:
        self.undo_stack.append(self.state)
        self.redo_stack.clear()
        self._go(state)

    def _go(self, state: State) -> None:
        arch_changed = state.arch != self.state.arch
        self.state = state
        self.config = self._resolve()
        self._size = None
        self._deltas.clear()
        if arch_changed:
            self.estimator = None

    def set_value(self, name: str, value: str) -> str | None:
        """Set ``name`` to ``value``; return why it did not take, or None."""
        changes = [c for c in self.state.changes if c[0] != name] + [(name, value)]
        trial = resolve(self.tree, self.base + _merge(self.own, changes))
        if trial.values.get(name) != value:
            resolve(self.tree, self.assignments + [(name, value)])
            with self.tree.lock:
                reason = explain(self.tree, name, value)
            self.config = self._resolve()
            return reason or f"{name} stays {trial.values.get(name)!r}"
        self._push(State(tuple(changes), self.arch))
        return None

    def check_value(self, name: str, text: str) -> str:
        """``text`` as a valid kconfiglib value for ``name`` (raises UserError)."""
        value = to_kconfig(
            self.tree, name, text.strip() if self.tree.type_of(name) != "string" else text, name
        )
        with self.kconfig():
            check_ranges(self.tree, [(name, value)], lambda n: n)
        return value

    def reason(self, name: str) -> str | None:
        """Why ``name`` cannot be changed now, in words (None when it can)."""
        with self.kconfig():
            sym = self.tree.symbols[name]
            if sym.orig_type in (kconfiglib.BOOL, kconfiglib.TRISTATE):
                wanted = "n" if sym.tri_value == 2 else "y"
                return explain(self.tree, name, wanted)
            return explain(self.tree, name)

    def set_arch(self, arch: str) -> None:
        if arch != self.arch:
            self._push(State(self.state.changes, arch))

    def undo(self) -> bool:
        if not self.undo_stack:
            return False
        self.redo_stack.append(self.state)
        self._go(self.undo_stack.pop())
        return True

    def redo(self) -> bool:
        if not self.redo_stack:
            return False
        self.undo_stack.append(self.state)
        self._go(self.redo_stack.pop())
        return True

    # -- saving --------------------------------------------------------------
    def profile_after_changes(self, path: Path | None = None) -> Profile:
        """A copy of the saved profile with this session's changes, kept minimal."""
        where = path or self.profile.path
        prof = parse_profile(self.saved_text, where)
        if self.arch != prof.arch:
            set_header(prof, arch=self.arch)
        if self.state.changes:
            apply_changes(prof, self.tree, list(self.state.changes))
        return prof

    def save(self, path: Path | None = None) -> Path:
        """Write the profile (the same bytes ``busyconf set`` would write)."""
        prof = self.profile_after_changes(path)
        target = save_profile(prof, path)
        self.profile = prof
        self.base = base_assignments(self.tree, prof.base, prof.path, _stack(prof))
        self.own = own_assignments(self.tree, prof)
        self.saved_text = dumps(prof)
        self.saved_arch = prof.arch
        self.undo_stack.append(self.state)
        self.redo_stack.clear()
        self.state = State((), prof.arch)
        self.config = self._resolve()
        self.saved_config = self.config
        self.new_file = False
        return target

    # -- sizes ---------------------------------------------------------------
    def ensure_estimator(self) -> bool:
        """Load the size estimator for the current arch (slow: call off the UI thread)."""
        arch = self.arch
        if self.estimator is None or self.estimator_arch != arch:
            self.estimator = load_estimator(self.tree.release, arch)
            self.estimator_arch = arch
            self._size = None
            self._deltas.clear()
        return self.estimator is not None

    def use_estimator(self, arch: str, estimator: Estimator | None) -> None:
        """Install an estimator loaded elsewhere (the TUI loads it in a thread)."""
        self.estimator = estimator
        self.estimator_arch = arch
        self._size = None
        self._deltas.clear()

    @property
    def size_ready(self) -> bool:
        return self.estimator is not None and self.estimator_arch == self.arch

    def size(self) -> SizeInfo:
        if not self.size_ready:
            return NO_SIZE
        if self._size is None:
            est = self.estimator.estimate(self.config)  # type: ignore[union-attr]
            self._size = SizeInfo(int(est.total), dict(est.per_symbol), str(est.basis))
        return self._size

    def delta(self, name: str, value: str) -> int | None:
        """Bytes that setting ``name`` to ``value`` would add (negative: save)."""
        if not self.size_ready:
            return None
        key = (name, value)
        if key not in self._deltas:
            try:
                self._deltas[key] = int(self.estimator.delta(self.config, name, value))  # type: ignore[union-attr]
            except (BusyconfError, KeyError, ValueError):
                self._deltas[key] = None
        return self._deltas[key]

    def toggled(self, name: str) -> str | None:
        """The value Space would give a bool ``name``, or None for other types."""
        if self.tree.type_of(name) not in ("bool", "tristate"):
            return None
        return "n" if self.config.values.get(name) == "y" else "y"

    def diff_against(self, other: Configuration) -> list[tuple[str, str | None, str | None]]:
        """Symbols whose values differ: (name, value there, value here)."""
        return [(n, b, a) for n, a, b in self.config.diff(other)]

    def size_of(self, config: Configuration) -> int | None:
        if not self.size_ready:
            return None
        return int(self.estimator.estimate(config).total)  # type: ignore[union-attr]


def _merge(own: Assignments, changes: list[tuple[str, str]]) -> Assignments:
    merged = dict(own)
    for name, value in changes:
        merged.pop(name, None)
        merged[name] = value
    return list(merged.items())


def _stack(profile: Profile) -> tuple[Path, ...]:
    return (profile.path.resolve(),) if profile.path else ()
