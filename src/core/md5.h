/*
 * md5: MD5 (RFC 1321), for the hashes.csv of a MISP feed only, whose
 * format fixes it (MISP matches feed values by their MD5).
 *
 * MD5 is broken; never use it for integrity or signatures (crypto/ uses
 * libsodium, which has no MD5). Pure, no allocation, thread-safe.
 */
#ifndef MRD_CORE_MD5_H
#define MRD_CORE_MD5_H

#include <stddef.h>
#include <stdint.h>

#define MRD_MD5_LEN 16

/* The MD5 digest of (p, n). */
void mrd_md5(const void *p, size_t n, uint8_t out[MRD_MD5_LEN]);

#endif
