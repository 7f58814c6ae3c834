/*
 * The policy in force in a running node (privacy.h, "live.c"): one
 * pointer, replaced whole under a mutex, handed out as references. Taking
 * the reference and reading the pointer happen together under the mutex,
 * so that a reader can never get a policy that another thread is about to
 * drop. The source is asked for a change (a stat of the file in serve) at
 * most once every src.check_ms: the get that finds the check due claims it
 * with a compare-and-swap on an atomic time, so one thread asks while the
 * others only take their reference (no system call, the mutex held for an
 * increment); it asks under the mutex, so that two readers never parse the
 * same new file twice.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include "core/alloc.h"
#include "privacy/privacy.h"

struct privacy_live {
    pthread_mutex_t mu;
    struct privacy_policy *cur; /* never NULL */
    struct privacy_live_source src;
    void (*on_error)(void *ctx, const struct mrd_err *err);
    void *err_ctx;
    _Atomic int64_t next_check_ms; /* CLOCK_MONOTONIC: the source is asked next then */
};

static int64_t mono_ms(void)
{
    struct timespec ts;

    (void)clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* True when this get is the one to ask the source (it is due, and no
 * other thread took it first). */
static bool check_due(struct privacy_live *l)
{
    int64_t due, now;

    if (l->src.reload == NULL)
        return false;
    if (l->src.check_ms == 0)
        return true;
    due = atomic_load_explicit(&l->next_check_ms, memory_order_relaxed);
    now = mono_ms();
    return now >= due &&
           atomic_compare_exchange_strong(&l->next_check_ms, &due, now + (int64_t)l->src.check_ms);
}

enum mrd_code privacy_live_new(struct privacy_policy *take, const struct privacy_live_source *src,
                               struct privacy_live **ret, struct mrd_err *err)
{
    struct privacy_live *l;

    if (take == NULL)
        return mrd_err_set(err, MRD_E_INVAL, "privacy policy: none to hold");
    l = mrd_calloc(1, sizeof(*l));
    if (l == NULL) {
        privacy_policy_free(take);
        return mrd_err_set(err, MRD_E_NOMEM, "privacy policy: out of memory");
    }
    if (pthread_mutex_init(&l->mu, NULL) != 0) {
        mrd_free(l);
        privacy_policy_free(take);
        return mrd_err_set(err, MRD_E_NOMEM, "privacy policy: cannot create a mutex");
    }
    l->cur = take;
    if (src != NULL)
        l->src = *src;
    atomic_init(&l->next_check_ms, 0); /* the first get asks */
    *ret = l;
    return MRD_OK;
}

void privacy_live_free(struct privacy_live *l)
{
    if (l == NULL)
        return;
    privacy_policy_free(l->cur);
    (void)pthread_mutex_destroy(&l->mu);
    mrd_free(l);
}

void privacy_live_on_error(struct privacy_live *l,
                           void (*on_error)(void *ctx, const struct mrd_err *err), void *ctx)
{
    (void)pthread_mutex_lock(&l->mu);
    l->on_error = on_error;
    l->err_ctx = ctx;
    (void)pthread_mutex_unlock(&l->mu);
}

struct privacy_policy *privacy_live_get(struct privacy_live *l)
{
    struct privacy_policy *p, *old = NULL;
    bool ask = check_due(l);

    (void)pthread_mutex_lock(&l->mu);
    if (ask) {
        struct privacy_policy *fresh = NULL;
        struct mrd_err err = {0};

        if (l->src.reload(l->src.ctx, &fresh, &err) != MRD_OK) {
            if (l->on_error != NULL)
                l->on_error(l->err_ctx, &err);
        } else if (fresh != NULL) {
            old = l->cur;
            l->cur = fresh;
        }
    }
    p = privacy_policy_ref(l->cur);
    (void)pthread_mutex_unlock(&l->mu);
    privacy_policy_free(old); /* readers still holding it keep it alive */
    return p;
}

void privacy_live_set(struct privacy_live *l, struct privacy_policy *take)
{
    struct privacy_policy *old;

    if (take == NULL)
        return;
    (void)pthread_mutex_lock(&l->mu);
    old = l->cur;
    l->cur = take;
    (void)pthread_mutex_unlock(&l->mu);
    privacy_policy_free(old);
}

void privacy_live_recheck(struct privacy_live *l)
{
    atomic_store(&l->next_check_ms, 0);
}
