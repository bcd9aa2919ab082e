# shellcheck shell=sh
# SPDX-License-Identifier: GPL-2.0
#
# /opt/pe/bench.sh: the guest side of 'make bench' (busybox sh).
#
# Sourced by /init for pe_tests=bench; uses its result() and pe_state().
# Runs the items of pe_bench= in order and prints one machine-readable line
# per measurement, collected by scripts/bench.sh on the host:
#
#   PE-BENCH,<kind>,<bench>,<case>,<sample>,<value>,<unit>,<status>
#
# kind is lat/cal/stat (from pe_latency) or ovh (one overhead repetition);
# status is ok, timeout (a latency sample that reached the cap) or failed (a
# repetition that did not produce a number: it is reported, never dropped).
# Each item also gets a PE-RESULT line, so a broken benchmark fails the boot.
#
# Kernel command line (parsed by /init, see guest/PROTOCOL):
#   pe_bench=a,b,...       items, see bench_item() (default: none)
#   pe_bench_reps=N        repetitions of each overhead item (default 3)
#   pe_bench_secs=S        length of a timed overhead run (default 5)
#   pe_bench_samples=N     latency samples per case (default 40)
#   pe_bench_cap_ms=MS     latency cap: the watchdog ends a longer wait
#                          (default 1000)
#   pe_bench_keys=1        hold the static keys the cases would toggle on
#                          for the whole boot (see bench_keys_on())

: "${pe_bench:=}"
: "${pe_bench_reps:=3}"
: "${pe_bench_secs:=5}"
: "${pe_bench_samples:=40}"
: "${pe_bench_cap_ms:=1000}"
: "${pe_timeout:=300}"
: "${pe_bench_keys:=0}"

PE_LATENCY=/opt/pe/selftests/proxy_exec/pe_latency
PE_RENAME_MIX=/opt/pe/selftests/proxy_exec/pe_rename_mix
BLOG=/tmp/bench.log

# stop_hackbench PID: end the hackbench started as PID with its senders and
# receivers (they are not in a process group of their own: killall), and
# let the exits' RCU callbacks run before the next measurement.
stop_hackbench() {
	killall hackbench 2>/dev/null
	wait "$1" 2>/dev/null
	i=0
	while pidof hackbench >/dev/null && [ "$i" -lt 100 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	sleep 1
}

# ovh BENCH CASE REP VALUE UNIT: print one overhead sample; an empty or
# non-numeric VALUE is a failed repetition.
ovh() {
	case "$4" in
	'' | *[!0-9.]* | .*) echo "PE-BENCH,ovh,$1,$2,$3,0,$5,failed" ; return 1 ;;
	esac
	echo "PE-BENCH,ovh,$1,$2,$3,$4,$5,ok"
}

# The numbers the tools print.
perf_total() { sed -n 's/^ *Total time: *\([0-9.]*\) \[sec\].*/\1/p' "$BLOG" | tail -n 1; }
perf_usecs() { sed -n 's/^ *\([0-9.]*\) usecs\/op.*/\1/p' "$BLOG" | tail -n 1; }
hackbench_time() { sed -n 's/^Time: *\([0-9.]*\).*/\1/p' "$BLOG" | tail -n 1; }
# stress-ng --metrics-brief: "metrc: [pid] <name> <bogo ops> <real> <usr>
# <sys> <bogo ops/s real time> ..."; the first such line (a second one
# with the same name carries miscellaneous metrics).
stress_rate() {
	awk -v s="$1" '$2 == "metrc:" && $4 == s && $5 ~ /^[0-9]+$/ && v == "" { v = $9 }
		END { if (v != "") print v }' "$BLOG"
}
# cyclictest -q: one "T: n ... Avg: a Max: m" line per thread.
cyclic_field() {
	awk -v f="$1" '/^T: *[0-9]/ {
		for (i = 1; i < NF; i++) if ($i == f ":") {
			v = $(i + 1) + 0
			if (f == "Max") { if (v > r) r = v } else { s += v; n++ }
		}
	} END {
		if (f == "Max" && r != "") print r
		else if (n) printf "%.1f\n", s / n
	}' "$BLOG"
}

ncpus() { grep -c ^processor /proc/cpuinfo; }

# One repetition of overhead item $1, repetition $2.  Returns non-zero when
# the repetition failed (its samples are then printed as failed).
ovh_once() {
	item=$1
	rep=$2
	secs=$pe_bench_secs
	n=$(ncpus)
	: >"$BLOG"
	case "$item" in
	perf-messaging)
		# Pipes: the small kernel config has no AF_UNIX sockets.
		perf bench sched messaging -p -g 5 -l 200 >"$BLOG" 2>&1
		ovh perf-messaging pipe-g5-l200 "$rep" "$(perf_total)" s
		;;
	perf-pipe)
		perf bench sched pipe -l 50000 >"$BLOG" 2>&1
		ovh perf-pipe l50000 "$rep" "$(perf_usecs)" usec/op
		;;
	hackbench)
		hackbench -p -g 5 -l 200 >"$BLOG" 2>&1
		ovh hackbench pipe-g5-l200 "$rep" "$(hackbench_time)" s
		;;
	cyclictest)
		# Under a steady load: one hackbench that outlasts the run keeps
		# every CPU busy and is stopped after it.  Its 80 processes must
		# not exit inside the window: the RCU callbacks of their exits
		# run as softirqs of several ms (measured on every kernel, base
		# included) and would delay the measuring thread whenever a
		# faster variant finished a hackbench run within its window.
		hackbench -p -g 2 -l 100000000 >/dev/null 2>&1 &
		load=$!
		sleep 1
		cyclictest -m -q -t "$n" -a -p 95 -i 1000 -D "${secs}s" >"$BLOG" 2>&1
		stop_hackbench "$load"
		ovh cyclictest max "$rep" "$(cyclic_field Max)" us
		ovh cyclictest avg "$rep" "$(cyclic_field Avg)" us
		;;
	stress-switch | stress-pipe | stress-mutex)
		s=${item#stress-}
		stress-ng --"$s" "$n" -t "${secs}s" --metrics-brief >"$BLOG" 2>&1
		ovh stress-ng "$s" "$rep" "$(stress_rate "$s")" bogo-ops/s
		;;
	rename-mix)
		# Cross-directory renames: every one takes the superblock's
		# s_vfs_rename_mutex, a contended kernel mutex.
		"$PE_RENAME_MIX" -t "$((2 * n))" -d "$secs" >"$BLOG" 2>&1
		ovh rename-mix "t$((2 * n))" "$rep" \
			"$(sed -n 's/.* ops_per_sec=\([0-9.]*\)$/\1/p' "$BLOG" | tail -n 1)" ops/s
		;;
	locktorture)
		dmesg -c >/dev/null
		modprobe locktorture torture_type=mutex_lock nwriters_stress="$((2 * n))" \
			stutter=0 stat_interval=0 >"$BLOG" 2>&1 || { ovh locktorture mutex_lock "$rep" "" ops/s; return 1; }
		sleep "$secs"
		modprobe -r locktorture >>"$BLOG" 2>&1
		dmesg >>"$BLOG"
		grep -q 'End of test: SUCCESS' "$BLOG" || { ovh locktorture mutex_lock "$rep" "" ops/s; return 1; }
		total=$(sed -n 's/.*Writes: *Total: *\([0-9]*\).*/\1/p' "$BLOG" | tail -n 1)
		ovh locktorture mutex_lock "$rep" "$(awk -v t="$total" -v s="$secs" 'BEGIN { if (t != "") printf "%.1f\n", t / s }')" ops/s
		;;
	*)
		return 2
		;;
	esac
}

# lat_case SCENARIO-LOCK-PLACEMENT
lat_case() {
	c=$1
	sc=${c%%-*}
	rest=${c#*-}
	lk=${rest%%-*}
	pl=${rest#*-}
	if [ ! -x "$PE_LATENCY" ]; then
		result "bench:lat:$c" FAIL "no $PE_LATENCY in the image"
		return
	fi
	rc=0
	timeout "$pe_timeout" "$PE_LATENCY" -s "$sc" -l "$lk" -p "$pl" -n "$pe_bench_samples" \
		-t "$pe_bench_cap_ms" >"$BLOG" 2>/tmp/bench.err || rc=$?
	cat "$BLOG"
	sed 's/^/PE-INFO: pe_latency: /' /tmp/bench.err
	n=$(grep -c '^PE-BENCH,lat,' "$BLOG")
	if [ "$rc" = 0 ] && [ "$n" -gt 0 ]; then
		result "bench:lat:$c" PASS "samples=$n"
	elif [ "$rc" = 0 ] && grep -q ': only 0 of [0-9]* samples within' /tmp/bench.err; then
		# The owner never began a critical section within the budget
		# (a starved owner with the flag off): no wait to measure, and
		# the report shows the case without samples.
		result "bench:lat:$c" PASS "samples=0: the owner began no critical section within the budget"
	else
		echo "PE-BENCH,lat,latency,$c,0,0,ns,failed"
		result "bench:lat:$c" FAIL "pe_latency exit $rc, $n samples: $(tail -n 1 /tmp/bench.err)"
	fi
}

# Multi-threaded TCG (QEMU 7.2) sometimes runs code that a static key
# switch just patched stale ("Oops: int3"), on every kernel alike.  The
# cgroup cases set cpu.max, which switches cfs_bandwidth_used on and off.
# An empty cgroup with a quota holds it on for the whole boot, so no case
# patches code; every variant of the boot group runs with it alike.
bench_keys_on() {
	[ "$pe_bench_keys" = 1 ] || return 0
	d=/sys/fs/cgroup/pe_bench_keys
	if mkdir -p "$d" 2>/dev/null && echo "1000000 1000000" >"$d/cpu.max" 2>/dev/null; then
		echo "PE-INFO: bench: cfs_bandwidth_used held on (empty cgroup $d with cpu.max)"
	else
		echo "PE-INFO: bench: cannot hold cfs_bandwidth_used on (no cpu controller at $d)"
	fi
}

t_bench() {
	bench_keys_on
	echo "PE-BENCH-BEGIN: proxy_exec=$(pe_state) cpus=$(ncpus) reps=$pe_bench_reps secs=$pe_bench_secs"
	for item in $(echo "$pe_bench" | tr ',' ' '); do
		case "$item" in
		lat:*)
			lat_case "${item#lat:}"
			continue
			;;
		esac
		bad=0
		r=1
		while [ "$r" -le "$pe_bench_reps" ]; do
			rc=0
			ovh_once "$item" "$r" || rc=$?
			if [ "$rc" = 2 ]; then
				bad=unknown
				break
			fi
			if [ "$rc" != 0 ]; then
				bad=$((bad + 1))
				echo "PE-INFO: $item repetition $r failed:"
				tail -n 5 "$BLOG" | sed 's/^/PE-INFO:   /'
			fi
			r=$((r + 1))
		done
		case "$bad" in
		unknown) result "bench:$item" FAIL "unknown benchmark item" ;;
		0) result "bench:$item" PASS "reps=$pe_bench_reps" ;;
		*) result "bench:$item" FAIL "$bad of $pe_bench_reps repetitions failed" ;;
		esac
	done
	echo "PE-BENCH-END"
}
