/*
 * http: the HTTP/1.1 server glue over libmicrohttpd (GnuTLS for HTTPS).
 *
 * Does: listening (plain or TLS 1.2+), the thread pool (epoll), reading a
 * whole request into memory under named limits, the per-request arena,
 * slow-client deadlines, handing complete requests to one application
 * callback, sending its response, and one access record per request.
 * Also small helpers the application needs for HTTP semantics:
 * `Authorization` parsing, a per-key token-bucket rate limiter, and the
 * self-signed certificate generation `meridian init` uses.
 * Does not: routing of TAXII paths, authentication decisions, logging (the
 * application's log callback receives records; cli/ prints them).
 *
 * Threading: the application callbacks run on several threads at once;
 * the application must be thread-safe. GET and HEAD are handled on the
 * listener pool's threads; every other method (they write, and wait for
 * commits) on a pool of as many worker threads while the connection is
 * suspended, so that one waiting handler never holds up the other
 * connections of its listener thread. Each request is handled by one
 * thread from start to end.
 * Ownership: request data lives in the request arena and dies after the
 * response is queued; the application copies what it keeps.
 */
#ifndef MRD_HTTP_H
#define MRD_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/err.h"

/* Named limits and their defaults (serve flags override them). */
#define HTTP_DEFAULT_MAX_HEADER ((size_t)32 * 1024) /* request line + headers, per connection */
/* libmicrohttpd's per-connection memory is HTTP_POOL_FACTOR x max_header,
 * so a head over max_header still reaches us and is refused with 431 in
 * the application's format (http_app.refuse); libmicrohttpd answers by
 * itself (HTML, no Content-Type) only past that. */
#define HTTP_POOL_FACTOR 2
#define HTTP_DEFAULT_MAX_CONNECTIONS 4096u
/* Listener threads, and as many worker threads for writes. Handlers block
 * on the store (a commit waits for fsync), so more threads than cores let
 * concurrent POSTs share one group commit. */
#define HTTP_DEFAULT_THREADS 16u
#define HTTP_DEFAULT_IDLE_TIMEOUT 30u    /* seconds without a byte either way */
#define HTTP_DEFAULT_REQUEST_TIMEOUT 60u /* seconds to receive one request whole */
#define HTTP_DEFAULT_RATE 20000u         /* requests per second per key (0 = unlimited) */
/* Request bodies held in memory at once, all requests together, and what
 * handlers build from them (http_app.body_factor, http_request_reserve);
 * past it a request is answered 503 (refuse) instead of being buffered. */
#define HTTP_DEFAULT_MAX_INFLIGHT_BODY ((size_t)1024 * 1024 * 1024)
#define HTTP_ARENA_MAX ((size_t)256 * 1024 * 1024) /* per-request scratch memory */
#define HTTP_MAX_RESP_HEADERS 16
#define HTTP_MAX_PEM ((size_t)1024 * 1024) /* a certificate or key file */

struct http_server;
struct http_request_int; /* libmicrohttpd connection state, private */

struct http_kv {
    const char *key;
    const char *value; /* NULL when the argument has no '=' */
};

/* One complete request. Everything points into the arena or into
 * libmicrohttpd's connection memory and lives until the handler returns. */
struct http_request {
    struct mrd_arena *arena;
    const char *method;
    const char *path; /* percent-decoded, without the query string */
    const char *body; /* NUL-terminated; body_len excludes the NUL */
    size_t body_len;
    bool tls;
    /* Subject common name of a client certificate that verified against the
     * configured client CA, or NULL. */
    const char *client_cert_cn;
    struct http_request_int *in;
};

struct http_header {
    const char *name;
    const char *value;
};

/* What the handler fills in. The body buffer is owned by the response. */
struct http_response {
    unsigned status;
    const char *content_type; /* static or arena; NULL means no body type */
    struct http_header headers[HTTP_MAX_RESP_HEADERS];
    size_t nheaders;
    struct mrd_buf body;
    const char *who;  /* authenticated principal for the access log, or NULL */
    const char *note; /* internal detail for the log only (never sent), or NULL */
    /* The route TEMPLATE that answered, e.g. "/{api_root}/collections/{id}/"
     * (static storage): the access log's route and the requests metric's
     * label (core/metrics.h). NULL: "other". */
    const char *route;
    /* Why the credentials were refused (static: "unknown", "revoked",
     * "expired", "disabled", "malformed", "certificate"), or NULL. */
    const char *auth_fail;
};

/* One access-log record (never carries credentials). */
#define HTTP_MAX_CLIENT 48 /* "[v6 address]:port" */
struct http_access {
    const char *client; /* the peer's numeric address, "-" when unknown */
    const char *method;
    const char *path;
    const char *route; /* template, or NULL */
    unsigned status;
    size_t bytes;
    int64_t usec; /* from the request's headers to the end of the response */
    const char *who;
    const char *note;
    const char *auth_fail;
};

struct http_app {
    void *ctx;
    /* The largest body accepted for this request; above it the request is
     * answered with `too_big` (413) without calling handle. */
    size_t (*body_max)(void *ctx, const char *method, const char *path);
    /* Bytes of the server-wide body budget (http_config.max_inflight_body)
     * to hold per body byte while the request lives: the body itself and
     * what handle builds from it (a parsed JSON tree). A declared
     * Content-Length reserves body x factor (at most the whole budget)
     * before any body byte is read, 503 when it does not fit; a chunked
     * body reserves (factor + 1) x its bytes as they come (the buffer
     * doubles). handle may take more (http_request_reserve). NULL means
     * 1. */
    size_t (*body_factor)(void *ctx, const char *method, const char *path);
    /* Handles a complete request. Must set resp->status. */
    void (*handle)(void *ctx, struct http_request *req, struct http_response *resp);
    /* Fills resp for a refused request (status already set: 400 or 501
     * from the head check, 413, 431 or 503) so the error body has the
     * application's format. resp->note, when set, is the http layer's
     * reason: a fixed sentence without request bytes, fit to send. */
    void (*refuse)(void *ctx, const char *method, const char *path, struct http_response *resp);
    /* Receives one record per finished request; may be NULL. Every
     * finished request is also counted in core/metrics.h by route and
     * status, whether or not there is a log. */
    void (*log)(void *ctx, const struct http_access *rec);
};

struct http_config {
    const char *host; /* numeric IPv4 or IPv6 address */
    uint16_t port;    /* 0 picks a free port */
    bool tls;
    const char *cert_pem; /* NUL-terminated PEM, when tls */
    const char *key_pem;
    const char *client_ca_pem; /* optional: request and verify client certificates */
    size_t max_header;
    unsigned max_connections;
    unsigned idle_timeout;
    unsigned request_timeout;
    unsigned threads;
    size_t max_inflight_body; /* 0 = unlimited */
    /* TLS: the certificate and key can be replaced while serving
     * (http_server_tls_reload). At most one such server per process. */
    bool tls_reloadable;
};

/* The GnuTLS priority string: TLS 1.3 and 1.2 only, ECDHE key exchange and
 * AEAD ciphers only (nothing on the RFC 7540 App. A list), no 0-RTT. */
#define HTTP_TLS_PRIORITIES                                                                        \
    "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:-CIPHER-ALL:+AES-256-GCM:+AES-128-GCM:"            \
    "+CHACHA20-POLY1305:-MAC-ALL:+AEAD:-KX-ALL:+ECDHE-ECDSA:+ECDHE-RSA:%SERVER_PRECEDENCE"

/* Fills cfg with the defaults above (no TLS, 127.0.0.1:0). */
void http_config_defaults(struct http_config *cfg);

/* Starts listening and serving. app is borrowed and must outlive the
 * server. Fails with MRD_E_IO when the address cannot be bound and
 * MRD_E_CRYPTO when the certificate or key is rejected. */
enum mrd_code http_server_start(const struct http_config *cfg, const struct http_app *app,
                                struct http_server **ret, struct mrd_err *err);

/* Replaces the certificate chain and key of a server started with
 * tls_reloadable: new handshakes use them, connections already open keep
 * theirs (nothing is dropped). The key must belong to the chain's first
 * certificate; on any error the current pair stays (MRD_E_CRYPTO, or
 * MRD_E_INVAL for a server without reloadable TLS). */
#define HTTP_TLS_MAX_CHAIN 8
enum mrd_code http_server_tls_reload(struct http_server *srv, const char *cert_pem,
                                     const char *key_pem, struct mrd_err *err);

/* The bound port (useful with port 0). */
uint16_t http_server_port(const struct http_server *srv);

/* Stops accepting, finishes or drops open connections, joins the threads
 * and frees everything. NULL-safe. */
void http_server_free(struct http_server *srv);

/* A request header by case-insensitive name, or NULL. Host,
 * Authorization, Content-Type and Content-Length are never repeated and no
 * value holds a control character (the head check refused such requests);
 * another repeated header gives its first line. */
const char *http_request_header(const struct http_request *req, const char *name);

/* Calls fn(arg) once the request is over (its response sent or dropped),
 * newest registration first, on whichever thread frees the request: for
 * what a handler holds for the request's whole life (a reference to the
 * privacy policy in force). MRD_E_NOMEM when the request's arena is full
 * (fn is then not called: the caller keeps the duty). */
enum mrd_code http_request_on_done(struct http_request *req, void (*fn)(void *arg), void *arg,
                                   struct mrd_err *err);

/* Takes n more bytes of the server-wide body budget for this request;
 * they are given back when the request ends. False, taking nothing, when
 * the budget cannot hold them now (answer 503 with Retry-After), with
 * *ret_never (may be NULL) set when it never could: n is more than the
 * whole budget less what this request already holds. Always true when the
 * budget is unlimited. */
bool http_request_reserve(struct http_request *req, size_t n, bool *ret_never);

/* Bytes of the budget this request holds (its body's share included). */
size_t http_request_reserved(const struct http_request *req);

/* Every query argument in order, repeats included, as an arena array. */
enum mrd_code http_request_args(const struct http_request *req, struct http_kv **ret_args,
                                size_t *ret_n, struct mrd_err *err);

/* Adds a response header; name and value must outlive the response (static
 * or arena). Fails with MRD_E_TOOBIG past HTTP_MAX_RESP_HEADERS. */
enum mrd_code http_response_header(struct http_response *resp, const char *name, const char *value);

/*
 * The request-head check, run on every request once its head is parsed and
 * before any body byte is read (http_server.c feeds it every header line
 * as received, duplicates included). A request it refuses is answered
 * with the status it returns and the connection is closed, so bytes after
 * the head never run as a request of their own (request smuggling):
 *   400  a field name that is not a token, or white space before the colon
 *        (RFC 9112 §5.1); a control character in a value, NUL included
 *        (RFC 9110 §5.5), or a folded line (RFC 9112 §5.2); two Content-Length lines or a
 * non-numeric one; Content-Length with Transfer-Encoding; Transfer-Encoding in HTTP/1.0; chunked
 * not the final coding, or applied twice (RFC 9112 §6.1, §6.3); a repeated Host, Authorization or
 *        Content-Type;
 *   501  a transfer coding other than chunked before chunked (RFC 9112
 *        §6.1: only chunked is implemented).
 * Pure: no I/O, no allocation.
 */
struct http_head_check {
    unsigned content_length, transfer_encoding, host, authorization, content_type;
    unsigned te_codings, te_chunked;
    bool te_last_chunked;
    bool bad_name, bad_value, bad_length;
};

void http_head_check_init(struct http_head_check *hc);
/* One header line, name and value as (ptr, len) without the OWS around
 * the value. */
void http_head_check_field(struct http_head_check *hc, const char *name, size_t name_len,
                           const char *value, size_t value_len);
/* Marks the head as hiding bytes from the field API (http_server.c: a NUL
 * inside a value, or a folded line): refused like a control character. */
void http_head_check_hidden(struct http_head_check *hc);
/* 0 when the head is acceptable; else 400 or 501 and *ret_why, a fixed
 * sentence (no request bytes) that may be sent to the client. */
unsigned http_head_check_end(const struct http_head_check *hc, bool http10, const char **ret_why);

/*
 * Authorization (RFC 7235). Extracts the secret from `Bearer <token>` or
 * from the password of `Basic base64(user:password)` (RFC 7617; any user
 * name). The secret is copied into out (NUL-terminated, at most
 * HTTP_MAX_SECRET bytes). MRD_E_AUTH for an unknown scheme or a malformed
 * value.
 */
#define HTTP_MAX_SECRET 256
enum mrd_code http_auth_secret(const char *hdr, size_t n, char out[HTTP_MAX_SECRET + 1],
                               size_t *ret_len, struct mrd_err *err);

/*
 * Rate limiting: one token bucket per key (e.g. an API token id), refilled
 * at `rate` per second up to `rate` (one second of burst). Thread-safe.
 * The table holds at most HTTP_RATE_MAX_KEYS keys; when full, the least
 * recently seen key is forgotten.
 */
#define HTTP_RATE_MAX_KEYS 4096
struct http_ratelimit;

/* rate 0 means unlimited (http_ratelimit_take always succeeds). */
enum mrd_code http_ratelimit_new(unsigned rate, struct http_ratelimit **ret, struct mrd_err *err);
void http_ratelimit_free(struct http_ratelimit *rl);
/* True when key may make one more request now (and counts it). */
bool http_ratelimit_take(struct http_ratelimit *rl, const char *key, size_t n);

/*
 * TLS material for `meridian init`: writes into dir a new CA certificate
 * (ca.pem), and a server certificate (cert.pem) for localhost, 127.0.0.1,
 * ::1 and the host name, signed by that CA, with its key (key.pem, mode
 * 0600). ECDSA P-256, SHA-256. The CA key is used once and never stored.
 * Existing files are not overwritten (MRD_E_EXISTS).
 */
#define HTTP_TLS_CA_FILE "ca.pem"
#define HTTP_TLS_CERT_FILE "cert.pem"
#define HTTP_TLS_KEY_FILE "key.pem"
enum mrd_code http_tls_generate(const char *dir, struct mrd_err *err);

/* http_tls_generate with n more subject alternative names for the server
 * certificate: each an IPv4 or IPv6 address (an IP SAN) or a DNS name
 * (1..253 chars of [A-Za-z0-9.-], '*.' allowed first; a DNS SAN).
 * MRD_E_INVAL names a malformed one; at most HTTP_TLS_MAX_SANS. */
#define HTTP_TLS_MAX_SANS 32
enum mrd_code http_tls_generate_sans(const char *dir, const char *const *sans, size_t n,
                                     struct mrd_err *err);

#endif
