"""How far the coarse estimate is from real sizes, per CPU: its ``± N %``.

``coarse_error.toml`` beside this module holds, per CPU, what
``bench/size_accuracy.py --write-coarse-range`` measured: the release, the
number of configurations and the median and max absolute error in percent of
the coarse estimate against exact sizes::

    [riscv64]
    release = "1.38.0"
    n = 10
    median = 5.3
    max = 11.9
    command = "python bench/size_accuracy.py --arch riscv64 --random 3 --write-coarse-range"

The range shown to the user is the max, rounded up to a whole percent. A CPU
the bench has not measured has no entry in :func:`read_ranges`:
the estimate then says its error is unknown instead of guessing. A file that
cannot be read is refused with a :class:`CoarseRangeError` naming it.
"""

from __future__ import annotations

import json
import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from busyconf.errors import UserError
from busyconf.savefile import write_atomic

RANGE_FILE = Path(__file__).with_name("coarse_error.toml")
_FIELDS = ("release", "n", "median", "max", "command")


class CoarseRangeError(UserError):
    """A coarse error file that cannot be read."""

    title = "Coarse error range"


@dataclass(frozen=True)
class CoarseRange:
    """The coarse estimate's measured |error| on one CPU, in percent."""

    release: str
    n: int
    median: float
    max: float
    #: The bench command that measured it.
    command: str = ""

    @property
    def percent(self) -> int:
        """The ``N`` of ``± N %``: the max |error| rounded up."""
        return math.ceil(self.max)

    def describe(self) -> str:
        """Where the range comes from, in a phrase."""
        return (
            f"|error| at most {self.max:.1f} %, median {self.median:.1f} %, "
            f"over {self.n} configurations of {self.release}"
        )


def coarse_head(measured: CoarseRange | None) -> str:
    """How a coarse estimate is named with its range: ``coarse ±N %``, or ``coarse ± unknown``."""
    return f"coarse ±{measured.percent} %" if measured is not None else "coarse ± unknown"


def _field(path: Path, arch: str, entry: Mapping[str, object], name: str) -> object:
    if name not in entry:
        raise CoarseRangeError(f"{path}: [{arch}] has no {name}; {_REWRITE}")
    return entry[name]


_REWRITE = "rewrite it with python bench/size_accuracy.py --arch CPU --write-coarse-range"


def _parse(path: Path, arch: str, entry: object) -> CoarseRange:
    if not isinstance(entry, dict):
        raise CoarseRangeError(f"{path}: {arch} must be a table [{arch}]; {_REWRITE}")
    extra = sorted(set(entry) - set(_FIELDS))
    if extra:
        raise CoarseRangeError(f"{path}: [{arch}] has unknown key {extra[0]}; {_REWRITE}")
    release = _field(path, arch, entry, "release")
    n = _field(path, arch, entry, "n")
    median = _field(path, arch, entry, "median")
    top = _field(path, arch, entry, "max")
    if not isinstance(release, str) or not release:
        raise CoarseRangeError(f"{path}: [{arch}] release must be a release name; {_REWRITE}")
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise CoarseRangeError(f"{path}: [{arch}] n must be a whole number of configurations; {_REWRITE}")
    numbers = [median, top]
    if any(isinstance(x, bool) or not isinstance(x, int | float) or not 0 <= x < math.inf for x in numbers):
        raise CoarseRangeError(f"{path}: [{arch}] median and max must be percentages (>= 0); {_REWRITE}")
    assert isinstance(median, int | float) and isinstance(top, int | float)
    command = entry.get("command", "")
    if not isinstance(command, str):
        raise CoarseRangeError(f"{path}: [{arch}] command must be a string; {_REWRITE}")
    if median > top:
        raise CoarseRangeError(f"{path}: [{arch}] median {median} is above max {top}; {_REWRITE}")
    return CoarseRange(release, n, float(median), float(top), command)


def read_ranges(path: Path = RANGE_FILE) -> dict[str, CoarseRange]:
    """Every CPU's range in ``path`` (none when the file does not exist).

    Raises:
        CoarseRangeError: the file is not TOML or an entry is malformed.
    """
    try:
        st = path.stat()
    except FileNotFoundError:
        return {}
    except OSError as e:
        raise CoarseRangeError(f"{path}: cannot read: {e.strerror}") from None
    return dict(_read(path, st.st_mtime_ns, st.st_size))


@lru_cache(maxsize=8)
def _read(path: Path, _mtime: int, _size: int) -> tuple[tuple[str, CoarseRange], ...]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as e:
        raise CoarseRangeError(f"{path}: cannot read: {e}") from None
    except tomllib.TOMLDecodeError as e:
        raise CoarseRangeError(f"{path}: not TOML ({e}); {_REWRITE}") from None
    return tuple((arch, _parse(path, arch, entry)) for arch, entry in data.items())


def dumps_ranges(ranges: Mapping[str, CoarseRange]) -> str:
    """The file's text: a header, then one table per CPU in name order."""
    lines = [
        "# |error| in percent of the coarse size estimate (scaled prompt labels) against",
        "# exact sizes, per CPU; busyconf shows the max as the estimate's ± range.",
        "# Written by bench/size_accuracy.py --write-coarse-range; each CPU's command",
        "# is the bench command that measured it. Do not edit by hand.",
    ]
    for arch in sorted(ranges):
        r = ranges[arch]
        lines += [
            "",
            f"[{arch}]",
            f'release = "{r.release}"',
            f"n = {r.n}",
            f"median = {round(r.median, 2)}",
            f"max = {round(r.max, 2)}",
            f"command = {json.dumps(r.command)}",
        ]
    return "\n".join(lines) + "\n"


def write_ranges(updates: Mapping[str, CoarseRange], path: Path = RANGE_FILE) -> None:
    """Replace the ranges of the CPUs in ``updates`` in ``path`` (atomically), keeping the others.

    Raises:
        CoarseRangeError: the file exists but cannot be read (it is left as it is).
    """
    ranges = read_ranges(path)
    ranges.update(updates)
    write_atomic(path, dumps_ranges(ranges))
