"""Byte counts as text: one place for every way busyconf prints a size."""

from __future__ import annotations


def grouped(n: int) -> str:
    """``1,232,232``: a count in a column whose header says bytes."""
    return f"{n:,}"


def format_bytes(n: int) -> str:
    """``1,232,232 B`` style; the unit stays bytes so numbers compare at a glance."""
    return f"{n:,} B"


def format_delta(n: int) -> str:
    if n == 0:
        return "±0 B"
    return f"{'+' if n > 0 else '−'}{abs(n):,} B"


def short_size(n: int) -> str:
    """A compact size for table cells: ``14.2K``, ``812``, ``−5`` (never ``+-5``)."""
    sign = "−" if n < 0 else ""
    n = abs(n)
    if n >= 1024:
        return f"{sign}{n / 1024:.1f}K"
    return f"{sign}{n}"


def signed_size(n: int) -> str:
    """``+14.2K``, ``−812``, ``0``: what a change adds or saves."""
    if n == 0:
        return "0"
    return ("+" if n > 0 else "") + short_size(n)


def format_size(n: int) -> str:
    """``14.2K``, ``1.35M``: a budget or a total in a line of text."""
    return f"{n / 1024:.1f}K" if n < 1024 * 1024 else f"{n / 1024 / 1024:.2f}M"
