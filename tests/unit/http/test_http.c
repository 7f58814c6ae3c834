/* Unit tests for http/: Authorization parsing, the rate limiter and the
 * TLS material generator (the server itself is tested over real sockets in
 * tests/integration/test_taxii_*.py). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "../testdir.h"
#include <gnutls/x509.h>
#include <sodium.h>

#include "http/http.h"

static enum mrd_code secret(const char *hdr, char out[HTTP_MAX_SECRET + 1])
{
    size_t n = 0;
    return http_auth_secret(hdr, strlen(hdr), out, &n, NULL);
}

static void test_auth_bearer_and_basic(void **state)
{
    char s[HTTP_MAX_SECRET + 1];
    struct mrd_err err = {0};

    (void)state;
    assert_int_equal(secret("Bearer mrd_abc-DEF_123", s), MRD_OK);
    assert_string_equal(s, "mrd_abc-DEF_123");
    assert_int_equal(secret("bearer   tok  ", s), MRD_OK);
    assert_string_equal(s, "tok");
    /* Basic user:pass with any user name; "dXNlcjpzZWNyZXQ=" = user:secret */
    assert_int_equal(secret("Basic dXNlcjpzZWNyZXQ=", s), MRD_OK);
    assert_string_equal(s, "secret");
    /* ":secret" (empty user) and "a:b:secret" (colon in the user name) */
    assert_int_equal(secret("Basic OnNlY3JldA==", s), MRD_OK);
    assert_string_equal(s, "secret");
    assert_int_equal(secret("Basic YTpiOnNlY3JldA==", s), MRD_OK);
    assert_string_equal(s, "secret");
    assert_int_equal(http_auth_secret("Digest x", 8, s, &(size_t){0}, &err), MRD_E_AUTH);
    assert_non_null(strstr(err.msg, "unsupported scheme"));
    assert_int_equal(secret("Bearer", s), MRD_E_AUTH);
    assert_int_equal(secret("Bearer a b", s), MRD_E_AUTH);
    assert_int_equal(secret("Bearer a\"b", s), MRD_E_AUTH);
    assert_int_equal(secret("Basic !!!!", s), MRD_E_AUTH);
    assert_int_equal(secret("Basic dXNlcg==", s), MRD_E_AUTH); /* "user": no colon */
    assert_int_equal(secret("Basic dXNlcjo=", s), MRD_E_AUTH); /* "user:": no password */
    char big[HTTP_MAX_SECRET + 16];
    memcpy(big, "Bearer ", 7);
    memset(big + 7, 'a', HTTP_MAX_SECRET + 1);
    big[7 + HTTP_MAX_SECRET + 1] = '\0';
    assert_int_equal(secret(big, s), MRD_E_AUTH);
}

static enum mrd_code basic(const char *userpass, size_t n, char out[HTTP_MAX_SECRET + 1])
{
    char b64[512], hdr[600];
    size_t len = 0;

    sodium_bin2base64(b64, sizeof(b64), (const unsigned char *)userpass, n,
                      sodium_base64_VARIANT_ORIGINAL);
    (void)snprintf(hdr, sizeof(hdr), "Basic %s", b64);
    return http_auth_secret(hdr, strlen(hdr), out, &len, NULL);
}

/* RFC 7617 §2: no control character in either part; the password is what
 * follows the last colon (tokens hold none), so extra colons are fine. */
static void test_auth_basic_edges(void **state)
{
    char s[HTTP_MAX_SECRET + 1];

    (void)state;
    assert_int_equal(basic("u:tok", 5, s), MRD_OK);
    assert_string_equal(s, "tok");
    assert_int_equal(basic("a:b:c:tok", 9, s), MRD_OK);
    assert_string_equal(s, "tok");
    assert_int_equal(basic("u:to\0k", 6, s), MRD_E_AUTH);
    assert_int_equal(basic("u\0x:tok", 7, s), MRD_E_AUTH);
    assert_int_equal(basic("u:tok\x01", 6, s), MRD_E_AUTH);
    assert_int_equal(basic("u:tok\x7f", 6, s), MRD_E_AUTH);
    assert_int_equal(basic("u:tok\n", 6, s), MRD_E_AUTH);
    /* a valid encoding followed by junk, or missing its padding */
    assert_int_equal(secret("Basic dTp0b2s=x", s), MRD_E_AUTH);
    assert_int_equal(secret("Basic dTp0b2s", s), MRD_E_AUTH);
    assert_int_equal(secret("Basic dTp0b2s=", s), MRD_OK);
    /* a NUL in a bearer token is outside token68 */
    assert_int_equal(http_auth_secret("Bearer tok\0junk", 15, s, &(size_t){0}, NULL), MRD_E_AUTH);
}

/* Feeds "Name: value" lines (separated by '\n') to the head check. */
static unsigned head(const char *lines, bool http10, const char **why)
{
    struct http_head_check hc;
    const char *p = lines;

    http_head_check_init(&hc);
    while (*p != '\0') {
        const char *nl = strchr(p, '\n');
        const char *colon = strchr(p, ':');
        size_t len = nl != NULL ? (size_t)(nl - p) : strlen(p);
        const char *v;

        assert_non_null(colon);
        v = colon + 1;
        while (*v == ' ')
            v++;
        http_head_check_field(&hc, p, (size_t)(colon - p), v, (size_t)(p + len - v));
        p += len + (nl != NULL);
    }
    *why = NULL;
    return http_head_check_end(&hc, http10, why);
}

static void test_head_check(void **state)
{
    const char *why;

    (void)state;
    assert_int_equal(head("Host: x\nContent-Length: 10\nAuthorization: Bearer t", false, &why), 0);
    assert_int_equal(head("Host: x\nTransfer-Encoding: chunked", false, &why), 0);
    assert_int_equal(head("Transfer-Encoding: CHUNKED \nX-Empty: ", false, &why), 0);
    assert_int_equal(head("Transfer-Encoding: ,chunked,", false, &why), 0); /* empty elements */
    assert_int_equal(head("Accept: a\nAccept: b\nX-A: 1\nx-a: 2", false, &why), 0);
    assert_int_equal(head("Content-Length: 5 ", false, &why), 0); /* trailing OWS */
    assert_int_equal(head("Content-Length: 1\nTransfer-Encoding: chunked", false, &why), 400);
    assert_non_null(strstr(why, "both Transfer-Encoding and Content-Length"));
    assert_int_equal(head("Content-Length: 1\ncontent-length: 1", false, &why), 400);
    assert_non_null(strstr(why, "more than one Content-Length"));
    assert_int_equal(head("Content-Length : 1", false, &why), 400);
    assert_non_null(strstr(why, "RFC 9112 §5.1"));
    assert_int_equal(head("Content-Length\t: 1", false, &why), 400);
    assert_int_equal(head(": 1", false, &why), 400);
    assert_int_equal(head("X(y): 1", false, &why), 400);
    assert_int_equal(head("Content-Length: +1", false, &why), 400);
    assert_int_equal(head("Content-Length: 1, 1", false, &why), 400);
    assert_int_equal(head("Content-Length: ", false, &why), 400);
    assert_int_equal(head("Transfer-Encoding: xchunked", false, &why), 400);
    assert_non_null(strstr(why, "not the final"));
    assert_int_equal(head("Transfer-Encoding: chunked, identity", false, &why), 400);
    assert_int_equal(head("Transfer-Encoding: chunked\nTransfer-Encoding: gzip", false, &why), 400);
    assert_int_equal(head("Transfer-Encoding: ", false, &why), 400);
    assert_int_equal(head("Transfer-Encoding: chunked, chunked", false, &why), 400);
    assert_non_null(strstr(why, "more than once"));
    assert_int_equal(head("Transfer-Encoding: chunked", true, &why), 400);
    assert_non_null(strstr(why, "HTTP/1.0"));
    assert_int_equal(head("Transfer-Encoding: gzip, chunked", false, &why), 501);
    assert_int_equal(head("Transfer-Encoding: gzip\nTransfer-Encoding: chunked", false, &why), 501);
    assert_int_equal(head("Host: a\nHost: b", false, &why), 400);
    assert_int_equal(head("Authorization: Bearer a\nauthorization: Bearer a", false, &why), 400);
    assert_non_null(strstr(why, "more than one Authorization"));
    assert_int_equal(head("Content-Type: a\nContent-Type: a", false, &why), 400);
    assert_int_equal(head("X-A: a\x01z", false, &why), 400);
    assert_non_null(strstr(why, "control character"));
    assert_int_equal(head("X-A: a\x7fz", false, &why), 400);
    assert_int_equal(head("X-A: a\tz", false, &why), 0);
    assert_int_equal(head("X-A: caf\xc3\xa9", false, &why), 0); /* obs-text is fine */
    {
        struct http_head_check hc;
        http_head_check_init(&hc);
        http_head_check_field(&hc, "A", 1, "b\0c", 3);
        assert_int_equal(http_head_check_end(&hc, false, &why), 400);
        http_head_check_init(&hc);
        http_head_check_field(&hc, "A", 1, "b", 1);
        http_head_check_hidden(&hc);
        assert_int_equal(http_head_check_end(&hc, false, &why), 400);
    }
}

static void test_ratelimit(void **state)
{
    struct http_ratelimit *rl = NULL;
    int ok = 0;

    (void)state;
    assert_int_equal(http_ratelimit_new(10, &rl, NULL), MRD_OK);
    for (int i = 0; i < 100; i++)
        ok += http_ratelimit_take(rl, "a", 1);
    assert_true(ok >= 10 && ok <= 12);            /* one second of burst, plus refill */
    assert_true(http_ratelimit_take(rl, "b", 1)); /* its own bucket */
    /* many keys: the table recycles, never fails or grows */
    for (int i = 0; i < 3 * HTTP_RATE_MAX_KEYS; i++) {
        char k[32];
        int n = snprintf(k, sizeof(k), "key-%d", i);
        assert_true(http_ratelimit_take(rl, k, (size_t)n));
    }
    http_ratelimit_free(rl);
    assert_int_equal(http_ratelimit_new(0, &rl, NULL), MRD_OK);
    for (int i = 0; i < 1000; i++)
        assert_true(http_ratelimit_take(rl, "a", 1));
    http_ratelimit_free(rl);
    http_ratelimit_free(NULL);
}

static void read_pem(const char *dir, const char *name, gnutls_datum_t *d)
{
    char path[512];
    FILE *f;
    static unsigned char buf[8192];

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    f = fopen(path, "rb");
    assert_non_null(f);
    d->size = (unsigned)fread(buf, 1, sizeof(buf), f);
    d->data = buf;
    fclose(f);
}

static void test_tls_generate(void **state)
{
    char dir[TEST_DIR_MAX];
    char path[TEST_DIR_MAX + 64];
    struct stat sb;
    gnutls_x509_crt_t ca, crt;
    gnutls_datum_t d;
    unsigned verify = 1;
    struct mrd_err err = {0};

    (void)state;
    test_dir_make(dir, "mrd-http-test");
    assert_int_equal(http_tls_generate(dir, &err), MRD_OK);
    snprintf(path, sizeof(path), "%s/%s", dir, HTTP_TLS_KEY_FILE);
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    /* the server certificate verifies against the CA, for 127.0.0.1 */
    gnutls_x509_crt_init(&ca);
    gnutls_x509_crt_init(&crt);
    read_pem(dir, HTTP_TLS_CA_FILE, &d);
    assert_int_equal(gnutls_x509_crt_import(ca, &d, GNUTLS_X509_FMT_PEM), 0);
    read_pem(dir, HTTP_TLS_CERT_FILE, &d);
    assert_int_equal(gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_PEM), 0);
    assert_int_equal(gnutls_x509_crt_verify(crt, &ca, 1, 0, &verify), 0);
    assert_int_equal(verify, 0);
    assert_true(gnutls_x509_crt_check_hostname(crt, "localhost"));
    assert_true(gnutls_x509_crt_check_ip(crt, (const unsigned char *)"\x7f\0\0\1", 4, 0));
    gnutls_x509_crt_deinit(ca);
    gnutls_x509_crt_deinit(crt);
    /* never overwrites */
    mrd_err_clear(&err);
    assert_int_equal(http_tls_generate(dir, &err), MRD_E_EXISTS);
    for (const char *const *f =
             (const char *const[]){HTTP_TLS_CA_FILE, HTTP_TLS_CERT_FILE, HTTP_TLS_KEY_FILE, NULL};
         *f != NULL; f++) {
        snprintf(path, sizeof(path), "%s/%s", dir, *f);
        unlink(path);
    }
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_auth_bearer_and_basic),
        cmocka_unit_test(test_auth_basic_edges),
        cmocka_unit_test(test_head_check),
        cmocka_unit_test(test_ratelimit),
        cmocka_unit_test(test_tls_generate),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
