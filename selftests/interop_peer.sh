#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Peer guest of the interop test: load the in-tree xfrm_iptfs, bring up
# the link, then run the commands the xtfs guest sends until it says
# "exit" (selftests/xtfs_interop.sh drives the test; tools/testbed/
# guest-run.sh stops the server when the xtfs guest is done).
dir=$(cd "$(dirname "$0")" && pwd)
export XTFS_ROLE=peer
. "$dir/interop_lib.sh"

# Without the testbed's modprobe configuration: it blacklists xfrm_iptfs
# and aliases xfrm-iptfs (which modprobe does not tell from xfrm_iptfs)
# to xtfs.
modprobe -C /dev/null xfrm_iptfs ||
	insmod "/lib/modules/$(uname -r)/kernel/net/xfrm/xfrm_iptfs.ko" ||
	{ echo "cannot load the in-tree xfrm_iptfs"; exit 1; }
iop_link_setup || exit 1
python3 "$dir/interop_ctl.py" serve $IOP_OPEER $IOP_CTL_PORT 3000
