"""Trim by use: keep the applets that scripts, Dockerfiles and init scripts run.

::

    scan = scan_paths([Path("docker/"), Path("entrypoint.sh")])
    plan = plan_trim(scan, base_loaded, keep=["vi"])
    profile_text = plan.profile_text

What is read: shell scripts (``#!`` naming a shell, ``*.sh``, and executable
text files without ``#!``, which the kernel hands to ``/bin/sh``), Dockerfile
``RUN``/``CMD``/``ENTRYPOINT`` lines, ``etc/inittab`` and a rootfs's init
scripts (``etc/init.d``, ``etc/rc*``, ``etc/profile*``). Commands that are not
applets, dynamic command names and skipped files are reported, never dropped
silently; a file the parser rejects is an error naming ``file:line``.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import stat
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from busyconf.errors import UserError, read_user_bytes
from busyconf.model.config import Configuration, resolve
from busyconf.model.kconfig import KconfigTree
from busyconf.model.profile import (
    allnoconfig_assignments,
    dumps,
    minimal_overrides,
    new_profile,
    write_overrides,
)
from busyconf.trim.shellscan import (
    Findings,
    Note,
    ParseError,
    Scanner,
    Use,
    shebang_command,
    shebang_is_shell,
)

#: Commands the shell itself provides (ash and hush); not applets, not missing.
#: Larger files are no script a container runs (and shfmt would take minutes on them).
MAX_SCRIPT_BYTES = 1024 * 1024
SHELL_BUILTINS = frozenset(
    ". : alias bg break cd chdir command continue eval exec exit export fg getopts hash help "
    "history jobs let local read readonly return set shift source times trap type ulimit umask "
    "unalias unset wait".split()
)

#: Shell keywords shfmt reports as words in rare cases.
KEYWORDS = frozenset(
    "! { } if then else elif fi case esac for while until do done in function select".split()
)

DOCKERFILE_NAMES = re.compile(r"^(Dockerfile|Containerfile)(\..*)?$|.*\.(dockerfile|containerfile)$", re.I)
INIT_DIRS = ("init.d", "rc.d", "profile.d", "rcS.d")
INIT_NAMES = frozenset(
    {"rcS", "rcK", "rc.local", "rc", "profile", ".profile", ".ashrc", ".shrc", "default.script"}
)
SHELL_SUFFIXES = (".sh", ".ash", ".bash", ".ksh")


@dataclass(frozen=True)
class Scan:
    """What the scanned files run."""

    files: tuple[str, ...]
    uses: tuple[Use, ...]
    functions: frozenset[str]
    aliases: frozenset[str]
    notes: tuple[Note, ...]
    skipped: tuple[tuple[str, str], ...]
    #: Shell syntax beyond POSIX sh (``[[``, ``${v//x/y}``...) and where.
    syntax: tuple[Use, ...] = ()

    def commands(self) -> dict[str, list[str]]:
        """Command name -> the places that run it (functions and aliases left out)."""
        out: dict[str, list[str]] = {}
        for use in self.uses:
            defined = use.name in self.functions or use.name in self.aliases
            if not use.path and (defined or use.name in KEYWORDS):
                continue
            out.setdefault(use.name, []).append(use.where)
        return out

    def paths(self) -> dict[str, str]:
        """Command name -> a path it was run by (``/app/run.sh``), for reports."""
        return {u.name: u.path for u in self.uses if u.path}


def _is_text(data: bytes) -> bool:
    return b"\0" not in data[:4096] and not data.startswith(b"\x7fELF")


def _kind_of(path: Path, data: bytes, explicit: bool) -> tuple[str, str]:
    """("shell"|"dockerfile"|"inittab"|"skip", reason) for one file."""
    name = path.name
    if not _is_text(data):
        return "skip", "binary file"
    if DOCKERFILE_NAMES.match(name):
        return "dockerfile", ""
    if name == "inittab":
        return "inittab", ""
    first = data.split(b"\n", 1)[0].decode(errors="replace")
    shell = shebang_is_shell(first)
    if shell is True:
        return "shell", ""
    if shell is False:
        return "skip", f"not a shell script ({first.strip()[:60]})"
    parts = path.parts
    if (
        name.endswith(SHELL_SUFFIXES)
        or name in INIT_NAMES
        or any(d in parts[:-1] for d in INIT_DIRS)
        or explicit
        or os.access(path, os.X_OK)
    ):
        return "shell", ""
    return "skip", "not a script (no #!, not executable, no .sh suffix)"


def _walk(root: Path) -> Iterable[Path]:
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in (".git", "proc", "sys", "dev"))
        for fname in sorted(filenames):
            p = Path(dirpath) / fname
            if not p.is_symlink() and p.is_file():
                yield p


def scan_paths(paths: Sequence[Path]) -> Scan:
    """Scan files and directories; raise UserError on the first file that does not parse."""
    findings = Findings()
    files: list[str] = []
    skipped: list[tuple[str, str]] = []
    errors: list[str] = []
    for top in paths:
        try:
            explicit = not stat.S_ISDIR(os.stat(top).st_mode)
        except FileNotFoundError:
            raise UserError(f"{top}: no such file or directory") from None
        except OSError as e:
            raise UserError(f"{top}: cannot read ({e.strerror})") from None
        for path in [top] if explicit else _walk(top):
            if explicit:
                # A FIFO or a device named here is refused unread; a huge file is no script.
                data = read_user_bytes(path, MAX_SCRIPT_BYTES, "a script")
            else:
                try:
                    if path.stat().st_size > MAX_SCRIPT_BYTES:
                        skipped.append((str(path), f"larger than {MAX_SCRIPT_BYTES // 1024 // 1024} MiB"))
                        continue
                    data = path.read_bytes()
                except OSError as e:
                    raise UserError(f"{path}: cannot read ({e.strerror})") from None
            kind, reason = _kind_of(path, data, explicit)
            if kind == "skip":
                skipped.append((str(path), reason))
                continue
            files.append(str(path))
            text = data.decode(errors="replace")
            try:
                scan_text(text, str(path), kind, findings)
            except ParseError as e:
                errors.append(f"{path}:{e.line}:{e.col}: cannot parse: {e.message}")
    if errors:
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise UserError(errors[0] + more)
    return Scan(
        tuple(files),
        tuple(findings.uses),
        frozenset(findings.functions),
        frozenset(findings.aliases),
        tuple(findings.notes),
        tuple(skipped),
        tuple(findings.syntax),
    )


def scan_text(text: str, path: str, kind: str, findings: Findings) -> None:
    """Scan one file's text as ``kind`` (shell, dockerfile, inittab)."""
    scanner = Scanner(path, findings)
    if kind == "shell":
        first = text.split("\n", 1)[0]
        for name in shebang_command(first):
            findings.uses.append(Use(name, f"{path}:1"))
        scanner.scan_code(text)
    elif kind == "dockerfile":
        for line, code in dockerfile_commands(text, path):
            scanner.scan_code(code, line)
    elif kind == "inittab":
        for n, raw in enumerate(text.splitlines(), 1):
            entry = raw.strip()
            if not entry or entry.startswith("#"):
                continue
            fields = entry.split(":", 3)
            if len(fields) != 4:
                raise ParseError(n, 1, "inittab line is not id:runlevels:action:process")
            if fields[3].strip():
                scanner.scan_code(fields[3].strip().lstrip("-"), n)


_INSTR = re.compile(r"^\s*([A-Za-z]+)\s*(.*)$", re.S)
_HEREDOC = re.compile(r"<<-?\s*([\"']?)([A-Za-z_][A-Za-z0-9_]*)\1")


def dockerfile_commands(text: str, path: str) -> list[tuple[int, str]]:
    """Shell code of each ``RUN``, ``CMD``, ``ENTRYPOINT`` and ``HEALTHCHECK CMD``, with its line."""
    lines = text.splitlines()
    escape = "\\"
    for raw in lines[:5]:
        m = re.match(r"^#\s*escape\s*=\s*(\S)", raw)
        if m:
            escape = m.group(1)
    out: list[tuple[int, str]] = []
    i = 0
    while i < len(lines):
        start = i
        raw = lines[i]
        i += 1
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        # Continued lines keep their line breaks (as shell line continuations), so
        # line numbers inside the code stay right; comment lines in between go.
        parts = [raw]
        while parts[-1].rstrip().endswith(escape) and i < len(lines):
            nxt = lines[i]
            i += 1
            parts.append(escape if nxt.lstrip().startswith("#") else nxt)
        if escape == "\\":
            joined = "\n".join(parts)
        else:
            joined = " ".join(p.rstrip()[:-1] if p.rstrip().endswith(escape) else p for p in parts)
        m = _INSTR.match(joined)
        if not m:
            continue
        instr, rest = m.group(1).upper(), m.group(2)
        if instr == "HEALTHCHECK":
            hc = re.match(r"^(?:--\S+\s+)*CMD\s+(.*)$", rest, re.S | re.I)
            if not hc:
                continue
            instr, rest = "CMD", hc.group(1)
        if instr not in ("RUN", "CMD", "ENTRYPOINT"):
            continue
        if instr == "RUN":
            while True:
                flag = re.match(r"^--\S+\s*", rest)
                if not flag:
                    break
                rest = rest[flag.end() :]
        heredocs = _HEREDOC.findall(rest)
        bodies: list[str] = []
        for _q, word in heredocs:
            body: list[str] = []
            while i < len(lines) and lines[i].strip() != word:
                body.append(lines[i])
                i += 1
            i += 1
            bodies.append("\n".join(body))
        stripped = rest.strip()
        if stripped.startswith("["):
            try:
                argv = json.loads(stripped)
            except json.JSONDecodeError:
                raise ParseError(start + 1, 1, f"{instr}: bad JSON (exec form)") from None
            if not (isinstance(argv, list) and argv and all(isinstance(a, str) for a in argv)):
                raise ParseError(start + 1, 1, f"{instr}: exec form must be a list of strings")
            out.append((start + 1, shlex.join(argv)))
        elif heredocs and stripped.startswith("<<"):
            out.append((start + 2, bodies[0]))
        elif heredocs:
            full = joined[joined.index(rest) :] if rest in joined else rest
            out.append(
                (
                    start + 1,
                    full
                    + "\n"
                    + "\n".join(b + "\n" + w for b, (_q, w) in zip(bodies, heredocs, strict=True))
                    + "\n",
                )
            )
        else:
            out.append((start + 1, rest))
    return out


# -- from commands to a profile -----------------------------------------------------


@dataclass(frozen=True)
class TrimPlan:
    """A trimmed configuration and what the scan found on the way."""

    config: Configuration
    kept: tuple[str, ...]
    added: tuple[str, ...]
    dropped: tuple[str, ...]
    not_applets: dict[str, list[str]]
    builtins: tuple[str, ...]
    notes: tuple[Note, ...]
    skipped: tuple[tuple[str, str], ...]
    profile_text: str = field(default="")
    #: Option symbols switched on (or kept) for what the scripts pass: (symbol, reason).
    options: tuple[tuple[str, str], ...] = ()
    #: Option symbols of kept applets switched off (the base had them on, no script needs them).
    options_off: tuple[str, ...] = ()
    #: (file:line, applet, option) the map cannot place; that applet's options stay as in the base.
    unplaced: tuple[tuple[str, str, str], ...] = ()
    #: Applets kept because a kept applet runs them -> "run-parts: run by ifup".
    behind: dict[str, str] = field(default_factory=dict)


def applet_table(tree: KconfigTree) -> dict[str, list[tuple[str, ...]]]:
    """Applet name -> the symbol sets that can build it."""
    out: dict[str, list[tuple[str, ...]]] = {}
    for a in tree.applets:
        out.setdefault(a.name, []).append(a.requires + (a.any_of[:1] if a.any_of else ()))
    return out


def check_keep(tree: KconfigTree, keep: Sequence[str]) -> list[str]:
    """``--keep`` names, each a real applet of the release (UserError otherwise)."""
    import difflib

    table = applet_table(tree)
    for name in keep:
        if name not in table:
            close = difflib.get_close_matches(name, list(table), n=1)
            hint = f"; did you mean {close[0]}?" if close else ""
            raise UserError(f"--keep {name}: not an applet of BusyBox {tree.release}{hint}")
    return list(keep)


def _shell_applets(base: Configuration) -> list[str]:
    if base.values.get("HUSH") == "y" and base.values.get("ASH") != "y":
        return ["sh", "hush"]
    return ["sh", "ash"]


def _turn_off(tree: KconfigTree, sym: str) -> list[tuple[str, str]]:
    """Assignments that switch ``sym`` off; for a choice member, pick a sibling that is no applet."""
    s = tree.symbols.get(sym)
    choice = s.choice if s is not None else None
    if choice is None:
        return [(sym, "n")]
        applet_syms = {a.requires[0] for a in tree.applets}
        for other in choice.syms:
            if other.name != sym and other.name not in applet_syms:
                return [(other.name, "y")]
    return [(sym, "n")]


def behind_applets(
    tree: KconfigTree,
    base_assignments: Sequence[tuple[str, str]],
    needed: Iterable[str],
    table: dict[str, list[tuple[str, ...]]],
) -> dict[str, str]:
    """Applets ``needed`` run (busyconf.trim.behind), gated by the features they get once on."""
    from busyconf.trim.behind import closure

    start = sorted(needed)
    added: dict[str, str] = {}
    # An edge behind a feature follows the features the applets get when switched on over
    # the base, so resolve with them on; an added applet's own features need another round.
    for _round in range(4):
        on = [(s, "y") for n in [*start, *added] if n in table and n != "busybox" for s in table[n][0]]
        values = resolve(tree, [*base_assignments, *on]).values
        more = closure(tree, start, values)
        if more.keys() == added.keys():
            break
        added = more
    return added


def plan_trim(
    scan: Scan,
    tree: KconfigTree,
    base_assignments: Sequence[tuple[str, str]],
    keep: Sequence[str] = (),
    interactive: bool = False,
) -> TrimPlan:
    """The base configuration with only the used (and kept) applets, plus the shell.

    Each kept applet gets exactly the option symbols the scripts' options need
    (:func:`busyconf.trim.options.option_switches`); line editing, job control
    and completion stay only when ``interactive``.
    """
    from busyconf.trim.options import option_switches

    base = resolve(tree, base_assignments)
    table = applet_table(tree)
    commands = scan.commands()
    needed: set[str] = {"busybox"} if "busybox" in table else set()
    not_applets: dict[str, list[str]] = {}
    builtins: set[str] = set()
    for name, places in commands.items():
        if name in table:
            needed.add(name)
        elif name in SHELL_BUILTINS:
            builtins.add(name)
        else:
            not_applets[scan.paths().get(name, name)] = places
    needed.update(check_keep(tree, keep))
    needed.update(_shell_applets(base))
    behind = behind_applets(tree, base_assignments, needed, table)
    needed.update(behind)
    keep_syms: set[str] = {"BUSYBOX"}
    want: list[tuple[str, str]] = []
    for name in sorted(needed):
        options = table[name]
        chosen = next((o for o in options if all(base.values.get(s) == "y" for s in o)), None)
        if chosen is None:
            chosen = next((o for o in options if all(tree.symbols[s].visibility for s in o)), options[0])
        if name == "busybox":
            chosen = ("BUSYBOX",)
        keep_syms.update(chosen)
        want.extend((s, "y") for s in chosen)
    off: list[tuple[str, str]] = []
    for sym in sorted({a.requires[0] for a in tree.applets} - keep_syms):
        if base.values.get(sym) == "y":
            off.extend(_turn_off(tree, sym))
    opt_on, opt_off, needs = option_switches(tree, scan, needed, base.values, interactive)
    config = resolve(tree, [*base_assignments, *off, *opt_off, *want, *opt_on])
    have = set(config.applets)
    missing = sorted(n for n in needed if n != "busybox" and n not in have and n not in behind)
    if missing:
        raise UserError(f"cannot enable applet(s) {', '.join(missing)} on top of the base")
    added = tuple(sorted(n for n in have if n not in base.applets))
    dropped = tuple(sorted(n for n in base.applets if n not in have))
    return TrimPlan(
        config=config,
        kept=tuple(sorted(have)),
        added=added,
        dropped=dropped,
        not_applets=dict(sorted(not_applets.items())),
        builtins=tuple(sorted(builtins)),
        notes=scan.notes,
        skipped=scan.skipped,
        behind={n: why for n, why in sorted(behind.items()) if n in have},
        options=tuple(
            (s, needs.reasons.get(s, "")) for s in sorted(needs.symbols) if config.values.get(s) == "y"
        ),
        options_off=tuple(s for s, _ in opt_off if config.values.get(s) != "y"),
        unplaced=tuple(needs.unplaced),
    )


def trimmed_profile_text(
    plan: TrimPlan,
    tree: KconfigTree,
    arch: str,
    toolchain: str,
    description: str,
    out_path: Path | None = None,
) -> str:
    """A minimal profile (base ``allnoconfig``: nothing in it by accident) for ``plan``."""
    prof = new_profile(tree.release, arch, "allnoconfig", description, toolchain, path=out_path)
    overrides = minimal_overrides(tree, allnoconfig_assignments(tree), plan.config)
    write_overrides(prof, tree, overrides)
    return dumps(prof)
