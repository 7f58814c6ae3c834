/*
 * The console's routes in the JSON API: search (one value, bulk) and
 * object pages. Every row goes through dash__view_may_read() (THE policy
 * check) before anything about it is produced; an object nobody may read
 * is answered exactly like one that does not exist.
 */
#include "dash/dash_int.h"

#include <string.h>

#include "audit/audit.h"
#include "core/alloc.h"
#include "core/json.h"
#include "core/str.h"
#include "core/timestamp.h"

#define SEARCH_BODY_MAX (DASH_BULK_TEXT_MAX + 4096)

static void drop_policy(void *p)
{
    privacy_policy_free(p);
}

/* A partner user's reader carries the privacy policy in force when the
 * request started, held until the request is over: one policy for all it
 * is shown, whatever changes meanwhile (privacy.h, privacy_live). */
static struct dash_who who_of(const struct api_req *r)
{
    const struct dash *d = r->ctx;
    struct privacy_policy *p = NULL;

    if (r->who.tok.org_relation == POLICY_REL_PARTNER) {
        p = privacy_live_get(d->privacy);
        /* a full arena: keep the reference (a small leak), never drop
         * the policy while it is in use nor read without one */
        (void)http_request_on_done(r->http, drop_policy, p, NULL);
    }
    return (struct dash_who){.org_key = r->who.tok.org_key,
                             .relation = r->who.tok.org_relation,
                             .privacy = p,
                             .org_name = r->who.tok.org_name,
                             .token = r->who.tok.name};
}

/* The access audit of the object a console page shows (audit.h). */
static enum mrd_code audit_shown(struct api_req *r, const struct dash_obj *x, struct mrd_err *err)
{
    const struct dash *d = r->ctx;
    struct audit_batch *b = mrd_arena_alloc(r->http->arena, sizeof(*b));
    enum mrd_code rc;

    if (b == NULL)
        return mrd_err_set(err, MRD_E_NOMEM, "access audit");
    audit_begin(b, d->st, AUDIT_CONSOLE, r->who.tok.org_name, r->who.tok.name);
    rc = audit_note(b, &x->best_row, err);
    if (rc == MRD_OK)
        rc = audit_flush(b, err);
    return rc;
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
    if (rc == MRD_E_INVAL || rc == MRD_E_TOOBIG) {
        /* about the query only: nothing stored is named */
        api_error(r, 400, rc == MRD_E_TOOBIG ? "Query too long" : "Nothing to search for",
                  rc == MRD_E_TOOBIG
                      ? "free text is at most 512 bytes and 16 words"
                      : "search for an IPv4/IPv6 address or CIDR, a domain, a URL, an e-mail "
                        "address, an MD5/SHA-1/SHA-256/SHA-512 hash or words (UTF-8) of names "
                        "and descriptions");
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
    struct dash_obj x = {0};
    struct mrd_json_limits lim = {.max_bytes = STORE_OBJECT_MAX, .max_depth = 64};
    json_t *ident = NULL, *name = NULL;

    if (ref == NULL || !mrd_str_has_prefix(ref, strlen(ref), "identity--"))
        return NULL;
    if (dash__object_load(st, view, ref, &x, NULL) == MRD_OK && x.any &&
        mrd_json_parse(x.best, x.best_len, &lim, &ident, NULL) == MRD_OK)
        name = json_incref(json_object_get(ident, "name"));
    json_decref(ident);
    dash__object_release(&x);
    return json_is_string(name) ? name : (json_decref(name), NULL);
}

/* {"in": [...], "out": [...]}: relationships whose target (in) or source
 * (out) the object is, sightings of it and containers referencing it
 * (in), each only when the reader may read the edge and its other end
 * (dash__edges). NULL on failure. */
static json_t *relationships(struct store *st, const struct dash_view *view, const char *id,
                             struct mrd_err *err)
{
    json_t *in = json_array(), *out = json_array();

    if (in == NULL || out == NULL ||
        dash__edges(st, view, id,
                    STORE_REF_BIT(STORE_REF_TARGET) | STORE_REF_BIT(STORE_REF_SIGHTING_OF) |
                        STORE_REF_BIT(STORE_REF_CONTAINS),
                    NULL, DASH_MAX_EDGES, in, err) != MRD_OK ||
        dash__edges(st, view, id, STORE_REF_BIT(STORE_REF_SOURCE), NULL, DASH_MAX_EDGES, out,
                    err) != MRD_OK) {
        json_decref(in);
        json_decref(out);
        if (err != NULL && err->msg[0] == '\0')
            (void)mrd_err_set(err, MRD_E_NOMEM, "object: out of memory");
        return NULL;
    }
    return json_pack("{s:o,s:o}", "in", in, "out", out);
}

static bool object_id_ok(const char *id)
{
    size_t n = strlen(id);
    const char *dd = strstr(id, "--");

    return n <= STORE_STIX_ID_MAX && dd != NULL && dd > id && mrd_utf8_valid(id, n);
}

/* What a partner user may see of an object leaving the node through the
 * console: minimised as a TAXII read by its org (privacy.h), after the
 * read decision. Others (own, constituents) see it as stored. */
static struct privacy_scope scope_of(const struct api_req *r, const struct dash_view *view,
                                     int64_t coll)
{
    const struct dash_view_coll *vc = dash__view_find(view, coll);

    return (struct privacy_scope){.org = r->who.tok.org_name,
                                  .community = vc != NULL ? vc->coll.api_root : NULL};
}

static bool minimised_for(const struct api_req *r, const struct dash_obj *x, json_t *o,
                          struct mrd_err *err, enum mrd_code *rc)
{
    struct privacy_scope scope = scope_of(r, x->view, x->coll);
    enum privacy_outcome po = PRIVACY_AS_IS;

    *rc = MRD_OK;
    if (r->who.tok.org_relation != POLICY_REL_PARTNER)
        return true;
    if (x->view->privacy == NULL) /* never unminimised to a partner */
        return false;
    *rc = privacy_minimise(x->view->privacy, &scope, o, &po, err);
    return *rc == MRD_OK && po != PRIVACY_WITHHELD;
}

static void get_object(struct api_req *r)
{
    struct dash *d = r->ctx;
    struct dash_who who = who_of(r);
    const char *id = r->params[0];
    struct dash_view view;
    struct dash_obj x = {0};
    struct mrd_json_limits lim = {.max_bytes = STORE_OBJECT_MAX, .max_depth = 64};
    struct crypto_verify_result vr = {.verdict = CRYPTO_UNSIGNED};
    char signer[CRYPTO_PUBKEY_TEXT_LEN + 1] = "";
    struct mrd_err err = {0};
    json_t *o = NULL, *peers, *sig, *rels, *out;
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
        rc = dash__object_load(d->st, &view, id, &x, &err);
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
    if (!minimised_for(r, &x, o, &err, &rc)) {
        if (rc != MRD_OK)
            api_internal(r, &err);
        else
            api_error(r, 404, "Not found", NULL); /* withheld: as if hidden */
        goto out;
    }
    if (audit_shown(r, &x, &err) != MRD_OK) {
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
    rels = relationships(d->st, &view, id, &err);
    if (rels == NULL) {
        json_decref(sig);
        json_decref(peers);
        api_internal(r, &err);
        goto out;
    }
    cut = cut_long(o);
    out = json_pack("{s:s,s:s,s:o,s:b,s:O,s:o,s:o,s:o,s:o*}", "id", id, "tlp",
                    policy_tlp_name(x.best_tlp), "object", o, "truncated", cut, "versions",
                    x.versions, "received_from", peers, "signature", sig, "relationships", rels,
                    "created_by", creator_name(d->st, &view, o));
    o = NULL;
    api_json(r, 200, out);
out:
    json_decref(o);
    dash__object_release(&x);
    dash__view_release(&view);
}

/* GET /api/v1/objects/{id}/raw: the newest readable version as stored. */
static void get_raw(struct api_req *r)
{
    struct dash *d = r->ctx;
    struct dash_who who = who_of(r);
    const char *id = r->params[0];
    struct dash_view view;
    struct dash_obj x = {0};
    struct mrd_err err = {0};
    struct mrd_buf mine = {0};
    const char *use;
    size_t use_len;
    enum mrd_code rc;

    if (!object_id_ok(id)) {
        api_error(r, 404, "Not found", NULL);
        return;
    }
    rc = dash__view_load(d->st, &who, &view, &err);
    if (rc == MRD_OK)
        rc = dash__object_load(d->st, &view, id, &x, &err);
    use = x.best;
    use_len = x.best_len;
    if (rc == MRD_OK && x.any && who.relation == POLICY_REL_PARTNER) {
        struct privacy_scope scope = scope_of(r, &view, x.coll);
        enum privacy_outcome po = PRIVACY_AS_IS;
        mrd_buf_init(&mine, STORE_OBJECT_MAX);
        rc = view.privacy == NULL ? mrd_err_set(&err, MRD_E_INTERNAL, "no privacy policy")
                                  : privacy_minimise_bytes(view.privacy, &scope, x.best, x.best_len,
                                                           &mine, &po, &err);
        x.any = po != PRIVACY_WITHHELD;
        use = mine.data;
        use_len = mine.len;
    }
    if (rc == MRD_OK && x.any)
        rc = audit_shown(r, &x, &err);
    if (rc != MRD_OK)
        api_internal(r, &err);
    else if (!x.any)
        api_error(r, 404, "Not found", NULL);
    else
        api_raw(r, 200, "application/json", use, use_len);
    mrd_buf_release(&mine);
    dash__object_release(&x);
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

/* GET /api/v1/routing */
static void get_routing(struct api_req *r)
{
    struct dash *d = r->ctx;
    struct dash_who who = who_of(r);
    struct mrd_err err = {0};
    json_t *out = NULL, *sensor = NULL;

    if (dash__routing(d->st, &who, who.privacy, r->who.tok.org_name, &out, &err) != MRD_OK) {
        api_internal(r, &err);
        return;
    }
    /* How the node's sensor is fed is the node's business: own org only. */
    if (who.relation == POLICY_REL_OWN && d->sensor_status != NULL)
        sensor = d->sensor_status(d->sensor_ctx);
    (void)json_object_set_new(out, "sensor", sensor != NULL ? sensor : json_null());
    api_json(r, 200, out);
}

/* GET /api/v1/dns: the node's own org only (the sensor's zones and
 * vantages are the node's business). */
static void get_dns(struct api_req *r)
{
    struct dash *d = r->ctx;
    struct dash_who who = who_of(r);
    struct mrd_err err = {0};
    json_t *out = NULL, *sensor = NULL;

    if (who.relation != POLICY_REL_OWN) {
        api_error(r, 403, "Forbidden", "the DNS page is for the node's own organisation");
        return;
    }
    if (d->dns_status != NULL)
        sensor = d->dns_status(d->dns_ctx);
    if (dash__dns(d->st, &who, who.privacy, r->who.tok.org_name, sensor, &out, &err) != MRD_OK) {
        json_decref(sensor);
        api_internal(r, &err);
        return;
    }
    (void)json_object_set_new(out, "sensor", sensor != NULL ? sensor : json_null());
    api_json(r, 200, out);
}

static const struct api_route routes[] = {
    {"GET", "dns", 0, 0, get_dns,
     "the DNS sensor's alerts (own org only): watched zones with their state and last check, "
     "alerts newest first with open ones marked, and the sensor's status"},
    {"GET", "routing", 0, 0, get_routing,
     "routing alerts of the BGP sensor the reader may read (hijack, leak, outage, rpki-invalid), "
     "newest first, and (own org) the sensor's status: VRP sources, BMP sessions"},
    {"GET", "overview", 0, 0, get_overview,
     "overview figures for the last ?days=N (1..30): objects received by TLP and source, "
     "sightings by reporter, most-sighted indicators, new partner indicators not sighted here"},
    {"GET", "search", 0, 0, get_search,
     "search (?q=): a value (address or CIDR, domain, URL, e-mail, hash; exact, CIDR "
     "containment both ways, domain suffix both ways), then words of names and descriptions; "
     "with the reports/notes referencing each hit"},
    {"POST", "search", 0, SEARCH_BODY_MAX, post_search,
     "bulk lookup: {\"text\": ...} or {\"values\": [...]}, at most 10,000 values"},
    {"GET", "objects/{id}", 0, 0, get_object,
     "object page: newest readable version, its versions, TLP, signature, received from, "
     "relationships in and out (each readable, with a readable other end)"},
    {"GET", "objects/{id}/raw", 0, 0, get_raw, "the newest readable version's stored JSON"},
};

enum mrd_code dash_api_routes(struct dash *d, struct api_router *r, struct mrd_err *err)
{
    enum mrd_code rc = api_router_add(r, routes, sizeof(routes) / sizeof(routes[0]), d, err);

    if (rc == MRD_OK)
        rc = dash__holds_routes(d, r, err);
    if (rc == MRD_OK)
        rc = dash__notify_routes(d, r, err);
    if (rc == MRD_OK)
        rc = dash__rules_routes(d, r, err);
    return rc;
}

enum mrd_code dash_new(const struct dash_config *cfg, struct dash **ret, struct mrd_err *err)
{
    struct dash *d;

    if (cfg->privacy == NULL)
        return mrd_err_set(err, MRD_E_INVAL, "console: no privacy policy");
    d = mrd_calloc(1, sizeof(*d));
    if (d == NULL)
        return mrd_err_set(err, MRD_E_NOMEM, "out of memory");
    d->st = cfg->st;
    d->keyring = cfg->keyring;
    d->privacy = cfg->privacy;
    d->data_dir = cfg->data_dir;
    d->ledger = cfg->ledger;
    d->sensor_status = cfg->sensor_status;
    d->sensor_ctx = cfg->sensor_ctx;
    d->dns_status = cfg->dns_status;
    d->dns_ctx = cfg->dns_ctx;
    *ret = d;
    return MRD_OK;
}

void dash_free(struct dash *d)
{
    mrd_free(d);
}
