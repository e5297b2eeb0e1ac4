"""What the commands share in their arguments: defaults, argparse types, checks made before any work.

Imports :mod:`busyconf.cli.console` and no command module (the commands import this).
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

from busyconf.build.defaults import DEFAULT_ARCH, DEFAULT_TOOLCHAIN
from busyconf.cli.console import err, plain
from busyconf.errors import ExitCode, UserError

__all__ = [
    "DEFAULT_ARCH",
    "DEFAULT_PROFILE",
    "DEFAULT_TOOLCHAIN",
    "Parser",
    "add_jobs",
    "check_output_dir",
    "check_output_file",
    "check_target_args",
    "positive_int",
    "whole_number",
]

#: What ``busyconf`` with no command opens in the editor.
DEFAULT_PROFILE = Path("configs/defconfig.toml")


class Parser(argparse.ArgumentParser):
    """argparse, with its errors in busyconf's one-line form (subcommands inherit this class)."""

    def error(self, message: str) -> NoReturn:
        command = self.prog.removeprefix("busyconf").strip()
        where = f"{command}: " if command else ""
        err.print(f"busyconf: {where}{plain(message)} (see {self.prog} --help)", markup=False)
        raise SystemExit(int(ExitCode.USAGE))


def whole_number(low: int, high: int) -> Callable[[str], int]:
    """argparse type: a whole number from ``low`` to ``high`` (a bad one is a one-line usage error)."""

    def parse(text: str) -> int:
        try:
            n = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if n < low or n > high:
            raise argparse.ArgumentTypeError(f"{text} is not between {low} and {high}")
        return n

    return parse


#: ``-j`` of at least 1: ``-j 0`` or ``-j -1`` would reach make.
positive_int = whole_number(1, 4096)


def add_jobs(parser: Any) -> None:
    """``-j/--jobs N`` (``build``, ``image``, ``rebuild``)."""
    parser.add_argument("-j", "--jobs", type=positive_int, help="parallel compile jobs (default: CPU count)")


def check_target_args(arch: str | None, toolchain: str | None) -> None:
    """``--arch`` and ``--toolchain`` as given (an empty one too), before anything is loaded or made."""
    from busyconf.model.prepare import check_targets

    check_targets(arch, toolchain)


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
