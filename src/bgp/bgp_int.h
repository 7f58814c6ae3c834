/*
 * bgp_int.h: helpers shared by the files of src/bgp/, not part of its API.
 *
 * An AS path is kept compactly as "flat" 32-bit words: per segment
 * type << 16 | count, then its ASNs. BGP__FLAT_MAX words hold any path.
 */
#ifndef MRD_BGP_INT_H
#define MRD_BGP_INT_H

#include "bgp/bgp.h"

#define BGP__FLAT_MAX (BGP_MAX_PATH_SEGS + BGP_MAX_PATH_ASNS)

/* A bounds-checked read cursor over a byte buffer: every read knows how
 * many bytes are left, so no length field from outside can move a read
 * past the buffer. Readers return false when the bytes are not there. */
struct bgp__cur {
    const uint8_t *p;
    size_t left;
};

static inline bool bgp__take(struct bgp__cur *k, size_t n, const uint8_t **ret)
{
    if (k->left < n)
        return false;
    *ret = k->p;
    k->p += n;
    k->left -= n;
    return true;
}

static inline bool bgp__get8(struct bgp__cur *k, uint8_t *v)
{
    const uint8_t *p;
    if (!bgp__take(k, 1, &p))
        return false;
    *v = p[0];
    return true;
}

static inline bool bgp__get16(struct bgp__cur *k, uint16_t *v)
{
    const uint8_t *p;
    if (!bgp__take(k, 2, &p))
        return false;
    *v = (uint16_t)(p[0] << 8 | p[1]);
    return true;
}

static inline uint32_t bgp__be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline bool bgp__get32(struct bgp__cur *k, uint32_t *v)
{
    const uint8_t *p;
    if (!bgp__take(k, 4, &p))
        return false;
    *v = bgp__be32(p);
    return true;
}

size_t bgp__path_flatten(const struct bgp_aspath *p, uint32_t *w);
void bgp__path_unflatten(const uint32_t *w, size_t n, struct bgp_aspath *p);

/* FNV-1a of n bytes, continuing from h (start with BGP__FNV_INIT). */
#define BGP__FNV_INIT 1469598103934665603ull
uint64_t bgp__fnv(uint64_t h, const void *p, size_t n);

/* How bgp__update_decode reads one BGP message. */
struct bgp__update_opts {
    const char *unit;            /* error prefix: "mrt: record", "bmp: message" */
    uint64_t offset;             /* where the record or message starts, for errors */
    unsigned asn_size;           /* 2 or 4: AS_PATH encoding (RFC 6793) */
    bool addpath_v4, addpath_v6; /* RFC 7911 path identifiers per family */
    /* Nonzero: an AS_PATH that starts with this ASN and then the route's
     * peer AS loses its first ASN (the monitored router's own AS, which
     * FRR's BMP prepends to the Adj-RIB-In routes it reports: bmp.c). */
    uint32_t drop_first_as;
};

/* Decodes one BGP message (marker, length, type; RFC 4271 §4.1) at the
 * start of (msg, len), the UPDATE decoder MRT and BMP share: an UPDATE's
 * withdrawals and announcements go to fn with r's other fields (time,
 * peer) as the caller set them; other message types carry no routes.
 * Bytes after the message are ignored. mrt holds the scratch attributes. */
enum mrd_code bgp__update_decode(struct bgp_mrt *mrt, const uint8_t *msg, size_t len,
                                 const struct bgp__update_opts *o, struct bgp_route *r,
                                 bgp_route_fn fn, void *fn_ctx, bool *ret_stopped,
                                 struct mrd_err *err);
/* Starts loading the hash slot of link (a, b) so that a later
 * bgp_asrel_get of it does not wait for memory; NULL rel is a no-op. */
void bgp__asrel_prefetch(const struct bgp_asrel *rel, uint32_t a, uint32_t b);

/* bgp__asrel_prefetch for every link bgp_leak_check(rel, attrs) will look
 * up. */
void bgp__leak_prefetch(const struct bgp_asrel *rel, const struct bgp_attrs *attrs);

#endif
