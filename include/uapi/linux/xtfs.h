/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * xtfs - IP-TFS (RFC 9347), implicit IV (RFC 8750) and Diet-ESP for xfrm.
 *
 * User API shared by the kernel module and the xtfs helper.
 *
 * IP-TFS parameters travel as the kernel's own XFRMA_IPTFS_* attributes
 * of XFRM_MSG_NEWSA. This header holds what the kernel's attribute set
 * cannot carry: xtfs's generic netlink family "xtfs" (its commands and
 * attributes, specified in Documentation/netlink/specs/xtfs.yaml) and the
 * per-SA counters it reports.
 *
 * The enums are append-only: new commands and attributes take the next
 * free values.
 */
#ifndef _UAPI_LINUX_XTFS_H
#define _UAPI_LINUX_XTFS_H

#define XTFS_GENL_NAME		"xtfs"
#define XTFS_GENL_VERSION	1
/* Multicast group of the family's notifications (XTFS_CMD_SA_BROKEN). */
#define XTFS_MCGRP_EVENTS	"events"

/* ESP next header value of an AGGFRAG payload (RFC 9347 section 6.1). */
#define XTFS_IPPROTO_AGGFRAG	144

/**
 * enum xtfs_iiv_alg - AEAD algorithms with implicit IV (RFC 8750 section 7)
 * @XTFS_IIV_ALG_AES_CCM_8: ENCR_AES_CCM_8_IIV, AES-CCM with an 8-octet ICV; the
 *	SA's AEAD is rfc4309(ccm(aes)) with a 64-bit ICV
 * @XTFS_IIV_ALG_AES_GCM_16: ENCR_AES_GCM_16_IIV, AES-GCM with a 16-octet ICV;
 *	the SA's AEAD is rfc4106(gcm(aes)) with a 128-bit ICV
 * @XTFS_IIV_ALG_CHACHA20_POLY1305: ENCR_CHACHA20_POLY1305_IIV; the SA's AEAD
 *	is rfc7539esp(chacha20,poly1305) with a 128-bit ICV
 *
 * The values are the IKEv2 transform IDs IANA assigned.
 */
enum xtfs_iiv_alg {
	XTFS_IIV_ALG_AES_CCM_8 = 29,
	XTFS_IIV_ALG_AES_GCM_16 = 30,
	XTFS_IIV_ALG_CHACHA20_POLY1305 = 31,
};

/**
 * enum xtfs_payload - what the ESP packets of an xtfs SA carry
 * @XTFS_PAYLOAD_AGGFRAG: AGGFRAG payloads (IP-TFS, RFC 9347 section 2.1),
 *	next header 144; the default
 * @XTFS_PAYLOAD_TUNNEL: one inner packet per ESP packet, next header 4
 *	(IPv4) or 41 (IPv6): the wire format of tunnel mode (RFC 4303
 *	section 3.1.2), so that implicit IV serves plain tunnels too. The
 *	IP-TFS parameters (XFRMA_IPTFS_*) do not apply.
 */
enum xtfs_payload {
	XTFS_PAYLOAD_AGGFRAG,
	XTFS_PAYLOAD_TUNNEL,
};

/**
 * enum xtfs_trailer - the ESP trailer of a Diet-ESP SA (esp_trailer,
 *	draft-ietf-ipsecme-diet-esp-07 section 5.2)
 * @XTFS_TRAILER_MANDATORY: padding, Pad Length and Next Header are sent,
 *	the padding to the SA's alignment; the default
 * @XTFS_TRAILER_OPTIONAL: the Next Header is not sent (the SA's payload
 *	format determines it); with 8-bit alignment neither are Pad Length
 *	and padding
 */
enum xtfs_trailer {
	XTFS_TRAILER_MANDATORY,
	XTFS_TRAILER_OPTIONAL,
};

/* Diet-ESP settings at which the packets are those of RFC 4303/8750. */
#define XTFS_DIET_LSB_FULL	32	/* SPI and SN bits sent */
#define XTFS_DIET_ALIGN_DEF	32	/* ESP alignment in bits */

/**
 * enum xtfs_iipc_cda - how a Diet-ESP IIPC rule carries an inner header
 *	field (draft-ietf-ipsecme-diet-esp-07 section 4.2: dscp_cda, ecn_cda,
 *	flow_label_cda)
 * @XTFS_IIPC_CDA_PLAIN: "not_compressed": the field is sent
 * @XTFS_IIPC_CDA_LOWER: "lower": not sent, carried by the outer IP header
 * @XTFS_IIPC_CDA_SA: "sa" (DSCP only): one of the rule's DSCP list, sent as
 *	its index (not sent when the list has one value)
 * @XTFS_IIPC_CDA_GENERATED: "generated" (flow label and IPv4 Identification
 *	only): not sent, made anew by the receiver
 * @XTFS_IIPC_CDA_ZERO: "zero" (flow label and IPv4 Identification only): the
 *	field must be 0; not sent
 */
enum xtfs_iipc_cda {
	XTFS_IIPC_CDA_PLAIN,
	XTFS_IIPC_CDA_LOWER,
	XTFS_IIPC_CDA_SA,
	XTFS_IIPC_CDA_GENERATED,
	XTFS_IIPC_CDA_ZERO,
};

/* Most DSCP values in an IIPC rule's list (XTFS_A_IIPC_DSCP_LIST). */
#define XTFS_IIPC_DSCP_MAX	64

/**
 * enum xtfs_send - when an SA sends its outer packets (RFC 9347 section 2.4)
 * @XTFS_SEND_DEMAND: as inner packets come, a partly filled packet once
 *	the oldest queued one has waited the init delay
 * @XTFS_SEND_FIXED: one outer packet of exactly the IP-TFS packet size
 *	per slot of 1/rate seconds, whatever the inner load (section 2.4.1):
 *	queued data, else an all-pad packet (section 2.2.4)
 * @XTFS_SEND_CC: as %XTFS_SEND_FIXED, at the rate TCP-friendly rate
 *	control (RFC 5348) finds between a lower and an upper bound, from
 *	the congestion information of the paired reverse SA (section 2.4.2,
 *	section 3, Appendix B)
 */
enum xtfs_send {
	XTFS_SEND_DEMAND,
	XTFS_SEND_FIXED,
	XTFS_SEND_CC,
};

/* Highest rate of a fixed-rate SA, outer packets per second. */
#define XTFS_RATE_MAX		1000000
/* Longest circuit-breaker time, ms (one hour). */
#define XTFS_BREAKER_TIME_MAX	3600000
/* Loss rates are given in parts per million. */
#define XTFS_PPM		1000000

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
 * @XTFS_CNT_ECN_MARKED: ECN-capable inner packets marked CE because the
 *	send queue was above its ECN threshold (95 % of max-queue-size)
 *	when they were queued
 * @XTFS_CNT_HELD_LIMIT: gaps in the outer sequence given up on before the
 *	drop time because the octets held for reordering reached their bound
 * @XTFS_CNT_HELD_PEAK: most octets (truesize) the receive side has held
 *	at once in its reorder window and partial inner packet (a high-water
 *	mark, not a count)
 * @XTFS_CNT_DROP_NO_DEV: inner packets dropped because a device went
 *	away: the one their outer packet arrived on, while it was held, or
 *	one their route leaves by, while they were queued to be sent
 * @XTFS_CNT_IIV_SEQ_SKIPPED: outbound sequence numbers skipped on an
 *	implicit-IV SA so that no nonce repeats under its key: a replay
 *	state written below what the SA (or an earlier SA with the same
 *	key) already sent
 * @XTFS_CNT_IIPC_UNMATCHED: inner packets that do not fit the SA's
 *	Diet-ESP IIPC rule: sent uncompressed (RuleID 0), or dropped when
 *	the SA does not send the RuleID
 * @XTFS_CNT_IIPC_BAD: inbound packets of an IIPC SA dropped: unknown
 *	RuleID, or a compressed header that is short or rebuilds no packet
 * @XTFS_CNT_PAD_PKTS_OUT: all-pad outer packets sent by a fixed-rate SA
 *	(RFC 9347 section 2.2.4), in send slots with nothing queued
 * @XTFS_CNT_SLOTS_MISSED: send slots of a fixed-rate SA that passed with
 *	no packet sent (the sending CPU ran late); never sent later
 * @XTFS_CNT_CC_RATE: a gauge, not a count: outer packets per second the
 *	SA sends at now (fixed rate: the configured rate; congestion
 *	control: the rate TFRC has reached; 0 while it does not pace)
 * @XTFS_CNT_CC_RTT_US: a gauge: the SA's round-trip time estimate in µs
 *	(RFC 9347 section 3), 0 before the first echo
 * @XTFS_CNT_CC_LOSS_PPM: a gauge: the loss event rate the peer last
 *	reported, in parts per million (0: no loss)
 * @XTFS_CNT_CC_FEEDBACK: congestion reports from the peer taken by the
 *	outbound SA (at most one per packet it sends)
 * @XTFS_CNT_CC_NOFB: no-feedback timer expiries of a congestion
 *	controlled SA, each halving its rate (RFC 5348 section 4.4)
 * @XTFS_CNT_CC_LOSS_EVENTS: inbound: loss events (RFC 5348 section 5.2)
 *	this receiver counted in the sub-type 1 stream it receives
 * @XTFS_CNT_CC_CE_IN: inbound: outer packets of that stream that arrived
 *	marked Congestion Experienced, counted as lost (section 3.1)
 * @XTFS_CNT_BREAKER_TRIPS: circuit breaker trips (section 2.4.2.1)
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
	XTFS_CNT_ECN_MARKED,
	XTFS_CNT_HELD_LIMIT,
	XTFS_CNT_HELD_PEAK,
	XTFS_CNT_DROP_NO_DEV,
	XTFS_CNT_IIV_SEQ_SKIPPED,
	XTFS_CNT_IIPC_UNMATCHED,
	XTFS_CNT_IIPC_BAD,
	XTFS_CNT_PAD_PKTS_OUT,
	XTFS_CNT_SLOTS_MISSED,
	XTFS_CNT_CC_RATE,
	XTFS_CNT_CC_RTT_US,
	XTFS_CNT_CC_LOSS_PPM,
	XTFS_CNT_CC_FEEDBACK,
	XTFS_CNT_CC_NOFB,
	XTFS_CNT_CC_LOSS_EVENTS,
	XTFS_CNT_CC_CE_IN,
	XTFS_CNT_BREAKER_TRIPS,
	XTFS_CNT_MAX,
};

/**
 * enum xtfs_cmd - commands of the "xtfs" generic netlink family
 * @XTFS_CMD_UNSPEC: unused
 * @XTFS_CMD_SA_GET: counters of IP-TFS SAs served by xtfs. As a request
 *	("do") it names one SA by %XTFS_A_SA_FAMILY, %XTFS_A_SA_DADDR,
 *	%XTFS_A_SA_SPI (protocol ESP), optionally %XTFS_A_SA_SADDR and
 *	%XTFS_A_SA_MARK; as a dump it takes no attributes and reports every
 *	xtfs SA of the caller's network namespace. Each reply carries the
 *	SA identity, its settings and an %XTFS_A_SA_STATS nest. Needs
 *	CAP_NET_ADMIN in the namespace's user namespace, as reading SAs
 *	with xfrm netlink does.
 * @XTFS_CMD_SA_STAGE: stage extension settings for an SA about to be
 *	created. Names the SA as a %XTFS_CMD_SA_GET request does (the
 *	SA's mark, if any, in %XTFS_A_SA_MARK) and carries the settings:
 *	%XTFS_A_SA_IIV, %XTFS_A_SA_PAYLOAD and the Diet-ESP ones
 *	(%XTFS_A_SA_SPI_LSB, %XTFS_A_SA_SN_LSB, %XTFS_A_SA_TRAILER,
 *	%XTFS_A_SA_ALIGN, %XTFS_A_SA_IIPC). The next XFRM_MSG_NEWSA of an
 *	IP-TFS mode SA with that identity in the namespace takes the
 *	settings, or is refused with an extended ACK message when they do
 *	not fit the SA; either way they are then gone. A request without
 *	settings withdraws what was staged for the identity. Staged settings also go when the
 *	netlink socket that staged them is closed. At most
 *	%XTFS_STAGE_MAX identities are staged per namespace, and fewer
 *	when the namespaces of non-initial user namespaces together hold
 *	the host-wide cap (Documentation/xtfs.rst). Needs
 *	CAP_NET_ADMIN in the namespace's user namespace, as adding an SA
 *	does.
 * @XTFS_CMD_SA_BROKEN: notification only, to the %XTFS_MCGRP_EVENTS
 *	group of the SA's network namespace: an SA's circuit breaker
 *	tripped (RFC 9347 section 2.4.2.1). Carries what a
 *	%XTFS_CMD_SA_GET reply does, %XTFS_A_SA_BROKEN set.
 * @__XTFS_CMD_MAX: one past the last command
 * @XTFS_CMD_MAX: the last command
 */
enum xtfs_cmd {
	XTFS_CMD_UNSPEC,
	XTFS_CMD_SA_GET,
	XTFS_CMD_SA_STAGE,
	XTFS_CMD_SA_BROKEN,

	__XTFS_CMD_MAX,
	XTFS_CMD_MAX = __XTFS_CMD_MAX - 1
};

/**
 * enum xtfs_a_sa - attributes of %XTFS_CMD_SA_GET
 * @XTFS_A_SA_UNSPEC: unused
 * @XTFS_A_SA_FAMILY: u16, address family of the SA's outer addresses:
 *	AF_INET or AF_INET6 (request: required; reply)
 * @XTFS_A_SA_SADDR: binary, outer source address, 4 octets for AF_INET,
 *	16 for AF_INET6, network byte order (request: optional, the SA
 *	must then have this source address; reply)
 * @XTFS_A_SA_DADDR: binary, outer destination address, as
 *	%XTFS_A_SA_SADDR (request: required; reply)
 * @XTFS_A_SA_SPI: u32 in network byte order, the SA's SPI (request:
 *	required; reply)
 * @XTFS_A_SA_MARK: u32, the SA's xfrm mark value (request: optional, 0
 *	when absent, as in xfrm netlink; reply: only when the SA has a mark)
 * @XTFS_A_SA_DIR: u8, the SA's direction: XFRM_SA_DIR_IN (1) or
 *	XFRM_SA_DIR_OUT (2) (reply only)
 * @XTFS_A_SA_STATS: nest of &enum xtfs_a_stats, the SA's counters (reply
 *	only)
 * @XTFS_A_SA_IIV: u32, an &enum xtfs_iiv_alg: the SA sends and receives
 *	ESP with implicit IV (RFC 8750). In %XTFS_CMD_SA_STAGE it must
 *	name the algorithm of the SA's AEAD; in a reply only when the SA
 *	uses implicit IV.
 * @XTFS_A_SA_PAYLOAD: u8, an &enum xtfs_payload: what the SA's ESP packets
 *	carry (%XTFS_CMD_SA_STAGE: absent means AGGFRAG; reply: always)
 * @XTFS_A_SA_SPI_LSB: u8, Diet-ESP esp_spi_lsb: low bits of the SPI sent,
 *	0-32 (%XTFS_CMD_SA_STAGE: absent means 32; with %XTFS_A_SA_IIV the
 *	SA has implicit IV, without it the IV is sent after the header, and
 *	the SA's AEAD must be one of &enum xtfs_iiv_alg's; reply: with the
 *	other Diet-ESP attributes, when one of them is not at its default)
 * @XTFS_A_SA_SN_LSB: u8, Diet-ESP esp_sn_lsb: low bits of the sequence
 *	number sent, 0-32, with %XTFS_A_SA_SPI_LSB a multiple of 8 (as
 *	%XTFS_A_SA_SPI_LSB)
 * @XTFS_A_SA_TRAILER: u8, an &enum xtfs_trailer, Diet-ESP esp_trailer (as
 *	%XTFS_A_SA_SPI_LSB; absent means mandatory)
 * @XTFS_A_SA_ALIGN: u8, Diet-ESP alignment in bits: 8, 16, 32 or 64 (as
 *	%XTFS_A_SA_SPI_LSB; absent means 32, RFC 4303's)
 * @XTFS_A_SA_IIPC: nest of &enum xtfs_a_iipc, the SA's Diet-ESP inner
 *	header compression rule (section 5.1) (%XTFS_CMD_SA_STAGE: only with
 *	%XTFS_PAYLOAD_TUNNEL; reply: when the SA has one)
 * @XTFS_A_SA_SEND: u8, an &enum xtfs_send: when an outbound AGGFRAG SA
 *	sends (%XTFS_CMD_SA_STAGE: absent means on demand; %XTFS_SEND_FIXED
 *	needs %XTFS_A_SA_RATE, and at SA creation an outbound SA with an
 *	IP-TFS packet size and the AGGFRAG payload; reply: when not on
 *	demand)
 * @XTFS_A_SA_RATE: u32, outer packets per second of a fixed-rate SA, or
 *	the highest rate of a congestion-controlled one, 1 to
 *	%XTFS_RATE_MAX (%XTFS_CMD_SA_STAGE: only with, and needed by,
 *	%XTFS_SEND_FIXED and %XTFS_SEND_CC; reply: with %XTFS_A_SA_SEND)
 * @XTFS_A_SA_RATE_MIN: u32, the lowest rate of a congestion-controlled
 *	SA, 1 to %XTFS_A_SA_RATE (%XTFS_CMD_SA_STAGE: only with
 *	%XTFS_SEND_CC; absent means 1; reply: with %XTFS_SEND_CC)
 * @XTFS_A_SA_REVERSE_SPI: u32 in network byte order, the SPI of the
 *	inbound SA of the same tunnel, the one whose outer destination is
 *	this SA's outer source (same mark): congestion information is
 *	received on it and the SA's own goes out in sub-type 1 headers
 *	(RFC 9347 section 3) (%XTFS_CMD_SA_STAGE: needed by %XTFS_SEND_CC,
 *	allowed with %XTFS_SEND_FIXED, for the circuit breaker; reply: when
 *	set)
 * @XTFS_A_SA_BREAKER_LOSS: u32, circuit breaker threshold: a loss event
 *	rate reported by the peer, in parts per million (1 to %XTFS_PPM)
 *	(%XTFS_CMD_SA_STAGE: with %XTFS_A_SA_BREAKER_TIME and
 *	%XTFS_A_SA_REVERSE_SPI; reply: when set)
 * @XTFS_A_SA_BREAKER_TIME: u32, ms the reported loss event rate must stay
 *	at or above the threshold for the breaker to trip, 1 to
 *	%XTFS_BREAKER_TIME_MAX (as %XTFS_A_SA_BREAKER_LOSS)
 * @XTFS_A_SA_BROKEN: flag, reply only: the SA's circuit breaker tripped;
 *	it sends nothing more (section 2.4.2.1)
 * @__XTFS_A_SA_MAX: one past the last attribute
 * @XTFS_A_SA_MAX: the last attribute
 */
enum xtfs_a_sa {
	XTFS_A_SA_UNSPEC,
	XTFS_A_SA_FAMILY,
	XTFS_A_SA_SADDR,
	XTFS_A_SA_DADDR,
	XTFS_A_SA_SPI,
	XTFS_A_SA_MARK,
	XTFS_A_SA_DIR,
	XTFS_A_SA_STATS,
	XTFS_A_SA_IIV,
	XTFS_A_SA_PAYLOAD,
	XTFS_A_SA_SPI_LSB,
	XTFS_A_SA_SN_LSB,
	XTFS_A_SA_TRAILER,
	XTFS_A_SA_ALIGN,
	XTFS_A_SA_IIPC,
	XTFS_A_SA_SEND,
	XTFS_A_SA_RATE,
	XTFS_A_SA_RATE_MIN,
	XTFS_A_SA_REVERSE_SPI,
	XTFS_A_SA_BREAKER_LOSS,
	XTFS_A_SA_BREAKER_TIME,
	XTFS_A_SA_BROKEN,

	__XTFS_A_SA_MAX,
	XTFS_A_SA_MAX = __XTFS_A_SA_MAX - 1
};

/**
 * enum xtfs_a_iipc - attributes in %XTFS_A_SA_IIPC: an IIPC rule
 *	(draft-ietf-ipsecme-diet-esp-07 sections 4.2 and 5.1)
 * @XTFS_A_IIPC_UNSPEC: unused
 * @XTFS_A_IIPC_SRC_START: binary, ts_ip_src_start: 4 octets (the rule is
 *	IPv4-only) or 16 (IPv6-only), network byte order (required)
 * @XTFS_A_IIPC_SRC_END: binary, ts_ip_src_end, as long (required)
 * @XTFS_A_IIPC_DST_START: binary, ts_ip_dst_start, as long (required)
 * @XTFS_A_IIPC_DST_END: binary, ts_ip_dst_end, as long (required)
 * @XTFS_A_IIPC_PROTO: u8, ts_proto: an IP protocol number, 0 for any
 *	(absent: 0)
 * @XTFS_A_IIPC_SPORT_START: u16, ts_port_src_start (absent: 0)
 * @XTFS_A_IIPC_SPORT_END: u16, ts_port_src_end (absent: 65535)
 * @XTFS_A_IIPC_DPORT_START: u16, ts_port_dst_start (absent: 0)
 * @XTFS_A_IIPC_DPORT_END: u16, ts_port_dst_end (absent: 65535)
 * @XTFS_A_IIPC_DSCP: u8, dscp_cda: %XTFS_IIPC_CDA_PLAIN,
 *	%XTFS_IIPC_CDA_LOWER or %XTFS_IIPC_CDA_SA (absent: plain)
 * @XTFS_A_IIPC_DSCP_LIST: binary, dscp_list: 1 to %XTFS_IIPC_DSCP_MAX
 *	distinct DSCP values (0-63), one octet each (with
 *	%XTFS_IIPC_CDA_SA only)
 * @XTFS_A_IIPC_ECN: u8, ecn_cda: %XTFS_IIPC_CDA_PLAIN or
 *	%XTFS_IIPC_CDA_LOWER (absent: plain)
 * @XTFS_A_IIPC_FLOW_LABEL: u8, flow_label_cda: %XTFS_IIPC_CDA_PLAIN,
 *	%XTFS_IIPC_CDA_LOWER, %XTFS_IIPC_CDA_GENERATED or
 *	%XTFS_IIPC_CDA_ZERO (absent: plain)
 * @XTFS_A_IIPC_RULE_ID: u8, 1: each packet starts with the 1-octet RuleID
 *	(section 4.1), 1 for the rule and 0 for an inner packet sent
 *	uncompressed; 0: the RuleID is elided and packets that do not fit
 *	the rule are dropped (absent: 1)
 * @__XTFS_A_IIPC_MAX: one past the last attribute
 * @XTFS_A_IIPC_MAX: the last attribute
 */
enum xtfs_a_iipc {
	XTFS_A_IIPC_UNSPEC,
	XTFS_A_IIPC_SRC_START,
	XTFS_A_IIPC_SRC_END,
	XTFS_A_IIPC_DST_START,
	XTFS_A_IIPC_DST_END,
	XTFS_A_IIPC_PROTO,
	XTFS_A_IIPC_SPORT_START,
	XTFS_A_IIPC_SPORT_END,
	XTFS_A_IIPC_DPORT_START,
	XTFS_A_IIPC_DPORT_END,
	XTFS_A_IIPC_DSCP,
	XTFS_A_IIPC_DSCP_LIST,
	XTFS_A_IIPC_ECN,
	XTFS_A_IIPC_FLOW_LABEL,
	XTFS_A_IIPC_RULE_ID,

	__XTFS_A_IIPC_MAX,
	XTFS_A_IIPC_MAX = __XTFS_A_IIPC_MAX - 1
};

/* Most SA identities with settings staged at once, per namespace. */
#define XTFS_STAGE_MAX		256

/* Attribute type of counter C (an &enum xtfs_counter) in XTFS_A_SA_STATS. */
#define XTFS_A_STATS_CNT(c)	((c) + 2)

/**
 * enum xtfs_a_stats - attributes in %XTFS_A_SA_STATS: one u64 per counter
 * @XTFS_A_STATS_UNSPEC: unused
 * @XTFS_A_STATS_PAD: padding for 64-bit alignment, ignore
 * @XTFS_A_STATS_INNER_OUT_PKTS: %XTFS_CNT_INNER_OUT_PKTS, packets
 * @XTFS_A_STATS_INNER_OUT_BYTES: %XTFS_CNT_INNER_OUT_BYTES, octets
 * @XTFS_A_STATS_OUTER_OUT_PKTS: %XTFS_CNT_OUTER_OUT_PKTS, packets
 * @XTFS_A_STATS_FRAGS_OUT: %XTFS_CNT_FRAGS_OUT, fragments
 * @XTFS_A_STATS_PAD_OUT_BYTES: %XTFS_CNT_PAD_OUT_BYTES, octets
 * @XTFS_A_STATS_DROP_QUEUE_FULL: %XTFS_CNT_DROP_QUEUE_FULL, packets
 * @XTFS_A_STATS_DROP_TOO_BIG: %XTFS_CNT_DROP_TOO_BIG, packets
 * @XTFS_A_STATS_DROP_OUT_ERR: %XTFS_CNT_DROP_OUT_ERR, packets
 * @XTFS_A_STATS_OUTER_IN_PKTS: %XTFS_CNT_OUTER_IN_PKTS, packets
 * @XTFS_A_STATS_INNER_IN_PKTS: %XTFS_CNT_INNER_IN_PKTS, packets
 * @XTFS_A_STATS_INNER_IN_BYTES: %XTFS_CNT_INNER_IN_BYTES, octets
 * @XTFS_A_STATS_REASSEMBLED: %XTFS_CNT_REASSEMBLED, packets
 * @XTFS_A_STATS_DROP_BAD_HDR: %XTFS_CNT_DROP_BAD_HDR, packets
 * @XTFS_A_STATS_DROP_BAD_BLOCK: %XTFS_CNT_DROP_BAD_BLOCK, data blocks
 * @XTFS_A_STATS_DROP_OLD: %XTFS_CNT_DROP_OLD, packets
 * @XTFS_A_STATS_LOST: %XTFS_CNT_LOST, sequence numbers
 * @XTFS_A_STATS_DROP_PARTIAL: %XTFS_CNT_DROP_PARTIAL, packets
 * @XTFS_A_STATS_DROP_NOMEM: %XTFS_CNT_DROP_NOMEM, packets
 * @XTFS_A_STATS_ECN_MARKED: %XTFS_CNT_ECN_MARKED, packets
 * @XTFS_A_STATS_HELD_LIMIT: %XTFS_CNT_HELD_LIMIT, gaps
 * @XTFS_A_STATS_HELD_PEAK: %XTFS_CNT_HELD_PEAK, octets
 * @XTFS_A_STATS_DROP_NO_DEV: %XTFS_CNT_DROP_NO_DEV, packets
 * @XTFS_A_STATS_IIV_SEQ_SKIPPED: %XTFS_CNT_IIV_SEQ_SKIPPED, sequence
 *	numbers
 * @XTFS_A_STATS_IIPC_UNMATCHED: %XTFS_CNT_IIPC_UNMATCHED, packets
 * @XTFS_A_STATS_IIPC_BAD: %XTFS_CNT_IIPC_BAD, packets
 * @XTFS_A_STATS_PAD_PKTS_OUT: %XTFS_CNT_PAD_PKTS_OUT, packets
 * @XTFS_A_STATS_SLOTS_MISSED: %XTFS_CNT_SLOTS_MISSED, slots
 * @XTFS_A_STATS_CC_RATE: %XTFS_CNT_CC_RATE, packets per second
 * @XTFS_A_STATS_CC_RTT_US: %XTFS_CNT_CC_RTT_US, µs
 * @XTFS_A_STATS_CC_LOSS_PPM: %XTFS_CNT_CC_LOSS_PPM, parts per million
 * @XTFS_A_STATS_CC_FEEDBACK: %XTFS_CNT_CC_FEEDBACK, reports
 * @XTFS_A_STATS_CC_NOFB: %XTFS_CNT_CC_NOFB, expiries
 * @XTFS_A_STATS_CC_LOSS_EVENTS: %XTFS_CNT_CC_LOSS_EVENTS, loss events
 * @XTFS_A_STATS_CC_CE_IN: %XTFS_CNT_CC_CE_IN, packets
 * @XTFS_A_STATS_BREAKER_TRIPS: %XTFS_CNT_BREAKER_TRIPS, trips
 * @__XTFS_A_STATS_MAX: one past the last attribute
 * @XTFS_A_STATS_MAX: the last attribute
 *
 * Counter attributes are numbered XTFS_A_STATS_CNT(counter): the order of
 * &enum xtfs_counter, after the two fixed attributes. A new counter is
 * appended to both enums; a reader skips types it does not know.
 */
enum xtfs_a_stats {
	XTFS_A_STATS_UNSPEC,
	XTFS_A_STATS_PAD,
	XTFS_A_STATS_INNER_OUT_PKTS = XTFS_A_STATS_CNT(XTFS_CNT_INNER_OUT_PKTS),
	XTFS_A_STATS_INNER_OUT_BYTES = XTFS_A_STATS_CNT(XTFS_CNT_INNER_OUT_BYTES),
	XTFS_A_STATS_OUTER_OUT_PKTS = XTFS_A_STATS_CNT(XTFS_CNT_OUTER_OUT_PKTS),
	XTFS_A_STATS_FRAGS_OUT = XTFS_A_STATS_CNT(XTFS_CNT_FRAGS_OUT),
	XTFS_A_STATS_PAD_OUT_BYTES = XTFS_A_STATS_CNT(XTFS_CNT_PAD_OUT_BYTES),
	XTFS_A_STATS_DROP_QUEUE_FULL = XTFS_A_STATS_CNT(XTFS_CNT_DROP_QUEUE_FULL),
	XTFS_A_STATS_DROP_TOO_BIG = XTFS_A_STATS_CNT(XTFS_CNT_DROP_TOO_BIG),
	XTFS_A_STATS_DROP_OUT_ERR = XTFS_A_STATS_CNT(XTFS_CNT_DROP_OUT_ERR),
	XTFS_A_STATS_OUTER_IN_PKTS = XTFS_A_STATS_CNT(XTFS_CNT_OUTER_IN_PKTS),
	XTFS_A_STATS_INNER_IN_PKTS = XTFS_A_STATS_CNT(XTFS_CNT_INNER_IN_PKTS),
	XTFS_A_STATS_INNER_IN_BYTES = XTFS_A_STATS_CNT(XTFS_CNT_INNER_IN_BYTES),
	XTFS_A_STATS_REASSEMBLED = XTFS_A_STATS_CNT(XTFS_CNT_REASSEMBLED),
	XTFS_A_STATS_DROP_BAD_HDR = XTFS_A_STATS_CNT(XTFS_CNT_DROP_BAD_HDR),
	XTFS_A_STATS_DROP_BAD_BLOCK = XTFS_A_STATS_CNT(XTFS_CNT_DROP_BAD_BLOCK),
	XTFS_A_STATS_DROP_OLD = XTFS_A_STATS_CNT(XTFS_CNT_DROP_OLD),
	XTFS_A_STATS_LOST = XTFS_A_STATS_CNT(XTFS_CNT_LOST),
	XTFS_A_STATS_DROP_PARTIAL = XTFS_A_STATS_CNT(XTFS_CNT_DROP_PARTIAL),
	XTFS_A_STATS_DROP_NOMEM = XTFS_A_STATS_CNT(XTFS_CNT_DROP_NOMEM),
	XTFS_A_STATS_ECN_MARKED = XTFS_A_STATS_CNT(XTFS_CNT_ECN_MARKED),
	XTFS_A_STATS_HELD_LIMIT = XTFS_A_STATS_CNT(XTFS_CNT_HELD_LIMIT),
	XTFS_A_STATS_HELD_PEAK = XTFS_A_STATS_CNT(XTFS_CNT_HELD_PEAK),
	XTFS_A_STATS_DROP_NO_DEV = XTFS_A_STATS_CNT(XTFS_CNT_DROP_NO_DEV),
	XTFS_A_STATS_IIV_SEQ_SKIPPED = XTFS_A_STATS_CNT(XTFS_CNT_IIV_SEQ_SKIPPED),
	XTFS_A_STATS_IIPC_UNMATCHED = XTFS_A_STATS_CNT(XTFS_CNT_IIPC_UNMATCHED),
	XTFS_A_STATS_IIPC_BAD = XTFS_A_STATS_CNT(XTFS_CNT_IIPC_BAD),
	XTFS_A_STATS_PAD_PKTS_OUT = XTFS_A_STATS_CNT(XTFS_CNT_PAD_PKTS_OUT),
	XTFS_A_STATS_SLOTS_MISSED = XTFS_A_STATS_CNT(XTFS_CNT_SLOTS_MISSED),
	XTFS_A_STATS_CC_RATE = XTFS_A_STATS_CNT(XTFS_CNT_CC_RATE),
	XTFS_A_STATS_CC_RTT_US = XTFS_A_STATS_CNT(XTFS_CNT_CC_RTT_US),
	XTFS_A_STATS_CC_LOSS_PPM = XTFS_A_STATS_CNT(XTFS_CNT_CC_LOSS_PPM),
	XTFS_A_STATS_CC_FEEDBACK = XTFS_A_STATS_CNT(XTFS_CNT_CC_FEEDBACK),
	XTFS_A_STATS_CC_NOFB = XTFS_A_STATS_CNT(XTFS_CNT_CC_NOFB),
	XTFS_A_STATS_CC_LOSS_EVENTS = XTFS_A_STATS_CNT(XTFS_CNT_CC_LOSS_EVENTS),
	XTFS_A_STATS_CC_CE_IN = XTFS_A_STATS_CNT(XTFS_CNT_CC_CE_IN),
	XTFS_A_STATS_BREAKER_TRIPS = XTFS_A_STATS_CNT(XTFS_CNT_BREAKER_TRIPS),

	__XTFS_A_STATS_MAX,
	XTFS_A_STATS_MAX = __XTFS_A_STATS_MAX - 1
};

#endif /* _UAPI_LINUX_XTFS_H */
