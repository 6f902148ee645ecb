// SPDX-License-Identifier: GPL-2.0
/*
 * xtfs AEAD with implicit IV (RFC 8750): the cipher of the extended ESP
 * engine. Seals and opens one ESP packet whose IV is the packet's sequence
 * number: not on the wire (RFC 8750), or, for a Diet-ESP SA of an
 * explicit-IV algorithm, sent in the eight octets after the ESP header as
 * RFC 4106, 4309 and 7634 place it.
 *
 * The kernel's ESP templates (rfc4106, rfc4309, rfc7539esp) expect the IV
 * in the packet, between the AAD and the ciphertext. Here the nonce is
 * built from the salt and the sequence number and handed to the plain AEAD
 * (gcm, ccm, rfc7539) as its IV, and the AAD is given from a buffer of its
 * own: with ESN its middle word (the high half of the sequence number) is
 * not in the packet either (RFC 4303 section 2.2.1).
 */
#include <crypto/aead.h>
#include <linux/scatterlist.h>
#include <linux/skbuff.h>
#include <linux/unaligned.h>
#include <net/esp.h>
#include <kunit/visibility.h>

#include "xtfs.h"

/* The whole sentences of the table's messages start like every other. */
#define XTFS_IIV_MSG_PREFIX	KBUILD_MODNAME ": "

static const struct xtfs_iiv_alg_info xtfs_iiv_algs[] = XTFS_IIV_ALGS;

/*
 * Room for the AAD: SPI and sequence number, the high half too with ESN
 * (12 octets), rounded up so the scatterlist behind it stays aligned.
 */
#define XTFS_IIV_AAD_ROOM	16
/* Longest crypto API IV of the table above. */
#define XTFS_IIV_CRYPTO_IV_MAX	16

/**
 * xtfs_iiv_alg_find() - look an implicit-IV algorithm up
 * @alg: the IKEv2 transform ID
 *
 * Return: its entry in the table shared with the helper
 * (include/xtfs/iiv_algs.h), or NULL when @alg is none of them.
 */
const struct xtfs_iiv_alg_info *xtfs_iiv_alg_find(u32 alg)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(xtfs_iiv_algs); i++)
		if (xtfs_iiv_algs[i].alg == alg)
			return &xtfs_iiv_algs[i];
	return NULL;
}

/**
 * xtfs_iiv_alg_of_aead() - the algorithm of the engine for an SA's AEAD
 * @aead: the SA's AEAD, or NULL
 *
 * Return: the entry whose kernel AEAD name and ICV length @aead has, or
 * NULL.
 */
const struct xtfs_iiv_alg_info *
xtfs_iiv_alg_of_aead(const struct xfrm_algo_aead *aead)
{
	unsigned int i;

	for (i = 0; aead && i < ARRAY_SIZE(xtfs_iiv_algs); i++)
		if (!strcmp(aead->alg_name, xtfs_iiv_algs[i].sa_aead) &&
		    aead->alg_icv_len == xtfs_iiv_algs[i].icv_bits)
			return &xtfs_iiv_algs[i];
	return NULL;
}

/**
 * xtfs_iiv_set_msg() - set an extended ACK message from the table
 * @extack: where to say it, or NULL
 * @msg: a message of &struct xtfs_iiv_alg_info, a static string
 *
 * What NL_SET_ERR_MSG() does with a string that is not a literal.
 */
void xtfs_iiv_set_msg(struct netlink_ext_ack *extack, const char *msg)
{
	do_trace_netlink_extack(msg);
	if (extack)
		extack->_msg = msg;
}

/**
 * xtfs_iiv_init() - set up the AEAD of an implicit-IV SA
 * @a: the transform to fill in
 * @alg: the algorithm (IKEv2 transform ID)
 * @key: key material as IKEv2 derives it: cipher key, then salt
 * @keylen: octets in @key
 * @esn: the SA uses extended sequence numbers
 * @extack: where to say why the request is refused
 *
 * Only synchronous implementations are used: the engine seals and opens
 * packets in softirq context and does not wait.
 *
 * Return: 0, or -EINVAL for an unknown algorithm or a key of the wrong
 * size, -ENOENT when the kernel lacks the cipher, another negative errno
 * from the crypto API.
 */
int xtfs_iiv_init(struct xtfs_iiv *a, enum xtfs_iiv_alg alg, const u8 *key,
		  unsigned int keylen, bool esn, struct netlink_ext_ack *extack)
{
	const struct xtfs_iiv_alg_info *d = xtfs_iiv_alg_find(alg);
	struct crypto_aead *tfm;
	unsigned int klen, i;
	int err;

	memset(a, 0, sizeof(*a));
	if (!d) {
		NL_SET_ERR_MSG_FMT(extack,
				   "xtfs: %u is not an implicit-IV algorithm (29, 30 or 31)",
				   alg);
		return -EINVAL;
	}
	klen = keylen - d->salt_len;
	for (i = 0; i < ARRAY_SIZE(d->key_lens) && d->key_lens[i]; i++)
		if (keylen > d->salt_len && klen == d->key_lens[i])
			break;
	if (i == ARRAY_SIZE(d->key_lens) || !d->key_lens[i]) {
		xtfs_iiv_set_msg(extack, d->key_msg);
		return -EINVAL;
	}

	tfm = crypto_alloc_aead(d->crypto, 0, CRYPTO_ALG_ASYNC);
	if (IS_ERR(tfm)) {
		NL_SET_ERR_MSG_FMT(extack, "xtfs: the kernel has no synchronous %s",
				   d->crypto);
		return PTR_ERR(tfm);
	}
	err = crypto_aead_setkey(tfm, key, klen);
	if (!err)
		err = crypto_aead_setauthsize(tfm, d->icv_bits / 8);
	if (err) {
		NL_SET_ERR_MSG_FMT(extack, "xtfs: %s refused the key", d->crypto);
		crypto_free_aead(tfm);
		return err;
	}
	if (crypto_aead_ivsize(tfm) != d->iv_len) {
		NL_SET_ERR_MSG_FMT(extack, "xtfs: %s has an unexpected IV size",
				   d->crypto);
		crypto_free_aead(tfm);
		return -EINVAL;
	}

	a->tfm = tfm;
	a->alg = alg;
	a->esn = esn;
	a->salt_len = d->salt_len;
	a->icv_len = d->icv_bits / 8;
	a->iv_len = d->iv_len;
	memcpy(a->salt, key + klen, d->salt_len);
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(xtfs_iiv_init);

/**
 * xtfs_iiv_destroy() - free the AEAD of an implicit-IV SA
 * @a: the transform (xtfs_iiv_init() succeeded, or zeroed)
 */
void xtfs_iiv_destroy(struct xtfs_iiv *a)
{
	if (a->tfm)
		crypto_free_aead(a->tfm);
	a->tfm = NULL;
}
EXPORT_SYMBOL_IF_KUNIT(xtfs_iiv_destroy);

/**
 * xtfs_iiv_nonce_iv() - the crypto API IV for the eight octets of ESP's IV
 * @a: the transform
 * @esp_iv: the IV, XTFS_IIV_LEN octets, as on the wire
 * @iv: out, @a->iv_len octets
 *
 * The nonce is salt || IV (RFC 4106 section 4, RFC 4309 section 4, RFC
 * 7634 section 2); CCM's crypto API IV adds the flags octet in front and
 * the block counter behind.
 */
static void xtfs_iiv_nonce_iv(const struct xtfs_iiv *a, const u8 *esp_iv,
			      u8 *iv)
{
	unsigned int off = 0;

	memset(iv, 0, a->iv_len);
	if (a->alg == XTFS_IIV_ALG_AES_CCM_8)
		iv[off++] = 3;	/* L' = L - 1, L = 15 - 11 octets of nonce */
	memcpy(iv + off, a->salt, a->salt_len);
	memcpy(iv + off + a->salt_len, esp_iv, XTFS_IIV_LEN);
}

/**
 * xtfs_iiv_nonce() - the crypto API IV for a sequence number
 * @a: the transform
 * @seq: the packet's 64-bit sequence number
 * @iv: out, @a->iv_len octets
 *
 * RFC 8750 section 4: the implicit IV is the 64-bit ESN with ESN, else
 * four zero octets and the 32-bit sequence number (xtfs_iiv_of()).
 */
void xtfs_iiv_nonce(const struct xtfs_iiv *a, u64 seq, u8 *iv)
{
	__be64 implicit = xtfs_iiv_of(a, seq);

	xtfs_iiv_nonce_iv(a, (const u8 *)&implicit, iv);
}
EXPORT_SYMBOL_IF_KUNIT(xtfs_iiv_nonce);

/**
 * xtfs_iiv_crypt() - seal or open one ESP packet of xtfs's ESP engine
 * @a: the transform
 * @skb: the packet; writable from @off on (skb_cow_data() is called)
 * @off: offset in @skb of the ESP payload: right after the ESP header
 *	with implicit IV (RFC 8750 section 4), else after the @a->wire_iv
 *	octets of IV, which the nonce is then made of (written there before
 *	sealing)
 * @len: octets from @off to the end of the ICV
 * @spi: the SA's SPI
 * @seq: the packet's 64-bit sequence number
 * @encrypt: seal (the ICV octets are written) or open (checked)
 *
 * The AAD is the SPI and the sequence number, with ESN the SPI and the
 * high and low halves of the 64-bit sequence number (RFC 4303 section
 * 2.2.1), whatever the ESP header on the wire carries: Diet-ESP computes
 * the ICV over the uncompressed header (draft-ietf-ipsecme-diet-esp-07
 * section 4). An IV on the wire is not part of the AAD (RFC 4106 section
 * 5, RFC 4309 section 5, RFC 7634 section 2.1): it is authenticated as
 * the nonce.
 *
 * Return: 0; -EBADMSG when the ICV does not verify; -EINVAL for a packet
 * too short to hold an ICV; -ENOMEM.
 */
int xtfs_iiv_crypt(struct xtfs_iiv *a, struct sk_buff *skb, unsigned int off,
		   unsigned int len, __be32 spi, u64 seq, bool encrypt)
{
	unsigned int cryptlen, aadlen, reqlen, align;
	struct sk_buff *trailer;
	struct aead_request *req;
	struct scatterlist *sg;
	u8 *iv, *aad;
	int nfrags, err;

	if (len < a->icv_len || off + len > skb->len || off < a->wire_iv)
		return -EINVAL;
	/* Sealing covers the payload only; opening the ICV too. */
	cryptlen = len - (encrypt ? a->icv_len : 0);

	nfrags = skb_cow_data(skb, 0, &trailer);
	if (nfrags < 0)
		return nfrags;

	/*
	 * One allocation: request, crypto IV (aligned as the cipher wants
	 * it), AAD, then the scatterlist.
	 */
	align = max(crypto_aead_alignmask(a->tfm) + 1, __alignof__(u64));
	reqlen = sizeof(*req) + crypto_aead_reqsize(a->tfm);
	req = kmalloc(reqlen + align - 1 + XTFS_IIV_CRYPTO_IV_MAX +
		      XTFS_IIV_AAD_ROOM + (nfrags + 1) * sizeof(*sg), GFP_ATOMIC);
	if (!req)
		return -ENOMEM;
	iv = PTR_ALIGN((u8 *)req + reqlen, align);
	aad = iv + XTFS_IIV_CRYPTO_IV_MAX;
	sg = (struct scatterlist *)(aad + XTFS_IIV_AAD_ROOM);

	if (a->wire_iv) {
		/* The AAD's room holds the wire's IV until the nonce is made. */
		err = skb_copy_bits(skb, off - a->wire_iv, aad, a->wire_iv);
		if (unlikely(err))
			goto out;
		xtfs_iiv_nonce_iv(a, aad, iv);
	} else {
		xtfs_iiv_nonce(a, seq, iv);
	}
	put_unaligned(spi, (__be32 *)aad);
	aadlen = 4;
	if (a->esn) {
		put_unaligned_be32(upper_32_bits(seq), aad + aadlen);
		aadlen += 4;
	}
	put_unaligned_be32(lower_32_bits(seq), aad + aadlen);
	aadlen += 4;

	sg_init_table(sg, nfrags + 1);
	sg_set_buf(sg, aad, aadlen);
	err = skb_to_sgvec(skb, sg + 1, off, len);
	if (unlikely(err < 0))
		goto out;

	aead_request_set_tfm(req, a->tfm);
	aead_request_set_callback(req, 0, NULL, NULL);
	aead_request_set_ad(req, aadlen);
	aead_request_set_crypt(req, sg, sg, cryptlen, iv);
	err = encrypt ? crypto_aead_encrypt(req) : crypto_aead_decrypt(req);
out:
	kfree_sensitive(req);
	return err;
}
EXPORT_SYMBOL_IF_KUNIT(xtfs_iiv_crypt);
