/*
 * tls.c: the TLS excuse's handshake (dns_net.h, docs/dns.md "Excuses").
 *
 * A diverging address is asked for a TLS handshake on the configured port
 * with SNI the probe name; GnuTLS checks the certificate chain against the
 * configured CA bundle and the name against the certificate (RFC 6125).
 * Only diverging answers the ASN rule did not excuse get here, never a
 * healthy round; at most DNS_TLS_MAX_CONCURRENT handshakes run at once
 * whatever the round's parallelism, each bounded by the timeout (connect
 * and handshake together). Not pure (sockets), so it lives in mrd_dnsnet.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "core/alloc.h"
#include "core/str.h"
#include "dns/dns_net.h"

struct dns_tls {
    gnutls_certificate_credentials_t cred;
    unsigned port, timeout_ms;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    unsigned active; /* handshakes running */
};

static int64_t mono_ms(void)
{
    struct timespec ts;
    (void)clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Copies s into out keeping printable ASCII only. */
static void detail(struct dns_tls_result *ret, enum dns_tls_verdict v, const char *what,
                   const char *s)
{
    size_t k;
    int w;

    ret->verdict = v;
    w = snprintf(ret->detail, sizeof(ret->detail), "%s%s%s", what, s[0] ? ": " : "", s);
    if (w < 0)
        ret->detail[0] = '\0';
    for (k = 0; ret->detail[k] != '\0'; k++)
        if (ret->detail[k] < 0x20 || ret->detail[k] > 0x7e)
            ret->detail[k] = '?';
}

/* Waits for fd to be ready for the direction GnuTLS (or connect) needs. */
static bool wait_fd(int fd, short events, int64_t deadline)
{
    struct pollfd pfd = {.fd = fd, .events = events};
    for (;;) {
        int64_t left = deadline - mono_ms();
        int r;
        if (left <= 0)
            return false;
        r = poll(&pfd, 1, (int)left);
        if (r > 0)
            return true;
        if (r == 0 || errno != EINTR)
            return false;
    }
}

static void handshake(struct dns_tls *t, int fd, const char *sni, int64_t deadline,
                      struct dns_tls_result *ret)
{
    gnutls_session_t s = NULL;
    int e;

    if (gnutls_init(&s, GNUTLS_CLIENT | GNUTLS_NONBLOCK) < 0) {
        detail(ret, DNS_TLS_FAILED, "tls", "cannot start a session");
        return;
    }
    if (gnutls_set_default_priority(s) < 0 ||
        gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE, t->cred) < 0 ||
        gnutls_server_name_set(s, GNUTLS_NAME_DNS, sni, strlen(sni)) < 0) {
        detail(ret, DNS_TLS_FAILED, "tls", "cannot set up the session");
        goto out;
    }
    gnutls_session_set_verify_cert(s, sni, 0);
    gnutls_transport_set_int(s, fd);
    do {
        e = gnutls_handshake(s);
        if (e == GNUTLS_E_AGAIN || e == GNUTLS_E_INTERRUPTED) {
            if (!wait_fd(fd, gnutls_record_get_direction(s) ? POLLOUT : POLLIN, deadline)) {
                detail(ret, DNS_TLS_FAILED, "tls", "handshake timed out");
                goto out;
            }
        }
    } while (e < 0 && !gnutls_error_is_fatal(e));
    if (e == GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR) {
        gnutls_datum_t out = {0};
        unsigned st = gnutls_session_get_verify_cert_status(s);
        if (gnutls_certificate_verification_status_print(st, GNUTLS_CRT_X509, &out, 0) == 0) {
            detail(ret, DNS_TLS_INVALID, "certificate", (const char *)out.data);
            gnutls_free(out.data);
        } else {
            detail(ret, DNS_TLS_INVALID, "certificate", "not valid for the name");
        }
    } else if (e < 0) {
        detail(ret, DNS_TLS_FAILED, "tls", gnutls_strerror(e));
    } else {
        detail(ret, DNS_TLS_VALID, "certificate valid", "");
    }
out:
    gnutls_deinit(s);
}

static void tls_probe_one(struct dns_tls *t, const char *addr, const char *name,
                          struct dns_tls_result *ret)
{
    struct sockaddr_storage sa;
    unsigned salen;
    char server[DNS_MAX_SERVER + 16], sni[DNS_MAX_NAME_STR];
    int64_t deadline = mono_ms() + t->timeout_ms;
    int fd = -1, soerr = 0;
    socklen_t sl = sizeof(soerr);
    size_t n = strlen(name);

    (void)snprintf(server, sizeof(server), strchr(addr, ':') ? "[%s]:%u" : "%s:%u", addr, t->port);
    if (n == 0 || n >= sizeof(sni) || dns_net_addr(server, &sa, &salen, NULL) != MRD_OK) {
        detail(ret, DNS_TLS_FAILED, "tls", "not an address and name");
        return;
    }
    memcpy(sni, name, n + 1);
    if (n > 1 && sni[n - 1] == '.')
        sni[n - 1] = '\0'; /* SNI carries no final dot (RFC 6066 §3) */
    fd = socket(sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        detail(ret, DNS_TLS_FAILED, "connect", strerror(errno));
        return;
    }
    if (connect(fd, (struct sockaddr *)&sa, salen) != 0 && errno != EINPROGRESS) {
        detail(ret, DNS_TLS_FAILED, "connect", strerror(errno));
    } else if (!wait_fd(fd, POLLOUT, deadline)) {
        detail(ret, DNS_TLS_FAILED, "connect", "timed out");
    } else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) != 0 || soerr != 0) {
        detail(ret, DNS_TLS_FAILED, "connect", strerror(soerr ? soerr : errno));
    } else {
        handshake(t, fd, sni, deadline, ret);
    }
    (void)close(fd);
}

static enum mrd_code tls_probe(void *ctx, const char *addr, const char *name,
                               struct dns_tls_result *ret, struct mrd_err *err)
{
    struct dns_tls *t = ctx;

    (void)err;
    memset(ret, 0, sizeof(*ret));
    (void)pthread_mutex_lock(&t->mu);
    while (t->active >= DNS_TLS_MAX_CONCURRENT)
        (void)pthread_cond_wait(&t->cv, &t->mu);
    t->active++;
    (void)pthread_mutex_unlock(&t->mu);
    tls_probe_one(t, addr, name, ret);
    (void)pthread_mutex_lock(&t->mu);
    t->active--;
    (void)pthread_cond_signal(&t->cv);
    (void)pthread_mutex_unlock(&t->mu);
    return MRD_OK;
}

enum mrd_code dns_tls_prober_new(const struct dns_config *cfg, struct dns_tls_prober *ret,
                                 struct mrd_err *err)
{
    struct dns_tls *t;
    int e;

    memset(ret, 0, sizeof(*ret));
    t = mrd_calloc(1, sizeof(*t));
    if (t == NULL)
        return mrd_err_set(err, MRD_E_NOMEM, "dns: out of memory");
    if (gnutls_certificate_allocate_credentials(&t->cred) < 0) {
        mrd_free(t);
        return mrd_err_set(err, MRD_E_NOMEM, "dns: tls: out of memory");
    }
    e = gnutls_certificate_set_x509_trust_file(t->cred, cfg->tls_ca, GNUTLS_X509_FMT_PEM);
    if (e <= 0) {
        gnutls_certificate_free_credentials(t->cred);
        mrd_free(t);
        return mrd_err_set(err, MRD_E_IO, "dns: excuses.tls_ca: %s: %s", MRD_ESC(cfg->tls_ca),
                           e == 0 ? "no certificate in it" : gnutls_strerror(e));
    }
    t->port = cfg->tls_port;
    t->timeout_ms = cfg->tls_timeout_ms;
    (void)pthread_mutex_init(&t->mu, NULL);
    (void)pthread_cond_init(&t->cv, NULL);
    ret->probe = tls_probe;
    ret->ctx = t;
    return MRD_OK;
}

void dns_tls_prober_free(struct dns_tls_prober *p)
{
    struct dns_tls *t = p != NULL ? p->ctx : NULL;
    if (t == NULL)
        return;
    gnutls_certificate_free_credentials(t->cred);
    (void)pthread_mutex_destroy(&t->mu);
    (void)pthread_cond_destroy(&t->cv);
    mrd_free(t);
    p->ctx = NULL;
    p->probe = NULL;
}
