"""BusyBox's own test suite (``make check``): its results and how its output is read."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from busyconf.build.known_failures import known_failure


@dataclass(frozen=True)
class SuiteResult:
    """BusyBox's ``make check`` counts and the names of the failing tests."""

    passed: int
    failed: int
    skipped: int
    failures: tuple[str, ...]
    seconds: float
    log: Path
    release: str = ""

    @property
    def unexpected(self) -> tuple[str, ...]:
        """Failures not in :mod:`busyconf.build.known_failures` for this release."""
        return tuple(f for f in self.failures if known_failure(f, self.release) is None)


_TEST_LINE = re.compile(r"^(PASS|FAIL|SKIPPED|UNTESTED):\s*(.*)$")


def parse_testsuite(lines: Sequence[str]) -> tuple[int, int, int, tuple[str, ...]]:
    """Count ``PASS:``/``FAIL:``/``SKIPPED:`` lines of BusyBox's runtest output."""
    passed = failed = skipped = 0
    failures: list[str] = []
    for line in lines:
        m = _TEST_LINE.match(line.strip())
        if not m:
            continue
        if m.group(1) == "PASS":
            passed += 1
        elif m.group(1) == "FAIL":
            failed += 1
            failures.append(m.group(2).strip())
        else:
            skipped += 1
    return passed, failed, skipped, tuple(failures)
