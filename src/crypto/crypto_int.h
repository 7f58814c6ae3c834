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

#endif
