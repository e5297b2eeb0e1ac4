"""The ``include/autoconf.h`` a calibration compiles with: bool symbols forced on or off.

A hidden symbol that options ``select`` cannot be flipped through Kconfig;
the calibration writes its block as ``conf`` would have (:func:`force_autoconf`).
"""

from __future__ import annotations

from collections.abc import Mapping

from busyconf.errors import BuildError


def _autoconf_block(name: str, on: bool) -> str:
    """What ``conf`` writes into autoconf.h for a bool symbol."""
    if not on:
        return (
            f"#undef CONFIG_{name}\n#define ENABLE_{name} 0\n"
            f"#define IF_{name}(...)\n#define IF_NOT_{name}(...) __VA_ARGS__\n"
        )
    return (
        f"#define CONFIG_{name} 1\n#define ENABLE_{name} 1\n#ifdef MAKE_SUID\n"
        f'# define IF_{name}(...) __VA_ARGS__ "CONFIG_{name}"\n#else\n'
        f"# define IF_{name}(...) __VA_ARGS__\n#endif\n#define IF_NOT_{name}(...)\n"
    )


def force_autoconf(text: str, force: Mapping[str, bool]) -> str:
    """``text`` (an autoconf.h) with the bool symbols in ``force`` set as given."""
    for name, on in force.items():
        for was in (True, False):
            block = _autoconf_block(name, was)
            if block in text:
                text = text.replace(block, _autoconf_block(name, on))
                break
        else:
            raise BuildError(f"autoconf.h: no bool symbol {name} to force")
    return text
