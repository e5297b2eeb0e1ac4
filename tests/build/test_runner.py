"""make runner: parsing, failure, cancellation (fake Makefiles for what a real build cannot do on demand)."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest

from busyconf.build import runner
from busyconf.build.testsuite import parse_testsuite
from busyconf.errors import Interrupted


def test_parse_step() -> None:
    assert runner.parse_step("  CC      libbb/xfuncs.o") == runner.MakeStep("CC", "libbb/xfuncs.o")
    assert runner.parse_step("  LINK    busybox_unstripped") == runner.MakeStep("LINK", "busybox_unstripped")
    assert runner.parse_step("make[1]: Entering directory") is None
    assert runner.parse_step("  Support --version (FEATURE_VERSION) [Y/n/?] y") is None


def test_parse_testsuite() -> None:
    lines = ["PASS: ls -1", "FAIL: sed NUL", "SKIPPED: mdev", "junk", "PASS: sort"]
    assert parse_testsuite(lines) == (2, 1, 1, ("sed NUL",))


def test_failed_make_reports_status_and_tail(tmp_path: Path) -> None:
    (tmp_path / "Makefile").write_text("all:\n\t@echo step one\n\t@echo 'error: it broke' >&2; exit 3\n")
    seen: list[str] = []
    res = runner.run(["make", "-s"], cwd=tmp_path, on_line=seen.append)
    assert res.returncode != 0
    assert "error: it broke" in res.tail and seen[0] == "step one"
    assert res.command_line == "make -s"


def test_stdin_is_devnull_and_no_shell(tmp_path: Path) -> None:
    marker = tmp_path / "marker"
    res = runner.run(["cat", "-"], cwd=tmp_path)
    assert res.returncode == 0 and res.tail == ()
    res = runner.run(["echo", f"$(touch {marker})"], cwd=tmp_path)
    assert not marker.exists() and res.tail == (f"$(touch {marker})",)


def test_stdout_to_a_file_keeps_stderr_as_lines(tmp_path: Path) -> None:
    """fixdep's output is a file: stdout goes there whole, and only stderr comes back as lines."""
    out = tmp_path / "out.cmd"
    seen: list[str] = []
    script = "echo kept; echo warned >&2; echo also kept"
    res = runner.run(["sh", "-c", script], cwd=tmp_path, stdout_to=out, on_line=seen.append)
    assert res.returncode == 0
    assert out.read_text() == "kept\nalso kept\n"
    assert seen == ["warned"]


@pytest.mark.slow
def test_cancel_kills_the_process_group(tmp_path: Path) -> None:
    pidfile = tmp_path / "child.pid"
    # make starts a child that outlives a plain kill of make itself.
    (tmp_path / "Makefile").write_text(f"all:\n\t@sh -c 'echo $$$$ > {pidfile}; exec sleep 60'\n")
    cancel = threading.Event()
    threading.Timer(1.0, cancel.set).start()
    start = time.monotonic()
    with pytest.raises(Interrupted):
        runner.run(["make"], cwd=tmp_path, cancel=cancel)
    assert time.monotonic() - start < 10
    child = int(pidfile.read_text())
    time.sleep(0.2)
    with pytest.raises(ProcessLookupError):
        os.kill(child, 0)
