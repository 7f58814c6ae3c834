/*
 * store_sqlite_ops.c: what operating a node needs from the SQLite backend
 * (store.h, "backups and the audit trail"): consistent online snapshots,
 * the ledger entries the store says are recorded (to check a ledger
 * against its store), and the ledger event list (the audit trail).
 *
 * Snapshots use SQLite's online backup API in one step: the source is read
 * inside one read transaction, so the copy is the database as of one
 * commit, and in WAL mode writers (this process's other threads, a running
 * server) are never blocked by it.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "store/store_int.h"

enum mrd_code sq__snapshot(struct store *stp, const char *path, struct store_snapshot_info *ret,
                           struct mrd_err *err)
{
    struct sq_store *s = (struct sq_store *)stp;
    struct sq_conn *c = NULL;
    sqlite3 *dst = NULL;
    sqlite3_backup *b = NULL;
    sqlite3_stmt *st = NULL;
    enum mrd_code rc;
    int fd, src;

    /* Create it ourselves: never write over an existing file, and mode
     * 0600 whatever the umask (the copy holds token hashes). */
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        return mrd_err_sys(err, errno == EEXIST ? MRD_E_EXISTS : MRD_E_IO, errno, "snapshot %s",
                           path);
    (void)close(fd);
    rc = sq__acquire(s, &c, err);
    if (rc != MRD_OK)
        return rc;
    src = sqlite3_open_v2(path, &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
    if (src != SQLITE_OK) {
        rc = mrd_err_set(err, MRD_E_IO, "snapshot %s: %s", path,
                         dst != NULL ? sqlite3_errmsg(dst) : sqlite3_errstr(src));
        goto out;
    }
    /* The copy is fsynced as part of the archive: no syncs here. */
    (void)sqlite3_exec(dst, "PRAGMA synchronous=OFF", NULL, NULL, NULL);
    b = sqlite3_backup_init(dst, "main", c->db, "main");
    if (b == NULL) {
        rc = mrd_err_set(err, MRD_E_DB, "snapshot: %s", sqlite3_errmsg(dst));
        goto out;
    }
    /* -1: every page in one step, so one read transaction on the source:
     * a consistent copy even while others write (a step-wise copy would
     * restart whenever another connection commits). */
    src = sqlite3_backup_step(b, -1);
    (void)sqlite3_backup_finish(b);
    b = NULL;
    if (src != SQLITE_DONE) {
        rc = sq__fail(c, src, "snapshot", err);
        goto out;
    }
    memset(ret, 0, sizeof(*ret));
    src = sqlite3_prepare_v2(dst,
                             "SELECT MAX(COALESCE((SELECT MAX(leaf) FROM object_leaves), -1),"
                             " COALESCE((SELECT MAX(leaf) FROM ledger_events), -1)),"
                             " (SELECT COUNT(*) FROM objects),"
                             " (SELECT MAX(version) FROM schema_version)",
                             -1, &st, NULL);
    if (src == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) {
        ret->max_leaf = sqlite3_column_int64(st, 0);
        ret->objects = (uint64_t)sqlite3_column_int64(st, 1);
        ret->schema_version = sqlite3_column_int(st, 2);
    } else {
        rc = mrd_err_set(err, MRD_E_DB, "snapshot: reading the copy: %s", sqlite3_errmsg(dst));
    }
out:
    (void)sqlite3_finalize(st);
    if (dst != NULL)
        (void)sqlite3_close(dst);
    sq__release(s, c);
    if (rc != MRD_OK)
        (void)unlink(path);
    return rc;
}

struct recorded_ctx {
    enum mrd_code (*cb)(void *ctx, const struct store_ledger_item *it, int64_t leaf,
                        struct mrd_err *err);
    void *ctx;
};

static enum mrd_code recorded_object(void *ctx, sqlite3_stmt *st, struct mrd_err *err)
{
    struct recorded_ctx *rc = ctx;
    struct store_ledger_item it = {.event = false, .kind = 1};

    it.key = sqlite3_column_int64(st, 1);
    it.time_usec = sqlite3_column_int64(st, 2);
    it.body = (const char *)sqlite3_column_blob(st, 3);
    it.body_len = (size_t)sqlite3_column_bytes(st, 3);
    return rc->cb(rc->ctx, &it, sqlite3_column_int64(st, 0), err);
}

static enum mrd_code recorded_event(void *ctx, sqlite3_stmt *st, struct mrd_err *err)
{
    struct recorded_ctx *rc = ctx;
    struct store_ledger_item it = {.event = true};

    if (sqlite3_column_bytes(st, 4) != crypto_hash_sha256_BYTES)
        return MRD_OK;
    it.key = sqlite3_column_int64(st, 1);
    it.kind = (uint8_t)sqlite3_column_int(st, 2);
    it.time_usec = sqlite3_column_int64(st, 3);
    it.hash = sqlite3_column_blob(st, 4);
    return rc->cb(rc->ctx, &it, sqlite3_column_int64(st, 0), err);
}

enum mrd_code sq__ledger_recorded(struct store *stp,
                                  enum mrd_code (*cb)(void *ctx, const struct store_ledger_item *it,
                                                      int64_t leaf, struct mrd_err *err),
                                  void *ctx, struct mrd_err *err)
{
    struct sq_store *s = (struct sq_store *)stp;
    struct sq_conn *c = NULL;
    struct recorded_ctx rctx = {cb, ctx};
    enum mrd_code rc;

    rc = sq__acquire(s, &c, err);
    if (rc != MRD_OK)
        return rc;
    rc = sq__exec(c, "BEGIN", err); /* one snapshot for both reads */
    if (rc == MRD_OK)
        rc = sq__run(c, "recorded leaves",
                     "SELECT l.leaf, o.seq, o.date_added, o.body FROM object_leaves l"
                     " JOIN objects o ON o.seq = l.seq",
                     SQ_NOARGS, recorded_object, &rctx, NULL, err);
    if (rc == MRD_OK)
        rc = sq__run(c, "recorded events",
                     "SELECT leaf, ev, kind, time, hash FROM ledger_events"
                     " WHERE leaf IS NOT NULL",
                     SQ_NOARGS, recorded_event, &rctx, NULL, err);
    sq__release(s, c); /* rolls the read transaction back */
    return rc;
}

struct events_ctx {
    enum mrd_code (*cb)(void *ctx, const struct store_event_row *ev, struct mrd_err *err);
    void *ctx;
};

static enum mrd_code event_row(void *ctx, sqlite3_stmt *st, struct mrd_err *err)
{
    struct events_ctx *ec = ctx;
    struct store_event_row ev;

    if (sqlite3_column_bytes(st, 4) != crypto_hash_sha256_BYTES)
        return MRD_OK;
    ev.ev = sqlite3_column_int64(st, 0);
    ev.kind = (uint8_t)sqlite3_column_int(st, 1);
    ev.time_usec = sqlite3_column_int64(st, 2);
    ev.record = sq__text(st, 3, &ev.record_len);
    ev.hash = sqlite3_column_blob(st, 4);
    ev.leaf = sqlite3_column_type(st, 5) == SQLITE_NULL ? -1 : sqlite3_column_int64(st, 5);
    return ec->cb(ec->ctx, &ev, err);
}

enum mrd_code sq__ledger_events(struct store *stp, int64_t since_usec,
                                enum mrd_code (*cb)(void *ctx, const struct store_event_row *ev,
                                                    struct mrd_err *err),
                                void *ctx, struct mrd_err *err)
{
    struct events_ctx ec = {cb, ctx};

    return sq__query((struct sq_store *)stp, false, "ledger events",
                     "SELECT ev, kind, time, record, hash, leaf FROM ledger_events"
                     " WHERE time >= ?1 ORDER BY ev",
                     SQ_ARGS(SQ_INT(since_usec == STORE_TIME_NONE ? INT64_MIN : since_usec)),
                     event_row, &ec, NULL, err);
}

enum mrd_code sq__event_add(struct store *stp, const struct store_ledger_event *ev, int64_t *ret_ev,
                            struct mrd_err *err)
{
    struct sq_store *s = (struct sq_store *)stp;
    struct sq_conn *c = NULL;
    enum mrd_code rc;

    rc = sq__acquire(s, &c, err);
    if (rc != MRD_OK)
        return rc;
    rc = sq__exec(c, "BEGIN IMMEDIATE", err);
    if (rc == MRD_OK)
        rc = sq__queue_event(c, ev, err);
    if (rc == MRD_OK && ret_ev != NULL)
        *ret_ev = sqlite3_last_insert_rowid(c->db);
    if (rc == MRD_OK)
        rc = sq__exec(c, "COMMIT", err);
    sq__release(s, c); /* rolls back on failure */
    return rc;
}
