#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The AGGFRAG dissector (tools/wireshark/aggfrag.lua) under trixie's
# tshark. A capture made here (selftests/aggfrag_pcap.py) covers what xtfs
# does not send on demand: a sub-type 1 header, a first part ending inside
# the inner IP header, an all-pad payload between parts, a lost part and
# the orphan end after it; the dissector must show exactly its inner
# packets and fields. Then captures of xtfs tunnels, with inner IPv4 and
# IPv6 datagrams of random sizes (small ones aggregated, large ones split
# across ESP packets): one of an ESP-NULL SA pair over IPv4, one of an
# AES-GCM SA pair over IPv6 that tshark decrypts with the SA's key. In
# each, the datagrams tshark lists through the dissector must be exactly
# those sent (SHA-256 of each payload), and its counts of inner packets,
# reassembled packets and ESP packets those of the SAs' own counters.
#
# The made capture needs no kernel: `xtfs_wireshark.sh --offline` checks
# it alone, and check.sh runs that in the testbed's root on the host (a
# tshark start costs 10 to 20 s under emulation, well under one natively).
# In a guest the suite checks the tunnels' captures, with as few tshark
# runs as their checks allow: one pass listing every field they need, a
# second pass for what only two passes show, and for the encrypted SA
# pair one without the keys.
. "$(dirname "$0")/lib.sh"
OFFLINE=0
[ "${1:-}" = --offline ] && OFFLINE=1

N=80
PKT=600
AP=$SELFTEST_DIR/aggfrag_pcap.py
# tshark -T fields arguments of aggfrag_pcap.py's listings (its FIELDS)
FIELDS=(-e esp.spi -e aggfrag.inner_count -e aggfrag.reassembled.length
	-e aggfrag.fragment.frames -e udp.payload)

tap_plan

if ! command -v tshark >/dev/null; then
	skip "tshark runs the AGGFRAG dissector" "no tshark in this root"
	tap_done
fi

# Wireshark runs no Lua script named on its command line as root (and
# says nothing): tshark runs as nobody, over copies it can read.
chmod 755 "$TMP"
cp "$SELFTEST_DIR/../tools/wireshark/aggfrag.lua" "$TMP/aggfrag.lua"

# nobody CMD... - CMD as user nobody, its home $TMP.
nobody() {
	setpriv --reuid=nobody --regid=nogroup --clear-groups env HOME="$TMP" "$@"
}

# ws [TSHARK-ARGS...] - tshark with the dissector, unprivileged.
ws() {
	nobody tshark -n -X lua_script:"$TMP/aggfrag.lua" "$@" 2>>"$TMP/tshark.err"
}

# esp_sa PROTO SPI ENC KEY - the esp_sa table entry (-o uat:esp_sa:...)
# for SPI, any addresses, no separate authentication.
esp_sa() {
	printf 'uat:esp_sa:"%s","*","*","%s","%s","%s","NULL",""' \
		"$1" "$(printf '0x%08x' "$2")" "$3" "$4"
}

# 1 (with --offline): the dissector loads and registers its fields
if [ $OFFLINE = 1 ]; then
diag "$(tshark -v 2>/dev/null | head -n1)"
nf=$(nobody tshark -G fields -X lua_script:"$TMP/aggfrag.lua" | grep -c $'\taggfrag\.')
[ "$nf" = 27 ]
ok $? "tshark loads aggfrag.lua: $nf aggfrag fields and expert infos registered (23 and 4)"

# 2-7 (with --offline): the made capture, opened as ESP-NULL
py "$AP" craft "$TMP/craft.pcap" "$TMP/craft.sums"
chmod 644 "$TMP/craft.pcap"
NULL300=(-o esp.enable_encryption_decode:TRUE -o "$(esp_sa IPv4 0x300 NULL "")")
ws -r "$TMP/craft.pcap" "${NULL300[@]}" -T fields "${FIELDS[@]}" >"$TMP/craft.tsv"
py "$AP" sums "$TMP/craft.tsv" >"$TMP/craft.listed"
cmp -s "$TMP/craft.sums" "$TMP/craft.listed"
ok $? "made capture: the $(wc -l <"$TMP/craft.listed") datagrams listed are the 6 its payloads hold, in order"

ws -r "$TMP/craft.pcap" "${NULL300[@]}" -T fields -e frame.number \
	-e esp.sequence -e aggfrag.subtype -e aggfrag.inner_count \
	-e aggfrag.fragment.part -e aggfrag.reassembled.length >"$TMP/craft.frames"
# frame, ESP sequence number, sub-type, inner packets shown, parts
# (1 first, 2 middle, 3 last, 4 orphan end), reassembled length
printf '%s\n' "1	1	0	2		" "2	2	1	1	1	" "3	3	0	0		" \
	"4	4	0	0	2	" "5	5	0	2	3,1	328" "6	7	0	1	4	" >"$TMP/craft.want"
cmp -s "$TMP/craft.want" "$TMP/craft.frames"
r=$?
[ $r = 0 ] || diff "$TMP/craft.want" "$TMP/craft.frames" | sed 's/^/# /'
ok $r "made capture: per frame the blocks, parts and the 328-octet packet reassembled from sequence numbers 2, 4 and 5 (3 all pad), the packet of the lost 6 given up"

out=$(ws -r "$TMP/craft.pcap" "${NULL300[@]}" -Y aggfrag.subtype==1 -T fields \
	-e aggfrag.flags.p -e aggfrag.flags.e -e aggfrag.loss_event_rate \
	-e aggfrag.rtt -e aggfrag.echo_delay -e aggfrag.transmit_delay \
	-e aggfrag.tval -e aggfrag.techo)
want="True	False	1000	74565	109517	61453	0xdeadbeef	0x01020304"
[ "$out" = "$want" ]
ok $? "made capture: sub-type 1 header fields (P, E, LossEventRate, RTT, Echo Delay, Transmit Delay, TVal, TEcho) as written: $out"

out=$(ws -2 -r "$TMP/craft.pcap" "${NULL300[@]}" -Y aggfrag.reassembled_in \
	-T fields -e frame.number -e aggfrag.reassembled_in | tr '\n\t' ' :')
[ "$out" = "2:5 4:5 " ]
ok $? "made capture, two passes: the first and middle parts point to the frame completing them ($out)"

out=$(ws -r "$TMP/craft.pcap" "${NULL300[@]}" -Y "aggfrag.lost || aggfrag.orphan" \
	-T fields -e frame.number | tr '\n' ' ')
[ "$out" = "6 " ]
ok $? "made capture: the given-up packet and the orphan end flagged in frame 6 only ($out)"

r=$( (ws -r "$TMP/craft.pcap" "${NULL300[@]}" -Y _ws.lua.error
	ws -2 -r "$TMP/craft.pcap" "${NULL300[@]}" -Y _ws.lua.error) | wc -l)
[ "$r" = 0 ]
ok $? "made capture: no Lua error in any frame, one pass or two ($r)"
diag "made capture: tshark's view:"
ws -r "$TMP/craft.pcap" "${NULL300[@]}" | sed 's/^ */# /'
tap_done
fi

# sa_pair_null - like sa_pair (same families, SPIs, policies), with ESP
# null encryption and no authentication.
sa_pair_null() {
	local ns spi src dst dir
	local -a opts=()
	case " $SA_INNER " in
	*" $((10 - SA_OUTER)) "*) opts=(flag af-unspec) ;;
	esac
	for ns in $A $B; do
		for spi in $SPI_AB $SPI_BA; do
			if [ $spi = $SPI_AB ]; then src=$OA dst=$OB; else src=$OB dst=$OA; fi
			dir=in
			{ [ $ns = $A ] && [ $spi = $SPI_AB ]; } ||
				{ [ $ns = $B ] && [ $spi = $SPI_BA ]; } && dir=out
			if [ $dir = out ]; then
				ip netns exec $ns xtfs state add src $src dst $dst \
					proto esp spi $spi reqid 1 dir out mode iptfs \
					enc "ecb(cipher_null)" "" "${opts[@]}" "$@" || return 1
			else
				ip netns exec $ns xtfs state add src $src dst $dst \
					proto esp spi $spi reqid 1 dir in mode iptfs \
					enc "ecb(cipher_null)" "" "${opts[@]}" || return 1
			fi
		done
	done
	_sa_policies $A a $OA $OB && _sa_policies $B b $OB $OA
}

# run TAG OUTER ENC KEY-AB KEY-BA - an SA pair with outer family OUTER
# and both inner families (ENC NULL: sa_pair_null, else sa_pair), N
# datagrams of 16 to 1300 octets of each inner family from A to B in a
# burst, captured on B; then tshark's view of the capture through the
# dissector, the SAs given to it as esp_sa entries (encryption ENC, keys
# KEY-AB and KEY-BA).
run() {
	local tag=$1 outer=$2 enc=$3 proto=IPv$2 f rpids=() r
	local esp inner reasm parts agg
	sa_flush
	sa_families "$outer" 4 6
	if [ "$enc" = NULL ]; then
		sa_pair_null pkt-size $PKT init-delay 20000
	else
		sa_pair pkt-size $PKT init-delay 20000
	fi
	ok $? "$tag: SA pair (pkt-size $PKT, init-delay 20 ms), inner IPv4 and IPv6"
	capture_start $B veth-b "$TMP/$tag.pcap" 65535 || diag "capture did not start"
	for f in 4 6; do
		udp_recv_start $B $((5000 + f)) $N 5 "$TMP/$tag-recv$f.sums" \
			"$(addr_of b $f)" || return 1
		rpids+=("$udp_rpid")
	done
	for f in 4 6; do
		py -n $A "$SELFTEST_DIR/pcap_esp.py" udp-mix "$(addr_of b $f)" \
			$((5000 + f)) $N 16 1300 $((f + outer)) "$TMP/$tag-sent$f.sums" \
			>/dev/null
		udp_sent "$TMP/$tag-recv$f.sums"
	done
	wait "${rpids[@]}"
	capture_stop
	chmod 644 "$TMP/$tag.pcap"
	sort "$TMP/$tag-sent4.sums" "$TMP/$tag-sent6.sums" >"$TMP/$tag.sent"
	sort "$TMP/$tag-recv4.sums" "$TMP/$tag-recv6.sums" >"$TMP/$tag.recv"
	cmp -s "$TMP/$tag.sent" "$TMP/$tag.recv"
	r=$?
	[ $r = 0 ] || diag_path
	ok $r "$tag: the tunnel delivered the $((2 * N)) datagrams intact ($(wc -l <"$TMP/$tag.recv") received)"

	local -a keys=(-o esp.enable_encryption_decode:TRUE
		-o esp.enable_authentication_check:TRUE
		-o "$(esp_sa "$proto" $SPI_AB "$enc" "$4")"
		-o "$(esp_sa "$proto" $SPI_BA "$enc" "$5")")
	# One pass, one line a frame: FIELDS (aggfrag_pcap.py's listing),
	# then whether the ICV checked good and the frame's flags (each
	# expert info or error field shows 1 where raised).
	ws -r "$TMP/$tag.pcap" "${keys[@]}" -T fields "${FIELDS[@]}" \
		-e esp.icv_good -e aggfrag.malformed -e aggfrag.lost \
		-e aggfrag.orphan -e aggfrag.subtype.unknown -e _ws.malformed \
		-e _ws.lua.error >"$TMP/$tag.all"
	cut -f1-5 "$TMP/$tag.all" >"$TMP/$tag.tsv"
	py "$AP" sums "$TMP/$tag.tsv" | sort >"$TMP/$tag.listed"
	cmp -s "$TMP/$tag.sent" "$TMP/$tag.listed"
	r=$?
	[ $r = 0 ] || diag "$tag: $(comm -23 "$TMP/$tag.sent" "$TMP/$tag.listed" | wc -l) sent not listed, $(comm -13 "$TMP/$tag.sent" "$TMP/$tag.listed" | wc -l) listed not sent"
	ok $r "$tag: tshark lists exactly the $((2 * N)) datagrams sent, contents identical ($(wc -l <"$TMP/$tag.listed") listed)"

	read -r _ esp _ inner _ reasm _ parts _ agg < <(py "$AP" tally "$TMP/$tag.tsv" $SPI_AB)
	diag "$tag: A to B through the dissector: $esp ESP packets, $inner inner packets, $reasm reassembled (up to $parts ESP packets each), $agg ESP packets with two or more"
	diag "$tag: A's SA sent $(xtfs_counter $A out outer_out_pkts) ESP packets; B's SA: $(xtfs_counter $B in inner_in_pkts) inner packets, $(xtfs_counter $B in reassembled) reassembled"
	[ "$esp" = "$(xtfs_counter $A out outer_out_pkts)" ] &&
		[ "$inner" = "$(xtfs_counter $B in inner_in_pkts)" ] &&
		[ "$inner" = $((2 * N)) ] &&
		[ "$reasm" = "$(xtfs_counter $B in reassembled)" ]
	ok $? "$tag: tshark's ESP packets, inner packets and reassembled packets are the SAs' counts"
	[ "$reasm" -gt 0 ] && [ "$parts" -ge 3 ] && [ "$agg" -gt 0 ]
	ok $? "$tag: large datagrams reassembled across ESP packets ($reasm, up to $parts ESP packets), small ones aggregated ($agg ESP packets with two or more)"

	r=$(ws -2 -r "$TMP/$tag.pcap" "${keys[@]}" -Y aggfrag.reassembled_in \
		-T fields -e aggfrag.reassembled_in | sort -u | wc -l)
	[ "$r" = "$reasm" ]
	ok $? "$tag: two passes: the parts before the last name the frame completing their packet ($r frames named, one per reassembled packet)"

	r=$(cut -f7- "$TMP/$tag.all" | grep -c '[^[:space:]]')
	[ "$r" = 0 ]
	ok $? "$tag: no frame flagged malformed, lost or orphan, no Lua error ($r)"
	[ "$enc" = NULL ] && return 0

	# What decryption and the keys do: every ICV checked good, and
	# nothing inner seen without the keys.
	r=$(cut -f6 "$TMP/$tag.all" | sort | uniq -c | tr -s ' \n' ' ')
	ws -r "$TMP/$tag.pcap" -T fields -e frame.number -e udp.payload \
		-e aggfrag.subtype >"$TMP/$tag.nokeys"
	[ "$r" = " $(wc -l <"$TMP/$tag.nokeys") True " ]
	ok $? "$tag: tshark checked every ESP packet's ICV good with the keys given (count, value:$r)"
	r=$(cut -f2- "$TMP/$tag.nokeys" | grep -c '[0-9a-f]')
	[ "$r" = 0 ]
	ok $? "$tag: without the keys tshark shows no AGGFRAG payload and no datagram ($r frames)"
}

# 1-6: ESP-NULL over IPv4
setup_ns || { diag "namespace setup failed"; exit $KSFT_FAIL; }
run null 4 NULL "" ""

# 7-14: AES-GCM (rfc4106, 16-octet ICV: the suites' SAs) over IPv6,
# decrypted by tshark with each SA's key (salt included)
run gcm 6 "AES-GCM with 16 octet ICV [RFC4106]" "$KEY_AB" "$KEY_BA"
tap_done
