"""Search ranked by what a person means: ``ls`` finds the ls applet first.

Tiers, best first: an applet named exactly the query; a symbol or prompt
named exactly it; names and applets starting with it; prompts starting with
it; the options of the applet the query names (``ls`` finds ls's own
options); names with the query as a whole word (``FEATURE_LS_COLOR``) or a
prompt word starting with it; names or prompts containing it; help texts
containing it. Ties go to shorter names, then to Kconfig order. Several words
must all match.

A query holding any of ``. * + ? [ ] ( ) { } | ^ $ \\`` is a regular
expression (case-insensitive, found anywhere): ``ls.*color`` finds
FEATURE_LS_COLOR. A query that is not a valid one raises :class:`BadQuery`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from kconfiglib import MENU, MenuNode, Symbol

from busyconf.model.kconfig import KconfigTree

#: Characters that make a query a regular expression; none occurs in a symbol, applet or prompt search.
REGEX_CHARS = frozenset(".*+?[](){}|^$\\")


class BadQuery(ValueError):
    """A query that is not a valid regular expression; the message is one line."""


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
    #: Lower-cased names and applets of the symbols this one sits under (ls's options sit under LS).
    owners: frozenset[str]


def _owners(tree: KconfigTree, node: MenuNode) -> frozenset[str]:
    out: set[str] = set()
    parent = node.parent
    while parent is not None and parent is not tree.kconf.top_node:
        owner = parent.item
        if isinstance(owner, Symbol):
            out.add(owner.name.lower())
            if owner.name in tree.symbols:
                out.update(a.lower() for a in tree.info(owner.name).applets)
        parent = parent.parent
    return frozenset(out)


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
                    _owners(tree, node),
                )
            )
        elif item == MENU and node.prompt:
            path = []
            parent = node.parent
            while parent is not None and parent is not tree.kconf.top_node:
                if parent.prompt:
                    path.append(parent.prompt[0])
                parent = parent.parent
            out.append(
                _Item(node, None, node.prompt[0], (), "", " > ".join(reversed(path)), order, frozenset())
            )
    return tuple(out)


_WORD = re.compile(r"[a-z0-9]+")


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
        if q in item.owners:
            return 4
    name_words = name.split("_")
    prompt_words = _WORD.findall(prompt)
    if all(w in name_words or any(p.startswith(w) for p in prompt_words) for w in words):
        return 5
    haystack = " ".join([name, prompt, *applets])
    if all(w in haystack for w in words):
        return 6
    if all(w in haystack or w in item.help for w in words):
        return 7
    return None


def is_regex(query: str) -> bool:
    """Whether ``query`` is taken as a regular expression."""
    return any(ch in REGEX_CHARS for ch in query)


def compile_query(query: str) -> re.Pattern[str]:
    """``query`` as a case-insensitive regular expression; :class:`BadQuery` when it is not one."""
    try:
        return re.compile(query.strip(), re.IGNORECASE)
    except re.error as e:
        where = f" at position {e.pos}" if e.pos is not None else ""
        raise BadQuery(f"not a valid regular expression: {e.msg}{where}") from None


def _regex_tier(item: _Item, pattern: re.Pattern[str]) -> int | None:
    name = item.name or ""
    if any(pattern.fullmatch(s) for s in (name, item.prompt, *item.applets) if s):
        return 1
    if any(pattern.match(s) for s in (name, *item.applets) if s):
        return 2
    if item.prompt and pattern.match(item.prompt):
        return 3
    if any(pattern.search(s) for s in (name, item.prompt, *item.applets) if s):
        return 6
    if item.help and pattern.search(item.help):
        return 7
    return None


def search(tree: KconfigTree, query: str, limit: int = 200) -> list[Hit]:
    """The symbols and menus matching ``query``, best first (:class:`BadQuery` for a bad regex)."""
    if not query.strip():
        return []
    scored = []
    if is_regex(query):
        pattern = compile_query(query)
        for item in _items(tree):
            tier = _regex_tier(item, pattern)
            if tier is not None:
                scored.append((tier, len(item.name or item.prompt), item.order, item))
    else:
        words = query.lower().split()
        for item in _items(tree):
            tier = _tier(item, words)
            if tier is not None:
                scored.append((tier, len(item.name or item.prompt), item.order, item))
    scored.sort(key=lambda t: t[:3])
    return [
        Hit(item.node, item.name, item.prompt, item.applets, item.menu_path, tier)
        for tier, _n, _o, item in scored[:limit]
    ]
