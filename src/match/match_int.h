/*
 * match internals shared between index.c, norm.c, scan.c and stix.c.
 * Not a public interface: only src/match/ includes it (and its unit tests).
 */
#ifndef MRD_MATCH_INT_H
#define MRD_MATCH_INT_H

#include <stdint.h>
#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "match/match.h"

static inline unsigned char match__lower(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') ? (unsigned char)(c | 0x20) : c;
}

/* A fast 64-bit hash over n bytes, reading 8 bytes at a time. With fold,
 * every byte is OR-ed with 0x20 first, so "EVIL.com" and "evil.com" hash
 * alike (lower-case letters, digits, '.', '-' are unchanged by it); the
 * exact comparison after the probe decides. */
static inline uint64_t match__hash(const char *p, size_t n, uint64_t seed, int fold)
{
    const uint64_t k = 0x9E3779B97F4A7C15ull;
    uint64_t mask = fold ? 0x2020202020202020ull : 0;
    uint64_t h = seed ^ ((uint64_t)n * k);
    uint64_t w;

    while (n >= 8) {
        memcpy(&w, p, 8);
        w |= mask;
        h = (h ^ w) * 0xbf58476d1ce4e5b9ull;
        h ^= h >> 29;
        p += 8;
        n -= 8;
    }
    if (n > 0) {
        w = 0;
        memcpy(&w, p, n);
        w |= mask >> (64 - 8 * n);
        h = (h ^ w) * 0xbf58476d1ce4e5b9ull;
        h ^= h >> 29;
    }
    h *= 0x94d049bb133111ebull;
    h ^= h >> 31;
    return h;
}

#if defined(__SSE2__)
/* The last 1-15 bytes of [p, end) as one 16-byte block when that read
 * stays inside p's page, which is mapped because p is: most fields are
 * shorter than 16 bytes, and a byte loop over them costs more than the
 * search. Bytes past end are read but masked off; AddressSanitizer, which
 * would call that read an overflow, is told not to check it. */
#define MATCH_TAIL_OK(p) (((uintptr_t)(p)&4095) <= 4096 - 16)
#if defined(__clang__) || defined(__GNUC__)
#define MATCH_NO_ASAN __attribute__((no_sanitize_address))
#else
#define MATCH_NO_ASAN
#endif
static inline MATCH_NO_ASAN __m128i match__load_tail(const char *p)
{
    return _mm_loadu_si128((const __m128i *)(const void *)p);
}
#endif

/* First c in [p, end), or end. Inline and 16 bytes at a time: fields are
 * short, so a library call per field would cost more than the search. */
static inline const char *match__find(const char *p, const char *end, char c)
{
#if defined(__SSE2__)
    const __m128i needle = _mm_set1_epi8(c);
    while (end - p >= 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
        unsigned m = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, needle));
        if (m != 0)
            return p + __builtin_ctz(m);
        p += 16;
    }
    if (p < end && MATCH_TAIL_OK(p)) {
        unsigned m = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(match__load_tail(p), needle));
        m &= (1u << (end - p)) - 1;
        return m != 0 ? p + __builtin_ctz(m) : end;
    }
#endif
    while (p < end && *p != c)
        p++;
    return p;
}

/* First byte in [p, end) that is a or b, or end. */
static inline const char *match__find2(const char *p, const char *end, char a, char b)
{
#if defined(__SSE2__)
    const __m128i na = _mm_set1_epi8(a), nb = _mm_set1_epi8(b);
    while (end - p >= 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
        unsigned m =
            (unsigned)_mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(v, na), _mm_cmpeq_epi8(v, nb)));
        if (m != 0)
            return p + __builtin_ctz(m);
        p += 16;
    }
    if (p < end && MATCH_TAIL_OK(p)) {
        __m128i v = match__load_tail(p);
        unsigned m =
            (unsigned)_mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(v, na), _mm_cmpeq_epi8(v, nb)));
        m &= (1u << (end - p)) - 1;
        return m != 0 ? p + __builtin_ctz(m) : end;
    }
#endif
    while (p < end && *p != a && *p != b)
        p++;
    return p;
}

/* match_ipv4_parse(), inline: the scan parses an address in most fields. */
static inline bool match__ipv4_parse(const char *s, size_t n, uint32_t *ret)
{
    unsigned char b[16] = {0};
    uint32_t addr = 0;
    size_t i = 0;

    /* Every address is 7 to 15 bytes ("1.2.3.4" to "255.255.255.255"):
     * most host names fail here or at their first letter. The copy ends
     * in a NUL, which is neither a digit nor a dot, so the loop needs no
     * bounds checks: this runs for every address field of every line. */
    if (n < 7 || n > 15)
        return false;
    /* fixed-size copies (the second overlaps the first): no memcpy call */
    if (n >= 8) {
        memcpy(b, s, 8);
        memcpy(b + n - 8, s + n - 8, 8);
    } else {
        memcpy(b, s, 7);
    }
    for (int part = 0; part < 4; part++) {
        unsigned v, d;

        if (part > 0 && b[i++] != '.')
            return false;
        if ((v = (unsigned)(b[i] - '0')) > 9)
            return false;
        i++;
        /* up to three digits; a fourth fails the '.' or length test */
        if ((d = (unsigned)(b[i] - '0')) <= 9) {
            v = v * 10 + d;
            i++;
            if ((d = (unsigned)(b[i] - '0')) <= 9) {
                v = v * 10 + d;
                i++;
            }
        }
        if (v > 255)
            return false;
        addr = (addr << 8) | v;
    }
    if (i != n)
        return false;
    *ret = addr;
    return true;
}

/* Domain name normalisation in place is not possible on borrowed bytes, so
 * lookups compare case-insensitively against stored lower-case keys. */
size_t match__host_trim(const char *s, size_t n);

#endif
