"""Calibration's choices on the real Kconfig tree (no build)."""

from __future__ import annotations

from busyconf.model import load_tree, resolve
from busyconf.size.calibration import minimal_assignments, prerequisites, reference_assignments
from busyconf.size.calibration.references import applet_symbol


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


def test_an_applet_is_measured_by_its_own_symbol() -> None:
    """requires[0], as in the rest of busyconf: LSMOD for modprobe-small's lsmod, not MODPROBE_SMALL."""
    tree = load_tree("1.38.0")
    differ = sorted({a.name for a in tree.applets if a.requires[0] != a.requires[-1]})
    assert differ == ["busybox", "depmod", "insmod", "lsmod", "modprobe", "rmmod"]
    own = {applet_symbol(a) for a in tree.applets if a.name in differ}
    assert own == {"BUSYBOX", "DEPMOD", "INSMOD", "LSMOD", "MODPROBE", "RMMOD"}
    # allnoconfig + every applet: the module applets on (the full modutils), the busybox applet's symbol too.
    values = resolve(tree, minimal_assignments(tree, "x86_64")).values
    assert all(values[n] == "y" for n in own)
    assert values["MODPROBE_SMALL"] == "n"
    # defconfig + every applet is the same configuration either way.
    full = resolve(tree, reference_assignments(tree, "x86_64")).values
    assert all(full[n] == "y" for n in (*own, "MODPROBE_SMALL", "FEATURE_TAB_COMPLETION"))
