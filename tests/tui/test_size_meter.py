"""The size meter shows a coarse estimate's ± range, also when it has to shorten its basis."""

from __future__ import annotations

import io

from rich.console import Console

from busyconf.model.kconfig import KconfigTree
from busyconf.size.coarse_range import CoarseRange
from busyconf.size.labels import label_model
from busyconf.tui.widgets.size_meter import SizeMeter, short_basis


def shown(meter: SizeMeter) -> str:
    console = Console(width=300, record=True, file=io.StringIO())
    console.print(meter.content)
    return console.export_text()


def test_a_coarse_estimate_shows_its_range_or_that_it_is_unknown(tree: KconfigTree) -> None:
    measured = {"riscv64": CoarseRange("1.38.0", 10, 4.2, 11.3, "python bench/size_accuracy.py")}
    basis = label_model(tree, "riscv64", ranges=measured).basis
    assert short_basis(basis) == "coarse ±12 %"
    meter = SizeMeter()
    meter.show(1_000_000, basis, -2_000, "Space LS=n")
    assert "   (coarse ±12 %" in shown(meter)
    unknown = label_model(tree, "riscv64", ranges={}).basis
    assert short_basis(unknown) == "coarse ± unknown"
    meter.show(1_000_000, unknown, None)
    assert "   (coarse ± unknown" in shown(meter)


def test_a_calibrated_basis_shortens_to_one_word() -> None:
    assert short_basis("calibrated x86_64/zig 1.38.0") == "calibrated"


def test_the_options_an_estimate_does_not_price_stay_when_the_basis_shortens() -> None:
    basis = "calibrated x86_64/zig 1.38.0; DEBUG_PESSIMIZE not priced"
    assert short_basis(basis) == "calibrated; DEBUG_PESSIMIZE not priced"
    meter = SizeMeter()
    meter.show(20_000_000, basis, None)
    assert "(calibrated x86_64/zig 1.38.0; DEBUG_PESSIMIZE not priced)" in shown(meter)
