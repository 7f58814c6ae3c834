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
    static const char *const sql[] = {
        [STORE_FEED_CREATE] = ("INSERT INTO feeds (name, config, state, created, updated)"
                               " VALUES (?1, ?2, ?3, ?4, ?4) ON CONFLICT (name) DO NOTHING"),
        [STORE_FEED_CONFIG] = "UPDATE feeds SET config = ?2, updated = ?4 WHERE name = ?1",
        [STORE_FEED_STATE] = "UPDATE feeds SET state = ?3 WHERE name = ?1",
    };
    struct sq_store *s = (struct sq_store *)stp;
    struct sq_conn *c = NULL;
    sqlite3_stmt *st = NULL;
    enum mrd_code rc;

    rc = sq__acquire(s, &c, err);
    if (rc != MRD_OK)
        return rc;
    rc = sq__prepare(c, sql[mode], &st, err);
    if (rc != MRD_OK)
        goto out;
    (void)sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    if (config != NULL)
        (void)sqlite3_bind_text(st, 2, config, -1, SQLITE_STATIC);
    if (state != NULL)
        (void)sqlite3_bind_text(st, 3, state, -1, SQLITE_STATIC);
    (void)sqlite3_bind_int64(st, 4, mrd_time_now_usec());
    rc = sq__step_reset(c, st, "feed", err);
    if (rc == MRD_OK && sqlite3_changes(c->db) == 0)
        rc = mode == STORE_FEED_CREATE
                 ? mrd_err_set(err, MRD_E_EXISTS, "feed %s already exists", name)
                 : mrd_err_set(err, MRD_E_NOTFOUND, "no feed named %s", name);
out:
    sq__release(s, c);
    return rc;
}

enum mrd_code sq__feed_list(struct store *stp, const char *name,
                            enum mrd_code (*cb)(void *ctx, const struct store_feed *f,
                                                struct mrd_err *err),
                            void *ctx, struct mrd_err *err)
{
    struct sq_store *s = (struct sq_store *)stp;
    struct sq_conn *c = NULL;
    sqlite3_stmt *st = NULL;
    struct store_feed f;
    enum mrd_code rc;
    size_t found = 0;
    int src;

    rc = sq__acquire_read(s, &c, err);
    if (rc != MRD_OK)
        return rc;
    rc = sq__prepare(c,
                     "SELECT name, config, state, created, updated FROM feeds"
                     " WHERE ?1 IS NULL OR name = ?1 ORDER BY name",
                     &st, err);
    if (rc != MRD_OK)
        goto out;
    if (name != NULL)
        (void)sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    while ((src = sqlite3_step(st)) == SQLITE_ROW) {
        memset(&f, 0, sizeof(f));
        sq__copy(st, 0, f.name, sizeof(f.name));
        f.config = sq__text(st, 1, &f.config_len);
        f.state = sq__text(st, 2, &f.state_len);
        f.created_usec = sqlite3_column_int64(st, 3);
        f.updated_usec = sqlite3_column_int64(st, 4);
        found++;
        rc = cb(ctx, &f, err);
        if (rc != MRD_OK)
            break;
    }
    if (rc == MRD_OK && src != SQLITE_DONE)
        rc = sq__fail(c, src, "feed list", err);
    (void)sqlite3_reset(st);
    if (rc == MRD_OK && name != NULL && found == 0)
        rc = mrd_err_set(err, MRD_E_NOTFOUND, "no feed named %s", name);
out:
    sq__release(s, c);
    return rc;
}

enum mrd_code sq__feed_remove(struct store *stp, const char *name, struct mrd_err *err)
{
    struct sq_store *s = (struct sq_store *)stp;
    struct sq_conn *c = NULL;
    sqlite3_stmt *st = NULL;
    enum mrd_code rc;
    int gone = 0;

    rc = sq__acquire(s, &c, err);
    if (rc != MRD_OK)
        return rc;
    rc = sq__exec(c, "BEGIN IMMEDIATE", err);
    if (rc == MRD_OK)
        rc = sq__prepare(c, "DELETE FROM feeds WHERE name = ?1", &st, err);
    if (rc == MRD_OK) {
        (void)sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
        rc = sq__step_reset(c, st, "feed remove", err);
        gone = sqlite3_changes(c->db);
    }
    if (rc == MRD_OK)
        rc = sq__prepare(c, "DELETE FROM feed_items WHERE feed = ?1", &st, err);
    if (rc == MRD_OK) {
        (void)sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
        rc = sq__step_reset(c, st, "feed remove", err);
    }
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
    sqlite3_stmt *st = NULL;
    enum mrd_code rc;

    rc = sq__acquire(s, &c, err);
    if (rc != MRD_OK)
        return rc;
    rc = sq__exec(c, "BEGIN IMMEDIATE", err);
    if (rc == MRD_OK)
        rc = sq__prepare(c, "DELETE FROM feed_items WHERE feed = ?1", &st, err);
    if (rc == MRD_OK) {
        (void)sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
        rc = sq__step_reset(c, st, "feed items", err);
    }
    for (size_t i = 0; rc == MRD_OK && i < n; i++) {
        rc = sq__prepare(c, "INSERT OR IGNORE INTO feed_items (feed, stix_id) VALUES (?1, ?2)", &st,
                         err);
        if (rc != MRD_OK)
            break;
        (void)sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
        (void)sqlite3_bind_text(st, 2, ids[i], -1, SQLITE_STATIC);
        rc = sq__step_reset(c, st, "feed items", err);
    }
    if (rc == MRD_OK)
        rc = sq__exec(c, "COMMIT", err);
    sq__release(s, c);
    return rc;
}

enum mrd_code sq__feed_items(struct store *stp, const char *name,
                             enum mrd_code (*cb)(void *ctx, const char *id, size_t len,
                                                 struct mrd_err *err),
                             void *ctx, struct mrd_err *err)
{
    struct sq_store *s = (struct sq_store *)stp;
    struct sq_conn *c = NULL;
    sqlite3_stmt *st = NULL;
    enum mrd_code rc;
    int src;

    rc = sq__acquire_read(s, &c, err);
    if (rc != MRD_OK)
        return rc;
    rc =
        sq__prepare(c, "SELECT stix_id FROM feed_items WHERE feed = ?1 ORDER BY stix_id", &st, err);
    if (rc != MRD_OK)
        goto out;
    (void)sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    while ((src = sqlite3_step(st)) == SQLITE_ROW) {
        size_t len;
        const char *id = sq__text(st, 0, &len);
        rc = cb(ctx, id, len, err);
        if (rc != MRD_OK)
            break;
    }
    if (rc == MRD_OK && src != SQLITE_DONE)
        rc = sq__fail(c, src, "feed items", err);
    (void)sqlite3_reset(st);
out:
    sq__release(s, c);
    return rc;
}
