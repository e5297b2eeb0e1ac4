"""The coarse estimate: BusyBox's own size labels in prompts (``bool "ls (14 kb)"``).

The labels were measured by hand on 32-bit x86 with glibc. Summed over
defconfig they overstate a static musl binary about 2.7 times, so the coarse
model scales them by ``defconfig size on the CPU / label sum over defconfig``
(sizes in docs/design.md; BusyBox 1.35.0, zig). Unlabelled symbols cost 0.
"""

from __future__ import annotations

import re

from busyconf.model.kconfig import KconfigTree
from busyconf.size.cost_model import SizeModel, SymbolCost

_LABEL = re.compile(r"\(\s*\+?\s*(\d+(?:\.\d+)?)\s*(kb|k|bytes)\s*\)\s*$", re.IGNORECASE)

#: Stripped defconfig sizes without TC per CPU, BusyBox 1.35.0, zig 0.17.1, as
#: ``busyconf build`` makes them (docs/design.md), one per CPU in build/arches.toml.
DEFCONFIG_SIZES: dict[str, int] = {
    "x86_64": 1_190_472,
    "i386": 1_144_436,
    "aarch64": 1_220_912,
    "armv7": 1_280_528,
    "armv6": 1_281_064,
    "armv5te": 1_353_208,
    "riscv64": 1_223_504,
    "mips": 1_586_520,
    "mipsel": 1_584_200,
    "powerpc": 1_553_008,
    "powerpc64le": 1_636_232,
    "s390x": 1_389_216,
    "loongarch64": 1_472_984,
}


def label_bytes(prompt: str | None) -> int | None:
    """Bytes a prompt's size label states (``"ls (14 kb)"`` -> 14336), if any."""
    if not prompt:
        return None
    m = _LABEL.search(prompt)
    if not m:
        return None
    number = float(m.group(1))
    return round(number * (1 if m.group(2).lower() == "bytes" else 1024))


def labels(tree: KconfigTree) -> dict[str, int]:
    """Every labelled symbol and its label in bytes."""
    out: dict[str, int] = {}
    for name in tree.symbols:
        sym = tree.symbols[name]
        prompt = next((n.prompt[0] for n in sym.nodes if n.prompt), None)
        found = label_bytes(prompt)
        if found is not None:
            out[name] = found
    return out


def defconfig_label_sum(tree: KconfigTree) -> int:
    table = labels(tree)
    with tree.applied([]):
        values = tree.values()
    return sum(b for n, b in table.items() if values.get(n) == "y")


def label_model(tree: KconfigTree, arch: str | None) -> SizeModel:
    """Labels scaled to ``arch`` (unscaled, as printed, when ``arch`` is None or unknown)."""
    table = labels(tree)
    scale = 1.0
    note = "32-bit x86 glibc"
    if arch in DEFCONFIG_SIZES:
        scale = DEFCONFIG_SIZES[arch] / max(1, defconfig_label_sum(tree))
        note += f", scaled x{scale:.2f} to {arch} defconfig"
    symbols = {n: SymbolCost(own=round(b * scale)) for n, b in table.items()}
    return SizeModel(
        basis=f"coarse: BusyBox prompt labels, {note}",
        base=0,
        units=(),
        symbols=symbols,
        calibrated=False,
        info={"scale": scale},
    )
