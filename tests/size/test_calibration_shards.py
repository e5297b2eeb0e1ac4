"""Merging shards' partial results: synthetic partials, the merge and every refusal (no build)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from busyconf.cli.commands import run
from busyconf.errors import UserError
from busyconf.model.kconfig import Applet
from busyconf.size.calibration import (
    Measurements,
    Reference,
    Relinks,
    Shard,
    Toggle,
    UsageText,
    merge,
    merge_files,
    read_partial,
    write_measurements,
)
from busyconf.size.calibration.measurements import encode
from busyconf.size.calibration.shards import Partial, Split, partial, partial_path, write_partial
from busyconf.size.calibration.toggles import Plan, units
from busyconf.size.linkmap import LinkMap
from busyconf.size.table import TableKey

SECTION = "libbb/a.o:(.text.a)"
ORDER = ("C", "A", "B")  # the order an unsharded run measured them in (cheapest first)


def _toggle(n: int, forced: bool = False) -> Toggle:
    return Toggle("n", [f"T{n}"], 1000 - n, {SECTION: -n}, forced=forced)


def _whole() -> Measurements:
    """An unsharded run's measurements: the forced toggle S first, then C, A, B as measured."""
    main = "x.o:(.text.x_main)"
    links = {"(none)": LinkMap({SECTION: 100}, 900), "X": LinkMap({SECTION: 100, main: 50}, 950)}
    toggles = {"S": _toggle(1, forced=True), "C": _toggle(4), "A": _toggle(2), "B": _toggle(3)}
    values = {"X": "y", "A": "y", "B": "y", "C": "y"}
    full = Reference(1000, values, Relinks(links, {"X": ["x_main"]}), toggles)
    usage = UsageText(Applet("x", ("X",), main="x_main", usage="x"), b"[-a] FILE", b"[-a] FILE\n\t-a all")
    return Measurements("1.38.0", "x86_64", "zig", "zig 0.17.1", "abc", ("X",), full, usage=(usage,))


def _split(config: str = "CONFIG_X=y\n") -> dict[str, Split]:
    return {"full": Split.of(config, ["S"], ["A", "B", "C", "S"], ORDER)}


def _shard(k: int, n: int = 2, m: Measurements | None = None, version: str | None = None) -> Partial:
    """Shard k of n: the shared toggle and its round-robin share of ``ORDER``."""
    m = m or _whole()
    mine = {"S", *Shard(k, n).take([[x] for x in ORDER])}
    # A shard measures in its own order: the merge must not depend on it.
    toggles = {x: m.full.toggles[x] for x in sorted(m.full.toggles, reverse=True) if x in mine}
    p = partial(Shard(k, n), _split(), replace(m, full=replace(m.full, toggles=toggles)))
    return replace(p, version=version) if version is not None else p


def _write(tmp_path: Path, *parts: Partial) -> list[Path]:
    paths = []
    for i, p in enumerate(parts):
        path = tmp_path / f"{i}-{partial_path(Path(), p.measurements.key, p.shard).name}"
        write_partial(p, path)
        paths.append(path)
    return paths


def test_round_robin_over_units_keeps_a_group_whole() -> None:
    costs = [("A", 5), ("B", 1), ("C", 3)]
    plans = {n: Plan(n, "n", (n,), frozenset(), False, c, f"{n}.o") for n, c in costs}
    plans["G1"] = Plan("G1", "n", (), frozenset(), False, 10**7, "ash.o")
    plans["G2"] = Plan("G2", "n", (), frozenset(), False, 10**7 + 1, "ash.o")

    class Tree:
        def is_applet(self, name: str) -> bool:
            return False

    order = units(Tree(), plans, sorted(plans))  # type: ignore[arg-type]
    assert order == [["B"], ["C"], ["A"], ["G1", "G2"]]
    assert Shard(1, 2).take(order) == {"B", "A"} and Shard(2, 2).take(order) == {"C", "G1", "G2"}
    assert Shard(3, 3).take(order) == {"A"}


def test_merged_shards_are_the_unsharded_measurements(tmp_path: Path) -> None:
    for n in (1, 2, 3):
        parts = [_shard(k, n) for k in range(n, 0, -1)]
        merged = merge([(Path(f"p{p.shard.index}"), p) for p in parts])
        assert list(merged.full.toggles) == ["S", *ORDER]
        assert encode(merged) == encode(_whole())
    paths = _write(tmp_path, _shard(2), _shard(1))
    assert read_partial(paths[0]).shard == Shard(2, 2)
    table, _ = merge_files(paths, tmp_path / "t" / "1.38.0-x86_64-zig.json")
    assert (tmp_path / "t" / "1.38.0-x86_64-zig.measurements.json.xz").read_bytes() == encode(_whole())
    assert table.is_file()


def _other_arch() -> Partial:
    m = _whole()
    return _shard(2, m=replace(m, arch="aarch64"))


def _other_shared() -> Partial:
    m = _whole()
    return _shard(2, m=replace(m, full=replace(m.full, size=1001)))


def _other_forced() -> Partial:
    m = _whole()
    toggles = {**m.full.toggles, "S": _toggle(9, forced=True)}
    return _shard(2, m=replace(m, full=replace(m.full, toggles=toggles)))


def _stolen() -> Partial:
    """Shard 2 with shard 1's toggle C as well."""
    p = _shard(2)
    full = p.measurements.full
    toggles = {**full.toggles, "C": _whole().full.toggles["C"]}
    return replace(p, measurements=replace(p.measurements, full=replace(full, toggles=toggles)))


@pytest.mark.parametrize(
    ("second", "said"),
    [
        (_other_arch, "not the same calibration"),
        (lambda: _shard(2, n=3), "not the same calibration"),
        (lambda: _shard(2, version="0.0.1"), "busyconf 0.0.1"),
        (lambda: replace(_shard(2), splits=_split("CONFIG_X=n\n")), "not the same calibration"),
        (lambda: _shard(1), "given twice"),
        (_other_shared, "shared measurements"),
        (_other_forced, "shared measurements"),
        (_stolen, "measured by two shards"),
    ],
)
def test_mismatched_shards_are_refused_naming_the_file(tmp_path: Path, second: object, said: str) -> None:
    paths = _write(tmp_path, _shard(1), second())  # type: ignore[operator]
    with pytest.raises(UserError) as e:
        merge_files(paths, tmp_path / "out.json")
    assert said in str(e.value) and str(paths[1]) in str(e.value) and "\n" not in str(e.value)
    assert not (tmp_path / "out.json").exists()


def test_a_missing_shard_and_other_files_are_refused(tmp_path: Path) -> None:
    paths = _write(tmp_path, _shard(1, n=3), _shard(3, n=3))
    with pytest.raises(UserError, match=r"shard 2 of 3 missing"):
        merge_files(paths)
    whole = tmp_path / "whole.measurements.json.xz"
    write_measurements(_whole(), whole)
    garbage = tmp_path / "garbage.xz"
    garbage.write_bytes(b"not xz")
    for path, said in [(whole, "calibration's measurements"), (garbage, "not a calibration shard")]:
        with pytest.raises(UserError, match=said) as e:
            merge_files([paths[0], path])
        assert str(path) in str(e.value)


def test_merge_refusals_exit_2_with_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    paths = _write(tmp_path, _shard(1), _shard(1))
    assert run(["size", "calibrate", "--merge", *map(str, paths)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("busyconf: ") and "given twice" in err


def test_partial_file_name_says_the_shard() -> None:
    key = TableKey("1.38.0", "x86_64", "zig")
    name = "1.38.0-x86_64-zig.shard-2-of-4.measurements.json.xz"
    assert partial_path(Path("d"), key, Shard(2, 4)) == Path("d") / name
    assert Shard.parse(" 3/4 ") == Shard(3, 4)
    for bad in ("0/2", "3/2", "1", "a/b", "1/0"):
        with pytest.raises(UserError, match="--shard"):
            Shard.parse(bad)
