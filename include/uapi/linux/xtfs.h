/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * xtfs - IP-TFS (RFC 9347), implicit IV (RFC 8750) and Diet-ESP for xfrm.
 *
 * User API shared by the kernel module and the xtfs helper.
 *
 * IP-TFS parameters travel as the kernel's own XFRMA_IPTFS_* attributes
 * of XFRM_MSG_NEWSA. This header holds what the kernel's attribute set
 * cannot carry: the name of xtfs's generic netlink family and the per-SA
 * counters it reports.
 */
#ifndef _UAPI_LINUX_XTFS_H
#define _UAPI_LINUX_XTFS_H

#define XTFS_GENL_NAME		"xtfs"
#define XTFS_GENL_VERSION	1

/* ESP next header value of an AGGFRAG payload (RFC 9347 section 6.1). */
#define XTFS_IPPROTO_AGGFRAG	144

/**
 * enum xtfs_counter - per-SA counters kept by xtfs
 * @XTFS_CNT_INNER_OUT_PKTS: inner packets accepted for sending
 * @XTFS_CNT_INNER_OUT_BYTES: bytes of those inner packets
 * @XTFS_CNT_OUTER_OUT_PKTS: outer (AGGFRAG) packets handed to ESP
 * @XTFS_CNT_FRAGS_OUT: inner packet fragments sent (pieces of packets
 *	that did not fit the remaining space of one outer packet)
 * @XTFS_CNT_PAD_OUT_BYTES: pad data block bytes sent
 * @XTFS_CNT_DROP_QUEUE_FULL: inner packets dropped, send queue full
 * @XTFS_CNT_DROP_TOO_BIG: inner packets dropped, larger than one outer
 *	payload while fragmentation is disabled (dont-frag)
 * @XTFS_CNT_DROP_OUT_ERR: inner packets dropped on other send errors
 * @XTFS_CNT_OUTER_IN_PKTS: outer packets received
 * @XTFS_CNT_INNER_IN_PKTS: inner packets delivered
 * @XTFS_CNT_INNER_IN_BYTES: bytes of those inner packets
 * @XTFS_CNT_REASSEMBLED: delivered inner packets that spanned more than
 *	one outer packet
 * @XTFS_CNT_DROP_BAD_HDR: outer packets dropped: runt, unknown sub-type
 *	or not an AGGFRAG payload
 * @XTFS_CNT_DROP_BAD_BLOCK: data blocks dropped: bad type or length,
 *	or a block offset that contradicts the packet being reassembled
 * @XTFS_CNT_DROP_OLD: outer packets dropped, older than the reorder
 *	window or duplicate
 * @XTFS_CNT_LOST: outer sequence numbers given up as lost
 * @XTFS_CNT_DROP_PARTIAL: partly reassembled inner packets dropped
 *	because an outer packet carrying part of them was lost
 * @XTFS_CNT_DROP_NOMEM: packets dropped for lack of memory
 * @XTFS_CNT_MAX: number of counters
 */
enum xtfs_counter {
	XTFS_CNT_INNER_OUT_PKTS,
	XTFS_CNT_INNER_OUT_BYTES,
	XTFS_CNT_OUTER_OUT_PKTS,
	XTFS_CNT_FRAGS_OUT,
	XTFS_CNT_PAD_OUT_BYTES,
	XTFS_CNT_DROP_QUEUE_FULL,
	XTFS_CNT_DROP_TOO_BIG,
	XTFS_CNT_DROP_OUT_ERR,
	XTFS_CNT_OUTER_IN_PKTS,
	XTFS_CNT_INNER_IN_PKTS,
	XTFS_CNT_INNER_IN_BYTES,
	XTFS_CNT_REASSEMBLED,
	XTFS_CNT_DROP_BAD_HDR,
	XTFS_CNT_DROP_BAD_BLOCK,
	XTFS_CNT_DROP_OLD,
	XTFS_CNT_LOST,
	XTFS_CNT_DROP_PARTIAL,
	XTFS_CNT_DROP_NOMEM,
	XTFS_CNT_MAX,
};

#endif /* _UAPI_LINUX_XTFS_H */
