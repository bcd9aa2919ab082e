# shellcheck shell=sh
# SPDX-License-Identifier: GPL-2.0
#
# /opt/pe/scx.sh: the "scx" guest test (busybox sh), for a kernel with
# sched_ext and /opt/pe/scx/scx_simple, the base tree's example BPF
# scheduler (the x86_64 debug kernels; scripts/scx-tools.sh).  Sourced by
# /init, whose result() and pe_state() it uses.
#
#   1. scx-loaded/: scx_simple loaded, every fair task is the BPF
#      scheduler's.  The kernel logs that proxy execution is suspended for
#      them (flag on) or not (flag off).  pe_inversion_test with
#      PE_EXPECT=ext: its SCHED_OTHER owner is the BPF scheduler's, so no
#      proxy run and no donor move, and the FIFO waiter still gets the
#      lock; with the flag on the kernel counts "ext" fallbacks.
#      locktorture mutex_lock: mutual exclusion holds.  The BPF scheduler
#      is still loaded at the end: locktorture's CPU hotplug makes the
#      kernel exit it for a restart (scx_simple restarts), anything else
#      fails.
#   2. scx-unloaded/: scx_simple unloaded cleanly; the inversion selftest
#      (bounded with the flag on, the inversion with it off) and
#      locktorture again.
# Any splat fails the boot (judge.sh).

SCX_BIN=/opt/pe/scx/scx_simple
SCX_VARIANTS="fifo_waiter_other_owner_fifo_hogs apart_fifo_waiter_other_owner_fifo_hogs"

# scx_state: enabled, disabled, ... (/sys/kernel/sched_ext/state).
scx_state() {
	cat /sys/kernel/sched_ext/state 2>/dev/null || echo absent
}

# scx_wait STATE SECS: wait until sched_ext is in STATE.
scx_wait() {
	i=0
	while [ "$(scx_state)" != "$1" ] && [ "$i" -lt "$(($2 * 10))" ]; do
		sleep 0.1
		i=$((i + 1))
	done
	[ "$(scx_state)" = "$1" ]
}

# ext_fallbacks: the "ext" fallbacks summed over all CPUs.
ext_fallbacks() {
	sed -n 's/.* ext \([0-9]*\).*/\1/p' /sys/kernel/debug/sched/proxy_stats 2>/dev/null |
		awk '{ s += $1 } END { print s + 0 }'
}

# scx_round: the inversion selftest and locktorture, as the phase says.
scx_round() {
	set --
	for v in $SCX_VARIANTS; do
		set -- "$@" -v "$v"
	done
	run_selftest proxy_exec /opt/pe/selftests/proxy_exec/pe_inversion_test "$@"
	torture_one mutex_lock
}

# pe_phase is read by /init's result().
# shellcheck disable=SC2034
t_scx() {
	if [ ! -d /sys/kernel/sched_ext ]; then
		result scx FAIL "no /sys/kernel/sched_ext: the kernel has no sched_ext (x86_64 debug kernels have it)"
		return
	fi
	if [ ! -x "$SCX_BIN" ]; then
		result scx FAIL "no $SCX_BIN in the guest image (build.sh builds it for an x86_64 kernel with sched_ext)"
		return
	fi
	# shellcheck source=guest/pe/selftests.sh
	. /opt/pe/selftests.sh
	# shellcheck source=guest/pe/torture.sh
	. /opt/pe/torture.sh
	state=$(pe_state)
	echo 1 >/proc/sys/kernel/sched_schedstats 2>/dev/null || true

	dmesg -c >/dev/null
	"$SCX_BIN" >/tmp/scx_simple.log 2>&1 &
	scx_pid=$!
	if ! scx_wait enabled 30; then
		sed 's/^/PE-INFO: scx_simple: /' /tmp/scx_simple.log | tail -n 40
		result scx-load FAIL "sched_ext state '$(scx_state)' 30 s after starting scx_simple: $(tail -n 3 /tmp/scx_simple.log | tr '\n' ' ')"
		kill -INT "$scx_pid" 2>/dev/null
		wait "$scx_pid" 2>/dev/null
		return
	fi
	ops=$(cat /sys/kernel/sched_ext/root/ops 2>/dev/null)
	result scx-load PASS "ops=$ops"
	dmesg | grep 'sched_ext' | sed 's/^/PE-INFO: dmesg: /'
	logged=0
	dmesg | grep -q 'proxy execution suspended for the tasks of BPF scheduler' && logged=1
	case "$state:$logged" in
	on:1 | off:0 | absent:0) result scx-log PASS "proxy_exec=$state, suspension logged=$logged" ;;
	*) result scx-log FAIL "proxy_exec=$state, but the kernel logged the suspension: $logged (expected $([ "$state" = on ] && echo 1 || echo 0))" ;;
	esac

	pe_phase=scx-loaded
	ext0=$(ext_fallbacks)
	PE_EXPECT=ext scx_round
	ext1=$(ext_fallbacks)
	echo "PE-INFO: scx: ext fallbacks $ext0 -> $ext1"
	if [ "$state" = on ]; then
		if [ "$ext1" -gt "$ext0" ]; then
			result ext-fallbacks PASS "$((ext1 - ext0)) FIFO waiters of the BPF scheduler's owners slept instead"
		else
			result ext-fallbacks FAIL "no ext fallback counted: the FIFO waiter never met the BPF scheduler's owner as a donor"
		fi
	fi
	# locktorture's CPU hotplug makes the kernel exit a BPF scheduler
	# without CPU hotplug callbacks, for a restart, which scx_simple does:
	# that is loading and unloading under load, with donors queued.  A
	# restart that races with hotplug is refused the same way ("expected
	# hotplug seq N did not match actual M") and restarts again.  Any
	# other exit (an error, a stall the watchdog saw) fails.
	hp='^EXIT: unregistered from the main kernel \((cpu [0-9]* going o[nf]*line|expected hotplug seq [0-9]* did not match actual [0-9]*)'
	restarts=$(grep -cE "$hp" /tmp/scx_simple.log)
	other=$(grep '^EXIT:' /tmp/scx_simple.log | grep -vE "$hp" | head -n 1)
	if [ -z "$other" ] && scx_wait enabled 10 && kill -0 "$scx_pid" 2>/dev/null; then
		result still-loaded PASS "ops=$(cat /sys/kernel/sched_ext/root/ops 2>/dev/null), $restarts restarts for CPU hotplug"
	else
		result still-loaded FAIL "sched_ext state '$(scx_state)'; ${other:-scx_simple gone or not enabled again}"
	fi

	pe_phase=scx-unloaded
	kill -INT "$scx_pid" 2>/dev/null
	wait "$scx_pid" 2>/dev/null
	if scx_wait disabled 30; then
		result unload PASS "$(grep '^EXIT:' /tmp/scx_simple.log | tail -n 1)"
	else
		result unload FAIL "sched_ext state '$(scx_state)' 30 s after SIGINT to scx_simple"
	fi
	sed 's/^/PE-INFO: scx_simple: /' /tmp/scx_simple.log | tail -n 5
	scx_round
	pe_phase=
}
