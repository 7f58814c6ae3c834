/*
 * service.c: the ledger thread of `meridian serve` (sync.h).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <sodium.h>

#include "core/alloc.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/str.h"
#include "core/timestamp.h"
#include "ledger/sync.h"

struct ledger_service {
    struct ledger *log;
    struct store *st;
    struct ckpt_signer signer;
    unsigned interval_s;
    pthread_t thread;
    pthread_mutex_t mu; /* serialises sync and checkpoint; guards the fields below */
    pthread_cond_t cv;
    bool stop;
    bool started;
    uint64_t signed_size; /* size of the last checkpoint we signed or found */
    bool have_signed;
    time_t signed_at;
    bool failing; /* the last round failed (logged once) */
    /* Copies for ledger_service_status(), read without the lock. */
    _Atomic int64_t ckpt_usec; /* when the newest checkpoint was written; 0 = none */
    _Atomic bool unhealthy;
};

/* Sync and, when due (or forced) and the tree grew, sign. Holds mu. */
static enum mrd_code step_locked(struct ledger_service *svc, bool force, struct mrd_buf *out,
                                 struct mrd_err *err)
{
    enum mrd_code rc = ledger_sync(svc->log, svc->st, NULL, err);
    time_t now = time(NULL);
    uint64_t size = ledger_size(svc->log);

    if (rc != MRD_OK)
        return rc;
    if (force || !svc->have_signed ||
        (size != svc->signed_size && now - svc->signed_at >= (time_t)svc->interval_s)) {
        rc = ledger_checkpoint(svc->log, &svc->signer, out, err);
        if (rc == MRD_OK) {
            svc->signed_size = size;
            svc->signed_at = now;
            svc->have_signed = true;
            atomic_store(&svc->ckpt_usec, mrd_time_now_usec());
            mrd_metric_inc(MRD_M_LEDGER_CHECKPOINTS, NULL);
        }
    }
    return rc;
}

static void *service_main(void *arg)
{
    struct ledger_service *svc = arg;

    (void)pthread_mutex_lock(&svc->mu);
    for (bool first = true; !svc->stop; first = false) {
        struct timespec until;
        struct mrd_err err = {0};

        /* The first round runs at once: a store that never had a ledger
         * (an upgrade) is recorded while the server already serves. */
        (void)clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += LEDGER_SERVICE_TICK_MS / 1000;
        while (!first && !svc->stop && pthread_cond_timedwait(&svc->cv, &svc->mu, &until) == 0) {
        }
        if (svc->stop)
            break;
        atomic_store(&svc->unhealthy, false);
        if (step_locked(svc, false, NULL, &err) != MRD_OK) {
            atomic_store(&svc->unhealthy, true);
            if (!svc->failing)
                mrd_log(MRD_LOG_WARN, "ledger: %s (retrying every second)", err.msg);
            svc->failing = true;
        } else if (svc->failing) {
            mrd_log(MRD_LOG_INFO, "ledger: recording again");
            svc->failing = false;
        }
    }
    (void)pthread_mutex_unlock(&svc->mu);
    return NULL;
}

enum mrd_code ledger_service_start(const char *data_dir, struct store *st,
                                   const struct ckpt_signer *signer, unsigned interval_s,
                                   struct ledger_service **ret, struct mrd_err *err)
{
    struct ledger_service *svc = mrd_calloc(1, sizeof(*svc));
    char dir[LEDGER_MAX_PATH], path[LEDGER_MAX_PATH + 16];
    struct mrd_buf note;
    enum mrd_code rc;

    if (svc == NULL)
        return mrd_err_set(err, MRD_E_NOMEM, "ledger: out of memory");
    (void)pthread_mutex_init(&svc->mu, NULL);
    (void)pthread_cond_init(&svc->cv, NULL);
    svc->st = st;
    svc->signer = *signer;
    svc->interval_s = interval_s > 0 ? interval_s : 1;
    if ((size_t)snprintf(dir, sizeof(dir), "%s/%s", data_dir, LEDGER_DATA_SUBDIR) >= sizeof(dir)) {
        rc = mrd_err_set(err, MRD_E_TOOBIG, "ledger: data directory path too long");
        goto fail;
    }
    rc = ledger_open(dir, LEDGER_OPEN_CREATE | LEDGER_OPEN_PROOFS, &svc->log, NULL, err);
    if (rc == MRD_OK)
        rc = ledger_store_behind(svc->log, st, err); /* never serve with a foreign ledger */
    if (rc != MRD_OK)
        goto fail;
    /* A checkpoint already there counts as signed at its size. */
    mrd_buf_init(&note, CKPT_MAX_NOTE);
    if (ledger_checkpoint_read(svc->log, &note, NULL) == MRD_OK) {
        struct ckpt c;

        if (ckpt_parse(note.data, note.len, &c, NULL) == MRD_OK &&
            strcmp(c.origin, signer->name) == 0) {
            struct stat sb;
            svc->signed_size = c.size;
            svc->have_signed = true;
            /* Its age: the file's time (the note carries none). */
            if (snprintf(path, sizeof(path), "%s/checkpoint", dir) < (int)sizeof(path) &&
                stat(path, &sb) == 0)
                atomic_store(&svc->ckpt_usec,
                             (int64_t)sb.st_mtim.tv_sec * 1000000 + sb.st_mtim.tv_nsec / 1000);
        }
    }
    mrd_buf_release(&note);
    svc->signed_at = 0; /* the first round signs when the tree grew */
    if (pthread_create(&svc->thread, NULL, service_main, svc) != 0) {
        rc = mrd_err_set(err, MRD_E_INTERNAL, "ledger: cannot start its thread");
        goto fail;
    }
    svc->started = true;
    *ret = svc;
    return MRD_OK;
fail:
    ledger_service_stop(svc);
    return rc;
}

void ledger_service_stop(struct ledger_service *svc)
{
    struct mrd_err err = {0};

    if (svc == NULL)
        return;
    if (svc->started) {
        (void)pthread_mutex_lock(&svc->mu);
        svc->stop = true;
        (void)pthread_cond_signal(&svc->cv);
        (void)pthread_mutex_unlock(&svc->mu);
        (void)pthread_join(svc->thread, NULL);
        /* What came in during the last second, and a last signed head. */
        svc->signed_at = 0;
        (void)step_locked(svc, false, NULL, &err);
    }
    ledger_free(svc->log);
    (void)pthread_cond_destroy(&svc->cv);
    (void)pthread_mutex_destroy(&svc->mu);
    sodium_memzero(&svc->signer, sizeof(svc->signer));
    mrd_free(svc);
}

void ledger_service_status(struct ledger_service *svc, struct ledger_service_status *ret)
{
    ret->size = ledger_size(svc->log);
    ret->checkpoint_usec = atomic_load(&svc->ckpt_usec);
    ret->healthy = !atomic_load(&svc->unhealthy);
}

struct ledger *ledger_service_log(struct ledger_service *svc)
{
    return svc->log;
}

enum mrd_code ledger_service_checkpoint(struct ledger_service *svc, struct mrd_buf *out,
                                        struct mrd_err *err)
{
    enum mrd_code rc;

    (void)pthread_mutex_lock(&svc->mu);
    rc = step_locked(svc, true, out, err);
    (void)pthread_mutex_unlock(&svc->mu);
    return rc;
}

enum mrd_code ledger_service_with(struct ledger_service *svc,
                                  enum mrd_code (*fn)(void *ctx, struct ledger *log,
                                                      const struct ckpt_signer *signer,
                                                      struct mrd_err *err),
                                  void *ctx, struct mrd_err *err)
{
    enum mrd_code rc;

    (void)pthread_mutex_lock(&svc->mu);
    /* what is stored now (a hold's versions) is in the ledger before fn */
    rc = ledger_sync(svc->log, svc->st, NULL, err);
    if (rc == MRD_OK)
        rc = fn(ctx, svc->log, &svc->signer, err);
    (void)pthread_mutex_unlock(&svc->mu);
    return rc;
}
