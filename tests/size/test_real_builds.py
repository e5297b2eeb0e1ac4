"""With real builds: the exact engine equals kbuild, and the estimate moves as the real binary does."""

from __future__ import annotations

import json
import re
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import pytest

from busyconf.build import config_lines as bdot
from busyconf.errors import BuildError, Interrupted
from busyconf.model import load_tree, resolve
from busyconf.model.config import Configuration
from busyconf.model.dotconfig import dotconfig_text
from busyconf.model.profile import allnoconfig_assignments
from busyconf.size import estimator_for, usage
from busyconf.size.autoconf import force_autoconf
from busyconf.size.calibration.context import CalibrationProgress, Measuring
from busyconf.size.calibration.reach import library_reach, sibling_probes, sibling_reach
from busyconf.size.calibration.records import Toggle
from busyconf.size.calibration.toggles import Around, Plan, around, measure_toggle, plan_toggle
from busyconf.size.exact import ExactEngine, engine_for
from busyconf.size.workdir import make_binary

pytestmark = pytest.mark.slow

SMALL = ["LS", "CAT", "ECHO", "MKDIR", "RM"]
MORE = SMALL + ["GREP", "SED", "FIND"]


def _config(names: list[str], extra: list[tuple[str, str]] = ()) -> tuple[Configuration, str]:  # type: ignore[assignment]
    tree = load_tree("1.38.0")
    assignments = allnoconfig_assignments(tree) + [("STATIC", "y")] + [(n, "y") for n in names] + list(extra)
    config = resolve(tree, assignments)
    return config, dotconfig_text(tree, list(config.values.items()))


@pytest.fixture(scope="session")
def engine() -> ExactEngine:
    return engine_for("1.38.0", "x86_64")


def test_exact_engine_equals_a_fresh_kbuild_build(engine: ExactEngine, tmp_path: Path) -> None:
    _, text = _config(MORE, [("FEATURE_LS_COLOR", "y"), ("FEATURE_FIND_EXEC", "n")])
    exact = engine.measure(text)
    fresh = replace(engine.wt, root=tmp_path)
    fresh.obj.mkdir()
    assert exact.size == make_binary(fresh, text)
    again = engine.measure(text)
    assert again.size == exact.size and again.compiled == 0


def test_a_build_stopped_under_other_flags_does_not_leak_into_the_next(engine: ExactEngine) -> None:
    """make recompiles objects (and rewrites their commands) before it stops: the tree is switched back."""
    _, text = _config(SMALL)
    before = engine.measure(text)
    # A define never built before, so that this measurement has to run make with new flags.
    fresh = f"-DBUSYCONF_STOPPED_{uuid.uuid4().hex}"
    _, other = _config(SMALL, [("EXTRA_CFLAGS", fresh)])
    cancel = threading.Event()
    compiled: list[str] = []

    def line(text: str) -> None:
        if text.strip().startswith("CC "):
            compiled.append(text)
            if len(compiled) == 30:
                cancel.set()

    with pytest.raises(Interrupted):
        engine.measure(other, cancel=cancel, on_line=line)
    assert len(compiled) >= 30
    after = engine.measure(text)
    assert after.size == before.size
    assert after.compiled == 0, "objects were compiled again with the stopped build's commands"


def test_a_full_build_leaves_no_command_of_other_flags_behind(engine: ExactEngine) -> None:
    """An object the full build did not need keeps other flags' command: it must not be run later."""
    engine.measure(_config(MORE)[1])
    define = f"-DBUSYCONF_FULL_{uuid.uuid4().hex}"
    assert engine.measure(_config(SMALL, [("EXTRA_CFLAGS", define)])[1]).full_build
    more = engine.measure(_config(MORE, [("EXTRA_CFLAGS", define)])[1])
    assert not more.full_build
    assert define in (engine.obj / "findutils" / ".grep.o.cmd").read_text()


def test_two_engines_on_one_tree_see_each_others_builds(engine: ExactEngine) -> None:
    """Two processes (the editor and a bench, say) measuring in one tree: each reads the tree's record."""
    _, text = _config(SMALL)
    before = engine.measure(text)
    other = ExactEngine(engine.wt)
    _, flagged = _config(SMALL, [("EXTRA_CFLAGS", f"-DBUSYCONF_OTHER_{uuid.uuid4().hex}")])
    assert other.measure(flagged).full_build
    after = engine.measure(text)
    assert after.size == before.size
    assert after.compiled == 0, "the other engine's commands were run for this configuration"


def test_an_engine_saving_later_keeps_the_objects_another_cached(engine: ExactEngine) -> None:
    """The editor and a bench on one tree: the later save must not drop what the other cached."""
    late = ExactEngine(engine.wt)  # it reads the object index before the other caches anything new
    _, ours = _config(SMALL, [("EXTRA_CFLAGS", f"-DBUSYCONF_OURS_{uuid.uuid4().hex}")])
    _, theirs = _config(SMALL, [("EXTRA_CFLAGS", f"-DBUSYCONF_THEIRS_{uuid.uuid4().hex}")])
    first = engine.measure(ours)
    assert first.full_build
    assert late.measure(theirs).full_build
    again = ExactEngine(engine.wt).measure(ours)
    assert again.size == first.size
    assert (again.full_build, again.compiled) == (False, 0), "the objects the first engine cached were lost"


def _generation(engine: ExactEngine) -> str:
    return str(json.loads((engine.wt.root / "exact-state.json").read_text())["generation"])


def test_a_relink_links_what_this_engine_measured_though_another_built_since(engine: ExactEngine) -> None:
    """A calibration relinks after measuring; the editor may build in the tree in between."""
    _, small = _config(SMALL)
    _, more = _config(MORE)
    want = engine.measure(small).size
    settled = _generation(engine)
    assert engine.link() == want and _generation(engine) == settled, "relinked without need to"
    other = ExactEngine(engine.wt)
    theirs = other.measure(more).size
    assert theirs != want
    assert engine.link() == want, "relinked the other engine's objects"
    assert other.link() == theirs


def test_what_this_engine_built_is_kept_though_another_built_since(engine: ExactEngine) -> None:
    """A calibration reads the values and objects it built after measuring: not the tree's newer ones."""
    _, small = _config(SMALL)
    engine.measure(small)
    values, keys = engine.built()
    assert values.get("GREP", "n") == "n"
    ExactEngine(engine.wt).measure(_config(MORE)[1])
    assert bdot.parse((engine.obj / ".config").read_text())["GREP"] == "y", "the tree holds the other build"
    assert engine.built() == (values, keys)


def test_a_relink_links_what_this_thread_measured(engine: ExactEngine) -> None:
    """One engine per process: the editor's worker and a calibration thread each keep their own."""
    _, small = _config(SMALL)
    _, more = _config(MORE)
    want = engine.measure(small).size
    with ThreadPoolExecutor(1) as pool:
        theirs = pool.submit(lambda: engine.measure(more).size).result()
    assert theirs != want and engine.link() == want


def test_the_binary_holds_no_folder_of_the_machine_that_built_it(engine: ExactEngine) -> None:
    """BusyBox's unit tests print ``__FILE__``: it must not be the builder's cache folder."""
    _, text = _config(SMALL + ["UNIT_TEST"])
    res = engine.measure(text)
    # A full build leaves kbuild's binary; a relink writes exact.bin.
    data = (engine.wt.binary if res.full_build else engine.wt.root / "exact.bin").read_bytes()
    assert b"libbb/compare_string_array.c" in data, "the unit tests were not linked: nothing is checked"
    for folder in (engine.wt.srctree, engine.wt.obj, engine.zig.parent):
        assert str(folder).encode() not in data, folder


def test_estimate_moves_with_the_real_binary(engine: ExactEngine) -> None:
    est = estimator_for("1.38.0", "x86_64")
    small, small_text = _config(SMALL)
    more, more_text = _config(MORE)
    real_small = engine.measure(small_text).size
    real_more = engine.measure(more_text).size
    real_delta = real_more - real_small
    est_delta = est.total(more) - est.total(small)
    assert real_delta > 0 and est_delta > 0
    # Near the sparse reference (allnoconfig with every applet): measured 39,816 real
    # against 40,003 estimated (the full reference alone said 62,485).
    assert 0.9 * real_delta <= est_delta <= 1.1 * real_delta, (real_delta, est_delta)


@pytest.mark.parametrize("verbose", ["y", "n"])
def test_usage_texts_are_the_ones_the_build_compresses(engine: ExactEngine, verbose: str) -> None:
    """The segments of include/usage.h add up to the text the build packs, byte for byte."""
    tree = load_tree("1.38.0")
    options = [("SHOW_USAGE", "y"), ("FEATURE_VERBOSE_USAGE", verbose)]
    config, text = _config(MORE, [*options, ("FEATURE_LS_COLOR", "y")])
    engine.measure(text)
    header = (engine.obj / "include" / "usage_compressed.h").read_text()
    match = re.search(r"UNPACKED_USAGE_LENGTH (\d+)", header)
    assert match
    types = {n: tree.type_of(n) for n in tree.symbols}
    marked = usage.extract_texts(engine.obj / "include", tree.applets, config.values, types, "gcc")
    model = usage.UsageModel(usage.segments(marked), ((1, 0, 0), (1, 0, 0)), 0, 0, 0)
    state = usage.UsageState(model)
    for name, value in config.values.items():
        if value == "y":
            state.set(name, True)
    assert state.raw[verbose == "y"] == int(match.group(1))
    # One option less (ls's colour flag is a segment of its text) moves it as the build does.
    engine.measure(_config(MORE, options)[1])
    header = (engine.obj / "include" / "usage_compressed.h").read_text()
    state.set("FEATURE_LS_COLOR", False)
    assert f"UNPACKED_USAGE_LENGTH {state.raw[verbose == 'y']}\n" in header


def test_forcing_a_selected_symbol_reaches_the_compiled_headers(engine: ExactEngine) -> None:
    """Calibration measures LONG_OPTS, which options select, by forcing it off in autoconf.h."""
    _, text = _config(MORE, [("LONG_OPTS", "y")])
    on = engine.measure(text).size
    header = (engine.obj / "include" / "autoconf.h").read_text()
    assert force_autoconf(force_autoconf(header, {"LONG_OPTS": False}), {"LONG_OPTS": True}) == header
    with pytest.raises(BuildError):
        force_autoconf(header, {"NO_SUCH_SYMBOL": False})
    off = engine.measure(text, force={"LONG_OPTS": False}).size
    assert off < on
    assert "#define ENABLE_LONG_OPTS 0" in (engine.obj / "include" / "autoconf.h").read_text()
    assert engine.measure(text).size == on


def _calibration_toggle(
    engine: ExactEngine, work: Path, applets: list[str], name: str
) -> tuple[Measuring, Around, str, Plan, Toggle]:
    """Calibration's toggle of ``name`` around allnoconfig with ``applets``, built for real.

    Returns the measuring context, the reference, its .config text, the plan and the toggle.
    """
    config, text = _config(applets)
    ctx = Measuring(load_tree("1.38.0"), engine, work)
    ref = engine.measure(text)
    ref_around = around(ctx, list(config.values.items()), config.values, ref.size, ctx.link_map("ref", ()))
    plan = plan_toggle(ctx.tree, ref_around, name, engine.obj, "x86_64")
    return ctx, ref_around, text, plan, measure_toggle(ctx, ref_around, [plan])


def test_an_option_under_an_option_off_is_charged_for_itself(engine: ExactEngine, tmp_path: Path) -> None:
    """Calibration's toggle of FEATURE_FIND_EXEC_PLUS around a configuration without FEATURE_FIND_EXEC."""
    _, ref, _, plan, t = _calibration_toggle(engine, tmp_path, MORE, "FEATURE_FIND_EXEC_PLUS")
    ref_size = ref.size
    assert plan.needs == ("FEATURE_FIND_EXEC",)
    assert t.changed == ["FEATURE_FIND_EXEC_PLUS"] and t.needs == ("FEATURE_FIND_EXEC",)
    parent = engine.measure(_config(MORE, [("FEATURE_FIND_EXEC", "y")])[1]).size
    plus = [("FEATURE_FIND_EXEC", "y"), ("FEATURE_FIND_EXEC_PLUS", "y")]
    both = engine.measure(_config(MORE, plus)[1]).size
    assert parent > ref_size and both > parent
    assert t.size - ref_size == both - parent
    assert sum(t.diff.values()) != 0


def test_an_option_reaches_the_decoder_another_applet_keeps(engine: ExactEngine, tmp_path: Path) -> None:
    """FEATURE_SEAMLESS_XZ barely changes a binary with unxz, yet brings man the xz decoder."""
    applets = ["MAN", "UNXZ", "CAT"]
    ctx, ref, text, plan, t = _calibration_toggle(engine, tmp_path, applets, "FEATURE_SEAMLESS_XZ")
    assert not any("decompress_unxz" in k for k in t.diff)
    library_reach(ctx, ref, text, {plan.name: t}, {plan.name: plan})
    assert t.reach is not None
    reached = sum(v for k, v in t.reach.items() if "decompress_unxz.o" in k)
    assert reached > 4000, t.reach


def test_an_applet_brings_the_code_its_siblings_main_reaches_through_it(
    engine: ExactEngine, tmp_path: Path
) -> None:
    """``[[`` (TEST2) compiles ``=~`` into test_main: musl's regex is TEST2's (and sed's), not ``test``'s."""
    applets = ["TEST", "TEST1", "TEST2", "SED"]
    ctx, ref, text, _, t = _calibration_toggle(engine, tmp_path, applets, "TEST2")
    assert t.flip == "n" and t.reach is None
    by_symbol = {"TEST": ["test_main"], "TEST1": ["test_main"], "TEST2": ["test_main"], "SED": ["sed_main"]}
    assert sibling_probes({"TEST2": t}, by_symbol, ref.values) == {"TEST2": {"coreutils/test.o"}}
    cache: dict[str, dict[str, int]] = {}
    out = sibling_reach(ctx, ref.assignments, text, ref.values, {"TEST2": t}, by_symbol, cache)
    reach = out["TEST2"].reach
    assert reach is not None and reach == cache["TEST2"]
    regex = sum(v for k, v in reach.items() if "regcomp.o" in k or "regexec.o" in k)
    assert regex > 10_000, reach
    # The real binaries agree: test alone has no regex, and [[ brings at least that much.
    without = engine.measure(_config(["TEST"])[1]).size
    with_it = engine.measure(_config(["TEST", "TEST2"])[1]).size
    assert with_it - without >= regex
    # Probed once: a second call reads the cache (no round of builds is reported).
    events: list[CalibrationProgress] = []
    ctx.progress = events.append
    assert sibling_reach(ctx, ref.assignments, text, ref.values, {"TEST2": t}, by_symbol, cache) == out
    assert not events
