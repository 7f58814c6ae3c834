/*
 * rtr_client.c: the TCP side of RTR (RFC 8210 §9: plain TCP to a cache on
 * a trusted network), and a thread that keeps a VRP set current for the
 * detectors. The only file of src/bgp/ that does I/O; the protocol itself
 * is rtr.c.
 *
 * The feed publishes each new set by swapping one pointer under a mutex;
 * readers hold a reference (bgp_vrps_hold), so a swap never frees a set a
 * detector is still using.
 */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "bgp/bgp.h"
#include "core/alloc.h"
#include "core/str.h"
#include "core/timestamp.h"

#define RTR_IN_MAX (2 * BGP_RTR_MAX_PDU) /* bytes buffered from the cache */
#define RTR_FEED_TICK_MS 200             /* how often the feed thread looks at stop */

struct bgp_rtr_client {
    char host[BGP_RTR_MAX_HOSTPORT + 1], port[16];
    int fd;
    struct bgp_rtr *rtr;
    uint8_t *in;
    size_t inlen;
    struct mrd_buf out;
    int answer_timeout_ms;
    int64_t query_sent_ms;
};

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

enum mrd_code bgp_rtr_client_new(const char *hostport, uint8_t version,
                                 struct bgp_rtr_client **ret_client, struct mrd_err *err)
{
    size_t n = strnlen(hostport, BGP_RTR_MAX_HOSTPORT + 1);
    const char *colon = NULL, *host = hostport;
    size_t hlen;
    struct bgp_rtr_client *c;

    if (n > BGP_RTR_MAX_HOSTPORT)
        return mrd_err_set(err, MRD_E_TOOBIG, "rtr: HOST:PORT longer than %d bytes",
                           BGP_RTR_MAX_HOSTPORT);
    for (size_t i = n; i > 0; i--) {
        if (hostport[i - 1] == ':') {
            colon = hostport + i - 1;
            break;
        }
    }
    if (colon == NULL || colon == hostport || (size_t)(hostport + n - colon - 1) == 0 ||
        (size_t)(hostport + n - colon - 1) >= sizeof(c->port))
        return mrd_err_set(err, MRD_E_INVAL, "rtr: expected HOST:PORT or [IPv6]:PORT");
    hlen = (size_t)(colon - hostport);
    if (host[0] == '[' && hlen >= 2 && host[hlen - 1] == ']') {
        host++;
        hlen -= 2;
    }
    c = mrd_calloc(1, sizeof(*c));
    if (c == NULL)
        return mrd_err_set(err, MRD_E_NOMEM, "rtr: out of memory");
    c->fd = -1;
    c->answer_timeout_ms = BGP_RTR_ANSWER_TIMEOUT_MS;
    memcpy(c->host, host, hlen);
    mrd_strlcpy(c->port, colon + 1, sizeof(c->port));
    mrd_buf_init(&c->out, BGP_RTR_MAX_PDU);
    c->in = mrd_malloc(RTR_IN_MAX);
    if (c->in == NULL || bgp_rtr_new(version, &c->rtr, err) != MRD_OK) {
        bgp_rtr_client_free(c);
        return mrd_err_set(err, MRD_E_NOMEM, "rtr: out of memory");
    }
    *ret_client = c;
    return MRD_OK;
}

static void disconnect(struct bgp_rtr_client *c)
{
    if (c->fd >= 0)
        (void)close(c->fd);
    c->fd = -1;
    c->inlen = 0;
    mrd_buf_reset(&c->out);
    bgp_rtr_disconnected(c->rtr);
}

void bgp_rtr_client_free(struct bgp_rtr_client *client)
{
    if (client == NULL)
        return;
    disconnect(client);
    bgp_rtr_free(client->rtr);
    mrd_buf_release(&client->out);
    mrd_free(client->in);
    mrd_free(client);
}

struct bgp_rtr *bgp_rtr_client_session(struct bgp_rtr_client *client)
{
    return client->rtr;
}

void bgp_rtr_client_set_timeout(struct bgp_rtr_client *client, int answer_timeout_ms)
{
    client->answer_timeout_ms = answer_timeout_ms;
}

static enum mrd_code connect_to(struct bgp_rtr_client *c, struct mrd_err *err)
{
    struct addrinfo hints, *res = NULL, *ai;
    int gai, last = 0;

    memset(&hints, 0, sizeof(hints));
    hints.ai_socktype = SOCK_STREAM;
    gai = getaddrinfo(c->host, c->port, &hints, &res);
    if (gai != 0)
        return mrd_err_set(err, MRD_E_IO, "rtr: %s:%s: %s", c->host, c->port, gai_strerror(gai));
    for (ai = res; ai != NULL && c->fd < 0; ai = ai->ai_next) {
        int fd =
            socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
        struct pollfd pfd;
        int one = 1, soerr = 0;
        socklen_t sl = sizeof(soerr);
        if (fd < 0) {
            last = errno;
            continue;
        }
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0 && errno != EINPROGRESS) {
            last = errno;
            (void)close(fd);
            continue;
        }
        pfd.fd = fd;
        pfd.events = POLLOUT;
        if (poll(&pfd, 1, BGP_RTR_CONNECT_TIMEOUT_MS) != 1 ||
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) != 0 || soerr != 0) {
            last = soerr != 0 ? soerr : ETIMEDOUT;
            (void)close(fd);
            continue;
        }
        (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        c->fd = fd;
    }
    freeaddrinfo(res);
    if (c->fd < 0)
        return mrd_err_sys(err, MRD_E_IO, last, "rtr: cannot connect to %s:%s", c->host, c->port);
    c->inlen = 0;
    return MRD_OK;
}

static enum mrd_code send_out(struct bgp_rtr_client *c, struct mrd_err *err)
{
    size_t off = 0;
    while (off < c->out.len) {
        ssize_t w = send(c->fd, c->out.data + off, c->out.len - off, MSG_NOSIGNAL);
        if (w < 0 && (errno == EAGAIN || errno == EINTR)) {
            struct pollfd pfd = {.fd = c->fd, .events = POLLOUT};
            if (poll(&pfd, 1, BGP_RTR_CONNECT_TIMEOUT_MS) != 1) {
                mrd_buf_reset(&c->out);
                return mrd_err_set(err, MRD_E_TIMEOUT, "rtr: %s:%s: cannot send", c->host, c->port);
            }
            continue;
        }
        if (w < 0) {
            int e = errno;
            mrd_buf_reset(&c->out);
            return mrd_err_sys(err, MRD_E_IO, e, "rtr: %s:%s: send", c->host, c->port);
        }
        off += (size_t)w;
    }
    mrd_buf_reset(&c->out);
    return MRD_OK;
}

static enum mrd_code query(struct bgp_rtr_client *c, struct mrd_err *err)
{
    enum mrd_code rc = bgp_rtr_query(c->rtr, &c->out, err);
    c->query_sent_ms = now_ms();
    return rc == MRD_OK ? send_out(c, err) : rc;
}

static enum mrd_code run(struct bgp_rtr_client *c, int timeout_ms, bool query_now,
                         bool *ret_updated, struct mrd_err *err)
{
    int64_t deadline = now_ms() + timeout_ms;
    enum mrd_code rc = MRD_OK;
    struct bgp_rtr_status st;

    *ret_updated = false;
    if (c->fd < 0) {
        rc = connect_to(c, err);
        query_now = true;
    }
    if (rc == MRD_OK && query_now)
        rc = query(c, err);
    while (rc == MRD_OK) {
        struct pollfd pfd = {.fd = c->fd, .events = POLLIN};
        int64_t left = deadline - now_ms();
        ssize_t r;
        size_t used = 0;
        enum bgp_rtr_action a;
        int pr;

        if (left <= 0) {
            bgp_rtr_status(c->rtr, &st);
            if (st.waiting && now_ms() - c->query_sent_ms >= c->answer_timeout_ms)
                rc = mrd_err_set(err, MRD_E_TIMEOUT,
                                 "rtr: %s:%s: no answer to our query within %d ms", c->host,
                                 c->port, c->answer_timeout_ms);
            break;
        }
        pr = poll(&pfd, 1, (int)left);
        if (pr < 0 && errno == EINTR)
            continue;
        if (pr < 0) {
            rc = mrd_err_sys(err, MRD_E_IO, errno, "rtr: poll");
            break;
        }
        if (pr == 0)
            continue;
        r = recv(c->fd, c->in + c->inlen, RTR_IN_MAX - c->inlen, 0);
        if (r < 0 && (errno == EAGAIN || errno == EINTR))
            continue;
        if (r <= 0) {
            rc = r == 0 ? mrd_err_set(err, MRD_E_IO, "rtr: %s:%s: the cache closed the connection",
                                      c->host, c->port)
                        : mrd_err_sys(err, MRD_E_IO, errno, "rtr: %s:%s: recv", c->host, c->port);
            break;
        }
        c->inlen += (size_t)r;
        do {
            a = bgp_rtr_input(c->rtr, c->in, c->inlen, time(NULL), &used, &c->out, err);
            memmove(c->in, c->in + used, c->inlen - used);
            c->inlen -= used;
            if (a == BGP_RTR_A_CLOSE) {
                if (c->out.len > 0)
                    (void)send_out(c, NULL);
                mrd_err_prefix(err, "%s:%s", c->host, c->port);
                rc = err != NULL && err->code != MRD_OK ? err->code : MRD_E_IO;
            } else if (a == BGP_RTR_A_QUERY) {
                rc = query(c, err);
            } else if (a == BGP_RTR_A_UPDATED) {
                *ret_updated = true;
            }
        } while (rc == MRD_OK && a != BGP_RTR_A_NONE && !*ret_updated);
        if (*ret_updated)
            break;
    }
    if (rc != MRD_OK)
        disconnect(c);
    return rc;
}

enum mrd_code bgp_rtr_client_run(struct bgp_rtr_client *client, int timeout_ms, bool query_now,
                                 bool *ret_updated, struct mrd_err *err)
{
    return run(client, timeout_ms, query_now, ret_updated, err);
}

enum mrd_code bgp_rtr_fetch(const char *hostport, uint8_t version, int timeout_ms,
                            struct bgp_vrps **ret_vrps, struct bgp_rtr_status *ret_status,
                            struct mrd_err *err)
{
    struct bgp_rtr_client *c = NULL;
    bool updated = false;
    enum mrd_code rc = bgp_rtr_client_new(hostport, version, &c, err);

    if (rc == MRD_OK) {
        c->answer_timeout_ms = timeout_ms;
        rc = run(c, timeout_ms, false, &updated, err);
    }
    if (rc == MRD_OK && !updated)
        rc = mrd_err_set(err, MRD_E_TIMEOUT, "rtr: %s: no End of Data within %d ms", hostport,
                         timeout_ms);
    if (rc == MRD_OK)
        rc = bgp_rtr_vrps(c->rtr, ret_vrps, err);
    if (rc == MRD_OK && ret_status != NULL)
        bgp_rtr_status(c->rtr, ret_status);
    bgp_rtr_client_free(c);
    return rc;
}

/* ---- the feed thread ---- */

struct bgp_rtr_feed {
    struct bgp_rtr_client *client;
    pthread_t thread;
    pthread_mutex_t mu;
    atomic_bool stop;
    struct bgp_vrps *vrps;         /* under mu */
    struct bgp_rtr_feed_status st; /* under mu */
    void (*on_update)(struct bgp_rtr_feed *feed, void *ctx);
    void *ctx;
    unsigned backoff; /* the feed thread's current wait after a failure */
};

static void publish(struct bgp_rtr_feed *f, struct bgp_vrps *vrps, bool connected,
                    unsigned failures, int64_t next_try, const char *error)
{
    struct bgp_vrps *old = NULL;
    pthread_mutex_lock(&f->mu);
    if (vrps != NULL) {
        old = f->vrps;
        f->vrps = vrps;
    }
    bgp_rtr_status(f->client->rtr, &f->st.rtr);
    f->st.connected = connected;
    f->st.failures = failures;
    f->st.next_try = next_try;
    f->st.backoff = f->backoff;
    if (error != NULL)
        mrd_strlcpy(f->st.last_error, error, sizeof(f->st.last_error));
    pthread_mutex_unlock(&f->mu);
    bgp_vrps_free(old);
}

static struct bgp_vrps *empty_set(void)
{
    struct bgp_vrps *v = NULL;
    if (bgp_vrps_new(&v, NULL) == MRD_OK)
        bgp_vrps_finish(v);
    return v;
}

static void *feed_main(void *arg)
{
    struct bgp_rtr_feed *f = arg;
    unsigned failures = 0, backoff = BGP_RTR_BACKOFF_MIN;
    int64_t next_try = 0, next_refresh = 0;

    while (!atomic_load(&f->stop)) {
        int64_t now = time(NULL);
        struct mrd_err err = {0};
        bool updated = false, refresh_due, had_session;
        enum mrd_code rc;
        struct bgp_rtr_status st;

        if (bgp_rtr_expire(f->client->rtr, now)) {
            char msg[MRD_ERR_MSG_MAX];
            bgp_rtr_status(f->client->rtr, &st);
            snprintf(msg, sizeof(msg),
                     "VRPs expired: no End of Data for more than %u s (the cache's expire "
                     "interval); route-origin validation finds no VRP until the cache answers",
                     st.expire);
            publish(f, empty_set(), f->client->fd >= 0, failures, next_try, msg);
            if (f->on_update)
                f->on_update(f, f->ctx);
        }
        if (f->client->fd < 0 && now < next_try) {
            struct timespec ts = {0, RTR_FEED_TICK_MS * 1000000L};
            nanosleep(&ts, NULL);
            continue;
        }
        refresh_due = f->client->fd >= 0 && next_refresh != 0 && now >= next_refresh;
        if (refresh_due)
            next_refresh = 0;
        bgp_rtr_status(f->client->rtr, &st);
        had_session = st.has_session;
        rc = run(f->client, RTR_FEED_TICK_MS * (f->client->fd < 0 ? 50 : 1), refresh_due, &updated,
                 &err);
        if (rc != MRD_OK) {
            /* A failure that ended the session (the cache restarted with a
             * new session ID, or told us to start afresh) came from a cache
             * that is up: the Reset Query that follows is expected to work,
             * so it is not made to wait for a doubled back-off. */
            bool desync;
            unsigned wait;
            bgp_rtr_status(f->client->rtr, &st);
            desync = had_session && !st.has_session;
            wait = desync ? BGP_RTR_BACKOFF_MIN : backoff;
            failures++;
            next_try = time(NULL) + wait;
            f->backoff = wait; /* written by this thread only; published under mu */
            publish(f, NULL, false, failures, next_try, err.msg);
            if (f->on_update)
                f->on_update(f, f->ctx);
            if (!desync)
                backoff = backoff * 2 > st.retry ? st.retry : backoff * 2;
            continue;
        }
        if (updated) {
            struct bgp_vrps *v = NULL;
            bgp_rtr_status(f->client->rtr, &st);
            failures = 0;
            backoff = BGP_RTR_BACKOFF_MIN;
            next_refresh = time(NULL) + st.refresh;
            if (bgp_rtr_vrps(f->client->rtr, &v, &err) != MRD_OK) {
                publish(f, NULL, true, failures, 0, err.msg);
                continue;
            }
            publish(f, v, true, 0, 0, "");
            if (f->on_update)
                f->on_update(f, f->ctx);
        }
    }
    return NULL;
}

enum mrd_code bgp_rtr_feed_start(const char *hostport, uint8_t version,
                                 void (*on_update)(struct bgp_rtr_feed *feed, void *ctx), void *ctx,
                                 struct bgp_rtr_feed **ret_feed, struct mrd_err *err)
{
    struct bgp_rtr_feed *f = mrd_calloc(1, sizeof(*f));
    enum mrd_code rc;

    if (f == NULL)
        return mrd_err_set(err, MRD_E_NOMEM, "rtr: out of memory");
    rc = bgp_rtr_client_new(hostport, version, &f->client, err);
    if (rc != MRD_OK) {
        mrd_free(f);
        return rc;
    }
    f->vrps = empty_set();
    if (f->vrps == NULL) {
        bgp_rtr_client_free(f->client);
        mrd_free(f);
        return mrd_err_set(err, MRD_E_NOMEM, "rtr: out of memory");
    }
    snprintf(f->st.source, sizeof(f->st.source), "rtr://%s", hostport);
    bgp_rtr_status(f->client->rtr, &f->st.rtr);
    f->on_update = on_update;
    f->ctx = ctx;
    atomic_init(&f->stop, false);
    pthread_mutex_init(&f->mu, NULL);
    if (pthread_create(&f->thread, NULL, feed_main, f) != 0) {
        pthread_mutex_destroy(&f->mu);
        bgp_vrps_free(f->vrps);
        bgp_rtr_client_free(f->client);
        mrd_free(f);
        return mrd_err_set(err, MRD_E_INTERNAL, "rtr: cannot start the feed thread");
    }
    *ret_feed = f;
    return MRD_OK;
}

void bgp_rtr_feed_stop(struct bgp_rtr_feed *feed)
{
    if (feed == NULL)
        return;
    atomic_store(&feed->stop, true);
    pthread_join(feed->thread, NULL);
    pthread_mutex_destroy(&feed->mu);
    bgp_vrps_free(feed->vrps);
    bgp_rtr_client_free(feed->client);
    mrd_free(feed);
}

struct bgp_vrps *bgp_rtr_feed_vrps(struct bgp_rtr_feed *feed)
{
    struct bgp_vrps *v;
    pthread_mutex_lock(&feed->mu);
    v = bgp_vrps_hold(feed->vrps);
    pthread_mutex_unlock(&feed->mu);
    return v;
}

void bgp_rtr_feed_status(struct bgp_rtr_feed *feed, struct bgp_rtr_feed_status *ret_status)
{
    pthread_mutex_lock(&feed->mu);
    *ret_status = feed->st;
    pthread_mutex_unlock(&feed->mu);
}

json_t *bgp_rtr_feed_status_json(const struct bgp_rtr_feed_status *st, int64_t now)
{
    char when[MRD_TIME_STIX_MS_LEN + 1] = "";
    json_t *j;

    if (st->rtr.has_data)
        mrd_time_format_stix_ms(st->rtr.updated * 1000000, when);
    j = json_pack("{s:s, s:s, s:b, s:i, s:i, s:I, s:I, s:b, s:I, s:I, s:I, s:b, s:I, s:s}",
                  "source", st->source, "kind", "rtr", "connected", st->connected, "version",
                  (int)st->rtr.version, "session", (int)st->rtr.session, "serial",
                  (json_int_t)st->rtr.serial, "vrps", (json_int_t)st->rtr.count, "has_data",
                  st->rtr.has_data, "refresh", (json_int_t)st->rtr.refresh, "retry",
                  (json_int_t)st->rtr.retry, "expire", (json_int_t)st->rtr.expire, "expired",
                  st->rtr.expired, "failures", (json_int_t)st->failures, "last_error",
                  st->last_error);
    if (j != NULL) {
        json_object_set_new(j, "last_query",
                            json_string(st->rtr.last_was_reset ? "reset" : "serial"));
        json_object_set_new(j, "announced", json_integer((json_int_t)st->rtr.last_announced));
        json_object_set_new(j, "withdrawn", json_integer((json_int_t)st->rtr.last_withdrawn));
    }
    if (j != NULL && st->rtr.has_data) {
        json_object_set_new(j, "updated", json_string(when));
        json_object_set_new(j, "age_seconds", json_integer(now - st->rtr.updated));
    }
    return j;
}
