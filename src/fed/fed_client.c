/*
 * The TAXII 2.1 client over libcurl: requests, responses, discovery.
 *
 * Certificates are always verified (peer and host name): a peer's --ca
 * file pins the CA (or the self-signed certificate) it presents, otherwise
 * the system store applies. Redirects are not followed, and a discovery
 * answer naming an API root on another origin (scheme, host, port) is
 * refused, so a token is only ever sent to the origin the operator
 * configured. Every limit is named:
 * responses above FED_MAX_RESPONSE abort the transfer.
 */
#include "fed/fed_int.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "core/alloc.h"
#include "core/json.h"
#include "core/str.h"
#include "taxii/taxii.h"

#define TAXII_MT "application/taxii+json;version=2.1"

void fed__response_init(struct fed_response *r)
{
    memset(r, 0, sizeof(*r));
    mrd_buf_init(&r->body, FED_MAX_RESPONSE);
}

void fed__response_release(struct fed_response *r)
{
    mrd_buf_release(&r->body);
}

static int on_progress(void *ctx, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
    const atomic_bool *stop = ctx;

    (void)dt, (void)dn, (void)ut, (void)un;
    return atomic_load(stop) ? 1 : 0; /* non-zero aborts the transfer */
}

static size_t on_body(char *p, size_t size, size_t n, void *ctx)
{
    struct fed_response *r = ctx;

    /* Returning less than given makes libcurl abort with a write error. */
    if (mrd_buf_append(&r->body, p, size * n, NULL) != MRD_OK)
        return 0;
    return size * n;
}

/* Copies a header's value (trimmed) into dst when its name matches. */
static void header_value(const char *line, size_t n, const char *name, char *dst, size_t size)
{
    size_t nl = strlen(name), vl;
    const char *v;

    if (n <= nl || strncasecmp(line, name, nl) != 0 || line[nl] != ':')
        return;
    v = line + nl + 1;
    vl = n - nl - 1;
    while (vl > 0 && (*v == ' ' || *v == '\t'))
        v++, vl--;
    while (vl > 0 && (v[vl - 1] == '\r' || v[vl - 1] == '\n' || v[vl - 1] == ' '))
        vl--;
    if (vl >= size)
        return; /* too long to be what we expect: ignore it */
    memcpy(dst, v, vl);
    dst[vl] = '\0';
}

static size_t on_header(char *p, size_t size, size_t n, void *ctx)
{
    struct fed_response *r = ctx;

    header_value(p, size * n, "X-TAXII-Date-Added-Last", r->date_added_last,
                 sizeof(r->date_added_last));
    header_value(p, size * n, "Content-Type", r->content_type, sizeof(r->content_type));
    header_value(p, size * n, "ETag", r->etag, sizeof(r->etag));
    header_value(p, size * n, "Last-Modified", r->last_modified, sizeof(r->last_modified));
    return size * n;
}

/* The transport settings every request shares (see the top of the file). */
static void transport_opts(CURL *k, const char *url, struct curl_slist *hdrs, const char *ca_file,
                           char *errbuf, unsigned timeout_s, const atomic_bool *stop,
                           struct fed_response *resp)
{
    (void)curl_easy_setopt(k, CURLOPT_URL, url);
    (void)curl_easy_setopt(k, CURLOPT_HTTPHEADER, hdrs);
    (void)curl_easy_setopt(k, CURLOPT_ERRORBUFFER, errbuf);
    (void)curl_easy_setopt(k, CURLOPT_NOSIGNAL, 1L);
    (void)curl_easy_setopt(k, CURLOPT_PROTOCOLS_STR, "http,https");
    (void)curl_easy_setopt(k, CURLOPT_FOLLOWLOCATION, 0L);
    (void)curl_easy_setopt(k, CURLOPT_SSL_VERIFYPEER, 1L);
    (void)curl_easy_setopt(k, CURLOPT_SSL_VERIFYHOST, 2L);
    if (ca_file != NULL && ca_file[0] != '\0')
        (void)curl_easy_setopt(k, CURLOPT_CAINFO, ca_file);
    (void)curl_easy_setopt(k, CURLOPT_CONNECTTIMEOUT, (long)FED_CONNECT_TIMEOUT_S);
    (void)curl_easy_setopt(k, CURLOPT_TIMEOUT, (long)timeout_s);
    (void)curl_easy_setopt(k, CURLOPT_ACCEPT_ENCODING, ""); /* gzip when offered */
    (void)curl_easy_setopt(k, CURLOPT_WRITEFUNCTION, on_body);
    (void)curl_easy_setopt(k, CURLOPT_WRITEDATA, resp);
    (void)curl_easy_setopt(k, CURLOPT_HEADERFUNCTION, on_header);
    (void)curl_easy_setopt(k, CURLOPT_HEADERDATA, resp);
    if (stop != NULL) {
        (void)curl_easy_setopt(k, CURLOPT_NOPROGRESS, 0L);
        (void)curl_easy_setopt(k, CURLOPT_XFERINFOFUNCTION, on_progress);
        (void)curl_easy_setopt(k, CURLOPT_XFERINFODATA, stop);
    }
}

/* Runs the transfer; the status lands in resp. */
static enum mrd_code perform(CURL *k, const char *url, const char *errbuf,
                             struct fed_response *resp, struct mrd_err *err)
{
    CURLcode cc = curl_easy_perform(k);

    if (cc == CURLE_OK) {
        (void)curl_easy_getinfo(k, CURLINFO_RESPONSE_CODE, &resp->status);
        return MRD_OK;
    }
    if (cc == CURLE_WRITE_ERROR && resp->body.len + CURL_MAX_WRITE_SIZE > resp->body.max)
        return mrd_err_set(err, MRD_E_TOOBIG, "%s: response larger than %zu bytes", url,
                           resp->body.max);
    return mrd_err_set(err, cc == CURLE_OPERATION_TIMEDOUT ? MRD_E_TIMEOUT : MRD_E_IO, "%s: %s",
                       url, errbuf[0] != '\0' ? errbuf : curl_easy_strerror(cc));
}

enum mrd_code fed__client_new(const struct fed_peer *p, struct fed_client **ret,
                              struct mrd_err *err)
{
    struct fed_client *c = mrd_calloc(1, sizeof(*c));

    if (c == NULL)
        return mrd_err_set(err, MRD_E_NOMEM, "client");
    c->peer = p;
    c->curl = curl_easy_init();
    if (c->curl == NULL) {
        mrd_free(c);
        return mrd_err_set(err, MRD_E_NOMEM, "curl_easy_init");
    }
    (void)snprintf(c->auth, sizeof(c->auth), "Authorization: Bearer %s", p->token);
    *ret = c;
    return MRD_OK;
}

void fed__client_free(struct fed_client *c)
{
    if (c == NULL)
        return;
    curl_easy_cleanup(c->curl);
    sodium_memzero(c->auth, sizeof(c->auth));
    mrd_free(c);
}

enum mrd_code fed__http(struct fed_client *c, const char *url, const char *body, size_t body_len,
                        struct fed_response *resp, struct mrd_err *err)
{
    struct curl_slist *hdrs = NULL, *h;
    enum mrd_code rc = MRD_OK;
    CURL *k = c->curl;

    curl_easy_reset(k);
    h = curl_slist_append(hdrs, "Accept: " TAXII_MT);
    if (h != NULL)
        hdrs = h;
    h = curl_slist_append(hdrs, c->auth);
    if (h != NULL)
        hdrs = h;
    if (body != NULL) {
        h = curl_slist_append(hdrs, "Content-Type: " TAXII_MT);
        if (h != NULL)
            hdrs = h;
    }
    if (body == NULL) {
        /* our reads of the peer are its access audit's "sync-pull" */
        h = curl_slist_append(hdrs, TAXII_SYNC_HEADER ": pull");
        if (h != NULL)
            hdrs = h;
    }
    h = curl_slist_append(hdrs, "Expect:"); /* no 100-continue round trip */
    if (h != NULL)
        hdrs = h;
    if (hdrs == NULL)
        return mrd_err_set(err, MRD_E_NOMEM, "request headers");
    c->curl_err[0] = '\0';
    transport_opts(k, url, hdrs, c->peer->ca_file, c->curl_err, FED_REQUEST_TIMEOUT_S, c->stop,
                   resp);
    if (body != NULL) {
        (void)curl_easy_setopt(k, CURLOPT_POST, 1L);
        (void)curl_easy_setopt(k, CURLOPT_POSTFIELDS, body);
        (void)curl_easy_setopt(k, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
    }
    rc = perform(k, url, c->curl_err, resp, err);
    curl_slist_free_all(hdrs);
    return rc;
}

enum mrd_code fed__json(const struct fed_response *resp, long want, const char *url, json_t **ret,
                        struct mrd_err *err)
{
    struct mrd_json_limits lim = {.max_bytes = FED_MAX_RESPONSE, .max_depth = 64};
    json_t *doc = NULL;
    struct mrd_err jerr = {0};

    if (resp->status != want) {
        const char *title = NULL;
        if (mrd_json_parse(resp->body.data != NULL ? resp->body.data : "", resp->body.len, &lim,
                           &doc, NULL) == MRD_OK)
            title = json_string_value(json_object_get(doc, "title"));
        (void)mrd_err_set(err, resp->status == 401 || resp->status == 403 ? MRD_E_AUTH : MRD_E_IO,
                          "%s: HTTP %ld%s%s", url, resp->status, title != NULL ? ": " : "",
                          title != NULL ? title : "");
        json_decref(doc);
        return err != NULL ? err->code : MRD_E_IO;
    }
    if (mrd_json_parse(resp->body.data != NULL ? resp->body.data : "", resp->body.len, &lim, &doc,
                       &jerr) != MRD_OK)
        return mrd_err_set(err, jerr.code == MRD_E_NOMEM ? MRD_E_NOMEM : MRD_E_PARSE,
                           "%s: response is not JSON: %s", url, jerr.msg);
    *ret = doc;
    return MRD_OK;
}

/* The scheme://host[:port] part of url, into out. */
static void url_origin(const char *url, char *out, size_t size)
{
    const char *p = strstr(url, "://");
    const char *end;
    size_t n;

    p = p != NULL ? p + 3 : url;
    end = strchr(p, '/');
    n = end != NULL ? (size_t)(end - url) : strlen(url);
    if (n >= size)
        n = size - 1;
    memcpy(out, url, n);
    out[n] = '\0';
}

/* "scheme://host:port" of url, lower case, with the scheme's default port
 * when none is given, as libcurl parses it (so "https://a:443@b/" is
 * host b, as it would connect). MRD_E_PARSE when curl cannot parse it. */
static enum mrd_code origin_of(const char *url, char *out, size_t size, struct mrd_err *err)
{
    CURLU *u = curl_url();
    char *scheme = NULL, *host = NULL, *port = NULL;
    enum mrd_code rc = MRD_OK;
    CURLUcode uc;

    if (u == NULL)
        return mrd_err_set(err, MRD_E_NOMEM, "url");
    uc = curl_url_set(u, CURLUPART_URL, url, 0);
    if (uc == CURLUE_OK)
        uc = curl_url_get(u, CURLUPART_SCHEME, &scheme, 0);
    if (uc == CURLUE_OK)
        uc = curl_url_get(u, CURLUPART_HOST, &host, 0);
    if (uc == CURLUE_OK)
        uc = curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT);
    if (uc != CURLUE_OK || (size_t)snprintf(out, size, "%s://%s:%s", scheme, host, port) >= size)
        rc = mrd_err_set(err, MRD_E_PARSE, "'%.200s' is not a URL with a host", url);
    for (size_t i = 0; rc == MRD_OK && out[i] != '\0'; i++)
        if (out[i] >= 'A' && out[i] <= 'Z')
            out[i] = (char)(out[i] - 'A' + 'a');
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
    curl_url_cleanup(u);
    return rc;
}

/* The last non-empty path segment of an API root URL. */
static void last_segment(const char *u, char *out, size_t size)
{
    size_t n = strlen(u), e, b;

    while (n > 0 && u[n - 1] == '/')
        n--;
    e = n;
    while (n > 0 && u[n - 1] != '/')
        n--;
    b = n;
    n = e - b;
    if (n >= size)
        n = size - 1;
    memcpy(out, u + b, n);
    out[n] = '\0';
}

enum mrd_code fed__discover(struct fed_client *c, struct mrd_err *err)
{
    char url[FED_URL_MAX + 16], origin[FED_URL_MAX + 1], seg[FED_ROOT_MAX + 1];
    char where[FED_URL_MAX + 1];
    const struct fed_peer *p = c->peer;
    struct fed_response resp;
    json_t *doc = NULL, *roots, *v;
    const char *found = NULL, *want = p->api_root;
    size_t base_len = strlen(p->url), i;
    enum mrd_code rc;

    while (base_len > 0 && p->url[base_len - 1] == '/')
        base_len--;
    (void)snprintf(url, sizeof(url), "%.*s/taxii2/", (int)base_len, p->url);
    fed__response_init(&resp);
    rc = fed__http(c, url, NULL, 0, &resp, err);
    if (rc == MRD_OK)
        rc = fed__json(&resp, 200, url, &doc, err);
    if (rc != MRD_OK)
        goto out;
    roots = json_object_get(doc, "api_roots");
    json_array_foreach(roots, i, v)
    {
        const char *s = json_string_value(v);
        if (s == NULL)
            continue;
        last_segment(s, seg, sizeof(seg));
        if (strcmp(s, want) == 0 || strcmp(seg, want) == 0) {
            found = s;
            break;
        }
    }
    if (found == NULL) {
        rc = mrd_err_set(err, MRD_E_NOTFOUND,
                         "%s: discovery lists no API root '%s' (TAXII 2.1 §4.1)", url, want);
        goto out;
    }
    url_origin(p->url, origin, sizeof(origin));
    /* api_roots entries are absolute URLs, or paths on the same server. */
    if (strstr(found, "://") != NULL)
        (void)snprintf(c->root_url, sizeof(c->root_url), "%s", found);
    else if (found[0] == '/')
        (void)snprintf(c->root_url, sizeof(c->root_url), "%s%s", origin, found);
    else
        (void)snprintf(c->root_url, sizeof(c->root_url), "%.*s/%s", (int)base_len, p->url, found);
    if (c->root_url[strlen(c->root_url) - 1] != '/')
        mrd_strlcpy(c->root_url + strlen(c->root_url), "/",
                    sizeof(c->root_url) - strlen(c->root_url));
    /* The token goes to the origin the operator configured and nowhere
     * else: a discovery answer (the peer's, or a man in the middle's on
     * plain HTTP) naming an API root on another scheme, host or port is
     * refused before anything is sent there (issue 17). TAXII 2.1 §4.1.1
     * allows roots on other servers; they need a peer entry of their own. */
    rc = origin_of(p->url, origin, sizeof(origin), err);
    if (rc == MRD_OK)
        rc = origin_of(c->root_url, where, sizeof(where), err);
    if (rc == MRD_OK && strcmp(origin, where) != 0)
        rc = mrd_err_set(err, MRD_E_PERM,
                         "%s: API root '%.200s' is on %.200s, not on the configured %.200s: "
                         "refusing to send this peer's token there (add a peer for that "
                         "server instead)",
                         url, found, where, origin);
    if (rc == MRD_OK && strpbrk(found, "?#") != NULL)
        rc = mrd_err_set(err, MRD_E_PARSE,
                         "%s: API root '%.200s' has a query or fragment (TAXII 2.1 §4.1.1)", url,
                         found);
    if (rc != MRD_OK)
        c->root_url[0] = '\0';
out:
    json_decref(doc);
    fed__response_release(&resp);
    return rc;
}

enum mrd_code fed__objects_url(struct fed_client *c, const char *collection, char *out, size_t size,
                               struct mrd_err *err)
{
    char *esc = curl_easy_escape(c->curl, collection, 0);
    enum mrd_code rc = MRD_OK;

    if (esc == NULL)
        return mrd_err_set(err, MRD_E_NOMEM, "escape");
    if ((size_t)snprintf(out, size, "%scollections/%s/objects/", c->root_url, esc) >= size)
        rc = mrd_err_set(err, MRD_E_TOOBIG, "%.200s: collection URL too long", c->root_url);
    curl_free(esc);
    return rc;
}

enum mrd_code fed_peer_objects_url(const struct fed_peer *p, char *out, size_t size,
                                   struct mrd_err *err)
{
    struct fed_client *c = NULL;
    enum mrd_code rc = fed__client_new(p, &c, err);

    if (rc == MRD_OK)
        rc = fed__discover(c, err);
    if (rc == MRD_OK)
        rc = fed__objects_url(c, p->collection, out, size, err);
    fed__client_free(c);
    return rc;
}

void fed_get_response_init(struct fed_response *r, size_t max_bytes)
{
    memset(r, 0, sizeof(*r));
    mrd_buf_init(&r->body, max_bytes);
}

void fed_get_response_release(struct fed_response *r)
{
    mrd_buf_release(&r->body);
}

enum mrd_code fed_get(const struct fed_get_req *req, struct fed_response *resp, struct mrd_err *err)
{
    char auth[FED_TOKEN_MAX + 32], inm[sizeof(resp->etag) + 32], ims[96], acc[160], ct[160];
    char errbuf[CURL_ERROR_SIZE] = "";
    struct curl_slist *hdrs = NULL, *h;
    const char *lines[6];
    size_t n = 0;
    enum mrd_code rc;
    CURL *k;

    if (req->bearer != NULL && req->bearer[0] != '\0') {
        (void)snprintf(auth, sizeof(auth), "Authorization: Bearer %s", req->bearer);
        lines[n++] = auth;
    }
    if (req->etag != NULL && req->etag[0] != '\0') {
        (void)snprintf(inm, sizeof(inm), "If-None-Match: %s", req->etag);
        lines[n++] = inm;
    }
    if (req->last_modified != NULL && req->last_modified[0] != '\0') {
        (void)snprintf(ims, sizeof(ims), "If-Modified-Since: %s", req->last_modified);
        lines[n++] = ims;
    }
    if (req->accept != NULL) {
        (void)snprintf(acc, sizeof(acc), "Accept: %s", req->accept);
        lines[n++] = acc;
    }
    if (req->body != NULL && req->content_type != NULL) {
        (void)snprintf(ct, sizeof(ct), "Content-Type: %s", req->content_type);
        lines[n++] = ct;
    }
    lines[n++] = "Expect:";
    for (size_t i = 0; i < n; i++) {
        h = curl_slist_append(hdrs, lines[i]);
        if (h == NULL) {
            curl_slist_free_all(hdrs);
            sodium_memzero(auth, sizeof(auth));
            return mrd_err_set(err, MRD_E_NOMEM, "request headers");
        }
        hdrs = h;
    }
    k = curl_easy_init();
    if (k == NULL) {
        curl_slist_free_all(hdrs);
        sodium_memzero(auth, sizeof(auth));
        return mrd_err_set(err, MRD_E_NOMEM, "curl_easy_init");
    }
    transport_opts(k, req->url, hdrs, req->ca_file, errbuf, req->timeout_s, req->stop, resp);
    if (req->body != NULL) {
        (void)curl_easy_setopt(k, CURLOPT_POST, 1L);
        (void)curl_easy_setopt(k, CURLOPT_POSTFIELDS, req->body);
        (void)curl_easy_setopt(k, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
    }
    rc = perform(k, req->url, errbuf, resp, err);
    curl_easy_cleanup(k);
    curl_slist_free_all(hdrs);
    sodium_memzero(auth, sizeof(auth));
    return rc;
}
