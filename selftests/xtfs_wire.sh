#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Implicit-IV SAs (RFC 8750) on every way the xfrm core takes ESP packets,
# now that xtfs's own xfrm_type serves them (Documentation/xtfs.rst,
# "Extended ESP engine"):
# - GRO: with esp4_offload/esp6_offload loaded and GRO on the veths (TSO
#   off, which veth needs to use GRO),
#   esp4/esp6_gro_receive() hand ESP packets straight to xfrm_input()
#   (counted with kprobes); every datagram is delivered, no ICV fails;
# - UDP encapsulation (encap espinudp 4500 4500, RFC 3948) over IPv4 and
#   IPv6: traffic both ways, scapy (selftests/esp_iiv.py) opens the
#   captured packets of both directions and seals packets xtfs delivers;
# - an xfrm interface (if_id): traffic routed through it both ways;
# - replay: packets with sequence numbers already received, sealed under
#   a key the SA does not have, are counted as replays and never reach
#   the AEAD (which would have counted them as integrity failures);
# - XFRM_MSG_NEWAE replay notifications ("ip xfrm monitor aevent") for
#   the outbound and the inbound implicit-IV SA.
. "$(dirname "$0")/lib.sh"

ESP_IIV="$SELFTEST_DIR/esp_iiv.py"
T=/sys/kernel/tracing
# Key material of the replay test's wrong key (AES-128 and salt).
KEY_WRONG=0x2122232425262728292a2b2c2d2e2f3031323334

# gro_hits - esp4/esp6_gro_receive() calls counted by our kprobes
gro_hits() {
	awk '$1 ~ /^xtfs_wire_esp[46]gro$/ { n += $2 } END { print n + 0 }' \
		"$T/kprobe_profile" 2>/dev/null
}

# napi_rx NS DEV - packets DEV received through its NAPI poll, which hands
# them to GRO (veth's rx_queue_N_xdp_packets, counted in veth_xdp_rcv())
napi_rx() {
	ip netns exec "$1" ethtool -S "$2" 2>/dev/null |
		awk '/rx_queue_[0-9]+_xdp_packets:/ { n += $2 } END { print n + 0 }'
}

# kprobes_start - count esp4/esp6_gro_receive() calls; fails where the
# kernel has no kprobe events (the debug kernel has none)
kprobes_start() {
	[ -e "$T/kprobe_events" ] || mount -t tracefs nodev "$T" 2>/dev/null
	[ -w "$T/kprobe_events" ] || return 1
	at_exit kprobes_stop
	echo 'p:xtfs_wire/xtfs_wire_esp4gro esp4_gro_receive' >>"$T/kprobe_events" &&
		echo 'p:xtfs_wire/xtfs_wire_esp6gro esp6_gro_receive' >>"$T/kprobe_events" &&
		echo 1 >"$T/events/xtfs_wire/enable"
}

kprobes_stop() {
	{
		echo 0 >"$T/events/xtfs_wire/enable"
		echo '-:xtfs_wire/xtfs_wire_esp4gro' >>"$T/kprobe_events"
		echo '-:xtfs_wire/xtfs_wire_esp6gro' >>"$T/kprobe_events"
	} 2>/dev/null
	return 0
}

# offload_unload - remove esp4/esp6_offload if this test loaded them
offload_unload() {
	[ -n "$LOADED_OFFLOAD" ] || return 0
	modprobe -r esp6_offload esp4_offload 2>/dev/null
	LOADED_OFFLOAD=
	return 0
}

# refcnt MODULE - the module's reference count
refcnt() {
	cat "/sys/module/$1/refcnt" 2>/dev/null
}

# encap_socket NS - a UDP socket on port 4500 (IPv4 and IPv6) with
# UDP_ENCAP_ESPINUDP in namespace NS, as an IKE daemon keeps open: ESP in
# UDP reaches the xfrm core only through such a socket
encap_socket() {
	ip netns exec "$1" python3 -c '
import socket, sys, time
UDP_ENCAP, ESPINUDP = 100, 2
socks = []
for fam, addr in ((socket.AF_INET, "0.0.0.0"), (socket.AF_INET6, "::")):
    s = socket.socket(fam, socket.SOCK_DGRAM)
    if fam == socket.AF_INET6:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
    s.setsockopt(socket.IPPROTO_UDP, UDP_ENCAP, ESPINUDP)
    s.bind((addr, 4500))
    socks.append(s)
open(sys.argv[1], "w").close()
time.sleep(3600)' "$TMP/encap-$1.ready" &
	for _ in $(seq 300); do
		[ -f "$TMP/encap-$1.ready" ] && return 0
		sleep 0.1
	done
	return 1
}

# esp_seal OUT ARGS... - scapy seals packets from A to B's SA 0x100 (see
# esp_iiv.py seal) into OUT.pcap, their sums in OUT.sums
esp_seal() {
	local out=$1
	shift
	py "$ESP_IIV" seal --alg gcm --spi "$SPI_AB" --outer-src "$OA" \
		--outer-dst "$OB" --src "$IA" --dst "$IB" --size 200 --seed 5 \
		--sums "$out.sums" --pcap "$out.pcap" "$@"
}

# sealed_to_b PCAP PORT N OUT - send the sealed packets of PCAP from A; a
# receiver on B's PORT takes up to N datagrams into OUT
sealed_to_b() {
	udp_recv_start $B "$2" "$3" 3 "$4" "$IB" || return 1
	py -n $A "$SELFTEST_DIR/pcap_esp.py" esp-send "$1" 2000 2>/dev/null
	udp_sent "$4"
	wait "$udp_rpid"
}

tap_plan
setup_ns || { diag "namespace setup failed"; exit $KSFT_FAIL; }

# 1-5: GRO through esp4_offload/esp6_offload
LOADED_OFFLOAD=
if ! grep -q '^esp4_offload ' /proc/modules; then
	LOADED_OFFLOAD=1
fi
at_exit offload_unload
modprobe esp4_offload && modprobe esp6_offload
ok $? "esp4_offload and esp6_offload loaded"
# veth_xmit() hands a packet to the peer's NAPI (GRO) only when the
# sender has no TSO (veth_skb_is_eligible_for_gro()).
ip netns exec $A ethtool -K veth-a gro on tso off &&
	ip netns exec $B ethtool -K veth-b gro on tso off
ok $? "GRO on both veths, TSO off (ethtool -K ... gro on tso off)"
KPROBES=1
kprobes_start || { KPROBES=0; diag "no kprobe events: esp4/esp6_gro_receive() calls not counted"; }
for outer in 4 6; do
	sa_families $outer $outer
	sa_flush
	sa_pair iiv -- iiv replay-window 64
	made=$?
	[ $made = 0 ] || diag "IPv$outer SA pair not made"
	h0=$(gro_hits)
	na0=$(napi_rx $A veth-a) nb0=$(napi_rx $B veth-b)
	udp_check $A $IB $B 5300 200 1000 && udp_check $B $IA $A 5301 200 1000
	r=$?
	h=$(($(gro_hits) - h0))
	na=$(($(napi_rx $A veth-a) - na0)) nb=$(($(napi_rx $B veth-b) - nb0))
	bad=$(($(sa_json $B $OB $SPI_AB stats integrity_failed) +
	       $(sa_json $A $OA $SPI_BA stats integrity_failed)))
	off=$(refcnt esp${outer}_offload)
	gro="$na and $nb packets through the veths' GRO"
	[ $KPROBES = 1 ] && gro+=", $h ESP packets through esp${outer}_gro_receive()"
	[ $made = 0 ] && [ $r = 0 ] && [ "$bad" = 0 ] &&
		[ "$na" -gt 0 ] && [ "$nb" -gt 0 ] &&
		{ [ $KPROBES = 0 ] || [ "$h" -gt 0 ]; }
	ok $? "IPv$outer, GRO: 200 UDP datagrams each way delivered intact, $bad integrity failures; $gro"
	[ $made = 0 ] && [ "$off" = 0 ]
	ok $? "IPv$outer: the implicit-IV SAs hold no ESP offload type (esp${outer}_offload use count $off)"
done
sa_flush
ip netns exec $A ethtool -K veth-a gro off tso on
ip netns exec $B ethtool -K veth-b gro off tso on
kprobes_stop
# The SAs go in the state garbage collector: wait for their references.
for _ in $(seq 50); do
	offload_unload && ! grep -q '^esp[46]_offload ' /proc/modules && break
	LOADED_OFFLOAD=1
	sleep 0.2
done

# 6-13: UDP encapsulation (NAT-T), IPv4 and IPv6 outer
encap_socket $A && encap_socket $B
ok $? "UDP encapsulation sockets (port 4500) in both namespaces"
for outer in 4 6; do
	sa_families $outer $outer
	sa_flush
	any=0.0.0.0
	[ $outer = 6 ] && any=::
	enc=(encap espinudp 4500 4500 $any)
	sa_pair iiv "${enc[@]}" -- iiv replay-window 64 "${enc[@]}"
	made=$?
	ok $made "IPv$outer: implicit-IV SA pair with encap espinudp 4500 4500"
	ip netns exec $B tcpdump -i veth-b -U -s 65535 -B 32768 \
		-w "$TMP/nat$outer.pcap" esp or udp port 4500 \
		>"$TMP/nat$outer.log" 2>&1 &
	_cap_pid=$! _cap_file=$TMP/nat$outer.pcap
	for _ in $(seq 600); do
		grep -q listening "$TMP/nat$outer.log" && break
		sleep 0.1
	done
	# Without the SAs the datagrams would go in the clear.
	[ $made = 0 ] &&
		udp_check $A $IB $B 5310 50 1000 && cp "$TMP/u.sent" "$TMP/nat-ab.sums" &&
		udp_check $B $IA $A 5311 50 1000 && cp "$TMP/u.sent" "$TMP/nat-ba.sums"
	r=$?
	[ $r = 0 ] || { rm -f "$TMP/nat-ab.sums" "$TMP/nat-ba.sums"; diag_path; }
	ok $r "IPv$outer, UDP-encapsulated: 50 datagrams each way delivered intact"
	capture_stop
	esp=$(py -n $B "$SELFTEST_DIR/pcap_esp.py" sizes "$TMP/nat$outer.pcap" | wc -l)
	: >"$TMP/open-ab.log"
	: >"$TMP/open-ba.log"
	py "$ESP_IIV" open "$TMP/nat$outer.pcap" --alg gcm --key "$KEY_AB" \
		--spi "$SPI_AB" --udp 4500 --port 5310 --sums "$TMP/scapy-ab.sums" \
		>/dev/null 2>"$TMP/open-ab.log" &&
		py "$ESP_IIV" open "$TMP/nat$outer.pcap" --alg gcm --key "$KEY_BA" \
			--spi "$SPI_BA" --udp 4500 --port 5311 \
			--sums "$TMP/scapy-ba.sums" >/dev/null 2>"$TMP/open-ba.log" &&
		cmp -s <(sort "$TMP/nat-ab.sums") <(sort "$TMP/scapy-ab.sums") &&
		cmp -s <(sort "$TMP/nat-ba.sums") <(sort "$TMP/scapy-ba.sums") &&
		[ "$esp" = 0 ]
	ok $? "IPv$outer: scapy opens every captured UDP-encapsulated packet of both directions ($(tr -d '\n' <"$TMP/open-ab.log"); $(tr -d '\n' <"$TMP/open-ba.log")); no plain ESP on the wire ($esp)"
	esp_seal "$TMP/natseal$outer" --port 5312 --count 10 --seq 1000 \
		--key "$KEY_AB" --udp 4500 2>/dev/null &&
		sealed_to_b "$TMP/natseal$outer.pcap" 5312 10 "$TMP/natseal.recv" &&
		cmp -s <(sort "$TMP/natseal$outer.sums") <(sort "$TMP/natseal.recv")
	ok $? "IPv$outer: 10 UDP-encapsulated packets sealed by scapy delivered by xtfs ($(wc -l <"$TMP/natseal.recv" 2>/dev/null) of 10)"
done

# 14-15: an xfrm interface (if_id 7) carrying implicit-IV SAs
sa_flush
sa_families 4 4
IA2=198.51.100.21 IB2=198.51.100.22
fail=0
for side in a b; do
	if [ $side = a ]; then
		ns=$A dev=veth-a me=$IA2 peer=$IB2 o1=$OA o2=$OB
	else
		ns=$B dev=veth-b me=$IB2 peer=$IA2 o1=$OB o2=$OA
	fi
	ip -n $ns link add xfrm7 type xfrm dev $dev if_id 7 &&
		ip -n $ns link set xfrm7 up &&
		ip -n $ns addr add $me/32 dev lo &&
		ip -n $ns route add $peer/32 dev xfrm7 src $me || fail=1
	for spi in 0x700 0x701; do
		if [ $spi = 0x700 ]; then s=$OA d=$OB k=$KEY_AB
		else s=$OB d=$OA k=$KEY_BA; fi
		if [ $s = $o1 ]; then dir=out o=(); else dir=in o=(replay-window 64); fi
		ip netns exec $ns xtfs state add src $s dst $d proto esp \
			spi $spi reqid 7 dir $dir mode iptfs aead "$AEAD" $k \
			$SA_ICV iiv if_id 7 "${o[@]}" || fail=1
	done
	ip netns exec $ns xtfs policy add src $me/32 dst $peer/32 dir out \
		if_id 7 tmpl src $o1 dst $o2 proto esp reqid 7 mode iptfs &&
		ip netns exec $ns xtfs policy add src $peer/32 dst $me/32 \
			dir in if_id 7 tmpl src $o2 dst $o1 proto esp reqid 7 \
			mode iptfs || fail=1
done
ok $fail "xfrm interfaces with if_id 7, implicit-IV SAs and policies of if_id 7"
rx0=$(ip netns exec $B cat /sys/class/net/xfrm7/statistics/rx_packets)
tx0=$(ip netns exec $A cat /sys/class/net/xfrm7/statistics/tx_packets)
udp_check $A $IB2 $B 5320 50 1000 && udp_check $B $IA2 $A 5321 50 1000
r=$?
rx=$(($(ip netns exec $B cat /sys/class/net/xfrm7/statistics/rx_packets) - rx0))
tx=$(($(ip netns exec $A cat /sys/class/net/xfrm7/statistics/tx_packets) - tx0))
[ $r = 0 ] && [ "$rx" -ge 50 ] && [ "$tx" -ge 50 ]
ok $? "through the xfrm interfaces: 50 datagrams each way delivered intact (A's xfrm7 sent $tx, B's received $rx)"
for ns in $A $B; do
	ip -n $ns link del xfrm7
done

# 16-17: replay checked before decryption
sa_flush
sa_families 4 4
sa_pair iiv -- iiv replay-window 64
esp_seal "$TMP/r1" --port 5330 --count 5 --seq 1 --key "$KEY_AB" 2>/dev/null &&
	esp_seal "$TMP/r2" --port 5331 --count 5 --seq 1 --key "$KEY_WRONG" \
		2>/dev/null
sealed_to_b "$TMP/r1.pcap" 5330 5 "$TMP/r1.recv"
cmp -s <(sort "$TMP/r1.sums") <(sort "$TMP/r1.recv")
ok $? "SNs 1-5 sealed by scapy delivered ($(wc -l <"$TMP/r1.recv") of 5)"
sealed_to_b "$TMP/r2.pcap" 5331 5 "$TMP/r2.recv"
n=$(wc -l <"$TMP/r2.recv")
replays=$(sa_json $B $OB $SPI_AB stats replay)
bad=$(sa_json $B $OB $SPI_AB stats integrity_failed)
[ "$n" = 0 ] && [ "$replays" = 5 ] && [ "$bad" = 0 ]
ok $? "SNs 1-5 again, under a key the SA does not have: $n delivered, $replays replays, $bad integrity failures (no AEAD operation spent)"

# 18-19: XFRM_MSG_NEWAE replay notifications
sa_flush
sa_pair iiv -- iiv replay-window 64
ip netns exec $A ip xfrm monitor aevent >"$TMP/aev-a.log" 2>&1 &
mon_a=$!
ip netns exec $B ip xfrm monitor aevent >"$TMP/aev-b.log" 2>&1 &
mon_b=$!
# ip prints nothing once subscribed: give it the time to get there.
sleep 2
udp_check $A $IB $B 5340 20 500
r=$?
sleep 1
kill $mon_a $mon_b 2>/dev/null
wait $mon_a $mon_b 2>/dev/null
# grep -A1: "Async event ... replay update", then the SA's line
out_a=$(grep -A1 'replay update' "$TMP/aev-a.log" | grep -c "SPI 0x100")
out_b=$(grep -A1 'replay update' "$TMP/aev-b.log" | grep -c "SPI 0x100")
diag "A: $(head -n 3 "$TMP/aev-a.log" | tr '\n\t' '  ')"
[ $r = 0 ] && [ "$out_a" -gt 0 ]
ok $? "outbound implicit-IV SA: $out_a replay-update notifications (XFRM_MSG_NEWAE) while sending"
[ $r = 0 ] && [ "$out_b" -gt 0 ]
ok $? "inbound implicit-IV SA: $out_b replay-update notifications (XFRM_MSG_NEWAE) while receiving"

tap_done
