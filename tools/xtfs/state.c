// SPDX-License-Identifier: GPL-2.0
/*
 * xtfs state add/del/get/list/flush (XFRM SAs)
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <libmnl/libmnl.h>

#include "xtfs.h"

/* "encap TYPE SPORT DPORT OADDR": UDP or TCP encapsulation of ESP. */
struct sa_encap {
	bool set;
	int type;			/* UDP_ENCAP_ESPINUDP, TCP_ENCAP_ESPINTCP */
	__u16 sport;
	__u16 dport;
	struct xaddr oa;
};

/* "breaker LOSS TIME": the circuit breaker of a paced SA. */
struct sa_breaker {
	bool set;
	__u32 loss;			/* ppm */
	__u32 time;			/* ms */
};

/* Everything "state add/del/get" can be told. */
struct sa_args {
	struct xaddr src;
	struct xaddr dst;
	int proto;
	struct opt_u32 spi;
	struct opt_u32 reqid;
	int dir;			/* 0: not given */
	int mode;
	struct alg aead;
	struct alg enc;
	struct alg auth;
	struct alg auth_trunc;
	struct opt_u32 replay;
	struct opt_u32 seq;		/* replay state to start from */
	struct opt_u32 seq_hi;
	struct opt_u32 oseq;
	struct opt_u32 oseq_hi;
	unsigned int flags;		/* XFRM_STATE_* */
	struct sel_args sel;
	struct xmark mark;
	struct opt_u32 if_id;
	struct sa_encap encap;
	struct opt_u32 pkt_size;
	struct opt_u32 init_delay;
	bool dont_frag;
	struct opt_u32 max_qsize;
	struct opt_u32 drop_time;
	struct opt_u32 reorder;
	bool iiv;			/* implicit IV (RFC 8750) */
	int payload;			/* enum xtfs_payload, -1: not given */
	struct opt_u32 spi_lsb;		/* Diet-ESP */
	struct opt_u32 sn_lsb;
	int trailer;			/* enum xtfs_trailer, -1: not given */
	struct iipc_args iipc;		/* Diet-ESP IIPC rule */
	struct opt_u32 align;		/* bits */
	int send;			/* enum xtfs_send, -1: not given */
	struct opt_u32 rate;		/* outer packets per second */
	struct opt_u32 rate_min;	/* send cc: the lowest rate */
	struct opt_u32 reverse_spi;	/* the paired inbound SA's SPI */
	struct sa_breaker breaker;
};

static const struct name_val sa_dir_names[] = {
	{ "in", XTFS_SA_DIR_IN },
	{ "out", XTFS_SA_DIR_OUT },
	{ NULL, 0 },
};

static const struct name_val payload_names[] = {
	{ "aggfrag", XTFS_PAYLOAD_AGGFRAG },
	{ "tunnel", XTFS_PAYLOAD_TUNNEL },
	{ NULL, 0 },
};

static const struct name_val send_names[] = {
	{ "demand", XTFS_SEND_DEMAND },
	{ "fixed", XTFS_SEND_FIXED },
	{ "cc", XTFS_SEND_CC },
	{ NULL, 0 },
};

static const struct name_val trailer_names[] = {
	{ "mandatory", XTFS_TRAILER_MANDATORY },
	{ "optional", XTFS_TRAILER_OPTIONAL },
	{ NULL, 0 },
};

static const struct name_val sa_flag_names[] = {
	{ "noecn", XFRM_STATE_NOECN },
	{ "decap-dscp", XFRM_STATE_DECAP_DSCP },
	{ "nopmtudisc", XFRM_STATE_NOPMTUDISC },
	{ "wildrecv", XFRM_STATE_WILDRECV },
	{ "icmp", XFRM_STATE_ICMP },
	{ "af-unspec", XFRM_STATE_AF_UNSPEC },
	{ "align4", XFRM_STATE_ALIGN4 },
	{ "esn", XFRM_STATE_ESN },
	{ NULL, 0 },
};

/* Encapsulation types, as ip-xfrm(8) names them (linux/udp.h values). */
static const struct name_val encap_names[] = {
	{ "espinudp", 2 },
	{ "espintcp", 7 },
	{ NULL, 0 },
};

/* kw_encap - "encap TYPE SPORT DPORT OADDR", as ip-xfrm(8) takes it. */
static int kw_encap(const struct kw *k, void *ctx, int argc, char **argv)
{
	struct sa_encap *e = (struct sa_encap *)((char *)ctx + k->off);

	(void)argc;
	e->type = parse_name(encap_names, argv[0], "encap type");
	e->sport = parse_u32(argv[1], "encap sport", UINT16_MAX);
	e->dport = parse_u32(argv[2], "encap dport", UINT16_MAX);
	parse_addr(argv[3], "encap oaddr", &e->oa, false);
	e->set = true;
	return 4;
}

/*
 * kw_breaker - "breaker LOSS TIME": trip when the loss event rate the
 * peer reports stays at or above LOSS ppm (1 to XTFS_PPM) for TIME ms
 * (1 to XTFS_BREAKER_TIME_MAX).
 */
static int kw_breaker(const struct kw *k, void *ctx, int argc, char **argv)
{
	struct sa_breaker *b = (struct sa_breaker *)((char *)ctx + k->off);

	(void)argc;
	b->loss = parse_u32(argv[0], "breaker LOSS", XTFS_PPM);
	b->time = parse_u32(argv[1], "breaker TIME", XTFS_BREAKER_TIME_MAX);
	if (!b->loss || !b->time)
		usage_error("\"breaker\" is LOSS 1 to %u (ppm) and TIME 1 to %u (ms)",
			    XTFS_PPM, XTFS_BREAKER_TIME_MAX);
	b->set = true;
	return 2;
}

/*
 * kw_sa_flags - "flag NAME [NAME...]" or "flag 0xHEX" (the 8 bits of
 * XFRM_STATE_*, as ip-xfrm(8) takes them): OR state flags together.
 */
static int kw_sa_flags(const struct kw *k, void *ctx, int argc, char **argv)
{
	unsigned int *flags = (unsigned int *)((char *)ctx + k->off);
	int i, v;

	if (strlen(argv[0]) > 2 && !strncmp(argv[0], "0x", 2)) {
		*flags |= parse_flag_hex(argv[0], kw_what(k));
		return 1;
	}
	*flags |= parse_name(sa_flag_names, argv[0], kw_what(k));
	for (i = 1; i < argc && name_find(sa_flag_names, argv[i], &v); i++)
		*flags |= v;
	return i;
}

static const struct kw sel_kw[] = {
	{ .name = "src", .fn = kw_prefix, .nargs = 1,
	  .off = offsetof(struct sel_args, src), .what = "sel src" },
	{ .name = "dst", .fn = kw_prefix, .nargs = 1,
	  .off = offsetof(struct sel_args, dst), .what = "sel dst" },
	KW_UPSPEC(0, "sel "),
	{ .name = NULL },
};

/*
 * kw_sel - "sel [src PFX] [dst PFX] [dev DEV] [proto P [sport S] [dport D]
 * | [type T] [code C] | [key K]]": the SA's selector. As in ip-xfrm(8),
 * a "proto" after "sel" is the selector's.
 */
static int kw_sel(const struct kw *k, void *ctx, int argc, char **argv)
{
	struct sel_args *sel = (struct sel_args *)((char *)ctx + k->off);
	int n;

	n = parse_keywords(sel_kw, sel, argc, argv, "sel", true);
	if (!n)
		usage_error("\"sel\" needs selector words (src PFX, dst PFX, proto P...), not \"%s\"",
			    argv[0]);
	check_families(&sel->src, &sel->dst, "sel");
	return n;
}

#define SA(f)		offsetof(struct sa_args, f)
#define KW_ADDR(n, f)	{ .name = n, .fn = kw_addr, .nargs = 1, .off = SA(f) }
#define KW_U32(n, f, m)	{ .name = n, .fn = kw_u32, .nargs = 1, .off = SA(f), \
			  .max = m }
#define KW_NAME(n, f, t) { .name = n, .fn = kw_name, .nargs = 1, .off = SA(f), \
			   .names = t }
#define KW_ALG(n, f, a)	{ .name = n, .fn = kw_alg, .nargs = a, .off = SA(f) }

/* Identifying an SA: get, del (and the start of add). */
static const struct kw sa_id_kw[] = {
	KW_ADDR("src", src),
	KW_ADDR("dst", dst),
	KW_NAME("proto", proto, proto_names),
	KW_U32("spi", spi, UINT32_MAX),
	{ .name = "mark", .fn = kw_mark, .nargs = 1, .off = SA(mark) },
	{ .name = NULL },
};

static const struct kw sa_add_kw[] = {
	KW_ADDR("src", src),
	KW_ADDR("dst", dst),
	KW_NAME("proto", proto, proto_names),
	KW_U32("spi", spi, UINT32_MAX),
	KW_U32("reqid", reqid, UINT32_MAX),
	KW_NAME("dir", dir, sa_dir_names),
	KW_NAME("mode", mode, mode_names),
	KW_ALG("aead", aead, 3),
	KW_ALG("enc", enc, 2),
	KW_ALG("auth", auth, 2),
	KW_ALG("auth-trunc", auth_trunc, 3),
	KW_U32("replay-window", replay, XTFS_MAX_REPLAY),
	KW_U32("replay-seq", seq, UINT32_MAX),
	KW_U32("replay-seq-hi", seq_hi, UINT32_MAX),
	KW_U32("replay-oseq", oseq, UINT32_MAX),
	KW_U32("replay-oseq-hi", oseq_hi, UINT32_MAX),
	{ .name = "flag", .fn = kw_sa_flags, .nargs = 1, .off = SA(flags),
	  .repeat = true },
	{ .name = "sel", .fn = kw_sel, .nargs = 2, .off = SA(sel) },
	KW_U32("if_id", if_id, UINT32_MAX),
	{ .name = "mark", .fn = kw_mark, .nargs = 1, .off = SA(mark) },
	{ .name = "encap", .fn = kw_encap, .nargs = 4, .off = SA(encap) },
	KW_U32("pkt-size", pkt_size, UINT32_MAX),
	KW_U32("init-delay", init_delay, UINT32_MAX),
	{ .name = "dont-frag", .fn = kw_flag, .nargs = 0, .off = SA(dont_frag) },
	KW_U32("max-queue-size", max_qsize, UINT32_MAX),
	KW_U32("drop-time", drop_time, UINT32_MAX),
	KW_U32("reorder-window", reorder, UINT16_MAX),
	{ .name = "iiv", .fn = kw_flag, .nargs = 0, .off = SA(iiv) },
	KW_NAME("payload", payload, payload_names),
	KW_U32("spi-lsb", spi_lsb, XTFS_DIET_LSB_FULL),
	KW_U32("sn-lsb", sn_lsb, XTFS_DIET_LSB_FULL),
	KW_NAME("trailer", trailer, trailer_names),
	KW_U32("align", align, 64),
	{ .name = "iipc", .fn = kw_iipc, .nargs = 0, .off = SA(iipc) },
	KW_NAME("send", send, send_names),
	KW_U32("rate", rate, XTFS_RATE_MAX),
	KW_U32("rate-min", rate_min, XTFS_RATE_MAX),
	KW_U32("reverse-spi", reverse_spi, UINT32_MAX),
	{ .name = "breaker", .fn = kw_breaker, .nargs = 2, .off = SA(breaker) },
	{ .name = NULL },
};

/* The AEADs with implicit IV (RFC 8750): the module's table. */
static const struct xtfs_iiv_alg_info iiv_algs[] = XTFS_IIV_ALGS;

/* need_iptfs - a usage error unless the SA is of mode iptfs. */
static void need_iptfs(const struct sa_args *a, const char *what)
{
	if (a->mode != XTFS_MODE_IPTFS)
		usage_error("\"%s\" needs mode iptfs", what);
}

/*
 * iiv_alg - the implicit IV transform ID for the algorithms of "state
 * add"; a usage error naming the accepted AEADs if they have none. what
 * is the word that needs xtfs's ESP engine ("iiv", or a Diet-ESP word:
 * without "iiv" the engine sends the IV, with the same three AEADs).
 */
static __u32 iiv_alg(const struct sa_args *a, const char *what)
{
	char list[256] = "", given[128];
	size_t i, n = ARRAY_SIZE(iiv_algs);

	need_iptfs(a, what);
	for (i = 0; i < n; i++) {
		if (a->aead.set && !strcmp(a->aead.name, iiv_algs[i].sa_aead) &&
		    a->aead.bits == iiv_algs[i].icv_bits)
			return iiv_algs[i].alg;
		snprintf(list + strlen(list), sizeof(list) - strlen(list),
			 "%s%s KEY %u", !i ? "" : i + 1 < n ? ", " : " or ",
			 iiv_algs[i].sa_aead, iiv_algs[i].icv_bits);
	}
	if (a->aead.set)
		snprintf(given, sizeof(given), "not aead %s KEY %u",
			 a->aead.name, a->aead.bits);
	else
		snprintf(given, sizeof(given), "%s",
			 a->enc.set || a->auth.set || a->auth_trunc.set ?
			 "not enc/auth" : "and no aead is given");
	usage_error("\"%s\" needs aead %s, %s", what, list, given);
}

/*
 * payload_check - "payload" only in mode iptfs, and "payload tunnel"
 * without the IP-TFS parameters, which do not apply to it.
 */
static void payload_check(const struct sa_args *a)
{
	const char *p = a->pkt_size.set ? "pkt-size" :
			a->init_delay.set ? "init-delay" :
			a->dont_frag ? "dont-frag" :
			a->max_qsize.set ? "max-queue-size" :
			a->drop_time.set ? "drop-time" :
			a->reorder.set ? "reorder-window" : NULL;

	if (a->payload < 0)
		return;
	need_iptfs(a, "payload");
	if (a->payload == XTFS_PAYLOAD_TUNNEL && p)
		usage_error("IP-TFS parameters do not apply to the tunnel payload: \"payload tunnel\" with \"%s\"",
			    p);
}

/*
 * diet_check - the Diet-ESP words of "state add" into ext: only with an
 * AEAD of xtfs's ESP engine (with "iiv" or, the IV sent, without), the
 * header whole octets, a known alignment
 * (draft-ietf-ipsecme-diet-esp-07 sections 4.2 and 5.3). What depends on
 * the SA (replay window, SPI, the other SAs) the module checks.
 */
static void diet_check(const struct sa_args *a, struct sa_ext *ext)
{
	const char *w = a->spi_lsb.set ? "spi-lsb" : a->sn_lsb.set ? "sn-lsb" :
			a->trailer >= 0 ? "trailer" : a->align.set ? "align" :
			NULL;
	__u32 spi = a->spi_lsb.set ? a->spi_lsb.val : XTFS_DIET_LSB_FULL;
	__u32 sn = a->sn_lsb.set ? a->sn_lsb.val : XTFS_DIET_LSB_FULL;

	if (!w)
		return;
	if (!a->iiv)
		iiv_alg(a, w);
	if ((spi + sn) % 8)
		usage_error("\"spi-lsb\" %u plus \"sn-lsb\" %u is not a multiple of 8: the ESP header must be whole octets",
			    spi, sn);
	if (a->align.set && a->align.val != 8 && a->align.val != 16 &&
	    a->align.val != 32 && a->align.val != 64)
		usage_error("\"align\" is 8, 16, 32 or 64 (bits), not %u",
			    a->align.val);
	ext->spi_lsb = a->spi_lsb;
	ext->sn_lsb = a->sn_lsb;
	ext->trailer.set = a->trailer >= 0;
	ext->trailer.val = a->trailer;
	ext->align = a->align;
}

/*
 * send_check - "send fixed rate N" and "send cc rate MAX [rate-min MIN]
 * reverse-spi SPI" into ext: an outbound IP-TFS SA with a packet size and
 * the AGGFRAG payload (RFC 9347 section 2.4.1: packets of one size at a
 * rate; section 2.4.2: congestion control, which needs the inbound SA
 * the peer's reports arrive on), "rate" and "reverse-spi" only with them,
 * "rate-min" only with cc, and "breaker" with "reverse-spi". The kernel
 * refuses the same.
 */
static void send_check(const struct sa_args *a, struct sa_ext *ext)
{
	const char *mode = a->send == XTFS_SEND_CC ? "send cc" : "send fixed";
	bool paced = a->send == XTFS_SEND_FIXED || a->send == XTFS_SEND_CC;

	if (a->rate_min.set && a->send != XTFS_SEND_CC)
		usage_error("\"rate-min\" is the lowest rate of \"send cc\": not without it");
	if (a->reverse_spi.set && !a->reverse_spi.val)
		usage_error("\"reverse-spi\" is the SPI of an inbound SA: not 0");
	if (a->breaker.set && !a->reverse_spi.set)
		usage_error("\"breaker\" needs \"reverse-spi SPI\", where the peer reports loss");
	if (a->rate.set && a->send < 0)
		usage_error("\"rate\" is the rate of \"send fixed\" or \"send cc\": give both");
	if ((a->rate.set || a->reverse_spi.set) && !paced)
		usage_error("\"%s\" is for \"send fixed\" or \"send cc\" only",
			    a->rate.set ? "rate" : "reverse-spi");
	if (a->send >= 0)
		need_iptfs(a, "send");
	if (!paced)
		return;
	if (!a->rate.set || !a->rate.val)
		usage_error("\"%s\" needs \"rate N\", %s packets per second (1 to %u)",
			    mode, a->send == XTFS_SEND_CC ? "the most outer" : "outer",
			    XTFS_RATE_MAX);
	if (a->rate_min.set && (!a->rate_min.val ||
				a->rate_min.val > a->rate.val))
		usage_error("\"rate-min\" is 1 to \"rate\" (%u), not %u",
			    a->rate.val, a->rate_min.val);
	if (a->send == XTFS_SEND_CC && !a->reverse_spi.set)
		usage_error("\"send cc\" needs \"reverse-spi SPI\", where the peer reports loss");
	if (!a->pkt_size.set || !a->pkt_size.val)
		usage_error("\"%s\" sends packets of one size: it needs \"pkt-size N\"",
			    mode);
	if (a->dir != XTFS_SA_DIR_OUT)
		usage_error("\"%s\" is for an outbound SA: it needs \"dir out\"",
			    mode);
	if (a->payload == XTFS_PAYLOAD_TUNNEL)
		usage_error("\"%s\" pads its packets: not with \"payload tunnel\"",
			    mode);
	ext->send = a->send;
	ext->rate = a->rate.val;
	ext->rate_min = a->rate_min;
	ext->reverse_spi = a->reverse_spi;
	if (a->breaker.set) {
		ext->breaker_loss = a->breaker.loss;
		ext->breaker_time = a->breaker.time;
	}
}

/* iiv_name - the name of an implicit IV transform ID, or its number. */
static const char *iiv_name(char *buf, size_t len, __u32 alg)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(iiv_algs); i++)
		if (iiv_algs[i].alg == alg)
			return iiv_algs[i].name;
	snprintf(buf, len, "%u", alg);
	return buf;
}

/* sa_parse - parse the words of a state command and check the SA ID. */
static void sa_parse(const struct kw *tbl, struct sa_args *a, int argc,
		     char **argv, const char *cmd, bool need_src)
{
	memset(a, 0, sizeof(*a));
	a->proto = IPPROTO_ESP;
	a->mode = XTFS_MODE_IPTFS;
	a->payload = -1;
	a->trailer = -1;
	a->send = -1;
	parse_keywords(tbl, a, argc, argv, cmd, false);
	if (need_src && !a->src.set)
		usage_error("\"%s\" needs \"src ADDR\"", cmd);
	if (!a->dst.set)
		usage_error("\"%s\" needs \"dst ADDR\"", cmd);
	if (!a->spi.set)
		usage_error("\"%s\" needs \"spi SPI\"", cmd);
	check_families(&a->src, &a->dst, cmd);
}

/* put_alg - append an algorithm attribute: header of hdr bytes + key. */
static void put_alg(struct nlmsghdr *nlh, __u16 type, const struct alg *a,
		    size_t hdr, bool with_bits)
{
	unsigned char buf[sizeof(struct xfrm_algo_aead) + XTFS_MAX_KEY];
	struct xfrm_algo_aead *x = (struct xfrm_algo_aead *)buf;

	/* xfrm_algo, _auth and _aead share name and key length; the
	 * latter two add one u32 (trunc/ICV length) before the key.
	 */
	memset(buf, 0, sizeof(buf));
	memcpy(x->alg_name, a->name, sizeof(x->alg_name));
	x->alg_key_len = a->key_len * 8;
	if (with_bits)
		x->alg_icv_len = a->bits;
	memcpy(buf + hdr, a->key, a->key_len);
	nl_put(nlh, type, hdr + a->key_len, buf);
}

/*
 * put_replay_esn - XFRMA_REPLAY_ESN_VAL: a window of a->replay packets,
 * and the sequence numbers to start from.
 */
static void put_replay_esn(struct nlmsghdr *nlh, const struct sa_args *a)
{
	struct xfrm_replay_state_esn *esn;
	__u32 rw = a->replay.val;
	__u32 words = (rw + 31) / 32;
	size_t len = sizeof(*esn) + words * sizeof(__u32);

	esn = calloc(1, len);
	if (!esn) {
		fprintf(stderr, "xtfs: out of memory\n");
		exit(XTFS_EXIT_FAIL);
	}
	esn->bmp_len = words;
	esn->replay_window = rw;
	esn->seq = a->seq.val;
	esn->seq_hi = a->seq_hi.val;
	esn->oseq = a->oseq.val;
	esn->oseq_hi = a->oseq_hi.val;
	nl_put(nlh, XFRMA_REPLAY_ESN_VAL, len, esn);
	free(esn);
}

/* put_opt_u32 - append a u32 attribute if the option was given. */
static void put_opt_u32(struct nlmsghdr *nlh, __u16 type,
			const struct opt_u32 *o)
{
	if (o->set)
		nl_put_u32(nlh, type, o->val);
}

/*
 * state_add - XFRM_MSG_NEWSA from "state add" words. With "iiv" or
 * "payload tunnel" these settings are staged first over the xtfs family
 * (whose socket stays open until the NEWSA is answered, see sa_stage())
 * and withdrawn again if the NEWSA fails.
 */
int state_add(int argc, char **argv)
{
	struct xfrm_usersa_info *p;
	struct nlmsghdr *nlh;
	struct sa_args a;
	struct sa_ext ext = { 0 };
	bool esn_attr, was, staged;
	struct opt_u32 mark;
	int ret;

	sa_parse(sa_add_kw, &a, argc, argv, "state add", true);
	if (a.aead.set && (a.enc.set || a.auth.set || a.auth_trunc.set))
		usage_error("\"aead\" cannot be combined with \"enc\", \"auth\" or \"auth-trunc\"");
	if (a.auth.set && a.auth_trunc.set)
		usage_error("\"auth\" and \"auth-trunc\" are alternatives; give one");
	if ((a.seq_hi.set || a.oseq_hi.set) && !(a.flags & XFRM_STATE_ESN))
		usage_error("\"replay-seq-hi\" and \"replay-oseq-hi\" need \"flag esn\"");
	if (a.iiv)
		ext.iiv = iiv_alg(&a, "iiv");
	payload_check(&a);
	if (a.payload > 0)
		ext.payload = a.payload;
	diet_check(&a, &ext);
	if (a.iipc.set) {
		if (a.payload != XTFS_PAYLOAD_TUNNEL)
			usage_error("\"iipc\" compresses one inner packet per ESP packet: it needs \"payload tunnel\"");
		ext.iipc = &a.iipc;
	}
	send_check(&a, &ext);
	staged = ext.iiv || ext.payload || ext.spi_lsb.set || ext.sn_lsb.set ||
		 ext.trailer.set || ext.align.set || ext.send;
	/* Staged by the mark value the SA gets: none without XFRMA_MARK. */
	mark.set = a.mark.set && a.mark.m;
	mark.val = mark.set ? a.mark.v : 0;

	/* Before the NEWSA is built: both use the one request buffer. */
	if (staged && sa_stage(a.dst.family, &a.dst.a, htonl(a.spi.val), &mark,
			       &ext))
		return -1;

	nlh = nl_msg(XFRM_MSG_NEWSA, NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK);
	p = nl_extra(nlh, sizeof(*p));
	sel_fill(&p->sel, &a.sel, "sel");
	p->id.daddr = a.dst.a;
	p->id.spi = htonl(a.spi.val);
	p->id.proto = a.proto;
	p->saddr = a.src.a;
	p->family = a.src.family;
	p->mode = a.mode;
	p->reqid = a.reqid.val;
	p->flags = a.flags;
	p->lft.soft_byte_limit = XFRM_INF;
	p->lft.hard_byte_limit = XFRM_INF;
	p->lft.soft_packet_limit = XFRM_INF;
	p->lft.hard_packet_limit = XFRM_INF;

	/*
	 * ESN needs XFRMA_REPLAY_ESN_VAL, and so does a window wider than
	 * the 32-bit legacy bitmap or a replay state to start from; the
	 * legacy field must then stay 0.
	 */
	esn_attr = (a.flags & XFRM_STATE_ESN) || a.replay.val > 32 ||
		   a.seq.set || a.seq_hi.set || a.oseq.set || a.oseq_hi.set;
	if (esn_attr)
		put_replay_esn(nlh, &a);
	else
		p->replay_window = a.replay.val;

	if (a.aead.set)
		put_alg(nlh, XFRMA_ALG_AEAD, &a.aead,
			offsetof(struct xfrm_algo_aead, alg_key), true);
	if (a.enc.set)
		put_alg(nlh, XFRMA_ALG_CRYPT, &a.enc,
			offsetof(struct xfrm_algo, alg_key), false);
	if (a.auth.set)
		put_alg(nlh, XFRMA_ALG_AUTH, &a.auth,
			offsetof(struct xfrm_algo, alg_key), false);
	if (a.auth_trunc.set)
		put_alg(nlh, XFRMA_ALG_AUTH_TRUNC, &a.auth_trunc,
			offsetof(struct xfrm_algo_auth, alg_key), true);
	if (a.dir)
		nl_put_u8(nlh, XTFS_XFRMA_SA_DIR, a.dir);
	put_opt_u32(nlh, XTFS_XFRMA_IF_ID, &a.if_id);
	mark_put(nlh, &a.mark);
	if (a.encap.set) {
		struct xfrm_encap_tmpl e = {
			.encap_type = a.encap.type,
			.encap_sport = htons(a.encap.sport),
			.encap_dport = htons(a.encap.dport),
			.encap_oa = a.encap.oa.a,
		};

		nl_put(nlh, XFRMA_ENCAP, sizeof(e), &e);
	}
	put_opt_u32(nlh, XTFS_XFRMA_IPTFS_PKT_SIZE, &a.pkt_size);
	put_opt_u32(nlh, XTFS_XFRMA_IPTFS_INIT_DELAY, &a.init_delay);
	if (a.dont_frag)
		nl_put(nlh, XTFS_XFRMA_IPTFS_DONT_FRAG, 0, NULL);
	put_opt_u32(nlh, XTFS_XFRMA_IPTFS_MAX_QSIZE, &a.max_qsize);
	put_opt_u32(nlh, XTFS_XFRMA_IPTFS_DROP_TIME, &a.drop_time);
	if (a.reorder.set)
		nl_put_u16(nlh, XTFS_XFRMA_IPTFS_REORDER_WINDOW, a.reorder.val);

	ret = nl_talk(nlh, false, NULL, NULL);
	if (ret && staged) {
		/* The NEWSA error is printed; the withdrawal's is not. */
		was = nl_quiet(true);
		sa_stage(a.dst.family, &a.dst.a, htonl(a.spi.val), &mark, NULL);
		nl_quiet(was);
	}
	return ret;
}

/* sa_id_request - XFRM_MSG_DELSA/GETSA for the SA named by the words. */
static int sa_id_request(int argc, char **argv, const char *cmd,
			 __u16 type, nl_cb cb, void *data)
{
	struct xfrm_usersa_id *id;
	struct nlmsghdr *nlh;
	struct sa_args a;

	sa_parse(sa_id_kw, &a, argc, argv, cmd, false);
	nlh = nl_msg(type, NLM_F_ACK);
	id = nl_extra(nlh, sizeof(*id));
	id->daddr = a.dst.a;
	id->spi = htonl(a.spi.val);
	id->family = a.dst.family;
	id->proto = a.proto;
	if (a.src.set)
		nl_put(nlh, XFRMA_SRCADDR, sizeof(a.src.a), &a.src.a);
	mark_put(nlh, &a.mark);
	return nl_talk(nlh, false, cb, data);
}

/* state_del - "state del": XFRM_MSG_DELSA. */
int state_del(int argc, char **argv)
{
	return sa_id_request(argc, argv, "state del", XFRM_MSG_DELSA, NULL,
			     NULL);
}

/* --- printing ------------------------------------------------------------ */

/* alg_attr - an algorithm attribute whose key fits its payload, or NULL. */
static const struct xfrm_algo *alg_attr(const struct nlattr *a, size_t hdr)
{
	const struct xfrm_algo *alg = nl_attr_data(a, hdr);

	if (!alg ||
	    mnl_attr_get_payload_len(a) < hdr + ((size_t)alg->alg_key_len + 7) / 8)
		return NULL;
	return alg;
}

/* alg_name - the NUL-terminated algorithm name of an attribute. */
static const char *alg_name(char *buf, const struct xfrm_algo *alg)
{
	memcpy(buf, alg->alg_name, sizeof(alg->alg_name));
	buf[sizeof(alg->alg_name)] = '\0';
	return buf;
}

/* print_key - a key as 0x-hex, or "" when empty. */
static void print_key(const struct xfrm_algo *alg, size_t hdr)
{
	const unsigned char *key = (const unsigned char *)alg + hdr;
	size_t i, n = ((size_t)alg->alg_key_len + 7) / 8;

	if (!n) {
		fputs(" \"\"", out);
		return;
	}
	fputs(" 0x", out);
	for (i = 0; i < n; i++)
		fprintf(out, "%02x", key[i]);
}

/* attr_u32 - read a u32 attribute if present. */
static bool attr_u32(const struct nlattr *a, __u32 *v)
{
	const void *d = nl_attr_data(a, sizeof(*v));

	if (d)
		memcpy(v, d, sizeof(*v));
	return d;
}

/* The IP-TFS attributes as printed: text word, JSON key, type. */
static const struct {
	__u16 type;
	const char *text;
	const char *json;
} iptfs_attrs[] = {
	{ XTFS_XFRMA_IPTFS_PKT_SIZE, "pkt-size", "pkt_size" },
	{ XTFS_XFRMA_IPTFS_INIT_DELAY, "init-delay", "init_delay" },
	{ XTFS_XFRMA_IPTFS_MAX_QSIZE, "max-queue-size", "max_queue_size" },
	{ XTFS_XFRMA_IPTFS_DONT_FRAG, "dont-frag", "dont_frag" },
	{ XTFS_XFRMA_IPTFS_DROP_TIME, "drop-time", "drop_time" },
	{ XTFS_XFRMA_IPTFS_REORDER_WINDOW, "reorder-window", "reorder_window" },
};

/*
 * iptfs_value - the value of an IP-TFS attribute: 1 for a present flag,
 * the number otherwise. Returns false if absent or malformed.
 */
static bool iptfs_value(const struct nlattr *const *tb, __u16 type,
			__u32 *v)
{
	const void *d;

	if (!tb[type])
		return false;
	if (type == XTFS_XFRMA_IPTFS_DONT_FRAG) {
		*v = 1;
		return true;
	}
	if (type == XTFS_XFRMA_IPTFS_REORDER_WINDOW) {
		__u16 w;

		d = nl_attr_data(tb[type], sizeof(w));
		if (!d)
			return false;
		memcpy(&w, d, sizeof(w));
		*v = w;
		return true;
	}
	return attr_u32(tb[type], v);
}

/* The SA fields printed in both formats, decoded once. */
struct sa_view {
	struct xfrm_usersa_info p;
	const struct nlattr *tb[XTFS_XFRMA_MAX + 1];
	const struct xfrm_algo *aead, *enc, *auth, *auth_trunc;
	const struct xfrm_replay_state_esn *esn;
	const struct xfrm_replay_state *replay;
	const struct xfrm_mark *mark;	/* XFRMA_MARK, or NULL */
	__u32 replay_window;
	char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN];
	char sel_src[INET6_ADDRSTRLEN + 4], sel_dst[INET6_ADDRSTRLEN + 4];
	const char *mode, *proto, *family, *dir;
	char mode_buf[12], proto_buf[12];
	int dir_val;
	const struct sa_stats *xs;	/* what xtfs reported, or NULL */
	const char *iiv;		/* implicit IV algorithm, or NULL */
	char iiv_buf[12];
	const char *payload;		/* what xtfs reported, or NULL */
	char payload_buf[12];
};

/* sa_decode - fill a sa_view from an XFRM_MSG_NEWSA message. */
static int sa_decode(const struct nlmsghdr *nlh, struct sa_view *v)
{
	const struct xfrm_selector *sel = &v->p.sel;
	const struct nlattr **tb = v->tb;
	const __u8 *dir;
	int sel_family;

	if (nl_attrs(nlh, sizeof(v->p), tb) < 0)
		return -1;
	memcpy(&v->p, mnl_nlmsg_get_payload(nlh), sizeof(v->p));

	v->aead = alg_attr(tb[XFRMA_ALG_AEAD],
			   offsetof(struct xfrm_algo_aead, alg_key));
	v->enc = alg_attr(tb[XFRMA_ALG_CRYPT],
			  offsetof(struct xfrm_algo, alg_key));
	v->auth = alg_attr(tb[XFRMA_ALG_AUTH],
			   offsetof(struct xfrm_algo, alg_key));
	v->auth_trunc = alg_attr(tb[XFRMA_ALG_AUTH_TRUNC],
				 offsetof(struct xfrm_algo_auth, alg_key));
	v->esn = nl_attr_data(tb[XFRMA_REPLAY_ESN_VAL], sizeof(*v->esn));
	v->replay = nl_attr_data(tb[XFRMA_REPLAY_VAL], sizeof(*v->replay));
	v->replay_window = v->esn ? v->esn->replay_window : v->p.replay_window;

	fmt_addr(v->src, sizeof(v->src), v->p.family, &v->p.saddr);
	fmt_addr(v->dst, sizeof(v->dst), v->p.family, &v->p.id.daddr);
	v->family = val_name(family_names, v->p.family);
	v->mode = val_name(mode_show_names, v->p.mode);
	if (!v->mode) {
		snprintf(v->mode_buf, sizeof(v->mode_buf), "%u", v->p.mode);
		v->mode = v->mode_buf;
	}
	v->proto = v->p.id.proto == IPPROTO_ESP ? "esp" :
		   v->p.id.proto == IPPROTO_AH ? "ah" :
		   v->p.id.proto == IPPROTO_COMP ? "comp" : NULL;
	if (!v->proto) {
		snprintf(v->proto_buf, sizeof(v->proto_buf), "%u",
			 v->p.id.proto);
		v->proto = v->proto_buf;
	}
	dir = nl_attr_data(tb[XTFS_XFRMA_SA_DIR], 1);
	v->dir_val = dir ? *dir : 0;
	v->dir = dir ? val_name(sa_dir_names, *dir) : NULL;
	/* An AF_UNSPEC selector still has addresses: show them as ip does. */
	sel_family = sel->family ? sel->family : v->p.family;
	fmt_prefix(v->sel_src, sizeof(v->sel_src), sel_family, &sel->saddr,
		   sel->prefixlen_s);
	fmt_prefix(v->sel_dst, sizeof(v->sel_dst), sel_family, &sel->daddr,
		   sel->prefixlen_d);
	v->mark = nl_attr_data(tb[XFRMA_MARK], sizeof(*v->mark));
	if (v->p.id.proto == IPPROTO_ESP &&
	    (v->p.family == AF_INET || v->p.family == AF_INET6))
		v->xs = sa_stats_find(v->p.family, &v->p.saddr,
				      &v->p.id.daddr, v->p.id.spi,
				      v->mark ? v->mark->v : 0,
				      v->p.mode == XTFS_MODE_IPTFS);
	if (v->xs && v->xs->iiv)
		v->iiv = iiv_name(v->iiv_buf, sizeof(v->iiv_buf), v->xs->iiv);
	if (v->xs && v->xs->payload >= 0) {
		v->payload = val_name(payload_names, v->xs->payload);
		if (!v->payload) {
			snprintf(v->payload_buf, sizeof(v->payload_buf), "%d",
				 v->xs->payload);
			v->payload = v->payload_buf;
		}
	}
	return 0;
}

/* iptfs_text_word - start the next word of the text "iptfs" line. */
static void iptfs_text_word(unsigned int *printed)
{
	fputs((*printed)++ ? " " : "\tiptfs ", out);
}

/* iptfs_json_member - open the JSON "iptfs" object at its first member. */
static void iptfs_json_member(unsigned int *printed)
{
	if (!(*printed)++)
		jw_obj_open("iptfs");
}

/*
 * diet_text - the Diet-ESP words of the iptfs line, those not at their
 * default, as "state add" takes them.
 */
static void diet_text(FILE *f, const struct sa_stats *xs,
		      unsigned int *printed)
{
	const char *t = val_name(trailer_names, xs->trailer);

	if (xs->spi_lsb != XTFS_DIET_LSB_FULL) {
		iptfs_text_word(printed);
		fprintf(f, "spi-lsb %u", xs->spi_lsb);
	}
	if (xs->sn_lsb != XTFS_DIET_LSB_FULL) {
		iptfs_text_word(printed);
		fprintf(f, "sn-lsb %u", xs->sn_lsb);
	}
	if (xs->trailer != XTFS_TRAILER_MANDATORY) {
		iptfs_text_word(printed);
		if (t)
			fprintf(f, "trailer %s", t);
		else
			fprintf(f, "trailer %u", xs->trailer);
	}
	if (xs->align != XTFS_DIET_ALIGN_DEF) {
		iptfs_text_word(printed);
		fprintf(f, "align %u", xs->align);
	}
}

/*
 * send_text - the sending mode words of the iptfs line, as "state add"
 * takes them, when not on demand: "send fixed rate N" or "send cc rate
 * MAX rate-min MIN", then "reverse-spi SPI", "breaker LOSS TIME" and,
 * once the breaker tripped, "broken".
 */
static void send_text(const struct sa_stats *xs, unsigned int *printed)
{
	const char *m = val_name(send_names, xs->send);

	if (xs->send != XTFS_SEND_DEMAND) {
		iptfs_text_word(printed);
		if (m)
			fprintf(out, "send %s rate %u", m, xs->rate);
		else
			fprintf(out, "send %u rate %u", xs->send, xs->rate);
		if (xs->send == XTFS_SEND_CC)
			fprintf(out, " rate-min %u", xs->rate_min);
	}
	if (xs->has_reverse_spi) {
		iptfs_text_word(printed);
		fprintf(out, "reverse-spi 0x%08x", ntohl(xs->reverse_spi));
	}
	if (xs->breaker_loss) {
		iptfs_text_word(printed);
		fprintf(out, "breaker %u %u", xs->breaker_loss,
			xs->breaker_time);
	}
	if (xs->broken) {
		iptfs_text_word(printed);
		fputs("broken", out);
	}
}

/* send_json - the members of send_text() in the JSON "iptfs" object. */
static void send_json(const struct sa_stats *xs, unsigned int *printed)
{
	if (xs->send != XTFS_SEND_DEMAND) {
		iptfs_json_member(printed);
		jw_str("send", val_name(send_names, xs->send) ?: "unknown");
		jw_uint("rate", xs->rate);
		if (xs->send == XTFS_SEND_CC)
			jw_uint("rate_min", xs->rate_min);
	}
	if (xs->has_reverse_spi) {
		iptfs_json_member(printed);
		jw_uint("reverse_spi", ntohl(xs->reverse_spi));
	}
	if (xs->breaker_loss) {
		iptfs_json_member(printed);
		jw_uint("breaker_loss_ppm", xs->breaker_loss);
		jw_uint("breaker_time_ms", xs->breaker_time);
	}
	if (xs->breaker_loss || xs->broken) {
		iptfs_json_member(printed);
		jw_bool("broken", xs->broken);
	}
}

/* sa_print_text - one SA in the style of "ip xfrm state". */
static void sa_print_text(const struct sa_view *v)
{
	const struct xfrm_usersa_info *p = &v->p;
	const struct name_val *f;
	char name[sizeof(((struct xfrm_algo *)0)->alg_name) + 1];
	unsigned int i, printed = 0;
	__u32 val;

	fprintf(out, "src %s dst %s\n", v->src, v->dst);
	fprintf(out, "\tproto %s spi 0x%08x reqid %u mode %s\n", v->proto,
		ntohl(p->id.spi), p->reqid, v->mode);
	fprintf(out, "\treplay-window %u", v->replay_window);
	if (p->flags) {
		unsigned int rest = p->flags;

		fputs(" flag", out);
		for (f = sa_flag_names; f->name; f++) {
			if (p->flags & f->val) {
				fprintf(out, " %s", f->name);
				rest &= ~f->val;
			}
		}
		if (rest)
			fprintf(out, " 0x%x", rest);
	}
	fputc('\n', out);
	if (v->aead) {
		fprintf(out, "\taead %s", alg_name(name, v->aead));
		print_key(v->aead, offsetof(struct xfrm_algo_aead, alg_key));
		fprintf(out, " %u\n",
			((const struct xfrm_algo_aead *)v->aead)->alg_icv_len);
	}
	if (v->enc) {
		fprintf(out, "\tenc %s", alg_name(name, v->enc));
		print_key(v->enc, offsetof(struct xfrm_algo, alg_key));
		fputc('\n', out);
	}
	if (v->auth_trunc) {
		fprintf(out, "\tauth-trunc %s", alg_name(name, v->auth_trunc));
		print_key(v->auth_trunc,
			  offsetof(struct xfrm_algo_auth, alg_key));
		fprintf(out, " %u\n", ((const struct xfrm_algo_auth *)
				       v->auth_trunc)->alg_trunc_len);
	} else if (v->auth) {
		fprintf(out, "\tauth %s", alg_name(name, v->auth));
		print_key(v->auth, offsetof(struct xfrm_algo, alg_key));
		fputc('\n', out);
	}
	if (v->esn)
		fprintf(out, "\tanti-replay esn context: seq %u seq-hi %u oseq %u oseq-hi %u\n",
			v->esn->seq, v->esn->seq_hi, v->esn->oseq,
			v->esn->oseq_hi);
	else if (v->replay)
		fprintf(out, "\tanti-replay context: seq %u oseq %u bitmap 0x%08x\n",
			v->replay->seq, v->replay->oseq, v->replay->bitmap);
	fprintf(out, "\tsel src %s dst %s", v->sel_src, v->sel_dst);
	sel_print_upspec(out, &p->sel);
	fputc('\n', out);
	if (v->mark)
		fprintf(out, "\tmark 0x%x/0x%x\n", v->mark->v, v->mark->m);
	if (v->dir)
		fprintf(out, "\tdir %s\n", v->dir);
	else if (v->dir_val)
		fprintf(out, "\tdir %u\n", v->dir_val);
	if (attr_u32(v->tb[XTFS_XFRMA_IF_ID], &val))
		fprintf(out, "\tif_id %u\n", val);
	for (i = 0; i < ARRAY_SIZE(iptfs_attrs); i++) {
		if (!iptfs_value(v->tb, iptfs_attrs[i].type, &val))
			continue;
		iptfs_text_word(&printed);
		if (iptfs_attrs[i].type == XTFS_XFRMA_IPTFS_DONT_FRAG)
			fputs(iptfs_attrs[i].text, out);
		else
			fprintf(out, "%s %u", iptfs_attrs[i].text, val);
	}
	if (v->iiv) {
		iptfs_text_word(&printed);
		fprintf(out, "iiv %s", v->iiv);
	}
	if (v->xs && v->xs->diet)
		diet_text(out, v->xs, &printed);
	/* AGGFRAG, the default, goes without saying. */
	if (v->payload && v->xs->payload != XTFS_PAYLOAD_AGGFRAG) {
		iptfs_text_word(&printed);
		fprintf(out, "payload %s", v->payload);
	}
	if (v->xs)
		send_text(v->xs, &printed);
	if (printed)
		fputc('\n', out);
	if (v->xs && v->xs->iipc.on)
		iipc_print_text(out, &v->xs->iipc);
	fprintf(out, "\tstats replay-window %u replay %u integrity-failed %u\n",
		p->stats.replay_window, p->stats.replay,
		p->stats.integrity_failed);
	if (v->xs && opts.stats)
		stats_print_text(v->xs, "\txtfs ");
	fprintf(out, "\tlifetime bytes %llu packets %llu\n",
		(unsigned long long)p->curlft.bytes,
		(unsigned long long)p->curlft.packets);
}

/* sa_print_json - one SA as a JSON object. */
static void sa_print_json(const struct sa_view *v)
{
	const struct xfrm_usersa_info *p = &v->p;
	const struct name_val *f;
	char name[sizeof(((struct xfrm_algo *)0)->alg_name) + 1];
	unsigned int i, printed = 0;
	__u32 val;

	jw_obj_open(NULL);
	jw_str("src", v->src);
	jw_str("dst", v->dst);
	jw_str("family", v->family);
	jw_str("proto", v->proto);
	jw_uint("spi", ntohl(p->id.spi));
	jw_uint("reqid", p->reqid);
	jw_str("mode", v->mode);
	if (v->dir || !v->dir_val)
		jw_str("dir", v->dir);
	else
		jw_uint("dir", v->dir_val);
	if (v->aead) {
		jw_obj_open("aead");
		jw_str("name", alg_name(name, v->aead));
		jw_uint("key_bits", v->aead->alg_key_len);
		jw_uint("icv_bits",
			((const struct xfrm_algo_aead *)v->aead)->alg_icv_len);
		jw_obj_close();
	}
	if (v->enc) {
		jw_obj_open("enc");
		jw_str("name", alg_name(name, v->enc));
		jw_uint("key_bits", v->enc->alg_key_len);
		jw_obj_close();
	}
	if (v->auth_trunc || v->auth) {
		const struct xfrm_algo *a = v->auth_trunc ? v->auth_trunc :
							    v->auth;

		jw_obj_open("auth");
		jw_str("name", alg_name(name, a));
		jw_uint("key_bits", a->alg_key_len);
		if (v->auth_trunc)
			jw_uint("trunc_bits", ((const struct xfrm_algo_auth *)
					       a)->alg_trunc_len);
		jw_obj_close();
	}
	jw_uint("replay_window", v->replay_window);
	jw_arr_open("flags");
	for (f = sa_flag_names; f->name; f++)
		if (p->flags & f->val)
			jw_str(NULL, f->name);
	jw_arr_close();
	jw_obj_open("sel");
	jw_str("src", v->sel_src);
	jw_str("dst", v->sel_dst);
	jw_str("family", val_name(family_names, p->sel.family));
	sel_json_upspec(&p->sel);
	jw_obj_close();
	if (v->mark) {
		jw_obj_open("mark");
		jw_uint("value", v->mark->v);
		jw_uint("mask", v->mark->m);
		jw_obj_close();
	}
	if (attr_u32(v->tb[XTFS_XFRMA_IF_ID], &val))
		jw_uint("if_id", val);
	for (i = 0; i < ARRAY_SIZE(iptfs_attrs); i++) {
		if (!iptfs_value(v->tb, iptfs_attrs[i].type, &val))
			continue;
		iptfs_json_member(&printed);
		if (iptfs_attrs[i].type == XTFS_XFRMA_IPTFS_DONT_FRAG)
			jw_bool(iptfs_attrs[i].json, true);
		else
			jw_uint(iptfs_attrs[i].json, val);
	}
	if (v->iiv) {
		iptfs_json_member(&printed);
		jw_str("iiv", v->iiv);
	}
	if (v->xs && v->xs->diet) {
		iptfs_json_member(&printed);
		jw_uint("spi_lsb", v->xs->spi_lsb);
		jw_uint("sn_lsb", v->xs->sn_lsb);
		jw_str("trailer", val_name(trailer_names, v->xs->trailer) ?:
				  "unknown");
		jw_uint("align", v->xs->align);
	}
	if (v->payload) {
		iptfs_json_member(&printed);
		jw_str("payload", v->payload);
	}
	if (v->xs && v->xs->iipc.on) {
		iptfs_json_member(&printed);
		iipc_print_json(&v->xs->iipc);
	}
	if (v->xs)
		send_json(v->xs, &printed);
	if (printed)
		jw_obj_close();
	if (v->esn || v->replay) {
		jw_obj_open("replay_state");
		jw_uint("seq", v->esn ? v->esn->seq : v->replay->seq);
		jw_uint("oseq", v->esn ? v->esn->oseq : v->replay->oseq);
		if (v->esn) {
			jw_uint("seq_hi", v->esn->seq_hi);
			jw_uint("oseq_hi", v->esn->oseq_hi);
		}
		jw_obj_close();
	}
	jw_obj_open("stats");
	jw_uint("replay_window", p->stats.replay_window);
	jw_uint("replay", p->stats.replay);
	jw_uint("integrity_failed", p->stats.integrity_failed);
	if (v->xs && opts.stats)
		stats_print_json(v->xs);
	jw_obj_close();
	jw_obj_open("curlft");
	jw_uint("bytes", p->curlft.bytes);
	jw_uint("packets", p->curlft.packets);
	jw_obj_close();
	jw_obj_close();
}

/* The filters of "state list": those given must all match. */
struct sa_filter {
	struct xaddr src;		/* prefixes */
	struct xaddr dst;
	int proto;			/* -1: any */
	struct opt_u32 spi;
	int mode;			/* -1: any */
	struct opt_u32 reqid;
};

/* The protocols of SAs that "state list" can pick. */
static const struct name_val xfrm_proto_names[] = {
	{ "esp", IPPROTO_ESP },
	{ "ah", IPPROTO_AH },
	{ "comp", IPPROTO_COMP },
	{ NULL, 0 },
};

/* The SAs "state get" prints: all. */
static const struct sa_filter sa_all = { .proto = -1, .mode = -1 };

/* Where sa_cb counts the SAs it printed, and which it prints. */
struct sa_cb_data {
	unsigned int n;
	const struct sa_filter *f;
};

/* prefix_match - an address of a family within a prefix (if one is set). */
static bool prefix_match(const struct xaddr *pfx, __u16 family,
			 const xfrm_address_t *a)
{
	const unsigned char *x = (const unsigned char *)&pfx->a;
	const unsigned char *y = (const unsigned char *)a;
	unsigned int bytes = pfx->plen / 8, bits = pfx->plen % 8;

	if (!pfx->set)
		return true;
	if (pfx->family != family || memcmp(x, y, bytes))
		return false;
	return !bits || !((x[bytes] ^ y[bytes]) & (0xff00 >> bits));
}

/* sa_filter_match - an SA passes every filter of "state list". */
static bool sa_filter_match(const struct sa_filter *f,
			    const struct xfrm_usersa_info *p)
{
	return prefix_match(&f->src, p->family, &p->saddr) &&
	       prefix_match(&f->dst, p->family, &p->id.daddr) &&
	       (f->proto < 0 || f->proto == p->id.proto) &&
	       (!f->spi.set || f->spi.val == ntohl(p->id.spi)) &&
	       (f->mode < 0 || f->mode == p->mode) &&
	       (!f->reqid.set || f->reqid.val == p->reqid);
}

/* sa_cb - print each XFRM_MSG_NEWSA of a reply that the filter passes. */
static int sa_cb(const struct nlmsghdr *nlh, void *data)
{
	struct sa_cb_data *d = data;
	struct sa_view v;

	if (nlh->nlmsg_type != XFRM_MSG_NEWSA)
		return 0;
	memset(&v, 0, sizeof(v));
	if (sa_decode(nlh, &v) < 0) {
		fprintf(stderr, "xtfs: malformed SA message from the kernel\n");
		return -1;
	}
	if (!sa_filter_match(d->f, &v.p))
		return 0;
	if (opts.json)
		sa_print_json(&v);
	else
		sa_print_text(&v);
	d->n++;
	return 0;
}

/* state_get - "state get": XFRM_MSG_GETSA for one SA. */
int state_get(int argc, char **argv)
{
	struct sa_cb_data d = { .f = &sa_all };
	int ret;

	stats_for_states();
	ret = sa_id_request(argc, argv, "state get", XFRM_MSG_GETSA, sa_cb,
			    &d);
	if (!ret && opts.json && d.n)
		jw_end();
	return ret;
}

#define SF(f)		offsetof(struct sa_filter, f)

/* The filters of "state list", those of "ip xfrm state list". */
static const struct kw list_kw[] = {
	{ .name = "src", .fn = kw_prefix, .nargs = 1, .off = SF(src) },
	{ .name = "dst", .fn = kw_prefix, .nargs = 1, .off = SF(dst) },
	{ .name = "proto", .fn = kw_name, .nargs = 1, .off = SF(proto),
	  .names = xfrm_proto_names },
	{ .name = "spi", .fn = kw_u32, .nargs = 1, .off = SF(spi),
	  .max = UINT32_MAX },
	{ .name = "mode", .fn = kw_name, .nargs = 1, .off = SF(mode),
	  .names = mode_show_names },
	{ .name = "reqid", .fn = kw_u32, .nargs = 1, .off = SF(reqid),
	  .max = UINT32_MAX },
	{ .name = NULL },
};

/*
 * state_list - "state list [src PFX] [dst PFX] [proto esp] [spi SPI]
 * [mode MODE] [reqid N]": dump the SAs, print those that match.
 */
int state_list(int argc, char **argv)
{
	struct sa_filter f = sa_all;
	struct sa_cb_data d = { .f = &f };
	struct nlmsghdr *nlh;
	int ret;

	parse_keywords(list_kw, &f, argc, argv, "state list", false);
	check_families(&f.src, &f.dst, "state list");
	stats_for_states();
	nlh = nl_msg(XFRM_MSG_GETSA, NLM_F_DUMP);
	if (opts.json)
		jw_arr_open(NULL);
	ret = nl_talk(nlh, true, sa_cb, &d);
	if (opts.json) {
		jw_arr_close();
		jw_end();
	}
	return ret;
}

static const struct kw flush_kw[] = {
	{ .name = "proto", .fn = kw_name, .nargs = 1, .off = 0,
	  .names = proto_names },
	{ .name = NULL },
};

/* state_flush - "state flush": XFRM_MSG_FLUSHSA for ESP SAs. */
int state_flush(int argc, char **argv)
{
	struct xfrm_usersa_flush *f;
	struct nlmsghdr *nlh;
	int proto = IPPROTO_ESP;

	parse_keywords(flush_kw, &proto, argc, argv, "state flush", false);
	nlh = nl_msg(XFRM_MSG_FLUSHSA, NLM_F_ACK);
	f = nl_extra(nlh, sizeof(*f));
	f->proto = proto;
	return nl_talk(nlh, false, NULL, NULL);
}
