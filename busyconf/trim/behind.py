"""Applets behind applets: which applets an applet may run, read from the release's sources.

::

    runs(tree, "ifup")              # (("ip", "networking/ifupdown.c:461 if FEATURE_IFUPDOWN_IP"), ...)
    closure(tree, ["ifup"], values) # {"run-parts": "run-parts: run by ifup", ...}

The automatic pass reads each applet's C files (the file holding its ``//applet:``
line and the objects its ``//kbuild:`` lines add) and, in a file that runs other
programs at all (``spawn_and_wait``, ``BB_EXECVP``, ``execl``, ``system`` ...),
takes every string literal whose first word names an applet of the release
(``"run-parts /etc/network/if-%s.d"``, ``"[[ip route add ...``, ``"/sbin/getty"``)
and every call that runs the shell (``get_shell_name()``, ``DEFAULT_SHELL``,
``system()``, ``"sh", "-c"``). The ``#if ENABLE_X``/``#else`` around a call and an
``IF_X(``/``ENABLE_X ?`` on its line are its condition: with a configuration the
edge is followed only when that holds. ``behind.toml`` is the reviewed rest: edges
the sources state in no literal (udhcpc runs its script, a shell script) and
literals the pass over-reports (a name in a message), each citing file:line.
"""

from __future__ import annotations

import re
import threading
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from busyconf.model.kconfig import KconfigTree

DATA = Path(__file__).with_name("behind.toml")

#: A file that does none of these runs no other program.
_RUNS = re.compile(
    r"\b(spawn_and_wait|spawn|launch_helper|run_shell|exec_shell|exec_login_shell|exec_prog_or_SHELL|BB_EXECVP\w*|BB_EXECLP|execvp|execlp|execl|execle|execv|system|popen)\s*\("
)
#: Calls that run the shell.
_SHELL = re.compile(
    r"\bget_shell_name\s*\(|\bDEFAULT_SHELL\b|\b(bb|LIBBB)_DEFAULT_LOGIN_SHELL\b|\bsystem\s*\("
    r"|\b(run_shell|exec_shell|exec_login_shell|exec_prog_or_SHELL)\s*\(|\"sh\"\s*,\s*\"-c\""
)
_LITERAL = re.compile(r'"((?:[^"\\\n]|\\.)*)"')
_APPLET_LINE = re.compile(r"^//applet:.*?APPLET\w*\(\s*([^,\s]+)")
_KBUILD_LINE = re.compile(r"^//kbuild:\s*lib-\$\(CONFIG_(\w+)\)\s*\+=\s*(.*)$")
_PATH_PREFIX = re.compile(r"^(?:/usr)?/s?bin/")
_LINE_IF = re.compile(r"\bIF_(NOT_)?([A-Z0-9_]+)\(")
_TERNARY = re.compile(r"\bENABLE_([A-Z0-9_]+)\s*\?\s*\"([^\"]*)\"\s*:\s*\"([^\"]*)\"")
_PROGRAM_LINE = re.compile(
    r"\b(spawn_and_wait|BB_EXECVP\w*|BB_EXECLP|execvp|execlp|execl|execle|execv)\s*\("
    r"|=\s*(\(char\s*\*\)\s*)?(ENABLE_\w+\s*\?\s*)?\"[^\"]+\"\s*(:\s*\"[^\"]+\"\s*)?;"
    r"|\{\s*\"[^\"]+\"\s*,.*\bNULL\b"
)
#: Lines that print or compare a string: its words name no program run.
_MESSAGE = re.compile(
    r"\b(\w*msg\w*|\w*warn\w*|dbg\w*|message|\w*fatal\w*|f?printf|puts|\w*cannot|ok|failx?"
    r"|str\w*cmp|is_prefixed_with|index_in_\w+|search_name_hashtable)\s*\(|\bapplet_name\s*="
)
_RUNTIME_IF = re.compile(r"\bif\s*\(\s*(!?)\s*ENABLE_([A-Z0-9_]+)\s*[)&]")

#: (symbol, wanted) pairs that must all hold; () is unconditional.
Cond = tuple[tuple[str, bool], ...]


@dataclass(frozen=True)
class Edge:
    """``applet`` may run ``target``; ``where`` is file:line in the release's tree."""

    applet: str
    target: str
    where: str
    when: Cond = ()
    reason: str = ""

    def holds(self, values: Mapping[str, str] | None) -> bool:
        """Whether the edge is followed under ``values`` (always, without a configuration)."""
        if values is None:
            return True
        return all((values.get(sym) == "y") == want for sym, want in self.when)

    def why(self) -> str:
        cond = " and ".join(s if w else f"!{s}" for s, w in self.when)
        text = self.where + (f" if {cond}" if cond else "")
        return text + (f" ({self.reason})" if self.reason else "")


@dataclass(frozen=True)
class Reviewed:
    """One entry of behind.toml."""

    kind: str  # "run" (an edge the pass cannot see) or "not" (one it over-reports)
    applets: tuple[str, ...]
    target: str
    at: str
    text: str
    reason: str
    when: Cond = ()


def _strip_comments(text: str) -> str:
    """C source without comments or ``//`` lines, same line count, string literals intact."""
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == '"' or c == "'":
            j = i + 1
            while j < n and text[j] != c and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            out.append(text[i : j + 1])
            i = j + 1
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append("\n" * text.count("\n", i, j))
            i = j
        elif text.startswith("//", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
        else:
            out.append(c)
            i += 1
    return "".join(out)


def _pp_cond(expr: str) -> Cond | None:
    """The condition of ``#if expr``: () for unknown, None for dead code (``#if 0``)."""
    expr = expr.strip()
    if expr == "0":
        return None
    parts = [p.strip().strip("()").strip() for p in expr.split("&&")]
    out: list[tuple[str, bool]] = []
    for p in parts:
        m = re.fullmatch(r"(!?)\s*ENABLE_([A-Z0-9_]+)", p)
        if not m:
            return ()  # || or a non-Kconfig macro: conservatively no condition
        out.append((m.group(2), not m.group(1)))
    return tuple(out)


def _lines_with_cond(text: str) -> Iterable[tuple[int, str, Cond]]:
    """(line number, code, the ``#if`` condition around it), dead code left out."""
    stack: list[Cond | None] = []
    for num, line in enumerate(text.split("\n"), 1):
        s = line.strip()
        m = re.match(r"#\s*(if|ifdef|ifndef|elif|else|endif)\b(.*)", s)
        if m:
            kw, rest = m.group(1), m.group(2)
            if kw == "if":
                stack.append(_pp_cond(rest))
            elif kw in ("ifdef", "ifndef"):
                stack.append(())
            elif kw == "elif" and stack:
                stack[-1] = ()
            elif kw == "else" and stack:
                top = stack[-1]
                if top is None:
                    stack[-1] = ()
                elif len(top) == 1:
                    stack[-1] = ((top[0][0], not top[0][1]),)
                else:
                    stack[-1] = ()
            elif kw == "endif" and stack:
                stack.pop()
            continue
        if any(c is None for c in stack):
            continue
        cond = tuple(pair for c in stack if c for pair in c)
        yield num, line, cond


def _applet_name(word: str, applets: frozenset[str]) -> str | None:
    word = _PATH_PREFIX.sub("", word.lstrip("-"))
    return word if word in applets else None


def scan_source(rel: str, text: str, applet: str, applets: frozenset[str]) -> list[Edge]:
    """The edges one C file of ``applet`` states: literals naming applets, calls running the shell."""
    code = _strip_comments(text)
    if not _RUNS.search(code):
        return []
    out: list[Edge] = []
    for num, line, cond in _lines_with_cond(code):
        where = f"{rel}:{num}"
        line_cond = tuple((sym, not neg) for neg, sym in _LINE_IF.findall(line))
        line_cond += tuple((sym, not neg) for neg, sym in _RUNTIME_IF.findall(line))
        ternary = {}
        for m in _TERNARY.finditer(line):
            ternary[m.group(2)] = ((m.group(1), True),)
            ternary[m.group(3)] = ((m.group(1), False),)
        if _SHELL.search(line) and applet != "sh":
            out.append(Edge(applet, "sh", where, cond + line_cond))
        # Messages name no program; USE_FOR_NOMMU: only a NOMMU build (none here) execs it.
        if _MESSAGE.search(line) or "USE_FOR_NOMMU(" in line:
            continue
        for lit in _LITERAL.findall(line):
            body = lit.removeprefix("[[")
            if not body or body != body.lstrip():
                continue
            first = body.split(" ", 1)[0]
            name = _applet_name(first, applets)
            if name is None or name == applet:
                continue
            # "NAME args" is a command line; a bare name only where it is run or set as
            # a program (not "w" in fopen(), "link" in a long-option table).
            if body != first and not body.startswith(first + " "):
                continue
            if body == first and not first.startswith("/") and not _PROGRAM_LINE.search(line):
                continue
            out.append(Edge(applet, name, where, cond + line_cond + ternary.get(lit, ())))
    return out


def applet_sources(src: Path) -> dict[str, list[str]]:
    """Applet -> its C files (relative to ``src``), from ``//applet:`` and ``//kbuild:`` lines."""
    out: dict[str, list[str]] = {}
    for path in sorted(src.rglob("*.c")):
        rel = path.relative_to(src).as_posix()
        # The shell runs what its script says (the scanner reads that), not names in its source.
        if rel.startswith(("libbb/", "scripts/", "testsuite/", "examples/", "docs/", "shell/")):
            continue
        try:
            head = path.read_text(errors="replace")
        except OSError:
            continue
        if "//applet:" not in head:
            continue
        names: list[str] = []
        objs: list[str] = []
        for raw in head.splitlines():
            m = _APPLET_LINE.match(raw)
            if m:
                names.append(m.group(1))
            k = _KBUILD_LINE.match(raw)
            if k:
                objs.extend(o[:-2] + ".c" for o in k.group(2).split() if o.endswith(".o"))
        files = [rel] + [
            (path.parent / o).relative_to(src).as_posix() for o in objs if (path.parent / o).is_file()
        ]
        for name in names:
            lst = out.setdefault(name, [])
            lst.extend(f for f in files if f not in lst)
    return out


def load_reviewed(path: Path = DATA) -> list[Reviewed]:
    """The entries of behind.toml."""
    data = tomllib.loads(path.read_text())
    out: list[Reviewed] = []
    for kind in ("run", "not"):
        for e in data.get(kind, []):
            when = tuple((s.lstrip("!"), not s.startswith("!")) for s in e.get("when", []))
            names = e["applet"] if isinstance(e["applet"], list) else [e["applet"]]
            out.append(Reviewed(kind, tuple(names), e["runs"], e["at"], e["text"], e["reason"], when))
    return out


def _hits(src: Path, at: str, text: str) -> list[str]:
    rel = at.rpartition(":")[0]
    try:
        lines = (src / rel).read_text(errors="replace").splitlines()
    except OSError:
        return []
    return [f"{rel}:{i}" for i, raw in enumerate(lines, 1) if text in raw]


def locate(src: Path, at: str, text: str) -> str | None:
    """``file:line`` of ``text`` in this release: the cited line, or the nearest one holding it."""
    rel, _, line = at.rpartition(":")
    try:
        lines = (src / rel).read_text(errors="replace").splitlines()
    except OSError:
        return None
    want = int(line)
    hits = [i for i, raw in enumerate(lines, 1) if text in raw]
    if not hits:
        return None
    return f"{rel}:{min(hits, key=lambda i: abs(i - want))}"


_CACHE: dict[Path, dict[str, tuple[Edge, ...]]] = {}
_LOCK = threading.Lock()


def edges(tree: KconfigTree) -> dict[str, tuple[Edge, ...]]:
    """Applet -> every edge out of it in ``tree``'s release (automatic pass plus behind.toml)."""
    src = Path(tree.src_dir)
    with _LOCK:
        cached = _CACHE.get(src)
    if cached is not None:
        return cached
    applets = frozenset(a.name for a in tree.applets)
    found: dict[str, list[Edge]] = {}
    for applet, files in applet_sources(src).items():
        if applet not in applets:
            continue
        for rel in files:
            text = (src / rel).read_text(errors="replace")
            found.setdefault(applet, []).extend(scan_source(rel, text, applet, applets))
    for r in load_reviewed():
        where = locate(src, r.at, r.text)
        for applet in r.applets:
            if applet not in applets or r.target not in applets:
                continue
            if r.kind == "not":
                # Every line of that file holding the text: one entry covers a repeated literal.
                gone = set(_hits(src, r.at, r.text))
                keep = [e for e in found.get(applet, []) if e.target != r.target or e.where not in gone]
                found[applet] = keep
            else:
                found.setdefault(applet, []).append(Edge(applet, r.target, where or r.at, r.when, r.reason))
    result = {a: tuple(es) for a, es in found.items() if es}
    with _LOCK:
        _CACHE[src] = result
    return result


def runs(
    tree: KconfigTree, applet: str, values: Mapping[str, str] | None = None
) -> tuple[tuple[str, str], ...]:
    """(applet it may run, where/why in the source), one per target; gated edges only when on."""
    out: dict[str, str] = {}
    for e in edges(tree).get(applet, ()):
        if e.holds(values) and e.target not in out:
            out[e.target] = e.why()
    return tuple(sorted(out.items()))


def closure(
    tree: KconfigTree, applets: Iterable[str], values: Mapping[str, str] | None = None
) -> dict[str, str]:
    """Applets run, transitively, by ``applets`` and not among them -> "run-parts: run by ifup"."""
    start = list(dict.fromkeys(applets))
    seen = set(start)
    added: dict[str, str] = {}
    todo = list(start)
    while todo:
        applet = todo.pop(0)
        for target, _why in runs(tree, applet, values):
            if target not in seen:
                seen.add(target)
                added[target] = f"{target}: run by {applet}"
                todo.append(target)
    return added
