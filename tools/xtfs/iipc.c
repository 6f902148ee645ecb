// SPDX-License-Identifier: GPL-2.0
/*
 * The Diet-ESP inner IP compression rule (IIPC,
 * draft-ietf-ipsecme-diet-esp-07 section 5.1) of "state add": its words,
 * the XTFS_A_SA_IIPC nest staged with the SA, and how "state get/list"
 * show the rule the kernel reports.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <libmnl/libmnl.h>

#include "xtfs.h"

static const struct name_val dscp_cda_names[] = {
	{ "plain", XTFS_IIPC_CDA_PLAIN },
	{ "lower", XTFS_IIPC_CDA_LOWER },
	{ NULL, 0 },
};

static const struct name_val ecn_cda_names[] = {
	{ "plain", XTFS_IIPC_CDA_PLAIN },
	{ "lower", XTFS_IIPC_CDA_LOWER },
	{ NULL, 0 },
};

static const struct name_val fl_cda_names[] = {
	{ "plain", XTFS_IIPC_CDA_PLAIN },
	{ "lower", XTFS_IIPC_CDA_LOWER },
	{ "generated", XTFS_IIPC_CDA_GENERATED },
	{ "zero", XTFS_IIPC_CDA_ZERO },
	{ NULL, 0 },
};

static const struct name_val rule_id_names[] = {
	{ "elided", 0 },
	{ "sent", 1 },
	{ NULL, 0 },
};

/* The names the man page gives each CDA value, for showing them. */
static const struct name_val cda_show_names[] = {
	{ "plain", XTFS_IIPC_CDA_PLAIN },
	{ "lower", XTFS_IIPC_CDA_LOWER },
	{ "sa", XTFS_IIPC_CDA_SA },
	{ "generated", XTFS_IIPC_CDA_GENERATED },
	{ "zero", XTFS_IIPC_CDA_ZERO },
	{ NULL, 0 },
};

/*
 * addr_range - "ADDR", "ADDR/LEN" or "ADDR-ADDR" into a start and an end
 * of one family; a usage error otherwise.
 */
static void addr_range(const char *word, const char *what,
		       struct iipc_range *r)
{
	char buf[2 * INET6_ADDRSTRLEN + 2];
	struct xaddr end;
	char *dash;
	unsigned int i, bits;

	if (snprintf(buf, sizeof(buf), "%s", word) >= (int)sizeof(buf))
		usage_error("invalid range \"%s\" for \"%s\"", word, what);
	dash = strchr(buf, '-');
	if (dash)
		*dash++ = '\0';
	parse_addr(buf, what, &r->start, !dash);
	if (dash) {
		parse_addr(dash, what, &end, false);
		if (end.family != r->start.family)
			usage_error("\"%s\" range \"%s\" mixes IPv4 and IPv6",
				    what, word);
		if (memcmp(&r->start.a, &end.a,
			   r->start.family == AF_INET ? 4 : 16) > 0)
			usage_error("\"%s\" range \"%s\" starts after its end",
				    what, word);
		r->end = end.a;
		return;
	}
	/* A prefix: its first and last address. */
	bits = r->start.family == AF_INET ? 32 : 128;
	r->end = r->start.a;
	for (i = r->start.plen; i < bits; i++) {
		((__u8 *)&r->start.a)[i / 8] &= ~(0x80 >> (i % 8));
		((__u8 *)&r->end)[i / 8] |= 0x80 >> (i % 8);
	}
	r->start.plen = bits;
}

/* port_range - "PORT" or "PORT-PORT"; a usage error otherwise. */
static void port_range(const char *word, const char *what, __u16 *start,
		       __u16 *end)
{
	char buf[16];
	char *dash;

	if (snprintf(buf, sizeof(buf), "%s", word) >= (int)sizeof(buf))
		usage_error("invalid port range \"%s\" for \"%s\"", word, what);
	dash = strchr(buf, '-');
	if (dash)
		*dash++ = '\0';
	*start = parse_u32(buf, what, 65535);
	*end = dash ? parse_u32(dash, what, 65535) : *start;
	if (*start > *end)
		usage_error("\"%s\" range \"%s\" starts after its end", what,
			    word);
}

/* kw_range - "src"/"dst": an address range. */
static int kw_range(const struct kw *k, void *ctx, int argc, char **argv)
{
	struct iipc_range *r = (struct iipc_range *)((char *)ctx + k->off);

	(void)argc;
	addr_range(argv[0], kw_what(k), r);
	return 1;
}

/* kw_ports - "sport"/"dport": a port range. */
static int kw_ports(const struct kw *k, void *ctx, int argc, char **argv)
{
	struct iipc_ports *p = (struct iipc_ports *)((char *)ctx + k->off);

	(void)argc;
	port_range(argv[0], kw_what(k), &p->start, &p->end);
	p->set = true;
	return 1;
}

/* kw_proto - "proto": a protocol name or number, "any" for 0. */
static int kw_proto(const struct kw *k, void *ctx, int argc, char **argv)
{
	struct iipc_args *a = ctx;
	int v;

	(void)k;
	(void)argc;
	if (!strcmp(argv[0], "any"))
		v = 0;
	else if (!strcmp(argv[0], "udp"))
		v = IPPROTO_UDP;
	else if (!strcmp(argv[0], "tcp"))
		v = IPPROTO_TCP;
	else if (!strcmp(argv[0], "icmp"))
		v = IPPROTO_ICMP;
	else if (!strcmp(argv[0], "ipv6-icmp"))
		v = IPPROTO_ICMPV6;
	else
		v = parse_u32(argv[0], "iipc proto", 255);
	a->proto.set = true;
	a->proto.val = v;
	return 1;
}

/*
 * kw_dscp - "dscp": "plain", "lower", or a comma-separated list of DSCP
 * values (CDA "sa").
 */
static int kw_dscp(const struct kw *k, void *ctx, int argc, char **argv)
{
	struct iipc_args *a = ctx;
	char buf[4 * XTFS_IIPC_DSCP_MAX], *tok, *save;
	unsigned long long seen = 0;
	int v;

	(void)k;
	(void)argc;
	if (name_find(dscp_cda_names, argv[0], &v)) {
		a->dscp.set = true;
		a->dscp.val = v;
		return 1;
	}
	if (snprintf(buf, sizeof(buf), "%s", argv[0]) >= (int)sizeof(buf))
		usage_error("\"iipc dscp\" list \"%s\" is too long", argv[0]);
	for (tok = strtok_r(buf, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		v = parse_u32(tok, "iipc dscp", 63);
		if (seen & 1ULL << v)
			usage_error("\"iipc dscp\" list repeats %d", v);
		seen |= 1ULL << v;
		a->dscp_list[a->dscp_n++] = v;
	}
	if (!a->dscp_n)
		usage_error("\"iipc dscp\" is plain, lower or a list of DSCP values (0-63, comma-separated)");
	a->dscp.set = true;
	a->dscp.val = XTFS_IIPC_CDA_SA;
	return 1;
}

#define IA(f)	offsetof(struct iipc_args, f)

static const struct kw iipc_kw[] = {
	{ .name = "src", .fn = kw_range, .nargs = 1, .off = IA(src),
	  .what = "iipc src" },
	{ .name = "dst", .fn = kw_range, .nargs = 1, .off = IA(dst),
	  .what = "iipc dst" },
	{ .name = "proto", .fn = kw_proto, .nargs = 1, .what = "iipc proto" },
	{ .name = "sport", .fn = kw_ports, .nargs = 1, .off = IA(sport),
	  .what = "iipc sport" },
	{ .name = "dport", .fn = kw_ports, .nargs = 1, .off = IA(dport),
	  .what = "iipc dport" },
	{ .name = "dscp", .fn = kw_dscp, .nargs = 1, .what = "iipc dscp" },
	{ .name = "ecn", .fn = kw_name, .nargs = 1, .off = IA(ecn),
	  .names = ecn_cda_names, .what = "iipc ecn" },
	{ .name = "flow-label", .fn = kw_name, .nargs = 1, .off = IA(fl),
	  .names = fl_cda_names, .what = "iipc flow-label" },
	{ .name = "rule-id", .fn = kw_name, .nargs = 1, .off = IA(rule_id),
	  .names = rule_id_names, .what = "iipc rule-id" },
	{ .name = NULL },
};

/*
 * kw_iipc - "iipc" and the rule's words after it, up to the first word
 * that is not one of them (the rest of "state add" goes on from there).
 */
int kw_iipc(const struct kw *k, void *ctx, int argc, char **argv)
{
	struct iipc_args *a = (struct iipc_args *)((char *)ctx + k->off);
	int n;

	a->ecn = a->fl = a->rule_id = -1;
	n = parse_keywords(iipc_kw, a, argc, argv, "iipc", true);
	if (!a->src.start.set || !a->dst.start.set)
		usage_error("\"iipc\" needs \"src RANGE\" and \"dst RANGE\" (the inner packets' traffic selectors)");
	if (a->src.start.family != a->dst.start.family)
		usage_error("\"iipc src\" and \"iipc dst\" must both be IPv4 or both IPv6");
	if ((a->sport.set || a->dport.set) && a->proto.set &&
	    a->proto.val != 0 && a->proto.val != IPPROTO_UDP &&
	    a->proto.val != IPPROTO_TCP)
		usage_error("\"iipc sport\" and \"dport\" need proto udp, tcp or any: only their ports are compressed");
	a->set = true;
	return n;
}

/* iipc_put - the XTFS_A_SA_IIPC nest of a staging request. */
void iipc_put(struct nlmsghdr *nlh, const struct iipc_args *a)
{
	size_t alen = a->src.start.family == AF_INET ? 4 : 16;
	struct nlattr *nest = mnl_attr_nest_start(nlh, XTFS_A_SA_IIPC);

	nl_put(nlh, XTFS_A_IIPC_SRC_START, alen, &a->src.start.a);
	nl_put(nlh, XTFS_A_IIPC_SRC_END, alen, &a->src.end);
	nl_put(nlh, XTFS_A_IIPC_DST_START, alen, &a->dst.start.a);
	nl_put(nlh, XTFS_A_IIPC_DST_END, alen, &a->dst.end);
	if (a->proto.set)
		nl_put_u8(nlh, XTFS_A_IIPC_PROTO, a->proto.val);
	if (a->sport.set) {
		nl_put_u16(nlh, XTFS_A_IIPC_SPORT_START, a->sport.start);
		nl_put_u16(nlh, XTFS_A_IIPC_SPORT_END, a->sport.end);
	}
	if (a->dport.set) {
		nl_put_u16(nlh, XTFS_A_IIPC_DPORT_START, a->dport.start);
		nl_put_u16(nlh, XTFS_A_IIPC_DPORT_END, a->dport.end);
	}
	if (a->dscp.set)
		nl_put_u8(nlh, XTFS_A_IIPC_DSCP, a->dscp.val);
	if (a->dscp_n)
		nl_put(nlh, XTFS_A_IIPC_DSCP_LIST, a->dscp_n, a->dscp_list);
	if (a->ecn >= 0)
		nl_put_u8(nlh, XTFS_A_IIPC_ECN, a->ecn);
	if (a->fl >= 0)
		nl_put_u8(nlh, XTFS_A_IIPC_FLOW_LABEL, a->fl);
	if (a->rule_id >= 0)
		nl_put_u8(nlh, XTFS_A_IIPC_RULE_ID, a->rule_id);
	mnl_attr_nest_end(nlh, nest);
}

/* attr_copy - a fixed-size attribute into v; false if absent or short. */
static bool attr_copy(const struct nlattr *a, void *v, size_t len)
{
	const void *d = nl_attr_data(a, len);

	if (d)
		memcpy(v, d, len);
	return d;
}

/*
 * iipc_decode - the rule in an SA's XTFS_A_SA_IIPC nest; r->on stays
 * false when it is malformed.
 */
void iipc_decode(const struct nlattr *nest, struct iipc_rule *r)
{
	const struct nlattr *tb[XTFS_A_IIPC_MAX + 1];
	const struct nlattr *s;
	size_t alen;
	int n;

	memset(r, 0, sizeof(*r));
	if (!nest || nl_attrs_nested(nest, tb, XTFS_A_IIPC_MAX) < 0)
		return;
	s = tb[XTFS_A_IIPC_SRC_START];
	alen = s ? mnl_attr_get_payload_len(s) : 0;
	if (alen != 4 && alen != 16)
		return;
	r->family = alen == 4 ? AF_INET : AF_INET6;
	if (!attr_copy(tb[XTFS_A_IIPC_SRC_START], &r->src_start, alen) ||
	    !attr_copy(tb[XTFS_A_IIPC_SRC_END], &r->src_end, alen) ||
	    !attr_copy(tb[XTFS_A_IIPC_DST_START], &r->dst_start, alen) ||
	    !attr_copy(tb[XTFS_A_IIPC_DST_END], &r->dst_end, alen) ||
	    !attr_copy(tb[XTFS_A_IIPC_PROTO], &r->proto, 1) ||
	    !attr_copy(tb[XTFS_A_IIPC_SPORT_START], &r->sport[0], 2) ||
	    !attr_copy(tb[XTFS_A_IIPC_SPORT_END], &r->sport[1], 2) ||
	    !attr_copy(tb[XTFS_A_IIPC_DPORT_START], &r->dport[0], 2) ||
	    !attr_copy(tb[XTFS_A_IIPC_DPORT_END], &r->dport[1], 2) ||
	    !attr_copy(tb[XTFS_A_IIPC_DSCP], &r->dscp, 1) ||
	    !attr_copy(tb[XTFS_A_IIPC_ECN], &r->ecn, 1) ||
	    !attr_copy(tb[XTFS_A_IIPC_FLOW_LABEL], &r->fl, 1) ||
	    !attr_copy(tb[XTFS_A_IIPC_RULE_ID], &r->rule_id, 1))
		return;
	if (tb[XTFS_A_IIPC_DSCP_LIST]) {
		n = mnl_attr_get_payload_len(tb[XTFS_A_IIPC_DSCP_LIST]);
		if (n > XTFS_IIPC_DSCP_MAX)
			return;
		memcpy(r->dscp_list,
		       mnl_attr_get_payload(tb[XTFS_A_IIPC_DSCP_LIST]), n);
		r->dscp_n = n;
	}
	r->on = true;
}

/* fmt_range - "START-END" of an address range, or one address. */
static const char *fmt_range(char *buf, size_t len, int family,
			     const xfrm_address_t *s, const xfrm_address_t *e)
{
	char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN];

	fmt_addr(a, sizeof(a), family, s);
	fmt_addr(b, sizeof(b), family, e);
	if (!strcmp(a, b))
		snprintf(buf, len, "%s", a);
	else
		snprintf(buf, len, "%s-%s", a, b);
	return buf;
}

/* fmt_ports - "START-END" of a port range, or one port. */
static const char *fmt_ports(char *buf, size_t len, const __u16 *p)
{
	if (p[0] == p[1])
		snprintf(buf, len, "%u", p[0]);
	else
		snprintf(buf, len, "%u-%u", p[0], p[1]);
	return buf;
}

/* fmt_dscp - the rule's DSCP word: plain, lower or its list. */
static const char *fmt_dscp(char *buf, size_t len, const struct iipc_rule *r)
{
	const char *name = val_name(cda_show_names, r->dscp);
	size_t n = 0;
	int i;

	if (r->dscp != XTFS_IIPC_CDA_SA || !r->dscp_n) {
		snprintf(buf, len, "%s", name ? name : "unknown");
		return buf;
	}
	buf[0] = '\0';
	for (i = 0; i < r->dscp_n && n < len; i++)
		n += snprintf(buf + n, len - n, "%s%u", i ? "," : "",
			      r->dscp_list[i]);
	return buf;
}

/* cda_name - the name of a CDA value. */
static const char *cda_name(__u8 v)
{
	return val_name(cda_show_names, v) ?: "unknown";
}

/*
 * iipc_print_text - the rule as one "iipc" line of "state get/list", in
 * the words "state add" takes.
 */
void iipc_print_text(FILE *f, const struct iipc_rule *r)
{
	char a[2 * INET6_ADDRSTRLEN + 2], b[2 * INET6_ADDRSTRLEN + 2];
	char d[4 * XTFS_IIPC_DSCP_MAX], sp[16], dp[16];

	fprintf(f, "\tiipc src %s dst %s",
		fmt_range(a, sizeof(a), r->family, &r->src_start, &r->src_end),
		fmt_range(b, sizeof(b), r->family, &r->dst_start, &r->dst_end));
	if (r->proto)
		fprintf(f, " proto %u", r->proto);
	else
		fputs(" proto any", f);
	fprintf(f, " sport %s dport %s dscp %s ecn %s flow-label %s rule-id %s\n",
		fmt_ports(sp, sizeof(sp), r->sport),
		fmt_ports(dp, sizeof(dp), r->dport), fmt_dscp(d, sizeof(d), r),
		cda_name(r->ecn), cda_name(r->fl),
		r->rule_id ? "sent" : "elided");
}

/* iipc_print_json - the rule as the JSON object "iipc". */
void iipc_print_json(const struct iipc_rule *r)
{
	char a[2 * INET6_ADDRSTRLEN + 2];
	int i;

	jw_obj_open("iipc");
	jw_str("src", fmt_range(a, sizeof(a), r->family, &r->src_start,
				&r->src_end));
	jw_str("dst", fmt_range(a, sizeof(a), r->family, &r->dst_start,
				&r->dst_end));
	jw_uint("proto", r->proto);
	jw_uint("sport_start", r->sport[0]);
	jw_uint("sport_end", r->sport[1]);
	jw_uint("dport_start", r->dport[0]);
	jw_uint("dport_end", r->dport[1]);
	jw_str("dscp", cda_name(r->dscp));
	if (r->dscp_n) {
		jw_arr_open("dscp_list");
		for (i = 0; i < r->dscp_n; i++)
			jw_uint(NULL, r->dscp_list[i]);
		jw_arr_close();
	}
	jw_str("ecn", cda_name(r->ecn));
	jw_str("flow_label", cda_name(r->fl));
	jw_bool("rule_id", r->rule_id);
	jw_obj_close();
}
