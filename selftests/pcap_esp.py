#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Small helpers for the xtfs selftests, with no dependency beyond Python.

  pcap_esp.py sizes FILE       IP total length of each ESP packet in FILE
  pcap_esp.py esp FILE         IP version and total length of each ESP
                               packet in FILE ("4 1400"), one a line
  pcap_esp.py esp-seq FILE SPI for the ESP packets of SPI (0x100) in FILE:
                               "packets N reordered N late N missing N
                               duplicate N": reordered counts packets with
                               a sequence number below one seen before,
                               late is the most by which one was below,
                               missing the
                               numbers never seen between the lowest and
                               the highest, duplicate the repeats
  pcap_esp.py udp-recv PORT N TIMEOUT OUT [ADDR]
                               receive up to N UDP datagrams, write the
                               SHA-256 of each payload to OUT, one a line;
                               bound to ADDR (default 0.0.0.0; an IPv6
                               address such as :: makes an IPv6 socket)
  pcap_esp.py udp-send DST PORT N SIZE SEED OUT
                               send N datagrams of SIZE random octets,
                               write the SHA-256 of each payload to OUT
  pcap_esp.py tcp-recv ADDR PORT TIMEOUT OUT
                               accept one TCP connection on ADDR, read it to
                               the end, write "OCTETS SHA-256" to OUT
  pcap_esp.py tcp-send DST PORT OCTETS SEED OUT
                               connect (retrying for 30 s), send OCTETS
                               random octets, write "OCTETS SHA-256" to OUT
"""
import hashlib
import random
import socket
import struct
import sys
import time


def esp_packets(path):
    """Yield (IP version, IP total length, SPI, sequence number) of every
    IPv4/IPv6 ESP packet; SPI and sequence number are None if the capture
    cut them off."""
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
                ver, tot, esp = 4, struct.unpack("!H", ip[2:4])[0], \
                    ip[(ip[0] & 15) * 4:]
            elif etype == 0x86DD and len(ip) >= 40 and ip[6] == 50:
                ver, tot, esp = 6, 40 + struct.unpack("!H", ip[4:6])[0], \
                    ip[40:]
            else:
                continue
            spi, seq = struct.unpack("!II", esp[:8]) if len(esp) >= 8 \
                else (None, None)
            yield ver, tot, spi, seq


def esp_seq(path, spi):
    """Reordered and missing sequence numbers of one SPI's packets."""
    seen = set()
    top = 0
    n = reordered = late = 0
    for _, _, s, seq in esp_packets(path):
        if s != spi:
            continue
        n += 1
        if seq < top:
            reordered += 1
            late = max(late, top - seq)
        top = max(top, seq)
        seen.add(seq)
    missing = top - min(seen) + 1 - len(seen) if seen else 0
    print("packets %d reordered %d late %d missing %d duplicate %d" %
          (n, reordered, late, missing, n - len(seen)))


def udp_recv(port, count, timeout, out, addr="0.0.0.0"):
    s = socket.socket(socket.AF_INET6 if ":" in addr else socket.AF_INET,
                      socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    s.bind((addr, port))
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
        data = rnd.getrandbits(8 * size).to_bytes(size, "little") \
            if size else b""
        sums.append(hashlib.sha256(data).hexdigest())
        while True:
            try:
                s.sendto(data, (dst, port))
                break
            except BlockingIOError:
                time.sleep(0.001)
    with open(out, "w") as f:
        f.write("\n".join(sums) + "\n")


def tcp_recv(addr, port, timeout, out):
    s = socket.socket(socket.AF_INET6 if ":" in addr else socket.AF_INET,
                      socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, port))
    s.listen(1)
    s.settimeout(timeout)
    n = 0
    h = hashlib.sha256()
    try:
        c, _ = s.accept()
        c.settimeout(timeout)
        while True:
            data = c.recv(1 << 16)
            if not data:
                break
            n += len(data)
            h.update(data)
        c.close()
    except socket.timeout:
        pass
    with open(out, "w") as f:
        f.write("%d %s\n" % (n, h.hexdigest()))


def tcp_send(dst, port, octets, seed, out):
    rnd = random.Random(seed)
    fam = socket.AF_INET6 if ":" in dst else socket.AF_INET
    deadline = time.time() + 30
    while True:
        s = socket.socket(fam, socket.SOCK_STREAM)
        try:
            s.connect((dst, port))
            s.settimeout(300)
            break
        except OSError:
            s.close()
            if time.time() > deadline:
                raise
            time.sleep(0.2)
    h = hashlib.sha256()
    left = octets
    while left:
        k = min(left, 1 << 16)
        data = rnd.getrandbits(8 * k).to_bytes(k, "little")
        s.sendall(data)
        h.update(data)
        left -= k
    s.shutdown(socket.SHUT_WR)
    s.recv(1)                  # the receiver's close
    s.close()
    with open(out, "w") as f:
        f.write("%d %s\n" % (octets, h.hexdigest()))


def main():
    cmd = sys.argv[1]
    if cmd == "sizes":
        for _, n, _, _ in esp_packets(sys.argv[2]):
            print(n)
    elif cmd == "esp":
        for v, n, _, _ in esp_packets(sys.argv[2]):
            print(v, n)
    elif cmd == "esp-seq":
        esp_seq(sys.argv[2], int(sys.argv[3], 0))
    elif cmd == "udp-recv":
        udp_recv(int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]),
                 sys.argv[5], *sys.argv[6:7])
    elif cmd == "udp-send":
        udp_send(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]),
                 int(sys.argv[5]), int(sys.argv[6]), sys.argv[7])
    elif cmd == "tcp-recv":
        tcp_recv(sys.argv[2], int(sys.argv[3]), float(sys.argv[4]),
                 sys.argv[5])
    elif cmd == "tcp-send":
        tcp_send(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]),
                 int(sys.argv[5]), sys.argv[6])
    else:
        sys.exit("unknown command " + cmd)


if __name__ == "__main__":
    main()
