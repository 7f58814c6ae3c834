/*
 * test_wire.c: DNS messages (src/dns/wire.c, name.c): records of every
 * decoded type, compression and its abuse, EDNS0 with Extended DNS
 * Errors, limits, the query builder, key tags and DS digests.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dns/dns.h"
#include "msgbuild.h"

/* ldns-keygen -a ECDSAP256SHA256 -k example. and ldns-key2ds -n -1/-2 on it:
 * an independent implementation's key tag and digests. */
static const char key_rdata_hex[] =
    "0101030d48bbbd1c8ed7c743bddefcc95b28fb80cb3d9cd930a956876aec1d8a9bca13862e5b76eae1c837e1cdcd"
    "7f41457baa3084c341b5f3d0cf22b7a095022f4042f2";
static const char ds2_hex[] = "6f8f2bf9358b4529160389434517fa3274a380b7286e3db82660a31081963c86";
static const char ds1_hex[] = "3f7ba7373a8c386e9fa1c053b41606374bbc56a5";

static size_t unhex(const char *h, uint8_t *out)
{
    size_t n = strlen(h) / 2;
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        sscanf(h + 2 * i, "%2x", &v);
        out[i] = (uint8_t)v;
    }
    return n;
}

static void test_parse_referral(void **state)
{
    struct mb m;
    struct dns_msg *msg = NULL;
    struct mrd_err err = {0};
    uint8_t a[4] = {192, 0, 2, 53};
    char s[DNS_MAX_NAME_STR];

    (void)state;
    mb_start(&m, 0x1234, DNS_F_QR);
    mb_question(&m, "www.Example.", DNS_T_A);
    mb_rr_name(&m, 2, "example.", DNS_T_NS, "ns1.example.");
    mb_rr(&m, 3, "ns1.example.", DNS_T_A, a, 4);
    mb_opt_ede(&m, -1, NULL);
    mb_finish(&m);
    assert_int_equal(dns_msg_parse(m.b, m.n, &msg, &err), MRD_OK);
    assert_int_equal(msg->id, 0x1234);
    assert_int_equal(msg->qtype, DNS_T_A);
    dns_name_format(&msg->qname, s);
    assert_string_equal(s, "www.example.");
    assert_int_equal(msg->nrr, 2); /* OPT is not a record */
    assert_int_equal(msg->count[DNS_SEC_AUTHORITY], 1);
    dns_name_format(&msg->rr[0].u.target, s);
    assert_string_equal(s, "ns1.example.");
    assert_memory_equal(msg->rr[1].u.a, a, 4);
    assert_true(msg->edns);
    assert_true(msg->do_bit);
    assert_int_equal(msg->udp_size, 1232);
    assert_int_equal(msg->ede, -1);
    dns_msg_free(msg);
}

static void test_compression(void **state)
{
    /* Header, question www.example. A, then an answer owned by a pointer
     * to the question name (offset 12). */
    struct mb m;
    struct dns_msg *msg = NULL;
    char s[DNS_MAX_NAME_STR];

    (void)state;
    mb_start(&m, 1, DNS_F_QR | DNS_F_AA);
    mb_question(&m, "www.example.", DNS_T_CNAME);
    mb_u16(&m, 0xC000 | 12); /* owner: pointer */
    mb_u16(&m, DNS_T_CNAME);
    mb_u16(&m, 1);
    mb_u32(&m, 60);
    mb_u16(&m, 6); /* RDATA: "web" + pointer to "example." at 16 */
    m.b[m.n++] = 3;
    memcpy(m.b + m.n, "web", 3);
    m.n += 3;
    mb_u16(&m, 0xC000 | 16);
    m.count[1] = 1;
    mb_finish(&m);
    assert_int_equal(dns_msg_parse(m.b, m.n, &msg, NULL), MRD_OK);
    dns_name_format(&msg->rr[0].owner, s);
    assert_string_equal(s, "www.example.");
    dns_name_format(&msg->rr[0].u.target, s);
    assert_string_equal(s, "web.example.");
    dns_msg_free(msg);
}

static void expect_error(const uint8_t *b, size_t n, enum mrd_code code, const char *what)
{
    struct dns_msg *msg = NULL;
    struct mrd_err err = {0};
    assert_int_equal(dns_msg_parse(b, n, &msg, &err), code);
    assert_null(msg);
    if (strstr(err.msg, what) == NULL)
        fail_msg("error \"%s\" lacks \"%s\"", err.msg, what);
}

static void test_pointer_loops(void **state)
{
    struct mb m;

    (void)state;
    /* A question name that points at itself. */
    mb_start(&m, 1, 0);
    mb_u16(&m, 0xC000 | 12);
    mb_u16(&m, 1);
    mb_u16(&m, 1);
    m.count[0] = 1;
    mb_finish(&m);
    expect_error(m.b, m.n, MRD_E_PARSE, "offset 12: compression pointer to 12 does not point");
    /* A forward pointer. */
    mb_start(&m, 1, 0);
    mb_u16(&m, 0xC000 | 20);
    mb_u16(&m, 1);
    mb_u16(&m, 1);
    m.count[0] = 1;
    mb_finish(&m);
    expect_error(m.b, m.n, MRD_E_PARSE, "does not point backwards");
    /* Two names pointing at each other: the second's pointer goes back to
     * the first, whose pointer goes forward again. */
    mb_start(&m, 1, 0);
    m.b[m.n++] = 1;
    m.b[m.n++] = 'a';
    mb_u16(&m, 0xC000 | 20); /* forward, to the second question */
    mb_u16(&m, 1);
    mb_u16(&m, 1);
    mb_u16(&m, 0xC000 | 12);
    mb_u16(&m, 1);
    mb_u16(&m, 1);
    m.count[0] = 2;
    mb_finish(&m);
    expect_error(m.b, m.n, MRD_E_PARSE, "offset 14: compression pointer to 20");
}

static void test_malformed(void **state)
{
    struct mb m;
    uint8_t a[4] = {1, 2, 3, 4};

    (void)state;
    expect_error((const uint8_t *)"\0\1\2", 3, MRD_E_PARSE, "shorter than its header");
    /* Record data longer than the message. */
    mb_start(&m, 1, DNS_F_QR);
    mb_rr(&m, 1, "example.", DNS_T_A, a, 4);
    mb_finish(&m);
    m.b[m.n - 5] = 9; /* RDLENGTH 4 -> 9 */
    expect_error(m.b, m.n, MRD_E_PARSE, "offset 31: record data runs past the message");
    /* An A record of 3 bytes. */
    mb_start(&m, 1, DNS_F_QR);
    mb_rr(&m, 1, "example.", DNS_T_A, a, 3);
    mb_finish(&m);
    expect_error(m.b, m.n, MRD_E_PARSE, "A record data is 3 bytes");
    /* A truncated record header. */
    mb_start(&m, 1, DNS_F_QR);
    mb_rr(&m, 1, "example.", DNS_T_A, a, 4);
    mb_finish(&m);
    expect_error(m.b, 12 + 9 + 3, MRD_E_PARSE, "record class runs past the message");
    /* Label type 01 (RFC 6891 §5: extended labels are gone). */
    mb_start(&m, 1, 0);
    m.b[m.n++] = 0x41;
    mb_u16(&m, 1);
    mb_u16(&m, 1);
    m.count[0] = 1;
    mb_finish(&m);
    expect_error(m.b, m.n, MRD_E_PARSE, "unknown label type 0x40");
    /* Counts the message cannot hold. */
    mb_start(&m, 1, 0);
    m.count[1] = 2000;
    mb_finish(&m);
    expect_error(m.b, 40, MRD_E_PARSE, "cannot fit");
    m.count[1] = 60000;
    mb_finish(&m);
    expect_error(m.b, 40, MRD_E_TOOBIG, "limit 2048");
    /* Trailing garbage. */
    mb_start(&m, 1, 0);
    mb_finish(&m);
    expect_error(m.b, 13, MRD_E_PARSE, "offset 12: 1 bytes after the last record");
}

static void test_name_too_long(void **state)
{
    struct mb m;
    (void)state;
    /* 5 labels of 63 octets: 320 octets. */
    mb_start(&m, 1, 0);
    for (int l = 0; l < 5; l++) {
        m.b[m.n++] = 63;
        memset(m.b + m.n, 'a', 63);
        m.n += 63;
    }
    m.b[m.n++] = 0;
    mb_u16(&m, 1);
    mb_u16(&m, 1);
    m.count[0] = 1;
    mb_finish(&m);
    expect_error(m.b, m.n, MRD_E_PARSE, "longer than 255 octets");
}

static void test_ede(void **state)
{
    struct mb m;
    struct dns_msg *msg = NULL;

    (void)state;
    mb_start(&m, 7, DNS_F_QR | DNS_F_RD | DNS_F_RA | DNS_RCODE_SERVFAIL);
    mb_question(&m, "example.", DNS_T_SOA);
    mb_opt_ede(&m, 7, "signature expired");
    mb_finish(&m);
    assert_int_equal(dns_msg_parse(m.b, m.n, &msg, NULL), MRD_OK);
    assert_int_equal(msg->rcode, DNS_RCODE_SERVFAIL);
    assert_int_equal(msg->ede, 7);
    assert_string_equal(msg->ede_text, "signature expired");
    assert_string_equal(dns_ede_cause(msg->ede), "signature-expired");
    assert_string_equal(dns_ede_cause(9), "dnskey-missing");
    assert_string_equal(dns_ede_cause(6), "other");
    dns_msg_free(msg);
    /* An EDE option longer than the OPT record. */
    mb_start(&m, 7, DNS_F_QR);
    mb_opt_ede(&m, 7, "x");
    mb_finish(&m);
    m.b[m.n - 5] = 0; /* option length: 3 -> 40 */
    m.b[m.n - 4] = 40;
    expect_error(m.b, m.n, MRD_E_PARSE, "EDNS option of 40 bytes");
}

static void test_dnssec_records(void **state)
{
    uint8_t rd[512], ds[64];
    size_t n = unhex(key_rdata_hex, rd), dl;
    struct mb m;
    struct dns_msg *msg = NULL;
    uint8_t sig[64] = {0};
    struct dns_name signer;

    (void)state;
    mb_start(&m, 1, DNS_F_QR | DNS_F_AA);
    mb_rr(&m, 1, "Example.", DNS_T_DNSKEY, rd, n);
    /* DS 56399 13 2 <digest> */
    ds[0] = 56399 >> 8;
    ds[1] = 56399 & 0xFF;
    ds[2] = 13;
    ds[3] = 2;
    dl = unhex(ds2_hex, ds + 4);
    mb_rr(&m, 1, "example.", DNS_T_DS, ds, 4 + dl);
    ds[3] = 1;
    dl = unhex(ds1_hex, ds + 4);
    mb_rr(&m, 1, "example.", DNS_T_DS, ds, 4 + dl);
    ds[4] ^= 1; /* a wrong SHA-1 digest */
    mb_rr(&m, 1, "example.", DNS_T_DS, ds, 4 + dl);
    /* RRSIG DNSKEY 13 1 3600 exp inc 56399 example. sig */
    (void)dns_name_parse("example.", 8, &signer, NULL);
    {
        uint8_t r[128];
        size_t k = 0;
        r[k++] = 0, r[k++] = DNS_T_DNSKEY, r[k++] = 13, r[k++] = 1;
        memcpy(r + k, "\0\0\x0e\x10", 4), k += 4;
        memcpy(r + k, "\x70\0\0\0", 4), k += 4; /* expiration */
        memcpy(r + k, "\x60\0\0\0", 4), k += 4; /* inception */
        r[k++] = 56399 >> 8, r[k++] = 56399 & 0xFF;
        memcpy(r + k, signer.wire, signer.len), k += signer.len;
        memcpy(r + k, sig, sizeof(sig)), k += sizeof(sig);
        mb_rr(&m, 1, "example.", DNS_T_RRSIG, r, k);
    }
    mb_finish(&m);
    assert_int_equal(dns_msg_parse(m.b, m.n, &msg, NULL), MRD_OK);
    assert_int_equal(msg->rr[0].u.dnskey.key_tag, 56399);
    assert_int_equal(msg->rr[0].u.dnskey.alg, 13);
    assert_true(dns_ds_matches(&msg->rr[1], &msg->rr[0])); /* SHA-256, owner case ignored */
    assert_true(dns_ds_matches(&msg->rr[2], &msg->rr[0])); /* SHA-1 */
    assert_false(dns_ds_matches(&msg->rr[3], &msg->rr[0]));
    assert_int_equal(msg->rr[4].u.rrsig.covered, DNS_T_DNSKEY);
    assert_int_equal(msg->rr[4].u.rrsig.expiration, 0x70000000u);
    assert_int_equal(msg->rr[4].u.rrsig.key_tag, 56399);
    assert_int_equal(msg->rr[4].u.rrsig.sig_len, 64);
    assert_true(dns_serial_gt(0x70000000u, 0x60000000u));
    assert_false(dns_serial_gt(0x60000000u, 0x70000000u));
    assert_true(dns_serial_gt(5, 0xFFFFFFF0u)); /* wraps (RFC 1982) */
    dns_msg_free(msg);
}

static void test_query_build(void **state)
{
    uint8_t q[512];
    size_t n;
    struct dns_name name;
    struct dns_msg *msg = NULL;

    (void)state;
    assert_int_equal(dns_name_parse("www.example", 11, &name, NULL), MRD_OK);
    assert_int_equal(dns_query_build(42, &name, DNS_T_AAAA, DNS_Q_RD | DNS_Q_CD | DNS_Q_DO, q,
                                     sizeof(q), &n, NULL),
                     MRD_OK);
    assert_int_equal(dns_msg_parse(q, n, &msg, NULL), MRD_OK);
    assert_int_equal(msg->id, 42);
    assert_int_equal(msg->flags & (DNS_F_RD | DNS_F_CD | DNS_F_QR), DNS_F_RD | DNS_F_CD);
    assert_true(dns_name_eq(&msg->qname, &name));
    assert_int_equal(msg->qtype, DNS_T_AAAA);
    assert_true(msg->edns && msg->do_bit);
    dns_msg_free(msg);
    assert_int_equal(dns_query_build(42, &name, DNS_T_A, 0, q, 20, &n, NULL), MRD_E_TOOBIG);
}

static void test_names(void **state)
{
    struct dns_name a, b, z;
    char s[DNS_MAX_NAME_STR], big[400];
    struct mrd_err err = {0};

    (void)state;
    assert_int_equal(dns_name_parse("WWW.Example.", 12, &a, NULL), MRD_OK);
    assert_int_equal(dns_name_parse("www.example", 11, &b, NULL), MRD_OK);
    assert_true(dns_name_eq(&a, &b));
    assert_int_equal(dns_name_parse("example.", 8, &z, NULL), MRD_OK);
    assert_true(dns_name_under(&a, &z));
    assert_false(dns_name_under(&z, &a));
    assert_int_equal(dns_name_parse(".", 1, &z, NULL), MRD_OK);
    assert_true(dns_name_under(&a, &z));
    assert_int_equal(dns_name_labels(&a), 2);
    assert_int_equal(dns_name_parse("a\\.b\\010.c.", 11, &a, NULL), MRD_OK);
    dns_name_format(&a, s);
    assert_string_equal(s, "a\\046b\\010.c.");
    assert_int_equal(dns_name_parse("a..b", 4, &a, &err), MRD_E_PARSE);
    assert_non_null(strstr(err.msg, "empty label"));
    memset(big, 'a', 64);
    assert_int_equal(dns_name_parse(big, 64, &a, NULL), MRD_E_PARSE);
    for (int i = 0; i < 200; i += 2)
        big[i] = 'a', big[i + 1] = '.';
    assert_int_equal(dns_name_parse(big, 200, &a, NULL), MRD_OK);
    for (int i = 0; i < 400; i += 2)
        big[i] = 'a', big[i + 1] = '.';
    assert_int_equal(dns_name_parse(big, 400, &a, NULL), MRD_E_PARSE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_referral), cmocka_unit_test(test_compression),
        cmocka_unit_test(test_pointer_loops),  cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_name_too_long),  cmocka_unit_test(test_ede),
        cmocka_unit_test(test_dnssec_records), cmocka_unit_test(test_query_build),
        cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
