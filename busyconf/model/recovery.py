"""Recovery files: the editor's unsaved profile text, kept when it cannot ask.

When the editor's terminal closes (SIGHUP) or the editor fails with unsaved
changes, the profile text it would have saved goes to
``CACHE/recovery/<sha256 of the profile's real path>.toml``; the next start on
the same profile offers it. The profile itself is never touched here.
"""

from __future__ import annotations

import hashlib
import os
import stat
import tempfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from busyconf.errors import UserError
from busyconf.source import cache_root

#: The last header line; the profile text starts after it.
END_OF_HEADER = "# --- end of busyconf recovery header ---"
_FIRST = "# busyconf recovery file: unsaved changes of "
_WRITTEN = "# written "
#: Far above any real profile: a bigger file is not one of ours.
MAX_BYTES = 8 * 1024 * 1024


class RecoveryError(UserError):
    title = "Recovery file"


@dataclass(frozen=True)
class Recovery:
    """A recovery file that belongs to a profile."""

    file: Path
    profile: Path
    written: str
    text: str


def real_path(profile: Path) -> Path:
    """The profile's absolute path with symlinks followed (what a recovery file is keyed by)."""
    return Path(os.path.realpath(profile))


def recovery_path(profile: Path, root: Path | None = None) -> Path:
    """Where the recovery file for ``profile`` lives."""
    digest = hashlib.sha256(os.fsencode(real_path(profile))).hexdigest()
    return Path(root or cache_root()).absolute() / "recovery" / f"{digest}.toml"


def write_recovery(profile: Path, text: str, reason: str, root: Path | None = None) -> Path:
    """Keep ``text`` (the unsaved profile) for ``profile``; atomic, readable by the user only."""
    target = recovery_path(profile, root)
    when = datetime.now(timezone.utc).astimezone().isoformat(timespec="seconds")
    header = (
        f"{_FIRST}{real_path(profile)}\n"
        f"{_WRITTEN}{when} ({reason})\n"
        "# The next `busyconf PROFILE` on that file offers to restore it.\n"
        f"{END_OF_HEADER}\n"
    )
    target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(header + text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return target


def read_recovery(profile: Path, root: Path | None = None) -> Recovery | None:
    """The recovery file for ``profile``, None when there is none (RecoveryError when it is not ours)."""
    file = recovery_path(profile, root)
    try:
        st = file.lstat()
    except FileNotFoundError:
        return None
    except OSError as e:
        raise RecoveryError(f"{file}: cannot read ({e.strerror})") from None
    if not stat.S_ISREG(st.st_mode):
        raise RecoveryError(f"{file}: not a regular file")
    if st.st_size > MAX_BYTES:
        raise RecoveryError(f"{file}: {st.st_size} bytes, too big for a recovery file")
    try:
        with open(file, encoding="utf-8", newline="") as f:
            data = f.read(MAX_BYTES + 1)
    except (OSError, UnicodeDecodeError) as e:
        raise RecoveryError(f"{file}: cannot read ({e})") from None
    head, sep, text = data.partition(END_OF_HEADER + "\n")
    lines = head.splitlines()
    if not sep or len(lines) < 2 or not lines[0].startswith(_FIRST) or not lines[1].startswith(_WRITTEN):
        raise RecoveryError(f"{file}: not a busyconf recovery file")
    if lines[0][len(_FIRST) :] != str(real_path(profile)):
        raise RecoveryError(f"{file}: written for another profile than {real_path(profile)}")
    return Recovery(file, real_path(profile), lines[1][len(_WRITTEN) :], text)


def discard_recovery(profile: Path, root: Path | None = None) -> None:
    """Remove the recovery file for ``profile`` (nothing when there is none)."""
    recovery_path(profile, root).unlink(missing_ok=True)


__all__ = [
    "Recovery",
    "RecoveryError",
    "discard_recovery",
    "read_recovery",
    "real_path",
    "recovery_path",
    "write_recovery",
]
