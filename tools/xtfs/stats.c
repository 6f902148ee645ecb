// SPDX-License-Identifier: GPL-2.0
/*
 * The "xtfs" generic netlink family: per-SA counters ("xtfs stats", the
 * counters of "xtfs -s state get/list"), the implicit IV and payload
 * shown by "state get/list", the settings "state add" stages, and the
 * circuit breaker notifications "xtfs monitor" prints
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <libmnl/libmnl.h>
#include <linux/genetlink.h>

#include "xtfs.h"

static const char no_family_msg[] =
	"xtfs family not found: is xfrm_xtfs loaded?";
static const char stage_no_family_msg[] =
	"the xtfs kernel module xfrm_xtfs is not loaded (generic netlink family xtfs not found)";

/*
 * The counters as shown: JSON key (stable, snake_case) and text word, in
 * the order of enum xtfs_counter. Append when the kernel appends.
 */
static const struct {
	const char *json;
	const char *text;
} counter_names[] = {
	[XTFS_CNT_INNER_OUT_PKTS] = { "inner_out_pkts", "inner-out-pkts" },
	[XTFS_CNT_INNER_OUT_BYTES] = { "inner_out_bytes", "inner-out-bytes" },
	[XTFS_CNT_OUTER_OUT_PKTS] = { "outer_out_pkts", "outer-out-pkts" },
	[XTFS_CNT_FRAGS_OUT] = { "frags_out", "frags-out" },
	[XTFS_CNT_PAD_OUT_BYTES] = { "pad_out_bytes", "pad-out-bytes" },
	[XTFS_CNT_DROP_QUEUE_FULL] = { "drop_queue_full", "drop-queue-full" },
	[XTFS_CNT_DROP_TOO_BIG] = { "drop_too_big", "drop-too-big" },
	[XTFS_CNT_DROP_OUT_ERR] = { "drop_out_err", "drop-out-err" },
	[XTFS_CNT_OUTER_IN_PKTS] = { "outer_in_pkts", "outer-in-pkts" },
	[XTFS_CNT_INNER_IN_PKTS] = { "inner_in_pkts", "inner-in-pkts" },
	[XTFS_CNT_INNER_IN_BYTES] = { "inner_in_bytes", "inner-in-bytes" },
	[XTFS_CNT_REASSEMBLED] = { "reassembled", "reassembled" },
	[XTFS_CNT_DROP_BAD_HDR] = { "drop_bad_hdr", "drop-bad-hdr" },
	[XTFS_CNT_DROP_BAD_BLOCK] = { "drop_bad_block", "drop-bad-block" },
	[XTFS_CNT_DROP_OLD] = { "drop_old", "drop-old" },
	[XTFS_CNT_LOST] = { "lost", "lost" },
	[XTFS_CNT_DROP_PARTIAL] = { "drop_partial", "drop-partial" },
	[XTFS_CNT_DROP_NOMEM] = { "drop_nomem", "drop-nomem" },
	[XTFS_CNT_ECN_MARKED] = { "ecn_marked", "ecn-marked" },
	[XTFS_CNT_HELD_LIMIT] = { "held_limit", "held-limit" },
	[XTFS_CNT_HELD_PEAK] = { "held_peak", "held-peak" },
	[XTFS_CNT_DROP_NO_DEV] = { "drop_no_dev", "drop-no-dev" },
	[XTFS_CNT_IIV_SEQ_SKIPPED] = { "iiv_seq_skipped", "iiv-seq-skipped" },
	[XTFS_CNT_IIPC_UNMATCHED] = { "iipc_unmatched", "iipc-unmatched" },
	[XTFS_CNT_IIPC_BAD] = { "iipc_bad", "iipc-bad" },
	[XTFS_CNT_PAD_PKTS_OUT] = { "pad_pkts_out", "pad-pkts-out" },
	[XTFS_CNT_SLOTS_MISSED] = { "slots_missed", "slots-missed" },
	[XTFS_CNT_CC_RATE] = { "cc_rate", "cc-rate" },
	[XTFS_CNT_CC_RTT_US] = { "cc_rtt_us", "cc-rtt-us" },
	[XTFS_CNT_CC_LOSS_PPM] = { "cc_loss_ppm", "cc-loss-ppm" },
	[XTFS_CNT_CC_FEEDBACK] = { "cc_feedback", "cc-feedback" },
	[XTFS_CNT_CC_NOFB] = { "cc_nofb", "cc-nofb" },
	[XTFS_CNT_CC_LOSS_EVENTS] = { "cc_loss_events", "cc-loss-events" },
	[XTFS_CNT_CC_CE_IN] = { "cc_ce_in", "cc-ce-in" },
	[XTFS_CNT_BREAKER_TRIPS] = { "breaker_trips", "breaker-trips" },
};

static_assert(ARRAY_SIZE(counter_names) == XTFS_CNT_MAX,
	      "a counter of enum xtfs_counter has no name");

/* The first receive-side counter: the ones before it are the sender's. */
#define FIRST_IN_COUNTER	XTFS_CNT_OUTER_IN_PKTS

/* counter_is_out - whether counter i belongs to the sending side. */
static int counter_is_out(int i)
{
	/* Counters appended later than the receive side's. */
	switch (i) {
	case XTFS_CNT_ECN_MARKED:
	case XTFS_CNT_IIPC_UNMATCHED:
	case XTFS_CNT_PAD_PKTS_OUT:
	case XTFS_CNT_SLOTS_MISSED:
	case XTFS_CNT_CC_RATE:
	case XTFS_CNT_CC_RTT_US:
	case XTFS_CNT_CC_LOSS_PPM:
	case XTFS_CNT_CC_FEEDBACK:
	case XTFS_CNT_CC_NOFB:
	case XTFS_CNT_BREAKER_TRIPS:
		return 1;
	}
	return i < FIRST_IN_COUNTER;
}

/* Family id of "xtfs" once resolved; 0 before. */
static __u16 family_id;
/* Its multicast group XTFS_MCGRP_EVENTS, with family_id; 0 if it has none. */
static __u32 events_group;

/* family_groups - find XTFS_MCGRP_EVENTS in CTRL_ATTR_MCAST_GROUPS. */
static void family_groups(const struct nlattr *groups)
{
	const struct nlattr *g, *tb[CTRL_ATTR_MCAST_GRP_MAX + 1];
	const char *name;
	const __u32 *id;

	if (!groups)
		return;
	mnl_attr_for_each_nested(g, groups) {
		if (nl_attrs_nested(g, tb, CTRL_ATTR_MCAST_GRP_MAX) < 0)
			continue;
		name = nl_attr_data(tb[CTRL_ATTR_MCAST_GRP_NAME],
				    sizeof(XTFS_MCGRP_EVENTS));
		id = nl_attr_data(tb[CTRL_ATTR_MCAST_GRP_ID], sizeof(*id));
		if (name && id && !memcmp(name, XTFS_MCGRP_EVENTS,
					  sizeof(XTFS_MCGRP_EVENTS)))
			events_group = *id;
	}
}

/*
 * family_cb - take CTRL_ATTR_FAMILY_ID from the controller's reply, and
 * the id of the family's events group.
 */
static int family_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[CTRL_ATTR_MAX + 1];
	const __u16 *id;

	if (nl_attrs_max(nlh, sizeof(struct genlmsghdr), tb, CTRL_ATTR_MAX) < 0)
		return -1;
	id = nl_attr_data(tb[CTRL_ATTR_FAMILY_ID], sizeof(*id));
	if (id)
		*(__u16 *)data = *id;
	family_groups(tb[CTRL_ATTR_MCAST_GROUPS]);
	return 0;
}

/* genl_req - start a request of the xtfs family. */
static struct nlmsghdr *genl_req(__u16 id, __u8 cmd, __u16 flags)
{
	struct nlmsghdr *nlh = nl_msg(id, flags);
	struct genlmsghdr *g = nl_extra(nlh, sizeof(*g));

	g->cmd = cmd;
	g->version = XTFS_GENL_VERSION;
	return nlh;
}

/*
 * family_error - after a failed xtfs_family(): print missing when the
 * family does not exist, the lookup's error otherwise.
 */
static void family_error(const char *missing)
{
	const char *msg;
	int err = nl_last_err(&msg);

	if (err == ENOENT)
		fprintf(stderr, "xtfs: %s\n", missing);
	else
		fprintf(stderr, "xtfs: cannot look up the %s generic netlink family: %s%s%s\n",
			XTFS_GENL_NAME, strerror(err ? err : EPROTO),
			*msg ? ": " : "", msg);
}

/*
 * xtfs_family - the id of the "xtfs" family, resolved once. Returns 0 if
 * the family is missing (errno ENOENT) or the lookup failed; with quiet
 * set nothing is printed, and nl_last_err() tells why.
 */
static __u16 xtfs_family(bool quiet)
{
	struct nlmsghdr *nlh;
	bool was;
	int ret;

	if (family_id || opts.dry_run)
		return family_id ? family_id : GENL_ID_CTRL;
	nlh = genl_req(GENL_ID_CTRL, CTRL_CMD_GETFAMILY, NLM_F_ACK);
	((struct genlmsghdr *)mnl_nlmsg_get_payload(nlh))->version = 1;
	nl_put(nlh, CTRL_ATTR_FAMILY_NAME, sizeof(XTFS_GENL_NAME),
	       XTFS_GENL_NAME);
	was = nl_quiet(true);
	ret = nl_talk_proto(NETLINK_GENERIC, nlh, false, family_cb, &family_id);
	nl_quiet(was);
	if (!ret && family_id)
		return family_id;
	if (!quiet)
		family_error(no_family_msg);
	return 0;
}

/* genl_put_sa_id - the SA identity attributes of a request. */
static void genl_put_sa_id(struct nlmsghdr *nlh, __u16 family,
			   const xfrm_address_t *daddr, __u32 spi,
			   const struct opt_u32 *mark)
{
	nl_put_u16(nlh, XTFS_A_SA_FAMILY, family);
	nl_put(nlh, XTFS_A_SA_DADDR, family == AF_INET ? 4 : 16, daddr);
	nl_put_u32(nlh, XTFS_A_SA_SPI, spi);
	if (mark && mark->set)
		nl_put_u32(nlh, XTFS_A_SA_MARK, mark->val);
}

/*
 * sa_stage - XTFS_CMD_SA_STAGE for the SA (family, daddr, spi in network
 * byte order, optional mark) about to be added: stage the settings of
 * ext (those that are not 0), or with ext NULL withdraw what was staged.
 * The staging socket stays open until the program ends, as the staged
 * settings must outlive the XFRM_MSG_NEWSA that takes them. Returns 0 or -1 after
 * printing why (unless nl_quiet() asked for silence).
 */
int sa_stage(__u16 family, const xfrm_address_t *daddr, __u32 spi,
	     const struct opt_u32 *mark, const struct sa_ext *ext)
{
	struct nlmsghdr *nlh;
	bool was;
	__u16 id;

	was = nl_quiet(true);
	id = xtfs_family(true);
	nl_quiet(was);
	if (!id) {
		if (!was)
			family_error(stage_no_family_msg);
		return -1;
	}
	nlh = genl_req(id, XTFS_CMD_SA_STAGE, NLM_F_ACK);
	genl_put_sa_id(nlh, family, daddr, spi, mark);
	if (ext && ext->iiv)
		nl_put_u32(nlh, XTFS_A_SA_IIV, ext->iiv);
	if (ext && ext->payload)
		nl_put_u8(nlh, XTFS_A_SA_PAYLOAD, ext->payload);
	if (ext && ext->spi_lsb.set)
		nl_put_u8(nlh, XTFS_A_SA_SPI_LSB, ext->spi_lsb.val);
	if (ext && ext->sn_lsb.set)
		nl_put_u8(nlh, XTFS_A_SA_SN_LSB, ext->sn_lsb.val);
	if (ext && ext->trailer.set)
		nl_put_u8(nlh, XTFS_A_SA_TRAILER, ext->trailer.val);
	if (ext && ext->align.set)
		nl_put_u8(nlh, XTFS_A_SA_ALIGN, ext->align.val);
	if (ext && ext->iipc)
		iipc_put(nlh, ext->iipc);
	if (ext && ext->send) {
		nl_put_u8(nlh, XTFS_A_SA_SEND, ext->send);
		nl_put_u32(nlh, XTFS_A_SA_RATE, ext->rate);
	}
	if (ext && ext->rate_min.set)
		nl_put_u32(nlh, XTFS_A_SA_RATE_MIN, ext->rate_min.val);
	if (ext && ext->reverse_spi.set)
		nl_put_u32(nlh, XTFS_A_SA_REVERSE_SPI,
			   htonl(ext->reverse_spi.val));
	if (ext && ext->breaker_loss) {
		nl_put_u32(nlh, XTFS_A_SA_BREAKER_LOSS, ext->breaker_loss);
		nl_put_u32(nlh, XTFS_A_SA_BREAKER_TIME, ext->breaker_time);
	}
	return nl_talk_proto(NETLINK_GENERIC, nlh, false, NULL, NULL);
}

/* get_u8 - the value of a u8 attribute into *v; false if absent or short. */
static bool get_u8(const struct nlattr *a, __u8 *v)
{
	const __u8 *d = nl_attr_data(a, sizeof(*v));

	if (d)
		*v = *d;
	return d;
}

/* get_u32 - the value of a u32 attribute into *v; false if absent or short. */
static bool get_u32(const struct nlattr *a, __u32 *v)
{
	const void *d = nl_attr_data(a, sizeof(*v));

	if (d)
		memcpy(v, d, sizeof(*v));
	return d;
}

/*
 * sa_stats_decode - fill a struct sa_stats from one XTFS_CMD_SA_GET reply
 * (or notification, which may come without counters unless need_stats).
 */
static int sa_stats_decode(const struct nlmsghdr *nlh, struct sa_stats *s,
			   bool need_stats)
{
	const struct nlattr *tb[XTFS_A_SA_MAX + 1];
	const struct nlattr *st[XTFS_A_STATS_MAX + 1];
	const void *d;
	size_t alen;
	int i;

	memset(s, 0, sizeof(*s));
	if (nl_attrs_max(nlh, sizeof(struct genlmsghdr), tb, XTFS_A_SA_MAX) < 0)
		return -1;
	d = nl_attr_data(tb[XTFS_A_SA_FAMILY], sizeof(__u16));
	if (!d)
		return -1;
	memcpy(&s->family, d, sizeof(s->family));
	alen = s->family == AF_INET ? 4 : s->family == AF_INET6 ? 16 : 0;
	if (!alen)
		return -1;
	d = nl_attr_data(tb[XTFS_A_SA_SADDR], alen);
	if (d)
		memcpy(&s->saddr, d, alen);
	d = nl_attr_data(tb[XTFS_A_SA_DADDR], alen);
	if (!d)
		return -1;
	memcpy(&s->daddr, d, alen);
	d = nl_attr_data(tb[XTFS_A_SA_SPI], sizeof(s->spi));
	if (!d)
		return -1;
	memcpy(&s->spi, d, sizeof(s->spi));
	d = nl_attr_data(tb[XTFS_A_SA_MARK], sizeof(s->mark));
	if (d)
		memcpy(&s->mark, d, sizeof(s->mark));
	d = nl_attr_data(tb[XTFS_A_SA_DIR], sizeof(s->dir));
	if (d)
		s->dir = *(const __u8 *)d;
	d = nl_attr_data(tb[XTFS_A_SA_IIV], sizeof(s->iiv));
	if (d)
		memcpy(&s->iiv, d, sizeof(s->iiv));
	d = nl_attr_data(tb[XTFS_A_SA_PAYLOAD], sizeof(__u8));
	s->payload = d ? *(const __u8 *)d : -1;
	/* All four come together: one missing, none is shown. */
	s->diet = get_u8(tb[XTFS_A_SA_SPI_LSB], &s->spi_lsb) &
		  get_u8(tb[XTFS_A_SA_SN_LSB], &s->sn_lsb) &
		  get_u8(tb[XTFS_A_SA_TRAILER], &s->trailer) &
		  get_u8(tb[XTFS_A_SA_ALIGN], &s->align);
	iipc_decode(tb[XTFS_A_SA_IIPC], &s->iipc);
	if (get_u8(tb[XTFS_A_SA_SEND], &s->send)) {
		get_u32(tb[XTFS_A_SA_RATE], &s->rate);
		get_u32(tb[XTFS_A_SA_RATE_MIN], &s->rate_min);
	}
	s->has_reverse_spi = get_u32(tb[XTFS_A_SA_REVERSE_SPI],
				     &s->reverse_spi);
	/* Both or neither: one alone is shown as no breaker. */
	if (!get_u32(tb[XTFS_A_SA_BREAKER_LOSS], &s->breaker_loss) ||
	    !get_u32(tb[XTFS_A_SA_BREAKER_TIME], &s->breaker_time)) {
		s->breaker_loss = 0;
		s->breaker_time = 0;
	}
	s->broken = tb[XTFS_A_SA_BROKEN];
	if (!tb[XTFS_A_SA_STATS] && !need_stats)
		return 0;
	if (!tb[XTFS_A_SA_STATS] ||
	    nl_attrs_nested(tb[XTFS_A_SA_STATS], st, XTFS_A_STATS_MAX) < 0)
		return -1;
	for (i = 0; i < XTFS_CNT_MAX; i++) {
		d = nl_attr_data(st[XTFS_A_STATS_CNT(i)], sizeof(__u64));
		if (!d)
			continue;
		memcpy(&s->cnt[i], d, sizeof(__u64));
		s->has[i] = true;
	}
	return 0;
}

/* A growing array of decoded replies. */
struct stats_list {
	struct sa_stats *v;
	size_t n, cap;
};

/* stats_cb - decode each reply into a struct stats_list. */
static int stats_cb(const struct nlmsghdr *nlh, void *data)
{
	struct stats_list *l = data;

	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 16;
		struct sa_stats *v = realloc(l->v, cap * sizeof(*v));

		if (!v) {
			fprintf(stderr, "xtfs: out of memory\n");
			return -1;
		}
		l->v = v;
		l->cap = cap;
	}
	if (sa_stats_decode(nlh, &l->v[l->n], true) < 0) {
		fprintf(stderr, "xtfs: malformed xtfs counters message from the kernel\n");
		return -1;
	}
	l->n++;
	return 0;
}

/* stats_dump - the counters of every xtfs SA; 0 or -1. */
static int stats_dump(struct stats_list *l, bool quiet)
{
	struct nlmsghdr *nlh;
	__u16 id;
	bool was;
	int ret;

	id = xtfs_family(quiet);
	if (!id)
		return -1;
	nlh = genl_req(id, XTFS_CMD_SA_GET, NLM_F_DUMP);
	was = nl_quiet(quiet);
	ret = nl_talk_proto(NETLINK_GENERIC, nlh, true, stats_cb, l);
	nl_quiet(was);
	return ret;
}

/* --- counters and settings beside "state get/list" ---------------------- */

static struct stats_list state_stats;
static bool state_stats_loaded;
static char state_stats_why[300];

/*
 * stats_for_states - fetch what xtfs reports of every xtfs SA (counters,
 * implicit IV, payload) before the SAs are printed; with --dry-run only for -s. A
 * failure is not an error here (the module may not be loaded, the SAs may
 * be served by another one): with -s, sa_stats_find() then says why.
 */
void stats_for_states(void)
{
	const char *msg;
	int err;

	if ((opts.dry_run && !opts.stats) || state_stats_loaded)
		return;
	state_stats_loaded = true;
	if (!stats_dump(&state_stats, true))
		return;
	err = nl_last_err(&msg);
	if (err == ENOENT && !family_id)
		snprintf(state_stats_why, sizeof(state_stats_why), "%s",
			 no_family_msg);
	else
		snprintf(state_stats_why, sizeof(state_stats_why), "%s%s%s",
			 strerror(err ? err : EPROTO), *msg ? ": " : "", msg);
	state_stats.n = 0;
}

/*
 * sa_stats_find - what xtfs reported of an SA, or NULL. With -s, an
 * IP-TFS SA without counters gets a warning with the reason.
 */
const struct sa_stats *sa_stats_find(__u16 family, const xfrm_address_t *saddr,
				     const xfrm_address_t *daddr, __u32 spi,
				     __u32 mark, bool iptfs)
{
	size_t i, alen = family == AF_INET ? 4 : 16;

	for (i = 0; i < state_stats.n; i++) {
		const struct sa_stats *s = &state_stats.v[i];

		if (s->family == family && s->spi == spi && s->mark == mark &&
		    !memcmp(&s->daddr, daddr, alen) &&
		    !memcmp(&s->saddr, saddr, alen))
			return s;
	}
	if (iptfs && opts.stats && !opts.dry_run)
		fprintf(stderr, "xtfs: warning: no xtfs counters for SA spi 0x%08x: %s\n",
			ntohl(spi), *state_stats_why ? state_stats_why :
			"not served by xtfs");
	return NULL;
}

/* --- printing -------------------------------------------------------------- */

/*
 * stats_print_json - the counters as members of the JSON object being
 * written, one per counter the kernel reported.
 */
void stats_print_json(const struct sa_stats *s)
{
	int i;

	for (i = 0; i < XTFS_CNT_MAX; i++)
		if (s->has[i])
			jw_uint(counter_names[i].json, s->cnt[i]);
}

/*
 * stats_print_text - the counters of the SA's direction (all for an SA
 * without one), four to a line, each line starting with indent.
 */
void stats_print_text(const struct sa_stats *s, const char *indent)
{
	int i, n = 0;

	for (i = 0; i < XTFS_CNT_MAX; i++) {
		if (!s->has[i])
			continue;
		if ((s->dir == XTFS_SA_DIR_OUT && !counter_is_out(i)) ||
		    (s->dir == XTFS_SA_DIR_IN && counter_is_out(i)))
			continue;
		fprintf(out, "%s%s %llu", n % 4 ? " " : indent,
			counter_names[i].text, (unsigned long long)s->cnt[i]);
		if (++n % 4 == 0)
			fputc('\n', out);
	}
	if (n % 4)
		fputc('\n', out);
}

/*
 * print_one - "xtfs stats" output for one SA; with event set, a line of
 * "xtfs monitor" (its counters only with -s), the event's name first.
 */
static void print_one(const struct sa_stats *s, const char *event)
{
	char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN];
	const char *dir = s->dir == XTFS_SA_DIR_IN ? "in" :
			  s->dir == XTFS_SA_DIR_OUT ? "out" : NULL;

	fmt_addr(src, sizeof(src), s->family, &s->saddr);
	fmt_addr(dst, sizeof(dst), s->family, &s->daddr);
	if (opts.json) {
		jw_obj_open(NULL);
		if (event)
			jw_str("event", event);
		jw_str("src", src);
		jw_str("dst", dst);
		jw_str("family", val_name(family_names, s->family));
		jw_str("proto", "esp");
		jw_uint("spi", ntohl(s->spi));
		if (s->mark)
			jw_uint("mark", s->mark);
		jw_str("dir", dir);
		if (!event || opts.stats) {
			jw_obj_open("stats");
			stats_print_json(s);
			jw_obj_close();
		}
		jw_obj_close();
		return;
	}
	if (event)
		fprintf(out, "%s ", event);
	fprintf(out, "src %s dst %s proto esp spi 0x%08x", src, dst,
		ntohl(s->spi));
	if (s->mark)
		fprintf(out, " mark %u", s->mark);
	if (dir)
		fprintf(out, " dir %s", dir);
	fputc('\n', out);
	if (!event || opts.stats)
		stats_print_text(s, "\t");
}

/* --- "xtfs stats" ------------------------------------------------------------ */

/* What "stats show" can be told. */
struct stats_args {
	struct xaddr src;
	struct xaddr dst;
	int proto;
	struct opt_u32 spi;
	struct opt_u32 mark;
};

#define ST(f)		offsetof(struct stats_args, f)

static const struct kw stats_kw[] = {
	{ .name = "src", .fn = kw_addr, .nargs = 1, .off = ST(src) },
	{ .name = "dst", .fn = kw_addr, .nargs = 1, .off = ST(dst) },
	{ .name = "proto", .fn = kw_name, .nargs = 1, .off = ST(proto),
	  .names = proto_names },
	{ .name = "spi", .fn = kw_u32, .nargs = 1, .off = ST(spi),
	  .max = UINT32_MAX },
	{ .name = "mark", .fn = kw_u32, .nargs = 1, .off = ST(mark),
	  .max = UINT32_MAX },
	{ .name = NULL },
};

/* stats_match - does a dumped SA pass the filters given? */
static bool stats_match(const struct sa_stats *s, const struct stats_args *a)
{
	size_t alen = s->family == AF_INET ? 4 : 16;

	if (a->src.set && (a->src.family != s->family ||
			   memcmp(&a->src.a, &s->saddr, alen)))
		return false;
	if (a->dst.set && (a->dst.family != s->family ||
			   memcmp(&a->dst.a, &s->daddr, alen)))
		return false;
	if (a->spi.set && htonl(a->spi.val) != s->spi)
		return false;
	if (a->mark.set && a->mark.val != s->mark)
		return false;
	return true;
}

/* stats_get_one - XTFS_CMD_SA_GET for the SA named by dst, spi (src, mark). */
static int stats_get_one(const struct stats_args *a)
{
	struct stats_list l = { 0 };
	struct nlmsghdr *nlh;
	size_t alen = a->dst.family == AF_INET ? 4 : 16;
	__u16 id;
	int ret;

	id = xtfs_family(false);
	if (!id)
		return -1;
	nlh = genl_req(id, XTFS_CMD_SA_GET, NLM_F_ACK);
	genl_put_sa_id(nlh, a->dst.family, &a->dst.a, htonl(a->spi.val),
		       &a->mark);
	if (a->src.set)
		nl_put(nlh, XTFS_A_SA_SADDR, alen, &a->src.a);
	ret = nl_talk_proto(NETLINK_GENERIC, nlh, false, stats_cb, &l);
	if (!ret && l.n)
		print_one(&l.v[0], NULL);
	if (!ret && l.n && opts.json)
		jw_end();
	free(l.v);
	return ret;
}

/*
 * stats_show - "xtfs stats [show] [src ADDR] [dst ADDR] [proto esp]
 * [spi SPI] [mark MARK]": with dst and spi, the counters of that SA (the
 * kernel looks it up); otherwise of every xtfs SA that matches the words
 * given.
 */
int stats_show(int argc, char **argv)
{
	struct stats_list l = { 0 };
	struct stats_args a;
	size_t i;
	int ret;

	memset(&a, 0, sizeof(a));
	a.proto = IPPROTO_ESP;
	parse_keywords(stats_kw, &a, argc, argv, "stats show", false);
	check_families(&a.src, &a.dst, "stats show");
	if (a.dst.set && a.spi.set)
		return stats_get_one(&a);

	ret = stats_dump(&l, false);
	if (!ret) {
		if (opts.json)
			jw_arr_open(NULL);
		for (i = 0; i < l.n; i++)
			if (stats_match(&l.v[i], &a))
				print_one(&l.v[i], NULL);
		if (opts.json) {
			jw_arr_close();
			jw_end();
		}
	}
	free(l.v);
	return ret;
}

/* --- "xtfs monitor" ------------------------------------------------------- */

/* monitor_cb - print an XTFS_CMD_SA_BROKEN notification, flushed at once. */
static int monitor_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct genlmsghdr *g = mnl_nlmsg_get_payload(nlh);
	struct sa_stats s;

	(void)data;
	if (nlh->nlmsg_type != family_id ||
	    mnl_nlmsg_get_payload_len(nlh) < sizeof(*g) ||
	    g->cmd != XTFS_CMD_SA_BROKEN)
		return 0;
	if (sa_stats_decode(nlh, &s, false) < 0) {
		fputs("xtfs: warning: malformed xtfs notification from the kernel\n",
		      stderr);
		return 0;
	}
	print_one(&s, "broken");
	if (opts.json)
		jw_end();
	if (fflush(out)) {
		perror("xtfs: stdout");
		return -1;
	}
	return 0;
}

/*
 * monitor_events - "xtfs monitor": join the family's events group and
 * print one line per SA whose circuit breaker trips (text, or with -j a
 * JSON object per line), until killed. Returns only on failure.
 */
int monitor_events(int argc, char **argv)
{
	FILE *mem = out;
	int ret;

	if (argc)
		usage_error("unknown keyword \"%s\" in \"monitor\"", argv[0]);
	if (opts.dry_run)
		return 0;
	if (!xtfs_family(false))
		return -1;
	if (!events_group) {
		fprintf(stderr, "xtfs: no \"%s\" group in family %s: is xfrm_xtfs too old?\n",
			XTFS_MCGRP_EVENTS, XTFS_GENL_NAME);
		return -1;
	}
	/* Each line as it comes, not when the command ends. */
	out = stdout;
	ret = nl_listen(NETLINK_GENERIC, events_group, monitor_cb, NULL);
	out = mem;
	return ret;
}
