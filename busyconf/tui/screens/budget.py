"""Trim to a size budget: the removals that reach it, cheapest loss first."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from busyconf.errors import BusyconfError
from busyconf.image.budget import BudgetPlan, format_size, parse_size, plan_budget
from busyconf.tui.session import Session


class BudgetModal(ModalScreen[list[str] | None]):
    """Asks for a budget (``600K``), shows the plan, returns the symbols to switch off."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, session: Session) -> None:
        super().__init__()
        self.session = session
        self.plan: BudgetPlan | None = None

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="budget-dialog"):
            yield Label("Trim to a size budget", classes="dialog-title")
            yield Static(
                "Budget in bytes, K or M (e.g. 600K). Removals are chosen by the size model, "
                "options before applets, cheapest loss first.",
                classes="dim",
            )
            yield Input(placeholder="600K", id="budget")
            yield Static("", id="error", classes="error")
            with VerticalScroll(id="budget-plan"):
                yield Static("", id="plan")
            with Horizontal(classes="buttons"):
                yield Button("Apply", id="apply", variant="primary", disabled=True)
                yield Button("Cancel", id="cancel")

    @on(Input.Submitted, "#budget")
    def _submitted(self, event: Input.Submitted) -> None:
        error = self.query_one("#error", Static)
        estimator = self.session.estimator
        if estimator is None:
            error.update("Sizes are not loaded yet; try again in a moment.")
            return
        try:
            budget = parse_size(event.value)
            self.plan = plan_budget(self.session.tree, self.session.assignments, estimator, budget)  # type: ignore[arg-type]
        except BusyconfError as e:
            self.plan = None
            error.update(Text(str(e)))
            self.query_one("#apply", Button).disabled = True
            return
        error.update("")
        self.query_one("#plan", Static).update(self._render_plan(self.plan))
        self.query_one("#apply", Button).disabled = not self.plan.removals

    @staticmethod
    def _render_plan(plan: BudgetPlan) -> Table:
        sizes = f"{format_size(plan.before)} → {format_size(plan.after)}"
        table = Table(
            title=f"{sizes} (budget {format_size(plan.budget)})",
            caption=plan.basis,
            expand=True,
        )
        table.add_column("switch off")
        table.add_column("saves", justify="right")
        table.add_column("applets lost")
        for r in plan.removals:
            table.add_row(r.symbol, f"{r.saved:,} B", " ".join(r.applets) or "-")
        if not plan.removals:
            table.add_row("(nothing: already within budget)", "", "")
        return table

    @on(Button.Pressed, "#apply")
    def _apply(self) -> None:
        if self.plan is not None:
            self.dismiss([r.symbol for r in self.plan.removals])

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
