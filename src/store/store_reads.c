/*
 * store_reads.c: the access audit (store.h, "the access audit"), written
 * once for both backends over their driver (store_int.h).
 *
 * Tables (SQLite schema 16, PostgreSQL schema 8): access_pages (one row
 * per read: the audit rows first..first+n-1 of one group, their items
 * packed in binary in `packed` since SQLite 18 / PostgreSQL 13,
 * store_readpack.c; pages written before hold text items in `items`,
 * store_read_item_next, and `packed` NULL; numbers are never handed out
 * twice, even after a prune: the next is past both the last page and the
 * last digest) and access_digests (sealed runs of rows, each with the
 * ledger event that records it). Triggers refuse any UPDATE of a page and
 * any DELETE of a page no digest seals: the only way rows leave is
 * store_reads_prune, a whole sealed run at a time. A digest never ends
 * inside a stored row: a page's rows share their time, and a merged row
 * (schema 20: the pages of one reader in one round of serve's audit
 * thread, each with its time, store_readpack.c) holds one UTC day only and
 * is sealed whole by its time column, the latest of its pages' (rows
 * carry it as stored_usec). Two writers that number a page alike (PostgreSQL front-ends)
 * collide on the primary key: the later one numbers again (record).
 */
#include <inttypes.h>
#include <string.h>

#include "store/store_int.h"

#define RECORD_TRIES 8     /* PostgreSQL: numbering again after a collision */
#define LIST_PAGES_MAX 256 /* pages one listing statement fetches */

struct record_args {
    const struct store_read_batch *b;
    size_t nb;
};

static enum mrd_code record_op(const struct store_tx *tx, void *args, struct mrd_err *err)
{
    const struct record_args *a = args;
    int64_t last_page = 0, last_sealed = 0, next;
    enum mrd_code rc;

    rc = store__tx_run(tx, "access audit",
                       "SELECT first + n - 1 FROM access_pages ORDER BY first DESC LIMIT 1",
                       SQ_NOARGS, store__i64_row, &last_page, NULL, err);
    if (rc == MRD_OK)
        rc = store__tx_run(tx, "access audit", "SELECT COALESCE(MAX(last), 0) FROM access_digests",
                           SQ_NOARGS, store__i64_row, &last_sealed, NULL, err);
    next = (last_page > last_sealed ? last_page : last_sealed) + 1;
    for (size_t i = 0; i < a->nb && rc == MRD_OK; i++) {
        const struct store_read_batch *g = &a->b[i];
        rc = store__tx_run(tx, "access audit",
                           "INSERT INTO access_pages (first, n, time, org, token, path, items,"
                           " packed) VALUES (?1, ?2, ?3, ?4, ?5, ?6, '', ?7)",
                           SQ_ARGS(SQ_INT(next), SQ_INT(g->n), SQ_INT(g->who.time_usec),
                                   SQ_STR(g->who.org), SQ_STR(g->who.token), SQ_STR(g->who.path),
                                   SQ_BLOB(g->packed, g->packed_len)),
                           NULL, NULL, NULL, err);
        next += (int64_t)g->n;
    }
    return rc;
}

enum mrd_code store__reads_record_tx(const struct store_tx *tx, const struct store_read_batch *b,
                                     size_t nb, struct mrd_err *err)
{
    struct record_args a = {b, nb};

    return record_op(tx, &a, err);
}

enum mrd_code store__reads_record(struct store *st, const struct store_read_batch *b, size_t nb,
                                  struct mrd_err *err)
{
    struct record_args a = {b, nb};
    enum mrd_code rc = MRD_E_EXISTS;

    for (int i = 0; i < RECORD_TRIES && rc == MRD_E_EXISTS; i++) {
        if (i > 0)
            mrd_err_clear(err);
        rc = st->ops->driver->write_tx(st, record_op, &a, err);
    }
    return rc;
}

struct list_ctx {
    const struct store_read_filter *f;
    enum mrd_code (*cb)(void *ctx, const struct store_read_row *r, struct mrd_err *err);
    void *ctx;
    size_t seen, pages;
    int64_t last_first; /* the last page seen */
    bool more;
    struct store_read_unpack u;
};

/* Hands row r (its number set) to the caller when f selects it. Stops the
 * statement (MRD_E_EXISTS, with more set) at the first row past the
 * limit. */
static enum mrd_code list_row(struct list_ctx *x, const struct store_read_row *r,
                              struct mrd_err *err)
{
    const struct store_read_filter *f = x->f;

    if (r->id <= f->after_id || (f->through_id != 0 && r->id > f->through_id))
        return MRD_OK;
    /* a merged row's time column is its latest page's: the SQL selects
     * the stored rows, this the rows of the pages read since */
    if (f->since_usec != STORE_TIME_NONE && r->time_usec < f->since_usec)
        return MRD_OK;
    if (f->object_id != NULL && (strlen(f->object_id) != r->object_id_len ||
                                 memcmp(f->object_id, r->object_id, r->object_id_len) != 0))
        return MRD_OK;
    if (++x->seen > f->limit) {
        x->more = true;
        return MRD_E_EXISTS; /* stops the statement: not an error */
    }
    return x->cb(x->ctx, r, err);
}

/* Expands one stored row into its rows: packed (schema 18 on), merged
 * (schema 20 on: each page with its time) or, written before, text
 * items. */
static enum mrd_code list_page(void *ctx, const struct store_rowrd *rd, struct mrd_err *err)
{
    struct list_ctx *x = ctx;
    struct store_read_row r;
    int64_t first = rd->i64(rd, 0), n = rd->i64(rd, 1), k = 0;
    size_t len, at = 0;
    const char *items;
    enum mrd_code rc = MRD_OK;
    bool whole;

    x->pages++;
    x->last_first = first;
    r.time_usec = rd->i64(rd, 2);
    r.stored_usec = r.time_usec;
    r.org = rd->text(rd, 3, &len);
    r.token = rd->text(rd, 4, &len);
    r.path = rd->text(rd, 5, &len);
    if (!rd->null(rd, 7)) {
        const uint8_t *p = (const uint8_t *)rd->blob(rd, 7, &len);
        int got = 0;

        if (!store_read_unpack_init(&x->u, p, len))
            return mrd_err_set(err, MRD_E_INVALID,
                               "access audit: page %" PRId64 " is not a packed page", first);
        for (; k < n && rc == MRD_OK && (got = store_read_unpack_next(&x->u, &r)) == 1; k++) {
            r.id = first + k;
            rc = list_row(x, &r, err);
        }
        if (rc != MRD_OK)
            return rc;
        whole = got >= 0 && k == n && store_read_unpack_next(&x->u, &r) == 0;
    } else {
        items = rd->text(rd, 6, &len);
        for (; k < n && rc == MRD_OK; k++) {
            size_t used = store_read_item_next(items + at, len - at, &r);
            if (used == 0)
                break;
            at += used;
            r.id = first + k;
            rc = list_row(x, &r, err);
        }
        if (rc != MRD_OK)
            return rc;
        whole = k == n && at == len;
    }
    if (!whole)
        return mrd_err_set(err, MRD_E_INVALID,
                           "access audit: page %" PRId64 " (rows %" PRId64 "..%" PRId64
                           ") is malformed at row %" PRId64,
                           first, first, first + n - 1, first + k);
    return MRD_OK;
}

enum mrd_code store__reads_list(struct store *st, const struct store_read_filter *f,
                                enum mrd_code (*cb)(void *ctx, const struct store_read_row *r,
                                                    struct mrd_err *err),
                                void *ctx, bool *ret_more, struct mrd_err *err)
{
    struct list_ctx x = {.f = f, .cb = cb, .ctx = ctx};
    /* the page that holds the row after f->after_id starts at most
     * STORE_READS_MAX rows before it */
    int64_t after_page = f->after_id - STORE_READS_MAX;
    enum mrd_code rc = MRD_OK;

    /* in row order, LIST_PAGES_MAX pages a statement; the object and org
     * filters scan (no index: every read pays for an index, a query
     * rarely runs) */
    while (rc == MRD_OK && !x.more) {
        x.pages = 0;
        rc = st->ops->driver->query(
            st, true, "access audit",
            "SELECT first, n, time, org, token, path, items, packed FROM access_pages"
            " WHERE first > ?1 AND first + n - 1 > ?2 AND (?3 = 0 OR first <= ?3)"
            " AND (?4 IS NULL OR org = ?4) AND time >= ?5 ORDER BY first LIMIT ?6",
            SQ_ARGS(SQ_INT(after_page), SQ_INT(f->after_id), SQ_INT(f->through_id), SQ_STR(f->org),
                    SQ_INT(f->since_usec == STORE_TIME_NONE ? INT64_MIN : f->since_usec),
                    SQ_INT(LIST_PAGES_MAX)),
            list_page, &x, NULL, err);
        if (x.pages < LIST_PAGES_MAX)
            break;
        after_page = x.last_first;
    }
    if (rc == MRD_E_EXISTS && x.more) {
        mrd_err_clear(err);
        rc = MRD_OK;
    }
    if (ret_more != NULL)
        *ret_more = x.more;
    return rc;
}

struct seal_args {
    struct store_read_digest *d;
    const struct store_ledger_event *ev;
};

static enum mrd_code seal_op(const struct store_tx *tx, void *args, struct mrd_err *err)
{
    struct seal_args *a = args;
    struct store_read_digest *d = a->d;
    int64_t last = 0;
    enum mrd_code rc;

    rc = store__tx_run(tx, "access digest", "SELECT COALESCE(MAX(last), 0) FROM access_digests",
                       SQ_NOARGS, store__i64_row, &last, NULL, err);
    if (rc == MRD_OK && d->first <= last)
        rc = mrd_err_set(err, MRD_E_EXISTS, "access audit rows up to %" PRId64 " are sealed", last);
    if (rc == MRD_OK)
        rc = store__queue_event(tx, a->ev, &d->ev, err);
    if (rc == MRD_OK)
        rc = store__tx_run(tx, "access digest",
                           "INSERT INTO access_digests (first, last, n, time_from, time_to, hash,"
                           " ev) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) RETURNING id",
                           SQ_ARGS(SQ_INT(d->first), SQ_INT(d->last), SQ_INT(d->count),
                                   SQ_INT(d->from_usec), SQ_INT(d->to_usec),
                                   SQ_BLOB(d->hash, sizeof(d->hash)), SQ_INT(d->ev)),
                           store__i64_row, &d->id, NULL, err);
    return rc;
}

enum mrd_code store__reads_seal(struct store *st, struct store_read_digest *d,
                                const struct store_ledger_event *ev, struct mrd_err *err)
{
    struct seal_args a = {d, ev};

    return st->ops->driver->write_tx(st, seal_op, &a, err);
}

struct digests_ctx {
    enum mrd_code (*cb)(void *ctx, const struct store_read_digest *d, struct mrd_err *err);
    void *ctx;
};

static enum mrd_code digest_row(void *ctx, const struct store_rowrd *r, struct mrd_err *err)
{
    struct digests_ctx *x = ctx;
    struct store_read_digest d = {0};
    size_t hlen = 0;
    const char *h = r->blob(r, 6, &hlen);

    d.id = r->i64(r, 0);
    d.first = r->i64(r, 1);
    d.last = r->i64(r, 2);
    d.count = (uint64_t)r->i64(r, 3);
    d.from_usec = r->i64(r, 4);
    d.to_usec = r->i64(r, 5);
    if (h != NULL && hlen == sizeof(d.hash))
        memcpy(d.hash, h, sizeof(d.hash));
    d.ev = r->i64(r, 7);
    d.pruned_usec = r->null(r, 8) ? STORE_TIME_NONE : r->i64(r, 8);
    d.leaf = r->null(r, 9) ? -1 : r->i64(r, 9);
    d.record = r->text(r, 10, &d.record_len);
    return x->cb(x->ctx, &d, err);
}

enum mrd_code store__reads_digests(struct store *st,
                                   enum mrd_code (*cb)(void *ctx, const struct store_read_digest *d,
                                                       struct mrd_err *err),
                                   void *ctx, struct mrd_err *err)
{
    struct digests_ctx x = {cb, ctx};

    return st->ops->driver->query(st, true, "access digests",
                                  "SELECT d.id, d.first, d.last, d.n, d.time_from, d.time_to,"
                                  " d.hash, d.ev, d.pruned, e.leaf, e.record FROM access_digests d"
                                  " LEFT JOIN ledger_events e ON e.ev = d.ev ORDER BY d.id",
                                  SQ_NOARGS, digest_row, &x, NULL, err);
}

struct prune_args {
    int64_t before, now, rows;
};

static enum mrd_code prune_op(const struct store_tx *tx, void *args, struct mrd_err *err)
{
    struct prune_args *a = args;
    enum mrd_code rc;

    rc = store__tx_run(tx, "access audit prune",
                       "SELECT CAST(COALESCE(SUM(p.n), 0) AS BIGINT) FROM access_digests d"
                       " JOIN access_pages p ON p.first BETWEEN d.first AND d.last"
                       " WHERE d.pruned IS NULL AND d.time_to < ?1",
                       SQ_ARGS(SQ_INT(a->before)), store__i64_row, &a->rows, NULL, err);
    if (rc == MRD_OK)
        rc = store__tx_run(tx, "access audit prune",
                           "DELETE FROM access_pages WHERE first IN (SELECT p.first"
                           " FROM access_digests d"
                           " JOIN access_pages p ON p.first BETWEEN d.first AND d.last"
                           " WHERE d.pruned IS NULL AND d.time_to < ?1)",
                           SQ_ARGS(SQ_INT(a->before)), NULL, NULL, NULL, err);
    if (rc == MRD_OK)
        rc = store__tx_run(
            tx, "access audit prune",
            "UPDATE access_digests SET pruned = ?2 WHERE pruned IS NULL AND time_to < ?1",
            SQ_ARGS(SQ_INT(a->before), SQ_INT(a->now)), NULL, NULL, NULL, err);
    return rc;
}

enum mrd_code store__reads_prune(struct store *st, int64_t before_usec, int64_t now_usec,
                                 uint64_t *ret_rows, struct mrd_err *err)
{
    struct prune_args a = {before_usec, now_usec, 0};
    enum mrd_code rc = st->ops->driver->write_tx(st, prune_op, &a, err);

    if (rc == MRD_OK && ret_rows != NULL)
        *ret_rows = (uint64_t)a.rows;
    return rc;
}
