/*
 * api internals shared by api.c (routing, answers) and api_auth.c
 * (credentials, sessions, CSRF). Nothing outside src/api/ includes this.
 */
#ifndef MRD_API_API_INT_H
#define MRD_API_API_INT_H

#include "api/api.h"

#include <sodium.h>

#include "core/arena.h"

struct api_entry {
    struct api_route route;
    void *ctx;
    const char *seg[API_MAX_SEGMENTS]; /* pattern segments (owned copies); "{...}" = a parameter */
    size_t nseg;
    char template[256]; /* "/api/v1/" + path: the access log's and metrics' route */
};

struct api_router {
    struct store *st;
    struct api_config cfg;
    struct api_entry routes[API_MAX_ROUTES];
    size_t n;
    unsigned char csrf_key[crypto_generichash_KEYBYTES];
    struct http_app inner;
};

/* ---- api.c: matching ---- */

/* A path below /api/v1/ cut into segments (arena copies). */
struct api_split {
    const char *seg[API_MAX_SEGMENTS];
    size_t n;
    bool ok; /* false: an empty, too long or non-UTF-8 segment, or too many */
};

/* Splits path (which starts with API_PREFIX) into s; a final '/' is
 * ignored. */
void api__split_path(const char *path, struct mrd_arena *a, struct api_split *s);

/* The route for (method, path): HEAD finds GET routes. NULL when none;
 * then *ret_path_known tells whether another method has the path (405
 * rather than 404). */
const struct api_entry *api__find_route(const struct api_router *r, const char *method,
                                        const struct api_split *s, bool *ret_path_known);

/* ---- api_auth.c ---- */

/* Authenticates the request (Authorization header, else the session
 * cookie, else a verified client certificate). Returns true with r->who
 * set, or false having answered 401 itself. A request with no credentials
 * at all is answered 401 unless anonymous_ok, when it returns false
 * without answering (public routes). */
bool api__authenticate(struct api_req *r, bool anonymous_ok);

/* For state-changing methods made with the session cookie: the CSRF
 * header must match and the request must come from this origin. Returns
 * true when the request may go on; answers 403 itself otherwise. */
bool api__csrf_ok(struct api_req *r);

/* True when the request's Origin (when sent) and Sec-Fetch-Site (when
 * sent) say it comes from this origin. */
bool api__same_origin(struct api_req *r);

/* The next value of cookie name in a Cookie header from *pos on (RFC 6265
 * §5.4 "name=value; name2=value2"), advancing *pos; NULL when there is
 * none. The value is (return, *ret_len), inside the header. */
const char *api__cookie_next(const char **pos, const char *name, size_t *ret_len);

/* Registers the session routes (POST/GET/DELETE session). */
enum mrd_code api__session_routes(struct api_router *rt, struct mrd_err *err);

#endif
