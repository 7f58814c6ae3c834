/*
 * The console's files at /ui/ (built into the binary by embed.py).
 *
 * The files are the same for everyone and hold no data: the page asks the
 * JSON API for everything (as the signed-in org), so serving them needs no
 * credentials. Every answer carries the strict Content-Security-Policy
 * (scripts and styles from this origin only, no inline code, no eval,
 * Trusted Types required, no framing), nosniff and no-referrer.
 * GET / redirects a browser to /ui/.
 */
#include "dash/dash_int.h"

#include <string.h>

#include "core/str.h"

static const struct dash_asset *find(const char *rest)
{
    for (size_t i = 0; i < dash__n_assets; i++)
        if (strcmp(dash__assets[i].path, rest) == 0)
            return &dash__assets[i];
    return NULL;
}

static bool accepts_gzip(const struct http_request *req)
{
    const char *ae = http_request_header(req, "Accept-Encoding");

    return ae != NULL && strstr(ae, "gzip") != NULL;
}

static void headers(struct http_response *resp)
{
    api_security_headers(resp);
    (void)http_response_header(resp, "Cross-Origin-Opener-Policy", "same-origin");
}

static void text(struct http_response *resp, unsigned status, const char *msg)
{
    resp->status = status;
    resp->content_type = "text/plain; charset=utf-8";
    mrd_buf_reset(&resp->body);
    (void)mrd_buf_puts(&resp->body, msg, NULL);
    headers(resp);
}

static void handle(void *ctx, struct http_request *req, struct http_response *resp)
{
    const struct http_app *inner = &((struct dash *)ctx)->inner;
    const struct dash_asset *a;
    const char *inm;
    bool get = strcmp(req->method, "GET") == 0 || strcmp(req->method, "HEAD") == 0;

    if (strcmp(req->path, "/favicon.ico") == 0 && get) {
        resp->status = 301;
        (void)http_response_header(resp, "Location", "/ui/favicon.svg");
        text(resp, 301, "/ui/favicon.svg\n");
        return;
    }
    if (strcmp(req->path, "/") == 0 && get) {
        resp->status = 303;
        (void)http_response_header(resp, "Location", "/ui/");
        text(resp, 303, "the console is at /ui/\n");
        return;
    }
    if (strcmp(req->path, "/ui") != 0 && strncmp(req->path, "/ui/", 4) != 0) {
        inner->handle(inner->ctx, req, resp);
        return;
    }
    if (!get) {
        text(resp, 405, "method not allowed\n");
        (void)http_response_header(resp, "Allow", "GET, HEAD");
        return;
    }
    a = strcmp(req->path, "/ui") == 0 ? find("") : find(req->path + 4);
    if (a == NULL) {
        text(resp, 404, "not found\n");
        return;
    }
    headers(resp);
    (void)http_response_header(resp, "ETag", a->etag);
    (void)http_response_header(resp, "Cache-Control", "no-cache");
    (void)http_response_header(resp, "Vary", "Accept-Encoding");
    inm = http_request_header(req, "If-None-Match");
    if (inm != NULL && strcmp(inm, a->etag) == 0) {
        resp->status = 304;
        return;
    }
    resp->status = 200;
    resp->content_type = a->type;
    mrd_buf_reset(&resp->body);
    if (accepts_gzip(req)) {
        (void)http_response_header(resp, "Content-Encoding", "gzip");
        (void)mrd_buf_append(&resp->body, a->gz, a->gz_len, NULL);
    } else {
        (void)mrd_buf_append(&resp->body, a->data, a->len, NULL);
    }
}

static size_t body_max(void *ctx, const char *method, const char *path)
{
    const struct http_app *inner = &((struct dash *)ctx)->inner;

    if (strcmp(path, "/ui") == 0 || strncmp(path, "/ui/", 4) == 0 || strcmp(path, "/") == 0)
        return 0;
    return inner->body_max(inner->ctx, method, path);
}

static size_t body_factor(void *ctx, const char *method, const char *path)
{
    const struct http_app *inner = &((struct dash *)ctx)->inner;

    if (strcmp(path, "/ui") == 0 || strncmp(path, "/ui/", 4) == 0 || strcmp(path, "/") == 0 ||
        inner->body_factor == NULL)
        return 1;
    return inner->body_factor(inner->ctx, method, path);
}

static void refuse(void *ctx, const char *method, const char *path, struct http_response *resp)
{
    const struct http_app *inner = &((struct dash *)ctx)->inner;

    if (strcmp(path, "/ui") == 0 || strncmp(path, "/ui/", 4) == 0 || strcmp(path, "/") == 0) {
        text(resp, resp->status, "refused\n");
        return;
    }
    inner->refuse(inner->ctx, method, path, resp);
}

static void log_rec(void *ctx, const struct http_access *a)
{
    const struct http_app *inner = &((struct dash *)ctx)->inner;

    if (inner->log != NULL)
        inner->log(inner->ctx, a);
}

void dash_ui_app(struct dash *d, const struct http_app *inner, struct http_app *ret)
{
    d->inner = *inner;
    memset(ret, 0, sizeof(*ret));
    ret->ctx = d;
    ret->handle = handle;
    ret->body_max = body_max;
    ret->body_factor = body_factor;
    ret->refuse = refuse;
    ret->log = log_rec;
}
