#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# build.sh - configure and build one kernel out of tree.
#
# Runs config.sh, then builds the kernel image and modules of KERNEL in
# work/build/<arch>-<flavour>-<kernel>, installs the modules into a cpio
# archive (modules.cpio.gz) to append to the guest initramfs, and records the
# kernel release.  Builds are serialized machine-wide and use ccache when it
# is installed.  The build log is <dir>/build.log.
#
# Usage: scripts/build.sh [-h] [-K KERNEL] [-p -t TAG] ARCH FLAVOUR
#   -K KERNEL  pe (default: $KERNEL or pe), base or ctl: the source tree,
#              whether proxy.config is merged (pe only) and the folder
#   -p -t TAG  low level, for check-bisect: build $KSRC as it is, with
#              proxy.config if -p, in work/build/<arch>-<flavour>-TAG
# Environment: KERNEL, KSRC, FRAGMENTS, JOBS (default: nproc), CCACHE_DIR,
#   V=1.
# Exit codes: 0 ok, 1 failure, 2 bad usage.

set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

usage() {
	echo "Usage: $PROG [-h] [-K pe|base|ctl] [-p -t TAG] ARCH FLAVOUR"
	echo "Build the kernel image and modules of KERNEL (default: pe, the series)."
}
cfgargs=()
tag=
kernel=${KERNEL:-pe}
while getopts hK:pt: opt; do
	case "$opt" in
	h) usage; exit 0 ;;
	K) kernel=$OPTARG ;;
	p) cfgargs+=(-p) ;;
	t) tag=$OPTARG ;;
	*) usage_error "unknown option" ;;
	esac
done
shift $((OPTIND - 1))
[ $# -eq 2 ] || usage_error "need ARCH and FLAVOUR"
arch_setup "$1"
flavour_check "$2"
FLAVOUR=$2
if [ -z "$tag" ]; then
	[ ${#cfgargs[@]} = 0 ] || usage_error "-p goes with -t TAG; use -K pe to build the series"
	kernel_check "$kernel"
	tag=$kernel
	KSRC=$(kernel_source "$kernel")
	[ "$kernel" != pe ] || cfgargs+=(-p)
fi
out=$(build_dir "$ARCH" "$FLAVOUR" "$tag")

for t in make gcc flex bison bc cpio gzip perl; do
	need_tool "$t" "$t"
done
PATH=$PATH:/sbin:/usr/sbin need_tool depmod kmod
# The x86_64 debug kernels have sched_ext, which needs the kernel's BTF:
# pahole makes it at link time.  Without it DEBUG_INFO_BTF would not stick.
need_tool pahole dwarves
[ -f /usr/include/libelf.h ] || die "missing libelf headers; install them with 'apt-get install libelf-dev' (or run 'make deps')"
[ -f /usr/include/openssl/ssl.h ] || die "missing OpenSSL headers; install them with 'apt-get install libssl-dev' (or run 'make deps')"

do_build() {
	local cc="${CROSS_COMPILE}gcc" jobs=${JOBS:-$(nproc)} start end
	"$TOP/scripts/config.sh" "${cfgargs[@]}" -o "$out" "$ARCH" "$FLAVOUR"
	if command -v ccache >/dev/null 2>&1; then
		cc="ccache $cc"
		# Relative paths under the work folder let ccache hit across clones.
		export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$(dirname "$TOP")}
		export CCACHE_NOHASHDIR=1
	else
		warn "ccache not found; builds will be slow (apt-get install ccache)"
	fi
	local mk=(make -C "$KSRC" O="$out" ARCH="$KARCH" CROSS_COMPILE="$CROSS_COMPILE"
		CC="$cc" HOSTCC="${HOSTCC:-gcc}" LOCALVERSION= -j"$jobs"
		KBUILD_BUILD_TIMESTAMP="$BASE_DATE" KBUILD_BUILD_USER=proxy
		KBUILD_BUILD_HOST=harness)
	log "building $ARCH-$FLAVOUR-$tag in $out (log: $out/build.log)"
	start=$(date +%s)
	if ! { "${mk[@]}" "$KIMAGE_TARGET" modules &&
		rm -rf "$out/modroot" &&
		"${mk[@]}" INSTALL_MOD_PATH="$out/modroot" INSTALL_MOD_STRIP=1 \
			modules_install; } >"$out/build.log" 2>&1; then
		grep -E 'error:|Error [0-9]|undefined reference|\*\*\*' "$out/build.log" | head -n 20 >&2 || true
		die "build of $ARCH-$FLAVOUR-$tag failed; see $out/build.log"
	fi
	"${mk[@]}" -s kernelrelease >"$out/kernelrelease"
	# A kernel with sched_ext gets the tree's example BPF scheduler, for
	# the guest test scx; it travels in the modules image (x86_64 only).
	if [ "$ARCH" = x86_64 ] && grep -qx 'CONFIG_SCHED_CLASS_EXT=y' "$out/.config"; then
		"$TOP/scripts/scx-tools.sh" "$out" "$out/modroot" ||
			die "build of $ARCH-$FLAVOUR-$tag: scx_simple failed"
	fi
	(cd "$out/modroot" && find . | sort | cpio -o -H newc --reproducible --quiet) |
		gzip -n >"$out/modules.cpio.gz.tmp"
	mv "$out/modules.cpio.gz.tmp" "$out/modules.cpio.gz"
	end=$(date +%s)
	log "built $(cat "$out/kernelrelease") in $((end - start)) s: $out/$KIMAGE"
	printf '%s\n' "$((end - start))" >"$out/build-seconds"
}

mkdir -p "$out"
with_build_lock do_build
