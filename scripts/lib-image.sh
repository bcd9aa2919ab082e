# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# lib-image.sh - the image mechanics of initramfs.sh: the stamp (a hash of
# every input), the fast up-to-date check that needs no unpacking, and the
# reproducible cpio/gzip write.  Sourced by initramfs.sh after lib-deb.sh,
# with ARCH, IMAGE, OUT_TMP, SELF, GUEST, SELFTESTS, ROOT, OUT, OUT_DIR, STAMP_FILE
# and DEBS_FILE set; never executed.

# tree_digest DIR: paths, types, modes, link targets and contents of DIR.
tree_digest() {
	(
		cd "$1" || exit
		find . -printf '%y %m %p %l\n' | sort
		find . -type f -print0 | sort -z | xargs -0r sha256sum
	)
}

# image_stamp DEB_LINES: hash of every input of the image.
image_stamp() {
	{
		printf 'initramfs v1 %s %s\n' "$ARCH" "$IMAGE"
		printf 'script %s\n' "$(sha256sum <"$SELF" | cut -c1-64)"
		printf 'lib %s\n' "$(cat "$TOP/scripts/lib.sh" "$TOP/scripts/lib-deb.sh" \
			"$TOP/scripts/lib-elf.sh" "$TOP/scripts/lib-image.sh" | sha256sum | cut -c1-64)"
		printf '%s\n' "$1"
		printf 'guest\n'
		tree_digest "$GUEST"
		if [ -d "$SELFTESTS" ]; then
			printf 'selftests\n'
			tree_digest "$SELFTESTS"
		else
			printf 'no selftests\n'
		fi
	} | sha256sum | cut -c1-64
}

image_up_to_date() {
	log "up to date: $OUT"
	printf '%s\n' "$OUT"
	exit 0
}

# image_fast_check: exit through image_up_to_date when the .debs of the
# last build are still apt's current ones, are cached, and no other input
# changed; return otherwise.  Unpacks nothing.
image_fast_check() {
	local old_fns old_pkgs p lines='' ok=1

	[ -f "$OUT" ] && [ -f "$STAMP_FILE" ] && [ -s "$DEBS_FILE" ] || return 0
	mapfile -t old_fns < <(awk '{ print $2 }' "$DEBS_FILE")
	old_pkgs=("${old_fns[@]%%_*}")
	deb_index "${old_pkgs[@]}" || return 0
	for p in "${old_pkgs[@]}"; do
		if [ -n "${DEB_FN[$p]:-}" ] && deb_cached "$p"; then
			lines+="${DEB_SHA[$p]} ${DEB_FN[$p]}"$'\n'
		else
			ok=0
		fi
	done
	lines=$(printf '%s' "$lines" | sort -k2)
	if [ "$ok" = 1 ] && [ "$(image_stamp "$lines")" = "$(cat "$STAMP_FILE")" ]; then
		image_up_to_date
	fi
}

# replace FILE TEXT: write TEXT to FILE through a temporary file.
replace() {
	printf '%s\n' "$2" >"$1.tmp"
	mv -f "$1.tmp" "$1"
}

# image_write FORCE: pack ROOT into OUT (fixed dates, sorted, newc) with
# the .debs that USED names, unless the stamp says OUT already is that.
image_write() {
	local used deb_lines new_stamp p nfiles raw size
	local cpio_flags=(-o -H newc -R 0:0 --quiet)

	# shellcheck disable=SC2153 # lib-elf.sh fills USED
	used=$(printf '%s\n' "${!USED[@]}" | sort)
	deb_lines=$(for p in $used; do
		printf '%s %s\n' "${DEB_SHA[$p]}" "${DEB_FN[$p]}"
	done | sort -k2)
	new_stamp=$(image_stamp "$deb_lines")
	if [ "$1" = 0 ] && [ -f "$OUT" ] && [ -f "$STAMP_FILE" ] &&
		[ "$new_stamp" = "$(cat "$STAMP_FILE")" ]; then
		replace "$DEBS_FILE" "$deb_lines"
		image_up_to_date
	fi
	log "image uses $(wc -w <<<"$used") of ${#UNPACKED[@]} unpacked packages: $(tr '\n' ' ' <<<"$used")"

	find "$ROOT" -exec touch -h -d "$BASE_DATE" {} +
	if cpio --help 2>&1 | grep -q -- --reproducible; then
		cpio_flags+=(--reproducible)
	fi
	OUT_TMP=$(mktemp "$OUT_DIR/.$IMAGE.cpio.gz.XXXXXX")
	(cd "$ROOT" && find . | sort | run cpio "${cpio_flags[@]}") | gzip -n >"$OUT_TMP" ||
		die "cpio/gzip failed writing $OUT_TMP"
	chmod 644 "$OUT_TMP"
	mv -f "$OUT_TMP" "$OUT"
	OUT_TMP=
	replace "$DEBS_FILE" "$deb_lines"
	replace "$STAMP_FILE" "$new_stamp"

	nfiles=$(find "$ROOT" | wc -l)
	raw=$(du -sb --apparent-size "$ROOT" | cut -f1)
	size=$(stat -c %s "$OUT")
	log "wrote $OUT: $((size / 1024)) KiB gzip ($((raw / 1024)) KiB unpacked, $nfiles entries)"
	printf '%s\n' "$OUT"
}
