/* Unit tests for bgp/ detectors: ARTEMIS hijack classification, valley-free
 * and RFC 9234 OTC leak checks, and the event tracker (update, end on
 * withdrawal/replacement/peer down, group outage and its end). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "bgp/bgp.h"
#include "core/alloc.h"

static const char cfg_text[] =
    "{\"prefixes\": ["
    " {\"prefix\": \"203.0.113.0/24\", \"origins\": [64500], \"neighbors\": [64501]},"
    " {\"prefix\": \"2001:db8:ff00::/40\", \"origins\": [65010], \"max_length\": 48},"
    " {\"prefix\": \"192.0.2.0/24\"},"
    " {\"prefix\": \"198.18.0.0/16\", \"origins\": [64700], \"neighbors\": [64701],"
    "  \"max_length\": 20, \"policies\": [\"no-export\"]},"
    " {\"prefix\": \"198.19.0.0/16\", \"policies\": [\"no-export\"]}],"
    " \"groups\": {\"g1\": [65030], \"g2\": [65040]}}";

static const char rel_text[] = "174|64510|-1\n174|64520|-1\n3356|64520|-1\n3356|64530|-1\n"
                               "3356|174|0\n64520|64530|0\n";

static struct bgp_config *cfg;
static struct bgp_asrel *rel;

static int setup(void **state)
{
    (void)state;
    assert_int_equal(bgp_config_parse(cfg_text, strlen(cfg_text), &cfg, NULL), MRD_OK);
    assert_int_equal(bgp_asrel_parse(rel_text, strlen(rel_text), &rel, NULL), MRD_OK);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    bgp_config_free(cfg);
    bgp_asrel_free(rel);
    return 0;
}

static struct bgp_prefix pfx(const char *s)
{
    struct bgp_prefix p;
    assert_int_equal(bgp_prefix_parse(s, strlen(s), &p, NULL), MRD_OK);
    return p;
}

/* attrs with path: a sequence, then (if nset) a set. */
static void mkpath(struct bgp_attrs *a, const uint32_t *asns, size_t n, const uint32_t *set,
                   size_t nset)
{
    memset(a, 0, sizeof(*a));
    a->has = BGP_HAS_ASPATH;
    if (n > 0) {
        a->path.seg[a->path.nseg++] = (struct bgp_seg){BGP_SEG_SEQUENCE, 0, (uint16_t)n};
        memcpy(a->path.asn, asns, n * sizeof(*asns));
        a->path.nasn = n;
    }
    if (nset > 0) {
        a->path.seg[a->path.nseg++] =
            (struct bgp_seg){BGP_SEG_SET, (uint16_t)a->path.nasn, (uint16_t)nset};
        memcpy(a->path.asn + a->path.nasn, set, nset * sizeof(*set));
        a->path.nasn += nset;
    }
}

static struct bgp_attrs A;

#define PATH(...)                                                                                  \
    do {                                                                                           \
        const uint32_t p_[] = {__VA_ARGS__};                                                       \
        mkpath(&A, p_, sizeof(p_) / sizeof(p_[0]), NULL, 0);                                       \
    } while (0)

static const char *classify(const char *prefix, struct bgp_hijack *h)
{
    struct bgp_prefix p = pfx(prefix);
    return bgp_hijack_classify(cfg, &p, &A.path, h) ? h->type : NULL;
}

static void test_hijack_types(void **state)
{
    struct bgp_hijack h;
    uint32_t set[] = {64500, 64666};

    (void)state;
    PATH(65001, 3356, 64501, 64500); /* legitimate */
    assert_null(classify("203.0.113.0/24", &h));
    PATH(65001, 3356, 64501, 64501, 64500, 64500); /* prepends do not matter */
    assert_null(classify("203.0.113.0/24", &h));
    PATH(65001, 174, 64666);
    assert_string_equal(classify("203.0.113.0/24", &h), "E|0|-|-");
    assert_int_equal(h.hijacker_as, 64666);
    assert_string_equal(classify("203.0.113.0/25", &h), "S|0|-|-");
    PATH(65001, 174, 64666, 64500); /* forged origin: ROV would say valid */
    assert_string_equal(classify("203.0.113.0/24", &h), "E|1|-|-");
    assert_int_equal(h.hijacker_as, 64666);
    PATH(65001, 174, 64666, 64500, 64500);
    assert_string_equal(classify("203.0.113.0/24", &h), "E|1|-|-");
    PATH(65001, 64501, 64500); /* legal hop, but more specific than max_length (24) */
    assert_string_equal(classify("203.0.113.0/25", &h), "S|-|-|-");
    assert_int_equal(h.hijacker_as, 64500);
    PATH(64500); /* the peer is the origin: no first hop to judge */
    assert_null(classify("203.0.113.0/24", &h));
    PATH(65001, 64777, 65010); /* neighbors absent: any first hop */
    assert_null(classify("2001:db8:ff00::/48", &h));
    assert_string_equal(classify("2001:db8:ff00::/49", &h), "S|-|-|-");
    PATH(65001, 64888);
    assert_string_equal(classify("192.0.2.0/24", &h), "Q|0|-|-");
    assert_string_equal(classify("192.0.2.0/25", &h), "Q|0|-|-");
    assert_int_equal(h.hijacker_as, 64888);
    assert_null(classify("198.51.100.0/24", &h));    /* not configured */
    mkpath(&A, (uint32_t[]){65001, 174}, 2, set, 2); /* AS_SET origin is never legal */
    assert_string_equal(classify("203.0.113.0/24", &h), "E|0|-|-");
    assert_false(h.has_hijacker);
}

static void test_hijack_policy_no_export(void **state)
{
    /* ARTEMIS's policy dimension: the owner announces 198.18.0.0/16 with
     * NO_EXPORT to its neighbour 64701; a path of more than 3 ASes
     * (prepends removed) shows the route went past it. */
    struct bgp_hijack h;
    uint32_t set[] = {64700, 64666};

    (void)state;
    PATH(64701, 64700); /* the neighbour's own session */
    assert_null(classify("198.18.0.0/16", &h));
    PATH(65001, 64701, 64700); /* 3 ASes: not judged, as ARTEMIS */
    assert_null(classify("198.18.0.0/16", &h));
    PATH(65001, 65001, 174, 64701, 64701, 64700); /* 4 with prepends: still 4 */
    assert_string_equal(classify("198.18.0.0/16", &h), "E|-|-|L");
    PATH(65001, 174, 3356, 64701, 64700); /* legal origin and hop, exported on */
    assert_string_equal(classify("198.18.0.0/16", &h), "E|-|-|L");
    assert_true(h.has_hijacker);
    assert_int_equal(h.hijacker_as, 64701); /* who passed the no-export route on */
    assert_string_equal(classify("198.18.0.0/20", &h), "S|-|-|L");
    assert_int_equal(h.hijacker_as, 64701);
    assert_string_equal(classify("198.18.0.0/21", &h), "S|-|-|L"); /* past max_length too */
    PATH(65001, 174, 3356, 64666);
    assert_string_equal(classify("198.18.0.0/16", &h), "E|0|-|L");
    assert_int_equal(h.hijacker_as, 64666); /* the path's culprit comes first */
    PATH(65001, 174, 3356, 64666, 64700);
    assert_string_equal(classify("198.18.0.0/16", &h), "E|1|-|L");
    assert_int_equal(h.hijacker_as, 64666);
    PATH(65001, 174, 3356, 64888);
    assert_string_equal(classify("198.19.0.0/16", &h), "Q|0|-|L");
    PATH(65001, 174, 64888);
    assert_string_equal(classify("198.19.0.0/16", &h), "Q|0|-|-");
    /* an AS_SET at the end: no first hop to blame for the policy */
    mkpath(&A, (uint32_t[]){65001, 174, 3356, 64701}, 4, set, 2);
    assert_string_equal(classify("198.18.0.0/16", &h), "E|0|-|-");
    /* without the policy nothing changes (203.0.113.0/24 has none) */
    PATH(65001, 174, 3356, 64501, 64500);
    assert_null(classify("203.0.113.0/24", &h));
}

static bool leak(struct bgp_leak *l)
{
    return bgp_leak_check(rel, &A, l);
}

static void test_leaks(void **state)
{
    struct bgp_leak l;
    uint32_t set[] = {1, 2};

    (void)state;
    PATH(65103, 3356, 64520, 174, 64510); /* up, down, up: 64520 leaked */
    assert_true(leak(&l));
    assert_int_equal(l.reason, BGP_LEAK_VALLEY);
    assert_int_equal(l.leaker_as, 64520);
    assert_int_equal(l.from_as, 174);
    assert_int_equal(l.to_as, 3356);
    PATH(65103, 64520, 174, 64510); /* up, down: fine */
    assert_false(leak(&l));
    PATH(65103, 64520, 64520, 174, 174, 64510); /* prepends are one hop */
    assert_false(leak(&l));
    PATH(65103, 64520, 174, 3356, 64530); /* up, across, down */
    assert_false(leak(&l));
    PATH(65103, 3356, 174, 64510); /* up, across: fine */
    assert_false(leak(&l));
    PATH(64530, 64520, 3356); /* down then across: 64520 leaked to its peer 64530 */
    assert_true(leak(&l));
    assert_int_equal(l.leaker_as, 64520);
    assert_int_equal(l.from_as, 3356);
    assert_int_equal(l.to_as, 64530);
    PATH(65103, 3356, 9999, 64520, 174, 64510); /* unknown link: judged afresh after it */
    assert_false(leak(&l));
    mkpath(&A, (uint32_t[]){3356, 64520, 174}, 3, set, 2);
    assert_true(leak(&l));           /* the set ends the path, what precedes is judged */
    PATH(65104, 3356, 64530, 64531); /* 64531|64530 unknown: no valley visible */
    assert_false(leak(&l));
    A.has |= BGP_HAS_OTC;
    A.otc = 64531; /* ...but 64531 marked it Only to Customer */
    assert_true(leak(&l));
    assert_int_equal(l.reason, BGP_LEAK_OTC);
    assert_int_equal(l.leaker_as, 64530);
    assert_int_equal(l.from_as, 64531);
    assert_int_equal(l.to_as, 3356);
    A.otc = 3356; /* set by the last AS: nothing after it */
    assert_false(leak(&l));
    assert_false(bgp_leak_check(NULL, &A, &l));
}

/* ---- event tracker ---- */

struct seen {
    struct bgp_event ev[16];
    char type[16][8];
    size_t n;
};

static void collect(const struct bgp_event *ev, void *arg)
{
    struct seen *s = arg;
    assert_true(s->n < 16);
    s->ev[s->n] = *ev;
    s->ev[s->n].path = NULL;
    s->n++;
}

static void feed(struct bgp_detect *d, enum bgp_route_kind kind, uint32_t t, uint32_t peer,
                 const char *prefix)
{
    struct bgp_route r;
    memset(&r, 0, sizeof(r));
    r.kind = kind;
    r.time = t;
    r.peer_ip.afi = BGP_AFI_IPV4;
    r.peer_ip.bytes[3] = (uint8_t)peer;
    r.peer_as = 65100 + peer;
    if (prefix != NULL)
        r.prefix = pfx(prefix);
    r.attrs = kind == BGP_ROUTE_RIB || kind == BGP_ROUTE_ANNOUNCE ? &A : NULL;
    if (kind == BGP_ROUTE_STATE)
        r.new_state = 1; /* Idle: the session is gone */
    assert_int_equal(bgp_detect_route(d, &r, NULL), MRD_OK);
}

static void test_events_update_and_end(void **state)
{
    struct bgp_detect *d = NULL;
    struct seen s = {0};

    (void)state;
    assert_int_equal(bgp_detect_new(cfg, rel, NULL, &d, NULL), MRD_OK);
    PATH(65101, 174, 64666);
    feed(d, BGP_ROUTE_ANNOUNCE, 10, 1, "203.0.113.0/24");
    PATH(65102, 174, 64666);
    feed(d, BGP_ROUTE_ANNOUNCE, 12, 2, "203.0.113.0/24"); /* same event, second peer */
    feed(d, BGP_ROUTE_ANNOUNCE, 15, 2, "203.0.113.0/24"); /* again: last_seen moves */
    feed(d, BGP_ROUTE_WITHDRAW, 20, 1, "203.0.113.0/24"); /* one peer still has it */
    PATH(65102, 64501, 64500);
    feed(d, BGP_ROUTE_ANNOUNCE, 30, 2, "203.0.113.0/24"); /* replaced: ends */
    PATH(65103, 174, 64666);
    feed(d, BGP_ROUTE_ANNOUNCE, 40, 3, "203.0.113.0/24"); /* a new event, same key */
    PATH(65103, 3356, 64520, 174, 64510);
    feed(d, BGP_ROUTE_ANNOUNCE, 41, 3, "10.50.0.0/16");
    feed(d, BGP_ROUTE_STATE, 50, 3, NULL); /* peer 3 down: both its events end */
    bgp_detect_finish(d);
    bgp_detect_each(d, collect, &s);
    bgp_detect_free(d);

    assert_int_equal(s.n, 3);
    assert_int_equal(s.ev[0].kind, BGP_EV_HIJACK);
    assert_string_equal(s.ev[0].type, "E|0|-|-");
    assert_int_equal(s.ev[0].first_seen, 10);
    assert_int_equal(s.ev[0].peers, 2);
    assert_int_equal(s.ev[0].peer_as, 65101);
    assert_true(s.ev[0].ended);
    assert_int_equal(s.ev[0].ended_at, 30);
    assert_int_equal(s.ev[0].last_seen, 30);
    assert_int_equal(s.ev[1].first_seen, 40);
    assert_true(s.ev[1].ended);
    assert_int_equal(s.ev[1].ended_at, 50);
    assert_int_equal(s.ev[2].kind, BGP_EV_LEAK);
    assert_int_equal(s.ev[2].leak.leaker_as, 64520);
    assert_int_equal(s.ev[2].ended_at, 50);
}

/* What a live sensor stores: an event when it appears, when more routes
 * carry it and when it ends; nothing for a re-announcement. */
static void test_changed_events(void **state)
{
    struct bgp_detect *d = NULL;
    struct seen s = {0};

    (void)state;
    assert_int_equal(bgp_detect_new(cfg, NULL, NULL, &d, NULL), MRD_OK);
    bgp_detect_each_changed(d, collect, &s);
    assert_int_equal(s.n, 0);
    PATH(65101, 174, 64666);
    feed(d, BGP_ROUTE_ANNOUNCE, 10, 1, "203.0.113.0/24");
    bgp_detect_each_changed(d, collect, &s);
    assert_int_equal(s.n, 1);
    assert_int_equal(s.ev[0].peers, 1);
    assert_false(s.ev[0].ended);
    feed(d, BGP_ROUTE_ANNOUNCE, 11, 1, "203.0.113.0/24"); /* the same route again */
    bgp_detect_each_changed(d, collect, &s);
    assert_int_equal(s.n, 1); /* nothing new */
    PATH(65102, 174, 64666);
    feed(d, BGP_ROUTE_ANNOUNCE, 12, 2, "203.0.113.0/24"); /* a second peer */
    feed(d, BGP_ROUTE_WITHDRAW, 13, 2, "203.0.113.0/24");
    bgp_detect_each_changed(d, collect, &s);
    assert_int_equal(s.n, 2); /* one change of one event, however many steps */
    assert_int_equal(s.ev[1].peers, 2);
    assert_int_equal(s.ev[1].first_seen, 10);
    feed(d, BGP_ROUTE_WITHDRAW, 14, 1, "203.0.113.0/24");
    bgp_detect_each_changed(d, collect, &s);
    assert_int_equal(s.n, 3);
    assert_true(s.ev[2].ended);
    assert_int_equal(s.ev[2].ended_at, 14);
    bgp_detect_each_changed(d, collect, &s);
    assert_int_equal(s.n, 3);

    /* A second event stays open while the first is forgotten. */
    PATH(65103, 174, 64777);
    feed(d, BGP_ROUTE_ANNOUNCE, 15, 3, "203.0.113.0/24");
    bgp_detect_forget_ended(d); /* a change is unreported: nothing forgotten */
    bgp_detect_each_changed(d, collect, &s);
    assert_int_equal(s.n, 4);
    bgp_detect_forget_ended(d);
    memset(&s, 0, sizeof(s));
    bgp_detect_each(d, collect, &s);
    assert_int_equal(s.n, 1); /* only the open one is left */
    assert_int_equal(s.ev[0].hijacker_as, 64777);
    assert_int_equal(s.ev[0].first_seen, 15);
    /* the forgotten hijack again: a new event; the open one still ends */
    PATH(65101, 174, 64666);
    feed(d, BGP_ROUTE_ANNOUNCE, 16, 1, "203.0.113.0/24");
    feed(d, BGP_ROUTE_WITHDRAW, 17, 3, "203.0.113.0/24");
    memset(&s, 0, sizeof(s));
    bgp_detect_each_changed(d, collect, &s);
    assert_int_equal(s.n, 2);
    assert_int_equal(s.ev[0].hijacker_as, 64777);
    assert_true(s.ev[0].ended);
    assert_int_equal(s.ev[1].hijacker_as, 64666);
    assert_int_equal(s.ev[1].first_seen, 16);
    assert_false(s.ev[1].ended);
    bgp_detect_forget_ended(d);
    memset(&s, 0, sizeof(s));
    bgp_detect_each(d, collect, &s);
    assert_int_equal(s.n, 1);
    assert_int_equal(s.ev[0].first_seen, 16);
    bgp_detect_free(d);
}

static void test_outage_needs_steady_controls(void **state)
{
    static const char *const g1[] = {"10.30.0.0/16", "10.31.0.0/16"};
    static const char *const g2[] = {"10.40.0.0/16", "10.41.0.0/16"};
    struct bgp_detect *d = NULL;
    struct seen s = {0};

    (void)state;
    assert_int_equal(bgp_detect_new(cfg, NULL, NULL, &d, NULL), MRD_OK);
    for (uint32_t peer = 1; peer <= 3; peer++) {
        for (int i = 0; i < 2; i++) {
            PATH(65100 + peer, 65030);
            feed(d, BGP_ROUTE_RIB, 0, peer, g1[i]);
            PATH(65100 + peer, 65040);
            feed(d, BGP_ROUTE_RIB, 0, peer, g2[i]);
        }
    }
    /* Everything falls at t=10 (a collector problem): no outage. */
    for (uint32_t peer = 1; peer <= 3; peer++)
        feed(d, BGP_ROUTE_STATE, 10, peer, NULL);
    for (uint32_t peer = 1; peer <= 3; peer++) {
        for (int i = 0; i < 2; i++) {
            PATH(65100 + peer, 65030);
            feed(d, BGP_ROUTE_ANNOUNCE, 20, peer, g1[i]);
            PATH(65100 + peer, 65040);
            feed(d, BGP_ROUTE_ANNOUNCE, 20, peer, g2[i]);
        }
    }
    /* g1 only, from two of three peers (one peer keeps it: not a majority). */
    for (uint32_t peer = 1; peer <= 2; peer++) {
        feed(d, BGP_ROUTE_WITHDRAW, 30, peer, g1[0]);
        feed(d, BGP_ROUTE_WITHDRAW, 30, peer, g1[1]);
    }
    feed(d, BGP_ROUTE_WITHDRAW, 35, 3, "10.99.0.0/16"); /* the clock moves */
    PATH(65101, 65030);
    feed(d, BGP_ROUTE_ANNOUNCE, 40, 1, g1[0]); /* 2 of 3 peers: one prefix back */
    feed(d, BGP_ROUTE_WITHDRAW, 45, 3, "10.99.0.0/16");
    PATH(65101, 65030);
    feed(d, BGP_ROUTE_ANNOUNCE, 50, 1, g1[1]);
    bgp_detect_finish(d);
    bgp_detect_each(d, collect, &s);
    bgp_detect_free(d);

    assert_int_equal(s.n, 2);
    assert_int_equal(s.ev[0].kind, BGP_EV_OUTAGE);
    assert_string_equal(s.ev[0].group, "g1");
    assert_int_equal(s.ev[0].first_seen, 30);
    assert_int_equal(s.ev[0].baseline, 2);
    assert_int_equal(s.ev[0].visible, 0);
    assert_int_equal(s.ev[0].lowest, 0);
    assert_true(s.ev[0].ended);
    assert_int_equal(s.ev[0].ended_at, 50); /* 1 of 2 (50%) is not yet 80% */
    assert_int_equal(s.ev[1].kind, BGP_EV_OUTAGE_END);
    assert_int_equal(s.ev[1].first_seen, 50);
    assert_int_equal(s.ev[1].visible, 2);
}

/* A live sensor's clock moves without routes: the outage of a group whose
 * routes all went away, and then its end, are raised by the next second
 * (bgp_detect_advance), not by the next route of anyone. */
static void test_outage_without_a_later_route(void **state)
{
    static const char *const g1[] = {"10.30.0.0/16", "10.31.0.0/16"};
    struct bgp_detect *d = NULL;
    struct seen s = {0};

    (void)state;
    assert_int_equal(bgp_detect_new(cfg, NULL, NULL, &d, NULL), MRD_OK);
    assert_int_equal(bgp_detect_advance(d, 5, NULL), MRD_OK); /* before any route: nothing */
    for (int i = 0; i < 2; i++) {
        PATH(65101, 65030);
        feed(d, BGP_ROUTE_ANNOUNCE, 10, 1, g1[i]);
        PATH(65101, 65040);
        feed(d, BGP_ROUTE_ANNOUNCE, 10, 1, i == 0 ? "10.40.0.0/16" : "10.41.0.0/16");
    }
    feed(d, BGP_ROUTE_WITHDRAW, 20, 1, g1[0]);
    feed(d, BGP_ROUTE_WITHDRAW, 20, 1, g1[1]);
    bgp_detect_each_changed(d, collect, &s);
    assert_int_equal(s.n, 0); /* second 20 is not over */
    assert_int_equal(bgp_detect_advance(d, 20, NULL), MRD_OK);
    bgp_detect_each_changed(d, collect, &s);
    assert_int_equal(s.n, 0); /* still second 20 */
    assert_int_equal(bgp_detect_advance(d, 21, NULL), MRD_OK);
    bgp_detect_each_changed(d, collect, &s);
    assert_int_equal(s.n, 1);
    assert_int_equal(s.ev[0].kind, BGP_EV_OUTAGE);
    assert_int_equal(s.ev[0].first_seen, 20);
    assert_false(s.ev[0].ended);
    for (int i = 0; i < 2; i++) {
        PATH(65101, 65030);
        feed(d, BGP_ROUTE_ANNOUNCE, 30, 1, g1[i]);
    }
    assert_int_equal(bgp_detect_advance(d, 31, NULL), MRD_OK);
    bgp_detect_each_changed(d, collect, &s);
    assert_int_equal(s.n, 3);
    assert_true(s.ev[1].kind == BGP_EV_OUTAGE && s.ev[1].ended && s.ev[1].ended_at == 30);
    assert_int_equal(s.ev[2].kind, BGP_EV_OUTAGE_END);
    assert_int_equal(s.ev[2].first_seen, 30);
    bgp_detect_free(d);
}

/* Every allocation failure comes back as MRD_E_NOMEM and leaks nothing
 * (LeakSanitizer checks the frees). */
static void test_detect_out_of_memory(void **state)
{
    (void)state;
    for (long k = 0;; k++) {
        struct bgp_detect *d = NULL;
        struct bgp_route r;
        enum mrd_code rc;

        mrd_alloc_fail_after(k);
        rc = bgp_detect_new(cfg, rel, NULL, &d, NULL);
        memset(&r, 0, sizeof(r));
        r.kind = BGP_ROUTE_ANNOUNCE;
        r.peer_ip.afi = BGP_AFI_IPV4;
        r.attrs = &A;
        for (uint32_t t = 0; rc == MRD_OK && t < 4; t++) {
            r.time = t;
            r.prefix = pfx(t % 2 ? "203.0.113.0/24" : "10.30.0.0/16");
            if (t % 2) {
                PATH(65101, 3356, 64520, 174, 64666);
            } else {
                PATH(65101, 65030);
            }
            rc = bgp_detect_route(d, &r, NULL);
        }
        mrd_alloc_fail_after(-1);
        if (rc == MRD_OK) {
            bgp_detect_free(d);
            break;
        }
        assert_int_equal(rc, MRD_E_NOMEM);
        bgp_detect_free(d);
    }
}

static void test_event_as_stix(void **state)
{
    struct bgp_event ev;
    json_t *objs = json_array(), *seen = json_object(), *od, *ext;
    size_t i;
    json_t *o;
    int found = 0;

    (void)state;
    PATH(65101, 174, 64666);
    memset(&ev, 0, sizeof(ev));
    ev.kind = BGP_EV_HIJACK;
    ev.prefix = pfx("203.0.113.0/24");
    ev.matched = ev.prefix;
    ev.path = &A.path;
    ev.peer_as = 65101;
    ev.first_seen = 1700000010;
    ev.last_seen = 1700000060;
    ev.peers = 2;
    memcpy(ev.type, "E|0|-|-", 8);
    ev.has_hijacker = true;
    ev.hijacker_as = 64666;
    assert_int_equal(bgp_event_stix(&ev, objs, seen, NULL), MRD_OK);
    assert_int_equal(bgp_event_stix(&ev, objs, seen, NULL), MRD_OK); /* SCOs not repeated */
    /* prefix, hijacker (also the origin), peer, then the alert; twice */
    assert_int_equal(json_array_size(objs), 3 + 1 + 1);
    od = json_array_get(objs, 3);
    assert_string_equal(json_string_value(json_object_get(od, "type")), "observed-data");
    assert_true(json_equal(od, json_array_get(objs, 4))); /* same event: same id */
    assert_string_equal(json_string_value(json_object_get(od, "first_observed")),
                        "2023-11-14T22:13:30.000Z");
    assert_string_equal(json_string_value(json_object_get(od, "last_observed")),
                        "2023-11-14T22:14:20.000Z");
    assert_int_equal(json_integer_value(json_object_get(od, "number_observed")), 2);
    ext = json_object_get(json_object_get(od, "extensions"), BGP_STIX_EXT_ID);
    assert_string_equal(json_string_value(json_object_get(ext, "extension_type")),
                        "property-extension");
    assert_string_equal(json_string_value(json_object_get(ext, "type")), "E|0|-|-");
    assert_int_equal(json_integer_value(json_object_get(ext, "hijacker_as")), 64666);
    /* SCO ids per STIX 2.1 §2.9 (UUIDv5 over {"number":64666} etc.) */
    json_array_foreach(objs, i, o)
    {
        const char *id = json_string_value(json_object_get(o, "id"));
        found += strcmp(id, "autonomous-system--f79da1e1-d54d-5583-a611-420200561057") == 0;
        found += strcmp(id, "ipv4-addr--a0895f10-d89d-56ad-a4a4-dc873ee08b8c") == 0;
    }
    assert_int_equal(found, 2);
    assert_int_equal(json_array_size(json_object_get(od, "object_refs")), 3); /* no repeats */
    json_decref(objs);
    json_decref(seen);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hijack_types),
        cmocka_unit_test(test_hijack_policy_no_export),
        cmocka_unit_test(test_leaks),
        cmocka_unit_test(test_events_update_and_end),
        cmocka_unit_test(test_changed_events),
        cmocka_unit_test(test_outage_needs_steady_controls),
        cmocka_unit_test(test_outage_without_a_later_route),
        cmocka_unit_test(test_detect_out_of_memory),
        cmocka_unit_test(test_event_as_stix),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
