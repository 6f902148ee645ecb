#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Diet-ESP (draft-ietf-ipsecme-diet-esp-07 sections 5.2, 5.3) on the SAs
# of xtfs's ESP engine: "xtfs state add ... [iiv] spi-lsb N sn-lsb N
# trailer mandatory|optional align 8|16|32|64", with implicit IV or, without
# "iiv", the IV on the wire. For each combination of COMBOS (algorithm,
# ESN, outer family, payload, the four settings, ESP in UDP, the IV):
# an SA pair between outer addresses of its own, pings and UDP traffic
# both ways delivered intact, packets sealed by an independent Diet-ESP
# (selftests/diet_esp.py, python3-cryptography) delivered by xtfs, and
# every captured packet of both directions opened by diet_esp.py (SNs
# rebuilt from their low bits as the receiver does, every ICV verified,
# each packet exactly what sealing its payload again gives), its length
# checked against the RFC 8750 length of the same payload. The engine
# with the IV on the wire and the kernel's own ESP at the two ends of a
# tunnel carry traffic both ways. Then: packets
# with a wrong rebuilt SN, a tampered ICV or SPI bits of no SA dropped and
# counted; settings the module or the helper must refuse; what state get
# shows; GRO (esp4/esp6_offload) with compressed headers.
. "$(dirname "$0")/lib.sh"

DIET="$SELFTEST_DIR/diet_esp.py"
# UDP datagrams each way per combo, and through GRO. The debug kernel
# (KASAN, lockdep, kmemleak, all emulated) gets fewer, the same checks on
# each (as xtfs_fuzz does): its 100 ChaCha20-Poly1305 datagrams through
# GRO alone took 97 s.
BURST=30
GRO_N=100
# The idle seconds after which a UDP receiver stops: diet_esp.py's
# packets (SN 100 on) wait for the SA's drop time (1 s) behind the gap
# below them, after the bursts both ways and a Python start, which on the
# loaded debug kernel once took more than 3 s.
IDLE=3
if [ "${XTFS_KERNEL:-}" = debug ]; then
	BURST=15
	GRO_N=30
	IDLE=6
fi
# Ping sizes against the kernel's ESP (two echo requests each)
KESP_SIZES="56 100 333 700 1001 1400"
[ "${XTFS_KERNEL:-}" = debug ] && KESP_SIZES="56 333 1001 1400"
SEALED=8
# SN of the first packet diet_esp.py seals for a combo, above the start
# of its SA's SNs: the receiver has seen fewer than 64 packets by then, so
# with sn-lsb >= 8 and a window of 64 it rebuilds these SNs (B = 1).
SEAL_OFF=100

# The words the module's refusals (extended ACK, "xtfs: <strerror>:
# <message>") must contain, as extended grep -i patterns: one place to
# adjust them to the module's messages.
MSG_WINDOW='replay.window'                  # sn-lsb < 32, window too big/0
MSG_SN_NEEDS_SPI='sn-lsb'                   # sn-lsb < 32 with spi-lsb 32
MSG_SPI_ZERO='spi-lsb'                      # spi-lsb 0 (with sn-lsb < 32)
MSG_SPI_BITS='spi-lsb|SPI'                  # top bits = low bits
MSG_COLLIDE='spi-lsb|SPI'                   # prefix of another inbound SA
MSG_ZERO='spi-lsb|SPI|encap|UDP|marker'     # header of zeros in UDP

# COMBOS: ALG:ESN:OUTER:PAYLOAD:SPI-LSB:SN-LSB:TRAILER:ALIGN:ENCAP[:IV].
# ESN 2: ESN, both ends starting at SN 2^32 - 32 (the high half changes).
# ENCAP 1: encap espinudp 4500 4500. IV iiv (the default) or explicit (no
# "iiv": the IV on the wire).
COMBOS=${XTFS_DIET_COMBOS:-"gcm:0:4:aggfrag:32:32:mandatory:32:0
	ccm:0:4:aggfrag:8:8:optional:8:0
	chacha:0:4:aggfrag:16:16:mandatory:64:0
	gcm:0:4:aggfrag:32:32:optional:8:0
	gcm:0:6:aggfrag:8:16:optional:16:0
	chacha:0:6:tunnel:16:8:optional:8:0
	ccm:1:4:tunnel:8:24:optional:32:0
	gcm:2:4:aggfrag:8:8:mandatory:16:0
	gcm:0:4:aggfrag:16:16:optional:32:1
	gcm:0:4:aggfrag:16:16:optional:8:0:explicit
	chacha:1:6:tunnel:8:8:mandatory:32:0:explicit
	ccm:0:4:aggfrag:32:32:optional:16:1:explicit"}

# diet_alg ALG - AEAD, ICV and keys of ALG (gcm, ccm or chacha)
diet_alg() {
	ALG=$1
	case $1 in
	gcm)
		AEAD="rfc4106(gcm(aes))" SA_ICV=128 ICV=16
		KEY_AB=$(hexkey 20 1) KEY_BA=$(hexkey 20 101) ;;
	ccm)
		AEAD="rfc4309(ccm(aes))" SA_ICV=64 ICV=8
		KEY_AB=$(hexkey 35 1) KEY_BA=$(hexkey 35 101) ;;
	chacha)
		AEAD="rfc7539esp(chacha20,poly1305)" SA_ICV=128 ICV=16
		KEY_AB=$(hexkey 36 1) KEY_BA=$(hexkey 36 101) ;;
	esac
}

# diet_words - the helper's words of the settings (all four, defaults too)
diet_words() {
	echo spi-lsb "$SPI_LSB" sn-lsb "$SN_LSB" trailer "$TRAILER" align "$ALIGN"
}

# diet_shown - what state get shows of the settings: those not at their
# default, in the order spi-lsb, sn-lsb, trailer, align
diet_shown() {
	local w=""
	[ "$SPI_LSB" != 32 ] && w+=" spi-lsb $SPI_LSB"
	[ "$SN_LSB" != 32 ] && w+=" sn-lsb $SN_LSB"
	[ "$TRAILER" != mandatory ] && w+=" trailer $TRAILER"
	[ "$ALIGN" != 32 ] && w+=" align $ALIGN"
	echo "${w# }"
}

# shows_settings TEXT - TEXT (state get) has "WORD VALUE" for each setting
# not at its default (diet_shown), and no word of those at their default
shows_settings() {
	local w=(spi-lsb sn-lsb trailer align) v=("$SPI_LSB" "$SN_LSB" "$TRAILER" "$ALIGN")
	local d=(32 32 mandatory 32) i
	for i in 0 1 2 3; do
		if [ "${v[$i]}" = "${d[$i]}" ]; then
			echo "$1" | grep -qw -- "${w[$i]}" && return 1
		else
			echo "$1" | grep -qw -- "${w[$i]} ${v[$i]}" || return 1
		fi
	done
	return 0
}

# trailer_len N - octets the trailer adds to an N-octet ESP payload, in
# TRAILER_LEN (not printed: it runs for every captured packet, and a
# subshell each time costs minutes on the emulated debug kernel)
trailer_len() {
	local a=$((ALIGN / 8)) n=$1
	if [ "$TRAILER" = mandatory ]; then
		TRAILER_LEN=$((2 + (a - (n + 2) % a) % a))
	elif [ "$ALIGN" = 8 ]; then
		TRAILER_LEN=0
	else
		TRAILER_LEN=$((1 + (a - (n + 1) % a) % a))
	fi
}

# combo_setup SPEC N - the variables of combo SPEC (see COMBOS), the Nth:
# outer addresses and SPIs of its own
combo_setup() {
	local esn outer enc iv
	IFS=: read -r ALG esn outer PAYLOAD SPI_LSB SN_LSB TRAILER ALIGN enc iv <<<"$1"
	diet_alg "$ALG"
	ESN=$esn ENCAP=$enc
	# Octets of IV on the wire
	WIV=0
	[ "$iv" = explicit ] && WIV=8
	# Keys of its own: xtfs remembers how far each implicit-IV key went
	# and starts a new SA of that key beyond it (no nonce reuse)
	KEY_AB=$(hexkey $(((${#KEY_AB} - 2) / 2)) $((1 + 7 * $2)))
	KEY_BA=$(hexkey $(((${#KEY_BA} - 2) / 2)) $((131 + 7 * $2)))
	sa_families "$outer" "$outer"
	if [ "$outer" = 6 ]; then
		OA=2001:db8:1::a:$2 OB=2001:db8:1::b:$2
	else
		OA=192.0.2.$((10 + $2)) OB=192.0.2.$((110 + $2))
	fi
	# Low bits never 0, top 16 bits 0: no SPI whose top bits equal its
	# low ones (refused), no first octets of zero (a non-ESP marker in
	# UDP).
	printf -v SPI_AB 0x%x $((0x1001 + 0x10 * $2))
	printf -v SPI_BA 0x%x $((0x2002 + 0x10 * $2))
	WINDOW=64
	TOP=0
	[ "$ESN" = 2 ] && TOP=$((0xffffffe0))
	TAG=${1//:/-}
	WHAT="$ALG esn $ESN IPv$outer $PAYLOAD $(diet_words)"
	[ "$ENCAP" = 1 ] && WHAT+=" espinudp"
	[ "$WIV" = 8 ] && WHAT+=" IV on the wire"
	return 0
}

# combo_addrs N OUTER - outer addresses of combo N on the veths, their
# neighbours permanent (as setup_ns does for the first ones)
combo_addrs() {
	local ma mb
	ma=$(ip -n $A -br link show veth-a | awk '{ print $3 }')
	mb=$(ip -n $B -br link show veth-b | awk '{ print $3 }')
	if [ "$2" = 6 ]; then
		ip -n $A addr add $OA/64 dev veth-a nodad &&
			ip -n $B addr add $OB/64 dev veth-b nodad
	else
		ip -n $A addr add $OA/24 dev veth-a &&
			ip -n $B addr add $OB/24 dev veth-b
	fi &&
	ip -n $A neigh replace $OB lladdr "$mb" dev veth-a nud permanent &&
		ip -n $B neigh replace $OA lladdr "$ma" dev veth-b nud permanent
}

# sa_opts DIR - diet_esp.py SA options of the A to B (ab) or B to A (ba) SA
sa_opts() {
	local key=$KEY_AB spi=$SPI_AB src=$OA dst=$OB
	[ "$1" = ba ] && key=$KEY_BA spi=$SPI_BA src=$OB dst=$OA
	local extra=""
	[ "$ESN" != 0 ] && extra+=" --esn"
	[ "$ENCAP" = 1 ] && extra+=" --udp 4500"
	[ "$WIV" = 8 ] && extra+=" --explicit-iv"
	echo --alg "$ALG" --key "$key" --spi "$spi" --spi-lsb "$SPI_LSB" \
		--sn-lsb "$SN_LSB" --trailer "$TRAILER" --align "$ALIGN" \
		--payload "$PAYLOAD" --replay-window "$WINDOW" \
		--outer-src "$src" --outer-dst "$dst"$extra
}

# diet_pair - the SA pair of the current combo, made with the helper
diet_pair() {
	local o=() i=() any
	if [ "$WIV" = 0 ]; then
		o+=(iiv)
		i+=(iiv)
	fi
	# The settings not at their default (those at it: the refusal tests)
	# shellcheck disable=SC2207
	o+=($(diet_shown))
	# shellcheck disable=SC2207
	i+=($(diet_shown) replay-window "$WINDOW")
	# shellcheck disable=SC2206
	[ -n "${IN_EXTRA:-}" ] && i+=($IN_EXTRA)
	if [ "$PAYLOAD" = tunnel ]; then
		o+=(payload tunnel)
		i+=(payload tunnel)
	fi
	if [ "$ESN" != 0 ]; then
		o+=(flag esn)
		i+=(flag esn)
	fi
	if [ "$ESN" = 2 ]; then
		o+=(replay-oseq "$TOP")
		i+=(replay-seq "$TOP")
	fi
	if [ "$ENCAP" = 1 ]; then
		any=0.0.0.0
		case $OA in *:*) any=:: ;; esac
		o+=(encap espinudp 4500 4500 "$any")
		i+=(encap espinudp 4500 4500 "$any")
	fi
	sa_pair "${o[@]}" -- "${i[@]}"
}

# encap_socket NS - a UDP socket on port 4500 (IPv4 and IPv6) with
# UDP_ENCAP_ESPINUDP in namespace NS, as an IKE daemon keeps open
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

# diag_xfrm - counters of both ends after a failure
diag_xfrm() {
	local ns
	diag_path
	for ns in $A $B; do
		diag "$ns: $(ip netns exec $ns grep -v ' 0$' /proc/net/xfrm_stat |
			tr -s ' \t\n' ' ')"
	done
}

# sa_num NS DST SPI KEY... - a number of sa_json, -1000000 (which no
# check accepts) when the SA or the field is missing
sa_num() {
	local v
	v=$(sa_json "$@" 2>/dev/null)
	case $v in
	''|*[!0-9]*) echo -1000000 ;;
	*) echo "$v" ;;
	esac
}

# xfrm_stat NS NAME - counter NAME of /proc/net/xfrm_stat in NS
xfrm_stat() {
	ip netns exec "$1" awk -v n="$2" '$1 == n { print $2 }' /proc/net/xfrm_stat
}

# seal_line NAME ARGS... - a seal command for the batch: packets from A to
# B's SA into $TMP/seal-NAME.pcap, sums in $TMP/seal-NAME.sums
seal_line() {
	local name=$1
	shift
	echo "$TMP/seal-$name.log seal $(sa_opts ab) --src $IA --dst $IB" \
		"--size 200 --seed 9 --sums $TMP/seal-$name.sums" \
		"--pcap $TMP/seal-$name.pcap $*"
}

# seal_send NAME - send the packets the batch sealed as NAME, from A
seal_send() {
	py -n $A "$SELFTEST_DIR/pcap_esp.py" esp-send "$TMP/seal-$1.pcap" 1000
}

# combo SPEC N - SA pair, traffic both ways, sealed packets delivered; the
# capture is opened at the end (open_batch)
combo() {
	local out n0 n1 nrecv shows js r fail made
	combo_setup "$1" "$2"
	sa_flush
	shows=$(diet_shown)
	diet_pair &&
		out=$(ip netns exec $B xtfs state get dst $OB proto esp spi $SPI_AB) &&
		shows_settings "$out"
	r=$?
	made=$r
	[ $r = 0 ] || diag "state get: $out"
	ok $r "$WHAT: SA pair made; state get shows \"$shows\""
	fail=0
	js=$(ip netns exec $A xtfs -j state get dst $OB proto esp spi $SPI_AB |
		py -i -c '
import json, sys
v = json.load(sys.stdin)
v = (v[0] if isinstance(v, list) else v).get("iptfs", {})
print(" ".join("%s:%s" % (k, v.get(k, "")) for k in sys.argv[1:]))' \
		spi_lsb sn_lsb trailer align 2>/dev/null)
	for f in spi_lsb:$SPI_LSB:32 sn_lsb:$SN_LSB:32 trailer:$TRAILER:mandatory align:$ALIGN:32; do
		IFS=: read -r k v d <<<"$f"
		case " $js " in
		*" $k:$v "*) ;;
		*" $k: "*) [ "$v" = "$d" ] || fail=1 ;;	# a default left out
		*) fail=1 ;;
		esac
	done
	[ $fail = 0 ] || diag "JSON iptfs: $js"
	ok $fail "$WHAT: JSON iptfs object: spi_lsb, sn_lsb, trailer, align"

	out=$(ip netns exec $A ping -q -c 3 -i 0.2 -W 3 -s 1000 -p 5a3c \
		-I $IA $IB 2>&1)
	# (Without the SAs the traffic would go in the clear: $made.)
	[ "$made" = 0 ] && echo "$out" | grep -q " 0% packet loss" &&
		! echo "$out" | grep -q "wrong data"
	r=$?
	[ $r = 0 ] || { diag "$out"; diag_xfrm; }
	ok $r "$WHAT: pings of 1000 octets and their replies, intact"

	# Both ways at once, then diet_esp.py's packets to B
	udp_recv_start $B 5001 $((BURST + SEALED)) $IDLE "$TMP/recv-ab" "$IB" &&
		n0=$udp_rpid &&
		udp_recv_start $A 5002 $BURST $IDLE "$TMP/recv-ba" "$IA" &&
		n1=$udp_rpid || diag "UDP receivers did not start"
	py -n $A "$SELFTEST_DIR/pcap_esp.py" udp-send $IB 5001 $BURST 300 7 \
		"$TMP/sent-ab-$TAG.sums" 200
	py -n $B "$SELFTEST_DIR/pcap_esp.py" udp-send $IA 5002 $BURST 500 8 \
		"$TMP/sent-ba-$TAG.sums" 200
	seal_send "$TAG"
	udp_sent "$TMP/recv-ab"
	udp_sent "$TMP/recv-ba"
	wait "$n0" "$n1"
	nrecv=$(grep -cxFf "$TMP/sent-ab-$TAG.sums" "$TMP/recv-ab")
	[ "$made" = 0 ] && [ "$nrecv" = $BURST ]
	ok $? "$WHAT: A to B, $nrecv of $BURST UDP datagrams delivered, contents identical"
	nrecv=$(grep -cxFf "$TMP/sent-ba-$TAG.sums" "$TMP/recv-ba")
	[ "$made" = 0 ] && [ "$nrecv" = $BURST ] &&
		[ "$(wc -l <"$TMP/recv-ba")" = $BURST ]
	ok $? "$WHAT: B to A, $nrecv of $BURST UDP datagrams delivered, contents identical"
	nrecv=$(grep -cxFf "$TMP/seal-$TAG.sums" "$TMP/recv-ab")
	[ "$nrecv" = $SEALED ] &&
		[ "$(wc -l <"$TMP/recv-ab")" = $((BURST + SEALED)) ]
	r=$?
	[ $r = 0 ] || { diag "$(cat "$TMP/seal-$TAG.log")"; diag_xfrm; }
	ok $r "$WHAT: $nrecv of $SEALED packets sealed by diet_esp.py (SN $((TOP + SEAL_OFF)) on) delivered by xtfs"
	# The capture is opened at the end, both directions
	cat "$TMP/sent-ab-$TAG.sums" "$TMP/seal-$TAG.sums" >"$TMP/want-ab-$TAG"
	cp "$TMP/sent-ba-$TAG.sums" "$TMP/want-ba-$TAG"
	for d in ab ba; do
		echo "$TMP/open-$d-$TAG.log open $TMP/combos.pcap $(sa_opts $d)" \
			"--top $TOP --sums $TMP/got-$d-$TAG" \
			"--sizes $TMP/sizes-$d-$TAG" >>"$TMP/open.batch"
		echo "$d $TAG $ICV $(echo $SA_OUTER) $TRAILER $ALIGN $ENCAP $WIV $WHAT" \
			>>"$TMP/open.what"
	done
}

# open_batch - diet_esp.py opens the capture of every combo, both
# directions, in one process; then the sums and the lengths
open_batch() {
	local d tag icv outer trailer align enc wiv what r iph bad saved n dir
	py "$DIET" batch "$TMP/open.batch"
	while read -r d tag icv outer trailer align enc wiv what; do
		dir="A to B"
		[ "$d" = ba ] && dir="B to A"
		r=$(cat "$TMP/open-$d-$tag.log.rc" 2>/dev/null)
		diag "$d: $(grep -v '^[46] ' "$TMP/open-$d-$tag.log" 2>/dev/null)"
		[ "$r" = 0 ] && cmp -s <(sort "$TMP/want-$d-$tag") \
			<(sort "$TMP/got-$d-$tag") ||
			{ diag "status ${r:-none}; datagrams sent only $(comm -23 <(sort "$TMP/want-$d-$tag") <(sort "$TMP/got-$d-$tag" 2>/dev/null) | wc -l), opened only $(comm -13 <(sort "$TMP/want-$d-$tag") <(sort "$TMP/got-$d-$tag" 2>/dev/null) | wc -l)"; false; }
		ok $? "$what, $dir: diet_esp.py opens every captured packet (SNs rebuilt, ICVs verified, each what sealing its payload again gives); the datagrams are those sent"
		# SN IPLEN HDR PAYLOAD RFC8750: IPLEN must be the outer IP
		# header + header octets + IV on the wire + payload + trailer
		# + ICV, the RFC 8750 length 8 octets of header (and the IV)
		# and its own trailer
		iph=20
		[ "$outer" = 6 ] && iph=40
		TRAILER=$trailer ALIGN=$align
		bad=0 saved=0 n=0
		while read -r _ tot hdr pay old; do
			n=$((n + 1))
			trailer_len "$pay"
			[ "$tot" = $((iph + hdr + wiv + pay + TRAILER_LEN + icv)) ] &&
				[ "$old" = $((iph + 8 + wiv + pay + 2 + (4 - (pay + 2) % 4) % 4 + icv)) ] ||
				bad=$((bad + 1))
			saved=$((saved + old - tot))
		done <"$TMP/sizes-$d-$tag"
		[ "$n" -gt 0 ] && [ $bad = 0 ]
		ok $? "$what, $dir: $n packets, each exactly IP header + header + IV ($wiv) + payload + trailer + ICV long ($bad not); $saved octets fewer than with the whole header and RFC 4303's trailer"
	done <"$TMP/open.what"
}

# sealed_recv PORT N OUT NAME... - send the packets sealed as NAME... to B,
# where a receiver on PORT takes up to N datagrams into OUT
sealed_recv() {
	local port=$1 n=$2 out=$3 name
	shift 3
	udp_recv_start $B "$port" "$n" 2 "$out" $IB || return 1
	for name; do
		seal_send "$name"
	done
	udp_sent "$out"
	wait "$udp_rpid"
}

# refused STATUS PATTERN DESC DST SPI ADD-ARGS... - "xtfs state add
# ADD-ARGS" in A fails with exit status STATUS, its message matches
# PATTERN (grep -Ei) and no SA DST SPI is left
refused() {
	local st=$1 pat=$2 desc=$3 dst=$4 spi=$5 out r
	shift 5
	out=$(ip netns exec $A xtfs state add "$@" 2>&1)
	r=$?
	diag "$desc: status $r: $out"
	[ $r = "$st" ] && echo "$out" | grep -qEi -- "$pat" &&
		! ip netns exec $A xtfs state get dst "$dst" proto esp spi "$spi" \
			>/dev/null 2>&1
	ok $? "$desc: refused (status $st, \"$pat\"), no SA made"
}

# accepted DESC DST SPI ADD-ARGS... - "xtfs state add ADD-ARGS" in A works
accepted() {
	local desc=$1 dst=$2 spi=$3 out
	shift 3
	out=$(ip netns exec $A xtfs state add "$@" 2>&1) ||
		diag "$desc: $out"
	ip netns exec $A xtfs state get dst "$dst" proto esp spi "$spi" \
		>/dev/null 2>&1
	ok $? "$desc: accepted"
}

# napi_rx NS DEV - packets DEV received through its NAPI poll (GRO)
napi_rx() {
	ip netns exec "$1" ethtool -S "$2" 2>/dev/null |
		awk '/rx_queue_[0-9]+_xdp_packets:/ { n += $2 } END { print n + 0 }'
}

# offload_unload - remove esp4/esp6_offload if this test loaded them
offload_unload() {
	[ -n "$LOADED_OFFLOAD" ] || return 0
	modprobe -r esp6_offload esp4_offload 2>/dev/null
	LOADED_OFFLOAD=
	return 0
}

# udp_both N SIZE PORT - N datagrams each way (A to B on PORT, B to A on
# PORT + 1), delivered intact
udp_both() {
	local p0 p1 r=0
	udp_recv_start $B "$3" "$1" $IDLE "$TMP/b.recv" "$IB" && p0=$udp_rpid &&
		udp_recv_start $A $(($3 + 1)) "$1" $IDLE "$TMP/a.recv" "$IA" &&
		p1=$udp_rpid || return 1
	py -n $A "$SELFTEST_DIR/pcap_esp.py" udp-send $IB "$3" "$1" "$2" 3 \
		"$TMP/b.sent" 200
	py -n $B "$SELFTEST_DIR/pcap_esp.py" udp-send $IA $(($3 + 1)) "$1" "$2" 4 \
		"$TMP/a.sent" 200
	udp_sent "$TMP/b.recv"
	udp_sent "$TMP/a.recv"
	wait "$p0" "$p1"
	cmp -s <(sort "$TMP/b.sent") <(sort "$TMP/b.recv") ||
		{ diag "A to B: $(wc -l <"$TMP/b.recv") of $1"; r=1; }
	cmp -s <(sort "$TMP/a.sent") <(sort "$TMP/a.recv") ||
		{ diag "B to A: $(wc -l <"$TMP/a.recv") of $1"; r=1; }
	return $r
}

# esp_lens FILE SRC ICV - "ESP-PAYLOAD-LENGTH" of each ESP packet from SRC
# in the capture FILE: its length past the ESP header, the 8 octets of IV
# and before the ICV (payload, padding, pad length, next header), from
# pcap_esp.py's IP version and total length of each
esp_lens() {
	tcpdump -r "$1" -w "$1.src" "src host $2" 2>/dev/null
	py "$SELFTEST_DIR/pcap_esp.py" esp "$1.src" |
		awk -v icv="$3" '{ print $2 - ($1 == 4 ? 20 : 40) - 16 - icv }'
}

# kesp_run - xtfs's ESP engine with the IV on the wire at A, the kernel's
# own ESP at B (nothing staged): A's SAs have trailer mandatory and align
# 64, B's RFC 4303's 32-bit alignment, so both ends' packets are RFC
# 4106/4309 ESP and each end opens the other's. Pings of sizes 56-1400
# and UDP both ways, intact; every ESP payload from A a multiple of 8
# octets (the engine's), each from B of 4.
kesp_run() {
	local c n=25 ext out r la lb bad8 bad4
	for c in gcm:0:4:aggfrag:32:32:mandatory:64:0:explicit \
		 ccm:1:6:tunnel:32:32:mandatory:64:0:explicit; do
		n=$((n + 1))
		combo_setup "$c" $n
		combo_addrs $n "$SA_OUTER" || diag "addresses of $n not set"
		sa_flush
		ext=()
		[ "$ESN" != 0 ] && ext+=(flag esn)
		[ "$PAYLOAD" = tunnel ] && ext+=(payload tunnel)
		# shellcheck disable=SC2046
		sa_pair "${ext[@]}" -- "${ext[@]}" replay-window 64 &&
			ip netns exec $A xtfs state del dst $OB proto esp spi $SPI_AB &&
			ip netns exec $A xtfs state del dst $OA proto esp spi $SPI_BA &&
			ip netns exec $A xtfs state add src $OA dst $OB proto esp \
				spi $SPI_AB reqid 1 dir out mode iptfs aead "$AEAD" \
				$KEY_AB $SA_ICV "${ext[@]}" $(diet_shown) &&
			ip netns exec $A xtfs state add src $OB dst $OA proto esp \
				spi $SPI_BA reqid 1 dir in mode iptfs aead "$AEAD" \
				$KEY_BA $SA_ICV "${ext[@]}" $(diet_shown) replay-window 64
		r=$?
		la=$(ip netns exec $A xtfs state get dst $OB proto esp spi $SPI_AB)
		lb=$(ip netns exec $B xtfs state get dst $OB proto esp spi $SPI_AB)
		[ $r = 0 ] && echo "$la" | grep -qw "align 64" &&
			! echo "$lb" | grep -qw align &&
			! echo "$la$lb" | grep -qw iiv
		r=$?
		diag "A: $(echo "$la" | grep -E 'iptfs' | tr -s '\t\n' '  ')"
		diag "B: $(echo "$lb" | grep -E 'iptfs' | tr -s '\t\n' '  ')"
		ok $r "$WHAT against the kernel's ESP: A's SAs on xtfs's engine (align 64 shown), B's the kernel's (nothing shown)"
		capture_start $B veth-b "$TMP/kesp-$n.pcap" 0
		bad8=0
		for s in $KESP_SIZES; do
			out=$(ip netns exec $A ping -q -c 2 -i 0.2 -W 3 -s $s \
				-p a5 -I $IA $IB 2>&1)
			echo "$out" | grep -q " 0% packet loss" &&
				! echo "$out" | grep -q "wrong data" ||
				{ bad8=1; diag "ping -s $s: $out"; }
		done
		ok $bad8 "$WHAT against the kernel's ESP: pings of $(echo $KESP_SIZES | tr ' ' ,) octets and their replies, intact"
		udp_both 20 300 5080
		r=$?
		[ $r = 0 ] || diag_xfrm
		ok $r "$WHAT against the kernel's ESP: 20 UDP datagrams each way delivered, contents identical"
		capture_stop
		la=$(esp_lens "$TMP/kesp-$n.pcap" "$OA" "$ICV")
		lb=$(esp_lens "$TMP/kesp-$n.pcap" "$OB" "$ICV")
		bad8=$(echo "$la" | awk '$1 % 8 { n++ } END { print n + 0 }')
		bad4=$(echo "$lb" | awk '$1 % 4 { n++ } END { print n + 0 }')
		diag "ESP payload lengths from A: $(echo "$la" | sort -un | tr '\n' ' ')"
		diag "from B: $(echo "$lb" | sort -un | tr '\n' ' ')"
		# At least the echo requests and replies, each an ESP packet of
		# its own (0.2 s apart); the datagrams may share.
		set -- $KESP_SIZES
		[ "$(echo "$la" | grep -c .)" -ge $((2 * $#)) ] &&
			[ "$(echo "$lb" | grep -c .)" -ge $((2 * $#)) ] &&
			[ "$bad8" = 0 ] && [ "$bad4" = 0 ]
		ok $? "$WHAT against the kernel's ESP: every ESP payload from A ($(echo "$la" | grep -c .)) a multiple of 8 octets ($bad8 not), from B ($(echo "$lb" | grep -c .)) of 4 ($bad4 not)"
	done
	sa_flush
}

# ambig_run HOW - the SA pair of ambig_setup and beside it, inbound on B,
# a full-header SA of SPI_FULL, whose SPI the compressed SA's SN 5 spells
# (its first four octets are SPI_FULL): the module refuses it, and the
# compressed SA's packets are all delivered
ambig_run() {
	local out r n1
	ambig_setup
	sa_flush
	diet_pair || diag "$1: SA pair not made"
	out=$(ip netns exec $B xtfs state add src $OA dst $OB proto esp \
		spi $SPI_FULL reqid 1 dir in mode iptfs aead "$AEAD" "$KEY_AB" \
		$SA_ICV iiv replay-window 64 2>&1)
	r=$?
	[ $r != 0 ] && echo "$out" | grep -qEi -- "$MSG_COLLIDE" &&
		! ip netns exec $B xtfs state get dst $OB proto esp \
			spi $SPI_FULL >/dev/null 2>&1
	r=$?
	[ $r = 0 ] || diag "$1: SA of SPI $SPI_FULL beside SPI 0x1234 spi-lsb 16: $out"
	ok $r "$1: a full-header SA whose SPI a compressed header of SPI 0x1234 can start with: refused"
	sealed_recv 5060 8 "$TMP/a1" a1
	n1=$(grep -cxFf "$TMP/seal-a1.sums" "$TMP/a1")
	[ "$n1" = 8 ]
	r=$?
	[ $r = 0 ] || diag_xfrm
	ok $r "$1: all $n1 of 8 packets of 0x1234 delivered, SN 5 (12 34 00 05) too"
}

# XTFS_DIET_KEEP=DIR: the temporary files are copied to DIR at the end
[ -n "${XTFS_DIET_KEEP:-}" ] &&
	at_exit 'mkdir -p "$XTFS_DIET_KEEP" && cp -a "$TMP"/. "$XTFS_DIET_KEEP"/'

tap_plan
setup_ns || { diag "namespace setup failed"; exit $KSFT_FAIL; }
t0=$(date +%s)

# Everything diet_esp.py seals, in one process: each combo's packets, and
# those of the drop tests (gcm, spi-lsb 8 sn-lsb 8, window 64, SPI 0x1234,
# the receiver starting at T = 250): SNs 251-255; 258-262 (low 8 bits 2-6)
# then 256-257; 519-521, whose low bits the receiver (T = 262) rebuilds as
# 263-265; 263-265 with the ICV changed;
# 198, just below the window (B = 199), rebuilt as 454; 263-267; and
# 268-270 with SPI bits of no SA.
n=0
for c in $COMBOS; do
	n=$((n + 1))
	combo_setup "$c" $n
	seal_line "$TAG" --port 5001 --count $SEALED --seq $((TOP + SEAL_OFF))
done >"$TMP/seal.batch"
drop_setup() {
	combo_setup gcm:0:4:aggfrag:8:8:mandatory:32:0 20
	OA=$OA4 OB=$OB4 SPI_AB=0x1234 SPI_BA=0x2234
}
# The first four octets of a compressed header that are another SA's
# full SPI: spi-lsb 16 sn-lsb 16, SPI 0x1234, SN 5 start with 12 34 00
# 05, the SPI of a full-header SA to the same address
SPI_FULL=0x12340005
ambig_setup() {
	combo_setup gcm:0:4:aggfrag:16:16:mandatory:32:0 22
	OA=$OA4 OB=$OB4 SPI_AB=0x1234 SPI_BA=0x2234
}
# ESP in UDP whose compressed header is four zero octets: SPI 0x10000
# (low 16 bits 0) with spi-lsb 16 sn-lsb 16, SN 65536: RFC 3948's
# non-ESP marker, which the kernel gives to the IKE socket
zero_setup() {
	combo_setup gcm:0:4:aggfrag:16:16:mandatory:32:1 21
	OA=$OA4 OB=$OB4 SPI_AB=0x10000 SPI_BA=0x20001
}
drop_setup
{
	seal_line d1 --port 5040 --count 5 --seq 251
	seal_line d1b --port 5044 --count 5 --seq 258
	seal_line d1c --port 5044 --count 2 --seq 256 --seed 10
	seal_line d2 --port 5041 --count 3 --seq 519
	seal_line d3 --port 5041 --count 3 --seq 263 --tamper
	seal_line d6 --port 5041 --count 1 --seq 198
	seal_line d4 --port 5042 --count 5 --seq 263
	SPI_AB=0x12ab seal_line d5 --port 5043 --count 3 --seq 268
	zero_setup
	seal_line z1 --port 5065 --count 5 --seq 65534
	ambig_setup
	seal_line a1 --port 5060 --count 8 --seq 1
	SPI_AB=$SPI_FULL SPI_LSB=32 SN_LSB=32 seal_line a2 --port 5061 \
		--count 4 --seq 1
} >>"$TMP/seal.batch"
py "$DIET" batch "$TMP/seal.batch"
fail=0
for rc in "$TMP"/seal-*.log.rc; do
	[ "$(cat "$rc")" = 0 ] || { fail=1; diag "$(cat "${rc%.rc}")"; }
done
ok $fail "diet_esp.py sealed the packets of every test ($(($(date +%s) - t0)) s)"

# 1..: every combo, one capture of all of them on B
encap_socket $A && encap_socket $B || diag "no UDP encapsulation sockets"
: >"$TMP/open.batch"
: >"$TMP/open.what"
n=0
for c in $COMBOS; do
	n=$((n + 1))
	combo_setup "$c" $n
	combo_addrs $n "$SA_OUTER" || diag "addresses of combo $n not set"
done
ip netns exec $B tcpdump -i veth-b -U -s 65535 -B 32768 \
	-w "$TMP/combos.pcap" esp or udp port 4500 >"$TMP/combos.log" 2>&1 &
_cap_pid=$! _cap_file=$TMP/combos.pcap
for _ in $(seq 600); do
	grep -q listening "$TMP/combos.log" && break
	sleep 0.1
done
n=0
for c in $COMBOS; do
	n=$((n + 1))
	combo "$c" $n
done
capture_stop
diag "SA pairs tried in $(($(date +%s) - t0)) s"

kesp_run

# Drops: a wrong rebuilt SN and a changed ICV fail the ICV, are counted
# as the SA's integrity failures and do not move the receiver's T; SPI
# bits of no SA are XfrmInNoStates
drop_setup
sa_flush
IN_EXTRA="replay-seq 250 reorder-window 8 drop-time 5000000" diet_pair
ok $? "gcm spi-lsb 8 sn-lsb 8, window 64, receiver from SN 250: SA pair for the drop tests"
sealed_recv 5040 5 "$TMP/d1" d1
cmp -s <(sort "$TMP/seal-d1.sums") <(sort "$TMP/d1")
ok $? "SNs 251-255 sealed by diet_esp.py: $(wc -l <"$TMP/d1") of 5 delivered"
sealed_recv 5044 7 "$TMP/d1b" d1b d1c
cmp -s <(sort "$TMP/seal-d1b.sums" "$TMP/seal-d1c.sums") <(sort "$TMP/d1b")
ok $? "SNs 258-262 (across 2^8) then 256-257 (late, in the window): $(wc -l <"$TMP/d1b") of 7 delivered"
bad0=$(sa_num $B $OB $SPI_AB stats integrity_failed)
rep0=$(sa_num $B $OB $SPI_AB stats replay)
sealed_recv 5041 7 "$TMP/d2" d2 d3 d6
n=$(wc -l <"$TMP/d2")
bad=$(($(sa_num $B $OB $SPI_AB stats integrity_failed) - bad0))
rep=$(($(sa_num $B $OB $SPI_AB stats replay) - rep0))
[ "$n" = 0 ] && [ "$bad" = 7 ] && [ "$rep" = 0 ]
r=$?
[ $r = 0 ] || diag_xfrm
ok $r "SNs 519-521 (rebuilt as 263-265), 263-265 with a changed ICV, 198 (below the window, rebuilt as 454): $n delivered, $bad integrity failures counted (7 expected), $rep replays"
sealed_recv 5042 5 "$TMP/d4" d4
cmp -s <(sort "$TMP/seal-d4.sums") <(sort "$TMP/d4")
ok $? "SNs 263-267 then: $(wc -l <"$TMP/d4") of 5 delivered (the failed packets moved nothing)"
nost0=$(xfrm_stat $B XfrmInNoStates)
sealed_recv 5043 3 "$TMP/d5" d5
n=$(wc -l <"$TMP/d5")
nost=$(($(xfrm_stat $B XfrmInNoStates) - nost0))
[ "$n" = 0 ] && [ "$nost" -ge 3 ]
ok $? "3 packets with SPI bits 0xab (no SA): $n delivered, XfrmInNoStates +$nost"

zero_setup
sa_flush
out=$(IN_EXTRA="replay-seq 65530" diet_pair 2>&1)
if [ $? != 0 ]; then
	diag "SPI 0x10000 spi-lsb 16 sn-lsb 16 espinudp: $out"
	echo "$out" | grep -qEi -- "$MSG_ZERO"
	ok $? "ESP in UDP, SPI 0x10000 spi-lsb 16 sn-lsb 16 (a header of four zero octets at SN 65536): refused"
else
	sealed_recv 5065 5 "$TMP/z1" z1
	n=$(grep -cxFf "$TMP/seal-z1.sums" "$TMP/z1")
	[ "$n" = 5 ] || diag_xfrm
	[ "$n" = 5 ]
	ok $? "ESP in UDP, SPI 0x10000 spi-lsb 16 sn-lsb 16: $n of 5 packets SN 65534-65538 delivered (SN 65536's header 00 00 00 00 is RFC 3948's non-ESP marker)"
fi

ambig_run "GRO off"

# Settings the module refuses (exit status 1, its message) or the helper
# (usage, exit status 2); no SA is left behind
sa_flush
diet_alg gcm
KEY_AB=$(hexkey 20 201)
base() {   # base DST SPI DIR [REQID] - the start of a state add
	echo src $OA4 dst "$1" proto esp spi "$2" reqid "${4:-9}" dir "$3" mode iptfs \
		aead "$AEAD" "$KEY_AB" $SA_ICV
}
# shellcheck disable=SC2046
refused 1 "$MSG_WINDOW" "sn-lsb 8, inbound, no replay window" $OB4 0x3001 \
	$(base $OB4 0x3001 in) iiv spi-lsb 8 sn-lsb 8
# shellcheck disable=SC2046
refused 1 "$MSG_WINDOW" "sn-lsb 8, replay window 129 (2^8 < 2 * 129)" \
	$OB4 0x3002 $(base $OB4 0x3002 in) iiv spi-lsb 8 sn-lsb 8 \
	replay-window 129
# shellcheck disable=SC2046
accepted "sn-lsb 8, replay window 128 (2^8 = 2 * 128)" $OB4 0x3003 \
	$(base $OB4 0x3003 in) iiv spi-lsb 8 sn-lsb 8 replay-window 128
# shellcheck disable=SC2046
refused 1 "$MSG_SN_NEEDS_SPI" "sn-lsb 16 with spi-lsb 32" $OB4 0x3004 \
	$(base $OB4 0x3004 in) iiv spi-lsb 32 sn-lsb 16 replay-window 64
# shellcheck disable=SC2046
refused 1 "$MSG_SPI_ZERO" "spi-lsb 0" $OB4 0x3005 \
	$(base $OB4 0x3005 in) iiv spi-lsb 0 sn-lsb 8 replay-window 64
# shellcheck disable=SC2046
refused 1 "$MSG_SPI_BITS" "inbound SPI 0x12000012, spi-lsb 8 (top 8 bits = low 8 bits)" \
	$OB4 0x12000012 $(base $OB4 0x12000012 in) iiv spi-lsb 8 sn-lsb 8 \
	replay-window 64
# shellcheck disable=SC2046
refused 1 "$MSG_SPI_BITS" "outbound SPI 0x0abc0abc, spi-lsb 16 (top 16 bits = low 16 bits)" \
	$OB4 0x0abc0abc $(base $OB4 0x0abc0abc out) iiv spi-lsb 16 sn-lsb 16
# Prefix collisions among inbound compressed-header SAs of one destination
# shellcheck disable=SC2046
accepted "inbound SPI 0x1056 spi-lsb 8 (prefix 0x56)" $OB4 0x1056 \
	$(base $OB4 0x1056 in) iiv spi-lsb 8 sn-lsb 8 replay-window 64
# shellcheck disable=SC2046
refused 1 "$MSG_COLLIDE" "inbound SPI 0x2056 spi-lsb 8 beside it, another reqid (prefix 0x56 again)" \
	$OB4 0x2056 $(base $OB4 0x2056 in 10) iiv spi-lsb 8 sn-lsb 8 \
	replay-window 64
# shellcheck disable=SC2046
refused 1 "$MSG_COLLIDE" "inbound SPI 0x20005678 spi-lsb 16 beside it (prefix 0x5678 starts with 0x56)" \
	$OB4 0x20005678 $(base $OB4 0x20005678 in 11) iiv spi-lsb 16 sn-lsb 16 \
	replay-window 64
# shellcheck disable=SC2046
refused 1 "$MSG_COLLIDE" "inbound SPI 0x2005 spi-lsb 4 beside it (prefix 0x5: 0x56 starts with it)" \
	$OB4 0x2005 $(base $OB4 0x2005 in 12) iiv spi-lsb 4 sn-lsb 12 \
	replay-window 64
# The old and the new SA of a rekey: same reqid, settings and SPI bits
# shellcheck disable=SC2046
accepted "inbound SPI 0x6056 spi-lsb 8 beside it, same reqid and settings (a rekey)" \
	$OB4 0x6056 $(base $OB4 0x6056 in) iiv spi-lsb 8 sn-lsb 8 replay-window 64
# shellcheck disable=SC2046
refused 1 "$MSG_COLLIDE" "inbound SPI 0x7056 spi-lsb 8 sn-lsb 16, same reqid (other settings: no rekey)" \
	$OB4 0x7056 $(base $OB4 0x7056 in) iiv spi-lsb 8 sn-lsb 16 \
	replay-window 64
# shellcheck disable=SC2046
accepted "inbound SPI 0x30005778 spi-lsb 16 beside it (prefix 0x5778)" \
	$OB4 0x30005778 $(base $OB4 0x30005778 in 13) iiv spi-lsb 16 sn-lsb 16 \
	replay-window 64
# shellcheck disable=SC2046
accepted "inbound SPI 0x4056 spi-lsb 8 to another destination" $OA4 0x4056 \
	$(base $OA4 0x4056 in | sed "s/src $OA4/src $OB4/") iiv spi-lsb 8 \
	sn-lsb 8 replay-window 64
# shellcheck disable=SC2046
accepted "inbound SPI 0x5056 with a full header (spi-lsb 32) beside it" \
	$OB4 0x5056 $(base $OB4 0x5056 in) iiv replay-window 64
# Usage errors of the helper
# shellcheck disable=SC2046
refused 2 "spi-lsb.*needs aead" "spi-lsb 8 sn-lsb 8 without iiv, AES-GCM with a 64-bit ICV" \
	$OB4 0x3101 $(base $OB4 0x3101 out | sed "s/ $SA_ICV\$/ 64/") \
	spi-lsb 8 sn-lsb 8
# shellcheck disable=SC2046
refused 2 "trailer.*needs aead" "trailer optional without iiv, AES-CBC and HMAC-SHA-256" \
	$OB4 0x3102 $(base $OB4 0x3102 out | sed "s/aead .*/enc cbc(aes) $(hexkey 16 3) auth-trunc hmac(sha256) $(hexkey 32 4) 128/") \
	trailer optional
# shellcheck disable=SC2046
refused 2 "sn-lsb|spi-lsb|8" "spi-lsb 8 sn-lsb 12 (not a multiple of 8)" \
	$OB4 0x3103 $(base $OB4 0x3103 out) iiv spi-lsb 8 sn-lsb 12
# shellcheck disable=SC2046
refused 2 "spi-lsb|33" "spi-lsb 33" $OB4 0x3104 \
	$(base $OB4 0x3104 out) iiv spi-lsb 33 sn-lsb 31
# shellcheck disable=SC2046
refused 2 "sn-lsb|-8" "sn-lsb -8" $OB4 0x3105 \
	$(base $OB4 0x3105 out) iiv spi-lsb 16 sn-lsb -8
# shellcheck disable=SC2046
refused 2 "align|24" "align 24" $OB4 0x3106 \
	$(base $OB4 0x3106 out) iiv align 24
# shellcheck disable=SC2046
refused 2 "trailer|sometimes" "trailer sometimes" $OB4 0x3107 \
	$(base $OB4 0x3107 out) iiv trailer sometimes
# Every setting given at its default: shown as none
# shellcheck disable=SC2046
out=$(ip netns exec $A xtfs state add $(base $OB4 0x3108 out) iiv \
	spi-lsb 32 sn-lsb 32 trailer mandatory align 32 2>&1 &&
	ip netns exec $A xtfs state get dst $OB4 proto esp spi 0x3108 2>&1)
r=$?
[ $r = 0 ] && echo "$out" | grep -q iiv &&
	! echo "$out" | grep -qE 'spi-lsb|sn-lsb|trailer|align'
r=$?
[ $r = 0 ] || diag "$out"
ok $r "every setting at its default: an RFC 8750 SA, state get shows no Diet-ESP word"
out=$(ip netns exec $A xtfs state list 2>&1)
echo "$out" | grep -q "spi-lsb 8 sn-lsb 8" &&
	echo "$out" | grep -q "spi-lsb 16 sn-lsb 16"
ok $? "state list shows the settings of the SAs that have them"
sa_flush

# GRO: esp4/esp6_offload loaded and GRO on the veths (TSO off, which veth
# needs to use GRO): esp4/esp6_gro_receive() read the first four octets
# as an SPI; packets with compressed headers are still all delivered,
# implicit IV or the IV on the wire
LOADED_OFFLOAD=
grep -q '^esp4_offload ' /proc/modules || LOADED_OFFLOAD=1
at_exit offload_unload
modprobe esp4_offload && modprobe esp6_offload &&
	ip netns exec $A ethtool -K veth-a gro on tso off &&
	ip netns exec $B ethtool -K veth-b gro on tso off
ok $? "esp4_offload, esp6_offload loaded; GRO on both veths, TSO off"
n=23
for c in ccm:0:4:aggfrag:8:8:optional:8:0 \
	 chacha:0:6:tunnel:16:16:mandatory:64:0:explicit; do
	n=$((n + 1))
	combo_setup "$c" $n
	OA=$OA4 OB=$OB4
	[ "$SA_OUTER" = 6 ] && OA=$OA6 OB=$OB6
	sa_flush
	diet_pair
	made=$?
	na0=$(napi_rx $A veth-a) nb0=$(napi_rx $B veth-b)
	[ $made = 0 ] && udp_both $GRO_N 1000 5050
	r=$?
	na=$(($(napi_rx $A veth-a) - na0)) nb=$(($(napi_rx $B veth-b) - nb0))
	bad=$(($(sa_num $B $OB $SPI_AB stats integrity_failed) +
	       $(sa_num $A $OA $SPI_BA stats integrity_failed)))
	[ $r = 0 ] || diag_xfrm
	[ $made = 0 ] && [ $r = 0 ] && [ "$bad" = 0 ] && [ "$na" -gt 0 ] &&
		[ "$nb" -gt 0 ]
	ok $? "GRO, $WHAT: $GRO_N UDP datagrams each way delivered intact, $bad integrity failures; $na and $nb packets through the veths' GRO"
done
ambig_run "GRO on"
sa_flush
ip netns exec $A ethtool -K veth-a gro off tso on
ip netns exec $B ethtool -K veth-b gro off tso on

# netem between the namespaces, tunnel payload (one datagram an ESP
# packet), spi-lsb 8 sn-lsb 8, window 64: delay 5 ms +- 5 ms with 0.5 ms
# between datagrams reorders them by up to about 20 (within the window
# and the 2^8 - 64 numbers above it) and 5 % are lost: every datagram that
# arrives is delivered once, none fails its ICV. Then 300 packets lost in
# a row, more than the 192 numbers 8 bits reach above the window: the
# packets after the gap rebuild to wrong numbers, fail their ICV (the
# SA's integrity failures) and none is delivered.
netem_run() {
	local n u d bad0 bad rep
	combo_setup gcm:0:4:tunnel:8:8:optional:8:0 23
	OA=$OA4 OB=$OB4 SPI_AB=0x1301 SPI_BA=0x2301
	modprobe -q sch_netem
	sa_flush
	diet_pair || diag "netem: SA pair not made"
	netem delay 5ms 5ms loss 5% || diag "netem not set"
	udp_recv_start $B 5070 400 $IDLE "$TMP/nm" "$IB" &&
		py -n $A "$SELFTEST_DIR/pcap_esp.py" udp-send $IB 5070 400 200 \
			12 "$TMP/nm.sent" 500
	udp_sent "$TMP/nm"
	wait "$udp_rpid"
	netem off
	n=$(wc -l <"$TMP/nm")
	u=$(grep -cxFf "$TMP/nm.sent" "$TMP/nm")
	d=$(sort "$TMP/nm" | uniq -d | wc -l)
	bad=$(sa_num $B $OB $SPI_AB stats integrity_failed)
	rep=$(sa_num $B $OB $SPI_AB stats replay)
	diag "netem: $n datagrams of 400 delivered, $u of them sent ones, $d twice; $bad integrity failures, $rep replays"
	[ "$n" = "$u" ] && [ "$d" = 0 ] && [ "$bad" = 0 ] && [ "$rep" = 0 ] &&
		[ "$n" -ge 340 ]
	ok $? "netem delay 5ms 5ms loss 5%, sn-lsb 8, window 64: every datagram that arrived ($n of 400) delivered once, none failed its ICV"

	bad0=$bad
	netem loss 100% || diag "netem not set"
	py -n $A "$SELFTEST_DIR/pcap_esp.py" udp-send $IB 5071 300 100 13 \
		"$TMP/nm2.sent" 200
	netem off
	udp_recv_start $B 5072 20 $IDLE "$TMP/nm3" "$IB" &&
		py -n $A "$SELFTEST_DIR/pcap_esp.py" udp-send $IB 5072 20 100 14 \
			"$TMP/nm3.sent" 2000
	udp_sent "$TMP/nm3"
	wait "$udp_rpid"
	n=$(wc -l <"$TMP/nm3")
	bad=$(($(sa_num $B $OB $SPI_AB stats integrity_failed) - bad0))
	[ "$n" = 0 ] && [ "$bad" = 20 ]
	ok $? "after 300 packets lost in a row (beyond what 8 bits resolve): the next 20 fail their ICV ($bad counted), $n delivered"
	sa_flush
}
netem_run

# The captures of every combo, opened by diet_esp.py
t1=$(date +%s)
open_batch
diag "diet_esp.py opened the captures in $(($(date +%s) - t1)) s; $(($(date +%s) - t0)) s in all"

tap_done
