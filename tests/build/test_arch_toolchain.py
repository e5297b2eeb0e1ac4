"""CPU data, toolchains and known-broken options: fast, no full build."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from busyconf.build import broken, gate, get_arch, known_arches, resolve_toolchain
from busyconf.build.known_failures import known_failure
from busyconf.build.testsuite import SuiteResult
from busyconf.build.toolchain import ZIG_DROPPED_FLAGS
from busyconf.errors import ToolchainError, UserError

EXPECTED = {
    "x86_64",
    "i386",
    "aarch64",
    "armv7",
    "armv6",
    "armv5te",
    "riscv64",
    "mips",
    "mipsel",
    "powerpc",
    "powerpc64le",
    "s390x",
    "loongarch64",
}


def test_every_cpu_is_known() -> None:
    assert EXPECTED <= set(known_arches(supported_only=True))


def test_unknown_arch_lists_known_ones() -> None:
    with pytest.raises(UserError) as err:
        get_arch("vax")
    msg = str(err.value)
    assert "'vax'" in msg and "aarch64" in msg and "loongarch64" in msg and "\n" not in msg


def test_powerpc_fixes_depend_on_release() -> None:
    ppc = get_arch("powerpc")
    assert ppc.fix_cflags("1.38.0") == ("-DBB_GLOBAL_CONST=",)
    assert ppc.patches_for("1.38.0") == ()
    assert ppc.fix_cflags("1.35.0") == ("-DBB_GLOBAL_CONST=",)
    (patch,) = ppc.patches_for("1.35.0")
    assert patch.file == "include/libbb.h" and "BB_GLOBAL_CONST" in patch.new
    # Before 1.37 every CPU gets the libbb.h fix (awk crashed on 10 of 13 on 1.35.0); from 1.37 only powerpc.
    for arch in known_arches():
        assert get_arch(arch).fix_cflags("1.35.0") == ("-DBB_GLOBAL_CONST=",), arch
        assert [p.file for p in get_arch(arch).patches_for("1.35.0")] == ["include/libbb.h"], arch
    # 1.37.0: every CPU gets 1.38.0's SHA-NI guard (defconfig did not compile off x86) and the -D.
    for arch in known_arches():
        assert [p.file for p in get_arch(arch).patches_for("1.37.0")] == ["libbb/hash_md5_sha.c"], arch
        assert "-DBB_GLOBAL_CONST=" in get_arch(arch).fix_cflags("1.37.0"), arch
    assert get_arch("x86_64").fix_cflags("1.38.0") == ()


def test_zig_version_and_wrapper_drops_rejected_flags(tmp_path: Path) -> None:
    arch = get_arch("x86_64")
    tc = resolve_toolchain("zig", arch)
    assert tc.version.startswith("zig ")
    tools = tc.write_wrappers(arch, "1.38.0", tmp_path / "tools")
    (tmp_path / "t.c").write_text("int main(void) { return 0; }\n")
    rejected = [f.replace("*", "x") for f in ZIG_DROPPED_FLAGS]
    subprocess.run(
        [str(tools.tools_dir / "gcc"), *rejected, "-Os", "t.c", "-o", "t"],
        cwd=tmp_path,
        check=True,
        stdin=subprocess.DEVNULL,
    )
    assert subprocess.run([str(tmp_path / "t")], check=False).returncode == 0
    assert tools.variables["CROSS_COMPILE"] == f"{tools.tools_dir}/"


def test_toolchain_errors() -> None:
    with pytest.raises(UserError, match="unknown toolchain 'clang; rm'"):
        resolve_toolchain("clang; rm", get_arch("x86_64"))
    with pytest.raises(UserError, match="musl-gcc builds only for the x86_64"):
        resolve_toolchain("musl-gcc", get_arch("aarch64"))
    with pytest.raises(ToolchainError, match="nosuch-linux-musl-gcc not found"):
        resolve_toolchain("nosuch-linux-musl-", get_arch("aarch64"))


def test_broken_check_names_symbol_reason_and_fix() -> None:
    values = {"CONFIG_TC": "y", "PAM": "n", "FEATURE_MOUNT_NFS": "y", "LS": "y"}
    problems = broken.check(values, release="1.38.0", toolchain="zig", arch="aarch64")
    assert [p.symbol for p in problems] == ["TC", "FEATURE_MOUNT_NFS"]
    assert str(problems[0]).startswith("CONFIG_TC: ") and "fix:" in str(problems[0])
    dropped = broken.drop(values, problems)
    assert dropped["TC"] == "n" and dropped["FEATURE_MOUNT_NFS"] == "n" and dropped["LS"] == "y"


def test_known_testsuite_failures_are_per_release() -> None:
    assert known_failure("wget-supports--P", "1.38.0") is not None
    assert known_failure("wget-supports--P", "1.35.0") is None
    assert known_failure("ls -l", "1.38.0") is None
    res = SuiteResult(10, 2, 0, ("ls -q", "tar works"), 1.0, Path("log"), "1.38.0")
    assert res.unexpected == ("tar works",)


def test_lfs_off_is_broken_only_on_32_bit_cpus_and_efence_everywhere() -> None:
    values = {"LFS": "n", "EFENCE": "y", "LS": "y"}
    on_arm = broken.check(values, release="1.38.0", toolchain="zig", arch="armv7")
    assert [(p.symbol, p.safe) for p in on_arm] == [("EFENCE", "n"), ("LFS", "y")]
    assert "off_t" in str(on_arm[1]) and "set it on" in str(on_arm[1])
    assert broken.drop(values, on_arm) == {"LFS": "y", "EFENCE": "n", "LS": "y"}
    on_x86 = broken.check(values, release="1.38.0", toolchain="zig", arch="x86_64")
    assert [p.symbol for p in on_x86] == ["EFENCE"]
    assert broken.check({"LFS": "y"}, release="1.38.0", toolchain="zig", arch="mipsel") == []
    # Linux 2.4 module loading: no query_module() in musl, no relocation code for aarch64.
    old_modules = {"FEATURE_2_4_MODULES": "y"}
    for arch in ("aarch64", "x86_64"):
        problems = broken.check(old_modules, release="1.38.0", arch=arch)
        assert [p.symbol for p in problems] == ["FEATURE_2_4_MODULES"] and "query_module" in str(problems[0])


def test_o0_is_broken_with_zig_only_where_tar_calls_code_it_does_not_compile() -> None:
    # Measured: the sparse references of 1.35.0 and 1.38.0 (every applet, options off) fail to
    # link on data_extract_to_command alone; defconfig and the router starter link.
    o0 = {"DEBUG": "y", "DEBUG_PESSIMIZE": "y", "TAR": "y", "FEATURE_TAR_TO_COMMAND": "n"}
    problems = broken.check(o0, release="1.38.0", toolchain="zig", arch="x86_64")
    assert [p.symbol for p in problems] == ["DEBUG_PESSIMIZE"]
    assert "FEATURE_TAR_TO_COMMAND" in str(problems[0])
    assert broken.check({**o0, "FEATURE_TAR_TO_COMMAND": "y"}, release="1.38.0", toolchain="zig") == []
    assert broken.check({**o0, "TAR": "n"}, release="1.38.0", toolchain="zig") == []
    assert broken.check(o0, release="1.38.0", toolchain="musl-gcc") == []


@pytest.mark.parametrize(
    "symbol,value",
    [
        ("EXTRA_CFLAGS", '"-Os $(touch /tmp/x)"'),
        ("EXTRA_LDFLAGS", '"`id`"'),
        ("EXTRA_LDLIBS", '"m; rm -rf /"'),
        ("PREFIX", '"./_install\\nall:"'),
    ],
)
def test_unsafe_string_symbols_are_refused(symbol: str, value: str) -> None:
    with pytest.raises(UserError, match=f"CONFIG_{symbol}"):
        gate.check_config_text(f"CONFIG_{symbol}={value}\n")


def test_safe_flags_pass() -> None:
    gate.check_config_text('CONFIG_EXTRA_CFLAGS="-Os -DFOO=1 -Iinclude"\nCONFIG_PREFIX="./_install"\n')


def test_changed_flags_change_the_tool_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """kbuild compares command lines: new flags must show in $(CC), or stale objects stay."""
    from busyconf.build import toolchain

    arch = get_arch("x86_64")
    tc = resolve_toolchain("zig", arch)
    first = tc.write_wrappers(arch, "1.38.0", tmp_path / "tools")
    assert tc.write_wrappers(arch, "1.38.0", tmp_path / "tools") == first
    monkeypatch.setattr(toolchain, "ZIG_SIZE_FLAGS", ("-Oz",))
    second = tc.write_wrappers(arch, "1.38.0", tmp_path / "tools")
    assert second.variables["CROSS_COMPILE"] != first.variables["CROSS_COMPILE"]
    assert "-Oz" in (second.tools_dir / "gcc").read_text()
    assert not first.tools_dir.exists()


def test_armv5te_links_sync_helpers_only_when_linking(tmp_path: Path) -> None:
    """zig's libc needs __sync_* on ARMv5: a fix object joins every link, not compiles."""
    arch = get_arch("armv5te")
    (source,) = arch.zig_link_sources("1.38.0")
    assert "__sync_val_compare_and_swap_" in source
    tc = resolve_toolchain("zig", arch)
    tools = tc.write_wrappers(arch, "1.38.0", tmp_path / "tools")
    (obj,) = (tmp_path / "tools").glob("link-*.o")
    script = (tools.tools_dir / "gcc").read_text()
    assert str(obj) in script and "-c|-S|-E|-M|-MM) link=no" in script
    assert (
        "link-"
        not in (
            resolve_toolchain("zig", get_arch("armv7"))
            .write_wrappers(get_arch("armv7"), "1.38.0", tmp_path / "tools7")
            .tools_dir
            / "gcc"
        ).read_text()
    )
