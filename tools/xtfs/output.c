// SPDX-License-Identifier: GPL-2.0
/*
 * A minimal JSON writer and address formatting for xtfs
 *
 * The writer emits compact JSON to "out", inserting commas itself; keys
 * are given inside objects and NULL inside arrays or at the top level.
 */
#include <arpa/inet.h>
#include <sys/socket.h>

#include "xtfs.h"

#define JW_MAX_DEPTH	16

static bool jw_first[JW_MAX_DEPTH] = { true };
static int jw_depth;

/*
 * utf8_len - length of the valid UTF-8 sequence at p (at least one byte
 * long, p[0] >= 0x80), or 0 if it is not valid.
 */
static int utf8_len(const unsigned char *p)
{
	unsigned char lo = 0x80, hi = 0xbf;
	int i, n;

	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		n = 2;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		n = 3;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		n = 4;
	else
		return 0;
	/* No overlong forms, surrogates or code points past U+10FFFF. */
	if (p[0] == 0xe0)
		lo = 0xa0;
	else if (p[0] == 0xed)
		hi = 0x9f;
	else if (p[0] == 0xf0)
		lo = 0x90;
	else if (p[0] == 0xf4)
		hi = 0x8f;
	for (i = 1; i < n; i++) {
		if (p[i] < lo || p[i] > hi)
			return 0;
		lo = 0x80;
		hi = 0xbf;
	}
	return n;
}

/*
 * jw_string - write s as a JSON string: escape quotes, backslashes and
 * control characters; pass valid UTF-8 through, escape other bytes.
 */
static void jw_string(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	int n;

	fputc('"', out);
	while (*p) {
		if (*p == '"' || *p == '\\') {
			fprintf(out, "\\%c", *p++);
		} else if (*p < 0x20 || *p == 0x7f) {
			fprintf(out, "\\u%04x", *p++);
		} else if (*p < 0x80) {
			fputc(*p++, out);
		} else {
			n = utf8_len(p);
			if (n) {
				fwrite(p, 1, n, out);
				p += n;
			} else {
				fprintf(out, "\\u%04x", *p++);
			}
		}
	}
	fputc('"', out);
}

/* jw_prefix - the comma and "key": before a value. */
static void jw_prefix(const char *key)
{
	if (!jw_first[jw_depth])
		fputc(',', out);
	jw_first[jw_depth] = false;
	if (key) {
		jw_string(key);
		fputc(':', out);
	}
}

/* jw_open - start an object or array. */
static void jw_open(const char *key, char c)
{
	jw_prefix(key);
	fputc(c, out);
	if (jw_depth + 1 < JW_MAX_DEPTH)
		jw_first[++jw_depth] = true;
}

/* jw_close - end an object or array. */
static void jw_close(char c)
{
	if (jw_depth > 0)
		jw_depth--;
	fputc(c, out);
}

/* jw_obj_open - start an object. */
void jw_obj_open(const char *key)
{
	jw_open(key, '{');
}

/* jw_obj_close - end an object. */
void jw_obj_close(void)
{
	jw_close('}');
}

/* jw_arr_open - start an array. */
void jw_arr_open(const char *key)
{
	jw_open(key, '[');
}

/* jw_arr_close - end an array. */
void jw_arr_close(void)
{
	jw_close(']');
}

/* jw_str - a string member; NULL gives null. */
void jw_str(const char *key, const char *s)
{
	if (!s) {
		jw_null(key);
		return;
	}
	jw_prefix(key);
	jw_string(s);
}

/* jw_uint - an unsigned number member. */
void jw_uint(const char *key, unsigned long long v)
{
	jw_prefix(key);
	fprintf(out, "%llu", v);
}

/* jw_bool - a true/false member. */
void jw_bool(const char *key, bool v)
{
	jw_prefix(key);
	fputs(v ? "true" : "false", out);
}

/* jw_null - a null member. */
void jw_null(const char *key)
{
	jw_prefix(key);
	fputs("null", out);
}

/* jw_end - finish the top-level JSON value. */
void jw_end(void)
{
	fputc('\n', out);
	jw_depth = 0;
	jw_first[0] = true;
}

/* fmt_addr - an address of the given family as text ("?" if unknown). */
const char *fmt_addr(char *buf, size_t len, int family,
		     const xfrm_address_t *a)
{
	if ((family != AF_INET && family != AF_INET6) ||
	    !inet_ntop(family, a, buf, len))
		snprintf(buf, len, "?");
	return buf;
}

/* fmt_prefix - ADDR/LEN as text. */
const char *fmt_prefix(char *buf, size_t len, int family,
		       const xfrm_address_t *a, unsigned int plen)
{
	char abuf[INET6_ADDRSTRLEN];

	snprintf(buf, len, "%s/%u", fmt_addr(abuf, sizeof(abuf), family, a),
		 plen);
	return buf;
}
