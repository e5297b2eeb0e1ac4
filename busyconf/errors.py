"""One error hierarchy for the whole tool.

Every error the user can cause is a :class:`UserError` (exit 2); every error
the machine causes (no toolchain, make failed, network down) is an
:class:`EnvError` (exit 1). The CLI prints ``str(error)`` as one line and the
TUI shows the same object, so messages are written once, here and at the raise.
"""

from __future__ import annotations

from enum import IntEnum
from pathlib import Path


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


def read_user_file(path: Path, missing: str = "no such file", error: type[UserError] = UserError) -> str:
    """A file the user named, as text; unreadable means a one-line UserError."""
    try:
        return path.read_text()
    except FileNotFoundError:
        raise error(f"{path}: {missing}") from None
    except IsADirectoryError:
        raise error(f"{path}: is a directory, not a file") from None
    except (OSError, UnicodeDecodeError) as e:
        raise error(f"{path}: cannot read ({e})") from None
