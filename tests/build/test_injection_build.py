"""Injection payloads handed to the build layer directly (no model in between) run nothing;
benign awkward strings still build."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from busyconf.build import build, config_lines, run_testsuite
from busyconf.build.kbuild import buildable_config
from busyconf.errors import UserError
from tests.build.conftest import RELEASE, applets_of

pytestmark = pytest.mark.slow


def _with_line(text: str, symbol: str, line: str) -> str:
    """``text`` with ``symbol``'s line replaced by ``line`` verbatim (it may hold a newline)."""
    kept = [s for s in text.splitlines() if not re.match(rf"^(# )?CONFIG_{symbol}[= ]", s)]
    return "\n".join([*kept, line]) + "\n"


def _payloads(marker: Path) -> list[tuple[str, str]]:
    m = str(marker)
    return [
        ("BUSYBOX_EXEC_PATH", f'CONFIG_BUSYBOX_EXEC_PATH="$(touch {m})"'),
        ("UNAME_OSNAME", f'CONFIG_UNAME_OSNAME="`touch {m}`"'),
        ("UNAME_OSNAME", f'CONFIG_UNAME_OSNAME="x"\n$(shell touch {m})'),
        ("UNAME_OSNAME", f'CONFIG_UNAME_OSNAME="x\n$(shell touch {m})"'),
        ("PREFIX", f'CONFIG_PREFIX="./_install"\nall:\n\ttouch {m}'),
        ("PID_FILE_PATH", f"CONFIG_PID_FILE_PATH=$(touch {m})"),
        ("EXTRA_CFLAGS", f'CONFIG_EXTRA_CFLAGS="-MD -MF{m}"'),
        ("EXTRA_CFLAGS", f'CONFIG_EXTRA_CFLAGS="-wrapper /usr/bin/touch,{m},--"'),
        ("EXTRA_CFLAGS", f'CONFIG_EXTRA_CFLAGS="-foptimization-record-file={m}"'),
        ("EXTRA_CFLAGS", f'CONFIG_EXTRA_CFLAGS="-mllvm -info-output-file={m}"'),
        ("EXTRA_CFLAGS", f'CONFIG_EXTRA_CFLAGS="-fplugin={m}.so"'),
        ("EXTRA_CFLAGS", f'CONFIG_EXTRA_CFLAGS="-Os -I{marker.parent}"'),
        ("EXTRA_CFLAGS", f'CONFIG_EXTRA_CFLAGS="-B{marker.parent}"'),
        ("EXTRA_CFLAGS", f'CONFIG_EXTRA_CFLAGS="@{m}"'),
        ("EXTRA_CFLAGS", f'CONFIG_EXTRA_CFLAGS="-specs={m}"'),
        ("EXTRA_CFLAGS", f'CONFIG_EXTRA_CFLAGS="--sysroot={marker.parent}"'),
        ("EXTRA_CFLAGS", f"CONFIG_EXTRA_CFLAGS=-MD -MF{m}"),
        ("EXTRA_LDFLAGS", f'CONFIG_EXTRA_LDFLAGS="-Wl,-Map={m}"'),
        ("EXTRA_LDFLAGS", f'CONFIG_EXTRA_LDFLAGS="-L{marker.parent}"'),
        ("EXTRA_LDLIBS", f'CONFIG_EXTRA_LDLIBS="m; touch {m}"'),
        ("CROSS_COMPILER_PREFIX", f'CONFIG_CROSS_COMPILER_PREFIX="$(shell touch {m})x;touch {m};"'),
        ("SYSROOT", f'CONFIG_SYSROOT="`touch {m}`"'),
    ]


def test_payloads_handed_to_the_build_layer_are_refused(
    small_config: Any, source_tree: Path, tmp_path: Path
) -> None:
    marker = tmp_path / "ran"
    out = tmp_path / "out"
    for symbol, line in _payloads(marker):
        text = _with_line(small_config.text, symbol, line)
        with pytest.raises(UserError, match=rf"\.config:\d+: (CONFIG_{symbol}: |not a \.config assignment)"):
            build(text, small_config.applets, RELEASE, "x86_64", out_dir=out, source_tree=source_tree, jobs=2)
        with pytest.raises(UserError):
            run_testsuite(text, RELEASE, source_tree=source_tree, jobs=2)
        with pytest.raises(UserError):
            buildable_config(text, RELEASE, "x86_64", "zig")
        assert not marker.exists(), line
        assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_benign_awkward_strings_build(small_config: Any, source_tree: Path, tmp_path: Path) -> None:
    """The one real build: a space in UNAME_OSNAME, a normal exec path, a -D in EXTRA_CFLAGS."""
    text = config_lines.set_values(
        small_config.text,
        {
            "UNAME": "y",
            "UNAME_OSNAME": '"Busyconf Test OS (x86_64)"',
            "BUSYBOX_EXEC_PATH": '"/bin/busybox"',
            "EXTRA_CFLAGS": '"-Os -DBUSYCONF_TEST=1"',
        },
    )
    r = build(
        text, applets_of(text), RELEASE, "x86_64", out_dir=tmp_path / "out", source_tree=source_tree, jobs=2
    )
    config = r.config.read_text()
    assert 'CONFIG_UNAME_OSNAME="Busyconf Test OS (x86_64)"' in config
    assert 'CONFIG_BUSYBOX_EXEC_PATH="/bin/busybox"' in config
    assert 'CONFIG_EXTRA_CFLAGS="-Os -DBUSYCONF_TEST=1"' in config
    uname = subprocess.run(
        [*r.verification.runner, str(r.binary), "uname", "-o"], capture_output=True, text=True, check=True
    )
    assert uname.stdout.strip() == "Busyconf Test OS (x86_64)"
    cmds = (r.build_dir / "obj" / "applets").glob(".*.o.cmd")
    assert any("-DBUSYCONF_TEST=1" in p.read_text() for p in cmds)
