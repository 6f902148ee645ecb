# SPDX-License-Identifier: GPL-2.0
# Shared by both guests of the interop test (tools/testbed/vm-run.sh --peer).
# The peer guest runs the in-tree xfrm_iptfs, the xtfs guest runs xtfs;
# they are linked by one virtio NIC each. Source, do not execute.
#
# Outer (ESP) addresses sit on the link, inner addresses on lo:
#   peer: outer 192.0.2.1, inner 198.51.100.1, SPI 0x100 out / 0x200 in
#   xtfs: outer 192.0.2.2, inner 198.51.100.2, SPI 0x200 out / 0x100 in

IOP_PEER_MAC=52:54:00:78:74:01	# PEER_MAC in tools/testbed/vm-lib.sh
IOP_XTFS_MAC=52:54:00:78:74:02	# MAIN_MAC there
IOP_OPEER=192.0.2.1
IOP_OXTFS=192.0.2.2
IOP_IPEER=198.51.100.1
IOP_IXTFS=198.51.100.2
IOP_CTL_PORT=7007
IOP_KEY_PX=0x0102030405060708090a0b0c0d0e0f1011121314
IOP_KEY_XP=0x1112131415161718191a1b1c1d1e1f2021222324
IOP_AEAD="rfc4106(gcm(aes))"

# iop_nic - name of this guest's link NIC (found by its MAC address).
iop_nic() {
	local mac=$IOP_XTFS_MAC
	[ "${XTFS_ROLE:-}" = peer ] && mac=$IOP_PEER_MAC
	ip -o link | awk -v m="$mac" '$0 ~ m { sub(":", "", $2); print $2; exit }'
}

# iop_link_setup - addresses and routes of this guest (by XTFS_ROLE).
iop_link_setup() {
	local nic me inner peer_inner
	nic=$(iop_nic)
	[ -n "$nic" ] || { echo "no link NIC found"; return 1; }
	if [ "${XTFS_ROLE:-}" = peer ]; then
		me=$IOP_OPEER inner=$IOP_IPEER peer_inner=$IOP_IXTFS
	else
		me=$IOP_OXTFS inner=$IOP_IXTFS peer_inner=$IOP_IPEER
	fi
	sysctl -q -w net.core.rmem_max=16777216
	sysctl -q -w net.ipv4.conf.all.rp_filter=0
	ip link set lo up
	ip link set "$nic" up
	ip addr add "$me/24" dev "$nic"
	ip addr add "$inner/32" dev lo
	ip route add "$peer_inner/32" dev "$nic" src "$inner"
}

# iop_sa_setup OUT-OPTIONS IN-OPTIONS - this guest's IP-TFS SA pair and
# policies, made with the xtfs helper (plain xfrm netlink, so it serves
# the in-tree module as well). Options are single words split on spaces.
iop_sa_setup() {
	local outo=$1 ino=$2 me peer inner pinner ospi ispi okey ikey
	if [ "${XTFS_ROLE:-}" = peer ]; then
		me=$IOP_OPEER peer=$IOP_OXTFS inner=$IOP_IPEER pinner=$IOP_IXTFS
		ospi=0x100 ispi=0x200 okey=$IOP_KEY_PX ikey=$IOP_KEY_XP
	else
		me=$IOP_OXTFS peer=$IOP_OPEER inner=$IOP_IXTFS pinner=$IOP_IPEER
		ospi=0x200 ispi=0x100 okey=$IOP_KEY_XP ikey=$IOP_KEY_PX
	fi
	xtfs state flush && xtfs policy flush || return 1
	# shellcheck disable=SC2086 # option lists are split on purpose
	xtfs state add src $me dst $peer proto esp spi $ospi reqid 1 dir out \
		mode iptfs aead "$IOP_AEAD" $okey 128 $outo || return 1
	# shellcheck disable=SC2086
	xtfs state add src $peer dst $me proto esp spi $ispi reqid 1 dir in \
		mode iptfs aead "$IOP_AEAD" $ikey 128 $ino || return 1
	xtfs policy add src $inner/32 dst $pinner/32 dir out \
		tmpl src $me dst $peer proto esp reqid 1 mode iptfs || return 1
	xtfs policy add src $pinner/32 dst $inner/32 dir in \
		tmpl src $peer dst $me proto esp reqid 1 mode iptfs
}

# iop_netem SPEC... - netem on this guest's link egress ("off" removes it).
iop_netem() {
	local nic
	nic=$(iop_nic)
	tc qdisc del dev "$nic" root 2>/dev/null
	[ "$1" = off ] && return 0
	tc qdisc add dev "$nic" root netem "$@"
}
