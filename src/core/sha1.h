/*
 * sha1: SHA-1 (FIPS 180-4), for UUID version 5 only (RFC 4122 §4.3).
 *
 * SHA-1 is broken for collision resistance; it is here because RFC 4122
 * fixes it for name-based UUIDs and STIX 2.1 §2.9 derives SCO ids that way.
 * Never use it for signatures or integrity (crypto/ uses libsodium).
 * libsodium has no SHA-1, hence this small internal implementation.
 * Pure, no allocation, thread-safe per context. Internal to core/.
 */
#ifndef MRD_CORE_SHA1_H
#define MRD_CORE_SHA1_H

#include <stddef.h>
#include <stdint.h>

#define MRD_SHA1_LEN 20

struct mrd_sha1 {
    uint32_t h[5];
    uint64_t total; /* bytes hashed so far */
    uint8_t block[64];
    size_t used; /* bytes waiting in block */
};

void mrd_sha1_init(struct mrd_sha1 *c);
void mrd_sha1_update(struct mrd_sha1 *c, const void *p, size_t n);
/* Writes the digest; the context must be initialised again before reuse. */
void mrd_sha1_final(struct mrd_sha1 *c, uint8_t out[MRD_SHA1_LEN]);

#endif
