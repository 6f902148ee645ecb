#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Churn under traffic: while UDP flows both ways through an IP-TFS SA pair
# (senders pinned to CPU 0 and CPU 1, datagrams of 10..1800 octets, some
# fragmented), the SAs are deleted and added again, rekeyed (new pair
# beside the old, old deleted), migrated to other outer addresses
# (XFRM_MSG_MIGRATE), their policies flushed and added again; every
# XTFS_CHURN_BATCH cycles either both namespaces are deleted under traffic
# and made again, or the module is unloaded (refused while SAs exist) and
# autoloaded again. XTFS_CHURN_CYCLES cycles (default 200), one churn
# operation each; the operations are chosen from XTFS_CHURN_SEED; after
# each, traffic is awaited up to XTFS_CHURN_WAIT (0.5) seconds, most of the
# cost of a cycle on the debug kernel (not a check; each batch checks that
# traffic flows after its last cycle).
# Checked: every netlink request accepted, every datagram delivered
# intact, traffic flowing after each batch, SAs of deleted namespaces
# freed, the module's reference count back to 0, a clean SA pair after
# the churn delivering a checked burst, no netdevice left waiting for its
# references, and on a kernel with kmemleak no unreferenced object; a
# splat fails the run (vm-run.sh).
. "$(dirname "$0")/lib.sh"

CHURN="$SELFTEST_DIR/xfrm_churn.py"
PCAP="$SELFTEST_DIR/pcap_esp.py"
CYCLES=${XTFS_CHURN_CYCLES:-200}
BATCH=${XTFS_CHURN_BATCH:-50}	# cycles per batch, the last one heavy
SEED=${XTFS_CHURN_SEED:-1}
WAIT=${XTFS_CHURN_WAIT:-0.5}	# seconds an operation may wait for traffic (not a check)
BOUND=60	# seconds SAs of deleted namespaces may take to be freed
# Second outer address pair, the target of migration (xfrm_churn.py).
OA4M=192.0.2.11
OB4M=192.0.2.12

loaded() { [ -d /sys/module/xfrm_xtfs ]; }
refcnt() { cat /sys/module/xfrm_xtfs/refcnt 2>/dev/null || echo 0; }

# refcnt_zero - wait (at most BOUND seconds) until no SA holds the module.
refcnt_zero() {
	for _ in $(seq $((BOUND * 5))); do
		[ "$(refcnt)" = 0 ] && return 0
		sleep 0.2
	done
	return 1
}

# unload - remove the module, trying for up to 5 s: a reference taken and
# dropped again (a module request of the stack, a reader of its files)
# may come between reading refcnt 0 and the removal.
unload() {
	for _ in $(seq 25); do
		modprobe -r xfrm_xtfs 2>/dev/null
		loaded || return 0
		sleep 0.2
	done
	return 1
}

# churn_setup - lib.sh's namespaces plus the second outer address pair.
churn_setup() {
	local ma mb
	setup_ns || return 1
	ip -n $A addr add $OA4M/24 dev veth-a &&
		ip -n $B addr add $OB4M/24 dev veth-b || return 1
	ma=$(ip -n $A -br link show veth-a | awk '{ print $3 }')
	mb=$(ip -n $B -br link show veth-b | awk '{ print $3 }')
	ip -n $A neigh replace $OB4M lladdr "$mb" dev veth-a nud permanent &&
		ip -n $B neigh replace $OA4M lladdr "$ma" dev veth-b nud permanent
}

# senders_start - one UDP sender each way, A's on CPU 0, B's on CPU 1.
_snd=()
senders_start() {
	rm -f "$TMP/stop"
	py -n $A "$CHURN" send $IB4 5001 0 $((SEED * 2)) "$TMP/stop" \
		>"$TMP/send-a" 2>&1 &
	_snd=($!)
	py -n $B "$CHURN" send $IA4 5002 1 $((SEED * 2 + 1)) "$TMP/stop" \
		>"$TMP/send-b" 2>&1 &
	_snd+=($!)
}

# senders_stop - stop both senders and wait for them.
senders_stop() {
	touch "$TMP/stop"
	wait "${_snd[@]}" 2>/dev/null
	_snd=()
}

tap_plan
modprobe -q esp4; modprobe -q xfrm_user
kmemleak_clear
waiting0=$(dmesg | grep -c "unregister_netdevice: waiting for")
churn_setup || { diag "namespace setup failed"; exit $KSFT_FAIL; }
diag "$(nproc) CPUs, $CYCLES cycles in batches of $BATCH, seed $SEED"

# XFRM_MSG_MIGRATE for a policy that does not exist: ENOENT where the
# kernel migrates, ENOPROTOOPT without CONFIG_XFRM_MIGRATE (then the churn
# has no migration, and says so with a skip).
OPS=readd,rekey,migrate,polflush
mig=$(py "$CHURN" probe-migrate $A)
if [ "$mig" = ENOPROTOOPT ]; then
	OPS=readd,rekey,polflush
	skip "kernel takes XFRM_MSG_MIGRATE" "CONFIG_XFRM_MIGRATE not set: no migration in the churn"
else
	[ "$mig" = ENOENT ]
	ok $? "kernel takes XFRM_MSG_MIGRATE ($mig for a policy that does not exist)"
fi

senders_start
t0=$(date +%s)
done=0 batch=0 heavy=0 nsdel=0 modrl=0
while [ $done -lt "$CYCLES" ]; do
	batch=$((batch + 1))
	n=$((BATCH - 1))
	[ $n -gt $((CYCLES - done)) ] && n=$((CYCLES - done))
	[ $n -lt 1 ] && n=1
	res=$(py "$CHURN" churn $A $B $n $done "$SEED" $WAIT $OPS 2>&1)
	rc=$?
	loaded
	ok $((rc | $?)) "batch $batch: $n cycles under traffic, xfrm_xtfs loaded: $res"
	done=$((done + n))
	[ $done -lt "$CYCLES" ] || break
	heavy=$((heavy + 1))
	done=$((done + 1))
	if [ $((heavy % 2)) = 1 ]; then
		# Both namespaces deleted while the senders still run in them
		# and the SAs hold queued packets; the namespaces go once the
		# senders stop. Their SAs must then be freed.
		nsdel=$((nsdel + 1))
		timeout 30 ip netns del $A && timeout 30 ip netns del $B
		r=$?
		senders_stop
		s=$SECONDS
		refcnt_zero
		ok $((r | $?)) "namespaces deleted under traffic ($nsdel): their SAs freed in $((SECONDS - s)) s (module refcnt $(refcnt))"
		churn_setup || { diag "namespace setup failed"; exit $KSFT_FAIL; }
		senders_start
	else
		# Module unload refused while SAs exist, done once they are
		# flushed (traffic still flowing); the next batch's first SA
		# autoloads it again.
		modrl=$((modrl + 1))
		! modprobe -r xfrm_xtfs 2>/dev/null && loaded
		ok $? "module unload refused while $(refcnt) SAs hold it ($modrl)"
		py "$CHURN" flush $A $B
		r=$?
		s=$SECONDS
		refcnt_zero && modprobe -r xfrm_xtfs && ! loaded
		ok $((r | $?)) "SAs flushed under traffic: refcnt 0 in $((SECONDS - s)) s, module unloaded ($modrl)"
	fi
done
elapsed=$(($(date +%s) - t0))
senders_stop
diag "$done cycles ($nsdel namespace deletions, $modrl module reloads) in $elapsed s, $((elapsed * 1000 / (done ? done : 1))) ms a cycle"
diag "senders: A $(cat "$TMP/send-a"), B $(cat "$TMP/send-b")"
[ $done -ge "$CYCLES" ]
ok $? "$done churn cycles done"

# A clean SA pair after the churn: a burst of mixed sizes, each checked.
sa_flush
sa_families 4 4
sa_pair pkt-size 1000 init-delay 2000 || diag "sa_pair failed"
udp_recv_start $B 5003 300 20 "$TMP/r" && rp=$udp_rpid
py -n $A "$PCAP" udp-mix $IB4 5003 300 20 1800 $((SEED + 7)) "$TMP/s" >/dev/null
wait "$rp"
cmp -s <(sort "$TMP/s") <(sort "$TMP/r")
ok $? "clean SA pair after the churn: $(wc -l <"$TMP/r") of 300 datagrams delivered, contents identical"
[ "$_nfail" -eq 0 ] || diag_path

# The module: unloads once the SAs are gone, loads and unloads again.
sa_flush
step=refcnt_zero
refcnt_zero && step=unload && unload && step=load &&
	modprobe xfrm_xtfs && loaded && step="refcnt after load" &&
	refcnt_zero && step=unload2 && unload
r=$?
if [ $r != 0 ]; then
	diag "failed at: $step (refcnt $(refcnt), holders: $(ls /sys/module/xfrm_xtfs/holders 2>/dev/null))"
	# Where an SA may still be: every namespace's SA count.
	for ns in "" $(ip netns list | awk '{ print $1 }'); do
		diag "namespace ${ns:-init}: $(ip ${ns:+-n "$ns"} xfrm state count 2>&1)"
	done
fi
ok $r "module refcnt back to 0, module unloads, reloads and unloads"

cleanup_ns
sleep 1
waiting=$(dmesg | grep -c "unregister_netdevice: waiting for")
[ "$waiting" = "$waiting0" ]
ok $? "no netdevice waiting for its references (unregister_netdevice: waiting for)"

kmemleak_check "after the churn"

tap_done
