/* SPDX-License-Identifier: GPL-2.0 */
/*
 * AGGFRAG payload wire format (RFC 9347 section 6.1).
 */
#ifndef _XTFS_AGGFRAG_H
#define _XTFS_AGGFRAG_H

#include <linux/types.h>
#include <linux/ip.h>
#include <linux/ipv6.h>

/* RFC 9347 section 6.1.1 and 6.1.2: payload sub-types. */
#define XTFS_SUBTYPE_BASIC	0
#define XTFS_SUBTYPE_CC		1

/* RFC 9347 section 6.1.3: data block types (first nibble). */
#define XTFS_BLOCK_PAD		0x0
#define XTFS_BLOCK_IPV4		0x4
#define XTFS_BLOCK_IPV6		0x6

/**
 * struct xtfs_aggfrag_hdr - non-congestion-control payload header
 * @subtype: payload format, XTFS_SUBTYPE_BASIC
 * @reserved: zero on send, ignored on receipt
 * @block_offset: octets of data block data before the first new data
 *	block; may point past the end of this payload (RFC 9347 6.1.1)
 */
struct xtfs_aggfrag_hdr {
	u8	subtype;
	u8	reserved;
	__be16	block_offset;
} __packed;

/**
 * struct xtfs_aggfrag_cc_hdr - congestion-control payload header
 * @subtype: payload format, XTFS_SUBTYPE_CC
 * @flags: 6 reserved bits, then the P and E bits
 * @block_offset: as in &struct xtfs_aggfrag_hdr
 * @loss_event_rate: inverse loss event rate, 0 for no loss
 * @rtt_delays: RTT (22 bits, µs), echo delay (21 bits, µs) and transmit
 *	delay (21 bits, µs), packed big-endian
 * @tval: opaque sender timestamp
 * @techo: last TVal received from the peer
 *
 * RFC 9347 section 6.1.2.
 */
struct xtfs_aggfrag_cc_hdr {
	u8	subtype;
	u8	flags;
	__be16	block_offset;
	__be32	loss_event_rate;
	__be64	rtt_delays;
	__be32	tval;
	__be32	techo;
} __packed;

/* Bytes needed at the start of a data block to learn its length. */
#define XTFS_IPV4_LEN_NEED	4	/* version/IHL, TOS, Total Length */
#define XTFS_IPV6_LEN_NEED	6	/* version..flow label, Payload Length */

/**
 * xtfs_block_len() - length of a data block from its first octets
 * @hdr: first octets of the block; @have of them are valid
 * @have: number of valid octets at @hdr
 *
 * RFC 9347 sections 6.1.3.1 and 6.1.3.2: the block length is the inner
 * packet's IPv4 Total Length or IPv6 Payload Length plus 40.
 *
 * Return: the block length; 0 when more octets are needed to know it;
 * -EINVAL for a block that is not IPv4 or IPv6, or whose length cannot be
 * a valid packet (shorter than its own header).
 */
static inline int xtfs_block_len(const u8 *hdr, unsigned int have)
{
	unsigned int len;

	if (!have)
		return 0;
	switch (hdr[0] >> 4) {
	case XTFS_BLOCK_IPV4:
		/* IHL is in the first octet: reject it as soon as seen. */
		if ((hdr[0] & 0xf) < 5)
			return -EINVAL;
		if (have < XTFS_IPV4_LEN_NEED)
			return 0;
		len = (hdr[2] << 8) | hdr[3];
		if (len < (hdr[0] & 0xf) * 4)
			return -EINVAL;
		return len;
	case XTFS_BLOCK_IPV6:
		if (have < XTFS_IPV6_LEN_NEED)
			return 0;
		len = (hdr[4] << 8) | hdr[5];
		return len + sizeof(struct ipv6hdr);
	default:
		return -EINVAL;
	}
}

#endif /* _XTFS_AGGFRAG_H */
