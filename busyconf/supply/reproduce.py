"""Rebuild a binary from its manifest in a clean tree and compare the two bit for bit.

A manifest is untrusted input (it may come with a binary from anywhere), so every
field is checked before anything runs: names through the validators a profile
passes, the ``busybox.config`` beside it against the manifest's ``config_sha256``
and then through the build gate. Bad input is a :class:`UserError` (exit 2); a
toolchain or busyconf that would build differently is an :class:`EnvError`
(exit 1) raised before compiling; a rebuild that differs is a result, not an error.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import struct
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from busyconf.build import gate
from busyconf.build.arch import get_arch
from busyconf.build.builder import ProgressCallback, build, check_out_dir, source_sha256
from busyconf.build.kbuild import MAKE_ENV
from busyconf.build.manifest import BINARY_NAME, CONFIG_NAME, pinned_config
from busyconf.build.toolchain import check_toolchain_name, is_safe_word, resolve_toolchain
from busyconf.errors import EnvError, UserError, read_user_bytes, read_user_json_object
from busyconf.source import SourceCache
from busyconf.source.releases import RELEASES, check_version

#: A real manifest is a few KB (a defconfig's applet list is the bulk).
MAX_MANIFEST = 1024 * 1024
#: A static BusyBox is 1-3 MB; nothing bigger is one.
MAX_BINARY = 256 * 1024 * 1024

_SHA256 = re.compile(r"^[0-9a-f]{64}$")
# Applet names as BusyBox's table spells them: "[", "[[", "ether-wake", "run-parts".
_APPLET = re.compile(r"^[A-Za-z0-9_.+\[\]-]{1,64}$")
# A dropped option as the build records it: SYMBOL=value.
_DROPPED = re.compile(r"^[A-Za-z0-9_]{1,64}(=[A-Za-z0-9_\"]{0,64})?$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_CONFIG_VERSION = re.compile(r"^# Busybox version: (\S+)", re.M)


@dataclass(frozen=True)
class Recorded:
    """A manifest whose every field was checked, and the ``busybox.config`` it pins."""

    path: Path
    release: str
    arch: str
    toolchain: str
    toolchain_version: str
    config_sha256: str
    binary_sha256: str
    binary_size: int
    applets: tuple[str, ...]
    source_date_epoch: int
    dropped_options: tuple[str, ...]
    source_sha256: str
    compiler_flags: tuple[str, ...]
    make_env: tuple[str, ...]
    busyconf_version: str
    config_text: str

    @property
    def binary(self) -> Path:
        """The binary beside the manifest (it may be missing)."""
        return self.path.parent / BINARY_NAME


@dataclass(frozen=True)
class Difference:
    """Where two binaries first differ."""

    offset: int
    section: str | None
    ours: int | None  # the byte in the binary beside the manifest (None: it ends before)
    rebuilt: int | None

    def describe(self) -> str:
        where = f"byte {self.offset:#x} ({self.offset})"
        if self.section:
            where += f" in {self.section}"
        if self.ours is None:
            return f"{where}: busybox ends there, the rebuild goes on"
        if self.rebuilt is None:
            return f"{where}: the rebuild ends there, busybox goes on"
        return f"{where}: {self.ours:#04x} in busybox, {self.rebuilt:#04x} in the rebuild"


@dataclass(frozen=True)
class RebuildResult:
    """What a rebuild found.

    ``reproduced`` means the rebuild, the binary beside the manifest (when there
    is one) and the manifest's ``binary_sha256`` are all the same bytes.
    """

    manifest: Path
    binary: Path | None
    recorded_sha256: str
    beside_sha256: str | None
    rebuilt_sha256: str
    rebuilt_size: int
    config_reproduced: bool
    difference: Difference | None
    seconds: float
    build_dir: Path
    out_dir: Path | None

    @property
    def reproduced(self) -> bool:
        return (
            self.rebuilt_sha256 == self.recorded_sha256
            and self.beside_sha256 in (None, self.rebuilt_sha256)
            and self.config_reproduced
        )

    def verdict(self) -> str:
        """One sentence: reproduced, or what differs and where."""
        name = str(self.binary) if self.binary else BINARY_NAME
        if self.reproduced:
            beside = f"{name} and " if self.binary else ""
            return (
                f"reproduced: the clean rebuild is bit for bit {beside}the manifest's binary_sha256 "
                f"({self.rebuilt_size:,} bytes, sha256 {self.rebuilt_sha256[:16]}...)"
            )
        where = f" at {self.difference.describe()}" if self.difference else ""
        if not self.config_reproduced:
            return "not reproduced: the rebuild's make oldconfig wrote another .config than the manifest's"
        if self.rebuilt_sha256 == self.recorded_sha256:
            return f"{name} is not the binary the manifest describes (changed after the build){where}"
        if self.beside_sha256 is not None and self.beside_sha256 == self.rebuilt_sha256:
            return f"{name} reproduces, but the manifest's binary_sha256 is another binary's"
        return f"not reproduced: the clean rebuild differs from {name}{where}"

    def to_json(self) -> dict[str, object]:
        diff = self.difference
        return {
            "reproduced": self.reproduced,
            "verdict": self.verdict(),
            "manifest": str(self.manifest),
            "binary": str(self.binary) if self.binary else None,
            "recorded_sha256": self.recorded_sha256,
            "binary_sha256": self.beside_sha256,
            "rebuilt_sha256": self.rebuilt_sha256,
            "rebuilt_size": self.rebuilt_size,
            "config_reproduced": self.config_reproduced,
            "first_difference": None
            if diff is None
            else {
                "offset": diff.offset,
                "section": diff.section,
                "binary": diff.ours,
                "rebuilt": diff.rebuilt,
            },
            "seconds": round(self.seconds, 1),
            "output": str(self.out_dir) if self.out_dir else None,
        }


# -- reading a manifest -------------------------------------------------------------------


def _field(data: dict[str, object], key: str, where: Path) -> object:
    if key not in data:
        raise UserError(f"{where}: no {key} (a manifest written by an older busyconf cannot be rebuilt)")
    return data[key]


def _text(data: dict[str, object], key: str, where: Path, pattern: re.Pattern[str] | None = None) -> str:
    value = _field(data, key, where)
    if not isinstance(value, str):
        raise UserError(f"{where}: {key} is a {type(value).__name__}, not a string")
    if len(value) > 512 or _CONTROL.search(value):
        raise UserError(f"{where}: {key} is longer than 512 characters or holds control characters")
    if pattern is not None and not pattern.match(value):
        raise UserError(f"{where}: {key} {value!r} is not {'a sha256' if pattern is _SHA256 else 'valid'}")
    return value


def _number(data: dict[str, object], key: str, where: Path, top: int) -> int:
    value = _field(data, key, where)
    # bool is an int to Python, never to a manifest.
    if not isinstance(value, int) or isinstance(value, bool):
        raise UserError(f"{where}: {key} is a {type(value).__name__}, not a whole number")
    if not 0 <= value <= top:
        raise UserError(f"{where}: {key} {value} is not between 0 and {top}")
    return value


def _words(
    data: dict[str, object], key: str, where: Path, pattern: re.Pattern[str] | None = None
) -> tuple[str, ...]:
    value = _field(data, key, where)
    if not isinstance(value, list) or len(value) > 4096:
        raise UserError(f"{where}: {key} is not a list (of at most 4096 entries)")
    for item in value:
        if not isinstance(item, str) or len(item) > 512 or _CONTROL.search(item):
            raise UserError(
                f"{where}: {key} holds {type(item).__name__} {str(item)[:40]!r}, not a short string"
            )
        if pattern is not None and not pattern.match(item):
            raise UserError(f"{where}: {key} holds {item[:40]!r}, which is not a valid entry")
    return tuple(value)


def load_manifest(path: Path) -> Recorded:
    """Read and check ``path`` and the ``busybox.config`` beside it.

    Raises:
        UserError: a file that is not a manifest, a field of the wrong type or
            value, an unknown arch or toolchain name, a config whose sha256 is
            not the manifest's or that the build gate refuses.
    """
    data = read_user_json_object(path, MAX_MANIFEST, "a manifest")
    # Fields a rebuild only reports must still be what busyconf writes.
    for key in ("built_at", "verified_with", "reproducer"):
        if key in data:
            _text(data, key, path)
    for key in ("smoke_checks", "make_variables"):
        if key in data:
            _words(data, key, path)
    if "build_seconds" in data and (
        not isinstance(data["build_seconds"], int | float) or isinstance(data["build_seconds"], bool)
    ):
        raise UserError(f"{path}: build_seconds is a {type(data['build_seconds']).__name__}, not a number")

    release = _text(data, "release", path)
    try:
        check_version(release)
    except UserError as e:
        raise UserError(f"{path}: release: {e}") from None
    arch = _text(data, "arch", path)
    toolchain = _text(data, "toolchain", path)
    try:
        get_arch(arch)
        check_toolchain_name(toolchain)
    except UserError as e:
        raise UserError(f"{path}: {e}") from None
    config_sha = _text(data, "config_sha256", path, _SHA256)

    config_path = path.parent / CONFIG_NAME
    config_text = pinned_config(path, config_sha)
    gate.check_config_text(config_text, str(config_path))
    header = _CONFIG_VERSION.search(config_text)
    if header and header.group(1) != release:
        raise UserError(f"{config_path}: made for BusyBox {header.group(1)}, but {path} says {release}")

    return Recorded(
        path=path,
        release=release,
        arch=arch,
        toolchain=toolchain,
        toolchain_version=_text(data, "toolchain_version", path),
        config_sha256=config_sha,
        binary_sha256=_text(data, "binary_sha256", path, _SHA256),
        binary_size=_number(data, "binary_size", path, MAX_BINARY),
        applets=_words(data, "applets", path, _APPLET),
        source_date_epoch=_number(data, "source_date_epoch", path, 253402300799),  # 9999-12-31
        dropped_options=_words(data, "dropped_options", path, _DROPPED),
        source_sha256=_text(data, "source_sha256", path, _SHA256),
        compiler_flags=_words(data, "compiler_flags", path),
        busyconf_version=_text(data, "busyconf_version", path),
        make_env=_words(data, "make_env", path),
        config_text=config_text,
    )


# -- checking this machine ------------------------------------------------------------------


def check_environment(rec: Recorded, cache: SourceCache | None = None) -> Path:
    """The verified source tree to rebuild from, once this machine would build what ``rec`` records.

    Raises:
        UserError: a known release whose tarball sha256 is not the manifest's.
        EnvError: the release is not in the cache (or is another tarball), the
            toolchain's version or busyconf's compiler flags differ.
    """
    cache = cache or SourceCache()
    known = RELEASES.get(rec.release)
    if known is not None and known.sha256 != rec.source_sha256:
        raise UserError(
            f"{rec.path}: source_sha256 {rec.source_sha256[:16]}... is not BusyBox {rec.release}'s "
            f"release tarball ({known.sha256[:16]}...)"
        )
    if not cache.has(rec.release):
        hint = f"busyconf source fetch {rec.release}" if known else "busyconf source add TARBALL --trust"
        raise EnvError(f"BusyBox {rec.release} is not in the cache ({cache.root}); run `{hint}` first")
    tree = cache.tree(rec.release)
    if source_sha256(tree) != rec.source_sha256:
        raise EnvError(
            f"the cache's BusyBox {rec.release} was unpacked from another tarball "
            f"(sha256 {source_sha256(tree)[:16] or 'none'}...) than {rec.path} records"
        )
    arch = get_arch(rec.arch)
    if not arch.supported:
        raise EnvError(f"arch {arch.name} is not supported here: {arch.reason}")
    toolchain = resolve_toolchain(rec.toolchain, arch)
    if toolchain.version != rec.toolchain_version:
        raise EnvError(
            f"toolchain mismatch: {rec.path} was built with {rec.toolchain_version!r}, "
            f"this machine has {toolchain.version!r}; install that version to rebuild"
        )
    env = tuple(
        f"{k}={v}" for k, v in sorted({**MAKE_ENV, "SOURCE_DATE_EPOCH": str(rec.source_date_epoch)}.items())
    )
    if env != rec.make_env:
        raise EnvError(
            f"{rec.path} was built with make's environment {' '.join(rec.make_env)!r}; this busyconf sets "
            f"{' '.join(env)!r}; rebuild with busyconf {rec.busyconf_version or '?'}"
        )
    flags = toolchain.compile_flags(arch, rec.release)
    if flags != rec.compiler_flags:
        first = next(
            (i for i, (a, b) in enumerate(zip(flags, rec.compiler_flags, strict=False)) if a != b),
            min(len(flags), len(rec.compiler_flags)),
        )
        raise EnvError(
            f"busyconf {rec.busyconf_version or '?'} built {rec.path} with other compiler flags than this "
            f"busyconf passes (from flag {first + 1}: {' '.join(rec.compiler_flags[first : first + 3])!r} "
            f"there, {' '.join(flags[first : first + 3])!r} here); rebuild with that busyconf"
        )
    return tree


# -- comparing ------------------------------------------------------------------------------


def first_difference(ours: bytes, rebuilt: bytes) -> Difference | None:
    """Where ``ours`` and ``rebuilt`` first differ (None when they are the same bytes)."""
    if ours == rebuilt:
        return None
    n = min(len(ours), len(rebuilt))
    # Compare in blocks: a byte loop over 1-2 MB is slow in Python.
    offset, step = 0, 4096
    while offset < n and ours[offset : offset + step] == rebuilt[offset : offset + step]:
        offset += step
    while offset < n and ours[offset] == rebuilt[offset]:
        offset += 1
    return Difference(
        offset=offset,
        section=elf_section_at(rebuilt, offset),
        ours=ours[offset] if offset < len(ours) else None,
        rebuilt=rebuilt[offset] if offset < len(rebuilt) else None,
    )


_SHT_NOBITS = 8


def elf_section_at(data: bytes, offset: int) -> str | None:
    """The ELF section (or header) holding file ``offset`` of ``data``, by its section table.

    Reads the same table as ``llvm-readelf -S``; None when ``data`` is no ELF
    file or nothing covers ``offset`` (padding between sections).
    """
    if len(data) < 64 or data[:4] != b"\x7fELF" or data[4] not in (1, 2) or data[5] not in (1, 2):
        return None
    wide = data[4] == 2
    end = "<" if data[5] == 1 else ">"
    try:
        if wide:
            phoff, shoff = struct.unpack_from(end + "QQ", data, 0x20)
            ehsize, phentsize, phnum, shentsize, shnum, shstrndx = struct.unpack_from(end + "6H", data, 0x34)
            entry = end + "IIQQQQ"
        else:
            phoff, shoff = struct.unpack_from(end + "II", data, 0x1C)
            ehsize, phentsize, phnum, shentsize, shnum, shstrndx = struct.unpack_from(end + "6H", data, 0x28)
            entry = end + "IIIIII"
        if offset < ehsize:
            return "the ELF header"
        if phoff <= offset < phoff + phentsize * phnum:
            return "the program headers"
        if shoff <= offset < shoff + shentsize * shnum:
            return "the section headers"
        sections = [struct.unpack_from(entry, data, shoff + i * shentsize) for i in range(shnum)]
        names = sections[shstrndx] if shstrndx < shnum else None
        for name_at, kind, _flags, _addr, start, size in sections:
            if kind != _SHT_NOBITS and start <= offset < start + size:
                if names is None:
                    return "a section"
                base = names[4] + name_at
                stop = data.find(b"\0", base)
                return data[base:stop].decode("ascii", "replace") if stop > base else "a section"
    except struct.error:
        return None
    return None


def _read_binary(path: Path) -> bytes | None:
    """The binary beside the manifest, or None when there is none."""
    if not path.exists() and not path.is_symlink():
        return None
    return read_user_bytes(path, MAX_BINARY, "a BusyBox binary")


# -- rebuilding -----------------------------------------------------------------------------


def rebuild(
    manifest: Path,
    *,
    cache_dir: Path | None = None,
    out_dir: Path | None = None,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
    jobs: int | None = None,
) -> RebuildResult:
    """Build what ``manifest`` records in a fresh build tree and compare the binaries bit for bit.

    The source tree is the cache's verified release; the build tree is a new
    temporary folder under ``cache_dir`` (default the system's temporary
    folder), removed afterwards. With ``out_dir`` the rebuilt ``busybox``,
    ``busybox.config`` and ``manifest.json`` are kept there.
    """
    start = time.monotonic()
    rec = load_manifest(manifest)
    beside = _read_binary(rec.binary)
    if cache_dir is not None and not is_safe_word(str(cache_dir.absolute())):
        raise UserError(f"{cache_dir}: path has characters make cannot handle; choose another --cache")
    if out_dir is not None:
        if out_dir.resolve() == manifest.parent.resolve():
            raise UserError(
                f"-o {out_dir}: the manifest's own folder; the rebuild would replace what it checks"
            )
        check_out_dir(out_dir)
    tree = check_environment(rec)
    if cache_dir is not None:
        try:
            cache_dir.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise UserError(f"{cache_dir}: cannot make the folder ({e.strerror or e})") from None
    root = Path(tempfile.mkdtemp(prefix="busyconf-rebuild-", dir=cache_dir)).absolute()
    try:
        result = build(
            rec.config_text,
            list(rec.applets),
            rec.release,
            rec.arch,
            rec.toolchain,
            out_dir=out_dir if out_dir is not None else root / "out",
            source_tree=tree,
            progress=progress,
            cancel=cancel,
            jobs=jobs,
            build_root=root / "build",
            source_date_epoch=rec.source_date_epoch,
        )
        rebuilt = result.binary.read_bytes()
    finally:
        shutil.rmtree(root, ignore_errors=True)
    rebuilt_sha = hashlib.sha256(rebuilt).hexdigest()
    beside_sha = hashlib.sha256(beside).hexdigest() if beside is not None else None
    return RebuildResult(
        manifest=manifest,
        binary=rec.binary if beside is not None else None,
        recorded_sha256=rec.binary_sha256,
        beside_sha256=beside_sha,
        rebuilt_sha256=rebuilt_sha,
        rebuilt_size=len(rebuilt),
        config_reproduced=result.manifest.config_sha256 == rec.config_sha256,
        difference=first_difference(beside, rebuilt) if beside is not None else None,
        seconds=time.monotonic() - start,
        build_dir=root / "build",
        out_dir=out_dir,
    )
