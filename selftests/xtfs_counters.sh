#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Per-SA counters over the "xtfs" generic netlink family: exact inner
# packet and byte counts for known traffic on both ends, outer packets
# equal on the two ends of each SA and equal to the kernel's own SA
# lifetime count, fragmentation and reassembly counted, no drops; the
# helper's -s/-j/stats output; extended-ACK errors for bad requests; a
# clear error when the module is not loaded; and (where the kernel's YNL
# tools are present) the family decoded from its YAML spec alone.
. "$(dirname "$0")/lib.sh"

N=40		# UDP datagrams A -> B
SIZE=200	# UDP payload octets
PINGS=2		# echo requests A -> B ...
PSIZE=3000	# ... of this ICMP payload: split across outer packets
PKT=1400	# outer packet size

tap_plan
modprobe -q esp4; modprobe -q xfrm_user

# 1: module not loaded, and not loadable: the family's module alias would
# load it (MODULE_ALIAS_GENL_FAMILY), so the kernel's module loader is
# pointed at /bin/false meanwhile
modprobe -r xtfs_test 2>/dev/null
modprobe -r xfrm_xtfs 2>/dev/null
if [ -d /sys/module/xfrm_xtfs ]; then
	skip "xtfs stats without the module: clear error" "xfrm_xtfs cannot be unloaded"
else
	loader=$(cat /proc/sys/kernel/modprobe)
	echo /bin/false >/proc/sys/kernel/modprobe
	out=$(xtfs stats 2>&1)
	rc=$?
	echo "$loader" >/proc/sys/kernel/modprobe
	diag "without the module: exit $rc: $out"
	[ $rc -eq 1 ] && echo "$out" | grep -q "xtfs family not found: is xfrm_xtfs loaded?" &&
		[ ! -d /sys/module/xfrm_xtfs ] &&
		xtfs stats >/dev/null && [ -d /sys/module/xfrm_xtfs ]
	ok $? "xtfs stats without the module: exit 1 and a clear error; once it can be loaded, the family lookup loads it"
fi
modprobe xfrm_xtfs

setup_ns || { diag "namespace setup failed"; exit $KSFT_FAIL; }
sa_pair pkt-size $PKT init-delay 10000
ok $? "IP-TFS SA pair with pkt-size $PKT"

# json_sas NS - "xtfs -j -s state list" of a namespace, on stdout.
json_sas() {
	ip netns exec "$1" xtfs -j -s state list
}

# 3: before any traffic every counter of every SA is there and 0
py - "$(json_sas $A)" "$(json_sas $B)" <<'PY'
import json, sys
keys = ["inner_out_pkts", "inner_out_bytes", "outer_out_pkts", "frags_out",
        "pad_out_bytes", "drop_queue_full", "drop_too_big", "drop_out_err",
        "outer_in_pkts", "inner_in_pkts", "inner_in_bytes", "reassembled",
        "drop_bad_hdr", "drop_bad_block", "drop_old", "lost", "drop_partial",
        "drop_nomem", "ecn_marked", "held_limit", "held_peak",
        "drop_no_dev", "iiv_seq_skipped", "iipc_unmatched", "iipc_bad",
        "pad_pkts_out", "slots_missed", "cc_rate", "cc_rtt_us",
        "cc_loss_ppm", "cc_feedback", "cc_nofb", "cc_loss_events",
        "cc_ce_in", "breaker_trips"]
bad = 0
for arg in sys.argv[1:]:
    sas = json.loads(arg)
    assert len(sas) == 2, sas
    for sa in sas:
        st = {k: v for k, v in sa["stats"].items()
              if k not in ("replay_window", "replay", "integrity_failed")}
        if sorted(st) != sorted(keys) or any(st.values()):
            print("# spi 0x%x: %s" % (sa["spi"], st))
            bad = 1
sys.exit(bad)
PY
ok $? "xtfs -j -s state list: all 35 counters on each of 4 SAs, all 0"

# Traffic: N datagrams A -> B, then PINGS large echo requests A -> B.
udp_recv_start $B 5001 $N 10 "$TMP/recv.sums"
rpid=$udp_rpid
py -n $A "$SELFTEST_DIR/pcap_esp.py" udp-send $IB 5001 $N $SIZE 3 \
	"$TMP/sent.sums"
wait $rpid
sort "$TMP/sent.sums" >"$TMP/a"
sort "$TMP/recv.sums" >"$TMP/b"
cmp -s "$TMP/a" "$TMP/b"
ok $? "$N UDP datagrams of $SIZE octets delivered, contents identical"
pout=$(ip netns exec $A ping -q -c $PINGS -i 0.3 -W 5 -s $PSIZE -I $IA $IB 2>&1)
echo "$pout" | grep -q " 0% packet loss"
ok $? "$PINGS pings of $PSIZE octets answered"
# Let the last outer packets settle (init delay 10 ms) before reading.
sleep 1

json_sas $A >"$TMP/a.json"
json_sas $B >"$TMP/b.json"
for f in a b; do diag "$f: $(tr -d '\n' <"$TMP/$f.json")"; done

# check NAME PYTHON-EXPR - evaluate an assertion over the counters.
# In the expression, ao/ai/bo/bi are the stats of A's out SA, A's in SA,
# B's out SA, B's in SA; lft_ao... the kernel's curlft of those SAs.
check() {
	py - "$TMP/a.json" "$TMP/b.json" "$2" $N $SIZE $PINGS $PSIZE <<'PY'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
expr = sys.argv[3]
N, SIZE, PINGS, PSIZE = map(int, sys.argv[4:8])
def pick(sas, d):
    (sa,) = [s for s in sas if s["dir"] == d]
    return sa
ao, ai, bo, bi = (pick(a, "out")["stats"], pick(a, "in")["stats"],
                  pick(b, "out")["stats"], pick(b, "in")["stats"])
lft_ao, lft_ai, lft_bo, lft_bi = (pick(a, "out")["curlft"], pick(a, "in")["curlft"],
                                  pick(b, "out")["curlft"], pick(b, "in")["curlft"])
UDP = 20 + 8 + SIZE       # inner IPv4 + UDP header + payload
ICMP = 20 + 8 + PSIZE     # inner IPv4 + ICMP echo header + payload
ok = eval("(" + expr + ")")
if not ok:
    print("# failed: " + expr)
sys.exit(0 if ok else 1)
PY
	ok $? "$1"
}

check "sender A: inner_out_pkts/bytes = $N x $((28 + SIZE)) + $PINGS x $((28 + PSIZE)); receiver B: inner_in the same" \
	'ao["inner_out_pkts"] == N + PINGS == bi["inner_in_pkts"] and
	 ao["inner_out_bytes"] == N * UDP + PINGS * ICMP == bi["inner_in_bytes"]'
check "replies: B inner_out = A inner_in = $PINGS packets of $((28 + PSIZE)) octets" \
	'bo["inner_out_pkts"] == PINGS == ai["inner_in_pkts"] and
	 bo["inner_out_bytes"] == PINGS * ICMP == ai["inner_in_bytes"]'
check "outer packets: sender out = receiver in > 0, = the SA lifetime packet counts" \
	'0 < ao["outer_out_pkts"] == bi["outer_in_pkts"] == lft_ao["packets"] == lft_bi["packets"] and
	 0 < bo["outer_out_pkts"] == ai["outer_in_pkts"] == lft_bo["packets"] == lft_ai["packets"]'
# Each $PSIZE-octet ping needs 3 outer packets of $PKT octets: >= 3 pieces.
check "fragments: frags_out >= $((3 * PINGS)) both ways; reassembled: A = $PINGS, B >= $PINGS" \
	'ao["frags_out"] >= 3 * PINGS and bo["frags_out"] >= 3 * PINGS and
	 ai["reassembled"] == PINGS and bi["reassembled"] >= PINGS'
# pkt-size 1400, rfc4106(gcm(aes)) 128, IPv4: 1400 - 20 (IP) - 8 (ESP)
# - 8 (IV) - 16 (ICV) - 2 (pad length, next header) - 4 (AGGFRAG header)
# = 1342 octets of data blocks in every outer packet: inner or pad.
check "every outer packet carries 1342 octets of inner data + pad (pkt-size $PKT)" \
	'all(s["inner_out_bytes"] + s["pad_out_bytes"] == 1342 * s["outer_out_pkts"]
	     for s in (ao, bo))'
check "no drops, nothing lost on any SA" \
	'all(s[k] == 0 for s in (ao, ai, bo, bi) for k in
	     ("drop_queue_full", "drop_too_big", "drop_out_err", "drop_bad_hdr",
	      "drop_bad_block", "drop_old", "lost", "drop_partial", "drop_nomem"))'

# 12: one SA by name (the kernel looks it up), text and JSON, and the
# xtfs_counter helper of lib.sh, all agree with the dump
one=$(ip netns exec $A xtfs -j stats show src $OA dst $OB spi 0x100 |
	py -i -c 'import json,sys; print(json.load(sys.stdin)["stats"]["inner_out_pkts"])')
viahelper=$(xtfs_counter $A out inner_out_pkts)
text=$(ip netns exec $A xtfs -s state get src $OA dst $OB proto esp spi 0x100)
diag "xtfs -s state get: $(echo "$text" | grep xtfs | tr '\n\t' '  ')"
[ "$one" = $((N + PINGS)) ] && [ "$viahelper" = "$one" ] &&
	echo "$text" | grep -q "xtfs inner-out-pkts $one "
ok $? "stats show dst/spi ($one), xtfs_counter ($viahelper) and -s state get text agree"

# 13: the helper passes the kernel's extended ACK on
out=$(ip netns exec $A xtfs stats show dst 192.0.2.99 spi 0x999 2>&1)
rc=$?
diag "stats for a missing SA: exit $rc: $out"
[ $rc -eq 1 ] && echo "$out" | grep -q "No such process: .*no ESP SA with this address, SPI and mark"
ok $? "stats show for a nonexistent SA: exit 1 with the extended ACK message"

# 14: SAs that are not xtfs's: refused by name, left out of listings
ip netns exec $A xtfs state add src $OA dst $OB proto esp spi 0x300 reqid 3 \
	mode tunnel aead "$AEAD" $KEY_AB 128
out=$(ip netns exec $A xtfs stats show dst $OB spi 0x300 2>&1)
rc=$?
diag "stats for a tunnel-mode SA: exit $rc: $out"
n=$(ip netns exec $A xtfs -j stats | py -i -c 'import json,sys; print(len(json.load(sys.stdin)))')
lst=$(ip netns exec $A xtfs -j -s state list 2>&1 >/dev/null)
[ $rc -eq 1 ] && echo "$out" | grep -q "SA is not in IP-TFS mode" && [ "$n" = 2 ] &&
	[ -z "$lst" ]
ok $? "tunnel-mode SA: stats refused with a message, not in the dump ($n SAs), no warning from -s state list"

# 15: malformed requests, each refused with an extended ACK message
fail=0
while read -r case want pat; do
	got=$(py "$SELFTEST_DIR/xtfs_genl.py" bad "$case" 2>&1)
	diag "$case: $got"
	case $got in
	"$want|"*"$pat"*) ;;
	*) fail=1 ;;
	esac
	[ -n "${got#*|}" ] || fail=1
done <<'CASES'
missing-family EINVAL missing attribute: address family
missing-daddr EINVAL missing attribute: destination address
missing-spi EINVAL missing attribute: SPI
bad-family EAFNOSUPPORT address family 7 not supported
addr-len-family EINVAL destination address of 16 octets
short-addr ERANGE
short-spi EINVAL
reply-only-attr EINVAL SA counters are reply-only
unknown-attr EINVAL
no-such-sa ESRCH no ESP SA
dump-with-attr EINVAL a dump of SAs takes no attributes
CASES
ok $fail "malformed genl requests: right errno and an extended ACK message each"

# 16: the YAML spec alone decodes the family (the kernel's YNL tools)
ynl=/var/lib/xtfs/src/tools/net/ynl/pyynl/cli.py
spec=$SELFTEST_DIR/../Documentation/netlink/specs/xtfs.yaml
if [ -f $ynl ] && python3 -c 'import yaml' 2>/dev/null; then
	ip netns exec $A python3 $ynl --spec "$spec" --no-schema --dump sa-get \
		--output-json >"$TMP/ynl.json" 2>"$TMP/ynl.err"
	diag "ynl: $(tr -d '\n' <"$TMP/ynl.json") $(cat "$TMP/ynl.err")"
	ip netns exec $A xtfs -j stats >"$TMP/helper.json"
	py - "$TMP/ynl.json" "$TMP/helper.json" <<'PY'
import json, sys
ynl = json.load(open(sys.argv[1]))
helper = json.load(open(sys.argv[2]))
ok = len(ynl) == len(helper) == 2
for h in helper:
    s = [v for v in ynl if v["dir"] == (1 if h["dir"] == "in" else 2)]
    ok = ok and len(s) == 1 and all(
        s[0]["stats"][k.replace("_", "-")] == v for k, v in h["stats"].items())
sys.exit(0 if ok else 1)
PY
	ok $? "YNL cli.py with Documentation/netlink/specs/xtfs.yaml reads the same counters"
else
	skip "YNL cli.py with the YAML spec reads the same counters" "no kernel YNL tools or python3-yaml"
fi

tap_done
