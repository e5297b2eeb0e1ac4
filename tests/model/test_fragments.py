"""Kconfig fragments: in profiles, on import and export, and the starter set in configs/fragments.

The merge is checked against the kernel's merge_config.sh method run with
BusyBox's own ``make oldconfig`` (real tree, no compile).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from busyconf.build.runner import run
from busyconf.model.config import resolve
from busyconf.model.fragments import check_profile
from busyconf.model.kconfig import KconfigTree
from busyconf.model.profile import load_profile, profile_assignments, relocate, tree_for
from busyconf.source import SourceCache

REPO = Path(__file__).resolve().parents[2]
FRAGMENTS = sorted((REPO / "configs" / "fragments").glob("*.cfg"))

# The second fragment redefines the history size and switches ls off, so the first's
# FEATURE_LS_COLOR=y cannot apply; a string and an int ride along.
FRAG_A = """# first
CONFIG_FEATURE_EDITING_HISTORY=64
CONFIG_FEATURE_LS_COLOR=y
CONFIG_FEATURE_DEFAULT_PASSWD_ALGO="sha512"
# CONFIG_GZIP is not set
"""
FRAG_B = """# second: later wins
CONFIG_FEATURE_EDITING_HISTORY=128
# CONFIG_LS is not set
CONFIG_FEATURE_VI_MAX_LEN=1024
"""
PROFILE = """[profile]
description = "two fragments"
busybox = "1.38.0"
base = "defconfig"
fragments = ["fragments/a.cfg", "fragments/b.cfg"]
{config}"""


def cli(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "busyconf", *args], cwd=cwd, capture_output=True, text=True, timeout=120
    )


def make_profile(tmp: Path, config: str = "", a: str = FRAG_A, b: str = FRAG_B) -> Path:
    (tmp / "fragments").mkdir(exist_ok=True)
    (tmp / "fragments" / "a.cfg").write_text(a)
    (tmp / "fragments" / "b.cfg").write_text(b)
    path = tmp / "p.toml"
    path.write_text(PROFILE.format(config=config))
    return path


def values(text: str) -> dict[str, str]:
    """Symbol -> value of a .config (``n`` for ``is not set``)."""
    out = {}
    for line in text.splitlines():
        if m := re.match(r"^CONFIG_(\w+)=(.*)$", line):
            out[m.group(1)] = m.group(2)
        elif m := re.match(r"^# CONFIG_(\w+) is not set$", line):
            out[m.group(1)] = "n"
    return out


def oldconfig(cache: SourceCache, obj: Path, text: str) -> tuple[str, str]:
    """BusyBox's real ``make oldconfig`` on ``text``: the .config it leaves and what it said."""
    obj.mkdir(parents=True, exist_ok=True)
    (obj / ".config").write_text(text)
    lines: list[str] = []
    env = dict(os.environ, KCONFIG_NOTIMESTAMP="1")
    # BusyBox has no olddefconfig: Enter answers every question with its default.
    res = run(
        ["make", "-C", str(cache.tree("1.38.0")), f"O={obj}", "oldconfig"],
        cwd=obj,
        env=env,
        on_line=lines.append,
        stdin_data=b"\n" * 5000,
    )
    assert res.returncode == 0, "\n".join(lines[-30:])
    return (obj / ".config").read_text(), "\n".join(lines)


def merge_config(base: str, *fragments: str) -> str:
    """merge_config.sh's merge: each fragment's lines replace earlier lines for the same symbols."""
    lines = base.splitlines()
    for frag in fragments:
        for line in frag.splitlines():
            m = re.match(r"^(?:CONFIG_(\w+)=|# CONFIG_(\w+) is not set$)", line)
            if not m:
                continue
            name = m.group(1) or m.group(2)
            lines = [x for x in lines if not re.match(rf"^(CONFIG_{name}=|# CONFIG_{name} is not set$)", x)]
            lines.append(line)
    return "\n".join(lines) + "\n"


@pytest.mark.slow
def test_two_fragments_export_what_merge_config_and_make_oldconfig_give(
    tmp_path: Path, cache: SourceCache
) -> None:
    prof = make_profile(tmp_path)
    (tmp_path / "base.toml").write_text('[profile]\nbusybox = "1.38.0"\n')
    assert cli(tmp_path, "export", "base.toml", "-o", "base.config").returncode == 0
    done = cli(tmp_path, "export", prof.name, "-o", "p.config")
    assert done.returncode == 0, done.stderr
    ours = (tmp_path / "p.config").read_text()

    merged = merge_config((tmp_path / "base.config").read_text(), FRAG_A, FRAG_B)
    theirs, _ = oldconfig(cache, tmp_path / "obj", merged)
    assert values(ours) == values(theirs)
    assert values(ours)["FEATURE_EDITING_HISTORY"] == "128"  # the later fragment won
    assert values(ours)["FEATURE_LS_COLOR"] == "n"  # could not apply: ls is off
    assert values(ours)["FEATURE_DEFAULT_PASSWD_ALGO"] == '"sha512"'
    assert ours == theirs  # and busyconf writes what conf writes, byte for byte


@pytest.mark.slow
def test_busybox_conf_alone_keeps_the_first_assignment(tmp_path: Path, cache: SourceCache) -> None:
    """Why busyconf merges itself: conf does not let a later line win, it warns and ignores it."""
    text, said = oldconfig(cache, tmp_path / "obj", FRAG_A + FRAG_B)
    assert values(text)["FEATURE_EDITING_HISTORY"] == "64"
    assert "trying to reassign symbol FEATURE_EDITING_HISTORY" in said


@pytest.mark.slow
def test_redefinition_is_reported_with_both_places(tmp_path: Path) -> None:
    prof = make_profile(tmp_path, "[config]\nFEATURE_VI_MAX_LEN = 2048\n")
    done = cli(tmp_path, "export", prof.name, "-o", "p.config")
    assert done.returncode == 0, done.stderr
    assert (
        "fragments/a.cfg:2 CONFIG_FEATURE_EDITING_HISTORY=64 "
        "redefined by fragments/b.cfg:2 CONFIG_FEATURE_EDITING_HISTORY=128"
    ) in done.stderr
    by_profile = "redefined by p.toml:7 CONFIG_FEATURE_VI_MAX_LEN=2048"
    assert f"fragments/b.cfg:4 CONFIG_FEATURE_VI_MAX_LEN=1024 {by_profile}" in done.stderr
    assert values((tmp_path / "p.config").read_text())["FEATURE_VI_MAX_LEN"] == "2048"


@pytest.mark.slow
def test_value_that_cannot_apply_warns_with_its_reason_and_strict_refuses_it(tmp_path: Path) -> None:
    prof = make_profile(tmp_path)
    warning = (
        "fragments/a.cfg:3: CONFIG_FEATURE_LS_COLOR=y did not apply (final value n): "
        "FEATURE_LS_COLOR needs LS, which is off"
    )
    done = cli(tmp_path, "export", prof.name, "-o", "p.config")
    assert done.returncode == 0 and warning in done.stderr, done.stderr
    for argv in (("export", prof.name, "-o", "strict.config"), ("build", prof.name, "-o", "out")):
        refused = cli(tmp_path, *argv, "--strict")
        assert refused.returncode == 2, refused.stderr
        assert refused.stderr.splitlines() == [f"busyconf: {warning}; --strict refuses it"]
    assert not (tmp_path / "strict.config").exists() and not (tmp_path / "out").exists()
    report = json.loads(cli(tmp_path, "show", prof.name, "--json").stdout)["fragment_report"]
    assert [n["symbol"] for n in report["not_applied"]] == ["FEATURE_LS_COLOR"]


@pytest.mark.slow
def test_show_says_where_each_value_comes_from(tmp_path: Path) -> None:
    prof = make_profile(tmp_path, "[config]\nVI = false\n")
    shown = json.loads(cli(tmp_path, "show", prof.name, "--json").stdout)
    assert shown["fragments"] == ["fragments/a.cfg", "fragments/b.cfg"]
    origin = shown["origin"]
    assert origin["FEATURE_EDITING_HISTORY"] == "fragments/b.cfg:2"
    assert origin["FEATURE_DEFAULT_PASSWD_ALGO"] == "fragments/a.cfg:4"
    assert origin["VI"] == "p.toml:7"
    assert origin["FEATURE_LS_COLOR"] == "dependencies"  # asked for, but ls is off
    assert origin["SED"] == "base defconfig"
    text = cli(tmp_path, "show", prof.name, "--origin").stdout
    assert "FEATURE_EDITING_HISTORY = 128  (fragments/b.cfg:2)" in text


@pytest.mark.slow
def test_a_save_stays_minimal_against_base_and_fragments(tmp_path: Path) -> None:
    prof = make_profile(tmp_path)
    assert cli(tmp_path, "set", prof.name, "FEATURE_EDITING_HISTORY=128", "GZIP=y").returncode == 0
    # 128 is what the fragments give: nothing to write. GZIP differs from them.
    assert load_profile(prof).config == {"GZIP": True}
    assert cli(tmp_path, "set", prof.name, "GZIP=n").returncode == 0
    assert load_profile(prof).config == {}


@pytest.mark.slow
def test_fragments_outside_the_profile_folder_are_refused(tmp_path: Path) -> None:
    inner = tmp_path / "inner"
    inner.mkdir()
    (tmp_path / "secret.cfg").write_text("root:x:0:0\n")
    (inner / "link.cfg").symlink_to(tmp_path / "secret.cfg")
    for name in ("../secret.cfg", "link.cfg", str(tmp_path / "secret.cfg")):
        (inner / "p.toml").write_text(f'[profile]\nbusybox = "1.38.0"\nfragments = ["{name}"]\n')
        done = cli(inner, "export", "p.toml", "-o", "x.config")
        assert done.returncode == 2, done.stderr
        assert "is outside" in done.stderr and "root:" not in done.stderr
        assert len(done.stderr.splitlines()) == 1
    assert not (inner / "x.config").exists()


@pytest.mark.slow
def test_export_fragment_then_import_gives_the_same_configuration(tmp_path: Path, tree: KconfigTree) -> None:
    prof = make_profile(tmp_path, "[config]\nDD = false\n")
    (tmp_path / "base.toml").write_text('[profile]\nbusybox = "1.38.0"\n')
    (tmp_path / "nodd.toml").write_text('[profile]\nbusybox = "1.38.0"\n[config]\nDD = false\n')
    for name in ("base", "nodd"):
        assert cli(tmp_path, "export", f"{name}.toml", "-o", f"{name}.config").returncode == 0
    done = cli(tmp_path, "export", prof.name, "--fragment", "-o", "diff.cfg")
    assert done.returncode == 0, done.stderr
    frag = (tmp_path / "diff.cfg").read_text()
    names = [re.sub(r"^# |=.*| is not set$", "", x).removeprefix("CONFIG_") for x in frag.splitlines()[2:]]
    order = {n: i for i, n in enumerate(tree.symbols)}
    assert names == sorted(names, key=order.__getitem__)  # Kconfig order
    assert "# CONFIG_LS is not set" in frag and "CONFIG_FEATURE_VI_MAX_LEN=1024" in frag
    assert "CONFIG_SED" not in frag  # as the base has it
    want = json.loads(cli(tmp_path, "show", prof.name, "--json").stdout)["config"]
    # The difference on the base's .config; the .config holding [config] with the fragments kept.
    for argv in (
        ("base.config", "diff.cfg"),
        ("nodd.config", "fragments/a.cfg", "fragments/b.cfg", "--keep-fragments"),
    ):
        done = cli(tmp_path, "import", *argv, "-o", "q.toml", "--force")
        assert done.returncode == 0, done.stderr
        assert json.loads(cli(tmp_path, "show", "q.toml", "--json").stdout)["config"] == want
    kept = load_profile(tmp_path / "q.toml")
    assert kept.fragments == ("fragments/a.cfg", "fragments/b.cfg")
    assert kept.config == {"DD": False}  # minimal over base + fragments


@pytest.mark.slow
def test_keep_fragments_must_be_inside_the_output_folder(tmp_path: Path) -> None:
    make_profile(tmp_path)
    (tmp_path / "base.config").write_text("# Busybox version: 1.38.0\nCONFIG_LS=y\n")
    (tmp_path / "sub").mkdir()
    done = cli(tmp_path, "import", "base.config", "fragments/a.cfg", "--keep-fragments", "-o", "sub/q.toml")
    assert done.returncode == 2 and "is outside" in done.stderr, done.stderr
    assert not (tmp_path / "sub" / "q.toml").exists()


def test_saving_elsewhere_keeps_or_folds_the_fragments(tmp_path: Path) -> None:
    prof = load_profile(make_profile(tmp_path))
    tree = tree_for(prof)
    want = resolve(tree, profile_assignments(tree, prof)).values
    for out, listed in ((tmp_path / "deeper" / "x.toml", ()), (tmp_path / "y.toml", prof.fragments)):
        moved = load_profile(tmp_path / "p.toml")
        relocate(moved, tree, out)
        assert moved.fragments == listed
        assert resolve(tree, profile_assignments(tree, moved)).values == want


@pytest.mark.slow
@pytest.mark.parametrize("starter", ["defconfig", "container-shell"])
@pytest.mark.parametrize("fragment", FRAGMENTS, ids=lambda p: p.stem)
def test_starter_fragments_apply_cleanly(tmp_path: Path, starter: str, fragment: Path) -> None:
    shutil.copytree(REPO / "configs" / "fragments", tmp_path / "fragments")
    text = (REPO / "configs" / f"{starter}.toml").read_text()
    text = text.replace("[profile]\n", f'[profile]\nfragments = ["fragments/{fragment.name}"]\n', 1)
    (tmp_path / "p.toml").write_text(text)
    prof = load_profile(tmp_path / "p.toml")
    tree = tree_for(prof)
    report = check_profile(tree, prof)
    assert not report.not_applied, [str(n) for n in report.not_applied]
    body = fragment.read_text()
    assert body.startswith(f"# {fragment.name}: "), "each fragment says what it is for"
    # The comments explain; the settings are there too.
    assert sum(1 for x in body.splitlines() if x.startswith("CONFIG_")) >= 5
    done = cli(tmp_path, "export", "p.toml", "-o", "x.config", "--strict")
    assert done.returncode == 0 and "did not apply" not in done.stderr, done.stderr
