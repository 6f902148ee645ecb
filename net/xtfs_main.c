// SPDX-License-Identifier: GPL-2.0
/*
 * xtfs - IP-TFS (RFC 9347) as the kernel's pluggable XFRM_MODE_IPTFS mode.
 *
 * Module set-up and the SA lifecycle: the mode callbacks, the IP-TFS
 * netlink attributes (XFRMA_IPTFS_*) with the in-tree module's semantics,
 * and the guard against the in-tree xfrm_iptfs module, which would
 * otherwise silently take over (or clear) the mode slot.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/netdevice.h>
#include <linux/netlink.h>
#include <net/addrconf.h>
#include <net/genetlink.h>
#include <net/net_namespace.h>
#include <net/netlink.h>
#include <net/netns/generic.h>
#include <net/xfrm.h>
#include <kunit/visibility.h>

#include "xtfs.h"
#include "xtfs_aggfrag.h"

/* The in-tree module serving the same mode. */
#define XTFS_INTREE_NAME	"xfrm_iptfs"

/**
 * struct xtfs_net - xtfs's SAs of a network namespace
 * @ref: one reference for the namespace, one for each SA in @sas
 * @lock: protects @sas
 * @sas: the namespace's SAs that have xtfs state (&xtfs_sa.node)
 *
 * Allocated apart from the namespace's generic data so that an SA the
 * state garbage collector destroys after the namespace is gone still
 * finds it.
 */
struct xtfs_net {
	refcount_t		ref;
	spinlock_t		lock;	/* @sas */
	struct list_head	sas;
};

/**
 * struct xtfs_pernet - xtfs's generic data of a network namespace
 * @xn: its list of SAs
 */
struct xtfs_pernet {
	struct xtfs_net		*xn;
};

static unsigned int xtfs_net_id __read_mostly;

/**
 * xtfs_net_put() - drop a reference on a namespace's SA list
 * @xn: the list
 */
static void xtfs_net_put(struct xtfs_net *xn)
{
	if (refcount_dec_and_test(&xn->ref))
		kfree(xn);
}

/**
 * xtfs_sa_link() - enter an SA's state in its namespace's list
 * @sa: the state, set up
 */
static void xtfs_sa_link(struct xtfs_sa *sa)
{
	struct xtfs_pernet *pn = net_generic(xs_net(sa->x), xtfs_net_id);
	struct xtfs_net *xn = pn->xn;

	refcount_inc(&xn->ref);
	sa->xn = xn;
	spin_lock_bh(&xn->lock);
	list_add(&sa->node, &xn->sas);
	spin_unlock_bh(&xn->lock);
}

/**
 * xtfs_sa_find() - does another SA of the namespace pass a test?
 * @sa: an SA whose namespace's list is searched, itself skipped
 * @match: the test, called under the list's lock
 * @arg: its argument
 *
 * Return: true when @match holds for one of them.
 */
bool xtfs_sa_find(struct xtfs_sa *sa,
		  bool (*match)(const struct xtfs_sa *t, const void *arg),
		  const void *arg)
{
	struct xtfs_net *xn = sa->xn;
	const struct xtfs_sa *t;
	bool found = false;

	spin_lock_bh(&xn->lock);
	list_for_each_entry(t, &xn->sas, node) {
		if (t != sa && match(t, arg)) {
			found = true;
			break;
		}
	}
	spin_unlock_bh(&xn->lock);
	return found;
}

/**
 * xtfs_sa_unlink() - take an SA's state out of its namespace's list
 * @sa: the state
 */
static void xtfs_sa_unlink(struct xtfs_sa *sa)
{
	struct xtfs_net *xn = sa->xn;

	spin_lock_bh(&xn->lock);
	list_del(&sa->node);
	spin_unlock_bh(&xn->lock);
	xtfs_net_put(xn);
}

/* RFC 9347: AGGFRAG payloads (next header 144), the default. */
static const struct xtfs_payload_ops xtfs_aggfrag_ops = {
	.hdr_len	= sizeof(struct xtfs_aggfrag_hdr),
	.whole		= false,
	.send		= xtfs_aggfrag_send,
	.input		= xtfs_aggfrag_input,
	.inner_mtu	= xtfs_aggfrag_inner_mtu,
	.outer_fields	= xtfs_aggfrag_fields,
	.nexthdr	= IPPROTO_AGGFRAG,
};

/* One inner packet per ESP payload (next header 4 or 41), as tunnel mode. */
static const struct xtfs_payload_ops xtfs_tunnel_ops = {
	.hdr_len	= 0,
	.whole		= true,
	.send		= xtfs_tunnel_send,
	.input		= xtfs_tunnel_input,
	.inner_mtu	= xtfs_tunnel_inner_mtu,
	.outer_fields	= xtfs_tunnel_fields,
	.nexthdr	= 0,	/* 4 or 41: the inner packet's */
};

/*
 * The tunnel payload with Diet-ESP inner IP compression: its header is
 * the RuleID octet, which an inner packet sent as it is has in front.
 */
static const struct xtfs_payload_ops xtfs_iipc_ops = {
	.hdr_len	= 1,
	.whole		= true,
	.send		= xtfs_tunnel_send,
	.input		= xtfs_iipc_input,
	.inner_mtu	= xtfs_iipc_inner_mtu,
	.outer_fields	= xtfs_iipc_fields,
	.nexthdr	= 0,	/* the rule's IP version (xtfs_esp_open()) */
};

/* The same with the RuleID elided: no header. */
static const struct xtfs_payload_ops xtfs_iipc_noid_ops = {
	.hdr_len	= 0,
	.whole		= true,
	.send		= xtfs_tunnel_send,
	.input		= xtfs_iipc_input,
	.inner_mtu	= xtfs_iipc_inner_mtu,
	.outer_fields	= xtfs_iipc_fields,
	.nexthdr	= 0,
};

/**
 * xtfs_payload_ops_of() - the operations of a payload format
 * @payload: an &enum xtfs_payload value
 * @iipc: the SA's inner header compression rule (tunnel payload only), or
 *	NULL
 *
 * The one place a payload format is told apart.
 *
 * Return: its operations.
 */
VISIBLE_IF_KUNIT const struct xtfs_payload_ops *
xtfs_payload_ops_of(u8 payload, const struct xtfs_iipc *iipc)
{
	if (payload != XTFS_PAYLOAD_TUNNEL)
		return &xtfs_aggfrag_ops;
	if (!iipc || !iipc->on)
		return &xtfs_tunnel_ops;
	return iipc->rule_id ? &xtfs_iipc_ops : &xtfs_iipc_noid_ops;
}
EXPORT_SYMBOL_IF_KUNIT(xtfs_payload_ops_of);

/**
 * xtfs_header_len() - set the SA's header lengths from its wire format
 * @x: the SA, its ESP type initialised
 * @sa: its xtfs state, payload format and ESP engine picked
 *
 * The one place they are computed. In front of the ESP payload
 * (@sa->outer_len): the outer IP header and what the ESP type's
 * init_state counted (ESP header, IV, UDP header) less what xtfs's ESP
 * engine leaves out (the implicit IV, RFC 8750 section 4, and what
 * Diet-ESP compresses). The core's header_len, which reserves headroom
 * and which bundles add up in dst->header_len, adds the payload format's
 * header (enc_hdr_len, inside the ESP payload) and is rounded up to an
 * even number: __ip_append_data() counts dst->header_len in the offset it
 * gives the checksum of paged data, so an odd one (a 3-octet Diet-ESP
 * header over IPv4) breaks the checksums of large locally generated
 * packets (an ICMP echo reply of 1500 octets came out with a bad one).
 * The octet this may add is headroom no one writes.
 */
static void xtfs_header_len(struct xfrm_state *x, struct xtfs_sa *sa)
{
	sa->outer_len = sa->esp_hdr_len - sa->esp_hdr_less +
			(x->props.family == AF_INET6 ?
			 sizeof(struct ipv6hdr) : sizeof(struct iphdr));
	sa->hdr_len = sa->pl->hdr_len;
	/* RFC 9347 section 6.1.2: the header with congestion information. */
	if (sa->cfg.pace.rev_spi && sa->cfg.payload == XTFS_PAYLOAD_AGGFRAG)
		sa->hdr_len = sizeof(struct xtfs_aggfrag_cc_hdr);
	x->props.header_len = ALIGN(sa->outer_len + sa->hdr_len, 2);
	x->props.enc_hdr_len = sa->hdr_len;
}

/* The in-tree module's defaults, AGGFRAG payloads. */
static const struct xtfs_config xtfs_default_cfg = {
	.max_qsize	= XTFS_DEF_MAX_QSIZE,
	.init_delay_us	= XTFS_DEF_INIT_DELAY_US,
	.drop_time_us	= XTFS_DEF_DROP_TIME_US,
	.reorder_win	= XTFS_DEF_REORDER_WIN,
	.payload	= XTFS_PAYLOAD_AGGFRAG,
};

/**
 * xtfs_sa_attach() - give an SA new xtfs state
 * @x: the SA
 * @cfg: the configuration to start with; NULL for the defaults
 *
 * Queues, timers and counters start empty. The state hangs on
 * @x->mode_data, pins the module until xtfs_sa_free() and is
 * entered in the namespace's list of SAs.
 *
 * Return: 0 or -ENOMEM (nothing attached).
 */
static int xtfs_sa_attach(struct xfrm_state *x, const struct xtfs_config *cfg)
{
	struct xtfs_sa *sa = kzalloc_obj(*sa, GFP_KERNEL);
	int i;

	if (!sa)
		return -ENOMEM;
	sa->x = x;
	sa->cfg = cfg ? *cfg : xtfs_default_cfg;
	sa->pl = xtfs_payload_ops_of(sa->cfg.payload, NULL);
	for (i = 0; i < XTFS_CNT_MAX; i++)
		atomic64_set(&sa->cnt[i], 0);
	xtfs_output_init(sa);
	xtfs_cc_init(sa);
	if (xtfs_input_init(sa, GFP_KERNEL)) {
		kfree(sa);
		return -ENOMEM;
	}
	x->mode_data = sa;
	__module_get(THIS_MODULE);
	xtfs_sa_link(sa);
	return 0;
}

/**
 * xtfs_init_state() - attach xtfs state to a new SA (xfrm_mode_cbs::init_state)
 * @x: the SA, ESP type already initialised
 *
 * The SA's header lengths become its wire format's (xtfs_header_len()):
 * AGGFRAG payloads, or a clone's payload format. The module pins itself while
 * the SA exists: the core drops its own reference after this call.
 *
 * Return: 0 or -ENOMEM.
 */
static int xtfs_init_state(struct xfrm_state *x)
{
	struct xtfs_sa *sa;

	/* Called again after clone_state() with the state already there. */
	if (!x->mode_data && xtfs_sa_attach(x, NULL))
		return -ENOMEM;
	sa = x->mode_data;
	/* The ESP type's init_state has just set it, for a clone too. */
	sa->esp_hdr_len = x->props.header_len;
	xtfs_diet_init(x, sa);
	xtfs_header_len(x, sa);
	return 0;
}

/**
 * xtfs_clone_state() - state for an SA cloned for migration
 * @x: the new SA
 * @orig: the SA it is cloned from
 *
 * The clone gets the configuration (the IIPC rule included) and fresh
 * queues, timers and counters; nothing in flight is shared with @orig. An implicit-IV SA is not
 * migrated: the clone would send under @orig's key while @orig stays
 * valid and keeps sending, and the two would repeat nonces (RFC 8750
 * section 7); its new addresses and encapsulation would also skip the
 * checks xtfs_esp_bind() makes. Documentation/xtfs.rst, "Security".
 *
 * Return: 0, -EOPNOTSUPP for an implicit-IV SA, or -ENOMEM.
 */
static int xtfs_clone_state(struct xfrm_state *x, struct xfrm_state *orig)
{
	struct xtfs_sa *o = orig->mode_data;

	struct xtfs_sa *sa;
	int err;

	if (xtfs_esp_served(orig))
		return -EOPNOTSUPP;
	err = xtfs_sa_attach(x, &o->cfg);
	if (err || !o->iipc.on)
		return err;
	sa = x->mode_data;
	sa->iipc = o->iipc;
	sa->pl = xtfs_payload_ops_of(sa->cfg.payload, &sa->iipc);
	return 0;
}

/**
 * xtfs_destroy_state() - free xtfs state of a dying SA
 * @x: the SA
 *
 * Called from the xfrm state garbage collector once nothing refers to
 * the SA: timers are stopped before anything they use is freed.
 */
static void xtfs_destroy_state(struct xfrm_state *x)
{
	struct xtfs_sa *sa = x->mode_data;

	if (!sa)
		return;
	xtfs_sa_unlink(sa);
	xtfs_output_destroy(sa);
	xtfs_input_destroy(sa);
	/* An implicit-IV SA's type frees the rest, right after this. */
	if (!xtfs_esp_destroy(x, sa))
		xtfs_sa_free(x);
}

/**
 * xtfs_sa_free() - free the xtfs state of a dying SA and unpin the module
 * @x: the SA; its state stopped (xtfs_destroy_state())
 *
 * Called by xtfs_destroy_state(), or for an SA served by xtfs's ESP type
 * by that type's destructor, which xfrm_state_gc_destroy() calls after the
 * mode's destroy_state and which still needs the state.
 */
void xtfs_sa_free(struct xfrm_state *x)
{
	kfree(x->mode_data);
	x->mode_data = NULL;
	module_put(THIS_MODULE);
}

/**
 * xtfs_settings_apply() - bind the extension settings staged for an SA
 * @net: network namespace
 * @x: the SA being created
 * @attrs: the request's attributes
 * @extack: extended ACK for error messages
 *
 * The SA's wire format is chosen here, once: its payload format
 * (xtfs_payload_ops_of()) and its ESP engine (xtfs_esp_bind() gives an
 * implicit-IV SA xtfs's ESP type), then its header lengths.
 *
 * Return: 0, or a negative error with an extended ACK message.
 */
static int xtfs_settings_apply(struct net *net, struct xfrm_state *x,
			       struct nlattr **attrs,
			       struct netlink_ext_ack *extack)
{
	static const int iptfs_attrs[] = {
		XFRMA_IPTFS_DROP_TIME, XFRMA_IPTFS_REORDER_WINDOW,
		XFRMA_IPTFS_DONT_FRAG, XFRMA_IPTFS_INIT_DELAY,
		XFRMA_IPTFS_MAX_QSIZE, XFRMA_IPTFS_PKT_SIZE,
	};
	struct xtfs_sa *sa = x->mode_data;
	struct xtfs_settings set;
	int i, err;

	xtfs_stage_take(net, x, &set);
	sa->cfg.pace = set.pace;
	if (set.payload == XTFS_PAYLOAD_TUNNEL) {
		for (i = 0; i < ARRAY_SIZE(iptfs_attrs); i++) {
			if (!attrs[iptfs_attrs[i]])
				continue;
			NL_SET_ERR_MSG_MOD(extack,
					   "IP-TFS parameters do not apply to an SA with the tunnel payload");
			NL_SET_BAD_ATTR(extack, attrs[iptfs_attrs[i]]);
			return -EINVAL;
		}
		sa->cfg.payload = XTFS_PAYLOAD_TUNNEL;
		sa->pl = xtfs_payload_ops_of(sa->cfg.payload, &set.iipc);
		/*
		 * Inner packets reach ESP whole: without this, esp4/esp6
		 * offload would take GSO batches past the mode to segment
		 * them later, which it cannot do for IP-TFS mode (its
		 * segmentation knows tunnel, transport and BEET only).
		 */
		xfrm_unset_type_offload(x);
	}
	if (set.iipc.on) {
		err = xtfs_iipc_bind(x, sa, &set, extack);
		if (err)
			return err;
	}
	err = xtfs_diet_check_whole(x, &set, extack);
	if (err)
		return err;
	if (set.iiv || xtfs_diet_wanted(&set)) {
		err = xtfs_esp_bind(x, sa, &set, extack);
		if (err)
			return err;
	}
	xtfs_header_len(x, sa);
	return 0;
}

/**
 * xtfs_send_bind() - check a paced SA against what it needs
 * @x: the SA being created
 * @sa: its xtfs state, packet size and staged sending mode set
 * @extack: where to say why it is refused
 *
 * RFC 9347 sections 2.4.1 and 2.4.2: a fixed-rate or congestion-controlled
 * SA sends outer packets of one size at its rate: it needs the IP-TFS
 * packet size, the AGGFRAG payload (the tunnel payload has no pad to fill
 * a packet with) and to be outbound. Its rate starts here
 * (xtfs_cc_init()).
 *
 * Return: 0, or -EINVAL with an extended ACK message.
 */
static int xtfs_send_bind(struct xfrm_state *x, struct xtfs_sa *sa,
			  struct netlink_ext_ack *extack)
{
	if (sa->cfg.pace.send == XTFS_SEND_DEMAND)
		return 0;
	if (x->dir != XFRM_SA_DIR_OUT) {
		NL_SET_ERR_MSG_MOD(extack,
				   "a fixed-rate or congestion-controlled SA sends: it must be outbound (XFRMA_SA_DIR out)");
		return -EINVAL;
	}
	if (sa->cfg.payload != XTFS_PAYLOAD_AGGFRAG) {
		NL_SET_ERR_MSG_MOD(extack,
				   "a fixed-rate or congestion-controlled SA pads its packets: it needs the AGGFRAG payload");
		return -EINVAL;
	}
	if (!sa->cfg.pkt_size) {
		NL_SET_ERR_MSG_MOD(extack,
				   "a fixed-rate or congestion-controlled SA sends packets of one size: it needs an IP-TFS packet size (XFRMA_IPTFS_PKT_SIZE)");
		return -EINVAL;
	}
	xtfs_cc_init(sa);
	return 0;
}

/**
 * xtfs_time_attr() - a time attribute in microseconds, with its upper bound
 * @a: the attribute, or NULL when not given
 * @what: its name, for the message
 * @max: the largest value accepted
 * @us: out, the value, left as it is when @a is NULL
 * @extack: where to say why it is refused
 *
 * Return: 0, or -EINVAL with an extended ACK message naming the bound.
 */
static int xtfs_time_attr(const struct nlattr *a, const char *what, u32 max,
			  u32 *us, struct netlink_ext_ack *extack)
{
	u32 v;

	if (!a)
		return 0;
	v = nla_get_u32(a);
	if (v > max) {
		NL_SET_ERR_MSG_FMT_MOD(extack,
				       "IP-TFS %s %u us too long: at most %u",
				       what, v, max);
		NL_SET_BAD_ATTR(extack, a);
		return -EINVAL;
	}
	*us = v;
	return 0;
}

/**
 * xtfs_user_init() - apply XFRMA_IPTFS_* attributes and staged extension
 *	settings (xfrm_mode_cbs::user_init)
 * @net: network namespace
 * @x: the SA being created, not yet visible to packets
 * @attrs: the request's attributes
 * @extack: extended ACK for error messages
 *
 * Units and defaults are the in-tree module's; xfrm_user has already
 * rejected attributes given for the wrong direction. Drop time and init
 * delay have upper bounds the in-tree module lacks (%XTFS_MAX_DROP_TIME_US,
 * %XTFS_MAX_INIT_DELAY_US): they bound how long received and queued
 * packets are held. Extension settings
 * staged for the SA's identity (XTFS_CMD_SA_STAGE) are taken here, where
 * a refusal still means the SA is never created (Documentation/xtfs.rst,
 * "Extended ESP engine", Binding).
 *
 * Return: 0, or -EINVAL/-ENOMEM with an extended ACK message; the SA is
 * then not created.
 */
static int xtfs_user_init(struct net *net, struct xfrm_state *x,
			  struct nlattr **attrs,
			  struct netlink_ext_ack *extack)
{
	struct xtfs_sa *sa = x->mode_data;
	struct xtfs_config *c = &sa->cfg;
	u16 win = c->reorder_win;
	int err;

	err = xtfs_settings_apply(net, x, attrs, extack);
	if (err)
		return err;

	if (attrs[XFRMA_IPTFS_PKT_SIZE]) {
		u32 size = nla_get_u32(attrs[XFRMA_IPTFS_PKT_SIZE]);
		u32 min = xtfs_min_pkt_size(x);

		if (size && size < min) {
			NL_SET_ERR_MSG_FMT_MOD(extack,
					       "IP-TFS packet size %u too small: this SA needs at least %u",
					       size, min);
			NL_SET_BAD_ATTR(extack, attrs[XFRMA_IPTFS_PKT_SIZE]);
			return -EINVAL;
		}
		if (size > IP_MAX_MTU) {
			NL_SET_ERR_MSG_FMT_MOD(extack,
					       "IP-TFS packet size %u too large: at most %u",
					       size, IP_MAX_MTU);
			NL_SET_BAD_ATTR(extack, attrs[XFRMA_IPTFS_PKT_SIZE]);
			return -EINVAL;
		}
		c->pkt_size = size;
	}
	if (attrs[XFRMA_IPTFS_REORDER_WINDOW])
		win = nla_get_u16(attrs[XFRMA_IPTFS_REORDER_WINDOW]);
	if (attrs[XFRMA_IPTFS_DONT_FRAG])
		c->dont_frag = true;
	err = xtfs_time_attr(attrs[XFRMA_IPTFS_INIT_DELAY], "init delay",
			     XTFS_MAX_INIT_DELAY_US, &c->init_delay_us, extack);
	if (err)
		return err;
	if (attrs[XFRMA_IPTFS_MAX_QSIZE])
		c->max_qsize = nla_get_u32(attrs[XFRMA_IPTFS_MAX_QSIZE]);
	err = xtfs_time_attr(attrs[XFRMA_IPTFS_DROP_TIME], "drop time",
			     XTFS_MAX_DROP_TIME_US, &c->drop_time_us, extack);
	if (err)
		return err;

	err = xtfs_send_bind(x, sa, extack);
	if (err)
		return err;

	if (win != c->reorder_win) {
		/* No packet has seen this SA yet: resize the window. */
		xtfs_input_destroy(sa);
		c->reorder_win = win;
		if (xtfs_input_init(sa, GFP_KERNEL)) {
			NL_SET_ERR_MSG_MOD(extack,
					   "cannot allocate the IP-TFS reorder window");
			return -ENOMEM;
		}
	}
	return 0;
}

/**
 * xtfs_sa_len() - netlink space for xtfs_copy_to_user() (xfrm_mode_cbs::sa_len)
 * @x: the SA
 *
 * Return: octets needed.
 */
static unsigned int xtfs_sa_len(const struct xfrm_state *x)
{
	const struct xtfs_sa *sa = x->mode_data;

	if (x->dir == XFRM_SA_DIR_IN)
		return nla_total_size(sizeof(u32)) +	/* drop time */
		       nla_total_size(sizeof(u16));	/* reorder window */
	return (sa->cfg.dont_frag ? nla_total_size(0) : 0) +
	       3 * nla_total_size(sizeof(u32));	/* delay, qsize, pkt size */
}

/**
 * xtfs_copy_to_user() - report IP-TFS attributes (xfrm_mode_cbs::copy_to_user)
 * @x: the SA
 * @skb: netlink message being built
 *
 * The attributes of the SA's direction, as the in-tree module reports them.
 *
 * Return: 0 or -EMSGSIZE.
 */
static int xtfs_copy_to_user(struct xfrm_state *x, struct sk_buff *skb)
{
	const struct xtfs_config *c = &((struct xtfs_sa *)x->mode_data)->cfg;

	if (x->dir == XFRM_SA_DIR_IN) {
		if (nla_put_u32(skb, XFRMA_IPTFS_DROP_TIME, c->drop_time_us) ||
		    nla_put_u16(skb, XFRMA_IPTFS_REORDER_WINDOW, c->reorder_win))
			return -EMSGSIZE;
		return 0;
	}
	if ((c->dont_frag && nla_put_flag(skb, XFRMA_IPTFS_DONT_FRAG)) ||
	    nla_put_u32(skb, XFRMA_IPTFS_INIT_DELAY, c->init_delay_us) ||
	    nla_put_u32(skb, XFRMA_IPTFS_MAX_QSIZE, c->max_qsize) ||
	    nla_put_u32(skb, XFRMA_IPTFS_PKT_SIZE, c->pkt_size))
		return -EMSGSIZE;
	return 0;
}

static const struct xfrm_mode_cbs xtfs_mode_cbs = {
	.owner		= THIS_MODULE,
	.init_state	= xtfs_init_state,
	.clone_state	= xtfs_clone_state,
	.destroy_state	= xtfs_destroy_state,
	.user_init	= xtfs_user_init,
	.copy_to_user	= xtfs_copy_to_user,
	.sa_len		= xtfs_sa_len,
	.get_inner_mtu	= xtfs_get_inner_mtu,
	.input		= xtfs_input,
	.output		= xtfs_output,
	.prepare_output	= xtfs_prepare_output,
};

/**
 * xtfs_state_sa() - xtfs state of an SA, if xtfs serves it
 * @x: any SA; the caller keeps it alive (reference or xfrm_state_lock)
 *
 * Only an SA whose mode callbacks are xtfs's carries a &struct xtfs_sa in
 * mode_data: an IP-TFS SA of another module, or a larval (acquire) SA
 * that was never initialised, does not.
 *
 * Return: the state, or NULL.
 */
struct xtfs_sa *xtfs_state_sa(const struct xfrm_state *x)
{
	if (x->mode_cbs != &xtfs_mode_cbs)
		return NULL;
	return x->mode_data;
}

/**
 * xtfs_intree_loaded() - is the in-tree IP-TFS module loaded?
 *
 * The mode slot has no reader, so look for the module itself: in the
 * kernel's set of module objects (the one THIS_MODULE is in), not through
 * a path, which would depend on the loader's mount namespace.
 *
 * Return: true when a module named xfrm_iptfs is loaded or loading.
 */
static bool xtfs_intree_loaded(void)
{
	struct kset *modules = THIS_MODULE->mkobj.kobj.kset;
	struct kobject *kobj;

	if (!modules)
		return false;
	kobj = kset_find_obj(modules, XTFS_INTREE_NAME);
	if (!kobj)
		return false;
	kobject_put(kobj);
	return true;
}

/* xtfs's callbacks are in the mode slot (between init and exit), under
 * xtfs_slot_lock, which also orders the slot writes of init, exit and
 * xtfs_module_event().
 */
static bool xtfs_registered;
static DEFINE_MUTEX(xtfs_slot_lock);

/**
 * xtfs_module_event() - refuse the in-tree module while xtfs owns the slot
 * @nb: notifier block
 * @action: module state change
 * @data: the module
 *
 * xfrm_register_mode_cbs() overwrites the slot without a word, so a later
 * xfrm_iptfs would take every IP-TFS SA away from xtfs, and its exit
 * clears the slot whoever owns it. Its load is refused when it is coming.
 * A load that was past that point when this notifier was registered is
 * only seen when it is live, after it took the slot, and again when it
 * goes, after it cleared the slot: both times xtfs, loaded first, takes
 * the slot back.
 *
 * Return: NOTIFY_DONE, or an -EBUSY notification that stops the load.
 */
static int xtfs_module_event(struct notifier_block *nb, unsigned long action,
			     void *data)
{
	struct module *mod = data;

	if (strcmp(mod->name, XTFS_INTREE_NAME))
		return NOTIFY_DONE;
	if (action == MODULE_STATE_COMING) {
		pr_err("refusing to let %s take the IP-TFS mode from xtfs; unload xtfs first\n",
		       XTFS_INTREE_NAME);
		return notifier_from_errno(-EBUSY);
	}
	if (action != MODULE_STATE_LIVE && action != MODULE_STATE_GOING)
		return NOTIFY_DONE;
	mutex_lock(&xtfs_slot_lock);
	if (xtfs_registered) {
		if (action == MODULE_STATE_LIVE)
			pr_err("%s loaded beside xtfs: xtfs keeps the IP-TFS mode; unload %s\n",
			       XTFS_INTREE_NAME, XTFS_INTREE_NAME);
		xfrm_register_mode_cbs(XFRM_MODE_IPTFS, &xtfs_mode_cbs);
	}
	mutex_unlock(&xtfs_slot_lock);
	return NOTIFY_DONE;
}

static struct notifier_block xtfs_module_nb = {
	.notifier_call = xtfs_module_event,
};

/**
 * xtfs_netdev_event() - a device is going down or away (netdevice notifier)
 * @nb: notifier block
 * @event: NETDEV_*
 * @ptr: &struct netdev_notifier_info
 *
 * At NETDEV_DOWN and NETDEV_UNREGISTER the SAs of the device's namespace
 * drop the queued packets routed by it (xtfs_output_flush_dev()). This
 * runs before the routing code's handlers (see &xtfs_netdev_nb), which
 * move the routes, xfrm bundles included, to blackhole_netdev: the
 * device's references are then gone whatever xtfs holds, and the packets
 * would be sent into the blackhole at the end of the init delay. Held
 * received packets refer to their device by index only.
 *
 * Return: NOTIFY_DONE.
 */
static int xtfs_netdev_event(struct notifier_block *nb, unsigned long event,
			     void *ptr)
{
	struct net_device *dev = netdev_notifier_info_to_dev(ptr);
	struct xtfs_pernet *pn;
	struct xtfs_sa *sa;

	if (event != NETDEV_DOWN && event != NETDEV_UNREGISTER)
		return NOTIFY_DONE;
	pn = net_generic(dev_net(dev), xtfs_net_id);
	spin_lock_bh(&pn->xn->lock);
	list_for_each_entry(sa, &pn->xn->sas, node)
		xtfs_output_flush_dev(sa, dev);
	spin_unlock_bh(&pn->xn->lock);
	return NOTIFY_DONE;
}

/* Ahead of fib_netdev_event() and addrconf_notify() (priority 0). */
static struct notifier_block xtfs_netdev_nb = {
	.notifier_call	= xtfs_netdev_event,
	.priority	= ADDRCONF_NOTIFY_PRIORITY + 1,
};

/**
 * xtfs_net_init() - per-namespace set-up
 * @net: the namespace
 *
 * Return: 0 or -ENOMEM.
 */
static int __net_init xtfs_net_init(struct net *net)
{
	struct xtfs_pernet *pn = net_generic(net, xtfs_net_id);
	struct xtfs_net *xn = kzalloc_obj(*xn, GFP_KERNEL_ACCOUNT);

	if (!xn)
		return -ENOMEM;
	refcount_set(&xn->ref, 1);
	spin_lock_init(&xn->lock);
	INIT_LIST_HEAD(&xn->sas);
	pn->xn = xn;
	return 0;
}

/**
 * xtfs_net_exit() - per-namespace tear-down
 * @net: the namespace
 *
 * SAs still listed keep the list until their own destruction.
 */
static void __net_exit xtfs_net_exit(struct net *net)
{
	struct xtfs_pernet *pn = net_generic(net, xtfs_net_id);

	xtfs_net_put(pn->xn);
}

static struct pernet_operations xtfs_net_ops = {
	.init	= xtfs_net_init,
	.exit	= xtfs_net_exit,
	.id	= &xtfs_net_id,
	.size	= sizeof(struct xtfs_pernet),
};

/**
 * xtfs_init() - module init: guard, netlink family, then the mode
 *
 * The mode comes last: once it is registered SAs can be created, and
 * everything they use must be in place.
 *
 * Return: 0, -EBUSY when the in-tree module holds the mode, or the error
 * of a failed registration.
 */
static int __init xtfs_init(void)
{
	int err;

	if (IS_BUILTIN(CONFIG_XFRM_IPTFS)) {
		pr_err("this kernel has %s built in (CONFIG_XFRM_IPTFS=y), which serves IP-TFS\n",
		       XTFS_INTREE_NAME);
		return -EBUSY;
	}
	err = register_module_notifier(&xtfs_module_nb);
	if (err)
		return err;
	/* Checked after the notifier is in place, so no window is left. */
	if (xtfs_intree_loaded()) {
		pr_err("the in-tree %s module serves IP-TFS; unload or blacklist it to use xtfs\n",
		       XTFS_INTREE_NAME);
		err = -EBUSY;
		goto err_notifier;
	}
	err = register_pernet_subsys(&xtfs_net_ops);
	if (err)
		goto err_notifier;
	err = register_netdevice_notifier(&xtfs_netdev_nb);
	if (err)
		goto err_pernet;
	err = xtfs_netlink_init();
	if (err)
		goto err_netdev;
	err = xtfs_esp_init();
	if (err)
		goto err_netlink;
	mutex_lock(&xtfs_slot_lock);
	err = xfrm_register_mode_cbs(XFRM_MODE_IPTFS, &xtfs_mode_cbs);
	xtfs_registered = !err;
	mutex_unlock(&xtfs_slot_lock);
	if (err)
		goto err_esp;
	pr_info("IP-TFS (RFC 9347) mode registered\n");
	return 0;

err_esp:
	xtfs_esp_exit();
err_netlink:
	xtfs_netlink_exit();
err_netdev:
	unregister_netdevice_notifier(&xtfs_netdev_nb);
err_pernet:
	unregister_pernet_subsys(&xtfs_net_ops);
err_notifier:
	unregister_module_notifier(&xtfs_module_nb);
	return err;
}

/**
 * xtfs_exit() - module exit
 *
 * Runs only once no SA holds a module reference. The slot is ours: the
 * notifier kept the in-tree module out while we were loaded.
 */
static void __exit xtfs_exit(void)
{
	mutex_lock(&xtfs_slot_lock);
	xtfs_registered = false;
	xfrm_unregister_mode_cbs(XFRM_MODE_IPTFS);
	mutex_unlock(&xtfs_slot_lock);
	xtfs_esp_exit();
	xtfs_netlink_exit();
	unregister_module_notifier(&xtfs_module_nb);
	/* The last SA's module reference is put from the state garbage
	 * collector's work: by its destroy_state(), or for an SA served by
	 * xtfs's ESP type by the core's xfrm_put_type() after that type's
	 * destructor. Let that work return before the module text goes.
	 */
	xfrm_flush_gc();
	unregister_netdevice_notifier(&xtfs_netdev_nb);
	unregister_pernet_subsys(&xtfs_net_ops);
}

module_init(xtfs_init);
module_exit(xtfs_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("IP-TFS (RFC 9347) for xfrm: aggregation and fragmentation of inner packets in ESP");
MODULE_AUTHOR("xtfs developers");
MODULE_ALIAS("xfrm-iptfs");
/* dkms.conf's PACKAGE_VERSION (Kbuild); "xtfs -V" shows it. */
MODULE_VERSION(XTFS_VERSION);
/* The helper's first request to the "xtfs" family loads the module. */
MODULE_ALIAS_GENL_FAMILY(XTFS_GENL_NAME);
