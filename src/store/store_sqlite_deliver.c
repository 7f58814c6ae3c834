/*
 * store_sqlite_deliver.c: early-warning delivery in the SQLite store
 * (store.h, "early-warning delivery"): contacts, deliveries and the
 * notifications each carries.
 *
 * Queueing a notification and moving the delivery cursor are one
 * transaction, so a crash between rounds neither loses nor repeats one;
 * the PRIMARY KEY of delivery_items makes a repeated plan a no-op.
 */
#include "store/store_int.h"

#include <stdio.h>
#include <string.h>

#include "core/timestamp.h"

#define CONTACT_COLS                                                                               \
    "c.id, c.org, o.name, c.channel, c.address, c.pgp_key, c.secret, c.schedule, c.created"

static void contact_row(sqlite3_stmt *st, struct store_contact *c)
{
    memset(c, 0, sizeof(*c));
    c->id = sqlite3_column_int64(st, 0);
    c->org = sqlite3_column_int64(st, 1);
    sq__text_col(st, 2, c->org_name, sizeof(c->org_name));
    c->channel = sqlite3_column_int(st, 3);
    sq__text_col(st, 4, c->address, sizeof(c->address));
    c->pgp_key = (const char *)sqlite3_column_text(st, 5);
    if (c->pgp_key == NULL)
        c->pgp_key = "";
    sq__text_col(st, 6, c->secret, sizeof(c->secret));
    sq__text_col(st, 7, c->schedule, sizeof(c->schedule));
    c->created_usec = sqlite3_column_int64(st, 8);
}

enum mrd_code sq__contact_add(struct store *stp, struct store_contact *c, struct mrd_err *err)
{
    struct sq_store *s = (struct sq_store *)stp;
    struct sq_conn *conn = NULL;
    int64_t now = mrd_time_now_usec();
    enum mrd_code rc;

    rc = sq__acquire(s, &conn, err);
    if (rc != MRD_OK)
        return rc;
    rc = sq__exec(conn, "BEGIN IMMEDIATE", err);
    if (rc == MRD_OK)
        rc = sq__run(conn, "contact add",
                     "INSERT INTO contacts (org, channel, address, pgp_key, secret, schedule,"
                     " created) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                     SQ_ARGS(SQ_INT(c->org), SQ_INT(c->channel), SQ_STR(c->address),
                             SQ_STR(c->pgp_key != NULL ? c->pgp_key : ""), SQ_STR(c->secret),
                             SQ_STR(c->schedule), SQ_INT(now)),
                     NULL, NULL, NULL, err);
    if (rc == MRD_OK) {
        c->id = sqlite3_last_insert_rowid(conn->db);
        c->created_usec = now;
        rc = sq__exec(conn, "COMMIT", err);
    } else if (rc == MRD_E_EXISTS) {
        mrd_err_clear(err);
        rc = mrd_err_set(err, MRD_E_EXISTS, "the org has this contact already");
    }
    sq__release(s, conn);
    return rc;
}

static enum mrd_code contact_copy(void *ctx, sqlite3_stmt *st, struct mrd_err *err)
{
    struct store_contact *c = ctx;

    (void)err;
    contact_row(st, c);
    c->pgp_key = NULL; /* the row goes away with the statement */
    return MRD_OK;
}

enum mrd_code sq__contact_remove(struct store *stp, int64_t id, int64_t org,
                                 struct store_contact *ret, struct mrd_err *err)
{
    struct sq_store *s = (struct sq_store *)stp;
    struct sq_conn *conn = NULL;
    struct store_contact was;
    uint64_t n = 0;
    enum mrd_code rc;

    rc = sq__acquire(s, &conn, err);
    if (rc != MRD_OK)
        return rc;
    rc = sq__exec(conn, "BEGIN IMMEDIATE", err);
    if (rc == MRD_OK)
        rc = sq__run(conn, "contact",
                     "SELECT " CONTACT_COLS " FROM contacts c JOIN orgs o ON o.key = c.org"
                     " WHERE c.id = ?1 AND (?2 = 0 OR c.org = ?2)",
                     SQ_ARGS(SQ_INT(id), SQ_INT(org)), contact_copy, &was, &n, err);
    if (rc == MRD_OK && n == 0)
        rc = mrd_err_set(err, MRD_E_NOTFOUND, "no such contact");
    if (rc == MRD_OK)
        rc = sq__run(conn, "contact remove", "DELETE FROM contacts WHERE id = ?1",
                     SQ_ARGS(SQ_INT(id)), NULL, NULL, NULL, err);
    if (rc == MRD_OK)
        rc =
            sq__run(conn, "contact remove",
                    "UPDATE deliveries SET status = ?2, error = 'contact removed'"
                    " WHERE contact = ?1 AND status = ?3",
                    SQ_ARGS(SQ_INT(id), SQ_INT(STORE_DELIVERY_DEAD), SQ_INT(STORE_DELIVERY_QUEUED)),
                    NULL, NULL, NULL, err);
    if (rc == MRD_OK)
        rc = sq__exec(conn, "COMMIT", err);
    if (rc == MRD_OK && ret != NULL)
        *ret = was;
    sq__release(s, conn);
    return rc;
}

struct contact_emit {
    enum mrd_code (*cb)(void *ctx, const struct store_contact *c, struct mrd_err *err);
    void *ctx;
};

static enum mrd_code contact_emit_row(void *ctx, sqlite3_stmt *st, struct mrd_err *err)
{
    struct contact_emit *e = ctx;
    struct store_contact c;

    contact_row(st, &c);
    return e->cb(e->ctx, &c, err);
}

enum mrd_code sq__contacts_list(struct store *stp, int64_t org,
                                enum mrd_code (*cb)(void *ctx, const struct store_contact *c,
                                                    struct mrd_err *err),
                                void *ctx, struct mrd_err *err)
{
    struct contact_emit e = {.cb = cb, .ctx = ctx};

    return sq__query((struct sq_store *)stp, true, "contact list",
                     "SELECT " CONTACT_COLS " FROM contacts c JOIN orgs o ON o.key = c.org"
                     " WHERE ?1 = 0 OR c.org = ?1 ORDER BY c.id",
                     SQ_ARGS(SQ_INT(org)), contact_emit_row, &e, NULL, err);
}

enum mrd_code sq__deliveries_enqueue(struct store *stp, const struct store_delivery_plan *p,
                                     size_t n, int64_t from_cursor, int64_t cursor_id,
                                     struct mrd_err *err)
{
    struct sq_store *s = (struct sq_store *)stp;
    struct sq_conn *conn = NULL;
    int64_t now = mrd_time_now_usec();
    char cur[32];
    enum mrd_code rc;

    rc = sq__acquire(s, &conn, err);
    if (rc != MRD_OK)
        return rc;
    rc = sq__exec(conn, "BEGIN IMMEDIATE", err);
    if (rc == MRD_OK) {
        int64_t at = 0;
        rc = sq__run(conn, "delivery cursor",
                     "SELECT CAST(value AS INTEGER) FROM meta WHERE key = ?1",
                     SQ_ARGS(SQ_STR(STORE_NOTIFY_DELIVER_CURSOR_KEY)), sq__int_row, &at, NULL, err);
        if (rc == MRD_OK && at != from_cursor)
            rc = mrd_err_set(err, MRD_E_CONFLICT, "deliveries: queued by another round");
    }
    for (size_t i = 0; rc == MRD_OK && i < n; i++) {
        int64_t id = 0;
        rc = sq__run(
            conn, "delivery",
            "SELECT id FROM deliveries WHERE contact = ?1 AND schedule = ?2"
            " AND status = ?3 AND attempts = 0 ORDER BY id DESC LIMIT 1",
            SQ_ARGS(SQ_INT(p[i].contact), SQ_INT(p[i].schedule), SQ_INT(STORE_DELIVERY_QUEUED)),
            sq__int_row, &id, NULL, err);
        if (rc == MRD_OK && id == 0) {
            rc = sq__run(conn, "delivery",
                         "INSERT INTO deliveries (contact, org, channel, address, schedule,"
                         " status, created, due) SELECT id, org, channel, address, ?2, ?3, ?4, ?5"
                         " FROM contacts WHERE id = ?1",
                         SQ_ARGS(SQ_INT(p[i].contact), SQ_INT(p[i].schedule),
                                 SQ_INT(STORE_DELIVERY_QUEUED), SQ_INT(now), SQ_INT(p[i].due_usec)),
                         NULL, NULL, NULL, err);
            id = sqlite3_last_insert_rowid(conn->db);
        }
        if (rc == MRD_OK)
            rc = sq__run(conn, "delivery item",
                         "INSERT INTO delivery_items (delivery, notification) VALUES (?1, ?2)"
                         " ON CONFLICT DO NOTHING",
                         SQ_ARGS(SQ_INT(id), SQ_INT(p[i].notification)), NULL, NULL, NULL, err);
    }
    (void)snprintf(cur, sizeof(cur), "%lld", (long long)cursor_id);
    if (rc == MRD_OK)
        rc = sq__meta_put(conn, STORE_NOTIFY_DELIVER_CURSOR_KEY, cur, err);
    if (rc == MRD_OK)
        rc = sq__exec(conn, "COMMIT", err);
    sq__release(s, conn);
    return rc;
}

struct delivery_emit {
    enum mrd_code (*cb)(void *ctx, const struct store_delivery *d, struct mrd_err *err);
    void *ctx;
};

static enum mrd_code delivery_row(void *ctx, sqlite3_stmt *st, struct mrd_err *err)
{
    struct delivery_emit *e = ctx;
    struct store_delivery d;

    memset(&d, 0, sizeof(d));
    d.id = sqlite3_column_int64(st, 0);
    d.contact = sqlite3_column_int64(st, 1);
    d.org = sqlite3_column_int64(st, 2);
    sq__text_col(st, 3, d.org_name, sizeof(d.org_name));
    d.channel = sqlite3_column_int(st, 4);
    sq__text_col(st, 5, d.address, sizeof(d.address));
    d.schedule = sqlite3_column_int(st, 6);
    d.status = sqlite3_column_int(st, 7);
    d.created_usec = sqlite3_column_int64(st, 8);
    d.due_usec = sqlite3_column_int64(st, 9);
    d.attempts = (unsigned)sqlite3_column_int64(st, 10);
    d.last_try_usec = sqlite3_column_int64(st, 11);
    d.sent_usec = sqlite3_column_int64(st, 12);
    sq__text_col(st, 13, d.error, sizeof(d.error));
    d.ev = sqlite3_column_int64(st, 14);
    d.n_items = (size_t)sqlite3_column_int64(st, 15);
    return e->cb(e->ctx, &d, err);
}

enum mrd_code sq__deliveries_list(struct store *stp, const struct store_delivery_filter *f,
                                  enum mrd_code (*cb)(void *ctx, const struct store_delivery *d,
                                                      struct mrd_err *err),
                                  void *ctx, struct mrd_err *err)
{
    struct delivery_emit e = {.cb = cb, .ctx = ctx};

    return sq__query(
        (struct sq_store *)stp, true, "delivery list",
        "SELECT d.id, d.contact, d.org, o.name, d.channel, d.address, d.schedule, d.status,"
        " d.created, d.due, d.attempts, d.last_try, d.sent, d.error, d.ev,"
        " (SELECT count(*) FROM delivery_items i WHERE i.delivery = d.id)"
        " FROM deliveries d JOIN orgs o ON o.key = d.org"
        " WHERE (?1 = 0 OR d.id = ?1) AND (?2 = 0 OR d.org = ?2) AND (?3 < 0 OR d.status = ?3)"
        " AND (?4 = 0 OR d.due <= ?4) AND d.id > ?5 ORDER BY d.id LIMIT ?6",
        SQ_ARGS(SQ_INT(f->id), SQ_INT(f->org), SQ_INT(f->status), SQ_INT(f->due_before),
                SQ_INT(f->after_id), SQ_INT(f->limit)),
        delivery_row, &e, NULL, err);
}

enum mrd_code sq__delivery_items(struct store *stp, int64_t delivery,
                                 enum mrd_code (*cb)(void *ctx, const struct store_notification *n,
                                                     struct mrd_err *err),
                                 void *ctx, struct mrd_err *err)
{
    struct sq_notification_emit e = {.cb = cb, .ctx = ctx};

    return sq__query((struct sq_store *)stp, true, "delivery items",
                     "SELECT " SQ_NOTIFICATION_COLS " FROM delivery_items i"
                     " JOIN notifications n ON n.id = i.notification JOIN orgs o ON o.key = n.org"
                     " WHERE i.delivery = ?1 ORDER BY n.asset_text, n.id",
                     SQ_ARGS(SQ_INT(delivery)), sq__notification_emit_row, &e, NULL, err);
}

enum mrd_code sq__delivery_update(struct store *stp, const struct store_delivery *d,
                                  struct mrd_err *err)
{
    struct sq_store *s = (struct sq_store *)stp;
    struct sq_conn *conn = NULL;
    uint64_t changed = 0;
    enum mrd_code rc;

    rc = sq__acquire(s, &conn, err);
    if (rc != MRD_OK)
        return rc;
    rc = sq__exec(conn, "BEGIN IMMEDIATE", err);
    if (rc == MRD_OK)
        rc = sq__run(conn, "delivery update",
                     "UPDATE deliveries SET status = ?2, due = ?3, attempts = ?4, last_try = ?5,"
                     " sent = ?6, error = ?7, ev = ?8 WHERE id = ?1 AND attempts = ?9",
                     SQ_ARGS(SQ_INT(d->id), SQ_INT(d->status), SQ_INT(d->due_usec),
                             SQ_INT(d->attempts), SQ_INT(d->last_try_usec), SQ_INT(d->sent_usec),
                             SQ_STR(d->error), SQ_INT(d->ev), SQ_INT(d->expect_attempts)),
                     NULL, NULL, &changed, err);
    if (rc == MRD_OK && changed > 0 && d->record_attempt)
        rc = sq__run(
            conn, "delivery attempt",
            "INSERT INTO delivery_attempts (delivery, time, status, error)"
            " VALUES (?1, ?2, ?3, ?4)",
            SQ_ARGS(SQ_INT(d->id), SQ_INT(d->last_try_usec), SQ_INT(d->status), SQ_STR(d->error)),
            NULL, NULL, NULL, err);
    if (rc == MRD_OK && changed == 0)
        rc = mrd_err_set(err, MRD_E_CONFLICT, "delivery %lld: changed by another round",
                         (long long)d->id);
    if (rc == MRD_OK)
        rc = sq__exec(conn, "COMMIT", err);
    sq__release(s, conn);
    return rc;
}

struct attempt_emit {
    enum mrd_code (*cb)(void *ctx, const struct store_delivery_attempt *a, struct mrd_err *err);
    void *ctx;
};

static enum mrd_code attempt_row(void *ctx, sqlite3_stmt *st, struct mrd_err *err)
{
    struct attempt_emit *e = ctx;
    struct store_delivery_attempt a;

    memset(&a, 0, sizeof(a));
    a.delivery = sqlite3_column_int64(st, 0);
    a.time_usec = sqlite3_column_int64(st, 1);
    a.status = sqlite3_column_int(st, 2);
    sq__text_col(st, 3, a.error, sizeof(a.error));
    return e->cb(e->ctx, &a, err);
}

enum mrd_code sq__delivery_attempts(struct store *stp, int64_t delivery,
                                    enum mrd_code (*cb)(void *ctx,
                                                        const struct store_delivery_attempt *a,
                                                        struct mrd_err *err),
                                    void *ctx, struct mrd_err *err)
{
    struct attempt_emit e = {.cb = cb, .ctx = ctx};

    return sq__query((struct sq_store *)stp, true, "delivery attempts",
                     "SELECT delivery, time, status, error FROM delivery_attempts"
                     " WHERE delivery = ?1 ORDER BY id",
                     SQ_ARGS(SQ_INT(delivery)), attempt_row, &e, NULL, err);
}
