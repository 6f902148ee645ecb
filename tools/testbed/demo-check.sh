#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# demo-check.sh LOG RC - check what `make demo` printed (check.sh runs the
# demo and hands its output here): the first IP-TFS SA loaded xtfs; the
# 200-datagram burst arrived whole and identical, aggregated into fewer
# outer packets than inner ones, every outer packet of the configured
# pkt-size; the 3000-octet ping was answered with identical contents,
# fragmented across outer packets of that size. Prints one line per
# check; exit status 1 when any fails.
set -u
log=${1:?usage: demo-check.sh LOG RC}
rc=${2:?usage: demo-check.sh LOG RC}
PKT_SIZE=1400	# demo-guest.sh's sa_pair pkt-size
fails=0

check() {
	if [ "$1" = 0 ]; then
		echo "ok: $2"
	else
		echo "FAIL: $2"
		fails=$((fails + 1))
	fi
}

# field TEXT - the rest of the first line of the log containing TEXT.
field() {
	grep -m1 -F "$1" "$log" | sed "s/.*$1[[:space:]]*//"
}

# sizes_all_pkt_size LIST - true when LIST ("N x S octets; ..." or
# "S S S") names outer sizes that are all PKT_SIZE, and at least one.
sizes_all_pkt_size() {
	local w n=0
	for w in $(echo "$1" | sed -E 's/[0-9]+ x ([0-9]+) octets;/\1/g'); do
		[ "$w" = "$PKT_SIZE" ] || return 1
		n=$((n + 1))
	done
	[ $n -gt 0 ]
}

[ "$rc" = 0 ]
check $? "the demo ran to its end (status $rc)"
grep -q 'error\|unbound variable\|command not found\|capture did not start' "$log"
check $((! $?)) "no shell, helper or capture error in its output"
field "loaded before the first IP-TFS SA?" | grep -qx no &&
	field "mode iptfs': loaded?" | grep -qx yes
check $? "the first IP-TFS SA loaded xfrm_xtfs"

sent=$(field "inner packets sent:" | awk '{ print $1 }')
recv=$(field "inner packets received:")
outer=$(field "outer ESP packets:")
n_outer=${outer%% *}
[ "${sent:-0}" -gt 0 ] && [ "$recv" = "$sent, contents identical" ]
check $? "burst: $recv of ${sent:-?} inner datagrams delivered"
[ "${n_outer:-0}" -gt 0 ] && [ "$n_outer" -lt "${sent:-0}" ]
check $? "burst aggregated: ${n_outer:-?} outer packets for ${sent:-?} inner ones"
sizes_all_pkt_size "$(echo "$outer" | sed -n 's/^[0-9]* (\(.*\))$/\1/p')"
check $? "every outer packet of the burst is $PKT_SIZE octets ($outer)"

echo_out=$(field "echo replies:")
[ "$echo_out" = "1, contents identical" ]
check $? "3000-octet ping answered: ${echo_out:-no reply line}"
ping_outer=$(field "outer ESP packets for one echo request and its reply:")
n_ping=${ping_outer%% *}
# 3028 octets of inner packet each way need three outer packets of 1400.
[ "${n_ping:-0}" -ge 6 ] &&
	sizes_all_pkt_size "$(echo "$ping_outer" | sed -n 's/^[0-9]* (\(.*\))$/\1/p')"
check $? "the ping fragmented across $PKT_SIZE-octet outer packets ($ping_outer)"

[ $fails = 0 ]
