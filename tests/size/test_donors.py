"""Transfers: which measured table lends its toggles, and what a transferred table says it is."""

from __future__ import annotations

from pathlib import Path

import pytest

from busyconf.errors import UserError
from busyconf.size.calibration import Measurements, Reference, Relinks, Toggle, donors, write_measurements
from busyconf.size.calibration.donors import find_donor, lent_toggles, offer, parse_source
from busyconf.size.calibration.measurements import decode, measurements_path
from busyconf.size.linkmap import LinkMap
from busyconf.size.table import TableKey, save_table, table_kind, user_table_path

F = "x/x.o:(.text.f)"


def _measured(release: str, arch: str, size: int = 1000, donor: str = "") -> Measurements:
    """Measurements with two toggles (F measured, S forced off) around a reference of ``size``."""
    toggles = {
        "F": Toggle("n", ["F"], size - 40, {F: -40}),
        "S": Toggle("n", ["S"], size - 10, {F: -10}, forced=True),
        "GONE": Toggle("n", ["GONE"], size - 5, {F: -5}),
    }
    relinks = Relinks({"(none)": LinkMap({F: 40}, size)}, {})
    full = Reference(size, {"F": "y", "S": "y"}, relinks, toggles, donor=donor)
    return Measurements(release, arch, "zig", "zig 0.17.1", "abc", (), full, None, None, ())


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private cache with measurements for 1.38.0/x86_64, 1.38.0/aarch64 and 1.37.0/armv7; none shipped."""
    monkeypatch.setenv("BUSYCONF_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(donors, "_shipped_names", dict)
    for release, arch, size in (
        ("1.38.0", "x86_64", 1000),
        ("1.38.0", "aarch64", 1100),
        ("1.37.0", "armv7", 900),
    ):
        path = measurements_path(user_table_path(TableKey(release, arch, "zig")))
        path.parent.mkdir(parents=True, exist_ok=True)
        write_measurements(_measured(release, arch, size), path)
    return tmp_path / "cache"


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        ("x86_64", (None, "x86_64")),
        ("1.38.0", ("1.38.0", None)),
        ("1.38.0/x86_64", ("1.38.0", "x86_64")),
    ],
)
def test_a_source_names_a_cpu_a_release_or_both(text: str, parsed: tuple[str | None, str | None]) -> None:
    assert parse_source(text) == parsed


@pytest.mark.usefixtures("cache")
@pytest.mark.parametrize(
    ("release", "arch", "nearest"),
    [
        # The same CPU at the nearest measured release first: the same code generation.
        ("1.35.0", "armv7", "1.37.0/armv7"),
        ("1.38.0", "armv7", "1.37.0/armv7"),
        # Else the same release on another CPU, x86_64 first.
        ("1.38.0", "riscv64", "1.38.0/x86_64"),
        ("1.37.0", "mips", "1.37.0/armv7"),
        # Else the nearest release on any CPU.
        ("1.35.0", "mips", "1.37.0/armv7"),
        ("1.39.0", "s390x", "1.38.0/x86_64"),
        # A measured CPU at another release.
        ("1.37.0", "x86_64", "1.38.0/x86_64"),
    ],
)
def test_the_nearest_donor(release: str, arch: str, nearest: str) -> None:
    assert find_donor(release, arch, "zig", None).label == nearest


@pytest.mark.usefixtures("cache")
def test_a_named_donor_and_the_refusals() -> None:
    assert find_donor("1.38.0", "riscv64", "zig", "aarch64").label == "1.38.0/aarch64"
    assert find_donor("1.35.0", "x86_64", "zig", "1.38.0").label == "1.38.0/x86_64"
    assert find_donor("1.35.0", "riscv64", "zig", "1.37.0/armv7").label == "1.37.0/armv7"
    with pytest.raises(UserError, match=r"--transfer 1.35.0: no measurements of 1.35.0 on x86_64"):
        find_donor("1.38.0", "x86_64", "zig", "1.35.0")
    with pytest.raises(UserError, match="that is the table being made"):
        find_donor("1.38.0", "x86_64", "zig", "x86_64")
    # No measurements for another toolchain.
    with pytest.raises(UserError, match="no measured size table to transfer from for 1.38.0 on riscv64"):
        find_donor("1.38.0", "riscv64", "musl-gcc", None)


def test_a_transferred_table_does_not_lend(cache: Path) -> None:
    path = measurements_path(user_table_path(TableKey("1.38.0", "riscv64", "zig")))
    write_measurements(_measured("1.38.0", "riscv64", donor="1.38.0/x86_64"), path)
    with pytest.raises(UserError, match="no measurements of 1.38.0 on riscv64"):
        find_donor("1.38.0", "mips", "zig", "riscv64")
    # Scaling twice compounds the error: the nearest native table lends instead.
    assert find_donor("1.37.0", "riscv64", "zig", None).label == "1.37.0/armv7"


@pytest.mark.usefixtures("cache")
def test_lent_toggles_are_the_donors_unforced_ones_for_this_trees_symbols_scaled() -> None:
    donor = find_donor("1.38.0", "riscv64", "zig", "x86_64")
    lent, note = lent_toggles(donor, "full", 2000, {"F", "S", "NEW"})
    # S is forced off here and measured here; GONE is not in this tree.
    assert lent == {"F": Toggle("n", ["F"], 1920, {F: -80})}
    assert note == "compile-level costs measured for 1.38.0 on x86_64, scaled x2.000 (reference sizes)"
    with pytest.raises(UserError, match="no sparse reference to transfer"):
        lent_toggles(donor, "sparse", 2000, {"F"})


@pytest.mark.parametrize(
    ("donor", "kind"),
    [
        ("1.38.0/x86_64", "transferred from x86_64"),
        ("1.37.0/armv7", "transferred from 1.37.0"),
        ("1.37.0/x86_64", "transferred from 1.37.0 x86_64"),
    ],
)
def test_a_transferred_table_says_from_what(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, donor: str, kind: str
) -> None:
    monkeypatch.setenv("BUSYCONF_CACHE", str(tmp_path / "cache"))
    key = TableKey("1.38.0", "armv7", "zig")
    info = {"toggles": "compile-level costs measured for ...", "transferred_from": donor}
    save_table(key, {"base": 1, "info": info})
    assert table_kind(key) == kind


def test_the_shipped_tables_lend_only_their_measured_ones(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The package's own files: the transfers are known by their tables' info, not decoded to find out."""
    monkeypatch.setenv("BUSYCONF_CACHE", str(tmp_path / "cache"))
    decoded: list[str] = []

    def counting_decode(data: bytes, where: str) -> Measurements:
        decoded.append(where)
        return decode(data, where)

    monkeypatch.setattr(donors, "decode", counting_decode)
    assert find_donor("1.38.0", "mips", "zig", None).label == "1.38.0/x86_64"
    assert decoded == ["busyconf/size/tables/1.38.0-x86_64-zig.measurements.json.xz"]
    decoded.clear()
    # x86_64 1.38.0 is the root: every other shipped table with measurements is a transfer.
    assert offer(TableKey("1.38.0", "x86_64", "zig")).donor is None
    assert decoded == []
