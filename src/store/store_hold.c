/*
 * store_hold.c: legal holds and the administrative object lookups
 * (store.h, "legal holds"), written once for both backends over their
 * driver (store_int.h).
 *
 * Tables: holds (one row per preservation order, its JSON record as
 * written by the CLI) and hold_items (hold, object seq). Creating or
 * updating a hold queues its ledger event in the same write transaction
 * (store_ledger.c), so a hold is never on record without its event nor
 * the reverse. The delete guard (store__check_holds) runs inside the
 * deleting transaction of store_obj.c on either backend.
 */
#include "store/store_int.h"

#include <string.h>

#include "core/timestamp.h"

#define HOLD_COLS "h.id, h.case_id, h.created, h.expires, h.released, h.record"
/* Object versions with where they live (SQ_ROW_COLS, body at
 * SQ_ROW_BODY_COL, then collection key, collection id, API root, leaf).
 * The leaf is a look-up per row, not a LEFT JOIN: PostgreSQL does not carry
 * "o.seq > ?6" over an outer join, so it merge-joined object_leaves from
 * its first row on every page (1.5 s per page of 1,000 at seq 600,000 of a
 * million: the notification router's catch-up walk, bench/pg/README.md). */
#define HELD_COLS                                                                                  \
    SQ_ROW_COLS ", o.body, o.collection, c.id, c.api_root,"                                        \
                " (SELECT l.leaf FROM object_leaves l WHERE l.seq = o.seq)"
#define HELD_JOIN " JOIN collections c ON c.key = o.collection"
/* "no limit" for a LIMIT parameter: both engines take it (PostgreSQL
 * refuses SQLite's -1) */
#define NO_LIMIT INT64_MAX

/* ---- the delete guard ---- */

static enum mrd_code held_by(void *ctx, const struct store_rowrd *r, struct mrd_err *err)
{
    char id[STORE_UUID_LEN + 1];

    (void)ctx;
    store__copy_col(r, 0, id, sizeof(id));
    return mrd_err_set(err, MRD_E_PERM, "the object is preserved by legal hold %s", id);
}

enum mrd_code store__check_holds(const struct store_tx *tx, const int64_t *seqs, size_t n,
                                 struct mrd_err *err)
{
    enum mrd_code rc = MRD_OK;
    int64_t now = mrd_time_now_usec();

    for (size_t i = 0; i < n && rc == MRD_OK; i++)
        rc = store__tx_run(tx, "legal hold check",
                           "SELECT h.id FROM hold_items i JOIN holds h ON h.id = i.hold"
                           " WHERE i.seq = ?1 AND h.released IS NULL AND h.expires > ?2"
                           " ORDER BY h.created LIMIT 1",
                           SQ_ARGS(SQ_INT(seqs[i]), SQ_INT(now)), held_by, NULL, NULL, err);
    return rc;
}

/* ---- holds ---- */

struct hold_args {
    bool create;
    const struct store_hold *h;
    const int64_t *seqs;
    size_t n;
    const struct store_ledger_event *ev;
};

/* Creates (create: with its items, MRD_E_EXISTS when the id is taken) or
 * updates (MRD_E_NOTFOUND when missing) hold h, and queues ev, inside the
 * write transaction tx. */
static enum mrd_code hold_write_op(const struct store_tx *tx, void *args, struct mrd_err *err)
{
    const struct hold_args *a = args;
    const struct store_hold *h = a->h;
    uint64_t changed = 0;
    enum mrd_code rc;

    rc = store__tx_run(tx, a->create ? "hold create" : "hold update",
                       a->create ? "INSERT INTO holds (id, case_id, created, expires, released,"
                                   " record) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
                                 /* case and created never change: compared, not set */
                                 : "UPDATE holds SET expires = ?4, released = ?5, record = ?6"
                                   " WHERE id = ?1 AND case_id = ?2 AND created = ?3",
                       SQ_ARGS(SQ_STR(h->id), SQ_STR(h->case_id), SQ_INT(h->created_usec),
                               SQ_INT(h->expires_usec), SQ_TIME(h->released_usec),
                               SQ_TEXT(h->record, h->record_len)),
                       NULL, NULL, &changed, err);
    if (a->create && rc == MRD_E_EXISTS) {
        mrd_err_clear(err);
        rc = mrd_err_set(err, MRD_E_EXISTS, "hold %s already exists", h->id);
    } else if (rc == MRD_OK && !a->create && changed != 1) {
        rc = mrd_err_set(err, MRD_E_NOTFOUND, "no hold %s", h->id);
    }
    for (size_t i = 0; i < a->n && rc == MRD_OK; i++)
        rc = store__tx_run(
            tx, "hold items",
            "INSERT INTO hold_items (hold, seq) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
            SQ_ARGS(SQ_STR(h->id), SQ_INT(a->seqs[i])), NULL, NULL, NULL, err);
    if (rc == MRD_OK)
        rc = store__queue_event(tx, a->ev, NULL, err);
    return rc;
}

enum mrd_code store__hold_create(struct store *st, const struct store_hold *h, const int64_t *seqs,
                                 size_t n, const struct store_ledger_event *ev, struct mrd_err *err)
{
    struct hold_args a = {true, h, seqs, n, ev};

    return st->ops->driver->write_tx(st, hold_write_op, &a, err);
}

enum mrd_code store__hold_update(struct store *st, const struct store_hold *h,
                                 const struct store_ledger_event *ev, struct mrd_err *err)
{
    struct hold_args a = {false, h, NULL, 0, ev};

    return st->ops->driver->write_tx(st, hold_write_op, &a, err);
}

struct hold_list_ctx {
    enum mrd_code (*cb)(void *ctx, const struct store_hold *h, struct mrd_err *err);
    void *ctx;
};

static enum mrd_code hold_row(void *ctx, const struct store_rowrd *r, struct mrd_err *err)
{
    struct hold_list_ctx *lc = ctx;
    struct store_hold h;

    memset(&h, 0, sizeof(h));
    store__copy_col(r, 0, h.id, sizeof(h.id));
    store__copy_col(r, 1, h.case_id, sizeof(h.case_id));
    h.created_usec = r->i64(r, 2);
    h.expires_usec = r->i64(r, 3);
    h.released_usec = r->null(r, 4) ? STORE_TIME_NONE : r->i64(r, 4);
    h.record = r->text(r, 5, &h.record_len);
    h.n_items = (uint64_t)r->i64(r, 6);
    return lc->cb(lc->ctx, &h, err);
}

enum mrd_code store__hold_list(struct store *st, const char *id, const char *case_id,
                               enum mrd_code (*cb)(void *ctx, const struct store_hold *h,
                                                   struct mrd_err *err),
                               void *ctx, struct mrd_err *err)
{
    struct hold_list_ctx lc = {cb, ctx};
    uint64_t n = 0;
    enum mrd_code rc;

    rc = store__q(st, false, "hold list",
                  "SELECT " HOLD_COLS ", (SELECT COUNT(*) FROM hold_items i WHERE i.hold = h.id)"
                  " FROM holds h WHERE (?1 IS NULL OR h.id = ?1)"
                  " AND (?2 IS NULL OR h.case_id = ?2) ORDER BY h.created, h.id",
                  SQ_ARGS(SQ_STR(id), SQ_STR(case_id)), hold_row, &lc, &n, err);
    if (rc == MRD_OK && id != NULL && n == 0)
        rc = mrd_err_set(err, MRD_E_NOTFOUND, "no hold %s", id);
    return rc;
}

struct held_ctx {
    enum mrd_code (*cb)(void *ctx, const struct store_held *o, struct mrd_err *err);
    void *ctx;
};

/* Hands a HELD_COLS row to the caller's callback. */
static enum mrd_code held_row(void *ctx, const struct store_rowrd *r, struct mrd_err *err)
{
    struct held_ctx *hc = ctx;
    int64_t recipients[STORE_RECIPIENTS_MAX];
    char coll_id[STORE_UUID_LEN + 1], root[STORE_NAME_MAX + 1];
    struct store_row row;
    struct store_held o;

    store__row_from(r, true, &row, recipients);
    store__copy_col(r, SQ_ROW_BODY_COL + 2, coll_id, sizeof(coll_id));
    store__copy_col(r, SQ_ROW_BODY_COL + 3, root, sizeof(root));
    o.row = &row;
    o.collection = r->i64(r, SQ_ROW_BODY_COL + 1);
    o.collection_id = coll_id;
    o.api_root = root;
    o.leaf = r->null(r, SQ_ROW_BODY_COL + 4) ? -1 : r->i64(r, SQ_ROW_BODY_COL + 4);
    return hc->cb(hc->ctx, &o, err);
}

enum mrd_code store__hold_objects(struct store *st, const char *id,
                                  enum mrd_code (*cb)(void *ctx, const struct store_held *o,
                                                      struct mrd_err *err),
                                  void *ctx, struct mrd_err *err)
{
    struct held_ctx hc = {cb, ctx};

    return store__q(st, false, "object lookup",
                    "SELECT " HELD_COLS
                    " FROM hold_items i JOIN objects o ON o.seq = i.seq" HELD_JOIN
                    " WHERE i.hold = ?1 ORDER BY o.seq",
                    SQ_ARGS(SQ_STR(id)), held_row, &hc, NULL, err);
}

enum mrd_code store__objects_find(struct store *st, const struct store_find *f,
                                  enum mrd_code (*cb)(void *ctx, const struct store_held *o,
                                                      struct mrd_err *err),
                                  void *ctx, struct mrd_err *err)
{
    struct held_ctx hc = {cb, ctx};
    /* ?1 id, ?2 version, ?3 collection, ?4 type, ?5 leaf, ?6 after seq, ?7
     * limit (the leaf shape binds its own). A NULL version is typed by a
     * CAST (PostgreSQL cannot infer it from IS NULL). */
    const struct sq_arg args[] = {
        f->id != NULL ? SQ_TEXT(f->id, f->id_len) : SQ_STR(NULL),
        SQ_TIME(f->version_usec),
        SQ_INT(f->collection),
        f->type != NULL ? SQ_TEXT(f->type, f->type_len) : SQ_STR(NULL),
        SQ_INT(f->leaf),
        SQ_INT(f->after_seq),
        SQ_INT(f->limit > 0 ? (int64_t)f->limit : NO_LIMIT),
    };

    /* One statement per shape keeps each on its index. */
    if (f->leaf >= 0)
        return store__q(st, false, "object lookup",
                        "SELECT " HELD_COLS " FROM object_leaves l JOIN objects o ON o.seq = l.seq"
                        " JOIN collections c ON c.key = o.collection WHERE l.leaf = ?1",
                        SQ_ARGS(SQ_INT(f->leaf)), held_row, &hc, NULL, err);
    if (f->id != NULL)
        return store__q(
            st, false, "object lookup",
            "SELECT " HELD_COLS " FROM objects o" HELD_JOIN " WHERE o.stix_id = ?1"
            " AND (CAST(?2 AS BIGINT) IS NULL OR o.version = ?2) AND (?3 = 0 OR o.collection = ?3)"
            " AND o.seq > ?6 ORDER BY o.seq LIMIT ?7",
            args, 7, held_row, &hc, NULL, err);
    return store__q(
        st, true, "object lookup",
        "SELECT " HELD_COLS " FROM objects o" HELD_JOIN " WHERE (?3 = 0 OR o.collection = ?3)"
        " AND (?4 IS NULL OR o.type = ?4) AND (CAST(?2 AS BIGINT) IS NULL OR o.version = ?2)"
        " AND o.seq > ?6 ORDER BY o.seq LIMIT ?7",
        args, 7, held_row, &hc, NULL, err);
}
