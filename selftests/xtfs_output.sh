#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# IP-TFS send path: outer packets are full under sustained load (fill
# ratio measured on a null-cipher capture), the queue marks ECN-capable
# packets CE above 95 % of max-queue-size and drops at the limit, dont-frag
# reports the right inner MTU and follows a path MTU change, and IPv4
# without DF is IP fragmented; TCP (local, and forwarded GSO batches)
# delivers every byte.
#
# A third namespace C (203.0.113.2) sits behind A (router, 203.0.113.1):
# its traffic to B is forwarded by A into the tunnel.
. "$(dirname "$0")/lib.sh"

C=xtfs-c-$XTFS_NS_ID
CA=203.0.113.1
CC=203.0.113.2

tap_plan

cleanup_c() {
	ip netns del $C 2>/dev/null
	return 0
}

# setup_c - namespace C behind A; A forwards C's traffic into the tunnel.
setup_c() {
	cleanup_c
	ip netns add $C || return 1
	ip link add veth-ac netns $A type veth peer name veth-c netns $C ||
		return 1
	# A larger MTU between C and A: C's packets reach the tunnel whole.
	ip -n $A link set veth-ac mtu 4000 up
	ip -n $C link set veth-c mtu 4000 up
	ip -n $C link set lo up
	ip -n $A addr add $CA/24 dev veth-ac
	ip -n $C addr add $CC/24 dev veth-c
	ip -n $C route add default via $CA
	ip -n $B route add $CC/32 dev veth-b src $IB
	ip netns exec $A sysctl -q -w net.ipv4.ip_forward=1
}

# c_policies - C <-> B through the A-B SAs (reqid 1); A forwards.
c_policies() {
	ip netns exec $A xtfs policy add src $CC/32 dst $IB/32 dir out \
		tmpl src $OA dst $OB proto esp reqid 1 mode iptfs || return 1
	ip netns exec $A xtfs policy add src $IB/32 dst $CC/32 dir fwd \
		tmpl src $OB dst $OA proto esp reqid 1 mode iptfs || return 1
	ip netns exec $B xtfs policy add src $IB/32 dst $CC/32 dir out \
		tmpl src $OB dst $OA proto esp reqid 1 mode iptfs || return 1
	ip netns exec $B xtfs policy add src $CC/32 dst $IB/32 dir in \
		tmpl src $OA dst $OB proto esp reqid 1 mode iptfs || return 1
}

# sa_pair_null [OUT-OPTIONS...] - like sa_pair, with ESP null encryption
# and no authentication, so that a capture shows the AGGFRAG payloads.
sa_pair_null() {
	local ns spi src dst
	for ns in $A $B; do
		for spi in 0x100 0x200; do
			if [ $spi = 0x100 ]; then src=$OA dst=$OB; else src=$OB dst=$OA; fi
			if { [ $ns = $A ] && [ $spi = 0x100 ]; } ||
			   { [ $ns = $B ] && [ $spi = 0x200 ]; }; then
				ip netns exec $ns xtfs state add src $src dst $dst \
					proto esp spi $spi reqid 1 dir out mode iptfs \
					enc "ecb(cipher_null)" "" "$@" || return 1
			else
				ip netns exec $ns xtfs state add src $src dst $dst \
					proto esp spi $spi reqid 1 dir in mode iptfs \
					enc "ecb(cipher_null)" "" || return 1
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

# iperf_tcp NS SRC BYTES - TCP transfer of BYTES to B's iperf3 server;
# prints "SENT RECEIVED" octets from iperf3's JSON report.
iperf_tcp() {
	# iperf3 makes its buffer file in TMPDIR, which must exist here.
	ip netns exec $B env TMPDIR="$TMP" iperf3 -s -1 -B $IB \
		>"$TMP/iperf-s.log" 2>&1 &
	local spid=$!
	sleep 1
	ip netns exec "$1" env TMPDIR="$TMP" timeout 120 iperf3 -c $IB -B "$2" -n "$3" -J \
		>"$TMP/iperf.json" 2>"$TMP/iperf.err"
	wait $spid
	py -c '
import json, sys
j = json.load(open(sys.argv[1]))
e = j.get("end", {})
print(e.get("sum_sent", {}).get("bytes", -1),
      e.get("sum_received", {}).get("bytes", -1))' "$TMP/iperf.json" 2>/dev/null ||
		echo "-1 -1"
}

at_exit cleanup_c

setup_ns || { diag "namespace setup failed"; exit $KSFT_FAIL; }
setup_c || { diag "namespace C setup failed"; exit $KSFT_FAIL; }

# 1-4: fill ratio under sustained load, null cipher so the capture shows
# the data blocks. A padded outer packet leaves only when the init delay
# of the packet at the queue head expires and the queue is emptied; the
# delay restarts with the next packet queued, so expiries are at least
# one delay apart and the last comes one delay after the last send: over
# a sender run of T seconds at most 3 + T / delay outer packets (one more
# for timer slack) may carry a pad block. Besides those, the sender's
# policy (Documentation/xtfs.rst, "Send path") pads an outer packet when
# a large packet (over half the space, at most all of it) that did not
# fit in less than a sixteenth of the space starts the next one whole:
# such a packet is counted apart, and its pad and its successor checked.
N=3000
DELAY_US=500000
if sa_pair_null pkt-size 1400 init-delay $DELAY_US 2>"$TMP/null.err"; then
	ok 0 "null-cipher IP-TFS SA pair (pkt-size 1400, init-delay $DELAY_US)"
	capture_start $B veth-b "$TMP/fill.pcap" 2000 || diag "capture did not start"
	udp_recv_start $B 5001 $N 30 "$TMP/recv.sums"
	rpid=$udp_rpid
	read -r sent secs < <(py -n $A "$SELFTEST_DIR/pcap_esp.py" \
		udp-mix $IB 5001 $N 12 1372 11 "$TMP/sent.sums")
	wait $rpid
	capture_stop
	sort "$TMP/sent.sums" >"$TMP/a"
	sort "$TMP/recv.sums" >"$TMP/b"
	nrecv=$(wc -l <"$TMP/recv.sums")
	lost=$(comm -23 "$TMP/a" "$TMP/b" | wc -l)
	extra=$(comm -13 "$TMP/a" "$TMP/b" | wc -l)
	rcvbuf=$(udp_rcvbuf_errors $B)
	diag "mixed UDP: $nrecv of $N received, RcvbufErrors $rcvbuf, sender ${secs}s"
	diag "veth-b $(ip -n $B -s link show veth-b | awk '/RX:/ { getline; print "rx dropped " $4 }')"
	# Datagrams the receiving socket overflowed on are not the tunnel's.
	[ "$extra" -eq 0 ] && [ "$lost" -le "$rcvbuf" ]
	ok $? "mixed UDP 40..1400 octets: $nrecv of $N delivered intact ($lost missing, $rcvbuf socket overflows)"
	py "$SELFTEST_DIR/pcap_esp.py" aggfrag "$TMP/fill.pcap" >"$TMP/fill" ||
		diag "aggfrag decode failed"
	read -r nout cap data npad padb ndefer < <(awk '{ n++; c += $1; d += $2;
		cp[n] = $1; pd[n] = $3; ld[n] = $4 }
		END {
			for (i = 1; i <= n; i++) {
				if (!pd[i])
					continue
				if (i < n && pd[i] * 16 < cp[i] && ld[i + 1] * 2 > cp[i] &&
				    ld[i + 1] <= cp[i] && ld[i + 1] > pd[i])
					f++
				else {
					p++
					pb += pd[i]
				}
			}
			print n + 0, c + 0, d + 0, p + 0, pb + 0, f + 0
		}' "$TMP/fill")
	kdrop=$(sed -n 's/^\([0-9]*\) packets dropped by kernel.*/\1/p' "$TMP/fill.pcap.log")
	diag "outer: $nout packets, capacity $cap, inner data $data, $npad padded ($padb pad octets) and $ndefer before a large packet; inner sent $sent; capture drops ${kdrop:-?}"
	diag "fill ratio $(awk -v d="$data" -v c="$cap" 'BEGIN { if (c) printf "%.4f", d / c; else print "n/a" }')"
	if [ "${kdrop:-x}" = 0 ]; then
		[ "$data" -eq "$sent" ]
		ok $? "capture carries exactly the inner octets sent ($data of $sent)"
	else
		skip "capture carries exactly the inner octets sent" "capture dropped ${kdrop:-?} packets"
	fi
	bound=$(awk -v t="$secs" -v d="$DELAY_US" 'BEGIN { printf "%d", 3 + t * 1e6 / d }')
	[ "$nout" -gt 0 ] && [ "$npad" -le "$bound" ]
	ok $? "padded outer packets $npad <= $bound (one per init-delay expiry; $ndefer more before a large packet)"
else
	diag "$(cat "$TMP/null.err")"
	for t in "null-cipher IP-TFS SA pair" "mixed UDP delivered" \
		 "capture carries the inner octets" "padded outer packets bounded"; do
		skip "$t" "no ecb(cipher_null) ESP in this kernel"
	done
fi

# 5-7: ECN. max-queue-size 1400 is below one outer packet's space (1442
# with pkt-size 0 over a 1500 MTU), so nothing leaves before the init
# delay and the burst meets the queue limit. 40-octet packets: the first
# 33 stay under the ECN threshold (1330), the 34th and 35th are queued
# above it (marked CE if ECN-capable), the rest are dropped.
ecn_burst() {
	udp_recv_start --tos $B 5002 40 8 "$TMP/tos" || return 1
	ecn_secs=$(py -n $A "$SELFTEST_DIR/pcap_esp.py" \
		udp-send-tos $IB 5002 40 12 "$1")
	wait $udp_rpid
	ecn_n=$(wc -l <"$TMP/tos")
	ecn_ce=$(grep -cx 3 "$TMP/tos")
	ecn_plain=$(grep -cx "$1" "$TMP/tos")
	ecn_marked=$(xtfs_counter $A out ecn_marked)
	ecn_full=$(xtfs_counter $A out drop_queue_full)
	diag "TOS $1 burst of 40 sent in ${ecn_secs}s: $ecn_n received, $ecn_ce CE, $ecn_plain unchanged; counters ecn_marked $ecn_marked drop_queue_full $ecn_full"
}
# ecn_case TOS CE DESC - on a fresh SA pair, a burst of 40 with TOS: 35
# queued, the last CE of them marked CE and counted, 5 counted drops. The
# burst must be sent within the init delay to fill the queue at all.
ecn_case() {
	sa_flush
	sa_pair max-queue-size 1400 init-delay 4000000
	ecn_burst "$1"
	if awk -v s="$ecn_secs" 'BEGIN { exit !(s < 3.5) }'; then
		[ "$ecn_n" = 35 ] && [ "$ecn_ce" = "$2" ] &&
			[ "$ecn_plain" = $((35 - $2)) ] &&
			[ "$ecn_marked" = "$2" ] && [ "$ecn_full" = 5 ]
		ok $? "$3"
	else
		skip "$3" "sender slower than the init delay"
	fi
}
ecn_case 2 2 "ECT(0) burst: 35 of 40 queued, the 2 above 95% of max-queue-size marked CE, 5 counted drops"
ecn_case 1 2 "ECT(1) burst: 35 of 40 queued, 2 marked CE, 5 counted drops"
ecn_case 0 0 "not-ECT burst: 35 of 40 queued up to the hard limit, none marked, 5 counted drops"

# 8-10: dont-frag: the inner MTU is the data block space of one outer
# packet. AES-GCM-128 over IPv4, pkt-size 1400: 1400 - 20 (IP) - 8 (ESP)
# - 8 (IV) - 16 (ICV) - 2 (pad length, next header) - 4 (AGGFRAG) = 1342.
sa_flush
sa_pair pkt-size 1400 dont-frag
c_policies || diag "C policies failed"
read -r res mtu < <(py -n $A "$SELFTEST_DIR/pcap_esp.py" \
	udp-mtu $IB 5003 2000)
[ "$res" = EMSGSIZE ] && [ "$mtu" = 1342 ]
ok $? "dont-frag: local DF datagram of 2028 octets refused ($res), socket path MTU ${mtu:-none} = 1342"
out=$(ip netns exec $C ping -c 1 -W 3 -M do -s 2000 $IB 2>&1)
diag "forwarded DF ping: $(echo "$out" | grep -i mtu | head -n 1)"
echo "$out" | grep -Eq "mtu ?= ?1342"
ok $? "dont-frag: forwarded DF ping gets ICMP fragmentation needed, mtu 1342"
out=$(ip netns exec $C ping -c 2 -i 0.5 -W 3 -M dont -s 3000 -p a5 $IB 2>&1)
echo "$out" | grep -q " 0% packet loss" && ! echo "$out" | grep -q "wrong data"
ok $? "dont-frag: forwarded 3028-octet IPv4 without DF is IP fragmented and delivered"
[ $? -eq 0 ] || diag "$(echo "$out" | tail -n 3 | tr '\n' ' ')"

# 11: the same for IPv6 inner packets (over the same IPv4 outer SA):
# IPV6_DONTFRAG datagram refused, ICMPv6 packet too big to the socket.
sa_flush
sa_families 4 6
sa_pair pkt-size 1400 dont-frag
read -r res mtu < <(py -n $A "$SELFTEST_DIR/pcap_esp.py" \
	udp-mtu $IB6 5004 2000)
out=$(ip netns exec $A ping -6 -c 1 -W 3 -M do -s 2000 $IB6 2>&1)
diag "local IPv6 ping of 2048 octets: $(echo "$out" | grep -iE "mtu|too" | head -n 1)"
[ "$res" = EMSGSIZE ] && [ "$mtu" = 1342 ]
ok $? "dont-frag: local IPv6 datagram of 2048 octets refused ($res), socket path MTU ${mtu:-none} = 1342"
sa_families 4 4

# 12-14: pkt-size 0 follows the outer path MTU, and its changes.
sa_flush
sa_pair dont-frag
ip -n $A route add $OB/32 dev veth-a mtu 1400
read -r res mtu < <(py -n $A "$SELFTEST_DIR/pcap_esp.py" \
	udp-mtu $IB 5003 2000)
[ "$res" = EMSGSIZE ] && [ "$mtu" = 1342 ]
ok $? "pkt-size 0, route MTU 1400: inner MTU ${mtu:-none} = 1342 ($res)"
ip -n $A route change $OB/32 dev veth-a mtu 1300
read -r res mtu < <(py -n $A "$SELFTEST_DIR/pcap_esp.py" \
	udp-mtu $IB 5003 2000)
[ "$res" = EMSGSIZE ] && [ "$mtu" = 1242 ]
ok $? "route MTU changed to 1300: inner MTU ${mtu:-none} = 1242 ($res)"
sa_flush
sa_pair
# The capture sees both directions: B's path to A gets the same MTU.
ip -n $B route add $OA/32 dev veth-b mtu 1300
capture_start $A veth-a "$TMP/pmtu.pcap" || diag "capture did not start"
out=$(ip netns exec $A ping -c 2 -i 0.5 -W 3 -s 3000 -I $IA $IB 2>&1)
capture_stop
pcap_esp_sizes "$TMP/pmtu.pcap" >"$TMP/pmtu"
max=$(sort -n "$TMP/pmtu" | tail -n 1)
diag "outer sizes at route MTU 1300: $(sort -n "$TMP/pmtu" | uniq -c | tr '\n' ' ')"
echo "$out" | grep -q " 0% packet loss" && [ "$max" = 1300 ]
ok $? "pkt-size 0: 3028-octet pings pass, largest outer packet ${max:-none} = route MTU 1300"
ip -n $A route del $OB/32 dev veth-a
ip -n $B route del $OA/32 dev veth-b

# 15-17: TCP: local sockets (no GSO through xfrm: sk_setup_caps) and
# forwarded TSO batches from C, which reach the tunnel whole. iperf3's
# server counts what it received until the client's end of test, which
# may be less than all (TCP delivers the rest): delivery of every octet is
# checked with a SHA-256-compared stream.
sa_flush
sa_pair pkt-size 1400 init-delay 1000
c_policies || diag "C policies failed"
BYTES=4194304
# iperf_ok NS SRC WHAT - iperf3 of $BYTES octets from NS finished, the
# client sent them all and the server counted some.
iperf_ok() {
	local s r
	read -r s r < <(iperf_tcp "$1" "$2" $BYTES)
	diag "iperf3 $3: sent $s, server counted $r; $(grep -o '"bits_per_second":[^,]*' "$TMP/iperf.json" | tail -n 1)"
	grep -q '"error"' "$TMP/iperf.json" && diag "$(grep '"error"' "$TMP/iperf.json")"
	[ "$s" = $BYTES ] && [ "$r" -gt 0 ] && [ "$r" -le "$s" ]
	ok $? "iperf3 TCP $3: $s octets sent, finished"
}
iperf_ok $A $IA "from A"
ip netns exec $C ethtool -K veth-c tso on gso on >/dev/null 2>&1
py -n $B "$SELFTEST_DIR/pcap_esp.py" tcp-recv $IB 5005 60 \
	"$TMP/tcp.recv" &
rpid=$!
py -n $C "$SELFTEST_DIR/pcap_esp.py" tcp-send $IB 5005 \
	$BYTES 5 "$TMP/tcp.sent"
wait $rpid
diag "TCP stream from C: sent $(cut -c1-24 "$TMP/tcp.sent"), received $(cut -c1-24 "$TMP/tcp.recv")"
[ -s "$TMP/tcp.sent" ] && cmp -s "$TMP/tcp.sent" "$TMP/tcp.recv"
ok $? "TCP stream from C through A (GSO batches): $BYTES octets arrive, SHA-256 identical"
iperf_ok $C $CC "from C through A (GSO batches)"

# GSO batches forwarded without DF: C sends a UDP_SEGMENT batch whose
# segments do not fit one outer packet of a dont-frag or tunnel-payload
# SA (a local socket cannot: UDP refuses GSO over an xfrm route); A
# forwards it whole. It is segmented, then each segment IP-fragmented, as
# the kernel's tunnel mode does; it used to get "fragmentation needed" and
# be dropped.
gso_send() { # SEGMENT-SIZE PORT SUMS
	py -n $C -c '
import hashlib, socket, sys
size, port, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
# IP_MTU_DISCOVER: IP_PMTUDISC_OMIT, no DF and the device MTU (with DONT
# the MTU of the bundle would refuse the batch at the socket)
s.setsockopt(socket.IPPROTO_IP, 10, 5)
s.setsockopt(socket.IPPROTO_UDP, 103, size)  # UDP_SEGMENT
segs = [bytes([i + 1]) * size for i in range(4)]
s.sendto(b"".join(segs), (sys.argv[4], port))
with open(out, "w") as f:
    f.write("".join(hashlib.sha256(x).hexdigest() + "\n" for x in segs))' \
		"$1" "$2" "$3" "$IB"
}
for variant in "dont-frag:1000:pkt-size 600 dont-frag" "tunnel:1460:payload tunnel"; do
	IFS=: read -r what size opts <<<"$variant"
	sa_flush
	# shellcheck disable=SC2086
	if [ $what = tunnel ]; then
		sa_pair $opts -- $opts
	else
		sa_pair $opts
	fi || diag "$what SAs not made"
	c_policies || diag "C policies failed"
	rm -f "$TMP/gso.sent"
	udp_recv_start $B 5210 4 3 "$TMP/gso.recv" "$IB" || diag "no receiver"
	gso_send "$size" 5210 "$TMP/gso.sent" || diag "GSO send failed"
	udp_sent "$TMP/gso.recv"
	wait "$udp_rpid"
	big=$(xtfs_counter $A out drop_too_big)
	[ "$(wc -l <"$TMP/gso.recv")" = 4 ] && [ "$big" = 0 ] &&
		cmp -s <(sort "$TMP/gso.sent") <(sort "$TMP/gso.recv")
	ok $? "$what SA: a forwarded GSO batch of 4 x $size octets without DF: $(wc -l <"$TMP/gso.recv") of 4 delivered intact, $big dropped as too big"
done
sa_flush

tap_done
