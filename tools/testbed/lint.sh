#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# lint.sh - checkpatch.pl --strict and sparse (C=2) over xtfs's kernel
# sources, inside the testbed (the kernel's own scripts, the stock
# headers). Any finding fails.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

"$(dirname "$0")/mkrootfs.sh"
rel=$(cd "$ROOTFS/lib/modules" && ls -d *-amd64 | sort -V | tail -n1)
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
	b=/var/lib/xtfs/lint-build
	rm -rf \$b && mkdir -p \$b
	rsync -a --exclude .git --exclude tools /xtfs/ \$b/
	out=\$(make -s -C /lib/modules/$rel/build M=\$b C=2 modules 2>&1 |
		grep -E 'warning|error' | grep -E 'xtfs' || true)
	if [ -n \"\$out\" ]; then echo \"\$out\"; fail=1; fi
	exit \${fail:-0}"
