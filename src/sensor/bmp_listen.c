/*
 * bmp_listen.c: the BMP listener of the routing sensor (sensor.h).
 *
 * One thread polls the listening socket, a wake-up pipe and every session.
 * A session reads into a fixed buffer of SENSOR_BMP_SESSION_BUF bytes,
 * cuts it into messages (bgp_bmp_frame) and decodes each in turn; a
 * malformed message, a full buffer or silence past the idle timeout closes
 * the session, and the routes of every peer it reported are withdrawn from
 * the detector as a Peer Down would. After each round of reads the alerts
 * that appeared or changed are stored in one batch.
 *
 * Times: the detector needs routes in time order across every session,
 * and routers' clocks (and the time stamps of their initial table dumps)
 * are not; routes are therefore stamped with the time the sensor received
 * them, which is also what "first seen" means for a live sensor.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/log.h"
#include "core/str.h"
#include "core/timestamp.h"
#include "feed/feed.h"
#include "sensor/sensor.h"

struct peer_ref {
    struct bgp_addr ip;
    uint32_t as;
};

struct session {
    int fd;
    char name[64]; /* the router's address:port, for logs and the status */
    /* For the status (sensor_bmp_status): what the Initiation said,
     * printable ASCII only, and counts. */
    char sys_name[SENSOR_BMP_MAX_SYS_NAME + 1];
    char sys_descr[SENSOR_BMP_MAX_SYS_DESCR + 1];
    int64_t connected_usec, last_msg_usec;
    uint64_t messages, route_monitoring, peer_ups, peer_downs;
    uint8_t *buf;
    size_t used;
    uint64_t offset; /* stream offset of buf[0], for errors */
    int64_t last_rx_usec;
    struct bgp_bmp *bmp;
    struct bgp_bmp_msg msg; /* the message being decoded */
    struct peer_ref *peers; /* peers up in this session */
    size_t npeers, cappeers;
};

struct sensor_bmp {
    struct sensor_bmp_config c;
    int lfd, wake[2];
    uint16_t port;
    pthread_t thread;
    bool started;
    struct session *s;
    size_t ns;
    struct bgp_detect *det;
    struct feed_importer *im;
    json_t *versions;  /* observed-data id -> the last stored modified (usec) */
    json_t *stored;    /* ids of the SCOs already stored (they never change) */
    bool defs_stored;  /* the identity and extension definition are stored */
    uint32_t clock;    /* seconds: routes are stamped with it */
    int64_t oldest_rx; /* receive time of the oldest unstored change, 0: none */
    struct mrd_err route_err;
    struct session *cur; /* the session whose message is being decoded */
    /* Held by the thread while it changes the sessions, and by
     * sensor_bmp_status (another thread) while it reads them. */
    pthread_mutex_t lock;
    bool lock_init;
};

/* ---- storing alerts ---- */

struct batch {
    struct sensor_bmp *sb;
    json_t *objects, *seen;
    size_t alerts;
    enum mrd_code rc;
    struct mrd_err err;
};

static void on_changed(const struct bgp_event *ev, void *arg)
{
    struct batch *b = arg;
    if (b->sb->c.view != NULL)
        sensor_view_event(b->sb->c.view, ev);
    if (b->rc == MRD_OK)
        b->rc = bgp_event_stix(ev, b->objects, b->seen, &b->err);
    b->alerts++;
}

/* Each change is a new version: modified is the time it is stored, later
 * than the version before (several changes may fall in one second, and the
 * event's own times have a resolution of one second). */
static enum mrd_code stamp_versions(struct sensor_bmp *sb, json_t *objects, struct mrd_err *err)
{
    int64_t now = mrd_time_now_usec();
    json_t *o;
    size_t i;

    now -= now % 1000; /* STIX times here carry milliseconds */
    json_array_foreach(objects, i, o)
    {
        const char *type = json_string_value(json_object_get(o, "type"));
        const char *id = json_string_value(json_object_get(o, "id"));
        char ts[MRD_TIME_STIX_MS_LEN + 1];
        int64_t t = now;
        json_t *prev;
        if (type == NULL || id == NULL || strcmp(type, "observed-data") != 0)
            continue;
        prev = json_object_get(sb->versions, id);
        if (prev != NULL && json_integer_value(prev) >= t)
            t = json_integer_value(prev) + 1000;
        mrd_time_format_stix_ms(t, ts);
        if (json_object_set_new(o, "modified", json_string(ts)) != 0 ||
            json_object_set_new(sb->versions, id, json_integer(t)) != 0)
            return mrd_err_set(err, MRD_E_NOMEM, "bmp: out of memory");
        /* an ended event has no later version: forget it (as the detector does) */
        if (!json_is_null(json_object_get(
                json_object_get(json_object_get(o, "extensions"), BGP_STIX_EXT_ID), "ended")))
            (void)json_object_del(sb->versions, id);
    }
    return MRD_OK;
}

/* Stores the alerts that appeared or changed since the last call. */
static void store_changes(struct sensor_bmp *sb)
{
    struct batch b = {.sb = sb, .rc = MRD_OK};
    struct feed_counts counts = {0};
    char *text = NULL, after[64] = "";
    enum feed_verdict v;

    /* Objects stored once are not sent again: signed here afresh, the same
     * version would carry other signature bytes (a conflict, not a
     * duplicate). */
    b.objects = json_array();
    b.seen = sb->stored;
    if (b.objects == NULL)
        b.rc = mrd_err_set(&b.err, MRD_E_NOMEM, "bmp: out of memory");
    bgp_detect_each_changed(sb->det, on_changed, &b);
    bgp_detect_forget_ended(sb->det); /* memory follows the open events */
    if (b.alerts == 0)
        goto out;
    if (b.rc == MRD_OK && !sb->defs_stored) /* the sensor, the extension */
        b.rc = bgp_stix_definitions(b.objects, &b.err);
    if (b.rc == MRD_OK)
        b.rc = stamp_versions(sb, b.objects, &b.err);
    if (b.rc == MRD_OK)
        b.rc = sensor_alerts_mark(b.objects, sb->c.tlp, &b.err);
    if (b.rc == MRD_OK && (text = json_dumps(b.objects, JSON_COMPACT)) == NULL)
        b.rc = mrd_err_set(&b.err, MRD_E_NOMEM, "bmp: out of memory");
    if (b.rc != MRD_OK) {
        mrd_log(MRD_LOG_ERROR, "bmp: %zu alert(s) not stored: %s", b.alerts, b.err.msg);
        goto out;
    }
    v = feed_import_stix(sb->im, "bmp", text, strlen(text), &counts);
    if (v == FEED_FAILED) { /* send everything again next time */
        json_object_clear(sb->stored);
        sb->defs_stored = false;
    } else {
        sb->defs_stored = true;
    }
    if (sb->oldest_rx != 0) /* else a closed session withdrew routes */
        (void)snprintf(after, sizeof(after), ", %.3f ms after the route arrived",
                       (double)(mrd_time_now_usec() - sb->oldest_rx) / 1000.0);
    mrd_log(v == FEED_OK ? MRD_LOG_INFO : MRD_LOG_WARN,
            "bmp: %zu alert version(s) stored in %s (%zu object(s) added, %zu present, %zu "
            "invalid)%s",
            b.alerts, sb->c.coll->id, counts.added, counts.duplicates, counts.invalid, after);
out:
    sb->oldest_rx = 0;
    free(text);
    json_decref(b.objects);
}

static void on_import_msg(void *ctx, enum feed_msg_kind kind, const char *text)
{
    (void)ctx;
    if (kind != FEED_MSG_INFO)
        mrd_log(MRD_LOG_WARN, "bmp: storing alerts: %s", MRD_ESC(text));
}

/* ---- routes ---- */

static void peer_track(struct session *s, const struct bgp_route *r)
{
    size_t i;

    for (i = 0; i < s->npeers; i++)
        if (s->peers[i].as == r->peer_as &&
            memcmp(&s->peers[i].ip, &r->peer_ip, sizeof(r->peer_ip)) == 0)
            break;
    if (r->new_state != 6) { /* down: forget it */
        if (i < s->npeers)
            s->peers[i] = s->peers[--s->npeers];
        return;
    }
    if (i < s->npeers || s->npeers >= BGP_BMP_MAX_PEERS ||
        mrd_array_grow(&s->peers, s->npeers, &s->cappeers, sizeof(*s->peers), 8) != MRD_OK)
        return;
    s->peers[s->npeers].ip = r->peer_ip;
    s->peers[s->npeers].as = r->peer_as;
    s->npeers++;
}

static int on_route(const struct bgp_route *r, void *arg)
{
    struct sensor_bmp *sb = arg;
    struct session *s = sb->cur;
    struct bgp_route t = *r;

    if (r->kind == BGP_ROUTE_STATE)
        peer_track(s, r);
    else if (s->msg.type == BGP_BMP_ROUTE_MONITORING && !s->msg.primary_view)
        return 0; /* one RIB per peer: the view it reported first */
    t.time = sb->clock;
    t.time_usec = 0;
    if (bgp_detect_route(sb->det, &t, &sb->route_err) != MRD_OK ||
        (sb->c.view != NULL && sensor_view_route(sb->c.view, &t, &sb->route_err) != MRD_OK))
        return 1;
    if (sb->oldest_rx == 0)
        sb->oldest_rx = s->last_rx_usec;
    return 0;
}

static void tick_clock(struct sensor_bmp *sb)
{
    uint32_t now = (uint32_t)(mrd_time_now_usec() / 1000000);
    if (now > sb->clock)
        sb->clock = now;
}

/* ---- sessions ---- */

static void close_session(struct sensor_bmp *sb, size_t i, enum mrd_log_level lvl, const char *why)
{
    struct session *s = &sb->s[i];

    mrd_log(lvl, "bmp: router %s: %s; session closed (%zu peer(s) withdrawn)", s->name, why,
            s->npeers);
    tick_clock(sb);
    for (size_t p = 0; p < s->npeers; p++) {
        struct bgp_route r;
        memset(&r, 0, sizeof(r));
        r.kind = BGP_ROUTE_STATE;
        r.time = sb->clock;
        r.peer_ip = s->peers[p].ip;
        r.peer_as = s->peers[p].as;
        r.old_state = 6;
        r.new_state = 1;
        (void)bgp_detect_route(sb->det, &r, NULL);
        if (sb->c.view != NULL)
            (void)sensor_view_route(sb->c.view, &r, NULL);
    }
    (void)close(s->fd);
    mrd_free(s->buf);
    mrd_free(s->peers);
    bgp_bmp_free(s->bmp);
    sb->s[i] = sb->s[--sb->ns];
}

static void accept_one(struct sensor_bmp *sb)
{
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    char host[NI_MAXHOST] = "?", serv[NI_MAXSERV] = "?";
    struct session *s;
    int fd = accept4(sb->lfd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);

    if (fd < 0)
        return;
    (void)getnameinfo((struct sockaddr *)&ss, sl, host, sizeof(host), serv, sizeof(serv),
                      NI_NUMERICHOST | NI_NUMERICSERV);
    if (sb->ns >= sb->c.max_sessions) {
        mrd_log(MRD_LOG_WARN, "bmp: refusing router %s:%s: %u sessions already (bmp-max-sessions)",
                host, serv, sb->c.max_sessions);
        (void)close(fd);
        return;
    }
    s = &sb->s[sb->ns];
    memset(s, 0, sizeof(*s));
    s->fd = fd;
    (void)snprintf(s->name, sizeof(s->name), strchr(host, ':') ? "[%s]:%s" : "%s:%s", host, serv);
    s->buf = mrd_malloc(SENSOR_BMP_SESSION_BUF);
    if (s->buf == NULL || bgp_bmp_new(&s->bmp, NULL) != MRD_OK) {
        mrd_log(MRD_LOG_ERROR, "bmp: refusing router %s: out of memory", s->name);
        mrd_free(s->buf);
        (void)close(fd);
        return;
    }
    s->last_rx_usec = s->connected_usec = mrd_time_now_usec();
    sb->ns++;
    mrd_log(MRD_LOG_INFO, "bmp: router %s connected", s->name);
}

/* Copies a router's string for the status: printable ASCII, the rest as
 * '?', cut at max bytes. */
static void printable_copy(char *dst, size_t max, const char *src, size_t n)
{
    size_t k = n < max ? n : max;
    for (size_t i = 0; i < k; i++)
        dst[i] = src[i] >= 0x20 && src[i] < 0x7f ? src[i] : '?';
    dst[k] = '\0';
}

/* Counts the message just decoded for the status. */
static void count_message(struct session *s)
{
    s->messages++;
    s->last_msg_usec = s->last_rx_usec;
    switch (s->msg.type) {
    case BGP_BMP_ROUTE_MONITORING:
        s->route_monitoring++;
        break;
    case BGP_BMP_PEER_UP:
        s->peer_ups++;
        break;
    case BGP_BMP_PEER_DOWN:
        s->peer_downs++;
        break;
    case BGP_BMP_INITIATION:
        if (s->msg.sys_name_len > 0)
            printable_copy(s->sys_name, SENSOR_BMP_MAX_SYS_NAME, s->msg.sys_name,
                           s->msg.sys_name_len);
        if (s->msg.sys_descr_len > 0)
            printable_copy(s->sys_descr, SENSOR_BMP_MAX_SYS_DESCR, s->msg.sys_descr,
                           s->msg.sys_descr_len);
        break;
    default:
        break;
    }
}

/* Reads what session i has sent and decodes every whole message. Returns
 * false when the session was closed. */
static bool read_session(struct sensor_bmp *sb, size_t i)
{
    struct session *s = &sb->s[i];
    size_t off = 0;
    ssize_t n = read(s->fd, s->buf + s->used, SENSOR_BMP_SESSION_BUF - s->used);
    struct mrd_err err = {0};

    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return true;
    if (n <= 0) {
        close_session(sb, i, MRD_LOG_INFO, n == 0 ? "end of stream" : strerror(errno));
        return false;
    }
    s->used += (size_t)n;
    s->last_rx_usec = mrd_time_now_usec();
    tick_clock(sb);
    sb->cur = s;
    bgp_detect_source(sb->det, s->name); /* the events it opens name this router */
    for (;;) {
        size_t len;
        if (bgp_bmp_frame(s->buf + off, s->used - off, s->offset + off, &len, &err) != MRD_OK ||
            (len > 0 && bgp_bmp_decode(s->bmp, s->buf + off, len, s->offset + off, &s->msg,
                                       on_route, sb, &err) != MRD_OK)) {
            close_session(sb, i, MRD_LOG_WARN, MRD_ESC(err.msg));
            return false;
        }
        if (sb->route_err.code != MRD_OK) {
            close_session(sb, i, MRD_LOG_ERROR, sb->route_err.msg);
            mrd_err_clear(&sb->route_err);
            return false;
        }
        if (len == 0)
            break;
        count_message(s);
        if (s->msg.type == BGP_BMP_INITIATION && s->msg.sys_name_len > 0) {
            char name[128];
            size_t k =
                s->msg.sys_name_len < sizeof(name) - 1 ? s->msg.sys_name_len : sizeof(name) - 1;
            memcpy(name, s->msg.sys_name, k);
            name[k] = '\0';
            mrd_log(MRD_LOG_INFO, "bmp: router %s is %s", s->name, MRD_ESC(name));
        } else if (s->msg.type == BGP_BMP_TERMINATION) {
            mrd_log(MRD_LOG_INFO, "bmp: router %s terminates the session", s->name);
        }
        off += len;
    }
    memmove(s->buf, s->buf + off, s->used - off);
    s->used -= off;
    s->offset += off;
    return true;
}

static void *sensor_main(void *arg)
{
    struct sensor_bmp *sb = arg;
    struct pollfd *pf = mrd_calloc(sb->c.max_sessions + 2, sizeof(*pf));

    if (pf == NULL) {
        mrd_log(MRD_LOG_ERROR, "bmp: out of memory; the sensor stops");
        return NULL;
    }
    for (;;) {
        size_t n = sb->ns;
        int64_t now;
        pf[0] = (struct pollfd){.fd = sb->lfd, .events = POLLIN};
        pf[1] = (struct pollfd){.fd = sb->wake[0], .events = POLLIN};
        for (size_t i = 0; i < n; i++)
            pf[2 + i] = (struct pollfd){.fd = sb->s[i].fd, .events = POLLIN};
        if (poll(pf, n + 2, SENSOR_BMP_TICK_MS) < 0 && errno != EINTR)
            break;
        if (pf[1].revents != 0)
            break;
        (void)pthread_mutex_lock(&sb->lock);
        /* Sessions from the last one down: closing one moves the last
         * one into its slot, which was already handled. */
        for (size_t i = n; i-- > 0;)
            if (pf[2 + i].revents != 0)
                (void)read_session(sb, i);
        now = mrd_time_now_usec();
        for (size_t i = sb->ns; i-- > 0;)
            if (now - sb->s[i].last_rx_usec > (int64_t)sb->c.idle_timeout_s * 1000000)
                close_session(sb, i, MRD_LOG_WARN, "silent past bmp-idle-timeout");
        if (pf[0].revents & POLLIN)
            accept_one(sb);
        /* the clock moves without routes too: an outage is a silence */
        tick_clock(sb);
        (void)bgp_detect_advance(sb->det, sb->clock, NULL);
        (void)pthread_mutex_unlock(&sb->lock);
        store_changes(sb);
    }
    (void)pthread_mutex_lock(&sb->lock);
    while (sb->ns > 0)
        close_session(sb, sb->ns - 1, MRD_LOG_INFO, "the node stops");
    (void)pthread_mutex_unlock(&sb->lock);
    mrd_free(pf);
    return NULL;
}

/* ---- lifecycle ---- */

static enum mrd_code listen_on(struct sensor_bmp *sb, struct mrd_err *err)
{
    struct addrinfo hints = {.ai_flags = AI_NUMERICHOST | AI_PASSIVE, .ai_socktype = SOCK_STREAM};
    struct addrinfo *ai = NULL;
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    char port[8];
    int one = 1;

    (void)snprintf(port, sizeof(port), "%u", (unsigned)sb->c.port);
    if (getaddrinfo(sb->c.host, port, &hints, &ai) != 0 || ai == NULL)
        return mrd_err_set(err, MRD_E_INVAL, "bmp-listen: '%s' is not a numeric address",
                           sb->c.host);
    sb->lfd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (sb->lfd < 0 || setsockopt(sb->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
        bind(sb->lfd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(sb->lfd, 16) != 0 ||
        getsockname(sb->lfd, (struct sockaddr *)&ss, &sl) != 0) {
        int e = errno;
        freeaddrinfo(ai);
        return mrd_err_sys(err, MRD_E_IO, e, "bmp-listen: %s:%u", sb->c.host, (unsigned)sb->c.port);
    }
    freeaddrinfo(ai);
    sb->port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                              : ((struct sockaddr_in *)&ss)->sin_port);
    return MRD_OK;
}

enum mrd_code sensor_bmp_start(const struct sensor_bmp_config *c, struct sensor_bmp **ret,
                               struct mrd_err *err)
{
    struct sensor_bmp *sb = mrd_calloc(1, sizeof(*sb));
    struct feed_import_opts io;
    struct feed_import_hooks hooks = {.msg = on_import_msg};
    enum mrd_code rc;

    if (sb == NULL)
        return mrd_err_set(err, MRD_E_NOMEM, "bmp: out of memory");
    sb->c = *c;
    sb->lfd = sb->wake[0] = sb->wake[1] = -1;
    memset(&io, 0, sizeof(io));
    feed_list_opts_init(&io.list);
    sb->s = mrd_calloc(c->max_sessions + 1, sizeof(*sb->s));
    sb->versions = json_object();
    sb->stored = json_object();
    if (sb->s == NULL || sb->versions == NULL || sb->stored == NULL) {
        rc = mrd_err_set(err, MRD_E_NOMEM, "bmp: out of memory");
        goto fail;
    }
    if (pthread_mutex_init(&sb->lock, NULL) != 0) {
        rc = mrd_err_set(err, MRD_E_INTERNAL, "bmp: cannot create its lock");
        goto fail;
    }
    sb->lock_init = true;
    rc = bgp_detect_new(c->cfg, c->rel, c->vrps, &sb->det, err);
    if (rc == MRD_OK)
        rc = feed_importer_new(c->st, c->coll, c->org, c->trust, &io, &hooks, &sb->im, err);
    if (rc == MRD_OK)
        rc = listen_on(sb, err);
    if (rc != MRD_OK)
        goto fail;
    if (pipe2(sb->wake, O_CLOEXEC) != 0) {
        rc = mrd_err_sys(err, MRD_E_IO, errno, "bmp: pipe");
        goto fail;
    }
    if (pthread_create(&sb->thread, NULL, sensor_main, sb) != 0) {
        rc = mrd_err_set(err, MRD_E_INTERNAL, "bmp: cannot start its thread");
        goto fail;
    }
    sb->started = true;
    *ret = sb;
    return MRD_OK;
fail:
    sensor_bmp_stop(sb);
    return rc;
}

uint16_t sensor_bmp_port(const struct sensor_bmp *sb)
{
    return sb->port;
}

void sensor_bmp_stop(struct sensor_bmp *sb)
{
    if (sb == NULL)
        return;
    if (sb->started) {
        (void)!write(sb->wake[1], "x", 1);
        (void)pthread_join(sb->thread, NULL);
    }
    if (sb->lfd >= 0)
        (void)close(sb->lfd);
    if (sb->wake[0] >= 0)
        (void)close(sb->wake[0]);
    if (sb->wake[1] >= 0)
        (void)close(sb->wake[1]);
    feed_importer_free(sb->im);
    bgp_detect_free(sb->det);
    json_decref(sb->versions);
    json_decref(sb->stored);
    if (sb->lock_init)
        (void)pthread_mutex_destroy(&sb->lock);
    mrd_free(sb->s);
    mrd_free(sb);
}

static json_t *time_or_null(int64_t usec)
{
    char ts[MRD_TIME_STIX_MS_LEN + 1];
    if (usec == 0)
        return json_null();
    mrd_time_format_stix_ms(usec - usec % 1000, ts);
    return json_string(ts);
}

json_t *sensor_bmp_status(struct sensor_bmp *sb)
{
    json_t *sessions = json_array(), *out;
    char listen[NI_MAXHOST + 16];
    int64_t now = mrd_time_now_usec();
    bool bad = sessions == NULL;

    (void)pthread_mutex_lock(&sb->lock);
    for (size_t i = 0; !bad && i < sb->ns; i++) {
        const struct session *s = &sb->s[i];
        json_t *j = json_pack(
            "{s:s, s:s?, s:s?, s:o, s:o, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "router", s->name,
            "sys_name", s->sys_name[0] != '\0' ? s->sys_name : NULL, "sys_descr",
            s->sys_descr[0] != '\0' ? s->sys_descr : NULL, "connected",
            time_or_null(s->connected_usec), "last_message", time_or_null(s->last_msg_usec),
            "idle_seconds", (json_int_t)((now - s->last_rx_usec) / 1000000), "peers_up",
            (json_int_t)s->npeers, "peer_ups", (json_int_t)s->peer_ups, "peer_downs",
            (json_int_t)s->peer_downs, "messages", (json_int_t)s->messages, "route_monitoring",
            (json_int_t)s->route_monitoring, "bytes", (json_int_t)(s->offset + s->used));
        bad = j == NULL || json_array_append_new(sessions, j) != 0;
    }
    (void)pthread_mutex_unlock(&sb->lock);
    (void)snprintf(listen, sizeof(listen), strchr(sb->c.host, ':') ? "[%s]:%u" : "%s:%u",
                   sb->c.host, (unsigned)sb->port);
    out = bad ? NULL
              : json_pack("{s:s, s:I, s:O}", "listen", listen, "max_sessions",
                          (json_int_t)sb->c.max_sessions, "sessions", sessions);
    json_decref(sessions);
    return out;
}
