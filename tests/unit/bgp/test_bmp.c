/* Unit tests for bgp/ BMP decoding (RFC 7854): a stream captured from
 * GoBGP, ADD-PATH and 2-byte AS decided by the Peer Up, views, and errors
 * on malformed messages. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bgp/bgp.h"

#include "wire.h"

#ifndef MRD_TEST_DATA
#define MRD_TEST_DATA "tests/data"
#endif

static const uint8_t marker[16] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                   0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

/* Common header + per-peer header (IPv4 peer 192.0.2.9, AS 65009). */
static void bmp_head(struct w *w, uint8_t type, uint8_t flags)
{
    uint8_t addr[16] = {0};
    u8(w, 3);
    u32(w, 0); /* patched by bmp_end */
    u8(w, type);
    u8(w, 0); /* global instance peer */
    u8(w, flags);
    put(w, addr, 8);
    addr[12] = 192;
    addr[13] = 0;
    addr[14] = 2;
    addr[15] = 9;
    put(w, addr, 16);
    u32(w, 65009);
    u32(w, 0x0a000009);
    u32(w, 1700000000);
    u32(w, 0);
}

static void bmp_end(struct w *w, size_t start)
{
    uint32_t n = (uint32_t)(w->n - start);
    w->b[start + 1] = (uint8_t)(n >> 24);
    w->b[start + 2] = (uint8_t)(n >> 16);
    w->b[start + 3] = (uint8_t)(n >> 8);
    w->b[start + 4] = (uint8_t)n;
}

/* An OPEN of AS asn with AS4 (when as4) and ADD-PATH IPv4 unicast mode
 * addpath (0: none). */
static void open_msg_as(struct w *w, uint16_t asn, bool as4, uint8_t addpath)
{
    struct w caps = {0};
    if (as4) {
        u8(&caps, 65);
        u8(&caps, 4);
        u32(&caps, asn);
    }
    if (addpath != 0) {
        u8(&caps, 69);
        u8(&caps, 4);
        u16(&caps, 1);
        u8(&caps, 1);
        u8(&caps, addpath);
    }
    put(w, marker, 16);
    u16(w, (uint16_t)(19 + 10 + 2 + caps.n));
    u8(w, 1);
    u8(w, 4);
    u16(w, asn);
    u16(w, 90);
    u32(w, 0x0a000009);
    u8(w, (uint8_t)(2 + caps.n));
    u8(w, 2);
    u8(w, (uint8_t)caps.n);
    put(w, caps.b, caps.n);
}

static void open_msg(struct w *w, bool as4, uint8_t addpath)
{
    open_msg_as(w, 65009, as4, addpath);
}

static void peer_up(struct w *w, bool as4, uint8_t sent_ap, uint8_t rcvd_ap)
{
    size_t start = w->n;
    uint8_t local[16] = {0};
    bmp_head(w, 3, 0);
    put(w, local, 16);
    u16(w, 179);
    u16(w, 40000);
    open_msg(w, true, sent_ap);
    open_msg(w, as4, rcvd_ap);
    bmp_end(w, start);
}

/* Route Monitoring of 10.0.0.0/8 with AS_PATH [64500 64501] encoded with
 * asn_size bytes, a path id first when pathid != 0. */
static void route_mon(struct w *w, uint8_t flags, unsigned asn_size, uint32_t pathid)
{
    size_t start = w->n;
    struct w attrs = {0};
    uint16_t mlen;
    u8(&attrs, 0x40);
    u8(&attrs, 1);
    u8(&attrs, 1);
    u8(&attrs, 0);
    u8(&attrs, 0x40);
    u8(&attrs, 2);
    u8(&attrs, (uint8_t)(2 + 2 * asn_size));
    u8(&attrs, 2);
    u8(&attrs, 2);
    if (asn_size == 4) {
        u32(&attrs, 64500);
        u32(&attrs, 64501);
    } else {
        u16(&attrs, 64500);
        u16(&attrs, 64501);
    }
    u8(&attrs, 0x40);
    u8(&attrs, 3);
    u8(&attrs, 4);
    u32(&attrs, 0xc0000201);
    bmp_head(w, 0, flags);
    mlen = (uint16_t)(19 + 2 + 2 + attrs.n + (pathid != 0 ? 4 : 0) + 2);
    put(w, marker, 16);
    u16(w, mlen);
    u8(w, 2);
    u16(w, 0);
    u16(w, (uint16_t)attrs.n);
    put(w, attrs.b, attrs.n);
    if (pathid != 0)
        u32(w, pathid);
    u8(w, 8);
    u8(w, 10);
    bmp_end(w, start);
}

/* Reads tests/data/bgp/NAME into w. */
static void read_fixture(const char *name, struct w *w)
{
    char path[512];
    FILE *f;
    (void)snprintf(path, sizeof(path), "%s/bgp/%s", MRD_TEST_DATA, name);
    f = fopen(path, "rb");
    assert_non_null(f);
    memset(w, 0, sizeof(*w));
    w->n = fread(w->b, 1, sizeof(w->b), f);
    fclose(f);
    assert_true(w->n > 0 && w->n < sizeof(w->b));
}

struct got {
    char lines[2048];
    size_t n;
};

static int on_route(const struct bgp_route *r, void *arg)
{
    struct got *g = arg;
    struct mrd_buf b;
    mrd_buf_init(&b, 4096);
    assert_int_equal(bgp_route_format_bgpdump(r, &b, NULL), MRD_OK);
    assert_true(g->n + b.len < sizeof(g->lines));
    memcpy(g->lines + g->n, b.data, b.len);
    g->n += b.len;
    g->lines[g->n] = '\0';
    mrd_buf_release(&b);
    return 0;
}

static enum mrd_code decode(const struct w *w, struct got *g, struct mrd_err *err)
{
    struct bgp_bmp *b = NULL;
    enum mrd_code rc = bgp_bmp_new(&b, err);
    memset(g, 0, sizeof(*g));
    if (rc == MRD_OK)
        rc = bgp_bmp_decode_all(b, w->b, w->n, 0, on_route, g, err);
    bgp_bmp_free(b);
    return rc;
}

/* The stream GoBGP 3.10 sent to a station (tests/data/bgp/README.md): a
 * legitimate /24, an IPv6 /40, a hijacking /25 originated by AS64666,
 * its withdrawal, a Statistics Report and the Peer Down of a reset. */
static void test_gobgp_capture(void **state)
{
    struct w w;
    struct got g;
    struct mrd_err err = {0};
    const char *want =
        "BGP4MP|1796629512|STATE|127.0.0.1|65002|1|6\n"
        "BGP4MP|1796629513|A|127.0.0.1|65002|203.0.113.0/24|65002|IGP|192.0.2.1|0|0||NAG||\n"
        "BGP4MP|1796629513|A|127.0.0.1|65002|2001:db8:ff00::/40|65002|INCOMPLETE|2001:db8::1|0|"
        "0||NAG||\n"
        "BGP4MP|1796629514|A|127.0.0.1|65002|203.0.113.128/25|65002 64666|INCOMPLETE|192.0.2.1|"
        "0|0||NAG||\n"
        "BGP4MP|1796629516|W|127.0.0.1|65002|203.0.113.128/25\n";
    (void)state;
    read_fixture("gobgp-hijack.bmp", &w);
    assert_true(bgp_bmp_sniff(w.b, w.n));
    assert_int_equal(decode(&w, &g, &err), MRD_OK);
    assert_memory_equal(g.lines, want, strlen(want));
    /* then the Peer Down: the peer goes to Idle */
    assert_non_null(strstr(g.lines + strlen(want), "|STATE|127.0.0.1|65002|6|1\n"));
}

/* BIRD 2.0.12 announcing to the monitored GoBGP: the same story, BIRD's
 * UPDATEs (ORIGIN IGP) as GoBGP reported them, then BIRD stopped. */
static void test_bird_capture(void **state)
{
    struct w w;
    struct got g;
    struct mrd_err err = {0};
    const char *hijack =
        "|A|127.0.0.1|65002|203.0.113.128/25|65002 64666|IGP|192.0.2.1|0|0||NAG||\n";
    const char *a, *wd, *down;
    (void)state;
    read_fixture("bird-gobgp-hijack.bmp", &w);
    assert_int_equal(decode(&w, &g, &err), MRD_OK);
    a = strstr(g.lines, hijack);
    wd = strstr(g.lines, "|W|127.0.0.1|65002|203.0.113.128/25\n");
    down = strstr(g.lines, "|STATE|127.0.0.1|65002|6|1\n");
    assert_non_null(strstr(g.lines, "|A|127.0.0.1|65002|203.0.113.0/24|65002|IGP|"));
    assert_non_null(a);
    assert_non_null(wd);
    assert_non_null(down);
    assert_true(a < wd && wd < down);
}

/* FRR 8.4 (Debian frr) monitoring AS65001 with GoBGP AS65002 as its
 * neighbour: FRR's BMP prepends its own AS to the routes it reports
 * (65001 65002 64666); the decoder drops it, so the paths are what AS65002
 * sent, as GoBGP reports them. */
static void test_frr_capture(void **state)
{
    struct w w;
    struct got g;
    struct mrd_err err = {0};
    const char *a, *wd, *down;
    (void)state;
    read_fixture("frr-hijack.bmp", &w);
    assert_true(w.n > 0 && w.b[0] == 3);
    assert_int_equal(decode(&w, &g, &err), MRD_OK);
    assert_non_null(strstr(g.lines, "|A|127.0.0.1|65002|203.0.113.0/24|65002|IGP|192.0.2.1|"));
    assert_non_null(strstr(g.lines, "|A|127.0.0.1|65002|2001:db8:ff00::/40|65002|INCOMPLETE|"));
    a = strstr(g.lines, "|A|127.0.0.1|65002|203.0.113.128/25|65002 64666|INCOMPLETE|");
    wd = strstr(g.lines, "|W|127.0.0.1|65002|203.0.113.128/25\n");
    assert_non_null(a);
    assert_non_null(wd);
    down = strstr(wd, "|STATE|127.0.0.1|65002|6|1\n");
    assert_non_null(down);
    assert_true(a < wd);
    assert_null(strstr(g.lines, "65001"));
}

/* Only the monitored router's own AS right before the peer's is dropped:
 * an eBGP peer (65009) of a router in AS64500 whose route's path starts
 * with 64500 but then 64501 keeps it, and an iBGP peer keeps everything. */
static void test_local_as_kept_unless_before_peer(void **state)
{
    struct w w = {0};
    struct got g;
    struct mrd_err err = {0};
    size_t start = w.n;
    uint8_t local[16] = {0};
    (void)state;
    bmp_head(&w, 3, 0);
    put(&w, local, 16);
    u16(&w, 179);
    u16(&w, 40000);
    open_msg_as(&w, 64500, true, 0); /* sent: the monitored router, AS64500 */
    open_msg(&w, true, 0);           /* received: the peer, AS65009 */
    bmp_end(&w, start);
    route_mon(&w, 0, 4, 0);
    assert_int_equal(decode(&w, &g, &err), MRD_OK);
    assert_non_null(strstr(g.lines, "|A|192.0.2.9|65009|10.0.0.0/8|64500 64501|"));
    memset(&w, 0, sizeof(w));
    peer_up(&w, true, 0, 0); /* iBGP: both OPENs of AS65009 */
    route_mon(&w, 0, 4, 0);
    assert_int_equal(decode(&w, &g, &err), MRD_OK);
    assert_non_null(strstr(g.lines, "|A|192.0.2.9|65009|10.0.0.0/8|64500 64501|"));
}

/* GoBGP peers negotiating ADD-PATH (RFC 7911) for IPv4: the monitored
 * speaker's Peer Up carries it in both OPENs, and the Route Monitoring
 * UPDATEs carry path identifiers, two paths of one prefix. Decoded without
 * them, the identifiers would be read as prefix bytes. */
static void test_gobgp_addpath_capture(void **state)
{
    struct w w;
    struct got g;
    struct mrd_err err = {0};
    (void)state;
    read_fixture("gobgp-addpath.bmp", &w);
    assert_int_equal(decode(&w, &g, &err), MRD_OK);
    assert_non_null(
        strstr(g.lines, "|A|127.0.0.1|65002|203.0.113.0/24|1|65002|IGP|192.0.2.1|0|0||NAG||\n"));
    assert_non_null(strstr(
        g.lines, "|A|127.0.0.1|65002|203.0.113.0/24|2|65002 64666|IGP|192.0.2.2|0|0||NAG||\n"));
}

static void test_addpath_and_as2(void **state)
{
    struct w w = {0};
    struct got g;
    struct mrd_err err = {0};
    (void)state;
    /* we receive (1), the peer sends (2): path ids in its UPDATEs */
    peer_up(&w, true, 1, 2);
    route_mon(&w, 0, 4, 77);
    assert_int_equal(decode(&w, &g, &err), MRD_OK);
    assert_non_null(strstr(g.lines, "|A|192.0.2.9|65009|10.0.0.0/8|77|64500 64501|"));

    /* no AS4 in the received OPEN: 2-byte AS_PATH, no path ids */
    memset(&w, 0, sizeof(w));
    peer_up(&w, false, 0, 0);
    route_mon(&w, 0, 2, 0);
    assert_int_equal(decode(&w, &g, &err), MRD_OK);
    assert_non_null(strstr(g.lines, "|A|192.0.2.9|65009|10.0.0.0/8|64500 64501|"));

    /* no Peer Up, but the A flag: 2-byte */
    memset(&w, 0, sizeof(w));
    route_mon(&w, 0x20, 2, 0);
    assert_int_equal(decode(&w, &g, &err), MRD_OK);
    assert_non_null(strstr(g.lines, "|10.0.0.0/8|64500 64501|"));
}

struct views {
    struct bgp_bmp_msg m;
    int primary, other;
};

static int count_view(const struct bgp_route *r, void *arg)
{
    struct views *v = arg;
    (void)r;
    if (v->m.primary_view)
        v->primary++;
    else
        v->other++;
    return 0;
}

static void test_views(void **state)
{
    struct w w = {0};
    struct views v = {0};
    struct bgp_bmp *b = NULL;
    size_t a;
    (void)state;
    route_mon(&w, 0, 4, 0); /* pre-policy first: the primary view */
    a = w.n;
    route_mon(&w, 0x40, 4, 0); /* post-policy of the same peer */
    assert_int_equal(bgp_bmp_new(&b, NULL), MRD_OK);
    assert_int_equal(bgp_bmp_decode(b, w.b, a, 0, &v.m, count_view, &v, NULL), MRD_OK);
    assert_int_equal(v.m.type, BGP_BMP_ROUTE_MONITORING);
    assert_false(v.m.peer.post_policy);
    assert_int_equal(bgp_bmp_decode(b, w.b + a, w.n - a, a, &v.m, count_view, &v, NULL), MRD_OK);
    assert_true(v.m.peer.post_policy);
    assert_int_equal(v.primary, 1);
    assert_int_equal(v.other, 1);
    bgp_bmp_free(b);
}

/* An Initiation or Termination message (RFC 7854 §4.3, §4.5): TLVs of
 * (type, bytes). */
static void info_msg(struct w *w, uint8_t type, const uint16_t *types, const char *const *vals,
                     const size_t *lens, size_t n)
{
    size_t start = w->n;
    u8(w, 3);
    u32(w, 0);
    u8(w, type);
    for (size_t i = 0; i < n; i++) {
        u16(w, types[i]);
        u16(w, (uint16_t)lens[i]);
        put(w, vals[i], lens[i]);
    }
    bmp_end(w, start);
}

static void test_initiation_and_termination(void **state)
{
    /* Initiation: sysDescr (1), sysName (2), a free string (0) ignored;
     * Termination: a string (0) and the reason (1, two bytes: 1 is
     * "unspecified", RFC 7854 §4.5). */
    static const uint16_t it[] = {0, 1, 2}, tt[] = {0, 1};
    static const char *const iv[] = {"hello", "BIRD 9", "edge-1"};
    static const char *const tv[] = {"bye", "\x00\x01"};
    static const size_t il[] = {5, 6, 6}, tl[] = {3, 2}, bad_l[] = {3, 3};
    static const char *const bad_v[] = {"bye", "\x00\x01\x02"};
    struct w w = {0};
    struct bgp_bmp *b = NULL;
    struct bgp_bmp_msg m;
    struct mrd_err err = {0};
    size_t a;

    (void)state;
    info_msg(&w, BGP_BMP_INITIATION, it, iv, il, 3);
    a = w.n;
    info_msg(&w, BGP_BMP_TERMINATION, tt, tv, tl, 2);
    assert_int_equal(bgp_bmp_new(&b, NULL), MRD_OK);
    assert_int_equal(bgp_bmp_decode(b, w.b, a, 0, &m, on_route, NULL, NULL), MRD_OK);
    assert_int_equal(m.type, BGP_BMP_INITIATION);
    assert_false(m.has_peer);
    assert_true(m.sys_name_len == 6 && memcmp(m.sys_name, "edge-1", 6) == 0);
    assert_true(m.sys_descr_len == 6 && memcmp(m.sys_descr, "BIRD 9", 6) == 0);
    assert_int_equal(bgp_bmp_decode(b, w.b + a, w.n - a, a, &m, on_route, NULL, NULL), MRD_OK);
    assert_int_equal(m.type, BGP_BMP_TERMINATION);
    assert_true(m.has_term_reason);
    assert_int_equal(m.term_reason, 1);
    /* a reason of three bytes, then a TLV running past the message */
    w.n = a;
    info_msg(&w, BGP_BMP_TERMINATION, tt, bad_v, bad_l, 2);
    assert_int_equal(bgp_bmp_decode(b, w.b + a, w.n - a, a, &m, on_route, NULL, &err), MRD_E_PARSE);
    assert_non_null(strstr(err.msg, "termination reason is not 2 bytes (RFC 7854 §4.5)"));
    w.b[w.n - 5] = 9; /* the reason TLV's length: 0x0903 bytes */
    memset(&err, 0, sizeof(err));
    assert_int_equal(bgp_bmp_decode(b, w.b + a, w.n - a, a, &m, on_route, NULL, &err), MRD_E_PARSE);
    assert_non_null(strstr(err.msg, "information TLV beyond the message (RFC 7854 §4.4)"));
    bgp_bmp_free(b);
}

static void expect_error(const struct w *w, enum mrd_code code, const char *msg)
{
    struct got g;
    struct mrd_err err = {0};
    assert_int_equal(decode(w, &g, &err), code);
    if (strstr(err.msg, msg) == NULL)
        fail_msg("error '%s' does not say '%s'", err.msg, msg);
}

static void test_errors(void **state)
{
    struct w w = {0};
    size_t n;
    (void)state;
    route_mon(&w, 0, 4, 0);
    n = w.n;

    w.b[0] = 2;
    expect_error(&w, MRD_E_PARSE, "bmp: message at offset 0: version is not 3 (RFC 7854 §4.1)");
    w.b[0] = 3;

    w.n = n - 1; /* cut inside the message */
    expect_error(&w, MRD_E_PARSE, "cut short by the end of the input");
    w.n = n;

    w.b[1] = 0x01; /* length 16 MiB and more */
    expect_error(&w, MRD_E_TOOBIG, "beyond the limit of 65583 bytes");
    w.b[1] = 0;

    memset(&w, 0, sizeof(w));
    u8(&w, 3);
    u32(&w, 6 + 10);
    u8(&w, 0);
    put(&w, marker, 10);
    expect_error(&w, MRD_E_PARSE, "truncated per-peer header (RFC 7854 §4.2)");

    /* an UPDATE whose length runs past the message */
    memset(&w, 0, sizeof(w));
    route_mon(&w, 0, 4, 0);
    w.b[6 + 42 + 16] = 0xff;
    expect_error(&w, MRD_E_PARSE, "BGP message length disagrees");

    /* a Statistics Report counting more TLVs than it holds */
    memset(&w, 0, sizeof(w));
    bmp_head(&w, 1, 0);
    u32(&w, 3);
    u16(&w, 7);
    u16(&w, 8);
    u32(&w, 0);
    u32(&w, 5);
    bmp_end(&w, 0);
    expect_error(&w, MRD_E_PARSE, "statistics TLV beyond the message");

    /* a Peer Up whose second message is no OPEN */
    memset(&w, 0, sizeof(w));
    peer_up(&w, true, 0, 0);
    w.b[w.n - 37 + 18] = 4; /* type of the received OPEN (37 bytes): KEEPALIVE */
    expect_error(&w, MRD_E_PARSE, "Peer Up does not carry an OPEN message");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gobgp_capture),
        cmocka_unit_test(test_bird_capture),
        cmocka_unit_test(test_gobgp_addpath_capture),
        cmocka_unit_test(test_frr_capture),
        cmocka_unit_test(test_local_as_kept_unless_before_peer),
        cmocka_unit_test(test_addpath_and_as2),
        cmocka_unit_test(test_views),
        cmocka_unit_test(test_initiation_and_termination),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
