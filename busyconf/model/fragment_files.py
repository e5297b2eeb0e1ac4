"""Kconfig fragment files: reading them, and naming them in a profile.

A fragment holds ``CONFIG_X=value`` and ``# CONFIG_X is not set`` lines and
comments (the ``.cfg`` files Yocto, Buildroot and the kernel's
``merge_config.sh`` use). :mod:`busyconf.model.fragments` merges and checks
them against a profile; this module only reads and lists them, so the
profile module can use it without importing that one.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import kconfiglib
import tomlkit
from tomlkit.items import Table

from busyconf.build.gate import check_string
from busyconf.errors import (
    ConfigSyntaxError,
    ProfileError,
    UnknownSymbolError,
    UserError,
    read_user_file,
)
from busyconf.model.dotconfig import check_value, escape_string, unescape_string
from busyconf.model.kconfig import KconfigTree


class FragmentHolder(Protocol):
    """What reading and listing fragments needs of a profile (:class:`~busyconf.model.profile.Profile`)."""

    path: Path | None
    fragments: tuple[str, ...]
    doc: tomlkit.TOMLDocument

    @property
    def where(self) -> str: ...


#: Real fragments are a few hundred bytes; a larger file is refused unread.
MAX_FRAGMENT_BYTES = 1024 * 1024
#: More fragments than this in one profile is a mistake, not a configuration.
MAX_FRAGMENTS = 64

_SET = re.compile(r"^CONFIG_([A-Za-z0-9_]+)=(.*)$")
_UNSET = re.compile(r"^# CONFIG_([A-Za-z0-9_]+) is not set\s*$")


@dataclass(frozen=True)
class Request:
    """One requested value: a fragment's line or a profile's ``[config]`` key."""

    name: str
    value: str  # kconfiglib form: y/n, a number, the unquoted string
    where: str  # "configs/fragments/a.cfg:3" or "configs/x.toml:12"
    source: str  # "fragment" | "profile"

    def line(self, tree: KconfigTree) -> str:
        """The request as a .config line (``CONFIG_X=n`` for off, as merge_config.sh prints it)."""
        return f"CONFIG_{self.name}={spelled(tree, self.name, self.value)}"


@dataclass(frozen=True)
class Redefinition:
    """A later request that replaced an earlier one with another value."""

    old: Request
    new: Request
    text: str

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True)
class NotApplied:
    """A request whose value is not the final one, with the reason."""

    request: Request
    final: str
    reason: str
    text: str

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True)
class FragmentReport:
    """What merging a profile's fragments and ``[config]`` found."""

    redefined: tuple[Redefinition, ...]
    not_applied: tuple[NotApplied, ...]

    def to_json(self) -> dict[str, list[dict[str, str]]]:
        return {
            "redefined": [
                {"old": r.old.where, "new": r.new.where, "message": r.text} for r in self.redefined
            ],
            "not_applied": [
                {"where": n.request.where, "symbol": n.request.name, "reason": n.reason, "message": n.text}
                for n in self.not_applied
            ],
        }


# -- reading ----------------------------------------------------------------------------


def parse_fragment(text: str, filename: str, tree: KconfigTree) -> list[Request]:
    """Every assignment of a fragment, in file order, checked line by line.

    Strict like :func:`~busyconf.model.dotconfig.parse_dotconfig` (a line that is
    not an assignment or a comment, an unknown symbol, a bad value: ``file:line``
    and exit 2; a string passes the build gate), but every line is kept with its
    place, so a redefinition can name both. Ranges are checked on the merged
    result (they depend on other symbols).
    """
    out: list[Request] = []
    for lineno, line in enumerate(text.splitlines(), 1):
        where = f"{filename}:{lineno}"
        stripped = line.strip()
        if not stripped:
            continue
        unset = _UNSET.match(stripped)
        if unset:
            name, raw = unset.group(1), None
        elif stripped.startswith("#"):
            continue
        else:
            m = _SET.match(stripped)
            if not m:
                # Never quote the line: the file may be anything.
                raise ConfigSyntaxError(f"{where}: malformed line (not CONFIG_NAME=value or a # comment)")
            name, raw = m.group(1), m.group(2).strip()
        if not tree.has(name):
            raise UnknownSymbolError(f"{where}: unknown symbol CONFIG_{name} (not in BusyBox {tree.release})")
        kind = tree.symbols[name].orig_type
        if raw is None:
            if kind in (kconfiglib.INT, kconfiglib.HEX):
                continue  # conf ignores "is not set" for a number; so do we
            value = "" if kind == kconfiglib.STRING else "n"
        elif kind == kconfiglib.STRING:
            value = check_string(name, unescape_string(raw, where), where)
        else:
            value = check_value(tree, name, raw, where)
        out.append(Request(name, value, where, "fragment"))
    return out


def read_fragment(path: Path, tree: KconfigTree, error: type[UserError] = UserError) -> list[Request]:
    """A fragment file's requests (a FIFO, a device or a file over 1 MiB refused unread)."""
    text = read_user_file(path, "no such fragment", error, MAX_FRAGMENT_BYTES, "a fragment")
    return parse_fragment(text, str(path), tree)


def fragment_file(name: str, folder: Path, root: Path, where: str) -> Path:
    """The file a profile's fragment entry names, refused unless it is inside ``root``.

    The check is on the resolved path (``..`` and symlinks followed), before a
    byte is read, and the message never quotes the file.
    """
    if not name.strip() or "\x00" in name:
        raise ProfileError(f"{where}: an empty fragment name in fragments")
    path = folder / name
    if not _inside(path.resolve(), root):
        raise ProfileError(
            f"{where}: fragment {name!r} is outside {root}; a profile may only name files in its own folder"
        )
    return path


def profile_fragments(tree: KconfigTree, profile: FragmentHolder, root: Path | None = None) -> list[Request]:
    """The requests of the profile's fragments, in order."""
    if not profile.fragments:
        return []
    folder = profile.path.parent if profile.path else Path.cwd()
    root = root or folder.resolve()
    out: list[Request] = []
    for name in profile.fragments:
        out += read_fragment(fragment_file(name, folder, root, profile.where), tree, ProfileError)
    return out


def parse_fragment_list(value: object, where: str) -> tuple[str, ...]:
    """``[profile] fragments`` as a tuple of names: a list of distinct, non-empty strings."""
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ProfileError(f'{where}: fragments must be a list of file names (["fragments/a.cfg", ...])')
    names = tuple(str(v) for v in value)
    if len(names) > MAX_FRAGMENTS:
        raise ProfileError(f"{where}: more than {MAX_FRAGMENTS} fragments")
    for i, name in enumerate(names):
        if not name.strip():
            raise ProfileError(f"{where}: an empty fragment name in fragments")
        if name in names[:i]:
            raise ProfileError(f"{where}: fragment {name!r} is listed twice")
    return names


def set_fragments(profile: FragmentHolder, names: Sequence[str]) -> None:
    """Write ``fragments`` into the profile's [profile] table (removed when empty)."""
    head = profile.doc.get("profile")
    if not isinstance(head, Table):
        head = tomlkit.table()
        profile.doc["profile"] = head
    if names:
        head["fragments"] = list(names)
    elif "fragments" in head:
        del head["fragments"]
    profile.fragments = tuple(names)


def fragment_name_for(path: Path, output: Path) -> str:
    """``path`` as a profile written at ``output`` names it; refused unless inside that folder's tree."""
    out_folder = output.absolute().parent.resolve()
    real = path.resolve()
    if not _inside(real, out_folder):
        raise UserError(
            f"fragment {path} is outside {out_folder}, so {output} could not read it; "
            "copy it next to the new profile"
        )
    return real.relative_to(out_folder).as_posix()


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


# -- merging and checking -------------------------------------------------------------


def spelled(tree: KconfigTree, name: str, value: str) -> str:
    """A value as a .config line spells it after ``CONFIG_X=``."""
    if tree.type_of(name) == "string":
        return escape_string(value)
    return value
