#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The helper's words of "ip xfrm": -V with the loaded module's version; an
# implicit-IV SA pair with a mark carries traffic (marked sockets out,
# ESP marked by tc on the way in); a policy selecting "proto udp dport N"
# and "proto icmp type 8" takes only that traffic into the SA (the rest
# goes in the clear: counters); text keys interoperate with the same key
# in hex; "state list" filters agree with those of "ip xfrm state list";
# flag 0xHEX; and SAs and policies made by xtfs and by ip with the same
# words are the same in both tools' dumps.
. "$(dirname "$0")/lib.sh"

tap_plan
modprobe -q xfrm_xtfs
setup_ns || { diag "namespace setup failed"; exit $KSFT_FAIL; }

VER=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"$/\1/p' "$SELFTEST_DIR/../dkms.conf")
out=$(xtfs -V)
rc=$?
diag "xtfs -V: $(echo "$out" | tr '\n' ' ')(exit $rc)"
[ $rc = 0 ] && [ "$out" = "xtfs $VER
xfrm_xtfs $VER" ] && [ "$(cat /sys/module/xfrm_xtfs/version)" = "$VER" ]
ok $? "xtfs -V: helper and loaded module both at dkms.conf's version $VER"
[ "$(xtfs --version)" = "$out" ]
ok $? "xtfs --version: the same"

# sa_words DIR - the words of an implicit-IV SA of direction DIR
sa_words() {
	echo dir "$1" mode iptfs iiv
	[ "$1" = in ] && echo replay-window 64
}

# sas SPI-AB SPI-BA KEY-AB KEY-BA [KEY-AB-IN-B KEY-BA-IN-B] [mark ...] - an
# implicit-IV IP-TFS SA pair in A and B, the mark words on all four. B's
# keys are A's unless given (the same keys in other words: text and hex).
# Each direction has a key of its own: with implicit IV a key may have
# one sender only.
sas() {
	local sab=$1 sba=$2 kab=$3 kba=$4 ns dab dba
	local bab=$3 bba=$4
	shift 4
	if [ $# -ge 2 ] && [ "$1" != mark ]; then
		bab=$1 bba=$2
		shift 2
	fi
	for ns in $A $B; do
		if [ $ns = $A ]; then dab=out dba=in; else dab=in dba=out kab=$bab kba=$bba; fi
		# shellcheck disable=SC2046
		ip netns exec $ns xtfs state add src $OA dst $OB proto esp \
			spi $sab reqid 1 aead "$AEAD" "$kab" 128 \
			$(sa_words $dab) "$@" || return 1
		# shellcheck disable=SC2046
		ip netns exec $ns xtfs state add src $OB dst $OA proto esp \
			spi $sba reqid 1 aead "$AEAD" "$kba" 128 \
			$(sa_words $dba) "$@" || return 1
	done
}

# pols WORDS... - policies both ways between the inner addresses, WORDS
# (selector words, mark) on each
pols() {
	ip netns exec $A xtfs policy add src $IA/32 dst $IB/32 "$@" dir out \
		tmpl src $OA dst $OB proto esp reqid 1 mode iptfs &&
	ip netns exec $A xtfs policy add src $IB/32 dst $IA/32 "$@" dir in \
		tmpl src $OB dst $OA proto esp reqid 1 mode iptfs &&
	ip netns exec $B xtfs policy add src $IB/32 dst $IA/32 "$@" dir out \
		tmpl src $OB dst $OA proto esp reqid 1 mode iptfs &&
	ip netns exec $B xtfs policy add src $IA/32 dst $IB/32 "$@" dir in \
		tmpl src $OA dst $OB proto esp reqid 1 mode iptfs
}

# udp_marked NS DST PORT N MARK - N datagrams from a socket with SO_MARK
udp_marked() {
	py -n "$1" - "$2" "$3" "$4" "$5" <<'EOF'
import socket, sys
dst, port, n, mark = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
if mark:
    s.setsockopt(socket.SOL_SOCKET, 36, mark)  # SO_MARK
for i in range(n):
    s.sendto(b"x%04d" % i + bytes(100), (dst, port))
EOF
}

# udp_count NS-FROM DST NS-TO PORT N MARK - datagrams that arrived of N sent
udp_count() {
	udp_recv_start "$3" "$4" "$5" 3 "$TMP/c.recv" "$2" || { echo 0; return; }
	udp_marked "$1" "$2" "$4" "$5" "$6"
	udp_sent "$TMP/c.recv"
	wait "$udp_rpid"
	wc -l <"$TMP/c.recv"
}

# --- a marked implicit-IV SA pair ----------------------------------------
# Outbound, the policy's mark picks the SA (the sender's SO_MARK picks the
# policy); inbound, the ESP packet's mark (tc skbedit at the veth) must
# match the SA's.
for ns in $A $B; do
	dev=$(ns_veth $ns)
	ip netns exec $ns tc qdisc add dev $dev clsact &&
		ip netns exec $ns tc filter add dev $dev ingress matchall \
			action skbedit mark 0x105
done
sas 0x100 0x200 $KEY_AB $KEY_BA mark 5 mask 0xff && pols mark 5 mask 0xff
ok $? "marked implicit-IV SA pair and policies (mark 5 mask 0xff)"
out=$(ip netns exec $A xtfs state get dst $OB proto esp spi 0x100 mark 5 mask 0xff)
diag "$(echo "$out" | grep -E 'mark|iptfs' | tr -s '\t\n' '  ')"
echo "$out" | grep -q "^	mark 0x5/0xff$" && echo "$out" | grep -q "iiv aes-gcm-16"
ok $? "state get ... mark 5 mask 0xff: the SA, its mark and its implicit IV"
! ip netns exec $A xtfs state get dst $OB proto esp spi 0x100 >/dev/null 2>&1
ok $? "state get without the mark: no such SA"
out=$(ip netns exec $A xtfs -j state list | py -i -c '
import json, sys
print(sorted((s["dir"], s.get("iptfs", {}).get("iiv"), s.get("mark", {}).get("value"))
             for s in json.load(sys.stdin)))')
diag "A's SAs (dir, iiv, mark): $out"
[ "$out" = "[('in', 'aes-gcm-16', 5), ('out', 'aes-gcm-16', 5)]" ]
ok $? "both marked SAs have implicit IV (the staged setting found its marked SA)"
n1=$(udp_count $A $IB $B 5001 20 5)
n2=$(udp_count $B $IA $A 5002 20 5)
o1=$(xtfs_counter $A out inner_out_pkts)
i1=$(xtfs_counter $B in inner_in_pkts)
o2=$(xtfs_counter $B out inner_out_pkts)
i2=$(xtfs_counter $A in inner_in_pkts)
diag "A->B $n1 of 20 (inner out $o1, in $i1), B->A $n2 of 20 (inner out $o2, in $i2)"
[ "$n1" = 20 ] && [ "$n2" = 20 ] && [ "$o1" = 20 ] && [ "$i1" = 20 ] &&
	[ "$o2" = 20 ] && [ "$i2" = 20 ]
ok $? "marked implicit-IV SA pair carries marked traffic both ways"
n3=$(udp_count $A $IB $B 5003 5 0)
o3=$(xtfs_counter $A out inner_out_pkts)
diag "unmarked A->B: $n3 of 5 arrived, inner out $o3"
[ "$o3" = 20 ]
ok $? "unmarked traffic does not take the marked policy's SA"
ip netns exec $A xtfs state del dst $OB proto esp spi 0x100 mark 5 mask 0xff &&
	! ip netns exec $A xtfs state get dst $OB proto esp spi 0x100 mark 5 \
		mask 0xff >/dev/null 2>&1
ok $? "state del ... mark 5 mask 0xff"
sa_flush
for ns in $A $B; do ip netns exec $ns tc qdisc del dev "$(ns_veth $ns)" clsact; done

# --- policies selecting by upper-layer protocol ---------------------------
# A to B only: UDP to port 6001 and ICMP echo requests into the SA, UDP to
# 6002 in the clear (B has no policy for it: accepted as it is).
sas 0x100 0x200 $KEY_AB $KEY_BA
for sel in "proto udp dport 6001" "proto icmp type 8 code 0"; do
	# shellcheck disable=SC2086
	ip netns exec $A xtfs policy add src $IA/32 dst $IB/32 $sel dir out \
		tmpl src $OA dst $OB proto esp reqid 1 mode iptfs &&
	ip netns exec $B xtfs policy add src $IA/32 dst $IB/32 $sel dir in \
		tmpl src $OA dst $OB proto esp reqid 1 mode iptfs || break
done
ok $? "policies: proto udp dport 6001, proto icmp type 8 code 0"
n1=$(udp_count $A $IB $B 6001 10 0)
n2=$(udp_count $A $IB $B 6002 10 0)
ip netns exec $A ping -q -c 3 -i 0.2 -W 2 $IB >/dev/null
p=$?
o=$(xtfs_counter $A out inner_out_pkts)
i=$(xtfs_counter $B in inner_in_pkts)
diag "udp 6001: $n1 of 10, udp 6002: $n2 of 10, ping exit $p; SA inner out $o, in $i"
[ "$n1" = 10 ] && [ "$n2" = 10 ] && [ $p = 0 ] && [ "$o" = 13 ] && [ "$i" = 13 ]
ok $? "only UDP to 6001 and echo requests went through the SA (13 of 23 packets)"
out=$(ip netns exec $A xtfs policy list)
ipout=$(ip -n $A xfrm policy list)
echo "$out" | grep -q "^src $IA/32 dst $IB/32 proto udp dport 6001$" &&
	echo "$out" | grep -q "^src $IA/32 dst $IB/32 proto icmp type 8 code 0$" &&
	echo "$ipout" | grep -q "^src $IA/32 dst $IB/32 proto udp dport 6001 *$" &&
	echo "$ipout" | grep -q "^src $IA/32 dst $IB/32 proto icmp type 8 code 0 *$"
ok $? "policy list shows the selectors as ip xfrm policy list does"
sa_flush

# --- a text key against the same key in hex ---------------------------------
# hex_of TEXT - the octets of TEXT as 0xHEX
hex_of() {
	echo "0x$(printf %s "$1" | od -An -tx1 | tr -d ' \n')"
}
TEXT_AB="xtfs test key 01234."
TEXT_BA="xtfs test key 56789."
HEX_AB=$(hex_of "$TEXT_AB")
HEX_BA=$(hex_of "$TEXT_BA")
sas 0x100 0x200 "$TEXT_AB" "$TEXT_BA" "$HEX_AB" "$HEX_BA" && pols
ok $? "SA pair: A's keys as text (\"$TEXT_AB\", \"$TEXT_BA\"), B's in hex"
ka=$(ip -n $A xfrm state get src $OA dst $OB proto esp spi 0x100 | awk '/aead/ { print $3 }')
kb=$(ip -n $B xfrm state get src $OA dst $OB proto esp spi 0x100 | awk '/aead/ { print $3 }')
diag "ip xfrm shows key $ka in A, $kb in B"
[ "$ka" = "$HEX_AB" ] && [ "$kb" = "$HEX_AB" ]
ok $? "ip xfrm shows the same key on both sides"
udp_check $A $IB $B 7001 10 300 && udp_check $B $IA $A 7002 10 300
ok $? "text-key SAs and hex-key SAs talk both ways"

# --- state list filters, against ip xfrm state list -------------------------
ip netns exec $A xtfs state add src $OA dst 192.0.2.9 proto esp spi 0x300 \
	reqid 3 mode tunnel aead "$AEAD" $KEY_AB 128 flag 0x3 &&
ip netns exec $A xtfs state add src $OA6 dst $OB6 proto esp spi 0x301 \
	reqid 3 mode transport aead "$AEAD" $KEY_AB 128 flag 0x80 replay-window 32
ok $? "more SAs (tunnel, transport, IPv6) with hexadecimal flags"
out=$(ip netns exec $A xtfs state get dst 192.0.2.9 proto esp spi 0x300)
ipout=$(ip -n $A xfrm state get src $OA dst 192.0.2.9 proto esp spi 0x300)
diag "flags: xtfs '$(echo "$out" | grep -o 'flag.*')' ip '$(echo "$ipout" | grep -o 'flag.*')'"
echo "$out" | grep -q "replay-window 0 flag noecn decap-dscp$" &&
	echo "$ipout" | grep -q "flag noecn decap-dscp"
ok $? "flag 0x3: noecn decap-dscp in both tools"
ip netns exec $A xtfs state get dst $OB6 proto esp spi 0x301 | grep -q "flag esn$"
ok $? "flag 0x80: esn"
fails=0
for f in "" "spi 0x100" "spi 0x300" "src $OA" "dst $OA" "dst 192.0.2.0/24" \
	"src 2001:db8:1::/64" "mode tunnel" "mode transport" "reqid 3" \
	"src $OA mode tunnel" "src $OA dst $OB spi 0x200" "spi 0x999"; do
	# shellcheck disable=SC2086
	x=$(ip netns exec $A xtfs state list $f | awk '/proto esp spi/ { print $4 }' | sort | tr '\n' ' ')
	# shellcheck disable=SC2086
	y=$(ip -n $A xfrm state list $f | awk '/proto esp spi/ { print $4 }' | sort | tr '\n' ' ')
	diag "state list $f: xtfs [$x] ip [$y]"
	[ "$x" = "$y" ] || fails=$((fails + 1))
done
[ $fails = 0 ]
ok $? "state list filters pick the SAs that ip xfrm state list picks (13 filters)"
[ "$(ip netns exec $A xtfs state list mode iptfs | awk '/proto esp spi/ { print $4 }' | sort | tr '\n' ' ')" = \
	"0x00000100 0x00000200 " ]
ok $? "state list mode iptfs: the two IP-TFS SAs"
[ "$(ip netns exec $A xtfs -j state list mode tunnel spi 0x300 | py -i -c '
import json, sys; print([s["spi"] for s in json.load(sys.stdin)])')" = "[768]" ]
ok $? "state list filters in JSON output"
sa_flush

# --- the same words through xtfs and through ip --------------------------
# Each object is made by one tool, dumped by both, removed, made by the
# other; both tools' dumps (policy index and SPI aside) must not change.
dumps() {
	{
		ip -n $A xfrm "$1" list
		echo ---
		ip netns exec $A xtfs "$1" list
	} | sed -e 's/ index [0-9]*//' -e 's/spi 0x[0-9a-f]*/spi S/'
}
# same_dumps OBJ PATTERN - for each line of words on stdin: OBJ made by
# ip, then by xtfs, from those words; each time both dumps taken (the
# lines matching PATTERN of xtfs's shown); a failed add or dumps that
# differ count in $fails
same_dumps() {
	local obj=$1 pat=$2 words d1 d2
	while read -r words; do
		[ -n "$words" ] || continue
		# shellcheck disable=SC2086
		eval "set -- $words"
		ip -n $A xfrm "$obj" add "$@" || fails=$((fails + 1))
		d1=$(dumps "$obj")
		ip -n $A xfrm "$obj" flush
		ip netns exec $A xtfs "$obj" add "$@" || fails=$((fails + 1))
		d2=$(dumps "$obj")
		diag "$obj: $(echo "$d2" | grep -E "$pat" | tr -s '\t\n' '  ')"
		ip -n $A xfrm "$obj" flush
		[ "$d1" = "$d2" ] || { diag "$obj $words:"; diff <(echo "$d1") <(echo "$d2") | sed 's/^/# /'; fails=$((fails + 1)); }
	done
}
fails=0
same_dumps policy '^src|mark' <<EOF
src 10.0.0.0/8 dst 10.1.0.0/16 proto udp sport 500 dport 4500 dir out priority 10 mark 7 mask 0xff flag localok tmpl src $OA dst $OB proto esp reqid 3 mode tunnel
src 10.0.0.0/8 dst 10.1.0.0/16 proto icmp type 3 code 4 dir fwd flag 0x2 tmpl src $OA dst $OB proto esp reqid 3 mode tunnel
src 2001:db8:5::/48 dst 2001:db8:6::/48 proto ipv6-icmp type 128 dir in mark 0x10 tmpl src $OA6 dst $OB6 proto esp reqid 4 mode tunnel
src 10.0.0.0/8 dst 10.1.0.0/16 proto gre key 1.2.3.4 dev veth-a dir out action block
src 10.0.0.0/8 dst 10.1.0.0/16 proto 132 dport 9 dir out tmpl src $OA dst $OB proto esp reqid 3 mode transport level use
EOF
same_dumps state 'sel|mark|flag' <<EOF
src $OA dst $OB proto esp spi 0x400 reqid 4 mode tunnel enc "cbc(aes)" "0123456789abcdef" auth-trunc "hmac(sha256)" 0x0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20 128 mark 9 mask 0xff flag 0x3 replay-window 32 sel src 10.0.0.0/8 dst 10.1.0.0/16 proto tcp sport 22
src $OA dst $OB proto esp spi 0x401 reqid 4 mode tunnel aead "rfc4106(gcm(aes))" "a 20 octet text key." 128 flag esn replay-window 128 sel src 10.0.0.0/8 proto icmp type 8
src $OA6 dst $OB6 proto esp spi 0x402 mode transport aead "rfc4106(gcm(aes))" 0x123456789abcdef0123456789abcdef01234567 128 mark 0x20
EOF
[ $fails = 0 ]
ok $? "5 policies and 3 SAs: the same in both tools' dumps whichever tool made them"

# --- bad words: usage errors ------------------------------------------------
fails=0
while read -r words; do
	[ -n "$words" ] || continue
	eval "set -- $words"
	out=$(ip netns exec $A xtfs "$@" 2>&1)
	rc=$?
	[ $rc = 2 ] || { diag "xtfs $words: exit $rc: $out"; fails=$((fails + 1)); }
done <<EOF
state add src $OA dst $OB proto esp spi 1 mode tunnel flag 0x100
state add src $OA dst $OB proto esp spi 1 mode tunnel flag 0xzz
state add src $OA dst $OB proto esp spi 1 mode tunnel aead "rfc4106(gcm(aes))" 0xnothex 128
state add src $OA dst $OB proto esp spi 1 mode tunnel sel src 10.0.0.0/8 proto udp type 3
state add src $OA dst $OB proto esp spi 1 mode tunnel sel proto icmp dport 3
state add src $OA dst $OB proto esp spi 1 mode tunnel sel proto nosuchproto
state add src $OA dst $OB proto esp spi 1 mode tunnel mark 1 mask
state add src $OA dst $OB proto esp spi 1 mode tunnel mark x
state get dst $OB proto esp spi 1 mark 1 mask 0x1ffffffff
state list spi
state list mode bogus
state list src $OA dst $OB6
state list bogus
policy add src 10.0.0.0/8 dst 10.1.0.0/16 dir out proto tcp type 1
policy add src 10.0.0.0/8 dst 10.1.0.0/16 dir out key 5
policy add src 10.0.0.0/8 dst 10.1.0.0/16 dir out dev nosuchdev
policy add src 10.0.0.0/8 dst 10.1.0.0/16 dir out flag bogus
policy add src 10.0.0.0/8 dst 10.1.0.0/16 dir out proto udp dport 65536
policy del src 10.0.0.0/8 dst 10.1.0.0/16 dir out mark
EOF
[ $fails = 0 ]
ok $? "19 bad command lines: usage errors (exit 2)"

tap_done
