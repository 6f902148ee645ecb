#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Run the KUnit suites (module xtfs_test) and re-emit their results as TAP.
# Kernels without KUnit (Debian's stock build) skip.
. "$(dirname "$0")/lib.sh"

if ! modinfo xtfs_test >/dev/null 2>&1; then
	tap_plan
	skip "KUnit suites" "kernel built without CONFIG_KUNIT"
	tap_done
fi

SUITES="xtfs_aggfrag xtfs_iiv xtfs_core"
modprobe xtfs_test
# KTAP: subtests are indented "    ok N name" / "    not ok N name".
# Only the last run of the suites counts (the log is kept for splat
# checks): from the last header of the first suite on.
first=${SUITES%% *}
dmesg | sed -n 's/^\[[ 0-9.]*\] //p' |
	awk -v s="# Subtest: $first" '$0 ~ s"$" { buf = "" } { buf = buf $0 "\n" } END { printf "%s", buf }' \
	>"$TMP/ktap"
grep -E '^    (not )?ok [0-9]+ ' "$TMP/ktap" >"$TMP/cases"
n=$(wc -l <"$TMP/cases")
missing=""
for s in $SUITES; do
	grep -q "# Subtest: $s\$" "$TMP/ktap" || missing="$missing $s"
done
if [ "$n" -eq 0 ] || [ -n "$missing" ]; then
	tap_plan
	ok 1 "KUnit suites $SUITES produced results (missing:${missing:- none})"
	sed 's/^/# /' "$TMP/ktap" | tail -n 20
	modprobe -r xtfs_test
	tap_done
fi
tap_plan
while read -r line; do
	name=$(echo "$line" | sed -E 's/^(not )?ok [0-9]+ //')
	case $line in
	"not ok"*)
		ok 1 "kunit $name"
		# The case's own log: everything since the previous result
		# (failed expectations, and the parameters of a parametrised
		# case).
		awk -v name="$name" '
			/^    (not )?ok [0-9]+ / {
				if (substr($0, length($0) - length(name)) == " " name) {
					printf "%s", buf; print; exit
				}
				buf = ""; next
			}
			{ buf = buf $0 "\n" }' "$TMP/ktap" | head -n 80 | sed 's/^/# /'
		;;
	*) ok 0 "kunit $name" ;;
	esac
done <"$TMP/cases"
modprobe -r xtfs_test
tap_done
