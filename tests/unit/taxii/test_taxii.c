/* Unit tests for taxii/: media-type negotiation, query filters and paging
 * tokens (the pure parts; endpoints are tested through HTTP in
 * tests/integration/test_taxii_*.py). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/arena.h"
#include "taxii/taxii_int.h"

static void test_accept(void **state)
{
    static const char *const ok[] = {
        "application/taxii+json;version=2.1",
        "application/taxii+json",
        "application/taxii+json; version=2.1",
        "application/taxii+json;version=\"2.1\"",
        "Application/TAXII+JSON;version=2.1",
        "application/taxii+json;version=2.1,application/stix+json;version=2.1",
        "application/json, */*",
        "application/*",
        "text/html;q=0.9, application/taxii+json;q=0.5",
        "application/taxii+json;q=0.001",
    };
    static const char *const bad[] = {
        "application/json",
        "application/taxii+json;version=2.0",
        "application/taxii+json;version=2.10",
        "application/stix+json;version=2.1",
        "application/taxii+json;q=0",
        "application/taxii+json;q=0.000",
        "*/*;q=0",
        "",
        ",,,",
        "application/taxii+jsonx",
    };

    (void)state;
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
        assert_true(taxii_accept_ok(ok[i]));
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_false(taxii_accept_ok(bad[i]));
    assert_false(taxii_accept_ok(NULL));
}

static void test_content_type(void **state)
{
    (void)state;
    assert_true(taxii_content_type_ok("application/taxii+json;version=2.1"));
    assert_true(taxii_content_type_ok("application/taxii+json"));
    assert_true(taxii_content_type_ok("application/taxii+json; charset=utf-8; version=2.1"));
    assert_false(taxii_content_type_ok("application/json"));
    assert_false(taxii_content_type_ok("application/stix+json;version=2.1"));
    assert_false(taxii_content_type_ok("application/taxii+json;version=2.0"));
    assert_false(taxii_content_type_ok(NULL));
}

#define ALL_F 0x7fu

static enum mrd_code parse1(struct mrd_arena *a, const char *k, const char *v,
                            struct taxii_filter *f, struct mrd_err *err)
{
    struct http_kv kv = {k, v};
    return taxii_filter_parse(&kv, 1, ALL_F, a, f, err);
}

static void test_filters_good(void **state)
{
    struct mrd_arena a;
    struct taxii_filter f;
    struct http_kv args[] = {
        {"added_after", "2026-01-02T03:04:05.123456Z"},
        {"limit", "5000"},
        {"match[type]", "indicator,malware"},
        {"match[id]", "indicator--a,malware--b"},
        {"match[version]", "first,2026-01-01T00:00:00Z,last"},
        {"match[spec_version]", "2.1"},
        {"match[unknown]", "whatever"},
        {"other", NULL},
    };

    (void)state;
    mrd_arena_init(&a, 1 << 20);
    assert_int_equal(taxii_filter_parse(args, 8, ALL_F, &a, &f, NULL), MRD_OK);
    assert_int_equal(f.added_after, 1767323045123456LL);
    assert_int_equal(f.limit, TAXII_MAX_PAGE); /* capped */
    assert_int_equal(f.match.n_types, 2);
    assert_string_equal(f.match.types[1], "malware");
    assert_int_equal(f.match.n_ids, 2);
    assert_int_equal(f.match.versions, STORE_VER_FIRST | STORE_VER_LAST | STORE_VER_TIMESTAMPS);
    assert_int_equal(f.match.n_timestamps, 1);
    assert_int_equal(f.match.n_spec_versions, 1);
    /* a filter the endpoint does not take is ignored, not an error */
    assert_int_equal(taxii_filter_parse(args + 2, 1, TAXII_F_LIMIT, &a, &f, NULL), MRD_OK);
    assert_int_equal(f.match.n_types, 0);
    mrd_arena_release(&a);
}

static void test_filters_bad(void **state)
{
    static const char *const bad[][2] = {
        {"limit", "0"},
        {"limit", "-1"},
        {"limit", "1.0"},
        {"limit", ""},
        {"limit", NULL},
        {"limit", "9007199254740992"},
        {"added_after", "2026-01-01"},
        {"added_after", "2026-01-01T00:00:00+01:00"},
        {"match[version]", "all,last"},
        {"match[version]", "first,first"},
        {"match[version]", "2026-01-01T00:00:00Z,2026-01-01T00:00:00.000Z"},
        {"match[version]", "newest"},
        {"match[type]", "a,,b"},
        {"match[type]", ",a"},
        {"match[type]", "has space"},
        {"match[id]", "no-double-dash"},
        {"match[id]", "--uuid"},
        {"match[spec_version]", "2"},
        {"match[spec_version]", "2.1.1"},
        {"match[type]", "ind\xff"},
    };
    struct mrd_arena a;
    struct taxii_filter f;
    struct mrd_err err;

    (void)state;
    mrd_arena_init(&a, 1 << 20);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        mrd_err_clear(&err);
        assert_int_equal(parse1(&a, bad[i][0], bad[i][1], &f, &err), MRD_E_PARSE);
        assert_non_null(strstr(err.msg, bad[i][0]));
    }
    struct http_kv twice[] = {{"match[type]", "a"}, {"match[type]", "b"}};
    mrd_err_clear(&err);
    assert_int_equal(taxii_filter_parse(twice, 2, ALL_F, &a, &f, &err), MRD_E_PARSE);
    assert_non_null(strstr(err.msg, "more than once"));
    mrd_arena_release(&a);
}

static void test_next_tokens(void **state)
{
    unsigned char key[crypto_auth_KEYBYTES], key2[crypto_auth_KEYBYTES];
    struct taxii_next_bind b = {TAXII_R_OBJECTS, "api1", "c-1", NULL, 7, "tok"};
    struct taxii_next_bind b2;
    struct taxii_filter f, f2;
    char tok[TAXII_NEXT_MAX + 1];
    int64_t d = 0, s = 0;

    (void)state;
    assert_true(sodium_init() >= 0);
    memset(key, 1, sizeof(key));
    memset(key2, 2, sizeof(key2));
    memset(&f, 0, sizeof(f));
    f.raw_type = "indicator";
    taxii_next_make(key, &b, &f, 1234567, 89, tok);
    assert_true(strlen(tok) <= TAXII_NEXT_MAX);
    assert_int_equal(taxii_next_check(key, &b, &f, tok, &d, &s, NULL), MRD_OK);
    assert_int_equal(d, 1234567);
    assert_int_equal(s, 89);
    /* another key, requester, collection, endpoint or filter: rejected */
    assert_int_equal(taxii_next_check(key2, &b, &f, tok, &d, &s, NULL), MRD_E_PARSE);
    b2 = b;
    b2.org_key = 8;
    assert_int_equal(taxii_next_check(key, &b2, &f, tok, &d, &s, NULL), MRD_E_PARSE);
    b2 = b;
    b2.token_name = "other";
    assert_int_equal(taxii_next_check(key, &b2, &f, tok, &d, &s, NULL), MRD_E_PARSE);
    b2 = b;
    b2.collection_id = "c-2";
    assert_int_equal(taxii_next_check(key, &b2, &f, tok, &d, &s, NULL), MRD_E_PARSE);
    b2 = b;
    b2.route = TAXII_R_MANIFEST;
    assert_int_equal(taxii_next_check(key, &b2, &f, tok, &d, &s, NULL), MRD_E_PARSE);
    f2 = f;
    f2.raw_type = NULL;
    f2.raw_id = "indicator"; /* same text, another filter */
    assert_int_equal(taxii_next_check(key, &b, &f2, tok, &d, &s, NULL), MRD_E_PARSE);
    /* every single-character change is caught */
    for (size_t i = 0; tok[i] != '\0'; i++) {
        char t2[TAXII_NEXT_MAX + 1];
        memcpy(t2, tok, sizeof(t2));
        t2[i] = t2[i] == 'A' ? 'B' : 'A';
        assert_int_equal(taxii_next_check(key, &b, &f, t2, &d, &s, NULL), MRD_E_PARSE);
    }
    assert_int_equal(taxii_next_check(key, &b, &f, "", &d, &s, NULL), MRD_E_PARSE);
    assert_int_equal(taxii_next_check(key, &b, &f, "!!!", &d, &s, NULL), MRD_E_PARSE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_accept),       cmocka_unit_test(test_content_type),
        cmocka_unit_test(test_filters_good), cmocka_unit_test(test_filters_bad),
        cmocka_unit_test(test_next_tokens),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
