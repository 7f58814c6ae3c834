/*
 * crypto_int.h: what crypto.c and keyfile.c share. Not for other modules.
 */
#ifndef MRD_CRYPTO_CRYPTO_INT_H
#define MRD_CRYPTO_CRYPTO_INT_H

#include <sodium.h>

#include "crypto/crypto.h"

struct crypto_key {
    uint8_t pk[crypto_sign_PUBLICKEYBYTES];
    uint8_t sk[crypto_sign_SECRETKEYBYTES]; /* seed || pk, as libsodium keeps it */
    bool has_secret;
};

/* sodium_init() once; MRD_E_CRYPTO if libsodium cannot start. */
enum mrd_code crypto__init(struct mrd_err *err);

/* Decodes padded standard base64 (s, n) into exactly want bytes. Rejects
 * white space, missing padding and non-zero trailing bits, so each byte
 * string has exactly one accepted spelling. */
bool crypto__b64_decode(const char *s, size_t n, uint8_t *out, size_t want);

/* Fixed creation time of Meridian's extension definitions and identity. */
#define CRYPTO__DEFINITION_CREATED "2026-01-01T00:00:00.000Z"

/* Checks a selective-disclosure block strictly; false with r->reason set
 * on any problem (crypto_sd.c). */
bool crypto__sd_block_read(const json_t *block, struct crypto_verify_result *r,
                           uint8_t sig[CRYPTO_SIG_LEN]);

/* Verifies obj's selective-disclosure block; r->verdict ends INVALID,
 * VALID or UNKNOWN_SIGNER, with the counts set. Fails only on NOMEM. */
enum mrd_code crypto__sd_check(const json_t *obj, const json_t *block,
                               const struct crypto_keyring *kr, struct crypto_verify_result *r,
                               struct mrd_err *err);

#endif
