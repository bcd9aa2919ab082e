# shellcheck shell=sh
# SPDX-License-Identifier: GPL-2.0
#
# /opt/pe/coresched.sh: the "coresched" guest test (busybox sh), for a
# guest whose vCPUs are SMT siblings (boot.sh with SMT=2).  Sourced by
# /init, whose result() it uses.
#
#   - pe_core_forceidle_test (base kernel core scheduling, no proxy
#     execution): an idle sibling whose idle task kept a fair server
#     pointer must not force the core idle and starve tasks with a
#     cookie (schedstats on, so the kernel's forced idle warning shows);
#   - pe_core_sched_test: owner and waiter with different core-scheduling
#     cookies on one CPU, a task with the waiter's cookie on its sibling:
#     the owner never runs on the waiter's context beside it, and the
#     waiter still gets the lock;
#   - pe_inversion_test with PE_CORE_COOKIE=1, every thread sharing one
#     cookie: proxying happens and the bound holds (flag on), the
#     inversion shows (flag off), on one CPU and with the waiter apart.

CORESCHED_VARIANTS="fifo_waiter_other_owner_fifo_hogs nice_waiter_nice19_owner_nice0_hogs apart_fifo_waiter_other_owner_fifo_hogs"

t_coresched() {
	dir=/opt/pe/selftests/proxy_exec
	sib=$(cat /sys/devices/system/cpu/cpu0/topology/thread_siblings_list 2>/dev/null)
	case "$sib" in
	*[,-]*) ;;
	*)
		result coresched FAIL "cpu0 has no SMT sibling (thread_siblings_list '$sib'): boot with SMT=2"
		return ;;
	esac
	echo "PE-INFO: coresched: cpu0 siblings $sib"
	# shellcheck source=guest/pe/selftests.sh
	. /opt/pe/selftests.sh
	# This boot is meant for it: a skip (no SMT, no core scheduling, no
	# tracefs) fails.
	export PE_CORE_REQUIRED=1
	# First: the kernel warns once a boot, and this test looks for it.
	run_selftest proxy_exec "$dir/pe_core_forceidle_test"
	run_selftest proxy_exec "$dir/pe_core_sched_test"
	unset PE_CORE_REQUIRED
	set --
	for v in $CORESCHED_VARIANTS; do
		set -- "$@" -v "$v"
	done
	export PE_CORE_COOKIE=1
	run_selftest proxy_exec "$dir/pe_inversion_test" "$@"
	unset PE_CORE_COOKIE
}
