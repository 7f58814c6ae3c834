/*
 * rib.c: a routing view (bgp.h, "routing view"): every route of every
 * peer, by prefix, for longest-match lookups of an address: its origin
 * ASNs and whether the prefix holding it is routed now or was withdrawn.
 *
 * Two chained hash tables over index arrays: prefixes (a prefix whose last
 * route goes stays, withdrawn, with the time and the origin of that last
 * route, for BGP_RIB_WITHDRAWN_KEEP seconds) and routes ((peer, prefix,
 * path id) -> the route's origin; removed ones go on a free list). The
 * routes of one prefix are linked through pnext, so its origins are read
 * without a scan. Prefixes withdrawn longer than that are dropped when the
 * prefix array has doubled since the last such sweep (prune), so years of
 * churn cost the prefixes routed now plus the recent withdrawals, not
 * every prefix ever seen.
 */
#include <string.h>

#include "bgp/bgp.h"
#include "bgp/bgp_int.h"
#include "core/alloc.h"

#define NIL UINT32_MAX
#define BGP_STATE_ESTABLISHED 6

struct rpfx {
    struct bgp_prefix prefix;
    uint32_t hnext;   /* next prefix in the hash chain */
    uint32_t head;    /* first route carrying it, NIL: none (withdrawn) */
    uint32_t nroutes; /* routes carrying it now */
    uint32_t since;   /* when it became routed (its first route after none) */
    uint32_t gone_at; /* nroutes 0: when its last route went */
    uint32_t last_origin;
    bool has_last_origin;
};

struct rroute {
    struct bgp_addr peer;
    uint32_t peer_as, path_id;
    uint32_t pfx;          /* index in prefixes; NIL: free */
    uint32_t hnext, pnext; /* hash chain; the prefix's list (or the free list) */
    uint32_t origin;
    bool has_origin; /* a path ending in an AS_SET has none (RFC 6811 §2) */
};

struct bgp_rib {
    struct rpfx *p;
    size_t np, capp;
    uint32_t *pbucket;
    size_t npbucket;
    struct rroute *r;
    size_t nr, capr;
    uint32_t *rbucket;
    size_t nrbucket;
    uint32_t free_r; /* first free route slot */
    size_t live;     /* routes held now */
    size_t prune_at; /* sweep withdrawn prefixes when np reaches this */
};

enum mrd_code bgp_rib_new(struct bgp_rib **ret_rib, struct mrd_err *err)
{
    struct bgp_rib *rib = mrd_calloc(1, sizeof(*rib));
    if (rib == NULL)
        return mrd_err_set(err, MRD_E_NOMEM, "rib: out of memory");
    rib->free_r = NIL;
    rib->prune_at = BGP_RIB_PRUNE_MIN;
    *ret_rib = rib;
    return MRD_OK;
}

void bgp_rib_free(struct bgp_rib *rib)
{
    if (rib == NULL)
        return;
    mrd_free(rib->p);
    mrd_free(rib->pbucket);
    mrd_free(rib->r);
    mrd_free(rib->rbucket);
    mrd_free(rib);
}

size_t bgp_rib_count(const struct bgp_rib *rib)
{
    return rib != NULL ? rib->live : 0;
}

static uint64_t prefix_hash(const struct bgp_prefix *p)
{
    uint64_t h = bgp__fnv(BGP__FNV_INIT, &p->addr.afi, 1);
    h = bgp__fnv(h, p->addr.bytes, sizeof(p->addr.bytes));
    return bgp__fnv(h, &p->len, 1);
}

static bool prefix_eq(const struct bgp_prefix *a, const struct bgp_prefix *b)
{
    return a->addr.afi == b->addr.afi && a->len == b->len &&
           memcmp(a->addr.bytes, b->addr.bytes, sizeof(a->addr.bytes)) == 0;
}

static uint64_t route_hash(const struct bgp_route *r)
{
    uint64_t h = prefix_hash(&r->prefix);
    h = bgp__fnv(h, &r->peer_ip.afi, 1);
    h = bgp__fnv(h, r->peer_ip.bytes, sizeof(r->peer_ip.bytes));
    h = bgp__fnv(h, &r->peer_as, sizeof(r->peer_as));
    return bgp__fnv(h, &r->path_id, sizeof(r->path_id));
}

/* Doubles a bucket array and rehashes: next(i) is an element's chain
 * link, hash(i) its hash. */
static enum mrd_code rehash(uint32_t **buckets, size_t *nbuckets, size_t n,
                            uint32_t *(*link)(struct bgp_rib *, size_t),
                            uint64_t (*hash)(const struct bgp_rib *, size_t), struct bgp_rib *rib,
                            struct mrd_err *err)
{
    size_t nb = *nbuckets == 0 ? 1024 : *nbuckets * 2;
    uint32_t *b = mrd_malloc(nb * sizeof(*b));

    if (b == NULL)
        return mrd_err_set(err, MRD_E_NOMEM, "rib: out of memory");
    for (size_t i = 0; i < nb; i++)
        b[i] = NIL;
    for (size_t i = 0; i < n; i++) {
        uint32_t *next = link(rib, i);
        size_t slot;
        if (next == NULL)
            continue; /* a free route slot */
        slot = hash(rib, i) & (nb - 1);
        *next = b[slot];
        b[slot] = (uint32_t)i;
    }
    mrd_free(*buckets);
    *buckets = b;
    *nbuckets = nb;
    return MRD_OK;
}

static uint32_t *pfx_link(struct bgp_rib *rib, size_t i)
{
    return &rib->p[i].hnext;
}

static uint64_t pfx_hash_at(const struct bgp_rib *rib, size_t i)
{
    return prefix_hash(&rib->p[i].prefix);
}

static uint32_t *route_link(struct bgp_rib *rib, size_t i)
{
    return rib->r[i].pfx == NIL ? NULL : &rib->r[i].hnext;
}

static uint64_t route_hash_at(const struct bgp_rib *rib, size_t i)
{
    const struct rroute *x = &rib->r[i];
    struct bgp_route r;
    memset(&r, 0, sizeof(r));
    r.prefix = rib->p[x->pfx].prefix;
    r.peer_ip = x->peer;
    r.peer_as = x->peer_as;
    r.path_id = x->path_id;
    return route_hash(&r);
}

static uint32_t pfx_find(const struct bgp_rib *rib, const struct bgp_prefix *p)
{
    if (rib->npbucket == 0)
        return NIL;
    for (uint32_t i = rib->pbucket[prefix_hash(p) & (rib->npbucket - 1)]; i != NIL;
         i = rib->p[i].hnext)
        if (prefix_eq(&rib->p[i].prefix, p))
            return i;
    return NIL;
}

/* Drops the prefixes withdrawn BGP_RIB_WITHDRAWN_KEEP seconds or more
 * before now: the kept ones move down, their routes follow them and the
 * prefix chains are rebuilt in the same buckets. The next sweep comes when
 * the array has doubled again, so the cost per added prefix is constant. */
static void prune(struct bgp_rib *rib, uint32_t now)
{
    uint32_t *map;
    size_t n = 0;

    rib->prune_at = rib->np * 2 > BGP_RIB_PRUNE_MIN ? rib->np * 2 : BGP_RIB_PRUNE_MIN;
    if (now < BGP_RIB_WITHDRAWN_KEEP || (map = mrd_malloc(rib->np * sizeof(*map))) == NULL)
        return; /* out of memory: keep them, nothing is lost */
    for (size_t i = 0; i < rib->np; i++) {
        const struct rpfx *x = &rib->p[i];
        if (x->nroutes == 0 && x->gone_at <= now - BGP_RIB_WITHDRAWN_KEEP) {
            map[i] = NIL;
            continue;
        }
        map[i] = (uint32_t)n;
        rib->p[n++] = *x;
    }
    if (n < rib->np) {
        for (size_t k = 0; k < rib->nr; k++)
            if (rib->r[k].pfx != NIL)
                rib->r[k].pfx = map[rib->r[k].pfx];
        rib->np = n;
        for (size_t b = 0; b < rib->npbucket; b++)
            rib->pbucket[b] = NIL;
        for (size_t i = 0; i < n; i++) {
            size_t slot = prefix_hash(&rib->p[i].prefix) & (rib->npbucket - 1);
            rib->p[i].hnext = rib->pbucket[slot];
            rib->pbucket[slot] = (uint32_t)i;
        }
        rib->prune_at = n * 2 > BGP_RIB_PRUNE_MIN ? n * 2 : BGP_RIB_PRUNE_MIN;
    }
    mrd_free(map);
}

static enum mrd_code pfx_add(struct bgp_rib *rib, const struct bgp_prefix *p, uint32_t now,
                             uint32_t *ret, struct mrd_err *err)
{
    size_t slot;
    enum mrd_code rc;

    *ret = pfx_find(rib, p);
    if (*ret != NIL)
        return MRD_OK;
    if (rib->np >= rib->prune_at || rib->np >= BGP_RIB_MAX_PREFIXES)
        prune(rib, now);
    if (rib->np >= BGP_RIB_MAX_PREFIXES)
        return mrd_err_set(err, MRD_E_TOOBIG, "rib: more than %zu prefixes",
                           (size_t)BGP_RIB_MAX_PREFIXES);
    if (mrd_array_grow(&rib->p, rib->np, &rib->capp, sizeof(*rib->p), 1024) != MRD_OK)
        return mrd_err_set(err, MRD_E_NOMEM, "rib: out of memory");
    memset(&rib->p[rib->np], 0, sizeof(rib->p[0]));
    rib->p[rib->np].prefix = *p;
    rib->p[rib->np].head = NIL;
    rib->np++;
    if (rib->np > rib->npbucket) {
        rc = rehash(&rib->pbucket, &rib->npbucket, rib->np, pfx_link, pfx_hash_at, rib, err);
        if (rc != MRD_OK) {
            rib->np--;
            return rc;
        }
    } else {
        slot = prefix_hash(p) & (rib->npbucket - 1);
        rib->p[rib->np - 1].hnext = rib->pbucket[slot];
        rib->pbucket[slot] = (uint32_t)(rib->np - 1);
    }
    *ret = (uint32_t)(rib->np - 1);
    return MRD_OK;
}

static bool route_is(const struct rroute *x, uint32_t pfx, const struct bgp_route *r)
{
    return x->pfx == pfx && x->peer_as == r->peer_as && x->path_id == r->path_id &&
           x->peer.afi == r->peer_ip.afi &&
           memcmp(x->peer.bytes, r->peer_ip.bytes, sizeof(x->peer.bytes)) == 0;
}

/* The route slot of r (whose prefix is pfx), NIL when absent. */
static uint32_t route_find(const struct bgp_rib *rib, uint32_t pfx, const struct bgp_route *r)
{
    if (rib->nrbucket == 0)
        return NIL;
    for (uint32_t i = rib->rbucket[route_hash(r) & (rib->nrbucket - 1)]; i != NIL;
         i = rib->r[i].hnext)
        if (route_is(&rib->r[i], pfx, r))
            return i;
    return NIL;
}

/* Unlinks route i from its hash chain and its prefix's list and frees it. */
static void route_drop(struct bgp_rib *rib, uint32_t i, uint32_t now)
{
    struct rroute *x = &rib->r[i];
    struct rpfx *p = &rib->p[x->pfx];
    uint32_t *at;
    struct bgp_route key;

    memset(&key, 0, sizeof(key));
    key.prefix = p->prefix;
    key.peer_ip = x->peer;
    key.peer_as = x->peer_as;
    key.path_id = x->path_id;
    for (at = &rib->rbucket[route_hash(&key) & (rib->nrbucket - 1)]; *at != i;
         at = &rib->r[*at].hnext)
        ;
    *at = x->hnext;
    for (at = &p->head; *at != i; at = &rib->r[*at].pnext)
        ;
    *at = x->pnext;
    if (--p->nroutes == 0) {
        p->gone_at = now;
        p->last_origin = x->origin;
        p->has_last_origin = x->has_origin;
    }
    x->pfx = NIL;
    x->pnext = rib->free_r;
    rib->free_r = i;
    rib->live--;
}

static void set_origin(struct rroute *x, const struct bgp_route *r)
{
    x->has_origin = r->attrs != NULL && bgp_aspath_origin(&r->attrs->path, &x->origin);
    if (!x->has_origin)
        x->origin = 0;
}

static enum mrd_code announce(struct bgp_rib *rib, const struct bgp_route *r, struct mrd_err *err)
{
    uint32_t pfx, i;
    struct rroute *x;
    size_t slot;
    enum mrd_code rc = pfx_add(rib, &r->prefix, r->time, &pfx, err);

    if (rc != MRD_OK)
        return rc;
    i = route_find(rib, pfx, r);
    if (i != NIL) { /* replaced: only its origin may change */
        set_origin(&rib->r[i], r);
        return MRD_OK;
    }
    if (rib->live >= BGP_MAX_TRACKED)
        return mrd_err_set(err, MRD_E_TOOBIG, "rib: more than %zu routes", BGP_MAX_TRACKED);
    if (rib->free_r != NIL) {
        i = rib->free_r;
        rib->free_r = rib->r[i].pnext;
    } else {
        if (mrd_array_grow(&rib->r, rib->nr, &rib->capr, sizeof(*rib->r), 1024) != MRD_OK)
            return mrd_err_set(err, MRD_E_NOMEM, "rib: out of memory");
        i = (uint32_t)rib->nr++;
        rib->r[i].pfx = NIL; /* not hashed by the rehash below */
        if (rib->nr > rib->nrbucket) {
            rc =
                rehash(&rib->rbucket, &rib->nrbucket, rib->nr, route_link, route_hash_at, rib, err);
            if (rc != MRD_OK) {
                rib->nr--;
                return rc;
            }
        }
    }
    x = &rib->r[i];
    x->peer = r->peer_ip;
    x->peer_as = r->peer_as;
    x->path_id = r->path_id;
    x->pfx = pfx;
    set_origin(x, r);
    slot = route_hash(r) & (rib->nrbucket - 1);
    x->hnext = rib->rbucket[slot];
    rib->rbucket[slot] = i;
    x->pnext = rib->p[pfx].head;
    rib->p[pfx].head = i;
    if (rib->p[pfx].nroutes++ == 0)
        rib->p[pfx].since = r->time;
    rib->live++;
    return MRD_OK;
}

enum mrd_code bgp_rib_route(struct bgp_rib *rib, const struct bgp_route *r, struct mrd_err *err)
{
    struct bgp_route key;
    uint32_t pfx, i;

    switch (r->kind) {
    case BGP_ROUTE_RIB:
    case BGP_ROUTE_ANNOUNCE:
        if (r->attrs == NULL)
            return MRD_OK;
        if (r->has_path_id)
            return announce(rib, r, err);
        key = *r;
        key.path_id = 0;
        return announce(rib, &key, err);
    case BGP_ROUTE_WITHDRAW:
        key = *r;
        if (!r->has_path_id)
            key.path_id = 0;
        pfx = pfx_find(rib, &r->prefix);
        i = pfx != NIL ? route_find(rib, pfx, &key) : NIL;
        if (i != NIL)
            route_drop(rib, i, r->time);
        return MRD_OK;
    case BGP_ROUTE_STATE:
        if (r->new_state == BGP_STATE_ESTABLISHED)
            return MRD_OK;
        for (size_t k = 0; k < rib->nr; k++) {
            const struct rroute *x = &rib->r[k];
            if (x->pfx != NIL && x->peer_as == r->peer_as && x->peer.afi == r->peer_ip.afi &&
                memcmp(x->peer.bytes, r->peer_ip.bytes, sizeof(x->peer.bytes)) == 0)
                route_drop(rib, (uint32_t)k, r->time);
        }
        return MRD_OK;
    }
    return MRD_OK;
}

static void add_origin(struct bgp_rib_entry *e, uint32_t asn)
{
    size_t k = 0;
    while (k < e->norigins && e->origins[k] < asn)
        k++;
    if ((k < e->norigins && e->origins[k] == asn) || e->norigins == BGP_RIB_MAX_ORIGINS)
        return;
    memmove(&e->origins[k + 1], &e->origins[k], (e->norigins - k) * sizeof(e->origins[0]));
    e->origins[k] = asn;
    e->norigins++;
}

static void fill(const struct bgp_rib *rib, uint32_t pi, struct bgp_rib_entry *e)
{
    const struct rpfx *p = &rib->p[pi];

    memset(e, 0, sizeof(*e));
    e->prefix = p->prefix;
    e->routes = p->nroutes;
    if (p->nroutes > 0) {
        e->since = p->since;
        for (uint32_t i = p->head; i != NIL; i = rib->r[i].pnext)
            if (rib->r[i].has_origin)
                add_origin(e, rib->r[i].origin);
    } else {
        e->withdrawn_at = p->gone_at;
        if (p->has_last_origin)
            add_origin(e, p->last_origin);
    }
}

bool bgp_prefix_holds(const struct bgp_prefix *p, const struct bgp_addr *a)
{
    size_t full = p->len / 8;
    unsigned rest = p->len % 8;

    if (p->addr.afi != a->afi || p->len > (a->afi == BGP_AFI_IPV6 ? 128 : 32))
        return false;
    if (memcmp(p->addr.bytes, a->bytes, full) != 0)
        return false;
    return rest == 0 || ((p->addr.bytes[full] ^ a->bytes[full]) & (uint8_t)(0xff00u >> rest)) == 0;
}

bool bgp_rib_lookup(const struct bgp_rib *rib, const struct bgp_addr *addr, bool routed_only,
                    struct bgp_rib_entry *ret)
{
    struct bgp_prefix key;
    int max = addr->afi == BGP_AFI_IPV6 ? 128 : 32;

    if (rib == NULL || rib->np == 0 || (addr->afi != BGP_AFI_IPV4 && addr->afi != BGP_AFI_IPV6))
        return false;
    memset(&key, 0, sizeof(key));
    key.addr = *addr;
    for (int len = max; len >= 0; len--) {
        uint32_t pi;
        if (len < max) {
            key.addr.bytes[len / 8] &= (uint8_t)(0xff00u >> (len % 8));
            for (int b = len / 8 + 1; b < 16; b++)
                key.addr.bytes[b] = 0;
        }
        key.len = (uint8_t)len;
        pi = pfx_find(rib, &key);
        if (pi != NIL && (!routed_only || rib->p[pi].nroutes > 0)) {
            fill(rib, pi, ret);
            return true;
        }
    }
    return false;
}
