"""docker-library's image tests, run without Docker on an unpacked OCI image.

docker-library's official-images CI runs three global tests on every image
(``test/config.sh``): ``utc`` (``date +%Z`` prints ``UTC``),
``no-hard-coded-passwords`` (no crypt hash and no empty root password in
``/etc/passwd`` or ``/etc/shadow``) and ``override-cmd`` (``echo`` runs as
the entrypoint and as a replaced command). ``busybox`` adds what busybox's own
image build checks: ``busybox --list`` and the applet links in the rootfs
agree, and ``/usr/bin/env sh -xec true`` runs.

Each platform of the image is unpacked with ``umoci unpack --rootless`` (one
manifest at a time: umoci reads no index), and its programs run where ``docker
run`` would run them: inside the rootfs, with the image config's ``Env``,
through ``chroot`` (native CPU, as root) or qemu-user with ``-L ROOTFS`` (a
foreign CPU, or no root). The rootfs is untrusted: paths in it are resolved
inside it, never on the host.
"""

from __future__ import annotations

import hashlib
import json
import os
import posixpath
import re
import secrets
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from busyconf.build.arch import get_arch, host_arch
from busyconf.errors import ToolchainError, UserError
from busyconf.image.oci import MEDIA_INDEX, MEDIA_MANIFEST, PLATFORMS, REF_NAME, Platform

CHECKS = ("utc", "no-hard-coded-passwords", "override-cmd", "busybox")
PASS, FAIL, SKIP = "pass", "fail", "skip"
_DIGEST = re.compile(r"sha256:[0-9a-f]{64}")
_MAX_BLOB = 64 << 20  # manifests and configs are a few KB; refuse to read a huge one


@dataclass(frozen=True)
class CheckResult:
    """One check on one platform: ``pass``, ``fail`` or ``skip``, and why."""

    check: str
    platform: str
    status: str
    detail: str = ""
    warnings: tuple[str, ...] = ()

    def to_json(self) -> dict[str, object]:
        return {
            "check": self.check,
            "platform": self.platform,
            "status": self.status,
            "detail": self.detail,
            "warnings": list(self.warnings),
        }


@dataclass(frozen=True)
class Unpacked:
    """One platform's rootfs on disk and how ``docker run`` would start it."""

    rootfs: Path
    platform: Platform
    arch: str
    entrypoint: tuple[str, ...]
    cmd: tuple[str, ...]
    env: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class _Found:
    descriptor: dict[str, Any]
    config: dict[str, Any]


# -- reading the layout ----------------------------------------------------------------


def _blob(layout: Path, descriptor: Any) -> Any:
    if not isinstance(descriptor, dict):
        raise UserError(f"{layout}: a descriptor is not a JSON object")
    digest = descriptor.get("digest")
    if not isinstance(digest, str) or not _DIGEST.fullmatch(digest):
        raise UserError(f"{layout}: bad digest {str(digest)[:80]!r}")
    path = layout / "blobs" / "sha256" / digest.split(":", 1)[1]
    try:
        if path.is_symlink() or not path.is_file() or path.stat().st_size > _MAX_BLOB:
            raise UserError(f"{layout}: blob {digest} is missing, a link or too large")
        data = path.read_bytes()
    except OSError as exc:
        raise UserError(f"{layout}: cannot read blob {digest}: {exc.strerror}") from None
    if "sha256:" + hashlib.sha256(data).hexdigest() != digest:
        raise UserError(f"{layout}: blob {digest} does not match its digest")
    try:
        return json.loads(data)
    except (ValueError, UnicodeDecodeError):
        raise UserError(f"{layout}: blob {digest} is not JSON") from None


def _arch_of(platform: Platform) -> str:
    for name, (architecture, variant) in PLATFORMS.items():
        if architecture == platform.architecture and variant == platform.variant:
            return name
    for name, (architecture, _variant) in PLATFORMS.items():
        if architecture == platform.architecture and platform.architecture != "arm":
            return name
    raise UserError(f"platform {platform}: no busyconf CPU runs it")


def platform_manifests(layout: Path, tag: str) -> list[_Found]:
    """The image manifests ``tag`` names in the layout: one, or each of an index's."""
    try:
        index = json.loads((layout / "index.json").read_bytes())
    except (OSError, ValueError, UnicodeDecodeError):
        raise UserError(f"{layout}: no readable index.json; not an OCI image layout") from None
    tops = (
        [
            d
            for d in index.get("manifests", [])
            if isinstance(d, dict) and d.get("annotations", {}).get(REF_NAME) == tag
        ]
        if isinstance(index, dict)
        else []
    )
    if len(tops) != 1:
        raise UserError(f"{layout}: tag {tag!r} names {len(tops)} images, not one")
    top = tops[0]
    if top.get("mediaType") == MEDIA_INDEX:
        descriptors = _blob(layout, top).get("manifests", [])
    else:
        descriptors = [top]
    found = []
    for d in descriptors:
        # Attestations and other artifacts in an index have no runnable platform.
        if not isinstance(d, dict) or d.get("mediaType") != MEDIA_MANIFEST:
            continue
        manifest = _blob(layout, d)
        if not isinstance(manifest, dict) or manifest.get("artifactType"):
            continue
        found.append(_Found(d, _blob(layout, manifest.get("config"))))
    if not found:
        raise UserError(f"{layout}: tag {tag!r} holds no image manifest")
    return found


def unpack(layout: Path, found: _Found, dest: Path) -> Unpacked:
    """Unpack one platform with ``umoci unpack --rootless`` into ``dest`` (which must not exist)."""
    umoci = shutil.which("umoci")
    if umoci is None:
        raise ToolchainError("umoci not found: run scripts/setup.sh (Debian's umoci package)")
    cfg = found.config
    platform = Platform(str(cfg.get("architecture", "")), str(cfg.get("variant", "")), str(cfg.get("os", "")))
    arch = _arch_of(platform)
    # A layout of this one manifest, its blobs linked, as umoci reads only a manifest.
    one = dest / "layout"
    (one / "blobs").mkdir(parents=True)
    os.symlink((layout / "blobs" / "sha256").resolve(), one / "blobs" / "sha256")
    (one / "oci-layout").write_text(json.dumps({"imageLayoutVersion": "1.0.0"}))
    desc = {k: v for k, v in found.descriptor.items() if k != "annotations"}
    desc["annotations"] = {REF_NAME: "check"}
    (one / "index.json").write_text(json.dumps({"schemaVersion": 2, "manifests": [desc]}))
    proc = subprocess.run(
        [umoci, "unpack", "--rootless", "--image", f"{one}:check", str(dest / "bundle")],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        raise UserError(f"{layout}: umoci cannot unpack the {platform} image: {last}")
    conf = cfg.get("config") or {}
    env = dict(e.split("=", 1) for e in conf.get("Env") or [] if isinstance(e, str) and "=" in e)
    return Unpacked(
        dest / "bundle" / "rootfs",
        platform,
        arch,
        tuple(conf.get("Entrypoint") or ()),
        tuple(conf.get("Cmd") or ()),
        env,
    )


# -- running programs inside the rootfs --------------------------------------------------


def inside(rootfs: Path, path: str, hops: int = 40) -> Path | None:
    """``path`` as the rootfs sees it (symlinks resolved within it), or None if it does not exist."""
    parts = [p for p in path.split("/") if p not in ("", ".")]
    done: list[str] = []
    while parts:
        part = parts.pop(0)
        if part == "..":
            if done:
                done.pop()
            continue
        host = rootfs.joinpath(*done, part)
        if host.is_symlink():
            hops -= 1
            if hops < 0:
                return None
            target = os.readlink(host)
            if target.startswith("/"):
                done = []
            parts = [p for p in target.split("/") if p not in ("", ".")] + parts
            continue
        if not os.path.lexists(host):
            return None
        done.append(part)
    return rootfs.joinpath(*done)


def which(image: Unpacked, name: str) -> str | None:
    """Where ``name`` is on the image's PATH, as a path inside the rootfs."""
    if "/" in name:
        found = inside(image.rootfs, name)
        return name if found and found.is_file() else None
    for d in image.env.get("PATH", "/usr/local/bin:/usr/bin:/bin").split(":"):
        candidate = posixpath.join("/", d, name)
        found = inside(image.rootfs, candidate)
        if found is not None and found.is_file() and os.access(found, os.X_OK):
            return candidate
    return None


def _runner(image: Unpacked) -> Callable[[Sequence[str], bytes], subprocess.CompletedProcess[bytes]]:
    arch = get_arch(image.arch)
    native = host_arch() == arch.name and os.geteuid() == 0
    qemu = None if native else shutil.which(arch.qemu)
    if not native and qemu is None:
        why = "a foreign CPU" if host_arch() != arch.name else "not root (chroot needs root)"
        raise ToolchainError(f"{arch.qemu} not found, needed for {image.platform} ({why})")
    env = dict(image.env)
    env.setdefault("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")

    def run(argv: Sequence[str], stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
        if native:
            cmd = ["chroot", str(image.rootfs), *argv]
        else:
            # qemu-user cannot chroot: the program is found inside the rootfs, -L makes
            # absolute paths the rootfs's, and -0 keeps argv[0] (the applet's name).
            where = which(image, argv[0])
            host = inside(image.rootfs, where) if where else None
            if host is None:
                return subprocess.CompletedProcess(list(argv), 127, b"", f"{argv[0]}: not found".encode())
            cmd = [str(qemu), *arch.qemu_args, "-L", str(image.rootfs), "-0", argv[0], str(host), *argv[1:]]
        try:
            return subprocess.run(cmd, input=stdin, capture_output=True, env=env, timeout=60, check=False)
        except subprocess.TimeoutExpired:
            return subprocess.CompletedProcess(list(argv), 124, b"", b"timed out after 60 s")

    return run


# -- the checks --------------------------------------------------------------------------

Run = Callable[[Sequence[str], bytes], subprocess.CompletedProcess[bytes]]


def _tail(proc: subprocess.CompletedProcess[bytes]) -> str:
    text = (proc.stderr or proc.stdout).decode(errors="replace").strip().splitlines()
    return f"exit {proc.returncode}: {text[-1] if text else 'no output'}"


def check_utc(image: Unpacked, run: Run) -> tuple[str, str, tuple[str, ...]]:
    """``docker run --entrypoint date IMAGE +%Z`` prints ``UTC``."""
    if which(image, "date") is None:
        return FAIL, "no date on the image's PATH", ()
    proc = run(["date", "+%Z"], b"")
    out = proc.stdout.decode(errors="replace").strip()
    if proc.returncode != 0:
        return FAIL, _tail(proc), ()
    return (PASS, "date +%Z: UTC", ()) if out == "UTC" else (FAIL, f"date +%Z printed {out[:40]!r}", ())


def _fields(image: Unpacked, path: str) -> list[tuple[str, str]]:
    host = inside(image.rootfs, path)
    if host is None or not host.is_file():
        return []
    lines = host.read_bytes()[: 1 << 20].decode(errors="replace").splitlines()
    return [(line.split(":")[0], line.split(":")[1] if ":" in line else "") for line in lines if line]


def check_passwords(image: Unpacked, run: Run) -> tuple[str, str, tuple[str, ...]]:
    """official-images' ``no-hard-coded-passwords``, reading the files as its ``cut`` does."""
    passwds = dict(_fields(image, "/etc/passwd"))
    if not passwds:
        return FAIL, "no /etc/passwd", ()
    if any(p == "x" for p in passwds.values()):
        for user, pw in _fields(image, "/etc/shadow"):
            if passwds.get(user) == "x":
                passwds[user] = pw
    errors: list[str] = []
    warnings: list[str] = []
    for user, pw in sorted(passwds.items()):
        if pw == "":
            (errors if user == "root" else warnings).append(f"empty password for {user!r}")
        elif pw == "*" or pw.startswith("!"):
            continue
        elif pw.startswith("$"):
            errors.append(f"crypt password for {user!r}")
        elif pw == "x":
            errors.append(f"{user!r} has 'x' in /etc/passwd and no /etc/shadow line")
        else:
            warnings.append(f"garbage password for {user!r}")
    if errors:
        return FAIL, "; ".join(errors), tuple(warnings)
    return PASS, f"{len(passwds)} accounts, none with a password", tuple(warnings)


def check_override_cmd(image: Unpacked, run: Run) -> tuple[str, str, tuple[str, ...]]:
    """``echo`` as the entrypoint, then as the command after the image's own entrypoint."""
    hello = f"Hello world-{secrets.randbelow(32768)}-{secrets.randbelow(32768)}"
    if which(image, "echo") is None:
        return SKIP, "no echo: a single-binary image, as official-images assumes then", ()
    first = run(["echo", hello], b"")
    if first.returncode != 0 or first.stdout.decode(errors="replace") != hello + "\n":
        return FAIL, f"--entrypoint echo: {_tail(first)}", ()
    second = run([*image.entrypoint, "echo", hello], b"")
    if second.returncode != 0 or second.stdout.decode(errors="replace") != hello + "\n":
        return FAIL, f"echo after the entrypoint {list(image.entrypoint)}: {_tail(second)}", ()
    return PASS, "echo runs as entrypoint and as the command", ()


def _busybox_links(rootfs: Path) -> set[str]:
    target = inside(rootfs, "/bin/busybox")
    names: set[str] = set()
    for dirpath, dirnames, filenames in os.walk(rootfs):
        for name in filenames + dirnames:
            path = Path(dirpath) / name
            if path.is_symlink():
                rel = "/" + str(path.relative_to(rootfs))
                if inside(rootfs, rel) == target:
                    names.add(name)
    return names


def check_busybox(image: Unpacked, run: Run) -> tuple[str, str, tuple[str, ...]]:
    """``busybox --list`` equals the links to /bin/busybox; ``/usr/bin/env sh -xec true`` runs."""
    if inside(image.rootfs, "/bin/busybox") is None:
        return FAIL, "no /bin/busybox", ()
    proc = run(["/bin/busybox", "--list"], b"")
    if proc.returncode != 0:
        return FAIL, f"busybox --list: {_tail(proc)}", ()
    listed = set(proc.stdout.decode(errors="replace").split())
    links = _busybox_links(image.rootfs)
    if listed != links:
        missing, extra = sorted(listed - links), sorted(links - listed)
        return FAIL, f"applets without a link: {missing[:8]}; links to no applet: {extra[:8]}", ()
    # busybox's image build runs `chroot rootfs /usr/bin/env sh -xec true`; under qemu-user
    # without binfmt_misc env cannot exec another foreign program, so sh runs directly there.
    chrooted = host_arch() == image.arch and os.geteuid() == 0
    argv = ["/usr/bin/env", "sh", "-xec", "true"] if chrooted else ["sh", "-xec", "true"]
    if which(image, argv[0]) is None or which(image, "sh") is None:
        return PASS, f"{len(listed)} applets, one link each (no env/sh to run)", ()
    proc = run(argv, b"")
    if proc.returncode != 0:
        return FAIL, f"{' '.join(argv)}: {_tail(proc)}", ()
    return PASS, f"{len(listed)} applets, one link each; {' '.join(argv)} ran", ()


_CHECKS: dict[str, Callable[[Unpacked, Run], tuple[str, str, tuple[str, ...]]]] = {
    "utc": check_utc,
    "no-hard-coded-passwords": check_passwords,
    "override-cmd": check_override_cmd,
    "busybox": check_busybox,
}


def run_checks(image: Unpacked, checks: Sequence[str] = CHECKS) -> list[CheckResult]:
    """Run ``checks`` on one unpacked platform."""
    run = _runner(image)
    out = []
    for name in checks:
        status, detail, warnings = _CHECKS[name](image, run)
        out.append(CheckResult(name, str(image.platform), status, detail, warnings))
    return out


def check_layout(
    layout: Path, tag: str = "latest", checks: Sequence[str] = CHECKS, work: Path | None = None
) -> list[CheckResult]:
    """Unpack every platform ``tag`` names in the OCI layout and run ``checks`` on each.

    Raises:
        UserError: not a layout, no such tag, an unknown check, a blob that fails its digest.
        ToolchainError: umoci, or the qemu-user a platform needs, is missing.
    """
    unknown = [c for c in checks if c not in _CHECKS]
    if unknown:
        raise UserError(f"unknown image check {unknown[0]!r}; known: {', '.join(CHECKS)}")
    results: list[CheckResult] = []
    with tempfile.TemporaryDirectory(prefix="busyconf-check-", dir=work) as tmp:
        for i, found in enumerate(platform_manifests(layout, tag)):
            image = unpack(layout, found, Path(tmp) / str(i))
            results.extend(run_checks(image, checks))
            shutil.rmtree(Path(tmp) / str(i), ignore_errors=True)
    return results
