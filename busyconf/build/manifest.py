"""What a build records: the artifact names and ``manifest.json`` (with its reproducer)."""

from __future__ import annotations

import hashlib
import json
import shlex
from dataclasses import asdict, dataclass
from pathlib import Path

from busyconf.errors import MAX_USER_FILE, UserError, read_user_bytes

BINARY_NAME = "busybox"
CONFIG_NAME = "busybox.config"
MANIFEST_NAME = "manifest.json"


@dataclass(frozen=True)
class Manifest:
    """What ``manifest.json`` holds."""

    release: str
    arch: str
    toolchain: str
    toolchain_version: str
    config_sha256: str
    binary_sha256: str
    binary_size: int
    applets: tuple[str, ...]
    build_seconds: float
    built_at: str
    source_date_epoch: int
    dropped_options: tuple[str, ...] = ()
    verified_with: str = "native"
    smoke_checks: tuple[str, ...] = ()
    # The reproducer: with busybox.config beside it (pinned by config_sha256),
    # what `busyconf rebuild` needs to make the same binary again and to say why it cannot.
    source_sha256: str = ""  # the release tarball the source tree was unpacked from
    compiler_flags: tuple[str, ...] = ()  # target and CPU flags the compiler wrapper adds
    make_variables: tuple[str, ...] = ()  # as passed to make, the build folder shown as $BUILD
    make_env: tuple[str, ...] = ()  # environment make ran with, SOURCE_DATE_EPOCH included
    busyconf_version: str = ""
    reproducer: str = ""  # a command line that builds this binary again from busybox.config
    libc: str = ""  # the C library linked in statically: "musl 1.2.5" ("" when the toolchain does not say)

    def to_json(self) -> str:
        data = asdict(self)
        data["applets"] = list(self.applets)
        data["dropped_options"] = list(self.dropped_options)
        data["smoke_checks"] = list(self.smoke_checks)
        for name in ("compiler_flags", "make_variables", "make_env"):
            data[name] = list(getattr(self, name))
        return json.dumps(data, indent=2) + "\n"


def reproducer(release: str, arch: str, toolchain: str, epoch: int) -> str:
    """The command line that builds the binary again from the ``busybox.config`` beside the manifest."""
    return shlex.join(
        [
            f"SOURCE_DATE_EPOCH={epoch}",
            "busyconf",
            "build",
            CONFIG_NAME,
            "--release",
            release,
            "--arch",
            arch,
            "--toolchain",
            toolchain,
            "-o",
            "rebuilt",
        ]
    )


def pinned_config(manifest: Path, config_sha256: str) -> str:
    """The ``busybox.config`` beside ``manifest``, as text, when its sha256 is ``config_sha256``.

    Raises:
        UserError: no such file, not the pinned bytes, or not UTF-8 (one line naming the file).
    """
    path = manifest.parent / CONFIG_NAME
    data = read_user_bytes(
        path,
        MAX_USER_FILE,
        "a .config",
        missing=f"no such file ({manifest.name} needs the {CONFIG_NAME} beside it)",
    )
    got = hashlib.sha256(data).hexdigest()
    if got != config_sha256:
        raise UserError(
            f"{path}: sha256 {got[:16]}... is not the config_sha256 {config_sha256[:16]}... of {manifest}"
        )
    try:
        return data.decode()
    except UnicodeDecodeError as e:
        raise UserError(f"{path}: not UTF-8 text (byte {e.start})") from None
