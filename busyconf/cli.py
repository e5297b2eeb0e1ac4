"""The command line: argument parsing and Rich output over the domain layer.

Every command returns an exit code (:class:`~busyconf.errors.ExitCode`); a
:class:`~busyconf.errors.BusyconfError` becomes one line on stderr.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import json
import os
import re
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

from rich.console import Console
from rich.markup import escape

from busyconf import __version__
from busyconf.errors import BusyconfError, ExitCode, UserError, read_user_file

# emoji=False: ":x:" in a description or a path is text, not an emoji code.
out = Console(highlight=False, soft_wrap=True, emoji=False)
err = Console(stderr=True, highlight=False, soft_wrap=True, emoji=False)

DEFAULT_PROFILE = Path("configs/defconfig.toml")

Handler = Callable[[argparse.Namespace], int]


# C0 and C1 controls (newlines, ESC, 8-bit CSI) and the bidi overrides that reorder what a line shows.
_CONTROL = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def plain(value: object) -> str:
    """User text made safe for a terminal: control characters (newlines, ESC) shown as escapes."""
    return _CONTROL.sub(lambda m: repr(m.group())[1:-1], str(value))


def esc(value: object) -> str:
    """User text for a Rich markup string: shown as is, never read as markup."""
    return escape(plain(value))


def check_output_dir(name: str | Path) -> Path:
    """``-o DIR`` checked before any work: named, not a file, and writable where it will be made."""
    if not str(name).strip():
        raise UserError("-o: an empty folder name; name the output folder")
    path = Path(name)
    if path.exists() and not path.is_dir():
        raise UserError(f"{path}: not a folder; -o names a folder here")
    _check_writable(path)
    return path


def check_output_file(name: str | Path) -> Path:
    """``-o FILE`` checked before any work: named, not a folder, and its folder writable."""
    if not str(name).strip():
        raise UserError("-o: an empty file name; name the file to write")
    path = Path(name)
    if str(name).endswith("/") or path.is_dir():
        raise UserError(f"{path}: is a directory; -o names a file here")
    _check_writable(path.parent)
    return path


def _check_writable(path: Path) -> None:
    """Create and remove a file in ``path`` or the folder it would be made in (access() lies to root)."""
    import tempfile

    where = path.absolute()
    while not where.exists() and where != where.parent:
        where = where.parent
    if not where.is_dir():
        raise UserError(f"{path}: {where} is not a folder")
    try:
        fd, probe = tempfile.mkstemp(dir=where, prefix=".busyconf-probe-")
    except OSError as e:
        raise UserError(f"{path}: cannot write in {where} ({e.strerror or e})") from None
    os.close(fd)
    os.unlink(probe)


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, sort_keys=False) + "\n")


# -- show / set / diff -------------------------------------------------------------


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


def fragment_notes(report: Any, strict: bool) -> None:
    """Print a fragment report's redefinitions and values that did not apply (stderr).

    ``strict`` (``--strict``) makes a value that did not apply an error: one
    line, exit 2, raised before anything is printed or written.
    """
    if strict and report.not_applied:
        more = len(report.not_applied) - 1
        tail = f" (and {more} more)" if more else ""
        raise UserError(f"{report.not_applied[0]}{tail}; --strict refuses it")
    for r in report.redefined:
        err.print(plain(f"busyconf: note: {r}"), markup=False)
    for n in report.not_applied:
        err.print(plain(f"busyconf: warning: {n}"), markup=False)


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


# -- parser ------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    from busyconf import cli_set, cli_source

    p = _Parser(
        prog="busyconf",
        description="Configure, size and build BusyBox from small per-device profiles.",
        epilog="Run `busyconf COMMAND --help` for each command. With no command, "
        "opens the interactive editor on PROFILE (default configs/defconfig.toml).",
    )
    p.add_argument("--version", action="version", version=f"busyconf {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    cli_source.register(sub)

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

    cli_set.register(sub)

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
    s.add_argument("--arch", default="x86_64", help="target CPU recorded in the profile (default x86_64)")
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

    _add_build_commands(sub)
    return p


def _add_build_commands(sub: Any) -> None:
    from busyconf import cli_build, cli_cve, cli_image, cli_matrix, cli_rebuild, cli_size, cli_upgrade

    cli_build.register(sub)
    cli_size.register(sub)
    cli_image.register(sub)
    cli_matrix.register(sub)
    cli_rebuild.register(sub)
    cli_cve.register(sub)
    cli_upgrade.register(sub)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or (not argv[0].startswith("-") and argv[0] not in COMMANDS):
        # The editor starts without building the parser (which imports every command's module).
        return _run_tui(argv)
    if argv[:2] == ["size", "calibrate"]:
        argv = ["size-calibrate", *argv[2:]]
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:
        return int(e.code or 0)
    if not getattr(args, "func", None):
        parser.print_help()
        return ExitCode.USAGE
    try:
        return int(args.func(args))
    except BusyconfError as e:
        err.print(f"busyconf: {plain(e)}", markup=False)
        return int(e.exit_code)
    except KeyboardInterrupt:
        err.print("busyconf: interrupted")
        return int(ExitCode.INTERRUPTED)
    except BrokenPipeError:
        # The reader of stdout went away (`| head`): no traceback, and none at exit either.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return int(ExitCode.ENVIRONMENT)
    except OSError as e:
        err.print(f"busyconf: {plain(_os_error(e))}", markup=False)
        return int(ExitCode.USAGE if e.errno in _USER_ERRNOS else ExitCode.ENVIRONMENT)
    except Exception as e:
        if os.environ.get("BUSYCONF_DEBUG"):
            raise
        err.print(
            f"busyconf: internal error: {type(e).__name__}: {plain(e)} "
            "(a bug; BUSYCONF_DEBUG=1 shows the traceback)",
            markup=False,
        )
        return int(ExitCode.ENVIRONMENT)


#: A path the user named cannot be used: their input to fix, not the machine's failure.
_USER_ERRNOS = frozenset(
    {
        errno.EACCES,
        errno.EPERM,
        errno.EROFS,
        errno.EISDIR,
        errno.ENOTDIR,
        errno.ENOENT,
        errno.EEXIST,
        errno.ENAMETOOLONG,
        errno.ELOOP,
        errno.EINVAL,
        errno.ENXIO,
        errno.ETXTBSY,
        errno.ENOTEMPTY,
    }
)


def _os_error(e: OSError) -> str:
    """``PATH: reason`` for an OSError (a rename names its target, not the temporary file)."""
    name = e.filename2 if e.filename2 is not None else e.filename
    reason = e.strerror or str(e)
    return f"{os.fsdecode(name)}: {reason}" if name is not None else reason


class _Parser(argparse.ArgumentParser):
    """argparse, with its errors in busyconf's one-line form (subcommands inherit this class)."""

    def error(self, message: str) -> NoReturn:
        command = self.prog.removeprefix("busyconf").strip()
        where = f"{command}: " if command else ""
        err.print(f"busyconf: {where}{plain(message)} (see {self.prog} --help)", markup=False)
        raise SystemExit(int(ExitCode.USAGE))


#: The subcommands' names (``build_parser``'s; a test keeps the two the same).
COMMANDS = frozenset(
    {
        "build",
        "cve",
        "diff",
        "export",
        "image",
        "import",
        "matrix",
        "rebuild",
        "set",
        "show",
        "size",
        "size-calibrate",
        "source",
        "test",
        "trim",
        "upgrade",
    }
)


def commands_of(parser: argparse.ArgumentParser) -> set[str]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return set(action.choices)
    return set()


def _run_tui(argv: list[str]) -> int:
    if len(argv) > 1:
        err.print(plain(f"busyconf: unknown command {argv[0]!r} (see busyconf --help)"), markup=False)
        return int(ExitCode.USAGE)
    try:
        from busyconf.tui import run_tui
    except ImportError:
        err.print("busyconf: the interactive editor is not available in this build")
        return int(ExitCode.ENVIRONMENT)
    profile = Path(argv[0]) if argv else DEFAULT_PROFILE
    try:
        return int(run_tui(profile))
    except BusyconfError as e:
        err.print(f"busyconf: {plain(e)}", markup=False)
        return int(e.exit_code)
