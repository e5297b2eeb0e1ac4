"""Target CPUs, loaded from ``arches.toml`` (data, not code)."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources

from busyconf.errors import UserError
from busyconf.source.releases import version_key


def in_release_range(release: str, min_release: str | None, max_release: str | None) -> bool:
    """Whether ``release`` lies within the (inclusive, optional) bounds."""
    key = version_key(release)
    if min_release and key < version_key(min_release):
        return False
    return not (max_release and key > version_key(max_release))


@dataclass(frozen=True)
class SourcePatch:
    """Replace one exact string in one source file (applied to a private copy)."""

    file: str
    old: str
    new: str


@dataclass(frozen=True)
class Fix:
    """A workaround one CPU needs for a range of BusyBox releases.

    ``zig_link_c``: C source that zig builds compile once and link into every
    program (helpers zig's own libc needs but does not provide on this CPU).
    """

    reason: str
    cflags: tuple[str, ...] = ()
    patch: SourcePatch | None = None
    zig_link_c: str = ""
    min_release: str | None = None
    max_release: str | None = None

    def applies_to(self, release: str) -> bool:
        return in_release_range(release, self.min_release, self.max_release)


@dataclass(frozen=True)
class Arch:
    """One target CPU."""

    name: str
    zig_target: str
    make_arch: str
    cross_prefix: str
    uname_m: str
    qemu: str
    qemu_args: tuple[str, ...] = ()
    cflags: tuple[str, ...] = ()
    zig_cflags: tuple[str, ...] = ()
    needs_llvm_strip: bool = False
    supported: bool = True
    reason: str = ""
    fixes: tuple[Fix, ...] = field(default=())

    def fixes_for(self, release: str) -> tuple[Fix, ...]:
        return tuple(f for f in self.fixes if f.applies_to(release))

    def fix_cflags(self, release: str) -> tuple[str, ...]:
        return tuple(flag for f in self.fixes_for(release) for flag in f.cflags)

    def patches_for(self, release: str) -> tuple[SourcePatch, ...]:
        return tuple(f.patch for f in self.fixes_for(release) if f.patch is not None)

    def zig_link_sources(self, release: str) -> tuple[str, ...]:
        return tuple(f.zig_link_c for f in self.fixes_for(release) if f.zig_link_c)


def _strs(value: object, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"arches.toml: {where} must be a list of strings")
    return tuple(value)


def _fix(raw: dict[str, object], where: str) -> Fix:
    patch = None
    if "patch_file" in raw:
        patch = SourcePatch(str(raw["patch_file"]), str(raw["patch_old"]), str(raw["patch_new"]))
    return Fix(
        reason=str(raw.get("reason", "")),
        cflags=_strs(raw.get("cflags", []), f"{where}.cflags"),
        patch=patch,
        zig_link_c=str(raw.get("zig_link_c", "")),
        min_release=str(raw["min_release"]) if "min_release" in raw else None,
        max_release=str(raw["max_release"]) if "max_release" in raw else None,
    )


@lru_cache(maxsize=1)
def all_arches() -> dict[str, Arch]:
    """Every CPU in ``arches.toml``, by name, in file order."""
    text = resources.files("busyconf.build").joinpath("arches.toml").read_text("utf-8")
    data = tomllib.loads(text)
    shared = tuple(_fix(f, "every_cpu.fixes") for f in data.pop("every_cpu", {}).get("fixes", []))
    out: dict[str, Arch] = {}
    for name, raw in data.items():
        out[name] = Arch(
            name=name,
            zig_target=raw["zig_target"],
            make_arch=raw["make_arch"],
            cross_prefix=raw["cross_prefix"],
            uname_m=raw["uname_m"],
            qemu=raw["qemu"],
            qemu_args=_strs(raw.get("qemu_args", []), f"{name}.qemu_args"),
            cflags=_strs(raw.get("cflags", []), f"{name}.cflags"),
            zig_cflags=_strs(raw.get("zig_cflags", []), f"{name}.zig_cflags"),
            needs_llvm_strip=bool(raw.get("needs_llvm_strip", False)),
            supported=bool(raw.get("supported", True)),
            reason=str(raw.get("reason", "")),
            fixes=shared + tuple(_fix(f, f"{name}.fixes") for f in raw.get("fixes", [])),
        )
    return out


def known_arches(*, supported_only: bool = False) -> list[str]:
    return [a.name for a in all_arches().values() if a.supported or not supported_only]


def get_arch(name: str) -> Arch:
    """The CPU called ``name``; an unknown name is a UserError listing the known ones."""
    arches = all_arches()
    if name not in arches:
        raise UserError(f"unknown arch {name!r}; known: {', '.join(arches)}")
    return arches[name]


def host_arch() -> str | None:
    """The busyconf name of the CPU this machine runs, if it is one we know."""
    import platform

    machine = platform.machine()
    aliases = {"amd64": "x86_64", "arm64": "aarch64", "i686": "i386", "i586": "i386"}
    name = aliases.get(machine, machine)
    return name if name in all_arches() else None
