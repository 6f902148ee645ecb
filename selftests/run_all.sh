#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Run the xtfs selftests in the guest, one TAP stream each, framed by
# "=== suite NAME" lines for tools/testbed/check.sh to count. Suites may
# be named as arguments; the default is every suite that needs one guest.
# "--half 1" or "--half 2" runs half of the default suites, so that one
# kernel's suites can run in two guests at once (check.sh does that for
# the debug kernel): half 1 is HALF1, half 2 every other default suite.
# xtfs_interop needs the peer guest of `tools/testbed/vm-run.sh --peer`
# and runs in a boot of its own (`run_all.sh xtfs_interop`): the peer,
# an emulated debug kernel, would otherwise take CPU time from every
# other suite.
dir=$(cd "$(dirname "$0")" && pwd)
# xtfs_deb installs and removes packages and modules, only on a root of
# its own (vm-run.sh --deb): last, so that whatever it may leave behind
# meets no other suite (it puts the guest back as it was). Where vm-run.sh
# --deb installed the packages before boot (XTFS_DEB_INSTALLED=1) it runs
# first instead, whichever suites are named: the other suites need the
# testbed's build it sets aside until its end.
ALL="xtfs_kunit xtfs_module xtfs_negative xtfs_tunnel xtfs_counters
	xtfs_output xtfs_families xtfs_netem xtfs_tcp xtfs_iiv xtfs_smp
	xtfs_security xtfs_churn xtfs_userns xtfs_failslab xtfs_fuzz xtfs_wire
	xtfs_diet xtfs_ynl xtfs_deb"
# About half of the suites' time on the debug kernel (measured, 1,812 s
# and 1,921 s before xtfs_diet came to half 2): the longest suite, the
# short ones, the churn, the allocation failures, the output and family
# suites (560 s together) to make room for xtfs_diet.
HALF1="xtfs_kunit xtfs_module xtfs_negative xtfs_tunnel xtfs_iiv xtfs_smp
	xtfs_churn xtfs_userns xtfs_failslab xtfs_output xtfs_families"
if [ "${1:-}" = --half ]; then
	suites=""
	for s in $ALL; do
		case " $(echo $HALF1) " in
		*" $s "*) [ "$2" = 1 ] && suites="$suites $s" ;;
		*) [ "$2" = 2 ] && suites="$suites $s" ;;
		esac
	done
	[ -n "$suites" ] || { echo "run_all.sh: --half 1 or 2" >&2; exit 2; }
else
	suites=${*:-$ALL}
fi
if [ "${XTFS_DEB_INSTALLED:-}" = 1 ]; then
	rest=""
	for s in $suites; do
		[ "$s" = xtfs_deb ] || rest="$rest $s"
	done
	suites="xtfs_deb$rest"
fi
rc=0
for s in $suites; do
	echo "=== suite $s"
	t0=$(date +%s)
	timeout 1800 "$dir/$s.sh"
	r=$?
	echo "=== end $s rc=$r ($(($(date +%s) - t0)) s)"
	[ $r -eq 0 ] || [ $r -eq 4 ] || rc=1
done
exit $rc
