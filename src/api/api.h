/*
 * api: the node's JSON API under /api/v1/ (docs/api.md).
 *
 * Does: one table of routes (method + path pattern -> handler) that
 * features fill with api_router_add() before the server starts; request
 * authentication, the same for every route: an API token (`Authorization:
 * Bearer TOKEN`, or the password of HTTP Basic, as TAXII), a console
 * session cookie, or a verified client certificate naming an org; console
 * sessions themselves (sign-in with a token, sign-out, idle and absolute
 * expiry, the CSRF token that every state-changing request made with the
 * cookie must carry); JSON answers and errors; the security headers every
 * answer carries (API_CSP and friends); and handing every path outside
 * /api/v1/ to the next application (TAXII).
 * Does not: decide what a principal may read (policy.h; routes build a
 * policy_reader per collection with api_reader_for and ask
 * policy_may_read, usually through store/taxii read helpers), store
 * anything itself (store.h keeps the sessions), log (the access record
 * goes to cli/).
 *
 * Errors never tell more than "not found" about what a principal may not
 * read: a route answers 404 for a hidden object exactly as for a missing
 * one, and API_F_OWN routes answer 404 to every other relation.
 *
 * Threading: the router is built on one thread (api_router_new, _add),
 * then read-only while the server runs; handlers run on many threads at
 * once and get everything through their struct api_req.
 */
#ifndef MRD_API_API_H
#define MRD_API_API_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "http/http.h"
#include "policy/policy.h"
#include "store/store.h"

#define API_PREFIX "/api/v1/"
#define API_MAX_ROUTES 128        /* rows in the route table */
#define API_MAX_SEGMENTS 8        /* path segments below /api/v1/ */
#define API_MAX_PARAMS 4          /* {name} segments in one route */
#define API_MAX_SEGMENT 512       /* bytes of one path segment */
#define API_DEFAULT_BODY_MAX 4096 /* request body when a route names none */
#define API_MAX_JSON_DEPTH 32     /* nesting of a JSON request body */
#define API_REALM "meridian"

/* Console sessions. The cookie is __Host-mrd_session over HTTPS (the
 * prefix makes browsers refuse it from anywhere but this origin) and
 * mrd_session under --http; HttpOnly, SameSite=Strict, Path=/. */
#define API_COOKIE_SECURE "__Host-mrd_session"
#define API_COOKIE_PLAIN "mrd_session"
#define API_CSRF_HEADER "X-CSRF-Token"
#define API_CSRF_LEN 43 /* base64url of a 32-byte MAC */
#define API_CSRF_KEY_META "api_csrf_key"
#define API_SESSION_IDLE_DEFAULT_S 1800       /* 30 minutes without a request */
#define API_SESSION_MAX_DEFAULT_S (12 * 3600) /* 12 hours after sign-in, whatever */

/* Headers on every answer of the API and the console (and nothing the
 * browser could be talked into rendering: JSON is never HTML). */
#define API_CSP                                                                                    \
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self';"                     \
    " connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'none';"                   \
    " frame-ancestors 'none'; require-trusted-types-for 'script'"
#define API_REFERRER_POLICY "no-referrer"

/* Route flags. */
#define API_F_PUBLIC 0x1u /* answered without credentials (sign-in) */
#define API_F_OWN 0x2u    /* only principals of an own org; others get 404 */

struct api_router;

/* Who is asking. tok is the API token used (for a session: the token
 * that signed in; for a client certificate: "cert:CN"). */
struct api_who {
    bool session; /* through a console session cookie */
    struct store_token tok;
    char csrf[API_CSRF_LEN + 1]; /* the session's CSRF token ("" without a session) */
    int64_t session_expires_usec;
};

/* One request, as a handler sees it. */
struct api_req {
    struct api_router *router;
    struct store *st;
    struct http_request *http;
    struct http_response *resp;
    bool authenticated;                 /* false only on API_F_PUBLIC routes */
    struct api_who who;                 /* valid when authenticated */
    const char *params[API_MAX_PARAMS]; /* the {name} segments, in order (arena) */
    size_t nparams;
    void *ctx;     /* the ctx given with the route's table */
    bool answered; /* set by api_json (and so api_error, api_internal) */
};

struct api_route {
    const char *method; /* "GET" (answers HEAD too), "POST", "PUT" or "DELETE" */
    const char *path;   /* below /api/v1/: "search", "objects/{id}"; a final '/' is optional */
    unsigned flags;     /* API_F_* */
    size_t body_max;    /* request body limit; 0 = API_DEFAULT_BODY_MAX */
    void (*handle)(struct api_req *r);
    const char *summary; /* one line: GET /api/v1/ lists it, docs/api.md says more */
};

struct api_config {
    bool tls;        /* served over HTTPS: Secure cookie with the __Host- prefix */
    unsigned idle_s; /* session idle expiry; 0 = API_SESSION_IDLE_DEFAULT_S */
    unsigned max_s;  /* session absolute expiry; 0 = API_SESSION_MAX_DEFAULT_S */
};

/* Creates the router over an open store (borrowed: it must outlive the
 * router), with its own routes (GET /api/v1/, the session routes)
 * registered. Loads the CSRF key from the store metadata, creating it on
 * first use (every server on one database derives the same tokens). */
enum mrd_code api_router_new(struct store *st, const struct api_config *cfg,
                             struct api_router **ret, struct mrd_err *err);
void api_router_free(struct api_router *r);

/* Adds n routes whose handlers get ctx. MRD_E_EXISTS when a (method,
 * path) is already taken, MRD_E_INVAL for a malformed pattern,
 * MRD_E_TOOBIG past API_MAX_ROUTES. Before the server starts only. */
enum mrd_code api_router_add(struct api_router *r, const struct api_route *routes, size_t n,
                             void *ctx, struct mrd_err *err);

/* The http.h application: /api/v1/... here, everything else to inner
 * (copied; its ctx must outlive the router). */
void api_router_app(struct api_router *r, const struct http_app *inner, struct http_app *ret);

/* ---- for handlers ---- */

/* Answers with v (consumed; NULL answers 500) as application/json. */
void api_json(struct api_req *r, unsigned status, json_t *v);
/* Answers with len bytes of data (copied) as content_type (static). */
void api_raw(struct api_req *r, unsigned status, const char *content_type, const char *data,
             size_t len);
/* Answers {"title", "detail"?, "http_status"} with status. The strings
 * must not name anything the principal may not read. */
void api_error(struct api_req *r, unsigned status, const char *title, const char *detail);
/* 500 (503 when the store is busy); err's message goes to the access log
 * only. */
void api_internal(struct api_req *r, const struct mrd_err *err);

/* The query argument name: NULL when absent; ret_dup (may be NULL) is set
 * when it is given more than once (callers answer 400). */
const char *api_query(struct api_req *r, const char *name, bool *ret_dup);

/* The request body as a JSON document (Content-Type application/json,
 * I-JSON, at most API_MAX_JSON_DEPTH deep). Answers 415 or 400 itself and
 * returns false when it is not one. */
bool api_body_json(struct api_req *r, json_t **ret);

/* Adds a response header (name and value static or in the request arena). */
void api_header(struct api_req *r, const char *name, const char *value);

/* Adds the headers every answer of the API and the console carries:
 * API_CSP, nosniff, X-Frame-Options DENY, API_REFERRER_POLICY. */
void api_security_headers(struct http_response *resp);

/* Walks the route table (docs, GET /api/v1/ and tests). */
size_t api_router_count(const struct api_router *r);
const struct api_route *api_router_route(const struct api_router *r, size_t i);

#endif
