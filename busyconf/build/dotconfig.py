"""Just enough .config handling for the build: read values, set some, vet strings."""

from __future__ import annotations

import re
from collections.abc import Mapping

from busyconf.errors import UserError

_SET = re.compile(r"^CONFIG_([A-Za-z0-9_]+)=(.*)$")
_UNSET = re.compile(r"^# CONFIG_([A-Za-z0-9_]+) is not set$")

# String symbols that end up on make or shell command lines unquoted.
# (CROSS_COMPILER_PREFIX and SYSROOT are not here: the build blanks them.)
COMMAND_LINE_STRINGS: tuple[str, ...] = (
    "EXTRA_CFLAGS",
    "EXTRA_LDFLAGS",
    "EXTRA_LDLIBS",
    "PREFIX",
)
# Characters that let a value escape into make or the shell: $( ` ; | & < > newline ...
_UNSAFE = re.compile(r"[$`;|&<>\\\n\r'\"(){}*?!#~]")


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


def quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _line(symbol: str, value: str) -> str:
    return f"# CONFIG_{symbol} is not set" if value == "n" else f"CONFIG_{symbol}={value}"


def set_values(text: str, changes: Mapping[str, str]) -> str:
    """``text`` with each symbol in ``changes`` rewritten (or appended).

    Values are written as given: ``"y"``, ``"n"`` (becomes ``is not set``),
    ``'"quoted"'`` for strings.
    """
    pending = {k.removeprefix("CONFIG_"): v for k, v in changes.items()}
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


def check_command_line_strings(values: Mapping[str, str]) -> None:
    """Refuse string symbols that could inject commands into make or the shell.

    Raises:
        UserError: naming the first offending symbol.
    """
    for symbol in COMMAND_LINE_STRINGS:
        raw = values.get(symbol)
        if raw is None or raw == "n":
            continue
        content = unquote(raw)
        inner = raw[1:-1] if len(raw) >= 2 and raw[0] == raw[-1] == '"' else raw
        # Check the escaped form too: conf turns "\n" in a string into a newline.
        if _UNSAFE.search(inner) or _UNSAFE.search(content):
            raise UserError(
                f"CONFIG_{symbol}: value {content!r} contains shell or make metacharacters "
                "(such as $( ` ; | & or a newline); refusing to build"
            )
