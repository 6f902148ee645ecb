// SPDX-License-Identifier: GPL-2.0
/*
 * Table-driven parsing of xtfs command line words
 *
 * Only what cannot be encoded is rejected here (bad syntax, numbers,
 * addresses, unknown words). Everything the kernel can judge is passed
 * on so that its extended ACK message reaches the user unchanged.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <net/if.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "xtfs.h"

const struct name_val proto_names[] = {
	{ "esp", IPPROTO_ESP },
	{ NULL, 0 },
};

/* The modes that can be set ... */
const struct name_val mode_names[] = {
	{ "iptfs", XTFS_MODE_IPTFS },
	{ "tunnel", XFRM_MODE_TUNNEL },
	{ "transport", XFRM_MODE_TRANSPORT },
	{ "beet", XFRM_MODE_BEET },
	{ NULL, 0 },
};

/* ... and those that can be shown. */
const struct name_val mode_show_names[] = {
	{ "iptfs", XTFS_MODE_IPTFS },
	{ "tunnel", XFRM_MODE_TUNNEL },
	{ "transport", XFRM_MODE_TRANSPORT },
	{ "beet", XFRM_MODE_BEET },
	{ "ro", XFRM_MODE_ROUTEOPTIMIZATION },
	{ "in_trigger", XFRM_MODE_IN_TRIGGER },
	{ NULL, 0 },
};

const struct name_val family_names[] = {
	{ "inet", AF_INET },
	{ "inet6", AF_INET6 },
	{ "unspec", AF_UNSPEC },
	{ NULL, 0 },
};

/* usage_error - report a bad command line and exit with status 2. */
void usage_error(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fputs("xtfs: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\nTry 'xtfs --help' for more information.\n", stderr);
	exit(XTFS_EXIT_USAGE);
}

/* kw_what - the name of a keyword as used in messages. */
const char *kw_what(const struct kw *k)
{
	return k->what ? k->what : k->name;
}

/* kw_find - look a word up in a keyword table. */
static const struct kw *kw_find(const struct kw *tbl, const char *word)
{
	for (; tbl->name; tbl++)
		if (!strcmp(tbl->name, word))
			return tbl;
	return NULL;
}

/*
 * parse_keywords - run the handlers of a keyword table over argv.
 *
 * With partial set, stop quietly at the first word that is not a keyword
 * of the table or that repeats one (the caller's table may know it) and
 * return the number of words used; otherwise such a word is an error.
 */
int parse_keywords(const struct kw *tbl, void *ctx, int argc, char **argv,
		   const char *cmd, bool partial)
{
	unsigned long long seen = 0, bit;
	const struct kw *k;
	int i = 0;

	while (i < argc) {
		k = kw_find(tbl, argv[i]);
		if (!k) {
			if (partial)
				break;
			usage_error("unknown keyword \"%s\" in \"%s\"",
				    argv[i], cmd);
		}
		bit = 1ULL << (k - tbl);
		if (!k->repeat && (seen & bit)) {
			if (partial)
				break;
			usage_error("\"%s\" given more than once in \"%s\"",
				    argv[i], cmd);
		}
		seen |= bit;
		if (argc - i - 1 < k->nargs)
			usage_error("\"%s\" needs %d argument%s", kw_what(k),
				    k->nargs, k->nargs == 1 ? "" : "s");
		i += 1 + k->fn(k, ctx, argc - i - 1, argv + i + 1);
	}
	return i;
}

/*
 * parse_u32 - parse a decimal or 0x-prefixed hexadecimal number up to max;
 * exit with a usage error naming the word otherwise.
 */
__u32 parse_u32(const char *word, const char *what, __u32 max)
{
	const char *p = word, *q;
	unsigned long long v;
	int base = 10;
	char *end;

	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		base = 16;
		p += 2;
	}
	if (!*p)
		goto bad;
	for (q = p; *q; q++)
		if (base == 16 ? !isxdigit((unsigned char)*q) :
				 !isdigit((unsigned char)*q))
			goto bad;
	errno = 0;
	v = strtoull(p, &end, base);
	if (errno || *end || v > max)
		goto bad;
	return v;
bad:
	usage_error("invalid value \"%s\" for \"%s\" (expected a number 0..%u)",
		    word, what, max);
}

/*
 * parse_addr - parse an IPv4 or IPv6 address; with prefix set, an optional
 * "/LEN" may follow (default: the full length).
 */
void parse_addr(const char *word, const char *what, struct xaddr *x,
		bool prefix)
{
	char buf[INET6_ADDRSTRLEN + 8];
	unsigned int maxlen;
	char *slash;

	memset(x, 0, sizeof(*x));
	if (snprintf(buf, sizeof(buf), "%s", word) >= (int)sizeof(buf))
		goto bad;
	slash = strchr(buf, '/');
	if (slash) {
		if (!prefix)
			goto bad;
		*slash++ = '\0';
	}
	if (inet_pton(AF_INET, buf, &x->a.a4) == 1) {
		x->family = AF_INET;
		maxlen = 32;
	} else if (inet_pton(AF_INET6, buf, &x->a.in6) == 1) {
		x->family = AF_INET6;
		maxlen = 128;
	} else {
		goto bad;
	}
	x->plen = maxlen;
	if (slash) {
		char *end;
		unsigned long v;

		if (!isdigit((unsigned char)*slash))
			goto bad;
		errno = 0;
		v = strtoul(slash, &end, 10);
		if (errno || *end || v > maxlen)
			goto bad;
		x->plen = v;
	}
	x->set = true;
	return;
bad:
	usage_error("invalid %s \"%s\" for \"%s\"",
		    prefix ? "prefix" : "address", word, what);
}

/* check_families - src and dst of one pair must be of the same family. */
void check_families(const struct xaddr *src, const struct xaddr *dst,
		    const char *what)
{
	if (src->set && dst->set && src->family != dst->family)
		usage_error("%s: src and dst are of different address families",
			    what);
}

/* name_find - look a word up in a name table; false if absent. */
bool name_find(const struct name_val *tbl, const char *word, int *val)
{
	for (; tbl->name; tbl++) {
		if (!strcmp(tbl->name, word)) {
			*val = tbl->val;
			return true;
		}
	}
	return false;
}

/* parse_name - map a word through a name table or exit listing choices. */
int parse_name(const struct name_val *tbl, const char *word,
	       const char *what)
{
	const struct name_val *n;
	char list[256] = "";
	int val;

	if (name_find(tbl, word, &val))
		return val;
	for (n = tbl; n->name; n++) {
		if (n != tbl)
			strncat(list, "|", sizeof(list) - strlen(list) - 1);
		strncat(list, n->name, sizeof(list) - strlen(list) - 1);
	}
	usage_error("invalid value \"%s\" for \"%s\" (expected %s)", word, what,
		    list);
}

/* val_name - the name of a value in a table, or NULL. */
const char *val_name(const struct name_val *tbl, int val)
{
	for (; tbl->name; tbl++)
		if (tbl->val == val)
			return tbl->name;
	return NULL;
}

/*
 * parse_key - a key as ip-xfrm(8) takes it into buf; bytes used. "0x"
 * and at least one more character: hexadecimal, an odd number of digits
 * with a 0 in front; any other word: its characters themselves ("the key
 * in quotes"). An empty word, or the two characters "" that xtfs prints
 * for one, is no key.
 */
static unsigned int parse_key(const char *word, const char *what,
			      unsigned char *buf)
{
	size_t i, n = strlen(word), len;
	const char *hex = word + 2;

	if (!n || !strcmp(word, "\"\""))
		return 0;
	if (n <= 2 || strncmp(word, "0x", 2)) {
		if (n > XTFS_MAX_KEY)
			usage_error("key for \"%s\" is too long (at most %d bytes)",
				    what, XTFS_MAX_KEY);
		memcpy(buf, word, n);
		return n;
	}
	n -= 2;
	len = (n + 1) / 2;
	if (len > XTFS_MAX_KEY)
		usage_error("key for \"%s\" is too long (at most %d bytes)",
			    what, XTFS_MAX_KEY);
	for (i = 0; i < n; i++)
		if (!isxdigit((unsigned char)hex[i]))
			usage_error("invalid key \"%s\" for \"%s\" (0x and not hex: a text key cannot start with 0x)",
				    word, what);
	/* An odd count: the first byte has one digit. */
	for (i = 0; i < len; i++) {
		long hi = 2 * (long)i - (long)(n % 2);
		char byte[3] = { hi < 0 ? '0' : hex[hi], hex[hi + 1], '\0' };

		buf[i] = strtoul(byte, NULL, 16);
	}
	return len;
}

/* kw_field - the field of ctx that a keyword writes. */
static void *kw_field(const struct kw *k, void *ctx)
{
	return (char *)ctx + k->off;
}

/* kw_u32 - KEYWORD NUMBER into a struct opt_u32, bounded by k->max. */
int kw_u32(const struct kw *k, void *ctx, int argc, char **argv)
{
	struct opt_u32 *o = kw_field(k, ctx);

	(void)argc;
	o->val = parse_u32(argv[0], kw_what(k), k->max);
	o->set = true;
	return 1;
}

/* kw_flag - a keyword without argument setting a bool. */
int kw_flag(const struct kw *k, void *ctx, int argc, char **argv)
{
	bool *b = kw_field(k, ctx);

	(void)argc;
	(void)argv;
	*b = true;
	return 0;
}

/* kw_addr - KEYWORD ADDR into a struct xaddr. */
int kw_addr(const struct kw *k, void *ctx, int argc, char **argv)
{
	(void)argc;
	parse_addr(argv[0], kw_what(k), kw_field(k, ctx), false);
	return 1;
}

/* kw_prefix - KEYWORD ADDR[/LEN] into a struct xaddr. */
int kw_prefix(const struct kw *k, void *ctx, int argc, char **argv)
{
	(void)argc;
	parse_addr(argv[0], kw_what(k), kw_field(k, ctx), true);
	return 1;
}

/* kw_name - KEYWORD WORD through k->names into an int. */
int kw_name(const struct kw *k, void *ctx, int argc, char **argv)
{
	int *v = kw_field(k, ctx);

	(void)argc;
	*v = parse_name(k->names, argv[0], kw_what(k));
	return 1;
}

/* kw_alg - KEYWORD NAME KEY [BITS] into a struct alg (nargs 2 or 3). */
int kw_alg(const struct kw *k, void *ctx, int argc, char **argv)
{
	struct alg *a = kw_field(k, ctx);

	(void)argc;
	if (!*argv[0] || strlen(argv[0]) >= sizeof(a->name))
		usage_error("invalid algorithm name \"%s\" for \"%s\" (1..%zu characters)",
			    argv[0], kw_what(k), sizeof(a->name) - 1);
	snprintf(a->name, sizeof(a->name), "%s", argv[0]);
	a->key_len = parse_key(argv[1], kw_what(k), a->key);
	if (k->nargs > 2)
		a->bits = parse_u32(argv[2], kw_what(k), UINT32_MAX);
	a->set = true;
	return k->nargs;
}

/*
 * fill_selector - build a selector from optional src/dst prefixes. Its
 * family comes from the prefixes (it may differ from the SA's); a missing
 * side matches any address. Without either, the selector stays empty.
 */
void fill_selector(struct xfrm_selector *sel, const struct xaddr *src,
		   const struct xaddr *dst)
{
	memset(sel, 0, sizeof(*sel));
	if (src->set) {
		sel->family = src->family;
		sel->saddr = src->a;
		sel->prefixlen_s = src->plen;
	}
	if (dst->set) {
		sel->family = dst->family;
		sel->daddr = dst->a;
		sel->prefixlen_d = dst->plen;
	}
}

/*
 * Upper-layer protocols by the names of /etc/protocols, as ip-xfrm(8)
 * prints them; "any" is 0.
 */
static const struct name_val upproto_names[] = {
	{ "any", 0 },
	{ "icmp", IPPROTO_ICMP },
	{ "igmp", IPPROTO_IGMP },
	{ "ipencap", IPPROTO_IPIP },
	{ "tcp", IPPROTO_TCP },
	{ "udp", IPPROTO_UDP },
	{ "dccp", IPPROTO_DCCP },
	{ "ipv6", IPPROTO_IPV6 },
	{ "gre", IPPROTO_GRE },
	{ "esp", IPPROTO_ESP },
	{ "ah", IPPROTO_AH },
	{ "ipv6-icmp", IPPROTO_ICMPV6 },
	{ "sctp", IPPROTO_SCTP },
	{ "mobility-header", IPPROTO_MH },
	{ "udplite", IPPROTO_UDPLITE },
	{ NULL, 0 },
};

/*
 * kw_upproto - "proto PROTO" of a selector: a name of upproto_names or of
 * /etc/protocols, or a number 0..255.
 */
int kw_upproto(const struct kw *k, void *ctx, int argc, char **argv)
{
	struct opt_u32 *o = kw_field(k, ctx);
	struct protoent *pe;
	int v;

	(void)argc;
	if (name_find(upproto_names, argv[0], &v)) {
		o->val = v;
	} else if (isdigit((unsigned char)argv[0][0])) {
		o->val = parse_u32(argv[0], kw_what(k), UINT8_MAX);
	} else {
		pe = getprotobyname(argv[0]);
		if (!pe || pe->p_proto < 0 || pe->p_proto > UINT8_MAX)
			usage_error("invalid value \"%s\" for \"%s\" (expected a protocol name such as tcp, udp, icmp, ipv6-icmp, or a number 0..255)",
				    argv[0], kw_what(k));
		o->val = pe->p_proto;
	}
	o->set = true;
	return 1;
}

/* kw_grekey - "key KEY" of a gre selector: a dotted quad or a number. */
int kw_grekey(const struct kw *k, void *ctx, int argc, char **argv)
{
	struct opt_u32 *o = kw_field(k, ctx);
	struct in_addr a;

	(void)argc;
	if (strchr(argv[0], '.')) {
		if (inet_pton(AF_INET, argv[0], &a) != 1)
			usage_error("invalid value \"%s\" for \"%s\" (expected a dotted quad or a number)",
				    argv[0], kw_what(k));
		o->val = ntohl(a.s_addr);
	} else {
		o->val = parse_u32(argv[0], kw_what(k), UINT32_MAX);
	}
	o->set = true;
	return 1;
}

/* kw_dev - "dev DEV" of a selector: an interface of this namespace. */
int kw_dev(const struct kw *k, void *ctx, int argc, char **argv)
{
	struct opt_u32 *o = kw_field(k, ctx);

	(void)argc;
	o->val = strcmp(argv[0], "none") ? if_nametoindex(argv[0]) : 0;
	if (!o->val && strcmp(argv[0], "none"))
		usage_error("invalid value \"%s\" for \"%s\" (no such interface)",
			    argv[0], kw_what(k));
	o->set = true;
	return 1;
}

/*
 * kw_mark - "mark MARK [mask MASK]" into a struct xmark; the mask is
 * 0xffffffff unless given, as ip-xfrm(8) has it.
 */
int kw_mark(const struct kw *k, void *ctx, int argc, char **argv)
{
	struct xmark *m = kw_field(k, ctx);

	m->v = parse_u32(argv[0], kw_what(k), UINT32_MAX);
	m->m = UINT32_MAX;
	m->set = true;
	if (argc < 2 || strcmp(argv[1], "mask"))
		return 1;
	if (argc < 3)
		usage_error("\"mask\" needs 1 argument");
	m->m = parse_u32(argv[2], "mask", UINT32_MAX);
	return 3;
}

/* mark_put - XFRMA_MARK if a mark was given with a mask other than 0. */
void mark_put(struct nlmsghdr *nlh, const struct xmark *m)
{
	struct xfrm_mark x = { .v = m->v, .m = m->m };

	if (m->set && m->m)
		nl_put(nlh, XFRMA_MARK, sizeof(x), &x);
}

/*
 * parse_flag_hex - a flag word of "0x" and hex digits, as ip-xfrm(8)
 * takes one for the 8-bit flags of SAs and policies.
 */
__u32 parse_flag_hex(const char *word, const char *what)
{
	return parse_u32(word, what, UINT8_MAX);
}

/* upspec_ports - the protocols whose selector has ports (or none). */
static bool upspec_ports(__u32 proto)
{
	return proto == 0 || proto == IPPROTO_TCP || proto == IPPROTO_UDP ||
	       proto == IPPROTO_SCTP || proto == IPPROTO_DCCP;
}

/* upspec_icmp - the protocols whose selector has a type and code. */
static bool upspec_icmp(__u32 proto)
{
	return proto == IPPROTO_ICMP || proto == IPPROTO_ICMPV6 ||
	       proto == IPPROTO_MH;
}

/* upspec_name - a selector protocol's name, or its number. */
static const char *upspec_name(char *buf, size_t len, __u8 proto)
{
	const char *n = val_name(upproto_names, proto);

	if (n)
		return n;
	snprintf(buf, len, "%u", proto);
	return buf;
}

/*
 * sel_fill - a struct xfrm_selector from selector words, as ip-xfrm(8)
 * builds it: a port of 0 matches any (no mask), type and code live in the
 * source and destination port, a GRE key in both. Words that do not go
 * with the protocol are a usage error.
 */
void sel_fill(struct xfrm_selector *sel, const struct sel_args *s,
	      const char *what)
{
	__u32 proto = s->proto.val;
	char buf[12];

	check_families(&s->src, &s->dst, what);
	fill_selector(sel, &s->src, &s->dst);
	if ((s->sport.set || s->dport.set) && !upspec_ports(proto))
		usage_error("%s: \"sport\" and \"dport\" need proto tcp, udp, sctp or dccp, not %s",
			    what, upspec_name(buf, sizeof(buf), proto));
	if ((s->type.set || s->code.set) && !upspec_icmp(proto))
		usage_error("%s: \"type\" and \"code\" need proto icmp, ipv6-icmp or mobility-header%s",
			    what, s->proto.set ? "" : " (no proto is given)");
	if (s->key.set && proto != IPPROTO_GRE)
		usage_error("%s: \"key\" needs proto gre", what);
	sel->proto = proto;
	if (s->sport.val) {
		sel->sport = htons(s->sport.val);
		sel->sport_mask = 0xffff;
	}
	if (s->dport.val) {
		sel->dport = htons(s->dport.val);
		sel->dport_mask = 0xffff;
	}
	if (s->type.set) {
		sel->sport = htons(s->type.val);
		sel->sport_mask = 0xffff;
	}
	if (s->code.set) {
		sel->dport = htons(s->code.val);
		sel->dport_mask = 0xffff;
	}
	if (s->key.set) {
		sel->sport = htons(s->key.val >> 16);
		sel->dport = htons(s->key.val & 0xffff);
		sel->sport_mask = 0xffff;
		sel->dport_mask = 0xffff;
	}
	sel->ifindex = s->dev.val;
}

/* What a selector's ports hold for a protocol: their two names. */
static void upspec_words(__u8 proto, const char **s, const char **d)
{
	*s = *d = NULL;
	if (upspec_ports(proto)) {
		*s = "sport";
		*d = "dport";
	} else if (upspec_icmp(proto)) {
		*s = "type";
		*d = "code";
	}
}

/*
 * sel_print_upspec - " proto P [sport S] [dport D] [key K] [dev DEV]" of a
 * selector, in the words of "ip xfrm" (a GRE key as a number).
 */
void sel_print_upspec(FILE *f, const struct xfrm_selector *sel)
{
	char buf[IF_NAMESIZE + 12];
	const char *sw, *dw;

	if (sel->proto)
		fprintf(f, " proto %s",
			upspec_name(buf, sizeof(buf), sel->proto));
	upspec_words(sel->proto, &sw, &dw);
	if (sel->proto == IPPROTO_GRE) {
		if (sel->sport_mask || sel->dport_mask)
			fprintf(f, " key %u", ntohs(sel->sport) << 16 |
				ntohs(sel->dport));
	} else if (sw) {
		if (sel->sport_mask)
			fprintf(f, " %s %u", sw, ntohs(sel->sport));
		if (sel->dport_mask)
			fprintf(f, " %s %u", dw, ntohs(sel->dport));
	}
	if (sel->ifindex > 0) {
		if (!if_indextoname(sel->ifindex, buf))
			snprintf(buf, sizeof(buf), "if%d", sel->ifindex);
		fprintf(f, " dev %s", buf);
	}
}

/* sel_json_upspec - the members of sel_print_upspec in a JSON object. */
void sel_json_upspec(const struct xfrm_selector *sel)
{
	char buf[IF_NAMESIZE + 12];
	const char *sw, *dw;

	if (sel->proto)
		jw_str("proto", upspec_name(buf, sizeof(buf), sel->proto));
	upspec_words(sel->proto, &sw, &dw);
	if (sel->proto == IPPROTO_GRE) {
		if (sel->sport_mask || sel->dport_mask)
			jw_uint("key", ntohs(sel->sport) << 16 |
				ntohs(sel->dport));
	} else if (sw) {
		if (sel->sport_mask)
			jw_uint(sw, ntohs(sel->sport));
		if (sel->dport_mask)
			jw_uint(dw, ntohs(sel->dport));
	}
	if (sel->ifindex > 0) {
		if (!if_indextoname(sel->ifindex, buf))
			snprintf(buf, sizeof(buf), "if%d", sel->ifindex);
		jw_str("dev", buf);
	}
}
