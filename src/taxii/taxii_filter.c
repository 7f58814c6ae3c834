/*
 * Query parameters (TAXII 2.1 §3.4, §3.4.1) and paging tokens.
 *
 * Strictness is the point: a malformed or repeated value is a 400 naming
 * the parameter, never a silent default and never a 500 (medallion's
 * failure mode). Unknown parameters and match[] fields we do not know are
 * ignored, as §3.4 allows.
 */
#include "taxii/taxii_int.h"

#include <string.h>

#include "core/str.h"
#include "core/timestamp.h"

#define NEXT_VERSION 1
#define NEXT_PAYLOAD 17 /* version byte + date_added + seq */
#define TAXII_MAX_ID_LEN STORE_STIX_ID_MAX

enum list_kind { LIST_ID, LIST_TYPE, LIST_VERSION, LIST_SPEC };

static bool id_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_';
}

static bool valid_value(enum list_kind k, const char *s, size_t n)
{
    if (k == LIST_ID || k == LIST_TYPE) {
        if (n == 0 || n > (k == LIST_ID ? TAXII_MAX_ID_LEN : STORE_TYPE_MAX))
            return false;
        for (size_t i = 0; i < n; i++)
            if (!id_char(s[i]))
                return false;
        if (k == LIST_ID) {
            const char *dd = strstr(s, "--");
            return dd != NULL && dd != s && (size_t)(dd - s) + 2 < n;
        }
        return true;
    }
    if (k == LIST_SPEC) {
        /* n.m, as in the media type's version parameter (TAXII §1.6.8.2) */
        size_t i = 0, d1 = 0, d2 = 0;
        while (i < n && s[i] >= '0' && s[i] <= '9') {
            i++;
            d1++;
        }
        if (i >= n || s[i] != '.')
            return false;
        i++;
        while (i < n && s[i] >= '0' && s[i] <= '9') {
            i++;
            d2++;
        }
        return i == n && d1 > 0 && d2 > 0 && n <= STORE_SPEC_MAX;
    }
    return true;
}

static const char *kind_name(enum list_kind k)
{
    switch (k) {
    case LIST_ID:
        return "match[id]";
    case LIST_TYPE:
        return "match[type]";
    case LIST_VERSION:
        return "match[version]";
    default:
        return "match[spec_version]";
    }
}

/* Splits a comma-separated list into NUL-terminated arena strings. */
static enum mrd_code split_list(enum list_kind k, const char *v, struct mrd_arena *arena,
                                const char ***ret, size_t *ret_n, struct mrd_err *err)
{
    size_t n = 1, len = strlen(v), i = 0;
    const char **out;

    for (size_t j = 0; j < len; j++)
        if (v[j] == ',')
            n++;
    if (n > STORE_MATCH_MAX)
        return mrd_err_set(err, MRD_E_PARSE, "%s: more than %d values (TAXII 2.1 §3.4.1)",
                           kind_name(k), STORE_MATCH_MAX);
    out = mrd_arena_alloc(arena, n * sizeof(*out));
    if (out == NULL)
        return mrd_err_set(err, MRD_E_NOMEM, "out of memory");
    for (size_t idx = 0; idx < n; idx++) {
        const char *comma = memchr(v + i, ',', len - i);
        size_t el = comma != NULL ? (size_t)(comma - (v + i)) : len - i;
        char *s = mrd_arena_strndup(arena, v + i, el);
        if (s == NULL)
            return mrd_err_set(err, MRD_E_NOMEM, "out of memory");
        if (el == 0)
            return mrd_err_set(err, MRD_E_PARSE, "%s: empty value in the list (TAXII 2.1 §3.4)",
                               kind_name(k));
        if (!valid_value(k, s, el))
            return mrd_err_set(err, MRD_E_PARSE, "%s: malformed value '%.64s' (TAXII 2.1 §3.4.1)",
                               kind_name(k), s);
        for (size_t p = 0; p < idx; p++)
            if (strcmp(out[p], s) == 0)
                return mrd_err_set(err, MRD_E_PARSE,
                                   "%s: value '%.64s' given twice (TAXII 2.1 §3.4.1)", kind_name(k),
                                   s);
        out[idx] = s;
        i += el + 1;
    }
    *ret = out;
    *ret_n = n;
    return MRD_OK;
}

/* match[version]: first, last, all (alone) or STIX timestamps. */
static enum mrd_code parse_versions(const char *const *vals, size_t n, struct mrd_arena *arena,
                                    struct store_match *m, struct mrd_err *err)
{
    int64_t *ts = mrd_arena_alloc(arena, n * sizeof(*ts));
    size_t nts = 0;

    if (ts == NULL)
        return mrd_err_set(err, MRD_E_NOMEM, "out of memory");
    m->versions = 0;
    for (size_t i = 0; i < n; i++) {
        struct mrd_time t;
        if (strcmp(vals[i], "first") == 0) {
            m->versions |= STORE_VER_FIRST;
        } else if (strcmp(vals[i], "last") == 0) {
            m->versions |= STORE_VER_LAST;
        } else if (strcmp(vals[i], "all") == 0) {
            if (n > 1)
                return mrd_err_set(err, MRD_E_PARSE,
                                   "match[version]: 'all' cannot be combined with other values "
                                   "(TAXII 2.1 §3.4.1)");
            m->versions = STORE_VER_ALL;
        } else if (mrd_time_parse(vals[i], strlen(vals[i]), &t, NULL) == MRD_OK) {
            int64_t u = mrd_time_to_usec(&t);
            for (size_t j = 0; j < nts; j++)
                if (ts[j] == u)
                    return mrd_err_set(err, MRD_E_PARSE,
                                       "match[version]: timestamp '%.40s' given twice "
                                       "(TAXII 2.1 §3.4.1)",
                                       vals[i]);
            ts[nts++] = u;
            m->versions |= STORE_VER_TIMESTAMPS;
        } else {
            return mrd_err_set(err, MRD_E_PARSE,
                               "match[version]: '%.64s' is neither first, last, all nor a "
                               "timestamp (TAXII 2.1 §3.4.1)",
                               vals[i]);
        }
    }
    m->timestamps = ts;
    m->n_timestamps = nts;
    return MRD_OK;
}

enum mrd_code taxii_filter_parse(const struct http_kv *args, size_t n, unsigned allowed,
                                 struct mrd_arena *arena, struct taxii_filter *ret,
                                 struct mrd_err *err)
{
    struct taxii_filter f;
    enum mrd_code rc;
    static const struct {
        const char *key;
        unsigned flag;
    } known[] = {
        {"added_after", TAXII_F_ADDED_AFTER},
        {"limit", TAXII_F_LIMIT},
        {"next", TAXII_F_NEXT},
        {"match[id]", TAXII_F_ID},
        {"match[type]", TAXII_F_TYPE},
        {"match[version]", TAXII_F_VERSION},
        {"match[spec_version]", TAXII_F_SPEC},
    };
    unsigned seen = 0;
    const char **lst;

    memset(&f, 0, sizeof(f));
    f.added_after = STORE_TIME_NONE;
    for (size_t i = 0; i < n; i++) {
        unsigned flag = 0;
        const char *key = args[i].key, *v = args[i].value;
        for (size_t k = 0; k < sizeof(known) / sizeof(known[0]); k++)
            if (strcmp(key, known[k].key) == 0)
                flag = known[k].flag;
        if (flag == 0 || (flag & allowed) == 0)
            continue; /* unknown, or not a filter of this endpoint: ignored (§3.4) */
        if (seen & flag)
            return mrd_err_set(err, MRD_E_PARSE,
                               "query parameter '%s' given more than once (TAXII 2.1 §3.4)", key);
        seen |= flag;
        if (v == NULL || v[0] == '\0')
            return mrd_err_set(err, MRD_E_PARSE, "query parameter '%s' has no value", key);
        if (!mrd_utf8_valid(v, strlen(v)))
            return mrd_err_set(err, MRD_E_PARSE, "query parameter '%s' is not valid UTF-8", key);
        switch (flag) {
        case TAXII_F_ADDED_AFTER: {
            struct mrd_time t;
            struct mrd_err e = {0};
            if (mrd_time_parse(v, strlen(v), &t, &e) != MRD_OK)
                return mrd_err_set(err, MRD_E_PARSE,
                                   "added_after: not a timestamp: %s (TAXII 2.1 §2, §3.4)", e.msg);
            f.added_after = mrd_time_to_usec(&t);
            f.raw_added_after = v;
            break;
        }
        case TAXII_F_LIMIT: {
            uint64_t l;
            if (mrd_str_to_u64(v, strlen(v), (1ull << 53) - 1, &l, NULL) != MRD_OK || l == 0)
                return mrd_err_set(err, MRD_E_PARSE,
                                   "limit: '%.32s' is not an integer above 0 (TAXII 2.1 §3.4)", v);
            f.limit = l > TAXII_MAX_PAGE ? TAXII_MAX_PAGE : (size_t)l;
            break;
        }
        case TAXII_F_NEXT:
            if (strlen(v) > TAXII_NEXT_MAX)
                return mrd_err_set(err, MRD_E_PARSE, "next: not a token from this server");
            f.next = v;
            break;
        case TAXII_F_ID:
            rc = split_list(LIST_ID, v, arena, &lst, &f.match.n_ids, err);
            if (rc != MRD_OK)
                return rc;
            f.match.ids = lst;
            f.raw_id = v;
            f.has_match = true;
            break;
        case TAXII_F_TYPE:
            rc = split_list(LIST_TYPE, v, arena, &lst, &f.match.n_types, err);
            if (rc != MRD_OK)
                return rc;
            f.match.types = lst;
            f.raw_type = v;
            f.has_match = true;
            break;
        case TAXII_F_VERSION: {
            const char **vals;
            size_t nv;
            rc = split_list(LIST_VERSION, v, arena, &vals, &nv, err);
            if (rc == MRD_OK)
                rc = parse_versions(vals, nv, arena, &f.match, err);
            if (rc != MRD_OK)
                return rc;
            f.raw_version = v;
            f.has_match = true;
            break;
        }
        case TAXII_F_SPEC:
            rc = split_list(LIST_SPEC, v, arena, &lst, &f.match.n_spec_versions, err);
            if (rc != MRD_OK)
                return rc;
            f.match.spec_versions = lst;
            f.raw_spec = v;
            f.has_match = true;
            break;
        default:
            break;
        }
    }
    *ret = f;
    return MRD_OK;
}

/* ---- paging tokens --------------------------------------------------------
 * token = base64url(payload || MAC), payload = version || date_added ||
 * seq (big-endian), MAC = crypto_auth(payload || H(binding)), where the
 * binding is every input that defines the result set and the requester.
 * limit is not bound: a client may change its page size between pages. */

static void put_be64(unsigned char *p, int64_t v)
{
    uint64_t u = (uint64_t)v;
    for (int i = 7; i >= 0; i--) {
        p[i] = (unsigned char)(u & 0xff);
        u >>= 8;
    }
}

static int64_t get_be64(const unsigned char *p)
{
    uint64_t u = 0;
    for (int i = 0; i < 8; i++)
        u = (u << 8) | p[i];
    return (int64_t)u;
}

static void hash_str(crypto_generichash_state *h, const char *s)
{
    unsigned char len[8];
    size_t n = s != NULL ? strlen(s) : 0;

    /* Length-prefixed, and NULL differs from "" by a marker, so no two
     * distinct bindings hash the same input. */
    put_be64(len, s != NULL ? (int64_t)n : -1);
    crypto_generichash_update(h, len, sizeof(len));
    if (n > 0)
        crypto_generichash_update(h, (const unsigned char *)s, n);
}

static void binding_hash(const struct taxii_next_bind *b, const struct taxii_filter *f,
                         unsigned char out[crypto_generichash_BYTES])
{
    crypto_generichash_state h;
    unsigned char num[8];

    crypto_generichash_init(&h, NULL, 0, crypto_generichash_BYTES);
    hash_str(&h, "meridian-taxii-next-v1");
    put_be64(num, (int64_t)b->route);
    crypto_generichash_update(&h, num, sizeof(num));
    hash_str(&h, b->root);
    hash_str(&h, b->collection_id);
    hash_str(&h, b->object_id);
    put_be64(num, b->org_key);
    crypto_generichash_update(&h, num, sizeof(num));
    hash_str(&h, b->token_name);
    hash_str(&h, f->raw_added_after);
    hash_str(&h, f->raw_id);
    hash_str(&h, f->raw_type);
    hash_str(&h, f->raw_version);
    hash_str(&h, f->raw_spec);
    crypto_generichash_final(&h, out, crypto_generichash_BYTES);
}

static void mac_of(const unsigned char key[crypto_auth_KEYBYTES], const unsigned char *payload,
                   const struct taxii_next_bind *b, const struct taxii_filter *f,
                   unsigned char mac[crypto_auth_BYTES])
{
    unsigned char msg[NEXT_PAYLOAD + crypto_generichash_BYTES];

    memcpy(msg, payload, NEXT_PAYLOAD);
    binding_hash(b, f, msg + NEXT_PAYLOAD);
    crypto_auth(mac, msg, sizeof(msg), key);
}

void taxii_next_make(const unsigned char key[crypto_auth_KEYBYTES], const struct taxii_next_bind *b,
                     const struct taxii_filter *f, int64_t date_added, int64_t seq,
                     char out[TAXII_NEXT_MAX + 1])
{
    unsigned char tok[NEXT_PAYLOAD + crypto_auth_BYTES];

    tok[0] = NEXT_VERSION;
    put_be64(tok + 1, date_added);
    put_be64(tok + 9, seq);
    mac_of(key, tok, b, f, tok + NEXT_PAYLOAD);
    sodium_bin2base64(out, TAXII_NEXT_MAX + 1, tok, sizeof(tok),
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

enum mrd_code taxii_next_check(const unsigned char key[crypto_auth_KEYBYTES],
                               const struct taxii_next_bind *b, const struct taxii_filter *f,
                               const char *token, int64_t *ret_date_added, int64_t *ret_seq,
                               struct mrd_err *err)
{
    unsigned char tok[NEXT_PAYLOAD + crypto_auth_BYTES];
    unsigned char msg[NEXT_PAYLOAD + crypto_generichash_BYTES];
    size_t n = 0;

    if (sodium_base642bin(tok, sizeof(tok), token, strlen(token), NULL, &n, NULL,
                          sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
        n != sizeof(tok) || tok[0] != NEXT_VERSION)
        return mrd_err_set(err, MRD_E_PARSE, "next: not a token from this server");
    memcpy(msg, tok, NEXT_PAYLOAD);
    binding_hash(b, f, msg + NEXT_PAYLOAD);
    if (crypto_auth_verify(tok + NEXT_PAYLOAD, msg, sizeof(msg), key) != 0)
        return mrd_err_set(err, MRD_E_PARSE,
                           "next: the token does not belong to this query and requester "
                           "(send it back with the same filters, TAXII 2.1 §3.4)");
    *ret_date_added = get_be64(tok + 1);
    *ret_seq = get_be64(tok + 9);
    return MRD_OK;
}

/* ---- query strings outside HTTP ---- */

enum mrd_code taxii_query_split(char *q, struct http_kv *args, size_t max, size_t *ret_n,
                                struct mrd_err *err)
{
    size_t n = 0;

    for (char *p = q; *p != '\0';) {
        char *amp = strchr(p, '&'), *eq, *w, *r;

        if (amp != NULL)
            *amp = '\0';
        if (*p != '\0') {
            if (n >= max)
                return mrd_err_set(err, MRD_E_TOOBIG, "more than %zu filters", max);
            for (w = r = p; *r != '\0'; r++) {
                if (*r == '%' && mrd_hex_digit((unsigned char)r[1]) >= 0 &&
                    mrd_hex_digit((unsigned char)r[2]) >= 0) {
                    *w++ = (char)(mrd_hex_digit((unsigned char)r[1]) * 16 +
                                  mrd_hex_digit((unsigned char)r[2]));
                    r += 2;
                } else {
                    *w++ = *r == '+' ? ' ' : *r;
                }
            }
            *w = '\0';
            eq = strchr(p, '=');
            if (eq != NULL)
                *eq = '\0';
            args[n].key = p;
            args[n].value = eq != NULL ? eq + 1 : NULL;
            n++;
        }
        if (amp == NULL)
            break;
        p = amp + 1;
    }
    *ret_n = n;
    return MRD_OK;
}

enum mrd_code taxii_filter_parse_query(const char *query, struct mrd_arena *arena,
                                       struct taxii_filter *ret, struct mrd_err *err)
{
    struct http_kv args[TAXII_QUERY_ARGS];
    size_t n = 0, len = strlen(query);
    char *q;
    enum mrd_code rc;

    if (len > TAXII_QUERY_MAX)
        return mrd_err_set(err, MRD_E_TOOBIG, "longer than %d bytes", TAXII_QUERY_MAX);
    q = mrd_arena_strndup(arena, query, len);
    if (q == NULL)
        return mrd_err_set(err, MRD_E_NOMEM, "out of memory");
    rc = taxii_query_split(q, args, TAXII_QUERY_ARGS, &n, err);
    if (rc == MRD_OK)
        rc = taxii_filter_parse(args, n,
                                TAXII_F_ADDED_AFTER | TAXII_F_ID | TAXII_F_TYPE | TAXII_F_VERSION |
                                    TAXII_F_SPEC,
                                arena, ret, err);
    for (size_t i = 0; rc == MRD_OK && i < n; i++)
        if (strcmp(args[i].key, "added_after") != 0 && strncmp(args[i].key, "match[", 6) != 0)
            rc = mrd_err_set(err, MRD_E_PARSE,
                             "'%s' is not a filter (added_after, match[id], match[type], "
                             "match[version], match[spec_version])",
                             args[i].key);
    return rc;
}
