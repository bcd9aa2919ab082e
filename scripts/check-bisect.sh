#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# check-bisect.sh - build every patch of the series with the option off and on.
#
# Checks out each commit of the series (baseline + patch 1..N) in a separate
# git worktree (work/bisect; the kernel tree itself is not touched) and
# builds it with the debug flavour (lockdep on), once without the proxy
# fragment and, from the patch that adds CONFIG_SCHED_PROXY_EXEC on, once
# with it (limited to the options that commit defines).  Builds are incremental and use ccache.  A patch that breaks
# the build of either configuration fails the check.
#
# Usage: scripts/check-bisect.sh [-h] [ARCH]
# Environment: KSRC, BASE, JOBS, BISECT_FROM and BISECT_TO (first and last
#   patch number, default all).
# Exit codes: 0 every patch builds, 1 a build failed, 2 bad usage.

set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

usage() {
	echo "Usage: $PROG [-h] [ARCH]"
	echo "Build every patch of the series with CONFIG_SCHED_PROXY_EXEC off and on."
}
while getopts h opt; do
	case "$opt" in
	h) usage; exit 0 ;;
	*) usage_error "unknown option" ;;
	esac
done
shift $((OPTIND - 1))
[ $# -le 1 ] || usage_error "unexpected argument '$2'"
arch_setup "${1:-x86_64}"

ksrc_is_tree || die "no kernel git tree at $KSRC; run 'make fetch apply' first"
"$TOP/scripts/check-sync.sh" || die "patches/ is not in sync with $KSRC; the check builds the tree's commits"
base=$(ksrc_base)
mapfile -t commits < <(git -C "$KSRC" rev-list --reverse "$base..HEAD")
[ ${#commits[@]} -gt 0 ] || die "the series is not applied to $KSRC; run 'make apply'"

wt=$WORK/bisect
if [ ! -e "$wt/.git" ]; then
	git -C "$KSRC" worktree prune
	git -C "$KSRC" worktree add -q --detach "$wt" "$base"
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# proxy_fragment: kernel-config/proxy.config and proxy-debug.config without
# the options the checked-out commit does not define yet (e.g. a test added
# by a later patch), so the strict config check applies to what exists.
proxy_fragment() {
	local line sym
	cat "$TOP/kernel-config/proxy.config" "$TOP/kernel-config/proxy-debug.config" |
	while IFS= read -r line; do
		sym=$(printf '%s\n' "$line" | sed -n -e 's/^CONFIG_\([A-Za-z0-9_]*\)=.*/\1/p' \
			-e 's/^# CONFIG_\([A-Za-z0-9_]*\) is not set/\1/p')
		if [ -n "$sym" ] && ! git -C "$wt" grep -q -E "^(menu)?config $sym\$" -- '*Kconfig*'; then
			continue
		fi
		printf '%s\n' "$line"
	done >"$tmp/proxy-at-commit.config"
}

fail=0
i=0
for c in "${commits[@]}"; do
	i=$((i + 1))
	[ "$i" -ge "${BISECT_FROM:-1}" ] || continue
	[ "$i" -le "${BISECT_TO:-${#commits[@]}}" ] || break
	git -C "$wt" checkout -q --detach "$c"
	subj=$(git -C "$wt" log -1 --format=%s)
	modes=(off)
	if grep -qs 'config SCHED_PROXY_EXEC' "$wt/init/Kconfig" "$wt/kernel/Kconfig.preempt"; then
		modes+=(on)
	fi
	for m in "${modes[@]}"; do
		args=(-t "bisect-$m")
		frags=${FRAGMENTS:-}
		if [ "$m" = on ]; then
			proxy_fragment
			frags="$tmp/proxy-at-commit.config${frags:+ $frags}"
		fi
		if KSRC=$wt FRAGMENTS=$frags "$TOP/scripts/build.sh" "${args[@]}" "$ARCH" debug \
			>"$WORK/bisect-$m.log" 2>&1; then
			log "PASS [$i/${#commits[@]}] $m: $subj"
		else
			tail -n 15 "$WORK/bisect-$m.log" >&2
			log "FAIL [$i/${#commits[@]}] $m: $subj"
			fail=1
		fi
	done
done
[ "$fail" = 0 ] || die "some patches do not build; see above"
log "patches ${BISECT_FROM:-1}-${BISECT_TO:-${#commits[@]}} of ${#commits[@]} build on $ARCH"
