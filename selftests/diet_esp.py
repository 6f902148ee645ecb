#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""An independent Diet-ESP (draft-ietf-ipsecme-diet-esp-07 sections 5.2
and 5.3) for the SAs of xtfs's ESP engine, implicit IV or not, as xtfs
implements it, to cross-check xtfs.

Built on python3-cryptography's AEADs directly (AESGCM, AESCCM with an
8-octet tag, ChaCha20Poly1305): the compressed header and the trailer are
made and parsed here. esp_iiv.py (scapy, RFC 8750) gives the pcap
reading, the AGGFRAG reassembly, the inner packet lines and the UDP
payloads, so that both tools describe a capture the same way.

Wire format of one packet (IP protocol 50, or the UDP payload with --udp):
  header    (spi_lsb + sn_lsb) / 8 octets: the low spi_lsb bits of the SPI
            then the low sn_lsb bits of the (low 32 bits of the) SN, one
            big-endian bit string
  IV        with --explicit-iv only: 8 octets, the IV of the nonce (RFC
            4106/4309/7634 section 3 place it here); xtfs sends the value
            of the implicit IV below, a receiver takes any
  sealed    AEAD(plaintext) and its ICV; nonce salt || IV, IV 0^32 || SN
            low (no ESN) or the 64-bit SN; AAD SPI || SN low, or SPI || SN
            high || SN low with ESN: always the FULL SPI and SN (RFC 8750,
            RFC 4106 section 5), never the IV
  plaintext payload, then with A = align / 8 octets:
            trailer mandatory: padding 1, 2, ..., Pad Length, Next Header,
              len(payload) + padlen + 2 a multiple of A;
            trailer optional, align 8: nothing;
            trailer optional, align 16/32/64: padding, Pad Length (no Next
              Header), len(payload) + padlen + 1 a multiple of A.
            An elided Next Header is 144 (AGGFRAG) for --payload aggfrag,
            and for --payload tunnel 4 or 41 from the payload's first
            nibble (anything else: malformed).
With every setting at its default (32, 32, mandatory, 32) a packet is an
RFC 8750 packet, octet for octet what esp_iiv.py makes.

The receiver rebuilds an SN of sn_lsb k < 32 bits (and with ESN the high
half) as the unique N = bits (mod 2^k) in [B, B + 2^k - 1], B = T - W + 1
if T >= W else 1, T the highest SN received so far (--top, default 0),
W the replay window (--replay-window).

SA options, common to open and seal:
  --alg gcm|ccm|chacha  AES-GCM-16, AES-CCM-8 or ChaCha20-Poly1305
  --key HEX             key material, salt last (4 octets, CCM 3)
  --spi SPI             the SA's full SPI
  --esn                 extended sequence numbers
  --explicit-iv         the IV is on the wire (no RFC 8750)
  --spi-lsb N --sn-lsb N     0..32 each (default 32), sum a multiple of 8
  --trailer mandatory|optional   (default mandatory)
  --align 8|16|32|64    (bits, default 32)
  --payload aggfrag|tunnel   what the SA carries (default aggfrag)
  --replay-window W     the receiver's window in packets (default 0)

  diet_esp.py open PCAP SA-OPTIONS --outer-src A --outer-dst B [--udp PORT]
                  [--top T] [--sums OUT] [--port P] [--sizes OUT]
      Open the packets from A to B in PCAP (any link type esp_iiv.py
      reads; full snap length), IP protocol 50, or with --udp the UDP
      datagrams to PORT (non-ESP markers skipped): the SPI need not be on
      the wire. SNs are rebuilt in capture order as the receiver does;
      every ICV must verify, the header's SPI bits must be the SA's, and
      sealing the opened payload again at its SN must give the packet's
      octets exactly (header, padding, trailer, length). Output as
      esp_iiv.py open: one line per inner packet, --sums, --port; --sizes
      OUT writes "SN IPLEN HDR PAYLOAD RFC8750" per packet: the IP total
      length (without the UDP header with --udp), the header octets, the
      ESP payload octets and the IP total length the same payload would
      have with default settings. Summary on stderr:
          diet_esp: opened N packets (SN A..B), inner M (udp U), lost L,
          incomplete I, skipped S octets, duplicate D, header H octets,
          saved X octets
      Exit status 1 if a packet does not open, the AGGFRAG framing is
      inconsistent or no packet is found.

  diet_esp.py seal SA-OPTIONS --outer-src A --outer-dst B --src A --dst B
                  --port P [--sport P] --count N --size N --seed S
                  [--sums OUT] [--seq N] [--frag N] [--pcap FILE]
                  [--gap-us N] [--udp PORT] [--tamper]
      As esp_iiv.py seal (the same UDP payloads for the same seed), the
      packets compressed: SNs (full 64-bit) from --seq (default 1) up by
      one; --payload tunnel gives tunnel payloads; --tamper flips the last
      ICV octet of every packet. Sent over a raw socket from the current
      network namespace, or written to FILE. Prints "diet_esp: sealed N
      packets (SN A..B)" to stderr.

  diet_esp.py kat
      The C header net/xtfs_diet_kat.h on stdout: known-answer vectors
      (whole packets of the KATS settings) for xtfs's KUnit suite.

  diet_esp.py selftest [--kat FILE]
      Offline, no kernel: TAP output, exit status 1 on a failure.

  diet_esp.py batch FILE
      As esp_iiv.py batch: one "LOG open|seal ..." a line, one process.
"""
import argparse
import contextlib
import hashlib
import io
import os
import shlex
import struct
import sys
import tempfile

sys.dont_write_bytecode = True     # no __pycache__ in the tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
# pylint: disable=wrong-import-position
from cryptography.exceptions import InvalidTag  # noqa: E402
from cryptography.hazmat.primitives.ciphers.aead import (  # noqa: E402
    AESCCM, AESGCM, ChaCha20Poly1305)

import esp_iiv  # noqa: E402
import iipc  # noqa: E402
import pcap_esp  # noqa: E402
from esp_iiv import (LOW, NH_AGGFRAG, NH_IPV4, NH_IPV6,  # noqa: E402
                     OpenError)

TRAILERS = ("mandatory", "optional")
ALIGNS = (8, 16, 32, 64)
PAYLOADS = ("aggfrag", "tunnel")


def check_settings(spi_lsb, sn_lsb, trailer, align):
    """ValueError unless the four settings are ones Diet-ESP allows."""
    for name, v in (("spi-lsb", spi_lsb), ("sn-lsb", sn_lsb)):
        if not 0 <= v <= 32:
            raise ValueError("%s %d: 0..32" % (name, v))
    if (spi_lsb + sn_lsb) % 8:
        raise ValueError("spi-lsb %d + sn-lsb %d: not a multiple of 8" %
                         (spi_lsb, sn_lsb))
    if trailer not in TRAILERS:
        raise ValueError("trailer %s" % trailer)
    if align not in ALIGNS:
        raise ValueError("align %d: 8, 16, 32 or 64" % align)


def rebuild_sn(bits, k, top, window, esn):
    """The full SN of a packet whose header carries the k low bits bits,
    T = top the highest SN received so far, W = window: the unique N =
    bits mod 2^k in [B, B + 2^k - 1], B = T - W + 1 if T >= W else 1.
    k = 32 without ESN: the field is the SN."""
    if k == 32 and not esn:
        return bits
    base = top - window + 1 if top >= window else 1
    return base + ((bits - base) % (1 << k))


class DietSa:
    """One implicit-IV SA with Diet-ESP settings."""

    # pylint: disable-next=too-many-arguments
    def __init__(self, alg, key, spi, esn=False, spi_lsb=32, sn_lsb=32,
                 trailer="mandatory", align=32, payload="aggfrag",
                 rule=None, explicit_iv=False):
        check_settings(spi_lsb, sn_lsb, trailer, align)
        if payload not in PAYLOADS:
            raise ValueError("payload %s" % payload)
        _, icv, salt, sizes = esp_iiv.ALGS[alg]
        if len(key) - salt not in sizes:
            raise ValueError("%s key material of %d octets" % (alg, len(key)))
        self.alg, self.spi, self.esn = alg, spi & LOW, esn
        self.spi_lsb, self.sn_lsb = spi_lsb, sn_lsb
        self.trailer, self.align, self.payload = trailer, align, payload
        self.icv = icv
        self.salt = key[len(key) - salt:]
        ck = key[:len(key) - salt]
        if alg == "gcm":
            self.aead = AESGCM(ck)
        elif alg == "ccm":
            self.aead = AESCCM(ck, tag_length=8)
        else:
            self.aead = ChaCha20Poly1305(ck)
        self.hlen = (spi_lsb + sn_lsb) // 8
        # Octets of IV after the header: 0 with implicit IV (RFC 8750).
        self.wire_iv = 8 if explicit_iv else 0
        # An iipc.Rule: tunnel payloads compressed by it (section 5.1).
        self.rule = rule

    # --- the pieces ---------------------------------------------------

    def header(self, sn):
        """The compressed ESP header of SN: low spi_lsb bits of the SPI,
        then low sn_lsb bits of SN's low half, big-endian."""
        v = (self.spi & ((1 << self.spi_lsb) - 1)) << self.sn_lsb | \
            (sn & LOW & ((1 << self.sn_lsb) - 1))
        return v.to_bytes(self.hlen, "big") if self.hlen else b""

    def split_header(self, esp):
        """(SPI bits, SN bits) of the header at the start of esp."""
        v = int.from_bytes(esp[:self.hlen], "big")
        return v >> self.sn_lsb, v & ((1 << self.sn_lsb) - 1)

    def nonce_aad(self, sn, iv=None):
        """(nonce, AAD) of SN: RFC 8750 with the full SPI and SN; iv, the
        IV read off the wire, replaces the implicit one."""
        if iv is None:
            iv = esp_iiv.implicit_iv(sn, self.esn)
        if self.esn:
            aad = struct.pack("!III", self.spi, sn >> 32, sn & LOW)
        else:
            aad = struct.pack("!II", self.spi, sn & LOW)
        return self.salt + iv, aad

    def trailer_len(self, n):
        """Octets the trailer adds to an n-octet payload."""
        a = self.align // 8
        if self.trailer == "mandatory":
            return 2 + (-(n + 2)) % a
        if self.align == 8:
            return 0
        return 1 + (-(n + 1)) % a

    def plaintext(self, nh, payload):
        """payload with its trailer."""
        n = self.trailer_len(len(payload))
        if self.trailer == "mandatory":
            return payload + bytes(range(1, n - 1)) + bytes([n - 2, nh])
        if n == 0:
            return payload
        return payload + bytes(range(1, n)) + bytes([n - 1])

    def elided_nh(self, payload):
        """The Next Header the receiver takes when it is not sent."""
        if self.payload == "aggfrag":
            return NH_AGGFRAG
        kind = payload[0] >> 4 if payload else None
        if self.rule and not (self.rule.rule_id and payload and
                              payload[0] == 0):
            kind = self.rule.version
        elif self.rule and len(payload) > 1:
            kind = payload[1] >> 4      # RuleID 0: the packet's own
        if kind == 4:
            return NH_IPV4
        if kind == 6:
            return NH_IPV6
        raise OpenError("no Next Header and the payload starts with "
                        "nibble %s" % kind)

    def parse_plaintext(self, pt):
        """(next header, payload) of a decrypted plaintext; OpenError if
        the trailer is malformed (padding not 1, 2, ..., not aligned)."""
        a = self.align // 8
        if len(pt) % a:
            raise OpenError("plaintext of %d octets, align %d" %
                            (len(pt), self.align))
        if self.trailer == "optional" and self.align == 8:
            return self.elided_nh(pt), pt
        tail = 2 if self.trailer == "mandatory" else 1
        if len(pt) < tail:
            raise OpenError("no room for the trailer")
        padlen = pt[len(pt) - tail]
        if padlen + tail > len(pt):
            raise OpenError("pad length %d in %d octets" % (padlen, len(pt)))
        end = len(pt) - tail - padlen
        if pt[end:len(pt) - tail] != bytes(range(1, padlen + 1)):
            raise OpenError("padding not 1, 2, ...")
        payload = pt[:end]
        nh = pt[-1] if tail == 2 else self.elided_nh(payload)
        return nh, payload

    # --- packets --------------------------------------------------------

    def seal_esp(self, nh, payload, sn):
        """The ESP octets (header, ciphertext, ICV) of payload at SN."""
        if not self.esn and sn > LOW:
            raise ValueError("SN %d needs ESN" % sn)
        nonce, aad = self.nonce_aad(sn)
        iv = nonce[len(self.salt):] if self.wire_iv else b""
        return self.header(sn) + iv + self.aead.encrypt(
            nonce, self.plaintext(nh, payload), aad)

    def seal(self, outer, nh, payload, sn):
        """The outer IP packet (bytes) from outer[0] to outer[1]."""
        return esp_iiv.outer_packet(*outer, self.seal_esp(nh, payload, sn))

    def open_esp(self, esp, sn):
        """(next header, payload) of ESP octets esp at full SN sn."""
        start = self.hlen + self.wire_iv
        if len(esp) < start + self.icv:
            raise OpenError("%d octets: shorter than header, IV and ICV" %
                            len(esp))
        spi_bits, _ = self.split_header(esp)
        if spi_bits != self.spi & ((1 << self.spi_lsb) - 1):
            raise OpenError("SPI bits 0x%x, not the SA's" % spi_bits)
        nonce, aad = self.nonce_aad(
            sn, bytes(esp[self.hlen:start]) if self.wire_iv else None)
        try:
            pt = self.aead.decrypt(nonce, bytes(esp[start:]), aad)
        except InvalidTag as e:
            raise OpenError("ICV check failed") from e
        return self.parse_plaintext(pt)


class Receiver:
    """Rebuilds full SNs as the receiving SA does, and tracks T."""

    def __init__(self, dsa, window, top=0):
        self.dsa, self.window, self.top = dsa, window, top

    def sn(self, esp):
        """The full SN the receiver takes for ESP octets esp."""
        _, bits = self.dsa.split_header(esp)
        return rebuild_sn(bits, self.dsa.sn_lsb, self.top, self.window,
                          self.dsa.esn)

    def accept(self, sn):
        """A packet of SN verified: T moves up."""
        self.top = max(self.top, sn)


def open_stream(dsa, esps, window, top=0):
    """Open ESP octets esps of one SA in capture order. Returns
    ([(sn, next header, payload, esp)], [(sn, failure)]): a packet that
    opens must also be what sealing its payload again gives."""
    rcv = Receiver(dsa, window, top)
    opened, failed = [], []
    for esp in esps:
        if len(esp) < dsa.hlen:
            failed.append((None, "no header"))
            continue
        sn = rcv.sn(esp)
        try:
            if not dsa.esn and sn > LOW:
                raise OpenError("rebuilt SN above 2^32 - 1 without ESN")
            nh, payload = dsa.open_esp(esp, sn)
            again = dsa.seal_esp(nh, payload, sn)
            if again != bytes(esp):
                raise OpenError("sealed again it differs (%d octets, %d "
                                "on the wire)" % (len(again), len(esp)))
        except OpenError as e:
            failed.append((sn, str(e)))
            continue
        rcv.accept(sn)
        opened.append((sn, nh, payload, bytes(esp)))
    return opened, failed


def read_sa(path, src, dst, udp=None):
    """[(IP header octets, IP total length, ESP octets, IP header)] of the
    packets from src to dst in pcap path: IP protocol 50, or the UDP
    datagrams to port udp without non-ESP markers. Lengths without the
    UDP header."""
    out = []
    for hlen, proto, ip in pcap_esp.ip_raw(path):
        if proto != (17 if udp else 50) or esp_iiv.ip_addrs(ip) != (src, dst):
            continue
        tot = esp_iiv.ip_total_len(ip)
        if tot is None or len(ip) < tot:
            raise SystemExit("diet_esp: %s: packet cut short: use a full "
                             "snap length" % path)
        ip = ip[:tot]
        if udp:
            if len(ip) < hlen + 8 or \
                    struct.unpack("!H", ip[hlen + 2:hlen + 4])[0] != udp:
                continue
            esp = ip[hlen + 8:]
            if len(esp) >= 4 and esp[:4] == bytes(4):
                continue        # non-ESP marker (IKE)
            tot -= 8
        else:
            esp = ip[hlen:]
        out.append((hlen, tot, esp, bytes(ip[:hlen])))
    return out


def sa_from_args(args):
    """The DietSa of the SA options."""
    rule = iipc.Rule(args.iipc) if args.iipc else None
    if rule and args.payload != "tunnel":
        raise ValueError("--iipc needs --payload tunnel")
    return DietSa(args.alg, esp_iiv.parse_key(args.alg, args.key), args.spi,
                  args.esn, args.spi_lsb, args.sn_lsb, args.trailer,
                  args.align, args.payload, rule, args.explicit_iv)


def outer_of(hdr):
    """What IIPC reads of an outer IP header: DS field, TTL, flow."""
    f = iipc.parse_ip(hdr + bytes(40))
    return {"ds": f["ds"], "ttl": f["ttl"], "flow": f["flow"]}


def decompress_opened(dsa, opened, hdrs):
    """The opened records with their payloads decompressed by the SA's
    IIPC rule (the outer header of each from hdrs, by ESP octets); the
    next header becomes the rebuilt packet's. Malformed: OpenError."""
    out = []
    for sn, _, payload, esp in opened:
        try:
            pkt = iipc.decompress(dsa.rule, payload, outer_of(hdrs[esp]))
        except iipc.Malformed as e:
            raise OpenError("SN %d: IIPC: %s" % (sn, e)) from e
        out.append((sn, NH_IPV6 if pkt and pkt[0] >> 4 == 6 else NH_IPV4,
                    pkt, esp))
    return out


def rfc8750_len(dsa, hlen, n):
    """IP total length of an n-octet payload with default settings (and
    the IV on the wire if the SA sends it)."""
    return hlen + 8 + dsa.wire_iv + n + 2 + (-(n + 2)) % 4 + dsa.icv


def cmd_open(args):
    """The open subcommand; returns the exit status."""
    dsa = sa_from_args(args)
    pkts = read_sa(args.pcap, args.outer_src, args.outer_dst, args.udp)
    opened, failed = open_stream(dsa, [p[2] for p in pkts],
                                 args.replay_window, args.top)
    for sn, why in failed:
        print("diet_esp: SN %s does not open: %s" %
              ("-" if sn is None else "%d (0x%x)" % (sn, sn), why),
              file=sys.stderr)
    bylen, hdrs = {}, {}
    for hlen, tot, esp, hdr in pkts:
        bylen[esp] = (hlen, tot)
        hdrs[esp] = hdr
    sizes, saved = [], 0
    for sn, _, payload, esp in opened:
        hlen, tot = bylen[esp]
        old = rfc8750_len(dsa, hlen, len(payload))
        saved += old - tot
        sizes.append("%d %d %d %d %d" % (sn, tot, dsa.hlen, len(payload),
                                         old))
    if args.sizes:
        esp_iiv.write_lines(args.sizes, sizes)
    if dsa.rule:
        try:
            opened = decompress_opened(dsa, opened, hdrs)
        except OpenError as e:
            print("diet_esp: %s" % e, file=sys.stderr)
            return 1
    if args.inners_out:
        iipc.write_hex(args.inners_out,
                       [r[2] for r in sorted(opened, key=lambda r: r[0])])
    packets, stats, errors = esp_iiv.inner_packets(
        [r[:3] for r in opened])
    for e in errors:
        print("diet_esp: AGGFRAG: " + e, file=sys.stderr)
    sums, nudp = esp_iiv.print_inner(packets, args.port)
    if args.sums:
        esp_iiv.write_lines(args.sums, sums)
    sns = [r[0] for r in opened]
    print("diet_esp: opened %d packets (SN %s), inner %d (udp %d), lost %d, "
          "incomplete %d, skipped %d octets, duplicate %d, header %d octets, "
          "saved %d octets" % (
              len(opened), "%d..%d" % (min(sns), max(sns)) if sns else "-",
              len(packets), nudp, stats["lost"], stats["incomplete"],
              stats["skipped"], stats["duplicate"], dsa.hlen, saved),
          file=sys.stderr)
    if not pkts:
        print("diet_esp: no packet from %s to %s in %s" %
              (args.outer_src, args.outer_dst, args.pcap), file=sys.stderr)
    return 1 if failed or errors or not pkts else 0


def seal_payloads(dsa, inners, frag=None):
    """[(next header, payload)] carrying inners as the SA does."""
    if dsa.payload == "tunnel":
        return [(NH_IPV6 if p[0] >> 4 == 6 else NH_IPV4, p) for p in inners]
    return [(NH_AGGFRAG, p) for p in esp_iiv.aggfrag_payloads(inners, frag)]


def seal_iipc(dsa, args):
    """The outer packets of the inner packets of args.inners, compressed
    by the SA's rule; outer DS field and flow as iipc.outer_fields()."""
    ips = []
    for i, pkt in enumerate(iipc.read_hex(args.inners)):
        ds, flow = iipc.outer_fields(dsa.rule, pkt)
        payload = iipc.compress(dsa.rule, pkt)
        nh = NH_IPV6 if pkt[0] >> 4 == 6 else NH_IPV4
        hdr = esp_iiv.ip_header(args.outer_src, args.outer_dst, 50)
        if ":" in args.outer_src:
            hdr.tc, hdr.fl, hdr.hlim = ds, flow or 0, 64
        else:
            hdr.tos, hdr.id, hdr.ttl = ds, flow or 1, 64
        esp = dsa.seal_esp(nh, payload, args.seq + i)
        ips.append(bytes(hdr / esp_iiv.Raw(esp)))
    return ips


def emit(args, ips):
    """Write the sealed packets to args.pcap or send them; returns 0."""
    if args.pcap:
        esp_iiv.write_pcap(args.pcap, ips)
    else:
        pcap_esp.send_raw(ips, args.outer_dst, args.gap_us)
    print("diet_esp: sealed %d packets (SN %d..%d)" %
          (len(ips), args.seq, args.seq + len(ips) - 1), file=sys.stderr)
    return 0


def cmd_seal(args):
    """The seal subcommand; returns the exit status."""
    dsa = sa_from_args(args)
    if dsa.rule:
        return emit(args, seal_iipc(dsa, args))
    if args.inners or args.iipc:
        raise ValueError("--inners and --iipc go together")
    for name in ("src", "dst", "port", "count", "size", "seed"):
        if getattr(args, name) is None:
            raise ValueError("seal needs --%s" % name)
    datas = esp_iiv.udp_payloads(args.count, args.size, args.seed)
    inners = [esp_iiv.udp_packet(args.src, args.dst, args.sport or args.port,
                                 args.port, d) for d in datas]
    if args.sums:
        esp_iiv.write_lines(args.sums, [hashlib.sha256(d).hexdigest()
                                        for d in datas])
    ips = []
    for i, (nh, p) in enumerate(seal_payloads(dsa, inners, args.frag)):
        ip = bytearray(dsa.seal((args.outer_src, args.outer_dst), nh, p,
                                args.seq + i))
        if args.tamper:
            ip[-1] ^= 0x01
        ips.append(bytes(ip))
    if args.udp:
        ips = [esp_iiv.udp_encap(ip, args.udp) for ip in ips]
    return emit(args, ips)


# --- selftest ---------------------------------------------------------

# (spi_lsb, sn_lsb, trailer, align) tried by the round trips
COMBOS = [(32, 32, "mandatory", 32), (8, 8, "optional", 8),
          (16, 16, "mandatory", 64), (32, 32, "optional", 8),
          (8, 16, "optional", 16), (4, 4, "mandatory", 8),
          (24, 8, "optional", 32), (12, 12, "optional", 64),
          (1, 7, "optional", 64), (16, 8, "mandatory", 16)]
O4 = ("192.0.2.1", "192.0.2.2")
O6 = ("2001:db8:1::1", "2001:db8:1::2")


def inner(i, size=40, v6=False):
    """An inner UDP packet, IPv4 or IPv6."""
    if v6:
        return esp_iiv.udp_packet("2001:db8:2::1", "2001:db8:2::2", 1000 + i,
                                  5001, bytes([i & 255]) * size)
    return esp_iiv.udp_packet("198.51.100.1", "198.51.100.2", 1000 + i, 5001,
                              bytes([i & 255]) * size)


def st_default_equals_iiv(alg, esn):
    """Default settings: octet for octet esp_iiv.py's (scapy's) packets,
    every payload length modulo the alignment, next header 144 and 4."""
    key = esp_iiv.test_key(alg)
    isa = esp_iiv.IivSa(alg, key, 0x01020304, esn)
    dsa = DietSa(alg, key, 0x01020304, esn)
    first = (5 << 32 | LOW - 3) if esn else 77
    for i in range(8):
        sn = first + i
        for nh, payload in ((NH_AGGFRAG, bytes(4) + bytes(range(i))),
                            (NH_IPV4, inner(i, 10 + i))):
            want = isa.seal(O4, nh, payload, sn)
            got = dsa.seal(O4, nh, payload, sn)
            if want != got:
                return "SN %d next header %d: %s, scapy %s" % (
                    sn, nh, got[20:].hex(), want[20:].hex())
            if dsa.open_esp(want[20:], sn) != (nh, payload):
                return "scapy's SN %d opens to something else" % sn
    return None


def st_explicit_equals_esp(alg, esn):
    """--explicit-iv at default settings: octet for octet scapy's RFC
    4106/4309/7634 ESP given the same IV; a packet of scapy's with another
    IV opens too (the receiver takes the IV off the wire)."""
    key = esp_iiv.test_key(alg)
    isa = esp_iiv.IivSa(alg, key, 0x01020304, esn)
    dsa = DietSa(alg, key, 0x01020304, esn, explicit_iv=True)
    first = (5 << 32 | LOW - 3) if esn else 77
    for i in range(6):
        sn = first + i
        for nh, payload in ((NH_AGGFRAG, bytes(4) + bytes(range(i))),
                            (NH_IPV4, inner(i, 10 + i))):
            want = isa.seal(O4, nh, payload, sn, explicit=True)
            got = dsa.seal(O4, nh, payload, sn)
            if want != got:
                return "SN %d next header %d: %s, scapy %s" % (
                    sn, nh, got[20:].hex(), want[20:].hex())
            other = bytes(isa.sa.encrypt(
                esp_iiv.ip_header(*O4, nh) / esp_iiv.Raw(payload),
                seq_num=sn & LOW, iv=bytes([i + 1]) * 8, esn_en=esn,
                esn=sn >> 32)[esp_iiv.ESP])
            if dsa.open_esp(other, sn) != (nh, payload):
                return "scapy's SN %d with IV %s opens to something else" % (
                    sn, other[8:16].hex())
    return None


def st_kat(kat):
    """A kernel KUnit vector opens with default settings and seals
    again to its octets."""
    wire = kat["wire"]
    spi = struct.unpack("!I", wire[:4])[0]
    dsa = DietSa(kat["alg"], kat["key"], spi, kat["esn"])
    # The vector's SN as the receiver would rebuild it from T below it.
    opened, failed = open_stream(dsa, [wire], 0, kat["seq"] - 1)
    if failed:
        return "does not open: %s" % (failed,)
    plain = kat["plain"]
    if opened[0][:3] != (kat["seq"], plain[-1],
                         plain[:len(plain) - 2 - plain[-2]]):
        return "opens to something else"
    return None


def st_header_examples():
    """Hand-computed headers."""
    cases = [(0x12345678, 0x105, 8, 16, "780105"),
             (0x12345678, 0x105, 32, 32, "1234567800000105"),
             (0x1234567a, 0x12345675, 4, 4, "a5"),
             (0x00000abc, 0xfff123, 12, 12, "abc123"),
             (0x12345678, 0x1ff, 1, 7, "7f"),
             (0x12345679, 0x1ff, 1, 7, "ff"),
             (0x12345678, 0xabcdef01, 24, 8, "34567801"),
             (0x12345678, 0xabcdef01, 32, 0, "12345678"),
             (0x12345678, 0xabcdef01, 0, 16, "ef01"),
             (0x12345678, 0xabcdef01, 20, 20, "45678def01"),
             # ESN: only the low 32 bits of the SN are ever sent
             (0x12345678, 0x7_00000105, 8, 16, "780105")]
    for spi, sn, a, b, want in cases:
        dsa = DietSa("gcm", esp_iiv.test_key("gcm"), spi, sn > LOW, a, b)
        got = dsa.header(sn).hex()
        if got != want:
            return "SPI 0x%x SN 0x%x spi-lsb %d sn-lsb %d: %s, not %s" % (
                spi, sn, a, b, got, want)
        if dsa.seal_esp(NH_AGGFRAG, bytes(4), sn)[:dsa.hlen].hex() != want:
            return "the sealed packet starts otherwise"
    return None


def st_trailers():
    """The plaintext of each trailer setting, decrypted by hand."""
    key = esp_iiv.test_key("gcm")
    p5 = bytes([0x45, 1, 2, 3, 4])
    cases = [("mandatory", 8, p5, "4501020304" + "00" + "04"),
             ("mandatory", 32, p5, "4501020304" + "01" + "01" + "04"),
             ("mandatory", 64, p5, "4501020304" + "01" + "01" + "04"),
             ("mandatory", 64, p5 + b"x", "4501020304" + "78" + "00" +
              "04"),
             ("mandatory", 64, p5 + b"xy", "4501020304" + "7879" +
              "01020304050607" + "07" + "04"),
             ("mandatory", 16, p5 + b"x", "450102030478" + "00" + "04"),
             ("optional", 8, p5, "4501020304"),
             ("optional", 16, p5, "4501020304" + "00"),
             ("optional", 16, p5 + b"x", "450102030478" + "01" + "01"),
             ("optional", 32, p5, "4501020304" + "0102" + "02"),
             ("optional", 64, p5, "4501020304" + "0102" + "02"),
             ("optional", 64, p5 * 2, "45010203044501020304" +
              "0102030405" + "05")]
    for trailer, align, payload, want in cases:
        dsa = DietSa("gcm", key, 0x1234, False, 8, 8, trailer, align,
                     "tunnel")
        esp = dsa.seal_esp(NH_IPV4, payload, 9)
        nonce, aad = dsa.nonce_aad(9)
        pt = AESGCM(key[:-4]).decrypt(nonce, esp[2:], aad)
        if pt.hex() != want:
            return "%s align %d, %d octets: plaintext %s, not %s" % (
                trailer, align, len(payload), pt.hex(), want)
        if len(esp) != 2 + len(want) // 2 + 16:
            return "%s align %d: %d octets" % (trailer, align, len(esp))
        if dsa.open_esp(esp, 9) != (NH_IPV4, payload):
            return "%s align %d does not open to its payload" % (trailer,
                                                                 align)
    return None


def st_elided_nh():
    """A Next Header not sent: 144 for AGGFRAG, 4 or 41 by the payload's
    first nibble for tunnel payloads, anything else malformed; and a
    padding that is not 1, 2, ... or a pad length too long refused."""
    key = esp_iiv.test_key("chacha")
    for align in (8, 32):
        agg = DietSa("chacha", key, 0x5678, False, 16, 16, "optional",
                     align)
        tun = DietSa("chacha", key, 0x5678, False, 16, 16, "optional",
                     align, "tunnel")
        pay = bytes(4) + inner(1)
        if agg.open_esp(agg.seal_esp(NH_AGGFRAG, pay, 3), 3) != \
                (NH_AGGFRAG, pay):
            return "align %d: AGGFRAG payload" % align
        for pkt, nh in ((inner(2), NH_IPV4), (inner(3, v6=True), NH_IPV6)):
            if tun.open_esp(tun.seal_esp(nh, pkt, 4), 4) != (nh, pkt):
                return "align %d: tunnel payload, next header %d" % (align,
                                                                    nh)
        # A tunnel payload of another kind: the sender's NH is not sent.
        bad = tun.seal_esp(NH_IPV4, b"\x50" + bytes(19), 5)
        try:
            tun.open_esp(bad, 5)
            return "align %d: a payload of nibble 5 opens" % align
        except OpenError:
            pass
    dsa = DietSa("gcm", esp_iiv.test_key("gcm"), 0x5678, False, 16, 16,
                 "mandatory", 32, "tunnel")
    pkt = inner(1)      # 68 octets
    for what, pt in (("padding 1, 3", pkt + bytes([1, 3, 2, 4])),
                     ("pad length past the start", pkt[:-2] + bytes([99, 4])),
                     ("not aligned", pkt + bytes([0, 4, 0]))):
        nonce, aad = dsa.nonce_aad(6)
        esp = dsa.header(6) + dsa.aead.encrypt(nonce, pt, aad)
        try:
            dsa.open_esp(esp, 6)
            return "a malformed trailer (%s) opens" % what
        except OpenError:
            pass
    return None


def st_rebuild():
    """SN rebuilding: across a 2^k boundary, reordering within the window,
    an ESN wrap, and a packet too late rebuilt wrong."""
    cases = [  # (bits, k, T, W, esn, expected)
        (4, 8, 250, 64, False, 260),        # over 256
        (250, 8, 260, 64, False, 250),      # late, inside the window
        (196, 8, 260, 64, False, 452),      # just below the window: ahead
        (197, 8, 260, 64, False, 197),      # the window's lowest SN
        (200, 8, 260, 64, False, 200),      # ... and its lowest SN
        (1, 8, 0, 64, False, 1),
        (0, 8, 0, 64, False, 256),          # never SN 0
        (255, 8, 0, 128, False, 255),
        (0x0002, 16, (3 << 32) | 0xfffffff0, 32, True, (4 << 32) | 2),
        (0xfff5, 16, (4 << 32) | 2, 32, True, (3 << 32) | 0xfffffff5),
        (0xfffffff0, 32, (4 << 32) | 5, 64, True, (3 << 32) | 0xfffffff0),
        (3, 32, (4 << 32) | 0xfffffffe, 64, True, (5 << 32) | 3),
        (0x12345678, 32, 0, 0, False, 0x12345678),
        (0x0a, 4, 0x1007, 8, False, 0x100a),
    ]
    for bits, k, top, w, esn, want in cases:
        got = rebuild_sn(bits, k, top, w, esn)
        if got != want:
            return "bits 0x%x k %d T 0x%x W %d: 0x%x, not 0x%x" % (
                bits, k, top, w, got, want)
    return None


def st_stream(alg, esn, combo, explicit=False):
    """Round trip of a stream with reordering inside the window, crossing
    2^sn_lsb (and 2^32 with ESN), both payloads, IPv4 and IPv6 inner; the
    IV on the wire with explicit."""
    spi_lsb, sn_lsb, trailer, align = combo
    key = esp_iiv.test_key(alg)
    window = 1 << max(sn_lsb - 1, 0) if sn_lsb < 32 else 64
    window = min(window, 64)
    spi = 0x0ace1234
    for payload in PAYLOADS:
        dsa = DietSa(alg, key, spi, esn, spi_lsb, sn_lsb, trailer, align,
                     payload, explicit_iv=explicit)
        if sn_lsb == 0:
            continue            # nothing the receiver could rebuild from
        m = 1 << min(sn_lsb, 32)
        if esn:
            start = (2 << 32) + LOW - 20    # 2^k and 2^32 crossed
        elif sn_lsb == 32:
            start = 1000
        else:
            start = m - 5                   # 2^k crossed
        top = start - 1
        n = 24 if sn_lsb > 3 else 12
        sns = list(range(start, start + n))
        # Reorder pairs, by less than the window.
        if window >= 2:
            for i in range(0, n - 1, 3):
                sns[i], sns[i + 1] = sns[i + 1], sns[i]
        inners = [inner(i, 20 + 7 * i % 50, v6=i % 2 == 1)
                  for i in range(n)]
        pays = seal_payloads(dsa, inners)
        esps = [dsa.seal_esp(pays[s - start][0], pays[s - start][1], s)
                for s in sns]
        opened, failed = open_stream(dsa, esps, window, top)
        if failed:
            return "%s: SN %s does not open: %s" % (payload, failed[0][0],
                                                    failed[0][1])
        if [r[0] for r in opened] != sns:
            return "%s: SNs %s, not %s" % (payload, [r[0] for r in opened],
                                          sns)
        got, _, errors = esp_iiv.inner_packets([r[:3] for r in opened])
        if errors or got != inners:
            return "%s: inner packets differ %s" % (payload, errors)
        for r in opened:
            want = dsa.hlen + dsa.wire_iv + len(r[2]) + \
                dsa.trailer_len(len(r[2])) + dsa.icv
            if len(r[3]) != want:
                return "%s: %d octets, %d expected" % (payload, len(r[3]),
                                                       want)
    return None


def st_no_esn_top():
    """Without ESN, low bits that rebuild above 2^32 - 1 fail (the
    receiver drops them), the SNs below still open."""
    dsa = DietSa("gcm", esp_iiv.test_key("gcm"), 0x1234, False, 8, 8)
    esps = [dsa.seal_esp(NH_AGGFRAG, bytes(4), LOW - 1 + i) for i in (0, 1)]
    # The next one's low bits (0x00) rebuild as 2^32.
    esps.append(dsa.header(0) + esps[0][2:])
    opened, failed = open_stream(dsa, esps, 64, LOW - 2)
    if [r[0] for r in opened] != [LOW - 1, LOW] or \
            [f[0] for f in failed] != [LOW + 1] or \
            "above 2^32" not in failed[0][1]:
        return "opened %s, failed %s" % ([r[0] for r in opened], failed)
    return None


def st_tamper(alg, esn):
    """Changed packets fail: an SN bit (a wrong rebuilt SN), an SPI bit,
    ciphertext, ICV; a packet late beyond the window (rebuilt to another
    SN) fails; the packets after them still open (T not moved)."""
    key = esp_iiv.test_key(alg)
    dsa = DietSa(alg, key, 0x0bad0c0d, esn, 8, 8, "optional", 16)
    first = (1 << 32) + 100 if esn else 100
    esps = [dsa.seal_esp(NH_AGGFRAG, bytes(4) + inner(i), first + i)
            for i in range(4)]
    for where in (0, 1, 5, len(esps[2]) - 1):
        bad = list(esps)
        b = bytearray(bad[2])
        b[where] ^= 1
        bad[2] = bytes(b)
        opened, failed = open_stream(dsa, bad, 32, first - 1)
        if len(failed) != 1 or len(opened) != 3 or \
                [r[0] for r in opened] != [first, first + 1, first + 3]:
            return "octet %d changed: opened %s, failed %s" % (
                where, [r[0] for r in opened], failed)
    late = dsa.seal_esp(NH_AGGFRAG, bytes(4), first - 40)
    opened, failed = open_stream(dsa, esps + [late], 32, first - 1)
    if len(opened) != 4 or len(failed) != 1 or \
            failed[0][0] != first - 40 + 256:
        return "a packet 40 behind (window 32) rebuilt as %s" % (failed,)
    # The full-SN field (default settings) tampered: the AAD differs.
    full = DietSa(alg, key, 0x0bad0c0d, esn)
    esp = bytearray(full.seal_esp(NH_AGGFRAG, bytes(4), first))
    esp[7] ^= 1
    if not open_stream(full, [bytes(esp)], 64, first - 1)[1]:
        return "default settings, SN field changed: opens"
    return None


def st_cli(alg, esn, tmp, linktype, combo, v6, udp):
    """seal (command line) to a pcap of link type linktype, open it with
    the command line: sums identical, sizes as the formula says."""
    spi_lsb, sn_lsb, trailer, align = combo
    sa = ["--alg", alg, "--key", "0x" + esp_iiv.test_key(alg).hex(),
          "--spi", "0x7e5a1234", "--spi-lsb", str(spi_lsb), "--sn-lsb",
          str(sn_lsb), "--trailer", trailer, "--align", str(align),
          "--replay-window", str(32 if sn_lsb >= 6 else 1 << (sn_lsb - 1))]
    sa += ["--esn"] if esn else []
    uo = ["--udp", "4500"] if udp else []
    outer = O6 if v6 else O4
    cap, sent, got, sizes = (os.path.join(tmp, n)
                             for n in ("c", "sent", "got", "sizes"))
    seq = (1 << 32) + 250 if esn else 250
    status, _, err = run_cli(
        ["seal"] + sa + ["--outer-src", outer[0], "--outer-dst", outer[1],
                         "--src", "198.51.100.1", "--dst", "198.51.100.2",
                         "--port", "5001", "--count", "12", "--size", "101",
                         "--seed", "3", "--sums", sent, "--pcap", cap,
                         "--seq", str(seq)] + uo)
    if status:
        return "seal: " + err
    if linktype != 1:
        esp_iiv.write_pcap(cap, [ip for _, _, ip in pcap_esp.ip_raw(cap)],
                           linktype)
    status, out, err = run_cli(["open", cap] + sa + [
        "--outer-src", outer[0], "--outer-dst", outer[1], "--sums", got,
        "--sizes", sizes, "--top", str(seq - 1)] + uo)
    if status or "opened 12 packets" not in err:
        return "open: " + err
    with open(sent, encoding="ascii") as a, open(got, encoding="ascii") as b:
        if a.read() != b.read() or len(out.splitlines()) != 12:
            return "sums differ: " + out + err
    hdr = (40 if v6 else 20)
    with open(sizes, encoding="ascii") as f:
        for line in f:
            sn, tot, hl, n, old = (int(x) for x in line.split())
            a = align // 8
            tr = 2 + (-(n + 2)) % a if trailer == "mandatory" else \
                0 if align == 8 else 1 + (-(n + 1)) % a
            icv = esp_iiv.ALGS[alg][1]
            if tot != hdr + hl + n + tr + icv or \
                    old != hdr + 8 + n + 2 + (-(n + 2)) % 4 + icv or \
                    hl != (spi_lsb + sn_lsb) // 8 or sn < seq:
                return "sizes line %s" % line
    # The other direction's address pair finds nothing.
    status, _, err = run_cli(["open", cap] + sa + [
        "--outer-src", outer[1], "--outer-dst", outer[0]] + uo)
    if status != 1 or "no packet" not in err:
        return "the reverse direction: " + err
    # Another SA's key: nothing opens.
    bad = list(sa)
    bad[3] = "0x" + bytes(len(esp_iiv.test_key(alg))).hex()
    status, _, err = run_cli(["open", cap] + bad + [
        "--outer-src", outer[0], "--outer-dst", outer[1], "--top",
        str(seq - 1)] + uo)
    if status != 1 or "ICV check failed" not in err:
        return "opens with another key: " + err
    return None


def st_iipc(tmp, spec, v6_outer, combo):
    """seal (command line) crafted inner packets compressed by an IIPC
    rule, open them: the decompressed packets are the crafted ones."""
    spi_lsb, sn_lsb, trailer, align = combo
    sa = ["--alg", "gcm", "--key", "0x" + esp_iiv.test_key("gcm").hex(),
          "--spi", "0x7e5a1234", "--spi-lsb", str(spi_lsb), "--sn-lsb",
          str(sn_lsb), "--trailer", trailer, "--align", str(align),
          "--replay-window", "32", "--payload", "tunnel", "--iipc", spec]
    outer = O6 if v6_outer else O4
    inners, cap, got = (os.path.join(tmp, n) for n in ("in", "ic", "ig"))
    rule = iipc.Rule(spec)
    pkts = [p for p in iipc.craft(rule, 40, 5)
            if rule.rule_id or iipc.fits(rule, p)]
    iipc.write_hex(inners, pkts)
    status, _, err = run_cli(
        ["seal"] + sa + ["--outer-src", outer[0], "--outer-dst", outer[1],
                         "--inners", inners, "--pcap", cap, "--seq", "5"])
    if status:
        return "seal: " + err
    status, _, err = run_cli(["open", cap] + sa + [
        "--outer-src", outer[0], "--outer-dst", outer[1], "--top", "4",
        "--inners-out", got])
    if status:
        return "open: " + err
    back = iipc.read_hex(got)
    if [iipc.masked(rule, p) for p in back] != \
            [iipc.masked(rule, p) for p in pkts]:
        return "decompressed packets differ: " + err
    return None


def st_settings():
    """Settings Diet-ESP does not allow are refused."""
    key = esp_iiv.test_key("gcm")
    for bad in ((8, 12, "mandatory", 32), (33, 31, "mandatory", 32),
                (-8, 16, "optional", 8), (8, 8, "none", 8),
                (8, 8, "optional", 24), (8, 8, "mandatory", 128)):
        try:
            DietSa("gcm", key, 0x1234, False, *bad)
            return "%s accepted" % (bad,)
        except ValueError:
            pass
    status, _, _ = run_cli(["seal", "--alg", "gcm", "--key",
                            "0x" + key.hex(), "--spi", "1", "--spi-lsb",
                            "8", "--sn-lsb", "4", "--outer-src", "::1",
                            "--outer-dst", "::2", "--src", "::1", "--dst",
                            "::2", "--port", "1", "--count", "1", "--size",
                            "1", "--seed", "1", "--pcap", "/dev/null"])
    return None if status == 2 else "seal with 8 + 4 bits: status %d" % status


def run_cli(argv):
    """main(argv) with its output captured: (status, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            status = main(argv)
        except SystemExit as e:
            status = e.code if isinstance(e.code, int) else 2
    return status, out.getvalue(), err.getvalue()


def selftest_cases(tmp, kat_path):
    """[(name, function returning a problem or None)]."""
    tests = [("hand-computed compressed headers", st_header_examples),
             ("trailers of every setting, decrypted by hand", st_trailers),
             ("elided next header; malformed trailers", st_elided_nh),
             ("SN rebuilding: 2^k boundary, window, ESN wrap", st_rebuild),
             ("settings out of range refused", st_settings),
             ("no ESN: a rebuilt SN above 2^32 - 1 fails", st_no_esn_top)]
    n = 0
    for alg in esp_iiv.ALGS:
        for esn in (False, True):
            tag = alg + ("-esn" if esn else "")
            tests.append(("%s: default settings are esp_iiv.py's (scapy's) "
                          "packets octet for octet" % tag,
                          lambda a=alg, e=esn: st_default_equals_iiv(a, e)))
            tests.append(("%s: --explicit-iv at default settings is scapy's "
                          "RFC 4106/4309/7634 ESP octet for octet" % tag,
                          lambda a=alg, e=esn: st_explicit_equals_esp(a, e)))
            combo = COMBOS[n % 5 + 1]
            tests.append(("%s: --explicit-iv round trip spi-lsb %d sn-lsb %d "
                          "trailer %s align %d, reordered" % ((tag,) + combo),
                          lambda a=alg, e=esn, c=combo:
                          st_stream(a, e, c, True)))
            for combo in COMBOS:
                tests.append(("%s: round trip spi-lsb %d sn-lsb %d trailer "
                              "%s align %d, reordered" % ((tag,) + combo),
                              lambda a=alg, e=esn, c=combo:
                              st_stream(a, e, c)))
            tests.append(("%s: tampered and late packets fail" % tag,
                          lambda a=alg, e=esn: st_tamper(a, e)))
            combo = COMBOS[n % 5 + 1]
            lt = (1, 113, 276)[n % 3]
            v6, udp = n % 2 == 1, n % 3 == 0
            tests.append((
                "%s: command line, spi-lsb %d sn-lsb %d trailer %s align %d,"
                " link type %d, IPv%d%s" % ((tag,) + combo + (
                    lt, 6 if v6 else 4, ", ESP in UDP" if udp else "")),
                lambda a=alg, e=esn, t=lt, c=combo, v=v6, u=udp:
                st_cli(a, e, tmp, t, c, v, u)))
            n += 1
    for i, spec in enumerate(iipc.RULES):
        combo = COMBOS[i % 3 + 1]
        tests.append(("IIPC command line round trip, outer IPv%d, %s" %
                      (6 if i % 2 else 4, spec),
                      lambda s=spec, v=i % 2 == 1, c=combo:
                      st_iipc(tmp, s, v, c)))
    try:
        kats = esp_iiv.read_kats(kat_path)
    except (OSError, ValueError, AttributeError, KeyError) as e:
        return tests + [("vectors of %s" % kat_path, lambda e=e: repr(e))]
    return tests + [("vector %s opens with default settings" % k["name"],
                     lambda k=k: st_kat(k)) for k in kats]


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

    def num(s):
        return int(s, 0)

    def sa_options(sp):
        sp.add_argument("--alg", choices=esp_iiv.ALGS, required=True)
        sp.add_argument("--key", required=True)
        sp.add_argument("--spi", type=num, required=True)
        sp.add_argument("--esn", action="store_true")
        sp.add_argument("--explicit-iv", action="store_true")
        sp.add_argument("--spi-lsb", type=int, default=32)
        sp.add_argument("--sn-lsb", type=int, default=32)
        sp.add_argument("--trailer", choices=TRAILERS, default="mandatory")
        sp.add_argument("--align", type=int, choices=ALIGNS, default=32)
        sp.add_argument("--payload", choices=PAYLOADS, default="aggfrag")
        sp.add_argument("--replay-window", type=int, default=0)
        sp.add_argument("--outer-src", required=True)
        sp.add_argument("--outer-dst", required=True)
        sp.add_argument("--udp", type=int)
        sp.add_argument("--iipc")

    op = sub.add_parser("open")
    op.add_argument("pcap")
    sa_options(op)
    op.add_argument("--top", type=num, default=0)
    op.add_argument("--sums")
    op.add_argument("--port", type=int)
    op.add_argument("--sizes")
    op.add_argument("--inners-out")

    se = sub.add_parser("seal")
    sa_options(se)
    # Required unless --inners gives the packets (checked in cmd_seal).
    for name in ("src", "dst"):
        se.add_argument("--" + name)
    for name in ("port", "count", "size", "seed"):
        se.add_argument("--" + name, type=int)
    se.add_argument("--sport", type=int)
    se.add_argument("--sums")
    se.add_argument("--seq", type=num, default=1)
    se.add_argument("--frag", type=int)
    se.add_argument("--pcap")
    se.add_argument("--gap-us", type=int, default=0)
    se.add_argument("--tamper", action="store_true")
    se.add_argument("--inners")

    ba = sub.add_parser("batch")
    ba.add_argument("file")

    sub.add_parser("kat")

    st = sub.add_parser("selftest")
    st.add_argument("--kat", default=os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "net",
        "xtfs_iiv_kat.h"))
    return p


# Known-answer vectors for xtfs's KUnit (net/xtfs_diet_kat.h): (alg, ESN,
# IV on the wire, SPI, SN, spi-lsb, sn-lsb, trailer, align, payload).
KATS = [
    ("gcm", False, False, 0x0a0b1234, 77, 8, 8, "optional", 8, "aggfrag"),
    ("gcm", False, True, 0x0a0b1234, 78, 8, 8, "optional", 8, "aggfrag"),
    ("gcm", True, False, 0x00c0ffee, (3 << 32) | 0xfffffffe, 16, 16,
     "mandatory", 64, "aggfrag"),
    ("gcm", True, True, 0x00c0ffee, (4 << 32) | 2, 16, 16, "optional", 32,
     "tunnel"),
    ("ccm", False, False, 0x12345678, 0x1ff, 4, 4, "mandatory", 16,
     "aggfrag"),
    ("ccm", False, True, 0x12345678, 0x200, 32, 32, "optional", 16,
     "tunnel"),
    ("ccm", True, True, 0x7e5a1234, (1 << 32) | 5, 8, 24, "mandatory", 8,
     "aggfrag"),
    ("chacha", False, False, 0x00002002, 1, 16, 8, "optional", 8, "tunnel"),
    ("chacha", False, True, 0x00002002, 65537, 16, 16, "mandatory", 32,
     "aggfrag"),
    ("chacha", True, False, 0x33334444, (9 << 32) | 0x80000000, 32, 32,
     "optional", 64, "tunnel"),
    ("chacha", True, True, 0x33334444, (9 << 32) | 0x80000001, 8, 16,
     "optional", 16, "aggfrag"),
]


def kat_vectors():
    """[(name, DietSa, key, SN, next header, payload, ESP octets)]: each
    vector's payload a different length, so that every padding length
    is met."""
    out = []
    for n, (alg, esn, explicit, spi, sn, spi_lsb, sn_lsb, trailer, align,
            payload) in enumerate(KATS):
        key = esp_iiv.test_key(alg)
        dsa = DietSa(alg, key, spi, esn, spi_lsb, sn_lsb, trailer, align,
                     payload, explicit_iv=explicit)
        if payload == "tunnel":
            pay = inner(n, 17 + 3 * n, v6=n % 2 == 1)
            nh = NH_IPV6 if n % 2 == 1 else NH_IPV4
        else:
            nh, pay = seal_payloads(dsa, [inner(n, 11 + 5 * n)])[0]
        name = "%s%s%s %d+%d %s %d %s" % (
            alg, " esn" if esn else "", " iv" if explicit else "",
            spi_lsb, sn_lsb, trailer, align, payload)
        out.append((name, dsa, key, sn, nh, pay,
                    dsa.seal_esp(nh, pay, sn)))
    return out


def cmd_kat(_args):
    """kat: the C header of known-answer vectors."""
    def c_bytes(b):
        return "\n".join("\t\t\t" + " ".join("0x%02x," % x
                                             for x in b[i:i + 12])
                         for i in range(0, len(b), 12))
    print("""/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Known-answer vectors for whole Diet-ESP packets (xtfs_esp.c with
 * xtfs_diet.c), made by selftests/diet_esp.py ("kat"), an implementation
 * written apart from xtfs's. Do not edit; run the script again.
 */

/**
 * struct xtfs_diet_kat - one ESP packet of xtfs's ESP engine
 * @name: what the vector covers
 * @alg: the algorithm
 * @esn: extended sequence numbers
 * @wire_iv: the IV is on the wire (no implicit IV)
 * @key: key material, the salt last
 * @keylen: octets in @key
 * @spi: the SA's SPI
 * @seq: the 64-bit sequence number
 * @set: the Diet-ESP settings and the payload format
 * @nexthdr: the payload's next header
 * @payload: the ESP payload (AGGFRAG payload or inner packet)
 * @payload_len: octets in @payload
 * @wire: the ESP packet: compressed header, IV if sent, ciphertext, ICV
 * @wire_len: octets in @wire
 */
struct xtfs_diet_kat {
	const char		*name;
	enum xtfs_iiv_alg	alg;
	bool			esn;
	bool			wire_iv;
	const u8		*key;
	unsigned int		keylen;
	u32			spi;
	u64			seq;
	struct xtfs_settings	set;
	u8			nexthdr;
	const u8		*payload;
	unsigned int		payload_len;
	const u8		*wire;
	unsigned int		wire_len;
};

static const struct xtfs_diet_kat xtfs_diet_kats[] = {""")
    algs = {"gcm": "XTFS_IIV_ALG_AES_GCM_16", "ccm": "XTFS_IIV_ALG_AES_CCM_8",
            "chacha": "XTFS_IIV_ALG_CHACHA20_POLY1305"}
    for name, dsa, key, sn, nh, pay, wire in kat_vectors():
        print("\t{")
        print("\t\t.name = \"%s\"," % name)
        print("\t\t.alg = %s," % algs[dsa.alg])
        print("\t\t.esn = %s," % ("true" if dsa.esn else "false"))
        print("\t\t.wire_iv = %s," % ("true" if dsa.wire_iv else "false"))
        print("\t\t.key = (const u8[]){\n%s\n\t\t}," % c_bytes(key))
        print("\t\t.keylen = %d," % len(key))
        print("\t\t.spi = 0x%08x," % dsa.spi)
        print("\t\t.seq = 0x%016xULL," % sn)
        print("\t\t.set = {")
        print("\t\t\t.spi_lsb = %d, .sn_lsb = %d," % (dsa.spi_lsb,
                                                      dsa.sn_lsb))
        print("\t\t\t.trailer = XTFS_TRAILER_%s, .align = %d," % (
            dsa.trailer.upper(), dsa.align))
        print("\t\t\t.payload = XTFS_PAYLOAD_%s," % dsa.payload.upper())
        print("\t\t},")
        print("\t\t.nexthdr = %d," % nh)
        print("\t\t.payload = (const u8[]){\n%s\n\t\t}," % c_bytes(pay))
        print("\t\t.payload_len = %d," % len(pay))
        print("\t\t.wire = (const u8[]){\n%s\n\t\t}," % c_bytes(wire))
        print("\t\t.wire_len = %d," % len(wire))
        print("\t},")
    print("};")
    return 0


def cmd_batch(args):
    """Run the commands of args.file, output to the log each one names."""
    with open(args.file, encoding="utf-8") as f:
        lines = [shlex.split(ln) for ln in f if ln.strip()]
    for words in lines:
        if len(words) < 2 or words[1] not in ("open", "seal"):
            print("diet_esp: batch: not a log and a command: %s" %
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
        esp_iiv.write_lines(words[0] + ".rc", [str(rc)])
    return 0


def main(argv=None):
    """Run a subcommand; returns the exit status."""
    args = parser().parse_args(argv)
    try:
        return {"open": cmd_open, "seal": cmd_seal, "batch": cmd_batch,
                "selftest": cmd_selftest, "kat": cmd_kat}[args.cmd](args)
    except ValueError as e:
        print("diet_esp: %s" % e, file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
