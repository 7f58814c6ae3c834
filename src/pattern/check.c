/*
 * check.c: the semantic checks that follow parsing, and the public
 * pat_check / pat_parse / pat_ast_free entry points.
 *
 * The checks mirror what the reference validator (OASIS
 * cti-pattern-validator, STIX 2.1 mode) rejects beyond its grammar, so that
 * our verdicts agree with it: malformed hash values for known algorithms and
 * the same qualifier twice on one bracketed observation. On top of that we
 * reject what the specification forbids and the reference leaves to run
 * time: MATCHES regexes PCRE2 cannot compile, ISSUBSET/ISSUPERSET operands
 * that are not addresses or CIDR blocks, sets mixing types, zero or huge
 * qualifier numbers, STOP not after START.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uninorm.h>

#include "core/alloc.h"
#include "core/str.h"
#include "pattern/pattern_int.h"

#define PAT_MAX_TYPE_LEN 250 /* STIX 2.1 §3.1: type names are at most 250 chars */
#define PAT_MAX_REPEATS 1000000u

/* ---- addresses ------------------------------------------------------------- */

/* The address part of a block. IPv4 follows inet_aton() ("10.1", "1234",
 * "0x7f.1" are addresses too), which is what the reference matcher uses;
 * IPv6 follows inet_pton(). Both are pure libc functions (no lookups). */
static bool parse_addr(const char *s, size_t n, bool v6, uint8_t out[16])
{
    char buf[64];
    struct in_addr a;

    if (n == 0 || n >= sizeof(buf))
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] <= ' ' || (unsigned char)s[i] >= 0x7f)
            return false;
    memcpy(buf, s, n);
    buf[n] = '\0';
    if (v6)
        return inet_pton(AF_INET6, buf, out) == 1;
    if (inet_aton(buf, &a) == 0)
        return false;
    memcpy(out, &a.s_addr, 4);
    return true;
}

bool pat__parse_net(const char *s, size_t n, uint8_t out[16], unsigned *ret_bits, bool *ret_v6,
                    bool *ret_has_prefix)
{
    const char *slash = memchr(s, '/', n);
    size_t an = slash != NULL ? (size_t)(slash - s) : n;
    unsigned bits, max;
    bool v6 = memchr(s, ':', an) != NULL;

    memset(out, 0, 16);
    if (!parse_addr(s, an, v6, out))
        return false;
    max = v6 ? 128 : 32;
    bits = max;
    if (slash != NULL) {
        size_t i = an + 1;
        if (i == n || n - i > 3)
            return false;
        bits = 0;
        for (; i < n; i++) {
            if (s[i] < '0' || s[i] > '9')
                return false;
            bits = bits * 10 + (unsigned)(s[i] - '0');
        }
        if (bits > max)
            return false;
    }
    *ret_bits = bits;
    *ret_v6 = v6;
    if (ret_has_prefix != NULL)
        *ret_has_prefix = slash != NULL;
    return true;
}

/* ---- regexes --------------------------------------------------------------- */

void pat__regex_free_all(struct pat_ast *ast)
{
    struct pat_regex *r = ast->regexes;

    while (r != NULL) {
        struct pat_regex *next = r->next;
        pcre2_code_free(r->utf);
        pcre2_code_free(r->bytes);
        mrd_free(r);
        r = next;
    }
    ast->regexes = NULL;
}

/* Compiles the MATCHES operand twice: as UTF-8 for text values, and as
 * Latin-1 for binary values (when every code point is below 256), which is
 * how the specification compares strings with binary data (§9.6). */
static enum mrd_code compile_regex(struct pat_ast *ast, struct pat_test *t, struct mrd_err *err)
{
    struct pat_regex *r;
    int code;
    PCRE2_SIZE where;
    char latin[1024];
    size_t ln = 0;
    bool latin_ok = t->lit.len < sizeof(latin);
    const unsigned char *s = (const unsigned char *)t->lit.text;
    const char *text = t->nfc != NULL ? t->nfc : t->lit.text;
    size_t text_len = t->nfc != NULL ? t->nfc_len : t->lit.len;

    r = mrd_calloc(1, sizeof(*r));
    if (r == NULL)
        return mrd_err_set(err, MRD_E_NOMEM, "pattern: out of memory");
    r->next = ast->regexes;
    ast->regexes = r;
    r->utf = pcre2_compile((PCRE2_SPTR)text, text_len, PCRE2_UTF, &code, &where, NULL);
    if (r->utf == NULL) {
        PCRE2_UCHAR msg[120];
        (void)pcre2_get_error_message(code, msg, sizeof(msg));
        return pat__error(err, t->lit.off, "§9.6", "MATCHES regex does not compile at %zu: %s",
                          (size_t)where, (const char *)msg);
    }
    for (size_t i = 0; latin_ok && i < t->lit.len; i++) {
        if (s[i] < 0x80) {
            latin[ln++] = (char)s[i];
        } else if ((s[i] == 0xc2 || s[i] == 0xc3) && i + 1 < t->lit.len) {
            latin[ln++] = (char)(((s[i] & 0x03) << 6) | (s[i + 1] & 0x3f));
            i++;
        } else {
            latin_ok = false;
        }
    }
    if (latin_ok)
        r->bytes = pcre2_compile((PCRE2_SPTR)latin, ln, 0, &code, &where, NULL);
    t->re = r;
    return MRD_OK;
}

/* ---- normalisation --------------------------------------------------------- */

const char *pat__nfc(const char *s, size_t n, char *buf, size_t cap, size_t *ret_len, bool *ret_own)
{
    size_t len = cap;
    uint8_t *r;
    bool ascii = true;

    *ret_own = false;
    for (size_t i = 0; i < n && ascii; i++)
        ascii = (unsigned char)s[i] < 0x80;
    if (ascii) {
        *ret_len = n;
        return s;
    }
    r = u8_normalize(UNINORM_NFC, (const uint8_t *)s, n, (uint8_t *)buf, &len);
    if (r == NULL)
        return NULL;
    *ret_own = (char *)r != buf;
    *ret_len = len;
    return (const char *)r;
}

/* Keeps the NFC form of a LIKE or MATCHES operand next to it. */
static enum mrd_code set_nfc(struct pat_ast *ast, struct pat_test *t, struct mrd_err *err)
{
    size_t n;
    bool own;
    const char *r = pat__nfc(t->lit.text, t->lit.len, NULL, 0, &n, &own);
    char *d;

    if (r == NULL)
        return mrd_err_set(err, MRD_E_NOMEM, "pattern: out of memory");
    if (r == t->lit.text) {
        t->nfc = r;
        t->nfc_len = n;
        return MRD_OK;
    }
    d = pat__mem_alloc(&ast->mem, n + 1);
    if (d != NULL)
        memcpy(d, r, n);
    if (own)
        free((void *)(uintptr_t)r);
    if (d == NULL)
        return mrd_err_set(err, MRD_E_NOMEM, "pattern: out of memory");
    t->nfc = d;
    t->nfc_len = n;
    return MRD_OK;
}

/* ---- checks ---------------------------------------------------------------- */

static const bool is_hex_table[256] = {
    ['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1, ['6'] = 1, ['7'] = 1,
    ['8'] = 1, ['9'] = 1, ['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1,
    ['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1,
};

/* Hash value shapes the reference validator enforces (its object check). */
static bool hash_ok(const char *alg, size_t an, const char *v, size_t vn)
{
    char up[32];
    size_t k = 0;
    size_t want[6] = {0};
    bool hex = false;

    for (size_t i = 0; i < an && k < sizeof(up) - 1; i++) {
        char c = alg[i];
        if (c == '-' || c == '\'')
            continue;
        up[k++] = (char)(c >= 'a' && c <= 'z' ? c - 32 : c);
    }
    up[k] = '\0';
    if (strcmp(up, "MD5") == 0) {
        want[0] = 32;
    } else if (strcmp(up, "SHA1") == 0 || strcmp(up, "RIPEMD160") == 0) {
        want[0] = 40;
    } else if (strcmp(up, "SHA224") == 0 || strcmp(up, "SHA3224") == 0) {
        want[0] = 56;
    } else if (strcmp(up, "SHA256") == 0 || strcmp(up, "SHA3256") == 0) {
        want[0] = 64;
    } else if (strcmp(up, "SHA384") == 0 || strcmp(up, "SHA3384") == 0) {
        want[0] = 96;
    } else if (strcmp(up, "SHA512") == 0 || strcmp(up, "SHA3512") == 0 ||
               strcmp(up, "WHIRLPOOL") == 0) {
        want[0] = 128;
    } else if (strcmp(up, "MD6") == 0) {
        size_t md6[6] = {32, 40, 56, 64, 96, 128};
        memcpy(want, md6, sizeof(md6));
    } else if (strcmp(up, "SSDEEP") == 0) {
        if (vn < 1 || vn > 128)
            return false;
        for (size_t i = 0; i < vn; i++) {
            char c = v[i];
            if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '/' || c == '+' || c == ':' || c == '.'))
                return false;
        }
        return true;
    } else {
        return true; /* unknown algorithm: nothing to check */
    }
    for (size_t i = 0; i < 6; i++)
        if (want[i] == vn)
            hex = true;
    for (size_t i = 0; hex && i < vn; i++)
        hex = is_hex_table[(unsigned char)v[i]];
    return hex;
}

static enum mrd_code check_hash(const struct pat_test *t, const struct pat_lit *lit, unsigned flags,
                                struct mrd_err *err)
{
    const struct pat_step *last = &t->path.steps[t->path.nsteps - 1];
    bool has_hashes = t->path.any_hashes;
    /* only the validator rejects these; the reference matcher evaluates them */
    if (!(flags & PAT_CHECK_STRICT) || !has_hashes || last->kind != PAT_STEP_KEY)
        return MRD_OK;
    if (lit->kind != PAT_LIT_STRING ? !hash_ok(last->key, last->key_len, "", 0) &&
                                          !hash_ok(last->key, last->key_len, "?", 1)
                                    : !hash_ok(last->key, last->key_len, lit->text, lit->len))
        return pat__error(err, lit->off, "§9.6", "'%.*s' is not a valid %.*s hash",
                          (int)(lit->len > 140 ? 140 : lit->len), lit->text,
                          (int)(last->key_len > 40 ? 40 : last->key_len), last->key);
    return MRD_OK;
}

static int lit_class(enum pat_lit_kind k)
{
    /* integers and floats compare with each other (§9.6); other kinds only
     * with themselves */
    return k == PAT_LIT_FLOAT ? PAT_LIT_INT : (int)k;
}

struct checker {
    struct pat_ast *ast;
    unsigned flags;
    struct mrd_err *err;
};

static enum mrd_code check_lit(const struct pat_lit *l, struct mrd_err *err)
{
    /* integers beyond 64 bits are valid (the grammar has no bound); the
     * evaluator compares them as doubles */
    (void)l;
    (void)err;
    return MRD_OK;
}

static enum mrd_code check_test(struct checker *c, struct pat_test *t)
{
    enum mrd_code rc;

    if (t->path.type_len > PAT_MAX_TYPE_LEN)
        return pat__error(c->err, t->path.off, "§9.7", "object type longer than %d characters",
                          PAT_MAX_TYPE_LEN);
    switch (t->op) {
    case PAT_OP_EXISTS:
        return MRD_OK;
    case PAT_OP_IN:
        for (size_t i = 0; i < t->nset; i++) {
            rc = check_lit(&t->set[i], c->err);
            if (rc == MRD_OK && lit_class(t->set[i].kind) != lit_class(t->set[0].kind))
                rc = pat__error(c->err, t->set[i].off, "§9.6",
                                "set members must all have the same type");
            if (rc == MRD_OK)
                rc = check_hash(t, &t->set[i], c->flags, c->err);
            if (rc != MRD_OK)
                return rc;
        }
        return MRD_OK;
    case PAT_OP_MATCHES:
        rc = check_hash(t, &t->lit, c->flags, c->err);
        if (rc == MRD_OK)
            rc = set_nfc(c->ast, t, c->err);
        if (rc == MRD_OK)
            rc = compile_regex(c->ast, t, c->err);
        return rc;
    case PAT_OP_LIKE:
        rc = check_hash(t, &t->lit, c->flags, c->err);
        if (rc == MRD_OK)
            rc = set_nfc(c->ast, t, c->err);
        return rc;
    case PAT_OP_ISSUBSET:
    case PAT_OP_ISSUPERSET:
        if (!pat__parse_net(t->lit.text, t->lit.len, t->net, &t->net_bits, &t->net_v6, NULL))
            return pat__error(c->err, t->lit.off, "§9.6",
                              "%s needs an IPv4 or IPv6 address or CIDR block, not '%.*s'",
                              t->op == PAT_OP_ISSUBSET ? "ISSUBSET" : "ISSUPERSET",
                              (int)(t->lit.len > 60 ? 60 : t->lit.len), t->lit.text);
        t->net_ok = true;
        return check_hash(t, &t->lit, c->flags, c->err);
    default:
        rc = check_lit(&t->lit, c->err);
        if (rc == MRD_OK)
            rc = check_hash(t, &t->lit, c->flags, c->err);
        return rc;
    }
}

static enum mrd_code check_cexpr(struct checker *c, struct pat_cexpr *e)
{
    enum mrd_code rc = MRD_OK;

    switch (e->kind) {
    case PAT_C_TEST:
        return check_test(c, e->test);
    case PAT_C_PAREN:
        return check_cexpr(c, e->l);
    default:
        rc = check_cexpr(c, e->l);
        if (rc == MRD_OK)
            rc = check_cexpr(c, e->r);
        return rc;
    }
}

static enum mrd_code check_oexpr(struct checker *c, struct pat_oexpr *o)
{
    enum mrd_code rc;

    switch (o->kind) {
    case PAT_O_SIMPLE:
        return check_cexpr(c, o->cmp);
    case PAT_O_PAREN:
        return check_oexpr(c, o->l);
    case PAT_O_AND:
    case PAT_O_OR:
    case PAT_O_FOLLOWEDBY:
        rc = check_oexpr(c, o->l);
        if (rc == MRD_OK)
            rc = check_oexpr(c, o->r);
        return rc;
    default:
        break;
    }
    /* a qualifier */
    if (o->kind == PAT_O_WITHIN && !(o->q1.f > 0))
        return pat__error(c->err, o->q1.off, "§9.5.1", "WITHIN needs a number of seconds above 0");
    if (o->kind == PAT_O_REPEATS &&
        (o->q1.int_overflow || o->q1.i < 1 || (uint64_t)o->q1.i > PAT_MAX_REPEATS))
        return pat__error(c->err, o->q1.off, "§9.5.1", "REPEATS needs a count from 1 to %u",
                          PAT_MAX_REPEATS);
    if (o->kind == PAT_O_STARTSTOP && (c->flags & PAT_CHECK_STRICT) &&
        mrd_time_cmp(&o->q1.ts, &o->q2.ts) >= 0)
        return pat__error(c->err, o->q2.off, "§9.5.1", "STOP must be later than START");
    if (c->flags & PAT_CHECK_STRICT) {
        /* the same qualifier twice directly on one [ ... ] is an error;
         * parentheses open a new level (as in the reference validator) */
        const struct pat_oexpr *u = o;
        while (u->kind == PAT_O_WITHIN || u->kind == PAT_O_REPEATS || u->kind == PAT_O_STARTSTOP)
            u = u->l;
        if (u->kind == PAT_O_SIMPLE) {
            for (const struct pat_oexpr *q = o->l; q != u; q = q->l)
                if (q->kind == o->kind)
                    return pat__error(c->err, o->off, "§9.5.1",
                                      "duplicate %s qualifier on one observation expression",
                                      o->kind == PAT_O_WITHIN    ? "WITHIN"
                                      : o->kind == PAT_O_REPEATS ? "REPEATS"
                                                                 : "START/STOP");
        }
    }
    return check_oexpr(c, o->l);
}

enum mrd_code pat__check(struct pat_ast *ast, const char *src, unsigned flags, bool keep_regex,
                         struct mrd_err *err)
{
    struct checker c = {ast, flags, err};

    (void)src;
    (void)keep_regex;
    return check_oexpr(&c, ast->root);
}

void pat__ast_release(struct pat_ast *ast)
{
    pat__regex_free_all(ast);
    pat__mem_release(&ast->mem);
}

/* ---- public entry points --------------------------------------------------- */

enum mrd_code pat_check(const char *src, size_t len, struct mrd_err *err)
{
    struct pat_ast ast;
    enum mrd_code rc;

    memset(&ast, 0, offsetof(struct pat_ast, mem));
    pat__mem_init(&ast.mem);
    rc = pat__parse(src, len, &ast, PAT_CHECK_STRICT | PAT_PARSE_BORROW, err);
    if (rc == MRD_OK)
        rc = pat__check(&ast, src, PAT_CHECK_STRICT, false, err);
    pat__ast_release(&ast);
    return rc;
}

enum mrd_code pat__parse_ast(const char *src, size_t len, unsigned flags, struct pat_ast **ret_ast,
                             struct mrd_err *err)
{
    struct pat_ast *ast = mrd_malloc(sizeof(*ast));
    enum mrd_code rc;

    if (ast == NULL)
        return mrd_err_set(err, MRD_E_NOMEM, "pattern: out of memory");
    memset(ast, 0, offsetof(struct pat_ast, mem));
    pat__mem_init(&ast->mem);
    rc = pat__parse(src, len, ast, flags & PAT_CHECK_STRICT, err);
    if (rc == MRD_OK)
        rc = pat__check(ast, src, flags, true, err);
    if (rc != MRD_OK)
        goto out;
    *ret_ast = ast;
    ast = NULL;
out:
    pat_ast_free(ast);
    return rc;
}

enum mrd_code pat_parse(const char *src, size_t len, struct pat_ast **ret_ast, struct mrd_err *err)
{
    return pat__parse_ast(src, len, PAT_CHECK_STRICT, ret_ast, err);
}

void pat_ast_free(struct pat_ast *ast)
{
    if (ast == NULL)
        return;
    pat__ast_release(ast);
    mrd_free(ast);
}
