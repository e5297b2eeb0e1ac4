"""The Kconfig model against the real BusyBox trees and BusyBox's own conf."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from busyconf.errors import ConfigSyntaxError, UnknownSymbolError, ValueRangeError
from busyconf.model.config import explain, missing_dependencies, resolve
from busyconf.model.dotconfig import dotconfig_text, parse_dotconfig
from busyconf.model.kconfig import KconfigTree, load_tree
from busyconf.model.profile import (
    allnoconfig_assignments,
    import_dotconfig,
    load_profile,
    profile_assignments,
    tree_for,
)
from tests.conftest import DEFAULT, OLDEST, BusyBoxConf

CONFIGS = Path(__file__).resolve().parents[2] / "configs"
STARTERS = sorted(CONFIGS.glob("*.toml"))


def export(tree: KconfigTree, assignments: list[tuple[str, str]]) -> str:
    return dotconfig_text(tree, assignments)


def test_symbol_counts_match_the_releases(tree: KconfigTree, tree_oldest: KconfigTree) -> None:
    assert len(tree.symbols) == 1095
    assert len(tree_oldest.symbols) == 1067


def test_tree_is_parsed_once_per_process(tree: KconfigTree) -> None:
    assert load_tree(DEFAULT) is tree


def test_symbol_info(tree: KconfigTree) -> None:
    info = tree.info("FEATURE_LS_COLOR")
    assert info.type == "bool"
    assert info.menu_path == ("Coreutils", "ls (14 kb)")
    assert "LS" in info.depends_on
    assert "--color" in info.help
    assert info.locations[0].startswith("coreutils/Config.in:")
    ls = tree.info("LS")
    assert ls.is_applet and ls.applets == ("ls",)
    assert not info.is_applet


def test_applets_come_from_busybox_applet_table(tree: KconfigTree) -> None:
    # Odd names that no guess from symbol names would find.
    assert tree.applets_of("TEST1") == ("[",)
    assert tree.applets_of("TEST2") == ("[[",)
    assert "sh" in tree.applets_of("SH_IS_ASH")
    assert tree.applets_of("FEATURE_LS_COLOR") == ()
    cfg = resolve(tree, [])
    assert {"ls", "[", "[[", "sh", "ash", "vi"} <= set(cfg.applets)
    # IF_NOT_X: the full module tools exist only without modprobe-small,
    # which provides its own depmod.
    assert tree.applets_of("DEPMOD") == ("depmod",)
    assert tree.applets_of("BUSYBOX") == ("busybox",)
    full = resolve(tree, [("MODPROBE_SMALL", "n")])
    assert {"depmod", "insmod", "lsmod", "modprobe", "rmmod"} <= set(full.applets)
    small = resolve(tree, [("DEPMOD", "n"), ("INSMOD", "n")])
    assert "depmod" not in small.applets and "insmod" not in small.applets
    # The C function each entry runs: `sh` is ash or hush depending on the choice.
    mains = {(a.name, a.requires[0]): a.main for a in tree.applets}
    assert mains[("sh", "SH_IS_ASH")] == "ash_main" and mains[("sh", "SH_IS_HUSH")] == "hush_main"
    assert {a.main for a in tree.applets if a.name == "rmmod"} == {"modprobe_main", "rmmod_main"}
    # The usage texts each entry shows: mkpasswd shares cryptpw's, `[` test's.
    usage = {a.name: a.usage for a in tree.applets}
    assert (usage["mkpasswd"], usage["["], usage["ls"]) == ("cryptpw", "test", "ls")
    assert usage["ether-wake"] == "ether_wake"
    # tftp is built only with get or put support.
    off = resolve(tree, [("FEATURE_TFTP_GET", "n"), ("FEATURE_TFTP_PUT", "n")])
    assert "tftp" in cfg.applets and "tftp" not in off.applets


def test_reason_in_words(tree: KconfigTree) -> None:
    resolve(tree, [("LS", "n")])
    assert explain(tree, "FEATURE_LS_COLOR", "y") == "FEATURE_LS_COLOR needs LS, which is off"
    assert missing_dependencies(tree, "FEATURE_LS_COLOR") == ["LS"]
    resolve(tree, [])
    assert explain(tree, "SHELL_ASH", "n") == "SHELL_ASH is selected by SH_IS_ASH, ASH, which are on"
    assert explain(tree, "LS", "n") is None


@pytest.mark.slow
@pytest.mark.parametrize("release", [OLDEST, DEFAULT])
def test_defconfig_and_allnoconfig_equal_busybox_make(
    busybox_conf: dict[str, BusyBoxConf], release: str
) -> None:
    tree = load_tree(release)
    conf = busybox_conf[release]
    assert export(tree, []) == conf.run("defconfig")
    assert export(tree, allnoconfig_assignments(tree)) == conf.run("allnoconfig")


def _fixed_point(conf: BusyBoxConf, text: str) -> None:
    assert conf.run("oldconfig", text) == text


@pytest.mark.slow
@pytest.mark.parametrize("starter", STARTERS, ids=lambda p: p.stem)
def test_starter_export_is_a_fixed_point_of_make_oldconfig(
    busybox_conf: dict[str, BusyBoxConf], starter: Path
) -> None:
    prof = load_profile(starter)
    tree = tree_for(prof)
    _fixed_point(busybox_conf[prof.busybox], export(tree, profile_assignments(tree, prof)))


@pytest.mark.slow
@pytest.mark.parametrize("name", ["deb", "static", "udeb"])
def test_debian_config_import_export_round_trip(
    busybox_conf: dict[str, BusyBoxConf],
    debian_configs: dict[str, Path],
    tree: KconfigTree,
    tmp_path: Path,
    name: str,
) -> None:
    path = debian_configs[name]
    text = path.read_text()
    original = resolve(tree, parse_dotconfig(text, str(path), tree, drop_unknown=True).assignments)
    for base in ("defconfig", "allnoconfig"):
        prof, dropped = import_dotconfig(
            text, str(path), tree, base=base, drop_unknown=True, out_path=tmp_path / f"{name}.toml"
        )
        assert dropped == ["PLATFORM_LINUX"]  # gone from BusyBox since 1.28
        again = resolve(tree, profile_assignments(tree, prof))
        assert again.values == original.values
        exported = export(tree, profile_assignments(tree, prof))
        _fixed_point(busybox_conf[DEFAULT], exported)
        # Debian's file, read back through BusyBox's conf, says the same thing.
        assert busybox_conf[DEFAULT].run("oldconfig", text) == exported


@pytest.mark.slow
def test_import_is_minimal(tree: KconfigTree, debian_configs: dict[str, Path]) -> None:
    path = debian_configs["udeb"]
    prof, _ = import_dotconfig(path.read_text(), str(path), tree, drop_unknown=True)
    base_values = resolve(tree, []).values
    # Every key changes something: dropping any one of them changes the result.
    target = resolve(tree, profile_assignments(tree, prof)).values
    keys = list(prof.config)
    assert len(keys) < len([n for n in base_values if base_values[n] != target[n]])
    for key in keys[:: max(1, len(keys) // 25)]:
        own = [(n, v) for n, v in profile_assignments(tree, prof) if n != key]
        assert resolve(tree, own).values != target, key


def _raw_lines(text: str) -> dict[str, str]:
    out = {}
    for line in text.splitlines():
        m = re.match(r"^CONFIG_(\w+)=(.*)$", line) or re.match(r"^# CONFIG_(\w+) is (not set)$", line)
        if m:
            out[m.group(1)] = m.group(2)
    return out


@pytest.mark.slow
def test_diff_lists_exactly_the_symbols_whose_lines_differ(
    busybox_conf: dict[str, BusyBoxConf], debian_configs: dict[str, Path], tree: KconfigTree
) -> None:
    conf = busybox_conf[DEFAULT]
    a = _raw_lines(conf.run("defconfig"))
    b = _raw_lines(conf.run("oldconfig", debian_configs["udeb"].read_text()))
    expected = sorted(n for n in a if a[n] != b.get(n))
    ca = resolve(tree, [])
    cb = resolve(
        tree, parse_dotconfig(debian_configs["udeb"].read_text(), "udeb", tree, drop_unknown=True).assignments
    )
    assert sorted(n for n, _, _ in ca.diff(cb)) == expected
    assert len(expected) > 100


@pytest.mark.parametrize(
    ("text", "error", "message"),
    [
        ("CONFIG_LS=y\nthis is not a config line\n", ConfigSyntaxError, "x.config:2: malformed line"),
        ("CONFIG_NO_SUCH_THING=y\n", UnknownSymbolError, "x.config:1: unknown symbol CONFIG_NO_SUCH_THING"),
        ("CONFIG_SHA1_SMALL=9\n", ValueRangeError, "x.config:1: SHA1_SMALL=9 is out of its range 0..3"),
        (
            "CONFIG_FEATURE_EDITING_HISTORY=lots\n",
            ValueRangeError,
            "x.config:1: FEATURE_EDITING_HISTORY is an int",
        ),
        ('CONFIG_PID_FILE_PATH="/var/run\n', ConfigSyntaxError, "x.config:1: unterminated string"),
        ("CONFIG_LS=maybe\n", ValueRangeError, "x.config:1: LS is a bool"),
    ],
    ids=["malformed", "unknown", "range", "not-int", "unterminated", "bad-bool"],
)
def test_bad_dotconfig_is_refused_with_its_line(
    tree: KconfigTree, text: str, error: type[Exception], message: str
) -> None:
    with pytest.raises(error) as info:
        parse_dotconfig(text, "x.config", tree)
    assert str(info.value).startswith(message)
    assert "\n" not in str(info.value)


def test_unknown_symbols_can_be_dropped_and_are_listed(tree: KconfigTree) -> None:
    dot = parse_dotconfig("CONFIG_NO_SUCH_THING=y\nCONFIG_LS=n\n", "x", tree, drop_unknown=True)
    assert dot.dropped == ["NO_SUCH_THING"] and dot.assignments == [("LS", "n")]


def test_unmet_int_written_as_zero_is_accepted(tree: KconfigTree) -> None:
    # BusyBox writes 0 for an int whose dependencies are off, whatever its range.
    text = "# CONFIG_ADDUSER is not set\nCONFIG_LAST_ID=0\nCONFIG_LAST_SYSTEM_ID=0\n"
    dot = parse_dotconfig(text, "x", tree)
    assert ("LAST_ID", "0") in dot.assignments
    # conf ignores "is not set" on a number rather than failing; so do we.
    assert parse_dotconfig("# CONFIG_LAST_ID is not set\n", "x", tree).assignments == []


@pytest.fixture
def tiny_tree(tmp_path: Path) -> KconfigTree:
    """A three-symbol Kconfig for the cases BusyBox's own tree lacks (hex)."""
    (tmp_path / "include").mkdir()
    (tmp_path / "include" / "applets.h").write_text("IF_TOOL(APPLET(tool, BB_DIR_BIN, BB_SUID_DROP))\n")
    (tmp_path / "Config.in").write_text(
        'mainmenu "tiny"\n'
        'config TOOL\n\tbool "tool"\n\tdefault y\n'
        'config ADDR\n\thex "address"\n\trange 0x10 0xff\n\tdefault 0x20\n\tdepends on TOOL\n'
        'config NAME\n\tstring "name"\n\tdefault "a\\"b"\n'
    )
    return KconfigTree("tiny", tmp_path, tmp_path)


def test_hex_values(tiny_tree: KconfigTree) -> None:
    with pytest.raises(ValueRangeError, match=r"t:1: ADDR is hex; '0xZZ' is not a hex number"):
        parse_dotconfig("CONFIG_ADDR=0xZZ\n", "t", tiny_tree)
    with pytest.raises(ValueRangeError, match=r"t:1: ADDR=0x100 is out of its range 0x10..0xff"):
        parse_dotconfig("CONFIG_ADDR=0x100\n", "t", tiny_tree)
    dot = parse_dotconfig('CONFIG_ADDR=0x40\nCONFIG_NAME="x/y"\n', "t", tiny_tree)
    text = export(tiny_tree, dot.assignments)
    assert "CONFIG_ADDR=0x40\n" in text and 'CONFIG_NAME="x/y"\n' in text
    # A backslash would reach the shell that sources .config: the gate refuses it.
    with pytest.raises(ValueRangeError, match=r"t:2: CONFIG_NAME: 'x\\\\y' .*refusing it"):
        parse_dotconfig('CONFIG_ADDR=0x40\nCONFIG_NAME="x\\\\y"\n', "t", tiny_tree)
    assert tiny_tree.enabled_applets(resolve(tiny_tree, []).values) == ["tool"]
