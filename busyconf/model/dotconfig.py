"""Reading and writing BusyBox ``.config`` files.

Reading is strict: every line must be a comment, a blank line,
``CONFIG_X=value`` or ``# CONFIG_X is not set``, and every value must suit its
symbol's type and range, or a :class:`~busyconf.errors.UserError` names the
file and line.

Writing copies what BusyBox's own ``conf`` writes (``scripts/kconfig/
confdata.c``): every symbol of every menu node, unmet ones included, so that
BusyBox's ``make oldconfig`` leaves the file exactly as it is.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import kconfiglib

from busyconf.build.gate import check_string
from busyconf.errors import ConfigSyntaxError, UnknownSymbolError, ValueRangeError
from busyconf.model.kconfig import KconfigTree

_SET = re.compile(r"^CONFIG_([A-Za-z0-9_]+)=(.*)$")
_UNSET = re.compile(r"^# CONFIG_([A-Za-z0-9_]+) is not set\s*$")
_HEADER_VERSION = re.compile(r"^# Busybox version: (\S+)\s*$")
_INT = re.compile(r"^-?\d+$")
_HEX = re.compile(r"^(0[xX])?[0-9a-fA-F]+$")


@dataclass
class DotConfig:
    """The assignments of a ``.config`` file, in file order."""

    assignments: list[tuple[str, str]]
    version: str | None = None
    dropped: list[str] = field(default_factory=list)


def unescape_string(raw: str, where: str) -> str:
    """Undo ``conf``'s quoting of a string value (``"a\\"b"`` -> ``a"b``)."""
    if len(raw) < 2 or not raw.startswith('"'):
        raise ConfigSyntaxError(f"{where}: string value must be in double quotes")
    out = []
    i = 1
    while i < len(raw):
        c = raw[i]
        if c == "\\" and i + 1 < len(raw):
            out.append(raw[i + 1])
            i += 2
            continue
        if c == '"':
            if raw[i + 1 :].strip():
                raise ConfigSyntaxError(f"{where}: text after the closing quote")
            return "".join(out)
        out.append(c)
        i += 1
    raise ConfigSyntaxError(f"{where}: unterminated string")


def escape_string(value: str) -> str:
    """``value`` in ``conf``'s quoting; a line break would end the .config line, so it is refused."""
    if "\n" in value or "\r" in value:
        raise ValueRangeError(f"{value[:60]!r}: a line break cannot be written into .config; refusing it")
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def subject(where: str, name: str) -> str:
    """How an error names the symbol: ``where: NAME``, or ``NAME`` alone when ``where`` is the name."""
    return name if where == name else f"{where}: {name}"


def check_value(tree: KconfigTree, name: str, value: str, where: str) -> str:
    """Check ``value`` (kconfiglib form) against ``name``'s type.

    Ranges depend on other symbols' values: see :func:`check_ranges`.
    """
    sym = tree.sym(name)
    kind = sym.orig_type
    if kind in (kconfiglib.BOOL, kconfiglib.TRISTATE):
        if value not in ("y", "n", "m"):
            raise ValueRangeError(f"{subject(where, name)} is a bool; {value!r} is not y or n")
        if value == "m":
            raise ValueRangeError(f"{subject(where, name)}: BusyBox has no modules, 'm' is not allowed")
        return value
    if kind == kconfiglib.INT:
        if not _INT.match(value):
            raise ValueRangeError(f"{subject(where, name)} is an int; {value!r} is not a number")
        return value
    if kind == kconfiglib.HEX:
        if not _HEX.match(value):
            raise ValueRangeError(f"{subject(where, name)} is hex; {value!r} is not a hex number")
        return value
    return value


def check_ranges(
    tree: KconfigTree, assignments: Sequence[tuple[str, str]], where: Callable[[str], str]
) -> None:
    """Refuse int/hex values outside their active range.

    Call inside :meth:`KconfigTree.applied` with ``assignments`` among the
    values. Only symbols that can be set count: BusyBox writes ``0`` for an
    int whose dependencies are off.
    """
    for name, value in assignments:
        sym = tree.symbols[name]
        if sym.orig_type in (kconfiglib.INT, kconfiglib.HEX) and sym.visibility and value:
            base = 16 if sym.orig_type == kconfiglib.HEX else 10
            _check_range(sym, int(value, base), value, where(name))


def _check_range(sym: kconfiglib.Symbol, number: int, text: str, where: str) -> None:
    base = 16 if sym.orig_type == kconfiglib.HEX else 10
    for low_expr, high_expr, cond in sym.ranges:
        if kconfiglib.expr_value(cond):
            try:
                low = int(low_expr.str_value, base)
                high = int(high_expr.str_value, base)
            except ValueError:
                return
            if not low <= number <= high:
                fmt = hex if base == 16 else str
                raise ValueRangeError(
                    f"{where}: {sym.name}={text} is out of its range {fmt(low)}..{fmt(high)}"
                )
            return


def parse_dotconfig(text: str, filename: str, tree: KconfigTree, drop_unknown: bool = False) -> DotConfig:
    """Parse ``.config`` text strictly against ``tree``.

    Unknown symbols are an error unless ``drop_unknown``, which lists them in
    :attr:`DotConfig.dropped` instead.
    """
    result = DotConfig(assignments=[])
    seen: dict[str, int] = {}
    for lineno, line in enumerate(text.splitlines(), 1):
        where = f"{filename}:{lineno}"
        stripped = line.strip()
        if not stripped:
            continue
        m = _UNSET.match(stripped)
        if m:
            name, value = m.group(1), "n"
        elif stripped.startswith("#"):
            v = _HEADER_VERSION.match(stripped)
            if v and result.version is None:
                result.version = v.group(1)
            continue
        else:
            m = _SET.match(stripped)
            if not m:
                # Never quote the line: the file may be anything (a base naming /etc/shadow).
                raise ConfigSyntaxError(f"{where}: malformed line (not CONFIG_NAME=value or a # comment)")
            name, value = m.group(1), m.group(2).strip()
        if not tree.has(name):
            if drop_unknown:
                result.dropped.append(name)
                continue
            raise UnknownSymbolError(
                f"{where}: unknown symbol CONFIG_{name} (not in BusyBox {tree.release}); "
                "use --drop-unknown to drop such symbols"
            )
        if tree.symbols[name].orig_type == kconfiglib.STRING and not _UNSET.match(stripped):
            value = check_string(name, unescape_string(value, where), where)
        elif tree.symbols[name].orig_type == kconfiglib.STRING:
            value = ""
        elif _UNSET.match(stripped) and tree.symbols[name].orig_type in (kconfiglib.INT, kconfiglib.HEX):
            # conf ignores "is not set" for a number; so do we.
            continue
        else:
            value = check_value(tree, name, value, where)
        if name in seen:
            result.assignments = [(n, v) for n, v in result.assignments if n != name]
        seen[name] = lineno
        result.assignments.append((name, value))
    with tree.applied(result.assignments):
        check_ranges(tree, result.assignments, lambda n: f"{filename}:{seen[n]}")
    return result


def dotconfig_text(
    tree: KconfigTree, assignments: Sequence[tuple[str, str]], version: str | None = None
) -> str:
    """The .config BusyBox's ``conf`` writes for ``assignments`` (see :func:`write_dotconfig`)."""
    with tree.applied(assignments):
        return write_dotconfig(tree, version)


def write_dotconfig(tree: KconfigTree, version: str | None = None) -> str:
    """The values applied now (inside :meth:`KconfigTree.applied`) as BusyBox's ``conf`` writes them.

    The timestamp line is left out (as with ``KCONFIG_NOTIMESTAMP``) so the
    output depends on the configuration alone.
    """
    out = [
        "#\n",
        "# Automatically generated make config: don't edit\n",
        f"# Busybox version: {version or tree.release}\n",
        "#\n",
    ]
    add = out.append
    for node in tree.menu_nodes():
        item = node.item
        if isinstance(item, kconfiglib.Symbol):
            add(_config_line(item))
        elif item in (kconfiglib.MENU, kconfiglib.COMMENT):
            if node.prompt and kconfiglib.expr_value(node.prompt[1]):
                add(f"\n#\n# {node.prompt[0]}\n#\n")
    return "".join(out)


def _config_line(sym: kconfiglib.Symbol) -> str:
    val = sym.str_value
    kind = sym.orig_type
    if kind in (kconfiglib.BOOL, kconfiglib.TRISTATE):
        if val == "n":
            return f"# CONFIG_{sym.name} is not set\n"
        return f"CONFIG_{sym.name}={val}\n"
    if kind == kconfiglib.STRING:
        return f"CONFIG_{sym.name}={escape_string(check_string(sym.name, val))}\n"
    if kind == kconfiglib.INT:
        return f"CONFIG_{sym.name}={val or '0'}\n"
    return f"CONFIG_{sym.name}={val}\n"
