/*
 * fuzz_pmatch: the request body of private matching's evaluate endpoint
 * (pmatch_batch_parse, pmatch_batch_evaluate) and the exact keys of
 * observed values (match_obs_keys, match_value_key) on hostile input.
 *
 * The first byte picks the target: 0 an evaluate body; 1..8 an observed
 * value of that match_obs kind; 9.. an indicator value of match_type
 * (byte - 8). Beyond "no crash, no sanitizer report" it checks: a batch
 * that parses has a whole number of elements within PMATCH_BATCH_MAX, and
 * each element a successful evaluation returns is a valid point; every
 * key starts with a known type byte and fits MATCH_KEY_MAX; an indicator
 * value's key is one of the keys the same text gives when observed (but
 * for domain names, which a host field may read as an address).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "match/match.h"
#include "pmatch/pmatch.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t sk[32] = {7,  1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, 15,
                               16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 1};

struct seen {
    const char *want;
    size_t want_len;
    bool found;
};

static void on_key(void *ctx, const char *key, size_t n)
{
    struct seen *s = ctx;

    if (n < 2 || n > MATCH_KEY_MAX || strchr("46duehi", key[0]) == NULL)
        abort();
    if (s->want != NULL && n == s->want_len && memcmp(key, s->want, n) == 0)
        s->found = true;
}

static void batch(const uint8_t *d, size_t n)
{
    size_t count = 0;
    uint8_t *out;

    if (pmatch_batch_parse(d, n, &count, NULL) != MRD_OK)
        return;
    if (count == 0 || count > PMATCH_BATCH_MAX || count * PMATCH_ELEMENT_LEN != n)
        abort();
    out = malloc(n);
    if (out == NULL)
        return;
    if (pmatch_batch_evaluate(sk, d, count, out, NULL) == MRD_OK)
        for (size_t i = 0; i < count; i++)
            if (!crypto_core_ristretto255_is_valid_point(out + i * PMATCH_ELEMENT_LEN))
                abort();
    free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const enum match_obs as_obs[] = {
        [MATCH_T_IPV4] = MATCH_O_IP,     [MATCH_T_IPV6] = MATCH_O_IP,
        [MATCH_T_DOMAIN] = MATCH_O_HOST, [MATCH_T_URL] = MATCH_O_URL,
        [MATCH_T_EMAIL] = MATCH_O_EMAIL, [MATCH_T_MD5] = MATCH_O_HASH,
        [MATCH_T_SHA1] = MATCH_O_HASH,   [MATCH_T_SHA256] = MATCH_O_HASH,
        [MATCH_T_SHA512] = MATCH_O_HASH, [MATCH_T_ID] = MATCH_O_NONE};
    struct seen s = {0};
    char key[MATCH_KEY_MAX];
    size_t len = 0;

    if (size < 1)
        return 0;
    if (sodium_init() < 0)
        abort();
    if (data[0] == 0) {
        batch(data + 1, size - 1);
        return 0;
    }
    if (data[0] <= 8) {
        match_obs_keys((enum match_obs)data[0], (const char *)data + 1, size - 1, on_key, &s);
        return 0;
    }
    if (data[0] - 8 >= MATCH_T_COUNT)
        return 0;
    if (match_value_key((enum match_type)(data[0] - 8), (const char *)data + 1, size - 1, key, &len,
                        NULL) != MRD_OK)
        return 0;
    if (len < 2 || len > MATCH_KEY_MAX)
        abort();
    s.want = key;
    s.want_len = len;
    match_obs_keys(as_obs[data[0] - 8], (const char *)data + 1, size - 1, on_key, &s);
    /* The same text seen in a log must give the indicator's key (a domain
     * name may read as an address or host:port when seen as a host). */
    if (!s.found && data[0] - 8 != MATCH_T_DOMAIN)
        abort();
    return 0;
}
