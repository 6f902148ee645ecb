/* SPDX-License-Identifier: GPL-2.0 */
/*
 * xtfs internal definitions.
 */
#ifndef _XTFS_H
#define _XTFS_H

#include <linux/hrtimer.h>
#include <linux/skbuff.h>
#include <linux/spinlock.h>
#include <linux/workqueue.h>
#include <linux/slab.h>
#include <net/xfrm.h>
#include <uapi/linux/xtfs.h>
#include <xtfs/iiv_algs.h>

/* Linux 6.14 brought struct xfrm_mode_cbs, XFRMA_IPTFS_* and, with them,
 * IPPROTO_AGGFRAG: probe the header rather than the version.
 */
#ifndef IPPROTO_AGGFRAG
#error "xtfs needs Linux 6.14 or later (struct xfrm_mode_cbs, XFRMA_IPTFS_*)"
#endif

/* kzalloc_obj() arrived after 6.14. */
#ifndef kzalloc_obj
#define kzalloc_obj(P, gfp)	kzalloc(sizeof(P), gfp)
#endif

/* Defaults, identical to the in-tree xfrm_iptfs module. */
#define XTFS_DEF_DROP_TIME_US	1000000U	/* 1 s */
#define XTFS_DEF_REORDER_WIN	3U
#define XTFS_MAX_REORDER_WIN	65535U
#define XTFS_DEF_INIT_DELAY_US	0U
#define XTFS_DEF_MAX_QSIZE	(10U * 1024 * 1024)	/* octets */

/* Longest drop time and init delay accepted (µs), and most octets (sum of
 * truesize) the receive side of an SA holds in its reorder window and
 * partial inner packet: Documentation/xtfs.rst, "IP-TFS parameters" and
 * "Receive: reorder window and reassembly".
 */
#define XTFS_MAX_DROP_TIME_US	60000000U	/* 60 s */
#define XTFS_MAX_INIT_DELAY_US	5000000U	/* 5 s */
#define XTFS_MAX_HELD_BYTES	(4U * 1024 * 1024)

/* Smallest usable data block space in an outer packet (octets). */
#define XTFS_MIN_BLOCK_SPACE	8U

/**
 * struct xtfs_pace - when an outbound SA sends (RFC 9347 section 2.4): a
 *	setting staged with the SA (&struct xtfs_settings), then part of its
 *	configuration
 * @send: an &enum xtfs_send
 * @rate: outer packets per second with %XTFS_SEND_FIXED, the highest rate
 *	with %XTFS_SEND_CC, else 0
 * @rate_min: the lowest rate with %XTFS_SEND_CC, else 0
 * @rev_spi: SPI of the paired inbound SA, 0 for none: the SA sends
 *	sub-type 1 headers and takes the peer's reports from that SA
 * @brk_loss: circuit breaker threshold, loss event rate in parts per
 *	million, 0 for no breaker
 * @brk_time_ms: how long the reported rate must stay at or above it
 */
struct xtfs_pace {
	u8	send;
	u32	rate;
	u32	rate_min;
	__be32	rev_spi;
	u32	brk_loss;
	u32	brk_time_ms;
};

/**
 * struct xtfs_config - IP-TFS parameters of one SA (XFRMA_IPTFS_*)
 * @pkt_size: outer packet size in octets, 0 to follow the path MTU (out)
 * @max_qsize: bound on queued inner packet octets (out)
 * @init_delay_us: longest wait for more inner packets before sending a
 *	partly filled outer packet, in µs (out)
 * @dont_frag: never split an inner packet across outer packets (out)
 * @drop_time_us: wait for a missing outer packet before declaring it
 *	lost, in µs (in)
 * @reorder_win: outer packets held for reordering (in)
 * @payload: what the ESP packets carry, an &enum xtfs_payload
 * @pace: when outer packets leave (out)
 */
struct xtfs_config {
	u32	pkt_size;
	u32	max_qsize;
	u32	init_delay_us;
	bool	dont_frag;
	u32	drop_time_us;
	u16	reorder_win;
	u8	payload;
	struct xtfs_pace pace;
};

struct xtfs_iiv_key;
struct xtfs_net;

/* Octets of the implicit IV (RFC 8750 section 4). */
#define XTFS_IIV_LEN		8

/**
 * struct xtfs_iiv - the AEAD of an SA of xtfs's ESP engine (xtfs_iiv.c)
 * @tfm: the crypto API transform, keyed
 * @alg: the algorithm (its implicit-IV transform ID, also when the IV is
 *	on the wire)
 * @esn: extended sequence numbers: the IV and the AAD carry all 64 bits
 * @wire_iv: octets of IV on the wire after the ESP header: 0 with
 *	implicit IV (RFC 8750), XTFS_IIV_LEN for a Diet-ESP SA of the
 *	explicit-IV algorithm (RFC 4106, 4309, 7634), whose IV is the value
 *	RFC 8750 would leave implicit
 * @salt: the salt, the last octets of the key material
 * @salt_len: octets in @salt (3 for CCM, else 4)
 * @icv_len: octets of ICV
 * @iv_len: octets of the crypto API IV the nonce goes into
 * @tx_last: outbound: the highest sequence number taken for a packet (or
 *	reserved at creation), under the SA's lock; no later packet gets one
 *	at or below it, whatever is written to the replay state
 * @key: outbound: the SA's entry in the table of implicit-IV keys in use
 *	(xtfs_esp.c), or NULL
 * @esp_type: the kernel's ESP type the SA was made with, and whose module
 *	reference it holds, while xtfs's type serves it (xtfs_esp.c)
 */
struct xtfs_iiv {
	struct crypto_aead	*tfm;
	enum xtfs_iiv_alg	alg;
	bool			esn;
	u8			wire_iv;
	u8			salt[4];
	u8			salt_len;
	u8			icv_len;
	u8			iv_len;
	u64			tx_last;
	struct xtfs_iiv_key	*key;
	const struct xfrm_type	*esp_type;
};

/**
 * struct xtfs_reasm - receive-side data block parser state
 * @partial: inner packet being reassembled across outer packets, or NULL
 * @have: octets of @partial received so far
 * @need: total length of @partial, 0 while its length field is incomplete
 * @hdr: first octets of @partial while @need is 0
 *
 * RFC 9347 section 2.5. The parser only ever sees payloads in sequence
 * order; &struct xtfs_sa does the reordering.
 */
struct xtfs_reasm {
	struct sk_buff	*partial;
	u32		have;
	u32		need;
	u8		hdr[8];
};

/**
 * struct xtfs_rx_cb - control block of an outer packet in xtfs_rx_seq()
 * @seq: 64-bit ESP sequence number
 * @since: when the gap just below @seq was first seen: the earliest
 *	arrival of any packet held at or above @seq
 * @iif: index of the device the packet came in on, 0 for none; the held
 *	packet keeps no pointer to the device (xtfs_rx_unpin())
 * @truesize: octets charged to &xtfs_sa.rx_bytes while held
 * @sa_ref: the secpath's reference to the SA was dropped while held
 * @empty: the ESP packet carried no AGGFRAG payload (see xtfs_input()):
 *	it takes its place in sequence and has nothing to parse
 */
struct xtfs_rx_cb {
	u64	seq;
	ktime_t	since;
	int	iif;
	u32	truesize;
	bool	sa_ref;
	bool	empty;
};

#define XTFS_RX_CB(skb) ((struct xtfs_rx_cb *)(skb)->cb)

struct xtfs_sa;

/**
 * struct xtfs_outer - outer IP header fields of an outgoing packet
 * @proto: protocol (next header) field, which ESP moves into its trailer
 * @ds: DS field
 * @df: DF bit (IPv4 outer)
 * @flow_set: @flow replaces the stack's choice
 * @flow: IPv4 Identification (low 16 bits) or IPv6 flow label (20 bits)
 */
struct xtfs_outer {
	u8	proto;
	u8	ds;
	bool	df;
	bool	flow_set;
	u32	flow;
};

/**
 * struct xtfs_iipc_outer - what IIPC decompression reads of the outer
 *	header (xtfs_iipc.c)
 * @ds: DS field
 * @ttl: TTL or hop limit
 * @flow: IPv4 Identification or IPv6 flow label
 */
struct xtfs_iipc_outer {
	u8	ds;
	u8	ttl;
	u32	flow;
};

/**
 * struct xtfs_payload_ops - a payload format: what the ESP payloads of an
 *	SA carry (Documentation/xtfs.rst, "Tunnel payload")
 * @hdr_len: octets of its header at the start of each ESP payload
 * @whole: an inner packet never spans ESP packets
 * @send: take one inner packet or GSO batch, data at its IP header, dst
 *	held, for sending; @space is the data room of one ESP payload.
 *	Returns 0 or an error; consumes the packet
 * @input: take one opened ESP payload (xfrm_mode_cbs::input). Returns
 *	-EINPROGRESS: the packet is consumed
 * @inner_mtu: the inner MTU for an outer path MTU
 *	(xfrm_mode_cbs::get_inner_mtu)
 * @outer_fields: the outer header's fields for an outgoing packet
 *	(xtfs_prepare_output()), the ESP payload put in its final form
 *	first: an IIPC SA compresses the inner header there. Returns 0 or
 *	an error; the core then drops the packet
 * @nexthdr: the ESP next header a Diet-ESP SA that does not send it
 *	implies: 144 (AGGFRAG), or 0 for 4 or 41 by the inner packet's IP
 *	version (xtfs_esp_open())
 *
 * Picked once per SA (xtfs_main.c); the data path calls through it.
 */
struct xtfs_payload_ops {
	u8	hdr_len;
	bool	whole;
	int	(*send)(struct xtfs_sa *sa, struct sock *sk, struct sk_buff *skb,
			u32 space);
	int	(*input)(struct xtfs_sa *sa, struct sk_buff *skb);
	u32	(*inner_mtu)(struct xtfs_sa *sa, int outer_mtu);
	int	(*outer_fields)(struct xfrm_state *x, struct sk_buff *skb,
				struct xtfs_outer *o);
	u8	nexthdr;
};

struct xtfs_eec;

/**
 * struct xtfs_iipc - a Diet-ESP inner IP compression rule
 *	(draft-ietf-ipsecme-diet-esp-07 sections 4.2 and 5.1,
 *	Documentation/xtfs.rst "IIPC")
 * @on: the SA compresses its inner packets by this rule
 * @version: 4 or 6, ts_ip_version
 * @proto: ts_proto, 0 for any
 * @dscp: dscp_cda, an &enum xtfs_iipc_cda
 * @ecn: ecn_cda
 * @fl: flow_label_cda, also for the IPv4 Identification
 * @rule_id: each packet starts with the RuleID octet
 * @src_len: bits of @src that every inner source address has:
 *	msb(ts_ip_src_start, ts_ip_src_end)
 * @dst_len: likewise for @dst
 * @sport_len: bits of @sport every source port has (UDP, TCP)
 * @dport_len: likewise for @dport
 * @dscp_n: values in @dscp_list
 * @sport: source port, its low 16 - @sport_len bits 0
 * @dport: destination port, likewise
 * @src: source address, bits past @src_len 0
 * @dst: destination address, likewise
 * @dscp_list: dscp_list, sent as the index into it
 */
struct xtfs_iipc {
	bool		on;
	u8		version;
	u8		proto;
	u8		dscp;
	u8		ecn;
	u8		fl;
	bool		rule_id;
	u8		src_len;
	u8		dst_len;
	u8		sport_len;
	u8		dport_len;
	u8		dscp_n;
	u16		sport;
	u16		dport;
	struct in6_addr	src;
	struct in6_addr	dst;
	u8		dscp_list[XTFS_IIPC_DSCP_MAX];
};

/**
 * struct xtfs_diet - the ESP wire format of an SA of xtfs's ESP engine:
 *	RFC 8750's, or Diet-ESP's (draft-ietf-ipsecme-diet-esp-07)
 * @on: a Diet-ESP setting is not at its default
 * @spi_lsb: low bits of the SPI sent (esp_spi_lsb, section 5.3)
 * @sn_lsb: low bits of the sequence number sent (esp_sn_lsb)
 * @trailer: an &enum xtfs_trailer (esp_trailer, section 5.2)
 * @align: octets the padded plaintext is a multiple of (alignment)
 * @hlen: octets of ESP header on the wire, (@spi_lsb + @sn_lsb) / 8
 * @trl: octets after the padding: Pad Length and Next Header (2), Pad
 *	Length alone (1) or none (0)
 * @eec: inbound, header compressed: the SA's entry in the table
 *	xtfs's ESP protocol handler looks packets up in (xtfs_diet.c), or
 *	NULL
 *
 * The kernel's ESP engine has the RFC 4303 values: 8, 4 (or the cipher's
 * block size), 2.
 */
struct xtfs_diet {
	bool		on;
	u8		spi_lsb;
	u8		sn_lsb;
	u8		trailer;
	u8		align;
	u8		hlen;
	u8		trl;
	struct xtfs_eec	*eec;
};

/* Loss intervals the loss event rate is averaged over (RFC 5348 5.4). */
#define XTFS_CC_NLI	8

/**
 * struct xtfs_cc_rx - congestion information an inbound SA receives
 *	(RFC 9347 section 3), under &xtfs_sa.rlock
 * @seen: a sub-type 1 header has arrived: the fields below are valid
 * @high: the highest sequence number received since
 * @peer_rtt_us: the sender's RTT estimate from its last header (µs)
 * @tval: the last new TVal received, to echo
 * @tval_seq: sequence number of the packet that brought it
 * @tval_ns: when it arrived (CLOCK_MONOTONIC ns)
 * @ev_seq: sequence numbers that start the loss intervals, newest first:
 *	[0] the open interval's start, then the last closed ones' starts;
 *	the oldest may be the stream's first packet rather than a loss
 * @ev_n: valid entries in @ev_seq, 1 to %XTFS_CC_NLI + 1
 * @ev_ns: when the newest loss event began
 * @losses: a loss event has been seen
 * @ce_mask: bit i set: the loss event starting at @ev_seq[i] was a CE mark
 * @win_ns: start of the current receive rate measurement
 * @win_n: packets received since
 * @xrecv_m: the receive rate over the last measurement (about one RTT),
 *	millipackets per second, 0 before the first
 * @fb_gen: counts the reports below, so a reader sees what is new
 * @fb_seq: sequence number of the packet that brought the last report
 * @fb_ler: its LossEventRate (inverse loss event rate, 0: no loss)
 * @fb_techo: its TEcho
 * @fb_echo_us: its Echo Delay (µs)
 * @fb_txd_us: its Transmit Delay (µs)
 * @fb_e: its E flag
 * @fb_ns: when it arrived
 */
struct xtfs_cc_rx {
	bool	seen;
	u64	high;
	u32	peer_rtt_us;
	u32	tval;
	u64	tval_seq;
	u64	tval_ns;
	u64	ev_seq[XTFS_CC_NLI + 1];
	u32	ev_n;
	u64	ev_ns;
	bool	losses;
	u16	ce_mask;
	u64	win_ns;
	u32	win_n;
	u64	xrecv_m;
	u32	fb_gen;
	u64	fb_seq;
	u32	fb_ler;
	u32	fb_techo;
	u32	fb_echo_us;
	u32	fb_txd_us;
	bool	fb_e;
	u64	fb_ns;
};

/**
 * struct xtfs_cc_tx - the congestion state of an outbound SA with a
 *	paired inbound SA (xtfs_cc.c), under &xtfs_sa.lock
 * @rev: the paired inbound SA, held, or NULL; only the send work and the
 *	teardown use it
 * @pair_ns: when it was last looked for
 * @rate_m: the rate now, millipackets per second
 * @rtt_us: RTT estimate (µs), 0 before the first
 * @nofb_ns: when the no-feedback timer expires, 0 before the first slot
 * @grow_ns: when a report last updated the rate
 * @fb_gen: &xtfs_cc_rx.fb_gen of the last report taken
 * @ler: the peer's last LossEventRate
 * @brk_since: since when the reported loss rate is at or above the
 *	breaker's threshold, 0 while below
 * @broken: the circuit breaker tripped: nothing is sent any more
 * @my_ler: the LossEventRate this host reports (of the paired SA)
 * @my_e: and its E flag
 * @echo: the TVal to echo, 0 for none
 * @echo_ns: when it arrived
 */
struct xtfs_cc_tx {
	struct xfrm_state	*rev;
	u64			pair_ns;
	u64			rate_m;
	u32			rtt_us;
	u64			nofb_ns;
	u64			grow_ns;
	u32			fb_gen;
	u32			ler;
	u64			brk_since;
	bool			broken;
	u32			my_ler;
	bool			my_e;
	u32			echo;
	u64			echo_ns;
};

/**
 * struct xtfs_sa - per-SA state, hung on xfrm_state::mode_data
 * @x: the SA
 * @cfg: configuration
 * @pl: the payload format, picked from @cfg.payload
 * @esp_hdr_len: the header length the ESP type's init_state gave the SA
 *	(ESP header, IV, UDP header), octets
 * @esp_hdr_less: octets of @esp_hdr_len xtfs's ESP engine leaves out
 *	(the implicit IV, what Diet-ESP compresses), 0 with the kernel's ESP
 * @outer_len: octets in front of the ESP payload on the wire: outer IP
 *	header, UDP header, ESP header, IV (xtfs_header_len())
 * @hdr_len: octets of the payload format's header the SA sends: the
 *	payload format's, or the sub-type 1 AGGFRAG header's with
 *	@cfg.rev_spi
 * @lock: protects the send queue and @queued
 * @queue: inner packets waiting to be sent
 * @queued: octets in @queue, GSO batches at their full length and the
 *	head packet whole (its sent part included)
 * @head_sent: octets of the head of @queue already sent in earlier outer
 *	packets
 * @timer: init delay timer, or with %XTFS_SEND_FIXED the slot timer;
 *	queues @tx_work
 * @tx_work: sends outer packets, on @tx_cpu (BH work item)
 * @tx_cpu: the CPU every outer packet of the SA leaves from
 * @pacing: a fixed-rate SA is sending its slots
 * @slot_next: start of its next slot (CLOCK_MONOTONIC ns), 0 before the
 *	first slot of a start of pacing
 * @slot_grid: a slot start of its last pacing, 0 before any: the grid a
 *	new start keeps to
 * @pad_dst: the route of the last data packet of a fixed-rate SA, which
 *	its all-pad packets take, or NULL
 * @pad_mark: that data packet's mark, for the all-pad packets
 * @pad_priority: and its priority
 * @cc: congestion state of an SA with @cfg.rev_spi
 * @rlock: protects the receive state below
 * @rx_started: @rx_next is valid
 * @rx_next: next outer sequence number to process in order
 * @rx_win: reorder window, @cfg.reorder_win + 1 slots indexed by
 *	sequence number modulo their count
 * @rx_held: outer packets held in @rx_win
 * @rx_bytes: truesize of the packets held in @rx_win, octets
 * @rx_high: highest sequence number held, while @rx_held > 0
 * @drop_timer: gives up on a missing outer packet after drop time
 * @reasm: data block parser state
 * @ccr: congestion information received
 * @iiv: the AEAD of the extended ESP engine when the SA uses implicit IV
 *	(@iiv.tfm set before the SA is visible, then constant)
 * @diet: the ESP header and trailer format (constant once visible)
 * @iipc: the inner header compression rule (constant once visible)
 * @cnt: counters, see &enum xtfs_counter
 * @xn: the list of its namespace's SAs it is in (xtfs_main.c)
 * @node: its entry there
 */
struct xtfs_sa {
	struct xfrm_state	*x;
	struct xtfs_net		*xn;
	struct list_head	node;
	struct xtfs_config	cfg;
	const struct xtfs_payload_ops *pl;
	u32			esp_hdr_len;
	u32			esp_hdr_less;
	u32			outer_len;
	u32			hdr_len;

	spinlock_t		lock;		/* send queue */
	struct sk_buff_head	queue;
	u32			queued;
	u32			head_sent;
	struct hrtimer		timer;
	struct work_struct	tx_work;
	int			tx_cpu;
	bool			pacing;
	u64			slot_next;
	u64			slot_grid;
	struct dst_entry	*pad_dst;
	u32			pad_mark;
	u32			pad_priority;
	struct xtfs_cc_tx	cc;

	spinlock_t		rlock;		/* receive state */
	bool			rx_started;
	u64			rx_next;
	struct sk_buff		**rx_win;
	u32			rx_held;
	u32			rx_bytes;
	u64			rx_high;
	struct hrtimer		drop_timer;
	struct xtfs_reasm	reasm;
	struct xtfs_cc_rx	ccr;

	struct xtfs_iiv		iiv;
	struct xtfs_diet	diet;
	struct xtfs_iipc	iipc;

	atomic64_t		cnt[XTFS_CNT_MAX];
};

/**
 * xtfs_inc() - add to a per-SA counter
 * @sa: the SA state
 * @c: which counter
 * @n: amount
 */
static inline void xtfs_inc(struct xtfs_sa *sa, enum xtfs_counter c, u64 n)
{
	atomic64_add(n, &sa->cnt[c]);
}

/**
 * xtfs_seq_infer() - the 64-bit sequence number nearest to a reference
 * @ref: a 64-bit sequence number known to be close (the next one expected)
 * @low: the low 32 bits of the number received
 *
 * RFC 4303 Appendix A2 infers the high half from the replay window; this
 * does the same from @ref, taking the candidate within 2^31 of it. A
 * candidate below 0 (an epoch before the first) is taken in epoch 0.
 *
 * Return: the full sequence number.
 */
static inline u64 xtfs_seq_infer(u64 ref, u32 low)
{
	s32 d = low - lower_32_bits(ref);

	if (d < 0 && ref < (u64)-(s64)d)
		return low;
	return ref + d;
}

/* xtfs_main.c */
struct xtfs_sa *xtfs_state_sa(const struct xfrm_state *x);
bool xtfs_sa_find(struct xtfs_sa *sa,
		  bool (*match)(const struct xtfs_sa *t, const void *arg),
		  const void *arg);
void xtfs_sa_free(struct xfrm_state *x);

/**
 * struct xtfs_settings - extension settings staged for an SA
 * @iiv: implicit-IV algorithm, an &enum xtfs_iiv_alg, or 0
 * @payload: payload format, an &enum xtfs_payload
 * @spi_lsb: Diet-ESP SPI bits sent (&XTFS_DIET_LSB_FULL: all)
 * @sn_lsb: Diet-ESP sequence number bits sent
 * @trailer: Diet-ESP trailer, an &enum xtfs_trailer
 * @align: Diet-ESP alignment in bits
 * @iipc: Diet-ESP inner header compression rule (@iipc.on: there is one)
 * @pace: sending mode, rates, paired SA and circuit breaker
 */
struct xtfs_settings {
	u32			iiv;
	u8			payload;
	u8			spi_lsb;
	u8			sn_lsb;
	u8			trailer;
	u8			align;
	struct xtfs_iipc	iipc;
	struct xtfs_pace	pace;
};

/* xtfs_netlink.c */
int xtfs_netlink_init(void);
void xtfs_netlink_exit(void);
void xtfs_stage_take(struct net *net, const struct xfrm_state *x,
		     struct xtfs_settings *set);

/**
 * xtfs_diet_seq() - rebuild a sequence number from its low bits
 * @top: the highest sequence number received, 0 before the first
 * @win: the replay window in packets, at least 1
 * @bits: how many low bits were sent, 1 to 32
 * @low: those bits
 *
 * RFC 4303 Appendix A generalised to @bits bits: the window's bottom B
 * is @top - @win + 1 (1 while @top < @win), and the number is the one
 * with these low bits in [B, B + 2^@bits - 1]: the window and
 * 2^@bits - @win numbers above it. With 32 bits and ESN this is the high
 * half the core infers (xfrm_replay_seqhi()).
 *
 * Return: the full sequence number.
 */
static inline u64 xtfs_diet_seq(u64 top, u32 win, unsigned int bits, u32 low)
{
	u64 base = top >= win ? top - win + 1 : 1;

	return base + ((low - base) & GENMASK_ULL(bits - 1, 0));
}

/* xtfs_esp.c */
int xtfs_esp_bind(struct xfrm_state *x, struct xtfs_sa *sa,
		  const struct xtfs_settings *set,
		  struct netlink_ext_ack *extack);

/* xtfs_diet.c */
void xtfs_diet_init(struct xfrm_state *x, struct xtfs_sa *sa);
bool xtfs_diet_wanted(const struct xtfs_settings *set);
int xtfs_diet_bind(struct xfrm_state *x, struct xtfs_sa *sa,
		   const struct xtfs_settings *set,
		   struct netlink_ext_ack *extack);
void xtfs_diet_release(struct xtfs_sa *sa);
int xtfs_diet_check_whole(struct xfrm_state *x,
			  const struct xtfs_settings *set,
			  struct netlink_ext_ack *extack);
void xtfs_diet_put_hdr(const struct xtfs_diet *d, u8 *p, __be32 spi, u64 seq);
int xtfs_diet_register(void);
void xtfs_diet_unregister(void);
bool xtfs_esp_destroy(struct xfrm_state *x, struct xtfs_sa *sa);
bool xtfs_esp_served(const struct xfrm_state *x);
int xtfs_esp_init(void);
void xtfs_esp_exit(void);

/* xtfs_output.c */
int xtfs_output(struct net *net, struct sock *sk, struct sk_buff *skb);
int xtfs_prepare_output(struct xfrm_state *x, struct sk_buff *skb);
int xtfs_aggfrag_send(struct xtfs_sa *sa, struct sock *sk,
		      struct sk_buff *skb, u32 space);
int xtfs_tunnel_send(struct xtfs_sa *sa, struct sock *sk,
		     struct sk_buff *skb, u32 space);
u32 xtfs_aggfrag_inner_mtu(struct xtfs_sa *sa, int outer_mtu);
u32 xtfs_tunnel_inner_mtu(struct xtfs_sa *sa, int outer_mtu);
int xtfs_aggfrag_fields(struct xfrm_state *x, struct sk_buff *skb,
			struct xtfs_outer *o);
int xtfs_tunnel_fields(struct xfrm_state *x, struct sk_buff *skb,
		       struct xtfs_outer *o);
u32 xtfs_get_inner_mtu(struct xfrm_state *x, int outer_mtu);
u32 xtfs_payload_space(struct xfrm_state *x, u32 outer_size);
u32 xtfs_min_pkt_size(struct xfrm_state *x);
void xtfs_output_init(struct xtfs_sa *sa);
void xtfs_output_destroy(struct xtfs_sa *sa);
void xtfs_output_flush_dev(struct xtfs_sa *sa, const struct net_device *dev);

/* xtfs_cc.c: congestion information and control (RFC 9347 section 3) */
struct xtfs_aggfrag_cc_hdr;
void xtfs_cc_init(struct xtfs_sa *sa);
void xtfs_cc_destroy(struct xtfs_sa *sa);
void xtfs_cc_pair(struct xtfs_sa *sa, u64 now);
bool xtfs_cc_tx_update(struct xtfs_sa *sa, u64 now);
u64 xtfs_cc_slot_ns(const struct xtfs_sa *sa);
void xtfs_cc_put_hdr(struct xtfs_sa *sa, struct xtfs_aggfrag_cc_hdr *h,
		     u64 now);
void xtfs_cc_rx(struct xtfs_sa *sa, const struct xtfs_aggfrag_cc_hdr *h,
		u64 seq, bool ce, u64 now);
void xtfs_cc_rx_lost(struct xtfs_sa *sa, u64 seq, u64 now);

/* xtfs_netlink.c: notifications */
void xtfs_notify_broken(struct xtfs_sa *sa);

/* xtfs_input.c */
int xtfs_input(struct xfrm_state *x, struct sk_buff *skb);
int xtfs_aggfrag_input(struct xtfs_sa *sa, struct sk_buff *skb);
int xtfs_tunnel_input(struct xtfs_sa *sa, struct sk_buff *skb);
int xtfs_tunnel_deliver(struct xtfs_sa *sa, struct sk_buff *skb, u8 ver,
			u8 outer_ds, const u8 *mac);

/* xtfs_iipc.c: Diet-ESP inner IP compression */
extern const struct nla_policy xtfs_iipc_policy[XTFS_A_IIPC_MAX + 1];
int xtfs_iipc_parse(const struct nlattr *nest, struct xtfs_iipc *r,
		    struct netlink_ext_ack *extack);
int xtfs_iipc_put(struct sk_buff *skb, const struct xtfs_iipc *r);
int xtfs_iipc_bind(struct xfrm_state *x, struct xtfs_sa *sa,
		   const struct xtfs_settings *set,
		   struct netlink_ext_ack *extack);
int xtfs_iipc_fields(struct xfrm_state *x, struct sk_buff *skb,
		     struct xtfs_outer *o);
int xtfs_iipc_input(struct xtfs_sa *sa, struct sk_buff *skb);
u32 xtfs_iipc_inner_mtu(struct xtfs_sa *sa, int outer_mtu);
int xtfs_input_init(struct xtfs_sa *sa, gfp_t gfp);
void xtfs_input_destroy(struct xtfs_sa *sa);
void xtfs_reasm_reset(struct xtfs_sa *sa, struct xtfs_reasm *r);

/* xtfs_iiv.c: the extended ESP engine's cipher */
const struct xtfs_iiv_alg_info *xtfs_iiv_alg_find(u32 alg);
const struct xtfs_iiv_alg_info *
xtfs_iiv_alg_of_aead(const struct xfrm_algo_aead *aead);
void xtfs_iiv_set_msg(struct netlink_ext_ack *extack, const char *msg);
int xtfs_iiv_init(struct xtfs_iiv *a, enum xtfs_iiv_alg alg, const u8 *key,
		  unsigned int keylen, bool esn,
		  struct netlink_ext_ack *extack);
void xtfs_iiv_destroy(struct xtfs_iiv *a);
void xtfs_iiv_nonce(const struct xtfs_iiv *a, u64 seq, u8 *iv);

/**
 * xtfs_iiv_of() - the eight octets of IV for a sequence number
 * @a: the transform
 * @seq: the packet's 64-bit sequence number
 *
 * RFC 8750 section 4: the 64-bit ESN with ESN, else four zero octets and
 * the 32-bit sequence number, which is the same thing when the high half
 * is zero. A Diet-ESP SA of an explicit-IV algorithm sends this value.
 *
 * Return: the IV, in network order.
 */
static inline __be64 xtfs_iiv_of(const struct xtfs_iiv *a, u64 seq)
{
	return cpu_to_be64(a->esn ? seq : lower_32_bits(seq));
}

int xtfs_iiv_crypt(struct xtfs_iiv *a, struct sk_buff *skb, unsigned int off,
		   unsigned int len, __be32 spi, u64 seq, bool encrypt);

/**
 * enum xtfs_split - when xtfs_fill_payload() splits an inner packet
 * @XTFS_SPLIT_FILL: whichever packet reaches the end of the space, so that
 *	every payload is full while packets are queued
 * @XTFS_SPLIT_PAYS: as @XTFS_SPLIT_FILL, except that a large packet (more
 *	than half the space) that a payload holds whole starts the next
 *	payload when less than a sixteenth of the space is left: the
 *	receiver then hands it on without reassembly (demand mode)
 * @XTFS_SPLIT_NEVER: never; stop at the first packet that does not fit
 *	whole (dont-frag, RFC 9347 section 2.2.6)
 */
enum xtfs_split {
	XTFS_SPLIT_FILL,
	XTFS_SPLIT_PAYS,
	XTFS_SPLIT_NEVER,
};

#if IS_ENABLED(CONFIG_KUNIT)
/* Internal codec entry points, visible to the KUnit suites only. */
u32 xtfs_fill_payload(struct sk_buff_head *q, u32 *head_sent, u8 *buf,
		      u32 space, enum xtfs_split split, u16 *blkoff,
		      u32 *frags);
void xtfs_reasm_payload(struct xtfs_sa *sa, struct xtfs_reasm *r,
			struct sk_buff *skb, struct sk_buff_head *out);
void xtfs_rx_seq(struct xtfs_sa *sa, struct sk_buff *skb, u64 seq,
		 ktime_t now, struct sk_buff_head *out);
ktime_t xtfs_rx_expire(struct xtfs_sa *sa, ktime_t now,
		       struct sk_buff_head *out);
int xtfs_iipc_encode(const struct xtfs_iipc *r, struct sk_buff *skb);
int xtfs_iipc_decode(const struct xtfs_iipc *r, struct sk_buff *skb,
		     const struct xtfs_iipc_outer *ou, unsigned int room);
void xtfs_diet_format(struct xtfs_diet *d, const struct xtfs_settings *set);
int xtfs_esp_seal(struct xtfs_sa *sa, struct sk_buff *skb, u64 seq,
		  __be16 sport, __be16 dport);
int xtfs_esp_open(struct xtfs_sa *sa, struct sk_buff *skb, u64 seq);
const struct xtfs_payload_ops *
xtfs_payload_ops_of(u8 payload, const struct xtfs_iipc *iipc);
u64 xtfs_cc_tfrc(u32 rtt_us, u32 ler);
u32 xtfs_cc_ler(const struct xtfs_cc_rx *c);
#endif

#endif /* _XTFS_H */
