/*
 * Crypto and encoding helpers over libsodium: SHA-256, hex, base64, and
 * the key formats we read and write.
 *
 * Key formats (all carry the C2SP signed-note key name and id):
 *   secret  "PRIVATE+KEY+<name>+<id8hex>+<base64(0x01 || seed32)>"
 *   verifier "<name>+<id8hex>+<base64(0x01 || pub32)>"   (C2SP vkey)
 *   PEM     SubjectPublicKeyInfo, for openssl pkeyutl -verify
 *   raw     the 32 public key bytes
 * key id = first 4 bytes of SHA-256(name || "\n" || 0x01 || pub32).
 */
#ifndef MVM_CRYPTO_H
#define MVM_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#define MVM_SHA256_LEN		32
#define MVM_SHA256_HEX		65	/* 64 hex + NUL */
#define MVM_PK_LEN		32
#define MVM_SEED_LEN		32
#define MVM_SK_LEN		64	/* libsodium secret key (seed||pk) */
#define MVM_SIG_LEN		64
#define MVM_VKEY_MAX		(64 + 1 + 8 + 1 + 48 + 1)
#define MVM_SKEY_MAX		(12 + MVM_VKEY_MAX)
#define MVM_PEM_MAX		160
#define MVM_B64_LEN(n)		((((n) + 2) / 3) * 4 + 1)

int	 mvm_crypto_init(void);
void	 sha256(const void *, size_t, uint8_t[MVM_SHA256_LEN]);
void	 hex_encode(const uint8_t *, size_t, char *);
int	 hex_decode(const char *, uint8_t *, size_t);
int	 is_hex(const char *, size_t);
void	 b64_encode(const uint8_t *, size_t, char *, size_t);
int	 b64_decode(const char *, size_t, uint8_t *, size_t, size_t *);

int	 key_name_valid(const char *);
uint32_t key_id(const char *, const uint8_t[MVM_PK_LEN]);
void	 key_id_hex(uint32_t, char[9]);
void	 key_id_bytes(uint32_t, uint8_t[4]);
int	 vkey_format(const char *, const uint8_t[MVM_PK_LEN], char *, size_t);
int	 vkey_parse(const char *, char *, size_t, uint8_t[MVM_PK_LEN],
	    uint32_t *);
int	 skey_format(const char *, const uint8_t[MVM_SEED_LEN],
	    const uint8_t[MVM_PK_LEN], char *, size_t);
int	 skey_parse(const char *, size_t, char *, size_t,
	    uint8_t[MVM_SEED_LEN]);
int	 pem_format(const uint8_t[MVM_PK_LEN], char *, size_t);
int	 pubkey_parse(const uint8_t *, size_t, uint8_t[MVM_PK_LEN], char *,
	    size_t);

#endif /* MVM_CRYPTO_H */
