/*
 * store_sqlite_hold.c: legal holds, administrative object lookups and the
 * ledger queue of the SQLite backend (store.h, "legal holds" and "the
 * ledger queue").
 *
 * Tables (schema version 4): holds (one row per preservation order, its
 * JSON record as written by the CLI), hold_items (hold, object seq),
 * ledger_events (preservation actions waiting for, then recorded in, the
 * ledger) and object_leaves (object seq -> the leaf recording it). The
 * object versions the ledger lacks are those above object_leaves' highest
 * seq, so ingest writes nothing for the ledger: the queue costs the insert
 * path no row and no index.
 */
#include <string.h>

#include <sodium.h>

#include "core/timestamp.h"
#include "store/store_int.h"

#define HOLD_COLS "h.id, h.case_id, h.created, h.expires, h.released, h.record"
/* Object versions with where they live (SQ_ROW_COLS, body at
 * SQ_ROW_BODY_COL, then collection key, collection id, API root, leaf). */
#define HELD_COLS SQ_ROW_COLS ", o.body, o.collection, c.id, c.api_root, l.leaf"
#define HELD_JOIN                                                                                  \
    " JOIN collections c ON c.key = o.collection LEFT JOIN object_leaves l ON l.seq = o.seq"

/* ---- the delete guard ---- */

static enum mrd_code held_by(void *ctx, sqlite3_stmt *st, struct mrd_err *err)
{
    char id[STORE_UUID_LEN + 1];

    (void)ctx;
    sq__copy(st, 0, id, sizeof(id));
    return mrd_err_set(err, MRD_E_PERM, "the object is preserved by legal hold %s", id);
}

enum mrd_code sq__check_holds(struct sq_conn *c, const int64_t *seqs, size_t n, struct mrd_err *err)
{
    enum mrd_code rc = MRD_OK;
    int64_t now = mrd_time_now_usec();

    for (size_t i = 0; i < n && rc == MRD_OK; i++)
        rc = sq__run(c, "legal hold check",
                     "SELECT h.id FROM hold_items i JOIN holds h ON h.id = i.hold"
                     " WHERE i.seq = ?1 AND h.released IS NULL AND h.expires > ?2"
                     " ORDER BY h.created LIMIT 1",
                     SQ_ARGS(SQ_INT(seqs[i]), SQ_INT(now)), held_by, NULL, NULL, err);
    return rc;
}

/* ---- holds ---- */

enum mrd_code sq__queue_event(struct sq_conn *c, const struct store_ledger_event *ev,
                              struct mrd_err *err)
{
    struct store_tx tx = SQ_TX(c);

    return store__queue_event(&tx, ev, NULL, err);
}

/* Creates (create: with its items, MRD_E_EXISTS when the id is taken) or
 * updates (MRD_E_NOTFOUND when missing) hold h, and queues ev, in one
 * write transaction. */
static enum mrd_code hold_write(struct store *stp, bool create, const struct store_hold *h,
                                const int64_t *seqs, size_t n, const struct store_ledger_event *ev,
                                struct mrd_err *err)
{
    struct sq_store *s = (struct sq_store *)stp;
    struct sq_conn *c = NULL;
    uint64_t changed = 0;
    enum mrd_code rc;

    rc = sq__acquire(s, &c, err);
    if (rc != MRD_OK)
        return rc;
    rc = sq__exec(c, "BEGIN IMMEDIATE", err);
    if (rc != MRD_OK)
        goto out;
    rc = sq__run(c, create ? "hold create" : "hold update",
                 create ? "INSERT INTO holds (id, case_id, created, expires, released,"
                          " record) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
                        /* case and created never change: compared, not set */
                        : "UPDATE holds SET expires = ?4, released = ?5, record = ?6"
                          " WHERE id = ?1 AND case_id = ?2 AND created = ?3",
                 SQ_ARGS(SQ_STR(h->id), SQ_STR(h->case_id), SQ_INT(h->created_usec),
                         SQ_INT(h->expires_usec), SQ_TIME(h->released_usec),
                         SQ_TEXT(h->record, h->record_len)),
                 NULL, NULL, &changed, err);
    if (create && rc == MRD_E_EXISTS) {
        mrd_err_clear(err);
        rc = mrd_err_set(err, MRD_E_EXISTS, "hold %s already exists", h->id);
    } else if (rc == MRD_OK && !create && changed != 1) {
        rc = mrd_err_set(err, MRD_E_NOTFOUND, "no hold %s", h->id);
    }
    for (size_t i = 0; i < n && rc == MRD_OK; i++)
        rc =
            sq__run(c, "hold items", "INSERT OR IGNORE INTO hold_items (hold, seq) VALUES (?1, ?2)",
                    SQ_ARGS(SQ_STR(h->id), SQ_INT(seqs[i])), NULL, NULL, NULL, err);
    if (rc == MRD_OK)
        rc = sq__queue_event(c, ev, err);
    if (rc == MRD_OK)
        rc = sq__exec(c, "COMMIT", err);
out:
    if (rc != MRD_OK)
        sq__rollback(c);
    sq__release(s, c);
    return rc;
}

enum mrd_code sq__hold_create(struct store *stp, const struct store_hold *h, const int64_t *seqs,
                              size_t n, const struct store_ledger_event *ev, struct mrd_err *err)
{
    return hold_write(stp, true, h, seqs, n, ev, err);
}

enum mrd_code sq__hold_update(struct store *stp, const struct store_hold *h,
                              const struct store_ledger_event *ev, struct mrd_err *err)
{
    return hold_write(stp, false, h, NULL, 0, ev, err);
}

struct hold_list_ctx {
    enum mrd_code (*cb)(void *ctx, const struct store_hold *h, struct mrd_err *err);
    void *ctx;
};

static enum mrd_code hold_row(void *ctx, sqlite3_stmt *st, struct mrd_err *err)
{
    struct hold_list_ctx *lc = ctx;
    struct store_hold h;

    memset(&h, 0, sizeof(h));
    sq__copy(st, 0, h.id, sizeof(h.id));
    sq__copy(st, 1, h.case_id, sizeof(h.case_id));
    h.created_usec = sqlite3_column_int64(st, 2);
    h.expires_usec = sqlite3_column_int64(st, 3);
    h.released_usec =
        sqlite3_column_type(st, 4) == SQLITE_NULL ? STORE_TIME_NONE : sqlite3_column_int64(st, 4);
    h.record = sq__text(st, 5, &h.record_len);
    h.n_items = (uint64_t)sqlite3_column_int64(st, 6);
    return lc->cb(lc->ctx, &h, err);
}

enum mrd_code sq__hold_list(struct store *stp, const char *id, const char *case_id,
                            enum mrd_code (*cb)(void *ctx, const struct store_hold *h,
                                                struct mrd_err *err),
                            void *ctx, struct mrd_err *err)
{
    struct hold_list_ctx lc = {cb, ctx};
    uint64_t n = 0;
    enum mrd_code rc;

    rc = sq__query((struct sq_store *)stp, false, "hold list",
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
static enum mrd_code held_row(void *ctx, sqlite3_stmt *st, struct mrd_err *err)
{
    struct held_ctx *hc = ctx;
    int64_t recipients[STORE_RECIPIENTS_MAX];
    struct store_row row;
    struct store_held o;

    sq__row_from_stmt(st, true, &row, recipients);
    o.row = &row;
    o.collection = sqlite3_column_int64(st, SQ_ROW_BODY_COL + 1);
    o.collection_id = (const char *)sqlite3_column_text(st, SQ_ROW_BODY_COL + 2);
    o.api_root = (const char *)sqlite3_column_text(st, SQ_ROW_BODY_COL + 3);
    o.leaf = sqlite3_column_type(st, SQ_ROW_BODY_COL + 4) == SQLITE_NULL
                 ? -1
                 : sqlite3_column_int64(st, SQ_ROW_BODY_COL + 4);
    return hc->cb(hc->ctx, &o, err);
}

enum mrd_code sq__hold_objects(struct store *stp, const char *id,
                               enum mrd_code (*cb)(void *ctx, const struct store_held *o,
                                                   struct mrd_err *err),
                               void *ctx, struct mrd_err *err)
{
    struct held_ctx hc = {cb, ctx};

    return sq__query((struct sq_store *)stp, false, "object lookup",
                     "SELECT " HELD_COLS
                     " FROM hold_items i JOIN objects o ON o.seq = i.seq" HELD_JOIN
                     " WHERE i.hold = ?1 ORDER BY o.seq",
                     SQ_ARGS(SQ_STR(id)), held_row, &hc, NULL, err);
}

enum mrd_code sq__objects_find(struct store *stp, const struct store_find *f,
                               enum mrd_code (*cb)(void *ctx, const struct store_held *o,
                                                   struct mrd_err *err),
                               void *ctx, struct mrd_err *err)
{
    struct sq_store *s = (struct sq_store *)stp;
    struct held_ctx hc = {cb, ctx};
    /* ?1 id, ?2 version, ?3 collection, ?4 type, ?5 leaf, ?6 after seq, ?7
     * limit (-1: none): each shape binds the first ones it uses. */
    const struct sq_arg args[] = {
        f->id != NULL ? SQ_TEXT(f->id, f->id_len) : SQ_NUL,
        SQ_TIME(f->version_usec),
        SQ_INT(f->collection),
        f->type != NULL ? SQ_TEXT(f->type, f->type_len) : SQ_NUL,
        SQ_INT(f->leaf),
        SQ_INT(f->after_seq),
        SQ_INT(f->limit > 0 ? (int64_t)f->limit : -1),
    };

    /* One statement per shape keeps each on its index. */
    if (f->leaf >= 0)
        return sq__query(s, false, "object lookup",
                         "SELECT " HELD_COLS " FROM object_leaves l JOIN objects o ON o.seq = l.seq"
                         " JOIN collections c ON c.key = o.collection WHERE l.leaf = ?5",
                         args, 5, held_row, &hc, NULL, err);
    if (f->id != NULL)
        return sq__query(s, false, "object lookup",
                         "SELECT " HELD_COLS " FROM objects o" HELD_JOIN " WHERE o.stix_id = ?1"
                         " AND (?2 IS NULL OR o.version = ?2) AND (?3 = 0 OR o.collection = ?3)"
                         " AND o.seq > ?6 ORDER BY o.seq LIMIT ?7",
                         args, 7, held_row, &hc, NULL, err);
    return sq__query(s, false, "object lookup",
                     "SELECT " HELD_COLS " FROM objects o" HELD_JOIN
                     " WHERE (?3 = 0 OR o.collection = ?3)"
                     " AND (?4 IS NULL OR o.type = ?4) AND (?2 IS NULL OR o.version = ?2)"
                     " AND o.seq > ?6 ORDER BY o.seq LIMIT ?7",
                     args, 7, held_row, &hc, NULL, err);
}
