/* Unit tests for match/keys.c: the exact keys private matching compares.
 * An indicator value's key must be among the keys of every observed
 * value match_index_lookup matches to it exactly, and of no other; opaque
 * keys in the index match byte for byte. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "match/match.h"

struct keys {
    char k[8][MATCH_KEY_MAX];
    size_t n[8];
    size_t count;
};

static void on_key(void *ctx, const char *key, size_t n)
{
    struct keys *ks = ctx;

    assert_true(ks->count < 8);
    memcpy(ks->k[ks->count], key, n);
    ks->n[ks->count++] = n;
}

/* Whether observing v as obs gives the key of indicator value iv of type. */
static bool meets(enum match_type type, const char *iv, enum match_obs obs, const char *v)
{
    char key[MATCH_KEY_MAX];
    size_t len = 0;
    struct keys ks = {.count = 0};

    assert_int_equal(match_value_key(type, iv, strlen(iv), key, &len, NULL), MRD_OK);
    match_obs_keys(obs, v, strlen(v), on_key, &ks);
    for (size_t i = 0; i < ks.count; i++)
        if (ks.n[i] == len && memcmp(ks.k[i], key, len) == 0)
            return true;
    return false;
}

static void test_same_values_meet(void **state)
{
    (void)state;
    assert_true(meets(MATCH_T_IPV4, "203.0.113.7", MATCH_O_IP, "203.0.113.7"));
    assert_true(meets(MATCH_T_IPV4, "203.0.113.7", MATCH_O_IP, "::ffff:203.0.113.7"));
    assert_true(meets(MATCH_T_IPV4, "203.0.113.7", MATCH_O_HOST, "203.0.113.7:8080"));
    assert_true(meets(MATCH_T_IPV6, "2001:db8::17", MATCH_O_IP, "2001:0DB8:0::0017"));
    assert_true(meets(MATCH_T_IPV6, "2001:db8::17", MATCH_O_HOST, "[2001:db8::17]:443"));
    assert_true(meets(MATCH_T_DOMAIN, "evil.example", MATCH_O_HOST, "EVIL.Example."));
    assert_true(meets(MATCH_T_DOMAIN, "evil.example", MATCH_O_HOSTLIST, "a.example,evil.example"));
    assert_true(meets(MATCH_T_DOMAIN, "evil.example", MATCH_O_URL, "https://evil.example/x"));
    assert_true(meets(MATCH_T_URL, "http://bad.example/p", MATCH_O_URL, "HTTP://Bad.Example:80/p"));
    assert_true(meets(MATCH_T_EMAIL, "phish@bad.example", MATCH_O_EMAIL, "Phish@Bad.Example"));
    assert_true(meets(MATCH_T_SHA256,
                      "ab"
                      "00000000000000000000000000000000000000000000000000000000000000",
                      MATCH_O_HASH,
                      "AB"
                      "00000000000000000000000000000000000000000000000000000000000000"));
}

static void test_different_values_do_not(void **state)
{
    (void)state;
    assert_false(meets(MATCH_T_IPV4, "203.0.113.7", MATCH_O_IP, "203.0.113.8"));
    assert_false(meets(MATCH_T_DOMAIN, "evil.example", MATCH_O_HOST, "notevil.example"));
    assert_false(meets(MATCH_T_DOMAIN, "evil.example", MATCH_O_HOST, "a.evil.example"));
    assert_false(meets(MATCH_T_URL, "http://bad.example/p", MATCH_O_URL, "http://bad.example/P"));
    /* a domain and an e-mail address with the same text are different keys */
    assert_false(meets(MATCH_T_EMAIL, "a@b.example", MATCH_O_HOST, "a@b.example"));
    assert_false(meets(MATCH_T_MD5, "0123456789abcdef0123456789abcdef", MATCH_O_HOST,
                       "0123456789abcdef0123456789abcdef"));
}

static void test_ranges_and_bad_values(void **state)
{
    char key[MATCH_KEY_MAX];
    size_t len = 0;
    struct mrd_err err = {0};

    (void)state;
    assert_int_equal(match_value_key(MATCH_T_IPV4, "10.0.0.0/8", 10, key, &len, &err),
                     MRD_E_UNSUPP);
    mrd_err_clear(&err);
    assert_int_equal(match_value_key(MATCH_T_IPV4, "10.0.0.300", 10, key, &len, &err), MRD_E_INVAL);
    assert_non_null(strstr(err.msg, "10.0.0.300"));
    assert_int_equal(match_value_key(MATCH_T_SHA1, "xyz", 3, key, &len, NULL), MRD_E_INVAL);
}

static void test_opaque_keys(void **state)
{
    struct match_index *idx = NULL;
    uint8_t a[16], b[16];
    uint32_t hit = 0;

    (void)state;
    memset(a, 0x11, sizeof(a));
    memset(b, 0x11, sizeof(b));
    b[15] = 0x12;
    assert_int_equal(match_index_new(&idx, NULL), MRD_OK);
    assert_int_equal(match_index_add_opaque(idx, a, sizeof(a), 7, NULL), MRD_OK);
    assert_int_equal(match_index_add(idx, MATCH_T_DOMAIN, "x.example", 9, 8, NULL), MRD_OK);
    assert_int_equal(match_index_build(idx, NULL), MRD_OK);
    assert_int_equal(match_index_lookup_opaque(idx, a, sizeof(a), &hit, 1), 1);
    assert_int_equal(hit, 7);
    assert_int_equal(match_index_lookup_opaque(idx, b, sizeof(b), &hit, 1), 0);
    /* an opaque key never answers a value lookup, nor the other way round */
    assert_int_equal(match_index_lookup_opaque(idx, "x.example", 9, &hit, 1), 0);
    assert_int_equal(match_index_lookup(idx, MATCH_O_HOST, (const char *)a, sizeof(a), 0, &hit, 1),
                     0);
    match_index_free(idx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_values_meet),
        cmocka_unit_test(test_different_values_do_not),
        cmocka_unit_test(test_ranges_and_bad_values),
        cmocka_unit_test(test_opaque_keys),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
