#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# TCP across the IP-TFS tunnel, IPv4 and IPv6 inner on one SA pair, over a
# clean path and over netem delay and loss: a TCP stream whose octets are
# compared by SHA-256, and an iperf3 transfer that must finish with every
# octet the client sent counted by the server. Throughput is printed as a
# diagnostic only.
. "$(dirname "$0")/lib.sh"

STREAM=2000000
IPERF=1048576	# a multiple of iperf3's 128 KiB TCP block
_port=7000

tap_plan
modprobe -q sch_netem
setup_ns || { diag "namespace setup failed"; exit $KSFT_FAIL; }

# tcp_stream TAG FAMILY - STREAM random octets from A to B, SHA compared.
tcp_stream() {
	local tag=$1 f=$2 rpid t0 t1
	_port=$((_port + 1))
	ip netns exec $B timeout 300 python3 "$SELFTEST_DIR/pcap_esp.py" \
		tcp-recv "$(addr_of b "$f")" $_port 60 "$TMP/tcp.recv" &
	rpid=$!
	t0=$(date +%s.%N)
	ip netns exec $A timeout 300 python3 "$SELFTEST_DIR/pcap_esp.py" \
		tcp-send "$(addr_of b "$f")" $_port $STREAM $_port "$TMP/tcp.sent"
	wait $rpid
	t1=$(date +%s.%N)
	diag "$tag: sent $(cat "$TMP/tcp.sent" 2>/dev/null | cut -c1-24)..., received $(cut -c1-24 "$TMP/tcp.recv" 2>/dev/null)... in $(echo "$t1 - $t0" | bc) s"
	[ -s "$TMP/tcp.sent" ] && cmp -s "$TMP/tcp.sent" "$TMP/tcp.recv"
	ok $? "$tag: IPv$f TCP stream of $STREAM octets arrives intact"
}

# iperf TAG FAMILY - iperf3 transfer of IPERF octets from A to B. iperf3
# ends the test once the client has written its octets, and the server
# counts what it received until then: octets still in flight (on a lossy
# path, being retransmitted) are not counted, though TCP delivers them, as
# tcp_stream checks byte for byte. So the server's count must only be
# positive and not above what was sent.
iperf() {
	local tag=$1 f=$2 spid res
	_port=$((_port + 1))
	ip netns exec $B timeout 300 iperf3 -s -1 -J -p $_port \
		-B "$(addr_of b "$f")" >"$TMP/iperf.srv" 2>&1 &
	spid=$!
	for _ in $(seq 100); do
		ip netns exec $B ss -Hltn "sport = :$_port" | grep -q . && break
		sleep 0.2
	done
	ip netns exec $A timeout 300 iperf3 -c "$(addr_of b "$f")" -p $_port \
		-B "$(addr_of a "$f")" -n $IPERF -J >"$TMP/iperf.cli" 2>&1
	wait $spid
	res=$(py - "$TMP/iperf.cli" "$TMP/iperf.srv" <<'PY'
import json, sys
try:
    cli = json.load(open(sys.argv[1]))
    srv = json.load(open(sys.argv[2]))
    sent = cli["end"]["sum_sent"]["bytes"]
    rcvd = srv["end"]["sum_received"]["bytes"]
    bps = srv["end"]["sum_received"]["bits_per_second"]
    retr = cli["end"]["sum_sent"].get("retransmits", 0)
    print(sent, rcvd, "%.1f" % (bps / 1e6), retr)
except Exception as e:
    print("error", str(e).replace(" ", "_"), 0, 0)
PY
	)
	set -- $res
	if [ "$1" = error ]; then
		diag "iperf3 client: $(head -c 600 "$TMP/iperf.cli" | tr -s ' \n\t' '   ')"
		diag "iperf3 server: $(head -c 600 "$TMP/iperf.srv" | tr -s ' \n\t' '   ')"
	fi
	diag "$tag: iperf3 IPv$f sent $1 received $2 octets, $3 Mbit/s, $4 retransmits"
	[ "$1" = $IPERF ] && [ "$2" -gt 0 ] 2>/dev/null && [ "$2" -le "$1" ]
	ok $? "$tag: iperf3 IPv$f finished, $1 octets sent, $2 counted by the server by the end of the test"
}

# 1-5: clean path, outer IPv4
sa_families 4 4 6
sa_pair
ok $? "SA pair outer IPv4, inner IPv4 and IPv6"
for f in 4 6; do
	tcp_stream "clean, outer IPv4" $f
	iperf "clean, outer IPv4" $f
done

# 6-10: netem delay and loss, outer IPv6
sa_flush
sa_families 6 4 6
sa_pair -- reorder-window 16
ok $? "SA pair outer IPv6, inner IPv4 and IPv6, reorder window 16"
netem delay 5ms 2ms loss 1%
for f in 4 6; do
	tcp_stream "delay 5ms 2ms loss 1%, outer IPv6" $f
	iperf "delay 5ms 2ms loss 1%, outer IPv6" $f
done
netem off

tap_done
