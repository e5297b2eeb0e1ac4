"""Which feature symbols the options a script passes need, from the release's own sources.

Two sources give the option -> symbol map of each applet:

* the usage texts (``include/usage.h``): each option line of an applet's
  ``--help`` sits inside the ``IF_FEATURE_X(...)`` that enables the option
  (``find``'s ``-mtime`` inside ``IF_FEATURE_FIND_MTIME``). The texts are
  compiled once with every ``IF_X`` turned into markers
  (:func:`busyconf.size.usage.extract_texts`), so the wrappers are read by the
  preprocessor itself, nested ones included;
* the ``getopt32`` option strings and long-option tables in the applet's
  ``.c`` file, read directly as C string pieces: ``"ab" IF_FEATURE_X("c:")``
  puts ``-c`` behind FEATURE_X, and a long-option table inside
  ``#if ENABLE_FEATURE_X`` puts its names there. They are parsed rather than
  preprocessed per feature because ``gcc -E`` of an applet needs a configured
  tree (``autoconf.h``, generated headers) and one run per feature, where the
  strings are literal concatenations the parser reads exactly; it also finds
  the options the usage text leaves out (then ungated: no symbol needed).

An option of a known applet that neither source places is *unplaced*: every
option symbol of that applet then stays as the base has it. Shell syntax,
which no table in the source states, comes from ``shell_features.toml``.
"""

from __future__ import annotations

import functools
import re
import shutil
import tomllib
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from busyconf.model.kconfig import KconfigTree
from busyconf.size.usage import extract_texts, usage_chunks
from busyconf.trim.shellscan import DYNAMIC, Use

#: Symbols an interactive shell needs (line editing, history, job control, completion).
INTERACTIVE_PREFIXES = (
    "FEATURE_EDITING",
    "FEATURE_TAB_COMPLETION",
    "FEATURE_USERNAME_COMPLETION",
    "FEATURE_REVERSE_SEARCH",
    "FEATURE_SH_HISTFILESIZE",
)
INTERACTIVE_SYMBOLS = frozenset(
    {
        "ASH_JOB_CONTROL",
        "HUSH_JOB",
        "HUSH_INTERACTIVE",
        "ASH_IDLE_TIMEOUT",
        "ASH_EXPAND_PRMT",
        "FEATURE_EDITING",
        "FEATURE_TAB_COMPLETION",
    }
)

SHELL_FEATURES = Path(__file__).with_name("shell_features.toml")

Conds = frozenset[str]


@dataclass
class AppletOptions:
    """One applet's options: each option's alternatives (symbol sets), and which take a value."""

    #: From the usage text: what the option does is there only with these symbols.
    options: dict[str, list[Conds]] = field(default_factory=dict)
    #: From getopt32 strings and long-option tables: the option is accepted only with these.
    code: dict[str, list[Conds]] = field(default_factory=dict)
    takes_arg: set[str] = field(default_factory=set)
    #: Symbols configured in the applet's own file that gate one of its options.
    own: set[str] = field(default_factory=set)

    def add(self, option: str, conds: Iterable[str], arg: bool = False, code: bool = False) -> None:
        alts = (self.code if code else self.options).setdefault(option, [])
        c = frozenset(conds)
        if c not in alts:
            alts.append(c)
        if arg:
            self.takes_arg.add(option)

    def known(self, option: str) -> bool:
        return option in self.options or option in self.code

    def need(self, option: str) -> Conds | None:
        """Symbols ``option`` needs; None when neither source knows it.

        A short option the usage text documents needs what the text says (gzip
        accepts -9 always but compresses harder only with FEATURE_GZIP_LEVELS);
        a long one needs that and what its table sits behind (LONG_OPTS...).
        """
        doc, code = _alts(self.options.get(option)), _alts(self.code.get(option))
        if doc is None and code is None:
            return None
        if option.startswith("--"):
            return (doc or frozenset()) | (code or frozenset())
        return doc if doc is not None else code


def _alts(alts: list[Conds] | None) -> Conds | None:
    """One option's symbols over its alternatives: none when an ungated form exists."""
    if alts is None:
        return None
    if any(not a for a in alts):
        return frozenset()
    return frozenset().union(*alts)


@dataclass(frozen=True)
class OptionNeeds:
    """What the options scripts pass need (the seam plan_trim uses)."""

    symbols: frozenset[str]
    #: symbol -> "find -mtime at entrypoint.sh:4"
    reasons: dict[str, str]
    #: (file:line, applet, option) the map cannot place; that applet's option symbols stay as in the base.
    unplaced: list[tuple[str, str, str]]
    #: applet -> symbols that gate its options and belong to it (candidates to switch off).
    option_symbols: dict[str, frozenset[str]] = field(default_factory=dict)


# -- the map ---------------------------------------------------------------------------

_FIELD = re.compile(r"^(-{1,2}[A-Za-z0-9?#][A-Za-z0-9_-]*)(\[?=?)(.*)$")


def _usage_lines(text: bytes) -> Iterable[tuple[str, frozenset[str]]]:
    """(line, positive conditions where the line starts) of one marked usage text."""
    line: list[str] = []
    start: frozenset[str] | None = None
    for when, chunk in usage_chunks(text):
        conds = frozenset(s for s, on in when if on)
        for i, piece in enumerate(chunk.decode(errors="replace").split("\n")):
            if i > 0:
                yield "".join(line), start or frozenset()
                line, start = [], None
            if piece and start is None:
                start = conds
            line.append(piece)
    yield "".join(line), start or frozenset()


def _from_usage(opts: AppletOptions, text: bytes, trivial: bool) -> None:
    if trivial:
        ctx = ""
        for when, chunk in usage_chunks(text):
            conds = frozenset(s for s, on in when if on)
            piece = chunk.decode(errors="replace")
            if conds and re.fullmatch(r"[A-Za-z0-9]+", piece) and re.search(r"\[-[A-Za-z0-9]*$", ctx):
                for letter in piece:
                    opts.add("-" + letter, conds)
            elif conds:
                for m in re.finditer(r"\[(-{1,2})([A-Za-z0-9][A-Za-z0-9_-]*)(\s*)", piece):
                    names = [m.group(2)] if m.group(1) == "--" or m.group(3) else list(m.group(2))
                    for n in names:
                        opts.add(m.group(1) + n, conds, bool(m.group(3)))
            ctx += piece
        return
    for line, conds in _usage_lines(text):
        if not line.startswith("\t"):
            continue
        head = re.split(r"\t", line.lstrip("\t"), maxsplit=1)[0]
        if re.fullmatch(r"[A-Za-z]", head):
            # tar's "c", "x", "t": option letters the first word bundles without a dash.
            opts.add("-" + head, conds)
            continue
        for alt in head.split(","):
            f = _FIELD.match(alt.strip())
            if f:
                opts.add(f.group(1), conds, bool(f.group(3).strip()) and not f.group(2))


_IF_PIECE = re.compile(r'IF_([A-Z0-9_]+)\(\s*((?:"(?:[^"\\]|\\.)*"\s*)+)\)')
_STR = re.compile(r'"((?:[^"\\]|\\.)*)"')
_GETOPT = re.compile(
    r"getopt32(?:long)?\s*\(\s*argv\s*,\s*"
    r"((?:(?:\"(?:[^\"\\]|\\.)*\"|IF_[A-Z0-9_]+\([^()]*\)|[A-Z_]+)\s*)+)",
    re.S,
)


def _optstring_pieces(expr: str) -> list[tuple[str, frozenset[str]]]:
    """The string pieces of a getopt32 first argument, each with its IF_ wrapper."""
    out: list[tuple[str, frozenset[str]]] = []
    pos = 0
    for m in _IF_PIECE.finditer(expr):
        out.extend((s, frozenset()) for s in _STR.findall(expr[pos : m.start()]))
        out.extend((s, frozenset({m.group(1)})) for s in _STR.findall(m.group(2)))
        pos = m.end()
    out.extend((s, frozenset()) for s in _STR.findall(expr[pos:]))
    return out


def _from_getopt(opts: AppletOptions, source: str, main: str) -> None:
    """Short options of the applet's getopt32 calls (those inside its main function's file)."""
    del main
    for m in _GETOPT.finditer(source):
        pieces = _optstring_pieces(m.group(1))
        text = "".join(p for p, _ in pieces)
        if "^" in text:
            # "^" opens the option string; its second part (after \0 = "\\0" in source) is constraints.
            pieces = _until_constraints(pieces)
        for piece, conds in pieces:
            i = 0
            while i < len(piece):
                c = piece[i]
                if c in "^+:" or c == "\\":
                    i += 2 if c == "\\" else 1
                    continue
                arg = piece[i + 1 : i + 2] in (":", "+", "*")
                opts.add("-" + c, conds, arg, code=True)
                i += 1
                while i < len(piece) and piece[i] in ":+*":
                    i += 1


def _until_constraints(pieces: list[tuple[str, frozenset[str]]]) -> list[tuple[str, frozenset[str]]]:
    out = []
    for piece, conds in pieces:
        if "\\0" in piece:
            out.append((piece.split("\\0", 1)[0], conds))
            break
        out.append((piece, conds))
    return out


_LONGOPT = re.compile(
    r'"([a-z][a-z0-9-]*)\\0"\s*(No_argument|Required_argument|Optional_argument)\s*'
    r'(?:"((?:[^"\\]|\\.)*)"|\\?(\S+))'
)


def _from_longopts(opts: AppletOptions, source: str) -> None:
    """``--name`` entries of long-option tables, with the #if ENABLE_X / IF_X around each."""
    stack: list[frozenset[str]] = []
    for raw in source.splitlines():
        line = raw.strip()
        if line.startswith("#if"):
            stack.append(
                frozenset(re.findall(r"ENABLE_([A-Z0-9_]+)", line))
                if "!" not in line and "||" not in line
                else frozenset()
            )
            continue
        if line.startswith("#endif") and stack:
            stack.pop()
            continue
        if line.startswith("#else") and stack:
            stack[-1] = frozenset()
            continue
        wrapped = {m.start(): m.group(1) for m in re.finditer(r"IF_([A-Z0-9_]+)\(", line)}
        for m in _LONGOPT.finditer(line):
            conds = set().union(*stack) if stack else set()
            conds |= {s for pos, s in wrapped.items() if pos < m.start()}
            opts.add("--" + m.group(1), conds, m.group(2) == "Required_argument", code=True)


def _from_ash_options(opts: AppletOptions, ash: Path) -> None:
    """ash's own option letters: its ``optletters_optnames`` table, plus -c, -l (login) and -o NAME."""
    try:
        text = ash.read_text(errors="replace")
    except OSError:
        return
    m = re.search(r"optletters_optnames\[\][^{]*\{(.*?)\n\};", text, re.S)
    letters = re.findall(r'^\s*"(\w)"\s+"', m.group(1), re.M) if m else []
    for letter in [*letters, "c", "l"]:
        opts.add("-" + letter, (), code=True)
    opts.add("-o", (), arg=True, code=True)


def _applet_sources(src: Path) -> dict[str, Path]:
    """Applet symbol -> the .c file whose ``//applet:`` line names it."""
    out: dict[str, Path] = {}
    for path in sorted(src.rglob("*.c")):
        try:
            head = path.read_text(errors="replace")
        except OSError:
            continue
        for m in re.finditer(r"^//applet:.*?IF_([A-Z0-9_]+)\(APPLET", head, re.M):
            out.setdefault(m.group(1), path)
    return out


@functools.cache
def option_map(tree: KconfigTree) -> dict[str, AppletOptions]:
    """Applet name -> its options and the symbols that enable them, for this release."""
    # The defaults (no assignments) give the numbers and strings usage.h's texts print.
    with tree.applied([]):
        types = {n: tree.type_of(n) for n in tree.symbols}
        # Every #if ENABLE_X block of usage.h open, so every option line is read.
        values = {
            n: "y" if types[n] in ("bool", "tristate") else s.str_value for n, s in tree.symbols.items()
        }
        files = {n: tree.source_file(s.nodes[0]) for n, s in tree.symbols.items() if s.nodes}
    hostcc = shutil.which("gcc") or shutil.which("cc") or "cc"
    marked = extract_texts(tree.kconfig_dir / "include", tree.applets, values, types, hostcc)
    out: dict[str, AppletOptions] = {}
    for applet, short, full in marked:
        opts = out.setdefault(applet.name, AppletOptions())
        _from_usage(opts, short, trivial=True)
        _from_usage(opts, full, trivial=False)
    sources = _applet_sources(tree.src_dir)
    for applet in tree.applets:
        opts = out.setdefault(applet.name, AppletOptions())
        path = sources.get(applet.requires[0])
        if path is not None:
            text = path.read_text(errors="replace")
            _from_getopt(opts, text, applet.main or "")
            _from_longopts(opts, text)
        if applet.main == "ash_main":
            _from_ash_options(opts, tree.src_dir / "shell" / "ash.c")
        home = files.get(applet.requires[0])
        gated = {s for d in (opts.options, opts.code) for alts in d.values() for a in alts for s in a}
        # Only symbols configured next to the applet are its own; LONG_OPTS, SELINUX... are everyone's.
        opts.own = {
            s for s in gated if s != applet.requires[0] and files.get(s) == home and types.get(s) == "bool"
        }
        for d in (opts.options, opts.code):
            for alts in d.values():
                alts[:] = [frozenset(s for s in a if s != applet.requires[0]) for a in alts]
    return out


# -- what invocations need -------------------------------------------------------------

#: find predicates whose next word is their value though the usage shows none.
_FIND_SPECIAL = {"!": "!", "(": "(", ")": "("}


def _find_options(args: tuple[str, ...], opts: AppletOptions) -> Iterable[str]:
    i = 0
    while i < len(args):
        word = args[i]
        i += 1
        if word in _FIND_SPECIAL:
            if word != ")":
                yield _FIND_SPECIAL[word]
            continue
        if word in ("-exec", "-execdir", "-ok", "-okdir"):
            end = i
            while end < len(args) and args[end] not in (";", "+"):
                end += 1
            yield word + (" +" if end < len(args) and args[end] == "+" else "")
            i = end + 1
            continue
        if word.startswith("-") and len(word) > 1 and word != DYNAMIC:
            yield word
            if word in opts.takes_arg:
                i += 1


def _tar_first(args: tuple[str, ...]) -> tuple[str, ...]:
    """``tar czf X`` -> ``tar -c -z -f X``: the first word is a bundle of options."""
    if args and args[0] != DYNAMIC and not args[0].startswith("-"):
        return ("-" + args[0], *args[1:])
    return args


def _generic_options(args: tuple[str, ...], opts: AppletOptions) -> Iterable[str]:
    i = 0
    while i < len(args):
        word = args[i]
        i += 1
        if word == "--":
            return
        if word == DYNAMIC or not word.startswith("-") or word == "-":
            continue
        if word.startswith("--"):
            name = word.split("=", 1)[0]
            yield name
            if "=" not in word and name in opts.takes_arg:
                i += 1
            continue
        if re.fullmatch(r"-[0-9]+", word) and not opts.known("-" + word[1]):
            # head -5, tail -20: a count, not options.
            yield "-NUM"
            continue
        for k, letter in enumerate(word[1:]):
            opt = "-" + letter
            yield opt
            if opt in opts.takes_arg:
                if k == len(word) - 2:
                    i += 1
                break


def invocation_options(applet: str, args: tuple[str, ...], opts: AppletOptions) -> list[str]:
    """The options one invocation passes, as the map names them."""
    if applet == "find":
        return list(_find_options(args, opts))
    if applet in ("test", "[", "[["):
        # Their dash words are the expression's operators, none behind a feature symbol.
        return []
    if applet == "tar":
        args = _tar_first(args)
    return list(_generic_options(args, opts))


def _option_need(applet: str, option: str, opts: AppletOptions) -> Conds | None:
    if option == "-NUM":
        return frozenset()
    if applet == "find" and option.endswith(" +"):
        base = opts.need(option[:-2])
        plus = [a for a in opts.options.get("-exec", []) if any("PLUS" in s for s in a)]
        return None if base is None else base | frozenset().union(*plus)
    need = opts.need(option)
    if applet == "find" and option == "-exec" and need:
        # -exec CMD ; needs FIND_EXEC; the '+' form is asked for by its terminator.
        need = frozenset(s for s in need if "PLUS" not in s)
    return need


@dataclass(frozen=True)
class ShellFeature:
    """One row of ``shell_features.toml``."""

    symbols: tuple[str, ...]
    cite: str
    unsupported: bool = False


@functools.cache
def shell_table() -> dict[str, ShellFeature]:
    """The reviewed shell-syntax table (``shell_features.toml``), ash's rows."""
    with SHELL_FEATURES.open("rb") as f:
        data = tomllib.load(f)
    return {
        str(k): ShellFeature(
            tuple(str(s) for s in v.get("symbols", [])),
            str(v.get("cite", "")),
            bool(v.get("unsupported", False)),
        )
        for k, v in data.get("ash", {}).items()
    }


def _has_word(args: tuple[str, ...], word: str) -> bool:
    """``word`` among ``args``; an option letter also inside a bundle (``-eo`` has ``-o``)."""
    if re.fullmatch(r"-\w", word):
        return any(a.startswith("-") and not a.startswith("--") and word[1] in a[1:] for a in args)
    return word in args


def options_needed(
    tree: KconfigTree,
    uses: Iterable[Use],
    syntax: Iterable[Use] = (),
    applets: Collection[str] | None = None,
) -> OptionNeeds:
    """Symbols the options and shell syntax of ``uses`` need (see :class:`OptionNeeds`).

    ``applets``: only these applets' uses count (the kept ones); default all.
    """
    omap = option_map(tree)
    symbols: set[str] = set()
    reasons: dict[str, str] = {}
    unplaced: list[tuple[str, str, str]] = []

    def want(syms: Iterable[str], why: str) -> None:
        for s in syms:
            if tree.has(s):
                symbols.add(s)
                reasons.setdefault(s, why)

    table = shell_table()
    builtin_keys = [k for k in table if " " in k]
    for use in uses:
        name = use.name
        if name in table:
            want(table[name].symbols, f"sh {name} at {use.where}")
        for key in builtin_keys:
            cmd, _, rest = key.partition(" ")
            if cmd == name and all(_has_word(use.args, w) for w in rest.split()):
                want(table[key].symbols, f"sh {key} at {use.where}")
        if applets is not None and name not in applets:
            continue
        opts = omap.get(name)
        if opts is None:
            continue
        for option in invocation_options(name, use.args, opts):
            need = _option_need(name, option, opts)
            if need is None:
                unplaced.append((use.where, name, option))
                continue
            want(need, f"{name} {option} at {use.where}")
    for found in syntax:
        e = table.get(found.name)
        if e is None:
            unplaced.append((found.where, "sh", found.name))
            continue
        if e.unsupported:
            unplaced.append((found.where, "sh", f"{found.name} (ash has no such syntax)"))
            continue
        want(e.symbols, f"sh {found.name} at {found.where}")
    own = {a: frozenset(o.own) for a, o in omap.items() if o.own}
    return OptionNeeds(frozenset(symbols), dict(sorted(reasons.items())), unplaced, own)


def is_interactive(symbol: str) -> bool:
    """Whether ``symbol`` serves only an interactive shell (editing, history, jobs, completion)."""
    return symbol in INTERACTIVE_SYMBOLS or symbol.startswith(INTERACTIVE_PREFIXES)


def option_switches(
    tree: KconfigTree,
    scan: Any,
    kept: Iterable[str],
    base: Mapping[str, str],
    interactive: bool,
) -> tuple[list[tuple[str, str]], list[tuple[str, str]], OptionNeeds]:
    """(assignments on, assignments off, needs) for the kept applets of a trim.

    On: every symbol the options need. Off: the kept applets' own option
    symbols the base had on and nothing needs, except for an applet with an
    unplaced option (all its options stay as in the base); and, unless
    ``interactive``, the interactive-shell symbols.
    """
    kept = set(kept)
    needs = options_needed(tree, scan.uses, scan.syntax, applets=kept)
    stays = {applet for _w, applet, _o in needs.unplaced}
    off: set[str] = set()
    for applet in kept - stays:
        off.update(s for s in needs.option_symbols.get(applet, ()) if base.get(s) == "y")
    shell = [a for a in ("sh", "ash") if a in kept]
    if shell and not stays & {"sh", "ash"} and base.get("ASH") == "y":
        # ash's syntax symbols from the reviewed table go too when no script needs them.
        off.update(s for e in shell_table().values() for s in e.symbols if base.get(s) == "y")
    else:
        off.difference_update(needs.option_symbols.get("ash", ()))
    if not interactive:
        off.update(s for s, v in base.items() if v == "y" and is_interactive(s))
    off -= needs.symbols
    # Symbols another kept applet's unplaced options may rest on stay too.
    for applet in stays:
        off -= needs.option_symbols.get(applet, frozenset())
    return [(s, "y") for s in sorted(needs.symbols)], [(s, "n") for s in sorted(off)], needs
