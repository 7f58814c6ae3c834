/*
 * The TAXII application: routing, authentication, negotiation and error
 * resources. Endpoint bodies are in taxii_read.c and taxii_write.c.
 *
 * Order of checks for every request, chosen so that nothing about an API
 * root or collection leaks to someone who may not know of it:
 *   1. credentials (401 when present but wrong, or absent where needed);
 *   2. rate limit per token (429);
 *   3. route (404 for anything that is not a TAXII path ending in '/');
 *   4. method (405);
 *   5. Accept (406), and for POST Content-Type (415) -- after the
 *      collection check in the endpoint, so a 406/415 never confirms that
 *      an inaccessible collection exists.
 */
#include "taxii/taxii_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/metrics.h"
#include "core/str.h"
#include "core/timestamp.h"

#define TAXII_PURGE_EVERY_USEC ((int64_t)600 * 1000000) /* status purge at most every 10 min */

static const char www_auth[] = "Basic realm=\"" TAXII_REALM "\", Bearer realm=\"" TAXII_REALM "\"";

/* ---- responses ------------------------------------------------------------ */

void taxii_json(struct taxii_req *r, unsigned status, json_t *v)
{
    char *s = NULL;

    r->resp->status = status;
    r->resp->content_type = TAXII_MEDIA_TYPE;
    mrd_buf_reset(&r->resp->body);
    if (v != NULL)
        s = json_dumps(v, JSON_COMPACT | JSON_ENSURE_ASCII);
    json_decref(v);
    if (s == NULL || mrd_buf_puts(&r->resp->body, s, NULL) != MRD_OK) {
        /* Out of memory while answering: a bodiless 500 still has the
         * TAXII content type. */
        r->resp->status = 500;
        mrd_buf_release(&r->resp->body);
    }
    free(s);
}

void taxii_error(struct taxii_req *r, unsigned status, const char *title, const char *description)
{
    char code[8];
    json_t *e = json_object();

    (void)snprintf(code, sizeof(code), "%u", status);
    if (e != NULL) {
        (void)json_object_set_new(e, "title", json_string(title));
        /* A message may end in a value cut at its limit ("'%.64s'", the
         * 256-byte message slot) in the middle of a character: JSON takes
         * no broken UTF-8, so keep the whole characters, not no message. */
        if (description != NULL && description[0] != '\0')
            (void)json_object_set_new(
                e, "description",
                json_stringn(description, mrd_utf8_check(description, strlen(description))));
        (void)json_object_set_new(e, "http_status", json_string(code));
    }
    taxii_json(r, status, e);
    r->resp->status = status;
    if (status == 401)
        (void)http_response_header(r->resp, "WWW-Authenticate", www_auth);
    if (status == 429)
        (void)http_response_header(r->resp, "Retry-After", "1");
}

void taxii_internal(struct taxii_req *r, const struct mrd_err *err)
{
    if (err != NULL && err->msg[0] != '\0')
        r->resp->note = mrd_arena_strndup(r->http->arena, err->msg, strlen(err->msg));
    if (err != NULL && err->code == MRD_E_TIMEOUT) {
        taxii_error(r, 503, "Service busy", "the store is busy; retry later");
        (void)http_response_header(r->resp, "Retry-After", "1");
        return;
    }
    /* the database went away (a restart, a failover): the store
     * reconnects on the next request */
    if (err != NULL && err->code == MRD_E_UNAVAIL) {
        taxii_error(r, 503, "Service unavailable",
                    "the database is unreachable; retry after the delay in Retry-After");
        (void)http_response_header(r->resp, "Retry-After", "5");
        return;
    }
    taxii_error(r, 500, "Internal error", "the server could not complete the request");
}

void taxii_version_str(int64_t usec, char out[MRD_TIME_TAXII_LEN + 1])
{
    if (usec % 1000 == 0)
        mrd_time_format_stix_ms(usec, out);
    else
        mrd_time_format_taxii(usec, out);
}

/* ---- routing -------------------------------------------------------------- */

/* Splits an absolute path ending in '/' into at most 8 non-empty segments.
 * Returns the count, or -1 for anything else (empty segment, no trailing
 * slash, too deep, non-UTF-8). */
static int split_path(const char *path, struct mrd_arena *a, const char *seg[8])
{
    size_t len = strlen(path), i = 1;
    int n = 0;

    if (len < 2 || path[0] != '/' || path[len - 1] != '/' || !mrd_utf8_valid(path, len))
        return -1;
    while (i < len) {
        const char *slash = strchr(path + i, '/');
        size_t sl = (size_t)(slash - (path + i));
        if (sl == 0 || n == 8)
            return -1;
        seg[n] = mrd_arena_strndup(a, path + i, sl);
        if (seg[n] == NULL)
            return -1;
        n++;
        i += sl + 1;
    }
    return n;
}

static void route_path(struct taxii_req *r);

/* The template of each route: the access log's and the metrics' label
 * (bounded: never a raw path). */
static const char *const route_templates[] = {
    [TAXII_R_NONE] = NULL,
    [TAXII_R_DISCOVERY] = "/taxii2/",
    [TAXII_R_API_ROOT] = "/{api_root}/",
    [TAXII_R_STATUS] = "/{api_root}/status/{id}/",
    [TAXII_R_COLLECTIONS] = "/{api_root}/collections/",
    [TAXII_R_COLLECTION] = "/{api_root}/collections/{id}/",
    [TAXII_R_MANIFEST] = "/{api_root}/collections/{id}/manifest/",
    [TAXII_R_OBJECTS] = "/{api_root}/collections/{id}/objects/",
    [TAXII_R_OBJECT] = "/{api_root}/collections/{id}/objects/{object_id}/",
    [TAXII_R_VERSIONS] = "/{api_root}/collections/{id}/objects/{object_id}/versions/",
};

static void route(struct taxii_req *r)
{
    route_path(r);
    if ((size_t)r->path.route < sizeof(route_templates) / sizeof(route_templates[0]))
        r->resp->route = route_templates[r->path.route];
}

static void route_path(struct taxii_req *r)
{
    const char *s[8];
    int n = split_path(r->http->path, r->http->arena, s);
    struct taxii_path *p = &r->path;

    memset(p, 0, sizeof(*p));
    if (n == 1 && strcmp(s[0], "taxii2") == 0) {
        p->route = TAXII_R_DISCOVERY;
        return;
    }
    if (n < 1 || strcmp(s[0], "taxii2") == 0)
        return;
    p->root = s[0];
    if (n == 1) {
        p->route = TAXII_R_API_ROOT;
    } else if (n == 3 && strcmp(s[1], "status") == 0) {
        p->route = TAXII_R_STATUS;
        p->id = s[2];
    } else if (strcmp(s[1], "collections") == 0) {
        if (n == 2) {
            p->route = TAXII_R_COLLECTIONS;
            return;
        }
        p->id = s[2];
        if (n == 3)
            p->route = TAXII_R_COLLECTION;
        else if (n == 4 && strcmp(s[3], "manifest") == 0)
            p->route = TAXII_R_MANIFEST;
        else if (n == 4 && strcmp(s[3], "objects") == 0)
            p->route = TAXII_R_OBJECTS;
        else if (n >= 5 && strcmp(s[3], "objects") == 0) {
            p->object_id = s[4];
            if (n == 5)
                p->route = TAXII_R_OBJECT;
            else if (n == 6 && strcmp(s[5], "versions") == 0)
                p->route = TAXII_R_VERSIONS;
        }
    }
}

/* Methods each route answers ("Allow" for 405). */
static const char *allowed_methods(enum taxii_route rt)
{
    switch (rt) {
    case TAXII_R_OBJECTS:
        return "GET, HEAD, POST";
    case TAXII_R_OBJECT:
        return "GET, HEAD, DELETE";
    default:
        return "GET, HEAD";
    }
}

static bool method_allowed(enum taxii_route rt, const char *m)
{
    if (strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0)
        return true;
    if (strcmp(m, "POST") == 0)
        return rt == TAXII_R_OBJECTS;
    if (strcmp(m, "DELETE") == 0)
        return rt == TAXII_R_OBJECT;
    return false;
}

/* ---- authentication ------------------------------------------------------- */

/* A client certificate that verified against --client-ca (http.h) names
 * an org by its subject CN. The principal is that org; its "token name"
 * (logs, paging-token binding) is "cert:CN". An unknown CN is a 401 like a
 * bad token. */
static bool authenticate_cert(struct taxii_req *r)
{
    struct mrd_err err = {0};
    enum mrd_code rc;

    rc = store_cert_principal(r->ts->st, r->http->client_cert_cn, &r->who.tok, &err);
    if (rc == MRD_E_NOTFOUND || rc == MRD_E_INVAL) {
        r->resp->auth_fail = "certificate";
        mrd_metric_inc(MRD_M_AUTH_FAILURES, "certificate");
        taxii_error(r, 401, "Authentication required",
                    "the client certificate names no org on this node");
        return false;
    }
    if (rc != MRD_OK) {
        taxii_internal(r, &err);
        return false;
    }
    r->who.anonymous = false;
    r->resp->who = mrd_arena_strndup(r->http->arena, r->who.tok.name, strlen(r->who.tok.name));
    return true;
}

/* taxii_auth_token; with pre, the collection path names (root, id) and
 * the token's grant on it too, in the same look-up. */
static enum taxii_auth auth_token(struct store *st, const struct http_request *req,
                                  struct http_response *resp, const struct taxii_path *path,
                                  struct taxii_coll_pre *pre, struct store_token *ret,
                                  struct mrd_err *err)
{
    const char *h = http_request_header(req, "Authorization");
    char secret[HTTP_MAX_SECRET + 1];
    struct store_token tok;
    struct mrd_err lerr = {0};
    size_t n = 0;
    enum mrd_code rc;

    if (h == NULL)
        return TAXII_AUTH_NONE;
    if (http_auth_secret(h, strlen(h), secret, &n, NULL) != MRD_OK) {
        sodium_memzero(secret, sizeof(secret));
        resp->auth_fail = "malformed";
        mrd_metric_inc(MRD_M_AUTH_FAILURES, "malformed");
        return TAXII_AUTH_MALFORMED;
    }
    if (pre != NULL)
        rc = store_token_access(st, secret, n, path->root, strlen(path->root), path->id,
                                strlen(path->id), &tok, &pre->c, &pre->found, &pre->g, &lerr);
    else
        rc = store_token_lookup(st, secret, n, &tok, &lerr);
    sodium_memzero(secret, sizeof(secret));
    if (rc == MRD_E_AUTH || rc == MRD_E_NOTFOUND || rc == MRD_E_INVAL) {
        resp->auth_fail = store_auth_refusal(lerr.msg);
        mrd_metric_inc(MRD_M_AUTH_FAILURES, resp->auth_fail);
        return TAXII_AUTH_REFUSED;
    }
    if (rc != MRD_OK) {
        if (err != NULL)
            *err = lerr;
        return TAXII_AUTH_ERROR;
    }
    *ret = tok;
    if (pre != NULL)
        pre->loaded = true;
    resp->who = mrd_arena_strndup(req->arena, tok.name, strlen(tok.name));
    return TAXII_AUTH_OK;
}

enum taxii_auth taxii_auth_token(struct store *st, const struct http_request *req,
                                 struct http_response *resp, struct store_token *ret,
                                 struct mrd_err *err)
{
    return auth_token(st, req, resp, NULL, NULL, ret, err);
}

/* Whether the path names a collection (or something in one) */
static bool names_collection(const struct taxii_path *p)
{
    return p->root != NULL && p->id != NULL &&
           (p->route == TAXII_R_COLLECTION || p->route == TAXII_R_MANIFEST ||
            p->route == TAXII_R_OBJECTS || p->route == TAXII_R_OBJECT ||
            p->route == TAXII_R_VERSIONS);
}

/* Returns true when the request may go on; answers 401/500 itself
 * otherwise. No Authorization header at all leaves r->who anonymous: the
 * endpoint decides whether anonymous is enough (public collections). */
static bool authenticate(struct taxii_req *r)
{
    struct mrd_err err = {0};

    r->who.anonymous = true;
    if (http_request_header(r->http, "Authorization") == NULL && r->http->client_cert_cn != NULL)
        return authenticate_cert(r);
    /* a collection's endpoint: its collection and grant in the token's
     * look-up (one statement, not three) */
    switch (auth_token(r->ts->st, r->http, r->resp, &r->path,
                       names_collection(&r->path) ? &r->pre : NULL, &r->who.tok, &err)) {
    case TAXII_AUTH_NONE:
        return true;
    case TAXII_AUTH_OK:
        r->who.anonymous = false;
        return true;
    case TAXII_AUTH_MALFORMED:
        taxii_error(r, 401, "Authentication required",
                    "send an API token as 'Authorization: Bearer TOKEN' or as the password of "
                    "HTTP Basic");
        return false;
    case TAXII_AUTH_REFUSED:
        taxii_error(r, 401, "Authentication required", "the credentials were not accepted");
        return false;
    default:
        taxii_internal(r, &err);
        return false;
    }
}

static bool rate_ok(struct taxii_req *r)
{
    char key[STORE_NAME_MAX + 32];
    int n;

    if (r->who.anonymous)
        n = snprintf(key, sizeof(key), "anonymous");
    else
        n = snprintf(key, sizeof(key), "%lld:%s", (long long)r->who.tok.org_key, r->who.tok.name);
    if (n < 0)
        return true;
    if (http_ratelimit_take(r->ts->rl, key, strnlen(key, sizeof(key))))
        return true;
    taxii_error(r, 429, "Too many requests",
                "this token exceeded its request rate; retry after the delay in Retry-After");
    return false;
}

/* ---- collection access ---------------------------------------------------- */

bool taxii_coll_load(struct taxii_req *r, struct taxii_coll *ret)
{
    struct mrd_err err = {0};
    enum mrd_code rc;
    const char *root = r->path.root, *id = r->path.id;

    memset(ret, 0, sizeof(*ret));
    /* The collection lookup is scoped to the API root, so a missing root
     * is a missing collection: one read transaction fewer per request.
     * With a token it was read with the token (authenticate). */
    if (r->pre.loaded && !r->who.anonymous) {
        rc = r->pre.found ? MRD_OK : MRD_E_NOTFOUND;
        ret->c = r->pre.c;
        ret->g = r->pre.g;
    } else {
        rc = store_collection_get(r->ts->st, root, strlen(root), id, strlen(id), &ret->c, &err);
        if (rc == MRD_OK && !r->who.anonymous)
            rc = store_grant_get(r->ts->st, r->who.tok.org_key, ret->c.key, &ret->g, &err);
    }
    if (rc == MRD_E_NOTFOUND || rc == MRD_E_INVAL)
        goto notfound;
    if (rc != MRD_OK) {
        taxii_internal(r, &err);
        return false;
    }
    /* A public collection can be read (CLEAR only, policy.h) by anyone. */
    if (!ret->g.can_read && !ret->g.can_write && !ret->c.public_read) {
        if (r->who.anonymous) {
            /* Whether or not it exists: an anonymous caller is asked to
             * authenticate, never told. */
            taxii_error(r, 401, "Authentication required", "this resource needs an API token");
            return false;
        }
        goto notfound;
    }
    ret->reader.anonymous = r->who.anonymous;
    ret->reader.org_id = r->who.anonymous ? 0 : r->who.tok.org_key;
    ret->reader.relation = r->who.anonymous ? POLICY_REL_PARTNER : r->who.tok.org_relation;
    ret->reader.has_read_grant = ret->g.can_read;
    ret->reader.collection_public = ret->c.public_read;
    ret->reader.community = ret->c.api_root;
    ret->reader.community_len = strlen(ret->c.api_root);
    return true;
notfound:
    if (r->who.anonymous) {
        taxii_error(r, 401, "Authentication required", "this resource needs an API token");
        return false;
    }
    taxii_error(r, 404, "Not found",
                "no such API root or collection, or the requester has no access to it");
    return false;
}

/* ---- the handler ---------------------------------------------------------- */

static void maybe_purge(struct taxii_server *ts)
{
    int64_t now = mrd_time_now_usec(), last = atomic_load(&ts->last_purge);

    if (now - last < TAXII_PURGE_EVERY_USEC)
        return;
    if (!atomic_compare_exchange_strong(&ts->last_purge, &last, now))
        return; /* another thread does it */
    (void)store_status_purge(ts->st, now - STORE_STATUS_KEEP_USEC, NULL, NULL);
}

static void handle_request(void *ctx, struct http_request *req, struct http_response *resp)
{
    struct taxii_req r = {.ts = ctx, .http = req, .resp = resp};
    const char *m = req->method;

    /* The route first, so that even a refused request is logged and
     * counted under its template. */
    if (taxii_ledger_path(req->path))
        resp->route = "/ledger/v1/{endpoint}";
    else
        route(&r);
    if (!authenticate(&r) || !rate_ok(&r))
        return;
    if (taxii_ledger_path(req->path)) {
        taxii_ledger_handle(&r);
        return;
    }
    if (r.path.route == TAXII_R_NONE) {
        if (r.who.anonymous)
            taxii_error(&r, 401, "Authentication required", "this resource needs an API token");
        else
            taxii_error(&r, 404, "Not found",
                        "no TAXII 2.1 endpoint at this path (paths end with '/', TAXII 2.1 §3.1)");
        return;
    }
    if (!method_allowed(r.path.route, m)) {
        taxii_error(&r, 405, "Method not allowed", "see the Allow header");
        (void)http_response_header(resp, "Allow", allowed_methods(r.path.route));
        return;
    }
    /* Endpoints outside a collection need a token: only collections can be
     * public. */
    if (r.who.anonymous && r.path.route != TAXII_R_COLLECTION && r.path.route != TAXII_R_MANIFEST &&
        r.path.route != TAXII_R_OBJECTS && r.path.route != TAXII_R_OBJECT &&
        r.path.route != TAXII_R_VERSIONS) {
        taxii_error(&r, 401, "Authentication required", "this resource needs an API token");
        return;
    }
    maybe_purge(r.ts);
    switch (r.path.route) {
    case TAXII_R_DISCOVERY:
        taxii_get_discovery(&r);
        break;
    case TAXII_R_API_ROOT:
        taxii_get_api_root(&r);
        break;
    case TAXII_R_STATUS:
        taxii_get_status(&r);
        break;
    case TAXII_R_COLLECTIONS:
        taxii_get_collections(&r);
        break;
    case TAXII_R_COLLECTION:
        taxii_get_collection(&r);
        break;
    case TAXII_R_OBJECTS:
        if (strcmp(m, "POST") == 0) {
            taxii_post_objects(&r);
            break;
        }
        taxii_get_rows(&r);
        break;
    case TAXII_R_OBJECT:
        if (strcmp(m, "DELETE") == 0) {
            taxii_delete_object(&r);
            break;
        }
        taxii_get_rows(&r);
        break;
    case TAXII_R_MANIFEST:
    case TAXII_R_VERSIONS:
        taxii_get_rows(&r);
        break;
    default:
        taxii_error(&r, 404, "Not found", NULL);
        break;
    }
}

/* A GET (or HEAD) reads the token, collection, grant and rows in ONE
 * read snapshot on this thread's own connection (store_read_begin), not
 * in one pooled transaction each. Revocation is not delayed: every
 * request reads the token anew. Writes a GET may trigger (the status
 * purge) use other connections. If pinning fails, the calls run
 * unpinned, as before. */
static void handle(void *ctx, struct http_request *req, struct http_response *resp)
{
    struct taxii_server *ts = ctx;
    bool pin = strcmp(req->method, "GET") == 0 || strcmp(req->method, "HEAD") == 0;

    if (pin && store_read_begin(ts->st, NULL) != MRD_OK)
        pin = false;
    handle_request(ctx, req, resp);
    if (pin)
        store_read_end(ts->st);
}

/* Bodies: only POST .../objects/ carries one, up to its API root's
 * max_content_length (TAXII §4.2.1). */
static size_t body_max(void *ctx, const char *method, const char *path)
{
    struct taxii_server *ts = ctx;
    const char *slash;
    struct store_api_root root;

    if (strcmp(method, "POST") != 0 || path[0] != '/')
        return TAXII_MAX_GET_BODY;
    slash = strchr(path + 1, '/');
    if (slash == NULL || slash == path + 1 ||
        store_api_root_get(ts->st, path + 1, (size_t)(slash - path - 1), &root, NULL) != MRD_OK)
        return TAXII_MAX_GET_BODY;
    return root.max_content_length > SIZE_MAX / 2 ? SIZE_MAX / 2 : (size_t)root.max_content_length;
}

/* A POST's envelope is parsed into a jansson tree (about 7 to 10 times its
 * size), canonicalised, and tracked per object: reserved up front from the
 * server's body budget (http.h), then exactly in taxii_post_objects. */
static size_t body_factor(void *ctx, const char *method, const char *path)
{
    (void)ctx;
    (void)path;
    return strcmp(method, "POST") == 0 ? TAXII_POST_MEMORY_FACTOR : 1;
}

static void refuse(void *ctx, const char *method, const char *path, struct http_response *resp)
{
    struct http_request fake = {0};
    struct taxii_req r = {.ts = ctx, .http = &fake, .resp = resp};

    (void)method;
    (void)path;
    if (resp->status == 413) {
        taxii_error(&r, 413, "Request entity too large",
                    "the body is larger than the API root's max_content_length");
    } else if (resp->status == 431) {
        taxii_error(&r, 431, "Request header fields too large",
                    "the request line and headers are larger than this server accepts");
    } else if (resp->status == 503) {
        taxii_error(&r, 503, "Service busy",
                    "too many large requests are being processed; retry later");
        (void)http_response_header(resp, "Retry-After", "1");
    } else if (resp->status == 400) {
        /* The head check (http.h): ambiguous framing or credentials. */
        taxii_error(&r, 400, "Bad request", resp->note);
    } else if (resp->status == 501) {
        taxii_error(&r, 501, "Not implemented", resp->note);
    } else
        taxii_error(&r, resp->status, "Request refused", NULL);
}

void taxii_app(struct taxii_server *ts, struct http_app *ret)
{
    memset(ret, 0, sizeof(*ret));
    ret->ctx = ts;
    ret->body_max = body_max;
    ret->body_factor = body_factor;
    ret->handle = handle;
    ret->refuse = refuse;
}

/* ---- lifecycle ------------------------------------------------------------ */

enum mrd_code taxii_server_new(struct store *st, const struct taxii_config *cfg,
                               struct taxii_server **ret, struct mrd_err *err)
{
    struct taxii_server *ts = NULL;
    enum mrd_code rc;

    if (cfg->privacy == NULL)
        return mrd_err_set(err, MRD_E_INVAL, "taxii: no privacy policy");
    if (cfg->ingest.canon == NULL)
        return mrd_err_set(err, MRD_E_INVAL, "taxii: no ingest step");
    if (sodium_init() < 0)
        return mrd_err_set(err, MRD_E_CRYPTO, "libsodium failed to initialise");
    ts = mrd_calloc(1, sizeof(*ts));
    if (ts == NULL)
        return mrd_err_set(err, MRD_E_NOMEM, "out of memory");
    ts->st = st;
    ts->ingest = cfg->ingest;
    ts->privacy = cfg->privacy;
    mrd_strlcpy(ts->title, cfg->title != NULL ? cfg->title : "Meridian TAXII 2.1 server",
                sizeof(ts->title));
    if (cfg->description != NULL)
        mrd_strlcpy(ts->description, cfg->description, sizeof(ts->description));
    rc = http_ratelimit_new(cfg->rate, &ts->rl, err);
    if (rc != MRD_OK)
        goto out;
    /* The paging-token key lives in the store so that every server process
     * on the same database accepts the others' tokens. */
    rc = store_meta_key(st, TAXII_NEXT_KEY_META, ts->next_key, sizeof(ts->next_key), err);
    if (rc != MRD_OK)
        goto out;
    *ret = ts;
    ts = NULL;
out:
    taxii_server_free(ts);
    return rc;
}

void taxii_server_free(struct taxii_server *ts)
{
    if (ts == NULL)
        return;
    http_ratelimit_free(ts->rl);
    sodium_memzero(ts->next_key, sizeof(ts->next_key));
    mrd_free(ts);
}

void taxii_server_set_ledger(struct taxii_server *ts, struct ledger_service *ledger)
{
    ts->ledger = ledger;
}
