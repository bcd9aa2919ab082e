#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# prepare.sh - everything a kernel build and a guest boot stand on, once.
#
# In order: the Debian packages (deps.sh), the baseline kernel tree
# (fetch.sh), the series on it (apply.sh), then for each ARCH the selftests
# (selftests-build.sh) and the guest image (initramfs.sh; with -b also the
# benchmark image).  Each step is a no-op when its output is up to date.
# test, demo and bench call this first and then only build, boot and judge.
#
# Usage: scripts/prepare.sh [-h] [-b] [ARCH...]
#   ARCH  x86_64 and/or arm64 (default: $ARCHES or x86_64)
#   -b    also build the benchmark guest image (adds perf)
# Environment: ARCHES, plus those of the scripts above.
# Exit codes: 0 ready, 1 a step failed (its name is the last line), 2 bad
#   usage.

set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

usage() {
	sed -n '/^# Usage:/,/^# Exit codes/p' "$0" | sed 's/^# \{0,1\}//'
}
bench=0
while getopts hb opt; do
	case "$opt" in
	h) usage; exit 0 ;;
	b) bench=1 ;;
	*) usage_error "unknown option" ;;
	esac
done
shift $((OPTIND - 1))
# shellcheck disable=SC2206 # ARCHES is a space separated list
arches=("$@")
[ ${#arches[@]} -gt 0 ] || read -r -a arches <<<"${ARCHES:-x86_64}"
for a in "${arches[@]}"; do
	(arch_setup "$a") 2>/dev/null || usage_error "unknown ARCH '$a'; use x86_64 or arm64"
done

# stage NAME CMD...: run one step; on failure name it and stop.
stage() {
	local name=$1
	shift
	"$@" || die "step '$name' failed"
}
stage deps "$TOP/scripts/deps.sh"
stage fetch "$TOP/scripts/fetch.sh"
stage apply "$TOP/scripts/apply.sh"
for a in "${arches[@]}"; do
	stage "selftests-$a" "$TOP/scripts/selftests-build.sh" "$a" >/dev/null
	stage "initramfs-$a" "$TOP/scripts/initramfs.sh" "$a" >/dev/null
	if [ "$bench" = 1 ]; then
		stage "initramfs-bench-$a" "$TOP/scripts/initramfs.sh" -b "$a" >/dev/null
	fi
done
log "ready: ${arches[*]}"
