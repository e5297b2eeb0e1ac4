"""The editor's start-up and key latency, with their baselines measured in the same run.

Every program runs as a fresh process under a pseudo-terminal (pexpect), so the
clock covers what a user waits for: interpreter, imports, the Kconfig parse, the
size model and Textual's first paint. The machines here are shared and noisy, so
each figure is a median of ``-n`` runs, baselines are interleaved with the runs
they are compared to, and differences and ratios are what to quote.

A. Start-up, spawn to the first menu on screen (the text "Archival Utilities"):
   busyconf's editor on a copy of the profile, an empty Textual app (one Static
   with a marker text) to its first paint, and kconfiglib's menuconfig on the
   same BusyBox Kconfig tree. Goal: busyconf within 0.2 s of the empty app. The
   checkout's bytecode is compiled first, as installing a package does, and one
   warm-up round goes before the timed ones (it also leaves the parsed Kconfig
   tree in the source cache, as any earlier busyconf run would have).

B. Key latency in the editor on the profile, per terminal size: the clock starts
   when the key is written to the pty and stops at the last byte of the burst of
   output that follows it (a burst ends after ``--quiet`` ms without output; the
   idle tail is not counted). The path is fixed: from the first screen Down,
   Down, Enter opens "Archival Utilities" (checked: FEATURE_SEAMLESS_XZ, its
   first row, must be on screen), then each repetition presses
     Space Space n y         on that bool row (y -> n -> y -> n -> y: no drift),
     Esc Enter Backspace Enter  (up to the top menu, back into Archival Utilities),
     / Esc                   (open and close search),
     d Esc                   (open and close the diff).
   "drawn" is when the text the key is for (its marker, e.g. the help pane's
   "bool = n") was complete; "last byte" also takes what is drawn after it, such as
   size cells filled in later, as long as no pause exceeds the quiet window.
   One repetition first warms up (its figures are printed as "first": a cold
   press pays for what is imported or computed on demand). The editor edits a
   copy of the profile in a temporary folder and is left with q and "discard",
   so nothing is saved and no recovery file is left. Goal: the keys that change
   a value or open a menu (Space, y, n, Enter) draw their answer ("drawn": the
   new value, its help and the meter's exact total) in at most 50 ms median.
   The other rows' exact sizes come after it from a background pass, which the
   "last byte" columns include.
   Esc also waits for Textual's ESCDELAY to tell a lone Esc from an escape
   sequence (the editor sets it to 25 ms unless the environment does; Textual's
   default is 100), then up to one input poll; Backspace does the same as Esc
   in the editor without that wait.

C. Where start-up time goes: medians of fresh ``python -c`` runs (interpreter,
   ``import textual.app``, ``import busyconf.cli``, ``import busyconf.tui.app``,
   ``Session.open`` of the profile), and ``-X importtime`` of
   ``import busyconf.tui.app`` summed by package, with the heaviest modules.

    python bench/tui_startup.py                         # n=5, configs/router.toml, 120x40
    python bench/tui_startup.py -n 7 --sizes 120x40,80x24
    python bench/tui_startup.py --repo /tmp/before      # another busyconf checkout (a git worktree)
    python bench/tui_startup.py --only keys

Exit status: 0 when both goals are met, 1 when one is not, 2 when it could not measure.
"""

from __future__ import annotations

import argparse
import compileall
import io
import os
import re
import select
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import tomllib
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import pexpect  # type: ignore[import-untyped]

HERE = Path(__file__).resolve().parent.parent
MARKER = b"Archival Utilities"
EMPTY_MARKER = b"EMPTY-TEXTUAL-PAINTED"
EMPTY_APP = f"""\
from textual.app import App, ComposeResult
from textual.widgets import Static


class Empty(App[None]):
    def compose(self) -> ComposeResult:
        yield Static({EMPTY_MARKER.decode()!r})


Empty().run()
"""
#: The option row the key test toggles (the first row of Archival Utilities in 1.38.0).
ROW_SYMBOL = b"FEATURE_SEAMLESS_XZ"
#: The start of its prompt (what an 80-column list still shows): on screen once the menu is drawn.
ROW_PROMPT = b"Make tar, rpm, mod"
# What each key's answer must have drawn before its burst may end (in the text without escape
# sequences). An answer can come in bursts with a pause between: Enter first repaints the
# highlighted row and draws the menu a few hundred ms later at 80x24; a quiet window alone
# would stop the clock at the first. A marker that never appears is an error, not a number.
ROW_OFF, ROW_ON = b"bool = n", b"bool = y"  # the help pane's header: "FEATURE_SEAMLESS_XZ  bool = y"
MENU_ROWS = b"--->"  # a submenu row: the top menu has them, Archival Utilities has none
SEARCH_OPEN = b"Search applets"  # the search dialog's title
DIFF_OPEN = b"symbols differ"  # the diff's summary line
DOWN, ENTER, ESC, BACKSPACE = b"\x1b[B", b"\r", b"\x1b", b"\x7f"
ESCAPES = re.compile(rb"\x1b\[[0-9;?<>=]*[ -/]*[@-~]|\x1b[\]P_][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b.")


@dataclass(frozen=True)
class Key:
    label: str
    data: bytes
    #: Counted in the goal: the key changes a value or opens a menu.
    goal: bool = False
    #: Pressed on a screen with a blinking cursor: wait for a blink first so none lands in the burst.
    after_blink: bool = False
    #: Text the answer must have drawn (see ROW_OFF etc.).
    until: bytes | None = None


#: One repetition; it leaves the editor where it started (same row, same values).
CYCLE = (
    Key("Space", b" ", goal=True, until=ROW_OFF),
    Key("Space", b" ", goal=True, until=ROW_ON),
    Key("n", b"n", goal=True, until=ROW_OFF),
    Key("y", b"y", goal=True, until=ROW_ON),
    Key("Esc (menu up)", ESC, until=MENU_ROWS),
    Key("Enter (open menu)", ENTER, goal=True, until=ROW_PROMPT),
    Key("Backspace (menu up)", BACKSPACE, until=MENU_ROWS),
    Key("Enter (open menu)", ENTER, goal=True, until=ROW_PROMPT),
    Key("/ (search)", b"/", until=SEARCH_OPEN),
    Key("Esc (close search)", ESC, after_blink=True, until=ROW_PROMPT),
    Key("d (diff)", b"d", until=DIFF_OPEN),
    Key("Esc (close diff)", ESC, after_blink=True, until=ROW_PROMPT),
)
PHASES = (
    ("python -c pass", "pass"),
    ("import textual.app", "import textual.app"),
    ("import busyconf.cli", "import busyconf.cli"),
    ("import busyconf.tui.app", "import busyconf.tui.app"),
)
OPEN_SESSION = """\
import sys, time
from pathlib import Path
from busyconf.tui.session import Session
t = time.perf_counter()
Session.open(Path(sys.argv[1]))
print(time.perf_counter() - t)
"""


class BenchError(Exception):
    """Measuring failed (a marker never appeared, a process died): one line for the user."""


@dataclass(frozen=True)
class Sample:
    first: float  # seconds from the key to the first byte of the burst
    last: float  # ... to its last byte
    drawn: float  # ... to the byte that completed the key's marker text (its first visible effect)
    capped: bool  # output never went quiet before the timeout


def _plain(data: bytes | bytearray) -> bytes:
    """Terminal output without its escape sequences (the text drawn, in the order it was written)."""
    return ESCAPES.sub(b"", data)


def _screen_text(data: bytes | bytearray, tail: int = 600) -> str:
    """The printable text of terminal output, for error messages."""
    text = ESCAPES.sub(b" ", data)
    words = " ".join(text.decode("utf-8", "replace").split())
    return words[-tail:]


class Term:
    """A program under a pseudo-terminal, read directly so each byte gets a timestamp."""

    def __init__(self, argv: list[str], env: dict[str, str], cwd: Path, rows: int, cols: int) -> None:
        self.argv = argv
        self.start = time.perf_counter()
        self.child = pexpect.spawn(argv[0], argv[1:], env=env, cwd=str(cwd), dimensions=(rows, cols))
        self.fd: int = self.child.child_fd
        self.seen = bytearray()
        self.answer = b""

    def _read(self, wait: float) -> bytes | None:
        """Bytes available within ``wait`` seconds, None on timeout; raises when the program ended."""
        ready, _, _ = select.select([self.fd], [], [], max(wait, 0.0))
        if not ready:
            return None
        try:
            chunk = os.read(self.fd, 65536)
        except OSError:
            chunk = b""
        if not chunk:
            raise BenchError(f"{Path(self.argv[-1]).name} ended; its screen: {_screen_text(self.seen)}")
        self.seen += chunk
        return chunk

    def wait_for(self, marker: bytes, timeout: float) -> float:
        """Seconds from the spawn until ``marker`` has been written."""
        found = 0
        deadline = self.start + timeout
        while marker not in self.seen[found:]:
            found = max(0, len(self.seen) - len(marker))
            if self._read(deadline - time.perf_counter()) is None:
                raise BenchError(
                    f"{marker.decode()!r} never appeared within {timeout:.0f} s running "
                    f"{' '.join(self.argv[-3:])}; the screen ends with: {_screen_text(self.seen)!r}"
                )
        return time.perf_counter() - self.start

    def settle(self, quiet: float, limit: float = 10.0) -> None:
        """Read until no output for ``quiet`` seconds (at most ``limit``)."""
        deadline = time.perf_counter() + limit
        while time.perf_counter() < deadline and self._read(quiet) is not None:
            pass

    def after_blink(self, quiet: float, period: float = 0.6) -> None:
        """Wait for the next burst of a blinking cursor and its end, so the next one is far off."""
        if self._read(period) is not None:
            self.settle(quiet)

    def press(self, data: bytes, quiet: float, timeout: float, until: bytes | None = None) -> Sample:
        """Write ``data`` and time the output that answers it: up to the last byte before ``quiet``
        seconds without output, once ``until`` has been drawn."""
        self.settle(quiet / 2, limit=quiet * 4)
        before = len(self.seen)
        sent = time.perf_counter()
        os.write(self.fd, data)
        first = last = drawn_at = 0.0
        drawn = until is None
        while True:
            now = time.perf_counter()
            end = min(last + quiet, sent + timeout) if last and drawn else sent + timeout
            if now >= end or self._read(end - now) is None:
                break
            last = time.perf_counter()
            first = first or last
            if not drawn:
                assert until is not None
                drawn = until in _plain(self.seen[before:])
                drawn_at = last if drawn else 0.0
        self.answer = bytes(self.seen[before:])
        if not last:
            raise BenchError(f"key {data!r}: the screen did not change within {timeout:.0f} s")
        if not drawn:
            raise BenchError(
                f"key {data!r}: {until!r} was not drawn within {timeout:.0f} s; "
                f"the answer ends with: {_screen_text(self.answer)!r}"
            )
        return Sample(first - sent, last - sent, (drawn_at or first) - sent, last >= sent + timeout)

    def cpu_seconds(self) -> float:
        """user + system time of the program so far, from /proc."""
        fields = Path(f"/proc/{self.child.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def kill(self) -> None:
        """SIGKILL: no hang-up handler runs, so an editor writes no recovery file."""
        if self.child.isalive():
            self.child.kill(signal.SIGKILL)
            self.child.wait()
        self.child.close(force=True)

    def quit_editor(self, quiet: float) -> None:
        """q, and "discard" if the editor asks; then make sure it is gone."""
        try:
            self.settle(quiet)
            os.write(self.fd, b"q")
            self.settle(max(quiet, 0.3), limit=3)
            if b"Unsaved" in self.seen[-20000:] and self.child.isalive():
                os.write(self.fd, b"n")
            self.child.expect(pexpect.EOF, timeout=5)
        except (BenchError, OSError, pexpect.ExceptionPexpect):
            pass
        finally:
            self.kill()


# -- A. start-up ---------------------------------------------------------------
def time_to_screen(
    argv: list[str], marker: bytes, env: dict[str, str], cwd: Path, size: tuple[int, int], timeout: float
) -> tuple[float, float]:
    """Wall seconds from the spawn until ``marker`` is on the terminal, and the CPU seconds used by then."""
    term = Term(argv, env, cwd, *size)
    try:
        wall = term.wait_for(marker, timeout)
        return wall, term.cpu_seconds()
    finally:
        term.kill()


def startup(
    programs: dict[str, tuple[list[str], bytes, dict[str, str]]],
    work: Path,
    size: tuple[int, int],
    n: int,
    timeout: float,
) -> dict[str, list[tuple[float, float]]]:
    """``n`` interleaved rounds of each program after one warm-up round (caches, .pyc files)."""
    runs: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for round_ in range(n + 1):
        for label, (argv, marker, env) in programs.items():
            result = time_to_screen(argv, marker, env, work, size, timeout)
            if round_:
                runs[label].append(result)
    return runs


# -- B. key latency --------------------------------------------------------------
def open_row(
    argv: list[str],
    env: dict[str, str],
    work: Path,
    size: tuple[int, int],
    quiet: float,
    timeout: float,
    attempts: int = 3,
) -> Term:
    """A fresh editor with the cursor on ``ROW_SYMBOL`` (Down Down Enter from the first screen).

    A key that lands while the editor is still finishing its start can go astray on a
    loaded machine; then the editor is started again rather than steered from an unknown state.
    """
    rows, cols = size
    error = ""
    for _ in range(attempts):
        term = Term(argv, dict(env, COLUMNS=str(cols), LINES=str(rows)), work, rows, cols)
        try:
            term.wait_for(MARKER, timeout)
            term.settle(max(quiet, 1.0))
            term.press(DOWN, quiet, timeout)
            term.press(DOWN, quiet, timeout)
            term.press(ENTER, quiet, min(timeout, 5.0), until=ROW_PROMPT)
            if ROW_SYMBOL in _plain(term.answer):
                return term
            error = f"{ROW_SYMBOL!r} is not in the help pane: {_screen_text(term.answer)!r}"
        except BenchError as e:
            error = str(e)
        term.quit_editor(quiet)
    raise BenchError(
        f"{cols}x{rows}: Down Down Enter did not open Archival Utilities on {ROW_SYMBOL.decode()} "
        f"in {attempts} tries: {error}"
    )


def key_latency(
    argv: list[str],
    env: dict[str, str],
    work: Path,
    size: tuple[int, int],
    n: int,
    quiet: float,
    timeout: float,
) -> tuple[dict[str, Sample], dict[str, list[Sample]]]:
    """The first press of each key (warm-up) and ``n`` more of each, along the documented path."""
    term = open_row(argv, env, work, size, quiet, timeout)
    first: dict[str, Sample] = {}
    runs: dict[str, list[Sample]] = defaultdict(list)
    try:
        for rep in range(n + 1):
            for key in CYCLE:
                if key.after_blink:
                    term.after_blink(quiet)
                sample = term.press(key.data, quiet, timeout, key.until)
                if rep == 0:
                    first.setdefault(key.label, sample)
                else:
                    runs[key.label].append(sample)
    finally:
        term.quit_editor(quiet)
    return first, runs


# -- C. where the time goes ------------------------------------------------------
def phases(env: dict[str, str], profile: Path, n: int, cwd: Path) -> dict[str, list[float]]:
    """Wall seconds of fresh interpreters doing each step; Session.open timed inside its process."""
    runs: dict[str, list[float]] = defaultdict(list)
    for round_ in range(n + 1):
        for label, code in PHASES:
            t = time.perf_counter()
            subprocess.run([sys.executable, "-c", code], env=env, cwd=cwd, check=True)
            if round_:
                runs[label].append(time.perf_counter() - t)
        out = subprocess.run(
            [sys.executable, "-c", OPEN_SESSION, str(profile)],
            env=env,
            cwd=cwd,
            check=True,
            capture_output=True,
            text=True,
        )
        if round_:
            runs["Session.open(profile)"].append(float(out.stdout.split()[-1]))
    return runs


def importtime(env: dict[str, str], module: str, cwd: Path) -> list[tuple[int, int, str]]:
    """(self us, cumulative us, indented name) per line of ``-X importtime``."""
    out = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", f"import {module}"],
        env=env,
        cwd=cwd,
        check=True,
        capture_output=True,
        text=True,
    )
    rows = []
    for line in out.stderr.splitlines():
        m = re.match(r"import time:\s+(\d+) \|\s+(\d+) \| (.*)$", line)
        if m:
            rows.append((int(m[1]), int(m[2]), m[3]))
    return rows


def group_of(name: str) -> str:
    top = name.split(".")[0]
    if top in ("textual", "rich", "kconfiglib", "tomlkit", "markdown_it", "pygments", "platformdirs"):
        return top
    if name.startswith("busyconf.tui"):
        return "busyconf.tui"
    if top == "busyconf":
        return "busyconf (domain)"
    return "stdlib and other"


def summarise_imports(env: dict[str, str], module: str, runs: int, cwd: Path) -> None:
    """Self time summed per package (a partition of the total), the heaviest modules by self time,
    and busyconf's modules by cumulative time (what each one drags in)."""
    groups: dict[str, list[float]] = defaultdict(list)
    selfs: dict[str, list[int]] = defaultdict(list)
    cumul: dict[str, list[int]] = defaultdict(list)
    totals = []
    for _ in range(runs):
        rows = importtime(env, module, cwd)
        per_group: dict[str, int] = defaultdict(int)
        for self_us, cum_us, name in rows:
            bare = name.strip()
            per_group[group_of(bare)] += self_us
            selfs[bare].append(self_us)
            cumul[bare].append(cum_us)
        for g, us in per_group.items():
            groups[g].append(us / 1000)
        totals.append(sum(r[0] for r in rows) / 1000)
    print(
        f"\nC2. python -X importtime -c 'import {module}': {statistics.median(totals):.0f} ms of imports "
        f"(median of {runs}), self time summed per package:"
    )
    for g, group_ms in sorted(groups.items(), key=lambda kv: -statistics.median(kv[1])):
        print(f"    {g:<22} {statistics.median(group_ms):6.0f} ms")
    print("  heaviest modules by self time:")
    for name, values in sorted(selfs.items(), key=lambda kv: -statistics.median(kv[1]))[:12]:
        print(f"    {name:<44} {statistics.median(values) / 1000:6.1f} ms")
    print("  busyconf modules by cumulative time (with what they import first):")
    ours = [(name, values) for name, values in cumul.items() if name.startswith("busyconf")]
    for name, values in sorted(ours, key=lambda kv: -statistics.median(kv[1]))[:14]:
        print(f"    {name:<44} {statistics.median(values) / 1000:6.1f} ms")


# -- reporting -------------------------------------------------------------------
def ms(seconds: float) -> str:
    return f"{seconds * 1000:6.0f}"


def p90(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.9 * (len(ordered) - 1)))]


def describe(repo: Path) -> str:
    """The checkout measured: its commit, and whether its work tree has changes."""
    try:
        head = subprocess.run(
            ["git", "-C", str(repo), "log", "-1", "--format=%h %s"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(repo), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return str(repo)
    return f"{repo} at {head[:70]}{' (+ uncommitted changes)' if dirty else ''}"


def parse_size(text: str) -> tuple[int, int]:
    """ "120x40" -> (rows 40, cols 120)."""
    m = re.fullmatch(r"(\d+)x(\d+)", text.strip())
    if not m:
        raise argparse.ArgumentTypeError(f"size {text!r} is not COLSxROWS, like 120x40")
    return int(m[2]), int(m[1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "-n", type=int, default=5, help="runs of each start-up, presses of each key (default 5)"
    )
    parser.add_argument("--profile", type=Path, default=HERE / "configs" / "router.toml")
    parser.add_argument("--release", help="BusyBox tree for menuconfig (default: the profile's)")
    parser.add_argument(
        "--repo", type=Path, default=HERE, help="the busyconf checkout to run (default: this one)"
    )
    parser.add_argument(
        "--sizes", default="120x40", help="terminal sizes for the key test, e.g. 120x40,80x24"
    )
    parser.add_argument("--quiet", type=float, default=120, help="ms without output that end a burst (120)")
    parser.add_argument("--timeout", type=float, default=30, help="seconds to wait for a screen (30)")
    parser.add_argument(
        "--only",
        choices=("startup", "keys", "imports"),
        action="append",
        help="run only these parts (repeatable)",
    )
    args = parser.parse_args()
    if isinstance(sys.stdout, io.TextIOWrapper):
        sys.stdout.reconfigure(line_buffering=True)  # parts print as they finish
    parts = set(args.only or ("startup", "keys", "imports"))
    sizes = [parse_size(s) for s in args.sizes.split(",")]
    quiet = args.quiet / 1000
    repo = args.repo.resolve()
    if not (repo / "busyconf" / "__main__.py").is_file():
        print(f"tui_startup: {repo} is not a busyconf checkout", file=sys.stderr)
        return 2
    try:
        profile_text = args.profile.read_text()
        release = args.release or tomllib.loads(profile_text)["profile"]["busybox"]
    except (OSError, KeyError, tomllib.TOMLDecodeError) as e:
        print(f"tui_startup: cannot read the profile {args.profile}: {e}", file=sys.stderr)
        return 2

    # Textual's bytecode was written when pip installed it; busyconf's would be written on the
    # first run, unless PYTHONDONTWRITEBYTECODE is set (as on some machines): then every run
    # would compile busyconf from source. Compile it here, as an install does.
    compileall.compile_dir(str(repo / "busyconf"), quiet=1)

    sys.path.insert(0, str(HERE))
    from busyconf.errors import BusyconfError
    from busyconf.source import SourceCache

    try:
        kconfig_dir = SourceCache().kconfig_dir(release)
    except BusyconfError as e:
        print(f"tui_startup: {e}", file=sys.stderr)
        return 2

    env = {k: v for k, v in os.environ.items() if not k.startswith("TEXTUAL") and k != "ESCDELAY"}
    env.update(
        TERM="xterm-256color", PYTHONPATH=os.pathsep.join(filter(None, [str(repo), env.get("PYTHONPATH")]))
    )
    rows, cols = sizes[0]
    tty_env = dict(env, COLUMNS=str(cols), LINES=str(rows))
    work = Path(tempfile.mkdtemp(prefix="busyconf-bench-"))
    profile = work / args.profile.name
    profile.write_text(profile_text)
    (work / "empty_app.py").write_text(EMPTY_APP)
    ours = [sys.executable, "-m", "busyconf", str(profile)]
    kconf_env = dict(tty_env, srctree=str(kconfig_dir), KCONFIG_CONFIG=str(work / "dot-config"))
    programs = {
        "busyconf editor": (ours, MARKER, tty_env),
        "empty Textual app": ([sys.executable, str(work / "empty_app.py")], EMPTY_MARKER, tty_env),
        "kconfiglib menuconfig": (
            [sys.executable, "-m", "menuconfig", str(kconfig_dir / "Config.in")],
            MARKER,
            kconf_env,
        ),
    }
    load = os.getloadavg()[0]
    print(f"busyconf: {describe(repo)}")
    print(
        f"profile {args.profile.name} (a copy), BusyBox {release}, {os.cpu_count()} CPUs, "
        f"load {load:.1f} at the start, n={args.n}"
    )
    met = True
    try:
        if "startup" in parts:
            runs = startup(programs, work, sizes[0], args.n, args.timeout)
            med = {label: statistics.median(w for w, _ in r) for label, r in runs.items()}
            print(f"\nA. start-up to the first menu, {cols}x{rows} pty (ms)      median    min    CPU")
            for label, r in runs.items():
                walls = [w for w, _ in r]
                cpu = statistics.median(c for _, c in r)
                print(f"    {label:<40} {ms(med[label])} {ms(min(walls))} {ms(cpu)}")
            over = med["busyconf editor"] - med["empty Textual app"]
            ok = over <= 0.2
            met &= ok
            print(
                f"    busyconf - empty Textual app: {over * 1000:+.0f} ms (goal <= +200 ms: "
                f"{'met' if ok else 'NOT met'})"
            )
            cpu_med = {label: statistics.median(c for _, c in r) for label, r in runs.items()}
            cpu_over = cpu_med["busyconf editor"] - cpu_med["empty Textual app"]
            # CPU seconds move less than wall seconds when other jobs share the cores.
            ratio = med["busyconf editor"] / med["empty Textual app"]
            print(
                f"    busyconf / empty Textual app: x{ratio:.1f}; "
                f"CPU busyconf - empty: {cpu_over * 1000:+.0f} ms"
            )
            print(f"    busyconf / menuconfig: x{med['busyconf editor'] / med['kconfiglib menuconfig']:.1f}")
        if "keys" in parts:
            for size in sizes:
                size_rows, size_cols = size
                first, samples = key_latency(ours, env, work, size, args.n, quiet, args.timeout)
                print(
                    f"\nB. key to screen on {args.profile.name}, {size_cols}x{size_rows} pty, "
                    f"quiet {args.quiet:.0f} ms (ms)"
                )
                print(
                    f"    {'key':<22} {'median':>6} {'p90':>6} {'first byte':>10} {'drawn':>6} "
                    f"{'first press':>11}"
                )
                for label, ss in samples.items():
                    last = [s.last for s in ss]
                    cap = " (never went quiet)" if any(s.capped for s in ss) else ""
                    print(
                        f"    {label:<22} {ms(statistics.median(last))} {ms(p90(last))} "
                        f"{ms(statistics.median(s.first for s in ss)):>10} "
                        f"{ms(statistics.median(s.drawn for s in ss))} "
                        f"{ms(first[label].last):>11}{cap}"
                    )
                # The goal is the key's answer on screen ("drawn"): the new value, the help
                # and the meter's exact total. The exact sizes of the other rows arrive after
                # it from a background pass (their quick figures are marked ~ until then);
                # "median"/"p90" include that pass while it follows within the quiet window.
                goal = [s.drawn for key in CYCLE if key.goal for s in samples[key.label]]
                settled = [s.last for key in CYCLE if key.goal for s in samples[key.label]]
                labels = sorted({key.label for key in CYCLE if key.goal})
                overall = statistics.median(goal)
                ok = overall <= 0.05
                met &= ok
                print(
                    f"    value-changing and menu-opening keys ({', '.join(labels)}): answer drawn in "
                    f"median {overall * 1000:.0f} ms, p90 {p90(goal) * 1000:.0f} ms "
                    f"(goal <= 50 ms: {'met' if ok else 'NOT met'}); every row exact after median "
                    f"{statistics.median(settled) * 1000:.0f} ms"
                )
        if "imports" in parts:
            steps = phases(env, profile, args.n, work)
            print("\nC1. fresh `python -c` runs (ms)            median    min")
            for label, times in steps.items():
                print(f"    {label:<40} {ms(statistics.median(times))} {ms(min(times))}")
            summarise_imports(env, "busyconf.tui.app", 3, work)
    except BenchError as e:
        print(f"tui_startup: {e}", file=sys.stderr)
        return 2
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"\nload {os.getloadavg()[0]:.1f} at the end")
    return 0 if met else 1


if __name__ == "__main__":
    raise SystemExit(main())
