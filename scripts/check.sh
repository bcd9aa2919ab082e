#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# check.sh - static checks of the series and the harness.
#
#   checkpatch  scripts/checkpatch.pl --strict on every patch; exceptions are
#               listed with their reasons in patches/checkpatch.exceptions
#   shell       shellcheck on every harness shell script, the guest init and .ci/run
#   applies     the series applies in order to the pristine baseline (done in
#               a scratch index: the kernel tree is not touched)
#   sync        patches/ matches the kernel tree (check-sync.sh)
#   console     the console checker catches every splat pattern (self-test)
#   configs     check-configs.sh: what the series touches compiles, without
#               new warnings, under Debian's amd64 and arm64 distro configs
#               and an arm64 sched_ext config (about 9 minutes cold, 3 warm;
#               CHECK_CONFIGS=0 leaves it out)
#
# Usage: scripts/check.sh [-h] [-o TSV]
#   -o TSV   also write one row per check: name <TAB> PASS|FAIL <TAB> detail
# Environment: KSRC, BASE, CHECK_CONFIGS.
# Exit codes: 0 all passed, 1 a check failed, 2 bad usage.

set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=scripts/lib-series.sh
. "$(dirname "$0")/lib-series.sh"

usage() {
	echo "Usage: $PROG [-h] [-o TSV]"
	echo "Run checkpatch, shellcheck, the apply check, check-sync and the console self-test."
}
tsv=
while getopts ho: opt; do
	case "$opt" in
	h) usage; exit 0 ;;
	o) tsv=$OPTARG ;;
	*) usage_error "unknown option" ;;
	esac
done
shift $((OPTIND - 1))
[ $# -eq 0 ] || usage_error "unexpected argument '$1'"

ksrc_is_tree || die "no kernel git tree at $KSRC; run 'make fetch apply' first"
need_tool shellcheck shellcheck
need_tool perl perl
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
npass=0
nfail=0
row() {
	if [ "$2" = PASS ]; then npass=$((npass + 1)); else nfail=$((nfail + 1)); fi
	printf '%-6s %s%s\n' "$2" "$1" "${3:+: $3}" >&2
	[ -z "$tsv" ] || printf '%s\t%s\t%s\n' "$1" "$2" "${3:-}" >>"$tsv"
}

# checkpatch, with per-patch exceptions: "<patch> <TYPE> <reason>", where
# <patch> is the file name without its NNNN- number, so that inserting a
# patch does not invalidate the exceptions of the ones after it.
exc=$TOP/patches/checkpatch.exceptions
mapfile -t patches < <(series_patches)
for p in "${patches[@]}"; do
	ignore=$(awk -v p="${p#[0-9][0-9][0-9][0-9]-}" '!/^#/ && $1 == p { printf "%s%s", s, $2; s = "," }' "$exc" 2>/dev/null || true)
	args=(--strict --show-types --no-summary --quiet)
	[ -n "$ignore" ] && args+=(--ignore "$ignore")
	if (cd "$KSRC" && perl scripts/checkpatch.pl "${args[@]}" "$TOP/patches/$p") >"$tmp/cp" 2>&1; then
		row "checkpatch:$p" PASS "${ignore:+excepted: $ignore}"
	else
		sed 's/^/    /' "$tmp/cp" | head -n 30 >&2
		row "checkpatch:$p" FAIL "$(grep -m1 -E '^(ERROR|WARNING|CHECK)' "$tmp/cp" || head -n 1 "$tmp/cp")"
	fi
done
# An exception for a patch that is not in the series is stale.
if [ -f "$exc" ]; then
	while read -r p _; do
		case "$p" in '' | '#'*) continue ;; esac
		printf '%s\n' "${patches[@]}" | sed 's/^[0-9]\{4\}-//' | grep -qxF "$p" ||
			row "checkpatch:exceptions" FAIL "stale exception for $p"
	done <"$exc"
fi

# Shell scripts.
mapfile -t shells < <(cd "$TOP" && { ls scripts/*.sh .ci/run guest/init 2>/dev/null; find guest tests -name '*.sh' 2>/dev/null; } | sort -u)
if (cd "$TOP" && shellcheck -x "${shells[@]}") >"$tmp/sc" 2>&1; then
	row shellcheck PASS "${#shells[@]} scripts"
else
	head -n 40 "$tmp/sc" >&2
	row shellcheck FAIL "$(grep -c '^In ' "$tmp/sc") findings"
fi

# The series applies, in order, to the pristine baseline.
base=$(ksrc_base)
export GIT_INDEX_FILE=$tmp/index
git -C "$KSRC" read-tree "$base"
ok=1
for p in "${patches[@]}"; do
	if ! git -C "$KSRC" apply --cached "$TOP/patches/$p" 2>"$tmp/apply"; then
		row applies FAIL "$p does not apply: $(head -n 1 "$tmp/apply")"
		ok=0
		break
	fi
done
unset GIT_INDEX_FILE
[ "$ok" = 0 ] || row applies PASS "${#patches[@]} patches onto $BASE_TAG"

if "$TOP/scripts/check-sync.sh" 2>"$tmp/sync"; then
	row sync PASS "$(tail -n 1 "$tmp/sync" | sed 's/^check-sync: //')"
else
	cat "$tmp/sync" >&2
	row sync FAIL "patches/ and $KSRC differ (make export, or make apply)"
fi

if "$TOP/scripts/console-check.sh" --self-test 2>"$tmp/cc"; then
	row console-checker PASS "$(tail -n 1 "$tmp/cc" | sed 's/^console-check: //')"
else
	cat "$tmp/cc" >&2
	row console-checker FAIL "self-test failed"
fi

if [ "${CHECK_CONFIGS:-1}" = 1 ]; then
	"$TOP/scripts/check-configs.sh" -o "$tmp/configs.tsv" >/dev/null 2>"$tmp/configs.log" || true
	if [ -s "$tmp/configs.tsv" ]; then
		while IFS=$'\t' read -r n r d; do
			row "configs:$n" "$r" "$d"
		done <"$tmp/configs.tsv"
	else
		cat "$tmp/configs.log" >&2
		row configs FAIL "check-configs.sh gave no verdict: $(tail -n 1 "$tmp/configs.log")"
	fi
fi

log "$npass passed, $nfail failed"
[ "$nfail" = 0 ]
