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
  pcap_esp.py udp-recv PORT N TIMEOUT OUT [ADDR [READY]]
                               receive up to N UDP datagrams, write the
                               SHA-256 of each payload to OUT, one a line;
                               bound to ADDR (default 0.0.0.0; an IPv6
                               address such as :: makes an IPv6 socket)
                               stop after TIMEOUT seconds without one
                               once one came or the file OUT.done exists
                               (the sender is done), else after 60 s;
                               create the file READY once listening
  pcap_esp.py udp-send DST PORT N SIZE SEED OUT [GAP_US]
                               send N datagrams of SIZE random octets,
                               GAP_US microseconds apart (default: as
                               fast as possible), write the SHA-256 of
                               each payload to OUT
  pcap_esp.py tcp-recv ADDR PORT TIMEOUT OUT
                               accept one TCP connection on ADDR, read it to
                               the end, write "OCTETS SHA-256" to OUT
  pcap_esp.py tcp-send DST PORT OCTETS SEED OUT
                               connect (retrying for 30 s), send OCTETS
                               random octets, write "OCTETS SHA-256" to OUT
  pcap_esp.py aggfrag FILE     for each null-cipher ESP packet carrying
                               AGGFRAG (no IV, no ICV; full snap length):
                               "CAPACITY DATA PAD LEAD", the octets of data
                               block space, inner data and pad block, and
                               the length of the block at the start of the
                               space (0 when the block offset is not 0 or
                               its length is not in this packet)
  pcap_esp.py udp-mix DST PORT N MIN MAX SEED OUT
                               send N datagrams of MIN..MAX random octets
                               (sizes random too), write their SHA-256 to
                               OUT; print "BYTES SECONDS": inner IP octets
                               sent and the time from first to last send
  pcap_esp.py udp-send-tos DST PORT N SIZE TOS
                               send N datagrams of SIZE octets with TOS;
                               print the seconds from first to last send
  pcap_esp.py udp-recv-tos PORT N TIMEOUT OUT [READY]
                               receive up to N UDP datagrams, write the
                               TOS octet of each to OUT, one a line
  pcap_esp.py udp-mtu DST PORT SIZE
                               send SIZE octets with DF on a connected
                               socket; print "sent" or the errno name,
                               then the socket's path MTU (IP_MTU)
  pcap_esp.py esp-send FILE [GAP_US]
                               send the ESP packets of FILE again (and
                               its UDP ones, for ESP in UDP), IP
                               headers as they are, over a raw socket,
                               GAP_US microseconds apart
  pcap_esp.py esp-replay FILE STEP START T0 GAP_US
                               send the ESP packets of FILE numbered START,
                               START + STEP, ... (from 0): packet K at wall
                               clock time T0 + K * GAP_US microseconds, so
                               that STEP processes replay the whole file
                               interleaved in order; an IPv6 packet gets
                               flow label K + 1 (not covered by ESP's ICV),
                               so that RPS spreads the packets of one SA
"""
import errno
import hashlib
import os
import random
import socket
import struct
import sys
import time


def esp_raw(path):
    """Yield (IP header length, IP packet) of every IPv4/IPv6 ESP packet."""
    for hlen, proto, ip in ip_raw(path):
        if proto == 50:
            yield hlen, ip


def ip_raw(path):
    """Yield (IP header length, protocol, IP packet) of every IPv4/IPv6
    packet (no IPv6 extension headers expected)."""
    for _, hlen, proto, ip in ip_timed(path):
        yield hlen, proto, ip


def ip_timed(path):
    """Yield (capture time in seconds, IP header length, protocol, IP
    packet) of every IPv4/IPv6 packet (no IPv6 extension headers
    expected)."""
    with open(path, "rb") as f:
        hdr = f.read(24)
        if len(hdr) < 24:
            return
        magic = struct.unpack("<I", hdr[:4])[0]
        endian = "<" if magic in (0xA1B2C3D4, 0xA1B23C4D) else ">"
        # The nanosecond format has a magic of its own.
        frac = 1e-9 if magic in (0xA1B23C4D, 0x4D3CB2A1) else 1e-6
        linktype = struct.unpack(endian + "I", hdr[20:24])[0]
        while True:
            rec = f.read(16)
            if len(rec) < 16:
                return
            sec, sub, incl, _ = struct.unpack(endian + "IIII", rec)
            t = sec + sub * frac
            data = f.read(incl)
            if linktype == 1:          # Ethernet
                if len(data) < 14:
                    continue
                etype = struct.unpack("!H", data[12:14])[0]
                ip = data[14:]
            elif linktype == 113:      # Linux cooked
                etype = struct.unpack("!H", data[14:16])[0]
                ip = data[16:]
            elif linktype == 276:      # Linux cooked v2 (tcpdump -i any)
                if len(data) < 20:
                    continue
                etype = struct.unpack("!H", data[:2])[0]
                ip = data[20:]
            else:
                continue
            if etype == 0x0800 and len(ip) >= 20:
                yield t, (ip[0] & 15) * 4, ip[9], ip
            elif etype == 0x86DD and len(ip) >= 40:
                yield t, 40, ip[6], ip


def ip_dst(ip):
    """The destination address of IPv4 or IPv6 packet IP, as text."""
    if ip[0] >> 4 == 6:
        return socket.inet_ntop(socket.AF_INET6, ip[24:40])
    return socket.inet_ntoa(ip[16:20])


def send_raw(ips, dst, gap_us=0, times=None):
    """Send outer IP packets ips, headers as they are, over a raw socket,
    GAP_US microseconds apart, or each at its wall clock time in TIMES."""
    fam = socket.AF_INET6 if ":" in dst else socket.AF_INET
    # IPPROTO_RAW: the header is the caller's (IP_HDRINCL, IPV6_HDRINCL).
    with socket.socket(fam, socket.SOCK_RAW, socket.IPPROTO_RAW) as s:
        for i, ip in enumerate(ips):
            if times:
                wait = times[i] - time.time()
                if wait > 0:
                    time.sleep(wait)
            while True:
                try:
                    s.sendto(ip, (dst, 0))
                    break
                except (BlockingIOError, InterruptedError):
                    time.sleep(0.001)
                except OSError as e:
                    if e.errno != errno.ENOBUFS:    # a full queue
                        raise
                    time.sleep(0.001)
            if gap_us:
                time.sleep(gap_us / 1e6)


def esp_replay(path, step, start, t0, gap_us):
    """Send every STEP-th ESP packet of PATH from START, packet K at
    T0 + K * GAP_US us, IPv6 packets with flow label K + 1."""
    ips = [ip for _, ip in esp_raw(path)]
    if not ips:
        return
    pkts, times = [], []
    for k in range(start, len(ips), step):
        ip = bytearray(ips[k])
        if ip[0] >> 4 == 6:
            label = (k + 1) & 0xfffff
            ip[1] = (ip[1] & 0xf0) | (label >> 16)
            ip[2:4] = struct.pack("!H", label & 0xffff)
        pkts.append(bytes(ip))
        times.append(t0 + k * gap_us / 1e6)
    send_raw(pkts, ip_dst(ips[0]), times=times)


def esp_packets(path):
    """Yield (IP version, IP total length, SPI, sequence number) of every
    IPv4/IPv6 ESP packet; SPI and sequence number are None if the capture
    cut them off."""
    for hlen, ip in esp_raw(path):
        if ip[0] >> 4 == 4:
            ver, tot = 4, struct.unpack("!H", ip[2:4])[0]
        else:
            ver, tot = 6, 40 + struct.unpack("!H", ip[4:6])[0]
        esp = ip[hlen:]
        spi, seq = struct.unpack("!II", esp[:8]) if len(esp) >= 8 \
            else (None, None)
        yield ver, tot, spi, seq


def aggfrag_fill(path):
    """Yield (capacity, data, pad, lead) for each null-cipher AGGFRAG packet
    (lead: the length of a data block starting the space, else 0).

    ESP with ecb(cipher_null) and no authentication: the payload follows
    the 8-octet ESP header, then pad, pad length and next header. The
    block offset (RFC 9347 section 6.1.1) says where the first data block
    starts; each block's length comes from its IP header (section 6.1.3);
    a pad block (type 0) runs to the end.
    """
    for hlen, ip in esp_raw(path):
        if hlen == 40:
            end = 40 + struct.unpack("!H", ip[4:6])[0]
        else:
            end = struct.unpack("!H", ip[2:4])[0]
        if len(ip) < end:
            raise SystemExit("truncated capture: use a full snap length")
        esp = ip[hlen:end]
        if len(esp) < 8 + 4 + 2 or esp[-1] != 144:
            continue
        pay = esp[8:len(esp) - 2 - esp[-2]]
        cap = len(pay) - 4
        pos = 4 + struct.unpack("!H", pay[2:4])[0]
        pad = lead = 0
        while pos < len(pay):
            kind = pay[pos] >> 4
            if kind == 0:
                pad = len(pay) - pos
                break
            if kind == 4 and pos + 4 <= len(pay):
                blen = struct.unpack("!H", pay[pos + 2:pos + 4])[0]
            elif kind == 6 and pos + 6 <= len(pay):
                blen = 40 + struct.unpack("!H", pay[pos + 4:pos + 6])[0]
            else:
                break       # length field continues in the next packet
            if blen < 20:
                raise SystemExit("bad data block length %d" % blen)
            if pos == 4:
                lead = blen
            pos += blen
        yield cap, cap - pad, pad, lead


def esp_seq(path, spi, first=None):
    """Reordered and missing sequence numbers of one SPI's packets: missing
    counts from FIRST when given (the capture began before the SA's first
    packet), else from the lowest number captured."""
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
    low = first if first is not None else min(seen, default=1)
    missing = max(top - low + 1 - len(seen), 0)
    print("packets %d reordered %d late %d missing %d duplicate %d" %
          (n, reordered, late, missing, n - len(seen)))


def udp_recv(port, count, timeout, out, addr="0.0.0.0", ready=None,
             tos=False):
    """Receive up to COUNT datagrams on ADDR:PORT and write a line for each
    to OUT: the SHA-256 of its payload, or with TOS its IP TOS byte (-1 if
    unknown). READY, a file made once the socket listens."""
    s = socket.socket(socket.AF_INET6 if ":" in addr else socket.AF_INET,
                      socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    if tos:
        s.setsockopt(socket.IPPROTO_IP, socket.IP_RECVTOS, 1)
    s.bind((addr, port))
    if ready:
        open(ready, "w").close()
    # TIMEOUT is the silence that ends the stream once it began, or once
    # the sender said it is done (the file OUT.done); before either, the
    # first datagram may take up to a minute (the sender's python starts
    # slowly under emulation).
    done_file = out + ".done"
    first_by = time.monotonic() + max(timeout, 60)
    last = done_at = None
    s.settimeout(0.2)
    got = []
    while len(got) < count:
        try:
            data, anc, _, _ = s.recvmsg(65535, socket.CMSG_SPACE(4))
        except socket.timeout:
            now = time.monotonic()
            if done_at is None and os.path.exists(done_file):
                done_at = now
            ref = max((t for t in (last, done_at) if t is not None),
                      default=None)
            if (ref is None and now >= first_by) or \
               (ref is not None and now - ref >= timeout):
                break
            continue
        last = time.monotonic()
        if not tos:
            got.append(hashlib.sha256(data).hexdigest())
        else:
            got.append(str(next((v[0] for lv, k, v in anc
                                 if lv == socket.IPPROTO_IP and
                                 k == socket.IP_TOS), -1)))
    with open(out, "w") as f:
        f.write("\n".join(got) + ("\n" if got else ""))


def udp_send(dst, port, count, size, seed, out, gap_us=0):
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
        if gap_us:
            time.sleep(gap_us / 1e6)
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


def udp_mix(dst, port, count, lo, hi, seed, out):
    rnd = random.Random(seed)
    fam = socket.AF_INET6 if ":" in dst else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_DGRAM)
    hdr = 48 if fam == socket.AF_INET6 else 28
    sums = []
    total = 0
    t0 = None
    for _ in range(count):
        data = rnd.randbytes(rnd.randint(lo, hi))
        sums.append(hashlib.sha256(data).hexdigest())
        if t0 is None:
            t0 = time.monotonic()
        while True:
            try:
                s.sendto(data, (dst, port))
                break
            except BlockingIOError:
                time.sleep(0.001)
        total += len(data) + hdr
    print(total, "%.3f" % (time.monotonic() - t0))
    with open(out, "w") as f:
        f.write("\n".join(sums) + "\n")


def udp_send_tos(dst, port, count, size, tos):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.IPPROTO_IP, socket.IP_TOS, tos)
    data = bytes(size)
    t0 = time.monotonic()
    for _ in range(count):
        s.sendto(data, (dst, port))
    print("%.3f" % (time.monotonic() - t0))


def udp_mtu(dst, port, size):
    """Send one datagram of SIZE octets that may not be fragmented (IPv4
    DF, IPv6 IPV6_DONTFRAG); print the result and the socket's path MTU."""
    if ":" in dst:
        ipv6_dontfrag, ipv6_mtu = 62, 24
        s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        s.setsockopt(socket.IPPROTO_IPV6, ipv6_dontfrag, 1)
        level, ip_mtu = socket.IPPROTO_IPV6, ipv6_mtu
    else:
        ip_mtu_discover, ip_pmtudisc_do = 10, 2
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setsockopt(socket.IPPROTO_IP, ip_mtu_discover, ip_pmtudisc_do)
        level, ip_mtu = socket.IPPROTO_IP, 14
    s.connect((dst, port))
    try:
        s.send(bytes(size))
        res = "sent"
    except OSError as e:
        res = errno.errorcode.get(e.errno, str(e.errno))
    print(res, s.getsockopt(level, ip_mtu))


def main():
    cmd = sys.argv[1]
    if cmd == "sizes":
        for _, n, _, _ in esp_packets(sys.argv[2]):
            print(n)
    elif cmd == "esp":
        for v, n, _, _ in esp_packets(sys.argv[2]):
            print(v, n)
    elif cmd == "esp-seq":
        esp_seq(sys.argv[2], int(sys.argv[3], 0),
                int(sys.argv[4]) if len(sys.argv) > 4 else None)
    elif cmd == "udp-recv":
        udp_recv(int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]),
                 sys.argv[5], *sys.argv[6:8])
    elif cmd == "udp-send":
        udp_send(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]),
                 int(sys.argv[5]), int(sys.argv[6]), sys.argv[7],
                 int(sys.argv[8]) if len(sys.argv) > 8 else 0)
    elif cmd == "tcp-recv":
        tcp_recv(sys.argv[2], int(sys.argv[3]), float(sys.argv[4]),
                 sys.argv[5])
    elif cmd == "tcp-send":
        tcp_send(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]),
                 int(sys.argv[5]), sys.argv[6])
    elif cmd == "aggfrag":
        for cap, data, pad, lead in aggfrag_fill(sys.argv[2]):
            print(cap, data, pad, lead)
    elif cmd == "udp-mix":
        udp_mix(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]),
                int(sys.argv[5]), int(sys.argv[6]), int(sys.argv[7]),
                sys.argv[8])
    elif cmd == "udp-send-tos":
        udp_send_tos(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]),
                     int(sys.argv[5]), int(sys.argv[6]))
    elif cmd == "udp-mtu":
        udp_mtu(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    elif cmd == "esp-send":
        ips = [ip for _, proto, ip in ip_raw(sys.argv[2])
               if proto in (17, 50)]
        if ips:
            send_raw(ips, ip_dst(ips[0]),
                     int(sys.argv[3]) if len(sys.argv) > 3 else 0)
    elif cmd == "esp-replay":
        esp_replay(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]),
                   float(sys.argv[5]), int(sys.argv[6]))
    elif cmd == "udp-recv-tos":
        udp_recv(int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]),
                 sys.argv[5], *sys.argv[6:8], tos=True)
    else:
        sys.exit("unknown command " + cmd)


if __name__ == "__main__":
    main()
