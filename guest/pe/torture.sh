# shellcheck shell=sh
# SPDX-License-Identifier: GPL-2.0
#
# /opt/pe/torture.sh: the "torture" guest test (busybox sh).  Sourced by
# /init, whose result() and have_module() it uses: one locktorture run per
# type in pe_torture_types, each judged by its own verdict line.

# Defaults of the command line words it reads (see guest/PROTOCOL).
: "${pe_torture_secs:=20}"
: "${pe_torture_types:=mutex_lock,ww_mutex_lock,rtmutex_lock}"

# torture_one TYPE: one locktorture run, judged by its own verdict line.
torture_one() {
	type=$1
	name="torture:$type"
	if ! have_module locktorture; then
		result "$name" FAIL "locktorture.ko not installed"
		return
	fi
	case "$type" in
	mutex_lock) extra="nested_locks=3 rt_boost=1" ;;
	ww_mutex_lock) extra="nested_locks=3" ;;
	rtmutex_lock) extra="rt_boost=1 rt_boost_factor=50" ;;
	*) extra="" ;;
	esac
	# CPU hotplug while mutex holders and waiters (proxy donors) move:
	# a CPU goes off and on every 3 s, from 2 s in.
	case "$type" in
	mutex_lock | ww_mutex_lock)
		if [ -w /sys/devices/system/cpu/cpu1/online ]; then
			extra="$extra onoff_holdoff=2 onoff_interval=3"
		else
			echo "PE-INFO: $name: no CPU hotplug (one CPU, or CONFIG_HOTPLUG_CPU=n)"
		fi
		;;
	esac
	dmesg -c >/dev/null
	echo "PE-BEGIN: $name ${pe_torture_secs}s $extra"
	# shellcheck disable=SC2086
	if ! modprobe locktorture torture_type="$type" nwriters_stress=8 stutter=0 \
		stat_interval=10 $extra; then
		result "$name" FAIL "insmod failed"
		return
	fi
	sleep "$pe_torture_secs"
	if ! timeout 120 modprobe -r locktorture; then
		result "$name" FAIL "rmmod failed or timed out"
		return
	fi
	v=$(dmesg | grep -o 'End of test: [A-Z_]*' | tail -n 1)
	w=$(dmesg | grep -o 'Writes: *Total: *[0-9]* *Max/Min: [0-9/]*[^F]*Fail: *[0-9]*' | tail -n 1)
	echo "PE-END: $name $v; $w"
	# A CPU offline refused with -EBUSY comes from the deadline bandwidth
	# check: show the root domain's bandwidth, to tell a leak.
	if dmesg | grep -q 'offline [0-9]* failed: errno -16'; then
		grep -E '^dl_rq|total_bw|running_bw|this_bw' /sys/kernel/debug/sched/debug 2>/dev/null |
			sed 's/^/PE-INFO: deadline bandwidth: /'
	fi
	case "$v" in
	"End of test: SUCCESS") result "$name" PASS "$w" ;;
	"") result "$name" FAIL "no verdict line" ;;
	*) result "$name" FAIL "$v; $w" ;;
	esac
}

t_torture() {
	for type in $(echo "$pe_torture_types" | tr ',' ' '); do
		torture_one "$type"
	done
}
