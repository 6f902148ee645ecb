#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Implicit IV (RFC 8750): SAs made with "xtfs state add ... iiv" for
# AES-GCM-16, AES-CCM-8 and ChaCha20-Poly1305, with and without ESN, over
# IPv4 and IPv6, with AGGFRAG payloads and with the tunnel payload. Real
# traffic both ways, and a cross-check against an independent ESP (scapy,
# selftests/esp_iiv.py): every captured packet opens there as an ordinary
# RFC 4106/4309/7634 packet once its IV is put back, and packets scapy
# seals (IV then taken out) are delivered by xtfs. Then: octets on the
# wire with and without implicit IV, a stock tunnel-mode SA working beside
# implicit-IV SAs, the tunnel payload against a stock tunnel-mode SA,
# replay, reorder and tampering, an ESN wrap, and SAs refused for
# settings that do not fit.
. "$(dirname "$0")/lib.sh"

ESP_IIV="$SELFTEST_DIR/esp_iiv.py"
BURST=40
SEALED=10

# hexkey N FIRST - N octets of key material FIRST, FIRST+1, ... in hex
# (no subshell per octet: a fork costs a tenth of a second or more on the
# emulated debug kernel, and every combo makes its keys, twice)
hexkey() {
	local i h out=0x
	for ((i = $2; i < $2 + $1; i++)); do
		printf -v h %02x $((i % 256))
		out+=$h
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

# iiv_pair ESN [OUT-OPTS [-- IN-OPTS]] - an implicit-IV SA pair, with the
# tunnel payload when PAYLOAD is "tunnel"
iiv_pair() {
	local esn=$1 o=() i=()
	shift
	if [ "$PAYLOAD" = tunnel ]; then
		o+=(payload tunnel)
		i+=(payload tunnel)
	fi
	while [ $# -gt 0 ] && [ "$1" != -- ]; do o+=("$1"); shift; done
	[ "$1" = -- ] && shift
	i+=("$@")
	if [ "$esn" = 1 ]; then
		o+=(flag esn)
		i+=(flag esn)
	fi
	sa_pair iiv "${o[@]}" -- iiv replay-window 64 "${i[@]}"
}

# diag_xfrm - xtfs counters, nonzero xfrm MIB counters and IP drops of
# both ends, after a failure
diag_xfrm() {
	local ns
	diag_path
	for ns in $A $B; do
		diag "$ns: $(ip netns exec $ns grep -v ' 0$' /proc/net/xfrm_stat |
			tr -s ' \t\n' ' ')"
		diag "$ns: $(ip netns exec $ns nstat -az 2>/dev/null |
			grep -E 'Discard|Err|Drop|NoPort|Csum' | grep -v ' 0 ' |
			tr -s ' \n' ' ')"
	done
}

# open_args - the esp_iiv.py SA options of the A to B SA
open_args() {
	echo --alg "$IIV_ALG" --key "$KEY_AB" --spi "$SPI_AB" \
		$([ "$IIV_ESN" = 1 ] && echo --esn)
}

# COMBOS: ALG ESN OUTER PAYLOAD of every SA pair combo() tries
COMBOS=${XTFS_IIV_COMBOS:-"gcm:0:4:aggfrag gcm:1:4:aggfrag ccm:0:4:aggfrag ccm:1:4:aggfrag
	chacha:0:4:aggfrag chacha:1:4:aggfrag chacha:0:6:aggfrag gcm:1:6:tunnel
	ccm:0:6:tunnel chacha:1:4:tunnel"}
# Sequence number of the first packet scapy seals for combo(): above any
# the SA has seen by then
SEAL_SEQ=1000

# combo_setup ALG ESN OUTER PAYLOAD [N] - variables of one combo, the Nth
# of COMBOS with SPIs of its own (default 0x100 and 0x200)
combo_setup() {
	iiv_alg "$1"
	IIV_ESN=$2
	PAYLOAD=$4
	sa_families "$3" "$3"
	TAG=$1-$2-$3-$4
	SPI_AB=0x100 SPI_BA=0x200
	if [ -n "$5" ]; then
		SPI_AB=$(printf 0x%x $((0x1000 + 2 * $5)))
		SPI_BA=$(printf 0x%x $((0x1001 + 2 * $5)))
	fi
}

# seal_line NAME ARGS... - a seal command for seal_batch: packets from A
# to B's SA 0x100, into $TMP/seal-NAME.pcap, sums in $TMP/seal-NAME.sums
seal_line() {
	local name=$1
	shift
	# shellcheck disable=SC2046
	echo "$TMP/seal-$name.log seal $(open_args) --outer-src $OA" \
		"--outer-dst $OB --src $IA --dst $IB" \
		"$([ "$PAYLOAD" = tunnel ] && echo --tunnel)" \
		"--sums $TMP/seal-$name.sums --pcap $TMP/seal-$name.pcap $*"
}

# seal_batch - scapy seals the packets of every test, in one process
# (scapy loads slowly under emulation): those of every combo, then SNs
# 1-10, 1-10 again, 16-20, 11-15 and with the wrong key 21-25 for the
# replay tests
seal_batch() {
	local c n=0
	for c in $COMBOS; do
		n=$((n + 1))
		# shellcheck disable=SC2046
		combo_setup $(echo "$c" | tr : ' ') $n
		seal_line "$TAG" --port 5001 --count $SEALED --size 200 \
			--seed 9 --seq $SEAL_SEQ
	done >"$TMP/seal.batch"
	combo_setup gcm 0 4 aggfrag
	{
		seal_line r1 --port 5020 --count 10 --size 100 --seed 21 --seq 1
		seal_line r2 --port 5021 --count 10 --size 100 --seed 22 --seq 1
		seal_line r3 --port 5022 --count 5 --size 100 --seed 23 --seq 16
		seal_line r4 --port 5022 --count 5 --size 100 --seed 24 --seq 11
		KEY_AB=$(hexkey 20 50) seal_line r5 --port 5023 --count 5 \
			--size 100 --seed 25 --seq 21
	} >>"$TMP/seal.batch"
	py "$ESP_IIV" batch "$TMP/seal.batch"
}

# seal_send NAME [GAP_US] - send the packets seal_batch sealed as NAME
seal_send() {
	py -n $A "$SELFTEST_DIR/pcap_esp.py" esp-send \
		"$TMP/seal-$1.pcap" "${2:-1000}"
}

# combo ALG ESN OUTER PAYLOAD N - an SA pair, traffic both ways, and the
# packets scapy sealed before (seal_batch) delivered; B's capture of all
# combos is opened by scapy at the end (open_batch)
combo() {
	local what out nrecv in=() shows
	combo_setup "$@"
	what="$IIV_NAME esn $2 IPv$3 $PAYLOAD"
	[ "$PAYLOAD" = aggfrag ] && in=(reorder-window 8)
	shows="iiv $IIV_NAME"
	[ "$PAYLOAD" = tunnel ] && shows+=" payload tunnel"
	sa_flush
	iiv_pair "$2" -- "${in[@]}" &&
		ip netns exec $B xtfs state get dst $OB proto esp spi $SPI_AB |
		grep -q "$shows"
	ok $? "$what: SA pair made, xtfs state get shows it"

	out=$(ip netns exec $A ping -q -c 2 -i 0.2 -W 3 -s 3000 -p 5a3c \
		-I $IA $IB 2>&1)
	echo "$out" | grep -q " 0% packet loss" &&
		! echo "$out" | grep -q "wrong data"
	ok $? "$what: pings of 3000 octets and their replies, intact"
	echo "$out" | grep -q " 0% packet loss" || { diag "$out"; diag_xfrm; }

	udp_recv_start $B 5001 $((BURST + SEALED)) 5 "$TMP/recv.sums" "$IB"
	py -n $A "$SELFTEST_DIR/pcap_esp.py" udp-send $IB 5001 \
		$BURST 300 7 "$TMP/sent-$TAG.sums" 200
	seal_send "$TAG" 2000
	udp_sent "$TMP/recv.sums"
	wait "$udp_rpid"
	nrecv=$(grep -cxFf "$TMP/sent-$TAG.sums" "$TMP/recv.sums")
	[ "$nrecv" = $BURST ]
	ok $? "$what: $nrecv of $BURST UDP datagrams delivered, contents identical"
	nrecv=$(grep -cxFf "$TMP/seal-$TAG.sums" "$TMP/recv.sums")
	[ "$nrecv" = $SEALED ] &&
		[ "$(wc -l <"$TMP/recv.sums")" = $((BURST + SEALED)) ]
	ok $? "$what: $nrecv of $SEALED packets sealed by scapy (IV taken out, SN from $SEAL_SEQ) delivered by xtfs"
	# shellcheck disable=SC2046
	echo "$TMP/open-$TAG.log open $TMP/combos.pcap $(open_args)" \
		"--sums $TMP/scapy-$TAG.sums" >>"$TMP/open.batch"
	echo "$what" >>"$TMP/open.what"
}

# open_batch - scapy opens the capture of every combo, in one process:
# every ICV verifies with the IV put back and the datagrams are those sent
open_batch() {
	local i=0 tag what r
	py "$ESP_IIV" batch "$TMP/open.batch"
	while read -r what; do
		i=$((i + 1))
		tag=$(sed -n "${i}p" "$TMP/open.batch" | sed 's|.*/open-\(.*\)\.log open .*|\1|')
		r=$(cat "$TMP/open-$tag.log.rc" 2>/dev/null)
		diag "$(grep -v '^[46] ' "$TMP/open-$tag.log" 2>/dev/null)"
		[ "$r" = 0 ] && cmp -s <(sort "$TMP/sent-$tag.sums" \
			"$TMP/seal-$tag.sums") <(sort "$TMP/scapy-$tag.sums")
		ok $? "$what: scapy opens every captured packet with its IV put back; the datagrams are those sent"
	done <"$TMP/open.what"
}

# one_packet IIV PAYLOAD - send one 64-octet inner packet (an ICMP echo
# request with 36 octets of data) from A to B: through kernel tunnel-mode
# SAs with PAYLOAD "stock"
one_packet() {
	local o=()
	[ "$1" = 1 ] && o+=(iiv)
	[ "$2" = tunnel ] && o+=(payload tunnel)
	sa_flush
	if [ "$2" = stock ]; then
		stock_pair $IA $IB 0x100 0x200 1
	else
		sa_pair "${o[@]}" -- "${o[@]}" >/dev/null
	fi || diag "SAs for $IIV_NAME iiv $1 payload $2 not made"
	ip netns exec $A ping -q -c 1 -W 1 -s 36 -I $IA $IB >/dev/null
}

# sealed_recv PORT N OUT NAME... - send the packets seal_batch sealed as
# NAME... to B, where a receiver on PORT takes up to N datagrams into OUT
sealed_recv() {
	local port=$1 n=$2 out=$3 name
	shift 3
	udp_recv_start $B "$port" "$n" 3 "$out" $IB || return 1
	for name; do
		seal_send "$name"
	done
	udp_sent "$out"
	wait "$udp_rpid"
}

# stock_pair IA IB SPI-AB SPI-BA REQID - kernel tunnel-mode SAs (made with
# ip xfrm, no dir) and policies on both ends for inner addresses IA, IB
stock_pair() {
	local ia=$1 ib=$2 plen=32 ns
	case $ia in *:*) plen=128 ;; esac
	for ns in $A $B; do
		stock_sa $ns $OA $OB "$3" "$5" "$KEY_AB" &&
			stock_sa $ns $OB $OA "$4" "$5" "$KEY_BA" || return 1
	done
	stock_pol $A $ia $ib $OA $OB "$5" && stock_pol $B $ib $ia $OB $OA "$5"
}

# stock_sa NS SRC DST SPI REQID KEY - one kernel tunnel-mode SA
stock_sa() {
	ip -n "$1" xfrm state add src "$2" dst "$3" proto esp spi "$4" \
		reqid "$5" mode tunnel aead "$AEAD" "$6" "$SA_ICV"
}

# stock_pol NS LOCAL PEER OLOCAL OPEER REQID - tunnel-mode policies, out
# and in, between inner addresses LOCAL and PEER (host prefixes)
stock_pol() {
	local plen=32
	case $2 in *:*) plen=128 ;; esac
	ip -n "$1" xfrm policy add src "$2/$plen" dst "$3/$plen" dir out \
		tmpl src "$4" dst "$5" proto esp reqid "$6" mode tunnel &&
	ip -n "$1" xfrm policy add src "$3/$plen" dst "$2/$plen" dir in \
		tmpl src "$5" dst "$4" proto esp reqid "$6" mode tunnel
}

# ping_both A-ADDR B-ADDR - pings both ways, replies intact
ping_both() {
	local out r=0
	out=$(ip netns exec $A ping -q -c 2 -i 0.2 -W 3 -s 1000 -I "$1" "$2" 2>&1)
	echo "$out" | grep -q " 0% packet loss" || { diag "$out"; r=1; }
	out=$(ip netns exec $B ping -q -c 2 -i 0.2 -W 3 -s 1000 -I "$2" "$1" 2>&1)
	echo "$out" | grep -q " 0% packet loss" || { diag "$out"; r=1; }
	return $r
}

tap_plan
setup_ns || { diag "namespace setup failed"; exit $KSFT_FAIL; }

# 1-40: every algorithm with and without ESN over IPv4; each with the
# tunnel payload (next header 4/41), over IPv6 or IPv4; AGGFRAG over IPv6
t0=$(date +%s)
seal_batch || diag "scapy did not seal"
diag "scapy sealed the packets of every test in $(($(date +%s) - t0)) s"
: >"$TMP/open.batch"
: >"$TMP/open.what"
capture_start $B veth-b "$TMP/combos.pcap" 65535 ||
	diag "capture did not start"
n=0
for c in $COMBOS; do
	n=$((n + 1))
	# shellcheck disable=SC2046
	combo $(echo "$c" | tr : ' ') $n
done
capture_stop
diag "SA pairs tried in $(($(date +%s) - t0)) s"

# 41-42: octets on the wire for a 64-octet inner packet, one capture of
# what leaves A: one ESP packet for each setting in turn
combo_setup gcm 0 4 aggfrag
ip netns exec $A tcpdump -i veth-a -Q out -U -w "$TMP/wire.pcap" esp \
	>"$TMP/wire.log" 2>&1 &
_cap_pid=$! _cap_file=$TMP/wire.pcap
for _ in $(seq 600); do
	grep -q listening "$TMP/wire.log" && break
	sleep 0.1
done
for alg in gcm ccm chacha; do
	iiv_alg $alg
	w="aggfrag:0 aggfrag:1"
	[ $alg = gcm ] && w+=" stock:0 tunnel:0 tunnel:1"
	for w in $w; do
		one_packet "${w#*:}" "${w%:*}"
	done
done
capture_stop
mapfile -t sizes < <(pcap_esp_sizes "$TMP/wire.pcap")
fail=0
tfail=0
[ ${#sizes[@]} -eq 9 ] || { diag "${#sizes[@]} packets, not 9"; fail=1; }
i=0
for alg in gcm ccm chacha; do
	iiv_alg $alg
	plain=${sizes[$i]} implicit=${sizes[$((i + 1))]}
	diag "$IIV_NAME, 64-octet inner packet, IPv4 outer, octets on the wire: IP-TFS ${plain:-none}, IP-TFS with implicit IV ${implicit:-none}"
	[ -n "$implicit" ] && [ "$plain" = $((implicit + 8)) ] || fail=1
	i=$((i + 2))
	[ $alg = gcm ] || continue
	stock=${sizes[$i]} tunnel=${sizes[$((i + 1))]} tunnel_iiv=${sizes[$((i + 2))]}
	i=$((i + 3))
	diag "$IIV_NAME, the same through kernel tunnel mode ${stock:-none}, the tunnel payload ${tunnel:-none}, the tunnel payload with implicit IV ${tunnel_iiv:-none}"
	[ -n "$tunnel_iiv" ] && [ "$stock" = "$tunnel" ] &&
		[ "$stock" = $((tunnel_iiv + 8)) ] || tfail=1
done
ok $fail "IP-TFS: implicit IV saves the 8 IV octets of every packet (64-octet inner, each algorithm)"
ok $tfail "tunnel payload (aes-gcm-16): as long as kernel tunnel mode without implicit IV, 8 octets shorter with it"

# 43-45: a stock tunnel-mode SA beside implicit-IV SAs on the same hosts:
# each SA's own type (the kernel's ESP, or xtfs's) serves its packets
iiv_alg gcm
PAYLOAD=aggfrag
sa_flush
IA2=198.51.100.11 IB2=198.51.100.12
ip -n $A addr add $IA2/32 dev lo
ip -n $B addr add $IB2/32 dev lo
ip -n $A route add $IB2/32 dev veth-a src $IA2
ip -n $B route add $IA2/32 dev veth-b src $IB2
iiv_pair 1 && stock_pair $IA2 $IB2 0x300 0x400 3
ok $? "implicit-IV SA pair (xtfs) and tunnel-mode SA pair (ip xfrm) side by side"
ping_both $IA2 $IB2 && udp_check $A $IB2 $B 5010 50 500 &&
	udp_check $B $IA2 $A 5011 50 500
ok $? "stock tunnel-mode SAs: pings and 50 UDP datagrams each way delivered intact"
before=$(sa_json $B $OB 0x300 curlft packets)
ping_both $IA $IB && udp_check $A $IB $B 5012 50 500 &&
	[ "$(sa_json $B $OB 0x300 curlft packets)" = "$before" ]
ok $? "implicit-IV SAs at the same time: delivered, none of their packets counted on the stock SA"

# 46-48: the tunnel payload without extension against kernel tunnel mode
sa_flush
for spi in 0x100 0x200; do
	if [ $spi = 0x100 ]; then s=$OA d=$OB k=$KEY_AB dir=out
	else s=$OB d=$OA k=$KEY_BA dir=in; fi
	ip netns exec $A xtfs state add src $s dst $d proto esp spi $spi \
		reqid 1 dir $dir mode iptfs aead "$AEAD" $k $SA_ICV \
		payload tunnel || fail=1
	stock_sa $B $s $d $spi 1 $k || fail=1
done
_sa_policies $A a $OA $OB && stock_pol $B $IB $IA $OB $OA 1
ok $? "xtfs SAs with the tunnel payload on A, kernel tunnel-mode SAs on B"
ping_both $IA $IB
ok $? "tunnel payload to and from kernel tunnel mode: pings both ways"
udp_check $A $IB $B 5013 50 1000 && udp_check $B $IA $A 5014 50 1000
ok $? "tunnel payload to and from kernel tunnel mode: 50 UDP datagrams each way intact"

# 49-52: replay, reorder and tampering, on packets scapy sealed
combo_setup gcm 0 4 aggfrag
sa_flush
# A long drop time: IP-TFS holds 16-20 until 11-15 come (a second sender)
iiv_pair 0 -- reorder-window 16 drop-time 10000000
sealed_recv 5020 10 "$TMP/r1" r1
cmp -s <(sort "$TMP/seal-r1.sums") <(sort "$TMP/r1")
ok $? "SNs 1-10 sealed by scapy: $(wc -l <"$TMP/r1") of 10 delivered"
sealed_recv 5021 10 "$TMP/r2" r2
n=$(wc -l <"$TMP/r2")
replays=$(sa_json $B $OB 0x100 stats replay)
[ "$n" = 0 ] && [ "$replays" = 10 ]
ok $? "SNs 1-10 replayed: $n delivered, $replays counted as replays on the SA"
sealed_recv 5022 10 "$TMP/r3" r3 r4
cmp -s <(sort "$TMP/seal-r3.sums" "$TMP/seal-r4.sums") <(sort "$TMP/r3")
ok $? "SNs 16-20 then 11-15 (reordered within the windows): $(wc -l <"$TMP/r3") of 10 delivered"
sealed_recv 5023 5 "$TMP/r5" r5
n=$(wc -l <"$TMP/r5")
bad=$(sa_json $B $OB 0x100 stats integrity_failed)
pkts=$(sa_json $B $OB 0x100 curlft packets)
[ "$n" = 0 ] && [ "$bad" = 5 ] && [ "$pkts" = 20 ]
ok $? "SNs 21-25 sealed with another key: $n delivered, $bad integrity failures; lifetime $pkts packets (the 20 accepted)"

# 53-54: an ESN wrap: both SAs start 32 below 2^32 (scapy opens the
# capture with the others, at the end)
combo_setup chacha 1 4 aggfrag
sa_flush
iiv_pair 1 replay-oseq 0xffffffe0 -- replay-seq 0xffffffe0 reorder-window 8
ok $? "$IIV_NAME SA pair with ESN, sequence numbers from 2^32 - 32"
capture_start $B veth-b "$TMP/w.pcap" 65535 || diag "capture did not start"
# 1400 octets: each datagram needs an outer packet of its own, so the 64
# cross the wrap however many a busy sender would otherwise aggregate
# (with 200 octets, a slow debug guest packed them into fewer than 32).
udp_check $A $IB $B 5030 64 1400
r=$?
capture_stop
ohi=$(sa_json $A $OB 0x100 replay_state oseq_hi)
ihi=$(sa_json $B $OB 0x100 replay_state seq_hi)
[ $r -eq 0 ] && [ "$ohi" = 1 ] && [ "$ihi" = 1 ]
ok $? "64 datagrams across the wrap delivered intact; sender oseq-hi $ohi, receiver seq-hi $ihi"
cp "$TMP/u.sent" "$TMP/sent-wrap.sums"
: >"$TMP/seal-wrap.sums"
# shellcheck disable=SC2046
echo "$TMP/open-wrap.log open $TMP/w.pcap $(open_args) --port 5030" \
	"--sums $TMP/scapy-wrap.sums" >>"$TMP/open.batch"
echo "$IIV_NAME esn across the 2^32 wrap (high half 0, then 1)" \
	>>"$TMP/open.what"

# 55-60: settings that do not fit are refused with a message, and no SA
# is left behind
sa_flush
sa_get() {
	ip netns exec $A xtfs state get dst "$1" proto esp spi "$2" >/dev/null 2>&1
}
add() {
	ip netns exec $A "$@" 2>&1
}
out=$(add xtfs state add src $OA dst 239.1.2.3 proto esp spi 0x600 reqid 6 \
	dir out mode iptfs aead "$AEAD" $KEY_AB $SA_ICV iiv)
r=$?
diag "multicast: $out"
[ $r -ne 0 ] && echo "$out" | grep -q "group (multicast) SA" &&
	! sa_get 239.1.2.3 0x600
ok $? "implicit IV on a multicast SA refused (RFC 8750 section 7), no SA made"
iiv_alg gcm
out=$(py -n $A "$SELFTEST_DIR/xtfs_genl.py" stage 4 $OB 0x601 29 -- \
	xtfs state add src $OA dst $OB proto esp spi 0x601 reqid 6 dir out \
	mode iptfs aead "$AEAD" $KEY_AB $SA_ICV 2>&1)
r=$?
diag "ccm staged for gcm: $out"
[ $r -ne 0 ] && echo "$out" | grep -q "ENCR_AES_CCM_8_IIV needs an SA with AEAD rfc4309(ccm(aes)) and a 64-bit ICV" &&
	! sa_get $OB 0x601
ok $? "staged ENCR_AES_CCM_8_IIV for an rfc4106 SA refused by the kernel, no SA made"
out=$(py -n $A "$SELFTEST_DIR/xtfs_genl.py" stage 4 $OB 0x602 30 -- \
	xtfs state add src $OA dst $OB proto esp spi 0x602 reqid 6 dir out \
	mode iptfs enc "cbc(aes)" 0x$(hexkey 16 1 | cut -c3-) \
	auth "hmac(sha256)" $(hexkey 32 1) 2>&1)
r=$?
diag "staged for cbc/hmac: $out"
[ $r -ne 0 ] && echo "$out" | grep -q "ENCR_AES_GCM_16_IIV needs an SA with AEAD rfc4106(gcm(aes))" &&
	! sa_get $OB 0x602
ok $? "staged implicit IV for a non-AEAD SA refused by the kernel, no SA made"
out=$(py -n $A "$SELFTEST_DIR/xtfs_genl.py" stage 4 $OB 0x603 0 1 -- \
	xtfs state add src $OA dst $OB proto esp spi 0x603 reqid 6 dir out \
	mode iptfs aead "$AEAD" $KEY_AB $SA_ICV pkt-size 1000 2>&1)
r=$?
diag "tunnel payload with pkt-size: $out"
[ $r -ne 0 ] && echo "$out" | grep -q "IP-TFS parameters do not apply" &&
	! sa_get $OB 0x603
ok $? "staged tunnel payload with an IP-TFS parameter refused by the kernel, no SA made"
# Staged in A, where the SA is made: staging is per namespace.
py -n $A "$SELFTEST_DIR/xtfs_genl.py" stage 4 $OB 0x604 30 -- true &&
	add xtfs state add src $OA dst $OB proto esp spi 0x604 reqid 6 dir out \
	mode iptfs aead "$AEAD" $KEY_AB $SA_ICV >/dev/null &&
	[ -z "$(sa_json $A $OB 0x604 iptfs iiv)" ]
ok $? "settings staged by a socket since closed are gone: a later SA has no implicit IV"
fail=0
last=
while read -r c out; do
	last=$c
	diag "$c: $out"
	case $out in
	OK*|*"|") fail=1 ;;
	esac
done < <(py "$SELFTEST_DIR/xtfs_genl.py" bad-each stage-iiv-range \
	stage-iiv-short stage-saddr stage-missing-spi stage-stats \
	stage-payload-range get-with-iiv 2>&1)
[ "$last" = get-with-iiv ] || fail=1
ok $fail "malformed stage requests refused, each with an extended ACK message"

# 61-71: what scapy makes of the captures
t1=$(date +%s)
open_batch
diag "scapy opened the captures in $(($(date +%s) - t1)) s; $(($(date +%s) - t0)) s in all"

tap_done
