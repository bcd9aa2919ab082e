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
}
