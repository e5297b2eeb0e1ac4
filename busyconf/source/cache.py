"""The per-user cache of BusyBox releases.

Layout under :func:`cache_root`::

    tarballs/busybox-1.38.0.tar.bz2   verified release tarballs
    trees/1.38.0/src/                 the pristine source tree (make's srctree)
    trees/1.38.0/kconfig/             Config.in files and include/applets.h,
                                      written by BusyBox's gen_build_files.sh
    trees/1.38.0/release.json         where it came from, sha256, verified, trusted

Every entry is built in a temporary folder and renamed into place, so an
interrupted fetch or import never leaves a half-made tree.

Trust: a known release enters the cache only as its tarball with the right
sha256 (``verified``). Any other tree runs its own scripts (here and in every
build) and its Kconfig preprocessor, so it is added only when the user says
``--trust`` (``trusted``), and it can never replace a verified release.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from busyconf.errors import EnvError, SourceError, UserError
from busyconf.paths import cache_root
from busyconf.source.releases import (
    RELEASES,
    UPSTREAM_URL,
    check_version,
    known_release,
    version_key,
)

#: Called with (bytes done, bytes total or None).
Progress = Callable[[int, "int | None"], None]


def mirrors() -> list[str]:
    """Download URL templates: ``$BUSYCONF_MIRRORS`` (space separated) then upstream.

    A mirror is a base URL; ``busybox-VERSION.tar.bz2`` is appended, unless it
    contains ``{version}``, which is substituted.
    """
    extra = os.environ.get("BUSYCONF_MIRRORS", "").split()
    out = []
    for base in extra:
        out.append(base if "{version}" in base else base.rstrip("/") + "/busybox-{version}.tar.bz2")
    out.append(UPSTREAM_URL)
    return out


@dataclass(frozen=True)
class CachedRelease:
    version: str
    sha256: str | None
    verified: bool
    origin: str
    path: Path
    trusted: bool = False

    def to_json(self) -> dict[str, object]:
        return {
            "version": self.version,
            "sha256": self.sha256,
            "verified": self.verified,
            "trusted": self.trusted,
            "origin": self.origin,
            "path": str(self.path),
        }


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


_MAKEFILE_VAR = re.compile(r"^(VERSION|PATCHLEVEL|SUBLEVEL|EXTRAVERSION)\s*=\s*(\S*)\s*$", re.M)


def tree_version(src: Path) -> str:
    """Read the release version from a source tree's top-level Makefile."""
    makefile = src / "Makefile"
    # A FIFO or a device named Makefile would block or never end: regular files only.
    if makefile.is_symlink() or not makefile.is_file():
        raise UserError(f"{src}: not a BusyBox source tree (no Makefile)")
    try:
        with makefile.open("rb") as f:
            head = f.read(4096)
    except OSError as e:
        raise UserError(f"{makefile}: cannot read ({e.strerror})") from None
    return makefile_version(head, str(src), (src / "Config.in").is_file())


def makefile_version(head: bytes, where: str, has_config_in: bool = True) -> str:
    """The version in the first bytes of a BusyBox Makefile, checked as a cache folder name."""
    found = dict(_MAKEFILE_VAR.findall(head[:4096].decode("utf-8", "replace")))
    if not all(k in found for k in ("VERSION", "PATCHLEVEL", "SUBLEVEL")) or not has_config_in:
        raise UserError(f"{where}: not a BusyBox source tree (no version in Makefile or no Config.in)")
    version = f"{found['VERSION']}.{found['PATCHLEVEL']}.{found['SUBLEVEL']}"
    if found.get("EXTRAVERSION"):
        version += found["EXTRAVERSION"]
    try:
        return check_version(version)
    except SourceError:
        raise SourceError(f"{where}: {version!r} is not a BusyBox version number") from None


class SourceCache:
    """Fetch, import, verify and hand out BusyBox source trees."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = Path(os.path.abspath(root)) if root else cache_root()

    # -- paths -----------------------------------------------------------
    def release_dir(self, version: str) -> Path:
        return self.root / "trees" / check_version(version)

    def tree(self, version: str) -> Path:
        """The pristine source tree of ``version`` (make's srctree)."""
        return self._ready(version) / "src"

    def kconfig_dir(self, version: str) -> Path:
        """The folder holding the generated ``Config.in`` files."""
        return self._ready(version) / "kconfig"

    def has(self, version: str) -> bool:
        return (self.release_dir(version) / "release.json").is_file()

    def trusted(self, version: str) -> bool:
        """True for a tree added with ``--trust``: its Kconfig preprocessor may run commands."""
        meta = self._meta(self.release_dir(version))
        return bool(meta and meta.get("trusted") is True)

    def _ready(self, version: str) -> Path:
        d = self.release_dir(version)
        if not (d / "release.json").is_file():
            hint = (
                f"run `busyconf source fetch {version}`"
                if version in RELEASES
                else "run `busyconf source add PATH --trust` with its tarball"
            )
            raise SourceError(f"BusyBox {version} is not in the cache ({self.root}); {hint}")
        meta = self._meta(d)
        if version in RELEASES and not (meta and meta.get("verified") is True):
            # Left by a busyconf that accepted folders: whatever it holds, it is not the release.
            raise SourceError(
                f"BusyBox {version} in the cache ({d}) is not the verified release; "
                f"run `busyconf source fetch {version}` to replace it"
            )
        return d

    @staticmethod
    def _meta(d: Path) -> dict[str, object] | None:
        try:
            data = json.loads((d / "release.json").read_text())
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) else None

    # -- listing ---------------------------------------------------------
    def list(self) -> list[CachedRelease]:
        out = []
        trees = self.root / "trees"
        if trees.is_dir():
            for d in trees.iterdir():
                data = self._meta(d)
                if data is None or d.name.startswith("."):
                    continue
                sha = data.get("sha256")
                out.append(
                    CachedRelease(
                        version=d.name,
                        sha256=sha if isinstance(sha, str) else None,
                        verified=data.get("verified") is True,
                        origin=str(data.get("origin", "")),
                        path=d / "src",
                        trusted=data.get("trusted") is True,
                    )
                )
        return sorted(out, key=lambda r: version_key(r.version))

    def newest(self) -> str | None:
        rels = self.list()
        return rels[-1].version if rels else None

    # -- getting sources -------------------------------------------------
    def fetch(self, version: str, progress: Progress | None = None) -> CachedRelease:
        """Download ``version`` from the mirrors, verify its sha256, unpack it."""
        rel = known_release(version)
        tarballs = self.root / "tarballs"
        tarballs.mkdir(parents=True, exist_ok=True)
        target = tarballs / rel.filename
        if not (target.is_file() and sha256_file(target) == rel.sha256):
            import urllib.error  # here, not at the top: the editor starts without the network stack

            errors = []
            for template in mirrors():
                url = template.format(version=version)
                try:
                    self._download(url, target, rel.sha256, progress)
                    break
                except (urllib.error.URLError, OSError, SourceError) as e:
                    errors.append(f"{url}: {getattr(e, 'reason', e)}")
            else:
                raise EnvError(f"could not download BusyBox {version}: " + "; ".join(errors))
        return self._install(target, version, rel.sha256, f"fetched {rel.filename}")

    def _download(self, url: str, target: Path, sha256: str, progress: Progress | None) -> None:
        import urllib.request

        fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=".dl-")
        tmp = Path(tmp_name)
        try:
            h = hashlib.sha256()
            with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=60) as resp:
                total = resp.headers.get("Content-Length")
                total_n = int(total) if total and total.isdigit() else None
                done = 0
                while chunk := resp.read(1 << 16):
                    out.write(chunk)
                    h.update(chunk)
                    done += len(chunk)
                    if progress:
                        progress(done, total_n)
            if h.hexdigest() != sha256:
                raise SourceError(f"sha256 mismatch: got {h.hexdigest()}, expected {sha256}")
            os.replace(tmp, target)
        finally:
            tmp.unlink(missing_ok=True)

    def add(self, path: Path, trust: bool = False) -> CachedRelease:
        """Import a local release tarball or an unpacked source tree.

        A known release is accepted only as its tarball, by sha256, and is
        then ``verified``. Anything else runs its own code when it is set up
        and built, so it needs ``trust=True``; it is then marked ``trusted``
        and unverified. Nothing is written before the input is accepted.
        """
        path = Path(path)
        if path.is_dir():
            return self._add_tree(path, trust)
        if not path.exists():
            raise UserError(f"{path}: no such file or directory")
        if not path.is_file():
            raise UserError(f"{path}: not a regular file (a tarball or a source folder is expected)")
        digest = sha256_file(path)
        rel = next((r for r in RELEASES.values() if r.sha256 == digest), None)
        if rel is not None:
            tarballs = self.root / "tarballs"
            tarballs.mkdir(parents=True, exist_ok=True)
            fd, name = tempfile.mkstemp(dir=tarballs, prefix=".add-")
            os.close(fd)
            try:
                shutil.copyfile(path, name)
                os.replace(name, tarballs / rel.filename)
            finally:
                Path(name).unlink(missing_ok=True)
            return self._install(tarballs / rel.filename, rel.version, digest, f"added {path.name}")
        version = archive_version(path)
        claimed = RELEASES.get(version) or RELEASES.get(_version_from_name(path.name) or "")
        if claimed is not None:
            raise SourceError(
                f"{path}: sha256 {digest} does not match BusyBox {claimed.version}'s {claimed.sha256}"
            )
        if not trust:
            raise UserError(_untrusted_message(path, version))
        with tempfile.TemporaryDirectory(dir=self._tmp_parent()) as tmp:
            probe = Path(tmp) / "src"
            _safe_tar().extract_release(path, probe)
            found = tree_version(probe)
            if found != version:
                raise SourceError(f"{path}: contains BusyBox {found}, not {version}")
            return self._install_extracted(probe, version, digest, False, f"added {path.name} (trusted)")

    def _add_tree(self, tree: Path, trust: bool) -> CachedRelease:
        version = tree_version(tree)
        if version in RELEASES:
            raise SourceError(
                f"{tree}: BusyBox {version} is a known release, and a folder cannot be checked against "
                f"its sha256; add its tarball busybox-{version}.tar.bz2 or run `busyconf source fetch "
                f"{version}`"
            )
        if not trust:
            raise UserError(_untrusted_message(tree, version))
        _check_tree(tree)
        with tempfile.TemporaryDirectory(dir=self._tmp_parent()) as tmp:
            src = Path(tmp) / "src"
            _copy_tree(tree, src)
            return self._install_extracted(src, version, None, False, f"added tree {tree} (trusted)")

    # -- installing ------------------------------------------------------
    def _tmp_parent(self) -> Path:
        p = self.root / "trees"
        p.mkdir(parents=True, exist_ok=True)
        return p

    def _install(self, tarball: Path, version: str, sha256: str, origin: str) -> CachedRelease:
        """Install the verified release ``tarball``, replacing an entry that is not this release."""
        if self.has(version):
            cached = self._cached(version)
            if cached.verified and cached.sha256 == sha256:
                return cached
        with tempfile.TemporaryDirectory(dir=self._tmp_parent()) as tmp:
            src = Path(tmp) / "src"
            _safe_tar().extract_release(tarball, src)
            found = tree_version(src)
            if found != version:
                raise SourceError(f"{tarball}: contains BusyBox {found}, not {version}")
            return self._install_extracted(src, version, sha256, True, origin)

    def _install_extracted(
        self, src: Path, version: str, sha256: str | None, verified: bool, origin: str
    ) -> CachedRelease:
        """Move an extracted ``src`` into the cache after generating Kconfig files."""
        final = self.release_dir(version)
        old_meta = self._meta(final)
        if not verified and (version in RELEASES or (old_meta and old_meta.get("verified") is True)):
            raise SourceError(f"BusyBox {version}: an unverified tree never replaces the verified release")
        staging = Path(tempfile.mkdtemp(dir=self._tmp_parent(), prefix=f".{version}-"))
        try:
            shutil.move(str(src), staging / "src")
            _generate_kconfig(staging / "src", staging / "kconfig")
            (staging / "release.json").write_text(
                json.dumps(
                    {
                        "version": version,
                        "sha256": sha256,
                        "verified": verified,
                        "trusted": not verified,
                        "origin": origin,
                    },
                    indent=2,
                )
                + "\n"
            )
            if final.exists():
                old = final.with_name(f".{version}-old")
                shutil.rmtree(old, ignore_errors=True)
                os.replace(final, old)
                os.replace(staging, final)
                shutil.rmtree(old, ignore_errors=True)
            else:
                os.replace(staging, final)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        return self._cached(version)

    def _cached(self, version: str) -> CachedRelease:
        for r in self.list():
            if r.version == version:
                return r
        raise SourceError(f"BusyBox {version} vanished from the cache")


_NAME_RE = re.compile(r"busybox[-_](\d+\.\d+\.\d+)")


def _version_from_name(name: str) -> str | None:
    m = _NAME_RE.search(name)
    return m.group(1) if m else None


def _untrusted_message(path: Path, version: str) -> str:
    return (
        f"{path}: BusyBox {version} is not a known release, so busyconf cannot verify it; "
        "`busyconf source add PATH --trust` adds it, and its scripts and Kconfig files will run here"
    )


def archive_version(archive: Path) -> str:
    """The version in a release tarball's Makefile, read without extracting anything."""
    head, has_config_in = _safe_tar().read_release_member(archive, "Makefile", "Config.in")
    if head is None:
        raise UserError(f"{archive}: not a BusyBox release tarball (no top-level Makefile)")
    return makefile_version(head, str(archive), has_config_in)


def _check_tree(tree: Path) -> None:
    """Refuse, before copying, links out of ``tree``, special files and a configured tree."""
    root = tree.resolve()
    for p in tree.rglob("*"):
        if p.is_symlink():
            target = (p.parent / os.readlink(p)).resolve()
            if not target.is_relative_to(root):
                raise UserError(f"{p}: symlink points out of the tree ({os.readlink(p)})")
        elif not (p.is_file() or p.is_dir()):
            raise UserError(f"{p}: device or special file in the source tree")
    for stale in (".config", "include/config", "include/autoconf.h"):
        if (tree / stale).exists():
            raise UserError(
                f"{tree}: the tree has been configured ({stale} exists); run `make mrproper` in it first"
            )


def _copy_tree(tree: Path, dest: Path) -> None:
    """Copy an unpacked tree checked by :func:`_check_tree` (``.git`` left out)."""
    shutil.copytree(tree, dest, symlinks=True, ignore=shutil.ignore_patterns(".git"))


def _generate_kconfig(src: Path, out: Path) -> None:
    """Run BusyBox's own ``scripts/gen_build_files.sh SRCTREE OBJTREE``.

    The output folder is ours, in the cache: the user's tree is never written.
    """
    out.mkdir(parents=True)
    script = src / "scripts" / "gen_build_files.sh"
    if not script.is_file():
        raise UserError(f"{src}: no scripts/gen_build_files.sh; not a BusyBox source tree")
    proc = subprocess.run(
        ["sh", str(script), str(src), str(out)],
        cwd=out,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C"},
    )
    if proc.returncode != 0:
        lines = (proc.stderr.strip() or proc.stdout.strip() or "no output").splitlines()
        raise EnvError(f"{script}: failed (exit {proc.returncode}): {lines[-1]}")
    shutil.copyfile(src / "Config.in", out / "Config.in")


def _safe_tar() -> ModuleType:
    """:mod:`busyconf.source.safe_tar`, imported when a tarball is read (tarfile is slow to import)."""
    import busyconf.source.safe_tar

    return busyconf.source.safe_tar
