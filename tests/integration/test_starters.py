"""Every starter profile builds for x86_64, and its binary lists exactly the
applets ``busyconf show --json`` promises."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from busyconf.cli import main
from busyconf.source import SourceCache

CONFIGS = Path(__file__).resolve().parents[2] / "configs"
STARTERS = sorted(CONFIGS.glob("*.toml"))


@pytest.mark.slow
@pytest.mark.parametrize("starter", STARTERS, ids=lambda p: p.stem)
def test_starter_builds_and_lists_its_applets(
    starter: Path, tmp_path: Path, cache: SourceCache, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["show", str(starter), "--json"]) == 0
    promised = json.loads(capsys.readouterr().out)["applets"]
    out = tmp_path / "out"
    assert main(["build", str(starter), "--arch", "x86_64", "-o", str(out), "--json"]) == 0
    manifest = json.loads(capsys.readouterr().out)
    assert manifest["applets"] == promised
    listed = subprocess.run([out / "busybox", "--list"], capture_output=True, text=True, check=True)
    assert sorted(listed.stdout.split()) == sorted(promised)
    assert json.loads((out / "manifest.json").read_text()) == manifest
