"""Compilers that produce static musl binaries: zig, musl-gcc, cross prefixes.

A :class:`Toolchain` knows its version (for the manifest) and writes small
``sh`` wrapper scripts into a build directory; BusyBox's make is then pointed
at them with ``CROSS_COMPILE=<dir>/``, so ``$(CROSS_COMPILE)gcc``,
``...ar`` and ``...strip`` resolve to the wrappers whatever the .config says.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import re
import shlex
import shutil
import stat
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from busyconf.build.arch import Arch
from busyconf.errors import ToolchainError, UserError

# Flags BusyBox's Makefile.flags and trylink pass that `zig cc` rejects.
# Dropping them changes nothing in the output (maps, warnings, gcc-only tuning).
ZIG_DROPPED_FLAGS: tuple[str, ...] = (
    "-Wl,--warn-common",
    "-Wl,--verbose",
    "-Wl,-Map,*",
    "-Wl,--sort-common",
    "-Wl,--sort-section,alignment",
    "-finline-limit=*",
    "-falign-jumps=*",
    "-falign-labels=*",
    "-static-libgcc",
)

# Size flags for zig (clang), kept only because BusyBox's own test suite
# passes with them (bench/build_vs_gcc.py --check). BusyBox asks gcc for
# -finline-limit=0, which clang rejects; -inline-threshold=0 is clang's
# equivalent and what closes most of the size gap to gcc.
ZIG_SIZE_FLAGS: tuple[str, ...] = ("-mllvm", "-inline-threshold=0")

_SAFE_WORD = re.compile(r"^[A-Za-z0-9_./+=,:@%-]+$")
# A cross prefix is a triplet and a dash: words joined by '-' or '.', never '..',
# no '/' (it becomes part of a cache folder's name and of program names on PATH).
_SAFE_PREFIX = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_+]*(?:[-.][A-Za-z0-9_+]+)*-$")


@dataclass(frozen=True)
class MakeTools:
    """What the build passes to make: variables and the tool directory."""

    variables: dict[str, str]
    tools_dir: Path


@dataclass(frozen=True)
class Toolchain:
    """A resolved compiler.

    Attributes:
        name: what the user chose: ``zig``, ``musl-gcc`` or a prefix ``aarch64-linux-musl-``.
        kind: ``zig``, ``musl-gcc`` or ``cross``.
        compiler: absolute path of the compiler executable.
        version: one line for the manifest.
    """

    name: str
    kind: str
    compiler: Path
    version: str

    def compile_flags(self, arch: Arch, release: str) -> tuple[str, ...]:
        """Target, CPU and per-release fix flags for ``arch``."""
        flags: list[str] = []
        if self.kind == "zig":
            flags += ["-target", arch.zig_target, *ZIG_SIZE_FLAGS, *arch.zig_cflags]
        flags += [*arch.cflags, *arch.fix_cflags(release)]
        return tuple(flags)

    def prefix_maps(self) -> tuple[str, ...]:
        """The compile flag that writes ``__FILE__`` of zig's own files relative.

        The wrapper adds the same for make's ``$srctree`` and ``$objtree`` when
        it runs (:data:`RELATIVE_FILE`). BusyBox's unit tests (UNIT_TEST) print
        ``__FILE__``: without these the binary held the builder's cache folder
        and differed, in content and size, from one user's home to another's.
        Debug info keeps absolute paths (``-fmacro-prefix-map``, not
        ``-ffile-prefix-map``): a DEBUG build is for a debugger on this machine.
        """
        if self.kind != "zig":
            return ()
        # zig on PATH may be a link: its headers are beside the real executable.
        return (f"-fmacro-prefix-map={self.compiler.resolve().parent}/=zig/",)

    def write_wrappers(self, arch: Arch, release: str, tools_dir: Path) -> MakeTools:
        """Write ``gcc``/``ar``/``strip`` wrappers into ``tools_dir/<hash>`` (idempotent).

        The sub-directory is named after a hash of the scripts, so any change
        of flags changes ``CROSS_COMPILE`` and with it every command line
        kbuild compares: make then rebuilds what the new flags affect instead
        of keeping objects compiled with the old ones.
        """
        tools_dir.mkdir(parents=True, exist_ok=True)
        link_objects: list[str] = []
        maps = self.prefix_maps()
        if self.kind == "zig":
            cc = [str(self.compiler), "cc", *self.compile_flags(arch, release), *maps]
            ar = [str(self.compiler), "ar"]
            link_objects = [
                str(self._link_object(cc, source, tools_dir)) for source in arch.zig_link_sources(release)
            ]
        elif self.kind == "musl-gcc":
            headers = kernel_headers_dir(tools_dir / "kernel-headers")
            cc = [str(self.compiler), "-isystem", str(headers), *self.compile_flags(arch, release), *maps]
            ar = [_which_or_fail("ar")]
        else:
            cc = [str(self.compiler), *self.compile_flags(arch, release), *maps]
            ar = [_which_or_fail(self.name + "ar")]
        scripts = {
            "gcc": _cc_script(cc, drop=self.kind == "zig", link_objects=link_objects),
            "ar": _exec_script(ar),
            "strip": self._strip_script(arch),
        }
        digest = hashlib.sha256(json.dumps(scripts, sort_keys=True).encode()).hexdigest()[:12]
        current = tools_dir / digest
        current.mkdir(exist_ok=True)
        for name, text in scripts.items():
            _write_script(current / name, text)
        for old in tools_dir.iterdir():
            if old.is_dir() and old != current and re.fullmatch(r"[0-9a-f]{12}", old.name):
                shutil.rmtree(old, ignore_errors=True)
            elif old.name in scripts and old.is_file():
                old.unlink()  # wrappers of busyconf versions before the hashed layout
            elif old.name.startswith("link-") and str(old.with_suffix(".o")) not in link_objects:
                old.unlink()  # a link fix compiled for other flags
        variables = {
            "CROSS_COMPILE": f"{current}/",
            "ARCH": arch.make_arch,
            "HOSTCC": shutil.which("gcc") or shutil.which("cc") or "gcc",
        }
        return MakeTools(variables=variables, tools_dir=current)

    @staticmethod
    def _link_object(cc: list[str], source: str, tools_dir: Path) -> Path:
        """Compile a fix's C ``source`` once into ``tools_dir/link-<hash>.o``."""
        digest = hashlib.sha256(json.dumps([cc, source]).encode()).hexdigest()[:12]
        obj = tools_dir / f"link-{digest}.o"
        if obj.is_file():
            return obj
        src = tools_dir / f"link-{digest}.c"
        src.write_text(source)
        tmp = obj.with_suffix(".o.tmp")
        proc = subprocess.run(
            [*cc, "-Os", "-c", str(src), "-o", str(tmp)],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            check=False,
        )
        if proc.returncode != 0:
            lines = (proc.stderr or proc.stdout).strip().splitlines()
            raise ToolchainError(f"{src}: compiling a link fix failed: {lines[-1] if lines else 'no output'}")
        os.replace(tmp, obj)
        return obj

    def _strip_script(self, arch: Arch) -> str:
        llvm_strip = find_llvm_strip()
        if self.kind == "cross":
            return _exec_script([_which_or_fail(self.name + "strip")])
        if self.kind == "musl-gcc":
            return _exec_script([_which_or_fail("strip")])
        if llvm_strip:
            return _exec_script([llvm_strip])
        if arch.needs_llvm_strip:
            raise ToolchainError(
                f"arch {arch.name} needs llvm-strip (to drop MIPS .pdr) and none is on PATH; "
                "install Debian's llvm package"
            )
        # zig links with -s already: the output is stripped, copying is enough.
        return (
            "#!/bin/sh\n# generated by busyconf: zig output is already stripped\n"
            "out=; in=\nwhile [ $# -gt 0 ]; do\n  case $1 in\n"
            "    -o) out=$2; shift ;;\n    -*) ;;\n    *) in=$1 ;;\n  esac\n  shift\ndone\n"
            'exec cp "$in" "$out"\n'
        )


def _which_or_fail(tool: str) -> str:
    path = shutil.which(tool)
    if not path:
        raise ToolchainError(f"{tool} not found on PATH")
    return path


def _write_script(path: Path, text: str) -> None:
    # Rewrite only on change so make's view of the tools stays stable.
    if path.exists() and path.read_text() == text:
        return
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    tmp.chmod(tmp.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    os.replace(tmp, path)


#: Shell words the compiler wrapper adds when make runs it: ``__FILE__`` relative to the
#: source and object trees kbuild exports. Read when it runs, so that the wrapper (and the
#: tools digest calibration shards must agree on) does not depend on the cache folder.
RELATIVE_FILE = '${srctree:+"-fmacro-prefix-map=$srctree/="} ${objtree:+"-fmacro-prefix-map=$objtree/="}'


def _exec_script(argv: list[str]) -> str:
    return "#!/bin/sh\n# generated by busyconf\nexec " + shlex.join(argv) + ' "$@"\n'


def _cc_script(argv: list[str], *, drop: bool, link_objects: Sequence[str] = ()) -> str:
    """The compiler wrapper: drops flags zig rejects (``drop``), writes ``__FILE__`` relative
    (:data:`RELATIVE_FILE`) and appends ``link_objects`` when it links (an ``-o`` and no
    ``-c``/``-S``/``-E``/``-M``)."""
    run = "exec " + shlex.join(argv) + f' {RELATIVE_FILE} "$@"\n'
    if not drop and not link_objects:
        return "#!/bin/sh\n# generated by busyconf\n" + run
    patterns = "|".join(ZIG_DROPPED_FLAGS) if drop else "''"
    if not link_objects:
        return (
            "#!/bin/sh\n# generated by busyconf: drop flags zig cc rejects\n"
            "for a do\n  shift\n  case $a in\n"
            f"    {patterns}) ;;\n"
            '    *) set -- "$@" "$a" ;;\n  esac\ndone\n' + run
        )
    return (
        "#!/bin/sh\n# generated by busyconf: drop flags zig cc rejects, add link fixes\n"
        "link=; out=\nfor a do\n  shift\n  case $a in\n"
        f"    {patterns}) ;;\n"
        '    -c|-S|-E|-M|-MM) link=no; set -- "$@" "$a" ;;\n'
        '    -o) out=yes; set -- "$@" "$a" ;;\n'
        '    *) set -- "$@" "$a" ;;\n  esac\ndone\n'
        'if [ -n "$out" ] && [ -z "$link" ]; then set -- "$@" ' + shlex.join(link_objects) + "; fi\n" + run
    )


def kernel_headers_dir(dest: Path) -> Path:
    """A directory of links to the host's Linux UAPI headers.

    Debian's musl-gcc searches only musl's own include directory, so
    ``<linux/kd.h>`` and friends are missing; ``-isystem`` on this directory
    adds them (``linux``, ``asm``, ``asm-generic``, ``mtd``) without glibc's headers.
    """
    dest.mkdir(parents=True, exist_ok=True)
    multiarch = Path("/usr/include") / f"{platform.machine()}-linux-gnu"
    for name, src in (
        ("linux", Path("/usr/include/linux")),
        ("asm", multiarch / "asm"),
        ("asm-generic", Path("/usr/include/asm-generic")),
        ("mtd", Path("/usr/include/mtd")),
    ):
        link = dest / name
        if src.is_dir() and not link.exists():
            link.symlink_to(src)
    if not (dest / "linux").exists():
        raise ToolchainError("musl-gcc needs Linux kernel headers: install Debian's linux-libc-dev")
    return dest


def find_llvm_strip() -> str | None:
    """``llvm-strip`` or Debian's versioned ``llvm-strip-N``."""
    found = shutil.which("llvm-strip")
    if found:
        return found
    for n in range(30, 10, -1):
        found = shutil.which(f"llvm-strip-{n}")
        if found:
            return found
    return None


def find_zig() -> Path | None:
    """The ``zig`` executable inside the ziglang package, else ``zig`` on PATH.

    Called directly, not via ``python -m ziglang``: that adds a Python start-up
    to each of about 1,500 compiler calls.
    """
    try:
        import ziglang  # type: ignore[import-untyped]

        exe = Path(ziglang.__file__).parent / "zig"
        if exe.is_file():
            return exe
    except ImportError:
        pass
    found = shutil.which("zig")
    return Path(found) if found else None


def _version(argv: list[str]) -> str:
    try:
        proc = subprocess.run(
            argv, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60, check=False
        )
    except OSError as exc:
        raise ToolchainError(f"cannot run {argv[0]}: {exc.strerror}") from exc
    lines = (proc.stdout or proc.stderr).strip().splitlines()
    return lines[0].strip() if lines else "unknown"


def _musl_version() -> str | None:
    # musl's dynamic loader prints its version when run without arguments.
    for loader in Path("/lib").glob("ld-musl-*.so.1"):
        proc = subprocess.run(
            [str(loader)], stdin=subprocess.DEVNULL, capture_output=True, text=True, check=False
        )
        for line in proc.stderr.splitlines():
            if line.startswith("Version "):
                return line.split()[1]
    return None


def check_toolchain_name(name: str) -> str:
    """``name`` if it is zig, musl-gcc or a well-formed cross prefix; else a one-line UserError.

    Checked before any folder named after it is made.
    """
    if name in ("zig", "musl-gcc") or (len(name) <= 100 and _SAFE_PREFIX.match(name)):
        return name
    raise UserError(
        f"unknown toolchain {name!r}; use zig, musl-gcc or a cross prefix ending in '-' "
        "(such as aarch64-linux-musl-)"
    )


def resolve_toolchain(name: str, arch: Arch) -> Toolchain:
    """The toolchain called ``name`` for ``arch``.

    Raises:
        UserError: unknown name, or a toolchain that cannot target ``arch``.
        ToolchainError: the toolchain is not installed.
    """
    check_toolchain_name(name)
    if name == "zig":
        zig = find_zig()
        if zig is None:
            raise ToolchainError("zig not found: install the ziglang package (pip install ziglang)")
        return Toolchain("zig", "zig", zig, "zig " + _version([str(zig), "version"]))
    if name == "musl-gcc":
        host = platform.machine()
        if arch.name != "x86_64" or host not in ("x86_64", "amd64"):
            raise UserError(
                f"toolchain musl-gcc builds only for the x86_64 host, not arch {arch.name}; "
                "use zig or a cross prefix"
            )
        exe = _which_or_fail("musl-gcc")
        version = _version([exe, "--version"])
        musl = _musl_version()
        return Toolchain("musl-gcc", "musl-gcc", Path(exe), version + (f" + musl {musl}" if musl else ""))
    cross = shutil.which(name + "gcc")
    if cross is None:
        raise ToolchainError(f"toolchain {name}: {name}gcc not found on PATH")
    return Toolchain(name, "cross", Path(cross), _version([cross, "--version"]))


def detect_toolchains(arch: Arch) -> list[str]:
    """Names of the toolchains usable for ``arch`` on this machine."""
    names: list[str] = []
    if find_zig() is not None:
        names.append("zig")
    if arch.name == "x86_64" and platform.machine() in ("x86_64", "amd64") and shutil.which("musl-gcc"):
        names.append("musl-gcc")
    if shutil.which(arch.cross_prefix + "gcc"):
        names.append(arch.cross_prefix)
    return names


def is_safe_word(text: str) -> bool:
    """True when ``text`` can appear in a make or sh command line unquoted."""
    return bool(_SAFE_WORD.match(text))
