#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# guest-run.sh - run inside the testbed guest: execute the command, then
# save its status, the kernel log and a kmemleak report to $XTFS_RUNDIR for
# vm-run.sh to check on the host.
out=${XTFS_RUNDIR:?}
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

# The stock kernel's root is mounted by virtme's initramfs without a page
# cache (9p cache=none): under TCG python3 then takes 5 s to start and
# scapy a minute. vm-lib.sh exports the same root a second time under
# the tag "xtfsroot": mount that one with caching and run everything
# from it, with the guest's own mounts (/proc, /sys, /dev, /run, the
# tmpfs) bound into it. Writes reach the host through the sync at the end.
reroot=/mnt
if [ -z "${XTFS_REROOTED:-}" ] &&
   grep -qsx xtfsroot /sys/bus/virtio/drivers/9pnet_virtio/*/mount_tag; then
	mount -t 9p -o trans=virtio,version=9p2000.L,access=any,cache=loose,msize=512000 \
		xtfsroot $reroot || exit 1
	bound=""
	while read -r _ mp _; do
		case $mp in
		/ | $reroot | $reroot/*) continue ;;
		esac
		# Children come with their parent's recursive bind.
		for b in $bound; do
			case $mp in "$b"/*) continue 2 ;; esac
		done
		mount --rbind "$mp" "$reroot$mp" && bound="$bound $mp"
	done </proc/self/mounts
	exec chroot $reroot /usr/bin/env XTFS_REROOTED=1 "$0" "$@"
fi
mountpoint -q /sys/kernel/debug || mount -t debugfs none /sys/kernel/debug
# The root is the host's rootfs over 9p/virtiofs: give each guest its own
# /tmp in memory (iperf3 cannot make its buffer file on the shared one:
# "unable to create a new stream").
mountpoint -q /tmp || mount -t tmpfs -o size=512m tmpfs /tmp
echo "kernel $(uname -r)"
echo "cpus: $(nproc)"
echo "boot: $(cut -d' ' -f1 /proc/uptime) s"
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
