"""Another CPU's compile-level toggles, scaled to this CPU's reference (a quicker, coarser calibration)."""

from __future__ import annotations

from busyconf.errors import UserError
from busyconf.size.calibration.records import Toggle
from busyconf.size.calibration.state import read_state


def borrowed(
    release: str, arch: str, toolchain: str, ref_size: int, state_name: str
) -> tuple[dict[str, Toggle], str]:
    """Another CPU's toggles around the same reference, scaled to this one's reference size."""
    from busyconf.size.workdir import work_root

    path = work_root(release, arch, toolchain) / state_name
    state = read_state(path)
    if state is None:
        raise UserError(
            f"{path}: no calibration of {arch} to borrow from; run: busyconf size calibrate --arch {arch}"
        )
    return scaled(state.toggles, state.ref_size, ref_size, f"{path}: the calibration of {arch}", arch)


def scaled(
    toggles: dict[str, Toggle], their_size: int, ref_size: int, what: str, arch: str
) -> tuple[dict[str, Toggle], str]:
    """``toggles`` measured around a reference of ``their_size``, scaled to ``ref_size`` (pure)."""
    if not toggles:
        raise UserError(f"{what} measured no toggles to borrow")
    ratio = ref_size / their_size
    out = {
        name: Toggle(
            flip=t.flip,
            changed=t.changed,
            size=ref_size + round((t.size - their_size) * ratio),
            diff={k: round(d * ratio) for k, d in t.diff.items()},
        )
        for name, t in toggles.items()
    }
    return out, f"compile-level costs measured on {arch}, scaled x{ratio:.3f} (reference sizes)"
