#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# export.sh - regenerate patches/ from the kernel tree's commits.
#
# Writes one git format-patch file per commit since the baseline, and the
# quilt series file (keeping its '#' banners).  The same commits always give
# byte-identical files.  Patch files that no longer match a commit are
# removed from patches/; everything else in patches/ is left alone.
#
# Usage: scripts/export.sh [-h]
# Environment: KSRC, BASE (see lib.sh).
# Exit codes: 0 ok, 1 failure, 2 bad usage.

set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=scripts/lib-series.sh
. "$(dirname "$0")/lib-series.sh"

usage() {
	echo "Usage: $PROG [-h]"
	echo "Regenerate patches/ from the commits in \$KSRC (now: $KSRC) since the baseline."
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
if [ -n "$(ksrc_dirty)" ]; then
	warn "the kernel tree has uncommitted changes; they are not exported (commit them first)"
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
EXPORT_WARN=1 export_series "$tmp"

mkdir -p "$TOP/patches"
changed=0
for f in "$TOP"/patches/[0-9][0-9][0-9][0-9]-*.patch; do
	[ -e "$f" ] || continue
	if [ ! -e "$tmp/$(basename "$f")" ]; then
		rm -f "$f"
		log "removed $(basename "$f")"
		changed=1
	fi
done
for f in "$tmp"/*.patch "$tmp/series"; do
	[ -e "$f" ] || continue
	dst="$TOP/patches/$(basename "$f")"
	if ! cmp -s "$f" "$dst"; then
		cp "$f" "$dst"
		log "wrote $(basename "$f")"
		changed=1
	fi
done
n=$(series_patches | wc -l)
if [ "$changed" = 0 ]; then
	log "patches/ already matches the tree ($n patches)"
else
	log "patches/ now holds $n patches; commit them"
fi
