/*
 * The policy in force in a running node (privacy.h, "live.c"): one
 * pointer, replaced whole under a mutex, handed out as references. The
 * mutex is held while the source checks for a change (a stat of the file
 * in serve) so that two readers never parse the same new file twice, and
 * so that a reader can never get a policy that another thread is about to
 * drop: taking the reference and reading the pointer happen together.
 */
#include <pthread.h>

#include "core/alloc.h"
#include "privacy/privacy.h"

struct privacy_live {
    pthread_mutex_t mu;
    struct privacy_policy *cur; /* never NULL */
    struct privacy_live_source src;
    void (*on_error)(void *ctx, const struct mrd_err *err);
    void *err_ctx;
};

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

    (void)pthread_mutex_lock(&l->mu);
    if (l->src.reload != NULL) {
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
