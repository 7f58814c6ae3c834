/*
 * store_ledger.c: the ledger queue (store.h, "the ledger queue"), written
 * once for both backends over their driver (store_int.h).
 *
 * Tables: ledger_events (preservation and audit actions waiting for, then
 * recorded in, the ledger; leaf NULL until recorded) and object_leaves
 * (object seq -> the leaf recording it). The object versions the ledger
 * lacks are those above object_leaves' highest seq: seqs are handed out
 * and committed in increasing order, one writer at a time (SQLite's write
 * lock; PostgreSQL's write lock, store_pg.c), so ingest writes nothing for
 * the ledger and the queue costs the insert path no row and no index.
 */
#include "store/store_int.h"

#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "core/alloc.h"

static enum mrd_code tx_q(const struct store_tx *tx, const char *what, const char *sql,
                          const struct sq_arg *args, size_t nargs, store_row_fn row, void *ctx,
                          uint64_t *ret_n, struct mrd_err *err)
{
    return tx->ops->run(tx->conn, false, what, sql, args, nargs, row, ctx, ret_n, err);
}

enum mrd_code store__queue_event(const struct store_tx *tx, const struct store_ledger_event *ev,
                                 int64_t *ret_ev, struct mrd_err *err)
{
    uint8_t hash[crypto_hash_sha256_BYTES];
    int64_t key = 0;
    enum mrd_code rc;

    crypto_hash_sha256(hash, (const unsigned char *)ev->record, ev->record_len);
    rc = tx_q(tx, "ledger event",
              "INSERT INTO ledger_events (kind, time, hash, record) VALUES (?1, ?2, ?3, ?4)"
              " RETURNING ev",
              SQ_ARGS(SQ_INT(ev->kind), SQ_INT(ev->time_usec), SQ_BLOB(hash, sizeof(hash)),
                      SQ_TEXT(ev->record, ev->record_len)),
              store__i64_row, &key, NULL, err);
    if (rc == MRD_OK && ret_ev != NULL)
        *ret_ev = key;
    return rc;
}

struct event_args {
    const struct store_ledger_event *ev;
    int64_t *ret_ev;
};

static enum mrd_code event_op(const struct store_tx *tx, void *args, struct mrd_err *err)
{
    struct event_args *a = args;

    return store__queue_event(tx, a->ev, a->ret_ev, err);
}

enum mrd_code store__event_add(struct store *st, const struct store_ledger_event *ev,
                               int64_t *ret_ev, struct mrd_err *err)
{
    struct event_args a = {ev, ret_ev};

    return st->ops->driver->write_tx(st, event_op, &a, err);
}

/* An event row's hash: 32 bytes, or the row was not written by us and is
 * no leaf (NULL). */
static const uint8_t *hash_of(const struct store_rowrd *r, int col)
{
    size_t n = 0;
    const char *h = r->blob(r, col, &n);

    return n == crypto_hash_sha256_BYTES ? (const uint8_t *)h : NULL;
}

struct pending_args {
    size_t limit;
    enum mrd_code (*cb)(void *ctx, const struct store_ledger_item *it, struct mrd_err *err);
    enum mrd_code (*recorded)(void *ctx, const struct store_ledger_item *it, int64_t leaf,
                              struct mrd_err *err);
    void *ctx;
    int64_t from, to; /* recorded: the leaves [from, to) */
};

/* [leaf,] seq, date_added, body of an object version */
static enum mrd_code object_row(void *ctx, const struct store_rowrd *r, struct mrd_err *err)
{
    struct pending_args *a = ctx;
    int c = a->recorded != NULL ? 1 : 0;
    struct store_ledger_item it = {.event = false, .kind = 1};

    it.key = r->i64(r, c);
    it.time_usec = r->i64(r, c + 1);
    it.body = r->blob(r, c + 2, &it.body_len);
    if (a->recorded != NULL)
        return a->recorded(a->ctx, &it, r->i64(r, 0), err);
    return a->cb(a->ctx, &it, err);
}

/* [leaf,] ev, kind, time, hash of an event */
static enum mrd_code event_row(void *ctx, const struct store_rowrd *r, struct mrd_err *err)
{
    struct pending_args *a = ctx;
    int c = a->recorded != NULL ? 1 : 0;
    struct store_ledger_item it = {.event = true};

    it.hash = hash_of(r, c + 3);
    if (it.hash == NULL)
        return MRD_OK; /* never written by us: not a leaf */
    it.key = r->i64(r, c);
    it.kind = (uint8_t)r->i64(r, c + 1);
    it.time_usec = r->i64(r, c + 2);
    if (a->recorded != NULL)
        return a->recorded(a->ctx, &it, r->i64(r, 0), err);
    return a->cb(a->ctx, &it, err);
}

static enum mrd_code pending_op(const struct store_tx *tx, void *args, struct mrd_err *err)
{
    struct pending_args *a = args;
    uint64_t seen = 0;
    enum mrd_code rc;

    rc = tx_q(tx, "ledger queue",
              "SELECT seq, date_added, body FROM objects WHERE seq >"
              " COALESCE((SELECT MAX(seq) FROM object_leaves), 0) ORDER BY seq LIMIT ?1",
              SQ_ARGS(SQ_INT(a->limit)), object_row, a, &seen, err);
    if (rc == MRD_OK && seen < a->limit)
        rc = tx_q(tx, "ledger queue",
                  "SELECT ev, kind, time, hash FROM ledger_events INDEXED BY"
                  " ledger_events_pending WHERE leaf IS NULL ORDER BY ev LIMIT ?1",
                  SQ_ARGS(SQ_INT(a->limit - seen)), event_row, a, NULL, err);
    return rc;
}

enum mrd_code store__ledger_pending(struct store *st, size_t limit,
                                    enum mrd_code (*cb)(void *ctx,
                                                        const struct store_ledger_item *it,
                                                        struct mrd_err *err),
                                    void *ctx, struct mrd_err *err)
{
    struct pending_args a = {limit, cb, NULL, ctx, 0, 0};

    return st->ops->driver->read_tx(st, pending_op, &a, err); /* one snapshot for both */
}

/* Walked a row at a time (store__tx_walk): a range may be the whole
 * ledger (ledger_store_check, after a restore), bodies included; the
 * callbacks read and write the ledger's files, never the store. */
static enum mrd_code recorded_op(const struct store_tx *tx, void *args, struct mrd_err *err)
{
    struct pending_args *a = args;
    enum mrd_code rc;

    rc = store__tx_walk(tx, "recorded leaves",
                        "SELECT l.leaf, o.seq, o.date_added, o.body FROM object_leaves l"
                        " JOIN objects o ON o.seq = l.seq WHERE l.leaf >= ?1 AND l.leaf < ?2",
                        SQ_ARGS(SQ_INT(a->from), SQ_INT(a->to)), object_row, args, NULL, err);
    if (rc == MRD_OK)
        rc = store__tx_walk(tx, "recorded events",
                            "SELECT leaf, ev, kind, time, hash FROM ledger_events"
                            " WHERE leaf >= ?1 AND leaf < ?2",
                            SQ_ARGS(SQ_INT(a->from), SQ_INT(a->to)), event_row, args, NULL, err);
    return rc;
}

enum mrd_code store__ledger_recorded(struct store *st, int64_t from_leaf, int64_t to_leaf,
                                     enum mrd_code (*cb)(void *ctx,
                                                         const struct store_ledger_item *it,
                                                         int64_t leaf, struct mrd_err *err),
                                     void *ctx, struct mrd_err *err)
{
    struct pending_args a = {0, NULL, cb, ctx, from_leaf, to_leaf};

    return st->ops->driver->read_tx(st, recorded_op, &a, err); /* one snapshot for both */
}

struct mark_args {
    const struct store_ledger_mark *marks;
    size_t n;
};

/* Object leaves recorded by one statement (two parameters each). */
#define MARK_ROWS 64

/* Object leaves recorded by one statement of two array parameters
 * (store_txops.array_rows). */
#define MARK_ARRAY_ROWS 4096

/* Records the leaves of m[0..n) (object versions) in statements of
 * MARK_ARRAY_ROWS rows, each column one array parameter. */
static enum mrd_code mark_arrays(const struct store_tx *tx, const struct store_ledger_mark *m,
                                 size_t n, struct mrd_err *err)
{
    struct sq_arg *a = mrd_calloc(2 * (n < MARK_ARRAY_ROWS ? n : MARK_ARRAY_ROWS), sizeof(*a));
    enum mrd_code rc = MRD_OK;

    if (a == NULL)
        return mrd_err_set(err, MRD_E_NOMEM, "store: out of memory");
    for (size_t done = 0, k; rc == MRD_OK && done < n; done += k) {
        k = n - done < MARK_ARRAY_ROWS ? n - done : MARK_ARRAY_ROWS;
        for (size_t j = 0; j < k; j++) {
            a[2 * j] = SQ_INT(m[done + j].key);
            a[2 * j + 1] = SQ_INT(m[done + j].leaf);
        }
        rc = tx_q(tx, "ledger mark",
                  "INSERT INTO object_leaves (seq, leaf) SELECT * FROM unnest(?1::bigint[],"
                  " ?2::bigint[]) ON CONFLICT (seq) DO UPDATE SET leaf = excluded.leaf",
                  SQ_ARGS(SQ_ARRAY(SQ_ARG_INT, &a[0], k, 2), SQ_ARRAY(SQ_ARG_INT, &a[1], k, 2)),
                  NULL, NULL, NULL, err);
    }
    mrd_free(a);
    return rc;
}

/* Records the leaves of m[0..n) (object versions) with multi-row
 * statements of 64, 32, ..., 1 rows: a few round trips for a batch (on
 * PostgreSQL each statement is one, under the write lock), and a few
 * distinct statement texts (SQLite's statement cache). */
static enum mrd_code mark_objects(const struct store_tx *tx, const struct store_ledger_mark *m,
                                  size_t n, struct mrd_err *err)
{
    static const char head[] = "INSERT INTO object_leaves (seq, leaf) VALUES ";
    static const char tail[] = " ON CONFLICT (seq) DO UPDATE SET leaf = excluded.leaf";
    char sql[sizeof(head) + MARK_ROWS * 20 + sizeof(tail)];
    struct sq_arg args[2 * MARK_ROWS];
    enum mrd_code rc = MRD_OK;

    if (tx->ops->array_rows > 0) /* one statement: two array parameters */
        return mark_arrays(tx, m, n, err);
    for (size_t done = 0, k; rc == MRD_OK && done < n; done += k) {
        size_t len = sizeof(head) - 1;

        for (k = MARK_ROWS; k > n - done; k /= 2) {
        }
        memcpy(sql, head, len);
        for (size_t j = 0; j < k; j++) {
            len += (size_t)snprintf(sql + len, sizeof(sql) - len, "%s(?%zu, ?%zu)",
                                    j > 0 ? ", " : "", 2 * j + 1, 2 * j + 2);
            args[2 * j] = SQ_INT(m[done + j].key);
            args[2 * j + 1] = SQ_INT(m[done + j].leaf);
        }
        (void)snprintf(sql + len, sizeof(sql) - len, "%s", tail);
        rc = tx_q(tx, "ledger mark", sql, args, 2 * k, NULL, NULL, NULL, err);
    }
    return rc;
}

static enum mrd_code mark_op(const struct store_tx *tx, void *args, struct mrd_err *err)
{
    struct mark_args *a = args;
    enum mrd_code rc = MRD_OK;

    for (size_t i = 0, j; i < a->n && rc == MRD_OK; i = j) {
        if (a->marks[i].event) {
            rc = tx_q(tx, "ledger mark", "UPDATE ledger_events SET leaf = ?2 WHERE ev = ?1",
                      SQ_ARGS(SQ_INT(a->marks[i].key), SQ_INT(a->marks[i].leaf)), NULL, NULL, NULL,
                      err);
            j = i + 1;
            continue;
        }
        for (j = i; j < a->n && !a->marks[j].event; j++) {
        }
        rc = mark_objects(tx, &a->marks[i], j - i, err);
    }
    return rc;
}

enum mrd_code store__ledger_mark(struct store *st, const struct store_ledger_mark *marks, size_t n,
                                 struct mrd_err *err)
{
    struct mark_args a = {marks, n};

    /* without PostgreSQL's write lock: ingest never waits for the marks
     * (store_driver.rows_tx) */
    if (st->ops->driver->rows_tx != NULL)
        return st->ops->driver->rows_tx(st, mark_op, &a, err);
    return st->ops->driver->write_tx(st, mark_op, &a, err);
}

enum mrd_code store__ledger_max_leaf(struct store *st, int64_t *ret, struct mrd_err *err)
{
    return st->ops->driver->query(
        st, false, "ledger leaf",
        "SELECT COALESCE(MAX(l), -1) FROM (SELECT MAX(leaf) AS l FROM object_leaves"
        " UNION ALL SELECT MAX(leaf) FROM ledger_events) AS m",
        SQ_NOARGS, store__i64_row, ret, NULL, err);
}

struct events_ctx {
    enum mrd_code (*cb)(void *ctx, const struct store_event_row *ev, struct mrd_err *err);
    void *ctx;
};

static enum mrd_code listed_row(void *ctx, const struct store_rowrd *r, struct mrd_err *err)
{
    struct events_ctx *ec = ctx;
    struct store_event_row ev;

    ev.hash = hash_of(r, 4);
    if (ev.hash == NULL)
        return MRD_OK;
    ev.ev = r->i64(r, 0);
    ev.kind = (uint8_t)r->i64(r, 1);
    ev.time_usec = r->i64(r, 2);
    ev.record = r->text(r, 3, &ev.record_len);
    ev.leaf = r->null(r, 5) ? -1 : r->i64(r, 5);
    return ec->cb(ec->ctx, &ev, err);
}

enum mrd_code store__ledger_events(struct store *st, int64_t since_usec,
                                   enum mrd_code (*cb)(void *ctx, const struct store_event_row *ev,
                                                       struct mrd_err *err),
                                   void *ctx, struct mrd_err *err)
{
    struct events_ctx ec = {cb, ctx};

    return st->ops->driver->query(
        st, false, "ledger events",
        "SELECT ev, kind, time, record, hash, leaf FROM ledger_events WHERE time >= ?1 ORDER BY ev",
        SQ_ARGS(SQ_INT(since_usec == STORE_TIME_NONE ? INT64_MIN : since_usec)), listed_row, &ec,
        NULL, err);
}
