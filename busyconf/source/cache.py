"""The per-user cache of BusyBox releases.

Layout under :func:`cache_root`::

    tarballs/busybox-1.38.0.tar.bz2   verified release tarballs
    trees/1.38.0/src/                 the pristine source tree (make's srctree)
    trees/1.38.0/kconfig/             Config.in files and include/applets.h,
                                      written by BusyBox's gen_build_files.sh
    trees/1.38.0/release.json         where it came from, sha256, verified?

Every entry is built in a temporary folder and renamed into place, so an
interrupted fetch or import never leaves a half-made tree.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from busyconf.errors import EnvError, SourceError, UserError
from busyconf.source.releases import (
    RELEASES,
    UPSTREAM_URL,
    check_version,
    known_release,
    version_key,
)
from busyconf.source.safe_tar import extract_release

#: Called with (bytes done, bytes total or None).
Progress = Callable[[int, "int | None"], None]


def cache_root() -> Path:
    """``$BUSYCONF_CACHE``, else ``$XDG_CACHE_HOME/busyconf``, else ``~/.cache/busyconf``."""
    env = os.environ.get("BUSYCONF_CACHE")
    if env:
        return Path(env)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "busyconf"


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

    def to_json(self) -> dict[str, object]:
        return {
            "version": self.version,
            "sha256": self.sha256,
            "verified": self.verified,
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
    try:
        text = makefile.read_text(errors="replace")[:4096]
    except OSError:
        raise UserError(f"{src}: not a BusyBox source tree (no Makefile)") from None
    found = dict(_MAKEFILE_VAR.findall(text))
    if (
        not all(k in found for k in ("VERSION", "PATCHLEVEL", "SUBLEVEL"))
        or not (src / "Config.in").is_file()
    ):
        raise UserError(f"{src}: not a BusyBox source tree (no version in Makefile or no Config.in)")
    version = f"{found['VERSION']}.{found['PATCHLEVEL']}.{found['SUBLEVEL']}"
    if found.get("EXTRAVERSION"):
        version += found["EXTRAVERSION"]
    return version


class SourceCache:
    """Fetch, import, verify and hand out BusyBox source trees."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = root or cache_root()

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

    def _ready(self, version: str) -> Path:
        d = self.release_dir(version)
        if not (d / "release.json").is_file():
            hint = (
                f"run `busyconf source fetch {version}`"
                if version in RELEASES
                else "run `busyconf source add PATH` with its tarball"
            )
            raise SourceError(f"BusyBox {version} is not in the cache ({self.root}); {hint}")
        return d

    # -- listing ---------------------------------------------------------
    def list(self) -> list[CachedRelease]:
        out = []
        trees = self.root / "trees"
        if trees.is_dir():
            for d in trees.iterdir():
                meta = d / "release.json"
                if not meta.is_file():
                    continue
                try:
                    data = json.loads(meta.read_text())
                except (OSError, ValueError):
                    continue
                out.append(
                    CachedRelease(
                        version=d.name,
                        sha256=data.get("sha256"),
                        verified=bool(data.get("verified")),
                        origin=str(data.get("origin", "")),
                        path=d / "src",
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
        return self._install(target, version, rel.sha256, True, f"fetched {rel.filename}")

    def _download(self, url: str, target: Path, sha256: str, progress: Progress | None) -> None:
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

    def add(self, path: Path) -> CachedRelease:
        """Import a local release tarball or an unpacked source tree.

        A tarball of a known release must match its sha256; an unknown
        version is accepted but marked unverified.
        """
        path = Path(path)
        if path.is_dir():
            version = tree_version(path)
            return self._install_tree(path, version)
        if not path.is_file():
            raise UserError(f"{path}: no such file or directory")
        digest = sha256_file(path)
        rel = RELEASES.get(_version_from_name(path.name) or "")
        if rel is not None and digest != rel.sha256:
            raise SourceError(f"{path}: sha256 {digest} does not match BusyBox {rel.version}'s {rel.sha256}")
        with tempfile.TemporaryDirectory(dir=self._tmp_parent()) as tmp:
            probe = Path(tmp) / "src"
            extract_release(path, probe)
            version = tree_version(probe)
            known = RELEASES.get(version)
            if known is not None and digest != known.sha256:
                raise SourceError(
                    f"{path}: sha256 {digest} does not match BusyBox {version}'s {known.sha256}"
                )
            if known is not None:
                tarballs = self.root / "tarballs"
                tarballs.mkdir(parents=True, exist_ok=True)
                fd, name = tempfile.mkstemp(dir=tarballs, prefix=".add-")
                os.close(fd)
                shutil.copyfile(path, name)
                os.replace(name, tarballs / known.filename)
            return self._install_extracted(probe, version, digest, known is not None, f"added {path.name}")

    # -- installing ------------------------------------------------------
    def _tmp_parent(self) -> Path:
        p = self.root / "trees"
        p.mkdir(parents=True, exist_ok=True)
        return p

    def _install(
        self, tarball: Path, version: str, sha256: str, verified: bool, origin: str
    ) -> CachedRelease:
        if self.has(version):
            return self._cached(version)
        with tempfile.TemporaryDirectory(dir=self._tmp_parent()) as tmp:
            src = Path(tmp) / "src"
            extract_release(tarball, src)
            found = tree_version(src)
            if found != version:
                raise SourceError(f"{tarball}: contains BusyBox {found}, not {version}")
            return self._install_extracted(src, version, sha256, verified, origin)

    def _install_tree(self, tree: Path, version: str) -> CachedRelease:
        with tempfile.TemporaryDirectory(dir=self._tmp_parent()) as tmp:
            src = Path(tmp) / "src"
            _copy_tree(tree, src)
            return self._install_extracted(src, version, None, False, f"added tree {tree}")

    def _install_extracted(
        self, src: Path, version: str, sha256: str | None, verified: bool, origin: str
    ) -> CachedRelease:
        """Move an extracted ``src`` into the cache after generating Kconfig files."""
        staging = Path(tempfile.mkdtemp(dir=self._tmp_parent(), prefix=f".{version}-"))
        try:
            shutil.move(str(src), staging / "src")
            _generate_kconfig(staging / "src", staging / "kconfig")
            (staging / "release.json").write_text(
                json.dumps(
                    {"version": version, "sha256": sha256, "verified": verified, "origin": origin},
                    indent=2,
                )
                + "\n"
            )
            final = self.release_dir(version)
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


def _copy_tree(tree: Path, dest: Path) -> None:
    """Copy an unpacked tree, refusing links out of it and special files."""
    root = tree.resolve()
    for p in tree.rglob("*"):
        if p.is_symlink():
            target = (p.parent / os.readlink(p)).resolve()
            if not target.is_relative_to(root):
                raise UserError(f"{p}: symlink points out of the tree ({os.readlink(p)})")
        elif not (p.is_file() or p.is_dir()):
            raise UserError(f"{p}: device or special file in the source tree")
    shutil.copytree(tree, dest, symlinks=True, ignore=shutil.ignore_patterns(".git"))
    for stale in (".config", "include/config", "include/autoconf.h"):
        if (dest / stale).exists():
            raise UserError(
                f"{tree}: the tree has been configured ({stale} exists); run `make mrproper` in it first"
            )


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
        raise EnvError(f"gen_build_files.sh failed: {proc.stderr.strip() or proc.stdout.strip()}")
    shutil.copyfile(src / "Config.in", out / "Config.in")
