#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# IPv4 and IPv6, outer and inner, in all four combinations, and both inner
# families at once on one SA pair (a policy per family, one reqid). For
# each: pings of several sizes (some split across outer packets) with a
# payload pattern, a UDP burst per inner family compared by SHA-256, and a
# capture showing every outer packet is of the outer family and exactly
# pkt-size octets, and that the sender's outer stream is in sequence.
. "$(dirname "$0")/lib.sh"

SIZES="0 56 1000 1400 3000"
BURST=100
DGRAM=700
PKT=1400

tap_plan
setup_ns || { diag "namespace setup failed"; exit $KSFT_FAIL; }

# check_pings TAG FAMILY - pings of every size from A to B, pattern checked.
check_pings() {
	local tag=$1 f=$2 s out fail=0
	for s in $SIZES; do
		out=$(ip netns exec $A ping -$f -q -c 2 -i 0.2 -W 5 -s "$s" \
			-p a5c3 -I "$(addr_of a "$f")" "$(addr_of b "$f")" 2>&1)
		if ! echo "$out" | grep -q " 0% packet loss" ||
		   echo "$out" | grep -q "wrong data"; then
			diag "$tag ping -$f -s $s: $out"
			fail=1
		fi
	done
	ok $fail "$tag: IPv$f pings of $SIZES octets, replies intact"
}

# run_combo OUTER INNER... - one SA pair in these families, all checks.
run_combo() {
	local outer=$1 tag f port rpids=() spids=() nrecv r nbad nout seqs
	shift
	tag="$*"
	tag="outer IPv$outer, inner IPv${tag// /+IPv}"
	sa_flush
	sa_families "$outer" "$@"
	sa_pair pkt-size $PKT
	ok $? "$tag: SA pair and policies"
	capture_start $B veth-b "$TMP/cap.pcap" || diag "capture did not start"
	for f in "$@"; do
		check_pings "$tag" "$f"
	done

	# Bursts of all inner families at once: they share the SA pair.
	for f in "$@"; do
		rm -f "$TMP/recv$f.sums"
		udp_recv_start $B $((5000 + f)) $BURST 30 "$TMP/recv$f.sums" \
			"$(addr_of b "$f")"
		rpids+=($udp_rpid)
	done
	for f in "$@"; do
		py -n $A "$SELFTEST_DIR/pcap_esp.py" udp-send \
			"$(addr_of b "$f")" $((5000 + f)) $BURST $DGRAM $((f + outer)) \
			"$TMP/sent$f.sums" &
		spids+=($!)
	done
	wait "${spids[@]}" "${rpids[@]}"
	for f in "$@"; do
		nrecv=$(wc -l <"$TMP/recv$f.sums")
		cmp -s <(sort "$TMP/sent$f.sums") <(sort "$TMP/recv$f.sums")
		r=$?
		[ $r -eq 0 ] || { diag "UDP RcvbufErrors in B: $(udp_rcvbuf_errors $B)"; diag_path; }
		ok $r "$tag: IPv$f UDP burst, $nrecv of $BURST datagrams of $DGRAM octets identical"
	done

	capture_stop
	py "$SELFTEST_DIR/pcap_esp.py" esp "$TMP/cap.pcap" >"$TMP/esp"
	nout=$(wc -l <"$TMP/esp")
	nbad=$(grep -cvx "$outer $PKT" "$TMP/esp")
	seqs=$(py "$SELFTEST_DIR/pcap_esp.py" esp-seq "$TMP/cap.pcap" 0x100)
	diag "$tag: A to B on the wire: $seqs"
	# Nothing on this path reorders or loses: what the sender put out
	# must be in sequence, whichever CPUs the inner packets came from.
	echo "$seqs" | grep -Eq '^packets [1-9][0-9]* reordered 0 late 0 missing 0 duplicate 0$'
	ok $? "$tag: A's outer packets reached B in sequence, none missing"
	diag "$tag: $nout outer packets captured, $nbad not IPv$outer of $PKT octets"
	[ "$nbad" -gt 0 ] && diag "first: $(grep -vx "$outer $PKT" "$TMP/esp" | sort | uniq -c | head -n 3 | tr '\n' ' ')"
	[ "$nout" -gt 0 ] && [ "$nbad" -eq 0 ]
	ok $? "$tag: every outer packet is IPv$outer, $PKT octets ($nbad of $nout differ)"
}

run_combo 4 4
run_combo 4 6
run_combo 6 4
run_combo 6 6
run_combo 4 4 6
run_combo 6 4 6

tap_done
