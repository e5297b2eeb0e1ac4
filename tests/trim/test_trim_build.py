"""Trim to the corpus, build the trimmed profile, run every script with only its applets."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from busyconf.build import BuildResult, build
from busyconf.model.prepare import prepare_build
from busyconf.source import SourceCache
from tests.image.image_helpers import CORPUS, run_cli

pytestmark = pytest.mark.slow

#: Scripts of the corpus that run anywhere (the rest mount, configure networks, or are Dockerfiles).
RUNNABLE = ("app/docker-entrypoint.sh", "app/healthcheck", "app/backup.sh", "app/report.sh")


@pytest.fixture(scope="session")
def trimmed(private_builds: Path, tmp_path_factory: pytest.TempPathFactory) -> BuildResult:
    base = tmp_path_factory.mktemp("trimmed")
    profile = base / "app.toml"
    # The app and rootfs corpus; corpus/scripts has its own proof (test_trim_proof.py).
    r = run_cli(["trim", "--scan", str(CORPUS / "app"), str(CORPUS / "rootfs"), "-o", str(profile)])
    assert r.code == 0, r.stderr
    p = prepare_build(profile, arch="x86_64")
    return build(
        p.dotconfig,
        list(p.config.applets),
        p.release,
        p.arch,
        p.toolchain,
        out_dir=base / "out",
        source_tree=SourceCache().tree(p.release),
    )


def _bin_dir(binary: Path, applets: list[str], dest: Path) -> Path:
    dest.mkdir()
    for name in applets:
        (dest / name).symlink_to(binary)
    return dest


def _run(binary: Path, bindir: Path, script: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(binary), "sh", str(CORPUS / script)],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={"PATH": str(bindir), "HOME": str(cwd)},
        timeout=120,
    )


def test_trimmed_binary_is_small_and_keeps_awk(trimmed: BuildResult) -> None:
    applets = set(trimmed.manifest.applets)
    assert {"awk", "sh", "md5sum", "xargs"} <= applets
    assert len(applets) < 60 and "httpd" not in applets and "vi" not in applets


@pytest.mark.parametrize("script", RUNNABLE)
def test_every_script_runs_with_only_the_trimmed_applets(
    trimmed: BuildResult, script: str, tmp_path: Path
) -> None:
    bindir = _bin_dir(trimmed.binary, list(trimmed.manifest.applets), tmp_path / "bin")
    work = tmp_path / "work"
    work.mkdir()
    if script == "app/healthcheck":
        assert _run(trimmed.binary, bindir, "app/docker-entrypoint.sh", work).returncode == 0
    proc = _run(trimmed.binary, bindir, script, work)
    assert "not found" not in proc.stderr, proc.stderr
    assert proc.returncode == 0, proc.stderr


def test_a_missing_applet_would_be_caught(trimmed: BuildResult, tmp_path: Path) -> None:
    """The check above can fail: without awk, the entrypoint says so."""
    applets = [a for a in trimmed.manifest.applets if a != "awk"]
    bindir = _bin_dir(trimmed.binary, applets, tmp_path / "bin")
    work = tmp_path / "work"
    work.mkdir()
    proc = _run(trimmed.binary, bindir, "app/docker-entrypoint.sh", work)
    assert "awk: not found" in proc.stderr
    assert os.access(CORPUS / "app" / "healthcheck", os.X_OK)
