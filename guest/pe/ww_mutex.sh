# shellcheck shell=sh
# SPDX-License-Identifier: GPL-2.0
#
# /opt/pe/ww_mutex.sh: the "ww_mutex" guest test (busybox sh).  Sourced by
# /init, whose result() and have_module() it uses: loads test-ww_mutex and
# judges its verdict.

# Defaults of the command line words it reads (see guest/PROTOCOL).
: "${pe_timeout:=300}"

t_ww_mutex() {
	if ! have_module test-ww_mutex; then
		result ww_mutex FAIL "test-ww_mutex.ko not installed"
		return
	fi
	dmesg -c >/dev/null
	echo "PE-BEGIN: ww_mutex"
	rc=0
	timeout "$pe_timeout" modprobe test-ww_mutex || rc=$?
	if [ "$rc" = 0 ] && dmesg | grep -q 'All ww mutex selftests passed'; then
		result ww_mutex PASS "All ww mutex selftests passed"
		modprobe -r test-ww_mutex
	else
		result ww_mutex FAIL "insmod exit $rc; $(dmesg | grep -i 'ww\|deadlock' | tail -n 1)"
	fi
}
