"""What every command prints with: the consoles, user text made safe, JSON, the build progress bar.

Imports no command module (the commands import this).
"""

from __future__ import annotations

import json
import re
import sys
from typing import Any

from rich.console import Console
from rich.markup import escape

# emoji=False: ":x:" in a description or a path is text, not an emoji code.
out = Console(highlight=False, soft_wrap=True, emoji=False)
err = Console(stderr=True, highlight=False, soft_wrap=True, emoji=False)

# C0 and C1 controls (newlines, ESC, 8-bit CSI) and the bidi overrides that reorder what a line shows.
_CONTROL = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def plain(value: object) -> str:
    """User text made safe for a terminal: control characters (newlines, ESC) shown as escapes."""
    return _CONTROL.sub(lambda m: repr(m.group())[1:-1], str(value))


def esc(value: object) -> str:
    """User text for a Rich markup string: shown as is, never read as markup."""
    return escape(plain(value))


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, sort_keys=False) + "\n")


def fragment_notes(report: Any, strict: bool) -> None:
    """Print a fragment report's redefinitions and values that did not apply (stderr).

    ``strict`` (``--strict``) makes a value that did not apply an error: one
    line, exit 2, raised before anything is printed or written.
    """
    from busyconf.errors import UserError

    if strict and report.not_applied:
        more = len(report.not_applied) - 1
        tail = f" (and {more} more)" if more else ""
        raise UserError(f"{report.not_applied[0]}{tail}; --strict refuses it")
    for r in report.redefined:
        err.print(plain(f"busyconf: note: {r}"), markup=False)
    for n in report.not_applied:
        err.print(plain(f"busyconf: warning: {n}"), markup=False)


class BuildBar:
    """Renders build events as a Rich progress bar on ``console`` (build, test, image, rebuild)."""

    def __init__(self, console: Console, title: str) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self.progress = Progress(
            TextColumn("{task.description}", style="bold", markup=False),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[step]}", markup=False),
            TimeElapsedColumn(),
            console=console,
            transient=True,
            # Off a terminal a live display only leaves an empty line before the error or the result.
            disable=not console.is_terminal,
        )
        self.task = self.progress.add_task(title, total=None, step="")

    def __call__(self, event: Any) -> None:
        from busyconf.build import PhaseEvent, ProgressEvent

        if isinstance(event, PhaseEvent):
            self.progress.update(self.task, description=event.phase, step=plain(event.message[:50]))
        elif isinstance(event, ProgressEvent):
            self.progress.update(
                self.task, completed=event.done, total=event.total, step=plain(event.step.path[-50:])
            )


def print_rebuild(result: Any, as_json: bool) -> None:
    """Print a :class:`~busyconf.supply.reproduce.RebuildResult` (``--json``: one document on stdout).

    For ``rebuild`` and ``build --check-reproducible``.
    """
    if as_json:
        sys.stdout.write(json.dumps(result.to_json(), indent=2) + "\n")
        return
    colour = "green" if result.reproduced else "red"
    out.print(f"[{colour}]{esc(result.verdict())}[/]")
    out.print(
        plain(
            f"rebuilt in a clean tree in {result.seconds:.1f} s: sha256 {result.rebuilt_sha256}, "
            f"manifest {result.recorded_sha256}"
            + (f", {result.binary} {result.beside_sha256}" if result.binary else " (no busybox beside it)")
        ),
        markup=False,
    )
