#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# deps.sh - install the host packages the harness needs (Debian 12, root).
#
# Installs only what is missing; runs 'apt-get update' once, and only when
# something has to be installed.  Foreign arm64 packages for the guest image
# are fetched later by initramfs.sh.
#
# Usage: scripts/deps.sh [-h] [-n]
#   -n   only check: list what is missing and exit 1 if anything is
# Exit codes: 0 ok, 1 failure (not root, mirror unreachable, missing), 2 usage.

set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

usage() {
	echo "Usage: $PROG [-h] [-n]"
	echo "Install the Debian packages the harness needs."
}
check=0
while getopts hn opt; do
	case "$opt" in
	h) usage; exit 0 ;;
	n) check=1 ;;
	*) usage_error "unknown option" ;;
	esac
done
shift $((OPTIND - 1))
[ $# -eq 0 ] || usage_error "unexpected argument '$1'"

pkgs=(
	# kernel build
	make gcc flex bison bc perl python3 libelf-dev libssl-dev cpio kmod
	xz-utils git ccache binutils file
	# arm64 cross build and static arm64 test programs
	gcc-aarch64-linux-gnu libc6-dev-arm64-cross
	# guests
	qemu-system-x86 qemu-system-arm
	# checks (checkpatch's SPDX check needs ply)
	shellcheck python3-ply
	# make bench: plots
	gnuplot-nox
	# sched_ext: the kernel's BTF (pahole), the example BPF scheduler
	# (bookworm's default clang is too old), make check-configs' arm64 config
	dwarves clang-19
)
command -v dpkg-query >/dev/null 2>&1 || die "this is not a Debian system (no dpkg-query); install the equivalent of: ${pkgs[*]}"
missing=()
for p in "${pkgs[@]}"; do
	st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	[ "$st" = "install ok installed" ] || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
	log "all ${#pkgs[@]} packages present"
	exit 0
fi
if [ "$check" = 1 ]; then
	die "missing packages: ${missing[*]}; run 'make deps' (as root)"
fi
[ "$(id -u)" = 0 ] || die "missing packages: ${missing[*]}; run 'make deps' as root, or install them with apt-get"
log "installing: ${missing[*]}"
logf=$(mktemp)
trap 'rm -f "$logf"' EXIT
if ! apt-get update -q >"$logf" 2>&1; then
	tail -n 5 "$logf" >&2
	die "apt-get update failed: the Debian package mirror is unreachable; check the network and /etc/apt/sources.list*"
fi
if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
	"${missing[@]}" >"$logf" 2>&1; then
	tail -n 8 "$logf" >&2
	die "apt-get install failed for: ${missing[*]}"
fi
log "installed ${#missing[@]} packages"
