/* The RFC 9497 OPRF, mode 0x00, suite ristretto255-SHA512 (see privacy.h).
 *
 * Every group and scalar operation is libsodium's: ristretto255 encoding
 * and validation, one-way map (crypto_core_ristretto255_from_hash), scalar
 * reduction and inversion, scalar multiplication. This file only arranges
 * the RFC's byte strings around them: the context string, the domain
 * separation tags, expand_message_xmd and the Finalize transcript. */
#include "privacy/privacy.h"

#include <string.h>

#include <sodium.h>

/* contextString = "OPRFV1-" || I2OSP(mode, 1) || "-" || identifier (§3.1) */
#define CONTEXT "OPRFV1-\x00-ristretto255-SHA512"

static const uint8_t dst_hash_to_group[] = "HashToGroup-" CONTEXT;
static const uint8_t dst_hash_to_scalar[] = "HashToScalar-" CONTEXT;
static const uint8_t dst_derive_key_pair[] = "DeriveKeyPair" CONTEXT;

#define SHA512_LEN crypto_hash_sha512_BYTES /* b_in_bytes */
#define SHA512_BLOCK 128                    /* s_in_bytes */

enum mrd_code privacy_expand_message_xmd_sha512(const uint8_t *msg, size_t msg_len,
                                                const uint8_t *dst, size_t dst_len, uint8_t *out,
                                                size_t len, struct mrd_err *err)
{
    static const uint8_t z_pad[SHA512_BLOCK] = {0};
    crypto_hash_sha512_state st;
    uint8_t b0[SHA512_LEN];
    uint8_t bi[SHA512_LEN];
    uint8_t lib[2] = {(uint8_t)(len >> 8), (uint8_t)len};
    uint8_t dlen = (uint8_t)dst_len;
    size_t ell = (len + SHA512_LEN - 1) / SHA512_LEN;

    if (dst_len == 0 || dst_len > 255)
        return mrd_err_set(err, MRD_E_INVAL, "expand_message_xmd: DST of %zu bytes (1 to 255)",
                           dst_len);
    if (len == 0 || len > 65535 || ell > 255)
        return mrd_err_set(err, MRD_E_INVAL, "expand_message_xmd: %zu output bytes (1 to %d)", len,
                           255 * SHA512_LEN);
    /* b_0 = H(Z_pad || msg || l_i_b_str || I2OSP(0, 1) || DST_prime) */
    crypto_hash_sha512_init(&st);
    crypto_hash_sha512_update(&st, z_pad, sizeof(z_pad));
    crypto_hash_sha512_update(&st, msg, msg_len);
    crypto_hash_sha512_update(&st, lib, sizeof(lib));
    crypto_hash_sha512_update(&st, (const uint8_t[]){0}, 1);
    crypto_hash_sha512_update(&st, dst, dst_len);
    crypto_hash_sha512_update(&st, &dlen, 1);
    crypto_hash_sha512_final(&st, b0);
    /* b_i = H(strxor(b_0, b_(i-1)) || I2OSP(i, 1) || DST_prime), b_1 with
     * b_0 alone (strxor with nothing before it is b_0 itself). */
    for (size_t i = 1; i <= ell; i++) {
        uint8_t idx = (uint8_t)i;
        size_t take = len - (i - 1) * SHA512_LEN;

        if (i == 1)
            memcpy(bi, b0, sizeof(bi));
        else
            for (size_t j = 0; j < sizeof(bi); j++)
                bi[j] ^= b0[j];
        crypto_hash_sha512_init(&st);
        crypto_hash_sha512_update(&st, bi, sizeof(bi));
        crypto_hash_sha512_update(&st, &idx, 1);
        crypto_hash_sha512_update(&st, dst, dst_len);
        crypto_hash_sha512_update(&st, &dlen, 1);
        crypto_hash_sha512_final(&st, bi);
        memcpy(out + (i - 1) * SHA512_LEN, bi, take < SHA512_LEN ? take : SHA512_LEN);
    }
    sodium_memzero(b0, sizeof(b0));
    sodium_memzero(bi, sizeof(bi));
    sodium_memzero(&st, sizeof(st));
    return MRD_OK;
}

enum mrd_code privacy_oprf_hash_to_group(const uint8_t *input, size_t input_len,
                                         uint8_t ret_point[PRIVACY_OPRF_ELEMENT_LEN],
                                         struct mrd_err *err)
{
    uint8_t uniform[64];
    enum mrd_code rc;

    rc = privacy_expand_message_xmd_sha512(input, input_len, dst_hash_to_group,
                                           sizeof(dst_hash_to_group) - 1, uniform, sizeof(uniform),
                                           err);
    if (rc == MRD_OK)
        crypto_core_ristretto255_from_hash(ret_point, uniform);
    sodium_memzero(uniform, sizeof(uniform));
    return rc;
}

enum mrd_code privacy_oprf_hash_to_scalar(const uint8_t *msg, size_t msg_len, const uint8_t *dst,
                                          size_t dst_len,
                                          uint8_t ret_scalar[PRIVACY_OPRF_SCALAR_LEN],
                                          struct mrd_err *err)
{
    uint8_t uniform[64];
    enum mrd_code rc;

    if (dst == NULL) {
        dst = dst_hash_to_scalar;
        dst_len = sizeof(dst_hash_to_scalar) - 1;
    }

    rc = privacy_expand_message_xmd_sha512(msg, msg_len, dst, dst_len, uniform, sizeof(uniform),
                                           err);
    if (rc == MRD_OK)
        crypto_core_ristretto255_scalar_reduce(ret_scalar, uniform);
    sodium_memzero(uniform, sizeof(uniform));
    return rc;
}

/* A scalar is usable as a key or blind when it is canonical (< L) and not
 * zero. libsodium has no canonical-scalar check of its own for ristretto,
 * so reduce a zero-extended copy and compare. */
static int scalar_ok(const uint8_t s[PRIVACY_OPRF_SCALAR_LEN])
{
    uint8_t wide[64] = {0};
    uint8_t red[PRIVACY_OPRF_SCALAR_LEN];
    int ok;

    memcpy(wide, s, PRIVACY_OPRF_SCALAR_LEN);
    crypto_core_ristretto255_scalar_reduce(red, wide);
    ok = sodium_memcmp(red, s, PRIVACY_OPRF_SCALAR_LEN) == 0 &&
         !sodium_is_zero(s, PRIVACY_OPRF_SCALAR_LEN);
    sodium_memzero(wide, sizeof(wide));
    sodium_memzero(red, sizeof(red));
    return ok;
}

/* DeserializeElement (§4.1) needs no separate step: with a canonical
 * non-zero scalar, crypto_scalarmult_ristretto255 fails exactly when the
 * point is not a canonical ristretto255 encoding or is the identity (the
 * group has prime order), which are the elements the RFC refuses from the
 * peer. Decoding once instead of twice keeps the cost at the bare
 * multiplication's (bench/private/). */
#define BAD_ELEMENT "element is not a valid non-identity ristretto255 encoding (RFC 9497 §4.1)"

enum mrd_code privacy_oprf_derive_key_pair(const uint8_t seed[PRIVACY_OPRF_SEED_LEN],
                                           const uint8_t *info, size_t info_len,
                                           uint8_t ret_sk[PRIVACY_OPRF_SCALAR_LEN],
                                           uint8_t ret_pk[PRIVACY_OPRF_ELEMENT_LEN],
                                           struct mrd_err *err)
{
    /* deriveInput = seed || I2OSP(len(info), 2) || info, then a counter */
    uint8_t input[PRIVACY_OPRF_SEED_LEN + 2 + PRIVACY_OPRF_MAX_INFO + 1];
    uint8_t sk[PRIVACY_OPRF_SCALAR_LEN] = {0};
    size_t n = 0;
    enum mrd_code rc = MRD_OK;

    if (info_len > PRIVACY_OPRF_MAX_INFO)
        return mrd_err_set(err, MRD_E_TOOBIG, "oprf: key info of %zu bytes, at most %d", info_len,
                           PRIVACY_OPRF_MAX_INFO);
    memcpy(input, seed, PRIVACY_OPRF_SEED_LEN);
    n = PRIVACY_OPRF_SEED_LEN;
    input[n++] = (uint8_t)(info_len >> 8);
    input[n++] = (uint8_t)info_len;
    if (info_len > 0)
        memcpy(input + n, info, info_len);
    n += info_len;
    for (unsigned counter = 0; sodium_is_zero(sk, sizeof(sk)); counter++) {
        if (counter > 255) {
            rc = mrd_err_set(err, MRD_E_CRYPTO, "oprf: DeriveKeyPair found no key (§3.2.1)");
            goto out;
        }
        input[n] = (uint8_t)counter;
        rc = privacy_oprf_hash_to_scalar(input, n + 1, dst_derive_key_pair,
                                         sizeof(dst_derive_key_pair) - 1, sk, err);
        if (rc != MRD_OK)
            goto out;
    }
    crypto_scalarmult_ristretto255_base(ret_pk, sk);
    memcpy(ret_sk, sk, sizeof(sk));
out:
    sodium_memzero(input, n + 1);
    sodium_memzero(sk, sizeof(sk));
    return rc;
}

/* scalar * HashToGroup(input), the shared core of Blind and Evaluate, with
 * their checks: the input length (it is length-prefixed with two bytes),
 * the scalar (what names it: "blind" or "key"), and the identity.
 * crypto_scalarmult_ristretto255 fails exactly when the product is the
 * identity, which for a valid scalar means the input hashed to it
 * (InvalidInputError, §3.3.1). */
static enum mrd_code mult_hashed(const uint8_t *input, size_t input_len,
                                 const uint8_t scalar[PRIVACY_OPRF_SCALAR_LEN], const char *what,
                                 uint8_t ret_point[PRIVACY_OPRF_ELEMENT_LEN], struct mrd_err *err)
{
    uint8_t point[PRIVACY_OPRF_ELEMENT_LEN];
    enum mrd_code rc;

    if (input_len > PRIVACY_OPRF_MAX_INPUT)
        return mrd_err_set(err, MRD_E_TOOBIG, "oprf: input of %zu bytes, at most %d", input_len,
                           PRIVACY_OPRF_MAX_INPUT);
    if (!scalar_ok(scalar))
        return mrd_err_set(err, MRD_E_INVAL, "oprf: %s is zero or not a canonical scalar", what);
    rc = privacy_oprf_hash_to_group(input, input_len, point, err);
    if (rc == MRD_OK && crypto_scalarmult_ristretto255(ret_point, scalar, point) != 0)
        rc = mrd_err_set(err, MRD_E_CRYPTO, "oprf: input maps to the identity element");
    sodium_memzero(point, sizeof(point));
    return rc;
}

enum mrd_code privacy_oprf_blind(const uint8_t *input, size_t input_len,
                                 const uint8_t blind[PRIVACY_OPRF_SCALAR_LEN],
                                 uint8_t ret_blinded[PRIVACY_OPRF_ELEMENT_LEN], struct mrd_err *err)
{
    uint8_t out[PRIVACY_OPRF_ELEMENT_LEN];
    enum mrd_code rc;

    rc = mult_hashed(input, input_len, blind, "blind", out, err);
    if (rc == MRD_OK)
        memcpy(ret_blinded, out, sizeof(out));
    return rc;
}

enum mrd_code privacy_oprf_blind_random(const uint8_t *input, size_t input_len,
                                        uint8_t ret_blind[PRIVACY_OPRF_SCALAR_LEN],
                                        uint8_t ret_blinded[PRIVACY_OPRF_ELEMENT_LEN],
                                        struct mrd_err *err)
{
    uint8_t blind[PRIVACY_OPRF_SCALAR_LEN];
    enum mrd_code rc;

    do
        crypto_core_ristretto255_scalar_random(blind); /* uniform in [0, L) */
    while (sodium_is_zero(blind, sizeof(blind)));
    rc = privacy_oprf_blind(input, input_len, blind, ret_blinded, err);
    if (rc == MRD_OK)
        memcpy(ret_blind, blind, sizeof(blind));
    sodium_memzero(blind, sizeof(blind));
    return rc;
}

enum mrd_code privacy_oprf_blind_evaluate(const uint8_t sk[PRIVACY_OPRF_SCALAR_LEN],
                                          const uint8_t blinded[PRIVACY_OPRF_ELEMENT_LEN],
                                          uint8_t ret_evaluated[PRIVACY_OPRF_ELEMENT_LEN],
                                          struct mrd_err *err)
{
    if (!scalar_ok(sk))
        return mrd_err_set(err, MRD_E_INVAL, "oprf: key is zero or not a canonical scalar");
    if (crypto_scalarmult_ristretto255(ret_evaluated, sk, blinded) != 0)
        return mrd_err_set(err, MRD_E_INVALID, "oprf: blinded " BAD_ELEMENT);
    return MRD_OK;
}

/* Hash(I2OSP(len(input), 2) || input || I2OSP(Ne, 2) || unblinded ||
 * "Finalize") (§3.3.1) */
static void finalize_hash(const uint8_t *input, size_t input_len,
                          const uint8_t unblinded[PRIVACY_OPRF_ELEMENT_LEN],
                          uint8_t ret_output[PRIVACY_OPRF_OUTPUT_LEN])
{
    crypto_hash_sha512_state st;
    uint8_t ilen[2] = {(uint8_t)(input_len >> 8), (uint8_t)input_len};
    uint8_t elen[2] = {0, PRIVACY_OPRF_ELEMENT_LEN};

    crypto_hash_sha512_init(&st);
    crypto_hash_sha512_update(&st, ilen, sizeof(ilen));
    crypto_hash_sha512_update(&st, input, input_len);
    crypto_hash_sha512_update(&st, elen, sizeof(elen));
    crypto_hash_sha512_update(&st, unblinded, PRIVACY_OPRF_ELEMENT_LEN);
    crypto_hash_sha512_update(&st, (const uint8_t *)"Finalize", 8);
    crypto_hash_sha512_final(&st, ret_output);
    sodium_memzero(&st, sizeof(st));
}

/* Finalizes up to FINALIZE_CHUNK values with one scalar inversion
 * (Montgomery's trick): prefix products of the blinds, one inversion of
 * the last, then each blind's inverse falls out walking back. The
 * inversion costs about as much as a scalar multiplication, so sharing it
 * is what keeps a partner's per-value cost near the bare curve work. */
#define FINALIZE_CHUNK 64

static enum mrd_code finalize_chunk(size_t base, size_t m, const uint8_t *const *inputs,
                                    const size_t *input_lens, const uint8_t *blinds,
                                    const uint8_t *evaluated, uint8_t *ret_outputs,
                                    struct mrd_err *err)
{
    uint8_t prefix[FINALIZE_CHUNK][PRIVACY_OPRF_SCALAR_LEN];
    uint8_t inv[PRIVACY_OPRF_SCALAR_LEN];
    uint8_t bi_inv[PRIVACY_OPRF_SCALAR_LEN];
    uint8_t unblinded[PRIVACY_OPRF_ELEMENT_LEN];
    enum mrd_code rc = MRD_OK;

    for (size_t i = 0; i < m; i++) {
        if (input_lens[i] > PRIVACY_OPRF_MAX_INPUT) {
            rc = mrd_err_set(err, MRD_E_TOOBIG, "oprf: value %zu: input of %zu bytes, at most %d",
                             base + i, input_lens[i], PRIVACY_OPRF_MAX_INPUT);
            goto out;
        }
        if (!scalar_ok(blinds + i * PRIVACY_OPRF_SCALAR_LEN)) {
            rc = mrd_err_set(err, MRD_E_INVAL,
                             "oprf: value %zu: blind is zero or not a canonical scalar", base + i);
            goto out;
        }
        if (i == 0)
            memcpy(prefix[0], blinds, PRIVACY_OPRF_SCALAR_LEN);
        else
            crypto_core_ristretto255_scalar_mul(prefix[i], prefix[i - 1],
                                                blinds + i * PRIVACY_OPRF_SCALAR_LEN);
    }
    /* non-zero blinds in a prime-order field: the product is invertible */
    (void)crypto_core_ristretto255_scalar_invert(inv, prefix[m - 1]);
    for (size_t k = m; k-- > 0;) {
        if (k > 0) {
            crypto_core_ristretto255_scalar_mul(bi_inv, inv, prefix[k - 1]);
            crypto_core_ristretto255_scalar_mul(inv, inv, blinds + k * PRIVACY_OPRF_SCALAR_LEN);
        } else {
            memcpy(bi_inv, inv, sizeof(bi_inv));
        }
        if (crypto_scalarmult_ristretto255(unblinded, bi_inv,
                                           evaluated + k * PRIVACY_OPRF_ELEMENT_LEN) != 0) {
            rc = mrd_err_set(err, MRD_E_INVALID, "oprf: value %zu: evaluated " BAD_ELEMENT,
                             base + k);
            goto out;
        }
        finalize_hash(inputs[k], input_lens[k], unblinded,
                      ret_outputs + k * PRIVACY_OPRF_OUTPUT_LEN);
    }
out:
    sodium_memzero(prefix, sizeof(prefix));
    sodium_memzero(inv, sizeof(inv));
    sodium_memzero(bi_inv, sizeof(bi_inv));
    sodium_memzero(unblinded, sizeof(unblinded));
    return rc;
}

enum mrd_code privacy_oprf_finalize_batch(size_t n, const uint8_t *const *inputs,
                                          const size_t *input_lens, const uint8_t *blinds,
                                          const uint8_t *evaluated, uint8_t *ret_outputs,
                                          struct mrd_err *err)
{
    for (size_t base = 0; base < n; base += FINALIZE_CHUNK) {
        size_t m = n - base < FINALIZE_CHUNK ? n - base : FINALIZE_CHUNK;
        enum mrd_code rc = finalize_chunk(base, m, inputs + base, input_lens + base,
                                          blinds + base * PRIVACY_OPRF_SCALAR_LEN,
                                          evaluated + base * PRIVACY_OPRF_ELEMENT_LEN,
                                          ret_outputs + base * PRIVACY_OPRF_OUTPUT_LEN, err);

        if (rc != MRD_OK)
            return rc;
    }
    return MRD_OK;
}

enum mrd_code privacy_oprf_finalize(const uint8_t *input, size_t input_len,
                                    const uint8_t blind[PRIVACY_OPRF_SCALAR_LEN],
                                    const uint8_t evaluated[PRIVACY_OPRF_ELEMENT_LEN],
                                    uint8_t ret_output[PRIVACY_OPRF_OUTPUT_LEN],
                                    struct mrd_err *err)
{
    return finalize_chunk(0, 1, &input, &input_len, blind, evaluated, ret_output, err);
}

enum mrd_code privacy_oprf_evaluate(const uint8_t sk[PRIVACY_OPRF_SCALAR_LEN], const uint8_t *input,
                                    size_t input_len, uint8_t ret_output[PRIVACY_OPRF_OUTPUT_LEN],
                                    struct mrd_err *err)
{
    uint8_t issued[PRIVACY_OPRF_ELEMENT_LEN];
    enum mrd_code rc;

    rc = mult_hashed(input, input_len, sk, "key", issued, err);
    if (rc == MRD_OK)
        finalize_hash(input, input_len, issued, ret_output);
    sodium_memzero(issued, sizeof(issued));
    return rc;
}
