/*
 * scan.c: ROV verdicts per distinct (prefix, AS path) over a stream of
 * routes, with first- and last-seen times.
 *
 * Each distinct pair is one record; its AS path is kept flattened in a
 * shared pool of 32-bit words (per segment: type << 16 | count, then the
 * ASNs) and found again through an open-addressing hash table of record
 * indexes. Records are kept in the order first seen, so output is stable.
 *
 * The verdict depends on the prefix and the origin only, and a stream
 * carries the same (prefix, origin) under many paths: verdicts are cached
 * per (prefix, origin) in a second table, bounded by BGP_SCAN_ROV_CACHE
 * (emptied when full). Unless every verdict is wanted (keep_all), only
 * Invalid pairs are recorded: the others cost one cache probe each.
 */
#include <string.h>

#include "bgp/bgp.h"
#include "bgp/bgp_int.h"
#include "core/alloc.h"
#include "core/timestamp.h"

struct rec {
    struct bgp_prefix prefix;
    uint64_t hash;
    size_t path_off, path_len; /* words in pool */
    uint32_t peer_as, first_seen, last_seen;
    uint8_t rov, reason;
};

/* One cached verdict; used is false in an empty slot. */
struct verdict {
    struct bgp_prefix prefix;
    bool used, has_origin;
    uint8_t rov, reason;
    uint32_t origin;
};

struct bgp_scan {
    const struct bgp_vrps *vrps;
    bool keep_all;
    struct verdict *cache; /* open addressing, ncache slots (a power of two) */
    size_t ncache, ncached;
    struct rec *recs;
    size_t nrecs, caprecs;
    uint32_t *pool;
    size_t npool, cappool;
    uint64_t *slots; /* hash tag << 32 | record index + 1; 0 is empty */
    size_t nslots;   /* power of two */
    uint32_t scratch[BGP__FLAT_MAX];
    struct bgp_aspath path; /* decoded path handed to bgp_scan_each's callback */
};

size_t bgp__path_flatten(const struct bgp_aspath *p, uint32_t *w)
{
    size_t n = 0;
    for (size_t i = 0; i < p->nseg; i++) {
        w[n++] = (uint32_t)p->seg[i].type << 16 | p->seg[i].count;
        memcpy(w + n, p->asn + p->seg[i].off, p->seg[i].count * sizeof(uint32_t));
        n += p->seg[i].count;
    }
    return n;
}

void bgp__path_unflatten(const uint32_t *w, size_t n, struct bgp_aspath *p)
{
    size_t i = 0;
    p->nseg = p->nasn = 0;
    while (i < n) {
        struct bgp_seg *s = &p->seg[p->nseg++];
        s->type = (uint8_t)(w[i] >> 16);
        s->count = (uint16_t)(w[i] & 0xffff);
        s->off = (uint16_t)p->nasn;
        i++;
        memcpy(p->asn + p->nasn, w + i, s->count * sizeof(uint32_t));
        p->nasn += s->count;
        i += s->count;
    }
}

uint64_t bgp__fnv(uint64_t h, const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 1099511628211ull;
    return h;
}

static uint64_t mix(uint64_t h, uint64_t v)
{
    h = (h ^ v) * 0x9E3779B97F4A7C15ull;
    return h ^ (h >> 29);
}

/* The prefix and the flattened path, a 64-bit word at a time (FNV's byte
 * at a time cost a tenth of the scan). */
static uint64_t hash_of(const struct bgp_prefix *pf, const uint32_t *w, size_t n)
{
    uint64_t a, b, h;
    size_t i = 0;
    memcpy(&a, pf->addr.bytes, 8);
    memcpy(&b, pf->addr.bytes + 8, 8);
    h = mix(mix(mix(BGP__FNV_INIT, a), b),
            (uint64_t)pf->len | (uint64_t)pf->addr.afi << 8 | (uint64_t)n << 16);
    for (; i + 1 < n; i += 2)
        h = mix(h, (uint64_t)w[i] << 32 | w[i + 1]);
    if (i < n)
        h = mix(h, w[i]);
    return h ^ (h >> 32);
}

enum mrd_code bgp_scan_new(const struct bgp_vrps *vrps, bool keep_all, struct bgp_scan **ret_scan,
                           struct mrd_err *err)
{
    struct bgp_scan *s = mrd_calloc(1, sizeof(*s));
    if (s == NULL)
        return mrd_err_set(err, MRD_E_NOMEM, "scan: out of memory");
    s->vrps = vrps;
    s->keep_all = keep_all;
    *ret_scan = s;
    return MRD_OK;
}

void bgp_scan_free(struct bgp_scan *scan)
{
    if (scan == NULL)
        return;
    mrd_free(scan->recs);
    mrd_free(scan->pool);
    mrd_free(scan->slots);
    mrd_free(scan->cache);
    mrd_free(scan);
}

static uint64_t verdict_hash(const struct bgp_prefix *pf, bool has_origin, uint32_t origin)
{
    uint64_t a, b;
    memcpy(&a, pf->addr.bytes, 8);
    memcpy(&b, pf->addr.bytes + 8, 8);
    return mix(mix(mix(BGP__FNV_INIT, a), b), (uint64_t)pf->len | (uint64_t)pf->addr.afi << 8 |
                                                  (uint64_t)has_origin << 16 |
                                                  (uint64_t)origin << 32);
}

/* Doubles the verdict cache up to BGP_SCAN_ROV_CACHE slots, then empties
 * it instead (the verdicts are recomputed as needed). */
static enum mrd_code grow_cache(struct bgp_scan *s, struct mrd_err *err)
{
    size_t n = s->ncache == 0 ? 4096 : s->ncache * 2;
    struct verdict *c;

    if (n > BGP_SCAN_ROV_CACHE) {
        memset(s->cache, 0, s->ncache * sizeof(*s->cache));
        s->ncached = 0;
        return MRD_OK;
    }
    c = mrd_calloc(n, sizeof(*c));
    if (c == NULL)
        return mrd_err_set(err, MRD_E_NOMEM, "scan: out of memory");
    for (size_t i = 0; i < s->ncache; i++) {
        const struct verdict *v = &s->cache[i];
        size_t j;
        if (!v->used)
            continue;
        for (j = verdict_hash(&v->prefix, v->has_origin, v->origin) & (n - 1); c[j].used;
             j = (j + 1) & (n - 1))
            ;
        c[j] = *v;
    }
    mrd_free(s->cache);
    s->cache = c;
    s->ncache = n;
    return MRD_OK;
}

void bgp_scan_prefetch(const struct bgp_scan *s, const struct bgp_route *r)
{
    uint32_t origin = 0;
    bool has_origin;

    if ((r->kind != BGP_ROUTE_RIB && r->kind != BGP_ROUTE_ANNOUNCE) || r->attrs == NULL ||
        s->ncache == 0)
        return;
    has_origin = bgp_aspath_origin(&r->attrs->path, &origin);
    __builtin_prefetch(&s->cache[verdict_hash(&r->prefix, has_origin, origin) & (s->ncache - 1)]);
}

/* bgp_rov_validate through the cache. */
static enum mrd_code validate(struct bgp_scan *s, const struct bgp_route *r, enum bgp_rov *ret_rov,
                              enum bgp_rov_reason *ret_reason, struct mrd_err *err)
{
    uint32_t origin = 0;
    bool has_origin = bgp_aspath_origin(&r->attrs->path, &origin);
    uint64_t h = verdict_hash(&r->prefix, has_origin, origin);
    struct verdict *v;
    size_t j;

    if (s->ncache == 0 || (s->ncached + 1) * 2 > s->ncache) {
        enum mrd_code rc = grow_cache(s, err);
        if (rc != MRD_OK)
            return rc;
    }
    for (j = h & (s->ncache - 1); s->cache[j].used; j = (j + 1) & (s->ncache - 1)) {
        v = &s->cache[j];
        if (v->origin == origin && v->has_origin == has_origin &&
            memcmp(&v->prefix, &r->prefix, sizeof(r->prefix)) == 0) {
            *ret_rov = (enum bgp_rov)v->rov;
            *ret_reason = (enum bgp_rov_reason)v->reason;
            return MRD_OK;
        }
    }
    *ret_rov = bgp_rov_validate(s->vrps, &r->prefix, &r->attrs->path, ret_reason);
    v = &s->cache[j];
    v->prefix = r->prefix;
    v->used = true;
    v->has_origin = has_origin;
    v->origin = origin;
    v->rov = (uint8_t)*ret_rov;
    v->reason = (uint8_t)*ret_reason;
    s->ncached++;
    return MRD_OK;
}

static uint64_t slot_of(uint64_t hash, size_t index)
{
    return (hash >> 32) << 32 | (uint64_t)(index + 1);
}

static enum mrd_code grow_slots(struct bgp_scan *s, struct mrd_err *err)
{
    size_t n = s->nslots == 0 ? 4096 : s->nslots * 2;
    uint64_t *slots = mrd_calloc(n, sizeof(*slots));
    if (slots == NULL)
        return mrd_err_set(err, MRD_E_NOMEM, "scan: out of memory");
    for (size_t i = 0; i < s->nrecs; i++) {
        size_t j = s->recs[i].hash & (n - 1);
        while (slots[j] != 0)
            j = (j + 1) & (n - 1);
        slots[j] = slot_of(s->recs[i].hash, i);
    }
    mrd_free(s->slots);
    s->slots = slots;
    s->nslots = n;
    return MRD_OK;
}

enum mrd_code bgp_scan_route(struct bgp_scan *s, const struct bgp_route *r, struct mrd_err *err)
{
    size_t n, j;
    uint64_t h;
    struct rec *rec;
    enum bgp_rov rov;
    enum bgp_rov_reason reason;
    enum mrd_code rc;

    if ((r->kind != BGP_ROUTE_RIB && r->kind != BGP_ROUTE_ANNOUNCE) || r->attrs == NULL)
        return MRD_OK;
    rc = validate(s, r, &rov, &reason, err);
    if (rc != MRD_OK || (!s->keep_all && rov != BGP_ROV_INVALID))
        return rc;
    n = bgp__path_flatten(&r->attrs->path, s->scratch);
    h = hash_of(&r->prefix, s->scratch, n);
    if (s->nslots == 0 || (s->nrecs + 1) * 2 > s->nslots) {
        rc = grow_slots(s, err);
        if (rc != MRD_OK)
            return rc;
    }
    for (j = h & (s->nslots - 1); s->slots[j] != 0; j = (j + 1) & (s->nslots - 1)) {
        /* The tag rules out most other records without reading them (a
         * cache miss each in a table of millions). */
        if (s->slots[j] >> 32 != h >> 32)
            continue;
        rec = &s->recs[(uint32_t)s->slots[j] - 1];
        if (rec->hash == h && rec->path_len == n &&
            memcmp(&rec->prefix, &r->prefix, sizeof(r->prefix)) == 0 &&
            (n == 0 || memcmp(s->pool + rec->path_off, s->scratch, n * sizeof(uint32_t)) == 0)) {
            if (r->time < rec->first_seen)
                rec->first_seen = r->time;
            if (r->time > rec->last_seen)
                rec->last_seen = r->time;
            return MRD_OK;
        }
    }
    if (s->nrecs >= BGP_MAX_SCAN_ROUTES)
        return mrd_err_set(err, MRD_E_TOOBIG, "scan: more than %zu distinct routes",
                           BGP_MAX_SCAN_ROUTES);
    if (mrd_array_grow(&s->recs, s->nrecs, &s->caprecs, sizeof(*s->recs), 1024) != MRD_OK)
        return mrd_err_set(err, MRD_E_NOMEM, "scan: out of memory");
    while (s->npool + n > s->cappool) {
        if (mrd_array_grow(&s->pool, s->cappool, &s->cappool, sizeof(*s->pool), 4096) != MRD_OK)
            return mrd_err_set(err, MRD_E_NOMEM, "scan: out of memory");
    }
    if (n > 0) /* an empty pool may still be NULL */
        memcpy(s->pool + s->npool, s->scratch, n * sizeof(uint32_t));
    rec = &s->recs[s->nrecs];
    memset(rec, 0, sizeof(*rec));
    rec->prefix = r->prefix;
    rec->hash = h;
    rec->path_off = s->npool;
    rec->path_len = n;
    rec->peer_as = r->peer_as;
    rec->first_seen = rec->last_seen = r->time;
    rec->rov = (uint8_t)rov;
    rec->reason = (uint8_t)reason;
    s->npool += n;
    s->nrecs++;
    s->slots[j] = slot_of(h, s->nrecs - 1);
    return MRD_OK;
}

void bgp_scan_each(struct bgp_scan *s, void (*fn)(const struct bgp_rov_event *ev, void *ctx),
                   void *ctx)
{
    for (size_t i = 0; i < s->nrecs; i++) {
        const struct rec *r = &s->recs[i];
        struct bgp_rov_event ev = {
            .prefix = r->prefix,
            .path = &s->path,
            .peer_as = r->peer_as,
            .first_seen = r->first_seen,
            .last_seen = r->last_seen,
            .rov = (enum bgp_rov)r->rov,
            .reason = (enum bgp_rov_reason)r->reason,
        };
        bgp__path_unflatten(r->path_len > 0 ? s->pool + r->path_off : s->scratch, r->path_len,
                            &s->path);
        fn(&ev, ctx);
    }
}

json_t *bgp_aspath_json(const struct bgp_aspath *p)
{
    json_t *path = json_array();
    for (size_t i = 0; path != NULL && i < p->nseg; i++) {
        const struct bgp_seg *sg = &p->seg[i];
        json_t *dst = path;
        if (sg->type == BGP_SEG_SET || sg->type == BGP_SEG_CONFED_SET) {
            dst = json_array();
            if (dst == NULL || json_array_append_new(path, dst) != 0) {
                json_decref(path);
                return NULL;
            }
        }
        for (size_t k = 0; k < sg->count; k++) {
            if (json_array_append_new(dst, json_integer(p->asn[sg->off + k])) != 0) {
                json_decref(path);
                return NULL;
            }
        }
    }
    return path;
}

enum mrd_code bgp_rov_event_json(const struct bgp_rov_event *ev, json_t **ret_json,
                                 struct mrd_err *err)
{
    struct mrd_buf b;
    char first[MRD_TIME_STIX_MS_LEN + 1], last[MRD_TIME_STIX_MS_LEN + 1];
    json_t *j = NULL, *path = NULL;
    enum mrd_code rc;
    uint32_t origin;

    mrd_buf_init(&b, 64);
    rc = bgp_prefix_format(&ev->prefix, &b, err);
    if (rc == MRD_OK)
        rc = mrd_buf_putc(&b, '\0', err);
    if (rc != MRD_OK)
        goto out;
    path = bgp_aspath_json(ev->path);
    mrd_time_format_stix_ms((int64_t)ev->first_seen * 1000000, first);
    mrd_time_format_stix_ms((int64_t)ev->last_seen * 1000000, last);
    j = json_pack("{s:s, s:s, s:O, s:I, s:s, s:s, s:s, s:s}", "kind", "rov", "prefix", b.data,
                  "as_path", path, "peer_as", (json_int_t)ev->peer_as, "first_seen", first,
                  "last_seen", last, "rov", bgp_rov_name(ev->rov), "reason",
                  bgp_rov_reason_name(ev->reason));
    if (j != NULL && bgp_aspath_origin(ev->path, &origin))
        (void)json_object_set_new(j, "origin_as", json_integer(origin));
    if (j == NULL) {
        rc = mrd_err_set(err, MRD_E_NOMEM, "scan: out of memory");
        goto out;
    }
    *ret_json = j;
out:
    json_decref(path);
    mrd_buf_release(&b);
    return rc;
}
