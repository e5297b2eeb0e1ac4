"""Saves that never lose an edit, and the files a profile may read.

Real profiles (``configs/container-shell.toml``) on the real BusyBox 1.38.0
tree, real ``python3 -m busyconf`` processes for the races.
"""

from __future__ import annotations

import os
import shutil
import signal
import stat
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from busyconf.cli import main
from busyconf.errors import ProfileError
from busyconf.model.profile import changed_on_disk, load_profile, save_profile
from busyconf.source import SourceCache

ROOT = Path(__file__).resolve().parents[2]
CONFIGS = ROOT / "configs"
SHELL = CONFIGS / "container-shell.toml"


@pytest.fixture
def prof(tmp_path: Path, cache: SourceCache) -> Path:
    path = tmp_path / "p.toml"
    shutil.copy(SHELL, path)
    return path


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def one_line_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    code = main(argv)
    captured = capsys.readouterr()
    assert code == 2, captured
    assert captured.err.count("\n") == 1, captured.err
    assert "Traceback" not in captured.err
    return captured.err


def busyconf(*args: str, cwd: Path | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "busyconf", *args],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
    )


# -- locks: two writers -------------------------------------------------------------

# Applets of container-shell.toml that nothing else in it needs: each `set X=n` is one change.
FIRST = "CAT CHMOD CHOWN CP CUT DATE DIRNAME BASENAME ENV EXPR HEAD TAIL ID LN MKDIR MV PWD RM RMDIR SLEEP"
SECOND = "SORT TOUCH TR UNIQ WC WHOAMI SED AWK FIND XARGS GZIP GUNZIP PS KILL FALSE TRUE PRINTF LS ECHO TEST1"


@pytest.mark.slow
def test_two_concurrent_sets_never_lose_a_change(prof: Path) -> None:
    first, second = FIRST.split(), SECOND.split()
    assert len(first) == len(second) == 20 and not set(first) & set(second)
    config = load_profile(prof).config
    assert all(config[s] is True for s in first + second)
    for n, (a, b) in enumerate(zip(first, second, strict=True), 1):
        procs = [busyconf("set", str(prof), f"{a}=n"), busyconf("set", str(prof), f"{b}=n")]
        for p in procs:
            _out, err = p.communicate(timeout=120)
            assert p.returncode == 0, err
        config = load_profile(prof).config
        lost = [s for s in first[:n] + second[:n] if config.get(s) is True]
        assert not lost, f"round {n}: lost {lost}"
        assert all(config.get(s) is True for s in first[n:] + second[n:])
    assert not list(prof.parent.glob(".p.toml.*")), "no temporary file is left"


def test_save_refuses_a_file_changed_since_it_was_read(prof: Path) -> None:
    mine = load_profile(prof)
    mine.doc["profile"]["description"] = "mine"
    theirs = prof.read_text().replace("Minimal shell", "Their shell")
    prof.write_text(theirs)
    assert changed_on_disk(mine)
    with pytest.raises(ProfileError, match="changed on disk since it was read"):
        save_profile(mine)
    assert prof.read_text() == theirs
    save_profile(mine, force=True)
    assert not changed_on_disk(mine)
    assert 'description = "mine"' in prof.read_text()


@pytest.mark.slow
def test_the_lock_is_held_across_read_modify_write(prof: Path) -> None:
    """A `set` started while another writer holds the lock waits and then sees that writer's change."""
    from busyconf.model.profile import profile_lock

    with profile_lock(prof):
        proc = busyconf("set", str(prof), "LS=n")
        threading.Event().wait(3)
        assert proc.poll() is None, "set must wait for the lock"
        prof.write_text(prof.read_text().replace("CAT = true\n", ""))
    _out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    text = prof.read_text()
    assert "CAT = true" not in text and "LS = true" not in text


# -- what a write keeps -----------------------------------------------------------


@pytest.mark.slow
def test_crlf_file_stays_crlf(prof: Path, capsys: pytest.CaptureFixture[str]) -> None:
    lf = prof.parent / "lf.toml"
    shutil.copy(prof, lf)
    prof.write_bytes(SHELL.read_bytes().replace(b"\n", b"\r\n"))
    assert main(["set", str(prof), "LS=n", "VI=y"]) == 0
    assert main(["set", str(lf), "LS=n", "VI=y"]) == 0
    data = prof.read_bytes()
    assert data.count(b"\r\n") == data.count(b"\n"), "every line still ends in CRLF"
    assert data.replace(b"\r\n", b"\n") == lf.read_bytes()


def test_symlinked_profile_stays_a_link(prof: Path, capsys: pytest.CaptureFixture[str]) -> None:
    link = prof.parent / "link.toml"
    link.symlink_to(prof.name)
    assert main(["set", str(link), "LS=n"]) == 0
    assert link.is_symlink() and os.readlink(link) == prof.name
    assert "LS = true" not in prof.read_text()


def test_export_through_symlink_replaces_the_target(prof: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = prof.parent / "real.config"
    target.write_text("old\n")
    link = prof.parent / "out.config"
    link.symlink_to(target)
    assert main(["export", str(prof), "-o", str(link)]) == 0
    assert link.is_symlink() and target.read_text().startswith("#\n# Automatically generated")


def test_character_device_output_is_written_not_replaced(
    prof: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = os.stat("/dev/null")
    assert main(["export", str(prof), "-o", "/dev/null"]) == 0
    after = os.stat("/dev/null")
    assert stat.S_ISCHR(after.st_mode) and after.st_ino == before.st_ino


def test_fifo_output_is_written_directly(prof: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fifo = prof.parent / "pipe"
    os.mkfifo(fifo)
    err = one_line_exit_2(["export", str(prof), "-o", str(fifo)], capsys)
    assert "no reader" in err
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()))
    reader.start()
    assert main(["export", str(prof), "-o", str(fifo)]) == 0
    reader.join(10)
    assert got and got[0].startswith(b"#\n# Automatically generated")
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)


@pytest.mark.slow
def test_dash_writes_to_stdout(prof: Path, capsys: pytest.CaptureFixture[str]) -> None:
    dot = prof.parent / "x.config"
    assert main(["export", str(prof), "-o", str(dot)]) == 0
    capsys.readouterr()
    before = snapshot(prof.parent)
    assert main(["import", str(dot), "-o", "-", "--base", "allnoconfig"]) == 0
    captured = capsys.readouterr()
    assert captured.out.startswith("[profile]") and "ASH = true" in captured.out
    assert "wrote standard output" in captured.err
    assert snapshot(prof.parent) == before


@pytest.mark.parametrize("kind", ["directory", "read-only", "empty"])
def test_bad_output_is_one_line_and_changes_nothing(
    prof: Path, capsys: pytest.CaptureFixture[str], kind: str
) -> None:
    folder = prof.parent
    target = {"directory": folder / "d", "read-only": folder / "ro.config", "empty": Path("")}[kind]
    if kind == "directory":
        target.mkdir()
    elif kind == "read-only":
        target.write_text("keep\n")
        target.chmod(0o444)
    before = snapshot(folder)
    err = one_line_exit_2(["export", str(prof), "-o", "" if kind == "empty" else str(target)], capsys)
    assert {"directory": "directory", "read-only": "read-only", "empty": "empty"}[kind] in err
    assert snapshot(folder) == before


# -- temporary files ---------------------------------------------------------------


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


@pytest.mark.slow
def test_stale_temp_files_of_dead_writers_are_swept(prof: Path, capsys: pytest.CaptureFixture[str]) -> None:
    dead = prof.parent / f".p.toml.{_dead_pid()}.abc123.tmp"
    alive = prof.parent / ".p.toml.1.def456.tmp"  # pid 1 is alive: another writer's file stays
    dead.write_text("half")
    alive.write_text("busy")
    assert main(["set", str(prof), "LS=n"]) == 0
    assert not dead.exists() and alive.exists()


def test_sigterm_during_a_write_leaves_the_new_file_and_no_temp(tmp_path: Path) -> None:
    """SIGTERM mid-write (sent from inside it) waits until the file is whole and the temp is gone."""
    target = tmp_path / "p.toml"
    target.write_text("old\n")
    code = textwrap.dedent(
        f"""
        import os, signal
        from pathlib import Path
        from busyconf.savefile import write_atomic
        write_atomic(Path({str(target)!r}), "new\\n",
                     check=lambda tmp: os.kill(os.getpid(), signal.SIGTERM))
        print("not reached")
        """
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == -signal.SIGTERM, proc.stderr
    assert "not reached" not in proc.stdout
    assert target.read_text() == "new\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.toml"]


@pytest.mark.slow
def test_killed_set_leaves_no_temp_for_long(prof: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """SIGKILL cannot be held: its temp file is removed by the next save of the profile."""
    code = textwrap.dedent(
        f"""
        import os, signal
        from pathlib import Path
        from busyconf.savefile import write_atomic
        write_atomic(Path({str(prof)!r}), "half",
                     check=lambda tmp: os.kill(os.getpid(), signal.SIGKILL))
        """
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=60)
    assert proc.returncode == -signal.SIGKILL
    assert len(list(prof.parent.glob(".p.toml.*.tmp"))) == 1
    assert prof.read_bytes() == SHELL.read_bytes(), "the profile itself is untouched"
    assert main(["set", str(prof), "LS=n"]) == 0
    assert not list(prof.parent.glob(".p.toml.*.tmp"))


# -- files a profile may read ----------------------------------------------------------

SECRET = "TOPSECRET-do-not-print"


def _profile(path: Path, base: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f'[profile]\nbusybox = "1.38.0"\nbase = "{base}"\n')
    return path


@pytest.mark.parametrize(
    ("base", "message"),
    [
        ("/etc/passwd", "is outside"),
        ("../secret.config", "is outside"),
        ("../../secret.config", "is outside"),
        ("link.config", "is outside"),
        ("notconfig.config", "malformed line"),
    ],
    ids=["absolute", "parent", "grandparent", "symlink-out", "inside-not-a-config"],
)
@pytest.mark.parametrize("command", ["show", "set", "export"])
def test_base_outside_the_folder_is_refused_without_echo(
    tmp_path: Path,
    cache: SourceCache,
    capsys: pytest.CaptureFixture[str],
    base: str,
    message: str,
    command: str,
) -> None:
    (tmp_path / "secret.config").write_text(f"{SECRET}:x:0:0\n")
    (tmp_path / "team" / "secret.config").parent.mkdir()
    (tmp_path / "team" / "secret.config").write_text(f"{SECRET}\n")
    folder = tmp_path / "team" / "configs"
    folder.mkdir()
    (folder / "link.config").symlink_to(tmp_path / "secret.config")
    (folder / "notconfig.config").write_text(f"{SECRET}: not a config\n")
    p = _profile(folder / "p.toml", base)
    argv = {
        "show": ["show", str(p)],
        "set": ["set", str(p), "LS=n"],
        "export": ["export", str(p), "-o", str(folder / "out.config")],
    }[command]
    before = snapshot(tmp_path)
    err = one_line_exit_2(argv, capsys)
    assert message in err and SECRET not in err
    assert snapshot(tmp_path) == before


def test_bases_inside_the_folder_tree_still_chain(
    tmp_path: Path, cache: SourceCache, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "configs"
    folder.mkdir()
    shutil.copy(SHELL, folder / "shell.toml")
    _profile(folder / "boards" / "mid.toml", "../shell.toml")
    top = _profile(folder / "top.toml", "boards/mid.toml")
    assert main(["show", str(top), "--json"]) == 0, capsys.readouterr().err
    assert '"ash"' in capsys.readouterr().out


def test_deep_base_chain_is_one_line(
    tmp_path: Path, cache: SourceCache, capsys: pytest.CaptureFixture[str]
) -> None:
    _profile(tmp_path / "p0.toml", "allnoconfig")
    for n in range(1, 501):
        _profile(tmp_path / f"p{n}.toml", f"p{n - 1}")
    assert main(["show", str(tmp_path / "p30.toml")]) == 0
    capsys.readouterr()
    err = one_line_exit_2(["show", str(tmp_path / "p500.toml")], capsys)
    assert "base chain deeper than 32" in err


# -- bases given on the command line, profiles written elsewhere ---------------------


def test_import_base_is_named_from_cwd_and_written_relative(
    prof: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    work = prof.parent
    (work / "configs").mkdir()
    shutil.move(prof, work / "configs" / "P.toml")
    monkeypatch.chdir(work)
    assert main(["export", "configs/P.toml", "-o", "x.config"]) == 0
    assert main(["import", "x.config", "--base", "configs/P.toml", "-o", "configs/new.toml"]) == 0
    capsys.readouterr()
    new = load_profile(work / "configs" / "new.toml")
    assert new.base == "P.toml" and new.config == {}
    before = snapshot(work)
    err = one_line_exit_2(["import", "x.config", "--base", "configs/P.toml", "-o", "other/new.toml"], capsys)
    assert "could not read it" in err and "P.toml.toml" not in err
    err = one_line_exit_2(["import", "x.config", "--base", "nosuch.toml", "-o", "configs/n.toml"], capsys)
    assert "nosuch.toml.toml" not in err
    assert snapshot(work) == before


@pytest.mark.slow
def test_trim_budget_elsewhere_writes_a_profile_that_resolves(
    tmp_path: Path, cache: SourceCache, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "configs"
    folder.mkdir()
    shutil.copy(SHELL, folder / "shell.toml")
    child = folder / "child.toml"
    child.write_text('[profile]\nbusybox = "1.38.0"\nbase = "shell"\n[config]\nVI = true\n')
    in_place = folder / "trimmed.toml"
    up = tmp_path / "up.toml"
    elsewhere = tmp_path / "elsewhere" / "x.toml"
    for out in (in_place, up, elsewhere):
        assert main(["trim", "--budget", "300K", str(child), "-o", str(out)]) == 0, capsys.readouterr().err
    capsys.readouterr()
    assert load_profile(in_place).base == "shell"
    assert load_profile(up).base == "configs/shell.toml"
    assert load_profile(elsewhere).base == "defconfig"  # shell.toml cannot be named from there: folded in
    for other in (up, elsewhere):
        assert main(["diff", str(in_place), str(other)]) == 0
        assert "no differences" in capsys.readouterr().out
