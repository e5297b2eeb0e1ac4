"""Helpers for the image tests: the CLI in-process or as a subprocess, paths."""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
CORPUS = Path(__file__).parent / "corpus"
CONTAINER_SHELL = REPO / "configs" / "container-shell.toml"


@dataclass(frozen=True)
class Run:
    code: int
    stdout: str
    stderr: str


def run_cli(argv: Sequence[str], monkeypatch: pytest.MonkeyPatch | None = None) -> Run:
    """``busyconf ARGV`` in this process."""
    from busyconf.cli import main

    out, err = io.StringIO(), io.StringIO()
    # The consoles write to sys.stdout/sys.stderr as they are at print time; setting their
    # `file` instead would leave them bound to this call's streams after the call.
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return Run(code, out.getvalue(), err.getvalue())


def run_cli_subprocess(argv: Sequence[str], cwd: Path) -> Run:
    """``busyconf ARGV`` as a separate process (for exit codes and stderr as users see them)."""
    code = (
        "import sys\n"
        "from image_helpers import run_cli\n"
        "r = run_cli(sys.argv[1:])\n"
        "sys.stdout.write(r.stdout); sys.stderr.write(r.stderr); sys.exit(r.code)\n"
    )
    env = dict(os.environ, PYTHONPATH=f"{REPO}:{Path(__file__).parent}")
    proc = subprocess.run(
        [sys.executable, "-c", code, *argv], cwd=cwd, capture_output=True, text=True, env=env, timeout=300
    )
    return Run(proc.returncode, proc.stdout, proc.stderr)


def image_json(argv: Sequence[str]) -> dict[str, Any]:
    r = run_cli([*argv, "--json"])
    assert r.code == 0, r.stderr
    data: dict[str, Any] = json.loads(r.stdout)
    return data


def skopeo_inspect(*args: str) -> Any:
    """What ``skopeo inspect ARGS`` prints, parsed."""
    out = subprocess.run(["skopeo", "inspect", *args], capture_output=True, text=True, check=True).stdout
    return json.loads(out)
