/* SHA-1 as specified in FIPS 180-4 §6.1, written for clarity over speed:
 * it hashes a namespace and a short canonical JSON name per SCO id. */
#include "core/sha1.h"

#include <string.h>

static uint32_t rol(uint32_t x, unsigned n)
{
    return (x << n) | (x >> (32 - n));
}

static void compress(uint32_t h[5], const uint8_t b[64])
{
    uint32_t w[80], a = h[0], bb = h[1], c = h[2], d = h[3], e = h[4];

    for (int t = 0; t < 16; t++)
        w[t] = (uint32_t)b[4 * t] << 24 | (uint32_t)b[4 * t + 1] << 16 |
               (uint32_t)b[4 * t + 2] << 8 | (uint32_t)b[4 * t + 3];
    for (int t = 16; t < 80; t++)
        w[t] = rol(w[t - 3] ^ w[t - 8] ^ w[t - 14] ^ w[t - 16], 1);
    for (int t = 0; t < 80; t++) {
        uint32_t f, k, tmp;

        if (t < 20) {
            f = (bb & c) | (~bb & d);
            k = 0x5A827999;
        } else if (t < 40) {
            f = bb ^ c ^ d;
            k = 0x6ED9EBA1;
        } else if (t < 60) {
            f = (bb & c) | (bb & d) | (c & d);
            k = 0x8F1BBCDC;
        } else {
            f = bb ^ c ^ d;
            k = 0xCA62C1D6;
        }
        tmp = rol(a, 5) + f + e + k + w[t];
        e = d;
        d = c;
        c = rol(bb, 30);
        bb = a;
        a = tmp;
    }
    h[0] += a;
    h[1] += bb;
    h[2] += c;
    h[3] += d;
    h[4] += e;
}

void mrd_sha1_init(struct mrd_sha1 *c)
{
    static const uint32_t iv[5] = {0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0};

    memcpy(c->h, iv, sizeof(iv));
    c->total = 0;
    c->used = 0;
}

void mrd_sha1_update(struct mrd_sha1 *c, const void *p, size_t n)
{
    const uint8_t *s = p;

    c->total += n;
    while (n > 0) {
        size_t take = 64 - c->used < n ? 64 - c->used : n;

        memcpy(c->block + c->used, s, take);
        c->used += take;
        s += take;
        n -= take;
        if (c->used == 64) {
            compress(c->h, c->block);
            c->used = 0;
        }
    }
}

void mrd_sha1_final(struct mrd_sha1 *c, uint8_t out[MRD_SHA1_LEN])
{
    uint64_t bits = c->total * 8;
    uint8_t len[8];

    /* padding: 0x80, zeros up to 56 mod 64, then the bit length big-endian */
    for (int i = 0; i < 8; i++)
        len[i] = (uint8_t)(bits >> (56 - 8 * i));
    c->block[c->used++] = 0x80;
    if (c->used > 56) {
        memset(c->block + c->used, 0, 64 - c->used);
        compress(c->h, c->block);
        c->used = 0;
    }
    memset(c->block + c->used, 0, 56 - c->used);
    memcpy(c->block + 56, len, 8);
    compress(c->h, c->block);
    for (int i = 0; i < 5; i++) {
        out[4 * i] = (uint8_t)(c->h[i] >> 24);
        out[4 * i + 1] = (uint8_t)(c->h[i] >> 16);
        out[4 * i + 2] = (uint8_t)(c->h[i] >> 8);
        out[4 * i + 3] = (uint8_t)c->h[i];
    }
}
