/*
 * store_agg.c: the overview's aggregates (store.h, store_agg_query) and
 * the newest objects received from peers, both backends over their driver.
 *
 * The counters (agg_objects, agg_sightings, agg_sighted) and their keys
 * (agg_keys) are written by triggers on the objects table (SQLite's in
 * store_sqlite.c, PostgreSQL's in store_pg.c: the same tables and rules),
 * so every path that changes a row keeps them right without knowing about
 * them. Here they are only read: the keys first, each handed once to the
 * caller's read decision, then the counters of the readable keys, selected
 * in SQL with the list of those keys (a JSON array the backend's
 * store_driver.int_list reads), so that counters of keys the reader may
 * not read are never even fetched.
 */
#include "store/store_int.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/str.h"

#define KEYS_SQL_MAX ((size_t)STORE_AGG_KEYS_MAX * 24) /* "[k1,k2,...]", "[seq1,...]" */
#define AGG_SQL_MAX 1024                               /* one statement, with the key list's SQL */

/* A readable key, with copies of its strings (the statement moves on). */
struct kept {
    int64_t key, collection;
    struct store_row row; /* policy columns and source_peer, pointing below */
    char *community, *peer;
    int64_t *recipients;
};

struct agg {
    const struct store_tx *tx;
    const char *int_list; /* store_driver.int_list */
    const struct store_agg_query *q;
    struct kept *k;
    size_t n, cap;
    struct mrd_buf all, local; /* JSON arrays of the readable keys, of the local ones */
    size_t seen;               /* keys read */
};

static void kept_release(struct agg *a)
{
    for (size_t i = 0; i < a->n; i++) {
        mrd_free(a->k[i].community);
        mrd_free(a->k[i].peer);
        mrd_free(a->k[i].recipients);
    }
    mrd_free(a->k);
}

static enum mrd_code keep(struct agg *a, int64_t collection, const struct store_row *row,
                          struct mrd_err *err)
{
    struct kept *k;

    if (a->n == a->cap) {
        size_t ncap = a->cap == 0 ? 64 : a->cap * 2;
        struct kept *p = mrd_realloc(a->k, ncap * sizeof(*p));
        if (p == NULL)
            return mrd_err_set(err, MRD_E_NOMEM, "store: out of memory");
        a->k = p;
        a->cap = ncap;
    }
    k = &a->k[a->n];
    memset(k, 0, sizeof(*k));
    k->key = row->seq;
    k->collection = collection;
    k->row = *row;
    k->community = mrd_strndup(row->policy.community, row->policy.community_len);
    k->peer = row->source_peer != NULL ? mrd_strndup(row->source_peer, row->source_peer_len) : NULL;
    if (row->policy.n_recipients > 0)
        k->recipients = mrd_calloc(row->policy.n_recipients, sizeof(int64_t));
    a->n++; /* released with the others, complete or not */
    if (k->community == NULL || (row->source_peer != NULL && k->peer == NULL) ||
        (row->policy.n_recipients > 0 && k->recipients == NULL))
        return mrd_err_set(err, MRD_E_NOMEM, "store: out of memory");
    if (k->recipients != NULL)
        memcpy(k->recipients, row->policy.recipients, row->policy.n_recipients * sizeof(int64_t));
    k->row.policy.community = k->community;
    k->row.policy.recipients = k->recipients;
    k->row.source_peer = k->peer;
    k->row.id = k->row.type = k->row.spec_version = "";
    return MRD_OK;
}

static enum mrd_code add_key(struct mrd_buf *b, int64_t key, struct mrd_err *err)
{
    return mrd_buf_printf(b, err, "%s%" PRId64, b->len > 1 ? "," : "", key);
}

/* head, the SQL listing the integers of the JSON array bound to ?1, tail */
static const char *with_list(char *out, size_t size, const char *head, const char *list,
                             const char *tail)
{
    (void)snprintf(out, size, "%s%s%s", head, list, tail);
    return out;
}

static enum mrd_code key_row(void *ctx, const struct store_rowrd *r, struct mrd_err *err)
{
    struct agg *a = ctx;
    int64_t recipients[STORE_RECIPIENTS_MAX];
    int64_t coll = r->i64(r, SQ_ROW_BODY_COL);
    struct store_row row;
    enum mrd_code rc;

    if (++a->seen > STORE_AGG_KEYS_MAX)
        return mrd_err_set(err, MRD_E_TOOBIG, "store: more than %d aggregate keys",
                           STORE_AGG_KEYS_MAX);
    store__row_from(r, false, &row, recipients);
    if (!a->q->readable(a->q->ctx, coll, &row))
        return MRD_OK;
    rc = keep(a, coll, &row, err);
    if (rc == MRD_OK)
        rc = add_key(&a->all, row.seq, err);
    if (rc == MRD_OK && row.policy.local)
        rc = add_key(&a->local, row.seq, err);
    return rc;
}

/* Loads the keys, keeps the readable ones (ascending key order). */
static enum mrd_code load_keys(struct agg *a, struct mrd_err *err)
{
    /* the columns store__row_from reads, with the key as seq and the
     * collection after them */
    enum mrd_code rc = store__tx_run(
        a->tx, "aggregate keys",
        "SELECT k.key, 0, '', '', '', NULL, NULL, 0, 0, k.tlp, k.local, k.creator_org,"
        " NULLIF(k.source_peer, ''), k.community, k.recipients, (k.writer_only << 5), k.collection"
        " FROM agg_keys k ORDER BY k.key",
        SQ_NOARGS, key_row, a, NULL, err);

    if (rc == MRD_OK)
        rc = mrd_buf_append(&a->all, "]", 1, err);
    if (rc == MRD_OK)
        rc = mrd_buf_append(&a->local, "]", 1, err);
    return rc;
}

static int by_key(const void *key, const void *elem)
{
    int64_t k = *(const int64_t *)key, e = ((const struct kept *)elem)->key;

    return k < e ? -1 : k > e ? 1 : 0;
}

struct cells_ctx {
    struct agg *a;
    bool with_count;
    enum mrd_code (*cb)(void *, const struct store_agg_cell *, struct mrd_err *);
};

static enum mrd_code cell_row(void *ctx, const struct store_rowrd *r, struct mrd_err *err)
{
    struct cells_ctx *x = ctx;
    int64_t key = r->i64(r, 1);
    const struct kept *k = bsearch(&key, x->a->k, x->a->n, sizeof(*x->a->k), by_key);
    struct store_agg_cell cell = {.hour_usec = r->i64(r, 0) * STORE_HOUR_USEC, .n = r->i64(r, 3)};

    if (k == NULL)
        return MRD_OK; /* not asked for: cannot happen */
    cell.key = &k->row;
    cell.collection = k->collection;
    cell.name = r->text(r, 2, &cell.name_len);
    cell.count = x->with_count ? r->i64(r, 4) : cell.n;
    return x->cb(x->a->q->ctx, &cell, err);
}

/* One counter table: hour, key, name, n[, count] rows of readable keys
 * (columns of table, hours from ?2, keys in the list at ?1). */
static enum mrd_code cells(struct agg *a, const char *cols, bool with_count,
                           enum mrd_code (*cb)(void *, const struct store_agg_cell *,
                                               struct mrd_err *),
                           struct mrd_err *err)
{
    struct cells_ctx x = {.a = a, .with_count = with_count, .cb = cb};
    char sql[AGG_SQL_MAX];

    return store__tx_run(
        a->tx, "aggregates", with_list(sql, sizeof(sql), cols, a->int_list, ") AND n <> 0"),
        SQ_ARGS(SQ_TEXT(a->all.data, a->all.len), SQ_INT(a->q->since_usec / STORE_HOUR_USEC)),
        cell_row, &x, NULL, err);
}

static enum mrd_code top_row(void *ctx, const struct store_rowrd *r, struct mrd_err *err)
{
    struct agg *a = ctx;
    struct store_agg_top t = {.count = r->i64(r, 1), .n = r->i64(r, 2)};

    t.id = r->text(r, 0, &t.id_len);
    return a->q->top_cb(a->q->ctx, &t, err);
}

static enum mrd_code top(struct agg *a, struct mrd_err *err)
{
    char sql[AGG_SQL_MAX];

    /* the window's days by primary key (a LIMIT, here none in effect,
     * keeps SQLite's planner from walking agg_sighted_indicator for the
     * GROUP BY instead: every day ever, 50 times slower for a day's
     * window); sums as BIGINT (PostgreSQL's SUM of a BIGINT is a NUMERIC) */
    return store__tx_run(
        a->tx, "most sighted",
        with_list(sql, sizeof(sql),
                  "SELECT indicator, CAST(SUM(c) AS BIGINT), CAST(SUM(n) AS BIGINT) FROM"
                  " (SELECT indicator, count AS c, n FROM agg_sighted WHERE day >= ?2 AND key IN (",
                  a->int_list,
                  ") LIMIT ?4) AS w GROUP BY indicator HAVING SUM(n) > 0"
                  " ORDER BY 2 DESC, 3 DESC, 1 LIMIT ?3"),
        SQ_ARGS(SQ_TEXT(a->all.data, a->all.len), SQ_INT(a->q->since_usec / (24 * STORE_HOUR_USEC)),
                SQ_INT((int64_t)a->q->top), SQ_INT(INT64_MAX)),
        top_row, a, NULL, err);
}

static enum mrd_code sighted(struct agg *a, struct mrd_err *err)
{
    enum mrd_code rc = MRD_OK;
    char sql[AGG_SQL_MAX];

    (void)with_list(sql, sizeof(sql),
                    "SELECT 1 FROM agg_sighted WHERE indicator = ?2 AND day >= ?3 AND n > 0"
                    " AND key IN (",
                    a->int_list, ") LIMIT 1");
    for (size_t i = 0; i < a->q->n_ids && rc == MRD_OK; i++) {
        uint64_t n = 0;
        rc = store__tx_run(a->tx, "sighted here", sql,
                           SQ_ARGS(SQ_TEXT(a->local.data, a->local.len), SQ_STR(a->q->ids[i]),
                                   SQ_INT(a->q->since_usec / (24 * STORE_HOUR_USEC))),
                           NULL, NULL, &n, err);
        if (rc == MRD_OK && n > 0)
            a->q->sighted(a->q->ctx, i);
    }
    return rc;
}

static enum mrd_code agg_op(const struct store_tx *tx, void *args, struct mrd_err *err)
{
    struct agg *a = args;
    const struct store_agg_query *q = a->q;
    enum mrd_code rc;

    a->tx = tx;
    rc = load_keys(a, err);
    if (rc == MRD_OK && q->objects != NULL)
        rc = cells(a, "SELECT hour, key, type, n FROM agg_objects WHERE hour >= ?2 AND key IN (",
                   false, q->objects, err);
    if (rc == MRD_OK && q->sightings != NULL)
        rc = cells(a,
                   "SELECT hour, key, reporter, n, count FROM agg_sightings WHERE hour >= ?2"
                   " AND key IN (",
                   true, q->sightings, err);
    if (rc == MRD_OK && q->sent != NULL)
        rc = cells(a, "SELECT hour, key, dest, n FROM agg_sent WHERE hour >= ?2 AND key IN (",
                   false, q->sent, err);
    if (rc == MRD_OK && q->top > 0)
        rc = top(a, err);
    if (rc == MRD_OK && q->n_ids > 0)
        rc = sighted(a, err);
    return rc;
}

enum mrd_code store__agg_query(struct store *st, const struct store_agg_query *q,
                               struct mrd_err *err)
{
    struct agg a = {.q = q, .int_list = st->ops->driver->int_list};
    enum mrd_code rc;

    mrd_buf_init(&a.all, KEYS_SQL_MAX);
    mrd_buf_init(&a.local, KEYS_SQL_MAX);
    rc = mrd_buf_append(&a.all, "[", 1, err);
    if (rc == MRD_OK)
        rc = mrd_buf_append(&a.local, "[", 1, err);
    /* one snapshot (the thread's pinned one where the backend has one) */
    if (rc == MRD_OK)
        rc = st->ops->driver->read_tx(st, agg_op, &a, err);
    kept_release(&a);
    mrd_buf_release(&a.all);
    mrd_buf_release(&a.local);
    return rc;
}

#define NEWEST_PAGE 256 /* rows read per step of the newest-first walk */

struct newest_ctx {
    const struct store_newest *q;
    size_t emitted, rows;
    int64_t last; /* date_added of the last row read */
};

static enum mrd_code newest_row(void *ctx, const struct store_rowrd *r, struct mrd_err *err)
{
    struct newest_ctx *x = ctx;
    int64_t recipients[STORE_RECIPIENTS_MAX];
    struct store_row row;
    enum mrd_code rc;

    store__row_from(r, false, &row, recipients);
    x->rows++;
    x->last = row.date_added;
    if (x->emitted >= x->q->limit || !x->q->visible(x->q->ctx, &row))
        return MRD_OK;
    rc = x->q->emit(x->q->ctx, &row, err);
    if (rc == MRD_OK)
        x->emitted++;
    return rc;
}

static enum mrd_code newest_op(const struct store_tx *tx, void *args, struct mrd_err *err)
{
    struct newest_ctx *x = args;
    const struct store_newest *q = x->q;
    enum mrd_code rc;

    /* objects_from_peers holds only the rows received from peers; newest
     * first, a page at a time, until limit rows were visible */
    do {
        x->rows = 0;
        rc = store__tx_run(tx, "newest objects",
                           "SELECT " SQ_ROW_COLS " FROM objects o WHERE o.collection = ?1"
                           " AND o.type = ?2 AND o.source_peer IS NOT NULL AND o.date_added > ?3"
                           " AND o.date_added < ?4 ORDER BY o.date_added DESC LIMIT ?5",
                           SQ_ARGS(SQ_INT(q->collection), SQ_STR(q->type), SQ_INT(q->added_after),
                                   SQ_INT(x->last), SQ_INT(NEWEST_PAGE)),
                           newest_row, x, NULL, err);
    } while (rc == MRD_OK && x->rows == NEWEST_PAGE && x->emitted < q->limit);
    return rc;
}

enum mrd_code store__objects_newest(struct store *st, const struct store_newest *q,
                                    struct mrd_err *err)
{
    struct newest_ctx x = {.q = q, .last = INT64_MAX};

    return st->ops->driver->read_tx(st, newest_op, &x, err);
}

struct sent_args {
    const char *int_list; /* store_driver.int_list */
    const char *dest;
    int64_t hour;
    const struct mrd_buf *list;
};

static enum mrd_code sent_op(const struct store_tx *tx, void *args, struct mrd_err *err)
{
    const struct sent_args *s = args;
    char sql[AGG_SQL_MAX];

    return store__tx_run(
        tx, "sent record",
        with_list(sql, sizeof(sql),
                  "INSERT INTO agg_sent (hour, key, dest, n) SELECT ?2, k.key, ?3, COUNT(*)"
                  " FROM objects o JOIN agg_keys k ON (k.collection, k.tlp, k.local,"
                  " k.creator_org, k.community, k.recipients, k.writer_only, k.source_peer) ="
                  " (o.collection, o.tlp, o.local, o.creator_org, o.community,"
                  " COALESCE(o.recipients, ''), o.writer_only, COALESCE(o.source_peer, ''))"
                  " WHERE o.seq IN (",
                  s->int_list,
                  ") GROUP BY k.key ON CONFLICT (hour, key, dest) DO UPDATE"
                  " SET n = agg_sent.n + excluded.n"),
        SQ_ARGS(SQ_TEXT(s->list->data, s->list->len), SQ_INT(s->hour), SQ_STR(s->dest)), NULL, NULL,
        NULL, err);
}

enum mrd_code store__sent_record(struct store *st, const char *dest, const int64_t *seqs, size_t n,
                                 int64_t at_usec, struct mrd_err *err)
{
    struct mrd_buf list;
    struct sent_args a = {st->ops->driver->int_list, dest, at_usec / STORE_HOUR_USEC, &list};
    enum mrd_code rc;

    mrd_buf_init(&list, KEYS_SQL_MAX);
    rc = mrd_buf_putc(&list, '[', err);
    for (size_t i = 0; i < n && rc == MRD_OK; i++)
        rc = add_key(&list, seqs[i], err);
    if (rc == MRD_OK)
        rc = mrd_buf_putc(&list, ']', err);
    if (rc == MRD_OK)
        rc = st->ops->driver->write_tx(st, sent_op, &a, err);
    mrd_buf_release(&list);
    return rc;
}
