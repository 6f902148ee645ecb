#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The "xtfs" generic netlink family driven by the kernel's own generic
# client: YNL's command-line tool (tools/net/ynl/pyynl/cli.py of the
# kernel's source, which vm-run.sh unpacks to /var/lib/xtfs/ynl) reads
# Documentation/netlink/specs/xtfs.yaml, validated against the kernel's
# genetlink schema, and talks to xfrm_xtfs with nothing of xtfs's own.
# What it gets (the SAs and their counters, a do and a dump of sa-get,
# the kernel's extended ACK messages) is compared with the xtfs helper's
# JSON output, and settings staged by either (sa-stage) are read by the
# other once the SA exists.
. "$(dirname "$0")/lib.sh"

YNL_SRC=${XTFS_YNL_SRC:-/var/lib/xtfs/ynl}
CLI=$YNL_SRC/tools/net/ynl/pyynl/cli.py
SCHEMA=$YNL_SRC/Documentation/netlink/genetlink.yaml
SPEC=$(cd "$SELFTEST_DIR/.." && pwd)/Documentation/netlink/specs/xtfs.yaml

# ynl NS ARGS... - cli.py with xtfs's spec in namespace NS, JSON output.
ynl() {
	local ns=$1
	shift
	py -n "$ns" "$CLI" --spec "$SPEC" --schema "$SCHEMA" --output-json "$@"
}

# same_sas YNL-JSON HELPER-JSON - the SAs of a cli.py sa-get reply (one
# object or a dump's list) and those of "xtfs -j stats" are the same SAs
# (family, addresses, SPI, direction) with the same counters, all of
# them: the helper's keys are the spec's names with - turned into _.
same_sas() {
	py -c '
import json, sys
ynl, helper = json.loads(sys.argv[1]), json.loads(sys.argv[2])
ynl = ynl if isinstance(ynl, list) else [ynl]
helper = helper if isinstance(helper, list) else [helper]
fam = {2: "inet", 10: "inet6"}
dirs = {1: "in", 2: "out"}
def key(s):
    return (s["daddr"], int(s["spi"], 16))
y = {key(s): s for s in ynl}
bad = []
if len(y) != len(helper) or not helper:
    bad.append("%d SAs from YNL, %d from xtfs" % (len(y), len(helper)))
for h in helper:
    s = y.get((h["dst"], h["spi"]))
    if s is None:
        bad.append("SA %s 0x%x: not in YNL\x27s reply" % (h["dst"], h["spi"]))
        continue
    if (fam.get(s["family"]), s["saddr"], dirs.get(s["dir"])) != \
       (h["family"], h["src"], h["dir"]):
        bad.append("SA 0x%x: YNL %s, xtfs %s" % (h["spi"], s, h))
    ys = {k.replace("-", "_"): v for k, v in s["stats"].items()}
    if ys != h["stats"]:
        bad.append("SA 0x%x counters: YNL %s, xtfs %s" % (h["spi"], ys, h["stats"]))
print("%d SAs, %d counters each" % (len(helper), len(helper[0]["stats"]) if helper else 0))
for b in bad:
    print(b)
sys.exit(1 if bad else 0)' "$1" "$2"
}

# ext_of YNL-JSON - "iiv ALG payload PAYLOAD" of a cli.py sa-get reply
# ("iiv -" when the SA has no implicit IV).
ext_of() {
	py -c 'import json, sys; s = json.loads(sys.argv[1]); print("iiv", s.get("iiv", "-"), "payload", s.get("payload", "-"))' "$1"
}

tap_plan
modprobe -q esp4; modprobe -q xfrm_user
if [ ! -f "$CLI" ] || [ ! -f "$SCHEMA" ]; then
	skip "the kernel's YNL client against xtfs.yaml" "no $CLI (vm-run.sh unpacks it)"
	tap_done
fi
setup_ns || { diag "namespace setup failed"; exit $KSFT_FAIL; }

out=$(py "$CLI" --spec "$SPEC" --schema "$SCHEMA" --validate 2>&1)
ok $? "cli.py --validate: xtfs.yaml is valid against the kernel's genetlink schema${out:+ ($out)}"

# Traffic both ways, so that most counters of both directions move: a
# UDP burst, and pings of 3000 octets (fragmented across outer packets).
sa_pair
udp_check $A $IB $B 5001 50 300 &&
	ip netns exec $B ping -q -c 2 -i 0.2 -W 5 -s 3000 -I $IB $IA >/dev/null
ok $? "traffic through the tunnel: 50 UDP datagrams, two 3000-octet pings"

# The counters stand still once the traffic has passed: a dump now and
# the helper's right after see the same numbers.
fail=0
for ns in $A $B; do
	y=$(ynl $ns --dump sa-get 2>&1) &&
		h=$(ip netns exec $ns xtfs -j stats 2>&1) &&
		out=$(same_sas "$y" "$h") || fail=1
	diag "$ns: $out"
	[ $fail = 0 ] || { diag "cli.py: $y"; diag "xtfs: $h"; }
done
ok $fail "cli.py --dump sa-get: every SA and every counter as xtfs -j stats shows them"

y=$(ynl $A --do sa-get --json "{\"family\": 2, \"daddr\": \"$OB\", \"spi\": \"$SPI_AB\"}" 2>&1) &&
	h=$(ip netns exec $A xtfs -j stats show dst $OB spi $SPI_AB 2>&1) &&
	out=$(same_sas "$y" "$h")
ok $? "cli.py --do sa-get of one SA: as xtfs -j stats show (${out:-$y})"

# An SA that does not exist: both print the kernel's extended ACK message.
msg="no ESP SA with this address, SPI and mark"
y=$(ynl $A --do sa-get --json "{\"family\": 2, \"daddr\": \"$OB\", \"spi\": \"0x999\"}" 2>&1)
r=$?
h=$(ip netns exec $A xtfs -j stats show dst $OB spi 0x999 2>&1)
diag "cli.py: $(echo "$y" | tr '\n' ' ')"
diag "xtfs: $h"
[ $r -ne 0 ] && [[ $y == *"$msg"* ]] && [[ $h == *"$msg"* ]]
ok $? "cli.py --do sa-get of no SA: the kernel's extended ACK, as xtfs reports it"

# sa-stage through cli.py: the kernel takes the request, and the settings
# go when cli.py's socket closes, as the spec says: the SA made next has
# neither implicit IV nor the tunnel payload.
stage_json="{\"family\": 2, \"daddr\": \"$OB\", \"spi\": \"0x300\", \"iiv\": \"aes-gcm-16\", \"payload\": \"tunnel\"}"
g=""
y=$(ynl $A --do sa-stage --json "$stage_json" 2>&1) &&
	ip netns exec $A xtfs state add src $OA dst $OB proto esp spi 0x300 reqid 3 \
		dir out mode iptfs aead "$AEAD" $KEY_AB $SA_ICV &&
	g=$(ynl $A --do sa-get --json "{\"family\": 2, \"daddr\": \"$OB\", \"spi\": \"0x300\"}") &&
	g=$(ext_of "$g") && [ "$g" = "iiv - payload aggfrag" ] &&
	[ -z "$(sa_json $A $OB 0x300 iptfs iiv)" ]
ok $? "cli.py --do sa-stage is taken, and gone with cli.py's socket: the next SA has ${g:-$y}"

# Staged through YNL with the socket kept open (YnlFamily, the library
# cli.py is made of), the settings reach the SA that xtfs then adds: the
# helper shows them, and so does cli.py.
out=$(py -n $A - <<EOF 2>&1
import subprocess, sys
sys.path.insert(0, "$YNL_SRC/tools/net/ynl/pyynl")
from lib import YnlFamily
ynl = YnlFamily("$SPEC", schema="$SCHEMA")
ynl.do("sa-stage", {"family": 2, "daddr": "$OB", "spi": "0x301",
                    "iiv": "aes-gcm-16", "payload": "tunnel"})
sys.exit(subprocess.call(["xtfs", "state", "add", "src", "$OA", "dst", "$OB",
                          "proto", "esp", "spi", "0x301", "reqid", "3",
                          "dir", "out", "mode", "iptfs", "aead", "$AEAD",
                          "$KEY_AB", "$SA_ICV"]))
EOF
)
r=$?
g=$(ynl $A --do sa-get --json "{\"family\": 2, \"daddr\": \"$OB\", \"spi\": \"0x301\"}" 2>&1)
h="$(sa_json $A $OB 0x301 iptfs iiv) $(sa_json $A $OB 0x301 iptfs payload)"
diag "cli.py: $g"
diag "xtfs -j state get: iptfs iiv, payload: $h"
[ $r -eq 0 ] && [ "$h" = "aes-gcm-16 tunnel" ] &&
	[ "$(ext_of "$g")" = "iiv aes-gcm-16 payload tunnel" ]
ok $? "settings staged through YNL reach the SA xtfs adds: iiv aes-gcm-16, payload tunnel in both${out:+ ($out)}"

# And the other way: the helper stages for its own SA, cli.py reads them.
# A key of its own: no two outbound implicit-IV SAs may share one.
g=""
ip netns exec $A xtfs state add src $OA dst $OB proto esp spi 0x302 reqid 3 \
	dir out mode iptfs aead "$AEAD" 0x2122232425262728292a2b2c2d2e2f3031323334 \
	$SA_ICV iiv &&
	g=$(ynl $A --do sa-get --json "{\"family\": 2, \"daddr\": \"$OB\", \"spi\": \"0x302\"}") &&
	g=$(ext_of "$g") && [ "$g" = "iiv aes-gcm-16 payload aggfrag" ]
ok $? "xtfs state add ... iiv: cli.py --do sa-get shows ${g:-nothing}"

# A request the spec allows to encode but sa-stage does not take: the
# kernel refuses it, and cli.py prints why.
y=$(ynl $A --do sa-stage --json "{\"family\": 2, \"daddr\": \"$OB\", \"saddr\": \"$OA\", \"spi\": \"0x303\", \"iiv\": \"aes-gcm-16\"}" 2>&1)
r=$?
diag "cli.py: $(echo "$y" | tr '\n' ' ')"
[ $r -ne 0 ] && [[ $y == *"an SA is staged by destination, SPI and mark"* ]] &&
	[[ $y == *"'bad-attr': '.saddr'"* ]]
ok $? "cli.py --do sa-stage with saddr: refused, the extended ACK naming the attribute"

tap_done
