"""Size tables: round trip, and refusal of corrupt or mismatched tables."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import busyconf.size.table as table
from busyconf.size import estimator_for
from busyconf.size.table import SizeTableError, TableKey, dumps, loads, save_table

KEY = TableKey("1.38.0", "x86_64", "zig")
MODEL = {
    "basis": "calibrated x86_64/zig 1.38.0",
    "base": 1000,
    "units": [10],
    "symbols": {"LS": {"units": [0]}},
}


def test_round_trip() -> None:
    assert loads(dumps(KEY, MODEL), "t.json", KEY) == MODEL


def test_corrupt_json_is_refused_with_recalibration() -> None:
    with pytest.raises(SizeTableError) as e:
        loads(dumps(KEY, MODEL)[:-40], "t.json", KEY)
    msg = str(e.value)
    assert msg.startswith("t.json: corrupt size table")
    assert "busyconf size calibrate --arch x86_64 --release 1.38.0 --toolchain zig" in msg
    assert "\n" not in msg


def test_tampered_model_fails_checksum() -> None:
    doc = json.loads(dumps(KEY, MODEL))
    doc["model"]["base"] = 1
    with pytest.raises(SizeTableError, match="checksum mismatch"):
        loads(json.dumps(doc), "t.json", KEY)


@pytest.mark.parametrize(
    "other",
    [
        TableKey("1.38.0", "aarch64", "zig"),
        TableKey("1.37.0", "x86_64", "zig"),
        TableKey("1.38.0", "x86_64", "musl-gcc"),
    ],
)
def test_mismatched_table_is_refused(other: TableKey) -> None:
    with pytest.raises(
        SizeTableError, match="size table is for .* recalibrate with: busyconf size calibrate"
    ):
        loads(dumps(other, MODEL), "t.json", KEY)


def test_other_format_version_is_refused() -> None:
    doc = json.loads(dumps(KEY, MODEL))
    doc["format_version"] = 99
    with pytest.raises(SizeTableError, match="format 99"):
        loads(json.dumps(doc), "t.json", KEY)


def test_estimator_refuses_a_corrupt_user_table(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / KEY.filename
    monkeypatch.setattr(table, "user_table_path", lambda key: path)
    save_table(KEY, MODEL, path)
    path.write_text(path.read_text().replace('"base":1000', '"base":5'))
    with pytest.raises(SizeTableError, match=str(path)):
        estimator_for("1.38.0", "x86_64")
    est = estimator_for("1.38.0", "x86_64", on_bad_table="coarse")
    assert not est.calibrated and est.warning and "checksum" in est.warning
    assert est.basis.startswith("coarse ±") and "BusyBox prompt labels" in est.basis


def test_shipped_tables_load() -> None:
    paths = [p for p in (Path(table.__file__).parent / "tables").glob("*-zig.json.xz")]
    assert paths, "no shipped table found"
    for path in paths:
        release, arch, tc = path.name.removesuffix(".json.xz").split("-", 2)
        key = TableKey(release, arch, tc)
        found = table.shipped_table_text(key)
        assert found is not None and found[1] == f"busyconf/size/tables/{path.name}"
        assert loads(found[0], found[1], key)["basis"].startswith("calibrated")


def test_a_table_written_as_xz_is_compressed_and_reads_back(tmp_path: Path) -> None:
    from busyconf.size.calibration.measurements import measurements_path

    path = tmp_path / (KEY.filename + ".xz")
    save_table(KEY, MODEL, path)
    data = path.read_bytes()
    assert data.startswith(b"\xfd7zXZ\x00")
    assert loads(table.decode_table(data, str(path), KEY), str(path), KEY) == MODEL
    assert measurements_path(path).name == "1.38.0-x86_64-zig.measurements.json.xz"
    with pytest.raises(SizeTableError, match="corrupt size table"):
        table.decode_table(data[:-10], str(path), KEY)
