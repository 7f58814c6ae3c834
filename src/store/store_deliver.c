/*
 * store_deliver.c: early-warning delivery (store.h, "early-warning
 * delivery"): contacts, deliveries and the notifications each carries,
 * written once for both backends over their driver (store_int.h).
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

static void contact_row(const struct store_rowrd *r, struct store_contact *c)
{
    size_t key_len;

    memset(c, 0, sizeof(*c));
    c->id = r->i64(r, 0);
    c->org = r->i64(r, 1);
    store__copy_col(r, 2, c->org_name, sizeof(c->org_name));
    c->channel = (int)r->i64(r, 3);
    store__copy_col(r, 4, c->address, sizeof(c->address));
    c->pgp_key = r->text(r, 5, &key_len); /* NUL-terminated: NOT NULL TEXT */
    store__copy_col(r, 6, c->secret, sizeof(c->secret));
    store__copy_col(r, 7, c->schedule, sizeof(c->schedule));
    c->created_usec = r->i64(r, 8);
}

static enum mrd_code contact_add_op(const struct store_tx *tx, void *args, struct mrd_err *err)
{
    struct store_contact *c = args;
    int64_t now = mrd_time_now_usec();
    enum mrd_code rc;

    rc = store__tx_run(tx, "contact add",
                       "INSERT INTO contacts (org, channel, address, pgp_key, secret, schedule,"
                       " created) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) RETURNING id",
                       SQ_ARGS(SQ_INT(c->org), SQ_INT(c->channel), SQ_STR(c->address),
                               SQ_STR(c->pgp_key != NULL ? c->pgp_key : ""), SQ_STR(c->secret),
                               SQ_STR(c->schedule), SQ_INT(now)),
                       store__i64_row, &c->id, NULL, err);
    if (rc == MRD_OK) {
        c->created_usec = now;
    } else if (rc == MRD_E_EXISTS) {
        mrd_err_clear(err);
        rc = mrd_err_set(err, MRD_E_EXISTS, "the org has this contact already");
    }
    return rc;
}

enum mrd_code store__contact_add(struct store *st, struct store_contact *c, struct mrd_err *err)
{
    return st->ops->driver->write_tx(st, contact_add_op, c, err);
}

static enum mrd_code contact_copy(void *ctx, const struct store_rowrd *r, struct mrd_err *err)
{
    struct store_contact *c = ctx;

    (void)err;
    contact_row(r, c);
    c->pgp_key = NULL; /* the row goes away with the statement */
    return MRD_OK;
}

struct contact_remove_args {
    int64_t id, org;
    struct store_contact *ret;
};

static enum mrd_code contact_remove_op(const struct store_tx *tx, void *args, struct mrd_err *err)
{
    struct contact_remove_args *a = args;
    struct store_contact was;
    uint64_t n = 0;
    enum mrd_code rc;

    rc = store__tx_run(tx, "contact",
                       "SELECT " CONTACT_COLS " FROM contacts c JOIN orgs o ON o.key = c.org"
                       " WHERE c.id = ?1 AND (?2 = 0 OR c.org = ?2)",
                       SQ_ARGS(SQ_INT(a->id), SQ_INT(a->org)), contact_copy, &was, &n, err);
    if (rc == MRD_OK && n == 0)
        rc = mrd_err_set(err, MRD_E_NOTFOUND, "no such contact");
    if (rc == MRD_OK)
        rc = store__tx_run(tx, "contact remove", "DELETE FROM contacts WHERE id = ?1",
                           SQ_ARGS(SQ_INT(a->id)), NULL, NULL, NULL, err);
    if (rc == MRD_OK)
        rc = store__tx_run(
            tx, "contact remove",
            "UPDATE deliveries SET status = ?2, error = 'contact removed'"
            " WHERE contact = ?1 AND status = ?3",
            SQ_ARGS(SQ_INT(a->id), SQ_INT(STORE_DELIVERY_DEAD), SQ_INT(STORE_DELIVERY_QUEUED)),
            NULL, NULL, NULL, err);
    if (rc == MRD_OK && a->ret != NULL)
        *a->ret = was;
    return rc;
}

enum mrd_code store__contact_remove(struct store *st, int64_t id, int64_t org,
                                    struct store_contact *ret, struct mrd_err *err)
{
    struct contact_remove_args a = {id, org, ret};

    return st->ops->driver->write_tx(st, contact_remove_op, &a, err);
}

struct contact_emit {
    enum mrd_code (*cb)(void *ctx, const struct store_contact *c, struct mrd_err *err);
    void *ctx;
};

static enum mrd_code contact_emit_row(void *ctx, const struct store_rowrd *r, struct mrd_err *err)
{
    struct contact_emit *e = ctx;
    struct store_contact c;

    contact_row(r, &c);
    return e->cb(e->ctx, &c, err);
}

enum mrd_code store__contacts_list(struct store *st, int64_t org,
                                   enum mrd_code (*cb)(void *ctx, const struct store_contact *c,
                                                       struct mrd_err *err),
                                   void *ctx, struct mrd_err *err)
{
    struct contact_emit e = {.cb = cb, .ctx = ctx};

    return store__q(st, true, "contact list",
                    "SELECT " CONTACT_COLS " FROM contacts c JOIN orgs o ON o.key = c.org"
                    " WHERE ?1 = 0 OR c.org = ?1 ORDER BY c.id",
                    SQ_ARGS(SQ_INT(org)), contact_emit_row, &e, NULL, err);
}

struct enqueue_args {
    const struct store_delivery_plan *p;
    size_t n;
    int64_t from_cursor, cursor_id;
};

static enum mrd_code enqueue_op(const struct store_tx *tx, void *args, struct mrd_err *err)
{
    struct enqueue_args *a = args;
    const struct store_delivery_plan *p = a->p;
    int64_t now = mrd_time_now_usec(), at = 0;
    char cur[32];
    enum mrd_code rc;

    rc = store__tx_run(
        tx, "delivery cursor", "SELECT CAST(value AS BIGINT) FROM meta WHERE key = ?1",
        SQ_ARGS(SQ_STR(STORE_NOTIFY_DELIVER_CURSOR_KEY)), store__i64_row, &at, NULL, err);
    if (rc == MRD_OK && at != a->from_cursor)
        rc = mrd_err_set(err, MRD_E_CONFLICT, "deliveries: queued by another round");
    for (size_t i = 0; rc == MRD_OK && i < a->n; i++) {
        int64_t id = 0;
        rc = store__tx_run(
            tx, "delivery",
            "SELECT id FROM deliveries WHERE contact = ?1 AND schedule = ?2"
            " AND status = ?3 AND attempts = 0 ORDER BY id DESC LIMIT 1",
            SQ_ARGS(SQ_INT(p[i].contact), SQ_INT(p[i].schedule), SQ_INT(STORE_DELIVERY_QUEUED)),
            store__i64_row, &id, NULL, err);
        if (rc == MRD_OK && id == 0)
            rc = store__tx_run(tx, "delivery",
                               "INSERT INTO deliveries (contact, org, channel, address, schedule,"
                               " status, created, due) SELECT id, org, channel, address, ?2, ?3,"
                               " ?4, ?5 FROM contacts WHERE id = ?1 RETURNING id",
                               SQ_ARGS(SQ_INT(p[i].contact), SQ_INT(p[i].schedule),
                                       SQ_INT(STORE_DELIVERY_QUEUED), SQ_INT(now),
                                       SQ_INT(p[i].due_usec)),
                               store__i64_row, &id, NULL, err);
        if (rc == MRD_OK)
            rc = store__tx_run(tx, "delivery item",
                               "INSERT INTO delivery_items (delivery, notification)"
                               " VALUES (?1, ?2) ON CONFLICT DO NOTHING",
                               SQ_ARGS(SQ_INT(id), SQ_INT(p[i].notification)), NULL, NULL, NULL,
                               err);
    }
    (void)snprintf(cur, sizeof(cur), "%lld", (long long)a->cursor_id);
    if (rc == MRD_OK)
        rc = store__tx_run(tx, "meta", STORE_META_PUT,
                           SQ_ARGS(SQ_STR(STORE_NOTIFY_DELIVER_CURSOR_KEY), SQ_STR(cur)), NULL,
                           NULL, NULL, err);
    return rc;
}

enum mrd_code store__deliveries_enqueue(struct store *st, const struct store_delivery_plan *p,
                                        size_t n, int64_t from_cursor, int64_t cursor_id,
                                        struct mrd_err *err)
{
    struct enqueue_args a = {p, n, from_cursor, cursor_id};

    return st->ops->driver->write_tx(st, enqueue_op, &a, err);
}

struct delivery_emit {
    enum mrd_code (*cb)(void *ctx, const struct store_delivery *d, struct mrd_err *err);
    void *ctx;
};

static enum mrd_code delivery_row(void *ctx, const struct store_rowrd *r, struct mrd_err *err)
{
    struct delivery_emit *e = ctx;
    struct store_delivery d;

    memset(&d, 0, sizeof(d));
    d.id = r->i64(r, 0);
    d.contact = r->i64(r, 1);
    d.org = r->i64(r, 2);
    store__copy_col(r, 3, d.org_name, sizeof(d.org_name));
    d.channel = (int)r->i64(r, 4);
    store__copy_col(r, 5, d.address, sizeof(d.address));
    d.schedule = (int)r->i64(r, 6);
    d.status = (int)r->i64(r, 7);
    d.created_usec = r->i64(r, 8);
    d.due_usec = r->i64(r, 9);
    d.attempts = (unsigned)r->i64(r, 10);
    d.last_try_usec = r->i64(r, 11);
    d.sent_usec = r->i64(r, 12);
    store__copy_col(r, 13, d.error, sizeof(d.error));
    d.ev = r->i64(r, 14);
    d.n_items = (size_t)r->i64(r, 15);
    return e->cb(e->ctx, &d, err);
}

enum mrd_code store__deliveries_list(struct store *st, const struct store_delivery_filter *f,
                                     enum mrd_code (*cb)(void *ctx, const struct store_delivery *d,
                                                         struct mrd_err *err),
                                     void *ctx, struct mrd_err *err)
{
    struct delivery_emit e = {.cb = cb, .ctx = ctx};

    return store__q(
        st, true, "delivery list",
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

enum mrd_code store__delivery_items(struct store *st, int64_t delivery,
                                    enum mrd_code (*cb)(void *ctx,
                                                        const struct store_notification *n,
                                                        struct mrd_err *err),
                                    void *ctx, struct mrd_err *err)
{
    struct store_notification_emit e = {.cb = cb, .ctx = ctx};

    return store__q(st, true, "delivery items",
                    "SELECT " STORE_NOTIFICATION_COLS " FROM delivery_items i"
                    " JOIN notifications n ON n.id = i.notification JOIN orgs o ON o.key = n.org"
                    " WHERE i.delivery = ?1 ORDER BY n.asset_text, n.id",
                    SQ_ARGS(SQ_INT(delivery)), store__notification_emit_row, &e, NULL, err);
}

static enum mrd_code update_op(const struct store_tx *tx, void *args, struct mrd_err *err)
{
    const struct store_delivery *d = *(const struct store_delivery *const *)args;
    uint64_t changed = 0;
    enum mrd_code rc;

    rc = store__tx_run(tx, "delivery update",
                       "UPDATE deliveries SET status = ?2, due = ?3, attempts = ?4, last_try = ?5,"
                       " sent = ?6, error = ?7, ev = ?8 WHERE id = ?1 AND attempts = ?9",
                       SQ_ARGS(SQ_INT(d->id), SQ_INT(d->status), SQ_INT(d->due_usec),
                               SQ_INT(d->attempts), SQ_INT(d->last_try_usec), SQ_INT(d->sent_usec),
                               SQ_STR(d->error), SQ_INT(d->ev), SQ_INT(d->expect_attempts)),
                       NULL, NULL, &changed, err);
    if (rc == MRD_OK && changed > 0 && d->record_attempt)
        rc = store__tx_run(
            tx, "delivery attempt",
            "INSERT INTO delivery_attempts (delivery, time, status, error)"
            " VALUES (?1, ?2, ?3, ?4)",
            SQ_ARGS(SQ_INT(d->id), SQ_INT(d->last_try_usec), SQ_INT(d->status), SQ_STR(d->error)),
            NULL, NULL, NULL, err);
    if (rc == MRD_OK && changed == 0)
        rc = mrd_err_set(err, MRD_E_CONFLICT, "delivery %lld: changed by another round",
                         (long long)d->id);
    return rc;
}

enum mrd_code store__delivery_update(struct store *st, const struct store_delivery *d,
                                     struct mrd_err *err)
{
    return st->ops->driver->write_tx(st, update_op, &d, err);
}

struct attempt_emit {
    enum mrd_code (*cb)(void *ctx, const struct store_delivery_attempt *a, struct mrd_err *err);
    void *ctx;
};

static enum mrd_code attempt_row(void *ctx, const struct store_rowrd *r, struct mrd_err *err)
{
    struct attempt_emit *e = ctx;
    struct store_delivery_attempt a;

    memset(&a, 0, sizeof(a));
    a.delivery = r->i64(r, 0);
    a.time_usec = r->i64(r, 1);
    a.status = (int)r->i64(r, 2);
    store__copy_col(r, 3, a.error, sizeof(a.error));
    return e->cb(e->ctx, &a, err);
}

enum mrd_code store__delivery_attempts(struct store *st, int64_t delivery,
                                       enum mrd_code (*cb)(void *ctx,
                                                           const struct store_delivery_attempt *a,
                                                           struct mrd_err *err),
                                       void *ctx, struct mrd_err *err)
{
    struct attempt_emit e = {.cb = cb, .ctx = ctx};

    return store__q(st, true, "delivery attempts",
                    "SELECT delivery, time, status, error FROM delivery_attempts"
                    " WHERE delivery = ?1 ORDER BY id",
                    SQ_ARGS(SQ_INT(delivery)), attempt_row, &e, NULL, err);
}
