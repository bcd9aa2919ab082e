# shellcheck shell=sh
# SPDX-License-Identifier: GPL-2.0
#
# /opt/pe/trace.sh: the "trace" guest test (busybox sh).  Sourced by /init,
# whose result() it uses.  Runs one pe_latency case with the scheduler's
# events in the ftrace buffer and prints, as PE-TRACE lines, the events of
# the longest waits, to explain a latency tail.  A diagnostic, not a
# benchmark: tracing slows every event it records.
#
# Kernel command line:
#   pe_trace_case=SCEN-LOCK-PLACE  the pe_latency case (default
#                                  fifo-fpos-spread)
#   pe_trace_samples=N             waits to collect (default 40)
#   pe_trace_show=N                how many of the longest waits to print
#                                  (default 2)
#   pe_trace_before=N              events to print before each wait's
#                                  begin, for what led to it (default 0)

: "${pe_trace_case:=fifo-fpos-spread}"
: "${pe_trace_samples:=40}"
: "${pe_trace_show:=2}"
: "${pe_trace_before:=0}"

TRACEFS=/sys/kernel/tracing

t_trace() {
	c=$pe_trace_case
	sc=${c%%-*}
	rest=${c#*-}
	lk=${rest%%-*}
	pl=${rest#*-}
	lat=/opt/pe/selftests/proxy_exec/pe_latency
	if [ ! -w "$TRACEFS/trace_marker" ]; then
		result "trace:$c" FAIL "no tracefs at $TRACEFS"
		return
	fi
	echo 0 >"$TRACEFS/tracing_on"
	echo 8192 >"$TRACEFS/buffer_size_kb"
	: >"$TRACEFS/trace"
	: >"$TRACEFS/set_event"
	for e in sched:sched_switch sched:sched_wakeup sched:sched_waking \
		sched:sched_migrate_task sched:sched_proxy_run \
		sched:sched_proxy_fallback irq_vectors:reschedule_entry \
		irq_vectors:call_function_single_entry irq:softirq_entry \
		irq:softirq_exit lock:contention_begin lock:contention_end; do
		echo "$e" >>"$TRACEFS/set_event" 2>/dev/null ||
			echo "PE-INFO: trace: no event $e"
	done
	echo 1 >"$TRACEFS/tracing_on"
	rc=0
	"$lat" -T -s "$sc" -l "$lk" -p "$pl" -n "$pe_trace_samples" \
		>/tmp/trace-lat.out 2>/tmp/trace-lat.err || rc=$?
	echo 0 >"$TRACEFS/tracing_on"
	sed 's/^/PE-INFO: pe_latency: /' /tmp/trace-lat.err
	cat "$TRACEFS/trace" >/tmp/trace.txt
	echo "PE-INFO: trace: $(wc -l </tmp/trace.txt) lines; $(grep -c 'pe_wait end' /tmp/trace.txt) waits marked"
	# The ids of the longest waits, longest first.
	ids=$(sed -n 's/.*pe_wait end id=\([0-9]*\) wall_us=\([0-9]*\).*/\2 \1/p' /tmp/trace.txt |
		sort -rn | head -n "$pe_trace_show" | awk '{ print $2 }')
	for id in $ids; do
		awk -v id="$id" -v before="$pe_trace_before" '
			!on { ring[NR % (before + 1)] = $0 }
			!on && $0 ~ ("pe_wait begin id=" id "$") {
				on = 1
				for (i = NR - before; i < NR; i++)
					if (i > 0) print "PE-TRACE: " ring[i % (before + 1)]
			}
			on { print "PE-TRACE: " $0 }
			on && $0 ~ ("pe_wait end id=" id " ") { exit }
		' /tmp/trace.txt
	done
	if [ "$rc" = 0 ] && [ -n "$ids" ]; then
		result "trace:$c" PASS "waits=$(grep -c 'pe_wait end' /tmp/trace.txt)"
	else
		result "trace:$c" FAIL "pe_latency exit $rc, no marked wait"
	fi
}
