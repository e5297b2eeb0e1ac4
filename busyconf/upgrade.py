"""Moving a profile to another BusyBox release, and what the move changes.

BusyBox's ``make oldconfig`` reads the old ``.config`` into the new release's
Kconfig: every symbol the file names keeps its value where it still can, and
every new symbol silently takes its default, so new applets switch on unasked.
:func:`drift_report` computes the same result (kconfiglib reading the old
``.config`` as ``conf`` does) and lists every symbol whose ``.config`` line it
changes, each with a reason; :func:`upgrade_profile` then writes a profile for
the new release that keeps what the user had: new symbols that would switch
on are pinned off (unless accepted), a renamed symbol's value moves to its new
name, a removed one is dropped, and the result stays minimal against its base.

The report's symbol list equals ``make oldconfig``'s changes: BusyBox's
``conf`` writes a line for every symbol, so every new symbol appears in the new
``.config`` (all are listed, as ``new`` or as the target of a ``renamed``), every
removed one disappears (``removed`` or the source of a ``renamed``), and a
symbol of both releases is listed exactly when its value changes
(``value_lost`` when the profile set it, else ``default_changed``).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import kconfiglib
import tomlkit
from tomlkit.items import Table

from busyconf.errors import UserError
from busyconf.model.config import Configuration, explain, resolve
from busyconf.model.dotconfig import dotconfig_text, parse_dotconfig
from busyconf.model.kconfig import KconfigTree, load_tree
from busyconf.model.profile import (
    Profile,
    layered_base,
    minimal_overrides,
    own_assignments,
    parse_profile,
    profile_assignments,
    set_header,
    tree_for,
    write_overrides,
)
from busyconf.source import SourceCache
from busyconf.source.releases import RELEASES, check_version, version_key

#: Two symbols are one renamed when their prompts, and their prompt and help text, are at least
#: this alike (difflib ratio). 1.35.0 -> 1.38.0 removes no symbol; measured there, every kept symbol
#: matches its own later text, and no new 1.38.0 symbol matches any 1.35.0 one (see the tests).
RENAME_THRESHOLD = 0.8

KINDS = ("new", "removed", "renamed", "default_changed", "value_lost")


@dataclass(frozen=True)
class SymbolDrift:
    """One symbol whose ``.config`` line the upgrade changes.

    ``old``/``new``: its value in the old release's configuration and the value
    ``make oldconfig`` gives it in the new one (None where it does not exist).
    ``pinned``: new, would switch on, and written off in the upgraded profile.
    """

    name: str
    kind: str
    old: str | None
    new: str | None
    reason: str
    renamed_to: str | None = None
    applet: str | None = None
    pinned: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "old": self.old,
            "new": self.new,
            "reason": self.reason,
            "renamed_to": self.renamed_to,
            "applet": self.applet,
            "pinned": self.pinned,
        }


@dataclass(frozen=True)
class DriftReport:
    """What upgrading one profile from ``from_release`` to ``to_release`` changes."""

    profile: Path | None
    from_release: str
    to_release: str
    arch: str
    symbols: tuple[SymbolDrift, ...]
    applets_added: tuple[str, ...]
    applets_removed: tuple[str, ...]
    size_before: int | None
    size_after: int | None
    #: (applet, bytes it adds (+) or saves (-)) for each applet whose cost changed.
    applet_sizes: tuple[tuple[str, int], ...]
    #: How each size was estimated ("calibrated table ..." or "coarse ...").
    size_basis_before: str = ""
    size_basis_after: str = ""
    #: Existing symbols whose default changed where the profile's value is kept.
    defaults_kept: tuple[SymbolDrift, ...] = field(default=())

    def of_kind(self, kind: str) -> tuple[SymbolDrift, ...]:
        return tuple(s for s in self.symbols if s.kind == kind)

    @property
    def pinned(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.symbols if s.pinned)

    def to_json(self) -> dict[str, Any]:
        return {
            "profile": str(self.profile) if self.profile else None,
            "from": self.from_release,
            "to": self.to_release,
            "arch": self.arch,
            "symbols": [s.to_json() for s in self.symbols],
            "defaults_kept": [s.to_json() for s in self.defaults_kept],
            "applets_added": list(self.applets_added),
            "applets_removed": list(self.applets_removed),
            "size_before": self.size_before,
            "size_after": self.size_after,
            "size_basis_before": self.size_basis_before,
            "size_basis_after": self.size_basis_after,
            "applet_sizes": [{"applet": a, "bytes": b} for a, b in self.applet_sizes],
        }


# -- releases --------------------------------------------------------------------


def _releases(cache: SourceCache) -> list[str]:
    names = set(RELEASES) | {r.version for r in cache.list()}
    return sorted(names, key=version_key)


def previous_release(release: str, cache: SourceCache | None = None) -> str | None:
    """The newest known or cached release older than ``release``."""
    cache = cache or SourceCache()
    older = [r for r in _releases(cache) if version_key(r) < version_key(release)]
    return older[-1] if older else None


def new_in_release(release: str, cache: SourceCache | None = None) -> frozenset[str]:
    """Symbols of ``release`` that the previous known or cached release did not have."""
    cache = cache or SourceCache()
    prev = previous_release(release, cache)
    if prev is None or not cache.has(prev) or not cache.has(release):
        return frozenset()
    old, new = load_tree(prev, cache), load_tree(release, cache)
    return frozenset(n for n in new.symbols if not old.has(n))


def check_target(profile: Profile, to_release: str, cache: SourceCache) -> None:
    """Refuse an unknown target, the same release, or a downgrade (UserError)."""
    check_version(to_release)
    if to_release not in RELEASES and not cache.has(to_release):
        known = ", ".join(_releases(cache))
        raise UserError(f"--to {to_release}: not a known or cached BusyBox release (known: {known})")
    if to_release == profile.busybox:
        raise UserError(f"{profile.where}: already at busybox {to_release}; nothing to upgrade")
    if version_key(to_release) < version_key(profile.busybox):
        raise UserError(
            f"{profile.where}: --to {to_release} is older than the profile's {profile.busybox}; "
            "downgrades are not supported"
        )


# -- symbol facts ----------------------------------------------------------------


#: The size label BusyBox puts on an applet's prompt ("ls (14 kb)") changes with the code, not the meaning.
_SIZE_LABEL = re.compile(r"\s*\((?:tiny|[\d.]+ (?:kb|bytes))\)\s*$", re.IGNORECASE)


def _prompt(tree: KconfigTree, name: str) -> str:
    prompt = next((n.prompt[0] for n in tree.symbols[name].nodes if n.prompt), "")
    return _SIZE_LABEL.sub("", prompt)


def _text(tree: KconfigTree, name: str) -> str:
    help_text = "\n".join(n.help for n in tree.symbols[name].nodes if n.help)
    return f"{_prompt(tree, name)}\n{help_text}".strip()


def _alike(a: str, b: str) -> float:
    m = difflib.SequenceMatcher(None, a, b, autojunk=False)
    if m.real_quick_ratio() < RENAME_THRESHOLD or m.quick_ratio() < RENAME_THRESHOLD:
        return 0.0
    return m.ratio()


def match_renames(old: KconfigTree, new: KconfigTree, removed: list[str], added: list[str]) -> dict[str, str]:
    """Removed -> new symbol names that are one symbol renamed.

    A pair must have the same type, alike prompts and alike prompt + help
    text (difflib ratio at least :data:`RENAME_THRESHOLD` each), and an
    applet's symbol only matches one that switches on an applet of the same
    name: sibling applets (``sha3sum``/``sha384sum``, ``setfattr``/``getfattr``)
    have help texts nearly as alike as a renamed symbol's. Each name is used
    once, best pairs first; symbols without a prompt never match.
    """
    pairs: list[tuple[float, str, str]] = []
    for r in removed:
        pr, tr = _prompt(old, r), _text(old, r)
        if not pr:
            continue
        for n in added:
            pn = _prompt(new, n)
            if not pn or old.type_of(r) != new.type_of(n):
                continue
            if (old.is_applet(r) or new.is_applet(n)) and not set(old.applets_of(r)) & set(new.applets_of(n)):
                continue
            if _alike(pr, pn) < RENAME_THRESHOLD:
                continue
            ratio = _alike(tr, _text(new, n))
            if ratio >= RENAME_THRESHOLD:
                pairs.append((ratio, r, n))
    out: dict[str, str] = {}
    used: set[str] = set()
    for _ratio, r, n in sorted(pairs, key=lambda p: (-p[0], p[1], p[2])):
        if r not in out and n not in used:
            out[r] = n
            used.add(n)
    return out


def applet_of(tree: KconfigTree, name: str) -> str | None:
    """The applet ``name`` switches on or belongs to (its menu parent), if any."""
    if tree.is_applet(name):
        return tree.applets_of(name)[0]
    sym = tree.symbols.get(name)
    if sym is None:
        return None
    for node in sym.nodes:
        parent = node.parent
        while parent is not None:
            item = parent.item
            if isinstance(item, kconfiglib.Symbol) and tree.is_applet(item.name):
                return tree.applets_of(item.name)[0]
            parent = parent.parent
    for dep in kconfiglib.expr_items(sym.direct_dep):
        if isinstance(dep, kconfiglib.Symbol) and tree.is_applet(dep.name):
            return tree.applets_of(dep.name)[0]
    return None


# -- the report ------------------------------------------------------------------


@dataclass
class _Upgrade:
    """Everything computed once for one profile and target."""

    old_tree: KconfigTree
    new_tree: KconfigTree
    old_cfg: Configuration
    oldconfig: Configuration
    own: dict[str, str]
    renames: dict[str, str]
    base_new: list[tuple[str, str]]
    target: Configuration
    pinned: set[str]
    symbols: list[SymbolDrift]
    defaults_kept: list[SymbolDrift]


def _oldconfig(
    old_tree: KconfigTree, new_tree: KconfigTree, old_cfg: Configuration
) -> tuple[Configuration, list[tuple[str, str]]]:
    """What BusyBox's ``make oldconfig`` makes of the old configuration in the new release.

    Returns the configuration and the assignments that give it (the old
    ``.config``'s lines the new release knows).
    """
    text = dotconfig_text(old_tree, list(old_cfg.values.items()))
    dot = parse_dotconfig(text, f"BusyBox {old_tree.release} .config", new_tree, drop_unknown=True)
    return resolve(new_tree, dot.assignments), dot.assignments


def _accepted(accept_new: bool | Collection[str], name: str, applet: str | None) -> bool:
    if isinstance(accept_new, bool):
        return accept_new
    return name in accept_new or (applet is not None and applet in accept_new)


def _compute(
    profile: Profile, to_release: str, accept_new: bool | Collection[str], cache: SourceCache
) -> _Upgrade:
    check_target(profile, to_release, cache)
    old_tree = tree_for(profile, cache)
    new_tree = load_tree(to_release, cache)
    old_assign = profile_assignments(old_tree, profile)
    old_cfg = resolve(old_tree, old_assign)
    own = dict(own_assignments(old_tree, profile))
    oc, oc_assign = _oldconfig(old_tree, new_tree, old_cfg)
    if not isinstance(accept_new, bool):
        unknown = sorted(n for n in accept_new if not new_tree.has(n) and n not in _applet_names(new_tree))
        if unknown:
            raise UserError(f"--accept: unknown symbol {unknown[0]} (not in BusyBox {to_release})")
    removed = [n for n in old_tree.symbols if not new_tree.has(n)]
    added = [n for n in new_tree.symbols if not old_tree.has(n)]
    renames = match_renames(old_tree, new_tree, removed, added)
    renamed_to = set(renames.values())

    # What [config] sits on in the new release: the base, then the profile's fragments.
    base_new = layered_base(new_tree, profile)
    # The upgraded profile's wishes: oldconfig's result, renamed values carried, new "on"s pinned off.
    wishes: dict[str, str] = {}
    for old_name, new_name in renames.items():
        wishes[new_name] = old_cfg.values[old_name]
    pin_candidates = [
        n
        for n in added
        if n not in renamed_to
        and new_tree.type_of(n) in ("bool", "tristate")
        and oc.values.get(n) == "y"
        and not _accepted(accept_new, n, applet_of(new_tree, n))
    ]
    for n in pin_candidates:
        wishes[n] = "n"
    # An accepted new option takes oldconfig's value even where the base says otherwise
    # (allnoconfig's new symbols are off; accepting one means wanting what oldconfig gives).
    for n in added:
        if (
            n not in renamed_to
            and new_tree.type_of(n) in ("bool", "tristate")
            and oc.values.get(n) == "y"
            and _accepted(accept_new, n, applet_of(new_tree, n))
        ):
            wishes[n] = "y"
    # Existing symbols keep the value they had (a changed default must not change the build).
    keep = [(n, v) for n, v in old_cfg.values.items() if new_tree.has(n)]
    target = resolve(new_tree, [*base_new, *keep, *wishes.items()])
    # A pin that did not take (the symbol has no prompt, or something selects it) is not a pin.
    pinned = {n for n in pin_candidates if target.values.get(n) == "n"}

    symbols: list[SymbolDrift] = []
    with new_tree.applied([*base_new, *keep, *wishes.items()]):
        for n in old_tree.symbols:
            if new_tree.has(n):
                continue
            value = old_cfg.values[n]
            if n in renames:
                to = renames[n]
                reason = f"renamed to {to} in {to_release}; value carried" + (
                    f" (oldconfig would give {oc.values[to]})" if oc.values[to] != value else ""
                )
                if target.values[to] != value:
                    why = explain(new_tree, to, value)
                    reason = f"renamed to {to} in {to_release}; {value!r} does not take: {why or 'unknown'}"
                symbols.append(
                    SymbolDrift(n, "renamed", value, oc.values[to], reason, to, applet_of(old_tree, n))
                )
            else:
                where = "set by the profile, dropped" if n in own else "not in the new release"
                symbols.append(
                    SymbolDrift(
                        n,
                        "removed",
                        value,
                        None,
                        f"removed in {to_release}; {where}",
                        applet=applet_of(old_tree, n),
                    )
                )
        for n in added:
            if n in renamed_to:
                continue
            value = oc.values[n]
            is_pinned = n in pinned
            if is_pinned:
                reason = "new; would switch on by default, pinned off"
            elif value == "y" and n in pin_candidates:
                reason = "new; switches on, and cannot be pinned off: " + (explain(new_tree, n, "n") or "")
            elif value == "y":
                reason = "new; switches on by default (accepted)"
            else:
                reason = "new; default " + (
                    repr(value) if new_tree.type_of(n) not in ("bool", "tristate") else "off"
                )
            symbols.append(
                SymbolDrift(n, "new", None, value, reason, applet=applet_of(new_tree, n), pinned=is_pinned)
            )
    # Why oldconfig changes a value is read in oldconfig's state, not the upgraded profile's.
    with new_tree.applied(oc_assign):
        for n, old_value in old_cfg.values.items():
            if not new_tree.has(n):
                continue
            value = oc.values[n]
            if value == old_value:
                continue
            kind = "value_lost" if n in own else "default_changed"
            why = explain(new_tree, n, old_value)
            if kind == "value_lost":
                reason = f"the profile sets {old_value!r}; in {to_release} " + (why or "it does not take")
            else:
                reason = f"now {value!r} under this profile" + (f": {why}" if why else "")
            if target.values[n] == old_value:
                reason += f"; the upgraded profile keeps {old_value!r}"
            symbols.append(SymbolDrift(n, kind, old_value, value, reason, applet=applet_of(new_tree, n)))
    listed = {d.name for d in symbols}
    defaults_kept = [
        d
        for d in _defaults_kept(old_tree, new_tree, old_cfg, [*base_new, *wishes.items()], own, to_release)
        if d.name not in listed
    ]
    return _Upgrade(
        old_tree, new_tree, old_cfg, oc, own, renames, base_new, target, pinned, symbols, defaults_kept
    )


def _applet_names(tree: KconfigTree) -> set[str]:
    return {a.name for a in tree.applets}


def _defaults_kept(
    old_tree: KconfigTree,
    new_tree: KconfigTree,
    old_cfg: Configuration,
    base_new: list[tuple[str, str]],
    own: Mapping[str, str],
    to_release: str,
) -> list[SymbolDrift]:
    """Symbols of both releases whose default (with the profile's other values) changed.

    ``make oldconfig`` keeps their ``.config`` value, and so does the upgraded
    profile (it pins the old value), so they are not in the symbol list.
    """
    # The new release's defaults under the profile's own values (and the pins): base plus [config].
    own_new = [(n, v) for n, v in own.items() if new_tree.has(n)]
    fresh = resolve(new_tree, [*base_new, *own_new])
    out = []
    for n, old_value in old_cfg.values.items():
        if n in own or not new_tree.has(n):
            continue
        value = fresh.values.get(n)
        if value is not None and value != old_value:
            out.append(
                SymbolDrift(
                    n,
                    "default_changed",
                    old_value,
                    value,
                    f"{to_release}'s default is {value!r}; the profile keeps {old_value!r}",
                    applet=applet_of(new_tree, n),
                )
            )
    return out


def _sizes(
    profile: Profile,
    old_cfg: Configuration,
    new_cfg: Configuration,
    new_tree: KconfigTree,
    old_tree: KconfigTree,
) -> tuple[int | None, int | None, str, str, tuple[tuple[str, int], ...]]:
    """Estimated sizes before and after, their bases, and the change per applet.

    With a calibrated table for both releases each side is priced with its
    own. Otherwise the old configuration is priced with the new release's
    estimator: a coarse estimate beside a calibrated one would make every
    applet look changed, so the comparison then shows what the configuration
    change costs, not what the code grew by, and its basis says so.
    """
    from busyconf.size import estimator_for

    try:
        est_new = estimator_for(new_cfg.release, profile.arch, profile.toolchain, on_bad_table="coarse")
        est_old = estimator_for(old_cfg.release, profile.arch, profile.toolchain, on_bad_table="coarse")
    except UserError:
        return None, None, "", "", ()
    if est_old.calibrated and est_new.calibrated:
        a, b = est_old.estimate(old_cfg), est_new.estimate(new_cfg)
        basis_a = a.basis
    else:
        a, b = est_new.estimate(old_cfg.values), est_new.estimate(new_cfg)
        basis_a = (
            f"{old_cfg.release}'s configuration priced with {new_cfg.release}'s {b.basis} "
            f"({old_cfg.release} has no calibrated size table here): configuration change only"
        )
    per: dict[str, int] = {}
    for est, sign in ((a, -1), (b, 1)):
        for sym, cost in est.per_symbol.items():
            # One attribution for both sides (the new tree's where it has the symbol): a feature
            # whose menu moved must not count as removed from one applet and added to another.
            app = applet_of(new_tree if new_tree.has(sym) else old_tree, sym)
            if app is not None:
                per[app] = per.get(app, 0) + sign * cost
    changed = tuple(sorted(((k, v) for k, v in per.items() if v), key=lambda kv: (-abs(kv[1]), kv[0])))
    return a.total, b.total, basis_a, b.basis, changed


def _report(profile: Profile, to_release: str, up: _Upgrade) -> DriftReport:
    before = set(up.old_cfg.applets)
    after = set(up.target.applets)
    size_before, size_after, basis_a, basis_b, per = _sizes(
        profile, up.old_cfg, up.target, up.new_tree, up.old_tree
    )
    return DriftReport(
        profile=profile.path,
        from_release=profile.busybox,
        to_release=to_release,
        arch=profile.arch,
        symbols=tuple(up.symbols),
        applets_added=tuple(sorted(after - before)),
        applets_removed=tuple(sorted(before - after)),
        size_before=size_before,
        size_after=size_after,
        applet_sizes=per,
        size_basis_before=basis_a,
        size_basis_after=basis_b,
        defaults_kept=tuple(up.defaults_kept),
    )


def drift_report(
    profile: Profile,
    to_release: str,
    *,
    accept_new: bool | Collection[str] = False,
    cache: SourceCache | None = None,
) -> DriftReport:
    """What moving ``profile`` to ``to_release`` changes (the profile is not touched)."""
    cache = cache or SourceCache()
    return _report(profile, to_release, _compute(profile, to_release, accept_new, cache))


def upgrade_profile(
    profile: Profile,
    to_release: str,
    *,
    accept_new: bool | Collection[str] = False,
    cache: SourceCache | None = None,
) -> tuple[Profile, DriftReport]:
    """A copy of ``profile`` for ``to_release`` that keeps what it had, and the report (not saved)."""
    cache = cache or SourceCache()
    up = _compute(profile, to_release, accept_new, cache)
    out = parse_profile(profile.doc.as_string(), profile.path)
    out.disk_sha256 = profile.disk_sha256
    set_header(out, busybox=to_release)
    overrides = minimal_overrides(
        up.new_tree,
        up.base_new,
        up.target,
        [(n, v) for n, v in up.own.items() if up.new_tree.has(n)],
        keep_order=[up.renames.get(k, k) for k in profile.config],
    )
    write_overrides(out, up.new_tree, overrides)
    _group_pins(out, [n for n in up.new_tree.symbols if n in up.pinned], f"{profile.busybox} -> {to_release}")
    return out, _report(profile, to_release, up)


def _group_pins(profile: Profile, names: list[str], move: str) -> None:
    """Put the pinned entries together at the end of [config], under one comment saying why.

    tomlkit's ``add`` appends after the table's trailing blank line, so the
    group reads as its own paragraph; a blank line closes it.
    """
    table = profile.doc.get("config")
    present = [n for n in names if isinstance(table, Table) and n in table]
    if not present or not isinstance(table, Table):
        return
    values = {n: table[n] for n in present}
    for n in present:
        del table[n]
    table.add(tomlkit.comment(f"pinned off by busyconf upgrade {move}: new, and on by default"))
    for n in present:
        table.add(n, values[n])
    table.add(tomlkit.nl())
    profile.config = {str(k): v for k, v in profile.config.items()}
    profile._lines = None


__all__ = [
    "DriftReport",
    "SymbolDrift",
    "check_target",
    "drift_report",
    "match_renames",
    "new_in_release",
    "previous_release",
    "upgrade_profile",
]
