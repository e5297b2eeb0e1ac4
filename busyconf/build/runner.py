"""Run make: argument list (never a shell), line callback, progress, cancellation.

make runs in its own session (process group) so that a terminal Ctrl-C reaches
only Python; busyconf then kills the whole group (make and every compiler it
started) and raises :class:`~busyconf.errors.Interrupted`. A
``threading.Event`` does the same from another thread (the TUI's worker).
"""

from __future__ import annotations

import contextlib
import os
import queue
import re
import shlex
import signal
import subprocess
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from busyconf.errors import EnvError, Interrupted

# kbuild's quiet output: two spaces, a tag, padding, a path.
_KBUILD_LINE = re.compile(r"^\s{2}([A-Z][A-Z0-9_]*)\s+(\S.*)$")
_RULE = re.compile(r"^\s*(?://kbuild:)?\s*(?:lib|obj)-(y|\$\(CONFIG_([A-Za-z0-9_]+)\))\s*[+:]?=\s*(.*)$")


@dataclass(frozen=True)
class MakeStep:
    """One kbuild quiet-output line: ``tag`` is ``CC``, ``AR``, ``LINK``, ``HOSTCC``..."""

    tag: str
    path: str


@dataclass(frozen=True)
class RunResult:
    """How a make run ended; ``tail`` holds its last output lines for error messages."""

    argv: tuple[str, ...]
    returncode: int
    seconds: float
    tail: tuple[str, ...]

    @property
    def command_line(self) -> str:
        """The equivalent shell command, so a failed build can be rerun by hand."""
        return shlex.join(self.argv)


def parse_step(line: str) -> MakeStep | None:
    """The kbuild step in ``line`` (``"  CC      libbb/xfuncs.o"``), if any."""
    m = _KBUILD_LINE.match(line)
    return MakeStep(m.group(1), m.group(2).strip()) if m else None


def count_object_rules(srctree: Path, enabled: Mapping[str, str]) -> int:
    """Estimate how many objects a full build compiles: the ``.o`` words in
    ``lib-y``/``lib-$(CONFIG_X)`` rules (Kbuild.src and ``//kbuild:`` lines)
    whose symbol is enabled."""
    objects: set[tuple[Path, str]] = set()
    paths = list(srctree.rglob("Kbuild.src")) + list(srctree.rglob("*.c"))
    for path in paths:
        try:
            text = path.read_text(errors="replace")
        except OSError:
            continue
        if "kbuild" not in text and path.name != "Kbuild.src":
            continue
        for line in text.splitlines():
            m = _RULE.match(line)
            if not m:
                continue
            if m.group(1) != "y" and enabled.get(m.group(2) or "", "n") not in ("y", "m"):
                continue
            # The same object is often listed once per applet that needs it.
            objects.update((path.parent, w) for w in m.group(3).split() if w.endswith(".o"))
    return len(objects)


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    """TERM then KILL the process group of ``proc`` (make and its compilers)."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(proc.pid, sig)
        except (ProcessLookupError, PermissionError):
            return
        try:
            proc.wait(timeout=3)
            if sig == signal.SIGTERM:
                # make is gone; its children may not be: make sure.
                continue
        except subprocess.TimeoutExpired:
            continue
    proc.wait()


def run(
    argv: Sequence[str],
    *,
    cwd: Path,
    env: Mapping[str, str] | None = None,
    on_line: Callable[[str], None] | None = None,
    cancel: threading.Event | None = None,
    stdin_data: bytes | None = None,
    tail_lines: int = 40,
    stdout_to: Path | None = None,
) -> RunResult:
    """Run ``argv`` (no shell), calling ``on_line`` for each output line.

    stdout and stderr are merged, unless ``stdout_to`` names a file for
    stdout (then the lines are stderr's); stdin is ``/dev/null`` unless ``stdin_data``
    is given. Returns the exit status; raises :class:`Interrupted` on
    ``cancel`` or Ctrl-C (after killing the process group).

    Raises:
        EnvError: the program cannot be started.
        Interrupted: cancelled.
    """
    start = time.monotonic()
    with contextlib.ExitStack() as files:
        out_file = files.enter_context(stdout_to.open("wb")) if stdout_to is not None else None
        try:
            proc = subprocess.Popen(
                list(argv),
                cwd=cwd,
                env=dict(env) if env is not None else None,
                stdin=subprocess.PIPE if stdin_data is not None else subprocess.DEVNULL,
                stdout=out_file if out_file is not None else subprocess.PIPE,
                stderr=subprocess.PIPE if out_file is not None else subprocess.STDOUT,
                start_new_session=True,
            )
        except OSError as exc:
            raise EnvError(f"cannot run {argv[0]}: {exc.strerror}") from exc
        return _follow(proc, argv, start, on_line, cancel, stdin_data, tail_lines)


def _follow(
    proc: subprocess.Popen[bytes],
    argv: Sequence[str],
    start: float,
    on_line: Callable[[str], None] | None,
    cancel: threading.Event | None,
    stdin_data: bytes | None,
    tail_lines: int,
) -> RunResult:
    """Read ``proc``'s output lines until it ends, is cancelled or Ctrl-C comes."""

    lines: queue.Queue[str | None] = queue.Queue()
    tail: deque[str] = deque(maxlen=tail_lines)

    def read() -> None:
        stream = proc.stdout if proc.stdout is not None else proc.stderr
        assert stream is not None
        for raw in stream:
            lines.put(raw.decode("utf-8", "replace").rstrip("\r\n"))
        lines.put(None)

    def feed() -> None:
        assert proc.stdin is not None and stdin_data is not None
        try:
            proc.stdin.write(stdin_data)
            proc.stdin.close()
        except (BrokenPipeError, OSError):
            pass

    threads = [threading.Thread(target=read, daemon=True)]
    if stdin_data is not None:
        threads.append(threading.Thread(target=feed, daemon=True))
    for t in threads:
        t.start()
    try:
        while True:
            if cancel is not None and cancel.is_set():
                raise Interrupted(f"{argv[0]} cancelled")
            try:
                line = lines.get(timeout=0.1)
            except queue.Empty:
                if proc.poll() is not None and proc.returncode < 0:
                    # make was killed; the compilers it left keep the pipe open.
                    break
                continue
            if line is None:
                break
            tail.append(line)
            if on_line is not None:
                on_line(line)
        returncode = proc.wait()
    except KeyboardInterrupt:
        _kill_group(proc)
        raise Interrupted(f"{argv[0]} interrupted") from None
    except BaseException:
        _kill_group(proc)
        raise
    if returncode != 0:
        # A killed make can leave compilers behind in its group.
        _kill_group(proc)
    return RunResult(tuple(argv), returncode, time.monotonic() - start, tuple(tail))
