// SPDX-License-Identifier: GPL-2.0
/*
 * xtfs - Diet-ESP inner IP compression (IIPC,
 * draft-ietf-ipsecme-diet-esp-07 section 5.1) on SAs with the tunnel
 * payload: one inner packet per ESP packet, its IP header and its UDP or
 * TCP ports and checksum replaced by the residue of the SA's rule.
 *
 * What the draft leaves open is pinned in Documentation/xtfs.rst, "IIPC":
 * the compressed packet is the RuleID octet (unless elided; 1 for the
 * rule, 0 for an inner packet sent as it is), the residue of each field
 * the rule sends, most significant bit first in the order of the fields
 * in the headers, zero bits up to a whole octet, then the rest of the
 * packet. Of a TCP header only the ports and the checksum are compressed:
 * its other octets start the rest, in their order.
 */

#include <kunit/visibility.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/jhash.h>
#include <linux/log2.h>
#include <linux/once.h>
#include <linux/random.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <net/checksum.h>
#include <net/inet_ecn.h>
#include <net/ip.h>
#include <net/ip6_checksum.h>
#include <net/ipv6.h>
#include <net/netlink.h>

#include "xtfs.h"

/* RuleIDs (section 4.1): the SA's rule, and no compression. */
#define XTFS_IIPC_RULE		1
#define XTFS_IIPC_RULE_NONE	0

/*
 * The longest compressed header: RuleID, then for IPv6 DSCP, ECN, flow
 * label, next header, two addresses, two ports (6 + 2 + 20 + 8 + 256 +
 * 32 bits) rounded up to octets.
 */
#define XTFS_IIPC_HDR_MAX	(1 + 41)

/* The longest link header kept across decompression (Ethernet, VLANs). */
#define XTFS_IIPC_MAC_MAX	32

/* TCP octets the rule elides: the two ports and the checksum. */
#define XTFS_IIPC_TCP_ELIDED	6

/* The IP and transport headers of one inner packet, rebuilt or compressed. */
#define XTFS_IIPC_FULL_MAX	(sizeof(struct ipv6hdr) + 60)

/**
 * struct xtfs_bits - a bit string being written or read
 * @p: its octets
 * @pos: bits written or read so far
 * @len: bits that may be read
 */
struct xtfs_bits {
	u8		*p;
	unsigned int	pos;
	unsigned int	len;
};

/**
 * xtfs_bits_put() - append the low bits of a value, most significant first
 * @b: the bit string, zeroed beforehand and long enough
 * @v: the value
 * @n: how many of its low bits, at most 32
 */
static void xtfs_bits_put(struct xtfs_bits *b, u32 v, unsigned int n)
{
	while (n--) {
		if (v >> n & 1)
			b->p[b->pos / 8] |= 0x80 >> (b->pos % 8);
		b->pos++;
	}
}

/**
 * xtfs_bits_get() - read bits, most significant first
 * @b: the bit string
 * @n: how many, at most 32
 * @v: out, their value
 *
 * Return: false when fewer than @n bits are left.
 */
static bool xtfs_bits_get(struct xtfs_bits *b, unsigned int n, u32 *v)
{
	u32 r = 0;

	if (b->len - b->pos < n)
		return false;
	while (n--) {
		r = r << 1 | (b->p[b->pos / 8] >> (7 - b->pos % 8) & 1);
		b->pos++;
	}
	*v = r;
	return true;
}

/**
 * xtfs_bits_put_lsb() - append the low bits of an address or port
 * @b: the bit string
 * @val: the value, network byte order
 * @bits: its length in bits
 * @msb: its leading bits the rule knows (sent: @bits - @msb)
 */
static void xtfs_bits_put_lsb(struct xtfs_bits *b, const u8 *val,
			      unsigned int bits, unsigned int msb)
{
	unsigned int i;

	for (i = msb; i < bits; i++)
		xtfs_bits_put(b, val[i / 8] >> (7 - i % 8) & 1, 1);
}

/**
 * xtfs_bits_get_lsb() - read the low bits of an address or port
 * @b: the bit string
 * @val: in, the rule's value (low bits 0); out, with the bits read
 * @bits: its length in bits
 * @msb: its leading bits the rule knows
 *
 * Return: false when the string is too short.
 */
static bool xtfs_bits_get_lsb(struct xtfs_bits *b, u8 *val, unsigned int bits,
			      unsigned int msb)
{
	unsigned int i;
	u32 v;

	for (i = msb; i < bits; i++) {
		if (!xtfs_bits_get(b, 1, &v))
			return false;
		val[i / 8] |= v << (7 - i % 8);
	}
	return true;
}

/**
 * xtfs_msb_equal() - whether two values share their leading bits
 * @a: a value, network byte order
 * @b: another, as long
 * @msb: how many leading bits
 *
 * Return: true when the first @msb bits of @a and @b are equal.
 */
static bool xtfs_msb_equal(const u8 *a, const u8 *b, unsigned int msb)
{
	unsigned int n = msb / 8;
	u8 mask;

	if (memcmp(a, b, n))
		return false;
	if (!(msb % 8))
		return true;
	mask = 0xff << (8 - msb % 8);
	return !((a[n] ^ b[n]) & mask);
}

/**
 * xtfs_common_msb() - msb(start, end) of section 4.2
 * @start: range start, network byte order
 * @end: range end, as long
 * @len: their length in octets
 *
 * Return: the number of leading bits @start and @end share.
 */
static unsigned int xtfs_common_msb(const u8 *start, const u8 *end,
				    unsigned int len)
{
	unsigned int i;

	for (i = 0; i < len; i++)
		if (start[i] != end[i])
			return i * 8 + 7 - __fls(start[i] ^ end[i]);
	return len * 8;
}

/**
 * xtfs_clear_lsb() - clear the bits of a value past its leading bits
 * @val: the value, network byte order
 * @len: its length in octets
 * @msb: leading bits kept
 */
static void xtfs_clear_lsb(u8 *val, unsigned int len, unsigned int msb)
{
	unsigned int i;

	for (i = msb; i < len * 8; i++)
		val[i / 8] &= ~(0x80 >> (i % 8));
}

/**
 * xtfs_dscp_index() - the position of a DSCP value in the rule's list
 * @r: the rule
 * @dscp: the value
 *
 * Return: its index, or -1 when it is not in the list.
 */
static int xtfs_dscp_index(const struct xtfs_iipc *r, u8 dscp)
{
	int i;

	for (i = 0; i < r->dscp_n; i++)
		if (r->dscp_list[i] == dscp)
			return i;
	return -1;
}

/**
 * xtfs_dscp_bits() - bits of the DSCP index the rule sends
 * @r: the rule, DSCP compressed against its list
 *
 * Return: 0 for a list of one value, else enough bits for every index.
 */
static unsigned int xtfs_dscp_bits(const struct xtfs_iipc *r)
{
	return r->dscp_n > 1 ? order_base_2(r->dscp_n) : 0;
}

/**
 * struct xtfs_iipc_pkt - what compression needs of an inner packet
 * @iphlen: octets of its IP header
 * @thlen: octets of its transport header the rule compresses (UDP, TCP),
 *	0 when it has none
 * @proto: IPv4 protocol or IPv6 next header
 * @ds: DS field
 * @flags: IPv4 flags (3 bits)
 * @flow: IPv4 Identification or IPv6 flow label
 * @saddr: source address
 * @daddr: destination address
 * @ports: source and destination port, as on the wire
 */
struct xtfs_iipc_pkt {
	unsigned int	iphlen;
	unsigned int	thlen;
	u8		proto;
	u8		ds;
	u8		flags;
	u32		flow;
	const u8	*saddr;
	const u8	*daddr;
	const u8	*ports;
};

/**
 * xtfs_iipc_transport() - the transport header length the rule compresses
 * @skb: the inner packet, its IP header linear
 * @p: the packet so far; @p->thlen set here
 *
 * UDP: 8 octets, its length field matching the IP payload (it is elided);
 * TCP: its data offset, within the packet; others: none.
 *
 * Return: false when a UDP or TCP header is short or inconsistent.
 */
static bool xtfs_iipc_transport(struct sk_buff *skb, struct xtfs_iipc_pkt *p)
{
	unsigned int left = skb->len - p->iphlen;
	const struct tcphdr *th;
	const struct udphdr *uh;

	p->thlen = 0;
	if (p->proto == IPPROTO_UDP) {
		if (!pskb_may_pull(skb, p->iphlen + sizeof(*uh)))
			return false;
		uh = (const struct udphdr *)(skb->data + p->iphlen);
		if (ntohs(uh->len) != left)
			return false;
		p->thlen = sizeof(*uh);
	} else if (p->proto == IPPROTO_TCP) {
		if (!pskb_may_pull(skb, p->iphlen + sizeof(*th)))
			return false;
		th = (const struct tcphdr *)(skb->data + p->iphlen);
		if (th->doff < 5 || th->doff * 4 > left ||
		    !pskb_may_pull(skb, p->iphlen + th->doff * 4))
			return false;
		p->thlen = th->doff * 4;
	}
	return true;
}

/**
 * xtfs_iipc_match() - whether an inner packet fits the SA's rule
 * @r: the rule
 * @skb: the inner packet, data at its IP header
 * @p: out, its fields; the pointers valid until @skb changes
 *
 * Section 5.1: the IP version of the rule; its addresses, and the ports
 * of a UDP or TCP packet, carry the rule's leading bits (MO "MSB"); the
 * protocol is the rule's unless the rule says any; with DSCP compressed
 * against the list its DSCP is in it, with the flow label (IPv4:
 * Identification) "zero" that field is 0. The lengths it elides must be
 * those of the packet, so an IPv4 packet with options or a fragment of
 * one does not fit.
 *
 * Return: true when it fits.
 */
static bool xtfs_iipc_match(const struct xtfs_iipc *r, struct sk_buff *skb,
			    struct xtfs_iipc_pkt *p)
{
	const struct ipv6hdr *ip6h;
	const struct iphdr *iph;

	if (!pskb_may_pull(skb, 1) || skb->data[0] >> 4 != r->version)
		return false;
	if (r->version == 4) {
		p->iphlen = sizeof(*iph);
		if (!pskb_may_pull(skb, p->iphlen))
			return false;
		iph = (const struct iphdr *)skb->data;
		if (iph->ihl != 5 || ntohs(iph->tot_len) != skb->len ||
		    iph->frag_off & htons(IP_MF | IP_OFFSET))
			return false;
		p->proto = iph->protocol;
	} else {
		p->iphlen = sizeof(*ip6h);
		if (!pskb_may_pull(skb, p->iphlen))
			return false;
		ip6h = (const struct ipv6hdr *)skb->data;
		if (ntohs(ip6h->payload_len) + p->iphlen != skb->len)
			return false;
		p->proto = ip6h->nexthdr;
	}
	if (r->proto && p->proto != r->proto)
		return false;
	if (!xtfs_iipc_transport(skb, p))
		return false;

	/* Pointers last: pulling may move the data. */
	if (r->version == 4) {
		iph = (const struct iphdr *)skb->data;
		p->ds = ipv4_get_dsfield(iph);
		p->flow = ntohs(iph->id);
		p->flags = ntohs(iph->frag_off) >> 13;
		p->saddr = (const u8 *)&iph->saddr;
		p->daddr = (const u8 *)&iph->daddr;
	} else {
		ip6h = (const struct ipv6hdr *)skb->data;
		p->ds = ipv6_get_dsfield(ip6h);
		p->flow = ntohl(ip6_flowlabel(ip6h));
		p->flags = 0;
		p->saddr = ip6h->saddr.s6_addr;
		p->daddr = ip6h->daddr.s6_addr;
	}
	p->ports = p->thlen ? skb->data + p->iphlen : NULL;
	if (!xtfs_msb_equal(p->saddr, r->src.s6_addr, r->src_len) ||
	    !xtfs_msb_equal(p->daddr, r->dst.s6_addr, r->dst_len))
		return false;
	if (p->ports) {
		__be16 sport = htons(r->sport), dport = htons(r->dport);

		if (!xtfs_msb_equal(p->ports, (const u8 *)&sport,
				    r->sport_len) ||
		    !xtfs_msb_equal(p->ports + 2, (const u8 *)&dport,
				    r->dport_len))
			return false;
	}
	if (r->dscp == XTFS_IIPC_CDA_SA && xtfs_dscp_index(r, p->ds >> 2) < 0)
		return false;
	if (r->fl == XTFS_IIPC_CDA_ZERO && p->flow)
		return false;
	return true;
}

/**
 * xtfs_iipc_residue() - write the compressed header of a fitting packet
 * @r: the rule
 * @p: the packet's fields (xtfs_iipc_match())
 * @buf: where it goes, %XTFS_IIPC_HDR_MAX octets
 *
 * RuleID, then what the rule sends of each field in header order:
 * IPv4: IHL (4 bits), DSCP, ECN, Identification (16), flags (3),
 * protocol (8, rule "any" only), source and destination address low bits;
 * IPv6: DSCP, ECN, flow label (20), next header (8, rule "any" only),
 * address low bits; then for UDP and TCP the port low bits. DSCP is 6
 * bits or the index into the rule's list, ECN 2 bits, each only when the
 * rule sends it. Zero bits fill the last octet.
 *
 * Return: the octets written.
 */
static unsigned int xtfs_iipc_residue(const struct xtfs_iipc *r,
				      const struct xtfs_iipc_pkt *p, u8 *buf)
{
	unsigned int abits = r->version == 4 ? 32 : 128;
	struct xtfs_bits b = { .p = buf };

	memset(buf, 0, XTFS_IIPC_HDR_MAX);
	if (r->rule_id)
		xtfs_bits_put(&b, XTFS_IIPC_RULE, 8);
	if (r->version == 4)
		xtfs_bits_put(&b, 5, 4);
	if (r->dscp == XTFS_IIPC_CDA_PLAIN)
		xtfs_bits_put(&b, p->ds >> 2, 6);
	else if (r->dscp == XTFS_IIPC_CDA_SA)
		xtfs_bits_put(&b, xtfs_dscp_index(r, p->ds >> 2),
			      xtfs_dscp_bits(r));
	if (r->ecn == XTFS_IIPC_CDA_PLAIN)
		xtfs_bits_put(&b, p->ds & INET_ECN_MASK, 2);
	if (r->fl == XTFS_IIPC_CDA_PLAIN)
		xtfs_bits_put(&b, p->flow, r->version == 4 ? 16 : 20);
	if (r->version == 4)
		xtfs_bits_put(&b, p->flags, 3);
	if (!r->proto)
		xtfs_bits_put(&b, p->proto, 8);
	xtfs_bits_put_lsb(&b, p->saddr, abits, r->src_len);
	xtfs_bits_put_lsb(&b, p->daddr, abits, r->dst_len);
	if (p->ports) {
		xtfs_bits_put_lsb(&b, p->ports, 16, r->sport_len);
		xtfs_bits_put_lsb(&b, p->ports + 2, 16, r->dport_len);
	}
	return DIV_ROUND_UP(b.pos, 8);
}

/**
 * xtfs_iipc_compress() - replace a fitting packet's headers by the residue
 * @r: the rule
 * @skb: the inner packet, data at its IP header
 * @p: its fields (xtfs_iipc_match())
 *
 * The IP header and a UDP header go whole; of a TCP header the ports and
 * the checksum (its other octets follow the residue in their order).
 *
 * Return: 0, or -ENOMEM when the headers cannot be made writable.
 */
static int xtfs_iipc_compress(const struct xtfs_iipc *r, struct sk_buff *skb,
			      const struct xtfs_iipc_pkt *p)
{
	unsigned int full = p->iphlen + p->thlen, len, keep = 0;
	u8 buf[XTFS_IIPC_HDR_MAX + 60];
	const u8 *th;

	len = xtfs_iipc_residue(r, p, buf);
	if (p->proto == IPPROTO_TCP && p->thlen) {
		/* Sequence number to window, then urgent pointer, options. */
		th = skb->data + p->iphlen;
		keep = p->thlen - XTFS_IIPC_TCP_ELIDED;
		memcpy(buf + len, th + 4, 12);
		memcpy(buf + len + 12, th + 18, p->thlen - 18);
	}
	if (skb_ensure_writable(skb, full))
		return -ENOMEM;
	__skb_pull(skb, full - len - keep);
	memcpy(skb->data, buf, len + keep);
	skb_reset_network_header(skb);
	return 0;
}

/**
 * xtfs_iipc_encode() - compress an inner packet by a rule, if it fits
 * @r: the rule
 * @skb: the inner packet, data at its IP header, that header linear
 *
 * Return: 1 when the packet was compressed (data at the RuleID, or at the
 * residue when the rule elides it), 0 when it does not fit the rule
 * (unchanged but for pulled headers), or -ENOMEM.
 */
VISIBLE_IF_KUNIT int xtfs_iipc_encode(const struct xtfs_iipc *r,
				      struct sk_buff *skb)
{
	struct xtfs_iipc_pkt p;
	int err;

	/* GSO batches are segmented before (xfrm_output_gso()). */
	if (skb_is_gso(skb) || !xtfs_iipc_match(r, skb, &p))
		return 0;
	err = xtfs_iipc_compress(r, skb, &p);
	if (err)
		return err;
	/* The checksum is not sent: nothing is left to finish. */
	if (skb->ip_summed == CHECKSUM_PARTIAL)
		skb->ip_summed = CHECKSUM_NONE;
	return 1;
}
EXPORT_SYMBOL_IF_KUNIT(xtfs_iipc_encode);

/**
 * xtfs_iipc_fields() - compress an inner packet and give its outer fields
 *	(xtfs_payload_ops::outer_fields of an IIPC SA)
 * @x: the SA
 * @skb: the inner packet, data and network header at its IP header
 * @o: out, the outer header's fields
 *
 * The fields are the tunnel payload's (xtfs_tunnel_fields()), except
 * those the rule reads from the outer header ("lower", section 5.1.2):
 * the DSCP copied, the ECN field copied as it is, and the flow label
 * (IPv4: Identification) given to the outer IPv6 flow label or IPv4
 * Identification, their low 16 bits where only 16 fit.
 *
 * A packet that does not fit the rule is sent as it is after RuleID 0
 * (xtfs_iipc_match()), or dropped when the SA elides the RuleID; either
 * way it is counted in iipc_unmatched.
 *
 * Return: 0, or a negative error: the core drops the packet.
 */
int xtfs_iipc_fields(struct xfrm_state *x, struct sk_buff *skb,
		     struct xtfs_outer *o)
{
	struct xtfs_sa *sa = x->mode_data;
	const struct xtfs_iipc *r = &sa->iipc;
	u32 flow;
	u8 ds;
	int ret;

	/* The inner fields "lower" puts in the outer header, read first. */
	xtfs_tunnel_fields(x, skb, o);
	if (ip_hdr(skb)->version == 4) {
		ds = ipv4_get_dsfield(ip_hdr(skb));
		flow = ntohs(ip_hdr(skb)->id);
	} else {
		ds = ipv6_get_dsfield(ipv6_hdr(skb));
		flow = ntohl(ip6_flowlabel(ipv6_hdr(skb)));
	}
	ret = xtfs_iipc_encode(r, skb);
	if (ret < 0)
		return ret;
	if (!ret) {
		xtfs_inc(sa, XTFS_CNT_IIPC_UNMATCHED, 1);
		if (!r->rule_id)
			return -EINVAL;
		/* The SA's header_len reserved the octet. */
		if (skb_cow_head(skb, 1))
			return -ENOMEM;
		*(u8 *)skb_push(skb, 1) = XTFS_IIPC_RULE_NONE;
		skb_reset_network_header(skb);
		return 0;
	}
	if (r->dscp == XTFS_IIPC_CDA_LOWER)
		o->ds = (o->ds & INET_ECN_MASK) | (ds & ~INET_ECN_MASK);
	if (r->ecn == XTFS_IIPC_CDA_LOWER)
		o->ds = (o->ds & ~INET_ECN_MASK) | (ds & INET_ECN_MASK);
	if (r->fl == XTFS_IIPC_CDA_LOWER) {
		o->flow_set = true;
		o->flow = flow;
	}
	return 0;
}

/**
 * xtfs_iipc_inner_mtu() - inner MTU of an IIPC SA
 * @sa: the SA state
 * @outer_mtu: MTU of the outer path
 *
 * A compressed packet is shorter than the packet, but one sent as it is
 * has the RuleID octet in front, the payload format's header.
 *
 * Return: the ESP payload space of one outer packet less that header.
 */
u32 xtfs_iipc_inner_mtu(struct xtfs_sa *sa, int outer_mtu)
{
	u32 space = xtfs_tunnel_inner_mtu(sa, outer_mtu);

	return space > sa->pl->hdr_len ? space - sa->pl->hdr_len : 0;
}

/* Secret seed of the flow labels the receiver makes (RFC 6437 section 3). */
static u32 xtfs_iipc_seed __read_mostly;

/**
 * xtfs_iipc_gen_flow() - a flow label or Identification made by the
 *	receiver (flow_label_cda "generated")
 * @hdr: the rebuilt IP header, addresses in place
 * @ver: its IP version
 * @ports: the rebuilt ports, or NULL
 *
 * IPv6: a keyed hash of the addresses and ports, the same for every
 * packet of a flow and not guessable from outside (RFC 6437 section 3).
 * IPv4: a random Identification for each packet, so that packets
 * fragmented later are not put together wrongly (RFC 6864 section 4).
 *
 * Return: the value, 20 bits (IPv6) or 16 (IPv4).
 */
static u32 xtfs_iipc_gen_flow(const u8 *hdr, u8 ver, const u8 *ports)
{
	u32 h;

	if (ver == 4)
		return get_random_u16();
	get_random_once(&xtfs_iipc_seed, sizeof(xtfs_iipc_seed));
	h = jhash(hdr + offsetof(struct ipv6hdr, saddr), 32, xtfs_iipc_seed);
	if (ports)
		h = jhash(ports, 4, h);
	return h & 0xfffff;
}

/**
 * xtfs_iipc_rebuild() - rebuild the headers of a compressed packet
 * @r: the rule
 * @skb: the compressed packet, data after the RuleID, @len octets linear
 * @len: octets of it readable at @skb->data
 * @ou: the outer header's fields
 * @hdr: out, the IP and transport headers, %XTFS_IIPC_FULL_MAX octets
 * @used: out, octets of @skb that @hdr replaces
 *
 * The inverse of xtfs_iipc_residue() and xtfs_iipc_compress(): lengths
 * and checksums are left for xtfs_iipc_finish().
 *
 * Return: octets of @hdr, or 0 when the packet is too short for its
 * residue or its TCP header.
 */
static unsigned int xtfs_iipc_rebuild(const struct xtfs_iipc *r,
				      struct sk_buff *skb, unsigned int len,
				      const struct xtfs_iipc_outer *ou, u8 *hdr,
				      unsigned int *used)
{
	struct xtfs_bits b = { .p = skb->data, .len = len * 8 };
	u32 ihl = 5, dscp, ecn, flow = 0, flags = 0, proto = r->proto, v;
	unsigned int iphlen, abits, thlen = 0, rlen, rest = 0;
	u8 *saddr, *daddr, *ports = NULL;

	if (r->version == 4) {
		iphlen = sizeof(struct iphdr);
		abits = 32;
		saddr = hdr + offsetof(struct iphdr, saddr);
		daddr = hdr + offsetof(struct iphdr, daddr);
		if (!xtfs_bits_get(&b, 4, &ihl) || ihl != 5)
			return 0;
	} else {
		iphlen = sizeof(struct ipv6hdr);
		abits = 128;
		saddr = hdr + offsetof(struct ipv6hdr, saddr);
		daddr = hdr + offsetof(struct ipv6hdr, daddr);
	}
	memset(hdr, 0, XTFS_IIPC_FULL_MAX);

	dscp = ou->ds >> 2;
	if (r->dscp == XTFS_IIPC_CDA_PLAIN && !xtfs_bits_get(&b, 6, &dscp))
		return 0;
	if (r->dscp == XTFS_IIPC_CDA_SA) {
		if (!xtfs_bits_get(&b, xtfs_dscp_bits(r), &v) || v >= r->dscp_n)
			return 0;
		dscp = r->dscp_list[v];
	}
	ecn = ou->ds & INET_ECN_MASK;
	if (r->ecn == XTFS_IIPC_CDA_PLAIN && !xtfs_bits_get(&b, 2, &ecn))
		return 0;
	if (r->fl == XTFS_IIPC_CDA_PLAIN &&
	    !xtfs_bits_get(&b, r->version == 4 ? 16 : 20, &flow))
		return 0;
	if (r->fl == XTFS_IIPC_CDA_LOWER)
		flow = ou->flow;
	if (r->version == 4 && !xtfs_bits_get(&b, 3, &flags))
		return 0;
	if (!r->proto && !xtfs_bits_get(&b, 8, &proto))
		return 0;
	memcpy(saddr, r->src.s6_addr, abits / 8);
	memcpy(daddr, r->dst.s6_addr, abits / 8);
	if (!xtfs_bits_get_lsb(&b, saddr, abits, r->src_len) ||
	    !xtfs_bits_get_lsb(&b, daddr, abits, r->dst_len))
		return 0;
	if (proto == IPPROTO_UDP || proto == IPPROTO_TCP) {
		__be16 sport = htons(r->sport), dport = htons(r->dport);

		ports = hdr + iphlen;
		memcpy(ports, &sport, 2);
		memcpy(ports + 2, &dport, 2);
		if (!xtfs_bits_get_lsb(&b, ports, 16, r->sport_len) ||
		    !xtfs_bits_get_lsb(&b, ports + 2, 16, r->dport_len))
			return 0;
	}
	rlen = DIV_ROUND_UP(b.pos, 8);

	if (proto == IPPROTO_UDP) {
		thlen = sizeof(struct udphdr);
	} else if (proto == IPPROTO_TCP) {
		/* The data offset is the first octet after seq and ack. */
		if (len < rlen + 12)
			return 0;
		thlen = (skb->data[rlen + 8] >> 4) * 4;
		rest = thlen - XTFS_IIPC_TCP_ELIDED;
		if (thlen < sizeof(struct tcphdr) || len < rlen + rest)
			return 0;
		memcpy(ports + 4, skb->data + rlen, 12);
		memcpy(ports + 18, skb->data + rlen + 12, thlen - 18);
	}
	if (r->fl == XTFS_IIPC_CDA_GENERATED)
		flow = xtfs_iipc_gen_flow(hdr, r->version, ports);

	if (r->version == 4) {
		struct iphdr *iph = (struct iphdr *)hdr;

		iph->version = 4;
		iph->ihl = 5;
		iph->tos = dscp << 2 | ecn;
		iph->id = htons(flow & 0xffff);
		iph->frag_off = htons(flags << 13);
		iph->ttl = ou->ttl;
		iph->protocol = proto;
	} else {
		struct ipv6hdr *ip6h = (struct ipv6hdr *)hdr;

		ip6_flow_hdr(ip6h, dscp << 2 | ecn, htonl(flow & 0xfffff));
		ip6h->nexthdr = proto;
		ip6h->hop_limit = ou->ttl;
	}
	*used = rlen + rest;
	return iphlen + thlen;
}

/**
 * xtfs_iipc_finish() - lengths and checksums of a rebuilt packet
 * @skb: the packet, data at its IP header, its headers linear
 * @ver: its IP version
 *
 * The elided length fields come from the packet's length; the IPv4
 * header checksum and the UDP or TCP checksum are computed (section
 * 5.1.1, CDA "checksum"; a UDP checksum of 0 becomes 0xffff).
 */
static void xtfs_iipc_finish(struct sk_buff *skb, u8 ver)
{
	unsigned int iphlen, tlen;
	__wsum csum;
	__sum16 *check;
	u8 proto;

	if (ver == 4) {
		struct iphdr *iph = ip_hdr(skb);

		iphlen = sizeof(*iph);
		iph->tot_len = htons(skb->len);
		proto = iph->protocol;
	} else {
		struct ipv6hdr *ip6h = ipv6_hdr(skb);

		iphlen = sizeof(*ip6h);
		ip6h->payload_len = htons(skb->len - iphlen);
		proto = ip6h->nexthdr;
	}
	tlen = skb->len - iphlen;
	if (proto == IPPROTO_UDP) {
		udp_hdr(skb)->len = htons(tlen);
		check = &udp_hdr(skb)->check;
	} else if (proto == IPPROTO_TCP) {
		check = &tcp_hdr(skb)->check;
	} else {
		check = NULL;
	}
	if (check) {
		*check = 0;
		csum = skb_checksum(skb, iphlen, tlen, 0);
		if (ver == 4)
			*check = csum_tcpudp_magic(ip_hdr(skb)->saddr,
						   ip_hdr(skb)->daddr, tlen,
						   proto, csum);
		else
			*check = csum_ipv6_magic(&ipv6_hdr(skb)->saddr,
						 &ipv6_hdr(skb)->daddr, tlen,
						 proto, csum);
		if (proto == IPPROTO_UDP && !*check)
			*check = CSUM_MANGLED_0;
	}
	if (ver == 4)
		ip_send_check(ip_hdr(skb));
}

/**
 * xtfs_iipc_decode() - rebuild the headers of a compressed packet in place
 * @r: the rule
 * @skb: the compressed packet, data after the RuleID
 * @ou: what the rule reads of the outer header
 * @room: octets of headroom to leave in front of the rebuilt packet
 *
 * xtfs_iipc_rebuild() then xtfs_iipc_finish(): on success the data and
 * the network header are at the inner IP header, the transport header
 * after it.
 *
 * Return: 0, -EINVAL when the packet rebuilds no packet, or -ENOMEM.
 */
VISIBLE_IF_KUNIT int xtfs_iipc_decode(const struct xtfs_iipc *r,
				      struct sk_buff *skb,
				      const struct xtfs_iipc_outer *ou,
				      unsigned int room)
{
	unsigned int len, full, used;
	u8 hdr[XTFS_IIPC_FULL_MAX];

	len = min_t(unsigned int, skb->len, XTFS_IIPC_HDR_MAX + 60);
	if (!pskb_may_pull(skb, len))
		return -EINVAL;
	full = xtfs_iipc_rebuild(r, skb, len, ou, hdr, &used);
	/* The rebuilt packet's length must fit its 16-bit length fields. */
	if (!full || skb->len - used + full >
	    (r->version == 4 ? IP_MAX_MTU : IP_MAX_MTU + sizeof(struct ipv6hdr)))
		return -EINVAL;
	if (skb_cow_head(skb, full > used ? full - used + room : room))
		return -ENOMEM;
	__skb_pull(skb, used);
	memcpy(skb_push(skb, full), hdr, full);
	skb_reset_network_header(skb);
	skb_set_transport_header(skb, r->version == 4 ?
				 sizeof(struct iphdr) :
				 sizeof(struct ipv6hdr));
	xtfs_iipc_finish(skb, r->version);
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(xtfs_iipc_decode);

/**
 * xtfs_iipc_input() - decompress the ESP payload of an IIPC SA
 *	(xtfs_payload_ops::input)
 * @sa: the SA state
 * @skb: the decrypted ESP payload, network header still at the outer IP
 *	header
 *
 * RuleID 0 (when the SA sends RuleIDs): the inner packet follows as it is
 * and goes on as with the tunnel payload (xtfs_tunnel_input()). Else the
 * residue and what the rule takes from the outer header ("lower": DSCP,
 * ECN, flow label or Identification, and always TTL or hop limit)
 * rebuild the headers, lengths and checksums (xtfs_iipc_decode()). An
 * unknown RuleID, a residue longer than the packet or a next header in
 * the ESP trailer other than the rule's IP version is counted in iipc_bad
 * and dropped.
 *
 * Return: -EINPROGRESS, the packet is consumed.
 */
int xtfs_iipc_input(struct xtfs_sa *sa, struct sk_buff *skb)
{
	const struct xtfs_iipc *r = &sa->iipc;
	u8 mac[XTFS_IIPC_MAC_MAX], want, ver = r->version;
	struct xtfs_iipc_outer ou;
	unsigned int mlen = 0;
	int err;

	if (r->rule_id) {
		if (!pskb_may_pull(skb, 1))
			goto bad;
		if (skb->data[0] == XTFS_IIPC_RULE_NONE) {
			__skb_pull(skb, 1);
			/* Without the next header, the packet's version. */
			if (sa->diet.trl != 2 && pskb_may_pull(skb, 1))
				XFRM_MODE_SKB_CB(skb)->protocol =
					skb->data[0] >> 4 == 4 ? IPPROTO_IPIP :
								 IPPROTO_IPV6;
			return xtfs_tunnel_input(sa, skb);
		}
		if (skb->data[0] != XTFS_IIPC_RULE)
			goto bad;
		__skb_pull(skb, 1);
	}
	want = ver == 4 ? IPPROTO_IPIP : IPPROTO_IPV6;
	if (XFRM_MODE_SKB_CB(skb)->protocol != want)
		goto bad;

	if (sa->x->props.family == AF_INET) {
		const struct iphdr *iph = ip_hdr(skb);

		ou.ds = ipv4_get_dsfield(iph);
		ou.ttl = iph->ttl;
		ou.flow = ntohs(iph->id);
	} else {
		const struct ipv6hdr *ip6h = ipv6_hdr(skb);

		ou.ds = ipv6_get_dsfield(ip6h);
		ou.ttl = ip6h->hop_limit;
		ou.flow = ntohl(ip6_flowlabel(ip6h));
	}

	/* The rebuilt headers may cover the link header: keep a copy. */
	if (skb_mac_header_was_set(skb) && skb->mac_len <= sizeof(mac))
		mlen = skb->mac_len;
	if (mlen)
		memcpy(mac, skb_mac_header(skb), mlen);
	skb->mac_len = mlen;

	err = xtfs_iipc_decode(r, skb, &ou, mlen);
	if (err == -ENOMEM) {
		xtfs_inc(sa, XTFS_CNT_DROP_NOMEM, 1);
		kfree_skb(skb);
		return -EINPROGRESS;
	}
	if (err)
		goto bad;
	return xtfs_tunnel_deliver(sa, skb, ver, ou.ds, mac);

bad:
	xtfs_inc(sa, XTFS_CNT_IIPC_BAD, 1);
	kfree_skb(skb);
	return -EINPROGRESS;
}

/* Policy of XTFS_A_SA_IIPC's attributes; the rest is checked below. */
const struct nla_policy xtfs_iipc_policy[XTFS_A_IIPC_MAX + 1] = {
	[XTFS_A_IIPC_SRC_START]	= NLA_POLICY_RANGE(NLA_BINARY, 4, 16),
	[XTFS_A_IIPC_SRC_END]	= NLA_POLICY_RANGE(NLA_BINARY, 4, 16),
	[XTFS_A_IIPC_DST_START]	= NLA_POLICY_RANGE(NLA_BINARY, 4, 16),
	[XTFS_A_IIPC_DST_END]	= NLA_POLICY_RANGE(NLA_BINARY, 4, 16),
	[XTFS_A_IIPC_PROTO]	= { .type = NLA_U8 },
	[XTFS_A_IIPC_SPORT_START] = { .type = NLA_U16 },
	[XTFS_A_IIPC_SPORT_END]	= { .type = NLA_U16 },
	[XTFS_A_IIPC_DPORT_START] = { .type = NLA_U16 },
	[XTFS_A_IIPC_DPORT_END]	= { .type = NLA_U16 },
	[XTFS_A_IIPC_DSCP]	= NLA_POLICY_MAX(NLA_U8, XTFS_IIPC_CDA_SA),
	[XTFS_A_IIPC_DSCP_LIST]	= NLA_POLICY_RANGE(NLA_BINARY, 1,
						   XTFS_IIPC_DSCP_MAX),
	[XTFS_A_IIPC_ECN]	= NLA_POLICY_MAX(NLA_U8, XTFS_IIPC_CDA_LOWER),
	[XTFS_A_IIPC_FLOW_LABEL] = NLA_POLICY_MAX(NLA_U8, XTFS_IIPC_CDA_ZERO),
	[XTFS_A_IIPC_RULE_ID]	= NLA_POLICY_MAX(NLA_U8, 1),
};

/**
 * xtfs_iipc_range() - one address range of a rule
 * @nest: the rule's nest, for a missing attribute's extended ACK
 * @tb: the rule's attributes
 * @start: the type of its start attribute (the end is the next type)
 * @alen: the rule's address length, 0 before the first range
 * @val: out, the common leading bits of start and end, the rest 0
 * @msb: out, how many
 * @extack: where to say why it is refused
 *
 * Return: the address length, or a negative error.
 */
static int xtfs_iipc_range(const struct nlattr *nest, struct nlattr **tb,
			   int start, unsigned int alen, struct in6_addr *val,
			   u8 *msb, struct netlink_ext_ack *extack)
{
	const struct nlattr *s = tb[start], *e = tb[start + 1];
	unsigned int len;

	if (!s || !e) {
		NL_SET_ERR_ATTR_MISS(extack, nest, s ? start + 1 : start);
		NL_SET_ERR_MSG_MOD(extack,
				   "IIPC needs its source and destination ranges (ts_ip_src/dst_start and _end)");
		return -EINVAL;
	}
	len = nla_len(s);
	if ((len != 4 && len != 16) || nla_len(e) != len ||
	    (alen && len != alen)) {
		NL_SET_BAD_ATTR(extack, s);
		NL_SET_ERR_MSG_MOD(extack,
				   "IIPC ranges are all IPv4 (4 octets) or all IPv6 (16 octets)");
		return -EINVAL;
	}
	if (memcmp(nla_data(s), nla_data(e), len) > 0) {
		NL_SET_BAD_ATTR(extack, s);
		NL_SET_ERR_MSG_MOD(extack, "IIPC range starts after its end");
		return -EINVAL;
	}
	memset(val, 0, sizeof(*val));
	memcpy(val->s6_addr, nla_data(s), len);
	*msb = xtfs_common_msb(nla_data(s), nla_data(e), len);
	xtfs_clear_lsb(val->s6_addr, len, *msb);
	return len;
}

/**
 * xtfs_iipc_ports() - one port range of a rule
 * @tb: the rule's attributes
 * @start: the type of its start attribute (the end is the next type)
 * @val: out, the common leading bits of start and end, the rest 0
 * @msb: out, how many
 * @extack: where to say why it is refused
 *
 * Return: 0, or -EINVAL for a range that starts after its end.
 */
static int xtfs_iipc_ports(struct nlattr **tb, int start, u16 *val, u8 *msb,
			   struct netlink_ext_ack *extack)
{
	u16 s = nla_get_u16_default(tb[start], 0);
	u16 e = nla_get_u16_default(tb[start + 1], U16_MAX);
	__be16 bs = htons(s), be = htons(e);

	if (s > e) {
		NL_SET_BAD_ATTR(extack, tb[start]);
		NL_SET_ERR_MSG_MOD(extack, "IIPC port range starts after its end");
		return -EINVAL;
	}
	*msb = xtfs_common_msb((u8 *)&bs, (u8 *)&be, 2);
	*val = *msb ? s & (u16)(U16_MAX << (16 - *msb)) : 0;
	return 0;
}

/**
 * xtfs_iipc_parse() - an IIPC rule from its staging attributes
 * @nest: %XTFS_A_SA_IIPC, validated against xtfs_iipc_policy
 * @r: out, the rule
 * @extack: where to say why it is refused
 *
 * Section 4.2's attributes: four address ranges of one IP version
 * (ts_ip_version), the protocol, port ranges (only for UDP, TCP or any:
 * the ports compressed are those of UDP and TCP, section 5.1.1), the
 * three CDAs, the DSCP list with "sa" only (distinct values below 64),
 * and whether the RuleID is sent.
 *
 * Return: 0, or -EINVAL with an extended ACK message.
 */
int xtfs_iipc_parse(const struct nlattr *nest, struct xtfs_iipc *r,
		    struct netlink_ext_ack *extack)
{
	struct nlattr *tb[XTFS_A_IIPC_MAX + 1];
	const u8 *list;
	int len, err, i;
	u64 seen = 0;
	bool sa_list;

	err = nla_parse_nested(tb, XTFS_A_IIPC_MAX, nest, xtfs_iipc_policy,
			       extack);
	if (err)
		return err;
	memset(r, 0, sizeof(*r));
	len = xtfs_iipc_range(nest, tb, XTFS_A_IIPC_SRC_START, 0, &r->src,
			      &r->src_len, extack);
	if (len < 0)
		return len;
	len = xtfs_iipc_range(nest, tb, XTFS_A_IIPC_DST_START, len, &r->dst,
			      &r->dst_len, extack);
	if (len < 0)
		return len;
	r->version = len == 4 ? 4 : 6;
	r->proto = nla_get_u8_default(tb[XTFS_A_IIPC_PROTO], 0);
	if (r->proto && r->proto != IPPROTO_UDP && r->proto != IPPROTO_TCP &&
	    (tb[XTFS_A_IIPC_SPORT_START] || tb[XTFS_A_IIPC_SPORT_END] ||
	     tb[XTFS_A_IIPC_DPORT_START] || tb[XTFS_A_IIPC_DPORT_END])) {
		NL_SET_BAD_ATTR(extack, tb[XTFS_A_IIPC_PROTO]);
		NL_SET_ERR_MSG_MOD(extack,
				   "IIPC port ranges need protocol UDP, TCP or any: only their ports are compressed");
		return -EINVAL;
	}
	if (xtfs_iipc_ports(tb, XTFS_A_IIPC_SPORT_START, &r->sport,
			    &r->sport_len, extack) ||
	    xtfs_iipc_ports(tb, XTFS_A_IIPC_DPORT_START, &r->dport,
			    &r->dport_len, extack))
		return -EINVAL;
	r->dscp = nla_get_u8_default(tb[XTFS_A_IIPC_DSCP], XTFS_IIPC_CDA_PLAIN);
	r->ecn = nla_get_u8_default(tb[XTFS_A_IIPC_ECN], XTFS_IIPC_CDA_PLAIN);
	r->fl = nla_get_u8_default(tb[XTFS_A_IIPC_FLOW_LABEL],
				   XTFS_IIPC_CDA_PLAIN);
	if (r->fl == XTFS_IIPC_CDA_SA) {
		NL_SET_BAD_ATTR(extack, tb[XTFS_A_IIPC_FLOW_LABEL]);
		NL_SET_ERR_MSG_MOD(extack,
				   "IIPC flow label is plain, lower, generated or zero");
		return -EINVAL;
	}
	sa_list = r->dscp == XTFS_IIPC_CDA_SA;
	if (sa_list != !!tb[XTFS_A_IIPC_DSCP_LIST]) {
		NL_SET_ERR_MSG_MOD(extack,
				   "IIPC DSCP \"sa\" compresses against a DSCP list, and a list needs \"sa\"");
		return -EINVAL;
	}
	if (tb[XTFS_A_IIPC_DSCP_LIST]) {
		list = nla_data(tb[XTFS_A_IIPC_DSCP_LIST]);
		r->dscp_n = nla_len(tb[XTFS_A_IIPC_DSCP_LIST]);
		for (i = 0; i < r->dscp_n; i++) {
			if (list[i] > 63 || seen & BIT_ULL(list[i])) {
				NL_SET_BAD_ATTR(extack,
						tb[XTFS_A_IIPC_DSCP_LIST]);
				NL_SET_ERR_MSG_MOD(extack,
						   "IIPC DSCP list values are distinct, 0 to 63");
				return -EINVAL;
			}
			seen |= BIT_ULL(list[i]);
			r->dscp_list[i] = list[i];
		}
	}
	r->rule_id = nla_get_u8_default(tb[XTFS_A_IIPC_RULE_ID], 1);
	r->on = true;
	return 0;
}

/**
 * xtfs_iipc_put() - report an SA's IIPC rule in %XTFS_A_SA_IIPC
 * @skb: the message
 * @r: the rule
 *
 * The ranges reported are those the rule compresses against: the common
 * leading bits of each range given, then all zeros (start) and all ones
 * (end).
 *
 * Return: 0 or -EMSGSIZE.
 */
int xtfs_iipc_put(struct sk_buff *skb, const struct xtfs_iipc *r)
{
	unsigned int alen = r->version == 4 ? 4 : 16, i;
	struct in6_addr end[2] = { r->src, r->dst };
	const u8 msb[2] = { r->src_len, r->dst_len };
	struct nlattr *nest;
	u16 sport_end, dport_end;

	for (i = 0; i < 2; i++) {
		unsigned int b;

		for (b = msb[i]; b < alen * 8; b++)
			end[i].s6_addr[b / 8] |= 0x80 >> (b % 8);
	}
	sport_end = r->sport | (r->sport_len < 16 ?
				U16_MAX >> r->sport_len : 0);
	dport_end = r->dport | (r->dport_len < 16 ?
				U16_MAX >> r->dport_len : 0);
	nest = nla_nest_start(skb, XTFS_A_SA_IIPC);
	if (!nest)
		return -EMSGSIZE;
	if (nla_put(skb, XTFS_A_IIPC_SRC_START, alen, &r->src) ||
	    nla_put(skb, XTFS_A_IIPC_SRC_END, alen, &end[0]) ||
	    nla_put(skb, XTFS_A_IIPC_DST_START, alen, &r->dst) ||
	    nla_put(skb, XTFS_A_IIPC_DST_END, alen, &end[1]) ||
	    nla_put_u8(skb, XTFS_A_IIPC_PROTO, r->proto) ||
	    nla_put_u16(skb, XTFS_A_IIPC_SPORT_START, r->sport) ||
	    nla_put_u16(skb, XTFS_A_IIPC_SPORT_END, sport_end) ||
	    nla_put_u16(skb, XTFS_A_IIPC_DPORT_START, r->dport) ||
	    nla_put_u16(skb, XTFS_A_IIPC_DPORT_END, dport_end) ||
	    nla_put_u8(skb, XTFS_A_IIPC_DSCP, r->dscp) ||
	    (r->dscp_n && nla_put(skb, XTFS_A_IIPC_DSCP_LIST, r->dscp_n,
				  r->dscp_list)) ||
	    nla_put_u8(skb, XTFS_A_IIPC_ECN, r->ecn) ||
	    nla_put_u8(skb, XTFS_A_IIPC_FLOW_LABEL, r->fl) ||
	    nla_put_u8(skb, XTFS_A_IIPC_RULE_ID, r->rule_id)) {
		nla_nest_cancel(skb, nest);
		return -EMSGSIZE;
	}
	nla_nest_end(skb, nest);
	return 0;
}

/**
 * xtfs_iipc_bind() - give an SA being created its IIPC rule
 * @x: the SA
 * @sa: its xtfs state, the tunnel payload picked
 * @set: the settings staged for it, @set->iipc.on
 * @extack: where to say why the SA is refused
 *
 * "lower" needs the outer header to carry the field as it is: ECN with
 * the SA's noecn flag, or the DSCP with its dont-encap-dscp flag, could
 * not (the stack would clear them), so such an SA is refused; so is an
 * IPv6 flow label in the Identification of an outer IPv4 header without
 * DF (nopmtudisc), where it would not keep fragments of different packets
 * apart.
 *
 * Return: 0, or -EINVAL with an extended ACK message.
 */
int xtfs_iipc_bind(struct xfrm_state *x, struct xtfs_sa *sa,
		   const struct xtfs_settings *set,
		   struct netlink_ext_ack *extack)
{
	const struct xtfs_iipc *r = &set->iipc;

	if (r->ecn == XTFS_IIPC_CDA_LOWER && x->props.flags & XFRM_STATE_NOECN) {
		NL_SET_ERR_MSG_MOD(extack,
				   "IIPC ECN \"lower\" needs the outer ECN field: not with the SA flag noecn");
		return -EINVAL;
	}
	if (r->dscp == XTFS_IIPC_CDA_LOWER &&
	    x->props.extra_flags & XFRM_SA_XFLAG_DONT_ENCAP_DSCP) {
		NL_SET_ERR_MSG_MOD(extack,
				   "IIPC DSCP \"lower\" needs the outer DSCP: not with the SA flag dont-encap-dscp");
		return -EINVAL;
	}
	if (r->fl == XTFS_IIPC_CDA_LOWER && r->version == 6 &&
	    x->props.family == AF_INET &&
	    x->props.flags & XFRM_STATE_NOPMTUDISC) {
		NL_SET_ERR_MSG_MOD(extack,
				   "IIPC flow label \"lower\" over IPv4 puts it in the outer Identification, which needs DF: not with the SA flag nopmtudisc");
		return -EINVAL;
	}
	sa->iipc = *r;
	return 0;
}
