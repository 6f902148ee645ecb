// SPDX-License-Identifier: GPL-2.0
/*
 * xtfs congestion information and congestion control: the sub-type 1
 * AGGFRAG header (RFC 9347 sections 3 and 6.1.2), the receiver's loss
 * event rate (RFC 5348 section 5, RFC 9347 Appendix B), the sender's
 * TCP-friendly rate (RFC 5348 section 4) and the circuit breaker (RFC 9347
 * section 2.4.2.1). Documentation/xtfs.rst, "Congestion control".
 *
 * The two SAs of a tunnel on one host are paired by configuration: the
 * outbound SA names its inbound SA (&xtfs_config.rev_spi). The inbound SA
 * keeps what the peer's headers bring (&struct xtfs_cc_rx, under its
 * rlock); the outbound SA reads it once per send slot (xtfs_cc_tx_update())
 * and writes its own header from it (xtfs_cc_put_hdr()).
 */
#include <linux/math.h>
#include <linux/math64.h>
#include <net/xfrm.h>
#include <kunit/visibility.h>

#include "xtfs.h"
#include "xtfs_aggfrag.h"

/* Flags of the sub-type 1 header (RFC 9347 section 6.1.2). */
#define XTFS_CC_FLAG_E		0x01

/* Field widths of the packed RTT, Echo Delay and Transmit Delay. */
#define XTFS_CC_RTT_MAX		0x3fffffU
#define XTFS_CC_DELAY_MAX	0x1fffffU

/* RFC 5348 section 4.2: the no-feedback timer before the first RTT. */
#define XTFS_CC_NOFB_INIT_NS	(2 * NSEC_PER_SEC)

/* RFC 5348 section 5.4: weights of the loss intervals, times 5. */
static const u8 xtfs_cc_w[XTFS_CC_NLI] = { 5, 5, 5, 5, 4, 3, 2, 1 };

/**
 * xtfs_cc_init() - set up the congestion state of an SA
 * @sa: the SA state, configuration final
 *
 * A congestion-controlled SA starts at its lowest rate and slow-starts
 * from there (RFC 5348 section 4.2: the first feedback sets the RTT); a
 * fixed-rate SA keeps its rate.
 */
void xtfs_cc_init(struct xtfs_sa *sa)
{
	u32 r = sa->cfg.pace.send == XTFS_SEND_CC ? sa->cfg.pace.rate_min : sa->cfg.pace.rate;

	sa->cc.rate_m = (u64)r * 1000;
	atomic64_set(&sa->cnt[XTFS_CNT_CC_RATE], r);
}

/**
 * xtfs_cc_destroy() - drop the paired SA
 * @sa: the SA state: its send work stopped, or from that work with
 *	@sa->lock held (an SA that stops sending)
 */
void xtfs_cc_destroy(struct xtfs_sa *sa)
{
	if (sa->cc.rev)
		xfrm_state_put(sa->cc.rev);
	sa->cc.rev = NULL;
}

/**
 * xtfs_cc_pair() - find the paired inbound SA
 * @sa: a valid, pacing outbound SA with &xtfs_config.rev_spi, @sa->lock
 *	held, from its send work
 * @now: CLOCK_MONOTONIC ns
 *
 * The inbound SA of the same tunnel has this SA's outer source as its
 * outer destination, the configured SPI and this SA's mark. A reference
 * is kept while it is valid; one no longer valid (deleted, expired, or
 * rekeyed away) is let go and looked for again, so that the SA that
 * replaces it is found. Without one (not created yet, or not an xtfs SA)
 * no report arrives: a congestion-controlled SA's no-feedback timer then
 * brings it down to its lowest rate, the documented fallback.
 */
void xtfs_cc_pair(struct xtfs_sa *sa, u64 now)
{
	struct xfrm_state *x = sa->x, *rev = sa->cc.rev;

	if (rev && READ_ONCE(rev->km.state) == XFRM_STATE_VALID)
		return;
	if (rev)
		xfrm_state_put(rev);
	sa->cc.rev = NULL;
	/* Looked for at most ten times a second while missing. */
	if (sa->cc.pair_ns && now - sa->cc.pair_ns < 100 * NSEC_PER_MSEC)
		return;
	sa->cc.pair_ns = now;
	rev = xfrm_state_lookup(xs_net(x), x->mark.v, &x->props.saddr,
				sa->cfg.pace.rev_spi, IPPROTO_ESP,
				x->props.family);
	if (rev && (!xtfs_state_sa(rev) || rev->dir == XFRM_SA_DIR_OUT)) {
		xfrm_state_put(rev);
		rev = NULL;
	}
	sa->cc.rev = rev;
}

/**
 * xtfs_cc_tfrc() - TCP-friendly rate for a round-trip time and loss rate
 * @rtt_us: round-trip time, µs, at least 1
 * @ler: inverse loss event rate, at least 1
 *
 * RFC 9347 Appendix B (RFC 5348 section 3.1 with one packet of the SA's
 * packet size per segment, b = 1 and t_RTO = 4R):
 * X = 1 / (R * (sqrt(2p/3) + 12 * sqrt(3p/8) * p * (1 + 32p^2))), p =
 * 1/@ler, in integer arithmetic with the denominator in billionths
 * (64-bit divisions throughout: @ler takes any u32 value).
 *
 * Return: X in millipackets per second.
 */
VISIBLE_IF_KUNIT u64 xtfs_cc_tfrc(u32 rtt_us, u32 ler)
{
	u64 a, b;

	ler = max(ler, 1U);
	a = int_sqrt64(div64_u64(2000000000000000000ULL, 3 * (u64)ler));
	b = int_sqrt64(div64_u64(3000000000000000000ULL, 8 * (u64)ler));
	b = div_u64(12 * b, ler);
	b += div_u64(div_u64(b * 32, ler), ler);
	/* a >= 12457 for any u32 @ler: the divisor is never 0, and at
	 * most 4194303 * 2.5e11 (@ler 1): no overflow.
	 */
	return div64_u64(1000000000000000000ULL,
			 (u64)clamp(rtt_us, 1U, XTFS_CC_RTT_MAX) * (a + b));
}
EXPORT_SYMBOL_IF_KUNIT(xtfs_cc_tfrc);

/**
 * xtfs_cc_ler() - the loss event rate a receiver reports
 * @c: its congestion information
 *
 * RFC 5348 section 5.4: the weighted average of the last loss intervals,
 * the open one included when that makes it larger. An interval is the
 * count of sequence numbers from the start of one loss event to the
 * start of the next; the first one counts from the first packet received.
 *
 * Return: the average interval (the inverse of the loss event rate), 0
 * before any loss event.
 */
VISIBLE_IF_KUNIT u32 xtfs_cc_ler(const struct xtfs_cc_rx *c)
{
	u64 i0, tot0 = 0, tot1 = 0, w = 0, iv;
	u32 k, n = c->ev_n - 1;

	if (!c->losses || !n)
		return 0;
	/* @high may trail a loss of the last numbers received. */
	i0 = c->high >= c->ev_seq[0] ? c->high - c->ev_seq[0] + 1 : 1;
	for (k = 0; k < n; k++) {
		iv = k ? c->ev_seq[k - 1] - c->ev_seq[k] : i0;
		tot0 += iv * xtfs_cc_w[k];
		tot1 += (c->ev_seq[k] - c->ev_seq[k + 1]) * xtfs_cc_w[k];
		w += xtfs_cc_w[k];
	}
	iv = div64_u64(max(tot0, tot1), w);
	return clamp_t(u64, iv, 1, U32_MAX);
}
EXPORT_SYMBOL_IF_KUNIT(xtfs_cc_ler);

/**
 * xtfs_cc_first_interval() - the first loss interval, from the receive rate
 * @c: the receiver's congestion information, a first loss event starting
 *
 * RFC 5348 section 6.3.1: the interval before the first loss is not a
 * measure of the loss rate (it counts from the start of the stream, most
 * of it in slow start); it is replaced by the interval that gives the
 * receive rate of the last RTT with the sender's RTT: the smallest
 * inverse loss rate whose TCP-friendly rate reaches it.
 *
 * Return: that interval, or 0 when the RTT or the receive rate is not
 * known yet (the interval from the first packet is kept).
 */
static u32 xtfs_cc_first_interval(const struct xtfs_cc_rx *c)
{
	u32 lo = 1, hi = U32_MAX, mid;

	if (!c->peer_rtt_us || !c->xrecv_m)
		return 0;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (xtfs_cc_tfrc(c->peer_rtt_us, mid) >= c->xrecv_m)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

/**
 * xtfs_cc_event() - count a lost or CE-marked packet for the loss rate
 * @sa: the inbound SA state, @sa->rlock held
 * @seq: its sequence number
 * @ce: it arrived marked Congestion Experienced (RFC 9347 section 3.1)
 * @now: CLOCK_MONOTONIC ns
 *
 * RFC 5348 section 5.2: a loss within one RTT (the sender's estimate, from
 * its header) of the start of the current loss event belongs to it;
 * another starts a new event and closes the open interval. The first
 * event also gets its interval from the receive rate
 * (xtfs_cc_first_interval()).
 */
static void xtfs_cc_event(struct xtfs_sa *sa, u64 seq, bool ce, u64 now)
{
	struct xtfs_cc_rx *c = &sa->ccr;
	u64 rtt = (u64)c->peer_rtt_us * NSEC_PER_USEC;
	u32 first;

	if (!c->seen || seq < c->ev_seq[0])
		return;
	if (c->losses && now - c->ev_ns < rtt) {
		c->ce_mask |= ce;
		return;
	}
	first = c->losses ? 0 : xtfs_cc_first_interval(c);
	if (c->losses || c->ev_seq[0] != seq || first) {
		memmove(&c->ev_seq[1], &c->ev_seq[0],
			XTFS_CC_NLI * sizeof(c->ev_seq[0]));
		c->ev_n = min(c->ev_n + 1, XTFS_CC_NLI + 1);
		c->ce_mask <<= 1;
	}
	/* Only differences of these numbers are used: one below the
	 * first sequence number wraps harmlessly.
	 */
	if (first)
		c->ev_seq[1] = seq - first;
	c->ev_seq[0] = seq;
	c->ce_mask = (c->ce_mask | ce) & GENMASK(XTFS_CC_NLI, 0);
	c->ev_ns = now;
	c->losses = true;
	xtfs_inc(sa, XTFS_CNT_CC_LOSS_EVENTS, 1);
}

/**
 * xtfs_cc_rx_lost() - an outer packet of the stream was given up as lost
 * @sa: the inbound SA state, @sa->rlock held
 * @seq: the first sequence number of the run given up
 * @now: CLOCK_MONOTONIC ns
 */
void xtfs_cc_rx_lost(struct xtfs_sa *sa, u64 seq, u64 now)
{
	xtfs_cc_event(sa, seq, false, now);
}
EXPORT_SYMBOL_IF_KUNIT(xtfs_cc_rx_lost);

/**
 * xtfs_cc_rx() - take the congestion information of an arriving packet
 * @sa: the inbound SA state, @sa->rlock held
 * @h: its sub-type 1 header, any field values
 * @seq: its sequence number
 * @ce: its outer header was marked Congestion Experienced
 * @now: CLOCK_MONOTONIC ns
 *
 * RFC 9347 section 3: a TVal is recorded with its arrival time when first
 * seen, and a report (LossEventRate, TEcho and the delays) is kept for
 * the paired outbound SA; a reordered older packet replaces neither. The
 * values are only stored here: xtfs_cc_tx_update() bounds what it uses.
 */
void xtfs_cc_rx(struct xtfs_sa *sa, const struct xtfs_aggfrag_cc_hdr *h,
		u64 seq, bool ce, u64 now)
{
	struct xtfs_cc_rx *c = &sa->ccr;
	u64 d = be64_to_cpu(h->rtt_delays);

	if (!c->seen) {
		c->seen = true;
		c->high = seq;
		c->ev_seq[0] = seq;
		c->ev_n = 1;
		c->win_ns = now;
	}
	c->high = max(c->high, seq);
	/* The receive rate, measured over about an RTT (at least 10 ms). */
	c->win_n++;
	if (now - c->win_ns >= max_t(u64, (u64)c->peer_rtt_us * NSEC_PER_USEC,
				     10 * NSEC_PER_MSEC)) {
		c->xrecv_m = mul_u64_u64_div_u64(c->win_n, NSEC_PER_SEC * 1000ULL,
						 now - c->win_ns);
		c->win_ns = now;
		c->win_n = 0;
	}
	if (seq >= c->fb_seq) {
		c->peer_rtt_us = d >> 42;
		if (be32_to_cpu(h->tval) != c->tval || !c->tval_ns) {
			c->tval = be32_to_cpu(h->tval);
			c->tval_ns = now;
		}
		c->fb_seq = seq;
		c->fb_ler = be32_to_cpu(h->loss_event_rate);
		c->fb_techo = be32_to_cpu(h->techo);
		c->fb_echo_us = (d >> 21) & XTFS_CC_DELAY_MAX;
		c->fb_txd_us = d & XTFS_CC_DELAY_MAX;
		c->fb_e = h->flags & XTFS_CC_FLAG_E;
		c->fb_ns = now;
		c->fb_gen++;
	}
	if (ce) {
		xtfs_inc(sa, XTFS_CNT_CC_CE_IN, 1);
		xtfs_cc_event(sa, seq, true, now);
	}
}
EXPORT_SYMBOL_IF_KUNIT(xtfs_cc_rx);

/**
 * xtfs_cc_slot_ns() - the interval between send slots
 * @sa: a fixed-rate or congestion-controlled SA, @sa->lock held
 *
 * Return: ns, at least 1.
 */
u64 xtfs_cc_slot_ns(const struct xtfs_sa *sa)
{
	return max_t(u64, div64_u64(NSEC_PER_SEC * 1000ULL,
				    max_t(u64, sa->cc.rate_m, 1)), 1);
}

/**
 * xtfs_cc_set_rate() - set a congestion-controlled SA's rate
 * @sa: the SA state, @sa->lock held
 * @rate_m: the new rate, millipackets per second, kept within the bounds
 */
static void xtfs_cc_set_rate(struct xtfs_sa *sa, u64 rate_m)
{
	sa->cc.rate_m = clamp_t(u64, rate_m, (u64)sa->cfg.pace.rate_min * 1000,
				(u64)sa->cfg.pace.rate * 1000);
	atomic64_set(&sa->cnt[XTFS_CNT_CC_RATE],
		     div_u64(sa->cc.rate_m + 500, 1000));
}

/**
 * xtfs_cc_nofb_arm() - restart the no-feedback timer
 * @sa: the SA state, @sa->lock held
 * @now: CLOCK_MONOTONIC ns
 *
 * RFC 5348 section 4.3: max(4R, 2s/X), 2 s before the first RTT.
 */
static void xtfs_cc_nofb_arm(struct xtfs_sa *sa, u64 now)
{
	u64 t = XTFS_CC_NOFB_INIT_NS;

	if (sa->cc.rtt_us)
		t = max_t(u64, 4ULL * sa->cc.rtt_us * NSEC_PER_USEC,
			  2 * xtfs_cc_slot_ns(sa));
	sa->cc.nofb_ns = now + t;
}

/**
 * xtfs_cc_breaker() - check the circuit breaker against a report
 * @sa: the SA state, @sa->lock held, a breaker configured
 * @now: CLOCK_MONOTONIC ns
 *
 * RFC 9347 section 2.4.2.1: the breaker trips once the loss event rate the
 * peer reports has stayed at or above the threshold for the configured
 * time, every report in between included; a report below resets it.
 *
 * Return: true when it trips now.
 */
static bool xtfs_cc_breaker(struct xtfs_sa *sa, u64 now)
{
	struct xtfs_cc_tx *cc = &sa->cc;

	/* Loss event rate 1/ler at or above brk_loss/10^6. */
	if (!cc->ler || (u64)cc->ler * sa->cfg.pace.brk_loss > XTFS_PPM) {
		cc->brk_since = 0;
		return false;
	}
	if (!cc->brk_since) {
		cc->brk_since = now;
		return false;
	}
	if (now - cc->brk_since < (u64)sa->cfg.pace.brk_time_ms * NSEC_PER_MSEC)
		return false;
	WRITE_ONCE(cc->broken, true);
	xtfs_inc(sa, XTFS_CNT_BREAKER_TRIPS, 1);
	return true;
}

/**
 * xtfs_cc_report() - take a new report from the peer
 * @sa: the SA state, @sa->lock held
 * @c: a copy of the paired SA's congestion information
 * @now: CLOCK_MONOTONIC ns
 *
 * RFC 9347 section 3: two RTT estimates, the echo's (the report's arrival
 * less TEcho less Echo Delay) and the sum of both sides' transmit delays; the larger is
 * the sample, smoothed as RFC 5348 section 4.3 does (q = 0.9). Then RFC
 * 5348 section 4.3's rate update with X_recv taken as the sending rate
 * (Appendix B), at most once per RTT: without loss, slow start doubles
 * the rate; with loss, the TCP-friendly rate, at most twice the current
 * one.
 *
 * Return: true when the circuit breaker trips.
 */
static bool xtfs_cc_report(struct xtfs_sa *sa, const struct xtfs_cc_rx *c,
			   u64 now)
{
	struct xtfs_cc_tx *cc = &sa->cc;
	u32 own = min_t(u64, div_u64(xtfs_cc_slot_ns(sa), NSEC_PER_USEC),
			XTFS_CC_DELAY_MAX);
	u32 d, r = min(c->fb_txd_us + own, XTFS_CC_RTT_MAX);

	cc->fb_gen = c->fb_gen;
	xtfs_inc(sa, XTFS_CNT_CC_FEEDBACK, 1);
	if (c->fb_techo) {
		/* At the report's arrival (section 3), not this slot. */
		d = (u32)div_u64(c->fb_ns, NSEC_PER_USEC) - c->fb_techo;
		/* An echo of a TVal sent within the RTT field's range. */
		if (d <= XTFS_CC_RTT_MAX && d > c->fb_echo_us)
			r = max(r, d - c->fb_echo_us);
	}
	cc->rtt_us = cc->rtt_us ? (9 * cc->rtt_us + r) / 10 : r;
	cc->rtt_us = max(cc->rtt_us, 1U);
	atomic64_set(&sa->cnt[XTFS_CNT_CC_RTT_US], cc->rtt_us);
	cc->ler = c->fb_ler;
	atomic64_set(&sa->cnt[XTFS_CNT_CC_LOSS_PPM],
		     cc->ler ? DIV_ROUND_CLOSEST(XTFS_PPM, cc->ler) : 0);

	/* Reports come with every packet of the peer; RFC 5348 expects one
	 * an RTT: the rate follows them at most once an RTT.
	 */
	if (sa->cfg.pace.send == XTFS_SEND_CC) {
		if (now - cc->grow_ns >= (u64)cc->rtt_us * NSEC_PER_USEC) {
			cc->grow_ns = now;
			if (!cc->ler)
				xtfs_cc_set_rate(sa, 2 * cc->rate_m);
			else
				xtfs_cc_set_rate(sa,
						 min(xtfs_cc_tfrc(cc->rtt_us,
								  cc->ler),
						     2 * cc->rate_m));
		}
		xtfs_cc_nofb_arm(sa, now);
	}
	return sa->cfg.pace.brk_loss && xtfs_cc_breaker(sa, now);
}

/**
 * xtfs_cc_tx_update() - read the paired SA at a send slot
 * @sa: an SA with &xtfs_config.rev_spi, @sa->lock held
 * @now: CLOCK_MONOTONIC ns
 *
 * Copies what the paired inbound SA received: the loss event rate this
 * host reports and the TVal it echoes go into the next header; a new
 * report from the peer updates the RTT, the rate and the breaker. A
 * congestion-controlled SA without a report for the no-feedback time
 * halves its rate (RFC 5348 section 4.4, RFC 9347 section 2.4.2).
 *
 * Return: true when the circuit breaker trips now.
 */
bool xtfs_cc_tx_update(struct xtfs_sa *sa, u64 now)
{
	struct xtfs_sa *rsa = sa->cc.rev ? xtfs_state_sa(sa->cc.rev) : NULL;
	struct xtfs_cc_tx *cc = &sa->cc;
	struct xtfs_cc_rx c;
	bool trip = false;

	if (rsa) {
		spin_lock(&rsa->rlock);
		c = rsa->ccr;
		spin_unlock(&rsa->rlock);
		if (c.seen) {
			cc->my_ler = xtfs_cc_ler(&c);
			cc->my_e = cc->my_ler &&
				   (c.ce_mask & GENMASK(c.ev_n - 1, 0));
			cc->echo = c.tval;
			cc->echo_ns = c.tval_ns;
			if (c.fb_gen != cc->fb_gen)
				trip = xtfs_cc_report(sa, &c, now);
		}
	}
	if (sa->cfg.pace.send != XTFS_SEND_CC)
		return trip;
	if (!cc->nofb_ns) {
		xtfs_cc_nofb_arm(sa, now);
	} else if (now >= cc->nofb_ns) {
		xtfs_inc(sa, XTFS_CNT_CC_NOFB, 1);
		xtfs_cc_set_rate(sa, cc->rate_m / 2);
		xtfs_cc_nofb_arm(sa, now);
	}
	return trip;
}

/**
 * xtfs_cc_put_hdr() - write a sub-type 1 AGGFRAG header
 * @sa: the SA state, @sa->lock held
 * @h: the header; its block offset is written by the caller
 * @now: CLOCK_MONOTONIC ns
 *
 * RFC 9347 sections 3 and 6.1.2: the loss event rate this host measured
 * on the paired SA (E set when a CE mark went into it), this SA's RTT
 * estimate, the TVal last received there with the time since it came,
 * this SA's interval between packets as its transmit delay, and a new
 * TVal: the low 32 bits of the µs clock, never 0 (0 means no echo).
 */
void xtfs_cc_put_hdr(struct xtfs_sa *sa, struct xtfs_aggfrag_cc_hdr *h,
		     u64 now)
{
	struct xtfs_cc_tx *cc = &sa->cc;
	u64 echo = 0, txd, d;
	u32 tval;

	if (cc->echo_ns && now > cc->echo_ns)
		echo = min_t(u64, div_u64(now - cc->echo_ns, NSEC_PER_USEC),
			     XTFS_CC_DELAY_MAX);
	txd = min_t(u64, div_u64(xtfs_cc_slot_ns(sa), NSEC_PER_USEC),
		    XTFS_CC_DELAY_MAX);
	d = (u64)min(cc->rtt_us, XTFS_CC_RTT_MAX) << 42 | echo << 21 | txd;
	tval = (u32)div_u64(now, NSEC_PER_USEC) ?: 1;

	h->subtype = XTFS_SUBTYPE_CC;
	h->flags = cc->my_e ? XTFS_CC_FLAG_E : 0;
	h->loss_event_rate = cpu_to_be32(cc->my_ler);
	h->rtt_delays = cpu_to_be64(d);
	h->tval = cpu_to_be32(tval);
	h->techo = cpu_to_be32(cc->echo);
}
