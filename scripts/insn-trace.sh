#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# insn-trace.sh - record every instruction of a stretch of `perf bench sched
# pipe`, to see which functions a kernel change makes longer.
#
# Boots work/build/x86_64-perf-TAG with one vCPU under -icount and QEMU's gdb
# stub, runs perf bench sched pipe in the guest, lets SKIP calls of
# pipe_write() pass (steady state), then single-steps STEPS instructions and
# records the program counter of each.  QEMU masks interrupts while stepping,
# so the trace is the syscall and scheduler path alone.  The trace (pcs.txt)
# and the kernel's symbol table (syms.txt, taken before the boot, so a later
# rebuild cannot mislabel it) land in results/<stamp>-insn-trace-NAME/.
# scripts/insn-trace-report.py compares two of them.
#
# This attributes instruction counts; it is not a benchmark.  Performance
# claims come from scripts/bench.sh.
#
# Usage: scripts/insn-trace.sh [-h] [-s STEPS] [-k SKIP] [-c CMDLINE] TAG NAME
#   TAG         the kernel: base, pe or ctl (build folder x86_64-perf-TAG)
#   NAME        name of the trace, e.g. off
#   -s STEPS    instructions to step (default 150000: about 18 round trips,
#               3-4 minutes)
#   -k SKIP     pipe_write() calls to let pass first (default 3000)
#   -c CMDLINE  extra kernel command line, e.g. sched_proxy_exec=0
# Environment: GDB_PORT (default 1234), RESULTS.
# Exit codes: 0 ok, 1 failure, 2 bad usage, 3 missing tool or kernel.

set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

usage() {
	sed -n '/^# Usage:/,/^# Exit codes/p' "$0" | sed 's/^# \{0,1\}//'
}
steps=150000 skip=3000 extra=''
while getopts hs:k:c: opt; do
	case "$opt" in
	h) usage; exit 0 ;;
	s) steps=$OPTARG ;;
	k) skip=$OPTARG ;;
	c) extra=$OPTARG ;;
	*) usage_error "unknown option" ;;
	esac
done
shift $((OPTIND - 1))
[ $# -eq 2 ] || usage_error "need TAG and NAME"
tag=$1 name=$2
kernel_check "$tag"
case "$steps$skip" in
*[!0-9]*) usage_error "-s and -k take a number" ;;
esac
[ "$steps" -gt 0 ] || usage_error "-s must be above 0"
case "$name" in
'' | *[!A-Za-z0-9_.-]*) usage_error "NAME may hold letters, digits, '.', '_' and '-'" ;;
esac
port=${GDB_PORT:-1234}

for t in gdb nm python3; do
	command -v "$t" >/dev/null 2>&1 ||
		{ printf '%s: error: missing tool %s; install it with apt-get install %s\n' \
			"$PROG" "$t" "${t/nm/binutils}" >&2; exit 3; }
done
bd=$(build_dir x86_64 perf "$tag")
if [ ! -s "$bd/vmlinux" ] || [ ! -s "$bd/arch/x86/boot/bzImage" ]; then
	printf '%s: error: no kernel in %s; build it (scripts/bench.sh builds base, pe and ctl)\n' \
		"$PROG" "$bd" >&2
	exit 3
fi
[ -s "$bd/initrd-bench.cpio.gz" ] ||
	{ printf '%s: error: %s/initrd-bench.cpio.gz is missing; boot the kernel once with scripts/bench.sh\n' \
		"$PROG" "$bd" >&2; exit 3; }

out=$(new_results_dir "insn-trace-$name")
nm -n --defined-only "$bd/vmlinux" >"$out/syms.txt"
cat "$bd/kernelrelease" >"$out/kernelrelease"

# The bench boot's QEMU command, plus the gdb stub; nokaslr keeps the
# addresses those of vmlinux.
cmd=$(SMP=1 ICOUNT=shift=4,sleep=off "$TOP/scripts/boot.sh" -d -b -K "$tag" -T info,bench \
	-c "nokaslr pe_bench=perf-pipe pe_bench_reps=1 pe_bench_secs=4${extra:+ $extra}" x86_64 perf)
eval "qemu=($cmd)"
qemu+=(-gdb "tcp:127.0.0.1:$port")
printf '%q ' "${qemu[@]}" >"$out/qemu-cmd.sh"
echo >>"$out/qemu-cmd.sh"

cat >"$out/trace.py" <<EOF
import gdb
gdb.execute("set pagination off")
gdb.execute("target remote 127.0.0.1:$port")
gdb.execute("hbreak pipe_write")
gdb.execute("continue")
gdb.execute("ignore 1 $skip")
gdb.execute("continue")
gdb.execute("delete")
with open("$out/pcs.txt", "w") as f:
    for _ in range($steps):
        f.write("%x\n" % (int(gdb.parse_and_eval("\$pc")) & (2**64 - 1)))
        gdb.execute("stepi", to_string=True)
gdb.execute("kill")
EOF

log "tracing $steps instructions of $(cat "$bd/kernelrelease") ($tag${extra:+, $extra}) after $skip pipe_write() calls"
log "results: $out"
"${qemu[@]}" </dev/null >"$out/console.log" 2>&1 &
qpid=$!
trap 'kill "$qpid" 2>/dev/null || true' EXIT
sleep 1
rc=0
timeout 1800 gdb -batch -nx "$bd/vmlinux" -x "$out/trace.py" >"$out/gdb.log" 2>&1 || rc=$?
got=$(wc -l <"$out/pcs.txt" 2>/dev/null || echo 0)
if [ "$got" -ne "$steps" ]; then
	tail -n 5 "$out/gdb.log" >&2
	die "gdb recorded $got of $steps steps (exit $rc); see $out/gdb.log"
fi
log "recorded $got instructions: $out/pcs.txt"
