"""Options from scripts: the option -> symbol map of 1.38.0's sources, the shell table, trim by options."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from busyconf.model.inputs import load_any
from busyconf.model.kconfig import KconfigTree, load_tree
from busyconf.trim.options import option_map, options_needed, shell_table
from busyconf.trim.plan import plan_trim, scan_paths
from busyconf.trim.shellscan import DYNAMIC, Findings, Scanner, Use
from tests.image.image_helpers import CONTAINER_SHELL, run_cli

ENTRYPOINT = """\
#!/bin/sh
set -e
find /data -type f -mtime +1 -exec gzip {} \\;
ls /data | xargs -n1 echo | sort -r
grep -r KEY /etc/app | cut -d= -f2
awk -F= '{print $2}' /etc/app/conf
exec "$@"
"""


@pytest.fixture(scope="module")
def tree() -> KconfigTree:
    return load_tree("1.38.0")


def scan(code: str, path: str = "e.sh") -> Findings:
    found = Findings()
    Scanner(path, found).scan_code(code)
    return found


def need(tree: KconfigTree, code: str) -> frozenset[str]:
    found = scan(code)
    return options_needed(tree, found.uses, found.syntax).symbols


def test_scanner_records_argument_words_through_pipelines_exec_xargs_and_sh_c() -> None:
    found = scan('find . -type f -exec gzip -9 {} \\; | xargs -0 rm -rf\nsh -c "sort -r x"\ncut -d= "$f"\n')
    uses = {u.name: u.args for u in found.uses}
    assert uses["find"][:2] == (".", "-type")
    assert uses["gzip"] == ("-9", "{}")
    assert uses["xargs"] == ("-0",) and uses["rm"] == ("-rf",)
    assert uses["sort"] == ("-r", "x")
    assert uses["cut"] == ("-d=", DYNAMIC)
    # The field has a default, so code building a Use by name, where still works.
    assert Use("ls", "x:1").args == ()


@pytest.mark.parametrize(
    ("code", "symbol"),
    [
        ("find . -mtime +1", "FEATURE_FIND_MTIME"),
        ("find . -exec gzip {} \\;", "FEATURE_FIND_EXEC"),
        ("find . -type f", "FEATURE_FIND_TYPE"),
        ("find . -maxdepth 1 -newer x", "FEATURE_FIND_NEWER"),
        ("find . -exec ls {} +", "FEATURE_FIND_EXEC_PLUS"),
        ("tar -czf a.tgz d", "FEATURE_SEAMLESS_GZ"),
        ("tar xzf a.tgz", "FEATURE_SEAMLESS_GZ"),
        ("xargs -0 rm", "FEATURE_XARGS_SUPPORT_ZERO_TERM"),
        ("ls --color=auto", "FEATURE_LS_COLOR"),
        ("ls -R", "FEATURE_LS_RECURSIVE"),
        ("sort -k2 -t, f", "FEATURE_SORT_BIG"),
        ("grep -A3 x f", "FEATURE_GREP_CONTEXT"),
        ("gzip -9 f", "FEATURE_GZIP_LEVELS"),
        ("date -I", "FEATURE_DATE_ISOFMT"),
        ("sed --in-place s/a/b/ f", "LONG_OPTS"),
        ("x=${v//a/b}", "ASH_BASH_COMPAT"),
        ('[[ -n "$x" ]]', "ASH_BASH_COMPAT"),
        ("echo $((1 + 2))", "FEATURE_SH_MATH"),
        ("getopts ab o", "ASH_GETOPTS"),
        ("set -eo pipefail", "ASH_BASH_COMPAT"),
        ("echo -n x", "FEATURE_FANCY_ECHO"),
    ],
)
def test_option_maps_to_the_symbol_the_sources_name(tree: KconfigTree, code: str, symbol: str) -> None:
    assert symbol in need(tree, code)


@pytest.mark.parametrize(
    "code",
    [
        "sed -i s/a/b/ f",  # -i is in sed whatever the configuration (editors/sed.c usage, no IF_)
        "grep -r x .",  # so is grep -r
        "date -d @0",
        "cut -d= -f2 f",
        "sort -r f",
        "sh -e -c 'true'; test -f x; [ -z \"$a\" ]",
        "awk -F= '{print}' f",
        "f() { local v; read -r v <<EOF\nx\nEOF\ntrap 'rm -f t' EXIT; }",
    ],
)
def test_options_no_feature_gates_need_nothing(tree: KconfigTree, code: str) -> None:
    found = scan(code)
    needs = options_needed(tree, found.uses, found.syntax)
    assert not needs.unplaced
    assert not {
        s
        for s in needs.symbols
        if s.startswith(
            ("FEATURE_SED", "FEATURE_GREP", "FEATURE_DATE", "FEATURE_CUT", "FEATURE_SORT", "FEATURE_AWK")
        )
    }


def test_unknown_option_of_a_known_applet_is_unplaced_with_file_line(tree: KconfigTree) -> None:
    found = scan("echo hi\ngrep --frobnicate x f\n", "run.sh")
    needs = options_needed(tree, found.uses, found.syntax)
    assert ("run.sh:2", "grep", "--frobnicate") in needs.unplaced
    assert needs.reasons["ASH_ECHO"] == "sh echo at run.sh:1"


def test_map_reads_getopt_strings_for_options_the_usage_leaves_out(tree: KconfigTree) -> None:
    find = option_map(tree)["find"]
    assert find.need("-mtime") == frozenset({"FEATURE_FIND_MTIME"})
    assert "-mtime" in find.takes_arg and "-print" not in find.takes_arg
    # gzip accepts -9 always (getopt32 "n123456789") but compresses harder only with GZIP_LEVELS.
    assert option_map(tree)["gzip"].need("-9") == frozenset({"FEATURE_GZIP_LEVELS"})
    assert "FEATURE_FIND_TYPE" in find.own and "LONG_OPTS" not in option_map(tree)["sed"].own


def test_shell_table_cites_lines_that_say_so() -> None:
    src = Path.home() / ".cache/busyconf/trees/1.38.0/src"
    if not src.is_dir():
        pytest.skip("the 1.38.0 tree is not cached (scripts/setup.sh fetches it)")
    for key, entry in shell_table().items():
        head, _, text = entry.cite.partition(": ")
        if not head.startswith("shell/"):
            continue
        path, line = head.rsplit(":", 1)
        actual = (src / path).read_text(errors="replace").splitlines()[int(line) - 1]
        assert actual == text, f"{key}: {head} is {actual!r}"


def test_trim_keeps_the_entrypoints_options_and_drops_the_rest(tmp_path: Path, tree: KconfigTree) -> None:
    script = tmp_path / "entrypoint.sh"
    script.write_text(ENTRYPOINT)
    base = load_any(CONTAINER_SHELL)
    plan = plan_trim(scan_paths([script]), base.tree, base.assignments)
    values = plan.config.values
    for sym in (
        "FEATURE_FIND_TYPE",
        "FEATURE_FIND_MTIME",
        "FEATURE_FIND_EXEC",
        "FIND",
        "XARGS",
        "SORT",
        "CUT",
        "AWK",
        "GZIP",
    ):
        assert values.get(sym) == "y", sym
    reasons = dict(plan.options)
    assert reasons["FEATURE_FIND_MTIME"] == f"find -mtime at {script}:3"
    assert values.get("FEATURE_EDITING") != "y" and values.get("ASH_JOB_CONTROL") != "y"
    assert not plan.unplaced
    kept = load_any(CONTAINER_SHELL).config.values
    for sym in plan.options_off:
        assert kept.get(sym) == "y" and values.get(sym) != "y"


@pytest.mark.slow
def test_interactive_keeps_line_editing(tmp_path: Path) -> None:
    script = tmp_path / "entrypoint.sh"
    script.write_text(ENTRYPOINT)
    out = tmp_path / "t.toml"
    r = run_cli(
        [
            "trim",
            "--scan",
            str(script),
            "--base",
            str(CONTAINER_SHELL),
            "-o",
            str(out),
            "--interactive",
            "--json",
        ]
    )
    assert r.code == 0, r.stderr
    doc = json.loads(r.stdout)
    assert "FEATURE_EDITING" not in doc["options_off"]
    assert load_any(out).config.values.get("FEATURE_EDITING") == "y"
    r = run_cli(["trim", "--scan", str(script), "--base", str(CONTAINER_SHELL), "-o", str(out), "--force"])
    assert r.code == 0, r.stderr
    assert "option FEATURE_FIND_MTIME: find -mtime at" in r.stdout
    assert load_any(out).config.values.get("FEATURE_EDITING") != "y"


def test_unplaced_option_keeps_that_applets_options(tmp_path: Path) -> None:
    script = tmp_path / "s.sh"
    script.write_text("#!/bin/sh\nfind . -frobnicate\n")
    out = tmp_path / "t.toml"
    r = run_cli(["trim", "--scan", str(script), "--base", str(CONTAINER_SHELL), "-o", str(out)])
    assert r.code == 0, r.stderr
    assert f"{script}:2: find -frobnicate: no feature symbol found" in r.stderr
    base = load_any(CONTAINER_SHELL).config.values
    assert load_any(out).config.values.get("FEATURE_FIND_TYPE") == base.get("FEATURE_FIND_TYPE")
