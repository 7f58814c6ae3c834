/*
 * store_sqlite_obj.c: the SQLite side of object versions and TAXII status
 * resources: transactions, the group commit and the conflict list. What
 * the operations do, and their SQL, is store_obj.c's, shared with
 * PostgreSQL; here each opens the transaction it runs in.
 *
 * Every insert and delete runs under the database write lock (BEGIN
 * IMMEDIATE): store_obj.c assigns date_added under it. A query reads one
 * snapshot (a read transaction, or the thread's pinned one).
 */
#include "store/store_int.h"

#include <string.h>

#include "core/alloc.h"
#include "core/buf.h"

/* Writes a queue of requests in one transaction: each request in its own
 * savepoint, so one failing request (unknown collection, database error)
 * leaves the others whole; then one COMMIT, one fsync, for all. */
static void run_group(void *ctx, struct store_ins_wait *head)
{
    struct sq_store *s = ctx;
    struct sq_conn *c = NULL;
    struct store_tx tx;
    struct mrd_buf rcpt;
    struct mrd_err err = {0};
    enum mrd_code rc;

    mrd_buf_init(&rcpt, (size_t)STORE_RECIPIENTS_MAX * 21);
    rc = sq__acquire(s, &c, &err);
    tx = SQ_TX(c);
    if (rc == MRD_OK)
        rc = sq__exec(c, "BEGIN IMMEDIATE", &err);
    if (rc == MRD_OK && head->next == NULL) {
        /* Alone in its group (an import batch, most posts): no savepoint,
         * its failure rolls back the transaction (below). Inside a named
         * savepoint every statement journal is cut back to the savepoint's
         * start on release by walking SQLite's in-memory journal from its
         * first chunk: quadratic in the request's size (a 4096-object
         * batch spent a third of its time there). */
        head->rc = store__insert_req(&tx, &head->req, &rcpt, &head->err);
        if (head->rc == MRD_OK)
            rc = sq__exec(c, "COMMIT", &err);
        goto done;
    }
    for (struct store_ins_wait *q = head; q != NULL && rc == MRD_OK; q = q->next) {
        q->rc = sq__exec(c, "SAVEPOINT ins", &q->err);
        if (q->rc == MRD_OK) {
            q->rc = store__insert_req(&tx, &q->req, &rcpt, &q->err);
            if (q->rc != MRD_OK)
                (void)sqlite3_exec(c->db, "ROLLBACK TO ins", NULL, NULL, NULL);
            rc = sq__exec(c, "RELEASE ins", &err);
        }
    }
    if (rc == MRD_OK)
        rc = sq__exec(c, "COMMIT", &err);
done:
    store__group_failed(head, rc, &err);
    sq__release(s, c); /* rolls back unless committed */
    mrd_buf_release(&rcpt);
}

enum mrd_code sq__objects_insert(struct store *stp, int64_t collection,
                                 const struct store_object_in *objs, size_t n,
                                 enum store_insert_outcome *ret_outcomes, int64_t *ret_date_added,
                                 struct mrd_err *err)
{
    return sq__objects_insert_status(stp, collection, objs, n, ret_outcomes, ret_date_added, NULL,
                                     err);
}

enum mrd_code sq__objects_insert_status(struct store *stp, int64_t collection,
                                        const struct store_object_in *objs, size_t n,
                                        enum store_insert_outcome *ret_outcomes,
                                        int64_t *ret_date_added, const struct store_status *status,
                                        struct mrd_err *err)
{
    struct sq_store *s = (struct sq_store *)stp;
    struct store_ins_req req = {collection, objs, n, ret_outcomes, ret_date_added, status, NULL};

    return store__group_insert(&s->ins, &req, run_group, s, err);
}

enum mrd_code sq__objects_query(struct store *stp, const struct store_query *q,
                                bool (*visible)(void *ctx, const struct store_row *row),
                                enum mrd_code (*emit)(void *ctx, const struct store_row *row,
                                                      struct mrd_err *err),
                                void *ctx, struct store_query_result *ret, struct mrd_err *err)
{
    struct sq_store *s = (struct sq_store *)stp;
    struct sq_conn *c = NULL;
    struct store_tx tx;
    enum mrd_code rc;
    bool in_txn = false;

    rc = sq__acquire_read(s, &c, err);
    if (rc != MRD_OK)
        goto out;
    /* One read transaction: the whole page, and the look-ahead for `more`,
     * come from one snapshot (the thread's pinned one when there is one). */
    if (sqlite3_get_autocommit(c->db)) {
        rc = sq__exec(c, "BEGIN", err);
        if (rc != MRD_OK)
            goto out;
        in_txn = true;
    }
    tx = SQ_TX(c);
    rc = store__objects_query(&tx, q, visible, emit, ctx, ret, err);
out:
    if (in_txn)
        sq__rollback(c); /* read-only: nothing to commit */
    sq__release(s, c);
    return rc;
}

enum mrd_code sq__objects_delete(struct store *stp, int64_t collection, const char *id,
                                 size_t id_len, const struct store_match *match,
                                 bool (*visible)(void *ctx, const struct store_row *row), void *ctx,
                                 size_t *ret_deleted, struct mrd_err *err)
{
    struct sq_store *s = (struct sq_store *)stp;
    struct sq_conn *c = NULL;
    struct store_tx tx;
    enum mrd_code rc;

    rc = sq__acquire(s, &c, err);
    if (rc != MRD_OK)
        return rc;
    tx = SQ_TX(c);
    rc = sq__exec(c, "BEGIN IMMEDIATE", err);
    if (rc == MRD_OK)
        rc = store__objects_delete(&tx, collection, id, id_len, match, visible, ctx, ret_deleted,
                                   err);
    if (rc == MRD_OK)
        rc = sq__exec(c, "COMMIT", err);
    sq__release(s, c); /* rolls back unless committed */
    return rc;
}

enum mrd_code sq__objects_count(struct store *stp, int64_t collection, uint64_t *ret,
                                struct mrd_err *err)
{
    return store__objects_count(stp, collection, ret, err);
}

/* ---- status resources ---- */

enum mrd_code sq__status_put(struct store *stp, const struct store_status *sts, struct mrd_err *err)
{
    struct sq_store *s = (struct sq_store *)stp;
    struct sq_conn *c = NULL;
    struct store_tx tx;
    enum mrd_code rc;

    rc = sq__acquire(s, &c, err);
    if (rc != MRD_OK)
        return rc;
    tx = SQ_TX(c);
    rc = sq__exec(c, "BEGIN IMMEDIATE", err);
    if (rc == MRD_OK)
        rc = store__status_write(&tx, sts, err);
    if (rc == MRD_OK)
        rc = sq__exec(c, "COMMIT", err);
    sq__release(s, c); /* rolls back unless committed */
    return rc;
}

enum mrd_code sq__status_get(struct store *stp, const char *id, size_t len,
                             struct store_status **ret, struct mrd_err *err)
{
    struct sq_store *s = (struct sq_store *)stp;
    struct sq_conn *c = NULL;
    struct store_tx tx;
    enum mrd_code rc;

    rc = sq__acquire_read(s, &c, err);
    if (rc != MRD_OK)
        goto out;
    if (sqlite3_get_autocommit(c->db)) {
        rc = sq__exec(c, "BEGIN", err);
        if (rc != MRD_OK)
            goto out;
    }
    tx = SQ_TX(c);
    rc = store__status_get(&tx, id, len, ret, err);
out:
    sq__release(s, c); /* ends the read transaction unless pinned */
    return rc;
}

enum mrd_code sq__status_purge(struct store *stp, int64_t older_than_usec, uint64_t *ret_purged,
                               struct mrd_err *err)
{
    struct sq_store *s = (struct sq_store *)stp;
    struct sq_conn *c = NULL;
    struct store_tx tx;
    enum mrd_code rc;

    rc = sq__acquire(s, &c, err);
    if (rc != MRD_OK)
        return rc;
    tx = SQ_TX(c);
    rc = sq__exec(c, "BEGIN IMMEDIATE", err);
    if (rc == MRD_OK)
        rc = store__status_purge(&tx, older_than_usec, ret_purged, err);
    if (rc == MRD_OK)
        rc = sq__exec(c, "COMMIT", err);
    sq__release(s, c);
    return rc;
}

void sq__row_from_stmt(sqlite3_stmt *st, bool body, struct store_row *row, int64_t *recipients)
{
    struct store_rowrd r = sq__rowrd(st);

    store__row_from(&r, body, row, recipients);
}
