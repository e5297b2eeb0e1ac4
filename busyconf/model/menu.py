"""menuconfig's rules for what a menu shows and what can change, over kconfiglib.

These follow kconfiglib's ``menuconfig.py`` (``_visible``, ``_shown_nodes``,
``_changeable``, ``_value_str``) without its module globals. Call them inside
:meth:`KconfigTree.applied` with the values to show (the editor's
``Session.kconfig()`` applies its own).
"""

from __future__ import annotations

from dataclasses import dataclass

import kconfiglib
from kconfiglib import COMMENT, MENU, Choice, MenuNode, Symbol

from busyconf.model.kconfig import KconfigTree

_TEXT_TYPES = (kconfiglib.STRING, kconfiglib.INT, kconfiglib.HEX)


@dataclass(frozen=True)
class Entry:
    """One row of a menu: the node, how deep it is indented, and its texts."""

    node: MenuNode
    depth: int
    value: str
    prompt: str
    name: str | None
    is_menu: bool
    visible: bool
    changeable: bool


def visible(node: MenuNode) -> bool:
    return bool(
        node.prompt
        and kconfiglib.expr_value(node.prompt[1])
        and not (node.item == MENU and not kconfiglib.expr_value(node.visibility))
    )


def shown_nodes(menu: MenuNode, show_all: bool) -> list[tuple[MenuNode, int]]:
    """The nodes a menu lists, with indentation depth (implicit submenus)."""

    def rec(node: MenuNode | None, depth: int) -> list[tuple[MenuNode, int]]:
        res: list[tuple[MenuNode, int]] = []
        while node is not None:
            if visible(node) or show_all:
                res.append((node, depth))
                if node.list is not None and not node.is_menuconfig:
                    res += rec(node.list, depth + 1)
            elif node.list is not None and isinstance(node.item, Symbol):
                children = rec(node.list, depth + 1)
                if children:
                    res.append((node, depth))
                    if not node.is_menuconfig:
                        res += children
            node = node.next
        return res

    return rec(menu.list, 0)


def changeable(node: MenuNode) -> bool:
    sc = node.item
    if not isinstance(sc, (Symbol, Choice)):
        return False
    if not (node.prompt and kconfiglib.expr_value(node.prompt[1])):
        return False
    return sc.orig_type in _TEXT_TYPES or len(sc.assignable) > 1 or _y_mode_choice_sym(sc)


def _y_mode_choice_sym(item: object) -> bool:
    return isinstance(item, Symbol) and item.choice is not None and item.visibility == 2


def value_str(node: MenuNode) -> str:
    """``[*]``, ``( )``, ``(64)``, ``-*-``... as menuconfig shows the value."""
    item = node.item
    if item in (MENU, COMMENT) or not getattr(item, "orig_type", 0):
        return ""
    if item.orig_type in _TEXT_TYPES:
        return f"({item.str_value})"
    if _y_mode_choice_sym(item):
        return "(X)" if item.choice.selection is item else "( )"
    mark = (" ", "M", "*")[item.tri_value]
    if len(item.assignable) <= 1:
        return "" if isinstance(item, Choice) else f"-{mark}-"
    return f"[{mark}]"


def prompt_str(node: MenuNode) -> str:
    """The prompt, or the symbol's name when it has none."""
    if node.prompt:
        text = node.prompt[0]
        if isinstance(node.item, Choice) and node.item.selection is not None:
            sel = node.item.selection
            sel_prompt = next((n.prompt[0] for n in sel.nodes if n.prompt), sel.name)
            text = f"{text} ({sel_prompt})"
        return str(text)
    item = node.item
    return str(getattr(item, "name", "") or "")


def entries(menu: MenuNode, show_all: bool) -> list[Entry]:
    out = []
    for node, depth in shown_nodes(menu, show_all):
        item = node.item
        name = item.name if isinstance(item, Symbol) else None
        out.append(
            Entry(
                node=node,
                depth=depth,
                value=value_str(node),
                prompt=prompt_str(node),
                name=name,
                is_menu=bool(node.is_menuconfig),
                visible=visible(node),
                changeable=changeable(node),
            )
        )
    return out


def menu_of(node: MenuNode) -> MenuNode:
    """The menu (a menu, choice or menuconfig symbol node) that lists ``node``."""
    parent = node.parent
    while parent is not None and not parent.is_menuconfig and parent is not node.kconfig.top_node:
        parent = parent.parent
    return parent if parent is not None else node.kconfig.top_node


def menus(tree: KconfigTree) -> list[tuple[MenuNode, MenuNode]]:
    """Every (menu, parent menu) pair in tree order, for the menu tree."""
    top = tree.kconf.top_node
    return [(n, menu_of(n)) for n in tree.menu_nodes() if n.is_menuconfig and n is not top]


def node_for(tree: KconfigTree, name: str) -> MenuNode:
    """The node a jump to ``name`` lands on: the first with a prompt."""
    sym = tree.symbols[name]
    return next((n for n in sym.nodes if n.prompt), sym.nodes[0])
