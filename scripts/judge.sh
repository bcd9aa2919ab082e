#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# judge.sh - decide whether one guest run passed, from its results folder.
#
# Reads what boot.sh left in DIR (console.log, boot.env) and writes the
# verdict, from scratch each time, so that an old run can be judged again:
#   - every PE-RESULT line of the guest (each test case),
#   - KUnit's KTAP output when the run had KUnit on (the kernel's kunit.py),
#   - the guest's final PE-VERDICT line (missing = hang or crash),
#   - the release string (uname -r must be the built kernel's),
#   - with -s, the proxy execution state the guest reports,
#   - the console log has no splat (scripts/console-check.sh).
# A pass with a splat is a fail.  Writes DIR/results.tsv (name, PASS|FAIL|
# SKIP, detail), DIR/summary.txt, DIR/splats.txt and, with KUnit,
# DIR/kunit.json and DIR/kunit.txt.
#
# Usage: scripts/judge.sh [-h] [-q] [-s on|off|absent] DIR
#   -s STATE  the proxy execution state the guest must report
#             (on, off, or absent for a kernel without the option)
#   -q        no summary on stderr
# Exit codes: 0 passed, 1 failed, 2 bad usage or not a results folder.

set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

usage() {
	sed -n '/^# Usage:/,/^# Exit codes/p' "$0" | sed 's/^# \{0,1\}//'
}
want=
quiet=0
while getopts hqs: opt; do
	case "$opt" in
	h) usage; exit 0 ;;
	q) quiet=1 ;;
	s) want=$OPTARG ;;
	*) usage_error "unknown option" ;;
	esac
done
shift $((OPTIND - 1))
[ $# -eq 1 ] || usage_error "need one results folder"
out=${1%/}
case "$want" in
'' | on | off | absent) ;;
*) usage_error "unknown proxy state '$want'; use on, off or absent" ;;
esac
[ -f "$out/console.log" ] || usage_error "$out is not a boot results folder (no console.log)"
# Absolute: kunit.py, run below, does not resolve paths from our folder.
out=$(cd "$out" && pwd)
if [ ! -f "$out/boot.env" ]; then
	# A folder of the harness before boot.env: rebuild it from the
	# summary that boot.sh wrote then (QEMU's exit code was not kept).
	[ -f "$out/summary.txt" ] || usage_error "$out has neither boot.env nor summary.txt"
	sum() { sed -n "s/^$1: *//p" "$out/summary.txt" | head -n 1; }
	k=$(sum kernel)
	{
		echo "WHAT=$(sum what)"
		echo "RELEASE=${k%% *}"
		echo "CMDLINE=$(sum cmdline)"
		echo "KUNIT_GLOB=$(sum cmdline | sed -n 's/.*kunit\.filter_glob=\([^ ]*\).*/\1/p')"
		echo "SECONDS=$(sum seconds)"
		echo "QEMU_EXIT=?"
	} >"$out/boot.env"
fi

# meta KEY: a value boot.sh recorded in boot.env (one KEY=value per line).
meta() { sed -n "s/^$1=//p" "$out/boot.env" | tail -n 1; }
glob=$(meta KUNIT_GLOB)
rc=$(meta QEMU_EXIT)
hard=$(meta BOOT_TIMEOUT)
hung=$(meta HUNG)
stalled=$(meta STALLED)
release=$(meta RELEASE)

tsv=$out/results.tsv
: >"$tsv"
add() { printf '%s\t%s\t%s\n' "$1" "$2" "${3:-}" >>"$tsv"; }

sed -n 's/.*PE-RESULT: \([^ ]*\) \(PASS\|FAIL\|SKIP\) \{0,1\}\(.*\)$/\1\t\2\t\3/p' \
	"$out/console.log" >>"$tsv"

verdict=$(grep -o 'PE-VERDICT: .*' "$out/console.log" | tail -n 1 || true)
if [ -n "$hung" ]; then
	add guest FAIL "no console output for ${hung}s: the guest hung; QEMU was killed (its last lines end console.log)"
elif [ -n "$stalled" ]; then
	add guest FAIL "no progress line for ${stalled}s: the guest's tests stalled while the console went on; QEMU was killed (its last lines end console.log)"
elif [ -n "$verdict" ]; then
	add guest PASS "$verdict"
elif [ "$rc" = 137 ]; then
	add guest FAIL "guest did not finish within ${hard}s (hung?); QEMU was killed"
else
	add guest FAIL "guest ended without a verdict (QEMU exit $rc; crash or panic?)"
fi

got=$(sed -n 's/.*PE-GUEST: release=\([^ ]*\).*/\1/p' "$out/console.log" | head -n 1)
if [ -n "$release" ] && [ "$got" = "$release" ]; then
	add release PASS "$got"
else
	add release FAIL "booted '${got:-nothing}', built '${release:-?}'"
fi

if [ -n "$want" ]; then
	state=$(guest_proxy_state "$out")
	if [ "$state" = "$want" ]; then
		add proxy-state PASS "proxy_exec=$state"
	else
		add proxy-state FAIL "guest reports proxy_exec=${state:-?}, expected $want"
	fi
fi

if [ -n "$glob" ]; then
	rm -f "$out/kunit.json"
	python3 "$KSRC/tools/testing/kunit/kunit.py" parse --json="$out/kunit.json" \
		"$out/console.log" >"$out/kunit.txt" 2>&1 || true
	if [ -s "$out/kunit.json" ]; then
		python3 - "$out/kunit.json" >>"$tsv" <<'PY'
import json, sys
def walk(g):
    name = g.get("name", "")
    for c in g.get("test_cases", []):
        print("kunit:%s.%s\t%s\t" % (name, c["name"],
              {"PASS": "PASS", "SKIP": "SKIP"}.get(c["status"], "FAIL")))
    for s in g.get("sub_groups", []):
        walk(s)
walk(json.load(open(sys.argv[1])))
PY
	fi
	if ! grep -q '^kunit:' "$tsv"; then
		add kunit FAIL "no KUnit results for '$glob' (see kunit.txt)"
	fi
fi

# The guest tests the boot ran: their own console noise applies.
cc_tests=()
for t in $(meta CMDLINE | sed -n 's/.*pe_tests=\([^ ]*\).*/\1/p' | tr ',' ' '); do
	cc_tests+=(-t "$t")
done
if "$TOP/scripts/console-check.sh" "${cc_tests[@]}" "$out/console.log" >"$out/splats.txt" 2>&1; then
	add console PASS "no splat"
else
	add console FAIL "splat in console log: $(head -n 1 "$out/splats.txt")"
fi

npass=$(awk -F'\t' '$2 == "PASS"' "$tsv" | wc -l)
nfail=$(awk -F'\t' '$2 == "FAIL"' "$tsv" | wc -l)
nskip=$(awk -F'\t' '$2 == "SKIP"' "$tsv" | wc -l)
{
	echo "what:     $(meta WHAT)"
	echo "kernel:   ${release:-?} ($(meta ARCH)-$(meta FLAVOUR)-$(meta KERNEL))"
	echo "accel:    $(meta ACCEL), $(meta SMP) CPUs, $(meta MEM)"
	echo "cmdline:  $(meta CMDLINE)"
	echo "seconds:  $(meta SECONDS)"
	echo "result:   $npass passed, $nfail failed, $nskip skipped"
	awk -F'\t' '$2 == "FAIL" { print "FAIL:     " $1 ": " $3 }' "$tsv"
} >"$out/summary.txt"
[ "$quiet" = 1 ] || cat "$out/summary.txt" >&2
if [ "$nfail" -gt 0 ]; then
	if [ "$quiet" = 0 ]; then
		# The assertion text of failing KUnit and kselftest cases.
		{
			grep -hE 'FAILED at|Expected |\[FAILED\] ' "$out/kunit.txt" 2>/dev/null || true
			grep -E '^# .*(Expected|FAIL)|^not ok ' "$out/console.log" || true
		} | head -n 20 | sed 's/^/  detail: /' >&2
		sed 's/^/  splat: /' "$out/splats.txt" | head -n 10 >&2
		log "FAILED: $nfail failures; console log: $out/console.log"
	fi
	exit 1
fi
[ "$quiet" = 1 ] || log "passed ($npass passed, $nskip skipped) in $(meta SECONDS) s"
