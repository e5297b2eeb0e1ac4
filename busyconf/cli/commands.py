"""The parser made of every command module's ``register``, and the dispatch.

A command's handler returns an exit code (:class:`~busyconf.errors.ExitCode`);
a :class:`~busyconf.errors.BusyconfError` becomes one line on stderr, and so
does any other exception (``BUSYCONF_DEBUG=1`` shows its traceback).
"""

from __future__ import annotations

import argparse
import errno
import os
import sys
from collections.abc import Sequence

from busyconf import __version__
from busyconf.cli import (
    build,
    cve,
    image,
    matrix,
    profiles,
    rebuild,
    size,
    size_gate,
    source,
    trim,
    upgrade,
)
from busyconf.cli import set as set_command
from busyconf.cli.console import err, plain
from busyconf.cli.options import Parser
from busyconf.errors import BusyconfError, ExitCode


def build_parser() -> argparse.ArgumentParser:
    """Every command, in the order ``busyconf --help`` lists them."""
    p = Parser(
        prog="busyconf",
        description="Configure, size and build BusyBox from small per-device profiles.",
        epilog="Run `busyconf COMMAND --help` for each command. With no command, "
        "opens the interactive editor on PROFILE (default configs/defconfig.toml).",
    )
    p.add_argument("--version", action="version", version=f"busyconf {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    source.register(sub)
    profiles.register_show(sub)
    set_command.register(sub)
    profiles.register(sub)
    build.register(sub)
    size.register(sub, against_manifest=size_gate.gate)
    image.register(sub)
    trim.register(sub)
    matrix.register(sub)
    rebuild.register(sub)
    cve.register(sub)
    upgrade.register(sub)
    return p


def commands_of(parser: argparse.ArgumentParser) -> set[str]:
    """The names of ``parser``'s subcommands."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return set(action.choices)
    return set()


def run(argv: Sequence[str]) -> int:
    """Parse ``argv`` (a command and its arguments) and run the command; the exit code."""
    argv = list(argv)
    if argv[:2] == ["size", "calibrate"]:
        # argparse cannot give `size` both a PROFILE and subcommands: see busyconf.cli.size.
        argv = [size.CALIBRATE, *argv[2:]]
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
