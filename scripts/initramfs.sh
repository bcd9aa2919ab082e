#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Build the guest userspace initramfs for one architecture: Debian's static
# busybox, cyclictest/hackbench/pi_stress (rt-tests) and stress-ng with the
# shared libraries they need (found by walking ELF NEEDED entries, so arm64
# works without running arm64 code), the repo's guest/init and guest/pe/, and
# the project's selftest binaries if they have been built.
#
# Packages come from Debian's mirror with 'apt-get download' into
# $WORK/cache/debs/<debian arch>/ and are checked against apt's index before
# reuse.  The image is rebuilt only when an input changes (the .debs used,
# this script and lib.sh, guest/, $WORK/selftests/<arch>/); -f forces a
# rebuild.  Files get fixed dates and cpio's --reproducible, so the same
# inputs give the same bytes.
#
# Usage: scripts/initramfs.sh [-f] [-b] ARCH
#   ARCH  x86_64 or arm64
#   -f    rebuild even if the image is up to date
#   -b    the benchmark image: the test image plus Debian's perf (linux-perf)
#         for 'perf bench' (and the Perl and Python libraries perf links)
#   -h    show this help
#
# Output: $WORK/initramfs/<arch>/userspace.cpio.gz (newc, gzip), its path
# printed on stdout as the last line.  Beside it: userspace.debs (the .debs
# used, with SHA-256) and userspace.stamp (the hash of all inputs).  The
# benchmark image is userspace-bench.* in the same folder.
#
# Environment variables read (all optional):
#   WORK      work folder (default: <repo>/work)
#   TMPDIR    where the staging folder is made (default: /tmp)
#   V         V=1 echoes commands
#
# For arm64 the script runs 'dpkg --add-architecture arm64' and 'apt-get
# update' once if the host does not know that architecture yet.
#
# Exit codes: 0 success (or up to date), 1 failure, 2 bad usage.

set -euo pipefail

# Clean with and without shellcheck -x (which follows lib.sh).
# shellcheck source=scripts/lib.sh disable=SC1091
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

SELF=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/$(basename "${BASH_SOURCE[0]}")

usage() {
	sed -n '/^# Usage:/,/^# Exit codes/p' "$0" | sed 's/^# \{0,1\}//'
}

FORCE=0
BENCH=0
while getopts ':fbh' opt; do
	case "$opt" in
	f) FORCE=1 ;;
	b) BENCH=1 ;;
	h)
		usage
		exit 0
		;;
	:) usage_error "option -$OPTARG needs an argument" ;;
	*) usage_error "unknown option -$OPTARG" ;;
	esac
done
shift $((OPTIND - 1))
[ $# -eq 1 ] || usage_error "expected exactly one ARCH argument"
if ! (arch_setup "$1") >/dev/null 2>&1; then
	usage_error "unknown ARCH '$1'; use x86_64 or arm64"
fi
arch_setup "$1"

need_tool apt-get apt
need_tool apt-cache apt
need_tool dpkg dpkg
need_tool dpkg-deb dpkg
need_tool readelf binutils
need_tool cpio cpio
need_tool gzip gzip
need_tool flock util-linux
need_tool sha256sum coreutils

umask 022

GUEST=$TOP/guest
SELFTESTS=$WORK/selftests/$ARCH
OUT_DIR=$WORK/initramfs/$ARCH
IMAGE=userspace
[ "$BENCH" = 0 ] || IMAGE=userspace-bench
OUT=$OUT_DIR/$IMAGE.cpio.gz
STAMP_FILE=$OUT_DIR/$IMAGE.stamp
DEBS_FILE=$OUT_DIR/$IMAGE.debs
CACHE=$WORK/cache/debs/$DEB_ARCH
T=$GNU_TRIPLET
# Where Debian's ld.so looks without an ld.so.cache (the image has none).
LIB_DIRS=("lib/$T" "usr/lib/$T" lib usr/lib)
# The packages the image is made of; their library packages are found.
ROOT_PKGS=(busybox-static rt-tests stress-ng)
# Never unpacked while looking for a library: no shared libraries the
# image needs live there, and some are large.
SKIP_PKGS='^(debconf|dpkg|install-info|tar|perl|perl-base|perl-modules-.*|libperl.*|python3.*|libpython3.*|mailcap|media-types|mime-support|.*-common|.*-data|.*-doc)$'
if [ "$BENCH" = 1 ]; then
	# perf links libperl and libpython (never initialized by 'perf bench').
	ROOT_PKGS+=(linux-perf)
	SKIP_PKGS='^(debconf|dpkg|install-info|tar|perl|perl-base|perl-modules-.*|python3|python3-.*|python3\.[0-9]*|python3\.[0-9]*-minimal|libpython3\.[0-9]*-stdlib|mailcap|media-types|mime-support|.*-common|.*-data|.*-doc)$'
fi
APT_DEP_FLAGS=(--no-recommends --no-suggests --no-conflicts --no-breaks
	--no-replaces --no-enhances --no-pre-depends)

[ -f "$GUEST/init" ] ||
	die "missing $GUEST/init (the guest's PID 1); it must exist before the initramfs can be built"

mkdir -p "$OUT_DIR" "$CACHE"
exec 9>"$OUT_DIR/.lock"
if ! flock -n 9; then
	log "another initramfs build for $ARCH is running; waiting for it"
	flock 9
fi

STAGE=$(mktemp -d "${TMPDIR:-/tmp}/initramfs-$ARCH.XXXXXX")
OUT_TMP=
cleanup() {
	rm -rf "$STAGE"
	if [ -n "$OUT_TMP" ]; then rm -f "$OUT_TMP"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP
ROOT=$STAGE/root
PKGS=$STAGE/pkgs
mkdir -p "$ROOT" "$PKGS"

# The .deb resolver, the ELF walker and the image mechanics.
# shellcheck source=scripts/lib-deb.sh
. "$TOP/scripts/lib-deb.sh"
# shellcheck source=scripts/lib-elf.sh
. "$TOP/scripts/lib-elf.sh"
# shellcheck source=scripts/lib-image.sh
. "$TOP/scripts/lib-image.sh"

ensure_arch

[ "$FORCE" = 1 ] || image_fast_check

# --- build the tree -----------------------------------------------------

log "resolving packages for $ARCH ($DEB_ARCH)"
load_graph
unpack "${ROOT_PKGS[@]}"

install -d -m 755 "$ROOT/bin" "$ROOT/usr/bin"
cp --preserve=mode "$PKGS/busybox-static/bin/busybox" "$ROOT/bin/busybox" ||
	die "busybox-static for $DEB_ARCH has no /bin/busybox"
ln -s busybox "$ROOT/bin/sh"
USED[busybox-static]=1
QUEUE+=("busybox-static|bin/busybox")

for b in cyclictest hackbench pi_stress; do
	src=
	for d in usr/bin usr/sbin bin; do
		if [ -f "$PKGS/rt-tests/$d/$b" ]; then
			src=$PKGS/rt-tests/$d/$b
			break
		fi
	done
	if [ -z "$src" ]; then
		[ "$b" = pi_stress ] && continue
		die "rt-tests for $DEB_ARCH has no $b"
	fi
	cp --preserve=mode "$src" "$ROOT/usr/bin/$b"
	USED[rt-tests]=1
	QUEUE+=("rt-tests|usr/bin/$b")
done

[ -f "$PKGS/stress-ng/usr/bin/stress-ng" ] ||
	die "stress-ng for $DEB_ARCH has no /usr/bin/stress-ng"
cp --preserve=mode "$PKGS/stress-ng/usr/bin/stress-ng" "$ROOT/usr/bin/stress-ng"
USED[stress-ng]=1
QUEUE+=("stress-ng|usr/bin/stress-ng")

if [ "$BENCH" = 1 ]; then
	# Debian's /usr/bin/perf picks perf_<version> by the running kernel's
	# version; the image has the one binary, so install it as perf.
	perf_bin=$(find "$PKGS/linux-perf/usr/bin" -name 'perf_*' -type f 2>/dev/null | head -n 1)
	[ -n "$perf_bin" ] || perf_bin=$PKGS/linux-perf/usr/bin/perf
	is_elf "$perf_bin" || die "linux-perf for $DEB_ARCH has no perf binary"
	cp --preserve=mode "$perf_bin" "$ROOT/usr/bin/perf"
	USED[linux-perf]=1
	QUEUE+=("linux-perf|usr/bin/perf")
fi

scan_queue

# The repo's guest files and the project's test binaries.
install -m 755 "$GUEST/init" "$ROOT/init"
install -d -m 755 "$ROOT/opt/pe"
if [ -d "$GUEST/pe" ]; then
	cp -R --preserve=mode "$GUEST/pe/." "$ROOT/opt/pe/"
fi
if [ -d "$SELFTESTS" ]; then
	install -d -m 755 "$ROOT/opt/pe/selftests"
	cp -R --preserve=mode "$SELFTESTS/." "$ROOT/opt/pe/selftests/"
else
	log "no $SELFTESTS; the image has no selftests"
fi
# Their dynamic binaries need libraries too (and must be of this arch).
while IFS= read -r -d '' f; do
	QUEUE+=("|${f#"$ROOT"/}")
done < <(find "$ROOT/init" "$ROOT/opt" -type f -print0 | sort -z)
scan_queue

# Standard folders, device nodes and a minimal /etc.
install -d -m 755 "$ROOT"/{proc,sys,sys/kernel/debug,dev,dev/pts,dev/shm,run,mnt,etc} \
	"$ROOT"/{sbin,usr/sbin,var,var/log}
install -d -m 1777 "$ROOT/tmp" "$ROOT/var/tmp"
install -d -m 700 "$ROOT/root"
mknod -m 600 "$ROOT/dev/console" c 5 1 ||
	die "mknod /dev/console failed (needs root and CAP_MKNOD)"
mknod -m 666 "$ROOT/dev/null" c 1 3 ||
	die "mknod /dev/null failed (needs root and CAP_MKNOD)"
printf '%s\n' 'root:x:0:0:root:/root:/bin/sh' \
	'nobody:x:65534:65534:nobody:/nonexistent:/bin/false' >"$ROOT/etc/passwd"
printf '%s\n' 'root:x:0:' 'nogroup:x:65534:' >"$ROOT/etc/group"
printf '%s\n' 'passwd: files' 'group: files' 'shadow: files' 'hosts: files' \
	>"$ROOT/etc/nsswitch.conf"
printf '%s\n' '127.0.0.1 localhost' '::1 localhost' >"$ROOT/etc/hosts"

image_write "$FORCE"
