#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# vm-run.sh - boot a testbed kernel with this tree's xtfs and run a command.
#
# Usage: vm-run.sh [--peer] [--private|--deb] [--name NAME] stock|debug|lean COMMAND...
#
# Makes the rootfs (and for "debug" and "lean" that kernel) when missing, builds
# the module and the helper for that kernel inside the rootfs, installs the
# module under /lib/modules/RELEASE/updates, unpacks the kernel's YNL
# client (ynl_src), makes the strongSwan root of xtfs_swan on first need
# (swan_root), boots the kernel under qemu (virtme-ng, TCG) and runs
# COMMAND in the guest with the tree at /xtfs.
#
# --peer also boots a second guest, the debug kernel running the kernel's
# in-tree xfrm_iptfs, linked to the first by one NIC each, for the interop
# suite (selftests/xtfs_interop.sh): the two modules serve the same xfrm
# mode and cannot share a kernel.
#
# --private boots the guest on a throw-away overlay of the rootfs (see
# private_root in vm-lib.sh): the guest may install and remove packages
# and modules (selftests/xtfs_deb.sh) without touching what other guests
# boot from. The guest sees XTFS_PRIVATE_ROOT=1.
#
# --deb is --private with the Debian packages built into dist/ (mkdeb.sh)
# and installed into that root before the guest boots, in a chroot
# (`selftests/xtfs_deb.sh --install RELEASE`: DKMS builds the module at
# native speed). The guest sees XTFS_DEB_INSTALLED=1 too, and
# selftests/run_all.sh then runs xtfs_deb first, which checks and removes
# them and puts the testbed's build back for the suites after it.
#
# Runs may overlap (check.sh boots several guests at once): each has its
# own run directory, /var/lib/xtfs/run/NAME in the rootfs (NAME defaults
# to the kernel kind, with "-interop" for --peer), and runs of one NAME
# are serialised.
#
# Each guest's kernel log is then checked: any WARN, BUG, oops, KASAN,
# UBSAN, lockdep or kmemleak report fails the run whatever COMMAND
# returned. Exit status: COMMAND's, or 3 for a splat, 5 for a guest that
# did not finish.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/vm-lib.sh"

PEER=0
PRIVATE=0
DEB=0
NAME=""
while [ $# -gt 0 ]; do
	case $1 in
	--peer) PEER=1 ;;
	--private) PRIVATE=1 ;;
	--deb) PRIVATE=1 DEB=1 ;;
	--name) NAME=${2:?--name needs a value}; shift ;;
	*) break ;;
	esac
	shift
done
USAGE="usage: vm-run.sh [--peer] [--private|--deb] [--name NAME] stock|debug|lean COMMAND..."
KIND=${1:?$USAGE}
shift
[ $# -gt 0 ] || die "$USAGE"
if [ -z "$NAME" ]; then
	NAME=$KIND
	[ $PEER = 0 ] || NAME=$KIND-interop
fi
RUNDIR=/var/lib/xtfs/run/$NAME
PEER_RUNDIR=/var/lib/xtfs/run/peer-$NAME

main() {
	[ "$(id -u)" = 0 ] || die "must run as root"
	"$(dirname "$0")/mkrootfs.sh"
	local k rel image prel pimage rc=0 r=0
	k=$(kernel_for "$KIND")
	read -r rel image <<<"$k"
	if [ $PEER = 1 ]; then
		k=$(kernel_for debug)
		read -r prel pimage <<<"$k"
	fi
	with_lock "run-$NAME"
	build_for "$rel" || exit 1
	ynl_src || exit 1
	swan_root || log "no strongSwan root: xtfs_swan will fail"
	if [ $DEB = 1 ]; then
		"$(dirname "$0")/mkdeb.sh" || exit 1
	fi
	if [ $PRIVATE = 1 ]; then
		trap 'private_root_end "$RUNDIR"' EXIT
		private_root "$NAME"
		XTFS_GUEST_ENV="XTFS_PRIVATE_ROOT=1 ${XTFS_GUEST_ENV:-}"
	fi
	if [ $DEB = 1 ]; then
		local t0=$SECONDS
		# Under build_for's lock: it copies that build into the root.
		# Its failures are the guest's to report (xtfs_deb).
		(
			flock 8
			in_chroot "$CHROOT_TOP/selftests/xtfs_deb.sh --install $rel" 2>&1 |
				sed 's/^/[testbed] xtfs_deb --install: /' >&2
		) 8>"$XTFS_CACHE/.lock-build-$rel" || true
		log "$(date +%T) xtfs_deb --install done ($((SECONDS - t0)) s)"
		XTFS_GUEST_ENV="XTFS_DEB_INSTALLED=1 ${XTFS_GUEST_ENV:-}"
	fi
	if [ $PEER = 1 ]; then
		log "$(date +%T) booting $KIND kernel $rel, peer: in-tree xfrm_iptfs on $prel"
		boot_with_peer "$KIND" "$image" "$RUNDIR" "$pimage" "$PEER_RUNDIR" "$@" || rc=$?
	else
		log "$(date +%T) booting $KIND kernel $rel"
		boot_vm "$KIND" "$image" "$RUNDIR" 2 "" "$@" || rc=$?
	fi
	log "$(date +%T) guest finished"
	[ $rc -eq 0 ] || log "vng exited with $rc"
	if [ $PEER = 1 ]; then
		# The peer's own status is its command server's: only a splat
		# or an unfinished guest counts against the run.
		check_run "$PEER_RUNDIR" "peer (in-tree xfrm_iptfs, $prel)" || r=$?
		case $r in
		3 | 5) ;;
		*) r=0 ;;
		esac
	fi
	rc=0
	check_run "$RUNDIR" "$KIND $rel" || rc=$?
	if [ $rc -eq 5 ] && [ -f "$ROOTFS$RUNDIR/console.txt" ]; then
		tail -n 50 "$ROOTFS$RUNDIR/console.txt" >&2
	fi
	[ $rc -ne 0 ] || rc=$r
	exit "$rc"
}

main "$@"
