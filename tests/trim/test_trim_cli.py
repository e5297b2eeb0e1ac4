"""``busyconf trim``: scan -> profile, budget -> removals, and bad input (exit 2, nothing written)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from busyconf.errors import UserError
from busyconf.model.inputs import load_any
from busyconf.size import estimator_for
from busyconf.trim import parse_size, plan_budget
from tests.image.image_helpers import CONTAINER_SHELL, CORPUS, REPO, run_cli, run_cli_subprocess


@pytest.mark.slow
def test_scan_writes_a_minimal_profile_that_keeps_what_scripts_run(tmp_path: Path) -> None:
    out = tmp_path / "app.toml"
    r = run_cli(["trim", "--scan", str(CORPUS), "--keep", "vi,less", "-o", str(out), "--json"])
    assert r.code == 0, r.stderr
    doc = json.loads(r.stdout)
    applets = set(doc["applets"])
    assert {"awk", "sh", "ash", "md5sum", "xargs", "find", "vi", "less"} <= applets
    assert "httpd" not in applets and "nginx" not in applets
    assert "nginx" in doc["not_applets"] and "/app/healthcheck" in doc["not_applets"]
    assert any(n["where"].endswith("docker-entrypoint.sh:22") for n in doc["notes"])
    loaded = load_any(out)
    assert loaded.profile is not None and loaded.profile.base == "allnoconfig"
    assert set(loaded.config.applets) == applets
    assert "TC" not in loaded.profile.config


@pytest.mark.slow
def test_scan_reports_on_stderr(tmp_path: Path) -> None:
    out = tmp_path / "app.toml"
    r = run_cli(["trim", "--scan", str(CORPUS / "app"), "--base", str(CONTAINER_SHELL), "-o", str(out)])
    assert r.code == 0, r.stderr
    assert "Dockerfile:17: 'nginx' is not a BusyBox applet" in r.stderr
    assert "docker-entrypoint.sh:38: command name comes from an expansion" in r.stderr
    assert "not in the base, added:" in r.stdout and "md5sum" in r.stdout
    text = out.read_text()
    assert 'base = "allnoconfig"' in text and "AWK = true" in text and "PS = false" not in text


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["trim", "--scan", "{bad}", "-o", "{out}"], "broken.sh:3:"),
        (
            ["trim", "--scan", "{corpus}", "--keep", "nosuchapplet", "-o", "{out}"],
            "--keep nosuchapplet: not an applet",
        ),
        (["trim", "--budget", "6OOK", "{profile}", "-o", "{out}"], "bad budget '6OOK'"),
        (["trim", "--budget", "-5", "{profile}", "-o", "{out}"], "bad budget '-5'"),
        (["trim", "--budget", "10K", "{profile}", "-o", "{out}"], "cannot reach 10.0K"),
        (["trim", "--scan", "{corpus}"], "-o configs/NAME.toml is required"),
        (["trim", "{profile}"], "either --scan"),
        (["trim", "--scan", "{corpus}", "-o", "{tmp}/x.txt"], "ends in .toml"),
    ],
)
def test_bad_input_is_one_line_exit_2_nothing_written(tmp_path: Path, argv: list[str], message: str) -> None:
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "fine.sh").write_text("#!/bin/sh\necho ok\n")
    (bad / "broken.sh").write_text('#!/bin/sh\nif [ -f x ]; then\n  echo "unterminated\nfi\n')
    out = tmp_path / "new.toml"
    subst = {
        "{bad}": str(bad),
        "{out}": str(out),
        "{corpus}": str(CORPUS),
        "{profile}": str(CONTAINER_SHELL),
        "{tmp}": str(tmp_path),
    }
    args = [subst.get(a, a).replace("{tmp}", str(tmp_path)) for a in argv]
    r = run_cli(args)
    assert r.code == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], r.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad"]


@pytest.mark.slow
def test_exit_code_as_a_process(tmp_path: Path) -> None:
    argv = ["trim", "--scan", str(CORPUS), "--keep", "nosuchapplet", "-o", "x.toml"]
    r = run_cli_subprocess(argv, tmp_path)
    assert r.code == 2 and r.stderr.count("\n") == 1 and "nosuchapplet" in r.stderr
    assert not (tmp_path / "x.toml").exists()


def test_existing_output_needs_force(tmp_path: Path) -> None:
    out = tmp_path / "app.toml"
    out.write_text("keep me")
    r = run_cli(["trim", "--scan", str(CORPUS), "-o", str(out)])
    assert r.code == 2 and "--force" in r.stderr and out.read_text() == "keep me"


def test_parse_size() -> None:
    assert parse_size("600K") == 614400
    assert parse_size("1.5M") == 1572864
    assert parse_size("90000") == 90000
    assert parse_size("600KiB") == 614400
    for bad in ("", "K", "6x", "1.2.3M", "-1K"):
        with pytest.raises(UserError):
            parse_size(bad)


@pytest.mark.slow
def test_budget_plan_reaches_the_budget_cheapest_loss_first() -> None:
    loaded = load_any(REPO / "configs" / "defconfig.toml")
    est = estimator_for(loaded.tree.release, "x86_64")
    budget = parse_size("600K")
    plan = plan_budget(loaded.tree, loaded.assignments, est, budget, keep=["ls"])
    assert plan.before > budget >= plan.after
    assert est.estimate(plan.config).total == plan.after
    assert {"sh", "ash", "ls"} <= set(plan.config.applets)
    assert all(r.saved > 0 for r in plan.removals)
    # nothing removed that the budget does not need: putting any one back breaks it
    for r in plan.removals[:10]:
        rest = [(x.symbol, "n") for x in plan.removals if x is not r]
        from busyconf.model.config import resolve

        assert est.estimate(resolve(loaded.tree, [*loaded.assignments, *rest])).total > budget


@pytest.mark.slow
def test_budget_writes_a_new_profile(tmp_path: Path) -> None:
    out = tmp_path / "small.toml"
    shutil_copy = (REPO / "configs" / "container-shell.toml").read_text()
    src = tmp_path / "container-shell.toml"
    src.write_text(shutil_copy)
    r = run_cli(["trim", "--budget", "250K", str(src), "--keep", "awk", "-o", str(out), "--json"])
    assert r.code == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["after"] <= 250 * 1024 < doc["before"]
    assert "AWK" not in [x["symbol"] for x in doc["removals"]]
    new = load_any(out)
    assert new.profile is not None and new.profile.description == load_any(src).profile.description  # type: ignore[union-attr]
    assert "awk" in new.config.applets
    est = estimator_for(new.tree.release, "x86_64")
    assert est.estimate(new.config).total == doc["after"]
    assert src.read_text() == shutil_copy
    r = run_cli(["trim", "--budget", "250K", str(src), "--keep", "awk"])
    assert r.code == 0 and "switch off" in r.stdout


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--arch", "pdp11"], "unknown arch 'pdp11'"),
        (["--arch", "x86_64,x86_64"], "named twice"),
        (["--arch", "armv5te", "--tag", "a/b"], "bad tag"),
        (["--arch", "x86_64", "--tag", "a:b"], "bad tag"),
    ],
)
def test_image_bad_input_fails_before_building(tmp_path: Path, extra: list[str], message: str) -> None:
    out = tmp_path / "layout"
    r = run_cli(["image", str(CONTAINER_SHELL), "-o", str(out), *extra])
    assert r.code == 2 and len(r.stderr.strip().splitlines()) == 1 and message in r.stderr, r.stderr
    assert not out.exists()


def test_image_refuses_a_directory_that_is_not_a_layout(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    r = run_cli(["image", str(CONTAINER_SHELL), "-o", str(tmp_path)])
    assert r.code == 2 and "not an OCI image layout" in r.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]
