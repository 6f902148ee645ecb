#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# lint.sh - checkpatch.pl --strict and sparse (C=2) over xtfs's kernel
# sources, inside the testbed (the kernel's own scripts, the stock
# headers), the YNL netlink spec checked against the kernel's schema and
# our uAPI header (ynl-check.py), the implicit-IV known-answer vectors
# checked against their generator and scapy (gen-iiv-kat.py), the Diet-ESP
# ones against theirs (diet_esp.py kat, iipc.py kat), and the
# selftests' scapy-based implicit-IV ESP checker checking itself offline
# (selftests/esp_iiv.py selftest) and its Diet-ESP one (selftests/diet_esp.py
# selftest), and lintian over the Debian packages (mkdeb.sh --lintian,
# built apart from dist/, which a test run beside may be installing
# from). Any finding fails.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

"$(dirname "$0")/mkrootfs.sh"
# Sparse needs a full kernel tree (Debian's header package lacks
# scripts/checker-valid.sh, and kbuild then skips C=2 silently): use the
# debug kernel's, which also builds the KUnit suite. trixie's sparse 0.6.4
# needs sparse-wrap.sh for __typeof_unqual__, and reports every MODULE_*()
# line of every module (in-tree ones too) as "bad constant expression":
# those, and only those, are dropped.
kout=$("$(dirname "$0")/mkkernel.sh")
# One lint at a time: the sparse build directory is shared.
with_lock lint
deb_rc=0
"$(dirname "$0")/mkdeb.sh" --lintian "$XTFS_CACHE/lint-deb" || deb_rc=1
in_chroot "set -e
	src=/var/lib/xtfs/src
	[ -x \$src/scripts/checkpatch.pl ] || {
		mkdir -p \$src
		tar -C \$src --strip-components=1 -xf \$(ls /usr/src/linux-source-*.tar.xz | sort -V | tail -n1)
	}
	cd /xtfs
	files=\$(ls net/*.c net/*.h include/uapi/linux/*.h)
	out=\$(\$src/scripts/checkpatch.pl --strict --no-tree --terse \
		--ignore FILE_PATH_CHANGES,SPDX_LICENSE_TAG -f \$files 2>&1 |
		grep -v '^total:' || true)
	if [ -n \"\$out\" ]; then echo \"\$out\"; fail=1; fi
	# The KUnit known-answer vectors: made by the script, and opened and
	# made again by scapy's ESP.
	python3 tools/testbed/gen-iiv-kat.py --check net/xtfs_iiv_kat.h || fail=1
	# The Diet-ESP vectors (whole packets, IIPC): what their generators,
	# the selftests' own implementations, make now.
	python3 selftests/diet_esp.py kat | cmp -s - net/xtfs_diet_kat.h ||
		{ fail=1; echo 'net/xtfs_diet_kat.h: not what \"selftests/diet_esp.py kat\" makes'; }
	python3 selftests/iipc.py kat | cmp -s - net/xtfs_iipc_kat.h ||
		{ fail=1; echo 'net/xtfs_iipc_kat.h: not what \"selftests/iipc.py kat\" makes'; }
	# The selftests' own RFC 8750 ESP, scapy's, against those vectors and
	# itself (its TAP output only when something fails).
	out=\$(python3 selftests/esp_iiv.py selftest 2>&1) ||
		{ fail=1; echo \"\$out\" | grep -v '^ok ' || true; }
	# The independent Diet-ESP (python3-cryptography) against itself,
	# esp_iiv.py's packets and the same vectors.
	out=\$(python3 selftests/diet_esp.py selftest 2>&1) ||
		{ fail=1; echo \"\$out\" | grep -v '^ok ' || true; }
	for spec in Documentation/netlink/specs/*.yaml; do
		python3 tools/testbed/ynl-check.py \$src \$spec include/uapi || fail=1
	done
	b=/var/lib/xtfs/lint-build
	rm -rf \$b && mkdir -p \$b
	rsync -a --exclude .git --exclude tools /xtfs/ \$b/
	make -C $kout M=\$b C=2 CHECK=/xtfs/tools/testbed/sparse-wrap.sh \
		modules >\$b/sparse.log 2>&1 || fail=1
	if ! grep -q ' CHECK ' \$b/sparse.log; then
		echo 'sparse did not run:'; tail -n 5 \$b/sparse.log; fail=1
	fi
	out=\$(grep -E 'warning|error' \$b/sparse.log | grep -E 'xtfs' |
		while IFS=: read -r f l rest; do
			case \$rest in
			*'bad constant expression'*)
				sed -n \"\${l}p\" \$b/\$f | grep -q '^MODULE_' && continue ;;
			esac
			echo \"\$f:\$l:\$rest\"
		done || true)
	if [ -n \"\$out\" ]; then echo \"\$out\"; fail=1; fi
	exit \${fail:-0}" && [ $deb_rc = 0 ]
