# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# lib-deb.sh - the .deb resolver of initramfs.sh: Debian packages of
# DEB_ARCH, their download into the cache, and the dependency graph apt
# gives for them.  Sourced by initramfs.sh after it set ARCH, DEB_ARCH,
# CACHE, STAGE, PKGS, ROOT_PKGS, SKIP_PKGS and APT_DEP_FLAGS; never
# executed.

# The caller reads what these functions set.
# shellcheck disable=SC2034
true

# --- apt ---------------------------------------------------------------

NATIVE_ARCH=$(dpkg --print-architecture)
APT_UPDATED=

# ensure_arch: make dpkg/apt know DEB_ARCH.
ensure_arch() {
	if [ "$DEB_ARCH" != "$NATIVE_ARCH" ] &&
		! dpkg --print-foreign-architectures | grep -qx "$DEB_ARCH"; then
		log "dpkg does not know architecture $DEB_ARCH yet; running 'dpkg --add-architecture $DEB_ARCH' and 'apt-get update'"
		run dpkg --add-architecture "$DEB_ARCH" ||
			die "dpkg --add-architecture $DEB_ARCH failed"
		apt_update
	fi
}

apt_update() {
	APT_UPDATED=1
	if ! run apt-get update -q >"$STAGE/apt-update.log" 2>&1; then
		sed -n "s/^[EW]: /$PROG: apt: /p" "$STAGE/apt-update.log" | tail -n 3 >&2
		die "apt-get update failed; cannot reach the Debian mirror for $DEB_ARCH; check network/apt sources"
	fi
}

declare -A DEB_FN=()  # package -> .deb file name in CACHE
declare -A DEB_SHA=() # package -> SHA-256 from apt's index

# deb_index PKG...: fill DEB_FN/DEB_SHA from apt's index (no download).
# Fails (status 1) if apt cannot find one of them.
deb_index() {
	local out uri fn size hash
	if ! out=$(apt-get download --print-uris "${@/%/:$DEB_ARCH}" 2>"$STAGE/apt-index.err"); then
		return 1
	fi
	while read -r uri fn size hash; do
		: "$uri" "$size"
		DEB_FN[${fn%%_*}]=$fn
		DEB_SHA[${fn%%_*}]=${hash#SHA256:}
		[[ $hash == SHA256:* ]] || DEB_SHA[${fn%%_*}]=
	done <<<"$out"
}

# deb_cached PKG: the cached .deb exists and matches apt's index.
deb_cached() {
	local f=$CACHE/${DEB_FN[$1]}
	[ -f "$f" ] || return 1
	[ -z "${DEB_SHA[$1]}" ] && return 0
	[ "$(sha256sum <"$f" | cut -c1-64)" = "${DEB_SHA[$1]}" ]
}

# fetch_debs PKG...: make sure the .debs are in CACHE, downloading what is
# missing or does not match apt's index.
fetch_debs() {
	local p missing=() unknown=()
	for p in "$@"; do
		[ -n "${DEB_FN[$p]:-}" ] || unknown+=("$p")
	done
	if [ ${#unknown[@]} -gt 0 ] && ! deb_index "${unknown[@]}"; then
		sed -n "s/^E: /$PROG: apt: /p" "$STAGE/apt-index.err" >&2
		die "apt knows no $DEB_ARCH package among: ${unknown[*]}; run 'apt-get update'"
	fi
	for p in "$@"; do
		if ! deb_cached "$p"; then
			rm -f "$CACHE/${DEB_FN[$p]}"
			missing+=("$p")
		fi
	done
	[ ${#missing[@]} -gt 0 ] || return 0
	log "downloading ${#missing[@]} package(s) for $DEB_ARCH: ${missing[*]}"
	(cd "$CACHE" && run apt-get download "${missing[@]/%/:$DEB_ARCH}") \
		>"$STAGE/apt-download.log" 2>&1 || true
	for p in "${missing[@]}"; do
		if ! deb_cached "$p"; then
			rm -f "$CACHE/${DEB_FN[$p]}"
			sed -n "s/^E: /$PROG: apt: /p" "$STAGE/apt-download.log" | tail -n 3 >&2
			die "cannot download $p for $ARCH from the Debian mirror; check network/apt sources"
		fi
	done
}

# pkg_name NAME: set REPLY to NAME without its ':arch'; fail unless it is a
# package of DEB_ARCH (unqualified names are native or arch:all) that may
# hold libraries.
pkg_name() {
	case "$1" in
	*:"$DEB_ARCH") REPLY=${1%:*} ;;
	*:*) return 1 ;;
	*)
		[ "$DEB_ARCH" = "$NATIVE_ARCH" ] || return 1
		REPLY=$1
		;;
	esac
	[[ ! $REPLY =~ $SKIP_PKGS ]]
}

declare -A DEPS=() # package -> its direct Depends, space separated
CLOSURE=()         # the Depends closure of ROOT_PKGS, apt's order

# load_graph: read the Depends closure of ROOT_PKGS from one 'apt-cache
# depends --recurse' (virtual packages and the skip list left out), and
# look all of it up in apt's index at once.
load_graph() {
	local out line cur=
	if ! out=$(apt-cache depends --recurse "${APT_DEP_FLAGS[@]}" \
		"${ROOT_PKGS[@]/%/:$DEB_ARCH}" 2>"$STAGE/apt-depends.err"); then
		if [ -z "$APT_UPDATED" ]; then
			log "apt has no usable package lists for $DEB_ARCH; running 'apt-get update'"
			apt_update
			load_graph
			return
		fi
		sed -n "s/^E: /$PROG: apt: /p" "$STAGE/apt-depends.err" >&2
		die "apt cannot resolve ${ROOT_PKGS[*]} for $DEB_ARCH; check apt sources"
	fi
	while IFS= read -r line; do
		case "$line" in
		' '*)
			[ -n "$cur" ] || continue
			if [[ $line =~ ^\ +\|?Depends:\ ([^\<][^ ]*)$ ]] &&
				pkg_name "${BASH_REMATCH[1]}"; then
				DEPS[$cur]+=" $REPLY"
			fi
			;;
		*)
			cur=
			if pkg_name "$line"; then
				cur=$REPLY
				CLOSURE+=("$cur")
			fi
			;;
		esac
	done <<<"$out"
	# Best effort: a failure here is retried package by package.
	deb_index "${CLOSURE[@]}" || true
}
