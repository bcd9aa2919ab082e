#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# build.sh - configure and build one kernel out of tree.
#
# Runs config.sh, then builds the kernel image and modules in
# work/build/<arch>-<flavour>[-<tag>], installs the modules into a cpio
# archive (modules.cpio.gz) to append to the guest initramfs, and records the
# kernel release.  Builds are serialized machine-wide and use ccache when it
# is installed.  The build log is <dir>/build.log.
#
# Usage: scripts/build.sh [-h] [-p] [-t TAG] ARCH FLAVOUR
#   -p       build proxy execution in (kernel-config/proxy.config)
#   -t TAG   suffix of the build folder (e.g. "base")
# Environment: KSRC, FRAGMENTS, JOBS (default: nproc), CCACHE_DIR, V=1.
# Exit codes: 0 ok, 1 failure, 2 bad usage.

set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

usage() {
	echo "Usage: $PROG [-h] [-p] [-t TAG] ARCH FLAVOUR"
	echo "Build the kernel image and modules of \$KSRC (now: $KSRC)."
}
cfgargs=()
tag=
while getopts hpt: opt; do
	case "$opt" in
	h) usage; exit 0 ;;
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
out=$(build_dir "$ARCH" "$FLAVOUR" "$tag")

for t in make gcc flex bison bc cpio gzip perl; do
	need_tool "$t" "$t"
done
PATH=$PATH:/sbin:/usr/sbin need_tool depmod kmod
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
	log "building $ARCH-$FLAVOUR${tag:+-$tag} in $out (log: $out/build.log)"
	start=$(date +%s)
	if ! { "${mk[@]}" "$KIMAGE_TARGET" modules &&
		rm -rf "$out/modroot" &&
		"${mk[@]}" INSTALL_MOD_PATH="$out/modroot" INSTALL_MOD_STRIP=1 \
			modules_install; } >"$out/build.log" 2>&1; then
		grep -E 'error:|Error [0-9]|undefined reference|\*\*\*' "$out/build.log" | head -n 20 >&2 || true
		die "build of $ARCH-$FLAVOUR${tag:+-$tag} failed; see $out/build.log"
	fi
	"${mk[@]}" -s kernelrelease >"$out/kernelrelease"
	(cd "$out/modroot" && find . | sort | cpio -o -H newc --reproducible --quiet) |
		gzip -n >"$out/modules.cpio.gz.tmp"
	mv "$out/modules.cpio.gz.tmp" "$out/modules.cpio.gz"
	end=$(date +%s)
	log "built $(cat "$out/kernelrelease") in $((end - start)) s: $out/$KIMAGE"
	printf '%s\n' "$((end - start))" >"$out/build-seconds"
}

mkdir -p "$out"
with_build_lock do_build
