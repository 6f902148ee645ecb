#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Two CPUs at once on one SA: two senders pinned to different CPUs into one
# IP-TFS SA; the receive path (reorder window, reassembly, drop timer) fed
# from both CPUs, by two replaying processes on different CPUs and RPS on
# the receiving veth; the extension family's staging list and NEWSA from
# two processes at once. Every datagram delivered and compared, counters
# checked; a splat fails the run (vm-run.sh).
. "$(dirname "$0")/lib.sh"

PCAP="$SELFTEST_DIR/pcap_esp.py"
N=400		# datagrams per sender
STAGED=30	# implicit-IV SAs added by each staging process

tap_plan
if [ "$(nproc)" -lt 2 ]; then
	skip "SMP tests" "one CPU only"
	tap_done
fi
modprobe -q esp4; modprobe -q esp6; modprobe -q xfrm_user
setup_ns || { diag "namespace setup failed"; exit $KSFT_FAIL; }

# softnet_processed - packets each CPU took off its backlog, one a line.
softnet_processed() {
	while read -r p _; do echo $((0x$p)); done </proc/net/softnet_stat
}

# 1-3: two senders, each pinned to its own CPU, into the one A->B SA.
# Datagrams of 20..1800 octets: some aggregate, some are fragmented.
sa_families 4 4
sa_pair pkt-size 1000 init-delay 2000 || diag "sa_pair failed"
udp_recv_start $B 5001 $N 20 "$TMP/r0" && r0=$udp_rpid
udp_recv_start $B 5002 $N 20 "$TMP/r1" && r1=$udp_rpid
for c in 0 1; do
	ip netns exec $A taskset -c $c python3 "$PCAP" udp-mix $IB $((5001 + c)) \
		$N 20 1800 $((7 + c)) "$TMP/s$c" >/dev/null &
done
wait_fail=0
for p in $(jobs -p); do wait "$p" || wait_fail=1; done
for c in 0 1; do
	cmp -s <(sort "$TMP/s$c") <(sort "$TMP/r$c")
	ok $? "sender on CPU $c: $(wc -l <"$TMP/r$c") of $N datagrams delivered, contents identical"
done
[ "$(xtfs_counter $A out inner_out_pkts)" = $((2 * N)) ] &&
	[ "$(xtfs_counter $B in inner_in_pkts)" = $((2 * N)) ] &&
	[ $wait_fail = 0 ]
ok $? "one SA counted $((2 * N)) inner packets out and in (out $(xtfs_counter $A out inner_out_pkts), in $(xtfs_counter $B in inner_in_pkts))"
[ "$_nfail" -eq 0 ] || diag_path

# 4-7: the receive side fed from both CPUs. IPv6 outer: the A->B outer
# packets of a fragmenting load are captured whole, B's inbound SA is made
# again (a fresh replay window, same key), and two processes on different
# CPUs replay the capture interleaved (even and odd packets) on one time
# schedule, each IPv6 packet with its own flow label so that RPS on veth-b
# spreads them over both CPUs too. Neighbouring packets race each other
# from two CPUs: the reorder window and reassembly put them back.
sa_flush
sa_families 6 4
sa_pair pkt-size 800 init-delay 2000 -- reorder-window 64 || diag "sa_pair failed"
capture_start $B veth-b "$TMP/in.pcap" 2000 || diag "capture did not start"
udp_recv_start $B 5003 $N 20 "$TMP/r2"
py -n $A "$PCAP" udp-mix $IB 5003 $N 20 1800 11 "$TMP/s2" >/dev/null
wait "$udp_rpid"
capture_stop
cmp -s <(sort "$TMP/s2") <(sort "$TMP/r2")
ok $? "IPv6 outer, captured run: $(wc -l <"$TMP/r2") of $N datagrams delivered"
nout=$(py "$PCAP" esp "$TMP/in.pcap" | wc -l)

# The two replaying processes keep to one clock only as well as a busy
# guest lets them: a window of 1024 packets and a 10 s drop time, so that
# one of them falling behind by seconds costs no packet (what is checked
# is that two CPUs' packets are put back in order, not the senders' pace).
ip netns exec $B xtfs state del src $OA dst $OB proto esp spi $SPI_AB &&
	ip netns exec $B xtfs state add src $OA dst $OB proto esp spi $SPI_AB \
		reqid 1 dir in mode iptfs aead "$AEAD" $KEY_AB $SA_ICV \
		reorder-window 1024 drop-time 10000000 flag af-unspec
ok $? "B's inbound SA made again for the replay"
ip netns exec $B sh -c 'echo 3 >/sys/class/net/veth-b/queues/rx-0/rps_cpus'
udp_recv_start $B 5003 $N 20 "$TMP/r3"
mapfile -t before < <(softnet_processed)
t0=$(py -c 'import time; print(time.time() + 15)')
for c in 0 1; do
	ip netns exec $A taskset -c $c python3 "$PCAP" esp-replay "$TMP/in.pcap" \
		2 $c "$t0" 3000 &
done
wait_fail=0
for p in $(jobs -p); do
	[ "$p" = "$udp_rpid" ] && continue
	wait "$p" || wait_fail=1
done
wait "$udp_rpid"
mapfile -t after < <(softnet_processed)
cmp -s <(sort "$TMP/s2") <(sort "$TMP/r3") && [ $wait_fail = 0 ]
ok $? "replayed from two CPUs: $(wc -l <"$TMP/r3") of $N datagrams delivered, contents identical"
d0=$((after[0] - before[0])) d1=$((after[1] - before[1]))
[ $d0 -ge $((nout / 8)) ] && [ $d1 -ge $((nout / 8)) ]
ok $? "both CPUs took replayed packets off their backlog ($d0 and $d1 of $nout)"
re=$(xtfs_counter $B in reassembled)
[ "$(xtfs_counter $B in inner_in_pkts)" = "$N" ] && [ "${re:-0}" -gt 0 ]
ok $? "B's new inbound SA: $(xtfs_counter $B in inner_in_pkts) inner packets, $re reassembled"
[ "$_nfail" -eq 0 ] || diag_path
ip netns exec $B sh -c 'echo 0 >/sys/class/net/veth-b/queues/rx-0/rps_cpus'

# 8-9: staging (XTFS_CMD_SA_STAGE) and NEWSA from two processes at once,
# each adding implicit-IV SAs of its own SPIs in the same namespace, each
# with a key of its own (one key, one sender: RFC 8750 section 7).
sa_flush
stage_many() {
	local base=$1 i
	for i in $(seq 0 $((STAGED - 1))); do
		ip netns exec $A taskset -c "$2" xtfs state add src $OA dst $OB \
			proto esp spi $((base + i)) reqid 9 dir out mode iptfs \
			aead "$AEAD" "$(printf '0x%032x%08x' $((base + i)) 1)" \
			$SA_ICV iiv || return 1
	done
}
stage_many 0x1000 0 & s0=$!
stage_many 0x2000 1 & s1=$!
wait $s0; r0=$?
wait $s1; r1=$?
[ $r0 = 0 ] && [ $r1 = 0 ]
ok $? "two processes staged and added $STAGED implicit-IV SAs each"
n=$(ip netns exec $A xtfs -j state list | py -i -c '
import json, sys
print(sum(1 for s in json.load(sys.stdin) if s.get("iptfs", {}).get("iiv")))')
[ "$n" = $((2 * STAGED)) ]
ok $? "all $((2 * STAGED)) SAs carry their implicit-IV setting ($n)"

tap_done
