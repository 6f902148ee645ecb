#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Run the xtfs selftests in the guest, one TAP stream each, framed by
# "=== suite NAME" lines for tools/testbed/check.sh to count. Suites may
# be named as arguments; the default is every suite that needs one guest.
# "--part 1", "--part 2" or "--part 3" runs a share of the default
# suites, so that one kernel's suites can run in three guests at once
# (check.sh does that for the debug kernel): part 1 is PART1, part 2
# PART2, part 3 every other default suite (a new suite lands there).
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
ALL="xtfs_kunit xtfs_module xtfs_negative xtfs_cli xtfs_tunnel xtfs_counters
	xtfs_output xtfs_families xtfs_netem xtfs_tcp xtfs_iiv xtfs_smp
	xtfs_security xtfs_churn xtfs_userns xtfs_failslab xtfs_fuzz xtfs_wire
	xtfs_diet xtfs_iipc xtfs_ynl xtfs_wireshark xtfs_rate xtfs_cc xtfs_bench
	xtfs_swan xtfs_deb"
# The shares of the debug kernel's suites, by their seconds on that
# kernel in a full check (three guests on two cores; xtfs_iiv and
# xtfs_diet estimated after they stopped forking for every key octet):
# parts 1 and 2 (about 1,500 and 1,600 s) run beside the stock kernel's
# suites once the interop runs are done, part 3 (543 s: netem, tcp,
# security, deb) in the stock job's slot once its suites are done (see
# tools/testbed/check.sh). xtfs_iipc (about 450 s there with its debug
# counts, estimated) went to part 1, xtfs_wireshark (not yet measured
# there) to part 2, so that part 3 still ends with the stock job.
# xtfs_cli (39 to 121 s on the stock kernel, not yet measured on the
# debug one) went to part 1, the shorter.
# xtfs_swan (strongSwan) is in part 3: it ended about 120 s before parts
# 1 and 2 in the last warm run, and xtfs_swan takes minutes on the debug
# kernel.
# In the full run of December 7 (beside other work) parts 1 and 2 took
# about 3,600 s each from the 16th minute, part 3 about 1,300 s from the
# 40th (when the stock job ended): xtfs_churn (380 s there) went from
# part 1 to part 3, which new suites also join.
PART1="xtfs_output xtfs_families xtfs_iiv xtfs_failslab xtfs_iipc
	xtfs_cli"
PART2="xtfs_kunit xtfs_module xtfs_negative xtfs_tunnel xtfs_counters
	xtfs_smp xtfs_userns xtfs_fuzz xtfs_wire xtfs_diet xtfs_ynl
	xtfs_wireshark"
# The parts of suites that need no kernel of their own (`SUITE.sh
# --offline`), run by `run_all.sh --offline` in the testbed's root on the
# host (check.sh): under emulation their userspace work only costs time.
OFFLINE="xtfs_wireshark"
if [ "${1:-}" = --offline ]; then
	rc=0
	for s in $OFFLINE; do
		echo "=== suite $s --offline"
		t0=$(date +%s)
		timeout 600 "$dir/$s.sh" --offline
		r=$?
		echo "=== end $s --offline rc=$r ($(($(date +%s) - t0)) s)"
		[ $r -eq 0 ] || [ $r -eq 4 ] || rc=1
	done
	exit $rc
fi
if [ "${1:-}" = --part ]; then
	suites=""
	for s in $ALL; do
		case " $(echo $PART1) | $(echo $PART2) " in
		*" $s "*"|"*) p=1 ;;
		*"|"*" $s "*) p=2 ;;
		*) p=3 ;;
		esac
		[ "$p" = "${2:-}" ] && suites="$suites $s"
	done
	[ -n "$suites" ] || { echo "run_all.sh: --part 1, 2 or 3" >&2; exit 2; }
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
