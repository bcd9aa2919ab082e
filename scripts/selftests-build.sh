#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# selftests-build.sh - build the harness's kselftest suites statically for
# one architecture, ready to drop into a guest initramfs.
#
# Every suite under tests/selftests/<suite>/ (a directory with a Makefile) is
# built out of the kernel tree with the kernel's own kselftest lib.mk and
# headers, and installed with lib.mk's install target into
# $WORK/selftests/<ARCH>/<suite>/: the test programs plus the suite's config
# and settings files (settings holds the per-test timeout the kselftest
# runner reads).  Binaries are checked to be static and for the right
# machine.  The output directory is printed on stdout; everything else goes
# to stderr.
#
# Usage: scripts/selftests-build.sh [-h] ARCH
#   ARCH   x86_64 or arm64 (aliases as in lib.sh's arch_setup)
#   -h     show this help
#
# Environment:
#   KSRC                 kernel tree providing tools/testing/selftests
#                        (default: $WORK/linux)
#   WORK                 work folder (default: <repo>/work)
#   CROSS_COMPILE_ARM64  cross prefix for arm64 (default: aarch64-linux-gnu-)
#   CROSS_COMPILE_X86_64 cross prefix for x86_64 (default: none)
#   V=1                  echo commands and show full compiler lines
#
# Exit codes: 0 built, 1 failure, 2 bad usage.

set -euo pipefail

# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
	cat <<EOF
Usage: scripts/selftests-build.sh [-h] ARCH

Build every suite under tests/selftests/ statically for ARCH (x86_64 or
arm64) into \$WORK/selftests/ARCH/<suite>/ and print that directory.

Environment: KSRC (kernel tree with tools/testing/selftests, default
\$WORK/linux), WORK, CROSS_COMPILE_ARM64, CROSS_COMPILE_X86_64, V=1.
Exit codes: 0 built, 1 failure, 2 bad usage.
EOF
}

while getopts ':h' opt; do
	case "$opt" in
	h)
		usage
		exit 0
		;;
	*) usage_error "unknown option -$OPTARG" ;;
	esac
done
shift $((OPTIND - 1))
[ $# -eq 1 ] || usage_error "expected exactly one ARCH argument"

# An unknown ARCH is bad usage; arch_setup itself would exit 1.
(arch_setup "$1") 2>/dev/null || usage_error "unknown ARCH '$1'; use x86_64 or arm64"
arch_setup "$1"

CC="${CROSS_COMPILE}gcc"
need_tool make make
need_tool file file
need_tool rsync rsync
need_tool "$CC" "$CC_PKG"

# A static link needs the target's libc.a; gcc echoes the bare name if not.
libc_a=$("$CC" -print-file-name=libc.a)
if [ "$libc_a" = libc.a ] || [ ! -f "$libc_a" ]; then
	if [ "$ARCH" = arm64 ]; then
		die "no static libc for $CC; install it with 'apt-get install libc6-dev-arm64-cross'"
	fi
	die "no static libc for $CC; install it with 'apt-get install libc6-dev'"
fi

KSFT_DIR="$KSRC/tools/testing/selftests"
for f in lib.mk kselftest_harness.h kselftest.h; do
	[ -f "$KSFT_DIR/$f" ] ||
		die "kselftest file $KSFT_DIR/$f not found; unpack the kernel first ('make fetch') or set KSRC=<kernel tree>"
done

suites=()
for mk in "$TOP"/tests/selftests/*/Makefile; do
	[ -f "$mk" ] || continue
	suites+=("$(basename "$(dirname "$mk")")")
done
[ ${#suites[@]} -gt 0 ] || die "no suites under $TOP/tests/selftests"

out="$WORK/selftests/$ARCH"
for suite in "${suites[@]}"; do
	src="$TOP/tests/selftests/$suite"
	dst="$out/$suite"
	# make goes by timestamps: outputs built from other sources (another
	# checkout sharing WORK, an older commit checked out) can look up to
	# date.  Key the outputs on the sources' content instead.
	stamp=$( (cd "$src" && find . -type f -print0 | sort -z | xargs -0 sha1sum
		sha1sum "$KSFT_DIR/kselftest_harness.h" "$KSFT_DIR/kselftest.h" "$KSFT_DIR/lib.mk") |
		sha1sum | cut -d' ' -f1)
	if [ -f "$dst/.pe-sources" ] && [ "$(cat "$dst/.pe-sources")" != "$stamp" ]; then
		log "$suite: sources changed since the last build; rebuilding from scratch"
		rm -rf "$dst"
	fi
	mkdir -p "$dst"
	# LLVM= keeps a stray LLVM in the environment from switching lib.mk
	# to clang flags; CC on the command line beats lib.mk's own choice;
	# USERLDFLAGS (lib.mk's hook) makes every suite static.
	mk=(make -C "$src" --no-print-directory KSFT_DIR="$KSFT_DIR"
		OUTPUT="$dst" INSTALL_PATH="$dst" CC="$CC" LLVM=
		USERLDFLAGS=-static)
	log "building $suite for $ARCH with $CC"
	if ! run "${mk[@]}" V="${V:-0}" install >&2; then
		die "building $suite for $ARCH failed"
	fi

	# Every test lib.mk knows about must be installed; ELF ones static,
	# for ARCH.
	if ! tests=$("${mk[@]}" -s emit_tests); then
		die "$suite: make emit_tests failed"
	fi
	progs=$(printf '%s\n' "$tests" | sed -n 's/^[^:]*://p')
	[ -n "$progs" ] || die "$suite: lib.mk lists no tests"
	# The guest runs these and nothing else of the suite (TEST_GEN_FILES
	# such as benchmark tools are installed beside them).
	printf "%s\n" "$progs" | tr " " "\n" >"$dst/.pe-tests"
	printf '%s\n' "$stamp" >"$dst/.pe-sources"
	for prog in $progs; do
		bin="$dst/$prog"
		[ -f "$bin" ] || die "$suite: $prog was not installed into $dst"
		desc=$(file -b "$bin")
		case "$desc" in
		ELF*) ;;
		*) continue ;; # a script test (TEST_PROGS) needs no check
		esac
		case "$desc" in
		*"$FILE_MACHINE"*) ;;
		*) die "$bin is not an $ARCH binary: $desc" ;;
		esac
		case "$desc" in
		*"statically linked"* | *"static-pie linked"*) ;;
		*) die "$bin is not statically linked: $desc" ;;
		esac
	done
done

log "built ${#suites[@]} suite(s): ${suites[*]}"
printf '%s\n' "$out"
