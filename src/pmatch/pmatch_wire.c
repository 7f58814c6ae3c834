/*
 * The evaluate request of private matching, checked and answered: pure
 * (no I/O), so that tests/fuzz/fuzz_pmatch.c can run it on any bytes.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "pmatch/pmatch.h"
#include "pmatch/pmatch_int.h"
#include "privacy/privacy.h"

enum mrd_code pmatch_batch_parse(const uint8_t *body, size_t len, size_t *ret_n,
                                 struct mrd_err *err)
{
    (void)body;
    if (len == 0)
        return mrd_err_set(err, MRD_E_INVAL, "private: empty batch: send 1 to %d elements",
                           PMATCH_BATCH_MAX);
    if (len % PMATCH_ELEMENT_LEN != 0)
        return mrd_err_set(err, MRD_E_INVAL,
                           "private: batch of %zu bytes is not a whole number of %d-byte elements",
                           len, PMATCH_ELEMENT_LEN);
    if (len / PMATCH_ELEMENT_LEN > PMATCH_BATCH_MAX)
        return mrd_err_set(err, MRD_E_TOOBIG,
                           "private: batch of %zu elements, at most %d (PMATCH_BATCH_MAX)",
                           len / PMATCH_ELEMENT_LEN, PMATCH_BATCH_MAX);
    *ret_n = len / PMATCH_ELEMENT_LEN;
    return MRD_OK;
}

enum mrd_code pmatch_batch_evaluate(const uint8_t sk[32], const uint8_t *in, size_t n, uint8_t *out,
                                    struct mrd_err *err)
{
    for (size_t i = 0; i < n; i++) {
        struct mrd_err e = {0};

        if (privacy_oprf_blind_evaluate(sk, in + i * PMATCH_ELEMENT_LEN,
                                        out + i * PMATCH_ELEMENT_LEN, &e) != MRD_OK)
            return mrd_err_set(err, MRD_E_INVALID, "private: element %zu: %s", i, e.msg);
    }
    return MRD_OK;
}

enum mrd_code pmatch_offer_key(const uint8_t seed[32], const char *name, uint8_t ret_sk[32],
                               struct mrd_err *err)
{
    char info[PMATCH_NAME_MAX + 32];
    uint8_t pk[PRIVACY_OPRF_ELEMENT_LEN];
    int n = snprintf(info, sizeof(info), "meridian private offer %s", name);
    enum mrd_code rc;

    if (n < 0 || (size_t)n >= sizeof(info))
        return mrd_err_set(err, MRD_E_INVAL, "private: offer name too long");
    rc = privacy_oprf_derive_key_pair(seed, (const uint8_t *)info, (size_t)n, ret_sk, pk, err);
    sodium_memzero(pk, sizeof(pk));
    return rc;
}

void pmatch__say(void (*log)(void *ctx, const char *line), void *ctx, const char *fmt, ...)
{
    char line[512];
    va_list ap;

    if (log == NULL)
        return;
    va_start(ap, fmt);
    (void)vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    log(ctx, line);
}
