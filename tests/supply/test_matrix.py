"""``busyconf matrix`` in its three formats, the GitHub workflow it drives (checked against
check-jsonschema's vendored schemas), and the size gate against a real build's manifest."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from busyconf.build.arch import all_arches
from busyconf.cli import main

REPO = Path(__file__).resolve().parents[2]
CONFIGS = REPO / "configs"
STARTERS = sorted(CONFIGS.glob("*.toml"))
WORKFLOW = REPO / ".github" / "workflows" / "build.yml"
KEYS = {"profile", "name", "arch", "release", "toolchain", "artifact", "output"}
SUPPORTED = [a.name for a in all_arches().values() if a.supported]
#: container-shell plus two applets: about 2 % more (x86_64: +6,579 bytes by the table, +6,512 measured).
GROWN = '[profile]\nbusybox = "1.38.0"\narch = "x86_64"\nbase = "container-shell"\n[config]\n' + "".join(
    f"{name} = true\n" for name in ("DIFF", "CMP")
)


def _yaml(text: str) -> Any:
    return YAML(typ="safe").load(text)


def _matrix(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    rel = [str(p.relative_to(REPO)) for p in STARTERS]
    old = Path.cwd()
    os.chdir(REPO)
    try:
        assert main(["matrix", *rel, *args]) == 0
    finally:
        os.chdir(old)
    out = capsys.readouterr()
    assert out.err == ""
    return out.out


def _schema(name: str, path: Path) -> subprocess.CompletedProcess[str]:
    exe = shutil.which("check-jsonschema") or pytest.fail(
        "check-jsonschema missing: pip install -e '.[test]'"
    )
    return subprocess.run([exe, "--builtin-schema", name, str(path)], capture_output=True, text=True)


# -- the matrix --------------------------------------------------------------------------------------


def test_default_is_each_profiles_own_arch(capsys: pytest.CaptureFixture[str]) -> None:
    jobs = json.loads(_matrix(capsys, "--format", "json"))
    assert [j["name"] for j in jobs] == [p.stem for p in STARTERS]
    arches = {j["name"]: j["arch"] for j in jobs}
    assert arches["router"] == "mipsel" and arches["container-shell"] == "x86_64"
    for j in jobs:
        assert set(j) == KEYS
        assert j["profile"] == f"configs/{j['name']}.toml" and j["output"] == f"out/{j['name']}-{j['arch']}"
        assert j["artifact"] == f"busybox-{j['name']}-{j['arch']}-{j['release']}"
        assert j["release"] == "1.38.0" and j["toolchain"] == "zig"


def test_github_format_is_one_line_for_every_cpu(capsys: pytest.CaptureFixture[str]) -> None:
    text = _matrix(capsys, "--arch", "all", "--format", "github")
    assert text.count("\n") == 1 and text.endswith("\n")
    include = json.loads(text)["include"]
    assert len(include) == len(STARTERS) * len(SUPPORTED) == 52
    assert {(j["name"], j["arch"]) for j in include} == {(p.stem, a) for p in STARTERS for a in SUPPORTED}
    assert len({j["artifact"] for j in include}) == len(include)
    assert include == json.loads(_matrix(capsys, "--arch", "all", "--format", "json"))


def test_arch_list_in_cpu_order(capsys: pytest.CaptureFixture[str]) -> None:
    include = json.loads(_matrix(capsys, "--arch", "aarch64,x86_64,aarch64"))["include"]
    assert [(j["name"], j["arch"]) for j in include][:2] == [
        ("container-shell", "x86_64"),
        ("container-shell", "aarch64"),
    ]
    assert len(include) == 2 * len(STARTERS)


@pytest.mark.slow
def test_gitlab_child_pipeline_validates(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    text = _matrix(capsys, "--arch", "all", "--format", "gitlab")
    (tmp_path / "child.yml").write_text(text)
    r = _schema("vendor.gitlab-ci", tmp_path / "child.yml")
    assert r.returncode == 0, r.stdout + r.stderr
    doc = _yaml(text)
    entries = doc["build"]["parallel"]["matrix"]
    jobs = json.loads(_matrix(capsys, "--arch", "all", "--format", "json"))
    assert entries == [{k.upper(): v for k, v in j.items()} for j in jobs]
    # One value per variable, so GitLab's cross product of each entry is exactly one job.
    assert all(isinstance(v, str) for e in entries for v in e.values())
    script = " ".join(doc["build"]["script"])
    assert all(f'"${k.upper()}"' in script for k in ("profile", "arch", "toolchain", "output"))


def test_unsafe_profile_path_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "a;b.toml"
    shutil.copy(CONFIGS / "container-shell.toml", bad)
    assert main(["matrix", str(bad)]) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and "cannot go into a CI file" in err


# -- the workflow ------------------------------------------------------------------------------------


@pytest.mark.slow
def test_workflow_validates_against_the_github_schema() -> None:
    r = _schema("vendor.github-workflows", WORKFLOW)
    assert r.returncode == 0, r.stdout + r.stderr


@pytest.mark.slow
def test_workflow_matrix_step_output_drives_the_build_job(tmp_path: Path) -> None:
    """Run the plan job's matrix step here, then check every ${{ matrix.X }} the build job uses."""
    wf = _yaml(WORKFLOW.read_text())
    plan, job = wf["jobs"]["plan"], wf["jobs"]["build"]
    step = next(s for s in plan["steps"] if s.get("id") == "matrix")
    assert plan["outputs"]["matrix"] == "${{ steps.matrix.outputs.matrix }}"
    assert job["needs"] == "plan"
    assert job["strategy"]["matrix"] == "${{ fromJSON(needs.plan.outputs.matrix) }}"
    # `busyconf` on PATH is this tree's (what `pip install .` gives the runner).
    shim = tmp_path / "bin"
    shim.mkdir()
    (shim / "busyconf").write_text(f'#!/bin/sh\nexec "{sys.executable}" -m busyconf "$@"\n')
    (shim / "busyconf").chmod(0o755)
    output = tmp_path / "github_output"
    env = dict(os.environ, GITHUB_OUTPUT=str(output), PATH=f"{shim}{os.pathsep}{os.environ['PATH']}")
    r = subprocess.run(["bash", "-e", "-c", step["run"]], cwd=REPO, env=env, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    lines = output.read_text().splitlines()
    assert len(lines) == 1 and lines[0].startswith("matrix=")
    include = json.loads(lines[0].removeprefix("matrix="))["include"]
    assert len(include) == len(STARTERS) * len(SUPPORTED)
    used = set(re.findall(r"\$\{\{[^}]*?\bmatrix\.([A-Za-z_][A-Za-z0-9_-]*)", json.dumps(job)))
    assert {"profile", "arch", "toolchain", "output", "artifact", "name"} <= used
    for entry in include:
        assert used <= set(entry), used - set(entry)
    # Profile values reach the shell only through env, never pasted into a script.
    for s in job["steps"]:
        assert "matrix." not in s.get("run", ""), s["run"]


# -- the size gate against a real build ------------------------------------------------------------


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """container-shell for x86_64, built once (incremental in the shared build tree); the grown profile."""
    base = tmp_path_factory.mktemp("gate")
    shutil.copy(CONFIGS / "container-shell.toml", base / "container-shell.toml")
    (base / "grown.toml").write_text(GROWN)
    r = _run(["build", "container-shell.toml", "--arch", "x86_64", "-o", "out", "-j", "2"], base)
    assert r.returncode == 0, r.stderr
    return base


def _run(argv: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "busyconf", *argv], cwd=cwd, capture_output=True, text=True)


@pytest.mark.slow
def test_same_profile_does_not_grow(built: Path) -> None:
    r = _run(
        ["size", "container-shell.toml", "--against", "out/manifest.json", "--max-growth", "0", "--json"],
        built,
    )
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    manifest = json.loads((built / "out" / "manifest.json").read_text())
    assert doc["old_size"] == doc["new_size"] == manifest["binary_size"]
    assert doc["size_from"] == "estimated" and doc["symbols"] == []


@pytest.mark.slow
def test_two_percent_growth_fails_a_one_percent_budget(built: Path) -> None:
    r = _run(["size", "grown.toml", "--against", "out/manifest.json", "--max-growth", "1%"], built)
    assert r.returncode == 1, r.stdout + r.stderr
    table = r.stdout
    assert "estimated" in table and "OVER" in table
    for name in ("DIFF", "CMP"):
        assert re.search(rf"\b{name}\b.*\bn\b.*\by\b.*\+[\d,]+", table), name
    # Sorted by growth: diff costs the most.
    assert table.index("DIFF") < table.index("CMP")
    assert len(r.stderr.splitlines()) == 1 and "over --max-growth 1%" in r.stderr
    r = _run(["size", "grown.toml", "--against", "out/manifest.json", "--max-growth", "1%", "--json"], built)
    assert r.returncode == 1
    doc = json.loads(r.stdout)
    assert 1.5 < doc["growth_percent"] < 2.5 and doc["over_budget"] is True
    assert {s["name"] for s in doc["symbols"]} == {"DIFF", "CMP"}
    assert doc["growth"] == sum(s["delta"] for s in doc["symbols"]) + doc["other_bytes"]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("limit", "code"), [("5%", 0), ("2.5 %", 0), ("0.5 %", 1), ("4K", 1), ("8K", 0), ("2048", 1)]
)
def test_budget_spellings(built: Path, limit: str, code: int) -> None:
    r = _run(["size", "grown.toml", "--against", "out/manifest.json", "--max-growth", limit], built)
    assert r.returncode == code, r.stdout + r.stderr


@pytest.mark.slow
def test_measured_growth_fails_too(built: Path) -> None:
    """--measure: the exact engine's size of the grown profile against the build's real size."""
    r = _run(
        ["size", "grown.toml", "--against", "out/manifest.json", "--max-growth", "1%", "--measure", "--json"],
        built,
    )
    assert r.returncode == 1, r.stderr
    doc = json.loads(r.stdout)
    assert doc["size_from"] == "measured" and 1.5 < doc["growth_percent"] < 3
    r = _run(
        ["size", "grown.toml", "--against", "out/manifest.json", "--max-growth", "5%", "--measure"], built
    )
    assert r.returncode == 0, r.stderr
    assert "measured (exact engine)" in r.stdout
