#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# guest-run.sh - run inside the testbed guest: execute the command, then
# save its status, the kernel log and a kmemleak report to $XTFS_RUNDIR for
# vm-run.sh to check on the host.
out=${XTFS_RUNDIR:?}
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
mountpoint -q /sys/kernel/debug || mount -t debugfs none /sys/kernel/debug
# The root is the host's rootfs over 9p/virtiofs: give each guest its own
# /tmp in memory (iperf3 cannot make its buffer file on the shared one:
# "unable to create a new stream").
mountpoint -q /tmp || mount -t tmpfs -o size=512m tmpfs /tmp
echo "kernel $(uname -r)"
# kmemleak's periodic scan walks all memory every ten minutes, which under
# TCG costs a minute of the only CPU time the tests have; the explicit scans
# at the end are the ones that count.
[ -w /sys/kernel/debug/kmemleak ] && echo scan=off >/sys/kernel/debug/kmemleak

"$@"
echo $? >"$out/rc"

# A peer guest (vm-run.sh --peer) serves until told to stop.
if [ "${XTFS_PEER:-}" = 1 ]; then
	. /xtfs/selftests/interop_lib.sh
	python3 /xtfs/selftests/interop_ctl.py call $IOP_OPEER $IOP_CTL_PORT 5 exit \
		>/dev/null 2>&1
fi

# Let deferred work (RCU callbacks, timers, skb frees) finish, then ask
# kmemleak twice: it only reports objects unreferenced across two scans.
if [ -w /sys/kernel/debug/kmemleak ]; then
	modprobe -r xtfs_test 2>/dev/null
	modprobe -r xfrm_xtfs 2>/dev/null
	sleep 2
	echo scan >/sys/kernel/debug/kmemleak
	sleep 6
	echo scan >/sys/kernel/debug/kmemleak
	cat /sys/kernel/debug/kmemleak >"$out/kmemleak.txt"
fi
dmesg >"$out/dmesg.txt"
# The root may cache writes (vm-lib.sh boot_vm): put them on the host.
sync
