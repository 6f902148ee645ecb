#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Implicit IV (RFC 8750): IP-TFS SAs made with "xtfs state add ... iiv" for
# AES-GCM-16, AES-CCM-8 and ChaCha20-Poly1305, with and without ESN, over
# IPv4 and IPv6. Real traffic both ways, and a cross-check against an
# independent ESP (scapy, selftests/esp_iiv.py): every captured packet
# opens there as an ordinary RFC 4106/4309/7634 packet once its IV is put
# back, and packets scapy seals (IV then taken out) are delivered by xtfs.
# Then: octets on the wire with and without implicit IV, a stock
# tunnel-mode ESP SA working beside implicit-IV SAs, replay and reorder,
# an ESN wrap, and SAs refused for settings that do not fit.
. "$(dirname "$0")/lib.sh"

ESP_IIV="$SELFTEST_DIR/esp_iiv.py"
BURST=100

# hexkey N FIRST - N octets of key material FIRST, FIRST+1, ... in hex
hexkey() {
	local i out=0x
	for i in $(seq "$2" $(($2 + $1 - 1))); do
		out+=$(printf %02x $((i % 256)))
	done
	echo "$out"
}

# iiv_alg ALG - use ALG (gcm, ccm or chacha) for the SAs sa_pair makes
iiv_alg() {
	IIV_ALG=$1
	case $1 in
	gcm)
		AEAD="rfc4106(gcm(aes))" SA_ICV=128 IIV_NAME=aes-gcm-16
		KEY_AB=$(hexkey 20 1) KEY_BA=$(hexkey 20 101) ;;
	ccm)
		AEAD="rfc4309(ccm(aes))" SA_ICV=64 IIV_NAME=aes-ccm-8
		KEY_AB=$(hexkey 35 1) KEY_BA=$(hexkey 35 101) ;;
	chacha)
		AEAD="rfc7539esp(chacha20,poly1305)" SA_ICV=128
		IIV_NAME=chacha20-poly1305
		KEY_AB=$(hexkey 36 1) KEY_BA=$(hexkey 36 101) ;;
	esac
}

# sa_json NS DST SPI KEY... - a field of "xtfs -j state get", by path
sa_json() {
	local ns=$1 dst=$2 spi=$3
	shift 3
	ip netns exec "$ns" xtfs -j state get dst "$dst" proto esp spi "$spi" |
		python3 -c '
import json, sys
v = json.load(sys.stdin)
v = v[0] if isinstance(v, list) else v
for k in sys.argv[1:]:
    v = v.get(k, "") if isinstance(v, dict) else ""
print(v)' "$@"
}

# iiv_pair ESN [OUT-OPTS [-- IN-OPTS]] - an implicit-IV SA pair
iiv_pair() {
	local esn=$1 o=() i=()
	shift
	while [ $# -gt 0 ] && [ "$1" != -- ]; do o+=("$1"); shift; done
	[ "$1" = -- ] && shift
	i=("$@")
	if [ "$esn" = 1 ]; then
		o+=(flag esn)
		i+=(flag esn)
	fi
	sa_pair iiv "${o[@]}" -- iiv replay-window 64 "${i[@]}"
}

# open_args - the esp_iiv.py SA options of the A to B SA
open_args() {
	echo --alg "$IIV_ALG" --key "$KEY_AB" --spi 0x100 \
		$([ "$IIV_ESN" = 1 ] && echo --esn)
}

# combo ALG ESN OUTER - traffic and the scapy cross-check for one SA pair
combo() {
	local what fail=0 s out nrecv next
	iiv_alg "$1"
	IIV_ESN=$2
	sa_families "$3" "$3"
	what="$IIV_NAME esn $2 IPv$3"
	sa_flush
	iiv_pair "$2" -- reorder-window 8
	ok $? "$what: SA pair with implicit IV made"
	[ "$(sa_json $A $OB 0x100 iptfs iiv)" = "$IIV_NAME" ] &&
		[ "$(sa_json $B $OB 0x100 iptfs iiv)" = "$IIV_NAME" ] &&
		[ "$(sa_json $B $OA 0x200 iptfs iiv)" = "$IIV_NAME" ]
	ok $? "$what: xtfs state get shows iiv $IIV_NAME on both ends"

	for s in 56 3000; do
		out=$(ip netns exec $A ping -q -c 3 -i 0.2 -W 3 -s $s -p 5a3c \
			-I $IA $IB 2>&1)
		if ! echo "$out" | grep -q " 0% packet loss" ||
		   echo "$out" | grep -q "wrong data"; then
			diag "ping -s $s: $out"
			fail=1
		fi
	done
	ok $fail "$what: pings of 56 and 3000 octets both ways, intact"

	capture_start $B veth-b "$TMP/c.pcap" 65535 ||
		diag "capture did not start"
	udp_recv_start $B 5001 $BURST 5 "$TMP/recv.sums" "$IB"
	ip netns exec $A python3 "$SELFTEST_DIR/pcap_esp.py" udp-send $IB 5001 \
		$BURST 300 7 "$TMP/sent.sums" 200
	wait "$udp_rpid"
	capture_stop
	nrecv=$(wc -l <"$TMP/recv.sums")
	cmp -s <(sort "$TMP/sent.sums") <(sort "$TMP/recv.sums")
	ok $? "$what: $nrecv of $BURST UDP datagrams delivered, contents identical"

	# shellcheck disable=SC2046
	python3 "$ESP_IIV" open "$TMP/c.pcap" $(open_args) --port 5001 \
		--sums "$TMP/scapy.sums" 2>"$TMP/open.log" >/dev/null
	out=$?
	diag "$(cat "$TMP/open.log")"
	[ $out -eq 0 ] && cmp -s <(sort "$TMP/sent.sums") <(sort "$TMP/scapy.sums")
	ok $? "$what: scapy opens every captured packet with its IV put back; the datagrams are those sent"

	next=$(($(sa_json $B $OB 0x100 replay_state seq) + 1))
	udp_recv_start $B 5002 20 5 "$TMP/recv2.sums" "$IB"
	# shellcheck disable=SC2046
	ip netns exec $A python3 "$ESP_IIV" seal $(open_args) --outer-src $OA \
		--outer-dst $OB --src $IA --dst $IB --port 5002 --count 20 \
		--size 200 --seed 9 --sums "$TMP/sent2.sums" --seq $next \
		--gap-us 2000 2>"$TMP/seal.log"
	wait "$udp_rpid"
	nrecv=$(wc -l <"$TMP/recv2.sums")
	cmp -s <(sort "$TMP/sent2.sums") <(sort "$TMP/recv2.sums")
	ok $? "$what: $nrecv of 20 packets sealed by scapy (IV taken out, SN from $next) delivered by xtfs"
}

# one_size IIV - IP length of the one ESP packet carrying a 64-octet inner
# packet (a UDP datagram of 36 octets) from A to B
one_size() {
	local iiv=()
	[ "$1" = 1 ] && iiv=(iiv)
	sa_flush
	sa_pair "${iiv[@]}" -- "${iiv[@]}" >/dev/null || return 1
	capture_start $A veth-a "$TMP/one.pcap" || return 1
	ip netns exec $A python3 "$SELFTEST_DIR/pcap_esp.py" udp-send $IB 5009 \
		1 36 1 /dev/null
	capture_stop
	pcap_esp_sizes "$TMP/one.pcap" | tr '\n' ' '
}

tap_plan 46
setup_ns || { diag "namespace setup failed"; exit $KSFT_FAIL; }

# 1-30: every algorithm, with and without ESN, IPv4
for alg in gcm ccm chacha; do
	for esn in 0 1; do
		combo $alg $esn 4
	done
done
# 31-45: IPv6, ESN on and off between the algorithms
combo gcm 1 6
combo ccm 0 6
combo chacha 1 6

# 46: octets on the wire for a 64-octet inner packet
sa_families 4 4
fail=0
for alg in gcm ccm chacha; do
	iiv_alg $alg
	plain=$(one_size 0)
	implicit=$(one_size 1)
	diag "$IIV_NAME, 64-octet inner packet, IPv4 outer: ${plain:-none} octets with the IV on the wire, ${implicit:-none} with implicit IV"
	[ -n "$plain" ] && [ "$(echo $plain)" -eq $(($(echo $implicit) + 8)) ] ||
		fail=1
done
ok $fail "implicit IV saves the 8 IV octets of every packet (64-octet inner, each algorithm)"

tap_done
