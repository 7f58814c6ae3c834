/*
 * net.c: queries over UDP with TCP fallback (dns_net.h).
 *
 * A connected UDP socket only hands us datagrams from the server's
 * address and port; within those, the id and the question must match
 * too, and anything that fails to parse is dropped while we keep waiting
 * for the real answer until the attempt's deadline.
 *
 * Hold-On (Duan et al., 2012): an on-path injector answers before the
 * real server, so a recursive query's socket stays open hold_ms after the
 * first answer and every further, different answer to the same id and
 * question is handed back too (dns_xfer.late), each with the IP TTL and
 * the time it arrived with; check.c judges them.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/str.h"
#include "dns/dns_net.h"

static int64_t mono_usec(void)
{
    struct timespec ts;
    (void)clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

enum mrd_code dns_net_addr(const char *server, struct sockaddr_storage *ret, unsigned *ret_len,
                           struct mrd_err *err)
{
    char host[DNS_MAX_SERVER + 1];
    uint64_t port = 53;
    const char *p = NULL;
    size_t n = strlen(server);

    if (!dns_server_valid(server))
        return mrd_err_set(err, MRD_E_INVAL, "dns: %s: not IP, IP:PORT or [IPv6]:PORT",
                           MRD_ESC(server));
    memset(ret, 0, sizeof(*ret));
    if (server[0] == '[') {
        const char *close = strchr(server, ']');
        memcpy(host, server + 1, (size_t)(close - server - 1));
        host[close - server - 1] = '\0';
        p = close + 2;
    } else if (strchr(server, ':') != NULL && strchr(server, ':') == strrchr(server, ':')) {
        const char *colon = strchr(server, ':');
        memcpy(host, server, (size_t)(colon - server));
        host[colon - server] = '\0';
        p = colon + 1;
    } else {
        memcpy(host, server, n + 1);
    }
    if (p != NULL)
        (void)mrd_str_to_u64(p, strlen(p), 65535, &port, NULL);
    if (strchr(host, ':') == NULL) {
        struct sockaddr_in *s4 = (struct sockaddr_in *)ret;
        s4->sin_family = AF_INET;
        s4->sin_port = htons((uint16_t)port);
        (void)inet_pton(AF_INET, host, &s4->sin_addr);
        *ret_len = sizeof(*s4);
    } else {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ret;
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons((uint16_t)port);
        (void)inet_pton(AF_INET6, host, &s6->sin6_addr);
        *ret_len = sizeof(*s6);
    }
    return MRD_OK;
}

/* Waits for fd to become ready for events until deadline (monotonic us). */
static int wait_fd(int fd, short events, int64_t deadline)
{
    for (;;) {
        struct pollfd pfd = {fd, events, 0};
        int64_t left = deadline - mono_usec();
        int r;
        if (left <= 0)
            return 0;
        r = poll(&pfd, 1, (int)((left + 999) / 1000));
        if (r < 0 && errno == EINTR)
            continue;
        return r;
    }
}

/* True when (buf, n) answers query: same id and question (RFC 5452 §9.1). */
static bool answers(const uint8_t *buf, size_t n, const uint8_t *q, size_t qlen,
                    struct dns_msg **ret)
{
    struct dns_msg *m = NULL, *qm = NULL;
    bool ok = false;

    if (n < 12 || buf[0] != q[0] || buf[1] != q[1])
        return false;
    if (dns_msg_parse(buf, n, &m, NULL) != MRD_OK)
        return false;
    if (dns_msg_parse(q, qlen, &qm, NULL) == MRD_OK && m->qdcount == 1 &&
        dns_name_eq(&m->qname, &qm->qname) && m->qtype == qm->qtype && (m->flags & DNS_F_QR)) {
        *ret = m;
        m = NULL;
        ok = true;
    }
    dns_msg_free(m);
    dns_msg_free(qm);
    return ok;
}

static enum dns_xfer_status tcp_exchange(const struct sockaddr_storage *sa, unsigned salen,
                                         const uint8_t *q, size_t qlen, int64_t deadline,
                                         struct dns_xfer *ret)
{
    uint8_t lenb[2], out[DNS_MAX_NAME + 66];
    uint8_t *buf = NULL;
    size_t got = 0, want;
    int fd = socket(sa->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    enum dns_xfer_status st = DNS_XFER_ERROR;
    uint8_t *big = mrd_malloc(DNS_MAX_MSG);

    if (big == NULL || fd < 0) {
        (void)snprintf(ret->detail, sizeof(ret->detail), "tcp: out of memory or no socket");
        if (fd >= 0)
            (void)close(fd);
        mrd_free(big);
        return DNS_XFER_ERROR;
    }
    if (connect(fd, (const struct sockaddr *)sa, salen) != 0 && errno != EINPROGRESS) {
        (void)snprintf(ret->detail, sizeof(ret->detail), "tcp connect: %s", strerror(errno));
        goto out;
    }
    if (wait_fd(fd, POLLOUT, deadline) <= 0) {
        st = DNS_XFER_TIMEOUT;
        (void)snprintf(ret->detail, sizeof(ret->detail), "tcp connect timed out");
        goto out;
    }
    {
        int soerr = 0;
        socklen_t sl = sizeof(soerr);
        (void)getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl);
        if (soerr != 0) {
            (void)snprintf(ret->detail, sizeof(ret->detail), "tcp connect: %s", strerror(soerr));
            goto out;
        }
    }
    out[0] = (uint8_t)(qlen >> 8);
    out[1] = (uint8_t)qlen;
    memcpy(out + 2, q, qlen);
    if (send(fd, out, qlen + 2, MSG_NOSIGNAL) != (ssize_t)(qlen + 2)) {
        (void)snprintf(ret->detail, sizeof(ret->detail), "tcp send failed");
        goto out;
    }
    /* The 2-byte length, then the message (RFC 1035 §4.2.2). */
    want = 2;
    buf = lenb;
    for (int phase = 0; phase < 2; phase++) {
        while (got < want) {
            ssize_t r;
            if (wait_fd(fd, POLLIN, deadline) <= 0) {
                st = DNS_XFER_TIMEOUT;
                (void)snprintf(ret->detail, sizeof(ret->detail), "tcp answer timed out");
                goto out;
            }
            r = recv(fd, buf + got, want - got, 0);
            if (r <= 0) {
                /* after the query, before any answer: an on-path reset? */
                ret->reset = phase == 0 && got == 0 && (r == 0 || errno == ECONNRESET);
                (void)snprintf(ret->detail, sizeof(ret->detail), "tcp connection %s",
                               r < 0 && errno == ECONNRESET ? "reset" : "closed");
                goto out;
            }
            got += (size_t)r;
        }
        if (phase == 0) {
            want = (size_t)lenb[0] << 8 | lenb[1];
            got = 0;
            buf = big;
        }
    }
    if (answers(big, want, q, qlen, &ret->msg)) {
        ret->tcp = true;
        st = DNS_XFER_OK;
    } else {
        (void)snprintf(ret->detail, sizeof(ret->detail), "tcp answer does not match the query");
    }
out:
    (void)close(fd);
    mrd_free(big);
    return st;
}

/* Receives one datagram into buf with the TTL (IPv4) or hop limit (IPv6)
 * it arrived with in *ret_ttl (0 when the kernel did not say). */
static ssize_t recv_ttl(int fd, uint8_t *buf, size_t cap, int *ret_ttl)
{
    union {
        struct cmsghdr align;
        uint8_t b[CMSG_SPACE(sizeof(int)) * 2];
    } ctl;
    struct iovec iov = {buf, cap};
    struct msghdr mh;
    ssize_t r;

    memset(&mh, 0, sizeof(mh));
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    mh.msg_control = ctl.b;
    mh.msg_controllen = sizeof(ctl.b);
    *ret_ttl = 0;
    r = recvmsg(fd, &mh, 0);
    if (r < 0)
        return r;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c != NULL; c = CMSG_NXTHDR(&mh, c)) {
        if ((c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_TTL) ||
            (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_HOPLIMIT))
            memcpy(ret_ttl, CMSG_DATA(c), sizeof(int));
    }
    return r;
}

/* After the first answer to a recursive query: keeps listening for hold_ms
 * for further answers to the same id and question (Hold-On); those that
 * differ from every answer kept so far are returned in ret->late. */
static void hold_on(int fd, const uint8_t *q, size_t len, unsigned hold_ms, int64_t t0,
                    struct dns_xfer *ret)
{
    uint8_t buf[DNS_MAX_MSG];
    int64_t deadline = mono_usec() + (int64_t)hold_ms * 1000;

    while (ret->nlate < DNS_MAX_LATE && wait_fd(fd, POLLIN, deadline) > 0) {
        struct dns_msg *m = NULL;
        int ttl;
        bool dup;
        ssize_t r = recv_ttl(fd, buf, sizeof(buf), &ttl);
        if (r < 0 || !answers(buf, (size_t)r, q, len, &m))
            continue;
        /* A byte-identical copy (a duplicated packet) is not a second answer. */
        dup = m->len == ret->msg->len && memcmp(m->wire, ret->msg->wire, m->len) == 0;
        for (size_t i = 0; i < ret->nlate && !dup; i++)
            dup = m->len == ret->late[i].msg->len &&
                  memcmp(m->wire, ret->late[i].msg->wire, m->len) == 0;
        if (dup) {
            dns_msg_free(m);
            continue;
        }
        ret->late[ret->nlate].msg = m;
        ret->late[ret->nlate].rtt_usec = mono_usec() - t0;
        ret->late[ret->nlate].ip_ttl = ttl;
        ret->nlate++;
    }
}

static enum mrd_code net_exchange(void *ctx, const char *server, const uint8_t *query, size_t len,
                                  struct dns_xfer *ret, struct mrd_err *err)
{
    const struct dns_net *o = ctx;
    struct sockaddr_storage sa;
    unsigned salen;
    uint8_t q[DNS_MAX_NAME + 64], buf[DNS_MAX_MSG];
    int64_t t0;
    int fd = -1, on = 1;
    enum mrd_code rc;
    bool want_tcp = ret->want_tcp;

    memset(ret, 0, sizeof(*ret));
    ret->want_tcp = want_tcp;
    if (len > sizeof(q) || len < 12)
        return mrd_err_set(err, MRD_E_INVAL, "dns: query of %zu bytes", len);
    rc = dns_net_addr(server, &sa, &salen, err);
    if (rc != MRD_OK)
        return rc;
    memcpy(q, query, len);
    if (getrandom(q, 2, 0) != 2)
        return mrd_err_sys(err, MRD_E_IO, errno, "dns: getrandom");
    ret->status = DNS_XFER_TIMEOUT;
    (void)snprintf(ret->detail, sizeof(ret->detail), "no answer");
    t0 = mono_usec();
    if (want_tcp) { /* one attempt: a reset is the answer we look for */
        ret->status = tcp_exchange(&sa, salen, q, len, t0 + (int64_t)o->timeout_ms * 1000, ret);
        ret->rtt_usec = mono_usec() - t0;
        return MRD_OK;
    }
    for (unsigned attempt = 0; attempt <= o->retries; attempt++) {
        int64_t deadline = mono_usec() + (int64_t)o->timeout_ms * 1000;
        fd = socket(sa.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
            return mrd_err_sys(err, MRD_E_IO, errno, "dns: socket");
        /* The TTL each answer arrives with: evidence for Hold-On. */
        if (sa.ss_family == AF_INET)
            (void)setsockopt(fd, IPPROTO_IP, IP_RECVTTL, &on, sizeof(on));
        else
            (void)setsockopt(fd, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, &on, sizeof(on));
        if (connect(fd, (const struct sockaddr *)&sa, salen) != 0 ||
            send(fd, q, len, 0) != (ssize_t)len) {
            ret->status = DNS_XFER_ERROR;
            (void)snprintf(ret->detail, sizeof(ret->detail), "udp send: %s", strerror(errno));
            (void)close(fd);
            return MRD_OK;
        }
        while (wait_fd(fd, POLLIN, deadline) > 0) {
            int ttl;
            ssize_t r = recv_ttl(fd, buf, sizeof(buf), &ttl);
            if (r < 0) {
                if (errno == ECONNREFUSED) {
                    /* ICMP port unreachable: nobody serves there. */
                    ret->status = DNS_XFER_ERROR;
                    (void)snprintf(ret->detail, sizeof(ret->detail), "udp: %s", strerror(errno));
                    (void)close(fd);
                    return MRD_OK;
                }
                continue;
            }
            if (!answers(buf, (size_t)r, q, len, &ret->msg))
                continue; /* not ours: keep waiting for the real answer */
            ret->rtt_usec = mono_usec() - t0;
            if (ret->msg->flags & DNS_F_TC) {
                /* kept: check.c compares it with the TCP answer */
                ret->truncated = ret->msg;
                ret->truncated_ttl = ttl;
                ret->truncated_rtt_usec = ret->rtt_usec;
                ret->msg = NULL;
                ret->status = tcp_exchange(&sa, salen, q, len, deadline, ret);
                ret->rtt_usec = mono_usec() - t0;
            } else {
                ret->status = DNS_XFER_OK;
                ret->ip_ttl = ttl;
                if (o->hold_ms > 0 && (q[2] & (DNS_F_RD >> 8)) != 0)
                    hold_on(fd, q, len, o->hold_ms, t0, ret);
            }
            (void)close(fd);
            return MRD_OK;
        }
        (void)close(fd);
        fd = -1;
    }
    ret->rtt_usec = mono_usec() - t0;
    return MRD_OK;
}

static int64_t net_now(void *ctx)
{
    (void)ctx;
    return (int64_t)time(NULL);
}

struct dns_transport dns_transport_net(const struct dns_net *opts)
{
    struct dns_transport t = {
        net_exchange, (void *)(uintptr_t)opts, net_now, opts->parallel, NULL, NULL, opts->routing};
    return t;
}

enum mrd_code dns_anchor_load(struct dns_config *cfg, struct mrd_err *err)
{
    struct mrd_buf b;
    enum mrd_code rc;

    if (cfg->trust_anchor[0] == '\0')
        return MRD_OK;
    mrd_buf_init(&b, DNS_MAX_ANCHOR_FILE);
    rc = mrd_buf_read_file(&b, cfg->trust_anchor, err);
    if (rc == MRD_OK)
        rc = dns_anchor_parse(b.data, b.len, cfg, err);
    if (rc != MRD_OK)
        mrd_err_prefix(err, "%s", cfg->trust_anchor);
    mrd_buf_release(&b);
    return rc;
}

enum mrd_code dns_config_load_files(struct dns_config *cfg, struct mrd_err *err)
{
    struct mrd_buf b;
    enum mrd_code rc = dns_anchor_load(cfg, err);

    if (rc != MRD_OK || cfg->asn_table_path[0] == '\0')
        return rc;
    dns_asn_table_free(cfg->asn_table);
    cfg->asn_table = NULL;
    mrd_buf_init(&b, DNS_MAX_PFX2AS_FILE);
    rc = mrd_buf_read_file(&b, cfg->asn_table_path, err);
    if (rc == MRD_OK)
        rc = dns_asn_table_parse(b.data, b.len, &cfg->asn_table, err);
    if (rc != MRD_OK)
        mrd_err_prefix(err, "%s", cfg->asn_table_path);
    mrd_buf_release(&b);
    return rc;
}
