# shellcheck shell=sh
# SPDX-License-Identifier: GPL-2.0
#
# /opt/pe/soak.sh: the "soak" guest test of 'make soak' (busybox sh).
# Sourced by /init, whose result() and have_module() it uses.
#
# For pe_soak_min minutes it runs, at once and until the end:
#   - locktorture, one slice after another: mutex_lock (nested_locks,
#     rt_boost), ww_mutex_lock, rtmutex_lock (the PI control), each slice
#     with CPU hotplug (onoff_interval) where the guest can, and in turn
#     with stutter, with long holds off, and with FIFO writers;
#   - test-ww_mutex, loaded and unloaded in a loop;
#   - the inversion scenarios (pe_latency), one instance pinned to each
#     CPU, over every scenario and lock kind but the deadline one;
#   - stress-ng (schedpolicy, switch, pipe, mutex, rename) and pe_rename_mix (renames
#     across directories);
#   - the KUnit suite sched_proxy_soak (a workqueue-stall reproducer),
#     again every minute, when the kernel has it;
#   - pe_storm: affinity, policy (FIFO, RR, DEADLINE, IDLE, nice), cgroup
#     and cpuset changes of the torture kthreads, stress-ng and
#     pe_rename_mix, SIGKILL of pe_rename_mix, and reads of the proxy
#     execution state and statistics.
# A line "PE-SOAK: minute=..." every minute shows it is alive.  Then the
# load stops and the accounting is checked once the guest is idle, and
# the inversion selftest runs once, with its bounds (pe_soak_final=1).
#
# Verdicts (PE-RESULT): soak:torture:<type> (every slice's own SUCCESS),
# soak:ww_mutex (every run passed), soak:latency (every run exited 0),
# soak:accounting, soak:alive; the final selftest's cases.  stress-ng,
# pe_rename_mix and pe_storm are load: their counts are reported, not
# judged.  PE-SOAK lines carry the numbers for the host's summary
# (scripts/soak-report.py).

# Defaults of the command line words it reads (see guest/PROTOCOL).
: "${pe_soak_min:=60}"
: "${pe_soak_slice:=}"
: "${pe_soak_seed:=}"
: "${pe_soak_final:=1}"
: "${pe_soak_idle:=60}"

SOAK=/tmp/soak
PE_BIN=/opt/pe/selftests/proxy_exec

soak_stopped() {
	[ -e "$SOAK/stop" ]
}

# soak_now: whole seconds since boot, read without a fork.
soak_now() {
	read -r soak_up _ </proc/uptime
	echo "${soak_up%.*}"
}

# soak_sleep SECS: sleep SECS seconds of the clock, but return early once
# the soak stops.  It counts the clock, not its own steps: under the load a
# "sleep 1" (a fork and exec) took about 5 s on arm64, and a 20 s slice
# lasted 100 s.  Its variables have names of their own: shell variables
# are global, and callers count with n.
soak_sleep() {
	soak_until=$(($(soak_now) + $1))
	while [ "$(soak_now)" -lt "$soak_until" ] && ! soak_stopped; do
		sleep 1
	done
}

# The locktorture slices.  One PE-SOAK line per slice; $SOAK/torture
# collects "<type> <verdict> <writes> <offlines>" lines.  The first round
# of the three types runs whole even if the soak stops during it, so that
# every type has a verdict however short the soak; t_soak sizes the
# slices so that the round fits in the minutes.
soak_torture() {
	i=0
	while ! soak_stopped; do
		for type in mutex_lock ww_mutex_lock rtmutex_lock; do
			soak_stopped && [ "$i" -ge 3 ] && break
			i=$((i + 1))
			case "$type" in
			mutex_lock) extra="nested_locks=3 rt_boost=1" ;;
			ww_mutex_lock) extra="nested_locks=3" ;;
			*) extra="rt_boost=1 rt_boost_factor=50" ;;
			esac
			case $((i % 3)) in
			0) extra="$extra stutter=5" ;;
			1) extra="$extra stutter=0 long_hold=0" ;;
			*) extra="$extra stutter=0 writer_fifo=1" ;;
			esac
			[ "$SOAK_HOTPLUG" = 1 ] && extra="$extra onoff_interval=3 onoff_holdoff=2"
			echo "PE-SOAK-MARK torture $i" >/dev/kmsg
			t0=$(date +%s)
			# shellcheck disable=SC2086
			if ! modprobe locktorture torture_type="$type" \
				nwriters_stress=$((2 * SOAK_CPUS)) stat_interval=10 $extra; then
				echo "$type insmod-failed 0" >>"$SOAK/torture"
				echo "PE-SOAK: torture type=$type slice=$i verdict=insmod-failed"
				soak_sleep 5
				continue
			fi
			if [ "$i" -le 3 ]; then
				sleep "$SOAK_SLICE"
			else
				soak_sleep "$SOAK_SLICE"
			fi
			if ! timeout 300 modprobe -r locktorture; then
				echo "$type rmmod-failed 0" >>"$SOAK/torture"
				echo "PE-SOAK: torture type=$type slice=$i verdict=rmmod-failed"
				return
			fi
			out=$(dmesg | sed -n "/PE-SOAK-MARK torture $i\$/,\$p")
			v=$(echo "$out" | grep -o 'End of test: [A-Z_]*' | tail -n 1 | sed 's/End of test: //')
			w=$(echo "$out" | grep -o 'Writes: *Total: *[0-9]*' | tail -n 1 | grep -o '[0-9]*$')
			f=$(echo "$out" | grep -o 'Fail: *[0-9]*' | tail -n 1 | grep -o '[0-9]*$')
			# x86 and arm64 say so at each CPU offline.
			o=$(echo "$out" | grep -c 'CPU [0-9]* is now offline\|CPU[0-9]* killed')
			echo "$type ${v:-none} ${w:-0} $o" >>"$SOAK/torture"
			echo "PE-SOAK: torture type=$type slice=$i secs=$(($(date +%s) - t0)) verdict=${v:-none} writes=${w:-0} fail=${f:-?} offlines=$o params=$(echo "$extra" | tr ' ' ',')"
			[ "$v" = LOCK_HOTPLUG ] && soak_dlbw_around "$i"
		done
	done
}

# test-ww_mutex in a loop; $SOAK/ww holds "<runs> <failed>".
soak_ww() {
	n=0
	bad=0
	while ! soak_stopped; do
		n=$((n + 1))
		if timeout 600 modprobe test-ww_mutex; then
			modprobe -r test-ww_mutex
		else
			bad=$((bad + 1))
			echo "PE-SOAK: ww_mutex run=$n FAIL"
			modprobe -r test-ww_mutex 2>/dev/null
		fi
		echo "$n $bad" >"$SOAK/ww"
	done
}

# One pe_latency after another, pinned to CPU $1, every scenario and lock
# kind in turn; $SOAK/lat/$1 holds "<runs> <failed> <disturbed>" (a
# directory of its own: the verdict sums every file in it).  Under
# the soak a run may not set up (its CPU goes offline under locktorture,
# or its threads are not ready within 10 s): it exits 1 or 2, counts as
# disturbed, and its reason goes to $SOAK/lat.why.  A run that hangs
# (timeout) or dies of a signal fails.
soak_latency() {
	cpu=$1
	n=0
	bad=0
	dis=0
	while ! soak_stopped; do
		for s in nice idle fifo fifocontender cgweight cgmax; do
			for l in fpos pipe rename; do
				soak_stopped && break 2
				[ "$s" = fifocontender ] && [ "$l" != fpos ] && continue
				w=0
				while [ "$(cat "/sys/devices/system/cpu/cpu$cpu/online" 2>/dev/null || echo 1)" = 0 ] &&
					[ "$w" -lt 60 ] && ! soak_stopped; do
					sleep 1
					w=$((w + 1))
				done
				n=$((n + 1))
				rc=0
				timeout 300 "$PE_BIN/pe_latency" -s "$s" -l "$l" -p one -c "$cpu" \
					-n 10 -b 4000 >/dev/null 2>"$SOAK/laterr.$cpu" || rc=$?
				case "$rc" in
				0) ;;
				1 | 2)
					dis=$((dis + 1))
					tail -n 1 "$SOAK/laterr.$cpu" | sed 's/^pe_latency: [a-z-]*: //; s/[0-9][0-9]*/N/g' >>"$SOAK/lat.why" ;;
				*)
					bad=$((bad + 1))
					echo "PE-SOAK: latency cpu=$cpu scenario=$s lock=$l rc=$rc (hung or crashed): $(tail -n 1 "$SOAK/laterr.$cpu")" ;;
				esac
				echo "$n $bad $dis" >"$SOAK/lat/$cpu"
			done
		done
	done
}

# stress-ng and the rename mix, as load; $SOAK/stress holds "<runs> <nonzero exits>".
soak_stress() {
	n=0
	nz=0
	while ! soak_stopped; do
		n=$((n + 1))
		rc=0
		stress-ng --schedpolicy 1 --switch 1 --pipe 1 --mutex 1 --rename 1 --timeout 30s \
			--temp-path /tmp --quiet >/dev/null 2>&1 || rc=$?
		[ "$rc" = 0 ] || nz=$((nz + 1))
		echo "$n $nz" >"$SOAK/stress"
	done
}

# The KUnit suite sched_proxy_soak (the workqueue-stall reproducer), run
# again under the load through debugfs, when the kernel has it and it ran
# at boot (the host passes its glob): once the load has had 10 s to start,
# then every minute.  $SOAK/kunit holds "<runs> <failed>".
SOAK_KUNIT=/sys/kernel/debug/kunit/sched_proxy_soak
soak_kunit() {
	n=0
	bad=0
	soak_sleep 10
	while ! soak_stopped; do
		[ "$n" -gt 0 ] && soak_sleep 60
		soak_stopped && break
		n=$((n + 1))
		echo run >"$SOAK_KUNIT/run"
		if grep -q 'not ok' "$SOAK_KUNIT/results"; then
			bad=$((bad + 1))
			echo "PE-SOAK: kunit sched_proxy_soak run=$n FAIL: $(grep -m 1 'not ok' "$SOAK_KUNIT/results")"
		fi
		echo "$n $bad" >"$SOAK/kunit"
	done
}

# The deadline bandwidth: the root domain's total_bw (the first CPU's
# dump; one root domain here) and the SCHED_DEADLINE threads.
soak_dl_total() {
	sed -n 's/^ *\.dl_bw->total_bw *: *//p' /sys/kernel/debug/sched/debug 2>/dev/null | head -n 1
}

soak_dl_threads() {
	# Field 41 of stat is the policy; counted after "pid (comm) ".
	cat /proc/[0-9]*/task/[0-9]*/stat 2>/dev/null |
		awk '{ sub(/^.*\) /, ""); if ($39 == 6) n++ } END { print n + 0 }'
}

# A sample every 2 s: "<uptime> <total_bw> <deadline threads>", so that a
# CPU offline refused for deadline bandwidth (-EBUSY) can be told from a
# leak: the samples around it show what was admitted then.
soak_dlbw() {
	while ! soak_stopped; do
		echo "$(cut -d' ' -f1 /proc/uptime) $(soak_dl_total) $(soak_dl_threads)" >>"$SOAK/dlbw"
		sleep 2
	done
}

# soak_dlbw_around SLICE: for every "offline N failed: errno -16" of the
# torture slice, the samples within 6 s of it.
soak_dlbw_around() {
	dmesg | sed -n "/PE-SOAK-MARK torture $1\$/,\$p" |
		sed -n 's/^\[ *\([0-9.]*\)\].*offline \([0-9]*\) failed: errno -16.*/\1 \2/p' |
		while read -r t cpu; do
			awk -v t="$t" -v c="$cpu" '$1 >= t - 6 && $1 <= t + 6 {
				printf "PE-SOAK: offline of CPU %s refused at %s: at %s total_bw=%s (%.2f CPUs) deadline_threads=%s\n",
					c, t, $1, $2, $2 / 1048576, $3 }' "$SOAK/dlbw"
		done
}

soak_rename_mix() {
	mkdir -p /dev/shm/soak-mix
	while ! soak_stopped; do
		"$PE_BIN/pe_rename_mix" -t 4 -d 20 -p /dev/shm/soak-mix >/dev/null 2>&1
	done
}

# sumfile FILE...: the sums of the first and second fields.
sumfile() {
	cat "$@" 2>/dev/null | awk '{ a += $1; b += $2 } END { printf "%d %d\n", a, b }'
}

# The sum of the third field.
sum3() {
	cat "$@" 2>/dev/null | awk '{ c += $3 } END { printf "%d\n", c }'
}

soak_minute() {
	m=$1
	lat=$(sumfile "$SOAK"/lat/* | tr ' ' /)/$(sum3 "$SOAK"/lat/*)
	ww=$(sumfile "$SOAK/ww" | tr ' ' /)
	st=$(sumfile "$SOAK/stress")
	echo "PE-SOAK: minute=$m/$pe_soak_min torture_slices=$(wc -l 2>/dev/null <"$SOAK/torture" || echo 0) ww_runs/failed=$ww latency_runs/failed/disturbed=$lat stress_runs=${st% *} loadavg=$(cut -d' ' -f1-3 /proc/loadavg)"
}

# The accounting once the load is gone: sum of nr_uninterruptible over the
# CPUs equals the tasks in D state, and both are 0; no task in iowait
# (procs_blocked); the 1-minute loadavg and PSI's some avg10 decay.
# soak_dtasks: "<comm> <wchan>" of every task in D state, a line each.
soak_dtasks() {
	for s in /proc/[0-9]*/task/[0-9]*/stat; do
		[ "$(sed 's/.*) //' "$s" 2>/dev/null | cut -d' ' -f1)" = D ] &&
			echo "$(cat "${s%/stat}/comm") $(cat "${s%/stat}/wchan" 2>/dev/null)"
	done
}

soak_unint_sum() {
	# Unsigned per CPU in the dump: a CPU that saw more wakeups than
	# sleeps shows as a value near 2^32.
	grep '\.nr_uninterruptible' /sys/kernel/debug/sched/debug 2>/dev/null |
		awk '{ v = $NF; if (v >= 2147483648) v -= 4294967296; s += v } END { print s + 0 }'
}

soak_accounting() {
	l0=$(cut -d' ' -f1 /proc/loadavg)
	echo "PE-SOAK: idle: waiting ${pe_soak_idle}s for the load to decay (loadavg $l0)"
	sleep "$pe_soak_idle"
	l1=$(cut -d' ' -f1 /proc/loadavg)
	ok=0
	for try in 1 2 3 4 5 6 7 8 9 10; do
		dl=$(soak_dtasks)
		d=$(printf '%s' "$dl" | grep -c .)
		u=$(soak_unint_sum)
		b=$(sed -n 's/^procs_blocked //p' /proc/stat)
		if [ "$d" = 0 ] && [ "$u" = 0 ] && [ "$b" = 0 ]; then
			ok=1
			break
		fi
		sleep 3
	done
	psi=""
	psi_ok=1
	for r in cpu io memory; do
		a=$(sed -n 's/^some avg10=\([0-9.]*\) .*/\1/p' "/proc/pressure/$r" 2>/dev/null)
		[ -n "$a" ] || continue
		psi="$psi $r=$a"
		awk -v a="$a" 'BEGIN { exit !(a <= 5.0) }' || psi_ok=0
	done
	decayed=$(awk -v a="$l0" -v b="$l1" 'BEGIN { print (b <= 0.6 * a + 0.5) ? 1 : 0 }')
	detail="loadavg $l0->$l1 d_state=$d nr_uninterruptible_sum=$u procs_blocked=$b psi_some_avg10:${psi:- absent} (tries $try)"
	echo "PE-SOAK: accounting $detail"
	# Reported, not judged: the base kernel's root domain rebuild at
	# hotplug zeroes total_bw and does not add the fair servers back.
	echo "PE-SOAK: deadline total_bw before ${SOAK_DL0:-absent}, after $(soak_dl_total) with $(soak_dl_threads) deadline threads; peak $(sort -k2 -n "$SOAK/dlbw" 2>/dev/null | tail -n 1 | awk '{ printf "%s (%.2f CPUs, %s threads) at %s s", $2, $2 / 1048576, $3, $1 }')"
	if [ "$ok" = 1 ] && [ "$decayed" = 1 ] && [ "$psi_ok" = 1 ]; then
		result soak:accounting PASS "$detail"
	else
		result soak:accounting FAIL "$detail"
		[ -z "$dl" ] || printf '%s\n' "$dl" | sed 's/^/PE-SOAK: D state: /'
	fi
}

t_soak() {
	case "$pe_soak_min" in
	'' | *[!0-9]* | 0)
		result soak FAIL "pe_soak_min='$pe_soak_min' is not a positive number of minutes"
		return ;;
	esac
	for m in locktorture test-ww_mutex; do
		have_module "$m" || { result soak FAIL "$m.ko not installed"; return; }
	done
	for b in pe_latency pe_rename_mix pe_storm; do
		[ -x "$PE_BIN/$b" ] || { result soak FAIL "$PE_BIN/$b missing"; return; }
	done
	rm -rf "$SOAK"
	mkdir -p "$SOAK/lat"
	SOAK_CPUS=$(grep -c ^processor /proc/cpuinfo)
	SOAK_HOTPLUG=0
	if [ "$SOAK_CPUS" -gt 1 ] && [ -w /sys/devices/system/cpu/cpu1/online ]; then
		SOAK_HOTPLUG=1
	else
		echo "PE-SOAK: no CPU hotplug: /sys/devices/system/cpu/cpu1 has: $(cd /sys/devices/system/cpu/cpu1 2>&1 && echo *)"
	fi
	seed=${pe_soak_seed:-$(date +%s)}
	secs=$((pe_soak_min * 60))
	# Each type gets several slices; a slice also takes up to half a
	# minute to start and unload.
	SOAK_SLICE=$((secs / 9))
	[ "$SOAK_SLICE" -gt 120 ] && SOAK_SLICE=120
	[ "$SOAK_SLICE" -lt 15 ] && SOAK_SLICE=15
	SOAK_SLICE=${pe_soak_slice:-$SOAK_SLICE}
	echo "PE-BEGIN: soak ${pe_soak_min}min cpus=$SOAK_CPUS hotplug=$SOAK_HOTPLUG slice=${SOAK_SLICE}s seed=$seed"
	# Keep the kernel's notices off the console, but for warnings and
	# worse (every splat): the hotplug chatter would flood it.  dmesg
	# keeps everything.
	echo 5 >/proc/sys/kernel/printk
	# A hung task fails the soak anyway.  Panic on the first report:
	# that makes the kernel print the blocked tasks' stacks (it raises the
	# console level first; at level 5 they stay in dmesg), with the locks
	# held, and ends a guest that can no longer fork instead of letting
	# it idle to the hard timeout while locktorture keeps the console busy.
	[ -w /proc/sys/kernel/hung_task_panic ] &&
		echo 1 >/proc/sys/kernel/hung_task_panic
	# Before that panic, every CPU's backtrace (what each one runs while
	# the task starves: finding 10), and at the panic every task's state
	# and stack plus the runqueues (show_state(): panic_print bit 0).
	[ -w /proc/sys/kernel/hung_task_all_cpu_backtrace ] &&
		echo 1 >/proc/sys/kernel/hung_task_all_cpu_backtrace
	[ -w /proc/sys/kernel/panic_print ] &&
		echo 1 >/proc/sys/kernel/panic_print

	SOAK_DL0=$(soak_dl_total)
	echo "PE-SOAK: deadline total_bw before the load: ${SOAK_DL0:-absent}"
	pids=""
	soak_dlbw &
	pids="$pids $!"
	soak_torture &
	pids="$pids $!"
	soak_ww &
	pids="$pids $!"
	c=0
	while [ "$c" -lt "$SOAK_CPUS" ]; do
		soak_latency "$c" &
		pids="$pids $!"
		c=$((c + 1))
	done
	soak_stress &
	pids="$pids $!"
	soak_rename_mix &
	pids="$pids $!"
	if [ -w "$SOAK_KUNIT/run" ]; then
		soak_kunit &
		pids="$pids $!"
	fi
	"$PE_BIN/pe_storm" -y -d "$secs" -i 50 -s "$seed" -g /sys/fs/cgroup -f 60 \
		-t lock_torture -t pe_rename_mix -t stress-ng -k pe_rename_mix \
		>"$SOAK/storm" 2>"$SOAK/storm.err" &
	storm=$!

	# Minutes of the clock, not of the loop: under load a progress line
	# takes seconds to gather, and a sleep 60 per line made 60 "minutes"
	# last up to 90 (the storms, timed by the clock, ended long before).
	t_load=$(date +%s)
	m=0
	while [ "$m" -lt "$pe_soak_min" ]; do
		left=$((t_load + (m + 1) * 60 - $(date +%s)))
		[ "$left" -gt 0 ] && sleep "$left"
		m=$((m + 1))
		soak_minute "$m"
	done
	touch "$SOAK/stop"
	echo "PE-SOAK: stopping the load"
	# shellcheck disable=SC2086
	wait $pids
	wait "$storm"
	cat "$SOAK/storm"
	echo 7 >/proc/sys/kernel/printk

	# Verdicts.
	for type in mutex_lock ww_mutex_lock rtmutex_lock; do
		n=$(grep -c "^$type " "$SOAK/torture" 2>/dev/null)
		good=$(grep -c "^$type SUCCESS " "$SOAK/torture" 2>/dev/null)
		w=$(awk -v t="$type" '$1 == t { s += $3 } END { print s + 0 }' "$SOAK/torture" 2>/dev/null)
		o=$(awk -v t="$type" '$1 == t { s += $4 } END { print s + 0 }' "$SOAK/torture" 2>/dev/null)
		if [ "${n:-0}" -gt 0 ] && [ "$n" = "$good" ]; then
			result "soak:torture:$type" PASS "slices=$n writes=$w cpu_offlines=$o"
		else
			result "soak:torture:$type" FAIL "slices=${n:-0} success=${good:-0} writes=$w"
		fi
	done
	s=$(sumfile "$SOAK/ww")
	if [ "${s% *}" -gt 0 ] && [ "${s#* }" = 0 ]; then
		result soak:ww_mutex PASS "runs=${s% *}"
	else
		result soak:ww_mutex FAIL "runs=${s% *} failed=${s#* }"
	fi
	s=$(sumfile "$SOAK"/lat/*)
	dis=$(sum3 "$SOAK"/lat/*)
	sort "$SOAK/lat.why" 2>/dev/null | uniq -c | sort -rn | head -n 5 |
		while read -r c why; do echo "PE-SOAK: latency disturbed $c times: $why"; done
	if [ "${s% *}" -gt "$dis" ] && [ "${s#* }" = 0 ]; then
		result soak:latency PASS "runs=${s% *} disturbed=$dis on $SOAK_CPUS CPUs"
	else
		result soak:latency FAIL "runs=${s% *} failed=${s#* } disturbed=$dis"
	fi
	s=$(sumfile "$SOAK/stress")
	echo "PE-SOAK: stress-ng runs=${s% *} nonzero_exits=${s#* } (load, not judged)"
	if [ -w "$SOAK_KUNIT/run" ]; then
		s=$(sumfile "$SOAK/kunit")
		if [ "${s% *}" -gt 0 ] && [ "${s#* }" = 0 ]; then
			result soak:kunit PASS "sched_proxy_soak runs=${s% *}"
		else
			result soak:kunit FAIL "sched_proxy_soak runs=${s% *} failed=${s#* }"
		fi
	else
		result soak:kunit SKIP "no sched_proxy_soak suite in this kernel (or it did not run at boot)"
	fi

	soak_accounting
	if [ "$pe_soak_final" = 1 ]; then
		# shellcheck source=guest/pe/selftests.sh
		. /opt/pe/selftests.sh
		run_selftest proxy_exec "$PE_BIN/pe_inversion_test"
	fi
	echo "PE-END: soak"
	result soak:alive PASS "minutes=$pe_soak_min"
}
