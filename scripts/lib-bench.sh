# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash disable=SC2154 # bench.sh sets the settings read here
#
# lib-bench.sh - what bench.sh records beside its samples: meta.env (how the
# run was made: commit, kernels, guests, items, every config delta) and the
# .config lines in which the base and pe kernels differ.  Sourced by
# bench.sh after it parsed its settings; never executed.

# config_delta: the .config lines in which the base and pe kernels differ.
config_delta() {
	diff <(grep -E '^(CONFIG_|# CONFIG_)' "$(build_dir "$ARCH" perf base)/.config" | sort) \
		<(grep -E '^(CONFIG_|# CONFIG_)' "$(build_dir "$ARCH" perf pe)/.config" | sort) |
		sed -n 's/^\([<>]\) /\1 /p' | sed 's/^</base:/; s/^>/pe:  /' || true
}

# bench_meta: meta.env on stdout.
bench_meta() {
	local commit t

	commit=$(git -C "$TOP" rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
	[ -z "$(git -C "$TOP" status --porcelain 2>/dev/null)" ] || commit+="-dirty"
	echo "DATE=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
	echo "COMMIT=$commit"
	echo "ROUNDS=$rounds"
	echo "QUICK=$quick"
	echo "ICOUNT=${icount:-off}"
	echo "XCPU_ICOUNT=${xicount:-off}"
	echo "BASE_RELEASE=$(cat "$(build_dir "$ARCH" perf base)/kernelrelease")"
	echo "PE_RELEASE=$(cat "$(build_dir "$ARCH" perf pe)/kernelrelease")"
	[[ " $kernel_tags " != *" ctl "* ]] ||
		echo "CONTROL=\"base + scripts/bench-control.patch ($(grep -c '^+.*nop' "$TOP/scripts/bench-control.patch") no-op asm lines: 24 nops in the mutex slowpath, 4 in __schedule)\""
	echo "HOST=\"$(nproc) CPUs, $(uname -r)\""
	[ ${#lat_items[@]} = 0 ] ||
		echo "GUEST_LATENCY=\"$ARCH, $lat_smp vCPUs, QEMU TCG${icount:+ -icount $icount}\""
	[ ${#xlat_items[@]} = 0 ] ||
		echo "GUEST_LATENCY_XCPU=\"$ARCH, $lat_smp vCPUs, QEMU TCG${xicount:+ -icount $xicount}${xicount:- (multi-threaded, no -icount)}\""
	[ ${#ovh_list[@]} = 0 ] ||
		echo "GUEST_OVERHEAD=\"$ARCH, $ovh_smp vCPUs, QEMU TCG${icount:+ -icount $icount}\""
	echo "ALLOWANCE_US=$allowance"
	echo "CAP_MS=$cap"
	echo "REPS=$reps"
	echo "SECS=$secs"
	echo "SAMPLES=$samples"
	echo "ITEMS=\"$item_list\""
	echo "LAT_SMP=$lat_smp"
	echo "OVH_SMP=$ovh_smp"
	echo "FRAGMENTS=\"${FRAGMENTS:-}\""
	for t in $kernel_tags; do
		printf 'CONFIG_%s="%s"\n' "$t" \
			"$(sed 's|.*/||' "$(build_dir "$ARCH" perf "$t")/.fragments" 2>/dev/null | paste -sd' ')"
	done
	echo "CONFIG_DELTA=\"$(config_delta | wc -l) options differ between base and pe, see config-delta.txt\""
	echo "CMD=\"make bench$([ "$ARCH" = x86_64 ] || echo " ARCH=$ARCH")$([ "$quick" = 0 ] || echo " BENCH_QUICK=1")$([ "$control" = 1 ] || echo " BENCH_CONTROL=0")$([ "$lat_smp" = 2 ] || echo " BENCH_LAT_SMP=$lat_smp")$([ "$ovh_smp" = 1 ] || echo " BENCH_OVH_SMP=$ovh_smp")\""
}
