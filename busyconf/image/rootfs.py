"""A root filesystem from a built BusyBox: as a directory or a reproducible tarball.

The tree holds ``/bin/busybox``, one relative symlink per applet at the path
BusyBox itself installs it to (``busybox --list-full``, run natively or under
qemu-user), a minimal ``/etc`` as docker-library's busybox images have it
(passwd, group, ``shadow`` 0600 with every password locked, ``localtime`` UTC),
``/root``, ``/tmp`` (1777) and the usual mount points. Tarball entries are sorted and owned by 0:0, with
every mtime set to ``SOURCE_DATE_EPOCH``: the same binary gives the same bytes.
"""

from __future__ import annotations

import io
import os
import posixpath
import re
import shutil
import struct
import subprocess
import tarfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from busyconf.build.arch import get_arch
from busyconf.build.verify import runner_for
from busyconf.errors import BuildError, UserError

DIR = "dir"
FILE = "file"
SYMLINK = "symlink"

#: Directories every rootfs has, with their modes.
BASE_DIRS: dict[str, int] = {
    "bin": 0o755,
    "dev": 0o755,
    "etc": 0o755,
    "proc": 0o755,
    "root": 0o700,
    "sbin": 0o755,
    "sys": 0o755,
    "tmp": 0o1777,
    "usr": 0o755,
    "usr/bin": 0o755,
    "usr/sbin": 0o755,
}


@dataclass(frozen=True)
class Entry:
    """One file system object; ``path`` is relative, without a leading slash."""

    path: str
    kind: str
    mode: int
    data: bytes = b""
    target: str = ""


@dataclass(frozen=True)
class Rootfs:
    """The entries of a root file system, sorted by path, and their common mtime."""

    entries: tuple[Entry, ...]
    mtime: int
    applets: tuple[str, ...]

    @property
    def has_shell(self) -> bool:
        return "sh" in self.applets

    def entry(self, path: str) -> Entry | None:
        return next((e for e in self.entries if e.path == path), None)


_DIRS = {
    "BB_DIR_ROOT": "",
    "BB_DIR_BIN": "bin",
    "BB_DIR_SBIN": "sbin",
    "BB_DIR_USR_BIN": "usr/bin",
    "BB_DIR_USR_SBIN": "usr/sbin",
}
_APPLET_DIR = re.compile(r"APPLET\w*\(\s*([^,\s]+)\s*,(?:[^,]*,)??\s*(BB_DIR_\w+)")


def install_dirs(applets_h: str) -> dict[str, str]:
    """Applet name -> install directory, from a generated ``include/applets.h``."""
    out: dict[str, str] = {}
    for line in applets_h.splitlines():
        m = _APPLET_DIR.search(line)
        if m and m.group(2) in _DIRS:
            out.setdefault(m.group(1), _DIRS[m.group(2)])
    return out


def list_full(binary: Path, arch: str, release: str | None = None) -> list[str]:
    """Every applet's install path (``usr/bin/awk``), as ``busybox --list-full`` prints it.

    Without ``FEATURE_INSTALLER`` BusyBox prints bare names; the directories
    then come from the release's applet table, the same data BusyBox compiles in.
    """
    prefix = runner_for(get_arch(arch))
    try:
        proc = subprocess.run(
            [*prefix, str(binary), "--list-full"], capture_output=True, timeout=60, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise BuildError(f"{binary}: cannot run --list-full: {exc}") from exc
    if proc.returncode != 0:
        raise UserError(
            f"{binary}: `busybox --list-full` failed (exit {proc.returncode}); "
            "the profile needs BUSYBOX = true to install its applet links"
        )
    paths = [line.strip().lstrip("/") for line in proc.stdout.decode().splitlines() if line.strip()]
    if paths and not any("/" in p for p in paths):
        dirs = _release_dirs(release)
        paths = [posixpath.join(dirs.get(p, "bin"), p) for p in paths]
    for p in paths:
        if ".." in p.split("/") or not p:
            raise BuildError(f"{binary}: --list-full printed an unsafe path {p!r}")
    return paths


def _release_dirs(release: str | None) -> dict[str, str]:
    if release is None:
        raise UserError("busybox --list-full printed no directories and no release was given to look them up")
    from busyconf.source import SourceCache

    path = SourceCache().kconfig_dir(release) / "include" / "applets.h"
    return install_dirs(path.read_text())


def _passwd(shell: str) -> bytes:
    root = f"root:x:0:0:root:/root:{shell}\n"
    return (root + "nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n").encode()


def _group() -> bytes:
    return b"root:x:0:\nnobody:x:65534:\n"


def _shadow() -> bytes:
    """Every account locked: ``*`` is no crypt(3) result, so no password logs in.

    docker-library writes ``root:*:`` over Buildroot's empty root password
    (CVE-2019-5021, an empty root password in Alpine's images).
    """
    return b"root:*:::::::\nnobody:*:::::::\n"


def utc_tzif() -> bytes:
    """``/usr/share/zoneinfo/UTC`` (TZif version 2, 114 bytes), built here so the layer is the same anywhere.

    One local time type (offset 0, not DST, abbreviation ``UTC``), no
    transitions, and the POSIX TZ footer ``UTC0``.
    """
    counts = struct.pack(">6l", 0, 0, 0, 0, 1, 4)  # isut, isstd, leap, time, type, char
    block = b"TZif2" + bytes(15) + counts + struct.pack(">lBB", 0, 0, 0) + b"UTC\0"
    return block + block + b"\nUTC0\n"


def make_rootfs(
    binary: Path,
    arch: str,
    mtime: int,
    links: Iterable[str] | None = None,
    release: str | None = None,
    files: Mapping[str, bytes] | None = None,
) -> Rootfs:
    """The rootfs for ``binary`` (built for ``arch``); ``links`` defaults to ``--list-full``.

    ``files`` adds regular files (mode 0644) by relative path, such as the SBOM
    under ``usr/share/doc/busybox``; they may not replace anything the rootfs has.
    """
    paths = sorted(set(links if links is not None else list_full(binary, arch, release)))
    applets = tuple(sorted({posixpath.basename(p) for p in paths}))
    shell = "/bin/sh" if "sh" in applets else "/bin/false"
    entries: dict[str, Entry] = {p: Entry(p, DIR, m) for p, m in BASE_DIRS.items()}
    entries["bin/busybox"] = Entry("bin/busybox", FILE, 0o755, binary.read_bytes())
    entries["etc/passwd"] = Entry("etc/passwd", FILE, 0o644, _passwd(shell))
    entries["etc/group"] = Entry("etc/group", FILE, 0o644, _group())
    # 0600 as Buildroot's device table (which docker-library applies) gives it.
    entries["etc/shadow"] = Entry("etc/shadow", FILE, 0o600, _shadow())
    entries["etc/localtime"] = Entry("etc/localtime", FILE, 0o644, utc_tzif())

    def add_parents(p: str) -> None:
        parent = posixpath.dirname(p)
        while parent and parent not in entries:
            entries[parent] = Entry(parent, DIR, 0o755)
            parent = posixpath.dirname(parent)

    for p in paths:
        if p == "bin/busybox":
            continue
        add_parents(p)
        target = posixpath.relpath("bin/busybox", posixpath.dirname(p) or ".")
        entries[p] = Entry(p, SYMLINK, 0o777, target=target)
    for p, data in sorted((files or {}).items()):
        if p in entries or p.startswith("/") or ".." in p.split("/") or not posixpath.basename(p):
            raise UserError(f"rootfs: cannot add {p!r}: not a new relative file path")
        add_parents(p)
        entries[p] = Entry(p, FILE, 0o644, data)
    return Rootfs(tuple(entries[k] for k in sorted(entries)), mtime, applets)


def _tarinfo(entry: Entry, mtime: int) -> tarfile.TarInfo:
    info = tarfile.TarInfo(entry.path)
    info.mtime = mtime
    info.uid = info.gid = 0
    info.uname = info.gname = "root"
    info.mode = entry.mode
    if entry.kind == DIR:
        info.type = tarfile.DIRTYPE
    elif entry.kind == SYMLINK:
        info.type = tarfile.SYMTYPE
        info.linkname = entry.target
    else:
        info.type = tarfile.REGTYPE
        info.size = len(entry.data)
    return info


def write_tar(rootfs: Rootfs, fileobj: BinaryIO) -> None:
    """Write ``rootfs`` as a POSIX (pax) tar stream with sorted, normalised entries."""
    with tarfile.open(fileobj=fileobj, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for entry in rootfs.entries:
            info = _tarinfo(entry, rootfs.mtime)
            tar.addfile(info, io.BytesIO(entry.data) if entry.kind == FILE else None)


def tar_bytes(rootfs: Rootfs) -> bytes:
    buf = io.BytesIO()
    write_tar(rootfs, buf)
    return buf.getvalue()


def write_dir(rootfs: Rootfs, dest: Path) -> None:
    """Create ``rootfs`` under ``dest`` (which must not exist); owners are set when root."""
    if dest.exists():
        raise UserError(f"{dest}: already exists; the rootfs goes into a new directory")
    tmp = dest.with_name(f".{dest.name}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        for entry in rootfs.entries:
            path = tmp / entry.path
            if entry.kind == DIR:
                path.mkdir(exist_ok=True)
            elif entry.kind == SYMLINK:
                path.symlink_to(entry.target)
            else:
                path.write_bytes(entry.data)
        for entry in reversed(rootfs.entries):
            path = tmp / entry.path
            if os.geteuid() == 0:
                os.lchown(path, 0, 0)
            if entry.kind != SYMLINK:
                path.chmod(entry.mode)
            os.utime(path, (rootfs.mtime, rootfs.mtime), follow_symlinks=False)
        tmp.chmod(0o755)
        os.replace(tmp, dest)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
