"""The editing session behind the TUI: a profile, its changes, undo and sizes.

Plain Python on top of the domain (no Textual): the screens call it and
render what it returns, and tests can drive it directly.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import kconfiglib

from busyconf.errors import BusyconfError, UserError
from busyconf.model.config import Configuration, explain, missing_dependencies, resolve, to_kconfig
from busyconf.model.dotconfig import check_ranges
from busyconf.model.kconfig import KconfigTree, SymbolInfo
from busyconf.model.profile import (
    Profile,
    apply_changes,
    changed_on_disk,
    dumps,
    layered_base,
    load_profile,
    new_profile,
    own_assignments,
    parse_profile,
    profile_lock,
    save_profile,
    set_header,
    tree_for,
)
from busyconf.source import SourceCache
from busyconf.source.releases import version_key
from busyconf.tui.sizing import NO_SIZE, Estimator, Preview, SizeInfo

Assignments = list[tuple[str, str]]


@dataclass(frozen=True)
class State:
    """One point in the undo history."""

    changes: tuple[tuple[str, str], ...]
    arch: str


class ChangedOnDisk(UserError):
    """The profile file is not what the editor read: saving would drop someone's edit."""

    title = "Changed on disk"


class Session:
    """A profile being edited: the user's changes on top of what the file says."""

    def __init__(self, profile: Profile, tree: KconfigTree) -> None:
        self.profile = profile
        self.tree = tree
        self.base: Assignments = layered_base(tree, profile)
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
        #: Estimators loaded so far, by arch: undoing an arch switch keeps its sizes.
        self.estimators: dict[str, Estimator | None] = {}
        #: Bumped on every change of values, arch or estimator: work started on an older one is stale.
        self.generation = 0
        self._size: SizeInfo | None = None
        self._total: int | None = None
        self._deltas: dict[tuple[str, str], int | None] = {}
        self._previews: dict[tuple[str, str], Preview] = {}
        self._cache_lock = threading.Lock()
        self.new_file = False
        #: The session on the previous release, when this one is an unsaved release upgrade of it:
        #: the upgrade is an unsaved change, and undo past this session's first state goes back there.
        self.before_upgrade: Session | None = None
        #: Where the BusyBox sources are (None: the per-user cache).
        self.cache: SourceCache | None = None
        self._new_names: frozenset[str] | None = None

    @classmethod
    def open(cls, path: Path, cache: SourceCache | None = None) -> Session:
        """Load ``path`` and its release's tree (raises SourceError when missing)."""
        if path.exists():
            profile = load_profile(path)
            session = cls(profile, tree_for(profile, cache))
        else:
            profile = new_profile(path=path, description=f"{path.stem}, made with busyconf")
            session = cls(profile, tree_for(profile, cache))
            session.new_file = True
        session.cache = cache
        return session

    @classmethod
    def upgraded(cls, before: Session, profile: Profile, cache: SourceCache | None = None) -> Session:
        """A session on ``profile``'s release (raises SourceError when missing) holding it unsaved.

        ``profile`` is ``before``'s profile moved to another release; the file
        on disk stays what ``before`` read until a save, which checks it as usual.
        """
        profile.path = before.profile.path
        profile.disk_sha256 = before.profile.disk_sha256
        session = cls(profile, tree_for(profile, cache))
        session.new_file = before.new_file
        session.before_upgrade = before
        session.cache = cache
        return session

    # -- releases --------------------------------------------------------------
    def load_new_names(self) -> frozenset[str]:
        """Symbols this release added over the previous release busyconf knows.

        Slow the first time (it parses that release's tree): call off the UI
        thread. Empty when there is no earlier release to compare with.
        """
        if self._new_names is None:
            from busyconf.upgrade import new_in_release

            try:
                self._new_names = new_in_release(self.tree.release, self.cache)
            except BusyconfError:
                self._new_names = frozenset()
        return self._new_names

    @property
    def new_names_known(self) -> bool:
        """Whether :meth:`load_new_names` has run."""
        return self._new_names is not None

    def is_new(self, name: str) -> bool:
        """Whether ``name`` is new in this release (False until :meth:`load_new_names` ran)."""
        return self._new_names is not None and name in self._new_names

    def newer_releases(self) -> list[str]:
        """Cached releases newer than this one, oldest first: where an upgrade can go."""
        here = version_key(self.tree.release)
        cached = (self.cache or SourceCache()).list()
        return [r.version for r in cached if version_key(r.version) > here]

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
        with self.tree.applied(self.assignments):
            yield self.tree.kconf

    def info(self, name: str) -> SymbolInfo:
        """What the info screen and the detail pane show about ``name``, in this session's values."""
        with self.kconfig():
            return self.tree.info(name)

    @property
    def dirty(self) -> bool:
        return self.new_file or self.has_edits

    @property
    def has_edits(self) -> bool:
        """Changes the user made (a new file alone is dirty but has none)."""
        return (
            self.before_upgrade is not None
            or self.config.values != self.saved_config.values
            or self.arch != self.saved_arch
        )

    def _push(self, state: State, config: Configuration | None = None) -> None:
        self.undo_stack.append(self.state)
        self.redo_stack.clear()
        self._go(state, config)

    def _go(self, state: State, config: Configuration | None = None) -> None:
        """Move to ``state``; ``config`` is its resolved configuration when the caller has it."""
        arch_changed = state.arch != self.state.arch
        self.state = state
        self.config = self._resolve() if config is None else config
        self._forget_sizes()
        if arch_changed:
            self.estimator = self.estimators.get(state.arch)
            self.estimator_arch = state.arch if state.arch in self.estimators else None

    def _forget_sizes(self) -> None:
        with self._cache_lock:
            self.generation += 1
            self._size = None
            self._total = None
            self._deltas.clear()
            self._previews.clear()

    def _keep(
        self, generation: int, key: tuple[str, str] | None, preview: Preview | None, total: int
    ) -> None:
        """Cache a result computed for ``generation`` unless the values moved on meanwhile."""
        with self._cache_lock:
            if generation != self.generation:
                return
            if key is None:
                self._total = total
            elif preview is not None:
                self._previews[key] = preview

    def set_value(self, name: str, value: str) -> str | None:
        """Set ``name`` to ``value``; return why it did not take, or None."""
        changes = [c for c in self.state.changes if c[0] != name] + [(name, value)]
        trial = resolve(self.tree, self.base + _merge(self.own, changes))
        if trial.values.get(name) != value:
            # Explained in the values that refused it (one hold: a size worker cannot apply others).
            with self.tree.applied(self.assignments + [(name, value)]):
                reason = explain(self.tree, name, value)
            return reason or f"{name} stays {trial.values.get(name)!r}"
        known = self.known_preview(name, value)
        self._push(State(tuple(changes), self.arch), trial)
        if known is not None and known.total is not None:
            # The preview priced exactly these values: its total is the new total.
            self._keep(self.generation, None, None, known.total)
        return None

    def set_values(self, assignments: list[tuple[str, str]]) -> str | None:
        """Set several symbols as one undo step; return why one did not take (nothing changes then)."""
        changes = dict(self.state.changes)
        for name, value in assignments:
            changes.pop(name, None)
            changes[name] = value
        trial = resolve(self.tree, self.base + _merge(self.own, list(changes.items())))
        for name, value in assignments:
            if trial.values.get(name) != value:
                return f"{name} stays {trial.values.get(name)!r}"
        if not assignments:
            return None
        self._push(State(tuple(changes.items()), self.arch), trial)
        return None

    def needs(self, name: str) -> list[str]:
        """Options that are off and must be switched on before ``name`` can be (nearest last).

        Empty when nothing is missing or no single answer is right (an ``||`` or ``!``).
        """
        with self.kconfig():
            return missing_dependencies(self.tree, name) or []

    def set_with_needs(self, name: str, value: str = "y") -> str | None:
        """Set ``name`` and switch on what it needs first, as one undo step."""
        return self.set_values([(dep, "y") for dep in self.needs(name)] + [(name, value)])

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

    def changed_on_disk(self) -> bool:
        """Whether the profile file is no longer the one this session read or last saved."""
        if self.new_file:
            return self.profile.path is not None and self.profile.path.exists()
        return changed_on_disk(self.profile)

    def save(self, path: Path | None = None, force: bool = False) -> Path:
        """Write the profile (the same bytes ``busyconf set`` would write).

        Raises ChangedOnDisk, writing nothing, when the file changed since it
        was read, unless ``force``; the check and the write hold the profile's lock.
        """
        target = Path(path or self.profile.path or "")
        if not str(target):
            raise UserError("no file name to save the profile to")
        ours = self.profile.path is not None and (path is None or _same_file(target, self.profile.path))
        with profile_lock(target):
            if ours and not force and self.changed_on_disk():
                raise ChangedOnDisk(f"{target}: changed on disk since the editor read it")
            prof = self.profile_after_changes(path)
            prof.disk_sha256 = self.profile.disk_sha256
            target = save_profile(prof, path, force=True)
        self._saved(prof)
        return target

    def _saved(self, prof: Profile) -> None:
        self.profile = prof
        self.base = layered_base(self.tree, prof)
        self.own = own_assignments(self.tree, prof)
        self.saved_text = dumps(prof)
        self.saved_arch = prof.arch
        self.undo_stack.append(self.state)
        self.redo_stack.clear()
        self.state = State((), prof.arch)
        self.config = self._resolve()
        self.saved_config = self.config
        self._forget_sizes()
        self.new_file = False
        # The file now holds the upgrade: the old release's session no longer describes it.
        self.before_upgrade = None

    def rebase(self) -> None:
        """Take the file as it is on disk now as the saved state, keeping this session's changes.

        What ``busyconf set`` does to a file: the next save writes their file
        with these changes on top.
        """
        path = self.profile.path
        if path is None or not path.exists():
            raise UserError(f"{path}: no longer exists")
        prof = load_profile(path)
        if prof.busybox != self.tree.release:
            raise UserError(f"{path}: now uses BusyBox {prof.busybox}, not {self.tree.release}")
        base = layered_base(self.tree, prof)
        own = own_assignments(self.tree, prof)
        self.profile, self.base, self.own = prof, base, own
        self.saved_text = dumps(prof)
        self.saved_arch = prof.arch
        self.base_config = resolve(self.tree, base)
        self.saved_config = resolve(self.tree, base + own)
        self.config = self._resolve()
        self._forget_sizes()
        self.new_file = False
        # Their file is on this release already: going back to the old release's session would drop it.
        self.before_upgrade = None

    # -- recovery --------------------------------------------------------------
    def recovery_text(self) -> str:
        """The profile text a save would write now (what a recovery file keeps)."""
        return dumps(self.profile_after_changes())

    def restore(self, text: str) -> bool:
        """Take a recovered profile text as unsaved changes (undoable); False when it changes nothing.

        The file on disk is untouched: the changes are this session's until saved.
        """
        where = self.profile.path
        rec = parse_profile(text, where)
        if rec.busybox != self.tree.release:
            raise UserError(f"the recovered profile uses BusyBox {rec.busybox}, not {self.tree.release}")
        rec_base = layered_base(self.tree, rec)
        rec_own = dict(own_assignments(self.tree, rec))
        target = dict(resolve(self.tree, rec_base + list(rec_own.items())).values)
        if target == dict(self.config.values) and rec.arch == self.arch:
            return False
        merged = dict(_merge(self.own, list(self.state.changes)))
        # A name set here but not in the recovered file takes its recovered value.
        wanted = {n: target.get(n, v) for n, v in merged.items() if n not in rec_own} | rec_own
        changes = dict(self.state.changes) | {n: v for n, v in wanted.items() if merged.get(n) != v}
        if self._reaches(changes) != target:
            # Another base on disk: every value that differs, spelled out.
            changes |= {n: v for n, v in target.items() if self.config.values.get(n) != v}
            if self._reaches(changes) != target:
                raise UserError("the recovered profile cannot be reached from the file as it is now")
        self._push(State(tuple(changes.items()), rec.arch))
        return True

    def _reaches(self, changes: dict[str, str]) -> dict[str, str]:
        return dict(resolve(self.tree, self.base + _merge(self.own, list(changes.items()))).values)

    # -- sizes ---------------------------------------------------------------
    def use_estimator(self, arch: str, estimator: Estimator | None) -> None:
        """Install an estimator loaded elsewhere (the TUI loads it in a thread)."""
        self.estimators[arch] = estimator
        if arch == self.arch:
            self.estimator = estimator
            self.estimator_arch = arch
            self._forget_sizes()

    @property
    def size_ready(self) -> bool:
        return self.estimator is not None and self.estimator_arch == self.arch

    def total(self) -> int | None:
        """The estimated total for the current values (fast: no per-symbol breakdown)."""
        generation, config, estimator, total = self.generation, self.config, self.estimator, self._total
        if not self.size_ready or estimator is None:
            return None
        if total is None:
            total = int(estimator.total(config))
            self._keep(generation, None, None, total)
        return total

    @property
    def basis(self) -> str:
        """What the sizes come from, and the options they leave out (``; DEBUG_PESSIMIZE not priced``)."""
        if not self.size_ready or self.estimator is None:
            return NO_SIZE.basis
        unpriced = self.estimator.unpriced(self.config)
        return self.estimator.basis + (f"; {', '.join(unpriced)} not priced" if unpriced else "")

    def preview(self, name: str, value: str) -> Preview:
        """What setting ``name`` to ``value`` gives, exactly as :meth:`set_value` would apply it.

        The change is applied to a copy of the configuration with Kconfig's own
        rules (sub-options keep the values they really take) and priced as a
        whole, so ``preview(...).total`` is the total after the key. About a
        millisecond; cached until the values change. Safe from a worker thread:
        a result for values that changed meanwhile is not kept.
        """
        return self._preview(((name, value),))

    def preview_values(self, assignments: list[tuple[str, str]]) -> Preview:
        """:meth:`preview` of several changes made as one step (the last one names the preview)."""
        return self._preview(tuple(assignments))

    def _preview(self, assignments: tuple[tuple[str, str], ...]) -> Preview:
        name, value = assignments[-1]
        key = (name, value) if len(assignments) == 1 else ("\0".join(n for n, _ in assignments), value)
        with self._cache_lock:
            generation, state, base, own = self.generation, self.state, self.base, self.own
            ready = self.size_ready
            estimator = self.estimator
            cached = self._previews.get(key)
        if cached is not None:
            return cached
        names = {n for n, _ in assignments}
        changes = [c for c in state.changes if c[0] not in names] + list(assignments)
        trial = resolve(self.tree, base + _merge(own, changes))
        taken = all(trial.values.get(n) == v for n, v in assignments)
        total = delta = None
        if taken and ready and estimator is not None:
            before = self.total()
            after = int(estimator.total(trial))
            if before is not None:
                total, delta = after, after - before
        result = Preview(name, value, taken, total, delta)
        if delta is not None or not taken or not ready:
            self._keep(generation, key, result, 0)
        return result

    def known_preview(self, name: str, value: str) -> Preview | None:
        """The cached :meth:`preview`, if it was computed for the current values."""
        return self._previews.get((name, value))

    def size(self) -> SizeInfo:
        if not self.size_ready:
            return NO_SIZE
        if self._size is None:
            est = self.estimator.estimate(self.config)  # type: ignore[union-attr]
            self._size = SizeInfo(int(est.total), dict(est.per_symbol), str(est.basis))
            self._total = self._size.total
        return self._size

    def delta(self, name: str, value: str) -> int | None:
        """The size model's quick figure for setting ``name`` to ``value`` (negative: save).

        It prices the symbol and its dependants on their own, without
        resolving Kconfig: a marked first guess until :meth:`preview` is known.
        """
        if not self.size_ready:
            return None
        key = (name, value)
        if key not in self._deltas:
            try:
                self._deltas[key] = int(self.estimator.delta(self.config, name, value))  # type: ignore[union-attr]
            except (BusyconfError, KeyError, ValueError):
                self._deltas[key] = None
        return self._deltas[key]

    def quick_deltas(self, changes: list[tuple[str, str]]) -> list[int | None]:
        """:meth:`delta` for many rows at once (one pass of the size model)."""
        if not self.size_ready or not changes:
            return [None] * len(changes)
        missing = [c for c in changes if c not in self._deltas]
        if missing:
            try:
                found = self.estimator.deltas(self.config, missing)  # type: ignore[union-attr]
            except (BusyconfError, KeyError, ValueError):
                found = [None] * len(missing)
            self._deltas.update(zip(missing, found, strict=True))
        return [self._deltas[c] for c in changes]

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


def _same_file(a: Path, b: Path) -> bool:
    return a.resolve() == b.resolve()
