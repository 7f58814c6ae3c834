/*
 * mrt.c: MRT records (RFC 6396) and the BGP UPDATE messages inside them
 * (RFC 4271 §4.3, RFC 4760, RFC 6793, RFC 8050).
 *
 * Every read goes through struct bgp__cur, which knows how many bytes are left,
 * so no length field from the file can move a read past the buffer. Errors
 * name the absolute offset of the record and the section that was broken.
 */
#include <string.h>

#include "bgp/bgp.h"
#include "bgp/bgp_int.h"
#include "core/alloc.h"

#define MRT_HDR_LEN 12
#define MRT_TABLE_DUMP_V2 13
#define MRT_BGP4MP 16
#define MRT_BGP4MP_ET 17

#define AS_TRANS 23456u

struct peer {
    struct bgp_addr ip;
    uint32_t as;
};

struct bgp_mrt {
    struct peer *peers;
    size_t npeers;
    struct bgp_attrs attrs; /* reused for every record: it is large */
    struct bgp_aspath as4;  /* AS4_PATH before the merge */
};

/* Error context: where the current record starts and what it is. */
struct ctx {
    struct bgp_mrt *mrt;
    const char *unit; /* "mrt: record", "bmp: message" */
    uint64_t rec_off;
    struct mrd_err *err;
    bgp_route_fn fn;
    void *fn_ctx;
    bool stopped;
    uint32_t drop_first_as; /* bgp__update_opts.drop_first_as */
};

static enum mrd_code bad(struct ctx *c, const char *what, const char *section)
{
    return mrd_err_set(c->err, MRD_E_PARSE, "%s at offset %llu: %s (%s)", c->unit,
                       (unsigned long long)c->rec_off, what, section);
}

static bool get_addr(struct bgp__cur *k, uint8_t afi, struct bgp_addr *a)
{
    const uint8_t *p;
    size_t n = afi == BGP_AFI_IPV6 ? 16 : 4;

    memset(a, 0, sizeof(*a));
    a->afi = afi;
    if (!bgp__take(k, n, &p))
        return false;
    memcpy(a->bytes, p, n);
    return true;
}

/* One NLRI prefix (RFC 4271 §4.3): length in bits, then the bytes. */
static enum mrd_code get_prefix(struct ctx *c, struct bgp__cur *k, uint8_t afi,
                                struct bgp_prefix *pf)
{
    uint8_t len;
    const uint8_t *p;
    unsigned max = afi == BGP_AFI_IPV6 ? 128 : 32;

    memset(pf, 0, sizeof(*pf));
    pf->addr.afi = afi;
    if (!bgp__get8(k, &len))
        return bad(c, "truncated prefix length", "RFC 4271 §4.3");
    if (len > max)
        return bad(c, "prefix length beyond the address family", "RFC 4271 §4.3");
    if (!bgp__take(k, (len + 7u) / 8u, &p))
        return bad(c, "prefix bytes beyond the buffer", "RFC 4271 §4.3");
    memcpy(pf->addr.bytes, p, (len + 7u) / 8u);
    if (len % 8 != 0)
        pf->addr.bytes[len / 8] &= (uint8_t)(0xff << (8 - len % 8));
    pf->len = len;
    return MRD_OK;
}

/* AS_PATH or AS4_PATH (RFC 4271 §4.3, RFC 6793 §3) into path. */
static enum mrd_code parse_aspath(struct ctx *c, struct bgp__cur k, unsigned asn_size,
                                  struct bgp_aspath *path)
{
    path->nseg = 0;
    path->nasn = 0;
    while (k.left > 0) {
        uint8_t type, count;
        const uint8_t *p;
        if (!bgp__get8(&k, &type) || !bgp__get8(&k, &count))
            return bad(c, "truncated AS_PATH segment header", "RFC 4271 §4.3");
        if (type < BGP_SEG_SET || type > BGP_SEG_CONFED_SET)
            return bad(c, "unknown AS_PATH segment type", "RFC 4271 §4.3, RFC 5065 §3");
        if (!bgp__take(&k, (size_t)count * asn_size, &p))
            return bad(c, "AS_PATH segment beyond its attribute (2-/4-byte AS confusion?)",
                       "RFC 4271 §4.3, RFC 6793 §3");
        if (path->nseg == BGP_MAX_PATH_SEGS || path->nasn + count > BGP_MAX_PATH_ASNS)
            return mrd_err_set(c->err, MRD_E_TOOBIG,
                               "%s at offset %llu: AS_PATH longer than %d ASNs or %d segments",
                               c->unit, (unsigned long long)c->rec_off, BGP_MAX_PATH_ASNS,
                               BGP_MAX_PATH_SEGS);
        path->seg[path->nseg].type = type;
        path->seg[path->nseg].off = (uint16_t)path->nasn;
        path->seg[path->nseg].count = count;
        path->nseg++;
        for (unsigned i = 0; i < count; i++)
            path->asn[path->nasn++] =
                asn_size == 4 ? bgp__be32(p + 4 * i) : (uint32_t)(p[2 * i] << 8 | p[2 * i + 1]);
    }
    return MRD_OK;
}

/* Path length for the RFC 6793 §4.2.3 merge: a set counts as one; confed
 * segments count as nothing. */
static size_t path_count(const struct bgp_aspath *p)
{
    size_t n = 0;
    for (size_t i = 0; i < p->nseg; i++) {
        if (p->seg[i].type == BGP_SEG_SEQUENCE)
            n += p->seg[i].count;
        else if (p->seg[i].type == BGP_SEG_SET)
            n += 1;
    }
    return n;
}

/* RFC 6793 §4.2.3: keep the leading (count(AS_PATH) - count(AS4_PATH)) ASNs
 * of AS_PATH and append AS4_PATH; ignore AS4_PATH when it is longer. */
static void merge_as4(struct bgp_aspath *path, const struct bgp_aspath *as4)
{
    size_t n2 = path_count(path), n4 = path_count(as4);
    size_t keep = n2 - n4, seen = 0, nseg = 0, nasn = 0;

    if (n4 > n2)
        return;
    for (size_t i = 0; i < path->nseg && seen < keep; i++) {
        struct bgp_seg s = path->seg[i];
        if (s.type == BGP_SEG_SEQUENCE) {
            size_t take_n = s.count < keep - seen ? s.count : keep - seen;
            s.count = (uint16_t)take_n;
            seen += take_n;
        } else if (s.type == BGP_SEG_SET) {
            seen += 1;
        }
        path->seg[nseg] = s;
        path->seg[nseg].off = (uint16_t)nasn;
        memmove(path->asn + nasn, path->asn + s.off, s.count * sizeof(uint32_t));
        nasn += s.count;
        nseg++;
    }
    for (size_t i = 0; i < as4->nseg && nseg < BGP_MAX_PATH_SEGS; i++) {
        struct bgp_seg s = as4->seg[i];
        if (nasn + s.count > BGP_MAX_PATH_ASNS)
            break;
        memcpy(path->asn + nasn, as4->asn + s.off, s.count * sizeof(uint32_t));
        path->seg[nseg] = s;
        path->seg[nseg].off = (uint16_t)nasn;
        nasn += s.count;
        nseg++;
    }
    path->nseg = nseg;
    path->nasn = nasn;
}

/* Next hop of MP_REACH_NLRI: the global address (a second, link-local one
 * may follow, RFC 2545 §3). */
static enum mrd_code mp_nexthop(struct ctx *c, struct bgp_attrs *a, const uint8_t *nh, uint8_t len)
{
    if (len == 16 || len == 32) {
        memcpy(a->mp_nexthop, nh, 16);
        a->has |= BGP_HAS_MP_NEXTHOP;
    } else if (len == 4) {
        memcpy(a->nexthop, nh, 4);
        a->has |= BGP_HAS_NEXTHOP;
    } else if (len != 0) {
        return bad(c, "MP_REACH_NLRI next hop length is not 4, 16 or 32", "RFC 4760 §3");
    }
    return MRD_OK;
}

/* Where the NLRI of MP_(UN)REACH are, for the caller to walk afterwards. */
struct mp {
    struct bgp__cur reach, unreach;
    bool has_reach, has_unreach;
};

enum {
    ATTR_ORIGIN = 1,
    ATTR_AS_PATH = 2,
    ATTR_NEXT_HOP = 3,
    ATTR_MED = 4,
    ATTR_LOCAL_PREF = 5,
    ATTR_ATOMIC = 6,
    ATTR_AGGREGATOR = 7,
    ATTR_COMMUNITIES = 8,
    ATTR_MP_REACH = 14,
    ATTR_MP_UNREACH = 15,
    ATTR_AS4_PATH = 17,
    ATTR_AS4_AGGREGATOR = 18,
    ATTR_OTC = 35,
};

/* Path attributes (RFC 4271 §4.3). asn_size is 2 or 4; rib is true inside
 * TABLE_DUMP_V2, where MP_REACH_NLRI holds only the next hop (RFC 6396
 * §4.3.4). */
static enum mrd_code parse_attrs(struct ctx *c, struct bgp__cur k, unsigned asn_size, bool rib,
                                 struct mp *mp)
{
    struct bgp_attrs *a = &c->mrt->attrs;
    uint32_t seen[256 / 32] = {0}; /* attribute types met so far */
    bool has_as4 = false, has_as4_agg = false;
    uint32_t as4_agg_as = 0;
    uint8_t as4_agg_addr[4] = {0};
    enum mrd_code rc;

    memset(a, 0, offsetof(struct bgp_attrs, path));
    a->path.nseg = a->path.nasn = 0;
    a->communities = NULL;
    a->ncommunities = 0;
    memset(mp, 0, sizeof(*mp));
    while (k.left > 0) {
        uint8_t flags, type;
        uint16_t len16;
        size_t len;
        const uint8_t *p;
        struct bgp__cur v;
        if (!bgp__get8(&k, &flags) || !bgp__get8(&k, &type))
            return bad(c, "truncated path attribute header", "RFC 4271 §4.3");
        if (flags & 0x10) {
            if (!bgp__get16(&k, &len16))
                return bad(c, "truncated extended attribute length", "RFC 4271 §4.3");
            len = len16;
        } else {
            uint8_t l8;
            if (!bgp__get8(&k, &l8))
                return bad(c, "truncated attribute length", "RFC 4271 §4.3");
            len = l8;
        }
        if (!bgp__take(&k, len, &p))
            return bad(c, "path attribute beyond the attribute block", "RFC 4271 §4.3");
        /* Any order is fine (RFC 4271 §5); a repeated attribute is not
         * (RFC 7606 §3(g)): a second MP_REACH_NLRI or MP_UNREACH_NLRI makes
         * the UPDATE malformed, any other repeat is discarded. */
        if (seen[type / 32] & (1u << (type % 32))) {
            if (type == ATTR_MP_REACH || type == ATTR_MP_UNREACH)
                return bad(c, "MP_REACH_NLRI or MP_UNREACH_NLRI more than once", "RFC 7606 §3(g)");
            continue;
        }
        seen[type / 32] |= 1u << (type % 32);
        v.p = p;
        v.left = len;
        switch (type) {
        case ATTR_ORIGIN:
            if (len != 1 || p[0] > 2)
                return bad(c, "ORIGIN is not one byte of 0, 1 or 2", "RFC 4271 §5.1.1");
            a->origin = p[0];
            a->has |= BGP_HAS_ORIGIN;
            break;
        case ATTR_AS_PATH:
            rc = parse_aspath(c, v, asn_size, &a->path);
            if (rc != MRD_OK)
                return rc;
            a->has |= BGP_HAS_ASPATH;
            break;
        case ATTR_AS4_PATH:
            rc = parse_aspath(c, v, 4, &c->mrt->as4);
            if (rc != MRD_OK)
                return rc;
            has_as4 = true;
            break;
        case ATTR_NEXT_HOP:
            if (len != 4)
                return bad(c, "NEXT_HOP is not 4 bytes", "RFC 4271 §5.1.3");
            memcpy(a->nexthop, p, 4);
            a->has |= BGP_HAS_NEXTHOP;
            break;
        case ATTR_MED:
        case ATTR_LOCAL_PREF:
            if (len != 4)
                return bad(c,
                           type == ATTR_MED ? "MULTI_EXIT_DISC is not 4 bytes"
                                            : "LOCAL_PREF is not 4 bytes",
                           "RFC 4271 §4.3");
            if (type == ATTR_MED) {
                a->med = bgp__be32(p);
                a->has |= BGP_HAS_MED;
            } else {
                a->local_pref = bgp__be32(p);
                a->has |= BGP_HAS_LOCALPREF;
            }
            break;
        case ATTR_ATOMIC:
            a->has |= BGP_HAS_ATOMIC;
            break;
        case ATTR_AGGREGATOR:
            if (len != 2 + 4 && len != 4 + 4)
                return bad(c, "AGGREGATOR is neither 6 nor 8 bytes", "RFC 4271 §5.1.7, RFC 6793");
            a->aggregator_as = len == 8 ? bgp__be32(p) : (uint32_t)(p[0] << 8 | p[1]);
            memcpy(a->aggregator_addr, p + len - 4, 4);
            a->has |= BGP_HAS_AGGREGATOR;
            break;
        case ATTR_AS4_AGGREGATOR:
            if (len != 8)
                return bad(c, "AS4_AGGREGATOR is not 8 bytes", "RFC 6793 §3");
            as4_agg_as = bgp__be32(p);
            memcpy(as4_agg_addr, p + 4, 4);
            has_as4_agg = true;
            break;
        case ATTR_COMMUNITIES:
            if (len % 4 != 0)
                return bad(c, "COMMUNITIES length is not a multiple of 4", "RFC 1997");
            a->communities = p;
            a->ncommunities = len / 4;
            a->has |= BGP_HAS_COMMUNITIES;
            break;
        case ATTR_MP_REACH: {
            uint16_t afi;
            uint8_t safi, nhlen, reserved;
            const uint8_t *nh;
            if (rib && len >= 1 && (size_t)p[0] + 1 == len) {
                /* TABLE_DUMP_V2 abbreviated form: next hop only. */
                rc = mp_nexthop(c, a, p + 1, p[0]);
                if (rc != MRD_OK)
                    return rc;
                break;
            }
            if (!bgp__get16(&v, &afi) || !bgp__get8(&v, &safi) || !bgp__get8(&v, &nhlen) ||
                !bgp__take(&v, nhlen, &nh) || !bgp__get8(&v, &reserved))
                return bad(c, "truncated MP_REACH_NLRI", "RFC 4760 §3");
            if (afi == 2 && safi == 1) {
                rc = mp_nexthop(c, a, nh, nhlen);
                if (rc != MRD_OK)
                    return rc;
                mp->reach = v;
                mp->has_reach = true;
            }
            break;
        }
        case ATTR_MP_UNREACH: {
            uint16_t afi;
            uint8_t safi;
            if (!bgp__get16(&v, &afi) || !bgp__get8(&v, &safi))
                return bad(c, "truncated MP_UNREACH_NLRI", "RFC 4760 §4");
            if (afi == 2 && safi == 1) {
                mp->unreach = v;
                mp->has_unreach = true;
            }
            break;
        }
        case ATTR_OTC:
            /* A malformed OTC is skipped, not fatal: bgpdump skips the
             * attribute entirely, and RFC 9234 §5 treats the route as
             * withdrawn rather than the session as broken. */
            if (len == 4) {
                a->otc = bgp__be32(p);
                a->has |= BGP_HAS_OTC;
            }
            break;
        default:
            break; /* unknown or unused attributes are skipped */
        }
    }
    /* RFC 6793 §4.2.3: a 2-byte session carries the real path in AS4_PATH. */
    if (asn_size == 2 && has_as4 && (a->has & BGP_HAS_ASPATH))
        merge_as4(&a->path, &c->mrt->as4);
    if (asn_size == 2 && has_as4_agg && (a->has & BGP_HAS_AGGREGATOR) &&
        a->aggregator_as == AS_TRANS) {
        a->aggregator_as = as4_agg_as;
        memcpy(a->aggregator_addr, as4_agg_addr, 4);
    }
    return MRD_OK;
}

static enum mrd_code emit(struct ctx *c, const struct bgp_route *r)
{
    if (c->fn(r, c->fn_ctx) != 0)
        c->stopped = true;
    return MRD_OK;
}

/* A list of NLRI (with 4-byte path ids under ADD-PATH, RFC 8050 §3). */
static enum mrd_code walk_nlri(struct ctx *c, struct bgp__cur k, uint8_t afi, bool addpath,
                               struct bgp_route *r)
{
    size_t n = 0;
    while (k.left > 0 && !c->stopped) {
        enum mrd_code rc;
        if (++n > BGP_MAX_NLRI)
            return mrd_err_set(c->err, MRD_E_TOOBIG,
                               "%s at offset %llu: more than %d prefixes in one list", c->unit,
                               (unsigned long long)c->rec_off, BGP_MAX_NLRI);
        if (addpath) {
            if (!bgp__get32(&k, &r->path_id))
                return bad(c, "truncated ADD-PATH path identifier", "RFC 7911 §3");
            r->has_path_id = true;
        }
        rc = get_prefix(c, &k, afi, &r->prefix);
        if (rc != MRD_OK)
            return rc;
        emit(c, r);
    }
    return MRD_OK;
}

static enum mrd_code peer_index(struct ctx *c, struct bgp__cur k)
{
    struct bgp_mrt *m = c->mrt;
    const uint8_t *p;
    uint16_t namelen, count;

    if (!bgp__take(&k, 4, &p) || !bgp__get16(&k, &namelen) || !bgp__take(&k, namelen, &p) ||
        !bgp__get16(&k, &count))
        return bad(c, "truncated PEER_INDEX_TABLE header", "RFC 6396 §4.3.1");
    mrd_free(m->peers);
    m->peers = NULL;
    m->npeers = 0;
    if (count > 0) {
        m->peers = mrd_calloc(count, sizeof(*m->peers));
        if (m->peers == NULL)
            return mrd_err_set(c->err, MRD_E_NOMEM, "mrt: out of memory for %u peers", count);
    }
    for (unsigned i = 0; i < count; i++) {
        uint8_t type;
        struct peer *pe = &m->peers[i];
        if (!bgp__get8(&k, &type) || !bgp__take(&k, 4, &p) ||
            !get_addr(&k, (type & 1) ? BGP_AFI_IPV6 : BGP_AFI_IPV4, &pe->ip))
            return bad(c, "truncated peer entry", "RFC 6396 §4.3.1");
        if (type & 2) {
            if (!bgp__get32(&k, &pe->as))
                return bad(c, "truncated peer AS", "RFC 6396 §4.3.1");
        } else {
            uint16_t as;
            if (!bgp__get16(&k, &as))
                return bad(c, "truncated peer AS", "RFC 6396 §4.3.1");
            pe->as = as;
        }
        m->npeers = i + 1;
    }
    return MRD_OK;
}

static enum mrd_code rib(struct ctx *c, struct bgp__cur k, uint32_t time, uint8_t afi, bool addpath)
{
    struct bgp_route r;
    uint32_t seq;
    uint16_t count;
    struct mp mp;
    enum mrd_code rc;

    memset(&r, 0, sizeof(r));
    r.kind = BGP_ROUTE_RIB;
    r.time = time;
    if (!bgp__get32(&k, &seq))
        return bad(c, "truncated RIB sequence number", "RFC 6396 §4.3.2");
    rc = get_prefix(c, &k, afi, &r.prefix);
    if (rc != MRD_OK)
        return rc;
    if (!bgp__get16(&k, &count))
        return bad(c, "truncated RIB entry count", "RFC 6396 §4.3.2");
    for (unsigned i = 0; i < count && !c->stopped; i++) {
        uint16_t idx, alen;
        const uint8_t *p;
        struct bgp__cur at;
        if (!bgp__get16(&k, &idx) || !bgp__get32(&k, &r.originated))
            return bad(c, "truncated RIB entry", "RFC 6396 §4.3.4");
        if (addpath) {
            if (!bgp__get32(&k, &r.path_id))
                return bad(c, "truncated RIB entry path identifier", "RFC 8050 §4");
            r.has_path_id = true;
        }
        if (!bgp__get16(&k, &alen) || !bgp__take(&k, alen, &p))
            return bad(c, "RIB entry attributes beyond the record", "RFC 6396 §4.3.4");
        if (idx >= c->mrt->npeers)
            return bad(c, "RIB entry names a peer missing from PEER_INDEX_TABLE",
                       "RFC 6396 §4.3.4");
        at.p = p;
        at.left = alen;
        rc = parse_attrs(c, at, 4, true, &mp);
        if (rc != MRD_OK)
            return rc;
        r.peer_ip = c->mrt->peers[idx].ip;
        r.peer_as = c->mrt->peers[idx].as;
        r.attrs = &c->mrt->attrs;
        emit(c, &r);
    }
    return MRD_OK;
}

/* One BGP message (RFC 4271 §4.1: marker, length, type) at the start of
 * k; an UPDATE's routes go to the callback, other types carry none. The
 * message may be shorter than k (trailing bytes are the caller's). */
/* Removes path's first ASN when it is first_as followed by peer_as. A route
 * an eBGP peer sent starts with that peer's AS (RFC 4271 §6.3): one that
 * starts with the receiver's AS before it carries an AS the peer never
 * sent. */
static void drop_first_as(struct bgp_aspath *path, uint32_t first_as, uint32_t peer_as)
{
    if (path->nseg == 0 || path->seg[0].type != BGP_SEG_SEQUENCE || path->seg[0].count < 2 ||
        path->asn[0] != first_as || path->asn[1] != peer_as)
        return;
    memmove(path->asn, path->asn + 1, (path->nasn - 1) * sizeof(path->asn[0]));
    path->nasn--;
    path->seg[0].count--;
    for (size_t i = 1; i < path->nseg; i++)
        path->seg[i].off--;
}

static enum mrd_code update(struct ctx *c, struct bgp__cur k, unsigned asn_size, bool addpath_v4,
                            bool addpath_v6, struct bgp_route *r)
{
    uint16_t mlen;
    uint8_t mtype;
    const uint8_t *p;
    uint16_t wlen, alen;
    const uint8_t *wp, *ap;
    struct bgp__cur w, at, nlri;
    struct mp mp;
    enum mrd_code rc;

    if (!bgp__take(&k, 16, &p) || !bgp__get16(&k, &mlen) || !bgp__get8(&k, &mtype))
        return bad(c, "truncated BGP message header", "RFC 4271 §4.1");
    if (mlen < 19 || (size_t)mlen - 19 > k.left)
        return bad(c, "BGP message length disagrees with the record", "RFC 4271 §4.1");
    k.left = (size_t)mlen - 19;
    if (mtype != 2)
        return MRD_OK; /* OPEN, NOTIFICATION, KEEPALIVE: no routes */
    if (!bgp__get16(&k, &wlen) || !bgp__take(&k, wlen, &wp))
        return bad(c, "withdrawn routes beyond the UPDATE", "RFC 4271 §4.3");
    if (!bgp__get16(&k, &alen) || !bgp__take(&k, alen, &ap))
        return bad(c, "path attributes beyond the UPDATE", "RFC 4271 §4.3");
    w.p = wp;
    w.left = wlen;
    at.p = ap;
    at.left = alen;
    nlri = k;
    rc = parse_attrs(c, at, asn_size, false, &mp);
    if (rc != MRD_OK)
        return rc;
    if (c->drop_first_as != 0 && (c->mrt->attrs.has & BGP_HAS_ASPATH))
        drop_first_as(&c->mrt->attrs.path, c->drop_first_as, r->peer_as);
    /* bgpdump's order: IPv4 withdrawals, IPv6 withdrawals, then the
     * announcements of each family. */
    r->kind = BGP_ROUTE_WITHDRAW;
    r->attrs = NULL;
    rc = walk_nlri(c, w, BGP_AFI_IPV4, addpath_v4, r);
    if (rc == MRD_OK && mp.has_unreach)
        rc = walk_nlri(c, mp.unreach, BGP_AFI_IPV6, addpath_v6, r);
    r->kind = BGP_ROUTE_ANNOUNCE;
    r->attrs = &c->mrt->attrs;
    if (rc == MRD_OK)
        rc = walk_nlri(c, nlri, BGP_AFI_IPV4, addpath_v4, r);
    if (rc == MRD_OK && mp.has_reach)
        rc = walk_nlri(c, mp.reach, BGP_AFI_IPV6, addpath_v6, r);
    return rc;
}

enum mrd_code bgp__update_decode(struct bgp_mrt *mrt, const uint8_t *msg, size_t len,
                                 const struct bgp__update_opts *o, struct bgp_route *r,
                                 bgp_route_fn fn, void *fn_ctx, bool *ret_stopped,
                                 struct mrd_err *err)
{
    struct ctx c = {.mrt = mrt,
                    .unit = o->unit,
                    .rec_off = o->offset,
                    .err = err,
                    .fn = fn,
                    .fn_ctx = fn_ctx,
                    .drop_first_as = o->drop_first_as};
    struct bgp__cur k = {msg, len};
    enum mrd_code rc = update(&c, k, o->asn_size, o->addpath_v4, o->addpath_v6, r);

    *ret_stopped = c.stopped;
    return rc;
}

/* BGP4MP (RFC 6396 §4.4) with the header's time already read. */
static enum mrd_code bgp4mp(struct ctx *c, struct bgp__cur k, uint16_t subtype, struct bgp_route *r)
{
    bool as4 = subtype == 4 || subtype == 5 || subtype == 7 || subtype == 9 || subtype == 11;
    bool state = subtype == 0 || subtype == 5;
    bool addpath = subtype >= 8 && subtype <= 11;
    uint16_t ifindex, afi;
    uint32_t local_as;
    struct bgp_addr local;

    if (!(subtype <= 1 || (subtype >= 4 && subtype <= 11)))
        return MRD_OK;
    if (as4) {
        if (!bgp__get32(&k, &r->peer_as) || !bgp__get32(&k, &local_as))
            return bad(c, "truncated BGP4MP AS numbers", "RFC 6396 §4.4.3");
    } else {
        uint16_t pa, la;
        if (!bgp__get16(&k, &pa) || !bgp__get16(&k, &la))
            return bad(c, "truncated BGP4MP AS numbers", "RFC 6396 §4.4.2");
        r->peer_as = pa;
    }
    if (!bgp__get16(&k, &ifindex) || !bgp__get16(&k, &afi))
        return bad(c, "truncated BGP4MP header", "RFC 6396 §4.4");
    if (afi != 1 && afi != 2)
        return bad(c, "BGP4MP address family is neither 1 nor 2", "RFC 6396 §4.4");
    if (!get_addr(&k, (uint8_t)afi, &r->peer_ip) || !get_addr(&k, (uint8_t)afi, &local))
        return bad(c, "truncated BGP4MP addresses", "RFC 6396 §4.4");
    if (state) {
        r->kind = BGP_ROUTE_STATE;
        if (!bgp__get16(&k, &r->old_state) || !bgp__get16(&k, &r->new_state))
            return bad(c, "truncated STATE_CHANGE", "RFC 6396 §4.4.1");
        return emit(c, r);
    }
    return update(c, k, as4 ? 4 : 2, addpath, addpath, r);
}

enum mrd_code bgp_mrt_new(struct bgp_mrt **ret_mrt, struct mrd_err *err)
{
    struct bgp_mrt *m = mrd_calloc(1, sizeof(*m));
    if (m == NULL)
        return mrd_err_set(err, MRD_E_NOMEM, "mrt: out of memory");
    *ret_mrt = m;
    return MRD_OK;
}

void bgp_mrt_free(struct bgp_mrt *mrt)
{
    if (mrt == NULL)
        return;
    mrd_free(mrt->peers);
    mrd_free(mrt);
}

enum mrd_code bgp_mrt_decode(struct bgp_mrt *mrt, const uint8_t *buf, size_t len,
                             uint64_t base_offset, bgp_route_fn fn, void *fn_ctx,
                             struct mrd_err *err)
{
    struct ctx c = {.mrt = mrt, .unit = "mrt: record", .err = err, .fn = fn, .fn_ctx = fn_ctx};
    size_t off = 0;

    while (off < len && !c.stopped) {
        struct bgp__cur k = {buf + off, len - off}, body;
        uint32_t time, rlen;
        uint16_t type, subtype;
        const uint8_t *p;
        enum mrd_code rc = MRD_OK;
        c.rec_off = base_offset + off;
        if (!bgp__get32(&k, &time) || !bgp__get16(&k, &type) || !bgp__get16(&k, &subtype) ||
            !bgp__get32(&k, &rlen))
            return bad(&c, "truncated MRT common header", "RFC 6396 §2");
        if (!bgp__take(&k, rlen, &p))
            return bad(&c, "record length beyond the end of the input", "RFC 6396 §2");
        body.p = p;
        body.left = rlen;
        off += MRT_HDR_LEN + (size_t)rlen;
        if (type == MRT_TABLE_DUMP_V2) {
            if (subtype == 1)
                rc = peer_index(&c, body);
            else if (subtype == 2 || subtype == 8)
                rc = rib(&c, body, time, BGP_AFI_IPV4, subtype == 8);
            else if (subtype == 4 || subtype == 10)
                rc = rib(&c, body, time, BGP_AFI_IPV6, subtype == 10);
        } else if (type == MRT_BGP4MP || type == MRT_BGP4MP_ET) {
            struct bgp_route r;
            memset(&r, 0, sizeof(r));
            r.time = time;
            if (type == MRT_BGP4MP_ET) {
                if (!bgp__get32(&body, &r.time_usec))
                    return bad(&c, "truncated BGP4MP_ET microseconds", "RFC 6396 §3");
                r.extended_time = true;
            }
            rc = bgp4mp(&c, body, subtype, &r);
        }
        if (rc != MRD_OK)
            return rc;
    }
    return MRD_OK;
}
