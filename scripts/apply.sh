#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# apply.sh - apply patches/ onto the baseline with git am.
#
# Compares the tree's commits since the baseline with patches/series.  If
# the tree already carries the whole series this is a no-op; if it carries a
# leading part, the rest is applied.  A patch that does not apply aborts the
# git am, leaves the tree as it was and fails; no patch is ever skipped.
#
# A dirty tree, or a tree whose commits differ from patches/, is refused.
# With FORCE=1 the work is kept first: uncommitted changes are stashed and
# diverging commits are kept on a backup/<timestamp> branch.
#
# Usage: scripts/apply.sh [-h] [-u | -i]
#   -u   unapply: move the branch back to the baseline (only when every
#        commit is exported to patches/, or with FORCE=1 and a backup branch)
#   -i   initial only: apply when the tree is clean and at the baseline,
#        and leave a tree with any work in it alone (make build's check, so
#        that a build of work in progress is not refused)
# Environment: KSRC, BASE (see lib.sh), FORCE=1.
# Exit codes: 0 ok, 1 failure (conflict, dirty tree, diverged tree), 2 usage.

set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=scripts/lib-series.sh
. "$(dirname "$0")/lib-series.sh"

usage() {
	echo "Usage: $PROG [-h] [-u | -i]"
	echo "Apply patches/ onto the baseline of \$KSRC (now: $KSRC); -u unapplies."
}
unapply=0
initial=0
while getopts hui opt; do
	case "$opt" in
	h) usage; exit 0 ;;
	u) unapply=1 ;;
	i) initial=1 ;;
	*) usage_error "unknown option" ;;
	esac
done
shift $((OPTIND - 1))
[ $# -eq 0 ] || usage_error "unexpected argument '$1'"

need_tool git git
ksrc_is_tree || die "no kernel git tree at $KSRC; run 'make fetch' first"
base=$(ksrc_base)
stamp=$(date -u +%Y%m%d-%H%M%S)

if [ "$initial" = 1 ] && { [ -n "$(ksrc_dirty)" ] ||
	[ "$(git -C "$KSRC" rev-parse HEAD)" != "$(git -C "$KSRC" rev-parse "$base")" ]; }; then
	# The applied series needs no word; work in progress gets one line.
	if [ -n "$(ksrc_dirty)" ] || ! "$TOP/scripts/check-sync.sh" >/dev/null 2>&1; then
		log "the tree differs from patches/ (work in progress): building it as it is; 'make export' records it"
	fi
	exit 0
fi

if [ -n "$(ksrc_dirty)" ]; then
	[ "${FORCE:-0}" = 1 ] ||
		die "the kernel tree $KSRC has uncommitted changes; commit and 'make export' them, or stash them, or rerun with FORCE=1 (which stashes them)"
	git_k stash push -q --all -m "apply.sh $stamp"
	log "FORCE=1: stashed uncommitted changes as 'apply.sh $stamp' (git -C $KSRC stash list)"
fi
if [ -e "$(git -C "$KSRC" rev-parse --git-path rebase-apply)" ]; then
	die "a git am or rebase is in progress in $KSRC; finish or abort it first"
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export_series "$tmp"
mapfile -t want < <(series_patches)
mapfile -t have < <(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$tmp/series")
for f in "${want[@]}"; do
	[ -f "$TOP/patches/$f" ] || die "patches/series names $f, which does not exist"
done

# k: how many leading commits match the leading patches.
k=0
while [ "$k" -lt "${#have[@]}" ] && [ "$k" -lt "${#want[@]}" ] &&
	[ "${have[$k]}" = "${want[$k]}" ] &&
	cmp -s "$tmp/${have[$k]}" "$TOP/patches/${want[$k]}"; do
	k=$((k + 1))
done

keep_backup() {
	git_k branch "backup/$stamp" HEAD
	log "kept the tree's commits on branch backup/$stamp"
}

if [ "$unapply" = 1 ]; then
	if [ "${#have[@]}" -eq 0 ]; then
		log "nothing applied; the tree is at the baseline"
		exit 0
	fi
	if [ "$k" -lt "${#have[@]}" ]; then
		[ "${FORCE:-0}" = 1 ] ||
			die "the tree has commits not in patches/ (first: ${have[$k]}); run 'make export' first, or FORCE=1 (keeps a backup branch)"
		keep_backup
	fi
	git_k reset -q --hard "$base"
	log "unapplied ${#have[@]} commits; the tree is at the baseline"
	exit 0
fi

if [ "$k" -lt "${#have[@]}" ]; then
	[ "${FORCE:-0}" = 1 ] ||
		die "the tree has commits that differ from patches/ (first: ${have[$k]}); run 'make export' to keep them, or rerun with FORCE=1 (keeps them on a backup branch, then re-applies patches/)"
	keep_backup
	git_k reset -q --hard "HEAD~$((${#have[@]} - k))"
fi

if [ "$k" -eq "${#want[@]}" ]; then
	log "series already applied (${#want[@]} patches); nothing to do"
	exit 0
fi

todo=()
for f in "${want[@]:$k}"; do
	todo+=("$TOP/patches/$f")
done
log "applying ${#todo[@]} of ${#want[@]} patches"
if ! git_k am -q --committer-date-is-author-date "${todo[@]}" >"$tmp/am.log" 2>&1; then
	failed=$(sed -n 's/^Patch failed at \(.*\)/\1/p' "$tmp/am.log" | head -n 1)
	git_k am --abort >/dev/null 2>&1 || true
	sed -n '1,15p' "$tmp/am.log" >&2
	die "patch '${failed:-?}' does not apply to $KSRC; git am was aborted and the tree left as it was"
fi
log "applied; HEAD is $(git_k log -1 --format='%h %s')"
