# SPDX-License-Identifier: GPL-2.0
# Common helpers for the xtfs testbed scripts. Source, do not execute.
#
# The testbed is a Debian trixie root filesystem (with trixie-backports)
# cached outside the tree. Everything that needs a >= 6.14 kernel, its
# headers or its toolchain runs inside it: builds in a chroot, tests in a
# qemu guest booted from inside the chroot.

XTFS_CACHE=${XTFS_CACHE:-/var/cache/xtfs}
ROOTFS=${XTFS_ROOTFS:-$XTFS_CACHE/rootfs}
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# Where the tree appears inside the chroot.
CHROOT_TOP=/xtfs

log() { printf '[testbed] %s\n' "$*" >&2; }
die() { printf '[testbed] error: %s\n' "$*" >&2; exit 1; }

# debian_mirror - print the Debian archive URI this host's apt uses.
# The address is read at run time so that none is written into the tree.
debian_mirror() {
	local uri
	uri=$(awk '/^URIs:/ && $2 !~ /security/ { print $2; exit }' \
		/etc/apt/sources.list.d/*.sources 2>/dev/null)
	if [ -z "$uri" ]; then
		uri=$(awk '/^deb / && $0 !~ /security/ { for (i = 2; i <= NF; i++)
			if ($i ~ /^[a-z]+:\/\//) { print $i; exit } }' \
			/etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null)
	fi
	[ -n "$uri" ] || die "no Debian archive found in the host's apt configuration"
	printf '%s\n' "$uri"
}

# in_chroot CMD... - run a shell command inside the rootfs, tree at /xtfs.
# Each call gets a private mount namespace holding /proc, /sys, /dev and
# the tree, so nothing stays mounted afterwards and concurrent calls (a
# kernel build beside a test run) do not disturb each other.
in_chroot() {
	mkdir -p "$ROOTFS$CHROOT_TOP"
	unshare --mount --propagation private /bin/bash -c '
		set -e
		r=$1; shift
		mount -t proc proc "$r/proc"
		mount -t sysfs sys "$r/sys"
		mount --rbind /dev "$r/dev"
		mount -t devpts -o newinstance,ptmxmode=666 devpts "$r/dev/pts"
		mount --bind "$2" "$r$1"
		exec chroot "$r" /usr/bin/env -i \
			HOME=/root TERM=dumb LANG=C.UTF-8 \
			PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
			DEBIAN_FRONTEND=noninteractive /bin/bash -c "$3"
	' in_chroot "$ROOTFS" "$CHROOT_TOP" "$TOP" "$*"
}

# with_lock - serialise testbed changes across concurrent runs.
with_lock() {
	mkdir -p "$XTFS_CACHE"
	exec 9>"$XTFS_CACHE/.lock${1:+-$1}"
	flock 9
}
