// SPDX-License-Identifier: GPL-2.0
/*
 * Netlink requests and replies (NETLINK_XFRM, and NETLINK_GENERIC for the
 * xtfs family), with extended ACK reporting
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libmnl/libmnl.h>

#include "xtfs.h"

#define NL_TXBUF	(64 * 1024)
#define NL_RXBUF	(64 * 1024)

static const char dump_intr_msg[] =
	"xtfs: warning: dump interrupted, output may be inconsistent\n";

/* One socket per protocol, opened on first use. */
static struct mnl_socket *nl_xfrm, *nl_genl;
static __u32 nl_seq;
/* The outcome of the last request: see nl_last_err(). */
static int last_err;
static char last_msg[256];
static bool quiet;
static __u64 txbuf[NL_TXBUF / sizeof(__u64)];
static __u64 rxbuf[NL_RXBUF / sizeof(__u64)];

/* nl_msg - start a request of the given type in the transmit buffer. */
struct nlmsghdr *nl_msg(__u16 type, __u16 flags)
{
	struct nlmsghdr *nlh;

	if (!nl_seq)
		nl_seq = time(NULL);
	memset(txbuf, 0, sizeof(txbuf));
	nlh = mnl_nlmsg_put_header(txbuf);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	nlh->nlmsg_seq = ++nl_seq;
	return nlh;
}

/* nl_extra - append the zeroed fixed header (e.g. xfrm_usersa_info). */
void *nl_extra(struct nlmsghdr *nlh, size_t len)
{
	return mnl_nlmsg_put_extra_header(nlh, len);
}

/* nl_put - append an attribute; a request that overflows is a bug. */
void nl_put(struct nlmsghdr *nlh, __u16 type, size_t len,
	    const void *data)
{
	if (!mnl_attr_put_check(nlh, NL_TXBUF, type, len, data)) {
		fprintf(stderr, "xtfs: request too large\n");
		exit(XTFS_EXIT_FAIL);
	}
}

/* nl_put_u8 - append a u8 attribute. */
void nl_put_u8(struct nlmsghdr *nlh, __u16 type, __u8 v)
{
	nl_put(nlh, type, sizeof(v), &v);
}

/* nl_put_u16 - append a u16 attribute. */
void nl_put_u16(struct nlmsghdr *nlh, __u16 type, __u16 v)
{
	nl_put(nlh, type, sizeof(v), &v);
}

/* nl_put_u32 - append a u32 attribute. */
void nl_put_u32(struct nlmsghdr *nlh, __u16 type, __u32 v)
{
	nl_put(nlh, type, sizeof(v), &v);
}

/* The table an attr_cb fills: entries 0..max. */
struct attr_tb {
	const struct nlattr **tb;
	unsigned int max;
};

/* attr_cb - mnl_attr_parse callback filling a struct attr_tb by type. */
static int attr_cb(const struct nlattr *a, void *data)
{
	const struct attr_tb *t = data;
	__u16 type = mnl_attr_get_type(a);

	if (type <= t->max)
		t->tb[type] = a;
	return MNL_CB_OK;
}

/*
 * nl_attrs_max - index the attributes after a fixed header of hdrlen
 * bytes in tb[0..max]; later types are skipped. Returns -1 if malformed.
 */
int nl_attrs_max(const struct nlmsghdr *nlh, size_t hdrlen,
		 const struct nlattr **tb, unsigned int max)
{
	struct attr_tb t = { tb, max };

	memset(tb, 0, (max + 1) * sizeof(*tb));
	if (nlh->nlmsg_len < MNL_NLMSG_HDRLEN + MNL_ALIGN(hdrlen))
		return -1;
	if (mnl_attr_parse(nlh, hdrlen, attr_cb, &t) < 0)
		return -1;
	return 0;
}

/*
 * nl_attrs_nested - index the attributes inside a nest in tb[0..max].
 * Returns -1 if malformed.
 */
int nl_attrs_nested(const struct nlattr *nest, const struct nlattr **tb,
		    unsigned int max)
{
	struct attr_tb t = { tb, max };

	memset(tb, 0, (max + 1) * sizeof(*tb));
	if (mnl_attr_parse_nested(nest, attr_cb, &t) < 0)
		return -1;
	return 0;
}

/*
 * nl_attrs - index the XFRMA_* attributes after a fixed header of hdrlen
 * bytes; tb must have XTFS_XFRMA_MAX + 1 entries. Returns -1 if malformed.
 */
int nl_attrs(const struct nlmsghdr *nlh, size_t hdrlen,
	     const struct nlattr **tb)
{
	return nl_attrs_max(nlh, hdrlen, tb, XTFS_XFRMA_MAX);
}

/* nl_attr_data - payload of an attribute holding at least min bytes. */
const void *nl_attr_data(const struct nlattr *a, size_t min)
{
	if (!a || mnl_attr_get_payload_len(a) < min)
		return NULL;
	return mnl_attr_get_payload(a);
}

/* nl_hexdump - --dry-run: print a request instead of sending it. */
static void nl_hexdump(const struct nlmsghdr *nlh)
{
	const unsigned char *p = (const unsigned char *)nlh;
	__u32 i;

	printf("# nlmsg type %u flags 0x%x len %u\n", nlh->nlmsg_type,
	       nlh->nlmsg_flags, nlh->nlmsg_len);
	for (i = 0; i < nlh->nlmsg_len; i++)
		printf("%s%02x%s", i % 16 ? " " : "", p[i],
		       i % 16 == 15 || i + 1 == nlh->nlmsg_len ? "\n" : "");
	fflush(stdout);
}

/* nl_open - open and bind a netlink socket, asking for ext ACKs. */
static struct mnl_socket *nl_open(int proto)
{
	struct mnl_socket *nl;
	int one = 1;

	nl = mnl_socket_open(proto);
	if (!nl) {
		fprintf(stderr, "xtfs: cannot open a %s socket: %s%s\n",
			proto == NETLINK_XFRM ? "NETLINK_XFRM" : "NETLINK_GENERIC",
			strerror(errno),
			errno == EPROTONOSUPPORT && proto == NETLINK_XFRM ?
			" (kernel without CONFIG_XFRM_USER?)" : "");
		return NULL;
	}
	/* Best effort: old kernels lack them and still work. */
	mnl_socket_setsockopt(nl, NETLINK_CAP_ACK, &one, sizeof(one));
	mnl_socket_setsockopt(nl, NETLINK_EXT_ACK, &one, sizeof(one));
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		fprintf(stderr, "xtfs: cannot bind the netlink socket: %s\n",
			strerror(errno));
		mnl_socket_close(nl);
		return NULL;
	}
	return nl;
}

/* ext_ack_msg - the NLMSGERR_ATTR_MSG string among extended ACK TLVs. */
static const char *ext_ack_msg(const void *tlvs, size_t len)
{
	const char *end = (const char *)tlvs + len;
	const struct nlattr *a;

	for (a = tlvs; mnl_attr_ok(a, end - (const char *)a);
	     a = mnl_attr_next(a)) {
		if (mnl_attr_get_type(a) != NLMSGERR_ATTR_MSG)
			continue;
		if (mnl_attr_validate(a, MNL_TYPE_NUL_STRING) < 0)
			return NULL;
		return mnl_attr_get_str(a);
	}
	return NULL;
}

/*
 * nl_report - print the outcome carried by an ACK or a dump's DONE:
 * "xtfs: <strerror>: <extack message>" on error (returns -1), or a kernel
 * warning on success (returns 0).
 */
static int nl_report(int err, const char *msg)
{
	last_err = err < 0 ? -err : 0;
	snprintf(last_msg, sizeof(last_msg), "%s", err < 0 && msg ? msg : "");
	if (quiet)
		return err < 0 ? -1 : 0;
	if (err < 0) {
		if (msg && *msg)
			fprintf(stderr, "xtfs: %s: %s\n", strerror(-err), msg);
		else
			fprintf(stderr, "xtfs: %s\n", strerror(-err));
		return -1;
	}
	if (msg && *msg)
		fprintf(stderr, "xtfs: warning: %s\n", msg);
	return 0;
}

/* nl_error_msg - decode an NLMSG_ERROR message (an ACK when error is 0). */
static int nl_error_msg(const struct nlmsghdr *nlh)
{
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
	size_t plen = mnl_nlmsg_get_payload_len(nlh);
	size_t hlen = sizeof(*e);
	const char *msg = NULL;

	if (plen < sizeof(*e)) {
		fprintf(stderr, "xtfs: truncated netlink error message\n");
		return -1;
	}
	/* Without NETLINK_CAP_ACK the request is echoed before the TLVs. */
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED) &&
	    e->msg.nlmsg_len >= MNL_NLMSG_HDRLEN)
		hlen += e->msg.nlmsg_len - MNL_NLMSG_HDRLEN;
	hlen = MNL_ALIGN(hlen);
	if ((nlh->nlmsg_flags & NLM_F_ACK_TLVS) && plen > hlen)
		msg = ext_ack_msg((const char *)e + hlen, plen - hlen);
	return nl_report(e->error, msg);
}

/* nl_done_msg - decode the NLMSG_DONE closing a dump. */
static int nl_done_msg(const struct nlmsghdr *nlh)
{
	size_t plen = mnl_nlmsg_get_payload_len(nlh);
	const char *p = mnl_nlmsg_get_payload(nlh);
	const char *msg = NULL;
	int err = 0;

	if (plen >= sizeof(err))
		memcpy(&err, p, sizeof(err));
	if ((nlh->nlmsg_flags & NLM_F_ACK_TLVS) && plen > MNL_ALIGN(sizeof(err)))
		msg = ext_ack_msg(p + MNL_ALIGN(sizeof(err)),
				  plen - MNL_ALIGN(sizeof(err)));
	return nl_report(err, msg);
}

/*
 * nl_recv - read replies to request seq until its ACK (or, for a dump,
 * its NLMSG_DONE), handing every data message to cb.
 */
static int nl_recv(struct mnl_socket *nl, __u32 seq, bool dump, nl_cb cb,
		   void *data)
{
	const struct nlmsghdr *nlh;
	bool warned = false;
	int len;

	for (;;) {
		len = mnl_socket_recvfrom(nl, rxbuf, sizeof(rxbuf));
		if (len < 0) {
			fprintf(stderr, "xtfs: netlink receive failed: %s\n",
				strerror(errno));
			return -1;
		}
		for (nlh = (const struct nlmsghdr *)rxbuf;
		     mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len)) {
			if (nlh->nlmsg_seq != seq)
				continue;
			if ((nlh->nlmsg_flags & NLM_F_DUMP_INTR) && !warned) {
				fputs(dump_intr_msg, stderr);
				warned = true;
			}
			switch (nlh->nlmsg_type) {
			case NLMSG_NOOP:
				break;
			case NLMSG_ERROR:
				return nl_error_msg(nlh);
			case NLMSG_DONE:
				if (dump)
					return nl_done_msg(nlh);
				break;
			case NLMSG_OVERRUN:
				fprintf(stderr, "xtfs: netlink overrun\n");
				return -1;
			default:
				if (cb && cb(nlh, data) < 0)
					return -1;
				break;
			}
		}
	}
}

/*
 * nl_talk_proto - send a request on the socket of a netlink protocol (or,
 * with --dry-run, hex-dump it) and process the replies. dump: the request
 * carries NLM_F_DUMP and ends with DONE. Returns 0 on success, -1 after
 * printing an error (unless nl_quiet() asked for silence).
 */
int nl_talk_proto(int proto, struct nlmsghdr *nlh, bool dump, nl_cb cb,
		  void *data)
{
	struct mnl_socket **nl = proto == NETLINK_XFRM ? &nl_xfrm : &nl_genl;

	last_err = 0;
	last_msg[0] = '\0';
	if (opts.dry_run) {
		nl_hexdump(nlh);
		return 0;
	}
	if (!*nl) {
		*nl = nl_open(proto);
		if (!*nl) {
			last_err = EIO;
			return -1;
		}
	}
	if (mnl_socket_sendto(*nl, nlh, nlh->nlmsg_len) < 0) {
		last_err = errno;
		fprintf(stderr, "xtfs: netlink send failed: %s\n",
			strerror(errno));
		return -1;
	}
	return nl_recv(*nl, nlh->nlmsg_seq, dump, cb, data);
}

/*
 * nl_listen - join a multicast group of a netlink protocol on a socket of
 * its own and hand every notification to cb, until cb returns < 0 or
 * receiving fails (returns -1 after printing why). Notifications lost to
 * a full receive buffer are reported on standard error, and listening
 * goes on.
 */
int nl_listen(int proto, __u32 group, nl_cb cb, void *data)
{
	const struct nlmsghdr *nlh;
	struct mnl_socket *nl;
	int len;

	nl = nl_open(proto);
	if (!nl)
		return -1;
	if (mnl_socket_setsockopt(nl, NETLINK_ADD_MEMBERSHIP, &group,
				  sizeof(group)) < 0) {
		fprintf(stderr, "xtfs: cannot join netlink group %u: %s\n",
			group, strerror(errno));
		goto fail;
	}
	for (;;) {
		len = mnl_socket_recvfrom(nl, rxbuf, sizeof(rxbuf));
		if (len < 0 && errno == ENOBUFS) {
			fputs("xtfs: warning: notifications lost (receive buffer full)\n",
			      stderr);
			continue;
		}
		if (len < 0 && errno == EINTR)
			continue;
		if (len < 0) {
			fprintf(stderr, "xtfs: netlink receive failed: %s\n",
				strerror(errno));
			goto fail;
		}
		for (nlh = (const struct nlmsghdr *)rxbuf;
		     mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len))
			if (nlh->nlmsg_type >= NLMSG_MIN_TYPE && cb(nlh, data) < 0)
				goto fail;
	}
fail:
	mnl_socket_close(nl);
	return -1;
}

/* nl_talk - nl_talk_proto() on NETLINK_XFRM. */
int nl_talk(struct nlmsghdr *nlh, bool dump, nl_cb cb, void *data)
{
	return nl_talk_proto(NETLINK_XFRM, nlh, dump, cb, data);
}

/*
 * nl_quiet - with on, kernel errors (NLMSG_ERROR, a dump's DONE) are only
 * recorded for nl_last_err(), not printed; returns the previous setting.
 */
bool nl_quiet(bool on)
{
	bool was = quiet;

	quiet = on;
	return was;
}

/*
 * nl_last_err - the errno of the last request's kernel error (0 if none)
 * and, in *msg, its extended ACK message ("" if none).
 */
int nl_last_err(const char **msg)
{
	if (msg)
		*msg = last_msg;
	return last_err;
}
