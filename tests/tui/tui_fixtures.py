"""Profiles for the TUI tests, and a stand-in builder for snapshots.

``fake_build`` stands in for ``busyconf.build.builder`` and finishes at once.

Snapshots need the same pixels on every run; a real build's log and timing
never repeat. The real build is exercised in ``test_build_screen.py``.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

from textual.app import App
from textual.screen import Screen

from busyconf.build import OutputEvent, PhaseEvent, ProgressEvent
from busyconf.build.runner import MakeStep

PROFILE = """\
[profile]
description = "TUI test profile"
busybox = "1.38.0"
arch = "x86_64"
base = "defconfig"

[config]
FEATURE_LS_COLOR = false

[build]
toolchain = "zig"
"""

NO_LS = PROFILE.replace("FEATURE_LS_COLOR = false", "LS = false")


def current_screen(app: App[Any]) -> Screen[Any]:
    """``app.screen`` read afresh.

    After ``assert isinstance(app.screen, SomeModal)`` mypy keeps that narrowing
    across the key presses that close the modal, and would call a later
    ``app.screen is main`` always false.
    """
    return app.screen


FILES = ["applets/applets.o", "coreutils/cat.o", "coreutils/echo.o", "coreutils/ls.o", "libbb/appletlib.o"]


def fake_build(
    config_text: str, applets: list[str], release: str, arch: str, toolchain: str, **kw: Any
) -> Any:
    progress = kw["progress"]
    progress(PhaseEvent("configure", "make oldconfig"))
    progress(PhaseEvent("compile", f"make -j2 for {arch}"))
    for i, name in enumerate(FILES, 1):
        progress(OutputEvent(f"  CC      {name}"))
        progress(ProgressEvent(i, len(FILES), MakeStep("CC", name)))
    progress(OutputEvent("  LINK    busybox_unstripped"))
    progress(PhaseEvent("verify", "running busybox --list and smoke checks"))
    progress(PhaseEvent("done", "busybox: 1,187,432 bytes"))
    manifest = SimpleNamespace(binary_size=1_187_432, applets=tuple(applets), verified_with="native")
    return SimpleNamespace(binary=Path(kw["out_dir"]) / "busybox", manifest=manifest, seconds=31.4)
