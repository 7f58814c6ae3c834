/*
 * store_sqlite_reads.c: the access audit of the SQLite backend (store.h,
 * "the access audit").
 *
 * Tables (schema version 15): access_reads (one row per sensitive object
 * version read; AUTOINCREMENT, so an id is never handed out twice even
 * after a prune) and access_digests (sealed runs of rows, each with the
 * ledger event that records it). Triggers refuse any UPDATE of a row and
 * any DELETE of a row no digest seals: the only way rows leave is
 * store_reads_prune, a whole sealed run at a time.
 */
#include <inttypes.h>
#include <string.h>

#include "core/buf.h"
#include "store/store_int.h"

#define SEQS_SQL_MAX ((size_t)STORE_READS_MAX * 24) /* "[seq1,seq2,...]" */

/* One group's rows, in the order its seqs were read. */
static enum mrd_code record_group(struct sq_conn *c, const struct store_read_batch *g,
                                  struct mrd_buf *list, struct mrd_err *err)
{
    enum mrd_code rc;

    mrd_buf_reset(list);
    rc = mrd_buf_putc(list, '[', err);
    for (size_t i = 0; i < g->n && rc == MRD_OK; i++)
        rc = mrd_buf_printf(list, err, "%s%" PRId64, i > 0 ? "," : "", g->seqs[i]);
    if (rc == MRD_OK)
        rc = mrd_buf_putc(list, ']', err);
    if (rc == MRD_OK)
        rc = sq__run(c, "access audit",
                     "INSERT INTO access_reads (time, object_id, version, tlp, org, token, path)"
                     " SELECT ?1, o.stix_id, CASE WHEN o.version = ?5 THEN o.date_added"
                     " ELSE o.version END, o.tlp, ?2, ?3, ?4 FROM json_each(?6) j"
                     " CROSS JOIN objects o ON o.seq = j.value ORDER BY j.key",
                     SQ_ARGS(SQ_INT(g->who.time_usec), SQ_STR(g->who.org), SQ_STR(g->who.token),
                             SQ_STR(g->who.path), SQ_INT(STORE_VERSION_NONE),
                             SQ_TEXT(list->data, list->len)),
                     NULL, NULL, NULL, err);
    return rc;
}

enum mrd_code sq__reads_record(struct store *stp, const struct store_read_batch *b, size_t nb,
                               struct mrd_err *err)
{
    struct sq_store *s = (struct sq_store *)stp;
    struct mrd_buf list;
    struct sq_conn *c = NULL;
    enum mrd_code rc;

    mrd_buf_init(&list, SEQS_SQL_MAX);
    rc = sq__acquire(s, &c, err);
    if (rc != MRD_OK)
        goto out;
    /* Every group in one transaction, committed without waiting for the
     * disk (synchronous=NORMAL, this commit only): the rows survive a crash
     * of the process (the commit is in the WAL) and are on disk with the
     * next durable commit or checkpoint; only a power loss in between
     * loses them (docs/privacy.md). */
    rc = sq__exec(c, "PRAGMA synchronous=NORMAL", err);
    if (rc == MRD_OK)
        rc = sq__exec(c, "BEGIN IMMEDIATE", err);
    for (size_t i = 0; i < nb && rc == MRD_OK; i++)
        rc = record_group(c, &b[i], &list, err);
    if (rc == MRD_OK)
        rc = sq__exec(c, "COMMIT", err);
    if (rc != MRD_OK)
        sq__rollback(c);
    /* back to the pool's setting before the connection is reused */
    if (sq__exec(c, "PRAGMA synchronous=FULL", NULL) != MRD_OK && rc == MRD_OK)
        rc = mrd_err_set(err, MRD_E_DB, "access audit: cannot restore synchronous=FULL");
out:
    if (c != NULL)
        sq__release(s, c);
    mrd_buf_release(&list);
    return rc;
}

struct list_ctx {
    enum mrd_code (*cb)(void *ctx, const struct store_read_row *r, struct mrd_err *err);
    void *ctx;
    size_t limit, seen;
    bool more;
};

static enum mrd_code list_row(void *ctx, sqlite3_stmt *st, struct mrd_err *err)
{
    struct list_ctx *x = ctx;
    struct store_read_row r;
    size_t len;

    if (++x->seen > x->limit) {
        x->more = true;
        return MRD_OK;
    }
    r.id = sqlite3_column_int64(st, 0);
    r.time_usec = sqlite3_column_int64(st, 1);
    r.object_id = sq__text(st, 2, &r.object_id_len);
    r.version_usec = sqlite3_column_int64(st, 3);
    r.tlp = sqlite3_column_int(st, 4);
    r.org = sq__text(st, 5, &len);
    r.token = sq__text(st, 6, &len);
    r.path = sq__text(st, 7, &len);
    return x->cb(x->ctx, &r, err);
}

enum mrd_code sq__reads_list(struct store *stp, const struct store_read_filter *f,
                             enum mrd_code (*cb)(void *ctx, const struct store_read_row *r,
                                                 struct mrd_err *err),
                             void *ctx, bool *ret_more, struct mrd_err *err)
{
    struct sq_store *s = (struct sq_store *)stp;
    struct list_ctx x = {cb, ctx, f->limit, 0, false};
    enum mrd_code rc;

    /* id order; the object and org filters scan (no index: every read
     * pays for an index, a query rarely runs) */
    rc = sq__query(s, true, "access audit",
                   "SELECT id, time, object_id, version, tlp, org, token, path FROM access_reads"
                   " WHERE (?1 IS NULL OR object_id = ?1) AND (?2 IS NULL OR org = ?2)"
                   " AND time >= ?3 AND id > ?4 AND (?5 = 0 OR id <= ?5) ORDER BY id LIMIT ?6",
                   SQ_ARGS(f->object_id != NULL ? SQ_STR(f->object_id) : SQ_NUL,
                           f->org != NULL ? SQ_STR(f->org) : SQ_NUL,
                           SQ_INT(f->since_usec == STORE_TIME_NONE ? INT64_MIN : f->since_usec),
                           SQ_INT(f->after_id), SQ_INT(f->through_id), SQ_INT(f->limit + 1)),
                   list_row, &x, NULL, err);
    if (ret_more != NULL)
        *ret_more = x.more;
    return rc;
}

static enum mrd_code int_row(void *ctx, sqlite3_stmt *st, struct mrd_err *err)
{
    (void)err;
    *(int64_t *)ctx = sqlite3_column_int64(st, 0);
    return MRD_OK;
}

enum mrd_code sq__reads_seal(struct store *stp, struct store_read_digest *d,
                             const struct store_ledger_event *ev, struct mrd_err *err)
{
    struct sq_store *s = (struct sq_store *)stp;
    struct sq_conn *c = NULL;
    struct store_tx tx;
    int64_t last = 0;
    enum mrd_code rc;

    rc = sq__acquire(s, &c, err);
    if (rc != MRD_OK)
        return rc;
    tx = SQ_TX(c);
    rc = sq__exec(c, "BEGIN IMMEDIATE", err);
    if (rc != MRD_OK)
        goto out;
    rc = sq__run(c, "access digest", "SELECT IFNULL(MAX(last), 0) FROM access_digests", SQ_NOARGS,
                 int_row, &last, NULL, err);
    if (rc == MRD_OK && d->first <= last)
        rc = mrd_err_set(err, MRD_E_EXISTS, "access audit rows up to %" PRId64 " are sealed", last);
    if (rc == MRD_OK)
        rc = store__queue_event(&tx, ev, &d->ev, err);
    if (rc == MRD_OK)
        rc = sq__run(c, "access digest",
                     "INSERT INTO access_digests (first, last, n, time_from, time_to, hash, ev)"
                     " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) RETURNING id",
                     SQ_ARGS(SQ_INT(d->first), SQ_INT(d->last), SQ_INT(d->count),
                             SQ_INT(d->from_usec), SQ_INT(d->to_usec),
                             SQ_BLOB(d->hash, sizeof(d->hash)), SQ_INT(d->ev)),
                     int_row, &d->id, NULL, err);
    if (rc == MRD_OK)
        rc = sq__exec(c, "COMMIT", err);
out:
    if (rc != MRD_OK)
        sq__rollback(c);
    sq__release(s, c);
    return rc;
}

struct digests_ctx {
    enum mrd_code (*cb)(void *ctx, const struct store_read_digest *d, struct mrd_err *err);
    void *ctx;
};

static enum mrd_code digest_row(void *ctx, sqlite3_stmt *st, struct mrd_err *err)
{
    struct digests_ctx *x = ctx;
    struct store_read_digest d = {0};
    const void *h = sqlite3_column_blob(st, 6);

    d.id = sqlite3_column_int64(st, 0);
    d.first = sqlite3_column_int64(st, 1);
    d.last = sqlite3_column_int64(st, 2);
    d.count = (uint64_t)sqlite3_column_int64(st, 3);
    d.from_usec = sqlite3_column_int64(st, 4);
    d.to_usec = sqlite3_column_int64(st, 5);
    if (h != NULL && sqlite3_column_bytes(st, 6) == (int)sizeof(d.hash))
        memcpy(d.hash, h, sizeof(d.hash));
    d.ev = sqlite3_column_int64(st, 7);
    d.pruned_usec =
        sqlite3_column_type(st, 8) == SQLITE_NULL ? STORE_TIME_NONE : sqlite3_column_int64(st, 8);
    d.leaf = sqlite3_column_type(st, 9) == SQLITE_NULL ? -1 : sqlite3_column_int64(st, 9);
    d.record = sq__text(st, 10, &d.record_len);
    return x->cb(x->ctx, &d, err);
}

enum mrd_code sq__reads_digests(struct store *stp,
                                enum mrd_code (*cb)(void *ctx, const struct store_read_digest *d,
                                                    struct mrd_err *err),
                                void *ctx, struct mrd_err *err)
{
    struct digests_ctx x = {cb, ctx};

    return sq__query((struct sq_store *)stp, true, "access digests",
                     "SELECT d.id, d.first, d.last, d.n, d.time_from, d.time_to, d.hash, d.ev,"
                     " d.pruned, e.leaf, e.record FROM access_digests d"
                     " LEFT JOIN ledger_events e ON e.ev = d.ev ORDER BY d.id",
                     SQ_NOARGS, digest_row, &x, NULL, err);
}

enum mrd_code sq__reads_prune(struct store *stp, int64_t before_usec, int64_t now_usec,
                              uint64_t *ret_rows, struct mrd_err *err)
{
    struct sq_store *s = (struct sq_store *)stp;
    struct sq_conn *c = NULL;
    enum mrd_code rc;

    rc = sq__acquire(s, &c, err);
    if (rc != MRD_OK)
        return rc;
    rc = sq__exec(c, "BEGIN IMMEDIATE", err);
    if (rc == MRD_OK)
        rc = sq__run(c, "access audit prune",
                     "DELETE FROM access_reads WHERE id IN (SELECT r.id FROM access_digests d"
                     " JOIN access_reads r ON r.id BETWEEN d.first AND d.last"
                     " WHERE d.pruned IS NULL AND d.time_to < ?1)",
                     SQ_ARGS(SQ_INT(before_usec)), NULL, NULL, ret_rows, err);
    if (rc == MRD_OK)
        rc = sq__run(c, "access audit prune",
                     "UPDATE access_digests SET pruned = ?2 WHERE pruned IS NULL AND time_to < ?1",
                     SQ_ARGS(SQ_INT(before_usec), SQ_INT(now_usec)), NULL, NULL, NULL, err);
    if (rc == MRD_OK)
        rc = sq__exec(c, "COMMIT", err);
    if (rc != MRD_OK)
        sq__rollback(c);
    sq__release(s, c);
    return rc;
}
