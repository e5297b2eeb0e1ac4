"""A typed facade over kconfiglib for one BusyBox release's Kconfig tree.

kconfiglib is untyped and stateful: a ``Kconfig`` object holds the current
values of every symbol. :class:`KconfigTree` owns one such object per
release and per process (see :func:`load_tree`); callers hand it a list of
assignments and read back a :class:`~busyconf.model.config.Configuration`.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import kconfiglib

from busyconf.errors import SourceError, UnknownSymbolError
from busyconf.model import kconfig_cache
from busyconf.source import SourceCache

TYPE_NAMES = {
    kconfiglib.BOOL: "bool",
    kconfiglib.TRISTATE: "tristate",
    kconfiglib.STRING: "string",
    kconfiglib.INT: "int",
    kconfiglib.HEX: "hex",
}

#: BusyBox's applet table, relative to the Kconfig folder.
APPLETS_H = "include/applets.h"
_APPLET_LINE = re.compile(r"^((?:IF_\w+\(\s*)+)(APPLET\w*)\(\s*([^,\s]+)\s*,\s*([^,\s)]+)([^)]*)\)")
_IF_NAME = re.compile(r"IF_(NOT_)?(\w+)\(")
_HASH_IF = re.compile(r"^#if\s+(ENABLE_\w+(?:\s*\|\|\s*ENABLE_\w+)*)\s*$")


@dataclass(frozen=True)
class Applet:
    """One entry of BusyBox's applet table (``include/applets.h``).

    The applet is built when every symbol in ``requires`` is ``y``, none in
    ``excludes`` is (``IF_NOT_X``), and, if ``any_of`` is not empty, at least
    one of those is ``y`` too. ``requires[0]`` is the applet's own symbol.
    ``main`` is the C function it runs (``ash_main`` for ``sh`` when ash is
    sh), None for a scripted applet. ``usage`` is the prefix of its usage
    macros in ``include/usage.h`` (``mkpasswd`` shares ``cryptpw``'s).
    """

    name: str
    requires: tuple[str, ...]
    any_of: tuple[str, ...] = ()
    excludes: tuple[str, ...] = ()
    main: str | None = None
    usage: str = ""

    def enabled(self, values: Mapping[str, str]) -> bool:
        if not all(values.get(s) == "y" for s in self.requires):
            return False
        if any(values.get(s) == "y" for s in self.excludes):
            return False
        return not self.any_of or any(values.get(s) == "y" for s in self.any_of)


def parse_applet_table(text: str) -> list[Applet]:
    """Read the ``IF_X(APPLET...(name, ...))`` lines of a generated applets.h."""
    out: list[Applet] = []
    any_of: tuple[str, ...] = ()
    for line in text.splitlines():
        line = line.strip()
        m = _HASH_IF.match(line)
        if m:
            any_of = tuple(s.strip()[len("ENABLE_") :] for s in m.group(1).split("||"))
            continue
        if line.startswith("#endif"):
            any_of = ()
            continue
        m = _APPLET_LINE.match(line)
        if m:
            conds = _IF_NAME.findall(m.group(1))
            requires = tuple(name for neg, name in conds if not neg)
            excludes = tuple(name for neg, name in conds if neg)
            kind, name, second = m.group(2), m.group(3), m.group(4)
            main = None if kind == "APPLET_SCRIPTED" else f"{name if kind == 'APPLET' else second}_main"
            usage = name if kind == "APPLET" else m.group(5).split(",")[-1].strip()
            out.append(Applet(name, requires, any_of, excludes, main, usage))
    return out


@dataclass(frozen=True)
class SymbolInfo:
    """What a person wants to know about one symbol."""

    name: str
    type: str
    value: str
    prompt: str | None
    help: str
    menu_path: tuple[str, ...]
    locations: tuple[str, ...]
    applets: tuple[str, ...] = field(default=())
    depends_on: str = ""
    selected_by: str = ""
    implied_by: str = ""
    choices: tuple[str, ...] = ()

    @property
    def is_applet(self) -> bool:
        return bool(self.applets)


#: Handed to kconfiglib as its ``KCONFIG_FUNCTIONS`` module: no extra preprocessor
#: functions. Without it kconfiglib imports any ``kconfigfunctions.py`` on
#: ``sys.path``, which under ``python -m busyconf`` includes the current folder.
functions: dict[str, object] = {}


class _UntrustedKconfig(kconfiglib.Kconfig):  # type: ignore[misc]
    """kconfiglib's parser for a tree nobody vouched for.

    kconfiglib's preprocessor runs ``$(shell,...)``, prints ``$(info,...)``
    and reads any environment variable ``$(NAME)`` while it parses, and
    ``source`` opens any path. BusyBox's Kconfig files use none of that, so
    here every macro call and every file outside the tree is refused, at the
    line that asks for it, before it has any effect.
    """

    __slots__ = ()

    def _fn_val(self, args: list[str]) -> str:
        call = ",".join(args)[:60]
        raise kconfiglib.KconfigError(
            f"{self.filename}:{self.linenr}: preprocessor call $({call}) (it could run a command "
            "or read the environment)"
        )

    def _enter_file(self, filename: str) -> None:
        root = os.path.realpath(os.environ.get("srctree") or ".")
        if not os.path.realpath(filename).startswith(root + os.sep):
            raise kconfiglib.KconfigError(
                f"{self.filename}:{self.linenr}: sources {filename!r}, outside the tree"
            )
        super()._enter_file(filename)


class KconfigTree:
    """One parsed BusyBox Kconfig tree, shared by every thread of a process.

    Its symbols' values and visibility are one mutable state. Read them only
    inside :meth:`applied`, which sets the values you name and holds the tree
    until the block ends; what a symbol *is* (type, dependencies, choice,
    menu place) never changes and needs no hold.

    ``trusted`` (a tree added with ``--trust``) lets kconfiglib's preprocessor
    run as it would for the kernel; otherwise it may not run or read anything.
    """

    def __init__(self, release: str, kconfig_dir: Path, src_dir: Path, *, trusted: bool = False) -> None:
        self.release = release
        self.kconfig_dir = kconfig_dir
        self.src_dir = src_dir
        self._lock = threading.RLock()
        self._stack: list[Sequence[tuple[str, str]]] = []
        self.applets: list[Applet]
        cached = kconfig_cache.load(kconfig_dir, trusted)
        if cached is not None:
            self.kconf, self.applets = cached
        else:
            self.kconf = _parse(release, kconfig_dir, trusted)
            if not trusted:
                _refuse_env_options(self.kconf, release)
            self.applets = parse_applet_table((kconfig_dir / APPLETS_H).read_text())
            kconfig_cache.save(kconfig_dir, trusted, self.kconf, self.applets, read=[APPLETS_H])
        # kconfiglib warns on every value it has to ignore; we explain those
        # ourselves, and its list would only grow in a long TUI session.
        self.kconf.warn = False
        self._applets_by_sym: dict[str, list[str]] = {}
        for a in self.applets:
            names = self._applets_by_sym.setdefault(a.requires[0], [])
            if a.name not in names:
                names.append(a.name)

    # -- symbols ---------------------------------------------------------
    @cached_property
    def symbols(self) -> dict[str, kconfiglib.Symbol]:
        """Every defined symbol, in Kconfig order."""
        return {s.name: s for s in self.kconf.unique_defined_syms if s.orig_type in TYPE_NAMES}

    def sym(self, name: str) -> kconfiglib.Symbol:
        """The symbol ``name`` (with or without ``CONFIG_``) or a clear error."""
        key = name[len("CONFIG_") :] if name.startswith("CONFIG_") else name
        try:
            return self.symbols[key]
        except KeyError:
            hint = _close_names(key, self.symbols)
            raise UnknownSymbolError(
                f"unknown symbol {key} (not in BusyBox {self.release})"
                + (f"; did you mean {hint}?" if hint else "")
            ) from None

    def has(self, name: str) -> bool:
        return name in self.symbols

    def type_of(self, name: str) -> str:
        return TYPE_NAMES[self.sym(name).orig_type]

    def applets_of(self, name: str) -> tuple[str, ...]:
        """Applet names this symbol switches on (``LS`` -> ``("ls",)``)."""
        return tuple(self._applets_by_sym.get(name, ()))

    def is_applet(self, name: str) -> bool:
        return name in self._applets_by_sym

    def enabled_applets(self, values: Mapping[str, str]) -> list[str]:
        """Applet names built for ``values``, sorted as ``busybox --list`` prints them."""
        return sorted({a.name for a in self.applets if a.enabled(values)})

    def info(self, name: str) -> SymbolInfo:
        sym = self.sym(name)
        nodes = sym.nodes
        prompt = next((n.prompt[0] for n in nodes if n.prompt), None)
        help_text = "\n\n".join(n.help for n in nodes if n.help)
        choice = next((n.parent.item for n in nodes if isinstance(n.parent.item, kconfiglib.Choice)), None)
        return SymbolInfo(
            name=sym.name,
            type=TYPE_NAMES[sym.orig_type],
            value=sym.str_value,
            prompt=prompt,
            help=help_text,
            menu_path=menu_path(nodes[0]),
            locations=tuple(f"{self.source_file(n)}:{n.linenr}" for n in nodes),
            applets=self.applets_of(sym.name),
            depends_on=_expr(sym.direct_dep),
            selected_by=_expr(sym.rev_dep),
            implied_by=_expr(sym.weak_rev_dep),
            choices=tuple(s.name for s in choice.syms) if choice is not None else (),
        )

    def source_file(self, node: kconfiglib.MenuNode) -> str:
        """Where a node is defined, relative to the source tree."""
        return (
            os.path.relpath(node.filename, self.kconfig_dir)
            if os.path.isabs(node.filename)
            else node.filename
        )

    def menu_nodes(self) -> Iterator[kconfiglib.MenuNode]:
        """Every menu node in tree order (what ``conf`` walks when writing)."""
        node = self.kconf.top_node.list
        while node is not None:
            yield node
            if node.list is not None:
                node = node.list
                continue
            while node is not None and node.next is None:
                node = node.parent
                if node is self.kconf.top_node:
                    return
            if node is None:
                return
            node = node.next

    # -- values ----------------------------------------------------------
    @contextmanager
    def applied(self, assignments: Sequence[tuple[str, str]]) -> Iterator[None]:
        """Hold the tree with ``assignments`` applied; read values and visibility inside the block.

        Blocks nest (in the same thread): an inner block applies its own
        values, and the outer block's are applied again when it ends.
        """
        with self._lock:
            self._apply(assignments)
            self._stack.append(assignments)
            try:
                yield
            finally:
                self._stack.pop()
                if self._stack:
                    self._apply(self._stack[-1])

    def _apply(self, assignments: Sequence[tuple[str, str]]) -> None:
        """Reset every value, then set ``assignments`` as user values, in order."""
        kconf = self.kconf
        kconf.unset_values()
        for name, value in assignments:
            sym = self.symbols.get(name)
            if sym is None:
                raise UnknownSymbolError(f"unknown symbol {name} (not in BusyBox {self.release})")
            sym.set_value(value)

    def values(self) -> dict[str, str]:
        """The value of every symbol, as BusyBox's ``conf`` writes it (inside :meth:`applied`).

        kconfiglib gives an int without a value as ""; ``conf`` writes 0, and
        a configuration must compare equal to what lands in the .config.
        """
        out = {}
        for name, sym in self.symbols.items():
            value = sym.str_value
            if not value and sym.orig_type == kconfiglib.INT:
                value = "0"
            out[name] = value
        return out


def _parse(release: str, kconfig_dir: Path, trusted: bool) -> kconfiglib.Kconfig:
    """kconfiglib's parse of ``kconfig_dir/Config.in``, its errors as one SourceError line."""
    parser = kconfiglib.Kconfig if trusted else _UntrustedKconfig
    saved = {k: os.environ.get(k) for k in ("srctree", "KCONFIG_FUNCTIONS")}
    os.environ["srctree"] = str(kconfig_dir)
    os.environ["KCONFIG_FUNCTIONS"] = __name__
    try:
        return parser(str(kconfig_dir / "Config.in"), warn_to_stderr=False)
    except (kconfiglib.KconfigError, OSError) as e:
        first = next((line for line in str(e).splitlines() if line.strip()), type(e).__name__)
        how = "" if trusted else " (untrusted tree: `busyconf source add PATH --trust` allows it)"
        raise SourceError(f"BusyBox {release} Kconfig: {first.strip()}{how}") from None
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _refuse_env_options(kconf: kconfiglib.Kconfig, release: str) -> None:
    """``option env=NAME`` copies an environment variable into a default: not from an untrusted tree."""
    for sym in kconf.unique_defined_syms:
        if sym.env_var is not None:
            node = sym.nodes[0]
            raise SourceError(
                f"BusyBox {release} Kconfig: {node.filename}:{node.linenr}: {sym.name} reads the "
                f"environment variable {sym.env_var} (untrusted tree: `busyconf source add PATH --trust` "
                "allows it)"
            )


def menu_path(node: kconfiglib.MenuNode) -> tuple[str, ...]:
    parts = []
    parent = node.parent
    while parent is not None and parent is not node.kconfig.top_node:
        if parent.prompt:
            parts.append(parent.prompt[0])
        parent = parent.parent
    return tuple(reversed(parts))


def _expr(expr: object) -> str:
    """An expression as Kconfig text; "" for a plain constant (no condition)."""
    if isinstance(expr, kconfiglib.Symbol) and expr.is_constant:
        return ""
    return str(kconfiglib.expr_str(expr))


def _close_names(key: str, names: Mapping[str, object]) -> str:
    import difflib

    found = difflib.get_close_matches(key.upper(), list(names), n=1, cutoff=0.8)
    return found[0] if found else ""


_TREES: dict[tuple[Path, str], KconfigTree] = {}
_TREES_LOCK = threading.Lock()


def load_tree(release: str, cache: SourceCache | None = None) -> KconfigTree:
    """The Kconfig tree of ``release``, parsed once per process."""
    cache = cache or SourceCache()
    key = (cache.root, release)
    with _TREES_LOCK:
        tree = _TREES.get(key)
        if tree is None:
            tree = KconfigTree(
                release, cache.kconfig_dir(release), cache.tree(release), trusted=cache.trusted(release)
            )
            _TREES[key] = tree
        return tree
