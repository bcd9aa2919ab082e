#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# config.sh - make the .config of one build with merge_config.sh.
#
# Merges kernel-config fragments onto allnoconfig with the kernel's own
# scripts/kconfig/merge_config.sh, then checks that every requested option
# made it into the final .config: an option dropped silently (a missing
# dependency) fails, naming the option.  The build folder's .config is only
# replaced when the merged result differs, so an unchanged config does not
# cause a rebuild.
#
# Fragments, in order: base.config, base.config.<arch>, <flavour>.config,
# <flavour>.config.<arch>, test.config, then proxy.config,
# proxy.config.<arch> and proxy-<flavour>.config (with -p), then $FRAGMENTS.
# The kasan flavour is debug then kasan in each <flavour> slot.
#
# Usage: scripts/config.sh [-h] [-K KERNEL] [-p -o DIR] ARCH FLAVOUR
#   -K KERNEL  pe (default: $KERNEL or pe), base or ctl: the source tree,
#              proxy.config for pe, and work/build/<arch>-<flavour>-<kernel>
#   -p -o DIR  low level (build.sh): $KSRC as it is, proxy.config if -p,
#              into DIR
# Environment: KERNEL, KSRC, FRAGMENTS (extra fragment files, space
#   separated).
# Exit codes: 0 ok, 1 failure (e.g. an option did not stick), 2 bad usage.

set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

usage() {
	echo "Usage: $PROG [-h] [-K pe|base|ctl] [-p -o DIR] ARCH FLAVOUR"
	echo "Merge kernel-config fragments into the build's .config and check every option stuck."
}
proxy=0
out=
kernel=${KERNEL:-pe}
while getopts hK:po: opt; do
	case "$opt" in
	h) usage; exit 0 ;;
	K) kernel=$OPTARG ;;
	p) proxy=1 ;;
	o) out=$OPTARG ;;
	*) usage_error "unknown option" ;;
	esac
done
shift $((OPTIND - 1))
[ $# -eq 2 ] || usage_error "need ARCH and FLAVOUR"
arch_setup "$1"
flavour_check "$2"
FLAVOUR=$2
if [ -z "$out" ]; then
	[ "$proxy" = 0 ] || usage_error "-p goes with -o DIR; use -K pe for the series"
	kernel_check "$kernel"
	KSRC=$(kernel_source "$kernel")
	[ "$kernel" != pe ] || proxy=1
	out=$(build_dir "$ARCH" "$FLAVOUR" "$kernel")
fi
ksrc_is_tree || die "no kernel git tree at $KSRC; run 'make fetch apply' first"
[ -x "$KSRC/scripts/kconfig/merge_config.sh" ] || die "$KSRC has no scripts/kconfig/merge_config.sh"
if [ -n "$CROSS_COMPILE" ]; then
	need_tool "${CROSS_COMPILE}gcc" "$CC_PKG"
fi

cfg=$TOP/kernel-config
frags=()
stems=$(flavour_fragments "$FLAVOUR")
names=(base.config "base.config.$ARCH")
for st in $stems; do
	names+=("$st.config" "$st.config.$ARCH")
done
names+=(test.config)
if [ "$proxy" = 1 ]; then
	names+=(proxy.config "proxy.config.$ARCH")
	for st in $stems; do
		names+=("proxy-$st.config")
	done
fi
for f in "${names[@]}"; do
	[ -f "$cfg/$f" ] && frags+=("$cfg/$f")
done
for f in ${FRAGMENTS:-}; do
	[ -f "$f" ] || die "fragment $f does not exist"
	frags+=("$(cd "$(dirname "$f")" && pwd)/$(basename "$f")")
done

mkdir -p "$out"
out=$(cd "$out" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
[ -f "$out/.config" ] && cp -p "$out/.config" "$tmp/old.config"

if ! (cd "$KSRC" && ARCH=$KARCH CROSS_COMPILE=$CROSS_COMPILE \
	./scripts/kconfig/merge_config.sh -n -O "$out" "${frags[@]}") >"$tmp/merge.log" 2>&1; then
	cat "$tmp/merge.log" >&2
	die "merge_config.sh failed"
fi

# Every requested value must be in the final .config; later fragments win.
awk '
	/^CONFIG_[A-Za-z0-9_]+=/ { n = index($0, "="); want[substr($0, 1, n - 1)] = $0; next }
	/^# CONFIG_[A-Za-z0-9_]+ is not set/ { want[$2] = "unset"; next }
	END { for (k in want) print k "\t" want[k] }' "${frags[@]}" | sort >"$tmp/want"
bad=0
while IFS=$'\t' read -r sym val; do
	if [ "$val" = unset ]; then
		if grep -q "^$sym=" "$out/.config"; then
			log "requested '# $sym is not set', final .config has: $(grep "^$sym=" "$out/.config")"
			bad=1
		fi
	elif ! grep -qxF "$val" "$out/.config"; then
		got=$(grep -E "^(# )?${sym}[= ]" "$out/.config" || echo "(absent)")
		log "requested $val, final .config has: $got"
		bad=1
	fi
done <"$tmp/want"
if [ "$bad" = 1 ]; then
	[ -f "$tmp/old.config" ] && cp -p "$tmp/old.config" "$out/.config"
	die "options above did not stick (missing dependency?); fix kernel-config/ (fragments: ${frags[*]##*/})"
fi

if [ -f "$tmp/old.config" ] && cmp -s "$tmp/old.config" "$out/.config"; then
	cp -p "$tmp/old.config" "$out/.config"
	log "$out/.config unchanged"
else
	log "$out/.config written from: ${frags[*]##*/}"
fi
printf '%s\n' "${frags[@]}" >"$out/.fragments"
