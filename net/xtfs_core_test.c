// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests pinning the xfrm core behaviour that xtfs's ESP type for
 * implicit-IV SAs relies on (Documentation/xtfs.rst, "Extended ESP
 * engine"):
 *
 * - xfrm_input() checks the replay window before it calls the type's
 *   input, also for a packet that GRO (esp4/esp6_offload) hands to it: a
 *   replayed packet never reaches the AEAD;
 * - xfrm_state_gc_destroy() calls the mode's destroy_state before the
 *   type's destructor, mode_data untouched in between, and drops the
 *   reference on the type's module after the destructor: the type's
 *   destructor may free the mode's state.
 *
 * Each test runs a state that is not in any namespace's tables, with a
 * type and mode callbacks of its own, through the exported entry points.
 */
#include <kunit/test.h>
#include <linux/bottom_half.h>
#include <linux/ip.h>
#include <linux/module.h>
#include <linux/netdevice.h>
#include <linux/skbuff.h>
#include <net/net_namespace.h>
#include <net/xfrm.h>

/**
 * struct core_log - what the test type and mode saw
 * @inputs: calls of the type's input
 * @last_seq: sequence number of the last packet given to it
 * @order: 'M' for the mode's destroy_state, 'T' for the type's
 *	destructor, in call order
 * @n: characters in @order
 * @mode_data_seen: x->mode_data when the type's destructor ran
 * @refs_seen: references on this module when the type's destructor ran
 */
static struct core_log {
	unsigned int	inputs;
	u32		last_seq;
	char		order[8];
	unsigned int	n;
	void		*mode_data_seen;
	int		refs_seen;
} core_log;

/**
 * core_type_input() - the test type's input: count the packet, refuse it
 * @x: the SA
 * @skb: the packet
 *
 * Return: -EINVAL; the core drops the packet (no mode input needed).
 */
static int core_type_input(struct xfrm_state *x, struct sk_buff *skb)
{
	core_log.inputs++;
	core_log.last_seq = ntohl(XFRM_SKB_CB(skb)->seq.input.low);
	return -EINVAL;
}

/**
 * core_type_destroy() - the test type's destructor: log it
 * @x: the SA
 */
static void core_type_destroy(struct xfrm_state *x)
{
	if (core_log.n < sizeof(core_log.order) - 1)
		core_log.order[core_log.n++] = 'T';
	core_log.mode_data_seen = x->mode_data;
	core_log.refs_seen = module_refcount(THIS_MODULE);
}

/**
 * core_type_output() - the test type's output, never called
 * @x: the SA
 * @skb: the packet
 *
 * Return: -EINVAL.
 */
static int core_type_output(struct xfrm_state *x, struct sk_buff *skb)
{
	return -EINVAL;
}

static const struct xfrm_type core_type = {
	.owner		= THIS_MODULE,
	.proto		= IPPROTO_ESP,
	.flags		= XFRM_TYPE_REPLAY_PROT,
	.destructor	= core_type_destroy,
	.input		= core_type_input,
	.output		= core_type_output,
};

/**
 * core_mode_destroy() - the test mode's destroy_state: log it
 * @x: the SA
 */
static void core_mode_destroy(struct xfrm_state *x)
{
	if (core_log.n < sizeof(core_log.order) - 1)
		core_log.order[core_log.n++] = 'M';
}

static const struct xfrm_mode_cbs core_mode_cbs = {
	.owner		= THIS_MODULE,
	.destroy_state	= core_mode_destroy,
};

/**
 * core_state() - a valid IPv4 ESP state with the test type
 * @test: test context
 *
 * The test type holds a reference on this module, as xfrm_get_type()
 * takes one on the module of a registered type.
 *
 * Return: the state (one reference), not in any table.
 */
static struct xfrm_state *core_state(struct kunit *test)
{
	struct xfrm_state *x = xfrm_state_alloc(&init_net);

	KUNIT_ASSERT_NOT_NULL(test, x);
	x->id.proto = IPPROTO_ESP;
	x->id.spi = htonl(0x100);
	x->props.family = AF_INET;
	x->props.mode = XFRM_MODE_IPTFS;
	x->outer_mode.family = AF_INET;
	x->outer_mode.encap = XFRM_MODE_IPTFS;
	x->dir = XFRM_SA_DIR_IN;
	x->repl_mode = XFRM_REPLAY_MODE_LEGACY;
	x->props.replay_window = 32;
	__module_get(THIS_MODULE);
	x->type = &core_type;
	x->km.state = XFRM_STATE_VALID;
	return x;
}

/**
 * core_gro_input() - hand xfrm_input() a packet as esp4_gro_receive() does
 * @test: test context
 * @x: the SA; the packet's secpath takes a reference
 * @seq: the packet's sequence number
 *
 * The secpath holds @x as offload state with XFRM_GRO set, its sequence
 * number in XFRM_SPI_SKB_CB(): xfrm_input() takes the SA from there.
 */
static void core_gro_input(struct kunit *test, struct xfrm_state *x, u32 seq)
{
	struct xfrm_offload *xo;
	struct sec_path *sp;
	struct sk_buff *skb;

	skb = alloc_skb(128, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, skb);
	skb_reserve(skb, 64);
	/* An all-zero IPv4 header: what audit may read of the packet. */
	skb_put_zero(skb, 32);
	skb_reset_network_header(skb);
	ip_hdr(skb)->version = 4;
	ip_hdr(skb)->ihl = 5;
	skb->dev = init_net.loopback_dev;
	sp = secpath_set(skb);
	KUNIT_ASSERT_NOT_NULL(test, sp);
	xfrm_state_hold(x);
	sp->xvec[sp->len++] = x;
	sp->olen++;
	xo = xfrm_offload(skb);
	KUNIT_ASSERT_NOT_NULL(test, xo);
	xo->flags |= XFRM_GRO;
	memset(skb->cb, 0, sizeof(skb->cb));
	XFRM_SPI_SKB_CB(skb)->family = AF_INET;
	XFRM_SPI_SKB_CB(skb)->daddroff = offsetof(struct iphdr, daddr);
	XFRM_SPI_SKB_CB(skb)->seq = htonl(seq);
	/* Receive processing runs with bottom halves off. */
	local_bh_disable();
	xfrm_input(skb, IPPROTO_ESP, x->id.spi, 0);
	local_bh_enable();
}

/**
 * xtfs_test_core_replay_before_input() - a replayed or too old packet
 *	taken by GRO is dropped before the type's input
 * @test: test context
 */
static void xtfs_test_core_replay_before_input(struct kunit *test)
{
	struct xfrm_state *x = core_state(test);

	memset(&core_log, 0, sizeof(core_log));
	/* SN 10 seen: the window's right edge, its bit set. */
	x->replay.seq = 10;
	x->replay.bitmap = 1;

	core_gro_input(test, x, 10);
	KUNIT_EXPECT_EQ(test, core_log.inputs, 0);
	KUNIT_EXPECT_EQ(test, x->stats.replay, 1);

	core_gro_input(test, x, 11);
	KUNIT_EXPECT_EQ(test, core_log.inputs, 1);
	KUNIT_EXPECT_EQ(test, core_log.last_seq, 11);
	/* Its input failed: the window did not move. */
	KUNIT_EXPECT_EQ(test, x->replay.seq, 10);

	/* Behind the window (32): too old, also before the type's input. */
	x->replay.seq = 100;
	core_gro_input(test, x, 50);
	KUNIT_EXPECT_EQ(test, core_log.inputs, 1);
	KUNIT_EXPECT_EQ(test, x->stats.replay_window, 1);

	x->km.state = XFRM_STATE_DEAD;
	xfrm_state_put(x);
	xfrm_flush_gc();
}

/**
 * xtfs_test_core_destroy_order() - the state garbage collector calls the
 *	mode's destroy_state, then the type's destructor with mode_data as
 *	destroy_state left it, and then drops the type's module reference
 * @test: test context
 */
static void xtfs_test_core_destroy_order(struct kunit *test)
{
	struct xfrm_state *x = core_state(test);
	int sentinel, refs;

	memset(&core_log, 0, sizeof(core_log));
	x->mode_cbs = &core_mode_cbs;
	x->mode_data = &sentinel;
	x->km.state = XFRM_STATE_DEAD;
	/* core_state() took one for the type: still held in the destructor. */
	refs = module_refcount(THIS_MODULE);
	xfrm_state_put(x);
	xfrm_flush_gc();
	KUNIT_EXPECT_STREQ(test, core_log.order, "MT");
	KUNIT_EXPECT_PTR_EQ(test, core_log.mode_data_seen, (void *)&sentinel);
	KUNIT_EXPECT_EQ(test, core_log.refs_seen, refs);
	KUNIT_EXPECT_EQ(test, module_refcount(THIS_MODULE), refs - 1);
}

static struct kunit_case xtfs_core_cases[] = {
	KUNIT_CASE(xtfs_test_core_replay_before_input),
	KUNIT_CASE(xtfs_test_core_destroy_order),
	{}
};

static struct kunit_suite xtfs_core_suite = {
	.name = "xtfs_core",
	.test_cases = xtfs_core_cases,
};

kunit_test_suite(xtfs_core_suite);
