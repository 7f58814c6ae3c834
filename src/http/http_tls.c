/*
 * Self-signed TLS material for a new node: a throw-away CA and a server
 * certificate it signs. Operators who have a real certificate pass it to
 * `meridian serve --tls-cert/--tls-key` instead.
 *
 * Why a CA and not one self-signed leaf: TLS clients (curl, Python's ssl,
 * taxii2-client through requests) accept a trust anchor given with
 * --cacert / verify=PATH most reliably when it is a CA certificate, and the
 * CA's key is discarded so it can sign nothing else.
 */
#include "http/http.h"

#include <arpa/inet.h>
#include <stdbool.h>
#include <errno.h>
#include <fcntl.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/str.h"

#define TLS_CA_DAYS 3650
#define TLS_CERT_DAYS 825 /* the usual browser maximum for a leaf */

static enum mrd_code gt_err(struct mrd_err *err, int r, const char *what)
{
    return mrd_err_set(err, MRD_E_CRYPTO, "tls: %s: %s", what, gnutls_strerror(r));
}

/* Writes data to dir/name with O_EXCL so an existing file is never
 * replaced, and fsyncs it. */
static enum mrd_code write_new(const char *dir, const char *name, const gnutls_datum_t *d,
                               mode_t mode, struct mrd_err *err)
{
    char path[PATH_MAX];
    int fd;
    size_t off = 0;

    if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >= sizeof(path))
        return mrd_err_set(err, MRD_E_INVAL, "tls: path too long: %s/%s", dir, name);
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (fd < 0)
        return mrd_err_sys(err, errno == EEXIST ? MRD_E_EXISTS : MRD_E_IO, errno, "tls: %s", path);
    while (off < d->size) {
        ssize_t w = write(fd, d->data + off, d->size - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0) {
            int e = errno;
            (void)close(fd);
            return mrd_err_sys(err, MRD_E_IO, e, "tls: write %s", path);
        }
        off += (size_t)w;
    }
    if (fsync(fd) != 0 || close(fd) != 0)
        return mrd_err_sys(err, MRD_E_IO, errno, "tls: close %s", path);
    return MRD_OK;
}

static int set_common(gnutls_x509_crt_t crt, gnutls_x509_privkey_t key, const char *cn, int days)
{
    unsigned char serial[16];
    time_t now = time(NULL);
    int r;

    if ((r = gnutls_rnd(GNUTLS_RND_NONCE, serial, sizeof(serial))) < 0)
        return r;
    serial[0] &= 0x7f; /* a positive INTEGER */
    if ((r = gnutls_x509_crt_set_version(crt, 3)) < 0 ||
        (r = gnutls_x509_crt_set_serial(crt, serial, sizeof(serial))) < 0 ||
        (r = gnutls_x509_crt_set_activation_time(crt, now - 3600)) < 0 ||
        (r = gnutls_x509_crt_set_expiration_time(crt, now + (time_t)days * 86400)) < 0 ||
        (r = gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_ORGANIZATION_NAME, 0, "Meridian",
                                           8)) < 0 ||
        (r = gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, cn,
                                           (unsigned)strlen(cn))) < 0 ||
        (r = gnutls_x509_crt_set_key(crt, key)) < 0)
        return r;
    unsigned char kid[64];
    size_t kidlen = sizeof(kid);
    if ((r = gnutls_x509_crt_get_key_id(crt, GNUTLS_KEYID_USE_SHA1, kid, &kidlen)) < 0)
        return r;
    return gnutls_x509_crt_set_subject_key_id(crt, kid, kidlen);
}

/* A DNS name for a SAN: labels of [A-Za-z0-9-], dots between, an
 * optional leading "*." (RFC 6125 wildcard). */
static bool dns_name_ok(const char *s)
{
    size_t n = strlen(s), label = 0;

    if (n == 0 || n > 253)
        return false;
    if (n > 2 && s[0] == '*' && s[1] == '.')
        s += 2;
    for (; *s != '\0'; s++) {
        char c = *s;

        if (c == '.') {
            if (label == 0)
                return false;
            label = 0;
        } else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                   c == '-') {
            if (++label > 63)
                return false;
        } else {
            return false;
        }
    }
    return label > 0;
}

static int add_extra_sans(gnutls_x509_crt_t crt, const char *const *sans, size_t n)
{
    unsigned char ip[16];
    int r = 0;

    for (size_t i = 0; i < n && r >= 0; i++) {
        if (inet_pton(AF_INET, sans[i], ip) == 1)
            r = gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_IPADDRESS, ip, 4,
                                                     GNUTLS_FSAN_APPEND);
        else if (inet_pton(AF_INET6, sans[i], ip) == 1)
            r = gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_IPADDRESS, ip, 16,
                                                     GNUTLS_FSAN_APPEND);
        else
            r = gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_DNSNAME, sans[i],
                                                     (unsigned)strlen(sans[i]), GNUTLS_FSAN_APPEND);
    }
    return r < 0 ? r : 0;
}

static int add_sans(gnutls_x509_crt_t crt)
{
    unsigned char v4[4], v6[16];
    char host[256];
    int r;

    (void)inet_pton(AF_INET, "127.0.0.1", v4);
    (void)inet_pton(AF_INET6, "::1", v6);
    if ((r = gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_DNSNAME, "localhost", 9,
                                                  GNUTLS_FSAN_APPEND)) < 0 ||
        (r = gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_IPADDRESS, v4, sizeof(v4),
                                                  GNUTLS_FSAN_APPEND)) < 0 ||
        (r = gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_IPADDRESS, v6, sizeof(v6),
                                                  GNUTLS_FSAN_APPEND)) < 0)
        return r;
    /* The machine's own name too, so a partner on the network can verify. */
    if (gethostname(host, sizeof(host)) == 0) {
        host[sizeof(host) - 1] = '\0';
        if (host[0] != '\0' && strcmp(host, "localhost") != 0)
            r = gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_DNSNAME, host,
                                                     (unsigned)strlen(host), GNUTLS_FSAN_APPEND);
    }
    return r < 0 ? r : 0;
}

enum mrd_code http_tls_generate(const char *dir, struct mrd_err *err)
{
    return http_tls_generate_sans(dir, NULL, 0, err);
}

enum mrd_code http_tls_generate_sans(const char *dir, const char *const *sans, size_t n,
                                     struct mrd_err *err)
{
    gnutls_x509_privkey_t ca_key = NULL, key = NULL;
    gnutls_x509_crt_t ca = NULL, crt = NULL;
    gnutls_datum_t ca_pem = {NULL, 0}, crt_pem = {NULL, 0}, key_pem = {NULL, 0};
    enum mrd_code rc = MRD_OK;
    int r;
    unsigned char ip[16];

    if (n > HTTP_TLS_MAX_SANS)
        return mrd_err_set(err, MRD_E_INVAL, "tls: more than %d --san names", HTTP_TLS_MAX_SANS);
    for (size_t i = 0; i < n; i++)
        if (inet_pton(AF_INET, sans[i], ip) != 1 && inet_pton(AF_INET6, sans[i], ip) != 1 &&
            !dns_name_ok(sans[i]))
            return mrd_err_set(err, MRD_E_INVAL,
                               "tls: --san '%.64s' is neither an IP address nor a DNS name",
                               sans[i]);
    if ((r = gnutls_x509_privkey_init(&ca_key)) < 0 || (r = gnutls_x509_privkey_init(&key)) < 0 ||
        (r = gnutls_x509_crt_init(&ca)) < 0 || (r = gnutls_x509_crt_init(&crt)) < 0) {
        rc = gt_err(err, r, "init");
        goto out;
    }
    if ((r = gnutls_x509_privkey_generate(
             ca_key, GNUTLS_PK_ECDSA, GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0)) < 0 ||
        (r = gnutls_x509_privkey_generate(
             key, GNUTLS_PK_ECDSA, GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0)) < 0) {
        rc = gt_err(err, r, "key generation");
        goto out;
    }
    /* The CA: may sign certificates, nothing else. */
    if ((r = set_common(ca, ca_key, "Meridian node CA", TLS_CA_DAYS)) < 0 ||
        (r = gnutls_x509_crt_set_basic_constraints(ca, 1, 0)) < 0 ||
        (r = gnutls_x509_crt_set_key_usage(ca, GNUTLS_KEY_KEY_CERT_SIGN | GNUTLS_KEY_CRL_SIGN)) <
            0 ||
        (r = gnutls_x509_crt_sign2(ca, ca, ca_key, GNUTLS_DIG_SHA256, 0)) < 0) {
        rc = gt_err(err, r, "ca certificate");
        goto out;
    }
    /* The server certificate. */
    if ((r = set_common(crt, key, "localhost", TLS_CERT_DAYS)) < 0 ||
        (r = gnutls_x509_crt_set_basic_constraints(crt, 0, -1)) < 0 ||
        (r = gnutls_x509_crt_set_key_usage(crt, GNUTLS_KEY_DIGITAL_SIGNATURE)) < 0 ||
        (r = gnutls_x509_crt_set_key_purpose_oid(crt, GNUTLS_KP_TLS_WWW_SERVER, 0)) < 0 ||
        (r = add_sans(crt)) < 0 || (r = add_extra_sans(crt, sans, n)) < 0) {
        rc = gt_err(err, r, "server certificate");
        goto out;
    }
    {
        unsigned char kid[64];
        size_t kidlen = sizeof(kid);
        if ((r = gnutls_x509_crt_get_subject_key_id(ca, kid, &kidlen, NULL)) < 0 ||
            (r = gnutls_x509_crt_set_authority_key_id(crt, kid, kidlen)) < 0 ||
            (r = gnutls_x509_crt_sign2(crt, ca, ca_key, GNUTLS_DIG_SHA256, 0)) < 0) {
            rc = gt_err(err, r, "signing the server certificate");
            goto out;
        }
    }
    if ((r = gnutls_x509_crt_export2(ca, GNUTLS_X509_FMT_PEM, &ca_pem)) < 0 ||
        (r = gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_PEM, &crt_pem)) < 0 ||
        (r = gnutls_x509_privkey_export2(key, GNUTLS_X509_FMT_PEM, &key_pem)) < 0) {
        rc = gt_err(err, r, "export");
        goto out;
    }
    rc = write_new(dir, HTTP_TLS_KEY_FILE, &key_pem, 0600, err);
    if (rc == MRD_OK)
        rc = write_new(dir, HTTP_TLS_CERT_FILE, &crt_pem, 0644, err);
    if (rc == MRD_OK)
        rc = write_new(dir, HTTP_TLS_CA_FILE, &ca_pem, 0644, err);
out:
    gnutls_free(ca_pem.data);
    gnutls_free(crt_pem.data);
    if (key_pem.data != NULL) {
        memset(key_pem.data, 0, key_pem.size);
        gnutls_free(key_pem.data);
    }
    gnutls_x509_crt_deinit(ca);
    gnutls_x509_crt_deinit(crt);
    gnutls_x509_privkey_deinit(ca_key);
    gnutls_x509_privkey_deinit(key);
    return rc;
}
