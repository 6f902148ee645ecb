# SPDX-License-Identifier: GPL-2.0
# Shared helpers for the xtfs selftests (kselftest TAP output).
#
# Topology: namespaces A and B joined by veth. Outer (ESP) addresses are
# 192.0.2.1 and .2 or 2001:db8:1::1 and ::2, inner addresses 198.51.100.1
# and .2 or 2001:db8:2::1 and ::2 (documentation ranges; nothing leaves
# the guest). setup_ns configures both families; sa_families picks the
# ones sa_pair uses (IPv4 outer and inner unless told otherwise).

KSFT_PASS=0
KSFT_FAIL=1
KSFT_SKIP=4

# Namespace names unique to this test process: suites may run side by
# side, and a test left behind by a crash does not collide with the next.
XTFS_NS_ID=${XTFS_NS_ID:-$$}
A=xtfs-a-$XTFS_NS_ID
B=xtfs-b-$XTFS_NS_ID
OA4=192.0.2.1
OB4=192.0.2.2
IA4=198.51.100.1
IB4=198.51.100.2
OA6=2001:db8:1::1
OB6=2001:db8:1::2
IA6=2001:db8:2::1
IB6=2001:db8:2::2
# Outer and (first) inner addresses in use: see sa_families.
OA=$OA4
OB=$OB4
IA=$IA4
IB=$IB4
SA_OUTER=4
SA_INNER=4
KEY_AB=0x0102030405060708090a0b0c0d0e0f1011121314
KEY_BA=0x1112131415161718191a1b1c1d1e1f2021222324
AEAD="rfc4106(gcm(aes))"
SA_ICV=128
# SPIs of the SAs sa_pair makes, A to B and B to A
SPI_AB=0x100
SPI_BA=0x200
SELFTEST_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TMP=$(mktemp -d /tmp/xtfs-test.XXXXXX)

_ntests=0
_nfail=0
_nskip=0

# tap_plan - print the TAP header. The plan ("1..N") is computed and
# printed by tap_done at the end, so it always matches the tests run; a
# suite that dies on the way prints none, and check.sh fails it.
tap_plan() {
	echo "TAP version 13"
}

# ok COND_STATUS DESC - report one test from the status of the last check.
ok() {
	_ntests=$((_ntests + 1))
	if [ "$1" = 0 ]; then
		echo "ok $_ntests - $2"
	else
		_nfail=$((_nfail + 1))
		echo "not ok $_ntests - $2"
	fi
}

# skip DESC REASON - report a skipped test.
skip() {
	_ntests=$((_ntests + 1))
	_nskip=$((_nskip + 1))
	echo "ok $_ntests - $1 # SKIP $2"
}

# diag MSG - TAP diagnostic line.
diag() {
	echo "# $*"
}

# tap_done - print the plan and exit with the kselftest status (the EXIT
# trap cleans up).
tap_done() {
	echo "1..$_ntests"
	[ "$_nfail" -eq 0 ] || exit $KSFT_FAIL
	exit $KSFT_PASS
}

# py [-n NS] [-i] PYTHON3-ARGS... - python3 PYTHON3-ARGS, in namespace NS
# when given, through this test's selftests/pyd.py: one Python started
# once, which forks for each command (a python3 start costs seconds under
# emulation). -i passes standard input (text) to the command; "-" as the
# script (a heredoc) implies it. Output and exit status as python3's.
_pyd_pid=""
_pyd_port=""
py() {
	local ns=- in="" fd line rc=1
	while :; do
		case $1 in
		-n) ns=$2; shift 2 ;;
		-i) IFS= read -r -d '' in; shift ;;
		*) break ;;
		esac
	done
	[ "$1" = - ] && IFS= read -r -d '' in
	[ -n "$_pyd_port" ] || { echo "py: pyd.py is not running" >&2; return 1; }
	exec {fd}<>"/dev/tcp/127.0.0.1/$_pyd_port" || return 1
	printf '%s\0' "$#" "$ns" "$PWD" "$in" "$@" >&$fd
	while IFS= read -r -u $fd line; do
		case $line in
		O*) printf '%s\n' "${line#O}" ;;
		E*) printf '%s\n' "${line#E}" >&2 ;;
		R*) rc=${line#R}; break ;;
		esac
	done
	exec {fd}>&-
	return "$rc"
}

# _pyd_start - start this test process's pyd.py (see py).
_pyd_start() {
	local fd flags
	read -r flags </sys/class/net/lo/flags
	[ $((flags & 1)) = 1 ] || ip link set lo up
	exec {fd}< <(exec python3 "$SELFTEST_DIR/pyd.py")
	_pyd_pid=$!
	read -r _pyd_port <&$fd
	exec {fd}<&-
}

# cleanup_ns - delete the namespaces of this test process.
cleanup_ns() {
	ip netns del $A 2>/dev/null
	ip netns del $B 2>/dev/null
	return 0
}

# at_exit CMD - also run shell command CMD when the test exits, before the
# namespaces and the temporary directory go (last added runs first).
_at_exit=""
at_exit() {
	_at_exit="$1; $_at_exit"
}

# _lib_exit - the EXIT trap: whatever way a test ends, it leaves no
# namespace, background job or temporary file behind.
_lib_exit() {
	local rc=$?
	trap - EXIT
	eval "$_at_exit"
	# shellcheck disable=SC2046
	kill $(jobs -p) 2>/dev/null
	# pyd.py and its children: a process group of their own.
	[ -n "$_pyd_pid" ] && kill -- -"$_pyd_pid" 2>/dev/null
	cleanup_ns
	rm -rf "$TMP"
	exit $rc
}
trap _lib_exit EXIT
trap 'exit 130' INT TERM
_pyd_start

# setup_ns - two namespaces over veth, inner addresses routed over it.
setup_ns() {
	cleanup_ns
	# The UDP receivers ask for a 4 MiB buffer: a slow (emulated) reader
	# must not turn a burst into socket-buffer drops.
	sysctl -q -w net.core.rmem_max=16777216
	ip netns add $A && ip netns add $B || return 1
	# No duplicate address detection: an IPv6 address would otherwise
	# stay tentative (unusable) for a second or more.
	ip netns exec $A sysctl -q -w net.ipv6.conf.default.accept_dad=0 \
		net.ipv6.conf.all.accept_dad=0
	ip netns exec $B sysctl -q -w net.ipv6.conf.default.accept_dad=0 \
		net.ipv6.conf.all.accept_dad=0
	ip link add veth-a netns $A type veth peer name veth-b netns $B || return 1
	ip -n $A addr add $OA4/24 dev veth-a
	ip -n $B addr add $OB4/24 dev veth-b
	ip -n $A addr add $OA6/64 dev veth-a nodad
	ip -n $B addr add $OB6/64 dev veth-b nodad
	ip -n $A addr add $IA4/32 dev lo
	ip -n $B addr add $IB4/32 dev lo
	ip -n $A addr add $IA6/128 dev lo nodad
	ip -n $B addr add $IB6/128 dev lo nodad
	ip -n $A link set lo up
	ip -n $B link set lo up
	ip -n $A link set veth-a up
	ip -n $B link set veth-b up
	ip -n $A route add $IB4/32 dev veth-a src $IA4
	ip -n $B route add $IA4/32 dev veth-b src $IB4
	ip -n $A -6 route add $IB6/128 dev veth-a src $IA6
	ip -n $B -6 route add $IA6/128 dev veth-b src $IB6
	# Permanent neighbours for the outer addresses: a first burst of
	# outer packets would otherwise wait for address resolution (tens of
	# milliseconds under netem delay and emulation) and overflow its
	# queue, silently: a netem run lost the first 60 outer packets of a
	# stream that way (the receiver counted them lost, nothing else did).
	local ma mb
	ma=$(ip -n $A -br link show veth-a | awk '{ print $3 }')
	mb=$(ip -n $B -br link show veth-b | awk '{ print $3 }')
	ip -n $A neigh replace $OB4 lladdr "$mb" dev veth-a nud permanent &&
		ip -n $A neigh replace $OB6 lladdr "$mb" dev veth-a nud permanent &&
		ip -n $B neigh replace $OA4 lladdr "$ma" dev veth-b nud permanent &&
		ip -n $B neigh replace $OA6 lladdr "$ma" dev veth-b nud permanent
}

# ns_veth NS - the veth of namespace A or B toward the other.
ns_veth() {
	if [ "$1" = "$A" ]; then echo veth-a; else echo veth-b; fi
}

# neigh_discards TABLE - packets dropped while waiting for address
# resolution (TABLE arp_cache or ndisc_cache), all CPUs.
neigh_discards() {
	local line col=0 i n=0 f
	{
		read -r line
		for f in $line; do
			col=$((col + 1))
			[ "$f" = unresolved_discards ] && break
		done
		while read -r line; do
			i=0
			for f in $line; do
				i=$((i + 1))
				[ $i = $col ] && n=$((n + 0x$f))
			done
		done
	} <"/proc/net/stat/$1"
	echo $n
}

# sa_families OUTER INNER... - address families (4 or 6) of the outer
# (ESP) packets and of the inner traffic for the next sa_pair. More than
# one inner family puts a policy for each on the one SA pair (same reqid).
# Sets OA/OB to the outer addresses and IA/IB to the first inner family's.
sa_families() {
	SA_OUTER=$1
	shift
	SA_INNER="$*"
	if [ "$SA_OUTER" = 6 ]; then OA=$OA6 OB=$OB6; else OA=$OA4 OB=$OB4; fi
	if [ "$1" = 6 ]; then IA=$IA6 IB=$IB6; else IA=$IA4 IB=$IB4; fi
}

# _sa_policies NS SIDE OSRC ODST - in namespace NS (SIDE a or b, outer
# addresses OSRC here and ODST there) an out and an in policy for each
# inner family, all on the reqid 1 SA pair.
_sa_policies() {
	local ns=$1 osrc=$3 odst=$4 f src dst plen
	for f in $SA_INNER; do
		if [ "$f" = 6 ]; then
			plen=128
			if [ "$2" = a ]; then src=$IA6 dst=$IB6; else src=$IB6 dst=$IA6; fi
		else
			plen=32
			if [ "$2" = a ]; then src=$IA4 dst=$IB4; else src=$IB4 dst=$IA4; fi
		fi
		ip netns exec "$ns" xtfs policy add src $src/$plen dst $dst/$plen \
			dir out tmpl src $osrc dst $odst proto esp reqid 1 \
			mode iptfs || return 1
		ip netns exec "$ns" xtfs policy add src $dst/$plen dst $src/$plen \
			dir in tmpl src $odst dst $osrc proto esp reqid 1 \
			mode iptfs || return 1
	done
}

# sa_pair [OUT-OPTIONS...] [-- IN-OPTIONS...] - IP-TFS SA pair and
# policies between A and B, in the families set by sa_families. OUT-OPTIONS
# go to both outbound SAs (pkt-size, init-delay, dont-frag...), IN-OPTIONS
# to both inbound SAs (reorder-window, drop-time).
sa_pair() {
	local ns src dst spi key dir
	local -a out_opts=() in_opts=()
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		out_opts+=("$1")
		shift
	done
	[ "${1:-}" = -- ] && shift
	in_opts=("$@")
	# An inner family other than the outer one needs an SA whose
	# selector is AF_UNSPEC: the kernel would give it the outer family.
	case " $SA_INNER " in
	*" $((10 - SA_OUTER)) "*)
		out_opts+=(flag af-unspec)
		in_opts+=(flag af-unspec) ;;
	esac
	for ns in $A $B; do
		for spi in "$SPI_AB" "$SPI_BA"; do
			if [ "$spi" = "$SPI_AB" ]; then
				src=$OA dst=$OB key=$KEY_AB
			else
				src=$OB dst=$OA key=$KEY_BA
			fi
			if { [ $ns = $A ] && [ "$spi" = "$SPI_AB" ]; } ||
			   { [ $ns = $B ] && [ "$spi" = "$SPI_BA" ]; }; then
				dir=out
				ip netns exec $ns xtfs state add src $src dst $dst \
					proto esp spi $spi reqid 1 dir out mode iptfs \
					aead "$AEAD" $key "$SA_ICV" "${out_opts[@]}" || return 1
			else
				dir=in
				ip netns exec $ns xtfs state add src $src dst $dst \
					proto esp spi $spi reqid 1 dir in mode iptfs \
					aead "$AEAD" $key "$SA_ICV" "${in_opts[@]}" || return 1
			fi
		done
	done
	_sa_policies $A a $OA $OB || return 1
	_sa_policies $B b $OB $OA
}

# sa_flush - remove all SAs and policies in both namespaces.
sa_flush() {
	local ns
	for ns in $A $B; do
		ip netns exec $ns xtfs state flush
		ip netns exec $ns xtfs policy flush
	done
}

# hexkey N FIRST - N octets of key material FIRST, FIRST+1, ... in hex
# (no subshell per octet: a fork costs a tenth of a second or more on the
# emulated debug kernel, and the suites make keys hundreds of times)
hexkey() {
	local i h out=0x
	for ((i = $2; i < $2 + $1; i++)); do
		printf -v h %02x $((i % 256))
		out+=$h
	done
	echo "$out"
}

# usage_err WANT WORDS... - the helper refuses "state add ... WORDS" (an
# IP-TFS SA from A to B, SPI 0x300, with the crypto words of the array
# USAGE_CRYPTO, the AEAD by default) with a message containing WANT, and
# no SA is made.
usage_err() {
	local want=$1 out r
	local -a crypto=("${USAGE_CRYPTO[@]}")
	shift
	[ ${#crypto[@]} = 0 ] && crypto=(aead "$AEAD" $KEY_AB $SA_ICV)
	out=$(ip netns exec $A xtfs state add src $OA dst $OB proto esp \
		spi 0x300 reqid 3 mode iptfs "${crypto[@]}" "$@" 2>&1)
	r=$?
	diag "xtfs state add ... $*: $out"
	[ $r -ne 0 ] && [[ $out == *"$want"* ]] &&
		! ip netns exec $A xtfs state get dst $OB proto esp spi 0x300 \
			>/dev/null 2>&1
}

# stream_stop - stop a capture of a stream that never pauses (capture_stop
# waits for the file to stop growing): tcpdump writes what it read on
# SIGINT; packets it had not read yet shorten the window, nothing else.
stream_stop() {
	kill -INT "$_cap_pid" 2>/dev/null
	wait "$_cap_pid" 2>/dev/null
}

# capture_start NS IFACE FILE [SNAPLEN [FILTER]] - capture ESP packets
# (or those of the tcpdump FILTER) in the background, the first 128 octets
# of each unless SNAPLEN says otherwise (then with a 32 MiB capture
# buffer, for long captures of whole packets; 0: whole packets).
capture_start() {
	local opt="-s 128"
	[ -n "${4:-}" ] && opt="-s $4 -B 32768"
	# shellcheck disable=SC2086
	ip netns exec "$1" tcpdump -i "$2" -U $opt -w "$3" ${5:-esp} \
		>"$3.log" 2>&1 &
	_cap_pid=$!
	_cap_file=$3
	# tcpdump says "listening on" once the capture is open; its first
	# start in a fresh guest can take many seconds under emulation.
	for _ in $(seq 600); do
		grep -q listening "$3.log" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# capture_stop - stop the capture once tcpdump has written what it got.
# Under emulation tcpdump can lag the kernel by seconds, and an interrupt
# loses what it has not read yet: wait until the file stops growing.
capture_stop() {
	local last=-1 cur stable=0
	for _ in $(seq 60); do
		sleep 0.5
		cur=$(stat -c %s "$_cap_file" 2>/dev/null || echo 0)
		if [ "$cur" = "$last" ]; then
			stable=$((stable + 1))
			[ $stable -ge 3 ] && break
		else
			stable=0
		fi
		last=$cur
	done
	kill -INT "$_cap_pid" 2>/dev/null
	wait "$_cap_pid" 2>/dev/null
}

# udp_rcvbuf_errors NS - UDP datagrams dropped for a full socket buffer.
udp_rcvbuf_errors() {
	ip netns exec "$1" awk '/^Udp:/ { if (!h) { for (i = 1; i <= NF; i++) c[$i] = i; h = 1 }
		else print $c["RcvbufErrors"] }' /proc/net/snmp
}

# pcap_esp_sizes FILE - print the IP total length of each ESP packet.
pcap_esp_sizes() {
	py "$SELFTEST_DIR/pcap_esp.py" sizes "$1"
}

# xtfs_counter NS DIR NAME - print counter NAME (a key of the "stats"
# object of "xtfs -j stats", e.g. inner_in_pkts) of the one xtfs SA of
# direction DIR (in or out) in namespace NS. Prints nothing and fails
# unless exactly one such SA has that counter.
xtfs_counter() {
	ip netns exec "$1" xtfs -j stats | py -i -c '
import json, sys
d, name = sys.argv[1], sys.argv[2]
sas = [s for s in json.load(sys.stdin) if s.get("dir") == d]
if len(sas) != 1 or name not in sas[0]["stats"]:
    sys.exit("xtfs_counter: %d xtfs SAs of dir %s, counter %s" % (len(sas), d, name))
print(sas[0]["stats"][name])' "$2" "$3"
}

KMEMLEAK=/sys/kernel/debug/kmemleak

# kmemleak_clear - forget what kmemleak found so far; fails without it.
kmemleak_clear() {
	[ -w $KMEMLEAK ] && echo clear >$KMEMLEAK
}

# kmemleak_check WHAT - after the test's objects were freed (namespaces go
# in a work queue, objects after RCU: a wait first), the TAP line "kmemleak:
# nothing unreferenced WHAT", from two scans (kmemleak reports only what
# both found unreferenced); skipped without kmemleak.
kmemleak_check() {
	local n
	if [ ! -w $KMEMLEAK ]; then
		skip "kmemleak: nothing unreferenced $1" "no kmemleak"
		return
	fi
	sleep 3
	echo scan >$KMEMLEAK
	sleep 6
	echo scan >$KMEMLEAK
	n=$(grep -c "^unreferenced object" $KMEMLEAK)
	diag "kmemleak: $n unreferenced objects, $(grep -c xtfs $KMEMLEAK) lines naming xtfs"
	[ "$n" = 0 ] || head -40 $KMEMLEAK | sed 's/^/# /'
	[ "$n" = 0 ]
	ok $? "kmemleak: nothing unreferenced $1"
}

# sa_json NS DST SPI KEY... - a field of "xtfs -j state get", by path
sa_json() {
	local ns=$1 dst=$2 spi=$3
	shift 3
	ip netns exec "$ns" xtfs -j state get dst "$dst" proto esp spi "$spi" |
		py -i -c '
import json, sys
v = json.load(sys.stdin)
v = v[0] if isinstance(v, list) else v
for k in sys.argv[1:]:
    v = v.get(k, "") if isinstance(v, dict) else ""
print(v)' "$@"
}

# udp_check NS-FROM DST NS-TO PORT N SIZE - N datagrams delivered intact
udp_check() {
	udp_recv_start "$3" "$4" "$5" 5 "$TMP/u.recv" "$2" || return 1
	py -n "$1" "$SELFTEST_DIR/pcap_esp.py" udp-send "$2" \
		"$4" "$5" "$6" 3 "$TMP/u.sent" 200
	udp_sent "$TMP/u.recv"
	wait "$udp_rpid"
	cmp -s <(sort "$TMP/u.sent") <(sort "$TMP/u.recv") && return 0
	diag "udp $1 -> $2:$4: $(wc -l <"$TMP/u.recv") of $5 delivered intact"
	return 1
}

# diag_path - diagnostics for a datagram that did not arrive: the non-zero
# counters of every xtfs SA in A and B, the veths' drop counts and the
# backlog drops of each CPU (/proc/net/softnet_stat, second column).
diag_path() {
	local ns dev
	for ns in $A $B; do
		diag "$ns SAs: $(ip netns exec $ns xtfs -j stats | py -i -c '
import json, sys
for s in json.load(sys.stdin):
    c = " ".join("%s=%s" % kv for kv in s.get("stats", {}).items() if kv[1])
    print("[%s 0x%x: %s]" % (s.get("dir"), s.get("spi", 0), c), end=" ")')"
		dev=$(ns_veth "$ns")
		diag "$dev drops: rx $(ip netns exec $ns cat /sys/class/net/$dev/statistics/rx_dropped)" \
			"tx $(ip netns exec $ns cat /sys/class/net/$dev/statistics/tx_dropped)"
	done
	diag "backlog drops per CPU: $(while read -r _ d _; do printf '%d ' "0x$d"; done </proc/net/softnet_stat)"
	diag "dropped awaiting address resolution: IPv4 $(neigh_discards arp_cache), IPv6 $(neigh_discards ndisc_cache)"
}

# addr_of SIDE FAMILY - inner address of namespace A or B (SIDE a or b) in
# FAMILY (4 or 6).
addr_of() {
	case $1$2 in
	a4) echo $IA4 ;; b4) echo $IB4 ;;
	a6) echo $IA6 ;; b6) echo $IB6 ;;
	esac
}

# netem ARGS... - the same netem impairment on both veth ends ("off":
# none). The limit is raised so that netem itself does not drop a burst.
netem() {
	local ns dev
	for ns in $A $B; do
		dev=$(ns_veth "$ns")
		ip netns exec $ns tc qdisc del dev $dev root 2>/dev/null
		if [ "$1" != off ]; then
			ip netns exec $ns tc qdisc add dev $dev root netem \
				limit 100000 "$@" || return 1
		fi
	done
}

# udp_sent OUT - tell the receiver writing OUT that nothing more is sent:
# it stops after IDLE seconds of silence from now on, also when nothing
# came (a test that expects no delivery then waits IDLE, not a minute).
udp_sent() {
	touch "$1.done"
}

# udp_recv_start [--tos] NS PORT N IDLE OUT [ADDR] - a UDP receiver in
# namespace NS ("-": this one) for N datagrams on PORT (ADDR, default any
# IPv4), SHA-256 of each to OUT (with --tos, each one's IP TOS octet); it
# stops after IDLE seconds of silence once datagrams came. Runs in the
# background (its pid in $udp_rpid); returns once it listens, so no
# datagram sent afterwards is lost for want of a socket.
udp_recv_start() {
	local cmd=udp-recv
	if [ "$1" = --tos ]; then
		cmd=udp-recv-tos
		shift
	fi
	local ready=$5.ready ns=()
	[ "$1" = - ] || ns=(-n "$1")
	rm -f "$ready" "$5.done"
	py "${ns[@]}" "$SELFTEST_DIR/pcap_esp.py" $cmd "$2" \
		"$3" "$4" "$5" "${6:-0.0.0.0}" "$ready" &
	udp_rpid=$!
	for _ in $(seq 600); do
		[ -f "$ready" ] && return 0
		sleep 0.1
	done
	diag "UDP receiver on port $2 did not start"
	return 1
}
