/*
 * The console's routes in the JSON API: search (one value, bulk) and
 * object pages. Every row goes through dash__view_may_read() (THE policy
 * check) before anything about it is produced; an object nobody may read
 * is answered exactly like one that does not exist.
 */
#include "dash/dash_int.h"

#include <string.h>

#include "core/alloc.h"
#include "core/json.h"
#include "core/str.h"
#include "core/timestamp.h"

#define SEARCH_BODY_MAX (DASH_BULK_TEXT_MAX + 4096)

static struct dash_who who_of(const struct api_req *r)
{
    return (struct dash_who){.org_key = r->who.tok.org_key, .relation = r->who.tok.org_relation};
}

/* GET /api/v1/search?q=VALUE[&limit=N] */
static void get_search(struct api_req *r)
{
    struct dash *d = r->ctx;
    struct dash_who who = who_of(r);
    bool dup = false, dup2 = false;
    const char *q = api_query(r, "q", &dup), *lim = api_query(r, "limit", &dup2);
    uint64_t limit = DASH_SEARCH_LIMIT;
    struct mrd_err err = {0};
    json_t *out = NULL;
    enum mrd_code rc;

    if (q == NULL || dup || dup2) {
        api_error(r, 400, "Bad request", "give the value to search for once, as ?q=VALUE");
        return;
    }
    if (lim != NULL &&
        (mrd_str_to_u64(lim, strlen(lim), STORE_SEARCH_MAX, &limit, NULL) != MRD_OK ||
         limit == 0)) {
        api_error(r, 400, "Bad request", "limit must be 1..1000");
        return;
    }
    rc = dash_search(d->st, &who, q, strlen(q), (size_t)limit, &out, &err);
    if (rc == MRD_E_INVAL) {
        /* about the query only: nothing stored is named */
        api_error(r, 400, "Not a searchable value",
                  "search for an IPv4/IPv6 address or CIDR, a domain, a URL, an e-mail "
                  "address or an MD5/SHA-1/SHA-256/SHA-512 hash");
        return;
    }
    if (rc != MRD_OK) {
        api_internal(r, &err);
        return;
    }
    api_json(r, 200, out);
}

/* POST /api/v1/search {"text": "..."} or {"values": ["...", ...]} */
static void post_search(struct api_req *r)
{
    struct dash *d = r->ctx;
    struct dash_who who = who_of(r);
    struct mrd_buf text;
    struct mrd_err err = {0};
    json_t *body = NULL, *values, *v, *out = NULL;
    const char *t;
    size_t i;
    enum mrd_code rc = MRD_OK;

    if (!api_body_json(r, &body))
        return;
    mrd_buf_init(&text, DASH_BULK_TEXT_MAX);
    t = json_string_value(json_object_get(body, "text"));
    values = json_object_get(body, "values");
    if (t != NULL) {
        rc = mrd_buf_puts(&text, t, &err);
    } else if (json_is_array(values) && json_array_size(values) <= DASH_BULK_MAX) {
        json_array_foreach(values, i, v)
        {
            if (!json_is_string(v))
                continue;
            rc = mrd_buf_puts(&text, json_string_value(v), &err);
            if (rc == MRD_OK)
                rc = mrd_buf_putc(&text, '\n', &err);
            if (rc != MRD_OK)
                break;
        }
    } else {
        json_decref(body);
        mrd_buf_release(&text);
        api_error(r, 400, "Bad request",
                  "send {\"text\": \"...\"} or {\"values\": [...]} (at most 10000 values)");
        return;
    }
    json_decref(body);
    if (rc == MRD_OK)
        rc =
            dash_search_bulk(d->st, &who, text.data != NULL ? text.data : "", text.len, &out, &err);
    mrd_buf_release(&text);
    if (rc == MRD_E_TOOBIG) {
        api_error(r, 413, "Request too large", "at most 4 MiB of text");
        return;
    }
    if (rc != MRD_OK) {
        api_internal(r, &err);
        return;
    }
    api_json(r, 200, out);
}

/* ---- object pages ---- */

struct obj_ctx {
    const struct dash_view *view;
    int64_t coll;
    json_t *versions;
    json_t *peers; /* source peer -> true */
    char *best;    /* body of the newest readable version */
    size_t best_len;
    int64_t best_version, best_added;
    enum policy_tlp best_tlp;
    bool any;
};

static bool obj_visible(void *ctx, const struct store_row *row)
{
    struct obj_ctx *x = ctx;

    return dash__view_may_read(x->view, x->coll, row);
}

static enum mrd_code obj_emit(void *ctx, const struct store_row *row, struct mrd_err *err)
{
    struct obj_ctx *x = ctx;
    json_t *e = dash__row_summary(x->view, x->coll, row);

    if (e == NULL)
        return mrd_err_set(err, MRD_E_NOMEM, "object: out of memory");
    (void)json_object_del(e, "label");
    if (json_array_size(x->versions) >= DASH_MAX_VERSIONS)
        json_decref(e);
    else if (json_array_append_new(x->versions, e) != 0)
        return mrd_err_set(err, MRD_E_NOMEM, "object: out of memory");
    if (row->source_peer != NULL) {
        char peer[STORE_PEER_MAX + 1];
        (void)snprintf(peer, sizeof(peer), "%.*s", (int)row->source_peer_len, row->source_peer);
        (void)json_object_set_new(x->peers, peer, json_true());
    }
    if (!x->any || row->version_usec > x->best_version ||
        (row->version_usec == x->best_version && row->date_added < x->best_added)) {
        char *b = mrd_strndup(row->body, row->body_len);
        if (b == NULL)
            return mrd_err_set(err, MRD_E_NOMEM, "object: out of memory");
        mrd_free(x->best);
        x->best = b;
        x->best_len = row->body_len;
        x->best_version = row->version_usec;
        x->best_added = row->date_added;
        x->best_tlp = row->policy.tlp;
        x->any = true;
    }
    return MRD_OK;
}

/* Every readable version of id across the collections the reader may
 * read (x->any false when there is none). */
static enum mrd_code load_object(struct store *st, const struct dash_view *view, const char *id,
                                 struct obj_ctx *x, struct mrd_err *err)
{
    const char *ids[1] = {id};
    struct store_match m = {.ids = ids, .n_ids = 1, .versions = STORE_VER_ALL};
    enum mrd_code rc = MRD_OK;

    x->view = view;
    x->versions = json_array();
    x->peers = json_object();
    if (x->versions == NULL || x->peers == NULL)
        return mrd_err_set(err, MRD_E_NOMEM, "object: out of memory");
    for (size_t i = 0; i < view->n && rc == MRD_OK; i++) {
        struct store_query q = {.collection = view->c[i].coll.key,
                                .added_after = STORE_TIME_NONE,
                                .match = &m,
                                .limit = DASH_MAX_VERSIONS,
                                .want_body = true};
        struct store_query_result res;
        if (!view->c[i].can_read)
            continue;
        x->coll = view->c[i].coll.key;
        rc = store_objects_query(st, &q, obj_visible, obj_emit, x, &res, err);
    }
    return rc;
}

static void obj_release(struct obj_ctx *x)
{
    json_decref(x->versions);
    json_decref(x->peers);
    mrd_free(x->best);
}

/* Cuts every string longer than DASH_STRING_MAX (1 MB descriptions stay
 * readable and the page light); true when something was cut. */
static bool cut_long(json_t *v)
{
    bool cut = false;
    const char *k;
    json_t *e;
    size_t i;

    if (json_is_string(v) && json_string_length(v) > DASH_STRING_MAX) {
        size_t n = DASH_STRING_MAX;
        const char *s = json_string_value(v);
        while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
            n--; /* not inside a UTF-8 sequence */
        (void)json_string_setn(v, s, n);
        return true;
    }
    if (json_is_object(v)) {
        json_object_foreach(v, k, e)
        {
            (void)k;
            cut |= cut_long(e);
        }
    } else if (json_is_array(v)) {
        json_array_foreach(v, i, e) cut |= cut_long(e);
    }
    return cut;
}

/* The name of the identity created_by_ref names, when the reader may
 * read it. */
static json_t *creator_name(struct store *st, const struct dash_view *view, const json_t *o)
{
    const char *ref = json_string_value(json_object_get(o, "created_by_ref"));
    struct obj_ctx x = {0};
    struct mrd_json_limits lim = {.max_bytes = STORE_OBJECT_MAX, .max_depth = 64};
    json_t *ident = NULL, *name = NULL;

    if (ref == NULL || !mrd_str_has_prefix(ref, strlen(ref), "identity--"))
        return NULL;
    if (load_object(st, view, ref, &x, NULL) == MRD_OK && x.any &&
        mrd_json_parse(x.best, x.best_len, &lim, &ident, NULL) == MRD_OK)
        name = json_incref(json_object_get(ident, "name"));
    json_decref(ident);
    obj_release(&x);
    return json_is_string(name) ? name : (json_decref(name), NULL);
}

static bool object_id_ok(const char *id)
{
    size_t n = strlen(id);
    const char *dd = strstr(id, "--");

    return n <= STORE_STIX_ID_MAX && dd != NULL && dd > id && mrd_utf8_valid(id, n);
}

static void get_object(struct api_req *r)
{
    struct dash *d = r->ctx;
    struct dash_who who = who_of(r);
    const char *id = r->params[0];
    struct dash_view view;
    struct obj_ctx x = {0};
    struct mrd_json_limits lim = {.max_bytes = STORE_OBJECT_MAX, .max_depth = 64};
    struct crypto_verify_result vr = {.verdict = CRYPTO_UNSIGNED};
    char signer[CRYPTO_PUBKEY_TEXT_LEN + 1] = "";
    struct mrd_err err = {0};
    json_t *o = NULL, *peers, *sig, *out;
    const char *k;
    json_t *v;
    bool cut;
    enum mrd_code rc;

    if (!object_id_ok(id)) {
        api_error(r, 404, "Not found", NULL);
        return;
    }
    rc = dash__view_load(d->st, &who, &view, &err);
    if (rc == MRD_OK)
        rc = load_object(d->st, &view, id, &x, &err);
    if (rc != MRD_OK || !x.any) {
        if (rc != MRD_OK)
            api_internal(r, &err);
        else
            api_error(r, 404, "Not found", NULL); /* hidden and missing look alike */
        goto out;
    }
    if (mrd_json_parse(x.best, x.best_len, &lim, &o, &err) != MRD_OK) {
        api_internal(r, &err);
        goto out;
    }
    (void)crypto_object_verify(o, d->keyring, &vr, NULL);
    if (vr.has_signer)
        crypto_pubkey_format(vr.signer, signer);
    sig = json_pack("{s:s,s:s*,s:s*}", "verdict", crypto_verdict_str(vr.verdict), "signer",
                    signer[0] ? signer : NULL, "signer_name", vr.signer_name);
    peers = json_array();
    json_object_foreach(x.peers, k, v)
    {
        (void)v;
        (void)json_array_append_new(peers, json_string(k));
    }
    cut = cut_long(o);
    out = json_pack("{s:s,s:s,s:o,s:b,s:O,s:o,s:o,s:o*}", "id", id, "tlp",
                    policy_tlp_name(x.best_tlp), "object", o, "truncated", cut, "versions",
                    x.versions, "received_from", peers, "signature", sig, "created_by",
                    creator_name(d->st, &view, o));
    o = NULL;
    api_json(r, 200, out);
out:
    json_decref(o);
    obj_release(&x);
    dash__view_release(&view);
}

/* GET /api/v1/objects/{id}/raw: the newest readable version as stored. */
static void get_raw(struct api_req *r)
{
    struct dash *d = r->ctx;
    struct dash_who who = who_of(r);
    const char *id = r->params[0];
    struct dash_view view;
    struct obj_ctx x = {0};
    struct mrd_err err = {0};
    enum mrd_code rc;

    if (!object_id_ok(id)) {
        api_error(r, 404, "Not found", NULL);
        return;
    }
    rc = dash__view_load(d->st, &who, &view, &err);
    if (rc == MRD_OK)
        rc = load_object(d->st, &view, id, &x, &err);
    if (rc != MRD_OK)
        api_internal(r, &err);
    else if (!x.any)
        api_error(r, 404, "Not found", NULL);
    else
        api_raw(r, 200, "application/json", x.best, x.best_len);
    obj_release(&x);
    dash__view_release(&view);
}

/* GET /api/v1/overview?days=N */
static void get_overview(struct api_req *r)
{
    struct dash *d = r->ctx;
    struct dash_who who = who_of(r);
    bool dup = false;
    const char *ds = api_query(r, "days", &dup);
    uint64_t days = 7;
    struct mrd_err err = {0};
    json_t *out = NULL;

    if (dup ||
        (ds != NULL && (mrd_str_to_u64(ds, strlen(ds), 30, &days, NULL) != MRD_OK || days == 0))) {
        api_error(r, 400, "Bad request", "days must be 1..30");
        return;
    }
    if (dash__overview(d->st, &who, (unsigned)days, &out, &err) != MRD_OK) {
        api_internal(r, &err);
        return;
    }
    api_json(r, 200, out);
}

static const struct api_route routes[] = {
    {"GET", "overview", 0, 0, get_overview,
     "overview figures for the last ?days=N (1..30): objects received by TLP and source, "
     "sightings by reporter, most-sighted indicators, new partner indicators not sighted here"},
    {"GET", "search", 0, 0, get_search,
     "search one value (?q=): address or CIDR, domain, URL, e-mail, hash; exact, CIDR "
     "containment both ways, domain suffix both ways"},
    {"POST", "search", 0, SEARCH_BODY_MAX, post_search,
     "bulk lookup: {\"text\": ...} or {\"values\": [...]}, at most 10,000 values"},
    {"GET", "objects/{id}", 0, 0, get_object,
     "object page: newest readable version, its versions, TLP, signature, received from"},
    {"GET", "objects/{id}/raw", 0, 0, get_raw, "the newest readable version's stored JSON"},
};

enum mrd_code dash_api_routes(struct dash *d, struct api_router *r, struct mrd_err *err)
{
    enum mrd_code rc = api_router_add(r, routes, sizeof(routes) / sizeof(routes[0]), d, err);

    if (rc == MRD_OK)
        rc = dash__holds_routes(d, r, err);
    return rc;
}

enum mrd_code dash_new(const struct dash_config *cfg, struct dash **ret, struct mrd_err *err)
{
    struct dash *d = mrd_calloc(1, sizeof(*d));

    if (d == NULL)
        return mrd_err_set(err, MRD_E_NOMEM, "out of memory");
    d->st = cfg->st;
    d->keyring = cfg->keyring;
    d->data_dir = cfg->data_dir;
    *ret = d;
    return MRD_OK;
}

void dash_free(struct dash *d)
{
    mrd_free(d);
}
