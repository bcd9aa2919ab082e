# shellcheck shell=sh
# SPDX-License-Identifier: GPL-2.0
#
# /opt/pe/info.sh: the "info" guest test (busybox sh).  Sourced by /init,
# whose result() and pe_state() it uses: prints what the kernel under test
# is and how its clock runs, as PE-INFO lines.

t_info() {
	echo "PE-INFO: cmdline: $(cat /proc/cmdline)"
	if [ -r /sys/kernel/debug/sched/proxy_exec ]; then
		echo "PE-INFO: /sys/kernel/debug/sched/proxy_exec: $(cat /sys/kernel/debug/sched/proxy_exec)"
	else
		echo "PE-INFO: /sys/kernel/debug/sched/proxy_exec: absent (kernel without proxy exec)"
	fi
	dmesg | grep -i 'proxy' | sed 's/^/PE-INFO: dmesg: /'
	# Timing tests need one-shot per-CPU timers: a guest left on a
	# periodic tick measures waits in whole ticks.
	ce=/sys/devices/system/clockevents/clockevent0/current_device
	cs=/sys/devices/system/clocksource/clocksource0/current_clocksource
	hres='?'
	[ -r /proc/timer_list ] && hres=$(grep -c 'hres_active *: 1' /proc/timer_list)
	echo "PE-INFO: clockevent: $(cat "$ce" 2>/dev/null || echo '?'), clocksource: $(cat "$cs" 2>/dev/null || echo '?'), high resolution timers on $hres of $(grep -c ^processor /proc/cpuinfo) cpus"
	dmesg | grep -E 'APIC timer disabled|not switch to high resolution' | sed 's/^/PE-INFO: dmesg: /'
	result info PASS "release=$(uname -r) proxy_exec=$(pe_state)"
	t_info_preempt
}

# The preemption model in effect, e.g. "none voluntary (full)", and with
# preempt=MODEL on the command line a check that it took: a
# PREEMPT_DYNAMIC kernel ignores a model it does not know, and one without
# PREEMPT_DYNAMIC ignores the parameter altogether.
t_info_preempt() {
	f=/sys/kernel/debug/sched/preempt
	models='?'
	[ -r "$f" ] && models=$(cat "$f")
	active=$(echo "$models" | sed -n 's/.*(\([a-z]*\)).*/\1/p')
	echo "PE-INFO: preemption model: ${active:-fixed at build} ($models)"
	want=
	read -r line </proc/cmdline
	for w in $line; do
		case "$w" in
		preempt=*) want=${w#preempt=} ;;
		esac
	done
	[ -n "$want" ] || return 0
	if [ "$active" = "$want" ]; then
		result info-preempt PASS "preempt=$active"
	elif [ ! -r "$f" ]; then
		result info-preempt FAIL "preempt=$want asked, but $f is absent (no PREEMPT_DYNAMIC?)"
	else
		result info-preempt FAIL "preempt=$want asked, the kernel runs '$models'"
	fi
}
