/*
 * The /api/v1/ router: the route table, matching, answers and the headers
 * every answer carries. Credentials and sessions are in api_auth.c.
 *
 * Order of checks for a request under /api/v1/, chosen so that nothing
 * about a route's data leaks before the principal is known:
 *   1. the path must match a route of the table (else 401 without
 *      credentials, 404 with them);
 *   2. credentials (401), unless the route is public;
 *   3. API_F_OWN routes: 404 for every relation but own;
 *   4. the method (405 with Allow), then for POST/PUT/DELETE made with the
 *      session cookie the CSRF token and the origin (403);
 *   5. the handler.
 */
#include "api/api_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/json.h"
#include "core/str.h"
#include "core/timestamp.h"

/* ---- answers ------------------------------------------------------------- */

void api_header(struct api_req *r, const char *name, const char *value)
{
    (void)http_response_header(r->resp, name, value);
}

void api_json(struct api_req *r, unsigned status, json_t *v)
{
    char *s = NULL;

    r->answered = true;
    r->resp->status = status;
    r->resp->content_type = "application/json";
    mrd_buf_reset(&r->resp->body);
    if (v != NULL)
        s = json_dumps(v, JSON_COMPACT | JSON_ENSURE_ASCII);
    json_decref(v);
    if (s == NULL || mrd_buf_puts(&r->resp->body, s, NULL) != MRD_OK) {
        r->resp->status = 500;
        mrd_buf_reset(&r->resp->body);
        (void)mrd_buf_puts(&r->resp->body, "{\"title\":\"Internal error\",\"http_status\":500}",
                           NULL);
    }
    free(s);
}

void api_raw(struct api_req *r, unsigned status, const char *content_type, const char *data,
             size_t len)
{
    r->answered = true;
    r->resp->status = status;
    r->resp->content_type = content_type;
    mrd_buf_reset(&r->resp->body);
    if (mrd_buf_append(&r->resp->body, data, len, NULL) != MRD_OK)
        api_error(r, 500, "Internal error", "out of memory");
}

void api_error(struct api_req *r, unsigned status, const char *title, const char *detail)
{
    json_t *e = json_pack("{s:s,s:i}", "title", title, "http_status", (int)status);

    /* whole characters of a message that may end in a value cut at its
     * limit (taxii_error): JSON takes no broken UTF-8 */
    if (e != NULL && detail != NULL && detail[0] != '\0')
        (void)json_object_set_new(e, "detail",
                                  json_stringn(detail, mrd_utf8_check(detail, strlen(detail))));
    api_json(r, status, e);
}

void api_internal(struct api_req *r, const struct mrd_err *err)
{
    if (err != NULL && err->msg[0] != '\0')
        r->resp->note = mrd_arena_strndup(r->http->arena, err->msg, strlen(err->msg));
    if (err != NULL && err->code == MRD_E_TIMEOUT) {
        api_error(r, 503, "Service busy", "the store is busy; retry later");
        api_header(r, "Retry-After", "1");
        return;
    }
    if (err != NULL && err->code == MRD_E_UNAVAIL) { /* the database went away */
        api_error(r, 503, "Service unavailable",
                  "the database is unreachable; retry after the delay in Retry-After");
        api_header(r, "Retry-After", "5");
        return;
    }
    api_error(r, 500, "Internal error", "the server could not complete the request");
}

const char *api_query(struct api_req *r, const char *name, bool *ret_dup)
{
    struct http_kv *args = NULL;
    size_t n = 0;
    const char *found = NULL;

    if (ret_dup != NULL)
        *ret_dup = false;
    if (http_request_args(r->http, &args, &n, NULL) != MRD_OK)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(args[i].key, name) != 0)
            continue;
        if (found != NULL) {
            if (ret_dup != NULL)
                *ret_dup = true;
            return found;
        }
        found = args[i].value != NULL ? args[i].value : "";
    }
    return found;
}

/* "application/json" with optional parameters (charset=utf-8). */
static bool is_json_type(const char *ct)
{
    size_t n;

    if (ct == NULL)
        return false;
    n = strcspn(ct, ";");
    while (n > 0 && (ct[n - 1] == ' ' || ct[n - 1] == '\t'))
        n--;
    return mrd_str_eq_nocase(ct, n, "application/json", 16);
}

bool api_body_json(struct api_req *r, json_t **ret)
{
    struct mrd_json_limits lim = {.max_bytes = r->http->body_len + 1,
                                  .max_depth = API_MAX_JSON_DEPTH};
    struct mrd_err err = {0};
    char detail[MRD_ERR_MSG_MAX + 32];

    if (!is_json_type(http_request_header(r->http, "Content-Type"))) {
        api_error(r, 415, "Unsupported media type", "send the body as application/json");
        return false;
    }
    if (mrd_json_parse(r->http->body, r->http->body_len, &lim, ret, &err) != MRD_OK) {
        (void)snprintf(detail, sizeof(detail), "the body is not JSON: %s", err.msg);
        api_error(r, 400, "Bad request", detail);
        return false;
    }
    return true;
}

/* ---- the table ----------------------------------------------------------- */

static bool method_ok(const char *m)
{
    return strcmp(m, "GET") == 0 || strcmp(m, "POST") == 0 || strcmp(m, "PUT") == 0 ||
           strcmp(m, "DELETE") == 0;
}

/* Splits "a/{b}/c/" into segments (owned copies). */
static enum mrd_code parse_pattern(const char *path, struct api_entry *e, struct mrd_err *err)
{
    const char *p = path;
    size_t nparams = 0;

    e->nseg = 0;
    while (*p != '\0') {
        size_t n = strcspn(p, "/");
        if (n == 0 || e->nseg == API_MAX_SEGMENTS)
            return mrd_err_set(err, MRD_E_INVAL, "api: route '%s': empty segment or too deep",
                               path);
        if (p[0] == '{' && (p[n - 1] != '}' || n < 3 || ++nparams > API_MAX_PARAMS))
            return mrd_err_set(err, MRD_E_INVAL, "api: route '%s': bad parameter", path);
        e->seg[e->nseg] = mrd_strndup(p, n);
        if (e->seg[e->nseg] == NULL)
            return mrd_err_set(err, MRD_E_NOMEM, "out of memory");
        e->nseg++;
        p += n;
        if (*p == '/')
            p++;
    }
    return MRD_OK;
}

static void entry_release(struct api_entry *e)
{
    for (size_t i = 0; i < e->nseg; i++)
        mrd_free((void *)(uintptr_t)e->seg[i]);
    e->nseg = 0;
}

static bool same_shape(const struct api_entry *a, const struct api_entry *b)
{
    if (a->nseg != b->nseg)
        return false;
    for (size_t i = 0; i < a->nseg; i++) {
        bool pa = a->seg[i][0] == '{', pb = b->seg[i][0] == '{';
        if (pa != pb || (!pa && strcmp(a->seg[i], b->seg[i]) != 0))
            return false;
    }
    return true;
}

enum mrd_code api_router_add(struct api_router *r, const struct api_route *routes, size_t n,
                             void *ctx, struct mrd_err *err)
{
    for (size_t i = 0; i < n; i++) {
        struct api_entry *e;
        enum mrd_code rc;

        if (r->n == API_MAX_ROUTES)
            return mrd_err_set(err, MRD_E_TOOBIG, "api: more than %d routes", API_MAX_ROUTES);
        if (routes[i].method == NULL || !method_ok(routes[i].method) || routes[i].path == NULL ||
            routes[i].handle == NULL || routes[i].path[0] == '/')
            return mrd_err_set(err, MRD_E_INVAL, "api: route %zu is malformed", i);
        e = &r->routes[r->n];
        memset(e, 0, sizeof(*e));
        e->route = routes[i];
        (void)snprintf(e->template, sizeof(e->template), "%s%s", API_PREFIX, routes[i].path);
        e->ctx = ctx;
        rc = parse_pattern(routes[i].path, e, err);
        if (rc != MRD_OK) {
            entry_release(e);
            return rc;
        }
        for (size_t k = 0; k < r->n; k++) {
            if (strcmp(r->routes[k].route.method, e->route.method) == 0 &&
                same_shape(&r->routes[k], e)) {
                entry_release(e);
                return mrd_err_set(err, MRD_E_EXISTS, "api: %s %s is already a route",
                                   routes[i].method, routes[i].path);
            }
        }
        r->n++;
    }
    return MRD_OK;
}

size_t api_router_count(const struct api_router *r)
{
    return r->n;
}

const struct api_route *api_router_route(const struct api_router *r, size_t i)
{
    return i < r->n ? &r->routes[i].route : NULL;
}

/* ---- matching ------------------------------------------------------------ */

void api__split_path(const char *path, struct mrd_arena *a, struct api_split *s)
{
    const char *p = path + strlen(API_PREFIX);
    size_t len = strlen(p);

    s->n = 0;
    s->ok = mrd_utf8_valid(p, len);
    while (s->ok && *p != '\0') {
        size_t n = strcspn(p, "/");
        if (n == 0 || n > API_MAX_SEGMENT || s->n == API_MAX_SEGMENTS) {
            s->ok = false;
            break;
        }
        s->seg[s->n] = mrd_arena_strndup(a, p, n);
        if (s->seg[s->n] == NULL) {
            s->ok = false;
            break;
        }
        s->n++;
        p += n;
        if (*p == '/')
            p++;
    }
}

static bool entry_matches(const struct api_entry *e, const struct api_split *s)
{
    if (e->nseg != s->n)
        return false;
    for (size_t i = 0; i < s->n; i++)
        if (e->seg[i][0] != '{' && strcmp(e->seg[i], s->seg[i]) != 0)
            return false;
    return true;
}

const struct api_entry *api__find_route(const struct api_router *r, const char *method,
                                        const struct api_split *s, bool *ret_path_known)
{
    const char *m = strcmp(method, "HEAD") == 0 ? "GET" : method;

    *ret_path_known = false;
    if (!s->ok)
        return NULL;
    for (size_t i = 0; i < r->n; i++) {
        if (!entry_matches(&r->routes[i], s))
            continue;
        *ret_path_known = true;
        if (strcmp(r->routes[i].route.method, m) == 0)
            return &r->routes[i];
    }
    return NULL;
}

static const char *allow_of(struct api_req *r, const struct api_split *s)
{
    char buf[128] = "";
    size_t n = 0;

    for (size_t i = 0; i < r->router->n; i++) {
        const struct api_entry *e = &r->router->routes[i];
        if (!entry_matches(e, s))
            continue;
        n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s%s", n > 0 ? ", " : "", e->route.method);
        if (strcmp(e->route.method, "GET") == 0 && n < sizeof(buf))
            n += (size_t)snprintf(buf + n, sizeof(buf) - n, ", HEAD");
        if (n >= sizeof(buf))
            break;
    }
    return mrd_arena_strndup(r->http->arena, buf, strnlen(buf, sizeof(buf)));
}

static bool is_api(const char *path)
{
    return strncmp(path, API_PREFIX, strlen(API_PREFIX)) == 0 || strcmp(path, "/api/v1") == 0;
}

static bool unsafe_method(const char *m)
{
    return strcmp(m, "GET") != 0 && strcmp(m, "HEAD") != 0;
}

void api_security_headers(struct http_response *resp)
{
    (void)http_response_header(resp, "Content-Security-Policy", API_CSP);
    (void)http_response_header(resp, "X-Content-Type-Options", "nosniff");
    (void)http_response_header(resp, "X-Frame-Options", "DENY");
    (void)http_response_header(resp, "Referrer-Policy", API_REFERRER_POLICY);
}

static void dispatch(struct api_router *rt, struct http_request *req, struct http_response *resp)
{
    struct api_req r = {.router = rt, .st = rt->st, .http = req, .resp = resp};
    const struct api_entry *e;
    struct api_split s;
    bool known = false;

    if (strcmp(req->path, "/api/v1") == 0) {
        api_error(&r, 404, "Not found", "API paths start with " API_PREFIX);
        return;
    }
    api__split_path(req->path, req->arena, &s);
    e = api__find_route(rt, req->method, &s, &known);
    resp->route = e != NULL ? e->template : "/api/v1/{other}";
    if (e != NULL && (e->route.flags & API_F_PUBLIC)) {
        r.authenticated = api__authenticate(&r, true);
        if (!r.authenticated && r.answered)
            return; /* bad credentials were sent: 401 already */
    } else {
        if (!api__authenticate(&r, false))
            return;
        r.authenticated = true;
        if (e == NULL && !known) {
            api_error(&r, 404, "Not found", "no API route at this path (docs/api.md)");
            return;
        }
        if (e != NULL && (e->route.flags & API_F_OWN) && r.who.tok.org_relation != POLICY_REL_OWN) {
            api_error(&r, 404, "Not found", "no API route at this path (docs/api.md)");
            return;
        }
    }
    if (e == NULL) {
        api_error(&r, 405, "Method not allowed", "see the Allow header");
        api_header(&r, "Allow", allow_of(&r, &s));
        return;
    }
    /* Public routes (sign-in) check their origin themselves. */
    if (unsafe_method(req->method) && !(e->route.flags & API_F_PUBLIC) && !api__csrf_ok(&r))
        return;
    for (size_t i = 0; i < e->nseg && r.nparams < API_MAX_PARAMS; i++) {
        if (e->seg[i][0] == '{')
            r.params[r.nparams++] = s.seg[i];
    }
    r.ctx = e->ctx;
    e->route.handle(&r);
    if (!r.answered)
        api_error(&r, 500, "Internal error", "the route gave no answer");
}

static void handle(void *ctx, struct http_request *req, struct http_response *resp)
{
    struct api_router *rt = ctx;
    int64_t t0;
    char *timing;

    if (!is_api(req->path)) {
        rt->inner.handle(rt->inner.ctx, req, resp);
        return;
    }
    t0 = mrd_time_now_usec();
    /* One read snapshot per GET, as TAXII does: the session, the grants
     * and the rows a page shows agree with each other. */
    if (strcmp(req->method, "GET") == 0 || strcmp(req->method, "HEAD") == 0) {
        bool pin = store_read_begin(rt->st, NULL) == MRD_OK;
        dispatch(rt, req, resp);
        if (pin)
            store_read_end(rt->st);
    } else {
        dispatch(rt, req, resp);
    }
    api_security_headers(resp);
    (void)http_response_header(resp, "Cache-Control", "no-store");
    /* Server time for benchmarks and the browser's devtools. */
    timing = mrd_arena_alloc(req->arena, 48);
    if (timing != NULL) {
        (void)snprintf(timing, 48, "app;dur=%.3f", (double)(mrd_time_now_usec() - t0) / 1000.0);
        (void)http_response_header(resp, "Server-Timing", timing);
    }
}

/* ---- the http.h application --------------------------------------------- */

static size_t body_max(void *ctx, const char *method, const char *path)
{
    struct api_router *rt = ctx;
    struct mrd_arena a;
    struct api_split s;
    const struct api_entry *e;
    bool known;
    size_t max = API_DEFAULT_BODY_MAX;

    if (!is_api(path))
        return rt->inner.body_max(rt->inner.ctx, method, path);
    if (strcmp(path, "/api/v1") == 0)
        return max;
    mrd_arena_init(&a, (size_t)API_MAX_SEGMENTS * (API_MAX_SEGMENT + 32));
    api__split_path(path, &a, &s);
    e = api__find_route(rt, method, &s, &known);
    if (e != NULL && e->route.body_max > 0)
        max = e->route.body_max;
    mrd_arena_release(&a);
    return max;
}

static size_t body_factor(void *ctx, const char *method, const char *path)
{
    struct api_router *rt = ctx;

    if (is_api(path) || rt->inner.body_factor == NULL)
        return 1;
    return rt->inner.body_factor(rt->inner.ctx, method, path);
}

static void refuse(void *ctx, const char *method, const char *path, struct http_response *resp)
{
    struct api_router *rt = ctx;
    struct http_request fake = {0};
    struct api_req r = {.router = rt, .st = rt->st, .http = &fake, .resp = resp};
    unsigned status = resp->status;

    if (!is_api(path)) {
        rt->inner.refuse(rt->inner.ctx, method, path, resp);
        return;
    }
    if (status == 413)
        api_error(&r, 413, "Request too large", "the body is larger than this route accepts");
    else if (status == 431)
        api_error(&r, 431, "Request header fields too large", NULL);
    else if (status == 503)
        api_error(&r, 503, "Service busy", "retry later");
    else
        api_error(&r, status, "Request refused", NULL);
    resp->status = status;
    api_security_headers(resp);
    (void)http_response_header(resp, "Cache-Control", "no-store");
}

static void log_rec(void *ctx, const struct http_access *a)
{
    struct api_router *rt = ctx;

    if (rt->inner.log != NULL)
        rt->inner.log(rt->inner.ctx, a);
}

void api_router_app(struct api_router *r, const struct http_app *inner, struct http_app *ret)
{
    r->inner = *inner;
    memset(ret, 0, sizeof(*ret));
    ret->ctx = r;
    ret->body_max = body_max;
    ret->body_factor = body_factor;
    ret->handle = handle;
    ret->refuse = refuse;
    ret->log = log_rec;
}

/* ---- GET /api/v1/: the table itself -------------------------------------- */

static void get_index(struct api_req *r)
{
    json_t *list = json_array();

    for (size_t i = 0; list != NULL && i < r->router->n; i++) {
        const struct api_route *rt = &r->router->routes[i].route;
        if ((rt->flags & API_F_OWN) && r->who.tok.org_relation != POLICY_REL_OWN)
            continue;
        if (json_array_append_new(list, json_pack("{s:s,s:s+,s:s,s:b}", "method", rt->method,
                                                  "path", API_PREFIX, rt->path, "summary",
                                                  rt->summary != NULL ? rt->summary : "",
                                                  "own_only", (rt->flags & API_F_OWN) != 0)) != 0) {
            json_decref(list);
            list = NULL;
        }
    }
    api_json(r, 200, json_pack("{s:s,s:o?}", "api", "meridian/v1", "routes", list));
}

static const struct api_route index_routes[] = {
    {"GET", "", 0, 0, get_index, "this table of routes"},
};

/* ---- lifecycle ----------------------------------------------------------- */

enum mrd_code api_router_new(struct store *st, const struct api_config *cfg,
                             struct api_router **ret, struct mrd_err *err)
{
    struct api_router *r;
    enum mrd_code rc;

    if (sodium_init() < 0)
        return mrd_err_set(err, MRD_E_CRYPTO, "libsodium failed to initialise");
    r = mrd_calloc(1, sizeof(*r));
    if (r == NULL)
        return mrd_err_set(err, MRD_E_NOMEM, "out of memory");
    r->st = st;
    if (cfg != NULL)
        r->cfg = *cfg;
    if (r->cfg.idle_s == 0)
        r->cfg.idle_s = API_SESSION_IDLE_DEFAULT_S;
    if (r->cfg.max_s == 0)
        r->cfg.max_s = API_SESSION_MAX_DEFAULT_S;
    rc = store_meta_key(st, API_CSRF_KEY_META, r->csrf_key, sizeof(r->csrf_key), err);
    if (rc == MRD_OK)
        rc = api_router_add(r, index_routes, 1, NULL, err);
    if (rc == MRD_OK)
        rc = api__session_routes(r, err);
    if (rc != MRD_OK) {
        api_router_free(r);
        return rc;
    }
    *ret = r;
    return MRD_OK;
}

void api_router_free(struct api_router *r)
{
    if (r == NULL)
        return;
    for (size_t i = 0; i < r->n; i++)
        entry_release(&r->routes[i]);
    sodium_memzero(r->csrf_key, sizeof(r->csrf_key));
    mrd_free(r);
}
