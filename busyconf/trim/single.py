"""Single-applet binaries: allnoconfig plus what the named applets need and run.

::

    plan = plan_single(tree, ["nslookup"])
    plan.config.applets        # ("nslookup",)
    plan.reasons               # {"FEATURE_NSLOOKUP_BIG": "nslookup: ...", ...}

For a ``COPY --from`` into a scratch image (a HEALTHCHECK's nslookup or
wget). Every feature stays as allnoconfig leaves it (off), except the
dependencies an applet's own symbol needs to be enabled and the few
sub-options without which an applet cannot do its job on a static musl
binary (:data:`MUSL_NEEDS`, each citing the source). Applets that a named
applet runs (:func:`busyconf.trim.behind.closure`) join it. allnoconfig
itself picks ash as ``sh`` (``SH_IS_ASH`` is the choice's default), so the
shell is switched off unless it was asked for or is run by one that was.
"""

from __future__ import annotations

import difflib
import importlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from busyconf.build.defaults import DEFAULT_ARCH, DEFAULT_TOOLCHAIN
from busyconf.errors import UserError
from busyconf.model.config import Configuration, configuration, explain, missing_dependencies, resolve
from busyconf.model.kconfig import KconfigTree, load_tree
from busyconf.model.prepare import PreparedBuild, check_targets, prepare_config
from busyconf.model.profile import allnoconfig_assignments
from busyconf.source import DEFAULT_RELEASE
from busyconf.source.releases import check_version

#: Sub-options an applet cannot work without in a static musl build (symbol, why).
MUSL_NEEDS: dict[str, tuple[tuple[str, str], ...]] = {
    "nslookup": (
        (
            "FEATURE_NSLOOKUP_BIG",
            "without it nslookup hands the DNS_SERVER argument to glibc's _res "
            "(networking/nslookup.c set_default_dns), which musl's resolver ignores: "
            "the server given would never be asked",
        ),
    ),
}

#: ``closure(tree, applets, values)`` -> added applet -> why (busyconf.trim.behind's signature).
Closure = Callable[[KconfigTree, Sequence[str], Mapping[str, str]], dict[str, str]]


@dataclass(frozen=True)
class SinglePlan:
    """The configuration of a single-applet build and why each addition is in it."""

    config: Configuration
    assignments: tuple[tuple[str, str], ...]
    requested: tuple[str, ...]
    #: applet -> why it was added ("run-parts: run by ifup")
    added: dict[str, str]
    #: symbol -> why it is on beyond the applets' own symbols
    reasons: dict[str, str]

    def name(self) -> str:
        """``nslookup`` or ``nslookup+wget``: the default output folder's stem."""
        return "+".join(self.requested)


def behind_closure() -> Closure | None:
    """``busyconf.trim.behind.closure`` when that module is present, else None."""
    try:
        mod = importlib.import_module("busyconf.trim.behind")
    except ImportError:
        return None
    fn = getattr(mod, "closure", None)
    return fn if callable(fn) else None


def check_applets(tree: KconfigTree, names: Sequence[str]) -> list[str]:
    """The names, each a real applet of the release, in order, once (UserError otherwise)."""
    known = {a.name for a in tree.applets}
    out: list[str] = []
    for name in names:
        if name not in known:
            close = difflib.get_close_matches(name, sorted(known), n=1)
            hint = f"; did you mean {close[0]}?" if close else ""
            raise UserError(f"--applet {name!r}: not an applet of BusyBox {tree.release}{hint}")
        if name not in out:
            out.append(name)
    return out


def _applet_symbols(tree: KconfigTree, name: str) -> tuple[str, ...]:
    """The symbols that build ``name``: the first way whose symbols can all be shown.

    Call inside :meth:`KconfigTree.applied` with allnoconfig's values.
    """
    ways = [a.requires + a.any_of[:1] for a in tree.applets if a.name == name]
    for way in ways:
        if all(tree.symbols[s].visibility for s in way if s in tree.symbols):
            return way
    return ways[0]


def plan_single(tree: KconfigTree, applets: Sequence[str], closure: Closure | None = None) -> SinglePlan:
    """allnoconfig with exactly ``applets`` (and what they run) switched on.

    ``closure`` defaults to :func:`behind_closure`'s; it is given the
    configuration's values, so an applet run only under a feature that stays
    off is not added. Raises UserError for an unknown applet or one that
    cannot be enabled from allnoconfig.
    """
    requested = check_applets(tree, applets)
    closure = closure if closure is not None else behind_closure()
    added: dict[str, str] = {}
    config, assignments, reasons = _configure(tree, requested)
    # The applets added can switch on what gates another edge: settle in a few rounds.
    for _ in range(8):
        if closure is None:
            break
        found = {k: v for k, v in closure(tree, requested, config.values).items() if k not in requested}
        if found == added:
            break
        added = found
        config, assignments, reasons = _configure(tree, requested + sorted(added))
    return SinglePlan(config, tuple(assignments), tuple(requested), added, reasons)


def prepare_single(
    applets: Sequence[str],
    *,
    arch: str | None = None,
    toolchain: str | None = None,
    release: str | None = None,
) -> tuple[PreparedBuild, SinglePlan]:
    """``build --applet``: :func:`plan_single` on ``release``'s allnoconfig, ready to build.

    There is no profile to fix, so the values allnoconfig gets wrong for the
    target (known not to build) are always set right: the build's ``dropped``
    says which.
    """
    arch = arch if arch is not None else DEFAULT_ARCH
    toolchain = toolchain if toolchain is not None else DEFAULT_TOOLCHAIN
    check_targets(arch, toolchain)
    release = release if release is not None else DEFAULT_RELEASE
    check_version(release)
    tree = load_tree(release)
    plan = plan_single(tree, applets)
    prepared = prepare_config(
        tree,
        plan.assignments,
        config=plan.config,
        arch=arch,
        toolchain=toolchain,
        drop_broken=True,
        name=plan.name(),
    )
    return prepared, plan


def _configure(
    tree: KconfigTree, wanted: Sequence[str]
) -> tuple[Configuration, list[tuple[str, str]], dict[str, str]]:
    """allnoconfig, other applets off, ``wanted`` on with their dependencies and :data:`MUSL_NEEDS`."""
    base = allnoconfig_assignments(tree)
    reasons: dict[str, str] = {}
    want: list[tuple[str, str]] = []
    own: set[str] = set()
    with tree.applied(base):
        ways = {name: _applet_symbols(tree, name) for name in wanted}
    for name in wanted:
        for sym in ways[name]:
            own.add(sym)
            want.append((sym, "y"))
        for sym, why in MUSL_NEEDS.get(name, ()):
            if tree.has(sym):
                reasons[sym] = f"{name}: {why}"
                want.append((sym, "y"))
    off = _applets_off(tree, base, own)
    # Dependencies of a dependency show up only once the first is on: a few rounds settle it.
    for _ in range(8):
        extra: list[tuple[str, str]] = []
        with tree.applied([*base, *off, *want]):
            config = configuration(tree)
            for sym, _value in want:
                if config.values.get(sym) == "y":
                    continue
                for dep in missing_dependencies(tree, sym) or []:
                    if (dep, "y") not in want and (dep, "y") not in extra:
                        reasons.setdefault(dep, f"needed by {sym}")
                        extra.append((dep, "y"))
        if not extra:
            break
        want = extra + want
    assignments = [*base, *off, *want]
    config = resolve(tree, assignments)
    missing = [n for n in wanted if n not in config.applets]
    if missing:
        sym = ways[missing[0]][0]
        with tree.applied(assignments):
            why = explain(tree, sym, "y") or f"{sym} stays {config.values.get(sym)!r}"
        raise UserError(f"--applet {missing[0]}: cannot be enabled from allnoconfig: {why}")
    return config, assignments, reasons


def _applets_off(tree: KconfigTree, base: Sequence[tuple[str, str]], own: set[str]) -> list[tuple[str, str]]:
    """Switch off the applets allnoconfig itself turns on (ash as ``sh``) that are not wanted."""
    values = resolve(tree, base).values
    applet_syms = {a.requires[0] for a in tree.applets}
    out: list[tuple[str, str]] = []
    for sym in sorted(applet_syms - own):
        if values.get(sym) != "y":
            continue
        s = tree.symbols.get(sym)
        choice = s.choice if s is not None else None
        if choice is None:
            out.append((sym, "n"))
            continue
        # A choice member is left by picking a sibling that builds no applet (SH_IS_NONE).
        other = next((o.name for o in choice.syms if o.name not in applet_syms), None)
        out.append((other, "y") if other else (sym, "n"))
    return out
