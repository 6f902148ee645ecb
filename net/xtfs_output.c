// SPDX-License-Identifier: GPL-2.0
/*
 * xtfs send path: queue inner packets, pack them into AGGFRAG payloads
 * (RFC 9347 sections 2.2 and 2.2.3) and hand the outer packets to the
 * kernel's ESP through xfrm_output(), or to the extended ESP engine
 * (xtfs_esp.c) for an SA with implicit IV. An SA with the tunnel payload
 * sends each inner packet as it comes, as tunnel mode does.
 */
#include <crypto/aead.h>
#include <linux/icmp.h>
#include <linux/icmpv6.h>
#include <net/gso.h>
#include <net/icmp.h>
#include <net/inet_ecn.h>
#include <net/ip.h>
#include <net/ip6_route.h>
#include <net/ipv6.h>
#include <net/xfrm.h>
#include <kunit/visibility.h>

#include "xtfs.h"
#include "xtfs_aggfrag.h"

/* Outer packets one run of the send work builds at most (see
 * xtfs_tx_work()). Few: a device that takes packets into this CPU's
 * receive backlog (veth, loopback) has them processed by the receive
 * softirq between two runs. With 64 (a NAPI poll's weight) the send work
 * outran decryption on the same CPU under emulation, and the backlog
 * (netdev_max_backlog) dropped 1,174 of 18,000 outer packets of 1,400
 * octets sent in bursts of 3,000; with 8, none.
 */
#define XTFS_TX_BATCH	8

/**
 * xtfs_payload_space() - largest ESP payload for an outer packet size
 * @x: the SA (ESP type initialised)
 * @outer_size: outer packet size in octets
 *
 * The ESP payload (AGGFRAG header and data blocks, or the inner packet
 * with the tunnel payload), its padding and the trailer octets after it
 * (pad length and next header, fewer with Diet-ESP: &struct xtfs_diet)
 * must be a multiple of the SA's alignment (RFC 4303 section 2.4); the
 * outer IP header, ESP header, IV (none with implicit IV) and ICV come on
 * top (&xtfs_sa.outer_len). An outer packet of exactly @outer_size
 * results when the alignment allows it.
 *
 * Return: the payload size in octets, including the AGGFRAG header, or 0
 * when not even an empty payload fits.
 */
u32 xtfs_payload_space(struct xfrm_state *x, u32 outer_size)
{
	const struct xtfs_diet *d = &((struct xtfs_sa *)x->mode_data)->diet;
	struct crypto_aead *aead = x->data;
	u32 hdr = ((struct xtfs_sa *)x->mode_data)->outer_len;
	u32 icv = crypto_aead_authsize(aead);
	u32 n;

	if (outer_size < hdr + icv + max_t(u32, d->align, d->trl + 1))
		return 0;
	n = (outer_size - hdr - icv) & ~(d->align - 1);
	return n - d->trl;
}
EXPORT_SYMBOL_IF_KUNIT(xtfs_payload_space);

/**
 * xtfs_min_pkt_size() - smallest outer packet size usable on an SA
 * @x: the SA (ESP type initialised)
 *
 * Return: the size in octets that leaves XTFS_MIN_BLOCK_SPACE octets for
 * data blocks after the AGGFRAG header.
 */
u32 xtfs_min_pkt_size(struct xfrm_state *x)
{
	const struct xtfs_sa *sa = x->mode_data;
	const struct xtfs_diet *d = &sa->diet;
	struct crypto_aead *aead = x->data;

	return sa->outer_len + crypto_aead_authsize(aead) +
	       ALIGN(sa->hdr_len + XTFS_MIN_BLOCK_SPACE + d->trl, d->align);
}

/**
 * xtfs_outer_size() - outer packet size to use for a destination
 * @sa: the SA state
 * @dst: the xfrm bundle the inner packets were routed to
 *
 * Return: the configured packet size, limited by the MTU below this SA;
 * that MTU when no size is configured.
 */
static u32 xtfs_outer_size(struct xtfs_sa *sa, struct dst_entry *dst)
{
	/* The child's MTU accounts for transforms further down a bundle. */
	u32 pmtu = ((struct xfrm_dst *)dst)->child_mtu_cached;

	if (sa->cfg.pkt_size && sa->cfg.pkt_size < pmtu)
		return sa->cfg.pkt_size;
	return pmtu;
}

/**
 * xtfs_get_inner_mtu() - inner MTU of the SA (xfrm_mode_cbs::get_inner_mtu)
 * @x: the SA
 * @outer_mtu: MTU of the outer path
 *
 * Return: the inner MTU in octets, from the SA's payload format.
 */
u32 xtfs_get_inner_mtu(struct xfrm_state *x, int outer_mtu)
{
	struct xtfs_sa *sa = x->mode_data;

	return sa->pl->inner_mtu(sa, outer_mtu);
}

/**
 * xtfs_aggfrag_inner_mtu() - inner MTU of an SA carrying AGGFRAG payloads
 * @sa: the SA state
 * @outer_mtu: MTU of the outer path
 *
 * With fragmentation allowed any inner packet fits (RFC 9347 section
 * 2.2.6: no "too big" errors are needed); with dont-frag an inner packet
 * must fit the data block space of one outer packet.
 *
 * Return: the inner MTU in octets.
 */
u32 xtfs_aggfrag_inner_mtu(struct xtfs_sa *sa, int outer_mtu)
{
	u32 space;

	/* A block offset is 16 bits: no inner packet may exceed 65535. */
	if (!sa->cfg.dont_frag)
		return IP_MAX_MTU;
	if (sa->cfg.pkt_size && sa->cfg.pkt_size < outer_mtu)
		outer_mtu = sa->cfg.pkt_size;
	space = xtfs_payload_space(sa->x, outer_mtu);
	return space > sa->hdr_len ? space - sa->hdr_len : 0;
}

/**
 * xtfs_tunnel_inner_mtu() - inner MTU of an SA with the tunnel payload
 * @sa: the SA state
 * @outer_mtu: MTU of the outer path
 *
 * Return: the ESP payload space of one outer packet, in octets.
 */
u32 xtfs_tunnel_inner_mtu(struct xtfs_sa *sa, int outer_mtu)
{
	return xtfs_payload_space(sa->x, outer_mtu);
}

/**
 * xtfs_split_defer() - does a large packet wait for the next payload?
 * @left: octets of the packet to send, none of them sent yet
 * @room: octets left in this payload, fewer than @left
 * @space: octets of a payload's data blocks
 *
 * RFC 9347 section 2.2.3 lets the sender choose where packets are split.
 * Splitting keeps every payload full, but a packet split in two is
 * reassembled by a copy at the receiver, where one carried whole in its
 * own payload is handed on as it came. For a large packet that the next
 * payload holds whole, a sixteenth of a payload or less is not worth that.
 *
 * Return: true when the packet should start the next payload.
 */
static bool xtfs_split_defer(u32 left, u32 room, u32 space)
{
	return left <= space && left > space / 2 && room < space / 16;
}

/**
 * xtfs_fill_payload() - pack queued inner packets into one payload
 * @q: inner packets in send order
 * @head_sent: octets of the head of @q already sent in earlier payloads;
 *	updated
 * @buf: where the data blocks go
 * @space: octets available at @buf
 * @split: when a packet may be split (&enum xtfs_split)
 * @blkoff: set to the AGGFRAG block offset of this payload
 * @frags: set to the number of packet pieces (not whole packets) packed
 *
 * Fills @buf with the rest of a packet begun in an earlier payload, then
 * whole packets, and splits whichever packet reaches the end of the space
 * (RFC 9347 section 2.2.3) as @split allows, so that every payload is full
 * while packets are queued. Fully packed packets are removed from @q and
 * freed.
 *
 * Return: octets written to @buf.
 */
VISIBLE_IF_KUNIT u32 xtfs_fill_payload(struct sk_buff_head *q, u32 *head_sent,
				       u8 *buf, u32 space,
				       enum xtfs_split split, u16 *blkoff,
				       u32 *frags)
{
	struct sk_buff *skb = skb_peek(q);
	u32 used = 0;

	*frags = 0;
	/* RFC 9347 6.1.1: the offset counts the rest of the packet begun in
	 * an earlier payload, even when it extends past this one.
	 */
	*blkoff = skb && *head_sent ? skb->len - *head_sent : 0;

	while ((skb = skb_peek(q)) && used < space) {
		u32 left = skb->len - *head_sent;
		u32 take = min(left, space - used);

		if (take < left &&
		    (split == XTFS_SPLIT_NEVER ||
		     (split == XTFS_SPLIT_PAYS && !*head_sent &&
		      xtfs_split_defer(left, take, space))))
			break;
		if (skb_copy_bits(skb, *head_sent, buf + used, take))
			break;
		used += take;
		if (take < left || *head_sent)
			(*frags)++;
		if (take < left) {
			*head_sent += take;
			break;
		}
		*head_sent = 0;
		__skb_unlink(skb, q);
		consume_skb(skb);
	}
	return used;
}
EXPORT_SYMBOL_IF_KUNIT(xtfs_fill_payload);

/**
 * struct xtfs_tx_cb - what xtfs keeps in a queued inner packet's cb
 * @enq_ns: when the packet was queued, CLOCK_MONOTONIC in ns
 *
 * Offset 0 of skb->cb; SKB_GSO_CB, which segmentation uses, lies beyond.
 */
struct xtfs_tx_cb {
	u64	enq_ns;
};

#define XTFS_TX_CB(skb)	((struct xtfs_tx_cb *)(skb)->cb)

/**
 * xtfs_ecn_threshold() - queue fill above which ECN-capable packets get CE
 * @sa: the SA state
 *
 * 95 % of the max queue size (the in-tree module's choice): the last 5 %
 * of the queue takes ECN-capable packets marked CE (RFC 3168 section 5,
 * RFC 9347 section 3.1) so that their senders slow down before packets
 * must be dropped; packets that are not ECN-capable are queued unmarked
 * up to the hard limit.
 *
 * Return: the threshold in octets.
 */
static u32 xtfs_ecn_threshold(struct xtfs_sa *sa)
{
	return sa->cfg.max_qsize - sa->cfg.max_qsize / 20;
}

/**
 * xtfs_ecn_mark() - set CE in an ECN-capable inner packet
 * @skb: the inner packet, data at its IP header
 *
 * Return: true when the packet was ECT(0) or ECT(1) and now carries CE.
 */
static bool xtfs_ecn_mark(struct sk_buff *skb)
{
	u8 ds;

	if (ip_hdr(skb)->version == 4) {
		if (skb_ensure_writable(skb, sizeof(struct iphdr)))
			return false;
		ds = ip_hdr(skb)->tos;
		if (INET_ECN_is_not_ect(ds) || INET_ECN_is_ce(ds))
			return false;
		/* Updates the header checksum too. */
		return IP_ECN_set_ce(ip_hdr(skb));
	}
	if (skb_ensure_writable(skb, sizeof(struct ipv6hdr)))
		return false;
	ds = ipv6_get_dsfield(ipv6_hdr(skb));
	if (INET_ECN_is_not_ect(ds) || INET_ECN_is_ce(ds))
		return false;
	return IP6_ECN_set_ce(skb, ipv6_hdr(skb));
}

/**
 * xtfs_unbatch() - segment GSO batches that the next outer packet reaches
 * @sa: the SA state, @sa->lock held
 * @space: data block space of the next outer packet in octets
 *
 * GSO batches stay whole in the queue (charged at their full length) and
 * are cut into packets only here, when the next outer packet is about to
 * take data from them (Documentation/xtfs.rst, "Send path"). Segmentation with
 * scatter-gather keeps the payload in the batch's page fragments, so the
 * only copy of the data is the one into the outer packet; checksums are
 * finished in software on the way. The queue grows by the repeated
 * headers of the segments.
 */
static void xtfs_unbatch(struct xtfs_sa *sa, u32 space)
{
	struct sk_buff_head *q = &sa->queue;
	struct sk_buff *skb = skb_peek(q);
	struct sk_buff *segs, *seg, *prev;
	u32 seen = 0;
	u64 enq_ns;

	while (skb && seen < space + sa->head_sent) {
		if (!skb_is_gso(skb)) {
			seen += skb->len;
			skb = skb_peek_next(skb, q);
			continue;
		}
		enq_ns = XTFS_TX_CB(skb)->enq_ns;
		prev = skb->prev;
		__skb_unlink(skb, q);
		sa->queued -= skb->len;
		segs = skb_gso_segment(skb, NETIF_F_SG);
		if (IS_ERR_OR_NULL(segs)) {
			xtfs_inc(sa, XTFS_CNT_DROP_OUT_ERR, 1);
			kfree_skb(skb);
			segs = NULL;
		} else {
			consume_skb(skb);
		}
		skb_list_walk_safe(segs, seg, segs) {
			skb_mark_not_on_list(seg);
			if (seg->ip_summed == CHECKSUM_PARTIAL &&
			    skb_checksum_help(seg)) {
				xtfs_inc(sa, XTFS_CNT_DROP_OUT_ERR, 1);
				kfree_skb(seg);
				continue;
			}
			XTFS_TX_CB(seg)->enq_ns = enq_ns;
			__skb_queue_after(q, prev, seg);
			sa->queued += seg->len;
			prev = seg;
		}
		/* Walk again from the head: everything before is plain. */
		skb = skb_peek(q);
		seen = 0;
	}
}

/**
 * xtfs_alloc_outer() - allocate an outer packet for an AGGFRAG payload
 * @sa: the SA state
 * @dst: the xfrm bundle it takes (a reference is taken for the packet)
 * @space: data block space in octets
 *
 * The packet has room for the headers @dst's transforms add, the SA's
 * AGGFRAG header (written: sub-type 1 with congestion information when
 * the SA has a paired SA, xtfs_cc_put_hdr(), else the basic one; block
 * offset 0) and @space octets of data blocks, which it holds (to be
 * written); its network header is at the AGGFRAG header.
 *
 * Return: the packet, or NULL.
 */
static struct sk_buff *xtfs_alloc_outer(struct xtfs_sa *sa,
					struct dst_entry *dst, u32 space)
{
	int hroom = LL_RESERVED_SPACE(dst->dev) + dst->header_len;
	struct xtfs_aggfrag_hdr *h;
	struct sk_buff *skb;

	skb = alloc_skb(hroom + sa->hdr_len + space + dst->trailer_len +
			dst->dev->needed_tailroom, GFP_ATOMIC);
	if (!skb)
		return NULL;
	skb_reserve(skb, hroom);
	skb_dst_set(skb, dst_clone(dst));
	h = skb_put(skb, sa->hdr_len);
	if (sa->hdr_len == sizeof(struct xtfs_aggfrag_cc_hdr)) {
		xtfs_cc_put_hdr(sa, (struct xtfs_aggfrag_cc_hdr *)h,
				ktime_get_ns());
	} else {
		h->subtype = XTFS_SUBTYPE_BASIC;
		h->reserved = 0;
	}
	h->block_offset = 0;
	skb_put(skb, space);
	skb_reset_network_header(skb);
	skb->protocol = sa->x->props.family == AF_INET ? htons(ETH_P_IP) :
							 htons(ETH_P_IPV6);
	return skb;
}

/**
 * xtfs_build_one() - build one outer packet from the head of the queue
 * @sa: the SA state, @sa->lock held
 * @space: data block space of the outer packet in octets
 * @skbp: set to the outer packet, or NULL when none was built
 *
 * Packs the rest of a packet begun in the previous outer packet, whole
 * packets and a piece of the packet that reaches the end of the space
 * (xtfs_fill_payload()), and pads the rest when a packet size is set.
 * Sent octets leave the queue accounting.
 *
 * Return: 0, or -ENOMEM (the queue is left as it was).
 */
static int xtfs_build_one(struct xtfs_sa *sa, u32 space, struct sk_buff **skbp)
{
	struct sk_buff_head *q = &sa->queue;
	struct sk_buff *head = skb_peek(q);
	u32 used, frags, pending = sa->queued - sa->head_sent;
	struct xtfs_aggfrag_hdr *h;
	enum xtfs_split split;
	struct sk_buff *skb;
	u16 blkoff;
	u8 *data;

	*skbp = NULL;
	skb = xtfs_alloc_outer(sa, skb_dst(head), space);
	if (!skb)
		return -ENOMEM;
	skb->mark = head->mark;
	skb->priority = head->priority;

	h = (struct xtfs_aggfrag_hdr *)skb->data;
	data = skb->data + sa->hdr_len;
	if (sa->cfg.dont_frag)
		split = XTFS_SPLIT_NEVER;
	else if (sa->cfg.pace.send == XTFS_SEND_DEMAND)
		split = XTFS_SPLIT_PAYS;
	else
		split = XTFS_SPLIT_FILL;
	used = xtfs_fill_payload(q, &sa->head_sent, data, space, split,
				 &blkoff, &frags);
	/* @queued counts whole queued packets, sent parts included. */
	sa->queued = pending - used + sa->head_sent;
	h->block_offset = htons(blkoff);

	if (used < space) {
		if (sa->cfg.pkt_size) {
			/* RFC 9347 6.1.3.3: a pad data block to the end keeps
			 * every outer packet at the configured size.
			 */
			memset(data + used, 0, space - used);
			xtfs_inc(sa, XTFS_CNT_PAD_OUT_BYTES, space - used);
		} else {
			skb_trim(skb, sa->hdr_len + used);
		}
	}
	xtfs_inc(sa, XTFS_CNT_FRAGS_OUT, frags);
	xtfs_inc(sa, XTFS_CNT_OUTER_OUT_PKTS, 1);
	*skbp = skb;
	return 0;
}

/**
 * xtfs_dst_space() - data block space of an outer packet on a bundle
 * @sa: the SA state
 * @dst: the xfrm bundle the outer packet takes
 *
 * Return: the space in octets, 0 when the path leaves no usable room.
 */
static u32 xtfs_dst_space(struct xtfs_sa *sa, struct dst_entry *dst)
{
	u32 psize = xtfs_payload_space(sa->x, xtfs_outer_size(sa, dst));

	if (psize < sa->hdr_len + XTFS_MIN_BLOCK_SPACE)
		return 0;
	return psize - sa->hdr_len;
}

/**
 * xtfs_head_space() - data block space of the outer packet for the queue head
 * @sa: the SA state, @sa->lock held
 *
 * Return: the space in octets, 0 when the path leaves no usable room.
 */
static u32 xtfs_head_space(struct xtfs_sa *sa)
{
	return xtfs_dst_space(sa, skb_dst(skb_peek(&sa->queue)));
}

/**
 * xtfs_drop_head() - drop the packet at the head of the queue
 * @sa: the SA state, @sa->lock held
 * @c: counter to charge
 */
static void xtfs_drop_head(struct xtfs_sa *sa, enum xtfs_counter c)
{
	struct sk_buff *skb = __skb_dequeue(&sa->queue);

	sa->queued -= skb->len;
	sa->head_sent = 0;
	xtfs_inc(sa, c, 1);
	kfree_skb(skb);
}

/**
 * xtfs_kick() - have the send work run on the SA's sending CPU
 * @sa: the SA state
 *
 * Every outer packet of an SA leaves from one CPU: a device that queues
 * received packets per CPU (veth, loopback) or picks its transmit queue
 * by CPU (XPS) would otherwise reorder the stream between two CPUs' runs.
 * A CPU that went offline is replaced by the current one.
 */
static void xtfs_kick(struct xtfs_sa *sa)
{
	int cpu = READ_ONCE(sa->tx_cpu);

	if (unlikely(!cpu_online(cpu))) {
		cpu = raw_smp_processor_id();
		WRITE_ONCE(sa->tx_cpu, cpu);
	}
	queue_work_on(cpu, system_bh_wq, &sa->tx_work);
}

/**
 * xtfs_timer_fn() - init delay timer: the head packet has waited enough
 * @t: &xtfs_sa.timer
 *
 * Return: HRTIMER_NORESTART.
 */
static enum hrtimer_restart xtfs_timer_fn(struct hrtimer *t)
{
	xtfs_kick(container_of(t, struct xtfs_sa, timer));
	return HRTIMER_NORESTART;
}

/**
 * xtfs_tx_head() - the queued packet the next outer packet starts with
 * @sa: the SA state, @sa->lock held
 * @space: out, the data block space of that outer packet in octets
 *
 * Packets that can no longer be sent are dropped and counted first: no
 * usable room on the path, or with dont-frag larger than the space (the
 * path shrank since they were queued). GSO batches the outer packet
 * reaches are segmented (xtfs_unbatch()).
 *
 * Return: the head of the queue, or NULL when nothing is queued.
 */
static struct sk_buff *xtfs_tx_head(struct xtfs_sa *sa, u32 *space)
{
	struct sk_buff *head;

	while ((head = skb_peek(&sa->queue))) {
		*space = xtfs_head_space(sa);
		if (!*space) {
			xtfs_drop_head(sa, XTFS_CNT_DROP_OUT_ERR);
			continue;
		}
		if (sa->cfg.dont_frag && !skb_is_gso(head) &&
		    head->len > *space) {
			xtfs_drop_head(sa, XTFS_CNT_DROP_TOO_BIG);
			continue;
		}
		xtfs_unbatch(sa, *space);
		head = skb_peek(&sa->queue);
		if (!head)
			break;
		if (sa->cfg.dont_frag && head->len > *space) {
			xtfs_drop_head(sa, XTFS_CNT_DROP_TOO_BIG);
			continue;
		}
		return head;
	}
	return NULL;
}

/**
 * xtfs_pad_dst_put() - forget the route of a fixed-rate SA's all-pad packets
 * @sa: the SA state, @sa->lock held
 */
static void xtfs_pad_dst_put(struct xtfs_sa *sa)
{
	dst_release(sa->pad_dst);
	sa->pad_dst = NULL;
}

/**
 * xtfs_pad_dst_set() - take a data packet's route for the all-pad packets
 * @sa: the SA state, @sa->lock held
 * @skb: the outer packet just built from the queue
 *
 * Its mark and priority go with the route: an all-pad packet must leave
 * as the data packets do (output mark, classification), or an observer
 * could tell the two apart.
 */
static void xtfs_pad_dst_set(struct xtfs_sa *sa, const struct sk_buff *skb)
{
	if (sa->pad_dst != skb_dst(skb)) {
		xtfs_pad_dst_put(sa);
		sa->pad_dst = dst_clone(skb_dst(skb));
	}
	sa->pad_mark = skb->mark;
	sa->pad_priority = skb->priority;
}

/**
 * xtfs_pacing_stop() - stop the slots of a fixed-rate SA
 * @sa: the SA state, @sa->lock held
 *
 * The slot that would have come next is remembered: pacing that starts
 * again keeps to the same grid (xtfs_tx_fixed()), so that a pause of the
 * stream does not show as a shift of its phase.
 */
static void xtfs_pacing_stop(struct xtfs_sa *sa)
{
	if (sa->slot_next)
		sa->slot_grid = sa->slot_next;
	sa->slot_next = 0;
	sa->pacing = false;
	xtfs_pad_dst_put(sa);
}

/**
 * xtfs_build_pad() - build an all-pad outer packet (RFC 9347 section 2.2.4)
 * @sa: the SA state, @sa->lock held, @sa->pad_dst set
 *
 * The packet takes the route of the last data packet while that route is
 * still valid (dst_check(): for an xfrm bundle, its SAs are alive and
 * current); a route no longer valid is forgotten. A Block Offset of 0 and
 * a pad data block filling the space: nothing is in progress, since a
 * packet begun in an earlier outer packet would still be queued.
 *
 * Return: the packet, or NULL (no valid route, or no memory: counted).
 */
static struct sk_buff *xtfs_build_pad(struct xtfs_sa *sa)
{
	struct dst_entry *dst = dst_check(sa->pad_dst, 0);
	struct sk_buff *skb;
	u32 space;

	if (!dst) {
		xtfs_pad_dst_put(sa);
		return NULL;
	}
	space = xtfs_dst_space(sa, dst);
	if (!space) {
		/* The path leaves no room: the slot passes unsent. */
		xtfs_inc(sa, XTFS_CNT_SLOTS_MISSED, 1);
		return NULL;
	}
	skb = xtfs_alloc_outer(sa, dst, space);
	if (!skb) {
		xtfs_inc(sa, XTFS_CNT_DROP_NOMEM, 1);
		return NULL;
	}
	skb->mark = sa->pad_mark;
	skb->priority = sa->pad_priority;
	memset(skb->data + sa->hdr_len, 0, space);
	xtfs_inc(sa, XTFS_CNT_PAD_OUT_BYTES, space);
	xtfs_inc(sa, XTFS_CNT_PAD_PKTS_OUT, 1);
	xtfs_inc(sa, XTFS_CNT_OUTER_OUT_PKTS, 1);
	return skb;
}

/**
 * xtfs_tx_stop() - drop what a paced SA has queued, stop its slots and
 *	let its paired SA go
 * @sa: the SA state, @sa->lock held, from its send work
 */
static void xtfs_tx_stop(struct xtfs_sa *sa)
{
	while (skb_peek(&sa->queue))
		xtfs_drop_head(sa, XTFS_CNT_DROP_OUT_ERR);
	xtfs_pacing_stop(sa);
	xtfs_cc_destroy(sa);
}

/**
 * xtfs_tx_fixed() - send the outer packet of the current slot of a
 *	fixed-rate or congestion-controlled SA (RFC 9347 section 2.4)
 * @sa: the SA state
 *
 * One outer packet per slot of 1/rate seconds, each of the SA's packet
 * size: built from the queue when it holds data (xtfs_build_one() pads
 * what the data leaves of it), else an all-pad packet (xtfs_build_pad()).
 * The rate is the configured one, or with congestion control the one
 * xtfs_cc_tx_update() reaches from the peer's reports, read at each slot
 * along with what the next header carries.
 * Slots that passed before the sending CPU got here are counted in
 * slots_missed and not made up: the rate bounds what is sent as well as
 * shaping it, and the queue (at most max-queue-size octets, then counted
 * drops) takes the excess of the inner load. Slots are kept on a fixed
 * grid (the hrtimer expires at absolute slot starts), so lateness does
 * not accumulate, and pacing that starts again keeps to the grid of the
 * last. Pacing starts with the first inner packet (xtfs_enqueue()), whose
 * route the all-pad packets need, and stops when nothing is queued and
 * that route is gone. Once the SA is no longer valid (deleted, expired)
 * or its circuit breaker has tripped, nothing more is sent: what is
 * queued is dropped and counted at once, rather than sent one a slot to
 * be dropped by xfrm_output() while each packet holds the SA.
 */
static void xtfs_tx_fixed(struct xtfs_sa *sa)
{
	struct sk_buff *head, *skb = NULL;
	bool trip = false;
	u64 now, late, slot;
	u32 space;

	spin_lock_bh(&sa->lock);
	if (!sa->pacing)
		goto unlock;
	if (READ_ONCE(sa->x->km.state) != XFRM_STATE_VALID ||
	    sa->cc.broken) {
		xtfs_tx_stop(sa);
		goto unlock;
	}
	now = ktime_get_ns();
	if (sa->cfg.pace.rev_spi) {
		xtfs_cc_pair(sa, now);
		if (xtfs_cc_tx_update(sa, now)) {
			trip = true;
			xtfs_tx_stop(sa);
			goto unlock;
		}
	}
	slot = xtfs_cc_slot_ns(sa);
	if (!sa->slot_next) {
		/* The first slot at or after now on the last grid. */
		sa->slot_next = now;
		if (sa->slot_grid && sa->slot_grid < now)
			sa->slot_next = sa->slot_grid +
				DIV64_U64_ROUND_UP(now - sa->slot_grid, slot) *
				slot;
	}
	if (now < sa->slot_next)
		goto arm;
	late = div64_u64(now - sa->slot_next, slot);
	if (late)
		xtfs_inc(sa, XTFS_CNT_SLOTS_MISSED, late);
	sa->slot_next += (late + 1) * slot;

	while ((head = xtfs_tx_head(sa, &space))) {
		if (!xtfs_build_one(sa, space, &skb)) {
			xtfs_pad_dst_set(sa, skb);
			break;
		}
		xtfs_drop_head(sa, XTFS_CNT_DROP_NOMEM);
	}
	if (!skb && sa->pad_dst)
		skb = xtfs_build_pad(sa);
	if (!skb && !sa->pad_dst) {
		xtfs_pacing_stop(sa);
		goto unlock;
	}
arm:
	hrtimer_start(&sa->timer, ns_to_ktime(sa->slot_next),
		      HRTIMER_MODE_ABS_SOFT);
unlock:
	spin_unlock_bh(&sa->lock);
	if (skb)
		xfrm_output(NULL, skb);
	if (trip)
		xtfs_notify_broken(sa);
}

/**
 * xtfs_tx_work() - send full outer packets, and the rest once the oldest
 *	queued packet has waited the init delay
 * @work: &xtfs_sa.tx_work
 *
 * Outer packets are built under @xtfs_sa.lock and sent outside it. While
 * less than a full outer packet is queued and the packet at the head has
 * waited less than the init delay, the rest stays queued and the timer is
 * set for that deadline: a partly filled (padded) outer packet leaves only
 * when the queue is emptied at a deadline, so under sustained load every
 * outer packet but those is full (RFC 9347 section 2.2.3).
 *
 * Runs in softirq context (a BH work item), on @xtfs_sa.tx_cpu; a work
 * item never runs on two CPUs at once and nothing else sends, so outer
 * packets leave in queue order and the fragments of an inner packet in
 * consecutive outer packets. One run sends at most what was queued when
 * it started, and at most %XTFS_TX_BATCH outer packets, then queues
 * itself again.
 */
static void xtfs_tx_work(struct work_struct *work)
{
	struct xtfs_sa *sa = container_of(work, struct xtfs_sa, tx_work);
	u64 delay = (u64)sa->cfg.init_delay_us * NSEC_PER_USEC;
	u32 budget, space, batch = XTFS_TX_BATCH;
	struct sk_buff *head, *skb;
	u64 due, now;

	if (sa->cfg.pace.send != XTFS_SEND_DEMAND) {
		xtfs_tx_fixed(sa);
		return;
	}
	spin_lock_bh(&sa->lock);
	budget = sa->queued;
	while ((head = xtfs_tx_head(sa, &space))) {
		now = ktime_get_ns();
		due = XTFS_TX_CB(head)->enq_ns + delay;
		if (sa->queued - sa->head_sent < space && now < due) {
			hrtimer_start(&sa->timer, ns_to_ktime(due - now),
				      HRTIMER_MODE_REL_SOFT);
			break;
		}
		if (!budget || !batch) {
			xtfs_kick(sa);
			break;
		}
		budget -= min(budget, space);
		batch--;
		if (xtfs_build_one(sa, space, &skb)) {
			/* No outer packet could be allocated: the head is
			 * dropped, counted, and the rest goes on.
			 */
			xtfs_drop_head(sa, XTFS_CNT_DROP_NOMEM);
			continue;
		}
		spin_unlock_bh(&sa->lock);
		/* Consumes the skb whatever happens; the SA's type (the
		 * kernel's ESP or xtfs's) and the core count their errors.
		 */
		xfrm_output(NULL, skb);
		spin_lock_bh(&sa->lock);
	}
	spin_unlock_bh(&sa->lock);
}

/**
 * xtfs_too_big() - report an inner packet that can never be sent
 * @skb: the inner packet
 * @mtu: the largest inner packet the SA can send, in octets
 *
 * Only with dont-frag (RFC 9347 section 2.2.6): the sender learns the
 * inner MTU as from a plain ESP tunnel: a local full socket through
 * xfrm_local_error(), others by ICMP "fragmentation needed" (IPv4) or
 * ICMPv6 "packet too big". A packet of a request or TIME_WAIT socket
 * (a SYN-ACK, a RST) is one of the others: xfrm_local_error() would read
 * it as a full socket.
 */
static void xtfs_too_big(struct sk_buff *skb, u32 mtu)
{
	if (skb->sk && sk_fullsock(skb->sk)) {
		xfrm_local_error(skb, mtu);
	} else if (ip_hdr(skb)->version == 4) {
		memset(IPCB(skb), 0, sizeof(*IPCB(skb)));
		icmp_send(skb, ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED, htonl(mtu));
	} else {
		memset(IP6CB(skb), 0, sizeof(*IP6CB(skb)));
		icmpv6_send(skb, ICMPV6_PKT_TOOBIG, 0, mtu);
	}
}

/**
 * xtfs_enqueue() - queue one inner packet or GSO batch for sending
 * @sa: the SA state
 * @skb: the inner packet, data at its IP header, dst held
 * @space: data block space of one outer packet in octets
 *
 * The queue holds at most max-queue-size octets (a GSO batch counts at
 * its full length); beyond it every packet is a counted drop. Above the
 * ECN threshold (xtfs_ecn_threshold()) ECN-capable packets are marked CE
 * and queued.
 */
static void xtfs_enqueue(struct xtfs_sa *sa, struct sk_buff *skb, u32 space)
{
	u64 delay = (u64)sa->cfg.init_delay_us * NSEC_PER_USEC;
	u64 now = ktime_get_ns();
	u32 len = skb->len;

	XTFS_TX_CB(skb)->enq_ns = now;
	spin_lock_bh(&sa->lock);
	if (unlikely(sa->cc.broken)) {
		/* RFC 9347 section 2.4.2.1: a tripped breaker sends nothing. */
		spin_unlock_bh(&sa->lock);
		xtfs_inc(sa, XTFS_CNT_DROP_OUT_ERR, 1);
		kfree_skb(skb);
		return;
	}
	if ((u64)sa->queued + len > sa->cfg.max_qsize) {
		spin_unlock_bh(&sa->lock);
		xtfs_inc(sa, XTFS_CNT_DROP_QUEUE_FULL, 1);
		kfree_skb_reason(skb, SKB_DROP_REASON_FULL_RING);
		return;
	}
	if ((u64)sa->queued + len > xtfs_ecn_threshold(sa) &&
	    xtfs_ecn_mark(skb))
		xtfs_inc(sa, XTFS_CNT_ECN_MARKED, 1);
	__skb_queue_tail(&sa->queue, skb);
	sa->queued += len;
	/* A paced SA sends at its slots, from the first packet on.
	 * Otherwise a full outer packet's worth goes at once, and less
	 * waits up to the init delay for more.
	 */
	if (sa->cfg.pace.send != XTFS_SEND_DEMAND) {
		if (!sa->pacing) {
			sa->pacing = true;
			xtfs_kick(sa);
		}
	} else if (sa->queued - sa->head_sent >= space || !delay) {
		xtfs_kick(sa);
	} else if (!hrtimer_is_queued(&sa->timer)) {
		hrtimer_start(&sa->timer, ns_to_ktime(delay),
			      HRTIMER_MODE_REL_SOFT);
	}
	/* Count before unlocking: once queued, the work may send @skb and
	 * drop the last reference to a deleted SA, and @sa with it.
	 */
	xtfs_inc(sa, XTFS_CNT_INNER_OUT_PKTS, 1);
	xtfs_inc(sa, XTFS_CNT_INNER_OUT_BYTES, len);
	spin_unlock_bh(&sa->lock);
}

/**
 * xtfs_aggfrag_send() - take an inner packet for AGGFRAG payloads
 * @sa: the SA state
 * @sk: sending socket or NULL (unused: the packet is queued)
 * @skb: the inner packet or GSO batch, data at its IP header, dst held
 * @space: data block space of one outer packet in octets
 *
 * Return: 0; the packet is queued or dropped and counted.
 */
int xtfs_aggfrag_send(struct xtfs_sa *sa, struct sock *sk,
		      struct sk_buff *skb, u32 space)
{
	xtfs_enqueue(sa, skb, space);
	return 0;
}

/**
 * xtfs_inner_space() - data block space of one outer packet for a bundle
 * @sa: the SA state
 * @dst: the xfrm bundle an inner packet was routed to
 *
 * Return: the space in octets, the inner MTU with dont-frag or the tunnel
 * payload; at most 65535 (a block offset is 16 bits).
 */
static u32 xtfs_inner_space(struct xtfs_sa *sa, struct dst_entry *dst)
{
	u32 space = xtfs_payload_space(sa->x, xtfs_outer_size(sa, dst));
	u32 hdr = sa->x->props.enc_hdr_len;

	space = space > hdr ? space - hdr : 0;
	return min(space, IP_MAX_MTU);
}

/**
 * xtfs_segment() - segment a GSO batch in software
 * @sa: the SA state, for the drop counter
 * @skb: the batch, consumed
 *
 * No device features: checksums are finished in software.
 *
 * Return: the list of segments, or NULL after counting the batch dropped.
 */
static struct sk_buff *xtfs_segment(struct xtfs_sa *sa, struct sk_buff *skb)
{
	struct sk_buff *segs = skb_gso_segment(skb, 0);

	if (IS_ERR_OR_NULL(segs)) {
		xtfs_inc(sa, XTFS_CNT_DROP_OUT_ERR, 1);
		kfree_skb(skb);
		return NULL;
	}
	consume_skb(skb);
	return segs;
}

/**
 * xtfs_tunnel_send() - send one inner packet or GSO batch of an SA with
 *	the tunnel payload
 * @sa: the SA state
 * @sk: sending socket or NULL
 * @skb: the inner packet, data at its IP header, dst the SA's bundle
 * @space: unused: the packet was checked against the inner MTU
 *
 * Each inner packet becomes one ESP packet (next header 4 or 41), built
 * through xfrm_output(), which also segments GSO batches, by the SA's
 * type: the kernel's ESP, or xtfs's for implicit IV.
 *
 * Return: 0, or the error of xfrm_output().
 */
int xtfs_tunnel_send(struct xtfs_sa *sa, struct sock *sk,
		     struct sk_buff *skb, u32 space)
{
	u32 n = skb_is_gso(skb) ? skb_shinfo(skb)->gso_segs : 1;

	/* Count first: sending may drop the last reference to the SA. */
	xtfs_inc(sa, XTFS_CNT_INNER_OUT_PKTS, n);
	xtfs_inc(sa, XTFS_CNT_INNER_OUT_BYTES, skb->len);
	xtfs_inc(sa, XTFS_CNT_OUTER_OUT_PKTS, n);
	return xfrm_output(sk, skb);
}

/**
 * xtfs_frag_output() - send one IPv4 fragment made by xtfs_output()
 * @net: network namespace
 * @sk: sending socket or NULL
 * @skb: the fragment; its dst is the SA's bundle
 *
 * Return: 0, or the error of the payload format's send.
 */
static int xtfs_frag_output(struct net *net, struct sock *sk,
			    struct sk_buff *skb)
{
	struct xtfs_sa *sa = skb_dst(skb)->xfrm->mode_data;

	return sa->pl->send(sa, sk, skb, xtfs_inner_space(sa, skb_dst(skb)));
}

/**
 * xtfs_may_fragment() - may the stack IP-fragment this inner packet?
 * @skb: the inner packet (or GSO batch), data at its IP header
 * @space: the size to fragment to
 *
 * IPv4 without DF, and IPv6 from a local socket that lets the stack
 * fragment (as __xfrm6_output() does for tunnel mode), when @space is at
 * least the family's minimum MTU.
 *
 * Return: true when it may.
 */
static bool xtfs_may_fragment(struct sk_buff *skb, u32 space)
{
	if (ip_hdr(skb)->version == 4)
		return !(ip_hdr(skb)->frag_off & htons(IP_DF)) && space >= 68;
	return skb->ignore_df && space >= IPV6_MIN_MTU;
}

/**
 * xtfs_output_segs() - segment a GSO batch whose segments are too big
 * @net: network namespace
 * @sk: sending socket or NULL
 * @skb: the batch, consumed
 *
 * Its segments may be fragmented (xtfs_may_fragment()): each goes through
 * xtfs_output() on its own, which fragments it, as ip_finish_output_gso()
 * does for a batch whose segments exceed the MTU.
 *
 * Return: 0, or the error of the first segment that failed.
 */
static int xtfs_output_segs(struct net *net, struct sock *sk,
			    struct sk_buff *skb)
{
	struct xtfs_sa *sa = skb_dst(skb)->xfrm->mode_data;
	struct sk_buff *segs, *seg;
	int err = 0, e;

	segs = xtfs_segment(sa, skb);
	skb_list_walk_safe(segs, seg, segs) {
		skb_mark_not_on_list(seg);
		e = xtfs_output(net, sk, seg);
		if (e && !err)
			err = e;
	}
	return err;
}

/**
 * xtfs_output() - take an inner packet routed to the SA (xfrm_mode_cbs::output)
 * @net: network namespace
 * @sk: sending socket or NULL
 * @skb: the inner packet; its dst is the xfrm bundle of the SA
 *
 * Installed as the bundle's dst output, so it sees inner packets after
 * routing. GSO batches are queued whole and segmented when sent
 * (xtfs_unbatch()); with the tunnel payload packets are sent at once
 * (xtfs_tunnel_send()).
 *
 * With dont-frag or the tunnel payload, a packet larger than the space of
 * one outer packet is handled as by a plain ESP tunnel (RFC 9347 section
 * 2.2.6): IPv4 without DF, and IPv6 from a local socket that lets the
 * stack fragment, are IP fragmented to that size (RFC 4301 section 8.1),
 * GSO batches of such packets segmented first (xtfs_output_segs()),
 * other packets get a "too big" error carrying that size as MTU. With
 * fragmentation allowed any packet goes, split across outer packets.
 *
 * Return: 0, or the error of IP fragmentation or of sending.
 */
int xtfs_output(struct net *net, struct sock *sk, struct sk_buff *skb)
{
	struct dst_entry *dst = skb_dst(skb);
	struct xtfs_sa *sa = dst->xfrm->mode_data;
	u32 space = xtfs_inner_space(sa, dst);
	bool gso = skb_is_gso(skb);
	bool whole, big;

	/* Data is copied into the payload as is: finish checksums first
	 * (those of GSO batches at segmentation).
	 */
	if (!gso && skb->ip_summed == CHECKSUM_PARTIAL &&
	    skb_checksum_help(skb))
		goto drop_err;
	if (!skb_dst_force(skb))
		goto drop_err;

	/* Inner packets that may not be split across outer packets. */
	whole = sa->cfg.dont_frag || sa->pl->whole;
	if (gso)
		big = whole && !skb_gso_validate_network_len(skb, space);
	else
		big = skb->len > space && (whole || skb->len > IP_MAX_MTU);
	if (!big)
		return sa->pl->send(sa, sk, skb, space);
	if (gso && xtfs_may_fragment(skb, space))
		return xtfs_output_segs(net, sk, skb);
	if (!gso && ip_hdr(skb)->version == 4 && xtfs_may_fragment(skb, space)) {
		/* ip_do_fragment() cuts to the smaller of the bundle's
		 * MTU and frag_max_size, and frees @skb.
		 */
		IPCB(skb)->frag_max_size = space;
		return ip_do_fragment(net, sk, skb, xtfs_frag_output);
	}
	if (!gso && ip_hdr(skb)->version == 6 && xtfs_may_fragment(skb, space)) {
		/* A local socket that lets the stack fragment (as
		 * __xfrm6_output() does for tunnel mode); frees @skb.
		 */
		IP6CB(skb)->frag_max_size = space;
		return ip6_fragment(net, sk, skb, xtfs_frag_output);
	}
	xtfs_too_big(skb, space);
	xtfs_inc(sa, XTFS_CNT_DROP_TOO_BIG, 1);
	kfree_skb_reason(skb, SKB_DROP_REASON_PKT_TOO_BIG);
	return 0;

drop_err:
	xtfs_inc(sa, XTFS_CNT_DROP_OUT_ERR, 1);
	kfree_skb(skb);
	return 0;
}

/**
 * xtfs_tunnel_fields() - outer header fields for an inner packet carried
 *	with the tunnel payload
 * @x: the SA
 * @skb: the inner packet, data and network header at its IP header
 * @o: out, the fields: protocol 4 or 41, DS field, DF bit
 *
 * As tunnel mode builds them (RFC 4301 section 5.1.2.1): the DSCP copied
 * unless the SA says not to, ECN encapsulated (RFC 6040) unless the SA
 * says noecn, DF copied from an IPv4 inner packet and set for IPv6 (no
 * DF at all with nopmtudisc).
 *
 * Return: 0.
 */
int xtfs_tunnel_fields(struct xfrm_state *x, struct sk_buff *skb,
		       struct xtfs_outer *o)
{
	u8 inner;

	memset(o, 0, sizeof(*o));
	if (ip_hdr(skb)->version == 4) {
		o->proto = IPPROTO_IPIP;
		inner = ipv4_get_dsfield(ip_hdr(skb));
		o->df = ip_hdr(skb)->frag_off & htons(IP_DF);
	} else {
		o->proto = IPPROTO_IPV6;
		inner = ipv6_get_dsfield(ipv6_hdr(skb));
		o->df = true;
	}
	o->ds = inner;
	if (x->props.extra_flags & XFRM_SA_XFLAG_DONT_ENCAP_DSCP)
		o->ds &= INET_ECN_MASK;
	o->ds = INET_ECN_encapsulate(o->ds, inner);
	if (x->props.flags & XFRM_STATE_NOECN)
		o->ds &= ~INET_ECN_MASK;
	if (x->props.flags & XFRM_STATE_NOPMTUDISC)
		o->df = false;
	return 0;
}

/**
 * xtfs_aggfrag_fields() - outer header fields of an AGGFRAG payload
 * @x: the SA
 * @skb: the outer packet (unused: no inner header to copy from)
 * @o: out, the fields: protocol AGGFRAG_PAYLOAD (RFC 9347 section 6.1),
 *	DS field 0 (the DS field is not copied and ECN is not mapped, RFC
 *	9347 sections 2.2.5.2 and 2.2.5.3), ECT(0) for a
 *	congestion-controlled SA without noecn, DF set unless the SA says
 *	nopmtudisc
 *
 * Return: 0.
 */
int xtfs_aggfrag_fields(struct xfrm_state *x, struct sk_buff *skb,
			struct xtfs_outer *o)
{
	memset(o, 0, sizeof(*o));
	o->proto = IPPROTO_AGGFRAG;
	o->df = !(x->props.flags & XFRM_STATE_NOPMTUDISC);
	/* RFC 9347 section 3.1 asks for a Not-ECT outer header (RFC 6040
	 * compatibility mode) and, with ECN in use, for CE to count as
	 * loss. A congestion-controlled SA sends ECT(0) instead, so that
	 * CE can be marked at all (a deviation, Documentation/xtfs.rst,
	 * "Congestion control"); the inner packets' ECN is not copied out.
	 */
	if (((struct xtfs_sa *)x->mode_data)->cfg.pace.send == XTFS_SEND_CC &&
	    !(x->props.flags & XFRM_STATE_NOECN))
		o->ds = INET_ECN_ECT_0;
	return 0;
}

/**
 * xtfs_prepare_output() - add the outer IP header (xfrm_mode_cbs::prepare_output)
 * @x: the SA
 * @skb: an outer packet built by xtfs_build_one(), data at the AGGFRAG
 *	header; or with the tunnel payload the inner packet, data at its IP
 *	header
 *
 * Lays out the outer header in the headroom the way ESP expects it: the
 * network header at the outer IP header, the transport header at the ESP
 * header and the mac header at the protocol field, which carries
 * AGGFRAG_PAYLOAD (RFC 9347 section 6.1), or 4 or 41 with the tunnel
 * payload, for ESP to move into the ESP next header field. That, the
 * DS field, the DF bit and, where the payload format says so, the IPv4
 * Identification or IPv6 flow label come from the payload format
 * (xtfs_aggfrag_fields(), xtfs_tunnel_fields(), xtfs_iipc_fields()).
 *
 * Return: 0, the payload format's error, or -EAFNOSUPPORT for an SA
 * family other than IPv4 or IPv6.
 */
int xtfs_prepare_output(struct xfrm_state *x, struct sk_buff *skb)
{
	struct xtfs_sa *sa = x->mode_data;
	struct dst_entry *dst = skb_dst(skb);
	struct xtfs_outer o;
	int err;

	err = sa->pl->outer_fields(x, skb, &o);
	if (err)
		return err;
	skb_set_network_header(skb, -sa->outer_len);
	if (x->props.family == AF_INET) {
		struct iphdr *iph = ip_hdr(skb);

		skb->mac_header = skb->network_header +
				  offsetof(struct iphdr, protocol);
		skb->transport_header = skb->network_header + sizeof(*iph);
		iph->version = 4;
		iph->ihl = 5;
		iph->tos = o.ds;
		iph->frag_off = o.df ? htons(IP_DF) : 0;
		iph->ttl = ip4_dst_hoplimit(xfrm_dst_child(dst));
		iph->protocol = o.proto;
		iph->saddr = x->props.saddr.a4;
		iph->daddr = x->id.daddr.a4;
		if (o.flow_set)
			iph->id = htons(o.flow & 0xffff);
		else
			ip_select_ident(dev_net(dst->dev), skb, NULL);
		skb->protocol = htons(ETH_P_IP);
		return 0;
	}
	if (x->props.family == AF_INET6) {
		struct ipv6hdr *ip6h = ipv6_hdr(skb);

		skb->mac_header = skb->network_header +
				  offsetof(struct ipv6hdr, nexthdr);
		skb->transport_header = skb->network_header + sizeof(*ip6h);
		ip6_flow_hdr(ip6h, o.ds,
			     htonl(o.flow_set ? o.flow & 0xfffff : 0));
		ip6h->nexthdr = o.proto;
		ip6h->hop_limit = ip6_dst_hoplimit(xfrm_dst_child(dst));
		ip6h->saddr = x->props.saddr.in6;
		ip6h->daddr = x->id.daddr.in6;
		skb->protocol = htons(ETH_P_IPV6);
		return 0;
	}
	return -EAFNOSUPPORT;
}

/**
 * xtfs_output_init() - set up the send side of an SA
 * @sa: the SA state
 */
void xtfs_output_init(struct xtfs_sa *sa)
{
	spin_lock_init(&sa->lock);
	__skb_queue_head_init(&sa->queue);
	hrtimer_setup(&sa->timer, xtfs_timer_fn, CLOCK_MONOTONIC,
		      HRTIMER_MODE_REL_SOFT);
	INIT_WORK(&sa->tx_work, xtfs_tx_work);
	/* Spread SAs over the CPUs, one sending CPU each (xtfs_kick()). */
	sa->tx_cpu = cpumask_local_spread(ntohl(sa->x->id.spi), NUMA_NO_NODE);
}

/**
 * xtfs_dst_uses() - whether a route leaves by a device
 * @dst: an inner packet's route, the SA's xfrm bundle
 * @dev: the device
 *
 * Return: true when @dst or a route it stacks on (its child chain, down
 * to the path) sends by @dev.
 */
static bool xtfs_dst_uses(const struct dst_entry *dst,
			  const struct net_device *dev)
{
	for (; dst; dst = xfrm_dst_child(dst))
		if (dst_dev(dst) == dev)
			return true;
	return false;
}

/**
 * xtfs_output_flush_dev() - drop the queued packets routed by a device
 * @sa: the SA state
 * @dev: a device being unregistered
 *
 * A queued inner packet waits up to the init delay on its route: when a
 * device goes down or away (xtfs_netdev_event()), the packets whose route
 * leaves by it are dropped at once, counted as drop_no_dev. A fixed-rate
 * SA forgets the route of its all-pad packets when it leaves by it.
 */
void xtfs_output_flush_dev(struct xtfs_sa *sa, const struct net_device *dev)
{
	struct sk_buff *skb, *tmp;

	spin_lock_bh(&sa->lock);
	skb_queue_walk_safe(&sa->queue, skb, tmp) {
		if (!xtfs_dst_uses(skb_dst(skb), dev))
			continue;
		if (skb == skb_peek(&sa->queue))
			sa->head_sent = 0;
		__skb_unlink(skb, &sa->queue);
		sa->queued -= skb->len;
		xtfs_inc(sa, XTFS_CNT_DROP_NO_DEV, 1);
		kfree_skb(skb);
	}
	if (sa->pad_dst && xtfs_dst_uses(sa->pad_dst, dev))
		xtfs_pad_dst_put(sa);
	spin_unlock_bh(&sa->lock);
}

/**
 * xtfs_output_destroy() - stop the send side and free what is queued
 * @sa: the SA state
 */
void xtfs_output_destroy(struct xtfs_sa *sa)
{
	/* Nothing is queued and no route is kept for all-pad packets: both
	 * hold the SA through their bundle. A fixed-rate SA's pacing is
	 * stopped first, so that its work arms nothing either; the timer
	 * only queues the work, and the work with an empty queue arms
	 * nothing: cancel in that order.
	 */
	spin_lock_bh(&sa->lock);
	xtfs_pacing_stop(sa);
	spin_unlock_bh(&sa->lock);
	hrtimer_cancel(&sa->timer);
	cancel_work_sync(&sa->tx_work);
	xtfs_cc_destroy(sa);
	__skb_queue_purge(&sa->queue);
	sa->queued = 0;
	sa->head_sent = 0;
}
