/*
 * store_sqlite_ckpt.c: the WAL checkpoint of the SQLite store, on a thread
 * of its own.
 *
 * SQLite's automatic checkpoint runs inside the COMMIT that leaves 1,000
 * pages or more in the WAL, on the committing thread: every few import
 * batches or TAXII groups, one commit also copied the WAL into the
 * database and fsynced it (a seventh of an import's storing thread). Here
 * each connection's WAL hook instead wakes a checkpoint thread, which
 * runs a PASSIVE checkpoint on a connection of its own: it copies what no
 * reader still needs while the writer goes on (in WAL mode the two take
 * different locks), and the writer starts the WAL over once a checkpoint
 * has caught up. Durability is unchanged: a commit is fsynced in the WAL
 * before it returns, as before; the checkpoint fsyncs the WAL before it
 * copies and the database after (synchronous=FULL on its connection).
 *
 * The bound on the WAL: a commit that finds SQ_WAL_INLINE_FRAMES pages in
 * it (the thread fell behind, or could not start) checkpoints there, as
 * SQLite did. The thread starts with the first checkpoint it is needed for
 * and stops with the store (sq__ckpt_stop).
 */
#include "store/store_int.h"

#define SQ_WAL_CKPT_FRAMES 1000    /* pages in the WAL that wake the thread (SQLite's) */
#define SQ_WAL_INLINE_FRAMES 16000 /* ... past which the committer checkpoints (~64 MB) */

static void *ckpt_main(void *arg)
{
    struct sq_store *s = arg;
    sqlite3 *db = NULL;
    int src = sqlite3_open_v2(s->path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);

    if (src == SQLITE_OK)
        src = sqlite3_exec(db, "PRAGMA synchronous=FULL", NULL, NULL, NULL);
    (void)pthread_mutex_lock(&s->ckpt_mu);
    if (src != SQLITE_OK)
        s->ckpt_broken = true; /* the committers checkpoint themselves */
    while (!s->ckpt_stop) {
        if (!s->ckpt_want || s->ckpt_broken) {
            (void)pthread_cond_wait(&s->ckpt_cv, &s->ckpt_mu);
            continue;
        }
        s->ckpt_want = false;
        (void)pthread_mutex_unlock(&s->ckpt_mu);
        /* a failure (busy, I/O) leaves the WAL as it was: the next wake-up
         * or the committers' bound tries again */
        (void)sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
        (void)pthread_mutex_lock(&s->ckpt_mu);
    }
    (void)pthread_mutex_unlock(&s->ckpt_mu);
    (void)sqlite3_close(db);
    return NULL;
}

static int wal_hook(void *arg, sqlite3 *db, const char *name, int frames)
{
    struct sq_store *s = arg;
    bool here = frames >= SQ_WAL_INLINE_FRAMES;

    if (frames < SQ_WAL_CKPT_FRAMES)
        return SQLITE_OK;
    if (!here) {
        (void)pthread_mutex_lock(&s->ckpt_mu);
        if (!s->ckpt_started && !s->ckpt_broken && !s->ckpt_stop) {
            s->ckpt_started = pthread_create(&s->ckpt_thread, NULL, ckpt_main, s) == 0;
            s->ckpt_broken = !s->ckpt_started;
        }
        here = !s->ckpt_started || s->ckpt_broken || s->ckpt_stop;
        s->ckpt_want = true;
        (void)pthread_cond_signal(&s->ckpt_cv);
        (void)pthread_mutex_unlock(&s->ckpt_mu);
    }
    if (here) /* what SQLite's automatic checkpoint does */
        (void)sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
    return SQLITE_OK;
}

void sq__ckpt_attach(struct sq_store *s, sqlite3 *db)
{
    (void)sqlite3_wal_hook(db, wal_hook, s);
}

void sq__ckpt_stop(struct sq_store *s)
{
    bool started;

    (void)pthread_mutex_lock(&s->ckpt_mu);
    s->ckpt_stop = true;
    started = s->ckpt_started;
    (void)pthread_cond_signal(&s->ckpt_cv);
    (void)pthread_mutex_unlock(&s->ckpt_mu);
    if (started)
        (void)pthread_join(s->ckpt_thread, NULL);
}
