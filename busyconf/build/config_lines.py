"""Just enough .config handling for the build: read values, set some (strings are vetted in gate.py)."""

from __future__ import annotations

import re
from collections.abc import Mapping

from busyconf.errors import UserError

_SET = re.compile(r"^CONFIG_([A-Za-z0-9_]+)=(.*)$")
_UNSET = re.compile(r"^# CONFIG_([A-Za-z0-9_]+) is not set$")

# Line breaks and other control characters: one in a value would start a new
# .config line, which make and the shell read as code.
_CONTROL = re.compile(r"[\x00-\x1f\x7f\x85\u2028\u2029]")


def parse(text: str) -> dict[str, str]:
    """Symbol (without ``CONFIG_``) -> value as written; ``is not set`` -> ``"n"``."""
    values: dict[str, str] = {}
    for line in text.splitlines():
        line = line.strip()
        m = _SET.match(line)
        if m:
            values[m.group(1)] = m.group(2)
            continue
        m = _UNSET.match(line)
        if m:
            values[m.group(1)] = "n"
    return values


def unquote(value: str) -> str:
    """The content of a .config string value (``"a\\"b"`` -> ``a"b``)."""
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return re.sub(r"\\(.)", r"\1", value[1:-1])
    return value


def _no_line_break(what: str, value: str) -> None:
    if _CONTROL.search(value):
        raise UserError(f"{what}: {value[:60]!r} holds a line break or control character; refusing it")


def quote(value: str) -> str:
    """``value`` as a .config string (refusing a line break, which would end the line)."""
    _no_line_break("a .config string", value)
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _line(symbol: str, value: str) -> str:
    return f"# CONFIG_{symbol} is not set" if value == "n" else f"CONFIG_{symbol}={value}"


def set_values(text: str, changes: Mapping[str, str]) -> str:
    """``text`` with each symbol in ``changes`` rewritten (or appended).

    Values are written as given: ``"y"``, ``"n"`` (becomes ``is not set``),
    ``'"quoted"'`` for strings.
    """
    pending = {k.removeprefix("CONFIG_"): v for k, v in changes.items()}
    for symbol, value in pending.items():
        _no_line_break(f"CONFIG_{symbol}", value)
    out: list[str] = []
    for line in text.splitlines():
        stripped = line.strip()
        m = _SET.match(stripped) or _UNSET.match(stripped)
        if m and m.group(1) in pending:
            out.append(_line(m.group(1), pending.pop(m.group(1))))
        else:
            out.append(line)
    out.extend(_line(sym, val) for sym, val in pending.items())
    return "\n".join(out) + "\n"
