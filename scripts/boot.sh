#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# boot.sh - boot a built kernel in QEMU, run guest tests, judge the console.
#
# Boots work/build/<arch>-<flavour>[-<tag>] with the guest initramfs (the
# userspace image from initramfs.sh plus the build's modules), runs the tests
# named by -T inside the guest (see guest/init), and judges the run:
#   - every PE-RESULT line of the guest (each test case),
#   - KUnit's KTAP output when -k is given (parsed by the kernel's kunit.py),
#   - the guest's final PE-VERDICT line (missing = hang or crash),
#   - the release string (uname -r must be the built kernel's),
#   - the console log has no splat (scripts/console-check.sh).
# A pass with a splat is a fail.  Each run writes results/<stamp>-<what>/
# with the QEMU command, console log, .config, results.tsv and summary.txt.
#
# Usage: scripts/boot.sh [-h] [-d] [-b] [-t TAG] [-c CMDLINE] [-T TESTS]
#                        [-k GLOB] [-w WHAT] ARCH FLAVOUR
#   -c CMDLINE  extra kernel command line (e.g. sched_proxy_exec=0)
#   -T TESTS    guest tests, comma separated (info, selftests, torture,
#               ww_mutex, shell); default: info
#   -k GLOB     run the built-in KUnit suites matching GLOB (kunit.filter_glob);
#               without -k, KUnit is disabled for the boot
#   -t TAG      build folder suffix (e.g. base)
#   -w WHAT     name of the results folder (default: boot-<arch>)
#   -b          boot the benchmark image (initramfs.sh -b: adds perf)
#   -d          dry run: print the QEMU command and exit
# Environment:
#   SMP (4), MEM (1G), ACCEL (auto|tcg|kvm; auto probes KVM once and falls
#   back to TCG), ICOUNT (TCG only: QEMU -icount argument, e.g. shift=auto),
#   BOOT_TIMEOUT (hard kill of QEMU, seconds; default 900),
#   PE_TIMEOUT (per-test timeout in the guest, default 300),
#   TORTURE_SECS (per locktorture run, default 20), RESULTS.
# Exit codes: 0 all passed, 1 a failure (test, splat, hang), 2 bad usage,
#   3 infrastructure (no kernel built, QEMU missing).

set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

usage() {
	sed -n '/^# Usage:/,/^# Exit codes/p' "$0" | sed 's/^# \{0,1\}//'
}

tag=
extra=
tests=info
glob=
what=
dry=0
image=()
while getopts hdbt:c:T:k:w: opt; do
	case "$opt" in
	h) usage; exit 0 ;;
	d) dry=1 ;;
	b) image=(-b) ;;
	t) tag=$OPTARG ;;
	c) extra=$OPTARG ;;
	T) tests=$OPTARG ;;
	k) glob=$OPTARG ;;
	w) what=$OPTARG ;;
	*) usage_error "unknown option" ;;
	esac
done
shift $((OPTIND - 1))
[ $# -eq 2 ] || usage_error "need ARCH and FLAVOUR"
arch_setup "$1"
flavour_check "$2"
FLAVOUR=$2
bd=$(build_dir "$ARCH" "$FLAVOUR" "$tag")
what=${what:-boot-$ARCH}
smp=${SMP:-4}
mem=${MEM:-1G}
hard=${BOOT_TIMEOUT:-900}

infra() { printf '%s: error: %s\n' "$PROG" "$*" >&2; exit 3; }
command -v "$QEMU" >/dev/null 2>&1 ||
	infra "missing tool '$QEMU'; install it with 'apt-get install qemu-system-${KARCH/x86/x86}' (or run 'make deps')"
for f in "$KIMAGE" modules.cpio.gz kernelrelease; do
	[ -s "$bd/$f" ] || infra "no kernel built in $bd ($f missing); run 'make build ARCH=$ARCH'"
done

# The guest initramfs: userspace image + this build's modules.
if [ "$dry" = 0 ]; then
	user=$("$TOP/scripts/initramfs.sh" "${image[@]}" "$ARCH" | tail -n 1)
else
	user=$WORK/initramfs/$ARCH/userspace${image:+-bench}.cpio.gz
fi
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

qemu=("$QEMU" -M "$QEMU_MACHINE" "${accel_args[@]}" -smp "$smp" -m "$mem"
	"${QEMU_BIOS[@]}" -nodefaults -display none -monitor none -serial stdio
	-no-reboot -kernel "$bd/$KIMAGE" -initrd "$initrd" -append "$cmdline")

if [ "$dry" = 1 ]; then
	printf '%q ' "${qemu[@]}"
	echo
	exit 0
fi

out=$(new_results_dir "$what")
printf '%q ' "${qemu[@]}" >"$out/qemu-cmd.sh"
echo >>"$out/qemu-cmd.sh"
cp "$bd/.config" "$out/config"
release=$(cat "$bd/kernelrelease")
log "booting $release ($ARCH, $accel, ${smp} CPUs) tests=$tests${glob:+ kunit=$glob}${extra:+ [$extra]}"
log "results: $out"

start=$(date +%s)
rc=0
timeout -s KILL "$hard" "${qemu[@]}" </dev/null >"$out/console.log" 2>&1 || rc=$?
end=$(date +%s)
echo "$((end - start))" >"$out/boot-seconds"

# Judge.  results.tsv: name <TAB> PASS|FAIL|SKIP <TAB> detail
tsv=$out/results.tsv
: >"$tsv"
add() { printf '%s\t%s\t%s\n' "$1" "$2" "${3:-}" >>"$tsv"; }

tr -d '\r' <"$out/console.log" >"$out/console.clean"
mv "$out/console.clean" "$out/console.log"

sed -n 's/.*PE-RESULT: \([^ ]*\) \(PASS\|FAIL\|SKIP\) \{0,1\}\(.*\)$/\1\t\2\t\3/p' \
	"$out/console.log" >>"$tsv"

verdict=$(grep -o 'PE-VERDICT: .*' "$out/console.log" | tail -n 1 || true)
if [ -z "$verdict" ]; then
	if [ "$rc" = 137 ]; then
		add guest FAIL "guest did not finish within ${hard}s (hung?); QEMU was killed"
	else
		add guest FAIL "guest ended without a verdict (QEMU exit $rc; crash or panic?)"
	fi
else
	add guest PASS "$verdict"
fi

got=$(sed -n 's/.*PE-GUEST: release=\([^ ]*\).*/\1/p' "$out/console.log" | head -n 1)
if [ "$got" = "$release" ]; then
	add release PASS "$got"
else
	add release FAIL "booted '${got:-nothing}', built '$release'"
fi

if [ -n "$glob" ]; then
	if ! python3 "$KSRC/tools/testing/kunit/kunit.py" parse --json="$out/kunit.json" \
		"$out/console.log" >"$out/kunit.txt" 2>&1; then
		:
	fi
	if [ -s "$out/kunit.json" ]; then
		python3 - "$out/kunit.json" >>"$tsv" <<'PY'
import json, sys
def walk(g, path):
    name = g.get("name", "")
    for c in g.get("test_cases", []):
        print("kunit:%s.%s\t%s\t" % (name, c["name"],
              {"PASS": "PASS", "SKIP": "SKIP"}.get(c["status"], "FAIL")))
    for s in g.get("sub_groups", []):
        walk(s, path + [name])
d = json.load(open(sys.argv[1]))
walk(d, [])
PY
	fi
	if ! grep -q '^kunit:' "$tsv"; then
		add kunit FAIL "no KUnit results for '$glob' (see kunit.txt)"
	fi
fi

if "$TOP/scripts/console-check.sh" "$out/console.log" >"$out/splats.txt" 2>&1; then
	add console PASS "no splat"
else
	add console FAIL "splat in console log: $(head -n 1 "$out/splats.txt")"
fi

npass=$(awk -F'\t' '$2 == "PASS"' "$tsv" | wc -l)
nfail=$(awk -F'\t' '$2 == "FAIL"' "$tsv" | wc -l)
nskip=$(awk -F'\t' '$2 == "SKIP"' "$tsv" | wc -l)
{
	echo "what:     $what"
	echo "kernel:   $release ($ARCH-$FLAVOUR${tag:+-$tag})"
	echo "accel:    $accel, $smp CPUs, $mem"
	echo "cmdline:  $cmdline"
	echo "seconds:  $((end - start))"
	echo "result:   $npass passed, $nfail failed, $nskip skipped"
	awk -F'\t' '$2 == "FAIL" { print "FAIL:     " $1 ": " $3 }' "$tsv"
} >"$out/summary.txt"
cat "$out/summary.txt" >&2
if [ "$nfail" -gt 0 ]; then
	# The assertion text of failing KUnit and kselftest cases.
	{
		grep -hE 'FAILED at|Expected |\[FAILED\] ' "$out/kunit.txt" 2>/dev/null || true
		grep -E '^# .*(Expected|FAIL)|^not ok ' "$out/console.log" || true
	} | head -n 20 | sed 's/^/  detail: /' >&2
	if grep -q . "$out/splats.txt"; then
		sed 's/^/  splat: /' "$out/splats.txt" | head -n 10 >&2
	fi
	log "FAILED: $nfail failures; console log: $out/console.log"
	exit 1
fi
log "passed ($npass passed, $nskip skipped) in $((end - start)) s"
