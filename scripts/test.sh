#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# test.sh - everything CI runs: from a fresh machine to judged kernels.
#
# Steps (each one counts as results):
#   1. deps, fetch, apply           (a failure here stops the run)
#   2. check                        (checkpatch, shellcheck, apply, sync, ...)
#   3. build <arch>-debug           for every arch in ARCHES
#   4. per arch, two boots of the same kernel: sched_proxy_exec=1 and =0,
#      each running KUnit, the selftests, locktorture and test-ww_mutex,
#      judged by boot.sh (a pass with a splat is a fail)
# Writes results/<stamp>-test/ (results.tsv, timing.tsv, summary.txt) and
# ends with the line "N passed, N failed, N skipped".
#
# Usage: scripts/test.sh [-h]
# Environment:
#   ARCHES        architectures to test (default: "x86_64 arm64")
#   KUNIT_GLOB    KUnit suites to run (default: from tests/kunit/filter)
#   TORTURE_SECS  per locktorture run (default 15)
#   TEST_CMDLINE  extra kernel command line for every boot
#   TEST_PROXY    0: test a kernel without proxy execution (default 1)
#   plus those of boot.sh and build.sh.
# Exit codes: 0 all passed, 1 something failed, 2 bad usage.

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
[ $# -eq 0 ] || usage_error "unexpected argument '$1'"

arches=${ARCHES:-x86_64 arm64}
for a in $arches; do
	(arch_setup "$a") || exit 2
done
export TORTURE_SECS=${TORTURE_SECS:-15}
glob=${KUNIT_GLOB:-$(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$TOP/tests/kunit/filter" | head -n 1)}
[ -n "$glob" ] || die "no KUnit filter in tests/kunit/filter"

out=$(new_results_dir test)
tsv=$out/results.tsv
timing=$out/timing.tsv
: >"$tsv"
: >"$timing"
add() { printf '%s\t%s\t%s\n' "$1" "$2" "${3:-}" >>"$tsv"; }

# step NAME CMD...: run a step, log it, time it; returns its status.
step() {
	local name=$1 start rc=0
	shift
	log "== $name"
	start=$(date +%s)
	"$@" >"$out/$name.log" 2>&1 || rc=$?
	printf '%s\t%s\t%s\n' "$name" "$(($(date +%s) - start))" "$rc" >>"$timing"
	tail -n 3 "$out/$name.log" | sed 's/^/    /' >&2
	return "$rc"
}

finish() {
	local npass nfail nskip
	npass=$(awk -F'\t' '$2 == "PASS"' "$tsv" | wc -l)
	nfail=$(awk -F'\t' '$2 == "FAIL"' "$tsv" | wc -l)
	nskip=$(awk -F'\t' '$2 == "SKIP"' "$tsv" | wc -l)
	{
		echo "results: $out"
		awk -F'\t' '{ printf "  %-6s %ss\n", $1, $2 }' "$timing" | sed 's/^/  time /'
		awk -F'\t' '$2 == "FAIL" { print "FAIL: " $1 ": " $3 }' "$tsv"
	} >"$out/summary.txt"
	cat "$out/summary.txt"
	echo "$npass passed, $nfail failed, $nskip skipped" | tee -a "$out/summary.txt"
	[ "$nfail" = 0 ]
}

# Setup: without a kernel tree nothing else can run.
for s in deps fetch apply; do
	if step "$s" "$TOP/scripts/$s.sh"; then
		add "setup:$s" PASS
	else
		add "setup:$s" FAIL "$(tail -n 1 "$out/$s.log")"
		finish || exit 1
	fi
done

if step check "$TOP/scripts/check.sh" -o "$out/check.tsv"; then :; fi
sed 's/^/check:/' "$out/check.tsv" >>"$tsv"

# The tested kernel has proxy execution built in (TEST_PROXY=0 tests one
# without it).  The guest must report the matching state: on/off with
# the option, absent without; the inversion selftest then expects bounded
# waits with the flag on and the inversion with it off.
if [ "${TEST_PROXY:-1}" = 1 ]; then
	buildargs=(-p -t pe)
	bootargs=(-t pe)
	want_on=on
	want_off=off
else
	buildargs=()
	bootargs=()
	want_on=absent
	want_off=absent
fi

for a in $arches; do
	if step "build-$a" "$TOP/scripts/build.sh" "${buildargs[@]}" "$a" debug; then
		add "build:$a-debug" PASS "$(cat "$(build_dir "$a" debug "${bootargs[1]:-}")/build-seconds")s"
	else
		add "build:$a-debug" FAIL "$(grep -m1 'error' "$out/build-$a.log" || tail -n 1 "$out/build-$a.log")"
		continue
	fi
	if step "selftests-build-$a" "$TOP/scripts/selftests-build.sh" "$a"; then
		add "build:selftests-$a" PASS
	else
		add "build:selftests-$a" FAIL "$(tail -n 1 "$out/selftests-build-$a.log")"
	fi
	for flag in on off; do
		val=1
		want=$want_on
		if [ "$flag" = off ]; then
			val=0
			want=$want_off
		fi
		name=$a-$flag
		step "boot-$name" env RESULTS="$out" "$TOP/scripts/boot.sh" \
			-w "$name" -c "sched_proxy_exec=$val${TEST_CMDLINE:+ $TEST_CMDLINE}" -k "$glob" \
			-T info,selftests,torture,ww_mutex "${bootargs[@]}" "$a" debug || true
		run=$(find "$out" -maxdepth 1 -type d -name "*-$name" | sort | tail -n 1)
		if [ -z "$run" ] || [ ! -f "$run/results.tsv" ]; then
			add "$name:boot" FAIL "boot.sh produced no results (see $out/boot-$name.log)"
			continue
		fi
		sed "s/^/$name:/" "$run/results.tsv" >>"$tsv"
		state=$(sed -n 's/.*PE-GUEST: .*proxy_exec=\([a-z]*\).*/\1/p' "$run/console.log" | head -n 1)
		if [ "$state" = "$want" ]; then
			add "$name:proxy-state" PASS "proxy_exec=$state"
		else
			add "$name:proxy-state" FAIL "guest reports proxy_exec=${state:-?}, expected $want"
		fi
	done
done
ln -sfn "$(basename "$out")" "$RESULTS/latest"
finish
