# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# lib-series.sh - patches/ and the kernel tree's commits: the series file,
# and the byte-stable export of the commits as patches.  Sourced after
# lib.sh by the scripts that read or write patches/ (apply, export,
# check-sync, check); never executed.

# The caller reads what is set here.
# shellcheck disable=SC2034
true

# series_patches: the patch files named by patches/series, in order.
series_patches() {
	local f="$TOP/patches/series"
	[ -f "$f" ] || die "missing $f"
	sed -e 's/#.*//' -e 's/[[:space:]]*$//' -e '/^$/d' "$f"
}

# export_series DIR: write the tree's commits since the baseline to DIR as
# git format-patch files plus a quilt series file.  The output depends only
# on the commits: zero From hashes, no signature, no numbering (adding a
# patch does not rewrite every subject), fixed abbreviation length, and no
# user git configuration.  '#' banners of the existing patches/series are
# kept in front of the patch with the same subject slug; with EXPORT_WARN=1
# (export.sh) a banner whose patch is gone is reported.
export_series() {
	local out=$1 base n
	base=$(ksrc_base)
	mkdir -p "$out"
	n=$(git -C "$KSRC" rev-list --count "$base..HEAD")
	if [ "$n" -gt 0 ]; then
		GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_NOSYSTEM=1 \
			git -C "$KSRC" -c core.abbrev=12 -c diff.noprefix=false \
			-c diff.algorithm=myers -c diff.renames=true \
			format-patch -q --zero-commit --no-signature --no-numbered \
			--no-cover-letter --stat=72 --output-directory "$out" \
			"$base..HEAD" >/dev/null
	fi
	local old="$TOP/patches/series"
	(cd "$out" && find . -maxdepth 1 -name '[0-9][0-9][0-9][0-9]-*.patch' | sed 's|^\./||' | sort) |
		awk -v old="$old" -v warn="${EXPORT_WARN:-0}" '
		function slug(f) { sub(/^[0-9]+-/, "", f); return f }
		BEGIN {
			# The file header (a leading comment block and the blank
			# line after it) stays first whatever the first patch is.
			pending = ""; header = ""; inhead = 1
			while ((getline line < old) > 0) {
				if (inhead && line ~ /^#/) { header = header line "\n"; continue }
				if (inhead && header != "" && line ~ /^[[:space:]]*$/) {
					header = header line "\n"; inhead = 0; continue
				}
				inhead = 0
				if (line ~ /^[[:space:]]*(#|$)/) { pending = pending line "\n"; continue }
				gsub(/[[:space:]]+$/, "", line)
				banner[slug(line)] = pending; pending = ""
			}
			tail = pending
			printf "%s", header
		}
		{ s = slug($0); if (s in banner) { printf "%s", banner[s]; delete banner[s] }; print }
		END {
			printf "%s", tail
			# A banner whose patch is gone (renamed or dropped) has no
			# place any more: say so rather than lose it silently.
			for (s in banner)
				if (warn && banner[s] ~ /#/)
					printf "export: warning: series comments above %s were dropped with it; re-add them by hand\n", s > "/dev/stderr"
		}' >"$out/series"
}

# Authorship of the series' own patches.
SERIES_AUTHOR="Proxy Exec LTS Team <proxy-exec-lts@lists.invalid>"
