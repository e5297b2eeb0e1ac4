"""``t``: trim to a size budget. Options go before applets; untick a removal to keep it.

The plan is worked out in a thread (a few hundred resolves on a big profile),
so typing, Tab and Esc answer while it runs; a newer request cancels the
older one. The screen returns the symbols to switch off; the caller applies
them as one undo step.
"""

from __future__ import annotations

import re
import time

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, SelectionList, Static
from textual.widgets.selection_list import Selection
from textual.worker import get_current_worker

from busyconf.errors import BusyconfError, UserError
from busyconf.size.units import format_size
from busyconf.trim.budget import BudgetPlan, PlanCancelled, Removal, parse_size, plan_budget
from busyconf.tui.session import Session

#: Seconds between progress updates: each one waits for the UI thread.
PROGRESS_EVERY = 0.1
#: Columns of a row: symbol, bytes saved, applets lost (cut with an ellipsis).
ROW_WIDTH = 66


class RemovalList(SelectionList[str]):
    """The plan's removals, ticked: Space unticks (keeps) one, Enter applies the plan."""

    BINDINGS = [Binding("enter", "screen.apply", "Apply", show=False)]


class BudgetModal(ModalScreen[list[str] | None]):
    """Asks for a budget (``600K``), shows the plan, returns the symbols to switch off."""

    DEFAULT_CSS = """
    BudgetModal #trim-dialog {
        width: 76;
        max-width: 100%;
        height: 90%;
        max-height: 40;
        border: thick $primary;
        background: $surface;
        padding: 0 1;
    }
    BudgetModal .trim-row { height: 1; }
    BudgetModal .trim-row Label { width: auto; margin-right: 1; }
    BudgetModal #budget { width: 14; }
    BudgetModal #keep { width: 1fr; }
    BudgetModal #status { height: 1; margin-left: 2; width: 1fr; }
    BudgetModal #removals { height: 1fr; min-height: 4; text-wrap: nowrap; text-overflow: ellipsis; }
    BudgetModal #error { height: auto; color: $error; display: none; }
    BudgetModal #trim-buttons { height: 1; margin-top: 1; }
    BudgetModal #trim-buttons Button { margin-right: 2; }
    """

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, session: Session) -> None:
        super().__init__()
        self.session = session
        self.plan: BudgetPlan | None = None
        self.planning = False
        #: What the last request asked for, so a plan from an older one is never shown.
        self._asked: tuple[int, tuple[str, ...]] | None = None

    def compose(self) -> ComposeResult:
        with Vertical(id="trim-dialog") as dialog:
            dialog.border_title = "Trim to a size budget"
            yield Static(
                "Options go before applets, cheapest loss first. Space unticks a removal "
                "(it is kept and the plan redone); Enter applies all as one undo step.",
                classes="dim",
            )
            with Horizontal(classes="trim-row"):
                yield Label("Budget")
                yield Input(placeholder="600K", id="budget", compact=True)
                yield Static("", id="status")
            yield Static("", id="error")
            yield RemovalList(id="removals", disabled=True)
            with Horizontal(classes="trim-row"):
                yield Label("Keep")
                yield Input(
                    placeholder="applets or symbols never removed: vi less FEATURE_LS_COLOR",
                    id="keep",
                    compact=True,
                )
            with Horizontal(id="trim-buttons"):
                yield Button("Apply", id="apply", variant="primary", disabled=True, compact=True)
                yield Button("Cancel", id="cancel", compact=True)

    def on_mount(self) -> None:
        self.query_one("#budget", Input).focus()

    # -- asking for a plan

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self.replan()

    def replan(self) -> None:
        """Plan again for what the two fields say now (the running plan, if any, is dropped)."""
        if not self.session.size_ready:
            self._error("Sizes are not loaded yet; try again in a moment.")
            return
        try:
            budget = parse_size(self.query_one("#budget", Input).value)
            keep = self._keep()
        except BusyconfError as e:
            self._error(str(e))
            return
        self._error("")
        self._asked = (budget, keep)
        self.planning = True
        self.query_one("#apply", Button).disabled = True
        self.query_one("#status", Static).update(Text("planning…", style="italic"))
        self._plan(budget, keep)

    def _error(self, message: str) -> None:
        """One line in the error colour; the row is gone while there is nothing to say."""
        error = self.query_one("#error", Static)
        error.update(Text(message))
        error.display = bool(message)

    def _keep(self) -> tuple[str, ...]:
        """The Keep field's names, each an applet or a symbol of the tree (UserError otherwise)."""
        tree = self.session.tree
        applets = {a.name for a in tree.applets}
        names = [n for n in re.split(r"[\s,]+", self.query_one("#keep", Input).value) if n]
        for name in names:
            if name not in applets and not tree.has(name):
                raise UserError(f"keep {name!r}: neither an applet nor a symbol of BusyBox {tree.release}")
        return tuple(dict.fromkeys(names))

    @work(thread=True, exclusive=True, group="budget", exit_on_error=False)
    def _plan(self, budget: int, keep: tuple[str, ...]) -> None:
        worker = get_current_worker()
        from busyconf.size import Estimator

        session = self.session
        estimator = session.estimator
        if not isinstance(estimator, Estimator):
            self.app.call_from_thread(self._failed, (budget, keep), "Sizes are not loaded yet.")
            return
        last = 0.0

        def progress(removed: int, total: int) -> None:
            nonlocal last
            now = time.monotonic()
            if now - last >= PROGRESS_EVERY and not worker.is_cancelled:
                last = now
                self.app.call_from_thread(self._progress, removed, total)

        try:
            plan = plan_budget(
                session.tree,
                session.assignments,
                estimator,
                budget,
                keep,
                progress=progress,
                cancelled=lambda: worker.is_cancelled,
            )
        except PlanCancelled:
            return
        except BusyconfError as e:
            if not worker.is_cancelled:
                self.app.call_from_thread(self._failed, (budget, keep), str(e))
            return
        if not worker.is_cancelled:
            self.app.call_from_thread(self._planned, (budget, keep), plan)

    def _progress(self, removed: int, total: int) -> None:
        if self.planning:
            self.query_one("#status", Static).update(
                Text(f"planning… {removed} off, {format_size(total)}", style="italic")
            )

    def _failed(self, asked: tuple[int, tuple[str, ...]], message: str) -> None:
        if asked != self._asked:
            return
        self.planning = False
        self.plan = None
        self.query_one("#status", Static).update("")
        self._error(message)
        removals = self.query_one(RemovalList)
        removals.clear_options()
        removals.disabled = True

    def _planned(self, asked: tuple[int, tuple[str, ...]], plan: BudgetPlan) -> None:
        if asked != self._asked:
            return
        self.planning = False
        self.plan = plan
        options = sum(1 for r in plan.removals if r.is_option)
        applets = sum(len(r.applets) for r in plan.removals)
        status = self.query_one("#status", Static)
        status.update(
            f"{format_size(plan.before)} → {format_size(plan.after)}: "
            f"{options} option{'s' * (options != 1)}, {applets} applet{'s' * (applets != 1)} off"
        )
        removals = self.query_one(RemovalList)
        had_focus, row = removals.has_focus, removals.highlighted or 0
        removals.clear_options()
        removals.add_options([Selection(_row(r), r.symbol, True) for r in plan.removals])
        removals.border_subtitle = plan.basis
        removals.disabled = not plan.removals
        if not plan.removals:
            status.update(f"{format_size(plan.before)}: within the budget, nothing to switch off")
        else:
            # after an untick the cursor stays where it was, on the row that moved up
            removals.highlighted = min(row, len(plan.removals) - 1)
            if had_focus:
                removals.focus()
        self.query_one("#apply", Button).disabled = not plan.removals

    # -- steering the plan

    @on(SelectionList.SelectionToggled, "#removals")
    def _unticked(self, event: SelectionList.SelectionToggled[str]) -> None:
        """An unticked removal is kept from now on (it shows in Keep) and the plan is redone."""
        symbol = event.selection.value
        if symbol in event.selection_list.selected:
            return
        keep = self.query_one("#keep", Input)
        names = keep.value.split()
        if symbol not in names:
            keep.value = " ".join([*names, symbol])
        self.replan()

    # -- leaving

    @on(Button.Pressed, "#apply")
    def action_apply(self) -> None:
        """Return the plan's symbols (only a finished plan for what the fields say now)."""
        if self.planning or self.plan is None or not self.plan.removals:
            self.notify("No plan to apply yet." if not self.planning else "Still planning…", timeout=2)
            return
        self.workers.cancel_group(self, "budget")
        self.dismiss([r.symbol for r in self.plan.removals])

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.workers.cancel_group(self, "budget")
        self.dismiss(None)


def _row(r: Removal) -> Text:
    """``SYMBOL   4,769 B  sed awk`` in ROW_WIDTH columns, what it loses cut with an ellipsis."""
    text = Text(f"{r.symbol:<32.32} {r.saved:>8,} B  ")
    lost = " ".join(r.applets) if r.applets else "option"
    room = ROW_WIDTH - len(text.plain)
    if len(lost) > room:
        lost = lost[: room - 1] + "…"
    text.append(lost, style="bold" if r.applets else "dim")
    return text
