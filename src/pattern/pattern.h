/*
 * pattern: STIX 2.1 patterning (STIX 2.1 §9): parse, check, print, evaluate.
 *
 * Does: lexes and parses the whole §9 grammar with the spec's precedence,
 * checks constants and names (timestamps, hex, base64, MATCHES regexes via
 * PCRE2, CIDR operands of ISSUBSET/ISSUPERSET, qualifier numbers, START
 * before STOP, comparison operand types), prints a canonical form, and
 * decides whether observed data matches a pattern.
 * Does not: read files, talk to a store, log or print. Pure.
 *
 * Memory: a parsed pattern lives in one arena owned by struct pat_ast, so
 * parsing is a handful of allocations (pat_check allocates nothing on the
 * heap for typical indicator patterns). Every pointer handed out by an
 * introspection call stays valid until the AST (or program) is freed.
 *
 * Limits: a pattern longer than PAT_MAX_LEN bytes fails with MRD_E_TOOBIG;
 * nesting deeper than PAT_MAX_DEPTH fails with MRD_E_PARSE.
 *
 * Errors: MRD_E_PARSE for syntax and semantic errors, with a message such as
 * `pattern: offset 14: expected ']' (STIX 2.1 §9.5)` — the byte offset into
 * the source, what was expected or what is wrong, and the spec section.
 * MRD_E_NOMEM when out of memory.
 *
 * Threading: a struct pat_ast and a struct pat_prog are immutable after
 * creation and may be shared between threads; a struct pat_scratch belongs to
 * one thread at a time.
 */
#ifndef MRD_PATTERN_PATTERN_H
#define MRD_PATTERN_PATTERN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "core/buf.h"
#include "core/err.h"

#define PAT_MAX_LEN ((size_t)64 * 1024) /* longest pattern accepted, bytes */
#define PAT_MAX_DEPTH 64                /* deepest nesting of ( ) and [ ] */

struct pat_ast;     /* a parsed and checked pattern (opaque) */
struct pat_prog;    /* a pattern compiled for evaluation (opaque) */
struct pat_scratch; /* reusable per-thread evaluation memory (opaque) */

/* ---- parsing, checking, printing ---------------------------------------- */

/* Parses src and runs every semantic check, keeping nothing. Returns MRD_OK
 * for a valid STIX 2.1 pattern, MRD_E_PARSE (message in err) for an invalid
 * one. This is what the STIX validator calls for pattern_type "stix". */
enum mrd_code pat_check(const char *src, size_t len, struct mrd_err *err);

/* Parses and checks src. On success *ret_ast owns a new AST; on failure
 * *ret_ast is untouched. src need not be NUL-terminated and is not kept. */
enum mrd_code pat_parse(const char *src, size_t len, struct pat_ast **ret_ast, struct mrd_err *err);

/* Frees an AST; NULL is a no-op. */
void pat_ast_free(struct pat_ast *ast);

/* Appends the canonical form of ast to out: single spaces around operators,
 * upper-case keywords, `=` / `!=` for both spellings, grouping parentheses
 * exactly as written (they matter for qualifiers), strings re-escaped
 * minimally, hex in lower case, numbers without a leading '+', keys quoted
 * only when needed. pat_parse(pat_print(p)) equals pat_parse(p).
 * Fails with MRD_E_TOOBIG when out reaches its maximum. */
enum mrd_code pat_print(const struct pat_ast *ast, struct mrd_buf *out, struct mrd_err *err);

/* ---- introspection for the matcher's indexes ---------------------------- */

enum pat_lit_kind {
    PAT_LIT_STRING,
    PAT_LIT_INT,
    PAT_LIT_FLOAT,
    PAT_LIT_BOOL,
    PAT_LIT_TIMESTAMP,
    PAT_LIT_HEX,
    PAT_LIT_BINARY,
};

/* One `type:path = literal` test of a simple pattern. */
struct pat_term {
    const char *type; /* object type, e.g. "ipv4-addr" (NUL-terminated) */
    size_t type_len;
    const char *path; /* canonical path after the ':', e.g. "value",
                       * "hashes.'SHA-256'", "extensions.'x'.y" */
    size_t path_len;
    enum pat_lit_kind kind;
    const char *value; /* decoded literal text: string contents without quotes
                        * or escapes; digits for numbers; "true"/"false";
                        * the text inside t'', h'' or b'' */
    size_t value_len;
    bool hash; /* path is hashes.X: compare case-insensitively */
};

/* For a simple pattern — one observation expression (or an OR of them) with
 * no qualifiers, whose comparisons are `path = literal` or `path IN (...)`
 * joined only by OR — calls fn once per (path, literal) pair (IN sets give
 * one call per member) and returns MRD_OK; stops at the first non-MRD_OK
 * return of fn and returns it. Any other pattern returns MRD_E_UNSUPP
 * before calling fn at all. Two evaluator rules an index must honour:
 * a term with hash set compares case-insensitively, and a string literal
 * holding a CIDR block ('10.0.0.0/8') matches every address inside it.
 * term->type and term->value are borrowed from ast (valid while it lives);
 * term->path is valid only during the call. */
enum mrd_code pat_simple_terms(const struct pat_ast *ast,
                               enum mrd_code (*fn)(void *ctx, const struct pat_term *term,
                                                   struct mrd_err *err),
                               void *ctx, struct mrd_err *err);

/* ---- evaluation --------------------------------------------------------- */

/* Compiles a pattern for evaluation (parse + check + compile). */
enum mrd_code pat_prog_new(const char *src, size_t len, struct pat_prog **ret_prog,
                           struct mrd_err *err);

/* Frees a program; NULL is a no-op. */
void pat_prog_free(struct pat_prog *prog);

/* The AST the program was compiled from (borrowed; for pat_print and
 * pat_simple_terms). */
const struct pat_ast *pat_prog_ast(const struct pat_prog *prog);

/* Scratch memory for evaluation. Reusing one scratch per thread makes the
 * steady-state evaluation path allocation-free. */
struct pat_scratch *pat_scratch_new(void);
void pat_scratch_free(struct pat_scratch *s);

/* One observation, already taken apart (the fast path for the matcher).
 * Exactly one of objects / scos is set:
 *   objects: a 2.0-style dictionary {"0": {...SCO...}, "1": ...}; `_ref`
 *            values are keys of this dictionary;
 *   scos:    nscos SCOs (2.1 style); `_ref` values are STIX ids resolved
 *            among them.
 * Every SCO in the observation is a candidate root object. count copies
 * of the observation exist for AND, FOLLOWEDBY and REPEATS. */
struct pat_obs {
    const json_t *objects;
    const json_t *const *scos;
    size_t nscos;
    int64_t first_usec; /* first_observed, µs since the epoch */
    int64_t last_usec;  /* last_observed */
    uint32_t count;     /* number_observed (>= 1) */
};

/* Does the pattern match the observations? Sets *ret_match. scratch may be
 * NULL (then memory is allocated and freed inside the call); with a reused
 * scratch the steady state allocates nothing (a value longer than 4 KiB
 * that needs NFC normalisation excepted). Fails with MRD_E_NOMEM, with
 * MRD_E_TOOBIG when the search exceeds its work bound (20 million steps),
 * and with MRD_E_INVALID when a timestamp literal meets a string value that
 * is not a timestamp (the reference matcher's rule: a silent "no match"
 * would hide bad data). Anything else that does not fit simply does not
 * match. */
enum mrd_code pat_eval_obs(const struct pat_prog *prog, const struct pat_obs *obs, size_t nobs,
                           struct pat_scratch *scratch, bool *ret_match, struct mrd_err *err);

/* As pat_eval_obs over JSON: data is a STIX bundle, a JSON array of STIX
 * objects, or a single observed-data object. Each observed-data object
 * (2.1 `object_refs` resolved by id among the other objects in data, or
 * 2.0 `objects` dictionary) is one observation; first_observed,
 * last_observed and number_observed feed the qualifiers. A JSON list may
 * also hold bundles. Fails with MRD_E_INVAL when data is none of the
 * accepted shapes and with MRD_E_INVALID when an observed-data object lacks
 * valid first_observed, last_observed, number_observed (1..999,999,999) or
 * both object_refs and objects. */
enum mrd_code pat_eval_json(const struct pat_prog *prog, const json_t *data,
                            struct pat_scratch *scratch, bool *ret_match, struct mrd_err *err);

#endif
