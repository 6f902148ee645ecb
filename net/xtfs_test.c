// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests for xtfs's AGGFRAG codec and receive state machine: packing
 * inner packets into payloads (xtfs_fill_payload), parsing and reassembling
 * them (xtfs_reasm_payload) behind the reorder window (xtfs_rx_seq,
 * xtfs_rx_expire), under loss, reorder and duplication, at the boundaries
 * RFC 9347 sections 2.2 and 6.1 allow, and against malformed payloads.
 *
 * Every receive test runs over three outer skb shapes (a parametrised
 * case): linear; paged, with the AGGFRAG header split between the head and
 * a run of uneven page fragments that share pages; and frag list, whose
 * members are themselves part linear, part paged. Outer packets are fed as
 * clones, and each test checks that the parser never wrote into them.
 * Delivered packets are compared byte for byte with what was sent, and
 * the per-SA counters are checked against what the scenario implies.
 */
#include <kunit/test.h>
#include <kunit/visibility.h>
#include <linux/mm.h>
#include <linux/sizes.h>
#include <linux/skbuff.h>

#include "xtfs.h"
#include "xtfs_aggfrag.h"
#include "xtfs_test.h"

MODULE_IMPORT_NS("EXPORTED_FOR_KUNIT_TESTING");

#define HDR_LEN		sizeof(struct xtfs_aggfrag_hdr)
#define CC_HDR_LEN	sizeof(struct xtfs_aggfrag_cc_hdr)
/* Sequence numbers of a stream start here and cross 2^32. */
#define SEQ_BASE	0xfffffff0ULL
/* Longest a stream may be, in payloads and in inner packets. */
#define MAX_PL		512
#define MAX_IN		64

/* Outer skb shapes, the parameter of every receive test. */
enum xtfs_shape { XTFS_LINEAR, XTFS_PAGED, XTFS_FRAGLIST };

static const enum xtfs_shape xtfs_shapes[] = {
	XTFS_LINEAR, XTFS_PAGED, XTFS_FRAGLIST,
};

static void xtfs_shape_desc(const enum xtfs_shape *s, char *desc)
{
	static const char * const names[] = { "linear", "paged", "frag_list" };

	strscpy(desc, names[*s], KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(xtfs_shape, xtfs_shapes, xtfs_shape_desc);

/**
 * xtfs_test_add_frags() - append octets to an skb as page fragments
 * @test: test context
 * @skb: the skb; its length fields are updated
 * @buf: the octets
 * @len: how many
 *
 * Pieces of uneven sizes, packed several to a page (pages shared between
 * fragments, as a driver's page pool makes them), using every fragment
 * slot the skb has.
 */
void xtfs_test_add_frags(struct kunit *test, struct sk_buff *skb, const u8 *buf,
			 u32 len)
{
	struct page *page = NULL;
	u32 off = 0;

	while (len) {
		u32 nr = skb_shinfo(skb)->nr_frags;
		u32 slots = MAX_SKB_FRAGS - nr;
		u32 n;

		KUNIT_ASSERT_GT(test, slots, 0U);
		n = slots == 1 ? len : DIV_ROUND_UP(len, slots);
		if (slots > 1 && !(nr & 1))
			n = max(n / 3, 1U);
		n = min(n, len);
		if (!page || off + n > page_size(page)) {
			page = alloc_pages(GFP_KERNEL | __GFP_COMP,
					   get_order(n + 3));
			KUNIT_ASSERT_NOT_NULL(test, page);
			off = 3;	/* not aligned */
		} else {
			get_page(page);
		}
		memcpy(page_address(page) + off, buf, n);
		skb_add_rx_frag(skb, nr, page, off, n, n);
		buf += n;
		len -= n;
		off += n;
	}
}

/**
 * make_outer() - build an outer packet of the given shape
 * @test: test context
 * @buf: AGGFRAG header and data blocks
 * @len: octets at @buf
 * @shape: see &enum xtfs_shape
 *
 * Return: the skb, data at the AGGFRAG header.
 */
static struct sk_buff *make_outer(struct kunit *test, const u8 *buf, u32 len,
				  enum xtfs_shape shape)
{
	static const u32 piece[] = { 3, 50, 1, 200, 17, 700 };
	u32 head = shape == XTFS_LINEAR ? len : min(len, 1U);
	struct sk_buff *skb, *last = NULL;
	u32 i = 0;

	skb = alloc_skb(head, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, skb);
	skb_put_data(skb, buf, head);
	buf += head;
	len -= head;
	if (shape == XTFS_PAGED) {
		xtfs_test_add_frags(test, skb, buf, len);
		return skb;
	}
	while (len) {
		u32 n = min(piece[i++ % ARRAY_SIZE(piece)], len);
		struct sk_buff *m = alloc_skb(n / 2, GFP_KERNEL);

		KUNIT_ASSERT_NOT_NULL(test, m);
		skb_put_data(m, buf, n / 2);
		xtfs_test_add_frags(test, m, buf + n / 2, n - n / 2);
		if (last)
			last->next = m;
		else
			skb_shinfo(skb)->frag_list = m;
		last = m;
		skb->len += n;
		skb->data_len += n;
		skb->truesize += m->truesize;
		buf += n;
		len -= n;
	}
	return skb;
}

/**
 * expect_unchanged() - the parser did not write into an outer packet
 * @test: test context
 * @skb: the outer packet
 * @buf: what it was built from
 * @len: octets at @buf
 */
static void expect_unchanged(struct kunit *test, const struct sk_buff *skb,
			     const u8 *buf, u32 len)
{
	u8 *now = kunit_kmalloc(test, len ?: 1, GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, now);
	KUNIT_ASSERT_EQ(test, skb->len, len);
	KUNIT_ASSERT_EQ(test, skb_copy_bits(skb, 0, now, len), 0);
	KUNIT_EXPECT_MEMEQ(test, now, buf, len);
	kunit_kfree(test, now);
}

/**
 * make_inner() - build an inner IPv4 or IPv6 packet with a byte pattern
 * @test: test context
 * @v6: IPv6 instead of IPv4
 * @len: total length in octets (at least 20, or 40 for IPv6)
 * @seed: pattern seed
 *
 * Return: the packet.
 */
static struct sk_buff *make_inner(struct kunit *test, bool v6, u32 len, u8 seed)
{
	struct sk_buff *skb = alloc_skb(len, GFP_KERNEL);
	u8 *p;
	u32 i;

	KUNIT_ASSERT_NOT_NULL(test, skb);
	p = skb_put(skb, len);
	for (i = 0; i < len; i++)
		p[i] = seed + i * 7;
	if (v6) {
		p[0] = 0x60;
		p[4] = (len - 40) >> 8;
		p[5] = (len - 40) & 0xff;
	} else {
		p[0] = 0x45;
		p[2] = len >> 8;
		p[3] = len & 0xff;
	}
	return skb;
}

/**
 * struct stream - inner packets packed into payloads, and a receiving SA
 * @sa: receiving SA state: reorder window, parser, counters
 * @q: inner packets still to be packed
 * @sent: a copy of every inner packet, in order
 * @got: inner packets the receiver delivered
 * @shape: shape of the outer packets fed
 * @pl: payloads (AGGFRAG header and data blocks), in sequence order
 * @plen: payload lengths in octets
 * @pstart: offset in the inner packet stream of each payload's data
 * @pend: offset in the inner packet stream just past each payload's data
 * @seq: sequence number each payload was accepted with
 * @fed: whether each payload was accepted by the receiver
 * @skb: the skb each payload was last fed in, for its address only (it
 *	may be freed)
 * @npl: number of payloads
 * @ioff: offset in the inner packet stream of each inner packet
 * @nin: number of inner packets
 * @head_sent: packer state
 * @bytes: octets of inner packets added so far
 * @now: arrival time given to the receiver with each payload; an hour
 *	ahead of the clock, so that the real drop timer never fires
 */
struct stream {
	struct xtfs_sa		*sa;
	struct sk_buff_head	q;
	struct sk_buff_head	sent;
	struct sk_buff_head	got;
	enum xtfs_shape		shape;
	u8			*pl[MAX_PL];
	u32			plen[MAX_PL];
	u32			pstart[MAX_PL];
	u32			pend[MAX_PL];
	u64			seq[MAX_PL];
	bool			fed[MAX_PL];
	const void		*skb[MAX_PL];
	u32			npl;
	u32			ioff[MAX_IN];
	u32			nin;
	u32			head_sent;
	u32			bytes;
	ktime_t			now;
};

static void st_cleanup(void *data)
{
	struct stream *st = data;

	xtfs_input_destroy(st->sa);
	__skb_queue_purge(&st->q);
	__skb_queue_purge(&st->sent);
	__skb_queue_purge(&st->got);
}

/**
 * st_new() - a stream and a receiving SA with a reorder window
 * @test: test context; the stream is freed when the test ends
 * @win: reorder window size
 *
 * The drop time is as long as it can be: the tests play the drop timer
 * with xtfs_rx_expire(), the real one must never fire.
 *
 * Return: the stream.
 */
static struct stream *st_new(struct kunit *test, u16 win)
{
	struct stream *st = kunit_kzalloc(test, sizeof(*st), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, st);
	st->sa = kunit_kzalloc(test, sizeof(*st->sa), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, st->sa);
	st->sa->cfg.reorder_win = win;
	st->sa->cfg.drop_time_us = U32_MAX;
	st->now = ktime_add(ktime_get(), ktime_set(3600, 0));
	KUNIT_ASSERT_EQ(test, xtfs_input_init(st->sa, GFP_KERNEL), 0);
	__skb_queue_head_init(&st->q);
	__skb_queue_head_init(&st->sent);
	__skb_queue_head_init(&st->got);
	st->shape = test->param_value ?
		    *(const enum xtfs_shape *)test->param_value : XTFS_LINEAR;
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, st_cleanup, st), 0);
	return st;
}

static u64 cnt(const struct stream *st, enum xtfs_counter c)
{
	return atomic64_read(&st->sa->cnt[c]);
}

/* Queue an inner packet for packing and keep a copy to compare with. */
static void st_add(struct kunit *test, struct stream *st, bool v6, u32 len,
		   u8 seed)
{
	struct sk_buff *skb = make_inner(test, v6, len, seed);
	struct sk_buff *copy = skb_copy(skb, GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, copy);
	KUNIT_ASSERT_LT(test, st->nin, (u32)MAX_IN);
	__skb_queue_tail(&st->sent, copy);
	__skb_queue_tail(&st->q, skb);
	st->ioff[st->nin++] = st->bytes;
	st->bytes += len;
}

static void st_add_lens(struct kunit *test, struct stream *st, const u32 *lens,
			u32 n)
{
	u32 i;

	for (i = 0; i < n; i++)
		st_add(test, st, i & 1, lens[i], i);
}

/* Append a payload built by hand (no inner packets behind it). */
static void st_add_raw(struct kunit *test, struct stream *st, const u8 *buf,
		       u32 len)
{
	u32 at = st->npl ? st->pend[st->npl - 1] : 0;

	KUNIT_ASSERT_LT(test, st->npl, (u32)MAX_PL);
	st->pl[st->npl] = kunit_kmalloc(test, len ?: 1, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, st->pl[st->npl]);
	memcpy(st->pl[st->npl], buf, len);
	st->plen[st->npl] = len;
	st->pstart[st->npl] = at;
	st->pend[st->npl] = at;
	st->npl++;
}

/**
 * st_pack_one() - pack the next payload
 * @test: test context
 * @st: the stream
 * @space: data block space in octets
 * @cc: use the congestion control header (sub-type 1)
 *
 * Return: the block offset written.
 */
static u16 st_pack_one(struct kunit *test, struct stream *st, u32 space,
		       bool cc)
{
	u32 hlen = cc ? CC_HDR_LEN : HDR_LEN, used, frags;
	u8 *buf = kunit_kzalloc(test, hlen + space, GFP_KERNEL);
	struct xtfs_aggfrag_hdr *h = (void *)buf;
	u16 blkoff;

	KUNIT_ASSERT_NOT_NULL(test, buf);
	KUNIT_ASSERT_LT(test, st->npl, (u32)MAX_PL);
	st->pstart[st->npl] = st->npl ? st->pend[st->npl - 1] : 0;
	used = xtfs_fill_payload(&st->q, &st->head_sent, buf + hlen, space,
				 XTFS_SPLIT_FILL, &blkoff, &frags);
	KUNIT_ASSERT_GT(test, used, 0U);
	h->subtype = cc ? XTFS_SUBTYPE_CC : XTFS_SUBTYPE_BASIC;
	h->block_offset = htons(blkoff);
	if (cc) {
		struct xtfs_aggfrag_cc_hdr *c = (void *)buf;

		/* Congestion information a receiver must skip over. */
		c->flags = 0x3;
		c->loss_event_rate = htonl(1000);
		c->rtt_delays = cpu_to_be64(0x0123456789abcdefULL);
		c->tval = htonl(0x45000014);
		c->techo = htonl(0x60000000);
	}
	st->pl[st->npl] = buf;
	st->plen[st->npl] = hlen + used;
	st->pend[st->npl] = st->pstart[st->npl] + used;
	st->npl++;
	return blkoff;
}

/* Pack everything queued; every @cc_every-th payload (if set) uses CC. */
static void st_pack(struct kunit *test, struct stream *st, u32 space,
		    u32 cc_every)
{
	while (!skb_queue_empty(&st->q))
		st_pack_one(test, st, space,
			    cc_every && st->npl % cc_every == cc_every - 1);
}

/**
 * st_feed_seq() - give payload @p to the receiver as sequence number @seq
 * @test: test context
 * @st: the stream
 * @p: payload index
 * @seq: sequence number
 * @accepted: the receiver is expected to use it (not old, not duplicate);
 *	recorded for st_expect()
 */
static void st_feed_seq(struct kunit *test, struct stream *st, u32 p, u64 seq,
			bool accepted)
{
	struct sk_buff *orig, *skb;

	KUNIT_ASSERT_LT(test, p, st->npl);
	orig = make_outer(test, st->pl[p], st->plen[p], st->shape);
	skb = skb_clone(orig, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, skb);
	st->skb[p] = skb;
	spin_lock_bh(&st->sa->rlock);
	xtfs_rx_seq(st->sa, skb, seq, st->now, &st->got);
	spin_unlock_bh(&st->sa->rlock);
	expect_unchanged(test, orig, st->pl[p], st->plen[p]);
	kfree_skb(orig);
	if (accepted) {
		st->fed[p] = true;
		st->seq[p] = seq;
	}
}

/**
 * st_feed_empty() - an ESP packet without AGGFRAG payload as sequence
 *	number SEQ_BASE + @p, as xtfs_input() passes it on
 * @test: test context
 * @st: the stream
 * @p: payload index (a raw payload standing for no stream octet)
 */
static void st_feed_empty(struct kunit *test, struct stream *st, u32 p)
{
	struct sk_buff *skb = alloc_skb(0, GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, skb);
	XTFS_RX_CB(skb)->empty = true;
	spin_lock_bh(&st->sa->rlock);
	xtfs_rx_seq(st->sa, skb, SEQ_BASE + p, st->now, &st->got);
	spin_unlock_bh(&st->sa->rlock);
	st->fed[p] = true;
	st->seq[p] = SEQ_BASE + p;
}

/* Payload @p as its own sequence number, in a stream without gaps. */
static void st_feed(struct kunit *test, struct stream *st, u32 p)
{
	st_feed_seq(test, st, p, SEQ_BASE + p, true);
}

/* Parse payload @p directly, bypassing the reorder window. */
static void st_parse(struct kunit *test, struct stream *st, u32 p)
{
	struct sk_buff *orig = make_outer(test, st->pl[p], st->plen[p],
					  st->shape);

	xtfs_reasm_payload(st->sa, &st->sa->reasm, orig, &st->got);
	expect_unchanged(test, orig, st->pl[p], st->plen[p]);
	kfree_skb(orig);
}

/* The drop time passes for every gap still open. */
static void st_expire(struct stream *st)
{
	spin_lock_bh(&st->sa->rlock);
	xtfs_rx_expire(st->sa, KTIME_MAX, &st->got);
	spin_unlock_bh(&st->sa->rlock);
}

/* Index of the payload carrying stream octet @o. */
static u32 st_payload_of(const struct stream *st, u32 o)
{
	u32 p;

	for (p = 0; p < st->npl; p++)
		if (o >= st->pstart[p] && o < st->pend[p])
			return p;
	return U32_MAX;
}

/**
 * st_expect() - check deliveries and counters against what was fed
 * @test: test context
 * @st: the stream, after feeding (and expiry where needed)
 *
 * An inner packet must arrive, byte for byte and in order, exactly when
 * every payload carrying part of it was accepted under consecutive
 * sequence numbers (RFC 9347 section 2.2.3); one that began in an accepted
 * payload but did not arrive is a dropped partial packet. Nothing in the
 * stream is malformed.
 */
static void st_expect(struct kunit *test, struct stream *st)
{
	struct sk_buff *a, *b = skb_peek(&st->got);
	u32 i = 0, want = 0, reasm = 0, partial = 0;

	skb_queue_walk(&st->sent, a) {
		u32 f = st_payload_of(st, st->ioff[i]);
		u32 l = st_payload_of(st, st->ioff[i] + a->len - 1);
		bool whole = f != U32_MAX && l != U32_MAX;
		u32 p;

		for (p = f; whole && p <= l; p++)
			whole = st->fed[p] &&
				(p == f || st->seq[p] == st->seq[p - 1] + 1);
		if (!whole) {
			if (f != U32_MAX && st->fed[f])
				partial++;
			i++;
			continue;
		}
		want++;
		if (f != l)
			reasm++;
		KUNIT_EXPECT_NOT_NULL_MSG(test, b, "inner packet %u missing", i);
		if (!b)
			break;
		KUNIT_EXPECT_EQ_MSG(test, b->len, a->len, "inner packet %u", i);
		KUNIT_EXPECT_EQ(test, ntohs(b->protocol), (a->data[0] >> 4) == 6 ?
				ETH_P_IPV6 : ETH_P_IP);
		/* One carried whole is the outer skb itself, of its shape. */
		if (a->len == b->len) {
			u8 *got = kunit_kmalloc(test, b->len, GFP_KERNEL);

			KUNIT_ASSERT_NOT_NULL(test, got);
			KUNIT_ASSERT_EQ(test, skb_copy_bits(b, 0, got, b->len), 0);
			KUNIT_EXPECT_MEMEQ_MSG(test, got, a->data, a->len,
					       "inner packet %u", i);
		}
		b = skb_peek_next(b, &st->got);
		i++;
	}
	KUNIT_EXPECT_EQ(test, skb_queue_len(&st->got), want);
	KUNIT_EXPECT_EQ(test, cnt(st, XTFS_CNT_REASSEMBLED), (u64)reasm);
	KUNIT_EXPECT_EQ(test, cnt(st, XTFS_CNT_DROP_PARTIAL), (u64)partial);
	KUNIT_EXPECT_EQ(test, cnt(st, XTFS_CNT_DROP_BAD_BLOCK), 0ULL);
	KUNIT_EXPECT_EQ(test, cnt(st, XTFS_CNT_DROP_BAD_HDR), 0ULL);
	KUNIT_EXPECT_EQ(test, cnt(st, XTFS_CNT_DROP_NOMEM), 0ULL);
}

/* Inner packet sizes from the smallest IPv4 one to jumbo frames. */
static const u32 mixed_lens[] = { 20, 40, 64, 1500, 41, 3000, 60, 9000, 28, 100 };
static const u32 small_lens[] = { 20, 40, 64, 300, 41, 120, 28, 60 };

/* ------------------------------------------------------------------ */
/* Output: packing decisions (xtfs_fill_payload)                       */
/* ------------------------------------------------------------------ */

static void xtfs_test_block_len(struct kunit *test)
{
	static const u8 v4[] = { 0x45, 0, 0x05, 0xdc };
	static const u8 v6[] = { 0x60, 0, 0, 0, 0x05, 0xb4 };
	static const u8 v6_bare[] = { 0x60, 0, 0, 0, 0, 0 };
	static const u8 v4_min[] = { 0x45, 0, 0, 20 };
	static const u8 v4_short[] = { 0x45, 0, 0, 19 };
	static const u8 v4_opts[] = { 0x46, 0, 0, 23 };
	static const u8 v4_ihl4[] = { 0x44, 0, 0, 40 };
	static const u8 pad[] = { 0x00, 0, 0, 40 };

	KUNIT_EXPECT_EQ(test, xtfs_block_len(v4, 4), 1500);
	KUNIT_EXPECT_EQ(test, xtfs_block_len(v4, 3), 0);
	KUNIT_EXPECT_EQ(test, xtfs_block_len(v4, 0), 0);
	KUNIT_EXPECT_EQ(test, xtfs_block_len(v4_min, 4), 20);
	KUNIT_EXPECT_EQ(test, xtfs_block_len(v6, 6), 1500);
	KUNIT_EXPECT_EQ(test, xtfs_block_len(v6, 5), 0);
	KUNIT_EXPECT_EQ(test, xtfs_block_len(v6_bare, 6), 40);
	KUNIT_EXPECT_EQ(test, xtfs_block_len(v4_short, 4), -EINVAL);
	KUNIT_EXPECT_EQ(test, xtfs_block_len(v4_opts, 4), -EINVAL);
	/* The IHL is in the first octet: refused before the length is. */
	KUNIT_EXPECT_EQ(test, xtfs_block_len(v4_ihl4, 1), -EINVAL);
	KUNIT_EXPECT_EQ(test, xtfs_block_len(pad, 4), -EINVAL);
}

/*
 * The high half of an ESN sequence number, inferred from the next number
 * the reorder window expects (xtfs_input()): right on both sides of each
 * 2^32 boundary, whatever the replay state did meanwhile on other CPUs.
 */
static void xtfs_test_seq_infer(struct kunit *test)
{
	const u64 wrap = 1ULL << 32;

	KUNIT_EXPECT_EQ(test, xtfs_seq_infer(1, 1), 1ULL);
	KUNIT_EXPECT_EQ(test, xtfs_seq_infer(1, 5), 5ULL);
	/* Before the first epoch: taken in epoch 0, far ahead. */
	KUNIT_EXPECT_EQ(test, xtfs_seq_infer(5, 0xfffffff0U), 0xfffffff0ULL);
	/* Late packets of the old epoch after the window crossed 2^32. */
	KUNIT_EXPECT_EQ(test, xtfs_seq_infer(wrap + 3, 0xfffffffeU),
			wrap - 2);
	KUNIT_EXPECT_EQ(test, xtfs_seq_infer(wrap, 0xffffffffU), wrap - 1);
	/* Early packets of the new epoch before the window crossed it. */
	KUNIT_EXPECT_EQ(test, xtfs_seq_infer(wrap - 3, 2), wrap + 2);
	KUNIT_EXPECT_EQ(test, xtfs_seq_infer(wrap - 1, 0), wrap);
	/* Far from a boundary, in a later epoch. */
	KUNIT_EXPECT_EQ(test, xtfs_seq_infer(5 * wrap + 100, 90),
			5 * wrap + 90);
	KUNIT_EXPECT_EQ(test, xtfs_seq_infer(5 * wrap + 100, 0x80000063U),
			5 * wrap + 0x80000063ULL);
	KUNIT_EXPECT_EQ(test, xtfs_seq_infer(5 * wrap + 100, 0x80000065U),
			4 * wrap + 0x80000065ULL);
	KUNIT_EXPECT_EQ(test, xtfs_seq_infer(U64_MAX - 1, 0xffffffffU),
			U64_MAX);
}

/**
 * pack() - one xtfs_fill_payload() call
 * @test: test context
 * @st: stream whose queue to pack from
 * @space: data block space
 * @split: when a packet may be split
 * @blkoff: block offset written
 * @frags: fragments packed
 *
 * Return: octets used.
 */
static u32 pack(struct kunit *test, struct stream *st, u32 space,
		enum xtfs_split split, u16 *blkoff, u32 *frags)
{
	u8 *buf = kunit_kzalloc(test, space, GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, buf);
	return xtfs_fill_payload(&st->q, &st->head_sent, buf, space, split,
				 blkoff, frags);
}

/* Several small packets share one payload; a big one is split. */
static void xtfs_test_pack_aggregates(struct kunit *test)
{
	struct stream *st = st_new(test, 0);
	int i;

	for (i = 0; i < 10; i++)
		st_add(test, st, false, 64, i);
	st_add(test, st, false, 1500, 99);
	/* 10 x 64 whole, then 360 octets of the 1500-octet packet. */
	KUNIT_EXPECT_EQ(test, st_pack_one(test, st, 1000, false), 0);
	KUNIT_EXPECT_EQ(test, st->plen[0], (u32)HDR_LEN + 1000);
	KUNIT_EXPECT_EQ(test, st->head_sent, 360U);
	KUNIT_EXPECT_EQ(test, skb_queue_len(&st->q), 1U);
	/* The rest: block offset is the remaining 1140, past this payload. */
	KUNIT_EXPECT_EQ(test, st_pack_one(test, st, 1000, false), 1140);
	KUNIT_EXPECT_EQ(test, st->plen[1], (u32)HDR_LEN + 1000);
	KUNIT_EXPECT_EQ(test, st_pack_one(test, st, 1000, false), 140);
	KUNIT_EXPECT_EQ(test, st->plen[2], (u32)HDR_LEN + 140);
	KUNIT_EXPECT_TRUE(test, skb_queue_empty(&st->q));
}

/* dont-frag stops before a packet that does not fit whole. */
static void xtfs_test_pack_dont_frag(struct kunit *test)
{
	struct stream *st = st_new(test, 0);
	u32 frags;
	u16 blkoff;

	st_add(test, st, false, 600, 1);
	st_add(test, st, false, 600, 2);
	KUNIT_EXPECT_EQ(test, pack(test, st, 1000, XTFS_SPLIT_NEVER, &blkoff, &frags), 600U);
	KUNIT_EXPECT_EQ(test, frags, 0U);
	KUNIT_EXPECT_EQ(test, blkoff, 0);
	KUNIT_EXPECT_EQ(test, st->head_sent, 0U);
	KUNIT_EXPECT_EQ(test, skb_queue_len(&st->q), 1U);
}

/* N small packets that fill the space exactly: no fragment either side. */
static void xtfs_test_pack_fill_exact(struct kunit *test)
{
	struct stream *st = st_new(test, 0);
	u32 frags, i;
	u16 blkoff;

	for (i = 0; i < 5; i++)
		st_add(test, st, i & 1, 200, i);
	st_add(test, st, false, 100, 9);
	KUNIT_EXPECT_EQ(test, pack(test, st, 1000, XTFS_SPLIT_FILL, &blkoff, &frags), 1000U);
	KUNIT_EXPECT_EQ(test, frags, 0U);
	KUNIT_EXPECT_EQ(test, blkoff, 0);
	/* The next packet starts the next payload, not a 0-octet piece. */
	KUNIT_EXPECT_EQ(test, st->head_sent, 0U);
	KUNIT_EXPECT_EQ(test, skb_queue_len(&st->q), 1U);
	KUNIT_EXPECT_EQ(test, pack(test, st, 1000, XTFS_SPLIT_FILL, &blkoff, &frags), 100U);
	KUNIT_EXPECT_EQ(test, blkoff, 0);
	KUNIT_EXPECT_TRUE(test, skb_queue_empty(&st->q));

	/* One octet short: the last of the five is split, 1 octet follows. */
	for (i = 0; i < 5; i++)
		st_add(test, st, false, 200, i);
	KUNIT_EXPECT_EQ(test, pack(test, st, 999, XTFS_SPLIT_FILL, &blkoff, &frags), 999U);
	KUNIT_EXPECT_EQ(test, frags, 1U);
	KUNIT_EXPECT_EQ(test, st->head_sent, 199U);
	KUNIT_EXPECT_EQ(test, pack(test, st, 999, XTFS_SPLIT_FILL, &blkoff, &frags), 1U);
	KUNIT_EXPECT_EQ(test, blkoff, 1);
	KUNIT_EXPECT_EQ(test, frags, 1U);

	/* One octet over: everything whole, one octet left unused. */
	for (i = 0; i < 5; i++)
		st_add(test, st, false, 200, i);
	KUNIT_EXPECT_EQ(test, pack(test, st, 1001, XTFS_SPLIT_FILL, &blkoff, &frags), 1000U);
	KUNIT_EXPECT_EQ(test, frags, 0U);
	KUNIT_EXPECT_TRUE(test, skb_queue_empty(&st->q));
}

/* The packet split is whichever reaches the end: first, middle or last. */
static void xtfs_test_pack_split_any(struct kunit *test)
{
	struct stream *st = st_new(test, 0);
	u32 frags;
	u16 blkoff;

	/* Last of three: 300 + 300 + 400 of 600. */
	st_add(test, st, false, 300, 1);
	st_add(test, st, true, 300, 2);
	st_add(test, st, false, 600, 3);
	st_add(test, st, false, 100, 4);
	KUNIT_EXPECT_EQ(test, pack(test, st, 1000, XTFS_SPLIT_FILL, &blkoff, &frags), 1000U);
	KUNIT_EXPECT_EQ(test, frags, 1U);
	KUNIT_EXPECT_EQ(test, st->head_sent, 400U);
	KUNIT_EXPECT_EQ(test, skb_peek(&st->q)->len, 600U);
	KUNIT_EXPECT_EQ(test, skb_queue_len(&st->q), 2U);
	/* Its rest (200) and the 100-octet one share the next payload. */
	KUNIT_EXPECT_EQ(test, pack(test, st, 1000, XTFS_SPLIT_FILL, &blkoff, &frags), 300U);
	KUNIT_EXPECT_EQ(test, blkoff, 200);
	KUNIT_EXPECT_EQ(test, frags, 1U);
	KUNIT_EXPECT_TRUE(test, skb_queue_empty(&st->q));

	/* Middle: 700 whole, 300 of 500; the 100 waits. */
	st_add(test, st, false, 700, 5);
	st_add(test, st, true, 500, 6);
	st_add(test, st, false, 100, 7);
	KUNIT_EXPECT_EQ(test, pack(test, st, 1000, XTFS_SPLIT_FILL, &blkoff, &frags), 1000U);
	KUNIT_EXPECT_EQ(test, st->head_sent, 300U);
	KUNIT_EXPECT_EQ(test, skb_queue_len(&st->q), 2U);
	KUNIT_EXPECT_EQ(test, pack(test, st, 1000, XTFS_SPLIT_FILL, &blkoff, &frags), 300U);
	KUNIT_EXPECT_EQ(test, blkoff, 200);

	/* First: a packet larger than the space starts it and fills it. */
	st_add(test, st, false, 2500, 8);
	KUNIT_EXPECT_EQ(test, pack(test, st, 1000, XTFS_SPLIT_FILL, &blkoff, &frags), 1000U);
	KUNIT_EXPECT_EQ(test, blkoff, 0);
	KUNIT_EXPECT_EQ(test, frags, 1U);
	KUNIT_EXPECT_EQ(test, pack(test, st, 1000, XTFS_SPLIT_FILL, &blkoff, &frags), 1000U);
	KUNIT_EXPECT_EQ(test, blkoff, 1500);
	KUNIT_EXPECT_EQ(test, pack(test, st, 1000, XTFS_SPLIT_FILL, &blkoff, &frags), 500U);
	KUNIT_EXPECT_EQ(test, blkoff, 500);
	KUNIT_EXPECT_TRUE(test, skb_queue_empty(&st->q));
}

/* Demand mode: a large packet that would leave only a sliver of itself in
 * this payload starts the next one; small packets and packets larger
 * than the space are split as with XTFS_SPLIT_FILL.
 */
static void xtfs_test_pack_split_pays(struct kunit *test)
{
	const enum xtfs_split pays = XTFS_SPLIT_PAYS;
	struct stream *st = st_new(test, 0);
	u32 frags;
	u16 blkoff;

	/* 950, then 900: 50 octets left (less than 1000 / 16): it waits. */
	st_add(test, st, false, 950, 1);
	st_add(test, st, true, 900, 2);
	KUNIT_EXPECT_EQ(test, pack(test, st, 1000, pays, &blkoff, &frags), 950U);
	KUNIT_EXPECT_EQ(test, frags, 0U);
	KUNIT_EXPECT_EQ(test, st->head_sent, 0U);
	KUNIT_EXPECT_EQ(test, pack(test, st, 1000, pays, &blkoff, &frags), 900U);
	KUNIT_EXPECT_EQ(test, blkoff, 0);
	KUNIT_EXPECT_EQ(test, frags, 0U);
	KUNIT_EXPECT_TRUE(test, skb_queue_empty(&st->q));

	/* 900, then 900: 100 octets left, worth a piece. */
	st_add(test, st, false, 900, 3);
	st_add(test, st, false, 900, 4);
	KUNIT_EXPECT_EQ(test, pack(test, st, 1000, pays, &blkoff, &frags), 1000U);
	KUNIT_EXPECT_EQ(test, st->head_sent, 100U);
	KUNIT_EXPECT_EQ(test, pack(test, st, 1000, pays, &blkoff, &frags), 800U);
	KUNIT_EXPECT_EQ(test, blkoff, 800);

	/* 960, then a small one: split. */
	st_add(test, st, false, 960, 5);
	st_add(test, st, false, 100, 6);
	KUNIT_EXPECT_EQ(test, pack(test, st, 1000, pays, &blkoff, &frags), 1000U);
	KUNIT_EXPECT_EQ(test, st->head_sent, 40U);
	KUNIT_EXPECT_EQ(test, pack(test, st, 1000, pays, &blkoff, &frags), 60U);

	/* 980, then one larger than the space: split, it never fits whole. */
	st_add(test, st, false, 980, 7);
	st_add(test, st, false, 1200, 8);
	KUNIT_EXPECT_EQ(test, pack(test, st, 1000, pays, &blkoff, &frags), 1000U);
	KUNIT_EXPECT_EQ(test, st->head_sent, 20U);
	KUNIT_EXPECT_EQ(test, pack(test, st, 1000, pays, &blkoff, &frags), 1000U);
	KUNIT_EXPECT_EQ(test, pack(test, st, 1000, pays, &blkoff, &frags), 180U);
	KUNIT_EXPECT_TRUE(test, skb_queue_empty(&st->q));

	/* Fixed rate and congestion control fill every payload. */
	st_add(test, st, false, 950, 9);
	st_add(test, st, false, 900, 10);
	KUNIT_EXPECT_EQ(test, pack(test, st, 1000, XTFS_SPLIT_FILL, &blkoff,
				   &frags), 1000U);
	KUNIT_EXPECT_EQ(test, st->head_sent, 50U);
}

/* ------------------------------------------------------------------ */
/* Input: every test below runs over linear, paged and frag-list skbs  */
/* ------------------------------------------------------------------ */

/* In order, basic and congestion-control headers mixed, small and large
 * spaces (down to 9 octets, so every length field is split somewhere).
 */
static void xtfs_test_stream(struct kunit *test)
{
	static const u32 big[] = { 500, 1346 }, small[] = { 9, 13, 17 };
	struct stream *st;
	u32 i, p, cc;

	for (cc = 0; cc <= 3; cc += 3) {
		for (i = 0; i < ARRAY_SIZE(big) + ARRAY_SIZE(small); i++) {
			st = st_new(test, 3);
			if (i < ARRAY_SIZE(big)) {
				st_add_lens(test, st, mixed_lens,
					    ARRAY_SIZE(mixed_lens));
				st_pack(test, st, big[i], cc);
			} else {
				st_add_lens(test, st, small_lens,
					    ARRAY_SIZE(small_lens));
				st_pack(test, st, small[i - ARRAY_SIZE(big)], cc);
			}
			for (p = 0; p < st->npl; p++)
				st_feed(test, st, p);
			st_expect(test, st);
			KUNIT_EXPECT_EQ(test, cnt(st, XTFS_CNT_LOST), 0ULL);
			KUNIT_EXPECT_EQ(test, st->sa->rx_held, 0U);
		}
	}
}

/* The second packet's IPv4 or IPv6 length field split at every octet. */
static void xtfs_test_len_split(struct kunit *test)
{
	struct stream *st;
	u32 k, p, v6;

	for (v6 = 0; v6 <= 1; v6++) {
		for (k = 0; k <= 8; k++) {
			st = st_new(test, 3);
			st_add(test, st, false, 100, 1);
			st_add(test, st, v6, 80, 2);
			st_add(test, st, !v6, 60, 3);
			/* Payload 0: the first packet and k octets of the second. */
			st_pack(test, st, 100 + k, 0);
			KUNIT_EXPECT_EQ(test, st->pend[0], 100 + k);
			for (p = 0; p < st->npl; p++)
				st_feed(test, st, p);
			st_expect(test, st);
			KUNIT_EXPECT_EQ(test, cnt(st, XTFS_CNT_REASSEMBLED),
					k ? 2ULL : 1ULL);
		}
	}
}

/* A payload of one whole packet, alone or before a pad block, is handed
 * on as the outer skb itself (xtfs_reasm_whole(): the skb fed comes out);
 * payloads that carry more, or a piece, are copied out into new skbs.
 */
static void xtfs_test_whole(struct kunit *test)
{
	/* Each inner packet: the payload it starts in, and whether it is
	 * that payload's skb.
	 */
	static const u8 first[] = { 0, 1, 2, 3, 4, 4, 5, 7 };
	static const bool same[] = { 1, 1, 1, 1, 0, 0, 0, 1 };
	struct stream *st = st_new(test, 3);
	struct sk_buff *b;
	u32 p, i = 0;

	/* One packet queued at a time: each its own payload. */
	st_add(test, st, false, 950, 1);
	st_pack_one(test, st, 1000, false);
	st_add(test, st, true, 900, 2);
	st_pack_one(test, st, 1000, true);
	/* Two pad octets after it (a pad block's first octet is 0). */
	st_add(test, st, false, 400, 3);
	st_pack_one(test, st, 1000, false);
	st->plen[st->npl - 1] += 2;
	st_add(test, st, true, 40, 4);
	st_pack_one(test, st, 1000, false);
	/* Two in one payload, and one in two pieces: copied out. Then one
	 * alone again.
	 */
	st_add(test, st, false, 100, 5);
	st_add(test, st, false, 100, 6);
	st_pack_one(test, st, 1000, false);
	st_add(test, st, false, 1500, 7);
	st_pack(test, st, 1000, 0);
	st_add(test, st, false, 20, 8);
	st_pack_one(test, st, 1000, false);
	for (p = 0; p < st->npl; p++)
		st_feed(test, st, p);
	st_expect(test, st);
	KUNIT_EXPECT_EQ(test, cnt(st, XTFS_CNT_REASSEMBLED), 1ULL);
	/* A copy is made while the payload it starts in is alive: its
	 * address cannot be that payload's.
	 */
	skb_queue_walk(&st->got, b) {
		if (i < ARRAY_SIZE(first))
			KUNIT_EXPECT_EQ_MSG(test, (const void *)b == st->skb[first[i]],
					    same[i], "inner packet %u", i);
		i++;
	}
	KUNIT_EXPECT_EQ(test, i, (u32)ARRAY_SIZE(first));
}

/* An inner packet exactly filling the space, one octet short, one over. */
static void xtfs_test_fill_boundaries(struct kunit *test)
{
	static const u32 sizes[] = { 20, 40, 1500 };
	struct stream *st;
	u32 s, d, p;

	for (s = 0; s < ARRAY_SIZE(sizes); s++) {
		for (d = 0; d <= 2; d++) {
			u32 size = sizes[s], space = size + d - 1;
			u16 blkoff;

			st = st_new(test, 3);
			st_add(test, st, size == 40, size, s);
			st_add(test, st, true, 40, 9);
			st_pack_one(test, st, space, false);
			blkoff = st_pack_one(test, st, space, false);
			/* Short: 1 octet left over; exact: nothing; over: the
			 * second packet's first octet came along.
			 */
			KUNIT_EXPECT_EQ(test, blkoff, d == 0 ? 1 : d == 1 ? 0 : 39);
			KUNIT_EXPECT_EQ(test, st->pend[0], space);
			st_pack(test, st, space, 0);
			for (p = 0; p < st->npl; p++)
				st_feed(test, st, p);
			st_expect(test, st);
		}
	}
}

/* The stream the loss tests use: 12 packets in 400-octet spaces (every
 * fourth with a congestion control header), then an all-pad payload.
 * Payload 0 always comes first: it sets where the window starts.
 */
static struct stream *st_lossy(struct kunit *test, u16 win)
{
	static const u32 lens[] = {
		40, 1500, 64, 300, 41, 700, 20, 90, 1200, 60, 380, 48,
	};
	static const u8 all_pad[HDR_LEN + 16];
	struct stream *st = st_new(test, win);

	st_add_lens(test, st, lens, ARRAY_SIZE(lens));
	st_pack(test, st, 400, 4);
	/* A last all-pad payload, so that a loss just before it shows. */
	st_add_raw(test, st, all_pad, sizeof(all_pad));
	return st;
}

/* Each payload lost in turn: what it touched is gone, nothing else. */
static void xtfs_test_loss(struct kunit *test)
{
	struct stream *st = st_lossy(test, 3);
	u32 lost, p, n = st->npl;

	for (lost = 0; lost + 1 < n; lost++) {
		u32 after = n - 1 - lost;

		st = st_lossy(test, 3);
		for (p = 0; p < n; p++)
			if (p != lost)
				st_feed(test, st, p);
		/* A gap followed by no more than the window waits for the
		 * drop time; a lost first payload is never known of.
		 */
		KUNIT_EXPECT_EQ(test, st->sa->rx_held,
				lost && after <= 3 ? after : 0U);
		st_expire(st);
		KUNIT_EXPECT_EQ(test, st->sa->rx_held, 0U);
		st_expect(test, st);
		KUNIT_EXPECT_EQ(test, cnt(st, XTFS_CNT_LOST), lost ? 1ULL : 0ULL);
		KUNIT_EXPECT_EQ(test, cnt(st, XTFS_CNT_DROP_OLD), 0ULL);
	}
}

/* Bursts of loss: two neighbours, and every other payload. */
static void xtfs_test_loss_burst(struct kunit *test)
{
	struct stream *st = st_lossy(test, 3);
	u32 p, lost = 0;

	for (p = 0; p < st->npl; p++)
		if (p != 3 && p != 4)
			st_feed(test, st, p);
	st_expire(st);
	st_expect(test, st);
	KUNIT_EXPECT_EQ(test, cnt(st, XTFS_CNT_LOST), 2ULL);

	st = st_lossy(test, 3);
	for (p = 0; p < st->npl; p++) {
		if ((p & 1) && p + 1 < st->npl)
			lost++;
		else
			st_feed(test, st, p);
	}
	st_expire(st);
	st_expect(test, st);
	KUNIT_EXPECT_EQ(test, cnt(st, XTFS_CNT_LOST), (u64)lost);
}

/* Reordered within the window: everything, in order, with no expiry. */
static void xtfs_test_reorder(struct kunit *test)
{
	static const u16 wins[] = { 3, 8 };
	struct stream *st;
	u32 w, p, b, n;

	for (w = 0; w < ARRAY_SIZE(wins); w++) {
		/* Blocks of window + 1 payloads, each reversed. */
		st = st_lossy(test, wins[w]);
		n = st->npl;
		st_feed(test, st, 0);
		for (b = 1; b < n; b += wins[w] + 1)
			for (p = min(b + wins[w] + 1, n); p-- > b;)
				st_feed(test, st, p);
		KUNIT_EXPECT_EQ(test, st->sa->rx_held, 0U);
		st_expect(test, st);

		/* Neighbours swapped. */
		st = st_lossy(test, wins[w]);
		st_feed(test, st, 0);
		for (p = 1; p + 1 < n; p += 2) {
			st_feed(test, st, p + 1);
			st_feed(test, st, p);
		}
		if (p < n)
			st_feed(test, st, p);
		KUNIT_EXPECT_EQ(test, st->sa->rx_held, 0U);
		st_expect(test, st);
		KUNIT_EXPECT_EQ(test, cnt(st, XTFS_CNT_LOST), 0ULL);
		KUNIT_EXPECT_EQ(test, cnt(st, XTFS_CNT_DROP_OLD), 0ULL);
	}
}

/* Duplicates, of processed and of held payloads, dropped and counted. */
static void xtfs_test_duplicate(struct kunit *test)
{
	struct stream *st = st_lossy(test, 3);
	u32 p;

	st_feed(test, st, 0);
	st_feed(test, st, 2);					/* held */
	st_feed_seq(test, st, 2, SEQ_BASE + 2, false);		/* held twin */
	st_feed_seq(test, st, 0, SEQ_BASE + 0, false);		/* old */
	for (p = 1; p < st->npl; p++) {
		if (p == 2)
			continue;
		st_feed(test, st, p);
		st_feed_seq(test, st, p, SEQ_BASE + p, false);
	}
	KUNIT_EXPECT_EQ(test, st->sa->rx_held, 0U);
	st_expect(test, st);
	KUNIT_EXPECT_EQ(test, cnt(st, XTFS_CNT_DROP_OLD), (u64)st->npl);
	KUNIT_EXPECT_EQ(test, cnt(st, XTFS_CNT_LOST), 0ULL);
}

/* Loss, reorder and duplication together. */
static void xtfs_test_mixed_faults(struct kunit *test)
{
	struct stream *st = st_lossy(test, 3);
	u32 p, n = st->npl, lost = 0, dups = 0;

	for (p = 0; p < n; p++) {
		/* Every fifth pair swapped, every seventh lost. */
		u32 q = p % 5 == 1 && p + 1 < n ? p + 1 :
			p % 5 == 2 && p > 0 ? p - 1 : p;

		if (q % 7 == 3) {
			lost++;
			continue;
		}
		st_feed(test, st, q);
		if (q % 4 == 2) {
			st_feed_seq(test, st, q, SEQ_BASE + q, false);
			dups++;
		}
	}
	st_expire(st);
	st_expect(test, st);
	KUNIT_EXPECT_EQ(test, cnt(st, XTFS_CNT_LOST), (u64)lost);
	KUNIT_EXPECT_EQ(test, cnt(st, XTFS_CNT_DROP_OLD), (u64)dups);
	KUNIT_EXPECT_EQ(test, st->sa->rx_held, 0U);
}

/* Expire at @t microseconds after @st's base time; returns the next
 * deadline in microseconds after it, or -1 when nothing is held.
 */
static s64 st_expire_at(struct stream *st, ktime_t base, s64 t)
{
	ktime_t next;

	spin_lock_bh(&st->sa->rlock);
	next = xtfs_rx_expire(st->sa, ktime_add_us(base, t), &st->got);
	spin_unlock_bh(&st->sa->rlock);
	return next == KTIME_MAX ? -1 : ktime_us_delta(next, base);
}

/* Payload @p arrives @t microseconds after @base. */
static void st_feed_at(struct kunit *test, struct stream *st, u32 p,
		       ktime_t base, s64 t)
{
	st->now = ktime_add_us(base, t);
	st_feed(test, st, p);
}

/* Each gap is given up on when the drop time has passed since it was
 * first seen, that is since the first packet after it arrived, even when
 * that packet is no longer the lowest one held; a straggler after that is
 * old.
 */
static void xtfs_test_drop_time(struct kunit *test)
{
	struct stream *st = st_lossy(test, 8);
	ktime_t base = st->now;
	u32 p;

	st->sa->cfg.drop_time_us = 100;
	st_feed_at(test, st, 0, base, 0);
	st_feed_at(test, st, 3, base, 10);	/* gap 1-2 seen at 10 */
	st_feed_at(test, st, 2, base, 50);	/* gap 1 still dates from 10 */
	st_feed_at(test, st, 6, base, 60);	/* gap 4-5 seen at 60 */
	st_feed_at(test, st, 5, base, 70);	/* gap 4 still dates from 60 */
	KUNIT_EXPECT_EQ(test, st->sa->rx_held, 4U);
	KUNIT_EXPECT_TRUE(test, hrtimer_active(&st->sa->drop_timer));

	KUNIT_EXPECT_EQ(test, st_expire_at(st, base, 109), 110);
	KUNIT_EXPECT_EQ(test, cnt(st, XTFS_CNT_LOST), 0ULL);
	KUNIT_EXPECT_EQ(test, st->sa->rx_held, 4U);
	/* Gap 1 is given up on; 2 and 3 follow; gap 4 has until 160. */
	KUNIT_EXPECT_EQ(test, st_expire_at(st, base, 110), 160);
	KUNIT_EXPECT_EQ(test, cnt(st, XTFS_CNT_LOST), 1ULL);
	KUNIT_EXPECT_EQ(test, st->sa->rx_held, 2U);
	st_feed_seq(test, st, 1, SEQ_BASE + 1, false);
	KUNIT_EXPECT_EQ(test, cnt(st, XTFS_CNT_DROP_OLD), 1ULL);
	KUNIT_EXPECT_EQ(test, st_expire_at(st, base, 159), 160);
	/* Payload 4 comes in time: 4, 5 and 6 follow, nothing is held. */
	st_feed_at(test, st, 4, base, 150);
	KUNIT_EXPECT_EQ(test, st->sa->rx_held, 0U);
	KUNIT_EXPECT_EQ(test, st_expire_at(st, base, 1000), -1);
	for (p = 7; p < st->npl; p++)
		st_feed(test, st, p);
	st_expect(test, st);
	KUNIT_EXPECT_EQ(test, cnt(st, XTFS_CNT_LOST), 1ULL);
}

/* ESP numbers from 1: when the first packet to arrive is within a window
 * of that, the ones before it are waited for; further on, it starts the
 * window.
 */
static void xtfs_test_first_seq(struct kunit *test)
{
	struct stream *st = st_lossy(test, 8);
	struct stream *late = st_lossy(test, 2);
	u32 p;

	st_feed_seq(test, st, 2, 3, true);
	st_feed_seq(test, st, 0, 1, true);
	st_feed_seq(test, st, 1, 2, true);
	for (p = 3; p < st->npl; p++)
		st_feed_seq(test, st, p, p + 1, true);
	st_expect(test, st);
	KUNIT_EXPECT_EQ(test, cnt(st, XTFS_CNT_DROP_OLD), 0ULL);
	KUNIT_EXPECT_EQ(test, cnt(st, XTFS_CNT_LOST), 0ULL);

	/* Sequence number 4 is past 1 + window 2: it starts the window. */
	st_feed_seq(test, late, 0, 4, true);
	st_feed_seq(test, late, 1, 3, false);
	for (p = 1; p < late->npl; p++)
		st_feed_seq(test, late, p, p + 4, true);
	st_expect(test, late);
	KUNIT_EXPECT_EQ(test, cnt(late, XTFS_CNT_DROP_OLD), 1ULL);
	KUNIT_EXPECT_EQ(test, cnt(late, XTFS_CNT_LOST), 0ULL);
}

/* Window 0: in order only, a gap is a loss at once. */
static void xtfs_test_window0(struct kunit *test)
{
	struct stream *st = st_lossy(test, 0);
	u32 p;

	st_feed(test, st, 0);
	st_feed(test, st, 5);
	st_feed_seq(test, st, 3, SEQ_BASE + 3, false);	/* now old */
	KUNIT_EXPECT_EQ(test, cnt(st, XTFS_CNT_LOST), 4ULL);
	KUNIT_EXPECT_EQ(test, cnt(st, XTFS_CNT_DROP_OLD), 1ULL);
	KUNIT_EXPECT_EQ(test, st->sa->rx_held, 0U);
	for (p = 6; p < st->npl; p++)
		st_feed(test, st, p);
	st_expect(test, st);
}

/* The largest window (65535): held in full, and moved past in one step. */
static void xtfs_test_window_max(struct kunit *test)
{
	const u32 win = XTFS_MAX_REORDER_WIN;
	struct stream *st = st_lossy(test, win);
	u32 p, n = st->npl, first;

	/* After the first, the rest in reverse: all held, then released. */
	st_feed(test, st, 0);
	first = skb_queue_len(&st->got);
	for (p = n; --p > 1;)
		st_feed(test, st, p);
	KUNIT_EXPECT_EQ(test, st->sa->rx_held, n - 2);
	KUNIT_EXPECT_EQ(test, skb_queue_len(&st->got), first);
	st_feed(test, st, 1);
	KUNIT_EXPECT_EQ(test, st->sa->rx_held, 0U);
	st_expect(test, st);

	/* 1 lost, 2 held; 3 arrives a whole window later: 1 is given up
	 * at once, 2 is processed, 3 is held at the window's far edge and
	 * the window's worth of numbers before it expires.
	 */
	st = st_lossy(test, win);
	st_feed(test, st, 0);
	st_feed(test, st, 2);
	st_feed_seq(test, st, 3, SEQ_BASE + 3 + win, true);
	KUNIT_EXPECT_EQ(test, cnt(st, XTFS_CNT_LOST), 1ULL);
	KUNIT_EXPECT_EQ(test, st->sa->rx_held, 1U);
	st_expire(st);
	KUNIT_EXPECT_EQ(test, cnt(st, XTFS_CNT_LOST), 1ULL + win);
	for (p = 4; p < n; p++)
		st_feed_seq(test, st, p, SEQ_BASE + p + win, true);
	st_expect(test, st);
	KUNIT_EXPECT_EQ(test, st->sa->rx_held, 0U);
	KUNIT_EXPECT_EQ(test, cnt(st, XTFS_CNT_DROP_OLD), 0ULL);
}

/* A block offset past the payload's end: the whole payload continues a
 * packet. After a loss, such payloads are skipped and sync comes back.
 */
static void xtfs_test_offset_past_end(struct kunit *test)
{
	static const u8 far[] = { 0, 0, 0xff, 0xff, 0x45, 0, 0, 20, 1, 2 };
	struct stream *st;
	u32 p;

	st = st_new(test, 3);
	st_add(test, st, false, 2900, 1);
	st_add(test, st, true, 100, 2);
	st_pack(test, st, 1000, 0);
	KUNIT_EXPECT_EQ(test, ntohs(((struct xtfs_aggfrag_hdr *)st->pl[1])->block_offset),
			1900);
	for (p = 0; p < st->npl; p++)
		st_feed(test, st, p);
	st_expect(test, st);

	st = st_new(test, 3);
	st_add(test, st, false, 2900, 1);
	st_add(test, st, true, 100, 2);
	st_pack(test, st, 1000, 0);
	for (p = 1; p < st->npl; p++)
		st_feed(test, st, p);
	st_expire(st);
	st_expect(test, st);
	KUNIT_EXPECT_EQ(test, skb_queue_len(&st->got), 1U);

	/* Out of sync, an offset of 65535 skips everything here. */
	st = st_new(test, 3);
	st_add_raw(test, st, far, sizeof(far));
	st_parse(test, st, 0);
	KUNIT_EXPECT_EQ(test, skb_queue_len(&st->got), 0U);
	KUNIT_EXPECT_EQ(test, st->sa->reasm.have, 0U);
	KUNIT_EXPECT_EQ(test, cnt(st, XTFS_CNT_DROP_BAD_BLOCK), 0ULL);
}

/* All-pad and empty payloads, alone and between fragments (RFC 2.2.3). */
static void xtfs_test_all_pad(struct kunit *test)
{
	static const u8 all_pad[HDR_LEN + 8];
	static const u8 cc_pad[CC_HDR_LEN + 3] = { XTFS_SUBTYPE_CC };
	struct stream *st;
	u32 p;

	/* Alone: nothing, no counter. */
	st = st_new(test, 3);
	st_add_raw(test, st, all_pad, sizeof(all_pad));
	st_add_raw(test, st, all_pad, HDR_LEN);
	st_add_raw(test, st, cc_pad, sizeof(cc_pad));
	st_add_raw(test, st, cc_pad, CC_HDR_LEN);
	for (p = 0; p < st->npl; p++)
		st_feed(test, st, p);
	st_expect(test, st);
	KUNIT_EXPECT_EQ(test, skb_queue_len(&st->got), 0U);

	/* Between the fragments of one packet, under their own sequence
	 * numbers: the packet still arrives.
	 */
	st = st_new(test, 3);
	st_add(test, st, false, 500, 5);
	st_add(test, st, true, 40, 6);
	st_pack_one(test, st, 300, false);
	st_feed(test, st, 0);
	st_add_raw(test, st, all_pad, sizeof(all_pad));
	st_add_raw(test, st, cc_pad, sizeof(cc_pad));
	st_add_raw(test, st, all_pad, HDR_LEN);
	st_feed(test, st, 3);	/* held */
	st_feed(test, st, 1);
	st_feed(test, st, 2);
	st_pack(test, st, 300, 0);
	st_feed(test, st, 4);
	st_expect(test, st);
	KUNIT_EXPECT_EQ(test, skb_queue_len(&st->got), 2U);
	KUNIT_EXPECT_EQ(test, cnt(st, XTFS_CNT_REASSEMBLED), 1ULL);

	/* ESP packets of another next header (xtfs_input() counts them)
	 * take their sequence numbers like all-pad payloads: alone, held
	 * or in order, between fragments, and nothing is waited for.
	 */
	st = st_new(test, 3);
	st_add(test, st, false, 500, 7);
	st_add(test, st, true, 40, 8);
	st_pack_one(test, st, 300, false);
	st_feed(test, st, 0);
	st_add_raw(test, st, all_pad, 0);
	st_add_raw(test, st, all_pad, 0);
	st_feed_empty(test, st, 2);	/* held */
	st_feed_empty(test, st, 1);
	st_pack(test, st, 300, 0);
	st_feed(test, st, 3);
	st_expect(test, st);
	KUNIT_EXPECT_EQ(test, skb_queue_len(&st->got), 2U);
	KUNIT_EXPECT_EQ(test, st->sa->rx_held, 0U);
	KUNIT_EXPECT_EQ(test, cnt(st, XTFS_CNT_LOST), 0ULL);
	KUNIT_EXPECT_EQ(test, cnt(st, XTFS_CNT_REASSEMBLED), 1ULL);
}

/* Hostile payloads: counted drops, nothing delivered, no crash. */
static void xtfs_test_malformed(struct kunit *test)
{
	static const struct {
		u8	data[12];
		u8	len;
		bool	bad_hdr;
	} cases[] = {
		/* Runt outer packets: shorter than the AGGFRAG header. */
		{ { 0 }, 0, true },
		{ { 0 }, 1, true },
		{ { 0, 0, 0 }, 3, true },
		/* Unknown sub-types. */
		{ { 2, 0, 0, 0, 0x45, 0, 0, 20 }, 8, true },
		{ { 0x80, 0, 0, 0, 0x45, 0, 0, 20 }, 8, true },
		{ { 0xff, 0, 0, 0, 0x45, 0, 0, 20 }, 8, true },
		/* Congestion control header cut short. */
		{ { 1, 0, 0, 0 }, 4, true },
		{ { 1, 0, 0, 0, 0x45, 0, 0, 20 }, 8, true },
		/* Data block types that do not exist. */
		{ { 0, 0, 0, 0, 0x10, 0, 0, 20 }, 8 },
		{ { 0, 0, 0, 0, 0x55, 0, 0, 20 }, 8 },
		{ { 0, 0, 0, 0, 0x75, 0, 0, 40 }, 8 },
		{ { 0, 0, 0, 0, 0xf5, 0, 0, 20 }, 8 },
		/* IPv4 IHL below 5, seen from the first octet on. */
		{ { 0, 0, 0, 0, 0x40, 0, 0, 20 }, 8 },
		{ { 0, 0, 0, 0, 0x44, 0, 0, 20, 0, 0 }, 10 },
		{ { 0, 0, 0, 0, 0x43 }, 5 },
		/* Runt inner packets: total length below the header. */
		{ { 0, 0, 0, 0, 0x45, 0, 0, 0 }, 8 },
		{ { 0, 0, 0, 0, 0x45, 0, 0, 19, 0, 0 }, 10 },
		{ { 0, 0, 0, 0, 0x46, 0, 0, 23, 0, 0 }, 10 },
		{ { 0, 0, 0, 0, 0x4f, 0, 0, 59, 0, 0 }, 10 },
	};
	u32 i, hdr = 0, blk = 0;
	struct stream *st;

	st = st_new(test, 3);
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		st_add_raw(test, st, cases[i].data, cases[i].len);
		st_parse(test, st, i);
		if (cases[i].bad_hdr)
			hdr++;
		else
			blk++;
		KUNIT_EXPECT_EQ_MSG(test, cnt(st, XTFS_CNT_DROP_BAD_HDR), (u64)hdr,
				    "case %u", i);
		KUNIT_EXPECT_EQ_MSG(test, cnt(st, XTFS_CNT_DROP_BAD_BLOCK), (u64)blk,
				    "case %u", i);
		KUNIT_EXPECT_EQ_MSG(test, st->sa->reasm.have, 0U, "case %u", i);
	}
	KUNIT_EXPECT_EQ(test, skb_queue_len(&st->got), 0U);

	/* Through the window too (header drops are per outer packet). */
	st = st_new(test, 3);
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		st_add_raw(test, st, cases[i].data, cases[i].len);
		st_feed(test, st, i);
	}
	KUNIT_EXPECT_EQ(test, cnt(st, XTFS_CNT_DROP_BAD_HDR), (u64)hdr);
	KUNIT_EXPECT_EQ(test, cnt(st, XTFS_CNT_DROP_BAD_BLOCK), (u64)blk);
	KUNIT_EXPECT_EQ(test, skb_queue_len(&st->got), 0U);
}

/* The smallest valid inner packets pass; a bad block after good ones
 * stops the payload, and a bad one inside a reassembly ends it.
 */
static void xtfs_test_runt_inner(struct kunit *test)
{
	static const u8 bad_after[] = {
		0, 0, 0, 0,
		0x45, 0, 0, 20, 0, 0, 0, 0, 0, 0, 0, 0,
		0, 0, 0, 0, 0, 0, 0, 0,
		0x44, 0, 0, 20,
	};
	/* 3 octets of an IPv4 header, then a continuation with IHL 4. */
	static const u8 cont1[] = { 0, 0, 0, 0, 0x45, 0, 0 };
	static const u8 cont2[] = { 0, 0, 0, 1, 40, 0, 0, 0 };
	static const u8 split1[] = { 0, 0, 0, 0, 0x43 };
	struct stream *st;

	st = st_new(test, 3);
	st_add(test, st, false, 20, 1);
	st_add(test, st, true, 40, 2);
	st_add(test, st, false, 20, 3);
	st_pack(test, st, 80, 0);
	KUNIT_EXPECT_EQ(test, st->npl, 1U);
	st_feed(test, st, 0);
	st_expect(test, st);

	st = st_new(test, 3);
	st_add_raw(test, st, bad_after, sizeof(bad_after));
	st_parse(test, st, 0);
	KUNIT_EXPECT_EQ(test, skb_queue_len(&st->got), 1U);
	KUNIT_EXPECT_EQ(test, skb_peek(&st->got)->len, 20U);
	KUNIT_EXPECT_EQ(test, cnt(st, XTFS_CNT_DROP_BAD_BLOCK), 1ULL);

	/* Length field completed by the next payload: 40 is fine... */
	st = st_new(test, 3);
	st_add_raw(test, st, cont1, sizeof(cont1));
	st_add_raw(test, st, cont2, sizeof(cont2));
	st_parse(test, st, 0);
	KUNIT_EXPECT_EQ(test, st->sa->reasm.have, 3U);
	/* ...but the block offset (1) says the block ends at 4 octets. */
	st_parse(test, st, 1);
	KUNIT_EXPECT_EQ(test, cnt(st, XTFS_CNT_DROP_BAD_BLOCK), 1ULL);
	KUNIT_EXPECT_EQ(test, st->sa->reasm.have, 0U);

	/* A lone bad first octet at the end of a payload. */
	st = st_new(test, 3);
	st_add_raw(test, st, split1, sizeof(split1));
	st_parse(test, st, 0);
	KUNIT_EXPECT_EQ(test, cnt(st, XTFS_CNT_DROP_BAD_BLOCK), 1ULL);
	KUNIT_EXPECT_EQ(test, st->sa->reasm.have, 0U);
	KUNIT_EXPECT_EQ(test, skb_queue_len(&st->got), 0U);
}

/* A block offset that contradicts the packet in progress drops it. */
static void xtfs_test_offset_mismatch(struct kunit *test)
{
	u8 p1[HDR_LEN + 30] = { 0, 0, 0, 0, 0x45, 0, 0, 100 };
	/* Claims 10 octets remain, but 70 do: drop, resync at offset 10. */
	u8 p2[HDR_LEN + 30] = { 0, 0, 0, 10 };
	/* Claims 200 remain (past its end), but 70 do. */
	u8 p3[HDR_LEN + 30] = { 0, 0, 0, 200 };
	/* Offset 0 with a new block while 70 octets are awaited. */
	u8 p4[HDR_LEN + 20] = { 0, 0, 0, 0, 0x45, 0, 0, 20 };
	struct stream *st;

	p2[HDR_LEN + 10] = 0x45;
	p2[HDR_LEN + 13] = 20;
	st = st_new(test, 3);
	st_add_raw(test, st, p1, sizeof(p1));
	st_add_raw(test, st, p2, sizeof(p2));
	st_add_raw(test, st, p3, sizeof(p3));
	st_add_raw(test, st, p4, sizeof(p4));
	st_parse(test, st, 0);
	KUNIT_EXPECT_EQ(test, st->sa->reasm.have, 30U);
	st_parse(test, st, 1);
	KUNIT_EXPECT_EQ(test, cnt(st, XTFS_CNT_DROP_BAD_BLOCK), 1ULL);
	KUNIT_EXPECT_EQ(test, skb_queue_len(&st->got), 1U);	/* the 20-octet one */

	st_parse(test, st, 0);
	st_parse(test, st, 2);
	KUNIT_EXPECT_EQ(test, cnt(st, XTFS_CNT_DROP_BAD_BLOCK), 2ULL);
	KUNIT_EXPECT_EQ(test, st->sa->reasm.have, 0U);

	st_parse(test, st, 0);
	st_parse(test, st, 3);
	KUNIT_EXPECT_EQ(test, cnt(st, XTFS_CNT_DROP_BAD_BLOCK), 3ULL);
	KUNIT_EXPECT_EQ(test, skb_queue_len(&st->got), 2U);
	KUNIT_EXPECT_EQ(test, skb_peek_tail(&st->got)->len, 20U);
	KUNIT_EXPECT_EQ(test, cnt(st, XTFS_CNT_REASSEMBLED), 0ULL);
}

/* Tearing down with packets held, a packet half reassembled and the
 * drop timer armed frees everything and stops the timer.
 */
static void xtfs_test_destroy_busy(struct kunit *test)
{
	struct stream *st = st_lossy(test, 8);

	st_feed(test, st, 0);
	st_feed(test, st, 1);
	st_feed(test, st, 3);
	st_feed(test, st, 4);
	KUNIT_EXPECT_EQ(test, st->sa->rx_held, 2U);
	KUNIT_EXPECT_NOT_NULL(test, st->sa->reasm.partial);
	KUNIT_EXPECT_TRUE(test, hrtimer_active(&st->sa->drop_timer));
	xtfs_input_destroy(st->sa);
	KUNIT_EXPECT_FALSE(test, hrtimer_active(&st->sa->drop_timer));
	KUNIT_EXPECT_NULL(test, st->sa->rx_win);
	KUNIT_EXPECT_NULL(test, st->sa->reasm.partial);
}

/* Feed payload @p as its own sequence number in a linear skb whose
 * truesize is far above its length, as an outer packet IP-reassembled
 * from many small fragments would be.
 */
static void st_feed_fat(struct kunit *test, struct stream *st, u32 p)
{
	struct sk_buff *skb = alloc_skb(SZ_64K, GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, skb);
	KUNIT_ASSERT_LT(test, p, st->npl);
	skb_put_data(skb, st->pl[p], st->plen[p]);
	spin_lock_bh(&st->sa->rlock);
	xtfs_rx_seq(st->sa, skb, SEQ_BASE + p, st->now, &st->got);
	spin_unlock_bh(&st->sa->rlock);
	st->fed[p] = true;
	st->seq[p] = SEQ_BASE + p;
}

/* The octets held for reordering are bounded, not only their number:
 * with the largest window, payload 1 lost and every later payload fat,
 * the receiver gives up on the gap once %XTFS_MAX_HELD_BYTES would be
 * passed, and delivers everything that came, in order.
 */
static void xtfs_test_held_bytes(struct kunit *test)
{
	struct stream *st = st_new(test, XTFS_MAX_REORDER_WIN);
	u32 p, max_held = 0, lens[40];

	for (p = 0; p < ARRAY_SIZE(lens); p++)
		lens[p] = 1500;
	st_add_lens(test, st, lens, ARRAY_SIZE(lens));
	st_pack(test, st, 400, 0);
	KUNIT_ASSERT_GT(test, st->npl, 100U);

	st_feed(test, st, 0);
	for (p = 2; p < st->npl; p++) {
		st_feed_fat(test, st, p);
		KUNIT_EXPECT_LE(test, st->sa->rx_bytes, XTFS_MAX_HELD_BYTES);
		max_held = max(max_held, st->sa->rx_held);
	}
	/* Enough was held to reach the bound, and no more. */
	KUNIT_EXPECT_GT(test, max_held, 4U);
	KUNIT_EXPECT_LT(test, max_held, st->npl - 2);
	KUNIT_EXPECT_LE(test, cnt(st, XTFS_CNT_HELD_PEAK),
			(u64)XTFS_MAX_HELD_BYTES);
	KUNIT_EXPECT_GT(test, cnt(st, XTFS_CNT_HELD_PEAK),
			(u64)XTFS_MAX_HELD_BYTES / 2);
	KUNIT_EXPECT_EQ(test, cnt(st, XTFS_CNT_HELD_LIMIT), 1ULL);
	KUNIT_EXPECT_EQ(test, cnt(st, XTFS_CNT_LOST), 1ULL);
	KUNIT_EXPECT_EQ(test, st->sa->rx_held, 0U);
	KUNIT_EXPECT_EQ(test, st->sa->rx_bytes, 0U);
	st_expect(test, st);

	/* The payload given up on, late: an old packet now. */
	st_feed_seq(test, st, 1, SEQ_BASE + 1, false);
	KUNIT_EXPECT_EQ(test, cnt(st, XTFS_CNT_DROP_OLD), 1ULL);
}

static struct kunit_case xtfs_aggfrag_cases[] = {
	KUNIT_CASE(xtfs_test_block_len),
	KUNIT_CASE(xtfs_test_seq_infer),
	KUNIT_CASE(xtfs_test_pack_aggregates),
	KUNIT_CASE(xtfs_test_pack_dont_frag),
	KUNIT_CASE(xtfs_test_pack_fill_exact),
	KUNIT_CASE(xtfs_test_pack_split_any),
	KUNIT_CASE(xtfs_test_pack_split_pays),
	KUNIT_CASE_PARAM(xtfs_test_stream, xtfs_shape_gen_params),
	KUNIT_CASE_PARAM(xtfs_test_len_split, xtfs_shape_gen_params),
	KUNIT_CASE_PARAM(xtfs_test_whole, xtfs_shape_gen_params),
	KUNIT_CASE_PARAM(xtfs_test_fill_boundaries, xtfs_shape_gen_params),
	KUNIT_CASE_PARAM(xtfs_test_loss, xtfs_shape_gen_params),
	KUNIT_CASE_PARAM(xtfs_test_loss_burst, xtfs_shape_gen_params),
	KUNIT_CASE_PARAM(xtfs_test_reorder, xtfs_shape_gen_params),
	KUNIT_CASE_PARAM(xtfs_test_duplicate, xtfs_shape_gen_params),
	KUNIT_CASE_PARAM(xtfs_test_mixed_faults, xtfs_shape_gen_params),
	KUNIT_CASE_PARAM(xtfs_test_drop_time, xtfs_shape_gen_params),
	KUNIT_CASE_PARAM(xtfs_test_first_seq, xtfs_shape_gen_params),
	KUNIT_CASE_PARAM(xtfs_test_window0, xtfs_shape_gen_params),
	KUNIT_CASE_PARAM(xtfs_test_window_max, xtfs_shape_gen_params),
	KUNIT_CASE_PARAM(xtfs_test_offset_past_end, xtfs_shape_gen_params),
	KUNIT_CASE_PARAM(xtfs_test_all_pad, xtfs_shape_gen_params),
	KUNIT_CASE_PARAM(xtfs_test_malformed, xtfs_shape_gen_params),
	KUNIT_CASE_PARAM(xtfs_test_runt_inner, xtfs_shape_gen_params),
	KUNIT_CASE_PARAM(xtfs_test_offset_mismatch, xtfs_shape_gen_params),
	KUNIT_CASE_PARAM(xtfs_test_destroy_busy, xtfs_shape_gen_params),
	KUNIT_CASE(xtfs_test_held_bytes),
	{}
};

static struct kunit_suite xtfs_aggfrag_suite = {
	.name = "xtfs_aggfrag",
	.test_cases = xtfs_aggfrag_cases,
};

kunit_test_suite(xtfs_aggfrag_suite);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("KUnit tests for xtfs AGGFRAG encoding and reassembly");
