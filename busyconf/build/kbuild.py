"""The seam to BusyBox's kbuild: one out-of-tree build folder, driven one way.

``busyconf build`` (:mod:`busyconf.build.builder`) and the size layer's
measuring trees (:mod:`busyconf.size.workdir`) both go through here: the
same vetting of the ``.config`` (:func:`buildable_config`), the same make
environment and command line (:class:`Kbuild`), the same lock per folder
(:func:`build_lock`). Every process runs through :func:`busyconf.build.runner.run`,
so a cancel stops it.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from busyconf.build import broken, config_lines, gate, runner
from busyconf.build.arch import Arch
from busyconf.build.toolchain import MakeTools
from busyconf.errors import BuildError, Interrupted, UserError

#: Symbols the build decides, whatever the profile says: the toolchain picks the
#: compiler and sysroot (so a profile cannot point make at a program), and the
#: product is a static binary.
FORCED: dict[str, str] = {
    "CROSS_COMPILER_PREFIX": '""',
    "SYSROOT": '""',
    "STATIC": "y",
}

#: The environment make runs with, besides SOURCE_DATE_EPOCH (recorded in the manifest).
MAKE_ENV: dict[str, str] = {"KCONFIG_NOTIMESTAMP": "1", "LC_ALL": "C", "TZ": "UTC"}

#: Enough newlines for ``make oldconfig`` to take every new option's default (``yes "" |``, no shell).
_DEFAULTS = b"\n" * 5000


def buildable_config(
    config_text: str, release: str, arch: str, toolchain_kind: str, *, drop_broken: bool = True
) -> tuple[str, tuple[str, ...]]:
    """``config_text`` as make gets it: the gate's checks, :data:`FORCED`, known-broken options off.

    Returns the text and the symbols set off as known-broken.

    Raises:
        UserError: a value the gate refuses, or a known-broken option when ``drop_broken`` is False.
    """
    gate.check_config_text(config_text)
    values = config_lines.parse(config_text)
    problems = broken.check(values, release=release, toolchain=toolchain_kind, arch=arch)
    if problems and not drop_broken:
        raise UserError("; ".join(str(p) for p in problems))
    changes = dict(FORCED)
    changes.update({p.symbol: p.safe for p in problems})
    return config_lines.set_values(config_text, changes), tuple(p.symbol for p in problems)


def date_epoch(srctree: Path, given: int | None = None) -> int:
    """``given``, else ``$SOURCE_DATE_EPOCH``, else the release's own Makefile date (stable per release)."""
    if given is not None:
        return given
    env = os.environ.get("SOURCE_DATE_EPOCH", "")
    if env.isdigit():
        return int(env)
    try:
        return int((srctree / "Makefile").stat().st_mtime)
    except OSError:
        return 0


def prepared_source(source_tree: Path, arch: Arch, release: str, build_dir: Path) -> Path:
    """``source_tree`` itself, or a private hard-linked copy with the CPU's patches.

    Patched files are written as new files, so the pristine cache never changes.
    """
    patches = arch.patches_for(release)
    if not patches:
        return source_tree
    dest = build_dir / "src"
    stamp = dest / ".busyconf-patches"
    want = json.dumps([asdict(p) for p in patches], sort_keys=True) + str(source_tree.resolve())
    if stamp.is_file() and stamp.read_text() == want:
        return dest
    if dest.exists():
        shutil.rmtree(dest)
    shutil.copytree(source_tree, dest, copy_function=os.link, symlinks=True)
    for patch in patches:
        target = dest / patch.file
        text = target.read_text()
        if patch.old not in text:
            raise BuildError(f"{patch.file}: fix for {arch.name} does not apply to {release}")
        new_text = text.replace(patch.old, patch.new)
        target.unlink()
        target.write_text(new_text)
    stamp.write_text(want)
    return dest


@contextlib.contextmanager
def build_lock(
    build_dir: Path,
    cancel: threading.Event | None = None,
    on_wait: Callable[[str], None] | None = None,
    poll: float = 0.2,
) -> Iterator[None]:
    """One build per build folder at a time (two would corrupt the tree).

    A second build of the same folder (the CLI while the TUI builds, say) waits
    its turn, saying so once through ``on_wait``; ``cancel`` ends the wait.
    """
    build_dir.mkdir(parents=True, exist_ok=True)
    with (build_dir / "lock").open("w") as f:
        waiting = False
        while True:
            try:
                fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if not waiting:
                    waiting = True
                    if on_wait is not None:
                        on_wait(f"another busyconf build is using {build_dir}")
                if cancel is not None and cancel.wait(poll):
                    raise Interrupted("cancelled while waiting for another build of this tree") from None
                if cancel is None:
                    time.sleep(poll)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


@dataclass(frozen=True)
class Kbuild:
    """One out-of-tree kbuild: a (prepared) source tree, its object folder, the toolchain's make variables."""

    srctree: Path
    obj: Path
    tools: MakeTools
    source_date_epoch: int

    @property
    def make_variables(self) -> tuple[str, ...]:
        return tuple(f"{k}={v}" for k, v in self.tools.variables.items())

    def env(self) -> dict[str, str]:
        """This process's environment, pinned for make: :data:`MAKE_ENV`, the date, no inherited MAKEFLAGS."""
        env = dict(os.environ)
        env.update(SOURCE_DATE_EPOCH=str(self.source_date_epoch), **MAKE_ENV)
        env.pop("MAKEFLAGS", None)
        env.pop("MFLAGS", None)
        return env

    def argv(self, *targets: str) -> list[str]:
        return ["make", "-C", str(self.srctree), f"O={self.obj}", *self.make_variables, *targets]

    def configure(
        self, cwd: Path, on_line: Callable[[str], None] | None = None, cancel: threading.Event | None = None
    ) -> runner.RunResult:
        """``make oldconfig`` on the ``.config`` in :attr:`obj`; new options take their defaults."""
        argv = self.argv("oldconfig")
        return runner.run(argv, cwd=cwd, env=self.env(), on_line=on_line, cancel=cancel, stdin_data=_DEFAULTS)

    def make(
        self,
        *targets: str,
        cwd: Path,
        env: dict[str, str] | None = None,
        on_line: Callable[[str], None] | None = None,
        cancel: threading.Event | None = None,
    ) -> runner.RunResult:
        """``make TARGETS`` (``env`` defaults to :meth:`env`)."""
        return runner.run(self.argv(*targets), cwd=cwd, env=env or self.env(), on_line=on_line, cancel=cancel)
