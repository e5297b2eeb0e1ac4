"""The gate on every string value that reaches BusyBox's build: payloads refused, awkward values kept."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import kconfiglib
import pytest

from busyconf.build import config_lines, gate
from busyconf.errors import UserError
from busyconf.model.config import parse_assignment, to_kconfig
from busyconf.model.dotconfig import dotconfig_text, parse_dotconfig
from busyconf.model.kconfig import KconfigTree, load_tree

RELEASES = ("1.35.0", "1.37.0", "1.38.0")
CONFIGS = Path(__file__).resolve().parents[2] / "configs"
M = "/tmp/busyconf-gate-marker"

# (symbol, payload): each would run a command, inject make syntax, or read or
# write outside the build tree if BusyBox's build saw it.
PAYLOADS = [
    ("BUSYBOX_EXEC_PATH", f"$(touch {M})"),
    ("UNAME_OSNAME", f"$(touch {M})"),
    ("UNAME_OSNAME", f"`touch {M}`"),
    ("UNAME_OSNAME", f"x\n$(shell touch {M})"),
    ("UNAME_OSNAME", f"x\r\n$(shell touch {M})"),
    ("UNAME_OSNAME", 'a"; touch /tmp/x; "'),
    ("UNAME_OSNAME", "a\\"),
    ("UNAME_OSNAME", "Linux # comment"),
    ("PREFIX", f"./_install\nall:\n\ttouch {M}"),
    ("PREFIX", "-rf"),
    ("PID_FILE_PATH", "/var/run;touch /tmp/x"),
    ("INIT_TERMINAL_TYPE", "linux\x00"),
    ("INIT_TERMINAL_TYPE", "vt102 x"),
    ("UDHCPC_DEFAULT_INTERFACE", "eth0;reboot"),
    ("IFUPDOWN_UDHCPC_CMD_OPTIONS", "-R -n; reboot"),
    ("IFUPDOWN_UDHCPC_CMD_OPTIONS", "-R $(reboot)"),
    ("CROSS_COMPILER_PREFIX", f"$(shell touch {M})x;touch {M};"),
    ("SYSROOT", f"`touch {M}`"),
    ("EXTRA_CFLAGS", f"-Os $(shell touch {M})"),
    ("EXTRA_CFLAGS", "-MD -MF/tmp/x"),
    ("EXTRA_CFLAGS", "-MMD -MF /tmp/x"),
    ("EXTRA_CFLAGS", "-wrapper /usr/bin/touch,/tmp/x,--"),
    ("EXTRA_CFLAGS", "-foptimization-record-file=/tmp/x"),
    ("EXTRA_CFLAGS", "-fsave-optimization-record -foptimization-record-file=/tmp/x"),
    ("EXTRA_CFLAGS", "-mllvm -info-output-file=/tmp/x"),
    ("EXTRA_CFLAGS", "-fplugin=/tmp/x.so"),
    ("EXTRA_CFLAGS", "-I/etc"),
    ("EXTRA_CFLAGS", "-I../../../etc"),
    ("EXTRA_CFLAGS", "-Iinclude/../../x"),
    ("EXTRA_CFLAGS", "-I /etc"),
    ("EXTRA_CFLAGS", "-specs=/tmp/x.specs"),
    ("EXTRA_CFLAGS", "@/tmp/args"),
    ("EXTRA_CFLAGS", "-B/tmp"),
    ("EXTRA_CFLAGS", "--sysroot=/tmp"),
    ("EXTRA_CFLAGS", "-isystem/etc"),
    ("EXTRA_CFLAGS", "-include/etc/shadow"),
    ("EXTRA_CFLAGS", "-Wp,-MD,/tmp/x"),
    ("EXTRA_CFLAGS", "-Wa,-a=/tmp/x"),
    ("EXTRA_CFLAGS", "-o /tmp/x"),
    ("EXTRA_CFLAGS", "-save-temps=obj -dumpdir /tmp/"),
    ("EXTRA_CFLAGS", "-fprofile-generate=/tmp/x"),
    ("EXTRA_CFLAGS", "-fdump-tree-all"),
    ("EXTRA_CFLAGS", "-march=native;id"),
    ("EXTRA_CFLAGS", "-DX=$(id)"),
    ("EXTRA_CFLAGS", "-O2 # rest is a make comment"),
    ("EXTRA_LDFLAGS", "-L/"),
    ("EXTRA_LDFLAGS", "-Wl,-Map=/tmp/x"),
    ("EXTRA_LDFLAGS", "-Wl,-Map,/tmp/x"),
    ("EXTRA_LDFLAGS", "-Wl,--version-script=/etc/shadow"),
    ("EXTRA_LDFLAGS", "-Wl,-z,relro,-o,/tmp/x"),
    ("EXTRA_LDFLAGS", "-Xlinker -Map=/tmp/x"),
    ("EXTRA_LDFLAGS", "-fuse-ld=/tmp/evil"),
    ("EXTRA_LDFLAGS", "-T/tmp/x.ld"),
    ("EXTRA_LDLIBS", "m; rm -rf /"),
    ("EXTRA_LDLIBS", "-wrapper"),
    ("EXTRA_LDLIBS", "-l:/etc/shadow"),
    ("EXTRA_LDLIBS", "-L/tmp"),
    ("NOT_YET_A_SYMBOL", "a b"),
    ("NOT_YET_A_SYMBOL", f"$(touch {M})"),
]

# Awkward values that are still legitimate.
BENIGN = [
    ("UNAME_OSNAME", "GNU/Linux"),
    ("UNAME_OSNAME", "My Linux (custom build) 2.0"),
    ("UNAME_OSNAME", ""),
    ("BUSYBOX_EXEC_PATH", "/bin/busybox"),
    ("BUSYBOX_EXEC_PATH", "/proc/self/exe"),
    ("PREFIX", "./_install"),
    ("DEFAULT_SETFONT_DIR", ""),
    ("FEATURE_DEFAULT_PASSWD_ALGO", "sha512"),
    ("FEATURE_MIME_CHARSET", "utf-8"),
    ("UDHCPC_DEFAULT_INTERFACE", "eth0.100"),
    ("UDHCPC_DEFAULT_INTERFACE", "br-lan"),
    ("IFUPDOWN_UDHCPC_CMD_OPTIONS", "-R -n -O search --syslog -x hostname:router"),
    ("EXTRA_CFLAGS", "-Os -march=x86-64-v2 -DFOO=1"),
    ("EXTRA_CFLAGS", "  -O2   -g -fno-stack-protector -fomit-frame-pointer  "),
    ("EXTRA_CFLAGS", "-ffunction-sections -fdata-sections -fPIE -flto=thin -mtune=generic"),
    ("EXTRA_CFLAGS", "-mthumb -mcpu=cortex-a7 -mfpu=neon-vfpv4 -mfloat-abi=hard"),
    ("EXTRA_CFLAGS", "-Wall -Wno-unused-result -Werror=implicit-function-declaration -Iinclude/extra"),
    ("EXTRA_CFLAGS", "-DPATH_DEFAULT=/usr/bin -UNDEBUG -std=gnu99 -finline-limit=0"),
    ("EXTRA_LDFLAGS", "-static -s -Wl,--gc-sections -Wl,-z,relro,-z,now -Wl,--hash-style=gnu -Llib"),
    ("EXTRA_LDLIBS", "pthread dl -lm crypt"),
    ("NOT_YET_A_SYMBOL", "/usr/share/x-1.0+y"),
]


@pytest.mark.parametrize("symbol,value", PAYLOADS)
def test_payload_is_refused_with_one_line(symbol: str, value: str) -> None:
    with pytest.raises(UserError) as info:
        gate.check_string(symbol, value, "p.toml:7")
    message = str(info.value)
    assert message.startswith(f"p.toml:7: CONFIG_{symbol}: ") and message.endswith("; refusing it")
    assert "\n" not in message and "\r" not in message and len(message) < 400
    assert info.value.exit_code == 2


@pytest.mark.parametrize("symbol,value", PAYLOADS)
def test_payload_in_a_config_text_is_refused(symbol: str, value: str) -> None:
    """What build() sees: the payload written raw between quotes, and as conf would quote it."""
    lines = [f'CONFIG_{symbol}="{value}"']
    if not any(c in value for c in "\n\r\x00"):
        lines.append(f"CONFIG_{symbol}={config_lines.quote(value)}")
    for line in lines:
        with pytest.raises(UserError, match=r"^\.config:\d+: "):
            gate.check_config_text(f"CONFIG_LS=y\n{line}\n# CONFIG_VI is not set\n")


@pytest.mark.parametrize("symbol,value", BENIGN)
def test_benign_values_pass(symbol: str, value: str) -> None:
    assert gate.check_string(symbol, value) == value
    gate.check_config_text(f"# comment\nCONFIG_{symbol}={config_lines.quote(value)}\nCONFIG_X=0x1f\n")


@pytest.mark.parametrize(
    "text,fragment",
    [
        (f'CONFIG_UNAME_OSNAME="x"\n$(shell touch {M})\n', ":2: not a .config assignment"),
        ("include /etc/passwd\nCONFIG_LS=y\n", ":1: not a .config assignment"),
        (f"CONFIG_LS=$(touch {M})\n", ":1: CONFIG_LS: "),
        (f"CONFIG_LS=`touch {M}`\n", ":1: CONFIG_LS: "),
        ("CONFIG_EXTRA_CFLAGS=-MD\n", "must be in double quotes"),
        ('CONFIG_UNAME_OSNAME="a\\"b"\n', "double-quoted"),
        ('CONFIG_UNAME_OSNAME="a" ; touch x\n', "double-quoted"),
        ("# a comment that continues \\\nCONFIG_LS=y\n", ":1: a backslash in a .config comment"),
        ("CONFIG_LS=y\r\nCONFIG_VI=y\r\n", ":1: a control character"),
        ("CONFIG_LS=y\n\tCONFIG_VI=y\n", ":2: a control character"),
        ("CONFIG_LS=y\x0bCONFIG_VI=y\n", ":1: a control character"),
        ("CONFIG_LS=y\nall:\n", ":2: not a .config assignment"),
        ("override CONFIG_STATIC=n\n", ":1: not a .config assignment"),
    ],
)
def test_config_text_grammar(text: str, fragment: str) -> None:
    with pytest.raises(UserError, match=r"^\.config:\d+: ") as info:
        gate.check_config_text(text)
    assert fragment in str(info.value) and "\n" not in str(info.value)


def test_writers_refuse_a_line_break() -> None:
    with pytest.raises(UserError, match="line break"):
        config_lines.quote("a\nb")
    with pytest.raises(UserError, match="CONFIG_UNAME_OSNAME: .*line break"):
        config_lines.set_values("CONFIG_LS=y\n", {"UNAME_OSNAME": '"a\nall:"'})


def test_rules_are_data_with_reasons_and_no_wildcards() -> None:
    data = tomllib.loads(gate.RULES_FILE.read_text())
    for table in ("symbols",):
        for name, rule in data[table].items():
            assert rule["reason"].strip(), name
            assert rule["kind"] in data["kinds"], name
    for entry in [*data["flag"], *data["linker"]]:
        assert entry["reason"].strip(), entry
        prefix = entry.get("prefix")
        if prefix is not None:
            assert "value" in entry or "choices" in entry, entry
            # A prefix is a whole option name ending in = or , or one of the
            # short options that take their value attached; never -f or -m.
            assert prefix.endswith(("=", ",")) or prefix in ("-D", "-U", "-I", "-L", "-l", "-W", ""), entry
    names = {n for e in data["flag"] for n in e.get("names", [])}
    assert not {"-f", "-m", "-W", "-Wl", "-Wp", "-Wa", "-wrapper", "-mllvm", "-B", "-MF"} & names


@pytest.fixture(scope="module")
def trees() -> dict[str, KconfigTree]:
    return {r: load_tree(r) for r in RELEASES}


def test_every_string_symbol_of_every_release_has_a_rule(trees: dict[str, KconfigTree]) -> None:
    seen: set[str] = set()
    for release, tree in trees.items():
        for name, sym in tree.symbols.items():
            if sym.orig_type != kconfiglib.STRING:
                continue
            seen.add(name)
            assert name in gate.rules().symbols, f"{release}: {name} has no rule in string_rules.toml"
            for default, _cond in sym.defaults:
                assert gate.problem(name, default.str_value) is None, (release, name, default.str_value)
    assert len(seen) == 25
    assert set(gate.rules().symbols) == seen, "rules for symbols no release has"
    unknown = gate.rules().rule_for("SOME_FUTURE_STRING")
    assert unknown.kind.name == "safe" and unknown.reason


def test_each_release_exports_and_reads_back_its_defaults(trees: dict[str, KconfigTree]) -> None:
    for release, tree in trees.items():
        text = dotconfig_text(tree, [])
        gate.check_config_text(text, release)
        parse_dotconfig(text, release, tree)


def test_model_entries_refuse(trees: dict[str, KconfigTree]) -> None:
    tree = trees["1.38.0"]
    with pytest.raises(UserError, match=r"^CONFIG_BUSYBOX_EXEC_PATH: '\$\(touch .*is not a path"):
        parse_assignment(tree, f"BUSYBOX_EXEC_PATH=$(touch {M})")
    with pytest.raises(UserError, match=r"^p.toml:9: CONFIG_EXTRA_CFLAGS: '-MD -MF/tmp/x' has '-MD'"):
        to_kconfig(tree, "EXTRA_CFLAGS", "-MD -MF/tmp/x", "p.toml:9")
    with pytest.raises(UserError, match=r"^x.config:2: CONFIG_UNAME_OSNAME: "):
        parse_dotconfig('CONFIG_LS=y\nCONFIG_UNAME_OSNAME="`id`"\n', "x.config", tree)
    assert parse_assignment(tree, 'UNAME_OSNAME="My OS"') == ("UNAME_OSNAME", "My OS")


# -- through the CLI, as a user would ----------------------------------------------------


def _run(*argv: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "busyconf", *argv],
        cwd=cwd,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=120,
    )


def _digest(folder: Path) -> dict[str, str]:
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir()) if p.is_file()
    }


def _refused(res: subprocess.CompletedProcess[str], symbol: str) -> None:
    assert res.returncode == 2, res
    assert res.stdout == "" and res.stderr.count("\n") == 1, res.stderr
    assert f"CONFIG_{symbol}" in res.stderr and "refusing it" in res.stderr
    assert "Traceback" not in res.stderr


@pytest.mark.slow
@pytest.mark.parametrize(
    "assignment,symbol",
    [
        (f"BUSYBOX_EXEC_PATH=$(touch {M})", "BUSYBOX_EXEC_PATH"),
        (f"UNAME_OSNAME=`touch {M}`", "UNAME_OSNAME"),
        (f"UNAME_OSNAME=x\n$(shell touch {M})", "UNAME_OSNAME"),
        ("EXTRA_CFLAGS=-MD -MF/tmp/x", "EXTRA_CFLAGS"),
        ("EXTRA_CFLAGS=-fplugin=/tmp/x.so", "EXTRA_CFLAGS"),
        ("EXTRA_LDFLAGS=-Wl,-Map=/tmp/x", "EXTRA_LDFLAGS"),
    ],
)
def test_cli_set_refuses_and_saves_nothing(tmp_path: Path, assignment: str, symbol: str) -> None:
    shutil.copy(CONFIGS / "container-shell.toml", tmp_path / "p.toml")
    before = _digest(tmp_path)
    _refused(_run("set", "p.toml", assignment, cwd=tmp_path), symbol)
    assert _digest(tmp_path) == before
    assert not Path(M).exists()


@pytest.mark.slow
def test_cli_import_and_hand_edited_profile_are_refused(tmp_path: Path) -> None:
    tree = load_tree("1.38.0")
    text = dotconfig_text(tree, [])
    crafted = text.replace('CONFIG_UNAME_OSNAME="GNU/Linux"', f'CONFIG_UNAME_OSNAME="$(touch {M})"')
    assert crafted != text
    (tmp_path / "evil.config").write_text(crafted)
    before = _digest(tmp_path)
    _refused(_run("import", "evil.config", "-o", "out.toml", cwd=tmp_path), "UNAME_OSNAME")
    assert _digest(tmp_path) == before

    profile = (CONFIGS / "container-shell.toml").read_text()
    (tmp_path / "p.toml").write_text(profile.replace("[config]\n", '[config]\nEXTRA_CFLAGS = "-I/etc"\n', 1))
    before = _digest(tmp_path)
    for argv in (["build", "p.toml", "-o", "out", "-j", "2"], ["show", "p.toml"]):
        res = _run(*argv, cwd=tmp_path)
        _refused(res, "EXTRA_CFLAGS")
        assert (
            res.stderr.startswith("busyconf: p.toml:")
            and "-I takes a path inside the build tree" in res.stderr
        )
    assert _digest(tmp_path) == before and not (tmp_path / "out").exists()
    assert not Path(M).exists()
