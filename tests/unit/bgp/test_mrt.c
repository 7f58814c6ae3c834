/* Unit tests for bgp/ MRT decoding: BGP4MP UPDATEs, the RFC 6793 AS4_PATH
 * merge, bgpdump formatting, and errors on malformed records. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "bgp/bgp.h"

#include "wire.h"

/* A BGP4MP MESSAGE (2-byte ASNs, IPv4) record holding one UPDATE whose
 * attributes are attrs and whose NLRI is 10.0.0.0/8. */
static void update_record(struct w *w, uint16_t subtype, const struct w *attrs)
{
    struct w msg = {0};
    static const uint8_t marker[16] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                       0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    uint8_t nlri[2] = {8, 10};
    bool as4 = subtype == 4;

    if (as4) {
        u32(&msg, 65001);
        u32(&msg, 65000);
    } else {
        u16(&msg, 65001);
        u16(&msg, 65000);
    }
    u16(&msg, 0);
    u16(&msg, 1);
    u32(&msg, 0xC6336401); /* 198.51.100.1 */
    u32(&msg, 0xC63364FE);
    put(&msg, marker, 16);
    u16(&msg, (uint16_t)(19 + 2 + 2 + attrs->n + sizeof(nlri)));
    u8(&msg, 2);
    u16(&msg, 0);
    u16(&msg, (uint16_t)attrs->n);
    put(&msg, attrs->b, attrs->n);
    put(&msg, nlri, sizeof(nlri));
    u32(w, 1700000000);
    u16(w, 16);
    u16(w, subtype);
    u32(w, (uint32_t)msg.n);
    put(w, msg.b, msg.n);
}

struct got {
    size_t n;
    char line[8][512];
};

static int on_route(const struct bgp_route *r, void *arg)
{
    struct got *g = arg;
    struct mrd_buf b;
    mrd_buf_init(&b, 4096);
    assert_int_equal(bgp_route_format_bgpdump(r, &b, NULL), MRD_OK);
    if (g->n < 8)
        snprintf(g->line[g->n++], sizeof(g->line[0]), "%.*s", (int)b.len, b.data);
    mrd_buf_release(&b);
    return 0;
}

static enum mrd_code decode(const struct w *w, struct got *g, struct mrd_err *err)
{
    struct bgp_mrt *m = NULL;
    enum mrd_code rc;
    assert_int_equal(bgp_mrt_new(&m, NULL), MRD_OK);
    rc = bgp_mrt_decode(m, w->b, w->n, 1000, on_route, g, err);
    bgp_mrt_free(m);
    return rc;
}

static void origin_and_path(struct w *a, const uint16_t *asns, size_t n)
{
    u8(a, 0x40);
    u8(a, 1);
    u8(a, 1);
    u8(a, 0);
    u8(a, 0x40);
    u8(a, 2);
    u8(a, (uint8_t)(2 + 2 * n));
    u8(a, 2);
    u8(a, (uint8_t)n);
    for (size_t i = 0; i < n; i++)
        u16(a, asns[i]);
}

static void as4_path(struct w *a, const uint32_t *asns, size_t n)
{
    u8(a, 0xC0);
    u8(a, 17);
    u8(a, (uint8_t)(2 + 4 * n));
    u8(a, 2);
    u8(a, (uint8_t)n);
    for (size_t i = 0; i < n; i++)
        u32(a, asns[i]);
}

static void test_as4_path_merge(void **state)
{
    struct w a = {0}, rec = {0};
    struct got g = {0};
    const uint16_t p2[] = {65001, 23456, 23456, 64500};
    const uint32_t p4[] = {4200000001, 4200000002, 64500};

    (void)state;
    origin_and_path(&a, p2, 4);
    as4_path(&a, p4, 3);
    update_record(&rec, 1, &a);
    assert_int_equal(decode(&rec, &g, NULL), MRD_OK);
    assert_int_equal(g.n, 1);
    assert_string_equal(g.line[0], "BGP4MP|1700000000|A|198.51.100.1|65001|10.0.0.0/8|65001 "
                                   "4200000001 4200000002 64500|IGP|0.0.0.0|0|0||NAG||\n");
}

static void test_as4_path_longer_is_ignored(void **state)
{
    struct w a = {0}, rec = {0};
    struct got g = {0};
    const uint16_t p2[] = {65001, 64500};
    const uint32_t p4[] = {1, 2, 3};

    (void)state;
    origin_and_path(&a, p2, 2);
    as4_path(&a, p4, 3);
    update_record(&rec, 1, &a);
    assert_int_equal(decode(&rec, &g, NULL), MRD_OK);
    assert_non_null(strstr(g.line[0], "|65001 64500|"));
}

static void test_as_size_confusion_is_an_error(void **state)
{
    /* A 2-byte path read as MESSAGE_AS4: the segment overruns. */
    struct w a = {0}, rec = {0};
    struct got g = {0};
    struct mrd_err err = {0};
    const uint16_t p2[] = {65001, 64500, 64501};

    (void)state;
    origin_and_path(&a, p2, 3);
    update_record(&rec, 4, &a);
    assert_int_equal(decode(&rec, &g, &err), MRD_E_PARSE);
    assert_int_equal(g.n, 0);
    assert_non_null(strstr(err.msg, "offset 1000"));
    assert_non_null(strstr(err.msg, "RFC 6793"));
}

static void test_attributes_in_any_order(void **state)
{
    /* RFC 4271 §5: AS4_PATH before AS_PATH and ORIGIN last decode as the
     * ascending order does. */
    struct w in = {0}, out = {0}, op = {0}, rec = {0}, rec2 = {0};
    struct got g1 = {0}, g2 = {0};
    const uint16_t p2[] = {65001, 23456, 64500};
    const uint32_t p4[] = {4200000009u, 64500};

    (void)state;
    origin_and_path(&in, p2, 3);
    as4_path(&in, p4, 2);
    origin_and_path(&op, p2, 3);
    as4_path(&out, p4, 2);
    put(&out, op.b + 4, op.n - 4); /* AS_PATH after AS4_PATH */
    put(&out, op.b, 4);            /* ORIGIN last */
    update_record(&rec, 1, &in);
    update_record(&rec2, 1, &out);
    assert_int_equal(decode(&rec, &g1, NULL), MRD_OK);
    assert_int_equal(decode(&rec2, &g2, NULL), MRD_OK);
    assert_int_equal(g1.n, 1);
    assert_int_equal(g2.n, 1);
    assert_string_equal(g1.line[0], g2.line[0]);
    assert_non_null(strstr(g2.line[0], "|65001 4200000009 64500|IGP|"));
}

static void test_repeated_attributes(void **state)
{
    /* RFC 7606 §3(g): a repeated attribute counts once (the first); a
     * repeated MP_UNREACH_NLRI makes the UPDATE malformed. */
    struct w a = {0}, again = {0}, rec = {0};
    struct got g = {0};
    struct mrd_err err = {0};
    const uint16_t first[] = {65001, 64500}, other[] = {65001, 64999};

    (void)state;
    origin_and_path(&a, first, 2);
    origin_and_path(&again, other, 2);
    put(&a, again.b, again.n);
    update_record(&rec, 1, &a);
    assert_int_equal(decode(&rec, &g, NULL), MRD_OK);
    assert_int_equal(g.n, 1);
    assert_non_null(strstr(g.line[0], "|65001 64500|IGP|"));

    memset(&a, 0, sizeof(a));
    memset(&rec, 0, sizeof(rec));
    memset(&g, 0, sizeof(g));
    origin_and_path(&a, first, 2);
    for (int i = 0; i < 2; i++) { /* MP_UNREACH_NLRI, IPv6 unicast, no prefix */
        u8(&a, 0x80);
        u8(&a, 15);
        u8(&a, 3);
        u16(&a, 2);
        u8(&a, 1);
    }
    update_record(&rec, 1, &a);
    assert_int_equal(decode(&rec, &g, &err), MRD_E_PARSE);
    assert_int_equal(g.n, 0);
    assert_non_null(strstr(err.msg, "offset 1000"));
    assert_non_null(strstr(err.msg, "more than once (RFC 7606 §3(g))"));
}

static void test_truncated_everywhere(void **state)
{
    /* Every prefix of a good record fails cleanly (or, when empty, is empty). */
    struct w a = {0}, rec = {0};
    const uint16_t p2[] = {65001, 64500};

    (void)state;
    origin_and_path(&a, p2, 2);
    update_record(&rec, 1, &a);
    for (size_t cut = 1; cut < rec.n; cut++) {
        struct w t = {0};
        struct got g = {0};
        struct mrd_err err = {0};
        put(&t, rec.b, cut);
        assert_int_equal(decode(&t, &g, &err), MRD_E_PARSE);
        assert_int_equal(g.n, 0);
        assert_non_null(strstr(err.msg, "RFC 6396 §2"));
    }
}

static void test_bad_origin(void **state)
{
    struct w a = {0}, rec = {0};
    struct got g = {0};
    struct mrd_err err = {0};
    const uint16_t p2[] = {65001};

    (void)state;
    origin_and_path(&a, p2, 1);
    a.b[3] = 7; /* ORIGIN value */
    update_record(&rec, 1, &a);
    assert_int_equal(decode(&rec, &g, &err), MRD_E_PARSE);
    assert_non_null(strstr(err.msg, "ORIGIN"));
}

static void test_unknown_records_skipped(void **state)
{
    struct w rec = {0};
    struct got g = {0};

    (void)state;
    u32(&rec, 1);
    u16(&rec, 12); /* TABLE_DUMP (v1): not decoded, skipped like bgpdump -m does not */
    u16(&rec, 1);
    u32(&rec, 3);
    u8(&rec, 1);
    u8(&rec, 2);
    u8(&rec, 3);
    assert_int_equal(decode(&rec, &g, NULL), MRD_OK);
    assert_int_equal(g.n, 0);
}

static void test_prefix_parse_and_format(void **state)
{
    struct bgp_prefix p;
    struct mrd_buf b;

    (void)state;
    mrd_buf_init(&b, 128);
    assert_int_equal(bgp_prefix_parse("2001:db8::/32", 13, &p, NULL), MRD_OK);
    assert_int_equal(bgp_prefix_format(&p, &b, NULL), MRD_OK);
    assert_int_equal(b.len, 13);
    assert_memory_equal(b.data, "2001:db8::/32", 13);
    assert_int_equal(bgp_prefix_parse("10.0.0.0/33", 11, &p, NULL), MRD_E_PARSE);
    assert_int_equal(bgp_prefix_parse("10.0.0.1/8", 10, &p, NULL), MRD_E_PARSE);
    assert_int_equal(bgp_prefix_parse("10.0.0.0", 8, &p, NULL), MRD_E_PARSE);
    mrd_buf_release(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_as4_path_merge),
        cmocka_unit_test(test_as4_path_longer_is_ignored),
        cmocka_unit_test(test_as_size_confusion_is_an_error),
        cmocka_unit_test(test_attributes_in_any_order),
        cmocka_unit_test(test_repeated_attributes),
        cmocka_unit_test(test_truncated_everywhere),
        cmocka_unit_test(test_bad_origin),
        cmocka_unit_test(test_unknown_records_skipped),
        cmocka_unit_test(test_prefix_parse_and_format),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
