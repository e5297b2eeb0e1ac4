"""Every shipped size table re-fits from its committed measurements, byte for byte.

A calibration writes its measurements beside the table
(``<table>.measurements.json.xz``); the fit is pure, so the table in the
package must be exactly :func:`refit_file` of them. The table below was
calibrated before measurements were kept; it is the only one allowed
without, until it is re-calibrated.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from busyconf.size.calibration.measurements import measurements_path, refit_file
from busyconf.size.table import TableKey, decode_table

TABLES = Path(__file__).resolve().parents[2] / "busyconf" / "size" / "tables"
#: Calibrated before the measurements were kept (docs/design.md, "Sizes").
WITHOUT_MEASUREMENTS = frozenset({"1.38.0-aarch64-zig.json.xz"})
SHIPPED = sorted(p for p in TABLES.glob("*.json.xz") if ".measurements." not in p.name)


def test_tables_ship_compressed() -> None:
    """A plain ``NAME.json`` still loads, but would make the package six times larger than it needs."""
    plain = sorted(p.name for p in TABLES.glob("*.json"))
    assert not plain, f"compress these (xz -9, or calibrate --out NAME.json.xz): {plain}"


def test_only_the_old_tables_lack_measurements() -> None:
    names = {p.name for p in SHIPPED}
    assert WITHOUT_MEASUREMENTS <= names, "a table in the list is gone: take it off the list"
    lacking = {p.name for p in SHIPPED if not measurements_path(p).is_file()}
    unexpected = sorted(lacking - WITHOUT_MEASUREMENTS)
    assert not unexpected, f"shipped without measurements: {unexpected}"
    recalibrated = WITHOUT_MEASUREMENTS - lacking
    assert not recalibrated, f"these have measurements now: take them off the list: {sorted(recalibrated)}"


MEASURED = [p for p in SHIPPED if measurements_path(p).is_file()]


@pytest.mark.parametrize("table", MEASURED or [None], ids=lambda p: p.name if p else "none")
def test_a_table_is_the_refit_of_its_measurements(table: Path | None) -> None:
    if table is None:
        pytest.skip("no shipped table has committed measurements yet (see WITHOUT_MEASUREMENTS)")
    release, arch, _ = table.name.removesuffix(".json.xz").split("-")
    shipped = decode_table(table.read_bytes(), table.name, TableKey(release, arch, "zig"))
    assert refit_file(measurements_path(table)) == shipped
