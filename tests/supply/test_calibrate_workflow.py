"""The calibration workflow: valid for GitHub, its matrix from the inputs, shards merged per CPU."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

REPO = Path(__file__).resolve().parents[2]
WORKFLOW = REPO / ".github" / "workflows" / "calibrate.yml"


def _workflow() -> Any:
    return YAML(typ="safe").load(WORKFLOW.read_text())


def _plan(tmp_path: Path, arches: str, shards: str = "3") -> tuple[subprocess.CompletedProcess[str], Path]:
    step = next(s for s in _workflow()["jobs"]["plan"]["steps"] if s.get("id") == "matrix")
    output = tmp_path / "github_output"
    env = dict(os.environ, GITHUB_OUTPUT=str(output), RELEASE="1.38.0", ARCHES=arches, SHARDS=shards)
    argv = ["bash", "-e", "-c", step["run"]]
    return subprocess.run(argv, cwd=tmp_path, env=env, capture_output=True, text=True), output


@pytest.mark.slow
def test_calibrate_workflow_validates_against_the_github_schema() -> None:
    exe = shutil.which("check-jsonschema") or pytest.fail("check-jsonschema missing: pip install -e .[test]")
    r = subprocess.run(
        [exe, "--builtin-schema", "vendor.github-workflows", str(WORKFLOW)], capture_output=True, text=True
    )
    assert r.returncode == 0, r.stdout + r.stderr


def test_plan_makes_every_cpu_times_every_shard(tmp_path: Path) -> None:
    r, output = _plan(tmp_path, "x86_64, aarch64")
    assert r.returncode == 0, r.stderr
    outputs = dict(line.split("=", 1) for line in output.read_text().splitlines())
    include = json.loads(outputs["matrix"])["include"]
    assert [(e["arch"], e["shard"], e["shards"]) for e in include] == [
        (a, k, 3) for a in ("x86_64", "aarch64") for k in (1, 2, 3)
    ]
    assert json.loads(outputs["arches"]) == ["x86_64", "aarch64"]
    jobs = _workflow()["jobs"]
    used = set(re.findall(r"\$\{\{[^}]*?\bmatrix\.([A-Za-z_]\w*)", json.dumps(jobs["calibrate"])))
    assert used <= set(include[0]), used - set(include[0])


def test_plan_refuses_a_name_that_could_reach_a_shell(tmp_path: Path) -> None:
    r, _ = _plan(tmp_path, "x86_64 $(touch MARK)")
    assert r.returncode != 0 and "refused name" in r.stderr
    assert not (tmp_path / "MARK").exists()


def test_shards_are_calibrated_and_merged_per_cpu() -> None:
    jobs = _workflow()["jobs"]
    calibrate, merge = jobs["calibrate"], jobs["merge"]
    assert "--shard" in json.dumps(calibrate["steps"]) and "--merge" in json.dumps(merge["steps"])
    assert "calibrate" in merge["needs"]
    upload = next(s for s in calibrate["steps"] if s.get("uses", "").startswith("actions/upload-artifact"))
    download = next(s for s in merge["steps"] if s.get("uses", "").startswith("actions/download-artifact"))
    pattern = download["with"]["pattern"].replace("${{ matrix.arch }}", "x86_64").replace("*", ".*")
    name = upload["with"]["name"].replace("${{ matrix.arch }}", "x86_64")
    assert re.fullmatch(pattern, re.sub(r"\$\{\{[^}]*\}\}", "2", name))
    # Inputs and matrix values reach the shell only through env.
    for job in jobs.values():
        for s in job["steps"]:
            assert "${{" not in s.get("run", ""), s["run"]
