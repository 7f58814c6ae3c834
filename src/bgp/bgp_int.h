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

size_t bgp__path_flatten(const struct bgp_aspath *p, uint32_t *w);
void bgp__path_unflatten(const uint32_t *w, size_t n, struct bgp_aspath *p);

/* FNV-1a of n bytes, continuing from h (start with BGP__FNV_INIT). */
#define BGP__FNV_INIT 1469598103934665603ull
uint64_t bgp__fnv(uint64_t h, const void *p, size_t n);

/* Starts loading the hash slot of link (a, b) so that a later
 * bgp_asrel_get of it does not wait for memory; NULL rel is a no-op. */
void bgp__asrel_prefetch(const struct bgp_asrel *rel, uint32_t a, uint32_t b);

#endif
