/*
 * store_values.c: the pure half of the value index (store.h, "search by
 * value"): which searchable values an object mentions, and how a value a
 * person typed is normalised into the same keys. No I/O, no database: the
 * insert path (store_sqlite_values.c) and the fuzzer call it alike.
 *
 * Normalisation is match/'s (docs/match.md), so a search finds exactly
 * what the matcher would: addresses parsed (a CIDR is an address with a
 * prefix length), hosts lower-cased without a trailing dot, URLs through
 * match_url_normalize(), hashes as bytes. Indicator patterns go through
 * match_pattern_pairs(), the extractor the matcher's index uses: the
 * equality / IN / ISSUBSET shapes joined by OR. Patterns it cannot express
 * (AND, LIKE, qualifiers) are not indexed; their SCO values are, when the
 * SCOs are stored.
 *
 * Key layout (what makes containment a range scan):
 *   IPv4: 4 address bytes (network order) + 1 prefix length;
 *   IPv6: 16 address bytes + 1 prefix length;
 *   domain: the labels reversed ("a.evil.com" -> "com.evil.a"), so a
 *           domain's subdomains are the keys starting with "com.evil.";
 *   URL, e-mail: the normalised text; hash: the raw bytes.
 */
#include <string.h>

#include "core/buf.h"
#include "core/json.h"
#include "core/str.h"
#include "match/match.h"
#include "store/store.h"
#include "store/store_int.h"

#define PATTERN_SCRATCH MATCH_MAX_PATTERN

static bool host_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
}

/* Lower-cases a host name into a reversed-label key. False when it is not
 * a plausible host (empty label, odd characters, too long). */
static bool domain_key(const char *s, size_t n, struct store_value *v)
{
    char low[STORE_VALUE_KEY_MAX];
    size_t o = 0, end;

    while (n > 0 && s[n - 1] == '.')
        n--;
    if (n == 0 || n >= sizeof(low))
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 'A' && c <= 'Z')
            c = (unsigned char)(c | 0x20);
        if (!host_char(c))
            return false;
        low[i] = (char)c;
    }
    low[n] = '\0';
    if (low[0] == '.' || strstr(low, "..") != NULL)
        return false;
    /* an all-numeric top-level label is an address, never a host name
     * (RFC 3696 §2) */
    for (end = n; end > 0 && low[end - 1] != '.'; end--)
        ;
    if (strspn(low + end, "0123456789") == n - end)
        return false;
    /* reverse the labels */
    end = n;
    while (end > 0) {
        size_t start = end;
        while (start > 0 && low[start - 1] != '.')
            start--;
        if (o > 0)
            v->key[o++] = '.';
        memcpy(v->key + o, low + start, end - start);
        o += end - start;
        end = start > 0 ? start - 1 : 0;
    }
    v->kind = STORE_V_DOMAIN;
    v->len = (uint16_t)o;
    return true;
}

static int hex_val(int c)
{
    return mrd_hex_digit(c);
}

static bool hash_key(const char *s, size_t n, struct store_value *v)
{
    if (n != 32 && n != 40 && n != 64 && n != 128)
        return false;
    for (size_t i = 0; i < n; i += 2) {
        int hi = hex_val((unsigned char)s[i]), lo = hex_val((unsigned char)s[i + 1]);
        if (hi < 0 || lo < 0)
            return false;
        v->key[i / 2] = (uint8_t)(hi << 4 | lo);
    }
    v->kind = STORE_V_HASH;
    v->len = (uint16_t)(n / 2);
    return true;
}

/* "a.b.c.d" or "a.b.c.d/n", any IPv6 form with an optional "/n". */
static bool ip_key(const char *s, size_t n, struct store_value *v)
{
    const char *slash = memchr(s, '/', n);
    size_t an = slash != NULL ? (size_t)(slash - s) : n;
    uint64_t plen;
    uint32_t a4;
    uint8_t a6[16];

    if (match_ipv4_parse(s, an, &a4)) {
        plen = 32;
        if (slash != NULL && mrd_str_to_u64(slash + 1, n - an - 1, 32, &plen, NULL) != MRD_OK)
            return false;
        if (plen < 32)
            a4 &= plen == 0 ? 0 : ~(uint32_t)0 << (32 - plen);
        v->kind = STORE_V_IPV4;
        v->key[0] = (uint8_t)(a4 >> 24);
        v->key[1] = (uint8_t)(a4 >> 16);
        v->key[2] = (uint8_t)(a4 >> 8);
        v->key[3] = (uint8_t)a4;
        v->key[4] = (uint8_t)plen;
        v->len = 5;
        return true;
    }
    if (an > 1 && memchr(s, ':', an) != NULL && match_ipv6_parse(s, an, a6)) {
        plen = 128;
        if (slash != NULL && mrd_str_to_u64(slash + 1, n - an - 1, 128, &plen, NULL) != MRD_OK)
            return false;
        for (unsigned i = 0; i < 16; i++) {
            unsigned keep = plen >= (i + 1) * 8 ? 8 : plen > i * 8 ? (unsigned)(plen - i * 8) : 0;
            a6[i] &= (uint8_t)(keep == 0 ? 0 : 0xff << (8 - keep));
        }
        v->kind = STORE_V_IPV6;
        memcpy(v->key, a6, 16);
        v->key[16] = (uint8_t)plen;
        v->len = 17;
        return true;
    }
    return false;
}

static bool url_key(const char *s, size_t n, struct store_value *v, struct store_value *host)
{
    char norm[MATCH_MAX_VALUE], prev[MATCH_MAX_VALUE];
    const char *h = NULL;
    size_t hl = 0;
    size_t len = match_url_normalize(s, n, norm, sizeof(norm), &h, &hl);

    /* The key is its own normal form, so that what search prints reads
     * back as the same value: normalise again until nothing changes (a
     * URL that does not settle in a few passes is no plausible value). */
    for (int pass = 0;; pass++) {
        size_t again;

        if (len == 0 || len > STORE_VALUE_KEY_MAX || pass == 4)
            return false;
        memcpy(prev, norm, len);
        again = match_url_normalize(prev, len, norm, sizeof(norm), &h, &hl);
        if (again == len && memcmp(prev, norm, len) == 0)
            break;
        len = again;
    }
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)norm[i] <= ' ' || norm[i] == 0x7f)
            return false; /* no URL holds spaces or control characters */
    memcpy(v->key, norm, len);
    v->kind = STORE_V_URL;
    v->len = (uint16_t)len;
    if (host != NULL) {
        host->kind = 0;
        if (h != NULL && hl > 0 && !ip_key(h, hl, host) && !domain_key(h, hl, host))
            host->kind = 0;
    }
    return true;
}

static bool email_key(const char *s, size_t n, struct store_value *v)
{
    const char *at = memchr(s, '@', n);

    if (at == NULL || at == s || n > STORE_VALUE_KEY_MAX ||
        memchr(at + 1, '@', n - (size_t)(at - s) - 1))
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c <= ' ' || c == 0x7f)
            return false;
        v->key[i] = (uint8_t)((c >= 'A' && c <= 'Z') ? (c | 0x20) : c);
    }
    v->kind = STORE_V_EMAIL;
    v->len = (uint16_t)n;
    return true;
}

/* Undoes the usual defanging of shared indicators: "[.]", "(.)", "[:]",
 * "hxxp" -> "http". Returns the new length (out has n + 1 bytes). */
static size_t refang(const char *s, size_t n, char *out)
{
    size_t o = 0;

    for (size_t i = 0; i < n; i++) {
        if (i + 2 < n && (s[i] == '[' || s[i] == '(') && (s[i + 1] == '.' || s[i + 1] == ':') &&
            (s[i + 2] == ']' || s[i + 2] == ')')) {
            out[o++] = s[i + 1];
            i += 2;
            continue;
        }
        if (i + 4 <= n && (i == 0) && mrd_str_eq_nocase(s, 4, "hxxp", 4)) {
            memcpy(out, "http", 4);
            o = 4;
            i += 3;
            continue;
        }
        out[o++] = s[i];
    }
    out[o] = '\0';
    return o;
}

enum mrd_code store_value_parse(const char *s, size_t n, struct store_value *ret,
                                struct mrd_err *err)
{
    char buf[STORE_VALUE_KEY_MAX * 2 + 1];
    struct store_value v;

    while (n > 0 && (s[0] == ' ' || s[0] == '\t')) {
        s++;
        n--;
    }
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
        n--;
    if (n == 0 || n >= sizeof(buf))
        return mrd_err_set(err, MRD_E_INVAL, "value: empty or longer than %d bytes",
                           STORE_VALUE_KEY_MAX);
    n = refang(s, n, buf);
    memset(&v, 0, sizeof(v));
    if (ip_key(buf, n, &v) || hash_key(buf, n, &v) ||
        (memmem(buf, n, "://", 3) != NULL && url_key(buf, n, &v, NULL)) ||
        (memchr(buf, '@', n) != NULL && email_key(buf, n, &v)) ||
        (memchr(buf, '.', n) != NULL && domain_key(buf, n, &v) && memchr(v.key, '.', v.len))) {
        v.how = STORE_VH_VALUE;
        *ret = v;
        return MRD_OK;
    }
    return mrd_err_set(err, MRD_E_INVAL,
                       "value: not an address, CIDR, domain, URL, e-mail address or hash");
}

size_t store_value_format(const struct store_value *v, char *out, size_t size)
{
    int n = 0;

    if (size == 0)
        return 0;
    out[0] = '\0';
    switch (v->kind) {
    case STORE_V_IPV4:
        n = snprintf(out, size, "%u.%u.%u.%u", v->key[0], v->key[1], v->key[2], v->key[3]);
        if (v->key[4] != 32 && n > 0 && (size_t)n < size)
            n += snprintf(out + n, size - (size_t)n, "/%u", v->key[4]);
        break;
    case STORE_V_IPV6:
        for (unsigned i = 0; i < 16 && n >= 0 && (size_t)n < size; i += 2)
            n += snprintf(out + n, size - (size_t)n, "%s%x", i ? ":" : "",
                          (unsigned)(v->key[i] << 8 | v->key[i + 1]));
        if (v->key[16] != 128 && n > 0 && (size_t)n < size)
            n += snprintf(out + n, size - (size_t)n, "/%u", v->key[16]);
        break;
    case STORE_V_DOMAIN: {
        /* reverse the labels back */
        size_t o = 0, end = v->len;
        while (end > 0 && o + 1 < size) {
            size_t start = end;
            while (start > 0 && v->key[start - 1] != '.')
                start--;
            if (o > 0)
                out[o++] = '.';
            for (size_t i = start; i < end && o + 1 < size; i++)
                out[o++] = (char)v->key[i];
            end = start > 0 ? start - 1 : 0;
        }
        out[o] = '\0';
        return o;
    }
    case STORE_V_URL:
    case STORE_V_EMAIL:
        n = snprintf(out, size, "%.*s", (int)v->len, (const char *)v->key);
        break;
    case STORE_V_HASH:
        for (unsigned i = 0; i < v->len && n >= 0 && (size_t)n + 3 <= size; i++)
            n += snprintf(out + n, size - (size_t)n, "%02x", v->key[i]);
        break;
    default:
        break;
    }
    return n < 0 ? 0 : (size_t)n >= size ? size - 1 : (size_t)n;
}

/* ---- extraction from stored objects ---- */

struct ex {
    enum mrd_code (*cb)(void *ctx, const struct store_value *v, struct mrd_err *err);
    void *ctx;
    unsigned count;
    struct mrd_err *err;
};

static enum mrd_code put(struct ex *x, struct store_value *v, uint8_t how)
{
    if (v->kind == 0 || x->count >= STORE_VALUES_MAX)
        return MRD_OK;
    x->count++;
    v->how = how;
    return x->cb(x->ctx, v, x->err);
}

/* One (kind of value, text) pair, from an SCO or a pattern. */
static enum mrd_code put_text(struct ex *x, enum match_type t, const char *s, size_t n, uint8_t how)
{
    struct store_value v, host;
    enum mrd_code rc = MRD_OK;

    memset(&v, 0, sizeof(v));
    switch (t) {
    case MATCH_T_IPV4:
    case MATCH_T_IPV6:
        if (ip_key(s, n, &v))
            rc = put(x, &v, how);
        break;
    case MATCH_T_DOMAIN:
        if (domain_key(s, n, &v))
            rc = put(x, &v, how);
        break;
    case MATCH_T_URL:
        if (url_key(s, n, &v, &host)) {
            rc = put(x, &v, how);
            if (rc == MRD_OK)
                rc = put(x, &host, STORE_VH_URL_HOST);
        }
        break;
    case MATCH_T_EMAIL:
        if (email_key(s, n, &v))
            rc = put(x, &v, how);
        break;
    case MATCH_T_MD5:
    case MATCH_T_SHA1:
    case MATCH_T_SHA256:
    case MATCH_T_SHA512:
        if (hash_key(s, n, &v))
            rc = put(x, &v, how);
        break;
    default:
        break;
    }
    return rc;
}

static enum mrd_code pair_cb(void *ctx, enum match_type type, const char *v, size_t n,
                             struct mrd_err *err)
{
    (void)err;
    return put_text(ctx, type, v, n, STORE_VH_PATTERN);
}

static enum mrd_code hashes(struct ex *x, const json_t *h)
{
    const char *k;
    json_t *val;
    enum mrd_code rc = MRD_OK;

    json_object_foreach((json_t *)(uintptr_t)h, k, val)
    {
        const char *s = json_string_value(val);
        (void)k;
        if (s != NULL)
            rc = put_text(x, MATCH_T_SHA256, s, strlen(s), STORE_VH_VALUE);
        if (rc != MRD_OK)
            break;
    }
    return rc;
}

enum mrd_code store_values_of_json(const struct json_t *o,
                                   enum mrd_code (*cb)(void *ctx, const struct store_value *v,
                                                       struct mrd_err *err),
                                   void *ctx, struct mrd_err *err)
{
    struct ex x = {.cb = cb, .ctx = ctx, .err = err};
    const char *type, *val;
    enum mrd_code rc = MRD_OK;
    static _Thread_local char scratch[PATTERN_SCRATCH];

    if (!json_is_object(o))
        return MRD_OK;
    type = json_string_value(json_object_get(o, "type"));
    val = json_string_value(json_object_get(o, "value"));
    if (type == NULL)
        return MRD_OK;
    if (strcmp(type, "indicator") == 0) {
        const char *pat = json_string_value(json_object_get(o, "pattern"));
        const char *pt = json_string_value(json_object_get(o, "pattern_type"));
        if (pat != NULL && (pt == NULL || strcmp(pt, "stix") == 0)) {
            rc = match_pattern_pairs(pat, strlen(pat), scratch, pair_cb, &x, err);
            if (rc == MRD_E_UNSUPP || rc == MRD_E_PARSE || rc == MRD_E_TOOBIG) {
                mrd_err_clear(err);
                rc = MRD_OK; /* not an indexable shape */
            }
        }
    } else if (val != NULL && strcmp(type, "ipv4-addr") == 0) {
        rc = put_text(&x, MATCH_T_IPV4, val, strlen(val), STORE_VH_VALUE);
    } else if (val != NULL && strcmp(type, "ipv6-addr") == 0) {
        rc = put_text(&x, MATCH_T_IPV6, val, strlen(val), STORE_VH_VALUE);
    } else if (val != NULL && strcmp(type, "domain-name") == 0) {
        rc = put_text(&x, MATCH_T_DOMAIN, val, strlen(val), STORE_VH_VALUE);
    } else if (val != NULL && strcmp(type, "url") == 0) {
        rc = put_text(&x, MATCH_T_URL, val, strlen(val), STORE_VH_VALUE);
    } else if (val != NULL && strcmp(type, "email-addr") == 0) {
        rc = put_text(&x, MATCH_T_EMAIL, val, strlen(val), STORE_VH_VALUE);
    } else if (strcmp(type, "file") == 0 || strcmp(type, "artifact") == 0 ||
               strcmp(type, "x509-certificate") == 0) {
        const json_t *h = json_object_get(o, "hashes");
        if (json_is_object(h))
            rc = hashes(&x, h);
    }
    return rc;
}

static enum mrd_code append_value(void *ctx, const struct store_value *v, struct mrd_err *err)
{
    return mrd_buf_append(ctx, v, sizeof(*v), err);
}

enum mrd_code store_values_append(const struct json_t *o, struct mrd_buf *out, struct mrd_err *err)
{
    return store_values_of_json(o, append_value, out, err);
}

enum mrd_code store_values_of_object(const char *body, size_t len,
                                     enum mrd_code (*cb)(void *ctx, const struct store_value *v,
                                                         struct mrd_err *err),
                                     void *ctx, struct mrd_err *err)
{
    struct mrd_json_limits lim = {.max_bytes = STORE_OBJECT_MAX, .max_depth = 64};
    json_t *o = NULL;
    enum mrd_code rc = MRD_OK;

    /* stored bytes were validated; nothing to index otherwise */
    if (mrd_json_parse(body, len, &lim, &o, NULL) == MRD_OK)
        rc = store_values_of_json(o, cb, ctx, err);
    json_decref(o);
    return rc;
}

/* ---- free text ---- */

static bool word_byte(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c >= 0x80;
}

enum mrd_code store_text_query(const char *q, size_t n, char *out, size_t size, size_t *ret_len,
                               struct mrd_err *err)
{
    size_t i = 0, len = 0, words = 0;

    if (n > STORE_TEXT_QUERY_MAX)
        return mrd_err_set(err, MRD_E_TOOBIG, "search: text over %d bytes", STORE_TEXT_QUERY_MAX);
    if (!mrd_utf8_valid(q, n))
        return mrd_err_set(err, MRD_E_INVAL, "search: text is not UTF-8");
    /* Every space-separated word becomes one quoted phrase (FTS5 splits it
     * into its tokens, which must then follow each other: "evil.example"
     * finds "evil.example", not "example of evil"). What the user typed is
     * never FTS5 syntax (no AND/OR/NOT/NEAR, column filters, '^' or
     * parentheses): a quote inside is doubled, as FTS5 strings escape it. */
    while (i < n) {
        size_t start;
        bool has_word = false;

        while (i < n && (unsigned char)q[i] <= ' ')
            i++;
        start = i;
        while (i < n && (unsigned char)q[i] > ' ') {
            has_word |= word_byte((unsigned char)q[i]);
            i++;
        }
        if (!has_word)
            continue; /* punctuation alone has no token: an empty phrase matches nothing */
        if (++words > STORE_TEXT_TERMS_MAX)
            return mrd_err_set(err, MRD_E_TOOBIG, "search: more than %d words",
                               STORE_TEXT_TERMS_MAX);
        if (len + 2 * (i - start) + 5 >= size)
            return mrd_err_set(err, MRD_E_TOOBIG, "search: text too long");
        if (len > 0)
            out[len++] = ' ';
        out[len++] = '"';
        for (size_t k = start; k < i; k++) {
            if (q[k] == '"')
                out[len++] = '"';
            out[len++] = q[k];
        }
        out[len++] = '"';
    }
    if (words == 0)
        return mrd_err_set(err, MRD_E_INVAL, "search: no word to look for");
    out[len++] = '*'; /* the last word may be typed in part */
    out[len] = '\0';
    *ret_len = len;
    return MRD_OK;
}

/* ---- the free-text and reference index entries of a stored body ---- */

#define FOLD_FIRST 0xC0 /* STORE_FOLD_FROM's characters: U+00C0..U+017F */
#define FOLD_END 0x180
static pthread_once_t fold_once = PTHREAD_ONCE_INIT;
static char fold_map[FOLD_END - FOLD_FIRST]; /* '\0': not folded */

static void fold_init(void)
{
    static const char from[] = STORE_FOLD_FROM, to[] = STORE_FOLD_TO;
    size_t i = 0;

    for (size_t k = 0; to[k] != '\0' && from[i] != '\0' && from[i + 1] != '\0'; k++, i += 2) {
        unsigned cp = ((unsigned)(unsigned char)from[i] & 0x1f) << 6 |
                      ((unsigned)(unsigned char)from[i + 1] & 0x3f);

        if (cp >= FOLD_FIRST && cp < FOLD_END)
            fold_map[cp - FOLD_FIRST] = to[k];
    }
}

/* PostgreSQL's regexp class [\x01-\x2f\x3a-\x40\x5b-\x60\x7b-\x7f] */
static bool word_sep(unsigned char c)
{
    return c != 0 && c < 0x80 && !word_byte(c);
}

/* Appends s folded and split: as regexp_replace(translate(s, FROM, TO),
 * '[...]+', ' ', 'g') in store_pg.c's SQL. Never longer than s. */
static enum mrd_code words_append(struct mrd_buf *out, const char *s, size_t n, struct mrd_err *err)
{
    enum mrd_code rc = n > 0 ? mrd_buf_reserve(out, n, err) : MRD_OK;
    char *w;
    bool sep = false;

    if (rc != MRD_OK || n == 0)
        return rc;
    w = out->data + out->len;
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)s[i];

        if (word_sep(c)) {
            if (!sep)
                *w++ = ' ';
            sep = true;
            i++;
            continue;
        }
        sep = false;
        if (c >= 0xC3 && c <= 0xC5 && i + 1 < n && ((unsigned char)s[i + 1] & 0xC0) == 0x80) {
            unsigned cp = ((unsigned)c & 0x1f) << 6 | ((unsigned)(unsigned char)s[i + 1] & 0x3f);

            if (cp >= FOLD_FIRST && cp < FOLD_END && fold_map[cp - FOLD_FIRST] != '\0') {
                *w++ = fold_map[cp - FOLD_FIRST];
                i += 2;
                continue;
            }
        }
        *w++ = (char)c;
        i++;
    }
    out->len = (size_t)(w - out->data);
    return MRD_OK;
}

/* The text ->> gives of a member: the string, or another value's
 * canonical text; false for JSON null. */
static enum mrd_code field_text(const json_t *v, struct mrd_buf *out, bool *ret_some,
                                struct mrd_err *err)
{
    *ret_some = v != NULL && !json_is_null(v);
    if (!*ret_some)
        return MRD_OK;
    if (json_is_string(v))
        return mrd_buf_append(out, json_string_value(v), json_string_length(v), err);
    return mrd_jcs_write(v, out, err);
}

static bool has_key(const char *body, size_t len, const char *quoted)
{
    return memmem(body, len, quoted, strlen(quoted)) != NULL;
}

/* The SQL statements' byte tests: a body that may have words, references */
static bool words_keys(const char *body, size_t len)
{
    return has_key(body, len, "\"name\"") || has_key(body, len, "\"description\"") ||
           has_key(body, len, "\"abstract\"") || has_key(body, len, "\"content\"") ||
           has_key(body, len, "\"explanation\"");
}

static bool refs_keys(const char *body, size_t len)
{
    return has_key(body, len, "\"object_refs\"") || has_key(body, len, "\"source_ref\"") ||
           has_key(body, len, "\"sighting_of_ref\"");
}

/* The statement's words part: only bodies that hold one of the fields'
 * names (its byte test), the name, then the text: coalesce(description,
 * '') || ' ' || ... trimmed of spaces, none when blank. */
static enum mrd_code text_words(const char *body, size_t len, const json_t *o, struct mrd_buf *raw,
                                struct mrd_buf *words,
                                enum mrd_code (*cb)(void *ctx, enum store_text_kind kind, int role,
                                                    const char *s, size_t n, struct mrd_err *err),
                                void *ctx, struct mrd_err *err)
{
    static const char *const text_keys[] = {"description", "abstract", "content", "explanation"};
    size_t start, end;
    bool some;
    enum mrd_code rc;

    if (!words_keys(body, len))
        return MRD_OK;
    mrd_buf_reset(raw);
    rc = field_text(json_object_get(o, "name"), raw, &some, err);
    if (rc == MRD_OK && some) {
        mrd_buf_reset(words);
        rc = words_append(words, raw->data != NULL ? raw->data : "", raw->len, err);
        if (rc == MRD_OK)
            rc = cb(ctx, STORE_TEXT_NAME, 0, words->data != NULL ? words->data : "", words->len,
                    err);
    }
    mrd_buf_reset(raw);
    for (size_t k = 0; k < sizeof(text_keys) / sizeof(text_keys[0]) && rc == MRD_OK; k++) {
        if (k > 0)
            rc = mrd_buf_putc(raw, ' ', err);
        if (rc == MRD_OK)
            rc = field_text(json_object_get(o, text_keys[k]), raw, &some, err);
    }
    if (rc != MRD_OK)
        return rc;
    for (start = 0; start < raw->len && raw->data[start] == ' ';)
        start++;
    for (end = raw->len; end > start && raw->data[end - 1] == ' ';)
        end--;
    if (end == start)
        return MRD_OK;
    mrd_buf_reset(words);
    rc = words_append(words, raw->data + start, end - start, err);
    if (rc == MRD_OK)
        rc = cb(ctx, STORE_TEXT_WORDS, 0, words->data, words->len, err);
    return rc;
}

/* The statement's references part: only bodies that hold one of
 * "object_refs", "source_ref", "sighting_of_ref" (its byte test), then
 * each string of object_refs (an array) and of the three single refs. */
static enum mrd_code text_refs(const char *body, size_t len, const json_t *o,
                               enum mrd_code (*cb)(void *ctx, enum store_text_kind kind, int role,
                                                   const char *s, size_t n, struct mrd_err *err),
                               void *ctx, struct mrd_err *err)
{
    static const char *const single[] = {"source_ref", "target_ref", "sighting_of_ref"};
    const json_t *refs = json_object_get(o, "object_refs"), *x;
    size_t i;
    enum mrd_code rc = MRD_OK;

    if (!refs_keys(body, len))
        return MRD_OK;
    if (json_is_array(refs)) {
        json_array_foreach(refs, i, x)
        {
            if (rc == MRD_OK && json_is_string(x))
                rc = cb(ctx, STORE_TEXT_REF, 0, json_string_value(x), json_string_length(x), err);
        }
    }
    for (size_t k = 0; k < sizeof(single) / sizeof(single[0]) && rc == MRD_OK; k++) {
        x = json_object_get(o, single[k]);
        if (json_is_string(x))
            rc = cb(ctx, STORE_TEXT_REF, (int)k + 1, json_string_value(x), json_string_length(x),
                    err);
    }
    return rc;
}

enum mrd_code store_text_of_object(const char *body, size_t len,
                                   enum mrd_code (*cb)(void *ctx, enum store_text_kind kind,
                                                       int role, const char *s, size_t n,
                                                       struct mrd_err *err),
                                   void *ctx, struct mrd_err *err)
{
    struct mrd_json_limits lim = {.max_bytes = STORE_OBJECT_MAX, .max_depth = 64};
    struct mrd_buf raw, words;
    json_t *o = NULL;
    enum mrd_code rc = MRD_OK;

    (void)pthread_once(&fold_once, fold_init);
    /* most SCOs have neither: no parse */
    if (!words_keys(body, len) && !refs_keys(body, len))
        return MRD_OK;
    /* PostgreSQL's jsonb refuses what jansson refuses (a \u0000): such a
     * version has no words and no references on either side */
    if (mrd_json_parse(body, len, &lim, &o, NULL) != MRD_OK)
        return MRD_OK;
    if (!json_is_object(o)) {
        json_decref(o);
        return MRD_OK;
    }
    /* a field's canonical text is within the body's size; the four text
     * fields and their three spaces too */
    mrd_buf_init(&raw, (size_t)STORE_OBJECT_MAX + 8);
    mrd_buf_init(&words, (size_t)STORE_OBJECT_MAX + 8);
    rc = text_words(body, len, o, &raw, &words, cb, ctx, err);
    if (rc == MRD_OK)
        rc = text_refs(body, len, o, cb, ctx, err);
    mrd_buf_release(&raw);
    mrd_buf_release(&words);
    json_decref(o);
    return rc;
}
