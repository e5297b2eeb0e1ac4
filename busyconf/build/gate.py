"""One gate for every string value that reaches BusyBox's build.

BusyBox's scripts source ``.config`` as shell and make includes it, so a
string symbol's value reaches both; its compile and link commands run
through a shell too. Each string symbol has a rule in ``string_rules.toml``
(a path, a name, free text, compiler flags...); a symbol without one gets the
conservative default. No value may hold ``$``, a backquote, a backslash, a
double quote or a control character, whatever its rule. Compiler and linker
flags must each be on an allow-list of explicit names.

The model calls :func:`check_string` on every value it accepts (``set``,
``import``, profiles, the editor); the build layer calls
:func:`check_config_text` on the whole ``.config`` it is handed, so a payload
that never went through the model is refused as well.
"""

from __future__ import annotations

import functools
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from busyconf.errors import ValueRangeError

RULES_FILE = Path(__file__).with_name("string_rules.toml")

# Whatever a rule says: these reach make or the shell as code ($ ` \ "), end a
# .config line (newline, CR) or hide text from a reader (other controls).
_FORBIDDEN = re.compile(r'[$`\\"\x00-\x1f\x7f\x85\u2028\u2029]')
_SHOWN = 60
# Longer than any real flag list or path; a longer value is a mistake or a payload.
MAX_LENGTH = 4096

# .config lines the build accepts: what conf writes, nothing else.
_ASSIGN = re.compile(r"^CONFIG_([A-Za-z0-9_]+)=(.*)$")
_PLAIN_VALUE = re.compile(r"^(?:[ymn]|-?[0-9]+|(?:0[xX])?[0-9a-fA-F]+)$")
_QUOTED = re.compile(r'^"([^"\\]*)"$')
_CONTROL = re.compile(r"[\x00-\x1f\x7f\x85\u2028\u2029]")


@dataclass(frozen=True)
class Kind:
    """What a value of one kind may look like."""

    name: str
    pattern: re.Pattern[str]
    says: str
    flags: str | None = None


@dataclass(frozen=True)
class Rule:
    """The kind a symbol's value must be, and why."""

    symbol: str
    kind: Kind
    reason: str


@dataclass(frozen=True)
class FlagRule:
    """One allow-list entry: exact ``names``, or a ``prefix`` with a value."""

    names: frozenset[str]
    prefix: str | None
    value: str | None
    choices: frozenset[str]
    sets: frozenset[str]
    reason: str


@dataclass(frozen=True)
class Rules:
    kinds: dict[str, Kind]
    symbols: dict[str, Rule]
    default: Rule
    values: dict[str, Kind]
    flags: tuple[FlagRule, ...]
    linker: tuple[FlagRule, ...]

    def rule_for(self, symbol: str) -> Rule:
        """``symbol``'s rule, or the default for a symbol without one."""
        return self.symbols.get(symbol) or Rule(symbol, self.default.kind, self.default.reason)


def _kind(name: str, data: dict[str, str]) -> Kind:
    return Kind(name, re.compile(data["pattern"]), data["says"], data.get("flags"))


def _flag_rule(data: dict[str, object]) -> FlagRule:
    names = data.get("names", [])
    choices = data.get("choices", [])
    sets = data.get("in", [])
    prefix = data.get("prefix")
    value = data.get("value")
    assert isinstance(names, list) and isinstance(choices, list) and isinstance(sets, list)
    assert prefix is None or isinstance(prefix, str)
    assert value is None or isinstance(value, str)
    return FlagRule(frozenset(names), prefix, value, frozenset(choices), frozenset(sets), str(data["reason"]))


@functools.cache
def rules() -> Rules:
    """The rules of ``string_rules.toml`` (read once)."""
    data = tomllib.loads(RULES_FILE.read_text())
    kinds = {name: _kind(name, k) for name, k in data["kinds"].items()}
    symbols = {name: Rule(name, kinds[r["kind"]], r["reason"]) for name, r in data["symbols"].items()}
    default = Rule("", kinds[data["default"]["kind"]], data["default"]["reason"])
    values = {name: _kind(name, v) for name, v in data["values"].items()}
    flags = tuple(_flag_rule(f) for f in data["flag"])
    linker = tuple(_flag_rule(f) for f in data["linker"])
    return Rules(kinds, symbols, default, values, flags, linker)


def _shown(value: str) -> str:
    return repr(value) if len(value) <= _SHOWN else repr(value[:_SHOWN]) + "..."


def _refuse(symbol: str, value: str, why: str, where: str | None) -> ValueRangeError:
    prefix = f"{where}: " if where else ""
    return ValueRangeError(f"{prefix}CONFIG_{symbol}: {_shown(value)} {why}; refusing it")


def _value_ok(rule: FlagRule, value: str, values: dict[str, Kind]) -> bool:
    if value in rule.choices:
        return True
    if rule.value is None:
        return False
    if rule.value == "linker":
        return _linker_problem(value) is None
    return bool(values[rule.value].pattern.match(value))


def _value_says(rule: FlagRule, values: dict[str, Kind]) -> str:
    parts = []
    if rule.choices:
        parts.append("one of " + ", ".join(sorted(rule.choices)))
    if rule.value is not None and rule.value != "linker":
        parts.append(values[rule.value].says)
    return " or ".join(parts)


def _match(entries: tuple[FlagRule, ...], word: str, group: str | None) -> tuple[FlagRule | None, bool]:
    """The entry deciding ``word`` (exact names first, then the longest prefix) and whether it passes."""
    usable = [e for e in entries if group is None or group in e.sets]
    for e in usable:
        if word in e.names:
            return e, True
    prefixed = [e for e in usable if e.prefix is not None and word.startswith(e.prefix)]
    if not prefixed:
        return None, False
    best = max(prefixed, key=lambda e: len(e.prefix or ""))
    return best, _value_ok(best, word[len(best.prefix or "") :], rules().values)


def _linker_problem(options: str) -> str | None:
    """Why the comma-separated linker ``options`` (after ``-Wl,``) are refused, or None."""
    parts = options.split(",")
    i = 0
    while i < len(parts):
        part = parts[i]
        if part == "-z" and i + 1 < len(parts):
            part = f"-z,{parts[i + 1]}"
            i += 1
        entry, ok = _match(rules().linker, part, None)
        if not ok:
            if entry is not None and entry.prefix is not None:
                return f"linker option {_shown(part)} takes {_value_says(entry, rules().values)}"
            return f"linker option {_shown(part)} is not on the allow-list"
        i += 1
    return None


def _flag_problem(word: str, group: str) -> str | None:
    """Why one flag ``word`` is refused in ``group`` (cflags, ldflags, ldlibs), or None."""
    entry, ok = _match(rules().flags, word, group)
    if ok:
        return None
    if entry is None:
        what = {"cflags": "compiler", "ldflags": "linker", "ldlibs": "library"}.get(group, group)
        return f"{_shown(word)}, which is not an allowed {what} flag (see busyconf/build/string_rules.toml)"
    if entry.value == "linker":
        return f"{_shown(word)}, but {_linker_problem(word[len(entry.prefix or '') :])}"
    if entry.prefix == "":
        return f"{_shown(word)}, which is not {_value_says(entry, rules().values)}"
    return f"{_shown(word)}, but {entry.prefix} takes {_value_says(entry, rules().values)}"


def problem(symbol: str, value: str) -> str | None:
    """Why ``value`` may not be ``symbol``'s (a phrase after the value), or None when it may."""
    kind = rules().rule_for(symbol).kind
    if len(value) > MAX_LENGTH:
        return f"is {len(value)} characters long, more than the {MAX_LENGTH} any BusyBox string needs"
    if not kind.pattern.match(value):
        return kind.says
    if _FORBIDDEN.search(value):
        return 'holds $ ` \\ " or a control character, which make or the shell would run or split'
    if kind.flags is not None:
        for word in value.split(" "):
            if word:
                why = _flag_problem(word, kind.flags)
                if why is not None:
                    return f"has {why}"
    return None


def check_string(symbol: str, value: str, where: str | None = None) -> str:
    """``value`` when ``symbol`` may hold it.

    Raises:
        ValueRangeError: one line naming ``where`` (file:line, if given), the
            symbol, the value and the reason.
    """
    why = problem(symbol, value)
    if why is not None:
        raise _refuse(symbol, value, why, where)
    return value


def check_config_text(text: str, where: str = ".config") -> None:
    """Refuse a ``.config`` text that could run anything when make includes it or a shell sources it.

    Every line must be blank, a comment, ``CONFIG_X=`` with y/n/m or a number,
    or ``CONFIG_X="..."`` whose content passes :func:`check_string`.

    Raises:
        ValueRangeError: naming the line and symbol.
    """
    for lineno, line in enumerate(text.split("\n"), 1):
        at = f"{where}:{lineno}"
        if _CONTROL.search(line):
            raise ValueRangeError(f"{at}: a control character in a .config line; refusing it")
        stripped = line.strip(" ")
        if not stripped:
            continue
        if stripped.startswith("#"):
            # A backslash at the end would make make read the next line as part of this comment.
            if "\\" in stripped:
                raise ValueRangeError(f"{at}: a backslash in a .config comment; refusing it")
            continue
        m = _ASSIGN.match(stripped)
        if not m:
            raise ValueRangeError(f"{at}: not a .config assignment: {_shown(stripped)}; refusing it")
        symbol, raw = m.group(1), m.group(2)
        quoted = _QUOTED.match(raw)
        if quoted:
            check_string(symbol, quoted.group(1), at)
        elif raw.startswith('"'):
            raise _refuse(symbol, raw, 'is not one double-quoted string without \\ or " inside', at)
        elif symbol in rules().symbols:
            raise _refuse(symbol, raw, "is a string and must be in double quotes", at)
        elif not _PLAIN_VALUE.match(raw):
            raise _refuse(symbol, raw, "is not y, n, a number or a double-quoted string", at)
