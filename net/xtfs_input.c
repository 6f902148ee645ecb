// SPDX-License-Identifier: GPL-2.0
/*
 * xtfs receive path: put decrypted AGGFRAG payloads back in sequence order
 * (RFC 9347 section 2.2.3), parse their data blocks, reassemble inner
 * packets split across payloads and hand them to the stack (RFC 9347
 * section 2.5). An SA with the tunnel payload hands on the one inner
 * packet of each ESP packet, as tunnel mode does.
 *
 * Every length and offset here comes from the wire. The parser reads
 * through skb_header_pointer()/skb_copy_bits() only, so any skb shape
 * (linear, paged, frag list) is handled, and copies each inner packet into
 * a new skb of its own: nothing is shared with the outer packet. An outer
 * packet that carries one whole inner packet and nothing else becomes that
 * inner packet instead (xtfs_reasm_whole()).
 */
#include <linux/netdevice.h>
#include <linux/skbuff.h>
#include <net/inet_ecn.h>
#include <net/ip.h>
#include <net/ipv6.h>
#include <net/xfrm.h>
#include <kunit/visibility.h>

#include "xtfs.h"
#include "xtfs_aggfrag.h"

/* Headroom given to reassembled inner packets for the next link header. */
#define XTFS_INNER_HEADROOM	LL_MAX_HEADER

/**
 * xtfs_reasm_clear() - the parser holds no inner packet in progress
 * @r: parser state; @r->partial is not freed (it was handed on or freed)
 */
static void xtfs_reasm_clear(struct xtfs_reasm *r)
{
	r->partial = NULL;
	r->have = 0;
	r->need = 0;
}

/**
 * xtfs_reasm_drop() - give up on the inner packet being reassembled
 * @sa: the SA state (for counters)
 * @r: parser state
 * @c: counter to charge
 */
static void xtfs_reasm_drop(struct xtfs_sa *sa, struct xtfs_reasm *r,
			    enum xtfs_counter c)
{
	if (r->have)
		xtfs_inc(sa, c, 1);
	kfree_skb(r->partial);
	xtfs_reasm_clear(r);
}

/**
 * xtfs_reasm_reset() - forget any partial inner packet (lost outer packet)
 * @sa: the SA state
 * @r: parser state
 *
 * RFC 9347 section 2.5: fragments join only across consecutive sequence
 * numbers, so a loss ends the packet being reassembled.
 */
void xtfs_reasm_reset(struct xtfs_sa *sa, struct xtfs_reasm *r)
{
	xtfs_reasm_drop(sa, r, XTFS_CNT_DROP_PARTIAL);
}
EXPORT_SYMBOL_IF_KUNIT(xtfs_reasm_reset);

/**
 * xtfs_reasm_emit() - finish a complete inner packet and queue it
 * @sa: the SA state
 * @inner: the inner packet, exactly one IP packet long
 * @outer: the outer packet that completed it
 * @out: where complete inner packets go
 *
 * The inner packet takes a reference on @outer's device, which
 * xtfs_deliver() drops.
 */
static void xtfs_reasm_emit(struct xtfs_sa *sa, struct sk_buff *inner,
			    struct sk_buff *outer, struct sk_buff_head *out)
{
	skb_reset_network_header(inner);
	skb_reset_transport_header(inner);
	skb_reset_mac_header(inner);
	inner->protocol = (inner->data[0] >> 4) == XTFS_BLOCK_IPV4 ?
			  htons(ETH_P_IP) : htons(ETH_P_IPV6);
	/* Delivery may come after the outer packet's hold on its device is
	 * gone (held packets, the drop timer): the inner packet pins it until
	 * xtfs_deliver() has handed it on.
	 */
	inner->dev = outer->dev;
	dev_hold(inner->dev);
	inner->mark = outer->mark;
	inner->ip_summed = CHECKSUM_NONE;
	inner->pkt_type = PACKET_HOST;
	/* The secpath names the SA, as policy checks on delivery expect. */
	skb_ext_copy(inner, outer);
	__skb_queue_tail(out, inner);
}

/**
 * xtfs_new_inner() - allocate an skb for an inner packet of @len octets
 * @len: inner packet length
 *
 * Return: the skb with @len octets of tailroom, or NULL.
 */
static struct sk_buff *xtfs_new_inner(u32 len)
{
	struct sk_buff *skb = alloc_skb(XTFS_INNER_HEADROOM + len, GFP_ATOMIC);

	if (skb)
		skb_reserve(skb, XTFS_INNER_HEADROOM);
	return skb;
}

/**
 * xtfs_reasm_feed() - add octets to the inner packet being reassembled
 * @sa: the SA state
 * @r: parser state; a block is in progress (@r->have > 0)
 * @skb: outer packet
 * @pos: offset of the octets in @skb
 * @n: number of octets, at most what the block still needs
 * @rem: octets of the block that the payload's block offset says remain
 *	from @pos on, or 0 when unknown
 *
 * While the block's length field is incomplete the octets collect in
 * @r->hdr; once it is known the inner skb is allocated at its full size.
 *
 * Return: 0, -EINVAL for a length that is invalid or contradicts the
 * block offset, -ENOMEM.
 */
static int xtfs_reasm_feed(struct xtfs_sa *sa, struct xtfs_reasm *r,
			   struct sk_buff *skb, u32 pos, u32 n, u32 rem)
{
	int len;

	if (!r->need) {
		u32 h = min_t(u32, n, sizeof(r->hdr) - r->have);

		if (skb_copy_bits(skb, pos, r->hdr + r->have, h))
			return -EINVAL;
		len = xtfs_block_len(r->hdr, r->have + h);
		if (len < 0)
			return -EINVAL;
		if (!len) {
			r->have += h;
			return 0;
		}
		/* RFC 9347 2.2.3: the length must agree with the offset. */
		if (rem && len != r->have + rem)
			return -EINVAL;
		if (len < r->have + n)
			return -EINVAL;
		r->partial = xtfs_new_inner(len);
		if (!r->partial)
			return -ENOMEM;
		skb_put_data(r->partial, r->hdr, r->have);
		r->need = len;
	}
	if (skb_copy_bits(skb, pos, skb_put(r->partial, n), n))
		return -EINVAL;
	r->have += n;
	return 0;
}

/**
 * xtfs_reasm_block() - parse one data block starting at @pos
 * @sa: the SA state
 * @r: parser state, no block in progress
 * @skb: outer packet
 * @pos: offset of the block
 * @end: end of the data blocks in @skb
 * @out: where complete inner packets go
 *
 * Return: octets consumed, or 0 to stop parsing this payload (pad block or
 * a malformed block, whose extent is unknown).
 */
static u32 xtfs_reasm_block(struct xtfs_sa *sa, struct xtfs_reasm *r,
			    struct sk_buff *skb, u32 pos, u32 end,
			    struct sk_buff_head *out)
{
	u32 avail = end - pos;
	struct sk_buff *inner;
	u8 hdr[XTFS_IPV6_LEN_NEED];
	int len;

	if (skb_copy_bits(skb, pos, hdr, min_t(u32, avail, sizeof(hdr))))
		goto bad;
	/* RFC 9347 6.1.3.3: a pad block extends to the end of the payload. */
	if ((hdr[0] >> 4) == XTFS_BLOCK_PAD)
		return 0;
	len = xtfs_block_len(hdr, min_t(u32, avail, sizeof(hdr)));
	if (len < 0)
		goto bad;
	if (!len || len > avail) {
		/* The block continues in the next payload. */
		r->have = 0;
		r->need = 0;
		if (len) {
			r->partial = xtfs_new_inner(len);
			if (!r->partial) {
				xtfs_inc(sa, XTFS_CNT_DROP_NOMEM, 1);
				return 0;
			}
			r->need = len;
			if (skb_copy_bits(skb, pos, skb_put(r->partial, avail),
					  avail))
				goto bad_partial;
		} else {
			memcpy(r->hdr, hdr, avail);
		}
		r->have = avail;
		return avail;
	}
	inner = xtfs_new_inner(len);
	if (!inner) {
		xtfs_inc(sa, XTFS_CNT_DROP_NOMEM, 1);
		return len;
	}
	if (skb_copy_bits(skb, pos, skb_put(inner, len), len)) {
		kfree_skb(inner);
		goto bad;
	}
	xtfs_reasm_emit(sa, inner, skb, out);
	return len;

bad_partial:
	/* Nothing is held yet (@r->have is 0): counted once, below. */
	xtfs_reasm_drop(sa, r, XTFS_CNT_DROP_BAD_BLOCK);
bad:
	xtfs_inc(sa, XTFS_CNT_DROP_BAD_BLOCK, 1);
	return 0;
}

/**
 * xtfs_all_pad() - is the data block area empty or a single pad block?
 * @skb: outer packet
 * @pos: start of the data blocks
 * @end: end of the data blocks
 *
 * Return: true for an all-pad or empty payload (RFC 9347 2.2.3, 2.2.4).
 */
static bool xtfs_all_pad(const struct sk_buff *skb, u32 pos, u32 end)
{
	u8 b;

	if (pos >= end)
		return true;
	return !skb_copy_bits(skb, pos, &b, 1) && (b >> 4) == XTFS_BLOCK_PAD;
}

/**
 * xtfs_reasm_payload() - parse one AGGFRAG payload, in sequence order
 * @sa: the SA state (for counters)
 * @r: parser state
 * @skb: the payload (data at the AGGFRAG header, @skb->len its length);
 *	not consumed
 * @out: complete inner packets are appended here
 *
 * RFC 9347 sections 2.2 and 6.1: the block offset says where the first new
 * data block starts; the octets before it finish the packet in progress.
 * Without a packet in progress (start, loss, malformed data) those octets
 * are skipped: the block offset is how the receiver regains sync.
 */
VISIBLE_IF_KUNIT void xtfs_reasm_payload(struct xtfs_sa *sa,
					 struct xtfs_reasm *r,
					 struct sk_buff *skb,
					 struct sk_buff_head *out)
{
	struct xtfs_aggfrag_hdr hbuf;
	const struct xtfs_aggfrag_hdr *h;
	u32 pos, end = skb->len, blkoff, n;
	int err;

	h = skb_header_pointer(skb, 0, sizeof(hbuf), &hbuf);
	if (!h)
		goto bad_hdr;
	switch (h->subtype) {
	case XTFS_SUBTYPE_BASIC:
		pos = sizeof(struct xtfs_aggfrag_hdr);
		break;
	case XTFS_SUBTYPE_CC:
		/* Its congestion information was taken on arrival
		 * (xtfs_aggfrag_input()); its flags do not matter here.
		 */
		pos = sizeof(struct xtfs_aggfrag_cc_hdr);
		if (end < pos)
			goto bad_hdr;
		break;
	default:
		goto bad_hdr;
	}
	blkoff = ntohs(h->block_offset);

	if (r->have && !blkoff && xtfs_all_pad(skb, pos, end))
		return;	/* RFC 9347 2.2.3: all-pad payloads may come between fragments */
	if (r->have) {
		u32 rem = r->need ? r->need - r->have : blkoff;

		if (!blkoff || (r->need && blkoff != rem)) {
			xtfs_reasm_drop(sa, r, XTFS_CNT_DROP_BAD_BLOCK);
		} else {
			n = min(rem, end - pos);
			err = xtfs_reasm_feed(sa, r, skb, pos, n,
					      r->need ? 0 : blkoff);
			/* The offset ended the block before its length did. */
			if (!err && !r->need && n == blkoff)
				err = -EINVAL;
			if (err) {
				xtfs_reasm_drop(sa, r, err == -ENOMEM ?
						XTFS_CNT_DROP_NOMEM :
						XTFS_CNT_DROP_BAD_BLOCK);
			} else if (r->need && r->have == r->need) {
				xtfs_inc(sa, XTFS_CNT_REASSEMBLED, 1);
				xtfs_reasm_emit(sa, r->partial, skb, out);
				xtfs_reasm_clear(r);
			}
		}
	}
	/* Not finishing a block: new blocks start at the block offset. */
	if (!r->have) {
		if (blkoff >= end - pos)
			return;
		pos += blkoff;
	} else {
		return;
	}

	while (pos < end) {
		n = xtfs_reasm_block(sa, r, skb, pos, end, out);
		if (!n)
			break;
		pos += n;
	}
	return;

bad_hdr:
	xtfs_inc(sa, XTFS_CNT_DROP_BAD_HDR, 1);
	xtfs_reasm_reset(sa, r);
}
EXPORT_SYMBOL_IF_KUNIT(xtfs_reasm_payload);

/**
 * xtfs_reasm_whole() - hand on a payload that is one whole inner packet
 * @sa: the SA state (for counters)
 * @r: parser state
 * @skb: the payload (data at the AGGFRAG header), in sequence order
 * @out: where the inner packet goes
 *
 * The common case of large inner packets, each alone in its outer packet
 * (the sender's policy in xtfs_fill_payload()): no packet in progress,
 * block offset 0 and one data block, an IP packet, followed by nothing or
 * a pad block (RFC 9347 sections 2.2.3, 6.1.3.3). The outer packet itself
 * becomes the inner packet, as in tunnel mode: the ESP input decrypted it
 * in place in data of its own (skb_cow_data()), so nothing is shared with
 * another skb, and nothing is allocated or copied.
 *
 * Return: true when @skb was consumed (queued on @out, or dropped and
 * counted), false when the payload is not of this form and is untouched.
 */
static bool xtfs_reasm_whole(struct xtfs_sa *sa, struct xtfs_reasm *r,
			     struct sk_buff *skb, struct sk_buff_head *out)
{
	struct xtfs_aggfrag_hdr hbuf;
	const struct xtfs_aggfrag_hdr *h;
	u32 pos, end = skb->len;
	u8 b[XTFS_IPV6_LEN_NEED];
	int len;

	if (r->have)
		return false;
	h = skb_header_pointer(skb, 0, sizeof(hbuf), &hbuf);
	if (!h || h->block_offset)
		return false;
	if (h->subtype == XTFS_SUBTYPE_BASIC)
		pos = sizeof(struct xtfs_aggfrag_hdr);
	else if (h->subtype == XTFS_SUBTYPE_CC)
		pos = sizeof(struct xtfs_aggfrag_cc_hdr);
	else
		return false;
	if (end < pos + sizeof(b) || skb_copy_bits(skb, pos, b, sizeof(b)))
		return false;
	len = xtfs_block_len(b, sizeof(b));
	if (len <= 0 || len > end - pos ||
	    (pos + len < end && !xtfs_all_pad(skb, pos + len, end)))
		return false;

	if (pskb_trim(skb, pos + len) || !pskb_may_pull(skb, pos + sizeof(b))) {
		xtfs_inc(sa, XTFS_CNT_DROP_NOMEM, 1);
		kfree_skb(skb);
		return true;
	}
	__skb_pull(skb, pos);
	skb_reset_network_header(skb);
	skb_reset_transport_header(skb);
	skb_reset_mac_header(skb);
	skb->mac_len = 0;
	skb->protocol = (b[0] >> 4) == XTFS_BLOCK_IPV4 ? htons(ETH_P_IP) :
							 htons(ETH_P_IPV6);
	/* The reference xtfs_deliver() drops, as xtfs_reasm_emit() takes. */
	dev_hold(skb->dev);
	skb->ip_summed = CHECKSUM_NONE;
	skb->pkt_type = PACKET_HOST;
	__skb_queue_tail(out, skb);
	return true;
}

/**
 * xtfs_rx_process() - parse an in-order outer packet and free it
 * @sa: the SA state, @sa->rlock held
 * @skb: the outer packet
 * @out: complete inner packets are appended here
 *
 * A payload that is one whole inner packet becomes that packet
 * (xtfs_reasm_whole()); others are parsed and their inner packets copied
 * out. An empty one (&xtfs_rx_cb.empty) leaves the packet in progress as
 * it is, as an all-pad payload does (RFC 9347 section 2.2.3).
 */
static void xtfs_rx_process(struct xtfs_sa *sa, struct sk_buff *skb,
			    struct sk_buff_head *out)
{
	if (!XTFS_RX_CB(skb)->empty) {
		if (xtfs_reasm_whole(sa, &sa->reasm, skb, out))
			return;
		xtfs_reasm_payload(sa, &sa->reasm, skb, out);
	}
	consume_skb(skb);
}

/**
 * xtfs_rx_lost() - account outer packets given up as lost
 * @sa: the SA state, @sa->rlock held
 * @n: how many sequence numbers, from @sa->rx_next on
 */
static void xtfs_rx_lost(struct xtfs_sa *sa, u64 n)
{
	xtfs_inc(sa, XTFS_CNT_LOST, n);
	xtfs_reasm_reset(sa, &sa->reasm);
	/* The run starts at @sa->rx_next: a loss for the loss event rate. */
	if (sa->ccr.seen)
		xtfs_cc_rx_lost(sa, sa->rx_next, ktime_get_ns());
}

/**
 * xtfs_slot() - reorder window slot of a sequence number
 * @sa: the SA state
 * @seq: sequence number
 *
 * The window has one slot more than its size, so that the next expected
 * sequence number and every one that may be held map to distinct slots.
 *
 * Return: @seq modulo (window size + 1).
 */
static u32 xtfs_slot(const struct xtfs_sa *sa, u64 seq)
{
	return do_div(seq, sa->cfg.reorder_win + 1);
}

/**
 * xtfs_rx_peek() - the outer packet held for sequence number @seq
 * @sa: the SA state, @sa->rlock held
 * @seq: sequence number
 *
 * Return: the packet, or NULL when none is held for @seq.
 */
static struct sk_buff *xtfs_rx_peek(const struct xtfs_sa *sa, u64 seq)
{
	struct sk_buff *skb = sa->rx_win[xtfs_slot(sa, seq)];

	return skb && XTFS_RX_CB(skb)->seq == seq ? skb : NULL;
}

/**
 * xtfs_rx_bytes() - octets the receive side holds
 * @sa: the SA state, @sa->rlock held
 *
 * Return: the truesize of the packets held in the reorder window and of
 * the inner packet being reassembled.
 */
static u32 xtfs_rx_bytes(const struct xtfs_sa *sa)
{
	return sa->rx_bytes +
	       (sa->reasm.partial ? sa->reasm.partial->truesize : 0);
}

/**
 * xtfs_rx_note_peak() - record the most octets the receive side has held
 * @sa: the SA state, @sa->rlock held (which serialises the updates)
 */
static void xtfs_rx_note_peak(struct xtfs_sa *sa)
{
	u64 held = xtfs_rx_bytes(sa);

	if (held > atomic64_read(&sa->cnt[XTFS_CNT_HELD_PEAK]))
		atomic64_set(&sa->cnt[XTFS_CNT_HELD_PEAK], held);
}

/**
 * xtfs_rx_unpin() - let go of what a packet to be held refers to
 * @sa: the SA state
 * @skb: outer packet about to wait in the reorder window, dst dropped
 *
 * A held packet may wait for the drop time. Meanwhile it must not keep
 * its conntrack entry, socket or device, nor the SA itself: the secpath
 * entry for @sa->x is taken out (secpath_set() unshares the secpath
 * first), so that deleting the SA frees what it holds rather than the
 * held packets keeping the SA alive. The device is remembered by index
 * and looked up again by xtfs_rx_repin(). When the secpath cannot be
 * unshared (no memory) its reference stays, until the drop time at most.
 */
static void xtfs_rx_unpin(struct xtfs_sa *sa, struct sk_buff *skb)
{
	struct xtfs_rx_cb *cb = XTFS_RX_CB(skb);
	struct sec_path *sp;

	nf_reset_ct(skb);
	skb_orphan(skb);
	cb->iif = skb->dev ? skb->dev->ifindex : 0;
	skb->dev = NULL;
	cb->sa_ref = false;
	if (!sa->x || !skb_sec_path(skb))
		return;
	sp = secpath_set(skb);
	if (sp && sp->len && sp->xvec[sp->len - 1] == sa->x) {
		sp->len--;
		/* Not the last reference: xtfs_input() holds one. */
		xfrm_state_put(sa->x);
		cb->sa_ref = true;
	}
}

/**
 * xtfs_rx_repin() - give a packet taken from the window back what
 *	xtfs_rx_unpin() took
 * @sa: the SA state, @sa->x alive (the caller holds a reference)
 * @skb: the packet
 *
 * The secpath names the SA again and the packet takes a reference on its
 * device, which xtfs_rx_process_held() drops; a device that is gone leaves
 * the packet without one (xtfs_deliver() then drops its inner packets).
 */
static void xtfs_rx_repin(struct xtfs_sa *sa, struct sk_buff *skb)
{
	struct xtfs_rx_cb *cb = XTFS_RX_CB(skb);
	struct sec_path *sp = skb_sec_path(skb);

	if (cb->sa_ref) {
		xfrm_state_hold(sa->x);
		sp->xvec[sp->len++] = sa->x;
	}
	if (cb->iif) {
		rcu_read_lock();
		skb->dev = dev_get_by_index_rcu(xs_net(sa->x), cb->iif);
		dev_hold(skb->dev);
		rcu_read_unlock();
	}
}

/**
 * xtfs_rx_take() - remove the outer packet held for sequence number @seq
 * @sa: the SA state, @sa->rlock held
 * @seq: sequence number
 *
 * Return: the packet, or NULL when none is held for @seq.
 */
static struct sk_buff *xtfs_rx_take(struct xtfs_sa *sa, u64 seq)
{
	struct sk_buff *skb = xtfs_rx_peek(sa, seq);

	if (!skb)
		return NULL;
	sa->rx_win[xtfs_slot(sa, seq)] = NULL;
	sa->rx_held--;
	sa->rx_bytes -= XTFS_RX_CB(skb)->truesize;
	xtfs_rx_repin(sa, skb);
	return skb;
}

/**
 * xtfs_rx_process_held() - parse an outer packet taken from the window
 * @sa: the SA state, @sa->rlock held
 * @skb: the packet, from xtfs_rx_take(); freed
 * @out: complete inner packets are appended here
 *
 * The reference xtfs_rx_repin() took on the packet's device ends only
 * after parsing: the inner packets take their own from it.
 */
static void xtfs_rx_process_held(struct xtfs_sa *sa, struct sk_buff *skb,
				 struct sk_buff_head *out)
{
	struct net_device *dev = skb->dev;

	xtfs_rx_process(sa, skb, out);
	dev_put(dev);
}

/**
 * xtfs_rx_drain() - process held packets that are now in sequence
 * @sa: the SA state, @sa->rlock held
 * @out: complete inner packets are appended here
 */
static void xtfs_rx_drain(struct xtfs_sa *sa, struct sk_buff_head *out)
{
	struct sk_buff *skb;

	while (sa->rx_held && (skb = xtfs_rx_take(sa, sa->rx_next))) {
		xtfs_rx_process_held(sa, skb, out);
		sa->rx_next++;
	}
}

/**
 * xtfs_rx_advance() - move the window start to @target
 * @sa: the SA state, @sa->rlock held
 * @target: new value of @sa->rx_next
 * @out: complete inner packets are appended here
 *
 * Sequence numbers passed over are processed when held, else lost.
 */
static void xtfs_rx_advance(struct xtfs_sa *sa, u64 target,
			    struct sk_buff_head *out)
{
	struct sk_buff *skb;

	while (sa->rx_next < target) {
		if (!sa->rx_held) {
			xtfs_rx_lost(sa, target - sa->rx_next);
			sa->rx_next = target;
			return;
		}
		skb = xtfs_rx_take(sa, sa->rx_next);
		if (skb)
			xtfs_rx_process_held(sa, skb, out);
		else
			xtfs_rx_lost(sa, 1);
		sa->rx_next++;
	}
}

/**
 * xtfs_rx_gap_since() - when the gap below a newly held packet was seen
 * @sa: the SA state, @sa->rlock held, @sa->rx_held > 0
 * @seq: sequence number of the packet being held, below @sa->rx_high
 *
 * A missing packet is known missing from the first arrival of any packet
 * after it, so the gap below @seq dates from the next packet held above.
 *
 * Return: the &xtfs_rx_cb.since of the next held packet above @seq.
 */
static ktime_t xtfs_rx_gap_since(const struct xtfs_sa *sa, u64 seq)
{
	struct sk_buff *skb;

	/* @sa->rx_high is held and within the window: the walk ends. */
	while (!(skb = xtfs_rx_peek(sa, ++seq)))
		;
	return XTFS_RX_CB(skb)->since;
}

/**
 * xtfs_rx_make_room() - keep the octets held within %XTFS_MAX_HELD_BYTES
 * @sa: the SA state, @sa->rlock held
 * @seq: sequence number of a packet to be held, above @sa->rx_next and
 *	not held yet
 * @size: its truesize
 * @out: complete inner packets are appended here
 *
 * While holding the packet would take the octets held (window and the
 * inner packet being reassembled) past the bound, the oldest gap is given
 * up on before its drop time, as if that time had passed: its sequence
 * numbers are lost and the held packets after it are processed in order.
 * RFC 9347 section 2.2.3 leaves when to declare a packet lost to the
 * receiver; this way every packet received is still used, and only a
 * packet that arrives after its gap was given up on is lost (dropped as
 * old). When no held packet is below @seq, the gap given up on is the one
 * just below @seq, which then comes in order and is not held at all.
 */
static void xtfs_rx_make_room(struct xtfs_sa *sa, u64 seq, u32 size,
			      struct sk_buff_head *out)
{
	u64 target;

	while (seq > sa->rx_next &&
	       (u64)xtfs_rx_bytes(sa) + size > XTFS_MAX_HELD_BYTES) {
		target = sa->rx_next + 1;
		while (target < seq && !xtfs_rx_peek(sa, target))
			target++;
		xtfs_inc(sa, XTFS_CNT_HELD_LIMIT, 1);
		xtfs_rx_advance(sa, target, out);
		xtfs_rx_drain(sa, out);
	}
}

/**
 * xtfs_rx_seq() - reorder window (RFC 9347 section 2.2.3)
 * @sa: the SA state, @sa->rlock held
 * @skb: outer packet, consumed
 * @seq: its sequence number
 * @now: arrival time, for the drop timer
 * @out: complete inner packets are appended here
 *
 * Payloads are parsed strictly in sequence order. A packet ahead of the
 * next expected one waits in the window; a packet beyond the window moves
 * the window, giving up on what it passes; older packets and duplicates
 * are dropped. Each gap is given up on when the drop time has passed since
 * it was first seen (see xtfs_rx_expire()), or earlier when holding the
 * packet would take the octets held past %XTFS_MAX_HELD_BYTES
 * (xtfs_rx_make_room()).
 */
VISIBLE_IF_KUNIT void xtfs_rx_seq(struct xtfs_sa *sa, struct sk_buff *skb,
				  u64 seq, ktime_t now,
				  struct sk_buff_head *out)
{
	u32 win = sa->cfg.reorder_win;
	u32 slot;

	if (!sa->rx_started) {
		WRITE_ONCE(sa->rx_started, true);
		/* ESP sequence numbers start at 1 (RFC 4303 section 3.3.3):
		 * when the window reaches back that far, packets sent before
		 * this one may still come and are waited for.
		 */
		sa->rx_next = seq <= (u64)win + 1 ? 1 : seq;
	}
	if (seq > sa->rx_next && seq - sa->rx_next > win) {
		xtfs_rx_advance(sa, seq - win, out);
		xtfs_rx_drain(sa, out);
	}
	slot = xtfs_slot(sa, seq);
	if (seq < sa->rx_next || (seq > sa->rx_next && sa->rx_win[slot])) {
		/* Older than the window, or a duplicate of a held packet. */
		xtfs_inc(sa, XTFS_CNT_DROP_OLD, 1);
		kfree_skb(skb);
		return;
	}
	if (seq > sa->rx_next)
		xtfs_rx_make_room(sa, seq, skb->truesize, out);
	if (seq == sa->rx_next) {
		xtfs_rx_process(sa, skb, out);
		sa->rx_next++;
		xtfs_rx_drain(sa, out);
		xtfs_rx_note_peak(sa);
		return;
	}

	XTFS_RX_CB(skb)->seq = seq;
	if (!sa->rx_held || seq > sa->rx_high) {
		XTFS_RX_CB(skb)->since = now;
		sa->rx_high = seq;
	} else {
		XTFS_RX_CB(skb)->since = xtfs_rx_gap_since(sa, seq);
	}
	XTFS_RX_CB(skb)->truesize = skb->truesize;
	xtfs_rx_unpin(sa, skb);
	sa->rx_win[slot] = skb;
	sa->rx_bytes += XTFS_RX_CB(skb)->truesize;
	xtfs_rx_note_peak(sa);
	/* The timer runs while packets are held. It may fire before the
	 * deadline of the gap then at the head (that gap was filled and a
	 * later one is first now): xtfs_rx_expire() checks and re-arms.
	 */
	if (++sa->rx_held == 1)
		hrtimer_start(&sa->drop_timer,
			      ktime_add_us(now, sa->cfg.drop_time_us),
			      HRTIMER_MODE_ABS_SOFT);
}
EXPORT_SYMBOL_IF_KUNIT(xtfs_rx_seq);

/**
 * xtfs_deliver() - hand reassembled inner packets to the stack
 * @sa: the SA state
 * @out: the packets
 *
 * xfrm_input() with encap type -2 resumes after decapsulation: policy
 * checks against the secpath, then GRO cells. Called without locks held.
 * Inner packets of an outer packet whose device went away while it was
 * held have no device to arrive on: they are counted drops.
 */
static void xtfs_deliver(struct xtfs_sa *sa, struct sk_buff_head *out)
{
	struct net_device *dev;
	struct sk_buff *skb;

	while ((skb = __skb_dequeue(out))) {
		/* The device the outer packet came in on went away while the
		 * packet was held.
		 */
		if (unlikely(!skb->dev)) {
			xtfs_inc(sa, XTFS_CNT_DROP_NO_DEV, 1);
			kfree_skb(skb);
			continue;
		}
		xtfs_inc(sa, XTFS_CNT_INNER_IN_PKTS, 1);
		xtfs_inc(sa, XTFS_CNT_INNER_IN_BYTES, skb->len);
		/* The reference taken by xtfs_reasm_emit(). */
		dev = skb->dev;
		xfrm_input(skb, 0, 0, -2);
		dev_put(dev);
	}
}

/**
 * xtfs_rx_expire() - give up on the gaps whose drop time is up
 * @sa: the SA state, @sa->rlock held
 * @now: the current time
 * @out: complete inner packets are appended here
 *
 * While the gap before the oldest held packet was first seen at least the
 * drop time before @now, its sequence numbers are declared lost (ending
 * any inner packet being reassembled across them) and what follows in
 * sequence is processed.
 *
 * Return: when the next gap's drop time is up, or KTIME_MAX when no
 * packet is held.
 */
VISIBLE_IF_KUNIT ktime_t xtfs_rx_expire(struct xtfs_sa *sa, ktime_t now,
					struct sk_buff_head *out)
{
	struct sk_buff *skb;
	ktime_t deadline;
	u64 target;

	while (sa->rx_held) {
		target = sa->rx_next;
		while (!(skb = xtfs_rx_peek(sa, target)))
			target++;
		deadline = ktime_add_us(XTFS_RX_CB(skb)->since,
					sa->cfg.drop_time_us);
		if (ktime_before(now, deadline))
			return deadline;
		xtfs_rx_advance(sa, target, out);
		xtfs_rx_drain(sa, out);
	}
	return KTIME_MAX;
}
EXPORT_SYMBOL_IF_KUNIT(xtfs_rx_expire);

/**
 * xtfs_drop_timer_fn() - give up on missing outer packets
 * @t: &xtfs_sa.drop_timer
 *
 * Packets wait in the window for at most the drop time (RFC 9347 section
 * 2.2.3 recommends such a lost packet timer), counted for each gap from
 * when it was first seen. The timer re-arms itself, from inside the
 * callback, for the next gap: a packet arriving meanwhile may have armed
 * it already, and that is harmless, as every expiry checks the deadline.
 * The SA is held while the timer works; a dying SA's timer does nothing.
 *
 * Return: HRTIMER_NORESTART.
 */
static enum hrtimer_restart xtfs_drop_timer_fn(struct hrtimer *t)
{
	struct xtfs_sa *sa = container_of(t, struct xtfs_sa, drop_timer);
	struct sk_buff_head out;
	ktime_t next;

	/* Held packets do not keep the SA alive (xtfs_rx_unpin()): once its
	 * last reference is gone, xtfs_input_destroy() frees them.
	 */
	if (!refcount_inc_not_zero(&sa->x->refcnt))
		return HRTIMER_NORESTART;
	__skb_queue_head_init(&out);
	spin_lock_bh(&sa->rlock);
	next = xtfs_rx_expire(sa, ktime_get(), &out);
	if (next != KTIME_MAX)
		hrtimer_start(t, next, HRTIMER_MODE_ABS_SOFT);
	spin_unlock_bh(&sa->rlock);

	xtfs_deliver(sa, &out);
	xfrm_state_put(sa->x);
	return HRTIMER_NORESTART;
}

/**
 * xtfs_tunnel_mac() - put the link header back in front of an inner packet
 * @skb: the inner packet, data and network header at its IP header,
 *	@skb->protocol set
 * @mac: the link header the outer packet arrived with (@skb->mac_len
 *	octets), or NULL when it is still in place in front of the outer
 *	header
 *
 * As tunnel mode does (xfrm4_remove_tunnel_encap()): packet taps on the
 * device then see the inner packet in a frame of the device's kind, an
 * Ethernet header's protocol field the inner packet's. Without a link
 * header, or without room for it, the packet has none.
 */
static void xtfs_tunnel_mac(struct sk_buff *skb, const u8 *mac)
{
	if (!skb_mac_header_was_set(skb) || !skb->mac_len ||
	    skb_headroom(skb) < skb->mac_len) {
		skb_reset_mac_header(skb);
		skb->mac_len = 0;
		return;
	}
	if (mac) {
		skb_set_mac_header(skb, -skb->mac_len);
		memcpy(skb_mac_header(skb), mac, skb->mac_len);
	} else {
		skb_mac_header_rebuild(skb);
	}
	if (skb->mac_len >= ETH_HLEN)
		eth_hdr(skb)->h_proto = skb->protocol;
}

/**
 * xtfs_tunnel_deliver() - hand on one inner packet carried whole
 * @sa: the SA state
 * @skb: the inner packet, data at its IP header, which is writable
 * @ver: its IP version, 4 or 6, already checked
 * @outer_ds: the DS field of the outer header it arrived in
 * @mac: the link header it arrived with, or NULL when it is still in
 *	place (xtfs_tunnel_mac())
 *
 * As tunnel mode does (RFC 6040): an outer CE mark goes onto an
 * ECN-capable inner packet unless the SA says noecn; the inner DS field
 * stays as it is. The packet then leaves as the inner packets of AGGFRAG
 * payloads do.
 *
 * Return: -EINPROGRESS, the packet is consumed.
 */
int xtfs_tunnel_deliver(struct xtfs_sa *sa, struct sk_buff *skb, u8 ver,
			u8 outer_ds, const u8 *mac)
{
	struct sk_buff_head out;

	skb_reset_network_header(skb);
	skb_reset_transport_header(skb);
	skb->protocol = ver == 4 ? htons(ETH_P_IP) : htons(ETH_P_IPV6);
	xtfs_tunnel_mac(skb, mac);
	if (INET_ECN_is_ce(outer_ds) &&
	    !(sa->x->props.flags & XFRM_STATE_NOECN)) {
		if (ver == 4)
			IP_ECN_set_ce(ip_hdr(skb));
		else
			IP6_ECN_set_ce(skb, ipv6_hdr(skb));
	}
	skb_dst_drop(skb);
	skb->ip_summed = CHECKSUM_NONE;
	skb->pkt_type = PACKET_HOST;
	/* xtfs_deliver() drops a device reference, as for reassembled ones. */
	dev_hold(skb->dev);
	__skb_queue_head_init(&out);
	__skb_queue_tail(&out, skb);
	xtfs_deliver(sa, &out);
	return -EINPROGRESS;
}

/**
 * xtfs_tunnel_input() - hand on the inner packet of an ESP packet of an SA
 *	with the tunnel payload
 * @sa: the SA state
 * @skb: the decrypted ESP payload, network header still at the outer IP
 *	header
 *
 * The payload must be one IPv4 (next header 4) or IPv6 (41) packet; it
 * goes on through xtfs_tunnel_deliver().
 *
 * Return: -EINPROGRESS, the packet is consumed.
 */
int xtfs_tunnel_input(struct xtfs_sa *sa, struct sk_buff *skb)
{
	u8 proto = XFRM_MODE_SKB_CB(skb)->protocol, outer_ds, ver;
	unsigned int hlen;

	if (proto == IPPROTO_IPIP) {
		ver = 4;
		hlen = sizeof(struct iphdr);
	} else if (proto == IPPROTO_IPV6) {
		ver = 6;
		hlen = sizeof(struct ipv6hdr);
	} else {
		goto bad;
	}
	if (!pskb_may_pull(skb, hlen) || skb->data[0] >> 4 != ver ||
	    skb_ensure_writable(skb, hlen))
		goto bad;
	outer_ds = sa->x->props.family == AF_INET ?
		   ipv4_get_dsfield(ip_hdr(skb)) :
		   ipv6_get_dsfield(ipv6_hdr(skb));
	return xtfs_tunnel_deliver(sa, skb, ver, outer_ds, NULL);

bad:
	xtfs_inc(sa, XTFS_CNT_DROP_BAD_HDR, 1);
	kfree_skb(skb);
	return -EINPROGRESS;
}

/**
 * xtfs_input() - receive a decrypted payload (xfrm_mode_cbs::input)
 * @x: the SA
 * @skb: the ESP payload, data at its start
 *
 * Counts it and hands it to the SA's payload format.
 *
 * Return: -EINPROGRESS always: the packet is consumed.
 */
int xtfs_input(struct xfrm_state *x, struct sk_buff *skb)
{
	struct xtfs_sa *sa = x->mode_data;

	xtfs_inc(sa, XTFS_CNT_OUTER_IN_PKTS, 1);
	return sa->pl->input(sa, skb);
}

/**
 * xtfs_aggfrag_input() - receive an AGGFRAG payload
 * @sa: the SA state
 * @skb: the ESP payload, data at the AGGFRAG header
 *
 * Return: -EINPROGRESS always: the packet is consumed here, whether
 * delivered, held for reordering or dropped and counted.
 */
int xtfs_aggfrag_input(struct xtfs_sa *sa, struct sk_buff *skb)
{
	const struct xtfs_aggfrag_cc_hdr *cch;
	struct xtfs_aggfrag_cc_hdr cbuf;
	struct xfrm_state *x = sa->x;
	struct sk_buff_head out;
	bool esn, empty, ce = false;
	__be32 low;
	u64 seq;

	BUILD_BUG_ON(sizeof(struct xtfs_rx_cb) > sizeof_field(struct sk_buff, cb));
	/* Another next header (a dummy packet, RFC 4303 section 2.6, or
	 * anything else the peer sealed) has no data for us, but its
	 * sequence number was sent: it goes through the reorder window
	 * empty, so the window does not wait for it until the drop time.
	 */
	empty = XFRM_MODE_SKB_CB(skb)->protocol != IPPROTO_AGGFRAG;
	if (empty) {
		xtfs_inc(sa, XTFS_CNT_DROP_BAD_HDR, 1);
		if (pskb_trim(skb, 0)) {
			kfree_skb(skb);
			return -EINPROGRESS;
		}
	}
	/* The outer packet's secpath may hold the last reference to a
	 * deleted SA, and it is freed while parsing: keep @sa alive until
	 * the end, or the state garbage collector could free it under us.
	 */
	xfrm_state_hold(x);
	/* The mode control block overlays the high half of the sequence
	 * number, so infer it again. The replay state has already advanced
	 * past this packet, and other CPUs may have advanced it further since:
	 * with ESN, the number nearest to the next one the reorder window
	 * expects is the right one (the window drops anything farther), and
	 * the replay state only serves for the first packet. After 2^31 or
	 * more lost packets this places the packets 2^32 too low, and they
	 * are dropped as old until the sender catches up: no resync, as with
	 * RFC 4303 Appendix A3 for the implicit-IV engine.
	 */
	low = XFRM_SKB_CB(skb)->seq.input.low;
	esn = x->props.flags & XFRM_STATE_ESN;
	seq = ntohl(low);
	if (esn && !READ_ONCE(sa->rx_started)) {
		spin_lock_bh(&x->lock);
		seq |= (u64)xfrm_replay_seqhi(x, low) << 32;
		spin_unlock_bh(&x->lock);
	}
	/* The input route is not needed and may not be held past RCU. */
	skb_dst_drop(skb);
	/* From here the control block is ours (the xfrm one is read). */
	XTFS_RX_CB(skb)->empty = empty;

	/* RFC 9347 section 3: congestion information is taken as it
	 * arrives, before reordering: the delays it carries are measured
	 * to the arrival. A CE mark counts as a loss (section 3.1).
	 */
	cch = empty ? NULL : skb_header_pointer(skb, 0, sizeof(cbuf), &cbuf);
	if (cch && cch->subtype == XTFS_SUBTYPE_CC)
		ce = !(x->props.flags & XFRM_STATE_NOECN) &&
		     INET_ECN_is_ce(x->props.family == AF_INET ?
				    ipv4_get_dsfield(ip_hdr(skb)) :
				    ipv6_get_dsfield(ipv6_hdr(skb)));
	else
		cch = NULL;

	__skb_queue_head_init(&out);
	spin_lock_bh(&sa->rlock);
	if (esn && sa->rx_started)
		seq = xtfs_seq_infer(sa->rx_next, ntohl(low));
	if (cch)
		xtfs_cc_rx(sa, cch, seq, ce, ktime_get_ns());
	xtfs_rx_seq(sa, skb, seq, ktime_get(), &out);
	spin_unlock_bh(&sa->rlock);

	xtfs_deliver(sa, &out);
	xfrm_state_put(x);
	return -EINPROGRESS;
}

/**
 * xtfs_input_init() - set up the receive side of an SA
 * @sa: the SA state, configuration final
 * @gfp: allocation flags for the reorder window
 *
 * Return: 0 or -ENOMEM.
 */
int xtfs_input_init(struct xtfs_sa *sa, gfp_t gfp)
{
	spin_lock_init(&sa->rlock);
	hrtimer_setup(&sa->drop_timer, xtfs_drop_timer_fn, CLOCK_MONOTONIC,
		      HRTIMER_MODE_REL_SOFT);
	sa->rx_win = kvcalloc(sa->cfg.reorder_win + 1, sizeof(*sa->rx_win),
			      gfp);
	return sa->rx_win ? 0 : -ENOMEM;
}
EXPORT_SYMBOL_IF_KUNIT(xtfs_input_init);

/**
 * xtfs_input_destroy() - stop the receive side and free what is held
 * @sa: the SA state
 *
 * Held packets refer to neither the SA nor a device (xtfs_rx_unpin()):
 * they are freed as they are.
 */
void xtfs_input_destroy(struct xtfs_sa *sa)
{
	u32 i;

	hrtimer_cancel(&sa->drop_timer);
	for (i = 0; sa->rx_win && i <= sa->cfg.reorder_win; i++)
		kfree_skb(sa->rx_win[i]);
	kvfree(sa->rx_win);
	sa->rx_win = NULL;
	sa->rx_held = 0;
	sa->rx_bytes = 0;
	kfree_skb(sa->reasm.partial);
	xtfs_reasm_clear(&sa->reasm);
}
EXPORT_SYMBOL_IF_KUNIT(xtfs_input_destroy);
