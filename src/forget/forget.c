/*
 * forget.c: the retention policy, retention runs and erasure (forget.h).
 *
 * Both paths end in erase_batch(): the versions of one transaction are
 * checked against the legal holds, the held ones reported and kept, the
 * others erased by store_objects_erase together with one ledger event
 * whose record names each erased version by its SHA-256 (the hash its
 * ledger leaf already holds) and leaf, never by id or value: the record
 * must not keep the personal data it documents the erasure of.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/json.h"
#include "core/str.h"
#include "core/timestamp.h"
#include "forget/forget_int.h"
#include "ledger/ledger.h"

/* ---- the policy ---- */

static enum mrd_code name_member(json_t *rule, size_t i, const char *key, bool required, char *dst,
                                 struct mrd_err *err)
{
    json_t *v = json_object_get(rule, key);
    const char *s;
    size_t n;

    if (v == NULL) {
        if (required)
            return mrd_err_set(err, MRD_E_PARSE, "retention: rules[%zu].%s: missing", i, key);
        dst[0] = '\0';
        return MRD_OK;
    }
    if (!json_is_string(v))
        return mrd_err_set(err, MRD_E_PARSE, "retention: rules[%zu].%s: not a string", i, key);
    s = json_string_value(v);
    n = json_string_length(v);
    if (n == 0 || n > FORGET_NAME_MAX || strlen(s) != n)
        return mrd_err_set(err, MRD_E_PARSE, "retention: rules[%zu].%s: 1 to %d bytes", i, key,
                           FORGET_NAME_MAX);
    for (size_t k = 0; k < n; k++)
        if ((unsigned char)s[k] <= 0x20 || s[k] == 0x7f)
            return mrd_err_set(err, MRD_E_PARSE,
                               "retention: rules[%zu].%s: a space or control character at %zu", i,
                               key, k);
    memcpy(dst, s, n + 1);
    return MRD_OK;
}

static enum mrd_code parse_rule(json_t *rule, size_t i, struct forget_rule *r, struct mrd_err *err)
{
    const char *key;
    json_t *v;
    enum mrd_code rc;

    if (!json_is_object(rule))
        return mrd_err_set(err, MRD_E_PARSE, "retention: rules[%zu]: not an object", i);
    json_object_foreach(rule, key, v)
    {
        if (strcmp(key, "collection") != 0 && strcmp(key, "type") != 0 &&
            strcmp(key, "days") != 0 && strcmp(key, "from") != 0)
            return mrd_err_set(err, MRD_E_PARSE, "retention: rules[%zu]: unknown member \"%s\"", i,
                               MRD_ESC(key));
    }
    rc = name_member(rule, i, "collection", false, r->collection, err);
    if (rc == MRD_OK)
        rc = name_member(rule, i, "type", true, r->type, err);
    if (rc != MRD_OK)
        return rc;
    v = json_object_get(rule, "days");
    if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > FORGET_DAYS_MAX)
        return mrd_err_set(err, MRD_E_PARSE,
                           "retention: rules[%zu].days: want a whole number 0..%d", i,
                           FORGET_DAYS_MAX);
    r->days = (unsigned)json_integer_value(v);
    v = json_object_get(rule, "from");
    r->basis = FORGET_FROM_ADDED;
    if (v != NULL) {
        const char *s = json_is_string(v) ? json_string_value(v) : "";

        if (strcmp(s, "valid_until") == 0)
            r->basis = FORGET_FROM_VALID_UNTIL;
        else if (strcmp(s, "added") != 0)
            return mrd_err_set(err, MRD_E_PARSE,
                               "retention: rules[%zu].from: want \"added\" or \"valid_until\"", i);
    }
    return MRD_OK;
}

enum mrd_code forget_policy_parse(const char *text, size_t len, struct forget_policy *ret,
                                  struct mrd_err *err)
{
    const struct mrd_json_limits lim = {FORGET_FILE_MAX, 8};
    json_t *doc = NULL, *rules;
    const char *key;
    json_t *v;
    enum mrd_code rc;

    memset(ret, 0, sizeof(*ret));
    if (len > FORGET_FILE_MAX)
        return mrd_err_set(err, MRD_E_TOOBIG, "retention: the file is over %d bytes",
                           FORGET_FILE_MAX);
    rc = mrd_json_parse(text, len, &lim, &doc, err);
    if (rc != MRD_OK) {
        mrd_err_prefix(err, "retention: ");
        return rc == MRD_E_TOOBIG ? rc : MRD_E_PARSE;
    }
    if (!json_is_object(doc)) {
        rc = mrd_err_set(err, MRD_E_PARSE, "retention: not a JSON object");
        goto out;
    }
    json_object_foreach(doc, key, v)
    {
        if (strcmp(key, "rules") != 0) {
            rc = mrd_err_set(err, MRD_E_PARSE, "retention: unknown member \"%s\"", MRD_ESC(key));
            goto out;
        }
    }
    rules = json_object_get(doc, "rules");
    if (!json_is_array(rules)) {
        rc = mrd_err_set(err, MRD_E_PARSE, "retention: rules: missing or not a list");
        goto out;
    }
    if (json_array_size(rules) > FORGET_RULES_MAX) {
        rc = mrd_err_set(err, MRD_E_TOOBIG, "retention: rules: more than %d", FORGET_RULES_MAX);
        goto out;
    }
    if (json_array_size(rules) > 0) {
        ret->rules = mrd_calloc(json_array_size(rules), sizeof(*ret->rules));
        if (ret->rules == NULL) {
            rc = mrd_err_set(err, MRD_E_NOMEM, "retention: out of memory");
            goto out;
        }
    }
    for (size_t i = 0; i < json_array_size(rules) && rc == MRD_OK; i++) {
        rc = parse_rule(json_array_get(rules, i), i, &ret->rules[i], err);
        if (rc == MRD_OK)
            ret->n++;
    }
out:
    json_decref(doc);
    if (rc != MRD_OK)
        forget_policy_free(ret);
    return rc;
}

enum mrd_code forget__read_optional(const char *dir, const char *name, struct mrd_buf *text,
                                    bool *ret_found, char path[PATH_MAX], struct mrd_err *err)
{
    struct mrd_err ferr = {0};
    enum mrd_code rc;

    *ret_found = false;
    if ((size_t)snprintf(path, PATH_MAX, "%s/%s", dir, name) >= PATH_MAX)
        return mrd_err_set(err, MRD_E_INVAL, "%s: path too long", MRD_ESC(dir));
    rc = mrd_buf_read_file(text, path, &ferr);
    if (rc == MRD_E_IO && ferr.sys_errno == ENOENT)
        return MRD_OK;
    if (rc != MRD_OK)
        return mrd_err_set(err, rc, "%s", ferr.msg);
    *ret_found = true;
    return MRD_OK;
}

enum mrd_code forget_policy_load(const char *dir, struct forget_policy *ret, bool *ret_found,
                                 struct mrd_err *err)
{
    char path[PATH_MAX];
    struct mrd_buf text;
    bool found = false;
    enum mrd_code rc;

    memset(ret, 0, sizeof(*ret));
    mrd_buf_init(&text, FORGET_FILE_MAX);
    rc = forget__read_optional(dir, FORGET_FILE, &text, &found, path, err);
    if (rc == MRD_OK && found) {
        rc = forget_policy_parse(text.data != NULL ? text.data : "", text.len, ret, err);
        if (rc != MRD_OK)
            mrd_err_prefix(err, "%s: ", MRD_ESC(path));
    }
    if (ret_found != NULL)
        *ret_found = found;
    mrd_buf_release(&text);
    return rc;
}

void forget_policy_free(struct forget_policy *p)
{
    if (p == NULL)
        return;
    mrd_free(p->rules);
    p->rules = NULL;
    p->n = 0;
}

static bool collection_is(const char *want, const struct store_collection *c)
{
    size_t root = strlen(c->api_root);

    if (want[0] == '\0' || strcmp(want, c->id) == 0)
        return true;
    return c->alias[0] != '\0' && strncmp(want, c->api_root, root) == 0 && want[root] == '/' &&
           strcmp(want + root + 1, c->alias) == 0;
}

long forget_rule_for(const struct forget_policy *p, const struct store_collection *coll,
                     const char *type, size_t type_len)
{
    for (size_t i = 0; i < p->n; i++) {
        const struct forget_rule *r = &p->rules[i];

        if (!collection_is(r->collection, coll))
            continue;
        if (strcmp(r->type, "*") == 0 ||
            (strlen(r->type) == type_len && memcmp(r->type, type, type_len) == 0))
            return (long)i;
    }
    return -1;
}

int64_t forget_expiry(const struct forget_rule *r, const struct store_row *row)
{
    int64_t base = row->date_added, span = (int64_t)r->days * FORGET_USEC_PER_DAY;

    if (r->basis == FORGET_FROM_VALID_UNTIL) {
        json_t *doc = NULL, *vu;
        struct mrd_time t;
        struct mrd_err e = {0};

        base = STORE_TIME_NONE;
        if (row->body == NULL || mrd_json_parse(row->body, row->body_len, NULL, &doc, &e) != MRD_OK)
            return STORE_TIME_NONE;
        vu = json_object_get(doc, "valid_until");
        if (json_is_string(vu) &&
            mrd_time_parse(json_string_value(vu), json_string_length(vu), &t, &e) == MRD_OK)
            base = mrd_time_to_usec(&t);
        json_decref(doc);
        if (base == STORE_TIME_NONE)
            return STORE_TIME_NONE;
    }
    if (base > INT64_MAX - span)
        return STORE_TIME_NONE;
    return base + span;
}

/* ---- erasing a batch ---- */

static void batch_reset(struct forget__batch *b)
{
    b->n = 0;
    json_decref(b->versions);
    b->versions = json_array();
}

static enum mrd_code jcs(json_t *v, struct mrd_buf *out, struct mrd_err *err)
{
    struct mrd_err e = {0};

    if (v == NULL || mrd_jcs_write(v, out, &e) != MRD_OK)
        return mrd_err_set(err, MRD_E_NOMEM, "cannot encode the erasure record: %s",
                           e.msg[0] ? e.msg : "out of memory");
    return MRD_OK;
}

static enum mrd_code erase_batch(struct store *st, const struct forget__context *cx,
                                 struct forget__batch *b, size_t *ret_erased, struct mrd_err *err)
{
    char ts[MRD_TIME_TAXII_LEN + 1];
    struct mrd_buf rec;
    json_t *r;
    struct store_ledger_event ev;
    enum mrd_code rc;

    *ret_erased = 0;
    if (b->n == 0)
        return MRD_OK;
    mrd_time_format_taxii(cx->now, ts);
    r = json_pack("{s:s, s:s, s:s, s:O}", "type", "meridian-erasure", "action", cx->action, "time",
                  ts, "versions", b->versions);
    if (r != NULL && cx->req != NULL) {
        (void)json_object_set_new(r, "reason", json_string(cx->req->reason));
        (void)json_object_set_new(r, "selector",
                                  json_string(cx->req->value != NULL ? "value" : "object"));
        if (cx->req->requester != NULL)
            (void)json_object_set_new(r, "requester", json_string(cx->req->requester));
        if (cx->req->request != NULL)
            (void)json_object_set_new(r, "request", json_string(cx->req->request));
    }
    mrd_buf_init(&rec, FORGET_RECORD_MAX);
    rc = jcs(r, &rec, err);
    json_decref(r);
    if (rc == MRD_OK) {
        ev = (struct store_ledger_event){.kind = LEDGER_KIND_ERASURE,
                                         .time_usec = cx->now,
                                         .record = rec.data,
                                         .record_len = rec.len};
        rc = store_objects_erase(st, b->seqs, b->n, &ev, ret_erased, err);
    }
    mrd_buf_release(&rec);
    batch_reset(b);
    return rc;
}

enum mrd_code forget__take(struct forget__walk *w, const struct forget_item *it0,
                           struct mrd_err *err)
{
    struct forget_item it = *it0;
    const struct store_row *row = it.o->row;
    uint8_t h[crypto_hash_sha256_BYTES];
    char hex[2 * sizeof(h) + 1];
    enum mrd_code rc;

    if (w->allow != NULL && !w->allow(w->actx, it.o)) {
        w->refused++;
        return MRD_OK;
    }
    rc = store_objects_held(w->st, &row->seq, 1, &it.held, err);
    if (rc != MRD_OK)
        return rc;
    w->res.expired++;
    w->res.held += it.held;
    if (w->cb != NULL && (rc = w->cb(w->ctx, &it, err)) != MRD_OK)
        return rc;
    if (it.held || w->dry_run)
        return MRD_OK;
    crypto_hash_sha256(h, (const unsigned char *)row->body, row->body_len);
    sodium_bin2hex(hex, sizeof(hex), h, sizeof(h));
    w->b.seqs[w->b.n++] = row->seq;
    if (json_array_append_new(w->b.versions,
                              json_pack("{s:s%, s:s, s:I}", "type", row->type, row->type_len,
                                        "sha256", hex, "leaf", (json_int_t)it.o->leaf)) != 0 ||
        (w->gone != NULL &&
         json_array_append_new(w->gone, json_pack("[I, i, s%]", (json_int_t)it.o->collection,
                                                  (int)row->policy.tlp, row->id, row->id_len)) !=
             0))
        return mrd_err_set(err, MRD_E_NOMEM, "out of memory");
    return MRD_OK;
}

enum mrd_code forget__flush(struct forget__walk *w, struct mrd_err *err)
{
    size_t erased = 0;
    enum mrd_code rc = erase_batch(w->st, &w->cx, &w->b, &erased, err);

    w->res.erased += erased;
    return rc;
}

/* ---- retention ---- */

struct ret_ctx {
    struct forget__walk *w;
    const struct forget_policy *p;
    struct store_collection *colls;
    size_t n_colls, cap_colls;
    int64_t last_seq;
    size_t seen;
};

static enum mrd_code coll_cb(void *ctx, const struct store_collection *c)
{
    struct ret_ctx *rc = ctx;

    if (rc->n_colls == rc->cap_colls) {
        size_t ncap = rc->cap_colls == 0 ? 16 : rc->cap_colls * 2;
        struct store_collection *p = mrd_realloc(rc->colls, ncap * sizeof(*p));

        if (p == NULL)
            return MRD_E_NOMEM;
        rc->colls = p;
        rc->cap_colls = ncap;
    }
    rc->colls[rc->n_colls++] = *c;
    return MRD_OK;
}

static const struct store_collection *coll_of(const struct ret_ctx *x, int64_t key)
{
    for (size_t i = 0; i < x->n_colls; i++)
        if (x->colls[i].key == key)
            return &x->colls[i];
    return NULL;
}

static enum mrd_code ret_row(void *ctx, const struct store_held *o, struct mrd_err *err)
{
    struct ret_ctx *x = ctx;
    const struct store_collection *c = coll_of(x, o->collection);
    struct forget_item it = {.o = o, .rule = -1, .expired_usec = STORE_TIME_NONE};

    if (x->w->b.n == FORGET_BATCH)
        return MRD_E_TOOBIG; /* the page ends here; erased after the scan */
    x->last_seq = o->row->seq;
    x->seen++;
    if (c == NULL)
        return MRD_OK;
    it.rule = forget_rule_for(x->p, c, o->row->type, o->row->type_len);
    if (it.rule < 0)
        return MRD_OK;
    it.expired_usec = forget_expiry(&x->p->rules[it.rule], o->row);
    if (it.expired_usec == STORE_TIME_NONE || it.expired_usec > x->w->cx.now)
        return MRD_OK;
    return forget__take(x->w, &it, err);
}

void forget__walk_init(struct forget__walk *w, struct store *st, const char *action,
                       const struct forget_erase_req *req, int64_t now, bool dry_run,
                       enum mrd_code (*cb)(void *, const struct forget_item *, struct mrd_err *),
                       void *ctx)
{
    memset(w, 0, sizeof(*w));
    w->st = st;
    w->cx = (struct forget__context){action, req, now};
    w->dry_run = dry_run;
    w->cb = cb;
    w->ctx = ctx;
    w->b.versions = json_array();
}

void forget__walk_release(struct forget__walk *w)
{
    json_decref(w->b.versions);
    w->b.versions = NULL;
    json_decref(w->gone);
    w->gone = NULL;
}

enum mrd_code forget_retention_run(struct store *st, const struct forget_policy *p, int64_t now,
                                   bool dry_run,
                                   enum mrd_code (*cb)(void *ctx, const struct forget_item *it,
                                                       struct mrd_err *err),
                                   void *ctx, struct forget_result *ret, struct mrd_err *err)
{
    struct forget__walk w;
    struct ret_ctx x = {.w = &w, .p = p};
    enum mrd_code rc;

    forget__walk_init(&w, st, "retention", NULL, now, dry_run, cb, ctx);
    rc = store_collection_list(st, NULL, coll_cb, &x, err);
    /* a rule naming no collection is a mistake, not "keep forever" */
    for (size_t i = 0; i < p->n && rc == MRD_OK; i++) {
        bool found = p->rules[i].collection[0] == '\0';

        for (size_t k = 0; k < x.n_colls && !found; k++)
            found = collection_is(p->rules[i].collection, &x.colls[k]);
        if (!found)
            rc = mrd_err_set(err, MRD_E_NOTFOUND,
                             "retention: rules[%zu].collection: no collection \"%s\"", i,
                             MRD_ESC(p->rules[i].collection));
    }
    /* Pages of versions in seq order; a page stops early when a batch is
     * full, is erased, and the next page starts after the last version
     * seen (erased versions are gone, kept ones have lower seqs). */
    while (rc == MRD_OK && p->n > 0) {
        struct store_find f = {
            .version_usec = STORE_TIME_NONE, .leaf = -1, .after_seq = x.last_seq, .limit = 1024};
        size_t before = x.seen;

        rc = store_objects_find(st, &f, ret_row, &x, err);
        if (rc == MRD_E_TOOBIG && w.b.n == FORGET_BATCH) {
            mrd_err_clear(err); /* the version that did not fit comes next page */
            rc = MRD_OK;
        }
        if (rc == MRD_OK)
            rc = forget__flush(&w, err);
        if (rc == MRD_OK && x.seen == before)
            break;
    }
    forget__walk_release(&w);
    mrd_free(x.colls);
    if (ret != NULL)
        *ret = w.res;
    return rc;
}

/* ---- erasure ---- */

struct erase_ctx {
    struct forget__walk *w;
    int64_t last_seq;
    int64_t want_seq; /* 0: any; else only this version */
    size_t seen;
    bool full;
};

static enum mrd_code erase_row(void *ctx, const struct store_held *o, struct mrd_err *err)
{
    struct erase_ctx *x = ctx;
    struct forget_item it = {.o = o, .rule = -1, .expired_usec = STORE_TIME_NONE};

    if (x->want_seq != 0 && o->row->seq != x->want_seq)
        return MRD_OK;
    if (x->w->b.n == FORGET_BATCH) {
        x->full = true;
        return MRD_E_TOOBIG;
    }
    x->last_seq = o->row->seq;
    x->seen++;
    return forget__take(x->w, &it, err);
}

enum mrd_code forget__erase_object(struct forget__walk *w, const char *id, size_t id_len,
                                   struct mrd_err *err)
{
    struct erase_ctx x = {.w = w};
    enum mrd_code rc;

    for (;;) {
        struct store_find f = {.id = id,
                               .id_len = id_len,
                               .version_usec = STORE_TIME_NONE,
                               .leaf = -1,
                               .after_seq = x.last_seq};
        size_t before = x.seen;

        x.full = false;
        rc = store_objects_find(w->st, &f, erase_row, &x, err);
        if (rc == MRD_E_TOOBIG && x.full) {
            mrd_err_clear(err);
            rc = MRD_OK;
        }
        if (rc == MRD_OK)
            rc = forget__flush(w, err);
        if (rc != MRD_OK || x.seen == before || !x.full)
            return rc;
    }
}

/* The seqs of the versions mentioning the value exactly (value index),
 * and the ids of the objects they are versions of (ids: a set). */
struct vhits {
    int64_t *seqs;
    size_t n, cap;
    json_t *ids;
    const char *value; /* for ref_hit */
};

static enum mrd_code add_seq(struct vhits *v, int64_t seq, struct mrd_err *err)
{
    if (v->n == v->cap) {
        size_t ncap = v->cap == 0 ? 64 : v->cap * 2;
        int64_t *p = mrd_realloc(v->seqs, ncap * sizeof(*p));

        if (p == NULL)
            return mrd_err_set(err, MRD_E_NOMEM, "out of memory");
        v->seqs = p;
        v->cap = ncap;
    }
    v->seqs[v->n++] = seq;
    return MRD_OK;
}

#define ALL_REFS                                                                                   \
    (STORE_REF_BIT(STORE_REF_CONTAINS) | STORE_REF_BIT(STORE_REF_SOURCE) |                         \
     STORE_REF_BIT(STORE_REF_TARGET) | STORE_REF_BIT(STORE_REF_SIGHTING_OF))

/* Whether body holds v, ASCII letters compared without case. */
static bool mentions(const char *body, size_t len, const char *v)
{
    size_t n = strlen(v);

    for (size_t i = 0; n > 0 && i + n <= len; i++)
        if (mrd_str_eq_nocase(body + i, n, v, n))
            return true;
    return false;
}

/* A version that refers to an erased object and copies the value into its
 * own text (an early-warning notice, a sighting's description): a copy of
 * the erased data, erased with it. */
static enum mrd_code ref_hit(void *ctx, const struct store_found *f, struct mrd_err *err)
{
    struct vhits *v = ctx;

    if (f->row->body == NULL || !mentions(f->row->body, f->row->body_len, v->value))
        return MRD_OK;
    return add_seq(v, f->row->seq, err);
}

static bool see_all(void *ctx, int64_t collection, const struct store_row *row)
{
    (void)ctx;
    (void)collection;
    (void)row;
    return true; /* erasure is administrative: every version */
}

static enum mrd_code vhit(void *ctx, const struct store_value_hit *h, struct mrd_err *err)
{
    struct vhits *v = ctx;

    if (h->match != STORE_VM_EXACT)
        return MRD_OK;
    if (v->ids != NULL && h->row->id_len <= STORE_STIX_ID_MAX) {
        char id[STORE_STIX_ID_MAX + 1];
        memcpy(id, h->row->id, h->row->id_len);
        id[h->row->id_len] = '\0';
        if (json_object_set_new(v->ids, id, json_true()) != 0)
            return mrd_err_set(err, MRD_E_NOMEM, "out of memory");
    }
    return add_seq(v, h->row->seq, err);
}

static bool seen_before(const struct vhits *hits, size_t i);

/* Erases the versions hits->seqs names (each once). */
static enum mrd_code erase_hits(struct forget__walk *w, const struct vhits *hits,
                                struct mrd_err *err)
{
    struct erase_ctx x = {.w = w};
    enum mrd_code rc = MRD_OK;

    for (size_t i = 0; i < hits->n && rc == MRD_OK; i++) {
        struct store_find f = {.version_usec = STORE_TIME_NONE,
                               .leaf = -1,
                               .after_seq = hits->seqs[i] - 1,
                               .limit = 1};

        if (seen_before(hits, i))
            continue;
        x.full = false;
        x.want_seq = hits->seqs[i];
        rc = store_objects_find(w->st, &f, erase_row, &x, err);
        if (rc == MRD_E_TOOBIG && x.full) {
            mrd_err_clear(err);
            rc = forget__flush(w, err);
            if (rc == MRD_OK)
                i--; /* again, into the empty batch */
        }
    }
    if (rc == MRD_OK)
        rc = forget__flush(w, err);
    return rc;
}

/* Whether hits->seqs[i] came earlier in this answer (a version may hold
 * the value twice: as its value and as a URL's host). */
static bool seen_before(const struct vhits *hits, size_t i)
{
    for (size_t k = 0; k < i; k++)
        if (hits->seqs[k] == hits->seqs[i])
            return true;
    return false;
}

static enum mrd_code check_req(const struct forget_erase_req *req, struct mrd_err *err)
{
    if ((req->value != NULL) == (req->object != NULL))
        return mrd_err_set(err, MRD_E_INVAL, "erase needs exactly one of --value and --object");
    if (req->reason == NULL || req->reason[0] == '\0')
        return mrd_err_set(err, MRD_E_INVAL, "--reason: required");
    if (strlen(req->reason) > FORGET_REASON_MAX ||
        !mrd_utf8_valid(req->reason, strlen(req->reason)))
        return mrd_err_set(err, MRD_E_INVAL, "--reason: at most %d bytes of UTF-8",
                           FORGET_REASON_MAX);
    if (req->object != NULL &&
        (strlen(req->object) == 0 || strlen(req->object) > STORE_STIX_ID_MAX ||
         strstr(req->object, "--") == NULL))
        return mrd_err_set(err, MRD_E_INVAL, "--object: \"%s\" is not a STIX id",
                           MRD_ESC(req->object));
    return MRD_OK;
}

enum mrd_code forget_erase(struct store *st, const struct forget_erase_req *req, int64_t now,
                           bool dry_run, struct forget_publish *pub,
                           enum mrd_code (*cb)(void *ctx, const struct forget_item *it,
                                               struct mrd_err *err),
                           void *ctx, struct forget_result *ret, struct mrd_err *err)
{
    struct forget__walk w;
    struct store_value val;
    struct vhits hits = {0};
    enum mrd_code rc = check_req(req, err);

    if (rc != MRD_OK)
        return rc;
    if (req->value != NULL) {
        rc = store_value_parse(req->value, strlen(req->value), &val, err);
        if (rc != MRD_OK) {
            mrd_err_prefix(err, "--value: ");
            return MRD_E_INVAL;
        }
    }
    forget__walk_init(&w, st, "erasure", req, now, dry_run, cb, ctx);
    if (pub != NULL && !dry_run && (w.gone = json_array()) == NULL) {
        rc = mrd_err_set(err, MRD_E_NOMEM, "out of memory");
    } else if (req->object != NULL) {
        rc = forget__erase_object(&w, req->object, strlen(req->object), err);
    } else {
        /* The value index hands out at most STORE_SEARCH_MAX hits per
         * search: erase them, and search again while more were left. */
        bool more = true;

        hits.ids = json_object();
        hits.value = req->value;
        if (hits.ids == NULL)
            rc = mrd_err_set(err, MRD_E_NOMEM, "out of memory");
        while (rc == MRD_OK && more) {
            size_t from = w.res.expired;

            hits.n = 0;
            rc = store_value_search(st, &val, STORE_SEARCH_MAX, see_all, vhit, &hits, &more, err);
            if (rc == MRD_OK)
                rc = erase_hits(&w, &hits, err);
            /* Only erased versions leave the index: held ones (or all, in a
             * dry run) come back, so search again only after erasing a
             * full answer's worth. */
            if (dry_run || w.res.expired - from < STORE_SEARCH_MAX / 2)
                more = false;
        }
        /* Then the versions that refer to an erased object and copy the
         * value into their own text (early-warning notices about it). */
        const char *id;
        json_t *unused;
        json_object_foreach(hits.ids, id, unused)
        {
            if (rc != MRD_OK)
                break;
            hits.n = 0;
            rc = store_refs_to(st, id, strlen(id), ALL_REFS, STORE_SEARCH_MAX, see_all, ref_hit,
                               &hits, NULL, err);
            if (rc == MRD_OK)
                rc = erase_hits(&w, &hits, err);
        }
    }
    if (rc == MRD_OK && w.gone != NULL && json_array_size(w.gone) > 0)
        rc = forget__publish(st, pub, req, w.gone, now, err);
    forget__walk_release(&w);
    mrd_free(hits.seqs);
    json_decref(hits.ids);
    if (rc == MRD_OK && w.res.expired == 0)
        rc = mrd_err_set(err, MRD_E_NOTFOUND, "nothing stored matches %s \"%s\"",
                         req->value != NULL ? "--value" : "--object",
                         MRD_ESC(req->value != NULL ? req->value : req->object));
    if (ret != NULL)
        *ret = w.res;
    return rc;
}
