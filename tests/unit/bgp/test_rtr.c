/* Unit tests for bgp/rtr.c: RTR PDUs (RFC 8210, RFC 6810) and the session. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "bgp/bgp.h"

/* A response being built: the bytes a cache would send. */
static uint8_t wire[4096];
static size_t nwire;

static void put(const uint8_t *p, size_t n)
{
    assert_true(nwire + n <= sizeof(wire));
    memcpy(wire + nwire, p, n);
    nwire += n;
}

static void hdr(uint8_t ver, uint8_t type, uint16_t sess, uint32_t len)
{
    uint8_t h[8] = {ver,
                    type,
                    (uint8_t)(sess >> 8),
                    (uint8_t)sess,
                    (uint8_t)(len >> 24),
                    (uint8_t)(len >> 16),
                    (uint8_t)(len >> 8),
                    (uint8_t)len};
    put(h, 8);
}

static void u32(uint32_t v)
{
    uint8_t b[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
    put(b, 4);
}

static void v4(uint8_t ver, bool announce, const uint8_t addr[4], uint8_t len, uint8_t max,
               uint32_t asn)
{
    uint8_t f[4] = {announce, len, max, 0};
    hdr(ver, BGP_RTR_IPV4_PREFIX, 0, 20);
    put(f, 4);
    put(addr, 4);
    u32(asn);
}

static void v6(uint8_t ver, bool announce, const uint8_t addr[16], uint8_t len, uint8_t max,
               uint32_t asn)
{
    uint8_t f[4] = {announce, len, max, 0};
    hdr(ver, BGP_RTR_IPV6_PREFIX, 0, 32);
    put(f, 4);
    put(addr, 16);
    u32(asn);
}

static void eod(uint8_t ver, uint16_t sess, uint32_t serial, uint32_t expire)
{
    hdr(ver, BGP_RTR_END_OF_DATA, sess, ver == 0 ? 12 : 24);
    u32(serial);
    if (ver > 0) {
        u32(3600);
        u32(600);
        u32(expire);
    }
}

static const uint8_t net1[4] = {192, 0, 2, 0}, net2[4] = {198, 51, 100, 0};
static const uint8_t net6[16] = {0x20, 0x01, 0x0d, 0xb8};

/* Feeds wire to r in 3-byte pieces (so PDUs split across reads work) and
 * returns the first action other than NONE. */
static enum bgp_rtr_action feed(struct bgp_rtr *r, int64_t now, struct mrd_buf *out,
                                struct mrd_err *err)
{
    uint8_t in[4096];
    size_t have = 0, off = 0;
    enum bgp_rtr_action a = BGP_RTR_A_NONE;
    while (off < nwire && a == BGP_RTR_A_NONE) {
        size_t used = 0, k = nwire - off < 3 ? nwire - off : 3;
        memcpy(in + have, wire + off, k);
        have += k;
        off += k;
        a = bgp_rtr_input(r, in, have, now, &used, out, err);
        memmove(in, in + used, have - used);
        have -= used;
    }
    nwire = 0;
    return a;
}

static enum bgp_rov rov(const struct bgp_rtr *r, const uint8_t addr[4], uint8_t len,
                        uint32_t origin)
{
    struct bgp_vrps *v = NULL;
    struct bgp_prefix p = {.addr = {.afi = BGP_AFI_IPV4}, .len = len};
    struct bgp_aspath path = {.nseg = 1, .nasn = 2, .seg = {{BGP_SEG_SEQUENCE, 0, 2}}};
    enum bgp_rov_reason why;
    enum bgp_rov res;
    memcpy(p.addr.bytes, addr, 4);
    path.asn[0] = 65001;
    path.asn[1] = origin;
    assert_int_equal(bgp_rtr_vrps(r, &v, NULL), MRD_OK);
    res = bgp_rov_validate(v, &p, &path, &why);
    bgp_vrps_free(v);
    return res;
}

/* A session after a Reset Query answered with net1/24 AS64500 and
 * 2001:db8::/32-48 AS64510, serial 7, session 42. */
static struct bgp_rtr *synced(struct mrd_buf *out)
{
    struct bgp_rtr *r = NULL;
    struct mrd_err err = {0};
    assert_int_equal(bgp_rtr_new(1, &r, NULL), MRD_OK);
    assert_int_equal(bgp_rtr_query(r, out, NULL), MRD_OK);
    assert_int_equal(out->len, 8);
    assert_int_equal((uint8_t)out->data[1], BGP_RTR_RESET_QUERY);
    mrd_buf_reset(out);
    hdr(1, BGP_RTR_CACHE_RESPONSE, 42, 8);
    v4(1, true, net1, 24, 24, 64500);
    v6(1, true, net6, 32, 48, 64510);
    eod(1, 42, 7, 7200);
    assert_int_equal(feed(r, 1000, out, &err), BGP_RTR_A_UPDATED);
    return r;
}

/* synced(), with a Serial Query outstanding. */
static struct bgp_rtr *queried(struct mrd_buf *out)
{
    struct bgp_rtr *r = synced(out);
    assert_int_equal(bgp_rtr_query(r, out, NULL), MRD_OK);
    assert_int_equal((uint8_t)out->data[1], BGP_RTR_SERIAL_QUERY);
    mrd_buf_reset(out);
    return r;
}

static void test_reset_then_serial_delta(void **state)
{
    struct mrd_buf out;
    struct bgp_rtr_status st;
    struct mrd_err err = {0};
    struct bgp_rtr *r;
    (void)state;
    mrd_buf_init(&out, 1 << 16);
    r = synced(&out);
    bgp_rtr_status(r, &st);
    assert_int_equal(st.count, 2);
    assert_int_equal(st.serial, 7);
    assert_int_equal(st.session, 42);
    assert_true(st.last_was_reset);
    assert_int_equal(rov(r, net1, 24, 64500), BGP_ROV_VALID);

    /* Serial Notify: the session asks for a Serial Query with its serial. */
    hdr(1, BGP_RTR_SERIAL_NOTIFY, 42, 12);
    u32(8);
    assert_int_equal(feed(r, 1001, &out, &err), BGP_RTR_A_QUERY);
    assert_int_equal(bgp_rtr_query(r, &out, NULL), MRD_OK);
    assert_int_equal(out.len, 12);
    assert_int_equal((uint8_t)out.data[1], BGP_RTR_SERIAL_QUERY);
    assert_int_equal((uint8_t)out.data[11], 7);
    mrd_buf_reset(&out);

    /* The delta moves net1 from AS64500 to AS64501 and adds net2. */
    hdr(1, BGP_RTR_CACHE_RESPONSE, 42, 8);
    v4(1, false, net1, 24, 24, 64500);
    v4(1, true, net1, 24, 24, 64501);
    v4(1, true, net2, 24, 24, 64502);
    eod(1, 42, 8, 7200);
    assert_int_equal(feed(r, 1002, &out, &err), BGP_RTR_A_UPDATED);
    bgp_rtr_status(r, &st);
    assert_int_equal(st.count, 3);
    assert_int_equal(st.serial, 8);
    assert_false(st.last_was_reset);
    assert_int_equal(st.last_announced, 2);
    assert_int_equal(st.last_withdrawn, 1);
    assert_int_equal(rov(r, net1, 24, 64500), BGP_ROV_INVALID);
    assert_int_equal(rov(r, net1, 24, 64501), BGP_ROV_VALID);
    assert_int_equal(out.len, 0);
    bgp_rtr_free(r);
    mrd_buf_release(&out);
}

static void test_withdraw_unknown_keeps_table(void **state)
{
    struct mrd_buf out;
    struct bgp_rtr_status st;
    struct mrd_err err = {0};
    struct bgp_rtr *r;
    (void)state;
    mrd_buf_init(&out, 1 << 16);
    r = queried(&out);
    hdr(1, BGP_RTR_CACHE_RESPONSE, 42, 8);
    v4(1, true, net2, 24, 24, 64502);
    v4(1, false, net2, 24, 24, 9); /* never announced */
    eod(1, 42, 8, 7200);
    assert_int_equal(feed(r, 1002, &out, &err), BGP_RTR_A_CLOSE);
    assert_non_null(strstr(err.msg, "withdrawal of a VRP not held"));
    /* An Error Report, code 6, went out; the table is the last good one. */
    assert_true(out.len >= 16);
    assert_int_equal((uint8_t)out.data[1], BGP_RTR_ERROR_REPORT);
    assert_int_equal((uint8_t)out.data[3], BGP_RTR_E_WITHDRAW_UNKNOWN);
    bgp_rtr_status(r, &st);
    assert_int_equal(st.count, 2);
    assert_int_equal(st.serial, 7);
    assert_int_equal(rov(r, net1, 24, 64500), BGP_ROV_VALID);
    /* Our copy may differ from the cache's: the next query is a reset. */
    mrd_buf_reset(&out);
    assert_int_equal(bgp_rtr_query(r, &out, NULL), MRD_OK);
    assert_int_equal((uint8_t)out.data[1], BGP_RTR_RESET_QUERY);
    bgp_rtr_free(r);
    mrd_buf_release(&out);
}

static void test_duplicate_announcement(void **state)
{
    struct mrd_buf out;
    struct mrd_err err = {0};
    struct bgp_rtr *r;
    (void)state;
    mrd_buf_init(&out, 1 << 16);
    r = queried(&out);
    hdr(1, BGP_RTR_CACHE_RESPONSE, 42, 8);
    v4(1, true, net1, 24, 24, 64500); /* already held */
    eod(1, 42, 8, 7200);
    assert_int_equal(feed(r, 1002, &out, &err), BGP_RTR_A_CLOSE);
    assert_int_equal((uint8_t)out.data[3], BGP_RTR_E_DUPLICATE);
    bgp_rtr_free(r);
    mrd_buf_release(&out);
}

static void test_cache_reset(void **state)
{
    struct mrd_buf out;
    struct mrd_err err = {0};
    struct bgp_rtr *r;
    struct bgp_rtr_status st;
    (void)state;
    mrd_buf_init(&out, 1 << 16);
    r = queried(&out);
    hdr(1, BGP_RTR_CACHE_RESET, 0, 8);
    assert_int_equal(feed(r, 1002, &out, &err), BGP_RTR_A_QUERY);
    assert_int_equal(bgp_rtr_query(r, &out, NULL), MRD_OK);
    assert_int_equal((uint8_t)out.data[1], BGP_RTR_RESET_QUERY);
    mrd_buf_reset(&out);
    /* The reset response replaces the whole table. */
    hdr(1, BGP_RTR_CACHE_RESPONSE, 43, 8);
    v4(1, true, net2, 24, 24, 64502);
    eod(1, 43, 1, 7200);
    assert_int_equal(feed(r, 1003, &out, &err), BGP_RTR_A_UPDATED);
    bgp_rtr_status(r, &st);
    assert_int_equal(st.count, 1);
    assert_int_equal(st.session, 43);
    assert_int_equal(rov(r, net1, 24, 64500), BGP_ROV_NOT_FOUND);
    bgp_rtr_free(r);
    mrd_buf_release(&out);
}

static void test_version_downgrade(void **state)
{
    struct mrd_buf out;
    struct mrd_err err = {0};
    struct bgp_rtr *r = NULL;
    struct bgp_rtr_status st;
    (void)state;
    mrd_buf_init(&out, 1 << 16);
    assert_int_equal(bgp_rtr_new(1, &r, NULL), MRD_OK);
    assert_int_equal(bgp_rtr_query(r, &out, NULL), MRD_OK);
    assert_int_equal((uint8_t)out.data[0], 1);
    mrd_buf_reset(&out);
    /* A version 0 cache: Error Report "Unsupported Protocol Version" in
     * version 0 (RFC 8210 §7). */
    hdr(0, BGP_RTR_ERROR_REPORT, BGP_RTR_E_UNSUPP_VERSION, 16);
    u32(0);
    u32(0);
    assert_int_equal(feed(r, 1000, &out, &err), BGP_RTR_A_QUERY);
    assert_int_equal(out.len, 0); /* no Error Report answers an Error Report */
    assert_int_equal(bgp_rtr_query(r, &out, NULL), MRD_OK);
    assert_int_equal((uint8_t)out.data[0], 0);
    mrd_buf_reset(&out);
    hdr(0, BGP_RTR_CACHE_RESPONSE, 5, 8);
    v4(0, true, net1, 24, 24, 64500);
    eod(0, 5, 3, 0);
    assert_int_equal(feed(r, 1000, &out, &err), BGP_RTR_A_UPDATED);
    bgp_rtr_status(r, &st);
    assert_int_equal(st.version, 0);
    assert_int_equal(st.expire, 7200); /* version 0: the defaults */
    /* Once negotiated, another version is an error (code 8). */
    hdr(1, BGP_RTR_SERIAL_NOTIFY, 5, 12);
    u32(4);
    assert_int_equal(feed(r, 1001, &out, &err), BGP_RTR_A_CLOSE);
    assert_int_equal((uint8_t)out.data[3], BGP_RTR_E_UNEXPECTED_VERSION);
    bgp_rtr_free(r);
    mrd_buf_release(&out);
}

static void test_expiry(void **state)
{
    struct mrd_buf out;
    struct bgp_rtr_status st;
    struct bgp_rtr *r;
    (void)state;
    mrd_buf_init(&out, 1 << 16);
    r = synced(&out); /* End of Data at 1000, expire 7200 */
    assert_false(bgp_rtr_expire(r, 1000 + 7200));
    assert_int_equal(rov(r, net1, 24, 64500), BGP_ROV_VALID);
    assert_true(bgp_rtr_expire(r, 1000 + 7201));
    bgp_rtr_status(r, &st);
    assert_true(st.expired);
    assert_false(st.has_data);
    assert_int_equal(st.count, 0);
    assert_int_equal(rov(r, net1, 24, 64500), BGP_ROV_NOT_FOUND);
    bgp_rtr_free(r);
    mrd_buf_release(&out);
}

static void test_malformed_pdus(void **state)
{
    struct bgp_rtr_pdu p;
    size_t n = 0;
    enum bgp_rtr_error code = BGP_RTR_E_INTERNAL;
    struct mrd_err err = {0};
    uint8_t longlen[8] = {1, BGP_RTR_IPV4_PREFIX, 0, 0, 0x7f, 0, 0, 0};
    uint8_t host_bits[20] = {1, 4, 0, 0, 0, 0, 0, 20, 1, 16, 24, 0, 192, 0, 2, 0, 0, 0, 0, 1};
    uint8_t max_below[20] = {1, 4, 0, 0, 0, 0, 0, 20, 1, 24, 16, 0, 192, 0, 2, 0, 0, 0, 0, 1};
    uint8_t unknown[8] = {1, 99, 0, 0, 0, 0, 0, 8};
    uint8_t v2[8] = {2, 3, 0, 0, 0, 0, 0, 8};
    uint8_t short_err[16] = {1, 10, 0, 0, 0, 0, 0, 16, 0, 0, 0, 9, 0, 0, 0, 0};
    (void)state;

    /* Incomplete: more bytes needed, no error. */
    assert_int_equal(bgp_rtr_pdu_parse(host_bits, 10, &p, &n, &code, &err), MRD_OK);
    assert_int_equal(n, 0);
    assert_int_equal(bgp_rtr_pdu_parse(longlen, 8, &p, &n, &code, &err), MRD_E_TOOBIG);
    assert_int_equal(code, BGP_RTR_E_CORRUPT);
    mrd_err_clear(&err);
    assert_int_equal(bgp_rtr_pdu_parse(host_bits, 20, &p, &n, &code, &err), MRD_E_PARSE);
    assert_non_null(strstr(err.msg, "host bits"));
    mrd_err_clear(&err);
    assert_int_equal(bgp_rtr_pdu_parse(max_below, 20, &p, &n, &code, &err), MRD_E_PARSE);
    mrd_err_clear(&err);
    code = BGP_RTR_E_INTERNAL;
    assert_int_equal(bgp_rtr_pdu_parse(unknown, 8, &p, &n, &code, &err), MRD_E_PARSE);
    assert_int_equal(code, BGP_RTR_E_UNSUPP_PDU);
    mrd_err_clear(&err);
    assert_int_equal(bgp_rtr_pdu_parse(v2, 8, &p, &n, &code, &err), MRD_E_UNSUPP);
    assert_int_equal(code, BGP_RTR_E_UNSUPP_VERSION);
    mrd_err_clear(&err);
    assert_int_equal(bgp_rtr_pdu_parse(short_err, 16, &p, &n, &code, &err), MRD_E_PARSE);
    assert_non_null(strstr(err.msg, "encapsulated PDU length"));
}

static void test_cache_error_report_text_sanitised(void **state)
{
    struct mrd_buf out;
    struct mrd_err err = {0};
    struct bgp_rtr *r = NULL;
    static const char text[] = "no\x1b[31m data";
    (void)state;
    mrd_buf_init(&out, 1 << 16);
    assert_int_equal(bgp_rtr_new(1, &r, NULL), MRD_OK);
    assert_int_equal(bgp_rtr_query(r, &out, NULL), MRD_OK);
    mrd_buf_reset(&out);
    hdr(1, BGP_RTR_ERROR_REPORT, BGP_RTR_E_NO_DATA, (uint32_t)(16 + sizeof(text) - 1));
    u32(0);
    u32((uint32_t)sizeof(text) - 1);
    put((const uint8_t *)text, sizeof(text) - 1);
    assert_int_equal(feed(r, 1000, &out, &err), BGP_RTR_A_CLOSE);
    assert_int_equal(out.len, 0);
    assert_non_null(strstr(err.msg, "No Data Available"));
    assert_non_null(strstr(err.msg, "no?[31m data"));
    bgp_rtr_free(r);
    mrd_buf_release(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reset_then_serial_delta),
        cmocka_unit_test(test_withdraw_unknown_keeps_table),
        cmocka_unit_test(test_duplicate_announcement),
        cmocka_unit_test(test_cache_reset),
        cmocka_unit_test(test_version_downgrade),
        cmocka_unit_test(test_expiry),
        cmocka_unit_test(test_malformed_pdus),
        cmocka_unit_test(test_cache_error_report_text_sanitised),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
