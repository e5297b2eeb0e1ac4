"""Relinking a built tree with ``zig ld.lld`` and reading its link maps.

kbuild's last link line (``busybox_unstripped.out``, line 2) rerun with ``-v``
prints the real ``ld.lld`` command; rerun with ``-Map=FILE`` it relinks
byte-identically in well under a second. ``--defsym=X_main=0`` drops an
applet at link level: nothing references its code any more, so
``--gc-sections`` removes it and the library code only it used.
"""

from __future__ import annotations

import re
import shlex
import subprocess
from dataclasses import dataclass
from pathlib import Path

from busyconf.errors import BuildError

# VMA LMA Size Align, then Out (1 space), In (9 spaces) or Symbol (17 spaces).
_MAP_LINE = re.compile(r"^\s*[0-9a-f]+\s+[0-9a-f]+\s+([0-9a-f]+)\s+\d+( +)(\S.*)$")
_NOBITS = (".bss", ".tbss", ".comment", ".shstrtab", ".symtab", ".strtab", ".pdr")
#: zig's cache folders in a link map's input names
#: (``/root/.cache/zig/o/<hash>/libc.a(/root/.cache/zig/o/<hash>/getopt_long.o)``): per CPU, machine
#: and compile flags (``-g`` builds another libc).
_ZIG_CACHE = re.compile(r"[^\s()]*/o/[0-9a-f]{32}/")


def object_of(key: str) -> str:
    """``libbb/xfuncs.o`` for ``libbb/xfuncs.o:(.text.xmalloc)``."""
    return key.partition(":(")[0]


def portable(key: str) -> str:
    """A section's name without zig's cache folders: ``libc.a(getopt_long.o):(.text.getopt_long)``."""
    return _ZIG_CACHE.sub("", key)


@dataclass(frozen=True)
class LinkMap:
    """Sizes of the input sections a link kept, by ``file(member):(section)``."""

    sections: dict[str, int]
    file_size: int


def lld_args(obj: Path, zig: Path) -> list[str]:
    """The ``ld.lld`` arguments of the tree's last link (without ``-o``)."""
    out = obj / "busybox_unstripped.out"
    try:
        line = out.read_text().splitlines()[1]
    except (OSError, IndexError):
        raise BuildError(f"{out}: no link line (build the tree first)") from None
    argv = [a for a in shlex.split(line) if not a.startswith(("-Wl,-Map", "-Wl,--verbose"))]
    i = argv.index("-o")
    argv[i + 1] = str(obj / ".size-probe")
    proc = subprocess.run([*argv, "-v"], cwd=obj, capture_output=True, text=True, check=False)
    for text in proc.stderr.splitlines():
        if text.startswith("ld.lld "):
            args = shlex.split(text)[1:]
            j = args.index("-o")
            del args[j : j + 2]
            return args
    raise BuildError(f"{out}: relinking with -v printed no ld.lld command (exit {proc.returncode})")


def read_map(path: Path, file_size: int) -> LinkMap:
    """The kept input sections (those that take file space) of an lld ``-Map`` file."""
    sections: dict[str, int] = {}
    out_name = ""
    for line in path.read_text().splitlines():
        m = _MAP_LINE.match(line)
        if not m:
            continue
        indent = len(m.group(2))
        if indent <= 2:
            out_name = m.group(3).strip()
        elif indent <= 10 and out_name not in _NOBITS:
            key = m.group(3).strip()
            sections[key] = sections.get(key, 0) + int(m.group(1), 16)
    return LinkMap(sections, file_size)
