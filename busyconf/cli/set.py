"""``busyconf set``: change symbols in a saved profile, minimally, under its lock."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from busyconf.cli.console import out, plain
from busyconf.errors import UserError


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    s = sub.add_parser(
        "set",
        help="change symbols in a saved profile",
        description="Set symbols and save the profile minimally (comments and order kept). "
        "Values: true/false (or y/n) for bools, numbers, strings. Fails, writing nothing, "
        "if a value cannot take effect; the message says why.",
    )
    s.add_argument("profile", help="the profile to edit")
    s.add_argument("assignments", nargs="+", metavar="SYM=VALUE", help="e.g. LS=n FEATURE_EDITING_HISTORY=64")
    s.add_argument("--with-deps", action="store_true", help="also turn on the options a symbol needs")
    s.set_defaults(func=cmd_set)


def cmd_set(args: argparse.Namespace) -> int:
    from busyconf.model.profile import editing, tree_for

    with editing(args.profile) as prof:
        return _set_locked(args, prof, tree_for(prof))


def _set_locked(args: argparse.Namespace, prof: Any, tree: Any) -> int:
    """``set`` with the profile's lock held: no other save lands between its read and its write."""
    from busyconf.model.config import explain, missing_dependencies, parse_assignment, resolve
    from busyconf.model.profile import apply_changes, save_profile

    before = resolve(tree, _assignments(tree, prof))
    changes = [parse_assignment(tree, a) for a in args.assignments]
    if args.with_deps:
        changes = _with_dependencies(tree, prof, changes, missing_dependencies)
    after = apply_changes(prof, tree, changes)
    for name, value in changes:
        if after.values[name] != value:
            with tree.applied(_assignments(tree, prof) + list(changes)):
                reason = explain(tree, name, value) or f"{name} stays {after.values[name]!r}"
                deps = missing_dependencies(tree, name)
            hint = ""
            if deps and value != "n":
                hint = f" (--with-deps turns on {', '.join(deps)})"
            raise UserError(f"{args.profile}: cannot set {name}={value}: {reason}{hint}")
    # The report is made before the save and printed as plain text after it: nothing that
    # follows a successful save can fail on the user's text.
    changed = before.diff(after)
    report = [plain(f"  {name}: {old} -> {new}") for name, old, new in changed]
    gained = sorted(set(after.applets) - set(before.applets))
    lost = sorted(set(before.applets) - set(after.applets))
    if gained:
        report.append(f"  applets added: {' '.join(gained)}")
    if lost:
        report.append(f"  applets removed: {' '.join(lost)}")
    report.append(plain(f"saved {args.profile} ({len(changed)} symbols changed)"))
    save_profile(prof)
    for line in report:
        out.print(line, markup=False)
    return 0


def _assignments(tree: Any, prof: Any) -> list[tuple[str, str]]:
    from busyconf.model.profile import profile_assignments

    return profile_assignments(tree, prof)


def _with_dependencies(
    tree: Any, prof: Any, changes: list[tuple[str, str]], missing: Callable[..., list[str] | None]
) -> list[tuple[str, str]]:
    extra: list[tuple[str, str]] = []
    with tree.applied(_assignments(tree, prof) + changes):
        for name, value in changes:
            if value != "n":
                for dep in missing(tree, name) or []:
                    if (dep, "y") not in extra:
                        extra.append((dep, "y"))
    return extra + changes
