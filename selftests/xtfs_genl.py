#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Raw requests to the "xtfs" generic netlink family, for the selftests.

Written from include/uapi/linux/xtfs.h with nothing but the socket module,
so that requests the xtfs helper never sends (missing or malformed
attributes) can be tried.

  xtfs_genl.py bad CASE     send the bad request CASE, print
                            "ERRNO-NAME|extended ACK message"
  xtfs_genl.py bad-each CASE...
                            the same for each CASE, one line each:
                            "CASE ERRNO-NAME|extended ACK message"
  xtfs_genl.py cases        list the CASE names
  xtfs_genl.py check [CASE...]
                            send each CASE that has an expected errno (all
                            of them when none is named), print it as
                            bad-each does, and exit 1 unless each was
                            refused with that errno and a non-empty
                            extended ACK message
  xtfs_genl.py stage FAMILY DADDR SPI IIV [PAYLOAD] -- CMD [ARG...]
                            stage implicit IV IIV (a transform ID, sent as
                            is; 0 sends none) and payload format PAYLOAD
                            (0 AGGFRAG, 1 tunnel; none when not given) for
                            the SA (FAMILY 4 or 6, SPI in hex), then run
                            CMD with the staging socket still open, as the
                            xtfs helper does; exit with CMD's status
                            ("stage: ERRNO|message" and 1 when the staging
                            itself is refused)
  xtfs_genl.py stage-send FAMILY DADDR SPI RATE [PAYLOAD] -- CMD [ARG...]
                            the same with the sending mode fixed at RATE
                            outer packets per second (and PAYLOAD when
                            given) staged instead of implicit IV
"""
import subprocess
import errno
import os
import socket
import struct
import sys

NETLINK_GENERIC = 16
NETLINK_EXT_ACK = 11
NETLINK_CAP_ACK = 10
SOL_NETLINK = 270
GENL_ID_CTRL = 16
CTRL_CMD_GETFAMILY = 3
CTRL_ATTR_FAMILY_ID = 1
CTRL_ATTR_FAMILY_NAME = 2
NLM_F_REQUEST = 1
NLM_F_ACK = 4
NLM_F_DUMP = 0x300
NLMSG_ERROR = 2
NLMSG_DONE = 3
NLM_F_ACK_TLVS = 0x200
NLMSGERR_ATTR_MSG = 1

XTFS_CMD_SA_GET = 1
XTFS_CMD_SA_STAGE = 2
(A_FAMILY, A_SADDR, A_DADDR, A_SPI, A_MARK, A_DIR, A_STATS, A_IIV,
 A_PAYLOAD) = range(1, 10)
A_SEND, A_RATE, A_RATE_MIN, A_REVERSE_SPI, A_BREAKER_LOSS, A_BREAKER_TIME, \
    A_BROKEN = range(15, 22)
SEND_DEMAND, SEND_FIXED, SEND_CC = range(3)


def attr(t, data):
    """One netlink attribute, padded to 4 octets."""
    a = struct.pack("=HH", 4 + len(data), t) + data
    return a + b"\0" * (-len(a) % 4)


def parse_attrs(data):
    """Attributes of a message body as {type: payload}."""
    out = {}
    while len(data) >= 4:
        ln, t = struct.unpack("=HH", data[:4])
        if ln < 4:
            break
        out[t & 0x3fff] = data[4:ln]
        data = data[(ln + 3) & ~3:]
    return out


class Genl:
    def __init__(self):
        self.s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW,
                               NETLINK_GENERIC)
        self.s.setsockopt(SOL_NETLINK, NETLINK_EXT_ACK, 1)
        self.s.setsockopt(SOL_NETLINK, NETLINK_CAP_ACK, 1)
        self.s.bind((0, 0))
        self.seq = 1

    def request(self, ftype, cmd, flags, attrs, version=1):
        """Send one request; return (errno, message, [reply bodies])."""
        body = struct.pack("=BBH", cmd, version, 0) + b"".join(attrs)
        self.seq += 1
        msg = struct.pack("=IHHII", 16 + len(body), ftype,
                          NLM_F_REQUEST | NLM_F_ACK | flags, self.seq,
                          0) + body
        self.s.send(msg)
        replies = []
        while True:
            data = self.s.recv(65536)
            while len(data) >= 16:
                ln, t, fl, seq, _ = struct.unpack("=IHHII", data[:16])
                m = data[16:ln]
                data = data[(ln + 3) & ~3:]
                if seq != self.seq:
                    continue
                if t in (NLMSG_ERROR, NLMSG_DONE):
                    err = -struct.unpack("=i", m[:4])[0]
                    text = ""
                    if fl & NLM_F_ACK_TLVS:
                        # NETLINK_CAP_ACK: only the request header is echoed
                        skip = 4 + 16 if t == NLMSG_ERROR else 4
                        tlv = parse_attrs(m[skip:])
                        text = tlv.get(NLMSGERR_ATTR_MSG, b"").rstrip(b"\0")
                        text = text.decode(errors="replace")
                    return err, text, replies
                replies.append(m[4:])

    def family(self, name):
        err, text, rep = self.request(
            GENL_ID_CTRL, CTRL_CMD_GETFAMILY, 0,
            [attr(CTRL_ATTR_FAMILY_NAME, name.encode() + b"\0")])
        if err or not rep:
            sys.exit("family %s: %s %s" % (name, os.strerror(err), text))
        return struct.unpack("=H", parse_attrs(rep[0])[CTRL_ATTR_FAMILY_ID][:2])[0]


def u16(t, v):
    return attr(t, struct.pack("=H", v))


def u32(t, v):
    return attr(t, struct.pack("=I", v))


def be32(t, v):
    return attr(t, struct.pack("!I", v))


V4 = socket.inet_aton("192.0.2.99")
STAGE_ID = [u16(A_FAMILY, 2), attr(A_DADDR, V4), be32(A_SPI, 0x999)]

def send(mode):
    return attr(A_SEND, struct.pack("=B", mode))


FIXED = [send(SEND_FIXED), u32(A_RATE, 100)]
CC = [send(SEND_CC), u32(A_RATE, 100)]
REV = [be32(A_REVERSE_SPI, 0x998)]
# name: (dump?, attributes[, command[, expected errno]]); the command
# defaults to SA_GET
CASES = {
    "missing-family": (False, [attr(A_DADDR, V4), be32(A_SPI, 0x999)]),
    "missing-daddr": (False, [u16(A_FAMILY, 2), be32(A_SPI, 0x999)]),
    "missing-spi": (False, [u16(A_FAMILY, 2), attr(A_DADDR, V4)]),
    "bad-family": (False, [u16(A_FAMILY, 7), attr(A_DADDR, V4),
                           be32(A_SPI, 0x999)]),
    "addr-len-family": (False, [u16(A_FAMILY, 2), attr(A_DADDR, b"\1" * 16),
                                be32(A_SPI, 0x999)]),
    "short-addr": (False, [u16(A_FAMILY, 2), attr(A_DADDR, b"\1" * 3),
                           be32(A_SPI, 0x999)]),
    "short-spi": (False, [u16(A_FAMILY, 2), attr(A_DADDR, V4),
                          attr(A_SPI, b"\0\0")]),
    "reply-only-attr": (False, [u16(A_FAMILY, 2), attr(A_DADDR, V4),
                                be32(A_SPI, 0x999), attr(A_STATS, b"")]),
    "unknown-attr": (False, [u16(A_FAMILY, 2), attr(A_DADDR, V4),
                             be32(A_SPI, 0x999), u32(99, 0)]),
    "no-such-sa": (False, [u16(A_FAMILY, 2), attr(A_DADDR, V4),
                           be32(A_SPI, 0x999)]),
    "dump-with-attr": (True, [u16(A_FAMILY, 2)]),
    "get-with-iiv": (False, STAGE_ID + [u32(A_IIV, 30)]),
    "stage-iiv-range": (False, STAGE_ID + [u32(A_IIV, 28)],
                        XTFS_CMD_SA_STAGE),
    "stage-iiv-short": (False, STAGE_ID + [u16(A_IIV, 30)],
                        XTFS_CMD_SA_STAGE),
    "stage-saddr": (False, STAGE_ID + [attr(A_SADDR, V4), u32(A_IIV, 30)],
                    XTFS_CMD_SA_STAGE),
    "stage-missing-spi": (False, STAGE_ID[:2] + [u32(A_IIV, 30)],
                          XTFS_CMD_SA_STAGE),
    "stage-stats": (False, STAGE_ID + [attr(A_STATS, b"")],
                    XTFS_CMD_SA_STAGE),
    "stage-payload-range": (False, STAGE_ID + [attr(A_PAYLOAD, b"\2")],
                            XTFS_CMD_SA_STAGE),
    "stage-fixed-no-rate": (False, STAGE_ID + [attr(A_SEND, b"\1")],
                            XTFS_CMD_SA_STAGE),
    "stage-rate-no-fixed": (False, STAGE_ID + [u32(A_RATE, 100)],
                            XTFS_CMD_SA_STAGE),
    "stage-rate-zero": (False, STAGE_ID + [attr(A_SEND, b"\1"),
                                           u32(A_RATE, 0)],
                        XTFS_CMD_SA_STAGE),
    "stage-rate-high": (False, STAGE_ID + [attr(A_SEND, b"\1"),
                                           u32(A_RATE, 1000001)],
                        XTFS_CMD_SA_STAGE),
    "stage-send-range": (False, STAGE_ID + [attr(A_SEND, b"\3"),
                                            u32(A_RATE, 100)],
                         XTFS_CMD_SA_STAGE),
    # Congestion control and the circuit breaker: what the helper refuses
    # as usage errors, each refused by the kernel too.
    "stage-cc-no-rate": (False, STAGE_ID + [send(SEND_CC)] + REV,
                         XTFS_CMD_SA_STAGE, "EINVAL"),
    "stage-cc-no-reverse-spi": (False, STAGE_ID + CC, XTFS_CMD_SA_STAGE,
                                "EINVAL"),
    "stage-rate-min-no-cc": (False, STAGE_ID + FIXED + REV +
                             [u32(A_RATE_MIN, 10)],
                             XTFS_CMD_SA_STAGE, "EINVAL"),
    "stage-rate-min-above-rate": (False, STAGE_ID + CC + REV +
                                  [u32(A_RATE_MIN, 101)],
                                  XTFS_CMD_SA_STAGE, "EINVAL"),
    "stage-reverse-spi-demand": (False, STAGE_ID + [send(SEND_DEMAND)] + REV,
                                 XTFS_CMD_SA_STAGE, "EINVAL"),
    "stage-reverse-spi-no-send": (False, STAGE_ID + REV, XTFS_CMD_SA_STAGE,
                                  "EINVAL"),
    "stage-reverse-spi-zero": (False, STAGE_ID + FIXED +
                               [be32(A_REVERSE_SPI, 0)],
                               XTFS_CMD_SA_STAGE, "EINVAL"),
    "stage-breaker-loss-only": (False, STAGE_ID + FIXED + REV +
                                [u32(A_BREAKER_LOSS, 10000)],
                                XTFS_CMD_SA_STAGE, "EINVAL"),
    "stage-breaker-time-only": (False, STAGE_ID + FIXED + REV +
                                [u32(A_BREAKER_TIME, 2000)],
                                XTFS_CMD_SA_STAGE, "EINVAL"),
    "stage-breaker-no-reverse-spi": (False, STAGE_ID + FIXED +
                                     [u32(A_BREAKER_LOSS, 10000),
                                      u32(A_BREAKER_TIME, 2000)],
                                     XTFS_CMD_SA_STAGE, "EINVAL"),
    "stage-broken": (False, STAGE_ID + FIXED + REV + [attr(A_BROKEN, b"")],
                     XTFS_CMD_SA_STAGE, "EINVAL"),
}


def stage(argv, send=False):
    """Stage implicit IV (or with send, a fixed rate) for an SA, then run a
    command with it staged."""
    if "--" not in argv[4:6]:
        sys.exit(__doc__)
    sep = argv.index("--")
    fam, daddr, spi, val = argv[:4]
    af = socket.AF_INET if fam == "4" else socket.AF_INET6
    attrs = [u16(A_FAMILY, af), attr(A_DADDR, socket.inet_pton(af, daddr)),
             be32(A_SPI, int(spi, 16))]
    if send:
        attrs += [attr(A_SEND, struct.pack("=B", SEND_FIXED)),
                  u32(A_RATE, int(val))]
    elif int(val):
        attrs.append(u32(A_IIV, int(val)))
    if sep == 5:
        attrs.append(attr(A_PAYLOAD, struct.pack("=B", int(argv[4]))))
    g = Genl()
    fid = g.family("xtfs")
    err, text, _ = g.request(fid, XTFS_CMD_SA_STAGE, 0, attrs)
    if err:
        print("stage: %s|%s" % (errno.errorcode.get(err, str(err)), text))
        sys.exit(1)
    sys.exit(subprocess.run(argv[sep + 1:], check=False).returncode)


def main():
    if sys.argv[1] == "cases":
        print("\n".join(CASES))
        return
    if sys.argv[1] == "stage":
        stage(sys.argv[2:])
    if sys.argv[1] == "stage-send":
        stage(sys.argv[2:], send=True)
    if sys.argv[1] not in ("bad", "bad-each", "check"):
        sys.exit(__doc__)
    names = sys.argv[2:3] if sys.argv[1] == "bad" else sys.argv[2:]
    if sys.argv[1] == "check":
        names = names or [n for n, c in CASES.items() if len(c) > 3]
        if any(len(CASES[n]) < 4 for n in names):
            sys.exit("check: no expected errno for %s" % " ".join(
                n for n in names if len(CASES[n]) < 4))
    g = Genl()
    fid = g.family("xtfs")
    bad = 0
    for name in names:
        case = CASES[name]
        cmd = case[2] if len(case) > 2 else XTFS_CMD_SA_GET
        err, text, _ = g.request(fid, cmd, NLM_F_DUMP if case[0] else 0,
                                 case[1])
        got = errno.errorcode.get(err, str(err))
        miss = ""
        if sys.argv[1] == "check" and (got != case[3] or not text):
            miss = " (want %s and a message)" % case[3]
            bad = 1
        print("%s%s|%s%s" % (name + " " if sys.argv[1] != "bad" else "",
                             got, text, miss))
    sys.exit(bad)


if __name__ == "__main__":
    main()
