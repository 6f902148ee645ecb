#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Diet-ESP inner IP compression (IIPC, draft-ietf-ipsecme-diet-esp-07
# section 5.1) on SAs with the tunnel payload: "xtfs state add ... payload
# tunnel iipc src R dst R [proto P] [sport R] [dport R] [dscp ...] [ecn
# ...] [flow-label ...] [rule-id ...]".
#
# For each combination of COMBOS (outer and inner family, ESP engine and
# Diet-ESP header settings, the rule): inner packets crafted by an
# independent IIPC (selftests/iipc.py: UDP, TCP with options, and every
# fifth packet one that does not fit the rule) are sent from A over a raw
# socket into the SA; with implicit IV the same packets are also
# compressed and sealed by selftests/diet_esp.py and sent to B. A capture
# on B's link must show (1) the inner packets xtfs delivered, octet for
# octet the crafted ones (lengths, checksums, TTL from the outer header
# rebuilt), each set once per sender, the unfit ones too when the rule
# sends the RuleID (RuleID 0) and none of them when it elides it; (2) with
# implicit IV, every ESP packet from A opened by diet_esp.py, its payload
# decompressed to the crafted packet and compressed again to the same
# octets. The counters: iipc_unmatched is the number of unfit packets,
# iipc_bad 0. Then: what state get shows; refusals of rules that cannot
# work; hostile compressed payloads (sealed by diet_esp.py) counted in
# iipc_bad; and the octets a 64-octet inner UDP packet costs on the wire
# in kernel tunnel mode, with implicit IV, with EEC and CTEC, with IIPC.
. "$(dirname "$0")/lib.sh"

IIPC="$SELFTEST_DIR/iipc.py"
DIET="$SELFTEST_DIR/diet_esp.py"
# Crafted packets a combo, TCP octets a stream, TCP rounds, random ESP
# packets. The debug kernel (KASAN, lockdep, kmemleak, all emulated; as
# xtfs_fuzz and xtfs_diet do) gets fewer, the same checks on each, and
# one TCP round: the goodput ratio is the stock kernel's figure.
COUNT=40 TCP_BYTES=2000000 TCP_ROUNDS=3 HOSTILE_N=300
if [ "${XTFS_KERNEL:-}" = debug ]; then
	COUNT=20 TCP_BYTES=500000 TCP_ROUNDS=1 HOSTILE_N=100
fi
COUNT=${XTFS_IIPC_COUNT:-$COUNT}
# The inner networks, routed into the SAs (the rules are narrower).
NET4A=10.1.0.0/16 NET4B=10.2.0.0/16
NET6A=2001:db8:a::/48 NET6B=2001:db8:b::/48

# COMBOS: NAME|OUTER|ALG|DIET-WORDS|RULE (iipc.py's form). ALG "gcm-esp":
# the kernel's ESP with explicit IV (no Diet-ESP header settings).
COMBOS=${XTFS_IIPC_COMBOS:-"v4-eec|4|gcm|spi-lsb 8 sn-lsb 8 trailer optional align 8|src=10.1.1.0/24,dst=10.2.2.0-10.2.2.255,sport=5000-5015,dport=6000-6003,dscp=lower,ecn=lower,fl=lower
v6-plain|6|chacha||src=2001:db8:a::/64,dst=2001:db8:b::/120,proto=17,sport=1024-2047,dport=7000
v6-in-v4-esp|4|gcm-esp||src=2001:db8:a::1-2001:db8:a::ff,dst=2001:db8:b::7,proto=6,dscp=0:10:46,fl=zero,rule_id=0
v4-in-v6-ccm|6|ccm|spi-lsb 16 sn-lsb 16 trailer optional align 8|src=10.1.0.0/16,dst=10.2.2.7,proto=17,dscp=46,fl=generated"}

# XTFS_IIPC_ONLY=NAME: only that combination (and the steps after them).
if [ -n "${XTFS_IIPC_ONLY:-}" ]; then
	COMBOS=$(grep "^$XTFS_IIPC_ONLY|" <<<"$COMBOS")
fi

# randkey N - N random octets of key material in hex
randkey() {
	echo "0x$(od -An -tx1 -N "$1" /dev/urandom | tr -d ' \n')"
}

# iipc_alg ALG - AEAD, ICV, keys and the diet_esp.py algorithm of ALG.
# Random keys, new ones for each SA pair: xtfs starts an implicit-IV SA
# whose key an earlier SA (of any suite) used beyond that SA's sequence
# numbers (no nonce twice under a key), and a new receiver with 8-bit
# sequence numbers rebuilds them around 0 (Documentation/xtfs.rst).
iipc_alg() {
	local n
	IIV=iiv DALG=$1
	case $1 in
	gcm|gcm-esp) AEAD="rfc4106(gcm(aes))" SA_ICV=128 DALG=gcm n=20 ;;
	ccm) AEAD="rfc4309(ccm(aes))" SA_ICV=64 n=35 ;;
	chacha) AEAD="rfc7539esp(chacha20,poly1305)" SA_ICV=128 n=36 ;;
	esac
	KEY_AB=$(randkey $n) KEY_BA=$(randkey $n)
	[ "$1" = gcm-esp ] && IIV=""
}

# rule_words RULE - the helper's "iipc" words of an iipc.py rule
rule_words() {
	local item k v out="iipc"
	local IFS=,
	for item in $1; do
		k=${item%%=*} v=${item#*=}
		case $k in
		dscp) out+=" dscp ${v//:/,}" ;;
		fl) out+=" flow-label $v" ;;
		rule_id) [ "$v" = 1 ] && out+=" rule-id sent" || out+=" rule-id elided" ;;
		*) out+=" $k $v" ;;
		esac
	done
	echo "$out"
}

# inner_routes - A routes the inner networks of B into the tunnel; B
# takes them as local (and routes A's back), IPv4 and IPv6
inner_routes() {
	ip -n $A route add $NET4B dev veth-a
	ip -n $A -6 route add $NET6B dev veth-a
	ip -n $B route add local $NET4B dev lo
	ip -n $B -6 route add local $NET6B dev lo
	ip -n $B route add $NET4A dev veth-b
	ip -n $B -6 route add $NET6A dev veth-b
}

# iipc_pair OUTER DIET-WORDS RULE-WORDS - the SA pair of a combo: A to B
# with the rule, B to A the tunnel payload alone; policies for both
# inner families
iipc_pair() {
	local outer=$1 diet=$2 rule=$3 ns d sa spi src dst key words
	sa_flush
	sa_families "$outer" 4
	for sa in ab-out ab-in ba-out ba-in; do
		case $sa in
		ab-*) spi=$SPI_AB src=$OA dst=$OB key=$KEY_AB ;;
		ba-*) spi=$SPI_BA src=$OB dst=$OA key=$KEY_BA ;;
		esac
		case $sa in
		ab-out|ba-in) ns=$A ;;
		*) ns=$B ;;
		esac
		d=${sa#*-}
		words="payload tunnel"
		[ -n "$IIV" ] && words="$IIV $diet payload tunnel"
		[ "$d" = in ] && words+=" replay-window 64"
		case $sa in ab-*) words+=" $rule" ;; esac
		# shellcheck disable=SC2086
		ip netns exec $ns xtfs state add src $src dst $dst proto esp \
			spi $spi reqid 1 dir $d mode iptfs flag af-unspec \
			aead "$AEAD" $key $SA_ICV $words || return 1
	done
	for ns in $A $B; do
		if [ $ns = $A ]; then src=$OA dst=$OB; else src=$OB dst=$OA; fi
		for d in 4 6; do
			local na=$NET4A nb=$NET4B
			[ $d = 6 ] && na=$NET6A nb=$NET6B
			[ $ns = $B ] && { local t=$na; na=$nb; nb=$t; }
			ip netns exec $ns xtfs policy add src $na dst $nb dir out \
				tmpl src $src dst $dst proto esp reqid 1 mode iptfs &&
			ip netns exec $ns xtfs policy add src $nb dst $na dir in \
				tmpl src $dst dst $src proto esp reqid 1 mode iptfs ||
				return 1
		done
	done
}

# counter NS NAME - an xtfs counter of the A to B SA (SPI_AB) in NS
counter() {
	ip netns exec "$1" xtfs -s -j state get dst $OB proto esp \
		spi "$SPI_AB" | py -i -c '
import json, sys
v = json.load(sys.stdin)
v = v[0] if isinstance(v, list) else v
print(v.get("stats", {}).get(sys.argv[1], -1))' "$2"
}

# diet_opts - diet_esp.py options of the A to B SA of the current combo
diet_opts() {
	local w=($DIET_WORDS) i out=""
	for ((i = 0; i < ${#w[@]}; i += 2)); do
		out+=" --${w[i]} ${w[i + 1]}"
	done
	echo "--alg $DALG --key $KEY_AB --spi $SPI_AB --payload tunnel" \
		"--replay-window 64 --outer-src $OA --outer-dst $OB $out"
}

# diag_iipc - where packets went, after a failure
diag_iipc() {
	local ns
	for ns in $A $B; do
		diag "$ns: $(ip netns exec $ns xtfs -s state list 2>&1 | tr '\n\t' '  ')"
		diag "$ns: $(ip netns exec $ns grep -v ' 0$' /proc/net/xfrm_stat | tr '\n' ' ')"
		diag "$ns: $(ip netns exec $ns nstat -az 2>/dev/null | awk '$2 != 0 && /Ip6Out|IpOut|Discard|NoRoute/ {print $1 "=" $2}' | tr '\n' ' ')"
	done
}

# combo SPEC - one combination: traffic, capture, the checks
combo() {
	local name outer alg rule fit unfit out r n senders want got sendout seq
	IFS='|' read -r name outer alg DIET_WORDS rule <<<"$1"
	iipc_alg "$alg"
	COMBO_N=$((COMBO_N + 1))
	SPI_AB=$(printf '0x%x' $((0x3100 + COMBO_N)))
	SPI_BA=$(printf '0x%x' $((0x4100 + COMBO_N)))
	iipc_pair "$outer" "$DIET_WORDS" "$(rule_words "$rule")"
	r=$?
	ok $r "$name: SA pair with the rule made ($(rule_words "$rule"))"
	[ $r = 0 ] || return

	out=$(ip netns exec $B xtfs state get dst $OB proto esp spi $SPI_AB)
	echo "$out" | grep -q "^	iipc src "
	r=$?
	[ $r = 0 ] || diag "$out"
	ok $r "$name: state get shows the rule: $(echo "$out" | grep "iipc src" | sed 's/^\t//')"

	out=$(py "$IIPC" craft --rule "$rule" --count "$COUNT" \
		--seed "$COMBO_N" --out "$TMP/sent-$name")
	read -r _ fit _ unfit <<<"$out"
	capture_start $B veth-b "$TMP/$name.pcap" 0 "ip or ip6" || diag "capture did not start"
	sendout=$(py -n $A "$IIPC" send "$TMP/sent-$name") ||
		diag "raw send failed"
	senders=1
	if [ -n "$IIV" ]; then
		# After the SNs xtfs sent: an SA whose key an earlier SA used
		# starts beyond that one's (no nonce twice under a key), and the
		# receiver rebuilds 8-bit SNs around the last one it took.
		seq=$(sa_json $A $OB $SPI_AB replay_state oseq)
		# shellcheck disable=SC2046
		py -n $A "$DIET" seal $(diet_opts) --iipc "$rule" \
			--inners "$TMP/sent-$name" --seq $((seq + 10)) \
			2>"$TMP/seal-$name.log" || diag "$(cat "$TMP/seal-$name.log")"
		senders=2
	fi
	sleep 1
	capture_stop

	# With the RuleID elided the SA drops them: the sender's call fails.
	want="sent $((fit + unfit)) failed 0"
	case $rule in *rule_id=0*) want="sent $fit failed $unfit" ;; esac
	n=$(counter $A iipc_unmatched)
	[ "$n" = "$unfit" ] && [ "$sendout" = "$want" ]
	ok $? "$name: iipc_unmatched $n, the $unfit crafted packets that do not fit ($sendout)"
	n=$(counter $B iipc_bad)
	[ "$n" = 0 ]
	ok $? "$name: iipc_bad $n at B"
	want=$(((fit + unfit) * senders))
	case $rule in *rule_id=0*) want=$((fit * senders)) ;; esac
	n=$(counter $B inner_in_pkts)
	[ "$n" = "$want" ]
	r=$?
	[ $r = 0 ] || diag_iipc
	ok $r "$name: B delivered $n inner packets, $want expected"

	py "$IIPC" delivered "$TMP/$name.pcap" --rule "$rule" \
		--out "$TMP/got-$name" >/dev/null
	out=$(py "$IIPC" compare "$TMP/sent-$name" "$TMP/got-$name" \
		--rule "$rule" --times $senders 2>&1)
	r=$?
	[ $r = 0 ] || diag "$out"
	ok $r "$name: the inner packets B delivered are the crafted ones octet for octet ($out)"

	if [ -n "$IIV" ]; then
		# shellcheck disable=SC2046
		out=$(py "$DIET" open "$TMP/$name.pcap" $(diet_opts) \
			--iipc "$rule" --inners-out "$TMP/opened-$name" 2>&1 >/dev/null)
		r=$?
		got=$(py "$IIPC" compare "$TMP/sent-$name" "$TMP/opened-$name" \
			--rule "$rule" --times 2 2>&1) || r=1
		[ $r = 0 ] || diag "$out" "$got"
		ok $r "$name: diet_esp.py opened every ESP packet of A (xtfs's and its own), decompressed them to the crafted packets and compressed them again to xtfs's octets ($got)"
	fi
}

# xfrm_in_errors NS - the kernel's xfrm input error counters added up
xfrm_in_errors() {
	ip netns exec "$1" awk '/^XfrmIn/ && $1 != "XfrmInError" { n += $2 } END { print n + 0 }' /proc/net/xfrm_stat
}

# hostile - compressed payloads that rebuild no packet, sealed by
# diet_esp.py for the SA of the first combo kind: counted in iipc_bad;
# then random ESP packets at that SA
hostile() {
	local rule=${COMBOS%%$'\n'*} n d
	rule=${rule##*|}
	IFS='|' read -r _ _ _ DIET_WORDS _ <<<"${COMBOS%%$'\n'*}"
	iipc_alg gcm
	SPI_AB=0x3f01 SPI_BA=0x4f01
	iipc_pair 4 "$DIET_WORDS" "$(rule_words "$rule")" ||
		{ ok 1 "hostile: SA pair"; return; }
	# shellcheck disable=SC2046
	py -n $A - "$SELFTEST_DIR" $(diet_opts) --iipc "$rule" <<'EOF'
import sys
sys.path.insert(0, sys.argv[1])
import diet_esp, esp_iiv, iipc, pcap_esp
args = diet_esp.parser().parse_args(["seal"] + sys.argv[2:])
dsa = diet_esp.sa_from_args(args)
bad = [b"\x02", b"\x01", b"\x01\x50", b"\x01" + bytes(3),
       b"\x07" * 40, b"\x01\xf5\xff"]
ips = [dsa.seal((args.outer_src, args.outer_dst), 4, p, 20 + i)
       for i, p in enumerate(bad)]
pcap_esp.send_raw(ips, args.outer_dst)
print(len(bad))
EOF
	sleep 1
	n=$(counter $B iipc_bad)
	d=$(counter $B inner_in_pkts)
	[ "$n" = 6 ] && [ "$d" = 0 ]
	ok $? "hostile: 6 malformed compressed payloads (RuleID 2 and 7, residues cut short, an IHL of 15) counted in iipc_bad ($n), none delivered ($d)"

	# Random ESP packets of 0 to 80 octets at the compressed-header SA's
	# address: each is one of the kernel's input errors (no SA, the ICV,
	# the replay window, a malformed packet), none is delivered.
	local before after
	before=$(xfrm_in_errors $B)
	py -n $A - "$SELFTEST_DIR" "$OA" "$OB" "$HOSTILE_N" <<'EOF'
import random, sys
sys.path.insert(0, sys.argv[1])
import esp_iiv, pcap_esp
rnd = random.Random(9)
ips = [esp_iiv.outer_packet(sys.argv[2], sys.argv[3],
                            bytes(rnd.getrandbits(8)
                                  for _ in range(rnd.randint(0, 80))))
       for _ in range(int(sys.argv[4]))]
pcap_esp.send_raw(ips, sys.argv[3])
EOF
	sleep 1
	after=$(xfrm_in_errors $B)
	d=$(counter $B inner_in_pkts)
	[ $((after - before)) = "$HOSTILE_N" ] && [ "$d" = 0 ]
	ok $? "hostile: $HOSTILE_N random ESP packets at the compressed-header SA: $((after - before)) counted as input errors (XfrmIn*), none delivered ($d)"
}

# refusals - rules the module or the helper must refuse
refusals() {
	local out r
	iipc_alg gcm
	sa_flush
	out=$(ip netns exec $A xtfs state add src $OA4 dst $OB4 proto esp \
		spi 0x5001 dir out mode iptfs aead "$AEAD" $KEY_AB $SA_ICV \
		iipc src 10.1.0.0/16 dst 10.2.0.0/16 2>&1)
	r=$?
	[ $r != 0 ] && echo "$out" | grep -qi "payload tunnel"
	ok $? "the rule without the tunnel payload refused: $out"
	out=$(ip netns exec $A xtfs state add src $OA4 dst $OB4 proto esp \
		spi 0x5002 dir out mode iptfs aead "$AEAD" $KEY_AB $SA_ICV \
		payload tunnel iipc src 10.1.0.0/16 dst 2001:db8:b::/48 2>&1)
	[ $? != 0 ] && echo "$out" | grep -qi "IPv4"
	ok $? "a rule mixing IPv4 and IPv6 refused: $out"
	out=$(ip netns exec $A xtfs state add src $OA4 dst $OB4 proto esp \
		spi 0x5003 dir out mode iptfs aead "$AEAD" $KEY_AB $SA_ICV \
		payload tunnel iipc src 10.1.0.0/16 dst 10.2.0.0/16 proto 1 \
		sport 5000 2>&1)
	[ $? != 0 ] && echo "$out" | grep -qi "udp, tcp"
	ok $? "port ranges with protocol ICMP refused: $out"
	out=$(ip netns exec $A xtfs state add src $OA4 dst $OB4 proto esp \
		spi 0x5004 dir out mode iptfs aead "$AEAD" $KEY_AB $SA_ICV \
		flag noecn payload tunnel iipc src 10.1.0.0/16 dst 10.2.0.0/16 \
		ecn lower 2>&1)
	[ $? != 0 ] && echo "$out" | grep -qi "noecn"
	ok $? "ECN lower with the SA flag noecn refused by the module: $out"
	out=$(ip netns exec $A xtfs state add src $OA4 dst $OB4 proto esp \
		spi 0x5006 dir out mode iptfs aead "$AEAD" $KEY_AB $SA_ICV \
		flag nopmtudisc flag af-unspec payload tunnel \
		iipc src 2001:db8:a::/64 dst 2001:db8:b::/64 flow-label lower 2>&1)
	[ $? != 0 ] && echo "$out" | grep -qi "nopmtudisc"
	ok $? "IPv6 flow label lower over IPv4 with the SA flag nopmtudisc refused by the module: $out"
	out=$(ip netns exec $A xtfs state add src $OA4 dst $OB4 proto esp \
		spi 0x5005 dir out mode iptfs aead "$AEAD" $KEY_AB $SA_ICV \
		payload tunnel iipc src 10.1.0.0/16 dst 10.2.0.0/16 \
		dscp 10,10 2>&1)
	[ $? != 0 ] && echo "$out" | grep -qi "repeats"
	ok $? "a DSCP list with a value twice refused: $out"
	n=$(ip netns exec $A xtfs state list | grep -c "^src")
	[ "$n" = 0 ]
	ok $? "no SA left by the refusals ($n)"
}

# sizes - the octets a 64-octet inner UDP packet (IPv4 and IPv6) takes
# on the wire (outer IPv4): ESP overhead = outer length - outer IP header
# - 64, for kernel tunnel mode, tunnel payload with implicit IV, + EEC
# (8 + 8 bits) and CTEC (optional, 8-bit alignment), + IIPC
sizes() {
	local v cfg words over oh results="" src dst rule pk
	iipc_alg gcm
	for v in 4 6; do
		if [ $v = 4 ]; then
			src=10.1.1.5 dst=10.2.2.9
			rule="iipc src 10.1.1.0/24 dst 10.2.2.0/24 proto udp sport 5000 dport 6000 ecn lower dscp lower flow-label lower"
		else
			src=2001:db8:a::5 dst=2001:db8:b::9
			rule="iipc src 2001:db8:a::/64 dst 2001:db8:b::/64 proto udp sport 5000 dport 6000 ecn lower dscp lower flow-label lower"
		fi
		py - "$SELFTEST_DIR" "$TMP/one$v" "$src" "$dst" <<'EOF'
import sys
sys.path.insert(0, sys.argv[1])
import ipaddress, iipc
out, src, dst = sys.argv[2:5]
s, d = int(ipaddress.ip_address(src)), int(ipaddress.ip_address(dst))
v = 4 if "." in src else 6
hl = 20 if v == 4 else 40
data = bytes(64 - hl - 8)
import struct
l4 = iipc.with_csum(v, s, d, 17, struct.pack("!HHHH", 5000, 6000,
                                              8 + len(data), 0) + data, 6)
iipc.write_hex(out, [iipc.build(v, s, d, 0, 7, True, 17, l4)])
EOF
		for cfg in tunnel iiv eec iipc; do
			sa_flush
			COMBO_N=$((COMBO_N + 1))
			SPI_AB=$(printf '0x%x' $((0x6000 + COMBO_N)))
			SPI_BA=$(printf '0x%x' $((0x7000 + COMBO_N)))
			case $cfg in
			tunnel) words="" ;;
			iiv) words="iiv payload tunnel" ;;
			eec) words="iiv spi-lsb 8 sn-lsb 8 trailer optional align 8 payload tunnel" ;;
			iipc) words="iiv spi-lsb 8 sn-lsb 8 trailer optional align 8 payload tunnel $rule" ;;
			esac
			if [ $cfg = tunnel ]; then
				# shellcheck disable=SC2086
				ip netns exec $A xtfs state add src $OA4 dst $OB4 \
					proto esp spi $SPI_AB reqid 1 mode tunnel \
					flag af-unspec aead "$AEAD" $KEY_AB $SA_ICV
				over=tunnel
			else
				# shellcheck disable=SC2086
				ip netns exec $A xtfs state add src $OA4 dst $OB4 \
					proto esp spi $SPI_AB reqid 1 dir out mode iptfs \
					flag af-unspec aead "$AEAD" $KEY_AB $SA_ICV $words
				over=iptfs
			fi
			pk=$NET4A
			[ $v = 6 ] && pk=$NET6A
			ip netns exec $A xtfs policy add src $pk \
				dst "$([ $v = 4 ] && echo $NET4B || echo $NET6B)" \
				dir out tmpl src $OA4 dst $OB4 proto esp reqid 1 \
				mode $over
			capture_start $B veth-b "$TMP/size-$v-$cfg.pcap" 0 "ip or ip6"
			py -n $A "$IIPC" send "$TMP/one$v" >/dev/null
			sleep 0.5
			capture_stop
			oh=$(py - "$SELFTEST_DIR" "$TMP/size-$v-$cfg.pcap" <<'EOF'
import sys
sys.path.insert(0, sys.argv[1])
import pcap_esp
tots = [len(ip) for hl, p, ip in pcap_esp.ip_raw(sys.argv[2]) if p == 50]
print(tots[0] - 20 - 64 if len(tots) == 1 else "none")
EOF
)
			results+=" $v:$cfg:$oh"
		done
	done
	diag "ESP overhead of a 64-octet inner UDP packet, outer IPv4 (octets beyond the outer IP header and the inner packet):$results"
	# Expected (AES-GCM, ICV 16): tunnel mode 8 + 8 (IV) + 2 (padding)
	# + 2 + 16; implicit IV 8 + 2 + 2 + 16; EEC 2 + 16; IIPC the same
	# less what the inner headers lose: IPv4 20 + 8 down to RuleID 1 +
	# IHL, flags, 8 + 8 address bits (3), IPv6 40 + 8 down to 1 + 16.
	[ "$results" = " 4:tunnel:36 4:iiv:28 4:eec:18 4:iipc:-6 6:tunnel:36 6:iiv:28 6:eec:18 6:iipc:-13" ]
	ok $? "sizes as computed: tunnel mode 36, implicit IV 28, + EEC and CTEC 18, + IIPC -6 (IPv4 inner) and -13 (IPv6 inner)"
}

# tcp_ratio - TCP goodput over an SA pair with EEC (16 + 16 bits) and
# CTEC (optional, 8-bit alignment) against the same SA pair without them
# (implicit IV and the tunnel payload both times), rounds interleaved in
# one run: the ratio is printed (a benchmark figure, not a pass mark);
# every stream must arrive intact
tcp_ratio() {
	local cfg words t0 t1 rpid bad=0 port=7100 plain="" diet=""
	sa_families 4 4
	for _ in $(seq $TCP_ROUNDS); do
		for cfg in plain diet; do
			iipc_alg gcm
			sa_flush
			COMBO_N=$((COMBO_N + 1))
			SPI_AB=$(printf '0x%x' $((0x8000 + COMBO_N)))
			SPI_BA=$(printf '0x%x' $((0x9000 + COMBO_N)))
			words="iiv payload tunnel"
			[ $cfg = diet ] && words="iiv spi-lsb 16 sn-lsb 16 trailer optional align 8 payload tunnel"
			# shellcheck disable=SC2086
			sa_pair $words -- $words replay-window 64 || bad=1
			port=$((port + 1))
			ip netns exec $B timeout 300 python3 \
				"$SELFTEST_DIR/pcap_esp.py" tcp-recv $IB4 $port 60 \
				"$TMP/tcp.recv" &
			rpid=$!
			t0=$(date +%s.%N)
			ip netns exec $A timeout 300 python3 \
				"$SELFTEST_DIR/pcap_esp.py" tcp-send $IB4 $port \
				"$TCP_BYTES" $port "$TMP/tcp.sent"
			wait $rpid
			t1=$(date +%s.%N)
			{ [ -s "$TMP/tcp.sent" ] &&
				cmp -s "$TMP/tcp.sent" "$TMP/tcp.recv"; } || bad=1
			if [ $cfg = plain ]; then
				plain+=" $(echo "$t1 - $t0" | bc)"
			else
				diet+=" $(echo "$t1 - $t0" | bc)"
			fi
		done
	done
	diag "TCP $TCP_BYTES octets, seconds without Diet-ESP:$plain; with EEC+CTEC:$diet"
	diag "$(py -c '
import statistics, sys
p = [float(x) for x in sys.argv[1].split()]
d = [float(x) for x in sys.argv[2].split()]
r = sorted(a / b for a, b in zip(p, d))
print("goodput with EEC+CTEC / without, per round: %s; median %.2f" %
      (" ".join("%.2f" % x for x in r), statistics.median(r)))' "$plain" "$diet")"
	[ $bad = 0 ]
	ok $? "TCP streams of $TCP_BYTES octets intact over EEC+CTEC and plain implicit-IV SA pairs, $TCP_ROUNDS rounds each (goodput ratio above)"
}

# Six results a combo, seven with implicit IV (diet_esp.py opens), then
# two hostile, seven refusals, sizes, the TCP ratio, kmemleak.
nplan=12
while IFS='|' read -r _ _ alg _; do
	nplan=$((nplan + 6))
	[ "$alg" = gcm-esp ] || nplan=$((nplan + 1))
done <<<"$COMBOS"
tap_plan $nplan
setup_ns || exit 1
inner_routes
COMBO_N=0
while IFS= read -r spec; do
	combo "$spec"
done <<<"$COMBOS"
hostile
refusals
sizes
tcp_ratio
sa_flush
kmemleak_check "after IIPC traffic"
tap_done
