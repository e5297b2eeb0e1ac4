"""Calibration's choices on the real Kconfig tree (no build)."""

from __future__ import annotations

from busyconf.model import load_tree, resolve
from busyconf.size.calibration import minimal_assignments, prerequisites, reference_assignments


def test_an_option_under_an_option_off_is_measured_with_its_parent() -> None:
    """Around allnoconfig, FEATURE_SUN_LABEL can be on only with fdisk's write support."""
    tree = load_tree("1.38.0")
    sparse = minimal_assignments(tree, "x86_64")
    assert prerequisites(tree, sparse, "FEATURE_SUN_LABEL", "x86_64") == ("FEATURE_FDISK_WRITABLE",)
    assert prerequisites(tree, sparse, "UDHCPC6", "x86_64") == ("FEATURE_IPV6",)
    # Two levels: the save-on-exit option needs history saving, which needs line editing.
    chain = prerequisites(tree, sparse, "FEATURE_EDITING_SAVE_ON_EXIT", "x86_64")
    assert chain == ("FEATURE_EDITING", "FEATURE_EDITING_SAVEHISTORY")
    on = [*((n, "y") for n in chain), ("FEATURE_EDITING_SAVE_ON_EXIT", "y")]
    values = resolve(tree, [*sparse, *on]).values
    assert values["FEATURE_EDITING_SAVE_ON_EXIT"] == "y"
    # An option that can be on alone needs nothing.
    assert prerequisites(tree, sparse, "FEATURE_LS_COLOR", "x86_64") == ()


def test_no_prerequisite_rebuilds_everything_or_breaks_the_build() -> None:
    """DEBUG (a full -g rebuild) and SELINUX (no libselinux for musl) are never switched on along."""
    tree = load_tree("1.38.0")
    assert prerequisites(tree, minimal_assignments(tree, "x86_64"), "DEBUG_PESSIMIZE", "x86_64") == ()
    full = reference_assignments(tree, "x86_64")
    assert prerequisites(tree, full, "FEATURE_FIND_CONTEXT", "x86_64") == ()
    assert prerequisites(tree, full, "UNICODE_USING_LOCALE", "x86_64") == ("LOCALE_SUPPORT",)
