"""A private kbuild tree for measuring sizes (separate from ``busyconf build``'s).

Reuses the build layer's toolchain wrappers, CPU data and make runner; the
tree lives in ``cache_root()/size/work/<release>-<arch>-<toolchain>`` so that
calibration and ``--measure`` never fight a user's build for its directory.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path

from busyconf.build import runner
from busyconf.build.arch import Arch, get_arch
from busyconf.build.kbuild import Kbuild, build_lock, buildable_config, date_epoch, prepared_source
from busyconf.build.toolchain import MakeTools, Toolchain, resolve_toolchain
from busyconf.errors import BuildError, UserError
from busyconf.source import SourceCache, cache_root

Line = Callable[[str], None]


@dataclass(frozen=True)
class WorkTree:
    """One measuring build directory for (release, arch, toolchain)."""

    release: str
    arch: Arch
    toolchain: Toolchain
    root: Path
    srctree: Path
    tools: MakeTools

    @property
    def obj(self) -> Path:
        return self.root / "obj"

    @property
    def binary(self) -> Path:
        return self.obj / "busybox_unstripped"

    @property
    def kbuild(self) -> Kbuild:
        return Kbuild(self.srctree, self.obj, self.tools, date_epoch(self.srctree))


def work_root(release: str, arch: str, toolchain: str) -> Path:
    """The measuring tree's folder; every name in it is checked before anyone makes it."""
    from busyconf.build.toolchain import check_toolchain_name
    from busyconf.source.releases import check_version

    check_version(release)
    get_arch(arch)
    check_toolchain_name(toolchain)
    slug = toolchain.rstrip("-") or "cross"
    return Path(cache_root()) / "size" / "work" / f"{release}-{arch}-{slug}"


def open_worktree(release: str, arch_name: str, toolchain_name: str = "zig") -> WorkTree:
    """Prepare (idempotently) the measuring tree and its toolchain wrappers."""
    arch = get_arch(arch_name)
    if not arch.supported:
        raise UserError(f"arch {arch.name} is not supported: {arch.reason}")
    toolchain = resolve_toolchain(toolchain_name, arch)
    root = work_root(release, arch.name, toolchain.name)
    src = SourceCache().tree(release)
    root.mkdir(parents=True, exist_ok=True)
    srctree = prepared_source(src, arch, release, root)
    tools = toolchain.write_wrappers(arch, release, root / "tools")
    (root / "obj").mkdir(exist_ok=True)
    return WorkTree(release, arch, toolchain, root, srctree, tools)


def make_binary(
    wt: WorkTree,
    config_text: str,
    *,
    jobs: int = 2,
    on_line: Line | None = None,
    cancel: threading.Event | None = None,
    locked: bool = False,
) -> int:
    """Build ``config_text`` in the measuring tree; the stripped size in bytes.

    ``locked``: the caller holds the tree's build lock already.
    """
    text, _ = buildable_config(config_text, wt.release, wt.arch.name, wt.toolchain.kind)
    with nullcontext() if locked else build_lock(wt.root, cancel=cancel):
        cfg = wt.obj / ".config"
        if not cfg.is_file() or cfg.read_text() != text:
            cfg.write_text(text)
        log_path = wt.root / "last-build.log"
        with log_path.open("w") as log:

            def line(s: str) -> None:
                log.write(s + "\n")
                if on_line:
                    on_line(s)

            res = wt.kbuild.configure(wt.root, line, cancel)
            if res.returncode != 0:
                raise BuildError(f"{log_path}: make oldconfig failed (exit {res.returncode})")
            res = wt.kbuild.make(f"-j{jobs}", "busybox", cwd=wt.root, on_line=line, cancel=cancel)
        if res.returncode != 0 or not wt.binary.is_file():
            tail = res.tail[-1] if res.tail else ""
            raise BuildError(f"{log_path}: make failed (exit {res.returncode}): {tail.strip()}")
        return stripped_size(wt, wt.binary)


def stripped_size(wt: WorkTree, binary: Path) -> int:
    """Size after the strip the build would do (zig output is already stripped but for MIPS .pdr)."""
    if not wt.arch.needs_llvm_strip:
        return binary.stat().st_size
    out = binary.with_name(binary.name + ".stripped")
    res = runner.run([str(wt.tools.tools_dir / "strip"), "-o", str(out), str(binary)], cwd=wt.root)
    if res.returncode != 0:
        raise BuildError(f"{binary}: strip failed")
    return out.stat().st_size
