"""The command line: ``busyconf COMMAND ...`` over the domain layer, one module per command.

============  ==========================================================
console.py    output: the stdout/stderr consoles, user text made safe,
              JSON, fragment notes, the build progress bar
options.py    arguments: defaults, argparse types, ``-o`` checks, the
              parser class whose errors are one line
commands.py   the parser made of every command module's ``register()``,
              and the dispatch (an error becomes one line, exit 2 or 1)
profiles.py   show, diff, import, export
set.py        set
source.py     source list, fetch, add
build.py      build (a profile, or ``--applet``), test
image.py      image
trim.py       trim --scan, trim --budget
size.py       size, size calibrate
size_gate.py  size PROFILE --against MANIFEST [--max-growth]
matrix.py     matrix
rebuild.py    rebuild
cve.py        cve
upgrade.py    upgrade
============  ==========================================================

A command module imports console and options, never another command module;
console and options import no command. The work is the domain's
(``busyconf.build``, ``busyconf.model``, ...); a command parses, calls, prints.

With no command, or a profile's name, ``busyconf`` opens the editor.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from busyconf.cli.console import err, plain
from busyconf.cli.options import DEFAULT_PROFILE
from busyconf.errors import BusyconfError, ExitCode

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


def main(argv: Sequence[str] | None = None) -> int:
    """``busyconf [COMMAND] ...``: the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or (not argv[0].startswith("-") and argv[0] not in COMMANDS):
        return run_tui(argv)
    # Imported here, not above: the editor starts without the parser and every command's module.
    from busyconf.cli.commands import run

    return run(argv)


def run_tui(argv: list[str]) -> int:
    """``busyconf [PROFILE]``: the editor."""
    if len(argv) > 1:
        err.print(plain(f"busyconf: unknown command {argv[0]!r} (see busyconf --help)"), markup=False)
        return int(ExitCode.USAGE)
    try:
        from busyconf.tui import run_tui as editor
    except ImportError:
        err.print("busyconf: the interactive editor is not available in this build")
        return int(ExitCode.ENVIRONMENT)
    profile = Path(argv[0]) if argv else DEFAULT_PROFILE
    try:
        return int(editor(profile))
    except BusyconfError as e:
        err.print(f"busyconf: {plain(e)}", markup=False)
        return int(e.exit_code)
