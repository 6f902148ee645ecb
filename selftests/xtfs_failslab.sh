#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Allocation failures in xtfs's set-up paths (slab fault injection, on a
# kernel with CONFIG_FAILSLAB and its stack filter: the debug kernel).
# Each request below is made again and again, the first, second, ...
# allocation made from xtfs's code failing each time (fail-nth, the stack
# filter set to xtfs's text), until a run comes through with none failing.
# A request whose allocation failed must either be refused and leave no
# SA, or succeed (the allocation had a fallback); none may crash, warn or
# leak (vm-run.sh checks the kernel log). When all are done and the SAs
# flushed, nothing holds the module: it unloads, and kmemleak finds
# nothing unreferenced. This is how a failing init_state() after the
# core set mode_cbs, or a failing clone_state(), is reached.
. "$(dirname "$0")/lib.sh"

FS=/sys/kernel/debug/failslab
MOD=xfrm_xtfs

tap_plan
modprobe -q esp4; modprobe -q xfrm_user; modprobe -q $MOD
setup_ns || { diag "namespace setup failed"; exit $KSFT_FAIL; }

NAMES=("inbound AGGFRAG SA" "outbound AGGFRAG SA" "outbound implicit-IV SA"
	"inbound implicit-IV SA" "outbound tunnel-payload SA"
	"migration of an AGGFRAG SA (clone_state)" "xtfs stats show")
if [ ! -d $FS ] || [ ! -f /proc/self/fail-nth ]; then
	for name in "${NAMES[@]}" "module unloads" "kmemleak"; do
		skip "$name: allocation failures" "no slab fault injection in this kernel"
	done
	tap_done
fi

# xtfs's text: the module's executable sections, addresses from sysfs
# and sizes from the module file.
range=$(py -c '
import os, struct, sys
mod, ko = sys.argv[1], sys.argv[2]
d = open(ko, "rb").read()
shoff, = struct.unpack_from("<Q", d, 0x28)
shentsize, shnum, shstrndx = struct.unpack_from("<HHH", d, 0x3a)
def sh(i):
    return struct.unpack_from("<IIQQQQ", d, shoff + i * shentsize)
stroff = sh(shstrndx)[4]
lo, hi = None, 0
for i in range(shnum):
    name, _, flags, _, _, size = sh(i)
    name = d[stroff + name:d.index(b"\0", stroff + name)].decode()
    p = "/sys/module/%s/sections/%s" % (mod, name)
    if not (flags & 4) or not size or not os.path.exists(p):
        continue
    a = int(open(p).read(), 16)
    if not a:
        continue
    lo = a if lo is None else min(lo, a)
    hi = max(hi, a + size)
print(lo, hi)' $MOD "$(modinfo -n $MOD)")
read -r lo hi <<<"$range"
diag "xtfs text: $(printf '%#x-%#x' "$lo" "$hi")"
echo 0 >$FS/probability
echo 0 >$FS/ignore-gfp-wait
echo 1 >$FS/verbose
echo "$lo" >$FS/require-start
echo "$hi" >$FS/require-end
kmemleak_clear

# sa_count NS SPI - SAs of SPI in namespace NS
sa_count() {
	ip -n "$1" xfrm state list spi "$2" 2>/dev/null | grep -c "^src"
}

# inject NAME SPI DST WANT SETUP COMMAND... - run COMMAND (in A) with its
# n-th allocation from xtfs failing, n = 1, 2, ... until one is not
# reached; SETUP (a function, or : for none) before each run, A's SAs and
# policies flushed after. A refused run must leave no SA of SPI ("-": not
# checked); one that came through must have made the SA of DST and SPI as
# asked: "xtfs state get" shows it with the text WANT ("-": no check). The
# last run, with nothing failing, must succeed.
inject() {
	local name=$1 spi=$2 dst=$3 want=$4 setup=$5 n=0 res rc bad=0
	local refused=0 passed=0
	shift 5
	while [ $n -lt 200 ]; do
		n=$((n + 1))
		$setup >/dev/null 2>&1
		res=$(py -n $A "$SELFTEST_DIR/failnth.py" $n "$TMP/fn.out" "$@")
		rc=$?
		if [ "$res" != fired ]; then
			[ $rc = 0 ] || { bad=1; diag "$name: fails with nothing injected: $(head -c 300 "$TMP/fn.out")"; }
			break
		fi
		if [ $rc = 0 ]; then
			passed=$((passed + 1))
			if [ "$want" != - ] &&
			   ! ip netns exec $A xtfs state get dst "$dst" proto esp \
				spi "$spi" 2>&1 | grep -q -- "$want"; then
				bad=1
				diag "$name: allocation $n failed, request came through, but the SA is not as asked ($want)"
			fi
		else
			refused=$((refused + 1))
			if [ "$spi" != - ] && [ "$(sa_count $A "$spi")" != 0 ]; then
				bad=1
				diag "$name: allocation $n failed, request refused, SA left: $(head -c 200 "$TMP/fn.out")"
			fi
		fi
		ip -n $A xfrm state flush
		ip -n $A xfrm policy flush
	done
	ip -n $A xfrm state flush
	diag "$name: $((n - 1)) allocations failed one at a time: $refused refused, $passed came through as asked"
	[ $bad = 0 ] && [ $n -gt 1 ] && [ $n -lt 200 ]
	ok $? "$name: each allocation from xtfs failed in turn, refused cleanly or absorbed, then made"
}

IN=(xtfs state add src $OB dst $OA proto esp spi $SPI_BA reqid 1 dir in
	mode iptfs aead "$AEAD" $KEY_BA $SA_ICV)
OUT=(xtfs state add src $OA dst $OB proto esp spi $SPI_AB reqid 1 dir out
	mode iptfs aead "$AEAD" $KEY_AB $SA_ICV)
inject "${NAMES[0]}" $SPI_BA $OA "drop-time 500000 reorder-window 1000" : \
	"${IN[@]}" reorder-window 1000 drop-time 500000
inject "${NAMES[1]}" $SPI_AB $OB "pkt-size 1000 init-delay 1000" : \
	"${OUT[@]}" pkt-size 1000 init-delay 1000
inject "${NAMES[2]}" $SPI_AB $OB "iiv aes-gcm-16" : "${OUT[@]}" iiv
inject "${NAMES[3]}" $SPI_BA $OA "iiv aes-gcm-16" : \
	"${IN[@]}" iiv replay-window 64
inject "${NAMES[4]}" $SPI_AB $OB "payload tunnel" : "${OUT[@]}" payload tunnel
# The SA to migrate, or to read the counters of, is made before each run.
out_sa() { ip netns exec $A "${OUT[@]}" pkt-size 1000; }
in_sa() { ip netns exec $A "${IN[@]}"; }
inject "${NAMES[5]}" - - - out_sa \
	python3 "$SELFTEST_DIR/xfrm_msg.py" migrate-state $OB $SPI_AB 192.0.2.9 $OA
inject "${NAMES[6]}" - - - in_sa xtfs -j stats show dst $OA spi $SPI_BA

# Nothing may hold the module now: no SA, no callback, no reference.
sa_flush
cleanup_ns
sleep 1
modprobe -r $MOD
ok $? "no SA left holding xtfs: the module unloads after the failures"
modprobe -q $MOD
echo 0 >$FS/require-start
echo 18446744073709551615 >$FS/require-end

kmemleak_check "after the failed requests"

tap_done
