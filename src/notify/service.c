/*
 * service.c: the early-warning router inside `meridian serve` (notify.h,
 * "the service"). One thread: every NOTIFY_TICK_MS it rebuilds the asset
 * index when the declarations changed (STORE_NOTIFY_ASSETS_GEN_KEY) and
 * routes what was stored since the last round, until caught up. A second
 * thread runs the delivery rounds (deliver.h) at the same pace, so a slow
 * SMTP relay or a webhook that never answers delays neither routing nor
 * anything else serve does.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/alloc.h"
#include "core/log.h"
#include "core/str.h"
#include "notify/deliver.h"
#include "notify/notify.h"

struct notify_service {
    struct store *st;
    struct notify_opts opts;
    struct notify_index *ix;
    char gen[32]; /* the declarations' generation the index was built from */
    pthread_t thread, dthread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    atomic_bool stop; /* written under mu; read by the steps without it */
    bool started, dstarted, failing, dfailing;
    struct notify_deliver_conf deliver;
    atomic_ullong notified;
};

static void log_one(void *ctx, const struct store_notification *n)
{
    struct notify_service *svc = ctx;

    atomic_fetch_add(&svc->notified, 1);
    mrd_log(MRD_LOG_INFO, "notify: org %lld, asset %s: %s %s (%s)", (long long)n->org,
            MRD_ESC(n->asset_text), MRD_ESC(n->kind), MRD_ESC(n->object_id), MRD_ESC(n->value));
}

/* Rebuilds the index when the declarations changed since it was built. */
static enum mrd_code refresh(struct notify_service *svc, struct mrd_err *err)
{
    char gen[32] = "0";
    struct notify_index *ix = NULL;
    enum mrd_code rc;

    rc = store_meta_get(svc->st, STORE_NOTIFY_ASSETS_GEN_KEY, gen, sizeof(gen), err);
    if (rc == MRD_E_NOTFOUND) {
        mrd_err_clear(err);
        (void)snprintf(gen, sizeof(gen), "0");
    } else if (rc != MRD_OK) {
        return rc;
    }
    if (svc->ix != NULL && strcmp(gen, svc->gen) == 0)
        return MRD_OK;
    rc = notify_index_load(svc->st, &ix, NULL, err);
    if (rc != MRD_OK)
        return rc;
    notify_index_free(svc->ix);
    svc->ix = ix;
    (void)snprintf(svc->gen, sizeof(svc->gen), "%s", gen);
    return MRD_OK;
}

static enum mrd_code step(struct notify_service *svc, struct mrd_err *err)
{
    struct notify_round r;
    enum mrd_code rc = refresh(svc, err);

    if (rc != MRD_OK)
        return rc;
    do {
        rc = notify_run_round(svc->st, svc->ix, &svc->opts, &r, err);
    } while (rc == MRD_OK && r.more && !svc->stop);
    return rc;
}

static void log_delivery(void *ctx, const struct store_delivery *d)
{
    (void)ctx;
    if (d->status == STORE_DELIVERY_SENT)
        mrd_log(MRD_LOG_INFO, "notify: delivery %lld to %s (%s) sent, ledger event %lld",
                (long long)d->id, MRD_ESC(d->address), MRD_ESC(d->org_name), (long long)d->ev);
    else
        mrd_log(MRD_LOG_WARN, "notify: delivery %lld to %s (%s) %s: %s", (long long)d->id,
                MRD_ESC(d->address), MRD_ESC(d->org_name),
                d->status == STORE_DELIVERY_DEAD ? "given up" : "failed, will retry",
                MRD_ESC(d->error));
}

static enum mrd_code deliver_step(struct notify_service *svc, struct mrd_err *err)
{
    struct notify_deliver_round r;
    enum mrd_code rc;

    do {
        rc = notify_deliver_run(svc->st, &svc->deliver, &r, err);
    } while (rc == MRD_OK && r.more && !svc->stop);
    return rc;
}

/* One thread's loop: step every NOTIFY_TICK_MS until stopped. */
static void loop(struct notify_service *svc, bool delivery)
{
    bool *failing = delivery ? &svc->dfailing : &svc->failing;

    (void)pthread_mutex_lock(&svc->mu);
    while (!svc->stop) {
        struct timespec until;
        struct mrd_err err = {0};
        enum mrd_code rc;

        (void)pthread_mutex_unlock(&svc->mu);
        rc = delivery ? deliver_step(svc, &err) : step(svc, &err);
        (void)pthread_mutex_lock(&svc->mu);
        if (rc != MRD_OK) {
            if (!*failing)
                mrd_log(MRD_LOG_WARN, "notify: %s (retrying)", err.msg);
            *failing = true;
        } else if (*failing) {
            mrd_log(MRD_LOG_INFO, "notify: %s again", delivery ? "delivering" : "routing");
            *failing = false;
        }
        (void)clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += (long)NOTIFY_TICK_MS * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec += until.tv_nsec / 1000000000L;
            until.tv_nsec %= 1000000000L;
        }
        while (!svc->stop && pthread_cond_timedwait(&svc->cv, &svc->mu, &until) == 0) {
        }
    }
    (void)pthread_mutex_unlock(&svc->mu);
}

static void *service_main(void *arg)
{
    loop(arg, false);
    return NULL;
}

static void *deliver_main(void *arg)
{
    loop(arg, true);
    return NULL;
}

enum mrd_code notify_service_start(struct store *st, const struct notify_opts *opts,
                                   struct notify_service **ret, struct mrd_err *err)
{
    struct notify_service *svc = mrd_calloc(1, sizeof(*svc));

    if (svc == NULL)
        return mrd_err_set(err, MRD_E_NOMEM, "notify: out of memory");
    (void)pthread_mutex_init(&svc->mu, NULL);
    (void)pthread_cond_init(&svc->cv, NULL);
    svc->st = st;
    if (opts != NULL)
        svc->opts = *opts;
    if (svc->opts.squelch_usec <= 0)
        svc->opts.squelch_usec = NOTIFY_SQUELCH_DEFAULT_USEC;
    if (svc->opts.on_notify == NULL) {
        svc->opts.on_notify = log_one;
        svc->opts.ctx = svc;
    }
    if (pthread_create(&svc->thread, NULL, service_main, svc) != 0) {
        notify_service_stop(svc);
        return mrd_err_set(err, MRD_E_INTERNAL, "notify: cannot start its thread");
    }
    svc->started = true;
    if (svc->opts.deliver != NULL) {
        svc->deliver = *svc->opts.deliver;
        svc->opts.deliver = &svc->deliver;
        if (svc->deliver.on_result == NULL)
            svc->deliver.on_result = log_delivery;
        if (pthread_create(&svc->dthread, NULL, deliver_main, svc) != 0) {
            notify_service_stop(svc);
            return mrd_err_set(err, MRD_E_INTERNAL, "notify: cannot start its delivery thread");
        }
        svc->dstarted = true;
    }
    *ret = svc;
    return MRD_OK;
}

void notify_service_stop(struct notify_service *svc)
{
    if (svc == NULL)
        return;
    if (svc->started) {
        (void)pthread_mutex_lock(&svc->mu);
        svc->stop = true;
        (void)pthread_cond_broadcast(&svc->cv);
        (void)pthread_mutex_unlock(&svc->mu);
        (void)pthread_join(svc->thread, NULL);
        if (svc->dstarted)
            (void)pthread_join(svc->dthread, NULL);
    }
    notify_index_free(svc->ix);
    (void)pthread_cond_destroy(&svc->cv);
    (void)pthread_mutex_destroy(&svc->mu);
    mrd_free(svc);
}
