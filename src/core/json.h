/*
 * json: strict JSON in and canonical JSON out, over jansson.
 *
 * In: I-JSON (RFC 7493) — valid UTF-8 only, no duplicate member names, no
 * NUL characters, a document at most max_bytes long and nested at most
 * max_depth deep. Errors give the byte offset.
 * Out: RFC 8785 (JCS) canonical form — members sorted by UTF-16 code units,
 * no white space, ECMAScript number formatting, minimal string escapes.
 * Signatures (crypto/) are computed over that form, so it must be exact.
 * Pure and thread-safe (jansson values are not shared between threads).
 */
#ifndef MRD_CORE_JSON_H
#define MRD_CORE_JSON_H

#include <jansson.h>
#include <stddef.h>

#include "core/buf.h"
#include "core/err.h"

#define MRD_JSON_MAX_DEPTH 64                          /* default nesting limit */
#define MRD_JSON_MAX_BYTES ((size_t)256 * 1024 * 1024) /* default document limit */

struct mrd_json_limits {
    size_t max_bytes;
    unsigned max_depth;
};

/* Parses one JSON document (trailing white space allowed, nothing else).
 * limits may be NULL for the defaults. On success *ret owns a new reference. */
enum mrd_code mrd_json_parse(const char *s, size_t n, const struct mrd_json_limits *limits,
                             json_t **ret, struct mrd_err *err);

/* Appends the RFC 8785 canonical form of v to out. Fails with MRD_E_INVAL
 * for a number JSON cannot express (NaN, infinity) and MRD_E_TOOBIG when out
 * reaches its maximum. */
enum mrd_code mrd_jcs_write(const json_t *v, struct mrd_buf *out, struct mrd_err *err);

/* Appends the ECMAScript Number::toString form of d (RFC 8785 §3.2.2.3). */
enum mrd_code mrd_jcs_number(double d, struct mrd_buf *out, struct mrd_err *err);

#endif
