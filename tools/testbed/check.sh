#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# check.sh - everything `make check` runs: lint (checkpatch, sparse), then
# every selftest and KUnit suite on the stock and on the debug kernel.
#
# XTFS_KERNELS="stock debug" picks kernels. For each, the suites run in
# one boot, then xtfs_interop in a second boot beside the peer guest (the
# debug kernel running the in-tree xfrm_iptfs) for the kernels named in
# XTFS_PEER_KERNELS (default: all of XTFS_KERNELS; empty skips interop).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

KERNELS=${XTFS_KERNELS:-"stock debug"}
PEER_KERNELS=${XTFS_PEER_KERNELS-$KERNELS}
LOGDIR=${XTFS_LOGDIR:-$XTFS_CACHE/logs}
mkdir -p "$LOGDIR"
pass=0 fail=0 skipped=0

# count_tap FILE - add up TAP results of every suite in a guest log.
count_tap() {
	local suite="" line p=0 f=0 s=0 dur
	while IFS= read -r line; do
		case $line in
		"=== suite "*)
			suite=${line#=== suite }
			p=0 f=0 s=0
			;;
		"=== end "*)
			dur=""
			case $line in *" s)") dur=" (${line##*(}" ;; esac
			printf '  %-16s %d passed, %d failed, %d skipped%s\n' \
				"$suite" "$p" "$f" "$s" "$dur"
			pass=$((pass + p)) fail=$((fail + f)) skipped=$((skipped + s))
			suite=""
			;;
		"not ok "*)
			[ -n "$suite" ] && f=$((f + 1))
			[ -n "$suite" ] && echo "    FAIL: $line"
			;;
		"ok "*"# SKIP"*)
			[ -n "$suite" ] && s=$((s + 1))
			;;
		"ok "*)
			[ -n "$suite" ] && p=$((p + 1))
			;;
		esac
	done <"$1"
	if [ -n "$suite" ]; then
		echo "  $suite: did not finish"
		fail=$((fail + 1))
	fi
}

echo "== lint"
if "$here/lint.sh" >"$LOGDIR/lint.log" 2>&1; then
	echo "  checkpatch --strict and sparse: clean"
	pass=$((pass + 1))
else
	echo "  checkpatch/sparse findings:"
	sed 's/^/    /' "$LOGDIR/lint.log" | tail -n 40
	fail=$((fail + 1))
fi

# judge LOG RC - count a guest run's TAP results and its failure modes.
judge() {
	count_tap "$1"
	if [ "$2" -eq 3 ]; then
		echo "  kernel reported a problem (WARN/KASAN/UBSAN/lockdep/kmemleak):"
		sed -n '/kernel reported a problem/,$p' "$1" | head -n 60 | sed 's/^/    /'
		fail=$((fail + 1))
	elif [ "$2" -eq 5 ] || ! grep -q '^=== suite' "$1"; then
		echo "  the guest did not run (rc=$2):"
		tail -n 30 "$1" | sed 's/^/    /'
		fail=$((fail + 1))
	else
		echo "  no kernel splat"
	fi
}

# guest_run TITLE LOG VM-RUN-ARGS... - one boot of vm-run.sh, judged.
guest_run() {
	local title=$1 log=$2 rc=0
	shift 2
	# Through a pipe: virtme-ng reopens its output by path, and on a
	# file that new descriptor (offset 0) overwrote the testbed's own
	# log lines (a rebooted peer guest went unreported that way).
	"$here/vm-run.sh" "$@" 2>&1 | cat >"$log"
	rc=${PIPESTATUS[0]}
	echo "== $title: $(sed -n 's/^kernel \(.*\)/\1/p' "$log" | head -n1)"
	judge "$log" $rc
}

for k in $KERNELS; do
	guest_run "kernel $k" "$LOGDIR/$k.log" "$k" /xtfs/selftests/run_all.sh
	case " $PEER_KERNELS " in
	*" $k "*)
		guest_run "kernel $k beside the in-tree module's guest" \
			"$LOGDIR/$k-interop.log" --peer "$k" \
			/xtfs/selftests/run_all.sh xtfs_interop
		;;
	*)
		echo "  xtfs_interop on $k: not run (XTFS_PEER_KERNELS leaves it out)"
		skipped=$((skipped + 1))
		;;
	esac
done

echo "$pass passed, $fail failed, $skipped skipped"
[ "$fail" -eq 0 ]
