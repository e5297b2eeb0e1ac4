"""Applets behind applets on the real 1.38.0 and 1.35.0 trees, and trim keeping them."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

import pytest

from busyconf.model.config import resolve
from busyconf.model.kconfig import KconfigTree, load_tree
from busyconf.trim.behind import DATA, closure, edges, load_reviewed, locate, runs, scan_source
from tests.image.image_helpers import CONTAINER_SHELL, run_cli

RELEASES = ["1.38.0", "1.35.0"]


@pytest.fixture(scope="module", params=RELEASES)
def tree(request: pytest.FixtureRequest) -> KconfigTree:
    return load_tree(request.param)


def targets(tree: KconfigTree, applet: str, values: Mapping[str, str] | None = None) -> set[str]:
    return {t for t, _why in runs(tree, applet, values)}


def test_ifup_runs_run_parts_through_the_shell(tree: KconfigTree) -> None:
    # OpenIPC's case: trimming by hand, they had to keep run-parts because ifupdown calls it.
    got = dict(runs(tree, "ifup"))
    assert got["run-parts"].startswith("networking/ifupdown.c:")
    line = int(got["run-parts"].split(":")[1].split()[0])
    src = (Path(tree.src_dir) / "networking/ifupdown.c").read_text().splitlines()
    assert 'sprintf(buf, "run-parts /etc/network/if-%s.d", opt);' in src[line - 1]
    assert "sh" in got and {"ip", "udhcpc"} <= targets(tree, "ifdown")


def test_a_gated_edge_follows_the_configuration(tree: KconfigTree) -> None:
    with_ip = resolve(tree, [("IFUP", "y"), ("FEATURE_IFUPDOWN_IPV4", "y"), ("FEATURE_IFUPDOWN_IP", "y")])
    without = resolve(tree, [("IFUP", "y"), ("FEATURE_IFUPDOWN_IPV4", "y"), ("FEATURE_IFUPDOWN_IP", "n")])
    assert "ip" in targets(tree, "ifup", with_ip.values)
    assert "ifconfig" not in targets(tree, "ifup", with_ip.values)
    assert {"ifconfig", "route"} <= targets(tree, "ifup", without.values)
    assert "ip" not in targets(tree, "ifup", without.values)
    assert "FEATURE_IFUPDOWN_IP" in dict(runs(tree, "ifup"))["ip"]


def test_daemons_and_pagers(tree: KconfigTree) -> None:
    assert "sh" in targets(tree, "udhcpc")  # its default.script
    assert "sh" in targets(tree, "crond")
    assert {"less", "sh"} <= targets(tree, "man", {"LESS": "y", "MAN": "y"})
    assert "more" in targets(tree, "man", {"LESS": "n", "MAN": "y"})
    assert {"sh", "reboot", "umount", "swapoff"} <= targets(tree, "init")
    # init runs getty only when an inittab says so, and the scanner reads inittab.
    assert "getty" not in targets(tree, "init")
    assert "login" in targets(tree, "getty") and "login" in targets(tree, "telnetd")
    assert "sh" in targets(tree, "login") and "sh" in targets(tree, "su")
    # start-stop-daemon runs what it is given: nothing fixed.
    assert targets(tree, "start-stop-daemon") == set()
    assert "echo" in targets(tree, "xargs")


def test_over_reports_are_gone(tree: KconfigTree) -> None:
    assert "halt" not in targets(tree, "init") and "poweroff" not in targets(tree, "init")
    assert "false" not in targets(tree, "adduser") and "sh" not in targets(tree, "adduser")
    assert "tc" not in targets(tree, "sv")
    # Only NOMMU builds exec a decompressor; tar here decompresses in-process.
    assert not {"gunzip", "bunzip2", "unxz"} & targets(tree, "tar")


def test_closure_is_transitive(tree: KconfigTree) -> None:
    got = closure(tree, ["ifup"])
    assert got["run-parts"] == "run-parts: run by ifup"
    assert got["udhcpc"] == "udhcpc: run by ifup"
    assert "ifup" not in got
    # run-parts runs scripts through the shell, and acpid reaches sh only through run-parts.
    assert closure(tree, ["acpid"]) == {"run-parts": "run-parts: run by acpid", "sh": "sh: run by run-parts"}


def test_every_reviewed_entry_cites_real_source(tree: KconfigTree) -> None:
    names = {a.name for a in tree.applets}
    src = Path(tree.src_dir)
    entries = load_reviewed()
    assert entries, DATA
    for e in entries:
        assert set(e.applets) | {e.target} <= names, (tree.release, e)
        assert e.reason and e.text, e
        rel, _, line = e.at.rpartition(":")
        assert (src / rel).is_file(), (tree.release, e.at)
        where = locate(src, e.at, e.text)
        assert where is not None, (tree.release, e.at, e.text)
        if tree.release == "1.38.0":  # the release the cited lines are from
            assert e.text in (src / rel).read_text().splitlines()[int(line) - 1], e.at
        for sym, _want in e.when:
            assert tree.has(sym), (tree.release, sym)


def test_every_automatic_edge_names_an_applet_of_the_release(tree: KconfigTree) -> None:
    names = {a.name for a in tree.applets}
    found = edges(tree)
    assert sum(len(v) for v in found.values()) > 50
    for applet, es in found.items():
        assert applet in names
        for e in es:
            assert e.target in names and e.target != applet, e
            for sym, _want in e.when:
                assert tree.has(sym), (tree.release, e)


def test_scan_source_reads_conditions() -> None:
    text = (
        '#if ENABLE_FEATURE_X\n execute("ip link set up");\n#else\n execute("ifconfig eth0 up");\n#endif\n'
        '#if 0\n BB_EXECVP("less", argv);\n#endif\n'
        ' bb_error_msg("kill failed"); /* "route add" */ system(cmd);\n'
    )
    got = [
        (e.target, e.when)
        for e in scan_source(
            "x.c", text, "ifup", frozenset({"ip", "ifconfig", "less", "kill", "route", "sh"})
        )
    ]
    assert got == [("ip", (("FEATURE_X", True),)), ("ifconfig", (("FEATURE_X", False),)), ("sh", ())]


def test_trim_keeps_what_ifup_runs_and_says_why(tmp_path: Path) -> None:
    script = tmp_path / "net.sh"
    script.write_text("#!/bin/sh\nifup -a\n")
    out = tmp_path / "net.toml"
    r = run_cli(["trim", "--scan", str(script), "--base", str(CONTAINER_SHELL), "-o", str(out), "--json"])
    assert r.code == 0, r.stderr
    doc = json.loads(r.stdout)
    assert {"ifup", "run-parts"} <= set(doc["applets"])
    assert doc["behind"]["run-parts"] == "run-parts: run by ifup"
    r = run_cli(["trim", "--scan", str(script), "--base", str(CONTAINER_SHELL), "-o", str(out), "--force"])
    assert r.code == 0, r.stderr
    assert "kept, run-parts: run by ifup" in r.stdout
