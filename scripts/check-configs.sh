#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# check-configs.sh - compile what the series touches under product configs.
#
# Our own configs are small.  Product kernels are not: this takes configs
# with hundreds of options ours lack and compiles, in each, every object
# the series touches (kernel/sched/ and kernel/locking/ whole, plus each
# other .c file it changes, e.g. kernel/fork.o and init/init_task.o):
#
#   debian-amd64   Debian's 6.12 amd64 distro config (linux-config-6.12,
#                  config.amd64_none_amd64: PREEMPT_DYNAMIC, voluntary)
#   debian-arm64   Debian's 6.12 arm64 distro config (config.arm64_none_arm64)
#   arm64-scx      the base tree's arm64 defconfig plus SCHED_CLASS_EXT
#                  (with BPF, BTF) and PREEMPT
#   debian-amd64-rt  Debian's PREEMPT_RT config, where the option cannot
#                  be set: not in the default set; it shows the one-line
#                  failure that names the dependency that blocks it
#
# Each config is built three times, out of tree under work/check-configs/:
# the base tree ("base"), the series with CONFIG_SCHED_PROXY_EXEC=n
# ("off") and with it =y ("on").  After olddefconfig the option must
# really be set in "on" (if a dependency blocks it, one line names it) and
# absent in "off".  A variant fails if a target does not compile, or if it
# prints a compiler warning the base tree's build of the same config does
# not (file names and messages compared, line numbers ignored).
#
# Debian's mirror carries linux-config-6.12 only at its newest version;
# the pinned base's version is used when the mirror still has it.
#
# Usage: scripts/check-configs.sh [-h] [-o FILE] [CONFIG...]
#   CONFIG   debian-amd64, debian-arm64, arm64-scx (default: these three),
#            debian-amd64-rt
#   -o FILE  also write the verdicts as TSV (name, PASS/FAIL, detail)
# Environment: JOBS (default nproc), KSRC, WORK.
# Exit codes: 0 all passed, 1 a failure, 2 bad usage.

set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

usage() {
	sed -n '/^# Usage:/,/^# Exit codes/p' "$0" | sed 's/^# \{0,1\}//'
}
tsv_out=
while getopts ho: opt; do
	case "$opt" in
	h) usage; exit 0 ;;
	o) tsv_out=$OPTARG ;;
	*) usage_error "unknown option" ;;
	esac
done
shift $((OPTIND - 1))
all_configs=(debian-amd64 debian-arm64 arm64-scx debian-amd64-rt)
configs=("$@")
[ ${#configs[@]} -gt 0 ] || configs=(debian-amd64 debian-arm64 arm64-scx)
for c in "${configs[@]}"; do
	case " ${all_configs[*]} " in
	*" $c "*) ;;
	*) usage_error "unknown config '$c'; use one of: ${all_configs[*]}" ;;
	esac
done

for t in make gcc flex bison bc perl xz dpkg-deb apt-get python3; do
	need_tool "$t" "$t"
done
ksrc_is_tree || die "no kernel git tree at $KSRC; run 'make fetch apply' first"
base=$(ksrc_base)
[ -n "$(git -C "$KSRC" rev-list "$base..HEAD")" ] || die "the series is not applied to $KSRC; run 'make apply'"
base_src=$(kernel_source base)

top_out=$WORK/check-configs
cache=$WORK/cache
mkdir -p "$top_out" "$cache"
: "${tsv_out:=$top_out/results.tsv}"
: >"$tsv_out"
npass=0
nfail=0
verdict() {
	printf '%s\t%s\t%s\n' "$1" "$2" "${3:-}" >>"$tsv_out"
	printf '%s: %-28s %s%s\n' "$PROG" "$1" "$2" "${3:+  ($3)}" >&2
	if [ "$2" = PASS ]; then npass=$((npass + 1)); else nfail=$((nfail + 1)); fi
}

# The targets: every directory of kernel/sched and kernel/locking whole,
# and each other C file the series changes as its own object.
mapfile -t changed < <(git -C "$KSRC" diff --name-only "$base..HEAD" -- '*.c')
targets=(kernel/sched/ kernel/locking/)
for f in "${changed[@]}"; do
	case "$f" in
	kernel/sched/* | kernel/locking/*) ;;
	*) targets+=("${f%.c}.o") ;;
	esac
done

# debian_config ARCH FILE: print the path of Debian's distro config FILE
# for DEB_ARCH ARCH, fetched into the cache.
debian_config() {
	local darch=$1 file=$2 pkg=linux-config-6.12 ver deb
	ver=$BASE_PKG_PIN
	if ! apt-get download --print-uris "$pkg:$darch=$ver" >/dev/null 2>&1; then
		ver=$(apt-cache madison "$pkg" 2>/dev/null | awk '{ print $3 }' | sort -V | tail -n 1)
		if [ -z "$ver" ]; then
			log "apt knows no $pkg; running 'apt-get update'"
			apt-get update -q >"$top_out/apt-update.log" 2>&1 ||
				die "apt-get update failed; cannot reach the Debian mirror for $pkg (log: $top_out/apt-update.log)"
			ver=$(apt-cache madison "$pkg" 2>/dev/null | awk '{ print $3 }' | sort -V | tail -n 1)
		fi
		[ -n "$ver" ] || die "the Debian mirror has no $pkg; check the apt sources"
		log "the mirror no longer has $pkg $BASE_PKG_PIN (the base's version); using $ver" >&2
	fi
	deb=$cache/${pkg}_${ver/:/%3a}_$darch.deb
	if [ ! -s "$deb" ]; then
		local tmp
		tmp=$(mktemp -d "$cache/dl.XXXXXX")
		if ! (cd "$tmp" && apt-get download -q "$pkg:$darch=$ver") >"$top_out/apt-download.log" 2>&1; then
			rm -rf "$tmp"
			die "cannot download $pkg:$darch=$ver (log: $top_out/apt-download.log)"
		fi
		mv "$tmp"/*.deb "$deb"
		rmdir "$tmp"
	fi
	local out=$top_out/seed-$file
	dpkg-deb --fsys-tarfile "$deb" | tar -xO "./usr/src/linux-config-6.12/$file.xz" | xz -d >"$out" ||
		die "$deb has no usr/src/linux-config-6.12/$file.xz"
	echo "# from $(basename "$deb")" >>"$out"
	printf '%s\n' "$out"
}

# blocker CONFIG: one line naming what keeps SCHED_PROXY_EXEC from being
# set in CONFIG: the first of its "depends on" lines that is false there.
blocker() {
	python3 - "$KSRC/kernel/Kconfig.preempt" "$1" <<'EOF'
import re, sys
kconfig, config = sys.argv[1], sys.argv[2]
vals = {}
for line in open(config):
    m = re.match(r'CONFIG_(\w+)=(.*)', line)
    if m:
        vals[m.group(1)] = m.group(2)
deps, inside = [], False
for line in open(kconfig):
    if re.match(r'\s*config\s+SCHED_PROXY_EXEC\s*$', line):
        inside = True
        continue
    if inside and re.match(r'\s*(config|menuconfig|endmenu|choice|if|endif)\b', line):
        break
    m = re.match(r'\s*depends on\s+(.*)', line)
    if inside and m:
        deps.append(m.group(1).split('#')[0].strip())
def ev(expr):
    py = re.sub(r'\b([A-Z_][A-Z0-9_]*)\b',
                lambda m: repr(vals.get(m.group(1), 'n') in ('y', 'm')), expr)
    py = py.replace('&&', ' and ').replace('||', ' or ').replace('!', ' not ')
    return eval(py)
for d in deps:
    if not ev(d):
        syms = re.findall(r'\b[A-Z_][A-Z0-9_]*\b', d)
        what = ', '.join('CONFIG_%s=%s' % (s, vals.get(s, 'n')) for s in syms)
        print('CONFIG_SCHED_PROXY_EXEC depends on "%s", and this config has %s' % (d, what))
        sys.exit(0)
print('CONFIG_SCHED_PROXY_EXEC did not take, although every "depends on" holds (%s)' % '; '.join(deps))
EOF
}

cc_setup() {
	cc="${CROSS_COMPILE}gcc"
	if command -v ccache >/dev/null 2>&1; then
		cc="ccache $cc"
		export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$(dirname "$TOP")}
		export CCACHE_NOHASHDIR=1
	fi
}

# kmake SRC OUT ARGS...: make in the tree SRC, building into OUT.
kmake() {
	local src=$1 o=$2
	shift 2
	make -C "$src" O="$o" ARCH="$KARCH" CROSS_COMPILE="$CROSS_COMPILE" CC="$cc" \
		HOSTCC="${HOSTCC:-gcc}" LOCALVERSION= -j"${JOBS:-$(nproc)}" "$@"
}

# warnings LOG: the compiler warnings of LOG, one per line, as
# "file: warning: message" with the tree's path and line numbers cut off.
warnings() {
	{ grep -E ': (warning|error): ' "$1" || true; } |
		sed -E -e 's#^([^:]*/)?((arch|block|certs|crypto|drivers|fs|include|init|io_uring|ipc|kernel|lib|mm|net|security|sound|virt)/)#\2#' \
			-e 's#^([^:]*):[0-9]+(:[0-9]+)?:#\1:#' | sort -u
}

# variant NAME SEED VARIANT: configure and build one variant; prints
# nothing, records a verdict.
variant() {
	local name=$1 seed=$2 v=$3 src=$KSRC o start secs
	[ "$v" = base ] && src=$base_src
	o=$top_out/$name-$v
	mkdir -p "$o"
	rm -f "$o/warnings.txt" "$o/new-warnings.txt"
	cp "$seed" "$o/.config"
	case "$v" in
	on) "$KSRC/scripts/config" --file "$o/.config" --enable SCHED_PROXY_EXEC ;;
	off) "$KSRC/scripts/config" --file "$o/.config" --disable SCHED_PROXY_EXEC ;;
	esac
	if ! kmake "$src" "$o" olddefconfig >"$o/config.log" 2>&1; then
		verdict "$name:$v" FAIL "olddefconfig failed: $(tail -n 1 "$o/config.log")"
		return
	fi
	local got
	got=$(sed -n 's/^CONFIG_SCHED_PROXY_EXEC=//p' "$o/.config")
	case "$v" in
	on)
		if [ "$got" != y ]; then
			verdict "$name:$v" FAIL "$(blocker "$o/.config")"
			return
		fi ;;
	*)
		if [ -n "$got" ]; then
			verdict "$name:$v" FAIL "CONFIG_SCHED_PROXY_EXEC=$got after olddefconfig; expected unset"
			return
		fi ;;
	esac
	if [ "$name" = arm64-scx ] && ! grep -qx 'CONFIG_SCHED_CLASS_EXT=y' "$o/.config"; then
		verdict "$name:$v" FAIL "CONFIG_SCHED_CLASS_EXT did not take (it needs BPF_SYSCALL, BPF_JIT and DEBUG_INFO_BTF, which needs pahole: apt-get install dwarves)"
		return
	fi
	# kbuild compiles a named object even if the config leaves it out.
	local sel
	mapfile -t sel < <("$TOP/scripts/kbuild-selected.py" "$KSRC" "$o/.config" "${targets[@]}" \
		2>"$o/left-out.txt")
	sed "s/^/$PROG: $name-$v: /" "$o/left-out.txt" >&2
	log "$name-$v: compiling ${sel[*]} (log: $o/build.log)"
	start=$(date +%s)
	if ! { kmake "$src" "$o" prepare && kmake "$src" "$o" "${sel[@]}"; } >"$o/build.log" 2>&1; then
		verdict "$name:$v" FAIL "build failed: $(grep -m1 -E 'error:|Error [0-9]' "$o/build.log" || tail -n 1 "$o/build.log")"
		return
	fi
	secs=$(($(date +%s) - start))
	warnings "$o/build.log" >"$o/warnings.txt"
	if [ "$v" = base ]; then
		verdict "$name:$v" PASS "$(wc -l <"$o/warnings.txt") warnings, ${secs}s"
		return
	fi
	comm -13 "$top_out/$name-base/warnings.txt" "$o/warnings.txt" >"$o/new-warnings.txt"
	if [ -s "$o/new-warnings.txt" ]; then
		verdict "$name:$v" FAIL "$(wc -l <"$o/new-warnings.txt") new warnings, e.g. $(head -n 1 "$o/new-warnings.txt") (all: $o/new-warnings.txt)"
	else
		verdict "$name:$v" PASS "no new warnings, ${secs}s"
	fi
}

check_config() {
	local name=$1 seed
	case "$name" in
	debian-amd64)
		arch_setup x86_64
		seed=$(debian_config amd64 config.amd64_none_amd64) ;;
	debian-arm64)
		arch_setup arm64
		seed=$(debian_config arm64 config.arm64_none_arm64) ;;
	debian-amd64-rt)
		arch_setup x86_64
		seed=$(debian_config amd64 config.amd64_rt_amd64) ;;
	arm64-scx)
		arch_setup arm64
		cc_setup
		need_tool pahole dwarves
		seed=$top_out/seed-arm64-scx
		mkdir -p "$top_out/defconfig-arm64"
		kmake "$base_src" "$top_out/defconfig-arm64" defconfig >"$top_out/defconfig-arm64.log" 2>&1 ||
			die "arm64 defconfig failed (log: $top_out/defconfig-arm64.log)"
		cp "$top_out/defconfig-arm64/.config" "$seed"
		"$KSRC/scripts/config" --file "$seed" --enable BPF_SYSCALL --enable BPF_JIT \
			--enable DEBUG_INFO --enable DEBUG_INFO_DWARF_TOOLCHAIN_DEFAULT \
			--disable DEBUG_INFO_NONE --disable DEBUG_INFO_REDUCED --disable DEBUG_INFO_SPLIT \
			--enable DEBUG_INFO_BTF --enable SCHED_CLASS_EXT \
			--disable PREEMPT_NONE --disable PREEMPT_VOLUNTARY --enable PREEMPT ;;
	esac
	[ -n "$CROSS_COMPILE" ] && need_tool "${CROSS_COMPILE}gcc" "$CC_PKG"
	cc_setup
	# First whether the option can be set at all: nothing to compile if not.
	local probe=$top_out/$name-probe
	mkdir -p "$probe"
	cp "$seed" "$probe/.config"
	"$KSRC/scripts/config" --file "$probe/.config" --enable SCHED_PROXY_EXEC
	kmake "$KSRC" "$probe" olddefconfig >"$probe/config.log" 2>&1 ||
		die "$name: olddefconfig failed (log: $probe/config.log)"
	if ! grep -qx 'CONFIG_SCHED_PROXY_EXEC=y' "$probe/.config"; then
		verdict "$name" FAIL "$(blocker "$probe/.config")"
		return
	fi
	local v
	for v in base off on; do
		variant "$name" "$seed" "$v"
		if [ "$v" = base ] && [ ! -f "$top_out/$name-base/warnings.txt" ]; then
			verdict "$name:off" FAIL "skipped: the base tree did not build"
			verdict "$name:on" FAIL "skipped: the base tree did not build"
			return
		fi
	done
}

# Kernel builds are serialized machine-wide (see with_build_lock).
exec 9>"$WORK/.build.lock"
if ! flock -n 9; then
	log "another kernel build is running; waiting for it"
	flock 9
fi
start=$(date +%s)
for c in "${configs[@]}"; do
	check_config "$c"
done
log "took $(($(date +%s) - start))s; verdicts in $tsv_out"
echo "$npass passed, $nfail failed"
[ "$nfail" = 0 ]
