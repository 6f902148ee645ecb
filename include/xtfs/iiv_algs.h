/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The implicit-IV algorithms of RFC 8750 section 7: one table, included by
 * the module (net/xtfs_iiv.c) and by the xtfs helper (tools/xtfs/state.c),
 * so that the two accept the same SAs and say the same things about them.
 * Plain C types only: the file is built in the kernel and in userspace.
 * Include <linux/xtfs.h> (enum xtfs_iiv_alg) first.
 */
#ifndef _XTFS_IIV_ALGS_H
#define _XTFS_IIV_ALGS_H

/**
 * struct xtfs_iiv_alg_info - one implicit-IV algorithm
 * @alg: the IKEv2 transform ID, an &enum xtfs_iiv_alg
 * @name: the helper's name for it ("state get" prints it)
 * @sa_aead: xfrm name of the AEAD the SA must have (its key is used)
 * @icv_bits: ICV length of that AEAD in bits
 * @crypto: crypto API name of the AEAD xtfs runs for it
 * @salt_len: octets of salt at the end of the key material
 * @iv_len: octets of the crypto API IV the nonce goes into
 * @key_lens: accepted cipher key sizes in octets (salt not included), 0
 *	terminated
 * @need_msg: why an SA with another AEAD is refused, a whole sentence
 * @key_msg: why key material of another size is refused, a whole sentence
 *
 * The messages are whole constant strings (a formatted extended ACK
 * message is cut at 80 characters), each starting with
 * XTFS_IIV_MSG_PREFIX, which the includer defines before it expands
 * XTFS_IIV_ALGS.
 */
struct xtfs_iiv_alg_info {
	unsigned int	alg;
	const char	*name;
	const char	*sa_aead;
	unsigned int	icv_bits;
	const char	*crypto;
	unsigned char	salt_len;
	unsigned char	iv_len;
	unsigned char	key_lens[4];
	const char	*need_msg;
	const char	*key_msg;
};

/*
 * XTFS_IIV_ALGS - initializer of an array of &struct xtfs_iiv_alg_info,
 * one entry an algorithm of RFC 8750 section 7:
 * - AES-GCM: RFC 4106 sections 3.1 and 8.1, 4-octet salt, 16-octet ICV;
 * - AES-CCM: RFC 4309 sections 3.1, 4 and 7.1, 3-octet salt, 8-octet ICV;
 *   the crypto API's CCM IV is the flags octet (L - 1 = 3), then the
 *   11-octet nonce, the counter after it zero;
 * - ChaCha20-Poly1305: RFC 7634 sections 2 and 4, 4-octet salt, 16-octet
 *   ICV.
 */
#define XTFS_IIV_ALGS {							\
	{								\
		.alg = XTFS_IIV_ALG_AES_GCM_16,				\
		.name = "aes-gcm-16",					\
		.sa_aead = "rfc4106(gcm(aes))",				\
		.icv_bits = 128,					\
		.crypto = "gcm(aes)",					\
		.salt_len = 4,						\
		.iv_len = 12,						\
		.key_lens = { 16, 24, 32 },				\
		.need_msg = XTFS_IIV_MSG_PREFIX				\
			"implicit IV ENCR_AES_GCM_16_IIV needs an SA with "	\
			"AEAD rfc4106(gcm(aes)) and a 128-bit ICV",		\
		.key_msg = XTFS_IIV_MSG_PREFIX				\
			"AES-GCM key material is 16, 24 or 32"	\
			" octets of key, then 4 of salt",	\
	},								\
	{								\
		.alg = XTFS_IIV_ALG_AES_CCM_8,				\
		.name = "aes-ccm-8",					\
		.sa_aead = "rfc4309(ccm(aes))",				\
		.icv_bits = 64,						\
		.crypto = "ccm(aes)",					\
		.salt_len = 3,						\
		.iv_len = 16,						\
		.key_lens = { 16, 24, 32 },				\
		.need_msg = XTFS_IIV_MSG_PREFIX				\
			"implicit IV ENCR_AES_CCM_8_IIV needs an SA with "	\
			"AEAD rfc4309(ccm(aes)) and a 64-bit ICV",		\
		.key_msg = XTFS_IIV_MSG_PREFIX				\
			"AES-CCM key material is 16, 24 or 32"	\
			" octets of key, then 3 of salt",	\
	},								\
	{								\
		.alg = XTFS_IIV_ALG_CHACHA20_POLY1305,			\
		.name = "chacha20-poly1305",				\
		.sa_aead = "rfc7539esp(chacha20,poly1305)",		\
		.icv_bits = 128,					\
		.crypto = "rfc7539(chacha20,poly1305)",			\
		.salt_len = 4,						\
		.iv_len = 12,						\
		.key_lens = { 32 },					\
		.need_msg = XTFS_IIV_MSG_PREFIX				\
			"implicit IV ENCR_CHACHA20_POLY1305_IIV needs an SA "	\
			"with AEAD rfc7539esp(chacha20,poly1305) and a "	\
			"128-bit ICV",						\
		.key_msg = XTFS_IIV_MSG_PREFIX				\
			"ChaCha20-Poly1305 key material is 32"	\
			" octets of key, then 4 of salt",	\
	},								\
}

#endif /* _XTFS_IIV_ALGS_H */
