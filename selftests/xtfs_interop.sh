#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Interoperability with the kernel's in-tree xfrm_iptfs (RFC 9347 wire
# format). Runs in the xtfs guest of `tools/testbed/vm-run.sh --peer`; the
# peer guest runs the in-tree module and executes what this script sends
# it (selftests/interop_peer.sh). Both directions are tested: xtfs sends and
# the in-tree module receives ("x2p"), and the reverse ("p2x"), with
# aggregation, fragmentation, reordering and loss on the link.
#
# Known about the in-tree receiver (7.3.4, on the debug kernel):
# - it re-injects only a small part of a burst of small packets sent as
#   fast as a local sender can, so streams towards it are paced. Streams
#   towards xtfs are not.
# - receiving inner packets fragmented across outer packets that came in
#   virtio-net's mergeable receive buffers (several packets to a page),
#   it frees memory still in use: KASAN use-after-free in
#   ip_local_deliver(), then a fatal oops. The peer's NIC runs without
#   mergeable buffers (PEER_NIC_OPTS in tools/testbed/vm-lib.sh).
# - with a reorder window, loss on the link makes its reorder code write
#   to freed memory: KASAN slab-use-after-free in __reorder_this(), then
#   a fatal oops. Its SA for the loss test has reorder window 0.
. "$(dirname "$0")/lib.sh"
export XTFS_ROLE=xtfs
. "$SELFTEST_DIR/interop_lib.sh"

PKT=1400
GAP_TO_PEER=2000	# us between datagrams sent to the in-tree receiver

# peer CMD - run CMD in the peer guest, in its selftests directory.
peer() {
	py "$SELFTEST_DIR/interop_ctl.py" call $IOP_OPEER $IOP_CTL_PORT 30 \
		"cd /xtfs/selftests && export XTFS_ROLE=peer && . ./interop_lib.sh && $1"
}

# both_sa OUT-OPTIONS IN-OPTIONS - the same SA options on both ends.
both_sa() {
	iop_sa_setup "$1" "$2" && peer "iop_sa_setup '$1' '$2'"
}

# udp_xfer DIR N SIZE GAP_US TAG - send N datagrams of SIZE octets, x2p
# (xtfs to peer) or p2x; leaves the SHA-256 lists in $TMP/TAG.sent and
# $TMP/TAG.recv.
udp_xfer() {
	local dir=$1 n=$2 size=$3 gap=$4 tag=$5 port=$((5000 + RANDOM % 1000))
	local py="python3 $SELFTEST_DIR/pcap_esp.py"
	local rf=/tmp/iop-$tag.recv
	# The receiver says when it listens: python starts slowly under
	# emulation, and datagrams sent before would be lost.
	if [ "$dir" = x2p ]; then
		peer "rm -f $rf $rf.ready; setsid $py udp-recv $port $n 30 $rf 0.0.0.0 $rf.ready \
			</dev/null >/dev/null 2>&1 &
			for i in \$(seq 300); do test -f $rf.ready && break; sleep 0.2; done" >/dev/null
		py "$SELFTEST_DIR/pcap_esp.py" udp-send $IOP_IPEER $port "$n" "$size" 7 "$TMP/$tag.sent" "$gap"
		for _ in $(seq 120); do
			peer "test -f $rf" >/dev/null && break
			sleep 1
		done
		peer "cat $rf" >"$TMP/$tag.recv"
	else
		udp_recv_start - $port "$n" 30 "$TMP/$tag.recv" || return 1
		peer "$py udp-send $IOP_IXTFS $port $n $size 9 $rf.sent $gap && cat $rf.sent" \
			>"$TMP/$tag.sent"
		wait $udp_rpid
	fi
	[ "$(wc -l <"$TMP/$tag.recv")" = "$n" ] || state_dump "$tag"
}

# state_dump TAG - diagnostics of both ends after a transfer lost data.
state_dump() {
	diag "$1: xfrm state and errors here (xtfs):"
	{ xtfs -s state list; grep -v ' 0$' /proc/net/xfrm_stat;
	  grep -E '^Udp:' /proc/net/snmp; } | sed 's/^/#   /'
	diag "$1: xfrm state and errors at the peer (in-tree):"
	peer "ip -s xfrm state; grep -v ' 0\$' /proc/net/xfrm_stat;
	      grep -E '^Udp:' /proc/net/snmp" | sed 's/^/#   /'
}

# all_delivered TAG - every datagram arrived, contents identical.
all_delivered() {
	sort "$TMP/$1.sent" >"$TMP/$1.a"
	sort "$TMP/$1.recv" >"$TMP/$1.b"
	cmp -s "$TMP/$1.a" "$TMP/$1.b"
}

# intact TAG - every datagram that arrived is one that was sent.
intact() {
	[ -z "$(sort -u "$TMP/$1.recv" | comm -23 - <(sort -u "$TMP/$1.sent"))" ]
}

count() { wc -l <"$TMP/$1.$2"; }

# xfer_all DIR N SIZE GAP_US TAG [NOTE] - one test: N datagrams of SIZE
# octets sent DIR (see udp_xfer) all arrive, identical.
xfer_all() {
	local who="xtfs -> in-tree"
	[ "$1" = p2x ] && who="in-tree -> xtfs"
	udp_xfer "$1" "$2" "$3" "$4" "$5"
	all_delivered "$5"
	ok $? "${6:+$6, }$who: $(count "$5" recv) of $2 $3-octet datagrams delivered, identical"
}

# peer_csum_errors - the peer's UDP InCsumErrors (/proc/net/snmp)
peer_csum_errors() {
	local v
	v=$(peer "awk '/^Udp:/ { if (!n) { for (i = 1; i <= NF; i++) if (\$i == \"InCsumErrors\") n = i; next } print \$n; exit }' /proc/net/snmp")
	case $v in ''|*[!0-9]*) echo -1 ;; *) echo "$v" ;; esac
}

# xfer_peer_csum N SIZE GAP_US TAG NOTE - as xfer_all x2p, but datagrams
# the in-tree receiver counts as UDP checksum errors may be missing: with
# reordering its reassembly has delivered corrupted datagrams (InCsumErrors
# 2 and 3 in two runs of 600, every missing datagram one of them), while
# xtfs's packets to an xtfs receiver through the same reordering deliver
# every datagram intact (xtfs_netem). Every datagram must be delivered
# once and intact or be one of those; the count is printed.
xfer_peer_csum() {
	local c0 c1 miss bad dup
	c0=$(peer_csum_errors)
	udp_xfer x2p "$1" "$2" "$3" "$4"
	c1=$(peer_csum_errors)
	miss=$(($1 - $(count "$4" recv)))
	bad=$((c1 - c0))
	dup=$(sort "$TMP/$4.recv" | uniq -d | wc -l)
	[ "$bad" != 0 ] &&
		diag "$5: the in-tree receiver counted $bad UDP checksum errors (InCsumErrors $c0 -> $c1): corrupted by its reassembly"
	[ "$c0" -ge 0 ] && [ "$c1" -ge 0 ] && [ "$dup" = 0 ] && intact "$4" &&
		[ "$miss" = "$bad" ]
	ok $? "$5, xtfs -> in-tree: $(count "$4" recv) of $1 $2-octet datagrams delivered once, identical; $miss missing, the in-tree receiver's UDP checksum errors $bad"
}

# pings FROM SIZES - pings of each size, replies checked; FROM is "xtfs"
# or "peer" (who sends the echo requests).
pings() {
	local from=$1 s out fail=0
	shift
	for s in "$@"; do
		if [ "$from" = xtfs ]; then
			out=$(ping -q -c 2 -i 0.3 -W 5 -s "$s" -p a5c3 -I $IOP_IXTFS $IOP_IPEER 2>&1)
		else
			out=$(peer "ping -q -c 2 -i 0.3 -W 5 -s $s -p 3c5a -I $IOP_IPEER $IOP_IXTFS" 2>&1)
		fi
		if ! echo "$out" | grep -q " 0% packet loss" ||
		   echo "$out" | grep -q "wrong data"; then
			diag "ping from $from -s $s: $(echo "$out" | tail -n 2 | tr '\n' ' ')"
			fail=1
		fi
	done
	return $fail
}

# fill TAG SRC INNER_BYTES - outer packets from SRC in the capture TAG:
# prints "packets ratio", the share of pkt-size minus per-packet overhead
# (outer IPv4 20, ESP 8, IV 8, AGGFRAG 4, trailer 2, ICV 16) that carried
# inner data.
fill() {
	tcpdump -r "$TMP/$1.pcap" -w "$TMP/$1.src.pcap" "src host $2" 2>/dev/null
	py "$SELFTEST_DIR/pcap_esp.py" sizes "$TMP/$1.src.pcap" >"$TMP/$1.sizes"
	awk -v b="$3" -v cap=$((PKT - 58)) '{ n++ }
		END { printf "%d %.4f\n", n, n ? b / (n * cap) : 0 }' "$TMP/$1.sizes"
}

if [ "${XTFS_PEER:-}" != 1 ]; then
	tap_plan
	skip "interop with the in-tree xfrm_iptfs" "no peer guest (run with vm-run.sh --peer)"
	exit $KSFT_SKIP
fi

tap_plan
SIZES="0 1 56 500 1300 1372 1400 1500 2000 3000"

# 1: the peer is reachable and runs the in-tree module. Both guests boot
# at once; the peer (debug kernel) can take many minutes under emulation.
iop_link_setup || diag "link setup failed"
py "$SELFTEST_DIR/interop_ctl.py" call $IOP_OPEER $IOP_CTL_PORT 1500 true ||
	diag "peer guest not reachable"
out=$(peer "grep -E '^xfrm_(iptfs|xtfs) ' /proc/modules")
r=$?
diag "peer modules: $out"
[ $r -eq 0 ] && echo "$out" | grep -q '^xfrm_iptfs ' && ! echo "$out" | grep -q '^xfrm_xtfs '
ok $? "peer guest up, in-tree xfrm_iptfs loaded there (not xtfs)"

# 2: SAs on both ends; this end is served by xtfs
both_sa "pkt-size $PKT" "reorder-window 32"
r=$?
grep -q '^xfrm_xtfs ' /proc/modules && ! grep -q '^xfrm_iptfs ' /proc/modules
ok $((r | $?)) "IP-TFS SA pairs made on both ends; xfrm_xtfs serves this end"

# 3-4: pings both ways, sizes needing aggregation and fragmentation
pings xtfs $SIZES
ok $? "ping xtfs -> in-tree, sizes $SIZES, replies intact"
pings peer $SIZES
ok $? "ping in-tree -> xtfs, sizes $SIZES, replies intact"

# 5-6: small-datagram streams, aggregated
xfer_all p2x 2000 64 0 small-p2x "unpaced"
xfer_all x2p 500 64 $GAP_TO_PEER small-x2p

# 7-8: datagrams larger than an outer packet: fragments
xfer_all p2x 200 3000 0 big-p2x
xfer_all x2p 200 3000 $GAP_TO_PEER big-x2p

# 9-10: reordering on the link, within the receivers' windows (32)
peer "iop_netem delay 10ms reorder 50% 50%" >/dev/null
xfer_all p2x 600 700 500 reo-p2x "reordered link"
peer "iop_netem off" >/dev/null
iop_netem delay 10ms reorder 50% 50%
xfer_peer_csum 600 700 $GAP_TO_PEER reo-x2p "reordered link"
iop_netem off

# 11-12: loss on the link: what arrives is intact, then a clean stream
# is delivered whole (no reassembly state left behind)
peer "iop_netem loss 5%" >/dev/null
udp_xfer p2x 300 2000 0 loss-p2x
peer "iop_netem off" >/dev/null
udp_xfer p2x 100 2000 0 after-p2x
n=$(count loss-p2x recv)
intact loss-p2x && all_delivered after-p2x && [ "$n" -gt 0 ] && [ "$n" -lt 300 ]
ok $? "5% loss, in-tree -> xtfs: $n of 300 2000-octet datagrams arrived, all intact; then $(count after-p2x recv) of 100 clean"
# The in-tree receiver with a reorder window crashes under loss (see the
# top): window 0 there, on fresh SAs.
both_sa "pkt-size $PKT" "reorder-window 0" || diag "SA setup for the loss test failed"
iop_netem loss 5%
udp_xfer x2p 300 2000 $GAP_TO_PEER loss-x2p
iop_netem off
udp_xfer x2p 100 2000 $GAP_TO_PEER after-x2p
n=$(count loss-x2p recv)
intact loss-x2p && all_delivered after-x2p && [ "$n" -gt 0 ] && [ "$n" -lt 300 ]
ok $? "5% loss, xtfs -> in-tree: $n of 300 2000-octet datagrams arrived, all intact; then $(count after-x2p recv) of 100 clean"

# 13-14: fill under the same sustained load from each sender (unpaced,
# captured here; the in-tree receiver's losses do not change what the
# xtfs sender puts on the wire)
# The capture helpers work on a named namespace: name this one.
ip netns attach iop-root $$ 2>/dev/null
nic=$(iop_nic)
FILL_N=2000 FILL_SIZE=200 FILL_DELAY=20000
# A sender under emulation is slower than the link: an init delay lets
# both queues hold more than one outer packet's worth, as under load.
# Receive windows 0: an unpaced stream can overrun the in-tree
# receiver's NIC, and its reorder code crashes on such gaps (see the top).
both_sa "pkt-size $PKT init-delay $FILL_DELAY" "reorder-window 0" ||
	diag "SA setup for the fill test failed"
inner=$((FILL_N * (FILL_SIZE + 28)))
capture_start iop-root "$nic" "$TMP/fx.pcap" || diag "capture did not start"
udp_xfer x2p $FILL_N $FILL_SIZE 0 fill-x2p
capture_stop
read -r nx fx < <(fill fx $IOP_OXTFS $inner)
capture_start iop-root "$nic" "$TMP/fp.pcap" || diag "capture did not start"
udp_xfer p2x $FILL_N $FILL_SIZE 0 fill-p2x
capture_stop
read -r np fp < <(fill fp $IOP_OPEER $inner)
diag "fill, $FILL_N x $FILL_SIZE-octet datagrams unpaced, pkt-size $PKT, init-delay $FILL_DELAY us:"
diag "  xtfs sender:    $nx outer packets, fill $fx; sizes: $(sort -n "$TMP/fx.sizes" | uniq -c | sort -rn | head -n 3 | awk '{ printf "%sx%s ", $1, $2 }')"
diag "  in-tree sender: $np outer packets, fill $fp; sizes: $(sort -n "$TMP/fp.sizes" | uniq -c | sort -rn | head -n 3 | awk '{ printf "%sx%s ", $1, $2 }')"
all_delivered fill-p2x
ok $? "in-tree -> xtfs sustained load: $(count fill-p2x recv) of $FILL_N delivered, identical ($np outer packets)"
bad=$(grep -cvx $PKT "$TMP/fx.sizes")
[ "$nx" -gt 0 ] && [ "$bad" -eq 0 ] && [ "$nx" -lt $FILL_N ]
ok $? "xtfs sender under load: $nx outer packets, every one $PKT octets ($bad differ), fill $fx"

ip netns del iop-root 2>/dev/null
peer "xtfs state flush; xtfs policy flush" >/dev/null
xtfs state flush
xtfs policy flush
tap_done
