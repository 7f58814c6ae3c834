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
#include <gnutls/x509.h>

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
    char dir[] = "/tmp/mrd-http-test-XXXXXX";
    char path[600];
    struct stat sb;
    gnutls_x509_crt_t ca, crt;
    gnutls_datum_t d;
    unsigned verify = 1;
    struct mrd_err err = {0};

    (void)state;
    assert_non_null(mkdtemp(dir));
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
        cmocka_unit_test(test_ratelimit),
        cmocka_unit_test(test_tls_generate),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
