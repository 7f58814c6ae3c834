/*
 * store_sqlite_values.c: the value and text indexes of a SQLite database
 * from before them, filled once when it is opened (sq__index_backfill).
 * The searches are store_search.c's, shared with PostgreSQL; the index
 * layout is described there.
 */
#include "store/store_int.h"

#include <string.h>

#include "core/alloc.h"

#define INDEX_META "value_index"
#define INDEX_VERSION "1"
#define BACKFILL_BATCH 2000

enum mrd_code sq__index_object(struct sq_conn *c, int64_t seq, const char *body, size_t len,
                               struct mrd_err *err)
{
    struct store_tx tx = SQ_TX(c);

    return store__index_values(&tx, seq, body, len, err);
}

struct fill {
    struct sq_conn *c;
    int64_t after, n;
    enum mrd_code (*index)(struct sq_conn *c, int64_t seq, const char *body, size_t len,
                           struct mrd_err *err);
};

static enum mrd_code fill_row(void *ctx, sqlite3_stmt *st, struct mrd_err *err)
{
    struct fill *f = ctx;

    f->after = sqlite3_column_int64(st, 0);
    f->n++;
    return f->index(f->c, f->after, sqlite3_column_blob(st, 1), (size_t)sqlite3_column_bytes(st, 1),
                    err);
}

static enum mrd_code done_row(void *ctx, sqlite3_stmt *st, struct mrd_err *err)
{
    (void)err;
    sq__copy(st, 0, ctx, 8);
    return MRD_OK;
}

/* Fills one index for every version stored before it existed, once: meta
 * key names it, done when it holds version. The check is repeated inside
 * the write transaction, so two processes opening an old file at once
 * index it once (the text index would otherwise hold its words twice). */
static enum mrd_code values_all(struct sq_conn *c, struct mrd_err *err)
{
    struct fill f = {.c = c, .index = sq__index_object};
    enum mrd_code rc;

    do {
        f.n = 0;
        rc = sq__run(c, "index",
                     "SELECT seq, body FROM objects WHERE seq > ?1 ORDER BY seq LIMIT ?2",
                     SQ_ARGS(SQ_INT(f.after), SQ_INT(BACKFILL_BATCH)), fill_row, &f, NULL, err);
    } while (rc == MRD_OK && f.n == BACKFILL_BATCH);
    return rc;
}

static enum mrd_code text_all(struct sq_conn *c, struct mrd_err *err)
{
    return sq__index_text_after(c, 0, err);
}

static enum mrd_code backfill(struct sq_conn *c, const char *key, const char *version,
                              enum mrd_code (*index_all)(struct sq_conn *c, struct mrd_err *err),
                              struct mrd_err *err)
{
    enum mrd_code rc = MRD_OK;
    bool began = false;

    for (int pass = 0; pass < 2; pass++) {
        char done[8] = "";
        rc = sq__run(c, "index", "SELECT value FROM meta WHERE key = ?1", SQ_ARGS(SQ_STR(key)),
                     done_row, done, NULL, err);
        if (rc != MRD_OK || strcmp(done, version) == 0)
            goto out;
        if (pass == 0) {
            rc = sq__exec(c, "BEGIN IMMEDIATE", err);
            if (rc != MRD_OK)
                return rc;
            began = true;
        }
    }
    /* A database from before the index: index what it holds, once, in one
     * transaction (a second process opening it meanwhile waits). */
    rc = index_all(c, err);
    if (rc == MRD_OK)
        rc = sq__run(c, "index",
                     "INSERT INTO meta (key, value) VALUES (?1, ?2)"
                     " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                     SQ_ARGS(SQ_STR(key), SQ_STR(version)), NULL, NULL, NULL, err);
    if (rc == MRD_OK)
        rc = sq__exec(c, "COMMIT", err);
    began = began && rc != MRD_OK;
out:
    if (began)
        sq__rollback(c);
    return rc;
}

enum mrd_code sq__index_backfill(struct sq_conn *c, struct mrd_err *err)
{
    enum mrd_code rc = backfill(c, INDEX_META, INDEX_VERSION, values_all, err);

    if (rc == MRD_OK)
        rc = backfill(c, "text_index", "1", text_all, err);
    return rc;
}
