/*
 * Export feeds over HTTP (feed.h, docs/api.md "Feeds"): GET
 * /api/v1/feeds/{format}?collection=ID&... and, for the formats that write
 * several files (the MISP feed layout, Suricata hash lists, lists per
 * kind), /api/v1/feeds/{format}/{collection}/{file}.
 *
 * The answer is what `meridian export --as-org ORG` writes for the
 * requesting token's org: the same interop_export() call, the same
 * filters, and the one read decision (policy_may_read through
 * store_reader_for's reader). A collection the caller may not read is a
 * 404, as if it did not exist. Each answer carries a strong ETag (SHA-256
 * of the bytes); If-None-Match with it gets a 304 without a body.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "api/api.h"
#include "audit/audit.h"
#include "core/str.h"
#include "core/timestamp.h"
#include "feed/feed.h"

/* One requested output collected in memory. */
struct out {
    const char *want; /* NULL: the main output (and, for list, every file) */
    bool all;         /* take every output (list on stdout) */
    bool found;
    struct mrd_buf *body;
};

static enum mrd_code collect(void *ctx, const char *file, const char *p, size_t n,
                             struct mrd_err *err)
{
    struct out *o = ctx;

    if (!o->all && (o->want == NULL ? file != NULL : file == NULL || strcmp(file, o->want) != 0))
        return MRD_OK;
    o->found = true;
    if (mrd_buf_append(o->body, p, n, NULL) != MRD_OK)
        return mrd_err_set(err, MRD_E_TOOBIG,
                           "export larger than %zu bytes; narrow it with "
                           "filters",
                           FEED_API_MAX_BODY);
    return MRD_OK;
}

static bool may_read(void *ctx, const struct store_row *row)
{
    return policy_may_read(ctx, &row->policy);
}

/* Splits a comma-separated query value into its items (in the arena). */
static size_t split(struct api_req *r, const char *v, const char **items, size_t max)
{
    size_t n = 0;

    while (v != NULL && *v != '\0' && n < max) {
        const char *c = strchr(v, ',');
        size_t len = c != NULL ? (size_t)(c - v) : strlen(v);
        if (len > 0)
            items[n++] = mrd_arena_strndup(r->http->arena, v, len);
        v = c != NULL ? c + 1 : NULL;
    }
    return n;
}

static bool flag(struct api_req *r, const char *name)
{
    const char *v = api_query(r, name, NULL);
    return v != NULL && (strcmp(v, "") == 0 || strcmp(v, "1") == 0 || strcmp(v, "true") == 0);
}

static bool parse_time(const char *s, int64_t *ret)
{
    struct mrd_time t;

    if (mrd_time_parse(s, strlen(s), &t, NULL) != MRD_OK)
        return false;
    *ret = mrd_time_to_usec(&t);
    return true;
}

/* The filters of `meridian export` from the query; answers 400 itself. */
static bool filters(struct api_req *r, enum interop_format fmt, struct interop_filter *flt)
{
    static const char *const known[] = {"collection", "type",      "tlp", "min_confidence",
                                        "label",      "since",     "all", "active",
                                        "latest",     "subdomains"};
    const char *types[INTEROP_K_COUNT + 1], *v;
    bool dup = false;
    size_t n;

    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
        if (api_query(r, known[i], &dup) != NULL && dup) {
            api_error(r, 400, "Bad request", "a query argument is given twice");
            return false;
        }
    memset(flt, 0, sizeof(*flt));
    flt->min_confidence = -1;
    flt->since = STORE_TIME_NONE;
    flt->now = mrd_time_now_usec();
    flt->all = flag(r, "all");
    flt->active = flag(r, "active");
    flt->latest = flag(r, "latest");
    flt->subdomains = flag(r, "subdomains");
    n = split(r, api_query(r, "type", NULL), types, INTEROP_K_COUNT + 1);
    for (size_t i = 0; i < n; i++) {
        enum interop_kind k;
        if (interop_format_is_stix(fmt) && n == 1) {
            flt->stix_type = types[i];
        } else if (!interop_format_is_stix(fmt) && interop_kind_parse(types[i], &k)) {
            flt->kinds |= 1u << k;
        } else {
            api_error(r, 400, "Bad request",
                      interop_format_is_stix(fmt)
                          ? "type: one STIX type for stix and jsonl"
                          : "type: ip, domain, url, email or hash (comma-separated)");
            return false;
        }
    }
    v = api_query(r, "tlp", NULL);
    if (v != NULL) {
        if (policy_tlp_parse(v, strlen(v), &flt->tlp_max, NULL) != MRD_OK) {
            api_error(r, 400, "Bad request", "tlp: clear, green, amber, amber+strict or red");
            return false;
        }
        flt->has_tlp_max = true;
    }
    v = api_query(r, "min_confidence", NULL);
    if (v != NULL) {
        uint64_t c;
        if (mrd_str_to_u64(v, strlen(v), 100, &c, NULL) != MRD_OK) {
            api_error(r, 400, "Bad request", "min_confidence: 0..100");
            return false;
        }
        flt->min_confidence = (int)c;
    }
    v = api_query(r, "label", NULL);
    if (v != NULL)
        flt->n_labels = split(r, v, flt->labels, INTEROP_MAX_LABELS);
    v = api_query(r, "since", NULL);
    if (v != NULL && !parse_time(v, &flt->since)) {
        api_error(r, 400, "Bad request", "since: an RFC 3339 time, e.g. 2026-01-01T00:00:00Z");
        return false;
    }
    return true;
}

static const char *content_type(enum interop_format fmt, const char *file)
{
    if (file != NULL && mrd_str_has_suffix(file, strlen(file), ".json"))
        return "application/json";
    switch (fmt) {
    case INTEROP_F_STIX:
        return "application/stix+json;version=2.1";
    case INTEROP_F_JSONL:
        return "application/x-ndjson";
    case INTEROP_F_CSV:
        return "text/csv; charset=utf-8";
    default:
        return "text/plain; charset=utf-8";
    }
}

/* The export for the caller: params are {format} and, on the file route,
 * {collection} and {file}. */
static void feed_export(struct api_req *r)
{
    const char *fname = r->params[0], *cid, *file = NULL, *inm;
    enum interop_format fmt;
    struct interop_filter flt;
    struct interop_export_stats stats;
    struct store_collection c;
    struct policy_reader reader;
    struct out o = {.body = &r->resp->body};
    struct interop_sink sink = {.write = collect, .ctx = &o};
    struct mrd_err err = {0};
    struct privacy_policy *pol;
    enum mrd_code rc;
    unsigned char h[crypto_hash_sha256_BYTES];
    char *etag;
    bool can_read = false;

    if (!interop_format_parse(fname, &fmt)) {
        api_error(r, 404, "Not found",
                  "formats: stix, jsonl, csv, suricata, suricata-datasets, snort, zeek, list, "
                  "nft, ipset, misp");
        return;
    }
    if (r->nparams == 3) {
        cid = r->params[1];
        file = r->params[2];
        if (!interop_format_is_multi(fmt)) {
            api_error(r, 404, "Not found", "this format is one file: GET /api/v1/feeds/FORMAT");
            return;
        }
    } else {
        cid = api_query(r, "collection", NULL);
        if (cid == NULL) {
            api_error(r, 400, "Bad request", "collection: the collection id is required");
            return;
        }
        if (fmt == INTEROP_F_MISP) {
            api_error(r, 404, "Not found",
                      "a MISP feed is GET /api/v1/feeds/misp/{collection}/manifest.json, "
                      "hashes.csv and {uuid}.json");
            return;
        }
    }
    if (!filters(r, fmt, &flt))
        return;
    /* missing and unreadable collections look the same */
    if (store_collection_get(r->st, NULL, 0, cid, strlen(cid), &c, NULL) != MRD_OK ||
        store_reader_for(r->st, r->who.tok.org_key, r->who.tok.org_relation, &c, &reader, &can_read,
                         NULL) != MRD_OK ||
        !can_read) {
        api_error(r, 404, "Not found", NULL);
        return;
    }
    /* A feed leaves the node like an export for this org (privacy.h),
     * minimised by the policy in force when it starts (set below). */
    flt.scope = (struct privacy_scope){
        .community = c.api_root,
        .org = r->who.tok.org_relation == POLICY_REL_PARTNER ? r->who.tok.org_name : NULL,
        .is_export = true};
    flt.audit = mrd_arena_alloc(r->http->arena, sizeof(*flt.audit));
    if (flt.audit == NULL) {
        api_internal(r, NULL);
        return;
    }
    audit_begin(flt.audit, r->st, AUDIT_FEED, r->who.tok.org_name, r->who.tok.name);
    o.want = file;
    o.all = file == NULL && fmt == INTEROP_F_LIST; /* as `export --format list` on stdout */
    mrd_buf_reset(o.body);
    o.body->max = FEED_API_MAX_BODY;
    pol = privacy_live_get(r->ctx);
    flt.privacy = pol;
    rc = interop_export(r->st, &c, fmt, &flt, may_read, &reader, &sink, &stats, &err);
    privacy_policy_free(pol);
    if (rc != MRD_OK) {
        mrd_buf_reset(o.body);
        if (err.code == MRD_E_TOOBIG)
            api_error(r, 507, "Export too large", err.msg);
        else
            api_internal(r, &err);
        return;
    }
    if (file != NULL && !o.found) {
        mrd_buf_reset(o.body);
        api_error(r, 404, "Not found", NULL);
        return;
    }
    {
        /* a bundle's id is new at every export: the ETag is of the rest,
         * so the same objects keep the same ETag */
        static const char pre[] = "{\"id\":\"bundle--";
        size_t skip = 0;
        if (fmt == INTEROP_F_STIX && o.body->len > sizeof(pre) - 1 + STORE_UUID_LEN &&
            memcmp(o.body->data, pre, sizeof(pre) - 1) == 0)
            skip = sizeof(pre) - 1 + STORE_UUID_LEN;
        crypto_hash_sha256(h,
                           (const unsigned char *)(o.body->data != NULL ? o.body->data : "") + skip,
                           o.body->len - skip);
    }
    etag = mrd_arena_alloc(r->http->arena, 2 * sizeof(h) + 3);
    if (etag == NULL) {
        mrd_buf_reset(o.body);
        api_internal(r, NULL);
        return;
    }
    etag[0] = '"';
    for (size_t i = 0; i < sizeof(h); i++)
        (void)snprintf(etag + 1 + 2 * i, 3, "%02x", h[i]);
    etag[2 * sizeof(h) + 1] = '"';
    etag[2 * sizeof(h) + 2] = '\0';
    api_header(r, "ETag", etag);
    api_header(r, "Cache-Control", "private, no-cache");
    inm = http_request_header(r->http, "If-None-Match");
    r->answered = true;
    if (inm != NULL && strstr(inm, etag) != NULL) {
        mrd_buf_reset(o.body);
        r->resp->status = 304;
        r->resp->content_type = NULL;
        return;
    }
    r->resp->status = 200;
    r->resp->content_type = content_type(fmt, file);
    if (o.body->data == NULL) /* an empty export is an empty body */
        (void)mrd_buf_append(o.body, "", 0, NULL);
}

static const struct api_route routes[] = {
    {"GET", "feeds/{format}", 0, 0, feed_export,
     "a collection as `meridian export` writes it for the caller's org (?collection=ID, "
     "type, tlp, min_confidence, label, since, all, active, latest, subdomains)"},
    {"GET", "feeds/{format}/{collection}/{file}", 0, 0, feed_export,
     "one file of a several-file export: the MISP feed layout (manifest.json, hashes.csv, "
     "{uuid}.json), Suricata hash lists, per-kind lists"},
};

enum mrd_code feed_api_routes(struct store *st, struct privacy_live *privacy,
                              struct api_router *router, struct mrd_err *err)
{
    (void)st;
    if (privacy == NULL)
        return mrd_err_set(err, MRD_E_INVAL, "feeds: no privacy policy");
    return api_router_add(router, routes, sizeof(routes) / sizeof(routes[0]), privacy, err);
}
