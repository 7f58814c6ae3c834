/*
 * smtp.c: a small SMTP client (RFC 5321) for early-warning e-mail
 * (deliver.h, "SMTP"): plain sockets, STARTTLS (RFC 3207) over GnuTLS
 * (the TLS library the node already links), AUTH PLAIN or LOGIN
 * (RFC 4954), one message to one recipient per session.
 *
 * The relay's certificate is verified against the CA file configured (or
 * the system store) and its host name; a relay that does not offer
 * STARTTLS is refused unless the configuration says plain (loopback
 * relays). Addresses are checked before use (notify_email_check: no CR or
 * LF can reach a command). Every read is bounded: a reply longer than
 * NOTIFY_SMTP_REPLY_MAX, or a line longer than NOTIFY_SMTP_LINE_MAX, is an
 * error; each socket operation times out after the configured seconds.
 */
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <sodium.h>

#include "core/str.h"
#include "notify/deliver.h"

/* ---- the reply parser (pure; fuzzed by tests/fuzz/fuzz_smtp_reply.c) ---- */

static bool digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Notes the EHLO keywords of one reply line's text. */
static void keyword(struct notify_smtp_reply *r, const char *t, size_t n)
{
    if (n >= 8 && strncasecmp(t, "STARTTLS", 8) == 0 && (n == 8 || t[8] == ' '))
        r->starttls = true;
    if (n >= 5 && strncasecmp(t, "AUTH", 4) == 0 && (t[4] == ' ' || t[4] == '=')) {
        for (size_t i = 5; i < n;) {
            size_t j = i;
            while (j < n && t[j] != ' ')
                j++;
            if (j - i == 5 && strncasecmp(t + i, "PLAIN", 5) == 0)
                r->auth_plain = true;
            if (j - i == 5 && strncasecmp(t + i, "LOGIN", 5) == 0)
                r->auth_login = true;
            i = j + 1;
        }
    }
}

enum mrd_code notify_smtp_reply_parse(const char *buf, size_t len, struct notify_smtp_reply *ret,
                                      size_t *ret_used, struct mrd_err *err)
{
    size_t pos = 0, tlen = 0, line = 0;

    memset(ret, 0, sizeof(*ret));
    *ret_used = 0;
    while (pos < len) {
        const char *nl = memchr(buf + pos, '\n', len - pos);
        size_t n, tn;
        int code;
        bool last;

        line++;
        if (nl == NULL) {
            if (len - pos > NOTIFY_SMTP_LINE_MAX)
                return mrd_err_set(err, MRD_E_TOOBIG, "SMTP reply line %zu: longer than %d", line,
                                   NOTIFY_SMTP_LINE_MAX);
            return MRD_OK; /* incomplete */
        }
        n = (size_t)(nl - (buf + pos));
        if (n > NOTIFY_SMTP_LINE_MAX)
            return mrd_err_set(err, MRD_E_TOOBIG, "SMTP reply line %zu: longer than %d", line,
                               NOTIFY_SMTP_LINE_MAX);
        if (n > 0 && buf[pos + n - 1] == '\r')
            n--;
        if (n < 3 || !digit(buf[pos]) || !digit(buf[pos + 1]) || !digit(buf[pos + 2]) ||
            buf[pos] < '2' || buf[pos] > '5' ||
            (n > 3 && buf[pos + 3] != ' ' && buf[pos + 3] != '-'))
            return mrd_err_set(err, MRD_E_PARSE,
                               "SMTP reply line %zu: expected a code 200..599 and ' ' or '-', "
                               "got '%s'",
                               line, MRD_ESCN(buf + pos, n < 40 ? n : 40));
        code = (buf[pos] - '0') * 100 + (buf[pos + 1] - '0') * 10 + (buf[pos + 2] - '0');
        if (ret->code != 0 && code != ret->code)
            return mrd_err_set(err, MRD_E_PARSE, "SMTP reply line %zu: code %d after %d", line,
                               code, ret->code);
        ret->code = code;
        last = n == 3 || buf[pos + 3] == ' ';
        tn = n > 4 ? n - 4 : 0;
        if (tlen + tn + 1 > NOTIFY_SMTP_REPLY_MAX)
            return mrd_err_set(err, MRD_E_TOOBIG, "SMTP reply: longer than %d",
                               NOTIFY_SMTP_REPLY_MAX);
        if (tlen > 0)
            ret->text[tlen++] = '\n';
        if (tn > 0) {
            keyword(ret, buf + pos + 4, tn);
            /* the text ends up in messages: no control characters */
            for (size_t i = 0; i < tn; i++) {
                unsigned char ch = (unsigned char)buf[pos + 4 + i];
                ret->text[tlen + i] = ch < ' ' || ch == 0x7f ? '?' : (char)ch;
            }
        }
        tlen += tn;
        ret->text[tlen] = '\0';
        pos += (size_t)(nl - (buf + pos)) + 1;
        if (last) {
            *ret_used = pos;
            return MRD_OK;
        }
    }
    return MRD_OK; /* incomplete */
}

/* ---- the session ---- */

#define SMTP_IN_MAX (2 * NOTIFY_SMTP_REPLY_MAX)

struct smtp {
    int fd;
    gnutls_session_t tls;
    gnutls_certificate_credentials_t cred;
    char in[SMTP_IN_MAX];
    size_t in_len;
    const char *host;
    unsigned timeout_s;
    time_t deadline; /* CLOCK_MONOTONIC seconds: the reply being read is late past it */
};

static enum mrd_code smtp_connect(struct smtp *s, const struct notify_smtp_conf *c,
                                  struct mrd_err *err)
{
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL, *a;
    struct timeval tv = {.tv_sec = c->timeout_s ? c->timeout_s : NOTIFY_TIMEOUT_DEFAULT_S};
    char port[8];
    int e, last = 0;

    (void)snprintf(port, sizeof(port), "%u", (unsigned)c->port);
    e = getaddrinfo(c->host, port, &hints, &res);
    if (e != 0)
        return mrd_err_set(err, MRD_E_IO, "SMTP relay %s:%s: %s", MRD_ESC(c->host), port,
                           gai_strerror(e));
    for (a = res; a != NULL; a = a->ai_next) {
        s->fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
        if (s->fd < 0) {
            last = errno;
            continue;
        }
        /* on Linux SO_SNDTIMEO bounds connect() too */
        (void)setsockopt(s->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        (void)setsockopt(s->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
        if (connect(s->fd, a->ai_addr, a->ai_addrlen) == 0)
            break;
        last = errno;
        (void)close(s->fd);
        s->fd = -1;
    }
    freeaddrinfo(res);
    if (s->fd < 0)
        return mrd_err_sys(err, last == EINPROGRESS || last == EAGAIN ? MRD_E_TIMEOUT : MRD_E_IO,
                           last, "SMTP relay %s:%s: cannot connect", MRD_ESC(c->host), port);
    return MRD_OK;
}

static enum mrd_code smtp_write(struct smtp *s, const char *p, size_t n, struct mrd_err *err)
{
    while (n > 0) {
        ssize_t w =
            s->tls != NULL ? gnutls_record_send(s->tls, p, n) : send(s->fd, p, n, MSG_NOSIGNAL);
        if (w < 0 &&
            (s->tls != NULL ? (w == GNUTLS_E_INTERRUPTED || w == GNUTLS_E_AGAIN) : errno == EINTR))
            continue;
        if (w <= 0)
            return mrd_err_set(
                err, MRD_E_IO, "SMTP relay %s: write failed%s", MRD_ESC(s->host),
                s->tls == NULL && (errno == EAGAIN || errno == EWOULDBLOCK) ? " (timed out)" : "");
        p += w;
        n -= (size_t)w;
    }
    return MRD_OK;
}

static bool past(const struct smtp *s)
{
    struct timespec now;

    (void)clock_gettime(CLOCK_MONOTONIC, &now);
    return now.tv_sec > s->deadline;
}

static enum mrd_code smtp_reply(struct smtp *s, struct notify_smtp_reply *r, struct mrd_err *err)
{
    struct timespec now;

    (void)clock_gettime(CLOCK_MONOTONIC, &now);
    s->deadline = now.tv_sec + s->timeout_s;
    for (;;) {
        size_t used = 0;
        ssize_t got;
        enum mrd_code rc = notify_smtp_reply_parse(s->in, s->in_len, r, &used, err);

        if (rc != MRD_OK) {
            mrd_err_prefix(err, "SMTP relay %s", MRD_ESC(s->host));
            return rc;
        }
        if (used > 0) {
            memmove(s->in, s->in + used, s->in_len - used);
            s->in_len -= used;
            return MRD_OK;
        }
        if (s->in_len == sizeof(s->in))
            return mrd_err_set(err, MRD_E_TOOBIG, "SMTP relay %s: reply longer than %zu",
                               MRD_ESC(s->host), sizeof(s->in));
        do {
            got = s->tls != NULL
                      ? gnutls_record_recv(s->tls, s->in + s->in_len, sizeof(s->in) - s->in_len)
                      : recv(s->fd, s->in + s->in_len, sizeof(s->in) - s->in_len, 0);
            /* GNUTLS_E_AGAIN also follows a post-handshake message (a TLS
             * 1.3 session ticket): again, until the socket timeout's
             * deadline */
        } while (got < 0 && (s->tls != NULL ? got == GNUTLS_E_INTERRUPTED ||
                                                  (got == GNUTLS_E_AGAIN && !past(s))
                                            : errno == EINTR));
        if (got == 0)
            return mrd_err_set(err, MRD_E_IO, "SMTP relay %s: closed the connection",
                               MRD_ESC(s->host));
        if (got < 0)
            return mrd_err_set(err, MRD_E_TIMEOUT, "SMTP relay %s: no answer (%s)",
                               MRD_ESC(s->host),
                               s->tls != NULL ? gnutls_strerror((int)got) : strerror(errno));
        s->in_len += (size_t)got;
    }
}

/* Sends a command (NULL: none, just read) and wants a reply of class
 * want (2 or 3). */
static enum mrd_code smtp_cmd(struct smtp *s, const char *cmd, const char *shown, int want,
                              struct notify_smtp_reply *r, struct mrd_err *err)
{
    enum mrd_code rc;

    if (cmd != NULL) {
        rc = smtp_write(s, cmd, strlen(cmd), err);
        if (rc != MRD_OK)
            return rc;
    }
    rc = smtp_reply(s, r, err);
    if (rc != MRD_OK)
        return rc;
    if (r->code / 100 != want)
        return mrd_err_set(err, r->code / 100 == 4 ? MRD_E_TIMEOUT : MRD_E_IO,
                           "SMTP relay %s refused %s: %d %s", MRD_ESC(s->host), shown, r->code,
                           MRD_ESC(r->text));
    return MRD_OK;
}

static enum mrd_code smtp_starttls(struct smtp *s, const struct notify_smtp_conf *c,
                                   struct mrd_err *err)
{
    int e;

    e = gnutls_certificate_allocate_credentials(&s->cred);
    if (e >= 0)
        e = c->ca_file != NULL
                ? gnutls_certificate_set_x509_trust_file(s->cred, c->ca_file, GNUTLS_X509_FMT_PEM)
                : gnutls_certificate_set_x509_system_trust(s->cred);
    if (e < 0)
        return mrd_err_set(err, MRD_E_CRYPTO, "SMTP: CA %s: %s",
                           c->ca_file != NULL ? MRD_ESC(c->ca_file) : "(system)",
                           gnutls_strerror(e));
    e = gnutls_init(&s->tls, GNUTLS_CLIENT);
    if (e >= 0)
        e = gnutls_set_default_priority(s->tls);
    if (e >= 0)
        e = gnutls_credentials_set(s->tls, GNUTLS_CRD_CERTIFICATE, s->cred);
    if (e >= 0)
        e = gnutls_server_name_set(s->tls, GNUTLS_NAME_DNS, c->host, strlen(c->host));
    if (e < 0)
        return mrd_err_set(err, MRD_E_CRYPTO, "SMTP: TLS: %s", gnutls_strerror(e));
    gnutls_session_set_verify_cert(s->tls, c->host, 0);
    gnutls_transport_set_int(s->tls, s->fd);
    gnutls_handshake_set_timeout(s->tls,
                                 (c->timeout_s ? c->timeout_s : NOTIFY_TIMEOUT_DEFAULT_S) * 1000U);
    do {
        e = gnutls_handshake(s->tls);
    } while (e < 0 && gnutls_error_is_fatal(e) == 0);
    if (e < 0) {
        if (e == GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR) {
            gnutls_datum_t why = {0};
            unsigned st = gnutls_session_get_verify_cert_status(s->tls);
            (void)gnutls_certificate_verification_status_print(st, GNUTLS_CRT_X509, &why, 0);
            (void)mrd_err_set(err, MRD_E_CRYPTO, "SMTP relay %s: certificate not trusted: %s",
                              MRD_ESC(c->host), why.data != NULL ? (char *)why.data : "?");
            gnutls_free(why.data);
            return MRD_E_CRYPTO;
        }
        return mrd_err_set(err, MRD_E_CRYPTO, "SMTP relay %s: TLS handshake: %s", MRD_ESC(c->host),
                           gnutls_strerror(e));
    }
    return MRD_OK;
}

static enum mrd_code b64(const char *p, size_t n, char *out, size_t size, struct mrd_err *err)
{
    if (sodium_base64_encoded_len(n, sodium_base64_VARIANT_ORIGINAL) > size)
        return mrd_err_set(err, MRD_E_TOOBIG, "SMTP: credentials too long");
    (void)sodium_bin2base64(out, size, (const unsigned char *)p, n, sodium_base64_VARIANT_ORIGINAL);
    return MRD_OK;
}

static enum mrd_code smtp_auth(struct smtp *s, const struct notify_smtp_conf *c,
                               const struct notify_smtp_reply *ehlo, struct mrd_err *err)
{
    char raw[2 * STORE_CONTACT_ADDR_MAX + NOTIFY_SECRET_MAX + 4];
    char enc[sizeof(raw) * 4 / 3 + 16], cmd[sizeof(enc) + 32];
    size_t ul = strlen(c->user), pl = strlen(c->password);
    struct notify_smtp_reply r;
    enum mrd_code rc;

    if (ehlo->auth_plain) {
        raw[0] = '\0';
        memcpy(raw + 1, c->user, ul);
        raw[1 + ul] = '\0';
        memcpy(raw + 2 + ul, c->password, pl);
        rc = b64(raw, 2 + ul + pl, enc, sizeof(enc), err);
        if (rc == MRD_OK) {
            (void)snprintf(cmd, sizeof(cmd), "AUTH PLAIN %s\r\n", enc);
            rc = smtp_cmd(s, cmd, "AUTH PLAIN", 2, &r, err);
        }
    } else if (ehlo->auth_login) {
        rc = smtp_cmd(s, "AUTH LOGIN\r\n", "AUTH LOGIN", 3, &r, err);
        if (rc == MRD_OK)
            rc = b64(c->user, ul, enc, sizeof(enc), err);
        if (rc == MRD_OK) {
            (void)snprintf(cmd, sizeof(cmd), "%s\r\n", enc);
            rc = smtp_cmd(s, cmd, "the user name", 3, &r, err);
        }
        if (rc == MRD_OK)
            rc = b64(c->password, pl, enc, sizeof(enc), err);
        if (rc == MRD_OK) {
            (void)snprintf(cmd, sizeof(cmd), "%s\r\n", enc);
            rc = smtp_cmd(s, cmd, "the password", 2, &r, err);
        }
    } else {
        rc = mrd_err_set(err, MRD_E_UNSUPP, "SMTP relay %s offers neither AUTH PLAIN nor LOGIN",
                         MRD_ESC(s->host));
    }
    sodium_memzero(raw, sizeof(raw));
    sodium_memzero(enc, sizeof(enc));
    sodium_memzero(cmd, sizeof(cmd));
    return rc;
}

/* The message, dot-stuffed (RFC 5321 4.5.2), then the end of data. */
static enum mrd_code smtp_data(struct smtp *s, const char *m, size_t len, struct mrd_err *err)
{
    size_t i = 0;
    enum mrd_code rc = MRD_OK;

    while (rc == MRD_OK && i < len) {
        const char *nl = memchr(m + i, '\n', len - i);
        size_t n = nl != NULL ? (size_t)(nl - (m + i)) + 1 : len - i;
        if (m[i] == '.')
            rc = smtp_write(s, ".", 1, err);
        if (rc == MRD_OK)
            rc = smtp_write(s, m + i, n, err);
        i += n;
    }
    if (rc == MRD_OK)
        rc = smtp_write(s, len > 0 && m[len - 1] == '\n' ? ".\r\n" : "\r\n.\r\n",
                        len > 0 && m[len - 1] == '\n' ? 3 : 5, err);
    return rc;
}

enum mrd_code notify_smtp_send(const struct notify_smtp_conf *c, const char *rcpt,
                               const char *message, size_t len, struct mrd_err *err)
{
    struct smtp *s = calloc(1, sizeof(*s));
    struct notify_smtp_reply r, ehlo;
    char cmd[STORE_CONTACT_ADDR_MAX + 32];
    enum mrd_code rc;

    if (s == NULL)
        return mrd_err_set(err, MRD_E_NOMEM, "SMTP: out of memory");
    s->fd = -1;
    s->host = c->host;
    s->timeout_s = c->timeout_s ? c->timeout_s : NOTIFY_TIMEOUT_DEFAULT_S;
    rc = notify_email_check(c->from, err);
    if (rc == MRD_OK)
        rc = notify_email_check(rcpt, err);
    if (rc == MRD_OK)
        rc = smtp_connect(s, c, err);
    if (rc == MRD_OK)
        rc = smtp_cmd(s, NULL, "the session", 2, &r, err);
    if (rc == MRD_OK)
        rc = smtp_cmd(s, "EHLO meridian\r\n", "EHLO", 2, &ehlo, err);
    if (rc == MRD_OK && !c->plain) {
        if (!ehlo.starttls)
            rc = mrd_err_set(err, MRD_E_CRYPTO,
                             "SMTP relay %s does not offer STARTTLS (smtp-plain only for a "
                             "relay on loopback)",
                             MRD_ESC(c->host));
        if (rc == MRD_OK)
            rc = smtp_cmd(s, "STARTTLS\r\n", "STARTTLS", 2, &r, err);
        if (rc == MRD_OK) {
            s->in_len = 0; /* nothing read before TLS counts (RFC 3207 4.2) */
            rc = smtp_starttls(s, c, err);
        }
        if (rc == MRD_OK)
            rc = smtp_cmd(s, "EHLO meridian\r\n", "EHLO", 2, &ehlo, err);
    }
    if (rc == MRD_OK && c->user[0] != '\0')
        rc = smtp_auth(s, c, &ehlo, err);
    if (rc == MRD_OK) {
        (void)snprintf(cmd, sizeof(cmd), "MAIL FROM:<%s>\r\n", c->from);
        rc = smtp_cmd(s, cmd, "the sender", 2, &r, err);
    }
    if (rc == MRD_OK) {
        (void)snprintf(cmd, sizeof(cmd), "RCPT TO:<%s>\r\n", rcpt);
        rc = smtp_cmd(s, cmd, "the recipient", 2, &r, err);
    }
    if (rc == MRD_OK)
        rc = smtp_cmd(s, "DATA\r\n", "DATA", 3, &r, err);
    if (rc == MRD_OK)
        rc = smtp_data(s, message, len, err);
    if (rc == MRD_OK)
        rc = smtp_cmd(s, NULL, "the message", 2, &r, err);
    if (rc == MRD_OK)
        (void)smtp_cmd(s, "QUIT\r\n", "QUIT", 2, &r, NULL);
    if (s->tls != NULL) {
        (void)gnutls_bye(s->tls, GNUTLS_SHUT_WR);
        gnutls_deinit(s->tls);
    }
    if (s->cred != NULL)
        gnutls_certificate_free_credentials(s->cred);
    if (s->fd >= 0)
        (void)close(s->fd);
    free(s);
    return rc;
}
