#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# strongSwan negotiates IP-TFS and xtfs serves the SAs. Two charon
# daemons (Debian sid's strongSwan 6.1, chrooted in the sid root that
# tools/testbed/vm-lib.sh's swan_root makes at /var/lib/xtfs/swan), one in
# each namespace, each with its own strongswan.conf, log, pid file and
# vici socket (a directory of its own bound over the root's /run).
# Their configuration is the README's ("Use with strongSwan"): A's
# swanctl.conf as printed there, B's made from it as the README says, and
# the README's charon.iptfs settings on A (B has others, so that each
# side's are seen to come from its own file). Checked: the CHILD_SA is
# negotiated as IP-TFS; all four SAs are mode iptfs (strongSwan settles
# for tunnel mode without a word when IP-TFS is not agreed, so the mode
# is checked, not only the traffic), they hold xtfs (its use count) and
# xtfs counts their traffic; the IP-TFS settings arrive in the SAs; pings
# of several sizes and a UDP burst, contents compared; a CHILD_SA rekey
# under traffic (rekey_time short, A only), the inner datagrams lost over
# it counted (bounded); and a peer that does not take IP-TFS gets tunnel
# mode, which the mode check sees.
. "$(dirname "$0")/lib.sh"

SWAN=/var/lib/xtfs/swan
README=$SELFTEST_DIR/../README
SIZES="0 56 1000 1400 3000"
BURST=200
DGRAM=700
# The rekey: A's CHILD_SA rekey_time, then a UDP stream (datagrams,
# microseconds apart) long enough for at least one rekey. strongSwan
# rekeys 0 to 10% before rekey_time (its default rand_time).
REKEY_TIME=8
if [ "${XTFS_KERNEL:-}" = debug ]; then
	BURST=100
	STREAM=250 GAP=40000
else
	STREAM=1500 GAP=10000
fi
# What a rekey may cost: strongSwan installs the new SAs before it
# deletes the old ones and keeps the old inbound SA a while (its
# delete_rekeyed_delay) for what is still on the way, but deletes the old
# outbound SA at once: what is still queued there (sent by a soft hrtimer)
# or on its way to it is lost. Allowed: a quarter of a second of the
# stream per rekey (none lost in quiet runs; 14 in one of six rekeys with
# six guests on the two host cores).
LOST_PER_REKEY=$((250000 / GAP))

tap_plan
if [ ! -x $SWAN/usr/lib/ipsec/charon ]; then
	ok 1 "strongSwan root at $SWAN (vm-run.sh makes it: swan_root in tools/testbed/vm-lib.sh)"
	tap_done
fi
diag "strongSwan root: $(tail -n +2 $SWAN/.stamp | tr '\n' ' ')"
setup_ns || { diag "namespace setup failed"; exit $KSFT_FAIL; }

# ns_of SIDE - namespace of side a or b.
ns_of() {
	if [ "$1" = a ]; then echo $A; else echo $B; fi
}

# The root's /run: a tmpfs of this guest's, with a directory for each
# daemon (strongswan.conf, swanctl.conf, the log, the pid file and the
# vici socket), bound over /run for that daemon alone (strongSwan's
# piddir is /run). swanctl reaches a daemon by its socket's path; it
# needs neither the namespace nor mounts of its own.
RUN=$SWAN/run

# charon SIDE - start SIDE's charon in SIDE's namespace, in the
# background. The mounts are private to it (ip netns exec unshares them).
charon() {
	ip netns exec "$(ns_of "$1")" /bin/sh -c '
		r=$1 side=$2
		mount --bind "$r/run/$side" "$r/run" && mount --bind /dev "$r/dev" &&
			mount -t proc proc "$r/proc" || exit 1
		exec chroot "$r" /usr/bin/env -i PATH=/usr/sbin:/usr/bin \
			STRONGSWAN_CONF=/run/strongswan.conf /usr/lib/ipsec/charon' \
		charon "$SWAN" "$1" >/dev/null 2>&1 &
}

# swanctl SIDE ARGS... - swanctl ARGS for SIDE's charon; its files are
# /run/SIDE/... there.
swanctl() {
	local side=$1
	shift
	chroot "$SWAN" /usr/bin/env -i PATH=/usr/sbin:/usr/bin \
		STRONGSWAN_CONF=/run/swanctl-plugins.conf \
		swanctl --uri "unix:///run/$side/charon.vici" "$@"
}

# readme_block FIRST - the README's indented block that begins with the
# line FIRST, unindented: up to the next line that is not indented.
readme_block() {
	awk -v first="    $1" '
		!on && $0 == first { on = 1 }
		on && /^[^ ]/ { exit }
		on { sub(/^    /, ""); print }' "$README"
}

# swap_ab - the README's way from A's swanctl.conf to B's: the addresses
# of each pair swapped, no start_action.
swap_ab() {
	sed -e 's/192\.0\.2\.1\b/@O1@/g; s/192\.0\.2\.2\b/192.0.2.1/g; s/@O1@/192.0.2.2/g' \
		-e 's/198\.51\.100\.1\b/@I1@/g; s/198\.51\.100\.2\b/198.51.100.1/g; s/@I1@/198.51.100.2/g' \
		-e '/start_action/d'
}

# charon_conf SIDE IPTFS-FILE - SIDE's strongswan.conf: the plugins PSK
# and ESP need, a log in /run, and the IP-TFS settings of IPTFS-FILE.
charon_conf() {
	cat <<EOF
charon {
	load = random nonce openssl kernel-netlink socket-default vici
	filelog {
		log {
			path = /run/charon.log
			time_format = %T
			default = 1
			knl = 2
			flush_line = yes
		}
	}
}
include /run/iptfs.conf
EOF
	cp "$2" "$RUN/$1/iptfs.conf"
}

# charon_start SIDE - start SIDE's charon; waits for its vici socket.
charon_start() {
	charon "$1"
	for _ in $(seq 300); do
		[ -S "$RUN/$1/charon.vici" ] && return 0
		sleep 0.1
	done
	diag "charon $1 did not start: $(tail -n 5 "$RUN/$1/charon.log" 2>/dev/null)"
	return 1
}

# spis NS DIR - SPIs of NS's SAs of direction DIR (xtfs's view).
spis() {
	ip netns exec "$1" xtfs -j state list | py -i -c '
import json, sys
print(" ".join("0x%x" % s["spi"] for s in json.load(sys.stdin) if s.get("dir") == sys.argv[1]))' "$2"
}

# sa_count NS - number of SAs in NS.
sa_count() {
	ip -n "$1" xfrm state | grep -c '^src'
}

# terminate_ike - A's daemon ends the IKE_SA (and its CHILD_SAs); wait (up
# to 20 s) until neither namespace has an SA left.
terminate_ike() {
	swanctl a --terminate --ike iptfs >/dev/null 2>&1
	for _ in $(seq 100); do
		[ "$(sa_count $A)" = 0 ] && [ "$(sa_count $B)" = 0 ] && break
		sleep 0.2
	done
}

# wait_child N - wait (up to 60 s) until both namespaces have N SAs.
wait_child() {
	for _ in $(seq 300); do
		[ "$(sa_count $A)" = "$1" ] && [ "$(sa_count $B)" = "$1" ] && return 0
		sleep 0.2
	done
	return 1
}

# modes NS - the modes of NS's keyed SAs as ip xfrm state prints them,
# counted (" 2 iptfs "); an SPI strongSwan has only reserved for a rekey
# (a larval state, no key yet) is left out. trixie's iproute2 prints
# IP-TFS as its number, 5 (XFRM_MODE_IPTFS): named here.
modes() {
	ip -n "$1" xfrm state | awk '
		function put() { if (m != "" && k) print (m == 5 ? "iptfs" : m) }
		$1 == "src" { put(); m = ""; k = 0 }
		$1 == "proto" { for (i = 1; i < NF; i++) if ($i == "mode") m = $(i + 1) }
		$1 == "aead" || $1 == "enc" { k = 1 }
		END { put() }' | sort | uniq -c | tr -s ' \n' '  '
}

# xmodes NS - the same from xtfs -j state list.
xmodes() {
	ip netns exec "$1" xtfs -j state list | py -i -c '
import collections, json, sys
c = collections.Counter(s["mode"] for s in json.load(sys.stdin) if "aead" in s or "enc" in s)
print(" " + " ".join("%d %s" % (n, m) for m, n in sorted(c.items())) + " ")'
}

refcnt() { cat /sys/module/xfrm_xtfs/refcnt 2>/dev/null || echo 0; }

mountpoint -q "$RUN" && umount -l "$RUN"
mount -t tmpfs -o size=32m,mode=755 xtfs-swan "$RUN" ||
	{ diag "cannot mount a tmpfs on $RUN"; exit $KSFT_FAIL; }
at_exit 'umount -l "$RUN"'
mkdir -p "$RUN/a" "$RUN/b"
printf 'swanctl {\n\tload = random openssl pem pkcs1 x509\n}\n' >"$RUN/swanctl-plugins.conf"
# The daemons' logs outlive the guest in its run directory (vm-run.sh).
if [ -n "${XTFS_RUNDIR:-}" ]; then
	at_exit 'cp "$RUN/a/charon.log" "$XTFS_RUNDIR/swan-a.log"; cp "$RUN/b/charon.log" "$XTFS_RUNDIR/swan-b.log"'
fi
readme_block "# /etc/swanctl/conf.d/iptfs.conf on router A" >"$RUN/a/swanctl.conf"
swap_ab <"$RUN/a/swanctl.conf" >"$RUN/b/swanctl.conf"
readme_block "# /etc/strongswan.d/iptfs.conf" >"$TMP/iptfs-a.conf"
grep -q 'mode = iptfs' "$RUN/a/swanctl.conf" && grep -q 'reorder_window' "$TMP/iptfs-a.conf" &&
	grep -q 'local_addrs = 192.0.2.2' "$RUN/b/swanctl.conf" &&
	! grep -q start_action "$RUN/b/swanctl.conf"
ok $? "README: swanctl.conf of A ($(wc -l <"$RUN/a/swanctl.conf") lines), B's made from it, charon.iptfs settings ($(wc -l <"$TMP/iptfs-a.conf") lines)"

# B's IP-TFS settings differ from A's in every value.
cat >"$TMP/iptfs-b.conf" <<'EOF'
charon {
	iptfs {
		packet_size = 1200
		max_queue_size = 524288
		init_delay = 1000
		dont_fragment = yes
		drop_time = 250000
		reorder_window = 5
	}
}
EOF
charon_conf a "$TMP/iptfs-a.conf" >"$RUN/a/strongswan.conf"
charon_conf b "$TMP/iptfs-b.conf" >"$RUN/b/strongswan.conf"

modprobe -r xfrm_xtfs 2>/dev/null
ref0=$(refcnt)
charon_start a && charon_start b
ok $? "two charon daemons: $(swanctl a --version --daemon 2>&1 | head -n 1)"

t0=$SECONDS
swanctl b --load-all --file /run/b/swanctl.conf >"$TMP/b.load" 2>&1 &&
	swanctl a --load-all --file /run/a/swanctl.conf >"$TMP/a.load" 2>&1
ok $? "swanctl --load-all on B, then on A (start_action = start)"
wait_child 2
r=$?
ok $r "CHILD_SA up in $((SECONDS - t0)) s: $(sa_count $A) SAs in A, $(sa_count $B) in B"
swanctl a --list-sas >"$TMP/a.sas" 2>"$TMP/a.sas.err"
swanctl b --list-sas >"$TMP/b.sas" 2>"$TMP/b.sas.err"
sed 's/^/# A: /' "$TMP/a.sas"
if [ $r -ne 0 ]; then
	sed 's/^/# B: /' "$TMP/b.sas"
	tail -n 30 "$RUN/a/charon.log" | sed 's/^/# A log: /'
	tail -n 30 "$RUN/b/charon.log" | sed 's/^/# B log: /'
fi
grep -Eq 'iptfs: #[0-9]+, reqid [0-9]+, INSTALLED, IPTFS, ' "$TMP/a.sas" &&
	grep -Eq 'iptfs: #[0-9]+, reqid [0-9]+, INSTALLED, IPTFS, ' "$TMP/b.sas"
ok $? "swanctl --list-sas: the CHILD_SA is IPTFS on both sides"
grep -q 'AES_GCM_16-128/PRF_HMAC_SHA2_256/CURVE_25519' "$TMP/a.sas" &&
	grep -q 'ESP:AES_GCM_16-128' "$TMP/a.sas"
ok $? "negotiated: $(grep -Eo '(IKEv2.*|[A-Z_0-9/-]*CURVE_25519|ESP:[^ ]*)' "$TMP/a.sas" | tr '\n' ' ')"

for ns in $A $B; do
	diag "ip xfrm state ($ns): $(ip -n $ns xfrm state | grep -E '^src|proto|iptfs' | tr -s '\t\n ' '   ')"
done
ma=$(modes $A)
mb=$(modes $B)
[ "$ma" = " 2 iptfs " ] && [ "$mb" = " 2 iptfs " ]
ok $? "ip xfrm state: the SAs are mode iptfs, 5 there (A:$ma, B:$mb)"
xa=$(xmodes $A)
xb=$(xmodes $B)
[ "$xa" = " 2 iptfs " ] && [ "$xb" = " 2 iptfs " ]
ok $? "xtfs state list: the SAs are mode iptfs (A:$xa, B:$xb)"
ref1=$(refcnt)
[ "$ref1" -ge $((ref0 + 4)) ]
ok $? "xfrm_xtfs loaded by the SAs, held by them: use count $ref0 -> $ref1"

# The settings of each side's strongswan.conf in its SAs. A's outbound
# SA and B's inbound one go to B's outer address, the others to A's.
for sd in "a out $OB4" "a in $OA4" "b out $OA4" "b in $OB4"; do
	read -r side d dst <<<"$sd"
	ip netns exec "$(ns_of $side)" xtfs -j state get dst "$dst" proto esp \
		spi "$(spis "$(ns_of $side)" "$d")" >"$TMP/$side-$d.json" 2>&1
done
py - "$TMP" <<'PY'
import json, sys
t = sys.argv[1]
want = {
    ("a", "out"): {"pkt_size": 1400, "max_queue_size": 2097152, "init_delay": 0},
    ("a", "in"): {"drop_time": 500000, "reorder_window": 8},
    ("b", "out"): {"pkt_size": 1200, "max_queue_size": 524288, "init_delay": 1000,
                   "dont_frag": True},
    ("b", "in"): {"drop_time": 250000, "reorder_window": 5},
}
bad = 0
for (side, d), w in want.items():
    v = json.load(open("%s/%s-%s.json" % (t, side, d)))
    v = v[0] if isinstance(v, list) else v
    got = v.get("iptfs", {})
    print("# %s %s 0x%x %s: %s" % (side.upper(), d, v["spi"], v.get("mode"), got))
    for k, x in w.items():
        g = got.get(k)
        if k == "dont_frag":
            g = bool(g)
        if g != x:
            print("# %s %s: %s is %r, not %r" % (side.upper(), d, k, g, x))
            bad = 1
    if ("dont_frag" not in w and got.get("dont_frag")) or v.get("mode") != "iptfs":
        bad = 1
sys.exit(bad)
PY
ok $? "xtfs state get: each side's charon.iptfs settings in its SAs"

# Traffic.
diag "$SECONDS s: traffic"
fail=0
for s in $SIZES; do
	out=$(ip netns exec $A ping -q -c 2 -i 0.2 -W 5 -s "$s" -p a5c3 -I $IA4 $IB4 2>&1)
	if ! echo "$out" | grep -q " 0% packet loss" || echo "$out" | grep -q "wrong data"; then
		diag "ping -s $s: $out"
		fail=1
	fi
done
[ $fail = 0 ] || diag_path
ok $fail "pings of $SIZES octets through the strongSwan SAs, replies intact"
udp_check $A $IB4 $B 5001 $BURST $DGRAM
ok $? "UDP burst A -> B: $BURST datagrams of $DGRAM octets delivered, contents identical"
udp_check $B $IA4 $A 5002 $BURST $DGRAM
ok $? "UDP burst B -> A: $BURST datagrams of $DGRAM octets delivered, contents identical"
sleep 1
ip netns exec $A xtfs -j -s state list >"$TMP/a.stats"
ip netns exec $B xtfs -j -s state list >"$TMP/b.stats"
py - "$TMP/a.stats" "$TMP/b.stats" $BURST <<'PY'
import json, sys
n = int(sys.argv[3])
bad = 0
for side, p in zip("AB", sys.argv[1:3]):
    for s in json.load(open(p)):
        st = s["stats"]
        key = "inner_out_pkts" if s["dir"] == "out" else "inner_in_pkts"
        print("# %s %s 0x%x: %s %d, outer_%s_pkts %d" % (side, s["dir"], s["spi"], key,
              st[key], s["dir"], st["outer_%s_pkts" % s["dir"]]))
        if st[key] < n:
            bad = 1
sys.exit(bad)
PY
ok $? "xtfs -s state list: each SA's xtfs counters moved (at least $BURST inner packets)"
diag "strongSwan's view: $(swanctl a --list-sas 2>/dev/null | grep -E '^ +(in|out) ' | tr -s ' \n' '  ')"

diag "$SECONDS s: rekey"
# Rekey under traffic: A's CHILD_SA again, now with rekey_time short
# (the README's file with that one line changed, start_action dropped:
# it is initiated here).
terminate_ike
# life_time and rand_time too: swanctl's default life_time, 110% of
# rekey_time in whole seconds, is 8 s for 8 s, and the kernel's hard
# expiry then comes with the soft one: charon deletes the CHILD_SA and
# makes a new one (break before make: 8 of 1,500 datagrams lost in
# three such rounds) instead of rekeying it.
sed -e "s/rekey_time = .*/rekey_time = ${REKEY_TIME}s\n\
life_time = $((REKEY_TIME * 3))s\nrand_time = 1s/" -e '/start_action/d' \
	"$RUN/a/swanctl.conf" >"$RUN/a/rekey.conf"
grep -q "rekey_time = ${REKEY_TIME}s" "$RUN/a/rekey.conf" &&
	swanctl a --load-conns --file /run/a/rekey.conf >/dev/null 2>&1 &&
	swanctl a --initiate --child iptfs >"$TMP/a.init" 2>&1 && wait_child 2
ok $? "CHILD_SA again with rekey_time = ${REKEY_TIME}s"
spi0=$(spis $A out)
log0=$(wc -l <"$RUN/a/charon.log")
ip netns exec $A cat /proc/net/xfrm_stat >"$TMP/xs0"
# A capture for the diagnostics below, not on the debug kernel (tcpdump
# and the parse of each SPI cost a minute there).
cap=0
if [ "${XTFS_KERNEL:-}" != debug ]; then
	capture_start $B veth-b "$TMP/rk.pcap" && cap=1
fi
udp_recv_start $B 5003 $STREAM 5 "$TMP/rk.recv" $IB4 || fail=1
rpid=$udp_rpid
t0=$SECONDS
py -n $A "$SELFTEST_DIR/pcap_esp.py" udp-send $IB4 5003 $STREAM 300 7 \
	"$TMP/rk.sent" $GAP
udp_sent "$TMP/rk.recv"
wait $rpid
spi1=$(spis $A out)
tail -n +$((log0 + 1)) "$RUN/a/charon.log" >"$TMP/a.rekeylog"
diag "A's xfrm errors during the stream: $(ip netns exec $A cat /proc/net/xfrm_stat |
	awk 'NR == FNR { v[$1] = $2; next } $2 != v[$1] { printf "%s +%d ", $1, $2 - v[$1] }' "$TMP/xs0" -)"
nrekey=$(grep -c "rekeyed CHILD_SA iptfs" "$TMP/a.rekeylog")
nsent=$(wc -l <"$TMP/rk.sent")
lost=$(comm -23 <(sort "$TMP/rk.sent") <(sort "$TMP/rk.recv") | wc -l)
[ $cap = 0 ] || capture_stop
# Where the lost ones were: their places in the stream, and for each of
# A's outbound SPIs of the stream the ESP packets B got.
diag "lost datagrams, by place in the stream: $(awk 'NR == FNR { r[$1] = 1; next }
	!($1 in r) { printf "%d ", FNR }' "$TMP/rk.recv" "$TMP/rk.sent")"
[ $cap = 0 ] || for spi in $spi0 $(sed -n 's/.*rekeyed CHILD_SA .* with SPIs [0-9a-f]*_i \([0-9a-f]*\)_o$/0x\1/p' \
		"$TMP/a.rekeylog"); do
	diag "ESP of A's SPI $spi at B: $(py "$SELFTEST_DIR/pcap_esp.py" esp-seq "$TMP/rk.pcap" "$spi")"
done
grep -E 'rekeyed CHILD_SA|closing expired|delay closing' "$TMP/a.rekeylog" | sed 's/^/# A log: /'
diag "rekey stream: $nsent datagrams in $((SECONDS - t0)) s, A's outbound SPI $spi0 -> $spi1, $nrekey rekeys, $lost lost"
nexp=$(grep -c "closing expired CHILD_SA" "$TMP/a.rekeylog")
# The old inbound SA may still be there (strongSwan's delay).
ma=$(modes $A)
xa=$(xmodes $A)
[ "$nrekey" -ge 1 ] && [ "$nexp" = 0 ] && [ "$spi0" != "$spi1" ] && [ -n "$spi1" ] &&
	echo "$ma|$xa" | grep -Eqx ' [0-9]+ iptfs \| [0-9]+ iptfs '
ok $? "CHILD_SA rekeyed $nrekey times under traffic ($nexp expired instead), all SAs mode iptfs (A:$ma)"
[ "$nsent" = $STREAM ] && [ "$lost" -le $((nrekey * LOST_PER_REKEY)) ]
ok $? "rekey under traffic: $lost of $nsent inner datagrams lost in $nrekey rekeys (at most $LOST_PER_REKEY a rekey)"

diag "$SECONDS s: a peer without IP-TFS"
# A peer without IP-TFS: B's child in tunnel mode. strongSwan settles for
# tunnel mode on both sides; the mode check must see it.
terminate_ike
sed 's/mode = iptfs/mode = tunnel/' "$RUN/b/swanctl.conf" >"$RUN/b/tunnel.conf"
swanctl b --load-conns --file /run/b/tunnel.conf >/dev/null 2>&1 &&
	swanctl a --initiate --child iptfs >/dev/null 2>&1 && wait_child 2
r=$?
swanctl a --list-sas >"$TMP/a.sas" 2>&1
ma=$(modes $A)
diag "A's CHILD_SA: $(grep -Eo 'iptfs: #[0-9]+, reqid [0-9]+, [A-Z]+, [A-Z]+' "$TMP/a.sas")"
# (The old inbound SA of a rekey may still be there: two or more.)
[ $r = 0 ] && echo "$ma" | grep -Eqx ' [2-9] tunnel ' && grep -Eq 'INSTALLED, TUNNEL' "$TMP/a.sas"
ok $? "peer without IP-TFS: A asked for iptfs and got tunnel mode SAs ($ma), as the mode check shows"

tap_done
