"""The two references and which symbols are measured around them (no build)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import Path

import kconfiglib

from busyconf.build import broken
from busyconf.build.kbuild import FORCED
from busyconf.model.config import resolve
from busyconf.model.kconfig import Applet, KconfigTree
from busyconf.model.profile import allnoconfig_assignments
from busyconf.size.kbuild_facts import FLAG_SYMBOLS


def reference_assignments(tree: KconfigTree, arch: str, toolchain_kind: str = "zig") -> list[tuple[str, str]]:
    """defconfig with every applet symbol on and the known-broken options off."""
    return every_applet_on(tree, [], arch, toolchain_kind)


def minimal_assignments(tree: KconfigTree, arch: str, toolchain_kind: str = "zig") -> list[tuple[str, str]]:
    """allnoconfig with every applet symbol on, the forced values set and the known-broken options off."""
    return every_applet_on(tree, allnoconfig_assignments(tree), arch, toolchain_kind)


def applet_symbol(applet: Applet) -> str:
    """The applet's own symbol, which calibration turns on and relinks it by.

    ``requires[0]``, as everywhere in busyconf (:class:`Applet`): lsmod from
    modprobe-small is ``IF_LSMOD(IF_MODPROBE_SMALL(...))``, and its own
    symbol is LSMOD, not MODPROBE_SMALL (the last one, which calibration used
    to take: the five module applets then shared MODPROBE_SMALL's relink,
    and allnoconfig + every applet had MODPROBE_SMALL on and them off).
    """
    return applet.requires[0]


def every_applet_on(
    tree: KconfigTree,
    start: list[tuple[str, str]],
    arch: str,
    toolchain_kind: str,
    only: Iterable[str] | None = None,
) -> list[tuple[str, str]]:
    """``start``, every applet symbol (or those of ``only``), the forced values; known-broken options off."""
    out = list(start)
    every = sorted({applet_symbol(a) for a in tree.applets}) if only is None else list(only)
    out += [(n, "y") for n in every if tree.has(n)]
    out += [(k, v) for k, v in FORCED.items() if tree.has(k) and tree.type_of(k) == "bool"]
    for _ in range(3):
        config = resolve(tree, out)
        problems = broken.check(config.values, release=tree.release, toolchain=toolchain_kind, arch=arch)
        if not problems:
            break
        out += [(p.symbol, p.safe) for p in problems]
    return out


def referenced_symbols(obj: Path, tree: KconfigTree) -> set[str]:
    """Symbols some object, host program or Kbuild file of the tree depends on."""
    by_path = {"include/config/" + n.lower().replace("_", "/") + ".h": n for n in tree.symbols}
    out: set[str] = set()
    for cmd in obj.rglob(".*.cmd"):
        for line in cmd.read_text(errors="replace").splitlines():
            s = line.strip()
            if s.startswith("$(wildcard include/config/"):
                name = by_path.get(s[len("$(wildcard ") :].split(")")[0])
                if name:
                    out.add(name)
    for kb in obj.rglob("Kbuild"):
        for word in kb.read_text(errors="replace").replace("(", " ").replace(")", " ").split():
            if word.startswith("CONFIG_") and word[7:] in tree.symbols:
                out.add(word[7:])
    return out | {s for s in FLAG_SYMBOLS if s in tree.symbols}


_MENTION = re.compile(r"\b(?:ENABLE|IF_NOT|IF|CONFIG)_([A-Z0-9_]+)")
#: Headers every object includes: a symbol they mention is not a direct use.
_GLOBAL_HEADERS = ("/include/libbb.h", "/include/platform.h")


def dependents(
    obj: Path, tree: KconfigTree, targets: Iterable[str]
) -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """(symbol -> targets whose .cmd depends on it, symbol -> targets whose own sources mention it).

    "Own sources" are the C file and the headers it includes other than
    ``libbb.h`` and ``platform.h``.
    """
    by_path = {"include/config/" + n.lower().replace("_", "/") + ".h": n for n in tree.symbols}
    deps: dict[str, set[str]] = {}
    direct: dict[str, set[str]] = {}
    texts: dict[str, set[str]] = {}
    for t in targets:
        p = Path(t)
        cmd = obj / p.parent / f".{p.name}.cmd"
        if not cmd.is_file():
            continue
        for line in cmd.read_text(errors="replace").splitlines():
            s = line.strip().rstrip("\\").strip()
            if s.startswith("$(wildcard include/config/"):
                name = by_path.get(s[len("$(wildcard ") :].split(")")[0])
                if name:
                    deps.setdefault(name, set()).add(t)
            elif s.startswith("/") and s.endswith((".c", ".h")) and not s.endswith(_GLOBAL_HEADERS):
                if s not in texts:
                    try:
                        texts[s] = set(_MENTION.findall(Path(s).read_text(errors="replace")))
                    except OSError:
                        texts[s] = set()
                for name in texts[s]:
                    direct.setdefault(name, set()).add(t)
    return deps, direct


#: Symbols that change every compile command and the size (each costs a full build to measure).
#: The others of FLAG_SYMBOLS are forced, broken, dropped by zig or do not build.
MEASURED_FLAGS = frozenset({"LFS", "TIME64", "DEBUG", "DEBUG_PESSIMIZE", "FEATURE_NSLOOKUP_BIG"})


def toggle_candidates(tree: KconfigTree, referenced: set[str]) -> list[str]:
    """Bool symbols worth toggling from the reference: user-visible, referenced, not forced."""
    out = []
    for name, sym in tree.symbols.items():
        if sym.orig_type != kconfiglib.BOOL or name in FORCED or name not in referenced:
            continue
        if name in FLAG_SYMBOLS and name not in MEASURED_FLAGS:
            continue
        if sym.choice is not None or not any(n.prompt for n in sym.nodes):
            continue
        out.append(name)
    return out


def selected_candidates(
    tree: KconfigTree, assignments: list[tuple[str, str]], ref_values: Mapping[str, str], referenced: set[str]
) -> list[str]:
    """Bool symbols on in the reference that options ``select``, so no assignment turns off.

    FEATURE_SYSLOG is one: selected by logger, syslogd and more, it compiles
    syslog support (and with it musl's syslog, strftime and time zones) into
    every error message of libbb; LONG_OPTS another. Toggles of the options
    that select them cannot see them: they are measured forced off.
    """
    out = []
    for name, sym in tree.symbols.items():
        if sym.orig_type != kconfiglib.BOOL or name in FORCED or name in FLAG_SYMBOLS:
            continue
        if sym.choice is not None or name == "HAVE_DOT_CONFIG" or tree.is_applet(name):
            continue
        if ref_values.get(name) != "y" or name not in referenced:
            continue
        if resolve(tree, [*assignments, (name, "n")]).values.get(name) == "y":
            out.append(name)
    return out


def prerequisites(
    tree: KconfigTree, assignments: list[tuple[str, str]], name: str, arch: str
) -> tuple[str, ...]:
    """Options to switch on with ``name`` when it cannot be on by itself from ``assignments``.

    FEATURE_SUN_LABEL needs FEATURE_FDISK_WRITABLE, UDHCPC6 needs FEATURE_IPV6:
    around allnoconfig such an option would never be measured. The toggle then
    switches the options it depends on along with it, and the model charges
    it only for itself (what they cost alone is measured by their own toggles).
    Empty when ``name`` can be on alone, or no chain of options makes it so
    without a full rebuild (DEBUG, LFS) or a known-broken option (SELINUX).
    """
    needs: list[str] = []
    for _ in range(8):
        with tree.applied([*assignments, *((n, "y") for n in needs), (name, "y")]):
            sym = tree.symbols[name]
            if sym.str_value == "y":
                values = tree.values()
                break
            step = _unmet(sym, set(needs))
        if step is None:
            return ()
        needs.append(step)
    else:
        return ()
    if not needs or broken.check(values, release=tree.release, arch=arch):
        return ()
    return tuple(needs)


def _unmet(sym: kconfiglib.Symbol, taken: set[str], depth: int = 0) -> str | None:
    """The first option, down ``sym``'s dependencies, that can be switched on now and is off."""
    if depth > 8:
        return None
    items = sorted(
        (i for i in kconfiglib.expr_items(sym.direct_dep) if isinstance(i, kconfiglib.Symbol)),
        key=lambda i: i.name,
    )
    for item in items:
        if item.orig_type != kconfiglib.BOOL or item.choice is not None or item.name in taken:
            continue
        if item.name in FLAG_SYMBOLS or item.name in FORCED:
            continue
        if item.str_value == "y" or not any(n.prompt for n in item.nodes):
            continue
        if item.visibility:
            return str(item.name)
        deeper = _unmet(item, taken, depth + 1)
        if deeper is not None:
            return deeper
    return None
