// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests for xtfs's implicit-IV AEAD (RFC 8750, xtfs_iiv.c):
 * known-answer tests for every algorithm, key size and ESN setting against
 * vectors made outside xtfs (xtfs_iiv_kat.h, by tools/testbed/gen-iiv-kat.py
 * with Python's "cryptography"), sealed and opened over linear and paged
 * skbs; the nonce layout of RFC 8750 section 4; tampered packets and a
 * wrong ESN high half refused; bad keys refused with a message; the
 * Diet-ESP header and sequence number rebuilding (xtfs_diet.c); whole
 * Diet-ESP packets, implicit IV or IV on the wire, sealed and opened by
 * xtfs_esp.c against vectors made by selftests/diet_esp.py
 * (xtfs_diet_kat.h).
 */
#include <kunit/test.h>
#include <linux/skbuff.h>
#include <linux/unaligned.h>
#include <net/netlink.h>

#include "xtfs.h"
#include "xtfs_iiv_kat.h"
#include "xtfs_diet_kat.h"
#include "xtfs_test.h"

/* Where the ESP header sits in the test skbs: behind an outer IPv4 header. */
#define KAT_OFF		20

/* skb shapes each known-answer vector is sealed and opened in. */
enum iiv_shape { IIV_LINEAR, IIV_PAGED };

static void iiv_kat_desc(const struct xtfs_iiv_kat *k, char *desc)
{
	strscpy(desc, k->name, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(iiv_kat, xtfs_iiv_kats, iiv_kat_desc);

/**
 * kat_spi() - the SPI of a known-answer vector
 * @k: the vector
 *
 * Return: the first four octets of its wire form.
 */
static __be32 kat_spi(const struct xtfs_iiv_kat *k)
{
	__be32 spi;

	memcpy(&spi, k->wire, sizeof(spi));
	return spi;
}

/**
 * iiv_skb() - an skb holding octets behind KAT_OFF octets of zeroes
 * @test: test context
 * @buf: the octets
 * @len: how many
 * @shape: linear, or the first 12 octets in the head and the rest paged
 *
 * Return: the skb, its length KAT_OFF + @len.
 */
static struct sk_buff *iiv_skb(struct kunit *test, const u8 *buf,
			       unsigned int len, enum iiv_shape shape)
{
	unsigned int head = shape == IIV_LINEAR ? len : 12;
	struct sk_buff *skb;

	skb = alloc_skb(KAT_OFF + len, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, skb);
	memset(skb_put(skb, KAT_OFF), 0, KAT_OFF);
	skb_put_data(skb, buf, head);
	if (len > head)
		xtfs_test_add_frags(test, skb, buf + head, len - head);
	return skb;
}

/*
 * Seal the vector's payload and compare with its wire form; open the wire
 * form and compare with the payload. In a linear skb, then in one whose
 * ciphertext is paged.
 */
static void xtfs_test_iiv_kat(struct kunit *test)
{
	const struct xtfs_iiv_kat *k = test->param_value;
	enum iiv_shape shape;
	struct sk_buff *skb;
	struct xtfs_iiv a;
	u8 *buf;
	int err;

	err = xtfs_iiv_init(&a, k->alg, k->key, k->keylen, k->esn, NULL);
	KUNIT_ASSERT_EQ(test, err, 0);
	KUNIT_ASSERT_EQ(test, k->wirelen, 8 + k->plainlen + a.icv_len);
	buf = kunit_kzalloc(test, k->wirelen, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, buf);

	for (shape = IIV_LINEAR; shape <= IIV_PAGED; shape++) {
		/* Seal: ESP header and payload in, the ICV's room zeroed. */
		memset(buf, 0, k->wirelen);
		memcpy(buf, k->wire, 8);
		memcpy(buf + 8, k->plain, k->plainlen);
		skb = iiv_skb(test, buf, k->wirelen, shape);
		err = xtfs_iiv_crypt(&a, skb, KAT_OFF + 8, k->wirelen - 8,
				     kat_spi(k), k->seq, true);
		KUNIT_EXPECT_EQ_MSG(test, err, 0, "seal, shape %d", shape);
		KUNIT_ASSERT_EQ(test, skb_copy_bits(skb, KAT_OFF, buf, k->wirelen), 0);
		KUNIT_EXPECT_MEMEQ_MSG(test, buf, k->wire, k->wirelen,
				       "seal, shape %d", shape);
		kfree_skb(skb);

		/* Open the vector's wire form: the payload comes back. */
		skb = iiv_skb(test, k->wire, k->wirelen, shape);
		err = xtfs_iiv_crypt(&a, skb, KAT_OFF + 8, k->wirelen - 8,
				     kat_spi(k), k->seq, false);
		KUNIT_EXPECT_EQ_MSG(test, err, 0, "open, shape %d", shape);
		KUNIT_ASSERT_EQ(test, skb_copy_bits(skb, KAT_OFF + 8, buf,
						    k->plainlen), 0);
		KUNIT_EXPECT_MEMEQ_MSG(test, buf, k->plain, k->plainlen,
				       "open, shape %d", shape);
		kfree_skb(skb);
	}
	xtfs_iiv_destroy(&a);
}

/* RFC 8750 section 4, Figures 1 and 2, inside each algorithm's nonce. */
static void xtfs_test_iiv_nonce(struct kunit *test)
{
	static const u8 key[36] = { [32] = 0xa1, 0xa2, 0xa3, 0xa4 };
	static const u8 sn32[8] = { 0, 0, 0, 0, 0x89, 0xab, 0xcd, 0xef };
	static const u8 sn64[8] = { 0x01, 0x23, 0x45, 0x67,
				    0x89, 0xab, 0xcd, 0xef };
	static const struct {
		enum xtfs_iiv_alg alg;
		unsigned int keylen;
		unsigned int iv_len;
		unsigned int salt_at;
		unsigned int salt_len;
	} c[] = {
		{ XTFS_IIV_ALG_AES_GCM_16, 20, 12, 0, 4 },
		{ XTFS_IIV_ALG_AES_CCM_8, 19, 16, 1, 3 },
		{ XTFS_IIV_ALG_CHACHA20_POLY1305, 36, 12, 0, 4 },
	};
	u64 seq = 0x0123456789abcdefULL;
	unsigned int i, esn;
	struct xtfs_iiv a;
	u8 iv[16];

	for (i = 0; i < ARRAY_SIZE(c); i++) {
		for (esn = 0; esn < 2; esn++) {
			const u8 *salt = key + c[i].keylen - c[i].salt_len;
			unsigned int ivat = c[i].salt_at + c[i].salt_len;

			KUNIT_ASSERT_EQ(test, xtfs_iiv_init(&a, c[i].alg, key,
							    c[i].keylen, esn,
							    NULL), 0);
			KUNIT_EXPECT_EQ(test, a.iv_len, c[i].iv_len);
			memset(iv, 0x5a, sizeof(iv));
			xtfs_iiv_nonce(&a, seq, iv);
			KUNIT_EXPECT_MEMEQ(test, iv + c[i].salt_at, salt,
					   c[i].salt_len);
			KUNIT_EXPECT_MEMEQ(test, iv + ivat, esn ? sn64 : sn32, 8);
			if (c[i].alg == XTFS_IIV_ALG_AES_CCM_8) {
				/* Flags (L' = 3), then a zero block counter. */
				KUNIT_EXPECT_EQ(test, iv[0], 3);
				KUNIT_EXPECT_EQ(test, iv[12] | iv[13] | iv[14] |
						iv[15], 0);
			}
			xtfs_iiv_destroy(&a);
		}
	}
}

/*
 * Any change to the packet, to the AAD or to the sequence number it is
 * opened with makes it fail, and a failed open is reported as -EBADMSG.
 * The last is what ESN inference relies on (RFC 4303 Appendix A): a packet
 * opened with the wrong high half does not verify.
 */
static void xtfs_test_iiv_tamper(struct kunit *test)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(xtfs_iiv_kats); i++) {
		const struct xtfs_iiv_kat *k = &xtfs_iiv_kats[i];
		unsigned int at[] = { 8, 9, k->wirelen / 2, k->wirelen - 1 };
		struct sk_buff *skb;
		struct xtfs_iiv a;
		unsigned int j;
		int err;

		KUNIT_ASSERT_EQ(test, xtfs_iiv_init(&a, k->alg, k->key,
						    k->keylen, k->esn, NULL), 0);
		for (j = 0; j < ARRAY_SIZE(at); j++) {
			skb = iiv_skb(test, k->wire, k->wirelen, IIV_LINEAR);
			skb->data[KAT_OFF + at[j]] ^= 0x10;
			err = xtfs_iiv_crypt(&a, skb, KAT_OFF + 8,
					     k->wirelen - 8, kat_spi(k),
					     k->seq, false);
			KUNIT_EXPECT_EQ_MSG(test, err, -EBADMSG, "%s, octet %u",
					    k->name, at[j]);
			kfree_skb(skb);
		}
		/* The wrong sequence number: the high half, or all of it. */
		skb = iiv_skb(test, k->wire, k->wirelen, IIV_LINEAR);
		err = xtfs_iiv_crypt(&a, skb, KAT_OFF + 8, k->wirelen - 8,
				     kat_spi(k),
				     k->esn ? k->seq - (1ULL << 32) : k->seq + 1,
				     false);
		KUNIT_EXPECT_EQ_MSG(test, err, -EBADMSG, "%s, wrong SN", k->name);
		kfree_skb(skb);
		/* The wrong SPI: the AAD is not the one sealed. */
		skb = iiv_skb(test, k->wire, k->wirelen, IIV_LINEAR);
		err = xtfs_iiv_crypt(&a, skb, KAT_OFF + 8, k->wirelen - 8,
				     kat_spi(k) ^ htonl(1), k->seq, false);
		KUNIT_EXPECT_EQ_MSG(test, err, -EBADMSG, "%s, wrong SPI",
				    k->name);
		kfree_skb(skb);
		/* Too short to hold an ICV; longer than the packet. */
		skb = iiv_skb(test, k->wire, k->wirelen, IIV_LINEAR);
		err = xtfs_iiv_crypt(&a, skb, KAT_OFF + 8, a.icv_len - 1,
				     kat_spi(k), k->seq, false);
		KUNIT_EXPECT_EQ(test, err, -EINVAL);
		err = xtfs_iiv_crypt(&a, skb, KAT_OFF + 8, k->wirelen - 7,
				     kat_spi(k), k->seq, false);
		KUNIT_EXPECT_EQ(test, err, -EINVAL);
		kfree_skb(skb);
		xtfs_iiv_destroy(&a);
	}
}

/* Unknown algorithms and key material of the wrong size are refused. */
static void xtfs_test_iiv_bad_key(struct kunit *test)
{
	static const u8 key[40];
	static const struct {
		unsigned int alg;
		unsigned int keylen;
	} bad[] = {
		{ 20, 20 },				/* ENCR_AES_GCM_16 */
		{ XTFS_IIV_ALG_AES_GCM_16, 16 },		/* no salt */
		{ XTFS_IIV_ALG_AES_GCM_16, 19 },
		{ XTFS_IIV_ALG_AES_GCM_16, 40 },
		{ XTFS_IIV_ALG_AES_CCM_8, 20 },		/* GCM's salt */
		{ XTFS_IIV_ALG_AES_CCM_8, 3 },
		{ XTFS_IIV_ALG_CHACHA20_POLY1305, 20 },	/* 128-bit key */
		{ XTFS_IIV_ALG_CHACHA20_POLY1305, 0 },
	};
	struct netlink_ext_ack extack;
	struct xtfs_iiv a;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		memset(&extack, 0, sizeof(extack));
		KUNIT_EXPECT_EQ_MSG(test, xtfs_iiv_init(&a, bad[i].alg, key,
							bad[i].keylen, false,
							&extack),
				    -EINVAL, "alg %u keylen %u", bad[i].alg,
				    bad[i].keylen);
		KUNIT_EXPECT_NOT_NULL(test, extack._msg);
		KUNIT_EXPECT_NULL(test, a.tfm);
		xtfs_iiv_destroy(&a);
	}
}

/**
 * xtfs_test_diet_hdr() - Diet-ESP headers: SPI bits, then SN bits
 * @test: test context
 */
static void xtfs_test_diet_hdr(struct kunit *test)
{
	static const struct {
		u8 spi_lsb, sn_lsb, hlen;
		u8 wire[8];
	} c[] = {
		{ 32, 32, 8, { 0x12, 0x34, 0x56, 0x78, 0x00, 0x00, 0x01, 0x05 } },
		{ 8, 16, 3, { 0x78, 0x01, 0x05 } },
		{ 12, 12, 3, { 0x67, 0x81, 0x05 } },
		{ 4, 4, 1, { 0x85 } },
		{ 24, 32, 7, { 0x34, 0x56, 0x78, 0x00, 0x00, 0x01, 0x05 } },
		{ 16, 0, 2, { 0x56, 0x78 } },
	};
	struct xtfs_diet d = {};
	u8 buf[9];
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(c); i++) {
		d.spi_lsb = c[i].spi_lsb;
		d.sn_lsb = c[i].sn_lsb;
		d.hlen = c[i].hlen;
		memset(buf, 0xee, sizeof(buf));
		/* The high half of an ESN number is never sent. */
		xtfs_diet_put_hdr(&d, buf, htonl(0x12345678),
				  0x700000105ULL);
		KUNIT_EXPECT_MEMEQ_MSG(test, buf, c[i].wire, c[i].hlen,
				       "spi-lsb %u sn-lsb %u", c[i].spi_lsb,
				       c[i].sn_lsb);
		KUNIT_EXPECT_EQ(test, buf[c[i].hlen], 0xee);
	}
}

/**
 * xtfs_test_diet_seq() - sequence numbers rebuilt from their low bits
 *	around the replay window
 * @test: test context
 */
static void xtfs_test_diet_seq(struct kunit *test)
{
	/* Nothing received: the first numbers, 0 taken as 2^bits. */
	KUNIT_EXPECT_EQ(test, xtfs_diet_seq(0, 64, 8, 1), 1);
	KUNIT_EXPECT_EQ(test, xtfs_diet_seq(0, 64, 8, 0), 256);
	/* Top 300, window 64: [237, 492]. */
	KUNIT_EXPECT_EQ(test, xtfs_diet_seq(300, 64, 8, 300 & 0xff), 300);
	KUNIT_EXPECT_EQ(test, xtfs_diet_seq(300, 64, 8, 237 & 0xff), 237);
	KUNIT_EXPECT_EQ(test, xtfs_diet_seq(300, 64, 8, 236 & 0xff), 492);
	KUNIT_EXPECT_EQ(test, xtfs_diet_seq(300, 64, 8, 301 & 0xff), 301);
	/* Across 2^32 with 32 bits: the high half RFC 4303 A2.2 gives. */
	KUNIT_EXPECT_EQ(test, xtfs_diet_seq((1ULL << 32) + 5, 64, 32,
					    0xfffffff0), (1ULL << 32) - 16);
	KUNIT_EXPECT_EQ(test, xtfs_diet_seq((1ULL << 32) + 5, 64, 32, 10),
			(1ULL << 32) + 10);
	KUNIT_EXPECT_EQ(test, xtfs_diet_seq(0xfffffff0ULL, 32, 16, 0x0003),
			(1ULL << 32) + 3);
}

static void diet_kat_desc(const struct xtfs_diet_kat *k, char *desc)
{
	strscpy(desc, k->name, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(diet_kat, xtfs_diet_kats, diet_kat_desc);

/**
 * diet_kat_sa() - an SA of xtfs's ESP engine for a whole-packet vector
 * @test: test context
 * @k: the vector
 *
 * The xfrm state is not registered: xtfs_esp_seal() and xtfs_esp_open()
 * read its SPI, family and encapsulation (none) only.
 *
 * Return: the SA, its AEAD keyed and its Diet-ESP format set.
 */
static struct xtfs_sa *diet_kat_sa(struct kunit *test,
				   const struct xtfs_diet_kat *k)
{
	struct xfrm_state *x = kunit_kzalloc(test, sizeof(*x), GFP_KERNEL);
	struct xtfs_sa *sa = kunit_kzalloc(test, sizeof(*sa), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, x);
	KUNIT_ASSERT_NOT_NULL(test, sa);
	x->id.spi = cpu_to_be32(k->spi);
	x->props.family = AF_INET;
	sa->x = x;
	KUNIT_ASSERT_EQ(test, xtfs_iiv_init(&sa->iiv, k->alg, k->key,
					    k->keylen, k->esn, NULL), 0);
	sa->iiv.wire_iv = k->wire_iv ? XTFS_IIV_LEN : 0;
	xtfs_diet_format(&sa->diet, &k->set);
	sa->pl = xtfs_payload_ops_of(k->set.payload, NULL);
	return sa;
}

/**
 * diet_seal_skb() - a packet as xfrm_output_one() hands it to the type
 * @test: test context
 * @k: the vector
 * @hl: octets of header and IV on the wire
 * @shape: linear, or all but the payload's first 8 octets paged
 *
 * An outer IPv4 header of zeroes but for its protocol (the payload's next
 * header, where the mac header points), the ESP header's room, the
 * payload; data at the payload.
 *
 * Return: the skb.
 */
static struct sk_buff *diet_seal_skb(struct kunit *test,
				     const struct xtfs_diet_kat *k,
				     unsigned int hl, enum iiv_shape shape)
{
	unsigned int head = shape == IIV_LINEAR ? k->payload_len :
			    min(k->payload_len, 8U);
	struct sk_buff *skb;
	u8 *iph;

	skb = alloc_skb(KAT_OFF + hl + k->payload_len, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, skb);
	iph = skb_put_zero(skb, KAT_OFF);
	iph[9] = k->nexthdr;
	skb_reset_network_header(skb);
	skb_set_mac_header(skb, 9);
	skb_set_transport_header(skb, KAT_OFF);
	skb_put_zero(skb, hl);
	skb_put_data(skb, k->payload, head);
	if (k->payload_len > head)
		xtfs_test_add_frags(test, skb, k->payload + head,
				    k->payload_len - head);
	skb_pull(skb, KAT_OFF + hl);
	return skb;
}

/**
 * diet_open_skb() - a vector's packet as xtfs_esp_open() takes it
 * @test: test context
 * @k: the vector
 * @hlen: octets of its compressed header
 * @buf: room for KAT_OFF octets more than the packet
 * @shape: linear, or the first 12 octets in the head and the rest paged
 * @flip: octet of the packet to change (0: none; 8 is the first after
 *	the ESP header)
 *
 * The header rebuilt whole as xtfs_diet_rcv() does (SPI, low half of the
 * sequence number), then the rest of the wire; data at the ESP header.
 *
 * Return: the skb.
 */
static struct sk_buff *diet_open_skb(struct kunit *test,
				     const struct xtfs_diet_kat *k,
				     unsigned int hlen, u8 *buf,
				     enum iiv_shape shape, unsigned int flip)
{
	unsigned int whole = 8 + k->wire_len - hlen;
	struct sk_buff *skb;

	put_unaligned_be32(k->spi, buf);
	put_unaligned_be32(lower_32_bits(k->seq), buf + 4);
	memcpy(buf + 8, k->wire + hlen, k->wire_len - hlen);
	if (flip)
		buf[flip] ^= 0x01;
	skb = iiv_skb(test, buf, whole, shape);
	skb_pull(skb, KAT_OFF);
	return skb;
}

/*
 * Whole Diet-ESP packets (draft-ietf-ipsecme-diet-esp-07 sections 5.2 and
 * 5.3, RFC 8750 or the IV on the wire): the vector's payload sealed by
 * xtfs_esp_seal() gives the vector's packet octet for octet behind the
 * outer header, whose protocol becomes ESP; the packet, its header
 * rebuilt whole as xtfs_diet_rcv() does, opened by xtfs_esp_open() gives
 * the payload and its next header back; with one octet changed it fails.
 * Linear and paged skbs.
 */
static void xtfs_test_diet_kat(struct kunit *test)
{
	const struct xtfs_diet_kat *k = test->param_value;
	struct xtfs_sa *sa = diet_kat_sa(test, k);
	unsigned int hlen = sa->diet.hlen, hl = hlen + sa->iiv.wire_iv;
	unsigned int whole = 8 + k->wire_len - hlen;
	enum iiv_shape shape;
	struct sk_buff *skb;
	u8 *buf;
	int nh;

	KUNIT_ASSERT_GE(test, k->wire_len, hl);
	buf = kunit_kzalloc(test, KAT_OFF + whole, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, buf);
	for (shape = IIV_LINEAR; shape <= IIV_PAGED; shape++) {
		skb = diet_seal_skb(test, k, hl, shape);
		KUNIT_EXPECT_EQ_MSG(test, xtfs_esp_seal(sa, skb, k->seq, 0, 0),
				    0, "seal, shape %d", shape);
		KUNIT_EXPECT_EQ(test, skb->len, KAT_OFF + k->wire_len);
		if (skb->len == KAT_OFF + k->wire_len) {
			KUNIT_ASSERT_EQ(test, skb_copy_bits(skb, 0, buf,
							    skb->len), 0);
			KUNIT_EXPECT_EQ(test, buf[9], IPPROTO_ESP);
			KUNIT_EXPECT_MEMEQ_MSG(test, buf + KAT_OFF, k->wire,
					       k->wire_len, "seal, shape %d",
					       shape);
		}
		kfree_skb(skb);

		skb = diet_open_skb(test, k, hlen, buf, shape, 0);
		nh = xtfs_esp_open(sa, skb, k->seq);
		KUNIT_EXPECT_EQ_MSG(test, nh, k->nexthdr, "open, shape %d",
				    shape);
		KUNIT_EXPECT_EQ(test, skb->len, k->payload_len);
		if (nh == k->nexthdr && skb->len == k->payload_len) {
			KUNIT_ASSERT_EQ(test, skb_copy_bits(skb, 0, buf,
							    skb->len), 0);
			KUNIT_EXPECT_MEMEQ_MSG(test, buf, k->payload,
					       k->payload_len, "open, shape %d",
					       shape);
		}
		kfree_skb(skb);

		/* An IV or ciphertext octet changed: the ICV fails. */
		skb = diet_open_skb(test, k, hlen, buf, shape, 8);
		KUNIT_EXPECT_EQ_MSG(test, xtfs_esp_open(sa, skb, k->seq),
				    -EBADMSG, "tampered, shape %d", shape);
		kfree_skb(skb);
	}
	xtfs_iiv_destroy(&sa->iiv);
}

static struct kunit_case xtfs_iiv_cases[] = {
	KUNIT_CASE(xtfs_test_diet_hdr),
	KUNIT_CASE(xtfs_test_diet_seq),
	KUNIT_CASE_PARAM(xtfs_test_iiv_kat, iiv_kat_gen_params),
	KUNIT_CASE(xtfs_test_iiv_nonce),
	KUNIT_CASE(xtfs_test_iiv_tamper),
	KUNIT_CASE(xtfs_test_iiv_bad_key),
	KUNIT_CASE_PARAM(xtfs_test_diet_kat, diet_kat_gen_params),
	{}
};

static struct kunit_suite xtfs_iiv_suite = {
	.name = "xtfs_iiv",
	.test_cases = xtfs_iiv_cases,
};

kunit_test_suite(xtfs_iiv_suite);
