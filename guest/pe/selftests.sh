# shellcheck shell=sh
# SPDX-License-Identifier: GPL-2.0
#
# /opt/pe/selftests.sh: the "selftests" guest test (busybox sh).  Sourced
# by /init, whose result() it uses: runs every kselftest binary under
# /opt/pe/selftests/ and turns its TAP into PE-RESULT lines.

# Defaults of the command line words it reads (see guest/PROTOCOL).
: "${pe_timeout:=300}"

# fail_reason LOG CASE: why a kselftest case failed, on one line: its
# failed checks' messages ("file.c:line:test:message" lines between the
# case's "RUN" and its result), or the expectations themselves when the
# checks carry no message.  The host prints it with the failure.
fail_reason() {
	awk -v c="$2" '
	/^#  RUN / { inb = index($0, " " c " ") > 0; msg = ""; chk = ""; next }
	!inb { next }
	/^# [^ ]*\.c:[0-9]+:[^:]*:/ {
		m = $0
		sub(/^# [^ ]*\.c:[0-9]+:[^:]*:/, "", m)
		if (m ~ /^Expected /)
			chk = chk (chk == "" ? "" : "; ") m
		else
			msg = msg (msg == "" ? "" : "; ") m
		next
	}
	/^(not )?ok [0-9]+ / {
		print substr(msg != "" ? msg : chk, 1, 400)
		exit
	}' "$1"
}

# run_selftest SUITE BIN [ARG...]: run one kselftest binary (with the
# harness's ARGs, e.g. -v VARIANT) and turn its TAP into PE-RESULT lines.
# A binary that crashes or prints no TAP fails.
run_selftest() {
	suite=$1
	bin=$2
	shift 2
	name="selftest:$suite/$(basename "$bin")"
	log=/tmp/selftest.$$.log
	to=$pe_timeout
	if [ -r "/opt/pe/selftests/$suite/settings" ]; then
		s=$(sed -n 's/^timeout=//p' "/opt/pe/selftests/$suite/settings")
		[ -n "$s" ] && to=$s
	fi
	echo "PE-BEGIN: $name timeout=${to}s"
	rc=0
	(cd "/opt/pe/selftests/$suite" && timeout "$to" "$bin" "$@") >"$log" 2>&1 || rc=$?
	cat "$log"
	echo "PE-END: $name rc=$rc"
	ncase=$(grep -cE '^(not )?ok [0-9]+' "$log")
	grep -E '^(not )?ok [0-9]+' "$log" | while read -r line; do
		case "$line" in
		"not ok "*) r=FAIL ;;
		*"# SKIP"* | *"# skip"*) r=SKIP ;;
		*) r=PASS ;;
		esac
		# "ok 3 fixture.variant.test # SKIP reason" -> fixture.variant.test
		c=$(echo "$line" | sed -E 's/^(not )?ok [0-9]+ -? *//; s/ *#.*//; s/ /_/g')
		echo "$r $c"
	done >/tmp/selftest.$$.cases
	while read -r r c; do
		if [ "$r" = FAIL ]; then
			result "$name:$c" "$r" "$(fail_reason "$log" "$c")"
		else
			result "$name:$c" "$r"
		fi
	done </tmp/selftest.$$.cases
	if [ "$rc" = 124 ] || [ "$rc" = 143 ]; then
		result "$name" FAIL "timeout after ${to}s"
	elif [ "$ncase" = 0 ]; then
		if [ "$rc" = 4 ]; then
			result "$name" SKIP "no TAP output, exit 4"
		else
			result "$name" FAIL "no TAP output, exit $rc"
		fi
	elif [ "$rc" != 0 ] && [ "$rc" != 4 ] && ! grep -q '^not ok' /tmp/selftest.$$.cases 2>/dev/null &&
		! grep -q '^FAIL' /tmp/selftest.$$.cases; then
		result "$name" FAIL "exit $rc without a failing case"
	fi
	rm -f "$log" /tmp/selftest.$$.cases
}

t_selftests() {
	if [ ! -d /opt/pe/selftests ]; then
		result selftests FAIL "no selftests in this initramfs"
		return
	fi
	found=0
	for d in /opt/pe/selftests/*/; do
		suite=$(basename "$d")
		# .pe-tests (from selftests-build.sh) names the suite's tests;
		# other executables there are tools (e.g. benchmarks).
		if [ -f "$d.pe-tests" ]; then
			bins=$(sed "s|^|$d|" "$d.pe-tests")
		else
			bins=$(ls -d "$d"*)
		fi
		for bin in $bins; do
			if [ ! -f "$bin" ] || [ ! -x "$bin" ]; then
				continue
			fi
			found=1
			run_selftest "$suite" "$bin"
		done
	done
	[ "$found" = 1 ] || result selftests FAIL "no selftest binaries found"
}
