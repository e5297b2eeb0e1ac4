"""From a profile (or a .config, or the editor's unsaved values) to what :func:`build` takes.

::

    prepared = prepare_build("configs/router.toml", arch="mipsel", drop_broken=True)
    build(prepared.dotconfig, list(prepared.config.applets), prepared.release,
          prepared.arch, prepared.toolchain, out_dir=..., source_tree=...)

The one road every build takes (``busyconf build``, ``test`` and ``image``, and
the editor's ``b``): the CPU and toolchain named are checked before anything is
read, the profile is resolved, options known not to build here
(:mod:`busyconf.build.broken`) are refused with :class:`BrokenOptionsError` or,
with ``drop_broken``, set to a value that builds, and the result is exported as
the full .config BusyBox's make takes, in one hold of the tree.

In the model layer, not in ``build/``: it reads profiles and the Kconfig tree,
which the build (below the model, see docs/design.md "Layers") never needs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from busyconf.build import broken
from busyconf.build.arch import get_arch
from busyconf.build.broken import Problem
from busyconf.build.defaults import DEFAULT_ARCH, DEFAULT_TOOLCHAIN
from busyconf.build.toolchain import check_toolchain_name
from busyconf.errors import UserError
from busyconf.model.config import Configuration, configuration, resolve
from busyconf.model.dotconfig import write_dotconfig
from busyconf.model.fragment_files import FragmentReport
from busyconf.model.fragments import check_profile
from busyconf.model.inputs import Loaded, load_any
from busyconf.model.kconfig import KconfigTree


@dataclass(frozen=True)
class PreparedBuild:
    """A configuration ready to build: resolved, known-broken options dropped, exported."""

    #: What is built (the dropped options already at their safe values).
    config: Configuration
    #: The full .config for BusyBox's make (:func:`busyconf.build.build`'s first argument).
    dotconfig: str
    arch: str
    toolchain: str
    #: Options known not to build here that were set to a value that builds, for this build only.
    dropped: tuple[Problem, ...] = ()

    @property
    def release(self) -> str:
        return self.config.release

    @property
    def dropped_settings(self) -> tuple[str, ...]:
        """The dropped options as ``SYMBOL=value`` (``TC=n``), in :data:`broken.BROKEN`'s order."""
        return tuple(f"{p.symbol}={p.safe}" for p in self.dropped)


class BrokenOptionsError(UserError):
    """Options known not to build here, and the caller did not ask to drop them."""

    title = "Known not to build"

    def __init__(self, name: str, problems: Sequence[Problem]) -> None:
        self.problems = tuple(problems)
        first = self.problems[0]
        more = f" (and {len(self.problems) - 1} more)" if len(self.problems) > 1 else ""
        super().__init__(f"{name}: {first}{more}; or pass --drop-broken")


def check_targets(arch: str | None, toolchain: str | None) -> None:
    """A CPU and a toolchain name as given (an empty one too), before anything is loaded or made."""
    if arch is not None:
        get_arch(arch)
    if toolchain is not None:
        check_toolchain_name(toolchain)


def prepare_build(
    source: str | Path | Loaded,
    *,
    arch: str | None = None,
    toolchain: str | None = None,
    release: str | None = None,
    drop_broken: bool = False,
    on_fragments: Callable[[FragmentReport], None] | None = None,
) -> PreparedBuild:
    """Resolve ``source``, check it builds for ``arch`` with ``toolchain``, export it.

    Args:
        source: a profile or a .config to load (a ``str`` is named in messages as given),
            or a configuration already loaded (the editor's, with its unsaved changes).
        arch, toolchain: the target; None takes the profile's, else
            :data:`~busyconf.build.defaults.DEFAULT_ARCH` / ``DEFAULT_TOOLCHAIN``.
        release: of a .config without a version header.
        drop_broken: set options known not to build to their safe values instead of
            raising :class:`BrokenOptionsError`.
        on_fragments: given a profile's fragment report before anything else is
            checked (to print its notes, or raise to refuse a value that did not apply).
    """
    check_targets(arch, toolchain)
    if isinstance(source, Loaded):
        loaded, name = source, str(source.path)
    else:
        loaded, name = load_any(Path(source), release=release), str(source)
    prof = loaded.profile
    if prof is not None and on_fragments is not None:
        on_fragments(check_profile(loaded.tree, prof))
    arch = arch if arch is not None else (prof.arch if prof else DEFAULT_ARCH)
    toolchain = toolchain if toolchain is not None else (prof.toolchain if prof else DEFAULT_TOOLCHAIN)
    check_targets(arch, toolchain)
    return prepare_config(
        loaded.tree,
        loaded.assignments,
        config=loaded.config,
        arch=arch,
        toolchain=toolchain,
        drop_broken=drop_broken,
        name=name,
    )


def prepare_config(
    tree: KconfigTree,
    assignments: Sequence[tuple[str, str]],
    *,
    arch: str,
    toolchain: str,
    drop_broken: bool = False,
    name: str = "the configuration",
    config: Configuration | None = None,
) -> PreparedBuild:
    """:func:`prepare_build` once loaded: ``assignments`` on ``tree`` (``config``: already resolved).

    The configuration and its .config are read in one :meth:`KconfigTree.applied`
    block, so no other thread's values land in between.
    """
    if config is None:
        config = resolve(tree, list(assignments))
    problems = tuple(broken.check(config.values, release=tree.release, toolchain=toolchain, arch=arch))
    values = list(assignments)
    if problems:
        if not drop_broken:
            raise BrokenOptionsError(name, problems)
        values += [(p.symbol, p.safe) for p in problems]
    with tree.applied(values):
        config = configuration(tree)
        text = write_dotconfig(tree)
    return PreparedBuild(config, text, arch, toolchain, problems)
