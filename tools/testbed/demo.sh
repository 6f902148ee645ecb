#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# demo.sh - xtfs at work: boot the stock Debian kernel in the testbed,
# let the first IP-TFS SA load xtfs, send traffic through the tunnel and
# show what went in and what came out on the wire.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
exec "$here/vm-run.sh" --name demo stock /xtfs/tools/testbed/demo-guest.sh
