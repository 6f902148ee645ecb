// SPDX-License-Identifier: GPL-2.0
/*
 * NETLINK_XFRM requests and replies, with extended ACK reporting
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

static struct mnl_socket *nl;
static __u32 nl_seq;
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

/* attr_cb - mnl_attr_parse callback filling a table indexed by type. */
static int attr_cb(const struct nlattr *a, void *data)
{
	const struct nlattr **tb = data;
	__u16 type = mnl_attr_get_type(a);

	if (type <= XTFS_XFRMA_MAX)
		tb[type] = a;
	return MNL_CB_OK;
}

/*
 * nl_attrs - index the attributes after a fixed header of hdrlen bytes;
 * tb must have XTFS_XFRMA_MAX + 1 entries. Returns -1 if malformed.
 */
int nl_attrs(const struct nlmsghdr *nlh, size_t hdrlen,
	     const struct nlattr **tb)
{
	memset(tb, 0, (XTFS_XFRMA_MAX + 1) * sizeof(*tb));
	if (nlh->nlmsg_len < MNL_NLMSG_HDRLEN + MNL_ALIGN(hdrlen))
		return -1;
	if (mnl_attr_parse(nlh, hdrlen, attr_cb, tb) < 0)
		return -1;
	return 0;
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

/* nl_open - open and bind the NETLINK_XFRM socket, asking for ext ACKs. */
static int nl_open(void)
{
	int one = 1;

	nl = mnl_socket_open(NETLINK_XFRM);
	if (!nl) {
		fprintf(stderr, "xtfs: cannot open a NETLINK_XFRM socket: %s%s\n",
			strerror(errno),
			errno == EPROTONOSUPPORT ?
			" (kernel without CONFIG_XFRM_USER?)" : "");
		return -1;
	}
	/* Best effort: old kernels lack them and still work. */
	mnl_socket_setsockopt(nl, NETLINK_CAP_ACK, &one, sizeof(one));
	mnl_socket_setsockopt(nl, NETLINK_EXT_ACK, &one, sizeof(one));
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		fprintf(stderr, "xtfs: cannot bind the netlink socket: %s\n",
			strerror(errno));
		mnl_socket_close(nl);
		nl = NULL;
		return -1;
	}
	return 0;
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
static int nl_recv(__u32 seq, bool dump, nl_cb cb, void *data)
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
 * nl_talk - send a request (or, with --dry-run, hex-dump it) and process
 * the replies. dump: the request carries NLM_F_DUMP and ends with DONE.
 * Returns 0 on success, -1 after printing an error.
 */
int nl_talk(struct nlmsghdr *nlh, bool dump, nl_cb cb, void *data)
{
	if (opts.dry_run) {
		nl_hexdump(nlh);
		return 0;
	}
	if (!nl && nl_open() < 0)
		return -1;
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
		fprintf(stderr, "xtfs: netlink send failed: %s\n",
			strerror(errno));
		return -1;
	}
	return nl_recv(nlh->nlmsg_seq, dump, cb, data);
}
