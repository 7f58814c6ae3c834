/* Unit tests for privacy/ Crypto-PAn: the reference implementation's sample
 * (tests/data/cryptopan/), both ways, IPv6 against another implementation,
 * prefix preservation, and the key and address parsers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "privacy/privacy.h"

#ifndef DATA_DIR
#error "DATA_DIR must name tests/data"
#endif

#define MAX_PAIRS 128

struct pairs {
    struct privacy_addr raw[MAX_PAIRS];
    struct privacy_addr san[MAX_PAIRS];
    size_t n;
};

static void read_addrs(const char *name, struct privacy_addr *out, size_t *ret_n)
{
    char path[512];
    char line[128];
    FILE *f;
    size_t n = 0;

    snprintf(path, sizeof(path), "%s/cryptopan/%s", DATA_DIR, name);
    f = fopen(path, "r");
    if (f == NULL)
        fail_msg("cannot open %s", path);
    while (fgets(line, sizeof(line), f) != NULL) {
        size_t len = strcspn(line, "\n");

        assert_true(n < MAX_PAIRS);
        assert_int_equal(privacy_addr_parse(line, len, &out[n], NULL), MRD_OK);
        n++;
    }
    fclose(f);
    *ret_n = n;
}

static void load_pairs(const char *raw, const char *san, struct pairs *p)
{
    size_t n2 = 0;

    read_addrs(raw, p->raw, &p->n);
    read_addrs(san, p->san, &n2);
    assert_int_equal(p->n, n2);
    assert_true(p->n > 0);
}

static void sample_key(struct privacy_cryptopan *cp)
{
    char path[512];
    char text[256];
    uint8_t key[PRIVACY_CRYPTOPAN_KEY_LEN];
    size_t len;
    FILE *f;

    snprintf(path, sizeof(path), "%s/cryptopan/sample.key", DATA_DIR);
    f = fopen(path, "r");
    if (f == NULL)
        fail_msg("cannot open %s", path);
    len = fread(text, 1, sizeof(text), f);
    fclose(f);
    assert_int_equal(privacy_cryptopan_key_parse(text, len, key, NULL), MRD_OK);
    privacy_cryptopan_init(cp, key);
}

static void check_both_ways(const char *raw, const char *san, size_t expect_n)
{
    struct privacy_cryptopan cp;
    struct pairs *p = calloc(1, sizeof(*p));
    char a[PRIVACY_ADDR_TEXT_MAX], b[PRIVACY_ADDR_TEXT_MAX];

    assert_non_null(p);
    load_pairs(raw, san, p);
    assert_int_equal(p->n, expect_n);
    sample_key(&cp);
    for (size_t i = 0; i < p->n; i++) {
        struct privacy_addr out, back;

        privacy_cryptopan_map(&cp, &p->raw[i], &out);
        if (out.len != p->san[i].len || memcmp(out.bytes, p->san[i].bytes, out.len) != 0)
            fail_msg("%s -> %s, expected %s", privacy_addr_format(&p->raw[i], a, sizeof(a)),
                     privacy_addr_format(&out, b, sizeof(b)),
                     privacy_addr_format(&p->san[i], a, sizeof(a)));
        privacy_cryptopan_unmap(&cp, &p->san[i], &back);
        assert_int_equal(back.len, p->raw[i].len);
        assert_memory_equal(back.bytes, p->raw[i].bytes, back.len);
    }
    privacy_cryptopan_release(&cp);
    free(p);
}

static void test_reference_sample_ipv4(void **state)
{
    (void)state;
    check_both_ways("sample-raw.txt", "sample-sanitized.txt", 70);
}

static void test_ipv6(void **state)
{
    (void)state;
    check_both_ways("ipv6-raw.txt", "ipv6-sanitized.txt", 5);
}

/* The defining property: the shared prefix length of any two inputs is the
 * shared prefix length of their pseudonyms, and unmap inverts map. Pairs
 * are built to share exactly k bits for every k. */
static void test_prefix_preserved(void **state)
{
    struct privacy_cryptopan cp;
    uint8_t key[PRIVACY_CRYPTOPAN_KEY_LEN];

    (void)state;
    randombytes_buf(key, sizeof(key));
    privacy_cryptopan_init(&cp, key);
    for (unsigned len = 4; len <= 16; len += 12) {
        for (unsigned k = 0; k <= 8 * len; k++) {
            for (int round = 0; round < 4; round++) {
                struct privacy_addr x = {.len = (uint8_t)len}, y, mx, my, back;

                randombytes_buf(x.bytes, len);
                y = x;
                if (k < 8 * len) /* flip bit k: they share exactly k bits */
                    y.bytes[k / 8] ^= (uint8_t)(0x80u >> (k % 8));
                privacy_cryptopan_map(&cp, &x, &mx);
                privacy_cryptopan_map(&cp, &y, &my);
                assert_int_equal(privacy_addr_common_prefix(&x, &y), k);
                assert_int_equal(privacy_addr_common_prefix(&mx, &my), k);
                privacy_cryptopan_unmap(&cp, &my, &back);
                assert_memory_equal(back.bytes, y.bytes, len);
            }
        }
    }
    privacy_cryptopan_release(&cp);
}

/* Two different keys give different pseudonyms (the key is used). */
static void test_key_matters(void **state)
{
    struct privacy_cryptopan a, b;
    uint8_t k1[PRIVACY_CRYPTOPAN_KEY_LEN] = {0}, k2[PRIVACY_CRYPTOPAN_KEY_LEN] = {0};
    struct privacy_addr in, o1, o2;

    (void)state;
    k2[31] = 1; /* only the pad half differs */
    privacy_cryptopan_init(&a, k1);
    privacy_cryptopan_init(&b, k2);
    assert_int_equal(privacy_addr_parse("192.0.2.1", 9, &in, NULL), MRD_OK);
    privacy_cryptopan_map(&a, &in, &o1);
    privacy_cryptopan_map(&b, &in, &o2);
    assert_memory_not_equal(o1.bytes, o2.bytes, 4);
}

static void test_key_parse(void **state)
{
    uint8_t key[PRIVACY_CRYPTOPAN_KEY_LEN];
    uint8_t untouched[PRIVACY_CRYPTOPAN_KEY_LEN];
    struct mrd_err err = {0};
    const char *good = "1522178d33a4cf80130a5b1649907d10D8988F837979652762574c2d2a842202";
    char buf[200];

    (void)state;
    assert_int_equal(privacy_cryptopan_key_parse(good, 64, key, NULL), MRD_OK);
    assert_int_equal(key[0], 0x15);
    assert_int_equal(key[16], 0xd8);
    assert_int_equal(key[31], 0x02);
    snprintf(buf, sizeof(buf), "%s\r\n", good);
    assert_int_equal(privacy_cryptopan_key_parse(buf, strlen(buf), key, NULL), MRD_OK);

    memset(key, 0xee, sizeof(key));
    memcpy(untouched, key, sizeof(key));
    assert_int_equal(privacy_cryptopan_key_parse(good, 62, key, &err), MRD_E_PARSE);
    assert_non_null(strstr(err.msg, "62 hex digits, expected 64"));
    assert_memory_equal(key, untouched, sizeof(key)); /* out-param untouched */

    snprintf(buf, sizeof(buf), "%.10sz%s", good, good + 11);
    memset(&err, 0, sizeof(err));
    assert_int_equal(privacy_cryptopan_key_parse(buf, 64, key, &err), MRD_E_PARSE);
    assert_non_null(strstr(err.msg, "offset 10"));

    snprintf(buf, sizeof(buf), "%s\x1b[2J", good);
    memset(&err, 0, sizeof(err));
    assert_int_equal(privacy_cryptopan_key_parse(buf, strlen(buf), key, &err), MRD_E_PARSE);
    assert_null(strchr(err.msg, '\x1b')); /* escaped, never raw */

    snprintf(buf, sizeof(buf), "%s00", good);
    memset(&err, 0, sizeof(err));
    assert_int_equal(privacy_cryptopan_key_parse(buf, 66, key, &err), MRD_E_PARSE);
    assert_non_null(strstr(err.msg, "more than 64"));

    memset(buf, 'a', sizeof(buf));
    assert_int_equal(privacy_cryptopan_key_parse(buf, sizeof(buf), key, NULL), MRD_E_TOOBIG);
    assert_memory_equal(key, untouched, sizeof(key));
}

static void test_addr_parse(void **state)
{
    static const char *const bad[] = {
        "",           "1.2.3",        "1.2.3.4.5", "256.1.1.1",     " 1.2.3.4",   "1.2.3.4 ",
        "10.0.0.0/8", "fe80::1%eth0", ":::",       "2001:db8::/32", "0x7f.1.1.1", "host.example",
    };
    struct privacy_addr a;
    struct mrd_err err = {0};
    char out[PRIVACY_ADDR_TEXT_MAX];
    char big[PRIVACY_ADDR_LINE_MAX + 1];

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(privacy_addr_parse(bad[i], strlen(bad[i]), &a, NULL), MRD_E_PARSE);
    assert_int_equal(privacy_addr_parse("1.2.3\0.4", 8, &a, NULL), MRD_E_PARSE);
    memset(big, '1', sizeof(big));
    assert_int_equal(privacy_addr_parse(big, sizeof(big), &a, &err), MRD_E_TOOBIG);
    assert_int_equal(privacy_addr_parse("2001:DB8:0:0::1", 15, &a, NULL), MRD_OK);
    assert_int_equal(a.len, 16);
    assert_string_equal(privacy_addr_format(&a, out, sizeof(out)), "2001:db8::1");
    assert_int_equal(privacy_addr_parse("198.51.100.7", 12, &a, NULL), MRD_OK);
    assert_int_equal(a.len, 4);
    assert_string_equal(privacy_addr_format(&a, out, sizeof(out)), "198.51.100.7");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reference_sample_ipv4),
        cmocka_unit_test(test_ipv6),
        cmocka_unit_test(test_prefix_preserved),
        cmocka_unit_test(test_key_matters),
        cmocka_unit_test(test_key_parse),
        cmocka_unit_test(test_addr_parse),
    };

    if (sodium_init() < 0)
        return 1;
    return cmocka_run_group_tests(tests, NULL, NULL);
}
