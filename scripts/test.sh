#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# test.sh - everything CI runs: from a fresh machine to judged kernels.
#
# Steps (each one counts as results):
#   1. prepare: deps, fetch, apply, selftests and guest images for ARCHES
#                                   (a failure here stops the run)
#   2. check                        (checkpatch, shellcheck, apply, sync, ...)
#   3. build <arch>-debug-<kernel>  for every arch in ARCHES
#   4. per arch, two boots of the same kernel: sched_proxy_exec=1 and =0,
#      each running KUnit, the selftests, locktorture and test-ww_mutex,
#      judged by judge.sh (a pass with a splat is a fail), which also
#      checks the proxy execution state the guest reports; and, with
#      TEST_CORESCHED=1 (the default), two more on SMT sibling vCPUs
#      (SMT=2) for core scheduling (guest test coresched).  These boots
#      name preempt=full, the config's default model, so the guest checks it
#   4b. per arch, for each model in TEST_PREEMPT (unset: none on x86_64,
#      voluntary on arm64), one more boot with the
#      flag on and preempt=<model> (the kernels are PREEMPT_DYNAMIC):
#      KUnit and the selftests, and the guest checks the model took
#   4c. x86_64, with TEST_SCX=1 (the default): the same kernel (its x86_64
#      debug config has sched_ext; build.sh adds scx_simple) booted with
#      the flag on and off, guest test scx: the selftest and locktorture
#      with the BPF scheduler loaded, then unloaded
#   5. per arch, if TEST_SOAK_MIN > 0 (default 3), a short soak (scripts/soak.sh)
# Writes results/<stamp>-test/ (results.tsv, timing.tsv, summary.txt) and
# ends with the line "N passed, N failed, N skipped".
#
# Usage: scripts/test.sh [-h]
# Environment:
#   ARCHES        architectures to test (default: "x86_64 arm64")
#   KUNIT_GLOB    KUnit suites to run (default: from tests/kunit/filter)
#   TORTURE_SECS  per locktorture run (default 15)
#   TEST_SOAK_MIN minutes of the soak slice per arch, flag on, after the
#                 two boots (default 3; 0: none; pe kernel only)
#   TEST_CORESCHED 1 (default): the core-scheduling boots of step 4; 0: none
#   TEST_SCX      1 (default): the sched_ext boots of step 4c; 0: none
#   TEST_PREEMPT  preemption models of step 4b on every arch ("" for no
#                 extra boots; unset: none on x86_64, voluntary on arm64)
#   TEST_CMDLINE  extra kernel command line for every boot
#   KERNEL        the kernel to test: pe (default), or base/ctl, which
#                 have no proxy execution (the flag is then absent, and
#                 the selftests expect the inversion in both boots)
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
soak_min=${TEST_SOAK_MIN:-3}
case "$soak_min" in
'' | *[!0-9]*) usage_error "TEST_SOAK_MIN='$soak_min' is not a number of minutes (0: no soak)" ;;
esac
soak_min=$((10#$soak_min))
# Unset: none on x86_64 and voluntary on arm64, one extra boot each, for
# the CI budget; set (even to ""), the same models on every arch.
preempt_set=${TEST_PREEMPT+set}
for m in ${TEST_PREEMPT:-}; do
	case "$m" in
	none | voluntary | full) ;;
	*) usage_error "TEST_PREEMPT: unknown preemption model '$m'; use none, voluntary or full" ;;
	esac
done
glob=${KUNIT_GLOB:-$(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$TOP/tests/kunit/filter" | head -n 1)}
[ -n "$glob" ] || die "no KUnit filter in tests/kunit/filter"

out=$(new_results_dir test)
tsv=$out/results.tsv
timing=$out/timing.tsv
: >"$tsv"
: >"$timing"
add() { printf '%s\t%s\t%s\n' "$1" "$2" "${3:-}" >>"$tsv"; }

# collect NAME RUN STEP WHAT: add RUN's results under "NAME:", or one
# failure if WHAT (the step STEP) produced none; returns 1 then.
collect() {
	if [ -f "$2/results.tsv" ]; then
		sed "s/^/$1:/" "$2/results.tsv" >>"$tsv"
		return 0
	fi
	add "$1:boot" FAIL "$4 produced no results (see $out/$3.log)"
	return 1
}

# boot_step NAME ARG...: boot.sh ARGs for the kernel under test, results in
# $out/NAME and added under "NAME:"; BOOT_ENV (e.g. SMT=2) goes to its
# environment.  Returns 1 if the boot produced no results.
boot_step() {
	local name=$1
	shift
	# shellcheck disable=SC2086 # BOOT_ENV is a list of assignments
	step "boot-$name" env ${BOOT_ENV:-} "$TOP/scripts/boot.sh" -K "$kernel" -w "$name" \
		-o "$out/$name" "$@" || true
	collect "$name" "$out/$name" "boot-$name" boot.sh
}

# step NAME CMD...: run a step, log it, time it; returns its status.
step() {
	local name=$1 start rc=0
	shift
	log "== $name"
	start=$(date +%s)
	# The log keeps everything; boot.sh's progress lines also show live.
	set +e
	"$@" 2>&1 | tee "$out/$name.log" | grep --line-buffered -E '^boot: \[ *[0-9]+s\]' | sed -u 's/^boot: /    /' >&2
	rc=${PIPESTATUS[0]}
	set -e
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

# Setup: without a kernel tree and the guest images nothing else can run.
# shellcheck disable=SC2086 # a list of arches
if step prepare "$TOP/scripts/prepare.sh" $arches; then
	add setup:prepare PASS
else
	add setup:prepare FAIL "$(tail -n 1 "$out/prepare.log")"
	finish || exit 1
fi

if step check "$TOP/scripts/check.sh" -o "$out/check.tsv"; then :; fi
sed 's/^/check:/' "$out/check.tsv" >>"$tsv"

# The guest must report the matching proxy execution state: on/off for
# the series, absent for a kernel without the option; the inversion
# selftest then expects bounded waits with the flag on and the inversion
# with it off.
kernel=${KERNEL:-pe}
kernel_check "$kernel"
if [ "$kernel" = pe ]; then
	want_on=on
	want_off=off
else
	want_on=absent
	want_off=absent
fi

for a in $arches; do
	if step "build-$a" "$TOP/scripts/build.sh" -K "$kernel" "$a" debug; then
		add "build:$a-debug" PASS "$(cat "$(build_dir "$a" debug "$kernel")/build-seconds")s"
	else
		add "build:$a-debug" FAIL "$(grep -m1 'error' "$out/build-$a.log" || tail -n 1 "$out/build-$a.log")"
		continue
	fi
	for flag in on off; do
		val=1
		want=$want_on
		if [ "$flag" = off ]; then
			val=0
			want=$want_off
		fi
		boot_step "$a-$flag" -s "$want" \
			-c "sched_proxy_exec=$val preempt=full${TEST_CMDLINE:+ $TEST_CMDLINE}" -k "$glob" \
			-T info,selftests,torture,ww_mutex "$a" debug || continue
		# The same kernel on SMT sibling vCPUs, for core scheduling.
		[ "${TEST_CORESCHED:-1}" = 1 ] || continue
		BOOT_ENV=SMT=2 boot_step "$a-coresched-$flag" -s "$want" \
			-c "sched_proxy_exec=$val preempt=full${TEST_CMDLINE:+ $TEST_CMDLINE}" \
			-T info,coresched "$a" debug || true
	done
	# The other preemption models, flag on, KUnit and the selftests: the
	# flag-off boots above already show that the tests see the inversion
	# without it, and locktorture runs there and in the soak.
	preempt_models=${TEST_PREEMPT:-}
	if [ -z "$preempt_set" ]; then
		case "$a" in
		x86_64) preempt_models=none ;;
		*) preempt_models=voluntary ;;
		esac
	fi
	for m in $preempt_models; do
		boot_step "$a-preempt-$m-on" -s "$want_on" \
			-c "sched_proxy_exec=1 preempt=$m${TEST_CMDLINE:+ $TEST_CMDLINE}" -k "$glob" \
			-T info,selftests "$a" debug || true
	done
	# sched_ext: the x86_64 debug kernel has it, and scx_simple.
	if [ "$a" = x86_64 ] && [ "$kernel" = pe ] && [ "${TEST_SCX:-1}" = 1 ]; then
		for flag in on off; do
			val=1
			[ "$flag" = off ] && val=0
			boot_step "$a-scx-$flag" -s "$flag" \
				-c "sched_proxy_exec=$val${TEST_CMDLINE:+ $TEST_CMDLINE}" \
				-T info,scx "$a" debug || true
		done
	fi
	# A short soak of the same kernel with the flag on (make soak's mix).
	if [ "$kernel" != pe ] || [ "$soak_min" = 0 ]; then
		continue
	fi
	run=$out/$a-soak
	step "soak-$a" env SOAK_MIN="$soak_min" SOAK_PROXY=on "$TOP/scripts/soak.sh" -o "$run" "$a" || true
	collect "$a-soak" "$run" "soak-$a" soak.sh || true
done
finish
