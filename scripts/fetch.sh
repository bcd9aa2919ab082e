#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# fetch.sh - make the baseline kernel git tree.
#
# Installs Debian's linux-source-6.12 package at the pinned version if it is
# missing, checks the tarball's checksum, unpacks it and commits it as the
# baseline (tag base-6.12.117) in $KSRC.  The baseline commit uses a fixed
# identity and date, so it has the same SHA on every machine.  A tree that
# already has the baseline is left alone.
#
# Usage: scripts/fetch.sh [-h]
#
# Environment:
#   KSRC              kernel tree (default: work/linux).  An existing git tree
#                     is never modified; it must have the baseline tag, or set
#                     BASE=<rev> to name its baseline (e.g. v6.12.117).
#   BASE_PKG_VERSION  override the pinned package version (the checksum check
#                     is then skipped; the tag keeps its name).
#
# Exit codes: 0 ok, 1 failure, 2 bad usage.

set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

usage() {
	cat <<EOF
Usage: $PROG [-h]
Make the baseline kernel git tree in \$KSRC (now: $KSRC).
EOF
}

while getopts h opt; do
	case "$opt" in
	h) usage; exit 0 ;;
	*) usage_error "unknown option" ;;
	esac
done
shift $((OPTIND - 1))
[ $# -eq 0 ] || usage_error "unexpected argument '$1'"

need_tool git git
need_tool tar tar
need_tool xz xz-utils

check_version() {
	local mk=$1/Makefile v p
	[ -f "$mk" ] || die "$1 has no Makefile; is it a kernel tree?"
	v=$(sed -n 's/^VERSION = //p' "$mk")
	p=$(sed -n 's/^PATCHLEVEL = //p' "$mk")
	[ "$v.$p" = "6.12" ] || die "$1 is Linux $v.$p, not 6.12.y; point KSRC at a 6.12.y tree"
}

if [ -e "$KSRC" ]; then
	if ksrc_is_tree; then
		check_version "$KSRC"
		ksrc_base >/dev/null
		log "kernel tree $KSRC has its baseline; nothing to do"
		exit 0
	fi
	die "$KSRC exists but is not a git tree; move it away (nothing was changed), or set KSRC"
fi

# Only the default location is created here; a user tree must already exist.
if [ "$KSRC" != "$WORK/linux" ]; then
	die "KSRC=$KSRC does not exist; give an existing 6.12.y git tree, or unset KSRC"
fi

want=$BASE_PKG_VERSION
mkdir -p "$WORK"
have=$(dpkg-query -W -f='${Version}' "$BASE_PKG" 2>/dev/null || true)
if [ "$have" != "$want" ]; then
	need_tool apt-get apt
	log "installing $BASE_PKG=$want"
	if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
		"$BASE_PKG=$want" >"$WORK/apt.log" 2>&1; then
		if [ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*Packages*' -print -quit 2>/dev/null)" ] ||
			grep -q 'Unable to locate\|has no installation candidate\|not found' "$WORK/apt.log"; then
			apt-get update -q >>"$WORK/apt.log" 2>&1 || true
			DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
				"$BASE_PKG=$want" >>"$WORK/apt.log" 2>&1 || true
		fi
		have=$(dpkg-query -W -f='${Version}' "$BASE_PKG" 2>/dev/null || true)
		if [ "$have" != "$want" ]; then
			tail -n 5 "$WORK/apt.log" >&2
			die "cannot install $BASE_PKG=$want from the Debian mirror (log: $WORK/apt.log); check the network and apt sources, or use another version with BASE_PKG_VERSION=<ver> (see 'apt-cache policy $BASE_PKG'), or point KSRC at your own 6.12.y git tree"
		fi
	fi
	rm -f "$WORK/apt.log"
fi
[ -f "$BASE_TARBALL" ] || die "$BASE_PKG is installed but $BASE_TARBALL is missing; reinstall it with 'apt-get install --reinstall $BASE_PKG=$want'"

if [ "$want" = "$BASE_PKG_PIN" ]; then
	log "checking $BASE_TARBALL"
	sum=$(sha256sum "$BASE_TARBALL" | cut -d' ' -f1)
	[ "$sum" = "$BASE_TARBALL_SHA256" ] ||
		die "$BASE_TARBALL has sha256 $sum, expected $BASE_TARBALL_SHA256; reinstall the package"
fi

mkdir -p "$WORK"
tmp=$(mktemp -d "$WORK/.fetch.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

log "unpacking $BASE_TARBALL"
tar -xJf "$BASE_TARBALL" -C "$tmp"
src=$(find "$tmp" -mindepth 1 -maxdepth 1 -type d | head -n 1)
[ -n "$src" ] || die "$BASE_TARBALL unpacked to nothing"
check_version "$src"

log "committing the baseline (this takes a minute)"
KSRC=$src
git -C "$src" init -q -b base
git_k config core.autocrlf false
git_k config gc.auto 0
git_k add -A -f .
GIT_AUTHOR_DATE=$BASE_DATE GIT_COMMITTER_DATE=$BASE_DATE \
	git_k commit -q --no-verify \
	-m "Linux $BASE_KVER (Debian $BASE_PKG $want)" \
	-m "Unpacked from $(basename "$BASE_TARBALL") of Debian package $BASE_PKG $want."
git_k tag "$BASE_TAG"
git_k checkout -q -b proxy-exec
mv "$src" "$WORK/linux"
log "baseline $(git -C "$WORK/linux" rev-parse --short=12 "$BASE_TAG") tagged $BASE_TAG in $WORK/linux"
