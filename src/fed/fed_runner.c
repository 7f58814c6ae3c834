/*
 * The background runner of `meridian serve`: each peer on its own clock.
 *
 * One control thread re-reads the peer table every tick (so `meridian peer
 * add/disable` beside a running server takes effect without a restart) and
 * starts a worker thread for each enabled peer that is due and not already
 * running. A peer is due interval_ms after its last attempt, or after its
 * back-off when it failed. So a peer stuck in a 120 s timeout holds only
 * its own worker; every other peer keeps its rhythm.
 *
 * Several front-ends on one PostgreSQL database, each with the same peer:
 * only the one leading "fed:PEER" (store_lead, an advisory lock) pulls and
 * pushes it; another takes over when it dies (docs/store.md).
 */
#include "fed/fed_int.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/alloc.h"
#include "core/str.h"
#include "core/timestamp.h"

#define RUNNER_TICK_MS 100

struct slot {
    bool used; /* a worker thread exists (running or finished, not joined) */
    atomic_bool done;
    pthread_t tid;
    struct fed_runner *r;
    struct fed_peer peer;
    struct fed_peer_state state;
    int64_t last_start;
};

struct fed_runner {
    const char *data_dir;
    struct store *st;
    const struct fed_trust *trust;
    int64_t interval_usec;
    void (*cb)(void *ctx, const struct fed_round_report *r);
    void *ctx;
    pthread_mutex_t cb_mu;
    atomic_bool stop;
    pthread_t tid;
    struct slot slots[FED_MAX_PEERS];
    /* When each peer last started, by name, kept across slot reuse. */
    char last_name[FED_MAX_PEERS][FED_PEER_NAME_MAX + 1];
    int64_t last_time[FED_MAX_PEERS];
};

static void *worker(void *arg)
{
    struct slot *s = arg;
    struct fed_round_report rep;

    fed__peer_round(s->r->data_dir, s->r->st, s->r->trust, &s->peer, &s->state, &s->r->stop, &rep);
    if (s->r->cb != NULL && !atomic_load(&s->r->stop)) {
        pthread_mutex_lock(&s->r->cb_mu);
        s->r->cb(s->r->ctx, &rep);
        pthread_mutex_unlock(&s->r->cb_mu);
    }
    atomic_store(&s->done, true);
    return NULL;
}

static int64_t *last_start_of(struct fed_runner *r, const char *name)
{
    size_t free_i = FED_MAX_PEERS;

    for (size_t i = 0; i < FED_MAX_PEERS; i++) {
        if (strcmp(r->last_name[i], name) == 0)
            return &r->last_time[i];
        if (r->last_name[i][0] == '\0' && free_i == FED_MAX_PEERS)
            free_i = i;
    }
    if (free_i == FED_MAX_PEERS)
        return NULL;
    mrd_strlcpy(r->last_name[free_i], name, sizeof(r->last_name[free_i]));
    r->last_time[free_i] = 0;
    return &r->last_time[free_i];
}

static bool running(struct fed_runner *r, const char *name)
{
    for (size_t i = 0; i < FED_MAX_PEERS; i++)
        if (r->slots[i].used && strcmp(r->slots[i].peer.name, name) == 0)
            return true;
    return false;
}

/* Whether this process runs peer name's rounds (always, but for front-ends
 * sharing a database; a store error counts as no). */
static bool leads(struct fed_runner *r, const char *name)
{
    char role[FED_PEER_NAME_MAX + 8];
    bool lead = false;

    if (!store_shared(r->st))
        return true;
    (void)snprintf(role, sizeof(role), "fed:%s", name);
    return store_lead(r->st, role, &lead, NULL) == MRD_OK && lead;
}

static enum mrd_code consider(void *ctx, const struct fed_peer *p, const struct fed_peer_state *s)
{
    struct fed_runner *r = ctx;
    int64_t now = mrd_time_now_usec(), *last;

    if (!p->enabled || running(r, p->name) || atomic_load(&r->stop))
        return MRD_OK;
    last = last_start_of(r, p->name);
    if (last == NULL)
        return MRD_OK;
    if (*last != 0 &&
        now < *last + (p->interval_ms > 0 ? (int64_t)p->interval_ms * 1000 : r->interval_usec))
        return MRD_OK;
    if (now < s->next_attempt_usec)
        return MRD_OK; /* backing off */
    if (!leads(r, p->name))
        return MRD_OK; /* another front-end runs this peer */
    for (size_t i = 0; i < FED_MAX_PEERS; i++) {
        struct slot *sl = &r->slots[i];
        if (sl->used)
            continue;
        sl->r = r;
        sl->peer = *p;
        sl->state = *s;
        atomic_store(&sl->done, false);
        if (pthread_create(&sl->tid, NULL, worker, sl) == 0) {
            sl->used = true;
            *last = now;
        }
        break;
    }
    return MRD_OK;
}

static void reap(struct fed_runner *r, bool all)
{
    for (size_t i = 0; i < FED_MAX_PEERS; i++) {
        struct slot *sl = &r->slots[i];
        if (sl->used && (all || atomic_load(&sl->done))) {
            (void)pthread_join(sl->tid, NULL);
            sl->used = false;
        }
    }
}

static void *control(void *arg)
{
    struct fed_runner *r = arg;
    struct timespec tick = {.tv_sec = 0, .tv_nsec = RUNNER_TICK_MS * 1000000L};

    while (!atomic_load(&r->stop)) {
        struct fed_state *fs = NULL;
        reap(r, false);
        /* A table we cannot read now (locked, being migrated) is retried
         * at the next tick; errors never stop the runner. */
        if (fed_state_open(r->data_dir, &fs, NULL) == MRD_OK)
            (void)fed_peer_list(fs, consider, r, NULL);
        fed_state_close(fs);
        (void)nanosleep(&tick, NULL);
    }
    reap(r, true);
    return NULL;
}

enum mrd_code fed_runner_start(const char *data_dir, struct store *st,
                               const struct fed_trust *trust, unsigned interval_ms,
                               void (*cb)(void *ctx, const struct fed_round_report *r), void *ctx,
                               struct fed_runner **ret, struct mrd_err *err)
{
    struct fed_runner *r = mrd_calloc(1, sizeof(*r));

    if (r == NULL)
        return mrd_err_set(err, MRD_E_NOMEM, "federation runner");
    r->data_dir = data_dir;
    r->st = st;
    r->trust = trust;
    r->interval_usec = (int64_t)interval_ms * 1000;
    r->cb = cb;
    r->ctx = ctx;
    atomic_init(&r->stop, false);
    pthread_mutex_init(&r->cb_mu, NULL);
    if (pthread_create(&r->tid, NULL, control, r) != 0) {
        pthread_mutex_destroy(&r->cb_mu);
        mrd_free(r);
        return mrd_err_set(err, MRD_E_INTERNAL, "cannot start the federation thread");
    }
    *ret = r;
    return MRD_OK;
}

void fed_runner_stop(struct fed_runner *r)
{
    if (r == NULL)
        return;
    atomic_store(&r->stop, true);
    (void)pthread_join(r->tid, NULL);
    pthread_mutex_destroy(&r->cb_mu);
    mrd_free(r);
}
