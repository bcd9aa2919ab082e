# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# Shared helpers for the proxy-exec harness.  Sourced, never executed.
#
# Environment variables read (all optional):
#   WORK      scratch/work folder (default: <repo>/work, git-ignored)
#   KSRC      kernel git tree (default: $WORK/linux)
#   RESULTS   results folder (default: <repo>/results)
#   ARCH      x86_64 or arm64 (validated by arch_setup)
#   FLAVOUR   debug, perf or kasan (validated by flavour_check)
#   KERNEL    pe, base or ctl (validated by kernel_check; default pe)
#   V         V=1 echoes commands

# Variables set here are used by the scripts that source this file.
# shellcheck disable=SC2034
true

export LC_ALL=C

PROG=${PROG:-$(basename "$0" .sh)}
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
WORK=${WORK:-$TOP/work}
KSRC=${KSRC:-$WORK/linux}
export KSRC
RESULTS=${RESULTS:-$TOP/results}

# The pinned base: Debian's linux-source-6.12 package.
BASE_PKG=linux-source-6.12
BASE_PKG_PIN=6.12.117-1~deb12u1
BASE_PKG_VERSION=${BASE_PKG_VERSION:-$BASE_PKG_PIN}
BASE_KVER=6.12.117
BASE_TARBALL=/usr/src/linux-source-6.12.tar.xz
BASE_TARBALL_SHA256=585a4a074597aefa2b1a68ada83a3184ba351c127544dea80618bbcceaa3961f
BASE_TAG=base-$BASE_KVER
# Fixed identity and dates make the baseline commit (and so every commit
# applied on it) reproducible across machines.
BASE_DATE="2025-11-01T00:00:00Z"
HARNESS_IDENT_NAME="Proxy Exec Harness"
HARNESS_IDENT_EMAIL="harness@proxy-exec.invalid"

log() { printf '%s: %s\n' "$PROG" "$*" >&2; }
warn() { printf '%s: warning: %s\n' "$PROG" "$*" >&2; }
die() { printf '%s: error: %s\n' "$PROG" "$*" >&2; exit 1; }
# usage_error MSG: bad invocation, exit 2 (the caller defines usage()).
usage_error() {
	printf '%s: %s\n' "$PROG" "$*" >&2
	if declare -F usage >/dev/null; then usage >&2; fi
	exit 2
}
run() {
	if [ "${V:-0}" = 1 ]; then printf '+ %s\n' "$*" >&2; fi
	"$@"
}

# need_tool TOOL PACKAGE: fail with one clear message if TOOL is missing.
need_tool() {
	command -v "$1" >/dev/null 2>&1 ||
		die "missing tool '$1'; install it with 'apt-get install $2' (or run 'make deps')"
}

# Architecture table: everything arch-specific lives here.
arch_setup() {
	local a=${1:-${ARCH:-x86_64}}
	case "$a" in
	x86_64 | x86 | amd64)
		ARCH=x86_64
		KARCH=x86
		DEB_ARCH=amd64
		GNU_TRIPLET=x86_64-linux-gnu
		CROSS_COMPILE=${CROSS_COMPILE_X86_64:-}
		KIMAGE=arch/x86/boot/bzImage
		KIMAGE_TARGET=bzImage
		CC_PKG=gcc
		# What readelf -h and file(1) call the machine.
		ELF_MACHINE="Advanced Micro Devices X86-64"
		FILE_MACHINE=x86-64
		QEMU=qemu-system-x86_64
		QEMU_PKG=qemu-system-x86
		QEMU_MACHINE="pc"
		QEMU_CPU=max
		QEMU_BIOS=(-bios qboot.rom)
		CONSOLE=ttyS0
		# See boot.sh: the TCG guest clock is fixed up at boot.
		KCMDLINE_ARCH=""
		;;
	arm64 | aarch64)
		ARCH=arm64
		KARCH=arm64
		DEB_ARCH=arm64
		GNU_TRIPLET=aarch64-linux-gnu
		CROSS_COMPILE=${CROSS_COMPILE_ARM64:-aarch64-linux-gnu-}
		KIMAGE=arch/arm64/boot/Image
		KIMAGE_TARGET=Image
		CC_PKG=gcc-aarch64-linux-gnu
		ELF_MACHINE=AArch64
		FILE_MACHINE=aarch64
		QEMU=qemu-system-aarch64
		QEMU_PKG=qemu-system-arm
		QEMU_MACHINE="virt,gic-version=3"
		QEMU_CPU=cortex-a72
		QEMU_BIOS=()
		CONSOLE=ttyAMA0
		KCMDLINE_ARCH=""
		;;
	*)
		die "unknown ARCH '$a'; use ARCH=x86_64 or ARCH=arm64"
		;;
	esac
	export ARCH
}

flavour_check() {
	case "${1:-}" in
	debug | perf | kasan) ;;
	*) die "unknown FLAVOUR '${1:-}'; use FLAVOUR=debug, FLAVOUR=perf or FLAVOUR=kasan" ;;
	esac
}

# flavour_fragments FLAVOUR: the fragment stems FLAVOUR merges, in order
# (kasan is the debug flavour plus KASAN).
flavour_fragments() {
	case "$1" in
	kasan) echo debug kasan ;;
	*) echo "$1" ;;
	esac
}

# The kernels the harness builds, named by KERNEL:
#   pe    the tree with the series (work/linux), proxy execution built in
#   base  the pinned baseline, unpatched (worktree work/bench-base)
#   ctl   the baseline plus scripts/bench-control.patch, a control kernel
#         with the same no-op instructions as the series' hot paths
#         (worktree work/bench-ctl)
KERNELS="pe base ctl"

kernel_check() {
	case "${1:-}" in
	pe | base | ctl) ;;
	*) die "unknown KERNEL '${1:-}'; use KERNEL=pe (the series), base or ctl" ;;
	esac
}

# ctl_tree_ok WT BASE: WT is BASE plus the control patch, and nothing else.
ctl_tree_ok() {
	local p=$TOP/scripts/bench-control.patch
	[ "$(git -C "$1" rev-parse HEAD)" = "$(git -C "$KSRC" rev-parse "$2")" ] &&
		git -C "$1" apply --reverse --check "$p" 2>/dev/null &&
		[ "$(git -C "$1" status --porcelain --ignored | sed 's/^...//' | sort)" = \
			"$(git apply --numstat "$p" | cut -f3 | sort)" ]
}

# kernel_source KERNEL: print the source tree of KERNEL, making the base or
# ctl worktree first.  Both are the harness's own: base is always exactly
# the baseline, ctl the baseline plus the control patch and nothing else.
kernel_source() {
	local k=$1 base wt
	kernel_check "$k"
	ksrc_is_tree || die "no kernel git tree at $KSRC; run 'make fetch apply' first"
	if [ "$k" = pe ]; then
		printf '%s\n' "$KSRC"
		return
	fi
	base=$(ksrc_base)
	wt=$WORK/bench-$k
	if [ ! -e "$wt/.git" ]; then
		git -C "$KSRC" worktree prune
		git -C "$KSRC" worktree add -q --detach "$wt" "$base" >&2 ||
			die "cannot make the $k worktree $wt"
	fi
	if [ "$k" = base ]; then
		if [ -n "$(git -C "$wt" status --porcelain --ignored)" ] ||
			[ "$(git -C "$wt" rev-parse HEAD)" != "$(git -C "$KSRC" rev-parse "$base")" ]; then
			die "$wt is not the clean baseline; remove it ('git -C $KSRC worktree remove --force $wt') and rerun"
		fi
	elif ! ctl_tree_ok "$wt" "$base"; then
		# Reset it only when needed: the touched files are rebuilt.
		git -C "$wt" checkout -q -f --detach "$base"
		git -C "$wt" clean -q -f -d -x
		git -C "$wt" apply "$TOP/scripts/bench-control.patch" ||
			die "scripts/bench-control.patch does not apply to $base"
	fi
	printf '%s\n' "$wt"
}

# host_tsc_khz: the host's TSC frequency in kHz, or nothing if unknown.
# Under TCG an x86 guest reads the host's TSC.
host_tsc_khz() {
	local mhz
	mhz=$(dmesg 2>/dev/null | sed -n 's/.*tsc: Refined TSC clocksource calibration: \([0-9.]*\) MHz.*/\1/p' | tail -n 1)
	[ -n "$mhz" ] || mhz=$(dmesg 2>/dev/null | sed -n 's/.*tsc: Detected \([0-9.]*\) MHz.*/\1/p' | tail -n 1)
	if [ -z "$mhz" ] && grep -qw constant_tsc /proc/cpuinfo 2>/dev/null; then
		mhz=$(sed -n 's/^cpu MHz[[:space:]]*: \([0-9.]*\)/\1/p' /proc/cpuinfo | head -n 1)
	fi
	[ -n "$mhz" ] && awk -v m="$mhz" 'BEGIN { printf "%d\n", m * 1000 }'
}

# build_dir ARCH FLAVOUR [KERNEL]: out-of-tree build folder
# (work/build/<arch>-<flavour>-<kernel>; check-bisect passes its own tags).
build_dir() {
	printf '%s/build/%s-%s%s\n' "$WORK" "$1" "$2" "${3:+-$3}"
}

# with_build_lock CMD...: kernel builds are serialized machine-wide; two at
# once on two cores only slow each other down.
with_build_lock() {
	mkdir -p "$WORK"
	local lock="$WORK/.build.lock"
	(
		if ! flock -n 9; then
			log "another kernel build is running; waiting for it"
			flock 9
		fi
		"$@"
	) 9>"$lock"
}

# guest_proxy_state DIR: the proxy_exec state ("on", "off", ...) that the
# guest reported on its PE-GUEST line in DIR/console.log; empty if none.
guest_proxy_state() {
	sed -n 's/.*PE-GUEST: .*proxy_exec=\([a-z]*\).*/\1/p' "$1/console.log" | head -n 1
}

# new_results_dir WHAT: make results/<timestamp>-<what>/, point latest at it.
new_results_dir() {
	local what=$1 stamp dir
	stamp=$(date -u +%Y%m%d-%H%M%S)
	dir="$RESULTS/$stamp-$what"
	local n=1
	while [ -e "$dir" ]; do
		dir="$RESULTS/$stamp-$what.$n"
		n=$((n + 1))
	done
	mkdir -p "$dir"
	ln -sfn "$(basename "$dir")" "$RESULTS/latest"
	printf '%s\n' "$dir"
}

# git_k ARGS: git in the kernel tree with the harness identity.
git_k() {
	GIT_AUTHOR_NAME="$HARNESS_IDENT_NAME" GIT_AUTHOR_EMAIL="$HARNESS_IDENT_EMAIL" \
		GIT_COMMITTER_NAME="$HARNESS_IDENT_NAME" \
		GIT_COMMITTER_EMAIL="$HARNESS_IDENT_EMAIL" \
		git -C "$KSRC" -c core.abbrev=12 -c advice.detachedHead=false "$@"
}

# ksrc_is_tree: KSRC is a git work tree.
ksrc_is_tree() {
	[ -d "$KSRC" ] && git -C "$KSRC" rev-parse --is-inside-work-tree >/dev/null 2>&1
}

# ksrc_base: the baseline commit of KSRC (tag BASE_TAG, or BASE=<rev>).
ksrc_base() {
	local b=${BASE:-$BASE_TAG}
	git -C "$KSRC" rev-parse --verify -q "$b^{commit}" ||
		die "kernel tree $KSRC has no baseline '$b'; run 'make fetch', or set BASE=<rev> for your own tree"
}

# ksrc_dirty: list uncommitted work in KSRC.  Debian's packaging .gitignore
# ignores every new top-level path ("/*"), so ignored files count too: the
# harness builds out of tree, and a pristine source tree has none.
ksrc_dirty() {
	git -C "$KSRC" status --porcelain --ignored
}
