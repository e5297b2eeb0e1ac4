"""Trim to budget (``t``) driven by keys on the real 1.38.0 tree and the shipped x86_64 size table.

The container-shell starter with AWK off at 250K is the case from issue 14:
switching off options (FEATURE_SH_MATH, FEATURE_TAR_CREATE, ...) reaches it, so
no applet may go.
"""

from __future__ import annotations

import io
import shutil
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from textual.pilot import Pilot
from textual.widgets import Button, Input, Static
from textual.worker import Worker, WorkerState

from busyconf.tui import make_app
from busyconf.tui.app import BusyconfApp
from busyconf.tui.screens.budget import BudgetModal, RemovalList
from busyconf.tui.screens.main import MainScreen

REPO = Path(__file__).resolve().parents[2]
SIZE = (80, 24)


def text_of(widget: Static) -> str:
    console = Console(width=300, record=True, file=io.StringIO())
    console.print(widget.content)
    return console.export_text()


async def open_budget(
    app: BusyconfApp, pilot: Pilot[Any], awk_off: bool = True
) -> tuple[MainScreen, BudgetModal]:
    await app.workers.wait_for_complete()
    await pilot.pause()
    screen = app.screen
    assert isinstance(screen, MainScreen)
    if awk_off:
        assert screen.session.set_value("AWK", "n") is None
    await pilot.press("t")
    await pilot.pause()
    modal = app.screen
    assert isinstance(modal, BudgetModal)
    return screen, modal


async def plan(app: BusyconfApp, pilot: Pilot[Any], budget: str) -> None:
    await pilot.press(*budget, "enter")
    await app.workers.wait_for_complete()
    await pilot.pause()


def state_of(worker: Worker[None]) -> WorkerState:
    """A worker's state now (a function, so an earlier check does not narrow it for mypy)."""
    return worker.state


def shell_profile(tmp_path: Path) -> Path:
    path = tmp_path / "container-shell.toml"
    shutil.copy(REPO / "configs" / "container-shell.toml", path)
    return path


@pytest.mark.slow
async def test_options_go_before_applets_awk_off_250k(tmp_path: Path) -> None:
    app = make_app(shell_profile(tmp_path))
    async with app.run_test(size=SIZE) as pilot:
        _, modal = await open_budget(app, pilot)
        await plan(app, pilot, "250K")
        assert modal.plan is not None
        off = [r.symbol for r in modal.plan.removals]
        assert "SED" not in off
        assert all(r.is_option for r in modal.plan.removals), modal.plan.removals
        assert {"FEATURE_SH_MATH", "FEATURE_TAR_CREATE"} <= set(off)
        assert modal.plan.after <= 250 * 1024 < modal.plan.before
        assert "0 applets off" in text_of(modal.query_one("#status", Static))
        assert len(modal.query_one(RemovalList).options) == len(off)


@pytest.mark.slow
async def test_untick_keeps_the_removal_and_plans_again(tmp_path: Path) -> None:
    app = make_app(shell_profile(tmp_path))
    async with app.run_test(size=SIZE) as pilot:
        _, modal = await open_budget(app, pilot)
        await plan(app, pilot, "250K")
        assert modal.plan is not None
        first = modal.plan.removals[0].symbol
        await pilot.press("tab")  # from the budget straight to the plan
        assert isinstance(app.focused, RemovalList)
        await pilot.press("space")  # untick the first row: keep it
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert modal.query_one("#keep", Input).value == first
        assert modal.plan is not None
        assert first not in [r.symbol for r in modal.plan.removals]
        assert modal.plan.config.values[first] == "y" and modal.plan.after <= 250 * 1024
        assert isinstance(app.focused, RemovalList), "the list keeps the focus after the new plan"


@pytest.mark.slow
async def test_keep_field_names_applets_and_symbols(tmp_path: Path) -> None:
    app = make_app(shell_profile(tmp_path))
    async with app.run_test(size=SIZE) as pilot:
        _, modal = await open_budget(app, pilot, awk_off=False)
        modal.query_one("#keep", Input).value = "sed FEATURE_SH_MATH"
        await plan(app, pilot, "200K")
        assert modal.plan is not None
        off = {r.symbol for r in modal.plan.removals}
        assert "FEATURE_SH_MATH" not in off and "SED" not in off
        assert "sed" in modal.plan.config.applets and modal.plan.config.values["FEATURE_SH_MATH"] == "y"
        assert any(r.applets for r in modal.plan.removals), "200K needs applets"
        modal.query_one("#keep", Input).value = "sed nosuchthing"
        await pilot.press("enter")
        await pilot.pause()
        assert "keep 'nosuchthing': neither an applet nor a symbol" in text_of(
            modal.query_one("#error", Static)
        )


@pytest.mark.slow
async def test_planning_runs_off_the_ui_thread_and_a_new_request_replaces_it(tmp_path: Path) -> None:
    app = make_app(REPO / "configs" / "router.toml")
    async with app.run_test(size=SIZE) as pilot:
        screen, modal = await open_budget(app, pilot, awk_off=False)
        tree = screen.session.tree
        # Holding the tree stalls the planner's first resolve: it is still running while
        # the keys below are handled, whatever the machine's speed.
        with tree.applied(screen.session.assignments):
            await pilot.press(*"400K", "enter")
            await pilot.pause()
            workers = [w for w in app.workers if w.group == "budget"]
            assert len(workers) == 1 and workers[0].state == WorkerState.RUNNING
            assert "planning" in text_of(modal.query_one("#status", Static))
            await pilot.press("tab", "tab")  # the list is empty while planning: Keep, then Cancel
            assert app.focused is modal.query_one("#cancel", Button)
            await pilot.press("shift+tab", *"vi", "enter")  # a new request from Keep
            await pilot.pause()
            assert modal.query_one("#keep", Input).value == "vi"
            assert modal.query_one("#apply", Button).disabled
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert state_of(workers[0]) == WorkerState.CANCELLED
        assert modal.plan is not None and modal.plan.budget == 400 * 1024
        assert "vi" in modal.plan.config.applets
        # the planner's trials did not leak into what the editor shows
        assert tree.kconf.syms["VI"].str_value == screen.session.config.values["VI"]


@pytest.mark.slow
async def test_tab_from_the_budget_lands_where_enter_applies(tmp_path: Path) -> None:
    app = make_app(shell_profile(tmp_path))
    async with app.run_test(size=SIZE) as pilot:
        screen, modal = await open_budget(app, pilot)
        assert app.focused is modal.query_one("#budget", Input)
        await plan(app, pilot, "250K")
        assert modal.plan is not None
        symbols = [r.symbol for r in modal.plan.removals]
        await pilot.press("tab")
        assert isinstance(app.focused, RemovalList)
        results: list[list[str] | None] = []
        modal.dismiss = results.append
        await pilot.press("enter")
        await pilot.pause()
        assert results == [symbols]


@pytest.mark.slow
async def test_apply_is_one_undo_step(tmp_path: Path) -> None:
    app = make_app(shell_profile(tmp_path))
    async with app.run_test(size=SIZE) as pilot:
        screen, modal = await open_budget(app, pilot)
        session = screen.session
        before = dict(session.config.values)
        await plan(app, pilot, "250K")
        assert modal.plan is not None
        plan_values = modal.plan.config.values
        symbols = [r.symbol for r in modal.plan.removals]
        assert len(symbols) > 1
        assert session.set_values([(s, "n") for s in symbols]) is None
        assert session.config.values == plan_values
        assert session.undo()
        assert session.config.values == before


@pytest.mark.slow
async def test_escape_cancels_even_while_planning(tmp_path: Path) -> None:
    app = make_app(REPO / "configs" / "router.toml")
    async with app.run_test(size=SIZE) as pilot:
        screen, modal = await open_budget(app, pilot, awk_off=False)
        before = dict(screen.session.config.values)
        with screen.session.tree.applied(screen.session.assignments):
            await pilot.press(*"500K", "enter", "escape")
            await pilot.pause()
            assert app.screen is screen
        await app.workers.wait_for_complete()
        assert all(w.state == WorkerState.CANCELLED for w in app.workers if w.group == "budget")
        assert screen.session.config.values == before


@pytest.mark.slow
async def test_the_dialog_fits_80x24(tmp_path: Path) -> None:
    app = make_app(shell_profile(tmp_path))
    async with app.run_test(size=SIZE) as pilot:
        _, modal = await open_budget(app, pilot)
        await plan(app, pilot, "250K")
        for wid in ("#budget", "#keep", "#status", "#removals", "#apply", "#cancel"):
            region = modal.query_one(wid).region
            assert region.height >= 1 and region.right <= 80 and region.bottom <= 24, (wid, region)
        assert modal.query_one(RemovalList).region.height >= 4


@pytest.mark.slow
async def test_apply_through_the_editor_is_undone_by_one_key(tmp_path: Path) -> None:
    app = make_app(shell_profile(tmp_path))
    async with app.run_test(size=SIZE) as pilot:
        screen, modal = await open_budget(app, pilot)
        before = dict(screen.session.config.values)
        await plan(app, pilot, "250K")
        assert modal.plan is not None and len(modal.plan.removals) > 1
        await pilot.press("tab", "enter")  # to the plan, apply
        await pilot.pause()
        assert app.screen is screen
        assert screen.session.config.values == modal.plan.config.values
        await pilot.press("u")
        await pilot.pause()
        assert screen.session.config.values == before
