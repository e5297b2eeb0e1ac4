"""What switching a symbol off takes with it: ``depends on`` read without resolving Kconfig.

Used where a whole resolve per question would be too slow (the size model's
quick figures, the budget planner's ranking): the answers follow ``depends
on`` only, so a caller that needs Kconfig's full result resolves afterwards.
"""

from __future__ import annotations

from collections.abc import Mapping

import kconfiglib

from busyconf.model.kconfig import KconfigTree


def dependants(tree: KconfigTree) -> dict[str, tuple[str, ...]]:
    """Symbols whose ``depends on`` mentions each symbol."""
    out: dict[str, list[str]] = {}
    for name, sym in tree.symbols.items():
        for item in kconfiglib.expr_items(sym.direct_dep):
            if isinstance(item, kconfiglib.Symbol) and not item.is_constant and item.name != name:
                out.setdefault(item.name, []).append(name)
    return {k: tuple(v) for k, v in out.items()}


def holds(expr: object, values: Mapping[str, str], off: set[str]) -> bool:
    """Whether a ``depends on`` expression is true for ``values`` with the symbols in ``off`` off."""
    if isinstance(expr, tuple):
        op = expr[0]
        if op == kconfiglib.AND:
            return holds(expr[1], values, off) and holds(expr[2], values, off)
        if op == kconfiglib.OR:
            return holds(expr[1], values, off) or holds(expr[2], values, off)
        if op == kconfiglib.NOT:
            return not holds(expr[1], values, off)
        a, b = (_value(x, values, off) for x in expr[1:3])
        return (a == b) if op == kconfiglib.EQUAL else (a != b) if op == kconfiglib.UNEQUAL else True
    return _value(expr, values, off) == "y"


def switched_off(
    tree: KconfigTree, children: Mapping[str, tuple[str, ...]], values: Mapping[str, str], name: str
) -> set[str]:
    """``name`` and the enabled symbols whose ``depends on`` fails once it is off."""
    off = {name}
    stack = [name]
    while stack:
        for child in children.get(stack.pop(), ()):
            if (
                child not in off
                and values.get(child) == "y"
                and not holds(tree.symbols[child].direct_dep, values, off)
            ):
                off.add(child)
                stack.append(child)
    return off


def _value(item: object, values: Mapping[str, str], off: set[str]) -> str:
    if isinstance(item, kconfiglib.Symbol):
        if item.is_constant:
            return str(item.name)
        return "n" if item.name in off else values.get(item.name, "n")
    return "y"
