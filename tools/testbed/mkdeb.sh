#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# mkdeb.sh - build the Debian packages xtfs-dkms and xtfs from this tree
# with dpkg-buildpackage inside the testbed rootfs (the host needs none of
# Debian's build tools) and put them in OUTDIR, by default dist/ in the
# tree (ignored by git). With --lintian, lintian then checks them: any
# error, warning or info tag that debian/*lintian-overrides does not
# explain fails the build.
#
# Usage: mkdeb.sh [--lintian] [OUTDIR]
set -euo pipefail
. "$(dirname "$0")/lib.sh"

LINTIAN=0
if [ "${1:-}" = --lintian ]; then
	LINTIAN=1
	shift
fi
OUT=${1:-$TOP/dist}
bdir=""

main() {
	local ver
	[ "$(id -u)" = 0 ] || die "must run as root"
	"$(dirname "$0")/mkrootfs.sh"
	ver=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"$/\1/p' "$TOP/dkms.conf")
	[ -n "$ver" ] || die "no PACKAGE_VERSION in dkms.conf"
	# A build directory of its own in the rootfs: builds may overlap
	# (lint beside a test run), and dpkg-buildpackage writes its
	# results next to the source directory.
	bdir=$(in_chroot "mkdir -p /var/lib/xtfs/deb && mktemp -d /var/lib/xtfs/deb/build.XXXXXX")
	trap '[ -z "$bdir" ] || rm -rf "${ROOTFS:?}$bdir"' EXIT
	# The tree without git's data and without anything git ignores
	# (objects of earlier builds, dist/ itself).
	in_chroot "set -e
		rsync -a --exclude .git --filter=':- .gitignore' /xtfs/ $bdir/xtfs-$ver/
		cd $bdir/xtfs-$ver
		DEB_BUILD_OPTIONS=noddebs dpkg-buildpackage -b -us -uc \
			>$bdir/build.log 2>&1 || { tail -n 40 $bdir/build.log; exit 1; }" >&2 ||
		die "dpkg-buildpackage failed"
	if [ $LINTIAN = 1 ]; then
		log "lintian $(in_chroot 'lintian --version')"
		# As an ordinary user, as lintian wants.
		in_chroot "chmod -R a+rX $bdir && cd $bdir &&
			runuser -u nobody -- lintian --display-info --pedantic \
			--fail-on error,warning,info xtfs_${ver}_*.changes" >&2 ||
			die "lintian found problems (above)"
	fi
	mkdir -p "$OUT"
	rm -f "$OUT"/xtfs-dkms_*.deb "$OUT"/xtfs_*.deb
	install -m 644 "$ROOTFS$bdir"/*.deb "$OUT/"
	log "packages in $OUT: $(cd "$OUT" && echo *.deb)"
}

main "$@"
