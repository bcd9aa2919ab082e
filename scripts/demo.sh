#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# demo.sh - the main job: apply, build x86_64, boot with the flag off and on.
#
# Applies the series, builds the x86_64 debug kernel with proxy execution
# built in (kernel-config/proxy.config; build folder x86_64-debug-pe),
# boots it twice with
# sched_proxy_exec=0 and =1, runs the inversion selftest in both, and
# prints the kernel's proxy-exec state, the waiter's wait statistics and
# each variant's selftest verdict side by side.  A verdict other than PASS
# (flag off: the inversion shown; flag on: the bound held) fails the demo.
#
# Usage: scripts/demo.sh [-h]
# Environment: as boot.sh and build.sh.
# Exit codes: 0 ok, 1 failure (a build, or a verdict not PASS), 2 bad usage.

set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

usage() {
	echo "Usage: $PROG [-h]"
	echo "Build x86_64 and boot it with sched_proxy_exec=0 and =1; show the difference."
}
while getopts h opt; do
	case "$opt" in
	h) usage; exit 0 ;;
	*) usage_error "unknown option" ;;
	esac
done
shift $((OPTIND - 1))
[ $# -eq 0 ] || usage_error "unexpected argument '$1'"

"$TOP/scripts/prepare.sh" x86_64
"$TOP/scripts/build.sh" -K pe x86_64 debug
out=$(new_results_dir demo)
declare -A dir rc
state=(off on)
for v in 0 1; do
	dir[$v]=$out/flag$v
	rc[$v]=0
	"$TOP/scripts/boot.sh" -K pe -w "flag$v" -o "${dir[$v]}" -s "${state[$v]}" \
		-c "sched_proxy_exec=$v" -T info,selftests x86_64 debug >/dev/null || rc[$v]=$?
done

stat() {
	# stat DIR VARIANT FIELD
	sed -n "s/.*PE-STAT variant=$2 .*$3=\([^ ]*\).*/\1/p" "$1/console.log" | head -n 1
}
verdict() {
	# verdict DIR VARIANT: the selftest's PASS/FAIL for it, "none" if missing
	local v
	v=$(sed -n "s/.*PE-RESULT: selftest:[^ ]*\.$2\.[^ ]* \(PASS\|FAIL\|SKIP\).*/\1/p" \
		"$1/console.log" | head -n 1)
	echo "${v:-none}"
}
variants=$(sed -n 's/.*PE-STAT variant=\([^ ]*\).*/\1/p' "${dir[0]}/console.log" "${dir[1]}/console.log" 2>/dev/null | sort -u || true)
{
	echo
	echo "Proxy execution demo ($(cat "$(build_dir x86_64 debug pe)/kernelrelease"), x86_64, QEMU)"
	printf '%-44s %18s %18s\n' "" "sched_proxy_exec=0" "sched_proxy_exec=1"
	printf '%-44s %18s %18s\n' "kernel proxy-exec state" "$(guest_proxy_state "${dir[0]}")" "$(guest_proxy_state "${dir[1]}")"
	for var in $variants; do
		for f in cs_us p50_us p99_us max_us; do
			printf '%-44s %18s %18s\n' "$var $f" "$(stat "${dir[0]}" "$var" "$f")" "$(stat "${dir[1]}" "$var" "$f")"
		done
		printf '%-44s %18s %18s\n' "$var verdict" "$(verdict "${dir[0]}" "$var")" "$(verdict "${dir[1]}" "$var")"
	done
	echo
	echo "console logs: ${dir[0]}/console.log ${dir[1]}/console.log"
} | tee "$out/demo.txt"

# The verdict is the selftest's: flag off must show the inversion, flag on
# the bound.  Any other verdict is a failed demo, not only a number.
[ -n "$variants" ] || die "no PE-STAT line in ${dir[0]}/console.log or ${dir[1]}/console.log: the selftest did not run"
bad=
for var in $variants; do
	if [ "$(verdict "${dir[0]}" "$var")" != PASS ] ||
		[ "$(verdict "${dir[1]}" "$var")" != PASS ]; then
		bad+="$var "
	fi
done
[ -z "$bad" ] || die "selftest verdicts not PASS for: $bad(see the console logs)"
# And the boot itself, as judge.sh decided it: no splat, a guest verdict,
# the expected state.
for v in 0 1; do
	[ "${rc[$v]}" = 0 ] ||
		die "the sched_proxy_exec=$v boot failed (boot.sh exit ${rc[$v]}); see ${dir[$v]}/summary.txt"
done
