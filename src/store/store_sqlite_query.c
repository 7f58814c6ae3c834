/*
 * store_sqlite_query.c: the one place that runs a SQLite statement for the
 * store (store_int.h, "sq__run").
 *
 * Every query of the SQLite backend used to repeat the same plumbing:
 * borrow a connection, prepare (cached), bind, step, convert each row,
 * call back, reset, give the connection back, and map the result code.
 * That plumbing lives here once, so each backend file holds its SQL and
 * its row conversion only.
 */
#include "store/store_int.h"

static enum mrd_code bind_args(struct sq_conn *c, sqlite3_stmt *st, const struct sq_arg *args,
                               size_t nargs, const char *what, struct mrd_err *err)
{
    int src = SQLITE_OK;

    for (size_t i = 0; i < nargs && src == SQLITE_OK; i++) {
        const struct sq_arg *a = &args[i];
        int col = (int)i + 1;

        switch (a->type) {
        case SQ_ARG_NULL:
            src = sqlite3_bind_null(st, col);
            break;
        case SQ_ARG_INT:
            src = sqlite3_bind_int64(st, col, a->i);
            break;
        case SQ_ARG_TEXT:
            src = sqlite3_bind_text(st, col, a->p, a->len, SQLITE_STATIC);
            break;
        case SQ_ARG_BLOB:
            src = sqlite3_bind_blob(st, col, a->p, a->len, SQLITE_STATIC);
            break;
        case SQ_ARG_ARRAY: /* PostgreSQL's (sq__txops has no array_rows) */
            return mrd_err_set(err, MRD_E_INTERNAL, "store: %s: an array parameter on SQLite",
                               what);
        }
    }
    if (src != SQLITE_OK)
        return sq__fail(c, src, what, err);
    return MRD_OK;
}

static int64_t rd_i64(const struct store_rowrd *r, int col)
{
    return sqlite3_column_int64(r->stmt, col);
}

static bool rd_null(const struct store_rowrd *r, int col)
{
    return sqlite3_column_type(r->stmt, col) == SQLITE_NULL;
}

static const char *rd_text(const struct store_rowrd *r, int col, size_t *ret_len)
{
    return sq__text(r->stmt, col, ret_len);
}

static const char *rd_blob(const struct store_rowrd *r, int col, size_t *ret_len)
{
    const char *b = sqlite3_column_blob(r->stmt, col);

    *ret_len = (size_t)sqlite3_column_bytes(r->stmt, col);
    return b != NULL ? b : "";
}

struct store_rowrd sq__rowrd(sqlite3_stmt *st)
{
    struct store_rowrd r = {st, NULL, 0, rd_i64, rd_null, rd_text, rd_blob};

    return r;
}

/* A store_row_fn called from sq__run. */
struct rd_adapter {
    store_row_fn row;
    void *ctx;
};

static enum mrd_code rd_row(void *ctx, sqlite3_stmt *st, struct mrd_err *err)
{
    struct rd_adapter *a = ctx;
    struct store_rowrd r = sq__rowrd(st);

    return a->row(a->ctx, &r, err);
}

static enum mrd_code driver_query(struct store *st, bool read, const char *what, const char *sql,
                                  const struct sq_arg *args, size_t nargs, store_row_fn row,
                                  void *ctx, uint64_t *ret_n, struct mrd_err *err)
{
    struct rd_adapter a = {row, ctx};

    return sq__query((struct sq_store *)st, read, what, sql, args, nargs,
                     row != NULL ? rd_row : NULL, &a, ret_n, err);
}

/* op in a write transaction (BEGIN IMMEDIATE, committed when op succeeds)
 * or in a read snapshot (the thread's pinned one when there is one). */
static enum mrd_code driver_tx(struct store *st, bool write,
                               enum mrd_code (*op)(const struct store_tx *tx, void *args,
                                                   struct mrd_err *err),
                               void *args, struct mrd_err *err)
{
    struct sq_store *s = (struct sq_store *)st;
    struct sq_conn *c = NULL;
    struct store_tx tx;
    bool began = false;
    enum mrd_code rc;

    rc = write ? sq__acquire(s, &c, err) : sq__acquire_read(s, &c, err);
    if (rc != MRD_OK)
        return rc;
    tx = SQ_TX(c);
    if (write || sqlite3_get_autocommit(c->db)) {
        rc = sq__exec(c, write ? "BEGIN IMMEDIATE" : "BEGIN", err);
        began = rc == MRD_OK;
    }
    if (rc == MRD_OK)
        rc = op(&tx, args, err);
    if (rc == MRD_OK && write)
        rc = sq__exec(c, "COMMIT", err);
    else if (began && !write)
        sq__rollback(c); /* read only: nothing to commit */
    sq__release(s, c);   /* rolls a failed write back */
    return rc;
}

static enum mrd_code driver_write_tx(struct store *st,
                                     enum mrd_code (*op)(const struct store_tx *tx, void *args,
                                                         struct mrd_err *err),
                                     void *args, struct mrd_err *err)
{
    return driver_tx(st, true, op, args, err);
}

static enum mrd_code driver_read_tx(struct store *st,
                                    enum mrd_code (*op)(const struct store_tx *tx, void *args,
                                                        struct mrd_err *err),
                                    void *args, struct mrd_err *err)
{
    return driver_tx(st, false, op, args, err);
}

const struct store_driver sq__driver = {driver_query, driver_write_tx, driver_read_tx,
                                        "SELECT value FROM json_each(?1)", NULL};

/* ---- store_obj.c's transaction operations ---- */

/* SQLite steps rows one by one: a stream is a plain statement. */
static enum mrd_code tx_run(void *conn, bool stream, const char *what, const char *sql,
                            const struct sq_arg *args, size_t nargs, store_row_fn row, void *ctx,
                            uint64_t *ret_n, struct mrd_err *err)
{
    struct rd_adapter a = {row, ctx};

    (void)stream;
    return sq__run(conn, what, sql, args, nargs, row != NULL ? rd_row : NULL, &a, ret_n, err);
}

static enum mrd_code tx_index_text_after(void *conn, int64_t after, struct mrd_err *err)
{
    return sq__index_text_after(conn, after, err);
}

static enum mrd_code tx_unindex_text(void *conn, int64_t seq, struct mrd_err *err)
{
    return sq__unindex_text(conn, seq, err);
}

static enum mrd_code tx_agg_pause(void *conn, bool on, struct mrd_err *err)
{
    return sq__agg_pause(conn, on, err);
}

static enum mrd_code tx_agg_count(void *conn, const struct sq_arg *cols, int64_t hour, int64_t n,
                                  struct mrd_err *err)
{
    return sq__agg_count(conn, cols, hour, n, err);
}

/* SQLite has no round trip per statement, but each statement still costs
 * its own VDBE program run, bindings and B-tree descents: a request's new
 * versions go in multi-row INSERTs here too (store_obj.c), with one
 * existence look-up per 1,535 ids instead of one per version. No array
 * parameters, no walk (a statement steps one row at a time anyway), no bulk
 * load (a prepared INSERT per row costs no round trip), and a query's rows
 * stream from its statement (page_rows 0). */
const struct store_txops sq__txops = {
    .run = tx_run,
    .index_text_after = tx_index_text_after,
    .unindex_text = tx_unindex_text,
    .batch_rows = 64,
    .agg_pause = tx_agg_pause,
    .agg_count = tx_agg_count,
};

enum mrd_code sq__run(struct sq_conn *c, const char *what, const char *sql,
                      const struct sq_arg *args, size_t nargs, sq_row_fn row, void *ctx,
                      uint64_t *ret_n, struct mrd_err *err)
{
    sqlite3_stmt *st = NULL;
    uint64_t n = 0;
    enum mrd_code rc;
    int src;

    rc = sq__prepare(c, sql, &st, err);
    if (rc != MRD_OK)
        return rc;
    rc = bind_args(c, st, args, nargs, what, err);
    if (rc != MRD_OK)
        goto out;
    while ((src = sqlite3_step(st)) == SQLITE_ROW) {
        n++;
        if (row == NULL)
            continue;
        rc = row(ctx, st, err);
        if (rc != MRD_OK)
            goto out;
    }
    if ((src & 0xff) == SQLITE_CONSTRAINT)
        rc = mrd_err_set(err, MRD_E_EXISTS, "%s: already exists", what);
    else if (src != SQLITE_DONE)
        rc = sq__fail(c, src, what, err);
    else if (n == 0 && !sqlite3_stmt_readonly(st))
        n = (uint64_t)sqlite3_changes64(c->db);
out:
    (void)sqlite3_reset(st);
    (void)sqlite3_clear_bindings(st); /* no pointer into the caller's memory stays bound */
    if (rc == MRD_OK && ret_n != NULL)
        *ret_n = n;
    return rc;
}

enum mrd_code sq__query(struct sq_store *s, bool read, const char *what, const char *sql,
                        const struct sq_arg *args, size_t nargs, sq_row_fn row, void *ctx,
                        uint64_t *ret_n, struct mrd_err *err)
{
    struct sq_conn *c = NULL;
    enum mrd_code rc;

    rc = read ? sq__acquire_read(s, &c, err) : sq__acquire(s, &c, err);
    if (rc != MRD_OK)
        return rc;
    rc = sq__run(c, what, sql, args, nargs, row, ctx, ret_n, err);
    sq__release(s, c);
    return rc;
}
