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
from pathlib import Path
from typing import TYPE_CHECKING

from busyconf.model.config import Configuration, explain, resolve
from busyconf.model.kconfig import KconfigTree

if TYPE_CHECKING:
    from busyconf.model.profile import Profile

from busyconf.model.fragment_files import (
    FragmentReport,
    NotApplied,
    Redefinition,
    Request,
    fragment_name_for,
    profile_fragments,
    read_fragment,
    set_fragments,
    spelled,
)

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
    with tree.applied([*base, *((r.name, r.value) for r in requests)]):
        values = tree.values()
        for req in last.values():
            final = values[req.name]
            if _same(tree, req.name, req.value, final):
                continue
            reason = (
                explain(tree, req.name, req.value) or f"{req.name} stays {spelled(tree, req.name, final)}"
            )
            text = (
                f"{req.where}: {req.line(tree)} did not apply "
                f"(final value {spelled(tree, req.name, final)}): {reason}"
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
            lines.append(f"CONFIG_{name}={spelled(tree, name, value)}\n")
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
