/*
 * store_group.c: the group commit both backends share. Concurrent
 * store_objects_insert calls queue here; whoever finds no leader becomes
 * it, takes everything queued so far and has the backend write it in one
 * transaction (one commit, one fsync); the others wait for their request
 * to be marked done. Durability per request is the same as alone
 * (committed before returning), at one commit per group.
 */
#include "store/store_int.h"

#include <string.h>

void store__group_init(struct store_group *g)
{
    memset(g, 0, sizeof(*g));
    (void)pthread_mutex_init(&g->mu, NULL);
    (void)pthread_cond_init(&g->cv, NULL);
}

void store__group_destroy(struct store_group *g)
{
    (void)pthread_mutex_destroy(&g->mu);
    (void)pthread_cond_destroy(&g->cv);
}

enum mrd_code store__group_insert(struct store_group *g, const struct store_ins_req *q,
                                  void (*write)(void *ctx, struct store_ins_wait *head), void *ctx,
                                  struct mrd_err *err)
{
    struct store_ins_wait w;
    struct store_ins_wait *group;

    memset(&w, 0, sizeof(w));
    w.req = *q;
    w.rc = MRD_OK; /* write overwrites it with any failure */
    (void)pthread_mutex_lock(&g->mu);
    if (g->tail != NULL)
        g->tail->next = &w;
    else
        g->head = &w;
    g->tail = &w;
    while (!w.done) {
        if (g->leader) {
            (void)pthread_cond_wait(&g->cv, &g->mu);
            continue;
        }
        g->leader = true;
        group = g->head;
        g->head = NULL;
        g->tail = NULL;
        (void)pthread_mutex_unlock(&g->mu);
        write(ctx, group);
        (void)pthread_mutex_lock(&g->mu);
        for (struct store_ins_wait *p = group; p != NULL; p = p->next)
            p->done = true;
        g->leader = false;
        (void)pthread_cond_broadcast(&g->cv);
    }
    (void)pthread_mutex_unlock(&g->mu);
    if (w.rc != MRD_OK)
        return mrd_err_set(err, w.rc, "%s", w.err.msg);
    return MRD_OK;
}

void store__group_failed(struct store_ins_wait *head, enum mrd_code rc, const struct mrd_err *err)
{
    for (struct store_ins_wait *q = head; q != NULL && rc != MRD_OK; q = q->next)
        if (q->rc == MRD_OK) {
            q->rc = rc;
            q->err = *err;
        }
}
