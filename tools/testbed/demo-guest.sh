#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# demo-guest.sh - the guest half of `make demo` (see demo.sh).
. /xtfs/selftests/lib.sh
set -u

say() { printf '\n== %s\n' "$*"; }

modprobe -q esp4; modprobe -q xfrm_user
setup_ns
say "xfrm_xtfs loaded before the first IP-TFS SA? $([ -d /sys/module/xfrm_xtfs ] && echo yes || echo no)"
sa_pair pkt-size 1400 init-delay 20000
say "after 'xtfs state add ... mode iptfs': loaded? $([ -d /sys/module/xfrm_xtfs ] && echo yes || echo no)"
ip netns exec $A xtfs state list | sed 's/^/   /'
ip netns exec $A xtfs policy list | sed 's/^/   /'

say "burst of 200 UDP datagrams of 64 octets from $IA to $IB (init-delay 20 ms)"
capture_start $B veth-b "$TMP/burst.pcap" || echo "   (capture did not start)"
ip netns exec $B python3 "$SELFTEST_DIR/pcap_esp.py" udp-recv 5001 200 5 "$TMP/r" &
rpid=$!
sleep 1
ip netns exec $A python3 "$SELFTEST_DIR/pcap_esp.py" udp-send $IB 5001 200 64 1 "$TMP/s"
wait $rpid
capture_stop
n=$(pcap_esp_sizes "$TMP/burst.pcap" | wc -l)
sizes=$(pcap_esp_sizes "$TMP/burst.pcap" | sort -n | uniq -c | awk '{ printf "%s x %s octets; ", $1, $2 }')
printf '   inner packets sent:      200 (64 octets each)\n'
printf '   inner packets received:  %s, contents %s\n' "$(wc -l <"$TMP/r")" \
	"$(cmp -s <(sort "$TMP/s") <(sort "$TMP/r") && echo identical || echo DIFFERENT)"
printf '   outer ESP packets:       %s (%s)\n' "$n" "$sizes"
printf '   inner packets per outer: %s\n' "$(awk -v n="$n" 'BEGIN { if (n) printf "%.1f", 200 / n }')"

say "ping with 3000 octets of payload: fragmented across outer packets, reassembled"
capture_start $B veth-b "$TMP/ping.pcap" || echo "   (capture did not start)"
ip netns exec $A ping -c 1 -s 3000 -p a5c3 -I $IA $IB >"$TMP/ping.out" 2>&1
sed 's/^/   /' "$TMP/ping.out"
capture_stop
# ping checks every octet of the reply against the pattern it sent.
printf '   echo replies: %s, contents %s\n' \
	"$(sed -n 's/.* \([0-9]*\) received.*/\1/p' "$TMP/ping.out")" \
	"$(grep -q 'wrong data' "$TMP/ping.out" && echo DIFFERENT || echo identical)"
printf '   outer ESP packets for one echo request and its reply: %s (%s)\n' \
	"$(pcap_esp_sizes "$TMP/ping.pcap" | wc -l)" \
	"$(pcap_esp_sizes "$TMP/ping.pcap" | tr '\n' ' ')"
say "tcpdump of those outer packets"
tcpdump -nr "$TMP/ping.pcap" 2>/dev/null | sed 's/^/   /'
cleanup_ns
rm -rf "$TMP"
