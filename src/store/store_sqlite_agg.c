/*
 * store_sqlite_agg.c: the overview's aggregates in the SQLite store
 * (store.h, store_agg_query) and the newest objects received from peers.
 *
 * The counters (agg_objects, agg_sightings, agg_sighted) and their keys
 * (agg_keys) are written by triggers on the objects table (store_sqlite.c,
 * AGG_SCHEMA), so every path that changes a row keeps them right without
 * knowing about them. Here they are only read: the keys first, each handed
 * once to the caller's read decision, then the counters of the readable
 * keys, selected in SQL with the list of those keys (json_each), so that
 * counters of keys the reader may not read are never even fetched.
 */
#include "store/store_int.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/str.h"

#define KEYS_SQL_MAX ((size_t)STORE_AGG_KEYS_MAX * 24) /* "[k1,k2,...]", "[seq1,...]" */

/* A readable key, with copies of its strings (the statement moves on). */
struct kept {
    int64_t key, collection;
    struct store_row row; /* policy columns and source_peer, pointing below */
    char *community, *peer;
    int64_t *recipients;
};

struct agg {
    struct sq_conn *c;
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

static enum mrd_code key_row(void *ctx, sqlite3_stmt *st, struct mrd_err *err)
{
    struct agg *a = ctx;
    int64_t recipients[STORE_RECIPIENTS_MAX];
    int64_t coll = sqlite3_column_int64(st, SQ_ROW_BODY_COL);
    struct store_row row;
    enum mrd_code rc;

    if (++a->seen > STORE_AGG_KEYS_MAX)
        return mrd_err_set(err, MRD_E_TOOBIG, "store: more than %d aggregate keys",
                           STORE_AGG_KEYS_MAX);
    sq__row_from_stmt(st, false, &row, recipients);
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
    /* the columns sq__row_from_stmt reads, with the key as seq and the
     * collection after them */
    enum mrd_code rc = sq__run(
        a->c, "aggregate keys",
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

static enum mrd_code cell_row(void *ctx, sqlite3_stmt *st, struct mrd_err *err)
{
    struct cells_ctx *x = ctx;
    int64_t key = sqlite3_column_int64(st, 1);
    const struct kept *k = bsearch(&key, x->a->k, x->a->n, sizeof(*x->a->k), by_key);
    struct store_agg_cell cell = {.hour_usec = sqlite3_column_int64(st, 0) * STORE_HOUR_USEC,
                                  .n = sqlite3_column_int64(st, 3)};

    if (k == NULL)
        return MRD_OK; /* not asked for: cannot happen */
    cell.key = &k->row;
    cell.collection = k->collection;
    cell.name = sq__text(st, 2, &cell.name_len);
    cell.count = x->with_count ? sqlite3_column_int64(st, 4) : cell.n;
    return x->cb(x->a->q->ctx, &cell, err);
}

/* One counter table: hour, key, name, n[, count] rows of readable keys. */
static enum mrd_code cells(struct agg *a, const char *sql, bool with_count,
                           enum mrd_code (*cb)(void *, const struct store_agg_cell *,
                                               struct mrd_err *),
                           struct mrd_err *err)
{
    struct cells_ctx x = {.a = a, .with_count = with_count, .cb = cb};

    return sq__run(
        a->c, "aggregates", sql,
        SQ_ARGS(SQ_INT(a->q->since_usec / STORE_HOUR_USEC), SQ_TEXT(a->all.data, a->all.len)),
        cell_row, &x, NULL, err);
}

static enum mrd_code top_row(void *ctx, sqlite3_stmt *st, struct mrd_err *err)
{
    struct agg *a = ctx;
    struct store_agg_top t = {.count = sqlite3_column_int64(st, 1),
                              .n = sqlite3_column_int64(st, 2)};

    t.id = sq__text(st, 0, &t.id_len);
    return a->q->top_cb(a->q->ctx, &t, err);
}

static enum mrd_code top(struct agg *a, struct mrd_err *err)
{
    /* the window's days by primary key (LIMIT -1 keeps the planner from
     * walking agg_sighted_indicator for the GROUP BY instead: every day
     * ever, 50 times slower for a day's window) */
    return sq__run(a->c, "most sighted",
                   "SELECT indicator, SUM(c), SUM(n) FROM (SELECT indicator, count AS c, n"
                   " FROM agg_sighted WHERE day >= ?1 AND key IN (SELECT value FROM"
                   " json_each(?2)) LIMIT -1) GROUP BY indicator HAVING SUM(n) > 0"
                   " ORDER BY 2 DESC, 3 DESC, 1 LIMIT ?3",
                   SQ_ARGS(SQ_INT(a->q->since_usec / (24 * STORE_HOUR_USEC)),
                           SQ_TEXT(a->all.data, a->all.len), SQ_INT((int64_t)a->q->top)),
                   top_row, a, NULL, err);
}

static enum mrd_code sighted(struct agg *a, struct mrd_err *err)
{
    enum mrd_code rc = MRD_OK;

    for (size_t i = 0; i < a->q->n_ids && rc == MRD_OK; i++) {
        uint64_t n = 0;
        rc =
            sq__run(a->c, "sighted here",
                    "SELECT 1 FROM agg_sighted WHERE indicator = ?1 AND day >= ?2 AND n > 0"
                    " AND key IN (SELECT value FROM json_each(?3)) LIMIT 1",
                    SQ_ARGS(SQ_STR(a->q->ids[i]), SQ_INT(a->q->since_usec / (24 * STORE_HOUR_USEC)),
                            SQ_TEXT(a->local.data, a->local.len)),
                    NULL, NULL, &n, err);
        if (rc == MRD_OK && n > 0)
            a->q->sighted(a->q->ctx, i);
    }
    return rc;
}

/* A read connection in a read transaction (a snapshot), unless the
 * thread's pinned one already has one open (store_read_begin). */
static enum mrd_code read_begin(struct sq_store *s, struct sq_conn **ret, bool *ret_began,
                                struct mrd_err *err)
{
    enum mrd_code rc = sq__acquire_read(s, ret, err);

    *ret_began = false;
    if (rc != MRD_OK || !sqlite3_get_autocommit((*ret)->db))
        return rc;
    rc = sq__exec(*ret, "BEGIN", err);
    *ret_began = rc == MRD_OK;
    return rc;
}

enum mrd_code sq__agg_query(struct store *stp, const struct store_agg_query *q, struct mrd_err *err)
{
    struct sq_store *s = (struct sq_store *)stp;
    struct agg a = {.q = q};
    bool began = false;
    enum mrd_code rc;

    mrd_buf_init(&a.all, KEYS_SQL_MAX);
    mrd_buf_init(&a.local, KEYS_SQL_MAX);
    rc = mrd_buf_append(&a.all, "[", 1, err);
    if (rc == MRD_OK)
        rc = mrd_buf_append(&a.local, "[", 1, err);
    if (rc == MRD_OK)
        rc = read_begin(s, &a.c, &began, err);
    if (rc != MRD_OK)
        goto out;
    rc = load_keys(&a, err);
    if (rc == MRD_OK && q->objects != NULL)
        rc = cells(&a,
                   "SELECT hour, key, type, n FROM agg_objects WHERE hour >= ?1"
                   " AND key IN (SELECT value FROM json_each(?2)) AND n <> 0",
                   false, q->objects, err);
    if (rc == MRD_OK && q->sightings != NULL)
        rc = cells(&a,
                   "SELECT hour, key, reporter, n, count FROM agg_sightings WHERE hour >= ?1"
                   " AND key IN (SELECT value FROM json_each(?2)) AND n <> 0",
                   true, q->sightings, err);
    if (rc == MRD_OK && q->sent != NULL)
        rc = cells(&a,
                   "SELECT hour, key, dest, n FROM agg_sent WHERE hour >= ?1"
                   " AND key IN (SELECT value FROM json_each(?2)) AND n <> 0",
                   false, q->sent, err);
    if (rc == MRD_OK && q->top > 0)
        rc = top(&a, err);
    if (rc == MRD_OK && q->n_ids > 0)
        rc = sighted(&a, err);
out:
    if (began)
        sq__rollback(a.c); /* read-only */
    if (a.c != NULL)
        sq__release(s, a.c);
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

static enum mrd_code newest_row(void *ctx, sqlite3_stmt *st, struct mrd_err *err)
{
    struct newest_ctx *x = ctx;
    int64_t recipients[STORE_RECIPIENTS_MAX];
    struct store_row row;
    enum mrd_code rc;

    sq__row_from_stmt(st, false, &row, recipients);
    x->rows++;
    x->last = row.date_added;
    if (x->emitted >= x->q->limit || !x->q->visible(x->q->ctx, &row))
        return MRD_OK;
    rc = x->q->emit(x->q->ctx, &row, err);
    if (rc == MRD_OK)
        x->emitted++;
    return rc;
}

enum mrd_code sq__objects_newest(struct store *stp, const struct store_newest *q,
                                 struct mrd_err *err)
{
    struct sq_store *s = (struct sq_store *)stp;
    struct newest_ctx x = {.q = q, .last = INT64_MAX};
    struct sq_conn *c = NULL;
    bool began = false;
    enum mrd_code rc;

    rc = read_begin(s, &c, &began, err);
    if (rc != MRD_OK)
        goto out;
    /* objects_from_peers holds only the rows received from peers; newest
     * first, a page at a time, until limit rows were visible */
    do {
        x.rows = 0;
        rc = sq__run(c, "newest objects",
                     "SELECT " SQ_ROW_COLS " FROM objects o WHERE o.collection = ?1"
                     " AND o.type = ?2 AND o.source_peer IS NOT NULL AND o.date_added > ?3"
                     " AND o.date_added < ?4 ORDER BY o.date_added DESC LIMIT ?5",
                     SQ_ARGS(SQ_INT(q->collection), SQ_STR(q->type), SQ_INT(q->added_after),
                             SQ_INT(x.last), SQ_INT(NEWEST_PAGE)),
                     newest_row, &x, NULL, err);
    } while (rc == MRD_OK && x.rows == NEWEST_PAGE && x.emitted < q->limit);
out:
    if (began)
        sq__rollback(c);
    if (c != NULL)
        sq__release(s, c);
    return rc;
}

enum mrd_code sq__sent_record(struct store *stp, const char *dest, const int64_t *seqs, size_t n,
                              int64_t at_usec, struct mrd_err *err)
{
    struct sq_store *s = (struct sq_store *)stp;
    struct mrd_buf list;
    struct sq_conn *c = NULL;
    enum mrd_code rc;

    mrd_buf_init(&list, KEYS_SQL_MAX);
    rc = mrd_buf_putc(&list, '[', err);
    for (size_t i = 0; i < n && rc == MRD_OK; i++)
        rc = add_key(&list, seqs[i], err);
    if (rc == MRD_OK)
        rc = mrd_buf_putc(&list, ']', err);
    if (rc == MRD_OK)
        rc = sq__acquire(s, &c, err);
    if (rc != MRD_OK)
        goto out;
    rc = sq__exec(c, "BEGIN IMMEDIATE", err);
    if (rc == MRD_OK)
        rc = sq__run(
            c, "sent record",
            "INSERT INTO agg_sent (hour, key, dest, n) SELECT ?1, k.key, ?2, COUNT(*)"
            " FROM objects o JOIN agg_keys k ON (k.collection, k.tlp, k.local, k.creator_org,"
            " k.community, k.recipients, k.writer_only, k.source_peer) = (o.collection, o.tlp,"
            " o.local, o.creator_org, o.community, IFNULL(o.recipients, ''), o.writer_only,"
            " IFNULL(o.source_peer, '')) WHERE o.seq IN (SELECT value FROM json_each(?3))"
            " GROUP BY k.key ON CONFLICT DO UPDATE SET n = n + excluded.n",
            SQ_ARGS(SQ_INT(at_usec / STORE_HOUR_USEC), SQ_STR(dest), SQ_TEXT(list.data, list.len)),
            NULL, NULL, NULL, err);
    if (rc == MRD_OK)
        rc = sq__exec(c, "COMMIT", err);
    if (rc != MRD_OK)
        sq__rollback(c);
out:
    if (c != NULL)
        sq__release(s, c);
    mrd_buf_release(&list);
    return rc;
}
