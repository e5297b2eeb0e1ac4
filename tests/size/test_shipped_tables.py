"""Every shipped size table re-fits from its committed measurements, byte for byte.

A calibration writes its measurements beside the table
(``<table>.measurements.json.xz``); the fit is pure, so the table in the
package must be exactly :func:`refit_file` of them. The three tables below were
calibrated before measurements were kept; they are the only ones allowed
without, and the list shrinks as they are re-calibrated.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from busyconf.size.calibration.measurements import measurements_path, refit_file

TABLES = Path(__file__).resolve().parents[2] / "busyconf" / "size" / "tables"
#: Calibrated before the measurements were kept (docs/design.md, "Sizes").
WITHOUT_MEASUREMENTS = frozenset(
    {"1.38.0-aarch64-zig.json", "1.38.0-armv7-zig.json", "1.38.0-mipsel-zig.json"}
)
SHIPPED = sorted(TABLES.glob("*.json"))


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
    assert refit_file(measurements_path(table)) == table.read_text()
