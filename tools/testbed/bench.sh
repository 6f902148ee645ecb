#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# bench.sh [ROUNDS] - make bench: xtfs against the kernel's in-tree
# xfrm_iptfs and tunnel-mode ESP, on the lean testbed kernel (built and
# cached like the debug kernel, mkkernel.sh lean), ROUNDS rounds (3).
#
# Under qemu TCG absolute figures mean little: every figure is compared
# with the same workload's on the other systems, in the same round, on
# the same kernel in the same guest (tools/bench/bench-guest.sh). Prints
# the table of tools/bench/report.py (min/median/max of each ratio over
# the rounds) and leaves the raw figures and the plot under the cache:
# $XTFS_CACHE/bench/bench-DATE.csv and .png, and bench.csv, bench.png,
# bench.txt for the last run. BENCH_SYSTEMS, BENCH_SECS and BENCH_IDLE_MS
# go to the guest (see bench-guest.sh).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

ROUNDS=${1:-3}
BDIR=/var/lib/xtfs/bench

main() {
	[ "$(id -u)" = 0 ] || die "must run as root"
	"$(dirname "$0")/mkrootfs.sh"
	"$(dirname "$0")/mkkernel.sh" lean >/dev/null
	(
		with_lock
		# The plot's only user: not in the rootfs of make check.
		in_chroot "python3 -c 'import matplotlib' 2>/dev/null ||
			apt-get install -y -qq --no-install-recommends python3-matplotlib >/dev/null"
	)
	in_chroot "mkdir -p $BDIR && gcc -O2 -Wall -Werror -o $BDIR/udpbench \
		$CHROOT_TOP/tools/bench/udpbench.c"
	local t0=$SECONDS stamp v
	for v in BENCH_SYSTEMS BENCH_SECS BENCH_IDLE_MS; do
		[ -z "${!v:-}" ] || XTFS_GUEST_ENV+=" $v=$(printf %q "${!v}")"
	done
	export XTFS_GUEST_ENV
	"$(dirname "$0")/vm-run.sh" --name bench lean \
		/xtfs/tools/bench/bench-guest.sh $BDIR/raw.csv "$ROUNDS"
	log "guest done in $((SECONDS - t0)) s"
	stamp=$(date +%Y%m%d-%H%M%S)
	mkdir -p "$XTFS_CACHE/bench"
	cp "$ROOTFS$BDIR/raw.csv" "$XTFS_CACHE/bench/bench-$stamp.csv"
	in_chroot "python3 $CHROOT_TOP/tools/bench/report.py $BDIR/raw.csv $BDIR/bench.png" |
		tee "$XTFS_CACHE/bench/bench.txt"
	cp "$ROOTFS$BDIR/bench.png" "$XTFS_CACHE/bench/bench-$stamp.png"
	cp "$ROOTFS$BDIR/raw.csv" "$XTFS_CACHE/bench/bench.csv"
	cp "$ROOTFS$BDIR/bench.png" "$XTFS_CACHE/bench/bench.png"
	log "raw figures: $XTFS_CACHE/bench/bench-$stamp.csv, plot: $XTFS_CACHE/bench/bench-$stamp.png"
}

main "$@"
