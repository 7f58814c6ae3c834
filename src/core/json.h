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
#include <stdbool.h>
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

/* What parsing a document builds, counted by one linear pass that does
 * not validate (mrd_json_parse does): for planning memory before the
 * parse. Counts are upper bounds for valid JSON. */
struct mrd_json_shape {
    size_t objects, arrays, members, strings, string_bytes, max_string, numbers, literals;
};

void mrd_json_shape_scan(const char *s, size_t n, struct mrd_json_shape *ret);

/* An upper bound of the heap memory, malloc's per-chunk overhead included,
 * that mrd_json_parse of a document of n bytes and that shape allocates
 * (the tree it returns and its transient buffers), for jansson 2.x: an
 * object costs its struct, 8 hash buckets and per member a pair plus
 * bucket growth; an array its struct, 8 slots and per element slot
 * growth; a string its struct and its bytes; a number its struct. Near
 * 80 times n for dense input such as [{},{},...]; for STIX envelopes the
 * parse takes about 7 times n and the bound says 10. Saturates at
 * SIZE_MAX. */
size_t mrd_json_shape_cost(const struct mrd_json_shape *sh, size_t n);

/* Appends the RFC 8785 canonical form of v to out. Fails with MRD_E_INVAL
 * for a number JSON cannot express (NaN, infinity) and MRD_E_TOOBIG when out
 * reaches its maximum. */
enum mrd_code mrd_jcs_write(const json_t *v, struct mrd_buf *out, struct mrd_err *err);

/* Where one more member fits into canonical text (mrd_jcs_write_slot). */
struct mrd_jcs_slot {
    size_t at;         /* offset in the output where the member's text goes */
    bool comma_before; /* a member precedes it: write "," before the member */
    bool comma_after;  /* a member follows it: write "," after the member */
    bool inside;       /* the slot is inside the existing `outer` dictionary */
};

/* mrd_jcs_write of the object v, which also finds where a member named
 * inner of v's member outer would be in v's canonical form: inside outer
 * when v has it (ret->inside; it must then be an object without inner),
 * else where a new member outer (holding inner) would go among v's
 * members. Inserting `"inner":value` (inside) or `"outer":{"inner":value}`
 * at ret->at, with the commas ret says, gives the canonical form of v
 * with that member added, without a second pass over v: how a signature
 * is added to the bytes it covers (crypto.h). MRD_E_INVAL when v is not an
 * object, outer is not an object or already holds inner. */
enum mrd_code mrd_jcs_write_slot(const json_t *v, const char *outer, const char *inner,
                                 struct mrd_buf *out, struct mrd_jcs_slot *ret,
                                 struct mrd_err *err);

/* Appends the JSON string of (s, n) as mrd_jcs_write writes strings (and
 * jansson's json_dumps without JSON_ENSURE_ASCII): quotes, backslashes and
 * control characters escaped, UTF-8 as it is. MRD_E_INVAL when (s, n) is
 * not valid UTF-8; MRD_E_TOOBIG past out's maximum. For writers that build
 * JSON text without a DOM. */
enum mrd_code mrd_jcs_string(const char *s, size_t n, struct mrd_buf *out, struct mrd_err *err);

/* Appends the ECMAScript Number::toString form of d (RFC 8785 §3.2.2.3). */
enum mrd_code mrd_jcs_number(double d, struct mrd_buf *out, struct mrd_err *err);

/* True when the array arr holds a value equal to v (json_equal); false
 * when arr is not an array. */
bool mrd_json_array_has(const json_t *arr, const json_t *v);

#endif
