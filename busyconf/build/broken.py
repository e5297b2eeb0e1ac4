"""Options known not to build, per release, toolchain and CPU (data + a check).

:func:`check` takes the symbol values of a .config (``{"TC": "y", ...}``,
names with or without ``CONFIG_``) and returns one :class:`Problem` per option
whose value is known to break (almost always: enabled; LFS: disabled on a
32-bit CPU); the build refuses them unless the caller asks to drop them, which
sets each to its safe value (:attr:`Problem.safe`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from busyconf.build.arch import in_release_range


@dataclass(frozen=True)
class BrokenOption:
    """One option that does not build under the given conditions.

    ``toolchains``/``arches`` empty means every toolchain kind / every CPU;
    ``min_release``/``max_release`` bound the BusyBox releases (inclusive);
    ``broken_when`` is the value that breaks: ``"y"`` (on) or ``"n"`` (off);
    ``only_with``: other symbols' values (``("TAR", "y")``) without which it builds.
    """

    symbol: str
    reason: str
    fix: str
    broken_when: str = "y"
    toolchains: tuple[str, ...] = ()
    arches: tuple[str, ...] = ()
    min_release: str | None = None
    max_release: str | None = None
    only_with: tuple[tuple[str, str], ...] = ()

    def applies(self, release: str, toolchain: str, arch: str) -> bool:
        if self.toolchains and toolchain not in self.toolchains:
            return False
        if self.arches and arch not in self.arches:
            return False
        return in_release_range(release, self.min_release, self.max_release)


@dataclass(frozen=True)
class Problem:
    """An enabled option that will not build; ``str()`` is a one-line message."""

    symbol: str
    reason: str
    fix: str
    safe: str = "n"

    def __str__(self) -> str:
        return f"CONFIG_{self.symbol}: {self.reason}; fix: {self.fix}"


_OFF = "set it off (or build with drop_broken / --drop-broken)"

BROKEN: tuple[BrokenOption, ...] = (
    BrokenOption("TC", "tc.c uses TCA_CBQ_* which current kernel headers no longer define", _OFF),
    BrokenOption("PAM", "needs libpam, which a static musl build does not have", _OFF),
    BrokenOption("SELINUX", "needs libselinux, which a static musl build does not have", _OFF),
    BrokenOption("EXTRA_COMPAT", "needs GNU regex extensions (re_search) that musl lacks", _OFF),
    BrokenOption("FEATURE_VI_REGEX_SEARCH", "needs GNU regex extensions (re_search) that musl lacks", _OFF),
    BrokenOption("FEATURE_MOUNT_NFS", "needs Sun RPC (rpc/rpc.h), which musl does not ship", _OFF),
    BrokenOption("FEATURE_INETD_RPC", "needs Sun RPC (rpc/rpc.h), which musl does not ship", _OFF),
    BrokenOption("DEBUG_SANITIZE", "needs sanitizer runtimes that static musl toolchains lack", _OFF),
    BrokenOption(
        "FEATURE_2_4_MODULES",
        "Linux 2.4 module loading calls query_module() and create_module(), which musl does not have "
        "(and modutils-24.c has no relocation code for aarch64, riscv64 or loongarch64)",
        _OFF,
    ),
    BrokenOption("EFENCE", "links -lefence, which a static musl build does not have", _OFF),
    BrokenOption("DMALLOC", "links -ldmalloc, which a static musl build does not have", _OFF),
    BrokenOption(
        "LFS",
        "off is refused on a 32-bit CPU: musl's off_t is always 64-bit and BusyBox stops with "
        "BUG_off_t_size_is_misdetected",
        "set it on (or build with drop_broken / --drop-broken)",
        broken_when="n",
        arches=("i386", "armv7", "armv6", "armv5te", "mips", "mipsel", "powerpc"),
    ),
    BrokenOption(
        "DEBUG_PESSIMIZE",
        "at -O0 zig's clang keeps tar's call to data_extract_to_command, which BusyBox leaves to constant "
        "folding and compiles only with FEATURE_TAR_TO_COMMAND: the link fails",
        "set it off, or turn FEATURE_TAR_TO_COMMAND on (or build with drop_broken / --drop-broken)",
        toolchains=("zig",),
        only_with=(("TAR", "y"), ("FEATURE_TAR_TO_COMMAND", "n")),
    ),
    BrokenOption(
        "BUILD_LIBBUSYBOX", "a shared libbusybox needs a dynamic libc; busyconf links statically", _OFF
    ),
    BrokenOption(
        "FEATURE_SHARED_BUSYBOX", "links against a shared libbusybox; busyconf links statically", _OFF
    ),
)


def _enabled(value: str) -> bool:
    return value in ("y", "m")


def _normalise(values: Mapping[str, str]) -> dict[str, str]:
    return {k.removeprefix("CONFIG_"): v for k, v in values.items()}


def check(
    values: Mapping[str, str],
    *,
    release: str,
    toolchain: str = "zig",
    arch: str = "x86_64",
    table: tuple[BrokenOption, ...] = BROKEN,
) -> list[Problem]:
    """Problems for every enabled option in ``values`` known to break.

    Args:
        values: symbol -> value as in a .config (``"y"``, ``"n"``, strings, ints).
        release: BusyBox release, e.g. ``"1.38.0"``.
        toolchain: toolchain kind: ``zig``, ``musl-gcc`` or ``cross``.
        arch: busyconf CPU name.
    """
    vals = _normalise(values)
    return [
        Problem(opt.symbol, opt.reason, opt.fix, safe="y" if opt.broken_when == "n" else "n")
        for opt in table
        if _enabled(vals.get(opt.symbol, "n")) == (opt.broken_when == "y")
        and all(_enabled(vals.get(name, "n")) == (value == "y") for name, value in opt.only_with)
        and opt.applies(release, toolchain, arch)
    ]


def drop(values: Mapping[str, str], problems: list[Problem]) -> dict[str, str]:
    """``values`` with every symbol named in ``problems`` set to its safe value."""
    out = _normalise(values)
    for problem in problems:
        out[problem.symbol] = problem.safe
    return out
