#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# mkkernel.sh - build the debug kernel from Debian's linux-source package.
#
# The kernel is the version of the stock trixie-backports image in the
# rootfs, configured as allnoconfig plus the fragments in kconfig/, and
# built out of tree inside the rootfs. A build whose stamp (source package
# version and fragment contents) matches is reused. Prints the build
# directory (as seen inside the rootfs) on stdout.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

KCONF_DIR=$(cd "$(dirname "$0")/kconfig" && pwd)

main() {
	[ "$(id -u)" = 0 ] || die "must run as root"
	"$(dirname "$0")/mkrootfs.sh"
	with_lock
	local tarball srcver stamp out want
	tarball=$(cd "$ROOTFS/usr/src" && ls linux-source-*.tar.xz | sort -V | tail -n1)
	[ -n "$tarball" ] || die "no linux-source tarball in the rootfs"
	srcver=$(chroot "$ROOTFS" dpkg-query -W -f '${Version}' "${tarball%.tar.xz}")
	want=$( (echo "$srcver"; cat "$KCONF_DIR"/*.config) | sha256sum | cut -c1-16)
	out=/var/lib/xtfs/kernel-debug
	stamp="$ROOTFS$out/.xtfs-stamp"
	if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] &&
	   [ -f "$ROOTFS/boot/vmlinuz-$(cat "$ROOTFS$out/.xtfs-release")" ]; then
		echo "$out"
		exit 0
	fi
	# A tree of the same source version is reused: a fragment change then
	# rebuilds only what the new configuration touches.
	local fresh=1
	[ -f "$ROOTFS$out/.xtfs-srcver" ] &&
		[ "$(cat "$ROOTFS$out/.xtfs-srcver")" = "$srcver" ] && fresh=0
	log "building debug kernel from ${tarball%.tar.xz} $srcver" \
		"$([ $fresh = 1 ] && echo '(about 20 min on 2 cores)' || echo '(incremental)')"
	mkdir -p "$ROOTFS/var/lib/xtfs/kconfig"
	rm -f "$ROOTFS/var/lib/xtfs/kconfig/"*.config
	cp "$KCONF_DIR"/*.config "$ROOTFS/var/lib/xtfs/kconfig/"
	in_chroot "set -e
		src=/var/lib/xtfs/src
		if [ $fresh = 1 ]; then
			rm -rf \$src $out && mkdir -p \$src $out
			tar -C \$src --strip-components=1 -xf /usr/src/$tarball
		fi
		cd \$src
		scripts/kconfig/merge_config.sh -n -O $out \
			/var/lib/xtfs/kconfig/base.config /var/lib/xtfs/kconfig/debug.config >/dev/null
		make -s O=$out olddefconfig
		for f in /var/lib/xtfs/kconfig/*.config; do
			grep '^CONFIG_' \$f | while read -r l; do
				grep -qx \"\$l\" $out/.config ||
					echo \"warning: \$l not in the final config\" >&2
			done
		done
		make -s -j\$(nproc) O=$out bzImage modules
		make -s O=$out modules_install >/dev/null
		make -s O=$out kernelrelease >$out/.xtfs-release
		echo '$srcver' >$out/.xtfs-srcver
		# Booted from /boot, virtme-ng uses /lib/modules/RELEASE like
		# the stock kernel's (from the build tree it would make its own).
		cp $out/arch/x86/boot/bzImage /boot/vmlinuz-\$(cat $out/.xtfs-release)"
	echo "$want" >"$stamp"
	echo "$out"
}

main "$@"
