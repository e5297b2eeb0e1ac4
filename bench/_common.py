"""Helpers shared by the benchmark scripts (not part of the package)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from busyconf.build import config_lines  # noqa: E402
from busyconf.model.kconfig import load_tree  # noqa: E402
from busyconf.source import SourceCache, tree_version  # noqa: E402


def busyconf_build(what: list[str], arch: str, out: Path) -> dict[str, object]:
    """``busyconf build WHAT --arch ARCH -j2 -o OUT --json``: its manifest, or ``{"error": last line}``."""
    proc = subprocess.run(
        [sys.executable, "-m", "busyconf", "build", *what, "--arch", arch, "-j2", "-o", str(out), "--json"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        check=False,
    )
    if proc.returncode != 0:
        return {"error": (proc.stderr.strip().splitlines() or ["failed"])[-1]}
    manifest: dict[str, object] = json.loads(proc.stdout)
    return manifest


def source_tree(release: str) -> Path:
    cache = SourceCache()
    if not cache.has(release):
        cache.fetch(release)
    return cache.tree(release)


def defconfig(tree: Path) -> tuple[str, list[str]]:
    """BusyBox's defconfig with TC off (it does not build against current headers)."""
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            ["make", "-C", str(tree), f"O={tmp}", "defconfig"],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            check=True,
        )
        text = (Path(tmp) / ".config").read_text()
    text = config_lines.set_values(text, {"TC": "n"})
    return text, load_tree(tree_version(tree)).enabled_applets(config_lines.parse(text))
