#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""SA and policy churn under traffic, for xtfs_churn.sh.

Written from include/uapi/linux/xfrm.h with nothing but the socket module:
the xfrm netlink requests of a churn cycle cost microseconds here, where
an `ip netns exec ... xtfs` per request costs a good part of a second on
the emulated debug kernel, and iproute2 has no XFRM_MSG_MIGRATE sender.

  xfrm_churn.py send DST PORT CPU SEED STOP
        send UDP datagrams to DST:PORT from CPU until the file STOP
        exists; each datagram carries SEED, its sequence number and its
        size, and a payload derived from them (see datagram), so that the
        receiver can check every one it gets. Send errors (no SA, no
        policy, no route while the SAs change) are counted, not fatal.
  xfrm_churn.py churn NSA NSB CYCLES FIRST SEED WAIT OPS
        install an IP-TFS SA pair (reqid 1, mode iptfs) and its policies
        between namespaces NSA and NSB (addresses of lib.sh, a second
        outer pair .11/.12 for migration), then run CYCLES churn
        operations (numbered from FIRST), chosen in shuffled rounds (from
        SEED and FIRST) from:
          readd    delete the SA pair of one direction, add it again
          rekey    new SA pair of one direction beside the old (new SPIs,
                   same reqid), then the old pair deleted
          migrate  XFRM_MSG_MIGRATE of the four SAs and their policies to
                   the other outer address pair
          polflush XFRM_MSG_FLUSHPOLICY in one namespace, policies re-added
        After each, receive on UDP ports 5001 (in NSB, from NSA) and 5002
        (in NSA, from NSB) until a datagram came each way or WAIT seconds
        (default 3) passed; every datagram is checked. Print one JSON
        object: operations done, netlink errors, datagrams delivered each
        way, datagrams with wrong contents, operations after which traffic
        came back each way within WAIT. OPS, a comma-separated list, names
        the operations to choose from. Once the cycles are done, receive
        until a datagram came each way through the last configuration
        (at most 30 s). Exit status 1 on a netlink error, a datagram with
        wrong contents, or no datagram one way after the last cycle.
  xfrm_churn.py probe-migrate NS
        print the error of an XFRM_MSG_MIGRATE for no policy in NS:
        ENOENT where the kernel migrates, ENOPROTOOPT where it cannot
        (CONFIG_XFRM_MIGRATE not set).
  xfrm_churn.py flush NS...
        XFRM_MSG_FLUSHSA (ESP) and XFRM_MSG_FLUSHPOLICY in each namespace.
"""
import errno
import hashlib
import json
import os
import random
import select
import socket
import struct
import sys
import time

CLONE_NEWNET = 0x40000000
NETLINK_XFRM = 6
NETLINK_EXT_ACK = 11
SOL_NETLINK = 270
NLM_F_REQUEST = 1
NLM_F_ACK = 4
NLM_F_EXCL = 0x200
NLM_F_CREATE = 0x400
NLMSG_ERROR = 2
NLMSGERR_ATTR_MSG = 1

XFRM_MSG_NEWSA = 0x10
XFRM_MSG_DELSA = 0x11
XFRM_MSG_NEWPOLICY = 0x13
XFRM_MSG_FLUSHSA = 0x1c
XFRM_MSG_FLUSHPOLICY = 0x1d
XFRM_MSG_MIGRATE = 0x21

XFRMA_MIGRATE = 17
XFRMA_ALG_AEAD = 18
XFRMA_SA_DIR = 33
XFRMA_IPTFS_INIT_DELAY = 39
XFRMA_IPTFS_PKT_SIZE = 41

XFRM_SA_DIR_IN = 1
XFRM_SA_DIR_OUT = 2
XFRM_POLICY_IN = 0
XFRM_POLICY_OUT = 1
XFRM_MODE_IPTFS = 5
XFRM_INF = (1 << 64) - 1
IPPROTO_ESP = 50
AF_INET = socket.AF_INET

# Addresses of lib.sh; OUTER[i] is outer address pair i (A's, B's).
IA, IB = "198.51.100.1", "198.51.100.2"
OUTER = [("192.0.2.1", "192.0.2.2"), ("192.0.2.11", "192.0.2.12")]
KEY = {"ab": bytes.fromhex("0102030405060708090a0b0c0d0e0f1011121314"),
       "ba": bytes.fromhex("1112131415161718191a1b1c1d1e1f2021222324")}
AEAD = b"rfc4106(gcm(aes))"
PORT = {"ab": 5001, "ba": 5002}
PKT_SIZE = 1000
INIT_DELAY = 10000	# usec: outer packets wait in the queue a while


def a4(addr):
    """ADDR as an xfrm_address_t (16 octets)."""
    return socket.inet_aton(addr) + bytes(12)


def selector(src="0.0.0.0", dst="0.0.0.0", plen=0, family=0):
    """struct xfrm_selector (56 octets)."""
    return struct.pack("=16s16sHHHHHBBB3xiI", a4(dst), a4(src), 0, 0, 0, 0,
                       family, plen, plen, 0, 0, 0)


def lifetime_cfg():
    """struct xfrm_lifetime_cfg with no limit (64 octets)."""
    return struct.pack("=8Q", XFRM_INF, XFRM_INF, XFRM_INF, XFRM_INF,
                       0, 0, 0, 0)


def attr(kind, data):
    """One netlink attribute, padded."""
    n = 4 + len(data)
    return struct.pack("=HH", n, kind) + data + bytes((4 - n % 4) % 4)


def in_netns(name, fn):
    """FN() called in network namespace NAME, then back to this one."""
    own = os.open("/proc/self/ns/net", os.O_RDONLY)
    fd = os.open("/run/netns/" + name, os.O_RDONLY)
    try:
        os.setns(fd, CLONE_NEWNET)
        return fn()
    finally:
        os.setns(own, CLONE_NEWNET)
        os.close(fd)
        os.close(own)


class Xfrm:
    """An xfrm netlink socket in network namespace NS (None: this one)."""

    def __init__(self, ns=None):
        self.ns = ns
        if ns is None:
            self.sock = self.open()
        else:
            self.sock = in_netns(ns, self.open)
        self.sock.setsockopt(SOL_NETLINK, NETLINK_EXT_ACK, 1)
        self.sock.bind((0, 0))
        self.seq = 0

    @staticmethod
    def open():
        """A raw xfrm netlink socket in the current network namespace."""
        return socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_XFRM)

    def req(self, kind, payload, flags=0):
        """Send one request, wait for its ACK: (errno, extended ACK)."""
        self.seq += 1
        hdr = struct.pack("=IHHII", 16 + len(payload), kind,
                          NLM_F_REQUEST | NLM_F_ACK | flags, self.seq, 0)
        self.sock.send(hdr + payload)
        while True:
            buf = self.sock.recv(65536)
            off = 0
            while off + 16 <= len(buf):
                n, t, fl, seq, _ = struct.unpack_from("=IHHII", buf, off)
                if t == NLMSG_ERROR and seq == self.seq:
                    err = -struct.unpack_from("=i", buf, off + 16)[0]
                    return err, self._ext_ack(buf[off:off + n], fl)
                off += (n + 3) & ~3

    @staticmethod
    def _ext_ack(msg, flags):
        """The extended ACK message of NLMSG_ERROR MSG, if any."""
        # Capped ACK (0x100): the request is not echoed after nlmsgerr.
        off = 16 + 4 + (16 if flags & 0x100 else
                        struct.unpack_from("=I", msg, 20)[0])
        off = (off + 3) & ~3
        while off + 4 <= len(msg):
            n, t = struct.unpack_from("=HH", msg, off)
            if n < 4:
                break
            if t == NLMSGERR_ATTR_MSG:
                return msg[off + 4:off + n].split(b"\0")[0].decode()
            off += (n + 3) & ~3
        return ""

    def sa_add(self, src, dst, spi, key, sadir):
        p = struct.pack("=56s16s4sB3x16s64s32s12sIIHBBB7x", selector(),
                        a4(dst), spi.to_bytes(4, "big"), IPPROTO_ESP, a4(src),
                        lifetime_cfg(), bytes(32), bytes(12), 0, 1, AF_INET,
                        XFRM_MODE_IPTFS, 0, 0)
        p += attr(XFRMA_ALG_AEAD, struct.pack("=64sII", AEAD, 8 * len(key),
                                              128) + key)
        p += attr(XFRMA_SA_DIR, struct.pack("=B", sadir))
        if sadir == XFRM_SA_DIR_OUT:
            p += attr(XFRMA_IPTFS_PKT_SIZE, struct.pack("=I", PKT_SIZE))
            p += attr(XFRMA_IPTFS_INIT_DELAY, struct.pack("=I", INIT_DELAY))
        return self.req(XFRM_MSG_NEWSA, p, NLM_F_CREATE | NLM_F_EXCL)

    def sa_del(self, dst, spi):
        p = struct.pack("=16s4sHB1x", a4(dst), spi.to_bytes(4, "big"),
                        AF_INET, IPPROTO_ESP)
        return self.req(XFRM_MSG_DELSA, p)

    def pol_add(self, src, dst, pdir, osrc, odst):
        p = struct.pack("=56s64s32sIIBBBB4x",
                        selector(src, dst, 32, AF_INET), lifetime_cfg(),
                        bytes(32), 0, 0, pdir, 0, 0, 0)
        tmpl = struct.pack("=16s4sB3xH2x16sIBBB1xIII", a4(odst), bytes(4),
                           IPPROTO_ESP, AF_INET, a4(osrc), 1,
                           XFRM_MODE_IPTFS, 0, 0, 0xffffffff, 0xffffffff,
                           0xffffffff)
        p += attr(5, tmpl)	# XFRMA_TMPL
        return self.req(XFRM_MSG_NEWPOLICY, p, NLM_F_CREATE | NLM_F_EXCL)

    def pol_flush(self):
        return self.req(XFRM_MSG_FLUSHPOLICY, b"")

    def sa_flush(self):
        return self.req(XFRM_MSG_FLUSHSA, struct.pack("=B3x", IPPROTO_ESP))

    def migrate(self, src, dst, pdir, old, new):
        """XFRM_MSG_MIGRATE of the policy SRC->DST (inner) of direction
        PDIR and its SA from outer pair OLD (saddr, daddr) to NEW."""
        p = struct.pack("=56sIB3x", selector(src, dst, 32, AF_INET), 0, pdir)
        m = struct.pack("=16s16s16s16sBBHIHH", a4(old[1]), a4(old[0]),
                        a4(new[1]), a4(new[0]), IPPROTO_ESP,
                        XFRM_MODE_IPTFS, 0, 1, AF_INET, AF_INET)
        p += attr(XFRMA_MIGRATE, m)
        return self.req(XFRM_MSG_MIGRATE, p)


def datagram(seed, seq, size):
    """The datagram SEQ (SIZE octets, at least 10) of the sender SEED."""
    head = struct.pack("!IIH", seed, seq, size)
    body = hashlib.sha256(head).digest()
    n = size - len(head)
    return head + (body * (n // len(body) + 1))[:n]


def good(data):
    """Whether DATA is a datagram as datagram() makes them."""
    if len(data) < 10:
        return False
    seed, seq, size = struct.unpack_from("!IIH", data)
    return size == len(data) and data == datagram(seed, seq, size)


def send(dst, port, cpu, seed, stop):
    try:
        os.sched_setaffinity(0, {cpu % os.cpu_count()})
    except OSError:
        pass
    rnd = random.Random(seed)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    seq = sent = errs = 0
    while not os.path.exists(stop):
        for _ in range(10):
            seq += 1
            try:
                s.sendto(datagram(seed, seq, rnd.randint(10, 1800)),
                         (dst, port))
                sent += 1
            except OSError:
                errs += 1
            time.sleep(0.002)
    print(json.dumps({"sent": sent, "errors": errs}))


class Churn:
    """The SA pair, its policies and the churn operations on them."""

    def __init__(self, nsa, nsb, seed, wait):
        self.x = {"a": Xfrm(nsa), "b": Xfrm(nsb)}
        self.rnd = random.Random(seed)
        self.wait = wait
        self.pair = 0		# outer address pair in use
        self.spi = {"ab": 0x100, "ba": 0x200}
        self.next_spi = 0x1000
        self.errors = []
        self.ops = {}
        self.resumed = {"ab": 0, "ba": 0}
        self.got = {"ab": 0, "ba": 0}
        self.bad = 0
        self.rx = {}
        for d, ns in (("ab", nsb), ("ba", nsa)):
            def mk(port=PORT[d]):
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
                s.bind(("0.0.0.0", port))
                s.setblocking(False)
                return s
            self.rx[d] = in_netns(ns, mk)

    def check(self, what, res):
        if res[0]:
            self.errors.append("%s: %s %s" % (what, errno.errorcode.get(
                res[0], str(res[0])), res[1]))

    def ends(self, d):
        """(sender side, receiver side, outer src, outer dst) of D."""
        oa, ob = OUTER[self.pair]
        return ("a", "b", oa, ob) if d == "ab" else ("b", "a", ob, oa)

    def sa_add(self, d, spi):
        snd, rcv, src, dst = self.ends(d)
        self.check("add in %s 0x%x" % (d, spi), self.x[rcv].sa_add(
            src, dst, spi, KEY[d], XFRM_SA_DIR_IN))
        self.check("add out %s 0x%x" % (d, spi), self.x[snd].sa_add(
            src, dst, spi, KEY[d], XFRM_SA_DIR_OUT))

    def sa_del(self, d, spi):
        snd, rcv, _, dst = self.ends(d)
        self.check("del out %s 0x%x" % (d, spi), self.x[snd].sa_del(dst, spi))
        self.check("del in %s 0x%x" % (d, spi), self.x[rcv].sa_del(dst, spi))

    def policies(self, side):
        oa, ob = OUTER[self.pair]
        x = self.x[side]
        if side == "a":
            self.check("policy out a", x.pol_add(IA, IB, XFRM_POLICY_OUT,
                                                 oa, ob))
            self.check("policy in a", x.pol_add(IB, IA, XFRM_POLICY_IN,
                                                ob, oa))
        else:
            self.check("policy out b", x.pol_add(IB, IA, XFRM_POLICY_OUT,
                                                 ob, oa))
            self.check("policy in b", x.pol_add(IA, IB, XFRM_POLICY_IN,
                                                oa, ob))

    def install(self):
        for side in "ab":
            self.check("flush SAs " + side, self.x[side].sa_flush())
            self.check("flush policies " + side, self.x[side].pol_flush())
        for d in ("ab", "ba"):
            self.sa_add(d, self.spi[d])
        for side in "ab":
            self.policies(side)

    def op_readd(self, n):
        d = ("ab", "ba")[n % 2]
        self.sa_del(d, self.spi[d])
        self.sa_add(d, self.spi[d])

    def op_rekey(self, n):
        d = ("ab", "ba")[n % 2]
        old, new = self.spi[d], self.next_spi
        self.next_spi += 1
        self.sa_add(d, new)
        self.sa_del(d, old)
        self.spi[d] = new

    def op_migrate(self, n):
        old, new = OUTER[self.pair], OUTER[1 - self.pair]
        oa, ob = old
        na, nb = new
        xa, xb = self.x["a"], self.x["b"]
        self.check("migrate a out", xa.migrate(IA, IB, XFRM_POLICY_OUT,
                                               (oa, ob), (na, nb)))
        self.check("migrate a in", xa.migrate(IB, IA, XFRM_POLICY_IN,
                                              (ob, oa), (nb, na)))
        self.check("migrate b out", xb.migrate(IB, IA, XFRM_POLICY_OUT,
                                               (ob, oa), (nb, na)))
        self.check("migrate b in", xb.migrate(IA, IB, XFRM_POLICY_IN,
                                              (oa, ob), (na, nb)))
        self.pair = 1 - self.pair

    def op_polflush(self, n):
        side = "ab"[n % 2]
        self.check("flush policies " + side, self.x[side].pol_flush())
        self.policies(side)

    def receive(self, until):
        """Take what came; stop once both ways got one since the call, or
        at time UNTIL. Returns the set of ways that got one."""
        seen = set()
        while len(seen) < 2:
            left = until - time.monotonic()
            if left <= 0:
                break
            r, _, _ = select.select(list(self.rx.values()), [], [], left)
            for d, s in self.rx.items():
                if s not in r:
                    continue
                while True:
                    try:
                        data = s.recv(65535)
                    except BlockingIOError:
                        break
                    if good(data):
                        self.got[d] += 1
                        seen.add(d)
                    else:
                        self.bad += 1
        return seen

    def run(self, cycles, first, names):
        order = []
        for n in range(first, first + cycles):
            if not order:
                order = names[:]
                self.rnd.shuffle(order)
            name = order.pop()
            getattr(self, "op_" + name)(n)
            self.ops[name] = self.ops.get(name, 0) + 1
            for d in self.receive(time.monotonic() + self.wait):
                self.resumed[d] += 1

    def summary(self, cycles, last):
        return {"cycles": cycles, "ops": self.ops, "errors": self.errors,
                "got": self.got, "bad": self.bad, "resumed": self.resumed,
                "after_last": sorted(last), "pair": self.pair,
                "spi": self.spi}


def main():
    cmd = sys.argv[1] if len(sys.argv) > 1 else ""
    if cmd == "send":
        send(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]),
             int(sys.argv[5]), sys.argv[6])
    elif cmd == "churn":
        nsa, nsb = sys.argv[2], sys.argv[3]
        cycles, first, seed = (int(v) for v in sys.argv[4:7])
        wait = float(sys.argv[7])
        c = Churn(nsa, nsb, seed * 100003 + first, wait)
        c.install()
        c.run(cycles, first, sys.argv[8].split(","))
        last = c.receive(time.monotonic() + 30)
        print(json.dumps(c.summary(cycles, last)))
        return 1 if c.errors or c.bad or len(last) < 2 else 0
    elif cmd == "probe-migrate":
        res = Xfrm(sys.argv[2]).migrate(IA, IB, XFRM_POLICY_OUT,
                                        OUTER[0], OUTER[1])
        print(errno.errorcode.get(res[0], str(res[0])))
    elif cmd == "flush":
        rc = 0
        for ns in sys.argv[2:]:
            x = Xfrm(ns)
            for res in (x.sa_flush(), x.pol_flush()):
                if res[0]:
                    print("%s: flush: %s %s" % (ns, errno.errorcode.get(
                        res[0], res[0]), res[1]), file=sys.stderr)
                    rc = 1
        return rc
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
