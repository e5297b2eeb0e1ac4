"""plan_budget on the real 1.38.0 tree with the shipped x86_64 size table: options before applets."""

from __future__ import annotations

from pathlib import Path

import pytest

from busyconf.model.config import resolve
from busyconf.model.inputs import Loaded, load_any
from busyconf.size import Estimator, estimator_for
from busyconf.trim import parse_size, plan_budget
from busyconf.trim.budget import PROTECTED_SYMBOLS, PlanCancelled
from tests.image.image_helpers import CONTAINER_SHELL


@pytest.fixture(autouse=True)
def shipped_size_tables_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The tables in the package, not what someone calibrated on this machine."""
    from busyconf.size import table

    monkeypatch.setattr(table, "user_table_path", lambda key: tmp_path / "none" / key.filename)


def shell(awk: bool = True) -> tuple[Loaded, list[tuple[str, str]], Estimator]:
    loaded = load_any(CONTAINER_SHELL)
    extra = [] if awk else [("AWK", "n")]
    return loaded, [*loaded.assignments, *extra], estimator_for(loaded.tree.release, "x86_64")


@pytest.mark.slow
def test_awk_off_250k_takes_options_not_sed() -> None:
    """Issue 14: FEATURE_SH_MATH and FEATURE_TAR_CREATE (options) reach 250K, so sed stays."""
    loaded, assignments, est = shell(awk=False)
    budget = parse_size("250K")
    plan = plan_budget(loaded.tree, assignments, est, budget)
    off = [r.symbol for r in plan.removals]
    assert "SED" not in off and "sed" in plan.config.applets
    assert all(r.is_option and not r.applets for r in plan.removals), plan.removals
    assert {"FEATURE_SH_MATH", "FEATURE_TAR_CREATE"} <= set(off)
    assert set(plan.config.applets) == set(resolve(loaded.tree, assignments).applets)
    assert plan.before > budget >= plan.after == est.total(plan.config)


@pytest.mark.slow
def test_applets_go_only_when_every_option_together_misses_the_budget() -> None:
    loaded, assignments, est = shell()
    budget = parse_size("200K")
    plan = plan_budget(loaded.tree, assignments, est, budget)
    assert any(r.applets for r in plan.removals), "200K needs applets"
    assert plan.after <= budget
    # Every bool that can go alone without losing an applet, all off at once: still over the budget.
    base = resolve(loaded.tree, assignments)
    options = []
    for name, value in base.values.items():
        if value != "y" or name in PROTECTED_SYMBOLS or loaded.tree.type_of(name) != "bool":
            continue
        alone = resolve(loaded.tree, [*assignments, (name, "n")])
        if alone.values[name] == "n" and set(alone.applets) == set(base.applets):
            options.append(name)
    every_option_off = resolve(loaded.tree, [*assignments, *((n, "n") for n in options)])
    assert est.total(every_option_off) > budget


@pytest.mark.slow
def test_kept_applets_and_symbols_are_never_proposed_nor_lost() -> None:
    loaded, assignments, est = shell()
    keep = ["sed", "grep", "FEATURE_SH_MATH", "FEATURE_TAR_CREATE"]
    plan = plan_budget(loaded.tree, assignments, est, parse_size("200K"), keep)
    off = {r.symbol for r in plan.removals}
    assert not off & {"SED", "GREP", "FEATURE_SH_MATH", "FEATURE_TAR_CREATE", "TAR", "ASH"}
    assert {"sed", "grep", "tar"} <= set(plan.config.applets)
    assert plan.config.values["FEATURE_SH_MATH"] == plan.config.values["FEATURE_TAR_CREATE"] == "y"


@pytest.mark.slow
def test_progress_is_reported_and_cancel_stops_the_plan() -> None:
    loaded, assignments, est = shell()
    seen: list[tuple[int, int]] = []
    plan_budget(loaded.tree, assignments, est, parse_size("200K"), progress=lambda n, t: seen.append((n, t)))
    assert seen and seen[-1][0] > 0
    with pytest.raises(PlanCancelled):
        plan_budget(loaded.tree, assignments, est, parse_size("200K"), cancelled=lambda: len(seen) > 0)
