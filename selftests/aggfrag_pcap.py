#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Captures and listings for the AGGFRAG dissector's test (xtfs_wireshark.sh).

  aggfrag_pcap.py craft OUT SUMS
      write OUT, a capture (raw IP link type) of ESP-NULL packets (SPI
      0x300, 192.0.2.1 to 192.0.2.2, no ICV) whose AGGFRAG payloads were
      made here, not by xtfs, to cover what xtfs does not send or does not
      send on demand: a sub-type 1 header of known field values, an inner
      packet whose first part ends inside its IPv4 header, an all-pad
      payload between two parts, a part lost (a sequence number missing
      from the capture) and the orphan continuation after it. SUMS gets
      the SHA-256 of the payload of each UDP datagram the dissector must
      list, in order (see CRAFTED below).
  aggfrag_pcap.py sums FILE
      FILE is tshark's listing through the dissector, `tshark -T fields`
      with the fields of FIELDS below, one line a frame; print the SHA-256
      of each UDP datagram's payload it lists, one a line, in order.
  aggfrag_pcap.py tally FILE SPI
      of FILE's frames of ESP SPI (0x100): "esp N inner N reassembled N
      parts N aggregated N": ESP packets, inner packets shown, inner
      packets reassembled from parts in several ESP packets, the most ESP
      packets one of them spanned, and ESP packets showing two or more
      inner packets.

FIELDS, the tshark -T fields -e arguments (in this order) that sums and
tally read: esp.spi aggfrag.inner_count aggfrag.reassembled.length
aggfrag.fragment.frames udp.payload (several values of a field in one
frame are separated by commas, tshark's default).
"""
import hashlib
import os
import struct
import sys

sys.dont_write_bytecode = True     # no __pycache__ in the tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
# pylint: disable=wrong-import-position
from iipc import csum  # noqa: E402

SRC = bytes([192, 0, 2, 1])
DST = bytes([192, 0, 2, 2])
SPI = 0x300
IN4 = (bytes([198, 51, 100, 1]), bytes([198, 51, 100, 2]))
IN6 = (bytes.fromhex("20010db8000200000000000000000001"),
       bytes.fromhex("20010db8000200000000000000000002"))


def payload(tag, size):
    """size octets: tag, then a counting pattern."""
    body = tag.encode() + bytes(i & 0xFF for i in range(size))
    return body[:size]


def udp4(tag, size, port=7000):
    """An IPv4 UDP datagram of size octets of payload."""
    data = payload(tag, size)
    udp = struct.pack("!HHHH", 6000, port, 8 + len(data), 0) + data
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 1, 0, 64,
                      17, 0, IN4[0], IN4[1])
    hdr = hdr[:10] + struct.pack("!H", csum(hdr)) + hdr[12:]
    return hdr + udp


def udp6(tag, size, port=7000):
    """An IPv6 UDP datagram of size octets of payload (checksummed)."""
    data = payload(tag, size)
    ulen = 8 + len(data)
    pseudo = IN6[0] + IN6[1] + struct.pack("!IxxxB", ulen, 17)
    udp = struct.pack("!HHHH", 6000, port, ulen, 0) + data
    c = csum(pseudo + udp) or 0xFFFF
    udp = udp[:6] + struct.pack("!H", c) + udp[8:]
    return struct.pack("!IHBB16s16s", 0x60000000, ulen, 17, 64,
                       IN6[0], IN6[1]) + udp


def pad(n):
    return bytes(n)


def agg0(offset, blocks):
    """A sub-type 0 AGGFRAG payload."""
    return struct.pack("!BBH", 0, 0, offset) + blocks


def agg1(offset, blocks, p, e, ler, rtt, echo, tx, tval, techo):
    """A sub-type 1 (congestion control) AGGFRAG payload."""
    delays = (rtt << 42) | (echo << 21) | tx
    return struct.pack("!BBHIQII", 1, (p << 1) | e, offset, ler, delays,
                       tval, techo) + blocks


def esp_null(seq, agg):
    """An IPv4 ESP packet, NULL encryption, no ICV, next header 144."""
    n = (-(len(agg) + 2)) % 4
    body = (struct.pack("!II", SPI, seq) + agg + bytes(range(1, n + 1))
            + bytes([n, 144]))
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(body), seq, 0, 64,
                      50, 0, SRC, DST)
    hdr = hdr[:10] + struct.pack("!H", csum(hdr)) + hdr[12:]
    return hdr + body


# The crafted packets, by ESP sequence number; the packet of sequence
# number 6 is "lost" (not written). Listed datagrams: A1 A2 (seq 1), B1
# (seq 2), B2 (reassembled from seq 2, 4 and 5; seq 3 is all pad), C1 (seq
# 5), D1 (seq 7). C2 (begun in seq 5, continued in the lost 6) is given up
# at seq 7, whose first 200 octets are its orphan end.
def crafted():
    a1, a2 = udp4("A1", 100), udp6("A2", 60)
    b1, b2 = udp4("B1", 50), udp4("B2", 300)
    c1, c2 = udp6("C1", 80), udp4("C2", 472)
    d1 = udp4("D1", 64)
    assert len(b2) == 328 and len(c2) == 500
    pkts = {
        1: agg0(0, a1 + a2 + pad(20)),
        2: agg1(0, b1 + b2[:3], 1, 0, 1000, 0x12345, 0x1ABCD, 0x0F00D,
                0xDEADBEEF, 0x01020304),
        3: agg0(0, pad(40)),
        4: agg0(325, b2[3:203]),
        5: agg0(125, b2[203:] + c1 + c2[:100]),
        6: agg0(400, c2[100:300]),
        7: agg0(200, c2[300:] + d1 + pad(8)),
    }
    listed = [a1, a2, b1, b2, c1, d1]
    return [esp_null(s, p) for s, p in sorted(pkts.items()) if s != 6], \
        [hashlib.sha256(udp_payload(ip)).hexdigest() for ip in listed]


def udp_payload(ip):
    return ip[28:] if ip[0] >> 4 == 4 else ip[48:]


def craft(out, sums):
    pkts, listed = crafted()
    with open(out, "wb") as f:
        # pcap, microseconds, link type 101 (raw IP)
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 101))
        for i, p in enumerate(pkts):
            f.write(struct.pack("<IIII", 1000 + i, 0, len(p), len(p)) + p)
    with open(sums, "w") as f:
        f.write("\n".join(listed) + "\n")


def rows(path):
    """The frames of a FIELDS listing: (SPI, inner packets shown, number
    of reassembled packets, ESP packets of the one reassembled (0 if
    none), UDP payloads)."""
    with open(path) as f:
        for line in f:
            c = line.rstrip("\n").split("\t")
            if len(c) != 5:
                sys.exit("aggfrag_pcap.py: not a FIELDS line: %r" % line)
            # The innermost ESP header is the last one.
            spi = int(c[0].split(",")[-1], 0) if c[0] else None
            inner = sum(int(v) for v in c[1].split(",") if v)
            reasm = len([v for v in c[2].split(",") if v])
            parts = len([v for v in c[3].split(",") if v])
            payloads = [bytes.fromhex(h) for h in c[4].split(",") if h]
            yield spi, inner, reasm, parts, payloads


def sums(path):
    for *_, payloads in rows(path):
        for p in payloads:
            print(hashlib.sha256(p).hexdigest())


def tally(path, spi):
    n = inner = reasm = parts = agg = 0
    for s, i, r, p, _ in rows(path):
        if s != spi:
            continue
        n += 1
        inner += i
        reasm += r
        parts = max(parts, p)
        agg += i >= 2
    print("esp %d inner %d reassembled %d parts %d aggregated %d"
          % (n, inner, reasm, parts, agg))


def main():
    cmd = sys.argv[1] if len(sys.argv) > 1 else ""
    if cmd == "craft" and len(sys.argv) == 4:
        craft(sys.argv[2], sys.argv[3])
    elif cmd == "sums" and len(sys.argv) == 3:
        sums(sys.argv[2])
    elif cmd == "tally" and len(sys.argv) == 4:
        tally(sys.argv[2], int(sys.argv[3], 0))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
