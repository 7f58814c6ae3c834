/*
 * store_sqlite_notify.c: constituency assets and notifications in the
 * SQLite store (store.h, "constituency assets and notifications").
 *
 * Notifications and the routing cursor are written in one transaction, so
 * a round that crashes repeats from the old cursor and the UNIQUE (org,
 * asset, seq) makes its repeats no-ops. A notification is squelched when
 * the same (org, asset, object type, value) was notified, not squelched,
 * within the window. A notification's STIX form (store.h) is inserted in
 * the same transaction, so the object, the row and the cursor commit
 * together.
 */
#include "store/store_int.h"

#include <stdio.h>
#include <string.h>

#include "core/timestamp.h"

#define ASSET_COLS                                                                                 \
    "a.id, a.org, o.name, a.kind, a.asn, a.vkind, a.vkey, a.text, a.status, a.created, "           \
    "a.overlaps"

void sq__text_col(sqlite3_stmt *st, int col, char *out, size_t size)
{
    const unsigned char *t = sqlite3_column_text(st, col);

    (void)snprintf(out, size, "%s", t != NULL ? (const char *)t : "");
}

static enum mrd_code asset_row(void *ctx, sqlite3_stmt *st, struct mrd_err *err)
{
    struct store_asset *a = ctx;
    const void *key = sqlite3_column_blob(st, 6);
    int klen = sqlite3_column_bytes(st, 6);

    (void)err;
    memset(a, 0, sizeof(*a));
    a->id = sqlite3_column_int64(st, 0);
    a->org = sqlite3_column_int64(st, 1);
    sq__text_col(st, 2, a->org_name, sizeof(a->org_name));
    a->kind = (uint8_t)sqlite3_column_int(st, 3);
    a->asn = (uint32_t)sqlite3_column_int64(st, 4);
    a->v.kind = (uint8_t)sqlite3_column_int(st, 5);
    if (key != NULL && klen > 0 && klen <= STORE_VALUE_KEY_MAX) {
        memcpy(a->v.key, key, (size_t)klen);
        a->v.len = (uint16_t)klen;
    }
    sq__text_col(st, 7, a->text, sizeof(a->text));
    a->status = sqlite3_column_int(st, 8);
    a->created_usec = sqlite3_column_int64(st, 9);
    sq__text_col(st, 10, a->overlaps, sizeof(a->overlaps));
    return MRD_OK;
}

/* Every change to the declarations moves STORE_NOTIFY_ASSETS_GEN_KEY, in
 * its transaction, so a running router knows to rebuild its index. */
static enum mrd_code bump_generation(struct sq_conn *c, struct mrd_err *err)
{
    return sq__run(c, "asset generation",
                   "INSERT INTO meta (key, value) VALUES (?1, '1') ON CONFLICT (key)"
                   " DO UPDATE SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT)",
                   SQ_ARGS(SQ_STR(STORE_NOTIFY_ASSETS_GEN_KEY)), NULL, NULL, NULL, err);
}

enum mrd_code sq__asset_add(struct store *stp, struct store_asset *a, struct mrd_err *err)
{
    struct sq_store *s = (struct sq_store *)stp;
    struct sq_conn *c = NULL;
    int64_t now = mrd_time_now_usec();
    enum mrd_code rc;

    rc = sq__acquire(s, &c, err);
    if (rc != MRD_OK)
        return rc;
    rc = sq__exec(c, "BEGIN IMMEDIATE", err);
    if (rc == MRD_OK)
        rc = bump_generation(c, err);
    if (rc == MRD_OK)
        rc = sq__run(
            c, "asset add",
            "INSERT INTO assets (org, kind, asn, vkind, vkey, text, status, created, overlaps)"
            " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            SQ_ARGS(SQ_INT(a->org), SQ_INT(a->kind), SQ_INT(a->asn), SQ_INT(a->v.kind),
                    a->v.len > 0 ? SQ_BLOB(a->v.key, a->v.len) : SQ_NUL, SQ_STR(a->text),
                    SQ_INT(a->status), SQ_INT(now), SQ_STR(a->overlaps)),
            NULL, NULL, NULL, err);
    if (rc == MRD_OK) {
        a->id = sqlite3_last_insert_rowid(c->db);
        a->created_usec = now;
        rc = sq__exec(c, "COMMIT", err);
    } else if (rc == MRD_E_EXISTS) {
        mrd_err_clear(err);
        rc = mrd_err_set(err, MRD_E_EXISTS, "declared already");
    }
    sq__release(s, c);
    return rc;
}

enum mrd_code sq__asset_set(struct store *stp, int64_t id, int64_t org, int status,
                            struct store_asset *ret, struct mrd_err *err)
{
    struct sq_store *s = (struct sq_store *)stp;
    struct sq_conn *c = NULL;
    struct store_asset was;
    uint64_t n = 0;
    enum mrd_code rc;

    rc = sq__acquire(s, &c, err);
    if (rc != MRD_OK)
        return rc;
    rc = sq__exec(c, "BEGIN IMMEDIATE", err);
    if (rc == MRD_OK)
        rc = sq__run(c, "asset",
                     "SELECT " ASSET_COLS " FROM assets a JOIN orgs o ON o.key = a.org"
                     " WHERE a.id = ?1 AND (?2 = 0 OR a.org = ?2)",
                     SQ_ARGS(SQ_INT(id), SQ_INT(org)), asset_row, &was, &n, err);
    if (rc == MRD_OK && n == 0)
        rc = mrd_err_set(err, MRD_E_NOTFOUND, "no such declaration");
    if (rc == MRD_OK)
        rc = bump_generation(c, err);
    if (rc == MRD_OK && status == STORE_ASSET_REMOVED)
        rc = sq__run(c, "asset remove", "DELETE FROM assets WHERE id = ?1", SQ_ARGS(SQ_INT(id)),
                     NULL, NULL, NULL, err);
    else if (rc == MRD_OK)
        rc = sq__run(c, "asset approve", "UPDATE assets SET status = ?2 WHERE id = ?1",
                     SQ_ARGS(SQ_INT(id), SQ_INT(status)), NULL, NULL, NULL, err);
    if (rc == MRD_OK)
        rc = sq__exec(c, "COMMIT", err);
    if (rc == MRD_OK && ret != NULL)
        *ret = was;
    sq__release(s, c);
    return rc;
}

struct asset_emit {
    enum mrd_code (*cb)(void *ctx, const struct store_asset *a, struct mrd_err *err);
    void *ctx;
};

static enum mrd_code asset_emit_row(void *ctx, sqlite3_stmt *st, struct mrd_err *err)
{
    struct asset_emit *e = ctx;
    struct store_asset a;

    (void)asset_row(&a, st, err);
    return e->cb(e->ctx, &a, err);
}

enum mrd_code sq__assets_list(struct store *stp, int64_t org,
                              enum mrd_code (*cb)(void *ctx, const struct store_asset *a,
                                                  struct mrd_err *err),
                              void *ctx, struct mrd_err *err)
{
    struct asset_emit e = {.cb = cb, .ctx = ctx};

    return sq__query((struct sq_store *)stp, true, "asset list",
                     "SELECT " ASSET_COLS " FROM assets a JOIN orgs o ON o.key = a.org"
                     " WHERE ?1 = 0 OR a.org = ?1 ORDER BY a.id",
                     SQ_ARGS(SQ_INT(org)), asset_emit_row, &e, NULL, err);
}

enum mrd_code sq__notifications_add(struct store *stp, struct store_notification *n, size_t count,
                                    int64_t squelch_usec, int64_t cursor_seq, struct mrd_err *err)
{
    struct sq_store *s = (struct sq_store *)stp;
    struct sq_conn *c = NULL;
    int64_t now = mrd_time_now_usec();
    char cur[32];
    enum mrd_code rc;

    rc = sq__acquire(s, &c, err);
    if (rc != MRD_OK)
        return rc;
    rc = sq__exec(c, "BEGIN IMMEDIATE", err);
    for (size_t i = 0; rc == MRD_OK && i < count; i++) {
        int64_t recent = 0;
        uint64_t changed = 0;
        rc = sq__run(c, "notification",
                     "SELECT count(*) FROM notifications WHERE org = ?1 AND asset = ?2"
                     " AND kind = ?3 AND value = ?4 AND created > ?5 AND squelched = 0",
                     SQ_ARGS(SQ_INT(n[i].org), SQ_INT(n[i].asset), SQ_STR(n[i].kind),
                             SQ_STR(n[i].value), SQ_INT(now - squelch_usec)),
                     sq__int_row, &recent, NULL, err);
        if (rc != MRD_OK)
            break;
        n[i].squelched = recent > 0;
        n[i].created_usec = now;
        rc = sq__run(c, "notification",
                     "INSERT INTO notifications (org, asset, asset_text, seq, object_id, kind,"
                     " value, how, created, squelched) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8,"
                     " ?9, ?10) ON CONFLICT (org, asset, seq) DO NOTHING",
                     SQ_ARGS(SQ_INT(n[i].org), SQ_INT(n[i].asset), SQ_STR(n[i].asset_text),
                             SQ_INT(n[i].seq), SQ_STR(n[i].object_id), SQ_STR(n[i].kind),
                             SQ_STR(n[i].value), SQ_INT(n[i].how), SQ_INT(now),
                             SQ_INT(n[i].squelched)),
                     NULL, NULL, &changed, err);
        /* already recorded (a round repeated after a crash): not new */
        n[i].id = changed > 0 ? sqlite3_last_insert_rowid(c->db) : 0;
        if (changed == 0)
            n[i].squelched = true;
        /* its STIX form commits with it, or not at all */
        if (rc == MRD_OK && n[i].stix != NULL && !n[i].squelched)
            rc = sq__objects_insert_in(c, n[i].stix_collection, n[i].stix, 1, &n[i].stix_outcome,
                                       err);
    }
    (void)snprintf(cur, sizeof(cur), "%lld", (long long)cursor_seq);
    if (rc == MRD_OK)
        rc = sq__meta_put(c, STORE_NOTIFY_CURSOR_KEY, cur, err);
    if (rc == MRD_OK)
        rc = sq__exec(c, "COMMIT", err);
    sq__release(s, c);
    return rc;
}

void sq__notification_row(sqlite3_stmt *st, struct store_notification *n)
{
    memset(n, 0, sizeof(*n));
    n->id = sqlite3_column_int64(st, 0);
    n->org = sqlite3_column_int64(st, 1);
    sq__text_col(st, 2, n->org_name, sizeof(n->org_name));
    n->asset = sqlite3_column_int64(st, 3);
    sq__text_col(st, 4, n->asset_text, sizeof(n->asset_text));
    n->seq = sqlite3_column_int64(st, 5);
    sq__text_col(st, 6, n->object_id, sizeof(n->object_id));
    sq__text_col(st, 7, n->kind, sizeof(n->kind));
    sq__text_col(st, 8, n->value, sizeof(n->value));
    n->how = (uint8_t)sqlite3_column_int(st, 9);
    n->created_usec = sqlite3_column_int64(st, 10);
    n->squelched = sqlite3_column_int(st, 11) != 0;
}

enum mrd_code sq__notification_emit_row(void *ctx, sqlite3_stmt *st, struct mrd_err *err)
{
    struct sq_notification_emit *e = ctx;
    struct store_notification n;

    sq__notification_row(st, &n);
    return e->cb(e->ctx, &n, err);
}

enum mrd_code sq__notifications_list(struct store *stp, int64_t org, int64_t after_id, size_t limit,
                                     enum mrd_code (*cb)(void *ctx,
                                                         const struct store_notification *n,
                                                         struct mrd_err *err),
                                     void *ctx, struct mrd_err *err)
{
    struct sq_notification_emit e = {.cb = cb, .ctx = ctx};

    return sq__query((struct sq_store *)stp, true, "notification list",
                     "SELECT " SQ_NOTIFICATION_COLS " FROM notifications n"
                     " JOIN orgs o ON o.key = n.org WHERE (?1 = 0 OR n.org = ?1) AND n.id > ?2"
                     " ORDER BY n.id LIMIT ?3",
                     SQ_ARGS(SQ_INT(org), SQ_INT(after_id), SQ_INT(limit)),
                     sq__notification_emit_row, &e, NULL, err);
}
