/*
 * The libmicrohttpd glue: one daemon with an internal epoll thread pool,
 * a pool of worker threads for requests that write, per-connection
 * tracking for the slow-client deadline, per-request state (arena +
 * bounded body buffer) and the access record.
 */
#include "http/http_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/metrics.h"
#include "core/str.h"
#include "core/timestamp.h"

#define HTTP_WATCHDOG_PERIOD_MS 250
#define HTTP_MAX_CN 256

/* One per TCP connection (libmicrohttpd's socket context). The watchdog
 * reads these under srv->mu; the pool thread writes the atomics. */
struct conn_track {
    struct conn_track *prev, *next;
    int fd;
    _Atomic int64_t t_start; /* when reception of the current request began */
    _Atomic bool receiving;  /* false while a response is being produced or sent */
};

struct http_server {
    struct MHD_Daemon *d;
    const struct http_app *app;
    unsigned request_timeout;
    bool client_certs;
    struct http_tls_creds *creds; /* tls_reloadable: the current pair and older ones */
    size_t max_header;            /* request line + headers we accept; more is our 431 */
    size_t max_inflight;
    _Atomic size_t inflight; /* body bytes held by requests being received or handled */
    uint16_t port;
    pthread_mutex_t mu;
    struct conn_track head; /* sentinel of a circular list */
    pthread_t watchdog;
    bool watchdog_started;
    pthread_mutex_t stop_mu;
    pthread_cond_t stop_cv;
    bool stopping;
    /* Requests that write wait for their jobs here (see dispatch()). */
    pthread_mutex_t jobs_mu;
    pthread_cond_t jobs_cv;
    struct http_request_int *jobs_head, *jobs_tail;
    bool jobs_closed; /* no more queueing: the workers are finishing */
    pthread_t *workers;
    unsigned nworkers; /* started */
};

/* One per request (libmicrohttpd's con_cls). */
/* What http_request_on_done registered (in the request's arena). */
struct http_done {
    void (*fn)(void *arg);
    void *arg;
    struct http_done *next;
};

struct http_request_int {
    struct http_server *srv;
    struct MHD_Connection *conn;
    struct mrd_arena arena;
    struct mrd_buf body;
    size_t body_max;
    bool too_big;
    bool busy;       /* the server-wide body budget was exhausted */
    size_t reserved; /* bytes of that budget this request holds */
    size_t factor;   /* budget bytes per body byte (http_app.body_factor) */
    bool declared;   /* Content-Length was reserved up front */
    int64_t t0;
    struct http_request req;
    unsigned status;
    size_t bytes;
    const char *who;
    const char *note;
    const char *route;
    const char *auth_fail;
    struct http_response resp;         /* produced by a worker */
    struct http_request_int *next_job; /* in srv->jobs_head's queue */
    _Atomic bool handled;              /* resp is ready: send it when resumed */
    struct http_done *done;            /* run by request_free, newest first */
};

void http_config_defaults(struct http_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->host = "127.0.0.1";
    cfg->max_header = HTTP_DEFAULT_MAX_HEADER;
    cfg->max_connections = HTTP_DEFAULT_MAX_CONNECTIONS;
    cfg->idle_timeout = HTTP_DEFAULT_IDLE_TIMEOUT;
    cfg->request_timeout = HTTP_DEFAULT_REQUEST_TIMEOUT;
    cfg->threads = HTTP_DEFAULT_THREADS;
    cfg->max_inflight_body = HTTP_DEFAULT_MAX_INFLIGHT_BODY;
}

/* ---- slow-client deadline ------------------------------------------------
 * libmicrohttpd's own timeout is an idle timeout, which a client sending one
 * byte every few seconds never trips. The watchdog closes the read side of
 * any connection that has spent longer than request_timeout receiving one
 * request. shutdown(2) is done under srv->mu and the track leaves the list
 * (under the same lock) before libmicrohttpd closes the descriptor, so a
 * reused descriptor is never hit. */

static void *watchdog_main(void *arg)
{
    struct http_server *srv = arg;
    struct timespec ts;

    pthread_mutex_lock(&srv->stop_mu);
    while (!srv->stopping) {
        (void)clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += HTTP_WATCHDOG_PERIOD_MS * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        (void)pthread_cond_timedwait(&srv->stop_cv, &srv->stop_mu, &ts);
        if (srv->stopping)
            break;
        int64_t now = mrd_time_now_usec();
        int64_t limit = (int64_t)srv->request_timeout * 1000000;
        pthread_mutex_lock(&srv->mu);
        for (struct conn_track *t = srv->head.next; t != &srv->head; t = t->next) {
            if (atomic_load(&t->receiving) && now - atomic_load(&t->t_start) > limit) {
                (void)shutdown(t->fd, SHUT_RDWR);
                atomic_store(&t->t_start, INT64_MAX / 2); /* once is enough */
            }
        }
        pthread_mutex_unlock(&srv->mu);
    }
    pthread_mutex_unlock(&srv->stop_mu);
    return NULL;
}

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                          enum MHD_ConnectionNotificationCode code)
{
    struct http_server *srv = cls;
    struct conn_track *t = *socket_context;

    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
        t = mrd_calloc(1, sizeof(*t));
        if (t == NULL || ci == NULL) {
            /* Untracked: only the idle timeout applies to this connection. */
            mrd_free(t);
            *socket_context = NULL;
            return;
        }
        t->fd = ci->connect_fd;
        atomic_store(&t->t_start, mrd_time_now_usec());
        atomic_store(&t->receiving, true);
        pthread_mutex_lock(&srv->mu);
        t->next = srv->head.next;
        t->prev = &srv->head;
        srv->head.next->prev = t;
        srv->head.next = t;
        pthread_mutex_unlock(&srv->mu);
        *socket_context = t;
        return;
    }
    if (t == NULL)
        return;
    pthread_mutex_lock(&srv->mu);
    t->prev->next = t->next;
    t->next->prev = t->prev;
    pthread_mutex_unlock(&srv->mu);
    mrd_free(t);
    *socket_context = NULL;
}

static struct conn_track *track_of(struct MHD_Connection *c)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

    return ci == NULL ? NULL : ci->socket_context;
}

/* ---- requests ------------------------------------------------------------ */

/* Takes n bytes of the server-wide body budget: many large bodies at
 * once (each under its own limit) must not exhaust memory together. */
static bool reserve(struct http_request_int *ri, size_t n)
{
    struct http_server *srv = ri->srv;
    size_t cur = atomic_load(&srv->inflight);

    do {
        if (srv->max_inflight > 0 && (n > srv->max_inflight || cur > srv->max_inflight - n))
            return false;
    } while (!atomic_compare_exchange_weak(&srv->inflight, &cur, cur + n));
    ri->reserved += n;
    return true;
}

enum mrd_code http_request_on_done(struct http_request *req, void (*fn)(void *arg), void *arg,
                                   struct mrd_err *err)
{
    struct http_done *d;

    if (req->in == NULL)
        return mrd_err_set(err, MRD_E_INVAL, "no request to wait for");
    d = mrd_arena_alloc(req->arena, sizeof(*d));
    if (d == NULL)
        return mrd_err_set(err, MRD_E_NOMEM, "request arena full");
    d->fn = fn;
    d->arg = arg;
    d->next = req->in->done;
    req->in->done = d;
    return MRD_OK;
}

static void request_free(struct http_request_int *ri)
{
    if (ri == NULL)
        return;
    for (struct http_done *d = ri->done; d != NULL; d = d->next)
        d->fn(d->arg);
    if (ri->reserved > 0)
        atomic_fetch_sub(&ri->srv->inflight, ri->reserved);
    mrd_buf_release(&ri->body);
    mrd_buf_release(&ri->resp.body); /* produced but never sent */
    mrd_arena_release(&ri->arena);
    mrd_free(ri);
}

static void response_init(struct http_response *resp)
{
    memset(resp, 0, sizeof(*resp));
    mrd_buf_init(&resp->body, (size_t)-2);
}

/* Turns resp into a libmicrohttpd response and queues it. */
static enum MHD_Result send_response(struct http_request_int *ri, struct http_response *resp)
{
    struct MHD_Response *r = NULL;
    enum MHD_Result ret;
    size_t len = 0;
    char *data = NULL;
    struct conn_track *t = track_of(ri->conn);

    if (t != NULL)
        atomic_store(&t->receiving, false);
    if (resp->body.len > 0)
        data = mrd_buf_take(&resp->body, &len);
    mrd_buf_release(&resp->body);
    if (data != NULL)
        r = MHD_create_response_from_buffer_with_free_callback(len, data, mrd_free);
    else
        r = MHD_create_response_from_buffer(0, (void *)(uintptr_t) "", MHD_RESPMEM_PERSISTENT);
    if (r == NULL) {
        mrd_free(data);
        return MHD_NO;
    }
    if (resp->content_type != NULL)
        (void)MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, resp->content_type);
    for (size_t i = 0; i < resp->nheaders; i++)
        (void)MHD_add_response_header(r, resp->headers[i].name, resp->headers[i].value);
    ri->status = resp->status;
    ri->bytes = len;
    ri->who = resp->who;
    ri->note = resp->note;
    ri->route = resp->route;
    ri->auth_fail = resp->auth_fail;
    ret = MHD_queue_response(ri->conn, resp->status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result add_field_len(void *cls, enum MHD_ValueKind kind, const char *key,
                                     size_t key_len, const char *value, size_t value_len)
{
    size_t *n = cls;

    (void)kind;
    (void)key;
    (void)value;
    *n += key_len + value_len + 4; /* "key: value\r\n" or "&key=value" */
    return MHD_YES;
}

/* The size of the request's head as received, give or take a few bytes
 * per line: request line, headers, query arguments. */
static size_t head_len(struct MHD_Connection *c, const char *url, const char *method,
                       const char *version)
{
    size_t n = strlen(method) + strlen(url) + strlen(version) + 4;

    (void)MHD_get_connection_values_n(c, MHD_HEADER_KIND | MHD_GET_ARGUMENT_KIND, add_field_len,
                                      &n);
    return n;
}

/* Answers status in the application's format. why (fixed text) reaches
 * the application as resp.note; close ends the connection after the
 * answer (libmicrohttpd honours "Connection: close"), so no byte after a
 * refused head is ever read as a request. */
static enum MHD_Result refuse_why(struct http_request_int *ri, unsigned status, const char *why,
                                  bool close)
{
    struct http_response resp;

    response_init(&resp);
    resp.status = status;
    resp.note = why;
    if (ri->srv->app->refuse != NULL)
        ri->srv->app->refuse(ri->srv->app->ctx, ri->req.method, ri->req.path, &resp);
    resp.status = status;
    if (close && http_response_header(&resp, "Connection", "close") != MRD_OK) {
        resp.nheaders--; /* the last slot is ours: close matters more */
        (void)http_response_header(&resp, "Connection", "close");
    }
    return send_response(ri, &resp);
}

static enum MHD_Result refuse(struct http_request_int *ri, unsigned status)
{
    return refuse_why(ri, status, NULL, false);
}

/* ---- the head check ------------------------------------------------------
 * libmicrohttpd 0.9.75 measures header values with strlen(), so the bytes
 * after a NUL in a value ("Bearer <token>\0junk") are invisible through
 * its API: the value reads as "Bearer <token>". It does parse the head in
 * place, in its read buffer, replacing each line's CR LF (or bare LF) and
 * the colon with NULs, and keeps pointers into that buffer. So between
 * the end of one value and the next header's name there are exactly one
 * or two NULs, and after the last value at most four before the end of
 * the head (its CR LF and the empty line's); anything else there was
 * hidden behind a NUL. A folded line (obs-fold) is moved by libmicrohttpd
 * and fails the same test, which RFC 9112 §5.2 allows (400). */

#define HTTP_HEAD_TAIL_NULS 4

struct head_walk {
    struct http_head_check hc;
    const char *prev_end; /* just past the previous value, or NULL */
    bool hidden;          /* bytes hidden behind a NUL, or a folded line */
};

/* True when [from, to) is 1..max NULs. */
static bool only_nuls(const char *from, const char *to, size_t max)
{
    if (to <= from || (size_t)(to - from) > max)
        return false;
    for (const char *p = from; p < to; p++)
        if (*p != '\0')
            return false;
    return true;
}

static enum MHD_Result check_field(void *cls, enum MHD_ValueKind kind, const char *key,
                                   size_t key_len, const char *value, size_t value_len)
{
    struct head_walk *w = cls;

    (void)kind;
    if (value == NULL) {
        value = "";
        value_len = 0;
        w->hidden = true;
    }
    if (w->prev_end != NULL && !only_nuls(w->prev_end, key, 2))
        w->hidden = true;
    if (value < key + key_len)
        w->hidden = true;
    w->prev_end = value + value_len;
    http_head_check_field(&w->hc, key, key_len, value, value_len);
    return MHD_YES;
}

/* The head check (http.h) over every header line libmicrohttpd kept. */
static unsigned head_check(struct MHD_Connection *c, const char *method, const char *version,
                           const char **ret_why)
{
    struct head_walk w = {.prev_end = NULL};
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_REQUEST_HEADER_SIZE);

    http_head_check_init(&w.hc);
    (void)MHD_get_connection_values_n(c, MHD_HEADER_KIND, check_field, &w);
    /* The head runs from the request line (method points at its start)
     * for header_size bytes. */
    if (ci == NULL || (w.prev_end != NULL &&
                       !only_nuls(w.prev_end, method + ci->header_size, HTTP_HEAD_TAIL_NULS)))
        w.hidden = true;
    if (w.hidden)
        http_head_check_hidden(&w.hc);
    return http_head_check_end(&w.hc, strcmp(version, MHD_HTTP_VERSION_1_0) == 0, ret_why);
}

/* The subject CN of a verified client certificate, copied into the arena. */
static const char *client_cn(struct http_request_int *ri)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(ri->conn, MHD_CONNECTION_INFO_GNUTLS_SESSION);
    gnutls_session_t s;
    const gnutls_datum_t *certs;
    unsigned int n = 0, status = 0;
    gnutls_x509_crt_t crt = NULL;
    char cn[HTTP_MAX_CN];
    size_t cnlen = sizeof(cn);
    const char *out = NULL;

    if (ci == NULL || ci->tls_session == NULL)
        return NULL;
    s = ci->tls_session;
    if (gnutls_certificate_verify_peers2(s, &status) != GNUTLS_E_SUCCESS || status != 0)
        return NULL;
    certs = gnutls_certificate_get_peers(s, &n);
    if (certs == NULL || n == 0)
        return NULL;
    if (gnutls_x509_crt_init(&crt) != GNUTLS_E_SUCCESS)
        return NULL;
    if (gnutls_x509_crt_import(crt, &certs[0], GNUTLS_X509_FMT_DER) == GNUTLS_E_SUCCESS &&
        gnutls_x509_crt_get_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, 0, cn, &cnlen) ==
            GNUTLS_E_SUCCESS &&
        cnlen < sizeof(cn))
        out = mrd_arena_strndup(&ri->arena, cn, cnlen);
    gnutls_x509_crt_deinit(crt);
    return out;
}

/* ---- workers -------------------------------------------------------------
 * A request that writes (any method but GET and HEAD) can wait a long time
 * in its handler: a POST waits for the store's group commit. On the
 * listener thread that wait would hold up every other connection the
 * thread happens to serve, and libmicrohttpd gives a burst of new
 * connections to whichever thread wakes first (16 clients ended up on 6 of
 * 16 threads), so concurrent POSTs queued behind one another instead of
 * sharing commits. So the connection is suspended and the handler runs on
 * a worker; the worker resumes the connection and the listener thread
 * sends the response. GET and HEAD (no waiting) stay on the listener. */

static bool offloaded(const char *method)
{
    return strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0;
}

static void *worker_main(void *arg)
{
    struct http_server *srv = arg;

    pthread_mutex_lock(&srv->jobs_mu);
    for (;;) {
        struct http_request_int *ri = srv->jobs_head;
        if (ri == NULL) {
            if (srv->jobs_closed)
                break;
            (void)pthread_cond_wait(&srv->jobs_cv, &srv->jobs_mu);
            continue;
        }
        srv->jobs_head = ri->next_job;
        if (srv->jobs_head == NULL)
            srv->jobs_tail = NULL;
        pthread_mutex_unlock(&srv->jobs_mu);
        srv->app->handle(srv->app->ctx, &ri->req, &ri->resp);
        atomic_store(&ri->handled, true);
        /* libmicrohttpd calls on_request again, which sends ri->resp */
        (void)MHD_resume_connection(ri->conn);
        pthread_mutex_lock(&srv->jobs_mu);
    }
    pthread_mutex_unlock(&srv->jobs_mu);
    return NULL;
}

/* Suspends the connection and queues ri for a worker; false when the
 * workers are shutting down (the caller handles the request itself). The
 * connection is suspended before a worker can see the job, so its resume
 * always follows the suspend. */
static bool dispatch(struct http_request_int *ri)
{
    struct http_server *srv = ri->srv;
    bool queued = false;

    pthread_mutex_lock(&srv->jobs_mu);
    if (!srv->jobs_closed && srv->nworkers > 0) {
        MHD_suspend_connection(ri->conn);
        ri->next_job = NULL;
        if (srv->jobs_tail != NULL)
            srv->jobs_tail->next_job = ri;
        else
            srv->jobs_head = ri;
        srv->jobs_tail = ri;
        (void)pthread_cond_signal(&srv->jobs_cv);
        queued = true;
    }
    pthread_mutex_unlock(&srv->jobs_mu);
    return queued;
}

/* Lets the workers finish the queue, then joins them. */
static void workers_stop(struct http_server *srv)
{
    pthread_mutex_lock(&srv->jobs_mu);
    srv->jobs_closed = true;
    (void)pthread_cond_broadcast(&srv->jobs_cv);
    pthread_mutex_unlock(&srv->jobs_mu);
    for (unsigned i = 0; i < srv->nworkers; i++)
        (void)pthread_join(srv->workers[i], NULL);
    srv->nworkers = 0;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    struct http_server *srv = cls;
    struct http_request_int *ri = *con_cls;
    struct conn_track *t;
    const char *cl, *why = NULL;
    unsigned status;

    if (ri == NULL) {
        ri = mrd_calloc(1, sizeof(*ri));
        if (ri == NULL)
            return MHD_NO;
        *con_cls = ri;
        ri->srv = srv;
        ri->conn = c;
        ri->t0 = mrd_time_now_usec(); /* headers complete; keep-alive idle time excluded */
        mrd_arena_init(&ri->arena, HTTP_ARENA_MAX);
        ri->req.arena = &ri->arena;
        ri->req.in = ri;
        ri->req.method = mrd_arena_strndup(&ri->arena, method, strlen(method));
        ri->req.path = mrd_arena_strndup(&ri->arena, url, strlen(url));
        if (ri->req.method == NULL || ri->req.path == NULL)
            return MHD_NO;
        ri->body_max = srv->app->body_max(srv->app->ctx, method, url);
        mrd_buf_init(&ri->body, ri->body_max);
        if (head_len(c, url, method, version) > srv->max_header)
            return refuse(ri, 431);
        /* Ambiguous framing or credentials: refused before any body byte
         * is read, and the connection closed. */
        status = head_check(c, method, version, &why);
        if (status != 0)
            return refuse_why(ri, status, why, true);
        /* A declared length over the limit is refused before a single body
         * byte is read (no 100 Continue is sent either). */
        ri->factor =
            srv->app->body_factor != NULL ? srv->app->body_factor(srv->app->ctx, method, url) : 1;
        if (ri->factor == 0)
            ri->factor = 1;
        cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (cl != NULL) {
            uint64_t v;
            if (mrd_str_to_u64(cl, strlen(cl), UINT64_MAX, &v, NULL) == MRD_OK && v > ri->body_max)
                return refuse(ri, 413);
            /* A declared body takes its whole share of the budget now: the
             * body and what the handler will build from it (body_factor),
             * capped at the whole budget (the handler reserves exactly once
             * it knows; http_request_reserve). Refused before any body byte
             * when the budget cannot hold it, so admitted requests never
             * starve each other half-way. */
            if (v > 0) {
                size_t want = v > SIZE_MAX / ri->factor ? SIZE_MAX : (size_t)v * ri->factor;
                if (srv->max_inflight > 0 && want > srv->max_inflight)
                    want = srv->max_inflight;
                if (!reserve(ri, want) || mrd_buf_reserve(&ri->body, (size_t)v, NULL) != MRD_OK)
                    return refuse_why(ri, 503, NULL, true);
                ri->declared = true;
            }
        }
        return MHD_YES;
    }
    if (*upload_data_size != 0) {
        /* Past the limit (chunked bodies): keep draining so the client gets
         * a 413 rather than a reset; the request deadline bounds the time. */
        /* A chunked body reserves as it comes: twice its bytes for the
         * buffer's doubling, plus what the handler builds from them. */
        /* Over the route's limit is a 413 whatever the budget says. */
        if (!ri->too_big && *upload_data_size > ri->body_max - ri->body.len) {
            ri->too_big = true;
            mrd_buf_release(&ri->body);
        }
        if (!ri->too_big && !ri->busy && !ri->declared) {
            size_t want = *upload_data_size > SIZE_MAX / (ri->factor + 1)
                              ? SIZE_MAX
                              : *upload_data_size * (ri->factor + 1);
            size_t max = ri->srv->max_inflight;

            if (!reserve(ri, want)) {
                /* More than the whole budget for this request alone can
                 * never be served: 413, as for a declared length; else
                 * others hold the budget: 503. */
                if (want > max || ri->reserved > max - want)
                    ri->too_big = true;
                else
                    ri->busy = true;
                mrd_buf_release(&ri->body);
            }
        }
        if (!ri->too_big && !ri->busy &&
            mrd_buf_append(&ri->body, upload_data, *upload_data_size, NULL) != MRD_OK) {
            ri->too_big = true;
            mrd_buf_release(&ri->body);
        }
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (atomic_load(&ri->handled)) /* resumed after a worker ran the handler */
        return send_response(ri, &ri->resp);
    if (ri->too_big)
        return refuse(ri, 413);
    if (ri->busy)
        return refuse(ri, 503);
    if (ri->body.data == NULL && mrd_buf_reserve(&ri->body, 0, NULL) != MRD_OK)
        return MHD_NO;
    ri->req.body = ri->body.data;
    ri->req.body_len = ri->body.len;
    ri->req.tls = MHD_get_connection_info(c, MHD_CONNECTION_INFO_GNUTLS_SESSION) != NULL;
    if (ri->req.tls && srv->client_certs)
        ri->req.client_cert_cn = client_cn(ri);
    /* Received whole: the slow-client deadline no longer applies. */
    t = track_of(c);
    if (t != NULL)
        atomic_store(&t->receiving, false);
    response_init(&ri->resp);
    ri->resp.status = 500;
    if (offloaded(ri->req.method) && dispatch(ri))
        return MHD_YES;
    srv->app->handle(srv->app->ctx, &ri->req, &ri->resp);
    return send_response(ri, &ri->resp);
}

/* The peer's address as "a.b.c.d:port" or "[v6]:port", or "-". */
static void client_address(struct MHD_Connection *c, char out[HTTP_MAX_CLIENT])
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    char host[INET6_ADDRSTRLEN] = "";

    (void)mrd_strlcpy(out, "-", HTTP_MAX_CLIENT);
    if (ci == NULL || ci->client_addr == NULL)
        return;
    if (ci->client_addr->sa_family == AF_INET) {
        const struct sockaddr_in *a = (const struct sockaddr_in *)(const void *)ci->client_addr;
        if (inet_ntop(AF_INET, &a->sin_addr, host, sizeof(host)) != NULL)
            (void)snprintf(out, HTTP_MAX_CLIENT, "%s:%u", host, (unsigned)ntohs(a->sin_port));
    } else if (ci->client_addr->sa_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)(const void *)ci->client_addr;
        if (inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof(host)) != NULL)
            (void)snprintf(out, HTTP_MAX_CLIENT, "[%s]:%u", host, (unsigned)ntohs(a->sin6_port));
    }
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct http_server *srv = cls;
    struct http_request_int *ri = *con_cls;
    struct conn_track *t = track_of(c);

    if (t != NULL) {
        atomic_store(&t->t_start, mrd_time_now_usec());
        atomic_store(&t->receiving, true);
    }
    if (ri == NULL)
        return;
    if (ri->status != 0) {
        char client[HTTP_MAX_CLIENT];
        struct http_access rec = {
            .client = client,
            .method = ri->req.method,
            .path = ri->req.path,
            .route = ri->route,
            .status = ri->status,
            .bytes = toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? ri->bytes : 0,
            .usec = mrd_time_now_usec() - ri->t0,
            .who = ri->who,
            .note = ri->note,
            .auth_fail = ri->auth_fail,
        };
        mrd_metrics_request(ri->route, ri->status, rec.usec);
        if (srv->app->log != NULL) {
            client_address(c, client);
            srv->app->log(srv->app->ctx, &rec);
        }
    }
    request_free(ri);
    *con_cls = NULL;
}

/* ---- lifecycle ----------------------------------------------------------- */

enum mrd_code http_server_start(const struct http_config *cfg, const struct http_app *app,
                                struct http_server **ret, struct mrd_err *err)
{
    struct http_server *srv = NULL;
    struct sockaddr_in sin;
    struct sockaddr_in6 sin6;
    struct sockaddr *sa;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME;
    const union MHD_DaemonInfo *di;
    enum mrd_code rc = MRD_OK;
    struct MHD_OptionItem opts[16];
    size_t no = 0;

    memset(&sin, 0, sizeof(sin));
    memset(&sin6, 0, sizeof(sin6));
    if (inet_pton(AF_INET, cfg->host, &sin.sin_addr) == 1) {
        sin.sin_family = AF_INET;
        sin.sin_port = htons(cfg->port);
        sa = (struct sockaddr *)&sin;
    } else if (inet_pton(AF_INET6, cfg->host, &sin6.sin6_addr) == 1) {
        sin6.sin6_family = AF_INET6;
        sin6.sin6_port = htons(cfg->port);
        sa = (struct sockaddr *)&sin6;
        flags |= MHD_USE_IPv6;
    } else {
        return mrd_err_set(err, MRD_E_INVAL, "listen address '%s' is not a numeric IP address",
                           cfg->host);
    }
    if (cfg->tls && (cfg->cert_pem == NULL || cfg->key_pem == NULL))
        return mrd_err_set(err, MRD_E_INVAL, "https needs a certificate and a key");

    srv = mrd_calloc(1, sizeof(*srv));
    if (srv == NULL)
        return mrd_err_set(err, MRD_E_NOMEM, "out of memory");
    srv->app = app;
    srv->request_timeout = cfg->request_timeout;
    srv->max_header = cfg->max_header;
    srv->max_inflight = cfg->max_inflight_body;
    srv->head.next = srv->head.prev = &srv->head;
    pthread_mutex_init(&srv->mu, NULL);
    pthread_mutex_init(&srv->stop_mu, NULL);
    pthread_cond_init(&srv->stop_cv, NULL);
    pthread_mutex_init(&srv->jobs_mu, NULL);
    pthread_cond_init(&srv->jobs_cv, NULL);
    srv->workers = mrd_calloc(cfg->threads > 0 ? cfg->threads : 1, sizeof(*srv->workers));
    if (srv->workers == NULL) {
        rc = mrd_err_set(err, MRD_E_NOMEM, "out of memory");
        goto out;
    }
    /* Started before the daemon: no request can find the pool empty. */
    while (srv->nworkers < (cfg->threads > 0 ? cfg->threads : 1)) {
        if (pthread_create(&srv->workers[srv->nworkers], NULL, worker_main, srv) != 0) {
            rc = mrd_err_set(err, MRD_E_INTERNAL, "cannot start the worker threads");
            goto out;
        }
        srv->nworkers++;
    }

#define OPT(o, v, p)                                                                               \
    (opts[no++] = (struct MHD_OptionItem){(o), (intptr_t)(v), (void *)(uintptr_t)(p)})
    OPT(MHD_OPTION_SOCK_ADDR, 0, sa);
    OPT(MHD_OPTION_THREAD_POOL_SIZE, cfg->threads > 0 ? cfg->threads : 1, NULL);
    OPT(MHD_OPTION_CONNECTION_LIMIT, cfg->max_connections, NULL);
    OPT(MHD_OPTION_CONNECTION_TIMEOUT, cfg->idle_timeout, NULL);
    /* Twice the header limit: a request whose head is over max_header
     * still fits in libmicrohttpd's per-connection pool, reaches
     * on_request and gets our own 431 in the application's format; only a
     * head over twice the limit hits libmicrohttpd's own (HTML) 431. */
    OPT(MHD_OPTION_CONNECTION_MEMORY_LIMIT, HTTP_POOL_FACTOR * cfg->max_header, NULL);
    OPT(MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024, NULL);
    OPT(MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)on_completed, srv);
    OPT(MHD_OPTION_NOTIFY_CONNECTION, (intptr_t)on_connection, srv);
    if (cfg->tls) {
        flags |= MHD_USE_TLS;
        if (cfg->tls_reloadable) {
            rc = http__tls_creds_start(cfg->cert_pem, cfg->key_pem, &srv->creds, err);
            if (rc != MRD_OK)
                goto out;
            OPT(MHD_OPTION_HTTPS_CERT_CALLBACK, 0, http__tls_retrieve);
        } else {
            OPT(MHD_OPTION_HTTPS_MEM_CERT, 0, cfg->cert_pem);
            OPT(MHD_OPTION_HTTPS_MEM_KEY, 0, cfg->key_pem);
        }
        OPT(MHD_OPTION_HTTPS_PRIORITIES, 0, HTTP_TLS_PRIORITIES);
        if (cfg->client_ca_pem != NULL) {
            OPT(MHD_OPTION_HTTPS_MEM_TRUST, 0, cfg->client_ca_pem);
            srv->client_certs = true;
        }
    }
    OPT(MHD_OPTION_END, 0, NULL);
#undef OPT

    srv->d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, srv, MHD_OPTION_ARRAY, opts,
                              MHD_OPTION_END);
    if (srv->d == NULL) {
        rc = mrd_err_set(err, cfg->tls ? MRD_E_CRYPTO : MRD_E_IO, "cannot listen on %s:%u%s",
                         cfg->host, (unsigned)cfg->port,
                         cfg->tls ? " (address in use, or certificate/key rejected)"
                                  : " (address in use or not local)");
        goto out;
    }
    di = MHD_get_daemon_info(srv->d, MHD_DAEMON_INFO_BIND_PORT);
    srv->port = di != NULL ? di->port : cfg->port;
    if (srv->request_timeout > 0) {
        if (pthread_create(&srv->watchdog, NULL, watchdog_main, srv) != 0) {
            rc = mrd_err_set(err, MRD_E_INTERNAL, "cannot start the watchdog thread");
            goto out;
        }
        srv->watchdog_started = true;
    }
    *ret = srv;
    srv = NULL;
out:
    http_server_free(srv);
    return rc;
}

enum mrd_code http_server_tls_reload(struct http_server *srv, const char *cert_pem,
                                     const char *key_pem, struct mrd_err *err)
{
    if (srv->creds == NULL)
        return mrd_err_set(err, MRD_E_INVAL, "tls: this server's certificate is not reloadable");
    return http__tls_creds_swap(&srv->creds, cert_pem, key_pem, err);
}

uint16_t http_server_port(const struct http_server *srv)
{
    return srv->port;
}

void http_server_free(struct http_server *srv)
{
    if (srv == NULL)
        return;
    if (srv->watchdog_started) {
        pthread_mutex_lock(&srv->stop_mu);
        srv->stopping = true;
        pthread_cond_signal(&srv->stop_cv);
        pthread_mutex_unlock(&srv->stop_mu);
        (void)pthread_join(srv->watchdog, NULL);
    }
    /* Every queued request is handled and its connection resumed before
     * the daemon stops (libmicrohttpd refuses to stop with connections
     * still suspended); later ones run on the listener threads. */
    workers_stop(srv);
    if (srv->d != NULL)
        MHD_stop_daemon(srv->d);
    http__tls_creds_stop(srv->creds);
    pthread_mutex_destroy(&srv->mu);
    pthread_mutex_destroy(&srv->stop_mu);
    pthread_cond_destroy(&srv->stop_cv);
    pthread_mutex_destroy(&srv->jobs_mu);
    pthread_cond_destroy(&srv->jobs_cv);
    mrd_free(srv->workers);
    mrd_free(srv);
}

/* ---- request accessors --------------------------------------------------- */

const char *http_request_header(const struct http_request *req, const char *name)
{
    return MHD_lookup_connection_value(req->in->conn, MHD_HEADER_KIND, name);
}

struct args_ctx {
    struct mrd_arena *arena;
    struct http_kv *v;
    size_t n, cap;
    bool nomem;
};

static enum MHD_Result collect_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                                   const char *value)
{
    struct args_ctx *a = cls;

    (void)kind;
    if (a->n == a->cap) {
        size_t cap = a->cap == 0 ? 8 : a->cap * 2;
        struct http_kv *v = mrd_arena_alloc(a->arena, cap * sizeof(*v));
        if (v == NULL) {
            a->nomem = true;
            return MHD_NO;
        }
        if (a->n > 0)
            memcpy(v, a->v, a->n * sizeof(*v));
        a->v = v;
        a->cap = cap;
    }
    a->v[a->n].key = key;
    a->v[a->n].value = value;
    a->n++;
    return MHD_YES;
}

enum mrd_code http_request_args(const struct http_request *req, struct http_kv **ret_args,
                                size_t *ret_n, struct mrd_err *err)
{
    struct args_ctx a = {.arena = req->arena};

    (void)MHD_get_connection_values(req->in->conn, MHD_GET_ARGUMENT_KIND, collect_arg, &a);
    if (a.nomem)
        return mrd_err_set(err, MRD_E_NOMEM, "out of memory reading the query string");
    *ret_args = a.v;
    *ret_n = a.n;
    return MRD_OK;
}

bool http_request_reserve(struct http_request *req, size_t n, bool *ret_never)
{
    struct http_server *srv = req->in->srv;

    if (ret_never != NULL)
        *ret_never = srv->max_inflight > 0 && n > srv->max_inflight - req->in->reserved;
    return reserve(req->in, n);
}

size_t http_request_reserved(const struct http_request *req)
{
    return req->in->reserved;
}

enum mrd_code http_response_header(struct http_response *resp, const char *name, const char *value)
{
    if (resp->nheaders >= HTTP_MAX_RESP_HEADERS)
        return MRD_E_TOOBIG;
    resp->headers[resp->nheaders].name = name;
    resp->headers[resp->nheaders].value = value;
    resp->nheaders++;
    return MRD_OK;
}
