#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Staging (XTFS_CMD_SA_STAGE) from unprivileged user namespaces.

Run as root (selftests/xtfs_userns.sh, through pyd.py). Each "namespace"
is a child process that drops to an unprivileged uid (nobody), makes a
user and a network namespace of its own with unshare(CLONE_NEWUSER |
CLONE_NEWNET), as "unshare -Urn" does, and then stages settings on one
generic netlink socket on command. The parent stays root in the initial
namespaces.

  xtfs_userns.py caps PER HOST
      PER: the per-namespace cap, HOST: the host-wide cap over namespaces
      outside the initial user namespace. Prints one "KEY VALUE..." line
      per fact found, for the shell suite to check:
        per-ns   N ERRNO|MSG   staged in namespace 0, PER + 1 attempts
        reopen   N ERRNO|MSG   the same after closing its socket
        fill     N             staged by HOST // PER namespaces in all
        over     N ERRNO|MSG   one more namespace: one attempt
        host     N ERRNO|MSG   the initial namespace: one attempt
        freed    N ERRNO|MSG   after one namespace exited: PER attempts
        memcg    DELTA|none    slab_unreclaimable growth (octets) of the
                               memory cgroup of a namespace over PER
                               stagings (none: no memory controller)
        memcg-close DELTA|none the same after that socket closed
"""
import errno
import os
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from xtfs_genl import (A_DADDR, A_FAMILY, A_IIV, A_SPI,  # noqa: E402
                       XTFS_CMD_SA_STAGE, Genl, attr, be32, u16, u32)

NOBODY = 65534
DADDR = socket.inet_aton("192.0.2.99")
IIV_GCM16 = 30
CG_ROOT = "/sys/fs/cgroup"


def stage_many(g, fid, base, n):
    """Stage implicit IV for SPIs base..base+n-1; stop at the first error.

    Return (staged, "ERRNO|message" of the refusal or "-").
    """
    for i in range(n):
        err, text, _ = g.request(fid, XTFS_CMD_SA_STAGE, 0,
                                 [u16(A_FAMILY, socket.AF_INET),
                                  attr(A_DADDR, DADDR),
                                  be32(A_SPI, base + i),
                                  u32(A_IIV, IIV_GCM16)])
        if err:
            return i, "%s|%s" % (errno.errorcode.get(err, str(err)), text)
    return n, "-"


def child(cmd_r, res_w, cgroup):
    """An unprivileged user and network namespace staging on command."""
    if cgroup:
        with open(os.path.join(cgroup, "cgroup.procs"), "w") as f:
            f.write(str(os.getpid()))
    os.setgroups([])
    os.setgid(NOBODY)
    os.setuid(NOBODY)
    if os.geteuid() != NOBODY:
        os._exit(2)
    os.unshare(os.CLONE_NEWUSER | os.CLONE_NEWNET)
    g = Genl()
    fid = g.family("xtfs")
    out = os.fdopen(res_w, "w", buffering=1)
    for line in os.fdopen(cmd_r):
        w = line.split()
        if w[0] == "stage":
            n, why = stage_many(g, fid, int(w[1], 0), int(w[2]))
            out.write("%d %s\n" % (n, why))
        elif w[0] == "reopen":
            g.s.close()
            g = Genl()
            out.write("0 -\n")
        elif w[0] == "exit":
            break
    os._exit(0)


class Ns:
    """A child namespace (see child()) and its command pipes."""

    def __init__(self, cgroup=None):
        cmd_r, self.cmd_w = os.pipe()
        res_r, res_w = os.pipe()
        self.pid = os.fork()
        if self.pid == 0:
            try:
                os.close(self.cmd_w)
                os.close(res_r)
                child(cmd_r, res_w, cgroup)
            finally:
                os._exit(1)
        os.close(cmd_r)
        os.close(res_w)
        self.res = os.fdopen(res_r)
        self.cmd = os.fdopen(self.cmd_w, "w", buffering=1)

    def do(self, *words):
        """Send one command; return its reply line "N WHY" split once."""
        self.cmd.write(" ".join(str(w) for w in words) + "\n")
        line = self.res.readline()
        if not line:
            return -1, "child died"
        n, why = line.rstrip("\n").split(" ", 1)
        return int(n), why

    def exit(self):
        """Let the child exit (its sockets and namespaces go) and reap it."""
        try:
            self.cmd.write("exit\n")
            self.cmd.close()
        except BrokenPipeError:
            pass
        os.waitpid(self.pid, 0)


def slab_bytes(cg):
    """slab_unreclaimable of a memory cgroup, in octets, as memory.stat
    shows it now."""
    with open(os.path.join(cg, "memory.stat")) as f:
        for line in f:
            k, v = line.split()
            if k == "slab_unreclaimable":
                return int(v)
    return 0


def slab_settled(cg, done, limit=15.0):
    """slab_bytes() once done(value) holds, or its last value after limit
    seconds.

    memory.stat is flushed from the per-CPU counters only past a number
    of updates, or by the kernel's periodic flush (every 2 s, later on a
    loaded guest): read it every half second until the change looked for
    shows, so that a late flush is waited for and a missing change still
    fails the check that follows.
    """
    end = time.monotonic() + limit
    while True:
        v = slab_bytes(cg)
        if done(v) or time.monotonic() >= end:
            return v
        time.sleep(0.5)


def memcg_setup():
    """A memory cgroup for one child, or None without the controller."""
    try:
        with open(os.path.join(CG_ROOT, "cgroup.controllers")) as f:
            if "memory" not in f.read().split():
                return None
        with open(os.path.join(CG_ROOT, "cgroup.subtree_control"), "w") as f:
            f.write("+memory")
        cg = os.path.join(CG_ROOT, "xtfs-userns-%d" % os.getpid())
        os.mkdir(cg)
        return cg
    except OSError:
        return None


def caps(per, host):
    """Fill the caps from unprivileged namespaces; print what happened."""
    nss = []
    cg = memcg_setup()
    try:
        # The per-namespace cap, then the same after the socket closed.
        ns0 = Ns(cg)
        nss.append(ns0)
        if cg:
            ns0.do("stage", 0x10000, 1)
            ns0.do("reopen")
            time.sleep(2.5)
            before = slab_bytes(cg)
        n, why = ns0.do("stage", 0x1000, per + 1)
        print("per-ns", n, why)
        if cg:
            # The checks: at least 64 octets an entry, then at most half
            # of that growth left after the close.
            grown = slab_settled(cg, lambda v: v - before >= per * 64)
            print("memcg", grown - before)
        ns0.do("reopen")
        if cg:
            left = slab_settled(cg, lambda v: v - before <= (grown - before) // 2)
            print("memcg-close", left - before)
        else:
            print("memcg none")
            print("memcg-close none")
        n, why = ns0.do("stage", 0x1000, per + 1)
        print("reopen", n, why)
        # The host-wide cap: namespace 0 holds PER entries; more
        # namespaces, each staging the same identities, fill the rest.
        total = per
        for _ in range(host // per - 1):
            ns = Ns()
            nss.append(ns)
            n, _ = ns.do("stage", 0x1000, per)
            total += n
        print("fill", total)
        late = Ns()
        nss.append(late)
        n, why = late.do("stage", 0x1000, 1)
        print("over", n, why)
        # The initial namespaces are not held by the host-wide cap.
        g = Genl()
        n, why = stage_many(g, g.family("xtfs"), 0x7000, 1)
        print("host", n, why)
        g.s.close()
        # A namespace that exits (its process, socket, user and network
        # namespace gone) leaves room for PER more.
        nss[1].exit()
        nss.remove(nss[1])
        n, why = late.do("stage", 0x1000, per)
        print("freed", n, why)
    finally:
        for ns in nss:
            ns.exit()
        if cg:
            os.rmdir(cg)


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "caps":
        caps(int(sys.argv[2]), int(sys.argv[3]))
        return
    sys.exit(__doc__)


if __name__ == "__main__":
    main()
