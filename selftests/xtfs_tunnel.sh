#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# IP-TFS tunnel between two namespaces, made with the xtfs helper:
# ping of many sizes (fragmentation across outer packets), a UDP burst
# compared byte for byte, aggregation and fixed outer size checked on a
# capture of the outer ESP packets, init delay and dont-frag honoured.
. "$(dirname "$0")/lib.sh"

SIZES="0 1 56 100 500 1000 1372 1400 1472 1500 2000 2999 3000"
BURST=300

tap_plan
setup_ns || { diag "namespace setup failed"; exit $KSFT_FAIL; }

# 1-2: pings of every size, payload pattern checked by ping itself
sa_pair pkt-size 1400
ok $? "create IP-TFS SA pair and policies with xtfs"
fail=0
for s in $SIZES; do
	out=$(ip netns exec $A ping -q -c 2 -i 0.2 -W 3 -s "$s" -p a5c3 -I $IA $IB 2>&1)
	if ! echo "$out" | grep -q " 0% packet loss" ||
	   echo "$out" | grep -q "wrong data"; then
		diag "ping -s $s: $out"
		fail=1
	fi
done
ok $fail "ping payload sizes $SIZES through the tunnel, replies intact"

# 3-5: UDP burst: delivered byte for byte; fewer outer packets; exact size
sa_flush
sa_pair pkt-size 1400 init-delay 20000
capture_start $B veth-b "$TMP/burst.pcap" || diag "capture did not start"
udp_recv_start $B 5001 $BURST 5 "$TMP/recv.sums"
rpid=$udp_rpid
py -n $A "$SELFTEST_DIR/pcap_esp.py" udp-send $IB 5001 $BURST 64 7 \
	"$TMP/sent.sums"
wait $rpid
capture_stop
sort "$TMP/sent.sums" >"$TMP/a"
sort "$TMP/recv.sums" >"$TMP/b"
nrecv=$(wc -l <"$TMP/recv.sums")
cmp -s "$TMP/a" "$TMP/b"
r=$?
[ $r -eq 0 ] || diag "UDP RcvbufErrors in B: $(udp_rcvbuf_errors $B)"
ok $r "UDP burst: $nrecv of $BURST datagrams of 64 octets delivered, contents identical"
pcap_esp_sizes "$TMP/burst.pcap" >"$TMP/sizes"
nouter=$(wc -l <"$TMP/sizes")
diag "burst of $BURST inner packets left A as $nouter outer ESP packets"
[ "$nouter" -gt 0 ] && [ "$nouter" -lt "$BURST" ]
ok $? "aggregation: $nouter outer packets for $BURST inner packets"
bad=$(grep -cvx 1400 "$TMP/sizes")
[ "$nouter" -gt 0 ] && [ "$bad" -eq 0 ]
ok $? "pkt-size 1400: every outer packet is 1400 octets ($bad differ)"

# 6: init delay: nothing leaves before it expires (a lower bound only)
sa_flush
sa_pair init-delay 300000
rtt=$(ip netns exec $A ping -c 1 -W 5 -I $IA $IB 2>/dev/null |
	sed -n 's/.*time=\([0-9.]*\) ms.*/\1/p')
diag "ping RTT with init-delay 300 ms each way: ${rtt:-none} ms"
[ -n "$rtt" ] && awk -v r="$rtt" 'BEGIN { exit !(r >= 600) }'
ok $? "init-delay 300000 us: RTT ${rtt:-none} ms >= 600 ms"

# 7: dont-frag: packets that fit go, larger ones are refused, not split
sa_flush
sa_pair pkt-size 1400 dont-frag
small=$(ip netns exec $A ping -q -c 1 -W 3 -s 1000 -I $IA $IB 2>&1)
big=$(ip netns exec $A ping -q -c 1 -W 3 -s 3000 -M do -I $IA $IB 2>&1)
echo "$small" | grep -q " 0% packet loss" &&
	! echo "$big" | grep -q " 0% packet loss"
ok $? "dont-frag: 1000-octet ping passes, 3000-octet DF ping does not"
diag "dont-frag 3000: $(echo "$big" | tail -n 2 | tr '\n' ' ')"

tap_done
