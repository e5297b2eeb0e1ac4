"""The coarse estimate: BusyBox's own size labels in prompts (``bool "ls (14 kb)"``).

Used where no size table exists for the (release, CPU). The rule:

1. Prices. A labelled symbol costs its label. The labels were measured by
   hand on 32-bit x86 with glibc, and nearly only applets carry one (427 of
   442 applets in 1.38.0, 8 of some 600 other options). An unlabelled bool
   option with a prompt is not free: it costs ``unlabelled_share`` (0.2) times
   the mean label of the labelled symbols defconfig enables (about 1.8 kb),
   the same for all, so switching between the options of a choice costs
   nothing. The build switches (the options after ``comment 'Build
   Options'`` in the top Config.in: static or not, install links,
   debugging) choose how the binary is built, not what is in it, and cost 0.
2. Total. ``base + coef * P ** power`` with ``P`` the price sum of the
   enabled symbols: a binary shares library code among its applets, so it
   grows less than linearly (``power`` 0.6), and ``base`` is
   ``base_share`` (2 %) of the CPU's defconfig size. ``coef`` makes the
   total over defconfig that size (:data:`DEFCONFIG_SIZES`; BusyBox 1.35.0,
   zig, docs/design.md), so the prices are scaled to each CPU.

The three constants (:data:`RULE`) were fitted by ``bench/coarse_fit.py``
against the measured x86_64 and aarch64 tables on seeded random
configurations; pricing unlabelled options at 0 and adding linearly
(:data:`LABELS_ONLY`, the rule before) tripled the median error there. How
far the result is from real builds on each CPU, as ``bench/size_accuracy.py``
measured it, is the model's ``± N %`` (:mod:`busyconf.size.coarse_range`).
"""

from __future__ import annotations

import re
import statistics
from collections.abc import Mapping
from dataclasses import dataclass

import kconfiglib

from busyconf.model.kconfig import KconfigTree
from busyconf.size.coarse_range import CoarseRange, coarse_head, read_ranges
from busyconf.size.cost_model import SizeModel, SymbolCost

_LABEL = re.compile(r"\(\s*\+?\s*(\d+(?:\.\d+)?)\s*(kb|k|bytes)\s*\)\s*$", re.IGNORECASE)

#: Stripped defconfig sizes without TC per CPU, BusyBox 1.35.0, zig 0.17.1, as
#: ``busyconf build`` makes them (docs/design.md), one per CPU in build/arches.toml.
DEFCONFIG_SIZES: dict[str, int] = {
    "x86_64": 1_190_472,
    "i386": 1_144_436,
    "aarch64": 1_220_912,
    "armv7": 942_480,
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


@dataclass(frozen=True)
class CoarseRule:
    """The constants of the coarse model (see the module docstring)."""

    #: An unlabelled option's price against the mean label defconfig enables.
    unlabelled_share: float
    #: The binary with nothing priced on, against the CPU's defconfig size.
    base_share: float
    #: How the total grows with the price sum (1: linearly).
    power: float


RULE = CoarseRule(unlabelled_share=0.2, base_share=0.02, power=0.6)
#: The coarse model before :data:`RULE`: labels only, added up, scaled to defconfig.
LABELS_ONLY = CoarseRule(unlabelled_share=0.0, base_share=0.0, power=1.0)


def build_switches(tree: KconfigTree) -> frozenset[str]:
    """The symbols after ``comment 'Build Options'`` in the top Config.in (its Settings menu)."""
    out: set[str] = set()
    start: kconfiglib.MenuNode | None = None
    for node in tree.menu_nodes():
        if node.item == kconfiglib.COMMENT and node.prompt and node.prompt[0] == "Build Options":
            start = node
        elif (
            start is not None
            and isinstance(node.item, kconfiglib.Symbol)
            and node.filename == start.filename
            and node.linenr > start.linenr
        ):
            out.add(node.item.name)
    return frozenset(out)


def unlabelled(tree: KconfigTree) -> frozenset[str]:
    """The bool options with a prompt and no size label, build switches aside."""
    table = labels(tree)
    switches = build_switches(tree)
    return frozenset(
        n
        for n, sym in tree.symbols.items()
        if sym.type == kconfiglib.BOOL
        and n not in table
        and n not in switches
        and any(node.prompt for node in sym.nodes)
    )


def _defconfig(tree: KconfigTree) -> dict[str, str]:
    with tree.applied([]):
        return tree.values()


def unlabelled_price(tree: KconfigTree, rule: CoarseRule = RULE) -> int:
    """Label bytes of an unlabelled option: the rule's share of the mean label defconfig enables."""
    values = _defconfig(tree)
    on = [b for n, b in labels(tree).items() if values.get(n) == "y"]
    return round(rule.unlabelled_share * statistics.fmean(on)) if on else 0


def prices(tree: KconfigTree, rule: CoarseRule = RULE) -> dict[str, int]:
    """Label bytes of every priced symbol: its label, else the unlabelled price."""
    out = labels(tree)
    price = unlabelled_price(tree, rule)
    if price:
        out.update(dict.fromkeys(unlabelled(tree), price))
    return out


def defconfig_label_sum(tree: KconfigTree, rule: CoarseRule = RULE) -> int:
    """The :func:`prices` of the symbols on in defconfig, summed."""
    values = _defconfig(tree)
    return sum(b for n, b in prices(tree, rule).items() if values.get(n) == "y")


def label_model(
    tree: KconfigTree,
    arch: str | None,
    rule: CoarseRule = RULE,
    ranges: Mapping[str, CoarseRange] | None = None,
) -> SizeModel:
    """The coarse model for ``arch``: prices as printed, added up, when ``arch`` is None or unknown.

    Its basis starts ``coarse ±N %`` with ``N`` from ``ranges`` (by default
    the measured ones, :func:`~busyconf.size.coarse_range.read_ranges`), or
    ``coarse ± unknown`` when ``arch`` has none.

    Raises:
        CoarseRangeError: the file of measured ranges cannot be read.
    """
    table = prices(tree, rule)
    price = unlabelled_price(tree, rule)
    note = "32-bit x86 glibc"
    if price:
        note += f", {price:,} B for an option without one"
    known = read_ranges() if ranges is None else ranges
    measured = known.get(arch) if arch is not None else None
    if arch in DEFCONFIG_SIZES:
        size = DEFCONFIG_SIZES[arch]
        base = round(rule.base_share * size)
        coef = (size - base) / max(1, defconfig_label_sum(tree, rule)) ** rule.power
        note += f", scaled to {arch} defconfig"
        if rule.power != 1:
            note += f" as {base:,} B + {coef:.3g} x sum ** {rule.power}"
        symbols = {n: SymbolCost(strings=b) for n, b in table.items()}
        info: dict[str, object] = {"base": base, "coef": coef, "power": rule.power}
    else:
        base, coef = 0, 0.0
        symbols = {n: SymbolCost(own=b) for n, b in table.items()}
        info = {"scale": 1.0}
    head = coarse_head(measured)
    if measured is not None:
        note += f"; {measured.describe()}"
    else:
        note += f"; its error was never measured on {arch or 'this CPU'}"
    return SizeModel(
        basis=f"{head}: BusyBox prompt labels, {note}",
        base=base,
        units=(),
        symbols=symbols,
        calibrated=False,
        info={**info, "unlabelled_price": price, "range": measured},
        strings_coef=coef,
        strings_power=rule.power,
    )
