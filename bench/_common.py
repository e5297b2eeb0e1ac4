"""Helpers shared by the benchmark scripts (not part of the package)."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from busyconf.build import config_lines  # noqa: E402
from busyconf.model.kconfig import load_tree  # noqa: E402
from busyconf.source import SourceCache, tree_version  # noqa: E402


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
