/* Unit tests for bgp/rib.c, the routing view: longest match over the
 * routes of every peer, origins, replacement, withdrawal (kept as
 * withdrawn with its time and last origin, forgotten after
 * BGP_RIB_WITHDRAWN_KEEP), peer down, ADD-PATH, IPv6,
 * AS_SET origins, and bgp_prefix_holds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <arpa/inet.h>
#include <cmocka.h>

#include "bgp/bgp.h"

static struct bgp_prefix pfx(const char *s)
{
    struct bgp_prefix p;
    assert_int_equal(bgp_prefix_parse(s, strlen(s), &p, NULL), MRD_OK);
    return p;
}

static struct bgp_addr addr(const char *s)
{
    struct bgp_addr a;
    memset(&a, 0, sizeof(a));
    if (inet_pton(AF_INET, s, a.bytes) == 1) {
        a.afi = BGP_AFI_IPV4;
    } else {
        assert_int_equal(inet_pton(AF_INET6, s, a.bytes), 1);
        a.afi = BGP_AFI_IPV6;
    }
    return a;
}

/* Feeds one route of peer (10.0.0.PEER, AS 65000 + PEER): kind, prefix,
 * path id (0: none), origin (0: no path; UINT32_MAX: an AS_SET {1,2}). */
static void feed(struct bgp_rib *rib, enum bgp_route_kind kind, unsigned peer, const char *prefix,
                 uint32_t path_id, uint32_t origin, uint32_t t)
{
    struct bgp_attrs at;
    struct bgp_route r;
    char ip[32];

    memset(&r, 0, sizeof(r));
    memset(&at, 0, sizeof(at));
    (void)snprintf(ip, sizeof(ip), "10.0.0.%u", peer);
    r.kind = kind;
    r.time = t;
    r.peer_ip = addr(ip);
    r.peer_as = 65000 + peer;
    r.has_path_id = path_id != 0;
    r.path_id = path_id;
    if (kind != BGP_ROUTE_STATE)
        r.prefix = pfx(prefix);
    if (kind == BGP_ROUTE_STATE) {
        r.old_state = 6;
        r.new_state = 1;
    } else if (kind != BGP_ROUTE_WITHDRAW) {
        at.has = BGP_HAS_ASPATH;
        at.path.seg[0] = (struct bgp_seg){BGP_SEG_SEQUENCE, 0, 2};
        at.path.asn[0] = r.peer_as;
        at.path.asn[1] = origin == UINT32_MAX ? 3 : origin;
        at.path.nasn = 2;
        at.path.nseg = 1;
        if (origin == UINT32_MAX) {
            at.path.seg[1] = (struct bgp_seg){BGP_SEG_SET, 2, 2};
            at.path.asn[2] = 1;
            at.path.asn[3] = 2;
            at.path.nasn = 4;
            at.path.nseg = 2;
        }
        r.attrs = &at;
    }
    assert_int_equal(bgp_rib_route(rib, &r, NULL), MRD_OK);
}

static const char *fmt(const struct bgp_prefix *p, char out[64])
{
    struct mrd_buf b;
    mrd_buf_init(&b, 64);
    assert_int_equal(bgp_prefix_format(p, &b, NULL), MRD_OK);
    (void)snprintf(out, 64, "%.*s", (int)b.len, b.data);
    mrd_buf_release(&b);
    return out;
}

static void test_longest_match_and_origins(void **state)
{
    struct bgp_rib *rib;
    struct bgp_rib_entry e;
    char s[64];

    (void)state;
    assert_int_equal(bgp_rib_new(&rib, NULL), MRD_OK);
    assert_false(bgp_rib_lookup(rib, &(struct bgp_addr){BGP_AFI_IPV4, {192, 0, 2, 1}}, false, &e));
    feed(rib, BGP_ROUTE_RIB, 1, "192.0.2.0/24", 0, 64500, 100);
    feed(rib, BGP_ROUTE_RIB, 2, "192.0.2.0/24", 0, 64500, 100);
    feed(rib, BGP_ROUTE_ANNOUNCE, 1, "192.0.0.0/16", 0, 64400, 101);
    feed(rib, BGP_ROUTE_ANNOUNCE, 3, "192.0.2.128/25", 0, 64666, 102);
    assert_int_equal(bgp_rib_count(rib), 4);

    struct bgp_addr low = addr("192.0.2.1"), high = addr("192.0.2.200"), other = addr("192.0.9.9");
    assert_true(bgp_rib_lookup(rib, &low, true, &e));
    assert_string_equal(fmt(&e.prefix, s), "192.0.2.0/24");
    assert_int_equal(e.routes, 2);
    assert_int_equal(e.since, 100);
    assert_int_equal(e.norigins, 1);
    assert_int_equal(e.origins[0], 64500);
    assert_true(bgp_rib_lookup(rib, &high, true, &e));
    assert_string_equal(fmt(&e.prefix, s), "192.0.2.128/25");
    assert_int_equal(e.origins[0], 64666);
    assert_true(bgp_rib_lookup(rib, &other, true, &e));
    assert_string_equal(fmt(&e.prefix, s), "192.0.0.0/16");
    assert_false(bgp_rib_lookup(rib, &(struct bgp_addr){BGP_AFI_IPV4, {10, 1, 1, 1}}, true, &e));

    /* a second origin for the /24 (a MOAS), then a replacement back */
    feed(rib, BGP_ROUTE_ANNOUNCE, 2, "192.0.2.0/24", 0, 64501, 103);
    assert_true(bgp_rib_lookup(rib, &low, true, &e));
    assert_int_equal(e.routes, 2);
    assert_int_equal(e.norigins, 2);
    assert_int_equal(e.origins[0], 64500);
    assert_int_equal(e.origins[1], 64501);
    feed(rib, BGP_ROUTE_ANNOUNCE, 2, "192.0.2.0/24", 0, 64500, 104);
    assert_true(bgp_rib_lookup(rib, &low, true, &e));
    assert_int_equal(e.norigins, 1);
    assert_int_equal(bgp_rib_count(rib), 4);
    bgp_rib_free(rib);
}

static void test_withdrawn_prefixes_are_kept(void **state)
{
    struct bgp_rib *rib;
    struct bgp_rib_entry e;
    struct bgp_addr a = addr("198.51.100.7");
    char s[64];

    (void)state;
    assert_int_equal(bgp_rib_new(&rib, NULL), MRD_OK);
    feed(rib, BGP_ROUTE_RIB, 1, "198.51.0.0/16", 0, 64400, 100);
    feed(rib, BGP_ROUTE_RIB, 1, "198.51.100.0/24", 0, 64510, 100);
    feed(rib, BGP_ROUTE_RIB, 2, "198.51.100.0/24", 0, 64510, 100);
    feed(rib, BGP_ROUTE_WITHDRAW, 1, "198.51.100.0/24", 0, 0, 200);
    assert_true(bgp_rib_lookup(rib, &a, false, &e));
    assert_int_equal(e.routes, 1); /* still carried by peer 2 */
    /* a withdrawal of a route never announced changes nothing */
    feed(rib, BGP_ROUTE_WITHDRAW, 3, "198.51.100.0/24", 0, 0, 201);
    feed(rib, BGP_ROUTE_WITHDRAW, 2, "198.51.100.0/24", 0, 0, 210);
    assert_true(bgp_rib_lookup(rib, &a, false, &e));
    assert_string_equal(fmt(&e.prefix, s), "198.51.100.0/24");
    assert_int_equal(e.routes, 0);
    assert_int_equal(e.withdrawn_at, 210);
    assert_int_equal(e.norigins, 1);
    assert_int_equal(e.origins[0], 64510); /* of its last route */
    /* routed only: the covering /16 */
    assert_true(bgp_rib_lookup(rib, &a, true, &e));
    assert_string_equal(fmt(&e.prefix, s), "198.51.0.0/16");
    /* announced again: routed, since the new time */
    feed(rib, BGP_ROUTE_ANNOUNCE, 2, "198.51.100.0/24", 0, 64510, 300);
    assert_true(bgp_rib_lookup(rib, &a, true, &e));
    assert_string_equal(fmt(&e.prefix, s), "198.51.100.0/24");
    assert_int_equal(e.since, 300);
    bgp_rib_free(rib);
}

static void test_peer_down_addpath_ipv6_as_set(void **state)
{
    struct bgp_rib *rib;
    struct bgp_rib_entry e;
    struct bgp_addr v6 = addr("2001:db8:ff00::53");

    (void)state;
    assert_int_equal(bgp_rib_new(&rib, NULL), MRD_OK);
    /* two paths of one peer (ADD-PATH) are two routes */
    feed(rib, BGP_ROUTE_ANNOUNCE, 1, "2001:db8:ff00::/40", 1, 65010, 100);
    feed(rib, BGP_ROUTE_ANNOUNCE, 1, "2001:db8:ff00::/40", 2, 65011, 100);
    feed(rib, BGP_ROUTE_ANNOUNCE, 2, "2001:db8::/32", 0, UINT32_MAX, 100);
    assert_true(bgp_rib_lookup(rib, &v6, true, &e));
    assert_int_equal(e.routes, 2);
    assert_int_equal(e.norigins, 2);
    feed(rib, BGP_ROUTE_WITHDRAW, 1, "2001:db8:ff00::/40", 1, 0, 101);
    assert_true(bgp_rib_lookup(rib, &v6, true, &e));
    assert_int_equal(e.routes, 1);
    assert_int_equal(e.origins[0], 65011);
    /* the peer goes down: all its routes go */
    feed(rib, BGP_ROUTE_STATE, 1, NULL, 0, 0, 150);
    assert_true(bgp_rib_lookup(rib, &v6, true, &e));
    assert_int_equal(e.prefix.len, 32);
    assert_int_equal(e.norigins, 0); /* an AS_SET origin is no origin (RFC 6811 §2) */
    assert_true(bgp_rib_lookup(rib, &v6, false, &e));
    assert_int_equal(e.prefix.len, 40);
    assert_int_equal(e.routes, 0);
    assert_int_equal(e.withdrawn_at, 150);
    assert_int_equal(bgp_rib_count(rib), 1);
    /* an IPv4 address never matches an IPv6 prefix */
    assert_false(
        bgp_rib_lookup(rib, &(struct bgp_addr){BGP_AFI_IPV4, {32, 1, 13, 184}}, false, &e));
    bgp_rib_free(rib);
}

static void test_many_prefixes_rehash(void **state)
{
    struct bgp_rib *rib;
    struct bgp_rib_entry e;

    (void)state;
    assert_int_equal(bgp_rib_new(&rib, NULL), MRD_OK);
    for (unsigned i = 0; i < 5000; i++) {
        char p[32];
        (void)snprintf(p, sizeof(p), "10.%u.%u.0/24", i / 256, i % 256);
        feed(rib, BGP_ROUTE_ANNOUNCE, 1 + i % 3, p, 0, 64000 + i, 100);
    }
    for (unsigned i = 0; i < 5000; i += 37) {
        char a[32];
        (void)snprintf(a, sizeof(a), "10.%u.%u.9", i / 256, i % 256);
        struct bgp_addr x = addr(a);
        assert_true(bgp_rib_lookup(rib, &x, true, &e));
        assert_int_equal(e.origins[0], 64000 + i);
    }
    feed(rib, BGP_ROUTE_STATE, 2, NULL, 0, 0, 200);
    assert_int_equal(bgp_rib_count(rib), 5000 - 5000 / 3 - (5000 % 3 > 1));
    bgp_rib_free(rib);
}

/* A prefix withdrawn BGP_RIB_WITHDRAWN_KEEP seconds ago is dropped at the
 * next sweep (when the view has doubled); one withdrawn since stays, and
 * every routed prefix keeps its routes across the move (their prefix
 * indices are rewritten: withdrawal and peer down still find them). */
static void test_old_withdrawals_are_forgotten(void **state)
{
    const uint32_t t0 = 1700000000u, later = t0 + BGP_RIB_WITHDRAWN_KEEP + 100;
    struct bgp_rib *rib;
    struct bgp_rib_entry e;
    struct bgp_addr old = addr("192.0.2.1"), recent = addr("198.51.100.1"),
                    kept = addr("203.0.113.1");
    char s[64];

    (void)state;
    assert_int_equal(bgp_rib_new(&rib, NULL), MRD_OK);
    feed(rib, BGP_ROUTE_ANNOUNCE, 1, "192.0.2.0/24", 0, 64500, t0);
    feed(rib, BGP_ROUTE_WITHDRAW, 1, "192.0.2.0/24", 0, 0, t0 + 10);
    feed(rib, BGP_ROUTE_ANNOUNCE, 1, "198.51.100.0/24", 0, 64501, t0);
    feed(rib, BGP_ROUTE_WITHDRAW, 1, "198.51.100.0/24", 0, 0, t0 + BGP_RIB_WITHDRAWN_KEEP);
    feed(rib, BGP_ROUTE_ANNOUNCE, 1, "203.0.113.0/24", 0, 64502, t0);
    assert_true(bgp_rib_lookup(rib, &old, false, &e)); /* not yet swept */
    for (unsigned i = 0; i < 2 * BGP_RIB_PRUNE_MIN; i++) {
        char p[32];
        (void)snprintf(p, sizeof(p), "10.%u.%u.0/24", i / 256, i % 256);
        feed(rib, BGP_ROUTE_ANNOUNCE, 2 + i % 2, p, 0, 64000 + i, later);
    }
    assert_false(bgp_rib_lookup(rib, &old, false, &e));
    assert_true(bgp_rib_lookup(rib, &recent, false, &e));
    assert_string_equal(fmt(&e.prefix, s), "198.51.100.0/24");
    assert_int_equal(e.routes, 0);
    assert_int_equal(e.withdrawn_at, t0 + BGP_RIB_WITHDRAWN_KEEP);
    assert_int_equal(e.origins[0], 64501);
    assert_true(bgp_rib_lookup(rib, &kept, true, &e));
    assert_int_equal(e.routes, 1);
    assert_int_equal(e.origins[0], 64502);
    for (unsigned i = 0; i < 2 * BGP_RIB_PRUNE_MIN; i += 41) {
        char a[32];
        (void)snprintf(a, sizeof(a), "10.%u.%u.9", i / 256, i % 256);
        struct bgp_addr x = addr(a);
        assert_true(bgp_rib_lookup(rib, &x, true, &e));
        assert_int_equal(e.origins[0], 64000 + i);
    }
    /* the moved prefixes' routes are still found and dropped */
    feed(rib, BGP_ROUTE_WITHDRAW, 1, "203.0.113.0/24", 0, 0, later + 1);
    assert_false(bgp_rib_lookup(rib, &kept, true, &e));
    assert_true(bgp_rib_lookup(rib, &kept, false, &e));
    assert_int_equal(e.withdrawn_at, later + 1);
    feed(rib, BGP_ROUTE_STATE, 3, NULL, 0, 0, later + 2);
    assert_int_equal(bgp_rib_count(rib), BGP_RIB_PRUNE_MIN);
    bgp_rib_free(rib);
}

static void test_prefix_holds(void **state)
{
    struct bgp_prefix p = pfx("203.0.113.128/25"), all = pfx("0.0.0.0/0"),
                      v6 = pfx("2001:db8::/33");
    struct bgp_addr in = addr("203.0.113.200"), out = addr("203.0.113.100");

    (void)state;
    assert_true(bgp_prefix_holds(&p, &in));
    assert_false(bgp_prefix_holds(&p, &out));
    assert_true(bgp_prefix_holds(&all, &out));
    assert_false(bgp_prefix_holds(&v6, &in));
    struct bgp_addr a6 = addr("2001:db8:7fff::1"), b6 = addr("2001:db8:8000::1");
    assert_true(bgp_prefix_holds(&v6, &a6));
    assert_false(bgp_prefix_holds(&v6, &b6));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_longest_match_and_origins),
        cmocka_unit_test(test_withdrawn_prefixes_are_kept),
        cmocka_unit_test(test_peer_down_addpath_ipv6_as_set),
        cmocka_unit_test(test_many_prefixes_rehash),
        cmocka_unit_test(test_old_withdrawals_are_forgotten),
        cmocka_unit_test(test_prefix_holds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
