"""Search ranked by what a person means: ``ls`` finds the ls applet first.

Tiers, best first: an applet or symbol named exactly the query; names and
applets starting with it; prompts starting with it; names or prompts
containing it; help texts containing it. Ties go to shorter names, then to
Kconfig order. Several words must all match.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from kconfiglib import MENU, MenuNode, Symbol

from busyconf.model.kconfig import KconfigTree


@dataclass(frozen=True)
class Hit:
    """A search result: a symbol (``name``) or a menu (``name`` is None)."""

    node: MenuNode
    name: str | None
    prompt: str
    applets: tuple[str, ...]
    menu_path: str
    tier: int


@dataclass(frozen=True)
class _Item:
    node: MenuNode
    name: str | None
    prompt: str
    applets: tuple[str, ...]
    help: str
    menu_path: str
    order: int


@lru_cache(maxsize=4)
def _items(tree: KconfigTree) -> tuple[_Item, ...]:
    out: list[_Item] = []
    seen: set[str] = set()
    for order, node in enumerate(tree.menu_nodes()):
        item = node.item
        if isinstance(item, Symbol):
            if item.name in seen or item.name not in tree.symbols:
                continue
            seen.add(item.name)
            info = tree.info(item.name)
            out.append(
                _Item(
                    node,
                    item.name,
                    info.prompt or "",
                    info.applets,
                    info.help.lower(),
                    " > ".join(info.menu_path),
                    order,
                )
            )
        elif item == MENU and node.prompt:
            path = []
            parent = node.parent
            while parent is not None and parent is not tree.kconf.top_node:
                if parent.prompt:
                    path.append(parent.prompt[0])
                parent = parent.parent
            out.append(_Item(node, None, node.prompt[0], (), "", " > ".join(reversed(path)), order))
    return tuple(out)


def _tier(item: _Item, words: list[str]) -> int | None:
    name = (item.name or "").lower()
    prompt = item.prompt.lower()
    applets = [a.lower() for a in item.applets]
    if len(words) == 1:
        q = words[0]
        if q in applets:
            return 0
        if q == name or q == prompt:
            return 1
        if name.startswith(q) or any(a.startswith(q) for a in applets):
            return 2
        if prompt.startswith(q):
            return 3
    haystack = " ".join([name, prompt, *applets])
    if all(w in haystack for w in words):
        return 4
    if all(w in haystack or w in item.help for w in words):
        return 5
    return None


def search(tree: KconfigTree, query: str, limit: int = 200) -> list[Hit]:
    """The symbols and menus matching ``query``, best first."""
    words = query.lower().split()
    if not words:
        return []
    scored = []
    for item in _items(tree):
        tier = _tier(item, words)
        if tier is not None:
            scored.append((tier, len(item.name or item.prompt), item.order, item))
    scored.sort(key=lambda t: t[:3])
    return [
        Hit(item.node, item.name, item.prompt, item.applets, item.menu_path, tier)
        for tier, _n, _o, item in scored[:limit]
    ]
