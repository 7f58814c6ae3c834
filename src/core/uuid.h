/*
 * uuid: RFC 4122 UUIDs in their 36-character text form.
 *
 * Version 4 from the kernel CSPRNG (getrandom(2)), version 5 (SHA-1 over a
 * namespace and a name, RFC 4122 §4.3) for STIX deterministic identifiers,
 * and a syntax check that identifier validation builds on.
 * STIX 2.1 §2.9: an SCO's id is "<type>--" + v5(MRD_UUID_STIX_NAMESPACE,
 * RFC 8785 form of its ID contributing properties); computing that name is
 * the caller's business (stix/), this module only hashes bytes.
 * Output is always lowercase; input may be either case.
 * Pure except for getrandom(2); no allocation; thread-safe. Never logs.
 */
#ifndef MRD_CORE_UUID_H
#define MRD_CORE_UUID_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

#define MRD_UUID_LEN 16     /* bytes */
#define MRD_UUID_STR_LEN 36 /* characters, without the NUL */

/* STIX 2.1 §2.9: the namespace of every deterministic SCO identifier. */
#define MRD_UUID_STIX_NAMESPACE "00abedb4-aa42-466c-9c01-fed23315a9b7"

/* Writes a fresh random (version 4) UUID and a NUL into out. Fails with
 * MRD_E_IO only when the kernel refuses randomness (getrandom(2) errors). */
enum mrd_code mrd_uuid_v4(char out[MRD_UUID_STR_LEN + 1], struct mrd_err *err);

/* Writes the name-based (version 5) UUID of (name, len) in namespace ns and a
 * NUL into out. ns is a UUID in text form, exactly MRD_UUID_STR_LEN
 * characters (no NUL needed); a malformed ns fails with MRD_E_INVAL. */
enum mrd_code mrd_uuid_v5(const char *ns, const char *name, size_t len,
                          char out[MRD_UUID_STR_LEN + 1], struct mrd_err *err);

/* A deterministic STIX identifier: "TYPE--" + the version 5 UUID of name
 * (NUL-terminated) in namespace ns, into out (size bytes). MRD_E_TOOBIG
 * when it does not fit (out is then ""). */
enum mrd_code mrd_uuid_v5_id(const char *type, const char *ns, const char *name, char *out,
                             size_t size, struct mrd_err *err);

/* Checks that (s, n) is an RFC 4122 UUID: 8-4-4-4-12 hex digits (either
 * case), the variant bits 10xx (§4.1.1) and a version 1-5 (§4.1.3). On
 * success stores the version in *ret_version (may be NULL). Otherwise fails
 * with MRD_E_PARSE, naming the offset of the first bad character. */
enum mrd_code mrd_uuid_check(const char *s, size_t n, int *ret_version, struct mrd_err *err);

/* Parses the text form (same rules as mrd_uuid_check) into 16 bytes. */
enum mrd_code mrd_uuid_parse(const char *s, size_t n, uint8_t ret[MRD_UUID_LEN],
                             struct mrd_err *err);

/* Writes the lowercase text form of u and a NUL into out. */
void mrd_uuid_format(const uint8_t u[MRD_UUID_LEN], char out[MRD_UUID_STR_LEN + 1]);

#endif
