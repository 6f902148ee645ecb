#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Module lifecycle: autoload through the xfrm-iptfs alias when the first
# mode-iptfs SA is made, pinned while SAs exist, clean unload, and the
# guard against the in-tree xfrm_iptfs module (where the kernel has it).
. "$(dirname "$0")/lib.sh"

loaded() { [ -d /sys/module/xfrm_xtfs ]; }

tap_plan
modprobe -q esp4; modprobe -q esp6; modprobe -q xfrm_user
# SAs of an earlier suite are freed by the xfrm garbage collector, those
# of its deleted namespaces by the namespace cleanup work: allow them up
# to a minute (a busy emulated guest) before the module can go.
modprobe -r xtfs_test 2>/dev/null
for _ in $(seq 300); do
	loaded || break
	modprobe -r xfrm_xtfs 2>/dev/null
	sleep 0.2
done
setup_ns || { diag "namespace setup failed"; exit $KSFT_FAIL; }

! loaded
ok $? "xfrm_xtfs not loaded before any IP-TFS SA exists"

sa_pair && loaded
ok $? "first mode-iptfs SA autoloads xfrm_xtfs (alias xfrm-iptfs)"

! modprobe -r xfrm_xtfs 2>/dev/null && loaded
ok $? "module cannot be removed while SAs use it"

sa_flush
# SAs are freed by the xfrm garbage collector: allow it a moment.
for _ in $(seq 50); do
	modprobe -r xfrm_xtfs 2>/dev/null && break
	sleep 0.2
done
! loaded
ok $? "module unloads once its SAs are gone"

# The in-tree module by file: modprobe's configuration sends its name to xtfs.
intree=$(find /lib/modules/"$(uname -r)"/kernel -name 'xfrm_iptfs.ko*' 2>/dev/null | head -n1)
if [ -n "$intree" ]; then
	insmod "$intree"
	out=$(modprobe xfrm_xtfs 2>&1)
	rc=$?
	[ $rc -ne 0 ] && ! loaded && dmesg | tail -n 5 | grep -q "in-tree xfrm_iptfs module serves IP-TFS"
	ok $? "refuses to load while in-tree xfrm_iptfs holds the mode ($out)"
	# The guard does not depend on the loader's view of /sys (a
	# container or chroot without it).
	out=$(unshare -m sh -c 'mount -t tmpfs none /sys && modprobe xfrm_xtfs' 2>&1)
	rc=$?
	[ $rc -ne 0 ] && ! loaded
	ok $? "refuses as well when loaded from a mount namespace without /sys ($out)"
	rmmod xfrm_iptfs
	modprobe xfrm_xtfs && ! insmod "$intree" 2>/dev/null &&
		! [ -d /sys/module/xfrm_iptfs ] && loaded
	ok $? "in-tree xfrm_iptfs cannot load while xtfs holds the mode"
	modprobe -r xfrm_xtfs
else
	skip "refuses to load while in-tree xfrm_iptfs holds the mode" \
		"kernel has no xfrm_iptfs module"
	skip "refuses as well when loaded from a mount namespace without /sys" \
		"kernel has no xfrm_iptfs module"
	skip "in-tree xfrm_iptfs cannot load while xtfs holds the mode" \
		"kernel has no xfrm_iptfs module"
fi

tap_done
