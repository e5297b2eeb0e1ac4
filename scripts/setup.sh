#!/usr/bin/env bash
# Set up a fresh Debian 12 machine for busyconf: system packages, the Python
# package with its test tools, and the BusyBox releases the tests use.
#
# Release tarballs come from Debian's source archive, whose orig tarballs are
# byte-identical to upstream's; busyconf verifies each against its sha256.
# Idempotent: a second run only checks.
set -euo pipefail

here="$(cd "$(dirname "$0")/.." && pwd)"
testdata="${BUSYCONF_TESTDATA:-$HOME/.cache/busyconf-testdata}"
releases=(1.35.0 1.37.0 1.38.0)
python="${PYTHON:-python3}"

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

echo "== system packages"
# deb-src entries for the suites that carry the BusyBox releases we test:
# copied from the machine's own Debian sources, so no mirror is named here.
src_list=/etc/apt/sources.list.d/busyconf-src.sources
if [ ! -f "$src_list" ] && [ -f /etc/apt/sources.list.d/debian.sources ]; then
    awk 'BEGIN { RS = ""; ORS = "\n\n" }
         /debian-security/ { next }
         { sub(/Types: deb/, "Types: deb-src");
           sub(/Suites: [^\n]*/, "Suites: bookworm trixie sid");
           print; exit }' /etc/apt/sources.list.d/debian.sources | as_root tee "$src_list" >/dev/null
fi
export DEBIAN_FRONTEND=noninteractive
as_root apt-get update -q >/dev/null
as_root apt-get install -y -q --no-install-recommends \
    make gcc libc6-dev bzip2 xz-utils dpkg-dev patch \
    musl-tools qemu-user-static llvm skopeo umoci >/dev/null

echo "== python packages"
# compat: a plain path entry; the default editable finder costs every Python process ~40 ms.
"$python" -m pip install -q --disable-pip-version-check -e "$here[test]" \
    --config-settings editable_mode=compat

echo "== BusyBox sources (Debian's source archive) into $testdata"
mkdir -p "$testdata"
cd "$testdata"
for v in "${releases[@]}"; do
    if [ ! -f "busybox_$v.orig.tar.bz2" ] || [ ! -f "$(ls busybox_"$v"-*.debian.tar.xz 2>/dev/null | head -n1)" ]; then
        # Debian revisions move; the orig tarball does not. Take the newest
        # Debian version whose upstream part is $v.
        deb_version="$(apt-cache showsrc busybox | sed -n 's/^Version: //p' \
            | grep -E "^(1:)?$v-" | sort -V | tail -n1)"
        if [ -z "$deb_version" ]; then
            echo "setup: Debian has no busybox $v source package" >&2
            exit 1
        fi
        apt-get source -q --download-only "busybox=$deb_version" >/dev/null 2>&1
    fi
done

echo "== BusyBox releases into busyconf's cache"
for v in "${releases[@]}"; do
    if ! "$python" -m busyconf source list --json | "$python" -c \
        "import json,sys; sys.exit(0 if any(r['version']=='$v' and r['cached'] for r in json.load(sys.stdin)['releases']) else 1)"; then
        "$python" -m busyconf source add "$testdata/busybox_$v.orig.tar.bz2"
    fi
done
echo "== ready"
