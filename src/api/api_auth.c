/*
 * Credentials for /api/v1/: API tokens, console sessions, client
 * certificates, and the CSRF and origin checks of the session cookie.
 *
 * Why these rules: the cookie is ambient (the browser sends it by itself),
 * so everything that changes state with it must prove it comes from the
 * console's own page: the CSRF header (a page elsewhere cannot read it or
 * set custom headers without a CORS preflight we never grant) and, when
 * the browser sends them, Origin and Sec-Fetch-Site. SameSite=Strict keeps
 * the cookie off cross-site requests in the first place. An Authorization
 * header is never ambient, so token requests need none of this. Sign-in
 * takes a JSON body only, which no HTML form can send.
 */
#include "api/api_int.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/metrics.h"
#include "core/str.h"
#include "core/timestamp.h"

#define API_SIGNIN_BODY_MAX 1024

static const char bearer_challenge[] = "Bearer realm=\"" API_REALM "\"";

/* A 401 with a Bearer challenge only: a Basic one would make browsers pop
 * up their own password dialog over the console. */
static void unauthorized(struct api_req *r, const char *detail)
{
    api_error(r, 401, "Authentication required", detail);
    api_header(r, "WWW-Authenticate", bearer_challenge);
}

static const char *cookie_name(const struct api_router *rt)
{
    return rt->cfg.tls ? API_COOKIE_SECURE : API_COOKIE_PLAIN;
}

const char *api__cookie_next(const char **pos, const char *name, size_t *ret_len)
{
    size_t nl = strlen(name);
    const char *p = *pos;

    while (p != NULL && *p != '\0') {
        const char *end = strchr(p, ';');
        size_t n = end != NULL ? (size_t)(end - p) : strlen(p);
        while (n > 0 && (*p == ' ' || *p == '\t')) {
            p++;
            n--;
        }
        *pos = end != NULL ? end + 1 : p + n;
        if (n > nl && memcmp(p, name, nl) == 0 && p[nl] == '=') {
            const char *v = p + nl + 1;
            size_t vl = n - nl - 1;
            while (vl > 0 && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
                vl--;
            *ret_len = vl;
            return v;
        }
        p = *pos;
    }
    return NULL;
}

static void csrf_of(const struct api_router *rt, const char *sid, size_t len,
                    char out[API_CSRF_LEN + 1])
{
    unsigned char mac[32];
    crypto_generichash_state h;

    (void)crypto_generichash_init(&h, rt->csrf_key, sizeof(rt->csrf_key), sizeof(mac));
    (void)crypto_generichash_update(&h, (const unsigned char *)"csrf:", 5);
    (void)crypto_generichash_update(&h, (const unsigned char *)sid, len);
    (void)crypto_generichash_final(&h, mac, sizeof(mac));
    (void)sodium_bin2base64(out, API_CSRF_LEN + 1, mac, sizeof(mac),
                            sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

static bool token_auth(struct api_req *r, const char *hdr)
{
    char secret[HTTP_MAX_SECRET + 1];
    size_t n = 0;
    struct mrd_err err = {0};
    enum mrd_code rc;

    if (http_auth_secret(hdr, strlen(hdr), secret, &n, NULL) != MRD_OK) {
        r->resp->auth_fail = "malformed";
        mrd_metric_inc(MRD_M_AUTH_FAILURES, r->resp->auth_fail);
        unauthorized(r, "send an API token as 'Authorization: Bearer TOKEN'");
        return false;
    }
    rc = store_token_lookup(r->st, secret, n, &r->who.tok, &err);
    sodium_memzero(secret, sizeof(secret));
    if (rc == MRD_E_AUTH || rc == MRD_E_NOTFOUND || rc == MRD_E_INVAL) {
        r->resp->auth_fail = store_auth_refusal(err.msg);
        mrd_metric_inc(MRD_M_AUTH_FAILURES, r->resp->auth_fail);
        unauthorized(r, "the credentials were not accepted");
        return false;
    }
    if (rc != MRD_OK) {
        api_internal(r, &err);
        return false;
    }
    return true;
}

/* The first cookie of ours naming a live session. */
static enum mrd_code session_auth(struct api_req *r, const char *hdr, bool *ret_found)
{
    const char *pos = hdr, *v;
    size_t n = 0;
    int64_t idle = (int64_t)r->router->cfg.idle_s * 1000000;
    struct store_session s;
    struct mrd_err err = {0};
    enum mrd_code rc;

    *ret_found = false;
    while ((v = api__cookie_next(&pos, cookie_name(r->router), &n)) != NULL) {
        rc = store_session_lookup(r->st, v, n, idle, &s, &err);
        if (rc == MRD_E_AUTH) {
            mrd_err_clear(&err);
            continue;
        }
        if (rc != MRD_OK) {
            api_internal(r, &err);
            return rc;
        }
        r->who.session = true;
        r->who.tok = s.tok;
        r->who.session_expires_usec = s.expires_usec;
        csrf_of(r->router, v, n, r->who.csrf);
        *ret_found = true;
        return MRD_OK;
    }
    return MRD_OK;
}

static bool cert_auth(struct api_req *r)
{
    struct mrd_err err = {0};
    enum mrd_code rc;

    rc = store_cert_principal(r->st, r->http->client_cert_cn, &r->who.tok, &err);
    if (rc == MRD_E_NOTFOUND || rc == MRD_E_INVAL) {
        unauthorized(r, "the client certificate names no org on this node");
        return false;
    }
    if (rc != MRD_OK) {
        api_internal(r, &err);
        return false;
    }
    return true;
}

bool api__authenticate(struct api_req *r, bool anonymous_ok)
{
    const char *auth = http_request_header(r->http, "Authorization");
    const char *cookie = http_request_header(r->http, "Cookie");
    bool found = false, ok;

    memset(&r->who, 0, sizeof(r->who));
    if (auth != NULL) {
        ok = token_auth(r, auth);
    } else if (cookie != NULL && session_auth(r, cookie, &found) != MRD_OK) {
        return false; /* answered */
    } else if (found) {
        ok = true;
    } else if (r->http->client_cert_cn != NULL) {
        ok = cert_auth(r);
    } else {
        if (anonymous_ok)
            return false;
        unauthorized(r, cookie != NULL ? "the session has ended: sign in again"
                                       : "sign in, or send an API token as 'Authorization: "
                                         "Bearer TOKEN'");
        return false;
    }
    if (ok)
        r->resp->who = mrd_arena_strndup(r->http->arena, r->who.tok.name,
                                         strnlen(r->who.tok.name, sizeof(r->who.tok.name)));
    return ok;
}

bool api__same_origin(struct api_req *r)
{
    const char *site = http_request_header(r->http, "Sec-Fetch-Site");
    const char *origin = http_request_header(r->http, "Origin");
    const char *host = http_request_header(r->http, "Host");
    const char *scheme = r->http->tls ? "https://" : "http://";
    size_t sl = strlen(scheme);

    if (site != NULL && strcmp(site, "same-origin") != 0 && strcmp(site, "none") != 0)
        return false;
    if (origin == NULL)
        return true; /* not a browser, or a browser that sends none: the CSRF token decides */
    if (host == NULL || strncasecmp(origin, scheme, sl) != 0)
        return false;
    return strcasecmp(origin + sl, host) == 0;
}

bool api__csrf_ok(struct api_req *r)
{
    const char *h;

    if (!r->authenticated || !r->who.session)
        return true; /* token, certificate, or a public route without a session */
    h = http_request_header(r->http, API_CSRF_HEADER);
    if (h == NULL || strlen(h) != API_CSRF_LEN ||
        sodium_memcmp(h, r->who.csrf, API_CSRF_LEN) != 0 || !api__same_origin(r)) {
        api_error(
            r, 403, "Forbidden",
            "a change made with the console's session needs its CSRF token in the " API_CSRF_HEADER
            " header, from the console's own origin");
        return false;
    }
    return true;
}

/* ---- the session routes --------------------------------------------------- */

static json_t *who_json(const struct api_req *r)
{
    char exp[MRD_TIME_TAXII_LEN + 1] = "";

    if (r->who.session)
        mrd_time_format_taxii(r->who.session_expires_usec, exp);
    return json_pack("{s:s,s:s,s:s,s:b,s:s*,s:s*,s:i}", "org", r->who.tok.org_name, "relation",
                     policy_relation_name(r->who.tok.org_relation), "token", r->who.tok.name,
                     "session", r->who.session, "csrf", r->who.session ? r->who.csrf : NULL,
                     "expires", exp[0] != '\0' ? exp : NULL, "idle_timeout",
                     (int)r->router->cfg.idle_s);
}

static void set_cookie(struct api_req *r, const char *value, unsigned max_age)
{
    char *h = mrd_arena_alloc(r->http->arena, 256);

    if (h == NULL)
        return;
    (void)snprintf(h, 256, "%s=%s; Path=/; Max-Age=%u; HttpOnly; SameSite=Strict%s",
                   cookie_name(r->router), value, max_age, r->router->cfg.tls ? "; Secure" : "");
    api_header(r, "Set-Cookie", h);
}

/* The session id the request's cookie carries when it names this
 * request's session (for sign-out). */
static const char *own_cookie(struct api_req *r, size_t *ret_len)
{
    const char *cookie = http_request_header(r->http, "Cookie");
    const char *pos = cookie, *v;
    char csrf[API_CSRF_LEN + 1];

    while (cookie != NULL &&
           (v = api__cookie_next(&pos, cookie_name(r->router), ret_len)) != NULL) {
        csrf_of(r->router, v, *ret_len, csrf);
        if (sodium_memcmp(csrf, r->who.csrf, API_CSRF_LEN) == 0)
            return v;
    }
    return NULL;
}

static void post_session(struct api_req *r)
{
    const struct api_router *rt = r->router;
    json_t *body = NULL;
    const char *secret;
    char id[STORE_SESSION_ID_LEN + 1];
    struct store_token tok;
    struct mrd_err err = {0};
    int64_t exp = mrd_time_now_usec() + (int64_t)rt->cfg.max_s * 1000000;
    enum mrd_code rc;

    if (!api__same_origin(r)) {
        api_error(r, 403, "Forbidden", "sign in from the console's own origin");
        return;
    }
    if (!api_body_json(r, &body))
        return;
    secret = json_string_value(json_object_get(body, "token"));
    if (secret == NULL || strlen(secret) > HTTP_MAX_SECRET) {
        json_decref(body);
        api_error(r, 400, "Bad request", "send {\"token\": \"YOUR API TOKEN\"}");
        return;
    }
    rc = store_token_lookup(r->st, secret, strlen(secret), &tok, &err);
    json_decref(body); /* the secret goes with it */
    if (rc == MRD_E_AUTH || rc == MRD_E_NOTFOUND || rc == MRD_E_INVAL) {
        unauthorized(r, "the token was not accepted");
        return;
    }
    if (rc == MRD_OK)
        rc = store_session_create(r->st, tok.name, exp, id, &err);
    if (rc != MRD_OK) {
        api_internal(r, &err);
        return;
    }
    /* A previous session of this browser ends: one sign-in, one session. */
    if (r->authenticated && r->who.session) {
        size_t n = 0;
        const char *old = own_cookie(r, &n);
        if (old != NULL)
            (void)store_session_end(r->st, old, n, NULL);
    }
    memset(&r->who, 0, sizeof(r->who));
    r->authenticated = true;
    r->who.session = true;
    r->who.tok = tok;
    r->who.session_expires_usec = exp;
    csrf_of(rt, id, STORE_SESSION_ID_LEN, r->who.csrf);
    r->resp->who = mrd_arena_strndup(r->http->arena, tok.name, strnlen(tok.name, sizeof(tok.name)));
    set_cookie(r, id, rt->cfg.max_s);
    sodium_memzero(id, sizeof(id));
    api_json(r, 200, who_json(r));
}

static void get_session(struct api_req *r)
{
    api_json(r, 200, who_json(r));
}

static void delete_session(struct api_req *r)
{
    struct mrd_err err = {0};
    size_t n = 0;
    const char *id;

    if (r->who.session) {
        id = own_cookie(r, &n);
        if (id != NULL && store_session_end(r->st, id, n, &err) != MRD_OK) {
            api_internal(r, &err);
            return;
        }
        set_cookie(r, "", 0);
    }
    api_json(r, 200, json_pack("{s:b}", "signed_out", r->who.session));
}

static const struct api_route session_routes[] = {
    {"POST", "session", API_F_PUBLIC, API_SIGNIN_BODY_MAX, post_session,
     "sign in: {\"token\": TOKEN} opens a console session (cookie) and returns its CSRF token"},
    {"GET", "session", 0, 0, get_session, "who is signed in: org, relation, CSRF token, expiry"},
    {"DELETE", "session", 0, 0, delete_session, "sign out: ends this console session"},
};

enum mrd_code api__session_routes(struct api_router *rt, struct mrd_err *err)
{
    return api_router_add(rt, session_routes, sizeof(session_routes) / sizeof(session_routes[0]),
                          NULL, err);
}
