"""``busyconf show``, ``diff``, ``import``, ``export``: a profile or a .config read, compared, converted."""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from pathlib import Path
from typing import Any

from busyconf.cli.console import err, esc, fragment_notes, out, plain, print_json
from busyconf.cli.options import DEFAULT_ARCH, check_output_file
from busyconf.errors import UserError, read_user_file


def register_show(sub: Any) -> None:
    """Add ``show`` (``set`` follows it in the list of commands, then :func:`register`'s)."""
    s = sub.add_parser("show", help="resolved settings and enabled applets")
    s.add_argument("profile", help="a profile (.toml) or a .config")
    s.add_argument("--json", action="store_true", help="print one JSON document")
    s.add_argument("--all", action="store_true", help="list every symbol's value")
    s.add_argument(
        "--origin",
        action="store_true",
        help="list every symbol's value and where it comes from (base, fragment:line, profile:line)",
    )
    s.add_argument("--release", help="release of a .config without a version header")
    s.add_argument("--drop-unknown", action="store_true", help="ignore symbols this release lacks")
    s.set_defaults(func=cmd_show)


def register(sub: Any) -> None:
    """Add ``diff``, ``import`` and ``export``."""
    s = sub.add_parser("diff", help="symbols that differ between two configurations")
    s.add_argument("a", help="profile (.toml) or .config")
    s.add_argument("b", help="profile (.toml) or .config")
    s.add_argument("--json", action="store_true", help="print one JSON document")
    s.add_argument("--release", help="release of .config files without a version header")
    s.add_argument("--drop-unknown", action="store_true", help="ignore symbols a release lacks")
    s.set_defaults(func=cmd_diff)

    s = sub.add_parser(
        "import",
        help="turn an existing .config into a minimal profile",
        description="Reads a .config strictly (every line, type and range checked) and writes "
        "the smallest profile that gives the same configuration.",
    )
    s.add_argument("dotconfig", help="the .config to import")
    s.add_argument(
        "fragments", nargs="*", metavar="FRAGMENT", help="Kconfig fragments (.cfg) merged on top, in order"
    )
    s.add_argument(
        "--keep-fragments",
        action="store_true",
        help="list the fragments in the profile (paths relative to it) instead of folding them in",
    )
    s.add_argument("-o", "--output", required=True, help="configs/NAME.toml")
    s.add_argument(
        "--base", default="defconfig", help="defconfig (default), allnoconfig, a profile or a .config"
    )
    s.add_argument("--release", help="default: the .config header's release, else the newest cached")
    s.add_argument(
        "--arch", default=DEFAULT_ARCH, help=f"target CPU recorded in the profile (default {DEFAULT_ARCH})"
    )
    s.add_argument("--description", help="one line for the profile")
    s.add_argument(
        "--drop-unknown", action="store_true", help="drop symbols this release lacks (listed on stderr)"
    )
    s.add_argument("--force", action="store_true", help="replace an existing output file")
    s.set_defaults(func=cmd_import)

    s = sub.add_parser("export", help="write a full .config that BusyBox's make accepts as is")
    s.add_argument("profile", help="profile (.toml) or .config")
    s.add_argument("-o", "--output", required=True, help="file to write, or - for stdout")
    s.add_argument(
        "--fragment",
        action="store_true",
        help="write only what differs from the base, as a Kconfig fragment (.cfg) in Kconfig order",
    )
    s.add_argument(
        "--strict", action="store_true", help="a fragment or [config] value that does not apply is an error"
    )
    s.add_argument("--release", help="release of a .config without a version header")
    s.add_argument("--drop-unknown", action="store_true", help="drop symbols this release lacks")
    s.set_defaults(func=cmd_export)


# -- show / diff ---------------------------------------------------------------------


def cmd_show(args: argparse.Namespace) -> int:
    from busyconf.model.config import to_toml
    from busyconf.model.inputs import load_any

    loaded = load_any(Path(args.profile), release=args.release, drop_unknown=args.drop_unknown)
    tree, cfg, prof = loaded.tree, loaded.config, loaded.profile
    overrides = {k: v for k, v in (prof.config.items() if prof else [])}
    origin, report = _origins(loaded)
    if args.json:
        print_json(
            {
                "path": str(loaded.path),
                "description": prof.description if prof else None,
                "busybox": tree.release,
                "arch": prof.arch if prof else None,
                "base": prof.base if prof else None,
                "toolchain": prof.toolchain if prof else None,
                "overrides": overrides,
                "fragments": list(prof.fragments) if prof else [],
                "applets": list(cfg.applets),
                "config": {n: to_toml(tree, n, v) for n, v in cfg.values.items()},
                "origin": origin,
                "fragment_report": report.to_json() if report else None,
            }
        )
        return 0
    if report:
        fragment_notes(report, strict=False)
    if prof:
        out.print(f"[bold]{esc(prof.name)}[/]  {esc(prof.description)}")
        out.print(
            f"BusyBox {esc(tree.release)}, arch {esc(prof.arch)}, base {esc(prof.base)}, "
            f"toolchain {esc(prof.toolchain)}"
        )
    else:
        out.print(f"[bold]{esc(loaded.path)}[/]  BusyBox {esc(tree.release)}")
    if prof and prof.fragments:
        out.print(f"\n[bold]Fragments[/] ({len(prof.fragments)}, applied in order after the base)")
        for name in prof.fragments:
            out.print(plain(f"  {name}"), markup=False)
    if overrides:
        out.print(f"\n[bold]Settings[/] ({len(overrides)} differ from the base)")
        for k, v in overrides.items():
            out.print(f"  {k} = {json.dumps(v)}", markup=False)
    if args.all or args.origin:
        out.print("\n[bold]All symbols[/]" + (" and where each value comes from" if args.origin else ""))
        for n, v in cfg.values.items():
            where = f"  ({origin[n]})" if args.origin else ""
            out.print(plain(f"  {n} = {json.dumps(to_toml(tree, n, v))}{where}"), markup=False)
    out.print(f"\n[bold]Applets[/] ({len(cfg.applets)})")
    out.print("  " + " ".join(cfg.applets), markup=False)
    return 0


def _origins(loaded: Any) -> tuple[dict[str, str], Any]:
    """Where each value of a loaded configuration comes from, and its fragment report (None: a .config)."""
    from busyconf.model.fragments import check_profile, origins

    if loaded.profile is None:
        return {n: str(loaded.path) for n in loaded.config.values}, None
    return origins(loaded.tree, loaded.profile), check_profile(loaded.tree, loaded.profile)


def cmd_diff(args: argparse.Namespace) -> int:
    from busyconf.model.config import to_toml
    from busyconf.model.inputs import load_any

    a = load_any(Path(args.a), release=args.release, drop_unknown=args.drop_unknown)
    b = load_any(Path(args.b), release=args.release, drop_unknown=args.drop_unknown)
    diff = a.config.diff(b.config)
    gained = sorted(set(b.config.applets) - set(a.config.applets))
    lost = sorted(set(a.config.applets) - set(b.config.applets))

    def show(tree: Any, name: str, value: str | None) -> object:
        return None if value is None else to_toml(tree, name, value)

    if args.json:
        print_json(
            {
                "a": str(a.path),
                "b": str(b.path),
                "symbols": [
                    {"name": n, "a": show(a.tree, n, x), "b": show(b.tree, n, y)} for n, x, y in diff
                ],
                "applets_only_in_a": lost,
                "applets_only_in_b": gained,
            }
        )
        return 0
    if not diff:
        out.print("no differences")
        return 0
    for n, x, y in diff:
        out.print(plain(f"{n}: {_fmt(show(a.tree, n, x))} -> {_fmt(show(b.tree, n, y))}"), markup=False)
    if lost:
        out.print(plain(f"applets only in {args.a}: {' '.join(lost)}"), markup=False)
    if gained:
        out.print(plain(f"applets only in {args.b}: {' '.join(gained)}"), markup=False)
    out.print(f"{len(diff)} symbols differ")
    return 0


def _fmt(value: object) -> str:
    return "(absent)" if value is None else json.dumps(value)


# -- import / export -----------------------------------------------------------------


def cmd_import(args: argparse.Namespace) -> int:
    from busyconf.model.fragments import import_merged
    from busyconf.model.inputs import dotconfig_release
    from busyconf.model.kconfig import load_tree
    from busyconf.model.profile import base_for, dumps, import_dotconfig, known_arches, profile_lock
    from busyconf.savefile import write_output
    from busyconf.source import SourceCache

    if not args.output:
        raise UserError("-o '': name the profile to write (or - for standard output)")
    src = Path(args.dotconfig)
    dest = Path(args.output)
    text = read_user_file(src)
    if args.keep_fragments and not args.fragments:
        raise UserError("--keep-fragments: name the fragments after the .config (import BASE.config A.cfg)")
    if args.output != "-" and dest.is_file() and not args.force:
        raise UserError(f"{dest}: already exists; pass --force to replace it")
    if args.output != "-":
        check_output_file(args.output)
    if args.arch not in known_arches():
        raise UserError(f"unknown arch {args.arch!r} (known: {', '.join(known_arches())})")
    # A base given here is named from the current folder and written as the new profile finds it.
    base = base_for(args.base, Path.cwd(), dest)
    cache = SourceCache()
    tree = load_tree(dotconfig_release(text, args.release, cache), cache)
    report = None
    if args.fragments:
        prof, dropped, report = import_merged(
            text,
            str(src),
            [Path(f) for f in args.fragments],
            tree,
            base=base,
            out_path=dest,
            arch=args.arch,
            description=args.description or "",
            drop_unknown=args.drop_unknown,
            keep_fragments=args.keep_fragments,
        )
    else:
        prof, dropped = import_dotconfig(
            text,
            str(src),
            tree,
            base=base,
            out_path=dest,
            arch=args.arch,
            description=args.description or "",
            drop_unknown=args.drop_unknown,
        )
    with profile_lock(dest) if args.output != "-" else contextlib.nullcontext():
        if args.output != "-" and dest.is_file() and not args.force:
            raise UserError(f"{dest}: was created meanwhile; pass --force to replace it")
        where = write_output(args.output, dumps(prof))
    for name in dropped:
        err.print(plain(f"{src}: dropped unknown symbol CONFIG_{name}"), markup=False)
    if report is not None:
        fragment_notes(report, strict=False)
    # The profile itself may be on stdout: the summary goes to stderr then.
    (err if args.output == "-" else out).print(
        plain(f"wrote {where}: {len(prof.config)} settings over {base} (BusyBox {tree.release})"),
        markup=False,
    )
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from busyconf.model.dotconfig import dotconfig_text
    from busyconf.model.fragments import check_profile
    from busyconf.model.inputs import load_any
    from busyconf.savefile import write_output

    if args.output != "-":
        check_output_file(args.output)
    loaded = load_any(Path(args.profile), release=args.release, drop_unknown=args.drop_unknown)
    if loaded.profile is not None:
        fragment_notes(check_profile(loaded.tree, loaded.profile), strict=args.strict)
    if args.fragment:
        text = _diff_fragment(loaded)
    else:
        text = dotconfig_text(loaded.tree, loaded.assignments)
    if args.output == "-":
        sys.stdout.write(text)
    else:
        write_output(args.output, text)
        out.print(
            plain(f"wrote {args.output} ({len(loaded.config.applets)} applets, ")
            + f"BusyBox {plain(loaded.tree.release)})",
            markup=False,
        )
    return 0


def _diff_fragment(loaded: Any) -> str:
    """``export --fragment``: the difference from the base (a .config's: from defconfig) as a .cfg."""
    from busyconf.model.config import resolve
    from busyconf.model.fragments import diff_fragment, profile_diff_fragment

    if loaded.profile is not None:
        return str(profile_diff_fragment(loaded.tree, loaded.profile))
    base = resolve(loaded.tree, [])
    title = f"{loaded.path.name}: what differs from defconfig"
    return str(diff_fragment(loaded.tree, base, loaded.config, title))
