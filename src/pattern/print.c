/*
 * print.c: the canonical form of a pattern, and structural AST equality.
 *
 * Canonical means: one space around binary operators and before
 * qualifiers, none inside brackets and parentheses, upper-case keywords,
 * `=` and `!=` (never `==` or `<>`), strings with only the escapes \' and
 * \\, hex in lower case, numbers without '+', property names quoted only
 * when they are not plain identifiers. Grouping parentheses are printed
 * exactly where the source had them, because they change meaning for
 * qualifiers (§9.5.1). pat__ast_equal is the oracle for the round-trip
 * property: parse(print(p)) equals parse(p).
 */
#include <string.h>

#include "core/str.h"
#include "pattern/pattern_int.h"

static bool plain_ident(const char *s, size_t n)
{
    if (n == 0 || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z') || s[0] == '_'))
        return false;
    for (size_t i = 1; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_'))
            return false;
    }
    return !pat__is_keyword(s, n);
}

static enum mrd_code put_quoted(struct mrd_buf *out, const char *s, size_t n, struct mrd_err *err)
{
    enum mrd_code rc = mrd_buf_putc(out, '\'', err);
    size_t run = 0;

    for (size_t i = 0; rc == MRD_OK && i < n; i++) {
        if (s[i] == '\'' || s[i] == '\\') {
            rc = mrd_buf_append(out, s + run, i - run, err);
            if (rc == MRD_OK)
                rc = mrd_buf_putc(out, '\\', err);
            run = i;
        }
    }
    if (rc == MRD_OK)
        rc = mrd_buf_append(out, s + run, n - run, err);
    if (rc == MRD_OK)
        rc = mrd_buf_putc(out, '\'', err);
    return rc;
}

static enum mrd_code put_key(struct mrd_buf *out, const struct pat_step *st, struct mrd_err *err)
{
    if (plain_ident(st->key, st->key_len))
        return mrd_buf_append(out, st->key, st->key_len, err);
    return put_quoted(out, st->key, st->key_len, err);
}

enum mrd_code pat__print_path(const struct pat_path *p, bool with_type, struct mrd_buf *out,
                              struct mrd_err *err)
{
    enum mrd_code rc = MRD_OK;

    if (with_type) {
        rc = mrd_buf_append(out, p->type, p->type_len, err);
        if (rc == MRD_OK)
            rc = mrd_buf_putc(out, ':', err);
    }
    for (size_t i = 0; rc == MRD_OK && i < p->nsteps; i++) {
        const struct pat_step *st = &p->steps[i];
        if (st->kind == PAT_STEP_KEY) {
            if (i > 0)
                rc = mrd_buf_putc(out, '.', err);
            if (rc == MRD_OK)
                rc = put_key(out, st, err);
        } else if (st->kind == PAT_STEP_STAR) {
            rc = mrd_buf_puts(out, "[*]", err);
        } else {
            rc = mrd_buf_printf(out, err, "[%lld]", (long long)st->index);
        }
    }
    return rc;
}

static enum mrd_code put_lit(struct mrd_buf *out, const struct pat_lit *l, struct mrd_err *err)
{
    enum mrd_code rc;

    switch (l->kind) {
    case PAT_LIT_STRING:
        return put_quoted(out, l->text, l->len, err);
    case PAT_LIT_HEX:
        rc = mrd_buf_puts(out, "h'", err);
        for (size_t i = 0; rc == MRD_OK && i < l->nbytes; i++)
            rc = mrd_buf_printf(out, err, "%02x", l->bytes[i]);
        if (rc == MRD_OK)
            rc = mrd_buf_putc(out, '\'', err);
        return rc;
    case PAT_LIT_TIMESTAMP:
    case PAT_LIT_BINARY:
        rc = mrd_buf_putc(out, l->kind == PAT_LIT_TIMESTAMP ? 't' : 'b', err);
        if (rc == MRD_OK)
            rc = mrd_buf_putc(out, '\'', err);
        if (rc == MRD_OK)
            rc = mrd_buf_append(out, l->text, l->len, err);
        if (rc == MRD_OK)
            rc = mrd_buf_putc(out, '\'', err);
        return rc;
    default:
        return mrd_buf_append(out, l->text, l->len, err);
    }
}

static const char *op_text(enum pat_op op)
{
    static const char *const names[] = {"=",       "!=",       "<",          "<=",
                                        ">",       ">=",       "IN",         "LIKE",
                                        "MATCHES", "ISSUBSET", "ISSUPERSET", "EXISTS"};
    return names[op];
}

static enum mrd_code put_test(struct mrd_buf *out, const struct pat_test *t, struct mrd_err *err)
{
    enum mrd_code rc;

    if (t->op == PAT_OP_EXISTS) {
        rc = mrd_buf_puts(out, "EXISTS ", err);
        if (rc == MRD_OK)
            rc = pat__print_path(&t->path, true, out, err);
        return rc;
    }
    rc = pat__print_path(&t->path, true, out, err);
    if (rc == MRD_OK)
        rc = mrd_buf_printf(out, err, " %s%s ", t->neg ? "NOT " : "", op_text(t->op));
    if (rc != MRD_OK)
        return rc;
    if (t->op != PAT_OP_IN)
        return put_lit(out, &t->lit, err);
    rc = mrd_buf_putc(out, '(', err);
    for (size_t i = 0; rc == MRD_OK && i < t->nset; i++) {
        if (i > 0)
            rc = mrd_buf_puts(out, ", ", err);
        if (rc == MRD_OK)
            rc = put_lit(out, &t->set[i], err);
    }
    if (rc == MRD_OK)
        rc = mrd_buf_putc(out, ')', err);
    return rc;
}

static enum mrd_code put_cexpr(struct mrd_buf *out, const struct pat_cexpr *c, struct mrd_err *err)
{
    enum mrd_code rc;

    switch (c->kind) {
    case PAT_C_TEST:
        return put_test(out, c->test, err);
    case PAT_C_PAREN:
        rc = mrd_buf_putc(out, '(', err);
        if (rc == MRD_OK)
            rc = put_cexpr(out, c->l, err);
        if (rc == MRD_OK)
            rc = mrd_buf_putc(out, ')', err);
        return rc;
    default:
        rc = put_cexpr(out, c->l, err);
        if (rc == MRD_OK)
            rc = mrd_buf_puts(out, c->kind == PAT_C_AND ? " AND " : " OR ", err);
        if (rc == MRD_OK)
            rc = put_cexpr(out, c->r, err);
        return rc;
    }
}

static enum mrd_code put_oexpr(struct mrd_buf *out, const struct pat_oexpr *o, struct mrd_err *err)
{
    enum mrd_code rc;

    switch (o->kind) {
    case PAT_O_SIMPLE:
        rc = mrd_buf_putc(out, '[', err);
        if (rc == MRD_OK)
            rc = put_cexpr(out, o->cmp, err);
        if (rc == MRD_OK)
            rc = mrd_buf_putc(out, ']', err);
        return rc;
    case PAT_O_PAREN:
        rc = mrd_buf_putc(out, '(', err);
        if (rc == MRD_OK)
            rc = put_oexpr(out, o->l, err);
        if (rc == MRD_OK)
            rc = mrd_buf_putc(out, ')', err);
        return rc;
    case PAT_O_AND:
    case PAT_O_OR:
    case PAT_O_FOLLOWEDBY:
        rc = put_oexpr(out, o->l, err);
        if (rc == MRD_OK)
            rc = mrd_buf_puts(out,
                              o->kind == PAT_O_AND  ? " AND "
                              : o->kind == PAT_O_OR ? " OR "
                                                    : " FOLLOWEDBY ",
                              err);
        if (rc == MRD_OK)
            rc = put_oexpr(out, o->r, err);
        return rc;
    case PAT_O_WITHIN:
    case PAT_O_REPEATS:
        rc = put_oexpr(out, o->l, err);
        if (rc == MRD_OK)
            rc = mrd_buf_puts(out, o->kind == PAT_O_WITHIN ? " WITHIN " : " REPEATS ", err);
        if (rc == MRD_OK)
            rc = put_lit(out, &o->q1, err);
        if (rc == MRD_OK)
            rc = mrd_buf_puts(out, o->kind == PAT_O_WITHIN ? " SECONDS" : " TIMES", err);
        return rc;
    case PAT_O_STARTSTOP:
        rc = put_oexpr(out, o->l, err);
        if (rc == MRD_OK)
            rc = mrd_buf_puts(out, " START ", err);
        if (rc == MRD_OK)
            rc = put_lit(out, &o->q1, err);
        if (rc == MRD_OK)
            rc = mrd_buf_puts(out, " STOP ", err);
        if (rc == MRD_OK)
            rc = put_lit(out, &o->q2, err);
        return rc;
    }
    return MRD_OK;
}

enum mrd_code pat_print(const struct pat_ast *ast, struct mrd_buf *out, struct mrd_err *err)
{
    return put_oexpr(out, ast->root, err);
}

/* ---- structural equality --------------------------------------------------- */

static bool bytes_eq(const void *a, size_t an, const void *b, size_t bn)
{
    return an == bn && (an == 0 || memcmp(a, b, an) == 0);
}

static bool lit_eq(const struct pat_lit *a, const struct pat_lit *b)
{
    if (a->kind != b->kind)
        return false;
    switch (a->kind) {
    case PAT_LIT_HEX:
    case PAT_LIT_BINARY:
        return bytes_eq(a->bytes, a->nbytes, b->bytes, b->nbytes);
    case PAT_LIT_TIMESTAMP:
        return mrd_time_cmp(&a->ts, &b->ts) == 0 && bytes_eq(a->text, a->len, b->text, b->len);
    default:
        return bytes_eq(a->text, a->len, b->text, b->len);
    }
}

static bool path_eq(const struct pat_path *a, const struct pat_path *b)
{
    if (!bytes_eq(a->type, a->type_len, b->type, b->type_len) || a->nsteps != b->nsteps)
        return false;
    for (size_t i = 0; i < a->nsteps; i++) {
        const struct pat_step *x = &a->steps[i], *y = &b->steps[i];
        if (x->kind != y->kind || x->index != y->index ||
            (x->kind == PAT_STEP_KEY && !bytes_eq(x->key, x->key_len, y->key, y->key_len)))
            return false;
    }
    return true;
}

static bool cexpr_eq(const struct pat_cexpr *a, const struct pat_cexpr *b)
{
    if (a == NULL || b == NULL)
        return a == b;
    if (a->kind != b->kind)
        return false;
    if (a->kind == PAT_C_TEST) {
        const struct pat_test *x = a->test, *y = b->test;
        if (x->op != y->op || x->neg != y->neg || !path_eq(&x->path, &y->path))
            return false;
        if (x->op == PAT_OP_EXISTS)
            return true;
        if (x->op != PAT_OP_IN)
            return lit_eq(&x->lit, &y->lit);
        if (x->nset != y->nset)
            return false;
        for (size_t i = 0; i < x->nset; i++)
            if (!lit_eq(&x->set[i], &y->set[i]))
                return false;
        return true;
    }
    return cexpr_eq(a->l, b->l) && cexpr_eq(a->r, b->r);
}

static bool oexpr_eq(const struct pat_oexpr *a, const struct pat_oexpr *b)
{
    if (a == NULL || b == NULL)
        return a == b;
    if (a->kind != b->kind)
        return false;
    switch (a->kind) {
    case PAT_O_SIMPLE:
        return cexpr_eq(a->cmp, b->cmp);
    case PAT_O_WITHIN:
    case PAT_O_REPEATS:
        return lit_eq(&a->q1, &b->q1) && oexpr_eq(a->l, b->l);
    case PAT_O_STARTSTOP:
        return lit_eq(&a->q1, &b->q1) && lit_eq(&a->q2, &b->q2) && oexpr_eq(a->l, b->l);
    default:
        return oexpr_eq(a->l, b->l) && oexpr_eq(a->r, b->r);
    }
}

bool pat__ast_equal(const struct pat_ast *a, const struct pat_ast *b)
{
    return oexpr_eq(a->root, b->root);
}
