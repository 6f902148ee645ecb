// SPDX-License-Identifier: GPL-2.0
/*
 * xtfs extended ESP engine: ESP with implicit IV (RFC 8750) for the SAs
 * that xtfs serves.
 *
 * The kernel's ESP type cannot produce or parse packets without an IV,
 * so for such an SA xtfs does ESP itself (Documentation/xtfs.rst,
 * "Extended ESP engine"):
 *
 * - Output: the send work hands each outer packet to xtfs_esp_output(),
 *   which does what xfrm_output() and xfrm_output_one() do up to the
 *   type's output (outer header, state and lifetime checks, the sequence
 *   number), seals the packet (xtfs_iiv.c), and hands it back to the core
 *   with xfrm_output_resume(), as an asynchronous ESP would.
 * - Input: a handler registered with xfrm4/6_protocol_register() ahead of
 *   the kernel's ESP takes the packets of these SAs, opens them and hands
 *   them to xfrm_input_resume(); the core then checks and advances the
 *   replay window on the full sequence number, counts lifetimes and calls
 *   the mode's input. Every other packet goes on to the next handler
 *   untouched.
 */
#include <linux/hashtable.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/siphash.h>
#include <linux/skbuff.h>
#include <linux/unaligned.h>
#include <net/esp.h>
#include <net/ip.h>
#include <net/ipv6.h>
#include <net/xfrm.h>
#include <crypto/aead.h>

#include "xtfs.h"

/*
 * Above the kernel's ESP (0) and xfrm interfaces (10), which would take
 * every ESP packet to xfrm_input(); below VTI (100), which takes only the
 * packets of its own tunnels.
 */
#define XTFS_ESP_PRIORITY	50

/* Implicit-IV SAs in existence: the receive handlers do nothing without. */
static atomic_t xtfs_esp_sas = ATOMIC_INIT(0);

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
 * struct xtfs_esp_alg - an implicit-IV algorithm and the SA AEAD it needs
 * @alg: the algorithm (IKEv2 transform ID)
 * @aead: xfrm name of the SA's AEAD
 * @icv_bits: ICV length of the SA's AEAD in bits
 */
struct xtfs_esp_alg {
	enum xtfs_iiv_alg	alg;
	const char		*aead;
	unsigned int		icv_bits;
};

/* RFC 8750 section 7. */
static const struct xtfs_esp_alg xtfs_esp_algs[] = {
	{ XTFS_IIV_ALG_AES_CCM_8, "rfc4309(ccm(aes))", 64 },
	{ XTFS_IIV_ALG_AES_GCM_16, "rfc4106(gcm(aes))", 128 },
	{ XTFS_IIV_ALG_CHACHA20_POLY1305, "rfc7539esp(chacha20,poly1305)", 128 },
};

/**
 * xtfs_esp_need_msg() - say which SA an implicit-IV algorithm needs
 * @alg: the algorithm
 * @extack: where to say it
 *
 * Whole messages: a formatted extended ACK message is cut at 80 characters.
 */
static void xtfs_esp_need_msg(enum xtfs_iiv_alg alg,
			      struct netlink_ext_ack *extack)
{
	switch (alg) {
	case XTFS_IIV_ALG_AES_CCM_8:
		NL_SET_ERR_MSG_MOD(extack,
				   "implicit IV ENCR_AES_CCM_8_IIV needs an SA with AEAD rfc4309(ccm(aes)) and a 64-bit ICV");
		break;
	case XTFS_IIV_ALG_AES_GCM_16:
		NL_SET_ERR_MSG_MOD(extack,
				   "implicit IV ENCR_AES_GCM_16_IIV needs an SA with AEAD rfc4106(gcm(aes)) and a 128-bit ICV");
		break;
	case XTFS_IIV_ALG_CHACHA20_POLY1305:
		NL_SET_ERR_MSG_MOD(extack,
				   "implicit IV ENCR_CHACHA20_POLY1305_IIV needs an SA with AEAD rfc7539esp(chacha20,poly1305) and a 128-bit ICV");
		break;
	}
}

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
			 * goes, xtfs_esp_next_seq() then refuses).
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
			 * key and so never sends (xtfs_esp_next_seq()).
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
 * xtfs_esp_bind() - make an SA being created use ESP with implicit IV
 * @x: the SA, initialised, not yet visible to packets
 * @sa: its xtfs state
 * @alg: the algorithm staged for it
 * @extack: where to say why the SA is refused
 *
 * The algorithm must be the one of the SA's AEAD, keyed with the SA's own
 * key material (key then salt, as IKEv2 derives it). The IV must never
 * repeat for a key (RFC 8750 section 7): a multicast (group) SA, whose
 * senders share the key, is refused, and so is an SA whose sequence
 * number may wrap. So are UDP encapsulation (encapsulated ESP never
 * reaches the receive handler) and hardware offload (the device would
 * build the kernel's format).
 *
 * Return: 0, or a negative error with an extended ACK message.
 */
int xtfs_esp_bind(struct xfrm_state *x, struct xtfs_sa *sa, u32 alg,
		  struct netlink_ext_ack *extack)
{
	const struct xtfs_esp_alg *e = NULL;
	bool mcast;
	int i, err;

	for (i = 0; i < ARRAY_SIZE(xtfs_esp_algs); i++)
		if (xtfs_esp_algs[i].alg == alg)
			e = &xtfs_esp_algs[i];
	if (!e) {
		NL_SET_ERR_MSG_FMT_MOD(extack,
				       "implicit IV: %u is not an implicit-IV algorithm (29, 30 or 31)",
				       alg);
		return -EINVAL;
	}
	if (!x->aead || strcmp(x->aead->alg_name, e->aead) ||
	    x->aead->alg_icv_len != e->icv_bits) {
		xtfs_esp_need_msg(e->alg, extack);
		return -EINVAL;
	}
	mcast = x->props.family == AF_INET ?
		ipv4_is_multicast(x->id.daddr.a4) :
		ipv6_addr_is_multicast(&x->id.daddr.in6);
	if (mcast) {
		NL_SET_ERR_MSG_MOD(extack,
				   "implicit IV cannot serve a group (multicast) SA: its senders would repeat IVs (RFC 8750 section 7)");
		return -EINVAL;
	}
	if (x->props.extra_flags & XFRM_SA_XFLAG_OSEQ_MAY_WRAP) {
		NL_SET_ERR_MSG_MOD(extack,
				   "implicit IV forbids a sequence number that may wrap: the IV would repeat (RFC 8750 section 7)");
		return -EINVAL;
	}
	if (x->encap) {
		NL_SET_ERR_MSG_MOD(extack,
				   "implicit IV is not supported with UDP or TCP encapsulation");
		return -EOPNOTSUPP;
	}
	if (x->xso.type != XFRM_DEV_OFFLOAD_UNSPECIFIED) {
		NL_SET_ERR_MSG_MOD(extack,
				   "implicit IV is not supported with hardware offload");
		return -EOPNOTSUPP;
	}
	err = xtfs_iiv_init(&sa->iiv, alg, x->aead->alg_key,
			    x->aead->alg_key_len / 8,
			    x->props.flags & XFRM_STATE_ESN, extack);
	if (err)
		return err;
	if (x->dir == XFRM_SA_DIR_OUT) {
		err = xtfs_iiv_key_claim(x, sa, extack);
		if (err) {
			xtfs_iiv_destroy(&sa->iiv);
			return err;
		}
	}
	/* RFC 8750 section 4: the 8-octet IV is not on the wire. */
	x->props.header_len -= XTFS_IIV_LEN;
	atomic_inc(&xtfs_esp_sas);
	return 0;
}

/**
 * xtfs_esp_destroy() - release the implicit IV of a dying SA
 * @sa: the SA state
 */
void xtfs_esp_destroy(struct xtfs_sa *sa)
{
	if (!sa->iiv.tfm)
		return;
	xtfs_iiv_key_release(sa);
	xtfs_iiv_destroy(&sa->iiv);
	atomic_dec(&xtfs_esp_sas);
}

/**
 * xtfs_esp_next_seq() - take the next outbound sequence number
 * @sa: the SA's state, its SA's lock held
 * @seq: out, the 64-bit sequence number (high half 0 without ESN)
 *
 * What xfrm_replay_overflow() does for the kernel's ESP, which modules
 * cannot call: the counter lives in the SA, in whichever form its replay
 * mode keeps it, so "ip xfrm state" shows it. A counter that would cycle
 * is refused (RFC 4303 section 3.3.3): with implicit IV the IV would
 * repeat (RFC 8750 section 7), so xtfs_esp_bind() refused
 * XFRM_SA_XFLAG_OSEQ_MAY_WRAP. For the same reason the number is always
 * above @sa->iiv.tx_last: a replay state written lower since
 * (XFRM_MSG_NEWAE) is raised back, and the numbers skipped counted; and
 * an SA that holds no entry in the key table sends nothing.
 *
 * Return: 0 or -EOVERFLOW.
 */
static int xtfs_esp_next_seq(struct xtfs_sa *sa, u64 *seq)
{
	struct xfrm_state *x = sa->x;
	u64 max = x->repl_mode == XFRM_REPLAY_MODE_ESN ? U64_MAX : U32_MAX;
	u64 last = xtfs_esp_oseq(x);

	lockdep_assert_held(&x->lock);
	/* Only an SA that holds its key sends (xtfs_iiv_key_claim()). */
	if (unlikely(!sa->iiv.key))
		return -EOVERFLOW;
	if (last < sa->iiv.tx_last) {
		xtfs_inc(sa, XTFS_CNT_IIV_SEQ_SKIPPED, sa->iiv.tx_last - last);
		last = sa->iiv.tx_last;
	}
	if (last >= max)
		return -EOVERFLOW;
	*seq = last + 1;
	xtfs_esp_set_oseq(x, *seq);
	sa->iiv.tx_last = *seq;
	return 0;
}

/**
 * xtfs_esp_seal() - add the ESP header and trailer and seal the packet
 * @sa: the SA state
 * @skb: the outer packet: data at the ESP payload, network header at the
 *	outer IP header, transport header at the ESP header, mac header at
 *	the outer protocol field (xtfs_prepare_output())
 * @seq: its 64-bit sequence number
 *
 * RFC 4303 section 2 with RFC 8750 section 4: SPI, sequence number, then
 * straight the payload, padding to a multiple of four octets (monotonic
 * 1, 2, 3, ..., section 2.4), pad length, next header, ICV. On return the
 * data starts at the outer IP header.
 *
 * Return: 0 or a negative error.
 */
static int xtfs_esp_seal(struct xtfs_sa *sa, struct sk_buff *skb, u64 seq)
{
	struct xtfs_iiv *a = &sa->iiv;
	unsigned int blksize, plen, tailen, i;
	struct ip_esp_hdr *esph;
	struct sk_buff *trailer;
	u8 *tail, proto;
	int nfrags;

	blksize = ALIGN(crypto_aead_blocksize(a->tfm), 4);
	plen = ALIGN(skb->len + 2, blksize) - skb->len;
	tailen = plen + a->icv_len;
	nfrags = skb_cow_data(skb, tailen, &trailer);
	if (nfrags < 0)
		return nfrags;
	tail = pskb_put(skb, trailer, tailen);

	proto = *skb_mac_header(skb);
	*skb_mac_header(skb) = IPPROTO_ESP;
	for (i = 0; i < plen - 2; i++)
		tail[i] = i + 1;
	tail[plen - 2] = plen - 2;
	tail[plen - 1] = proto;

	skb_push(skb, -skb_transport_offset(skb));
	esph = ip_esp_hdr(skb);
	esph->spi = sa->x->id.spi;
	esph->seq_no = htonl(lower_32_bits(seq));
	skb_push(skb, -skb_network_offset(skb));
	return xtfs_iiv_crypt(a, skb, skb_transport_offset(skb),
			      skb->len - skb_transport_offset(skb), seq, true);
}

/**
 * xtfs_esp_room() - make room for the outer headers and trailer
 * @skb: the packet, dst the SA's bundle
 *
 * As xfrm_output_one() does before the outer header goes on: an outer
 * packet xtfs built has the room, an inner packet with the tunnel payload
 * may not.
 *
 * Return: 0 or -ENOMEM.
 */
static int xtfs_esp_room(struct sk_buff *skb)
{
	struct dst_entry *dst = skb_dst(skb);
	int nhead = dst->header_len + LL_RESERVED_SPACE(dst->dev) -
		    skb_headroom(skb);
	int ntail = dst->dev->needed_tailroom - skb_tailroom(skb);

	if (nhead <= 0 && ntail <= 0)
		return 0;
	return pskb_expand_head(skb, max(nhead, 0), max(ntail, 0), GFP_ATOMIC);
}

/**
 * xtfs_esp_output() - send one outer packet of an implicit-IV SA
 * @sa: the SA state
 * @skb: the ESP payload: an outer packet, data at the AGGFRAG header, or
 *	with the tunnel payload an inner packet, data at its IP header, not
 *	GSO, checksum complete; dst the SA's bundle
 *
 * Does for the packet what xfrm_output() and xfrm_output_one() do before
 * the type's output, in the same order and with the same MIB counters,
 * then seals it and resumes the core's output after the type, as the
 * kernel's ESP does when its crypto completes asynchronously: the rest of
 * the bundle, POST_ROUTING and dst_output(). Consumes @skb.
 */
void xtfs_esp_output(struct xtfs_sa *sa, struct sk_buff *skb)
{
	struct xfrm_state *x = sa->x;
	struct net *net = xs_net(x);
	u64 seq;
	int err;

	if (x->props.family == AF_INET) {
		memset(IPCB(skb), 0, sizeof(*IPCB(skb)));
		IPCB(skb)->flags |= IPSKB_XFRM_TRANSFORMED;
	} else {
		memset(IP6CB(skb), 0, sizeof(*IP6CB(skb)));
		IP6CB(skb)->flags |= IP6SKB_XFRM_TRANSFORMED;
	}
	secpath_reset(skb);
	if (xtfs_esp_room(skb)) {
		XFRM_INC_STATS(net, LINUX_MIB_XFRMOUTERROR);
		goto drop;
	}
	skb->mark = xfrm_smark_get(skb->mark, x);
	err = xtfs_prepare_output(x, skb);
	if (err) {
		XFRM_INC_STATS(net, LINUX_MIB_XFRMOUTSTATEMODEERROR);
		goto drop;
	}

	spin_lock_bh(&x->lock);
	if (unlikely(x->km.state != XFRM_STATE_VALID)) {
		XFRM_INC_STATS(net, LINUX_MIB_XFRMOUTSTATEINVALID);
		goto drop_unlock;
	}
	if (xfrm_state_check_expire(x)) {
		XFRM_INC_STATS(net, LINUX_MIB_XFRMOUTSTATEEXPIRED);
		goto drop_unlock;
	}
	if (xtfs_esp_next_seq(sa, &seq)) {
		xfrm_audit_state_replay_overflow(x, skb);
		XFRM_INC_STATS(net, LINUX_MIB_XFRMOUTSTATESEQERROR);
		goto drop_unlock;
	}
	x->curlft.bytes += skb->len;
	x->curlft.packets++;
	x->lastused = ktime_get_real_seconds();
	spin_unlock_bh(&x->lock);

	err = xtfs_esp_seal(sa, skb, seq);
	if (err) {
		XFRM_INC_STATS(net, LINUX_MIB_XFRMOUTSTATEPROTOERROR);
		goto drop;
	}
	xfrm_output_resume(NULL, skb, 0);
	return;

drop_unlock:
	spin_unlock_bh(&x->lock);
drop:
	kfree_skb(skb);
}

/**
 * xtfs_esp_open() - open one ESP packet of an implicit-IV SA
 * @sa: the SA state
 * @skb: the packet, data at the ESP header
 * @seq: its 64-bit sequence number
 *
 * Checks the ICV, then takes off the ESP header, the trailer and the ICV
 * as esp_input_done2() does: on success the data starts at the payload,
 * which is also the transport header.
 *
 * Return: the next header, -EBADMSG when the ICV does not verify, or
 * another negative error for a malformed packet.
 */
static int xtfs_esp_open(struct xtfs_sa *sa, struct sk_buff *skb, u64 seq)
{
	unsigned int hlen = sizeof(struct ip_esp_hdr), alen = sa->iiv.icv_len;
	u8 tail[2];
	int err;

	err = xtfs_iiv_crypt(&sa->iiv, skb, 0, skb->len, seq, false);
	if (err)
		return err;
	/* The checksum the device took was of the ciphertext. */
	skb->ip_summed = CHECKSUM_NONE;
	if (skb_copy_bits(skb, skb->len - alen - 2, tail, sizeof(tail)))
		return -EINVAL;
	/* RFC 4303 section 2.5: pad length, then next header. */
	if (hlen + tail[0] + 2 + alen >= skb->len)
		return -EINVAL;
	err = pskb_trim(skb, skb->len - alen - tail[0] - 2);
	if (err)
		return err;
	__skb_pull(skb, hlen);
	skb_reset_transport_header(skb);
	return tail[1];
}

/**
 * xtfs_esp_rcv() - take the ESP packets of implicit-IV SAs
 * @skb: an ESP packet, data at the ESP header
 * @family: AF_INET or AF_INET6
 *
 * Sets the packet up as xfrm_input() does before the type's input (secpath,
 * mark, sequence number with the high half of RFC 4303 Appendix A2.2),
 * checks the SA's state and lifetime, opens the packet and resumes
 * xfrm_input() after the type, which rechecks the replay window on the
 * full sequence number before advancing it. There is no check before
 * opening: replayed packets are opened, then dropped and counted there.
 * A packet whose ICV does not verify is dropped and counted as the
 * kernel's ESP does (no second try with another high half).
 *
 * Return: 0 when the packet was consumed, -EINVAL to hand it unchanged to
 * the next ESP handler (it is not for an implicit-IV SA of xtfs).
 */
static int xtfs_esp_rcv(struct sk_buff *skb, unsigned short family)
{
	struct net *net = dev_net(skb->dev);
	const struct ip_esp_hdr *esph;
	struct ip_esp_hdr esph_buf;
	xfrm_address_t *daddr;
	struct xfrm_state *x;
	struct sec_path *sp;
	struct xtfs_sa *sa;
	int nexthdr;
	u64 seq;

	if (!atomic_read(&xtfs_esp_sas))
		return -EINVAL;
	esph = skb_header_pointer(skb, 0, sizeof(esph_buf), &esph_buf);
	if (!esph)
		return -EINVAL;
	daddr = family == AF_INET ?
		(xfrm_address_t *)&ip_hdr(skb)->daddr :
		(xfrm_address_t *)&ipv6_hdr(skb)->daddr;
	x = xfrm_input_state_lookup(net, skb->mark, daddr, esph->spi,
				    IPPROTO_ESP, family);
	if (!x)
		return -EINVAL;
	sa = xtfs_state_sa(x);
	if (!sa || !sa->iiv.tfm || x->dir != XFRM_SA_DIR_IN) {
		xfrm_state_put(x);
		return -EINVAL;
	}

	sp = secpath_set(skb);
	if (!sp) {
		XFRM_INC_STATS(net, LINUX_MIB_XFRMINERROR);
		xfrm_state_put(x);
		goto drop;
	}
	if (sp->len == XFRM_MAX_DEPTH) {
		XFRM_INC_STATS(net, LINUX_MIB_XFRMINBUFFERERROR);
		xfrm_state_put(x);
		goto drop;
	}
	/* From here the secpath holds the reference on x. */
	sp->xvec[sp->len++] = x;
	skb->mark = xfrm_smark_get(skb->mark, x);
	skb_dst_force(skb);
	if (!skb_dst(skb)) {
		XFRM_INC_STATS(net, LINUX_MIB_XFRMINERROR);
		goto drop;
	}

	spin_lock(&x->lock);
	/* The high half from the replay state, read under the lock that
	 * writers of that state hold: a torn read would pick the wrong half
	 * and fail the ICV.
	 */
	XFRM_SKB_CB(skb)->seq.input.low = esph->seq_no;
	XFRM_SKB_CB(skb)->seq.input.hi =
		htonl(xfrm_replay_seqhi(x, esph->seq_no));
	seq = ntohl(esph->seq_no);
	if (sa->iiv.esn)
		seq |= (u64)ntohl(XFRM_SKB_CB(skb)->seq.input.hi) << 32;
	if (unlikely(x->km.state != XFRM_STATE_VALID)) {
		XFRM_INC_STATS(net, LINUX_MIB_XFRMINSTATEINVALID);
		goto drop_unlock;
	}
	if (xfrm_state_check_expire(x)) {
		XFRM_INC_STATS(net, LINUX_MIB_XFRMINSTATEEXPIRED);
		goto drop_unlock;
	}
	spin_unlock(&x->lock);

	nexthdr = xtfs_esp_open(sa, skb, seq);
	if (nexthdr < 0) {
		spin_lock(&x->lock);
		if (nexthdr == -EBADMSG) {
			xfrm_audit_state_icvfail(x, skb, IPPROTO_ESP);
			x->stats.integrity_failed++;
		}
		XFRM_INC_STATS(net, LINUX_MIB_XFRMINSTATEPROTOERROR);
		goto drop_unlock;
	}
	/* Resumed as after asynchronous crypto, which drops this reference. */
	dev_hold(skb->dev);
	xfrm_input_resume(skb, nexthdr);
	return 0;

drop_unlock:
	spin_unlock(&x->lock);
drop:
	kfree_skb(skb);
	return 0;
}

/**
 * xtfs_esp4_rcv() - IPv4 ESP handler (xfrm4_protocol::handler)
 * @skb: the packet
 *
 * Return: see xtfs_esp_rcv().
 */
static int xtfs_esp4_rcv(struct sk_buff *skb)
{
	return xtfs_esp_rcv(skb, AF_INET);
}

/**
 * xtfs_esp6_rcv() - IPv6 ESP handler (xfrm6_protocol::handler)
 * @skb: the packet
 *
 * Return: see xtfs_esp_rcv().
 */
static int xtfs_esp6_rcv(struct sk_buff *skb)
{
	return xtfs_esp_rcv(skb, AF_INET6);
}

/**
 * xtfs_esp_input_handler() - UDP-encapsulated ESP: never ours
 * @skb: the packet
 * @nexthdr: its protocol
 * @spi: its SPI
 * @encap_type: the encapsulation
 *
 * xtfs_esp_bind() refuses implicit IV with encapsulation.
 *
 * Return: -EINVAL, the next handler takes it.
 */
static int xtfs_esp_input_handler(struct sk_buff *skb, int nexthdr,
				  __be32 spi, int encap_type)
{
	return -EINVAL;
}

/**
 * xtfs_esp_cb_handler() - after xfrm_input(): nothing to do
 * @skb: the packet
 * @err: its status
 *
 * Return: 1, the next handler's callback runs.
 */
static int xtfs_esp_cb_handler(struct sk_buff *skb, int err)
{
	return 1;
}

/**
 * xtfs_esp4_err() - ICMP errors: the kernel's ESP handles them for all SAs
 * @skb: the ICMP payload
 * @info: ICMP info
 *
 * esp4_err() looks the SA up by SPI and updates the path MTU; the
 * implicit IV changes nothing there.
 *
 * Return: -ENOENT, the next handler takes it.
 */
static int xtfs_esp4_err(struct sk_buff *skb, u32 info)
{
	return -ENOENT;
}

/**
 * xtfs_esp6_err() - ICMPv6 errors: the kernel's ESP handles them for all SAs
 * @skb: the ICMPv6 payload
 * @opt: IPv6 options
 * @type: ICMPv6 type
 * @code: ICMPv6 code
 * @offset: offset of the ESP header
 * @info: ICMPv6 info
 *
 * Return: -ENOENT, the next handler takes it.
 */
static int xtfs_esp6_err(struct sk_buff *skb, struct inet6_skb_parm *opt,
			 u8 type, u8 code, int offset, __be32 info)
{
	return -ENOENT;
}

static struct xfrm4_protocol xtfs_esp4_protocol __read_mostly = {
	.handler	= xtfs_esp4_rcv,
	.input_handler	= xtfs_esp_input_handler,
	.cb_handler	= xtfs_esp_cb_handler,
	.err_handler	= xtfs_esp4_err,
	.priority	= XTFS_ESP_PRIORITY,
};

static struct xfrm6_protocol xtfs_esp6_protocol __read_mostly = {
	.handler	= xtfs_esp6_rcv,
	.input_handler	= xtfs_esp_input_handler,
	.cb_handler	= xtfs_esp_cb_handler,
	.err_handler	= xtfs_esp6_err,
	.priority	= XTFS_ESP_PRIORITY,
};

/**
 * xtfs_esp_init() - register the receive handlers for IPv4 and IPv6 ESP
 *
 * Return: 0 or a negative error.
 */
int __init xtfs_esp_init(void)
{
	int err;

	get_random_bytes(&xtfs_iiv_hash_key, sizeof(xtfs_iiv_hash_key));
	err = xfrm4_protocol_register(&xtfs_esp4_protocol, IPPROTO_ESP);
	if (err)
		return err;
	err = xfrm6_protocol_register(&xtfs_esp6_protocol, IPPROTO_ESP);
	if (err)
		xfrm4_protocol_deregister(&xtfs_esp4_protocol, IPPROTO_ESP);
	return err;
}

/**
 * xtfs_esp_exit() - remove the receive handlers
 *
 * Deregistration waits for handlers running on other CPUs. The keys
 * remembered are forgotten: a new load starts with none.
 */
void xtfs_esp_exit(void)
{
	struct xtfs_iiv_key *k, *tmp;

	xfrm6_protocol_deregister(&xtfs_esp6_protocol, IPPROTO_ESP);
	xfrm4_protocol_deregister(&xtfs_esp4_protocol, IPPROTO_ESP);
	/* No SA is left (each holds a module reference): all are retired. */
	list_for_each_entry_safe(k, tmp, &xtfs_iiv_retired, lru) {
		hash_del(&k->node);
		kfree(k);
	}
	xtfs_iiv_nretired = 0;
}
