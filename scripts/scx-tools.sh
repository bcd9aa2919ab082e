#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# scx-tools.sh - build the base tree's example BPF scheduler for the guest.
#
# Builds tools/sched_ext/scx_simple of the kernel tree against the BTF of
# a kernel built with sched_ext (the x86_64 debug flavour has it), and
# installs it as DEST/opt/pe/scx/scx_simple.  build.sh calls it for such
# a kernel and puts DEST into the build's modules image, so every boot of
# that kernel has it (guest test scx).
#
# The BPF side needs a newer clang than bookworm's default (14): Debian's
# clang-19.  The program is linked statically (libbpf from the tree,
# libelf and zlib from the host), as the guest image has no libelf.
# x86_64 only: a static arm64 build would need arm64 libelf and zlib.
#
# Usage: scripts/scx-tools.sh [-h] BUILD_DIR DEST
#   BUILD_DIR  the kernel's build folder (its vmlinux carries the BTF)
# Environment: ARCH (x86_64), KSRC, CLANG (default clang-19), JOBS.
# Exit codes: 0 ok, 1 failure, 2 bad usage.

set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

usage() {
	sed -n '/^# Usage:/,/^# Exit codes/p' "$0" | sed 's/^# \{0,1\}//'
}
while getopts h opt; do
	case "$opt" in
	h) usage; exit 0 ;;
	*) usage_error "unknown option" ;;
	esac
done
shift $((OPTIND - 1))
[ $# -eq 2 ] || usage_error "need BUILD_DIR and DEST"
bd=$(cd "$1" && pwd) || die "no build folder $1"
dest=$2
arch_setup "${ARCH:-x86_64}"
[ "$ARCH" = x86_64 ] || die "scx_simple is built for x86_64 only (a static $ARCH build needs $ARCH libelf and zlib)"

clang=${CLANG:-clang-19}
need_tool "$clang" clang-19
need_tool pahole dwarves
for f in /usr/lib/x86_64-linux-gnu/libelf.a /usr/lib/x86_64-linux-gnu/libz.a; do
	[ -f "$f" ] || die "missing $f for the static link; install libelf-dev and zlib1g-dev (or run 'make deps')"
done
grep -qx 'CONFIG_SCHED_CLASS_EXT=y' "$bd/.config" 2>/dev/null ||
	die "$bd is not a kernel with sched_ext (CONFIG_SCHED_CLASS_EXT)"
[ -s "$bd/vmlinux" ] || die "no $bd/vmlinux to take the BTF from; build the kernel first"

out=$bd/sched_ext-tools
mkdir -p "$out"
log "building scx_simple with $clang (log: $out/build.log)"
# O= puts every output, libbpf's and bpftool's too, under $out/build;
# VMLINUX_BTF names this kernel, not the host's.
if ! make -C "$KSRC/tools/sched_ext" O="$out" CLANG="$clang" \
	VMLINUX_BTF="$bd/vmlinux" -j"${JOBS:-$(nproc)}" scx_simple >"$out/build.log" 2>&1; then
	grep -E 'error|Error' "$out/build.log" | head -n 10 >&2 || true
	die "building scx_simple failed; see $out/build.log"
fi
# The Makefile links dynamically (and passes LDFLAGS to libbpf's shared
# build too): link its objects again, statically.
obj=$out/build/obj
bin=$out/build/bin/scx_simple.static
gcc -static -o "$bin" "$obj/sched_ext/scx_simple.o" "$obj/libbpf/libbpf.a" \
	-lelf -lz -lpthread >>"$out/build.log" 2>&1 ||
	die "the static link of scx_simple failed; see $out/build.log"
file "$bin" | grep -q 'statically linked' || die "$bin is not statically linked"
install -D -m 755 "$bin" "$dest/opt/pe/scx/scx_simple"
log "installed $dest/opt/pe/scx/scx_simple"
