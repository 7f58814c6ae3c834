/* Unit tests for core/uuid.c and core/sha1.c: published vectors (FIPS 180
 * examples, RFC 4122 / Python's uuid module, the STIX 2.1 spec's SCO ids). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/json.h"
#include "core/sha1.h"
#include "core/uuid.h"

static void sha1_hex(const void *p, size_t n, size_t repeat, char out[41])
{
    static const char hex[] = "0123456789abcdef";
    struct mrd_sha1 c;
    uint8_t d[MRD_SHA1_LEN];

    mrd_sha1_init(&c);
    for (size_t i = 0; i < repeat; i++)
        mrd_sha1_update(&c, p, n);
    mrd_sha1_final(&c, d);
    for (int i = 0; i < MRD_SHA1_LEN; i++) {
        out[2 * i] = hex[d[i] >> 4];
        out[2 * i + 1] = hex[d[i] & 0xF];
    }
    out[40] = '\0';
}

static void test_sha1_vectors(void **state)
{
    char h[41];
    char a1000[1000];

    (void)state;
    sha1_hex("", 0, 1, h);
    assert_string_equal(h, "da39a3ee5e6b4b0d3255bfef95601890afd80709");
    sha1_hex("abc", 3, 1, h);
    assert_string_equal(h, "a9993e364706816aba3e25717850c26c9cd0d89d");
    /* 56 bytes: the length no longer fits the first padding block */
    sha1_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56, 1, h);
    assert_string_equal(h, "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
    /* one million 'a', fed in uneven pieces */
    memset(a1000, 'a', sizeof(a1000));
    sha1_hex(a1000, sizeof(a1000), 1000, h);
    assert_string_equal(h, "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
    sha1_hex(a1000, 7, 1, h);
    /* block boundaries: 55 bytes pad in one block, 64 need a second
     * (digests from Python's hashlib) */
    sha1_hex(a1000, 55, 1, h);
    assert_string_equal(h, "c1c8bbdc22796e28c0e15163d20899b65621d65a");
    sha1_hex(a1000, 64, 1, h);
    assert_string_equal(h, "0098ba824b5c16427bd7a1122a5a442a25ec644d");
}

static void test_v5_rfc4122(void **state)
{
    char out[MRD_UUID_STR_LEN + 1];

    (void)state;
    /* DNS namespace (RFC 4122 Appendix C), as Python's uuid.uuid5 gives */
    assert_int_equal(
        mrd_uuid_v5("6ba7b810-9dad-11d1-80b4-00c04fd430c8", "www.example.com", 15, out, NULL),
        MRD_OK);
    assert_string_equal(out, "2ed6657d-e927-568b-95e1-2665a8aea6a2");
}

static void test_v5_id(void **state)
{
    char out[64], small[20];
    struct mrd_err err = {0};

    (void)state;
    assert_int_equal(mrd_uuid_v5_id("identity", "6ba7b810-9dad-11d1-80b4-00c04fd430c8",
                                    "www.example.com", out, sizeof(out), NULL),
                     MRD_OK);
    assert_string_equal(out, "identity--2ed6657d-e927-568b-95e1-2665a8aea6a2");
    /* too small for the whole id: an error and an empty string, never a cut id */
    assert_int_equal(mrd_uuid_v5_id("identity", "6ba7b810-9dad-11d1-80b4-00c04fd430c8",
                                    "www.example.com", small, sizeof(small), &err),
                     MRD_E_TOOBIG);
    assert_string_equal(small, "");
}

/* Computes the STIX 2.1 §2.9 id of an SCO from its contributing
 * properties, the way stix/ will: v5 over their RFC 8785 form. */
static void sco_id(const char *props, char out[MRD_UUID_STR_LEN + 1])
{
    json_t *v = NULL;
    struct mrd_buf b;

    assert_int_equal(mrd_json_parse(props, strlen(props), NULL, &v, NULL), MRD_OK);
    mrd_buf_init(&b, 4096);
    assert_int_equal(mrd_jcs_write(v, &b, NULL), MRD_OK);
    assert_int_equal(mrd_uuid_v5(MRD_UUID_STIX_NAMESPACE, b.data, b.len, out, NULL), MRD_OK);
    mrd_buf_release(&b);
    json_decref(v);
}

static void test_v5_stix_sco_ids(void **state)
{
    char out[MRD_UUID_STR_LEN + 1];

    (void)state;
    /* STIX 2.1 §2.9 example: ipv4-addr--28bb3599-... for 198.51.100.3;
     * white space and member order in the input do not matter */
    sco_id("{ \"value\" : \"198.51.100.3\" }", out);
    assert_string_equal(out, "28bb3599-77cd-5a82-a950-b5bc3caf07c4");
    sco_id("{\"value\":\"2001:db8::1\"}", out);
    assert_string_equal(out, "6469e3a9-b053-5e34-a025-9396ae051d26");
    sco_id("{\"value\":\"example.com\"}", out);
    assert_string_equal(out, "bedb4899-d24b-5401-bc86-8f6b4cc18ec7");
    /* a number, through JCS number formatting */
    sco_id("{\"number\":15139}", out);
    assert_string_equal(out, "3aa27478-50b5-5ab8-9da9-cdc12b657fff");
}

static void test_v4(void **state)
{
    char a[MRD_UUID_STR_LEN + 1], b[MRD_UUID_STR_LEN + 1];
    int version = 0;

    (void)state;
    assert_int_equal(mrd_uuid_v4(a, NULL), MRD_OK);
    assert_int_equal(mrd_uuid_v4(b, NULL), MRD_OK);
    assert_int_equal(strlen(a), MRD_UUID_STR_LEN);
    assert_string_not_equal(a, b);
    assert_int_equal(mrd_uuid_check(a, strlen(a), &version, NULL), MRD_OK);
    assert_int_equal(version, 4);
    assert_int_equal(a[14], '4');
    assert_non_null(strchr("89ab", a[19]));
    for (size_t i = 0; i < MRD_UUID_STR_LEN; i++)
        assert_non_null(strchr("0123456789abcdef-", a[i])); /* lowercase */
}

static void test_check(void **state)
{
    struct mrd_err err = {0};
    int version = 0;
    uint8_t u[MRD_UUID_LEN];
    char back[MRD_UUID_STR_LEN + 1];
    const char *upper = "2ED6657D-E927-568B-95E1-2665A8AEA6A2";

    (void)state;
    assert_int_equal(mrd_uuid_check(upper, 36, &version, NULL), MRD_OK);
    assert_int_equal(version, 5);
    assert_int_equal(mrd_uuid_parse(upper, 36, u, NULL), MRD_OK);
    mrd_uuid_format(u, back);
    assert_string_equal(back, "2ed6657d-e927-568b-95e1-2665a8aea6a2");
    assert_int_equal(mrd_uuid_check("6ba7b810-9dad-11d1-80b4-00c04fd430c8", 36, &version, NULL),
                     MRD_OK);
    assert_int_equal(version, 1);

    /* versions above 5 (RFC 4122 §4.1.3 defines 1-5) */
    for (const char *v = "6789abcdef"; *v != '\0'; v++) {
        char id[] = "2ed6657d-e927-568b-95e1-2665a8aea6a2";
        id[14] = *v;
        assert_int_equal(mrd_uuid_check(id, 36, NULL, NULL), MRD_E_PARSE);
    }

    /* wrong length, hyphen, hex digit, variant, version */
    assert_int_equal(mrd_uuid_check("2ed6657d-e927-568b-95e1-2665a8aea6a", 35, NULL, &err),
                     MRD_E_PARSE);
    assert_non_null(strstr(err.msg, "35 characters"));
    mrd_err_clear(&err);
    assert_int_equal(mrd_uuid_check("2ed6657de927-568b-95e1-2665a8aea6a2x", 36, NULL, &err),
                     MRD_E_PARSE);
    assert_non_null(strstr(err.msg, "offset 8: expected '-'"));
    mrd_err_clear(&err);
    assert_int_equal(mrd_uuid_check("2ed6657d-e927-568b-95e1-2665a8aeg6a2", 36, NULL, &err),
                     MRD_E_PARSE);
    assert_non_null(strstr(err.msg, "offset 32: expected a hex digit"));
    mrd_err_clear(&err);
    assert_int_equal(mrd_uuid_check("2ed6657d-e927-568b-c5e1-2665a8aea6a2", 36, NULL, &err),
                     MRD_E_PARSE);
    assert_non_null(strstr(err.msg, "variant"));
    mrd_err_clear(&err);
    assert_int_equal(mrd_uuid_check("2ed6657d-e927-068b-95e1-2665a8aea6a2", 36, NULL, &err),
                     MRD_E_PARSE);
    assert_non_null(strstr(err.msg, "version 0"));
    assert_int_equal(mrd_uuid_check("00000000-0000-0000-0000-000000000000", 36, NULL, NULL),
                     MRD_E_PARSE);
    assert_int_equal(mrd_uuid_check("2ed6657d-e927-568b-95e1-2665a8aea6a2", 36, NULL, NULL),
                     MRD_OK); /* NULL ret_version is fine */

    /* a bad namespace is a programming error */
    mrd_err_clear(&err);
    assert_int_equal(mrd_uuid_v5("not-a-uuid-at-all-not-a-uuid-at-all!", "x", 1, back, &err),
                     MRD_E_INVAL);
    assert_int_equal(err.code, MRD_E_INVAL);
    assert_int_equal(mrd_uuid_check(MRD_UUID_STIX_NAMESPACE, 36, &version, NULL), MRD_OK);
    assert_int_equal(version, 4);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sha1_vectors), cmocka_unit_test(test_v5_rfc4122),
        cmocka_unit_test(test_v5_id),        cmocka_unit_test(test_v5_stix_sco_ids),
        cmocka_unit_test(test_v4),           cmocka_unit_test(test_check),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
