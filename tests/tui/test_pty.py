"""The editor in a real pseudo-terminal: what Pilot cannot show (keys arriving as one burst)."""

from __future__ import annotations

import fcntl
import os
import re
import select
import shutil
import signal
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest

#: The whole editor as a real process on a pty.
pytestmark = pytest.mark.slow

CONFIGS = Path(__file__).resolve().parents[2] / "configs"
_ESCAPES = re.compile(rb"\x1b(\[[0-9;?<>=]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)|[()][0-9A-Za-z]|[=>78])")


class Editor:
    """``python -m busyconf PROFILE`` on a pty of ``cols`` x ``rows``."""

    def __init__(self, profile: Path, cols: int = 120, rows: int = 40) -> None:
        self.master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        env = {k: v for k, v in os.environ.items() if not k.startswith("TEXTUAL")}
        env.update(TERM="xterm-256color", COLUMNS=str(cols), LINES=str(rows))
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "busyconf", str(profile)],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=env,
            cwd=Path(__file__).resolve().parents[2],
            start_new_session=True,
        )
        os.close(slave)
        self.seen = b""

    def text(self) -> str:
        """Everything drawn so far, escape sequences removed."""
        return _ESCAPES.sub(b"", self.seen).decode("utf-8", "replace")

    def wait_for(self, marker: str, timeout: float = 30.0) -> bool:
        end = time.monotonic() + timeout
        start = len(self.seen)
        while time.monotonic() < end:
            ready, _, _ = select.select([self.master], [], [], 0.05)
            if ready:
                try:
                    self.seen += os.read(self.master, 65536)
                except OSError:
                    return False
            if marker in _ESCAPES.sub(b"", self.seen[start:]).decode("utf-8", "replace"):
                return True
        return False

    def type(self, data: str) -> None:
        os.write(self.master, data.encode())

    def close(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)
        os.close(self.master)


def test_slash_and_a_query_typed_in_one_burst_search_for_the_query(tmp_path: Path) -> None:
    """``/ls`` written at once: before, ``ls`` arrived before the query box had the focus and was lost."""
    profile = tmp_path / "router.toml"
    shutil.copy(CONFIGS / "router.toml", profile)
    editor = Editor(profile)
    try:
        assert editor.wait_for("Archival Utilities"), editor.text()[-2000:]
        time.sleep(0.3)
        editor.type("/ls")
        assert editor.wait_for("ls (14 kb)", timeout=10), editor.text()[-2000:]
    finally:
        editor.close()
    assert profile.read_bytes() == (CONFIGS / "router.toml").read_bytes()
