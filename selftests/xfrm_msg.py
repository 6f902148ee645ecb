#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""xfrm netlink requests that iproute2 and the xtfs helper do not send.

Written from include/uapi/linux/xfrm.h; sent with xfrm_churn.py's Xfrm.
Each command prints "OK" or "ERRNO-NAME|extended ACK message" and exits
0 when the kernel accepted the request, 1 when it refused it.

  xfrm_msg.py newae DST SPI OSEQ
                 XFRM_MSG_NEWAE on the IPv4 ESP SA (DST, SPI in hex) with
                 a legacy replay state: the outbound counter set to OSEQ
                 (and the inbound one to 0), as a daemon restoring
                 replay state would
  xfrm_msg.py migrate-state DST SPI NEW_DST NEW_SRC [SPORT DPORT]
                 XFRM_MSG_MIGRATE_STATE of the IPv4 ESP SA to the new
                 addresses, with UDP encapsulation from SPORT to DPORT
                 when given
"""
import errno
import socket
import struct
import sys

from xfrm_churn import Xfrm, a4, attr

NLM_F_REPLACE = 0x100
XFRM_MSG_NEWAE = 30
XFRM_MSG_MIGRATE_STATE = 41
XFRMA_ENCAP = 4
XFRMA_REPLAY_VAL = 10
XFRM_AE_RVAL = 1
UDP_ENCAP_ESPINUDP = 2
IPPROTO_ESP = 50


def usersa_id(dst, spi):
    """struct xfrm_usersa_id of an IPv4 ESP SA."""
    return a4(dst) + struct.pack("!I", spi) + \
        struct.pack("=HBx", socket.AF_INET, IPPROTO_ESP)


def request(mtype, flags, body):
    """Send one request in this namespace: (errno, extended ACK message)."""
    return Xfrm().req(mtype, body, flags)


def newae(dst, spi, oseq):
    """XFRM_MSG_NEWAE: set the SA's legacy replay state."""
    body = usersa_id(dst, spi) + b"\0" * 16 + struct.pack("=II",
                                                          XFRM_AE_RVAL, 0)
    body += attr(XFRMA_REPLAY_VAL, struct.pack("=III", oseq, 0, 0))
    return request(XFRM_MSG_NEWAE, NLM_F_REPLACE, body)


def migrate_state(dst, spi, new_dst, new_src, sport=None, dport=None):
    """XFRM_MSG_MIGRATE_STATE to new addresses, with UDP encapsulation
    when ports are given."""
    body = usersa_id(dst, spi) + a4(new_dst) + a4(new_src)
    body += struct.pack("=II", 0, 0)            # old mark
    body += b"\0" * 56                          # new selector: AF_UNSPEC
    body += struct.pack("=IIHH", 0, 0, socket.AF_INET, 0)
    if sport is not None:
        body += attr(XFRMA_ENCAP,
                     struct.pack("=H", UDP_ENCAP_ESPINUDP) +
                     struct.pack("!HH", sport, dport) + b"\0\0" +
                     b"\0" * 16)
    return request(XFRM_MSG_MIGRATE_STATE, 0, body)


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "newae":
        err, text = newae(args[0], int(args[1], 16), int(args[2], 0))
    elif cmd == "migrate-state":
        ports = [int(p) for p in args[4:6]] or [None, None]
        err, text = migrate_state(args[0], int(args[1], 16), args[2],
                                  args[3], *ports)
    else:
        sys.exit("xfrm_msg.py: unknown command " + cmd)
    if err:
        print("%s|%s" % (errno.errorcode.get(err, str(err)), text))
        sys.exit(1)
    print("OK")


if __name__ == "__main__":
    main()
