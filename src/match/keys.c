/*
 * keys: exact, byte-comparable keys of values, for private matching
 * (privacy/ OPRF over them, docs/privacy.md), and opaque keys in the index.
 *
 * A key is one type byte then the value normalised exactly as the index
 * normalises it: IPv4 as 4 bytes, IPv6 as 16 (an IPv4-mapped address also
 * gives the IPv4 key), domain names, e-mail addresses and hex hashes in
 * lower case (the index compares them case-insensitively), URLs through
 * match_url_normalize. Two values meet in match_index_lookup exactly when
 * they share a key, except for what has no single key: CIDR ranges and
 * subdomain suffixes.
 */
#include <string.h>

#include "match/match_int.h"

#define TAG_V4 '4'
#define TAG_V6 '6'
#define TAG_DOMAIN 'd'
#define TAG_URL 'u'
#define TAG_EMAIL 'e'
#define TAG_HASH 'h'

static size_t lower_key(char tag, const char *v, size_t n, char *out)
{
    out[0] = tag;
    for (size_t i = 0; i < n; i++)
        out[1 + i] = (char)match__lower((unsigned char)v[i]);
    return n + 1;
}

static size_t v4_key(uint32_t a, char *out)
{
    out[0] = TAG_V4;
    out[1] = (char)(a >> 24);
    out[2] = (char)(a >> 16);
    out[3] = (char)(a >> 8);
    out[4] = (char)a;
    return 5;
}

static bool is_hex_hash(const char *v, size_t n)
{
    if (n != 32 && n != 40 && n != 64 && n != 128)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = match__lower((unsigned char)v[i]);
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return false;
    }
    return true;
}

static bool domain_ok(const char *v, size_t n)
{
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)v[i];
        if (c <= ' ' || c == '/' || c == ':' || c == '@' || c == 0x7f)
            return false;
    }
    return true;
}

enum mrd_code match_value_key(enum match_type type, const char *v, size_t n,
                              char out[MATCH_KEY_MAX], size_t *ret_len, struct mrd_err *err)
{
    int w = (int)(n > 64 ? 64 : n);
    uint32_t a4;
    uint8_t a6[16];

    if (n == 0 || n > MATCH_MAX_VALUE)
        return mrd_err_set(err, MRD_E_INVAL, "match: value of %zu bytes out of range", n);
    switch (type) {
    case MATCH_T_IPV4:
        if (memchr(v, '/', n) != NULL)
            break; /* a range has no exact key */
        if (!match_ipv4_parse(v, n, &a4))
            return mrd_err_set(err, MRD_E_INVAL, "match: '%.*s' is not an IPv4 address", w, v);
        *ret_len = v4_key(a4, out);
        return MRD_OK;
    case MATCH_T_IPV6:
        if (memchr(v, '/', n) != NULL)
            break;
        if (!match_ipv6_parse(v, n, a6))
            return mrd_err_set(err, MRD_E_INVAL, "match: '%.*s' is not an IPv6 address", w, v);
        out[0] = TAG_V6;
        memcpy(out + 1, a6, 16);
        *ret_len = 17;
        return MRD_OK;
    case MATCH_T_DOMAIN:
        n = match__host_trim(v, n);
        if (!domain_ok(v, n))
            return mrd_err_set(err, MRD_E_INVAL, "match: '%.*s' is not a domain name", w, v);
        *ret_len = lower_key(TAG_DOMAIN, v, n, out);
        return MRD_OK;
    case MATCH_T_URL:
        *ret_len = match_url_normalize(v, n, out + 1, MATCH_KEY_MAX - 1, NULL, NULL);
        if (*ret_len == 0)
            return mrd_err_set(err, MRD_E_INVAL, "match: '%.*s' is not an absolute URL", w, v);
        out[0] = TAG_URL;
        (*ret_len)++;
        return MRD_OK;
    case MATCH_T_EMAIL:
        if (memchr(v, '@', n) == NULL)
            return mrd_err_set(err, MRD_E_INVAL, "match: '%.*s' is not an e-mail address", w, v);
        *ret_len = lower_key(TAG_EMAIL, v, n, out);
        return MRD_OK;
    case MATCH_T_MD5:
    case MATCH_T_SHA1:
    case MATCH_T_SHA256:
    case MATCH_T_SHA512:
        if (!is_hex_hash(v, n))
            return mrd_err_set(err, MRD_E_INVAL, "match: '%.*s' is not a hex hash", w, v);
        *ret_len = lower_key(TAG_HASH, v, n, out);
        return MRD_OK;
    default:
        break;
    }
    return mrd_err_set(err, MRD_E_UNSUPP, "match: '%.*s' has no exact key (a range or an id)", w,
                       v);
}

/* An address (either family); false when v is none. */
static bool ip_keys(const char *v, size_t n, match_key_fn cb, void *ctx)
{
    static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    char k[17];
    uint32_t a4;
    uint8_t a6[16];

    if (match_ipv4_parse(v, n, &a4)) {
        cb(ctx, k, v4_key(a4, k));
        return true;
    }
    if (memchr(v, ':', n) == NULL || !match_ipv6_parse(v, n, a6))
        return false;
    if (memcmp(a6, mapped, 12) == 0)
        cb(ctx, k,
           v4_key((uint32_t)a6[12] << 24 | (uint32_t)a6[13] << 16 | (uint32_t)a6[14] << 8 | a6[15],
                  k));
    k[0] = TAG_V6;
    memcpy(k + 1, a6, 16);
    cb(ctx, k, 17);
    return true;
}

/* As lookup_host in index.c: [v6]:port, an address, host:port, a name. */
static void host_keys(const char *v, size_t n, match_key_fn cb, void *ctx)
{
    char k[MATCH_KEY_MAX];
    const char *colon;

    if (n == 0)
        return;
    if (v[0] == '[') {
        const char *e = memchr(v, ']', n);
        if (e != NULL)
            (void)ip_keys(v + 1, (size_t)(e - v - 1), cb, ctx);
        return;
    }
    if (ip_keys(v, n, cb, ctx))
        return;
    colon = memchr(v, ':', n);
    if (colon != NULL) {
        if (memchr(colon + 1, ':', (size_t)(v + n - colon - 1)) != NULL)
            return;
        n = (size_t)(colon - v);
        if (ip_keys(v, n, cb, ctx))
            return;
    }
    n = match__host_trim(v, n);
    if (domain_ok(v, n))
        cb(ctx, k, lower_key(TAG_DOMAIN, v, n, k));
}

void match_obs_keys(enum match_obs obs, const char *v, size_t n, match_key_fn cb, void *ctx)
{
    char k[MATCH_KEY_MAX];

    if (n == 0 || n > MATCH_MAX_VALUE)
        return;
    switch (obs) {
    case MATCH_O_IP:
        (void)ip_keys(v, n, cb, ctx);
        return;
    case MATCH_O_HOST:
        host_keys(v, n, cb, ctx);
        return;
    case MATCH_O_HOSTLIST:
        for (size_t i = 0; i < n;) {
            const char *c = memchr(v + i, ',', n - i);
            size_t j = c != NULL ? (size_t)(c - v) : n;
            host_keys(v + i, j - i, cb, ctx);
            i = j + 1;
        }
        return;
    case MATCH_O_URL: {
        const char *host = NULL;
        size_t hl = 0, len = match_url_normalize(v, n, k + 1, sizeof(k) - 1, &host, &hl);
        if (len == 0)
            return;
        k[0] = TAG_URL;
        cb(ctx, k, len + 1);
        host_keys(host, hl, cb, ctx);
        return;
    }
    case MATCH_O_EMAIL:
        if (memchr(v, '@', n) != NULL)
            cb(ctx, k, lower_key(TAG_EMAIL, v, n, k));
        return;
    case MATCH_O_HASH:
        if (is_hex_hash(v, n))
            cb(ctx, k, lower_key(TAG_HASH, v, n, k));
        return;
    default:
        return;
    }
}
