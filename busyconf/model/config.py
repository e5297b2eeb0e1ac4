"""Resolved configurations, value conversion, and reasons in words.

A *configuration* is the value of every symbol of a release. It comes from a
list of assignments (the user's intent) applied to a :class:`KconfigTree`;
kconfiglib does the dependency resolution.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

import kconfiglib

from busyconf.build.gate import check_string
from busyconf.errors import ValueRangeError
from busyconf.model.dotconfig import check_ranges, check_value, subject
from busyconf.model.kconfig import KconfigTree

#: A value as TOML holds it.
TomlValue = bool | int | str

Assignments = Sequence[tuple[str, str]]


@dataclass(frozen=True)
class Configuration:
    """Every symbol's value for one release, plus the applets it builds."""

    release: str
    values: Mapping[str, str]
    applets: tuple[str, ...]

    def __getitem__(self, name: str) -> str:
        return self.values[name]

    def enabled(self, name: str) -> bool:
        return self.values.get(name) == "y"

    def diff(self, other: Configuration) -> list[tuple[str, str | None, str | None]]:
        """Symbols whose values differ: (name, value here, value there)."""
        out = []
        for name in list(self.values) + [n for n in other.values if n not in self.values]:
            a, b = self.values.get(name), other.values.get(name)
            if a != b:
                out.append((name, a, b))
        return out


def resolve(tree: KconfigTree, assignments: Assignments) -> Configuration:
    """The full configuration ``assignments`` give (kconfiglib resolves the rest)."""
    with tree.applied(assignments):
        return configuration(tree)


def configuration(tree: KconfigTree) -> Configuration:
    """The configuration of the values applied now (call inside :meth:`KconfigTree.applied`)."""
    values = tree.values()
    return Configuration(tree.release, values, tuple(tree.enabled_applets(values)))


def to_kconfig(tree: KconfigTree, name: str, value: object, where: str) -> str:
    """A TOML or command-line value as kconfiglib's string for ``name``.

    A string goes through the build's gate (:mod:`busyconf.build.gate`), so a
    value BusyBox's build would run is refused before anything is saved.
    """
    kind = tree.type_of(name)
    if kind in ("bool", "tristate"):
        if isinstance(value, bool):
            return "y" if value else "n"
        if isinstance(value, str) and value.lower() in ("y", "n", "yes", "no", "true", "false", "on", "off"):
            return "y" if value.lower() in ("y", "yes", "true", "on") else "n"
        raise ValueRangeError(f"{subject(where, name)} is a bool; use true or false, not {value!r}")
    if kind == "string":
        if not isinstance(value, str):
            raise ValueRangeError(f'{subject(where, name)} is a string; quote it ("...")')
        # The command line's `where` is the name itself, which the gate's message already says.
        return check_string(name, value, None if where == name else where)
    if isinstance(value, bool):
        raise ValueRangeError(f"{subject(where, name)} is {kind}; {value!r} is not a number")
    text = str(value) if kind == "int" or isinstance(value, str) else hex(int(value))  # type: ignore[call-overload]
    return check_value(tree, name, text, where)


def to_toml(tree: KconfigTree, name: str, value: str) -> TomlValue:
    """kconfiglib's string for ``name`` as the TOML value a profile holds."""
    kind = tree.type_of(name)
    if kind in ("bool", "tristate"):
        return value == "y"
    if kind == "int" and value.lstrip("-").isdigit():
        return int(value)
    return value


def parse_assignment(tree: KconfigTree, text: str) -> tuple[str, str]:
    """``SYM=VALUE`` from the command line (``CONFIG_`` prefix optional)."""
    if "=" not in text:
        raise ValueRangeError(f"{text!r}: expected SYMBOL=VALUE")
    name, raw = text.split("=", 1)
    name = name.strip()
    if name.startswith("CONFIG_"):
        name = name[len("CONFIG_") :]
    tree.sym(name)
    value: object = raw
    if tree.type_of(name) == "string" and len(raw) >= 2 and raw[0] == raw[-1] == '"':
        value = raw[1:-1]
    return name, to_kconfig(tree, name, value, name)


# -- reasons in words ----------------------------------------------------------


def _state(sym: kconfiglib.Symbol) -> str:
    if sym.orig_type in (kconfiglib.BOOL, kconfiglib.TRISTATE):
        return "on" if sym.tri_value == 2 else "off"
    return f"{sym.str_value!r}"


def _failing(expr: object) -> Iterator[str]:
    """Phrases for the parts of a false dependency expression."""
    if isinstance(expr, kconfiglib.Symbol):
        if expr.is_constant:
            if expr.name == "n":
                yield "something that is never true"
            return
        if kconfiglib.expr_value(expr) == 0:
            yield f"{expr.name}, which is {_state(expr)}"
        return
    if isinstance(expr, kconfiglib.Choice):
        if expr.tri_value == 0:
            yield f"the choice {expr.name or 'above'} to be active"
        return
    if not isinstance(expr, tuple):
        return
    op = expr[0]
    if op is kconfiglib.AND:
        for sub in expr[1:]:
            if kconfiglib.expr_value(sub) == 0:
                yield from _failing(sub)
    elif op is kconfiglib.OR:
        names = " or ".join(kconfiglib.expr_str(s) for s in expr[1:])
        yield f"{names}, which are all off"
    elif op is kconfiglib.NOT:
        inner = expr[1]
        if isinstance(inner, kconfiglib.Symbol):
            yield f"{inner.name} to be off, but it is on"
        else:
            yield f"not ({kconfiglib.expr_str(inner)})"
    else:
        yield f"{kconfiglib.expr_str(expr)}"


def explain(tree: KconfigTree, name: str, wanted: str | None = None) -> str | None:
    """Why ``name`` cannot be changed (or set to ``wanted``), in words.

    Reads the tree's current values: call after :func:`resolve`. Returns None
    when nothing stands in the way.
    """
    sym = tree.sym(name)
    if wanted is not None and sym.str_value == wanted:
        return None
    if sym.orig_type in (kconfiglib.BOOL, kconfiglib.TRISTATE):
        if wanted == "n" and sym.rev_dep is not None and kconfiglib.expr_value(sym.rev_dep):
            items = kconfiglib.expr_items(sym.rev_dep)
            # expr_items is a set: report in Kconfig order so messages are stable.
            selectors = [n for n, s in tree.symbols.items() if s in items and s.tri_value == 2]
            verb = "is" if len(selectors) == 1 else "are"
            return f"{name} is selected by {', '.join(selectors)}, which {verb} on"
        if sym.choice is not None and wanted == "n" and sym.choice.selection is sym:
            others = [s.name for s in sym.choice.syms if s is not sym]
            return f"{name} is the selected choice; select another ({', '.join(others)}) instead"
    if sym.visibility == 0:
        if not kconfiglib.expr_value(sym.direct_dep):
            parts = list(_failing(sym.direct_dep))
            if parts:
                return f"{name} needs " + " and ".join(parts)
        if not any(n.prompt for n in sym.nodes):
            return f"{name} has no prompt: it is set by other options only"
        for node in sym.nodes:
            if node.prompt and not kconfiglib.expr_value(node.prompt[1]):
                parts = list(_failing(node.prompt[1]))
                if parts:
                    return f"{name} needs " + " and ".join(parts)
        return f"{name} cannot be changed here"
    if wanted is not None and sym.orig_type in (kconfiglib.INT, kconfiglib.HEX):
        try:
            check_ranges(tree, [(name, wanted)], lambda n: n)
        except ValueRangeError as e:
            return str(e).split(": ", 1)[1]
    return None


def missing_dependencies(tree: KconfigTree, name: str) -> list[str] | None:
    """Bool symbols that must be switched on for ``name`` to be settable.

    Returns None when the dependency is more than a conjunction of symbols
    (an ``||`` or a ``!``), where no single answer is right.
    """
    sym = tree.sym(name)
    needed: list[str] = []

    def walk(expr: object) -> bool:
        if isinstance(expr, kconfiglib.Symbol):
            if expr.is_constant:
                return bool(expr.name != "n")
            if expr.tri_value == 2:
                return True
            if expr.orig_type not in (kconfiglib.BOOL, kconfiglib.TRISTATE) or expr.choice is not None:
                return False
            if not walk(expr.direct_dep):
                return False
            if expr.name not in needed:
                needed.append(expr.name)
            return True
        if isinstance(expr, kconfiglib.Choice):
            return expr.tri_value == 2 or walk(expr.direct_dep)
        if isinstance(expr, tuple) and expr[0] is kconfiglib.AND:
            return walk(expr[1]) and walk(expr[2])
        return bool(kconfiglib.expr_value(expr))

    return needed if walk(sym.direct_dep) else None
