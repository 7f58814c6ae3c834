/* Unit tests for bgp/ --config (watch configuration) and --as-rel (CAIDA
 * AS relationships) parsing: contents, lookups, limits and errors that
 * name what and where. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "bgp/bgp.h"
#include "core/alloc.h"

static struct bgp_prefix pfx(const char *s)
{
    struct bgp_prefix p;
    assert_int_equal(bgp_prefix_parse(s, strlen(s), &p, NULL), MRD_OK);
    return p;
}

static const char good[] =
    "{\"prefixes\": ["
    " {\"prefix\": \"2001:db8:ff00::/40\", \"origins\": [65010, 65011, 65010],"
    "  \"neighbors\": [65020], \"max_length\": 48},"
    " {\"prefix\": \"203.0.113.0/24\", \"origins\": [64500], \"neighbors\": null},"
    " {\"prefix\": \"203.0.113.128/25\", \"origins\": [64501], \"policies\": [\"no-export\"]},"
    " {\"prefix\": \"192.0.2.0/24\"}],"
    " \"groups\": {\"country-1\": [65030, 65031], \"country-2\": [65040]}}";

static void test_config_parses_and_matches(void **state)
{
    struct bgp_config *cfg = NULL;
    struct mrd_err err = {0};
    const struct bgp_cfg_prefix *m;
    struct bgp_prefix p;

    (void)state;
    assert_int_equal(bgp_config_parse(good, strlen(good), &cfg, &err), MRD_OK);
    assert_int_equal(cfg->nprefixes, 4);
    assert_int_equal(cfg->ngroups, 2);
    /* most specific covering entry wins */
    p = pfx("203.0.113.192/26");
    m = bgp_config_match(cfg, &p);
    assert_non_null(m);
    assert_int_equal(m->prefix.len, 25);
    assert_int_equal(m->origins[0], 64501);
    assert_true(m->any_neighbor);     /* absent */
    assert_int_equal(m->max_len, 25); /* defaults to the prefix length */
    assert_true(m->no_export);
    p = pfx("203.0.113.0/25");
    m = bgp_config_match(cfg, &p);
    assert_int_equal(m->prefix.len, 24);
    assert_true(m->any_neighbor); /* null */
    assert_false(m->no_export);   /* no policies */
    p = pfx("2001:db8:ffff::/48");
    m = bgp_config_match(cfg, &p);
    assert_non_null(m);
    assert_int_equal(m->norigins, 2); /* duplicates dropped */
    assert_false(m->any_neighbor);
    assert_int_equal(m->max_len, 48);
    p = pfx("192.0.2.0/24");
    assert_int_equal(bgp_config_match(cfg, &p)->norigins, 0);
    p = pfx("203.0.112.0/23"); /* less specific: not covered */
    assert_null(bgp_config_match(cfg, &p));
    p = pfx("2001:db9::/32");
    assert_null(bgp_config_match(cfg, &p));
    assert_int_equal(bgp_config_group_of(cfg, 65031), 0);
    assert_int_equal(bgp_config_group_of(cfg, 65040), 1);
    assert_int_equal(bgp_config_group_of(cfg, 65041), -1);
    assert_string_equal(cfg->groups[1].name, "country-2");
    bgp_config_free(cfg);
}

static void expect_error(const char *doc, enum mrd_code code, const char *where)
{
    struct bgp_config *cfg = NULL;
    struct mrd_err err = {0};
    assert_int_equal(bgp_config_parse(doc, strlen(doc), &cfg, &err), code);
    assert_null(cfg);
    if (strstr(err.msg, where) == NULL)
        fail_msg("error \"%s\" does not name \"%s\"", err.msg, where);
}

static void test_config_errors_name_the_member(void **state)
{
    char big[32 + 12 * (BGP_CFG_MAX_LIST + 1)];
    size_t n;

    (void)state;
    expect_error("{\"prefixes\": [{\"prefix\": \"10.0.0.0/8\", \"origins\": [1, \"x\"]}]}",
                 MRD_E_PARSE, "prefixes[0].origins[1]");
    expect_error("{\"prefixes\": [{\"prefix\": \"10.0.0.0/8\"}, {\"prefix\": \"10.0.0.1/8\"}]}",
                 MRD_E_PARSE, "prefixes[1].prefix");
    expect_error("{\"prefixes\": [{\"prefix\": \"10.0.0.0/8\", \"max_length\": 7}]}", MRD_E_PARSE,
                 "prefixes[0].max_length");
    expect_error("{\"prefixes\": [{\"prefix\": \"10.0.0.0/8\", \"max_length\": 33}]}", MRD_E_PARSE,
                 "not between 8 and 32");
    expect_error("{\"prefixes\": [{\"prefix\": \"10.0.0.0/8\", \"origin\": [1]}]}", MRD_E_PARSE,
                 "unknown member \"origin\"");
    expect_error("{\"prefixes\": [{\"origins\": [1]}]}", MRD_E_PARSE, "prefixes[0]: no \"prefix\"");
    expect_error("{\"prefixes\": [{\"prefix\": \"10.0.0.0/8\", \"policies\": \"no-export\"}]}",
                 MRD_E_PARSE, "prefixes[0].policies: not an array");
    expect_error("{\"prefixes\": [{\"prefix\": \"10.0.0.0/8\", \"policies\": [\"no-export\", "
                 "\"no-advertise\"]}]}",
                 MRD_E_PARSE, "prefixes[0].policies[1]: not a known policy (no-export)");
    expect_error("{\"prefixes\": [{\"prefix\": \"10.0.0.0/8\"}, {\"prefix\": \"10.0.0.0/8\"}]}",
                 MRD_E_PARSE, "10.0.0.0/8 is listed twice");
    expect_error("{\"prefixes\": [{\"prefix\": \"10.0.0.0/8\", \"origins\": [4294967296]}]}",
                 MRD_E_PARSE, "prefixes[0].origins[0]");
    expect_error("{\"groups\": {\"a\": [1], \"b\": [2, 1]}}", MRD_E_PARSE,
                 "AS1 is in both a and b");
    expect_error("{\"groups\": {\"a\\u0007\": [1]}}", MRD_E_PARSE, "control character");
    expect_error("{\"groups\": []}", MRD_E_PARSE, "groups");
    expect_error("{\"prefix\": []}", MRD_E_PARSE, "unknown member \"prefix\"");
    expect_error("[1]", MRD_E_PARSE, "not a JSON object");
    expect_error("{\"prefixes\": [", MRD_E_PARSE, "config");
    n = (size_t)snprintf(big, sizeof(big), "{\"groups\": {\"a\": [");
    for (int i = 0; i <= BGP_CFG_MAX_LIST; i++)
        n += (size_t)snprintf(big + n, sizeof(big) - n, "%s%d", i ? "," : "", i);
    (void)snprintf(big + n, sizeof(big) - n, "]}}");
    expect_error(big, MRD_E_TOOBIG, "groups.a: more than 1024 ASNs");
}

static void test_config_out_of_memory(void **state)
{
    (void)state;
    for (long k = 0;; k++) {
        struct bgp_config *cfg = NULL;
        enum mrd_code rc;
        mrd_alloc_fail_after(k);
        rc = bgp_config_parse(good, strlen(good), &cfg, NULL);
        mrd_alloc_fail_after(-1);
        bgp_config_free(cfg);
        if (rc == MRD_OK)
            break;
        assert_int_equal(rc, MRD_E_NOMEM);
    }
}

static void test_asrel_parses_both_directions(void **state)
{
    static const char text[] = "# source: test\n"
                               "174|64510|-1\n"
                               "3356|174|0\n"
                               "\n"
                               "4200000001|65001|-1|bgp\r\n";
    struct bgp_asrel *rel = NULL;
    struct mrd_err err = {0};

    (void)state;
    assert_int_equal(bgp_asrel_parse(text, strlen(text), &rel, &err), MRD_OK);
    assert_int_equal(bgp_asrel_count(rel), 3);
    assert_int_equal(bgp_asrel_get(rel, 174, 64510), BGP_REL_TO_CUSTOMER);
    assert_int_equal(bgp_asrel_get(rel, 64510, 174), BGP_REL_TO_PROVIDER);
    assert_int_equal(bgp_asrel_get(rel, 174, 3356), BGP_REL_TO_PEER);
    assert_int_equal(bgp_asrel_get(rel, 3356, 174), BGP_REL_TO_PEER);
    assert_int_equal(bgp_asrel_get(rel, 65001, 4200000001u), BGP_REL_TO_PROVIDER);
    assert_int_equal(bgp_asrel_get(rel, 1, 2), BGP_REL_UNKNOWN);
    bgp_asrel_free(rel);
}

static void asrel_error(const char *text, enum mrd_code code, const char *where)
{
    struct bgp_asrel *rel = NULL;
    struct mrd_err err = {0};
    assert_int_equal(bgp_asrel_parse(text, strlen(text), &rel, &err), code);
    assert_null(rel);
    if (strstr(err.msg, where) == NULL)
        fail_msg("error \"%s\" does not name \"%s\"", err.msg, where);
}

static void test_asrel_errors_name_the_line(void **state)
{
    char longline[BGP_ASREL_MAX_LINE + 8];
    (void)state;
    asrel_error("1|2|-1\n1|2|1\n", MRD_E_PARSE, "line 2: relationship \"1\"");
    asrel_error("1|2\n", MRD_E_PARSE, "line 1: expected");
    asrel_error("1|x|0\n", MRD_E_PARSE, "line 1: \"1\" or \"x\" is not an ASN");
    asrel_error("4294967296|1|0\n", MRD_E_PARSE, "line 1");
    asrel_error("7|7|0\n", MRD_E_PARSE, "AS7 related to itself");
    asrel_error("1|2|0|a|b\n", MRD_E_PARSE, "line 1");
    memset(longline, '1', sizeof(longline) - 1);
    longline[sizeof(longline) - 1] = '\0';
    asrel_error(longline, MRD_E_TOOBIG, "line 1: longer than 256 bytes");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config_parses_and_matches),
        cmocka_unit_test(test_config_errors_name_the_member),
        cmocka_unit_test(test_config_out_of_memory),
        cmocka_unit_test(test_asrel_parses_both_directions),
        cmocka_unit_test(test_asrel_errors_name_the_line),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
