// SPDX-License-Identifier: GPL-2.0
/*
 * xtfs send path: queue inner packets, pack them into AGGFRAG payloads
 * (RFC 9347 sections 2.2 and 2.2.3) and hand the outer packets to the
 * kernel's ESP through xfrm_output().
 */
#include <crypto/aead.h>
#include <linux/icmp.h>
#include <linux/icmpv6.h>
#include <net/gso.h>
#include <net/icmp.h>
#include <net/ip.h>
#include <net/ip6_route.h>
#include <net/ipv6.h>
#include <net/xfrm.h>
#include <kunit/visibility.h>

#include "xtfs.h"
#include "xtfs_aggfrag.h"

#define XTFS_HDR_LEN	sizeof(struct xtfs_aggfrag_hdr)

/**
 * xtfs_payload_space() - largest ESP payload for an outer packet size
 * @x: the SA (ESP type initialised)
 * @outer_size: outer packet size in octets
 *
 * The ESP payload (AGGFRAG header and data blocks) plus the pad length
 * and next header octets must be a multiple of the cipher's alignment
 * (RFC 4303 section 2.4); the outer IP header, ESP header, IV and ICV come
 * on top. An outer packet of exactly @outer_size results when the
 * alignment allows it.
 *
 * Return: the payload size in octets, including the AGGFRAG header, or 0
 * when not even an empty payload fits.
 */
u32 xtfs_payload_space(struct xfrm_state *x, u32 outer_size)
{
	struct crypto_aead *aead = x->data;
	u32 hdr = x->props.header_len - XTFS_HDR_LEN;
	u32 icv = crypto_aead_authsize(aead);
	u32 align = ALIGN(crypto_aead_blocksize(aead), 4);
	u32 n;

	if (outer_size < hdr + icv + align)
		return 0;
	n = (outer_size - hdr - icv) & ~(align - 1);
	return n - 2;
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
	struct crypto_aead *aead = x->data;
	u32 align = ALIGN(crypto_aead_blocksize(aead), 4);

	return x->props.header_len - XTFS_HDR_LEN + crypto_aead_authsize(aead) +
	       ALIGN(XTFS_HDR_LEN + XTFS_MIN_BLOCK_SPACE + 2, align);
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
 * With fragmentation allowed any inner packet fits (RFC 9347 section
 * 2.2.6: no "too big" errors are needed); with dont-frag an inner packet
 * must fit the data block space of one outer packet.
 *
 * Return: the inner MTU in octets.
 */
u32 xtfs_get_inner_mtu(struct xfrm_state *x, int outer_mtu)
{
	struct xtfs_sa *sa = x->mode_data;
	u32 space;

	/* A block offset is 16 bits: no inner packet may exceed 65535. */
	if (!sa->cfg.dont_frag)
		return IP_MAX_MTU;
	if (sa->cfg.pkt_size && sa->cfg.pkt_size < outer_mtu)
		outer_mtu = sa->cfg.pkt_size;
	space = xtfs_payload_space(x, outer_mtu);
	return space > XTFS_HDR_LEN ? space - XTFS_HDR_LEN : 0;
}

/**
 * xtfs_fill_payload() - pack queued inner packets into one payload
 * @q: inner packets in send order
 * @head_sent: octets of the head of @q already sent in earlier payloads;
 *	updated
 * @buf: where the data blocks go
 * @space: octets available at @buf
 * @dont_frag: never split a packet; stop at the first one that does not
 *	fit whole
 * @blkoff: set to the AGGFRAG block offset of this payload
 * @frags: set to the number of packet pieces (not whole packets) packed
 *
 * Fills @buf with the rest of a packet begun in an earlier payload, then
 * whole packets, and splits whichever packet reaches the end of the space
 * (RFC 9347 section 2.2.3), so that every payload is full while packets
 * are queued. Fully packed packets are removed from @q and freed.
 *
 * Return: octets written to @buf.
 */
VISIBLE_IF_KUNIT u32 xtfs_fill_payload(struct sk_buff_head *q, u32 *head_sent,
				       u8 *buf, u32 space, bool dont_frag,
				       u16 *blkoff, u32 *frags)
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

		if (take < left && dont_frag)
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
 * xtfs_drop_list() - drop inner packets that can no longer be sent
 * @sa: the SA state
 * @list: the packets
 * @c: counter to charge
 */
static void xtfs_drop_list(struct xtfs_sa *sa, struct sk_buff_head *list,
			   enum xtfs_counter c)
{
	xtfs_inc(sa, c, skb_queue_len(list));
	__skb_queue_purge(list);
}

/**
 * xtfs_send_one() - build one outer packet from the head of @list and send it
 * @sa: the SA state
 * @list: inner packets to send, in order
 * @head_sent: octets of the head of @list sent in earlier payloads
 *
 * Return: 0 when a packet was built (its fate is up to ESP), -ENOSPC when
 * the path leaves no room for data blocks, -ENOMEM.
 */
static int xtfs_send_one(struct xtfs_sa *sa, struct sk_buff_head *list,
			 u32 *head_sent)
{
	struct xfrm_state *x = sa->x;
	struct sk_buff *head = skb_peek(list);
	struct dst_entry *dst = skb_dst(head);
	struct xtfs_aggfrag_hdr *h;
	u32 psize, space, used, frags;
	struct sk_buff *skb;
	u16 blkoff;
	int hroom;
	u8 *data;

	psize = xtfs_payload_space(x, xtfs_outer_size(sa, dst));
	if (psize < XTFS_HDR_LEN + XTFS_MIN_BLOCK_SPACE)
		return -ENOSPC;
	space = psize - XTFS_HDR_LEN;

	/* dont-frag: a packet larger than a whole payload can never go. */
	if (sa->cfg.dont_frag && head->len > space) {
		__skb_unlink(head, list);
		kfree_skb(head);
		xtfs_inc(sa, XTFS_CNT_DROP_TOO_BIG, 1);
		return 0;
	}

	hroom = LL_RESERVED_SPACE(dst->dev) + dst->header_len;
	skb = alloc_skb(hroom + psize + dst->trailer_len +
			dst->dev->needed_tailroom, GFP_ATOMIC);
	if (!skb)
		return -ENOMEM;
	skb_reserve(skb, hroom);
	skb_dst_set(skb, dst_clone(dst));
	skb->mark = head->mark;
	skb->priority = head->priority;

	h = skb_put(skb, XTFS_HDR_LEN);
	data = skb_put(skb, space);
	used = xtfs_fill_payload(list, head_sent, data, space,
				 sa->cfg.dont_frag, &blkoff, &frags);
	h->subtype = XTFS_SUBTYPE_BASIC;
	h->reserved = 0;
	h->block_offset = htons(blkoff);

	if (used < space) {
		if (sa->cfg.pkt_size) {
			/* RFC 9347 6.1.3.3: a pad data block to the end keeps
			 * every outer packet at the configured size.
			 */
			memset(data + used, 0, space - used);
			xtfs_inc(sa, XTFS_CNT_PAD_OUT_BYTES, space - used);
		} else {
			skb_trim(skb, XTFS_HDR_LEN + used);
		}
	}
	xtfs_inc(sa, XTFS_CNT_FRAGS_OUT, frags);
	xtfs_inc(sa, XTFS_CNT_OUTER_OUT_PKTS, 1);

	skb_reset_network_header(skb);
	skb->protocol = x->props.family == AF_INET ? htons(ETH_P_IP) :
						     htons(ETH_P_IPV6);
	/* xfrm_output() consumes the skb whatever it returns; ESP and the
	 * xfrm core count their own errors.
	 */
	xfrm_output(NULL, skb);
	return 0;
}

/**
 * xtfs_send_list() - send queued inner packets as AGGFRAG outer packets
 * @sa: the SA state
 * @list: inner packets, in order; emptied
 *
 * All fragments of a packet go out back to back in consecutive outer
 * packets (RFC 9347 section 2.2.3) because one call sends them all.
 */
static void xtfs_send_list(struct xtfs_sa *sa, struct sk_buff_head *list)
{
	u32 head_sent = 0;
	int err;

	while (!skb_queue_empty(list)) {
		err = xtfs_send_one(sa, list, &head_sent);
		if (err) {
			xtfs_drop_list(sa, list, err == -ENOMEM ?
				       XTFS_CNT_DROP_NOMEM :
				       XTFS_CNT_DROP_OUT_ERR);
			return;
		}
	}
}

/**
 * xtfs_timer_fn() - send timer: everything queued goes out now
 * @t: &xtfs_sa.timer
 *
 * Runs in softirq context (HRTIMER_MODE_REL_SOFT); hrtimer never runs
 * one timer's callback on two CPUs at once, so outer packets leave in
 * queue order.
 *
 * Return: HRTIMER_NORESTART.
 */
static enum hrtimer_restart xtfs_timer_fn(struct hrtimer *t)
{
	struct xtfs_sa *sa = container_of(t, struct xtfs_sa, timer);
	struct sk_buff_head list;

	__skb_queue_head_init(&list);
	spin_lock_bh(&sa->lock);
	skb_queue_splice_init(&sa->queue, &list);
	sa->queued = 0;
	spin_unlock_bh(&sa->lock);

	xtfs_send_list(sa, &list);
	return HRTIMER_NORESTART;
}

/**
 * xtfs_too_big() - report an inner packet that can never be sent
 * @skb: the inner packet
 * @mtu: the largest inner packet the SA can send
 *
 * Only with dont-frag (RFC 9347 section 2.2.6): the sender learns the
 * inner MTU as from a plain ESP tunnel.
 */
static void xtfs_too_big(struct sk_buff *skb, u32 mtu)
{
	if (skb->sk) {
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
 * xtfs_enqueue() - queue one inner packet for sending
 * @sa: the SA state
 * @skb: the inner packet, data at its IP header
 */
static void xtfs_enqueue(struct xtfs_sa *sa, struct sk_buff *skb)
{
	struct dst_entry *dst = skb_dst(skb);
	u32 len = skb->len;
	u32 space;

	/* Data is copied into the payload as is: finish checksums first. */
	if (skb->ip_summed == CHECKSUM_PARTIAL && skb_checksum_help(skb))
		goto drop_err;
	if (!skb_dst_force(skb))
		goto drop_err;

	space = xtfs_payload_space(sa->x, xtfs_outer_size(sa, dst));
	space = space > XTFS_HDR_LEN ? space - XTFS_HDR_LEN : 0;
	/* The block offset that follows a split packet is 16 bits. */
	if (len > IP_MAX_MTU)
		space = min(space, IP_MAX_MTU);
	if ((sa->cfg.dont_frag || len > IP_MAX_MTU) && len > space) {
		xtfs_too_big(skb, space);
		xtfs_inc(sa, XTFS_CNT_DROP_TOO_BIG, 1);
		kfree_skb(skb);
		return;
	}

	spin_lock_bh(&sa->lock);
	if (len > sa->cfg.max_qsize - min(sa->queued, sa->cfg.max_qsize)) {
		spin_unlock_bh(&sa->lock);
		xtfs_inc(sa, XTFS_CNT_DROP_QUEUE_FULL, 1);
		kfree_skb(skb);
		return;
	}
	__skb_queue_tail(&sa->queue, skb);
	sa->queued += len;
	/* A full outer packet's worth goes at once; otherwise wait up to the
	 * init delay for more.
	 */
	if (sa->queued >= space)
		hrtimer_start(&sa->timer, 0, HRTIMER_MODE_REL_SOFT);
	else if (!hrtimer_is_queued(&sa->timer))
		hrtimer_start(&sa->timer,
			      ns_to_ktime((u64)sa->cfg.init_delay_us * NSEC_PER_USEC),
			      HRTIMER_MODE_REL_SOFT);
	spin_unlock_bh(&sa->lock);

	xtfs_inc(sa, XTFS_CNT_INNER_OUT_PKTS, 1);
	xtfs_inc(sa, XTFS_CNT_INNER_OUT_BYTES, len);
	return;

drop_err:
	xtfs_inc(sa, XTFS_CNT_DROP_OUT_ERR, 1);
	kfree_skb(skb);
}

/**
 * xtfs_output() - take an inner packet routed to the SA (xfrm_mode_cbs::output)
 * @net: network namespace
 * @sk: sending socket or NULL
 * @skb: the inner packet; its dst is the xfrm bundle of the SA
 *
 * Installed as the bundle's dst output, so it sees inner packets after
 * routing. GSO packets are segmented here so that queue accounting is per
 * packet.
 *
 * Return: 0, or a negative error when the packet could not be segmented.
 */
int xtfs_output(struct net *net, struct sock *sk, struct sk_buff *skb)
{
	struct xfrm_state *x = skb_dst(skb)->xfrm;
	struct xtfs_sa *sa = x->mode_data;
	struct sk_buff *segs, *next;

	if (skb_is_gso(skb)) {
		segs = skb_gso_segment(skb, 0);
		if (IS_ERR_OR_NULL(segs)) {
			xtfs_inc(sa, XTFS_CNT_DROP_OUT_ERR, 1);
			kfree_skb(skb);
			return segs ? PTR_ERR(segs) : -EINVAL;
		}
		consume_skb(skb);
	} else {
		segs = skb;
	}

	skb_list_walk_safe(segs, skb, next) {
		skb_mark_not_on_list(skb);
		xtfs_enqueue(sa, skb);
	}
	return 0;
}

/**
 * xtfs_prepare_output() - add the outer IP header (xfrm_mode_cbs::prepare_output)
 * @x: the SA
 * @skb: an outer packet built by xtfs_send_one(), data at the AGGFRAG
 *	header
 *
 * Lays out the outer header in the headroom the way ESP expects it: the
 * network header at the outer IP header, the transport header at the ESP
 * header and the mac header at the protocol field, which carries
 * AGGFRAG_PAYLOAD (RFC 9347 section 6.1) for ESP to move into the ESP
 * next header field. The DS field is not copied and ECN is not mapped
 * (RFC 9347 sections 2.2.5.2 and 2.2.5.3); the outer DF bit is set.
 *
 * Return: 0, or -EAFNOSUPPORT for an SA family other than IPv4 or IPv6.
 */
int xtfs_prepare_output(struct xfrm_state *x, struct sk_buff *skb)
{
	struct dst_entry *dst = skb_dst(skb);

	skb_set_network_header(skb, -(x->props.header_len - XTFS_HDR_LEN));
	if (x->props.family == AF_INET) {
		struct iphdr *iph = ip_hdr(skb);

		skb->mac_header = skb->network_header +
				  offsetof(struct iphdr, protocol);
		skb->transport_header = skb->network_header + sizeof(*iph);
		iph->version = 4;
		iph->ihl = 5;
		iph->tos = 0;
		iph->frag_off = x->props.flags & XFRM_STATE_NOPMTUDISC ?
				0 : htons(IP_DF);
		iph->ttl = ip4_dst_hoplimit(xfrm_dst_child(dst));
		iph->protocol = IPPROTO_AGGFRAG;
		iph->saddr = x->props.saddr.a4;
		iph->daddr = x->id.daddr.a4;
		ip_select_ident(dev_net(dst->dev), skb, NULL);
		skb->protocol = htons(ETH_P_IP);
		return 0;
	}
	if (x->props.family == AF_INET6) {
		struct ipv6hdr *ip6h = ipv6_hdr(skb);

		skb->mac_header = skb->network_header +
				  offsetof(struct ipv6hdr, nexthdr);
		skb->transport_header = skb->network_header + sizeof(*ip6h);
		ip6_flow_hdr(ip6h, 0, 0);
		ip6h->nexthdr = IPPROTO_AGGFRAG;
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
}

/**
 * xtfs_output_destroy() - stop the send side and free what is queued
 * @sa: the SA state
 */
void xtfs_output_destroy(struct xtfs_sa *sa)
{
	hrtimer_cancel(&sa->timer);
	__skb_queue_purge(&sa->queue);
}
