// SPDX-License-Identifier: GPL-2.0
/*
 * Diet-ESP (draft-ietf-ipsecme-diet-esp-07) on xtfs's ESP engine: the
 * compressed ESP header (EEC, section 5.3) and trailer (CTEC, section
 * 5.2) of implicit-IV SAs. Documentation/xtfs.rst, "Diet-ESP".
 *
 * Sending: xtfs_esp_seal() writes the header xtfs_diet_put_hdr() makes
 * and the trailer &struct xtfs_diet describes; the ICV is computed over
 * the whole header, as without Diet-ESP.
 *
 * Receiving: a packet whose header is compressed carries no SPI the core
 * can look up. xtfs has ESP protocol handlers (IPv4 and IPv6; UDP
 * encapsulation reaches them too) that run before the kernel's. A packet
 * whose first four octets are the SPI of an SA that receives whole
 * headers goes on to the kernel's handler. Any other packet is looked up
 * in the table of inbound SAs with a compressed header by namespace,
 * destination, mark and the SPI's bits; the handler rebuilds the
 * sequence number (xtfs_diet_seq()) and the whole ESP header in place and
 * hands the packet to xfrm_input() as the kernel's handler does: replay
 * check, xtfs's ESP type's input (the ICV), replay advance. GRO
 * (esp4/esp6_offload) looks packets up by their first four octets: the
 * SAs it could find are refused at creation (xtfs_diet_check(),
 * xtfs_eec_claim()).
 */
#include <crypto/aead.h>
#include <linux/hashtable.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/jhash.h>
#include <linux/rculist.h>
#include <linux/skbuff.h>
#include <linux/unaligned.h>
#include <net/ip.h>
#include <net/ipv6.h>
#include <net/net_namespace.h>
#include <net/xfrm.h>
#include <kunit/visibility.h>

#include "xtfs.h"

/**
 * struct xtfs_eec - an inbound SA that receives compressed ESP headers
 * @node: in xtfs_eec_table, by namespace and destination
 * @rcu: frees it after the readers that may still see it
 * @net: the SA's namespace, compared, never dereferenced
 * @daddr: the SA's destination address
 * @mark: the SA's mark (value and mask)
 * @spi: the SA's SPI
 * @family: the SA's address family
 * @spi_lsb: low bits of the SPI its packets carry first
 * @sn_lsb: low bits of the sequence number after them
 * @reqid: the SA's reqid
 * @x: the SA, no reference: read only under xtfs_eec_lock, which
 *	xtfs_diet_release() takes to unlink the entry before the SA is freed
 *
 * The handler does not use @x: it takes the SA with xfrm_state_lookup(),
 * which holds a reference, so that the entry may outlive the SA by a
 * grace period.
 */
struct xtfs_eec {
	struct hlist_node	node;
	struct rcu_head		rcu;
	possible_net_t		net;
	xfrm_address_t		daddr;
	struct xfrm_mark	mark;
	__be32			spi;
	u16			family;
	u8			spi_lsb;
	u8			sn_lsb;
	u32			reqid;
	struct xfrm_state	*x;
};

/**
 * xtfs_lsb() - the low bits of a value
 * @v: the value
 * @bits: how many, 0 to 32
 *
 * Return: @v's low @bits bits.
 */
static u64 xtfs_lsb(u64 v, unsigned int bits)
{
	return v & (GENMASK_ULL(bits, 0) >> 1);
}

/* Inbound compressed-header SAs of every namespace. */
static DEFINE_HASHTABLE(xtfs_eec_table, 8);
static DEFINE_SPINLOCK(xtfs_eec_lock);
static atomic_t xtfs_eec_count = ATOMIC_INIT(0);

/**
 * xtfs_diet_init() - the RFC 4303 format, before any setting applies
 * @x: the SA, its ESP type initialised
 * @sa: its xtfs state
 *
 * Whole header, Pad Length and Next Header, the alignment of the
 * kernel's ESP: the cipher's block size, at least 4 (RFC 4303 section
 * 2.4).
 */
void xtfs_diet_init(struct xfrm_state *x, struct xtfs_sa *sa)
{
	struct crypto_aead *aead = x->data;

	sa->diet = (struct xtfs_diet) {
		.spi_lsb = XTFS_DIET_LSB_FULL,
		.sn_lsb = XTFS_DIET_LSB_FULL,
		.trailer = XTFS_TRAILER_MANDATORY,
		.align = ALIGN(crypto_aead_blocksize(aead), 4),
		.hlen = sizeof(struct ip_esp_hdr),
		.trl = 2,
	};
}

/**
 * xtfs_diet_put_hdr() - write the ESP header of an outbound packet
 * @d: the SA's format
 * @p: where the header goes, @d->hlen octets
 * @spi: the SA's SPI
 * @seq: the packet's sequence number
 *
 * The low @d->spi_lsb bits of the SPI, then the low @d->sn_lsb bits of
 * the sequence number, one bit string, most significant bit first
 * (draft-ietf-ipsecme-diet-esp-07 section 5.3, MO "MSB" and CDA "LSB").
 * With 32 and 32 that is RFC 4303's header.
 */
void xtfs_diet_put_hdr(const struct xtfs_diet *d, u8 *p, __be32 spi, u64 seq)
{
	u64 v = xtfs_lsb(ntohl(spi), d->spi_lsb) << d->sn_lsb |
		xtfs_lsb(lower_32_bits(seq), d->sn_lsb);
	unsigned int i;

	for (i = 0; i < d->hlen; i++)
		p[i] = v >> (8 * (d->hlen - 1 - i));
}
EXPORT_SYMBOL_IF_KUNIT(xtfs_diet_put_hdr);

/**
 * xtfs_diet_prefix() - the first bits of an SPI's compressed header
 * @spi_lsb: how many bits of the SPI are sent
 * @spi: the SPI
 * @bits: how many of them to take, at most @spi_lsb
 *
 * Return: the first @bits of the low @spi_lsb bits of @spi.
 */
static u32 xtfs_diet_prefix(unsigned int spi_lsb, __be32 spi,
			    unsigned int bits)
{
	return xtfs_lsb(ntohl(spi), spi_lsb) >> (spi_lsb - bits);
}

/**
 * xtfs_eec_hash() - bucket of a namespace and destination
 * @net: the namespace
 * @family: the address family
 * @daddr: the destination address
 *
 * Return: the hash.
 */
static u32 xtfs_eec_hash(const struct net *net, u16 family,
			 const xfrm_address_t *daddr)
{
	if (family == AF_INET)
		return jhash_1word((__force u32)daddr->a4, net_hash_mix(net));
	return jhash2((__force const u32 *)daddr->a6, 4, net_hash_mix(net));
}

/**
 * xtfs_eec_same_dst() - is an entry's SA one of a namespace and destination?
 * @e: the entry
 * @net: the namespace
 * @family: the address family
 * @daddr: the destination address
 *
 * Return: true when @e is for that namespace, family and destination.
 */
static bool xtfs_eec_same_dst(const struct xtfs_eec *e, const struct net *net,
			      u16 family, const xfrm_address_t *daddr)
{
	return net_eq(read_pnet(&e->net), net) && e->family == family &&
	       xfrm_addr_equal(&e->daddr, daddr, family);
}

/**
 * xtfs_marks_overlap() - can one packet's mark match both SA marks?
 * @a: one SA's mark
 * @b: the other's
 *
 * Return: true unless the bits both masks test differ.
 */
static bool xtfs_marks_overlap(const struct xfrm_mark *a,
			       const struct xfrm_mark *b)
{
	return !((a->v ^ b->v) & a->m & b->m);
}

/**
 * xtfs_eec_same_key() - may packets of two SAs be taken for each other?
 * @e: an entry
 * @net: namespace of the other SA
 * @family: its family
 * @daddr: its destination
 * @mark: its mark
 *
 * The lookup key of section 4 of the draft, pinned: namespace, family,
 * destination address, and a mark that one packet can match for both.
 *
 * Return: true when one packet could match both SAs but for the SPI.
 */
static bool xtfs_eec_same_key(const struct xtfs_eec *e, const struct net *net,
			      u16 family, const xfrm_address_t *daddr,
			      const struct xfrm_mark *mark)
{
	return xtfs_eec_same_dst(e, net, family, daddr) &&
	       xtfs_marks_overlap(&e->mark, mark);
}

/**
 * xtfs_replay_win() - an SA's replay window
 * @x: the SA
 *
 * Return: the window in packets, from the ESN/bitmap state when it has
 * one.
 */
static u32 xtfs_replay_win(const struct xfrm_state *x)
{
	return x->replay_esn ? x->replay_esn->replay_window :
			       x->props.replay_window;
}

/**
 * xtfs_diet_check() - refuse Diet-ESP settings an SA cannot work with
 * @x: the SA being created
 * @set: its staged settings
 * @extack: where to say why
 *
 * The sequence number is rebuilt from sn-lsb bits around the top of the
 * replay window (xtfs_diet_seq()), so there must be a window, and 2^bits
 * must be at least twice it: as many numbers above the window as in it.
 * The kernel's ESP GRO reads the first four octets of every ESP packet as
 * an SPI and gives the packet to an SA with that SPI, parsing the
 * sequence number from the next four: a compressed sequence number needs
 * a compressed SPI, and a compressed SPI whose first bits are those of
 * the SPI itself could make the SA find its own packets that way. Over
 * UDP, four zero octets first are the non-ESP marker (RFC 3948 section
 * 2.2): the SPI bits must not all be 0.
 *
 * Return: 0 or -EINVAL with an extended ACK message.
 */
static int xtfs_diet_check(struct xfrm_state *x,
			   const struct xtfs_settings *set,
			   struct netlink_ext_ack *extack)
{
	u32 win = xtfs_replay_win(x);
	unsigned int s = set->spi_lsb;

	if (set->sn_lsb < XTFS_DIET_LSB_FULL) {
		if (s == XTFS_DIET_LSB_FULL) {
			NL_SET_ERR_MSG_MOD(extack,
					   "Diet-ESP sn-lsb below 32 needs spi-lsb below 32: the kernel's ESP GRO would parse the SPI's packets");
			return -EINVAL;
		}
		if (x->dir != XFRM_SA_DIR_OUT &&
		    (!win || (1ULL << set->sn_lsb) < 2ULL * win)) {
			NL_SET_ERR_MSG_MOD(extack,
					   "Diet-ESP sn-lsb too small for the replay window: 2^sn-lsb must be at least twice the window, which must not be 0");
			return -EINVAL;
		}
	}
	if (s < XTFS_DIET_LSB_FULL &&
	    (!s || xtfs_diet_prefix(32, x->id.spi, s) ==
		   xtfs_diet_prefix(s, x->id.spi, s))) {
		NL_SET_ERR_MSG_MOD(extack,
				   "Diet-ESP spi-lsb: an SPI sent in part must have at least 1 bit sent, and its top bits must differ from its low bits (GRO would find its packets)");
		return -EINVAL;
	}
	if (s < XTFS_DIET_LSB_FULL && x->encap &&
	    !xtfs_diet_prefix(s, x->id.spi, s)) {
		NL_SET_ERR_MSG_MOD(extack,
				   "Diet-ESP over UDP: the SPI's spi-lsb bits must not all be 0, or a packet could start with the non-ESP marker (RFC 3948 section 2.2)");
		return -EINVAL;
	}
	return 0;
}

/**
 * xtfs_eec_rekey() - may a new SA share its SPI bits with an entry?
 * @e: the entry whose bits the new SA's packets could match
 * @n: the new SA's entry
 *
 * The SAs of one rekey: the same nonzero reqid (an IKE daemon keeps it
 * across rekeys) and the same header format and SPI bits.
 *
 * Return: true when @n and @e are two SAs of a rekey.
 */
static bool xtfs_eec_rekey(const struct xtfs_eec *e, const struct xtfs_eec *n)
{
	return n->reqid && e->reqid == n->reqid && e->spi_lsb == n->spi_lsb &&
	       e->sn_lsb == n->sn_lsb &&
	       xtfs_diet_prefix(e->spi_lsb, e->spi, e->spi_lsb) ==
	       xtfs_diet_prefix(n->spi_lsb, n->spi, n->spi_lsb);
}

/* SAs that may share SPI bits: the old and the new SA of a rekey. */
#define XTFS_EEC_SHARED_MAX	2
/* Inbound compressed-header SAs per namespace and destination address. */
#define XTFS_EEC_PER_DADDR_MAX	256

/**
 * xtfs_eec_starts() - does a whole SPI start with an entry's bits?
 * @e: the entry
 * @spi: the SPI
 *
 * Return: true when a packet of @e's SA could begin with @spi, which
 * GRO would then take for an SA with that SPI.
 */
static bool xtfs_eec_starts(const struct xtfs_eec *e, __be32 spi)
{
	return xtfs_diet_prefix(32, spi, e->spi_lsb) ==
	       xtfs_diet_prefix(e->spi_lsb, e->spi, e->spi_lsb);
}

/**
 * xtfs_diet_spells() - could a compressed SA's packets spell an SA's SPI?
 * @t: an xtfs SA of the namespace
 * @arg: the compressed SA's new entry
 *
 * Return: true when @t is a live inbound SA with a whole header, the same
 * destination and a mark one packet can match for both, whose SPI begins
 * with the entry's SPI bits.
 */
static bool xtfs_diet_spells(const struct xtfs_sa *t, const void *arg)
{
	const struct xtfs_eec *n = arg;
	const struct xfrm_state *x = t->x;

	return t->diet.hlen == sizeof(struct ip_esp_hdr) &&
	       x->dir != XFRM_SA_DIR_OUT && x->km.state != XFRM_STATE_DEAD &&
	       x->props.family == n->family &&
	       xfrm_addr_equal(&x->id.daddr, &n->daddr, n->family) &&
	       xtfs_marks_overlap(&x->mark, &n->mark) &&
	       xtfs_eec_starts(n, x->id.spi);
}

/**
 * xtfs_eec_claim() - enter an inbound SA in the table of compressed headers
 * @x: the SA being created
 * @sa: its xtfs state, @sa->diet set
 * @extack: where to say why it is refused
 *
 * The lookup must be deterministic: an SA whose SPI bits could match the
 * same packet as another's (one prefix of the other) under the same key
 * (xtfs_eec_same_key()) is refused, except the new SA of a rekey
 * (xtfs_eec_rekey()), at most XTFS_EEC_SHARED_MAX SAs with the same bits.
 * So is one whose whole SPI another's packets can start with, or whose
 * packets can start with another's whole SPI: GRO would hand them to the
 * wrong SA. SAs already deleted do not count, nor does the SA itself
 * (XFRM_MSG_UPDSA builds a copy that is then discarded). At most
 * XTFS_EEC_PER_DADDR_MAX SAs share a namespace and destination: the
 * handler walks them for every packet to that address. The new entry goes
 * first in its bucket: xtfs_diet_rcv() tries it first.
 *
 * Return: 0, -EEXIST with an extended ACK message, or -ENOMEM.
 */
static int xtfs_eec_claim(struct xfrm_state *x, struct xtfs_sa *sa,
			  struct netlink_ext_ack *extack)
{
	struct net *net = xs_net(x);
	u16 family = x->props.family;
	u32 h = xtfs_eec_hash(net, family, &x->id.daddr);
	unsigned int m, shared = 1, per_daddr = 0;
	struct xtfs_eec *e, *n;

	n = kzalloc_obj(*n, GFP_KERNEL_ACCOUNT);
	if (!n)
		return -ENOMEM;
	write_pnet(&n->net, net);
	n->daddr = x->id.daddr;
	n->mark = x->mark;
	n->spi = x->id.spi;
	n->family = family;
	n->spi_lsb = sa->diet.spi_lsb;
	n->sn_lsb = sa->diet.sn_lsb;
	n->reqid = x->props.reqid;
	n->x = x;

	if (xtfs_sa_find(sa, xtfs_diet_spells, n)) {
		kfree(n);
		NL_SET_ERR_MSG_MOD(extack,
				   "Diet-ESP: an inbound SA of this destination has an SPI that begins with these spi-lsb bits; packets could spell it");
		return -EEXIST;
	}
	spin_lock_bh(&xtfs_eec_lock);
	hash_for_each_possible(xtfs_eec_table, e, node, h) {
		if (!xtfs_eec_same_dst(e, net, family, &x->id.daddr))
			continue;
		if (++per_daddr > XTFS_EEC_PER_DADDR_MAX) {
			NL_SET_ERR_MSG_MOD(extack,
					   "Diet-ESP: too many inbound compressed-header SAs for this destination address");
			goto refuse;
		}
		if (!xtfs_marks_overlap(&e->mark, &x->mark) ||
		    e->x->km.state == XFRM_STATE_DEAD || e->spi == n->spi)
			continue;
		if (xtfs_eec_starts(e, n->spi) || xtfs_eec_starts(n, e->spi)) {
			NL_SET_ERR_MSG_MOD(extack,
					   "Diet-ESP: this SPI begins with another inbound SA's spi-lsb bits, or its bits begin that SA's SPI; GRO would mix their packets");
			goto refuse;
		}
		m = min(e->spi_lsb, n->spi_lsb);
		if (xtfs_diet_prefix(e->spi_lsb, e->spi, m) !=
		    xtfs_diet_prefix(n->spi_lsb, n->spi, m))
			continue;
		if (!xtfs_eec_rekey(e, n)) {
			NL_SET_ERR_MSG_MOD(extack,
					   "Diet-ESP: another inbound SA of this destination and mark sends the same spi-lsb bits; packets could not be told apart");
			goto refuse;
		}
		if (++shared > XTFS_EEC_SHARED_MAX) {
			NL_SET_ERR_MSG_MOD(extack,
					   "Diet-ESP: two SAs of a rekey already share these spi-lsb bits; delete the old one first");
			goto refuse;
		}
	}
	hash_add_rcu(xtfs_eec_table, &n->node, h);
	atomic_inc(&xtfs_eec_count);
	spin_unlock_bh(&xtfs_eec_lock);
	sa->diet.eec = n;
	return 0;

refuse:
	spin_unlock_bh(&xtfs_eec_lock);
	kfree(n);
	return -EEXIST;
}

/**
 * xtfs_diet_check_whole() - refuse a whole-header SA whose SPI the packets
 *	of an inbound compressed-header SA could spell
 * @x: the SA being created, of xtfs
 * @set: its staged settings
 * @extack: where to say why
 *
 * Its packets and those of the compressed SA would be told apart only by
 * their first four octets, as the handler and GRO look: the compressed
 * SA would lose the packets whose bits spell the SPI. xtfs_eec_claim()
 * makes the same check the other way round; the kernel's own SAs are not
 * checked (Documentation/xtfs.rst, "Diet-ESP").
 *
 * Return: 0 or -EEXIST with an extended ACK message.
 */
int xtfs_diet_check_whole(struct xfrm_state *x,
			  const struct xtfs_settings *set,
			  struct netlink_ext_ack *extack)
{
	struct net *net = xs_net(x);
	u16 family = x->props.family;
	u32 h = xtfs_eec_hash(net, family, &x->id.daddr);
	struct xtfs_eec *e;
	bool clash = false;

	if (x->dir == XFRM_SA_DIR_OUT || set->spi_lsb + set->sn_lsb <
	    2 * XTFS_DIET_LSB_FULL || !atomic_read(&xtfs_eec_count))
		return 0;
	spin_lock_bh(&xtfs_eec_lock);
	hash_for_each_possible(xtfs_eec_table, e, node, h) {
		if (xtfs_eec_same_key(e, net, family, &x->id.daddr, &x->mark) &&
		    e->x->km.state != XFRM_STATE_DEAD &&
		    xtfs_eec_starts(e, x->id.spi)) {
			clash = true;
			break;
		}
	}
	spin_unlock_bh(&xtfs_eec_lock);
	if (clash) {
		NL_SET_ERR_MSG_MOD(extack,
				   "Diet-ESP: this SPI begins with the spi-lsb bits of an inbound compressed-header SA of this destination; its packets could spell it");
		return -EEXIST;
	}
	return 0;
}

/**
 * xtfs_diet_wanted() - do staged settings ask for a Diet-ESP format?
 * @set: the settings
 *
 * Return: true when one of them is not at the value that makes RFC 4303's
 * packets (32-bit SPI and SN, trailer mandatory, 32-bit alignment).
 */
bool xtfs_diet_wanted(const struct xtfs_settings *set)
{
	return set->spi_lsb != XTFS_DIET_LSB_FULL ||
	       set->sn_lsb != XTFS_DIET_LSB_FULL ||
	       set->trailer != XTFS_TRAILER_MANDATORY ||
	       set->align != XTFS_DIET_ALIGN_DEF;
}

/**
 * xtfs_diet_format() - the packet format of Diet-ESP settings
 * @d: out, the format; its lookup entry left alone
 * @set: the settings, checked (xtfs_stage_diet_check())
 *
 * Header of (spi-lsb + sn-lsb) / 8 octets (section 5.3). Trailer (section
 * 5.2): Mandatory keeps Pad Length and Next Header; Optional drops the
 * Next Header, and with 8-bit alignment Pad Length and padding too (the
 * engine's AEADs have a block size of one octet).
 */
VISIBLE_IF_KUNIT void xtfs_diet_format(struct xtfs_diet *d,
				       const struct xtfs_settings *set)
{
	d->spi_lsb = set->spi_lsb;
	d->sn_lsb = set->sn_lsb;
	d->trailer = set->trailer;
	d->align = set->align / 8;
	d->hlen = (set->spi_lsb + set->sn_lsb) / 8;
	d->trl = set->trailer == XTFS_TRAILER_MANDATORY ? 2 :
		 d->align > 1 ? 1 : 0;
	d->on = xtfs_diet_wanted(set);
}
EXPORT_SYMBOL_IF_KUNIT(xtfs_diet_format);

/**
 * xtfs_diet_bind() - give an SA of xtfs's ESP engine its Diet-ESP format
 * @x: the SA being created
 * @sa: its xtfs state
 * @set: its staged settings
 * @extack: where to say why it is refused
 *
 * The format (xtfs_diet_format()) after the checks that depend on the SA;
 * the trailer's room in the SA's trailer_len. An inbound SA with a
 * compressed header is entered in the lookup table.
 *
 * Return: 0, or a negative error with an extended ACK message.
 */
int xtfs_diet_bind(struct xfrm_state *x, struct xtfs_sa *sa,
		   const struct xtfs_settings *set,
		   struct netlink_ext_ack *extack)
{
	struct xtfs_diet *d = &sa->diet;
	int err;

	err = xtfs_diet_check(x, set, extack);
	if (err)
		return err;
	xtfs_diet_format(d, set);
	/* Padding up to the alignment, then the trailer and the ICV. */
	x->props.trailer_len = max_t(u32, x->props.trailer_len,
				     d->align - 1 + d->trl + sa->iiv.icv_len);
	if (d->hlen < sizeof(struct ip_esp_hdr) && x->dir != XFRM_SA_DIR_OUT)
		return xtfs_eec_claim(x, sa, extack);
	return 0;
}

/**
 * xtfs_diet_release() - take a dying SA out of the lookup table
 * @sa: its xtfs state
 */
void xtfs_diet_release(struct xtfs_sa *sa)
{
	struct xtfs_eec *e = sa->diet.eec;

	if (!e)
		return;
	spin_lock_bh(&xtfs_eec_lock);
	hash_del_rcu(&e->node);
	atomic_dec(&xtfs_eec_count);
	spin_unlock_bh(&xtfs_eec_lock);
	kfree_rcu(e, rcu);
	sa->diet.eec = NULL;
}

/**
 * xtfs_diet_compressed() - does an SA receive compressed headers?
 * @x: the SA, held
 *
 * Return: true for an SA of xtfs's ESP engine whose header is shorter
 * than RFC 4303's.
 */
static bool xtfs_diet_compressed(const struct xfrm_state *x)
{
	const struct xtfs_sa *sa;

	if (!xtfs_esp_served(x))
		return false;
	sa = x->mode_data;
	return sa && sa->diet.hlen < sizeof(struct ip_esp_hdr);
}

/**
 * xtfs_diet_expand() - make room for the whole ESP header
 * @skb: the packet, data at the ESP header
 * @delta: octets to add in front of it
 *
 * The link, network and UDP headers in front move back by @delta; their
 * offsets from the data stay.
 *
 * Return: 0 or -ENOMEM.
 */
static int xtfs_diet_expand(struct sk_buff *skb, unsigned int delta)
{
	int nh = skb_network_offset(skb), mh = nh, front;
	u8 *start;

	if (skb_mac_header_was_set(skb))
		mh = min(nh, skb_mac_offset(skb));
	front = -mh;
	if (skb_cow_head(skb, front + delta))
		return -ENOMEM;
	start = skb->data - front;
	memmove(start - delta, start, front);
	__skb_push(skb, delta);
	skb_set_network_header(skb, nh);
	if (skb_mac_header_was_set(skb))
		skb->mac_header -= delta;
	skb_reset_transport_header(skb);
	/* A checksum over the received octets no longer holds. */
	skb->ip_summed = CHECKSUM_NONE;
	return 0;
}

/**
 * xtfs_diet_sa() - an inbound compressed-header SA by its SPI
 * @net: the namespace
 * @mark: the packet's mark
 * @daddr: the packet's destination
 * @spi: the SPI
 * @family: the address family
 *
 * Return: the SA, held, or NULL when there is none (any more).
 */
static struct xfrm_state *xtfs_diet_sa(struct net *net, u32 mark,
				       xfrm_address_t *daddr, __be32 spi,
				       u16 family)
{
	struct xfrm_state *x;

	x = xfrm_state_lookup(net, mark, daddr, spi, IPPROTO_ESP, family);
	if (x && !xtfs_diet_compressed(x)) {
		xfrm_state_put(x);
		x = NULL;
	}
	return x;
}

/**
 * xtfs_diet_seq_of() - the sequence number of a packet for an SA
 * @x: the SA, held, a compressed-header SA
 * @hdr: the packet's first octets, its compressed header
 * @seq: out, the sequence number, 64 bits with ESN (the high half inferred
 *	as the core does); with 32 bits sent and no ESN, those bits
 *
 * Return: false when the number is beyond a 32-bit counter without ESN.
 */
static bool xtfs_diet_seq_of(struct xfrm_state *x, const u8 *hdr, u64 *seq)
{
	const struct xtfs_diet *d = &((struct xtfs_sa *)x->mode_data)->diet;
	u64 v = 0, top;
	unsigned int i;
	bool esn;
	u32 win;

	for (i = 0; i < d->hlen; i++)
		v = v << 8 | hdr[i];
	v = xtfs_lsb(v, d->sn_lsb);
	if (d->sn_lsb == XTFS_DIET_LSB_FULL &&
	    x->repl_mode != XFRM_REPLAY_MODE_ESN) {
		*seq = v;
		return true;
	}
	spin_lock(&x->lock);
	esn = x->repl_mode == XFRM_REPLAY_MODE_ESN;
	if (esn)
		top = (u64)x->replay_esn->seq_hi << 32 | x->replay_esn->seq;
	else if (x->replay_esn)
		top = x->replay_esn->seq;
	else
		top = x->replay.seq;
	win = xtfs_replay_win(x);
	spin_unlock(&x->lock);
	/*
	 * XFRM_MSG_NEWAE may have changed the window since xtfs_diet_check():
	 * keep to what the bits cover.
	 */
	win = clamp_t(u32, win, 1, BIT_ULL(d->sn_lsb - 1));
	*seq = xtfs_diet_seq(top, win, d->sn_lsb, v);
	return esn || *seq <= U32_MAX;
}

/**
 * xtfs_diet_trial() - does a packet's ICV verify under an SA?
 * @x: the SA, held, a compressed-header SA
 * @skb: the packet, data at the ESP header; left as it is
 * @hdr: its first octets
 *
 * For two SAs of a rekey that share their SPI bits: a copy of the packet
 * is opened under the newer SA, which takes it if its ICV verifies. A
 * packet of either costs one more AEAD operation while both SAs exist.
 *
 * Return: true when the ICV verifies.
 */
static bool xtfs_diet_trial(struct xfrm_state *x, struct sk_buff *skb,
			    const u8 *hdr)
{
	struct xtfs_sa *sa = x->mode_data;
	unsigned int hlen = sa->diet.hlen;
	struct sk_buff *c;
	u64 seq;
	bool ok;

	if (skb->len < hlen || !xtfs_diet_seq_of(x, hdr, &seq))
		return false;
	c = skb_copy(skb, GFP_ATOMIC);
	if (!c)
		return false;
	ok = c->len >= hlen + sa->iiv.wire_iv &&
	     !xtfs_iiv_crypt(&sa->iiv, c, hlen + sa->iiv.wire_iv,
			     c->len - hlen - sa->iiv.wire_iv, x->id.spi, seq,
			     false);
	kfree_skb(c);
	return ok;
}

/**
 * xtfs_diet_rcv() - take an ESP packet with a compressed header
 * @skb: the packet, data at the ESP header (after the UDP header with
 *	UDP encapsulation)
 * @family: AF_INET or AF_INET6
 * @encap_type: its UDP encapsulation, or 0; -1 for the protocol handler
 *	path
 *
 * Return: -EINVAL when the packet is not for a compressed-header SA
 * (the next handler takes it), else what xfrm_input() returns, or 0 when
 * the packet was dropped here (counted in the namespace's xfrm MIB).
 */
static int xtfs_diet_rcv(struct sk_buff *skb, u16 family, int encap_type)
{
	struct net *net = dev_net(skb->dev);
	__be32 spis[XTFS_EEC_SHARED_MAX];
	u32 mark = skb->mark, word, h;
	unsigned int i, n = 0, delta;
	struct xfrm_state *x = NULL;
	xfrm_address_t *daddr;
	struct xtfs_eec *e;
	u8 hdr[8] = {};
	__be32 spi;
	u64 seq;

	if (!atomic_read(&xtfs_eec_count))
		return -EINVAL;
	if (skb_copy_bits(skb, 0, hdr, min(skb->len, 8U)))
		return -EINVAL;
	word = get_unaligned_be32(hdr);
	if (family == AF_INET)
		daddr = (xfrm_address_t *)&ip_hdr(skb)->daddr;
	else
		daddr = (xfrm_address_t *)&ipv6_hdr(skb)->daddr;

	/* The whole header of a live SA that receives it: the kernel's. */
	if (skb->len >= sizeof(struct ip_esp_hdr)) {
		x = xfrm_state_lookup(net, mark, daddr, htonl(word),
				      IPPROTO_ESP, family);
		if (x) {
			bool whole = !xtfs_diet_compressed(x) &&
				     x->dir != XFRM_SA_DIR_OUT &&
				     x->km.state == XFRM_STATE_VALID;

			xfrm_state_put(x);
			x = NULL;
			if (whole)
				return -EINVAL;
		}
	}

	/* The SAs whose bits start the packet, newest first. */
	h = xtfs_eec_hash(net, family, daddr);
	rcu_read_lock();
	hash_for_each_possible_rcu(xtfs_eec_table, e, node, h) {
		if (!xtfs_eec_same_dst(e, net, family, daddr) ||
		    (mark & e->mark.m) != e->mark.v ||
		    ((u64)word >> (32 - e->spi_lsb)) !=
		    xtfs_diet_prefix(e->spi_lsb, e->spi, e->spi_lsb))
			continue;
		spis[n++] = e->spi;
		if (n == ARRAY_SIZE(spis))
			break;
	}
	rcu_read_unlock();
	for (i = 0; i < n && !x; i++) {
		x = xtfs_diet_sa(net, mark, daddr, spis[i], family);
		if (x && i + 1 < n && !xtfs_diet_trial(x, skb, hdr)) {
			xfrm_state_put(x);
			x = NULL;
		}
	}
	if (!x)
		return -EINVAL;

	delta = sizeof(struct ip_esp_hdr) -
		((struct xtfs_sa *)x->mode_data)->diet.hlen;
	if (!pskb_may_pull(skb, sizeof(struct ip_esp_hdr) - delta)) {
		XFRM_INC_STATS(net, LINUX_MIB_XFRMINHDRERROR);
		goto drop;
	}
	if (!xtfs_diet_seq_of(x, hdr, &seq)) {
		XFRM_INC_STATS(net, LINUX_MIB_XFRMINSTATESEQERROR);
		goto drop;
	}
	/* The outer length grows by @delta: no room in 16 bits (or a
	 * jumbogram, whose payload length is 0) is a malformed packet.
	 */
	if (family == AF_INET ?
	    ntohs(ip_hdr(skb)->tot_len) + delta > U16_MAX :
	    !ipv6_hdr(skb)->payload_len ||
	    ntohs(ipv6_hdr(skb)->payload_len) + delta > U16_MAX) {
		XFRM_INC_STATS(net, LINUX_MIB_XFRMINHDRERROR);
		goto drop;
	}
	spi = x->id.spi;
	xfrm_state_put(x);

	if (xtfs_diet_expand(skb, delta)) {
		XFRM_INC_STATS(net, LINUX_MIB_XFRMINERROR);
		kfree_skb(skb);
		return 0;
	}
	put_unaligned(spi, (__be32 *)skb->data);
	put_unaligned_be32(lower_32_bits(seq), skb->data + 4);
	if (family == AF_INET) {
		struct iphdr *iph = ip_hdr(skb);

		iph->tot_len = htons(ntohs(iph->tot_len) + delta);
		ip_send_check(iph);
	} else {
		struct ipv6hdr *ip6h = ipv6_hdr(skb);

		ip6h->payload_len = htons(ntohs(ip6h->payload_len) + delta);
	}
	if (encap_type >= 0)
		return xfrm_input(skb, IPPROTO_ESP, 0, encap_type);
	return family == AF_INET ? xfrm4_rcv(skb) : xfrm6_rcv(skb);

drop:
	xfrm_state_put(x);
	kfree_skb(skb);
	return 0;
}

/**
 * xtfs_diet_rcv4() - the IPv4 ESP protocol handler
 * @skb: the packet, data at the ESP header
 *
 * Return: see xtfs_diet_rcv().
 */
static int xtfs_diet_rcv4(struct sk_buff *skb)
{
	return xtfs_diet_rcv(skb, AF_INET, -1);
}

/**
 * xtfs_diet_rcv6() - the IPv6 ESP protocol handler
 * @skb: the packet, data at the ESP header
 *
 * Return: see xtfs_diet_rcv().
 */
static int xtfs_diet_rcv6(struct sk_buff *skb)
{
	return xtfs_diet_rcv(skb, AF_INET6, -1);
}

/**
 * xtfs_diet_input() - ESP from the UDP encapsulation path
 * @skb: the packet, data at the ESP header
 * @nexthdr: IPPROTO_ESP
 * @spi: 0, none parsed yet
 * @encap_type: the UDP encapsulation
 *
 * Return: see xtfs_diet_rcv().
 */
static int xtfs_diet_input(struct sk_buff *skb, int nexthdr, __be32 spi,
			   int encap_type)
{
	u16 family = XFRM_SPI_SKB_CB(skb)->family;

	/* ESP in TCP (espintcp) is for the kernel: no Diet-ESP SA has it. */
	if (spi || encap_type != UDP_ENCAP_ESPINUDP ||
	    (family != AF_INET && family != AF_INET6))
		return -EINVAL;
	return xtfs_diet_rcv(skb, family, encap_type);
}

/**
 * xtfs_diet_cb() - after-input callback: none, the next handler's turn
 * @skb: the packet
 * @err: its input result
 *
 * Return: 1, to go on to the next handler's callback.
 */
static int xtfs_diet_cb(struct sk_buff *skb, int err)
{
	return 1;
}

/**
 * xtfs_diet_err4() - ICMP errors are for the kernel's handler
 * @skb: the ICMP packet
 * @info: its information
 *
 * Return: -ENOENT, the next handler's turn.
 */
static int xtfs_diet_err4(struct sk_buff *skb, u32 info)
{
	return -ENOENT;
}

/**
 * xtfs_diet_err6() - ICMPv6 errors are for the kernel's handler
 * @skb: the ICMPv6 packet
 * @opt: its options
 * @type: its type
 * @code: its code
 * @offset: offset of the ESP header
 * @info: its information
 *
 * Return: -ENOENT, the next handler's turn.
 */
static int xtfs_diet_err6(struct sk_buff *skb, struct inet6_skb_parm *opt,
			  u8 type, u8 code, int offset, __be32 info)
{
	return -ENOENT;
}

/*
 * Before the kernel's ESP handler (0) and xfrm interfaces (10), whose
 * handlers take every packet; after VTI (100), which takes only those of
 * its tunnels (looked up under their i_key) and passes on the rest.
 * Diet-ESP SAs are not served behind VTI.
 */
#define XTFS_DIET_PRIORITY	50

static struct xfrm4_protocol xtfs_diet4 = {
	.handler	= xtfs_diet_rcv4,
	.input_handler	= xtfs_diet_input,
	.cb_handler	= xtfs_diet_cb,
	.err_handler	= xtfs_diet_err4,
	.priority	= XTFS_DIET_PRIORITY,
};

static struct xfrm6_protocol xtfs_diet6 = {
	.handler	= xtfs_diet_rcv6,
	.input_handler	= xtfs_diet_input,
	.cb_handler	= xtfs_diet_cb,
	.err_handler	= xtfs_diet_err6,
	.priority	= XTFS_DIET_PRIORITY,
};

/**
 * xtfs_diet_register() - install the ESP protocol handlers
 *
 * Return: 0 or a negative error.
 */
int __init xtfs_diet_register(void)
{
	int err;

	err = xfrm4_protocol_register(&xtfs_diet4, IPPROTO_ESP);
	if (err)
		return err;
	err = xfrm6_protocol_register(&xtfs_diet6, IPPROTO_ESP);
	if (err)
		xfrm4_protocol_deregister(&xtfs_diet4, IPPROTO_ESP);
	return err;
}

/**
 * xtfs_diet_unregister() - remove the ESP protocol handlers
 *
 * No SA is left (each holds a module reference). The entries freed with
 * kfree_rcu() are plain slab memory: freeing them needs no module code.
 */
void xtfs_diet_unregister(void)
{
	xfrm6_protocol_deregister(&xtfs_diet6, IPPROTO_ESP);
	xfrm4_protocol_deregister(&xtfs_diet4, IPPROTO_ESP);
}
