/* Big-endian byte writers for the bgp/ unit tests (MRT records, BMP
 * messages): each appends to a fixed buffer and fails the test when full. */
#ifndef MRD_TEST_BGP_WIRE_H
#define MRD_TEST_BGP_WIRE_H

#include <stdint.h>
#include <string.h>

struct w {
    uint8_t b[4096];
    size_t n;
};

static inline void put(struct w *w, const void *p, size_t n)
{
    assert_true(w->n + n <= sizeof(w->b));
    memcpy(w->b + w->n, p, n);
    w->n += n;
}

static inline void u8(struct w *w, uint8_t v)
{
    put(w, &v, 1);
}

static inline void u16(struct w *w, uint16_t v)
{
    uint8_t b[2] = {(uint8_t)(v >> 8), (uint8_t)v};
    put(w, b, 2);
}

static inline void u32(struct w *w, uint32_t v)
{
    uint8_t b[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
    put(w, b, 4);
}

#endif
