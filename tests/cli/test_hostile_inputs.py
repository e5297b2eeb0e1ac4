"""Every hostile input tried on issue 11, and the bad inputs the other CLI tests cover, in one table.

Each row runs ``busyconf`` with ``cwd`` a fresh folder holding a copy of
``configs/container-shell.toml`` as ``p.toml`` (plus what the row's setup
makes) and checks the promise of README.md: a bad input exits 2 with exactly
one line on stderr starting with ``busyconf: ``, no traceback, nothing on
stdout, no folder made in or beside the cache, and every file in the folder
byte for byte as before (symlinks followed, FIFOs and devices never opened).
An environment failure (exit 1) is one line too. A few rows are correct
successes and check their output instead.

Rows that may hang (FIFOs, devices), that set the environment, or that would
start a compile if the refusal failed run as a real subprocess with a
timeout; the rest run in-process through :func:`busyconf.cli.main`, which
shows an escaped exception just as plainly and keeps the file fast. No row
compiles BusyBox: every ``build``, ``test`` and ``image`` row must be refused
before the compiler starts (the timeout catches one that is not).
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import signal
import stat
import subprocess
import sys
import tarfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from busyconf.cli import main
from busyconf.source import SourceCache

CONFIGS = Path(__file__).resolve().parents[2] / "configs"
PROFILE = (CONFIGS / "container-shell.toml").read_text()
TIMEOUT = 5.0
MARKUP = "[/] [bold]x :x:"
#: A file name Rich would read as markup and emoji ("/" cannot be in a name).
NAME = "[bold]:x:[red]"

Setup = Callable[[Path], None]
Check = Callable[[Path, str, str], None]

#: Rows whose fix belongs to another helper and is not in the tree yet: id -> owner.
PENDING: dict[str, str] = {}

#: In-process rows that run a whole ``set`` (a resolve per override), a trim plan or a
#: cross-release size, 0.2 to 4 s each: in the slow tier with the rows that start a process.
SLOW_ROWS = frozenset(
    {
        "set-conflict",
        "set-int-400-digits",
        "set-int-negative",
        "set-keeps-crlf",
        "set-markup-description",
        "set-markup-path",
        "set-needs-dependency",
        "set-range",
        "set-same-symbol-twice",
        "set-string-4k",
        "set-string-spaces",
        "set-through-symlink",
        "set-with-deps",
        "show-base-chain-20",
        "size-against-other-release",
        "trim-budget-elsewhere",
        "trim-budget-ok",
        "trim-scan-markup-paths",
        "trim-scan-ok",
        "upgrade-dry-run",
    }
)


@dataclass(frozen=True)
class Case:
    """One row: argv, files made first, the exit codes allowed and how to run it."""

    id: str
    argv: tuple[str, ...]
    setup: Setup | None = None
    code: int | tuple[int, ...] = 2
    proc: bool = False
    env: tuple[tuple[str, str], ...] = ()
    check: Check | None = None
    said: str = ""  # text the one line must hold (user text shown as typed)


# -- setups ------------------------------------------------------------------------------


def files(**named: str | bytes) -> Setup:
    """Write files (``sub__x.toml`` is ``sub/x.toml``)."""

    def make(tmp: Path) -> None:
        for name, data in named.items():
            path = tmp / name.replace("__", "/")
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(data, bytes):
                path.write_bytes(data)
            else:
                path.write_text(data)

    return make


def both(*setups: Setup) -> Setup:
    def make(tmp: Path) -> None:
        for s in setups:
            s(tmp)

    return make


def append(name: str, text: str) -> Setup:
    def make(tmp: Path) -> None:
        with open(tmp / name, "a") as f:
            f.write(text)

    return make


def fifo(name: str) -> Setup:
    return lambda tmp: os.mkfifo(tmp / name)


def chardev(name: str) -> Setup:
    """A copy of /dev/null inside the folder (a device the test may let busyconf write to)."""
    return lambda tmp: os.mknod(tmp / name, stat.S_IFCHR | 0o666, os.makedev(1, 3))


def symlink(name: str, target: str) -> Setup:
    return lambda tmp: (tmp / name).symlink_to(target)


def folder(name: str, with_file: bool = True) -> Setup:
    def make(tmp: Path) -> None:
        (tmp / name).mkdir(parents=True)
        if with_file:
            (tmp / name / "keep.txt").write_text("not busyconf's\n")

    return make


def big(name: str, size: int, line: str = "# a comment, nothing else on this line\n") -> Setup:
    """A file of about ``size`` bytes of ``line`` repeated."""

    def make(tmp: Path) -> None:
        lines = size // len(line)
        step = max(1, (1 << 20) // len(line))
        with open(tmp / name, "w") as f:
            for start in range(0, lines, step):
                f.write(line * min(step, lines - start))

    return make


def profile(
    name: str = "m.toml",
    desc: str | None = None,
    config: str = "",
    head: str = "",
    build: str = "",
    replace: tuple[str, str] | None = None,
    text: str | None = None,
) -> Setup:
    """A variant of p.toml: another description, extra [config]/[profile]/[build] lines."""
    body = PROFILE if text is None else text
    if desc is not None:
        line = next(x for x in body.splitlines() if x.startswith("description"))
        body = body.replace(line, "description = " + _toml_str(desc))
    if replace is not None:
        body = body.replace(*replace)
    if head:
        body = body.replace("[profile]\n", "[profile]\n" + head + "\n", 1)
    if config:
        body = body.replace("[config]\n", "[config]\n" + config + "\n", 1)
    if build:
        body = body.replace("[build]\n", "[build]\n" + build + "\n", 1)
    return files(**{name: body})


def _toml_str(s: str) -> str:
    """A TOML basic string (control characters as \\uXXXX)."""
    body = s.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + "".join(f"\\u{ord(c):04x}" if ord(c) < 32 or ord(c) == 127 else c for c in body) + '"'


def bare(name: str, text: str) -> Setup:
    return files(**{name: text})


def dotconfig(name: str = "in.config", body: str = "CONFIG_LS=y\n", version: str = "1.38.0") -> Setup:
    head = f"# Busybox version: {version}\n" if version else ""
    return files(**{name: head + body})


def chain(depth: int) -> Setup:
    """c0.toml -> c1.toml -> ... -> p.toml, ``depth`` profiles deep."""

    def make(tmp: Path) -> None:
        for i in range(depth):
            base = f"c{i + 1}" if i + 1 < depth else "p"
            (tmp / f"c{i}.toml").write_text(f'[profile]\nbusybox = "1.38.0"\nbase = "{base}"\n')

    return make


def marker_profile(name: str, key: str, template: str) -> Setup:
    """A profile whose string symbol would create ``PWNED`` in the folder if it reached a shell."""

    def make(tmp: Path) -> None:
        value = template.replace("MARK", str(tmp / "PWNED"))
        profile(name, config=f"{key} = {_toml_str(value)}")(tmp)

    return make


def tarball(name: str, members: dict[str, str]) -> Setup:
    """A .tar.bz2 of ``members``; ``MARK`` in their text is a marker file's path in the folder."""

    def make(tmp: Path) -> None:
        with tarfile.open(tmp / name, "w:bz2") as tar:
            for path, text in members.items():
                data = text.replace("MARK", str(tmp / "PWNED")).encode()
                info = tarfile.TarInfo(path)
                info.size = len(data)
                info.mode = 0o755
                tar.addfile(info, io.BytesIO(data))

    return make


def tree_folder(name: str, version: tuple[int, int, int]) -> Setup:
    """A tiny folder that claims to be a BusyBox release (its Makefile's version lines)."""
    mk = "VERSION = {}\nPATCHLEVEL = {}\nSUBLEVEL = {}\nEXTRAVERSION =\n".format(*version)
    return files(**{f"{name}__Makefile": mk, f"{name}__Config.in": 'mainmenu "x"\n'})


#: argv of the rebuild rows: the manifest in the folder rebuild_dir() makes.
REBUILD = ("rebuild", "m/manifest.json")
#: argv of the size gate rows: the same folder, the starter against it.
GATE = ("size", "p.toml", "--against", "m/manifest.json")


def rebuild_dir(
    config: str | None = "# Busybox version: 1.38.0\nCONFIG_LS=y\n", sha: str | None = None, **fields: object
) -> Setup:
    """``m/manifest.json`` (a valid reproducer unless ``fields`` say otherwise; a field set to None is
    left out) and ``m/busybox.config`` (``config``, pinned by its sha256 unless ``sha`` is given;
    None: no config)."""
    import json

    from busyconf.source.releases import RELEASES

    manifest: dict[str, object] = {
        "release": "1.38.0",
        "arch": "x86_64",
        "toolchain": "zig",
        "toolchain_version": "zig 0.0.0",
        "config_sha256": sha or hashlib.sha256((config or "").encode()).hexdigest(),
        "binary_sha256": "0" * 64,
        "binary_size": 1000,
        "applets": ["ls"],
        "source_date_epoch": 1,
        "dropped_options": [],
        "source_sha256": RELEASES["1.38.0"].sha256,
        "compiler_flags": [],
        "busyconf_version": "0.1.0",
        "make_env": ["KCONFIG_NOTIMESTAMP=1", "LC_ALL=C", "SOURCE_DATE_EPOCH=1", "TZ=UTC"],
    }
    manifest.update(fields)
    text = json.dumps({k: v for k, v in manifest.items() if v is not None})
    if config is None:
        return files(**{"m__manifest.json": text})
    return files(**{"m__manifest.json": text, "m__busybox.config": config})


# -- checks for the rows that succeed ------------------------------------------------------


def shows(*texts: str) -> Check:
    def check(tmp: Path, out: str, err: str) -> None:
        for t in texts:
            assert t in out, (t, out[-2000:])

    return check


def markup_kept(tmp: Path, out: str, err: str) -> None:
    assert "[/]" in out and ":x:" in out and "\u274c" not in out, out[-2000:]


def name_kept(tmp: Path, out: str, err: str) -> None:
    assert NAME in out and "\u274c" not in out, out[-2000:]


def no_controls(tmp: Path, out: str, err: str) -> None:
    """Control characters from a profile reach the terminal as escapes, never raw."""
    raw = [c for c in "\x07\x1b\x9b\u202e" if c in out]
    assert not raw, f"raw control characters printed: {raw}"
    assert "\\x1b[2J" in out and "\\u202eXYZ" in out, out[:300]


def link_kept(name: str) -> Check:
    def check(tmp: Path, out: str, err: str) -> None:
        assert (tmp / name).is_symlink(), f"{name} was replaced, not its target"

    return check


def crlf_kept(tmp: Path, out: str, err: str) -> None:
    data = (tmp / "w.toml").read_bytes()
    assert data.count(b"\r\n") == data.count(b"\n"), "line ends changed"


def resolves(name: str) -> Check:
    """The written profile resolves from where it is (its base found from its own folder)."""

    def check(tmp: Path, out: str, err: str) -> None:
        code, o, e = run_in_process(["show", str(tmp / name), "--json"], tmp)
        assert code == 0, e

    return check


# -- the table ------------------------------------------------------------------------------

DIGITS = "1" * 400
MB = 1 << 20

#: A busybox.config with a symbol no release has, and a manifest pinning it (cve rows).
_CVE_CONFIG = "CONFIG_NO_SUCH_SYMBOL=y\n"


def _cve_manifest(**fields: object) -> str:
    import json

    data: dict[str, object] = {
        "release": "1.38.0",
        "config_sha256": hashlib.sha256(_CVE_CONFIG.encode()).hexdigest(),
        "source_date_epoch": 0,
    }
    data.update(fields)
    return json.dumps(data)


def _cve_files(manifest: str, config: str | None = None) -> Setup:
    """A build folder ``b`` with this manifest.json (and busybox.config)."""
    named = {"b__manifest.json": manifest}
    if config is not None:
        named["b__busybox.config"] = config
    return files(**named)


#: A small 1.35.0 profile `upgrade` can move.
_OLD = files(**{"old.toml": '[profile]\nbusybox = "1.35.0"\n\n[config]\nLS = false\n'})

CASES: list[Case] = [
    # ---- show: files that are not profiles ----
    Case("show-missing", ("show", "nope.toml")),
    Case("show-missing-config", ("show", "nope.config")),
    Case("show-directory", ("show", "d.toml"), folder("d.toml")),
    Case("show-empty-name", ("show", "")),
    Case("show-fifo-toml", ("show", "f.toml"), fifo("f.toml"), proc=True),
    Case("show-fifo-config", ("show", "f.config"), fifo("f.config"), proc=True),
    Case("show-dev-zero", ("show", "/dev/zero"), proc=True),
    Case("show-dev-null", ("show", "/dev/null"), proc=True),
    Case("show-dev-zero-as-toml", ("show", "z.toml"), symlink("z.toml", "/dev/zero"), proc=True),
    Case("show-chardev", ("show", "n.toml"), chardev("n.toml"), proc=True),
    Case("show-dangling-symlink", ("show", "l.toml"), symlink("l.toml", "nowhere.toml")),
    Case("show-symlink-loop", ("show", "loop.toml"), symlink("loop.toml", "loop.toml")),
    Case("show-comments-50M", ("show", "big.toml"), big("big.toml", 50 * MB), proc=True),
    Case("show-comments-900K", ("show", "big.toml"), big("big.toml", 900 * 1024), proc=True),
    Case("show-config-20M", ("show", "big.config"), big("big.config", 20 * MB), proc=True),
    Case(
        "show-comments-100K",
        ("show", "c.toml"),
        both(big("c.toml", 100 * 1024), append("c.toml", PROFILE)),
        code=0,
        proc=True,
    ),
    Case("show-not-utf8", ("show", "b.toml"), files(**{"b.toml": b'[profile]\ndescription = "\xff\xfe"\n'})),
    Case("show-nul-byte", ("show", "b.toml"), files(**{"b.toml": b"[profile]\x00\n"})),
    Case("show-newline-in-name", ("show", "a\nb.toml"), said="a\\nb.toml"),
    Case("show-escape-in-name", ("show", "\x1b[31mred.toml"), said="\\x1b[31mred.toml"),
    Case("show-emoji-code-in-name", ("show", ":x:.toml"), said=":x:.toml: no such profile"),
    Case("show-markup-in-name", ("show", "[red]x[/].toml"), said="[red]x[/].toml"),
    # ---- show: TOML that does not parse ----
    Case("show-toml-syntax", ("show", "b.toml"), bare("b.toml", "[profile\nbase = 1\n")),
    Case("show-dup-profile-key", ("show", "m.toml"), profile(head='busybox = "1.38.0"')),
    Case("show-dup-config-key", ("show", "m.toml"), profile(config="LS = true")),
    Case("show-dup-inline-key", ("show", "m.toml"), profile(config="X = {a = 1, a = 2}")),
    Case("show-dup-dotted-key", ("show", "m.toml"), profile(config="X.a = 1\nX.a = 2")),
    Case("show-dup-table", ("show", "b.toml"), bare("b.toml", "[config]\nLS = true\n[config]\nCAT = true\n")),
    Case(
        "show-bad-date",
        ("show", "m.toml"),
        profile(replace=('description = "', 'x = 1979-13-27\ndescription = "')),
    ),
    Case("show-bad-escape", ("show", "b.toml"), bare("b.toml", '[profile]\ndescription = "\\ud800"\n')),
    Case("show-control-char", ("show", "b.toml"), bare("b.toml", '[profile]\ndescription = "\x1b[31m"\n')),
    Case(
        "show-deep-array",
        ("show", "b.toml"),
        bare("b.toml", "[config]\nLS = " + "[" * 5000 + "]" * 5000 + "\n"),
    ),
    # ---- show: profiles that parse but are wrong ----
    Case("show-unknown-table", ("show", "b.toml"), bare("b.toml", "[foo]\nx = 1\n")),
    Case("show-unknown-top-key", ("show", "b.toml"), bare("b.toml", "x = 1\n")),
    Case("show-unknown-profile-key", ("show", "m.toml"), profile(head="colour = 1")),
    Case("show-unknown-build-key", ("show", "m.toml"), profile(build='cc = "gcc"')),
    Case("show-profile-not-table", ("show", "b.toml"), bare("b.toml", "profile = 1\n")),
    Case("show-config-not-table", ("show", "b.toml"), bare("b.toml", "config = [1]\n")),
    Case(
        "show-description-not-string",
        ("show", "m.toml"),
        profile(replace=('description = "', 'description = 1\nx = "')),
    ),
    Case("show-arch-unknown", ("show", "m.toml"), profile(replace=('arch = "x86_64"', 'arch = "vax"'))),
    Case("show-arch-empty", ("show", "m.toml"), profile(replace=('arch = "x86_64"', 'arch = ""'))),
    Case("show-arch-markup", ("show", "m.toml"), profile(replace=('arch = "x86_64"', 'arch = "[/]"'))),
    Case(
        "show-version-unknown",
        ("show", "m.toml"),
        profile(replace=('busybox = "1.38.0"', 'busybox = "7.7.7"')),
    ),
    Case(
        "show-version-path",
        ("show", "m.toml"),
        profile(replace=('busybox = "1.38.0"', 'busybox = "../../x"')),
    ),
    Case("show-version-empty", ("show", "m.toml"), profile(replace=('busybox = "1.38.0"', 'busybox = ""'))),
    Case(
        "show-toolchain-semicolon",
        ("show", "m.toml"),
        profile(replace=('toolchain = "zig"', 'toolchain = "x;y"')),
    ),
    Case(
        "show-toolchain-escape",
        ("show", "m.toml"),
        profile(replace=('toolchain = "zig"', 'toolchain = "../../../../ESCAPED/x"')),
    ),
    Case(
        "show-toolchain-empty", ("show", "m.toml"), profile(replace=('toolchain = "zig"', 'toolchain = ""'))
    ),
    Case("show-unknown-symbol", ("show", "m.toml"), profile(config="NO_SUCH = true")),
    Case("show-config-prefix", ("show", "m.toml"), profile(config="CONFIG_VI = true")),
    Case("show-bool-as-int", ("show", "m.toml"), profile(replace=("LS = true", "LS = 3"))),
    Case("show-bool-as-word", ("show", "m.toml"), profile(replace=("LS = true", 'LS = "maybe"'))),
    Case("show-range", ("show", "m.toml"), profile(config="SHA1_SMALL = 7")),
    Case("show-int-400-digits", ("show", "m.toml"), profile(config=f"FEATURE_EDITING_HISTORY = {DIGITS}")),
    Case("show-int-inf", ("show", "m.toml"), profile(config="FEATURE_EDITING_HISTORY = inf")),
    Case("show-int-float", ("show", "m.toml"), profile(config="FEATURE_EDITING_HISTORY = 1e999")),
    Case("show-value-array", ("show", "m.toml"), profile(replace=("LS = true", "LS = [true]"))),
    Case("show-value-table", ("show", "m.toml"), profile(replace=("LS = true", "LS = {on = true}"))),
    Case("show-value-date", ("show", "m.toml"), profile(replace=("LS = true", "LS = 1979-05-27"))),
    Case("show-string-for-int", ("show", "m.toml"), profile(config='FEATURE_EDITING_HISTORY = "lots"')),
    # ---- show: bases ----
    Case(
        "show-base-unknown", ("show", "m.toml"), profile(replace=('base = "allnoconfig"', 'base = "nosuch"'))
    ),
    Case("show-base-empty", ("show", "m.toml"), profile(replace=('base = "allnoconfig"', 'base = ""'))),
    Case("show-base-self", ("show", "m.toml"), profile(replace=('base = "allnoconfig"', 'base = "m"'))),
    Case(
        "show-base-two-cycle",
        ("show", "a.toml"),
        both(bare("a.toml", '[profile]\nbase = "b"\n'), bare("b.toml", '[profile]\nbase = "a"\n')),
    ),
    Case("show-base-chain-500", ("show", "c0.toml"), chain(500)),
    Case("show-base-chain-20", ("show", "c0.toml", "--json"), chain(20), code=0),
    Case(
        "show-base-etc-shadow",
        ("show", "m.toml"),
        profile(replace=('base = "allnoconfig"', 'base = "/etc/shadow"')),
    ),
    Case(
        "show-base-etc-passwd",
        ("show", "m.toml"),
        profile(replace=('base = "allnoconfig"', 'base = "/etc/passwd"')),
    ),
    Case(
        "show-base-outside-tree",
        ("show", "sub/c.toml"),
        bare("sub__c.toml", '[profile]\nbase = "../p.toml"\n'),
    ),
    Case(
        "show-base-dev-zero",
        ("show", "m.toml"),
        profile(replace=('base = "allnoconfig"', 'base = "/dev/zero"')),
        proc=True,
    ),
    Case(
        "show-base-fifo",
        ("show", "m.toml"),
        both(profile(replace=('base = "allnoconfig"', 'base = "f.config"')), fifo("f.config")),
        proc=True,
    ),
    Case(
        "show-base-big-config",
        ("show", "m.toml"),
        both(profile(replace=('base = "allnoconfig"', 'base = "big.config"')), big("big.config", 20 * MB)),
        proc=True,
    ),
    Case(
        "show-base-bad-config",
        ("show", "m.toml"),
        both(profile(replace=('base = "allnoconfig"', 'base = "b.config"')), dotconfig("b.config", "junk\n")),
    ),
    # ---- show: .config files ----
    Case("show-dotconfig-malformed", ("show", "in.config"), dotconfig(body="CONFIG_LS=y\ngarbage\n")),
    Case("show-dotconfig-unknown", ("show", "in.config"), dotconfig(body="CONFIG_WHAT=y\n")),
    Case("show-dotconfig-range", ("show", "in.config"), dotconfig(body="CONFIG_SHA1_SMALL=9\n")),
    Case(
        "show-dotconfig-unterminated", ("show", "in.config"), dotconfig(body='CONFIG_PID_FILE_PATH="/run\n')
    ),
    Case("show-dotconfig-version-unknown", ("show", "in.config"), dotconfig(version="9.9.9")),
    Case("show-dotconfig-release-bad", ("show", "in.config", "--release", "../../x"), dotconfig()),
    Case("show-dotconfig-release-unknown", ("show", "in.config", "--release", "9.9.9"), dotconfig()),
    Case("show-dotconfig-not-utf8", ("show", "in.config"), files(**{"in.config": b"CONFIG_LS=\xff\n"})),
    # ---- show: awkward text that must print as text ----
    Case("show-markup-description", ("show", "m.toml"), profile(desc=MARKUP), code=0, check=markup_kept),
    Case(
        "show-markup-description-sub",
        ("show", "m.toml"),
        profile(desc=MARKUP),
        code=0,
        proc=True,
        check=markup_kept,
    ),
    Case("show-markup-path", ("show", NAME + ".toml"), profile(NAME + ".toml"), code=0, check=name_kept),
    # The gate allows no brackets in plain text: the refusal shows the value as typed.
    Case(
        "show-markup-string", ("show", "m.toml"), profile(config='UNAME_OSNAME = "[/] :x:"'), said="'[/] :x:'"
    ),
    Case(
        "show-string-dollar-paren",
        ("show", "m.toml"),
        profile(config='UNAME = true\nBUSYBOX_EXEC_PATH = "$(touch PWNED)"'),
    ),
    Case("show-string-newline", ("show", "m.toml"), profile(config='UNAME = true\nUNAME_OSNAME = "a\\nb"')),
    Case(
        "export-string-dollar-paren",
        ("export", "m.toml", "-o", "x.config"),
        profile(config='UNAME = true\nBUSYBOX_EXEC_PATH = "$(touch PWNED)"'),
    ),
    Case(
        "export-string-newline",
        ("export", "m.toml", "-o", "-"),
        profile(config='PID_FILE_PATH = "/run\\nX=1"'),
    ),
    Case(
        "size-string-dollar-paren",
        ("size", "m.toml"),
        profile(config='UNAME = true\nBUSYBOX_EXEC_PATH = "$(touch PWNED)"'),
    ),
    Case(
        "diff-string-dollar-paren",
        ("diff", "p.toml", "m.toml"),
        profile(config='UNAME = true\nBUSYBOX_EXEC_PATH = "$(touch PWNED)"'),
    ),
    Case(
        "trim-budget-string-dollar-paren",
        ("trim", "--budget", "600K", "m.toml", "-o", "x.toml"),
        profile(config='UNAME = true\nBUSYBOX_EXEC_PATH = "$(touch PWNED)"'),
    ),
    Case(
        "trim-scan-base-string-dollar-paren",
        ("trim", "--scan", "f.sh", "--base", "m.toml", "-o", "x.toml"),
        both(profile(config='UNAME = true\nBUSYBOX_EXEC_PATH = "$(touch PWNED)"'), files(**{"f.sh": "ls\n"})),
    ),
    Case(
        "show-markup-dotconfig-path",
        ("show", "[b]:x:.config"),
        dotconfig("[b]:x:.config"),
        code=0,
        check=shows("[b]:x:.config"),
    ),
    Case(
        "show-escape-description",
        ("show", "m.toml"),
        profile(desc="bell\x07 esc\x1b[2J csi\x9b2J bidi\u202eXYZ"),
        code=0,
        check=no_controls,
    ),
    Case("show-json-markup", ("show", "m.toml", "--json"), profile(desc=MARKUP), code=0, check=shows("[/]")),
    Case("show-crlf", ("show", "w.toml"), files(**{"w.toml": PROFILE.replace("\n", "\r\n")}), code=0),
    Case("show-empty-profile", ("show", "e.toml"), bare("e.toml", ""), code=0),
    # ---- set ----
    Case("set-missing", ("set", "none.toml", "LS=n")),
    Case("set-directory", ("set", "d.toml", "LS=n"), folder("d.toml")),
    Case("set-fifo", ("set", "f.toml", "LS=n"), fifo("f.toml"), proc=True),
    Case("set-dev-zero", ("set", "z.toml", "LS=n"), symlink("z.toml", "/dev/zero"), proc=True),
    Case("set-chardev", ("set", "n.toml", "LS=n"), chardev("n.toml"), proc=True),
    Case("set-comments-50M", ("set", "big.toml", "LS=n"), big("big.toml", 50 * MB), proc=True),
    Case("set-dup-key", ("set", "m.toml", "LS=n"), profile(config="LS = true")),
    Case("set-no-assignment", ("set", "p.toml")),
    Case("set-no-equals", ("set", "p.toml", "LS")),
    Case("set-empty-name", ("set", "p.toml", "=y")),
    Case("set-unknown-symbol", ("set", "p.toml", "NO_SUCH=y")),
    Case("set-lowercase", ("set", "p.toml", "ls=n")),
    Case("set-markup-symbol", ("set", "p.toml", "[red]:x:=y"), said="[red]:x:"),
    Case("set-bad-bool", ("set", "p.toml", "LS=maybe")),
    Case("set-bool-number", ("set", "p.toml", "LS=2")),
    Case("set-range", ("set", "p.toml", "FEATURE_EDITING_HISTORY=99999")),
    Case("set-int-400-digits", ("set", "p.toml", f"FEATURE_EDITING_HISTORY={DIGITS}")),
    Case("set-int-not-number", ("set", "p.toml", "FEATURE_EDITING_HISTORY=lots")),
    Case("set-int-negative", ("set", "p.toml", "FEATURE_EDITING_HISTORY=-1")),
    Case("set-int-hex", ("set", "p.toml", "FEATURE_EDITING_HISTORY=0x10")),
    Case("set-int-exponent", ("set", "p.toml", "FEATURE_EDITING_HISTORY=1e3")),
    Case("set-same-symbol-twice", ("set", "p.toml", "LS=n", "LS=y")),
    Case("set-string-long", ("set", "p.toml", "UNAME=y", "UNAME_OSNAME=" + "a(" * 50_000)),
    Case("set-string-4k", ("set", "p.toml", "UNAME=y", "UNAME_OSNAME=" + "a" * 4096), code=0),
    Case("set-needs-dependency", ("set", "p.toml", "FEATURE_VI_COLON=y")),
    Case("set-conflict", ("set", "p.toml", "FEATURE_LS_COLOR=y", "LS=n")),
    Case("set-bad-profile-after-good", ("set", "m.toml", "LS=n"), profile(config="NO_SUCH = true")),
    Case("set-string-dollar-paren", ("set", "p.toml", "BUSYBOX_EXEC_PATH=$(touch PWNED)")),
    Case("set-string-backticks", ("set", "p.toml", "UNAME_OSNAME=`touch PWNED`")),
    Case("set-string-newline", ("set", "p.toml", "UNAME_OSNAME=Linux\n$(shell touch PWNED)")),
    Case("set-string-newline-path", ("set", "p.toml", "PID_FILE_PATH=/run\nCONFIG_X=y")),
    Case("set-string-quote", ("set", "p.toml", 'UNAME_OSNAME=a"; touch PWNED; "')),
    Case("set-string-semicolon", ("set", "p.toml", "BUSYBOX_EXEC_PATH=/x;touch PWNED")),
    Case("set-cflags-dependency-file", ("set", "p.toml", "EXTRA_CFLAGS=-MD -MF/tmp/x")),
    Case("set-cflags-wrapper", ("set", "p.toml", "EXTRA_CFLAGS=-wrapper /usr/bin/touch,/tmp/x,--")),
    Case("set-cflags-plugin", ("set", "p.toml", "EXTRA_CFLAGS=-fplugin=/tmp/x.so")),
    Case("set-cflags-record-file", ("set", "p.toml", "EXTRA_CFLAGS=-foptimization-record-file=/tmp/x")),
    Case("set-cflags-mllvm", ("set", "p.toml", "EXTRA_CFLAGS=-mllvm -info-output-file=/tmp/x")),
    Case("set-cflags-include-outside", ("set", "p.toml", "EXTRA_CFLAGS=-I/etc")),
    Case("set-cflags-specs", ("set", "p.toml", "EXTRA_CFLAGS=-specs=/tmp/x.specs")),
    Case("set-cflags-semicolon", ("set", "p.toml", "EXTRA_CFLAGS=-O2;touch PWNED")),
    Case("set-ldflags-dollar", ("set", "p.toml", "EXTRA_LDFLAGS=$(touch PWNED)")),
    Case("set-ldlibs-wrapper", ("set", "p.toml", "EXTRA_LDLIBS=-Wl,-plugin=/tmp/x.so")),
    Case(
        "set-string-spaces",
        ("set", "w.toml", "UNAME=y", "UNAME_OSNAME=My Linux 2"),
        profile("w.toml"),
        code=0,
        check=lambda t, o, e: (
            None if 'UNAME_OSNAME = "My Linux 2"' in (t / "w.toml").read_text() else pytest.fail("not saved")
        ),
    ),
    Case(
        "set-markup-value",
        ("set", "w.toml", "UNAME=y", "UNAME_OSNAME=[/] :x:"),
        profile("w.toml"),
        said="'[/] :x:'",
    ),
    Case(
        "set-markup-path", ("set", NAME + ".toml", "VI=y"), profile(NAME + ".toml"), code=0, check=name_kept
    ),
    Case(
        "set-markup-path-sub",
        ("set", NAME + ".toml", "VI=y"),
        profile(NAME + ".toml"),
        code=0,
        proc=True,
        check=name_kept,
    ),
    Case("set-markup-description", ("set", "w.toml", "VI=y"), profile("w.toml", desc=MARKUP), code=0),
    Case(
        "set-through-symlink",
        ("set", "link.toml", "VI=y"),
        both(profile("w.toml"), symlink("link.toml", "w.toml")),
        code=0,
        check=link_kept("link.toml"),
    ),
    Case(
        "set-keeps-crlf",
        ("set", "w.toml", "VI=y"),
        files(**{"w.toml": PROFILE.replace("\n", "\r\n")}),
        code=0,
        check=crlf_kept,
    ),
    Case(
        "set-with-deps",
        ("set", "w.toml", "FEATURE_VI_COLON=y", "--with-deps"),
        profile("w.toml"),
        code=0,
        check=lambda t, o, e: None if "VI = true" in (t / "w.toml").read_text() else pytest.fail("VI"),
    ),
    # ---- diff ----
    Case("diff-missing-a", ("diff", "nope.toml", "p.toml")),
    Case("diff-release-path", ("diff", "p.toml", "p.toml", "--release", "../x")),
    Case("diff-missing-b", ("diff", "p.toml", "nope.toml")),
    Case("diff-fifo", ("diff", "p.toml", "f.toml"), fifo("f.toml"), proc=True),
    Case("diff-dev-zero", ("diff", "p.toml", "/dev/zero"), proc=True),
    Case("diff-directory", ("diff", "p.toml", "d"), folder("d")),
    Case("diff-dup-key", ("diff", "p.toml", "m.toml"), profile(config="LS = true")),
    Case("diff-bad-dotconfig", ("diff", "p.toml", "in.config"), dotconfig(body="garbage\n")),
    Case(
        "diff-release-unknown",
        ("diff", "a.config", "in.config", "--release", "9.9.9"),
        both(dotconfig("a.config", version=""), dotconfig(version="")),
    ),
    Case("diff-big", ("diff", "p.toml", "big.toml"), big("big.toml", 50 * MB), proc=True),
    Case(
        "diff-markup-path",
        ("diff", "p.toml", NAME + ".toml"),
        profile(NAME + ".toml", config="VI = true"),
        code=0,
        check=name_kept,
    ),
    Case(
        "diff-markup-string",
        ("diff", "p.toml", "m.toml"),
        profile(config='UNAME_OSNAME = "[/] :x:"'),
        said="'[/] :x:'",
    ),
    Case(
        "diff-markup-description",
        ("diff", "p.toml", "m.toml"),
        profile(desc=MARKUP),
        code=0,
        check=shows("no differences"),
    ),
    # ---- import ----
    Case("import-missing", ("import", "nope.config", "-o", "x.toml")),
    Case("import-fifo", ("import", "f.config", "-o", "x.toml"), fifo("f.config"), proc=True),
    Case("import-dev-zero", ("import", "/dev/zero", "-o", "x.toml"), proc=True),
    Case("import-directory", ("import", "d", "-o", "x.toml"), folder("d")),
    Case("import-big", ("import", "big.config", "-o", "x.toml"), big("big.config", 20 * MB), proc=True),
    Case(
        "import-malformed",
        ("import", "in.config", "-o", "configs/x.toml"),
        dotconfig(body="CONFIG_LS=y\ngarbage\n"),
    ),
    Case(
        "import-unknown", ("import", "in.config", "-o", "configs/x.toml"), dotconfig(body="CONFIG_WHAT=y\n")
    ),
    Case(
        "import-range",
        ("import", "in.config", "-o", "configs/x.toml"),
        dotconfig(body="CONFIG_SHA1_SMALL=9\n"),
    ),
    Case(
        "import-unterminated",
        ("import", "in.config", "-o", "configs/x.toml"),
        dotconfig(body='CONFIG_PID_FILE_PATH="/run\n'),
    ),
    Case(
        "import-not-utf8",
        ("import", "in.config", "-o", "x.toml"),
        files(**{"in.config": b"CONFIG_LS=\xff\n"}),
    ),
    Case(
        "import-string-dollar-paren",
        ("import", "in.config", "-o", "x.toml"),
        dotconfig(body='CONFIG_BUSYBOX_EXEC_PATH="$(touch PWNED)"\n'),
    ),
    Case(
        "import-string-backticks",
        ("import", "in.config", "-o", "x.toml"),
        dotconfig(body='CONFIG_UNAME_OSNAME="`touch PWNED`"\n'),
    ),
    Case(
        "import-cflags-dependency-file",
        ("import", "in.config", "-o", "x.toml"),
        dotconfig(body='CONFIG_EXTRA_CFLAGS="-MD -MF/tmp/x"\n'),
    ),
    Case(
        "import-cflags-plugin",
        ("import", "in.config", "-o", "x.toml"),
        dotconfig(body='CONFIG_EXTRA_CFLAGS="-fplugin=/tmp/x.so"\n'),
    ),
    Case("import-exists", ("import", "in.config", "-o", "p.toml"), dotconfig()),
    Case("import-o-empty", ("import", "in.config", "-o", ""), dotconfig()),
    Case("import-o-empty-force", ("import", "in.config", "-o", "", "--force"), dotconfig()),
    Case("import-o-directory", ("import", "in.config", "-o", "d"), both(dotconfig(), folder("d"))),
    Case(
        "import-o-directory-force",
        ("import", "in.config", "-o", "d", "--force"),
        both(dotconfig(), folder("d")),
    ),
    Case("import-o-dot-force", ("import", "in.config", "-o", ".", "--force"), dotconfig()),
    Case("import-o-unwritable", ("import", "in.config", "-o", "/sys/busyconf-x.toml"), dotconfig()),
    Case("import-o-no-such-root", ("import", "in.config", "-o", "/proc/busyconf/x.toml"), dotconfig()),
    Case("import-o-under-file", ("import", "in.config", "-o", "p.toml/x.toml"), dotconfig()),
    Case("import-base-missing", ("import", "in.config", "-o", "x.toml", "--base", "nosuch"), dotconfig()),
    Case("import-base-empty", ("import", "in.config", "-o", "x.toml", "--base", ""), dotconfig()),
    Case(
        "import-base-dev-zero",
        ("import", "in.config", "-o", "x.toml", "--base", "/dev/zero"),
        dotconfig(),
        proc=True,
    ),
    Case(
        "import-description-control",
        ("import", "in.config", "-o", "x.toml", "--description", "a\nb\x1b[2J"),
        dotconfig(),
        code=0,
        check=resolves("x.toml"),
    ),
    Case(
        "import-base-fifo",
        ("import", "in.config", "-o", "x.toml", "--base", "f.config"),
        both(dotconfig(), fifo("f.config")),
        proc=True,
    ),
    Case(
        "import-base-bad",
        ("import", "in.config", "-o", "x.toml", "--base", "m.toml"),
        both(dotconfig(), profile(config="NO_SUCH = true")),
    ),
    Case("import-arch-unknown", ("import", "in.config", "-o", "x.toml", "--arch", "vax"), dotconfig()),
    Case("import-arch-empty", ("import", "in.config", "-o", "x.toml", "--arch", ""), dotconfig()),
    Case(
        "import-release-unknown",
        ("import", "in.config", "-o", "x.toml", "--release", "9.9.9"),
        dotconfig(version=""),
    ),
    Case(
        "import-release-path",
        ("import", "in.config", "-o", "x.toml", "--release", "../../x"),
        dotconfig(version=""),
    ),
    Case("import-version-unknown", ("import", "in.config", "-o", "x.toml"), dotconfig(version="9.9.9")),
    Case(
        "import-base-from-cwd",
        ("import", "in.config", "-o", "out/x.toml", "--base", "p.toml"),
        dotconfig(),
        code=2,
        check=resolves("out/x.toml"),
    ),
    Case(
        "import-base-name-from-cwd",
        ("import", "in.config", "-o", "out/x.toml", "--base", "p"),
        dotconfig(),
        code=2,
    ),
    Case(
        "import-markup-paths",
        ("import", NAME + ".config", "-o", "[b]:x:.toml"),
        dotconfig(NAME + ".config"),
        code=0,
        check=shows("[b]:x:.toml"),
    ),
    Case(
        "import-ok",
        ("import", "in.config", "-o", "configs/x.toml"),
        dotconfig(),
        code=0,
        check=resolves("configs/x.toml"),
    ),
    # ---- export ----
    Case("export-missing", ("export", "nope.toml", "-o", "x.config")),
    Case("export-fifo-in", ("export", "f.toml", "-o", "x.config"), fifo("f.toml"), proc=True),
    Case("export-dev-zero-in", ("export", "/dev/zero", "-o", "x.config"), proc=True),
    Case("export-dup-key", ("export", "m.toml", "-o", "x.config"), profile(config="LS = true")),
    Case("export-o-empty", ("export", "p.toml", "-o", "")),
    Case("export-o-directory", ("export", "p.toml", "-o", "d"), folder("d")),
    Case("export-o-dot", ("export", "p.toml", "-o", ".")),
    Case("export-o-slash", ("export", "p.toml", "-o", "x/")),
    Case("export-o-unwritable", ("export", "p.toml", "-o", "/sys/busyconf-x.config")),
    Case("export-o-no-such-root", ("export", "p.toml", "-o", "/proc/busyconf/x.config")),
    Case("export-o-under-file", ("export", "p.toml", "-o", "p.toml/x.config")),
    Case("export-o-fifo", ("export", "p.toml", "-o", "f.config"), fifo("f.config"), proc=True),
    Case(
        "export-o-chardev",
        ("export", "p.toml", "-o", "n.config"),
        chardev("n.config"),
        code=0,
        proc=True,
        check=lambda t, o, e: (
            None if stat.S_ISCHR((t / "n.config").lstat().st_mode) else pytest.fail("the device was replaced")
        ),
    ),
    Case(
        "export-o-symlink",
        ("export", "p.toml", "-o", "link.config"),
        both(bare("real.config", "old\n"), symlink("link.config", "real.config")),
        code=0,
        check=link_kept("link.config"),
    ),
    Case("export-stdout", ("export", "p.toml", "-o", "-"), code=0, check=shows("CONFIG_LS=y")),
    Case(
        "export-markup-paths",
        ("export", NAME + ".toml", "-o", "[b]:x:.config"),
        profile(NAME + ".toml"),
        code=0,
        check=shows("[b]:x:.config"),
    ),
    Case(
        "export-release-unknown",
        ("export", "in.config", "-o", "x.config", "--release", "9.9.9"),
        dotconfig(version=""),
    ),
    # ---- build: refused before anything is compiled ----
    Case("build-missing", ("build", "nope.toml"), proc=True),
    Case("build-fifo", ("build", "f.toml"), fifo("f.toml"), proc=True),
    Case("build-dev-zero", ("build", "/dev/zero"), proc=True),
    Case("build-dup-key", ("build", "m.toml"), profile(config="LS = true"), proc=True),
    Case("build-arch-unknown", ("build", "p.toml", "--arch", "vax"), proc=True),
    Case("build-arch-empty", ("build", "p.toml", "--arch", ""), proc=True),
    Case("build-arch-path", ("build", "p.toml", "--arch", "../x86_64"), proc=True),
    Case("build-toolchain-escape", ("build", "p.toml", "--toolchain", "../../../../ESCAPED/x"), proc=True),
    Case("build-toolchain-semicolon", ("build", "p.toml", "--toolchain", "x;y"), proc=True),
    Case("build-toolchain-empty", ("build", "p.toml", "--toolchain", ""), proc=True),
    Case(
        "build-toolchain-absent",
        ("build", "p.toml", "--toolchain", "nosuch-linux-musl-"),
        code=1,
        proc=True,
    ),
    Case("build-jobs-negative", ("build", "p.toml", "-j", "-1"), proc=True),
    Case("build-jobs-zero", ("build", "p.toml", "-j", "0"), proc=True),
    Case("build-jobs-huge", ("build", "p.toml", "-j", DIGITS), proc=True),
    Case("build-jobs-word", ("build", "p.toml", "-j", "many"), proc=True),
    Case("build-o-empty", ("build", "p.toml", "-o", ""), proc=True),
    Case("build-o-file", ("build", "p.toml", "-o", "p.toml"), proc=True),
    Case("build-o-unwritable", ("build", "p.toml", "-o", "/sys/busyconf-out"), proc=True),
    Case("build-o-no-such-root", ("build", "p.toml", "-o", "/proc/busyconf/out"), proc=True),
    Case("build-o-under-file", ("build", "p.toml", "-o", "p.toml/out"), proc=True),
    Case("build-o-foreign-folder", ("build", "p.toml", "-o", "d"), folder("d"), proc=True),
    Case("build-o-chardev", ("build", "p.toml", "-o", "n"), chardev("n"), proc=True),
    Case(
        "build-release-unknown",
        ("build", "in.config", "--release", "9.9.9"),
        dotconfig(version=""),
        proc=True,
    ),
    Case("build-known-broken", ("build", "m.toml"), profile(config="TC = true"), proc=True),
    Case("build-applet-unknown", ("build", "--applet", "nslookx"), proc=True, said="did you mean nslookup"),
    Case("build-applet-empty", ("build", "--applet", ""), proc=True),
    Case("build-applet-escape", ("build", "--applet", "vi\x1b[31m"), proc=True),
    Case("build-applet-and-profile", ("build", "p.toml", "--applet", "vi"), proc=True),
    Case("build-neither-profile-nor-applet", ("build",), proc=True),
    Case("build-applet-arch-unknown", ("build", "--applet", "vi", "--arch", "vax"), proc=True),
    Case("build-applet-release-unknown", ("build", "--applet", "vi", "--release", "9.9.9"), proc=True),
    Case("build-applet-release-word", ("build", "--applet", "vi", "--release", "latest"), proc=True),
    Case(
        "build-applet-o-file", ("build", "--applet", "vi", "-o", "p.toml"), files(**{"p.toml": ""}), proc=True
    ),
    Case(
        "build-string-dollar-paren",
        ("build", "m.toml"),
        marker_profile("m.toml", "BUSYBOX_EXEC_PATH", "$(touch MARK)"),
        proc=True,
    ),
    Case(
        "build-string-backticks",
        ("build", "m.toml"),
        marker_profile("m.toml", "UNAME_OSNAME", "`touch MARK`"),
        proc=True,
    ),
    Case(
        "build-string-newline-make",
        ("build", "m.toml"),
        marker_profile("m.toml", "PID_FILE_PATH", "/run\n$(shell touch MARK)"),
        proc=True,
    ),
    Case(
        "build-cflags-dependency-file",
        ("build", "m.toml"),
        marker_profile("m.toml", "EXTRA_CFLAGS", "-MD -MFMARK"),
        proc=True,
    ),
    Case(
        "build-cflags-wrapper",
        ("build", "m.toml"),
        marker_profile("m.toml", "EXTRA_CFLAGS", "-wrapper /usr/bin/touch,MARK,--"),
        proc=True,
    ),
    Case(
        "build-cflags-plugin",
        ("build", "m.toml"),
        marker_profile("m.toml", "EXTRA_CFLAGS", "-fplugin=MARK"),
        proc=True,
    ),
    Case(
        "build-cflags-record-file",
        ("build", "m.toml"),
        marker_profile("m.toml", "EXTRA_CFLAGS", "-foptimization-record-file=MARK"),
        proc=True,
    ),
    Case(
        "build-cflags-mllvm",
        ("build", "m.toml"),
        marker_profile("m.toml", "EXTRA_CFLAGS", "-mllvm -info-output-file=MARK"),
        proc=True,
    ),
    Case(
        "build-cflags-semicolon",
        ("build", "m.toml"),
        marker_profile("m.toml", "EXTRA_CFLAGS", "-O2;touch MARK"),
        proc=True,
    ),
    Case(
        "build-ldflags-dollar",
        ("build", "m.toml"),
        marker_profile("m.toml", "EXTRA_LDFLAGS", "$(touch MARK)"),
        proc=True,
    ),
    Case(
        "build-markup-path-bad-arch",
        ("build", NAME + ".toml", "--arch", "[/]"),
        profile(NAME + ".toml"),
        proc=True,
    ),
    # ---- test ----
    Case("test-missing", ("test", "nope.toml"), proc=True),
    Case("test-fifo", ("test", "f.toml"), fifo("f.toml"), proc=True),
    Case("test-dup-key", ("test", "m.toml"), profile(config="LS = true"), proc=True),
    Case("test-toolchain-escape", ("test", "p.toml", "--toolchain", "../../../../ESCAPED/x"), proc=True),
    Case("test-toolchain-semicolon", ("test", "p.toml", "--toolchain", "x;y"), proc=True),
    Case("test-unknown-arch", ("test", "p.toml", "--arch", "pdp11"), said="unknown arch 'pdp11'"),
    # No binfmt_misc: another CPU's suite needs its qemu-user; without it, refused before compiling.
    Case(
        "test-cross-arch-without-qemu",
        ("test", "p.toml", "--arch", "armv7"),
        code=1,
        env=(("PATH", "/nonexistent"),),
        said="qemu-arm-static not found",
    ),
    Case(
        "test-string-dollar-paren",
        ("test", "m.toml"),
        marker_profile("m.toml", "BUSYBOX_EXEC_PATH", "$(touch MARK)"),
        proc=True,
    ),
    # ---- size ----
    Case("size-missing", ("size", "nope.toml")),
    Case("size-transfer-self", ("size", "calibrate", "--arch", "x86_64", "--transfer", "x86_64"), proc=True),
    Case(
        "size-transfer-self-release",
        ("size", "calibrate", "--arch", "x86_64", "--transfer", "1.38.0/x86_64"),
        proc=True,
    ),
    Case("size-fifo", ("size", "f.toml"), fifo("f.toml"), proc=True),
    Case("size-dev-zero", ("size", "/dev/zero"), proc=True),
    Case("size-dotconfig", ("size", "in.config"), dotconfig()),
    Case("size-dup-key", ("size", "m.toml"), profile(config="LS = true")),
    Case("size-arch-vax", ("size", "p.toml", "--arch", "vax")),
    Case("size-arch-empty", ("size", "p.toml", "--arch", "")),
    Case("size-toolchain-semicolon", ("size", "p.toml", "--toolchain", "x;y")),
    Case("size-toolchain-escape", ("size", "p.toml", "--toolchain", "../../../../ESCAPED/x")),
    Case("size-toolchain-markup", ("size", "p.toml", "--toolchain", "[/]")),
    Case("size-against-missing", ("size", "p.toml", "--against", "nope.toml")),
    Case("size-against-fifo", ("size", "p.toml", "--against", "f.toml"), fifo("f.toml"), proc=True),
    Case(
        "size-against-other-release",
        ("size", "p.toml", "--against", "old.toml"),
        profile("old.toml", replace=('busybox = "1.38.0"', 'busybox = "1.35.0"')),
    ),
    Case("size-release-without-calibrate", ("size", "p.toml", "--release", "1.38.0")),
    Case("size-transfer-without-calibrate", ("size", "p.toml", "--transfer", "x86_64")),
    Case("size-top-negative", ("size", "p.toml", "--top", "-1")),
    Case("size-top-word", ("size", "p.toml", "--top", "all")),
    Case("size-calibrate-no-arch", ("size", "calibrate"), proc=True),
    Case("size-calibrate-arch-vax", ("size", "calibrate", "--arch", "vax"), proc=True),
    Case(
        "size-calibrate-release-path",
        ("size", "calibrate", "--arch", "x86_64", "--release", "../x"),
        proc=True,
    ),
    Case(
        "size-calibrate-toolchain-escape",
        ("size", "calibrate", "--arch", "x86_64", "--toolchain", "../../../../ESCAPED/x"),
        proc=True,
    ),
    Case(
        "size-calibrate-transfer-vax",
        ("size", "calibrate", "--arch", "aarch64", "--transfer", "vax"),
        proc=True,
        said="--transfer vax",
    ),
    Case(
        "size-calibrate-transfer-release-path",
        ("size", "calibrate", "--arch", "aarch64", "--transfer", "../../x/x86_64"),
        proc=True,
        said="--transfer",
    ),
    Case(
        "size-calibrate-transfer-unmeasured",
        ("size", "calibrate", "--arch", "aarch64", "--transfer", "1.35.0/riscv64"),
        proc=True,
        said="no measurements of 1.35.0 on riscv64",
    ),
    Case("size-calibrate-shard-zero", ("size", "calibrate", "--arch", "x86_64", "--shard", "0/2"), said="0/"),
    Case("size-calibrate-shard-word", ("size", "calibrate", "--arch", "x86_64", "--shard", "half")),
    Case(
        "size-calibrate-budget-zero",
        ("size", "calibrate", "--arch", "x86_64", "--budget", "0"),
        said="--budget",
    ),
    Case(
        "size-calibrate-budget-shard",
        ("size", "calibrate", "--arch", "x86_64", "--budget", "5", "--shard", "1/2"),
        said="drop --budget",
    ),
    Case(
        "size-calibrate-shard-transfer",
        ("size", "calibrate", "--arch", "aarch64", "--transfer", "x86_64", "--shard", "1/2"),
    ),
    Case("size-calibrate-merge-missing", ("size", "calibrate", "--merge", "nope.xz"), said="nope.xz"),
    Case(
        "size-calibrate-merge-garbage",
        ("size", "calibrate", "--merge", "a.xz"),
        files(**{"a.xz": b"\xfd7zXZ\x00 not really"}),
        said="a.xz",
    ),
    Case("size-calibrate-merge-profile", ("size", "calibrate", "--merge", "p.toml"), said="p.toml"),
    Case("size-calibrate-merge-with-arch", ("size", "calibrate", "--merge", "p.toml", "--arch", "x86_64")),
    Case("size-markup-path", ("size", NAME + ".toml"), profile(NAME + ".toml"), code=0, check=name_kept),
    Case("size-ok", ("size", "p.toml", "--json"), code=0, check=shows('"estimate"')),
    # ---- size --against MANIFEST: a manifest is untrusted input ----
    Case("size-gate-missing", ("size", "p.toml", "--against", "nope.json")),
    Case("size-gate-bad-json", GATE, files(**{"m__manifest.json": "{no"}), said="JSON"),
    Case("size-gate-not-object", GATE, files(**{"m__manifest.json": "[1]"})),
    Case("size-gate-nan", GATE, files(**{"m__manifest.json": '{"binary_size": NaN}'})),
    Case("size-gate-deep", GATE, files(**{"m__manifest.json": "[" * 200_000}), said="too deep"),
    Case("size-gate-fifo", ("size", "p.toml", "--against", "f.json"), fifo("f.json"), proc=True),
    Case("size-gate-size-string", GATE, rebuild_dir(binary_size="big"), said="binary_size"),
    Case("size-gate-size-bool", GATE, rebuild_dir(binary_size=True), said="binary_size"),
    Case("size-gate-size-zero", GATE, rebuild_dir(binary_size=0), said="binary_size"),
    Case("size-gate-arch-vax", GATE, rebuild_dir(arch="vax"), said="vax"),
    Case("size-gate-toolchain-path", GATE, rebuild_dir(toolchain="../x"), said="../x"),
    Case("size-gate-sha-short", GATE, rebuild_dir(sha="abc"), said="config_sha256"),
    Case("size-gate-no-config", GATE, rebuild_dir(config=None), said="busybox.config"),
    Case("size-gate-config-tampered", GATE, rebuild_dir(sha="0" * 64), said="sha256"),
    Case("size-gate-other-arch", (*GATE, "--arch", "aarch64"), rebuild_dir(), said="aarch64"),
    Case("size-gate-other-release", GATE, rebuild_dir(release="1.35.0"), said="1.35.0"),
    Case("size-gate-growth-word", (*GATE, "--max-growth", "lots"), rebuild_dir(), said="lots"),
    Case("size-gate-growth-negative", (*GATE, "--max-growth=-1%"), rebuild_dir()),
    Case("size-gate-growth-nan", (*GATE, "--max-growth", "nan%"), rebuild_dir()),
    Case("size-gate-growth-huge", (*GATE, "--max-growth", "5000%"), rebuild_dir()),
    Case("size-gate-growth-terabytes", (*GATE, "--max-growth", "5000G"), rebuild_dir()),
    Case("size-growth-without-manifest", ("size", "p.toml", "--max-growth", "1%"), said="--against"),
    # ---- matrix: profiles are untrusted, names reach CI files ----
    Case("matrix-missing", ("matrix", "nope.toml")),
    Case("matrix-format-unknown", ("matrix", "p.toml", "--format", "yaml"), said="yaml"),
    Case("matrix-arch-vax", ("matrix", "p.toml", "--arch", "vax"), said="vax"),
    Case("matrix-arch-empty-item", ("matrix", "p.toml", "--arch", "x86_64,")),
    Case("matrix-shell-name", ("matrix", "x$(id).toml"), files(**{"x$(id).toml": PROFILE}), said="CI file"),
    Case("matrix-newline-name", ("matrix", "a\nb.toml"), files(**{"a\nb.toml": PROFILE}), said="a\\nb"),
    Case("matrix-same-name", ("matrix", "p.toml", "sub/p.toml"), files(**{"sub__p.toml": PROFILE})),
    Case("matrix-fifo", ("matrix", "f.toml"), fifo("f.toml"), proc=True),
    Case("matrix-listed-twice", ("matrix", "p.toml", "p.toml"), said="twice"),
    Case("matrix-ok", ("matrix", "p.toml", "--format", "json"), code=0, check=shows('"artifact"')),
    # ---- image: refused before anything is compiled ----
    Case("image-missing", ("image", "nope.toml", "-o", "img"), proc=True),
    Case("image-fifo", ("image", "f.toml", "-o", "img"), fifo("f.toml"), proc=True),
    Case("image-no-o", ("image", "p.toml"), proc=True),
    Case("image-arch-vax", ("image", "p.toml", "--arch", "vax", "-o", "img"), proc=True),
    Case("image-arch-empty", ("image", "p.toml", "--arch", "", "-o", "img"), proc=True),
    Case("image-arch-commas", ("image", "p.toml", "--arch", ",,", "-o", "img"), proc=True),
    Case("image-arch-twice", ("image", "p.toml", "--arch", "x86_64,x86_64", "-o", "img"), proc=True),
    Case("image-tag-space", ("image", "p.toml", "--tag", "a b", "-o", "img"), proc=True),
    Case("image-tag-empty", ("image", "p.toml", "--tag", "", "-o", "img"), proc=True),
    Case("image-tag-long", ("image", "p.toml", "--tag", "a" * 300, "-o", "img"), proc=True),
    Case("image-tag-markup", ("image", "p.toml", "--tag", "[/]", "-o", "img"), proc=True),
    Case("image-format-zip", ("image", "p.toml", "--format", "zip", "-o", "img"), proc=True),
    Case("image-o-empty", ("image", "p.toml", "-o", ""), proc=True),
    Case("image-o-file", ("image", "p.toml", "-o", "p.toml"), proc=True),
    Case("image-o-unwritable", ("image", "p.toml", "-o", "/sys/busyconf-img"), proc=True),
    Case("image-o-no-such-root", ("image", "p.toml", "-o", "/proc/busyconf/img"), proc=True),
    Case("image-o-foreign-folder", ("image", "p.toml", "-o", "d"), folder("d"), proc=True),
    Case(
        "image-archive-o-directory",
        ("image", "p.toml", "--format", "docker-archive", "-o", "d.tar"),
        folder("d.tar"),
        proc=True,
    ),
    Case(
        "image-archive-o-unwritable",
        ("image", "p.toml", "--format", "docker-archive", "-o", "/sys/x.tar"),
        proc=True,
    ),
    Case(
        "image-archives-o-file",
        ("image", "p.toml", "--format", "docker-archive", "--arch", "x86_64,aarch64", "-o", "p.toml"),
        proc=True,
    ),
    Case(
        "image-rootfs-tar-directory",
        ("image", "p.toml", "-o", "img", "--rootfs-tar", "d"),
        folder("d"),
        proc=True,
    ),
    Case("image-rootfs-tar-empty", ("image", "p.toml", "-o", "img", "--rootfs-tar", ""), proc=True),
    Case(
        "image-rootfs-tar-unwritable",
        ("image", "p.toml", "-o", "img", "--rootfs-tar", "/sys/r.tar"),
        proc=True,
    ),
    Case("image-jobs-negative", ("image", "p.toml", "-o", "img", "-j", "-1"), proc=True),
    Case(
        "image-check-archive",
        ("image", "p.toml", "--format", "docker-archive", "-o", "i.tar", "--check"),
        proc=True,
        said="--check",
    ),
    Case(
        "image-toolchain-escape",
        ("image", "p.toml", "-o", "img", "--toolchain", "../../../../ESCAPED/x"),
        proc=True,
    ),
    Case(
        "image-string-dollar-paren",
        ("image", "m.toml", "-o", "img"),
        marker_profile("m.toml", "BUSYBOX_EXEC_PATH", "$(touch MARK)"),
        proc=True,
    ),
    # ---- trim ----
    Case("trim-nothing", ("trim",)),
    Case(
        "trim-scan-and-budget",
        ("trim", "p.toml", "--scan", "f.sh", "--budget", "1M"),
        files(**{"f.sh": "ls\n"}),
    ),
    Case("trim-scan-no-o", ("trim", "--scan", "f.sh"), files(**{"f.sh": "ls\n"})),
    Case("trim-scan-o-not-toml", ("trim", "--scan", "f.sh", "-o", "x.txt"), files(**{"f.sh": "ls\n"})),
    Case("trim-scan-o-exists", ("trim", "--scan", "f.sh", "-o", "p.toml"), files(**{"f.sh": "ls\n"})),
    Case("trim-scan-o-empty", ("trim", "--scan", "f.sh", "-o", ""), files(**{"f.sh": "ls\n"})),
    Case(
        "trim-scan-o-directory",
        ("trim", "--scan", "f.sh", "-o", "d.toml"),
        both(files(**{"f.sh": "ls\n"}), folder("d.toml")),
    ),
    Case(
        "trim-scan-o-unwritable",
        ("trim", "--scan", "f.sh", "-o", "/sys/busyconf-x.toml"),
        files(**{"f.sh": "ls\n"}),
    ),
    Case(
        "trim-scan-o-no-such-root",
        ("trim", "--scan", "f.sh", "-o", "/proc/busyconf/x.toml"),
        files(**{"f.sh": "ls\n"}),
    ),
    Case("trim-scan-missing", ("trim", "--scan", "nope.sh", "-o", "x.toml")),
    Case("trim-scan-fifo", ("trim", "--scan", "f.sh", "-o", "x.toml"), fifo("f.sh"), proc=True),
    Case("trim-scan-dev-zero", ("trim", "--scan", "/dev/zero", "-o", "x.toml"), proc=True),
    Case("trim-scan-dev-null", ("trim", "--scan", "/dev/null", "-o", "x.toml"), proc=True),
    Case(
        "trim-scan-symlink-dev-zero",
        ("trim", "--scan", "z.sh", "-o", "x.toml"),
        symlink("z.sh", "/dev/zero"),
        proc=True,
    ),
    Case("trim-scan-chardev", ("trim", "--scan", "n.sh", "-o", "x.toml"), chardev("n.sh"), proc=True),
    Case("trim-scan-toml", ("trim", "--scan", "f.sh", "p.toml", "-o", "x.toml"), files(**{"f.sh": "ls\n"})),
    Case(
        "trim-scan-50M",
        ("trim", "--scan", "big.sh", "-o", "x.toml"),
        big("big.sh", 50 * MB, "echo hi\n"),
        proc=True,
    ),
    Case(
        "trim-scan-2M",
        ("trim", "--scan", "big.sh", "-o", "x.toml"),
        big("big.sh", 2 * MB, "echo hi\n"),
        proc=True,
    ),
    Case(
        "trim-scan-parse-error",
        ("trim", "--scan", "f.sh", "-o", "x.toml"),
        files(**{"f.sh": "if then fi (\n"}),
    ),
    Case(
        "trim-scan-dockerfile-error",
        ("trim", "--scan", "Dockerfile", "-o", "x.toml"),
        files(**{"Dockerfile": "FROM scratch\nRUN if then (\n"}),
    ),
    Case(
        "trim-scan-base-missing",
        ("trim", "--scan", "f.sh", "--base", "nope.toml", "-o", "x.toml"),
        files(**{"f.sh": "ls\n"}),
    ),
    Case(
        "trim-scan-base-fifo",
        ("trim", "--scan", "f.sh", "--base", "f.toml", "-o", "x.toml"),
        both(files(**{"f.sh": "ls\n"}), fifo("f.toml")),
        proc=True,
    ),
    Case(
        "trim-scan-base-dup-key",
        ("trim", "--scan", "f.sh", "--base", "m.toml", "-o", "x.toml"),
        both(files(**{"f.sh": "ls\n"}), profile(config="LS = true")),
    ),
    Case(
        "trim-scan-keep-markup",
        ("trim", "--scan", "f.sh", "--keep", "[/]:x:", "-o", "x.toml"),
        files(**{"f.sh": "ls\n"}),
        said="[/]:x:",
    ),
    Case(
        "trim-scan-keep-unknown",
        ("trim", "--scan", "f.sh", "--keep", "nosuchapplet", "-o", "x.toml"),
        files(**{"f.sh": "ls\n"}),
    ),
    Case(
        "trim-scan-arch-vax",
        ("trim", "--scan", "f.sh", "--arch", "vax", "-o", "x.toml"),
        files(**{"f.sh": "ls\n"}),
    ),
    Case(
        "trim-scan-arch-empty",
        ("trim", "--scan", "f.sh", "--arch", "", "-o", "x.toml"),
        files(**{"f.sh": "ls\n"}),
    ),
    Case(
        "trim-scan-positional-profile",
        ("trim", "p.toml", "--scan", "f.sh", "-o", "x.toml"),
        files(**{"f.sh": "ls\n"}),
    ),
    Case(
        "trim-scan-ok",
        ("trim", "--scan", "f.sh", "-o", "configs/x.toml"),
        files(**{"f.sh": "ls | sort\n"}),
        code=0,
        check=resolves("configs/x.toml"),
    ),
    Case(
        "trim-scan-base-elsewhere",
        ("trim", "--scan", "f.sh", "--base", "p.toml", "-o", "sub/x.toml"),
        files(**{"f.sh": "ls\n"}),
        code=0,
        check=resolves("sub/x.toml"),
    ),
    Case(
        "trim-scan-markup-paths",
        ("trim", "--scan", NAME + ".sh", "-o", "[b]:x:.toml"),
        files(**{NAME + ".sh": "ls\n"}),
        code=0,
        check=shows("[b]:x:.toml"),
    ),
    Case("trim-budget-400-digits", ("trim", "--budget", DIGITS, "p.toml")),
    Case("trim-budget-400-digits-fraction", ("trim", "--budget", DIGITS + ".5K", "p.toml")),
    Case("trim-budget-word", ("trim", "--budget", "small", "p.toml")),
    Case("trim-budget-zero", ("trim", "--budget", "0", "p.toml")),
    Case("trim-budget-negative", ("trim", "--budget=-5K", "p.toml")),
    Case("trim-budget-terabytes", ("trim", "--budget", "5000G", "p.toml")),
    Case("trim-budget-no-profile", ("trim", "--budget", "600K")),
    Case("trim-budget-missing", ("trim", "--budget", "600K", "nope.toml")),
    Case("trim-budget-fifo", ("trim", "--budget", "600K", "f.toml"), fifo("f.toml"), proc=True),
    Case("trim-budget-dev-zero", ("trim", "--budget", "600K", "/dev/zero"), proc=True),
    Case("trim-budget-dup-key", ("trim", "--budget", "600K", "m.toml"), profile(config="LS = true")),
    Case("trim-budget-o-not-toml", ("trim", "--budget", "600K", "p.toml", "-o", "x.txt")),
    Case("trim-budget-o-empty", ("trim", "--budget", "600K", "p.toml", "-o", "")),
    Case("trim-budget-o-exists", ("trim", "--budget", "600K", "p.toml", "-o", "p.toml")),
    Case("trim-budget-o-unwritable", ("trim", "--budget", "600K", "p.toml", "-o", "/sys/busyconf-x.toml")),
    Case("trim-budget-o-directory", ("trim", "--budget", "600K", "p.toml", "-o", "d.toml"), folder("d.toml")),
    Case("trim-budget-arch-vax", ("trim", "--budget", "600K", "p.toml", "--arch", "vax")),
    Case("trim-budget-keep-unknown", ("trim", "--budget", "600K", "p.toml", "--keep", "nosuchapplet")),
    Case("trim-budget-ok", ("trim", "--budget", "600K", "p.toml"), code=0),
    Case(
        "trim-budget-elsewhere",
        ("trim", "--budget", "200K", "p.toml", "-o", "sub/x.toml"),
        code=0,
        check=resolves("sub/x.toml"),
    ),
    # ---- rebuild: a manifest is untrusted input ----
    Case("rebuild-missing", ("rebuild", "nope.json")),
    Case("rebuild-not-object", REBUILD, files(**{"m__manifest.json": "[1]"})),
    Case("rebuild-bad-json", REBUILD, files(**{"m__manifest.json": "{no"}), said="JSON"),
    Case("rebuild-size-string", REBUILD, rebuild_dir(binary_size="big"), said="binary_size"),
    Case("rebuild-size-bool", REBUILD, rebuild_dir(binary_size=True), said="bool"),
    Case("rebuild-applets-string", REBUILD, rebuild_dir(applets="ls"), said="applets"),
    Case("rebuild-applet-path", REBUILD, rebuild_dir(applets=["../x"]), said="applets"),
    Case("rebuild-epoch-negative", REBUILD, rebuild_dir(source_date_epoch=-1)),
    Case("rebuild-env-string", REBUILD, rebuild_dir(make_env="LC_ALL=C"), said="make_env"),
    Case("rebuild-seconds-list", REBUILD, rebuild_dir(build_seconds=[1]), said="build_seconds"),
    Case("rebuild-toolchain-path", REBUILD, rebuild_dir(toolchain="../x"), said="../x"),
    Case("rebuild-arch-vax", REBUILD, rebuild_dir(arch="vax"), said="vax"),
    Case("rebuild-release-path", REBUILD, rebuild_dir(release="../../x")),
    Case("rebuild-markup-version", REBUILD, rebuild_dir(toolchain_version="\x1b[31m")),
    Case("rebuild-old-manifest", REBUILD, rebuild_dir(source_sha256=None), said="older"),
    Case(
        "rebuild-config-payload",
        REBUILD,
        rebuild_dir(config='# Busybox version: 1.38.0\nCONFIG_EXTRA_CFLAGS="$(touch X)"\n'),
        said="EXTRA_CFLAGS",
    ),
    Case(
        "rebuild-config-sha-mismatch",
        REBUILD,
        rebuild_dir(sha="1" * 64),
        said="is not the config_sha256",
    ),
    Case(
        "rebuild-config-other-release",
        REBUILD,
        rebuild_dir(config="# Busybox version: 1.35.0\nCONFIG_LS=y\n"),
        said="1.35.0",
    ),
    Case("rebuild-no-config", REBUILD, rebuild_dir(config=None)),
    Case("rebuild-source-lies", REBUILD, rebuild_dir(source_sha256="2" * 64)),
    Case("rebuild-manifest-fifo", ("rebuild", "f.json"), fifo("f.json"), proc=True),
    Case("rebuild-binary-fifo", REBUILD, both(rebuild_dir(), fifo("m/busybox")), proc=True),
    Case(
        "rebuild-toolchain-mismatch",
        REBUILD,
        rebuild_dir(),
        code=1,
        said="toolchain mismatch",
    ),
    Case("rebuild-into-itself", (*REBUILD, "-o", "m"), rebuild_dir(), said="own folder"),
    Case("rebuild-cache-is-file", ("rebuild", "m/manifest.json", "--cache", "p.toml"), rebuild_dir()),
    Case("build-check-reproducible-bad", ("build", "p.toml", "--check-reproducible", "--arch", "vax")),
    # ---- source ----
    Case("source-no-action", ("source",)),
    Case("source-add-missing", ("source", "add", "nope.tar.bz2")),
    Case(
        "source-add-not-tarball",
        ("source", "add", "x.tar.bz2"),
        files(**{"x.tar.bz2": "not a tarball\n"}),
        proc=True,
    ),
    Case("source-add-empty-file", ("source", "add", "x.tar.bz2"), files(**{"x.tar.bz2": ""}), proc=True),
    Case("source-add-fifo", ("source", "add", "f.tar.bz2"), fifo("f.tar.bz2"), proc=True),
    Case("source-add-dev-zero", ("source", "add", "/dev/zero"), proc=True),
    Case(
        "source-add-unknown-tarball",
        ("source", "add", "busybox-9.9.9.tar.bz2"),
        tarball(
            "busybox-9.9.9.tar.bz2",
            {
                "busybox-9.9.9/Makefile": "VERSION = 9\nPATCHLEVEL = 9\nSUBLEVEL = 9\n",
                "busybox-9.9.9/scripts/gen_build_files.sh": "#!/bin/sh\ntouch MARK\n",
            },
        ),
        proc=True,
    ),
    Case(
        "source-add-folder-claims-release", ("source", "add", "bb"), tree_folder("bb", (1, 38, 0)), proc=True
    ),
    Case("source-add-folder-unknown", ("source", "add", "bb"), tree_folder("bb", (9, 9, 9)), proc=True),
    Case("source-add-no-makefile", ("source", "add", "."), proc=True),
    Case("source-fetch-unknown", ("source", "fetch", "9.9.9"), proc=True),
    Case("source-fetch-path", ("source", "fetch", "../../x"), proc=True),
    Case("source-fetch-markup", ("source", "fetch", "[/]"), proc=True),
    Case(
        "source-list-relative-cache",
        ("source", "list", "--json"),
        folder("cache", with_file=False),
        code=0,
        proc=True,
        env=(("BUSYCONF_CACHE", "cache"),),
    ),
    Case(
        "source-add-relative-cache",
        ("source", "add", "nope.tar.bz2"),
        folder("cache", with_file=False),
        proc=True,
        env=(("BUSYCONF_CACHE", "cache"),),
    ),
    # ---- cve: a manifest is untrusted input ----
    Case("cve-manifest-bad-json", ("cve", "b/manifest.json"), _cve_files("{nope"), said="not JSON"),
    Case("cve-manifest-not-object", ("cve", "b/manifest.json"), _cve_files("[1, 2]"), said="JSON object"),
    Case("cve-manifest-release-int", ("cve", "b"), _cve_files(_cve_manifest(release=138)), said="release"),
    Case("cve-manifest-release-path", ("cve", "b"), _cve_files(_cve_manifest(release="../x")), said="../x"),
    Case("cve-manifest-sha-type", ("cve", "b"), _cve_files(_cve_manifest(config_sha256=[1])), said="sha256"),
    Case("cve-manifest-epoch-bool", ("cve", "b"), _cve_files(_cve_manifest(source_date_epoch=True))),
    Case(
        "cve-manifest-patch-path",
        ("cve", "b"),
        _cve_files(_cve_manifest(patches=[{"name": "../../etc/passwd", "sha256": "0" * 64}]), _CVE_CONFIG),
        said="name",
    ),
    Case("cve-manifest-no-config", ("cve", "b"), _cve_files(_cve_manifest()), said="busybox.config"),
    Case(
        "cve-manifest-config-tampered",
        ("cve", "b"),
        _cve_files(_cve_manifest(), _CVE_CONFIG + "CONFIG_AWK=y\n"),
        said="config_sha256",
    ),
    Case("cve-manifest-unknown-symbol", ("cve", "b"), _cve_files(_cve_manifest(), _CVE_CONFIG), said="NO_SU"),
    Case("cve-manifest-fifo", ("cve", "m.json"), fifo("m.json"), proc=True),
    Case("cve-markup-name", ("cve", NAME + ".json")),
    Case("cve-not-a-profile", ("cve", "p.txt"), files(**{"p.txt": "hello"}), said="p.txt"),
    Case("cve-vex-folder", ("cve", "p.toml", "--vex", "sub/"), files(sub__x="")),
    Case("cve-missing", ("cve", "nope/manifest.json"), said="no such file"),
    Case("cve-vex-stdout-and-json", ("cve", "p.toml", "--vex", "-", "--json"), said="stdout"),
    Case("cve-profile", ("cve", "p.toml", "--json"), code=0, check=shows('"CVE-2022-28391"', "not_affected")),
    # ---- Kconfig fragments (profiles, import, export --fragment) ----
    Case(
        "frag-fifo",
        ("export", "m.toml", "-o", "x.config"),
        both(profile(head='fragments = ["f.cfg"]'), fifo("f.cfg")),
        proc=True,
        said="f.cfg: is a FIFO",
    ),
    Case(
        "frag-dollar-paren",
        ("build", "m.toml", "-o", "out"),
        both(
            profile(head='fragments = ["f.cfg"]'),
            files(**{"f.cfg": 'CONFIG_BUSYBOX_EXEC_PATH="$(touch PWNED)"\n'}),
        ),
        proc=True,
        said="f.cfg:1",
    ),
    Case(
        "frag-etc-passwd",
        ("export", "m.toml", "-o", "x.config"),
        profile(head='fragments = ["../../../../../../etc/passwd"]'),
        said="is outside",
    ),
    Case("frag-absolute", ("show", "m.toml"), profile(head='fragments = ["/etc/passwd"]'), said="is outside"),
    Case(
        "frag-symlink-out",
        ("show", "m.toml"),
        both(profile(head='fragments = ["l.cfg"]'), symlink("l.cfg", "/etc/passwd")),
        said="is outside",
    ),
    Case(
        "frag-malformed",
        ("export", "m.toml", "-o", "x.config"),
        both(profile(head='fragments = ["f.cfg"]'), files(**{"f.cfg": "# ok\nCONFIG_LS\n"})),
        said="f.cfg:2: malformed line",
    ),
    Case(
        "frag-unknown-symbol",
        ("show", "m.toml"),
        both(profile(head='fragments = ["f.cfg"]'), files(**{"f.cfg": "CONFIG_NO_SUCH=y\n"})),
        said="f.cfg:1: unknown symbol CONFIG_NO_SUCH",
    ),
    Case(
        "frag-module",
        ("show", "m.toml"),
        both(profile(head='fragments = ["f.cfg"]'), files(**{"f.cfg": "CONFIG_LS=m\n"})),
        said="f.cfg:1",
    ),
    Case("frag-not-a-list", ("show", "m.toml"), profile(head='fragments = "f.cfg"'), said="must be a list"),
    Case(
        "frag-twice",
        ("show", "m.toml"),
        both(profile(head='fragments = ["f.cfg", "f.cfg"]'), files(**{"f.cfg": "CONFIG_LS=y\n"})),
        said="listed twice",
    ),
    Case("frag-missing", ("show", "m.toml"), profile(head='fragments = ["nope.cfg"]'), said="nope.cfg"),
    Case(
        "frag-strict-not-applied",
        ("export", "m.toml", "-o", "x.config", "--strict"),
        both(
            profile(head='fragments = ["f.cfg"]', replace=("LS = true\n", "")),
            files(**{"f.cfg": "CONFIG_FEATURE_LS_COLOR=y\n"}),
        ),
        said="FEATURE_LS_COLOR needs LS, which is off",
    ),
    Case(
        "import-frag-fifo",
        ("import", "in.config", "f.cfg", "-o", "x.toml"),
        both(dotconfig(), fifo("f.cfg")),
        proc=True,
    ),
    Case("import-frag-etc-passwd", ("import", "in.config", "/etc/passwd", "-o", "x.toml"), dotconfig()),
    Case(
        "import-keep-fragments-outside",
        ("import", "in.config", "/etc/passwd", "--keep-fragments", "-o", "x.toml"),
        dotconfig(),
        said="is outside",
    ),
    Case("import-keep-none", ("import", "in.config", "--keep-fragments", "-o", "x.toml"), dotconfig()),
    Case("export-fragment-to-folder", ("export", "p.toml", "--fragment", "-o", "d"), folder("d")),
    Case(
        "export-fragment",
        ("export", "p.toml", "--fragment", "-o", "-"),
        code=0,
        check=shows("CONFIG_ASH=y", "# BusyBox 1.38.0"),
    ),
    # ---- upgrade ----
    Case("upgrade-same-release", ("upgrade", "p.toml", "--to", "1.38.0"), said="already at"),
    Case("upgrade-downgrade", ("upgrade", "p.toml", "--to", "1.35.0"), said="downgrade"),
    Case("upgrade-bad-to", ("upgrade", "old.toml", "--to", "1.x"), _OLD, said="1.x"),
    Case("upgrade-unknown-to", ("upgrade", "old.toml", "--to", "9.9.9"), _OLD, said="9.9.9"),
    Case(
        "upgrade-unknown-accept",
        ("upgrade", "old.toml", "--to", "1.38.0", "--accept", "NO_SUCH"),
        _OLD,
        said="NO_SUCH",
    ),
    Case(
        "upgrade-accept-both",
        ("upgrade", "old.toml", "--to", "1.38.0", "--accept-new", "--accept", "TREE"),
        _OLD,
    ),
    Case("upgrade-fifo", ("upgrade", "f.toml", "--to", "1.38.0"), fifo("f.toml"), proc=True),
    Case(
        "upgrade-output-folder",
        ("upgrade", "old.toml", "--to", "1.38.0", "-o", "sub/"),
        both(_OLD, folder("sub")),
    ),
    Case(
        "upgrade-output-exists",
        ("upgrade", "old.toml", "--to", "1.38.0", "-o", "p.toml"),
        _OLD,
        said="already exists",
    ),
    Case("upgrade-missing", ("upgrade", "nope.toml", "--to", "1.38.0")),
    Case(
        "upgrade-dry-run",
        ("upgrade", "old.toml", "--to", "1.38.0", "--dry-run", "--json"),
        _OLD,
        code=0,
        check=shows('"pinned": true', '"written": null'),
    ),
    # ---- the command line itself ----
    Case("cli-unknown-option", ("show", "p.toml", "--nope")),
    Case("cli-missing-argument", ("set",)),
    Case("cli-unknown-command", ("frobnicate", "p.toml")),
    Case("cli-markup-command", ("[/]:x:", "p.toml")),
    Case("cli-newline-command", ("a\nb", "p.toml")),
    Case("cli-version", ("--version",), code=0, check=shows("busyconf")),
    Case("cli-show-sub", ("show", "p.toml", "--json"), code=0, proc=True, check=shows('"applets"')),
]

# The bad profiles of tests/cli/test_cli.py, under each command that reads a profile.
_BAD_PROFILES = {
    "toml": "[profile\nbase = 1\n",
    "base": '[profile]\nbusybox = "1.38.0"\nbase = "nosuchbase"\n',
    "arch": '[profile]\nbusybox = "1.38.0"\narch = "vax"\n',
    "version": '[profile]\nbusybox = "7.7.7"\n',
    "symbol": '[profile]\nbusybox = "1.38.0"\n[config]\nNO_SUCH = true\n',
    "type": '[profile]\nbusybox = "1.38.0"\n[config]\nLS = 3\n',
    "range": '[profile]\nbusybox = "1.38.0"\n[config]\nSHA1_SMALL = 7\n',
    "cycle": '[profile]\nbusybox = "1.38.0"\nbase = "bad"\n',
}
for _kind, _text in _BAD_PROFILES.items():
    for _argv in (
        ("show", "bad.toml"),
        ("export", "bad.toml", "-o", "out.config"),
        ("set", "bad.toml", "LS=n"),
        ("diff", "p.toml", "bad.toml"),
        ("size", "bad.toml"),
        ("trim", "--budget", "600K", "bad.toml", "-o", "x.toml"),
        ("cve", "bad.toml"),
        ("upgrade", "bad.toml", "--to", "1.38.0"),
    ):
        CASES.append(Case(f"bad-{_kind}-{_argv[0]}", _argv, bare("bad.toml", _text)))


# -- running -------------------------------------------------------------------------------


def run_in_process(argv: list[str], cwd: Path) -> tuple[int, str, str]:
    """``main(argv)`` in ``cwd`` with stdout and stderr captured."""
    old = Path.cwd()
    out, err = io.StringIO(), io.StringIO()
    saved = sys.stdout, sys.stderr
    os.chdir(cwd)
    sys.stdout, sys.stderr = out, err
    try:
        code = main(argv)
    finally:
        sys.stdout, sys.stderr = saved
        os.chdir(old)
    return code, out.getvalue(), err.getvalue()


def run_subprocess(argv: list[str], cwd: Path, env: dict[str, str]) -> tuple[int, str, str]:
    """``python3 -m busyconf argv`` in its own process group, killed whole (make too) on timeout."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "busyconf", *argv],
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        out, err = proc.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        pytest.fail(f"busyconf {argv[:4]} did not answer within {TIMEOUT} s (a hang, or a compile started)")
    return proc.returncode, out.decode(errors="replace"), err.decode(errors="replace")


def checksums(folder: Path) -> dict[str, str]:
    """Every entry under ``folder``: files by sha256 (through symlinks), links, folders, special files."""
    seen: dict[str, str] = {}
    for dirpath, dirnames, filenames in os.walk(folder):
        for name in dirnames + filenames:
            path = Path(dirpath) / name
            rel = str(path.relative_to(folder))
            st = path.lstat()
            kind = ""
            if stat.S_ISLNK(st.st_mode):
                kind = "link:" + os.readlink(path) + ":"
                try:
                    st = path.stat()
                except OSError:
                    seen[rel] = kind + "dangling"
                    continue
            if stat.S_ISREG(st.st_mode):
                seen[rel] = kind + hashlib.sha256(path.read_bytes()).hexdigest() + f":{st.st_mode:o}"
            elif stat.S_ISDIR(st.st_mode):
                seen[rel] = kind + "dir"
            else:
                seen[rel] = kind + f"special:{stat.S_IFMT(st.st_mode):o}"
    return seen


def _cache_folders(root: Path) -> set[str]:
    """Build folders in the cache, and what sits beside the cache (where a ``../`` name escapes to)."""
    names = {f"build/{p.name}" for p in (root / "build").glob("*")}
    return names | {f"../{p.name}" for p in root.parent.glob("*")}


def _params() -> list[object]:
    ids = [c.id for c in CASES]
    dupes = {i for i in ids if ids.count(i) > 1}
    assert not dupes, dupes
    assert SLOW_ROWS <= set(ids), SLOW_ROWS - set(ids)
    out: list[object] = []
    for c in CASES:
        marks: list[pytest.MarkDecorator] = []
        if c.proc or c.env or c.id in SLOW_ROWS:
            marks.append(pytest.mark.slow)  # a real busyconf process (about 0.3 s), or a slow row
        if c.id in PENDING:
            marks.append(pytest.mark.xfail(strict=False, reason=f"owned by the {PENDING[c.id]} helper"))
        out.append(pytest.param(c, id=c.id, marks=marks))
    return out


@pytest.mark.parametrize("case", _params())
def test_hostile_input(case: Case, tmp_path: Path, cache: SourceCache) -> None:
    shutil.copy(CONFIGS / "container-shell.toml", tmp_path / "p.toml")
    if case.setup:
        case.setup(tmp_path)
    before = checksums(tmp_path)
    folders = _cache_folders(cache.root)
    argv = list(case.argv)
    if case.proc or case.env:
        env = dict(os.environ, **dict(case.env))
        code, out, err = run_subprocess(argv, tmp_path, env)
    else:
        code, out, err = run_in_process(argv, tmp_path)
    allowed = case.code if isinstance(case.code, tuple) else (case.code,)
    assert "Traceback" not in err, err[-3000:]
    assert "\x1b" not in err, "a raw escape character reached the terminal"
    assert code in allowed, f"exit {code}, expected {allowed}\nstdout: {out[-1500:]}\nstderr: {err[-1500:]}"
    if code != 0:
        lines = err.splitlines()
        assert len(lines) == 1 and err.endswith("\n"), f"not one line on stderr:\n{err[-3000:]}"
        assert lines[0].startswith("busyconf: "), lines[0]
        assert out == "", f"stdout on a failure: {out[-1500:]}"
        made = _cache_folders(cache.root) - folders
        assert not made, f"a failed command made folders in or beside the cache: {sorted(made)}"
        assert case.said in err, f"{case.said!r} not in {err!r}"
    if code == 2:
        assert checksums(tmp_path) == before, "a refused input changed files"
        assert "root:" not in err, "a file's content was echoed"
    if case.check and code == 0:
        case.check(tmp_path, out, err)
