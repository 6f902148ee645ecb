#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Staged settings (XTFS_CMD_SA_STAGE) from an unprivileged local user: on
# Debian any user may "unshare -Urn" and then holds CAP_NET_ADMIN in a
# network namespace of its own, which is all the "xtfs" family and xfrm
# netlink ask for. The store is per namespace, capped per namespace
# (XTFS_STAGE_MAX) and host-wide over the namespaces outside the initial
# user namespace, and charged to the caller's memory cgroup; closing the
# staging socket or ending the namespace frees its entries (kmemleak on
# the debug kernel checks that nothing stays).
. "$(dirname "$0")/lib.sh"

PER=256		# XTFS_STAGE_MAX (include/uapi/linux/xtfs.h)
HOST=4096	# XTFS_STAGE_HOST_MAX (net/xtfs_netlink.c)
PER_MSG="xfrm_xtfs: $PER SAs already have settings staged in this namespace"
HOST_MSG="xfrm_xtfs: host-wide cap: $HOST SAs already have settings staged in namespaces outside the initial user namespace"

tap_plan
modprobe -q esp4; modprobe -q xfrm_user
modprobe xfrm_xtfs || { diag "xtfs not loaded"; exit $KSFT_FAIL; }

# The guest may run the tests chrooted (tools/testbed/guest-run.sh
# chroots into a cached mount of its root), and the kernel refuses
# CLONE_NEWUSER in a chroot. unchroot then runs commands in a new mount
# namespace, made from that of PID 1, whose root mount is our root
# (pivot_root): the same files, and no chroot. ROOT_MP is where our root
# is mounted in PID 1's view, empty when we are not chrooted.
ROOT_MP=""
if [ "$(stat -L -c %d:%i /proc/1/root)" != "$(stat -c %d:%i /)" ]; then
	while read -r _ _ _ _ mp _; do
		if [ "$(stat -L -c %d:%i "/proc/1/root$mp" 2>/dev/null)" = \
		     "$(stat -c %d:%i /)" ]; then
			ROOT_MP=$mp
			break
		fi
	done </proc/1/mountinfo
fi

# unchroot CMD... - CMD as root, not chrooted (see ROOT_MP).
unchroot() {
	if [ -z "$ROOT_MP" ]; then
		"$@"
		return
	fi
	mkdir -p "$TMP/oldroot"
	nsenter -t 1 -m -- unshare -m --propagation private -- /bin/sh -c '
		cd "$1" && pivot_root . "${2#/}" && umount -l "$2" || exit 125
		cd "$3" && shift 3 && exec "$@"' \
		sh "$ROOT_MP" "$TMP/oldroot" "$PWD" "$@"
}

# as_user CMD... - CMD as user nobody in a new user and network namespace.
as_user() {
	unchroot setpriv --reuid=65534 --regid=65534 --clear-groups \
		unshare -Urn "$@"
}

if ! as_user true 2>"$TMP/unshare.err"; then
	diag "unprivileged unshare -Urn fails: $(cat "$TMP/unshare.err")"
	skip "unprivileged user namespaces" "not allowed on this kernel"
	tap_done
fi

# 1: the threat model is real. Unprivileged, in its own namespaces, a user
# stages implicit IV and creates an IP-TFS SA that takes it.
out=$(as_user sh -c "xtfs state add src $OA4 dst $OB4 proto esp spi 0x100 \
	reqid 1 mode iptfs dir out aead '$AEAD' $KEY_AB $SA_ICV iiv &&
	xtfs state get dst $OB4 proto esp spi 0x100" 2>&1)
diag "as nobody: $(echo "$out" | grep -E 'iptfs|xtfs:')"
echo "$out" | grep -q 'iiv aes-gcm-16'
ok $? "unprivileged user namespace: staged implicit IV, SA made with iiv"

# 2-9: the caps, from one Python process forking the namespaces.
unchroot python3 "$SELFTEST_DIR/xtfs_userns.py" caps $PER $HOST >"$TMP/caps" 2>&1
rc=$?
while read -r line; do diag "$line"; done <"$TMP/caps"
[ $rc = 0 ]
ok $? "staging helper ran (status $rc)"
fact() { awk -v k="$1" '$1 == k { sub(/^[^ ]* /, ""); print; exit }' "$TMP/caps"; }

[ "$(fact per-ns)" = "$PER ENOSPC|$PER_MSG" ]
ok $? "per-namespace cap: $PER staged, the next refused with its own message"
[ "$(fact reopen)" = "$PER ENOSPC|$PER_MSG" ]
ok $? "closing the staging socket frees its entries: $PER fit again"
[ "$(fact fill)" = $HOST ]
ok $? "$((HOST / PER)) unprivileged namespaces stage $HOST identities in all"
[ "$(fact over)" = "0 ENOSPC|$HOST_MSG" ]
ok $? "host-wide cap: one more namespace refused with its own message"
[ "$(fact host)" = "1 -" ]
ok $? "the initial namespace still stages at the host-wide cap"
[ "$(fact freed)" = "$PER -" ]
ok $? "a namespace that ends frees its entries: $PER fit elsewhere"

m=$(fact memcg)
mc=$(fact memcg-close)
if [ "$m" = none ]; then
	skip "staged entries charged to the memory cgroup" "no memory controller"
else
	# An entry is at least 64 octets (its slab object); a page of
	# per-CPU batching either way is noise.
	[ "$m" -ge $((PER * 64)) ] && [ "$mc" -le $((m / 2)) ]
	ok $? "staged entries charged to the caller's memory cgroup (+$m, $mc after close)"
fi

# 10: implicit-IV nonce rules (RFC 8750 section 7) from an unprivileged
# namespace: a second outbound SA under a key in use is refused, and so
# is migrating the SA (XFRM_MSG_MIGRATE_STATE), which would clone its key
# and counter.
key=0x5152535455565758595a5b5c5d5e5f6061626364
out=$(as_user sh -c "
	add() { xtfs state add src $OA4 dst $OB4 proto esp spi \$1 reqid 1 \
		mode iptfs dir out aead '$AEAD' $key $SA_ICV iiv; }
	add 0x100 || exit 1
	add 0x101 && exit 2
	python3 $SELFTEST_DIR/xfrm_msg.py migrate-state $OB4 0x100 $OB4 $OA4 && exit 3
	xtfs state get dst $OB4 proto esp spi 0x100 | grep -q 'iiv aes-gcm-16' || exit 4
	exit 0" 2>&1)
rc=$?
diag "as nobody: $(echo "$out" | tr '\n' ' ')"
[ $rc = 0 ] && echo "$out" | grep -q "another outbound SA sends under this key" &&
	echo "$out" | grep -q "Failed to clone"
ok $? "unprivileged: a second outbound SA under a key in use and the SA's migration refused (status $rc)"

tap_done
