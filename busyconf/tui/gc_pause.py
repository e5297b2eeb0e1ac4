"""The garbage collector held off while the editor starts (see docs/design.md, "The editor's start-up")."""

from __future__ import annotations

import gc


def pause_gc() -> None:
    """Start-up makes a few hundred thousand objects (Textual, the Kconfig tree) that all
    live on: the collector's passes over them find nothing and cost about 60 ms here."""
    gc.disable()


def resume_gc() -> None:
    """After the first paint: what start-up made is set aside for good (``gc.freeze``), so
    later collections, while keys are answered, do not walk it either."""
    if not gc.isenabled():
        gc.freeze()
        gc.enable()
