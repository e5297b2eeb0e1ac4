"""Every starter profile builds for x86_64, and its binary lists exactly the
applets ``busyconf show --json`` promises."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import STARTERS, StarterBuild


@pytest.mark.slow
@pytest.mark.parametrize("starter", STARTERS, ids=lambda p: p.stem)
def test_starter_builds_and_lists_its_applets(
    starter: Path, starter_build: Callable[[Path], StarterBuild]
) -> None:
    built = starter_build(starter)
    assert built.manifest["applets"] == built.promised
    out = built.out
    listed = subprocess.run([out / "busybox", "--list"], capture_output=True, text=True, check=True)
    assert sorted(listed.stdout.split()) == sorted(built.promised)
    assert json.loads((out / "manifest.json").read_text()) == built.manifest
