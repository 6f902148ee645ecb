#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Run the xtfs selftests in the guest, one TAP stream each, framed by
# "=== suite NAME" lines for tools/testbed/check.sh to count. Suites may
# be named as arguments; the default is every suite that needs one guest.
# xtfs_interop needs the peer guest of `tools/testbed/vm-run.sh --peer`
# and runs in a boot of its own (`run_all.sh xtfs_interop`): the peer,
# an emulated debug kernel, would otherwise take CPU time from every
# other suite.
dir=$(cd "$(dirname "$0")" && pwd)
suites=${*:-"xtfs_kunit xtfs_module xtfs_negative xtfs_tunnel xtfs_counters
	xtfs_output xtfs_families xtfs_netem xtfs_tcp xtfs_iiv xtfs_smp"}
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
