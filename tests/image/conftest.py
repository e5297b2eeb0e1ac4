"""Fixtures for images and trimming: one build tree per CPU per session.

Builds go to a session-private build root (``cache_build_root`` patched), so
they never wait on, or disturb, a build someone else runs in the user's cache;
zig's own musl cache in ``~/.cache/zig`` is shared, which keeps them fast.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def private_builds(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A build root of our own for the whole session."""
    import importlib

    build_module = importlib.import_module("busyconf.build.build")
    root = tmp_path_factory.mktemp("image-builds")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(build_module, "cache_build_root", lambda: root)
        yield root
