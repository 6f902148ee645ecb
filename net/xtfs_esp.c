// SPDX-License-Identifier: GPL-2.0
/*
 * xtfs extended ESP engine: ESP with implicit IV (RFC 8750) for the SAs
 * that xtfs serves.
 *
 * The kernel's ESP type cannot produce or parse packets without an IV.
 * An implicit-IV SA is therefore served by an xfrm_type of xtfs's own,
 * put into x->type when the SA is created (Documentation/xtfs.rst,
 * "Extended ESP engine"). The xfrm core then does for these SAs what it
 * does for ESP SAs: xfrm_output() and xfrm_output_one() build the packet
 * up to the type's output and assign the sequence number; xfrm_input(),
 * whichever way a packet reaches it (the ESP protocol handler, GRO through
 * esp4/esp6_offload, UDP encapsulation, an xfrm interface), checks the
 * replay window before the type's input and advances it after. The
 * type's output seals (xtfs_iiv.c), its input opens.
 */
#include <linux/hashtable.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/siphash.h>
#include <linux/skbuff.h>
#include <linux/unaligned.h>
#include <linux/udp.h>
#include <net/esp.h>
#include <net/ip.h>
#include <net/ip6_checksum.h>
#include <net/ipv6.h>
#include <net/xfrm.h>
#include <crypto/aead.h>
#include <kunit/visibility.h>

#include "xtfs.h"

/**
 * struct xtfs_iiv_key - a key that outbound implicit-IV SAs send under
 * @node: in xtfs_iiv_keys, by @digest
 * @lru: in xtfs_iiv_retired, oldest first, while @x is NULL
 * @digest: keyed hash of the algorithm and the key material (salt too)
 * @x: the live outbound SA using the key, or NULL once it has died
 * @hi: the highest sequence number sent (or reserved) under the key by
 *	SAs that have died
 * @net: namespace of the SA that last used the key; only compared, never
 *	followed (it may be gone)
 *
 * The nonce is the salt and the sequence number (RFC 8750 section 3), so
 * under one key a sequence number must never be sent twice (section 7):
 * not by two SAs at once, and not by an SA made again with the key of one
 * that has gone (an SA moved by deleting and adding it again, with a
 * sequence number read before the old one stopped sending).
 */
struct xtfs_iiv_key {
	struct hlist_node	node;
	struct list_head	lru;
	u64			digest;
	struct xfrm_state	*x;
	u64			hi;
	const struct net	*net;
};

/*
 * Keys of dead SAs remembered, at most: the oldest is forgotten first.
 * Documentation/xtfs.rst, "Security", says what this does and does not
 * cover.
 */
#define XTFS_IIV_RETIRED_MAX	4096

/* Keys in use, and retired ones, of every namespace: one key, one sender. */
static DEFINE_HASHTABLE(xtfs_iiv_keys, 8);
static LIST_HEAD(xtfs_iiv_retired);
static unsigned int xtfs_iiv_nretired;
static DEFINE_SPINLOCK(xtfs_iiv_keys_lock);
static siphash_key_t xtfs_iiv_hash_key __read_mostly;

/**
 * xtfs_esp_oseq() - the SA's outbound sequence number counter, 64 bits
 * @x: the SA; its lock held, or the SA not yet visible to packets
 *
 * Return: the last sequence number sent (high half 0 without ESN).
 */
static u64 xtfs_esp_oseq(const struct xfrm_state *x)
{
	if (x->repl_mode == XFRM_REPLAY_MODE_ESN)
		return (u64)x->replay_esn->oseq_hi << 32 | x->replay_esn->oseq;
	if (x->repl_mode == XFRM_REPLAY_MODE_BMP)
		return x->replay_esn->oseq;
	return x->replay.oseq;
}

/**
 * xtfs_esp_set_oseq() - set the SA's outbound sequence number counter
 * @x: the SA; its lock held, or the SA not yet visible to packets
 * @seq: the last sequence number sent; it fits the SA's counter
 */
static void xtfs_esp_set_oseq(struct xfrm_state *x, u64 seq)
{
	if (x->repl_mode == XFRM_REPLAY_MODE_ESN) {
		x->replay_esn->oseq = lower_32_bits(seq);
		x->replay_esn->oseq_hi = upper_32_bits(seq);
	} else if (x->repl_mode == XFRM_REPLAY_MODE_BMP) {
		x->replay_esn->oseq = seq;
	} else {
		x->replay.oseq = seq;
	}
}

/**
 * xtfs_iiv_key_lookup() - the entry of a key
 * @digest: the key's digest
 *
 * Return: the entry or NULL. Called with xtfs_iiv_keys_lock held.
 */
static struct xtfs_iiv_key *xtfs_iiv_key_lookup(u64 digest)
{
	struct xtfs_iiv_key *k;

	lockdep_assert_held(&xtfs_iiv_keys_lock);
	hash_for_each_possible(xtfs_iiv_keys, k, node, digest)
		if (k->digest == digest)
			return k;
	return NULL;
}

/**
 * xtfs_iiv_key_retire() - remember a key no live SA sends under any more
 * @k: the entry; @k->x already NULL and @k->hi final
 *
 * Beyond XTFS_IIV_RETIRED_MAX keys the oldest of @k's namespace is
 * forgotten, or the oldest of all when that namespace has no other.
 * Called with xtfs_iiv_keys_lock held.
 */
static void xtfs_iiv_key_retire(struct xtfs_iiv_key *k)
{
	struct xtfs_iiv_key *old, *e;

	lockdep_assert_held(&xtfs_iiv_keys_lock);
	list_add_tail(&k->lru, &xtfs_iiv_retired);
	if (++xtfs_iiv_nretired <= XTFS_IIV_RETIRED_MAX)
		return;
	/* The oldest key of the same namespace goes first: a user churning
	 * throwaway keys in a namespace of its own forgets its own.
	 */
	old = list_first_entry(&xtfs_iiv_retired, struct xtfs_iiv_key, lru);
	list_for_each_entry(e, &xtfs_iiv_retired, lru) {
		if (e == k)
			break;
		if (e->net == k->net) {
			old = e;
			break;
		}
	}
	list_del(&old->lru);
	hash_del(&old->node);
	xtfs_iiv_nretired--;
	kfree(old);
}

/**
 * xtfs_iiv_key_claim() - make a new outbound SA the only sender under its key
 * @x: the SA being created (user_init), not yet visible to packets
 * @sa: its xtfs state, @sa->iiv keyed
 * @extack: where to say why the SA is refused
 *
 * RFC 8750 section 7: the nonce must not repeat under a key. An SA whose
 * key a live outbound SA already sends under is refused, except an update
 * of that same SA (XFRM_MSG_UPDSA copies into the live SA and discards
 * this one). An SA deleted, or of a namespace being dismantled, counts as
 * dead and stops sending here. An SA made with the key of one that has
 * died starts above the highest sequence number sent under it: its
 * counter is raised and the skipped numbers counted, or, when that does
 * not fit its counter (no ESN), the SA is refused.
 *
 * Return: 0, or a negative error with an extended ACK message.
 */
static int xtfs_iiv_key_claim(struct xfrm_state *x, struct xtfs_sa *sa,
			      struct netlink_ext_ack *extack)
{
	u64 digest, hi, start = xtfs_esp_oseq(x);
	u64 max = x->repl_mode == XFRM_REPLAY_MODE_ESN ? U64_MAX : U32_MAX;
	struct xtfs_iiv_key *k, *nk;
	unsigned int keylen;
	struct xfrm_state *old;
	u8 buf[64];
	int err = 0;

	/* The algorithm and the key material (salt included) together. */
	keylen = x->aead->alg_key_len / 8;
	if (keylen > sizeof(buf) - sizeof(u32))
		return -EINVAL;
	put_unaligned(sa->iiv.alg, (u32 *)buf);
	memcpy(buf + sizeof(u32), x->aead->alg_key, keylen);
	digest = siphash(buf, sizeof(u32) + keylen, &xtfs_iiv_hash_key);
	memzero_explicit(buf, sizeof(buf));
	nk = kzalloc_obj(*nk, GFP_KERNEL_ACCOUNT);
	if (!nk)
		return -ENOMEM;

	spin_lock(&xtfs_iiv_keys_lock);
	k = xtfs_iiv_key_lookup(digest);
	old = k ? k->x : NULL;
	if (old) {
		spin_lock_bh(&old->lock);
		if (old->km.state == XFRM_STATE_DEAD ||
		    !check_net(xs_net(old))) {
			/* Deleted but not yet destroyed, or of a namespace
			 * being dismantled: it sends no more (its key entry
			 * goes, xtfs_esp_take_seq() then refuses).
			 */
			k->hi = max(k->hi, xtfs_state_sa(old)->iiv.tx_last);
			xtfs_state_sa(old)->iiv.key = NULL;
			k->x = NULL;
			xtfs_iiv_key_retire(k);
		}
		spin_unlock_bh(&old->lock);
	}
	if (k && k->x) {
		if (net_eq(xs_net(k->x), xs_net(x)) &&
		    k->x->id.spi == x->id.spi &&
		    k->x->id.proto == x->id.proto &&
		    k->x->props.family == x->props.family &&
		    xfrm_addr_equal(&k->x->id.daddr, &x->id.daddr,
				    x->props.family) &&
		    k->x->mark.v == x->mark.v && k->x->mark.m == x->mark.m) {
			/* An update of that SA: xfrm_state_update() copies
			 * into it and discards this one, which never gets a
			 * key and so never sends (xtfs_esp_take_seq()).
			 */
			goto out;
		}
		NL_SET_ERR_MSG_MOD(extack,
				   "implicit IV: another outbound SA sends under this key; a nonce must not repeat (RFC 8750 section 7)");
		err = -EEXIST;
		goto out;
	}
	hi = k ? k->hi : 0;
	if (start < hi) {
		if (hi >= max) {
			NL_SET_ERR_MSG_FMT_MOD(extack,
					       "implicit IV: key already sent SN %llu, past this SA's counter",
					       hi);
			err = -EINVAL;
			goto out;
		}
		xtfs_inc(sa, XTFS_CNT_IIV_SEQ_SKIPPED, hi - start);
		xtfs_esp_set_oseq(x, hi);
		start = hi;
	}
	if (k) {
		list_del(&k->lru);
		xtfs_iiv_nretired--;
	} else {
		k = nk;
		nk = NULL;
		k->digest = digest;
		hash_add(xtfs_iiv_keys, &k->node, digest);
	}
	k->x = x;
	k->net = xs_net(x);
	sa->iiv.key = k;
	sa->iiv.tx_last = start;
out:
	spin_unlock(&xtfs_iiv_keys_lock);
	kfree(nk);
	return err;
}

/**
 * xtfs_iiv_key_release() - a dying outbound SA stops sending under its key
 * @sa: the SA's state (destroy_state: nothing sends on it any more)
 */
static void xtfs_iiv_key_release(struct xtfs_sa *sa)
{
	struct xtfs_iiv_key *k;

	spin_lock(&xtfs_iiv_keys_lock);
	k = sa->iiv.key;
	if (k) {
		k->hi = max(k->hi, sa->iiv.tx_last);
		k->x = NULL;
		sa->iiv.key = NULL;
		xtfs_iiv_key_retire(k);
	}
	spin_unlock(&xtfs_iiv_keys_lock);
}

/**
 * xtfs_esp_take_seq() - check the sequence number of an outbound packet
 * @sa: the SA's state, its SA's lock held
 * @seq: in, the 64-bit number xfrm_replay_overflow() assigned (high half
 *	0 without ESN); out, the number the packet is sent with
 *
 * The core assigns the number from the SA's replay state, which
 * XFRM_MSG_NEWAE may have written lower since: with implicit IV a number
 * sent before would repeat a nonce (RFC 8750 section 7). So the number is
 * always above @sa->iiv.tx_last, the highest one taken: a number at or
 * below it is replaced by the next one above both it and the replay
 * state, which is raised to match; the numbers a rewind skips are
 * counted. A number can also be at or below @tx_last without a rewind:
 * the core releases the SA's lock between assigning it and this check,
 * and another CPU may have taken and sent a later one in between.
 * An SA that holds no entry in the key table (xtfs_iiv_key_claim())
 * sends nothing. A counter that would cycle is refused (RFC 4303 section
 * 3.3.3); xtfs_esp_bind() refused XFRM_SA_XFLAG_OSEQ_MAY_WRAP.
 *
 * Return: 0 or -EOVERFLOW.
 */
static int xtfs_esp_take_seq(struct xtfs_sa *sa, u64 *seq)
{
	struct xfrm_state *x = sa->x;
	u64 max = x->repl_mode == XFRM_REPLAY_MODE_ESN ? U64_MAX : U32_MAX;
	u64 last;

	lockdep_assert_held(&x->lock);
	if (unlikely(!sa->iiv.key))
		return -EOVERFLOW;
	if (unlikely(*seq <= sa->iiv.tx_last)) {
		last = xtfs_esp_oseq(x);
		/* The replay state was written lower, and the core's number
		 * is the last it gave: the numbers up to @tx_last are skipped.
		 * (Above it, another CPU took a later number and sent first:
		 * nothing was rewound.)
		 */
		if (last == *seq)
			xtfs_inc(sa, XTFS_CNT_IIV_SEQ_SKIPPED,
				 sa->iiv.tx_last + 1 - *seq);
		last = max(last, sa->iiv.tx_last);
		if (last >= max)
			return -EOVERFLOW;
		*seq = last + 1;
		xtfs_esp_set_oseq(x, *seq);
	}
	sa->iiv.tx_last = *seq;
	return 0;
}

/**
 * xtfs_esp_seal() - add the ESP header and trailer and seal the packet
 * @sa: the SA state
 * @skb: the outer packet as xfrm_output_one() hands it to the type: data
 *	at the ESP payload, network header at the outer IP header,
 *	transport header where the ESP (or UDP) header goes, mac header at
 *	the outer protocol field (xtfs_prepare_output())
 * @seq: its 64-bit sequence number
 * @sport: UDP source port when the SA has UDP encapsulation (@x->encap)
 * @dport: UDP destination port, likewise
 *
 * RFC 4303 section 2 with RFC 8750 section 4: SPI, sequence number, then
 * straight the payload, padding to a multiple of four octets (monotonic
 * 1, 2, 3, ..., section 2.4), pad length, next header, ICV. A Diet-ESP SA
 * sends the header's low bits and its own trailer instead
 * (xtfs_diet_put_hdr(), &struct xtfs_diet); the ICV is the same. One of an
 * explicit-IV algorithm sends its IV after the header (@sa->iiv.wire_iv),
 * the value RFC 8750 leaves implicit (xtfs_iiv_of()). With UDP
 * encapsulation (RFC 3948 section 2.1) a UDP header comes first, its
 * checksum zero over IPv4 and computed over IPv6 (RFC 8200 section 8.1).
 * On return the data starts at the outer IP header.
 *
 * Return: 0 or a negative error.
 */
VISIBLE_IF_KUNIT int xtfs_esp_seal(struct xtfs_sa *sa, struct sk_buff *skb,
				   u64 seq, __be16 sport, __be16 dport)
{
	const struct xtfs_diet *d = &sa->diet;
	unsigned int plen, tailen, i, off, udplen = 0;
	struct xtfs_iiv *a = &sa->iiv;
	struct sk_buff *trailer;
	struct udphdr *uh;
	u8 *tail, proto;
	int nfrags, err;

	/* The SA's encapsulation decides, not the port (which may be 0). */
	if (sa->x->encap)
		udplen = sizeof(*uh);
	/* Padding and the @d->trl octets after it. */
	plen = ALIGN(skb->len + d->trl, d->align) - skb->len;
	tailen = plen + a->icv_len;
	nfrags = skb_cow_data(skb, tailen, &trailer);
	if (nfrags < 0)
		return nfrags;
	tail = pskb_put(skb, trailer, tailen);

	proto = *skb_mac_header(skb);
	*skb_mac_header(skb) = udplen ? IPPROTO_UDP : IPPROTO_ESP;
	for (i = 0; i < plen - d->trl; i++)
		tail[i] = i + 1;
	if (d->trl)
		tail[plen - d->trl] = plen - d->trl;
	if (d->trl == 2)
		tail[plen - 1] = proto;

	skb_push(skb, -skb_transport_offset(skb));
	if (skb->len > U16_MAX)
		return -EMSGSIZE;
	uh = udp_hdr(skb);
	if (udplen) {
		uh->source = sport;
		uh->dest = dport;
		uh->len = htons(skb->len);
		uh->check = 0;
	}
	xtfs_diet_put_hdr(d, skb_transport_header(skb) + udplen, sa->x->id.spi,
			  seq);
	if (a->wire_iv)
		put_unaligned(xtfs_iiv_of(a, seq),
			      (__be64 *)(skb_transport_header(skb) + udplen +
					 d->hlen));
	skb_push(skb, -skb_network_offset(skb));
	off = skb_transport_offset(skb) + udplen + d->hlen + a->wire_iv;
	err = xtfs_iiv_crypt(a, skb, off, skb->len - off, sa->x->id.spi, seq,
			     true);
	if (err || !udplen || sa->x->props.family != AF_INET6)
		return err;
	off = skb_transport_offset(skb);
	uh = udp_hdr(skb);
	uh->check = csum_ipv6_magic(&ipv6_hdr(skb)->saddr,
				    &ipv6_hdr(skb)->daddr, skb->len - off,
				    IPPROTO_UDP,
				    skb_checksum(skb, off, skb->len - off, 0));
	if (!uh->check)
		uh->check = CSUM_MANGLED_0;
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(xtfs_esp_seal);

/**
 * xtfs_esp_type_output() - seal one outer packet (xfrm_type::output)
 * @x: the SA, an implicit-IV SA of xtfs
 * @skb: the packet, laid out as for xtfs_esp_seal(); its sequence number
 *	assigned by the core (XFRM_SKB_CB()->seq.output)
 *
 * Called by xfrm_output_one() after the outer header, the state and
 * lifetime checks and the sequence number: the rest of the bundle,
 * POST_ROUTING and dst_output() follow in the core.
 *
 * Return: 0 or a negative error; the core then drops the packet.
 */
static int xtfs_esp_type_output(struct xfrm_state *x, struct sk_buff *skb)
{
	struct xtfs_sa *sa = x->mode_data;
	__be16 sport = 0, dport = 0;
	u64 seq;
	int err;

	seq = (u64)XFRM_SKB_CB(skb)->seq.output.hi << 32 |
	      XFRM_SKB_CB(skb)->seq.output.low;
	spin_lock_bh(&x->lock);
	err = xtfs_esp_take_seq(sa, &seq);
	if (err)
		xfrm_audit_state_replay_overflow(x, skb);
	/* The ports may change (a NAT mapping update): read them locked. */
	if (!err && x->encap) {
		sport = x->encap->encap_sport;
		dport = x->encap->encap_dport;
	}
	spin_unlock_bh(&x->lock);
	if (err)
		return err;
	return xtfs_esp_seal(sa, skb, seq, sport, dport);
}

/**
 * xtfs_esp_open() - open one ESP packet of an implicit-IV SA
 * @sa: the SA state
 * @skb: the packet, data at the ESP header, whole (a Diet-ESP packet's
 *	compressed header was rebuilt by xtfs_diet_rcv())
 * @seq: its 64-bit sequence number
 *
 * Checks the ICV, then takes off the ESP header (and IV, if on the wire),
 * the trailer and the ICV
 * as esp_input_done2() does: on success the data starts at the payload,
 * which is also the transport header. RFC 4303 section 2.5: pad length,
 * then next header; a Diet-ESP SA may send the pad length alone or
 * neither, the next header then the one its payload format implies
 * (draft-ietf-ipsecme-diet-esp-07 section 5.2): 144, the inner packet's
 * IP version, or with IIPC the rule's.
 *
 * Return: the next header, -EBADMSG when the ICV does not verify, or
 * another negative error for a malformed packet.
 */
VISIBLE_IF_KUNIT int xtfs_esp_open(struct xtfs_sa *sa, struct sk_buff *skb,
				   u64 seq)
{
	unsigned int hlen = sizeof(struct ip_esp_hdr) + sa->iiv.wire_iv;
	unsigned int alen = sa->iiv.icv_len;
	unsigned int trl = sa->diet.trl;
	u8 tail[2] = {}, nexthdr;
	int err;

	if (skb->len < hlen)
		return -EINVAL;
	err = xtfs_iiv_crypt(&sa->iiv, skb, hlen, skb->len - hlen,
			     sa->x->id.spi, seq, false);
	if (err)
		return err;
	/* The checksum the device took was of the ciphertext. */
	skb->ip_summed = CHECKSUM_NONE;
	if (trl && skb_copy_bits(skb, skb->len - alen - trl, tail, trl))
		return -EINVAL;
	/* Pad length (tail[0]) and the trailer: a payload must be left. */
	if (hlen + tail[0] + trl + alen >= skb->len)
		return -EINVAL;
	err = pskb_trim(skb, skb->len - alen - tail[0] - trl);
	if (err)
		return err;
	__skb_pull(skb, hlen);
	skb_reset_transport_header(skb);
	if (trl == 2)
		return tail[1];
	nexthdr = sa->pl->nexthdr;
	/* IIPC: the rule's IP version (xtfs_iipc_input() checks). */
	if (!nexthdr && sa->iipc.on)
		nexthdr = sa->iipc.version == 4 ? IPPROTO_IPIP : IPPROTO_IPV6;
	if (!nexthdr && skb_copy_bits(skb, 0, tail, 1) == 0)
		nexthdr = tail[0] >> 4 == 4 ? IPPROTO_IPIP :
			  tail[0] >> 4 == 6 ? IPPROTO_IPV6 : 0;
	return nexthdr ?: -EINVAL;
}
EXPORT_SYMBOL_IF_KUNIT(xtfs_esp_open);

/**
 * xtfs_esp_udp_sport() - the UDP source port of a UDP-encapsulated packet
 * @x: the SA
 * @skb: the packet, data at the ESP header; the UDP header right before
 *	it, as xfrm4/6_udp_encap_rcv() leave it
 *
 * Return: the port, or 0 when no UDP header lies between the IP header
 * and the ESP header.
 */
static __be16 xtfs_esp_udp_sport(const struct xfrm_state *x,
				 const struct sk_buff *skb)
{
	unsigned int iphlen = x->props.family == AF_INET ?
			      sizeof(struct iphdr) : sizeof(struct ipv6hdr);
	const struct udphdr *uh;

	uh = (const struct udphdr *)(skb->data - sizeof(*uh));
	if (skb_network_header(skb) + iphlen > (const u8 *)uh)
		return 0;
	return uh->source;
}

/**
 * xtfs_esp_encap_peer() - tell the key manager of a moved NAT-T peer
 * @x: the SA, UDP-encapsulated
 * @skb: a packet that opened
 * @sport: its UDP source port (xtfs_esp_udp_sport())
 *
 * As esp_input_done2() does: a source address or port other than the
 * SA's is reported with km_new_mapping() (RFC 3948 section 3.1; the key
 * manager decides), the packet is accepted either way.
 */
static void xtfs_esp_encap_peer(struct xfrm_state *x, struct sk_buff *skb,
				__be16 sport)
{
	xfrm_address_t addr = {};

	if (!sport)
		return;
	if (x->props.family == AF_INET)
		addr.a4 = ip_hdr(skb)->saddr;
	else
		addr.in6 = ipv6_hdr(skb)->saddr;
	if (!xfrm_addr_equal(&addr, &x->props.saddr, x->props.family) ||
	    sport != x->encap->encap_sport)
		km_new_mapping(x, &addr, sport);
}

/**
 * xtfs_esp_type_input() - open one ESP packet (xfrm_type::input)
 * @x: the SA, an inbound implicit-IV SA of xtfs
 * @skb: the packet, data at the ESP header; its sequence number in
 *	XFRM_SKB_CB()->seq.input, the high half inferred by the core
 *	(xfrm_replay_seqhi(), RFC 4303 Appendix A2.2)
 *
 * Called by xfrm_input() after the replay check: a replayed packet never
 * reaches the AEAD here (only xtfs_diet_rcv()'s trial of a Diet-ESP
 * packet while two SAs of a rekey share their SPI bits opens a copy
 * before the check). The core counts an ICV failure (-EBADMSG) in the SA's
 * integrity-failed and XfrmInStateProtoError, then rechecks and advances
 * the replay window and calls the mode's input.
 *
 * Return: the next header, or a negative error.
 */
static int xtfs_esp_type_input(struct xfrm_state *x, struct sk_buff *skb)
{
	struct xtfs_sa *sa = x->mode_data;
	u64 seq = ntohl(XFRM_SKB_CB(skb)->seq.input.low);
	__be16 sport = 0;
	int nexthdr;

	if (sa->iiv.esn)
		seq |= (u64)ntohl(XFRM_SKB_CB(skb)->seq.input.hi) << 32;
	if (x->encap)
		sport = xtfs_esp_udp_sport(x, skb);
	nexthdr = xtfs_esp_open(sa, skb, seq);
	if (nexthdr >= 0 && x->encap)
		xtfs_esp_encap_peer(x, skb, sport);
	return nexthdr;
}

/**
 * xtfs_esp_type_destroy() - the end of an implicit-IV SA (xfrm_type::destructor)
 * @x: the SA
 *
 * xfrm_state_gc_destroy() calls the mode's destroy_state first, which
 * left the xtfs state for this (xtfs_destroy_state()): the kernel's ESP
 * type the SA was made with runs its own destructor (the AEAD it keyed in
 * x->data), its module reference is dropped, then the xtfs state is
 * freed. The core drops the reference on this type (this module) after.
 */
static void xtfs_esp_type_destroy(struct xfrm_state *x)
{
	struct xtfs_sa *sa = x->mode_data;
	const struct xfrm_type *esp;

	if (WARN_ON_ONCE(!sa))
		return;
	esp = sa->iiv.esp_type;
	esp->destructor(x);
	module_put(esp->owner);
	xtfs_sa_free(x);
}

/*
 * The type of implicit-IV SAs; put into x->type by xtfs_esp_take_type(),
 * never registered (xfrm_register_type() has one ESP slot per family,
 * the kernel's). XFRM_TYPE_REPLAY_PROT: the core assigns sequence numbers
 * (xfrm_replay_overflow()) and sends replay notifications, as for ESP.
 * No init_state: only __xfrm_init_state() calls it, on registered types.
 */
static const struct xfrm_type xtfs_esp_type = {
	.owner		= THIS_MODULE,
	.proto		= IPPROTO_ESP,
	.flags		= XFRM_TYPE_REPLAY_PROT,
	.destructor	= xtfs_esp_type_destroy,
	.input		= xtfs_esp_type_input,
	.output		= xtfs_esp_type_output,
};

/**
 * xtfs_esp_take_type() - serve an SA with xtfs's ESP type
 * @x: the SA, at the end of user_init: not yet visible to packets
 * @sa: its xtfs state
 *
 * __xfrm_init_state() gave the SA the kernel's ESP type, holding a
 * reference on its module (esp4 or esp6), and ran its init_state: the
 * SA's header and trailer lengths and an AEAD in x->data, which
 * xfrm_state_mtu() reads. Both stay. The ESP type is kept in @sa for
 * xtfs_esp_type_destroy(), with its module reference: esp4/esp6 also
 * register the ESP protocol handler and the UDP encapsulation path that
 * bring packets to xfrm_input(). xtfs's type takes a reference on this
 * module, which xfrm_state_gc_destroy() drops (xfrm_put_type()).
 *
 * xfrm_state_construct() gave the SA the ESP offload type when
 * esp4/esp6_offload is loaded; it is dropped: xfrm_output() would hand
 * the packet to esp4/esp6_offload's software GSO, which builds the
 * kernel's format. GRO needs no such type: esp4/esp6_gro_receive() call
 * xfrm_input(), which calls x->type->input.
 */
static void xtfs_esp_take_type(struct xfrm_state *x, struct xtfs_sa *sa)
{
	xfrm_unset_type_offload(x);
	sa->iiv.esp_type = x->type;
	__module_get(THIS_MODULE);
	x->type = &xtfs_esp_type;
}

/**
 * xtfs_esp_alg() - the algorithm of xtfs's ESP engine for an SA
 * @x: the SA
 * @set: its staged settings
 * @extack: where to say why the SA is refused
 *
 * With implicit IV, the staged algorithm, which must be the one of the
 * SA's AEAD. Without it (a Diet-ESP SA that sends its IV), the entry whose
 * AEAD and ICV length the SA has: the engine's three algorithms with the
 * IV on the wire are RFC 4106's AES-GCM with a 16-octet ICV, RFC 4309's
 * AES-CCM with an 8-octet one and RFC 7634's ChaCha20-Poly1305.
 *
 * Return: the table entry, or NULL with an extended ACK message.
 */
static const struct xtfs_iiv_alg_info *
xtfs_esp_alg(const struct xfrm_state *x, const struct xtfs_settings *set,
	     struct netlink_ext_ack *extack)
{
	const struct xtfs_iiv_alg_info *of_sa = xtfs_iiv_alg_of_aead(x->aead);
	const struct xtfs_iiv_alg_info *e;

	if (!set->iiv) {
		if (!of_sa)
			NL_SET_ERR_MSG_MOD(extack,
					   "Diet-ESP without implicit IV needs the AEAD rfc4106(gcm(aes)) with a 128-bit ICV, rfc4309(ccm(aes)) with a 64-bit ICV, or rfc7539esp(chacha20,poly1305)");
		return of_sa;
	}
	e = xtfs_iiv_alg_find(set->iiv);
	if (!e) {
		NL_SET_ERR_MSG_FMT_MOD(extack,
				       "implicit IV: %u is not an implicit-IV algorithm (29, 30 or 31)",
				       set->iiv);
		return NULL;
	}
	/* Each entry has its own AEAD name and ICV length. */
	if (of_sa != e) {
		xtfs_iiv_set_msg(extack, e->need_msg);
		return NULL;
	}
	return e;
}

/**
 * xtfs_esp_bind() - make an SA being created use xtfs's ESP engine
 * @x: the SA, initialised, not yet visible to packets
 * @sa: its xtfs state
 * @set: the settings staged for it: the implicit-IV algorithm (or 0 for a
 *	Diet-ESP SA that sends its IV), and the Diet-ESP format
 *	(xtfs_diet_bind())
 * @extack: where to say why the SA is refused
 *
 * The algorithm must be the one of the SA's AEAD (xtfs_esp_alg()), keyed
 * with the SA's own key material (key then salt, as IKEv2 derives it).
 * The engine's IV is the sequence number, whether on the wire or not, and
 * must never repeat for a key (RFC 8750 section 7, RFC 4106 section 3.1):
 * a multicast (group) SA, whose senders share the key, is refused, and so
 * is an SA whose sequence number may wrap. So are TCP encapsulation (RFC
 * 8229 framing is not done here) and hardware offload (the device would
 * build the kernel's format). Last, the SA gets xtfs's ESP type
 * (xtfs_esp_take_type()); the caller sets the header length without what
 * the engine leaves out (@sa->esp_hdr_less).
 *
 * Return: 0, or a negative error with an extended ACK message.
 */
int xtfs_esp_bind(struct xfrm_state *x, struct xtfs_sa *sa,
		  const struct xtfs_settings *set,
		  struct netlink_ext_ack *extack)
{
	const struct xtfs_iiv_alg_info *e = xtfs_esp_alg(x, set, extack);
	bool mcast;
	int err;

	if (!e)
		return -EINVAL;
	mcast = x->props.family == AF_INET ?
		ipv4_is_multicast(x->id.daddr.a4) :
		ipv6_addr_is_multicast(&x->id.daddr.in6);
	if (mcast) {
		NL_SET_ERR_MSG_MOD(extack,
				   "xtfs's ESP engine cannot serve a group (multicast) SA: its senders would repeat IVs (RFC 8750 section 7)");
		return -EINVAL;
	}
	if (x->props.extra_flags & XFRM_SA_XFLAG_OSEQ_MAY_WRAP) {
		NL_SET_ERR_MSG_MOD(extack,
				   "xtfs's ESP engine forbids a sequence number that may wrap: the IV would repeat (RFC 8750 section 7)");
		return -EINVAL;
	}
	if (x->encap && x->encap->encap_type != UDP_ENCAP_ESPINUDP) {
		NL_SET_ERR_MSG_MOD(extack,
				   "xtfs's ESP engine does not support TCP encapsulation (UDP is)");
		return -EOPNOTSUPP;
	}
	if (x->xso.type != XFRM_DEV_OFFLOAD_UNSPECIFIED) {
		NL_SET_ERR_MSG_MOD(extack,
				   "xtfs's ESP engine does not support hardware offload");
		return -EOPNOTSUPP;
	}
	if (!x->type || x->type->proto != IPPROTO_ESP || !x->type->destructor) {
		NL_SET_ERR_MSG_MOD(extack,
				   "xtfs's ESP engine needs an SA of the kernel's ESP type");
		return -EINVAL;
	}
	err = xtfs_iiv_init(&sa->iiv, e->alg, x->aead->alg_key,
			    x->aead->alg_key_len / 8,
			    x->props.flags & XFRM_STATE_ESN, extack);
	if (err)
		return err;
	if (!set->iiv)
		sa->iiv.wire_iv = XTFS_IIV_LEN;
	err = xtfs_diet_bind(x, sa, set, extack);
	if (err) {
		xtfs_iiv_destroy(&sa->iiv);
		return err;
	}
	if (x->dir == XFRM_SA_DIR_OUT) {
		err = xtfs_iiv_key_claim(x, sa, extack);
		if (err) {
			xtfs_diet_release(sa);
			xtfs_iiv_destroy(&sa->iiv);
			return err;
		}
	}
	/*
	 * RFC 8750 section 4: the 8-octet IV is not on the wire, unless the
	 * SA sends it; Diet-ESP sends a shorter ESP header.
	 */
	sa->esp_hdr_less = XTFS_IIV_LEN - sa->iiv.wire_iv +
			   sizeof(struct ip_esp_hdr) - sa->diet.hlen;
	xtfs_esp_take_type(x, sa);
	return 0;
}

/**
 * xtfs_esp_served() - is an SA served by xtfs's ESP engine?
 * @x: the SA
 *
 * Return: true when @x has xtfs's ESP type (an implicit-IV SA).
 */
bool xtfs_esp_served(const struct xfrm_state *x)
{
	return x->type == &xtfs_esp_type;
}

/**
 * xtfs_esp_destroy() - release the implicit IV of a dying SA
 * @x: the SA
 * @sa: its xtfs state
 *
 * Return: true when @x has xtfs's ESP type, whose destructor frees @sa
 * (xtfs_esp_type_destroy()); false when the caller frees it.
 */
bool xtfs_esp_destroy(struct xfrm_state *x, struct xtfs_sa *sa)
{
	if (!xtfs_esp_served(x))
		return false;
	xtfs_iiv_key_release(sa);
	xtfs_diet_release(sa);
	xtfs_iiv_destroy(&sa->iiv);
	return x->type == &xtfs_esp_type;
}

/**
 * xtfs_esp_init() - set up the extended ESP engine
 *
 * Return: 0, or a negative error when the Diet-ESP protocol handlers
 * cannot be installed (xtfs_diet_register()).
 */
int __init xtfs_esp_init(void)
{
	get_random_bytes(&xtfs_iiv_hash_key, sizeof(xtfs_iiv_hash_key));
	return xtfs_diet_register();
}

/**
 * xtfs_esp_exit() - remove the Diet-ESP handlers, forget the keys remembered
 *
 * A new load starts with none.
 */
void xtfs_esp_exit(void)
{
	struct xtfs_iiv_key *k, *tmp;

	xtfs_diet_unregister();
	/* No SA is left (each holds a module reference): all are retired. */
	list_for_each_entry_safe(k, tmp, &xtfs_iiv_retired, lru) {
		hash_del(&k->node);
		kfree(k);
	}
	xtfs_iiv_nretired = 0;
}
