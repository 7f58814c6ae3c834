/*
 * simple.c: introspection for the matcher's hash indexes.
 *
 * A "simple" pattern is an OR of observation expressions without
 * qualifiers, each an OR of `path = literal` / `path IN (...)` tests
 * (grouping parentheses allowed, NOT not). Such a pattern matches an
 * observation exactly when one of its (type, path, literal) terms does, so
 * the matcher can index the terms instead of evaluating the pattern.
 */
#include "core/buf.h"
#include "pattern/pattern_int.h"

#define PAT_MAX_PATH_TEXT 4096 /* the canonical text of one object path */

static bool simple_cexpr(const struct pat_cexpr *c)
{
    switch (c->kind) {
    case PAT_C_TEST:
        return !c->test->neg && (c->test->op == PAT_OP_EQ || c->test->op == PAT_OP_IN);
    case PAT_C_PAREN:
        return simple_cexpr(c->l);
    case PAT_C_OR:
        return simple_cexpr(c->l) && simple_cexpr(c->r);
    default:
        return false;
    }
}

static bool simple_oexpr(const struct pat_oexpr *o)
{
    switch (o->kind) {
    case PAT_O_SIMPLE:
        return simple_cexpr(o->cmp);
    case PAT_O_PAREN:
        return simple_oexpr(o->l);
    case PAT_O_OR:
        return simple_oexpr(o->l) && simple_oexpr(o->r);
    default:
        return false;
    }
}

struct walk {
    enum mrd_code (*fn)(void *ctx, const struct pat_term *term, struct mrd_err *err);
    void *ctx;
    struct mrd_buf path;
    struct mrd_err *err;
};

static enum mrd_code emit(struct walk *w, const struct pat_test *t, const struct pat_lit *l)
{
    struct pat_term term;

    term.type = t->path.type;
    term.type_len = t->path.type_len;
    term.path = w->path.data;
    term.path_len = w->path.len;
    term.kind = l->kind;
    term.value = l->text;
    term.value_len = l->len;
    term.hash = t->path.hashes;
    return w->fn(w->ctx, &term, w->err);
}

static enum mrd_code walk_cexpr(struct walk *w, const struct pat_cexpr *c)
{
    enum mrd_code rc;

    if (c->kind == PAT_C_PAREN)
        return walk_cexpr(w, c->l);
    if (c->kind == PAT_C_OR) {
        rc = walk_cexpr(w, c->l);
        if (rc == MRD_OK)
            rc = walk_cexpr(w, c->r);
        return rc;
    }
    mrd_buf_reset(&w->path);
    rc = pat__print_path(&c->test->path, false, &w->path, w->err);
    if (rc != MRD_OK)
        return rc;
    if (c->test->op == PAT_OP_EQ)
        return emit(w, c->test, &c->test->lit);
    for (size_t i = 0; rc == MRD_OK && i < c->test->nset; i++)
        rc = emit(w, c->test, &c->test->set[i]);
    return rc;
}

static enum mrd_code walk_oexpr(struct walk *w, const struct pat_oexpr *o)
{
    enum mrd_code rc;

    if (o->kind == PAT_O_SIMPLE)
        return walk_cexpr(w, o->cmp);
    if (o->kind == PAT_O_PAREN)
        return walk_oexpr(w, o->l);
    rc = walk_oexpr(w, o->l);
    if (rc == MRD_OK)
        rc = walk_oexpr(w, o->r);
    return rc;
}

enum mrd_code pat_simple_terms(const struct pat_ast *ast,
                               enum mrd_code (*fn)(void *ctx, const struct pat_term *term,
                                                   struct mrd_err *err),
                               void *ctx, struct mrd_err *err)
{
    struct walk w;
    enum mrd_code rc;

    if (!simple_oexpr(ast->root))
        return mrd_err_set(err, MRD_E_UNSUPP, "pattern: not a simple equality pattern");
    w.fn = fn;
    w.ctx = ctx;
    w.err = err;
    mrd_buf_init(&w.path, PAT_MAX_PATH_TEXT);
    rc = walk_oexpr(&w, ast->root);
    mrd_buf_release(&w.path);
    return rc;
}
