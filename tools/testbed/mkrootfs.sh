#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# mkrootfs.sh - create or refresh the Debian trixie testbed root filesystem.
#
# Idempotent: a complete rootfs whose stamp matches this script's package
# list is left alone; a missing one is made with debootstrap; a stale one
# gets the missing packages installed. Runs as root on the host.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

SUITE=trixie
# Packages from trixie. Keep sorted; the stamp changes when this list does.
# build-essential, debhelper, dh-dkms and lintian build and check the
# Debian packages (make deb); dkms is what they install with in the guest.
# debootstrap makes the Debian sid root that selftests/xtfs_swan.sh runs
# strongSwan from (swan_root in vm-lib.sh).
# tshark runs the AGGFRAG dissector (tools/wireshark/) over captures; its
# debconf question (may non-root users capture) keeps its default, no, as
# everything here installs with DEBIAN_FRONTEND=noninteractive.
PKGS="bc binutils bison build-essential busybox-static ca-certificates cpio
debhelper debootstrap dh-dkms dkms ethtool flex gcc git iperf3 iproute2 iputils-ping kmod
libc6-dev libelf-dev libmnl-dev libssl-dev lintian make netcat-openbsd perl
pkg-config procps python3 python3-cryptography python3-jsonschema
python3-scapy python3-yaml qemu-system-x86 rsync socat sparse tcpdump tshark
util-linux virtme-ng xz-utils"
# Kernel packages from trixie-backports: the stock kernel, its headers and
# the source the debug kernel is built from (same version).
BPO_PKGS="linux-image-amd64 linux-headers-amd64"

stamp_want() {
	printf '%s\n%s\n%s\n' "$SUITE" "$PKGS" "$BPO_PKGS" | sha256sum | cut -c1-16
}

host_prereqs() {
	command -v debootstrap >/dev/null && return 0
	log "installing debootstrap on the host"
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
}

bootstrap() {
	local mirror
	mirror=$(debian_mirror)
	log "debootstrap $SUITE into $ROOTFS"
	rm -rf "$ROOTFS.new"
	debootstrap --variant=minbase "$SUITE" "$ROOTFS.new" "$mirror" >/dev/null
	cat >"$ROOTFS.new/etc/apt/sources.list" <<EOF
deb $mirror $SUITE main
deb $mirror $SUITE-updates main
deb $mirror $SUITE-backports main
EOF
	echo xtfs-testbed >"$ROOTFS.new/etc/hostname"
	# As documented for routers: the kernel's request for "xfrm-iptfs"
	# must reach xtfs, not the in-tree module of the same name (modprobe
	# treats - and _ alike and prefers a module name to an alias, unless
	# an alias from its configuration says otherwise).
	mkdir -p "$ROOTFS.new/etc/modprobe.d"
	printf 'alias xfrm-iptfs xfrm_xtfs\nblacklist xfrm_iptfs\n' \
		>"$ROOTFS.new/etc/modprobe.d/xtfs.conf"
	mv "$ROOTFS.new" "$ROOTFS"
}

install_pkgs() {
	log "installing packages into the rootfs"
	in_chroot "apt-get update -qq &&
		apt-get install -y -qq --no-install-recommends $(echo $PKGS) >/dev/null"
	in_chroot "apt-get install -y -qq --no-install-recommends \
		-t $SUITE-backports $BPO_PKGS >/dev/null 2>&1" || true
	# The image's initramfs hook fails in a chroot; the packages are
	# unpacked all the same. Check what matters explicitly.
	in_chroot "dpkg --configure -a >/dev/null 2>&1 || true"
	local ver
	# The stock kernel: the debug kernel (mkkernel.sh) installs its modules
	# beside it, without a header package.
	ver=$(in_chroot "ls /lib/modules | grep -- -amd64\$ | sort -V | tail -n1")
	[ -n "$ver" ] || die "no kernel image installed in the rootfs"
	[ -d "$ROOTFS/usr/src/linux-headers-$ver" ] ||
		die "headers for $ver missing in the rootfs"
	local srcpkg
	srcpkg="linux-source-$(echo "$ver" | cut -d. -f1-2)"
	in_chroot "apt-get install -y -qq --no-install-recommends -t $SUITE-backports $srcpkg >/dev/null"
	in_chroot "command -v vng && command -v sparse && command -v qemu-system-x86_64" >/dev/null ||
		die "rootfs lacks vng, sparse or qemu"
}
# guest_tweaks - make the guest boot quickly. virtme-init runs a udev
# coldplug when it finds udevd (the kernel image pulls udev in through
# dracut): on the debug kernel under TCG that took 170 of the 260 s from
# kernel start to the test command. udevd and udevadm are diverted and
# replaced by the stand-ins in guest/, which do only what the guest needs
# of udev; so is systemd-tmpfiles, which virtme-init also runs at every
# boot (half a minute on the stock kernel under TCG). Idempotent and cheap: done on every call, so a cached rootfs
# gets it too.
guest_tweaks() {
	local f
	for f in /usr/lib/systemd/systemd-udevd /usr/bin/udevadm \
		 /usr/bin/systemd-tmpfiles; do
		in_chroot "dpkg-divert --list $f | grep -q . ||
			dpkg-divert --quiet --local --rename --divert $f.xtfs-off --add $f"
	done
	install -m 755 "$TOP/tools/testbed/guest/udevd" "$ROOTFS/usr/lib/systemd/systemd-udevd"
	install -m 755 "$TOP/tools/testbed/guest/udevadm" "$ROOTFS/usr/bin/udevadm"
	install -m 755 "$TOP/tools/testbed/guest/systemd-tmpfiles" "$ROOTFS/usr/bin/systemd-tmpfiles"
}

main() {
	[ "$(id -u)" = 0 ] || die "must run as root"
	with_lock
	local want
	want=$(stamp_want)
	# Every package set installed so far is recorded: trees whose lists
	# differ (branches, older checkouts) do not reinstall back and forth.
	if grep -qx "$want" "$ROOTFS/.xtfs-stamp" 2>/dev/null; then
		guest_tweaks
		exit 0
	fi
	host_prereqs
	[ -x "$ROOTFS/bin/bash" ] || bootstrap
	install_pkgs
	guest_tweaks
	echo "$want" >>"$ROOTFS/.xtfs-stamp"
	log "rootfs ready: $(in_chroot 'ls /lib/modules' | tr '\n' ' ')"
}

main "$@"
