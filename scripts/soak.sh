#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# soak.sh - run the soak mix on the debug kernel for SOAK_MIN minutes.
#
# Boots ARCH's debug kernel (lockdep, the hung-task, soft-lockup, RCU-stall
# and workqueue-stall detectors) with sched_proxy_exec on, and runs the
# guest test "soak" (guest/pe/soak.sh): locktorture with CPU hotplug,
# test-ww_mutex, the inversion scenarios on every CPU at once, stress-ng
# and storms of affinity, policy, cgroup and cpuset changes and kills,
# then the accounting check once the guest is idle, and the inversion
# selftest.  A guest that prints nothing for SILENCE_TIMEOUT seconds
# hangs: QEMU is killed and its last lines are kept.  judge.sh decides (a
# splat fails the run), and soak-report.py writes the summary table and
# the throughput plot into the results folder, results/<stamp>-soak/.
#
# Usage: scripts/soak.sh [-h] [-o DIR] [ARCH]
#   -o DIR           write the results into DIR (default: a new
#                    results/<stamp>-soak/)
# Environment:
#   SOAK_MIN         minutes of load (default 60)
#   SOAK_PROXY       on (default) or off: sched_proxy_exec=1 or =0
#   SOAK_SEED        seed of the storms (default: the guest's clock)
#   SOAK_SLICE       seconds per locktorture slice (default: a ninth of
#                    the soak, 15 to 120)
#   SILENCE_TIMEOUT  seconds of console silence that count as a hang
#                    (default 300)
#   PROGRESS_TIMEOUT seconds without a new PE- line from the guest that
#                    count as a stall, even while locktorture still prints
#                    (default 600)
#   SOAK_FLAVOUR     debug (default) or kasan: the kernel flavour to boot
#                    (make soak FLAVOUR=kasan builds and sets it)
#   SMP (4), MEM, KERNEL (pe), ACCEL and the rest of boot.sh's
# Exit codes: 0 passed, 1 failed, 2 bad usage, 3 infrastructure (no kernel
#   built, no guest image, QEMU missing).

set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

usage() {
	sed -n '/^# Usage:/,/^# Exit codes/p' "$0" | sed 's/^# \{0,1\}//'
}
out=()
while getopts ho: opt; do
	case "$opt" in
	h) usage; exit 0 ;;
	o) out=(-o "$OPTARG") ;;
	*) usage_error "unknown option" ;;
	esac
done
shift $((OPTIND - 1))
[ $# -le 1 ] || usage_error "unexpected argument '$2'"
(arch_setup "${1:-x86_64}") || exit 2
arch_setup "${1:-x86_64}"

min=${SOAK_MIN:-60}
case "$min" in
'' | *[!0-9]*) usage_error "SOAK_MIN='$min' is not a positive number of minutes" ;;
esac
[ "$((10#$min))" -gt 0 ] || usage_error "SOAK_MIN='$min' is not a positive number of minutes"
min=$((10#$min))
case "${SOAK_PROXY:-on}" in
on) flag=1 ;;
off) flag=0 ;;
*) usage_error "SOAK_PROXY='$SOAK_PROXY' must be on or off" ;;
esac
for v in SOAK_SEED SOAK_SLICE; do
	case "${!v:-}" in
	*[!0-9]*) usage_error "$v='${!v}' is not a number" ;;
	esac
done
silence=${SILENCE_TIMEOUT:-300}
# The guest prints a PE- line every minute (PE-SOAK: minute=...), and
# more at the end: none for this long means its load loop stalled, e.g.
# on a fork, although locktorture may still print.
stall=${PROGRESS_TIMEOUT:-600}
flavour=${SOAK_FLAVOUR:-debug}
case "$flavour" in
debug | kasan) ;;
*) usage_error "SOAK_FLAVOUR='$flavour' must be debug or kasan (the soak needs the hang detectors)" ;;
esac

# RCU's grace-period and boost kthreads above every FIFO priority the mix
# uses (storms 1-40, locktorture's rt_boost 50, pe_storm 60): at the
# default of 1 a FIFO torture writer starves the grace-period kthread and
# CPU hotplug waits behind it, as on any kernel.
cmd="sched_proxy_exec=$flag pe_soak_min=$min rcutree.kthread_prio=99"
[ -n "${SOAK_SEED:-}" ] && cmd+=" pe_soak_seed=$SOAK_SEED"
[ -n "${SOAK_SLICE:-}" ] && cmd+=" pe_soak_slice=$SOAK_SLICE"
# The load, its end (a torture slice finishing, up to 5 minutes to unload),
# the idle minute, the final selftest and the boot.
hard=$((min * 60 + 1800))

# The soak's KUnit suite (the workqueue-stall reproducer) runs at boot and
# again from the guest, when the kernel has it.
kunit=()
if grep -q ' sched_proxy_soak_suite$' "$(build_dir "$ARCH" "$flavour" "${KERNEL:-pe}")/System.map" 2>/dev/null; then
	kunit=(-k sched_proxy_soak)
fi

log "soak: $min minutes on $ARCH, sched_proxy_exec=$flag, ${SMP:-4} CPUs (QEMU killed after ${hard}s, or ${silence}s of silence)"
rc=0
# The commit of the harness and series booted, taken now: later commits
# do not change what this run tests.
commit=$(git -C "$TOP" describe --always --dirty 2>/dev/null || echo '?')
dir=$(BOOT_TIMEOUT=$hard SILENCE_TIMEOUT=$silence PROGRESS_TIMEOUT=$stall PROGRESS_RE='PE-' \
	PE_TIMEOUT=${PE_TIMEOUT:-300} \
	"$TOP/scripts/boot.sh" -w soak "${out[@]}" -s "${SOAK_PROXY:-on}" -T info,soak -c "$cmd" "${kunit[@]}" \
	"$ARCH" "$flavour" | tail -n 1) || rc=$?
if [ ! -d "$dir" ]; then
	# boot.sh said why (no kernel, no image, no QEMU).
	exit "$rc"
fi
if ! python3 "$TOP/scripts/soak-report.py" --commit "$commit" "$dir"; then
	[ "$rc" != 0 ] || rc=1
fi
log "results: $dir (summary.md, throughput.svg)"
exit "$rc"
