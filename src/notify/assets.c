/*
 * assets.c: the asset index of notify.h. Pure.
 *
 * Three sorted arrays of pointers into one copy of the assets:
 *   asn:  by number;
 *   ip:   by store_value key (address bytes, then prefix length), IPv4 and
 *         IPv6 apart; a bitmap of the prefix lengths present turns
 *         longest-prefix match into at most 33 (129) binary searches, and
 *         the prefixes a CIDR holds are one contiguous run after it;
 *   name: domain keys (labels reversed, "example.gov.xx" -> "xx.gov.example"),
 *         by key; a name's suffixes are its key's prefixes ending at a
 *         label, and the names below it are one run starting with key + ".".
 * Routing a value is O(prefix lengths x log n); nothing allocates.
 */
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/json.h"
#include "core/str.h"
#include "notify/notify.h"

struct sorted {
    const struct notify_asset **p;
    size_t n;
};

struct notify_index {
    struct notify_asset *a;
    size_t n;
    struct sorted asn, v4, v6, name;
    uint8_t len4[33], len6[129]; /* prefix lengths present */
};

/* ---- parsing ---- */

bool notify_asset_line(char *line, const char **ret_kind, const char **ret_text)
{
    size_t n = strlen(line);
    char *text = line, *comma;

    *ret_kind = NULL;
    *ret_text = "";
    while (n > 0 && (line[n - 1] == '\r' || line[n - 1] == ' ' || line[n - 1] == '\t'))
        line[--n] = '\0';
    while (*text == ' ' || *text == '\t')
        text++;
    if (*text == '\0' || *text == '#')
        return false;
    comma = strchr(text, ',');
    if (comma != NULL) {
        char *end = comma;
        *comma = '\0';
        while (end > text && (end[-1] == ' ' || end[-1] == '\t'))
            *--end = '\0'; /* "prefix , 10.0.0.0/8" */
        *ret_kind = text;
        text = comma + 1;
        while (*text == ' ' || *text == '\t')
            text++;
    }
    *ret_text = text;
    return true;
}

const char *notify_akind_name(enum notify_akind k)
{
    switch (k) {
    case NOTIFY_A_ASN:
        return "asn";
    case NOTIFY_A_PREFIX:
        return "prefix";
    case NOTIFY_A_DOMAIN:
        return "domain";
    case NOTIFY_A_EMAIL:
        return "email";
    case NOTIFY_A_HOST:
        return "host";
    }
    return "?";
}

static bool all_digits(const char *s)
{
    return *s != '\0' && strspn(s, "0123456789") == strlen(s);
}

static enum mrd_code parse_asn(const char *text, struct notify_asset *a, struct mrd_err *err)
{
    const char *d = text;
    uint64_t v;

    if ((d[0] == 'A' || d[0] == 'a') && (d[1] == 'S' || d[1] == 's'))
        d += 2;
    if (!all_digits(d) || mrd_str_to_u64(d, strlen(d), UINT32_MAX, &v, NULL) != MRD_OK)
        return mrd_err_set(err, MRD_E_INVAL, "asn: expected AS1..AS4294967295");
    /* RFC 7607: AS 0 is never an origin; RFC 6793: AS_TRANS stands in for
     * a 4-byte ASN and belongs to nobody */
    if (v == 0 || v == 23456)
        return mrd_err_set(err, MRD_E_INVAL, "asn: AS%u is reserved and cannot be owned",
                           (unsigned)v);
    a->kind = NOTIFY_A_ASN;
    a->asn = (uint32_t)v;
    return MRD_OK;
}

static enum mrd_code parse_prefix(const char *text, struct notify_asset *a, struct mrd_err *err)
{
    const char *slash = strchr(text, '/');
    struct store_value host;
    char net[NOTIFY_ASSET_TEXT_MAX];

    if (store_value_parse(text, strlen(text), &a->v, NULL) != MRD_OK ||
        (a->v.kind != STORE_V_IPV4 && a->v.kind != STORE_V_IPV6))
        return mrd_err_set(err, MRD_E_INVAL, "prefix: expected an IPv4 or IPv6 address or CIDR");
    /* the address part alone, to see whether the mask dropped host bits */
    if (slash != NULL && store_value_parse(text, (size_t)(slash - text), &host, NULL) == MRD_OK &&
        host.kind == a->v.kind && memcmp(host.key, a->v.key, (size_t)a->v.len - 1) != 0) {
        store_value_format(&a->v, net, sizeof(net));
        return mrd_err_set(err, MRD_E_INVAL, "prefix: host bits are set; the network is %s", net);
    }
    a->kind = NOTIFY_A_PREFIX;
    return MRD_OK;
}

static enum mrd_code parse_name(const char *text, enum notify_akind kind, struct notify_asset *a,
                                struct mrd_err *err)
{
    const char *what = notify_akind_name(kind);

    if (kind == NOTIFY_A_EMAIL) {
        if (text[0] != '@')
            return mrd_err_set(err, MRD_E_INVAL, "email: expected @DOMAIN (e.g. @example.org)");
        text++;
    }
    if (store_value_parse(text, strlen(text), &a->v, NULL) != MRD_OK || a->v.kind != STORE_V_DOMAIN)
        return mrd_err_set(err, MRD_E_INVAL,
                           "%s: expected a domain name of at least two labels (e.g. gov.example)",
                           what);
    a->kind = (uint8_t)kind;
    return MRD_OK;
}

enum mrd_code notify_asset_parse(const char *kind, const char *text, struct notify_asset *ret,
                                 struct mrd_err *err)
{
    struct notify_asset a;
    enum mrd_code rc;

    memset(&a, 0, sizeof(a));
    if (text == NULL || text[0] == '\0' || strlen(text) >= NOTIFY_ASSET_TEXT_MAX)
        return mrd_err_set(err, MRD_E_INVAL, "asset: empty or longer than %d bytes",
                           NOTIFY_ASSET_TEXT_MAX - 1);
    if (kind == NULL) {
        if (all_digits(text) || ((text[0] == 'A' || text[0] == 'a') &&
                                 (text[1] == 'S' || text[1] == 's') && all_digits(text + 2)))
            rc = parse_asn(text, &a, err);
        else if (text[0] == '@')
            rc = parse_name(text, NOTIFY_A_EMAIL, &a, err);
        else if (parse_prefix(text, &a, NULL) == MRD_OK)
            rc = MRD_OK;
        else if (strchr(text, ':') != NULL || strchr(text, '/') != NULL ||
                 strspn(text, "0123456789.") == strlen(text))
            rc = parse_prefix(text, &a, err); /* for its message */
        else
            rc = parse_name(text, NOTIFY_A_DOMAIN, &a, err);
    } else if (strcmp(kind, "asn") == 0) {
        rc = parse_asn(text, &a, err);
    } else if (strcmp(kind, "prefix") == 0) {
        rc = parse_prefix(text, &a, err);
    } else if (strcmp(kind, "domain") == 0) {
        rc = parse_name(text, NOTIFY_A_DOMAIN, &a, err);
    } else if (strcmp(kind, "email") == 0) {
        rc = parse_name(text, NOTIFY_A_EMAIL, &a, err);
    } else if (strcmp(kind, "host") == 0) {
        rc = parse_name(text, NOTIFY_A_HOST, &a, err);
    } else {
        return mrd_err_set(err, MRD_E_INVAL,
                           "asset kind: expected asn, prefix, domain, email or host");
    }
    if (rc != MRD_OK)
        return rc;
    *ret = a;
    return MRD_OK;
}

size_t notify_asset_format(const struct notify_asset *a, char *out, size_t size)
{
    int n;

    if (size == 0)
        return 0;
    switch (a->kind) {
    case NOTIFY_A_ASN:
        n = snprintf(out, size, "AS%u", (unsigned)a->asn);
        return n < 0 ? 0 : (size_t)n < size ? (size_t)n : size - 1;
    case NOTIFY_A_EMAIL:
        if (size < 2) {
            out[0] = '\0';
            return 0;
        }
        out[0] = '@';
        return 1 + store_value_format(&a->v, out + 1, size - 1);
    default:
        return store_value_format(&a->v, out, size);
    }
}

/* ---- building ---- */

static int key_cmp(const uint8_t *a, size_t an, const uint8_t *b, size_t bn)
{
    int c = memcmp(a, b, an < bn ? an : bn);
    return c != 0 ? c : an < bn ? -1 : an > bn ? 1 : 0;
}

static int asn_cmp(const void *x, const void *y)
{
    const struct notify_asset *a = *(const struct notify_asset *const *)x;
    const struct notify_asset *b = *(const struct notify_asset *const *)y;
    return a->asn < b->asn ? -1 : a->asn > b->asn;
}

static int key_sort(const void *x, const void *y)
{
    const struct notify_asset *a = *(const struct notify_asset *const *)x;
    const struct notify_asset *b = *(const struct notify_asset *const *)y;
    return key_cmp(a->v.key, a->v.len, b->v.key, b->v.len);
}

static enum mrd_code sorted_alloc(struct sorted *s, size_t n, struct mrd_err *err)
{
    s->p = n > 0 ? mrd_calloc(n, sizeof(*s->p)) : NULL;
    if (n > 0 && s->p == NULL)
        return mrd_err_set(err, MRD_E_NOMEM, "asset index: out of memory");
    return MRD_OK;
}

enum mrd_code notify_index_build(const struct notify_asset *a, size_t n, struct notify_index **ret,
                                 struct mrd_err *err)
{
    struct notify_index *ix;
    size_t k[6] = {0};

    if (n > NOTIFY_ASSETS_MAX)
        return mrd_err_set(err, MRD_E_TOOBIG, "asset index: more than %d assets",
                           NOTIFY_ASSETS_MAX);
    ix = mrd_calloc(1, sizeof(*ix));
    if (ix == NULL)
        return mrd_err_set(err, MRD_E_NOMEM, "asset index: out of memory");
    ix->a = n > 0 ? mrd_malloc(n * sizeof(*a)) : NULL;
    if (n > 0 && ix->a == NULL) {
        notify_index_free(ix);
        return mrd_err_set(err, MRD_E_NOMEM, "asset index: out of memory");
    }
    if (n > 0)
        memcpy(ix->a, a, n * sizeof(*a));
    ix->n = n;
    for (size_t i = 0; i < n; i++) {
        if (a[i].kind == NOTIFY_A_PREFIX)
            k[a[i].v.kind == STORE_V_IPV4 ? 1 : 2]++;
        else if (a[i].kind == NOTIFY_A_ASN)
            k[0]++;
        else
            k[3]++;
    }
    if (sorted_alloc(&ix->asn, k[0], err) != MRD_OK || sorted_alloc(&ix->v4, k[1], err) != MRD_OK ||
        sorted_alloc(&ix->v6, k[2], err) != MRD_OK ||
        sorted_alloc(&ix->name, k[3], err) != MRD_OK) {
        notify_index_free(ix);
        return MRD_E_NOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        const struct notify_asset *x = &ix->a[i];
        if (x->kind == NOTIFY_A_ASN) {
            ix->asn.p[ix->asn.n++] = x;
        } else if (x->kind == NOTIFY_A_PREFIX && x->v.kind == STORE_V_IPV4) {
            ix->v4.p[ix->v4.n++] = x;
            ix->len4[x->v.key[4]] = 1;
        } else if (x->kind == NOTIFY_A_PREFIX) {
            ix->v6.p[ix->v6.n++] = x;
            ix->len6[x->v.key[16]] = 1;
        } else {
            ix->name.p[ix->name.n++] = x;
        }
    }
    if (ix->asn.n > 1)
        qsort(ix->asn.p, ix->asn.n, sizeof(*ix->asn.p), asn_cmp);
    if (ix->v4.n > 1)
        qsort(ix->v4.p, ix->v4.n, sizeof(*ix->v4.p), key_sort);
    if (ix->v6.n > 1)
        qsort(ix->v6.p, ix->v6.n, sizeof(*ix->v6.p), key_sort);
    if (ix->name.n > 1)
        qsort(ix->name.p, ix->name.n, sizeof(*ix->name.p), key_sort);
    *ret = ix;
    return MRD_OK;
}

void notify_index_free(struct notify_index *ix)
{
    if (ix == NULL)
        return;
    free(ix->asn.p);
    free(ix->v4.p);
    free(ix->v6.p);
    free(ix->name.p);
    free(ix->a);
    free(ix);
}

size_t notify_index_size(const struct notify_index *ix)
{
    return ix->n;
}

/* ---- lookups ---- */

/* First position whose key is >= (key, n). */
static size_t lower_bound(const struct sorted *s, const uint8_t *key, size_t n)
{
    size_t lo = 0, hi = s->n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (key_cmp(s->p[mid]->v.key, s->p[mid]->v.len, key, n) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

struct emit {
    notify_hit_fn cb;
    void *ctx;
    const struct store_value *value;
    int64_t skip_org; /* overlaps: an org's own assets are no overlap; -1: none */
    size_t count;
};

static enum mrd_code emit(struct emit *e, const struct notify_asset *a, enum notify_how how,
                          uint32_t asn, struct mrd_err *err)
{
    struct notify_hit h = {.asset = a, .how = how, .value = e->value, .asn = asn};

    if (a->org == e->skip_org)
        return MRD_OK;
    e->count++;
    return e->cb(e->ctx, &h, err);
}

/* Emits every entry equal to key of the kinds in `kinds` (a bitmask of
 * 1 << enum notify_akind); returns how many matched via *found. */
static enum mrd_code emit_equal(struct emit *e, const struct sorted *s, const uint8_t *key,
                                size_t n, unsigned kinds, enum notify_how how, bool *found,
                                struct mrd_err *err)
{
    enum mrd_code rc;

    for (size_t i = lower_bound(s, key, n);
         i < s->n && key_cmp(s->p[i]->v.key, s->p[i]->v.len, key, n) == 0; i++) {
        if (!(kinds & (1u << s->p[i]->kind)))
            continue;
        *found = true;
        if ((rc = emit(e, s->p[i], how, 0, err)) != MRD_OK)
            return rc;
    }
    return MRD_OK;
}

static void mask_key(const struct store_value *v, unsigned plen, uint8_t *out)
{
    unsigned bytes = (unsigned)v->len - 1;

    for (unsigned i = 0; i < bytes; i++) {
        unsigned keep = plen >= (i + 1) * 8 ? 8 : plen > i * 8 ? plen - i * 8 : 0;
        out[i] = (uint8_t)(v->key[i] & (keep == 0 ? 0 : 0xff << (8 - keep)));
    }
    out[bytes] = (uint8_t)plen;
}

/* The most specific prefixes holding v (all_holders: every one, for
 * overlaps), then the prefixes inside v. */
static enum mrd_code route_ip(const struct notify_index *ix, struct emit *e,
                              const struct store_value *v, bool all_holders, struct mrd_err *err)
{
    const bool four = v->kind == STORE_V_IPV4;
    const struct sorted *s = four ? &ix->v4 : &ix->v6;
    const uint8_t *present = four ? ix->len4 : ix->len6;
    const unsigned bytes = four ? 4 : 16, plen = v->key[bytes];
    uint8_t key[17];
    bool found = false;
    enum mrd_code rc;

    if (s->n == 0)
        return MRD_OK;
    for (unsigned l = plen + 1; l-- > 0;) {
        if (!present[l])
            continue;
        mask_key(v, l, key);
        rc = emit_equal(e, s, key, bytes + 1, 1u << NOTIFY_A_PREFIX,
                        l == plen ? NOTIFY_M_EXACT : NOTIFY_M_INSIDE, &found, err);
        if (rc != MRD_OK)
            return rc;
        if (found && !all_holders)
            break;
    }
    /* prefixes the CIDR holds: after (v, plen), while the address is in v */
    if (plen < bytes * 8) {
        size_t held = 0;
        for (size_t i = lower_bound(s, v->key, bytes + 1); i < s->n && held < NOTIFY_HOLDS_MAX;
             i++) {
            const struct notify_asset *a = s->p[i];
            uint8_t m[17];
            mask_key(&a->v, plen, m);
            if (memcmp(m, v->key, bytes) != 0)
                break;
            if (a->v.key[bytes] <= plen)
                continue; /* the same prefix: EXACT above */
            held++;
            if ((rc = emit(e, a, NOTIFY_M_HOLDS, 0, err)) != MRD_OK)
                return rc;
        }
    }
    return MRD_OK;
}

/* Names: the longest suffix of v that someone declared (all of them, for
 * overlaps); HOST assets only at v itself; with below, also the names under
 * v. kinds: which asset kinds may cover v from above. */
static enum mrd_code route_name(const struct notify_index *ix, struct emit *e,
                                const struct store_value *v, unsigned kinds, bool all_holders,
                                bool below, struct mrd_err *err)
{
    const struct sorted *s = &ix->name;
    bool found = false;
    enum mrd_code rc;
    size_t end = v->len;

    if (s->n == 0)
        return MRD_OK;
    /* suffixes longest first: the whole key, then cut at each '.' from the
     * right ("xx.gov.example" -> "xx.gov" -> "xx") */
    for (;;) {
        bool whole = end == v->len;
        unsigned k = kinds | (whole ? 1u << NOTIFY_A_HOST : 0);
        rc =
            emit_equal(e, s, v->key, end, k, whole ? NOTIFY_M_EXACT : NOTIFY_M_INSIDE, &found, err);
        if (rc != MRD_OK)
            return rc;
        if (found && !all_holders)
            break;
        while (end > 0 && v->key[end - 1] != '.')
            end--;
        if (end == 0)
            break;
        end--; /* drop the dot */
    }
    if (below && (size_t)v->len + 1 <= STORE_VALUE_KEY_MAX) {
        uint8_t key[STORE_VALUE_KEY_MAX];
        size_t held = 0;
        memcpy(key, v->key, v->len);
        key[v->len] = '.';
        for (size_t i = lower_bound(s, key, (size_t)v->len + 1);
             i < s->n && held < NOTIFY_HOLDS_MAX; i++) {
            const struct notify_asset *a = s->p[i];
            if (a->v.len <= v->len || memcmp(a->v.key, key, (size_t)v->len + 1) != 0)
                break;
            held++;
            if ((rc = emit(e, a, NOTIFY_M_HOLDS, 0, err)) != MRD_OK)
                return rc;
        }
    }
    return MRD_OK;
}

/* An e-mail address's domain, as a domain key. False when it has none. */
static bool email_domain(const struct store_value *v, struct store_value *d)
{
    const uint8_t *at = memchr(v->key, '@', v->len);
    const char *host;

    if (at == NULL)
        return false;
    host = (const char *)at + 1;
    return store_value_parse(host, (size_t)(v->key + v->len - (const uint8_t *)host), d, NULL) ==
               MRD_OK &&
           d->kind == STORE_V_DOMAIN;
}

static enum mrd_code route(const struct notify_index *ix, struct emit *e,
                           const struct store_value *v, struct mrd_err *err)
{
    const unsigned dom = 1u << NOTIFY_A_DOMAIN;
    struct store_value d;

    e->value = v;
    switch (v->kind) {
    case STORE_V_IPV4:
    case STORE_V_IPV6:
        return route_ip(ix, e, v, false, err);
    case STORE_V_DOMAIN:
        return route_name(ix, e, v, dom, false, false, err);
    case STORE_V_EMAIL:
        if (!email_domain(v, &d))
            return MRD_OK;
        /* the address's domain itself is covered by a domain or e-mail
         * asset, never by a host asset */
        return route_name(ix, e, &d, dom | 1u << NOTIFY_A_EMAIL, false, false, err);
    default:
        return MRD_OK;
    }
}

enum mrd_code notify_route_value(const struct notify_index *ix, const struct store_value *v,
                                 notify_hit_fn cb, void *ctx, struct mrd_err *err)
{
    struct emit e = {.cb = cb, .ctx = ctx, .skip_org = -1};
    return route(ix, &e, v, err);
}

static enum mrd_code route_asn(const struct notify_index *ix, struct emit *e, uint32_t asn,
                               struct mrd_err *err)
{
    size_t lo = 0, hi = ix->asn.n;
    enum mrd_code rc;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (ix->asn.p[mid]->asn < asn)
            lo = mid + 1;
        else
            hi = mid;
    }
    e->value = NULL;
    for (; lo < ix->asn.n && ix->asn.p[lo]->asn == asn; lo++)
        if ((rc = emit(e, ix->asn.p[lo], NOTIFY_M_EXACT, asn, err)) != MRD_OK)
            return rc;
    return MRD_OK;
}

enum mrd_code notify_route_asn(const struct notify_index *ix, uint32_t asn, notify_hit_fn cb,
                               void *ctx, struct mrd_err *err)
{
    struct emit e = {.cb = cb, .ctx = ctx, .skip_org = -1};
    return route_asn(ix, &e, asn, err);
}

/* ---- whole objects ---- */

struct obj {
    const struct notify_index *ix;
    notify_hit_fn cb;
    void *ctx;
    const struct notify_asset *seen[NOTIFY_OBJECT_HITS_MAX];
    size_t n_seen;
};

/* Passes each (org, asset) pair on once. */
static enum mrd_code obj_hit(void *ctx, const struct notify_hit *h, struct mrd_err *err)
{
    struct obj *o = ctx;

    for (size_t i = 0; i < o->n_seen; i++)
        if (o->seen[i] == h->asset)
            return MRD_OK;
    if (o->n_seen == NOTIFY_OBJECT_HITS_MAX)
        return MRD_OK;
    o->seen[o->n_seen++] = h->asset;
    return o->cb(o->ctx, h, err);
}

static enum mrd_code obj_value(void *ctx, const struct store_value *v, struct mrd_err *err)
{
    struct obj *o = ctx;
    struct emit e = {.cb = obj_hit, .ctx = o, .skip_org = -1};
    return route(o->ix, &e, v, err);
}

enum mrd_code notify_route_object(const struct notify_index *ix, const char *body, size_t len,
                                  notify_hit_fn cb, void *ctx, struct mrd_err *err)
{
    struct obj *o;
    enum mrd_code rc;

    if (ix->n == 0)
        return MRD_OK;
    o = mrd_malloc(sizeof(*o));
    if (o == NULL)
        return mrd_err_set(err, MRD_E_NOMEM, "routing: out of memory");
    o->ix = ix;
    o->cb = cb;
    o->ctx = ctx;
    o->n_seen = 0;
    rc = store_values_of_object(body, len, obj_value, o, err);
    /* an autonomous-system SCO names its ASN in "number" */
    if (rc == MRD_OK && ix->asn.n > 0 && memmem(body, len, "\"autonomous-system\"", 19) != NULL) {
        struct mrd_json_limits lim = {.max_bytes = STORE_OBJECT_MAX, .max_depth = 64};
        json_t *j = NULL;
        if (mrd_json_parse(body, len, &lim, &j, NULL) == MRD_OK && json_is_object(j)) {
            const char *type = json_string_value(json_object_get(j, "type"));
            const json_t *num = json_object_get(j, "number");
            if (type != NULL && strcmp(type, "autonomous-system") == 0 && json_is_integer(num) &&
                json_integer_value(num) > 0 && json_integer_value(num) <= (json_int_t)UINT32_MAX) {
                struct emit e = {.cb = obj_hit, .ctx = o, .skip_org = -1};
                rc = route_asn(ix, &e, (uint32_t)json_integer_value(num), err);
            }
        }
        json_decref(j);
    }
    free(o);
    return rc;
}

/* ---- overlapping claims ---- */

enum mrd_code notify_overlaps(const struct notify_index *ix, const struct notify_asset *a,
                              notify_hit_fn cb, void *ctx, struct mrd_err *err)
{
    struct emit e = {.cb = cb, .ctx = ctx, .skip_org = a->org, .value = &a->v};
    const unsigned above = 1u << NOTIFY_A_DOMAIN | 1u << NOTIFY_A_EMAIL;

    switch (a->kind) {
    case NOTIFY_A_ASN:
        return route_asn(ix, &e, a->asn, err);
    case NOTIFY_A_PREFIX:
        return route_ip(ix, &e, &a->v, true, err);
    case NOTIFY_A_DOMAIN:
    case NOTIFY_A_EMAIL:
    case NOTIFY_A_HOST:
        /* a claim on a name overlaps anything declared at, above or below it */
        return route_name(ix, &e, &a->v, above, true, true, err);
    }
    return MRD_OK;
}
