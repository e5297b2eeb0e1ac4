"""One error hierarchy for the whole tool.

Every error the user can cause is a :class:`UserError` (exit 2); every error
the machine causes (no toolchain, make failed, network down) is an
:class:`EnvError` (exit 1). The CLI prints ``str(error)`` as one line and the
TUI shows the same object, so messages are written once, here and at the raise.
"""

from __future__ import annotations

import json
import os
import stat
from enum import IntEnum
from pathlib import Path
from typing import Any


class ExitCode(IntEnum):
    OK = 0
    ENVIRONMENT = 1
    USAGE = 2
    INTERRUPTED = 130


class BusyconfError(Exception):
    """Base of every error busyconf raises on purpose."""

    exit_code: ExitCode = ExitCode.ENVIRONMENT
    title: str = "Error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class UserError(BusyconfError):
    """Bad input: a profile, a .config, a tarball, an argument."""

    exit_code = ExitCode.USAGE
    title = "Bad input"


class EnvError(BusyconfError):
    """The environment failed: missing tool, failed command, no network."""

    exit_code = ExitCode.ENVIRONMENT
    title = "Environment problem"


class ConfigSyntaxError(UserError):
    """A .config or profile line that cannot be read."""

    title = "Syntax error"


class UnknownSymbolError(UserError):
    title = "Unknown symbol"


class ValueRangeError(UserError):
    title = "Invalid value"


class ProfileError(UserError):
    title = "Bad profile"


class SourceError(UserError):
    """A release that is unknown, missing or fails verification."""

    title = "BusyBox source"


class UnsafeArchiveError(UserError):
    title = "Unsafe archive"


class BuildError(EnvError):
    title = "Build failed"


class ToolchainError(EnvError):
    title = "Toolchain"


class Interrupted(BusyconfError):
    exit_code = ExitCode.INTERRUPTED
    title = "Interrupted"


#: Largest file a user may hand busyconf as a profile or a .config (real ones are a few KB).
MAX_USER_FILE = 16 * 1024 * 1024


def read_user_file(
    path: Path,
    missing: str = "no such file",
    error: type[UserError] = UserError,
    limit: int = MAX_USER_FILE,
    what: str = "a profile or a .config",
) -> str:
    """A regular file the user named, as text; anything else means a one-line UserError."""
    data = read_user_bytes(path, limit, what, missing, error)
    try:
        text = data.decode()
    except UnicodeDecodeError as e:
        raise error(f"{path}: not UTF-8 text (byte {e.start})") from None
    # Universal newlines, as text-mode reading always gave the parsers.
    return text.replace("\r\n", "\n").replace("\r", "\n")


def read_user_json_object(path: Path, limit: int, what: str) -> dict[str, Any]:
    """A regular file of at most ``limit`` bytes holding one JSON object; anything else is a UserError."""
    raw = read_user_bytes(path, limit, what)
    try:
        data = json.loads(raw.decode())
    except UnicodeDecodeError as e:
        raise UserError(f"{path}: not UTF-8 text (byte {e.start})") from None
    except json.JSONDecodeError as e:
        raise UserError(f"{path}:{e.lineno}: not JSON ({e.msg})") from None
    except RecursionError:
        raise UserError(f"{path}: JSON nested too deeply") from None
    if not isinstance(data, dict):
        raise UserError(f"{path}: {what} is a JSON object, not a {type(data).__name__}")
    return data


def read_user_bytes(
    path: Path, limit: int, what: str, missing: str = "no such file", error: type[UserError] = UserError
) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes; anything else is a one-line UserError.

    FIFOs and devices are refused before a byte is read (reading them hangs or
    never ends), and so is a file over ``limit`` bytes.
    """
    check_regular_file(path, limit, what, missing, error)
    try:
        # O_NONBLOCK: if a FIFO replaced the file since the stat, open() must not wait for a writer.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as e:
        raise error(f"{path}: cannot read ({e.strerror or e})") from None
    with os.fdopen(fd, "rb") as f:
        _check_regular(path, os.fstat(fd), limit, error, what)
        try:
            data = f.read(limit + 1)
        except OSError as e:
            raise error(f"{path}: cannot read ({e.strerror or e})") from None
    if len(data) > limit:
        raise error(f"{path}: larger than {_mib(limit)}: too big for {what}")
    return data


def check_regular_file(
    path: Path, limit: int, what: str, missing: str = "no such file", error: type[UserError] = UserError
) -> None:
    """Refuse ``path`` unless it is a regular file (symlinks followed) of at most ``limit`` bytes."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise error(f"{path}: {missing}") from None
    except OSError as e:
        raise error(f"{path}: cannot read ({e.strerror or e})") from None
    _check_regular(path, st, limit, error, what)


def _check_regular(path: Path, st: os.stat_result, limit: int, error: type[UserError], what: str) -> None:
    if stat.S_ISDIR(st.st_mode):
        raise error(f"{path}: is a directory, not a file")
    if not stat.S_ISREG(st.st_mode):
        raise error(f"{path}: is a {_kind(st.st_mode)}, not a regular file")
    if st.st_size > limit:
        raise error(f"{path}: {st.st_size:,} bytes, larger than {_mib(limit)}: too big for {what}")


def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "FIFO"
    if stat.S_ISCHR(mode):
        return "character device"
    if stat.S_ISBLK(mode):
        return "block device"
    if stat.S_ISSOCK(mode):
        return "socket"
    return "special file"


def _mib(n: int) -> str:
    return f"{n // (1024 * 1024)} MiB" if n >= 1024 * 1024 else f"{n // 1024} KiB"
