/* SPDX-License-Identifier: GPL-2.0 */
/*
 * XFRM netlink constants newer than the build host's headers
 *
 * Debian bookworm ships the 6.1 UAPI headers (no XFRMA_SA_DIR, no IP-TFS),
 * trixie ships 6.12 (no IP-TFS). The values below are those of the Linux
 * UAPI header include/uapi/linux/xfrm.h as of v6.14 and later (IP-TFS was
 * merged in v6.14; UAPI enums are append-only, so they hold for 7.x too).
 * They carry an XTFS_ prefix so that they never clash with a header that
 * already has them; when it does, they are checked against it below.
 */
#ifndef XTFS_XFRM_COMPAT_H
#define XTFS_XFRM_COMPAT_H

#include <assert.h>

#include <linux/xfrm.h>

/* struct xfrm_usersa_info.mode, struct xfrm_user_tmpl.mode */
#define XTFS_MODE_IPTFS		5

/* enum xfrm_sa_dir: payload of XFRMA_SA_DIR (u8) */
#define XTFS_SA_DIR_IN		1
#define XTFS_SA_DIR_OUT		2

/* enum xfrm_attr_type_t, from XFRMA_IF_ID on */
#define XTFS_XFRMA_IF_ID			31	/* u32 */
#define XTFS_XFRMA_MTIMER_THRESH		32	/* u32, seconds */
#define XTFS_XFRMA_SA_DIR			33	/* u8 */
#define XTFS_XFRMA_NAT_KEEPALIVE_INTERVAL	34	/* u32, seconds */
#define XTFS_XFRMA_SA_PCPU			35	/* u32 */
#define XTFS_XFRMA_IPTFS_DROP_TIME		36	/* u32, in: usec */
#define XTFS_XFRMA_IPTFS_REORDER_WINDOW		37	/* u16, in: packets */
#define XTFS_XFRMA_IPTFS_DONT_FRAG		38	/* flag, out */
#define XTFS_XFRMA_IPTFS_INIT_DELAY		39	/* u32, out: usec */
#define XTFS_XFRMA_IPTFS_MAX_QSIZE		40	/* u32, out: octets */
#define XTFS_XFRMA_IPTFS_PKT_SIZE		41	/* u32, out: octets */
#define XTFS_XFRMA_MAX				41

/* Anchor the hand-counted numbers to the host header. */
static_assert(XFRMA_IF_ID == XTFS_XFRMA_IF_ID, "XFRMA_IF_ID mismatch");
static_assert(XFRM_MODE_BEET + 1 == XTFS_MODE_IPTFS, "mode numbering");

#ifdef XFRM_MODE_IPTFS
/* A header that knows IP-TFS also has every other value: compare them. */
static_assert(XFRM_MODE_IPTFS == XTFS_MODE_IPTFS, "XFRM_MODE_IPTFS");
static_assert(XFRM_SA_DIR_IN == XTFS_SA_DIR_IN, "XFRM_SA_DIR_IN");
static_assert(XFRM_SA_DIR_OUT == XTFS_SA_DIR_OUT, "XFRM_SA_DIR_OUT");
static_assert(XFRMA_MTIMER_THRESH == XTFS_XFRMA_MTIMER_THRESH, "MTIMER");
static_assert(XFRMA_SA_DIR == XTFS_XFRMA_SA_DIR, "XFRMA_SA_DIR");
static_assert(XFRMA_SA_PCPU == XTFS_XFRMA_SA_PCPU, "XFRMA_SA_PCPU");
static_assert(XFRMA_IPTFS_DROP_TIME == XTFS_XFRMA_IPTFS_DROP_TIME,
	      "XFRMA_IPTFS_DROP_TIME");
static_assert(XFRMA_IPTFS_REORDER_WINDOW == XTFS_XFRMA_IPTFS_REORDER_WINDOW,
	      "XFRMA_IPTFS_REORDER_WINDOW");
static_assert(XFRMA_IPTFS_DONT_FRAG == XTFS_XFRMA_IPTFS_DONT_FRAG,
	      "XFRMA_IPTFS_DONT_FRAG");
static_assert(XFRMA_IPTFS_INIT_DELAY == XTFS_XFRMA_IPTFS_INIT_DELAY,
	      "XFRMA_IPTFS_INIT_DELAY");
static_assert(XFRMA_IPTFS_MAX_QSIZE == XTFS_XFRMA_IPTFS_MAX_QSIZE,
	      "XFRMA_IPTFS_MAX_QSIZE");
static_assert(XFRMA_IPTFS_PKT_SIZE == XTFS_XFRMA_IPTFS_PKT_SIZE,
	      "XFRMA_IPTFS_PKT_SIZE");
#endif

/* Kernel-internal XFRM_MAX_DEPTH: most templates in one policy. */
#define XTFS_MAX_TMPL		6

#endif /* XTFS_XFRM_COMPAT_H */
