"""Fixtures for images and trimming: one build tree per CPU per session.

Builds share the build root of ``busyconf build`` with the other test
modules, so each CPU's tree is built from scratch at most once.
"""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def private_builds() -> Path:
    """The shared build root (one build tree per CPU for the whole test run)."""
    from busyconf.build.builder import cache_build_root

    return cache_build_root()
