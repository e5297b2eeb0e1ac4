"""prepare_build: the one road from a profile (or the editor's values) to build()'s arguments."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from busyconf.build.defaults import DEFAULT_ARCH, DEFAULT_TOOLCHAIN
from busyconf.errors import UserError
from busyconf.model.config import resolve
from busyconf.model.fragment_files import FragmentReport
from busyconf.model.inputs import load_any
from busyconf.model.prepare import BrokenOptionsError, PreparedBuild, prepare_build
from busyconf.source import SourceCache

STARTERS = Path(__file__).resolve().parents[2] / "configs"

#: TC does not build with current kernel headers; LFS off is refused on a 32-bit CPU.
BROKEN = """\
[profile]
description = "two options known not to build on armv7"
busybox = "1.38.0"
arch = "armv7"
base = "defconfig"

[config]
TC = true
LFS = false
"""


@pytest.fixture
def broken_profile(tmp_path: Path, cache: SourceCache) -> Path:
    path = tmp_path / "broken.toml"
    path.write_text(BROKEN)
    return path


def test_known_broken_options_are_refused_with_the_problems(broken_profile: Path) -> None:
    with pytest.raises(BrokenOptionsError) as refused:
        prepare_build(str(broken_profile))
    assert [p.symbol for p in refused.value.problems] == ["TC", "LFS"]
    message = str(refused.value)
    assert message.startswith(f"{broken_profile}: CONFIG_TC: ")
    assert message.endswith("(and 1 more); or pass --drop-broken")
    assert isinstance(refused.value, UserError)  # exit 2, one line


def test_drop_broken_sets_them_to_values_that_build(broken_profile: Path) -> None:
    p = prepare_build(broken_profile, drop_broken=True)
    assert isinstance(p, PreparedBuild)
    assert (p.arch, p.toolchain, p.release) == ("armv7", DEFAULT_TOOLCHAIN, "1.38.0")
    assert p.dropped_settings == ("TC=n", "LFS=y")
    assert p.config.values["TC"] == "n" and p.config.values["LFS"] == "y"
    assert "# CONFIG_TC is not set\n" in p.dotconfig and "CONFIG_LFS=y\n" in p.dotconfig
    assert "tc" not in p.config.applets
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.arch = "x86_64"  # type: ignore[misc]


def test_an_arch_that_needs_no_drop_drops_nothing(broken_profile: Path) -> None:
    # LFS off is fine on a 64-bit CPU; TC is still broken everywhere.
    p = prepare_build(broken_profile, arch="x86_64", drop_broken=True)
    assert p.arch == "x86_64" and p.dropped_settings == ("TC=n",)


def test_a_bad_target_is_refused_before_the_profile_is_read(tmp_path: Path) -> None:
    missing = tmp_path / "missing.toml"
    with pytest.raises(UserError, match="unknown arch 'nope'"):
        prepare_build(missing, arch="nope")
    with pytest.raises(UserError, match="toolchain"):
        prepare_build(missing, toolchain="")


def test_the_fragment_report_comes_before_the_broken_check(broken_profile: Path) -> None:
    seen: list[FragmentReport] = []

    def refuse(report: FragmentReport) -> None:
        seen.append(report)
        raise UserError("refused by the caller")

    with pytest.raises(UserError, match="refused by the caller"):
        prepare_build(broken_profile, on_fragments=refuse)
    assert len(seen) == 1


def test_a_loaded_configuration_is_prepared_with_its_unsaved_values(broken_profile: Path) -> None:
    """The editor's road: what is loaded (and changed since) rather than the file."""
    loaded = load_any(broken_profile)
    assignments = [*loaded.assignments, ("TC", "n"), ("LFS", "y"), ("LS", "n")]
    changed = dataclasses.replace(loaded, assignments=assignments, config=resolve(loaded.tree, assignments))
    p = prepare_build(changed)
    assert p.dropped == () and p.arch == "armv7"
    assert "# CONFIG_LS is not set\n" in p.dotconfig and "ls" not in p.config.applets


def test_a_dotconfig_gets_the_default_target(tmp_path: Path, cache: SourceCache) -> None:
    dotconfig = tmp_path / "x.config"
    dotconfig.write_text(prepare_build(STARTERS / "defconfig.toml").dotconfig)
    p = prepare_build(dotconfig)
    assert (p.arch, p.toolchain) == (DEFAULT_ARCH, DEFAULT_TOOLCHAIN)
