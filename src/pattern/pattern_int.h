/*
 * pattern_int: the AST and the helpers shared by the files of src/pattern/.
 *
 * Everything of one parsed pattern lives in one struct pat_mem (a bump
 * arena with an inline first block), so parsing allocates at most a few
 * chunks and freeing is O(chunks). PCRE2 codes are the only outside
 * resources; they are chained on the AST and freed with it.
 * Not a public interface: only src/pattern/ and its tests include it.
 */
#ifndef MRD_PATTERN_INT_H
#define MRD_PATTERN_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "core/err.h"
#include "core/timestamp.h"
#include "pattern/pattern.h"

#define PAT_MEM_INLINE 6144 /* first block, inside the owner (stack or AST) */

struct pat_mem_chunk;

struct pat_mem {
    char *cur, *end;
    struct pat_mem_chunk *chunks; /* heap chunks, freed by pat__mem_release */
    size_t total;                 /* bytes taken from the heap */
    char inline_block[PAT_MEM_INLINE];
};

void pat__mem_init(struct pat_mem *m);
void pat__mem_release(struct pat_mem *m);
void *pat__mem_alloc(struct pat_mem *m, size_t n); /* zeroed, 8-aligned */

enum pat_op {
    PAT_OP_EQ,
    PAT_OP_NEQ,
    PAT_OP_LT,
    PAT_OP_LE,
    PAT_OP_GT,
    PAT_OP_GE,
    PAT_OP_IN,
    PAT_OP_LIKE,
    PAT_OP_MATCHES,
    PAT_OP_ISSUBSET,
    PAT_OP_ISSUPERSET,
    PAT_OP_EXISTS,
};

struct pat_lit {
    enum pat_lit_kind kind;
    size_t off;       /* byte offset in the source */
    const char *text; /* decoded: string contents, number digits, t/h/b body */
    size_t len;
    int64_t i;
    double f;
    bool b;
    bool int_overflow;    /* integer did not fit int64 (checked later) */
    struct mrd_time ts;   /* PAT_LIT_TIMESTAMP */
    unsigned char *bytes; /* PAT_LIT_HEX / PAT_LIT_BINARY decoded */
    size_t nbytes;
};

enum pat_step_kind { PAT_STEP_KEY, PAT_STEP_INDEX, PAT_STEP_STAR };

struct pat_step {
    enum pat_step_kind kind;
    const char *key; /* PAT_STEP_KEY, NUL-terminated */
    size_t key_len;
    int64_t index;
    bool ref;    /* key ends in _ref: dereference before a following step */
    bool refs;   /* key ends in _refs: elements are references */
    bool hex;    /* key ends in _hex: value is hex-encoded bytes */
    bool bin;    /* key ends in _bin: value is base64-encoded bytes */
    bool hashes; /* key is "hashes" */
};

struct pat_path {
    const char *type;
    size_t type_len;
    size_t off;
    struct pat_step *steps;
    size_t nsteps;
    bool hashes;     /* ... hashes.X as the last two steps */
    bool any_hashes; /* some step is the key "hashes" */
};

/* A compiled MATCHES operand: UTF-8 for text, Latin-1 for binary values
 * (NULL when the regex has code points above 255). */
struct pat_regex {
    struct pat_regex *next;
    pcre2_code *utf;
    pcre2_code *bytes;
};

struct pat_test {
    enum pat_op op;
    bool neg;
    size_t off;
    size_t op_off;
    struct pat_path path;
    struct pat_lit lit;  /* everything but IN and EXISTS */
    struct pat_lit *set; /* IN */
    size_t nset;
    struct pat_regex *re; /* MATCHES, after checking */
    const char *nfc;      /* LIKE: the operand in Unicode NFC (§9.6) */
    size_t nfc_len;
    /* ISSUBSET / ISSUPERSET: the operand as an address block */
    uint8_t net[16];
    unsigned net_bits;
    bool net_v6;
    bool net_ok;
};

enum pat_cexpr_kind { PAT_C_AND, PAT_C_OR, PAT_C_PAREN, PAT_C_TEST };

struct pat_cexpr {
    enum pat_cexpr_kind kind;
    struct pat_cexpr *l, *r; /* AND/OR; PAREN uses l */
    struct pat_test *test;
    size_t off;
};

enum pat_oexpr_kind {
    PAT_O_SIMPLE, /* [ comparison ] */
    PAT_O_PAREN,  /* ( observation expressions ) */
    PAT_O_AND,
    PAT_O_OR,
    PAT_O_FOLLOWEDBY,
    PAT_O_WITHIN,
    PAT_O_REPEATS,
    PAT_O_STARTSTOP,
};

struct pat_oexpr {
    enum pat_oexpr_kind kind;
    struct pat_oexpr *l, *r; /* binary ops; PAREN and qualifiers use l */
    struct pat_cexpr *cmp;   /* SIMPLE */
    size_t off;
    /* qualifiers */
    struct pat_lit q1, q2; /* WITHIN: q1 number; REPEATS: q1; START/STOP: q1, q2 */
    int leaf;              /* SIMPLE: index among the leaves (eval.c) */
};

struct pat_ast {
    struct pat_oexpr *root;
    struct pat_regex *regexes; /* freed with the AST */
    size_t nleaves;
    struct pat_mem mem; /* last: the big inline block */
};

/* Parsing and checking. */
#define PAT_CHECK_STRICT 1u /* validator rules: duplicate qualifiers, START < STOP */

#define PAT_PARSE_BORROW 2u /* names and strings may point into src (pat_check only) */

/* flags: PAT_CHECK_STRICT (without it, START/STOP also take the plain
 * strings of STIX 2.0, as the reference matcher does) and PAT_PARSE_BORROW. */
enum mrd_code pat__parse(const char *src, size_t len, struct pat_ast *ast, unsigned flags,
                         struct mrd_err *err);
enum mrd_code pat__check(struct pat_ast *ast, const char *src, unsigned flags, bool keep_regex,
                         struct mrd_err *err);
void pat__ast_release(struct pat_ast *ast); /* frees regexes and heap chunks */
void pat__regex_free_all(struct pat_ast *ast);
/* pat_parse with a choice of checks (0 = the evaluator's lenient rules). */
enum mrd_code pat__parse_ast(const char *src, size_t len, unsigned flags, struct pat_ast **ret_ast,
                             struct mrd_err *err);

/* The error helper every stage uses: "pattern: offset N: what (STIX 2.1 §S)". */
enum mrd_code pat__error(struct mrd_err *err, size_t off, const char *section, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Addresses: parses "a.b.c.d[/n]" or an IPv6 text form with optional /n. */
bool pat__parse_net(const char *s, size_t n, uint8_t out[16], unsigned *ret_bits, bool *ret_v6,
                    bool *ret_has_prefix);

/* Printing helpers shared with simple.c. */
enum mrd_code pat__print_path(const struct pat_path *p, bool with_type, struct mrd_buf *out,
                              struct mrd_err *err);
bool pat__is_keyword(const char *s, size_t n);
/* Structural equality of two ASTs (the round-trip oracle). */
bool pat__ast_equal(const struct pat_ast *a, const struct pat_ast *b);

/* NFC form of UTF-8 (s, n) (STIX 2.1 §9.6: LIKE and MATCHES compare
 * normalised text). ASCII comes back as is. Otherwise the result is in buf
 * (grown as needed) or freshly allocated: *ret_own is then set and the
 * caller frees it with free(). NULL when out of memory. */
const char *pat__nfc(const char *s, size_t n, char *buf, size_t cap, size_t *ret_len,
                     bool *ret_own);

/* Timestamps in the pattern grammar (t'...' bodies and observed-data). */
bool pat__parse_time(const char *s, size_t n, struct mrd_time *ret);
/* True when the fields name no real date and time (Feb 30, Apr 31, Feb 29
 * of a common year, hour 24, second 60), saying which in why (size bytes,
 * may be NULL). */
bool pat__time_fields_problem(int y, int mo, int d, int h, int mi, int se, char *why, size_t size);
/* For a literal shaped like a timestamp whose only fault is a date or time
 * that does not exist: writes why and returns it; NULL otherwise. */
const char *pat__time_problem(const char *s, size_t n, char *why, size_t size);

#endif
