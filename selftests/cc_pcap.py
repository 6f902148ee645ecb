#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Sub-type 1 AGGFRAG headers (RFC 9347 section 6.1.2) of an ESP-NULL SA,
from a capture, and a plot of sending rates.

  cc_pcap.py hdrs FILE SPI
      for the IPv4 ESP packets of SPI in FILE (null encryption: the
      AGGFRAG header follows the 8-octet ESP header): print "packets N
      cc C e E ecn_ect T tval_distinct V": the packets, how many carry a
      sub-type 1 header, how many of those have the E flag set, how many
      have an ECN-capable outer header (ECT(0), ECT(1) or CE), and how
      many distinct TVal values they carry
  cc_pcap.py rate FILE SPI BIN
      print "T RATE" lines: packets of SPI per second in bins of BIN s,
      T from the first packet of FILE
  cc_pcap.py plot OUT W H SERIES... [-- MARKS...]
      write a W x H PNG line plot to OUT: each SERIES a file of "T VALUE"
      lines (one line colour each, in order: blue, red, green), time on
      the x axis from 0 to the largest T, values from 0 to the largest
      value; each MARK (a time in seconds) a grey vertical line; a light
      grid every 10 % of each axis. Pure Python (zlib): no plotting
      library is needed in the test root.
"""
import os
import struct
import sys
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pcap_esp import ip_timed  # noqa: E402


def packets(path, spi):
    """(time, outer DS octet, AGGFRAG payload) of each IPv4 ESP packet
    of spi."""
    for t, hlen, proto, ip in ip_timed(path):
        if proto != 50 or ip[0] >> 4 != 4 or len(ip) < hlen + 8:
            continue
        if struct.unpack("!I", ip[hlen:hlen + 4])[0] != spi:
            continue
        yield t, ip[1], ip[hlen + 8:]


def cmd_hdrs(path, spi):
    n = cc = e = ect = 0
    tvals = set()
    for _, ds, p in packets(path, int(spi, 0)):
        n += 1
        if ds & 3:
            ect += 1
        if len(p) >= 24 and p[0] == 1:
            cc += 1
            if p[1] & 1:
                e += 1
            tvals.add(struct.unpack("!I", p[16:20])[0])
    print("packets %d cc %d e %d ecn_ect %d tval_distinct %d" %
          (n, cc, e, ect, len(tvals)))


def cmd_rate(path, spi, binw):
    binw = float(binw)
    times = [t for t, _, _ in packets(path, int(spi, 0))]
    if not times:
        return
    t0 = times[0]
    bins = {}
    for t in times:
        k = int((t - t0) / binw)
        bins[k] = bins.get(k, 0) + 1
    for k in range(max(bins) + 1):
        print("%.2f %.1f" % ((k + 0.5) * binw, bins.get(k, 0) / binw))


COLOURS = ((0, 70, 200), (210, 30, 30), (20, 150, 50))


def png(path, w, h, px):
    """Write RGB rows px (h lists of w (r, g, b)) as a PNG."""
    raw = b"".join(b"\0" + bytes(c for p in row for c in p) for row in px)

    def chunk(kind, data):
        return (struct.pack("!I", len(data)) + kind + data +
                struct.pack("!I", zlib.crc32(kind + data) & 0xffffffff))

    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n")
        f.write(chunk(b"IHDR", struct.pack("!IIBBBBB", w, h, 8, 2, 0, 0, 0)))
        f.write(chunk(b"IDAT", zlib.compress(raw, 9)))
        f.write(chunk(b"IEND", b""))


def cmd_plot(out, w, h, *args):
    w, h = int(w), int(h)
    args = list(args)
    marks = []
    if "--" in args:
        i = args.index("--")
        marks = [float(m) for m in args[i + 1:]]
        args = args[:i]
    series = []
    for f in args:
        with open(f) as fh:
            series.append([tuple(map(float, ln.split()[:2]))
                           for ln in fh if ln.strip()])
    tmax = max([p[0] for s in series for p in s] + marks + [1.0])
    vmax = max([p[1] for s in series for p in s] + [1.0]) * 1.05
    m = 20
    px = [[(255, 255, 255)] * w for _ in range(h)]

    def xy(t, v):
        return (m + int((w - 2 * m) * t / tmax),
                h - m - int((h - 2 * m) * v / vmax))

    def dot(x, y, c):
        if 0 <= x < w and 0 <= y < h:
            px[y][x] = c

    def line(a, b, c):
        (x0, y0), (x1, y1) = a, b
        n = max(abs(x1 - x0), abs(y1 - y0), 1)
        for i in range(n + 1):
            x = x0 + (x1 - x0) * i // n
            y = y0 + (y1 - y0) * i // n
            dot(x, y, c)
            dot(x, y + 1, c)

    for i in range(11):
        line(xy(tmax * i / 10, 0), xy(tmax * i / 10, vmax), (235, 235, 235))
        line(xy(0, vmax * i / 10), xy(tmax, vmax * i / 10), (235, 235, 235))
    for t in marks:
        line(xy(t, 0), xy(t, vmax), (150, 150, 150))
    line(xy(0, 0), xy(tmax, 0), (0, 0, 0))
    line(xy(0, 0), xy(0, vmax), (0, 0, 0))
    for k, s in enumerate(series):
        for a, b in zip(s, s[1:]):
            line(xy(*a), xy(*b), COLOURS[k % len(COLOURS)])
    png(out, w, h, px)


def main():
    cmds = {"hdrs": cmd_hdrs, "rate": cmd_rate, "plot": cmd_plot}
    if len(sys.argv) < 3 or sys.argv[1] not in cmds:
        raise SystemExit(__doc__)
    cmds[sys.argv[1]](*sys.argv[2:])


if __name__ == "__main__":
    main()
