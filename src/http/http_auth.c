/*
 * Authorization header parsing (RFC 7235, RFC 6750, RFC 7617) and the
 * per-key token-bucket rate limiter.
 */
#include "http/http.h"

#include <pthread.h>
#include <sodium.h>
#include <string.h>

#include "core/alloc.h"
#include "core/str.h"
#include "core/timestamp.h"

#define HTTP_MAX_BASIC_B64 1024 /* base64 of user:password */

static size_t skip_spaces(const char *s, size_t n, size_t i)
{
    while (i < n && (s[i] == ' ' || s[i] == '\t'))
        i++;
    return i;
}

/* The token68 characters of RFC 7235 §2.1 (plus nothing else). */
static bool is_token68(const char *s, size_t n)
{
    size_t i = 0;

    if (n == 0)
        return false;
    for (; i < n; i++) {
        char c = s[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/'))
            break;
    }
    while (i < n && s[i] == '=')
        i++;
    return i == n;
}

enum mrd_code http_auth_secret(const char *hdr, size_t n, char out[HTTP_MAX_SECRET + 1],
                               size_t *ret_len, struct mrd_err *err)
{
    size_t i = 0, sp, vlen;
    const char *v;

    while (i < n && hdr[i] != ' ')
        i++;
    sp = i;
    i = skip_spaces(hdr, n, i);
    v = hdr + i;
    vlen = n - i;
    while (vlen > 0 && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
        vlen--;
    if (vlen == 0)
        return mrd_err_set(err, MRD_E_AUTH, "authorization: missing credentials");
    if (mrd_str_eq_nocase(hdr, sp, "Bearer", 6)) {
        if (!is_token68(v, vlen) || vlen > HTTP_MAX_SECRET)
            return mrd_err_set(err, MRD_E_AUTH, "authorization: malformed bearer token");
        memcpy(out, v, vlen);
        out[vlen] = '\0';
        *ret_len = vlen;
        return MRD_OK;
    }
    if (mrd_str_eq_nocase(hdr, sp, "Basic", 5)) {
        unsigned char dec[HTTP_MAX_BASIC_B64];
        size_t dlen = 0;
        const unsigned char *colon;

        if (vlen > HTTP_MAX_BASIC_B64 || !is_token68(v, vlen) ||
            sodium_base642bin(dec, sizeof(dec), v, vlen, NULL, &dlen, NULL,
                              sodium_base64_VARIANT_ORIGINAL) != 0)
            return mrd_err_set(err, MRD_E_AUTH, "authorization: malformed basic credentials");
        /* RFC 7617 §2: neither part holds a control character; a NUL
         * would let "user\0junk:token" or "token\0junk" read as something
         * else to the next parser. */
        for (size_t k = 0; k < dlen; k++) {
            if (dec[k] < 0x20 || dec[k] == 0x7f) {
                sodium_memzero(dec, sizeof(dec));
                return mrd_err_set(err, MRD_E_AUTH,
                                   "authorization: control character in basic credentials");
            }
        }
        /* RFC 7617 splits at the first colon, but clients put colons in
         * user names anyway; tokens never contain one, so the last colon
         * is the safe split. */
        colon = memrchr(dec, ':', dlen);
        size_t plen = colon != NULL ? dlen - (size_t)(colon + 1 - dec) : 0;
        if (colon == NULL || plen == 0 || plen > HTTP_MAX_SECRET) {
            sodium_memzero(dec, sizeof(dec));
            return mrd_err_set(err, MRD_E_AUTH,
                               colon == NULL ? "authorization: basic credentials without ':'"
                                             : "authorization: bad basic password length");
        }
        memcpy(out, colon + 1, plen);
        out[plen] = '\0';
        sodium_memzero(dec, sizeof(dec));
        *ret_len = plen;
        return MRD_OK;
    }
    return mrd_err_set(err, MRD_E_AUTH, "authorization: unsupported scheme");
}

/* ---- rate limiter --------------------------------------------------------
 * An open-addressed table keyed by a BLAKE2b hash of the key, so neither
 * the secret nor its length stays in memory. Buckets hold "tokens" scaled
 * by 1e6 to stay in integers. */

struct bucket {
    uint8_t key[16];
    bool used;
    int64_t tokens; /* micro-requests */
    int64_t last;   /* usec */
};

struct http_ratelimit {
    unsigned rate;
    pthread_mutex_t mu;
    struct bucket b[HTTP_RATE_MAX_KEYS];
};

enum mrd_code http_ratelimit_new(unsigned rate, struct http_ratelimit **ret, struct mrd_err *err)
{
    struct http_ratelimit *rl = mrd_calloc(1, sizeof(*rl));

    if (rl == NULL)
        return mrd_err_set(err, MRD_E_NOMEM, "out of memory");
    rl->rate = rate;
    pthread_mutex_init(&rl->mu, NULL);
    *ret = rl;
    return MRD_OK;
}

void http_ratelimit_free(struct http_ratelimit *rl)
{
    if (rl == NULL)
        return;
    pthread_mutex_destroy(&rl->mu);
    mrd_free(rl);
}

bool http_ratelimit_take(struct http_ratelimit *rl, const char *key, size_t n)
{
    uint8_t h[16];
    size_t idx, victim;
    int64_t now, cap;
    struct bucket *b = NULL;
    bool ok;

    if (rl == NULL || rl->rate == 0)
        return true;
    crypto_generichash(h, sizeof(h), (const unsigned char *)key, n, NULL, 0);
    memcpy(&idx, h, sizeof(idx));
    idx %= HTTP_RATE_MAX_KEYS;
    now = mrd_time_now_usec();
    cap = (int64_t)rl->rate * 1000000;
    pthread_mutex_lock(&rl->mu);
    /* Linear probing over a short window; when the window is full, the
     * stalest bucket in it is recycled. */
    victim = idx;
    for (size_t i = 0; i < 16; i++) {
        struct bucket *c = &rl->b[(idx + i) % HTTP_RATE_MAX_KEYS];
        if (c->used && memcmp(c->key, h, sizeof(h)) == 0) {
            b = c;
            break;
        }
        if (!c->used) {
            victim = (idx + i) % HTTP_RATE_MAX_KEYS;
            break;
        }
        if (c->last < rl->b[victim].last)
            victim = (idx + i) % HTTP_RATE_MAX_KEYS;
    }
    if (b == NULL) {
        b = &rl->b[victim];
        memcpy(b->key, h, sizeof(h));
        b->used = true;
        b->tokens = cap;
        b->last = now;
    }
    if (now > b->last) {
        int64_t add = (now - b->last) * (int64_t)rl->rate; /* usec * req/s = micro-requests */
        b->tokens = b->tokens + add > cap ? cap : b->tokens + add;
        b->last = now;
    }
    ok = b->tokens >= 1000000;
    if (ok)
        b->tokens -= 1000000;
    pthread_mutex_unlock(&rl->mu);
    return ok;
}
