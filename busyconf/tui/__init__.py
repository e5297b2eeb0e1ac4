"""The interactive editor: ``busyconf [PROFILE]``.

:func:`make_app` builds the app from its collaborators (tests and the CLI use
it alike); :func:`run_tui` runs it and returns the exit code.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from busyconf.source import SourceCache
    from busyconf.tui.app import BusyconfApp


def make_app(
    profile_path: Path | str,
    *,
    cache: SourceCache | None = None,
    out_dir: Path | None = None,
    build_fn: Any = None,
    recovery_root: Path | None = None,
) -> BusyconfApp:
    """The app for ``profile_path``.

    Raises BusyconfError for a bad profile; a missing source tree opens a
    screen that fetches it.

    Args:
        profile_path: the profile to edit; a missing file starts a new profile there.
        cache: where BusyBox sources are (default: the per-user cache).
        out_dir: where the build screen writes artifacts (default ``out/NAME-ARCH``).
        build_fn: replaces ``busyconf.build.builder`` (for screenshots of failure paths).
        recovery_root: where recovery files go (default: the cache's ``recovery`` folder).
    """
    from busyconf.errors import SourceError
    from busyconf.model.profile import load_profile
    from busyconf.source import DEFAULT_RELEASE
    from busyconf.tui.app import BusyconfApp
    from busyconf.tui.session import Session

    path = Path(profile_path)
    try:
        session = Session.open(path, cache)
    except SourceError as e:
        release = load_profile(path).busybox if path.exists() else DEFAULT_RELEASE
        return BusyconfApp(path, cache, out_dir, build_fn, missing=(release, e), recovery_root=recovery_root)
    return BusyconfApp(path, cache, out_dir, build_fn, session=session, recovery_root=recovery_root)


def run_tui(profile_path: Path) -> int:
    """Run the editor on ``profile_path``; bad profiles raise ProfileError before it starts.

    However the app ends, changes the user did not save or discard go to a
    recovery file that the next start offers.
    """
    # Esc answers in 25 ms, not Textual's 100 (menuconfig waits 0): Textual reads this on import.
    os.environ.setdefault("ESCDELAY", "25")
    from busyconf.tui.gc_pause import pause_gc, resume_gc

    pause_gc()
    try:
        app = make_app(profile_path)
        result = app.run()
    finally:
        resume_gc()
        if app.kept is None:
            app.keep_unsaved("the editor stopped without asking")
    if app.kept is not None:
        try:
            print(f"busyconf: unsaved changes kept in {app.kept}", file=sys.stderr)
        except OSError:
            # The terminal is gone (that is usually why they were kept).
            pass
    return int(result or 0)


__all__ = ["make_app", "run_tui"]
