"""Saving files so that no edit is lost and no reader sees half a file.

* :func:`path_lock`: one writer per file at a time, across processes (a lock
  file in the cache, keyed by the file's real path, so a symlink and its
  target share one lock).
* :func:`write_atomic`: a file is replaced whole (temp file + rename in the
  target's folder), a symlink is followed and its target replaced, a
  character device or FIFO is written directly and never replaced.
* :func:`publish_dir`: a folder's files are swapped in at once
  (``renameat2(RENAME_EXCHANGE)``, else a symlink flip), so files that belong
  together never mix with an earlier set.

Temporary files and folders carry the writer's pid; the next writer removes
those of writers that died (SIGKILL, power loss).
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import shutil
import signal
import stat
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

from busyconf.errors import EnvError, UserError
from busyconf.paths import cache_root

LOCK_TIMEOUT = 60.0
#: A folder busyconf made for -o DIR holds this file; any other non-empty folder is refused.
OUTPUT_MARKER = ".busyconf-output"
#: What a build folder made before the marker existed holds; such a folder is still ours.
LEGACY_OUTPUT = frozenset({"busybox", "busybox.config", "manifest.json"})
#: Seconds to sleep between the steps of :func:`publish_dir` (tests widen the window with it).
SWAP_DELAY_ENV = "BUSYCONF_TEST_SWAP_DELAY"

_HELD = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT)
_USER_ERRNOS = {
    errno.EACCES,
    errno.EPERM,
    errno.EROFS,
    errno.EISDIR,
    errno.ENOTDIR,
    errno.ENOENT,
    errno.ENAMETOOLONG,
    errno.ELOOP,
    errno.EEXIST,
    errno.ENXIO,
    errno.ETXTBSY,
}
# Temp files older than this without a pid in their name (older busyconf) are stale.
_LEGACY_TEMP_AGE = 600.0


# -- locks ---------------------------------------------------------------------------


def lock_file_for(path: Path | str) -> Path:
    """``cache_root()/locks/<sha256 of the real path>.lock``."""
    real = os.path.realpath(os.fspath(path))
    digest = hashlib.sha256(real.encode("utf-8", "surrogateescape")).hexdigest()
    return Path(cache_root()).absolute() / "locks" / f"{digest}.lock"


@contextlib.contextmanager
def path_lock(path: Path | str, timeout: float = LOCK_TIMEOUT) -> Iterator[None]:
    """Hold ``path``'s lock (re-entrant in one thread; other threads and processes wait)."""
    lock_path = lock_file_for(path)
    try:
        lock_path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise EnvError(f"{lock_path.parent}: cannot create the lock folder ({e.strerror})") from None
    import filelock  # here: the editor's first screen does not need it

    lock = filelock.FileLock(lock_path, timeout=timeout, is_singleton=True)
    try:
        lock.acquire()
    except filelock.Timeout:
        raise EnvError(
            f"{path}: another busyconf has been saving it for {timeout:.0f} s; try again"
        ) from None
    except OSError as e:
        raise EnvError(f"{lock_path}: cannot lock ({e.strerror})") from None
    try:
        yield
    finally:
        lock.release()


# -- reading -------------------------------------------------------------------------


def newline_of(path: Path) -> str:
    """The line end a regular file uses (that of its first line); ``\\n`` when there is none."""
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            return "\n"
        with open(path, "rb") as f:
            head = f.read(1 << 16)
    except OSError:
        return "\n"
    end = head.find(b"\n")
    return "\r\n" if end > 0 and head[end - 1 : end] == b"\r" else "\n"


# -- writing -------------------------------------------------------------------------


def _user_or_env(path: Path | str, e: OSError, verb: str = "cannot write") -> Exception:
    msg = f"{path}: {verb} ({e.strerror or e})"
    return UserError(msg) if e.errno in _USER_ERRNOS else EnvError(msg)


@contextlib.contextmanager
def signals_held() -> Iterator[None]:
    """Hold Ctrl-C, SIGTERM and SIGHUP (main thread) until a short write has finished or cleaned up."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    old = signal.pthread_sigmask(signal.SIG_BLOCK, _HELD)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _stale(entry: Path, pid_text: str) -> bool:
    if pid_text.isdigit():
        return int(pid_text) != os.getpid() and not _pid_alive(int(pid_text))
    try:
        return time.time() - entry.lstat().st_mtime > _LEGACY_TEMP_AGE
    except OSError:
        return False


def sweep_temp_files(folder: Path, name: str) -> None:
    """Remove ``.NAME.PID.*.tmp`` left in ``folder`` by writers that died."""
    prefix = f".{name}."
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return
    for entry in entries:
        if (
            entry.name.startswith(prefix)
            and entry.name.endswith(".tmp")
            and entry.is_file(follow_symlinks=False)
        ):
            pid_text = entry.name[len(prefix) :].split(".", 1)[0]
            if _stale(Path(entry.path), pid_text):
                with contextlib.suppress(OSError):
                    os.unlink(entry.path)


def output_target(path: Path | str) -> Path:
    """Where writing ``path`` really goes: a symlink's final target; refuses an empty name."""
    if not os.fspath(path):
        raise UserError("an empty file name: name the file to write")
    target = Path(path)
    if target.is_symlink():
        target = Path(os.path.realpath(target))
    return target


def _write_special(target: Path, data: bytes) -> None:
    try:
        fd = os.open(target, os.O_WRONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    except OSError as e:
        if e.errno == errno.ENXIO:
            raise UserError(f"{target}: a FIFO with no reader") from None
        raise _user_or_env(target, e) from None
    try:
        os.set_blocking(fd, True)
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
    except OSError as e:
        raise _user_or_env(target, e) from None
    finally:
        os.close(fd)


def write_atomic(
    target: Path | str,
    text: str | bytes,
    check: Callable[[Path], None] | None = None,
    mode: int | None = None,
) -> None:
    """Replace ``target`` with ``text`` so readers see the old or the new file, never half.

    A symlink stays a link: its target is replaced. A character device or FIFO
    is written directly (``check`` is skipped). A directory, a read-only file
    or a folder that cannot be written is a one-line :class:`UserError`.
    """
    data = text.encode() if isinstance(text, str) else text
    target = output_target(target)
    try:
        st: os.stat_result | None = os.stat(target)
    except FileNotFoundError:
        st = None
    except OSError as e:
        raise _user_or_env(target, e) from None
    if st is not None:
        if stat.S_ISDIR(st.st_mode):
            raise UserError(f"{target}: is a directory; name a file")
        if stat.S_ISCHR(st.st_mode) or stat.S_ISFIFO(st.st_mode):
            _write_special(target, data)
            return
        if not stat.S_ISREG(st.st_mode):
            raise UserError(f"{target}: not a regular file; busyconf does not replace it")
        if not st.st_mode & 0o222 or not os.access(target, os.W_OK):
            raise UserError(f"{target}: is read-only")
    folder = target.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise _user_or_env(folder, e, "cannot create the folder") from None
    sweep_temp_files(folder, target.name)
    file_mode = (st.st_mode & 0o7777) if st is not None else (0o644 if mode is None else mode)
    with signals_held():
        try:
            fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{target.name}.{os.getpid()}.", suffix=".tmp")
        except OSError as e:
            raise _user_or_env(target, e) from None
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.chmod(tmp, file_mode)
            if check:
                check(Path(tmp))
            os.replace(tmp, target)
        except OSError as e:
            raise _user_or_env(target, e) from None
        finally:
            if os.path.lexists(tmp):
                os.unlink(tmp)


def write_output(dest: str, text: str) -> str:
    """Write an ``-o`` argument: ``-`` is standard output, anything else :func:`write_atomic`.

    Returns what was written to, for the message.
    """
    if dest == "-":
        import sys

        sys.stdout.write(text)
        sys.stdout.flush()
        return "standard output"
    write_atomic(dest, text)
    return dest


# -- output folders ------------------------------------------------------------------


def check_out_dir(out_dir: Path | str) -> None:
    """Refuse an ``-o DIR`` busyconf did not make: a non-empty folder without the marker."""
    if not os.fspath(out_dir):
        raise UserError("-o '': name the output folder")
    out_dir = Path(out_dir)
    if out_dir.is_symlink() and not _our_link(out_dir):
        out_dir = Path(os.path.realpath(out_dir))
    if not out_dir.exists():
        if out_dir.is_symlink():
            raise UserError(f"{out_dir}: a symlink to nowhere; name a folder")
        return
    if not out_dir.is_dir():
        raise UserError(f"{out_dir}: not a folder; -o names the folder for the build's files")
    try:
        names = {e.name for e in os.scandir(out_dir)}
    except OSError as e:
        raise _user_or_env(out_dir, e, "cannot read") from None
    if names and OUTPUT_MARKER not in names and not names <= LEGACY_OUTPUT:
        raise UserError(
            f"{out_dir}: not empty and not made by busyconf (no {OUTPUT_MARKER}); "
            "choose a new or empty folder"
        )


_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


def _renameat2() -> Callable[..., int] | None:
    import ctypes.util

    libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
    fn = getattr(libc, "renameat2", None)
    if fn is None:
        return None
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    fn.restype = ctypes.c_int
    return fn  # type: ignore[no-any-return]


def exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one step; False where the system or filesystem cannot."""
    fn = _renameat2()
    if fn is None:
        return False
    if fn(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    import ctypes

    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP):
        return False
    raise OSError(err, os.strerror(err), str(b))


def _gen_prefix(out_dir: Path) -> str:
    return f".{out_dir.name}.busyconf-gen-"


def _our_link(out_dir: Path) -> bool:
    """``out_dir`` is the symlink a flip made (it points at a sibling generation folder)."""
    try:
        return os.readlink(out_dir).startswith(_gen_prefix(out_dir))
    except OSError:
        return False


#: Called with "written" (new set ready, not yet swapped in) and "swapped" (old set not yet
#: removed); tests set it to stop a publisher between the steps.
swap_hook: Callable[[str], None] | None = None


def _swap_pause(step: str) -> None:
    if swap_hook is not None:
        swap_hook(step)
    with contextlib.suppress(ValueError):
        time.sleep(float(os.environ.get(SWAP_DELAY_ENV) or 0))


def _sweep_dirs(out_dir: Path, keep: str | None) -> None:
    """Remove the sibling folders of dead publishers (a kill between the swap steps)."""
    parent = out_dir.parent
    prefixes = (f".{out_dir.name}.busyconf-new-", _gen_prefix(out_dir))
    try:
        entries = list(os.scandir(parent))
    except OSError:
        return
    for entry in entries:
        for prefix in prefixes:
            if entry.name.startswith(prefix) and entry.name != keep:
                pid_text = entry.name[len(prefix) :].split("-", 1)[0]
                if pid_text.isdigit() and _stale(Path(entry.path), pid_text):
                    shutil.rmtree(entry.path, ignore_errors=True)


def publish_dir(
    out_dir: Path, files: Mapping[str, bytes], modes: Mapping[str, int] | None = None, marker: bool = True
) -> None:
    """Make ``out_dir`` hold exactly ``files`` (names may have ``/``), all at once.

    The files are written into a fresh sibling folder, which is then exchanged
    with ``out_dir`` in one ``renameat2(RENAME_EXCHANGE)``; where that is not
    available, ``out_dir`` becomes a symlink to the fresh folder, flipped in
    one rename. A reader (or a kill at any point) sees the old set or the new
    set, never a mix. With ``marker``, ``out_dir`` must pass :func:`check_out_dir`;
    without, the caller has checked that the folder is its own.
    """
    modes = modes or {}
    link = _our_link(out_dir)
    if out_dir.is_symlink() and not link:
        out_dir = Path(os.path.realpath(out_dir))
    parent = out_dir.parent
    with path_lock(out_dir):
        if marker:
            check_out_dir(out_dir)
        try:
            parent.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise _user_or_env(parent, e, "cannot create the folder") from None
        keep = os.readlink(out_dir) if link else None
        _sweep_dirs(out_dir, keep)
        try:
            new = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.busyconf-new-{os.getpid()}-", dir=parent))
        except OSError as e:
            raise _user_or_env(out_dir, e) from None
        try:
            _fill(new, files, modes, marker)
            _swap_pause("written")
            with signals_held():
                if link:
                    _flip(out_dir, new, Path(keep or ""))
                elif not out_dir.exists():
                    os.rename(new, out_dir)
                elif not exchange(new, out_dir):
                    _to_link(out_dir, new)
            _swap_pause("swapped")
        except OSError as e:
            raise _user_or_env(out_dir, e) from None
        finally:
            # After an exchange ``new`` holds the old set.
            shutil.rmtree(new, ignore_errors=True)


def _fill(folder: Path, files: Mapping[str, bytes], modes: Mapping[str, int], marker: bool) -> None:
    all_files = dict(files)
    if marker:
        all_files[OUTPUT_MARKER] = b"made by busyconf: its next build replaces everything here\n"
    for name, data in all_files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        path.chmod(modes.get(name, 0o644))
    folder.chmod(0o755)
    dir_fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def _flip(link: Path, new: Path, old_target: Path) -> None:
    """Point the symlink ``link`` at a generation folder holding ``new``'s files."""
    gen = link.parent / f"{_gen_prefix(link)}{os.getpid()}-{os.urandom(4).hex()}"
    os.rename(new, gen)
    tmp_link = link.parent / f".{link.name}.busyconf-link-{os.getpid()}.tmp"
    with contextlib.suppress(FileNotFoundError):
        os.unlink(tmp_link)
    os.symlink(gen.name, tmp_link)
    os.replace(tmp_link, link)
    if old_target.name.startswith(_gen_prefix(link)):
        shutil.rmtree(link.parent / old_target.name, ignore_errors=True)


def _to_link(out_dir: Path, new: Path) -> None:
    """No exchange here: move the real folder aside once and make ``out_dir`` a flipped symlink."""
    aside = out_dir.parent / f".{out_dir.name}.busyconf-new-{os.getpid()}-old"
    os.rename(out_dir, aside)
    gen = out_dir.parent / f"{_gen_prefix(out_dir)}{os.getpid()}-{os.urandom(4).hex()}"
    os.rename(new, gen)
    os.symlink(gen.name, out_dir)
    shutil.rmtree(aside, ignore_errors=True)
