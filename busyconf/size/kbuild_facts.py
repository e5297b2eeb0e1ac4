"""What the exact engine must know of BusyBox's kbuild: flag symbols, host programs, object lists."""

from __future__ import annotations

#: Symbols whose values change the compile flags of every object (Makefile.flags).
FLAG_SYMBOLS = (
    "BUILD_LIBBUSYBOX",
    "DEBUG",
    "DEBUG_PESSIMIZE",
    "DEBUG_SANITIZE",
    "DMALLOC",
    "EFENCE",
    "EXTRA_CFLAGS",
    "EXTRA_LDFLAGS",
    "EXTRA_LDLIBS",
    "FEATURE_NSLOOKUP_BIG",
    "LFS",
    "PAM",
    "PIE",
    "SELINUX",
    "STATIC",
    "STATIC_LIBGCC",
    "SYSROOT",
    "TIME64",
    "WERROR",
    "CROSS_COMPILER_PREFIX",
    "FEATURE_SHARED_BUSYBOX",
    "FEATURE_INDIVIDUAL",
    "NOMMU",
)

#: Version of the per-flags command snapshots. Before 2 a failed build, before 3 a full one, left
#: other flags' commands in the tree, and the snapshot of the flags measured next kept them.
FLAGS_RULE = 3

#: Host programs that generate headers; cached like objects.
HOST_PROGRAMS = ("applets/applet_tables", "applets/usage")

LIST_MK = """\
-include .config
srctree := {src}
objtree := {obj}
define one
lib-y :=
lib-m :=
obj-y :=
obj := $(1)
include $(1)/Kbuild
$$(info BBOBJS $(1) $$(filter-out $$(obj-y),$$(sort $$(lib-y) $$(lib-m))))
$$(info BBCORE $(1) $$(obj-y))
endef
$(foreach d,$(DIRS),$(eval $(call one,$(d))))
all: ;
"""
