#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The harness of make bench (tools/bench/), on a short run: make bench
# itself needs the lean kernel and takes about 25 minutes, so make check
# runs its guest side here, one round of 1-second runs on xtfs, tunnel
# mode, xtfs with implicit IV and with Diet-ESP (the in-tree module is not
# on the stock kernel, and leaks on the debug one), and its report.
# Checked: the harness ends well, every figure of every system is there,
# every burst arrives whole on every system (4,000 of 4,000 64-octet and
# 1,000 of 1,000 1,300-octet datagrams, no socket buffer or receive
# backlog drops, with the backlog raised as bench-guest.sh does), the
# sustained runs and TCP deliver, and the report prints the ratios.
. "$(dirname "$0")/lib.sh"

BENCH=$SELFTEST_DIR/../tools/bench
SYSTEMS="xtfs tunnel xtfs-iiv xtfs-diet"

tap_plan

# 1: the udpbench tool builds
gcc -O2 -Wall -Werror -o "$TMP/udpbench" "$BENCH/udpbench.c"
ok $? "udpbench builds"

# 2: one short round
BENCH_SYSTEMS=$SYSTEMS BENCH_SECS=1 BENCH_IDLE_MS=2000 \
	BENCH_UDPBENCH=$TMP/udpbench XTFS_NS_ID=$$-b \
	"$BENCH/bench-guest.sh" "$TMP/raw.csv" 1 >"$TMP/guest.out" 2>&1
r=$?
sed 's/^/# /' "$TMP/guest.out" | grep -v '^# # round' | head -20
ok $r "bench-guest.sh: one round on $SYSTEMS"

# val SYSTEM METRIC - the figure, or nothing
val() {
	awk -F, -v s="$1" -v m="$2" '$2 == s && $3 == m { print $4 }' "$TMP/raw.csv"
}

# 3-6: each system's figures
for s in $SYSTEMS; do
	fail=0
	metrics="burst64_delivered burst64_recv_s burst64_rcvbuf_errors
		burst64_backlog_drops
		burst64_outer_pkts_per_inner burst64_outer_octets_per_inner_octet
		udp64_pps"
	case $s in
	xtfs-*) ;;
	*) metrics="$metrics udp576_pps udp1300_pps udp1500_pps imix_pps
		burst1300_delivered burst1300_recv_s burst1300_backlog_drops
		tcp1_mbps tcp4_mbps" ;;
	esac
	for m in $metrics; do
		v=$(val "$s" "$m")
		case $m in
		*_rcvbuf_errors | burst*_backlog_drops) want='$1 == 0' ;;
		*_backlog_drops) continue ;;
		burst64_delivered) want='$1 == 4000' ;;
		burst1300_delivered) want='$1 == 1000' ;;
		*) want='$1 > 0' ;;
		esac
		if [ -z "$v" ] || ! awk "BEGIN { exit !($(echo "$want" | sed "s/\$1/$v/")) }"; then
			diag "$s $m: '$v', want $want"
			fail=1
		fi
	done
	diag "$s: $(awk -F, -v s="$s" '$2 == s && $3 !~ /rcvbuf|backlog/ { printf "%s=%s ", $3, $4 }' "$TMP/raw.csv")"
	ok $fail "$s: every figure present; bursts delivered whole, no buffer or backlog drops"
done

# 7: the report
python3 "$BENCH/report.py" "$TMP/raw.csv" >"$TMP/report.txt" 2>&1
r=$?
sed 's/^/# /' "$TMP/report.txt"
[ $r = 0 ] && grep -Eq '^burst 4000 x 64 B: delivered +4000 +- +4000 +- +1\.00/1\.00/1\.00' "$TMP/report.txt" &&
	grep -Eq '^implicit IV: 64 B UDP, 10 s: delivered pkt/s +[0-9]+ +[0-9]+ +[0-9.]+/' "$TMP/report.txt"
ok $? "report.py: the table, with xtfs/tunnel and variant ratios"

tap_done
