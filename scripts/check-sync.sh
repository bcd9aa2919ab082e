#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# check-sync.sh - fail when patches/ and the kernel tree disagree.
#
# Exports the tree's commits since the baseline to a scratch folder and
# compares them with patches/ (the series file and every patch it names).
#
# Usage: scripts/check-sync.sh [-h]
# Environment: KSRC, BASE (see lib.sh).
# Exit codes: 0 in sync, 1 out of sync or no tree, 2 bad usage.

set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=scripts/lib-series.sh
. "$(dirname "$0")/lib-series.sh"

usage() {
	echo "Usage: $PROG [-h]"
	echo "Check that patches/ matches the commits in \$KSRC (now: $KSRC)."
}
while getopts h opt; do
	case "$opt" in
	h) usage; exit 0 ;;
	*) usage_error "unknown option" ;;
	esac
done
shift $((OPTIND - 1))
[ $# -eq 0 ] || usage_error "unexpected argument '$1'"

ksrc_is_tree || die "no kernel git tree at $KSRC; run 'make fetch apply' first"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export_series "$tmp"

bad=0
mapfile -t want < <(series_patches)
mapfile -t have < <(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$tmp/series")
for f in "${have[@]}"; do
	if [ ! -e "$TOP/patches/$f" ]; then
		log "tree has a commit that patches/ lacks: $f (run 'make export')"
		bad=1
	elif ! cmp -s "$tmp/$f" "$TOP/patches/$f"; then
		log "tree and patches/ differ: $f (run 'make export' to keep the tree's version, or 'make apply FORCE=1')"
		bad=1
	fi
done
for f in "${want[@]}"; do
	if [ ! -e "$tmp/$f" ]; then
		log "patches/ has a patch the tree lacks: $f (run 'make apply')"
		bad=1
	fi
done
if [ "$bad" = 0 ] && ! cmp -s "$tmp/series" "$TOP/patches/series"; then
	log "patches/series differs from the tree's order (run 'make export')"
	bad=1
fi
[ "$bad" = 0 ] || die "patches/ is not in sync with $KSRC"
log "in sync: ${#have[@]} patches"
