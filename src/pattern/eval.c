/*
 * eval.c: does a pattern match a set of observations? (STIX 2.1 §9.5-9.7)
 *
 * Two phases. First every bracketed observation expression (a "leaf") is
 * tested against every observation: a leaf holds for an observation when
 * one SCO of it (the root) satisfies the whole comparison expression, so
 * AND inside brackets means "same root object" and OR means "either". Then
 * a backtracking search binds leaves to observations: AND and FOLLOWEDBY
 * need distinct observations, an observed-data object with
 * number_observed N counts as N interchangeable observations, REPEATS n
 * binds n distinct copies of its operand, and the time qualifiers filter
 * the bindings using first_observed/last_observed:
 *   WITHIN d:   max(first) - min(last) <= d over the binding (an interval of
 *               length d touches every observation's interval);
 *   START/STOP: every observation has start <= first and last < stop;
 *   FOLLOWEDBY: max(first) of the left <= min(last) of the right.
 * These are the rules of the OASIS reference matcher, so verdicts agree.
 * The search prunes WITHIN and START/STOP at every leaf it binds, orders
 * REPEATS operands to avoid permutations, and gives up with MRD_E_TOOBIG
 * after PAT_EVAL_MAX_STEPS steps so a hostile pattern cannot spin forever.
 */
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/str.h"
#include "pattern/pattern_int.h"

/* The search recurses a few frames per bound observation and per nested
 * window, so these bounds also bound its stack use (well under 1 MiB). */
#define PAT_EVAL_MAX_BIND 1024        /* observations one binding may hold */
#define PAT_EVAL_MAX_LEAVES 1024      /* bracketed expressions in one pattern */
#define PAT_EVAL_MAX_STEPS 20000000L  /* search steps per evaluation */
#define PAT_EVAL_MAX_BYTES (1u << 24) /* one decoded _hex/_bin value */
#define PAT_EVAL_MAX_WINDOWS 8        /* nested WITHIN / START-STOP */

struct pat_prog {
    struct pat_ast *ast;
    const struct pat_oexpr **leaves;
    size_t nleaves;
    uint32_t max_bind; /* most observations one binding can use */
};

struct pat_ident;

struct pat_scratch {
    uint8_t *leafok; /* nleaves x nobs */
    size_t leafok_cap;
    uint32_t *uses, *copies; /* per observation */
    size_t obs_cap;
    int64_t *first, *last;
    unsigned char *bytes; /* decoded value / Latin-1 conversion */
    size_t bytes_cap;
    unsigned char *bytes2;
    size_t bytes2_cap;
    pcre2_match_data *md;
    char nfc[4096]; /* NFC of one value; longer ones are allocated */
    /* JSON front end */
    struct pat_obs *obs;
    size_t obsv_cap;
    const json_t **scos;
    size_t scos_cap;
    const json_t **ods; /* observed-data objects found */
    size_t nods, ods_cap;
    struct pat_ident *idents; /* every other object with an id */
    size_t nidents, idents_cap;
    uint32_t *slots; /* hash table over idents */
    size_t nslots, slots_cap;
};

/* ---- compile --------------------------------------------------------------- */

static uint64_t bind_size(const struct pat_oexpr *o)
{
    uint64_t a, b;

    switch (o->kind) {
    case PAT_O_SIMPLE:
        return 1;
    case PAT_O_AND:
    case PAT_O_FOLLOWEDBY:
        a = bind_size(o->l);
        b = bind_size(o->r);
        return a + b;
    case PAT_O_OR:
        a = bind_size(o->l);
        b = bind_size(o->r);
        return a > b ? a : b;
    case PAT_O_REPEATS:
        a = bind_size(o->l);
        return a * (uint64_t)o->q1.i > PAT_EVAL_MAX_BIND ? PAT_EVAL_MAX_BIND + 1
                                                         : a * (uint64_t)o->q1.i;
    default:
        return bind_size(o->l);
    }
}

static void collect_leaves(const struct pat_oexpr *o, const struct pat_oexpr **leaves)
{
    if (o->kind == PAT_O_SIMPLE) {
        leaves[o->leaf] = o;
        return;
    }
    collect_leaves(o->l, leaves);
    if (o->r != NULL)
        collect_leaves(o->r, leaves);
}

enum mrd_code pat_prog_new(const char *src, size_t len, struct pat_prog **ret_prog,
                           struct mrd_err *err)
{
    struct pat_prog *prog = NULL;
    struct pat_ast *ast = NULL;
    uint64_t bind;
    enum mrd_code rc;

    /* lenient checks: the reference matcher evaluates duplicate qualifiers
     * and an empty START/STOP window (which then matches nothing) */
    rc = pat__parse_ast(src, len, 0, &ast, err);
    if (rc != MRD_OK)
        goto out;
    if (ast->nleaves > PAT_EVAL_MAX_LEAVES) {
        rc = mrd_err_set(err, MRD_E_TOOBIG,
                         "pattern: more than %d observation expressions to evaluate",
                         PAT_EVAL_MAX_LEAVES);
        goto out;
    }
    bind = bind_size(ast->root);
    if (bind > PAT_EVAL_MAX_BIND) {
        rc = mrd_err_set(err, MRD_E_TOOBIG,
                         "pattern: a match would bind more than %d observations (REPEATS too "
                         "large to evaluate)",
                         PAT_EVAL_MAX_BIND);
        goto out;
    }
    prog = mrd_calloc(1, sizeof(*prog));
    if (prog == NULL || (prog->leaves = mrd_calloc(ast->nleaves, sizeof(*prog->leaves))) == NULL) {
        rc = mrd_err_set(err, MRD_E_NOMEM, "pattern: out of memory");
        goto out;
    }
    collect_leaves(ast->root, prog->leaves);
    prog->nleaves = ast->nleaves;
    prog->max_bind = (uint32_t)bind;
    prog->ast = ast;
    ast = NULL;
    *ret_prog = prog;
    prog = NULL;
out:
    pat_ast_free(ast);
    pat_prog_free(prog);
    return rc;
}

void pat_prog_free(struct pat_prog *prog)
{
    if (prog == NULL)
        return;
    pat_ast_free(prog->ast);
    mrd_free(prog->leaves);
    mrd_free(prog);
}

const struct pat_ast *pat_prog_ast(const struct pat_prog *prog)
{
    return prog->ast;
}

struct pat_scratch *pat_scratch_new(void)
{
    return mrd_calloc(1, sizeof(struct pat_scratch));
}

void pat_scratch_free(struct pat_scratch *s)
{
    if (s == NULL)
        return;
    mrd_free(s->leafok);
    mrd_free(s->uses);
    mrd_free(s->copies);
    mrd_free(s->first);
    mrd_free(s->last);
    mrd_free(s->bytes);
    mrd_free(s->bytes2);
    pcre2_match_data_free(s->md);
    mrd_free(s->obs);
    mrd_free(s->scos);
    mrd_free(s->ods);
    mrd_free(s->idents);
    mrd_free(s->slots);
    mrd_free(s);
}

static bool grow(void **p, size_t *cap, size_t need, size_t elem)
{
    void *n;
    size_t c = *cap ? *cap : 16;

    if (need <= *cap)
        return true;
    while (c < need)
        c *= 2;
    n = mrd_realloc(*p, c * elem);
    if (n == NULL)
        return false;
    *p = n;
    *cap = c;
    return true;
}

/* ---- values ---------------------------------------------------------------- */

enum vkind { V_INT, V_REAL, V_STR, V_BYTES, V_BOOL, V_OTHER };

struct val {
    enum vkind kind;
    int64_t i;
    double f;
    bool b;
    const unsigned char *s; /* V_STR (UTF-8) / V_BYTES */
    size_t n;
};

/* How the value reached by a key step must be read. */
enum vflag { F_PLAIN, F_REF, F_REFS, F_HEX, F_BIN };

struct ectx {
    const struct pat_obs *obs;
    struct pat_scratch *s;
    struct mrd_err *err;
    enum mrd_code rc; /* first hard error (a bad timestamp, out of memory) */
};

#define hexv(c) mrd_hex_digit((unsigned char)(c))

static int b64v(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

/* Decodes a _hex or _bin property into the scratch buffer; false when the
 * text is not valid hex / base64 (then the value compares as nothing). */
static bool decode_bytes(struct ectx *E, const char *s, size_t n, bool hex, struct val *v)
{
    size_t k = 0;
    uint32_t acc = 0;
    int bits = 0;

    if (n > PAT_EVAL_MAX_BYTES)
        return false;
    if (!grow((void **)&E->s->bytes, &E->s->bytes_cap, n + 1, 1))
        return false;
    if (hex) {
        if (n % 2 != 0)
            return false;
        for (size_t i = 0; i < n; i += 2) {
            int h = hexv((unsigned char)s[i]), l = hexv((unsigned char)s[i + 1]);
            if (h < 0 || l < 0)
                return false;
            E->s->bytes[k++] = (unsigned char)(h << 4 | l);
        }
    } else {
        size_t end = n;
        if (n % 4 != 0)
            return false;
        while (end > 0 && n - end < 2 && s[end - 1] == '=')
            end--;
        for (size_t i = 0; i < end; i++) {
            int d = b64v((unsigned char)s[i]);
            if (d < 0)
                return false;
            acc = acc << 6 | (uint32_t)d;
            bits += 6;
            if (bits >= 8) {
                bits -= 8;
                E->s->bytes[k++] = (unsigned char)(acc >> bits);
            }
        }
    }
    v->kind = V_BYTES;
    v->s = E->s->bytes;
    v->n = k;
    return true;
}

/* UTF-8 text to Latin-1 bytes in buf; false when a code point is >= 256
 * (§9.6: such a string never equals binary data). */
static bool to_latin1(const unsigned char *s, size_t n, unsigned char **buf, size_t *cap,
                      size_t *ret_n)
{
    size_t k = 0;

    if (!grow((void **)buf, cap, n + 1, 1))
        return false;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < 0x80) {
            (*buf)[k++] = s[i];
        } else if ((s[i] == 0xc2 || s[i] == 0xc3) && i + 1 < n) {
            (*buf)[k++] = (unsigned char)(((s[i] & 0x03) << 6) | (s[i + 1] & 0x3f));
            i++;
        } else {
            return false;
        }
    }
    *ret_n = k;
    return true;
}

static int bytes_cmp(const unsigned char *a, size_t an, const unsigned char *b, size_t bn)
{
    int c = memcmp(a, b, an < bn ? an : bn);

    if (c != 0)
        return c < 0 ? -1 : 1;
    return an < bn ? -1 : an > bn ? 1 : 0;
}

static int nocase_cmp(const unsigned char *a, size_t an, const unsigned char *b, size_t bn)
{
    for (size_t i = 0; i < an && i < bn; i++) {
        unsigned char x = a[i] >= 'A' && a[i] <= 'Z' ? a[i] + 32 : a[i];
        unsigned char y = b[i] >= 'A' && b[i] <= 'Z' ? b[i] + 32 : b[i];
        if (x != y)
            return x < y ? -1 : 1;
    }
    return an < bn ? -1 : an > bn ? 1 : 0;
}

#define CMP_NONE 2 /* incomparable: only != holds */

static bool net_contains(const uint8_t *net, unsigned bits, const uint8_t *addr)
{
    unsigned full = bits / 8, rest = bits % 8;

    if (memcmp(net, addr, full) != 0)
        return false;
    if (rest == 0)
        return true;
    return ((net[full] ^ addr[full]) & (uint8_t)(0xff << (8 - rest))) == 0;
}

/* Compares a value with a literal: -1, 0, 1, or CMP_NONE. */
static int compare(struct ectx *E, const struct pat_test *t, const struct val *v,
                   const struct pat_lit *l)
{
    size_t n;

    switch (l->kind) {
    case PAT_LIT_INT:
    case PAT_LIT_FLOAT:
        if (v->kind == V_INT && l->kind == PAT_LIT_INT && !l->int_overflow)
            return v->i < l->i ? -1 : v->i > l->i;
        if (v->kind == V_INT || v->kind == V_REAL) {
            double x = v->kind == V_INT ? (double)v->i : v->f;
            return x < l->f ? -1 : x > l->f ? 1 : x == l->f ? 0 : CMP_NONE;
        }
        return CMP_NONE;
    case PAT_LIT_BOOL:
        return v->kind == V_BOOL ? (v->b == l->b ? 0 : CMP_NONE) : CMP_NONE;
    case PAT_LIT_STRING:
        if (v->kind == V_STR) {
            if (t->path.hashes)
                return nocase_cmp(v->s, v->n, (const unsigned char *)l->text, l->len);
            if ((t->op == PAT_OP_EQ || t->op == PAT_OP_NEQ || t->op == PAT_OP_IN) &&
                memchr(l->text, '/', l->len) != NULL) {
                /* an address against a CIDR block compares as addresses */
                uint8_t net[16], addr[16];
                unsigned nb, ab;
                bool n6, a6, pfx;
                if (pat__parse_net(l->text, l->len, net, &nb, &n6, &pfx) &&
                    pat__parse_net((const char *)v->s, v->n, addr, &ab, &a6, NULL) && n6 == a6)
                    return ab >= nb && net_contains(net, nb, addr) ? 0 : CMP_NONE;
            }
            return bytes_cmp(v->s, v->n, (const unsigned char *)l->text, l->len);
        }
        if (v->kind == V_BYTES) {
            if (!to_latin1((const unsigned char *)l->text, l->len, &E->s->bytes2, &E->s->bytes2_cap,
                           &n))
                return CMP_NONE;
            return bytes_cmp(v->s, v->n, E->s->bytes2, n);
        }
        return CMP_NONE;
    case PAT_LIT_HEX:
    case PAT_LIT_BINARY:
        if (v->kind == V_BYTES)
            return bytes_cmp(v->s, v->n, l->bytes, l->nbytes);
        if (v->kind == V_STR) {
            if (!to_latin1(v->s, v->n, &E->s->bytes2, &E->s->bytes2_cap, &n))
                return CMP_NONE;
            return bytes_cmp(E->s->bytes2, n, l->bytes, l->nbytes);
        }
        return CMP_NONE;
    case PAT_LIT_TIMESTAMP:
        if (v->kind == V_STR) {
            struct mrd_time ts;
            if (!pat__parse_time((const char *)v->s, v->n, &ts)) {
                if (E->rc == MRD_OK)
                    E->rc = mrd_err_set(E->err, MRD_E_INVALID,
                                        "pattern: value '%.*s' of %.*s is not a timestamp",
                                        (int)(v->n > 40 ? 40 : v->n), (const char *)v->s,
                                        (int)t->path.type_len, t->path.type);
                return CMP_NONE;
            }
            return mrd_time_cmp(&ts, &l->ts);
        }
        return CMP_NONE;
    }
    return CMP_NONE;
}

/* SQL LIKE: '%' any run, '_' one character (one byte for binary data). */
static bool like(const unsigned char *s, size_t n, const unsigned char *p, size_t pn, bool utf8)
{
    size_t i = 0, j = 0, star_j = (size_t)-1, star_i = 0;

    while (i < n) {
        if (j < pn && p[j] == '%') {
            star_j = j++;
            star_i = i;
            continue;
        }
        if (j < pn && (p[j] == '_' || p[j] == s[i])) {
            if (p[j] == '_' && utf8) {
                i++;
                while (i < n && (s[i] & 0xc0) == 0x80)
                    i++;
            } else {
                i++;
            }
            j++;
            continue;
        }
        if (star_j == (size_t)-1)
            return false;
        j = star_j + 1;
        i = ++star_i;
        while (utf8 && i < n && (s[i] & 0xc0) == 0x80)
            i = ++star_i;
    }
    while (j < pn && p[j] == '%')
        j++;
    return j == pn;
}

static bool regex(struct ectx *E, const struct pat_test *t, const struct val *v)
{
    pcre2_code *code = v->kind == V_STR ? t->re->utf : t->re->bytes;
    int r;

    if (code == NULL)
        return false;
    if (E->s->md == NULL) {
        E->s->md = pcre2_match_data_create(16, NULL);
        if (E->s->md == NULL) {
            E->rc = mrd_err_set(E->err, MRD_E_NOMEM, "pattern: out of memory");
            return false;
        }
    }
    if (v->kind == V_STR) {
        size_t n;
        bool own;
        const char *norm =
            pat__nfc((const char *)v->s, v->n, E->s->nfc, sizeof(E->s->nfc), &n, &own);
        if (norm == NULL)
            return false;
        r = pcre2_match(code, (PCRE2_SPTR)norm, n, 0, 0, E->s->md, NULL); /* checks UTF-8 */
        if (own)
            free((void *)(uintptr_t)norm);
        return r >= 0;
    }
    r = pcre2_match(code, v->s, v->n, 0, 0, E->s->md, NULL);
    return r >= 0;
}

static bool subset(const struct pat_test *t, const struct val *v)
{
    uint8_t addr[16];
    unsigned bits;
    bool v6;

    if (v->kind != V_STR || !pat__parse_net((const char *)v->s, v->n, addr, &bits, &v6, NULL) ||
        v6 != t->net_v6)
        return false;
    if (t->op == PAT_OP_ISSUBSET)
        return bits >= t->net_bits && net_contains(t->net, t->net_bits, addr);
    return t->net_bits >= bits && net_contains(addr, bits, t->net);
}

static bool test_value(struct ectx *E, const struct pat_test *t, const json_t *j, enum vflag f)
{
    struct val v;
    bool r = false;
    int c;

    memset(&v, 0, sizeof(v));
    if (t->op == PAT_OP_EXISTS)
        return true;
    switch (json_typeof(j)) {
    case JSON_INTEGER:
        v.kind = V_INT;
        v.i = json_integer_value(j);
        break;
    case JSON_REAL:
        v.kind = V_REAL;
        v.f = json_real_value(j);
        break;
    case JSON_STRING:
        if ((f == F_HEX || f == F_BIN) &&
            !decode_bytes(E, json_string_value(j), json_string_length(j), f == F_HEX, &v))
            return false;
        if (f != F_HEX && f != F_BIN) {
            v.kind = V_STR;
            v.s = (const unsigned char *)json_string_value(j);
            v.n = json_string_length(j);
        }
        break;
    case JSON_TRUE:
    case JSON_FALSE:
        v.kind = V_BOOL;
        v.b = json_is_true(j);
        break;
    default:
        v.kind = V_OTHER;
        break;
    }
    switch (t->op) {
    case PAT_OP_EQ:
        r = compare(E, t, &v, &t->lit) == 0;
        break;
    case PAT_OP_NEQ:
        r = compare(E, t, &v, &t->lit) != 0;
        break;
    case PAT_OP_LT:
    case PAT_OP_LE:
    case PAT_OP_GT:
    case PAT_OP_GE:
        c = compare(E, t, &v, &t->lit);
        if (c == CMP_NONE)
            r = false;
        else
            r = t->op == PAT_OP_LT   ? c < 0
                : t->op == PAT_OP_LE ? c <= 0
                : t->op == PAT_OP_GT ? c > 0
                                     : c >= 0;
        break;
    case PAT_OP_IN:
        for (size_t i = 0; i < t->nset && !r; i++)
            r = compare(E, t, &v, &t->set[i]) == 0;
        break;
    case PAT_OP_LIKE:
        if (v.kind == V_STR) {
            size_t n;
            bool own = false;
            const char *norm =
                pat__nfc((const char *)v.s, v.n, E->s->nfc, sizeof(E->s->nfc), &n, &own);
            if (norm != NULL)
                r = like((const unsigned char *)norm, n, (const unsigned char *)t->nfc, t->nfc_len,
                         true);
            if (own)
                free((void *)(uintptr_t)norm);
        } else if (v.kind == V_BYTES) {
            size_t pn;
            /* the value sits in bytes; the operand goes to bytes2 */
            if (to_latin1((const unsigned char *)t->lit.text, t->lit.len, &E->s->bytes2,
                          &E->s->bytes2_cap, &pn))
                r = like(v.s, v.n, E->s->bytes2, pn, false);
        }
        break;
    case PAT_OP_MATCHES:
        r = (v.kind == V_STR || v.kind == V_BYTES) && regex(E, t, &v);
        break;
    case PAT_OP_ISSUBSET:
    case PAT_OP_ISSUPERSET:
        r = subset(t, &v);
        break;
    case PAT_OP_EXISTS:
        break;
    }
    return t->neg ? !r : r;
}

/* Finds the object a reference names within the observation. */
static const json_t *resolve(const struct pat_obs *obs, const json_t *ref)
{
    const char *id = json_string_value(ref);
    size_t n = json_string_length(ref);

    if (obs->objects != NULL)
        return json_object_getn(obs->objects, id, n);
    for (size_t i = 0; i < obs->nscos; i++) {
        const json_t *oid = json_object_get(obs->scos[i], "id");
        if (oid != NULL && json_string_length(oid) == n &&
            memcmp(json_string_value(oid), id, n) == 0)
            return obs->scos[i];
    }
    return NULL;
}

#define PAT_MAX_DEREF 32 /* reference hops along one path (cycles end here) */

/* True when some value reached by the path from j (steps[i..]) passes. */
static bool walk(struct ectx *E, const struct pat_test *t, const json_t *j, size_t i, enum vflag f,
                 unsigned hops)
{
    const struct pat_step *st;

    if (i == t->path.nsteps)
        return test_value(E, t, j, f);
    st = &t->path.steps[i];
    if (f == F_REF) {
        if (!json_is_string(j) || hops >= PAT_MAX_DEREF)
            return false;
        j = resolve(E->obs, j);
        hops++;
        if (j == NULL)
            return false;
    }
    if (st->kind == PAT_STEP_KEY) {
        const json_t *c = json_is_object(j) ? json_object_getn(j, st->key, st->key_len) : NULL;
        if (c == NULL)
            return false;
        return walk(E, t, c, i + 1,
                    st->ref    ? F_REF
                    : st->refs ? F_REFS
                    : st->hex  ? F_HEX
                    : st->bin  ? F_BIN
                               : F_PLAIN,
                    hops);
    }
    if (!json_is_array(j))
        return false;
    if (st->kind == PAT_STEP_INDEX) {
        int64_t n = (int64_t)json_array_size(j), k = st->index < 0 ? n + st->index : st->index;
        if (k < 0 || k >= n)
            return false;
        return walk(E, t, json_array_get(j, (size_t)k), i + 1, f == F_REFS ? F_REF : F_PLAIN, hops);
    }
    for (size_t k = 0; k < json_array_size(j); k++)
        if (walk(E, t, json_array_get(j, k), i + 1, f == F_REFS ? F_REF : F_PLAIN, hops))
            return true;
    return false;
}

static bool cexpr(struct ectx *E, const struct pat_cexpr *c, const json_t *root, const char *type,
                  size_t type_len)
{
    switch (c->kind) {
    case PAT_C_TEST:
        if (type_len != c->test->path.type_len || memcmp(type, c->test->path.type, type_len) != 0)
            return false;
        return walk(E, c->test, root, 0, F_PLAIN, 0);
    case PAT_C_PAREN:
        return cexpr(E, c->l, root, type, type_len);
    case PAT_C_AND:
        return cexpr(E, c->l, root, type, type_len) && cexpr(E, c->r, root, type, type_len);
    case PAT_C_OR:
        return cexpr(E, c->l, root, type, type_len) || cexpr(E, c->r, root, type, type_len);
    }
    return false;
}

static void leaf_root(struct ectx *E, const struct pat_prog *prog, const json_t *root, size_t o,
                      size_t nobs)
{
    const json_t *type = json_object_get(root, "type");

    if (!json_is_string(type))
        return;
    for (size_t l = 0; l < prog->nleaves; l++) {
        uint8_t *ok = &E->s->leafok[l * nobs + o];
        if (!*ok &&
            cexpr(E, prog->leaves[l]->cmp, root, json_string_value(type), json_string_length(type)))
            *ok = 1;
    }
}

/* Which leaves hold for observation o: every SCO of it is a candidate root. */
static void leaf_obs(struct ectx *E, const struct pat_prog *prog, size_t o, size_t nobs)
{
    const struct pat_obs *obs = E->obs;
    const char *key;
    json_t *sco;

    if (obs->objects == NULL) {
        for (size_t k = 0; k < obs->nscos; k++)
            leaf_root(E, prog, obs->scos[k], o, nobs);
        return;
    }
    json_object_foreach((json_t *)(uintptr_t)obs->objects, key, sco)
    {
        (void)key;
        leaf_root(E, prog, sco, o, nobs);
    }
}

/* ---- the search ------------------------------------------------------------ */

struct summ {
    int64_t min_first, max_first, min_last, max_last;
    size_t anchor; /* smallest observation index in the binding */
};

struct window {
    bool within;
    double d_us;
    int64_t start, stop; /* START/STOP in µs */
    int64_t min_last, max_first;
    bool empty;
};

struct search {
    const struct pat_prog *prog;
    struct pat_scratch *s;
    size_t nobs;
    long steps;
    bool overflow;
    struct window win[PAT_EVAL_MAX_WINDOWS];
    size_t nwin;
};

struct kont {
    bool (*fn)(struct search *S, const struct kont *k, const struct summ *sm);
    const struct kont *next;
    const struct pat_oexpr *node;
    struct summ acc;
    uint64_t rep;
    size_t last_anchor;
};

static bool solve(struct search *S, const struct pat_oexpr *o, const struct kont *k);

static struct summ merge(const struct summ *a, const struct summ *b)
{
    struct summ m;

    m.min_first = a->min_first < b->min_first ? a->min_first : b->min_first;
    m.max_first = a->max_first > b->max_first ? a->max_first : b->max_first;
    m.min_last = a->min_last < b->min_last ? a->min_last : b->min_last;
    m.max_last = a->max_last > b->max_last ? a->max_last : b->max_last;
    m.anchor = a->anchor < b->anchor ? a->anchor : b->anchor;
    return m;
}

static bool leaf(struct search *S, const struct pat_oexpr *o, const struct kont *k)
{
    const uint8_t *ok = &S->s->leafok[(size_t)o->leaf * S->nobs];
    struct window saved[PAT_EVAL_MAX_WINDOWS];

    for (size_t i = 0; i < S->nobs; i++) {
        struct summ sm;
        bool fits = true, r;
        int64_t f, l;
        if (!ok[i] || S->s->uses[i] >= S->s->copies[i])
            continue;
        if (++S->steps > PAT_EVAL_MAX_STEPS) {
            S->overflow = true;
            return false;
        }
        f = S->s->first[i];
        l = S->s->last[i];
        /* prune with every open WITHIN and START/STOP window */
        for (size_t w = 0; w < S->nwin && fits; w++) {
            const struct window *W = &S->win[w];
            if (!W->within) {
                fits = W->start <= f && l < W->stop;
            } else {
                int64_t ml = W->empty || l < W->min_last ? l : W->min_last;
                int64_t mf = W->empty || f > W->max_first ? f : W->max_first;
                fits = (double)(mf - ml) <= W->d_us;
            }
        }
        if (!fits)
            continue;
        memcpy(saved, S->win, S->nwin * sizeof(*saved));
        for (size_t w = 0; w < S->nwin; w++) {
            struct window *W = &S->win[w];
            if (W->within) {
                if (W->empty || l < W->min_last)
                    W->min_last = l;
                if (W->empty || f > W->max_first)
                    W->max_first = f;
                W->empty = false;
            }
        }
        sm.min_first = sm.max_first = f;
        sm.min_last = sm.max_last = l;
        sm.anchor = i;
        S->s->uses[i]++;
        r = k->fn(S, k, &sm);
        S->s->uses[i]--;
        memcpy(S->win, saved, S->nwin * sizeof(*saved));
        if (r || S->overflow)
            return r;
    }
    return false;
}

static bool and_end(struct search *S, const struct kont *k, const struct summ *sr)
{
    struct summ m;

    if (k->node->kind == PAT_O_FOLLOWEDBY && k->acc.max_first > sr->min_last)
        return false;
    m = merge(&k->acc, sr);
    return k->next->fn(S, k->next, &m);
}

static bool and_mid(struct search *S, const struct kont *k, const struct summ *sl)
{
    struct kont k2 = {and_end, k->next, k->node, *sl, 0, 0};

    return solve(S, k->node->r, &k2);
}

/* Leaves the window of a WITHIN or START/STOP while the rest of the
 * pattern is matched, and restores it when backtracking into it. */
static bool window_end(struct search *S, const struct kont *k, const struct summ *sm)
{
    const struct pat_oexpr *o = k->node;
    struct window w;
    bool r;

    if (o->kind == PAT_O_WITHIN && (double)(sm->max_first - sm->min_last) > o->q1.f * 1e6)
        return false;
    w = S->win[--S->nwin];
    r = k->next->fn(S, k->next, sm);
    S->win[S->nwin++] = w;
    return r;
}

static bool rep_step(struct search *S, const struct kont *k, const struct summ *sc);

static bool rep(struct search *S, const struct kont *k, uint64_t i, const struct summ *acc,
                size_t last_anchor)
{
    const struct pat_oexpr *o = k->node;
    struct kont kr = {rep_step, k, o, {0}, i, last_anchor};

    if (i == (uint64_t)o->q1.i)
        return k->next->fn(S, k->next, acc);
    if (acc != NULL)
        kr.acc = *acc;
    return solve(S, o->l, &kr);
}

static bool rep_step(struct search *S, const struct kont *k, const struct summ *sc)
{
    struct summ m;

    /* bind the repetitions in order of their anchors: permutations of one
     * set of bindings are the same match */
    if (k->rep > 0 && sc->anchor < k->last_anchor)
        return false;
    m = k->rep > 0 ? merge(&k->acc, sc) : *sc;
    return rep(S, k->next, k->rep + 1, &m, sc->anchor);
}

static bool solve(struct search *S, const struct pat_oexpr *o, const struct kont *k)
{
    struct kont k1;
    bool r;

    switch (o->kind) {
    case PAT_O_SIMPLE:
        return leaf(S, o, k);
    case PAT_O_PAREN:
        return solve(S, o->l, k);
    case PAT_O_OR:
        r = solve(S, o->l, k);
        if (!r && !S->overflow)
            r = solve(S, o->r, k);
        return r;
    case PAT_O_AND:
    case PAT_O_FOLLOWEDBY:
        k1 = (struct kont){and_mid, k, o, {0}, 0, 0};
        return solve(S, o->l, &k1);
    case PAT_O_WITHIN:
    case PAT_O_STARTSTOP:
        if (S->nwin == PAT_EVAL_MAX_WINDOWS) {
            S->overflow = true;
            return false;
        }
        memset(&S->win[S->nwin], 0, sizeof(S->win[0]));
        S->win[S->nwin].within = o->kind == PAT_O_WITHIN;
        S->win[S->nwin].empty = true;
        S->win[S->nwin].d_us = o->q1.f * 1e6;
        if (o->kind == PAT_O_STARTSTOP) {
            S->win[S->nwin].start = mrd_time_to_usec(&o->q1.ts);
            S->win[S->nwin].stop = mrd_time_to_usec(&o->q2.ts);
        }
        S->nwin++;
        k1 = (struct kont){window_end, k, o, {0}, 0, 0};
        r = solve(S, o->l, &k1);
        S->nwin--;
        return r;
    case PAT_O_REPEATS:
        k1 = (struct kont){NULL, k, o, {0}, 0, 0};
        return rep(S, &k1, 0, NULL, 0);
    }
    return false;
}

static bool accept(struct search *S, const struct kont *k, const struct summ *sm)
{
    (void)S;
    (void)k;
    (void)sm;
    return true;
}

/* ---- entry points ---------------------------------------------------------- */

static enum mrd_code eval_obs(const struct pat_prog *prog, const struct pat_obs *obs, size_t nobs,
                              struct pat_scratch *s, bool *ret_match, struct mrd_err *err)
{
    struct search S;
    struct kont top = {accept, NULL, NULL, {0}, 0, 0};
    struct ectx E = {NULL, s, err, MRD_OK};
    bool r;

    if (nobs > SIZE_MAX / (prog->nleaves + 1) ||
        !grow((void **)&s->leafok, &s->leafok_cap, prog->nleaves * nobs + 1, 1) ||
        !grow((void **)&s->uses, &s->obs_cap, nobs + 1, sizeof(*s->uses)))
        return mrd_err_set(err, MRD_E_NOMEM, "pattern: out of memory");
    /* the per-observation arrays share obs_cap: grow them to the same size */
    s->copies = mrd_realloc(s->copies, s->obs_cap * sizeof(*s->copies));
    s->first = mrd_realloc(s->first, s->obs_cap * sizeof(*s->first));
    s->last = mrd_realloc(s->last, s->obs_cap * sizeof(*s->last));
    if (s->copies == NULL || s->first == NULL || s->last == NULL)
        return mrd_err_set(err, MRD_E_NOMEM, "pattern: out of memory");
    memset(s->leafok, 0, prog->nleaves * nobs);
    for (size_t i = 0; i < nobs; i++) {
        s->uses[i] = 0;
        s->copies[i] = obs[i].count < prog->max_bind ? obs[i].count : prog->max_bind;
        s->first[i] = obs[i].first_usec;
        s->last[i] = obs[i].last_usec;
        E.obs = &obs[i];
        leaf_obs(&E, prog, i, nobs);
        if (E.rc != MRD_OK)
            return E.rc;
    }
    memset(&S, 0, sizeof(S));
    S.prog = prog;
    S.s = s;
    S.nobs = nobs;
    r = solve(&S, prog->ast->root, &top);
    if (S.overflow)
        return mrd_err_set(err, MRD_E_TOOBIG,
                           "pattern: evaluation gave up: more than %ld search steps or %d nested "
                           "WITHIN/START-STOP windows",
                           (long)PAT_EVAL_MAX_STEPS, PAT_EVAL_MAX_WINDOWS);
    *ret_match = r;
    return MRD_OK;
}

enum mrd_code pat_eval_obs(const struct pat_prog *prog, const struct pat_obs *obs, size_t nobs,
                           struct pat_scratch *scratch, bool *ret_match, struct mrd_err *err)
{
    struct pat_scratch *own = NULL;
    enum mrd_code rc;

    if (scratch == NULL) {
        own = pat_scratch_new();
        if (own == NULL)
            return mrd_err_set(err, MRD_E_NOMEM, "pattern: out of memory");
        scratch = own;
    }
    rc = eval_obs(prog, obs, nobs, scratch, ret_match, err);
    pat_scratch_free(own);
    return rc;
}

/* One entry of the id index of pat_eval_json. */
struct pat_ident {
    const char *id;
    size_t len;
    const json_t *obj;
};

/* STIX ids differ in their UUID tail, so hashing the length and the last
 * 16 bytes is enough and much cheaper than hashing the whole id. */
static uint64_t ident_hash(const char *s, size_t n)
{
    uint64_t a = 0, b = 0, h;

    if (n >= 16) {
        memcpy(&a, s + n - 16, 8);
        memcpy(&b, s + n - 8, 8);
    } else {
        memcpy(&a, s, n < 8 ? n : 8);
        if (n > 8)
            memcpy(&b, s + 8, n - 8);
    }
    h = (a ^ (uint64_t)n) * 0x9e3779b97f4a7c15ull;
    h ^= (b + (h >> 29)) * 0xbf58476d1ce4e5b9ull;
    return h ^ (h >> 31);
}

/* Builds the open-addressing table over s->idents (slots hold index + 1). */
static bool ident_index(struct pat_scratch *s)
{
    size_t size = 16;

    while (size < s->nidents * 2)
        size *= 2;
    if (!grow((void **)&s->slots, &s->slots_cap, size, sizeof(*s->slots)))
        return false;
    memset(s->slots, 0, size * sizeof(*s->slots));
    s->nslots = size;
    for (size_t i = 0; i < s->nidents; i++) {
        size_t k = (size_t)ident_hash(s->idents[i].id, s->idents[i].len) & (size - 1);
        while (s->slots[k] != 0)
            k = (k + 1) & (size - 1);
        s->slots[k] = (uint32_t)i + 1;
    }
    return true;
}

static const json_t *ident_find(const struct pat_scratch *s, const json_t *ref)
{
    const char *id = json_string_value(ref);
    size_t n = json_string_length(ref), k;

    if (id == NULL || s->nslots == 0)
        return NULL;
    k = (size_t)ident_hash(id, n) & (s->nslots - 1);
    while (s->slots[k] != 0) {
        const struct pat_ident *e = &s->idents[s->slots[k] - 1];
        if (e->len == n && memcmp(e->id, id, n) == 0)
            return e->obj;
        k = (k + 1) & (s->nslots - 1);
    }
    return NULL;
}

static bool type_is(const json_t *t, const char *type, size_t n)
{
    return json_is_string(t) && json_string_length(t) == n &&
           memcmp(json_string_value(t), type, n) == 0;
}

/* Flattens data (bundle, list, list of bundles, single object) into the
 * observed-data list and the id index of everything else. */
static bool gather(struct pat_scratch *s, const json_t *data, unsigned depth)
{
    size_t i;
    const json_t *v, *t;

    /* list > bundle > objects > object is the deepest shape accepted */
    if (depth > 3)
        return true;
    if (json_is_array(data)) {
        json_array_foreach(data, i, v)
        {
            if (!gather(s, v, depth + 1))
                return false;
        }
        return true;
    }
    if (!json_is_object(data))
        return true;
    t = json_object_get(data, "type");
    if (type_is(t, "bundle", 6))
        return gather(s, json_object_get(data, "objects"), depth + 1);
    if (type_is(t, "observed-data", 13)) {
        if (!grow((void **)&s->ods, &s->ods_cap, s->nods + 1, sizeof(*s->ods)))
            return false;
        s->ods[s->nods++] = data;
        return true;
    }
    v = json_object_get(data, "id");
    if (json_is_string(v)) {
        if (!grow((void **)&s->idents, &s->idents_cap, s->nidents + 1, sizeof(*s->idents)))
            return false;
        s->idents[s->nidents].id = json_string_value(v);
        s->idents[s->nidents].len = json_string_length(v);
        s->idents[s->nidents++].obj = data;
    }
    return true;
}

static enum mrd_code time_prop(const json_t *od, const char *name, int64_t *ret,
                               struct mrd_err *err)
{
    const json_t *v = json_object_get(od, name);
    struct mrd_time t;

    if (!json_is_string(v) || !pat__parse_time(json_string_value(v), json_string_length(v), &t))
        return mrd_err_set(err, MRD_E_INVALID, "pattern: observed-data %s missing or invalid",
                           name);
    *ret = mrd_time_to_usec(&t);
    return MRD_OK;
}

/* Turns one observed-data object into an observation; its SCOs go to
 * s->scos from *nsco on. */
static enum mrd_code fill_obs(struct pat_scratch *s, const json_t *od, struct pat_obs *o,
                              size_t *nsco, struct mrd_err *err)
{
    const json_t *refs = json_object_get(od, "object_refs");
    const json_t *objs = json_object_get(od, "objects");
    const json_t *num = json_object_get(od, "number_observed");
    const json_t *v;
    enum mrd_code rc;
    size_t i;

    memset(o, 0, sizeof(*o));
    if (!json_is_integer(num) || json_integer_value(num) < 1 || json_integer_value(num) > 999999999)
        return mrd_err_set(err, MRD_E_INVALID,
                           "pattern: observed-data number_observed missing or not 1..999999999");
    o->count = (uint32_t)json_integer_value(num);
    rc = time_prop(od, "first_observed", &o->first_usec, err);
    if (rc == MRD_OK)
        rc = time_prop(od, "last_observed", &o->last_usec, err);
    if (rc != MRD_OK)
        return rc;
    if (json_is_array(refs)) {
        if (!grow((void **)&s->scos, &s->scos_cap, *nsco + json_array_size(refs) + 1,
                  sizeof(*s->scos)))
            return mrd_err_set(err, MRD_E_NOMEM, "pattern: out of memory");
        json_array_foreach(refs, i, v)
        {
            const json_t *sco = ident_find(s, v);
            if (sco != NULL)
                s->scos[*nsco + o->nscos++] = sco;
        }
        *nsco += o->nscos;
        return MRD_OK;
    }
    if (json_is_object(objs)) {
        o->objects = objs;
        return MRD_OK;
    }
    return mrd_err_set(err, MRD_E_INVALID,
                       "pattern: observed-data has neither object_refs nor objects");
}

enum mrd_code pat_eval_json(const struct pat_prog *prog, const json_t *data,
                            struct pat_scratch *scratch, bool *ret_match, struct mrd_err *err)
{
    struct pat_scratch *own = NULL;
    size_t nsco = 0;
    enum mrd_code rc = MRD_OK;

    if (!json_is_array(data) && !json_is_object(data))
        return mrd_err_set(err, MRD_E_INVAL,
                           "pattern: observed data must be a bundle, a list or an observed-data");
    if (scratch == NULL) {
        own = pat_scratch_new();
        if (own == NULL)
            return mrd_err_set(err, MRD_E_NOMEM, "pattern: out of memory");
        scratch = own;
    }
    scratch->nods = scratch->nidents = 0;
    if (!gather(scratch, data, 0) || !grow((void **)&scratch->obs, &scratch->obsv_cap,
                                           scratch->nods + 1, sizeof(*scratch->obs))) {
        rc = mrd_err_set(err, MRD_E_NOMEM, "pattern: out of memory");
        goto out;
    }
    if (scratch->nidents >= UINT32_MAX / 2 || !ident_index(scratch)) {
        rc = mrd_err_set(err, MRD_E_NOMEM, "pattern: out of memory");
        goto out;
    }
    for (size_t i = 0; rc == MRD_OK && i < scratch->nods; i++)
        rc = fill_obs(scratch, scratch->ods[i], &scratch->obs[i], &nsco, err);
    /* the SCO array may have moved while growing: point the observations
     * at their slices again */
    nsco = 0;
    for (size_t i = 0; rc == MRD_OK && i < scratch->nods; i++) {
        if (scratch->obs[i].objects == NULL) {
            scratch->obs[i].scos = scratch->scos + nsco;
            nsco += scratch->obs[i].nscos;
        }
    }
    if (rc == MRD_OK)
        rc = eval_obs(prog, scratch->obs, scratch->nods, scratch, ret_match, err);
out:
    pat_scratch_free(own);
    return rc;
}
