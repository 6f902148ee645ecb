#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""An independent cross-check of xtfs's implicit-IV ESP (RFC 8750).

Built on scapy's ESP (scapy.layers.ipsec.SecurityAssociation), which knows
only explicit IVs: an RFC 8750 packet with its implicit IV put back behind
the ESP header is an ordinary RFC 4106 (AES-GCM-16), RFC 4309 (AES-CCM-8)
or RFC 7634 (ChaCha20-Poly1305) packet. The implicit IV is 0^32 || SN
without ESN, the 64-bit sequence number with ESN (big-endian); scapy forms
the nonce (salt || IV) and the AAD (SPI || SN, or SPI || SN high || SN
low) itself.

SA options, common to open and seal:
  --alg gcm|ccm|chacha  AES-GCM-16, AES-CCM-8 or ChaCha20-Poly1305
  --key HEX             key material, salt last (4 octets, CCM 3); "0x"
                        optional
  --spi SPI             the SA's SPI (0x100 or 256)
  --esn                 extended sequence numbers
  --seq-hi N            high half of the first packet's 64-bit SN
                        (default 0; only with --esn)

  esp_iiv.py open PCAP SA-OPTIONS [--sums OUT] [--port P] [--sizes OUT]
                  [--udp PORT]
      Open the ESP packets of SPI in PCAP (tcpdump, link type Ethernet or
      Linux cooked v1 or v2, outer IPv4 or IPv6 without extension
      headers, full snap length), in capture
      order. With --esn the SN's high half starts at --seq-hi and goes up
      by one when the low half drops by more than 2^31 (a wrap). Every
      ICV must verify. The ESP payloads give the inner packets: next
      header 144 (AGGFRAG) by reassembling data blocks of consecutive
      SNs (pad blocks and all-pad payloads skipped), 4 or 41 the payload
      itself. Prints one line per inner packet, in SN order:
          VERSION PROTO SRC DST DPORT SHA256
      PROTO is udp, tcp, icmp, icmp6, frag (an IP fragment) or the
      number; DPORT is "-" but for UDP and TCP; SHA256 is the SHA-256 of
      the UDP payload, "-" for anything else. --sums OUT writes just the
      SHA-256 of each UDP payload (only those to port P with --port), one
      a line: the format of pcap_esp.py udp-send/udp-recv, so the files
      compare with cmp. --sizes OUT writes "SN LENGTH" for each opened ESP
      packet in capture order, LENGTH its IP total length (wire octets of
      the IP packet). With --udp the ESP packets are those in UDP
      datagrams to PORT (RFC 3948; non-ESP markers skipped), LENGTH then
      without the UDP header. A summary goes to stderr:
          esp_iiv: opened N ESP packets (SN A..B), inner M (udp U), lost
          L, incomplete I, skipped S octets, duplicate D
      lost counts inner packets in reassembly dropped for a gap in the
      SNs, incomplete one still unfinished at the end, skipped the octets
      continuing a packet that began before the capture or in a missing
      packet, duplicate the repeated SNs (ignored). Exit status 1
      if a packet does not open ("SN ... does not open: ..." on stderr),
      the AGGFRAG framing is inconsistent, or no packet of SPI is found.

  esp_iiv.py seal SA-OPTIONS --outer-src A --outer-dst B --src A --dst B
                  --port P [--sport P] --count N --size N --seed S
                  [--sums OUT] [--seq N] [--tunnel | --frag N]
                  [--pcap FILE] [--gap-us N] [--udp PORT]
      Make N inner UDP datagrams from SRC:SPORT (default PORT) to DST:PORT
      carrying SIZE octets each, the same random octets pcap_esp.py
      udp-send makes from SEED; write the SHA-256 of each payload to OUT
      as udp-send does. Each becomes one AGGFRAG data block of its own
      ESP packet (block offset 0, next header 144); with --tunnel the ESP
      payload is the inner packet (next header 4 or 41); with --frag N the
      inner packets go back to back into AGGFRAG payloads of N data block
      octets each, split across outer packets as needed, the last one
      filled with a pad block. Sealed by scapy with an explicit IV equal
      to the implicit one, which is then taken out. SNs run from
      (--seq-hi << 32) + --seq (default 1) up by one. Sent from the
      current network namespace over a raw socket (IP header included),
      GAP_US microseconds apart, or written to FILE (Ethernet link type)
      with --pcap. With --udp each ESP packet goes in a UDP datagram from
      and to PORT (RFC 3948). Prints "esp_iiv: sealed N ESP packets
      (SN A..B)" to stderr.

  esp_iiv.py selftest [--kat FILE]
      Offline check, no kernel: seal and open with every algorithm, with
      and without ESN (an ESN wrap included), AGGFRAG whole and split,
      tunnel payloads, pcap files of each link type, tampered packets,
      and every vector of FILE (default ../net/xtfs_iiv_kat.h from this
      script, the kernel's KUnit vectors): it opens, it fails tampered,
      and sealing its inner packet gives its wire octets. TAP output;
      exit status 1 on a failure.

  esp_iiv.py batch FILE
      Run the open and seal commands of FILE, one a line (shell words,
      the first the path of a log, then the command and its options) in
      this one process, so that scapy loads once: a test suite opens its
      captures or seals its packets in one go. Each command's stderr and
      stdout go to its log, its exit status to the log's path with
      ".rc" added. Exit status 1 if a line cannot be parsed.
"""
import argparse
import bisect
import contextlib
import hashlib
import io
import itertools
import os
import random
import re
import shlex
import socket
import struct
import sys
import tempfile

from scapy.layers.inet import IP, UDP
from scapy.layers.inet6 import IPv6
from scapy.layers.ipsec import ESP, IPSecIntegrityError, SecurityAssociation
from scapy.packet import Raw

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.dont_write_bytecode = True     # no __pycache__ in the tree
# pylint: disable-next=wrong-import-position,wrong-import-order
import pcap_esp  # noqa: E402

# Short name: (scapy's name of the explicit-IV algorithm, ICV octets,
# salt octets, key octets without the salt).
ALGS = {
    "gcm": ("AES-GCM", 16, 4, (16, 24, 32)),
    "ccm": ("AES-CCM", 8, 3, (16, 24, 32)),
    "chacha": ("CHACHA20-POLY1305", 16, 4, (32,)),
}
NH_IPV4, NH_IPV6, NH_NONE, NH_AGGFRAG = 4, 41, 59, 144
LOW = 0xffffffff
HALF = 1 << 31
PROTOS = {1: "icmp", 6: "tcp", 17: "udp", 58: "icmp6"}


class OpenError(Exception):
    """An ESP packet that does not open (ICV or format)."""


def implicit_iv(sn, esn):
    """The 8-octet IV that RFC 8750 section 4 leaves implicit for SN."""
    if esn:
        return struct.pack("!Q", sn)
    return struct.pack("!II", 0, sn & LOW)


def parse_key(alg, text):
    """Key material from hex (optional 0x), its length checked for alg."""
    text = text[2:] if text.lower().startswith("0x") else text
    key = bytes.fromhex(text)
    _, _, salt, sizes = ALGS[alg]
    if len(key) - salt not in sizes:
        raise ValueError("%s key material must be %s octets, not %d" % (
            alg, " or ".join(str(s + salt) for s in sizes), len(key)))
    return key


def ip_header(src, dst, proto):
    """A scapy IPv4 or IPv6 header (by the address family) for proto."""
    if ":" in src:
        return IPv6(src=src, dst=dst, nh=proto)
    return IP(src=src, dst=dst, proto=proto)


def ip_header_len(ip):
    """Octets of the IP header (no IPv6 extension headers expected)."""
    return (ip[0] & 15) * 4 if ip[0] >> 4 == 4 else 40


def ip_addrs(ip):
    """(source, destination) of an IPv4 or IPv6 packet as text."""
    if ip[0] >> 4 == 4:
        return (socket.inet_ntop(socket.AF_INET, ip[12:16]),
                socket.inet_ntop(socket.AF_INET, ip[16:20]))
    return (socket.inet_ntop(socket.AF_INET6, ip[8:24]),
            socket.inet_ntop(socket.AF_INET6, ip[24:40]))


def outer_packet(src, dst, esp):
    """An outer IP packet (bytes) around ESP octets esp."""
    return bytes(ip_header(src, dst, 50) / Raw(esp))


def ip_total_len(ip):
    """The length an IP packet's header gives it, None if cut short."""
    if len(ip) >= 20 and ip[0] >> 4 == 4:
        return struct.unpack("!H", ip[2:4])[0]
    if len(ip) >= 40 and ip[0] >> 4 == 6:
        return 40 + struct.unpack("!H", ip[4:6])[0]
    return None


class IivSa:
    """One implicit-IV ESP SA, run by a scapy explicit-IV SA."""

    def __init__(self, alg, key, spi, esn):
        name, icv, _, _ = ALGS[alg]
        self.esn = esn
        # esn=0 here: scapy takes a per-call ESN high half of 0 as "not
        # given" and falls back to this one.
        self.sa = SecurityAssociation(ESP, spi=spi, crypt_algo=name,
                                      crypt_key=key, crypt_icv_size=icv,
                                      esn_en=esn, esn=0)

    def seal(self, outer, nh, payload, sn, explicit=False):
        """The outer IP packet (bytes), from outer[0] to outer[1], of ESP
        payload with next header nh and 64-bit sequence number sn, its IV
        left out, or with explicit, left in (RFC 4106 ESP whose IV is the
        RFC 8750 value)."""
        if not self.esn and sn > LOW:
            raise ValueError("SN %d needs ESN" % sn)
        iv = implicit_iv(sn, self.esn)
        # scapy also takes seq_num 0 as "not given" and uses its own then.
        self.sa.seq_num = sn & LOW
        sealed = self.sa.encrypt(ip_header(*outer, nh) / Raw(payload),
                                 seq_num=sn & LOW, iv=iv,
                                 esn_en=self.esn, esn=sn >> 32)
        esp = bytes(sealed[ESP])
        if esp[8:16] != iv:
            raise ValueError("scapy put another IV in the packet")
        return outer_packet(*outer, esp if explicit else esp[:8] + esp[16:])

    def open(self, ip, sn):
        """(next header, ESP payload) of outer IP packet ip whose 64-bit
        sequence number is sn; raises OpenError."""
        hlen = ip_header_len(ip)
        esp = ip[hlen:]
        if len(esp) < 8:
            raise OpenError("no ESP header")
        explicit = esp[:8] + implicit_iv(sn, self.esn) + esp[8:]
        src, dst = ip_addrs(ip)
        hdr = ip_header(src, dst, 50)
        pkt = hdr.__class__(bytes(hdr / ESP(explicit)))
        try:
            res = self.sa.decrypt(pkt, esn_en=self.esn, esn=sn >> 32)
        except IPSecIntegrityError as e:
            raise OpenError("ICV check failed") from e
        except Exception as e:  # pylint: disable=broad-exception-caught
            raise OpenError("scapy: %r" % e) from e
        nh = res.proto if res.version == 4 else res.nh
        return nh, bytes(res.payload)


class SeqTracker:
    """64-bit SNs from the low halves on the wire, in capture order."""

    def __init__(self, esn, seq_hi=0):
        self.esn = esn
        self.top = None
        self.seq_hi = seq_hi

    def sn(self, low):
        """The 64-bit SN of a packet whose SN field is low: the high half
        of the highest SN so far, one more if low dropped by over 2^31
        (a wrap), one less if it rose by over 2^31 (late from before
        one)."""
        if not self.esn:
            return low
        if self.top is None:
            sn = (self.seq_hi << 32) | low
        else:
            sn = (self.top >> 32 << 32) | low
            if sn + HALF < self.top:
                sn += 1 << 32
            elif sn > self.top + HALF and sn >> 32:
                sn -= 1 << 32
        self.top = sn if self.top is None else max(self.top, sn)
        return sn


def block_len(data):
    """Length of the IPv4/IPv6 data block starting data, None if its
    length field is not (all) there; 0 for a pad block."""
    kind = data[0] >> 4
    if kind == 0:
        return 0
    if kind == 4 and len(data) >= 4:
        return struct.unpack("!H", data[2:4])[0]
    if kind == 6 and len(data) >= 6:
        return 40 + struct.unpack("!H", data[4:6])[0]
    if kind in (4, 6):
        return None
    raise ValueError("data block type %d" % kind)


class Reassembler:
    """Inner packets from AGGFRAG payloads (RFC 9347 section 2.2), fed in
    SN order."""

    def __init__(self):
        self.buf = None        # the inner packet being reassembled
        self.next_sn = None
        self.lost = 0
        self.skipped = 0
        self.errors = []

    def _error(self, sn, msg):
        self.errors.append("SN %d: %s" % (sn, msg))
        self.buf = None

    def _continue(self, sn, off, data):
        """Add the first off octets of data to the packet in progress;
        returns it if complete, else None."""
        need = block_len(self.buf) if len(self.buf) else None
        if need is not None and off != need - len(self.buf):
            self._error(sn, "block offset %d, but %d octets to come" %
                        (off, need - len(self.buf)))
            return None
        self.buf += data[:off]
        if off > len(data):
            return None
        done, self.buf = bytes(self.buf), None
        if block_len(done) != len(done):
            self._error(sn, "block offset %d ends a packet of %d octets "
                        "inside its header or past its end" %
                        (off, len(done)))
            return None
        return done

    def feed(self, sn, payload):
        """The inner packets completed by the AGGFRAG payload of SN."""
        out = []
        if len(payload) < 4 or payload[0] not in (0, 1) or \
                (payload[0] == 1 and len(payload) < 24):
            self._error(sn, "bad AGGFRAG header")
            return out
        off = struct.unpack("!H", payload[2:4])[0]
        data = payload[24 if payload[0] == 1 else 4:]
        if self.buf is not None and sn != self.next_sn:
            self.lost += 1
            self.buf = None
        self.next_sn = sn + 1
        if self.buf is not None:
            if off == 0 and (not data or data[0] == 0):
                return out          # all-pad: the packet goes on later
            if off == 0:
                self._error(sn, "block offset 0 inside an inner packet")
            else:
                done = self._continue(sn, off, data)
                if done:
                    out.append(done)
        else:
            self.skipped += min(off, len(data))
        return out + self._blocks(sn, data, off)

    def _blocks(self, sn, data, pos):
        """The whole data blocks in data from pos on; a block cut off at
        the end becomes the packet in progress."""
        out = []
        while pos < len(data):
            try:
                blen = block_len(data[pos:])
            except ValueError as e:
                self._error(sn, str(e))
                break
            if blen == 0:
                break
            if blen is not None and blen < 20:
                self._error(sn, "data block of %d octets" % blen)
                break
            if blen is None or pos + blen > len(data):
                self.buf = bytearray(data[pos:])
                break
            out.append(bytes(data[pos:pos + blen]))
            pos += blen
        return out


def inner_packets(records):
    """Inner packets of opened ESP packets records, (sn, next header,
    payload) tuples in any order. Returns (packets, stats, errors)."""
    rea = Reassembler()
    stats = {"duplicate": 0, "dummy": 0}
    errors = []
    packets = []
    seen = set()
    for sn, nh, payload in sorted(records, key=lambda r: r[0]):
        if sn in seen:
            stats["duplicate"] += 1
            continue
        seen.add(sn)
        if nh == NH_AGGFRAG:
            packets += rea.feed(sn, payload)
        elif nh in (NH_IPV4, NH_IPV6):
            if not payload or payload[0] >> 4 != (4 if nh == NH_IPV4 else 6) \
                    or ip_total_len(payload) != len(payload):
                errors.append("SN %d: next header %d but not such a packet"
                              % (sn, nh))
            else:
                packets.append(payload)
        elif nh == NH_NONE:
            stats["dummy"] += 1
        else:
            errors.append("SN %d: next header %d" % (sn, nh))
    stats["lost"] = rea.lost
    stats["skipped"] = rea.skipped
    stats["incomplete"] = 0 if rea.buf is None else 1
    return packets, stats, errors + rea.errors


def describe(inner):
    """(VERSION PROTO SRC DST DPORT SHA256 line, UDP dport, UDP payload
    SHA-256 or None) of an inner IP packet."""
    src, dst = ip_addrs(inner)
    if inner[0] >> 4 == 4:
        ver, l4, proto = 4, ip_header_len(inner), inner[9]
        frag = struct.unpack("!H", inner[6:8])[0] & 0x3fff
    else:
        ver, l4, proto, frag = 6, 40, inner[6], 0
        if proto == 44:
            frag = 1
    end = ip_total_len(inner)
    name = "frag" if frag else PROTOS.get(proto, str(proto))
    dport = digest = None
    if name in ("udp", "tcp") and l4 + 4 <= end:
        dport = struct.unpack("!H", inner[l4 + 2:l4 + 4])[0]
    if name == "udp":
        digest = hashlib.sha256(inner[l4 + 8:end]).hexdigest()
    line = "%d %s %s %s %s %s" % (ver, name, src, dst,
                                  "-" if dport is None else dport,
                                  digest or "-")
    return line, dport, digest


def read_esp(path, spi, udp=None):
    """The outer IP packets of SPI's ESP packets in pcap file path. With
    udp, those in UDP datagrams to port udp (RFC 3948), returned without
    their UDP header (IP header left as it is)."""
    out = []
    for hlen, proto, ip in pcap_esp.ip_raw(path):
        if proto != (17 if udp else 50):
            continue
        tot = ip_total_len(ip)
        if tot is None or len(ip) < tot:
            raise SystemExit("esp_iiv: %s: packet cut short: use a full "
                             "snap length" % path)
        ip = ip[:tot]
        if udp:
            # The destination port, and not a non-ESP marker (IKE).
            if len(ip) < hlen + 12 or \
                    struct.unpack("!H", ip[hlen + 2:hlen + 4])[0] != udp or \
                    ip[hlen + 8:hlen + 12] == bytes(4):
                continue
            ip = ip[:hlen] + ip[hlen + 8:]
        if len(ip) >= hlen + 8 and \
                struct.unpack("!I", ip[hlen:hlen + 4])[0] == spi:
            out.append(ip)
    return out


def udp_encap(ip, port):
    """Outer IP packet ip of ESP, in a UDP datagram from and to port
    (RFC 3948 section 2.1), its checksum filled."""
    src, dst = ip_addrs(ip)
    return bytes(ip_header(src, dst, 17) / UDP(sport=port, dport=port) /
                 Raw(ip[ip_header_len(ip):]))


def open_stream(isa, ips, seq_hi=0):
    """Open outer IP packets ips of one SA in capture order. Returns
    ([(sn, next header, payload, IP length)], [(sn, failure)])."""
    seq = SeqTracker(isa.esn, seq_hi)
    opened, failed = [], []
    for ip in ips:
        hlen = ip_header_len(ip)
        sn = seq.sn(struct.unpack("!I", ip[hlen + 4:hlen + 8])[0])
        try:
            nh, payload = isa.open(ip, sn)
        except OpenError as e:
            failed.append((sn, str(e)))
            continue
        opened.append((sn, nh, payload, len(ip)))
    return opened, failed


def write_lines(path, lines):
    """lines to path, one a line, as pcap_esp.py udp-recv writes them."""
    with open(path, "w", encoding="ascii") as f:
        f.write("".join(line + "\n" for line in lines))


def print_inner(packets, port):
    """Print a line for each inner packet; returns (SHA-256 of the UDP
    payloads to port, or to any port if None, number of UDP packets)."""
    sums = []
    nudp = 0
    for inner in packets:
        line, dport, digest = describe(inner)
        print(line)
        if digest:
            nudp += 1
            if port is None or dport == port:
                sums.append(digest)
    return sums, nudp


def cmd_open(args):
    """The open subcommand; returns the exit status."""
    isa = IivSa(args.alg, parse_key(args.alg, args.key), args.spi, args.esn)
    ips = read_esp(args.pcap, args.spi, args.udp)
    opened, failed = open_stream(isa, ips, args.seq_hi)
    for sn, why in failed:
        print("esp_iiv: SN %d (0x%x) does not open: %s" % (sn, sn, why),
              file=sys.stderr)
    if args.sizes:
        write_lines(args.sizes, ["%d %d" % (r[0], r[3]) for r in opened])
    packets, stats, errors = inner_packets([r[:3] for r in opened])
    for e in errors:
        print("esp_iiv: AGGFRAG: " + e, file=sys.stderr)
    sums, nudp = print_inner(packets, args.port)
    if args.sums:
        write_lines(args.sums, sums)
    sns = [r[0] for r in opened]
    print("esp_iiv: opened %d ESP packets (SN %s), inner %d (udp %d), "
          "lost %d, incomplete %d, skipped %d octets, duplicate %d" % (
              len(opened), "%d..%d" % (min(sns), max(sns)) if sns else "-",
              len(packets), nudp, stats["lost"], stats["incomplete"],
              stats["skipped"], stats["duplicate"]), file=sys.stderr)
    if not ips:
        print("esp_iiv: no ESP packet of SPI 0x%x in %s" %
              (args.spi, args.pcap), file=sys.stderr)
    return 1 if failed or errors or not ips else 0


def udp_payloads(count, size, seed):
    """count payloads of size octets: those pcap_esp.py udp-send sends
    for the same seed."""
    rnd = random.Random(seed)
    return [rnd.getrandbits(8 * size).to_bytes(size, "little") if size
            else b"" for _ in range(count)]


def udp_packet(src, dst, sport, dport, payload):
    """An inner IPv4 or IPv6 UDP packet (bytes), checksums filled."""
    return bytes(ip_header(src, dst, 17) / UDP(sport=sport, dport=dport) /
                 Raw(payload))


def aggfrag_payloads(inners, frag=None, allpad=()):
    """AGGFRAG payloads (RFC 9347 section 6.1.1) carrying inners: one
    payload a packet, or with frag the packets back to back in payloads of
    frag data block octets. allpad: indices of payloads before which an
    all-pad payload goes."""
    if frag is None:
        out = [struct.pack("!BBH", 0, 0, 0) + p for p in inners]
    else:
        stream = b"".join(inners)
        ends = list(itertools.accumulate(len(p) for p in inners))
        out = []
        for pos in range(0, len(stream), frag):
            # The block offset: octets up to the next data block start
            # (maybe past this payload, RFC 9347 section 6.1.1), 0 if a
            # block starts here.
            i = bisect.bisect_right(ends, pos)
            off = 0 if pos == (ends[i - 1] if i else 0) else ends[i] - pos
            chunk = stream[pos:pos + frag]
            out.append(struct.pack("!BBH", 0, 0, off) + chunk +
                       bytes(frag - len(chunk)))
    pad = struct.pack("!BBH", 0, 0, 0) + bytes(frag or 32)
    for i in sorted(allpad, reverse=True):
        out.insert(i, pad)
    return out


def write_pcap(path, ips, linktype=1):
    """Write outer IP packets ips to a pcap file of link type Ethernet (1),
    Linux cooked (113) or Linux cooked v2 (276)."""
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535,
                            linktype))
        for i, ip in enumerate(ips):
            etype = 0x86DD if ip[0] >> 4 == 6 else 0x0800
            if linktype == 1:
                frame = bytes.fromhex("020000000002020000000001") + \
                    struct.pack("!H", etype) + ip
            elif linktype == 113:
                frame = struct.pack("!HHH8sH", 4, 1, 6,
                                    bytes.fromhex("020000000001"), etype) + ip
            else:
                frame = struct.pack("!HHIHBB8s", etype, 0, 2, 1, 4, 6,
                                    bytes.fromhex("020000000001")) + ip
            f.write(struct.pack("<IIII", 1 + i // 1000, i % 1000 * 1000,
                                len(frame), len(frame)) + frame)


def seal_stream(isa, args, inners):
    """Outer IP packets (bytes) carrying inners as args say."""
    if args.tunnel:
        pays = [(NH_IPV6 if p[0] >> 4 == 6 else NH_IPV4, p) for p in inners]
    else:
        pays = [(NH_AGGFRAG, p) for p in
                aggfrag_payloads(inners, args.frag)]
    first = (args.seq_hi << 32) + args.seq
    return [isa.seal((args.outer_src, args.outer_dst), nh, p, first + i)
            for i, (nh, p) in enumerate(pays)], first


def cmd_seal(args):
    """The seal subcommand; returns the exit status."""
    isa = IivSa(args.alg, parse_key(args.alg, args.key), args.spi, args.esn)
    datas = udp_payloads(args.count, args.size, args.seed)
    inners = [udp_packet(args.src, args.dst, args.sport or args.port,
                         args.port, d) for d in datas]
    if args.sums:
        write_lines(args.sums, [hashlib.sha256(d).hexdigest()
                                for d in datas])
    ips, first = seal_stream(isa, args, inners)
    if args.udp:
        ips = [udp_encap(ip, args.udp) for ip in ips]
    if args.pcap:
        write_pcap(args.pcap, ips)
    else:
        pcap_esp.send_raw(ips, args.outer_dst, args.gap_us)
    print("esp_iiv: sealed %d ESP packets (SN %d..%d)" %
          (len(ips), first, first + len(ips) - 1), file=sys.stderr)
    return 0


# --- selftest ---------------------------------------------------------

KAT_ALGS = {"XTFS_IIV_ALG_AES_GCM_16": "gcm", "XTFS_IIV_ALG_AES_CCM_8": "ccm",
            "XTFS_IIV_ALG_CHACHA20_POLY1305": "chacha"}


def read_kats(path):
    """The vectors of net/xtfs_iiv_kat.h as dicts: name, alg, esn, key,
    seq, plain, wire."""
    with open(path, encoding="ascii") as f:
        text = f.read()
    kats = []
    for m in re.finditer(r'\{\s*\.name = "([^"]+)",(.*?)\n\t\},', text,
                         re.S):
        body = m.group(2)
        kat = {"name": m.group(1),
               "alg": KAT_ALGS[re.search(r"\.alg = (\w+)", body).group(1)],
               "esn": re.search(r"\.esn = (\w+)", body).group(1) == "true",
               "seq": int(re.search(r"\.seq = (0x[0-9a-f]+)ULL",
                                    body).group(1), 16)}
        for field in ("key", "plain", "wire"):
            arr = re.search(r"\.%s = \(const u8\[\]\)\{(.*?)\}" % field,
                            body, re.S).group(1)
            kat[field] = bytes(int(x, 16) for x in
                               re.findall(r"0x([0-9a-f]{2})", arr))
            n = int(re.search(r"\.%slen = (\d+)" % field, body).group(1))
            if n != len(kat[field]):
                raise ValueError("%s: %slen %d, %d octets" %
                                 (kat["name"], field, n, len(kat[field])))
        kats.append(kat)
    return kats


def check_kat(kat):
    """Open a kernel-format vector, fail it tampered, seal it again;
    returns a problem or None."""
    wire, plain = kat["wire"], kat["plain"]
    spi, low = struct.unpack("!II", wire[:8])
    if low != kat["seq"] & LOW:
        return "SN field %x, seq %x" % (low, kat["seq"])
    isa = IivSa(kat["alg"], kat["key"], spi, kat["esn"])
    ip = outer_packet("192.0.2.1", "192.0.2.2", wire)
    opened, failed = open_stream(isa, [ip], kat["seq"] >> 32)
    if failed:
        return "does not open: %s" % failed[0][1]
    inner = plain[:len(plain) - 2 - plain[-2]]
    if opened[0][:3] != (kat["seq"], plain[-1], inner):
        return "opens to something else"
    bad = bytearray(ip)
    bad[len(bad) // 2] ^= 0x10
    if not open_stream(isa, [bytes(bad)], kat["seq"] >> 32)[1]:
        return "opens tampered"
    again = isa.seal(("192.0.2.1", "192.0.2.2"), plain[-1], inner,
                     kat["seq"])
    if again[20:] != wire:
        return "sealed again it differs"
    return None


def make_args(**kw):
    """seal options as argparse would give them."""
    args = argparse.Namespace(tunnel=False, frag=None, seq=1, seq_hi=0,
                              udp=None)
    vars(args).update(kw)
    return args


def test_key(alg):
    """Reproducible key material for alg."""
    _, _, salt, sizes = ALGS[alg]
    return hashlib.sha256(alg.encode()).digest()[:sizes[-1]] + \
        hashlib.sha256(b"salt " + alg.encode()).digest()[:salt]


def expect_inner(inners, records):
    """Problem if records do not give exactly inners, or None."""
    got, stats, errors = inner_packets(records)
    if errors:
        return "AGGFRAG: " + errors[0]
    if got != inners:
        return "%d inner packets, %d expected (stats %s)" % (
            len(got), len(inners), stats)
    return None


def run_cli(argv):
    """main(argv) with its output captured: (status, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main(argv)
    return status, out.getvalue(), err.getvalue()


def st_cli(alg, esn, tmp, linktype):
    """seal to a pcap and open it with the command line: outer IPv6 and
    an ESN wrap with ESN, outer IPv4 without; in UDP (RFC 3948) with link
    type Ethernet."""
    sa = ["--alg", alg, "--key", "0x" + test_key(alg).hex(), "--spi", "0x200"]
    udp = ["--udp", "4500"] if linktype == 1 else []
    sa += ["--esn", "--seq-hi", "6"] if esn else []
    outer = ("2001:db8:1::1", "2001:db8:1::2") if esn else \
        ("192.0.2.1", "192.0.2.2")
    cap, sent, got = (os.path.join(tmp, n) for n in ("c", "sent", "got"))
    status, _, err = run_cli(
        ["seal"] + sa + ["--outer-src", outer[0], "--outer-dst", outer[1],
                         "--src", "198.51.100.1", "--dst", "198.51.100.2",
                         "--port", "5001", "--count", "5", "--size", "100",
                         "--seed", "3", "--sums", sent, "--pcap", cap,
                         "--seq", str(LOW - 1 if esn else 1)] + udp)
    if status:
        return "seal: " + err
    if linktype != 1:
        write_pcap(cap, [ip for _, ip in pcap_esp.esp_raw(cap)], linktype)
    status, out, err = run_cli(["open", cap] + sa + ["--sums", got] + udp)
    with open(sent, encoding="ascii") as a, open(got, encoding="ascii") as b:
        if a.read() != b.read() or len(out.splitlines()) != 5:
            return "sums differ: " + out + err
    if status or "opened 5 ESP packets" not in err:
        return "open: " + err
    return None


def st_frag(alg, esn):
    """AGGFRAG with inner packets split, length fields split too, and
    all-pad payloads in between, across an ESN wrap if esn."""
    isa = IivSa(alg, test_key(alg), 0x300, esn)
    datas = udp_payloads(6, 150, 5) + [b"x" * 1000, b""]
    inners = [udp_packet("2001:db8:2::1" if i % 2 else "198.51.100.1",
                         "2001:db8:2::2" if i % 2 else "198.51.100.2",
                         4000, 5001, d) for i, d in enumerate(datas)]
    # One octet of the second packet in the first payload: its length
    # field spans two payloads.
    frag = len(inners[0]) + 1
    pays = aggfrag_payloads(inners, frag, allpad=(1, 3))
    first = (3 << 32 | LOW - 2) if esn else 7
    ips = [isa.seal(("192.0.2.1", "192.0.2.2"), NH_AGGFRAG, p, first + i)
           for i, p in enumerate(pays)]
    opened, failed = open_stream(isa, ips, 3 if esn else 0)
    if failed:
        return "SN %d does not open: %s" % failed[0]
    if [r[0] for r in opened] != [first + i for i in range(len(ips))]:
        return "SNs %s" % [r[0] for r in opened]
    return expect_inner(inners, [r[:3] for r in opened])


def st_tunnel(alg, esn):
    """Plain tunnel payloads, next header 4 and 41."""
    isa = IivSa(alg, test_key(alg), 0x400, esn)
    inners = [udp_packet("198.51.100.1", "198.51.100.2", 1, 2, b"a" * 33),
              udp_packet("2001:db8:2::1", "2001:db8:2::2", 1, 2, b"b")]
    args = make_args(tunnel=True, outer_src="2001:db8:1::1",
                     outer_dst="2001:db8:1::2", seq=5)
    ips, _ = seal_stream(isa, args, inners)
    opened, failed = open_stream(isa, ips)
    if failed:
        return "SN %d does not open: %s" % failed[0]
    if [r[1] for r in opened] != [NH_IPV4, NH_IPV6]:
        return "next headers %s" % [r[1] for r in opened]
    return expect_inner(inners, [r[:3] for r in opened])


def st_tamper(alg, esn):
    """A packet changed anywhere past its SPI fails at its SN, and only it;
    with ESN, a wrong high half fails them all."""
    isa = IivSa(alg, test_key(alg), 0x500, esn)
    inners = [udp_packet("198.51.100.1", "198.51.100.2", 1, 2, bytes(40))
              for _ in range(4)]
    args = make_args(outer_src="192.0.2.1", outer_dst="192.0.2.2", seq=9,
                     seq_hi=1 if esn else 0)
    ips, first = seal_stream(isa, args, inners)
    if args.udp:
        ips = [udp_encap(ip, args.udp) for ip in ips]
    # The SN field (octet 27: AAD and nonce), ciphertext, ICV.
    for where in (27, 28, 40, -1):
        bad = list(ips)
        b = bytearray(bad[2])
        b[where] ^= 1
        bad[2] = bytes(b)
        opened, failed = open_stream(isa, bad, args.seq_hi)
        if [sn for sn, _ in failed] != [(first + 2) ^ (where == 27)] or \
                len(opened) != 3:
            return "octet %d changed: failed %s" % (where, failed)
    if esn and len(open_stream(isa, ips, 0)[1]) != len(ips):
        return "opens with the wrong ESN high half"
    return None


def st_loss():
    """A lost payload loses the inner packet split over it and no other."""
    inners = [bytes([0x45, 0, 0, 60]) + bytes(56),
              bytes([0x45, 0, 0, 100]) + bytes(96),
              bytes([0x60, 0, 0, 0, 0, 20]) + bytes(54)]
    pays = aggfrag_payloads(inners, 50)
    recs = [(10 + i, NH_AGGFRAG, p) for i, p in enumerate(pays) if i != 2]
    got, stats, errors = inner_packets(recs)
    if errors or got != [inners[0], inners[2]] or stats["lost"] != 1:
        return "got %d packets, stats %s, errors %s" % (len(got), stats,
                                                        errors)
    bad = bytearray(pays[1])
    bad[3] += 1
    if not inner_packets([(1, NH_AGGFRAG, pays[0]),
                          (2, NH_AGGFRAG, bytes(bad))])[2]:
        return "a wrong block offset passes"
    return None


def selftest_cases(tmp, kat_path):
    """[(name, function returning a problem or None)] of the selftest."""
    tests = []
    for i, alg in enumerate(ALGS):
        for esn in (False, True):
            tag = alg + ("-esn" if esn else "")
            lt = (1, 113, 276)[(2 * i + esn) % 3]
            tests += [
                ("%s: seal to pcap (link type %d%s), open" %
                 (tag, lt, ", ESP in UDP" if lt == 1 else ""),
                 lambda a=alg, e=esn, t=lt: st_cli(a, e, tmp, t)),
                ("%s: AGGFRAG split over payloads" % tag,
                 lambda a=alg, e=esn: st_frag(a, e)),
                ("%s: tunnel payloads" % tag,
                 lambda a=alg, e=esn: st_tunnel(a, e)),
                ("%s: tampered packets fail" % tag,
                 lambda a=alg, e=esn: st_tamper(a, e)),
            ]
    tests.append(("AGGFRAG loss and a wrong block offset", st_loss))
    try:
        kats = read_kats(kat_path)
    except (OSError, ValueError, AttributeError, KeyError) as e:
        return tests + [("vectors of %s" % kat_path, lambda e=e: repr(e))]
    if not kats:
        return tests + [("vectors of %s" % kat_path, lambda: "none")]
    return tests + [("vector %s of %s" % (k["name"],
                                          os.path.basename(kat_path)),
                     lambda k=k: check_kat(k)) for k in kats]


def cmd_selftest(args):
    """The selftest subcommand: TAP output; returns the exit status."""
    with tempfile.TemporaryDirectory() as tmp:
        tests = selftest_cases(tmp, args.kat)
        print("TAP version 13")
        print("1..%d" % len(tests))
        bad = 0
        for n, (name, fn) in enumerate(tests, 1):
            try:
                problem = fn()
            except Exception as e:  # pylint: disable=broad-exception-caught
                problem = "%r" % e
            if problem:
                bad += 1
                print("not ok %d - %s" % (n, name))
                for line in str(problem).strip().splitlines():
                    print("# " + line)
            else:
                print("ok %d - %s" % (n, name))
    return 1 if bad else 0


def parser():
    """The command line (see the module's docstring)."""
    p = argparse.ArgumentParser(
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)

    def sa_options(sp):
        sp.add_argument("--alg", choices=ALGS, required=True)
        sp.add_argument("--key", required=True)
        sp.add_argument("--spi", type=lambda s: int(s, 0), required=True)
        sp.add_argument("--esn", action="store_true")
        sp.add_argument("--seq-hi", type=lambda s: int(s, 0), default=0)

    op = sub.add_parser("open")
    op.add_argument("pcap")
    sa_options(op)
    op.add_argument("--sums")
    op.add_argument("--port", type=int)
    op.add_argument("--sizes")
    op.add_argument("--udp", type=int)

    se = sub.add_parser("seal")
    sa_options(se)
    for name in ("outer-src", "outer-dst", "src", "dst"):
        se.add_argument("--" + name, required=True)
    for name in ("port", "count", "size", "seed"):
        se.add_argument("--" + name, type=int, required=True)
    se.add_argument("--sport", type=int)
    se.add_argument("--sums")
    se.add_argument("--seq", type=lambda s: int(s, 0), default=1)
    mode = se.add_mutually_exclusive_group()
    mode.add_argument("--tunnel", action="store_true")
    mode.add_argument("--frag", type=int)
    se.add_argument("--pcap")
    se.add_argument("--gap-us", type=int, default=0)
    se.add_argument("--udp", type=int)

    ba = sub.add_parser("batch")
    ba.add_argument("file")

    st = sub.add_parser("selftest")
    st.add_argument("--kat", default=os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "net",
        "xtfs_iiv_kat.h"))
    return p


def cmd_batch(args):
    """Run the commands of args.file, output to the log each one names."""
    with open(args.file, encoding="utf-8") as f:
        lines = [shlex.split(ln) for ln in f if ln.strip()]
    for words in lines:
        if len(words) < 2 or words[1] not in ("open", "seal"):
            print("esp_iiv: batch: not a log and a command: %s" %
                  " ".join(words), file=sys.stderr)
            return 1
    for words in lines:
        with open(words[0], "w", encoding="utf-8") as log, \
                contextlib.redirect_stderr(log), \
                contextlib.redirect_stdout(log):
            try:
                rc = main(words[1:])
            except SystemExit as e:     # argparse refusing the options
                rc = e.code if isinstance(e.code, int) else 2
        write_lines(words[0] + ".rc", [str(rc)])
    return 0


def main(argv=None):
    """Run a subcommand; returns the exit status."""
    args = parser().parse_args(argv)
    if getattr(args, "seq_hi", 0) and not args.esn:
        print("esp_iiv: --seq-hi needs --esn", file=sys.stderr)
        return 2
    try:
        return {"open": cmd_open, "seal": cmd_seal, "batch": cmd_batch,
                "selftest": cmd_selftest}[args.cmd](args)
    except ValueError as e:
        print("esp_iiv: %s" % e, file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
