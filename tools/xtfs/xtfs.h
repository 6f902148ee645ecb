/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared declarations of the xtfs command line tool
 */
#ifndef XTFS_H
#define XTFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <linux/netlink.h>
#include <linux/types.h>
#include <linux/xfrm.h>
#include <linux/xtfs.h>		/* this tree's include/uapi */

#include "xfrm_compat.h"

/* The module's messages have its name in front; the helper's table has none. */
#define XTFS_IIV_MSG_PREFIX	""
#include <xtfs/iiv_algs.h>	/* this tree's include */

#ifndef __noreturn
#define __noreturn		__attribute__((noreturn))
#endif
#ifndef __printf
#define __printf(a, b)		__attribute__((format(printf, a, b)))
#endif
#define ARRAY_SIZE(a)		(sizeof(a) / sizeof((a)[0]))

#define XTFS_EXIT_FAIL		1
#define XTFS_EXIT_USAGE		2

/* Longest key accepted on the command line, in bytes. */
#define XTFS_MAX_KEY		512

/* Largest replay window: keeps the ESN bitmap well inside one attribute. */
#define XTFS_MAX_REPLAY		65536

/* Global options (xtfs.c). */
struct xtfs_opts {
	bool json;
	bool stats;			/* -s: xtfs counters with the SAs */
	bool dry_run;
};

extern struct xtfs_opts opts;
/* Where get/list output goes; copied to stdout only on success. */
extern FILE *out;

/* --- parse.c: command line words ------------------------------------- */

/* A number that may or may not have been given. */
struct opt_u32 {
	bool set;
	__u32 val;
};

/* An address, or a prefix when plen < the family's full length. */
struct xaddr {
	bool set;
	__u16 family;
	__u8 plen;
	xfrm_address_t a;
};

/* An algorithm given with aead/enc/auth/auth-trunc. */
struct alg {
	bool set;
	char name[64];
	unsigned int key_len;		/* bytes */
	__u32 bits;			/* ICV or truncation length */
	unsigned char key[XTFS_MAX_KEY];
};

/*
 * A selector as ip-xfrm(8) takes it: addresses, and the upper-layer
 * words (its UPSPEC) that go with the protocol.
 */
struct sel_args {
	struct xaddr src;
	struct xaddr dst;
	struct opt_u32 proto;		/* 0: any */
	struct opt_u32 sport, dport;	/* tcp, udp, sctp, dccp; 0: any */
	struct opt_u32 type, code;	/* icmp, ipv6-icmp, mobility-header */
	struct opt_u32 key;		/* gre */
	struct opt_u32 dev;		/* ifindex; 0: none */
};

/* "mark MARK [mask MASK]": struct xfrm_mark, if given. */
struct xmark {
	bool set;
	__u32 v;
	__u32 m;
};

/* Name <-> number tables, terminated by a NULL name. */
struct name_val {
	const char *name;
	int val;
};

struct kw;

/*
 * A keyword handler gets the words after the keyword (at least k->nargs
 * of them) and returns how many it used. It exits on bad input.
 */
typedef int (*kw_fn)(const struct kw *k, void *ctx, int argc, char **argv);

/* One keyword of a command: table-driven parsing. */
struct kw {
	const char *name;
	kw_fn fn;
	int nargs;			/* words the keyword needs at least */
	size_t off;			/* field in the context structure */
	__u32 max;			/* kw_u32: largest value */
	const struct name_val *names;	/* kw_name: accepted words */
	bool repeat;			/* may be given more than once */
	const char *what;		/* name used in messages, if not name */
};

void usage_error(const char *fmt, ...) __noreturn __printf(1, 2);
int parse_keywords(const struct kw *tbl, void *ctx, int argc, char **argv,
		   const char *cmd, bool partial);
const char *kw_what(const struct kw *k);

__u32 parse_u32(const char *word, const char *what, __u32 max);
void parse_addr(const char *word, const char *what, struct xaddr *x,
		bool prefix);
bool name_find(const struct name_val *tbl, const char *word, int *val);
int parse_name(const struct name_val *tbl, const char *word,
	       const char *what);
const char *val_name(const struct name_val *tbl, int val);
void check_families(const struct xaddr *src, const struct xaddr *dst,
		    const char *what);

int kw_u32(const struct kw *k, void *ctx, int argc, char **argv);
int kw_flag(const struct kw *k, void *ctx, int argc, char **argv);
int kw_addr(const struct kw *k, void *ctx, int argc, char **argv);
int kw_prefix(const struct kw *k, void *ctx, int argc, char **argv);
int kw_name(const struct kw *k, void *ctx, int argc, char **argv);
int kw_alg(const struct kw *k, void *ctx, int argc, char **argv);
int kw_upproto(const struct kw *k, void *ctx, int argc, char **argv);
int kw_grekey(const struct kw *k, void *ctx, int argc, char **argv);
int kw_dev(const struct kw *k, void *ctx, int argc, char **argv);
int kw_mark(const struct kw *k, void *ctx, int argc, char **argv);
__u32 parse_flag_hex(const char *word, const char *what);

/*
 * The selector words of a keyword table whose context holds a struct
 * sel_args at offset base (src and dst are the caller's: kw_prefix).
 */
#define KW_UPSPEC(base, pfx)						\
	{ .name = "proto", .fn = kw_upproto, .nargs = 1,		\
	  .off = (base) + offsetof(struct sel_args, proto),		\
	  .what = pfx "proto" },					\
	{ .name = "sport", .fn = kw_u32, .nargs = 1, .max = UINT16_MAX,	\
	  .off = (base) + offsetof(struct sel_args, sport),		\
	  .what = pfx "sport" },					\
	{ .name = "dport", .fn = kw_u32, .nargs = 1, .max = UINT16_MAX,	\
	  .off = (base) + offsetof(struct sel_args, dport),		\
	  .what = pfx "dport" },					\
	{ .name = "type", .fn = kw_u32, .nargs = 1, .max = UINT8_MAX,	\
	  .off = (base) + offsetof(struct sel_args, type),		\
	  .what = pfx "type" },					\
	{ .name = "code", .fn = kw_u32, .nargs = 1, .max = UINT8_MAX,	\
	  .off = (base) + offsetof(struct sel_args, code),		\
	  .what = pfx "code" },					\
	{ .name = "key", .fn = kw_grekey, .nargs = 1,			\
	  .off = (base) + offsetof(struct sel_args, key),		\
	  .what = pfx "key" },						\
	{ .name = "dev", .fn = kw_dev, .nargs = 1,			\
	  .off = (base) + offsetof(struct sel_args, dev),		\
	  .what = pfx "dev" }

void sel_fill(struct xfrm_selector *sel, const struct sel_args *s,
	      const char *what);
void sel_print_upspec(FILE *f, const struct xfrm_selector *sel);
void sel_json_upspec(const struct xfrm_selector *sel);
void mark_put(struct nlmsghdr *nlh, const struct xmark *m);

extern const struct name_val proto_names[];
extern const struct name_val mode_names[];
extern const struct name_val mode_show_names[];
extern const struct name_val family_names[];

/* --- nl.c: talking NETLINK_XFRM --------------------------------------- */

typedef int (*nl_cb)(const struct nlmsghdr *nlh, void *data);

struct nlmsghdr *nl_msg(__u16 type, __u16 flags);
void *nl_extra(struct nlmsghdr *nlh, size_t len);
void nl_put(struct nlmsghdr *nlh, __u16 type, size_t len,
	    const void *data);
void nl_put_u8(struct nlmsghdr *nlh, __u16 type, __u8 v);
void nl_put_u16(struct nlmsghdr *nlh, __u16 type, __u16 v);
void nl_put_u32(struct nlmsghdr *nlh, __u16 type, __u32 v);
int nl_talk(struct nlmsghdr *nlh, bool dump, nl_cb cb, void *data);
int nl_talk_proto(int proto, struct nlmsghdr *nlh, bool dump, nl_cb cb,
		  void *data);
int nl_listen(int proto, __u32 group, nl_cb cb, void *data);
bool nl_quiet(bool on);
int nl_last_err(const char **msg);
int nl_attrs(const struct nlmsghdr *nlh, size_t hdrlen,
	     const struct nlattr **tb);
int nl_attrs_max(const struct nlmsghdr *nlh, size_t hdrlen,
		 const struct nlattr **tb, unsigned int max);
int nl_attrs_nested(const struct nlattr *nest, const struct nlattr **tb,
		    unsigned int max);
const void *nl_attr_data(const struct nlattr *a, size_t min);

/* --- json.c / output helpers ------------------------------------------- */

void jw_obj_open(const char *key);
void jw_obj_close(void);
void jw_arr_open(const char *key);
void jw_arr_close(void);
void jw_str(const char *key, const char *s);
void jw_uint(const char *key, unsigned long long v);
void jw_bool(const char *key, bool v);
void jw_null(const char *key);
void jw_end(void);

const char *fmt_addr(char *buf, size_t len, int family,
		     const xfrm_address_t *a);
const char *fmt_prefix(char *buf, size_t len, int family,
		       const xfrm_address_t *a, unsigned int plen);
void fill_selector(struct xfrm_selector *sel, const struct xaddr *src,
		   const struct xaddr *dst);

/* --- iipc.c: the Diet-ESP inner IP compression rule ------------------- */

/* An address range: start (its plen the full length) and end. */
struct iipc_range {
	struct xaddr start;
	xfrm_address_t end;
};

/* A port range, if given. */
struct iipc_ports {
	bool set;
	__u16 start, end;
};

/* The "iipc" words of "state add". */
struct iipc_args {
	bool set;
	struct iipc_range src, dst;
	struct opt_u32 proto;
	struct iipc_ports sport, dport;
	struct opt_u32 dscp;		/* enum xtfs_iipc_cda */
	__u8 dscp_n;
	__u8 dscp_list[XTFS_IIPC_DSCP_MAX];
	int ecn, fl, rule_id;		/* -1: not given */
};

/* A rule as the kernel reports it. */
struct iipc_rule {
	bool on;
	__u16 family;
	xfrm_address_t src_start, src_end, dst_start, dst_end;
	__u8 proto, dscp, ecn, fl, rule_id, dscp_n;
	__u16 sport[2], dport[2];
	__u8 dscp_list[XTFS_IIPC_DSCP_MAX];
};

int kw_iipc(const struct kw *k, void *ctx, int argc, char **argv);
void iipc_put(struct nlmsghdr *nlh, const struct iipc_args *a);
void iipc_decode(const struct nlattr *nest, struct iipc_rule *r);
void iipc_print_text(FILE *f, const struct iipc_rule *r);
void iipc_print_json(const struct iipc_rule *r);

/* --- stats.c: generic netlink family "xtfs" -------------------------- */

/* One SA's counters (and settings) as the kernel reported them. */
struct sa_stats {
	__u16 family;
	xfrm_address_t saddr;
	xfrm_address_t daddr;
	__u32 spi;			/* network byte order */
	__u32 mark;
	__u8 dir;			/* XTFS_SA_DIR_*, 0 if unknown */
	__u32 iiv;			/* enum xtfs_iiv_alg, 0 if none */
	int payload;			/* enum xtfs_payload, -1 if not sent */
	bool diet;			/* the Diet-ESP settings were sent */
	__u8 spi_lsb, sn_lsb, trailer, align;
	struct iipc_rule iipc;		/* Diet-ESP IIPC, if iipc.on */
	__u8 send;			/* enum xtfs_send */
	__u32 rate;			/* outer packets/s (cc: the highest) */
	__u32 rate_min;			/* cc: the lowest rate, 0 if not sent */
	bool has_reverse_spi;
	__u32 reverse_spi;		/* network byte order */
	__u32 breaker_loss;		/* ppm, 0: no circuit breaker */
	__u32 breaker_time;		/* ms */
	bool broken;			/* the circuit breaker tripped */
	bool has[XTFS_CNT_MAX];		/* the kernel sent this counter */
	__u64 cnt[XTFS_CNT_MAX];
};

void stats_for_states(void);
const struct sa_stats *sa_stats_find(__u16 family, const xfrm_address_t *saddr,
				     const xfrm_address_t *daddr, __u32 spi,
				     __u32 mark, bool iptfs);
void stats_print_json(const struct sa_stats *s);
void stats_print_text(const struct sa_stats *s, const char *indent);
/* Extension settings staged for an SA about to be added; 0: not sent. */
struct sa_ext {
	__u32 iiv;			/* enum xtfs_iiv_alg */
	__u8 payload;			/* enum xtfs_payload */
	struct opt_u32 spi_lsb;		/* Diet-ESP, each sent if given */
	struct opt_u32 sn_lsb;
	struct opt_u32 trailer;		/* enum xtfs_trailer */
	struct opt_u32 align;		/* bits */
	const struct iipc_args *iipc;	/* Diet-ESP IIPC rule, or NULL */
	__u8 send;			/* enum xtfs_send */
	__u32 rate;			/* outer packets/s, with send fixed or cc */
	struct opt_u32 rate_min;	/* cc: the lowest rate */
	struct opt_u32 reverse_spi;	/* host byte order */
	__u32 breaker_loss;		/* ppm, 0: none (then no time either) */
	__u32 breaker_time;		/* ms */
};

int sa_stage(__u16 family, const xfrm_address_t *daddr, __u32 spi,
	     const struct opt_u32 *mark, const struct sa_ext *ext);

/* --- commands ---------------------------------------------------------- */

int state_add(int argc, char **argv);
int state_del(int argc, char **argv);
int state_get(int argc, char **argv);
int state_list(int argc, char **argv);
int state_flush(int argc, char **argv);
int policy_add(int argc, char **argv);
int policy_del(int argc, char **argv);
int policy_list(int argc, char **argv);
int policy_flush(int argc, char **argv);
int stats_show(int argc, char **argv);
int monitor_events(int argc, char **argv);

#endif /* XTFS_H */
