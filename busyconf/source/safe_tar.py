"""Extract an untrusted release tarball without letting it escape its folder.

Refuses, before anything is written: absolute member names, ``..`` components,
symlinks or hard links that resolve outside the tree, and device, FIFO or
other special files. The whole archive is checked first, so a bad member
late in the archive does not leave a half-extracted tree behind.
"""

from __future__ import annotations

import posixpath
import tarfile
from pathlib import Path

from busyconf.errors import UnsafeArchiveError, UserError


def _inside(path: str) -> bool:
    norm = posixpath.normpath(path)
    return not (norm == ".." or norm.startswith("../") or posixpath.isabs(norm))


def _check_member(archive: Path, m: tarfile.TarInfo) -> None:
    name = m.name
    where = f"{archive}: member {name!r}"
    if posixpath.isabs(name) or name.startswith("/"):
        raise UnsafeArchiveError(f"{where} has an absolute path")
    if ".." in name.split("/"):
        raise UnsafeArchiveError(f"{where} climbs out of the tree with '..'")
    if m.issym():
        target = posixpath.join(posixpath.dirname(name), m.linkname)
        if posixpath.isabs(m.linkname) or not _inside(target):
            raise UnsafeArchiveError(f"{where} is a symlink pointing out of the tree ({m.linkname})")
    elif m.islnk():
        if posixpath.isabs(m.linkname) or not _inside(m.linkname):
            raise UnsafeArchiveError(f"{where} is a hard link pointing out of the tree ({m.linkname})")
    elif not (m.isfile() or m.isdir()):
        raise UnsafeArchiveError(f"{where} is a device or special file")


def _strip(name: str, prefix: str) -> str:
    return name[len(prefix) :].lstrip("/") if prefix else name


def _first_line(e: BaseException) -> str:
    # tarfile's "could not be opened" error lists one line per compression method.
    lines = [line for line in str(e).splitlines() if line.strip()]
    return lines[0].rstrip(":") if lines else type(e).__name__


def _open(archive: Path) -> tuple[tarfile.TarFile, list[tarfile.TarInfo], str]:
    """The open archive, its checked members and the top-level folder to strip ("" if none)."""
    if not archive.is_file():
        raise UserError(f"{archive}: not a regular file")
    try:
        tar = tarfile.open(archive, "r:*")
    except tarfile.ReadError:
        raise UserError(f"{archive}: not a tar archive (plain, gzip, bzip2 or xz)") from None
    except (tarfile.TarError, OSError, EOFError) as e:
        raise UserError(f"{archive}: not a readable tar archive ({_first_line(e)})") from None
    try:
        members = tar.getmembers()
    except (tarfile.TarError, EOFError, OSError) as e:
        tar.close()
        raise UserError(f"{archive}: corrupt tar archive ({_first_line(e)})") from None
    try:
        if not members:
            raise UserError(f"{archive}: empty archive")
        for m in members:
            _check_member(archive, m)
    except UserError:
        tar.close()
        raise
    tops = {m.name.split("/", 1)[0] for m in members}
    prefix = tops.pop() if len(tops) == 1 and any("/" in m.name for m in members) else ""
    return tar, members, prefix


def read_release_member(archive: Path, name: str, also: str) -> tuple[bytes | None, bool]:
    """The first 4 KiB of top-level file ``name`` (None if absent) and whether ``also`` exists.

    Nothing is written: this is how a tarball's version is read before it is accepted.
    """
    tar, members, prefix = _open(archive)
    with tar:
        by_name = {_strip(m.name, prefix): m for m in members}
        other = by_name.get(also)
        member = by_name.get(name)
        if member is None or not member.isfile():
            return None, bool(other and other.isfile())
        try:
            f = tar.extractfile(member)
            head = f.read(4096) if f is not None else None
        except (tarfile.TarError, EOFError, OSError) as e:
            raise UserError(f"{archive}: corrupt tar archive ({_first_line(e)})") from None
        return head, bool(other and other.isfile())


def extract_release(archive: Path, dest: Path) -> None:
    """Extract ``archive`` into ``dest`` (which must not exist yet).

    A single top-level directory (``busybox-1.38.0/``) is stripped so that
    ``dest`` becomes the source tree itself.
    """
    tar, members, prefix = _open(archive)
    with tar:
        selected = []
        for m in members:
            new = _strip(m.name, prefix)
            if not new:
                continue
            m = m.replace(name=new, deep=False)
            if m.islnk():
                m = m.replace(linkname=_strip(m.linkname, prefix), deep=False)
            selected.append(m)
        dest.mkdir(parents=True)
        try:
            # The "data" filter re-checks everything above and drops modes
            # such as setuid: a second line of defence, not the first.
            tar.extractall(dest, members=selected, filter="data")
        except (tarfile.TarError, OSError) as e:
            raise UnsafeArchiveError(f"{archive}: refused while extracting ({_first_line(e)})") from None
