#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Bad requests: each gets a specific extended-ACK message from the kernel,
# a non-zero exit from xtfs, and leaves no SA behind. Bad command lines get
# a usage error from xtfs itself, before any netlink request.
. "$(dirname "$0")/lib.sh"

tap_plan
modprobe -q xfrm_xtfs
setup_ns || { diag "namespace setup failed"; exit $KSFT_FAIL; }

# expect_refused DESC PATTERN ARGS... - xtfs state add must fail with a
# message matching PATTERN and leave the SA table empty; with want_rc set,
# with that exit status.
expect_refused() {
	local desc=$1 pat=$2 out rc n
	shift 2
	out=$(ip netns exec $A xtfs state add src $OA dst $OB proto esp \
		spi 0x300 reqid 3 "$@" 2>&1)
	rc=$?
	n=$(ip netns exec $A xtfs -j state list | py -i -c \
		'import json,sys; print(len(json.load(sys.stdin)))')
	diag "$desc: exit $rc: $out"
	ip netns exec $A xtfs state flush
	[ $rc -ne 0 ] && [ "${want_rc:-$rc}" = $rc ] &&
		echo "$out" | grep -q -- "$pat" && [ "$n" = 0 ]
	ok $? "$desc"
}

# expect_usage DESC PATTERN ARGS... - expect_refused, refused by xtfs
# itself as bad usage (exit 2).
expect_usage() {
	want_rc=2 expect_refused "$@"
}

expect_refused "pkt-size below the minimum" "packet size 50 too small" \
	dir out mode iptfs aead "$AEAD" $KEY_AB 128 pkt-size 50
expect_refused "unknown AEAD name" "AEAD algorithm not found" \
	dir out mode iptfs aead "rfc9999(nope)" $KEY_AB 128
expect_refused "missing direction" "requires in or out direction" \
	mode iptfs aead "$AEAD" $KEY_AB 128
expect_refused "input-only option on an output SA" "drop time should not be set for output SA" \
	dir out mode iptfs aead "$AEAD" $KEY_AB 128 drop-time 1000

# Implicit IV: only the three AEADs of RFC 8750 with their ICV lengths,
# only in mode iptfs; xtfs refuses the rest before staging anything.
IIV_NEED='"iiv" needs aead rfc4106(gcm(aes)) KEY 128, rfc4309(ccm(aes)) KEY 64 or rfc7539esp(chacha20,poly1305) KEY 128'
expect_usage "iiv without an algorithm" "$IIV_NEED, and no aead is given" \
	dir out mode iptfs iiv
expect_usage "iiv with enc/auth" "$IIV_NEED, not enc/auth" \
	dir out mode iptfs enc "cbc(aes)" 0x000102030405060708090a0b0c0d0e0f \
	auth "hmac(sha256)" $KEY_AB iiv
expect_usage "iiv with a 64-bit ICV for GCM" "$IIV_NEED, not aead $AEAD KEY 64" \
	dir out mode iptfs iiv aead "$AEAD" $KEY_AB 64
expect_usage "iiv with an AEAD without implicit IV" "not aead gcm(aes) KEY 128" \
	dir out mode iptfs aead "gcm(aes)" 0x000102030405060708090a0b0c0d0e0f 128 iiv
expect_usage "iiv outside mode iptfs" '"iiv" needs mode iptfs' \
	dir out mode tunnel aead "$AEAD" $KEY_AB 128 iiv

# Payload format: only in mode iptfs (aggfrag too), and the tunnel payload
# takes none of the IP-TFS parameters; xtfs refuses these before staging.
expect_usage "payload outside mode iptfs" '"payload" needs mode iptfs' \
	dir out mode tunnel aead "$AEAD" $KEY_AB 128 payload tunnel
expect_usage "payload aggfrag outside mode iptfs" '"payload" needs mode iptfs' \
	dir out mode transport aead "$AEAD" $KEY_AB 128 payload aggfrag
expect_usage "unknown payload word" \
	'invalid value "bogus" for "payload" (expected aggfrag|tunnel)' \
	dir out mode iptfs aead "$AEAD" $KEY_AB 128 payload bogus

# tunnel_param DIR WORD [ARGS...] - "payload tunnel" with IP-TFS parameter
# WORD (and ARGS) on a DIR SA: a usage error naming WORD.
tunnel_param() {
	local dir=$1 word=$2
	shift
	expect_usage "payload tunnel with $word" \
		"IP-TFS parameters do not apply to the tunnel payload: \"payload tunnel\" with \"$word\"" \
		dir $dir mode iptfs aead "$AEAD" $KEY_AB 128 payload tunnel "$@"
}
tunnel_param out pkt-size 1400 iiv
tunnel_param out init-delay 1000
tunnel_param out dont-frag
tunnel_param out max-queue-size 100000
tunnel_param in drop-time 1000
tunnel_param in reorder-window 5

out=$(xtfs state add src $OA bogus-word 2>&1)
rc=$?
[ $rc -eq 2 ] && echo "$out" | grep -q "bogus-word"
ok $? "unknown word on the command line: usage error naming it (exit $rc)"

out=$(xtfs state add src 300.1.2.3 dst $OB proto esp spi 1 2>&1)
rc=$?
[ $rc -eq 2 ] && echo "$out" | grep -q "300.1.2.3"
ok $? "bad address: usage error naming it (exit $rc)"

tap_done
