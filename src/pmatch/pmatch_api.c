/*
 * The offering side of private matching in the node's JSON API (api.h):
 * /api/v1/private/... (pmatch.h for the wire).
 *
 * Who may use an offer: the node's own orgs, then the orgs the offer
 * names (--to), or, when it names none, the orgs that may read its
 * collection (store_reader_for, the policy's decision). Everyone else
 * gets 404, as for an offer that does not exist. The values are never
 * sent: only their truncated OPRF outputs and blind evaluations.
 *
 * Accounting: every evaluated element counts against the offer's budget
 * for the caller's org and the current UTC day, kept in the node metadata
 * (PMATCH_USE_META) so that a restart forgets nothing. A batch that would
 * pass the budget is refused whole (429) before any work is done.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "api/api.h"
#include "audit/audit.h"
#include "core/alloc.h"
#include "core/json.h"
#include "core/str.h"
#include "core/timestamp.h"
#include "pmatch/pmatch.h"
#include "pmatch/pmatch_int.h"
#include "privacy/privacy.h"
#include "store/store.h"

#define PMATCH_USE_META "private_use:" /* + offer ":" + org key: "DAY COUNT" */
#define SEED_META "private_seed:"
#define DAY_USEC ((int64_t)86400 * 1000000)

struct cached_set {
    char name[PMATCH_NAME_MAX + 1];
    char collection[64];
    bool reveal;
    uint8_t *set;
    size_t n;
    struct pmatch_reveal_map map; /* reveal offers only */
    int64_t at_usec;
};

struct pmatch_server {
    struct store *st;
    pthread_mutex_t mu; /* the cache and the accounting */
    struct cached_set cache[PMATCH_MAX_OFFERS];
    void (*log)(void *ctx, const char *line);
    void *log_ctx;
    struct privacy_live *privacy; /* outbound minimisation of revealed indicators */
};

void pmatch_server_set_privacy(struct pmatch_server *s, struct privacy_live *p)
{
    s->privacy = p;
}

enum mrd_code pmatch_server_new(struct store *st, void (*log)(void *ctx, const char *line),
                                void *log_ctx, struct pmatch_server **ret, struct mrd_err *err)
{
    struct pmatch_server *s = mrd_calloc(1, sizeof(*s));

    if (s == NULL)
        return mrd_err_set(err, MRD_E_NOMEM, "private: server");
    s->st = st;
    s->log = log;
    s->log_ctx = log_ctx;
    (void)pthread_mutex_init(&s->mu, NULL);
    *ret = s;
    return MRD_OK;
}

void pmatch_server_free(struct pmatch_server *s)
{
    if (s == NULL)
        return;
    for (size_t i = 0; i < PMATCH_MAX_OFFERS; i++) {
        mrd_free(s->cache[i].set);
        pmatch_reveal_map_release(&s->cache[i].map);
    }
    (void)pthread_mutex_destroy(&s->mu);
    mrd_free(s);
}

static bool may_use(struct pmatch_server *s, const struct api_req *r, const struct pmatch_offer *o)
{
    struct store_collection c;
    struct policy_reader reader;
    bool can_read = false;

    if (r->who.tok.org_relation == POLICY_REL_OWN)
        return true;
    if (o->nto > 0) {
        for (size_t i = 0; i < o->nto; i++)
            if (strcmp(o->to[i], r->who.tok.org_name) == 0)
                return true;
        return false;
    }
    return store_collection_get(s->st, NULL, 0, o->collection, strlen(o->collection), &c, NULL) ==
               MRD_OK &&
           store_reader_for(s->st, r->who.tok.org_key, r->who.tok.org_relation, &c, &reader,
                            &can_read, NULL) == MRD_OK &&
           can_read;
}

/* The offer named by the route's first parameter, when the caller may use
 * it; else answers 404 (or 500) and returns false. */
static bool find_offer(struct api_req *r, struct pmatch_offer *ret)
{
    struct pmatch_server *s = r->ctx;
    struct pmatch_offer all[PMATCH_MAX_OFFERS];
    size_t n = 0;
    struct mrd_err err = {0};

    if (pmatch_offer_list(s->st, all, &n, &err) != MRD_OK) {
        api_internal(r, &err);
        return false;
    }
    for (size_t i = 0; i < n; i++)
        if (strcmp(all[i].name, r->params[0]) == 0 && may_use(s, r, &all[i])) {
            *ret = all[i];
            return true;
        }
    api_error(r, 404, "Not found", NULL);
    return false;
}

static void day_of(int64_t usec, char out[16])
{
    int64_t d = usec / DAY_USEC;
    (void)snprintf(out, 16, "%" PRId64, d);
}

/* The caller's count today (0 on another day), under s->mu. */
static uint64_t used_today(struct pmatch_server *s, const char *offer, int64_t org_key,
                           char key[STORE_META_KEY_MAX + 1])
{
    char val[64], today[16], day[16];
    unsigned long long used = 0;

    (void)snprintf(key, STORE_META_KEY_MAX + 1, PMATCH_USE_META "%s:%" PRId64, offer, org_key);
    day_of(mrd_time_now_usec(), today);
    if (store_meta_get(s->st, key, val, sizeof(val), NULL) != MRD_OK ||
        sscanf(val, "%15s %llu", day, &used) != 2 || strcmp(day, today) != 0)
        return 0;
    return (uint64_t)used;
}

static json_t *offer_json(struct pmatch_server *s, const struct api_req *r,
                          const struct pmatch_offer *o)
{
    char key[STORE_META_KEY_MAX + 1];
    uint64_t used;

    (void)pthread_mutex_lock(&s->mu);
    used = used_today(s, o->name, r->who.tok.org_key, key);
    (void)pthread_mutex_unlock(&s->mu);
    return json_pack("{s:s,s:s,s:i,s:i,s:i,s:i,s:I,s:I,s:b,s:i}", "offer", o->name, "suite",
                     PMATCH_SUITE, "mode", 0, "output_bytes", PMATCH_OUTPUT_LEN, "batch_max",
                     PMATCH_BATCH_MAX, "set_page", PMATCH_SET_PAGE, "budget_per_day",
                     (json_int_t)o->budget, "used_today", (json_int_t)used, "reveal", o->reveal,
                     "reveal_max", PMATCH_REVEAL_MAX);
}

/* GET private/ */
static void list(struct api_req *r)
{
    struct pmatch_server *s = r->ctx;
    struct pmatch_offer all[PMATCH_MAX_OFFERS];
    size_t n = 0;
    struct mrd_err err = {0};
    json_t *out = json_array();

    if (out == NULL || pmatch_offer_list(s->st, all, &n, &err) != MRD_OK) {
        json_decref(out);
        api_internal(r, &err);
        return;
    }
    for (size_t i = 0; i < n; i++)
        if (may_use(s, r, &all[i]))
            (void)json_array_append_new(out, offer_json(s, r, &all[i]));
    api_json(r, 200, json_pack("{s:o}", "offers", out));
}

/* GET private/{offer} */
static void info(struct api_req *r)
{
    struct pmatch_offer o;

    if (find_offer(r, &o))
        api_json(r, 200, offer_json(r->ctx, r, &o));
}

/* The offer's published set, recomputed when older than PMATCH_SET_TTL_S
 * or when the offer changed; called under s->mu. */
static enum mrd_code cached(struct pmatch_server *s, const struct pmatch_offer *o,
                            struct cached_set **ret, struct mrd_err *err)
{
    struct cached_set *c = NULL, *free_slot = NULL;
    int64_t now = mrd_time_now_usec();
    size_t skipped = 0;
    enum mrd_code rc;

    for (size_t i = 0; i < PMATCH_MAX_OFFERS && c == NULL; i++) {
        if (strcmp(s->cache[i].name, o->name) == 0)
            c = &s->cache[i];
        else if (s->cache[i].name[0] == '\0' && free_slot == NULL)
            free_slot = &s->cache[i];
    }
    if (c == NULL)
        c = free_slot != NULL ? free_slot : &s->cache[0];
    if (strcmp(c->name, o->name) == 0 && strcmp(c->collection, o->collection) == 0 &&
        c->reveal == o->reveal && c->set != NULL &&
        now - c->at_usec < (int64_t)PMATCH_SET_TTL_S * 1000000) {
        *ret = c;
        return MRD_OK;
    }
    mrd_free(c->set);
    pmatch_reveal_map_release(&c->map);
    memset(c, 0, sizeof(*c));
    rc = pmatch_offer_publish(s->st, o, 2, &c->set, &c->n, &skipped, o->reveal ? &c->map : NULL,
                              err);
    if (rc != MRD_OK)
        return rc;
    c->reveal = o->reveal;
    mrd_strlcpy(c->name, o->name, sizeof(c->name));
    mrd_strlcpy(c->collection, o->collection, sizeof(c->collection));
    c->at_usec = now;
    pmatch__say(
        s->log, s->log_ctx,
        "private: offer %s published %zu values (%zu without an exact key left out) in %.2f s",
        o->name, c->n, skipped, (double)(mrd_time_now_usec() - now) / 1e6);
    *ret = c;
    return MRD_OK;
}

/* GET private/{offer}/set?start=N */
static void set_page(struct api_req *r)
{
    struct pmatch_server *s = r->ctx;
    struct pmatch_offer o;
    struct cached_set *c = NULL;
    const char *start_arg;
    bool dup = false;
    uint64_t start = 0;
    size_t n;
    char *total;
    struct mrd_err err = {0};

    if (!find_offer(r, &o))
        return;
    start_arg = api_query(r, "start", &dup);
    if (dup || (start_arg != NULL && mrd_str_to_u64(start_arg, strlen(start_arg), PMATCH_MAX_VALUES,
                                                    &start, NULL) != MRD_OK)) {
        api_error(r, 400, "Bad start", "start must be one integer 0..20000000 (PMATCH_MAX_VALUES)");
        return;
    }
    (void)pthread_mutex_lock(&s->mu);
    if (cached(s, &o, &c, &err) != MRD_OK) {
        (void)pthread_mutex_unlock(&s->mu);
        api_internal(r, &err);
        return;
    }
    n = start >= c->n ? 0 : c->n - start;
    if (n > PMATCH_SET_PAGE)
        n = PMATCH_SET_PAGE;
    total = mrd_arena_alloc(r->http->arena, 24);
    if (total != NULL) {
        (void)snprintf(total, 24, "%zu", c->n);
        api_header(r, "X-Meridian-Total", total);
    }
    api_raw(r, 200, "application/octet-stream",
            (const char *)c->set + (n > 0 ? start * PMATCH_OUTPUT_LEN : 0), n * PMATCH_OUTPUT_LEN);
    (void)pthread_mutex_unlock(&s->mu);
}

/* Seconds until the next UTC day, for Retry-After. */
static int64_t to_midnight(void)
{
    int64_t now = mrd_time_now_usec();
    return (DAY_USEC - now % DAY_USEC) / 1000000 + 1;
}

/* CPU seconds of the calling thread: what one request cost, whatever else
 * the machine runs (the accounting line reports it; bench/private sums it). */
static double thread_cpu_s(void)
{
    struct timespec ts;

    if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0)
        return 0;
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* POST private/{offer}/evaluate */
static void evaluate(struct api_req *r)
{
    double cpu0 = thread_cpu_s();
    struct pmatch_server *s = r->ctx;
    struct pmatch_offer o;
    char key[STORE_META_KEY_MAX + 1], val[64], today[16], detail[256];
    char seed_key[STORE_META_KEY_MAX + 1];
    uint8_t seed[32], sk[32];
    uint8_t *out = NULL;
    uint64_t used;
    size_t n = 0;
    struct mrd_err err = {0};

    if (!find_offer(r, &o))
        return;
    if (pmatch_batch_parse((const uint8_t *)r->http->body, r->http->body_len, &n, &err) != MRD_OK) {
        api_error(r, 400, "Bad batch", err.msg);
        return;
    }
    (void)pthread_mutex_lock(&s->mu);
    used = used_today(s, o.name, r->who.tok.org_key, key);
    if (used + n > o.budget) {
        (void)pthread_mutex_unlock(&s->mu);
        (void)snprintf(detail, sizeof(detail),
                       "offer %s allows %" PRIu64 " values a day per org (budget_per_day); "
                       "%" PRIu64 " used today, this batch has %zu",
                       o.name, o.budget, used, n);
        char *ra = mrd_arena_alloc(r->http->arena, 24);
        if (ra != NULL) {
            (void)snprintf(ra, 24, "%" PRId64, to_midnight());
            api_header(r, "Retry-After", ra);
        }
        pmatch__say(s->log, s->log_ctx,
                    "private: offer %s: org %s refused a batch of %zu: budget %" PRIu64
                    " used %" PRIu64,
                    o.name, r->who.tok.org_name, n, o.budget, used);
        api_error(r, 429, "Query budget exhausted", detail);
        return;
    }
    day_of(mrd_time_now_usec(), today);
    (void)snprintf(val, sizeof(val), "%s %" PRIu64, today, used + n);
    if (store_meta_set(s->st, key, val, &err) != MRD_OK) {
        (void)pthread_mutex_unlock(&s->mu);
        api_internal(r, &err);
        return;
    }
    (void)pthread_mutex_unlock(&s->mu);

    (void)snprintf(seed_key, sizeof(seed_key), SEED_META "%s", o.name);
    out = mrd_malloc(n * PMATCH_ELEMENT_LEN);
    if (out == NULL) {
        api_error(r, 503, "Busy", "out of memory");
        return;
    }
    if (store_meta_key(s->st, seed_key, seed, sizeof(seed), &err) != MRD_OK ||
        pmatch_offer_key(seed, o.name, sk, &err) != MRD_OK) {
        api_internal(r, &err);
        goto out;
    }
    if (pmatch_batch_evaluate(sk, (const uint8_t *)r->http->body, n, out, &err) != MRD_OK) {
        api_error(r, 400, "Bad element", err.msg);
        goto out;
    }
    api_raw(r, 200, "application/octet-stream", (const char *)out, n * PMATCH_ELEMENT_LEN);
    pmatch__say(s->log, s->log_ctx,
                "private: offer %s: org %s evaluated %zu values, %" PRIu64 " of %" PRIu64
                " today; cpu %.3f ms",
                o.name, r->who.tok.org_name, n, used + n, o.budget, (thread_cpu_s() - cpu0) * 1e3);
out:
    sodium_memzero(seed, sizeof(seed));
    sodium_memzero(sk, sizeof(sk));
    mrd_free(out);
}

/* ---- reveal ---- */

#define REVEAL_IDS_MAX (4 * PMATCH_REVEAL_MAX) /* indicators one reveal answers with */

/* The distinct indicators behind the asked outputs, and which output each
 * (output, indicator) pair came from. */
struct reveal_ids {
    const char *ids[REVEAL_IDS_MAX];
    size_t n;
    uint16_t pair_out[REVEAL_IDS_MAX], pair_id[REVEAL_IDS_MAX];
    size_t npairs;
    uint16_t cur; /* the output being looked up */
    bool full;
    struct mrd_arena *arena;
};

static void add_id(void *ctx, const char *id)
{
    struct reveal_ids *x = ctx;
    size_t i = 0;
    char *copy;

    while (i < x->n && strcmp(x->ids[i], id) != 0)
        i++;
    if (x->npairs == REVEAL_IDS_MAX || (i == x->n && x->n == REVEAL_IDS_MAX)) {
        x->full = true;
        return;
    }
    if (i == x->n) {
        copy = mrd_arena_alloc(x->arena, strlen(id) + 1);
        if (copy == NULL) {
            x->full = true;
            return;
        }
        memcpy(copy, id, strlen(id) + 1);
        x->ids[x->n++] = copy;
    }
    x->pair_out[x->npairs] = x->cur;
    x->pair_id[x->npairs++] = (uint16_t)i;
}

/* Per asked output, the ids of the indicators shown for it. */
static json_t *revealed_json(const struct reveal_ids *ids, size_t n, json_t *objects)
{
    json_t *per = json_array(), *shown = json_object(), *o;
    size_t i;

    json_array_foreach(objects, i, o)
    {
        const char *id = json_string_value(json_object_get(o, "id"));
        if (id != NULL && shown != NULL)
            (void)json_object_set_new(shown, id, json_true());
    }
    for (i = 0; per != NULL && i < n; i++) {
        json_t *one = json_array();
        for (size_t p = 0; one != NULL && p < ids->npairs; p++)
            if (ids->pair_out[p] == i && json_object_get(shown, ids->ids[ids->pair_id[p]]) != NULL)
                (void)json_array_append_new(one, json_string(ids->ids[ids->pair_id[p]]));
        (void)json_array_append_new(per, one != NULL ? one : json_null());
    }
    json_decref(shown);
    return per;
}

struct reveal_read {
    struct pmatch_server *s;
    const struct api_req *r;
    struct policy_reader reader;
    struct privacy_scope scope;
    struct privacy_policy *privacy; /* in force for this reveal; NULL: none */
    struct audit_batch *audit;
    struct mrd_buf mine;
    json_t *objects;
};

static bool reveal_visible(void *ctx, const struct store_row *row)
{
    const struct reveal_read *x = ctx;
    return policy_may_read(&x->reader, &row->policy);
}

static enum mrd_code reveal_emit(void *ctx, const struct store_row *row, struct mrd_err *err)
{
    struct reveal_read *x = ctx;
    struct mrd_json_limits lim = {.max_bytes = STORE_OBJECT_MAX, .max_depth = 64};
    enum privacy_outcome po = PRIVACY_AS_IS;
    const char *body = row->body;
    size_t len = row->body_len;
    json_t *o = NULL;
    enum mrd_code rc;

    if (x->r->who.tok.org_relation == POLICY_REL_PARTNER) {
        if (x->privacy == NULL)
            return MRD_OK; /* no policy to minimise with: nothing leaves unminimised */
        x->mine.len = 0;
        rc = privacy_minimise_bytes(x->privacy, &x->scope, row->body, row->body_len, &x->mine, &po,
                                    err);
        if (rc != MRD_OK)
            return rc;
        if (po == PRIVACY_WITHHELD)
            return MRD_OK;
        body = x->mine.data;
        len = x->mine.len;
    }
    rc = mrd_json_parse(body, len, &lim, &o, err);
    if (rc == MRD_OK && json_array_append_new(x->objects, o) != 0)
        rc = mrd_err_set(err, MRD_E_NOMEM, "private: reveal");
    if (rc == MRD_OK)
        rc = audit_note(x->audit, row, err);
    return rc;
}

/* POST private/{offer}/reveal */
static void reveal(struct api_req *r)
{
    struct pmatch_server *s = r->ctx;
    struct pmatch_offer o;
    struct cached_set *c = NULL;
    struct store_collection coll;
    struct reveal_ids *ids = mrd_arena_alloc(r->http->arena, sizeof(*ids));
    struct reveal_read *x = mrd_arena_alloc(r->http->arena, sizeof(*x));
    struct store_match m = {
        .types = (const char *const[]){"indicator"}, .n_types = 1, .versions = STORE_VER_LAST};
    struct store_query q = {.added_after = STORE_TIME_NONE, .match = &m, .want_body = true};
    struct store_query_result res;
    const uint8_t *body = (const uint8_t *)r->http->body;
    size_t n = r->http->body_len / PMATCH_FULL_LEN, unknown = 0;
    bool can_read = false;
    struct mrd_err err = {0};
    enum mrd_code rc;

    if (!find_offer(r, &o))
        return;
    if (!o.reveal) {
        api_error(r, 403, "Reveal not offered",
                  "this offer does not reveal its indicators ('meridian privacy offer --reveal')");
        return;
    }
    if (r->http->body_len % PMATCH_FULL_LEN != 0 || n == 0 || n > PMATCH_REVEAL_MAX) {
        char detail[160];
        (void)snprintf(detail, sizeof(detail),
                       "expected 1..%d finalised OPRF outputs of %d bytes; got %zu bytes",
                       PMATCH_REVEAL_MAX, PMATCH_FULL_LEN, r->http->body_len);
        api_error(r, 400, "Bad reveal", detail);
        return;
    }
    if (ids == NULL || x == NULL) {
        api_error(r, 503, "Busy", "out of memory");
        return;
    }
    memset(ids, 0, sizeof(*ids));
    memset(x, 0, sizeof(*x));
    ids->arena = r->http->arena;
    (void)pthread_mutex_lock(&s->mu);
    rc = cached(s, &o, &c, &err);
    for (size_t i = 0; rc == MRD_OK && i < n; i++)
        if ((ids->cur = (uint16_t)i,
             pmatch_reveal_lookup(&c->map, body + i * PMATCH_FULL_LEN, add_id, ids)) == 0)
            unknown++;
    (void)pthread_mutex_unlock(&s->mu);
    if (rc != MRD_OK) {
        api_internal(r, &err);
        return;
    }
    if (ids->full) {
        api_error(r, 413, "Too many indicators", "ask about fewer outputs at a time");
        return;
    }
    x->s = s;
    x->r = r;
    x->objects = json_array();
    x->audit = mrd_arena_alloc(r->http->arena, sizeof(*x->audit));
    mrd_buf_init(&x->mine, STORE_OBJECT_MAX);
    if (x->objects == NULL || x->audit == NULL) {
        json_decref(x->objects);
        api_error(r, 503, "Busy", "out of memory");
        return;
    }
    rc = store_collection_get(s->st, NULL, 0, o.collection, strlen(o.collection), &coll, &err);
    if (rc == MRD_OK)
        rc = store_reader_for(s->st, r->who.tok.org_key, r->who.tok.org_relation, &coll, &x->reader,
                              &can_read, &err);
    x->scope = (struct privacy_scope){.org = r->who.tok.org_name, .community = coll.api_root};
    audit_begin(x->audit, s->st, AUDIT_PRIVATE, r->who.tok.org_name, r->who.tok.name);
    if (rc == MRD_OK && can_read && ids->n > 0) {
        m.ids = ids->ids;
        m.n_ids = ids->n;
        q.collection = coll.key;
        x->privacy = s->privacy != NULL ? privacy_live_get(s->privacy) : NULL;
        rc = store_objects_query(s->st, &q, reveal_visible, reveal_emit, x, &res, &err);
        privacy_policy_free(x->privacy);
    }
    if (rc == MRD_OK)
        rc = audit_flush(x->audit, &err);
    mrd_buf_release(&x->mine);
    if (rc != MRD_OK) {
        json_decref(x->objects);
        api_internal(r, &err);
        return;
    }
    pmatch__say(s->log, s->log_ctx,
                "private: offer %s: org %s asked to reveal %zu outputs: %zu indicators shown, "
                "%zu outputs unknown",
                o.name, r->who.tok.org_name, n, json_array_size(x->objects), unknown);
    api_json(r, 200,
             json_pack("{s:o,s:o,s:I}", "revealed", revealed_json(ids, n, x->objects), "objects",
                       x->objects, "unknown", (json_int_t)unknown));
}

static const struct api_route routes[] = {
    {"GET", "private", 0, 0, list, "private matching: the offers the caller may use"},
    {"GET", "private/{offer}", 0, 0, info,
     "private matching: an offer's parameters and the caller's budget today"},
    {"GET", "private/{offer}/set", 0, 0, set_page,
     "private matching: a page of the offer's published OPRF outputs (octet-stream)"},
    {"POST", "private/{offer}/evaluate", 0, 2 * PMATCH_BATCH_MAX *PMATCH_ELEMENT_LEN, evaluate,
     "private matching: blind evaluation of a batch of elements (octet-stream)"},
    {"POST", "private/{offer}/reveal", 0, 2 * PMATCH_REVEAL_MAX *PMATCH_FULL_LEN, reveal,
     "private matching: the indicators behind finalised outputs, when the offer reveals them"},
};

enum mrd_code pmatch_api_routes(struct pmatch_server *s, struct api_router *router,
                                struct mrd_err *err)
{
    return api_router_add(router, routes, sizeof(routes) / sizeof(routes[0]), s, err);
}
