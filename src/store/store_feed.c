/*
 * store_feed.c: scheduled feeds (store.h, "scheduled feeds"), written once
 * for both backends over their driver (store_int.h): one row per feed
 * with its configuration and state records, and the ids a list-type feed
 * held at its last good round.
 */
#include "store/store_int.h"

#include <string.h>

#include "core/timestamp.h"

enum mrd_code store__feed_put(struct store *s, enum store_feed_mode mode, const char *name,
                              const char *config, const char *state, struct mrd_err *err)
{
    int64_t now = mrd_time_now_usec();
    uint64_t n = 0;
    enum mrd_code rc;

    if (mode == STORE_FEED_CREATE)
        rc = store__q(s, false, "feed",
                      "INSERT INTO feeds (name, config, state, created, updated)"
                      " VALUES (?1, ?2, ?3, ?4, ?4) ON CONFLICT (name) DO NOTHING",
                      SQ_ARGS(SQ_STR(name), SQ_STR(config), SQ_STR(state), SQ_INT(now)), NULL, NULL,
                      &n, err);
    else if (mode == STORE_FEED_CONFIG)
        rc =
            store__q(s, false, "feed", "UPDATE feeds SET config = ?2, updated = ?3 WHERE name = ?1",
                     SQ_ARGS(SQ_STR(name), SQ_STR(config), SQ_INT(now)), NULL, NULL, &n, err);
    else
        rc = store__q(s, false, "feed", "UPDATE feeds SET state = ?2 WHERE name = ?1",
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

static enum mrd_code feed_row(void *ctx, const struct store_rowrd *r, struct mrd_err *err)
{
    struct feed_rows *x = ctx;
    struct store_feed f;

    memset(&f, 0, sizeof(f));
    store__copy_col(r, 0, f.name, sizeof(f.name));
    f.config = r->text(r, 1, &f.config_len);
    f.state = r->text(r, 2, &f.state_len);
    f.created_usec = r->i64(r, 3);
    f.updated_usec = r->i64(r, 4);
    return x->cb(x->ctx, &f, err);
}

enum mrd_code store__feed_list(struct store *st, const char *name,
                               enum mrd_code (*cb)(void *ctx, const struct store_feed *f,
                                                   struct mrd_err *err),
                               void *ctx, struct mrd_err *err)
{
    struct feed_rows x = {.cb = cb, .ctx = ctx};
    uint64_t n = 0;
    enum mrd_code rc;

    rc = store__q(st, true, "feed list",
                  "SELECT name, config, state, created, updated FROM feeds"
                  " WHERE ?1 IS NULL OR name = ?1 ORDER BY name",
                  SQ_ARGS(SQ_STR(name)), feed_row, &x, &n, err);
    if (rc == MRD_OK && name != NULL && n == 0)
        rc = mrd_err_set(err, MRD_E_NOTFOUND, "no feed named %s", name);
    return rc;
}

static enum mrd_code feed_remove_op(const struct store_tx *tx, void *args, struct mrd_err *err)
{
    const char *name = *(const char *const *)args;
    uint64_t gone = 0;
    enum mrd_code rc;

    rc = store__tx_run(tx, "feed remove", "DELETE FROM feeds WHERE name = ?1",
                       SQ_ARGS(SQ_STR(name)), NULL, NULL, &gone, err);
    if (rc == MRD_OK)
        rc = store__tx_run(tx, "feed remove", "DELETE FROM feed_items WHERE feed = ?1",
                           SQ_ARGS(SQ_STR(name)), NULL, NULL, NULL, err);
    if (rc == MRD_OK && gone == 0)
        rc = mrd_err_set(err, MRD_E_NOTFOUND, "no feed named %s", name);
    return rc;
}

enum mrd_code store__feed_remove(struct store *st, const char *name, struct mrd_err *err)
{
    return st->ops->driver->write_tx(st, feed_remove_op, &name, err);
}

struct items_args {
    const char *name;
    const char *const *ids;
    size_t n;
};

static enum mrd_code items_set_op(const struct store_tx *tx, void *args, struct mrd_err *err)
{
    const struct items_args *a = args;
    enum mrd_code rc;

    rc = store__tx_run(tx, "feed items", "DELETE FROM feed_items WHERE feed = ?1",
                       SQ_ARGS(SQ_STR(a->name)), NULL, NULL, NULL, err);
    for (size_t i = 0; rc == MRD_OK && i < a->n; i++)
        rc = store__tx_run(
            tx, "feed items",
            "INSERT INTO feed_items (feed, stix_id) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
            SQ_ARGS(SQ_STR(a->name), SQ_STR(a->ids[i])), NULL, NULL, NULL, err);
    return rc;
}

enum mrd_code store__feed_items_set(struct store *st, const char *name, const char *const *ids,
                                    size_t n, struct mrd_err *err)
{
    struct items_args a = {name, ids, n};

    return st->ops->driver->write_tx(st, items_set_op, &a, err);
}

struct item_rows {
    enum mrd_code (*cb)(void *ctx, const char *id, size_t len, struct mrd_err *err);
    void *ctx;
};

static enum mrd_code item_row(void *ctx, const struct store_rowrd *r, struct mrd_err *err)
{
    struct item_rows *x = ctx;
    size_t len;
    const char *id = r->text(r, 0, &len);

    return x->cb(x->ctx, id, len, err);
}

enum mrd_code store__feed_items(struct store *st, const char *name,
                                enum mrd_code (*cb)(void *ctx, const char *id, size_t len,
                                                    struct mrd_err *err),
                                void *ctx, struct mrd_err *err)
{
    struct item_rows x = {.cb = cb, .ctx = ctx};

    return store__q(st, true, "feed items",
                    "SELECT stix_id FROM feed_items WHERE feed = ?1 ORDER BY stix_id",
                    SQ_ARGS(SQ_STR(name)), item_row, &x, NULL, err);
}
