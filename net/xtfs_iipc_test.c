// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests for Diet-ESP inner IP compression (xtfs_iipc.c): known-answer
 * vectors made by an implementation written apart from xtfs's
 * (xtfs_iipc_kat.h, by selftests/iipc.py): each inner packet compressed
 * by xtfs must be the vector's compressed form (or left alone when it
 * does not fit the rule), and each compressed form rebuilt by xtfs, over
 * a linear and a paged skb, must be the vector's packet; every shorter
 * prefix of a compressed form must be refused or rebuilt without a fault.
 */
#include <kunit/test.h>
#include <linux/skbuff.h>

#include "xtfs.h"
#include "xtfs_iipc_kat.h"
#include "xtfs_test.h"

/* Headroom of the test skbs: room for any rebuilt header. */
#define IIPC_ROOM	128

static void iipc_kat_desc(const struct xtfs_iipc_kat *k, char *desc)
{
	strscpy(desc, k->name, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(iipc_kat, xtfs_iipc_kats, iipc_kat_desc);

/**
 * iipc_skb() - an skb holding octets after IIPC_ROOM octets of headroom
 * @test: test context
 * @buf: the octets
 * @len: how many
 * @head: how many of them in the linear part; the rest in page fragments
 *
 * Return: the skb, its network header at the data.
 */
static struct sk_buff *iipc_skb(struct kunit *test, const u8 *buf,
				unsigned int len, unsigned int head)
{
	struct sk_buff *skb;

	head = min(head, len);
	skb = alloc_skb(IIPC_ROOM + head, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, skb);
	skb_reserve(skb, IIPC_ROOM);
	skb_put_data(skb, buf, head);
	if (len > head)
		xtfs_test_add_frags(test, skb, buf + head, len - head);
	skb_reset_network_header(skb);
	return skb;
}

/**
 * iipc_mask() - clear what a rule leaves to the receiver to make
 * @r: the rule
 * @p: an inner packet
 * @len: its length
 *
 * With flow label "generated" the receiver makes the IPv6 flow label or
 * the IPv4 Identification (and so the IPv4 header checksum) itself.
 */
static void iipc_mask(const struct xtfs_iipc *r, u8 *p, unsigned int len)
{
	if (r->fl != XTFS_IIPC_CDA_GENERATED)
		return;
	if (r->version == 4 && len >= 20) {
		memset(p + 4, 0, 2);
		memset(p + 10, 0, 2);
	} else if (r->version == 6 && len >= 4) {
		p[1] &= 0xf0;
		memset(p + 2, 0, 2);
	}
}

/**
 * iipc_back() - rebuild a vector's compressed form and compare
 * @test: test context
 * @k: the vector
 * @head: octets of the compressed form in the skb's linear part
 */
static void iipc_back(struct kunit *test, const struct xtfs_iipc_kat *k,
		      unsigned int head)
{
	struct sk_buff *skb = iipc_skb(test, k->comp, k->comp_len, head);
	u8 *got, *want;
	int ret;

	if (k->rule.rule_id) {
		KUNIT_ASSERT_TRUE(test, pskb_may_pull(skb, 1));
		KUNIT_EXPECT_EQ(test, skb->data[0], 1);
		__skb_pull(skb, 1);
	}
	ret = xtfs_iipc_decode(&k->rule, skb, &k->outer, 0);
	KUNIT_ASSERT_EQ(test, ret, 0);
	KUNIT_ASSERT_EQ(test, skb->len, k->back_len);
	KUNIT_EXPECT_PTR_EQ(test, skb_network_header(skb), skb->data);
	got = kunit_kmalloc(test, skb->len, GFP_KERNEL);
	want = kunit_kmalloc(test, skb->len, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, got);
	KUNIT_ASSERT_NOT_NULL(test, want);
	KUNIT_ASSERT_EQ(test, skb_copy_bits(skb, 0, got, skb->len), 0);
	memcpy(want, k->back, k->back_len);
	iipc_mask(&k->rule, got, k->back_len);
	iipc_mask(&k->rule, want, k->back_len);
	KUNIT_EXPECT_MEMEQ(test, got, want, k->back_len);
	kfree_skb(skb);
}

/* Each vector: compress, rebuild linear and paged, every prefix rebuilt. */
static void xtfs_test_iipc_kat(struct kunit *test)
{
	const struct xtfs_iipc_kat *k = test->param_value;
	unsigned int n, start = k->rule.rule_id ? 1 : 0;
	struct sk_buff *skb;
	int ret;

	skb = iipc_skb(test, k->pkt, k->pkt_len, k->pkt_len);
	ret = xtfs_iipc_encode(&k->rule, skb);
	if (!k->comp_len) {
		KUNIT_EXPECT_EQ(test, ret, 0);
		KUNIT_EXPECT_EQ(test, skb->len, k->pkt_len);
		KUNIT_EXPECT_MEMEQ(test, skb->data, k->pkt, k->pkt_len);
		kfree_skb(skb);
		return;
	}
	KUNIT_EXPECT_EQ(test, ret, 1);
	/* The RuleID is xtfs_iipc_fields()'s to write: the rest is here. */
	KUNIT_ASSERT_EQ(test, skb->len, k->comp_len);
	KUNIT_EXPECT_MEMEQ(test, skb->data, k->comp, k->comp_len);
	kfree_skb(skb);

	iipc_back(test, k, k->comp_len);
	iipc_back(test, k, 8);

	/* Cut short anywhere: refused, or some packet, never a fault. */
	for (n = start; n < k->comp_len; n++) {
		skb = iipc_skb(test, k->comp, n, max(n / 2, start));
		__skb_pull(skb, start);
		ret = xtfs_iipc_decode(&k->rule, skb, &k->outer, 0);
		KUNIT_EXPECT_TRUE(test, ret == 0 || ret == -EINVAL);
		kfree_skb(skb);
	}
}

static struct kunit_case xtfs_iipc_cases[] = {
	KUNIT_CASE_PARAM(xtfs_test_iipc_kat, iipc_kat_gen_params),
	{}
};

static struct kunit_suite xtfs_iipc_suite = {
	.name = "xtfs_iipc",
	.test_cases = xtfs_iipc_cases,
};

kunit_test_suite(xtfs_iipc_suite);
