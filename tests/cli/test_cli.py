"""The headless commands, in-process and as a real subprocess."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from busyconf.cli import main
from busyconf.source import SourceCache

CONFIGS = Path(__file__).resolve().parents[2] / "configs"


@pytest.fixture
def profiles(tmp_path: Path, cache: SourceCache) -> Path:
    d = tmp_path / "configs"
    shutil.copytree(CONFIGS, d)
    return d


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def run_err(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    code = main(argv)
    captured = capsys.readouterr()
    assert code == 2, captured
    assert captured.out == ""
    assert captured.err.count("\n") == 1, captured.err
    assert "Traceback" not in captured.err
    return captured.err


def test_show_json_lists_applets(profiles: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["show", str(profiles / "container-shell.toml"), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["busybox"] == "1.38.0" and data["base"] == "allnoconfig"
    assert {"sh", "ash", "ls", "sed", "awk", "["} <= set(data["applets"])
    assert "vi" not in data["applets"]
    assert data["config"]["LS"] is True and data["config"]["VI"] is False


def test_set_is_minimal_and_keeps_comments(profiles: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = profiles / "router.toml"
    before = path.read_text()
    assert main(["set", str(path), "VI=n", "FEATURE_EDITING_HISTORY=128"]) == 0
    after = path.read_text()
    assert "# Colour and long help text" in after  # comments survive
    assert "VI = false" in after and "FEATURE_EDITING_HISTORY = 128" in after
    assert after.index("FEATURE_LS_COLOR") < after.index("VI = false")  # order kept
    # Setting a value back to the base's removes the key.
    assert main(["set", str(path), "VI=y", "FEATURE_EDITING_HISTORY=64"]) == 0
    assert path.read_text() == before
    capsys.readouterr()


@pytest.mark.slow
def test_set_refuses_what_cannot_take_effect(profiles: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = profiles / "container-shell.toml"
    before = snapshot(profiles)
    err = run_err(["set", str(path), "FEATURE_LS_COLOR=y", "LS=n"], capsys)
    assert "cannot set FEATURE_LS_COLOR=y: FEATURE_LS_COLOR needs LS, which is off" in err
    err = run_err(["set", str(path), "FEATURE_VI_COLON=y"], capsys)
    assert "needs VI, which is off" in err and "--with-deps turns on VI" in err
    err = run_err(["set", str(path), "FEATURE_EDITING_HISTORY=99999"], capsys)
    assert "FEATURE_EDITING_HISTORY=99999 is out of its range 0..2000" in err
    # A value of the wrong type names the symbol once (the command line has no file and line).
    err = run_err(["set", str(path), "LS=maybe"], capsys)
    assert err.strip() == "busyconf: LS is a bool; use true or false, not 'maybe'"
    err = run_err(["set", str(path), "FEATURE_EDITING_HISTORY=lots"], capsys)
    assert err.strip() == "busyconf: FEATURE_EDITING_HISTORY is an int; 'lots' is not a number"
    assert snapshot(profiles) == before
    assert main(["set", str(path), "FEATURE_VI_COLON=y", "--with-deps"]) == 0
    assert "VI = true" in path.read_text()


@pytest.mark.parametrize(
    ("profile_text", "message"),
    [
        ("[profile\nbase = 1\n", "bad.toml:1:8: TOML error"),
        ('[profile]\nbusybox = "1.38.0"\nbase = "nosuchbase"\n', "unknown base 'nosuchbase'"),
        ('[profile]\nbusybox = "1.38.0"\narch = "vax"\n', "unknown arch 'vax' (known: x86_64"),
        ('[profile]\nbusybox = "7.7.7"\n', "busybox = '7.7.7' is not a known release"),
        ('[profile]\nbusybox = "1.38.0"\n[config]\nNO_SUCH = true\n', "bad.toml:4: unknown symbol NO_SUCH"),
        ('[profile]\nbusybox = "1.38.0"\n[config]\nLS = 3\n', "bad.toml:4: LS is a bool"),
        (
            '[profile]\nbusybox = "1.38.0"\n[config]\nSHA1_SMALL = 7\n',
            "bad.toml:4: SHA1_SMALL=7 is out of its range",
        ),
        ('[profile]\nbusybox = "1.38.0"\nbase = "bad"\n', "base cycle: bad.toml -> bad.toml"),
    ],
    ids=["toml", "base", "arch", "version", "symbol", "type", "range", "cycle"],
)
@pytest.mark.parametrize("command", ["show", "export", "set"])
def test_bad_profile_one_line_exit_2_nothing_written(
    tmp_path: Path,
    cache: SourceCache,
    capsys: pytest.CaptureFixture[str],
    profile_text: str,
    message: str,
    command: str,
) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(profile_text)
    argv = {
        "show": ["show", str(bad)],
        "export": ["export", str(bad), "-o", str(tmp_path / "out.config")],
        "set": ["set", str(bad), "LS=n"],
    }[command]
    before = snapshot(tmp_path)
    err = run_err(argv, capsys)
    assert message in err
    assert snapshot(tmp_path) == before


def test_base_cycle_through_two_profiles(
    tmp_path: Path, cache: SourceCache, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "a.toml").write_text('[profile]\nbusybox = "1.38.0"\nbase = "b"\n')
    (tmp_path / "b.toml").write_text('[profile]\nbusybox = "1.38.0"\nbase = "a"\n')
    assert "base cycle: a.toml -> b.toml -> a.toml" in run_err(["show", str(tmp_path / "a.toml")], capsys)


def test_profile_chains(profiles: Path, capsys: pytest.CaptureFixture[str]) -> None:
    child = profiles / "child.toml"
    child.write_text('[profile]\nbusybox = "1.38.0"\nbase = "container-shell"\n[config]\nVI = true\n')
    assert main(["show", str(child), "--json"]) == 0
    applets = set(json.loads(capsys.readouterr().out)["applets"])
    assert "vi" in applets and "ash" in applets and "httpd" not in applets


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("CONFIG_LS=y\ngarbage\n", ":3: malformed line"),
        ("CONFIG_WHAT=y\n", ":2: unknown symbol CONFIG_WHAT"),
        ("CONFIG_SHA1_SMALL=9\n", ":2: SHA1_SMALL=9 is out of its range 0..3"),
        ('CONFIG_PID_FILE_PATH="/run\n', ":2: unterminated string"),
    ],
    ids=["malformed", "unknown", "range", "string"],
)
def test_bad_dotconfig_import(
    tmp_path: Path, cache: SourceCache, capsys: pytest.CaptureFixture[str], text: str, message: str
) -> None:
    src = tmp_path / "in.config"
    src.write_text("# Busybox version: 1.38.0\n" + text)
    out = tmp_path / "configs" / "x.toml"
    err = run_err(["import", str(src), "-o", str(out)], capsys)
    assert f"{src}{message}" in err
    assert not out.exists() and not out.parent.exists()


def test_import_drop_unknown_lists_them(
    tmp_path: Path, cache: SourceCache, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "in.config"
    src.write_text("# Busybox version: 1.38.0\nCONFIG_WHAT=y\n# CONFIG_LS is not set\n")
    out = tmp_path / "x.toml"
    assert main(["import", str(src), "-o", str(out), "--drop-unknown"]) == 0
    captured = capsys.readouterr()
    assert "dropped unknown symbol CONFIG_WHAT" in captured.err
    assert "LS = false" in out.read_text()
    # An existing profile is never overwritten by accident.
    before = out.read_bytes()
    assert "already exists" in run_err(["import", str(src), "-o", str(out), "--drop-unknown"], capsys)
    assert out.read_bytes() == before


@pytest.mark.slow
def test_import_export_diff_round_trip(
    tmp_path: Path, cache: SourceCache, debian_configs: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "udeb.toml"
    assert (
        main(
            ["import", str(debian_configs["udeb"]), "-o", str(out), "--drop-unknown", "--base", "allnoconfig"]
        )
        == 0
    )
    exported = tmp_path / "udeb.config"
    assert main(["export", str(out), "-o", str(exported)]) == 0
    capsys.readouterr()
    assert main(["diff", str(debian_configs["udeb"]), str(exported), "--json", "--drop-unknown"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["symbols"] == [] and data["applets_only_in_a"] == data["applets_only_in_b"] == []
    assert main(["diff", str(CONFIGS / "defconfig.toml"), str(CONFIGS / "router.toml"), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    names = {s["name"] for s in data["symbols"]}
    assert {"FEATURE_LS_COLOR", "BZIP2", "FEATURE_EDITING_HISTORY"} <= names
    assert "bzip2" in data["applets_only_in_a"]


@pytest.mark.slow
def test_cli_as_a_subprocess(tmp_path: Path, cache: SourceCache) -> None:
    env = dict(os.environ)
    proc = subprocess.run(
        [sys.executable, "-m", "busyconf", "show", str(CONFIGS / "defconfig.toml"), "--json"],
        capture_output=True,
        text=True,
        env=env,
    )
    assert proc.returncode == 0 and json.loads(proc.stdout)["applets"]
    proc = subprocess.run(
        [sys.executable, "-m", "busyconf", "set", str(tmp_path / "none.toml"), "LS=n"],
        capture_output=True,
        text=True,
        env=env,
    )
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.strip() == f"busyconf: {tmp_path / 'none.toml'}: no such profile"
    for sub in ("source", "show", "set", "diff", "import", "export"):
        proc = subprocess.run(
            [sys.executable, "-m", "busyconf", sub, "--help"], capture_output=True, text=True
        )
        assert proc.returncode == 0 and "usage: busyconf" in proc.stdout


@pytest.mark.slow
def test_domain_never_imports_the_ui() -> None:
    code = (
        "import sys, busyconf.model, busyconf.source, busyconf.model.profile, busyconf.model.inputs\n"
        "import importlib.util\n"
        "for m in ('busyconf.build', 'busyconf.size', 'busyconf.image', 'busyconf.build.sbom',\n"
        "          'busyconf.supply.matrix', 'busyconf.supply.size_gate'):\n"
        "    if importlib.util.find_spec(m): __import__(m)\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('textual', 'rich')]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.slow
def test_import_linter_contract_holds() -> None:
    """The layering contract in pyproject.toml, checked by import-linter itself."""
    exe = shutil.which("lint-imports")
    assert exe, "import-linter is not installed (pip install -e '.[test]')"
    root = Path(__file__).resolve().parents[2]
    proc = subprocess.run([exe], cwd=root, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout[-2000:]
    assert "0 broken" in proc.stdout


def test_the_editors_fast_path_knows_every_command() -> None:
    """``busyconf NAME`` opens the editor unless NAME is a command: the list it checks is the parser's."""
    from busyconf.cli import COMMANDS
    from busyconf.cli.commands import build_parser, commands_of

    assert commands_of(build_parser()) == set(COMMANDS)


@pytest.mark.usefixtures("coarse_riscv64")
def test_size_shows_a_coarse_estimates_range(profiles: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Without a size table (riscv64's hidden) the estimate gives the bench's ± range, or says unknown."""
    from busyconf.size.coarse_range import read_ranges

    measured = read_ranges().get("riscv64")
    router = str(profiles / "router.toml")
    assert main(["size", router, "--arch", "riscv64", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert not data["calibrated"]
    assert data["coarse_range_percent"] == (measured.percent if measured else None)
    assert main(["size", router, "--arch", "riscv64"]) == 0
    shown = f"coarse ±{measured.percent} %" if measured else "coarse ± unknown"
    out = capsys.readouterr().out
    assert shown in out
    # A label price is not a share of the total: no "shared code" remainder is claimed.
    assert "do not add up to the total" in out and "not charged" not in out
    assert main(["size", router, "--arch", "x86_64", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["coarse_range_percent"] is None and data["unpriced"] == {}


def test_size_names_an_option_it_does_not_price(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    profile = tmp_path / "o0.toml"
    profile.write_text(
        '[profile]\nbusybox = "1.38.0"\narch = "x86_64"\n\n[config]\nDEBUG = true\nDEBUG_PESSIMIZE = true\n'
    )
    assert main(["size", str(profile), "--json"]) == 0
    assert list(json.loads(capsys.readouterr().out)["unpriced"]) == ["DEBUG_PESSIMIZE"]
    assert main(["size", str(profile)]) == 0
    assert "not priced: DEBUG_PESSIMIZE (-O0 depends on DEBUG" in capsys.readouterr().out


def test_calibration_progress_off_a_terminal_is_a_line_per_phase_then_per_minute(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A calibration in a CI log or under nohup says where it is, without a line per toggle."""
    from rich.progress import Progress

    from busyconf.cli.size import _on_progress
    from busyconf.size.calibration import CalibrationProgress

    on = _on_progress(Progress(disable=True))
    on(CalibrationProgress("build", 0, 0, "building the reference"))
    for i in range(1, 50):
        on(CalibrationProgress("toggle", i, 960, f"SYMBOL_{i}"))
    on(CalibrationProgress("toggle", 5, 1010, "FEATURE_LS_COLOR", reference="sparse"))
    lines = capsys.readouterr().err.splitlines()
    assert [line.split(" ", 1)[1] for line in lines] == [
        "reference build building the reference",
        "toggles 1/960 SYMBOL_1",
        "toggles (sparse) 5/1010 FEATURE_LS_COLOR",
    ]
