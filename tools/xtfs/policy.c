// SPDX-License-Identifier: GPL-2.0
/*
 * xtfs policy add/del/list/flush (XFRM security policies)
 */
#include <arpa/inet.h>
#include <string.h>
#include <sys/socket.h>

#include <libmnl/libmnl.h>

#include "xtfs.h"

/* One "tmpl ..." group. */
struct tmpl_args {
	struct xaddr src;
	struct xaddr dst;
	int proto;
	struct opt_u32 spi;
	struct opt_u32 reqid;
	int mode;
	int level;			/* xfrm_user_tmpl.optional */
};

/* Everything "policy add/del" can be told. */
struct pol_args {
	struct sel_args sel;
	struct xmark mark;
	unsigned int flags;		/* XFRM_POLICY_LOCALOK, _ICMP */
	int dir;			/* -1: not given */
	struct opt_u32 priority;
	struct opt_u32 if_id;
	int action;
	int ntmpl;
	struct tmpl_args tmpl[XTFS_MAX_TMPL];
};

static const struct name_val pol_dir_names[] = {
	{ "in", XFRM_POLICY_IN },
	{ "out", XFRM_POLICY_OUT },
	{ "fwd", XFRM_POLICY_FWD },
	{ NULL, 0 },
};

static const struct name_val level_names[] = {
	{ "required", 0 },
	{ "use", 1 },
	{ NULL, 0 },
};

static const struct name_val pol_flag_names[] = {
	{ "localok", XFRM_POLICY_LOCALOK },
	{ "icmp", XFRM_POLICY_ICMP },
	{ NULL, 0 },
};

static const struct name_val action_names[] = {
	{ "allow", XFRM_POLICY_ALLOW },
	{ "block", XFRM_POLICY_BLOCK },
	{ NULL, 0 },
};

#define TM(f)		offsetof(struct tmpl_args, f)
#define PO(f)		offsetof(struct pol_args, f)

static const struct kw tmpl_kw[] = {
	{ .name = "src", .fn = kw_addr, .nargs = 1, .off = TM(src),
	  .what = "tmpl src" },
	{ .name = "dst", .fn = kw_addr, .nargs = 1, .off = TM(dst),
	  .what = "tmpl dst" },
	{ .name = "proto", .fn = kw_name, .nargs = 1, .off = TM(proto),
	  .names = proto_names, .what = "tmpl proto" },
	{ .name = "spi", .fn = kw_u32, .nargs = 1, .off = TM(spi),
	  .max = UINT32_MAX, .what = "tmpl spi" },
	{ .name = "reqid", .fn = kw_u32, .nargs = 1, .off = TM(reqid),
	  .max = UINT32_MAX, .what = "tmpl reqid" },
	{ .name = "mode", .fn = kw_name, .nargs = 1, .off = TM(mode),
	  .names = mode_names, .what = "tmpl mode" },
	{ .name = "level", .fn = kw_name, .nargs = 1, .off = TM(level),
	  .names = level_names, .what = "tmpl level" },
	{ .name = NULL },
};

/*
 * kw_tmpl - "tmpl [src ADDR] [dst ADDR] ...": the words after tmpl that
 * are template keywords belong to it; the first other word ends it.
 */
static int kw_tmpl(const struct kw *k, void *ctx, int argc, char **argv)
{
	struct pol_args *a = ctx;
	struct tmpl_args *t;
	int n;

	(void)k;
	if (a->ntmpl == XTFS_MAX_TMPL)
		usage_error("too many templates (at most %d)", XTFS_MAX_TMPL);
	t = &a->tmpl[a->ntmpl++];
	t->proto = IPPROTO_ESP;
	t->mode = XTFS_MODE_IPTFS;
	n = parse_keywords(tmpl_kw, t, argc, argv, "tmpl", true);
	check_families(&t->src, &t->dst, "tmpl");
	return n;
}

/*
 * kw_pol_flags - "flag NAME [NAME...]" or "flag 0xHEX" (the 8 bits of
 * XFRM_POLICY_LOCALOK and _ICMP, as ip-xfrm(8) takes them): OR them.
 */
static int kw_pol_flags(const struct kw *k, void *ctx, int argc,
			char **argv)
{
	unsigned int *flags = (unsigned int *)((char *)ctx + k->off);
	int i, v;

	if (strlen(argv[0]) > 2 && !strncmp(argv[0], "0x", 2)) {
		*flags |= parse_flag_hex(argv[0], kw_what(k));
		return 1;
	}
	*flags |= parse_name(pol_flag_names, argv[0], kw_what(k));
	for (i = 1; i < argc && name_find(pol_flag_names, argv[i], &v); i++)
		*flags |= v;
	return i;
}

/* The selector of a policy: SELECTOR of ip-xfrm(8). */
#define KW_POL_SEL							\
	{ .name = "src", .fn = kw_prefix, .nargs = 1, .off = PO(sel.src) }, \
	{ .name = "dst", .fn = kw_prefix, .nargs = 1, .off = PO(sel.dst) }, \
	KW_UPSPEC(PO(sel), ""),						\
	{ .name = "mark", .fn = kw_mark, .nargs = 1, .off = PO(mark) }

static const struct kw pol_add_kw[] = {
	KW_POL_SEL,
	{ .name = "flag", .fn = kw_pol_flags, .nargs = 1, .off = PO(flags),
	  .repeat = true },
	{ .name = "dir", .fn = kw_name, .nargs = 1, .off = PO(dir),
	  .names = pol_dir_names },
	{ .name = "priority", .fn = kw_u32, .nargs = 1, .off = PO(priority),
	  .max = UINT32_MAX },
	{ .name = "action", .fn = kw_name, .nargs = 1, .off = PO(action),
	  .names = action_names },
	{ .name = "if_id", .fn = kw_u32, .nargs = 1, .off = PO(if_id),
	  .max = UINT32_MAX },
	{ .name = "tmpl", .fn = kw_tmpl, .nargs = 0, .repeat = true },
	{ .name = NULL },
};

static const struct kw pol_del_kw[] = {
	KW_POL_SEL,
	{ .name = "dir", .fn = kw_name, .nargs = 1, .off = PO(dir),
	  .names = pol_dir_names },
	{ .name = "if_id", .fn = kw_u32, .nargs = 1, .off = PO(if_id),
	  .max = UINT32_MAX },
	{ .name = NULL },
};

/* pol_parse - parse policy words; the selector and dir are required. */
static void pol_parse(const struct kw *tbl, struct pol_args *a, int argc,
		      char **argv, const char *cmd)
{
	memset(a, 0, sizeof(*a));
	a->dir = -1;
	parse_keywords(tbl, a, argc, argv, cmd, false);
	if (!a->sel.src.set && !a->sel.dst.set)
		usage_error("\"%s\" needs \"src PFX\" and \"dst PFX\"", cmd);
	check_families(&a->sel.src, &a->sel.dst, cmd);
	if (a->dir < 0)
		usage_error("\"%s\" needs \"dir in|out|fwd\"", cmd);
}

/* fill_tmpl - one struct xfrm_user_tmpl from a parsed template. */
static void fill_tmpl(struct xfrm_user_tmpl *ut, const struct tmpl_args *t,
		      __u16 sel_family)
{
	memset(ut, 0, sizeof(*ut));
	ut->id.daddr = t->dst.a;
	ut->id.spi = htonl(t->spi.val);
	ut->id.proto = t->proto;
	ut->saddr = t->src.a;
	ut->family = t->src.set ? t->src.family :
		     t->dst.set ? t->dst.family : sel_family;
	ut->reqid = t->reqid.val;
	ut->mode = t->mode;
	ut->optional = t->level;
	ut->aalgos = ~0U;
	ut->ealgos = ~0U;
	ut->calgos = ~0U;
}

/* policy_add - XFRM_MSG_NEWPOLICY from "policy add" words. */
int policy_add(int argc, char **argv)
{
	struct xfrm_user_tmpl ut[XTFS_MAX_TMPL];
	struct xfrm_userpolicy_info *p;
	struct nlmsghdr *nlh;
	struct pol_args a;
	int i;

	pol_parse(pol_add_kw, &a, argc, argv, "policy add");
	nlh = nl_msg(XFRM_MSG_NEWPOLICY, NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK);
	p = nl_extra(nlh, sizeof(*p));
	sel_fill(&p->sel, &a.sel, "policy add");
	p->lft.soft_byte_limit = XFRM_INF;
	p->lft.hard_byte_limit = XFRM_INF;
	p->lft.soft_packet_limit = XFRM_INF;
	p->lft.hard_packet_limit = XFRM_INF;
	p->priority = a.priority.val;
	p->dir = a.dir;
	p->action = a.action;
	p->flags = a.flags;
	for (i = 0; i < a.ntmpl; i++)
		fill_tmpl(&ut[i], &a.tmpl[i], p->sel.family);
	if (a.ntmpl)
		nl_put(nlh, XFRMA_TMPL, a.ntmpl * sizeof(ut[0]), ut);
	if (a.if_id.set)
		nl_put_u32(nlh, XTFS_XFRMA_IF_ID, a.if_id.val);
	mark_put(nlh, &a.mark);
	return nl_talk(nlh, false, NULL, NULL);
}

/* policy_del - XFRM_MSG_DELPOLICY by selector and direction. */
int policy_del(int argc, char **argv)
{
	struct xfrm_userpolicy_id *id;
	struct nlmsghdr *nlh;
	struct pol_args a;

	pol_parse(pol_del_kw, &a, argc, argv, "policy del");
	nlh = nl_msg(XFRM_MSG_DELPOLICY, NLM_F_ACK);
	id = nl_extra(nlh, sizeof(*id));
	sel_fill(&id->sel, &a.sel, "policy del");
	id->dir = a.dir;
	if (a.if_id.set)
		nl_put_u32(nlh, XTFS_XFRMA_IF_ID, a.if_id.val);
	mark_put(nlh, &a.mark);
	return nl_talk(nlh, false, NULL, NULL);
}

/* tmpl_print - one template, as text or as a JSON array element. */
static void tmpl_print(const struct xfrm_user_tmpl *t)
{
	char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN], num[12];
	const char *mode = val_name(mode_show_names, t->mode);
	const char *proto = t->id.proto == IPPROTO_ESP ? "esp" :
			    t->id.proto == IPPROTO_AH ? "ah" :
			    t->id.proto == IPPROTO_COMP ? "comp" : NULL;
	const char *level = t->optional ? "use" : "required";

	fmt_addr(src, sizeof(src), t->family, &t->saddr);
	fmt_addr(dst, sizeof(dst), t->family, &t->id.daddr);
	if (!mode) {
		snprintf(num, sizeof(num), "%u", t->mode);
		mode = num;
	}
	if (!opts.json) {
		fprintf(out, "\ttmpl src %s dst %s\n", src, dst);
		fputs("\t\tproto ", out);
		if (proto)
			fputs(proto, out);
		else
			fprintf(out, "%u", t->id.proto);
		if (t->id.spi)
			fprintf(out, " spi 0x%08x", ntohl(t->id.spi));
		fprintf(out, " reqid %u mode %s level %s\n", t->reqid, mode,
			level);
		return;
	}
	jw_obj_open(NULL);
	jw_str("src", src);
	jw_str("dst", dst);
	jw_str("family", val_name(family_names, t->family));
	if (proto)
		jw_str("proto", proto);
	else
		jw_uint("proto", t->id.proto);
	if (t->id.spi)
		jw_uint("spi", ntohl(t->id.spi));
	jw_uint("reqid", t->reqid);
	jw_str("mode", mode);
	jw_str("level", level);
	jw_obj_close();
}

/* pol_cb - print each XFRM_MSG_NEWPOLICY of a dump. */
static int pol_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[XTFS_XFRMA_MAX + 1];
	char src[INET6_ADDRSTRLEN + 4], dst[INET6_ADDRSTRLEN + 4];
	struct xfrm_userpolicy_info p;
	struct xfrm_user_tmpl t;
	const char *dir, *action;
	const struct xfrm_mark *mark;
	const struct name_val *f;
	const char *tmpls = NULL;
	size_t i, ntmpl = 0;
	bool have_if_id;
	__u32 if_id = 0;
	const void *d;

	(void)data;
	if (nlh->nlmsg_type != XFRM_MSG_NEWPOLICY)
		return 0;
	if (nl_attrs(nlh, sizeof(p), tb) < 0) {
		fprintf(stderr, "xtfs: malformed policy message from the kernel\n");
		return -1;
	}
	memcpy(&p, mnl_nlmsg_get_payload(nlh), sizeof(p));
	if (tb[XFRMA_TMPL]) {
		tmpls = mnl_attr_get_payload(tb[XFRMA_TMPL]);
		ntmpl = mnl_attr_get_payload_len(tb[XFRMA_TMPL]) / sizeof(t);
	}
	mark = nl_attr_data(tb[XFRMA_MARK], sizeof(*mark));
	d = nl_attr_data(tb[XTFS_XFRMA_IF_ID], sizeof(if_id));
	have_if_id = d;
	if (d)
		memcpy(&if_id, d, sizeof(if_id));
	if (p.sel.family) {
		fmt_prefix(src, sizeof(src), p.sel.family, &p.sel.saddr,
			   p.sel.prefixlen_s);
		fmt_prefix(dst, sizeof(dst), p.sel.family, &p.sel.daddr,
			   p.sel.prefixlen_d);
	} else {
		snprintf(src, sizeof(src), "any");
		snprintf(dst, sizeof(dst), "any");
	}
	/* Socket policies are reported as XFRM_POLICY_MAX + dir. */
	dir = val_name(pol_dir_names, p.dir % XFRM_POLICY_MAX);
	action = val_name(action_names, p.action);

	if (!opts.json) {
		fprintf(out, "src %s dst %s", src, dst);
		sel_print_upspec(out, &p.sel);
		fprintf(out, "\n\tdir %s%s priority %u index %u action %s",
			dir, p.dir >= XFRM_POLICY_MAX ? " socket" : "",
			p.priority, p.index, action ? action : "?");
		if (p.flags) {
			unsigned int rest = p.flags;

			fputs(" flag", out);
			for (f = pol_flag_names; f->name; f++) {
				if (p.flags & f->val) {
					fprintf(out, " %s", f->name);
					rest &= ~f->val;
				}
			}
			if (rest)
				fprintf(out, " 0x%x", rest);
		}
		fputc('\n', out);
		if (mark)
			fprintf(out, "\tmark 0x%x/0x%x\n", mark->v, mark->m);
		if (have_if_id)
			fprintf(out, "\tif_id %u\n", if_id);
	} else {
		jw_obj_open(NULL);
		jw_str("src", p.sel.family ? src : NULL);
		jw_str("dst", p.sel.family ? dst : NULL);
		jw_str("family", val_name(family_names, p.sel.family));
		sel_json_upspec(&p.sel);
		jw_str("dir", dir);
		if (p.dir >= XFRM_POLICY_MAX)
			jw_bool("socket", true);
		jw_uint("priority", p.priority);
		jw_uint("index", p.index);
		jw_str("action", action);
		jw_arr_open("flags");
		for (f = pol_flag_names; f->name; f++)
			if (p.flags & f->val)
				jw_str(NULL, f->name);
		jw_arr_close();
		if (mark) {
			jw_obj_open("mark");
			jw_uint("value", mark->v);
			jw_uint("mask", mark->m);
			jw_obj_close();
		}
		if (have_if_id)
			jw_uint("if_id", if_id);
		jw_arr_open("tmpl");
	}
	for (i = 0; i < ntmpl; i++) {
		memcpy(&t, tmpls + i * sizeof(t), sizeof(t));
		tmpl_print(&t);
	}
	if (opts.json) {
		jw_arr_close();
		jw_obj_close();
	}
	return 0;
}

/* policy_list - "policy list": dump all policies. */
int policy_list(int argc, char **argv)
{
	struct nlmsghdr *nlh;
	int ret;

	if (argc)
		usage_error("unknown keyword \"%s\" in \"policy list\"",
			    argv[0]);
	nlh = nl_msg(XFRM_MSG_GETPOLICY, NLM_F_DUMP);
	if (opts.json)
		jw_arr_open(NULL);
	ret = nl_talk(nlh, true, pol_cb, NULL);
	if (opts.json) {
		jw_arr_close();
		jw_end();
	}
	return ret;
}

/* policy_flush - "policy flush": XFRM_MSG_FLUSHPOLICY. */
int policy_flush(int argc, char **argv)
{
	struct nlmsghdr *nlh;

	if (argc)
		usage_error("unknown keyword \"%s\" in \"policy flush\"",
			    argv[0]);
	nlh = nl_msg(XFRM_MSG_FLUSHPOLICY, NLM_F_ACK);
	return nl_talk(nlh, false, NULL, NULL);
}
