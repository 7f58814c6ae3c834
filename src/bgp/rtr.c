/*
 * rtr.c: the RPKI-to-Router protocol, router side (RFC 8210 version 1 and
 * RFC 6810 version 0): PDU parsing and encoding, and the session state
 * (session ID, serial, the VRP table and its deltas). Pure: bytes in,
 * bytes out; rtr_client.c owns the socket.
 *
 * Table: the VRPs sorted by (family, address, length, maxLength, ASN). A
 * response's prefix PDUs are collected as operations and applied at End of
 * Data in one merge, so a broken response leaves the last table untouched.
 */
#include <stdlib.h>
#include <string.h>

#include "bgp/bgp.h"
#include "core/alloc.h"

#define RTR_HDR 8
#define RTR_DEF_REFRESH 3600 /* RFC 8210 §6: defaults, used for version 0 */
#define RTR_DEF_RETRY 600
#define RTR_DEF_EXPIRE 7200

struct rec {
    uint8_t afi, len, max_len, pad;
    uint32_t asn;
    uint8_t addr[16];
};

struct op {
    struct rec rec;
    uint32_t seq;
    bool announce;
};

enum state { ST_IDLE, ST_WAIT, ST_DATA };

struct bgp_rtr {
    uint8_t version;
    bool negotiated, has_session, has_data, expired, reset;
    enum state state;
    uint16_t session;
    uint32_t serial;
    uint32_t refresh, retry, expire;
    int64_t updated;
    struct rec *tab;
    size_t ntab;
    struct op *ops;
    size_t nops, capops;
    size_t last_announced, last_withdrawn;
};

static uint16_t be16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* ---- PDUs ---- */

static enum mrd_code bad(struct mrd_err *err, enum bgp_rtr_error *ret_code, enum bgp_rtr_error code,
                         const char *what, unsigned type)
{
    *ret_code = code;
    return mrd_err_set(err, MRD_E_PARSE, "rtr: PDU type %u: %s (RFC 8210 §5)", type, what);
}

static enum mrd_code parse_prefix(const uint8_t *p, unsigned width, struct bgp_rtr_pdu *pdu,
                                  enum bgp_rtr_error *ret_code, struct mrd_err *err)
{
    unsigned plen = p[9], maxlen = p[10], nbytes = width / 8;
    struct bgp_vrp *v = &pdu->vrp;

    pdu->announce = (p[8] & 1) != 0;
    if (plen > width || maxlen > width || maxlen < plen)
        return bad(err, ret_code, BGP_RTR_E_CORRUPT,
                   "prefix length or maxLength outside 0..width, or maxLength below length",
                   pdu->type);
    memset(v, 0, sizeof(*v));
    v->prefix.addr.afi = width == 32 ? BGP_AFI_IPV4 : BGP_AFI_IPV6;
    memcpy(v->prefix.addr.bytes, p + 12, nbytes);
    for (unsigned b = plen; b < width; b++) {
        if (v->prefix.addr.bytes[b / 8] & (0x80 >> (b % 8)))
            return bad(err, ret_code, BGP_RTR_E_CORRUPT, "prefix has host bits set", pdu->type);
    }
    v->prefix.len = (uint8_t)plen;
    v->max_len = (uint8_t)maxlen;
    v->asn = be32(p + 12 + nbytes);
    return MRD_OK;
}

enum mrd_code bgp_rtr_pdu_parse(const uint8_t *buf, size_t len, struct bgp_rtr_pdu *ret_pdu,
                                size_t *ret_len, enum bgp_rtr_error *ret_code, struct mrd_err *err)
{
    struct bgp_rtr_pdu *pdu = ret_pdu;
    uint32_t n;
    enum bgp_rtr_error dummy;

    if (ret_code == NULL)
        ret_code = &dummy;
    *ret_len = 0;
    if (len < RTR_HDR)
        return MRD_OK;
    memset(pdu, 0, sizeof(*pdu));
    pdu->version = buf[0];
    pdu->type = buf[1];
    pdu->session = be16(buf + 2);
    n = be32(buf + 4);
    pdu->length = n;
    if (pdu->version > 1) {
        *ret_code = BGP_RTR_E_UNSUPP_VERSION;
        return mrd_err_set(err, MRD_E_UNSUPP,
                           "rtr: PDU type %u: protocol version %u, this client speaks 0 and 1 "
                           "(RFC 8210 §7)",
                           pdu->type, pdu->version);
    }
    if (n < RTR_HDR || n > BGP_RTR_MAX_PDU) {
        *ret_code = BGP_RTR_E_CORRUPT;
        return mrd_err_set(err, MRD_E_TOOBIG,
                           "rtr: PDU type %u: length %u outside 8..%u bytes (RFC 8210 §5)",
                           pdu->type, n, (unsigned)BGP_RTR_MAX_PDU);
    }
    if (len < n)
        return MRD_OK;
    switch (pdu->type) {
    case BGP_RTR_SERIAL_NOTIFY:
    case BGP_RTR_SERIAL_QUERY:
        if (n != 12)
            return bad(err, ret_code, BGP_RTR_E_CORRUPT, "length is not 12", pdu->type);
        pdu->serial = be32(buf + 8);
        break;
    case BGP_RTR_RESET_QUERY:
    case BGP_RTR_CACHE_RESPONSE:
    case BGP_RTR_CACHE_RESET:
        if (n != 8)
            return bad(err, ret_code, BGP_RTR_E_CORRUPT, "length is not 8", pdu->type);
        break;
    case BGP_RTR_IPV4_PREFIX:
        if (n != 20)
            return bad(err, ret_code, BGP_RTR_E_CORRUPT, "length is not 20", pdu->type);
        if (parse_prefix(buf, 32, pdu, ret_code, err) != MRD_OK)
            return MRD_E_PARSE;
        break;
    case BGP_RTR_IPV6_PREFIX:
        if (n != 32)
            return bad(err, ret_code, BGP_RTR_E_CORRUPT, "length is not 32", pdu->type);
        if (parse_prefix(buf, 128, pdu, ret_code, err) != MRD_OK)
            return MRD_E_PARSE;
        break;
    case BGP_RTR_END_OF_DATA:
        if (n != (pdu->version == 0 ? 12u : 24u))
            return bad(err, ret_code, BGP_RTR_E_CORRUPT,
                       pdu->version == 0 ? "version 0 length is not 12"
                                         : "version 1 length is not 24",
                       pdu->type);
        pdu->serial = be32(buf + 8);
        if (pdu->version == 0) {
            pdu->refresh = RTR_DEF_REFRESH;
            pdu->retry = RTR_DEF_RETRY;
            pdu->expire = RTR_DEF_EXPIRE;
        } else {
            pdu->refresh = be32(buf + 12);
            pdu->retry = be32(buf + 16);
            pdu->expire = be32(buf + 20);
        }
        break;
    case BGP_RTR_ROUTER_KEY:
        if (pdu->version == 0)
            return bad(err, ret_code, BGP_RTR_E_UNSUPP_PDU, "Router Key in version 0", pdu->type);
        if (n < RTR_HDR + 20 + 4)
            return bad(err, ret_code, BGP_RTR_E_CORRUPT, "Router Key shorter than 32 bytes",
                       pdu->type);
        pdu->announce = (buf[2] & 1) != 0;
        break;
    case BGP_RTR_ERROR_REPORT: {
        uint32_t elen, tlen;
        if (n < 16)
            return bad(err, ret_code, BGP_RTR_E_CORRUPT, "Error Report shorter than 16 bytes",
                       pdu->type);
        elen = be32(buf + 8);
        if (elen > n - 16)
            return bad(err, ret_code, BGP_RTR_E_CORRUPT,
                       "encapsulated PDU length beyond the Error Report", pdu->type);
        tlen = be32(buf + 12 + elen);
        if (tlen != n - 16 - elen)
            return bad(err, ret_code, BGP_RTR_E_CORRUPT,
                       "error text length does not fill the Error Report", pdu->type);
        pdu->err_pdu = buf + 12;
        pdu->err_pdu_len = elen;
        pdu->err_text = buf + 16 + elen;
        pdu->err_text_len = tlen;
        break;
    }
    default:
        return bad(err, ret_code, BGP_RTR_E_UNSUPP_PDU, "unknown PDU type", pdu->type);
    }
    *ret_len = n;
    return MRD_OK;
}

enum mrd_code bgp_rtr_encode_query(uint8_t version, bool serial_query, uint16_t session,
                                   uint32_t serial, struct mrd_buf *out, struct mrd_err *err)
{
    uint8_t p[12] = {version, serial_query ? BGP_RTR_SERIAL_QUERY : BGP_RTR_RESET_QUERY};
    if (serial_query) {
        put16(p + 2, session);
        put32(p + 4, 12);
        put32(p + 8, serial);
        return mrd_buf_append(out, p, 12, err);
    }
    put32(p + 4, 8);
    return mrd_buf_append(out, p, 8, err);
}

enum mrd_code bgp_rtr_encode_error(uint8_t version, enum bgp_rtr_error code, const uint8_t *pdu,
                                   size_t pdu_len, const char *text, struct mrd_buf *out,
                                   struct mrd_err *err)
{
    size_t tlen = text != NULL ? strnlen(text, BGP_RTR_MAX_ERROR_TEXT) : 0;
    uint8_t h[12];
    uint8_t t[4];
    enum mrd_code rc;

    if (pdu_len > BGP_RTR_MAX_PDU - 16 - tlen)
        pdu_len = RTR_HDR < pdu_len ? RTR_HDR : pdu_len; /* too long to echo: its header */
    h[0] = version;
    h[1] = BGP_RTR_ERROR_REPORT;
    put16(h + 2, (uint16_t)code);
    put32(h + 4, (uint32_t)(16 + pdu_len + tlen));
    put32(h + 8, (uint32_t)pdu_len);
    put32(t, (uint32_t)tlen);
    rc = mrd_buf_append(out, h, sizeof(h), err);
    if (rc == MRD_OK && pdu_len > 0)
        rc = mrd_buf_append(out, pdu, pdu_len, err);
    if (rc == MRD_OK)
        rc = mrd_buf_append(out, t, sizeof(t), err);
    if (rc == MRD_OK && tlen > 0)
        rc = mrd_buf_append(out, text, tlen, err);
    return rc;
}

const char *bgp_rtr_error_name(enum bgp_rtr_error code)
{
    static const char *const names[] = {"Corrupt Data",
                                        "Internal Error",
                                        "No Data Available",
                                        "Invalid Request",
                                        "Unsupported Protocol Version",
                                        "Unsupported PDU Type",
                                        "Withdrawal of Unknown Record",
                                        "Duplicate Announcement Received",
                                        "Unexpected Protocol Version"};
    return (size_t)code < sizeof(names) / sizeof(names[0]) ? names[code] : "unknown error";
}

/* ---- session ---- */

enum mrd_code bgp_rtr_new(uint8_t version, struct bgp_rtr **ret_rtr, struct mrd_err *err)
{
    struct bgp_rtr *r;
    if (version > 1)
        return mrd_err_set(err, MRD_E_INVAL, "rtr: version %u: only 0 and 1 are supported",
                           version);
    r = mrd_calloc(1, sizeof(*r));
    if (r == NULL)
        return mrd_err_set(err, MRD_E_NOMEM, "rtr: out of memory");
    r->version = version;
    r->refresh = RTR_DEF_REFRESH;
    r->retry = RTR_DEF_RETRY;
    r->expire = RTR_DEF_EXPIRE;
    *ret_rtr = r;
    return MRD_OK;
}

void bgp_rtr_free(struct bgp_rtr *rtr)
{
    if (rtr == NULL)
        return;
    mrd_free(rtr->tab);
    mrd_free(rtr->ops);
    mrd_free(rtr);
}

void bgp_rtr_disconnected(struct bgp_rtr *rtr)
{
    rtr->state = ST_IDLE;
    rtr->nops = 0;
}

enum mrd_code bgp_rtr_query(struct bgp_rtr *rtr, struct mrd_buf *out, struct mrd_err *err)
{
    rtr->reset = !rtr->has_session;
    rtr->state = ST_WAIT;
    rtr->nops = 0;
    return bgp_rtr_encode_query(rtr->version, rtr->has_session, rtr->session, rtr->serial, out,
                                err);
}

static int cmp_rec(const struct rec *a, const struct rec *b)
{
    int c;
    if (a->afi != b->afi)
        return a->afi < b->afi ? -1 : 1;
    c = memcmp(a->addr, b->addr, sizeof(a->addr));
    if (c != 0)
        return c;
    if (a->len != b->len)
        return a->len < b->len ? -1 : 1;
    if (a->max_len != b->max_len)
        return a->max_len < b->max_len ? -1 : 1;
    return a->asn < b->asn ? -1 : a->asn > b->asn;
}

static int cmp_op(const void *pa, const void *pb)
{
    const struct op *a = pa, *b = pb;
    int c = cmp_rec(&a->rec, &b->rec);
    if (c != 0)
        return c;
    return a->seq < b->seq ? -1 : a->seq > b->seq;
}

/* Applies the collected operations to the table (a reset replaces it). */
static enum mrd_code apply(struct bgp_rtr *r, enum bgp_rtr_error *ret_code, struct mrd_err *err)
{
    size_t cap = (r->reset ? 0 : r->ntab) + r->nops, i = 0, j = 0, k = 0;
    struct rec *nt;

    if (r->nops > 0)
        qsort(r->ops, r->nops, sizeof(*r->ops), cmp_op);
    nt = mrd_malloc((cap > 0 ? cap : 1) * sizeof(*nt));
    if (nt == NULL) {
        *ret_code = BGP_RTR_E_INTERNAL;
        return mrd_err_set(err, MRD_E_NOMEM, "rtr: out of memory");
    }
    r->last_announced = r->last_withdrawn = 0;
    while (j < r->nops || (!r->reset && i < r->ntab)) {
        const struct rec *key;
        bool present;
        int c = 0;
        if (j == r->nops) {
            nt[k++] = r->tab[i++];
            continue;
        }
        if (!r->reset && i < r->ntab)
            c = cmp_rec(&r->tab[i], &r->ops[j].rec);
        if (!r->reset && i < r->ntab && c < 0) {
            nt[k++] = r->tab[i++];
            continue;
        }
        key = &r->ops[j].rec;
        present = !r->reset && i < r->ntab && c == 0;
        if (present)
            i++;
        for (; j < r->nops && cmp_rec(&r->ops[j].rec, key) == 0; j++) {
            bool ok = r->ops[j].announce ? !present : present;
            if (!ok) {
                mrd_free(nt);
                *ret_code = r->ops[j].announce ? BGP_RTR_E_DUPLICATE : BGP_RTR_E_WITHDRAW_UNKNOWN;
                return mrd_err_set(err, MRD_E_PARSE,
                                   "rtr: %s: AS%u, prefix length %u (RFC 8210 §5.6)",
                                   r->ops[j].announce ? "announcement of a VRP already held"
                                                      : "withdrawal of a VRP not held",
                                   key->asn, key->len);
            }
            present = r->ops[j].announce;
            if (present)
                r->last_announced++;
            else
                r->last_withdrawn++;
        }
        if (present)
            nt[k++] = *key;
    }
    mrd_free(r->tab);
    r->tab = nt;
    r->ntab = k;
    r->nops = 0;
    return MRD_OK;
}

static enum bgp_rtr_action fail(struct bgp_rtr *r, const uint8_t *pdu, size_t pdu_len,
                                enum bgp_rtr_error code, bool send, struct mrd_buf *out,
                                struct mrd_err *err)
{
    r->state = ST_IDLE;
    r->nops = 0;
    if (send)
        (void)bgp_rtr_encode_error(r->version, code, pdu, pdu_len, err ? err->msg : NULL, out,
                                   NULL);
    return BGP_RTR_A_CLOSE;
}

/* The cache's error text, with anything but printable ASCII as '?'. */
static void error_text(const struct bgp_rtr_pdu *p, char *s, size_t cap)
{
    size_t n = p->err_text_len < cap - 1 ? p->err_text_len : cap - 1;
    for (size_t i = 0; i < n; i++)
        s[i] = p->err_text[i] >= 0x20 && p->err_text[i] < 0x7f ? (char)p->err_text[i] : '?';
    s[n] = '\0';
}

static enum bgp_rtr_action handle(struct bgp_rtr *r, const struct bgp_rtr_pdu *p,
                                  const uint8_t *raw, int64_t now, struct mrd_buf *out,
                                  struct mrd_err *err)
{
    enum bgp_rtr_error code = BGP_RTR_E_CORRUPT;

    if (p->version != r->version) {
        /* RFC 8210 §7: a cache that does not speak our version answers the
         * first query with an Error Report (or data) in the highest version
         * it speaks; we then speak that one. Later, a version change is an
         * error. */
        if (!r->negotiated && p->version < r->version) {
            r->version = p->version;
            r->negotiated = true;
            if (p->type == BGP_RTR_ERROR_REPORT) {
                r->state = ST_IDLE;
                return BGP_RTR_A_QUERY;
            }
        } else {
            mrd_err_set(err, MRD_E_PARSE,
                        "rtr: PDU type %u in version %u, session speaks version %u (RFC 8210 §7)",
                        p->type, p->version, r->version);
            return fail(r, raw, p->length, BGP_RTR_E_UNEXPECTED_VERSION,
                        p->type != BGP_RTR_ERROR_REPORT, out, err);
        }
    }
    r->negotiated = true;
    switch (p->type) {
    case BGP_RTR_SERIAL_NOTIFY:
        /* A notify while a query is outstanding changes nothing. */
        return r->state == ST_IDLE ? BGP_RTR_A_QUERY : BGP_RTR_A_NONE;
    case BGP_RTR_CACHE_RESPONSE:
        if (r->state != ST_WAIT) {
            mrd_err_set(err, MRD_E_PARSE, "rtr: Cache Response without a query (RFC 8210 §5.5)");
            return fail(r, raw, p->length, BGP_RTR_E_CORRUPT, true, out, err);
        }
        if (r->has_session && !r->reset && p->session != r->session) {
            r->has_session = false; /* the next connection starts with a Reset Query */
            mrd_err_set(err, MRD_E_PARSE,
                        "rtr: cache changed its session ID from %u to %u (RFC 8210 §5.5)",
                        r->session, p->session);
            return fail(r, raw, p->length, BGP_RTR_E_CORRUPT, true, out, err);
        }
        r->session = p->session;
        r->state = ST_DATA;
        r->nops = 0;
        return BGP_RTR_A_NONE;
    case BGP_RTR_IPV4_PREFIX:
    case BGP_RTR_IPV6_PREFIX: {
        struct op *o;
        if (r->state != ST_DATA) {
            mrd_err_set(err, MRD_E_PARSE, "rtr: prefix PDU outside a response (RFC 8210 §5.6)");
            return fail(r, raw, p->length, BGP_RTR_E_CORRUPT, true, out, err);
        }
        if (r->reset && !p->announce) {
            mrd_err_set(err, MRD_E_PARSE, "rtr: withdrawal in a reset response (RFC 8210 §5.6)");
            return fail(r, raw, p->length, BGP_RTR_E_WITHDRAW_UNKNOWN, true, out, err);
        }
        if (r->nops + (r->reset ? 0 : r->ntab) >= BGP_MAX_VRPS) {
            mrd_err_set(err, MRD_E_TOOBIG, "rtr: more than %zu VRPs", BGP_MAX_VRPS);
            return fail(r, raw, p->length, BGP_RTR_E_INTERNAL, true, out, err);
        }
        if (mrd_array_grow(&r->ops, r->nops, &r->capops, sizeof(*r->ops), 1024) != MRD_OK) {
            mrd_err_set(err, MRD_E_NOMEM, "rtr: out of memory");
            return fail(r, raw, p->length, BGP_RTR_E_INTERNAL, true, out, err);
        }
        o = &r->ops[r->nops];
        memset(o, 0, sizeof(*o));
        o->rec.afi = p->vrp.prefix.addr.afi;
        o->rec.len = p->vrp.prefix.len;
        o->rec.max_len = p->vrp.max_len;
        o->rec.asn = p->vrp.asn;
        memcpy(o->rec.addr, p->vrp.prefix.addr.bytes, 16);
        o->announce = p->announce;
        o->seq = (uint32_t)r->nops++;
        return BGP_RTR_A_NONE;
    }
    case BGP_RTR_ROUTER_KEY:
        /* BGPsec router keys (RFC 8210 §5.10): not used by origin validation. */
        if (r->state != ST_DATA) {
            mrd_err_set(err, MRD_E_PARSE, "rtr: Router Key outside a response (RFC 8210 §5.10)");
            return fail(r, raw, p->length, BGP_RTR_E_CORRUPT, true, out, err);
        }
        return BGP_RTR_A_NONE;
    case BGP_RTR_END_OF_DATA:
        if (r->state != ST_DATA || p->session != r->session) {
            mrd_err_set(err, MRD_E_PARSE,
                        "rtr: End of Data outside a response or for another session "
                        "(RFC 8210 §5.8)");
            return fail(r, raw, p->length, BGP_RTR_E_CORRUPT, true, out, err);
        }
        if (apply(r, &code, err) != MRD_OK) {
            r->has_session = false; /* our copy is no longer the cache's: reset next time */
            return fail(r, raw, p->length, code, true, out, err);
        }
        r->serial = p->serial;
        r->has_session = r->has_data = true;
        r->expired = false;
        /* RFC 8210 §6 ranges. */
        r->refresh = p->refresh < 1 ? 1 : p->refresh > 86400 ? 86400 : p->refresh;
        r->retry = p->retry < 1 ? 1 : p->retry > 7200 ? 7200 : p->retry;
        r->expire = p->expire < 600 ? 600 : p->expire > 172800 ? 172800 : p->expire;
        r->updated = now;
        r->state = ST_IDLE;
        return BGP_RTR_A_UPDATED;
    case BGP_RTR_CACHE_RESET:
        if (r->state != ST_WAIT) {
            mrd_err_set(err, MRD_E_PARSE, "rtr: Cache Reset without a query (RFC 8210 §5.9)");
            return fail(r, raw, p->length, BGP_RTR_E_CORRUPT, true, out, err);
        }
        r->has_session = false;
        r->state = ST_IDLE;
        return BGP_RTR_A_QUERY;
    case BGP_RTR_ERROR_REPORT: {
        char text[128];
        error_text(p, text, sizeof(text));
        /* Whatever it was (a session the cache no longer knows, a serial
         * it cannot answer), the next query starts afresh with a Reset
         * Query; the table stays until it expires. */
        r->has_session = false;
        mrd_err_set(err, p->session == BGP_RTR_E_NO_DATA ? MRD_E_TIMEOUT : MRD_E_IO,
                    "rtr: the cache reports %s (code %u)%s%s", bgp_rtr_error_name(p->session),
                    p->session, text[0] ? ": " : "", text);
        return fail(r, raw, p->length, BGP_RTR_E_CORRUPT, false, out, err);
    }
    default:
        mrd_err_set(err, MRD_E_PARSE, "rtr: PDU type %u is a router's query (RFC 8210 §5)",
                    p->type);
        return fail(r, raw, p->length, BGP_RTR_E_INVALID_REQUEST, true, out, err);
    }
}

enum bgp_rtr_action bgp_rtr_input(struct bgp_rtr *rtr, const uint8_t *buf, size_t len, int64_t now,
                                  size_t *ret_used, struct mrd_buf *out, struct mrd_err *err)
{
    size_t off = 0;
    enum bgp_rtr_action a = BGP_RTR_A_NONE;

    while (a == BGP_RTR_A_NONE) {
        struct bgp_rtr_pdu p;
        size_t n = 0;
        enum bgp_rtr_error code = BGP_RTR_E_CORRUPT;
        if (bgp_rtr_pdu_parse(buf + off, len - off, &p, &n, &code, err) != MRD_OK) {
            mrd_err_prefix(err, "offset %zu", off);
            /* Never answer an Error Report with one (RFC 8210 §5.11). */
            a = fail(rtr, buf + off, len - off < RTR_HDR ? len - off : RTR_HDR, code,
                     len - off < 2 || buf[off + 1] != BGP_RTR_ERROR_REPORT, out, err);
            break;
        }
        if (n == 0)
            break;
        a = handle(rtr, &p, buf + off, now, out, err);
        off += n;
    }
    *ret_used = off;
    return a;
}

bool bgp_rtr_expire(struct bgp_rtr *rtr, int64_t now)
{
    if (!rtr->has_data || now - rtr->updated <= (int64_t)rtr->expire)
        return false;
    mrd_free(rtr->tab);
    rtr->tab = NULL;
    rtr->ntab = 0;
    rtr->has_data = false;
    rtr->has_session = false;
    rtr->expired = true;
    return true;
}

void bgp_rtr_status(const struct bgp_rtr *rtr, struct bgp_rtr_status *ret)
{
    memset(ret, 0, sizeof(*ret));
    ret->version = rtr->version;
    ret->has_data = rtr->has_data;
    ret->expired = rtr->expired;
    ret->has_session = rtr->has_session;
    ret->waiting = rtr->state != ST_IDLE;
    ret->session = rtr->session;
    ret->serial = rtr->serial;
    ret->count = rtr->ntab;
    ret->updated = rtr->updated;
    ret->refresh = rtr->refresh;
    ret->retry = rtr->retry;
    ret->expire = rtr->expire;
    ret->last_was_reset = rtr->reset;
    ret->last_announced = rtr->last_announced;
    ret->last_withdrawn = rtr->last_withdrawn;
}

enum mrd_code bgp_rtr_each(const struct bgp_rtr *rtr,
                           enum mrd_code (*fn)(const struct bgp_vrp *vrp, void *ctx), void *ctx)
{
    for (size_t i = 0; i < rtr->ntab; i++) {
        const struct rec *e = &rtr->tab[i];
        struct bgp_vrp vrp;
        enum mrd_code rc;
        memset(&vrp, 0, sizeof(vrp));
        vrp.prefix.addr.afi = e->afi;
        memcpy(vrp.prefix.addr.bytes, e->addr, 16);
        vrp.prefix.len = e->len;
        vrp.max_len = e->max_len;
        vrp.asn = e->asn;
        rc = fn(&vrp, ctx);
        if (rc != MRD_OK)
            return rc;
    }
    return MRD_OK;
}

struct add_ctx {
    struct bgp_vrps *vrps;
    struct mrd_err *err;
};

static enum mrd_code add_one(const struct bgp_vrp *vrp, void *arg)
{
    struct add_ctx *c = arg;
    return bgp_vrps_add(c->vrps, vrp, 0, c->err);
}

enum mrd_code bgp_rtr_vrps(const struct bgp_rtr *rtr, struct bgp_vrps **ret_vrps,
                           struct mrd_err *err)
{
    struct add_ctx c = {NULL, err};
    enum mrd_code rc = bgp_vrps_new(&c.vrps, err);

    if (rc == MRD_OK)
        rc = bgp_rtr_each(rtr, add_one, &c);
    if (rc != MRD_OK) {
        bgp_vrps_free(c.vrps);
        return rc;
    }
    bgp_vrps_finish(c.vrps);
    *ret_vrps = c.vrps;
    return MRD_OK;
}
