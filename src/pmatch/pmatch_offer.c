/*
 * Offers (their definitions in the node metadata) and the published set
 * of an offer: the OPRF outputs of the exact keys of its values.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/json.h"
#include "core/str.h"
#include "core/timestamp.h"
#include "pmatch/pmatch.h"
#include "privacy/privacy.h"
#include "store/store.h"

#define SEED_META "private_seed:" /* + offer name: the offer's 32-byte OPRF seed */

static bool name_ok(const char *s)
{
    size_t n = strlen(s);

    if (n == 0 || n > PMATCH_NAME_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return false;
    }
    return true;
}

static enum mrd_code load_all(struct store *st, json_t **ret, struct mrd_err *err)
{
    char val[STORE_META_VAL_MAX + 1];
    struct mrd_json_limits lim = {.max_bytes = STORE_META_VAL_MAX, .max_depth = 8};
    enum mrd_code rc = store_meta_get(st, PMATCH_META_OFFERS, val, sizeof(val), err);

    if (rc == MRD_E_NOTFOUND) {
        mrd_err_clear(err);
        *ret = json_object();
        return *ret != NULL ? MRD_OK : mrd_err_set(err, MRD_E_NOMEM, "private: offers");
    }
    if (rc != MRD_OK)
        return rc;
    rc = mrd_json_parse(val, strlen(val), &lim, ret, err);
    if (rc == MRD_OK && !json_is_object(*ret)) {
        json_decref(*ret);
        rc = mrd_err_set(err, MRD_E_PARSE, "private: metadata %s is not an object",
                         PMATCH_META_OFFERS);
    }
    return rc;
}

static enum mrd_code save_all(struct store *st, json_t *all, struct mrd_err *err)
{
    char *text = json_dumps(all, JSON_COMPACT | JSON_SORT_KEYS);
    enum mrd_code rc;

    if (text == NULL)
        return mrd_err_set(err, MRD_E_NOMEM, "private: offers");
    if (strlen(text) > STORE_META_VAL_MAX)
        rc = mrd_err_set(err, MRD_E_TOOBIG, "private: the offers take more than %d bytes",
                         STORE_META_VAL_MAX);
    else
        rc = store_meta_set(st, PMATCH_META_OFFERS, text, err);
    free(text);
    return rc;
}

enum mrd_code pmatch_offer_put(struct store *st, const struct pmatch_offer *o, struct mrd_err *err)
{
    struct store_collection c;
    json_t *all = NULL, *one = NULL, *to = NULL;
    enum mrd_code rc;

    if (!name_ok(o->name))
        return mrd_err_set(err, MRD_E_INVAL, "private: offer name must be 1-%d of [A-Za-z0-9._-]",
                           PMATCH_NAME_MAX);
    if (o->budget == 0 || o->budget > PMATCH_MAX_VALUES)
        return mrd_err_set(err, MRD_E_INVAL, "private: budget must be 1..%d values a day",
                           PMATCH_MAX_VALUES);
    rc = store_collection_get(st, NULL, 0, o->collection, strlen(o->collection), &c, err);
    if (rc != MRD_OK)
        return rc;
    rc = load_all(st, &all, err);
    if (rc != MRD_OK)
        return rc;
    if (json_object_get(all, o->name) == NULL && json_object_size(all) >= PMATCH_MAX_OFFERS) {
        rc = mrd_err_set(err, MRD_E_TOOBIG, "private: at most %d offers", PMATCH_MAX_OFFERS);
        goto out;
    }
    to = json_array();
    for (size_t i = 0; to != NULL && i < o->nto; i++)
        if (json_array_append_new(to, json_string(o->to[i])) != 0) {
            rc = mrd_err_set(err, MRD_E_INVAL, "private: --to %s is not UTF-8", o->to[i]);
            goto out;
        }
    one = json_pack("{s:s,s:O,s:I,s:b}", "collection", c.id, "to", to, "budget",
                    (json_int_t)o->budget, "reveal", o->reveal);
    if (one == NULL || json_object_set_new(all, o->name, one) != 0) {
        rc = mrd_err_set(err, MRD_E_NOMEM, "private: offer");
        goto out;
    }
    rc = save_all(st, all, err);
out:
    json_decref(to);
    json_decref(all);
    return rc;
}

enum mrd_code pmatch_offer_remove(struct store *st, const char *name, struct mrd_err *err)
{
    char key[STORE_META_KEY_MAX + 1], hex[65];
    uint8_t fresh[32];
    json_t *all = NULL;
    enum mrd_code rc = load_all(st, &all, err);

    if (rc != MRD_OK)
        return rc;
    if (json_object_get(all, name) == NULL) {
        rc = mrd_err_set(err, MRD_E_NOTFOUND, "private: no offer named %s", name);
        goto out;
    }
    (void)json_object_del(all, name);
    rc = save_all(st, all, err);
    if (rc == MRD_OK) {
        /* The key goes with the offer: one made again gets a new one. */
        randombytes_buf(fresh, sizeof(fresh));
        sodium_bin2hex(hex, sizeof(hex), fresh, sizeof(fresh));
        (void)snprintf(key, sizeof(key), SEED_META "%s", name);
        rc = store_meta_set(st, key, hex, err);
        sodium_memzero(fresh, sizeof(fresh));
        sodium_memzero(hex, sizeof(hex));
    }
out:
    json_decref(all);
    return rc;
}

static bool offer_from_json(const char *name, json_t *v, struct pmatch_offer *o)
{
    json_t *to = json_object_get(v, "to"), *e;
    const char *coll = json_string_value(json_object_get(v, "collection"));
    json_int_t budget = json_integer_value(json_object_get(v, "budget"));
    size_t i;

    memset(o, 0, sizeof(*o));
    if (!name_ok(name) || coll == NULL || budget <= 0 || !json_is_array(to) ||
        json_array_size(to) > PMATCH_MAX_TO)
        return false;
    mrd_strlcpy(o->name, name, sizeof(o->name));
    mrd_strlcpy(o->collection, coll, sizeof(o->collection));
    o->budget = (uint64_t)budget;
    o->reveal = json_is_true(json_object_get(v, "reveal")); /* absent: off */
    json_array_foreach(to, i, e)
    {
        if (!json_is_string(e))
            return false;
        mrd_strlcpy(o->to[o->nto++], json_string_value(e), sizeof(o->to[0]));
    }
    return true;
}

enum mrd_code pmatch_offer_list(struct store *st, struct pmatch_offer *ret, size_t *ret_n,
                                struct mrd_err *err)
{
    json_t *all = NULL, *v;
    const char *name;
    enum mrd_code rc = load_all(st, &all, err);
    size_t n = 0;

    if (rc != MRD_OK)
        return rc;
    json_object_foreach(all, name, v)
    {
        if (n == PMATCH_MAX_OFFERS || !offer_from_json(name, v, &ret[n])) {
            rc = mrd_err_set(err, MRD_E_PARSE, "private: metadata %s: offer %s is malformed",
                             PMATCH_META_OFFERS, name);
            break;
        }
        n++;
    }
    json_decref(all);
    *ret_n = n;
    return rc;
}

/* ---- the published set ---- */

/* Keys as [u16 length][bytes]..., in one buffer; with a reveal map, the
 * indicator of each key (inds) and the indicators' ids. */
struct collect {
    struct mrd_buf keys;
    size_t nkeys, skipped;
    bool want_map;
    struct mrd_buf inds; /* uint32_t per key */
    struct mrd_buf ids;  /* char[PMATCH_ID_MAX + 1] per indicator */
    uint32_t nids;
    int64_t now;
    char scratch[MATCH_MAX_PATTERN], pscratch[MATCH_MAX_PATTERN];
};

static enum mrd_code on_pair(void *ctx, enum match_type type, const char *v, size_t n,
                             struct mrd_err *err)
{
    struct collect *c = ctx;
    char key[MATCH_KEY_MAX];
    size_t len = 0;
    uint16_t l16;
    enum mrd_code rc;

    if (match_value_key(type, v, n, key, &len, NULL) != MRD_OK || len > UINT16_MAX) {
        c->skipped++; /* a range, or a value the matcher refuses too */
        return MRD_OK;
    }
    if (c->nkeys >= PMATCH_MAX_VALUES)
        return mrd_err_set(err, MRD_E_TOOBIG, "private: more than %d values", PMATCH_MAX_VALUES);
    l16 = (uint16_t)len;
    rc = mrd_buf_append(&c->keys, &l16, sizeof(l16), err);
    if (rc == MRD_OK)
        rc = mrd_buf_append(&c->keys, key, len, err);
    if (rc == MRD_OK && c->want_map) {
        uint32_t ind = c->nids - 1; /* the indicator on_ind is reading */
        rc = mrd_buf_append(&c->inds, &ind, sizeof(ind), err);
    }
    c->nkeys += rc == MRD_OK;
    return rc;
}

static enum mrd_code on_ind(void *ctx, const struct match_stix_ind *ind, struct mrd_err *err)
{
    struct collect *c = ctx;
    enum mrd_code rc;

    if (ind->revoked || ind->valid_from > c->now || ind->valid_until <= c->now ||
        ind->pattern == NULL ||
        (ind->pattern_type != NULL &&
         !mrd_str_eq(ind->pattern_type, ind->pattern_type_len, "stix")))
        return MRD_OK;
    if (c->want_map) {
        char id[PMATCH_ID_MAX + 1] = {0};
        if (ind->id == NULL || ind->id_len > PMATCH_ID_MAX)
            return MRD_OK; /* no id to reveal: not a STIX indicator the store accepts */
        memcpy(id, ind->id, ind->id_len);
        rc = mrd_buf_append(&c->ids, id, sizeof(id), err);
        if (rc != MRD_OK)
            return rc;
        c->nids++;
    }
    rc = match_pattern_pairs(ind->pattern, ind->pattern_len, c->pscratch, on_pair, c, err);
    if (rc == MRD_E_UNSUPP || rc == MRD_E_PARSE) {
        mrd_err_clear(err);
        c->skipped++; /* patterns the index cannot express have no values */
        return MRD_OK;
    }
    return rc;
}

static enum mrd_code on_row(void *ctx, const struct store_row *row, struct mrd_err *err)
{
    struct collect *c = ctx;

    if (row->body == NULL || row->revoked)
        return MRD_OK;
    return match_stix_each(row->body, row->body_len, c->scratch, on_ind, c, err);
}

struct eval_job {
    const uint8_t *sk;
    const uint8_t *keys; /* [u16][bytes]... */
    const size_t *offs;
    size_t from, to;
    uint8_t *out;
    struct pmatch_reveal_entry *full; /* NULL: no reveal map */
    enum mrd_code rc;
    struct mrd_err err;
};

static void *eval_main(void *arg)
{
    struct eval_job *j = arg;
    uint8_t full[PRIVACY_OPRF_OUTPUT_LEN];

    for (size_t i = j->from; i < j->to && j->rc == MRD_OK; i++) {
        uint16_t len;
        memcpy(&len, j->keys + j->offs[i], sizeof(len));
        j->rc = privacy_oprf_evaluate(j->sk, j->keys + j->offs[i] + 2, len, full, &j->err);
        memcpy(j->out + i * PMATCH_OUTPUT_LEN, full, PMATCH_OUTPUT_LEN);
        if (j->full != NULL)
            memcpy(j->full[i].out, full, PMATCH_FULL_LEN);
    }
    return NULL;
}

static int cmp_out(const void *a, const void *b)
{
    return memcmp(a, b, PMATCH_OUTPUT_LEN);
}

static int cmp_entry(const void *a, const void *b)
{
    return memcmp(((const struct pmatch_reveal_entry *)a)->out,
                  ((const struct pmatch_reveal_entry *)b)->out, PMATCH_FULL_LEN);
}

void pmatch_reveal_map_release(struct pmatch_reveal_map *m)
{
    if (m == NULL)
        return;
    if (m->e != NULL)
        sodium_memzero(m->e, m->n * sizeof(*m->e));
    mrd_free(m->e);
    mrd_free(m->ids);
    memset(m, 0, sizeof(*m));
}

size_t pmatch_reveal_lookup(const struct pmatch_reveal_map *m, const uint8_t out[PMATCH_FULL_LEN],
                            void (*cb)(void *ctx, const char *id), void *ctx)
{
    size_t lo = 0, hi = m->n, found = 0;

    while (lo < hi) { /* the first entry >= out */
        size_t mid = lo + (hi - lo) / 2;
        if (memcmp(m->e[mid].out, out, PMATCH_FULL_LEN) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (; lo < m->n && memcmp(m->e[lo].out, out, PMATCH_FULL_LEN) == 0; lo++, found++)
        cb(ctx, m->ids[m->e[lo].ind]);
    return found;
}

#define MAX_THREADS 64

enum mrd_code pmatch_offer_publish(struct store *st, const struct pmatch_offer *o, unsigned threads,
                                   uint8_t **ret, size_t *ret_n, size_t *ret_skipped,
                                   struct pmatch_reveal_map *ret_map, struct mrd_err *err)
{
    static const char *const types[] = {"indicator"};
    char key[STORE_META_KEY_MAX + 1];
    uint8_t seed[32], sk[32];
    struct store_collection coll;
    struct store_match m = {.types = types, .n_types = 1, .versions = STORE_VER_LAST};
    struct store_query q = {.added_after = STORE_TIME_NONE, .match = &m, .want_body = true};
    struct store_query_result res;
    struct eval_job jobs[MAX_THREADS];
    pthread_t tids[MAX_THREADS];
    bool started[MAX_THREADS] = {false};
    size_t *offs = NULL, n = 0;
    uint8_t *out = NULL;
    struct pmatch_reveal_entry *full = NULL;
    struct collect *c = mrd_calloc(1, sizeof(*c));
    enum mrd_code rc;

    if (c == NULL)
        return mrd_err_set(err, MRD_E_NOMEM, "private: publish");
    mrd_buf_init(&c->keys, (size_t)PMATCH_MAX_VALUES * (MATCH_KEY_MAX + 2));
    mrd_buf_init(&c->inds, (size_t)PMATCH_MAX_VALUES * sizeof(uint32_t));
    mrd_buf_init(&c->ids, (size_t)PMATCH_MAX_VALUES * (PMATCH_ID_MAX + 1));
    c->want_map = ret_map != NULL;
    c->now = mrd_time_now_usec();
    (void)snprintf(key, sizeof(key), SEED_META "%s", o->name);
    rc = store_meta_key(st, key, seed, sizeof(seed), err);
    if (rc == MRD_OK)
        rc = pmatch_offer_key(seed, o->name, sk, err);
    if (rc == MRD_OK)
        rc = store_collection_get(st, NULL, 0, o->collection, strlen(o->collection), &coll, err);
    if (rc != MRD_OK)
        goto out;
    q.collection = coll.key;
    rc = store_objects_query(st, &q, NULL, on_row, c, &res, err);
    if (rc != MRD_OK)
        goto out;
    offs = mrd_calloc(c->nkeys + 1, sizeof(*offs));
    out = mrd_malloc((c->nkeys + 1) * PMATCH_OUTPUT_LEN);
    if (ret_map != NULL)
        full = mrd_calloc(c->nkeys + 1, sizeof(*full));
    if (offs == NULL || out == NULL || (ret_map != NULL && full == NULL)) {
        rc = mrd_err_set(err, MRD_E_NOMEM, "private: %zu values", c->nkeys);
        goto out;
    }
    for (size_t i = 0, p = 0; i < c->nkeys; i++) {
        uint16_t len;
        offs[i] = p;
        memcpy(&len, (const uint8_t *)c->keys.data + p, sizeof(len));
        p += 2 + len;
    }
    if (threads == 0)
        threads = 1;
    if (threads > MAX_THREADS)
        threads = MAX_THREADS;
    for (unsigned t = 0; t < threads; t++) {
        jobs[t] = (struct eval_job){.sk = sk,
                                    .keys = (const uint8_t *)c->keys.data,
                                    .offs = offs,
                                    .from = c->nkeys * t / threads,
                                    .to = c->nkeys * (t + 1) / threads,
                                    .out = out,
                                    .full = full};
        started[t] = t > 0 && pthread_create(&tids[t], NULL, eval_main, &jobs[t]) == 0;
    }
    for (unsigned t = 0; t < threads; t++)
        if (!started[t])
            eval_main(&jobs[t]); /* this thread does the share of any that did not start */
    for (unsigned t = 1; t < threads; t++)
        if (started[t])
            (void)pthread_join(tids[t], NULL);
    for (unsigned t = 0; t < threads && rc == MRD_OK; t++)
        if (jobs[t].rc != MRD_OK) {
            rc = jobs[t].rc;
            if (err != NULL)
                *err = jobs[t].err;
        }
    if (rc != MRD_OK)
        goto out;
    /* Sorted: the set says nothing about the order of the indicators. */
    qsort(out, c->nkeys, PMATCH_OUTPUT_LEN, cmp_out);
    for (size_t i = 0; i < c->nkeys; i++)
        if (n == 0 || memcmp(out + (n - 1) * PMATCH_OUTPUT_LEN, out + i * PMATCH_OUTPUT_LEN,
                             PMATCH_OUTPUT_LEN) != 0)
            memmove(out + n++ * PMATCH_OUTPUT_LEN, out + i * PMATCH_OUTPUT_LEN, PMATCH_OUTPUT_LEN);
    if (ret_map != NULL) {
        for (size_t i = 0; i < c->nkeys; i++)
            memcpy(&full[i].ind, (const uint8_t *)c->inds.data + i * sizeof(uint32_t),
                   sizeof(uint32_t));
        qsort(full, c->nkeys, sizeof(*full), cmp_entry);
        ret_map->e = full;
        ret_map->n = c->nkeys;
        ret_map->ids = (char(*)[PMATCH_ID_MAX + 1]) c->ids.data; /* the buffer's own memory */
        ret_map->nids = c->nids;
        c->ids.data = NULL;
        full = NULL;
    }
    *ret = out;
    *ret_n = n;
    *ret_skipped = c->skipped;
    out = NULL;
out:
    sodium_memzero(seed, sizeof(seed));
    sodium_memzero(sk, sizeof(sk));
    if (c->keys.data != NULL)
        sodium_memzero(c->keys.data, c->keys.len);
    mrd_buf_release(&c->keys);
    mrd_buf_release(&c->inds);
    mrd_buf_release(&c->ids);
    mrd_free(c);
    mrd_free(full);
    mrd_free(offs);
    mrd_free(out);
    return rc;
}
