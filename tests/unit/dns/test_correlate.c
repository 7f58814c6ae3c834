/* Unit tests for dns/correlate.c: the origins of the ASN excuse from the
 * routing sensor before the pfx2as table, and findings linked to the open
 * routing alerts of their addresses and, for outages, the visibility of
 * the name servers' prefixes. The routing sensor is a canned table behind
 * struct dns_routing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "dns/dns.h"

/* The canned routing sensor: 203.0.113.0/24 routed from AS 64500 with a
 * hijack of 203.0.113.128/25 open; 198.51.100.0/24 routed from AS 64500
 * too; 192.0.2.53 in a /24 withdrawn at 1000 (its last origin AS 64530,
 * of a group with an open outage); nothing else. */
static bool fake_lookup(void *ctx, const char *addr, struct dns_route_info *ret)
{
    (void)ctx;
    memset(ret, 0, sizeof(*ret));
    if (strncmp(addr, "203.0.113.", 10) == 0 || strncmp(addr, "198.51.100.", 11) == 0) {
        ret->routed = true;
        (void)snprintf(ret->prefix, sizeof(ret->prefix), "%s",
                       addr[0] == '2' ? "203.0.113.0/24" : "198.51.100.0/24");
        ret->routes = 3;
        ret->norigins = 1;
        ret->origins[0] = 64500;
        return true;
    }
    if (strcmp(addr, "192.0.2.53") == 0) {
        ret->withdrawn = true;
        (void)snprintf(ret->withdrawn_prefix, sizeof(ret->withdrawn_prefix), "192.0.2.0/24");
        ret->withdrawn_at = 1000;
        ret->withdrawn_norigins = 1;
        ret->withdrawn_origins[0] = 64530;
        return true;
    }
    return false;
}

static json_t *fake_alerts(void *ctx, const char *addr)
{
    (void)ctx;
    if (strcmp(addr, "203.0.113.200") == 0 || strcmp(addr, "203.0.113.201") == 0)
        return json_pack("[{s:s, s:s, s:s}]", "id", "observed-data--h1", "kind", "hijack", "prefix",
                         "203.0.113.128/25");
    if (strcmp(addr, "192.0.2.53") == 0)
        return json_pack("[{s:s, s:s, s:s}]", "id", "observed-data--o1", "kind", "outage", "group",
                         "country-1");
    return json_array();
}

static const struct dns_routing R = {fake_lookup, fake_alerts, NULL};

static void test_origins_from_the_rib_then_pfx2as(void **state)
{
    static const char table_text[] = "198.51.100.0\t24\t64999\n45.33.32.0\t24\t63949\n";
    struct dns_asn_table *table;
    uint32_t o[DNS_MAX_ORIGINS];
    const char *src;

    (void)state;
    assert_int_equal(dns_asn_table_parse(table_text, strlen(table_text), &table, NULL), MRD_OK);
    /* the routes seen win over the table */
    assert_int_equal(dns_origins_of(&R, table, "198.51.100.9", o, &src), 1);
    assert_int_equal(o[0], 64500);
    assert_string_equal(src, "rib");
    /* no route: the table */
    assert_int_equal(dns_origins_of(&R, table, "45.33.32.66", o, &src), 1);
    assert_int_equal(o[0], 63949);
    assert_string_equal(src, "pfx2as");
    /* a withdrawn prefix is no route to take an origin from */
    assert_int_equal(dns_origins_of(&R, table, "192.0.2.53", o, &src), 0);
    assert_null(src);
    /* without the routing sensor: the table alone */
    assert_int_equal(dns_origins_of(NULL, table, "198.51.100.9", o, &src), 1);
    assert_int_equal(o[0], 64999);
    assert_string_equal(src, "pfx2as");
    assert_int_equal(dns_origins_of(NULL, NULL, "198.51.100.9", o, &src), 0);
    assert_null(src);
    dns_asn_table_free(table);
}

static json_t *finding(const char *kind, json_t *observed)
{
    json_t *f = json_pack("{s:s, s:s, s:s, s:s, s:o}", "kind", kind, "zone", "example.tld.", "name",
                          "www.example.tld.", "vantage", "isp-2", "observed", observed);
    assert_non_null(f);
    return f;
}

static void test_findings_link_open_routing_alerts(void **state)
{
    json_t *base = json_pack("{s:[{s:s, s:{s:[s]}}]}", "zones", "zone", "example.tld.", "glue",
                             "ns1.example.tld.", "192.0.2.53");
    json_t *found = json_array(), *rel;

    (void)state;
    /* a forged answer in the hijacked prefix (two addresses: one link) */
    json_array_append_new(
        found, finding("divergence", json_pack("[s, s]", "203.0.113.200", "203.0.113.201")));
    /* a forged answer outside any alert */
    json_array_append_new(found, finding("divergence", json_pack("[s]", "198.51.100.9")));
    /* a delegation whose new glue is in the hijacked prefix */
    json_array_append_new(
        found, finding("delegation", json_pack("{s:[s]}", "ns9.example.tld.", "203.0.113.200")));
    /* a dnssec finding is never linked */
    json_array_append_new(found, finding("dnssec", json_string("203.0.113.200")));
    json_array_append_new(found, finding("outage", json_string("timeout")));
    assert_int_equal(dns_findings_correlate(found, base, &R, NULL), MRD_OK);

    rel = json_object_get(json_array_get(found, 0), "related");
    assert_int_equal(json_array_size(rel), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(rel, 0), "id")),
                        "observed-data--h1");
    assert_string_equal(json_string_value(json_object_get(json_array_get(rel, 0), "kind")),
                        "hijack");
    assert_string_equal(json_string_value(json_object_get(json_array_get(rel, 0), "prefix")),
                        "203.0.113.128/25");
    assert_string_equal(json_string_value(json_object_get(json_array_get(rel, 0), "address")),
                        "203.0.113.200");
    assert_null(json_object_get(json_array_get(found, 1), "related"));
    assert_null(json_object_get(json_array_get(found, 1), "routing"));
    rel = json_object_get(json_array_get(found, 2), "related");
    assert_int_equal(json_array_size(rel), 1);
    assert_null(json_object_get(json_array_get(found, 3), "related"));

    /* the outage: its name server's prefix withdrawn, the outage alert linked */
    json_t *o = json_array_get(found, 4), *vis = json_object_get(o, "routing");
    assert_int_equal(json_array_size(vis), 1);
    json_t *v = json_array_get(vis, 0);
    assert_string_equal(json_string_value(json_object_get(v, "address")), "192.0.2.53");
    assert_true(json_is_false(json_object_get(v, "routed")));
    assert_true(json_is_true(json_object_get(v, "withdrawn")));
    assert_string_equal(json_string_value(json_object_get(v, "withdrawn_prefix")), "192.0.2.0/24");
    assert_string_equal(json_string_value(json_object_get(v, "withdrawn_at")),
                        "1970-01-01T00:16:40.000Z");
    assert_int_equal(json_integer_value(json_array_get(json_object_get(v, "withdrawn_origins"), 0)),
                     64530);
    rel = json_object_get(o, "related");
    assert_int_equal(json_array_size(rel), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(rel, 0), "group")),
                        "country-1");

    /* no routing sensor: nothing changes */
    json_t *copy = json_deep_copy(found);
    assert_int_equal(dns_findings_correlate(copy, base, NULL, NULL), MRD_OK);
    assert_true(json_equal(copy, found));
    json_decref(copy);
    json_decref(found);
    json_decref(base);
}

static void test_outage_with_routed_name_servers(void **state)
{
    json_t *base =
        json_pack("{s:[{s:s, s:{s:[s], s:[s]}}]}", "zones", "zone", "example.tld.", "glue",
                  "ns1.example.tld.", "198.51.100.53", "ns2.example.tld.", "10.9.9.9");
    json_t *found = json_array(), *vis;

    (void)state;
    json_array_append_new(found, finding("outage-end", json_null()));
    assert_int_equal(dns_findings_correlate(found, base, &R, NULL), MRD_OK);
    vis = json_object_get(json_array_get(found, 0), "routing");
    assert_int_equal(json_array_size(vis), 2);
    /* glue in the baseline's order of names */
    json_t *a = json_array_get(vis, 0), *b = json_array_get(vis, 1);
    assert_string_equal(json_string_value(json_object_get(a, "address")), "198.51.100.53");
    assert_true(json_is_true(json_object_get(a, "routed")));
    assert_string_equal(json_string_value(json_object_get(a, "prefix")), "198.51.100.0/24");
    assert_true(json_is_false(json_object_get(a, "withdrawn")));
    assert_int_equal(json_integer_value(json_object_get(a, "routes")), 3);
    /* never routed: known to be unknown */
    assert_string_equal(json_string_value(json_object_get(b, "address")), "10.9.9.9");
    assert_true(json_is_false(json_object_get(b, "routed")));
    assert_null(json_object_get(b, "withdrawn"));
    assert_null(json_object_get(json_array_get(found, 0), "related"));
    json_decref(found);
    json_decref(base);
}

/* Alerts withheld (their TLP is stricter than the DNS alerts'): no link,
 * the visibility of the outage's name servers still. */
static void test_alerts_withheld(void **state)
{
    const struct dns_routing quiet = {fake_lookup, NULL, NULL};
    json_t *base = json_pack("{s:[{s:s, s:{s:[s]}}]}", "zones", "zone", "example.tld.", "glue",
                             "ns1.example.tld.", "192.0.2.53");
    json_t *found = json_array();

    (void)state;
    json_array_append_new(found, finding("divergence", json_pack("[s]", "203.0.113.200")));
    json_array_append_new(found, finding("outage", json_null()));
    assert_int_equal(dns_findings_correlate(found, base, &quiet, NULL), MRD_OK);
    assert_null(json_object_get(json_array_get(found, 0), "related"));
    assert_null(json_object_get(json_array_get(found, 1), "related"));
    assert_int_equal(json_array_size(json_object_get(json_array_get(found, 1), "routing")), 1);
    json_decref(found);
    json_decref(base);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_origins_from_the_rib_then_pfx2as),
        cmocka_unit_test(test_findings_link_open_routing_alerts),
        cmocka_unit_test(test_outage_with_routed_name_servers),
        cmocka_unit_test(test_alerts_withheld),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
