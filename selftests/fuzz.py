#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Seeded fuzzing of xtfs's receive parser and netlink interfaces.

  fuzz.py aggfrag SEED N DEV MAC SRC DST SPI WIN
        N ESP packets with null encryption (ecb(cipher_null), no
        authentication) and mutated AGGFRAG payloads to the inbound IP-TFS
        SA SPI (reorder window WIN) of DST, sent as Ethernet frames to MAC
        on DEV; sequence numbers in order, shuffled within the window,
        jumping, duplicated and late. Prints one JSON object: what was
        sent and the counters a model of the parser (a line by line
        transcription of net/xtfs_input.c) and of the kernel's ESP (legacy
        replay window of 32) predict.
  fuzz.py iiv SEED N DEV MAC SRC DST SPI WIN KEY
        the same for an implicit-IV (RFC 8750) AES-GCM-16 SA of key KEY
        (hex, 16 octets of key then 4 of salt): packets of every ESP length
        from 0 to past the ICV with random sequence numbers and garbage
        (they fail the ICV or are too short), and packets sealed with the
        key whose plaintext is a mutated AGGFRAG payload (they reach the
        parser) or a bad trailer.
  fuzz.py tunnel SEED N DEV MAC SRC DST SPI
        N ESP packets with null encryption, each carrying one mutated inner
        packet, to an SA with the tunnel payload.
  fuzz.py cc SEED N DEV MAC SRC DST SPI
        N ESP packets with null encryption to the inbound IP-TFS SA SPI,
        each a sub-type 1 (congestion control) AGGFRAG header with random
        values in every field (flags, LossEventRate, RTT, delays, TVal,
        TEcho; RFC 9347 section 6.1.2), a random outer ECN field, and no
        data or an all-pad block; sequence numbers mostly in order, some
        repeated or jumping. Prints one JSON object with the count sent.
  fuzz.py genl SEED N      N random requests to the "xtfs" generic netlink
        family: every command and more, random attribute sets, lengths and
        nesting, random flags.
  fuzz.py xfrm SEED N SRC DST
        N random XFRM_MSG_NEWSA/UPDSA/DELSA/GETSA/NEWAE/GETAE/FLUSHSA
        requests around mode-iptfs SAs between SRC and DST, with random
        XFRMA_IPTFS_* and other attributes, some SAs with extension settings
        staged over the "xtfs" family first.

Every request must be answered (an ACK, an error or the end of a dump);
the netlink commands print what was sent and how it was answered, as JSON.
"""
import errno
import json
import random
import socket
import struct
import sys
import time

ETH_P_IP = 0x0800
AGGFRAG = 144
ESP_REPLAY_WIN = 32     # the legacy replay window the SAs are made with
MAX_PAYLOAD = 1420      # ESP payload octets that fit a 1500-octet packet
IPPROTO_NONE = 59
# An ESP packet of another next header in the reorder window.
EMPTY = object()


def csum(data):
    """The Internet checksum of DATA (even length)."""
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    s = (s & 0xffff) + (s >> 16)
    s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


class Link:
    """Sends outer IPv4 packets as Ethernet frames on a device."""

    def __init__(self, dev, mac, src, dst):
        self.s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
        self.s.bind((dev, 0))
        self.eth = (bytes.fromhex(mac.replace(":", "")) +
                    self.s.getsockname()[4] +
                    struct.pack("!H", ETH_P_IP))
        self.addrs = socket.inet_aton(src) + socket.inet_aton(dst)
        self.ident = 0
        self.sent = 0

    def send(self, esp, tos=0):
        """Send ESP packet ESP (from the ESP header on) in IPv4, with TOS
        as its DS field."""
        self.ident = (self.ident + 1) & 0xffff
        h = struct.pack("!BBHHHBBH", 0x45, tos, 20 + len(esp), self.ident,
                        0, 64, 50, 0) + self.addrs
        h = h[:10] + struct.pack("!H", csum(h)) + h[12:]
        frame = self.eth + h + esp
        while True:
            try:
                self.s.send(frame)
                break
            except OSError as e:
                if e.errno not in (errno.ENOBUFS, errno.EAGAIN):
                    raise
                time.sleep(0.001)
        self.sent += 1


def block_len(hdr, have):
    """xtfs_block_len(): length of a data block from its first HAVE
    octets, 0 while unknown, -1 when invalid."""
    if not have:
        return 0
    t = hdr[0] >> 4
    if t == 4:
        if hdr[0] & 15 < 5:
            return -1
        if have < 4:
            return 0
        n = hdr[2] << 8 | hdr[3]
        return -1 if n < (hdr[0] & 15) * 4 else n
    if t == 6:
        if have < 6:
            return 0
        return (hdr[4] << 8 | hdr[5]) + 40
    return -1


class Parser:
    """Model of the receive side of an xtfs SA (net/xtfs_input.c): the
    reorder window (xtfs_rx_seq) and the AGGFRAG parser
    (xtfs_reasm_payload), with the counters they keep. Nothing is modelled
    of the drop timer: the generator never leaves a packet held."""

    KEYS = ("outer_in_pkts", "inner_in_pkts", "inner_in_bytes",
            "reassembled", "drop_bad_hdr", "drop_bad_block", "drop_old",
            "lost", "drop_partial", "drop_nomem")

    def __init__(self, win):
        self.win = win
        self.c = dict.fromkeys(self.KEYS, 0)
        self.started = False
        self.next = 0
        self.high = 0
        self.slots = {}         # slot -> (seq, payload)
        self.have = 0
        self.need = 0
        self.hdr = bytearray(6)

    # -- the parser --
    def emit(self, n):
        self.c["inner_in_pkts"] += 1
        self.c["inner_in_bytes"] += n

    def drop(self, cnt):
        if self.have:
            self.c[cnt] += 1
        self.have = self.need = 0

    def feed(self, p, pos, n, rem):
        if not self.need:
            h = min(n, 6 - self.have)
            self.hdr[self.have:self.have + h] = p[pos:pos + h]
            ln = block_len(self.hdr, self.have + h)
            if ln < 0:
                return -1
            if not ln:
                self.have += h
                return 0
            if rem and ln != self.have + rem:
                return -1
            if ln < self.have + n:
                return -1
            self.need = ln
        self.have += n
        return 0

    def block(self, p, pos, end):
        avail = end - pos
        hb = p[pos:pos + min(avail, 6)]
        if hb[0] >> 4 == 0:
            return 0
        ln = block_len(hb, len(hb))
        if ln < 0:
            self.c["drop_bad_block"] += 1
            return 0
        if not ln or ln > avail:
            self.have = self.need = 0
            if ln:
                self.need = ln
            else:
                self.hdr[:avail] = hb
            self.have = avail
            return avail
        self.emit(ln)
        return ln

    def payload(self, p):
        if p is EMPTY:
            return
        end = len(p)
        if end < 4 or p[0] > 1 or (p[0] == 1 and end < 24):
            self.c["drop_bad_hdr"] += 1
            self.drop("drop_partial")
            return
        pos = 4 if p[0] == 0 else 24
        blkoff = p[2] << 8 | p[3]
        if self.have and not blkoff and (pos >= end or p[pos] >> 4 == 0):
            return
        if self.have:
            rem = self.need - self.have if self.need else blkoff
            if not blkoff or (self.need and blkoff != rem):
                self.drop("drop_bad_block")
            else:
                n = min(rem, end - pos)
                err = self.feed(p, pos, n, 0 if self.need else blkoff)
                if not err and not self.need and n == blkoff:
                    err = -1
                if err:
                    self.drop("drop_bad_block")
                elif self.need and self.have == self.need:
                    self.c["reassembled"] += 1
                    self.emit(self.need)
                    self.have = self.need = 0
        if self.have:
            return
        if blkoff >= end - pos:
            return
        pos += blkoff
        while pos < end:
            n = self.block(p, pos, end)
            if not n:
                break
            pos += n

    # -- the reorder window --
    def lost(self, n):
        self.c["lost"] += n
        self.drop("drop_partial")

    def take(self, seq):
        slot = seq % (self.win + 1)
        e = self.slots.get(slot)
        if e and e[0] == seq:
            del self.slots[slot]
            return e[1]
        return None

    def drain(self):
        while self.slots:
            p = self.take(self.next)
            if p is None:
                break
            self.payload(p)
            self.next += 1

    def advance(self, target):
        while self.next < target:
            if not self.slots:
                self.lost(target - self.next)
                self.next = target
                return
            p = self.take(self.next)
            if p is not None:
                self.payload(p)
            else:
                self.lost(1)
            self.next += 1

    def input(self, seq, nexthdr, p):
        """xtfs_input() of a packet ESP accepted."""
        self.c["outer_in_pkts"] += 1
        if nexthdr != AGGFRAG:
            # Counted, then in sequence like an all-pad payload.
            self.c["drop_bad_hdr"] += 1
            p = EMPTY
        if not self.started:
            self.started = True
            self.next = 1 if seq <= self.win + 1 else seq
        if seq > self.next and seq - self.next > self.win:
            self.advance(seq - self.win)
            self.drain()
        if seq < self.next:
            self.c["drop_old"] += 1
            return
        if seq == self.next:
            self.payload(p)
            self.next += 1
            self.drain()
            return
        slot = seq % (self.win + 1)
        if slot in self.slots:
            self.c["drop_old"] += 1
            return
        if not self.slots or seq > self.high:
            self.high = seq
        self.slots[slot] = (seq, p)


class Replay:
    """The kernel's legacy replay window (xfrm_replay_check_legacy)."""

    def __init__(self):
        self.top = 0
        self.bitmap = 0
        self.c = {"replay": 0, "replay_window": 0}

    def check(self, seq):
        if seq == 0:
            return False
        if seq > self.top:
            return True
        diff = self.top - seq
        if diff >= ESP_REPLAY_WIN:
            self.c["replay_window"] += 1
            return False
        if self.bitmap >> diff & 1:
            self.c["replay"] += 1
            return False
        return True

    def seen(self, seq):
        if seq > self.top:
            return False
        diff = self.top - seq
        return diff >= ESP_REPLAY_WIN or bool(self.bitmap >> diff & 1)

    def advance(self, seq):
        if seq > self.top:
            d = seq - self.top
            self.bitmap = (self.bitmap << d | 1) if d < ESP_REPLAY_WIN else 1
            self.bitmap &= (1 << ESP_REPLAY_WIN) - 1
            self.top = seq
        else:
            self.bitmap |= 1 << (self.top - seq)


class Inner:
    """Random inner packets: IPv4 or IPv6 headers that look valid (lengths
    right) with random contents."""

    def __init__(self, rnd):
        self.r = rnd

    def packet(self):
        r = self.r
        if r.random() < 0.6:
            n = r.randint(20, 400)
            h = struct.pack("!BBHHHBB", 0x45, 0, n, r.getrandbits(16), 0,
                            r.randint(1, 255), r.choice((17, 6, 1, 253)))
            return h + r.randbytes(n - 10)
        n = r.randint(40, 400)
        return (struct.pack("!IHB", 0x60000000, n - 40, r.choice((59, 17, 58)))
                + r.randbytes(n - 7))


class Encoder:
    """Valid AGGFRAG payloads (RFC 9347 section 2.2): inner packets packed
    back to back, the last one fragmented into the next payload, or pad;
    sub-type 0 or 1. Remembers where each block starts, for mutations."""

    def __init__(self, rnd):
        self.r = rnd
        self.inner = Inner(rnd)
        self.carry = b""

    def payload(self):
        r = self.r
        cap = r.choice((0, 1, 3, 8, 40, 200, 600, 1380, r.randint(0, 1380)))
        cc = r.random() < 0.1
        out = bytearray()
        starts = []
        blkoff = len(self.carry)
        if self.carry:
            out += self.carry[:cap]
            self.carry = self.carry[cap:]
        while len(out) < cap:
            room = cap - len(out)
            if r.random() < 0.08:
                out += b"\0" + r.randbytes(room - 1)      # pad block
                break
            p = self.inner.packet()
            starts.append(len(out))
            if len(p) <= room:
                out += p
            else:
                out += p[:room]
                self.carry = p[room:]
        if cc:
            hdr = struct.pack("!BBH", 1, 0, min(blkoff, 0xffff)) + \
                r.randbytes(20)
            base = 24
        else:
            hdr = struct.pack("!BBH", 0, 0, min(blkoff, 0xffff))
            base = 4
        return bytearray(hdr + out), [base + s for s in starts]


EDGE = (0, 1, 2, 3, 4, 5, 19, 20, 21, 39, 40, 41, 0x7fff, 0xfffe, 0xffff)


def mutate(r, p, starts):
    """Apply one or more random mutations to AGGFRAG payload P."""
    for _ in range(r.choice((1, 1, 1, 2, 3))):
        m = r.randrange(12)
        if m == 0 and p:                        # bit flips
            for _ in range(r.randint(1, 8)):
                i = r.randrange(len(p))
                p[i] ^= 1 << r.randrange(8)
        elif m == 1:                            # truncation
            del p[r.randint(0, len(p)):]
        elif m == 2 and starts:                 # block length field
            s = r.choice(starts)
            if s + 6 <= len(p):
                rest = len(p) - s
                v = r.choice(EDGE + (rest - 1, rest, rest + 1,
                                     rest - 40, rest - 41, rest - 39))
                v &= 0xffff
                off = 2 if p[s] >> 4 == 4 else 4
                p[s + off:s + off + 2] = struct.pack("!H", v)
        elif m == 3 and p:                      # sub-type
            p[0] = r.choice((0, 1, 2, 3, 0x80, 0xff, r.randrange(256)))
        elif m == 4 and len(p) >= 4:            # block offset
            n = len(p)
            p[2:4] = struct.pack("!H", r.choice(
                EDGE + (n - 4, n - 3, n - 5, n, r.randrange(65536))) & 0xffff)
        elif m == 5 and starts:                 # version / IHL nibble
            s = r.choice(starts)
            if s < len(p):
                p[s] = r.choice((0x40, 0x44, 0x45, 0x46, 0x4f, 0x60, 0x00,
                                 0x10, 0x50, 0x70, 0xf0, r.randrange(256)))
        elif m == 6:                            # garbage after the header
            n = r.randint(0, 64)
            p[4:] = r.randbytes(n)
        elif m == 7:                            # insert octets
            i = r.randint(0, len(p))
            p[i:i] = r.randbytes(r.randint(1, 8))
        elif m == 8 and p:                      # delete octets
            i = r.randrange(len(p))
            del p[i:i + r.randint(1, 8)]
        elif m == 9 and starts:                 # inner packet cut short
            s = r.choice(starts)
            del p[s + r.randint(0, 40):]
        elif m == 10:                           # a lone header
            p[:] = p[:4]
        elif m == 11:                           # a runt
            del p[r.randint(0, 3):]
    return p


class Session:
    """One inbound SA fed with AGGFRAG payloads: sequence numbers, the
    ESP layer's verdicts and the parser model."""

    def __init__(self, rnd, link, spi, win, seal):
        self.r = rnd
        self.link = link
        self.spi = spi
        self.seal = seal            # (seq, payload, nexthdr, bad) -> ESP
        self.model = Parser(win)
        self.replay = Replay()
        self.enc = Encoder(rnd)
        self.seq = 0                # highest sequence number used
        self.esp = {"accepted": 0, "proto_error": 0, "seq_error": 0,
                    "integrity_failed": 0}
        self.mutated = 0
        self.payloads = []          # recent payloads, for duplicates

    def next_payload(self):
        p, starts = self.enc.payload()
        if self.r.random() < 0.5:
            p = mutate(self.r, p, starts)
            self.mutated += 1
        return bytes(p[:MAX_PAYLOAD])

    def send(self, seq, p, nexthdr=AGGFRAG, bad=None):
        """Send P with SEQ; BAD: "trailer" (pad length past the payload)
        or "icv" (sealed packets only)."""
        if bad == "trailer":
            p = p[:self.r.randint(0, 200)]      # a pad length can pass it
        self.link.send(self.seal(seq, p, nexthdr, bad))
        # No payload octet (RFC 4303 2.4: pad length, next header only) is
        # malformed; the kernel's ESP also drops dummy packets (next header
        # 59), where xtfs's implicit-IV ESP hands them to the mode.
        if bad is None and (not p or nexthdr == IPPROTO_NONE and
                            self.seal.drops_dummy):
            bad = "trailer"
        # The core checks replay before the type's input (both ESP types),
        # then the type checks the ICV, then the trailer.
        if not self.replay.check(seq):
            self.esp["seq_error"] += 1
            return
        if bad == "icv":
            self.esp["integrity_failed"] += 1
            self.esp["proto_error"] += 1
            return
        if bad == "trailer":
            self.esp["proto_error"] += 1
            return
        self.replay.advance(seq)
        self.esp["accepted"] += 1
        self.model.input(seq, nexthdr, p)

    def fresh(self):
        self.seq += 1
        return self.seq

    def settle(self):
        """Fill the window's gaps so that nothing stays held."""
        m = self.model
        while m.slots:
            s = m.next
            if s <= self.seq and not self.replay.seen(s) and \
                    s + ESP_REPLAY_WIN > self.replay.top:
                self.send(s, self.next_payload())
            else:
                self.seq = max(self.seq, m.high) + m.win + 1
                self.send(self.seq, self.next_payload())

    def episode(self):
        r = self.r
        k = r.randrange(100)
        win = self.model.win
        if k < 60:                              # in order
            for _ in range(r.randint(1, 20)):
                self.send(self.fresh(), self.next_payload())
        elif k < 72:                            # shuffled within the window
            seqs = [self.fresh() for _ in range(r.randint(2, win + 1))]
            r.shuffle(seqs)
            for s in seqs:
                self.send(s, self.next_payload())
        elif k < 80:                            # jump, then late packets
            gap = r.randint(1, 25)
            skipped = list(range(self.seq + 1, self.seq + 1 + gap))
            self.seq += gap
            self.send(self.fresh(), self.next_payload())
            for s in r.sample(skipped, min(len(skipped), r.randint(0, 4))):
                self.send(s, self.next_payload())
        elif k < 86:                            # duplicates
            for _ in range(r.randint(1, 3)):
                s = max(1, self.seq - r.randint(0, 40))
                self.send(s, self.next_payload())
        elif k < 91:                            # not an AGGFRAG payload
            self.send(self.fresh(), self.next_payload(),
                      nexthdr=r.choice((4, 41, 59, 0, 255, 143, 145)))
        elif k < 95:                            # bad ESP trailer
            self.send(self.fresh(), self.next_payload(), bad="trailer")
        else:                                   # sequence number 0
            self.send(0, self.next_payload())
        self.settle()


def esp_plaintext(rnd, p, nexthdr, bad):
    """Payload P with the ESP trailer (RFC 4303 2.4): padding to four
    octets, pad length and next header. With BAD "trailer" the pad length
    is a random one past the payload."""
    padn = -(len(p) + 2) % 4
    padlen = padn if bad != "trailer" else rnd.randint(len(p) + padn, 255)
    return p + bytes(range(1, padn + 1)) + bytes((padlen, nexthdr))


class NullSeal:
    """ESP with ecb(cipher_null) and no authentication, opened by the
    kernel's ESP."""

    drops_dummy = True

    def __init__(self, spi, rnd):
        self.spi = spi
        self.r = rnd

    def __call__(self, seq, p, nexthdr, bad):
        return (struct.pack("!II", self.spi, seq & 0xffffffff) +
                esp_plaintext(self.r, p, nexthdr, bad))


class IivSeal:
    """ESP with AES-GCM-16 and implicit IV (RFC 8750): the nonce is the
    salt and the 64-bit sequence number, the AAD SPI and sequence number,
    no IV on the wire; opened by xtfs's ESP type."""

    drops_dummy = False

    def __init__(self, spi, key, rnd):
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM
        self.aead = AESGCM(key[:16])
        self.salt = key[16:20]
        self.spi = spi
        self.r = rnd

    def __call__(self, seq, p, nexthdr, bad):
        esph = struct.pack("!II", self.spi, seq & 0xffffffff)
        pt = esp_plaintext(self.r, p, nexthdr, bad)
        ct = bytearray(self.aead.encrypt(self.salt + struct.pack("!Q", seq),
                                         pt, esph))
        if bad == "icv":
            i = self.r.randrange(len(ct))
            ct[i] ^= 1 << self.r.randrange(8)
        return esph + bytes(ct)


def result(sess, extra):
    out = {"sent": sess.link.sent, "mutated": sess.mutated,
           "model": sess.model.c, "esp": sess.esp,
           "replay": sess.replay.c}
    out.update(extra)
    print(json.dumps(out))


def cmd_aggfrag(seed, n, dev, mac, src, dst, spi, win):
    rnd = random.Random(seed)
    link = Link(dev, mac, src, dst)
    spi = int(spi, 0)
    sess = Session(rnd, link, spi, int(win), NullSeal(spi, rnd))
    t0 = time.time()
    while link.sent < n:
        sess.episode()
    result(sess, {"seconds": round(time.time() - t0, 1)})


def cmd_cc(seed, n, dev, mac, src, dst, spi):
    rnd = random.Random(seed)
    link = Link(dev, mac, src, dst)
    seal = NullSeal(int(spi, 0), rnd)
    seq = 1
    while link.sent < n:
        hdr = struct.pack("!BBHIQII", 1, rnd.randrange(256),
                          rnd.choice((0, 0, rnd.randrange(65536))),
                          rnd.choice((0, 1, 0xffffffff,
                                      rnd.randrange(1 << 32))),
                          rnd.randrange(1 << 64),
                          rnd.randrange(1 << 32),
                          rnd.choice((0, rnd.randrange(1 << 32))))
        body = rnd.choice((b"", bytes(rnd.randrange(1, 200))))
        link.send(seal(seq, hdr + body, 144, None), rnd.randrange(4))
        seq += rnd.choice((1, 1, 1, 1, 0, 2, rnd.randrange(1, 50)))
    print(json.dumps({"sent": link.sent, "last_seq": seq}))


def cmd_iiv(seed, n, dev, mac, src, dst, spi, win, key):
    rnd = random.Random(seed)
    link = Link(dev, mac, src, dst)
    spi = int(spi, 0)
    key = bytes.fromhex(key[2:] if key.startswith("0x") else key)
    sess = Session(rnd, link, spi, int(win), IivSeal(spi, key, rnd))
    # Garbage: every ESP length from 0 to past the minimal packet, the
    # right SPI (from 4 octets on), random sequence numbers far above the
    # sealed ones (so that no replay check can refuse them first).
    garbage = {"hdr_error": 0, "short": 0, "icv": 0}
    maxlen = 8 + 16 + 48
    length = 0
    t0 = time.time()
    while link.sent < n:
        if rnd.random() < 0.85:
            body = struct.pack("!II", spi, rnd.randint(1 << 24, 0xffffffff))
            body = (body + rnd.randbytes(length))[:length]
            link.send(body)
            if length < 8:
                garbage["hdr_error"] += 1
            elif length < 8 + 16:
                garbage["short"] += 1
            else:
                garbage["icv"] += 1
            length = (length + 1) % (maxlen + 1)
        else:
            k = rnd.randrange(10)
            if k == 0:
                sess.send(sess.fresh(), sess.next_payload(), bad="icv")
            else:
                sess.episode()
    result(sess, {"garbage": garbage, "seconds": round(time.time() - t0, 1)})


def cmd_tunnel(seed, n, dev, mac, src, dst, spi):
    rnd = random.Random(seed)
    link = Link(dev, mac, src, dst)
    seal = NullSeal(int(spi, 0), rnd)
    inner = Inner(rnd)
    want = {"outer_in_pkts": 0, "inner_in_pkts": 0, "inner_in_bytes": 0,
            "drop_bad_hdr": 0, "proto_error": 0}
    seq = 0
    mutated = 0
    t0 = time.time()
    while link.sent < n:
        p = bytearray(inner.packet())
        nh = 4 if p[0] >> 4 == 4 else 41
        k = rnd.randrange(10)
        mutated += k <= 5
        if k == 0:
            nh = rnd.choice((0, 6, 17, 50, 59, 144, 255))
        elif k == 1:
            nh = 45 - nh                        # the other family
        elif k == 2:
            del p[rnd.randint(0, 44):]
        elif k == 3:
            p[0] = rnd.randrange(256)
        elif k == 4:
            for _ in range(rnd.randint(1, 8)):
                i = rnd.randrange(len(p))
                p[i] ^= 1 << rnd.randrange(8)
        elif k == 5:
            off = 2 if nh == 4 else 4
            p[off:off + 2] = struct.pack("!H", rnd.choice(EDGE))
        seq += 1
        link.send(seal(seq, bytes(p), nh, None))
        if not p or nh == IPPROTO_NONE:
            want["proto_error"] += 1
            continue
        want["outer_in_pkts"] += 1
        hlen = 20 if nh == 4 else 40
        if nh not in (4, 41) or len(p) < hlen or \
                p[0] >> 4 != (4 if nh == 4 else 6):
            want["drop_bad_hdr"] += 1
        else:
            want["inner_in_pkts"] += 1
            want["inner_in_bytes"] += len(p)
    esp = {"accepted": link.sent - want["proto_error"],
           "proto_error": want.pop("proto_error"), "seq_error": 0,
           "integrity_failed": 0}
    print(json.dumps({"sent": link.sent, "mutated": mutated,
                      "model": want, "esp": esp,
                      "seconds": round(time.time() - t0, 1)}))


# -- netlink --

NLMSG_ERROR = 2
NLMSG_DONE = 3
NLM_F_REQUEST = 1
NLM_F_ACK = 4
NLM_F_DUMP = 0x300
NLA_F_NESTED = 0x8000
SOL_NETLINK = 270
NETLINK_EXT_ACK = 11
NETLINK_CAP_ACK = 10


def nla(t, data):
    a = struct.pack("=HH", 4 + len(data), t) + data
    return a + b"\0" * (-len(a) % 4)


class Netlink:
    """A netlink socket that sends requests and waits for their answer."""

    def __init__(self, proto):
        self.s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, proto)
        self.s.setsockopt(SOL_NETLINK, NETLINK_EXT_ACK, 1)
        self.s.setsockopt(SOL_NETLINK, NETLINK_CAP_ACK, 1)
        self.s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        self.s.bind((0, 0))
        self.s.settimeout(30)
        self.buf = bytearray(1 << 16)
        self.seq = 0
        self.answers = {}

    def request(self, mtype, flags, body):
        """Send one request, return its errno (0: ACK or end of a dump)."""
        self.seq += 1
        msg = struct.pack("=IHHII", 16 + len(body), mtype, flags, self.seq,
                          0) + body
        self.s.send(msg)
        while True:
            n = self.s.recv_into(self.buf)
            data = self.buf[:n]
            off = 0
            while off + 16 <= len(data):
                ln, t, _, seq, _ = struct.unpack_from("=IHHII", data, off)
                if ln < 16:
                    break
                if seq == self.seq and t in (NLMSG_ERROR, NLMSG_DONE):
                    err = 0
                    if t == NLMSG_ERROR:
                        err = -struct.unpack_from("=i", data, off + 16)[0]
                    key = errno.errorcode.get(err, str(err)) if err else "OK"
                    self.answers[key] = self.answers.get(key, 0) + 1
                    return err
                off += (ln + 3) & ~3


def genl_family(nl, name):
    """The id of generic netlink family NAME."""
    nl.seq += 1
    body = struct.pack("=BBH", 3, 1, 0) + nla(2, name.encode() + b"\0")
    nl.s.send(struct.pack("=IHHII", 16 + len(body), 16, NLM_F_REQUEST,
                          nl.seq, 0) + body)
    data = nl.s.recv(65536)
    off = 20
    while off + 4 <= len(data):
        ln, t = struct.unpack_from("=HH", data, off)
        if t == 1:
            return struct.unpack_from("=H", data, off + 4)[0]
        off += (ln + 3) & ~3
    raise SystemExit("genl family %s not found" % name)


def rand_blob(r):
    n = r.choice((0, 1, 2, 3, 4, 4, 4, 5, 8, 16, 17, 20, r.randint(0, 300)))
    return r.randbytes(n)


def garbage_attrs(r, maxtype, depth=0):
    out = b""
    for _ in range(r.choice((0, 1, 2, 3, 5, 8))):
        t = r.randint(0, maxtype + 3)
        if depth < 3 and r.random() < 0.15:
            data = garbage_attrs(r, maxtype, depth + 1)
            t |= NLA_F_NESTED if r.random() < 0.7 else 0
        else:
            data = rand_blob(r)
        out += nla(t, data)
    return out


def cmd_genl(seed, n):
    r = random.Random(seed)
    nl = Netlink(16)
    fam = genl_family(nl, "xtfs")
    addrs = [socket.inet_aton("192.0.2.1"), socket.inet_aton("192.0.2.2"),
             socket.inet_pton(socket.AF_INET6, "2001:db8:1::2")]

    def good_attr(t):
        if t == 1:
            return nla(1, struct.pack("=H", r.choice((2, 10, 0, 7, 0xffff))))
        if t in (2, 3):
            return nla(t, r.choice(addrs + [rand_blob(r)]))
        if t == 4:
            return nla(4, struct.pack("!I", r.choice((0x100, 0x300, 0x400,
                                                      0, 0xffffffff))))
        if t == 5:
            return nla(5, struct.pack("=I", r.choice((0, 1, 0xffffffff))))
        if t == 6:
            return nla(6, bytes([r.randrange(4)]))
        if t == 7:
            return nla(7 | NLA_F_NESTED, garbage_attrs(r, 22, 1))
        if t == 8:
            return nla(8, struct.pack("=I", r.choice((29, 30, 31, 0, 28, 32,
                                                      0xffffffff))))
        if t == 9:
            return nla(9, bytes([r.choice((0, 1, 2, 255))]))
        return nla(t, rand_blob(r))

    def valid_attrs():
        f = r.choice((2, 2, 2, 10))
        a = nla(1, struct.pack("=H", f))
        if f == 2:
            a += nla(3, addrs[r.randrange(2)])
            if r.random() < 0.3:
                a += nla(2, addrs[r.randrange(2)])
        else:
            a += nla(3, addrs[2])
        return a + nla(4, struct.pack("!I", r.choice((0x100, 0x300, 0x400))))

    t0 = time.time()
    for _ in range(n):
        cmd = r.choice((1, 1, 1, 2, 2, 2, 2, 0, 3, r.randrange(256)))
        flags = NLM_F_REQUEST | NLM_F_ACK
        if r.random() < 0.15:
            flags |= NLM_F_DUMP
        if r.random() < 0.05:
            flags |= r.getrandbits(16) & ~NLM_F_DUMP
        attrs = valid_attrs() if r.random() < 0.6 else b""
        for _ in range(r.choice((0, 0, 1, 2, 3, 4, 5, 6, 9))):
            if r.random() < 0.7:
                attrs += good_attr(r.randint(0, 12))
            else:
                attrs += garbage_attrs(r, 9)
        if r.random() < 0.05:
            attrs = attrs[:r.randint(0, len(attrs))]    # cut mid-attribute
        hdr = struct.pack("=BBH", cmd, r.choice((1, 1, 0, 2, 255)), 0)
        nl.request(fam, flags, hdr + attrs)
    print(json.dumps({"messages": nl.seq - 1, "answers": nl.answers,
                      "seconds": round(time.time() - t0, 1)}))


XFRM_MSG = {"NEWSA": 16, "DELSA": 17, "GETSA": 18, "UPDSA": 26,
            "FLUSHSA": 28, "NEWAE": 30, "GETAE": 31}
XFRMA_MAX = 41


def cmd_xfrm(seed, n, src, dst):
    r = random.Random(seed)
    nl = Netlink(6)
    gnl = Netlink(16)
    fam = genl_family(gnl, "xtfs")
    saddr = socket.inet_aton(src) + b"\0" * 12
    daddr = socket.inet_aton(dst) + b"\0" * 12
    spis = list(range(0x1000, 0x1010))

    def u32(t, v):
        return nla(t, struct.pack("=I", v & 0xffffffff))

    def alg(name, key, extra=b""):
        return name.encode().ljust(64, b"\0") + extra + key

    def algs():
        k = r.randrange(4)
        if k == 0:
            key = bytes(range(20))
            return nla(18, alg("rfc4106(gcm(aes))",
                               key, struct.pack("=II", 160, 128)))
        if k == 1:
            return nla(2, alg("ecb(cipher_null)", b"", struct.pack("=I", 0)))
        if k == 2:
            key = bytes(range(36))
            return nla(18, alg("rfc7539esp(chacha20,poly1305)", key,
                               struct.pack("=II", 288, 128)))
        return nla(r.choice((1, 2, 18, 20)), rand_blob(r))

    def iptfs_attrs():
        out = b""
        for t in r.sample(range(36, 42), r.randint(0, 6)):
            k = r.randrange(10)
            if k < 6:
                v = r.choice((0, 1, 2, 3, 255, 256, 1024, 65535, 65536,
                              1 << 31, 0xffffffff, r.getrandbits(32),
                              r.randint(0, 2000)))
                data = struct.pack("=H" if t == 37 else "=I",
                                   v & (0xffff if t == 37 else 0xffffffff))
                if t == 38:
                    data = b""
            else:
                data = rand_blob(r)
            out += nla(t, data)
        return out

    def other_attrs():
        out = b""
        for _ in range(r.choice((0, 0, 1, 2, 4))):
            t = r.randint(0, XFRMA_MAX + 3)
            if t == 33:
                out += nla(33, bytes([r.randrange(4)]))
            elif t in (21, 29, 30, 31, 24, 35):
                out += u32(t, r.getrandbits(32))
            elif t == 23:
                bl = r.choice((0, 1, 2, 4, 128))
                out += nla(23, struct.pack("=IIIIII", bl, 0, r.randrange(3),
                                          0, 0, r.choice((0, 32, 64, 4096,
                                                          bl * 32))) +
                           bytes(4 * bl)[:r.choice((4 * bl, 0, 3))])
            else:
                out += nla(t, rand_blob(r))
        return out

    def sa_info(spi, mode, fam_):
        sel = bytes(40) + struct.pack("=HBBBxxxiI", fam_ if r.random() < 0.9
                                      else 0, 0, 0, 0, 0, 0)
        xid = daddr + struct.pack("!I", spi) + struct.pack("=Bxxx", 50)
        lft = struct.pack("=8Q", *([0xffffffffffffffff] * 4 +
                                   [r.choice((0, 0, 0, 1, 5))] * 4))
        body = (sel + xid + saddr + lft + bytes(32) + bytes(12) +
                struct.pack("=IIHBBBxxxxxxx", 0, r.randrange(4), fam_, mode,
                            r.choice((0, 0, 32, 255)),
                            r.choice((0, 0, 1, 4, 8, 16, 32, 64, 128, 255))))
        assert len(body) == 224
        return body

    def sa_id(spi):
        return daddr + struct.pack("!I", spi) + struct.pack("=HBx", 2, 50)

    t0 = time.time()
    secs = {}
    stage = 0
    for _ in range(n):
        name = r.choice(("NEWSA", "NEWSA", "NEWSA", "UPDSA", "UPDSA", "DELSA",
                         "GETSA", "GETSA", "NEWAE", "GETAE", "FLUSHSA"))
        spi = r.choice(spis)
        flags = NLM_F_REQUEST | NLM_F_ACK
        if name in ("NEWSA", "UPDSA"):
            mode = 5 if r.random() < 0.85 else r.randrange(8)
            fam_ = 2 if r.random() < 0.95 else r.choice((10, 0, 7))
            body = sa_info(spi, mode, fam_)
            if r.random() < 0.9:
                body += nla(33, bytes([r.choice((1, 2, 1, 2, 0, 3))]))
            body += algs() + iptfs_attrs() + other_attrs()
            if r.random() < 0.15:
                # extension settings staged over the "xtfs" family first
                hdr = struct.pack("=BBH", 2, 1, 0)
                a = (nla(1, struct.pack("=H", 2)) + nla(3, daddr[:4]) +
                     nla(4, struct.pack("!I", spi)))
                if r.random() < 0.7:
                    a += nla(8, struct.pack("=I", r.choice((29, 30, 31, 7))))
                if r.random() < 0.5:
                    a += nla(9, bytes([r.choice((0, 1, 2))]))
                gnl.request(fam, flags, hdr + a)
                stage += 1
        elif name in ("DELSA", "GETSA"):
            body = sa_id(spi) + other_attrs()
            if name == "GETSA" and r.random() < 0.2:
                flags |= NLM_F_DUMP
        elif name in ("NEWAE", "GETAE"):
            body = (sa_id(spi) + saddr +
                    struct.pack("=II", r.choice((0, 1, 2, 3, 0xff)),
                                r.randrange(4)))
            for _ in range(r.randint(0, 3)):
                t = r.choice((9, 10, 11, 12, 23, 32, 21, r.randint(0, 44)))
                if t == 10:
                    body += nla(10, struct.pack("=III", r.getrandbits(32),
                                                r.getrandbits(32),
                                                r.getrandbits(32)))
                elif t == 9:
                    body += nla(9, struct.pack("=4Q", *[r.getrandbits(64)
                                                        for _ in range(4)]))
                else:
                    body += nla(t, rand_blob(r))
        else:
            body = struct.pack("=B", r.choice((50, 0, 255)))
        if r.random() < 0.05:
            body = body[:r.randint(0, len(body))]
        t = time.time()
        nl.request(XFRM_MSG[name], flags, body)
        secs[name] = secs.get(name, 0) + time.time() - t
    print(json.dumps({"messages": nl.seq + gnl.seq - 1, "staged": stage,
                      "answers": nl.answers, "stage_answers": gnl.answers,
                      "seconds_by_type": dict((k, round(v, 1))
                                              for k, v in secs.items()),
                      "seconds": round(time.time() - t0, 1)}))


def main():
    cmds = {"aggfrag": cmd_aggfrag, "iiv": cmd_iiv, "tunnel": cmd_tunnel,
            "cc": cmd_cc, "genl": cmd_genl, "xfrm": cmd_xfrm}
    if len(sys.argv) < 4 or sys.argv[1] not in cmds:
        raise SystemExit(__doc__)
    cmds[sys.argv[1]](int(sys.argv[2], 0), int(sys.argv[3]), *sys.argv[4:])


if __name__ == "__main__":
    main()
