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

/* parse_key - parse "0x..." hex (or an empty word) into buf; bytes used. */
static unsigned int parse_key(const char *word, const char *what,
			      unsigned char *buf)
{
	const char *hex = word + 2;
	size_t i, n;

	if (!*word || !strcmp(word, "\"\""))
		return 0;
	if (word[0] != '0' || (word[1] != 'x' && word[1] != 'X'))
		usage_error("invalid key \"%s\" for \"%s\" (expected 0xHEX or \"\")",
			    word, what);
	n = strlen(hex);
	if (n % 2)
		usage_error("invalid key \"%s\" for \"%s\" (odd number of hex digits)",
			    word, what);
	if (n / 2 > XTFS_MAX_KEY)
		usage_error("key for \"%s\" is too long (at most %d bytes)",
			    what, XTFS_MAX_KEY);
	for (i = 0; i < n; i += 2) {
		char byte[3] = { hex[i], hex[i + 1], '\0' };

		if (!isxdigit((unsigned char)byte[0]) ||
		    !isxdigit((unsigned char)byte[1]))
			usage_error("invalid key \"%s\" for \"%s\" (not hex)",
				    word, what);
		buf[i / 2] = strtoul(byte, NULL, 16);
	}
	return n / 2;
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
