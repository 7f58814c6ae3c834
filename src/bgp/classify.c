/*
 * classify.c: the stateless judgements on one route: hijack type (ARTEMIS's
 * taxonomy) against the watch configuration, and route leak (valley-free
 * rule, RFC 9234 Only to Customer) against AS relationships.
 *
 * Both work on the AS path with prepends removed: "hops", the ASNs of the
 * AS_SEQUENCE segments from the peer (index 0) to the origin (last), where
 * an AS_SET or a confederation segment becomes a BREAK that no judgement
 * crosses.
 */
#include <stdlib.h>
#include <string.h>

#include "bgp/bgp.h"
#include "bgp/bgp_int.h"

#define BREAK UINT32_MAX /* reserved ASN (RFC 7300) standing for a set or confederation */
#define MAX_HOPS (BGP_MAX_PATH_ASNS + BGP_MAX_PATH_SEGS)

static size_t hops(const struct bgp_aspath *path, uint32_t *h)
{
    size_t n = 0;
    for (size_t i = 0; i < path->nseg; i++) {
        const struct bgp_seg *s = &path->seg[i];
        if (s->type != BGP_SEG_SEQUENCE) {
            if (n == 0 || h[n - 1] != BREAK)
                h[n++] = BREAK;
            continue;
        }
        for (size_t k = 0; k < s->count; k++) {
            uint32_t a = path->asn[s->off + k];
            if (n == 0 || h[n - 1] != a)
                h[n++] = a;
        }
    }
    return n;
}

static bool listed(const uint32_t *v, size_t n, uint32_t asn)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (v[mid] == asn)
            return true;
        if (v[mid] < asn)
            lo = mid + 1;
        else
            hi = mid;
    }
    return false;
}

static void set_type(struct bgp_hijack *h, char prefix_dim, char path_dim)
{
    h->type[0] = prefix_dim;
    h->type[1] = '|';
    h->type[2] = path_dim;
    memcpy(h->type + 3, "|-|-", 5);
}

/* The prefix and path dimensions of a route of configured entry m. */
static bool prefix_path(const struct bgp_cfg_prefix *m, const struct bgp_prefix *p,
                        const struct bgp_aspath *path, const uint32_t *h, size_t n,
                        struct bgp_hijack *ret)
{
    char pdim = p->len == m->prefix.len ? 'E' : 'S';
    uint32_t origin;
    bool has_origin;

    has_origin = bgp_aspath_origin(path, &origin);
    ret->has_hijacker = has_origin;
    ret->hijacker_as = has_origin ? origin : 0;
    if (m->norigins == 0) {
        set_type(ret, 'Q', '0'); /* any origin is illegal */
        return true;
    }
    if (!has_origin || !listed(m->origins, m->norigins, origin)) {
        set_type(ret, pdim, '0');
        return true;
    }
    /* The origin is legal: its first hop (the AS that claims a link to
     * it) must be a configured neighbour, unless any is allowed or the
     * peer is the origin itself. */
    if (!m->any_neighbor && n >= 2 && h[n - 2] != BREAK &&
        !listed(m->neighbors, m->nneighbors, h[n - 2])) {
        set_type(ret, pdim, '1');
        ret->hijacker_as = h[n - 2];
        return true;
    }
    if (p->len > m->max_len) {
        set_type(ret, 'S', '-'); /* legal origin and hop, yet more specific than announced */
        return true;
    }
    return false;
}

bool bgp_hijack_classify(const struct bgp_config *cfg, const struct bgp_prefix *p,
                         const struct bgp_aspath *path, struct bgp_hijack *ret)
{
    uint32_t h[MAX_HOPS];
    const struct bgp_cfg_prefix *m = bgp_config_match(cfg, p);
    bool policy;
    size_t n;

    if (m == NULL)
        return false;
    memset(ret, 0, sizeof(*ret));
    ret->matched = m;
    n = hops(path, h);
    /* ARTEMIS's policy dimension: the owner announces the prefix with
     * NO_EXPORT, so its neighbour may not pass it on; a path this long
     * (prepends removed, no set at its end) shows the neighbour did. */
    policy = m->no_export && n > BGP_NO_EXPORT_MAX_HOPS && h[n - 1] != BREAK && h[n - 2] != BREAK;
    if (!prefix_path(m, p, path, h, n, ret)) {
        if (!policy)
            return false;
        set_type(ret, p->len == m->prefix.len ? 'E' : 'S', '-');
        ret->has_hijacker = true;
        ret->hijacker_as = h[n - 2];
    }
    if (policy)
        ret->type[6] = 'L';
    return true;
}

/* RFC 9234 §5: once a route carries OTC, no AS after the one that set it
 * may send it to a provider or a peer. The OTC's AS is either the one that
 * sent it down or across (egress) or the neighbour it was learned from
 * (ingress), so every edge that starts after it counts. */
static bool otc_leak(const struct bgp_asrel *rel, const uint32_t *h, size_t n, uint32_t otc,
                     struct bgp_leak *ret)
{
    size_t at = n;
    for (size_t i = 0; i < n; i++) {
        if (h[i] == otc)
            at = i; /* the occurrence closest to the origin */
    }
    if (at == n)
        return false;
    for (size_t i = at; i-- > 1;) {
        /* edge h[i] -> h[i-1], h[i] learned it from h[i+1] */
        enum bgp_rel r;
        if (h[i] == BREAK || h[i - 1] == BREAK)
            continue;
        r = bgp_asrel_get(rel, h[i], h[i - 1]);
        if (r == BGP_REL_TO_PROVIDER || r == BGP_REL_TO_PEER) {
            ret->reason = BGP_LEAK_OTC;
            ret->otc = otc;
            ret->leaker_as = h[i];
            ret->from_as = h[i + 1];
            ret->to_as = h[i - 1];
            return true;
        }
    }
    return false;
}

void bgp__leak_prefetch(const struct bgp_asrel *rel, const struct bgp_attrs *attrs)
{
    uint32_t h[MAX_HOPS];
    size_t n;

    if (rel == NULL || attrs == NULL)
        return;
    n = hops(&attrs->path, h);
    for (size_t i = n; i-- > 1;)
        if (h[i] != BREAK && h[i - 1] != BREAK)
            bgp__asrel_prefetch(rel, h[i], h[i - 1]);
}

bool bgp_leak_check(const struct bgp_asrel *rel, const struct bgp_attrs *attrs,
                    struct bgp_leak *ret)
{
    uint32_t h[MAX_HOPS];
    size_t n;
    bool down = false; /* the sender learned the route from a provider or a peer */

    if (rel == NULL || attrs == NULL)
        return false;
    n = hops(&attrs->path, h);
    memset(ret, 0, sizeof(*ret));
    if ((attrs->has & BGP_HAS_OTC) && otc_leak(rel, h, n, attrs->otc, ret))
        return true;
    /* Every link's slot is asked for at once: the misses overlap. */
    for (size_t i = n; i-- > 1;)
        if (h[i] != BREAK && h[i - 1] != BREAK)
            bgp__asrel_prefetch(rel, h[i], h[i - 1]);
    /* Walk the edges in the direction the route travelled: origin first. */
    for (size_t i = n; i-- > 1;) {
        uint32_t x = h[i], y = h[i - 1];
        enum bgp_rel r = x == BREAK || y == BREAK ? BGP_REL_UNKNOWN : bgp_asrel_get(rel, x, y);
        if (r == BGP_REL_UNKNOWN) {
            down = false; /* nothing known: judge afresh after this link */
            continue;
        }
        if (down && (r == BGP_REL_TO_PROVIDER || r == BGP_REL_TO_PEER)) {
            ret->reason = BGP_LEAK_VALLEY;
            ret->leaker_as = x;
            ret->from_as = h[i + 1];
            ret->to_as = y;
            return true;
        }
        down = r == BGP_REL_TO_PEER || r == BGP_REL_TO_CUSTOMER;
    }
    return false;
}

const char *bgp_leak_reason_name(enum bgp_leak_reason r)
{
    return r == BGP_LEAK_OTC ? "otc" : "valley";
}
