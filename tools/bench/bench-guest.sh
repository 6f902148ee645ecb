#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# bench-guest.sh OUT.csv ROUNDS - the measurements of make bench, run in
# the lean testbed guest (tools/testbed/bench.sh). Each round measures
# every workload on each system in turn, the systems one after the other
# on this one kernel:
#   xtfs       this tree's xfrm_xtfs, IP-TFS SAs (pkt-size 1400,
#              init-delay 1000 us, the other settings their defaults)
#   intree     the kernel's xfrm_iptfs, the same SAs
#   tunnel     the kernel's tunnel-mode ESP
#   xtfs-iiv   xtfs with implicit IV (RFC 8750)
#   xtfs-diet  xtfs with implicit IV and Diet-ESP (spi-lsb 16 sn-lsb 16
#              trailer optional align 8)
# all with AES-GCM-128 between two namespaces over veth (selftests/lib.sh).
# Rows of OUT.csv: round,system,metric,value.
#
# For the check of the harness itself (selftests/xtfs_bench.sh):
# BENCH_SYSTEMS may name fewer systems, BENCH_SECS=N makes every timed run
# N seconds long, BENCH_IDLE_MS sets how long the receiver waits after the
# last datagram (1500), BENCH_UDPBENCH the udpbench binary.
#
# bench-guest.sh --profile "SYSTEM..." [SIZE COUNT] - where the time of a
# burst goes (any testbed kernel; perf from Debian's linux-perf in the
# root): perf record -a of software cpu-clock samples over five bursts of
# COUNT (1000) datagrams of SIZE (1300) octets on each SYSTEM, then the
# hottest symbols.
. /xtfs/selftests/lib.sh

# Nothing is written into the tree (/xtfs), whatever a command does.
cd "$TMP" || exit 1
# An outer packet of 64-octet datagrams carries about 15 of them, and on
# a device without GRO (veth) each goes through this CPU's receive backlog
# (netif_rx()): a burst of 4,000 lost a few hundred to its default limit
# of 1,000 while the outer packets ahead of them were processed. Routers
# raise it (README, "Performance"); so does the bench, for every system,
# and counts what the backlog still drops (backlog_drops).
BACKLOG0=$(sysctl -n net.core.netdev_max_backlog)
at_exit "sysctl -q -w net.core.netdev_max_backlog=$BACKLOG0"
sysctl -q -w net.core.netdev_max_backlog=10000
USAGE="usage: bench-guest.sh OUT.csv ROUNDS | --profile \"SYSTEM...\" [SIZE COUNT]"
OUT=${1:?$USAGE}
ROUNDS=${2:-3}
UB=${BENCH_UDPBENCH:-/var/lib/xtfs/bench/udpbench}
PKT=1400
INIT_DELAY=1000
PORT=5000
SYSTEMS=${BENCH_SYSTEMS:-xtfs intree tunnel xtfs-iiv xtfs-diet}
IDLE=${BENCH_IDLE_MS:-1500}

# secs N - how long a run of N seconds lasts here
secs() {
	echo "${BENCH_SECS:-$1}"
}
# The second SA pair of the four-flow TCP workload.
IA2=198.51.100.3
IB2=198.51.100.4

# module_use xtfs|intree|none - load the IP-TFS module a system needs.
# The two serve the same xfrm mode and cannot be loaded together; a module
# still held by namespaces being deleted is retried.
module_use() {
	local want=$1 other i
	case $want in
	xtfs) other=xfrm_iptfs want=xfrm_xtfs ;;
	intree) other=xfrm_xtfs want=xfrm_iptfs ;;
	*) other="xfrm_xtfs xfrm_iptfs" want="" ;;
	esac
	for i in $(seq 50); do
		modprobe -r $other 2>/dev/null && break
		sleep 0.2
	done
	[ -z "$want" ] || modprobe $want
}

# sa_add NS SRC DST SPI KEY DIR REQID MODE EXTRA... - one SA
sa_add() {
	local ns=$1 src=$2 dst=$3 spi=$4 key=$5 dir=$6 reqid=$7 mode=$8
	shift 8
	ip netns exec "$ns" xtfs state add src "$src" dst "$dst" proto esp \
		spi "$spi" reqid "$reqid" dir "$dir" mode "$mode" \
		aead "$AEAD" "$key" 128 "$@"
}

# pol_add NS ISRC IDST OSRC ODST REQID MODE - the out and in policy of
# namespace NS for the inner pair ISRC <-> IDST
pol_add() {
	ip netns exec "$1" xtfs policy add src "$2/32" dst "$3/32" dir out \
		tmpl src "$4" dst "$5" proto esp reqid "$6" mode "$7" &&
	ip netns exec "$1" xtfs policy add src "$3/32" dst "$2/32" dir in \
		tmpl src "$5" dst "$4" proto esp reqid "$6" mode "$7"
}

# tunnel_pair REQID SPI_AB SPI_BA IA IB - an SA pair and its policies for
# the inner pair IA (in A) <-> IB (in B), as the current system makes it
tunnel_pair() {
	local reqid=$1 sab=$2 sba=$3 ia=$4 ib=$5 mode=iptfs
	local -a o=(pkt-size $PKT init-delay $INIT_DELAY) i=()
	case $SYSTEM in
	tunnel) mode=tunnel o=() ;;
	xtfs-iiv) o+=(iiv) i+=(iiv) ;;
	xtfs-diet)
		o+=(iiv spi-lsb 16 sn-lsb 16 trailer optional align 8)
		i+=(replay-window 64 iiv spi-lsb 16 sn-lsb 16 trailer optional align 8) ;;
	esac
	sa_add $A $OA4 $OB4 $sab $KEY_AB out $reqid $mode "${o[@]}" &&
	sa_add $B $OA4 $OB4 $sab $KEY_AB in $reqid $mode "${i[@]}" &&
	sa_add $B $OB4 $OA4 $sba $KEY_BA out $reqid $mode "${o[@]}" &&
	sa_add $A $OB4 $OA4 $sba $KEY_BA in $reqid $mode "${i[@]}" &&
	pol_add $A $ia $ib $OA4 $OB4 $reqid $mode &&
	pol_add $B $ib $ia $OB4 $OA4 $reqid $mode
}

# system_up - namespaces and the first SA pair for $SYSTEM
system_up() {
	case $SYSTEM in
	intree) module_use intree ;;
	tunnel) module_use none ;;
	*) module_use xtfs ;;
	esac
	setup_ns || return 1
	tunnel_pair 1 0x100 0x200 $IA4 $IB4
}

# emit METRIC VALUE - a row of the CSV
emit() {
	echo "$ROUND,$SYSTEM,$1,$2" >>"$OUT"
	echo "# round $ROUND $SYSTEM $1 $2"
}

# backlog_drops - packets the receive backlogs of all CPUs dropped so far
backlog_drops() {
	local n=0 d
	while read -r _ d _; do
		n=$((n + 0x$d))
	done </proc/net/softnet_stat
	echo $n
}

# veth_tx - "PACKETS OCTETS" sent by A's veth so far
veth_tx() {
	local d=/sys/class/net/veth-a/statistics
	ip netns exec $A sh -c "echo \$(cat $d/tx_packets) \$(cat $d/tx_bytes)"
}

# recv_start IDLE_MS [EXPECT] - a udpbench receiver in B on $PORT,
# listening once this returns; recv_end waits for it and sets RECV to its
# line (not in a subshell: only this shell can wait for it).
recv_start() {
	rm -f "$TMP/recv.out"
	ip netns exec $B $UB recv $IB4 $PORT "$@" >"$TMP/recv.out" &
	recv_pid=$!
	local i
	for i in $(seq 200); do
		grep -qs ready "$TMP/recv.out" && return 0
		kill -0 $recv_pid 2>/dev/null || break
		sleep 0.05
	done
	echo "# udpbench recv did not start" >&2
	return 1
}

recv_end() {
	wait $recv_pid
	RECV=$(grep '^recv' "$TMP/recv.out")
}

# udp_run NAME SIZES COUNT SECS [fill] - one UDP workload from A to B:
# delivered datagrams and the time from the first send to the last
# arrival (bursts, COUNT > 0) or delivered datagrams a second (SECS);
# with "fill", the outer packets and octets per inner packet and octet.
udp_run() {
	local name=$1 sizes=$2 count=$3 secs=$4 fill=${5:-} rb0 rb1 bl0 bl1
	local tx0 tx1 s r sent octs t0 t1 got first last
	rb0=$(udp_rcvbuf_errors $B)
	bl0=$(backlog_drops)
	tx0=$(veth_tx)
	if [ "$count" -gt 0 ]; then
		# A burst's receiver stops at its last datagram: a long idle
		# time then costs nothing and survives a slow (debug) kernel.
		recv_start $((IDLE * 4)) "$count"
	else
		recv_start $IDLE
	fi
	s=$(ip netns exec $A $UB send $IB4 $PORT "$sizes" "$count" "$secs")
	recv_end
	r=$RECV
	tx1=$(veth_tx)
	rb1=$(udp_rcvbuf_errors $B)
	bl1=$(backlog_drops)
	read -r _ sent octs t0 t1 _ <<<"$s"
	read -r _ got _ first last <<<"$r"
	emit "${name}_rcvbuf_errors" $((rb1 - rb0))
	emit "${name}_backlog_drops" $((bl1 - bl0))
	if [ "$count" -gt 0 ]; then
		emit "${name}_delivered" "$got"
		emit "${name}_recv_s" "$(awk -v a="$t0" -v b="$last" -v g="$got" \
			'BEGIN { printf "%.4f", (g ? (b - a) / 1e9 : 0) }')"
	else
		emit "${name}_pps" "$(awk -v a="$t0" -v b="$last" -v g="$got" \
			'BEGIN { printf "%.0f", (b > a ? g / ((b - a) / 1e9) : 0) }')"
	fi
	if [ -n "$fill" ]; then
		# Inner octets: the IPv4 and UDP headers and the payload.
		read -r p0 o0 <<<"$tx0"
		read -r p1 o1 <<<"$tx1"
		emit "${name}_outer_pkts_per_inner" "$(awk -v p=$((p1 - p0)) -v n="$sent" \
			'BEGIN { printf "%.4f", p / n }')"
		emit "${name}_outer_octets_per_inner_octet" "$(awk -v p=$((p1 - p0)) \
			-v o=$((o1 - o0)) -v i=$((octs + 28 * sent)) \
			'BEGIN { printf "%.4f", (o - 14 * p) / i }')"
	fi
}

# iperf_server PORT - an iperf3 server in B for one test, listening once
# this returns (a debug kernel takes seconds to start one)
iperf_server() {
	local i
	ip netns exec $B iperf3 -s -1 -p "$1" -D >/dev/null
	for i in $(seq 100); do
		ip netns exec $B ss -Hltn "sport = :$1" | grep -q . && return 0
		sleep 0.1
	done
	echo "# iperf3 server on port $1 did not start" >&2
	return 1
}

# tcp_secs - how long a TCP run lasts: at least 3 s, as a short run on a
# loaded debug kernel can end before the first data arrives
tcp_secs() {
	local t
	t=$(secs 10)
	[ "$t" -ge 3 ] || t=3
	echo "$t"
}

# tcp_run - one iperf3 flow for 10 s, then four: two on each of two SA
# pairs, each pair's client on its own CPU. Received Mbit/s.
tcp_run() {
	local a b c1
	iperf_server 5201
	a=$(ip netns exec $A iperf3 -c $IB4 -p 5201 --connect-timeout 5000 -t $(tcp_secs) -J 2>/dev/null |
		python3 -c 'import json,sys; print("%.1f" % (json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"] / 1e6))')
	emit tcp1_mbps "${a:-0}"
	# The second pair: its inner addresses and routes, SPIs 0x300/0x400.
	ip -n $A addr add $IA2/32 dev lo
	ip -n $B addr add $IB2/32 dev lo
	ip -n $A route add $IB2/32 dev veth-a src $IA2
	ip -n $B route add $IA2/32 dev veth-b src $IB2
	tunnel_pair 2 0x300 0x400 $IA2 $IB2 || { emit tcp4_mbps 0; return; }
	iperf_server 5201
	iperf_server 5202
	ip netns exec $A taskset -c 0 iperf3 -c $IB4 -p 5201 --connect-timeout 5000 -P 2 -t $(tcp_secs) -J \
		>"$TMP/c1.json" 2>/dev/null &
	c1=$!
	ip netns exec $A taskset -c 1 iperf3 -c $IB2 -B $IA2 -p 5202 --connect-timeout 5000 -P 2 \
		-t $(tcp_secs) -J \
		>"$TMP/c2.json" 2>/dev/null
	wait $c1
	b=$(python3 -c '
import json, sys
t = 0
for f in sys.argv[1:]:
    try:
        t += json.load(open(f))["end"]["sum_received"]["bits_per_second"]
    except (ValueError, KeyError, OSError):
        pass
print("%.1f" % (t / 1e6))' "$TMP/c1.json" "$TMP/c2.json")
	emit tcp4_mbps "$b"
}

# profile SYSTEM SIZE COUNT - see the head of this file
profile() {
	SYSTEM=$1 ROUND=0 OUT=$TMP/profile.csv
	local size=${2:-1300} count=${3:-1000} i r
	system_up || exit 1
	udp_run warm "$size" "$count" 0
	recv_start 3000
	# Only the bursts (and a moment for what they left queued) are
	# sampled: the idle share is then time spent waiting.
	perf record -a -g -e cpu-clock -F 4000 -o "$TMP/perf.data" -- \
		sh -c "for i in 1 2 3 4 5; do
			ip netns exec $A $UB send $IB4 $PORT $size $count 0; sleep 0.2; done" \
		2>"$TMP/perf.err"
	recv_end
	r=$RECV
	echo "# $SYSTEM: 5 bursts of $count x $size B: $r"
	echo "# backlog drops, all CPUs: $(backlog_drops)"
	echo "# $SYSTEM: B's UDP errors (RcvbufErrors, InErrors): $(udp_rcvbuf_errors $B)" \
		"$(ip netns exec $B awk '/^Udp:/ { if (!h) { for (i = 1; i <= NF; i++) c[$i] = i; h = 1 }
			else print $c["InErrors"] }' /proc/net/snmp)"
	echo "# $SYSTEM: B's xfrm errors: $(ip netns exec $B awk '$2 != 0' /proc/net/xfrm_stat | tr -s ' \n' ' ')"
	case $SYSTEM in
	xtfs*)
		for ns in $A $B; do
			echo "# $SYSTEM $ns: $(ip netns exec $ns xtfs -j stats | python3 -c '
import json, sys
for s in json.load(sys.stdin):
    print(s.get("dir"), " ".join("%s=%s" % kv for kv in s.get("stats", {}).items() if kv[1]), end="; ")')"
		done ;;
	esac
	perf report -i "$TMP/perf.data" --no-children --sort sym \
		--percent-limit 0.5 --stdio -g none 2>/dev/null | grep -v '^#' | head -60
	perf report -i "$TMP/perf.data" --no-children --sort comm \
		--stdio -g none 2>/dev/null | grep -v '^#' | head -12
	cat "$OUT"
}

if [ "$OUT" = --profile ]; then
	for s in $2; do
		profile "$s" "${@:3}"
		cleanup_ns
	done
	exit
fi

: >"$OUT"
echo "# cpus $(nproc), kernel $(uname -r)"
for ROUND in $(seq "$ROUNDS"); do
	for SYSTEM in $SYSTEMS; do
		system_up || { echo "# $SYSTEM: setup failed"; continue; }
		udp_run burst64 64 4000 0 fill
		udp_run udp64 64 0 $(secs 10)
		case $SYSTEM in
		xtfs-*) cleanup_ns; continue ;;
		esac
		udp_run udp576 576 0 $(secs 5)
		udp_run udp1300 1300 0 $(secs 5)
		udp_run udp1500 1500 0 $(secs 5)
		udp_run imix "40*7,576*4,1500" 0 $(secs 5)
		udp_run burst1300 1300 1000 0 fill
		tcp_run
		cleanup_ns
	done
done
module_use none
