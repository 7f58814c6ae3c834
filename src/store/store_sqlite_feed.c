/*
 * store_sqlite_feed.c: scheduled feeds in the SQLite store (store.h,
 * "scheduled feeds"): one row per feed with its configuration and state
 * records, and the ids a list-type feed held at its last good round.
 */
#include "store/store_int.h"

#include <string.h>

#include "core/timestamp.h"

enum mrd_code sq__feed_put(struct store *stp, enum store_feed_mode mode, const char *name,
                           const char *config, const char *state, struct mrd_err *err)
{
    struct sq_store *s = (struct sq_store *)stp;
    int64_t now = mrd_time_now_usec();
    uint64_t n = 0;
    enum mrd_code rc;

    if (mode == STORE_FEED_CREATE)
        rc = sq__query(s, false, "feed",
                       "INSERT INTO feeds (name, config, state, created, updated)"
                       " VALUES (?1, ?2, ?3, ?4, ?4) ON CONFLICT (name) DO NOTHING",
                       SQ_ARGS(SQ_STR(name), SQ_STR(config), SQ_STR(state), SQ_INT(now)), NULL,
                       NULL, &n, err);
    else if (mode == STORE_FEED_CONFIG)
        rc = sq__query(s, false, "feed",
                       "UPDATE feeds SET config = ?2, updated = ?3 WHERE name = ?1",
                       SQ_ARGS(SQ_STR(name), SQ_STR(config), SQ_INT(now)), NULL, NULL, &n, err);
    else
        rc = sq__query(s, false, "feed", "UPDATE feeds SET state = ?2 WHERE name = ?1",
                       SQ_ARGS(SQ_STR(name), SQ_STR(state)), NULL, NULL, &n, err);
    if (rc == MRD_OK && n == 0)
        rc = mode == STORE_FEED_CREATE
                 ? mrd_err_set(err, MRD_E_EXISTS, "feed %s already exists", name)
                 : mrd_err_set(err, MRD_E_NOTFOUND, "no feed named %s", name);
    return rc;
}

struct feed_rows {
    enum mrd_code (*cb)(void *ctx, const struct store_feed *f, struct mrd_err *err);
    void *ctx;
};

static enum mrd_code feed_row(void *ctx, sqlite3_stmt *st, struct mrd_err *err)
{
    struct feed_rows *x = ctx;
    struct store_feed f;

    memset(&f, 0, sizeof(f));
    sq__copy(st, 0, f.name, sizeof(f.name));
    f.config = sq__text(st, 1, &f.config_len);
    f.state = sq__text(st, 2, &f.state_len);
    f.created_usec = sqlite3_column_int64(st, 3);
    f.updated_usec = sqlite3_column_int64(st, 4);
    return x->cb(x->ctx, &f, err);
}

enum mrd_code sq__feed_list(struct store *stp, const char *name,
                            enum mrd_code (*cb)(void *ctx, const struct store_feed *f,
                                                struct mrd_err *err),
                            void *ctx, struct mrd_err *err)
{
    struct feed_rows x = {.cb = cb, .ctx = ctx};
    uint64_t n = 0;
    enum mrd_code rc;

    rc = sq__query((struct sq_store *)stp, true, "feed list",
                   "SELECT name, config, state, created, updated FROM feeds"
                   " WHERE ?1 IS NULL OR name = ?1 ORDER BY name",
                   SQ_ARGS(name != NULL ? SQ_STR(name) : SQ_NUL), feed_row, &x, &n, err);
    if (rc == MRD_OK && name != NULL && n == 0)
        rc = mrd_err_set(err, MRD_E_NOTFOUND, "no feed named %s", name);
    return rc;
}

enum mrd_code sq__feed_remove(struct store *stp, const char *name, struct mrd_err *err)
{
    struct sq_store *s = (struct sq_store *)stp;
    struct sq_conn *c = NULL;
    uint64_t gone = 0;
    enum mrd_code rc;

    rc = sq__acquire(s, &c, err);
    if (rc != MRD_OK)
        return rc;
    rc = sq__exec(c, "BEGIN IMMEDIATE", err);
    if (rc == MRD_OK)
        rc = sq__run(c, "feed remove", "DELETE FROM feeds WHERE name = ?1", SQ_ARGS(SQ_STR(name)),
                     NULL, NULL, &gone, err);
    if (rc == MRD_OK)
        rc = sq__run(c, "feed remove", "DELETE FROM feed_items WHERE feed = ?1",
                     SQ_ARGS(SQ_STR(name)), NULL, NULL, NULL, err);
    if (rc == MRD_OK && gone == 0)
        rc = mrd_err_set(err, MRD_E_NOTFOUND, "no feed named %s", name);
    if (rc == MRD_OK)
        rc = sq__exec(c, "COMMIT", err);
    sq__release(s, c); /* rolls back unless committed */
    return rc;
}

enum mrd_code sq__feed_items_set(struct store *stp, const char *name, const char *const *ids,
                                 size_t n, struct mrd_err *err)
{
    struct sq_store *s = (struct sq_store *)stp;
    struct sq_conn *c = NULL;
    enum mrd_code rc;

    rc = sq__acquire(s, &c, err);
    if (rc != MRD_OK)
        return rc;
    rc = sq__exec(c, "BEGIN IMMEDIATE", err);
    if (rc == MRD_OK)
        rc = sq__run(c, "feed items", "DELETE FROM feed_items WHERE feed = ?1",
                     SQ_ARGS(SQ_STR(name)), NULL, NULL, NULL, err);
    for (size_t i = 0; rc == MRD_OK && i < n; i++)
        rc = sq__run(c, "feed items",
                     "INSERT OR IGNORE INTO feed_items (feed, stix_id) VALUES (?1, ?2)",
                     SQ_ARGS(SQ_STR(name), SQ_STR(ids[i])), NULL, NULL, NULL, err);
    if (rc == MRD_OK)
        rc = sq__exec(c, "COMMIT", err);
    sq__release(s, c); /* rolls back unless committed */
    return rc;
}

struct item_rows {
    enum mrd_code (*cb)(void *ctx, const char *id, size_t len, struct mrd_err *err);
    void *ctx;
};

static enum mrd_code item_row(void *ctx, sqlite3_stmt *st, struct mrd_err *err)
{
    struct item_rows *x = ctx;
    size_t len;
    const char *id = sq__text(st, 0, &len);

    return x->cb(x->ctx, id, len, err);
}

enum mrd_code sq__feed_items(struct store *stp, const char *name,
                             enum mrd_code (*cb)(void *ctx, const char *id, size_t len,
                                                 struct mrd_err *err),
                             void *ctx, struct mrd_err *err)
{
    struct item_rows x = {.cb = cb, .ctx = ctx};

    return sq__query((struct sq_store *)stp, true, "feed items",
                     "SELECT stix_id FROM feed_items WHERE feed = ?1 ORDER BY stix_id",
                     SQ_ARGS(SQ_STR(name)), item_row, &x, NULL, err);
}
