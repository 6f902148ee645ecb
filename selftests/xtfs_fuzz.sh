#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Fuzzing, seeded (XTFS_FUZZ_SEED, printed; random when unset): mutated
# AGGFRAG payloads through an ESP-NULL IP-TFS SA (the parser sees the exact
# octets), implicit-IV ESP packets of every length and random sequence
# numbers beside sealed ones with mutated AGGFRAG payloads, mutated inner
# packets to an SA with the tunnel payload, all sent as Ethernet frames
# from A's veth to B (selftests/fuzz.py); then random requests to the
# "xtfs" generic netlink family and random xfrm netlink SA requests around
# mode-iptfs SAs. XTFS_FUZZ_PACKETS packets (default 100,000; 20,000 on
# the debug kernel) and XTFS_FUZZ_MSGS netlink messages (default 10,000;
# 2,000 on the debug kernel) in all.
#
# Passes when the kernel stays quiet (vm-run checks its log), every
# netlink request is answered, every counter of every SA is what a model
# of the parser and of the kernel's ESP predicts for the packets sent
# (each malformed packet in its drop counter), and, on a kernel with
# kmemleak, nothing is left unreferenced once the SAs are flushed and the
# namespaces deleted.
. "$(dirname "$0")/lib.sh"

FUZZ="$SELFTEST_DIR/fuzz.py"
SEED=${XTFS_FUZZ_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}
# The debug kernel takes about 170 packets a second under emulation:
# make check sends the full volume through the stock kernel and a fifth
# of it through the debug kernel (KASAN, UBSAN, lockdep, kmemleak).
if [ "${XTFS_KERNEL:-}" = debug ]; then
	PACKETS=${XTFS_FUZZ_PACKETS:-20000}
	MSGS=${XTFS_FUZZ_MSGS:-2000}
else
	PACKETS=${XTFS_FUZZ_PACKETS:-100000}
	MSGS=${XTFS_FUZZ_MSGS:-10000}
fi
N_AGG=$((PACKETS * 60 / 100))
N_IIV=$((PACKETS * 25 / 100))
N_TUN=$((PACKETS - N_AGG - N_IIV))
N_GENL=$((MSGS / 2))
N_XFRM=$((MSGS - N_GENL))
WIN=5
KEY=0x0102030405060708090a0b0c0d0e0f1011121314
C=xtfs-c-$XTFS_NS_ID
# Long drop time: the generator never leaves a gap open for long, and the
# model has no timer.
IPTFS_IN=(reorder-window "$WIN" drop-time 60000000)

# xfrm_stat NS - the xfrm MIB counters of namespace NS as "name value"
xfrm_stat() {
	ip netns exec "$1" cat /proc/net/xfrm_stat 2>/dev/null
}

# fuzz_check WHAT JSON SA-JSON STAT-BEFORE STAT-AFTER - compare what
# fuzz.py predicted with the SA's counters and the MIB deltas
fuzz_check() {
	py - "$@" <<'PY'
import json, sys
what, res, sa, before, after = sys.argv[1:6]
res = json.loads(res)
(sa,) = json.loads(sa)
st, lft = sa["stats"], sa["curlft"]


def mib(text):
    return dict((k, int(v)) for k, v in (ln.split() for ln in
                                         text.splitlines() if ln.strip()))


b, a = mib(before), mib(after)
delta = dict((k, a.get(k, 0) - b.get(k, 0)) for k in a)
want = dict(res["model"])
esp = res.get("esp", {"accepted": res["sent"], "proto_error": 0,
                      "seq_error": 0, "integrity_failed": 0})
g = res.get("garbage", {"hdr_error": 0, "short": 0, "icv": 0})
want_mib = {"XfrmInHdrError": g["hdr_error"],
            "XfrmInStateProtoError": esp["proto_error"] + g["short"] + g["icv"],
            "XfrmInStateSeqError": esp["seq_error"]}
want_sa = {"packets": esp["accepted"],
           "integrity_failed": esp["integrity_failed"] + g["icv"],
           "replay": res.get("replay", {}).get("replay", 0),
           "replay_window": res.get("replay", {}).get("replay_window", 0)}
got_sa = {"packets": lft["packets"], "integrity_failed": st["integrity_failed"],
          "replay": st["replay"], "replay_window": st["replay_window"]}
bad = []
for k, v in want.items():
    if st.get(k) != v:
        bad.append("%s: SA %s, model %s" % (k, st.get(k), v))
for k, v in want_sa.items():
    if got_sa[k] != v:
        bad.append("%s: SA %s, model %s" % (k, got_sa[k], v))
if a:
    for k, v in want_mib.items():
        if delta.get(k) != v:
            bad.append("%s: +%s, model +%s" % (k, delta.get(k), v))
    other = dict((k, v) for k, v in delta.items() if v and k not in want_mib)
    print("# %s: other xfrm MIB deltas %s" % (what, other))
else:
    print("# %s: no /proc/net/xfrm_stat, MIB counters not checked" % what)
drops = sum(st[k] for k in ("drop_bad_hdr", "drop_bad_block", "drop_old",
                            "lost", "drop_partial"))
print("# %s: %d packets sent (%s s), %d with a mutated payload; ESP "
      "accepted %d, refused %d (trailer/short/ICV) + %d (replay) + %d "
      "(header)" % (what, res["sent"], res["seconds"], res.get("mutated", 0),
                    esp["accepted"], want_mib["XfrmInStateProtoError"],
                    esp["seq_error"], g["hdr_error"]))
print("# %s: SA counters %s; xtfs drops %d" % (
    what, " ".join("%s=%s" % (k, st[k]) for k in sorted(want)), drops))
for m in bad:
    print("# %s: MISMATCH %s" % (what, m))
sys.exit(1 if bad else 0)
PY
}

# sa_in SPI ARGS... - an inbound SA in B from A
sa_in() {
	local spi=$1
	shift
	ip netns exec $B xtfs state add src $OA dst $OB proto esp spi "$spi" \
		reqid 1 dir in mode iptfs replay-window 32 "$@"
}

# sa_json SPI - "xtfs -j -s state list" of B's SA SPI, as a list
sa_json() {
	ip netns exec $B xtfs -j -s state list | py -i -c '
import json, sys
print(json.dumps([s for s in json.load(sys.stdin) if s["spi"] == int(sys.argv[1], 0)]))' "$1"
}

# inject KIND N SPI ARGS... - run fuzz.py KIND in A, check B's SA SPI
inject() {
	local kind=$1 n=$2 spi=$3 what=$4 before res
	shift 4
	before=$(xfrm_stat $B)
	res=$(py -n $A "$FUZZ" "$kind" "$SEED" "$n" veth-a "$MAC_B" $OA $OB \
		"$spi" "$@")
	if [ -z "$res" ]; then
		ok 1 "$what: fuzz.py failed"
		return
	fi
	# Inner packets and frames may still be in a backlog: let them settle.
	sleep 1
	fuzz_check "$what" "$res" "$(sa_json "$spi")" "$before" "$(xfrm_stat $B)"
	ok $? "$what: no splat, every SA counter as the model predicts, each malformed packet in a drop counter"
	SENT=$((SENT + $(echo "$res" | sed 's/.*"sent": \([0-9]*\).*/\1/')))
}

tap_plan
modprobe -q esp4
modprobe -q xfrm_user
modprobe -q xfrm_xtfs
diag "seed $SEED (XTFS_FUZZ_SEED), $PACKETS packets (XTFS_FUZZ_PACKETS), $MSGS netlink messages (XTFS_FUZZ_MSGS)"
# Earlier suites' objects are not this suite's.
kmemleak_clear
T0=$(date +%s)
setup_ns || { diag "namespace setup failed"; exit $KSFT_FAIL; }
ip netns add $C || exit $KSFT_FAIL
at_exit "ip netns del $C 2>/dev/null"
MAC_B=$(ip -n $B -br link show veth-b | awk '{ print $3 }')
# Not per namespace: no frame may be lost to a full backlog.
sysctl -q -w net.core.netdev_max_backlog=100000
SENT=0

sa_in 0x100 enc "ecb(cipher_null)" "" "${IPTFS_IN[@]}" &&
	sa_in 0x300 aead "rfc4106(gcm(aes))" $KEY 128 iiv "${IPTFS_IN[@]}" &&
	sa_in 0x400 enc "ecb(cipher_null)" "" payload tunnel
ok $? "inbound SAs in B: ESP-NULL IP-TFS, implicit-IV AES-GCM-16 IP-TFS, ESP-NULL tunnel payload"

t=$(date +%s)
inject aggfrag $N_AGG 0x100 "AGGFRAG through ESP-NULL" $WIN
inject iiv $N_IIV 0x300 "implicit-IV ESP" $WIN $KEY
inject tunnel $N_TUN 0x400 "tunnel payload"
rx_drop=$(ip netns exec $B cat /sys/class/net/veth-b/statistics/rx_dropped)
diag "$SENT packets in $(($(date +%s) - t)) s; veth-b rx_dropped $rx_drop, backlog drops $(while read -r _ d _; do printf '%d ' "0x$d"; done </proc/net/softnet_stat)"

# generic netlink: in B, whose SAs the requests may name
t=$(date +%s)
res=$(py -n $B "$FUZZ" genl "$SEED" $N_GENL)
r=$?
diag "genl: $res"
[ $r = 0 ] && [ -n "$res" ]
ok $? "\"xtfs\" generic netlink: $N_GENL random requests, each answered"

# xfrm netlink: in a namespace of its own
res=$(py -n $C "$FUZZ" xfrm "$SEED" $N_XFRM $OA $OB)
r=$?
diag "xfrm: $res"
[ $r = 0 ] && [ -n "$res" ]
ok $? "xfrm netlink: $N_XFRM random SA requests around mode iptfs, each answered"
diag "netlink messages in $(($(date +%s) - t)) s"
n=$(ip -n $C xfrm state list | grep -c "^src")
diag "SAs left by the xfrm fuzz: $n"

# teardown, then kmemleak
sa_flush
ip -n $C xfrm state flush
ip -n $C xfrm policy flush
cleanup_ns
ip netns del $C
kmemleak_check "after the SAs are flushed and the namespaces deleted"
diag "seed $SEED; $(($(date +%s) - T0)) s in all"
tap_done
