"""The estimator: coarse labels, shared code, incremental deltas."""

from __future__ import annotations

import time
from dataclasses import replace

import pytest

from busyconf.errors import UserError
from busyconf.model import load_tree, resolve
from busyconf.model.config import Configuration
from busyconf.size import estimator_for
from busyconf.size.cost_model import Evaluation, SizeModel, SymbolCost
from busyconf.size.labels import label_bytes
from busyconf.size.usage import Segment, UsageModel


def test_label_parsing() -> None:
    assert label_bytes("ls (14 kb)") == 14 * 1024
    assert label_bytes("false (314 bytes)") == 314
    assert label_bytes("Enable progress bar (+2k)") == 2048
    assert label_bytes("Trade bytes for speed (0:fast, 3:slow)") is None


def test_second_user_of_shared_code_is_cheaper() -> None:
    model = SizeModel(
        "t",
        100,
        (1000, 50, 70),
        {
            "A": SymbolCost(own=5, units=(0, 1)),
            "B": SymbolCost(own=5, units=(0, 2)),
            "F": SymbolCost(deltas=((0, 30),)),
        },
        True,
    )
    ev = Evaluation(model)
    ev.set("A", True)
    first = ev.total - 100
    ev.set("B", True)
    second = ev.total - 100 - first
    assert (first, second) == (1055, 75)
    assert ev.cost_of("A") == 55 and ev.shared() == 1000
    ev.set("F", True)
    assert ev.total == 100 + 1000 + 30 + 50 + 70 + 10
    ev.set("A", False)
    ev.set("B", False)
    assert ev.total == 100


def test_blend_follows_the_reference_a_configuration_resembles() -> None:
    """Full model where every blend feature is on, sparse model where none is, and in between."""
    sparse = SizeModel("s", 40, (500,), {"A": SymbolCost(own=5, units=(0,)), "F": SymbolCost(own=7)}, True)
    full = SizeModel(
        "f",
        100,
        (1000,),
        {"A": SymbolCost(own=5, units=(0,)), "F": SymbolCost(own=30), "G": SymbolCost(own=20)},
        True,
    ).with_sparse(sparse, ["F", "G"])
    restored = SizeModel.from_dict(full.to_dict(), "t")
    assert restored == full
    ev = Evaluation(restored)
    ev.sync(["A"])
    assert ev.total == 40 + 500 + 5
    ev.sync(["A", "F", "G"])
    assert ev.total == 100 + 1000 + 5 + 30 + 20
    ev.sync(["A", "F"])
    half = 0.5 * (100 + 1005 + 30) + 0.5 * (40 + 505 + 7)
    assert ev.total == round(half)
    assert ev.cost_of("F") == round(half) - 545
    fresh = Evaluation(restored)
    for name in ("G", "A", "F", "G"):
        fresh.set(name, name not in fresh.enabled)
    assert fresh.enabled == {"A", "F"} and fresh.total == ev.total


def test_residual_is_taken_off_by_the_share_of_its_symbols_on() -> None:
    """What the model gives too many with few applets on, linear between measured shares."""
    units = {n: SymbolCost(own=10, units=(i,)) for i, n in enumerate("ABCD")}
    model = SizeModel(
        "s",
        100,
        (50, 50, 50, 50),
        units,
        True,
        residual=((0.0, 40), (0.5, 10), (1.0, 0)),
        residual_symbols=tuple("ABCD"),
    )
    assert SizeModel.from_dict(model.to_dict(), "t") == model
    assert [model.residual_at(k) for k in range(5)] == [40, 25, 10, 5, 0]
    ev = Evaluation(model)
    assert ev.total == 100 - 40
    ev.sync("ABC")
    assert ev.total == 100 + 3 * 60 - 5
    before = ev.total
    # Switching A off takes off 5 more (the correction at two applets of four, not three).
    assert ev.cost_of("A") == 60 + 5 and ev.saving("AB") == 120 + 20
    ev.set("A", False)
    assert before - ev.total == 65
    with pytest.raises(UserError, match="residual"):
        SizeModel.from_dict({**model.to_dict(), "residual": [[0.5, 1], [0.0, 2]]}, "t")


def _usage_model() -> UsageModel:
    """Two applets (A, B), one with a text that FEATURE_X adds to; B links the bunzip2 decoder."""
    segs = (
        Segment((("A", True),), (3000, 9000)),
        Segment((("A", True), ("X", True)), (1500, 1500)),
        Segment((("BUNZIP2", True),), (100, 400)),
    )
    return UsageModel(segs, ((0.3, 0.0, 0.0), (0.25, 0.0, 0.0)), code=200, compress_code=40, decoder=2800)


def test_usage_texts_follow_the_usage_options_and_the_applets() -> None:
    """Short, verbose, compressed (4 KB and up, or when the decoder is linked anyway), none."""
    usage = _usage_model()
    assert UsageModel.from_dict(usage.to_dict()) == usage
    # The base holds the bunzip2 decoder (2,800), as the full reference's does.
    link = SizeModel("f", 2900, (1000,), {"A": SymbolCost(own=5, units=(0,))}, True)
    ev = Evaluation(replace(link, usage=usage))
    ev.sync(["A"])
    assert ev.total == 1105
    ev.sync(["A", "SHOW_USAGE"])
    assert ev.total == 1105 + 200 + 3000 + 1
    ev.sync(["A", "SHOW_USAGE", "FEATURE_COMPRESS_USAGE"])
    assert ev.total == 1105 + 200 + 3000 + 1, "under 4 KB stays uncompressed"
    ev.sync(["A", "X", "SHOW_USAGE", "FEATURE_COMPRESS_USAGE"])
    assert ev.total == 1105 + 200 + 40 + round(0.3 * 4500) + 2800
    ev.sync(["A", "BUNZIP2", "SHOW_USAGE", "FEATURE_COMPRESS_USAGE", "FEATURE_VERBOSE_USAGE"])
    assert ev.total == 3905 + 200 + 40 + round(0.25 * 9400)
    assert ev.cost_of("A") == 1005 + round(0.25 * 9400) - round(0.25 * 400)
    assert ev.cost_of("FEATURE_VERBOSE_USAGE") == round(0.25 * 9400) - round(0.3 * 3100)
    fresh = Evaluation(replace(link, usage=usage))
    fresh.sync(ev.enabled)
    assert fresh.total == ev.total


def test_a_full_model_holding_the_decoder_gives_it_back_when_nothing_links_it() -> None:
    """The full reference's base holds the decoder; without usage texts or bunzip2 it is not linked."""
    link = SizeModel("f", 10_000, (), {}, True, usage=_usage_model())
    ev = Evaluation(link)
    ev.sync(["BUNZIP2"])
    assert ev.total == 10_000
    ev.sync([])
    assert ev.total == 10_000 - 2800


@pytest.fixture(scope="module")
def defconfig() -> Configuration:
    return resolve(load_tree("1.38.0"), [])


@pytest.mark.parametrize("arch", ["x86_64", "riscv64"])
def test_delta_matches_estimate_difference(arch: str, defconfig: Configuration) -> None:
    tree = load_tree("1.38.0")
    est = estimator_for("1.38.0", arch)
    without = resolve(tree, [("LS", "n")])
    d = est.delta(defconfig, "LS", "n")
    assert d < 0
    assert d == est.total(without) - est.total(defconfig)
    assert est.delta(without, "LS", "y") == -d


@pytest.mark.usefixtures("coarse_riscv64")
def test_coarse_basis_is_labelled(defconfig: Configuration) -> None:
    e = estimator_for("1.38.0", "riscv64").estimate(defconfig)
    assert not e.calibrated and "prompt labels" in e.basis and "32-bit x86 glibc" in e.basis


def test_calibrated_x86_64_is_shipped(defconfig: Configuration) -> None:
    e = estimator_for("1.38.0", "x86_64").estimate(defconfig)
    assert e.calibrated and e.basis == "calibrated x86_64/zig 1.38.0"
    # busyconf's defconfig profile (STATIC, no TC) measured 1,221,160 bytes with zig 0.17.1.
    assert e.per_symbol["LS"] > 0 and abs(e.total - 1_221_160) < 0.01 * 1_221_160


def test_an_option_no_table_prices_is_named_when_it_is_on() -> None:
    tree = load_tree("1.38.0")
    est = estimator_for("1.38.0", "x86_64")
    debug = resolve(tree, [("DEBUG", "y")])
    o0 = resolve(tree, [("DEBUG", "y"), ("DEBUG_PESSIMIZE", "y")])
    assert est.estimate(debug).unpriced == ()
    assert est.estimate(o0).unpriced == ("DEBUG_PESSIMIZE",)
    # What the name is for: the table gives -O0 nothing (x86_64's full reference: 8.2 MB with
    # DEBUG, 20.3 MB with both).
    assert est.delta(debug, "DEBUG_PESSIMIZE", "y") == 0


def test_toggle_is_fast(defconfig: Configuration) -> None:
    est = estimator_for("1.38.0", "x86_64")
    est.estimate(defconfig)
    start = time.perf_counter()
    for _ in range(20):
        est.delta(defconfig, "VI", "n")
    assert (time.perf_counter() - start) / 20 < 0.05


def test_tiny_applets_cost_little_in_a_sparse_profile() -> None:
    """true and false are a few dozen bytes; their share of compressed usage texts is noise."""
    from pathlib import Path

    from busyconf.model.profile import load_profile, resolve_profile

    config = resolve_profile(load_profile(Path(__file__).parents[2] / "configs" / "container-shell.toml"))
    e = estimator_for("1.38.0", "x86_64").estimate(config)
    assert 0 < e.total < 330_000
    assert abs(e.per_symbol.get("TRUE", 0)) < 200 and abs(e.per_symbol.get("FALSE", 0)) < 200
    assert e.per_symbol["AWK"] > 10_000


def test_breakdown_is_what_switching_off_saves() -> None:
    """The per-symbol costs kept incrementally equal the change set() makes, after random toggles."""
    import random

    from busyconf.size.cost_model import enabled_names

    est = estimator_for("1.38.0", "x86_64")
    model = est.model
    config = resolve(load_tree("1.38.0"), [])
    ev = Evaluation(model)
    ev.sync(enabled_names(config.values, model))
    rng = random.Random(4)
    names = sorted(model.names)
    for step in range(4):
        for name in rng.sample(names, 25):
            ev.set(name, name not in ev.enabled)
        for name in sorted(ev.enabled):
            before = ev.total
            ev.set(name, False)
            saved = before - ev.total
            ev.set(name, True)
            assert ev.cost_of(name) == saved, (step, name)
