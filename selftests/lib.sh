# SPDX-License-Identifier: GPL-2.0
# Shared helpers for the xtfs selftests (kselftest TAP output).
#
# Topology: namespaces A and B joined by veth. Outer (ESP) addresses are
# 192.0.2.1 and 192.0.2.2, inner addresses 198.51.100.1 and .2 (IPv4
# documentation ranges; nothing leaves the guest).

KSFT_PASS=0
KSFT_FAIL=1
KSFT_SKIP=4

A=xtfs-a
B=xtfs-b
OA=192.0.2.1
OB=192.0.2.2
IA=198.51.100.1
IB=198.51.100.2
KEY_AB=0x0102030405060708090a0b0c0d0e0f1011121314
KEY_BA=0x1112131415161718191a1b1c1d1e1f2021222324
AEAD="rfc4106(gcm(aes))"
SELFTEST_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TMP=$(mktemp -d /tmp/xtfs-test.XXXXXX)

_ntests=0
_nfail=0
_nskip=0

# tap_plan N - print the TAP header.
tap_plan() {
	echo "TAP version 13"
	echo "1..$1"
}

# ok COND_STATUS DESC - report one test from the status of the last check.
ok() {
	_ntests=$((_ntests + 1))
	if [ "$1" = 0 ]; then
		echo "ok $_ntests - $2"
	else
		_nfail=$((_nfail + 1))
		echo "not ok $_ntests - $2"
	fi
}

# skip DESC REASON - report a skipped test.
skip() {
	_ntests=$((_ntests + 1))
	_nskip=$((_nskip + 1))
	echo "ok $_ntests - $1 # SKIP $2"
}

# diag MSG - TAP diagnostic line.
diag() {
	echo "# $*"
}

# tap_done - exit with the kselftest status.
tap_done() {
	cleanup_ns
	rm -rf "$TMP"
	[ "$_nfail" -eq 0 ] || exit $KSFT_FAIL
	exit $KSFT_PASS
}

cleanup_ns() {
	ip netns del $A 2>/dev/null
	ip netns del $B 2>/dev/null
	return 0
}

# setup_ns - two namespaces over veth, inner addresses routed over it.
setup_ns() {
	cleanup_ns
	# The UDP receivers ask for a 4 MiB buffer: a slow (emulated) reader
	# must not turn a burst into socket-buffer drops.
	sysctl -q -w net.core.rmem_max=16777216
	ip netns add $A && ip netns add $B || return 1
	ip link add veth-a netns $A type veth peer name veth-b netns $B || return 1
	ip -n $A addr add $OA/24 dev veth-a
	ip -n $B addr add $OB/24 dev veth-b
	ip -n $A addr add $IA/32 dev lo
	ip -n $B addr add $IB/32 dev lo
	ip -n $A link set lo up
	ip -n $B link set lo up
	ip -n $A link set veth-a up
	ip -n $B link set veth-b up
	ip -n $A route add $IB/32 dev veth-a src $IA
	ip -n $B route add $IA/32 dev veth-b src $IB
}

# sa_pair [OUT-OPTIONS...] - IP-TFS SA pair and policies between A and B.
# OUT-OPTIONS go to both outbound SAs (pkt-size, init-delay, dont-frag...).
sa_pair() {
	local ns src dst spi key dir
	for ns in $A $B; do
		for spi in 0x100 0x200; do
			if [ $spi = 0x100 ]; then
				src=$OA dst=$OB key=$KEY_AB
			else
				src=$OB dst=$OA key=$KEY_BA
			fi
			if { [ $ns = $A ] && [ $spi = 0x100 ]; } ||
			   { [ $ns = $B ] && [ $spi = 0x200 ]; }; then
				dir=out
				ip netns exec $ns xtfs state add src $src dst $dst \
					proto esp spi $spi reqid 1 dir out mode iptfs \
					aead "$AEAD" $key 128 "$@" || return 1
			else
				dir=in
				ip netns exec $ns xtfs state add src $src dst $dst \
					proto esp spi $spi reqid 1 dir in mode iptfs \
					aead "$AEAD" $key 128 || return 1
			fi
		done
	done
	ip netns exec $A xtfs policy add src $IA/32 dst $IB/32 dir out \
		tmpl src $OA dst $OB proto esp reqid 1 mode iptfs || return 1
	ip netns exec $A xtfs policy add src $IB/32 dst $IA/32 dir in \
		tmpl src $OB dst $OA proto esp reqid 1 mode iptfs || return 1
	ip netns exec $B xtfs policy add src $IB/32 dst $IA/32 dir out \
		tmpl src $OB dst $OA proto esp reqid 1 mode iptfs || return 1
	ip netns exec $B xtfs policy add src $IA/32 dst $IB/32 dir in \
		tmpl src $OA dst $OB proto esp reqid 1 mode iptfs || return 1
}

# sa_flush - remove all SAs and policies in both namespaces.
sa_flush() {
	local ns
	for ns in $A $B; do
		ip netns exec $ns xtfs state flush
		ip netns exec $ns xtfs policy flush
	done
}

# capture_start NS IFACE FILE - capture ESP packets in the background.
capture_start() {
	ip netns exec "$1" tcpdump -i "$2" -U -s 128 -w "$3" esp \
		>"$3.log" 2>&1 &
	_cap_pid=$!
	_cap_file=$3
	# tcpdump says "listening on" once the capture is open; its first
	# start in a fresh guest can take many seconds under emulation.
	for _ in $(seq 600); do
		grep -q listening "$3.log" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# capture_stop - stop the capture once tcpdump has written what it got.
# Under emulation tcpdump can lag the kernel by seconds, and an interrupt
# loses what it has not read yet: wait until the file stops growing.
capture_stop() {
	local last=-1 cur stable=0
	for _ in $(seq 60); do
		sleep 0.5
		cur=$(stat -c %s "$_cap_file" 2>/dev/null || echo 0)
		if [ "$cur" = "$last" ]; then
			stable=$((stable + 1))
			[ $stable -ge 3 ] && break
		else
			stable=0
		fi
		last=$cur
	done
	kill -INT "$_cap_pid" 2>/dev/null
	wait "$_cap_pid" 2>/dev/null
}

# udp_rcvbuf_errors NS - UDP datagrams dropped for a full socket buffer.
udp_rcvbuf_errors() {
	ip netns exec "$1" awk '/^Udp:/ { if (!h) { for (i = 1; i <= NF; i++) c[$i] = i; h = 1 }
		else print $c["RcvbufErrors"] }' /proc/net/snmp
}

# pcap_esp_sizes FILE - print the IP total length of each ESP packet.
pcap_esp_sizes() {
	python3 "$SELFTEST_DIR/pcap_esp.py" sizes "$1"
}

# xtfs_counter NS DIR NAME - print counter NAME (a key of the "stats"
# object of "xtfs -j stats", e.g. inner_in_pkts) of the one xtfs SA of
# direction DIR (in or out) in namespace NS. Prints nothing and fails
# unless exactly one such SA has that counter.
xtfs_counter() {
	ip netns exec "$1" xtfs -j stats | python3 -c '
import json, sys
d, name = sys.argv[1], sys.argv[2]
sas = [s for s in json.load(sys.stdin) if s.get("dir") == d]
if len(sas) != 1 or name not in sas[0]["stats"]:
    sys.exit("xtfs_counter: %d xtfs SAs of dir %s, counter %s" % (len(sas), d, name))
print(sas[0]["stats"][name])' "$2" "$3"
}
