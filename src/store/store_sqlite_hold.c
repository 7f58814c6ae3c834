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

static enum mrd_code step_done(struct sq_conn *c, sqlite3_stmt *st, const char *what,
                               struct mrd_err *err)
{
    int src = sqlite3_step(st);

    (void)sqlite3_reset(st);
    return src == SQLITE_DONE ? MRD_OK : sq__fail(c, src, what, err);
}

/* ---- the delete guard ---- */

enum mrd_code sq__check_holds(struct sq_conn *c, const int64_t *seqs, size_t n, struct mrd_err *err)
{
    sqlite3_stmt *st = NULL;
    enum mrd_code rc;
    int64_t now = mrd_time_now_usec();

    if (n == 0)
        return MRD_OK;
    rc = sq__prepare(c,
                     "SELECT h.id FROM hold_items i JOIN holds h ON h.id = i.hold"
                     " WHERE i.seq = ?1 AND h.released IS NULL AND h.expires > ?2"
                     " ORDER BY h.created LIMIT 1",
                     &st, err);
    if (rc != MRD_OK)
        return rc;
    for (size_t i = 0; i < n && rc == MRD_OK; i++) {
        int src;

        (void)sqlite3_bind_int64(st, 1, seqs[i]);
        (void)sqlite3_bind_int64(st, 2, now);
        src = sqlite3_step(st);
        if (src == SQLITE_ROW) {
            char id[STORE_UUID_LEN + 1];

            sq__copy(st, 0, id, sizeof(id));
            rc = mrd_err_set(err, MRD_E_PERM, "the object is preserved by legal hold %s", id);
        } else if (src != SQLITE_DONE) {
            rc = sq__fail(c, src, "legal hold check", err);
        }
        (void)sqlite3_reset(st);
    }
    return rc;
}

/* ---- holds ---- */

enum mrd_code sq__queue_event(struct sq_conn *c, const struct store_ledger_event *ev,
                              struct mrd_err *err)
{
    sqlite3_stmt *st = NULL;
    uint8_t hash[crypto_hash_sha256_BYTES];
    enum mrd_code rc;

    crypto_hash_sha256(hash, (const unsigned char *)ev->record, ev->record_len);
    rc = sq__prepare(c,
                     "INSERT INTO ledger_events (kind, time, hash, record) VALUES (?1, ?2, ?3, ?4)",
                     &st, err);
    if (rc != MRD_OK)
        return rc;
    (void)sqlite3_bind_int(st, 1, ev->kind);
    (void)sqlite3_bind_int64(st, 2, ev->time_usec);
    (void)sqlite3_bind_blob(st, 3, hash, sizeof(hash), SQLITE_STATIC);
    (void)sqlite3_bind_text(st, 4, ev->record, (int)ev->record_len, SQLITE_STATIC);
    return step_done(c, st, "ledger event", err);
}

static void bind_hold_fields(sqlite3_stmt *st, const struct store_hold *h)
{
    (void)sqlite3_bind_text(st, 1, h->id, -1, SQLITE_STATIC);
    (void)sqlite3_bind_text(st, 2, h->case_id, -1, SQLITE_STATIC);
    (void)sqlite3_bind_int64(st, 3, h->created_usec);
    (void)sqlite3_bind_int64(st, 4, h->expires_usec);
    if (h->released_usec == STORE_TIME_NONE)
        (void)sqlite3_bind_null(st, 5);
    else
        (void)sqlite3_bind_int64(st, 5, h->released_usec);
    (void)sqlite3_bind_text(st, 6, h->record, (int)h->record_len, SQLITE_STATIC);
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
    sqlite3_stmt *st = NULL;
    enum mrd_code rc;
    int src;

    rc = sq__acquire(s, &c, err);
    if (rc != MRD_OK)
        return rc;
    rc = sq__exec(c, "BEGIN IMMEDIATE", err);
    if (rc == MRD_OK)
        rc = sq__prepare(c,
                         create ? "INSERT INTO holds (id, case_id, created, expires, released,"
                                  " record) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
                                /* case and created never change: compared, not set */
                                : "UPDATE holds SET expires = ?4, released = ?5, record = ?6"
                                  " WHERE id = ?1 AND case_id = ?2 AND created = ?3",
                         &st, err);
    if (rc != MRD_OK)
        goto out;
    bind_hold_fields(st, h);
    src = sqlite3_step(st);
    (void)sqlite3_reset(st);
    if (create && (src & 0xff) == SQLITE_CONSTRAINT)
        rc = mrd_err_set(err, MRD_E_EXISTS, "hold %s already exists", h->id);
    else if (src != SQLITE_DONE)
        rc = sq__fail(c, src, create ? "hold create" : "hold update", err);
    else if (!create && sqlite3_changes(c->db) != 1)
        rc = mrd_err_set(err, MRD_E_NOTFOUND, "no hold %s", h->id);
    if (rc == MRD_OK && n > 0)
        rc = sq__prepare(c, "INSERT OR IGNORE INTO hold_items (hold, seq) VALUES (?1, ?2)", &st,
                         err);
    for (size_t i = 0; i < n && rc == MRD_OK; i++) {
        (void)sqlite3_bind_text(st, 1, h->id, -1, SQLITE_STATIC);
        (void)sqlite3_bind_int64(st, 2, seqs[i]);
        rc = step_done(c, st, "hold items", err);
    }
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

enum mrd_code sq__hold_list(struct store *stp, const char *id, const char *case_id,
                            enum mrd_code (*cb)(void *ctx, const struct store_hold *h,
                                                struct mrd_err *err),
                            void *ctx, struct mrd_err *err)
{
    struct sq_store *s = (struct sq_store *)stp;
    struct sq_conn *c = NULL;
    sqlite3_stmt *st = NULL;
    enum mrd_code rc;
    int src;
    bool any = false;

    rc = sq__acquire(s, &c, err);
    if (rc != MRD_OK)
        return rc;
    rc = sq__prepare(c,
                     "SELECT " HOLD_COLS ", (SELECT COUNT(*) FROM hold_items i WHERE i.hold = h.id)"
                     " FROM holds h WHERE (?1 IS NULL OR h.id = ?1)"
                     " AND (?2 IS NULL OR h.case_id = ?2) ORDER BY h.created, h.id",
                     &st, err);
    if (rc != MRD_OK)
        goto out;
    (void)sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    (void)sqlite3_bind_text(st, 2, case_id, -1, SQLITE_STATIC);
    while (rc == MRD_OK && (src = sqlite3_step(st)) == SQLITE_ROW) {
        struct store_hold h;

        memset(&h, 0, sizeof(h));
        sq__copy(st, 0, h.id, sizeof(h.id));
        sq__copy(st, 1, h.case_id, sizeof(h.case_id));
        h.created_usec = sqlite3_column_int64(st, 2);
        h.expires_usec = sqlite3_column_int64(st, 3);
        h.released_usec = sqlite3_column_type(st, 4) == SQLITE_NULL ? STORE_TIME_NONE
                                                                    : sqlite3_column_int64(st, 4);
        h.record = sq__text(st, 5, &h.record_len);
        h.n_items = (uint64_t)sqlite3_column_int64(st, 6);
        any = true;
        rc = cb(ctx, &h, err);
    }
    if (rc == MRD_OK && src != SQLITE_DONE)
        rc = sq__fail(c, src, "hold list", err);
    if (rc == MRD_OK && id != NULL && !any)
        rc = mrd_err_set(err, MRD_E_NOTFOUND, "no hold %s", id);
out:
    if (st != NULL)
        (void)sqlite3_reset(st);
    sq__release(s, c);
    return rc;
}

/* Runs a HELD_COLS query (bound already) and hands each row to cb. */
static enum mrd_code emit_held(struct sq_conn *c, sqlite3_stmt *st,
                               enum mrd_code (*cb)(void *ctx, const struct store_held *o,
                                                   struct mrd_err *err),
                               void *ctx, struct mrd_err *err)
{
    enum mrd_code rc = MRD_OK;
    int src;

    while (rc == MRD_OK && (src = sqlite3_step(st)) == SQLITE_ROW) {
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
        rc = cb(ctx, &o, err);
    }
    if (rc == MRD_OK && src != SQLITE_DONE)
        rc = sq__fail(c, src, "object lookup", err);
    (void)sqlite3_reset(st);
    return rc;
}

enum mrd_code sq__hold_objects(struct store *stp, const char *id,
                               enum mrd_code (*cb)(void *ctx, const struct store_held *o,
                                                   struct mrd_err *err),
                               void *ctx, struct mrd_err *err)
{
    struct sq_store *s = (struct sq_store *)stp;
    struct sq_conn *c = NULL;
    sqlite3_stmt *st = NULL;
    enum mrd_code rc;

    rc = sq__acquire(s, &c, err);
    if (rc != MRD_OK)
        return rc;
    rc = sq__prepare(c,
                     "SELECT " HELD_COLS
                     " FROM hold_items i JOIN objects o ON o.seq = i.seq" HELD_JOIN
                     " WHERE i.hold = ?1 ORDER BY o.seq",
                     &st, err);
    if (rc == MRD_OK) {
        (void)sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
        rc = emit_held(c, st, cb, ctx, err);
    }
    sq__release(s, c);
    return rc;
}

enum mrd_code sq__objects_find(struct store *stp, const struct store_find *f,
                               enum mrd_code (*cb)(void *ctx, const struct store_held *o,
                                                   struct mrd_err *err),
                               void *ctx, struct mrd_err *err)
{
    struct sq_store *s = (struct sq_store *)stp;
    struct sq_conn *c = NULL;
    sqlite3_stmt *st = NULL;
    enum mrd_code rc;

    rc = sq__acquire(s, &c, err);
    if (rc != MRD_OK)
        return rc;
    /* One statement per shape keeps each on its index. */
    if (f->leaf >= 0)
        rc = sq__prepare(c,
                         "SELECT " HELD_COLS " FROM object_leaves l JOIN objects o ON o.seq = l.seq"
                         " JOIN collections c ON c.key = o.collection WHERE l.leaf = ?5",
                         &st, err);
    else if (f->id != NULL)
        rc = sq__prepare(c,
                         "SELECT " HELD_COLS " FROM objects o" HELD_JOIN " WHERE o.stix_id = ?1"
                         " AND (?2 IS NULL OR o.version = ?2) AND (?3 = 0 OR o.collection = ?3)"
                         " AND o.seq > ?6 ORDER BY o.seq LIMIT ?7",
                         &st, err);
    else
        rc = sq__prepare(c,
                         "SELECT " HELD_COLS " FROM objects o" HELD_JOIN
                         " WHERE (?3 = 0 OR o.collection = ?3)"
                         " AND (?4 IS NULL OR o.type = ?4) AND (?2 IS NULL OR o.version = ?2)"
                         " AND o.seq > ?6 ORDER BY o.seq LIMIT ?7",
                         &st, err);
    if (rc == MRD_OK) {
        if (f->id != NULL)
            (void)sqlite3_bind_text(st, 1, f->id, (int)f->id_len, SQLITE_STATIC);
        if (f->version_usec != STORE_TIME_NONE)
            (void)sqlite3_bind_int64(st, 2, f->version_usec);
        (void)sqlite3_bind_int64(st, 3, f->collection);
        if (f->type != NULL)
            (void)sqlite3_bind_text(st, 4, f->type, (int)f->type_len, SQLITE_STATIC);
        if (f->leaf >= 0)
            (void)sqlite3_bind_int64(st, 5, f->leaf);
        if (f->leaf < 0) {
            (void)sqlite3_bind_int64(st, 6, f->after_seq);
            (void)sqlite3_bind_int64(st, 7, f->limit > 0 ? (int64_t)f->limit : -1);
        }
        rc = emit_held(c, st, cb, ctx, err);
    }
    sq__release(s, c);
    return rc;
}

/* ---- the ledger queue ---- */

enum mrd_code sq__ledger_pending(struct store *stp, size_t limit,
                                 enum mrd_code (*cb)(void *ctx, const struct store_ledger_item *it,
                                                     struct mrd_err *err),
                                 void *ctx, struct mrd_err *err)
{
    struct sq_store *s = (struct sq_store *)stp;
    struct sq_conn *c = NULL;
    sqlite3_stmt *st = NULL;
    size_t seen = 0;
    enum mrd_code rc;
    int src = SQLITE_DONE;

    rc = sq__acquire(s, &c, err);
    if (rc != MRD_OK)
        return rc;
    /* One snapshot for both reads. */
    rc = sq__exec(c, "BEGIN", err);
    if (rc != MRD_OK)
        goto out;
    rc = sq__prepare(c,
                     "SELECT seq, date_added, body FROM objects WHERE seq >"
                     " COALESCE((SELECT MAX(seq) FROM object_leaves), 0) ORDER BY seq LIMIT ?1",
                     &st, err);
    if (rc != MRD_OK)
        goto out;
    (void)sqlite3_bind_int64(st, 1, (int64_t)limit);
    while (rc == MRD_OK && (src = sqlite3_step(st)) == SQLITE_ROW) {
        struct store_ledger_item it = {.event = false, .kind = 1};

        it.key = sqlite3_column_int64(st, 0);
        it.time_usec = sqlite3_column_int64(st, 1);
        it.body = (const char *)sqlite3_column_blob(st, 2);
        it.body_len = (size_t)sqlite3_column_bytes(st, 2);
        seen++;
        rc = cb(ctx, &it, err);
    }
    (void)sqlite3_reset(st);
    if (rc == MRD_OK && src != SQLITE_DONE)
        rc = sq__fail(c, src, "ledger queue", err);
    if (rc != MRD_OK || seen >= limit)
        goto out;
    rc = sq__prepare(c,
                     "SELECT ev, kind, time, hash FROM ledger_events INDEXED BY"
                     " ledger_events_pending WHERE leaf IS NULL ORDER BY ev LIMIT ?1",
                     &st, err);
    if (rc != MRD_OK)
        goto out;
    (void)sqlite3_bind_int64(st, 1, (int64_t)(limit - seen));
    while (rc == MRD_OK && (src = sqlite3_step(st)) == SQLITE_ROW) {
        struct store_ledger_item it = {.event = true};

        if (sqlite3_column_bytes(st, 3) != crypto_hash_sha256_BYTES)
            continue; /* never written by us: not a leaf */
        it.key = sqlite3_column_int64(st, 0);
        it.kind = (uint8_t)sqlite3_column_int(st, 1);
        it.time_usec = sqlite3_column_int64(st, 2);
        it.hash = sqlite3_column_blob(st, 3);
        rc = cb(ctx, &it, err);
    }
    (void)sqlite3_reset(st);
    if (rc == MRD_OK && src != SQLITE_DONE)
        rc = sq__fail(c, src, "ledger queue", err);
out:
    if (!sqlite3_get_autocommit(c->db))
        sq__rollback(c);
    sq__release(s, c);
    return rc;
}

enum mrd_code sq__ledger_mark(struct store *stp, const struct store_ledger_mark *marks, size_t n,
                              struct mrd_err *err)
{
    struct sq_store *s = (struct sq_store *)stp;
    struct sq_conn *c = NULL;
    sqlite3_stmt *obj = NULL, *ev = NULL;
    enum mrd_code rc;

    rc = sq__acquire(s, &c, err);
    if (rc != MRD_OK)
        return rc;
    rc = sq__exec(c, "BEGIN IMMEDIATE", err);
    if (rc == MRD_OK)
        rc = sq__prepare(c, "INSERT OR REPLACE INTO object_leaves (seq, leaf) VALUES (?1, ?2)",
                         &obj, err);
    if (rc == MRD_OK)
        rc = sq__prepare(c, "UPDATE ledger_events SET leaf = ?2 WHERE ev = ?1", &ev, err);
    for (size_t i = 0; i < n && rc == MRD_OK; i++) {
        sqlite3_stmt *st = marks[i].event ? ev : obj;

        (void)sqlite3_bind_int64(st, 1, marks[i].key);
        (void)sqlite3_bind_int64(st, 2, marks[i].leaf);
        rc = step_done(c, st, "ledger mark", err);
    }
    if (rc == MRD_OK)
        rc = sq__exec(c, "COMMIT", err);
    if (rc != MRD_OK)
        sq__rollback(c);
    sq__release(s, c);
    return rc;
}

enum mrd_code sq__ledger_max_leaf(struct store *stp, int64_t *ret, struct mrd_err *err)
{
    struct sq_store *s = (struct sq_store *)stp;
    struct sq_conn *c = NULL;
    sqlite3_stmt *st = NULL;
    enum mrd_code rc;
    int src;

    rc = sq__acquire(s, &c, err);
    if (rc != MRD_OK)
        return rc;
    rc = sq__prepare(c,
                     "SELECT MAX(COALESCE((SELECT MAX(leaf) FROM object_leaves), -1),"
                     " COALESCE((SELECT MAX(leaf) FROM ledger_events), -1))",
                     &st, err);
    if (rc == MRD_OK) {
        src = sqlite3_step(st);
        if (src == SQLITE_ROW)
            *ret = sqlite3_column_int64(st, 0);
        else
            rc = sq__fail(c, src, "ledger leaf", err);
        (void)sqlite3_reset(st);
    }
    sq__release(s, c);
    return rc;
}
