"""The coarse estimate's measured ± range: the file the bench writes and busyconf reads."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from busyconf.build.arch import known_arches
from busyconf.size.coarse_range import (
    RANGE_FILE,
    CoarseRange,
    CoarseRangeError,
    read_ranges,
    write_ranges,
)
from busyconf.source import RELEASES

RISCV = CoarseRange("1.38.0", 10, 4.21, 11.3, "python bench/size_accuracy.py --arch riscv64 --random 3")
ARMV5 = CoarseRange("1.37.0", 12, 3.0, 9.0, "python bench/size_accuracy.py --arch armv5te")


def test_a_write_changes_only_the_cpus_it_measured(tmp_path: Path) -> None:
    path = tmp_path / "coarse_error.toml"
    write_ranges({"riscv64": RISCV}, path)
    write_ranges({"armv5te": ARMV5}, path)
    assert read_ranges(path) == {"riscv64": RISCV, "armv5te": ARMV5}
    newer = CoarseRange("1.38.0", 27, 2.0, 7.5, "python bench/size_accuracy.py --arch riscv64")
    write_ranges({"riscv64": newer}, path)
    assert read_ranges(path) == {"riscv64": newer, "armv5te": ARMV5}
    text = path.read_text()
    assert "# Written by bench/size_accuracy.py --write-coarse-range" in text
    assert tomllib.loads(text)["riscv64"]["command"] == newer.command


def test_the_range_shown_is_the_max_rounded_up() -> None:
    assert RISCV.percent == 12
    assert CoarseRange("1.38.0", 10, 1.0, 3.0).percent == 3


def test_a_missing_file_means_no_cpu_is_measured(tmp_path: Path) -> None:
    assert read_ranges(tmp_path / "absent.toml") == {}


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("[riscv64\n", "not TOML"),
        ('riscv64 = "5 %"\n', "must be a table"),
        ('[riscv64]\nrelease = "1.38.0"\nn = 10\nmedian = 4.0\n', "has no max"),
        ('[riscv64]\nrelease = "1.38.0"\nn = 0\nmedian = 4.0\nmax = 9.0\n', "n must be"),
        ('[riscv64]\nrelease = "1.38.0"\nn = 10\nmedian = 9.5\nmax = 4.0\n', "median 9.5 is above max"),
        ('[riscv64]\nrelease = "1.38.0"\nn = 10\nmedian = -1\nmax = 4.0\n', "percentages"),
        ('[riscv64]\nrelease = "1.38.0"\nn = 10\nmedian = 1\nmax = 4\nmean = 2\n', "unknown key mean"),
    ],
)
def test_a_bad_file_is_refused_in_one_line_naming_it(tmp_path: Path, text: str, says: str) -> None:
    path = tmp_path / "coarse_error.toml"
    path.write_text(text)
    with pytest.raises(CoarseRangeError) as e:
        read_ranges(path)
    message = str(e.value)
    assert message.startswith(f"{path}: ") and says in message and "\n" not in message, message
    assert e.value.exit_code == 2


def test_a_bad_file_is_left_alone_by_a_write(tmp_path: Path) -> None:
    path = tmp_path / "coarse_error.toml"
    path.write_text("[riscv64\n")
    with pytest.raises(CoarseRangeError, match="not TOML"):
        write_ranges({"armv5te": ARMV5}, path)
    assert path.read_text() == "[riscv64\n"


def test_the_shipped_file_names_known_cpus_and_releases() -> None:
    shipped = read_ranges(RANGE_FILE)
    assert shipped, f"{RANGE_FILE}: no CPU measured"
    for arch, r in shipped.items():
        assert arch in known_arches(), arch
        assert r.release in RELEASES, (arch, r.release)
        assert r.n >= 10 and r.command.startswith("python bench/size_accuracy.py"), (arch, r)
