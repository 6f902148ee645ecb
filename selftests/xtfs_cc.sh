#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Congestion-controlled IP-TFS (RFC 9347 sections 2.4.2, 3 and Appendix
# B) and the circuit breaker (section 2.4.2.1), between namespaces A and B
# over netem. Both outbound SAs run "send cc" paired with their inbound SA
# ("reverse-spi"), with null encryption so that the sub-type 1 headers can
# be read on the link. Checked:
# - every packet of a CC SA carries a sub-type 1 header with fresh TVals
#   and an ECN-capable outer header, at pkt-size;
# - without loss the rate grows to its upper bound, the RTT estimate
#   matches the netem delay;
# - with 1 % and 0.1 % loss the rate settles within 30 % of Appendix B's
#   formula for the measured RTT and netem's loss rate (bounded by the
#   upper rate);
# - 100 % loss on the reverse path halves the rate at each no-feedback
#   expiry, down to the lower bound, and it grows again once feedback
#   returns;
# - netem CE marking without loss lowers the rate: B counts the marks
#   (cc_ce_in) and loses nothing, and B's headers carry the E flag;
# - a circuit breaker does not trip below its loss rate and trips above
#   it within its time: counted, shown, announced on the "events" group,
#   and nothing more is sent;
# - hostile sub-type 1 headers (every field random) to a paired inbound
#   SA: no splat, the paired SA's rate stays within its bounds.
# The rate over time under the loss steps is plotted (PNG, cc_pcap.py).
# Under emulation the debug kernel runs the same with 50 ms of delay each
# way instead of 20 (lower rates: it misses fewer slots).
. "$(dirname "$0")/lib.sh"

PKT=400
DELAY=20
RMAX=400
RMIN=5
PHASE=12
if [ "${XTFS_KERNEL:-}" = debug ]; then
	DELAY=50
	RMAX=200
fi
CP=$SELFTEST_DIR/cc_pcap.py
NULL=(enc "ecb(cipher_null)" "")
# The crypto of the SAs usage_err tries
USAGE_CRYPTO=("${NULL[@]}")
OUTDIR=${XTFS_ARTIFACTS:-/var/lib/xtfs/artifacts}
T0=$(date +%s.%N)

tap_plan
setup_ns || { diag "namespace setup failed"; exit $KSFT_FAIL; }

# 1-3: the helper's usage errors
usage_err 'reverse-spi' dir out pkt-size $PKT send cc rate 100
ok $? "send cc without reverse-spi: usage error"
usage_err 'rate-min' dir out pkt-size $PKT send fixed rate 100 rate-min 5
ok $? "rate-min without send cc: usage error"
usage_err 'reverse-spi' dir out pkt-size $PKT send fixed rate 100 breaker 1000 100
ok $? "breaker without reverse-spi: usage error"

# cc_pair [OUT-WORDS...] - the SA pair and policies, both outbound SAs
# congestion-controlled and paired with their host's inbound SA; A's also
# gets OUT-WORDS.
cc_pair() {
	local cc=(pkt-size $PKT send cc rate $RMAX rate-min $RMIN)

	ip netns exec $A xtfs state add src $OA dst $OB proto esp spi $SPI_AB \
		reqid 1 dir out mode iptfs "${NULL[@]}" "${cc[@]}" \
		reverse-spi $SPI_BA "$@" &&
	ip netns exec $A xtfs state add src $OB dst $OA proto esp spi $SPI_BA \
		reqid 1 dir in mode iptfs "${NULL[@]}" &&
	ip netns exec $B xtfs state add src $OB dst $OA proto esp spi $SPI_BA \
		reqid 1 dir out mode iptfs "${NULL[@]}" "${cc[@]}" \
		reverse-spi $SPI_AB &&
	ip netns exec $B xtfs state add src $OA dst $OB proto esp spi $SPI_AB \
		reqid 1 dir in mode iptfs "${NULL[@]}" &&
	_sa_policies $A a $OA $OB && _sa_policies $B b $OB $OA
}

# gauges NS DST SPI - "rate rtt_us loss_ppm feedback nofb trips" of an SA
gauges() {
	ip netns exec "$1" xtfs -j -s state get dst "$2" proto esp spi "$3" |
		py -i -c '
import json, sys
v = json.load(sys.stdin)
v = v[0] if isinstance(v, list) else v
s = v["stats"]
print(s["cc_rate"], s["cc_rtt_us"], s["cc_loss_ppm"], s["cc_feedback"],
      s["cc_nofb"], s["breaker_trips"])'
}

# sample SECS TAG - A's gauges every 0.25 s for SECS seconds, appended to
# $TMP/series as "T RATE RTT PPM FEEDBACK NOFB TAG" (T from the start)
sample() {
	local end g now
	end=$(awk -v s="$(date +%s.%N)" -v d="$1" 'BEGIN { printf "%.3f", s + d }')
	while :; do
		now=$(date +%s.%N)
		awk -v n="$now" -v e="$end" 'BEGIN { exit !(n < e) }' || break
		g=$(gauges $A $OB $SPI_AB) || break
		echo "$(awk -v n="$now" -v t="$T0" 'BEGIN { printf "%.2f", n - t }') $g $2" >>"$TMP/series"
		sleep 0.25
	done
}

# phase_stats TAG FROM - "median-rate median-rtt median-ppm" of the
# samples of TAG from FROM seconds into the phase on
phase_stats() {
	py -c '
import statistics, sys
rows = [ln.split() for ln in open(sys.argv[1]) if ln.split()[-1] == sys.argv[2]]
t0 = float(rows[0][0])
rows = [r for r in rows if float(r[0]) - t0 >= float(sys.argv[3])] or rows
print(*(statistics.median(float(r[i]) for r in rows) for i in (1, 2, 3)))' \
		"$TMP/series" "$1" "$2"
}

# tfrc RTT_US P - Appendix B's rate, packets per second
tfrc() {
	awk -v r="$1" -v p="$2" 'BEGIN {
		R = r / 1e6
		printf "%.1f", 1 / (R * (sqrt(2 * p / 3) + 12 * sqrt(3 * p / 8) * p * (1 + 32 * p * p))) }'
}

# within X Y PCT - |X - Y| <= PCT % of Y
within() {
	awk -v x="$1" -v y="$2" -v p="$3" 'BEGIN { d = x - y; if (d < 0) d = -d; exit !(d <= y * p / 100) }'
}

# link_set NS ARGS... - netem ARGS on NS's side only (A: A to B, B: B to
# A). "tc qdisc replace" changes a netem qdisc in place: deleting it would
# drop what it holds, a burst of losses at every step.
link_set() {
	ip netns exec "$1" tc qdisc replace dev "$(ns_veth "$1")" root netem \
		limit 100000 "${@:2}"
}

# both ARGS... - link_set on both sides
both() {
	link_set $A "$@" && link_set $B "$@"
}

both delay ${DELAY}ms

# 4: malformed stage requests: each refused with its errno and a message
out=$(py "$SELFTEST_DIR/xtfs_genl.py" check stage-cc-no-rate \
	stage-cc-no-reverse-spi stage-rate-min-no-cc stage-rate-min-above-rate \
	stage-reverse-spi-demand stage-reverse-spi-no-send \
	stage-reverse-spi-zero stage-breaker-loss-only stage-breaker-time-only \
	stage-breaker-no-reverse-spi stage-broken 2>&1)
r=$?
diag "$out"
ok $r "congestion-control stage requests that do not fit: each refused with EINVAL and an extended ACK message"

# 5: the pair
cc_pair
r=$?
out=$(ip netns exec $A xtfs state get dst $OB proto esp spi $SPI_AB | grep -E '^\s+iptfs ')
diag "A's outbound SA: $out"
[ $r = 0 ] && [[ $out == *"send cc rate $RMAX rate-min $RMIN"* ]] &&
	[ "$(sa_json $A $OB $SPI_AB iptfs send)" = cc ] &&
	[ "$(sa_json $A $OB $SPI_AB iptfs rate_min)" = $RMIN ] &&
	[ "$(sa_json $A $OB $SPI_AB iptfs reverse_spi)" = $((SPI_BA)) ]
ok $? "CC SA pair (rate $RMIN-$RMAX, pkt-size $PKT, delay ${DELAY} ms each way): state get shows it, text and JSON"

# 6: a ping starts both directions' pacing
ip netns exec $A ping -c 1 -W 5 $IB >/dev/null
ok $? "a ping crosses the tunnel both ways"

# 7-9: no loss: the rate grows to the bound
sample $PHASE grow
read -r rate rtt ppm < <(phase_stats grow $((PHASE / 2)))
read -r _ _ _ fb _ _ < <(gauges $A $OB $SPI_AB)
diag "grow: median rate $rate/s (bound $RMAX), RTT $rtt us, loss $ppm ppm, $fb reports taken"
[ "${rate%.*}" = $RMAX ] && [ "${ppm%.*}" = 0 ] && [ "$fb" -gt 0 ]
ok $? "no loss: the rate grows to its bound ($rate/s of $RMAX), no loss reported, reports taken ($fb)"
# The RTT: twice the delay, plus the transmit delays and the guest's time
awk -v r="$rtt" -v d=$DELAY 'BEGIN { exit !(r >= 2 * d * 1000 && r <= 2 * d * 1000 + 60000) }'
ok $? "RTT estimate $rtt us: twice the $DELAY ms delay, at most 60 ms more"
capture_start $B veth-b "$TMP/grow.pcap" 128 "esp" || diag "capture did not start"
sleep 2
stream_stop
read -r _ n _ cc _ e _ ect _ tv < <(py "$CP" hdrs "$TMP/grow.pcap" $SPI_AB)
diag "grow capture: $n packets, $cc sub-type 1, $e with E, $ect ECN-capable, $tv distinct TVals"
[ "$n" -gt $RMAX ] && [ "$cc" = "$n" ] && [ "$ect" = "$n" ] && [ "$e" = 0 ] &&
	[ "$tv" -ge $((n * 9 / 10)) ]
ok $? "on the link: every packet of A's SA has a sub-type 1 header ($cc/$n), an ECN-capable outer header, fresh TVals ($tv), no E flag"

# loss_phase PCT TAG - netem loss PCT % both ways: the median rate of the
# second half of the phase against Appendix B for the measured RTT
loss_phase() {
	local p want
	both delay ${DELAY}ms loss "$1"%
	sample $PHASE "$2"
	read -r rate rtt ppm < <(phase_stats "$2" $((PHASE / 2)))
	p=$(awk -v l="$1" 'BEGIN { print l / 100 }')
	want=$(tfrc "$rtt" "$p")
	want=$(awk -v w="$want" -v m=$RMAX 'BEGIN { print (w < m ? w : m) }')
	diag "loss $1 %: median rate $rate/s, RTT $rtt us, reported $ppm ppm; Appendix B for p $p and that RTT: $(tfrc "$rtt" "$p")/s (bounded: $want/s); for the reported rate: $(tfrc "$rtt" "$(awk -v q="$ppm" 'BEGIN { print (q > 0 ? q : 1) / 1e6 }')")/s"
	within "$rate" "$want" 30
	ok $? "loss $1 %: rate $rate/s within 30 % of Appendix B's $want/s (RTT $rtt us)"
}

# 10-11: loss steps
loss_phase 1 loss1
loss_phase 0.1 loss01

# 12-13: the reverse path blacked out: no feedback reaches A
both delay ${DELAY}ms
sample 2 back
read -r r0 _ _ _ n0 _ < <(gauges $A $OB $SPI_AB)
link_set $B delay ${DELAY}ms loss 100%
sample 4 blackout
read -r r1 _ _ _ n1 _ < <(gauges $A $OB $SPI_AB)
k=$((n1 - n0))
# Every sample: the rate is the one before the blackout halved once per
# expiry counted since, down to RMIN (the gauge rounds to whole packets).
bad=$(awk -v r0="$r0" -v n0="$n0" -v m=$RMIN '$NF == "blackout" {
	x = r0; for (i = n0; i < $6; i++) x /= 2; if (x < m) x = m
	d = $2 - x; if (d < 0) d = -d
	if (d > 1 + x / 50) { printf "%s:%s/%.1f ", $1, $2, x }
	seen = seen " " $2 }
	END { print "|" seen }' "$TMP/series")
diag "blackout: rate $r0/s -> $r1/s after $k no-feedback expiries; samples:${bad#*|}"
[ $k -ge 3 ] && [ "$r1" = $RMIN ] && [ -z "${bad%%|*}" ]
ok $? "100 % loss on the reverse path: $k no-feedback expiries, each halving the rate, down to $RMIN/s (${bad%%|*})"
both delay ${DELAY}ms
sample 8 recover
read -r r2 _ _ _ _ _ < <(gauges $A $OB $SPI_AB)
diag "recovered: rate $r2/s"
[ "$r2" -ge $((RMAX / 2)) ]
ok $? "feedback back: the rate grows again ($r1/s -> $r2/s)"

# 14-16: CE marks instead of loss on A to B
rate0=$(gauges $A $OB $SPI_AB | cut -d' ' -f1)
link_set $A delay ${DELAY}ms loss 1% ecn
link_set $B delay ${DELAY}ms
before_lost=$(xtfs_counter $B in lost)
sample $PHASE ecn
read -r rate rtt ppm < <(phase_stats ecn $((PHASE / 2)))
ce=$(xtfs_counter $B in cc_ce_in)
lost=$(($(xtfs_counter $B in lost) - before_lost))
diag "ecn: median rate $rate/s (before: $rate0/s), reported $ppm ppm, B counted $ce CE marks and lost $lost"
[ "$ce" -gt 0 ] && [ "$lost" = 0 ] && [ "${ppm%.*}" -gt 0 ] &&
	awk -v r="$rate" -v r0="$rate0" 'BEGIN { exit !(r < r0 * 0.9) }'
ok $? "ECN: B counts $ce CE marks and loses nothing; A's rate falls from $rate0/s to $rate/s on the reported $ppm ppm"
capture_start $A veth-a "$TMP/ecn.pcap" 128 "esp" || diag "capture did not start"
sleep 2
stream_stop
read -r _ n _ cc _ e _ < <(py "$CP" hdrs "$TMP/ecn.pcap" $SPI_BA)
diag "ecn capture, B to A: $n packets, $cc sub-type 1, $e with E"
[ "$e" -gt 0 ]
ok $? "ECN: B's headers carry the E flag on the wire ($e of $n)"

# The plot of the rate over the loss steps
mkdir -p "$OUTDIR"
# Time from the first sample; a mark where each phase starts
awk 'NR == 1 { t0 = $1 } $NF != "ecn" { print $1 - t0, $2 }' "$TMP/series" >"$TMP/rate.dat"
marks=$(awk 'NR == 1 { t0 = $1 } $NF != "ecn" && $NF != last { print $1 - t0; last = $NF }' "$TMP/series" | tr '\n' ' ')
png=$OUTDIR/cc_rate_${XTFS_KERNEL:-stock}.png
py "$CP" plot "$png" 800 300 "$TMP/rate.dat" -- $marks
diag "plot: $png (rate of A's SA over time; phase starts at $marks s: grow, 1 %, 0.1 %, back, blackout, recover)"
while read -r t r rt pp _; do echo "$t $r $rt $pp"; done <"$TMP/series" >"$OUTDIR/cc_rate_${XTFS_KERNEL:-stock}.dat"

# 17-20: the circuit breaker: 2 % for 1.5 s
sa_flush
both delay ${DELAY}ms
ip netns exec $A xtfs monitor >"$TMP/events" 2>&1 &
mon=$!
at_exit "kill $mon 2>/dev/null"
cc_pair breaker 20000 1500
ip netns exec $A ping -c 1 -W 5 $IB >/dev/null
sleep 4
both delay ${DELAY}ms loss 0.2%
sleep 6
read -r _ _ ppm _ _ trips < <(gauges $A $OB $SPI_AB)
diag "breaker, 0.2 % loss: reported $ppm ppm, $trips trips"
[ "$trips" = 0 ] && [ -z "$(ip netns exec $A xtfs state get dst $OB proto esp spi $SPI_AB | grep -w broken)" ]
ok $? "breaker (20000 ppm for 1.5 s): no trip at 0.2 % loss"
both delay ${DELAY}ms loss 10%
for _ in $(seq 20); do
	read -r _ _ ppm _ _ trips < <(gauges $A $OB $SPI_AB)
	[ "$trips" != 0 ] && break
	sleep 0.5
done
diag "breaker, 10 % loss: reported $ppm ppm, $trips trips"
[ "$trips" = 1 ] && [ "$(sa_json $A $OB $SPI_AB iptfs broken)" = True ]
ok $? "breaker: trips at 10 % loss, counted and shown"
sleep 1
grep -q broken "$TMP/events"
ok $? "breaker: the trip is announced on the events group ($(head -c 200 "$TMP/events"))"
both delay ${DELAY}ms
capture_start $B veth-b "$TMP/broken.pcap" 128 "esp" || diag "capture did not start"
ip netns exec $A ping -c 2 -W 1 $IB >/dev/null
sleep 1
stream_stop
read -r _ n _ < <(py "$CP" hdrs "$TMP/broken.pcap" $SPI_AB)
[ "$n" = 0 ]
ok $? "breaker: nothing more is sent ($n packets of A's SA, inner traffic dropped)"

# 21: hostile sub-type 1 headers to B's inbound SA, paired with B's CC
# SA. Only B sends (a datagram starts its pacing): the injected sequence
# numbers are the only ones B's inbound SA sees.
sa_flush
both delay 1ms
cc_pair
udp_check $B $IA $A 5100 1 100 || diag "B to A: the first datagram did not arrive"
MAC_B=$(ip -n $B -br link show veth-b | awk '{ print $3 }')
res=$(py -n $A "$SELFTEST_DIR/fuzz.py" cc "${XTFS_FUZZ_SEED:-7}" 3000 veth-a \
	"$MAC_B" $OA $OB $SPI_AB)
sleep 1
read -r rate rtt ppm fb _ _ < <(gauges $B $OA $SPI_BA)
diag "hostile headers: $res; B's CC SA now: rate $rate/s, RTT $rtt us, $ppm ppm, $fb reports"
[ -n "$res" ] && [ "$fb" -gt 0 ] && [ "$rate" -ge $RMIN ] &&
	[ "$rate" -le $RMAX ] && [ "$rtt" -le $((0x3fffff)) ] &&
	udp_check $B $IA $A 5101 20 100
ok $? "hostile sub-type 1 headers: B's CC SA took them ($fb reports), stays within its bounds, and delivers"

tap_done
