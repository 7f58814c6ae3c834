/* Unit tests for bgp/ VRP parsing and RFC 6811 route-origin validation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "bgp/bgp.h"

static struct bgp_aspath path;

/* Sets the global path to a sequence, optionally followed by a set. */
static const struct bgp_aspath *seq(const uint32_t *asns, size_t n, const uint32_t *set,
                                    size_t nset)
{
    memset(&path, 0, sizeof(path));
    if (n > 0) {
        path.seg[path.nseg++] = (struct bgp_seg){BGP_SEG_SEQUENCE, 0, (uint16_t)n};
        memcpy(path.asn, asns, n * sizeof(*asns));
        path.nasn = n;
    }
    if (nset > 0) {
        path.seg[path.nseg++] = (struct bgp_seg){BGP_SEG_SET, (uint16_t)path.nasn, (uint16_t)nset};
        memcpy(path.asn + path.nasn, set, nset * sizeof(*set));
        path.nasn += nset;
    }
    return &path;
}

static struct bgp_prefix pfx(const char *s)
{
    struct bgp_prefix p;
    assert_int_equal(bgp_prefix_parse(s, strlen(s), &p, NULL), MRD_OK);
    return p;
}

static struct bgp_vrps *load(const char *text, int64_t now)
{
    struct bgp_vrps *v = NULL;
    struct mrd_err err = {0};
    assert_int_equal(bgp_vrps_new(&v, NULL), MRD_OK);
    assert_int_equal(bgp_vrps_parse(v, text, strlen(text), now, &err), MRD_OK);
    bgp_vrps_finish(v);
    return v;
}

static enum bgp_rov check(const struct bgp_vrps *v, const char *prefix, uint32_t origin,
                          enum bgp_rov_reason *reason)
{
    uint32_t p[2] = {65001, origin};
    struct bgp_prefix pf = pfx(prefix);
    return bgp_rov_validate(v, &pf, seq(p, 2, NULL, 0), reason);
}

static const char csv[] = "ASN,IP Prefix,Max Length,Trust Anchor,Expires\n"
                          "AS64500,192.0.2.0/24,24,ta,\n"
                          "AS64501,192.0.2.0/24,26,ta,\n"
                          "AS0,203.0.113.0/24,32,ta,\n"
                          "AS64502,10.0.0.0/8,16,ta,100\n"
                          "AS64510,2001:db8::/32,48,ta,\n";

static void test_rfc6811_cases(void **state)
{
    struct bgp_vrps *v = load(csv, 50);
    enum bgp_rov_reason r;

    (void)state;
    assert_int_equal(bgp_vrps_count(v), 5);
    assert_int_equal(check(v, "192.0.2.0/24", 64500, &r), BGP_ROV_VALID);
    assert_int_equal(r, BGP_ROV_R_MATCH);
    /* Two VRPs cover the /25: AS64500 stops at /24, AS64501 allows /26. */
    assert_int_equal(check(v, "192.0.2.0/25", 64500, &r), BGP_ROV_INVALID);
    assert_int_equal(r, BGP_ROV_R_TOO_SPECIFIC);
    assert_int_equal(check(v, "192.0.2.0/25", 64501, &r), BGP_ROV_VALID);
    assert_int_equal(check(v, "192.0.2.0/27", 64501, &r), BGP_ROV_INVALID);
    assert_int_equal(check(v, "192.0.2.0/24", 64999, &r), BGP_ROV_INVALID);
    assert_int_equal(r, BGP_ROV_R_WRONG_ORIGIN);
    /* A covering /23 route is not covered by the /24 VRPs. */
    assert_int_equal(check(v, "192.0.2.0/23", 64500, &r), BGP_ROV_NOT_FOUND);
    assert_int_equal(r, BGP_ROV_R_NOT_COVERED);
    /* AS0 (RFC 7607) covers but never matches, not even an origin of 0. */
    assert_int_equal(check(v, "203.0.113.7/32", 0, &r), BGP_ROV_INVALID);
    assert_int_equal(r, BGP_ROV_R_AS0);
    /* Not expired at now=50. */
    assert_int_equal(check(v, "10.5.0.0/16", 64502, &r), BGP_ROV_VALID);
    assert_int_equal(check(v, "2001:db8:ab::/48", 64510, &r), BGP_ROV_VALID);
    assert_int_equal(check(v, "2001:db8:ab::/49", 64510, &r), BGP_ROV_INVALID);
    assert_int_equal(check(v, "2001:db9::/32", 64510, &r), BGP_ROV_NOT_FOUND);
    /* An IPv4 VRP never covers IPv6 space with the same leading bytes. */
    assert_int_equal(check(v, "c000:200::/24", 64500, &r), BGP_ROV_NOT_FOUND);
    bgp_vrps_free(v);
}

static void test_as_set_origin_is_none(void **state)
{
    struct bgp_vrps *v = load(csv, 0);
    uint32_t s[1] = {65001}, set[2] = {64500, 64501};
    struct bgp_prefix p = pfx("192.0.2.0/24");
    enum bgp_rov_reason r;
    uint32_t origin;

    (void)state;
    assert_false(bgp_aspath_origin(seq(s, 1, set, 2), &origin));
    assert_int_equal(bgp_rov_validate(v, &p, &path, &r), BGP_ROV_INVALID);
    assert_int_equal(r, BGP_ROV_R_ORIGIN_NONE);
    /* Uncovered with origin NONE stays NotFound. */
    p = pfx("198.51.100.0/24");
    assert_int_equal(bgp_rov_validate(v, &p, &path, &r), BGP_ROV_NOT_FOUND);
    /* An empty path (iBGP-originated) also has origin NONE. */
    p = pfx("192.0.2.0/24");
    assert_int_equal(bgp_rov_validate(v, &p, seq(NULL, 0, NULL, 0), &r), BGP_ROV_INVALID);
    bgp_vrps_free(v);
}

static void test_expired_vrps_dropped(void **state)
{
    struct bgp_vrps *v = load(csv, 101);
    enum bgp_rov_reason r;

    (void)state;
    assert_int_equal(bgp_vrps_count(v), 4);
    assert_int_equal(check(v, "10.5.0.0/16", 64502, &r), BGP_ROV_NOT_FOUND);
    bgp_vrps_free(v);
}

static void test_json_forms(void **state)
{
    const char *rc = "{\"roas\":[{\"asn\":64500,\"prefix\":\"192.0.2.0/24\",\"maxLength\":24,"
                     "\"ta\":\"x\",\"expires\":1000}]}";
    const char *rt = "{\"roas\":[{\"asn\":\"AS64500\",\"prefix\":\"192.0.2.0/24\","
                     "\"maxLength\":24,\"ta\":\"x\"}]}";
    struct bgp_vrps *v = load(rc, 999);
    enum bgp_rov_reason r;

    (void)state;
    assert_int_equal(check(v, "192.0.2.0/24", 64500, &r), BGP_ROV_VALID);
    bgp_vrps_free(v);
    v = load(rc, 1001);
    assert_int_equal(bgp_vrps_count(v), 0);
    bgp_vrps_free(v);
    v = load(rt, 5000);
    assert_int_equal(check(v, "192.0.2.0/24", 64500, &r), BGP_ROV_VALID);
    bgp_vrps_free(v);
}

static void test_bad_vrps(void **state)
{
    static const char *const bad[] = {
        "ASN,IP Prefix,Max Length\nAS1,192.0.2.0/24,23\n", /* maxLength < length */
        "AS1,192.0.2.0/24,33\n",                           /* beyond the family */
        "AS1,192.0.2.1/24,24\n",                           /* host bits */
        "ASx,192.0.2.0/24,24\n",
        "AS1,192.0.2.0/24\n",
        "{\"roas\":{}}",
        "{\"roas\":[{\"asn\":-1,\"prefix\":\"192.0.2.0/24\",\"maxLength\":24}]}",
        "{\"roas\":[{\"asn\":1,\"prefix\":\"192.0.2.0/24\",\"maxLength\":\"24\"}]}",
    };
    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct bgp_vrps *v = NULL;
        struct mrd_err err = {0};
        assert_int_equal(bgp_vrps_new(&v, NULL), MRD_OK);
        assert_int_equal(bgp_vrps_parse(v, bad[i], strlen(bad[i]), 0, &err), MRD_E_PARSE);
        assert_true(strlen(err.msg) > 0);
        if (i == 0) /* the line is named, even past the field checks */
            assert_non_null(strstr(err.msg, "vrp: line 2: vrp: maxLength 23 outside"));
        bgp_vrps_free(v);
    }
}

/* ---- bgp_scan: cached verdicts, Invalid-only recording ---- */

struct seen {
    struct bgp_rov_event ev[64];
    uint32_t origin[64];
    size_t n;
};

static void keep(const struct bgp_rov_event *ev, void *ctx)
{
    struct seen *s = ctx;
    assert_true(s->n < 64);
    s->ev[s->n] = *ev;
    assert_true(bgp_aspath_origin(ev->path, &s->origin[s->n]));
    s->ev[s->n++].path = NULL; /* borrowed for the call only */
}

/* The same (prefix, origin) under many paths and peers, every verdict
 * kind: with keep_all every distinct pair carries bgp_rov_validate's own
 * verdict (the cache answers most of them); without, exactly the Invalid
 * ones, in the same order with the same times and peers. */
static void test_scan_cached_verdicts(void **state)
{
    static const char *const prefixes[] = {"192.0.2.0/24", "192.0.2.0/25", "203.0.113.0/24",
                                           "198.51.100.0/24", "2001:db8:ab::/48"};
    static const uint32_t origins[] = {64500, 64501, 64510, 0, 64999};
    struct bgp_vrps *v = load(csv, 0);
    struct seen all = {0}, inv = {0};
    struct bgp_scan *sa = NULL, *si = NULL;
    struct bgp_attrs attrs;
    uint32_t t = 1000;
    size_t k = 0;

    (void)state;
    assert_int_equal(bgp_scan_new(v, true, &sa, NULL), MRD_OK);
    assert_int_equal(bgp_scan_new(v, false, &si, NULL), MRD_OK);
    for (int round = 0; round < 3; round++) {
        for (size_t p = 0; p < 5; p++) {
            for (size_t o = 0; o < 5; o++) {
                uint32_t hops[2] = {65000 + (uint32_t)(round % 2), origins[o]};
                struct bgp_route r;
                memset(&r, 0, sizeof(r));
                memset(&attrs, 0, sizeof(attrs));
                r.kind = BGP_ROUTE_ANNOUNCE;
                r.time = t++;
                r.peer_as = 65000 + (uint32_t)round;
                r.prefix = pfx(prefixes[p]);
                attrs.path = *seq(hops, 2, NULL, 0);
                r.attrs = &attrs;
                assert_int_equal(bgp_scan_route(sa, &r, NULL), MRD_OK);
                assert_int_equal(bgp_scan_route(si, &r, NULL), MRD_OK);
            }
        }
    }
    bgp_scan_each(sa, keep, &all);
    bgp_scan_each(si, keep, &inv);
    assert_int_equal(all.n, 50); /* 5 prefixes x 5 origins x 2 first hops */
    for (size_t i = 0; i < all.n; i++) {
        enum bgp_rov_reason reason;
        uint32_t hops[2] = {65000, all.origin[i]};
        enum bgp_rov rov = bgp_rov_validate(v, &all.ev[i].prefix, seq(hops, 2, NULL, 0), &reason);
        assert_int_equal(all.ev[i].rov, rov);
        assert_int_equal(all.ev[i].reason, reason);
        if (rov != BGP_ROV_INVALID)
            continue;
        assert_true(k < inv.n);
        assert_memory_equal(&inv.ev[k].prefix, &all.ev[i].prefix, sizeof(struct bgp_prefix));
        assert_int_equal(inv.origin[k], all.origin[i]);
        assert_int_equal(inv.ev[k].first_seen, all.ev[i].first_seen);
        assert_int_equal(inv.ev[k].last_seen, all.ev[i].last_seen);
        assert_int_equal(inv.ev[k].peer_as, all.ev[i].peer_as);
        assert_int_equal(inv.ev[k].reason, all.ev[i].reason);
        k++;
    }
    assert_int_equal(k, inv.n);
    assert_true(inv.n > 0 && inv.n < all.n);
    bgp_scan_free(sa);
    bgp_scan_free(si);
    bgp_vrps_free(v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc6811_cases),
        cmocka_unit_test(test_as_set_origin_is_none),
        cmocka_unit_test(test_expired_vrps_dropped),
        cmocka_unit_test(test_json_forms),
        cmocka_unit_test(test_bad_vrps),
        cmocka_unit_test(test_scan_cached_verdicts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
