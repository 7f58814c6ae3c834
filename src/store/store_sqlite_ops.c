/*
 * store_sqlite_ops.c: what operating a node needs from the SQLite backend
 * (store.h, "backups and the audit trail"): consistent online snapshots,
 * the ledger entries the store says are recorded (to check a ledger
 * against its store), and the ledger event list (the audit trail).
 *
 * Snapshots use SQLite's online backup API in one step: the source is read
 * inside one read transaction, so the copy is the database as of one
 * commit, and in WAL mode writers (this process's other threads, a running
 * server) are never blocked by it. The copy is written straight into the
 * caller's file at an offset (a backup archive's member): a small VFS maps
 * the copy's database file onto that region, so the store is written once,
 * never to a temporary file first.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "store/store_int.h"

#include "core/pace.h"

/* ---- the region VFS: a database file that is a region of another file ---- */

#define REGION_VFS "meridian-region"
/* Written bytes handed to the kernel's writeback every this many bytes, so
 * the disk writes while the copy goes on (not all at the caller's fsync)
 * and the copy never holds gigabytes of dirty page cache. */
#define REGION_WRITEBACK ((uint64_t)32 * 1024 * 1024)
/* Pages copied per step of a paced snapshot (1 MiB of 4 KiB pages). */
#define SNAPSHOT_STEP_PAGES 256

/* The region the next database opened through REGION_VFS on this thread
 * lives in (set by sq__snapshot around its open). */
struct region {
    int fd;
    uint64_t base;    /* offset of the database's byte 0 */
    uint64_t size;    /* the database's size so far */
    uint64_t flushed; /* writeback started below this offset */
    int err;          /* errno of a failed read or write */
};
static _Thread_local struct region *region_next;

struct region_file {
    sqlite3_file base;
    struct region *r;
};

static int rf_close(sqlite3_file *f)
{
    (void)f;
    return SQLITE_OK; /* the fd is the caller's */
}

static int rf_read(sqlite3_file *f, void *buf, int n, sqlite3_int64 off)
{
    struct region *r = ((struct region_file *)f)->r;
    uint8_t *p = buf;
    size_t done = 0;

    while (done < (size_t)n) {
        ssize_t k =
            pread(r->fd, p + done, (size_t)n - done, (off_t)(r->base + (uint64_t)off + done));

        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0) {
            r->err = errno;
            return SQLITE_IOERR_READ;
        }
        if (k == 0)
            break;
        done += (size_t)k;
    }
    if ((uint64_t)off + done > r->size) /* past the region's end: not ours */
        done = (uint64_t)off >= r->size ? 0 : (size_t)(r->size - (uint64_t)off);
    if (done < (size_t)n) {
        memset(p + done, 0, (size_t)n - done);
        return SQLITE_IOERR_SHORT_READ;
    }
    return SQLITE_OK;
}

static int rf_write(sqlite3_file *f, const void *buf, int n, sqlite3_int64 off)
{
    struct region *r = ((struct region_file *)f)->r;
    const uint8_t *p = buf;
    size_t done = 0;

    while (done < (size_t)n) {
        ssize_t k =
            pwrite(r->fd, p + done, (size_t)n - done, (off_t)(r->base + (uint64_t)off + done));

        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0) {
            r->err = k < 0 ? errno : EIO;
            return SQLITE_IOERR_WRITE;
        }
        done += (size_t)k;
    }
    if ((uint64_t)off + (uint64_t)n > r->size)
        r->size = (uint64_t)off + (uint64_t)n;
    if (r->size - r->flushed >= REGION_WRITEBACK) { /* asynchronous: never waits */
        (void)sync_file_range(r->fd, (off_t)(r->base + r->flushed), (off_t)(r->size - r->flushed),
                              SYNC_FILE_RANGE_WRITE);
        r->flushed = r->size;
    }
    return SQLITE_OK;
}

static int rf_truncate(sqlite3_file *f, sqlite3_int64 size)
{
    struct region *r = ((struct region_file *)f)->r;

    /* The region is the end of the file while the copy is written. */
    if (ftruncate(r->fd, (off_t)(r->base + (uint64_t)size)) != 0) {
        r->err = errno;
        return SQLITE_IOERR_TRUNCATE;
    }
    r->size = (uint64_t)size;
    return SQLITE_OK;
}

static int rf_sync(sqlite3_file *f, int flags)
{
    (void)f;
    (void)flags;
    return SQLITE_OK; /* the caller syncs the whole file once */
}

static int rf_size(sqlite3_file *f, sqlite3_int64 *ret)
{
    *ret = (sqlite3_int64)((struct region_file *)f)->r->size;
    return SQLITE_OK;
}

static int rf_lock(sqlite3_file *f, int level)
{
    (void)f;
    (void)level;
    return SQLITE_OK; /* one connection, private to sq__snapshot */
}

static int rf_reserved(sqlite3_file *f, int *ret)
{
    (void)f;
    *ret = 0;
    return SQLITE_OK;
}

static int rf_control(sqlite3_file *f, int op, void *arg)
{
    (void)f;
    (void)op;
    (void)arg;
    return SQLITE_NOTFOUND;
}

static int rf_sector(sqlite3_file *f)
{
    (void)f;
    return 4096;
}

static int rf_device(sqlite3_file *f)
{
    (void)f;
    return 0;
}

static const sqlite3_io_methods region_io = {
    .iVersion = 1,
    .xClose = rf_close,
    .xRead = rf_read,
    .xWrite = rf_write,
    .xTruncate = rf_truncate,
    .xSync = rf_sync,
    .xFileSize = rf_size,
    .xLock = rf_lock,
    .xUnlock = rf_lock,
    .xCheckReservedLock = rf_reserved,
    .xFileControl = rf_control,
    .xSectorSize = rf_sector,
    .xDeviceCharacteristics = rf_device,
};

static sqlite3_vfs region_vfs;
static sqlite3_vfs *region_parent;

/* The main database file is the region; anything else (there should be
 * nothing: no journal) goes to the default VFS. */
static int region_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *f, int flags,
                       int *ret_flags)
{
    (void)vfs;
    if ((flags & SQLITE_OPEN_MAIN_DB) == 0 || region_next == NULL)
        return region_parent->xOpen(region_parent, name, f, flags, ret_flags);
    memset(f, 0, sizeof(struct region_file));
    ((struct region_file *)f)->r = region_next;
    f->pMethods = &region_io;
    if (ret_flags != NULL)
        *ret_flags = flags;
    return SQLITE_OK;
}

static int region_delete(sqlite3_vfs *vfs, const char *name, int sync_dir)
{
    (void)vfs;
    return region_parent->xDelete(region_parent, name, sync_dir);
}

static int region_access(sqlite3_vfs *vfs, const char *name, int flags, int *ret)
{
    (void)vfs;
    return region_parent->xAccess(region_parent, name, flags, ret);
}

static int region_full_path(sqlite3_vfs *vfs, const char *name, int n, char *out)
{
    (void)vfs;
    return region_parent->xFullPathname(region_parent, name, n, out);
}

static int region_status;

static void region_register(void)
{
    region_parent = sqlite3_vfs_find(NULL);
    if (region_parent == NULL) {
        region_status = SQLITE_ERROR;
        return;
    }
    region_vfs = *region_parent; /* time, randomness, sleep: the default's */
    region_vfs.iVersion = region_parent->iVersion < 2 ? region_parent->iVersion : 2;
    region_vfs.szOsFile = region_parent->szOsFile > (int)sizeof(struct region_file)
                              ? region_parent->szOsFile
                              : (int)sizeof(struct region_file);
    region_vfs.zName = REGION_VFS;
    region_vfs.pNext = NULL;
    region_vfs.xOpen = region_open;
    region_vfs.xDelete = region_delete;
    region_vfs.xAccess = region_access;
    region_vfs.xFullPathname = region_full_path;
    region_status = sqlite3_vfs_register(&region_vfs, 0);
}

/* ---- snapshots ---- */

/* What the manifest says about the copy, as of the copy's transaction. */
static enum mrd_code snapshot_row(void *ctx, sqlite3_stmt *st, struct mrd_err *err)
{
    struct store_snapshot_info *ret = ctx;

    (void)err;
    ret->max_leaf = sqlite3_column_int64(st, 0);
    ret->objects = (uint64_t)sqlite3_column_int64(st, 1);
    ret->schema_version = sqlite3_column_int(st, 2);
    ret->bytes = (uint64_t)sqlite3_column_int64(st, 3) * (uint64_t)sqlite3_column_int64(st, 4);
    return MRD_OK;
}

enum mrd_code sq__snapshot(struct store *stp, int fd, uint64_t offset, struct mrd_pace *pace,
                           struct store_snapshot_info *ret, struct mrd_err *err)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    struct sq_store *s = (struct sq_store *)stp;
    struct region r = {.fd = fd, .base = offset};
    uint64_t paced = 0; /* pages counted against pace */
    struct sq_conn *c = NULL;
    sqlite3 *dst = NULL;
    sqlite3_backup *b = NULL;
    enum mrd_code rc;
    int src;

    (void)pthread_once(&once, region_register);
    if (region_status != SQLITE_OK)
        return mrd_err_set(err, MRD_E_DB, "snapshot: cannot register the region VFS: %s",
                           sqlite3_errstr(region_status));
    if (ftruncate(fd, (off_t)offset) != 0)
        return mrd_err_sys(err, MRD_E_IO, errno, "snapshot: truncate the output");
    memset(ret, 0, sizeof(*ret));
    rc = sq__acquire(s, &c, err);
    if (rc != MRD_OK)
        return rc;
    region_next = &r;
    src = sqlite3_open_v2("snapshot", &dst,
                          SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                          REGION_VFS);
    region_next = NULL;
    if (src != SQLITE_OK) {
        rc = mrd_err_set(err, MRD_E_IO, "snapshot: %s",
                         dst != NULL ? sqlite3_errmsg(dst) : sqlite3_errstr(src));
        goto out;
    }
    /* No journal (the copy is new: a failed one is thrown away) and no
     * syncs (the caller syncs the file it is part of). */
    (void)sqlite3_exec(dst, "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF", NULL, NULL, NULL);
    /* One read transaction on the source for what the manifest says
     * about the copy and for the copy itself (the backup joins it). */
    rc = sq__exec(c, "BEGIN", err);
    if (rc == MRD_OK)
        rc = sq__run(c, "snapshot",
                     "SELECT MAX(COALESCE((SELECT MAX(leaf) FROM object_leaves), -1),"
                     " COALESCE((SELECT MAX(leaf) FROM ledger_events), -1)),"
                     " (SELECT COUNT(*) FROM objects),"
                     " (SELECT MAX(version) FROM schema_version),"
                     " (SELECT page_count FROM pragma_page_count()),"
                     " (SELECT page_size FROM pragma_page_size())",
                     NULL, 0, snapshot_row, ret, NULL, err);
    if (rc != MRD_OK)
        goto out;
    b = sqlite3_backup_init(dst, "main", c->db, "main");
    if (b == NULL) {
        rc = mrd_err_set(err, MRD_E_DB, "snapshot: %s", sqlite3_errmsg(dst));
        goto out;
    }
    /* Every page in that one read transaction, held open across the
     * steps (BEGIN above): the database as of one commit even while others
     * write. Unpaced, one step; paced, SNAPSHOT_STEP_PAGES at a time. */
    do {
        src = sqlite3_backup_step(b, pace != NULL ? SNAPSHOT_STEP_PAGES : -1);
        if (pace != NULL && (src == SQLITE_OK || src == SQLITE_DONE) &&
            sqlite3_backup_pagecount(b) > 0) {
            /* the pages this step copied, the last (short) step included */
            uint64_t done = (uint64_t)(sqlite3_backup_pagecount(b) - sqlite3_backup_remaining(b));
            mrd_pace_add(pace,
                         (done - paced) * (ret->bytes / (uint64_t)sqlite3_backup_pagecount(b)));
            paced = done;
        }
    } while (src == SQLITE_OK);
    (void)sqlite3_backup_finish(b);
    b = NULL;
    if (src != SQLITE_DONE) {
        rc = r.err != 0 ? mrd_err_sys(err, MRD_E_IO, r.err, "snapshot: writing the copy")
                        : sq__fail(c, src, "snapshot", err);
        goto out;
    }
    /* Pages never written (the lock-byte page of a file over 1 GiB) read
     * as zeros; the copy is exactly page_count pages. */
    if (r.size != ret->bytes && ftruncate(fd, (off_t)(offset + ret->bytes)) != 0)
        rc = mrd_err_sys(err, MRD_E_IO, errno, "snapshot: sizing the copy");
out:
    if (dst != NULL)
        (void)sqlite3_close(dst);
    sq__release(s, c); /* ends the read transaction */
    return rc;
}

/* The access audit's writes (store_reads.c's rows): every group in one
 * transaction, committed without waiting for the disk (synchronous=NORMAL,
 * this commit only): the rows survive a crash of the process (the commit
 * is in the WAL) and are on disk with the next durable commit or
 * checkpoint; only a power loss in between loses them (docs/privacy.md). */
enum mrd_code sq__reads_record(struct store *stp, const struct store_read_batch *b, size_t nb,
                               struct mrd_err *err)
{
    struct sq_store *s = (struct sq_store *)stp;
    struct sq_conn *c = NULL;
    enum mrd_code rc;

    rc = sq__acquire(s, &c, err);
    if (rc != MRD_OK)
        return rc;
    rc = sq__exec(c, "PRAGMA synchronous=NORMAL", err);
    if (rc == MRD_OK)
        rc = sq__exec(c, "BEGIN IMMEDIATE", err);
    if (rc == MRD_OK) {
        struct store_tx tx = SQ_TX(c);
        rc = store__reads_record_tx(&tx, b, nb, err);
    }
    if (rc == MRD_OK)
        rc = sq__exec(c, "COMMIT", err);
    if (rc != MRD_OK)
        sq__rollback(c);
    /* back to the pool's setting before the connection is reused */
    if (sq__exec(c, "PRAGMA synchronous=FULL", NULL) != MRD_OK && rc == MRD_OK)
        rc = mrd_err_set(err, MRD_E_DB, "access audit: cannot restore synchronous=FULL");
    sq__release(s, c);
    return rc;
}
