#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# vm-run.sh - boot a testbed kernel with this tree's xtfs and run a command.
#
# Usage: vm-run.sh stock|debug COMMAND...
#
# Makes the rootfs (and for "debug" the debug kernel) when missing, builds
# the module and the helper for that kernel inside the rootfs, installs the
# module under /lib/modules/RELEASE/updates, boots the kernel under qemu
# (virtme-ng, TCG) and runs COMMAND in the guest with the tree at /xtfs.
# The guest's kernel log is then checked: any WARN, BUG, oops, KASAN,
# UBSAN, lockdep or kmemleak report fails the run whatever COMMAND
# returned. Exit status: COMMAND's, or 3 for a splat, 5 for a boot failure.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

KIND=${1:?usage: vm-run.sh stock|debug COMMAND...}
shift
[ $# -gt 0 ] || die "usage: vm-run.sh stock|debug COMMAND..."
RUNDIR=/var/lib/xtfs/run/$KIND
VM_TIMEOUT=${XTFS_VM_TIMEOUT:-3000}

# Kernel log lines that fail a run.
SPLAT_RE='WARNING:|BUG:|Oops|general protection fault|KASAN|UBSAN|'
SPLAT_RE+='possible circular locking|possible recursive locking|'
SPLAT_RE+='inconsistent lock state|suspicious RCU usage|'
SPLAT_RE+='unreferenced object|kmemleak: .*new suspected memory leak|'
SPLAT_RE+='Kernel panic|ODEBUG:|list_add corruption|list_del corruption|'
SPLAT_RE+='scheduling while atomic|sleeping function called from invalid'

kernel_for() {
	case $1 in
	stock)
		local rel
		rel=$(cd "$ROOTFS/lib/modules" && ls -d *-amd64 | sort -V | tail -n1)
		[ -n "$rel" ] || die "no stock kernel in the rootfs"
		echo "$rel /boot/vmlinuz-$rel"
		;;
	debug)
		local out
		out=$("$(dirname "$0")/mkkernel.sh")
		local rel
		rel=$(cat "$ROOTFS$out/.xtfs-release")
		echo "$rel /boot/vmlinuz-$rel"
		;;
	*) die "unknown kernel kind '$1' (stock or debug)" ;;
	esac
}

main() {
	[ "$(id -u)" = 0 ] || die "must run as root"
	"$(dirname "$0")/mkrootfs.sh"
	local rel image
	read -r rel image < <(kernel_for "$KIND")
	with_lock run
	local bdir=/var/lib/xtfs/build/$rel
	in_chroot "set -e
		mkdir -p $bdir
		rsync -a --delete --exclude .git --exclude 'tools/xtfs/xtfs' /xtfs/ $bdir/
		make -s -C /lib/modules/$rel/build M=$bdir modules >$bdir/build.log 2>&1 ||
			{ cat $bdir/build.log; exit 1; }
		# Only this build: drop copies left by other installs (make install).
		find /lib/modules/$rel -name 'xfrm_xtfs.ko*' -delete
		find /lib/modules/$rel -name 'xtfs_test.ko*' -delete
		install -D -m 644 $bdir/xfrm_xtfs.ko /lib/modules/$rel/updates/xtfs/xfrm_xtfs.ko
		if [ -f $bdir/xtfs_test.ko ]; then
			install -D -m 644 $bdir/xtfs_test.ko /lib/modules/$rel/updates/xtfs/xtfs_test.ko
		fi
		depmod -a $rel
		make -s -C $bdir/tools/xtfs >/dev/null
		install -m 755 $bdir/tools/xtfs/xtfs /usr/local/sbin/xtfs
		rm -rf $RUNDIR && mkdir -p $RUNDIR" >&2 || { echo "build for $rel failed" >&2; exit 1; }
	log "booting $KIND kernel $rel"
	local cmd rc=0
	cmd=$(printf '%q ' "$@")
	# No stdin: vng would otherwise wait on a terminal that CI lacks.
	in_chroot "cd /xtfs && timeout $VM_TIMEOUT vng --run $image --disable-kvm \
		--cpus 2 --memory 2G --rw \
		--exec 'XTFS_RUNDIR=$RUNDIR XTFS_KERNEL=$KIND /xtfs/tools/testbed/guest-run.sh $cmd' \
		</dev/null" || rc=$?
	local out=$ROOTFS$RUNDIR
	if [ ! -f "$out/dmesg.txt" ]; then
		log "guest did not finish (rc=$rc): no kernel log saved"
		[ -f "$out/console.txt" ] && tail -n 50 "$out/console.txt" >&2
		exit 5
	fi
	if grep -Eq "$SPLAT_RE" "$out/dmesg.txt" "$out/kmemleak.txt" 2>/dev/null; then
		log "kernel reported a problem during the run ($KIND $rel):"
		grep -E -A25 "$SPLAT_RE" "$out/dmesg.txt" "$out/kmemleak.txt" 2>/dev/null |
			head -n 120 >&2
		echo "splat: 1"
		exit 3
	fi
	rc=$(cat "$out/rc" 2>/dev/null || echo 5)
	exit "$rc"
}

main "$@"
