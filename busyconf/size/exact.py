"""Exact stripped size of a configuration in seconds, without a full build.

Every object kbuild compiled in the measuring tree is kept in a cache keyed by
its compile command and the contents of the generated files it depends on:
kbuild's ``.cmd`` files list each object's ``include/config/*.h`` files (one
per config symbol the source mentions, written by BusyBox's ``split-include``)
and generated headers such as ``include/applet_tables.h``. For a new
configuration :class:`ExactEngine` does what BusyBox's make does, minus make:

1. ``conf -s`` writes ``include/autoconf.h``; ``split-include``,
   ``mkconfigs``, ``generate_BUFSIZ.sh`` and ``embedded_scripts`` write the
   other generated headers; the applet-table and usage host programs (cached
   like objects) write ``applet_tables.h`` and ``usage_compressed.h``.
2. The objects of each directory are the ``lib-y`` of its ``Kbuild`` file,
   evaluated by GNU make against ``.config``.
3. An object whose key is cached is restored; the others are compiled with
   the command of their ``.cmd`` file (two at a time) and ``fixdep`` records
   their new dependencies, as kbuild does. An object this tree never
   compiled is compiled once by kbuild's own make (``make dir/file.o``).
4. ``zig ld.lld`` relinks with the tree's own ``ld.lld`` arguments, each
   directory's objects given as ``--start-lib ... --end-lib`` (archive
   semantics, in ``lib.a``'s sorted member order); MIPS output is stripped
   of ``.pdr`` as the build's strip does.

The compile commands depend on the tool wrappers and on a few symbols
(``Makefile.flags``: ``LFS``, ``DEBUG``...): the first configuration with a
new combination runs the real kbuild build once; its ``.cmd`` files are kept
per combination, so coming back to a known one is fast again. Restored and
compiled objects keep kbuild's own bookkeeping right, so a later ``make`` in
the tree rebuilds exactly what it should.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import shlex
import shutil
import threading
import time
import uuid
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from busyconf.build import config_lines as bdot
from busyconf.build import runner
from busyconf.build.kbuild import build_lock, buildable_config
from busyconf.build.toolchain import find_zig
from busyconf.errors import BuildError, Interrupted, ToolchainError
from busyconf.size.autoconf import force_autoconf
from busyconf.size.kbuild_facts import FLAG_SYMBOLS, FLAGS_RULE, HOST_PROGRAMS, LIST_MK
from busyconf.size.linkmap import lld_args
from busyconf.size.objindex import ObjectIndex
from busyconf.size.workdir import Line, WorkTree, make_binary, open_worktree, stripped_size


class Built(NamedTuple):
    """What a thread's last measurement built: the ``.config`` values and each target's cached key."""

    values: dict[str, str]
    keys: dict[str, str]


@dataclass(frozen=True)
class ExactResult:
    """One exact measurement."""

    size: int
    compiled: int
    restored: int
    seconds: float
    full_build: bool


class ExactEngine:
    """Exact sizes for one (release, arch, toolchain) measuring tree; one measurement at a time."""

    def __init__(self, wt: WorkTree, jobs: int = 2) -> None:
        zig = find_zig()
        if zig is None:
            raise ToolchainError("zig not found: exact sizes relink with zig ld.lld")
        self.wt = wt
        self.zig = zig
        self.jobs = jobs
        self.obj = wt.obj
        self.cache = wt.root / "objcache"
        self.cache.mkdir(exist_ok=True)
        self._index = ObjectIndex(self.cache / "index.json")
        self._state_path = wt.root / "exact-state.json"
        self._state: dict[str, Any] = {}
        self._tree: dict[str, list[object]] = {}
        self._reload_state()
        self._lock = threading.Lock()
        # Per thread: the objects of the configuration it measured last, how to measure it
        # again and the generation of the tree it left (to know when to).
        self._mine = threading.local()

    @staticmethod
    def _load_json(path: Path, default: dict[str, Any]) -> dict[str, Any]:
        try:
            data: dict[str, Any] = json.loads(path.read_text())
            return data
        except (OSError, json.JSONDecodeError):
            return default

    def _reload_state(self) -> None:
        """The tree as the state file records it: another process may have built in it since."""
        self._state = self._load_json(self._state_path, {})
        self._tree = self._state.setdefault("tree", {})

    def _save(self) -> None:
        self._index.save()
        self._state["generation"] = self._mine.generation = uuid.uuid4().hex
        tmp = self._state_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self._state))
        os.replace(tmp, self._state_path)

    def measure(
        self,
        config_text: str,
        cancel: threading.Event | None = None,
        on_line: Line | None = None,
        reuse: Mapping[str, str] | None = None,
        force: Mapping[str, bool] | None = None,
    ) -> ExactResult:
        """The stripped size of ``config_text`` (a full .config), built as ``busyconf build`` would.

        ``reuse`` (calibration only; the result is then approximate): target ->
        cached key to link instead of this configuration's object, compiled or
        cached, so that the result does not depend on what was built before. ``force``
        (calibration only): symbols set in the compiled headers whatever
        Kconfig says, to measure a hidden symbol that options ``select``.
        """
        self._mine.objs = self._mine.built = None
        self._mine.again = functools.partial(
            self._measure_locked, config_text, None, None, dict(reuse or {}), dict(force or {})
        )
        # One lock from reading the tree's record to writing it back: the editor, a bench and
        # a calibration may share this tree from several processes.
        with build_lock(self.wt.root, cancel=cancel):
            result = self._measure_locked(config_text, cancel, on_line, reuse or {}, force or {})
            values = bdot.parse((self.obj / ".config").read_text())
            self._mine.built = Built(values, {t: str(v[0]) for t, v in self._tree.items()})
            return result

    def _measure_locked(
        self,
        config_text: str,
        cancel: threading.Event | None,
        on_line: Line | None,
        reuse: Mapping[str, str],
        force: Mapping[str, bool],
    ) -> ExactResult:
        start = time.monotonic()
        text, _ = buildable_config(config_text, self.wt.release, self.wt.arch.name, self.wt.toolchain.kind)
        self._reload_state()
        if self._state.get("lld"):
            try:
                self._configure(text, force)
                if self._switch_flags():
                    fast = self._fast(cancel, reuse)
                    if fast is not None:
                        size, compiled, restored = fast
                        return ExactResult(size, compiled, restored, time.monotonic() - start, False)
            except BaseException:
                self._save()  # the flags the tree was switched to, and what it now holds
                raise
        if force:
            raise BuildError(f"{self.obj}: forced symbols need a tree built once with these flags")
        return self._full(config_text, start, cancel, on_line)

    def _flags(self) -> str:
        """A digest of what changes every compile command: the tool wrappers and some symbols' values."""
        values = bdot.parse((self.obj / ".config").read_text())
        # Unset symbols count as "": the digest names the cached command files.
        chosen = {s: "" if values.get(s, "n") == "n" else values[s] for s in FLAG_SYMBOLS}
        flags = json.dumps([self.wt.tools.variables, chosen, FLAGS_RULE], sort_keys=True)
        return hashlib.sha256(flags.encode()).hexdigest()[:16]

    def _switch_flags(self) -> bool:
        """Make the tree's ``.cmd`` files those of the current flags; False when never built with them."""
        sig = self._flags()
        if self._state.get("flags") == sig:
            return True
        snap = self.cache / "cmds" / sig
        lld = self._state.get("lld_by_flags", {}).get(sig)
        if not lld or not snap.is_dir():
            return False
        known = self._snapshot_targets(sig)
        for target in known:
            shutil.copyfile(snap / _snapshot_name(target), self._cmd_path(target))
            (self.obj / target).unlink(missing_ok=True)
            self._tree.pop(target, None)
        self._drop_other_commands(known)
        self._state["flags"] = sig
        self._state["lld"] = lld
        return True

    def _snapshot_targets(self, sig: str) -> set[str]:
        """The targets whose commands the snapshot of flags ``sig`` holds."""
        return {f.name[: -len(".cmd")].replace("__", "/") for f in (self.cache / "cmds" / sig).iterdir()}

    def _drop_other_commands(self, known: set[str]) -> None:
        """Remove the objects (and commands) the current flags' snapshot does not have.

        An object never compiled with these flags keeps the command of other flags (or of
        tool wrappers since replaced): without it, make compiles it afresh instead of this
        engine running the wrong command. The built-in.o commands only list objects.
        """
        for cmd in self.obj.rglob(".*.o.cmd"):
            target = str(cmd.relative_to(self.obj).with_name(cmd.name[1 : -len(".cmd")]))
            if target.startswith("scripts/"):
                continue  # kconfig's host objects: compiled by the host's cc, whatever the flags
            if target not in known and cmd.name != ".built-in.o.cmd":
                cmd.unlink()
                (self.obj / target).unlink(missing_ok=True)
                self._tree.pop(target, None)

    def _snapshot(self, targets: Sequence[str]) -> None:
        snap = self.cache / "cmds" / str(self._state["flags"])
        snap.mkdir(parents=True, exist_ok=True)
        for t in targets:
            if self._cmd_path(t).is_file():
                shutil.copyfile(self._cmd_path(t), snap / _snapshot_name(t))

    def _fast(self, cancel: threading.Event | None, reuse: Mapping[str, str]) -> tuple[int, int, int] | None:
        """(size, compiled, restored), or None when only a real build can tell."""
        self._run_cached(list(HOST_PROGRAMS), cancel)
        self._generate()
        objs, core = self._objects()
        targets = [*core, *(o for members in objs.values() for o in members)]
        missing = [t for t in targets if not self._cmd_path(t).is_file()]
        if missing:
            self._make_objects(missing, cancel)
            if any(not self._cmd_path(t).is_file() for t in missing):
                return None
        compiled, restored = self._run_cached(targets, cancel, reuse)
        self._builtin()
        self._mine.objs = objs
        size = self._link()
        self._save()
        return size, compiled, restored

    def _make_objects(self, targets: Sequence[str], cancel: threading.Event | None) -> None:
        """Objects never compiled in this tree: kbuild's make compiles them (and records their commands)."""
        res = self.wt.kbuild.make(*targets, cwd=self.wt.root, cancel=cancel)
        if res.returncode == 0:
            self.harvest(targets)
            self._snapshot(targets)

    # -- the real build, for misses the fast path cannot serve ------------------

    def _full(
        self, config_text: str, start: float, cancel: threading.Event | None, on_line: Line | None
    ) -> ExactResult:
        try:
            size = make_binary(
                self.wt, config_text, on_line=on_line, cancel=cancel, jobs=self.jobs, locked=True
            )
        except (BuildError, Interrupted):
            # make may have recompiled objects (and their commands) with other flags before it
            # stopped: the next measurement must switch the tree back rather than trust it.
            self._state["flags"] = ""
            self._save()
            raise
        args = lld_args(self.obj, self.zig)
        sig = self._flags()
        by_flags = dict(self._state.get("lld_by_flags", {}))
        by_flags[sig] = args
        self._tree = {}
        self._state = {"lld": args, "flags": sig, "tree": self._tree, "lld_by_flags": by_flags}
        objs, core = self._objects()
        self._mine.objs = objs
        targets = [*HOST_PROGRAMS, *core, *(o for os_ in objs.values() for o in os_)]
        stored = self.harvest(targets)
        self._snapshot(targets)
        self._drop_other_commands(self._snapshot_targets(sig))
        self._save()
        return ExactResult(size, -1, stored, time.monotonic() - start, True)

    def harvest(self, targets: Sequence[str]) -> int:
        """Store the tree's current ``targets`` in the cache; how many were new."""
        hashes: dict[str, str] = {}
        new = 0
        for t in targets:
            if (self.obj / t).is_file() and self._cmd_path(t).is_file():
                cmd, deps = self._read_cmd(t)
                key = self._key(cmd, deps, hashes)
                if self._lookup(t, deps, cmd, hashes) is None:
                    self._store(t, cmd, deps, key)
                    new += 1
        return new

    # -- configuration and generated headers -------------------------------------

    def _env(self) -> dict[str, str]:
        env = self.wt.kbuild.env()
        env["srctree"] = str(self.wt.srctree)
        env["objtree"] = str(self.obj)
        env.update(self.wt.tools.variables)
        cross = self.wt.tools.variables.get("CROSS_COMPILE", "")
        for var, tool in (("CC", "gcc"), ("AR", "ar"), ("NM", "nm"), ("STRIP", "strip"), ("LD", "ld")):
            env[var] = cross + tool
        return env

    def _sh(self, argv: Sequence[str] | str, what: str, cancel: threading.Event | None = None) -> None:
        """Run a program (a string: a command line kbuild recorded, run by sh) in the object folder."""
        cmd = ["/bin/sh", "-c", argv] if isinstance(argv, str) else list(argv)
        res = runner.run(cmd, cwd=self.obj, env=self._env(), cancel=cancel)
        if res.returncode != 0:
            tail = next((line for line in reversed(res.tail) if line.strip()), "no output")
            raise BuildError(f"{self.obj}: {what} failed (exit {res.returncode}): {tail}")

    def _configure(self, text: str, force: Mapping[str, bool] | None = None) -> None:
        cfg = self.obj / ".config"
        if not cfg.is_file() or cfg.read_text() != text:
            cfg.write_text(text)
        conf = ["scripts/kconfig/conf", "-s", "Config.in"]
        res = runner.run(conf, cwd=self.obj, env=self._env(), stdin_data=b"\n" * 2000)
        if res.returncode != 0:
            raise BuildError(f"{self.obj}: conf -s failed (exit {res.returncode})")
        if force:
            header = self.obj / "include" / "autoconf.h"
            header.write_text(force_autoconf(header.read_text(), force))
        self._sh(["scripts/basic/split-include", "include/autoconf.h", "include/config"], "split-include")

    def _generate(self) -> None:
        src = str(self.wt.srctree)
        self._sh(
            [f"{src}/scripts/mkconfigs", "include/bbconfigopts.h", "include/bbconfigopts_bz2.h"], "mkconfigs"
        )
        self._sh([f"{src}/scripts/generate_BUFSIZ.sh", "include/common_bufsiz.h"], "generate_BUFSIZ.sh")
        self._sh(
            [
                f"{src}/scripts/embedded_scripts",
                "include/embedded_scripts.h",
                f"{src}/embed",
                f"{src}/applets_sh",
            ],
            "embedded_scripts",
        )
        self._sh(
            ["applets/applet_tables", "include/applet_tables.h", "include/NUM_APPLETS.h"], "applet_tables"
        )
        self._sh(
            [f"{src}/applets/usage_compressed", "include/usage_compressed.h", "applets"], "usage_compressed"
        )

    def _objects(self) -> tuple[dict[str, list[str]], list[str]]:
        """Each library directory's objects (sorted, as in its lib.a) and the core objects."""
        dirs = self._dirs()
        mk = self.wt.root / "list-objects.mk"
        mk.write_text(LIST_MK.format(src=self.wt.srctree, obj=self.obj))
        lines: list[str] = []
        res = runner.run(
            ["make", "-s", "-f", str(mk), f"DIRS={' '.join(['applets', *dirs])}"],
            cwd=self.obj,
            env=self._env(),
            on_line=lines.append,
        )
        if res.returncode != 0:
            raise BuildError(f"{mk}: listing objects failed: {' '.join(res.tail)[-200:]}")
        objs: dict[str, list[str]] = {}
        core: list[str] = []
        for line in lines:
            parts = line.split()
            if len(parts) < 2:
                continue
            if parts[0] == "BBOBJS" and parts[1] != "applets":
                objs[parts[1]] = [f"{parts[1]}/{o}" for o in parts[2:]]
            elif parts[0] == "BBCORE" and parts[1] == "applets":
                core = [f"applets/{o}" for o in parts[2:]]
        return objs, core

    def _dirs(self) -> list[str]:
        args = self._state.get("lld") or []
        return [a[: -len("/lib.a")] for a in args if isinstance(a, str) and a.endswith("/lib.a")]

    # -- the object cache ------------------------------------------------------------

    def _cmd_path(self, target: str) -> Path:
        p = Path(target)
        return self.obj / p.parent / f".{p.name}.cmd"

    def _read_cmd(self, target: str) -> tuple[str, list[str]]:
        """(command as kbuild recorded it, generated files it depends on)."""
        text = self._cmd_path(target).read_text()
        cmd = ""
        deps: list[str] = []
        for line in text.splitlines():
            if line.startswith(f"cmd_{target} := "):
                cmd = line.split(" := ", 1)[1]
                continue
            s = line.strip().rstrip("\\").strip()
            if s.startswith("$(wildcard ") and s.endswith(")"):
                deps.append(s[len("$(wildcard ") : -1])
            elif (
                s
                and not s.startswith(("/", "deps_", "$(deps_", "cmd_"))
                and not s.endswith(":")
                and ":" not in s
            ):
                deps.append(s)
        return cmd, deps

    def _digest(self, rel: str, hashes: dict[str, str]) -> str:
        h = hashes.get(rel)
        if h is None:
            try:
                h = hashlib.sha1((self.obj / rel).read_bytes()).hexdigest()[:16]
            except OSError:
                h = "-"
            hashes[rel] = h
        return h

    def _key(self, cmd: str, deps: Sequence[str], hashes: dict[str, str]) -> str:
        h = hashlib.sha256(cmd.encode())
        for d in deps:
            h.update(f"\0{d}\0{self._digest(d, hashes)}".encode())
        return h.hexdigest()[:32]

    def _lookup(self, target: str, deps: Sequence[str], cmd: str, hashes: dict[str, str]) -> str | None:
        """The cached key for ``target`` that matches the tree's current generated files."""
        for entry in self._index.entries(target):
            key = self._key(cmd, entry["deps"], hashes)  # type: ignore[arg-type]
            if key == entry["key"] and (self.cache / target / key).is_file():
                return key
        return None

    def _store(self, target: str, cmd: str, deps: Sequence[str], key: str) -> None:
        folder = self.cache / target
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / f".{key}.tmp"
        shutil.copyfile(self.obj / target, tmp)
        os.replace(tmp, folder / key)
        shutil.copyfile(self._cmd_path(target), folder / f"{key}.cmd")
        self._mark(target, key)
        self._index.add(target, key, deps)

    def _run_cached(
        self, targets: Sequence[str], cancel: threading.Event | None, reuse: Mapping[str, str] | None = None
    ) -> tuple[int, int]:
        """Restore each target from the cache or compile it; (compiled, restored)."""
        hashes: dict[str, str] = {}
        misses: list[str] = []
        restored = 0
        for t in targets:
            cmd, deps = self._read_cmd(t)
            cur = self._key(cmd, deps, hashes) if (self.obj / t).is_file() else None
            key = self._lookup(t, deps, cmd, hashes)
            stand_in = reuse.get(t) if reuse else None
            # The stand-in even when this configuration's object happens to be cached: a toggle
            # measured with stand-ins must not depend on what was compiled before it (calibration
            # shards measure different toggles first and must agree with an unsharded run).
            if stand_in is not None and key != stand_in and (self.cache / t / stand_in).is_file():
                # Stand-in compiled for other values: dated 1970 so that make rebuilds it.
                shutil.copyfile(self.cache / t / stand_in, self.obj / t)
                shutil.copyfile(self.cache / t / f"{stand_in}.cmd", self._cmd_path(t))
                os.utime(self.obj / t, (0, 0))
                self._tree.pop(t, None)
                restored += 1
                continue
            if key is None:
                misses.append(t)
                continue
            if key != cur or not self._in_tree(t, key):
                folder = self.cache / t
                shutil.copyfile(folder / key, self.obj / t)
                shutil.copyfile(folder / f"{key}.cmd", self._cmd_path(t))
                if t in HOST_PROGRAMS:
                    os.chmod(self.obj / t, 0o755)
                self._mark(t, key)
                restored += 1
        if misses:
            with ThreadPoolExecutor(max_workers=self.jobs) as pool:
                for f in [pool.submit(self._compile, t, cancel) for t in misses]:
                    f.result()
            hashes = {}
            for t in misses:
                cmd, deps = self._read_cmd(t)
                self._store(t, cmd, deps, self._key(cmd, deps, hashes))
            self._snapshot(misses)
        return len(misses), restored

    def built(self) -> Built:
        """What this thread measured last.

        Taken under the build lock as the measurement ended: the tree may hold
        another engine's or thread's build by the time a calibration reads it.
        """
        built: Built | None = getattr(self._mine, "built", None)
        if built is None:
            raise BuildError(f"{self.obj}: nothing measured yet in this thread")
        return built

    def _in_tree(self, target: str, key: str) -> bool:
        """True when the tree's file is the cached ``key`` this engine put there (same stat)."""
        st = (self.obj / target).stat()
        return self._tree.get(target) == [key, st.st_mtime_ns, st.st_size]

    def _mark(self, target: str, key: str) -> None:
        st = (self.obj / target).stat()
        with self._lock:
            self._tree[target] = [key, st.st_mtime_ns, st.st_size]

    def _compile(self, target: str, cancel: threading.Event | None) -> None:
        if cancel is not None and cancel.is_set():
            raise Interrupted("measurement cancelled")
        cmd, _ = self._read_cmd(target)
        shell_cmd = cmd.replace("$$", "$").replace("\\#", "#")
        self._sh(shell_cmd, f"compiling {target}", cancel)
        depfile = next((a.split(",", 2)[2] for a in shlex.split(shell_cmd) if a.startswith("-Wp,-MD,")), None)
        if depfile is None or not (self.obj / depfile).is_file():
            return
        tmp = self._cmd_path(target).with_suffix(".tmp")
        res = runner.run(
            ["scripts/basic/fixdep", depfile, target, cmd], cwd=self.obj, stdout_to=tmp, cancel=cancel
        )
        if res.returncode != 0:
            raise BuildError(f"{self.obj}: fixdep for {target} failed: {' '.join(res.tail)}")
        (self.obj / depfile).unlink()
        os.replace(tmp, self._cmd_path(target))

    # -- the link ----------------------------------------------------------------------

    def _builtin(self) -> None:
        cmd, _ = self._read_cmd("applets/built-in.o")
        self._sh(cmd.replace("$$", "$"), "linking applets/built-in.o")

    def link(self, extra: Sequence[str] = (), output: Path | None = None) -> int:
        """Relink the configuration this thread measured last (``extra``: more ld.lld arguments).

        Its stripped size. When another engine has built in the tree since, that
        configuration is measured again first, so the relink never mixes two.
        """
        if getattr(self._mine, "objs", None) is None:
            raise BuildError(f"{self.obj}: nothing measured yet to relink")
        with build_lock(self.wt.root):
            if self._load_json(self._state_path, {}).get("generation") != self._mine.generation:
                self._mine.again()
            return self._link(extra, output)

    def _link(self, extra: Sequence[str] = (), output: Path | None = None) -> int:
        objs: dict[str, list[str]] = self._mine.objs
        args: list[str] = []
        for a in self._state["lld"]:
            if isinstance(a, str) and a.endswith("/lib.a"):
                members = objs.get(a[: -len("/lib.a")], [])
                if members:
                    args += ["--start-lib", *members, "--end-lib"]
            else:
                args.append(a)
        out = output or self.wt.root / "exact.bin"
        res = runner.run([str(self.zig), "ld.lld", *args, "-o", str(out), *extra], cwd=self.obj)
        if res.returncode != 0:
            first = next((line for line in res.tail if line.strip()), "no output")
            raise BuildError(f"{self.obj}: relink failed: {first}")
        return stripped_size(self.wt, out)


def _snapshot_name(target: str) -> str:
    return target.replace("/", "__") + ".cmd"  # a target's command file in a snapshot folder


_ENGINES: dict[tuple[str, str, str], ExactEngine] = {}
_ENGINES_LOCK = threading.Lock()


def engine_for(release: str, arch: str, toolchain: str = "zig") -> ExactEngine:
    """The (per-process) engine for (release, arch, toolchain)."""
    with _ENGINES_LOCK:
        key = (release, arch, toolchain)
        if key not in _ENGINES:
            _ENGINES[key] = ExactEngine(open_worktree(release, arch, toolchain))
        return _ENGINES[key]
