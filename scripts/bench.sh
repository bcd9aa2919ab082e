#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# bench.sh - priority-inversion latency and scheduler overhead: the unpatched
# base kernel, the series with sched_proxy_exec=0 and with =1, in one run.
#
# Builds the kernels with the perf flavour (no lock debugging) for ARCH:
# the pinned base (KERNEL=base), the series with proxy execution built in
# (pe) and the control kernel (ctl: the base plus the no-op instructions of
# scripts/bench-control.patch; it behaves exactly like base, so ctl/base
# shows how far a change of the instruction count alone moves an item).
# Then boots them interleaved, round after round, in up to three groups:
#
#   latency:  base, off, on        the "one" cases, at BENCH_LAT_SMP vCPUs
#                                  (default 2), under -icount
#   xlatency: base, off, on        the "spread" and "apart" cases (across
#                                  CPUs), at BENCH_LAT_SMP vCPUs, under
#                                  BENCH_XCPU_ICOUNT (default off: vCPUs
#                                  run in parallel, see below)
#   overhead: base, off, on, ctl   at BENCH_OVH_SMP vCPUs (default 1: under
#                                  -icount one vCPU makes guest time an
#                                  exact instruction count)
#
# Why the cases across CPUs run without -icount: under -icount one host
# thread runs the vCPUs in turn, so a wakeup or a move to another vCPU
# waits until that vCPU's turn comes.  Traced (scripts/boot.sh -T trace),
# a vCPU with a reschedule pending showed no activity for up to ~100 ms of
# guest time while the other vCPU ran: the waits then measure the
# emulator.  Without -icount each vCPU is a host thread, as CPUs run in
# parallel on hardware; guest time is then host time, so run the bench on
# an otherwise idle machine.  Known emulator fault there: code patched at
# run time (static keys) is sometimes run stale by multi-threaded TCG (QEMU
# 7.2), "Oops: int3" in dequeue_entity() or sched_balance_rq(), base and
# series alike: 5 of 9 such boots, 2 of 9 once those boots got
# schedstats=enable (pe_latency no longer toggles schedstats; cpu.max of
# the cgroup cases still toggles cfs_bandwidth_used).  Those boots now also
# get pe_bench_keys=1: the guest holds cfs_bandwidth_used on for the whole
# boot (an empty cgroup with a cpu.max quota), so that no case patches
# code.  A boot's cut-short case is still marked failed and the report
# made.
#
# so drift on a shared machine hits every kernel alike.  Each boot runs its
# group's items in the guest (guest/pe/bench.sh) and prints PE-BENCH lines;
# they are collected into samples.csv, and scripts/bench-report.py turns them
# into summary.md and gnuplot plots.  Everything lands in
# results/<stamp>-bench/ (the boots' own logs in boots/).
#
# Latency cases are <scenario>-<lock>-<placement> for pe_latency:
#   scenarios  nice idle cgweight cgmax fifo deadline
#   locks      fpos pipe rename
#   placements one spread apart (apart: the waiter pinned to another CPU
#              than the owner and hogs; spread and apart need a 2nd CPU)
# Overhead items: perf-messaging perf-pipe hackbench cyclictest stress-switch
#   stress-pipe stress-mutex rename-mix locktorture
#
# Usage: scripts/bench.sh [-h] [-n]
#   -n  do not build: use the kernels already built (fails if missing)
# Environment:
#   BENCH_QUICK=1    the reduced set (2 rounds, fewer items; < 10 min warm)
#   BENCH_ROUNDS     rounds (default 3, quick 2)
#   BENCH_LAT        latency cases, comma separated (default: the set above;
#                    "none" for no latency case)
#   BENCH_OVH        overhead items, comma separated ("none" for none)
#   BENCH_REPS       repetitions of each overhead item per boot (default 2)
#   BENCH_SECS       length of each timed overhead run (default 4, quick 3)
#   BENCH_SAMPLES    latency samples per case and boot (default 40)
#   BENCH_CAP_MS     latency cap: longer waits are ended and shown as
#                    ">= cap" (default 1000)
#   BENCH_CONTROL    1 (default): the ctl kernel joins the overhead boots;
#                    0: without it (an overhead verdict then has no control)
#   BENCH_LAT_SMP    guest CPUs of the latency boots (default 2)
#   BENCH_OVH_SMP    guest CPUs of the overhead boots (default 1; 2 or more
#                    gives the multi-CPU overhead table, labelled so)
#   ARCH             x86_64 (default) or arm64
#   BENCH_ICOUNT     QEMU -icount argument, or "off" (default shift=4,sleep=off:
#                    guest time counts instructions, one host thread runs all
#                    vCPUs; measured: overhead spread drops from 5-28% to
#                    0.1-6%, see README); the latency and overhead groups
#   BENCH_XCPU_ICOUNT  the same for the xlatency group (default off)
#   ALLOWANCE_US     scheduling allowance of the latency target (20000)
# Exit codes: 0 ok, 1 a boot or benchmark failed (the report is still
#   written, failures marked), 2 bad usage, 3 missing tool or kernel.

set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=scripts/lib-bench.sh
. "$(dirname "$0")/lib-bench.sh"

usage() {
	sed -n '/^# Usage:/,/^# Exit codes/p' "$0" | sed 's/^# \{0,1\}//'
}
build=1
while getopts hn opt; do
	case "$opt" in
	h) usage; exit 0 ;;
	n) build=0 ;;
	*) usage_error "unknown option" ;;
	esac
done
shift $((OPTIND - 1))
[ $# -eq 0 ] || usage_error "unexpected argument '$1'"

SCENARIOS="nice idle cgweight cgmax fifo deadline"
LOCKS="fpos pipe rename"
PLACEMENTS="one spread apart"
OVH_ITEMS="perf-messaging perf-pipe hackbench cyclictest stress-switch stress-pipe stress-mutex rename-mix locktorture"

quick=${BENCH_QUICK:-0}
case "$quick" in
0 | 1) ;;
*) usage_error "BENCH_QUICK must be 0 or 1, not '$quick'" ;;
esac
if [ "$quick" = 1 ]; then
	def_lat=nice-fpos-one,fifo-fpos-one,cgmax-rename-one
	def_ovh=perf-messaging,perf-pipe,stress-switch,rename-mix,locktorture
	def_rounds=2 def_reps=2 def_secs=3 def_samples=20
else
	def_lat=
	for sc in $SCENARIOS; do
		for pl in $PLACEMENTS; do
			def_lat+=${def_lat:+,}$sc-fpos-$pl
		done
	done
	# nice-rename-apart: the LPC 2023 demo's rename, with the owner on another CPU.
	def_lat+=,nice-pipe-one,nice-rename-one,nice-rename-apart,cgmax-pipe-one,cgmax-rename-one
	def_ovh=$(echo "$OVH_ITEMS" | tr ' ' ',')
	def_rounds=3 def_reps=2 def_secs=4 def_samples=40
fi
# Empty means the default ('make bench' exports unset variables as empty);
# "none" runs no item of that kind.
lat=${BENCH_LAT:-$def_lat}
ovh=${BENCH_OVH:-$def_ovh}
[ "$lat" != none ] || lat=
[ "$ovh" != none ] || ovh=
rounds=${BENCH_ROUNDS:-$def_rounds}
reps=${BENCH_REPS:-$def_reps}
secs=${BENCH_SECS:-$def_secs}
samples=${BENCH_SAMPLES:-$def_samples}
cap=${BENCH_CAP_MS:-1000}
allowance=${ALLOWANCE_US:-20000}
lat_smp=${BENCH_LAT_SMP:-2}
ovh_smp=${BENCH_OVH_SMP:-1}
control=${BENCH_CONTROL:-1}
case "$control" in
0 | 1) ;;
*) usage_error "BENCH_CONTROL must be 0 or 1, not '$control'" ;;
esac
arch_setup "${ARCH:-x86_64}"
lat_variants="base off on"
ovh_variants="base off on"
[ "$control" = 0 ] || ovh_variants+=" ctl"

is_uint() { [[ $1 =~ ^[1-9][0-9]*$ ]]; }
for v in rounds reps secs samples cap allowance lat_smp ovh_smp; do
	is_uint "${!v}" || usage_error "$v must be a positive integer, not '${!v}'"
done
in_list() { [[ " $2 " == *" $1 "* ]]; }
items=()
lat_items=()
xlat_items=()
ovh_list=()
IFS=, read -r -a lat_cases <<<"$lat"
for c in "${lat_cases[@]}"; do
	[ -n "$c" ] || continue
	IFS=- read -r sc lk pl extra <<<"$c"
	if [ -n "${extra:-}" ] || ! in_list "$sc" "$SCENARIOS" || ! in_list "${lk:-}" "$LOCKS" ||
		! in_list "${pl:-}" "$PLACEMENTS"; then
		usage_error "unknown latency case '$c'; use <scenario>-<lock>-<placement> with scenario in {$SCENARIOS}, lock in {$LOCKS}, placement in {$PLACEMENTS}"
	fi
	items+=("lat:$c")
	if [ "$pl" = one ]; then
		lat_items+=("lat:$c")
	else
		xlat_items+=("lat:$c")
	fi
done
IFS=, read -r -a ovh_items <<<"$ovh"
for o in "${ovh_items[@]}"; do
	[ -n "$o" ] || continue
	in_list "$o" "$OVH_ITEMS" || usage_error "unknown overhead item '$o'; use one of: $OVH_ITEMS"
	items+=("$o")
	ovh_list+=("$o")
done
[ ${#items[@]} -gt 0 ] || usage_error "nothing to run (BENCH_LAT and BENCH_OVH are both none)"
# check_icount NAME VALUE: a QEMU -icount argument or "off" (printed empty).
check_icount() {
	case "$2" in
	off) echo ;;
	shift=* | [0-9]* | auto) echo "$2" ;;
	*) usage_error "$1 '$2' is not a QEMU -icount argument (e.g. shift=4,sleep=off) nor 'off'" ;;
	esac
}
icount=$(check_icount BENCH_ICOUNT "${BENCH_ICOUNT:-shift=4,sleep=off}")
xicount=$(check_icount BENCH_XCPU_ICOUNT "${BENCH_XCPU_ICOUNT:-off}")
need_tool python3 python3

# --- kernels --------------------------------------------------------------

kernel_tags="base pe"
[ "$control" = 0 ] || [ ${#ovh_list[@]} = 0 ] || kernel_tags+=" ctl"
if [ "$build" = 1 ]; then
	"$TOP/scripts/prepare.sh" -b "$ARCH"
	for t in $kernel_tags; do
		"$TOP/scripts/build.sh" -K "$t" "$ARCH" perf
	done
fi
for t in $kernel_tags; do
	bd=$(build_dir "$ARCH" perf "$t")
	[ -s "$bd/kernelrelease" ] || {
		printf '%s: error: no %s kernel in %s; run without -n\n' "$PROG" "$t" "$bd" >&2
		exit 3
	}
done
[ -s "$WORK/initramfs/$ARCH/userspace-bench.cpio.gz" ] ||
	die "no benchmark guest image; run without -n (or scripts/prepare.sh -b $ARCH)"

# --- runs -----------------------------------------------------------------

out=$(new_results_dir bench)
mkdir -p "$out/boots"
csv=$out/samples.csv
echo "round,variant,kind,bench,case,sample,value,unit,status" >"$csv"
item_list=$(IFS=,; echo "${items[*]}")
bench_meta >"$out/meta.env"
config_delta >"$out/config-delta.txt"
log "results: $out"
log "$rounds rounds x (latency: ${lat_variants// /, } at $lat_smp vCPU(s), across CPUs ${xicount:+with -icount $xicount}${xicount:-in parallel}; overhead: ${ovh_variants// /, } at $ovh_smp vCPU(s))"
log "items: $item_list"

# bench_boot ROUND VARIANT GROUP SMP ICOUNT ITEMS...: one boot, its samples
# into the CSV; a failed boot or item still leaves one failed row per item.
# ICOUNT is a QEMU -icount argument, empty for none (then schedstats are on
# from boot, see the top).
fails=0
bench_boot() {
	local r=$1 v=$2 g=$3 smp=$4 ic=$5 tag flag want cmd rc=0 bdir bad=0 list it k b c
	shift 5
	list=$(IFS=,; echo "$*")
	case "$v" in
	base) tag=base flag='' want=absent ;;
	off) tag=pe flag="sched_proxy_exec=0" want=off ;;
	on) tag=pe flag="sched_proxy_exec=1" want=on ;;
	ctl) tag=ctl flag='' want=absent ;;
	esac
	cmd="pe_bench=$list pe_bench_reps=$reps pe_bench_secs=$secs"
	cmd+=" pe_bench_samples=$samples pe_bench_cap_ms=$cap${flag:+ $flag}"
	[ -n "$ic" ] || cmd+=" schedstats=enable pe_bench_keys=1"
	log "round $r/$rounds: $g $v ($smp vCPU(s)${ic:+, -icount $ic})"
	bdir=$out/boots/r$r-$g-$v
	SMP=$smp ICOUNT=$ic PE_TIMEOUT=600 \
		"$TOP/scripts/boot.sh" -b -K "$tag" -w "r$r-$g-$v" -o "$bdir" -s "$want" -T info,bench \
		-c "$cmd" "$ARCH" perf >"$bdir.log" 2>&1 || rc=$?
	if [ ! -f "$bdir/console.log" ]; then
		tail -n 5 "$bdir.log" >&2
		die "boot of $v (round $r, $g) did not start; see $bdir.log"
	fi
	# judge.sh checked the state the guest reports (-s).
	if ! grep -q "^proxy-state"$'\t'"PASS" "$bdir/results.tsv" 2>/dev/null; then
		warn "round $r $v: the guest reports proxy_exec='$(guest_proxy_state "$bdir")', expected '$want'; its samples are marked failed"
		bad=1
	fi
	# PE-BENCH,kind,bench,case,sample,value,unit,status -> the CSV.  A line
	# cut by a kernel message printed into it counts as failed.
	grep -o 'PE-BENCH,[^ ]*' "$bdir/console.log" | cut -d, -f2- |
		awk -F, -v r="$r" -v v="$v" -v bad="$bad" \
			'NF == 7 { if (bad || $7 !~ /^(ok|timeout|failed)$/) $7 = "failed"; print r "," v "," $1 "," $2 "," $3 "," $4 "," $5 "," $6 "," $7 }' OFS=, >>"$csv"
	if [ "$rc" != 0 ]; then
		warn "round $r $v: boot or benchmark failed (boot.sh exit $rc); see $bdir/summary.txt"
		grep '^FAIL' "$bdir/summary.txt" | sed 's/^/  /' >&2 || true
		fails=$((fails + 1))
		for it in "$@"; do
			case "$it" in
			lat:*) k=lat b=latency c=${it#lat:} ;;
			*) k=ovh b=$it c=all ;;
			esac
			if ! grep -q "PE-RESULT: bench:$it " "$bdir/console.log"; then
				if grep -q "^$r,$v,$k,$b,$c," "$csv"; then
					# Cut short: its samples so far count as failed.
					sed -i "s/^\($r,$v,$k,$b,$c,[^,]*,[^,]*,[^,]*\),[a-z]*$/\1,failed/" "$csv"
				else
					echo "$r,$v,$k,$b,$c,0,0,$([ "$k" = lat ] && echo ns || echo s),failed" >>"$csv"
				fi
			fi
		done
	fi
}

start=$(date +%s)
for r in $(seq 1 "$rounds"); do
	if [ ${#lat_items[@]} -gt 0 ]; then
		for v in $lat_variants; do
			bench_boot "$r" "$v" lat "$lat_smp" "$icount" "${lat_items[@]}"
		done
	fi
	if [ ${#xlat_items[@]} -gt 0 ]; then
		for v in $lat_variants; do
			bench_boot "$r" "$v" xlat "$lat_smp" "$xicount" "${xlat_items[@]}"
		done
	fi
	if [ ${#ovh_list[@]} -gt 0 ]; then
		for v in $ovh_variants; do
			bench_boot "$r" "$v" ovh "$ovh_smp" "$icount" "${ovh_list[@]}"
		done
	fi
done
end=$(date +%s)
echo "SECONDS_TOTAL=$((end - start))" >>"$out/meta.env"

rc=0
"$TOP/scripts/bench-report.py" "$out" || rc=$?
[ "$rc" = 0 ] || die "the report failed (bench-report.py exit $rc); raw samples in $csv"
log "report: $out/summary.md ($((end - start)) s of boots)"
if [ "$fails" -gt 0 ]; then
	die "$fails boot(s) failed or misreported their state; their samples are marked failed in the report"
fi
