/*
 * test_config.c: the watch configuration of `meridian dns`
 * (src/dns/config.c): the example, defaults, and errors that name
 * the member at fault.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "dns/dns.h"

static void test_full(void **state)
{
    const char *c =
        "{\"root\": {\"servers\": [\"10.53.0.1\", \"10.53.0.2:5353\", \"[::1]:53\"],"
        " \"trust_anchor\": \"root.key\"},"
        " \"zones\": [{\"zone\": \"example.\", \"probe_names\": [\"www.example.\"]},"
        "             {\"zone\": \"gov.example\"}],"
        " \"vantages\": [{\"name\": \"isp-1\", \"server\": \"10.53.0.9\"}], \"interval\": 30}";
    struct dns_config *cfg = NULL;
    struct mrd_err err = {0};
    char s[DNS_MAX_NAME_STR];

    (void)state;
    assert_int_equal(dns_config_parse(c, strlen(c), &cfg, &err), MRD_OK);
    assert_int_equal(cfg->nroots, 3);
    assert_string_equal(cfg->roots[1], "10.53.0.2:5353");
    assert_string_equal(cfg->trust_anchor, "root.key");
    assert_int_equal(cfg->nzones, 2);
    dns_name_format(&cfg->zones[1].zone, s);
    assert_string_equal(s, "gov.example.");
    assert_int_equal(cfg->zones[0].nprobes, 1);
    assert_int_equal(cfg->nvantages, 1);
    assert_string_equal(cfg->vantages[0].name, "isp-1");
    assert_int_equal(cfg->interval, 30);
    dns_config_free(cfg);
}

static void test_defaults(void **state)
{
    const char *c = "{\"zones\": [{\"zone\": \"example.\"}]}";
    struct dns_config *cfg = NULL;

    (void)state;
    assert_int_equal(dns_config_parse(c, strlen(c), &cfg, NULL), MRD_OK);
    assert_int_equal(cfg->nroots, 13); /* the IANA root servers */
    assert_string_equal(cfg->roots[0], "198.41.0.4");
    assert_int_equal(cfg->interval, 60);
    assert_int_equal(cfg->nvantages, 0);
    assert_int_equal(cfg->expiry_warn, 3 * 86400);
    assert_int_equal(cfg->alert_refresh, 3600);
    assert_false(cfg->validate);
    dns_config_free(cfg);
}

static void test_validator_and_expiry_warning(void **state)
{
    const char *c =
        "{\"zones\": [{\"zone\": \"example.\"}], \"expiry_warning\": 7200, \"alert_refresh\": 600,"
        " \"validator\": true, \"root\": {\"trust_anchor\": \"root.key\"}}";
    struct dns_config *cfg = NULL;

    (void)state;
    assert_int_equal(dns_config_parse(c, strlen(c), &cfg, NULL), MRD_OK);
    assert_int_equal(cfg->expiry_warn, 7200);
    assert_int_equal(cfg->alert_refresh, 600);
    assert_true(cfg->validate);
    dns_config_free(cfg);
}

static void expect(const char *c, enum mrd_code code, const char *what)
{
    struct dns_config *cfg = NULL;
    struct mrd_err err = {0};
    assert_int_equal(dns_config_parse(c, strlen(c), &cfg, &err), code);
    assert_null(cfg);
    if (strstr(err.msg, what) == NULL)
        fail_msg("error \"%s\" lacks \"%s\"", err.msg, what);
}

static void test_errors(void **state)
{
    (void)state;
    expect("{}", MRD_E_PARSE, "zones: missing");
    expect("{\"zones\": [{\"zone\": \"a..b\"}]}", MRD_E_PARSE, "zones[0].zone: dns: name");
    expect("{\"zones\": [{\"zone\": \"example.\", \"probe_names\": [\"www.other.\"]}]}",
           MRD_E_PARSE, "zones[0].probe_names[0]: not inside the zone");
    expect("{\"zones\": [{\"zone\": \"a.\"}, {\"zone\": \"A\"}]}", MRD_E_PARSE,
           "zones[1].zone: already watched in zones[0]");
    expect("{\"zones\": [{\"zone\": \"a.\"}], \"root\": {\"servers\": [\"10.0.0.1:99999\"]}}",
           MRD_E_PARSE, "root.servers[0]");
    expect("{\"zones\": [{\"zone\": \"a.\"}], \"vantages\": [{\"name\": \"authoritative\", "
           "\"server\": \"10.0.0.1\"}]}",
           MRD_E_PARSE, "vantages[0].name");
    expect("{\"zones\": [{\"zone\": \"a.\"}], \"interval\": 0}", MRD_E_PARSE, "interval");
    expect("{\"zones\": [{\"zone\": \"a.\"}], \"vantages\": [{\"name\": \"validator\", "
           "\"server\": \"10.0.0.1\"}]}",
           MRD_E_PARSE, "vantages[0].name");
    expect("{\"zones\": [{\"zone\": \"a.\"}], \"expiry_warning\": -1}", MRD_E_PARSE,
           "expiry_warning: not seconds");
    expect("{\"zones\": [{\"zone\": \"a.\"}], \"alert_refresh\": 0}", MRD_E_PARSE,
           "alert_refresh: not seconds");
    expect("{\"zones\": [{\"zone\": \"a.\"}], \"validator\": 1}", MRD_E_PARSE,
           "validator: not true or false");
    expect("{\"zones\": [{\"zone\": \"a.\"}], \"validator\": true}", MRD_E_PARSE,
           "validator: needs root.trust_anchor");
    expect("{\"zones\": [{\"zone\": \"a.\"}], \"bogus\": 1}", MRD_E_PARSE,
           "unknown member \"bogus\"");
    expect("{\"zones\": [{\"zone\": \"a.\"}], \"excuses\": []}", MRD_E_PARSE,
           "excuses: not an object");
    expect("{\"zones\": [{\"zone\": \"a.\"}], \"excuses\": {\"asn_table\": \"\"}}", MRD_E_PARSE,
           "excuses.asn_table: not a path");
    expect("{\"zones\": [{\"zone\": \"a.\"}], \"excuses\": {\"tls_ca\": 1}}", MRD_E_PARSE,
           "excuses.tls_ca: not a path");
    expect("{\"zones\": [{\"zone\": \"a.\"}], \"excuses\": {\"tls_port\": 0}}", MRD_E_PARSE,
           "excuses.tls_port");
    expect("{\"zones\": [{\"zone\": \"a.\"}], \"excuses\": {\"tls_timeout_ms\": 30001}}",
           MRD_E_PARSE, "excuses.tls_timeout_ms");
    expect("{\"zones\": [{\"zone\": \"a.\"}], \"excuses\": {\"asn\": 1}}", MRD_E_PARSE,
           "excuses: unknown member \"asn\"");
    expect("{\"zones\": [", MRD_E_PARSE, "config");
}

/* "excuses": the paths kept, the TLS port and timeout with their defaults. */
static void test_excuses(void **state)
{
    const char *c = "{\"zones\": [{\"zone\": \"a.\"}], \"excuses\": {\"asn_table\": "
                    "\"pfx2as.txt\", \"tls_ca\": \"ca.pem\", \"tls_port\": 8443}}";
    const char *d = "{\"zones\": [{\"zone\": \"a.\"}]}";
    struct dns_config *cfg = NULL;

    (void)state;
    assert_int_equal(dns_config_parse(c, strlen(c), &cfg, NULL), MRD_OK);
    assert_string_equal(cfg->asn_table_path, "pfx2as.txt");
    assert_null(cfg->asn_table); /* read by dns_config_load_files */
    assert_string_equal(cfg->tls_ca, "ca.pem");
    assert_int_equal(cfg->tls_port, 8443);
    assert_int_equal(cfg->tls_timeout_ms, DNS_DEFAULT_TLS_TIMEOUT_MS);
    dns_config_free(cfg);
    assert_int_equal(dns_config_parse(d, strlen(d), &cfg, NULL), MRD_OK);
    assert_string_equal(cfg->asn_table_path, "");
    assert_string_equal(cfg->tls_ca, "");
    assert_int_equal(cfg->tls_port, 443);
    dns_config_free(cfg);
}

static void test_server_syntax(void **state)
{
    (void)state;
    assert_true(dns_server_valid("192.0.2.1"));
    assert_true(dns_server_valid("192.0.2.1:5353"));
    assert_true(dns_server_valid("2001:db8::1"));
    assert_true(dns_server_valid("[2001:db8::1]:53"));
    assert_false(dns_server_valid("192.0.2.1:0"));
    assert_false(dns_server_valid("ns.example"));
    assert_false(dns_server_valid("[2001:db8::1]"));
    assert_false(dns_server_valid(""));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full),          cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_errors),        cmocka_unit_test(test_validator_and_expiry_warning),
        cmocka_unit_test(test_server_syntax), cmocka_unit_test(test_excuses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
