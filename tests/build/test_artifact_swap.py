"""Build artifacts are swapped in at once, and ``-o DIR`` belongs to busyconf.

A publisher killed (SIGKILL, SIGINT) at any point between the swap steps
leaves a folder whose ``manifest.json`` describes the ``busybox`` beside it.
The test hook (:data:`busyconf.savefile.swap_hook`, or the
``BUSYCONF_TEST_SWAP_DELAY`` environment variable) stops the publisher in
the window; the files are small fake artifacts, so no compile is needed.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from busyconf import savefile
from busyconf.build import build
from busyconf.build.builder import _write_artifacts, check_out_dir
from busyconf.build.manifest import BINARY_NAME, CONFIG_NAME, MANIFEST_NAME
from busyconf.errors import UserError

ROOT = Path(__file__).resolve().parents[2]


def artifacts(gen: int) -> dict[str, bytes]:
    """A binary, a config and the manifest describing them, for generation ``gen``."""
    binary = f"busybox generation {gen}\n".encode() * (1000 + gen)
    config = f"CONFIG_GEN={gen}\n".encode()
    manifest = {
        "generation": gen,
        "binary_sha256": hashlib.sha256(binary).hexdigest(),
        "config_sha256": hashlib.sha256(config).hexdigest(),
    }
    return {BINARY_NAME: binary, CONFIG_NAME: config, MANIFEST_NAME: json.dumps(manifest).encode()}


def consistent_generation(out: Path) -> int:
    """The generation ``out`` holds, after checking its files belong together."""
    manifest = json.loads((out / MANIFEST_NAME).read_text())
    assert hashlib.sha256((out / BINARY_NAME).read_bytes()).hexdigest() == manifest["binary_sha256"]
    assert hashlib.sha256((out / CONFIG_NAME).read_bytes()).hexdigest() == manifest["config_sha256"]
    names = {p.name for p in out.iterdir()}
    assert names == {BINARY_NAME, CONFIG_NAME, MANIFEST_NAME, savefile.OUTPUT_MARKER}, names
    return int(manifest["generation"])


def leftovers(out: Path) -> list[str]:
    return sorted(p.name for p in out.parent.iterdir() if p.name.startswith(f".{out.name}."))


_CHILD = textwrap.dedent(
    """
    import json, sys, time
    from pathlib import Path
    from busyconf.build.builder import _write_artifacts
    from busyconf import savefile
    sys.path.insert(0, {tests!r})
    from test_artifact_swap import artifacts

    stop_at = sys.argv[2]
    def hook(step):
        print(step, flush=True)
        if step == stop_at:
            time.sleep(120)
    savefile.swap_hook = hook
    if {fallback!r}:
        savefile.exchange = lambda a, b: False
    _write_artifacts(Path(sys.argv[1]), artifacts(int(sys.argv[3])), {{"busybox": 0o755}})
    print("done", flush=True)
    """
)


def _publisher(out: Path, stop_at: str, gen: int, fallback: bool = False) -> subprocess.Popen[str]:
    code = _CHILD.format(tests=str(Path(__file__).parent), fallback=fallback)
    return subprocess.Popen(
        [sys.executable, "-c", code, str(out), stop_at, str(gen)],
        stdout=subprocess.PIPE,
        text=True,
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
    )


def _stop_in(child: subprocess.Popen[str], step: str, sig: signal.Signals) -> None:
    assert child.stdout is not None
    for line in child.stdout:
        if line.strip() == step:
            child.send_signal(sig)
            break
    else:
        pytest.fail(f"the publisher never reached {step!r}")
    child.wait(timeout=60)


@pytest.mark.slow
@pytest.mark.parametrize("fallback", [False, True], ids=["exchange", "symlink-flip"])
@pytest.mark.parametrize(("step", "expected"), [("written", 1), ("swapped", 2)])
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT], ids=["SIGKILL", "SIGINT"])
def test_kill_between_the_swap_steps_leaves_one_whole_set(
    tmp_path: Path,
    step: str,
    expected: int,
    sig: signal.Signals,
    fallback: bool,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if fallback:
        monkeypatch.setattr(savefile, "exchange", lambda a, b: False)
    out = tmp_path / "out"
    _write_artifacts(out, artifacts(0), {BINARY_NAME: 0o755})
    _write_artifacts(out, artifacts(1), {BINARY_NAME: 0o755})  # the fallback's first swap makes the link
    assert out.is_symlink() == fallback
    child = _publisher(out, step, 2, fallback)
    _stop_in(child, step, sig)
    assert child.returncode != 0
    assert consistent_generation(out) == expected
    _write_artifacts(out, artifacts(3), {BINARY_NAME: 0o755})
    assert consistent_generation(out) == 3
    assert os.access(out / BINARY_NAME, os.X_OK)
    expect_left = (
        [p for p in leftovers(out) if p.startswith(f".{out.name}.busyconf-gen-")] if fallback else []
    )
    assert leftovers(out) == expect_left and len(expect_left) == int(fallback), (
        "dead publishers' folders are swept"
    )


@pytest.mark.slow
def test_random_kills_with_the_delay_hook_never_mix(tmp_path: Path) -> None:
    """A publisher looping with BUSYCONF_TEST_SWAP_DELAY, killed at random moments, 20 times."""
    out = tmp_path / "out"
    _write_artifacts(out, artifacts(0), {})
    code = textwrap.dedent(
        f"""
        import sys
        from pathlib import Path
        sys.path.insert(0, {str(Path(__file__).parent)!r})
        from busyconf.build.builder import _write_artifacts
        from test_artifact_swap import artifacts
        gen = int(sys.argv[1])
        while True:
            gen += 1
            _write_artifacts(Path({str(out)!r}), artifacts(gen), {{}})
        """
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT), **{savefile.SWAP_DELAY_ENV: "0.02"})
    rng = random.Random(11)
    seen = {0}
    for n in range(20):
        start = consistent_generation(out)
        child = subprocess.Popen([sys.executable, "-c", code, str(start + 1000 * (n + 1))], env=env)
        time.sleep(0.5 + rng.random() * 0.5)
        child.kill()
        child.wait(timeout=30)
        seen.add(consistent_generation(out))
    assert len(seen) > 10, "the publishers did publish"


# -- -o DIR belongs to busyconf ------------------------------------------------------


def test_foreign_folder_is_refused_and_ours_accepted(tmp_path: Path) -> None:
    foreign = tmp_path / "photos"
    foreign.mkdir()
    (foreign / "holiday.jpg").write_bytes(b"\xff\xd8")
    with pytest.raises(UserError, match="not made by busyconf"):
        check_out_dir(foreign)
    with pytest.raises(UserError, match="not made by busyconf"):
        _write_artifacts(foreign, artifacts(1), {})
    assert sorted(p.name for p in foreign.iterdir()) == ["holiday.jpg"]
    a_file = tmp_path / "file"
    a_file.write_text("x")
    with pytest.raises(UserError, match="not a folder"):
        check_out_dir(a_file)
    with pytest.raises(UserError, match="-o ''"):
        check_out_dir("")
    legacy = tmp_path / "legacy"  # made by busyconf before the marker existed
    legacy.mkdir()
    (legacy / MANIFEST_NAME).write_text("{}")
    (legacy / BINARY_NAME).write_bytes(b"old")
    check_out_dir(legacy)
    (tmp_path / "empty").mkdir()
    check_out_dir(tmp_path / "empty")
    _write_artifacts(tmp_path / "new", artifacts(1), {})
    check_out_dir(tmp_path / "new")
    (tmp_path / "new" / "notes.txt").write_text("ours now")
    check_out_dir(tmp_path / "new")


def test_build_refuses_a_foreign_folder_before_compiling(tmp_path: Path) -> None:
    foreign = tmp_path / "src"
    foreign.mkdir()
    (foreign / "main.c").write_text("int main(void) { return 0; }\n")
    # Not even a config or a source tree: the folder is checked first.
    with pytest.raises(UserError, match="not made by busyconf"):
        build("", [], "1.38.0", "x86_64", out_dir=foreign, source_tree=tmp_path / "nowhere")


@pytest.mark.slow
def test_cli_build_refuses_a_foreign_folder_in_one_line(tmp_path: Path) -> None:
    foreign = tmp_path / "src"
    foreign.mkdir()
    (foreign / "main.c").write_text("int main(void) { return 0; }\n")
    start = time.monotonic()
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "busyconf",
            "build",
            str(ROOT / "configs" / "container-shell.toml"),
            "-o",
            str(foreign),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
    )
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.count("\n") == 1 and "not made by busyconf" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert time.monotonic() - start < 60, "refused before any compile"
    assert sorted(p.name for p in foreign.iterdir()) == ["main.c"]


# -- a real build, killed between the swap steps ------------------------------------


def _real_set_ok(out: Path) -> dict[str, object]:
    manifest: dict[str, object] = json.loads((out / MANIFEST_NAME).read_text())
    assert hashlib.sha256((out / BINARY_NAME).read_bytes()).hexdigest() == manifest["binary_sha256"]
    assert hashlib.sha256((out / CONFIG_NAME).read_bytes()).hexdigest() == manifest["config_sha256"]
    return manifest


def _busyconf_build(profile: Path, out: Path, **env: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "busyconf", "build", str(profile), "-o", str(out), "-j", "2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=dict(os.environ, PYTHONPATH=str(ROOT), **env),
        start_new_session=True,
    )


@pytest.mark.slow
def test_real_build_killed_between_swap_steps_keeps_a_whole_set(tmp_path: Path) -> None:
    profile = tmp_path / "shell.toml"
    profile.write_bytes((ROOT / "configs" / "container-shell.toml").read_bytes())
    out = tmp_path / "out"
    first = _busyconf_build(profile, out)
    _stdout, err = first.communicate(timeout=1800)
    assert first.returncode == 0, err
    before = _real_set_ok(out)
    text = profile.read_text().replace("WC = true\n", "")
    profile.write_text(text)
    second = _busyconf_build(profile, out, **{savefile.SWAP_DELAY_ENV: "20"})
    deadline = time.monotonic() + 1800
    while not any(p.startswith(f".{out.name}.busyconf-new-") for p in leftovers(out)):
        assert second.poll() is None, second.communicate()[1]
        assert time.monotonic() < deadline
        time.sleep(0.2)
    time.sleep(2)  # the new set is written; the swap waits for the widened window
    os.killpg(second.pid, signal.SIGKILL)
    second.wait(timeout=60)
    assert _real_set_ok(out) == before, "the killed build left the previous set whole"
    third = _busyconf_build(profile, out)
    _stdout, err = third.communicate(timeout=1800)
    assert third.returncode == 0, err
    after = _real_set_ok(out)
    assert after["binary_sha256"] != before["binary_sha256"] and "wc" not in after["applets"]  # type: ignore[operator]
    assert leftovers(out) == []
