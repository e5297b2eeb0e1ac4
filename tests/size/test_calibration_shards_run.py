"""A reduced real calibration measured whole and as two shards: the merge gives the same bytes."""

from __future__ import annotations

from pathlib import Path

import pytest

from busyconf.size.calibration import (
    Shard,
    calibrate_shard,
    measurements_path,
    merge_files,
    read_measurements,
    read_partial,
)
from tests.size.reduced import SELECTED, TOGGLES, Reduced, reduce

pytestmark = pytest.mark.slow


def _machine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str) -> Path:
    """A fresh private cache and no engine in memory (:func:`reduce`): as a run on another machine starts."""
    return reduce(tmp_path / name, monkeypatch)


def test_two_shards_merge_to_the_unsharded_table(
    reduced_x86_64: Reduced, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    whole = reduced_x86_64.table
    parts = []
    for k in (1, 2):
        _machine(tmp_path, monkeypatch, f"shard{k}")
        parts.append(calibrate_shard("1.38.0", "x86_64", "zig", Shard(k, 2), out=tmp_path / f"part{k}.xz"))
    own = [set(read_partial(p).measurements.full.toggles) - SELECTED for p in parts]
    assert own[0] and own[1] and not own[0] & own[1] and own[0] | own[1] == TOGGLES

    merged, _ = merge_files(list(reversed(parts)), out=tmp_path / "merged" / "1.38.0-x86_64-zig.json")
    assert read_measurements(measurements_path(merged)) == read_measurements(measurements_path(whole))
    assert measurements_path(merged).read_bytes() == measurements_path(whole).read_bytes()
    assert merged.read_bytes() == whole.read_bytes()
