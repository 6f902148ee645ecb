#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# mkkernel.sh [debug|lean] - build a testbed kernel from Debian's
# linux-source package.
#
# The kernel is the version of the stock trixie-backports image in the
# rootfs, configured as allnoconfig plus kconfig/base.config and the
# flavour's fragment (kconfig/debug.config: KASAN, UBSAN, lockdep,
# kmemleak for make check; kconfig/lean.config: no debug options, for make
# bench), and built out of tree inside the rootfs. Both flavours share one
# extracted source tree. A build whose stamp (source package version and
# fragment contents) matches is reused. Prints the build directory (as seen
# inside the rootfs) on stdout.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

KCONF_DIR=$(cd "$(dirname "$0")/kconfig" && pwd)

main() {
	[ "$(id -u)" = 0 ] || die "must run as root"
	"$(dirname "$0")/mkrootfs.sh"
	with_lock
	local flavour=${1:-debug} tarball srcver stamp out want frags
	case $flavour in
	debug | lean) ;;
	*) die "unknown kernel flavour '$flavour' (debug or lean)" ;;
	esac
	frags="$KCONF_DIR/base.config $KCONF_DIR/$flavour.config"
	tarball=$(cd "$ROOTFS/usr/src" && ls linux-source-*.tar.xz | sort -V | tail -n1)
	[ -n "$tarball" ] || die "no linux-source tarball in the rootfs"
	srcver=$(chroot "$ROOTFS" dpkg-query -W -f '${Version}' "${tarball%.tar.xz}")
	want=$( (echo "$srcver"; cat $frags) | sha256sum | cut -c1-16)
	out=/var/lib/xtfs/kernel-$flavour
	stamp="$ROOTFS$out/.xtfs-stamp"
	if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] &&
	   [ -f "$ROOTFS/boot/vmlinuz-$(cat "$ROOTFS$out/.xtfs-release")" ]; then
		echo "$out"
		exit 0
	fi
	# A build tree of the same source version is reused: a fragment
	# change then rebuilds only what the new configuration touches. The
	# source tree is extracted again only for a new source version (the
	# other flavour's build tree depends on its timestamps).
	local fresh=1 src=/var/lib/xtfs/src
	[ -f "$ROOTFS$out/.xtfs-srcver" ] &&
		[ "$(cat "$ROOTFS$out/.xtfs-srcver")" = "$srcver" ] && fresh=0
	log "building $flavour kernel from ${tarball%.tar.xz} $srcver" \
		"$([ $fresh = 1 ] && echo '(about 10-20 min on 2 cores)' || echo '(incremental)')"
	local kc=/var/lib/xtfs/kconfig/$flavour
	mkdir -p "$ROOTFS$kc"
	rm -f "$ROOTFS$kc/"*.config
	cp $frags "$ROOTFS$kc/"
	in_chroot "set -e
		# A tree extracted before the flavours had no version file:
		# the debug build tree's names it.
		[ -f $src/.xtfs-srcver ] || [ ! -f $src/Makefile ] ||
			cp /var/lib/xtfs/kernel-debug/.xtfs-srcver $src/ 2>/dev/null || true
		if [ \"\$(cat $src/.xtfs-srcver 2>/dev/null)\" != '$srcver' ]; then
			rm -rf $src && mkdir -p $src
			tar -C $src --strip-components=1 -xf /usr/src/$tarball
			echo '$srcver' >$src/.xtfs-srcver
		fi
		[ $fresh = 0 ] || { rm -rf $out && mkdir -p $out; }
		cd $src
		scripts/kconfig/merge_config.sh -n -O $out \
			$kc/base.config $kc/$flavour.config >/dev/null
		make -s O=$out olddefconfig
		for f in $kc/*.config; do
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
