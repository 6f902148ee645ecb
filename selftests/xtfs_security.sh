#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Inputs from a remote peer or a local user that once hurt the kernel. Each
# test says what it reproduces; on the debug kernel a KASAN, UBSAN or
# lockdep report fails the run (vm-run.sh), and the checks here say what
# must happen instead.
. "$(dirname "$0")/lib.sh"

tap_plan
modprobe -q esp4; modprobe -q esp6; modprobe -q xfrm_user
setup_ns || { diag "namespace setup failed"; exit $KSFT_FAIL; }

# out_sa_again OPTIONS... - A's outbound SA made again with OPTIONS (the
# pair's other SAs and the policies stay).
out_sa_again() {
	ip netns exec $A xtfs state del src $OA dst $OB proto esp spi $SPI_AB &&
		ip netns exec $A xtfs state add src $OA dst $OB proto esp \
			spi $SPI_AB reqid 1 dir out mode iptfs aead "$AEAD" \
			$KEY_AB $SA_ICV "$@"
}

# 1: a SYN-ACK that does not fit a dont-frag SA. The SYN-ACK of a
# listener carries a request socket, not a full one: the "too big" report
# must not treat it as one (it did: ip_local_error() read past the
# request socket, KASAN slab-out-of-bounds, reached by a remote SYN).
# The report goes out as ICMP instead, as the kernel's tunnel mode does.
# IPv4 only: an IPv6 SYN-ACK too big for the path is refused by
# ip6_xmit() before it reaches the SA.
for fam in 4; do
	sa_families $fam $fam
	sa_flush
	sa_pair && out_sa_again pkt-size 100 dont-frag || diag "SAs not made"
	ip netns exec $A timeout 10 nc -l "$IA" 5099 >/dev/null 2>&1 &
	lpid=$!
	sleep 1
	# The SYN reaches A through B's roomy SA; the SYN-ACK does not fit
	# A's: no connection.
	! ip netns exec $B nc -z -w 3 "$IA" 5099 2>/dev/null
	r=$?
	kill $lpid 2>/dev/null
	wait $lpid 2>/dev/null
	big=$(xtfs_counter $A out drop_too_big)
	[ $r = 0 ] && [ "${big:-0}" -ge 1 ]
	ok $? "IPv$fam: SYN-ACK too big for a dont-frag SA (request socket): dropped and counted ($big), no crash"
done

tap_done
