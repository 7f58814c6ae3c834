/*
 * The partner side of private matching (pmatch.h): `meridian match
 * --private PEER`.
 *
 * 1. The offer's parameters and published set (paged) from the peer; the
 *    set goes into a match/ index as opaque keys.
 * 2. The logs, read with the same readers as `meridian match`: every
 *    looked-up field of every parsed line gives its exact keys
 *    (match_obs_keys), deduplicated here, with the first place each was
 *    seen. Only this process ever holds them.
 * 3. Batches of keys, on `threads` threads: each blinds its batch with
 *    fresh random blinds, POSTs the blinded elements, finalises the
 *    answer (privacy_oprf_finalize_batch), truncates the outputs and looks
 *    them up in the index.
 * 4. With reveal (or report), the full outputs of the matches go to the
 *    offer's reveal route, which answers with the indicators behind them;
 *    with report, one sighting per revealed indicator is POSTed to the
 *    peer's TAXII collection, as any partner's objects are.
 * 5. One JSON line per matched value, in the order they were first seen.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/json.h"
#include "core/str.h"
#include "core/timestamp.h"
#include "core/uuid.h"
#include "fed/fed.h"
#include "pmatch/pmatch.h"
#include "pmatch/pmatch_int.h"
#include "privacy/privacy.h"

#define CLIENT_BATCH 2048    /* elements per evaluate request */
#define CLIENT_TIMEOUT_S 300 /* one request */
#define CLIENT_MAX_THREADS 16
#define CLIENT_MAX_URL 2048
#define CLIENT_SHOW_MAX 256 /* bytes of a value kept to print it */
#define CLIENT_INFO_MAX ((size_t)1 << 20)
#define CLIENT_REVEAL_ANSWER_MAX ((size_t)64 << 20) /* one reveal answer */
#define CLIENT_TAXII_MT "application/taxii+json;version=2.1"

/* One distinct key: where it is, what to print. */
struct entry {
    uint64_t key_off;  /* into keys: the key bytes */
    uint64_t show_off; /* into shows: the field value as written */
    uint64_t line;     /* 0-based */
    uint32_t file;
    uint32_t seen; /* lines (fields) holding it */
    uint16_t key_len;
    uint16_t show_len;
    const char *field; /* static or reader-owned: copied into fields */
    uint32_t field_off;
};

struct keyset {
    struct entry *e;
    size_t n, cap;
    uint32_t *slots; /* entry index + 1, 0 empty */
    size_t mask;
    struct mrd_buf keys, shows, fields;
    /* the line being read */
    uint32_t file;
    uint64_t line;
    const char *field;
    const char *v;
    size_t vn;
    enum mrd_code rc;
};

static uint64_t hash_bytes(const void *p, size_t n)
{
    const uint8_t *b = p;
    uint64_t h = 0xcbf29ce484222325ull;

    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 0x100000001b3ull;
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    return h;
}

static enum mrd_code keyset_grow(struct keyset *ks)
{
    size_t nslots = ks->mask == 0 ? 1024 : (ks->mask + 1) * 2;
    uint32_t *s = mrd_calloc(nslots, sizeof(*s));

    if (s == NULL)
        return MRD_E_NOMEM;
    for (size_t i = 0; i < ks->n; i++) {
        const struct entry *e = &ks->e[i];
        size_t j = hash_bytes(ks->keys.data + e->key_off, e->key_len) & (nslots - 1);
        while (s[j] != 0)
            j = (j + 1) & (nslots - 1);
        s[j] = (uint32_t)(i + 1);
    }
    mrd_free(ks->slots);
    ks->slots = s;
    ks->mask = nslots - 1;
    return MRD_OK;
}

static void on_key(void *ctx, const char *key, size_t n)
{
    struct keyset *ks = ctx;
    struct entry *e;
    size_t j, show;

    if (ks->rc != MRD_OK)
        return;
    if ((ks->n + 1) * 2 > ks->mask && (ks->rc = keyset_grow(ks)) != MRD_OK)
        return;
    j = hash_bytes(key, n) & ks->mask;
    while (ks->slots[j] != 0) {
        e = &ks->e[ks->slots[j] - 1];
        if (e->key_len == n && memcmp(ks->keys.data + e->key_off, key, n) == 0) {
            e->seen += e->seen < UINT32_MAX;
            return; /* seen before: its first place stays */
        }
        j = (j + 1) & ks->mask;
    }
    if (ks->n >= PMATCH_MAX_VALUES) {
        ks->rc = MRD_E_TOOBIG;
        return;
    }
    if ((ks->rc = mrd_array_grow(&ks->e, ks->n, &ks->cap, sizeof(*ks->e), 1024)) != MRD_OK)
        return;
    e = &ks->e[ks->n];
    show = ks->vn > CLIENT_SHOW_MAX ? CLIENT_SHOW_MAX : ks->vn;
    e->key_off = ks->keys.len;
    e->key_len = (uint16_t)n;
    e->show_off = ks->shows.len;
    e->show_len = (uint16_t)show;
    e->file = ks->file;
    e->seen = 1;
    e->line = ks->line;
    e->field_off = (uint32_t)ks->fields.len;
    if (mrd_buf_append(&ks->keys, key, n, NULL) != MRD_OK ||
        mrd_buf_append(&ks->shows, ks->v, show, NULL) != MRD_OK ||
        mrd_buf_append(&ks->fields, ks->field != NULL ? ks->field : "",
                       strlen(ks->field != NULL ? ks->field : "") + 1, NULL) != MRD_OK) {
        ks->rc = MRD_E_NOMEM;
        return;
    }
    ks->slots[j] = (uint32_t)(ks->n + 1);
    ks->n++;
}

static bool no_hit(void *ctx, const struct match_hit *hit)
{
    (void)ctx, (void)hit;
    return true;
}

static bool on_line(void *ctx, const struct match_hit *line, const struct match_field *f, size_t nf)
{
    struct keyset *ks = ctx;

    ks->line = line->line;
    for (size_t i = 0; i < nf && ks->rc == MRD_OK; i++) {
        ks->field = f[i].field;
        ks->v = f[i].v;
        ks->vn = f[i].n;
        match_obs_keys(f[i].obs, f[i].v, f[i].n, on_key, ks);
    }
    return ks->rc == MRD_OK;
}

static enum mrd_code extract(const struct pmatch_client_opts *o, const struct match_index *empty,
                             struct keyset *ks, uint64_t *ret_lines, struct mrd_err *err)
{
    for (size_t i = 0; i < o->ninputs; i++) {
        const char *path = o->inputs[i];
        struct match_reader r;
        struct match_stats st;
        struct stat sb;
        void *map = NULL;
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        enum match_format fmt = o->fmt;

        if (fd < 0 || fstat(fd, &sb) != 0) {
            if (fd >= 0)
                (void)close(fd);
            return mrd_err_set(err, MRD_E_IO, "%s: cannot read", path);
        }
        if (sb.st_size > 0) {
            map = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
            if (map == MAP_FAILED) {
                (void)close(fd);
                return mrd_err_set(err, MRD_E_IO, "%s: cannot map", path);
            }
        }
        (void)close(fd);
        if (map == NULL)
            continue;
        if (fmt == MATCH_FMT_AUTO)
            fmt = match_format_detect(map, (size_t)sb.st_size);
        if (fmt == MATCH_FMT_AUTO) {
            (void)munmap(map, (size_t)sb.st_size);
            return mrd_err_set(err, MRD_E_PARSE, "%s: unknown log format (give --format)", path);
        }
        match_reader_init(&r, fmt);
        memset(&st, 0, sizeof(st));
        ks->file = (uint32_t)i;
        (void)match_scan_ex(empty, &r, map, (size_t)sb.st_size, 0, no_hit, NULL, on_line, ks, &st);
        (void)munmap(map, (size_t)sb.st_size);
        *ret_lines += st.lines;
        if (ks->rc != MRD_OK)
            return mrd_err_set(err, ks->rc, "%s: more than %d distinct values, or out of memory",
                               path, PMATCH_MAX_VALUES);
    }
    return MRD_OK;
}

/* ---- HTTP ---- */

static enum mrd_code call_as(const struct pmatch_client_opts *o, const char *url, const char *ctype,
                             const char *accept, const void *body, size_t body_len, size_t max,
                             struct fed_response *resp, struct mrd_err *err)
{
    struct fed_get_req req = {.url = url,
                              .ca_file = o->ca_file,
                              .bearer = o->token,
                              .accept = accept,
                              .max_bytes = max,
                              .timeout_s = CLIENT_TIMEOUT_S,
                              .body = body,
                              .body_len = body_len,
                              .content_type = ctype};
    enum mrd_code rc;

    fed_get_response_init(resp, max);
    rc = fed_get(&req, resp, err);
    if (rc == MRD_OK && resp->status / 100 != 2) {
        /* The API's error body: {"title", "detail"}; shown escaped. */
        struct mrd_json_limits lim = {.max_bytes = max, .max_depth = 4};
        json_t *e = NULL;
        const char *title = NULL, *detail = NULL;

        if (mrd_json_parse(resp->body.data, resp->body.len, &lim, &e, NULL) == MRD_OK) {
            title = json_string_value(json_object_get(e, "title"));
            detail = json_string_value(json_object_get(e, "detail"));
        }
        rc = mrd_err_set(err, resp->status == 429 ? MRD_E_PERM : MRD_E_IO, "%s: HTTP %ld%s%s%s%s",
                         url, resp->status, title ? ": " : "", title ? MRD_ESC(title) : "",
                         detail ? ": " : "", detail ? MRD_ESC(detail) : "");
        json_decref(e);
    }
    return rc;
}

static enum mrd_code call(const struct pmatch_client_opts *o, const char *url, const void *body,
                          size_t body_len, size_t max, struct fed_response *resp,
                          struct mrd_err *err)
{
    return call_as(o, url, "application/octet-stream",
                   body != NULL ? "application/octet-stream" : NULL, body, body_len, max, resp,
                   err);
}

static enum mrd_code get_json(const struct pmatch_client_opts *o, const char *url, json_t **ret,
                              struct mrd_err *err)
{
    struct fed_response resp;
    struct mrd_json_limits lim = {.max_bytes = CLIENT_INFO_MAX, .max_depth = 8};
    enum mrd_code rc = call(o, url, NULL, 0, CLIENT_INFO_MAX, &resp, err);

    if (rc == MRD_OK)
        rc = mrd_json_parse(resp.body.data, resp.body.len, &lim, ret, err);
    fed_get_response_release(&resp);
    return rc;
}

/* The offer's name (o->offer, or the only one the peer offers us). */
static enum mrd_code pick_offer(const struct pmatch_client_opts *o, const char *base,
                                char name[PMATCH_NAME_MAX + 1], struct mrd_err *err)
{
    char url[CLIENT_MAX_URL];
    json_t *v = NULL, *offers;
    enum mrd_code rc;

    if (o->offer != NULL) {
        mrd_strlcpy(name, o->offer, PMATCH_NAME_MAX + 1);
        return MRD_OK;
    }
    (void)snprintf(url, sizeof(url), "%s/api/v1/private/", base);
    rc = get_json(o, url, &v, err);
    if (rc != MRD_OK)
        return rc;
    offers = json_object_get(v, "offers");
    if (json_array_size(offers) != 1) {
        rc = mrd_err_set(err, MRD_E_INVAL, "the peer offers %zu sets to us: name one with --offer",
                         json_array_size(offers));
    } else {
        const char *n = json_string_value(json_object_get(json_array_get(offers, 0), "offer"));
        if (n == NULL || strlen(n) > PMATCH_NAME_MAX)
            rc = mrd_err_set(err, MRD_E_PARSE, "%s: malformed answer", url);
        else
            mrd_strlcpy(name, n, PMATCH_NAME_MAX + 1);
    }
    json_decref(v);
    return rc;
}

static enum mrd_code load_set(const struct pmatch_client_opts *o, const char *offer_url,
                              struct match_index *idx, uint64_t *ret_n, struct mrd_err *err)
{
    char url[CLIENT_MAX_URL];
    uint64_t n = 0;
    enum mrd_code rc = MRD_OK;

    for (;;) {
        struct fed_response resp;
        size_t got;

        (void)snprintf(url, sizeof(url), "%s/set?start=%" PRIu64, offer_url, n);
        rc = call(o, url, NULL, 0, (size_t)PMATCH_SET_PAGE * PMATCH_OUTPUT_LEN + 1, &resp, err);
        if (rc == MRD_OK && resp.body.len % PMATCH_OUTPUT_LEN != 0)
            rc = mrd_err_set(err, MRD_E_PARSE, "%s: %zu bytes is no whole number of outputs", url,
                             resp.body.len);
        got = resp.body.len / PMATCH_OUTPUT_LEN;
        for (size_t i = 0; rc == MRD_OK && i < got; i++)
            rc = match_index_add_opaque(idx, resp.body.data + i * PMATCH_OUTPUT_LEN,
                                        PMATCH_OUTPUT_LEN, (uint32_t)(n + i), err);
        fed_get_response_release(&resp);
        if (rc != MRD_OK)
            return rc;
        n += got;
        if (got < PMATCH_SET_PAGE)
            break;
        if (n > PMATCH_MAX_VALUES)
            return mrd_err_set(err, MRD_E_TOOBIG, "%s: more than %d outputs", url,
                               PMATCH_MAX_VALUES);
    }
    *ret_n = n;
    return match_index_build(idx, err);
}

/* ---- the OPRF session ---- */

struct session {
    const struct pmatch_client_opts *o;
    const struct keyset *ks;
    const struct match_index *set;
    const char *eval_url;
    uint8_t *matched;   /* per key */
    uint8_t *full;      /* per key, PRIVACY_OPRF_OUTPUT_LEN bytes: with reveal only */
    atomic_size_t next; /* the next batch's first key */
    atomic_bool failed;
    atomic_uint_fast64_t batches;
    pthread_mutex_t mu;
    enum mrd_code rc;
    struct mrd_err err;
};

static void fail(struct session *s, enum mrd_code rc, const struct mrd_err *e)
{
    (void)pthread_mutex_lock(&s->mu);
    if (s->rc == MRD_OK) {
        s->rc = rc;
        s->err = *e;
    }
    (void)pthread_mutex_unlock(&s->mu);
    atomic_store(&s->failed, true);
}

static void *session_main(void *arg)
{
    struct session *s = arg;
    const struct keyset *ks = s->ks;
    uint8_t *blinds = mrd_malloc((size_t)CLIENT_BATCH * 32);
    uint8_t *blinded = mrd_malloc((size_t)CLIENT_BATCH * 32);
    uint8_t *outs = mrd_malloc((size_t)CLIENT_BATCH * 64);
    const uint8_t **inputs = mrd_malloc(CLIENT_BATCH * sizeof(*inputs));
    size_t *lens = mrd_malloc(CLIENT_BATCH * sizeof(*lens));
    struct mrd_err e = {0};
    enum mrd_code rc = MRD_OK;

    if (blinds == NULL || blinded == NULL || outs == NULL || inputs == NULL || lens == NULL) {
        rc = mrd_err_set(&e, MRD_E_NOMEM, "private: session buffers");
        goto out;
    }
    while (!atomic_load(&s->failed)) {
        size_t first = atomic_fetch_add(&s->next, CLIENT_BATCH), n;
        struct fed_response resp;

        if (first >= ks->n)
            break;
        n = ks->n - first < CLIENT_BATCH ? ks->n - first : CLIENT_BATCH;
        for (size_t i = 0; i < n && rc == MRD_OK; i++) {
            const struct entry *en = &ks->e[first + i];
            inputs[i] = (const uint8_t *)ks->keys.data + en->key_off;
            lens[i] = en->key_len;
            rc = privacy_oprf_blind_random(inputs[i], lens[i], blinds + 32 * i, blinded + 32 * i,
                                           &e);
        }
        if (rc != MRD_OK)
            break;
        rc = call(s->o, s->eval_url, blinded, n * 32, n * 32 + 1, &resp, &e);
        if (rc == MRD_OK && resp.body.len != n * 32)
            rc = mrd_err_set(&e, MRD_E_PARSE, "%s: %zu bytes for %zu elements", s->eval_url,
                             resp.body.len, n);
        if (rc == MRD_OK)
            rc = privacy_oprf_finalize_batch(n, inputs, lens, blinds,
                                             (const uint8_t *)resp.body.data, outs, &e);
        fed_get_response_release(&resp);
        if (rc != MRD_OK)
            break;
        for (size_t i = 0; i < n; i++) {
            uint32_t hit;
            if (match_index_lookup_opaque(s->set, outs + 64 * i, PMATCH_OUTPUT_LEN, &hit, 1) > 0) {
                s->matched[first + i] = 1;
                if (s->full != NULL)
                    memcpy(s->full + (first + i) * PMATCH_FULL_LEN, outs + 64 * i, PMATCH_FULL_LEN);
            }
        }
        atomic_fetch_add(&s->batches, 1);
    }
out:
    if (rc != MRD_OK)
        fail(s, rc, &e);
    if (blinds != NULL)
        sodium_memzero(blinds, (size_t)CLIENT_BATCH * 32);
    mrd_free(blinds);
    mrd_free(blinded);
    mrd_free(outs);
    mrd_free(inputs);
    mrd_free(lens);
    return NULL;
}

/* ---- reveal and report ---- */

/* Asks the offer for the indicators behind the matched keys, in requests
 * of at most PMATCH_REVEAL_MAX outputs: per[i] gets the array of the
 * indicator objects of key i (NULL: none shown). */
static enum mrd_code reveal_all(const struct pmatch_client_opts *o, const char *offer_url,
                                const struct keyset *ks, const uint8_t *matched,
                                const uint8_t *full, json_t **per, uint64_t *ret_n,
                                struct mrd_err *err)
{
    char url[CLIENT_MAX_URL];
    uint8_t *body = mrd_malloc((size_t)PMATCH_REVEAL_MAX * PMATCH_FULL_LEN);
    size_t *which = mrd_malloc(PMATCH_REVEAL_MAX * sizeof(*which));
    json_t *seen = json_object();
    enum mrd_code rc = MRD_OK;
    size_t i = 0;

    if (body == NULL || which == NULL || seen == NULL) {
        rc = mrd_err_set(err, MRD_E_NOMEM, "private: reveal");
        goto out;
    }
    (void)snprintf(url, sizeof(url), "%s/reveal", offer_url);
    while (rc == MRD_OK && i < ks->n) {
        struct mrd_json_limits lim = {.max_bytes = CLIENT_REVEAL_ANSWER_MAX, .max_depth = 64};
        struct fed_response resp;
        json_t *ans = NULL, *objs, *revealed, *byid = NULL, *ob;
        size_t n = 0, k;

        for (; i < ks->n && n < PMATCH_REVEAL_MAX; i++)
            if (matched[i]) {
                memcpy(body + n * PMATCH_FULL_LEN, full + i * PMATCH_FULL_LEN, PMATCH_FULL_LEN);
                which[n++] = i;
            }
        if (n == 0)
            break;
        rc = call_as(o, url, "application/octet-stream", "application/json", body,
                     n * PMATCH_FULL_LEN, CLIENT_REVEAL_ANSWER_MAX, &resp, err);
        if (rc == MRD_OK)
            rc = mrd_json_parse(resp.body.data, resp.body.len, &lim, &ans, err);
        fed_get_response_release(&resp);
        if (rc != MRD_OK)
            break;
        objs = json_object_get(ans, "objects");
        revealed = json_object_get(ans, "revealed");
        byid = json_object();
        if (!json_is_array(objs) || !json_is_array(revealed) || json_array_size(revealed) != n ||
            byid == NULL) {
            rc = mrd_err_set(err, MRD_E_PARSE, "%s: malformed answer", url);
            goto next;
        }
        json_array_foreach(objs, k, ob)
        {
            const char *id = json_string_value(json_object_get(ob, "id"));
            if (id != NULL)
                (void)json_object_set(byid, id, ob);
        }
        for (k = 0; k < n; k++) {
            json_t *ids = json_array_get(revealed, k), *idv;
            size_t m;
            json_array_foreach(ids, m, idv)
            {
                const char *id = json_string_value(idv);
                json_t *obj = id != NULL ? json_object_get(byid, id) : NULL;
                if (obj == NULL)
                    continue;
                if (per[which[k]] == NULL)
                    per[which[k]] = json_array();
                (void)json_array_append(per[which[k]], obj);
                if (json_object_get(seen, id) == NULL) {
                    (void)json_object_set_new(seen, id, json_true());
                    (*ret_n)++;
                }
            }
        }
    next:
        json_decref(byid);
        json_decref(ans);
    }
out:
    json_decref(seen);
    mrd_free(body);
    mrd_free(which);
    return rc;
}

/* One sighting per revealed indicator (count: the lines holding its
 * values), with the reporting identity, POSTed to o->report_url. */
static enum mrd_code report_all(const struct pmatch_client_opts *o, const struct keyset *ks,
                                json_t *const *per, uint64_t *ret_n, struct mrd_err *err)
{
    char now[MRD_TIME_STIX_MS_LEN + 1], uuid[MRD_UUID_STR_LEN + 1], sid[MRD_UUID_STR_LEN + 16];
    json_t *counts = json_object(), *objects = json_array(), *bundle = NULL, *v;
    const char *ind;
    char *text = NULL;
    struct fed_response resp;
    enum mrd_code rc = MRD_OK;

    mrd_time_format_stix_ms(mrd_time_now_usec(), now);
    if (counts == NULL || objects == NULL) {
        rc = mrd_err_set(err, MRD_E_NOMEM, "private: report");
        goto out;
    }
    for (size_t i = 0; i < ks->n; i++) {
        json_t *ob;
        size_t k;
        json_array_foreach(per[i], k, ob)
        {
            const char *id = json_string_value(json_object_get(ob, "id"));
            json_int_t c = json_integer_value(json_object_get(counts, id != NULL ? id : ""));
            if (id != NULL)
                (void)json_object_set_new(counts, id, json_integer(c + ks->e[i].seen));
        }
    }
    if (json_object_size(counts) == 0)
        goto out; /* nothing revealed: nothing to report */
    /* The identity: fixed created/modified, so that reports after the first
     * post the same bytes again (a duplicate, not a new version). */
    (void)json_array_append_new(
        objects,
        json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "type", "identity", "spec_version", "2.1", "id",
                  o->identity, "created", "2020-01-01T00:00:00.000Z", "modified",
                  "2020-01-01T00:00:00.000Z", "name", o->org, "identity_class", "organization"));
    json_object_foreach(counts, ind, v)
    {
        rc = mrd_uuid_v4(uuid, err);
        if (rc != MRD_OK)
            goto out;
        (void)snprintf(sid, sizeof(sid), "sighting--%s", uuid);
        (void)json_array_append_new(objects,
                                    json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:O,s:[s]}", "type",
                                              "sighting", "spec_version", "2.1", "id", sid,
                                              "created", now, "modified", now, "sighting_of_ref",
                                              ind, "count", v, "where_sighted_refs", o->identity));
    }
    bundle = json_pack("{s:O}", "objects", objects);
    text = bundle != NULL ? json_dumps(bundle, JSON_COMPACT) : NULL;
    if (text == NULL) {
        rc = mrd_err_set(err, MRD_E_NOMEM, "private: report");
        goto out;
    }
    rc = call_as(o, o->report_url, CLIENT_TAXII_MT, CLIENT_TAXII_MT, text, strlen(text),
                 CLIENT_INFO_MAX, &resp, err);
    if (rc == MRD_OK) {
        /* the status resource: every object must have been taken */
        struct mrd_json_limits lim = {.max_bytes = CLIENT_INFO_MAX, .max_depth = 8};
        json_t *status = NULL;
        if (mrd_json_parse(resp.body.data, resp.body.len, &lim, &status, NULL) != MRD_OK ||
            json_integer_value(json_object_get(status, "failure_count")) != 0 ||
            json_integer_value(json_object_get(status, "success_count")) !=
                (json_int_t)json_array_size(objects))
            rc = mrd_err_set(err, MRD_E_IO, "%s: the peer did not take every sighting (status %s)",
                             o->report_url,
                             MRD_ESC(json_string_value(json_object_get(status, "id")) != NULL
                                         ? json_string_value(json_object_get(status, "id"))
                                         : "unreadable"));
        json_decref(status);
    }
    fed_get_response_release(&resp);
    if (rc == MRD_OK)
        *ret_n = json_object_size(counts);
out:
    free(text);
    json_decref(bundle);
    json_decref(objects);
    json_decref(counts);
    return rc;
}

static enum mrd_code print_matches(const struct pmatch_client_opts *o, const struct keyset *ks,
                                   const uint8_t *matched, json_t *const *per, uint64_t *ret_n,
                                   struct mrd_err *err)
{
    uint64_t n = 0;

    for (size_t i = 0; i < ks->n; i++) {
        const struct entry *e = &ks->e[i];
        json_t *j;
        char *text;

        if (!matched[i])
            continue;
        n++;
        if (o->out == NULL)
            continue;
        j = json_pack("{s:s,s:I,s:s,s:s%}", "file", o->inputs[e->file], "line",
                      (json_int_t)e->line + 1, "field", ks->fields.data + e->field_off, "value",
                      ks->shows.data + e->show_off, (size_t)e->show_len);
        if (j != NULL && per != NULL)
            (void)json_object_set_new(j, "indicators",
                                      per[i] != NULL ? json_incref(per[i]) : json_array());
        text = j != NULL ? json_dumps(j, JSON_COMPACT | JSON_ENSURE_ASCII) : NULL;
        json_decref(j);
        if (text == NULL)
            return mrd_err_set(err, MRD_E_NOMEM, "private: a match line");
        fprintf(o->out, "%s\n", text);
        free(text);
    }
    *ret_n = n;
    return MRD_OK;
}

enum mrd_code pmatch_client_run(const struct pmatch_client_opts *o, struct pmatch_client_stats *ret,
                                struct mrd_err *err)
{
    /* sized so that every URL made from them fits CLIENT_MAX_URL */
    char base[CLIENT_MAX_URL - 256], offer[PMATCH_NAME_MAX + 1], offer_url[CLIENT_MAX_URL - 64],
        eval_url[CLIENT_MAX_URL];
    struct match_index *empty = NULL, *set = NULL;
    struct keyset ks;
    struct session s;
    pthread_t tids[CLIENT_MAX_THREADS];
    bool started[CLIENT_MAX_THREADS] = {false};
    unsigned threads = o->threads == 0 ? 2 : o->threads;
    json_t *info = NULL, **per = NULL;
    const char *suite;
    int64_t t0 = mrd_time_now_usec(), t1, t2;
    size_t blen;
    enum mrd_code rc;

    memset(ret, 0, sizeof(*ret));
    memset(&ks, 0, sizeof(ks));
    memset(&s, 0, sizeof(s));
    (void)pthread_mutex_init(&s.mu, NULL);
    mrd_buf_init(&ks.keys, (size_t)8 << 30);
    mrd_buf_init(&ks.shows, (size_t)8 << 30);
    mrd_buf_init(&ks.fields, (size_t)8 << 30);
    if (threads > CLIENT_MAX_THREADS)
        threads = CLIENT_MAX_THREADS;
    blen = strlen(o->url);
    while (blen > 0 && o->url[blen - 1] == '/')
        blen--;
    if (blen >= sizeof(base)) {
        rc = mrd_err_set(err, MRD_E_TOOBIG, "private: peer URL longer than %zu bytes",
                         sizeof(base) - 1);
        goto out;
    }
    memcpy(base, o->url, blen);
    base[blen] = '\0';

    rc = pick_offer(o, base, offer, err);
    if (rc != MRD_OK)
        goto out;
    (void)snprintf(offer_url, sizeof(offer_url), "%s/api/v1/private/%s", base, offer);
    (void)snprintf(eval_url, sizeof(eval_url), "%s/evaluate", offer_url);
    rc = get_json(o, offer_url, &info, err);
    if (rc != MRD_OK)
        goto out;
    suite = json_string_value(json_object_get(info, "suite"));
    if (suite == NULL || strcmp(suite, PMATCH_SUITE) != 0 ||
        json_integer_value(json_object_get(info, "output_bytes")) != PMATCH_OUTPUT_LEN ||
        json_integer_value(json_object_get(info, "batch_max")) < CLIENT_BATCH) {
        rc = mrd_err_set(err, MRD_E_UNSUPP,
                         "%s: an offer with other parameters than %s, %d "
                         "output bytes, batches of %d",
                         offer_url, PMATCH_SUITE, PMATCH_OUTPUT_LEN, CLIENT_BATCH);
        goto out;
    }
    if ((o->reveal || o->report_url != NULL) && !json_is_true(json_object_get(info, "reveal"))) {
        rc = mrd_err_set(err, MRD_E_PERM,
                         "offer %s does not reveal its indicators: --reveal and --report need "
                         "an offer made with --reveal",
                         offer);
        goto out;
    }
    rc = match_index_new(&set, err);
    if (rc == MRD_OK)
        rc = load_set(o, offer_url, set, &ret->published, err);
    if (rc == MRD_OK)
        rc = match_index_new(&empty, err);
    if (rc == MRD_OK)
        rc = match_index_build(empty, err);
    if (rc != MRD_OK)
        goto out;
    pmatch__say(o->log, o->log_ctx,
                "offer %s of %s: %" PRIu64 " published values, %" PRId64 " of %" PRId64
                " queries used today",
                offer, base, ret->published,
                (int64_t)json_integer_value(json_object_get(info, "used_today")),
                (int64_t)json_integer_value(json_object_get(info, "budget_per_day")));

    rc = extract(o, empty, &ks, &ret->lines, err);
    if (rc != MRD_OK)
        goto out;
    t1 = mrd_time_now_usec();
    ret->keys = ks.n;
    ret->extract_s = (double)(t1 - t0) / 1e6;
    pmatch__say(o->log, o->log_ctx, "%" PRIu64 " lines, %zu distinct values to check (%.2f s)",
                ret->lines, ks.n, ret->extract_s);

    s.o = o;
    s.ks = &ks;
    s.set = set;
    s.eval_url = eval_url;
    s.matched = mrd_calloc(ks.n + 1, 1);
    if (o->reveal || o->report_url != NULL) {
        s.full = mrd_calloc(ks.n + 1, PMATCH_FULL_LEN);
        per = mrd_calloc(ks.n + 1, sizeof(*per));
    }
    if (s.matched == NULL ||
        ((o->reveal || o->report_url != NULL) && (s.full == NULL || per == NULL))) {
        rc = mrd_err_set(err, MRD_E_NOMEM, "private: %zu values", ks.n);
        goto out;
    }
    for (unsigned t = 1; t < threads; t++)
        started[t] = pthread_create(&tids[t], NULL, session_main, &s) == 0;
    session_main(&s);
    for (unsigned t = 1; t < threads; t++)
        if (started[t])
            (void)pthread_join(tids[t], NULL);
    t2 = mrd_time_now_usec();
    ret->oprf_s = (double)(t2 - t1) / 1e6;
    ret->batches = atomic_load(&s.batches);
    if (s.rc != MRD_OK) {
        rc = s.rc;
        if (err != NULL)
            *err = s.err;
        goto out;
    }
    if (o->reveal || o->report_url != NULL) {
        rc = reveal_all(o, offer_url, &ks, s.matched, s.full, per, &ret->revealed, err);
        if (rc == MRD_OK && o->report_url != NULL)
            rc = report_all(o, &ks, per, &ret->reported, err);
        if (rc != MRD_OK)
            goto out;
        pmatch__say(o->log, o->log_ctx, "%" PRIu64 " indicators revealed, %" PRIu64 " reported",
                    ret->revealed, ret->reported);
    }
    rc = print_matches(o, &ks, s.matched, per, &ret->matched, err);
    ret->total_s = (double)(mrd_time_now_usec() - t0) / 1e6;
    pmatch__say(o->log, o->log_ctx,
                "%" PRIu64 " of %zu values matched; %" PRIu64 " batches; OPRF %.2f s, total %.2f s",
                ret->matched, ks.n, ret->batches, ret->oprf_s, ret->total_s);
out:
    json_decref(info);
    match_index_free(set);
    match_index_free(empty);
    mrd_free(s.matched);
    for (size_t i = 0; per != NULL && i < ks.n; i++)
        json_decref(per[i]);
    mrd_free(per);
    if (s.full != NULL)
        sodium_memzero(s.full, ks.n * PMATCH_FULL_LEN);
    mrd_free(s.full);
    (void)pthread_mutex_destroy(&s.mu);
    mrd_free(ks.e);
    mrd_free(ks.slots);
    mrd_buf_release(&ks.keys);
    mrd_buf_release(&ks.shows);
    mrd_buf_release(&ks.fields);
    return rc;
}
