#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# sparse-wrap.sh - run Debian trixie's sparse (0.6.4) on a Linux >= 6.x tree.
# That release predates __typeof_unqual__, which kbuild's checker probe and
# the kernel's headers use; spelled as __typeof__ sparse parses them.
exec sparse -D'__typeof_unqual__(x)=__typeof__(x)' "$@"
