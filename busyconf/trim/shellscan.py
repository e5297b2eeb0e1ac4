"""Find every command shell code can run, with a real POSIX/bash parser.

The parser is mvdan/sh's ``shfmt`` (PyPI ``shfmt-py``), asked for its syntax
tree as JSON. The walk finds simple commands everywhere (pipelines, lists,
``$(...)``, backticks, here-documents, function bodies), looks through
wrappers (``env``, ``nice``, ``timeout``, ``nohup``, ``exec``, ``command``,
``xargs``, ``find -exec``, ``busybox APPLET``, ``sh -c STRING``, ``trap``,
``eval``...) and records functions and aliases the code defines.
"""

from __future__ import annotations

import json
import posixpath
import re
import shutil
import subprocess
import sys
import sysconfig
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from busyconf.errors import EnvError

Node = dict[str, Any]

#: Shells whose ``-c STRING`` is code and whose scripts we can read.
SHELLS = frozenset({"sh", "ash", "bash", "dash", "hush", "ksh", "mksh"})


#: Options that take a value, per wrapper; ``positional`` words come before the command.
@dataclass(frozen=True)
class Wrapper:
    """How to find the command a wrapper runs."""

    opts_with_arg: frozenset[str] = frozenset()
    positional: int = 0
    assignments: bool = False
    code_opt: str = ""
    default: str = ""


WRAPPERS: dict[str, Wrapper] = {
    "env": Wrapper(frozenset({"-u", "--unset", "-C", "--chdir"}), assignments=True),
    "nice": Wrapper(frozenset({"-n", "--adjustment"})),
    "nohup": Wrapper(),
    "exec": Wrapper(frozenset({"-a"})),
    "command": Wrapper(),
    "builtin": Wrapper(),
    "timeout": Wrapper(frozenset({"-s", "--signal", "-k", "--kill-after", "-t"}), positional=1),
    "chroot": Wrapper(positional=1),
    "setsid": Wrapper(),
    "setpriv": Wrapper(frozenset({"--reuid", "--regid", "--groups"})),
    "ionice": Wrapper(frozenset({"-c", "-n"})),
    "taskset": Wrapper(positional=1),
    "chrt": Wrapper(positional=1),
    "time": Wrapper(frozenset({"-f", "-o"})),
    "sudo": Wrapper(frozenset({"-u", "-g"})),
    "doas": Wrapper(frozenset({"-u"})),
    "chpst": Wrapper(frozenset("-u -U -e -/ -n -l -L -m -d -o -p -f -c".split())),
    "flock": Wrapper(frozenset({"-w", "-E"}), positional=1, code_opt="-c"),
    "su": Wrapper(frozenset({"-s"}), code_opt="-c"),
    "xargs": Wrapper(frozenset({"-n", "-s", "-E", "-I", "-P", "-a", "-L", "-d"}), default="echo"),
    "busybox": Wrapper(),
    "watch": Wrapper(frozenset({"-n"})),
}

#: ``command -v X``, ``type X``: a look-up, not a run.
LOOKUPS = {"command": {"-v", "-V"}}


@dataclass(frozen=True)
class Use:
    """One command a script can run, and where."""

    name: str
    where: str
    path: str = ""
    #: The argument words after the name; a word built at run time is :data:`DYNAMIC`.
    args: tuple[str, ...] = ()


#: Stands for an argument word whose value comes from an expansion.
DYNAMIC = "\0dynamic"


@dataclass(frozen=True)
class Note:
    """Something the scan could not decide (a dynamic command name, a sourced file)."""

    where: str
    message: str


@dataclass
class Findings:
    """Everything found in one or more pieces of shell code."""

    uses: list[Use] = field(default_factory=list)
    functions: set[str] = field(default_factory=set)
    aliases: set[str] = field(default_factory=set)
    notes: list[Note] = field(default_factory=list)
    #: Shell syntax beyond POSIX sh found in the code (``[[``, ``${v//x/y}``...), as uses of it.
    syntax: list[Use] = field(default_factory=list)


class ParseError(Exception):
    """The shell parser rejected the code; ``line`` is 1-based in the whole file."""

    def __init__(self, line: int, col: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.col = col
        self.message = message


def shfmt_path() -> str:
    """The ``shfmt`` executable from the ``shfmt-py`` package (or on PATH)."""
    for folder in (sysconfig.get_path("scripts"), str(Path(sys.executable).parent)):
        here = Path(folder) / "shfmt"
        if here.is_file():
            return str(here)
    found = shutil.which("shfmt")
    if not found:
        raise EnvError("shfmt not found: install the Python package shfmt-py ('shfmt-py>=4.2,<5')")
    return found


#: Seconds shfmt may take on one piece of code (a 1 MB script takes well under that).
PARSE_TIMEOUT = 120

_ERR = re.compile(r"^(?:[^:]*:)??(\d+):(\d+): (.*)$")


def parse(code: str) -> Node:
    """The syntax tree of ``code`` (bash dialect: a superset of what ash accepts)."""
    try:
        proc = subprocess.run(
            [shfmt_path(), "-ln", "bash", "--to-json"],
            input=code.encode(errors="replace"),
            capture_output=True,
            timeout=PARSE_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise ParseError(1, 1, f"the shell parser took more than {PARSE_TIMEOUT} s") from None
    if proc.returncode != 0:
        msg = proc.stderr.decode(errors="replace").strip().splitlines()
        first = msg[0] if msg else "cannot parse"
        m = _ERR.match(first)
        if m:
            raise ParseError(int(m.group(1)), int(m.group(2)), m.group(3))
        raise ParseError(1, 1, first)
    tree: Node = json.loads(proc.stdout)
    return tree


def _line(node: Node) -> int:
    pos = node.get("Pos") or {}
    return int(pos.get("Line", 1))


def literal(word: Node | None) -> str | None:
    """The value of a word with no expansions (quotes and escapes removed), else None."""
    if not word:
        return None
    out: list[str] = []
    for part in word.get("Parts", []):
        kind = part.get("Type")
        if kind == "Lit":
            out.append(re.sub(r"\\(.)", r"\1", part.get("Value", "")).replace("\\\n", ""))
        elif kind == "SglQuoted":
            out.append(part.get("Value", ""))
        elif kind == "DblQuoted":
            inner = literal({"Parts": part.get("Parts", [])})
            if inner is None:
                return None
            out.append(inner)
        else:
            return None
    return "".join(out)


class Scanner:
    """Walks syntax trees of one file; ``offset`` maps nested code to file lines."""

    def __init__(self, path: str, findings: Findings) -> None:
        self.path = path
        self.f = findings

    def where(self, line: int) -> str:
        return f"{self.path}:{line}"

    def scan_code(self, code: str, first_line: int = 1) -> None:
        """Parse and walk ``code`` whose first line is line ``first_line`` of the file."""
        try:
            tree = parse(code)
        except ParseError as e:
            raise ParseError(e.line + first_line - 1, e.col, e.message) from None
        self.walk(tree, first_line - 1)

    def walk(self, node: Any, offset: int) -> None:
        if isinstance(node, list):
            for item in node:
                self.walk(item, offset)
            return
        if not isinstance(node, dict):
            return
        kind = node.get("Type")
        if kind == "CallExpr":
            self.call(node.get("Args") or [], offset)
        elif kind == "FuncDecl":
            name = (node.get("Name") or {}).get("Value")
            if name:
                self.f.functions.add(name)
        elif kind == "TestClause":
            self.use("[[", _line(node) + offset)
            self.syntax("[[", node, offset)
        elif kind == "TimeClause":
            self.use("time", _line(node) + offset)
        else:
            self.syntax_of(node, offset)
        for key, value in node.items():
            if key not in ("Pos", "End") and isinstance(value, (dict, list)):
                self.walk(value, offset)

    def use(self, name: str, line: int, path: str = "", args: Sequence[Node] = ()) -> None:
        words = tuple(DYNAMIC if (t := literal(w)) is None else t for w in args)
        self.f.uses.append(Use(name, self.where(line), path, words))

    def syntax(self, key: str, node: Node, offset: int) -> None:
        self.f.syntax.append(Use(key, self.where(_line(node) + offset)))

    def syntax_of(self, node: Node, offset: int) -> None:
        """Record the shell syntax ``node`` stands for (keys of ``shell_features.toml``)."""
        kind = node.get("Type")
        if kind == "ParamExp":
            if node.get("Repl"):
                self.syntax("${v/x/y}", node, offset)
            if node.get("Slice"):
                self.syntax("${v:n:m}", node, offset)
            if node.get("Index"):
                self.syntax("array", node, offset)
            if node.get("Excl"):
                self.syntax("${!v}", node, offset)
            op = (node.get("Exp") or {}).get("Op", "")
            if op in ("^", "^^", ",", ",,", "@"):
                self.syntax("${v^^}", node, offset)
        elif kind in ("ArithmExp", "ArithmCmd", "LetClause"):
            self.syntax("$((...))" if kind == "ArithmExp" else "((...))", node, offset)
        elif kind == "CStyleLoop":
            self.syntax("for ((...))", node, offset)
        elif kind == "SglQuoted" and node.get("Dollar"):
            self.syntax("$'...'", node, offset)
        elif kind == "ProcSubst":
            self.syntax("<(...)", node, offset)
        elif kind == "FuncDecl" and node.get("RsrvWord"):
            self.syntax("function", node, offset)
        elif kind == "DeclClause":
            variant = (node.get("Variant") or {}).get("Value", "")
            self.syntax(variant, node, offset)
        elif kind == "CoprocClause":
            self.syntax("coproc", node, offset)
        for redir in node.get("Redirs") or ():
            op = redir.get("Op", "")
            if op in ("<<", "<<-"):
                self.syntax("<<", redir, offset)
            elif op == "<<<":
                self.syntax("<<<", redir, offset)
            elif op in ("&>", "&>>"):
                self.syntax("&>", redir, offset)
        for assign in node.get("Assigns") or ():
            if assign.get("Array"):
                self.syntax("array", assign, offset)

    def note(self, line: int, message: str) -> None:
        self.f.notes.append(Note(self.where(line), message))

    def nested(self, word: Node, offset: int, what: str) -> None:
        """Scan a string argument that is itself shell code (``sh -c``, ``trap``, ``eval``)."""
        line = _line(word) + offset
        code = literal(word)
        if code is None:
            self.note(line, f"{what}: code built at run time, not checked")
            return
        try:
            self.scan_code(code, line)
        except ParseError as e:
            raise ParseError(e.line, e.col, f"in {what}: {e.message}") from None

    def call(self, args: Sequence[Node], offset: int) -> None:
        """One simple command: its name, and what a wrapper around it runs."""
        i = 0
        while i < len(args):
            word = args[i]
            line = _line(word) + offset
            raw = literal(word)
            if raw is None:
                self.note(line, "command name comes from an expansion, not checked")
                return
            name = posixpath.basename(raw) if "/" in raw else raw
            if "/" in raw and raw.startswith((".", "~")) or ("/" in raw and not name):
                self.use(raw, line)
                return
            rest = args[i + 1 :]
            wrap = WRAPPERS.get(name)
            upto = len(rest)
            if wrap is not None:
                # A wrapper's own words stop at the command it runs (that one gets the rest).
                stop = self.skip_options(name, wrap, rest, offset, quiet=True)
                upto = len(rest) if stop is None else min(stop, len(rest))
            self.use(name, line, raw if "/" in raw else "", rest[:upto])
            if name in (".", "source"):
                target = literal(rest[0]) if rest else None
                self.note(line, f"sources {target or 'a computed file'}: scan that file too")
                return
            if name in ("trap",) and rest:
                self.nested(rest[0], offset, "trap")
                return
            if name == "eval":
                for w in rest:
                    self.nested(w, offset, "eval")
                return
            if name == "alias":
                for w in rest:
                    text = literal(w)
                    if text and "=" in text:
                        alias, value = text.split("=", 1)
                        self.f.aliases.add(alias)
                        try:
                            self.scan_code(value, line)
                        except ParseError as e:
                            raise ParseError(e.line, e.col, f"in alias {alias}: {e.message}") from None
                return
            if name == "find":
                self.find_exec(rest, offset)
                return
            if name in SHELLS:
                self.shell_args(rest, offset, name)
                return
            if name == "start-stop-daemon":
                self.start_stop_daemon(rest, offset)
                return
            if wrap is None:
                return
            j = self.skip_options(name, wrap, rest, offset)
            if j is None:
                return
            if j >= len(rest):
                if wrap.default:
                    self.use(wrap.default, line)
                return
            if name == "watch":
                self.nested(rest[j], offset, "watch")
                return
            args = rest
            i = j

    def skip_options(
        self, name: str, wrap: Wrapper, rest: Sequence[Node], offset: int, quiet: bool = False
    ) -> int | None:
        """Index of the wrapped command in ``rest``; None when nothing is run.

        ``quiet``: only find the index (code passed to ``-c`` is not scanned).
        """
        j = 0
        positional = wrap.positional
        while j < len(rest):
            text = literal(rest[j])
            if text is None:
                return j
            if text == "--":
                j += 1
                break
            if text.startswith("-") and len(text) > 1:
                if text in LOOKUPS.get(name, ()):
                    return None
                if wrap.code_opt and text == wrap.code_opt:
                    if j + 1 < len(rest) and not quiet:
                        self.nested(rest[j + 1], offset, f"{name} {text}")
                    return None
                j += 2 if text in wrap.opts_with_arg else 1
                continue
            if wrap.assignments and re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", text):
                j += 1
                continue
            if positional:
                positional -= 1
                j += 1
                continue
            break
        while positional and j < len(rest):
            positional -= 1
            j += 1
        return j

    def find_exec(self, rest: Sequence[Node], offset: int) -> None:
        for k, word in enumerate(rest):
            if literal(word) in ("-exec", "-execdir", "-ok", "-okdir") and k + 1 < len(rest):
                end = k + 1
                while end < len(rest) and literal(rest[end]) not in (";", "+"):
                    end += 1
                self.call(rest[k + 1 : end], offset)

    def shell_args(self, rest: Sequence[Node], offset: int, shell: str) -> None:
        for k, word in enumerate(rest):
            text = literal(word)
            if text is None or not text.startswith("-"):
                return
            if "c" in text.lstrip("-+") and not text.startswith("--") and k + 1 < len(rest):
                self.nested(rest[k + 1], offset, f"{shell} -c")
                return

    def start_stop_daemon(self, rest: Sequence[Node], offset: int) -> None:
        for k, word in enumerate(rest[:-1]):
            if literal(word) in ("-x", "--exec", "-a", "--startas"):
                self.call(rest[k + 1 : k + 2], offset)
                return


SHEBANG = re.compile(r"^#!\s*(\S+)(?:\s+(\S+))?")


def shebang_command(first_line: str) -> list[str]:
    """Commands a ``#!`` line runs: ``#!/usr/bin/env sh`` -> ``["env", "sh"]``."""
    m = SHEBANG.match(first_line)
    if not m:
        return []
    interp = posixpath.basename(m.group(1))
    arg = m.group(2)
    if interp in ("env", "busybox") and arg and not arg.startswith("-"):
        return [interp, posixpath.basename(arg)]
    return [interp]


def shebang_is_shell(first_line: str) -> bool | None:
    """True for a shell ``#!``, False for another interpreter, None when there is none."""
    cmds = shebang_command(first_line)
    if not cmds:
        return None
    return cmds[-1] in SHELLS
