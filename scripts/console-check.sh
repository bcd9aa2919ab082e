#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# console-check.sh - scan a console log for splats.
#
# Applies the bad/noise pattern list (default: tests/console-patterns) to a
# console log and prints every splat line with its line number.  A pass
# with a splat is a fail.  A missing or empty pattern list is an error.
#
# Usage: scripts/console-check.sh [-h] [-p PATTERNS] [-t TEST]... LOG
#        scripts/console-check.sh --self-test
#   -t TEST      the boot ran guest test TEST: its "noise:TEST" patterns
#                apply too (judge.sh passes the boot's pe_tests)
#   --self-test  prove the checker works: a log with one line per bad
#                pattern must fail on every one, a clean log must pass,
#                and a test's noise must pass only with its -t.
# Exit codes: 0 clean, 1 splat found (or error), 2 bad usage.

set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

usage() {
	echo "Usage: $PROG [-h] [-p PATTERNS] [-t TEST]... LOG | --self-test"
}
patterns=$TOP/tests/console-patterns
tests=""

load_patterns() {
	[ -s "$patterns" ] || die "pattern list $patterns is missing or empty"
	bad_re=$(awk -F'\t' '$1 == "bad" && $2 != "" { printf "%s%s", s, $2; s = "|" }' "$patterns")
	# shellcheck disable=SC2016 # awk's own variables
	noise_re=$(awk -F'\t' -v tests=" $tests " '
		$2 == "" { next }
		$1 == "noise" || ($1 ~ /^noise:/ && index(tests, " " substr($1, 7) " ")) {
			printf "%s%s", s, $2; s = "|"
		}' "$patterns")
	[ -n "$bad_re" ] || die "pattern list $patterns has no bad patterns"
}

# scan LOG: print splat lines, return 1 if any.
scan() {
	local hits
	hits=$(grep -naE -- "$bad_re" "$1" | { if [ -n "$noise_re" ]; then grep -vE -- "$noise_re"; else cat; fi; } || true)
	if [ -n "$hits" ]; then
		printf '%s\n' "$hits" | head -n 40
		return 1
	fi
	return 0
}

self_test() {
	local tmp n=0 bad=0 line
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' RETURN
	load_patterns
	printf '[    0.000000] Linux version 6.12.117-proxy\n[    1.0] PE-VERDICT: PASS passed=1 failed=0 skipped=0\n' >"$tmp/clean"
	if ! scan "$tmp/clean" >/dev/null; then
		log "self-test: a clean log was flagged"
		return 1
	fi
	# One synthetic line per bad pattern, made from the regex itself.
	while IFS=$'\t' read -r kind re; do
		[ "$kind" = bad ] || continue
		n=$((n + 1))
		line=$(printf '%s' "$re" | sed -E 's/\(\^\|\[\^A-Za-z_\]\)//; s/\[0-9\]\+/120/g; s/\(([^|)]+)\|[^)]*\)/\1/g; s/\\//g')
		printf '[   12.345678] %s\n' "$line" >"$tmp/one"
		if scan "$tmp/one" >/dev/null; then
			log "self-test: pattern '$re' did not catch '$line'"
			bad=1
		fi
	done <"$patterns"
	# A test's noise: a splat in any other boot, not in one that ran it.
	while IFS=$'\t' read -r kind re; do
		case "$kind" in noise:?*) ;; *) continue ;; esac
		line=$(printf '%s' "$re" | sed -E 's/\[0-9a-f\]\+/80/g; s/\\//g')
		printf '[   12.345678] %s\n' "$line" >"$tmp/one"
		tests=""
		load_patterns
		if scan "$tmp/one" >/dev/null; then
			log "self-test: '$line' passed in a boot that did not run ${kind#noise:}"
			bad=1
		fi
		tests=${kind#noise:}
		load_patterns
		if ! scan "$tmp/one" >/dev/null; then
			log "self-test: '$line' failed a boot that ran ${kind#noise:}"
			bad=1
		fi
		tests=""
	done <"$patterns"
	load_patterns
	if [ "$bad" = 0 ]; then
		log "self-test: all $n bad patterns caught their splat; the clean log passed; each test's noise passed only its own boots"
	fi
	return "$bad"
}

if [ "${1:-}" = --self-test ]; then
	self_test
	exit $?
fi
while getopts hp:t: opt; do
	case "$opt" in
	h) usage; exit 0 ;;
	p) patterns=$OPTARG ;;
	t) tests="$tests $OPTARG" ;;
	*) usage_error "unknown option" ;;
	esac
done
shift $((OPTIND - 1))
[ $# -eq 1 ] || usage_error "need one LOG"
[ -r "$1" ] || die "cannot read $1"
load_patterns
if ! scan "$1"; then
	log "splats found in $1 (a pass with a splat is a fail)"
	exit 1
fi
