// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests for xtfs's congestion control arithmetic (xtfs_cc.c): the
 * TCP-friendly rate of RFC 9347 Appendix B against values computed in
 * floating point, and the receiver's loss event rate (RFC 5348 section 5)
 * from loss and CE events fed as the receive path feeds them.
 */
#include <kunit/test.h>
#include <kunit/visibility.h>
#include <linux/slab.h>

#include "xtfs.h"
#include "xtfs_aggfrag.h"

MODULE_IMPORT_NS("EXPORTED_FOR_KUNIT_TESTING");

/**
 * struct xtfs_cc_tfrc_case - a rate computed in floating point
 * @rtt_us: round-trip time
 * @ler: inverse loss event rate
 * @rate_m: the rate of RFC 9347 Appendix B, millipackets per second
 */
struct xtfs_cc_tfrc_case {
	u32	rtt_us;
	u32	ler;
	u64	rate_m;
};

static const struct xtfs_cc_tfrc_case xtfs_cc_tfrc_cases[] = {
	{ 40000, 100, 280830 },
	{ 40000, 1000, 959609 },
	{ 100000, 10, 17701 },
	{ 200000, 2, 208 },
	{ 1, 1, 4109882 },
	{ 4194303, 4294967295U, 19136643 },
};

/**
 * xtfs_test_cc_tfrc() - the integer rate is within 0.5 % of the real one
 * @test: the test
 */
static void xtfs_test_cc_tfrc(struct kunit *test)
{
	const struct xtfs_cc_tfrc_case *c;
	u64 got;

	for (c = xtfs_cc_tfrc_cases;
	     c < xtfs_cc_tfrc_cases + ARRAY_SIZE(xtfs_cc_tfrc_cases); c++) {
		got = xtfs_cc_tfrc(c->rtt_us, c->ler);
		KUNIT_EXPECT_LE_MSG(test, abs_diff(got, c->rate_m),
				    c->rate_m / 200 + 1,
				    "rtt %u ler %u", c->rtt_us, c->ler);
	}
}

/**
 * xtfs_test_cc_sa() - a zeroed SA state for the receive side
 * @test: the test
 *
 * Return: the state, freed with the test.
 */
static struct xtfs_sa *xtfs_test_cc_sa(struct kunit *test)
{
	struct xtfs_sa *sa = kunit_kzalloc(test, sizeof(*sa), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, sa);
	return sa;
}

/**
 * xtfs_test_cc_hdr() - feed one arriving sub-type 1 header
 * @sa: the SA state
 * @seq: sequence number
 * @rtt_us: the sender's RTT field
 * @ce: marked Congestion Experienced
 * @now: ns
 */
static void xtfs_test_cc_hdr(struct xtfs_sa *sa, u64 seq, u32 rtt_us, bool ce,
			     u64 now)
{
	struct xtfs_aggfrag_cc_hdr h = {
		.subtype = XTFS_SUBTYPE_CC,
		.rtt_delays = cpu_to_be64((u64)rtt_us << 42),
		.tval = cpu_to_be32(seq),
	};

	xtfs_cc_rx(sa, &h, seq, ce, now);
}

/**
 * xtfs_test_cc_ler() - loss intervals, their grouping and their average
 * @test: the test
 *
 * 1000 packets with a loss every 100, 1 ms apart, RTT 10 ms: each loss is
 * a new event (100 ms apart) and every interval is 100, so the rate
 * reported is 100. Losses within one RTT of an event's start join it.
 */
static void xtfs_test_cc_ler(struct kunit *test)
{
	struct xtfs_sa *sa = xtfs_test_cc_sa(test);
	u64 seq, ms = NSEC_PER_MSEC;

	KUNIT_EXPECT_EQ(test, xtfs_cc_ler(&sa->ccr), 0);
	for (seq = 1; seq <= 1000; seq++) {
		if (seq % 100 == 50) {
			xtfs_cc_rx_lost(sa, seq, seq * ms);
			continue;
		}
		xtfs_test_cc_hdr(sa, seq, 10000, false, seq * ms);
		KUNIT_EXPECT_EQ(test, sa->ccr.tval, seq);
	}
	KUNIT_EXPECT_EQ(test, atomic64_read(&sa->cnt[XTFS_CNT_CC_LOSS_EVENTS]),
			10);
	KUNIT_EXPECT_EQ(test, sa->ccr.ev_n, XTFS_CC_NLI + 1);
	KUNIT_EXPECT_EQ(test, xtfs_cc_ler(&sa->ccr), 100);
	KUNIT_EXPECT_EQ(test, sa->ccr.ce_mask, 0);

	/* Two more losses 5 ms after the last event: the same event. */
	xtfs_cc_rx_lost(sa, 1001, 955 * ms);
	xtfs_cc_rx_lost(sa, 1002, 955 * ms);
	KUNIT_EXPECT_EQ(test, atomic64_read(&sa->cnt[XTFS_CNT_CC_LOSS_EVENTS]),
			10);

	/* A CE mark later is an event of its own, and flagged. */
	xtfs_test_cc_hdr(sa, 1003, 10000, true, 1003 * ms);
	KUNIT_EXPECT_EQ(test, atomic64_read(&sa->cnt[XTFS_CNT_CC_LOSS_EVENTS]),
			11);
	KUNIT_EXPECT_EQ(test, atomic64_read(&sa->cnt[XTFS_CNT_CC_CE_IN]), 1);
	KUNIT_EXPECT_EQ(test, sa->ccr.ce_mask & 1, 1);
}

/**
 * xtfs_test_cc_first_loss() - the first interval counts from the start
 * @test: the test
 *
 * One loss after 500 packets: the closed interval is 500, the open one
 * shorter, so the larger average, 500, is reported.
 */
static void xtfs_test_cc_first_loss(struct kunit *test)
{
	struct xtfs_sa *sa = xtfs_test_cc_sa(test);
	u64 seq;

	for (seq = 1; seq <= 600; seq++) {
		if (seq == 501)
			xtfs_cc_rx_lost(sa, seq, seq * NSEC_PER_MSEC);
		else
			xtfs_test_cc_hdr(sa, seq, 0, false,
					 seq * NSEC_PER_MSEC);
	}
	KUNIT_EXPECT_EQ(test, xtfs_cc_ler(&sa->ccr), 500);
}

static struct kunit_case xtfs_cc_cases[] = {
	KUNIT_CASE(xtfs_test_cc_tfrc),
	KUNIT_CASE(xtfs_test_cc_ler),
	KUNIT_CASE(xtfs_test_cc_first_loss),
	{}
};

static struct kunit_suite xtfs_cc_suite = {
	.name = "xtfs_cc",
	.test_cases = xtfs_cc_cases,
};

kunit_test_suite(xtfs_cc_suite);
