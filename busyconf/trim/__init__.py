"""Cutting a profile down: to the applets scripts use, to a size budget, to single applets.

* :mod:`~busyconf.trim.shellscan` reads shell scripts (through shfmt's syntax
  tree) for the commands and options they use; :mod:`~busyconf.trim.options`
  maps options to the Kconfig symbols that enable them, and
  :mod:`~busyconf.trim.behind` the applets an applet runs in turn.
* :mod:`~busyconf.trim.plan` turns a scan into a trimmed profile.
* :mod:`~busyconf.trim.budget` lists removals that bring the size estimate
  within a budget.
* :mod:`~busyconf.trim.single` plans allnoconfig plus named applets (``build --applet``).

Nothing here imports Rich or Textual.
"""

from __future__ import annotations

from busyconf.trim.budget import BudgetPlan, Removal, parse_size, plan_budget
from busyconf.trim.plan import Scan, TrimPlan, plan_trim, scan_paths, trimmed_profile_text

__all__ = [
    "BudgetPlan",
    "Removal",
    "Scan",
    "TrimPlan",
    "parse_size",
    "plan_budget",
    "plan_trim",
    "scan_paths",
    "trimmed_profile_text",
]
