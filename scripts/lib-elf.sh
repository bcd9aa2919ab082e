# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# lib-elf.sh - the ELF dependency walker of initramfs.sh: unpacks the
# packages an image needs (lib-deb.sh), copies files into ROOT, and follows
# every ELF file's interpreter and NEEDED entries to the package that ships
# the library, without running any code of ARCH.  Sourced by initramfs.sh
# after lib-deb.sh; never executed.

# The caller reads what these functions set.
# shellcheck disable=SC2034
true

# --- staging ----------------------------------------------------------

UNPACKED=()          # packages unpacked under PKGS, in order
declare -A IS_UNPACKED=()
declare -A USED=()   # packages a file of the image came from

# unpack PKG...: download and 'dpkg -x' the packages not unpacked yet.
unpack() {
	local p todo=()
	local -A seen=()
	for p in "$@"; do
		if [ -z "${IS_UNPACKED[$p]:-}" ] && [ -z "${seen[$p]:-}" ]; then
			seen[$p]=1
			todo+=("$p")
		fi
	done
	[ ${#todo[@]} -gt 0 ] || return 0
	fetch_debs "${todo[@]}"
	for p in "${todo[@]}"; do
		mkdir -p "$PKGS/$p"
		run dpkg-deb -x "$CACHE/${DEB_FN[$p]}" "$PKGS/$p" ||
			die "cannot unpack $CACHE/${DEB_FN[$p]}"
		IS_UNPACKED[$p]=1
		UNPACKED+=("$p")
	done
}

# resolve DIR PATH: follow symlinks of the absolute PATH inside DIR as if DIR
# were /, print the final path (relative to DIR, with a leading /); fail if
# it does not exist.
resolve() {
	local dir=$1 rest=${2#/} cur='' comp t n=0
	while [ -n "$rest" ]; do
		comp=${rest%%/*}
		if [[ $rest == */* ]]; then rest=${rest#*/}; else rest=; fi
		case "$comp" in
		'' | .) continue ;;
		..)
			cur=${cur%/*}
			continue
			;;
		esac
		if [ -L "$dir$cur/$comp" ]; then
			n=$((n + 1))
			[ "$n" -le 40 ] || return 1
			t=$(readlink "$dir$cur/$comp")
			case "$t" in
			/*)
				cur=
				rest=${t#/}${rest:+/$rest}
				;;
			*) rest=$t${rest:+/$rest} ;;
			esac
		else
			cur=$cur/$comp
			[ -e "$dir$cur" ] || return 1
		fi
	done
	printf '%s\n' "${cur:-/}"
}

# pkg_with PATH: the first unpacked package that has PATH.
pkg_with() {
	local p
	for p in "${UNPACKED[@]}"; do
		if resolve "$PKGS/$p" "$1" >/dev/null; then
			printf '%s\n' "$p"
			return 0
		fi
	done
	return 1
}

QUEUE=() # "package|path" of files to scan for NEEDED/interpreter

# install_path PKG PATH: copy PATH from the unpacked PKG into the image,
# following its symlinks (each link is kept, its target copied too).
install_path() {
	local p=$1 rel=${2#/} t n=0
	while :; do
		n=$((n + 1))
		[ "$n" -le 40 ] || die "too many symlinks at /$rel in $p"
		if [ -L "$ROOT/$rel" ] || [ -e "$ROOT/$rel" ]; then
			[ -L "$ROOT/$rel" ] || return 0
		else
			mkdir -p "$ROOT/$(dirname "$rel")"
			if [ -L "$PKGS/$p/$rel" ]; then
				cp -P "$PKGS/$p/$rel" "$ROOT/$rel"
			elif [ -f "$PKGS/$p/$rel" ]; then
				cp --preserve=mode "$PKGS/$p/$rel" "$ROOT/$rel"
				USED[$p]=1
				QUEUE+=("$p|$rel")
				return 0
			else
				die "package $p has no /$rel"
			fi
			USED[$p]=1
		fi
		t=$(readlink "$ROOT/$rel")
		case "$t" in
		/*) rel=${t#/} ;;
		*) rel=$(dirname "$rel")/$t ;;
		esac
		rel=$(realpath -sm "/$rel")
		rel=${rel#/}
		if [ ! -L "$PKGS/$p/$rel" ] && [ ! -e "$PKGS/$p/$rel" ]; then
			p=$(pkg_with "/$rel") || die "symlink target /$rel is in no unpacked package"
		fi
	done
}

# provide OWNER WHAT PATH...: make the first of PATHs that some package
# has exist in the image.  Looks in the unpacked packages, then in OWNER's
# direct Depends, then in the whole Depends closure of ROOT_PKGS.
CLOSURE_DONE=
provide() {
	local owner=$1 what=$2 path p round
	shift 2
	for path in "$@"; do
		resolve "$ROOT" "$path" >/dev/null && return 0
	done
	for round in unpacked owner closure; do
		case "$round" in
		owner)
			[ -n "$owner" ] || continue
			# shellcheck disable=SC2086 # one package name a word
			unpack ${DEPS[$owner]:-}
			;;
		closure)
			[ -z "$CLOSURE_DONE" ] || continue
			CLOSURE_DONE=1
			log "$what not in the direct dependencies; unpacking the whole dependency closure"
			unpack "${CLOSURE[@]}"
			;;
		esac
		for path in "$@"; do
			if p=$(pkg_with "$path"); then
				install_path "$p" "$path"
				resolve "$ROOT" "$path" >/dev/null ||
					die "$path from $p does not resolve inside the image"
				return 0
			fi
		done
	done
	return 1
}

is_elf() {
	[ -f "$1" ] && [ "$(head -c 4 -- "$1")" = $'\177ELF' ]
}

declare -A ELF_NEEDS=() # image path -> what it needs, one absolute path
                        # per line; "|" separates the alternatives of one

# elf_needs REL: fill ELF_NEEDS[REL] for the ELF file ROOT/REL (checking
# that it is built for ARCH).
elf_needs() {
	local rel=$1 f=$ROOT/$1 m so interp d alts out=
	local -a needed=()
	m=$(readelf -hW "$f" | sed -n 's/^ *Machine: *//p')
	[ "$m" = "$ELF_MACHINE" ] ||
		die "/$rel is built for '$m', not $ARCH ($ELF_MACHINE)"
	mapfile -t needed < <(readelf -dW "$f" | sed -n 's/.*(NEEDED).*\[\(.*\)\]$/\1/p')
	# glibc dlopens libgcc_s for pthread_exit and pthread_cancel (stress-ng
	# calls pthread_exit), so it is needed though no NEEDED names it.
	[ "${rel##*/}" != libc.so.6 ] || needed+=(libgcc_s.so.1)
	for so in "${needed[@]}"; do
		alts=
		for d in "${LIB_DIRS[@]}"; do alts+="${alts:+|}/$d/$so"; done
		out+=$alts$'\n'
	done
	interp=$(readelf -lW "$f" | sed -n 's/.*Requesting program interpreter: \(.*\)\]$/\1/p')
	[ -z "$interp" ] || out+=$interp$'\n'
	ELF_NEEDS[$rel]=$out
}

# have PATH...: the image or an unpacked package has one of PATHs.
have() {
	local path
	for path in "$@"; do
		if resolve "$ROOT" "$path" >/dev/null || pkg_with "$path" >/dev/null; then
			return 0
		fi
	done
	return 1
}

# scan OWNER REL: make the image provide the libraries and interpreter of
# the file ROOT/REL, which came from package OWNER ("" if none).
scan() {
	local owner=$1 rel=$2 line what
	local -a alts
	while IFS= read -r line; do
		[ -n "$line" ] || continue
		IFS='|' read -r -a alts <<<"$line"
		case "$line" in
		*'|'*) what="shared library ${alts[0]##*/}" ;;
		*) what="program interpreter $line" ;;
		esac
		provide "$owner" "$what" "${alts[@]}" ||
			die "cannot find $what (needed by /$rel${owner:+ from $owner}) in any $DEB_ARCH package of the dependency closure"
	done <<<"${ELF_NEEDS[$rel]}"
}

# scan_queue: scan the queued files level by level.  What a level lacks
# is looked for first in its owners' direct Depends, all downloaded with
# one apt-get call; a level's new files make the next level.
scan_queue() {
	local e owner rel line
	local -a level alts want
	while [ ${#QUEUE[@]} -gt 0 ]; do
		level=("${QUEUE[@]}")
		QUEUE=()
		want=()
		for e in "${level[@]}"; do
			owner=${e%%|*}
			rel=${e#*|}
			is_elf "$ROOT/$rel" || continue
			[ -n "${ELF_NEEDS[$rel]+set}" ] || elf_needs "$rel"
			[ -n "$owner" ] || continue
			while IFS= read -r line; do
				[ -n "$line" ] || continue
				IFS='|' read -r -a alts <<<"$line"
				if ! have "${alts[@]}"; then
					# shellcheck disable=SC2206 # one package name a word
					want+=(${DEPS[$owner]:-})
					break
				fi
			done <<<"${ELF_NEEDS[$rel]}"
		done
		[ ${#want[@]} -eq 0 ] || unpack "${want[@]}"
		for e in "${level[@]}"; do
			rel=${e#*|}
			[ -z "${ELF_NEEDS[$rel]+set}" ] || scan "${e%%|*}" "$rel"
		done
	done
}
