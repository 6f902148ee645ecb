// SPDX-License-Identifier: GPL-2.0
/*
 * xtfs generic netlink family "xtfs" (Documentation/netlink/specs/xtfs.yaml):
 * per-SA counters of the IP-TFS SAs served by xtfs, and the extension
 * settings staged for an SA before xfrm netlink creates it.
 *
 * The family is per network namespace: every request works on the SAs of
 * the requesting socket's namespace, as xfrm netlink does.
 */
#include <linux/hashtable.h>
#include <linux/jhash.h>
#include <linux/log2.h>
#include <linux/mutex.h>
#include <linux/netlink.h>
#include <linux/notifier.h>
#include <linux/random.h>
#include <linux/socket.h>
#include <linux/stringify.h>
#include <net/genetlink.h>
#include <net/net_namespace.h>
#include <net/netns/generic.h>
#include <net/netlink.h>
#include <net/xfrm.h>

#include "xtfs.h"

/* The counter attributes follow enum xtfs_counter (uapi/linux/xtfs.h). */
static_assert(XTFS_A_STATS_CNT(0) == XTFS_A_STATS_INNER_OUT_PKTS);
static_assert(XTFS_A_STATS_CNT(XTFS_CNT_MAX - 1) == XTFS_A_STATS_MAX);
static_assert(XTFS_A_STATS_CNT(0) > XTFS_A_STATS_PAD);

/* An outer address: 4 octets for AF_INET, 16 for AF_INET6. */
#define XTFS_POLICY_ADDR \
	NLA_POLICY_RANGE(NLA_BINARY, sizeof(struct in_addr), \
			 sizeof(struct in6_addr))

/* An attribute refused in a request, with the extended ACK message @msg. */
#define XTFS_REJECT(msg)	{ .type = NLA_REJECT, .reject_message = (msg) }

/* Request policy of XTFS_CMD_SA_GET (do): exact types and lengths. */
static const struct nla_policy xtfs_sa_get_do_policy[XTFS_A_SA_MAX + 1] = {
	[XTFS_A_SA_FAMILY]	= { .type = NLA_U16 },
	[XTFS_A_SA_SADDR]	= XTFS_POLICY_ADDR,
	[XTFS_A_SA_DADDR]	= XTFS_POLICY_ADDR,
	[XTFS_A_SA_SPI]		= { .type = NLA_BE32 },
	[XTFS_A_SA_MARK]	= { .type = NLA_U32 },
	/* Reply-only attributes are refused in requests. */
	[XTFS_A_SA_DIR]		= XTFS_REJECT("SA direction is reply-only"),
	[XTFS_A_SA_STATS]	= XTFS_REJECT("SA counters are reply-only"),
	[XTFS_A_SA_IIV]		= XTFS_REJECT("SA implicit IV is reply-only"),
	[XTFS_A_SA_PAYLOAD]	= XTFS_REJECT("SA payload format is reply-only"),
	[XTFS_A_SA_SPI_LSB]	= XTFS_REJECT("SA Diet-ESP settings are reply-only"),
	[XTFS_A_SA_SN_LSB]	= XTFS_REJECT("SA Diet-ESP settings are reply-only"),
	[XTFS_A_SA_TRAILER]	= XTFS_REJECT("SA Diet-ESP settings are reply-only"),
	[XTFS_A_SA_ALIGN]	= XTFS_REJECT("SA Diet-ESP settings are reply-only"),
	[XTFS_A_SA_IIPC]	= XTFS_REJECT("SA Diet-ESP settings are reply-only"),
	[XTFS_A_SA_SEND]	= XTFS_REJECT("SA sending mode is reply-only"),
	[XTFS_A_SA_RATE]	= XTFS_REJECT("SA sending mode is reply-only"),
	[XTFS_A_SA_RATE_MIN]	= XTFS_REJECT("SA sending mode is reply-only"),
	[XTFS_A_SA_REVERSE_SPI]	= XTFS_REJECT("SA sending mode is reply-only"),
	[XTFS_A_SA_BREAKER_LOSS] = XTFS_REJECT("SA circuit breaker is reply-only"),
	[XTFS_A_SA_BREAKER_TIME] = XTFS_REJECT("SA circuit breaker is reply-only"),
	[XTFS_A_SA_BROKEN]	= XTFS_REJECT("SA circuit breaker is reply-only"),
};

/* Outer packets per second of a fixed-rate SA, or a bound of a
 * congestion-controlled one.
 */
static const struct netlink_range_validation xtfs_rate_range = {
	.min = 1,
	.max = XTFS_RATE_MAX,
};

/* Circuit breaker threshold (ppm) and time (ms). */
static const struct netlink_range_validation xtfs_brk_loss_range = {
	.min = 1,
	.max = XTFS_PPM,
};

static const struct netlink_range_validation xtfs_brk_time_range = {
	.min = 1,
	.max = XTFS_BREAKER_TIME_MAX,
};

/* Request policy of XTFS_CMD_SA_STAGE: an identity and the settings. */
static const struct nla_policy xtfs_sa_stage_policy[XTFS_A_SA_MAX + 1] = {
	[XTFS_A_SA_FAMILY]	= { .type = NLA_U16 },
	[XTFS_A_SA_SADDR]	= XTFS_REJECT("an SA is staged by destination, SPI and mark"),
	[XTFS_A_SA_DADDR]	= XTFS_POLICY_ADDR,
	[XTFS_A_SA_SPI]		= { .type = NLA_BE32 },
	[XTFS_A_SA_MARK]	= { .type = NLA_U32 },
	[XTFS_A_SA_DIR]		= XTFS_REJECT("SA direction is reply-only"),
	[XTFS_A_SA_STATS]	= XTFS_REJECT("SA counters are reply-only"),
	[XTFS_A_SA_IIV]		= NLA_POLICY_RANGE(NLA_U32, XTFS_IIV_ALG_AES_CCM_8,
						   XTFS_IIV_ALG_CHACHA20_POLY1305),
	[XTFS_A_SA_PAYLOAD]	= NLA_POLICY_MAX(NLA_U8, XTFS_PAYLOAD_TUNNEL),
	[XTFS_A_SA_SPI_LSB]	= NLA_POLICY_MAX(NLA_U8, XTFS_DIET_LSB_FULL),
	[XTFS_A_SA_SN_LSB]	= NLA_POLICY_MAX(NLA_U8, XTFS_DIET_LSB_FULL),
	[XTFS_A_SA_TRAILER]	= NLA_POLICY_MAX(NLA_U8, XTFS_TRAILER_OPTIONAL),
	[XTFS_A_SA_ALIGN]	= NLA_POLICY_RANGE(NLA_U8, 8, 64),
	[XTFS_A_SA_IIPC]	= NLA_POLICY_NESTED(xtfs_iipc_policy),
	[XTFS_A_SA_SEND]	= NLA_POLICY_MAX(NLA_U8, XTFS_SEND_CC),
	[XTFS_A_SA_RATE]	= NLA_POLICY_FULL_RANGE(NLA_U32, &xtfs_rate_range),
	[XTFS_A_SA_RATE_MIN]	= NLA_POLICY_FULL_RANGE(NLA_U32, &xtfs_rate_range),
	[XTFS_A_SA_REVERSE_SPI]	= { .type = NLA_BE32 },
	[XTFS_A_SA_BREAKER_LOSS] = NLA_POLICY_FULL_RANGE(NLA_U32,
							 &xtfs_brk_loss_range),
	[XTFS_A_SA_BREAKER_TIME] = NLA_POLICY_FULL_RANGE(NLA_U32,
							 &xtfs_brk_time_range),
	[XTFS_A_SA_BROKEN]	= XTFS_REJECT("SA circuit breaker state is reply-only"),
};

/* Request policy of XTFS_CMD_SA_GET (dump): no attribute is accepted. */
#define XTFS_DUMP_NO_ATTR	XTFS_REJECT("a dump of SAs takes no attributes")
static const struct nla_policy xtfs_sa_get_dump_policy[XTFS_A_SA_MAX + 1] = {
	[XTFS_A_SA_FAMILY]	= XTFS_DUMP_NO_ATTR,
	[XTFS_A_SA_SADDR]	= XTFS_DUMP_NO_ATTR,
	[XTFS_A_SA_DADDR]	= XTFS_DUMP_NO_ATTR,
	[XTFS_A_SA_SPI]		= XTFS_DUMP_NO_ATTR,
	[XTFS_A_SA_MARK]	= XTFS_DUMP_NO_ATTR,
	[XTFS_A_SA_DIR]		= XTFS_DUMP_NO_ATTR,
	[XTFS_A_SA_STATS]	= XTFS_DUMP_NO_ATTR,
	[XTFS_A_SA_IIV]		= XTFS_DUMP_NO_ATTR,
	[XTFS_A_SA_PAYLOAD]	= XTFS_DUMP_NO_ATTR,
	[XTFS_A_SA_SPI_LSB]	= XTFS_DUMP_NO_ATTR,
	[XTFS_A_SA_SN_LSB]	= XTFS_DUMP_NO_ATTR,
	[XTFS_A_SA_TRAILER]	= XTFS_DUMP_NO_ATTR,
	[XTFS_A_SA_ALIGN]	= XTFS_DUMP_NO_ATTR,
	[XTFS_A_SA_IIPC]	= XTFS_DUMP_NO_ATTR,
	[XTFS_A_SA_SEND]	= XTFS_DUMP_NO_ATTR,
	[XTFS_A_SA_RATE]	= XTFS_DUMP_NO_ATTR,
	[XTFS_A_SA_RATE_MIN]	= XTFS_DUMP_NO_ATTR,
	[XTFS_A_SA_REVERSE_SPI]	= XTFS_DUMP_NO_ATTR,
	[XTFS_A_SA_BREAKER_LOSS] = XTFS_DUMP_NO_ATTR,
	[XTFS_A_SA_BREAKER_TIME] = XTFS_DUMP_NO_ATTR,
	[XTFS_A_SA_BROKEN]	= XTFS_DUMP_NO_ATTR,
};

static struct genl_family xtfs_genl_family;

/**
 * xtfs_addr_len() - octets of an outer address of a family
 * @family: AF_INET or AF_INET6
 *
 * Return: the address length, or 0 for any other family.
 */
static unsigned int xtfs_addr_len(unsigned int family)
{
	switch (family) {
	case AF_INET:
		return sizeof(struct in_addr);
	case AF_INET6:
		return sizeof(struct in6_addr);
	}
	return 0;
}

/**
 * xtfs_sa_msg_size() - netlink space for one XTFS_CMD_SA_GET reply
 *
 * Return: the payload size in octets, the generic netlink header excluded.
 */
static size_t xtfs_sa_msg_size(void)
{
	return nla_total_size(sizeof(u16)) +			/* family */
	       2 * nla_total_size(sizeof(struct in6_addr)) +	/* addrs */
	       nla_total_size(sizeof(u32)) +			/* spi */
	       nla_total_size(sizeof(u32)) +			/* mark */
	       nla_total_size(sizeof(u8)) +			/* dir */
	       nla_total_size(sizeof(u32)) +			/* iiv */
	       nla_total_size(sizeof(u8)) +			/* payload */
	       4 * nla_total_size(sizeof(u8)) +		/* Diet-ESP */
	       nla_total_size(sizeof(u8)) +			/* send */
	       5 * nla_total_size(sizeof(u32)) +		/* rates, */
	       nla_total_size(0) +		/* reverse SPI, breaker */
	       nla_total_size(0) +				/* stats */
	       XTFS_CNT_MAX * nla_total_size_64bit(sizeof(u64));
}

/**
 * xtfs_sa_fill() - write the identity and counters of one SA
 * @skb: message being built, positioned after the generic netlink header
 * @x: the SA, an xtfs SA (xtfs_state_sa() is not NULL)
 * @sa: its xtfs state
 *
 * The caller keeps @sa alive: either it holds a reference on @x, or @x is
 * on the namespace's SA list under xfrm_state_lock, which implies the
 * reference that xfrm_state_alloc() gave and that __xfrm_state_delete()
 * drops only after taking @x off that list under the same lock. The state
 * is freed (xtfs_destroy_state()) only once the last reference is gone.
 *
 * Return: 0 or -EMSGSIZE.
 */
static int xtfs_sa_fill(struct sk_buff *skb, const struct xfrm_state *x,
			struct xtfs_sa *sa)
{
	unsigned int alen = xtfs_addr_len(x->props.family);
	struct nlattr *nest;
	int i;

	if (nla_put_u16(skb, XTFS_A_SA_FAMILY, x->props.family) ||
	    nla_put(skb, XTFS_A_SA_SADDR, alen, &x->props.saddr) ||
	    nla_put(skb, XTFS_A_SA_DADDR, alen, &x->id.daddr) ||
	    nla_put_be32(skb, XTFS_A_SA_SPI, x->id.spi) ||
	    (x->mark.v && nla_put_u32(skb, XTFS_A_SA_MARK, x->mark.v)) ||
	    nla_put_u8(skb, XTFS_A_SA_DIR, x->dir) ||
	    (sa->iiv.tfm && !sa->iiv.wire_iv &&
	     nla_put_u32(skb, XTFS_A_SA_IIV, sa->iiv.alg)) ||
	    nla_put_u8(skb, XTFS_A_SA_PAYLOAD, sa->cfg.payload))
		return -EMSGSIZE;
	if (sa->diet.on &&
	    (nla_put_u8(skb, XTFS_A_SA_SPI_LSB, sa->diet.spi_lsb) ||
	     nla_put_u8(skb, XTFS_A_SA_SN_LSB, sa->diet.sn_lsb) ||
	     nla_put_u8(skb, XTFS_A_SA_TRAILER, sa->diet.trailer) ||
	     nla_put_u8(skb, XTFS_A_SA_ALIGN, sa->diet.align * 8)))
		return -EMSGSIZE;
	if (sa->iipc.on && xtfs_iipc_put(skb, &sa->iipc))
		return -EMSGSIZE;
	if (sa->cfg.pace.send != XTFS_SEND_DEMAND &&
	    (nla_put_u8(skb, XTFS_A_SA_SEND, sa->cfg.pace.send) ||
	     nla_put_u32(skb, XTFS_A_SA_RATE, sa->cfg.pace.rate)))
		return -EMSGSIZE;
	if (sa->cfg.pace.send == XTFS_SEND_CC &&
	    nla_put_u32(skb, XTFS_A_SA_RATE_MIN, sa->cfg.pace.rate_min))
		return -EMSGSIZE;
	if (sa->cfg.pace.rev_spi &&
	    nla_put_be32(skb, XTFS_A_SA_REVERSE_SPI, sa->cfg.pace.rev_spi))
		return -EMSGSIZE;
	if (sa->cfg.pace.brk_loss &&
	    (nla_put_u32(skb, XTFS_A_SA_BREAKER_LOSS, sa->cfg.pace.brk_loss) ||
	     nla_put_u32(skb, XTFS_A_SA_BREAKER_TIME, sa->cfg.pace.brk_time_ms)))
		return -EMSGSIZE;
	/* Set once, under the SA's lock; a stale read only delays it. */
	if (READ_ONCE(sa->cc.broken) && nla_put_flag(skb, XTFS_A_SA_BROKEN))
		return -EMSGSIZE;

	nest = nla_nest_start(skb, XTFS_A_SA_STATS);
	if (!nest)
		return -EMSGSIZE;
	for (i = 0; i < XTFS_CNT_MAX; i++) {
		if (nla_put_u64_64bit(skb, XTFS_A_STATS_CNT(i),
				      atomic64_read(&sa->cnt[i]),
				      XTFS_A_STATS_PAD)) {
			nla_nest_cancel(skb, nest);
			return -EMSGSIZE;
		}
	}
	nla_nest_end(skb, nest);
	return 0;
}

/**
 * xtfs_req_attr() - a required request attribute, or an extended ACK
 * @info: the request
 * @type: attribute type
 * @what: what the attribute is, for the message
 *
 * Return: the attribute, or NULL after setting the error message and the
 * missing attribute type.
 */
static struct nlattr *xtfs_req_attr(struct genl_info *info, int type,
				    const char *what)
{
	struct nlattr *a = info->attrs[type];

	if (!a) {
		NL_SET_ERR_ATTR_MISS(info->extack, NULL, type);
		NL_SET_ERR_MSG_FMT_MOD(info->extack, "missing attribute: %s",
				       what);
	}
	return a;
}

/**
 * struct xtfs_sa_id - an SA named in a request
 * @family: AF_INET or AF_INET6
 * @saddr: source address, when @has_saddr
 * @daddr: destination address
 * @spi: SPI, network byte order (protocol ESP)
 * @mark: xfrm mark value, 0 when not given
 * @has_saddr: the request named a source address
 */
struct xtfs_sa_id {
	u16		family;
	xfrm_address_t	saddr;
	xfrm_address_t	daddr;
	__be32		spi;
	u32		mark;
	bool		has_saddr;
};

/**
 * xtfs_sa_id_parse() - the SA a request names
 * @info: the request
 * @id: out, the identity
 *
 * Family, destination address and SPI are required; the source address
 * (where the policy allows it) and the mark are optional.
 *
 * Return: 0, or a negative error with an extended ACK message.
 */
static int xtfs_sa_id_parse(struct genl_info *info, struct xtfs_sa_id *id)
{
	struct netlink_ext_ack *extack = info->extack;
	struct nlattr *fam_a, *daddr_a, *saddr_a, *spi_a;
	unsigned int alen;

	memset(id, 0, sizeof(*id));
	fam_a = xtfs_req_attr(info, XTFS_A_SA_FAMILY, "address family");
	if (!fam_a)
		return -EINVAL;
	daddr_a = xtfs_req_attr(info, XTFS_A_SA_DADDR, "destination address");
	if (!daddr_a)
		return -EINVAL;
	spi_a = xtfs_req_attr(info, XTFS_A_SA_SPI, "SPI");
	if (!spi_a)
		return -EINVAL;
	saddr_a = info->attrs[XTFS_A_SA_SADDR];

	id->family = nla_get_u16(fam_a);
	alen = xtfs_addr_len(id->family);
	if (!alen) {
		NL_SET_ERR_MSG_ATTR_FMT(extack, fam_a,
					"address family %u not supported: AF_INET or AF_INET6",
					id->family);
		return -EAFNOSUPPORT;
	}
	if (nla_len(daddr_a) != alen) {
		NL_SET_ERR_MSG_ATTR_FMT(extack, daddr_a,
					"destination address of %d octets, family needs %u",
					nla_len(daddr_a), alen);
		return -EINVAL;
	}
	if (saddr_a && nla_len(saddr_a) != alen) {
		NL_SET_ERR_MSG_ATTR_FMT(extack, saddr_a,
					"source address of %d octets, family needs %u",
					nla_len(saddr_a), alen);
		return -EINVAL;
	}
	nla_memcpy(&id->daddr, daddr_a, alen);
	if (saddr_a) {
		nla_memcpy(&id->saddr, saddr_a, alen);
		id->has_saddr = true;
	}
	id->spi = nla_get_be32(spi_a);
	if (info->attrs[XTFS_A_SA_MARK])
		id->mark = nla_get_u32(info->attrs[XTFS_A_SA_MARK]);
	return 0;
}

/**
 * xtfs_sa_get_doit() - XTFS_CMD_SA_GET for one SA
 * @skb: the request
 * @info: its attributes, network namespace and extended ACK
 *
 * Looks the SA up as xfrm netlink does for XFRM_MSG_GETSA: by mark,
 * destination address, SPI and protocol ESP, in the requester's namespace.
 *
 * Return: 0 after sending the reply, or a negative error with an
 * extended ACK message.
 */
static int xtfs_sa_get_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct netlink_ext_ack *extack = info->extack;
	struct xtfs_sa_id id;
	struct xfrm_state *x;
	struct xtfs_sa *sa;
	struct sk_buff *msg;
	void *hdr;
	int err;

	err = xtfs_sa_id_parse(info, &id);
	if (err)
		return err;
	x = xfrm_state_lookup(genl_info_net(info), id.mark, &id.daddr, id.spi,
			      IPPROTO_ESP, id.family);
	if (x && id.has_saddr &&
	    !xfrm_addr_equal(&x->props.saddr, &id.saddr, id.family)) {
		xfrm_state_put(x);
		x = NULL;
	}
	if (!x) {
		NL_SET_ERR_MSG_MOD(extack, "no ESP SA with this address, SPI and mark");
		err = -ESRCH;
		goto out_put;
	}
	if (x->props.mode != XFRM_MODE_IPTFS) {
		NL_SET_ERR_MSG_MOD(extack, "SA is not in IP-TFS mode");
		err = -EINVAL;
		goto out_put;
	}
	/* Our reference on x keeps mode_data alive (see xtfs_sa_fill()). */
	sa = xtfs_state_sa(x);
	if (!sa) {
		NL_SET_ERR_MSG_MOD(extack, "IP-TFS SA is not served by xtfs");
		err = -EOPNOTSUPP;
		goto out_put;
	}

	msg = genlmsg_new(xtfs_sa_msg_size(), GFP_KERNEL);
	if (!msg) {
		err = -ENOMEM;
		goto out_put;
	}
	hdr = genlmsg_put_reply(msg, info, &xtfs_genl_family, 0,
				XTFS_CMD_SA_GET);
	if (!hdr) {
		err = -EMSGSIZE;
		goto out_free;
	}
	err = xtfs_sa_fill(msg, x, sa);
	if (err)
		goto out_free;
	genlmsg_end(msg, hdr);
	xfrm_state_put(x);
	return genlmsg_reply(msg, info);

out_free:
	nlmsg_free(msg);
out_put:
	if (x)
		xfrm_state_put(x);
	return err;
}

/**
 * xtfs_sa_walk_ctx() - the SA walk kept across the calls of one dump
 * @cb: the dump
 *
 * Return: the walk, stored in @cb->ctx.
 */
static struct xfrm_state_walk *xtfs_sa_walk_ctx(struct netlink_callback *cb)
{
	NL_ASSERT_CTX_FITS(struct xfrm_state_walk);
	return (struct xfrm_state_walk *)cb->ctx;
}

/**
 * xtfs_sa_dump_start() - XTFS_CMD_SA_GET dump: start walking ESP SAs
 * @cb: the dump
 *
 * Return: 0.
 */
static int xtfs_sa_dump_start(struct netlink_callback *cb)
{
	xfrm_state_walk_init(xtfs_sa_walk_ctx(cb), IPPROTO_ESP, NULL);
	return 0;
}

/**
 * xtfs_sa_dump_done() - XTFS_CMD_SA_GET dump: end the walk
 * @cb: the dump
 *
 * Return: 0.
 */
static int xtfs_sa_dump_done(struct netlink_callback *cb)
{
	xfrm_state_walk_done(xtfs_sa_walk_ctx(cb), sock_net(cb->skb->sk));
	return 0;
}

/**
 * struct xtfs_dump_arg - what xtfs_sa_dump_one() writes to
 * @skb: the dump message buffer
 * @cb: the dump
 */
struct xtfs_dump_arg {
	struct sk_buff *skb;
	struct netlink_callback *cb;
};

/**
 * xtfs_sa_dump_one() - add one SA to a dump (xfrm_state_walk() callback)
 * @x: an ESP SA, on the namespace's SA list; xfrm_state_lock is held
 * @count: SAs visited so far (unused)
 * @ptr: &struct xtfs_dump_arg
 *
 * SAs that are not IP-TFS SAs served by xtfs are skipped.
 *
 * Return: 0, or -EMSGSIZE when the buffer is full: the walk then resumes
 * at @x in the next buffer.
 */
static int xtfs_sa_dump_one(struct xfrm_state *x, int count, void *ptr)
{
	struct xtfs_dump_arg *arg = ptr;
	struct sk_buff *skb = arg->skb;
	struct xtfs_sa *sa;
	void *hdr;

	if (x->props.mode != XFRM_MODE_IPTFS)
		return 0;
	sa = xtfs_state_sa(x);
	if (!sa)
		return 0;
	hdr = genlmsg_put(skb, NETLINK_CB(arg->cb->skb).portid,
			  arg->cb->nlh->nlmsg_seq, &xtfs_genl_family,
			  NLM_F_MULTI, XTFS_CMD_SA_GET);
	if (!hdr)
		return -EMSGSIZE;
	if (xtfs_sa_fill(skb, x, sa)) {
		genlmsg_cancel(skb, hdr);
		return -EMSGSIZE;
	}
	genlmsg_end(skb, hdr);
	return 0;
}

/**
 * xtfs_sa_get_dumpit() - XTFS_CMD_SA_GET dump: every xtfs SA of the namespace
 * @skb: buffer to fill
 * @cb: the dump
 *
 * Return: octets written; 0 ends the dump.
 */
static int xtfs_sa_get_dumpit(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct xtfs_dump_arg arg = { .skb = skb, .cb = cb };

	/* -EMSGSIZE only means "continue in the next buffer"; -ENOENT means
	 * no ESP SA at all. Both end this buffer, which is what they need.
	 */
	xfrm_state_walk(sock_net(skb->sk), xtfs_sa_walk_ctx(cb),
			xtfs_sa_dump_one, &arg);
	return skb->len;
}

/*
 * Staged settings (Documentation/xtfs.rst, "Extended ESP engine"): kept per
 * network namespace, in a hash table keyed by the SA identity, under a mutex
 * of the namespace. Entries are charged to the memory cgroup of the task that
 * staged them (GFP_KERNEL_ACCOUNT).
 *
 * Two caps bound them: XTFS_STAGE_MAX identities per namespace, and
 * XTFS_STAGE_HOST_MAX identities over all the namespaces owned by a user
 * namespace other than the initial one, which any local user can create
 * with unshare(CLONE_NEWUSER | CLONE_NEWNET). Namespaces of the initial
 * user namespace (only root can make those) have the per-namespace cap
 * only and are not counted, so that unprivileged users who reach the
 * host-wide cap cannot stop the host's own IKE daemon staging.
 */

/* Most staged identities at once over all capped namespaces on the host. */
#define XTFS_STAGE_HOST_MAX	4096
/* log2 of the buckets of a namespace's hash table of staged identities. */
#define XTFS_STAGE_HASH_BITS	6

/**
 * struct xtfs_stage_net - the staged settings of one network namespace
 * @lock: serialises changes to @stages and @count
 * @stages: &struct xtfs_stage entries, hashed by xtfs_stage_hash()
 * @count: entries in @stages; written under @lock, read without it by
 *	xtfs_stage_take() and xtfs_stage_release() to skip a namespace with
 *	nothing staged
 * @host_capped: the namespace's entries count toward XTFS_STAGE_HOST_MAX
 *	(its user namespace is not the initial one)
 */
struct xtfs_stage_net {
	struct mutex		lock;	/* serialises @stages and @count */
	DECLARE_HASHTABLE(stages, XTFS_STAGE_HASH_BITS);
	unsigned int		count;
	bool			host_capped;
};

/**
 * struct xtfs_stage - extension settings staged for an SA not yet created
 * @node: in &xtfs_stage_net.stages of the namespace of the request
 * @portid: netlink port of the staging socket
 * @id: the SA identity (family, destination, SPI, mark)
 * @set: the settings
 */
struct xtfs_stage {
	struct hlist_node	node;
	u32			portid;
	struct xtfs_sa_id	id;
	struct xtfs_settings	set;
};

static unsigned int xtfs_stage_net_id __read_mostly;
/* Entries of all namespaces with host_capped set. */
static atomic_t xtfs_stage_host_count = ATOMIC_INIT(0);
static u32 xtfs_stage_seed __ro_after_init;

/**
 * xtfs_stage_net() - the staged settings of a namespace
 * @net: the namespace
 *
 * Return: its &struct xtfs_stage_net (valid from the pernet init to the
 * pernet exit of xtfs_stage_net_ops).
 */
static struct xtfs_stage_net *xtfs_stage_net(const struct net *net)
{
	return net_generic(net, xtfs_stage_net_id);
}

/**
 * xtfs_stage_hash() - hash of an SA identity for a staging table
 * @id: identity (family, destination, SPI, mark; not the source address)
 *
 * Return: a hash over the identity, the destination's family length only.
 */
static u32 xtfs_stage_hash(const struct xtfs_sa_id *id)
{
	return jhash(&id->daddr, xtfs_addr_len(id->family),
		     jhash_3words((__force u32)id->spi, id->mark, id->family,
				  xtfs_stage_seed));
}

/**
 * xtfs_stage_find() - the settings staged for an SA identity
 * @sn: the namespace's staged settings; @sn->lock is held
 * @id: identity (the source address is not part of it)
 *
 * Return: the entry or NULL.
 */
static struct xtfs_stage *xtfs_stage_find(struct xtfs_stage_net *sn,
					  const struct xtfs_sa_id *id)
{
	struct xtfs_stage *e;

	lockdep_assert_held(&sn->lock);
	hash_for_each_possible(sn->stages, e, node, xtfs_stage_hash(id)) {
		if (e->id.family == id->family && e->id.spi == id->spi &&
		    e->id.mark == id->mark &&
		    xfrm_addr_equal(&e->id.daddr, &id->daddr, id->family))
			return e;
	}
	return NULL;
}

/**
 * xtfs_stage_free() - remove and free one staged entry
 * @sn: the namespace's staged settings; @sn->lock is held
 * @e: an entry of @sn
 */
static void xtfs_stage_free(struct xtfs_stage_net *sn, struct xtfs_stage *e)
{
	lockdep_assert_held(&sn->lock);
	hash_del(&e->node);
	kfree(e);
	WRITE_ONCE(sn->count, sn->count - 1);
	if (sn->host_capped)
		atomic_dec(&xtfs_stage_host_count);
}

/**
 * xtfs_stage_add() - a new staged entry for an SA identity
 * @sn: the namespace's staged settings; @sn->lock is held
 * @id: identity, not yet in @sn
 * @extack: extended ACK for a refusal
 *
 * Enforces XTFS_STAGE_MAX for the namespace and, when @sn->host_capped,
 * XTFS_STAGE_HOST_MAX over the host. The entry is charged to the caller's
 * memory cgroup.
 *
 * Return: the entry, in @sn, or an ERR_PTR() with an extended ACK message.
 */
static struct xtfs_stage *xtfs_stage_add(struct xtfs_stage_net *sn,
					 const struct xtfs_sa_id *id,
					 struct netlink_ext_ack *extack)
{
	struct xtfs_stage *e;

	lockdep_assert_held(&sn->lock);
	if (sn->count >= XTFS_STAGE_MAX) {
		NL_SET_ERR_MSG_FMT_MOD(extack,
				       "%u SAs already have settings staged in this namespace",
				       sn->count);
		return ERR_PTR(-ENOSPC);
	}
	if (sn->host_capped &&
	    !atomic_add_unless(&xtfs_stage_host_count, 1, XTFS_STAGE_HOST_MAX)) {
		/* Not a _FMT message: those are cut at 80 octets. */
		NL_SET_ERR_MSG_MOD(extack,
				   "host-wide cap: " __stringify(XTFS_STAGE_HOST_MAX)
				   " SAs already have settings staged in namespaces outside the initial user namespace");
		return ERR_PTR(-ENOSPC);
	}
	e = kzalloc_obj(*e, GFP_KERNEL_ACCOUNT);
	if (!e) {
		if (sn->host_capped)
			atomic_dec(&xtfs_stage_host_count);
		return ERR_PTR(-ENOMEM);
	}
	e->id = *id;
	hash_add(sn->stages, &e->node, xtfs_stage_hash(id));
	WRITE_ONCE(sn->count, sn->count + 1);
	return e;
}

/**
 * xtfs_stage_diet() - whether a staging request has Diet-ESP settings
 * @attrs: its attributes
 *
 * Return: true when one of them is there.
 */
static bool xtfs_stage_diet(struct nlattr **attrs)
{
	return attrs[XTFS_A_SA_SPI_LSB] || attrs[XTFS_A_SA_SN_LSB] ||
	       attrs[XTFS_A_SA_TRAILER] || attrs[XTFS_A_SA_ALIGN];
}

/**
 * xtfs_stage_diet_check() - refuse Diet-ESP settings that fit no SA
 * @info: the staging request
 *
 * The compressed ESP header is whole octets (draft-ietf-ipsecme-diet-esp-07
 * section 5.3); the alignment is one of the four of section 4.2. What
 * depends on the SA is checked when it is created (xtfs_diet_bind()).
 *
 * Return: 0, or -EINVAL with an extended ACK message.
 */
static int xtfs_stage_diet_check(struct genl_info *info)
{
	struct nlattr **attrs = info->attrs;
	u8 spi, sn, align;

	if (!xtfs_stage_diet(attrs))
		return 0;
	spi = nla_get_u8_default(attrs[XTFS_A_SA_SPI_LSB], XTFS_DIET_LSB_FULL);
	sn = nla_get_u8_default(attrs[XTFS_A_SA_SN_LSB], XTFS_DIET_LSB_FULL);
	if ((spi + sn) % 8) {
		NL_SET_ERR_MSG_MOD(info->extack,
				   "Diet-ESP spi-lsb plus sn-lsb must be a multiple of 8 (draft-ietf-ipsecme-diet-esp-07 section 5.3)");
		return -EINVAL;
	}
	align = nla_get_u8_default(attrs[XTFS_A_SA_ALIGN], XTFS_DIET_ALIGN_DEF);
	if (!is_power_of_2(align)) {
		NL_SET_ERR_MSG_ATTR(info->extack, attrs[XTFS_A_SA_ALIGN],
				    "Diet-ESP align is 8, 16, 32 or 64 bits");
		return -EINVAL;
	}
	return 0;
}

/* Refuse attribute @a of a staging request with message @msg (a string
 * literal, which the extended ACK keeps): evaluates to -EINVAL.
 */
#define xtfs_stage_need(info, a, msg) ({			\
	struct netlink_ext_ack *xtfs_ext = (info)->extack;	\
								\
	NL_SET_BAD_ATTR(xtfs_ext, a);				\
	NL_SET_ERR_MSG_MOD(xtfs_ext, msg);			\
	-EINVAL;						\
})

/**
 * xtfs_stage_send_check() - refuse sending settings that do not go together
 * @info: the staging request
 *
 * A fixed or congestion-controlled SA needs its rate (the upper bound with
 * congestion control), which is only for them; the lower bound is only
 * for congestion control and at most the upper one; congestion control
 * needs the paired SA's SPI, which a demand SA cannot use (it sends no
 * header to carry the reports in at a steady rate); the circuit breaker
 * needs its two values and the paired SA's reports. What depends on the
 * SA (direction, packet size, payload) is checked when it is created
 * (xtfs_send_bind()).
 *
 * Return: 0, or -EINVAL with an extended ACK message.
 */
static int xtfs_stage_send_check(struct genl_info *info)
{
	struct nlattr **attrs = info->attrs;
	u8 send = nla_get_u8_default(attrs[XTFS_A_SA_SEND], XTFS_SEND_DEMAND);

	if (send != XTFS_SEND_DEMAND && !attrs[XTFS_A_SA_RATE])
		return xtfs_stage_need(info, attrs[XTFS_A_SA_SEND],
				       "a fixed-rate or congestion-controlled SA needs its rate (XTFS_A_SA_RATE, outer packets per second)");
	if (send == XTFS_SEND_DEMAND && attrs[XTFS_A_SA_RATE])
		return xtfs_stage_need(info, attrs[XTFS_A_SA_RATE],
				       "a rate is only for a fixed-rate or congestion-controlled SA (XTFS_A_SA_SEND)");
	if (send != XTFS_SEND_CC && attrs[XTFS_A_SA_RATE_MIN])
		return xtfs_stage_need(info, attrs[XTFS_A_SA_RATE_MIN],
				       "a lowest rate is only for a congestion-controlled SA (XTFS_A_SA_SEND cc)");
	if (attrs[XTFS_A_SA_RATE_MIN] &&
	    nla_get_u32(attrs[XTFS_A_SA_RATE_MIN]) >
	    nla_get_u32(attrs[XTFS_A_SA_RATE]))
		return xtfs_stage_need(info, attrs[XTFS_A_SA_RATE_MIN],
				       "the lowest rate is above the highest (XTFS_A_SA_RATE)");
	if (send == XTFS_SEND_CC && !attrs[XTFS_A_SA_REVERSE_SPI])
		return xtfs_stage_need(info, attrs[XTFS_A_SA_SEND],
				       "a congestion-controlled SA needs the SPI of its paired inbound SA (XTFS_A_SA_REVERSE_SPI)");
	if (attrs[XTFS_A_SA_REVERSE_SPI] &&
	    !nla_get_be32(attrs[XTFS_A_SA_REVERSE_SPI]))
		return xtfs_stage_need(info, attrs[XTFS_A_SA_REVERSE_SPI],
				       "SPI 0 names no SA");
	if (send == XTFS_SEND_DEMAND && attrs[XTFS_A_SA_REVERSE_SPI])
		return xtfs_stage_need(info, attrs[XTFS_A_SA_REVERSE_SPI],
				       "a paired SA is only for a fixed-rate or congestion-controlled SA (XTFS_A_SA_SEND)");
	if (!!attrs[XTFS_A_SA_BREAKER_LOSS] != !!attrs[XTFS_A_SA_BREAKER_TIME])
		return xtfs_stage_need(info, attrs[XTFS_A_SA_BREAKER_LOSS] ?:
				       attrs[XTFS_A_SA_BREAKER_TIME],
				       "a circuit breaker needs both its loss rate and its time (XTFS_A_SA_BREAKER_LOSS, XTFS_A_SA_BREAKER_TIME)");
	if (attrs[XTFS_A_SA_BREAKER_LOSS] && !attrs[XTFS_A_SA_REVERSE_SPI])
		return xtfs_stage_need(info, attrs[XTFS_A_SA_BREAKER_LOSS],
				       "a circuit breaker acts on the peer's loss reports: it needs the paired SA (XTFS_A_SA_REVERSE_SPI)");
	return 0;
}

/**
 * xtfs_sa_stage_doit() - XTFS_CMD_SA_STAGE: stage or withdraw settings
 * @skb: the request
 * @info: its attributes, namespace, port and extended ACK
 *
 * Settings for an identity replace those staged before; a request without
 * settings withdraws them.
 *
 * Return: 0, or a negative error with an extended ACK message.
 */
static int xtfs_sa_stage_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct xtfs_stage_net *sn = xtfs_stage_net(genl_info_net(info));
	struct xtfs_iipc iipc = {};
	struct xtfs_pace *pace;
	struct xtfs_stage *e;
	struct xtfs_sa_id id;
	int err;

	err = xtfs_sa_id_parse(info, &id);
	if (err)
		return err;
	err = xtfs_stage_diet_check(info);
	if (err)
		return err;
	err = xtfs_stage_send_check(info);
	if (err)
		return err;
	if (info->attrs[XTFS_A_SA_IIPC]) {
		if (nla_get_u8_default(info->attrs[XTFS_A_SA_PAYLOAD],
				       XTFS_PAYLOAD_AGGFRAG) !=
		    XTFS_PAYLOAD_TUNNEL) {
			NL_SET_BAD_ATTR(info->extack,
					info->attrs[XTFS_A_SA_IIPC]);
			NL_SET_ERR_MSG_MOD(info->extack,
					   "Diet-ESP IIPC compresses one inner packet per ESP packet: it needs the tunnel payload (XTFS_A_SA_PAYLOAD)");
			return -EINVAL;
		}
		err = xtfs_iipc_parse(info->attrs[XTFS_A_SA_IIPC], &iipc,
				      info->extack);
		if (err)
			return err;
	}

	mutex_lock(&sn->lock);
	e = xtfs_stage_find(sn, &id);
	if (!info->attrs[XTFS_A_SA_IIV] && !info->attrs[XTFS_A_SA_PAYLOAD] &&
	    !xtfs_stage_diet(info->attrs) && !iipc.on &&
	    !info->attrs[XTFS_A_SA_SEND]) {
		if (e)
			xtfs_stage_free(sn, e);
		goto out;
	}
	if (!e) {
		e = xtfs_stage_add(sn, &id, info->extack);
		if (IS_ERR(e)) {
			err = PTR_ERR(e);
			goto out;
		}
	}
	e->portid = info->snd_portid;
	e->set.iiv = nla_get_u32_default(info->attrs[XTFS_A_SA_IIV], 0);
	e->set.payload = nla_get_u8_default(info->attrs[XTFS_A_SA_PAYLOAD],
					    XTFS_PAYLOAD_AGGFRAG);
	e->set.spi_lsb = nla_get_u8_default(info->attrs[XTFS_A_SA_SPI_LSB],
					    XTFS_DIET_LSB_FULL);
	e->set.sn_lsb = nla_get_u8_default(info->attrs[XTFS_A_SA_SN_LSB],
					   XTFS_DIET_LSB_FULL);
	e->set.trailer = nla_get_u8_default(info->attrs[XTFS_A_SA_TRAILER],
					    XTFS_TRAILER_MANDATORY);
	e->set.align = nla_get_u8_default(info->attrs[XTFS_A_SA_ALIGN],
					  XTFS_DIET_ALIGN_DEF);
	e->set.iipc = iipc;
	pace = &e->set.pace;
	pace->send = nla_get_u8_default(info->attrs[XTFS_A_SA_SEND],
					XTFS_SEND_DEMAND);
	pace->rate = nla_get_u32_default(info->attrs[XTFS_A_SA_RATE], 0);
	pace->rate_min = 0;
	if (pace->send == XTFS_SEND_CC)
		pace->rate_min =
			nla_get_u32_default(info->attrs[XTFS_A_SA_RATE_MIN], 1);
	pace->rev_spi =
		nla_get_be32_default(info->attrs[XTFS_A_SA_REVERSE_SPI], 0);
	pace->brk_loss =
		nla_get_u32_default(info->attrs[XTFS_A_SA_BREAKER_LOSS], 0);
	pace->brk_time_ms =
		nla_get_u32_default(info->attrs[XTFS_A_SA_BREAKER_TIME], 0);
out:
	mutex_unlock(&sn->lock);
	return err;
}

/**
 * xtfs_stage_take() - the settings staged for an SA being created
 * @net: the SA's namespace
 * @x: the SA (xfrm_mode_cbs::user_init)
 * @set: out, the settings staged, the defaults when nothing was
 *
 * The entry is removed: settings serve one SA.
 */
void xtfs_stage_take(struct net *net, const struct xfrm_state *x,
		     struct xtfs_settings *set)
{
	struct xtfs_stage_net *sn = xtfs_stage_net(net);
	struct xtfs_sa_id id = {
		.family = x->props.family,
		.daddr = x->id.daddr,
		.spi = x->id.spi,
		.mark = x->mark.v,
	};
	struct xtfs_stage *e;

	memset(set, 0, sizeof(*set));
	set->spi_lsb = XTFS_DIET_LSB_FULL;
	set->sn_lsb = XTFS_DIET_LSB_FULL;
	set->align = XTFS_DIET_ALIGN_DEF;
	if (!READ_ONCE(sn->count))
		return;
	mutex_lock(&sn->lock);
	e = xtfs_stage_find(sn, &id);
	if (e) {
		*set = e->set;
		xtfs_stage_free(sn, e);
	}
	mutex_unlock(&sn->lock);
}

/**
 * xtfs_stage_release() - drop what a closing netlink socket staged
 * @nb: notifier block
 * @event: netlink notifier event
 * @ptr: &struct netlink_notify of the socket
 *
 * Only the closing socket's namespace is looked at, and not even that one
 * when it has nothing staged. Entries of a socket were added by requests
 * that completed before its release began, so a count of 0 read here
 * means none of them is left.
 *
 * Return: NOTIFY_DONE.
 */
static int xtfs_stage_release(struct notifier_block *nb, unsigned long event,
			      void *ptr)
{
	struct netlink_notify *n = ptr;
	struct xtfs_stage_net *sn;
	struct xtfs_stage *e;
	struct hlist_node *tmp;
	int bkt;

	if (event != NETLINK_URELEASE || n->protocol != NETLINK_GENERIC)
		return NOTIFY_DONE;
	sn = xtfs_stage_net(n->net);
	if (!READ_ONCE(sn->count))
		return NOTIFY_DONE;
	mutex_lock(&sn->lock);
	hash_for_each_safe(sn->stages, bkt, tmp, e, node) {
		if (e->portid == n->portid)
			xtfs_stage_free(sn, e);
	}
	mutex_unlock(&sn->lock);
	return NOTIFY_DONE;
}

/**
 * xtfs_stage_net_init() - set up a namespace's staged settings
 * @net: the namespace
 *
 * Return: 0.
 */
static int __net_init xtfs_stage_net_init(struct net *net)
{
	struct xtfs_stage_net *sn = xtfs_stage_net(net);

	mutex_init(&sn->lock);
	hash_init(sn->stages);
	sn->count = 0;
	sn->host_capped = net->user_ns != &init_user_ns;
	return 0;
}

/**
 * xtfs_stage_net_exit() - free what is still staged in a namespace
 * @net: the namespace, going away (or the module unloading)
 *
 * A user socket holds its namespace, so its entries normally went at its
 * NETLINK_URELEASE already; at module unload, sockets still open may
 * have left some, which no SA can take any more.
 */
static void __net_exit xtfs_stage_net_exit(struct net *net)
{
	struct xtfs_stage_net *sn = xtfs_stage_net(net);
	struct xtfs_stage *e;
	struct hlist_node *tmp;
	int bkt;

	mutex_lock(&sn->lock);
	hash_for_each_safe(sn->stages, bkt, tmp, e, node)
		xtfs_stage_free(sn, e);
	mutex_unlock(&sn->lock);
	mutex_destroy(&sn->lock);
}

static struct pernet_operations xtfs_stage_net_ops = {
	.init	= xtfs_stage_net_init,
	.exit	= xtfs_stage_net_exit,
	.id	= &xtfs_stage_net_id,
	.size	= sizeof(struct xtfs_stage_net),
};

static struct notifier_block xtfs_stage_nb = {
	.notifier_call = xtfs_stage_release,
};

static const struct genl_split_ops xtfs_genl_ops[] = {
	{
		.cmd		= XTFS_CMD_SA_GET,
		.doit		= xtfs_sa_get_doit,
		.policy		= xtfs_sa_get_do_policy,
		.maxattr	= XTFS_A_SA_MAX,
		.flags		= GENL_UNS_ADMIN_PERM | GENL_CMD_CAP_DO,
	},
	{
		.cmd		= XTFS_CMD_SA_GET,
		.start		= xtfs_sa_dump_start,
		.dumpit		= xtfs_sa_get_dumpit,
		.done		= xtfs_sa_dump_done,
		.policy		= xtfs_sa_get_dump_policy,
		.maxattr	= XTFS_A_SA_MAX,
		.flags		= GENL_UNS_ADMIN_PERM | GENL_CMD_CAP_DUMP,
	},
	{
		.cmd		= XTFS_CMD_SA_STAGE,
		.doit		= xtfs_sa_stage_doit,
		.policy		= xtfs_sa_stage_policy,
		.maxattr	= XTFS_A_SA_MAX,
		.flags		= GENL_UNS_ADMIN_PERM | GENL_CMD_CAP_DO,
	},
};

/* The family's notifications, for holders of CAP_NET_ADMIN in the
 * namespace's user namespace, who may read the SAs anyway.
 */
static const struct genl_multicast_group xtfs_mcgrps[] = {
	{ .name = XTFS_MCGRP_EVENTS, .flags = GENL_MCAST_CAP_NET_ADMIN, },
};

static struct genl_family xtfs_genl_family __ro_after_init = {
	.name		= XTFS_GENL_NAME,
	.version	= XTFS_GENL_VERSION,
	.netnsok	= true,
	/* The handlers lock what they share: no need for genl_mutex. */
	.parallel_ops	= true,
	.module		= THIS_MODULE,
	.split_ops	= xtfs_genl_ops,
	.n_split_ops	= ARRAY_SIZE(xtfs_genl_ops),
	.mcgrps		= xtfs_mcgrps,
	.n_mcgrps	= ARRAY_SIZE(xtfs_mcgrps),
	/* resv_start_op 0: every command gets strict header checks. */
};

/**
 * xtfs_notify_broken() - tell userspace that an SA's circuit breaker tripped
 * @sa: the SA state, alive (called from its send work)
 *
 * RFC 9347 section 2.4.2.1 asks for an alarm that calls for operator
 * intervention: an %XTFS_CMD_SA_BROKEN message to the %XTFS_MCGRP_EVENTS
 * group of the SA's namespace, with what %XTFS_CMD_SA_GET reports. Lost
 * without a listener or memory; the trip is counted either way.
 */
void xtfs_notify_broken(struct xtfs_sa *sa)
{
	struct net *net = xs_net(sa->x);
	struct sk_buff *msg;
	void *hdr;

	if (!genl_has_listeners(&xtfs_genl_family, net, 0))
		return;
	msg = genlmsg_new(xtfs_sa_msg_size(), GFP_ATOMIC);
	if (!msg)
		return;
	hdr = genlmsg_put(msg, 0, 0, &xtfs_genl_family, 0,
			  XTFS_CMD_SA_BROKEN);
	if (!hdr || xtfs_sa_fill(msg, sa->x, sa)) {
		nlmsg_free(msg);
		return;
	}
	genlmsg_end(msg, hdr);
	genlmsg_multicast_netns(&xtfs_genl_family, net, msg, 0, 0, GFP_ATOMIC);
}

/**
 * xtfs_netlink_init() - set up staging and register the "xtfs" family
 *
 * The per-namespace staging state comes first and the family last, so
 * that no request or socket release finds a namespace without it.
 *
 * Return: 0 or a negative error.
 */
int __init xtfs_netlink_init(void)
{
	int err;

	xtfs_stage_seed = get_random_u32();
	err = register_pernet_subsys(&xtfs_stage_net_ops);
	if (err)
		return err;
	err = netlink_register_notifier(&xtfs_stage_nb);
	if (err)
		goto err_pernet;
	err = genl_register_family(&xtfs_genl_family);
	if (err)
		goto err_notifier;
	return 0;

err_notifier:
	netlink_unregister_notifier(&xtfs_stage_nb);
err_pernet:
	unregister_pernet_subsys(&xtfs_stage_net_ops);
	return err;
}

/**
 * xtfs_netlink_exit() - unregister the "xtfs" family and free staged settings
 *
 * Waits for running requests; a dump in progress holds a module reference,
 * so none is left when the module goes. The pernet exit then frees the
 * settings that sockets still open staged: no SA can take them now.
 */
void xtfs_netlink_exit(void)
{
	genl_unregister_family(&xtfs_genl_family);
	netlink_unregister_notifier(&xtfs_stage_nb);
	unregister_pernet_subsys(&xtfs_stage_net_ops);
	WARN_ON_ONCE(atomic_read(&xtfs_stage_host_count));
}
