/*
 * store_notify.c: constituency assets and notifications (store.h,
 * "constituency assets and notifications"), written once for both
 * backends over their driver (store_int.h).
 *
 * Notifications and the routing cursor are written in one transaction, so
 * a round that crashes repeats from the old cursor and the UNIQUE (org,
 * asset, seq) makes its repeats no-ops. A notification is squelched when
 * the same (org, asset, object type, value) was notified, not squelched,
 * within the window. A notification's STIX form (store.h) is inserted in
 * the same transaction (the backend's write transaction holds its write
 * lock, under which objects are inserted), so the object, the row and the
 * cursor commit together.
 */
#include "store/store_int.h"

#include <stdio.h>
#include <string.h>

#include "core/buf.h"
#include "core/timestamp.h"

#define ASSET_COLS                                                                                 \
    "a.id, a.org, o.name, a.kind, a.asn, a.vkind, a.vkey, a.text, a.status, a.created, "           \
    "a.overlaps"

static enum mrd_code asset_row(void *ctx, const struct store_rowrd *r, struct mrd_err *err)
{
    struct store_asset *a = ctx;
    size_t klen = 0;
    const char *key = r->blob(r, 6, &klen);

    (void)err;
    memset(a, 0, sizeof(*a));
    a->id = r->i64(r, 0);
    a->org = r->i64(r, 1);
    store__copy_col(r, 2, a->org_name, sizeof(a->org_name));
    a->kind = (uint8_t)r->i64(r, 3);
    a->asn = (uint32_t)r->i64(r, 4);
    a->v.kind = (uint8_t)r->i64(r, 5);
    if (key != NULL && klen > 0 && klen <= STORE_VALUE_KEY_MAX) {
        memcpy(a->v.key, key, klen);
        a->v.len = (uint16_t)klen;
    }
    store__copy_col(r, 7, a->text, sizeof(a->text));
    a->status = (int)r->i64(r, 8);
    a->created_usec = r->i64(r, 9);
    store__copy_col(r, 10, a->overlaps, sizeof(a->overlaps));
    return MRD_OK;
}

/* Every change to the declarations moves STORE_NOTIFY_ASSETS_GEN_KEY, in
 * its transaction, so a running router knows to rebuild its index. */
static enum mrd_code bump_generation(const struct store_tx *tx, struct mrd_err *err)
{
    return store__tx_run(tx, "asset generation",
                         "INSERT INTO meta (key, value) VALUES (?1, '1') ON CONFLICT (key)"
                         " DO UPDATE SET value = CAST(CAST(meta.value AS BIGINT) + 1 AS TEXT)",
                         SQ_ARGS(SQ_STR(STORE_NOTIFY_ASSETS_GEN_KEY)), NULL, NULL, NULL, err);
}

static enum mrd_code asset_add_op(const struct store_tx *tx, void *args, struct mrd_err *err)
{
    struct store_asset *a = args;
    int64_t now = mrd_time_now_usec();
    enum mrd_code rc;

    rc = bump_generation(tx, err);
    if (rc == MRD_OK)
        rc = store__tx_run(
            tx, "asset add",
            /* "overlaps" quoted: a reserved word in PostgreSQL */
            "INSERT INTO assets (org, kind, asn, vkind, vkey, text, status, created, \"overlaps\")"
            " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) RETURNING id",
            SQ_ARGS(SQ_INT(a->org), SQ_INT(a->kind), SQ_INT(a->asn), SQ_INT(a->v.kind),
                    SQ_BLOB(a->v.len > 0 ? a->v.key : NULL, a->v.len), SQ_STR(a->text),
                    SQ_INT(a->status), SQ_INT(now), SQ_STR(a->overlaps)),
            store__i64_row, &a->id, NULL, err);
    if (rc == MRD_OK) {
        a->created_usec = now;
    } else if (rc == MRD_E_EXISTS) {
        mrd_err_clear(err);
        rc = mrd_err_set(err, MRD_E_EXISTS, "declared already");
    }
    return rc;
}

enum mrd_code store__asset_add(struct store *st, struct store_asset *a, struct mrd_err *err)
{
    return st->ops->driver->write_tx(st, asset_add_op, a, err);
}

struct asset_set_args {
    int64_t id, org;
    int status;
    struct store_asset *ret;
};

static enum mrd_code asset_set_op(const struct store_tx *tx, void *args, struct mrd_err *err)
{
    struct asset_set_args *a = args;
    struct store_asset was;
    uint64_t n = 0;
    enum mrd_code rc;

    rc = store__tx_run(tx, "asset",
                       "SELECT " ASSET_COLS " FROM assets a JOIN orgs o ON o.key = a.org"
                       " WHERE a.id = ?1 AND (?2 = 0 OR a.org = ?2)",
                       SQ_ARGS(SQ_INT(a->id), SQ_INT(a->org)), asset_row, &was, &n, err);
    if (rc == MRD_OK && n == 0)
        rc = mrd_err_set(err, MRD_E_NOTFOUND, "no such declaration");
    if (rc == MRD_OK)
        rc = bump_generation(tx, err);
    if (rc == MRD_OK && a->status == STORE_ASSET_REMOVED)
        rc = store__tx_run(tx, "asset remove", "DELETE FROM assets WHERE id = ?1",
                           SQ_ARGS(SQ_INT(a->id)), NULL, NULL, NULL, err);
    else if (rc == MRD_OK)
        rc = store__tx_run(tx, "asset approve", "UPDATE assets SET status = ?2 WHERE id = ?1",
                           SQ_ARGS(SQ_INT(a->id), SQ_INT(a->status)), NULL, NULL, NULL, err);
    if (rc == MRD_OK && a->ret != NULL)
        *a->ret = was;
    return rc;
}

enum mrd_code store__asset_set(struct store *st, int64_t id, int64_t org, int status,
                               struct store_asset *ret, struct mrd_err *err)
{
    struct asset_set_args a = {id, org, status, ret};

    return st->ops->driver->write_tx(st, asset_set_op, &a, err);
}

struct asset_emit {
    enum mrd_code (*cb)(void *ctx, const struct store_asset *a, struct mrd_err *err);
    void *ctx;
};

static enum mrd_code asset_emit_row(void *ctx, const struct store_rowrd *r, struct mrd_err *err)
{
    struct asset_emit *e = ctx;
    struct store_asset a;

    (void)asset_row(&a, r, err);
    return e->cb(e->ctx, &a, err);
}

enum mrd_code store__assets_list(struct store *st, int64_t org,
                                 enum mrd_code (*cb)(void *ctx, const struct store_asset *a,
                                                     struct mrd_err *err),
                                 void *ctx, struct mrd_err *err)
{
    struct asset_emit e = {.cb = cb, .ctx = ctx};

    return store__q(st, true, "asset list",
                    "SELECT " ASSET_COLS " FROM assets a JOIN orgs o ON o.key = a.org"
                    " WHERE ?1 = 0 OR a.org = ?1 ORDER BY a.id",
                    SQ_ARGS(SQ_INT(org)), asset_emit_row, &e, NULL, err);
}

struct notif_args {
    struct store_notification *n;
    size_t count;
    int64_t squelch_usec, cursor_seq;
};

/* The STIX form of one notification, inside tx (which holds the write
 * lock: store__insert_req's rules). */
static enum mrd_code insert_stix(const struct store_tx *tx, struct store_notification *n,
                                 struct mrd_err *err)
{
    struct store_ins_req req = {n->stix_collection, n->stix, 1, &n->stix_outcome, NULL, NULL, NULL};
    struct mrd_buf rcpt;
    enum mrd_code rc;

    mrd_buf_init(&rcpt, (size_t)STORE_RECIPIENTS_MAX * 21);
    rc = store__insert_req(tx, &req, &rcpt, err);
    mrd_buf_release(&rcpt);
    return rc;
}

static enum mrd_code notifications_add_op(const struct store_tx *tx, void *args,
                                          struct mrd_err *err)
{
    struct notif_args *a = args;
    struct store_notification *n = a->n;
    int64_t now = mrd_time_now_usec();
    char cur[32];
    enum mrd_code rc = MRD_OK;

    for (size_t i = 0; rc == MRD_OK && i < a->count; i++) {
        int64_t recent = 0;
        uint64_t added = 0;
        rc = store__tx_run(tx, "notification",
                           "SELECT count(*) FROM notifications WHERE org = ?1 AND asset = ?2"
                           " AND kind = ?3 AND value = ?4 AND created > ?5 AND squelched = 0",
                           SQ_ARGS(SQ_INT(n[i].org), SQ_INT(n[i].asset), SQ_STR(n[i].kind),
                                   SQ_STR(n[i].value), SQ_INT(now - a->squelch_usec)),
                           store__i64_row, &recent, NULL, err);
        if (rc != MRD_OK)
            break;
        n[i].squelched = recent > 0;
        n[i].created_usec = now;
        n[i].id = 0;
        rc = store__tx_run(tx, "notification",
                           "INSERT INTO notifications (org, asset, asset_text, seq, object_id,"
                           " kind, value, how, created, squelched) VALUES (?1, ?2, ?3, ?4, ?5,"
                           " ?6, ?7, ?8, ?9, ?10) ON CONFLICT (org, asset, seq) DO NOTHING"
                           " RETURNING id",
                           SQ_ARGS(SQ_INT(n[i].org), SQ_INT(n[i].asset), SQ_STR(n[i].asset_text),
                                   SQ_INT(n[i].seq), SQ_STR(n[i].object_id), SQ_STR(n[i].kind),
                                   SQ_STR(n[i].value), SQ_INT(n[i].how), SQ_INT(now),
                                   SQ_INT(n[i].squelched)),
                           store__i64_row, &n[i].id, &added, err);
        /* already recorded (a round repeated after a crash): not new */
        if (added == 0) {
            n[i].id = 0;
            n[i].squelched = true;
        }
        /* its STIX form commits with it, or not at all */
        if (rc == MRD_OK && n[i].stix != NULL && !n[i].squelched)
            rc = insert_stix(tx, &n[i], err);
    }
    (void)snprintf(cur, sizeof(cur), "%lld", (long long)a->cursor_seq);
    if (rc == MRD_OK)
        rc = store__tx_run(tx, "meta", STORE_META_PUT,
                           SQ_ARGS(SQ_STR(STORE_NOTIFY_CURSOR_KEY), SQ_STR(cur)), NULL, NULL, NULL,
                           err);
    return rc;
}

enum mrd_code store__notifications_add(struct store *st, struct store_notification *n, size_t count,
                                       int64_t squelch_usec, int64_t cursor_seq,
                                       struct mrd_err *err)
{
    struct notif_args a = {n, count, squelch_usec, cursor_seq};

    return st->ops->driver->write_tx(st, notifications_add_op, &a, err);
}

static void notification_from(const struct store_rowrd *r, struct store_notification *n)
{
    memset(n, 0, sizeof(*n));
    n->id = r->i64(r, 0);
    n->org = r->i64(r, 1);
    store__copy_col(r, 2, n->org_name, sizeof(n->org_name));
    n->asset = r->i64(r, 3);
    store__copy_col(r, 4, n->asset_text, sizeof(n->asset_text));
    n->seq = r->i64(r, 5);
    store__copy_col(r, 6, n->object_id, sizeof(n->object_id));
    store__copy_col(r, 7, n->kind, sizeof(n->kind));
    store__copy_col(r, 8, n->value, sizeof(n->value));
    n->how = (uint8_t)r->i64(r, 9);
    n->created_usec = r->i64(r, 10);
    n->squelched = r->i64(r, 11) != 0;
}

enum mrd_code store__notification_emit_row(void *ctx, const struct store_rowrd *r,
                                           struct mrd_err *err)
{
    struct store_notification_emit *e = ctx;
    struct store_notification n;

    notification_from(r, &n);
    return e->cb(e->ctx, &n, err);
}

enum mrd_code store__notifications_list(
    struct store *st, int64_t org, int64_t after_id, size_t limit,
    enum mrd_code (*cb)(void *ctx, const struct store_notification *n, struct mrd_err *err),
    void *ctx, struct mrd_err *err)
{
    struct store_notification_emit e = {.cb = cb, .ctx = ctx};

    return store__q(st, true, "notification list",
                    "SELECT " STORE_NOTIFICATION_COLS " FROM notifications n"
                    " JOIN orgs o ON o.key = n.org WHERE (?1 = 0 OR n.org = ?1) AND n.id > ?2"
                    " ORDER BY n.id LIMIT ?3",
                    SQ_ARGS(SQ_INT(org), SQ_INT(after_id), SQ_INT(limit)),
                    store__notification_emit_row, &e, NULL, err);
}
