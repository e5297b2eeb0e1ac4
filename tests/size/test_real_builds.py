"""With real builds: the estimate moves as the real binary does."""

from __future__ import annotations

import pytest

from busyconf.model import load_tree, resolve
from busyconf.model.dotconfig import write_dotconfig
from busyconf.model.profile import allnoconfig_assignments
from busyconf.size import estimator_for
from busyconf.size.workdir import make_binary, open_worktree

pytestmark = pytest.mark.slow

SMALL = ["LS", "CAT", "ECHO", "MKDIR", "RM"]
MORE = SMALL + ["GREP", "SED", "FIND"]


def _config(names: list[str]):  # type: ignore[no-untyped-def]
    tree = load_tree("1.38.0")
    assignments = allnoconfig_assignments(tree) + [("STATIC", "y")] + [(n, "y") for n in names]
    config = resolve(tree, assignments)
    with tree.lock:
        tree.apply(list(config.values.items()))
        return config, write_dotconfig(tree)


def test_estimate_moves_with_the_real_binary() -> None:
    wt = open_worktree("1.38.0", "x86_64")
    est = estimator_for("1.38.0", "x86_64")
    small, small_text = _config(SMALL)
    more, more_text = _config(MORE)
    real_small = make_binary(wt, small_text)
    real_more = make_binary(wt, more_text)
    real_delta = real_more - real_small
    est_delta = est.total(more) - est.total(small)
    assert real_delta > 0 and est_delta > 0
    assert 0.5 * real_delta <= est_delta <= 1.5 * real_delta, (real_delta, est_delta)
