// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests for the AGGFRAG codec: packing inner packets into payloads
 * (xtfs_fill_payload) and parsing/reassembling them (xtfs_reasm_payload),
 * over linear, paged and frag-list skbs, at every split point of the
 * length fields, with loss and with malformed payloads.
 */
#include <kunit/test.h>
#include <kunit/visibility.h>
#include <linux/skbuff.h>

#include "xtfs.h"
#include "xtfs_aggfrag.h"

MODULE_IMPORT_NS("EXPORTED_FOR_KUNIT_TESTING");

#define HDR_LEN sizeof(struct xtfs_aggfrag_hdr)

enum shape { SHAPE_LINEAR, SHAPE_PAGED, SHAPE_FRAGLIST };

/**
 * make_inner() - build an inner IPv4 or IPv6 packet with a byte pattern
 * @test: test context
 * @v6: IPv6 instead of IPv4
 * @len: total length
 * @seed: pattern seed
 *
 * Return: the packet (test-managed lifetime is up to the caller).
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
 * make_outer() - wrap a payload in an skb of the given shape
 * @test: test context
 * @buf: AGGFRAG header and data blocks
 * @len: octets at @buf
 * @shape: linear, header + page fragment, or header + frag list
 *
 * Return: the skb.
 */
static struct sk_buff *make_outer(struct kunit *test, const u8 *buf, u32 len,
				  enum shape shape)
{
	u32 head = shape == SHAPE_LINEAR ? len : min_t(u32, len, HDR_LEN + 1);
	struct sk_buff *skb = alloc_skb(head, GFP_KERNEL);
	u32 rest = len - head;

	KUNIT_ASSERT_NOT_NULL(test, skb);
	skb_put_data(skb, buf, head);
	if (!rest)
		return skb;
	if (shape == SHAPE_PAGED) {
		struct page *page = alloc_page(GFP_KERNEL);

		KUNIT_ASSERT_NOT_NULL(test, page);
		KUNIT_ASSERT_LE(test, rest, (u32)PAGE_SIZE);
		memcpy(page_address(page), buf + head, rest);
		skb_add_rx_frag(skb, 0, page, 0, rest, PAGE_SIZE);
	} else {
		struct sk_buff *frag = alloc_skb(rest, GFP_KERNEL);

		KUNIT_ASSERT_NOT_NULL(test, frag);
		skb_put_data(frag, buf + head, rest);
		skb_shinfo(skb)->frag_list = frag;
		skb->len += rest;
		skb->data_len += rest;
		skb->truesize += frag->truesize;
	}
	return skb;
}

/**
 * struct rt_ctx - state of one pack/parse round trip
 * @sa: counters for the parser
 * @r: parser state
 * @q: inner packets waiting to be packed
 * @sent: copies of the packets, in order, to compare with
 * @got: reassembled packets
 */
struct rt_ctx {
	struct xtfs_sa		*sa;
	struct xtfs_reasm	r;
	struct sk_buff_head	q;
	struct sk_buff_head	sent;
	struct sk_buff_head	got;
};

static void rt_init(struct kunit *test, struct rt_ctx *c)
{
	c->sa = kunit_kzalloc(test, sizeof(*c->sa), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, c->sa);
	memset(&c->r, 0, sizeof(c->r));
	__skb_queue_head_init(&c->q);
	__skb_queue_head_init(&c->sent);
	__skb_queue_head_init(&c->got);
}

static void rt_add(struct kunit *test, struct rt_ctx *c, bool v6, u32 len,
		   u8 seed)
{
	struct sk_buff *skb = make_inner(test, v6, len, seed);
	struct sk_buff *copy = skb_copy(skb, GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, copy);
	__skb_queue_tail(&c->sent, copy);
	__skb_queue_tail(&c->q, skb);
}

static void rt_free(struct rt_ctx *c)
{
	__skb_queue_purge(&c->q);
	__skb_queue_purge(&c->sent);
	__skb_queue_purge(&c->got);
	xtfs_reasm_reset(c->sa, &c->r);
}

/**
 * rt_pack() - pack the next payload of at most @space data octets
 * @c: round trip state
 * @buf: buffer of HDR_LEN + @space octets
 * @space: data block space
 * @head_sent: packer state
 *
 * Return: payload length including the header (0 when nothing is left).
 */
static u32 rt_pack(struct rt_ctx *c, u8 *buf, u32 space, u32 *head_sent)
{
	struct xtfs_aggfrag_hdr *h = (void *)buf;
	u32 used, frags;
	u16 blkoff;

	if (skb_queue_empty(&c->q))
		return 0;
	used = xtfs_fill_payload(&c->q, head_sent, buf + HDR_LEN, space, false,
				 &blkoff, &frags);
	h->subtype = XTFS_SUBTYPE_BASIC;
	h->reserved = 0;
	h->block_offset = htons(blkoff);
	return HDR_LEN + used;
}

static void rt_parse(struct kunit *test, struct rt_ctx *c, const u8 *buf,
		     u32 len, enum shape shape)
{
	struct sk_buff *skb = make_outer(test, buf, len, shape);

	xtfs_reasm_payload(c->sa, &c->r, skb, &c->got);
	kfree_skb(skb);
}

/* Every packet in @c->sent arrived, in order, byte for byte. */
static void rt_expect_all(struct kunit *test, struct rt_ctx *c)
{
	struct sk_buff *a, *b;

	KUNIT_EXPECT_EQ(test, skb_queue_len(&c->got), skb_queue_len(&c->sent));
	b = skb_peek(&c->got);
	skb_queue_walk(&c->sent, a) {
		if (!b)
			break;
		KUNIT_EXPECT_EQ(test, a->len, b->len);
		KUNIT_EXPECT_TRUE(test, skb_headlen(b) == b->len);
		if (a->len == b->len)
			KUNIT_EXPECT_MEMEQ(test, a->data, b->data, a->len);
		b = skb_peek_next(b, &c->got);
	}
}

static void roundtrip(struct kunit *test, const u32 *lens, int n, u32 space,
		      enum shape shape)
{
	u8 *buf = kunit_kzalloc(test, HDR_LEN + space, GFP_KERNEL);
	struct rt_ctx c;
	u32 head_sent = 0, len;
	int i;

	KUNIT_ASSERT_NOT_NULL(test, buf);
	rt_init(test, &c);
	for (i = 0; i < n; i++)
		rt_add(test, &c, i & 1, lens[i], i);
	while ((len = rt_pack(&c, buf, space, &head_sent)))
		rt_parse(test, &c, buf, len, shape);
	rt_expect_all(test, &c);
	KUNIT_EXPECT_EQ(test, atomic64_read(&c.sa->cnt[XTFS_CNT_DROP_BAD_BLOCK]), 0);
	rt_free(&c);
}

static const u32 mixed_lens[] = { 20, 40, 64, 1500, 41, 3000, 60, 9000, 28, 100 };

static void xtfs_test_roundtrip_linear(struct kunit *test)
{
	roundtrip(test, mixed_lens, ARRAY_SIZE(mixed_lens), 1346, SHAPE_LINEAR);
	roundtrip(test, mixed_lens, ARRAY_SIZE(mixed_lens), 9, SHAPE_LINEAR);
}

static void xtfs_test_roundtrip_paged(struct kunit *test)
{
	roundtrip(test, mixed_lens, ARRAY_SIZE(mixed_lens), 1346, SHAPE_PAGED);
	roundtrip(test, mixed_lens, ARRAY_SIZE(mixed_lens), 13, SHAPE_PAGED);
}

static void xtfs_test_roundtrip_fraglist(struct kunit *test)
{
	roundtrip(test, mixed_lens, ARRAY_SIZE(mixed_lens), 1346, SHAPE_FRAGLIST);
	roundtrip(test, mixed_lens, ARRAY_SIZE(mixed_lens), 17, SHAPE_FRAGLIST);
}

/* The second packet's length field split after each of its first octets. */
static void xtfs_test_len_split_every_byte(struct kunit *test)
{
	u32 lens[3] = { 100, 60, 80 };
	u32 k;

	for (k = 1; k <= 8; k++) {
		roundtrip(test, lens, 3, 100 + k, SHAPE_LINEAR);
		lens[1] = 64;	/* IPv6 (odd index): 6-octet length header */
		roundtrip(test, lens, 3, 100 + k, SHAPE_PAGED);
		lens[1] = 60;
	}
}

/* Exactly full, one short, one over. */
static void xtfs_test_fill_boundaries(struct kunit *test)
{
	u32 lens[2] = { 500, 500 };

	roundtrip(test, lens, 2, 1000, SHAPE_LINEAR);
	roundtrip(test, lens, 2, 999, SHAPE_LINEAR);
	roundtrip(test, lens, 2, 1001, SHAPE_LINEAR);
}

/* Several small packets share one payload; a big one is split. */
static void xtfs_test_pack_aggregates(struct kunit *test)
{
	u8 *buf = kunit_kzalloc(test, HDR_LEN + 1000, GFP_KERNEL);
	struct xtfs_aggfrag_hdr *h = (void *)buf;
	struct rt_ctx c;
	u32 head_sent = 0;
	int i;

	KUNIT_ASSERT_NOT_NULL(test, buf);
	rt_init(test, &c);
	for (i = 0; i < 10; i++)
		rt_add(test, &c, false, 64, i);
	rt_add(test, &c, false, 1500, 99);
	/* 10 x 64 whole, then 360 octets of the 1500-octet packet. */
	KUNIT_EXPECT_EQ(test, rt_pack(&c, buf, 1000, &head_sent), HDR_LEN + 1000);
	KUNIT_EXPECT_EQ(test, ntohs(h->block_offset), 0);
	KUNIT_EXPECT_EQ(test, head_sent, 360U);
	KUNIT_EXPECT_EQ(test, skb_queue_len(&c.q), 1U);
	/* The rest: block offset is the remaining 1140, past this payload. */
	KUNIT_EXPECT_EQ(test, rt_pack(&c, buf, 1000, &head_sent), HDR_LEN + 1000);
	KUNIT_EXPECT_EQ(test, ntohs(h->block_offset), 1140);
	KUNIT_EXPECT_EQ(test, rt_pack(&c, buf, 1000, &head_sent), HDR_LEN + 140);
	KUNIT_EXPECT_EQ(test, ntohs(h->block_offset), 140);
	KUNIT_EXPECT_TRUE(test, skb_queue_empty(&c.q));
	rt_free(&c);
}

/* dont-frag stops before a packet that does not fit whole. */
static void xtfs_test_pack_dont_frag(struct kunit *test)
{
	u8 *buf = kunit_kzalloc(test, 1000, GFP_KERNEL);
	u32 head_sent = 0, frags, used;
	struct rt_ctx c;
	u16 blkoff;

	KUNIT_ASSERT_NOT_NULL(test, buf);
	rt_init(test, &c);
	rt_add(test, &c, false, 600, 1);
	rt_add(test, &c, false, 600, 2);
	used = xtfs_fill_payload(&c.q, &head_sent, buf, 1000, true, &blkoff, &frags);
	KUNIT_EXPECT_EQ(test, used, 600U);
	KUNIT_EXPECT_EQ(test, frags, 0U);
	KUNIT_EXPECT_EQ(test, head_sent, 0U);
	KUNIT_EXPECT_EQ(test, skb_queue_len(&c.q), 1U);
	rt_free(&c);
}

/* A lost payload ends the packet in progress; later packets still come. */
static void xtfs_test_loss_resync(struct kunit *test)
{
	u8 *buf = kunit_kzalloc(test, HDR_LEN + 700, GFP_KERNEL);
	struct rt_ctx c;
	u32 head_sent = 0, len, n = 0;
	struct sk_buff *first;

	KUNIT_ASSERT_NOT_NULL(test, buf);
	rt_init(test, &c);
	rt_add(test, &c, false, 300, 1);
	rt_add(test, &c, false, 2000, 2);	/* spans payloads 0..3 */
	rt_add(test, &c, true, 500, 3);
	rt_add(test, &c, false, 100, 4);
	while ((len = rt_pack(&c, buf, 700, &head_sent))) {
		if (n == 1) {		/* lose the second payload */
			xtfs_reasm_reset(c.sa, &c.r);
		} else {
			rt_parse(test, &c, buf, len, SHAPE_LINEAR);
		}
		n++;
	}
	/* 300 arrives, 2000 is lost, 500 and 100 arrive. */
	KUNIT_ASSERT_EQ(test, skb_queue_len(&c.got), 3U);
	first = skb_peek(&c.got);
	KUNIT_EXPECT_EQ(test, first->len, 300U);
	KUNIT_EXPECT_EQ(test, skb_peek_next(first, &c.got)->len, 500U);
	KUNIT_EXPECT_EQ(test, skb_peek_tail(&c.got)->len, 100U);
	KUNIT_EXPECT_EQ(test, atomic64_read(&c.sa->cnt[XTFS_CNT_DROP_PARTIAL]), 1);
	rt_free(&c);
}

/* Hostile payloads: counted drops, no packet, no crash. */
static void xtfs_test_malformed(struct kunit *test)
{
	static const u8 runt[] = { 0, 0 };
	static const u8 bad_subtype[] = { 7, 0, 0, 0, 0x45, 0, 0, 20 };
	static const u8 short_v4[] = { 0, 0, 0, 0, 0x45, 0, 0, 19, 0, 0 };
	static const u8 bad_ihl[] = { 0, 0, 0, 0, 0x43, 0, 0, 40, 0, 0 };
	static const u8 bad_type[] = { 0, 0, 0, 0, 0x50, 0, 0, 40 };
	static const u8 pad_only[] = { 0, 0, 0, 0, 0x00, 0x45, 0, 20 };
	static const u8 cc_runt[] = { 1, 0, 0, 0, 0x45, 0, 0, 20 };
	static const u8 off_past[] = { 0, 0, 0xff, 0xff, 0x45, 0, 0, 20 };
	struct rt_ctx c;

	rt_init(test, &c);
	rt_parse(test, &c, runt, sizeof(runt), SHAPE_LINEAR);
	rt_parse(test, &c, bad_subtype, sizeof(bad_subtype), SHAPE_LINEAR);
	rt_parse(test, &c, cc_runt, sizeof(cc_runt), SHAPE_LINEAR);
	KUNIT_EXPECT_EQ(test, atomic64_read(&c.sa->cnt[XTFS_CNT_DROP_BAD_HDR]), 3);
	rt_parse(test, &c, short_v4, sizeof(short_v4), SHAPE_LINEAR);
	rt_parse(test, &c, bad_ihl, sizeof(bad_ihl), SHAPE_PAGED);
	rt_parse(test, &c, bad_type, sizeof(bad_type), SHAPE_FRAGLIST);
	KUNIT_EXPECT_EQ(test, atomic64_read(&c.sa->cnt[XTFS_CNT_DROP_BAD_BLOCK]), 3);
	rt_parse(test, &c, pad_only, sizeof(pad_only), SHAPE_LINEAR);
	rt_parse(test, &c, off_past, sizeof(off_past), SHAPE_LINEAR);
	KUNIT_EXPECT_EQ(test, skb_queue_len(&c.got), 0U);
	KUNIT_EXPECT_EQ(test, c.r.have, 0U);
	rt_free(&c);
}

/* A block offset that contradicts the packet in progress drops it. */
static void xtfs_test_offset_mismatch(struct kunit *test)
{
	u8 p1[HDR_LEN + 30] = { 0, 0, 0, 0, 0x45, 0, 0, 100 };
	/* Claims 10 octets remain, but 70 do: drop, resync at offset 10. */
	u8 p2[HDR_LEN + 30] = { 0, 0, 0, 10 };
	struct rt_ctx c;

	p2[HDR_LEN + 10] = 0x45;
	p2[HDR_LEN + 13] = 20;
	rt_init(test, &c);
	rt_parse(test, &c, p1, sizeof(p1), SHAPE_LINEAR);
	KUNIT_EXPECT_EQ(test, c.r.have, 30U);
	rt_parse(test, &c, p2, sizeof(p2), SHAPE_LINEAR);
	KUNIT_EXPECT_EQ(test, atomic64_read(&c.sa->cnt[XTFS_CNT_DROP_BAD_BLOCK]), 1);
	KUNIT_EXPECT_EQ(test, skb_queue_len(&c.got), 1U);	/* the 20-octet one */
	rt_free(&c);
}

static void xtfs_test_block_len(struct kunit *test)
{
	static const u8 v4[] = { 0x45, 0, 0x05, 0xdc };
	static const u8 v6[] = { 0x60, 0, 0, 0, 0x05, 0xb4 };
	static const u8 v4_short[] = { 0x45, 0, 0, 19 };
	static const u8 v4_opts[] = { 0x46, 0, 0, 23 };

	KUNIT_EXPECT_EQ(test, xtfs_block_len(v4, 4), 1500);
	KUNIT_EXPECT_EQ(test, xtfs_block_len(v4, 3), 0);
	KUNIT_EXPECT_EQ(test, xtfs_block_len(v6, 6), 1500);
	KUNIT_EXPECT_EQ(test, xtfs_block_len(v6, 5), 0);
	KUNIT_EXPECT_EQ(test, xtfs_block_len(v4_short, 4), -EINVAL);
	KUNIT_EXPECT_EQ(test, xtfs_block_len(v4_opts, 4), -EINVAL);
	KUNIT_EXPECT_EQ(test, xtfs_block_len(v4, 0), 0);
}

/**
 * struct rx_ctx - payloads for reorder window tests
 * @rt: packets and parser (unused parser: the SA's own is used)
 * @sa: SA state with a reorder window
 * @pl: payloads, in sequence order
 * @len: their lengths
 * @n: number of payloads
 */
struct rx_ctx {
	struct rt_ctx	rt;
	struct xtfs_sa	*sa;
	u8		*pl[32];
	u32		len[32];
	u32		n;
};

/* Pack 24 inner packets of assorted sizes into 500-octet payloads. */
static void rx_init(struct kunit *test, struct rx_ctx *c, u16 win)
{
	u32 head_sent = 0, len;
	u8 buf[HDR_LEN + 500];
	int i;

	rt_init(test, &c->rt);
	for (i = 0; i < 24; i++)
		rt_add(test, &c->rt, i & 1, 40 + (i * 37) % 300, i);
	c->n = 0;
	while ((len = rt_pack(&c->rt, buf, 500, &head_sent))) {
		KUNIT_ASSERT_LT(test, c->n, 32U);
		c->pl[c->n] = kunit_kmalloc(test, len, GFP_KERNEL);
		KUNIT_ASSERT_NOT_NULL(test, c->pl[c->n]);
		memcpy(c->pl[c->n], buf, len);
		c->len[c->n++] = len;
	}
	c->sa = kunit_kzalloc(test, sizeof(*c->sa), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, c->sa);
	c->sa->cfg.reorder_win = win;
	c->sa->cfg.drop_time_us = 10 * USEC_PER_SEC;
	KUNIT_ASSERT_EQ(test, xtfs_input_init(c->sa, GFP_KERNEL), 0);
}

static void rx_feed(struct kunit *test, struct rx_ctx *c, u32 i)
{
	xtfs_rx_seq(c->sa, make_outer(test, c->pl[i], c->len[i], SHAPE_LINEAR),
		    1000 + i, &c->rt.got);
}

static void rx_free(struct rx_ctx *c)
{
	xtfs_input_destroy(c->sa);
	rt_free(&c->rt);
}

/* What arrived is an in-order, byte-identical subsequence of what was sent. */
static u32 rx_expect_subseq(struct kunit *test, struct rx_ctx *c)
{
	struct sk_buff *a = skb_peek(&c->rt.sent), *b;
	u32 n = 0;

	skb_queue_walk(&c->rt.got, b) {
		while (a && (a->len != b->len || memcmp(a->data, b->data, a->len)))
			a = skb_peek_next(a, &c->rt.sent);
		KUNIT_EXPECT_NOT_NULL(test, a);
		if (!a)
			break;
		a = skb_peek_next(a, &c->rt.sent);
		n++;
	}
	return n;
}

/* Reordered within the window: everything, in order. */
static void xtfs_test_rx_reorder(struct kunit *test)
{
	static const u32 order[] = { 0, 2, 1, 3, 5, 4, 6, 7, 8, 9, 10, 11 };
	struct rx_ctx c;
	u32 i;

	rx_init(test, &c, 3);
	for (i = 0; i < c.n; i++)
		rx_feed(test, &c, i < ARRAY_SIZE(order) && order[i] < c.n ?
			order[i] : i);
	rt_expect_all(test, &c.rt);
	KUNIT_EXPECT_EQ(test, c.sa->rx_held, 0U);
	rx_free(&c);
}

/* One payload lost: the window moves past it, the rest arrives in order. */
static void xtfs_test_rx_loss(struct kunit *test)
{
	struct rx_ctx c;
	u32 i, got;

	rx_init(test, &c, 3);
	for (i = 0; i < c.n; i++)
		if (i != 2)
			rx_feed(test, &c, i);
	got = rx_expect_subseq(test, &c);
	/* At most the packets that touch payload 2 (3 at these sizes). */
	KUNIT_EXPECT_GE(test, got + 3, skb_queue_len(&c.rt.sent));
	KUNIT_EXPECT_LT(test, got, skb_queue_len(&c.rt.sent));
	KUNIT_EXPECT_EQ(test, atomic64_read(&c.sa->cnt[XTFS_CNT_LOST]), 1);
	KUNIT_EXPECT_EQ(test, atomic64_read(&c.sa->cnt[XTFS_CNT_DROP_OLD]), 0);
	KUNIT_EXPECT_EQ(test, atomic64_read(&c.sa->cnt[XTFS_CNT_DROP_BAD_BLOCK]), 0);
	KUNIT_EXPECT_EQ(test, c.sa->rx_held, 0U);
	rx_free(&c);
}

/* Duplicates and packets older than the window are dropped and counted. */
static void xtfs_test_rx_duplicate(struct kunit *test)
{
	struct rx_ctx c;
	u32 i;

	rx_init(test, &c, 3);
	rx_feed(test, &c, 0);
	rx_feed(test, &c, 2);
	rx_feed(test, &c, 2);	/* duplicate, held */
	rx_feed(test, &c, 0);	/* duplicate, old */
	for (i = 1; i < c.n; i++)
		if (i != 2)
			rx_feed(test, &c, i);
	rt_expect_all(test, &c.rt);
	KUNIT_EXPECT_EQ(test, atomic64_read(&c.sa->cnt[XTFS_CNT_DROP_OLD]), 2);
	rx_free(&c);
}

/* Window 0: in order only; a gap is a loss at once. */
static void xtfs_test_rx_window0(struct kunit *test)
{
	struct rx_ctx c;

	rx_init(test, &c, 0);
	rx_feed(test, &c, 0);
	rx_feed(test, &c, 5);
	rx_feed(test, &c, 3);	/* now old */
	KUNIT_EXPECT_EQ(test, atomic64_read(&c.sa->cnt[XTFS_CNT_LOST]), 4);
	KUNIT_EXPECT_EQ(test, atomic64_read(&c.sa->cnt[XTFS_CNT_DROP_OLD]), 1);
	KUNIT_EXPECT_EQ(test, c.sa->rx_held, 0U);
	rx_expect_subseq(test, &c);
	rx_free(&c);
}

/* An all-pad payload between two fragments keeps the packet (RFC 2.2.3). */
static void xtfs_test_all_pad_between_fragments(struct kunit *test)
{
	u8 *buf = kunit_kzalloc(test, HDR_LEN + 300, GFP_KERNEL);
	static const u8 all_pad[HDR_LEN + 8] = { 0 };
	struct rt_ctx c;
	u32 head_sent = 0, len;

	KUNIT_ASSERT_NOT_NULL(test, buf);
	rt_init(test, &c);
	rt_add(test, &c, false, 500, 5);
	len = rt_pack(&c, buf, 300, &head_sent);
	rt_parse(test, &c, buf, len, SHAPE_LINEAR);
	rt_parse(test, &c, all_pad, sizeof(all_pad), SHAPE_LINEAR);
	rt_parse(test, &c, all_pad, HDR_LEN, SHAPE_LINEAR);	/* empty */
	len = rt_pack(&c, buf, 300, &head_sent);
	rt_parse(test, &c, buf, len, SHAPE_LINEAR);
	rt_expect_all(test, &c);
	rt_free(&c);
}

static struct kunit_case xtfs_aggfrag_cases[] = {
	KUNIT_CASE(xtfs_test_block_len),
	KUNIT_CASE(xtfs_test_pack_aggregates),
	KUNIT_CASE(xtfs_test_pack_dont_frag),
	KUNIT_CASE(xtfs_test_fill_boundaries),
	KUNIT_CASE(xtfs_test_roundtrip_linear),
	KUNIT_CASE(xtfs_test_roundtrip_paged),
	KUNIT_CASE(xtfs_test_roundtrip_fraglist),
	KUNIT_CASE(xtfs_test_len_split_every_byte),
	KUNIT_CASE(xtfs_test_loss_resync),
	KUNIT_CASE(xtfs_test_malformed),
	KUNIT_CASE(xtfs_test_offset_mismatch),
	KUNIT_CASE(xtfs_test_all_pad_between_fragments),
	KUNIT_CASE(xtfs_test_rx_reorder),
	KUNIT_CASE(xtfs_test_rx_loss),
	KUNIT_CASE(xtfs_test_rx_duplicate),
	KUNIT_CASE(xtfs_test_rx_window0),
	{}
};

static struct kunit_suite xtfs_aggfrag_suite = {
	.name = "xtfs_aggfrag",
	.test_cases = xtfs_aggfrag_cases,
};

kunit_test_suite(xtfs_aggfrag_suite);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("KUnit tests for xtfs AGGFRAG encoding and reassembly");
