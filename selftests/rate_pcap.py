#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""The departures of a fixed-rate SA's ESP packets, from a capture.

  rate_pcap.py times FILE SPI OUT
      for the IPv4/IPv6 ESP packets of SPI (0x100) in FILE: write their
      inter-departure times (seconds, one a line) to OUT and print
      "packets N seconds S sizes SIZE[,SIZE...] median M": the packets,
      the time from the first to the last, the distinct IP total lengths
      and the median inter-departure time
  rate_pcap.py ks A B
      two-sample Kolmogorov-Smirnov test of the samples in files A and B
      (one number a line): print "D P", the statistic and its asymptotic
      p-value
"""
import math
import os
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pcap_esp import ip_timed  # noqa: E402


def departures(path, spi):
    """(capture time, IP total length) of every ESP packet of spi."""
    out = []
    for t, hlen, proto, ip in ip_timed(path):
        if proto != 50 or len(ip) < hlen + 4:
            continue
        if struct.unpack("!I", ip[hlen:hlen + 4])[0] != spi:
            continue
        if ip[0] >> 4 == 4:
            tot = struct.unpack("!H", ip[2:4])[0]
        else:
            tot = 40 + struct.unpack("!H", ip[4:6])[0]
        out.append((t, tot))
    return out


def times(path, spi, out):
    dep = departures(path, spi)
    gaps = [b[0] - a[0] for a, b in zip(dep, dep[1:])]
    with open(out, "w") as f:
        f.write("".join("%.6f\n" % g for g in gaps))
    sizes = sorted({d[1] for d in dep})
    span = dep[-1][0] - dep[0][0] if dep else 0.0
    med = sorted(gaps)[len(gaps) // 2] if gaps else 0.0
    print("packets %d seconds %.4f sizes %s median %.6f"
          % (len(dep), span, ",".join(map(str, sizes)) or "-", med))


def ks_p(d, n, m):
    """Asymptotic p-value of the two-sample statistic d (Kolmogorov)."""
    ne = n * m / (n + m)
    lam = (math.sqrt(ne) + 0.12 + 0.11 / math.sqrt(ne)) * d
    if lam < 1e-3:
        return 1.0
    p = 2 * sum((-1) ** (k - 1) * math.exp(-2 * k * k * lam * lam)
                for k in range(1, 101))
    return min(max(p, 0.0), 1.0)


def ks(a_path, b_path):
    with open(a_path) as f:
        a = sorted(float(v) for v in f if v.strip())
    with open(b_path) as f:
        b = sorted(float(v) for v in f if v.strip())
    if not a or not b:
        print("nan 0")
        return
    i = j = 0
    d = 0.0
    while i < len(a) and j < len(b):
        v = min(a[i], b[j])
        while i < len(a) and a[i] <= v:
            i += 1
        while j < len(b) and b[j] <= v:
            j += 1
        d = max(d, abs(i / len(a) - j / len(b)))
    print("%.4f %.4f" % (d, ks_p(d, len(a), len(b))))


def main():
    cmd = sys.argv[1] if len(sys.argv) > 1 else ""
    if cmd == "times" and len(sys.argv) == 5:
        times(sys.argv[2], int(sys.argv[3], 0), sys.argv[4])
    elif cmd == "ks" and len(sys.argv) == 4:
        ks(sys.argv[2], sys.argv[3])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
