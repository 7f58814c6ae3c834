/*
 * store_rows.c: the SQL and row conversions of the administrative records
 * (with token rotation and the account lifecycle), written once for both
 * backends (store_int.h, "rows, whichever the
 * driver"). A backend reads a result row through a struct store_rowrd its
 * driver fills (SQLite: sq__rowrd; PostgreSQL: store_pg.c).
 */
#include "store/store_int.h"

#include <string.h>

#include <sodium.h>

#include "core/alloc.h"
#include "core/str.h"
#include "core/timestamp.h"

static int64_t time_of(const struct store_rowrd *r, int col)
{
    return r->null(r, col) ? STORE_TIME_NONE : r->i64(r, col);
}

void store__copy_col(const struct store_rowrd *r, int col, char *dst, size_t size)
{
    size_t n;
    const char *t = r->text(r, col, &n);

    if (n >= size)
        n = size - 1;
    memcpy(dst, t, n);
    dst[n] = '\0';
}

void store__org_from(const struct store_rowrd *r, struct store_org *o)
{
    memset(o, 0, sizeof(*o));
    o->key = r->i64(r, 0);
    store__copy_col(r, 1, o->name, sizeof(o->name));
    o->relation = (enum policy_relation)r->i64(r, 2);
    o->created_usec = r->i64(r, 3);
    o->disabled_usec = time_of(r, 4);
    o->deleted_usec = time_of(r, 5);
}

void store__token_from(const struct store_rowrd *r, struct store_token *t)
{
    memset(t, 0, sizeof(*t));
    store__copy_col(r, 0, t->name, sizeof(t->name));
    t->org_key = r->i64(r, 1);
    store__copy_col(r, 2, t->org_name, sizeof(t->org_name));
    t->org_relation = (enum policy_relation)r->i64(r, 3);
    t->created_usec = r->i64(r, 4);
    t->revoked_usec = time_of(r, 5);
    t->expires_usec = time_of(r, 6);
    t->last_used_usec = time_of(r, 7);
    t->prev_expires_usec = r->null(r, 14) ? STORE_TIME_NONE : time_of(r, 8);
    t->prev_last_used_usec = time_of(r, 9);
    t->org_disabled = !r->null(r, 10) || !r->null(r, 11);
    store__copy_col(r, 12, t->prefix, sizeof(t->prefix));
}

void store__root_from(const struct store_rowrd *r, struct store_api_root *root)
{
    memset(root, 0, sizeof(*root));
    store__copy_col(r, 0, root->name, sizeof(root->name));
    store__copy_col(r, 1, root->title, sizeof(root->title));
    store__copy_col(r, 2, root->description, sizeof(root->description));
    root->max_content_length = (uint64_t)r->i64(r, 3);
}

void store__coll_from(const struct store_rowrd *r, struct store_collection *c)
{
    memset(c, 0, sizeof(*c));
    c->key = r->i64(r, 0);
    store__copy_col(r, 1, c->id, sizeof(c->id));
    store__copy_col(r, 2, c->api_root, sizeof(c->api_root));
    store__copy_col(r, 3, c->title, sizeof(c->title));
    store__copy_col(r, 4, c->description, sizeof(c->description));
    store__copy_col(r, 5, c->alias, sizeof(c->alias));
    c->default_tlp = (enum policy_tlp)r->i64(r, 6);
    c->public_read = r->i64(r, 7) != 0;
}

void store__grant_row_from(const struct store_rowrd *r, struct store_grant_row *g)
{
    memset(g, 0, sizeof(*g));
    g->org_key = r->i64(r, 0);
    store__copy_col(r, 1, g->org_name, sizeof(g->org_name));
    g->collection = r->i64(r, 2);
    store__copy_col(r, 3, g->collection_id, sizeof(g->collection_id));
    store__copy_col(r, 4, g->api_root, sizeof(g->api_root));
    g->grant.can_read = r->i64(r, 5) != 0;
    g->grant.can_write = r->i64(r, 6) != 0;
}

/* ---- the administrative records, for both backends ---- */

/* One statement on a connection the backend's driver borrows for it. */
enum mrd_code store__q(struct store *st, bool read, const char *what, const char *sql,
                       const struct sq_arg *args, size_t nargs, store_row_fn row, void *ctx,
                       uint64_t *ret_n, struct mrd_err *err)
{
    return st->ops->driver->query(st, read, what, sql, args, nargs, row, ctx, ret_n, err);
}

enum mrd_code store__tx_run(const struct store_tx *tx, const char *what, const char *sql,
                            const struct sq_arg *args, size_t nargs, store_row_fn row, void *ctx,
                            uint64_t *ret_n, struct mrd_err *err)
{
    return tx->ops->run(tx->conn, false, what, sql, args, nargs, row, ctx, ret_n, err);
}

enum mrd_code store__tx_walk(const struct store_tx *tx, const char *what, const char *sql,
                             const struct sq_arg *args, size_t nargs, store_row_fn row, void *ctx,
                             uint64_t *ret_n, struct mrd_err *err)
{
    if (tx->ops->walk != NULL)
        return tx->ops->walk(tx->conn, what, sql, args, nargs, row, ctx, ret_n, err);
    return tx->ops->run(tx->conn, true, what, sql, args, nargs, row, ctx, ret_n, err);
}

static enum mrd_code org_row(void *ctx, const struct store_rowrd *r, struct mrd_err *err)
{
    (void)err;
    store__org_from(r, ctx);
    return MRD_OK;
}

enum mrd_code store__org_create(struct store *st, const char *name, enum policy_relation rel,
                                struct store_org *ret, struct mrd_err *err)
{
    struct store_org o;
    enum mrd_code rc;

    rc = store__q(
        st, false, "org",
        "INSERT INTO orgs (name, relation, created) VALUES (?1, ?2, ?3)" STORE_ORG_RETURNING,
        SQ_ARGS(SQ_STR(name), SQ_INT(rel), SQ_INT(mrd_time_now_usec())), org_row, &o, NULL, err);
    if (rc == MRD_E_EXISTS) {
        mrd_err_clear(err);
        rc = mrd_err_set(err, MRD_E_EXISTS, "org '%s' already exists", name);
    }
    if (rc == MRD_OK && ret != NULL)
        *ret = o;
    return rc;
}

enum mrd_code store__org_get(struct store *st, const char *name, int64_t key, struct store_org *ret,
                             struct mrd_err *err)
{
    uint64_t n = 0;
    enum mrd_code rc;

    if (name != NULL)
        rc = store__q(st, true, "org", STORE_ORG_COLS "WHERE name = ?1", SQ_ARGS(SQ_STR(name)),
                      org_row, ret, &n, err);
    else
        rc = store__q(st, true, "org", STORE_ORG_COLS "WHERE key = ?1", SQ_ARGS(SQ_INT(key)),
                      org_row, ret, &n, err);
    if (rc == MRD_OK && n == 0)
        rc = name != NULL
                 ? mrd_err_set(err, MRD_E_NOTFOUND, "no org named '%s'", name)
                 : mrd_err_set(err, MRD_E_NOTFOUND, "no org with key %lld", (long long)key);
    return rc;
}

struct org_list_ctx {
    enum mrd_code (*cb)(void *ctx, const struct store_org *org);
    void *ctx;
};

static enum mrd_code org_list_row(void *ctx, const struct store_rowrd *r, struct mrd_err *err)
{
    struct org_list_ctx *lc = ctx;
    struct store_org o;

    (void)err;
    store__org_from(r, &o);
    return lc->cb(lc->ctx, &o);
}

enum mrd_code store__org_list(struct store *st,
                              enum mrd_code (*cb)(void *ctx, const struct store_org *org),
                              void *ctx, struct mrd_err *err)
{
    struct org_list_ctx lc = {cb, ctx};

    return store__q(st, false, "org list", STORE_ORG_COLS "ORDER BY key", SQ_NOARGS, org_list_row,
                    &lc, NULL, err);
}

enum mrd_code store__token_create(struct store *st, int64_t org_key, const char *name,
                                  int64_t expires_usec, char ret_secret[STORE_TOKEN_LEN + 1],
                                  struct store_token *ret, struct mrd_err *err)
{
    char secret[STORE_TOKEN_LEN + 1];
    char tname[STORE_NAME_MAX + 1];
    unsigned char hash[STORE_TOKEN_HASH_LEN];
    struct store_org org;
    int64_t t = mrd_time_now_usec();
    enum mrd_code rc;

    rc = store__org_get(st, NULL, org_key, &org, err);
    if (rc != MRD_OK)
        return rc;
    if (org.deleted_usec != STORE_TIME_NONE)
        return mrd_err_set(err, MRD_E_INVAL, "org '%s' was deleted: it gets no new tokens",
                           org.name);
    store__token_generate(secret);
    store__token_hash(secret, STORE_TOKEN_LEN, hash);
    if (name != NULL)
        (void)mrd_strlcpy(tname, name, sizeof(tname));
    else
        (void)mrd_strlcpy(tname, secret, STORE_TOKEN_PREFIX_LEN + 1);
    /* Only the public prefix is kept in clear: enough to recognise a token
     * in a list, far too little to use it. */
    rc =
        store__q(st, false, "token",
                 "INSERT INTO tokens (name, org, hash, prefix, created, expires) "
                 "VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                 SQ_ARGS(SQ_STR(tname), SQ_INT(org_key), SQ_BLOB(hash, sizeof(hash)),
                         SQ_TEXT(secret, STORE_TOKEN_PREFIX_LEN), SQ_INT(t), SQ_TIME(expires_usec)),
                 NULL, NULL, NULL, err);
    if (rc == MRD_E_EXISTS) {
        mrd_err_clear(err);
        rc = mrd_err_set(err, MRD_E_EXISTS, "a token named '%s' already exists", tname);
    }
    if (rc == MRD_OK) {
        memcpy(ret_secret, secret, sizeof(secret));
        if (ret != NULL) {
            memset(ret, 0, sizeof(*ret));
            (void)mrd_strlcpy(ret->name, tname, sizeof(ret->name));
            ret->org_key = org_key;
            (void)mrd_strlcpy(ret->org_name, org.name, sizeof(ret->org_name));
            ret->org_relation = org.relation;
            ret->created_usec = t;
            ret->revoked_usec = STORE_TIME_NONE;
            ret->expires_usec = expires_usec;
            ret->last_used_usec = STORE_TIME_NONE;
            ret->prev_expires_usec = STORE_TIME_NONE;
            ret->prev_last_used_usec = STORE_TIME_NONE;
            (void)mrd_strlcpy(ret->prefix, secret, sizeof(ret->prefix));
        }
    }
    sodium_memzero(secret, sizeof(secret));
    return rc;
}

/* A token row plus whether it matched through its previous secret (the
 * extra column: 1 when the current hash matched). */
static enum mrd_code lookup_row(void *ctx, const struct store_rowrd *r, struct mrd_err *err)
{
    struct store_token *t = ctx;

    (void)err;
    store__token_from(r, t);
    t->via_prev = r->i64(r, SQ_TOKEN_NCOLS) == 0;
    return MRD_OK;
}

/* Records a token's use, at most once per STORE_TOKEN_USE_USEC: a write a
 * minute per token, not one per request. Best effort: a busy database
 * only delays it. Never on the caller's pinned snapshot connection. */
static void note_use(struct store *st, const struct store_token *t, int64_t now)
{
    int64_t last = t->via_prev ? t->prev_last_used_usec : t->last_used_usec;

    if (last != STORE_TIME_NONE && now - last < STORE_TOKEN_USE_USEC)
        return;
    (void)store__q(st, false, "token use",
                   t->via_prev ? "UPDATE tokens SET prev_last_used = ?2 WHERE name = ?1 AND"
                                 " (prev_last_used IS NULL OR prev_last_used < ?3)"
                               : "UPDATE tokens SET last_used = ?2 WHERE name = ?1 AND"
                                 " (last_used IS NULL OR last_used < ?3)",
                   SQ_ARGS(SQ_STR(t->name), SQ_INT(now), SQ_INT(now - STORE_TOKEN_USE_USEC)), NULL,
                   NULL, NULL, NULL);
}

/* Whether token t (n rows found) may be used now: MRD_E_AUTH with the
 * reason otherwise. Notes its use. */
static enum mrd_code token_usable(struct store *st, const struct store_token *t, uint64_t n,
                                  int64_t now, struct mrd_err *err)
{
    if (n == 0)
        return mrd_err_set(err, MRD_E_AUTH, STORE_AUTH_UNKNOWN);
    /* The reasons are for the operator's log (store.h); a client gets
     * one answer whatever the reason. */
    if (t->revoked_usec != STORE_TIME_NONE)
        return mrd_err_set(err, MRD_E_AUTH, STORE_AUTH_REVOKED);
    if (t->via_prev && (t->prev_expires_usec == STORE_TIME_NONE || t->prev_expires_usec <= now))
        return mrd_err_set(err, MRD_E_AUTH, STORE_AUTH_EXPIRED);
    if (t->expires_usec != STORE_TIME_NONE && t->expires_usec <= now)
        return mrd_err_set(err, MRD_E_AUTH, STORE_AUTH_EXPIRED);
    if (t->org_disabled)
        return mrd_err_set(err, MRD_E_AUTH, STORE_AUTH_DISABLED);
    note_use(st, t, now);
    return MRD_OK;
}

enum mrd_code store__token_lookup(struct store *st, const char *secret, size_t len,
                                  struct store_token *ret, struct mrd_err *err)
{
    unsigned char hash[STORE_TOKEN_HASH_LEN];
    struct store_token t;
    int64_t now = mrd_time_now_usec();
    uint64_t n = 0;
    enum mrd_code rc;

    store__token_hash(secret, len, hash);
    rc = store__q(st, true, "token lookup",
                  "SELECT " SQ_TOKEN_COLS ", CASE WHEN t.hash = ?1 THEN 1 ELSE 0 END FROM tokens t"
                  " JOIN orgs o ON o.key = t.org WHERE t.hash = ?1 OR t.prev_hash = ?1",
                  SQ_ARGS(SQ_BLOB(hash, sizeof(hash))), lookup_row, &t, &n, err);
    if (rc != MRD_OK)
        return rc;
    rc = token_usable(st, &t, n, now, err);
    if (rc == MRD_OK)
        *ret = t;
    return rc;
}

/* A row of rowrd r, its columns from base on (store__coll_from reads a
 * collection's columns at 0..). */
struct rowrd_at {
    struct store_rowrd r; /* first: what the conversions get */
    const struct store_rowrd *in;
    int base;
};

static int64_t at_i64(const struct store_rowrd *r, int col)
{
    const struct rowrd_at *a = (const struct rowrd_at *)r;

    return a->in->i64(a->in, a->base + col);
}

static bool at_null(const struct store_rowrd *r, int col)
{
    const struct rowrd_at *a = (const struct rowrd_at *)r;

    return a->in->null(a->in, a->base + col);
}

static const char *at_text(const struct store_rowrd *r, int col, size_t *ret_len)
{
    const struct rowrd_at *a = (const struct rowrd_at *)r;

    return a->in->text(a->in, a->base + col, ret_len);
}

static const char *at_blob(const struct store_rowrd *r, int col, size_t *ret_len)
{
    const struct rowrd_at *a = (const struct rowrd_at *)r;

    return a->in->blob(a->in, a->base + col, ret_len);
}

/* store__token_access's row: the token (SQ_TOKEN_NCOLS columns and the
 * flag of lookup_row), the collection (STORE_COLL_COLS' 8, all NULL when
 * there is none) and the grant (2, NULL when there is no row). */
#define ACCESS_COLL_COL (SQ_TOKEN_NCOLS + 1)
#define ACCESS_GRANT_COL (ACCESS_COLL_COL + 8)

struct access_ctx {
    struct store_token *tok;
    struct store_collection *coll;
    bool found;
    struct store_grant *grant;
};

static enum mrd_code access_row(void *ctx, const struct store_rowrd *r, struct mrd_err *err)
{
    struct access_ctx *a = ctx;
    struct rowrd_at at = {
        {r->stmt, r->res, r->row, at_i64, at_null, at_text, at_blob}, r, ACCESS_COLL_COL};

    (void)lookup_row(a->tok, r, err);
    a->found = !r->null(r, ACCESS_COLL_COL);
    if (a->found)
        store__coll_from(&at.r, a->coll);
    a->grant->can_read = r->i64(r, ACCESS_GRANT_COL) != 0;
    a->grant->can_write = r->i64(r, ACCESS_GRANT_COL + 1) != 0;
    return MRD_OK;
}

enum mrd_code store__token_access(struct store *st, const char *secret, size_t len,
                                  const char *api_root, size_t root_len, const char *id_or_alias,
                                  size_t id_len, struct store_token *ret_tok,
                                  struct store_collection *ret_coll, bool *ret_found,
                                  struct store_grant *ret_grant, struct mrd_err *err)
{
    unsigned char hash[STORE_TOKEN_HASH_LEN];
    struct store_token t;
    struct store_grant g = {false, false};
    struct access_ctx a = {&t, ret_coll, false, &g};
    int64_t now = mrd_time_now_usec();
    uint64_t n = 0;
    enum mrd_code rc;

    *ret_found = false;
    store__token_hash(secret, len, hash);
    /* the token as store__token_lookup finds it; the collection as
     * store__collection_get (within api_root, by id or alias); the grant
     * as store__grant_get, for the token's org */
    rc = store__q(st, true, "token and collection",
                  "SELECT " SQ_TOKEN_COLS ", CASE WHEN t.hash = ?1 THEN 1 ELSE 0 END,"
                  " c.key, c.id, c.api_root, c.title, c.description, c.alias, c.default_tlp,"
                  " c.public_read, g.can_read, g.can_write"
                  " FROM tokens t JOIN orgs o ON o.key = t.org"
                  " LEFT JOIN collections c ON c.api_root = ?2 AND (c.id = ?3 OR c.alias = ?3)"
                  " LEFT JOIN grants g ON g.org = t.org AND g.collection = c.key"
                  " WHERE t.hash = ?1 OR t.prev_hash = ?1",
                  SQ_ARGS(SQ_BLOB(hash, sizeof(hash)), SQ_TEXT(api_root, root_len),
                          SQ_TEXT(id_or_alias, id_len)),
                  access_row, &a, &n, err);
    if (rc != MRD_OK)
        return rc;
    rc = token_usable(st, &t, n, now, err);
    if (rc != MRD_OK)
        return rc;
    *ret_tok = t;
    *ret_found = a.found;
    *ret_grant = a.found ? g : (struct store_grant){false, false};
    return MRD_OK;
}

struct token_list_ctx {
    enum mrd_code (*cb)(void *ctx, const struct store_token *tok);
    void *ctx;
};

static enum mrd_code token_list_row(void *ctx, const struct store_rowrd *r, struct mrd_err *err)
{
    struct token_list_ctx *lc = ctx;
    struct store_token t;

    (void)err;
    store__token_from(r, &t);
    return lc->cb(lc->ctx, &t);
}

enum mrd_code store__token_list(struct store *st,
                                enum mrd_code (*cb)(void *ctx, const struct store_token *tok),
                                void *ctx, struct mrd_err *err)
{
    struct token_list_ctx lc = {cb, ctx};

    return store__q(st, false, "token list", STORE_TOKEN_SELECT "ORDER BY t.created, t.name",
                    SQ_NOARGS, token_list_row, &lc, NULL, err);
}

enum mrd_code store__api_root_put(struct store *st, const struct store_api_root *root,
                                  bool *ret_created, struct mrd_err *err)
{
    uint64_t n = 0;
    enum mrd_code rc;

    rc = store__q(st, false, "api root",
                  "INSERT INTO api_roots (name, title, description, max_content_length) "
                  "VALUES (?1, ?2, ?3, ?4) ON CONFLICT (name) DO NOTHING",
                  SQ_ARGS(SQ_STR(root->name), SQ_STR(root->title), SQ_STR(root->description),
                          SQ_INT(root->max_content_length)),
                  NULL, NULL, &n, err);
    if (rc == MRD_OK && ret_created != NULL)
        *ret_created = n > 0;
    return rc;
}

static enum mrd_code root_row(void *ctx, const struct store_rowrd *r, struct mrd_err *err)
{
    (void)err;
    store__root_from(r, ctx);
    return MRD_OK;
}

enum mrd_code store__api_root_get(struct store *st, const char *name, size_t len,
                                  struct store_api_root *ret, struct mrd_err *err)
{
    uint64_t n = 0;
    enum mrd_code rc;

    rc = store__q(st, true, "api root", STORE_ROOT_COLS "WHERE name = ?1",
                  SQ_ARGS(SQ_TEXT(name, len)), root_row, ret, &n, err);
    if (rc == MRD_OK && n == 0)
        rc = mrd_err_set(err, MRD_E_NOTFOUND, "api root: not found");
    return rc;
}

struct root_list_ctx {
    enum mrd_code (*cb)(void *ctx, const struct store_api_root *r);
    void *ctx;
    struct store_api_root *r;
};

static enum mrd_code root_list_row(void *ctx, const struct store_rowrd *r, struct mrd_err *err)
{
    struct root_list_ctx *lc = ctx;

    (void)err;
    store__root_from(r, lc->r);
    return lc->cb(lc->ctx, lc->r);
}

enum mrd_code store__api_root_list(struct store *st,
                                   enum mrd_code (*cb)(void *ctx, const struct store_api_root *r),
                                   void *ctx, struct mrd_err *err)
{
    struct root_list_ctx lc = {cb, ctx, NULL};
    enum mrd_code rc;

    lc.r = mrd_malloc(sizeof(*lc.r)); /* ~4.5 KiB: keep it off small thread stacks */
    if (lc.r == NULL)
        return mrd_err_set(err, MRD_E_NOMEM, "store: out of memory");
    rc = store__q(st, false, "api root list", STORE_ROOT_COLS "ORDER BY name", SQ_NOARGS,
                  root_list_row, &lc, NULL, err);
    mrd_free(lc.r);
    return rc;
}

enum mrd_code store__i64_row(void *ctx, const struct store_rowrd *r, struct mrd_err *err)
{
    (void)err;
    *(int64_t *)ctx = r->i64(r, 0);
    return MRD_OK;
}

enum mrd_code store__collection_create(struct store *st, struct store_collection *coll,
                                       struct mrd_err *err)
{
    char id[STORE_UUID_LEN + 1];
    int64_t key = 0;
    uint64_t n = 0;
    enum mrd_code rc;

    store_uuid4(id);
    /* One statement: the API root's existence is checked and the row
     * inserted atomically, with no transaction to hold open. */
    rc = store__q(st, false, "collection",
                  "INSERT INTO collections (id, api_root, title, description, alias,"
                  " default_tlp, public_read) SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7"
                  " WHERE EXISTS (SELECT 1 FROM api_roots WHERE name = ?2) RETURNING key",
                  SQ_ARGS(SQ_STR(id), SQ_STR(coll->api_root), SQ_STR(coll->title),
                          SQ_STR(coll->description),
                          coll->alias[0] != '\0' ? SQ_STR(coll->alias) : SQ_NUL,
                          SQ_INT(coll->default_tlp), SQ_INT(coll->public_read ? 1 : 0)),
                  store__i64_row, &key, &n, err);
    if (rc == MRD_E_EXISTS) {
        mrd_err_clear(err);
        return mrd_err_set(err, MRD_E_EXISTS, "alias '%s' is already used in api root '%s'",
                           coll->alias, coll->api_root);
    }
    if (rc == MRD_OK && n == 0)
        return mrd_err_set(err, MRD_E_NOTFOUND, "api root '%s' does not exist", coll->api_root);
    if (rc == MRD_OK) {
        coll->key = key;
        memcpy(coll->id, id, sizeof(id));
    }
    return rc;
}

static enum mrd_code coll_row(void *ctx, const struct store_rowrd *r, struct mrd_err *err)
{
    (void)err;
    store__coll_from(r, ctx);
    return MRD_OK;
}

enum mrd_code store__collection_get(struct store *st, const char *api_root, size_t root_len,
                                    const char *id_or_alias, size_t len,
                                    struct store_collection *ret, struct mrd_err *err)
{
    uint64_t n = 0;
    enum mrd_code rc;

    if (api_root != NULL)
        rc = store__q(st, true, "collection",
                      STORE_COLL_COLS "WHERE api_root = ?1 AND (id = ?2 OR alias = ?2)",
                      SQ_ARGS(SQ_TEXT(api_root, root_len), SQ_TEXT(id_or_alias, len)), coll_row,
                      ret, &n, err);
    else
        rc = store__q(st, true, "collection", STORE_COLL_COLS "WHERE id = ?1",
                      SQ_ARGS(SQ_TEXT(id_or_alias, len)), coll_row, ret, &n, err);
    if (rc == MRD_OK && n == 0)
        rc = mrd_err_set(err, MRD_E_NOTFOUND, "collection: not found");
    return rc;
}

struct coll_list_ctx {
    enum mrd_code (*cb)(void *ctx, const struct store_collection *c);
    void *ctx;
    struct store_collection *coll;
};

static enum mrd_code coll_list_row(void *ctx, const struct store_rowrd *r, struct mrd_err *err)
{
    struct coll_list_ctx *lc = ctx;

    (void)err;
    store__coll_from(r, lc->coll);
    return lc->cb(lc->ctx, lc->coll);
}

enum mrd_code store__collection_list(struct store *st, const char *api_root,
                                     enum mrd_code (*cb)(void *ctx,
                                                         const struct store_collection *c),
                                     void *ctx, struct mrd_err *err)
{
    struct coll_list_ctx lc = {cb, ctx, NULL};
    enum mrd_code rc;

    lc.coll = mrd_malloc(sizeof(*lc.coll));
    if (lc.coll == NULL)
        return mrd_err_set(err, MRD_E_NOMEM, "store: out of memory");
    if (api_root != NULL)
        rc = store__q(st, true, "collection list",
                      STORE_COLL_COLS "WHERE api_root = ?1 ORDER BY key", SQ_ARGS(SQ_STR(api_root)),
                      coll_list_row, &lc, NULL, err);
    else
        rc = store__q(st, true, "collection list", STORE_COLL_COLS "ORDER BY key", SQ_NOARGS,
                      coll_list_row, &lc, NULL, err);
    mrd_free(lc.coll);
    return rc;
}

enum mrd_code store__grant_set(struct store *st, int64_t org_key, int64_t collection,
                               struct store_grant g, struct mrd_err *err)
{
    enum mrd_code rc;

    rc = store__q(st, false, "grant",
                  "INSERT INTO grants (org, collection, can_read, can_write) "
                  "VALUES (?1, ?2, ?3, ?4) ON CONFLICT (org, collection) "
                  "DO UPDATE SET can_read = excluded.can_read, can_write = excluded.can_write",
                  SQ_ARGS(SQ_INT(org_key), SQ_INT(collection), SQ_INT(g.can_read ? 1 : 0),
                          SQ_INT(g.can_write ? 1 : 0)),
                  NULL, NULL, NULL, err);
    if (rc == MRD_E_EXISTS) { /* a foreign key: the org or the collection is missing */
        mrd_err_clear(err);
        rc = mrd_err_set(err, MRD_E_NOTFOUND, "grant: no such org or collection");
    }
    return rc;
}

static enum mrd_code grant_row(void *ctx, const struct store_rowrd *r, struct mrd_err *err)
{
    struct store_grant *g = ctx;

    (void)err;
    g->can_read = r->i64(r, 0) != 0;
    g->can_write = r->i64(r, 1) != 0;
    return MRD_OK;
}

enum mrd_code store__grant_get(struct store *st, int64_t org_key, int64_t collection,
                               struct store_grant *ret, struct mrd_err *err)
{
    ret->can_read = false;
    ret->can_write = false;
    return store__q(st, true, "grant",
                    "SELECT can_read, can_write FROM grants WHERE org = ?1 AND collection = ?2",
                    SQ_ARGS(SQ_INT(org_key), SQ_INT(collection)), grant_row, ret, NULL, err);
}

struct grant_list_ctx {
    enum mrd_code (*cb)(void *ctx, const struct store_grant_row *g);
    void *ctx;
};

static enum mrd_code grant_list_row(void *ctx, const struct store_rowrd *r, struct mrd_err *err)
{
    struct grant_list_ctx *lc = ctx;
    struct store_grant_row g;

    (void)err;
    store__grant_row_from(r, &g);
    return lc->cb(lc->ctx, &g);
}

enum mrd_code store__grant_list(struct store *st, int64_t org_key, int64_t collection,
                                enum mrd_code (*cb)(void *ctx, const struct store_grant_row *g),
                                void *ctx, struct mrd_err *err)
{
    struct grant_list_ctx lc = {cb, ctx};

    /* 0 matches everything: keys start at 1 */
    return store__q(st, false, "grant list", STORE_GRANT_LIST,
                    SQ_ARGS(SQ_INT(org_key), SQ_INT(collection)), grant_list_row, &lc, NULL, err);
}

struct meta_ctx {
    const char *key;
    char *val;
    size_t size;
};

static enum mrd_code meta_row(void *ctx, const struct store_rowrd *r, struct mrd_err *err)
{
    struct meta_ctx *mc = ctx;
    size_t n;
    const char *v = r->text(r, 0, &n);

    if (n + 1 > mc->size)
        return mrd_err_set(err, MRD_E_TOOBIG, "meta: value of '%s' does not fit", mc->key);
    memcpy(mc->val, v, n);
    mc->val[n] = '\0';
    return MRD_OK;
}

enum mrd_code store__meta_get(struct store *st, const char *key, char *ret_val, size_t size,
                              struct mrd_err *err)
{
    struct meta_ctx mc = {key, ret_val, size};
    uint64_t n = 0;
    enum mrd_code rc;

    rc = store__q(st, false, "meta", "SELECT value FROM meta WHERE key = ?1", SQ_ARGS(SQ_STR(key)),
                  meta_row, &mc, &n, err);
    if (rc == MRD_OK && n == 0)
        rc = mrd_err_set(err, MRD_E_NOTFOUND, "meta: no key '%s'", key);
    return rc;
}

enum mrd_code store__meta_set(struct store *st, const char *key, const char *val,
                              struct mrd_err *err)
{
    return store__q(st, false, "meta", STORE_META_PUT, SQ_ARGS(SQ_STR(key), SQ_STR(val)), NULL,
                    NULL, NULL, err);
}

/* ---- read-modify-writes: one write transaction (store_driver.write_tx,
 * which on PostgreSQL holds the write lock all front-ends share) ---- */

static enum mrd_code tx_q(const struct store_tx *tx, const char *what, const char *sql,
                          const struct sq_arg *args, size_t nargs, store_row_fn row, void *ctx,
                          uint64_t *ret_n, struct mrd_err *err)
{
    return tx->ops->run(tx->conn, false, what, sql, args, nargs, row, ctx, ret_n, err);
}

static enum mrd_code token_row(void *ctx, const struct store_rowrd *r, struct mrd_err *err)
{
    (void)err;
    store__token_from(r, ctx);
    return MRD_OK;
}

struct rotate_args {
    const char *name;
    int64_t prev_expires;
    const unsigned char *hash;
    const char *secret;
    struct store_token t;
};

static enum mrd_code rotate_op(const struct store_tx *tx, void *args, struct mrd_err *err)
{
    struct rotate_args *a = args;
    uint64_t n = 0;
    enum mrd_code rc;

    rc = tx_q(tx, "token rotate", STORE_TOKEN_SELECT "WHERE t.name = ?1", SQ_ARGS(SQ_STR(a->name)),
              token_row, &a->t, &n, err);
    if (rc != MRD_OK)
        return rc;
    if (n == 0)
        return mrd_err_set(err, MRD_E_NOTFOUND, "no token named '%s'", a->name);
    if (a->t.revoked_usec != STORE_TIME_NONE || a->t.org_disabled)
        return mrd_err_set(err, MRD_E_INVAL, "token '%s' is %s: make a new one instead", a->name,
                           a->t.revoked_usec != STORE_TIME_NONE ? "revoked" : "of a disabled org");
    return tx_q(tx, "token rotate",
                "UPDATE tokens SET prev_hash = hash, prev_expires = ?2,"
                " prev_last_used = last_used, hash = ?3, prefix = ?4, last_used = NULL"
                " WHERE name = ?1",
                SQ_ARGS(SQ_STR(a->name), SQ_INT(a->prev_expires),
                        SQ_BLOB(a->hash, STORE_TOKEN_HASH_LEN),
                        SQ_TEXT(a->secret, STORE_TOKEN_PREFIX_LEN)),
                NULL, NULL, NULL, err);
}

enum mrd_code store__token_rotate(struct store *st, const char *name, int64_t overlap_usec,
                                  char ret_secret[STORE_TOKEN_LEN + 1], struct store_token *ret,
                                  struct mrd_err *err)
{
    char secret[STORE_TOKEN_LEN + 1];
    unsigned char hash[STORE_TOKEN_HASH_LEN];
    struct rotate_args a = {.name = name,
                            .prev_expires =
                                mrd_time_now_usec() + (overlap_usec > 0 ? overlap_usec : 0),
                            .hash = hash,
                            .secret = secret};
    enum mrd_code rc;

    store__token_generate(secret);
    store__token_hash(secret, STORE_TOKEN_LEN, hash);
    rc = st->ops->driver->write_tx(st, rotate_op, &a, err);
    if (rc == MRD_OK) {
        memcpy(ret_secret, secret, sizeof(secret));
        if (ret != NULL) {
            a.t.prev_expires_usec = a.prev_expires;
            a.t.prev_last_used_usec = a.t.last_used_usec;
            a.t.last_used_usec = STORE_TIME_NONE;
            (void)mrd_strlcpy(a.t.prefix, secret, sizeof(a.t.prefix));
            *ret = a.t;
        }
    }
    sodium_memzero(secret, sizeof(secret));
    return rc;
}

/* Revokes every valid token of org and removes its grants, inside tx; the
 * counts go to ch. */
static enum mrd_code revoke_access(const struct store_tx *tx, int64_t org, int64_t now,
                                   const char *what_tokens, const char *what_grants,
                                   struct store_org_change *ch, struct mrd_err *err)
{
    uint64_t n = 0;
    enum mrd_code rc;

    rc = tx_q(tx, what_tokens, "UPDATE tokens SET revoked = ?2 WHERE org = ?1 AND revoked IS NULL",
              SQ_ARGS(SQ_INT(org), SQ_INT(now)), NULL, NULL, &n, err);
    ch->tokens_revoked = (unsigned)n;
    if (rc != MRD_OK)
        return rc;
    n = 0;
    rc = tx_q(tx, what_grants,
              "DELETE FROM grants WHERE org = ?1 AND (can_read <> 0 OR can_write <> 0)",
              SQ_ARGS(SQ_INT(org)), NULL, NULL, &n, err);
    ch->grants_removed = (unsigned)n;
    return rc;
}

struct org_state_args {
    const char *name;
    bool disable, del;
    struct store_org_change ch;
};

static enum mrd_code org_state_op(const struct store_tx *tx, void *args, struct mrd_err *err)
{
    struct org_state_args *a = args;
    struct store_org_change *ch = &a->ch;
    int64_t now = mrd_time_now_usec();
    uint64_t n = 0;
    enum mrd_code rc;

    rc = tx_q(tx, "org", STORE_ORG_COLS "WHERE name = ?1", SQ_ARGS(SQ_STR(a->name)), org_row,
              &ch->before, &n, err);
    if (rc != MRD_OK)
        return rc;
    if (n == 0)
        return mrd_err_set(err, MRD_E_NOTFOUND, "no org named '%s'", a->name);
    if (ch->before.deleted_usec != STORE_TIME_NONE)
        return mrd_err_set(err, MRD_E_INVAL, "org '%s' was deleted", a->name);
    ch->after = ch->before;
    if (a->del || a->disable) {
        if (ch->after.disabled_usec == STORE_TIME_NONE)
            ch->after.disabled_usec = now;
    } else {
        ch->after.disabled_usec = STORE_TIME_NONE;
    }
    if (a->del)
        ch->after.deleted_usec = now;
    rc = tx_q(tx, "org", "UPDATE orgs SET disabled = ?2, deleted = ?3 WHERE key = ?1",
              SQ_ARGS(SQ_INT(ch->before.key), SQ_TIME(ch->after.disabled_usec),
                      SQ_TIME(ch->after.deleted_usec)),
              NULL, NULL, NULL, err);
    if (rc == MRD_OK && a->del)
        rc = revoke_access(tx, ch->before.key, now, "org tokens", "org grants", ch, err);
    return rc;
}

enum mrd_code store__org_state(struct store *st, const char *name, bool disable, bool del,
                               struct store_org_change *ret, struct mrd_err *err)
{
    struct org_state_args a = {.name = name, .disable = disable, .del = del};
    enum mrd_code rc;

    rc = st->ops->driver->write_tx(st, org_state_op, &a, err);
    if (rc == MRD_OK && ret != NULL)
        *ret = a.ch;
    return rc;
}

struct revoke_args {
    int64_t org;
    struct store_org_change *ret;
};

static enum mrd_code revoke_op(const struct store_tx *tx, void *args, struct mrd_err *err)
{
    struct revoke_args *a = args;

    return revoke_access(tx, a->org, mrd_time_now_usec(), "revoke tokens", "remove grants", a->ret,
                         err);
}

enum mrd_code store__org_revoke_access(struct store *st, int64_t org_key,
                                       struct store_org_change *ret, struct mrd_err *err)
{
    struct store_org_change ch;
    struct revoke_args a = {org_key, ret != NULL ? ret : &ch};

    memset(a.ret, 0, sizeof(*a.ret));
    return st->ops->driver->write_tx(st, revoke_op, &a, err);
}
