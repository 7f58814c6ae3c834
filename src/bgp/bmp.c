/*
 * bmp.c: the BGP Monitoring Protocol (RFC 7854), with RFC 9069's Loc-RIB
 * peers and RFC 8671's Adj-RIB-Out flag.
 *
 * A router streams messages: Initiation, then a Peer Up per BGP session
 * (carrying the OPEN it sent and the one it received), Route Monitoring
 * (one UPDATE of one peer, pre- or post-policy), Statistics Reports, Peer
 * Down, Termination. The UPDATEs are decoded by the decoder MRT uses
 * (bgp__update_decode in mrt.c); this file reads the BMP framing and keeps,
 * per peer, what the OPENs negotiated, because that decides whether the
 * UPDATEs carry 2- or 4-byte AS numbers and ADD-PATH identifiers, which
 * the UPDATE itself does not say.
 */
#include <string.h>

#include "bgp/bgp.h"
#include "bgp/bgp_int.h"
#include "core/alloc.h"

#define BMP_VERSION 3
#define BGP_MSG_OPEN 1
#define BGP_HDR_LEN 19
#define CAP_ADD_PATH 69
#define CAP_AS4 65
#define OPT_CAPABILITIES 2
#define STATE_IDLE 1
#define STATE_ESTABLISHED 6

/* One peer (and view: a router may report pre- and post-policy). */
struct bmp_peer {
    uint8_t type;
    uint8_t distinguisher[8];
    struct bgp_addr addr;
    bool up;           /* a Peer Up was seen: the capabilities below hold */
    bool as4;          /* both OPENs carried the 4-octet AS capability */
    uint32_t local_as; /* the monitored router's AS, from the OPEN it sent */
    bool addpath[2];   /* per family: path ids in what this peer sends us */
    bool has_view;     /* a Route Monitoring was seen */
    uint8_t view;      /* its L and O flags: the view consumers keep */
};

struct bgp_bmp {
    struct bgp_mrt *mrt; /* scratch attributes for the UPDATE decoder */
    struct bmp_peer *peers;
    size_t npeers, cap;
    size_t last; /* the peer found last: most messages repeat it */
};

struct ctx {
    uint64_t off;
    struct mrd_err *err;
};

static enum mrd_code bad(const struct ctx *c, const char *what, const char *section)
{
    return mrd_err_set(c->err, MRD_E_PARSE, "bmp: message at offset %llu: %s (%s)",
                       (unsigned long long)c->off, what, section);
}

enum mrd_code bgp_bmp_new(struct bgp_bmp **ret_bmp, struct mrd_err *err)
{
    struct bgp_bmp *b = mrd_calloc(1, sizeof(*b));
    enum mrd_code rc;

    if (b == NULL)
        return mrd_err_set(err, MRD_E_NOMEM, "bmp: out of memory");
    rc = bgp_mrt_new(&b->mrt, err);
    if (rc != MRD_OK) {
        mrd_free(b);
        return rc;
    }
    *ret_bmp = b;
    return MRD_OK;
}

void bgp_bmp_free(struct bgp_bmp *b)
{
    if (b == NULL)
        return;
    bgp_mrt_free(b->mrt);
    mrd_free(b->peers);
    mrd_free(b);
}

const char *bgp_bmp_type_name(uint8_t type)
{
    static const char *const names[] = {"route-monitoring", "statistics", "peer-down",
                                        "peer-up",          "initiation", "termination",
                                        "route-mirroring"};
    return type < sizeof(names) / sizeof(names[0]) ? names[type] : "unknown";
}

bool bgp_bmp_sniff(const uint8_t *buf, size_t len)
{
    uint32_t mlen;

    if (len < BGP_BMP_HDR_LEN || buf[0] != BMP_VERSION || buf[5] > BGP_BMP_ROUTE_MIRRORING)
        return false;
    mlen = bgp__be32(buf + 1);
    return mlen >= BGP_BMP_HDR_LEN && mlen <= BGP_BMP_MAX_MSG;
}

enum mrd_code bgp_bmp_frame(const uint8_t *buf, size_t len, uint64_t offset, size_t *ret_len,
                            struct mrd_err *err)
{
    struct ctx c = {offset, err};
    uint32_t mlen;

    *ret_len = 0;
    if (len >= 1 && buf[0] != BMP_VERSION)
        return bad(&c, "version is not 3", "RFC 7854 §4.1");
    if (len < BGP_BMP_HDR_LEN)
        return MRD_OK;
    mlen = bgp__be32(buf + 1);
    if (mlen < BGP_BMP_HDR_LEN)
        return bad(&c, "message length shorter than the common header", "RFC 7854 §4.1");
    if (mlen > BGP_BMP_MAX_MSG)
        return mrd_err_set(err, MRD_E_TOOBIG,
                           "bmp: message at offset %llu: length %u beyond the limit of %d bytes "
                           "(RFC 7854 §4.1, RFC 8654)",
                           (unsigned long long)offset, mlen, BGP_BMP_MAX_MSG);
    if (len >= mlen)
        *ret_len = mlen;
    return MRD_OK;
}

/* The per-peer header (RFC 7854 §4.2). */
static enum mrd_code peer_header(const struct ctx *c, struct bgp__cur *k, struct bgp_bmp_peer *p)
{
    const uint8_t *d, *a;

    memset(p, 0, sizeof(*p));
    if (!bgp__get8(k, &p->type) || !bgp__get8(k, &p->flags) || !bgp__take(k, 8, &d) ||
        !bgp__take(k, 16, &a) || !bgp__get32(k, &p->as) || !bgp__get32(k, &p->bgp_id) ||
        !bgp__get32(k, &p->time) || !bgp__get32(k, &p->time_usec))
        return bad(c, "truncated per-peer header", "RFC 7854 §4.2");
    if (p->type > BGP_BMP_PEER_LOC_RIB)
        return bad(c, "unknown peer type", "RFC 7854 §4.2, RFC 9069 §4.1");
    memcpy(p->distinguisher, d, 8);
    if (p->type == BGP_BMP_PEER_LOC_RIB) {
        /* RFC 9069 §4.1: the only flag is F (filtered); no address. */
        p->addr.afi = BGP_AFI_IPV4;
        return MRD_OK;
    }
    p->post_policy = (p->flags & 0x40) != 0;
    p->legacy_as = (p->flags & 0x20) != 0;
    p->adj_rib_out = (p->flags & 0x10) != 0;
    if (p->flags & 0x80) {
        p->addr.afi = BGP_AFI_IPV6;
        memcpy(p->addr.bytes, a, 16);
    } else {
        p->addr.afi = BGP_AFI_IPV4;
        memcpy(p->addr.bytes, a + 12, 4);
    }
    return MRD_OK;
}

/* The peer record of h, added when add is set; NULL when absent. */
static enum mrd_code find_peer(struct bgp_bmp *b, const struct ctx *c, const struct bgp_bmp_peer *h,
                               bool add, struct bmp_peer **ret)
{
    struct bmp_peer *p;

    *ret = NULL;
    for (size_t n = 0; n < b->npeers; n++) {
        size_t i = (b->last + n) % b->npeers;
        p = &b->peers[i];
        if (p->type == h->type && memcmp(p->distinguisher, h->distinguisher, 8) == 0 &&
            memcmp(&p->addr, &h->addr, sizeof(p->addr)) == 0) {
            b->last = i;
            *ret = p;
            return MRD_OK;
        }
    }
    if (!add)
        return MRD_OK;
    if (b->npeers == BGP_BMP_MAX_PEERS)
        return mrd_err_set(c->err, MRD_E_TOOBIG, "bmp: message at offset %llu: more than %d peers",
                           (unsigned long long)c->off, BGP_BMP_MAX_PEERS);
    if (mrd_array_grow(&b->peers, b->npeers, &b->cap, sizeof(*b->peers), 16) != MRD_OK)
        return mrd_err_set(c->err, MRD_E_NOMEM, "bmp: out of memory");
    p = &b->peers[b->npeers];
    memset(p, 0, sizeof(*p));
    p->type = h->type;
    memcpy(p->distinguisher, h->distinguisher, 8);
    p->addr = h->addr;
    b->last = b->npeers++;
    *ret = p;
    return MRD_OK;
}

/* What one OPEN (RFC 4271 §4.2) offers: 4-octet AS (RFC 6793 §3) and, per
 * family, the ADD-PATH send/receive bits (RFC 7911 §4). Optional
 * parameters in RFC 9072's extended form are understood. */
struct open_caps {
    bool as4;
    uint32_t as;        /* My Autonomous System, or the 4-octet AS capability's */
    uint8_t addpath[2]; /* 1 receive, 2 send, 3 both */
};

static enum mrd_code parse_caps(const struct ctx *c, struct bgp__cur k, struct open_caps *oc)
{
    while (k.left > 0) {
        uint8_t code, len;
        const uint8_t *v;
        if (!bgp__get8(&k, &code) || !bgp__get8(&k, &len) || !bgp__take(&k, len, &v))
            return bad(c, "capability beyond its parameter", "RFC 5492 §4");
        if (code == CAP_AS4 && len == 4) {
            oc->as4 = true;
            oc->as = bgp__be32(v);
        }
        if (code == CAP_ADD_PATH) {
            if (len % 4 != 0)
                return bad(c, "ADD-PATH capability length is not a multiple of 4", "RFC 7911 §4");
            for (size_t i = 0; i < len; i += 4) {
                unsigned afi = (unsigned)(v[i] << 8 | v[i + 1]);
                if ((afi == 1 || afi == 2) && v[i + 2] == 1)
                    oc->addpath[afi - 1] = v[i + 3] & 3;
            }
        }
    }
    return MRD_OK;
}

static enum mrd_code parse_open(const struct ctx *c, struct bgp__cur *k, struct open_caps *oc)
{
    const uint8_t *p;
    uint16_t mlen, plen, my_as = 0;
    uint8_t type, version, optlen;
    struct bgp__cur m;
    bool ext = false;

    memset(oc, 0, sizeof(*oc));
    if (!bgp__take(k, 16, &p) || !bgp__get16(k, &mlen) || !bgp__get8(k, &type))
        return bad(c, "truncated OPEN header", "RFC 7854 §4.10, RFC 4271 §4.1");
    if (type != BGP_MSG_OPEN)
        return bad(c, "Peer Up does not carry an OPEN message", "RFC 7854 §4.10");
    if (mlen < BGP_HDR_LEN + 10 || !bgp__take(k, (size_t)mlen - BGP_HDR_LEN, &p))
        return bad(c, "OPEN length beyond the message", "RFC 4271 §4.2");
    m.p = p;
    m.left = (size_t)mlen - BGP_HDR_LEN;
    (void)bgp__get8(&m, &version);
    (void)bgp__get16(&m, &my_as);
    oc->as = my_as;
    (void)bgp__take(&m, 6, &p); /* hold time, BGP identifier */
    (void)bgp__get8(&m, &optlen);
    plen = optlen;
    if (optlen == 255 && m.left >= 1 && m.p[0] == 255) {
        /* RFC 9072 §2: non-extended type 255, then a 2-byte length */
        (void)bgp__take(&m, 1, &p);
        if (!bgp__get16(&m, &plen))
            return bad(c, "truncated extended optional parameters length", "RFC 9072 §2");
        ext = true;
    }
    if (plen > m.left)
        return bad(c, "optional parameters beyond the OPEN", "RFC 4271 §4.2");
    m.left = plen;
    while (m.left > 0) {
        uint8_t ptype, l8;
        uint16_t len;
        struct bgp__cur v;
        if (!bgp__get8(&m, &ptype))
            return bad(c, "truncated optional parameter", "RFC 4271 §4.2");
        if (ext ? !bgp__get16(&m, &len) : !bgp__get8(&m, &l8))
            return bad(c, "truncated optional parameter", "RFC 4271 §4.2");
        if (!ext)
            len = l8;
        if (!bgp__take(&m, len, &p))
            return bad(c, "optional parameter beyond the OPEN", "RFC 4271 §4.2");
        v.p = p;
        v.left = len;
        if (ptype == OPT_CAPABILITIES) {
            enum mrd_code rc = parse_caps(c, v, oc);
            if (rc != MRD_OK)
                return rc;
        }
    }
    return MRD_OK;
}

/* Peer Up (RFC 7854 §4.10): local address and ports, the OPEN sent, the
 * OPEN received, then information TLVs. */
static enum mrd_code peer_up(struct bgp_bmp *b, const struct ctx *c, struct bgp__cur k,
                             struct bgp_bmp_msg *m)
{
    const uint8_t *p;
    struct open_caps sent, rcvd;
    struct bmp_peer *pe;
    enum mrd_code rc;

    if (!bgp__take(&k, 16 + 2 + 2, &p))
        return bad(c, "truncated Peer Up local address and ports", "RFC 7854 §4.10");
    rc = parse_open(c, &k, &sent);
    if (rc == MRD_OK)
        rc = parse_open(c, &k, &rcvd);
    if (rc == MRD_OK)
        rc = find_peer(b, c, &m->peer, true, &pe);
    if (rc != MRD_OK)
        return rc;
    pe->up = true;
    pe->as4 = sent.as4 && rcvd.as4;
    pe->local_as = sent.as;
    /* Adj-RIB-In holds what the peer sent: path ids when it offered to
     * send (bit 2) and we to receive (bit 1); Adj-RIB-Out the reverse. */
    for (int f = 0; f < 2; f++)
        pe->addpath[f] = m->peer.adj_rib_out ? (sent.addpath[f] & 2) && (rcvd.addpath[f] & 1)
                                             : (rcvd.addpath[f] & 2) && (sent.addpath[f] & 1);
    pe->has_view = false;
    m->as4 = pe->as4;
    m->addpath_v4 = pe->addpath[0];
    m->addpath_v6 = pe->addpath[1];
    return MRD_OK;
}

/* Initiation and Termination (RFC 7854 §4.3, §4.5): type, length, value. */
static enum mrd_code info_tlvs(const struct ctx *c, struct bgp__cur k, struct bgp_bmp_msg *m)
{
    while (k.left > 0) {
        uint16_t type, len;
        const uint8_t *v;
        if (!bgp__get16(&k, &type) || !bgp__get16(&k, &len) || !bgp__take(&k, len, &v))
            return bad(c, "information TLV beyond the message", "RFC 7854 §4.4");
        if (m->type == BGP_BMP_INITIATION && type == 2) {
            m->sys_name = (const char *)v;
            m->sys_name_len = len;
        } else if (m->type == BGP_BMP_INITIATION && type == 1) {
            m->sys_descr = (const char *)v;
            m->sys_descr_len = len;
        } else if (m->type == BGP_BMP_TERMINATION && type == 1) {
            if (len != 2)
                return bad(c, "termination reason is not 2 bytes", "RFC 7854 §4.5");
            m->has_term_reason = true;
            m->term_reason = (uint16_t)(v[0] << 8 | v[1]);
        }
    }
    return MRD_OK;
}

/* Statistics Report (RFC 7854 §4.8): a count, then that many TLVs. */
static enum mrd_code stats(const struct ctx *c, struct bgp__cur k, struct bgp_bmp_msg *m)
{
    if (!bgp__get32(&k, &m->nstats))
        return bad(c, "truncated statistics count", "RFC 7854 §4.8");
    for (uint32_t i = 0; i < m->nstats; i++) {
        uint16_t type, len;
        const uint8_t *v;
        if (!bgp__get16(&k, &type) || !bgp__get16(&k, &len) || !bgp__take(&k, len, &v))
            return bad(c, "statistics TLV beyond the message (count too high?)", "RFC 7854 §4.8");
    }
    return MRD_OK;
}

static void state_route(const struct bgp_bmp_msg *m, uint16_t from, uint16_t to,
                        struct bgp_route *r)
{
    memset(r, 0, sizeof(*r));
    r->kind = BGP_ROUTE_STATE;
    r->time = m->peer.time;
    r->time_usec = m->peer.time_usec;
    r->peer_ip = m->peer.addr;
    r->peer_as = m->peer.as;
    r->old_state = from;
    r->new_state = to;
}

enum mrd_code bgp_bmp_decode(struct bgp_bmp *b, const uint8_t *msg, size_t len, uint64_t offset,
                             struct bgp_bmp_msg *m, bgp_route_fn fn, void *fn_ctx,
                             struct mrd_err *err)
{
    struct ctx c = {offset, err};
    struct bgp__cur k = {msg, len};
    struct bmp_peer *pe = NULL;
    struct bgp_route r;
    uint32_t mlen;
    uint8_t version;
    enum mrd_code rc;

    memset(m, 0, sizeof(*m));
    if (!bgp__get8(&k, &version) || !bgp__get32(&k, &mlen) || !bgp__get8(&k, &m->type))
        return bad(&c, "truncated common header", "RFC 7854 §4.1");
    if (version != BMP_VERSION)
        return bad(&c, "version is not 3", "RFC 7854 §4.1");
    if (mlen != len)
        return bad(&c, "message length disagrees with the bytes given", "RFC 7854 §4.1");
    if (m->type == BGP_BMP_INITIATION || m->type == BGP_BMP_TERMINATION)
        return info_tlvs(&c, k, m);
    if (m->type > BGP_BMP_ROUTE_MIRRORING)
        return bad(&c, "unknown message type", "RFC 7854 §4.1");
    rc = peer_header(&c, &k, &m->peer);
    if (rc != MRD_OK)
        return rc;
    m->has_peer = true;
    switch (m->type) {
    case BGP_BMP_ROUTE_MONITORING: {
        struct bgp__update_opts o = {.unit = "bmp: message", .offset = offset, .asn_size = 4};
        uint8_t view = m->peer.flags & 0x50;
        bool stopped;
        rc = find_peer(b, &c, &m->peer, true, &pe);
        if (rc != MRD_OK)
            return rc;
        if (!pe->has_view) {
            pe->has_view = true;
            pe->view = view;
        }
        m->primary_view = pe->view == view;
        if (m->peer.legacy_as || (pe->up && !pe->as4))
            o.asn_size = 2;
        o.addpath_v4 = pe->addpath[0];
        o.addpath_v6 = pe->addpath[1];
        /* FRR (8.4 in Debian 12; fixed upstream by FRRouting/frr pull request
         * 21815: its BMP reused the encoder of UPDATEs sent to peers)
         * prepends its own AS to the eBGP Adj-RIB-In routes it reports,
         * which would make the router look like a hop of every path. */
        if (pe->up && !m->peer.adj_rib_out && pe->local_as != m->peer.as)
            o.drop_first_as = pe->local_as;
        memset(&r, 0, sizeof(r));
        r.time = m->peer.time;
        r.time_usec = m->peer.time_usec;
        r.peer_ip = m->peer.addr;
        r.peer_as = m->peer.as;
        return bgp__update_decode(b->mrt, k.p, k.left, &o, &r, fn, fn_ctx, &stopped, err);
    }
    case BGP_BMP_STATISTICS:
        return stats(&c, k, m);
    case BGP_BMP_PEER_DOWN:
        if (!bgp__get8(&k, &m->down_reason))
            return bad(&c, "truncated Peer Down reason", "RFC 7854 §4.9");
        rc = find_peer(b, &c, &m->peer, false, &pe);
        if (rc != MRD_OK)
            return rc;
        if (pe != NULL) /* forget it: a new session negotiates afresh */
            *pe = b->peers[--b->npeers];
        b->last = 0;
        state_route(m, STATE_ESTABLISHED, STATE_IDLE, &r);
        (void)fn(&r, fn_ctx);
        return MRD_OK;
    case BGP_BMP_PEER_UP:
        rc = peer_up(b, &c, k, m);
        if (rc != MRD_OK)
            return rc;
        state_route(m, STATE_IDLE, STATE_ESTABLISHED, &r);
        (void)fn(&r, fn_ctx);
        return MRD_OK;
    default: /* Route Mirroring: verbatim messages, no routes to judge */
        return MRD_OK;
    }
}

enum mrd_code bgp_bmp_decode_all(struct bgp_bmp *b, const uint8_t *buf, size_t len,
                                 uint64_t base_offset, bgp_route_fn fn, void *ctx,
                                 struct mrd_err *err)
{
    size_t off = 0;

    while (off < len) {
        size_t n;
        struct bgp_bmp_msg m;
        enum mrd_code rc = bgp_bmp_frame(buf + off, len - off, base_offset + off, &n, err);
        if (rc != MRD_OK)
            return rc;
        if (n == 0)
            return mrd_err_set(err, MRD_E_PARSE,
                               "bmp: message at offset %llu: cut short by the end of the input "
                               "(RFC 7854 §4.1)",
                               (unsigned long long)(base_offset + off));
        rc = bgp_bmp_decode(b, buf + off, n, base_offset + off, &m, fn, ctx, err);
        if (rc != MRD_OK)
            return rc;
        off += n;
    }
    return MRD_OK;
}
