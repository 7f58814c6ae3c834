/*
 * vrp.c: VRP sets (rpki-client JSON/CSV, Routinator JSON) and route-origin
 * validation per RFC 6811 §2.
 *
 * Index: per address family, the VRPs sorted by (prefix, length, ASN).
 * A route P/len is covered by a VRP Q/l when l <= len and P masked to l is
 * Q, so validation looks up P masked to each length l that occurs in the
 * set (a bitmap per family), one binary search each: at most 33 (IPv4) or
 * 129 (IPv6) searches, typically about 20.
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "bgp/bgp.h"
#include "core/alloc.h"
#include "core/json.h"
#include "core/str.h"

#define VRP_MAX_LINE 1024 /* one CSV line */

struct entry {
    uint64_t hi, lo; /* address, IPv4 in the top 32 bits of hi */
    uint32_t asn;
    uint8_t len, max_len;
};

struct family {
    struct entry *v;
    size_t n, cap;
    uint8_t lens[129]; /* lens[l] != 0: some VRP has prefix length l */
};

struct bgp_vrps {
    struct family fam[2]; /* IPv4, IPv6 */
    _Atomic unsigned refs;
};

static void to_key(const struct bgp_addr *a, uint64_t *hi, uint64_t *lo)
{
    uint64_t h = 0, l = 0;
    for (int i = 0; i < 8; i++)
        h = h << 8 | a->bytes[i];
    for (int i = 8; i < 16; i++)
        l = l << 8 | a->bytes[i];
    if (a->afi == BGP_AFI_IPV4) {
        h &= 0xFFFFFFFF00000000ull;
        l = 0;
    }
    *hi = h;
    *lo = l;
}

static void mask(uint64_t *hi, uint64_t *lo, unsigned len)
{
    if (len == 0) {
        *hi = *lo = 0;
    } else if (len < 64) {
        *hi &= ~0ull << (64 - len);
        *lo = 0;
    } else if (len == 64) {
        *lo = 0;
    } else if (len < 128) {
        *lo &= ~0ull << (128 - len);
    }
}

enum mrd_code bgp_vrps_new(struct bgp_vrps **ret_vrps, struct mrd_err *err)
{
    struct bgp_vrps *v = mrd_calloc(1, sizeof(*v));
    if (v == NULL)
        return mrd_err_set(err, MRD_E_NOMEM, "vrp: out of memory");
    atomic_init(&v->refs, 1);
    *ret_vrps = v;
    return MRD_OK;
}

struct bgp_vrps *bgp_vrps_hold(struct bgp_vrps *vrps)
{
    atomic_fetch_add(&vrps->refs, 1);
    return vrps;
}

void bgp_vrps_free(struct bgp_vrps *vrps)
{
    if (vrps == NULL || atomic_fetch_sub(&vrps->refs, 1) != 1)
        return;
    mrd_free(vrps->fam[0].v);
    mrd_free(vrps->fam[1].v);
    mrd_free(vrps);
}

size_t bgp_vrps_count(const struct bgp_vrps *vrps)
{
    return vrps->fam[0].n + vrps->fam[1].n;
}

enum mrd_code bgp_vrps_add(struct bgp_vrps *vrps, const struct bgp_vrp *vrp, int64_t now,
                           struct mrd_err *err)
{
    unsigned width = vrp->prefix.addr.afi == BGP_AFI_IPV6 ? 128 : 32;
    struct family *f = &vrps->fam[vrp->prefix.addr.afi == BGP_AFI_IPV6];
    struct entry *e;

    if (vrp->max_len < vrp->prefix.len || vrp->max_len > width)
        return mrd_err_set(err, MRD_E_PARSE,
                           "vrp: maxLength %u outside prefix length %u..%u (RFC 6482 §3.3)",
                           vrp->max_len, vrp->prefix.len, width);
    if (vrp->expires != 0 && vrp->expires < now)
        return MRD_OK;
    if (bgp_vrps_count(vrps) >= BGP_MAX_VRPS)
        return mrd_err_set(err, MRD_E_TOOBIG, "vrp: more than %zu VRPs", BGP_MAX_VRPS);
    if (mrd_array_grow(&f->v, f->n, &f->cap, sizeof(*f->v), 1024) != MRD_OK)
        return mrd_err_set(err, MRD_E_NOMEM, "vrp: out of memory");
    e = &f->v[f->n++];
    to_key(&vrp->prefix.addr, &e->hi, &e->lo);
    e->len = vrp->prefix.len;
    e->max_len = vrp->max_len;
    e->asn = vrp->asn;
    f->lens[e->len] = 1;
    return MRD_OK;
}

static int cmp_entry(const void *pa, const void *pb)
{
    const struct entry *a = pa, *b = pb;
    if (a->hi != b->hi)
        return a->hi < b->hi ? -1 : 1;
    if (a->lo != b->lo)
        return a->lo < b->lo ? -1 : 1;
    if (a->len != b->len)
        return a->len < b->len ? -1 : 1;
    return a->asn < b->asn ? -1 : a->asn > b->asn;
}

void bgp_vrps_finish(struct bgp_vrps *vrps)
{
    for (int i = 0; i < 2; i++) {
        if (vrps->fam[i].n > 0)
            qsort(vrps->fam[i].v, vrps->fam[i].n, sizeof(struct entry), cmp_entry);
    }
}

void bgp_vrps_each(const struct bgp_vrps *vrps, void (*fn)(const struct bgp_vrp *vrp, void *ctx),
                   void *ctx)
{
    for (int f = 0; f < 2; f++) {
        for (size_t i = 0; i < vrps->fam[f].n; i++) {
            const struct entry *e = &vrps->fam[f].v[i];
            struct bgp_vrp v;
            memset(&v, 0, sizeof(v));
            v.prefix.addr.afi = f == 0 ? BGP_AFI_IPV4 : BGP_AFI_IPV6;
            for (int k = 0; k < 8; k++) {
                v.prefix.addr.bytes[k] = (uint8_t)(e->hi >> (56 - 8 * k));
                v.prefix.addr.bytes[8 + k] = (uint8_t)(e->lo >> (56 - 8 * k));
            }
            v.prefix.len = e->len;
            v.max_len = e->max_len;
            v.asn = e->asn;
            fn(&v, ctx);
        }
    }
}

/* ---- parsing ---- */

static enum mrd_code add_parsed(struct bgp_vrps *vrps, const char *prefix, size_t plen,
                                uint64_t asn, uint64_t max_len, int64_t expires, int64_t now,
                                const char *where, struct mrd_err *err)
{
    struct bgp_vrp v;
    enum mrd_code rc = bgp_prefix_parse(prefix, plen, &v.prefix, err);

    if (rc == MRD_OK && (asn > UINT32_MAX || max_len > 128))
        rc = mrd_err_set(err, MRD_E_PARSE, "vrp: ASN or maxLength out of range");
    if (rc == MRD_OK) {
        v.asn = (uint32_t)asn;
        v.max_len = (uint8_t)max_len;
        v.expires = expires;
        rc = bgp_vrps_add(vrps, &v, now, err);
    }
    if (rc != MRD_OK && where != NULL)
        mrd_err_prefix(err, "%s", where);
    return rc;
}

/* "AS65000", "65000" or a JSON integer. */
static bool asn_of(const char *s, size_t n, uint64_t *ret)
{
    if (n > 2 && (s[0] == 'A' || s[0] == 'a') && (s[1] == 'S' || s[1] == 's')) {
        s += 2;
        n -= 2;
    }
    return mrd_str_to_u64(s, n, UINT32_MAX, ret, NULL) == MRD_OK;
}

static enum mrd_code parse_json(struct bgp_vrps *vrps, const char *buf, size_t len, int64_t now,
                                struct mrd_err *err)
{
    json_t *doc = NULL, *roas, *roa;
    size_t i;
    enum mrd_code rc = mrd_json_parse(buf, len, NULL, &doc, err);

    if (rc != MRD_OK)
        goto out;
    roas = json_object_get(doc, "roas");
    if (!json_is_array(roas)) {
        rc = mrd_err_set(err, MRD_E_PARSE, "vrp: JSON has no \"roas\" array");
        goto out;
    }
    json_array_foreach(roas, i, roa)
    {
        json_t *ja = json_object_get(roa, "asn"), *jp = json_object_get(roa, "prefix");
        json_t *jm = json_object_get(roa, "maxLength"), *je = json_object_get(roa, "expires");
        char where[64];
        uint64_t asn = 0;
        bool ok_asn =
            json_is_integer(ja)
                ? json_integer_value(ja) >= 0 && (asn = (uint64_t)json_integer_value(ja), true)
                : json_is_string(ja) && asn_of(json_string_value(ja), json_string_length(ja), &asn);
        snprintf(where, sizeof(where), "vrp: roas[%zu]", i);
        if (!ok_asn || !json_is_string(jp) || !json_is_integer(jm) || json_integer_value(jm) < 0 ||
            (je != NULL && !json_is_integer(je))) {
            rc = mrd_err_set(err, MRD_E_PARSE,
                             "%s: needs asn, prefix (string) and maxLength (integer)", where);
            goto out;
        }
        rc = add_parsed(vrps, json_string_value(jp), json_string_length(jp), asn,
                        (uint64_t)json_integer_value(jm), je ? json_integer_value(je) : 0, now,
                        where, err);
        if (rc != MRD_OK)
            goto out;
    }
out:
    json_decref(doc);
    return rc;
}

/* Splits line at commas into at most max fields. */
static size_t split(const char *s, size_t n, const char **f, size_t *fl, size_t max)
{
    size_t k = 0, start = 0;
    for (size_t i = 0; i <= n && k < max; i++) {
        if (i == n || s[i] == ',') {
            f[k] = s + start;
            fl[k] = i - start;
            k++;
            start = i + 1;
        }
    }
    return k;
}

static enum mrd_code parse_csv(struct bgp_vrps *vrps, const char *buf, size_t len, int64_t now,
                               struct mrd_err *err)
{
    size_t off = 0, line = 0;
    while (off < len) {
        const char *nl = memchr(buf + off, '\n', len - off);
        size_t n = nl ? (size_t)(nl - (buf + off)) : len - off;
        const char *s = buf + off, *f[6];
        size_t fl[6], nf;
        uint64_t asn, max_len, expires = 0;
        enum mrd_code rc;

        off += n + 1;
        line++;
        if (n > 0 && s[n - 1] == '\r')
            n--;
        if (n == 0 || (line == 1 && mrd_str_has_prefix(s, n, "ASN")))
            continue;
        if (n > VRP_MAX_LINE)
            return mrd_err_set(err, MRD_E_TOOBIG, "vrp: line %zu: longer than %d bytes", line,
                               VRP_MAX_LINE);
        nf = split(s, n, f, fl, 6);
        if (nf < 3 || !asn_of(f[0], fl[0], &asn) ||
            mrd_str_to_u64(f[2], fl[2], 128, &max_len, NULL) != MRD_OK ||
            (nf >= 5 && fl[4] > 0 &&
             mrd_str_to_u64(f[4], fl[4], INT64_MAX, &expires, NULL) != MRD_OK))
            return mrd_err_set(err, MRD_E_PARSE,
                               "vrp: line %zu: expected ASN,IP Prefix,Max Length[,Trust "
                               "Anchor[,Expires]]",
                               line);
        /* The line number is formatted only for an error (half a million
         * lines in a full set). */
        rc = add_parsed(vrps, f[1], fl[1], asn, max_len, (int64_t)expires, now, NULL, err);
        if (rc != MRD_OK) {
            mrd_err_prefix(err, "vrp: line %zu", line);
            return rc;
        }
    }
    return MRD_OK;
}

enum mrd_code bgp_vrps_parse(struct bgp_vrps *vrps, const char *buf, size_t len, int64_t now,
                             struct mrd_err *err)
{
    size_t i = 0;
    while (i < len && (buf[i] == ' ' || buf[i] == '\t' || buf[i] == '\r' || buf[i] == '\n'))
        i++;
    if (i < len && buf[i] == '{')
        return parse_json(vrps, buf, len, now, err);
    return parse_csv(vrps, buf, len, now, err);
}

/* ---- validation ---- */

bool bgp_aspath_origin(const struct bgp_aspath *path, uint32_t *ret_asn)
{
    const struct bgp_seg *last;
    if (path->nseg == 0)
        return false;
    last = &path->seg[path->nseg - 1];
    if (last->type != BGP_SEG_SEQUENCE || last->count == 0)
        return false;
    *ret_asn = path->asn[last->off + last->count - 1];
    return true;
}

/* First entry with key >= (hi, lo, len). */
static size_t lower_bound(const struct family *f, uint64_t hi, uint64_t lo, uint8_t len)
{
    size_t a = 0, b = f->n;
    while (a < b) {
        size_t m = a + (b - a) / 2;
        const struct entry *e = &f->v[m];
        bool less = e->hi != hi ? e->hi < hi : e->lo != lo ? e->lo < lo : e->len < len;
        if (less)
            a = m + 1;
        else
            b = m;
    }
    return a;
}

enum bgp_rov bgp_rov_validate(const struct bgp_vrps *vrps, const struct bgp_prefix *prefix,
                              const struct bgp_aspath *path, enum bgp_rov_reason *ret_reason)
{
    const struct family *f = &vrps->fam[prefix->addr.afi == BGP_AFI_IPV6];
    uint64_t hi, lo;
    uint32_t origin = 0;
    bool has_origin = bgp_aspath_origin(path, &origin);
    bool covered = false, only_as0 = true, origin_seen = false;

    to_key(&prefix->addr, &hi, &lo);
    for (unsigned l = 0; l <= prefix->len; l++) {
        uint64_t mh = hi, ml = lo;
        if (!f->lens[l])
            continue;
        mask(&mh, &ml, l);
        for (size_t i = lower_bound(f, mh, ml, (uint8_t)l);
             i < f->n && f->v[i].hi == mh && f->v[i].lo == ml && f->v[i].len == l; i++) {
            const struct entry *e = &f->v[i];
            covered = true;
            /* RFC 6811 §2: a VRP matches when its ASN equals the origin
             * (never for origin NONE; AS0 never equals a real origin, RFC
             * 7607) and the route is no longer than maxLength. */
            if (e->asn != 0)
                only_as0 = false;
            if (!has_origin || e->asn == 0 || e->asn != origin)
                continue;
            origin_seen = true;
            if (prefix->len <= e->max_len) {
                *ret_reason = BGP_ROV_R_MATCH;
                return BGP_ROV_VALID;
            }
        }
    }
    if (!covered)
        *ret_reason = BGP_ROV_R_NOT_COVERED;
    else if (!has_origin)
        *ret_reason = BGP_ROV_R_ORIGIN_NONE;
    else if (origin_seen)
        *ret_reason = BGP_ROV_R_TOO_SPECIFIC;
    else if (only_as0)
        *ret_reason = BGP_ROV_R_AS0;
    else
        *ret_reason = BGP_ROV_R_WRONG_ORIGIN;
    return covered ? BGP_ROV_INVALID : BGP_ROV_NOT_FOUND;
}

const char *bgp_rov_name(enum bgp_rov rov)
{
    switch (rov) {
    case BGP_ROV_VALID:
        return "valid";
    case BGP_ROV_INVALID:
        return "invalid";
    case BGP_ROV_NOT_FOUND:
        break;
    }
    return "not-found";
}

const char *bgp_rov_reason_name(enum bgp_rov_reason r)
{
    static const char *const names[] = {"not-covered",  "match",       "wrong-origin",
                                        "too-specific", "origin-none", "as0"};
    return (size_t)r < sizeof(names) / sizeof(names[0]) ? names[r] : "unknown";
}
