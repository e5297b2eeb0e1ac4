"""Kconfig fragments: the ``.cfg`` files Yocto, Buildroot and the kernel's ``merge_config.sh`` use.

A fragment holds ``CONFIG_X=value`` and ``# CONFIG_X is not set`` lines and
comments. A profile lists fragments in ``[profile] fragments = [...]``; they
apply in order after the base and before ``[config]``, with
``merge_config.sh``'s rules: a later line for a symbol replaces an earlier
one (and the redefinition is reported with both places), and a requested
value that does not make it into the final configuration is a warning that
says why.

BusyBox's own ``conf`` cannot merge fragments by concatenation: it keeps the
*first* assignment of a symbol and warns "trying to reassign symbol", so
busyconf merges them itself.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

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
from busyconf.model.config import Configuration, explain, resolve
from busyconf.model.dotconfig import check_value, escape_string, unescape_string
from busyconf.model.kconfig import KconfigTree

if TYPE_CHECKING:
    from busyconf.model.profile import Profile

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
        return f"CONFIG_{self.name}={_spelled(tree, self.name, self.value)}"


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


def profile_fragments(tree: KconfigTree, profile: Profile, root: Path | None = None) -> list[Request]:
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


def set_fragments(profile: Profile, names: Sequence[str]) -> None:
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


def requests_of(tree: KconfigTree, profile: Profile) -> list[Request]:
    """The fragments' requests, then the profile's own, in the order they apply."""
    from busyconf.model.profile import own_assignments

    own = [Request(n, v, profile.line_of(n), "profile") for n, v in own_assignments(tree, profile)]
    return profile_fragments(tree, profile) + own


def check_requests(
    tree: KconfigTree, base: Sequence[tuple[str, str]], requests: Sequence[Request]
) -> FragmentReport:
    """merge_config.sh's two checks on ``requests`` applied after ``base``.

    A request replaced by a later one with another value is a redefinition; the
    last request for each symbol must be the final value, or the reason it is
    not is reported (:func:`~busyconf.model.config.explain`).
    """
    redefined: list[Redefinition] = []
    last: dict[str, Request] = {}
    for req in requests:
        old = last.get(req.name)
        if old is not None and not _same(tree, req.name, old.value, req.value):
            text = f"{old.where} {old.line(tree)} redefined by {req.where} {req.line(tree)}"
            redefined.append(Redefinition(old, req, text))
        last[req.name] = req
    missed: list[NotApplied] = []
    with tree.lock:
        tree.apply([*base, *((r.name, r.value) for r in requests)])
        values = tree.values()
        for req in last.values():
            final = values[req.name]
            if _same(tree, req.name, req.value, final):
                continue
            reason = (
                explain(tree, req.name, req.value) or f"{req.name} stays {_spelled(tree, req.name, final)}"
            )
            text = (
                f"{req.where}: {req.line(tree)} did not apply "
                f"(final value {_spelled(tree, req.name, final)}): {reason}"
            )
            missed.append(NotApplied(req, final, reason, text))
    return FragmentReport(tuple(redefined), tuple(missed))


def check_profile(tree: KconfigTree, profile: Profile) -> FragmentReport:
    """The redefinitions and the values that did not apply in a profile's fragments and [config]."""
    from busyconf.model.profile import base_assignments

    base = base_assignments(tree, profile.base, profile.path, _stack(profile))
    return check_requests(tree, base, requests_of(tree, profile))


def origins(tree: KconfigTree, profile: Profile) -> dict[str, str]:
    """Where each symbol's final value comes from.

    The place of the last request for it when that request took effect
    (``fragments/a.cfg:3``, ``configs/x.toml:12``); ``base NAME`` when the value
    is the base's; ``dependencies`` when other values changed it.
    """
    from busyconf.model.profile import base_assignments

    base = base_assignments(tree, profile.base, profile.path, _stack(profile))
    requests = requests_of(tree, profile)
    base_values = resolve(tree, base).values
    final = resolve(tree, [*base, *((r.name, r.value) for r in requests)]).values
    last = {r.name: r for r in requests}
    out: dict[str, str] = {}
    for name, value in final.items():
        req = last.get(name)
        if req is not None and _same(tree, name, req.value, value):
            out[name] = req.where
        elif base_values.get(name) == value:
            out[name] = f"base {profile.base}"
        else:
            out[name] = "dependencies"
    return out


def diff_fragment(tree: KconfigTree, base: Configuration, final: Configuration, title: str) -> str:
    """``final``'s difference from ``base`` as a fragment, in Kconfig order.

    What kconfig's savedefconfig and Yocto's diffconfig give: every symbol
    whose final value differs, ``# CONFIG_X is not set`` for off.
    """
    lines = [f"# {_comment(title)}\n", f"# BusyBox {tree.release}\n"]
    for name in tree.symbols:
        value = final.values[name]
        if base.values.get(name) == value:
            continue
        if tree.type_of(name) in ("bool", "tristate") and value == "n":
            lines.append(f"# CONFIG_{name} is not set\n")
        else:
            lines.append(f"CONFIG_{name}={_spelled(tree, name, value)}\n")
    return "".join(lines)


def profile_diff_fragment(tree: KconfigTree, profile: Profile) -> str:
    """The profile's difference from its base (fragments and [config] both) as a fragment."""
    from busyconf.model.profile import base_assignments, profile_assignments

    base = resolve(tree, base_assignments(tree, profile.base, profile.path, _stack(profile)))
    final = resolve(tree, profile_assignments(tree, profile))
    return diff_fragment(tree, base, final, f"{profile.name}: what differs from its base {profile.base}")


def merge_files(
    tree: KconfigTree, base: Sequence[tuple[str, str]], paths: Sequence[Path]
) -> tuple[list[Request], FragmentReport]:
    """Fragments named on the command line, read and checked on top of ``base`` assignments."""
    requests: list[Request] = []
    for path in paths:
        requests += read_fragment(path, tree)
    return requests, check_requests(tree, base, requests)


def _stack(profile: Profile) -> tuple[Path, ...]:
    return (profile.path.resolve(),) if profile.path else ()


def _same(tree: KconfigTree, name: str, a: str, b: str) -> bool:
    """Whether two values of ``name`` are the same (``0x10`` and ``10`` are, for a hex symbol)."""
    if a == b:
        return True
    kind = tree.type_of(name)
    if kind in ("int", "hex"):
        try:
            return int(a or "0", 16 if kind == "hex" else 10) == int(b or "0", 16 if kind == "hex" else 10)
        except ValueError:
            return False
    return False


def _spelled(tree: KconfigTree, name: str, value: str) -> str:
    """A value as a .config line spells it after ``CONFIG_X=``."""
    if tree.type_of(name) == "string":
        return escape_string(value)
    return value


def _comment(text: str) -> str:
    """``text`` safe for one comment line (a name may hold a line break)."""
    return re.sub(r"[^\x20-\x7e]", "?", text)


def import_merged(
    text: str,
    filename: str,
    fragments: Sequence[Path],
    tree: KconfigTree,
    *,
    base: str,
    out_path: Path,
    arch: str,
    description: str = "",
    drop_unknown: bool = False,
    keep_fragments: bool = False,
) -> tuple[Profile, list[str], FragmentReport]:
    """A minimal profile for a .config with ``fragments`` merged on top, in order.

    With ``keep_fragments`` the profile lists the fragments (named from
    ``out_path``'s folder, which must hold them) and [config] is minimal
    against the base plus them; otherwise their values are folded into
    [config]. The result resolves to the same configuration either way.
    """
    from busyconf.model.dotconfig import parse_dotconfig
    from busyconf.model.profile import base_assignments, minimal_overrides, new_profile, write_overrides

    names = [fragment_name_for(p, out_path) for p in fragments] if keep_fragments else []
    dot = parse_dotconfig(text, filename, tree, drop_unknown=drop_unknown)
    requests, report = merge_files(tree, dot.assignments, fragments)
    target = resolve(tree, [*dot.assignments, *((r.name, r.value) for r in requests)])
    what = ", ".join(Path(n).name for n in (filename, *map(str, fragments)))
    prof = new_profile(tree.release, arch, base, description or f"imported from {what}", path=out_path)
    under = base_assignments(tree, base, out_path)
    if keep_fragments:
        set_fragments(prof, names)
        under += [(r.name, r.value) for r in requests]
    write_overrides(prof, tree, minimal_overrides(tree, under, target))
    return prof, dot.dropped, report
