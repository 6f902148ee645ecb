#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Small helpers for the xtfs selftests, with no dependency beyond Python.

  pcap_esp.py sizes FILE       IP total length of each ESP packet in FILE
  pcap_esp.py udp-recv PORT N TIMEOUT OUT
                               receive up to N UDP datagrams, write the
                               SHA-256 of each payload to OUT, one a line
  pcap_esp.py udp-send DST PORT N SIZE SEED OUT
                               send N datagrams of SIZE random octets,
                               write the SHA-256 of each payload to OUT
"""
import hashlib
import random
import socket
import struct
import sys
import time


def esp_sizes(path):
    """Yield the IP total length of every IPv4/IPv6 ESP packet."""
    with open(path, "rb") as f:
        hdr = f.read(24)
        if len(hdr) < 24:
            return
        magic = struct.unpack("<I", hdr[:4])[0]
        endian = "<" if magic in (0xA1B2C3D4, 0xA1B23C4D) else ">"
        linktype = struct.unpack(endian + "I", hdr[20:24])[0]
        while True:
            rec = f.read(16)
            if len(rec) < 16:
                return
            _, _, incl, _ = struct.unpack(endian + "IIII", rec)
            data = f.read(incl)
            if linktype == 1:          # Ethernet
                if len(data) < 14:
                    continue
                etype = struct.unpack("!H", data[12:14])[0]
                ip = data[14:]
            elif linktype == 113:      # Linux cooked
                etype = struct.unpack("!H", data[14:16])[0]
                ip = data[16:]
            else:
                continue
            if etype == 0x0800 and len(ip) >= 20 and ip[9] == 50:
                yield struct.unpack("!H", ip[2:4])[0]
            elif etype == 0x86DD and len(ip) >= 40 and ip[6] == 50:
                yield 40 + struct.unpack("!H", ip[4:6])[0]


def udp_recv(port, count, timeout, out):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    s.bind(("0.0.0.0", port))
    s.settimeout(timeout)
    got = []
    try:
        while len(got) < count:
            data = s.recv(65535)
            got.append(hashlib.sha256(data).hexdigest())
    except socket.timeout:
        pass
    with open(out, "w") as f:
        f.write("\n".join(got) + ("\n" if got else ""))


def udp_send(dst, port, count, size, seed, out):
    rnd = random.Random(seed)
    s = socket.socket(socket.AF_INET6 if ":" in dst else socket.AF_INET,
                      socket.SOCK_DGRAM)
    sums = []
    for _ in range(count):
        data = bytes(rnd.getrandbits(8) for _ in range(size))
        sums.append(hashlib.sha256(data).hexdigest())
        while True:
            try:
                s.sendto(data, (dst, port))
                break
            except BlockingIOError:
                time.sleep(0.001)
    with open(out, "w") as f:
        f.write("\n".join(sums) + "\n")


def main():
    cmd = sys.argv[1]
    if cmd == "sizes":
        for n in esp_sizes(sys.argv[2]):
            print(n)
    elif cmd == "udp-recv":
        udp_recv(int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]),
                 sys.argv[5])
    elif cmd == "udp-send":
        udp_send(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]),
                 int(sys.argv[5]), int(sys.argv[6]), sys.argv[7])
    else:
        sys.exit("unknown command " + cmd)


if __name__ == "__main__":
    main()
