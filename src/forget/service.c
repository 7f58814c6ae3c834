/*
 * service.c: the retention job of `serve` (forget.h, "the scheduled
 * job"): one thread, one round every interval, stopped by a condition
 * variable so that shutdown never waits for the interval.
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <time.h>

#include "core/alloc.h"
#include "core/str.h"
#include "core/timestamp.h"
#include "forget/forget.h"

struct forget_service {
    char *dir;
    struct store *st;
    const struct crypto_keyring *kr;
    unsigned interval_s;
    void (*cb)(void *ctx, const struct forget_round *round);
    void (*on_request)(void *ctx, const struct forget_applied *a);
    void *ctx;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stop;
};

static void one_round(struct forget_service *s)
{
    struct forget_policy p;
    struct mrd_err err = {0};
    struct forget_round round = {.err = &err};

    round.rc = forget_policy_load(s->dir, &p, &round.have_policy, &err);
    if (round.rc == MRD_OK && p.n > 0)
        round.rc =
            forget_retention_run(s->st, &p, mrd_time_now_usec(), false, NULL, NULL, &round.r, &err);
    forget_policy_free(&p);
    if (round.rc == MRD_OK && s->kr != NULL)
        round.rc = forget_requests_apply(s->st, s->kr, mrd_time_now_usec(), s->on_request, s->ctx,
                                         &round.requests, &err);
    if (s->cb != NULL)
        s->cb(s->ctx, &round);
}

static void *loop(void *arg)
{
    struct forget_service *s = arg;

    pthread_mutex_lock(&s->mu);
    while (!s->stop) {
        struct timespec until;

        pthread_mutex_unlock(&s->mu);
        one_round(s);
        pthread_mutex_lock(&s->mu);
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += (time_t)s->interval_s;
        while (!s->stop && pthread_cond_timedwait(&s->cv, &s->mu, &until) != ETIMEDOUT) {
        }
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

enum mrd_code forget_service_start(const char *data_dir, struct store *st,
                                   const struct crypto_keyring *kr, unsigned interval_s,
                                   void (*cb)(void *ctx, const struct forget_round *round),
                                   void (*on_request)(void *ctx, const struct forget_applied *a),
                                   void *ctx, struct forget_service **ret, struct mrd_err *err)
{
    struct forget_service *s;

    *ret = NULL;
    if (interval_s == 0)
        return MRD_OK; /* turned off */
    s = mrd_calloc(1, sizeof(*s));
    if (s == NULL || (s->dir = mrd_strdup(data_dir)) == NULL) {
        mrd_free(s);
        return mrd_err_set(err, MRD_E_NOMEM, "retention: out of memory");
    }
    s->st = st;
    s->interval_s = interval_s;
    s->kr = kr;
    s->cb = cb;
    s->on_request = on_request;
    s->ctx = ctx;
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    if (pthread_create(&s->thread, NULL, loop, s) != 0) {
        pthread_mutex_destroy(&s->mu);
        pthread_cond_destroy(&s->cv);
        mrd_free(s->dir);
        mrd_free(s);
        return mrd_err_set(err, MRD_E_IO, "retention: cannot start its thread");
    }
    *ret = s;
    return MRD_OK;
}

void forget_service_stop(struct forget_service *s)
{
    if (s == NULL)
        return;
    pthread_mutex_lock(&s->mu);
    s->stop = true;
    pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->mu);
    pthread_join(s->thread, NULL);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv);
    mrd_free(s->dir);
    mrd_free(s);
}
