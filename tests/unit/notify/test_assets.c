/* notify: the asset index. Parsing assets as operators type them (and the
 * errors for what they get wrong), routing values and whole objects to the
 * most specific owner, and the overlaps that hold a claim for approval. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "notify/notify.h"

static void parses(const char *kind, const char *text, enum notify_akind want, const char *shown)
{
    struct notify_asset a;
    struct mrd_err err = {0};
    char out[NOTIFY_ASSET_TEXT_MAX + 2];

    assert_int_equal(notify_asset_parse(kind, text, &a, &err), MRD_OK);
    assert_int_equal(a.kind, want);
    (void)notify_asset_format(&a, out, sizeof(out));
    assert_string_equal(out, shown);
}

static void refuses(const char *kind, const char *text, const char *msg_part)
{
    struct notify_asset a;
    struct mrd_err err = {0};

    assert_int_equal(notify_asset_parse(kind, text, &a, &err), MRD_E_INVAL);
    if (strstr(err.msg, msg_part) == NULL)
        fail_msg("'%s': message '%s' lacks '%s'", text, err.msg, msg_part);
}

static void test_parse(void **state)
{
    char big[NOTIFY_ASSET_TEXT_MAX + 8];

    (void)state;
    parses(NULL, "AS65010", NOTIFY_A_ASN, "AS65010");
    parses(NULL, "as4200000000", NOTIFY_A_ASN, "AS4200000000");
    parses(NULL, "65010", NOTIFY_A_ASN, "AS65010");
    parses(NULL, "10.1.0.0/16", NOTIFY_A_PREFIX, "10.1.0.0/16");
    parses(NULL, "192.0.2.7", NOTIFY_A_PREFIX, "192.0.2.7");
    parses(NULL, "2001:DB8::/32", NOTIFY_A_PREFIX, "2001:db8:0:0:0:0:0:0/32");
    parses(NULL, "Gov.Example.", NOTIFY_A_DOMAIN, "gov.example");
    parses(NULL, "@Mail.Example", NOTIFY_A_EMAIL, "@mail.example");
    parses("host", "www.bank.example", NOTIFY_A_HOST, "www.bank.example");
    parses("prefix", "2001:db8::1", NOTIFY_A_PREFIX, "2001:db8:0:0:0:0:0:1");

    refuses(NULL, "AS0", "reserved");
    refuses("asn", "AS23456", "reserved");
    refuses("asn", "AS4294967296", "AS1..AS4294967295");
    refuses(NULL, "10.1.2.3/16", "the network is 10.1.0.0/16");
    refuses(NULL, "10.1.2.3/33", "IPv4 or IPv6");
    refuses(NULL, "300.1.2.3", "IPv4 or IPv6");
    refuses(NULL, "localhost", "at least two labels");
    refuses(NULL, "bad name.example", "at least two labels");
    refuses("email", "mail.example", "@DOMAIN");
    refuses("prefix", "gov.example", "IPv4 or IPv6");
    refuses("bogus", "gov.example", "asn, prefix, domain, email or host");
    refuses(NULL, "", "empty");
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    refuses(NULL, big, "longer than");
}

/* ---- routing ---- */

static struct notify_asset asset(int64_t org, const char *kind, const char *text)
{
    struct notify_asset a;
    struct mrd_err err = {0};

    if (notify_asset_parse(kind, text, &a, &err) != MRD_OK)
        fail_msg("%s: %s", text, err.msg);
    a.org = org;
    a.id = org * 100;
    return a;
}

static struct notify_index *ix;

static int setup(void **state)
{
    struct notify_asset a[] = {
        asset(1, NULL, "10.0.0.0/8"),      asset(2, NULL, "10.1.0.0/16"),
        asset(3, NULL, "2001:db8::/32"),   asset(4, NULL, "gov.example"),
        asset(5, NULL, "mfa.gov.example"), asset(6, "host", "www.bank.example"),
        asset(7, NULL, "@mail.example"),   asset(8, NULL, "AS65010"),
        asset(9, NULL, "10.1.0.0/16"), /* declared twice (approved overlap) */
        asset(1, NULL, "AS64500"),
    };
    struct mrd_err err = {0};

    (void)state;
    assert_int_equal(notify_index_build(a, sizeof(a) / sizeof(a[0]), &ix, &err), MRD_OK);
    assert_int_equal(notify_index_size(ix), 10);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    notify_index_free(ix);
    ix = NULL;
    return 0;
}

/* Hits collected as "org:how" in order, comma-separated. */
struct got {
    char s[8192];
};

static enum mrd_code collect(void *ctx, const struct notify_hit *h, struct mrd_err *err)
{
    struct got *g = ctx;
    size_t n = strlen(g->s);

    (void)err;
    snprintf(g->s + n, sizeof(g->s) - n, "%s%lld:%d", n ? "," : "", (long long)h->asset->org,
             (int)h->how);
    return MRD_OK;
}

static void routes(const char *value, const char *want)
{
    struct store_value v;
    struct got g = {{0}};
    struct mrd_err err = {0};

    assert_int_equal(store_value_parse(value, strlen(value), &v, &err), MRD_OK);
    assert_int_equal(notify_route_value(ix, &v, collect, &g, &err), MRD_OK);
    if (strcmp(g.s, want) != 0)
        fail_msg("%s: got '%s', want '%s'", value, g.s, want);
}

static void test_route_values(void **state)
{
    (void)state;
    /* longest-prefix match: the /16's owners, not the /8's */
    routes("10.1.2.3", "2:1,9:1");
    routes("10.2.0.1", "1:1");
    routes("10.1.0.0/16", "2:0,9:0");
    /* a CIDR holding declared prefixes reaches their owners too */
    routes("10.0.0.0/8", "1:0,2:2,9:2");
    routes("10.0.0.0/7", "1:2,2:2,9:2");
    routes("11.0.0.1", "");
    routes("2001:db8:1::1", "3:1");
    routes("2001:db9::1", "");
    /* domains: the longest declared suffix */
    routes("a.mfa.gov.example", "5:1");
    routes("mfa.gov.example", "5:0");
    routes("x.gov.example", "4:1");
    routes("gov.example", "4:0");
    routes("notgov.example", "");
    /* a host asset is that name only */
    routes("www.bank.example", "6:0");
    routes("a.www.bank.example", "");
    /* e-mail: by the address's domain; an e-mail domain is not a host */
    routes("alice@mail.example", "7:0");
    routes("bob@sub.mail.example", "7:1");
    routes("mail.example", "");
    routes("carol@x.gov.example", "4:1");
    /* URLs reach nobody by themselves (their host is its own value) */
    routes("http://x.gov.example/a", "");
}

static void test_route_object(void **state)
{
    const char *ind =
        "{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"indicator--"
        "8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f\",\"pattern_type\":\"stix\",\"pattern\":"
        "\"[ipv4-addr:value = '10.1.2.3'] OR [ipv4-addr:value = '10.1.9.9'] OR "
        "[domain-name:value = 'x.mfa.gov.example'] OR [url:value = 'http://www.bank.example/']\"}";
    const char *as =
        "{\"type\":\"autonomous-system\",\"spec_version\":\"2.1\",\"id\":"
        "\"autonomous-system--f822c34b-98ae-597f-ade5-27dc241e8c74\",\"number\":65010}";
    const char *other =
        "{\"type\":\"ipv4-addr\",\"spec_version\":\"2.1\",\"id\":"
        "\"ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd\",\"value\":\"11.0.0.1\"}";
    struct got g = {{0}};
    struct mrd_err err = {0};

    (void)state;
    /* two addresses in the same /16: each owner once; the URL's host too */
    assert_int_equal(notify_route_object(ix, ind, strlen(ind), collect, &g, &err), MRD_OK);
    assert_string_equal(g.s, "2:1,9:1,5:1,6:0");
    memset(&g, 0, sizeof(g));
    assert_int_equal(notify_route_object(ix, as, strlen(as), collect, &g, &err), MRD_OK);
    assert_string_equal(g.s, "8:0");
    memset(&g, 0, sizeof(g));
    assert_int_equal(notify_route_object(ix, other, strlen(other), collect, &g, &err), MRD_OK);
    assert_string_equal(g.s, "");
    /* garbage routes nowhere and is no error */
    assert_int_equal(notify_route_object(ix, "{\"type\":", 8, collect, &g, &err), MRD_OK);
    assert_string_equal(g.s, "");
}

static void overlaps(int64_t org, const char *kind, const char *text, const char *want)
{
    struct notify_asset a = asset(org, kind, text);
    struct got g = {{0}};
    struct mrd_err err = {0};

    assert_int_equal(notify_overlaps(ix, &a, collect, &g, &err), MRD_OK);
    if (strcmp(g.s, want) != 0)
        fail_msg("%s: got '%s', want '%s'", text, g.s, want);
}

static void test_overlaps(void **state)
{
    (void)state;
    /* inside two declared prefixes: every holder, not only the closest */
    overlaps(20, NULL, "10.1.128.0/17", "2:1,9:1,1:1");
    overlaps(20, NULL, "10.0.0.0/7", "1:2,2:2,9:2");
    overlaps(20, NULL, "192.0.2.0/24", "");
    /* the claimant's own declarations are no overlap */
    overlaps(2, NULL, "10.1.0.0/17", "9:1,1:1");
    /* names: at, above and below */
    overlaps(20, NULL, "gov.example", "4:0,5:2");
    overlaps(20, NULL, "a.mfa.gov.example", "5:1,4:1");
    overlaps(20, "host", "www.bank.example", "6:0");
    overlaps(20, NULL, "bank.example", "6:2");
    overlaps(20, NULL, "AS65010", "8:0");
    overlaps(20, NULL, "AS65011", "");
}

static void test_empty_and_limits(void **state)
{
    struct notify_index *e = NULL;
    struct store_value v;
    struct got g = {{0}};
    struct mrd_err err = {0};
    enum { N = 1000 };
    struct notify_asset *many = calloc(N, sizeof(*many));

    (void)state;
    assert_int_equal(notify_index_build(NULL, 0, &e, &err), MRD_OK);
    assert_int_equal(store_value_parse("10.0.0.1", 8, &v, &err), MRD_OK);
    assert_int_equal(notify_route_value(e, &v, collect, &g, &err), MRD_OK);
    assert_string_equal(g.s, "");
    notify_index_free(e);

    /* a /8 holding a thousand declared /24s reports at most NOTIFY_HOLDS_MAX */
    assert_non_null(many);
    for (int i = 0; i < N; i++) {
        char t[32];
        snprintf(t, sizeof(t), "10.%d.%d.0/24", i / 256, i % 256);
        many[i] = asset(i + 1, NULL, t);
    }
    assert_int_equal(notify_index_build(many, N, &e, &err), MRD_OK);
    {
        struct got big = {{0}};
        size_t commas = 0;
        assert_int_equal(store_value_parse("10.0.0.0/8", 10, &v, &err), MRD_OK);
        assert_int_equal(notify_route_value(e, &v, collect, &big, &err), MRD_OK);
        for (const char *p = big.s; *p; p++)
            commas += *p == ',';
        assert_int_equal(commas + 1, NOTIFY_HOLDS_MAX);
    }
    notify_index_free(e);
    free(many);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),
        cmocka_unit_test_setup_teardown(test_route_values, setup, teardown),
        cmocka_unit_test_setup_teardown(test_route_object, setup, teardown),
        cmocka_unit_test_setup_teardown(test_overlaps, setup, teardown),
        cmocka_unit_test(test_empty_and_limits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
