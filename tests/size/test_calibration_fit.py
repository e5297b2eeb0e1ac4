"""The calibration's fit on synthetic measurements: no build, numbers checked by hand."""

from __future__ import annotations

import json
import lzma
from pathlib import Path

import pytest

from busyconf.errors import UserError
from busyconf.model.kconfig import Applet
from busyconf.size.calibration import (
    LadderPoint,
    Measurements,
    Minimal,
    Reference,
    Relinks,
    Toggle,
    UsageText,
    build_model,
    read_measurements,
    refit,
    refit_file,
    table_text,
    write_measurements,
)
from busyconf.size.calibration.donors import SectionMap, scaled
from busyconf.size.calibration.fit import fit_power, own_costs
from busyconf.size.calibration.ladder import with_residual
from busyconf.size.calibration.measurements import decode, encode
from busyconf.size.calibration.state import State, load_state
from busyconf.size.calibration.usage_fit import toggle_code
from busyconf.size.cost_model import Evaluation, SizeModel
from busyconf.size.linkmap import LinkMap, portable
from busyconf.size.table import TableKey, loads

NONE = {"libbb/a.o:(.text.a)": 100}
A_MAIN = "a/a.o:(.text.a_main)"
SHARED = "libbb/shared.o:(.text.s)"


def _relinks() -> Relinks:
    """Two applets: A keeps a_main (50) and the shared code (30), B keeps b_main (70) and the shared code."""
    links = {
        "(none)": LinkMap(dict(NONE), 1000),
        "A": LinkMap({**NONE, A_MAIN: 50, SHARED: 30}, 1080),
        "B": LinkMap({**NONE, "b/b.o:(.text.b_main)": 70, SHARED: 30}, 1100),
    }
    return Relinks(links, {"A": ["a_main"], "B": ["b_main"]})


def _feature() -> Toggle:
    """F (a feature of A, on in the reference) switched off: a_main loses 12 bytes, F's own object 8."""
    return Toggle("n", ["F"], 1140, {A_MAIN: -12, "x/x.o:(.text.f)": -8})


def _model(**extra: object) -> SizeModel:
    return build_model(
        release="1.38.0",
        arch="x86_64",
        relinks=_relinks(),
        ref_values={"A": "y", "B": "y", "F": "y"},
        ref_size=1160,
        toggles={"F": _feature()},
        toolchain_version="zig 0.17.1",
        **extra,  # type: ignore[arg-type]
    )


def _total(model: SizeModel, on: list[str]) -> int:
    ev = Evaluation(model)
    ev.sync(on)
    return ev.total


def test_units_are_sections_grouped_by_their_users() -> None:
    """Units, largest first: {B} b_main 70, {A} a_main 50 less F's 12 bytes, {A, B} shared 30."""
    model = _model()
    assert model.units == (70, 38, 30)
    assert model.symbols["A"].units == (1, 2) and model.symbols["B"].units == (0, 2)
    # F: 8 bytes no unit holds (its own), 12 bytes of A's unit (live only with A).
    assert model.symbols["F"].own == 8 and model.symbols["F"].deltas == ((1, 12),)
    # All on, before the anchor: the no-applet link (1000: F's own 8 come off the base and
    # back as F's cost), the units (70 + 38 + 30) and F's 12 in A's unit: 1150. The reference
    # is 1160, so the anchor adds 10.
    assert model.info["anchor_correction"] == 10
    assert model.base == 1000 - 8 + 10


def test_the_model_moves_as_the_measurements_did() -> None:
    model = _model()
    assert _total(model, ["A", "B", "F"]) == 1160  # the reference, exactly
    assert _total(model, ["A", "B"]) == 1140  # F's toggle
    assert _total(model, ["A", "F"]) == 1160 - 70  # B's main; the shared code stays for A
    assert _total(model, ["B", "F"]) == 1160 - 50  # a_main with F's 12 bytes; F's own 8 stay
    assert _total(model, []) == 1002


def test_a_symbol_is_charged_only_for_itself() -> None:
    """A toggle that switched a sub-option along has the sub-option's cost taken off."""
    toggles = {"A": Toggle("n", ["A", "F"], 0, {}), "F": Toggle("n", ["F"], 0, {})}
    vectors = {"A": (10.0, {0: 5.0, 1: 4.0}), "F": (3.0, {0: 2.0})}
    costs = own_costs(vectors, {"A": {"F"}, "F": set()}, toggles)
    assert costs == {"F": (3.0, {0: 2.0}), "A": (7.0, {0: 3.0, 1: 4.0})}
    # Not when the sub-option was flipped the other way.
    toggles["F"] = Toggle("y", ["F"], 0, {})
    assert own_costs(vectors, {"A": {"F"}, "F": set()}, toggles)["A"] == (10.0, {0: 5.0, 1: 4.0})


def test_minimal_reference_moves_features_and_rescales() -> None:
    """What A keeps in the full reference but not in the minimal one belongs to A's feature F."""
    a_only = {"(none)": LinkMap(dict(NONE), 996), "A": LinkMap({**NONE, A_MAIN: 38, SHARED: 30}, 1064)}
    minimal = Minimal(1100, {"A": "y", "B": "y"}, a_only)
    toggles = {"F": _feature(), "A": Toggle("n", ["A", "F"], 1160 - 58, {A_MAIN: -50, "x/x.o:(.text.f)": -8})}
    model = build_model(
        release="1.38.0",
        arch="x86_64",
        relinks=_relinks(),
        ref_values={"A": "y", "B": "y", "F": "y"},
        ref_size=1160,
        toggles=toggles,
        toolchain_version="zig 0.17.1",
        minimal=minimal,
    )
    # a_main's section is in A's minimal relink: it stays A's; nothing moves to F.
    assert model.symbols["A"].units == (1, 2)
    # F's own 8 bytes against the no-applet links' 1000 - 996 = 4: scaled by 0.5.
    assert model.symbols["F"].own == 4
    assert model.info["minimal_size"] == 1100
    assert model.info["minimal_error"] == _total(model, ["A", "B"]) - 1100


def test_fit_power_recovers_a_power_law() -> None:
    coef, power = fit_power([1.0, 4.0, 9.0, 16.0], [3.0, 6.0, 9.0, 12.0])
    assert coef == pytest.approx(3.0) and power == pytest.approx(0.5)
    # Fewer than two usable points: the neutral fit.
    assert fit_power([0.0, 5.0], [1.0, 0.0]) == (1.0, 1.0)


def test_ladder_residual_is_a_line_to_the_reference() -> None:
    """Excess 40 with no applet, 30 with half of them: the slope is the median of 40/1 and 30/0.5."""
    model = _model()
    real_none = _total(model, []) - 40
    real_half = _total(model, ["A"]) - 30
    points = [LadderPoint(0.0, (), real_none, ()), LadderPoint(0.5, ("A",), real_half, ("A",))]
    points.append(LadderPoint(0.7, ("A", "B"), failed=True))
    out = with_residual(model, ["A", "B"], points, None)
    assert out.residual == ((0.0, 50), (1.0, 0))  # median of 40 and 60
    assert out.residual_symbols == ("A", "B")
    assert out.info["residual_measured"] == [[0.0, 40], [0.5, 30]]
    # Every point at the reference: nothing to take off.
    assert with_residual(model, ["A"], [LadderPoint(1.0, ("A",), 5, ("A",))], None) is model


def test_usage_code_is_the_toggle_less_its_texts() -> None:
    usage_key = "libbb/appletlib.o:(.rodata.packed_usage)"
    t = Toggle("n", ["SHOW_USAGE"], 900, {usage_key: -60, "libbb/appletlib.o:(.text.bb_show_usage)": -40})
    assert toggle_code({"SHOW_USAGE": t}, 1000, "SHOW_USAGE") == 40
    assert toggle_code({}, 1000, "SHOW_USAGE") is None


def test_transferred_toggles_are_scaled_by_the_reference_sizes() -> None:
    their = {
        "F": Toggle("n", ["F"], 1900, {A_MAIN: -40}, approx=True),
        "G": Toggle("n", ["G"], 2000, {}, failed=True),
    }
    out, note = scaled(their, 2000, 1000, "x", "x86_64", "1.38.0")
    assert out["F"] == Toggle("n", ["F"], 950, {A_MAIN: -20})
    # A toggle the donor could not build stays one that was not measured.
    assert out["G"] == Toggle("n", ["G"], 1000, {}, failed=True)
    assert note == "compile-level costs measured for 1.38.0 on x86_64, scaled x0.500 (reference sizes)"
    with pytest.raises(UserError, match="measured no toggles"):
        scaled({}, 1, 1, "x", "x86_64")


def test_a_transfer_scales_each_section_renames_them_and_keeps_reach() -> None:
    """Thumb-2 shrinks code, not strings: each section takes the ratio its bytes have on the two CPUs."""
    cache = "/root/.cache/zig/o/" + "a" * 32 + "/"
    libc = f"{cache}libc.a({cache}regexec.o):(.text.regexec)"
    text, helper = "ls/ls.o:(.text.ls_main)", "ls/ls.o:(.text.ls_helper)"
    big_text, big_ro, other_ro = "x/x.o:(.text.x_main)", "x/x.o:(.rodata.x_table)", "y/y.o:(.rodata.y)"

    def relinks(code: int, ro: int, libc_key: str) -> Relinks:
        sections = {big_text: code, big_ro: ro, text: code // 100, libc_key: code * 7 // 10}
        return Relinks({"(none)": LinkMap({}, 10), "X": LinkMap(sections, 20_000)}, {"X": ["x_main"]})

    ours_libc = libc.replace("a" * 32, "b" * 32)
    theirs = SectionMap.of(relinks(10_000, 8_000, libc))
    ours = SectionMap.of(relinks(6_000, 8_000, ours_libc))
    assert portable(libc) == "libc.a(regexec.o):(.text.regexec)" == portable(ours_libc)
    diff = {text: -400, helper: -40, big_ro: -600, other_ro: -100, libc: -10}
    t = Toggle("n", ["F"], 1_000_000 - 1_152, diff, reach={libc: 7000})
    out, note = scaled({"F": t}, 1_000_000, 900_000, "x", "x86_64", "1.38.0", (theirs, ours))
    got = out["F"]
    # ls_main and regexec by their own ratio, ls_helper by ls.o's, y.o's rodata by rodata's (x.o's table).
    assert got.diff == {text: -240, helper: -24, big_ro: -600, other_ro: -100, ours_libc: -6}
    # 2 bytes no section holds (alignment) scale with the reference sizes: x0.9.
    assert got.size == 900_000 - 970 - 2
    assert got.reach == {ours_libc: 4200}, "the reached section's size on this CPU"
    assert note.endswith("scaled per section (text x0.600, rodata x1.000, data x0.900 overall)")


def _texts() -> tuple[UsageText, ...]:
    out = []
    for i, name in enumerate(["a", "b", "c", "d", "e"]):
        applet = Applet(name, (name.upper(),), main=f"{name}_main", usage=name)
        text = f"[-{name}] FILE".encode() * (i + 1)
        out.append(UsageText(applet, text, text + b"\n\t\x01FEATURE_X\x02 -x\x03" * (i + 2)))
    return tuple(out)


def _measurements() -> Measurements:
    toggles = {"F": _feature()}
    full = Reference(1160, {"A": "y", "B": "y", "F": "y"}, _relinks(), toggles)
    low_links = {"(none)": LinkMap(dict(NONE), 990), "A": LinkMap({**NONE, A_MAIN: 38}, 1028)}
    low = Reference(
        1040,
        {"A": "y"},
        Relinks(low_links, {"A": ["a_main"]}),
        {"F": Toggle("y", ["F"], 1060, {A_MAIN: 12, "x/x.o:(.text.f)": 8})},
        ladder=(LadderPoint(0.0, (), 1000, ()),),
    )
    return Measurements("1.38.0", "x86_64", "zig", "zig 0.17.1", "abc", ("A", "B"), full, None, low, _texts())


def test_measurements_round_trip_byte_for_byte(tmp_path: Path) -> None:
    m = _measurements()
    data = encode(m)
    assert decode(data, "x") == m
    assert encode(decode(data, "x")) == data
    # xz (no name, no time), JSON with sorted keys.
    assert data.startswith(b"\xfd7zXZ\0")
    text = lzma.decompress(data).decode()
    assert text == json.dumps(json.loads(text), sort_keys=True, separators=(",", ":"))
    path = tmp_path / "m.json.xz"
    write_measurements(m, path)
    assert path.read_bytes() == data and read_measurements(path) == m


def test_refit_gives_the_same_table_from_the_file(tmp_path: Path) -> None:
    m = _measurements()
    path = tmp_path / "m.json.xz"
    write_measurements(m, path)
    text = refit_file(path)
    assert text == table_text(m) == table_text(read_measurements(path))
    model = loads(text, "t", TableKey("1.38.0", "x86_64", "zig"))
    assert model == refit(m).to_dict()
    # The sparse model rides along, F blended in (on in the full reference, off in the sparse one).
    assert model["blend"] == ["F"] and model["sparse"]["info"]["reference"] == "allnoconfig + every applet"
    assert model["usage"]


def test_unreadable_measurements_are_one_line_errors(tmp_path: Path) -> None:
    with pytest.raises(UserError, match=r"^x: not a calibration's measurements"):
        decode(b"not gzip", "x")
    with pytest.raises(UserError, match=r"^y: measurements of format 9, this busyconf reads 1$"):
        decode(lzma.compress(b'{"format": 9}'), "y")
    with pytest.raises(UserError, match="cannot read measurements"):
        read_measurements(tmp_path / "none.json.xz")


def test_state_round_trips_and_an_old_state_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "calibration-state.json"
    state = State("sig", 1160, {"F": _feature()}, ladder={"k": LadderPoint(0.5, ("A",), 9, ("A",))})
    state.sibling_reach, state.sibling_rule = {"TEST2": {"libc.a(regcomp.o):(.text.regcomp)": 40}}, 1
    state.save(path)
    assert load_state(path, "sig") == state
    assert load_state(path, "other") == State("other")
    path.write_text(json.dumps({"signature": "[2, ...]", "toggles": {}}))
    with pytest.raises(UserError, match=r"calibration-state.json: calibration state of an older busyconf"):
        load_state(path, "sig")


def test_code_a_shared_main_reaches_through_one_applet_is_that_applets() -> None:
    """``[[`` (T2) compiles ``=~`` into test_main: the regex is T2's and sed's, not ``test``'s (T)."""
    regex = "libc.a(regcomp.o):(.text.regcomp)"
    t_main, s_main = "coreutils/test.o:(.text.test_main)", "editors/sed.o:(.text.sed_main)"
    links = {
        "(none)": LinkMap(dict(NONE), 1000),
        "T": LinkMap({**NONE, t_main: 20, regex: 40}, 1060),
        "T2": LinkMap({**NONE, t_main: 20, regex: 40}, 1060),
        "S": LinkMap({**NONE, s_main: 30, regex: 40}, 1070),
    }
    relinks = Relinks(links, {"T": ["test_main"], "T2": ["test_main"], "S": ["sed_main"]})
    binop = "coreutils/test.o:(.text.binop)"

    def fit(t2: Toggle) -> SizeModel:
        return build_model(
            release="1.38.0",
            arch="x86_64",
            relinks=relinks,
            ref_values={"T": "y", "T2": "y", "S": "y"},
            ref_size=1090,
            toggles={"T2": t2},
            toolchain_version="zig 0.17.1",
        )

    model = fit(Toggle("n", ["T2"], 1086, {binop: -4}, reach={regex: 40}))
    regex_cost = _total(model, ["T", "T2"]) - _total(model, ["T"]) - 4
    assert regex_cost == 40  # T2 brings the regex to a test that had none
    # test's main, less the 4 bytes of binop that T2 compiles in: sed has the regex.
    assert _total(model, ["T", "S"]) - _total(model, ["S"]) == 16
    assert _total(model, ["T"]) - _total(model, []) == 16
    # Without the reach (tables made before it), test keeps the regex as it did.
    old = fit(Toggle("n", ["T2"], 1086, {binop: -4}))
    assert _total(old, ["T"]) - _total(old, []) == 56


def test_debug_info_follows_its_object_under_another_zig_cache_folder() -> None:
    """DEBUG builds musl with -g into another libc.a: regcomp's debug info is the regex's users'."""
    plain = "/c/o/" + "a" * 32 + "/libc.a(/c/o/" + "b" * 32 + "/regcomp.o)"
    debug = "/c/o/" + "c" * 32 + "/libc.a(/c/o/" + "d" * 32 + "/regcomp.o)"
    core = "/c/o/" + "c" * 32 + "/libc.a(/c/o/" + "d" * 32 + "/memcpy.o)"
    none = {**NONE, "/c/o/" + "a" * 32 + "/libc.a(/c/o/" + "b" * 32 + "/memcpy.o):(.text.memcpy)": 10}
    links = {
        "(none)": LinkMap(dict(none), 1010),
        "S": LinkMap({**none, f"{plain}:(.text.regcomp)": 40}, 1050),
    }
    diff = {f"{debug}:(.debug_info)": 500, f"{core}:(.debug_info)": 70}
    dbg = Toggle("y", ["DEBUG"], 1050 + 500 + 70, diff)
    model = build_model(
        release="1.38.0",
        arch="x86_64",
        relinks=Relinks(links, {"S": ["sed_main"]}),
        ref_values={"S": "y"},
        ref_size=1050,
        toggles={"DEBUG": dbg},
        toolchain_version="zig 0.17.1",
    )
    # memcpy is always linked: its debug info is DEBUG's own; regcomp's goes with sed.
    assert model.symbols["DEBUG"].own == 70
    assert model.symbols["DEBUG"].deltas == ((0, 500),)
    assert _total(model, ["DEBUG"]) - _total(model, []) == 70
