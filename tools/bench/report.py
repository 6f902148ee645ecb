#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""report.py RAW.csv [PLOT.png] - the table and the plot of make bench.

RAW.csv holds the rows "round,system,metric,value" of bench-guest.sh.
Prints, for each workload, the median of each system over the rounds and
the ratios xtfs/in-tree and xtfs/tunnel as min/median/max of the
per-round ratios (the two figures of a ratio always come from the same
round), then the implicit-IV and Diet-ESP rows against plain xtfs, and
the receiving sockets' full-buffer drops (RcvbufErrors). Writes a PNG of
delivered packets per second by inner size, one line per system.
"""
import csv
import statistics
import sys
from collections import defaultdict

SYSTEMS = ("xtfs", "intree", "tunnel")
LABEL = {"xtfs": "xtfs", "intree": "in-tree xfrm_iptfs",
         "tunnel": "tunnel-mode ESP"}
# metric, description, which way is better
ROWS = (
    ("burst64_delivered", "burst 4000 x 64 B: delivered", "higher"),
    ("burst64_recv_s", "burst 4000 x 64 B: receiving time (s)", "lower"),
    ("udp64_pps", "64 B UDP, 10 s: delivered pkt/s", "higher"),
    ("udp576_pps", "576 B UDP, 5 s: delivered pkt/s", "higher"),
    ("udp1300_pps", "1300 B UDP, 5 s: delivered pkt/s", "higher"),
    ("udp1500_pps", "1500 B UDP, 5 s: delivered pkt/s", "higher"),
    ("imix_pps", "IMIX 7:4:1 (40/576/1500), 5 s: pkt/s", "higher"),
    ("burst1300_delivered", "burst 1000 x 1300 B: delivered", "higher"),
    ("burst1300_recv_s", "burst 1000 x 1300 B: receiving time (s)", "lower"),
    ("tcp1_mbps", "TCP, 1 flow, 10 s: Mbit/s", "higher"),
    ("tcp4_mbps", "TCP, 4 flows / 2 SA pairs / 2 CPUs: Mbit/s", "higher"),
    ("burst64_outer_pkts_per_inner", "fill 64 B: outer pkts per inner pkt",
     "lower"),
    ("burst64_outer_octets_per_inner_octet",
     "fill 64 B: outer octets per inner octet", "lower"),
    ("burst1300_outer_pkts_per_inner", "fill 1300 B: outer pkts per inner pkt",
     "lower"),
    ("burst1300_outer_octets_per_inner_octet",
     "fill 1300 B: outer octets per inner octet", "lower"),
)
VARIANTS = (
    ("xtfs-iiv", "implicit IV"),
    ("xtfs-diet", "implicit IV + Diet-ESP"),
)
VARIANT_ROWS = ("udp64_pps", "burst64_delivered", "burst64_recv_s",
                "burst64_outer_octets_per_inner_octet")
SIZES = ((64, "udp64_pps"), (576, "udp576_pps"), (1300, "udp1300_pps"),
         (1500, "udp1500_pps"))


def load(path):
    """{(system, metric): {round: value}} from RAW.csv"""
    data = defaultdict(dict)
    with open(path, newline="") as f:
        for rnd, system, metric, value in csv.reader(f):
            data[(system, metric)][int(rnd)] = float(value)
    return data


def fmt(v):
    """a figure in at most 4 significant digits"""
    if v is None:
        return "-"
    if abs(v) >= 100:
        return "%.0f" % v
    return "%.4g" % v


def median(vals):
    return statistics.median(vals) if vals else None


def ratios(data, a, b, metric):
    """xtfs-side A over B for each round both have, as min/median/max"""
    ra, rb = data.get((a, metric), {}), data.get((b, metric), {})
    rs = [ra[k] / rb[k] for k in sorted(ra) if k in rb and rb[k]]
    if not rs:
        return "-"
    return "%.2f/%.2f/%.2f" % (min(rs), statistics.median(rs), max(rs))


def table(data):
    rounds = sorted({r for v in data.values() for r in v})
    print("make bench: %d round(s); medians over the rounds; ratios as "
          "min/median/max of the per-round ratios" % len(rounds))
    w = 44
    print("%-*s %9s %9s %9s %16s %16s  %s" % (
        w, "workload", "xtfs", "in-tree", "tunnel", "xtfs/in-tree",
        "xtfs/tunnel", "better"))
    for metric, desc, better in ROWS:
        meds = [median(list(data.get((s, metric), {}).values()))
                for s in SYSTEMS]
        print("%-*s %9s %9s %9s %16s %16s  %s" % (
            w, desc, fmt(meds[0]), fmt(meds[1]), fmt(meds[2]),
            ratios(data, "xtfs", "intree", metric),
            ratios(data, "xtfs", "tunnel", metric), better))
    print()
    print("%-*s %9s %9s %16s" % (w, "xtfs variant", "variant", "xtfs",
                                 "variant/xtfs"))
    for system, name in VARIANTS:
        for metric in VARIANT_ROWS:
            desc = next(d for m, d, _ in ROWS if m == metric)
            print("%-*s %9s %9s %16s" % (
                w, "%s: %s" % (name, desc),
                fmt(median(list(data.get((system, metric), {}).values()))),
                fmt(median(list(data.get(("xtfs", metric), {}).values()))),
                ratios(data, system, "xtfs", metric)))
    print()
    for suffix, what in (("_rcvbuf_errors",
                          "receiving socket buffer drops (RcvbufErrors)"),
                         ("_backlog_drops",
                          "receive backlog drops (softnet_stat)")):
        errs = defaultdict(float)
        for (system, metric), v in data.items():
            if metric.endswith(suffix):
                errs[system] = max(errs[system], max(v.values()))
        print("%s, most in one run: " % what +
              ", ".join("%s %d" % (s, errs[s]) for s in sorted(errs)))


def plot(data, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5))
    for system in SYSTEMS:
        xs, ys = [], []
        for size, metric in SIZES:
            m = median(list(data.get((system, metric), {}).values()))
            if m is not None:
                xs.append(size)
                ys.append(m)
        if xs:
            ax.plot(xs, ys, marker="o", label=LABEL[system])
    ax.set_xlabel("inner UDP payload (octets)")
    ax.set_ylabel("delivered packets per second (median)")
    ax.set_title("make bench: UDP through each system, one socket, qemu TCG")
    ax.set_xticks([s for s, _ in SIZES])
    ax.set_ylim(bottom=0)
    ax.grid(True, alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit("usage: report.py RAW.csv [PLOT.png]")
    data = load(sys.argv[1])
    if not data:
        sys.exit("report.py: no figures in %s" % sys.argv[1])
    table(data)
    if len(sys.argv) == 3:
        plot(data, sys.argv[2])


if __name__ == "__main__":
    main()
