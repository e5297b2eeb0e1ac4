"""Edits of a profile's TOML table that keep its comments and layout (tomlkit items)."""

from __future__ import annotations

import tomlkit
from tomlkit.items import Comment, Item, Key, Null, Table, Whitespace

from busyconf.model.config import TomlValue


def plain_value(value: object) -> object:
    """A tomlkit item as the plain Python value it holds (other values as they are)."""
    unwrap = getattr(value, "unwrap", None)
    return unwrap() if callable(unwrap) else value


def separating_blanks(body: list[tuple[Key | None, Item]]) -> set[int]:
    """ids of blank lines followed by another blank line or the table's end.

    A blank line that becomes one when keys are removed was their block's
    separator and goes with them.
    """
    items = [item for _key, item in body if not isinstance(item, Null)]
    if not items:
        return set()
    return {
        id(item)
        for item, following in zip(items, [*items[1:], None], strict=True)
        if isinstance(item, Whitespace) and (following is None or isinstance(following, Whitespace))
    }


def add_after_last_key(table: Table, new: list[tuple[str, TomlValue]]) -> bool:
    """Write ``new`` keys right after the table's last key; False when it has none.

    tomlkit appends at the very end of the table: under whatever comment the
    last key's block opens with ("# A longer shell history helps..."), and
    after any comment trailing the table (often about the next one). New
    keys go after the last key instead, and when that key's block opens with
    a comment, a blank line starts a block of their own. The caller parses
    the document again.
    """
    body = table.value.body
    keyed = [i for i, (key, _item) in enumerate(body) if key is not None]
    if not keyed:
        return False
    last = keyed[-1]
    commented = False
    for _key, item in reversed(body[:last]):
        if isinstance(item, Whitespace):
            break
        if isinstance(item, Comment):
            commented = True
            break
    lines = "".join(f"{name} = {tomlkit.item(value).as_string()}\n" for name, value in new)
    # The new lines ride on the last key's line ending; parsed again, they are real keys.
    trivia = body[last][1].trivia
    ending = trivia.trail if trivia.trail.endswith("\n") else trivia.trail + "\n"
    trivia.trail = ending + ("\n" if commented else "") + lines
    return True
