/*
 * Scheduled feeds (feed.h): configuration and state in the store, one
 * round (conditional GET with fed/'s client, import through
 * feed_import.c, expiry of vanished list values), and the runner thread of
 * `meridian serve`.
 *
 * A round never loses what is stored: the body is fetched whole (at most
 * max_bytes, within timeout_s) before anything is imported, a body that
 * yields nothing usable is a failure (GARBAGE) that expires nothing, and
 * expiry writes a new version (valid_until = now) through the same ingest
 * path instead of deleting. Failures back off exponentially (fed's
 * fed_backoff_usec), never further apart than the feed's interval.
 */
#include <math.h>
#include <pthread.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "admin/admin.h"
#include "core/alloc.h"
#include "core/json.h"
#include "core/metrics.h"
#include "core/str.h"
#include "core/timestamp.h"
#include "core/uuid.h"
#include "crypto/crypto.h"
#include "feed/feed.h"
#include "stix/stix.h"

#define USEC 1000000

static const char *const format_names[FEED_F_COUNT] = {"misp", "csv", "text", "stix", "taxii"};
static const char *const result_names[FEED_R_COUNT] = {"ok",          "not_modified", "http_error",
                                                       "unreachable", "timeout",      "too_big",
                                                       "garbage",     "store_error"};

const char *feed_format_name(enum feed_format f)
{
    return (unsigned)f < FEED_F_COUNT ? format_names[f] : "?";
}

bool feed_format_parse(const char *s, enum feed_format *ret)
{
    for (unsigned i = 0; i < FEED_F_COUNT; i++)
        if (strcmp(s, format_names[i]) == 0) {
            *ret = (enum feed_format)i;
            return true;
        }
    return false;
}

bool feed_format_is_list(enum feed_format f)
{
    return f == FEED_F_CSV || f == FEED_F_TEXT || f == FEED_F_MISP;
}

const char *feed_result_name(enum feed_result r)
{
    return (unsigned)r < FEED_R_COUNT ? result_names[r] : "?";
}

void feed_config_init(struct feed_config *c)
{
    memset(c, 0, sizeof(*c));
    c->format = FEED_F_TEXT;
    c->interval_s = 3600;
    c->kind = INTEROP_K_COUNT;
    c->confidence = -1;
    c->max_bytes = FEED_DEFAULT_MAX_BYTES;
    c->timeout_s = FEED_DEFAULT_TIMEOUT_S;
    c->enabled = true;
}

/* ---- records ---- */

static const char *kind_name(enum interop_kind k)
{
    static const char *const n[INTEROP_K_COUNT] = {"ip", "domain", "url", "email", "hash"};
    return (unsigned)k < INTEROP_K_COUNT ? n[k] : "auto";
}

/* The config as JSON; with_secret false leaves the token out (audit). */
static json_t *config_json(const struct feed_config *c, bool with_secret)
{
    json_t *o = json_pack(
        "{s:s, s:s, s:s, s:s, s:I, s:s, s:I, s:s, s:I, s:I, s:s, s:b}", "url", c->url, "format",
        feed_format_name(c->format), "collection", c->collection, "as_org", c->as_org, "interval_s",
        (json_int_t)c->interval_s, "type", kind_name(c->kind), "confidence",
        (json_int_t)c->confidence, "column", c->column, "max_bytes", (json_int_t)c->max_bytes,
        "timeout_s", (json_int_t)c->timeout_s, "ca_file", c->ca_file, "enabled", c->enabled);
    json_t *l = json_array();

    if (o == NULL || l == NULL) {
        json_decref(o);
        json_decref(l);
        return NULL;
    }
    for (size_t i = 0; i < c->n_labels; i++)
        (void)json_array_append_new(l, json_string(c->labels[i]));
    (void)json_object_set_new(o, "labels", l);
    (void)json_object_set_new(o, "tlp",
                              c->has_tlp ? json_string(policy_tlp_name(c->tlp)) : json_null());
    if (with_secret)
        (void)json_object_set_new(o, "token", json_string(c->token));
    else
        (void)json_object_set_new(o, "token_set", json_boolean(c->token[0] != '\0'));
    return o;
}

static void copy_str(const json_t *o, const char *key, char *dst, size_t size)
{
    const char *v = json_string_value(json_object_get(o, key));
    if (v != NULL)
        mrd_strlcpy(dst, v, size);
}

static int64_t get_int(const json_t *o, const char *key, int64_t dflt)
{
    const json_t *v = json_object_get(o, key);
    return json_is_integer(v) ? (int64_t)json_integer_value(v) : dflt;
}

static enum mrd_code config_parse(const char *name, const char *text, size_t len,
                                  struct feed_config *c, struct mrd_err *err)
{
    json_t *o = NULL, *v;
    size_t i;

    feed_config_init(c);
    mrd_strlcpy(c->name, name, sizeof(c->name));
    if (mrd_json_parse(text, len, NULL, &o, err) != MRD_OK)
        return err != NULL ? err->code : MRD_E_PARSE;
    copy_str(o, "url", c->url, sizeof(c->url));
    {
        const char *f = json_string_value(json_object_get(o, "format"));
        if (f == NULL || !feed_format_parse(f, &c->format)) {
            json_decref(o);
            return mrd_err_set(err, MRD_E_INVALID, "feed %s: stored record has no format", name);
        }
    }
    copy_str(o, "collection", c->collection, sizeof(c->collection));
    copy_str(o, "as_org", c->as_org, sizeof(c->as_org));
    copy_str(o, "column", c->column, sizeof(c->column));
    copy_str(o, "token", c->token, sizeof(c->token));
    copy_str(o, "ca_file", c->ca_file, sizeof(c->ca_file));
    c->interval_s = (unsigned)get_int(o, "interval_s", c->interval_s);
    c->confidence = (int)get_int(o, "confidence", -1);
    c->max_bytes = (size_t)get_int(o, "max_bytes", (int64_t)c->max_bytes);
    c->timeout_s = (unsigned)get_int(o, "timeout_s", c->timeout_s);
    c->enabled = !json_is_false(json_object_get(o, "enabled"));
    {
        const char *t = json_string_value(json_object_get(o, "type"));
        if (t == NULL || !interop_kind_parse(t, &c->kind))
            c->kind = INTEROP_K_COUNT;
    }
    {
        const char *t = json_string_value(json_object_get(o, "tlp"));
        c->has_tlp = t != NULL && policy_tlp_parse(t, strlen(t), &c->tlp, NULL) == MRD_OK;
    }
    json_array_foreach(json_object_get(o, "labels"), i, v)
    {
        if (c->n_labels < FEED_IMPORT_MAX_LABELS && json_is_string(v))
            mrd_strlcpy(c->labels[c->n_labels++], json_string_value(v), FEED_LABEL_MAX + 1);
    }
    json_decref(o);
    return MRD_OK;
}

static json_t *state_json(const struct feed_state *s)
{
    return json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:s, s:s, s:I, s:I, s:I}", "etag", s->etag,
                     "last_modified", s->last_modified, "last_ok", (json_int_t)s->last_ok_usec,
                     "last_attempt", (json_int_t)s->last_attempt_usec, "next_attempt",
                     (json_int_t)s->next_attempt_usec, "failures", (json_int_t)s->failures,
                     "last_error", s->last_error, "last_result", s->last_result, "fetches",
                     (json_int_t)s->fetches, "added", (json_int_t)s->added, "expired",
                     (json_int_t)s->expired);
}

static void state_parse(const char *text, size_t len, struct feed_state *s)
{
    json_t *o = NULL;

    memset(s, 0, sizeof(*s));
    if (mrd_json_parse(text, len, NULL, &o, NULL) != MRD_OK)
        return; /* a state we cannot read is a fresh one */
    copy_str(o, "etag", s->etag, sizeof(s->etag));
    copy_str(o, "last_modified", s->last_modified, sizeof(s->last_modified));
    copy_str(o, "last_error", s->last_error, sizeof(s->last_error));
    copy_str(o, "last_result", s->last_result, sizeof(s->last_result));
    s->last_ok_usec = get_int(o, "last_ok", 0);
    s->last_attempt_usec = get_int(o, "last_attempt", 0);
    s->next_attempt_usec = get_int(o, "next_attempt", 0);
    s->failures = (unsigned)get_int(o, "failures", 0);
    s->fetches = (uint64_t)get_int(o, "fetches", 0);
    s->added = (uint64_t)get_int(o, "added", 0);
    s->expired = (uint64_t)get_int(o, "expired", 0);
    json_decref(o);
}

/* Dumps j (consumed) for the store. */
static enum mrd_code dump(json_t *j, char **ret, struct mrd_err *err)
{
    *ret = j != NULL ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(j);
    return *ret != NULL ? MRD_OK : mrd_err_set(err, MRD_E_NOMEM, "feed: out of memory");
}

/* ---- configuration ---- */

static enum mrd_code check_config(struct store *st, const struct feed_config *c,
                                  struct mrd_err *err)
{
    struct store_collection coll;

    if (strncmp(c->url, "http://", 7) != 0 && strncmp(c->url, "https://", 8) != 0)
        return mrd_err_set(err, MRD_E_INVAL, "feed %s: --url must be an http:// or https:// URL",
                           c->name);
    for (const char *p = c->url; *p != '\0'; p++)
        if ((unsigned char)*p <= ' ' || *p == 0x7f)
            return mrd_err_set(err, MRD_E_INVAL,
                               "feed %s: --url holds a blank or control "
                               "character",
                               c->name);
    if (c->interval_s < FEED_MIN_INTERVAL_S || c->interval_s > FEED_MAX_INTERVAL_S)
        return mrd_err_set(err, MRD_E_INVAL, "feed %s: --interval must be %ds..%dd", c->name,
                           FEED_MIN_INTERVAL_S, FEED_MAX_INTERVAL_S / 86400);
    if (c->max_bytes == 0 || c->max_bytes > FEED_MAX_BYTES_LIMIT)
        return mrd_err_set(err, MRD_E_INVAL, "feed %s: --max-size must be 1..%zu bytes", c->name,
                           FEED_MAX_BYTES_LIMIT);
    if (c->timeout_s == 0 || c->timeout_s > FEED_MAX_TIMEOUT_S)
        return mrd_err_set(err, MRD_E_INVAL, "feed %s: --timeout must be 1..%d seconds", c->name,
                           FEED_MAX_TIMEOUT_S);
    if (c->confidence > 100)
        return mrd_err_set(err, MRD_E_INVAL, "feed %s: --confidence takes 0..100", c->name);
    if (store_collection_get(st, NULL, 0, c->collection, strlen(c->collection), &coll, err) !=
        MRD_OK)
        return err != NULL ? err->code : MRD_E_NOTFOUND;
    if (c->as_org[0] != '\0') {
        struct store_org org;
        if (store_org_get(st, c->as_org, 0, &org, err) != MRD_OK)
            return err != NULL ? err->code : MRD_E_NOTFOUND;
    }
    return MRD_OK;
}

struct got {
    struct feed_config *cfg;
    struct feed_state *state;
    enum mrd_code (*cb)(void *ctx, const struct feed_config *c, const struct feed_state *s,
                        struct mrd_err *err);
    void *ctx;
};

static enum mrd_code on_feed(void *ctx, const struct store_feed *f, struct mrd_err *err)
{
    struct got *g = ctx;
    struct feed_config cfg;
    struct feed_state state;
    enum mrd_code rc;

    rc = config_parse(f->name, f->config, f->config_len, g->cfg != NULL ? g->cfg : &cfg, err);
    if (rc != MRD_OK)
        return rc;
    state_parse(f->state, f->state_len, g->state != NULL ? g->state : &state);
    if (g->cb != NULL)
        rc = g->cb(g->ctx, &cfg, &state, err);
    sodium_memzero(cfg.token, sizeof(cfg.token));
    return rc;
}

enum mrd_code feed_get(struct store *st, const char *name, struct feed_config *ret,
                       struct feed_state *ret_state, struct mrd_err *err)
{
    struct feed_state scratch;
    struct got g = {.cfg = ret, .state = ret_state != NULL ? ret_state : &scratch};

    return store_feed_list(st, name, on_feed, &g, err);
}

enum mrd_code feed_list(struct store *st,
                        enum mrd_code (*cb)(void *ctx, const struct feed_config *c,
                                            const struct feed_state *s, struct mrd_err *err),
                        void *ctx, struct mrd_err *err)
{
    struct got g = {.cb = cb, .ctx = ctx};

    return store_feed_list(st, NULL, on_feed, &g, err);
}

/* The store writes of feed_add/set/remove, run by admin_apply in one
 * transaction with their audit record. */
struct feed_change {
    const struct feed_config *c, *old;
    const char *name, *cfg, *state;
};

static enum mrd_code add_change(void *ctx, struct store *st, struct admin_change *rec,
                                struct mrd_err *err)
{
    const struct feed_change *fc = ctx;
    enum mrd_code rc = store_feed_put(st, STORE_FEED_CREATE, fc->c->name, fc->cfg, fc->state, err);

    if (rc != MRD_OK)
        return rc;
    (void)snprintf(rec->target, sizeof(rec->target), "%s", fc->c->name);
    rec->after = config_json(fc->c, false);
    return MRD_OK;
}

static enum mrd_code set_change(void *ctx, struct store *st, struct admin_change *rec,
                                struct mrd_err *err)
{
    const struct feed_change *fc = ctx;
    enum mrd_code rc = store_feed_put(st, STORE_FEED_CONFIG, fc->c->name, fc->cfg, NULL, err);

    if (rc == MRD_OK)
        rc = store_feed_put(st, STORE_FEED_STATE, fc->c->name, NULL, fc->state, err);
    if (rc != MRD_OK)
        return rc;
    (void)snprintf(rec->target, sizeof(rec->target), "%s", fc->c->name);
    rec->before = config_json(fc->old, false);
    rec->after = config_json(fc->c, false);
    return MRD_OK;
}

static enum mrd_code remove_change(void *ctx, struct store *st, struct admin_change *rec,
                                   struct mrd_err *err)
{
    const struct feed_change *fc = ctx;
    enum mrd_code rc = store_feed_remove(st, fc->name, err);

    if (rc != MRD_OK)
        return rc;
    (void)snprintf(rec->target, sizeof(rec->target), "%s", fc->name);
    rec->before = config_json(fc->old, false);
    return MRD_OK;
}

enum mrd_code feed_add(struct admin *a, const struct feed_config *c, struct mrd_err *err)
{
    struct feed_state s;
    char *cfg = NULL, *state = NULL;
    enum mrd_code rc;

    memset(&s, 0, sizeof(s));
    rc = check_config(a->st, c, err);
    if (rc == MRD_OK)
        rc = dump(config_json(c, true), &cfg, err);
    if (rc == MRD_OK)
        rc = dump(state_json(&s), &state, err);
    if (rc == MRD_OK) {
        /* the feed and its audit record commit together */
        struct feed_change fc = {.c = c, .cfg = cfg, .state = state};
        rc = admin_apply(a, "feed", "create", add_change, &fc, err);
    }
    if (cfg != NULL)
        sodium_memzero(cfg, strlen(cfg));
    free(cfg);
    free(state);
    return rc;
}

enum mrd_code feed_set(struct admin *a, const struct feed_config *c, struct mrd_err *err)
{
    struct feed_config old;
    struct feed_state s;
    char *cfg = NULL, *state = NULL;
    enum mrd_code rc;

    rc = feed_get(a->st, c->name, &old, &s, err);
    if (rc == MRD_OK)
        rc = check_config(a->st, c, err);
    if (rc == MRD_OK)
        rc = dump(config_json(c, true), &cfg, err);
    if (rc == MRD_OK) {
        /* a changed feed is fetched at the next tick; another URL's
         * validators mean nothing */
        s.next_attempt_usec = 0;
        if (strcmp(old.url, c->url) != 0 || old.format != c->format)
            s.etag[0] = s.last_modified[0] = '\0';
        rc = dump(state_json(&s), &state, err);
    }
    if (rc == MRD_OK) {
        struct feed_change fc = {.c = c, .old = &old, .cfg = cfg, .state = state};
        rc = admin_apply(a, "feed", "update", set_change, &fc, err);
    }
    free(state);
    if (cfg != NULL)
        sodium_memzero(cfg, strlen(cfg));
    free(cfg);
    sodium_memzero(old.token, sizeof(old.token));
    return rc;
}

enum mrd_code feed_remove(struct admin *a, const char *name, struct mrd_err *err)
{
    struct feed_config old;
    enum mrd_code rc;

    rc = feed_get(a->st, name, &old, NULL, err);
    if (rc == MRD_OK) {
        struct feed_change fc = {.name = name, .old = &old};
        rc = admin_apply(a, "feed", "remove", remove_change, &fc, err);
    }
    sodium_memzero(old.token, sizeof(old.token));
    return rc;
}

/* ---- one round ---- */

/* The ids a round stored (list feeds), and its first error message. */
struct round {
    struct store *st;
    const struct feed_config *cfg;
    struct feed_report *rep;
    char **ids;
    size_t n_ids, cap_ids;
    bool ids_overflow;
    bool rewriting; /* storing expired or revived versions: not the list's values */
    char first_error[FEED_ERROR_MAX + 1];
};

static void on_msg(void *ctx, enum feed_msg_kind kind, const char *text)
{
    struct round *r = ctx;

    if (kind == FEED_MSG_ERROR && r->first_error[0] == '\0')
        mrd_strlcpy(r->first_error, text, sizeof(r->first_error));
}

static void on_stored(void *ctx, const char *id, size_t len)
{
    struct round *r = ctx;
    char *copy;

    /* only indicators expire (the reports and identities of MISP events
     * have no validity) */
    if (r->ids_overflow || r->rewriting || !mrd_str_has_prefix(id, len, "indicator--"))
        return;
    if (r->n_ids == r->cap_ids) {
        size_t cap = r->cap_ids == 0 ? 1024 : r->cap_ids * 2;
        char **n = cap <= STORE_FEED_MAX_ITEMS ? mrd_realloc(r->ids, cap * sizeof(*n)) : NULL;
        if (n == NULL) {
            r->ids_overflow = true; /* then nothing is expired this round */
            return;
        }
        r->ids = n;
        r->cap_ids = cap;
    }
    copy = mrd_malloc(len + 1);
    if (copy == NULL) {
        r->ids_overflow = true;
        return;
    }
    memcpy(copy, id, len);
    copy[len] = '\0';
    r->ids[r->n_ids++] = copy;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Remembered ids of the last good round that this round did not store. */
struct vanished {
    struct round *r;
    char **ids;
    size_t n, cap;
};

static enum mrd_code on_item(void *ctx, const char *id, size_t len, struct mrd_err *err)
{
    struct vanished *v = ctx;
    const char *key = id;
    char *copy;

    (void)len;
    if (v->r->n_ids > 0 && bsearch(&key, v->r->ids, v->r->n_ids, sizeof(char *), cmp_str) != NULL)
        return MRD_OK;
    if (v->n == v->cap) {
        size_t cap = v->cap == 0 ? 256 : v->cap * 2;
        char **n = mrd_realloc(v->ids, cap * sizeof(*n));
        if (n == NULL)
            return mrd_err_set(err, MRD_E_NOMEM, "feed: out of memory");
        v->ids = n;
        v->cap = cap;
    }
    copy = mrd_strdup(id);
    if (copy == NULL)
        return mrd_err_set(err, MRD_E_NOMEM, "feed: out of memory");
    v->ids[v->n++] = copy;
    return MRD_OK;
}

/* A batch of current versions to rewrite: expire (valid_until = now) the
 * active ones, or revive the ones this module expired (valid_until equal
 * to modified: the mark of an expiry below) whose value is listed again. */
struct rewrite_batch {
    json_t *out;
    int64_t now;
    bool expire;
};

static enum mrd_code on_current(void *ctx, const struct store_row *row, struct mrd_err *err)
{
    struct rewrite_batch *b = ctx;
    char ts[MRD_TIME_STIX_MS_LEN + 1];
    json_t *o = NULL, *ext, *until, *mod;
    struct mrd_time t;
    bool expired;

    if (row->revoked || row->body == NULL || !mrd_str_eq(row->type, row->type_len, "indicator"))
        return MRD_OK;
    if (mrd_json_parse(row->body, row->body_len, NULL, &o, NULL) != MRD_OK)
        return MRD_OK;
    until = json_object_get(o, "valid_until");
    mod = json_object_get(o, "modified");
    expired =
        json_is_string(until) &&
        mrd_time_parse(json_string_value(until), json_string_length(until), &t, NULL) == MRD_OK &&
        mrd_time_to_usec(&t) <= b->now;
    if (b->expire ? expired
                  : !expired || !json_is_string(mod) ||
                        strcmp(json_string_value(mod), json_string_value(until)) != 0) {
        json_decref(o); /* nothing to do */
        return MRD_OK;
    }
    /* a new version, signed afresh by the ingest step */
    ext = json_object_get(o, "extensions");
    if (json_is_object(ext)) {
        /* both signatures: the whole-object one and the selective-disclosure
         * one, which would call the new valid_until "added after signing" */
        (void)json_object_del(ext, CRYPTO_SIG_EXT_ID);
        (void)json_object_del(ext, CRYPTO_SD_EXT_ID);
        if (json_object_size(ext) == 0)
            (void)json_object_del(o, "extensions");
    }
    mrd_time_format_stix_ms(b->now, ts);
    (void)json_object_set_new(o, "modified", json_string(ts));
    if (b->expire)
        (void)json_object_set_new(o, "valid_until", json_string(ts));
    else
        (void)json_object_del(o, "valid_until");
    if (json_array_append_new(b->out, o) != 0)
        return mrd_err_set(err, MRD_E_NOMEM, "feed: out of memory");
    return MRD_OK;
}

/* Rewrites the current versions of ids (n of them) as on_current says,
 * through the importer; *ret_n counts the new versions stored. */
static enum mrd_code rewrite(struct round *r, struct feed_importer *im,
                             const struct store_collection *coll, char **ids, size_t n, bool expire,
                             uint64_t *ret_n, struct mrd_err *err)
{
    enum mrd_code rc = MRD_OK;

    for (size_t i = 0; rc == MRD_OK && i < n; i += FEED_EXPIRE_BATCH) {
        size_t k = n - i < FEED_EXPIRE_BATCH ? n - i : FEED_EXPIRE_BATCH;
        struct store_match m = {
            .ids = (const char *const *)ids + i, .n_ids = k, .versions = STORE_VER_LAST};
        struct store_query q = {.collection = coll->key,
                                .added_after = STORE_TIME_NONE,
                                .match = &m,
                                .want_body = true};
        struct rewrite_batch b = {
            .out = json_array(), .now = mrd_time_now_usec(), .expire = expire};
        struct store_query_result qr;
        if (b.out == NULL)
            return mrd_err_set(err, MRD_E_NOMEM, "feed: out of memory");
        rc = store_objects_query(r->st, &q, NULL, on_current, &b, &qr, err);
        if (rc == MRD_OK && json_array_size(b.out) > 0) {
            char *text = json_dumps(b.out, JSON_COMPACT);
            struct feed_counts c = {0};
            if (text == NULL) {
                rc = mrd_err_set(err, MRD_E_NOMEM, "feed: out of memory");
            } else {
                if (feed_import_stix(im, expire ? "expired" : "listed again", text, strlen(text),
                                     &c) != FEED_OK)
                    rc = mrd_err_set(err, MRD_E_DB, "feed %s: %s: %s", r->cfg->name,
                                     expire ? "expiring vanished values"
                                            : "reviving values listed again",
                                     r->first_error);
                *ret_n += c.added;
                free(text);
            }
        }
        json_decref(b.out);
    }
    return rc;
}

/* Expires (valid_until = now, a new version through the importer) the
 * indicators remembered from the last good round that this one lacks, and
 * revives those this one lists again after they were expired. */
static enum mrd_code expire_vanished(struct round *r, struct feed_importer *im,
                                     const struct store_collection *coll, struct mrd_err *err)
{
    struct vanished v = {.r = r};
    enum mrd_code rc;

    if (r->n_ids > 1) /* r->ids is NULL when nothing was stored: no qsort of it */
        qsort(r->ids, r->n_ids, sizeof(char *), cmp_str);
    rc = store_feed_items(r->st, r->cfg->name, on_item, &v, err);
    r->rewriting = true;
    if (rc == MRD_OK)
        rc = rewrite(r, im, coll, v.ids, v.n, true, &r->rep->expired, err);
    if (rc == MRD_OK)
        rc = rewrite(r, im, coll, r->ids, r->n_ids, false, &r->rep->revived, err);
    r->rewriting = false;
    for (size_t i = 0; i < v.n; i++)
        mrd_free(v.ids[i]);
    mrd_free(v.ids);
    return rc;
}

static enum feed_result transport_result(enum mrd_code rc)
{
    if (rc == MRD_E_TOOBIG)
        return FEED_R_TOO_BIG;
    if (rc == MRD_E_TIMEOUT)
        return FEED_R_TIMEOUT;
    return FEED_R_UNREACHABLE;
}

/* GET url into resp with the feed's limits; on failure r->rep says why. */
static bool fetch(struct round *r, const char *url, const struct feed_state *s,
                  const atomic_bool *stop, struct fed_response *resp)
{
    struct fed_get_req req = {
        .url = url,
        .ca_file = r->cfg->ca_file,
        .bearer = r->cfg->token,
        .etag = s != NULL ? s->etag : NULL,
        .last_modified = s != NULL ? s->last_modified : NULL,
        .max_bytes = r->cfg->max_bytes,
        .timeout_s = r->cfg->timeout_s,
        .accept = r->cfg->format == FEED_F_TAXII ? "application/taxii+json;version=2.1" : NULL,
        .stop = stop};
    struct mrd_err err = {0};
    enum mrd_code rc;

    fed_get_response_init(resp, r->cfg->max_bytes);
    rc = fed_get(&req, resp, &err);
    if (rc != MRD_OK) {
        r->rep->result = transport_result(rc);
        mrd_strlcpy(r->rep->error, err.msg, sizeof(r->rep->error));
        return false;
    }
    if (resp->status == 304 && s != NULL) {
        r->rep->result = FEED_R_NOT_MODIFIED;
        return false;
    }
    if (resp->status != 200) {
        r->rep->result = FEED_R_HTTP_ERROR;
        (void)snprintf(r->rep->error, sizeof(r->rep->error), "%s: HTTP %ld", url, resp->status);
        return false;
    }
    return true;
}

/* Imports one fetched body; false (with r->rep set) when it failed. */
static bool import_body(struct round *r, struct feed_importer *im, const char *name,
                        const struct fed_response *resp)
{
    struct feed_counts c = {0};
    enum feed_verdict v = feed_import_buffer(im, name, resp->body.data, resp->body.len, &c);

    r->rep->counts.objects += c.objects;
    r->rep->counts.added += c.added;
    r->rep->counts.duplicates += c.duplicates;
    r->rep->counts.invalid += c.invalid;
    r->rep->counts.conflicts += c.conflicts;
    if (v == FEED_FAILED) {
        r->rep->result = FEED_R_STORE_ERROR;
        mrd_strlcpy(r->rep->error, r->first_error, sizeof(r->rep->error));
        return false;
    }
    /* nothing usable, or more bad than good: garbage, and nothing expires */
    if (c.objects == 0 || c.objects == c.invalid) {
        r->rep->result = FEED_R_GARBAGE;
        (void)snprintf(r->rep->error, sizeof(r->rep->error), "%s",
                       r->first_error[0] != '\0' ? r->first_error
                                                 : "the body holds no object or value");
        return false;
    }
    if (c.invalid * 2 > c.objects) {
        r->rep->result = FEED_R_GARBAGE;
        (void)snprintf(r->rep->error, sizeof(r->rep->error),
                       "%s: %zu of %zu entries invalid (first: %s)", name, c.invalid, c.objects,
                       r->first_error);
        return false;
    }
    return true;
}

/* A MISP feed: the manifest (conditional), then each event it lists. */
static bool misp_round(struct round *r, struct feed_importer *im, const struct feed_state *s,
                       const atomic_bool *stop, struct fed_response *manifest)
{
    char url[FEED_URL_MAX + 64];
    const char *base = r->cfg->url, *key;
    size_t bl = strlen(base), events = 0;
    json_t *doc = NULL, *val;
    bool ok = true;

    while (bl > 0 && base[bl - 1] == '/')
        bl--;
    (void)snprintf(url, sizeof(url), "%.*s/manifest.json", (int)bl, base);
    if (!fetch(r, url, s, stop, manifest))
        return false;
    if (mrd_json_parse(manifest->body.data, manifest->body.len, NULL, &doc, NULL) != MRD_OK ||
        !json_is_object(doc)) {
        json_decref(doc);
        r->rep->result = FEED_R_GARBAGE;
        (void)snprintf(r->rep->error, sizeof(r->rep->error),
                       "%s: not a MISP feed manifest (a JSON object of event uuids)", url);
        return false;
    }
    json_object_foreach(doc, key, val)
    {
        struct fed_response ev;
        if (mrd_uuid_check(key, strlen(key), NULL, NULL) != MRD_OK) {
            r->rep->counts.invalid++;
            continue;
        }
        if (++events > FEED_MAX_MISP_EVENTS) {
            r->rep->result = FEED_R_TOO_BIG;
            (void)snprintf(r->rep->error, sizeof(r->rep->error), "%s: more than %d events", url,
                           FEED_MAX_MISP_EVENTS);
            ok = false;
            break;
        }
        (void)snprintf(url, sizeof(url), "%.*s/%s.json", (int)bl, base, key);
        ok = fetch(r, url, NULL, stop, &ev) && import_body(r, im, url, &ev);
        fed_get_response_release(&ev);
        if (!ok)
            break;
    }
    json_decref(doc);
    return ok;
}

enum mrd_code feed_round(struct store *st, const struct fed_trust *trust, const char *name,
                         bool force, const atomic_bool *stop, struct feed_report *ret,
                         struct mrd_err *err)
{
    struct feed_config *cfg = mrd_calloc(1, sizeof(*cfg));
    struct feed_state s;
    struct round r = {.st = st, .cfg = cfg, .rep = ret};
    struct store_collection coll;
    struct store_org org;
    struct feed_import_opts io;
    struct feed_import_hooks hooks = {.msg = on_msg, .ctx = &r};
    struct feed_importer *im = NULL;
    struct fed_response resp;
    char own[STORE_META_VAL_MAX + 1];
    bool ok = false;
    int64_t start = mrd_time_now_usec();
    char *state = NULL;
    enum mrd_code rc;

    memset(ret, 0, sizeof(*ret));
    memset(&resp, 0, sizeof(resp));
    mrd_strlcpy(ret->name, name, sizeof(ret->name));
    if (cfg == NULL)
        return mrd_err_set(err, MRD_E_NOMEM, "feed: out of memory");
    rc = feed_get(st, name, cfg, &s, err);
    if (rc != MRD_OK)
        goto out;
    if (!force && (!cfg->enabled || s.next_attempt_usec > start)) {
        ret->next_attempt_usec = s.next_attempt_usec;
        goto out; /* not attempted */
    }
    ret->attempted = true;
    ret->result = FEED_R_OK;
    /* where it goes and who it is from are checked at every round */
    rc = store_collection_get(st, NULL, 0, cfg->collection, strlen(cfg->collection), &coll, err);
    if (rc == MRD_OK && cfg->as_org[0] == '\0')
        rc = store_meta_get(st, "own_org", own, sizeof(own), err);
    if (rc == MRD_OK)
        rc = store_org_get(st, cfg->as_org[0] != '\0' ? cfg->as_org : own, 0, &org, err);
    if (rc != MRD_OK) {
        ret->result = FEED_R_STORE_ERROR;
        mrd_strlcpy(ret->error, err->msg, sizeof(ret->error));
        mrd_err_clear(err);
        goto save;
    }
    memset(&io, 0, sizeof(io));
    feed_list_opts_init(&io.list);
    io.list.csv = cfg->format == FEED_F_CSV;
    io.list.text = cfg->format == FEED_F_TEXT;
    io.list.kind = cfg->kind;
    io.list.column = cfg->column[0] != '\0' ? cfg->column : NULL;
    io.list.tlp_id = cfg->has_tlp ? policy_tlp2_id(cfg->tlp) : NULL;
    io.list.confidence = cfg->confidence;
    for (size_t i = 0; i < cfg->n_labels; i++)
        io.list.labels[io.list.n_labels++] = cfg->labels[i];
    {
        /* today 00:00 UTC, as `meridian import` does: a list fetched again
         * the same day is the same indicators */
        int64_t day = start - start % ((int64_t)86400 * USEC);
        mrd_time_format_stix_ms(day, io.list.valid_from);
    }
    if (feed_format_is_list(cfg->format))
        hooks.stored = on_stored;
    rc = feed_importer_new(st, &coll, &org, trust, &io, &hooks, &im, err);
    if (rc != MRD_OK)
        goto out;
    if (cfg->format == FEED_F_MISP) {
        ok = misp_round(&r, im, &s, stop, &resp);
    } else {
        ok = fetch(&r, cfg->url, &s, stop, &resp) && import_body(&r, im, cfg->url, &resp);
    }
    if (ok && feed_format_is_list(cfg->format) && !r.ids_overflow) {
        /* the values of this round replace those of the last good one */
        struct mrd_err xerr = {0};
        if (expire_vanished(&r, im, &coll, &xerr) != MRD_OK ||
            store_feed_items_set(st, name, (const char *const *)r.ids, r.n_ids, &xerr) != MRD_OK) {
            ok = false;
            ret->result = FEED_R_STORE_ERROR;
            mrd_strlcpy(ret->error, xerr.msg, sizeof(ret->error));
        }
    }
    if (ok || ret->result == FEED_R_NOT_MODIFIED) {
        if (resp.status == 200) {
            mrd_strlcpy(s.etag, resp.etag, sizeof(s.etag));
            mrd_strlcpy(s.last_modified, resp.last_modified, sizeof(s.last_modified));
        }
    }
save : {
    int64_t now = mrd_time_now_usec();
    bool good = ret->result == FEED_R_OK || ret->result == FEED_R_NOT_MODIFIED;
    s.last_attempt_usec = now;
    s.fetches++;
    s.added += ret->counts.added;
    s.expired += ret->expired;
    mrd_strlcpy(s.last_result, feed_result_name(ret->result), sizeof(s.last_result));
    if (good) {
        s.failures = 0;
        s.last_ok_usec = now;
        s.last_error[0] = '\0';
        s.next_attempt_usec = now + (int64_t)cfg->interval_s * USEC;
    } else {
        int64_t wait;
        s.failures++;
        wait = fed_backoff_usec(s.failures, (double)randombytes_uniform(1000001) / 1e6);
        if (wait > (int64_t)cfg->interval_s * USEC)
            wait = (int64_t)cfg->interval_s * USEC;
        s.next_attempt_usec = now + wait;
        mrd_strlcpy(s.last_error, ret->error, sizeof(s.last_error));
    }
    ret->failures = s.failures;
    ret->next_attempt_usec = s.next_attempt_usec;
    ret->usec = now - start;
    mrd_metric_inc(MRD_M_FEED_FETCHES, name);
    mrd_metric_inc(MRD_M_FEED_RESULTS, feed_result_name(ret->result));
    if (!good)
        mrd_metric_inc(MRD_M_FEED_ERRORS, name);
    rc = dump(state_json(&s), &state, err);
    if (rc == MRD_OK)
        rc = store_feed_put(st, STORE_FEED_STATE, name, NULL, state, err);
    free(state);
}
out:
    feed_importer_free(im);
    fed_get_response_release(&resp);
    for (size_t i = 0; i < r.n_ids; i++)
        mrd_free(r.ids[i]);
    mrd_free(r.ids);
    sodium_memzero(cfg->token, sizeof(cfg->token));
    mrd_free(cfg);
    return rc;
}

/* ---- the runner ---- */

#define FEED_RUNNER_TICK_MS 1000 /* how often the runner looks for due feeds */

struct feed_runner {
    struct store *st;
    struct fed_trust *trust;
    void (*cb)(void *ctx, const struct feed_report *r);
    void *ctx;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    atomic_bool stop;
};

struct due {
    char (*names)[STORE_NAME_MAX + 1];
    size_t n;
    int64_t now;
};

static enum mrd_code on_due(void *ctx, const struct feed_config *c, const struct feed_state *s,
                            struct mrd_err *err)
{
    struct due *d = ctx;

    (void)err;
    if (c->enabled && s->next_attempt_usec <= d->now && d->n < FEED_MAX_FEEDS)
        mrd_strlcpy(d->names[d->n++], c->name, STORE_NAME_MAX + 1);
    return MRD_OK;
}

static void *runner_main(void *arg)
{
    struct feed_runner *r = arg;
    struct due d = {.names = mrd_calloc(FEED_MAX_FEEDS, STORE_NAME_MAX + 1)};

    while (d.names != NULL && !atomic_load(&r->stop)) {
        struct mrd_err err = {0};
        struct timespec until;
        d.n = 0;
        d.now = mrd_time_now_usec();
        if (feed_list(r->st, on_due, &d, &err) != MRD_OK) {
            struct feed_report rep = {.attempted = false, .result = FEED_R_STORE_ERROR};
            mrd_strlcpy(rep.error, err.msg, sizeof(rep.error));
            if (r->cb != NULL)
                r->cb(r->ctx, &rep);
            if (err.code == MRD_E_UNSUPP)
                break; /* a backend without feeds: said once, nothing to run */
        }
        for (size_t i = 0; i < d.n && !atomic_load(&r->stop); i++) {
            struct feed_report rep;
            mrd_err_clear(&err);
            if (feed_round(r->st, r->trust, d.names[i], false, &r->stop, &rep, &err) != MRD_OK &&
                rep.error[0] == '\0')
                mrd_strlcpy(rep.error, err.msg, sizeof(rep.error));
            if (rep.attempted && r->cb != NULL)
                r->cb(r->ctx, &rep);
        }
        (void)clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += FEED_RUNNER_TICK_MS / 1000;
        (void)pthread_mutex_lock(&r->mu);
        if (!atomic_load(&r->stop))
            (void)pthread_cond_timedwait(&r->cv, &r->mu, &until);
        (void)pthread_mutex_unlock(&r->mu);
    }
    mrd_free(d.names);
    return NULL;
}

enum mrd_code feed_runner_start(const char *data_dir, struct store *st,
                                void (*cb)(void *ctx, const struct feed_report *r), void *ctx,
                                struct feed_runner **ret, struct mrd_err *err)
{
    struct feed_runner *r = mrd_calloc(1, sizeof(*r));
    enum mrd_code rc;

    if (r == NULL)
        return mrd_err_set(err, MRD_E_NOMEM, "feed runner: out of memory");
    r->st = st;
    r->cb = cb;
    r->ctx = ctx;
    atomic_init(&r->stop, false);
    rc = fed_trust_load(data_dir, &r->trust, err);
    if (rc != MRD_OK) {
        mrd_free(r);
        return rc;
    }
    (void)pthread_mutex_init(&r->mu, NULL);
    (void)pthread_cond_init(&r->cv, NULL);
    if (pthread_create(&r->thread, NULL, runner_main, r) != 0) {
        fed_trust_free(r->trust);
        mrd_free(r);
        return mrd_err_set(err, MRD_E_INTERNAL, "feed runner: cannot start its thread");
    }
    *ret = r;
    return MRD_OK;
}

void feed_runner_stop(struct feed_runner *r)
{
    if (r == NULL)
        return;
    (void)pthread_mutex_lock(&r->mu);
    atomic_store(&r->stop, true);
    (void)pthread_cond_broadcast(&r->cv);
    (void)pthread_mutex_unlock(&r->mu);
    (void)pthread_join(r->thread, NULL);
    (void)pthread_mutex_destroy(&r->mu);
    (void)pthread_cond_destroy(&r->cv);
    fed_trust_free(r->trust);
    mrd_free(r);
}
