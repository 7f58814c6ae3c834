/*
 * The pure writers of interop/: what one indicator becomes in each format,
 * byte for byte, and that hostile values cannot break a format's syntax.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "interop/interop.h"

struct capture {
    char text[65536];
    size_t n;
    char files[8][64];
    size_t nfiles;
};

static enum mrd_code cap_write(void *ctx, const char *file, const char *p, size_t n,
                               struct mrd_err *err)
{
    struct capture *c = ctx;

    (void)err;
    if (file != NULL && c->nfiles < 8)
        (void)snprintf(c->files[c->nfiles++], sizeof(c->files[0]), "%s", file);
    assert_true(c->n + n < sizeof(c->text));
    memcpy(c->text + c->n, p, n);
    c->n += n;
    c->text[c->n] = '\0';
    return MRD_OK;
}

static const struct interop_ind IND = {
    .id = "indicator--00000000-0000-4000-8000-000000000001",
    .id_len = 47,
    .name = "C2 \"server\";\tx",
    .name_len = 14,
    .modified_usec = 1767225600000000LL,
    .valid_from = 1767225600000000LL,
    .valid_until = INT64_MIN,
    .confidence = 70,
    .tlp = POLICY_TLP_AMBER,
    .collection_id = "c0ffee00-0000-4000-8000-000000000000",
};

/* Runs one writer over vals; returns the values written. */
static size_t run(enum interop_format fmt, bool subdomains, const struct interop_value *vals,
                  size_t n, struct capture *c, const char **why)
{
    struct interop_writer *w = NULL;
    struct interop_sink sink = {cap_write, c};
    size_t written = 0;

    memset(c, 0, sizeof(*c));
    assert_int_equal(interop_writer_new(fmt, subdomains, &w, NULL), MRD_OK);
    assert_int_equal(interop_writer_begin(w, NULL), MRD_OK);
    assert_int_equal(interop_writer_add(w, &IND, vals, n, &written, why, NULL), MRD_OK);
    assert_int_equal(interop_writer_end(w, NULL), MRD_OK);
    assert_int_equal(interop_writer_flush(w, &sink, true, NULL), MRD_OK);
    interop_writer_free(w);
    return written;
}

static void test_suricata_domain_exact_and_suffix(void **state)
{
    struct interop_value v = {MATCH_T_DOMAIN, "Evil.Example.", 13};
    struct capture c;
    const char *why;

    (void)state;
    assert_int_equal(run(INTEROP_F_SURICATA, false, &v, 1, &c, &why), 1);
    /* lower-cased, root dot dropped, exact length; the name cannot close msg */
    assert_non_null(strstr(c.text, "alert dns any any -> any any (msg:\"Meridian: C2  server   "
                                   "x\"; dns.query; content:\"evil.example\"; nocase; bsize:12; "));
    assert_non_null(strstr(c.text, "tls.sni; content:\"evil.example\"; nocase; bsize:12;"));
    assert_non_null(strstr(c.text, "http.host; content:\"evil.example\"; bsize:12;"));
    assert_non_null(strstr(c.text, "rev:1767225600; metadata:stix_id "
                                   "indicator--00000000-0000-4000-8000-000000000001, tlp amber, "
                                   "meridian_collection c0ffee00-0000-4000-8000-000000000000;)"));
    assert_int_equal(run(INTEROP_F_SURICATA, true, &v, 1, &c, &why), 1);
    assert_non_null(strstr(c.text, "dns.query; dotprefix; content:\".evil.example\"; nocase; "
                                   "endswith;"));
}

static void test_suricata_content_is_escaped(void **state)
{
    struct interop_value v = {MATCH_T_URL, "http://x.example/a\"b;c|d\\e f", 28};
    struct capture c;
    const char *why;

    (void)state;
    assert_int_equal(run(INTEROP_F_SURICATA, false, &v, 1, &c, &why), 1);
    assert_non_null(
        strstr(c.text, "http.uri.raw; content:\"/a|22|b|3b|c|7c|d|5c|e|20|f\"; bsize:12;"));
    /* no raw quote, semicolon or pipe of the value reached the rule */
    assert_null(strstr(c.text, "a\"b"));
}

static void test_suricata_ip_and_inexpressible(void **state)
{
    struct interop_value v[] = {{MATCH_T_IPV4, "10.1.2.3/8", 10},
                                {MATCH_T_EMAIL, "a@b.example", 11},
                                {MATCH_T_IPV4, "not-an-ip", 9}};
    struct capture c;
    const char *why = NULL;

    (void)state;
    assert_int_equal(run(INTEROP_F_SURICATA, false, v, 3, &c, &why), 1);
    assert_non_null(strstr(c.text, "alert ip any any <> 10.0.0.0/8 any ("));
    assert_int_equal(run(INTEROP_F_SURICATA, false, &v[1], 1, &c, &why), 0);
    assert_string_equal(why, "Suricata has no e-mail address keyword");
}

static void test_suricata_hash_list(void **state)
{
    struct interop_value v = {MATCH_T_MD5, "D41D8CD98F00B204E9800998ECF8427E", 32};
    struct capture c;
    const char *why;

    (void)state;
    assert_int_equal(run(INTEROP_F_SURICATA, false, &v, 1, &c, &why), 1);
    assert_string_equal(c.files[0], "meridian-md5.txt");
    assert_non_null(strstr(c.text, "d41d8cd98f00b204e9800998ecf8427e\n"));
    assert_non_null(strstr(c.text, "filemd5:meridian-md5.txt;"));
}

static void test_snort_domain_wire_sni_and_host(void **state)
{
    struct interop_value v = {MATCH_T_DOMAIN, "Evil.Example.", 13};
    struct interop_value bad = {MATCH_T_DOMAIN, "a..example", 10};
    struct capture c;
    const char *why = NULL;

    (void)state;
    assert_int_equal(run(INTEROP_F_SNORT, false, &v, 1, &c, &why), 1);
    /* the query name's labels at offset 12, exact */
    assert_non_null(strstr(c.text, "alert udp any any -> any 53 (msg:\"Meridian: C2  server   "
                                   "x\"; content:\"|04|evil|07|example|00|\",offset 12,depth 14,"
                                   "nocase; sid:"));
    /* the SNI entry: type 0, 16-bit length, name */
    assert_non_null(strstr(c.text, "ssl_state:client_hello; content:\"|00 00 0c|evil.example\","
                                   "nocase; service:ssl;"));
    assert_non_null(strstr(c.text, "http_header:field host; content:\"evil.example\",nocase; "
                                   "bufferlen:12; service:http;"));
    assert_non_null(strstr(c.text, "metadata:stix_id indicator--00000000-0000-4000-8000-"
                                   "000000000001, tlp amber, meridian_collection"));
    assert_int_equal(run(INTEROP_F_SNORT, true, &v, 1, &c, &why), 1);
    assert_non_null(strstr(c.text, "content:\"|04|evil|07|example|00|\",nocase; sid:"));
    assert_non_null(strstr(c.text, "pcre:\"/(^|\\.)evil\\x2eexample$/i\";"));
    /* an empty label has no wire form */
    assert_int_equal(run(INTEROP_F_SNORT, false, &bad, 1, &c, &why), 0);
    assert_non_null(strstr(why, "not a DNS name"));
}

static void test_snort_sid_is_suricatas_and_hashes_are_inexpressible(void **state)
{
    struct interop_value v[] = {{MATCH_T_IPV4, "198.51.100.7", 12},
                                {MATCH_T_SHA256, "ab", 2},
                                {MATCH_T_URL, "http://x.example:8080/a;b", 25}};
    struct capture c;
    char sur[512];
    const char *why = NULL, *p;

    (void)state;
    assert_int_equal(run(INTEROP_F_SURICATA, false, v, 1, &c, &why), 1);
    p = strstr(c.text, "sid:");
    assert_non_null(p);
    (void)snprintf(sur, sizeof(sur), "%.*s", (int)(strchr(p, ';') - p), p);
    assert_int_equal(run(INTEROP_F_SNORT, false, v, 3, &c, &why), 2);
    assert_non_null(strstr(c.text, "alert ip any any <> 198.51.100.7 any ("));
    assert_non_null(strstr(c.text, sur)); /* the same stable sid */
    assert_non_null(strstr(c.text, "http_header:field host; content:\"x.example\",nocase; "
                                   "bufferlen:9; http_raw_uri; content:\"/a|3b|b\"; bufferlen:4;"));
    assert_int_equal(run(INTEROP_F_SNORT, false, &v[1], 1, &c, &why), 0);
    assert_string_equal(why, "Snort 3 rules have no file hash list (hashes go in its file_policy)");
}

static void test_suricata_datasets_sets_and_map(void **state)
{
    struct interop_value v[] = {{MATCH_T_DOMAIN, "Evil.Example", 12},
                                {MATCH_T_IPV4, "10.1.2.3/8", 10},
                                {MATCH_T_EMAIL, "a@b.example", 11}};
    struct capture c;
    const char *why = NULL;

    (void)state;
    assert_int_equal(run(INTEROP_F_SURICATA_DS, false, v, 3, &c, &why), 2);
    assert_non_null(strstr(c.text, "ZXZpbC5leGFtcGxl\n")); /* base64("evil.example") */
    assert_non_null(strstr(c.text, "10.0.0.0/8,1,100\n"));
    assert_non_null(strstr(c.text, "1,meridian,Meridian indicators\n"));
    assert_non_null(strstr(c.text, "list,value,indicator_id\ndomain,evil.example,indicator--"));
    assert_non_null(strstr(c.text, "dns.query; to_lowercase; dataset:isset,meridian-domain,type "
                                   "string,load meridian-domain.lst;"));
    assert_non_null(strstr(c.text, "iprep:any,meridian,>,0;"));
    /* the rule count does not grow with the values: 3 + 1 */
    {
        size_t rules = 0;
        for (const char *p = c.text; (p = strstr(p, "\nalert ")) != NULL; p++)
            rules++;
        assert_int_equal(rules, 4);
    }
}

static void test_sid_is_stable_and_in_range(void **state)
{
    uint32_t a = interop_sid(IND.id, IND.id_len, "dns");

    (void)state;
    assert_int_equal(a, interop_sid(IND.id, IND.id_len, "dns"));
    assert_int_not_equal(a, interop_sid(IND.id, IND.id_len, "tls"));
    assert_true(a >= INTEROP_SID_BASE && a < INTEROP_SID_BASE + INTEROP_SID_RANGE);
}

static void test_zeek_line(void **state)
{
    struct interop_value v[] = {{MATCH_T_URL, "https://x.example/p", 19},
                                {MATCH_T_IPV6, "2001:DB8::1/64", 14},
                                {MATCH_T_DOMAIN, "bad\tname", 8}};
    struct capture c;
    const char *why;

    (void)state;
    assert_int_equal(run(INTEROP_F_ZEEK, false, v, 3, &c, &why), 2);
    assert_string_equal(c.text,
                        "#fields\tindicator\tindicator_type\tmeta.source\tmeta.desc\tmeta.url\n"
                        "x.example/p\tIntel::URL\tindicator--00000000-0000-4000-8000-000000000001"
                        "\tC2 \"server\"; x\t-\n"
                        "2001:db8::/64\tIntel::SUBNET\tindicator--00000000-0000-4000-8000-"
                        "000000000001\tC2 \"server\"; x\t-\n");
}

static void test_nft_and_ipset(void **state)
{
    struct interop_value v[] = {{MATCH_T_IPV4, "192.0.2.1", 9}, {MATCH_T_IPV6, "2001:db8::2", 11}};
    struct capture c;
    const char *why;

    (void)state;
    assert_int_equal(run(INTEROP_F_NFT, false, v, 2, &c, &why), 2);
    assert_non_null(strstr(c.text, "add element inet meridian indicators_v4 { 192.0.2.1 }\n"));
    assert_non_null(strstr(c.text, "add element inet meridian indicators_v6 { 2001:db8::2 }\n"));
    assert_int_equal(run(INTEROP_F_IPSET, false, v, 2, &c, &why), 2);
    assert_non_null(strstr(c.text, "create meridian-v4 hash:net family inet "));
    assert_non_null(strstr(c.text, "add meridian-v4 192.0.2.1 -exist\n"));
    assert_non_null(strstr(c.text, "add meridian-v6 2001:db8::2 -exist\n"));
}

static void test_csv_guards_formulas(void **state)
{
    struct interop_value v = {MATCH_T_DOMAIN, "=cmd|x,y", 8};
    struct capture c;
    const char *why;

    (void)state;
    assert_int_equal(run(INTEROP_F_CSV, false, &v, 1, &c, &why), 1);
    assert_non_null(strstr(c.text, "\ndomain,\"'=cmd|x,y\",indicator--"));
    assert_non_null(strstr(c.text, ",amber,70,2026-01-01T00:00:00.000Z,,\n"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_suricata_domain_exact_and_suffix),
        cmocka_unit_test(test_suricata_content_is_escaped),
        cmocka_unit_test(test_suricata_ip_and_inexpressible),
        cmocka_unit_test(test_suricata_hash_list),
        cmocka_unit_test(test_snort_domain_wire_sni_and_host),
        cmocka_unit_test(test_snort_sid_is_suricatas_and_hashes_are_inexpressible),
        cmocka_unit_test(test_suricata_datasets_sets_and_map),
        cmocka_unit_test(test_sid_is_stable_and_in_range),
        cmocka_unit_test(test_zeek_line),
        cmocka_unit_test(test_nft_and_ipset),
        cmocka_unit_test(test_csv_guards_formulas),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
