"""The proof of ``trim --scan``: every script of the corpus, run in a throwaway root whose only tools
are its own trimmed binary (shell included), prints the same and exits the same as under defconfig.

Each script of ``corpus/scripts`` is trimmed alone (``--base configs/container-shell.toml``, as a
user trims an entrypoint for that starter) and built for x86_64; the builds reuse the shared build
tree, so each recompiles only what its config changes. The roots are the image's rootfs
(``make_rootfs``: the binary, its applet links, /etc) and the script runs through ``chroot`` as root,
in a fresh work directory inside the root. Its reference is the session's defconfig build
(``starter_build``), where the script must itself succeed or fail as it means to.
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import subprocess
import sys
import time
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from busyconf.image import make_rootfs
from busyconf.image.rootfs import write_dir
from tests.conftest import StarterBuild
from tests.image.image_helpers import CONTAINER_SHELL, CORPUS, REPO

pytestmark = pytest.mark.slow

SCRIPTS = sorted((CORPUS / "scripts").glob("*.sh"))
DEFCONFIG = REPO / "configs" / "defconfig.toml"
PATH = "/bin:/sbin:/usr/bin:/usr/sbin"
#: Scripts that end with a deliberate failure, so that the status is compared, not only 0 == 0.
FAILING = {"functions-math.sh": 3}


@dataclass(frozen=True)
class Outcome:
    code: int
    stdout: str
    stderr: str


def _cli(*args: str, cwd: Path) -> dict[str, object]:
    proc = subprocess.run(
        [sys.executable, "-m", "busyconf", *args, "--json"],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=1200,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    doc: dict[str, object] = json.loads(proc.stdout)
    return doc


def _root(binary: Path, manifest: dict[str, object], dest: Path) -> Path:
    """The image's rootfs for ``binary`` unpacked at ``dest``: the only tools a script there has."""
    rootfs = make_rootfs(
        binary,
        str(manifest["arch"]),
        int(str(manifest["source_date_epoch"])),
        release=str(manifest["release"]),
    )
    write_dir(rootfs, dest)
    return dest


def run_in(root: Path, script: Path, name: str) -> Outcome:
    """``script`` run by the root's own /bin/sh through chroot, in a new work directory of the root."""
    work = root / "work" / name
    work.mkdir(parents=True)
    shutil.copy(script, root / "work" / f"{name}.script")
    proc = subprocess.run(
        ["chroot", str(root), "/bin/sh", "-c", f'cd "/work/{name}" && exec /bin/sh "/work/{name}.script"'],
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": PATH, "HOME": "/root", "LANG": "C"},
    )
    return Outcome(proc.returncode, proc.stdout, proc.stderr)


@pytest.fixture(scope="module")
def defconfig_root(
    starter_build: Callable[[Path], StarterBuild], tmp_path_factory: pytest.TempPathFactory
) -> Path:
    built = starter_build(DEFCONFIG)
    return _root(built.out / "busybox", built.manifest, tmp_path_factory.mktemp("defconfig") / "root")


@dataclass(frozen=True)
class Trimmed:
    root: Path
    applets: list[str]
    features: list[str]  # the FEATURE_*/ASH_* symbols the trimmed profile switches on
    binary_size: int


@pytest.fixture(scope="module")
def trimmed(tmp_path_factory: pytest.TempPathFactory) -> Callable[[Path], Trimmed]:
    """``trimmed(script)``: the script trimmed alone from container-shell, built, unpacked as a root."""
    made: dict[Path, Trimmed] = {}

    def get(script: Path) -> Trimmed:
        if script not in made:
            base = tmp_path_factory.mktemp(f"trim-{script.stem}")
            profile = base / f"{script.stem}.toml"
            plan = _cli(
                "trim", "--scan", str(script), "--base", str(CONTAINER_SHELL), "-o", str(profile), cwd=base
            )
            manifest = _cli("build", str(profile), "--arch", "x86_64", "-j", "2", "-o", "out", cwd=base)
            config = tomllib.loads(profile.read_text())["config"]
            features = sorted(
                k for k, v in config.items() if v is True and k.startswith(("FEATURE_", "ASH_"))
            )
            made[script] = Trimmed(
                _root(base / "out" / "busybox", manifest, base / "root"),
                list(plan["applets"]),  # type: ignore[call-overload]
                features,
                int(str(manifest["binary_size"])),
            )
        return made[script]

    return get


def test_the_corpus_is_there() -> None:
    assert 8 <= len(SCRIPTS) <= 12
    for script in SCRIPTS:
        assert script.read_text().startswith("#!/bin/sh\n"), script.name


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.stem)
def test_script_gives_the_same_on_its_trimmed_binary_as_on_defconfig(
    script: Path, defconfig_root: Path, trimmed: Callable[[Path], Trimmed]
) -> None:
    full = run_in(defconfig_root, script, script.stem)
    assert full.code == FAILING.get(script.name, 0), full.stderr
    assert full.stdout.strip(), "a script that prints nothing proves nothing"
    small = trimmed(script)
    got = run_in(small.root, script, script.stem)
    print(
        f"{script.name}: {len(small.applets)} applets {' '.join(small.applets)}; "
        f"features {' '.join(small.features)}; binary {small.binary_size:,} B"
    )
    assert (got.code, got.stdout) == (full.code, full.stdout), got.stderr


def test_a_missing_option_would_be_caught(
    defconfig_root: Path, trimmed: Callable[[Path], Trimmed], tmp_path: Path
) -> None:
    """The comparison can fail: rotate-logs' own trimmed profile without find's -mtime (the starter
    container-shell as it was) dies where defconfig compresses."""
    script = CORPUS / "scripts" / "rotate-logs.sh"
    full = run_in(defconfig_root, script, "no-mtime")
    profile = tmp_path / "no-mtime.toml"
    text = (trimmed(script).root.parent / "rotate-logs.toml").read_text()
    assert "FEATURE_FIND_MTIME = true" in text
    profile.write_text(text.replace("FEATURE_FIND_MTIME = true", "FEATURE_FIND_MTIME = false"))
    manifest = _cli("build", str(profile), "--arch", "x86_64", "-j", "2", "-o", "out", cwd=tmp_path)
    got = run_in(_root(tmp_path / "out" / "busybox", manifest, tmp_path / "root"), script, "no-mtime")
    assert (got.code, got.stdout) != (full.code, full.stdout)
    assert "unrecognized: -mtime" in got.stderr


def test_container_shell_image_compresses_old_files_and_leaves_new_ones(
    starter_build: Callable[[Path], StarterBuild], tmp_path: Path
) -> None:
    """The everyday Dockerfile line, in container-shell's own rootfs."""
    built = starter_build(CONTAINER_SHELL)
    root = _root(built.out / "busybox", built.manifest, tmp_path / "root")
    work = root / "work" / "logs"
    work.mkdir(parents=True)
    (work / "old.log").write_text("old\n")
    (work / "new.log").write_text("new\n")
    three_days_ago = time.time() - 3 * 86400
    os.utime(work / "old.log", (three_days_ago, three_days_ago))
    line = "cd /work/logs && find . -type f -mtime +1 -exec gzip {} \\;"
    proc = subprocess.run(
        ["chroot", str(root), "/bin/sh", "-c", line],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": PATH},
    )
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in work.iterdir()) == ["new.log", "old.log.gz"]
    assert (work / "new.log").read_text() == "new\n"
    assert gzip.decompress((work / "old.log.gz").read_bytes()) == b"old\n"
