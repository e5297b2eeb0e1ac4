"""Build layer: toolchains, CPU data, make runner, verification, artifacts.

Public API (no UI imports here; the CLI and the TUI render the events)::

    from busyconf.build import build, run_testsuite, get_arch, known_arches

    result = build(
        config_text,                 # full BusyBox .config (str)
        applets,                     # applet names the config enables
        "1.38.0",                    # release of source_tree
        "aarch64",                   # CPU, see arches.toml / known_arches()
        "zig",                       # or "musl-gcc" or a cross prefix "aarch64-linux-musl-"
        out_dir=Path("out/router"),
        source_tree=SourceCache().tree("1.38.0"),
        progress=callback,           # receives BuildEvent objects (optional)
        cancel=threading.Event(),    # set() to stop (optional)
        drop_broken=False,           # True: set known-broken options off instead of refusing
    )

``build`` (in :mod:`busyconf.build.builder`) compiles out of tree (``make O=``) in
``cache_root()/build/<release>-<arch>-<toolchain>/obj`` (compiler wrappers in
``tools/<hash of their flags>``, so changed flags rebuild) so a second build is
incremental, verifies the binary (natively or under qemu-user-static: its
``--list`` must equal ``applets``, or with ``CONFIG_BUSYBOX`` off its
applet-name table, and the smoke checks the config's applets and features
allow pass), and only then writes
``out_dir/busybox``, ``out_dir/busybox.config`` (the .config actually built)
and ``out_dir/manifest.json`` (:class:`Manifest`), each replaced atomically;
a failed or interrupted build leaves earlier artifacts as they were.

Events (``BuildEvent``): :class:`PhaseEvent` (``phase``: prepare, configure,
compile, verify, write, done, test), :class:`ProgressEvent` (``done``/``total``
compiled objects, total estimated; the last one has done == total) and
:class:`OutputEvent` (a raw make line). The log of the last make is in
``<build_dir>/last-build.log``.

Errors: ``UserError`` (unknown arch or toolchain, known-broken option, string
symbol with shell metacharacters), ``ToolchainError`` (zig, qemu or llvm-strip
missing), ``BuildError`` (make or verification failed), ``Interrupted``.

``run_testsuite(config_text, release, toolchain, source_tree=..., arch=...)`` builds
for ``arch`` (default the host's CPU) and runs BusyBox's own test suite on it, a
foreign CPU's binary under qemu-user (:mod:`busyconf.build.testsuite`):
:class:`SuiteResult` with passed/failed/skipped counts and the failing test names.

``busyconf.model.prepare.prepare_build(profile, arch=..., drop_broken=...)``
(above this layer: it reads profiles) is the road from a profile, a .config or
the editor's values to ``build``'s arguments: resolved, known-broken options
refused or dropped, exported as a .config.

``broken.check(values, release=..., toolchain=..., arch=...)`` lists known-broken
enabled options without building. The applet list a config enables comes
from the model (``KconfigTree.enabled_applets``), which reads BusyBox's table.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from busyconf.build.arch import Arch, all_arches, get_arch, host_arch, known_arches
    from busyconf.build.broken import BROKEN, BrokenOption, Problem, check
    from busyconf.build.builder import (
        BuildEvent,
        BuildResult,
        OutputEvent,
        PhaseEvent,
        ProgressEvent,
        build,
        build_dir_for,
        run_testsuite,
    )
    from busyconf.build.manifest import BINARY_NAME, CONFIG_NAME, MANIFEST_NAME, Manifest
    from busyconf.build.runner import MakeStep
    from busyconf.build.testsuite import SuiteResult
    from busyconf.build.toolchain import Toolchain, detect_toolchains, resolve_toolchain
    from busyconf.build.verify import VerifyResult

#: Where each public name lives. Loaded on first use: the model imports
#: ``busyconf.build.gate`` and ``busyconf.build.arch``, and the editor must not
#: pay for the compiler driver, manifests and SBOMs before its first screen.
_HOMES = {
    "busyconf.build.arch": ("Arch", "all_arches", "get_arch", "host_arch", "known_arches"),
    "busyconf.build.broken": ("BROKEN", "BrokenOption", "Problem", "check"),
    "busyconf.build.builder": (
        "BuildEvent",
        "BuildResult",
        "OutputEvent",
        "PhaseEvent",
        "ProgressEvent",
        "build",
        "build_dir_for",
        "run_testsuite",
    ),
    "busyconf.build.manifest": ("BINARY_NAME", "CONFIG_NAME", "MANIFEST_NAME", "Manifest"),
    "busyconf.build.runner": ("MakeStep",),
    "busyconf.build.testsuite": ("SuiteResult",),
    "busyconf.build.toolchain": ("Toolchain", "detect_toolchains", "resolve_toolchain"),
    "busyconf.build.verify": ("VerifyResult",),
}
_HOME_OF = {name: module for module, names in _HOMES.items() for name in names}


def __getattr__(name: str) -> Any:
    module = _HOME_OF.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


__all__ = [
    "BINARY_NAME",
    "BROKEN",
    "CONFIG_NAME",
    "MANIFEST_NAME",
    "Arch",
    "BrokenOption",
    "BuildEvent",
    "BuildResult",
    "MakeStep",
    "Manifest",
    "OutputEvent",
    "PhaseEvent",
    "Problem",
    "ProgressEvent",
    "SuiteResult",
    "Toolchain",
    "VerifyResult",
    "all_arches",
    "build",
    "build_dir_for",
    "check",
    "detect_toolchains",
    "get_arch",
    "host_arch",
    "known_arches",
    "resolve_toolchain",
    "run_testsuite",
]
