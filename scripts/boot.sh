#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# boot.sh - boot a built kernel in QEMU and run the guest tests.
#
# Boots work/build/<arch>-<flavour>-<kernel> with the guest initramfs (the
# userspace image from initramfs.sh plus the build's modules), runs the tests
# named by -T inside the guest (see guest/init and guest/PROTOCOL), and
# records the run in a results folder: the QEMU command, the console log,
# the .config and boot.env (what was booted, how, and QEMU's exit code).
# While the guest runs, one progress line is printed as each guest test
# begins and ends.  Then scripts/judge.sh decides (a pass with a splat is a
# fail), and its exit code is this script's.  The folder's path is the
# last line on stdout.
#
# Usage: scripts/boot.sh [-h] [-d] [-b] [-K KERNEL] [-c CMDLINE] [-T TESTS]
#                        [-k GLOB] [-w WHAT] [-o DIR] [-s STATE] ARCH FLAVOUR
#   -K KERNEL   pe (default: $KERNEL or pe), base or ctl
#   -c CMDLINE  extra kernel command line (e.g. sched_proxy_exec=0)
#   -T TESTS    guest tests, comma separated (info, selftests, torture,
#               ww_mutex, bench, soak, trace, shell); default: info
#   -k GLOB     run the built-in KUnit suites matching GLOB (kunit.filter_glob);
#               without -k, KUnit is disabled for the boot
#   -w WHAT     name of the results folder (default: boot-<arch>)
#   -o DIR      results folder to write (default: results/<stamp>-<what>)
#   -s STATE    proxy execution state the guest must report (on, off,
#               absent), passed to judge.sh
#   -b          boot the benchmark image (initramfs.sh -b: adds perf)
#   -d          dry run: print the QEMU command and exit
# Environment:
#   KERNEL, SMP (4), SMT (threads per core: 1, the default, or 2, which
#   makes the vCPUs pairs of SMT siblings, for core scheduling), MEM (1G), ACCEL (auto|tcg|kvm; auto probes KVM once and
#   falls back to TCG), ICOUNT (TCG only: QEMU -icount argument, e.g.
#   shift=auto), BOOT_TIMEOUT (hard kill of QEMU, seconds; default 900),
#   PE_TIMEOUT (per-test timeout in the guest, default 300),
#   TORTURE_SECS (per locktorture run, default 20), SILENCE_TIMEOUT (a
#   guest that prints nothing for this many seconds hangs: QEMU is killed;
#   default 0, off), PROGRESS_TIMEOUT (a guest whose console has no new
#   line matching PROGRESS_RE, an extended regex, for this many seconds
#   has stalled, although it may still print: QEMU is killed; default 0,
#   off), RESULTS.
# Exit codes: 0 all passed, 1 a failure (test, splat, hang), 2 bad usage,
#   3 infrastructure (no kernel built, QEMU missing).

set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

usage() {
	sed -n '/^# Usage:/,/^# Exit codes/p' "$0" | sed 's/^# \{0,1\}//'
}

kernel=${KERNEL:-pe}
extra=
tests=info
glob=
what=
out=
want=()
dry=0
image=()
while getopts hdbK:c:T:k:w:o:s: opt; do
	case "$opt" in
	h) usage; exit 0 ;;
	d) dry=1 ;;
	b) image=(-b) ;;
	K) kernel=$OPTARG ;;
	c) extra=$OPTARG ;;
	T) tests=$OPTARG ;;
	k) glob=$OPTARG ;;
	w) what=$OPTARG ;;
	o) out=$OPTARG ;;
	s) want=(-s "$OPTARG") ;;
	*) usage_error "unknown option" ;;
	esac
done
shift $((OPTIND - 1))
[ $# -eq 2 ] || usage_error "need ARCH and FLAVOUR"
arch_setup "$1"
flavour_check "$2"
kernel_check "$kernel"
FLAVOUR=$2
bd=$(build_dir "$ARCH" "$FLAVOUR" "$kernel")
what=${what:-boot-$ARCH}
smp=${SMP:-4}
smt=${SMT:-1}
case "$smp" in
'' | *[!0-9]* | 0) usage_error "SMP='$smp' is not a number of CPUs" ;;
esac
case "$smt" in
1) smp_arg=$smp ;;
2)
	[ $((smp % 2)) = 0 ] || usage_error "SMT=2 needs an even SMP, not $smp"
	smp_arg="$smp,sockets=1,cores=$((smp / 2)),threads=2" ;;
*) usage_error "SMT='$smt' is neither 1 nor 2" ;;
esac
mem=${MEM:-1G}
hard=${BOOT_TIMEOUT:-900}
silence=${SILENCE_TIMEOUT:-0}
case "$silence" in
'' | *[!0-9]*) usage_error "SILENCE_TIMEOUT='$silence' is not a number of seconds" ;;
esac
stall=${PROGRESS_TIMEOUT:-0}
case "$stall" in
'' | *[!0-9]*) usage_error "PROGRESS_TIMEOUT='$stall' is not a number of seconds" ;;
esac
progress_re=${PROGRESS_RE:-}
if [ "$stall" != 0 ] && [ -z "$progress_re" ]; then
	usage_error "PROGRESS_TIMEOUT=$stall needs PROGRESS_RE, the lines that count as progress"
fi

infra() { printf '%s: error: %s\n' "$PROG" "$*" >&2; exit 3; }
command -v "$QEMU" >/dev/null 2>&1 ||
	infra "missing tool '$QEMU'; install it with 'apt-get install $QEMU_PKG' (or run 'make deps')"
for f in "$KIMAGE" modules.cpio.gz kernelrelease; do
	[ -s "$bd/$f" ] || infra "no kernel built in $bd ($f missing); run 'make build ARCH=$ARCH FLAVOUR=$FLAVOUR KERNEL=$kernel'"
done

# The guest initramfs: the userspace image (prepare.sh / initramfs.sh made
# it) plus this build's modules.
user=$WORK/initramfs/$ARCH/userspace${image:+-bench}.cpio.gz
[ "$dry" = 1 ] || [ -s "$user" ] ||
	infra "no guest image $user; run 'make initramfs ARCH=$ARCH' (or scripts/prepare.sh${image:+ -b} $ARCH)"
initrd=$bd/initrd${image:+-bench}.cpio.gz
if [ "$dry" = 0 ] && { [ ! -s "$initrd" ] || [ "$user" -nt "$initrd" ] ||
	[ "$bd/modules.cpio.gz" -nt "$initrd" ]; }; then
	cat "$user" "$bd/modules.cpio.gz" >"$initrd.tmp"
	mv "$initrd.tmp" "$initrd"
fi

# KVM only where it really works: /dev/kvm exists on these machines, but
# QEMU hangs or fails on MSRs.  Probe once per machine and QEMU version.
accel=${ACCEL:-auto}
probe_kvm() {
	local cache out
	cache=$WORK/kvm-probe-$ARCH-$("$QEMU" --version | head -n 1 | tr -c 'A-Za-z0-9.\n' _)
	if [ -f "$cache" ]; then
		cat "$cache"
		return
	fi
	if [ "$(uname -m)" != "${ARCH/arm64/aarch64}" ] || [ ! -w /dev/kvm ]; then
		echo tcg >"$cache"
		cat "$cache"
		return
	fi
	log "probing KVM (once per machine; up to 20 s)"
	out=$(timeout -s KILL 20 "$QEMU" -accel kvm -M "${QEMU_MACHINE%%,*}" -cpu host -smp 1 \
		-m 256M -nodefaults -display none -no-reboot -serial stdio \
		-kernel "$bd/$KIMAGE" -append "console=$CONSOLE panic=-1" </dev/null 2>&1 || true)
	if printf '%s' "$out" | grep -q 'Kernel panic - not syncing'; then
		echo kvm >"$cache"
	else
		echo tcg >"$cache"
		log "KVM does not work here (no boot within 20 s); using TCG"
	fi
	cat "$cache"
}
case "$accel" in
auto) [ "$dry" = 1 ] && accel=tcg || accel=$(probe_kvm) ;;
tcg | kvm) ;;
*) usage_error "unknown ACCEL '$accel'; use auto, tcg or kvm" ;;
esac
case "$accel" in
kvm) accel_args=(-accel kvm -cpu host) ;;
*)
	if [ -n "${ICOUNT:-}" ]; then
		# Guest time follows the instruction count: one host thread.
		accel_args=(-accel "tcg,thread=single" -icount "$ICOUNT" -cpu "$QEMU_CPU")
	else
		accel_args=(-accel "tcg,thread=multi" -cpu "$QEMU_CPU")
	fi
	;;
esac

cmdline="console=$CONSOLE panic=-1 loglevel=7 printk.time=1${KCMDLINE_ARCH:+ $KCMDLINE_ARCH}"
# An x86 guest under TCG reads the host's TSC, but calibrating it against
# the emulated PIT fails now and then, and the clocksource watchdog then
# finds it skewed against jiffies: the guest falls back to a 4 ms clock
# for both time and scheduler accounting.  Give it the host's frequency.
# Under -icount the guest's TSC follows the instruction count, not the
# host's: the guest calibrates it (deterministically) itself.
if [ "$ARCH" = x86_64 ] && [ "$accel" = tcg ] && [ "$(uname -m)" = x86_64 ] &&
	[ -z "${ICOUNT:-}" ]; then
	khz=$(host_tsc_khz || true)
	if [ -n "$khz" ]; then
		cmdline+=" tsc_early_khz=$khz tsc=reliable"
	else
		warn "host TSC frequency unknown; the guest clock may be jiffy-grained"
	fi
fi
cmdline+=" pe_tests=$tests pe_timeout=${PE_TIMEOUT:-300} pe_torture_secs=${TORTURE_SECS:-20}"
if [ -n "$glob" ]; then
	cmdline+=" kunit.enable=1 kunit.filter_glob=$glob"
else
	cmdline+=" kunit.enable=0"
fi
[ -n "$extra" ] && cmdline+=" $extra"

qemu=("$QEMU" -M "$QEMU_MACHINE" "${accel_args[@]}" -smp "$smp_arg" -m "$mem"
	"${QEMU_BIOS[@]}" -nodefaults -display none -monitor none -serial stdio
	-no-reboot -kernel "$bd/$KIMAGE" -initrd "$initrd" -append "$cmdline")

if [ "$dry" = 1 ]; then
	printf '%q ' "${qemu[@]}"
	echo
	exit 0
fi

if [ -n "$out" ]; then
	mkdir -p "$out"
	out=$(cd "$out" && pwd)
else
	out=$(new_results_dir "$what")
fi
pidfile=$out/qemu.pid
[ "$silence" = 0 ] && [ "$stall" = 0 ] || qemu+=(-pidfile "$pidfile")
printf '%q ' "${qemu[@]}" >"$out/qemu-cmd.sh"
echo >>"$out/qemu-cmd.sh"
cp "$bd/.config" "$out/config"
release=$(cat "$bd/kernelrelease")
log "booting $release ($ARCH-$FLAVOUR-$kernel, $accel, ${smp} CPUs$([ "$smt" = 2 ] && echo ", SMT pairs")) tests=$tests${glob:+ kunit=$glob}${extra:+ [$extra]}"
log "results: $out"

# progress: one line per guest test as it begins and ends, and per KUnit
# suite, with the seconds since QEMU started.
progress() {
	# KUnit prints through printk (a timestamp); kselftest TAP has none.
	local line t0=$SECONDS re_suite='^(\[[ 0-9.]+\] )    # Subtest: ([A-Za-z0-9_]+)'
	local re_done='^(\[[ 0-9.]+\] )(not ok|ok) [0-9]+ ([A-Za-z0-9_]+)'
	while IFS= read -r line; do
		line=${line%$'\r'}
		case "$line" in
		*PE-GUEST:* | *PE-BEGIN:* | *PE-END:* | *PE-VERDICT:* | *PE-SOAK:*)
			printf '%s: [%4ds] %s\n' "$PROG" $((SECONDS - t0)) "${line#*PE-}" ;;
		*)
			if [[ $line =~ $re_suite ]]; then
				printf '%s: [%4ds] kunit: %s\n' "$PROG" $((SECONDS - t0)) "${BASH_REMATCH[2]}"
			elif [[ $line =~ $re_done ]]; then
				printf '%s: [%4ds] kunit: %s %s\n' "$PROG" $((SECONDS - t0)) \
					"${BASH_REMATCH[3]}" "${BASH_REMATCH[2]}"
			fi ;;
		esac
	done
}

# watch_silence: kill QEMU once the console has been quiet for $silence
# seconds (say so in $out/hung), or has shown no new progress line
# ($progress_re) for $stall seconds (say so in $out/stalled).  0 is off.
# give_up WHY SECONDS: record why QEMU is killed ($out/WHY), and kill it.
give_up() {
	echo "$2" >"$out/$1"
	kill -KILL "$(cat "$pidfile")" 2>/dev/null || true
}

watch_silence() {
	local pidfile=$1 last=-1 size quiet=0 lines nprog=-1 still=0
	while sleep 10; do
		if [ "$stall" != 0 ]; then
			lines=$(grep -a -c -E "$progress_re" "$out/console.raw" 2>/dev/null || true)
			if [ "${lines:-0}" != "$nprog" ]; then
				nprog=${lines:-0}
				still=0
			else
				still=$((still + 10))
			fi
			if [ "$still" -ge "$stall" ] && [ -s "$pidfile" ]; then
				give_up stalled "$still"
				return
			fi
		fi
		[ "$silence" != 0 ] || continue
		size=$(stat -c %s "$out/console.raw" 2>/dev/null || echo 0)
		if [ "$size" != "$last" ]; then
			last=$size
			quiet=0
			continue
		fi
		quiet=$((quiet + 10))
		if [ "$quiet" -ge "$silence" ] && [ -s "$pidfile" ]; then
			give_up hung "$quiet"
			return
		fi
	done
}

start=$(date +%s)
watcher=
if [ "$silence" != 0 ] || [ "$stall" != 0 ]; then
	rm -f "$pidfile" "$out/hung" "$out/stalled"
	watch_silence "$pidfile" &
	watcher=$!
fi
set +e
timeout -s KILL "$hard" "${qemu[@]}" </dev/null 2>&1 | tee "$out/console.raw" | progress >&2
rc=${PIPESTATUS[0]}
set -e
if [ -n "$watcher" ]; then
	kill "$watcher" 2>/dev/null || true
	wait "$watcher" 2>/dev/null || true
	rm -f "$pidfile"
fi
end=$(date +%s)
tr -d '\r' <"$out/console.raw" >"$out/console.log"
rm -f "$out/console.raw"
if [ -f "$out/hung" ]; then
	log "no console output for $(cat "$out/hung") s: the guest hangs; QEMU was killed. Its last lines:"
	tail -n 20 "$out/console.log" >&2
fi
if [ -f "$out/stalled" ]; then
	log "no progress line (/$progress_re/) for $(cat "$out/stalled") s: the guest's tests stalled; QEMU was killed. Its last lines:"
	tail -n 20 "$out/console.log" >&2
fi
{
	echo "WHAT=$what"
	echo "ARCH=$ARCH"
	echo "FLAVOUR=$FLAVOUR"
	echo "KERNEL=$kernel"
	echo "RELEASE=$release"
	echo "ACCEL=$accel"
	echo "SMP=$smp"
	echo "SMT=$smt"
	echo "MEM=$mem"
	echo "CMDLINE=$cmdline"
	echo "KUNIT_GLOB=$glob"
	echo "BOOT_TIMEOUT=$hard"
	echo "QEMU_EXIT=$rc"
	[ -f "$out/hung" ] && echo "HUNG=$(cat "$out/hung")"
	[ -f "$out/stalled" ] && echo "STALLED=$(cat "$out/stalled")"
	echo "SECONDS=$((end - start))"
} >"$out/boot.env"
echo "$((end - start))" >"$out/boot-seconds"

jrc=0
"$TOP/scripts/judge.sh" "${want[@]}" "$out" || jrc=$?
printf '%s\n' "$out"
exit "$jrc"
