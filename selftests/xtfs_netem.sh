#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# IP-TFS over an impaired path: netem on the veth of both namespaces
# delays, reorders, loses and duplicates outer packets. UDP streams of
# small (aggregated) and large (fragmented across outer packets) datagrams
# are compared by SHA-256: with a wide enough reorder window everything
# arrives; under loss what arrives is intact and the receiver recovers;
# duplicated outer packets never deliver an inner packet twice; with
# reorder window 0 late packets are dropped, not delivered corrupted. The
# receiver's counters must show the losses, duplicates and late packets.
. "$(dirname "$0")/lib.sh"

PKT=1400
_port=6000

tap_plan
modprobe -q sch_netem
setup_ns || { diag "namespace setup failed"; exit $KSFT_FAIL; }
if ! ip netns exec $A tc qdisc add dev veth-a root netem delay 1ms 2>/dev/null; then
	diag "tc qdisc netem not available"
	cleanup_ns
	exit $KSFT_SKIP
fi
ip netns exec $A tc qdisc del dev veth-a root

# stream NAME N SIZE [IDLE] - N datagrams of SIZE random octets from A to
# B on a fresh port; the receiver gives up after IDLE seconds (default 10)
# without a datagram once they came. Leaves $TMP/NAME.sent and $TMP/NAME.recv (SHA-256
# of each payload) and sets nrecv.
stream() {
	local name=$1 n=$2 size=$3 idle=${4:-10} rpid
	_port=$((_port + 1))
	udp_recv_start $B $_port "$n" "$idle" "$TMP/$name.recv"
	rpid=$udp_rpid
	py -n $A "$SELFTEST_DIR/pcap_esp.py" udp-send $IB \
		$_port "$n" "$size" $_port "$TMP/$name.sent"
	wait $rpid
	nrecv=$(wc -l <"$TMP/$name.recv")
}

# same NAME - every datagram sent arrived once, byte for byte.
same() {
	cmp -s <(sort "$TMP/$1.sent") <(sort "$TMP/$1.recv") && return 0
	diag "$1: missing datagrams (by send order):" \
		"$(grep -nvxFf "$TMP/$1.recv" "$TMP/$1.sent" | cut -d: -f1 | head -n 20 | tr '\n' ' ')"
	diag "$1: UDP RcvbufErrors in B: $(udp_rcvbuf_errors $B)"
	diag "$1: xfrm_stat in B: $(ip netns exec $B grep -v ' 0$' /proc/net/xfrm_stat | tr -s ' \n' '  ')"
	diag_path
	return 1
}

# intact NAME - every datagram that arrived was sent, and arrived once.
intact() {
	[ -z "$(sort "$TMP/$1.recv" | uniq -d)" ] &&
		[ -z "$(comm -13 <(sort -u "$TMP/$1.sent") <(sort "$TMP/$1.recv"))" ]
}

# wire FILE [FIRST] - what the capture in B saw of A's outbound SA (SPI
# 0x100); missing packets count from sequence number FIRST when given
# (the capture began before the SA sent anything).
wire() {
	py "$SELFTEST_DIR/pcap_esp.py" esp-seq "$1" 0x100 $2
}

# cnt NAME - counter NAME of B's inbound SA (the A to B direction).
cnt() {
	xtfs_counter $B in "$1"
}

# field LINE NAME - the number after NAME in an esp-seq line.
field() {
	echo "$1" | sed -n "s/.*$2 \([0-9]*\).*/\1/p"
}

# 1-5: delay with jitter and reordering, reorder window 1000: all arrives
# (the capture shows how late packets came, in packets: less than that).
# The drop time is long enough that the lost packet timer never fires.
WIN=1000
sa_pair pkt-size $PKT -- reorder-window $WIN drop-time 10000000
ok $? "SA pair with reorder window $WIN, drop time 10 s"
netem delay 10ms 5ms reorder 25% 50%
ok $? "netem delay 10ms 5ms reorder 25% 50% on both veths"
capture_start $B veth-b "$TMP/reorder.pcap" || diag "capture did not start"
stream small 300 200
same small
ok $? "reorder: $nrecv of 300 datagrams of 200 octets delivered, identical"
stream big 60 3000
same big
ok $? "reorder: $nrecv of 60 datagrams of 3000 octets delivered, identical"
capture_stop
w=$(wire "$TMP/reorder.pcap" 1)
diag "reorder on the wire: $w"
late=$(field "$w" late)
[ -n "$late" ] && [ "$late" -lt $WIN ] || diag "reordered beyond the window: losses expected"
old=$(cnt drop_old) lost=$(cnt lost)
[ "$old" = 0 ] && [ "$lost" = 0 ] && [ "$(field "$w" reordered)" -gt 0 ] &&
	[ "$(field "$w" missing)" = 0 ]
ok $? "reorder: $(field "$w" reordered) outer packets came out of order, none missing from 1 on; counters drop_old $old, lost $lost"

# 6-11: 5 % loss with fragmented datagrams, default reorder window and
# drop time: what arrives is intact, the receiver recovers afterwards
netem off
sa_flush
sa_pair pkt-size $PKT
ok $? "SA pair with the default reorder window and drop time"
netem loss 5%
capture_start $B veth-b "$TMP/loss.pcap" || diag "capture did not start"
stream lossy 200 3000 5
capture_stop
w=$(wire "$TMP/loss.pcap" 1)
diag "loss on the wire: $w"
intact lossy
ok $? "loss 5%: $nrecv of 200 datagrams of 3000 octets delivered, none corrupted or repeated"
lost=$(cnt lost) partial=$(cnt drop_partial)
diag "loss 5%: counters lost $lost, drop_partial $partial, reassembled $(cnt reassembled)"
[ "${lost:-0}" -gt 0 ] && [ "${partial:-0}" -gt 0 ]
ok $? "loss 5%: counted as lost ($lost outer packets) and partial drops ($partial)"
# An outer packet carries at most two inner packets' octets: each loss
# costs at most two datagrams.
lost=$(field "$w" missing)
[ -n "$lost" ] && [ "$lost" -gt 0 ] && [ "$nrecv" -ge $((200 - 2 * lost)) ]
ok $? "loss 5%: $lost outer packets lost, $((200 - nrecv)) datagrams lost (at most twice that)"
netem off
stream clean1 100 3000
same clean1
ok $? "after loss: clean stream, $nrecv of 100 datagrams of 3000 octets identical"
stream clean2 200 200
same clean2
ok $? "after loss: clean stream, $nrecv of 200 datagrams of 200 octets identical"

# 12-14: duplicated outer packets (no ESP replay window: IP-TFS sees them)
netem duplicate 20%
old0=$(cnt drop_old); old0=${old0:-0}
capture_start $B veth-b "$TMP/dup.pcap" || diag "capture did not start"
stream dups 300 200
same dups
ok $? "duplicate 20%: $nrecv of 300 datagrams of 200 octets, each delivered once"
stream dupb 60 3000
same dupb
ok $? "duplicate 20%: $nrecv of 60 datagrams of 3000 octets, each delivered once"
capture_stop
w=$(wire "$TMP/dup.pcap")
diag "duplication on the wire: $w"
d=$(field "$w" duplicate)
old=$(cnt drop_old); old=$(( ${old:-0} - old0 ))
[ -n "$d" ] && [ "$d" -gt 0 ] && [ "$old" -gt 0 ]
ok $? "duplicate 20%: $d duplicated outer packets reached B, drop_old counted $old"

# 15-19: reorder window 0: late packets are dropped, the rest is intact
netem off
sa_flush
sa_pair pkt-size $PKT -- reorder-window 0
ok $? "SA pair with reorder window 0"
netem delay 10ms reorder 25% 50%
capture_start $B veth-b "$TMP/win0.pcap" || diag "capture did not start"
stream w0s 300 200 5
intact w0s
ok $? "window 0, reorder: $nrecv of 300 datagrams of 200 octets, none corrupted or repeated"
stream w0b 60 3000 5
intact w0b
ok $? "window 0, reorder: $nrecv of 60 datagrams of 3000 octets, none corrupted or repeated"
capture_stop
w=$(wire "$TMP/win0.pcap" 1)
diag "window 0 on the wire: $w"
old=$(cnt drop_old)
[ "$(field "$w" reordered)" -gt 0 ] && [ "${old:-0}" -gt 0 ]
ok $? "window 0: $(field "$w" reordered) outer packets came late, drop_old counted $old"
netem off
stream w0clean 100 1000
same w0clean
ok $? "window 0, after reorder: clean stream, $nrecv of 100 datagrams identical"

tap_done
