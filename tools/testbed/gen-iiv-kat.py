#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Make net/xtfs_iiv_kat.h: known-answer vectors for RFC 8750 ESP.

Each vector is one ESP packet as it goes on the wire with an implicit IV:
SPI, the low 32 bits of the sequence number, the ciphertext of the ESP
payload (inner packet, padding, pad length, next header 4) and the ICV, and
no IV. The ciphertext and ICV come from the Python "cryptography" package
(OpenSSL), not from xtfs:

  nonce = salt || IV, IV = 0^32 || SN (no ESN) or the 64-bit ESN (RFC 8750
          section 4); salt = the last 4 (GCM, ChaCha20) or 3 (CCM) octets
          of the key material (RFC 4106 section 8.1, RFC 4309 section 7.1,
          RFC 7634 section 2)
  AAD   = SPI || SN, or SPI || ESN high || ESN low (RFC 4106 section 5,
          RFC 4309 section 5, RFC 7634 section 2.1)

Inputs are derived from the vector's name, so the output is reproducible:
  python3 tools/testbed/gen-iiv-kat.py > net/xtfs_iiv_kat.h

With --check FILE it writes nothing: it checks that FILE is what it would
write, and cross-checks every vector with an independent ESP
implementation, scapy's SecurityAssociation: the packet with its IV put
back (RFC 4106, 4309, 7634 wire format) must decrypt there, ICV verified,
to the inner packet, and scapy's own encryption of the inner packet with
that IV, the IV taken out again, must be the vector's wire form.
"""
import hashlib
import io
import struct
import sys

from cryptography.hazmat.primitives.ciphers.aead import (
    AESCCM, AESGCM, ChaCha20Poly1305)

# (C name of the algorithm, short name, key sizes in octets, salt length,
#  ICV length, constructor, scapy's name of the explicit-IV algorithm)
ALGS = [
    ("XTFS_IIV_ALG_AES_GCM_16", "gcm", (16, 24, 32), 4, 16,
     lambda k: AESGCM(k), "AES-GCM"),
    ("XTFS_IIV_ALG_AES_CCM_8", "ccm", (16, 24, 32), 3, 8,
     lambda k: AESCCM(k, tag_length=8), "AES-CCM"),
    ("XTFS_IIV_ALG_CHACHA20_POLY1305", "chacha", (32,), 4, 16,
     lambda k: ChaCha20Poly1305(k), "CHACHA20-POLY1305"),
]


def octets(name, n):
    """n reproducible octets for a vector's input called name."""
    out = b""
    i = 0
    while len(out) < n:
        out += hashlib.sha256(f"xtfs-iiv-kat {name} {i}".encode()).digest()
        i += 1
    return out[:n]


def inner_packet(name, size):
    """An IPv4/UDP packet of size octets (the checksums do not matter)."""
    body = octets(name + " body", size - 28)
    udp = struct.pack("!HHHH", 5001, 5001, size - 20, 0)
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, size, 1, 0, 64, 17, 0,
                     bytes([198, 51, 100, 1]), bytes([198, 51, 100, 2]))
    return ip + udp + body


def esp_payload(inner):
    """inner, padding to 4 octets (1, 2, 3, ...), pad length, next header."""
    pad = (-(len(inner) + 2)) % 4
    return inner + bytes(range(1, pad + 1)) + bytes([pad, 4])


def c_bytes(data, indent="\t\t"):
    lines = []
    for i in range(0, len(data), 12):
        lines.append(indent + " ".join(f"0x{b:02x}," for b in data[i:i + 12]))
    return "\n".join(lines)


class Vector:
    """One ESP packet with implicit IV and what it was made from."""

    def __init__(self, alg, ks, esn):
        cname, short, _, saltlen, icvlen, make, self.scapy_alg = alg
        self.cname, self.esn, self.icvlen = cname, esn, icvlen
        self.name = f"{short}{ks * 8}{'_esn' if esn else ''}"
        self.key = octets(self.name + " key", ks)
        self.salt = octets(self.name + " salt", saltlen)
        self.spi = 0x1000 + ks + (1 if esn else 0)
        # With ESN the high half is not 0, and the low half is small (a
        # packet just after a 2^32 wrap).
        self.seq = (0x00000001_00000007 if esn else 0x00000000_2a0b0c0d) + ks
        # RFC 8750 section 4: the IV is the 64-bit ESN, or 0^32 || SN.
        self.iv = struct.pack("!Q", self.seq)
        if esn:
            aad = struct.pack("!III", self.spi, self.seq >> 32,
                              self.seq & 0xffffffff)
        else:
            aad = struct.pack("!II", self.spi, self.seq)
        self.inner = inner_packet(self.name, 64 + ks // 8)
        self.plain = esp_payload(self.inner)
        sealed = make(self.key).encrypt(self.salt + self.iv, self.plain, aad)
        assert len(sealed) == len(self.plain) + icvlen
        self.hdr = struct.pack("!II", self.spi, self.seq & 0xffffffff)
        self.wire = self.hdr + sealed


def vectors():
    for alg in ALGS:
        for ks in alg[2]:
            for esn in (False, True):
                yield Vector(alg, ks, esn)


def emit(out):
    def p(line=""):
        out.write(line + "\n")

    p("/* SPDX-License-Identifier: GPL-2.0 */")
    p("/*")
    p(" * Known-answer vectors for RFC 8750 ESP (implicit IV), made by")
    p(" * tools/testbed/gen-iiv-kat.py with the Python \"cryptography\"")
    p(" * package: see that script for how each field is computed. Do not")
    p(" * edit; run the script again.")
    p(" */")
    p()
    p("/**")
    p(" * struct xtfs_iiv_kat - one ESP packet with an implicit IV")
    p(" * @name: what the vector covers")
    p(" * @alg: the algorithm")
    p(" * @esn: extended sequence numbers")
    p(" * @key: key material, the salt last")
    p(" * @keylen: octets in @key")
    p(" * @seq: the 64-bit sequence number (below 2^32 without ESN)")
    p(" * @plain: the ESP payload: inner packet, padding, pad length and")
    p(" *	next header")
    p(" * @plainlen: octets in @plain")
    p(" * @wire: the ESP packet: SPI, sequence number, ciphertext, ICV")
    p(" * @wirelen: octets in @wire")
    p(" */")
    p("struct xtfs_iiv_kat {")
    p("\tconst char\t*name;")
    p("\tenum xtfs_iiv_alg alg;")
    p("\tbool\t\tesn;")
    p("\tconst u8\t*key;")
    p("\tunsigned int\tkeylen;")
    p("\tu64\t\tseq;")
    p("\tconst u8\t*plain;")
    p("\tunsigned int\tplainlen;")
    p("\tconst u8\t*wire;")
    p("\tunsigned int\twirelen;")
    p("};")
    p()
    p("static const struct xtfs_iiv_kat xtfs_iiv_kats[] = {")
    for i, v in enumerate(vectors()):
        if i:
            p()
        p("\t{")
        p(f"\t\t.name = \"{v.name}\",")
        p(f"\t\t.alg = {v.cname},")
        p(f"\t\t.esn = {'true' if v.esn else 'false'},")
        p("\t\t.key = (const u8[]){")
        p(c_bytes(v.key + v.salt, "\t\t\t"))
        p("\t\t},")
        p(f"\t\t.keylen = {len(v.key) + len(v.salt)},")
        p(f"\t\t.seq = 0x{v.seq:016x}ULL,")
        p("\t\t.plain = (const u8[]){")
        p(c_bytes(v.plain, "\t\t\t"))
        p("\t\t},")
        p(f"\t\t.plainlen = {len(v.plain)},")
        p("\t\t.wire = (const u8[]){")
        p(c_bytes(v.wire, "\t\t\t"))
        p("\t\t},")
        p(f"\t\t.wirelen = {len(v.wire)},")
        p("\t},")
    p("};")


def scapy_check(v):
    """Cross-check one vector with scapy; returns a problem or None."""
    from scapy.layers.inet import IP
    from scapy.layers.ipsec import ESP, SecurityAssociation

    outer = IP(src="192.0.2.1", dst="192.0.2.2")
    sa = SecurityAssociation(ESP, spi=v.spi, crypt_algo=v.scapy_alg,
                             crypt_key=v.key + v.salt,
                             crypt_icv_size=v.icvlen,
                             tunnel_header=outer.copy(),
                             esn_en=v.esn, esn=v.seq >> 32)
    # The explicit-IV packet: the implicit IV put back behind the header.
    explicit = v.hdr + v.iv + v.wire[8:]
    try:
        got = sa.decrypt(IP(bytes(outer / ESP(explicit))))
    except Exception as e:  # scapy's IPSecIntegrityError and others
        return f"scapy cannot open it: {e!r}"
    if bytes(got) != v.inner:
        return "scapy opened it to another inner packet"
    sealed = sa.encrypt(IP(v.inner), seq_num=v.seq & 0xffffffff, iv=v.iv)
    esp = bytes(sealed[ESP])
    if esp[8:16] != v.iv or esp[:8] + esp[16:] != v.wire:
        return "scapy's packet, IV taken out, differs"
    return None


def check(path):
    buf = io.StringIO()
    emit(buf)
    with open(path) as f:
        if f.read() != buf.getvalue():
            print(f"{path}: not what {sys.argv[0]} makes; run it again")
            return 1
    bad = 0
    for v in vectors():
        problem = scapy_check(v)
        if problem:
            print(f"{path}: vector {v.name}: {problem}")
            bad = 1
    return bad


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--check":
        sys.exit(check(sys.argv[2]))
    if len(sys.argv) != 1:
        sys.exit(f"usage: {sys.argv[0]} [--check FILE]")
    emit(sys.stdout)


if __name__ == "__main__":
    main()
