/* Unit tests for match/: the index (domains, IPs, CIDR, URLs, hashes),
 * normalisation helpers, the STIX walker and the simple-pattern extractor. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "core/alloc.h"
#include "match/match.h"

static struct match_index *build(const enum match_type *types, const char *const *values, size_t n)
{
    struct match_index *idx = NULL;
    struct mrd_err err = {0};

    assert_int_equal(match_index_new(&idx, &err), MRD_OK);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(
            match_index_add(idx, types[i], values[i], strlen(values[i]), (uint32_t)i, &err),
            MRD_OK);
    assert_int_equal(match_index_build(idx, &err), MRD_OK);
    return idx;
}

/* Number of hits of v, and the first indicator number in *first. */
static size_t look(const struct match_index *idx, enum match_obs obs, const char *v, unsigned flags,
                   uint32_t *first)
{
    uint32_t out[16];
    size_t n = match_index_lookup(idx, obs, v, strlen(v), flags, out, 16);
    if (n > 0 && first != NULL)
        *first = out[0];
    return n;
}

static void test_domain_semantics(void **state)
{
    const enum match_type t[] = {MATCH_T_DOMAIN};
    const char *const v[] = {"evil.com"};
    struct match_index *idx = build(t, v, 1);
    const unsigned sub = MATCH_F_SUBDOMAINS;

    (void)state;
    /* exact by default */
    assert_int_equal(look(idx, MATCH_O_HOST, "evil.com", 0, NULL), 1);
    assert_int_equal(look(idx, MATCH_O_HOST, "a.evil.com", 0, NULL), 0);
    /* case and trailing dot */
    assert_int_equal(look(idx, MATCH_O_HOST, "EVIL.Com", 0, NULL), 1);
    assert_int_equal(look(idx, MATCH_O_HOST, "evil.com.", 0, NULL), 1);
    /* --subdomains: label suffixes only */
    assert_int_equal(look(idx, MATCH_O_HOST, "a.b.evil.com", sub, NULL), 1);
    assert_int_equal(look(idx, MATCH_O_HOST, "WWW.EVIL.COM.", sub, NULL), 1);
    assert_int_equal(look(idx, MATCH_O_HOST, "notevil.com", sub, NULL), 0);
    assert_int_equal(look(idx, MATCH_O_HOST, "evil.com.cdn.net", sub, NULL), 0);
    assert_int_equal(look(idx, MATCH_O_HOST, "evil.co", sub, NULL), 0);
    assert_int_equal(look(idx, MATCH_O_HOST, ".evil.com", 0, NULL), 0);
    /* host:port and URL hosts */
    assert_int_equal(look(idx, MATCH_O_HOST, "evil.com:443", 0, NULL), 1);
    assert_int_equal(look(idx, MATCH_O_URL, "https://x.evil.com/path", sub, NULL), 1);
    assert_int_equal(look(idx, MATCH_O_URL, "https://x.evil.com/path", 0, NULL), 0);
    assert_int_equal(look(idx, MATCH_O_HOSTLIST, "a.net,www.evil.com,1.2.3.4", sub, NULL), 1);
    match_index_free(idx);
}

static void test_ipv6_forms(void **state)
{
    uint8_t a[16], b[16];
    const enum match_type t[] = {MATCH_T_IPV6, MATCH_T_IPV4};
    const char *const v[] = {"2001:db8::1", "192.0.2.7"};
    struct match_index *idx = build(t, v, 2);
    uint32_t first = 99;

    (void)state;
    assert_true(match_ipv6_parse("2001:0DB8:0000:0000:0000:0000:0000:0001", 39, a));
    assert_true(match_ipv6_parse("2001:db8::1", 11, b));
    assert_memory_equal(a, b, 16);
    assert_true(match_ipv6_parse("::", 2, a));
    assert_true(match_ipv6_parse("::ffff:192.0.2.7", 16, a));
    assert_int_equal(a[10], 0xff);
    assert_int_equal(a[15], 7);
    assert_false(match_ipv6_parse("2001:db8:::1", 12, a));
    assert_false(match_ipv6_parse("1:2:3:4:5:6:7:8:9", 17, a));
    assert_false(match_ipv6_parse("2001:db8::1::2", 14, a));
    assert_false(match_ipv6_parse("2001:db8::g", 11, a));
    assert_false(match_ipv6_parse("12345::", 7, a));

    assert_int_equal(look(idx, MATCH_O_IP, "2001:DB8:0:0::1", 0, &first), 1);
    assert_int_equal(first, 0);
    assert_int_equal(look(idx, MATCH_O_IP, "2001:db8:0000::0001", 0, NULL), 1);
    assert_int_equal(look(idx, MATCH_O_IP, "fe80::1%eth0", 0, NULL), 0);
    assert_int_equal(look(idx, MATCH_O_IP, "2001:db8::1f", 0, NULL), 0);
    assert_int_equal(look(idx, MATCH_O_HOST, "[2001:db8::1]:443", 0, NULL), 1);
    /* an IPv4-mapped IPv6 client is the IPv4 address */
    assert_int_equal(look(idx, MATCH_O_IP, "::ffff:192.0.2.7", 0, &first), 1);
    assert_int_equal(first, 1);
    match_index_free(idx);
}

static void test_ipv4_and_near_misses(void **state)
{
    uint32_t a;
    const enum match_type t[] = {MATCH_T_IPV4};
    const char *const v[] = {"45.6.7.8"};
    struct match_index *idx = build(t, v, 1);

    (void)state;
    assert_true(match_ipv4_parse("10.0.0.255", 10, &a));
    assert_int_equal(a, 0x0a0000ff);
    assert_false(match_ipv4_parse("10.0.0.256", 10, &a));
    assert_false(match_ipv4_parse("10.0.0", 6, &a));
    assert_false(match_ipv4_parse("10.0.0.1.", 9, &a));
    assert_false(match_ipv4_parse("1.2.3.4x", 8, &a));
    assert_true(match_ipv4_parse("1.2.3.4", 7, &a));
    assert_int_equal(a, 0x01020304);
    assert_true(match_ipv4_parse("255.255.255.255", 15, &a));
    assert_int_equal(a, 0xffffffff);
    assert_true(match_ipv4_parse("010.0.0.1", 9, &a)); /* up to three digits, as before */
    assert_int_equal(a, 0x0a000001);
    assert_false(match_ipv4_parse("1.2.3.0004", 10, &a));
    assert_false(match_ipv4_parse("1234.1.1.1", 10, &a));
    assert_false(match_ipv4_parse(" 1.2.3.4", 8, &a));
    assert_false(match_ipv4_parse("1..2.3.4", 8, &a));
    assert_false(match_ipv4_parse("1.2.3.4 trailing", 7 + 9, &a));
    assert_true(match_ipv4_parse("1.2.3.4 trailing", 7, &a)); /* (ptr, len), not a C string */
    assert_int_equal(look(idx, MATCH_O_IP, "45.6.7.8", 0, NULL), 1);
    assert_int_equal(look(idx, MATCH_O_IP, "145.6.7.8", 0, NULL), 0);
    assert_int_equal(look(idx, MATCH_O_IP, "45.6.7.80", 0, NULL), 0);
    assert_int_equal(look(idx, MATCH_O_HOST, "45.6.7.8:8080", 0, NULL), 1);
    match_index_free(idx);
}

static void test_cidr_longest_prefix(void **state)
{
    const enum match_type t[] = {MATCH_T_IPV4, MATCH_T_IPV4, MATCH_T_IPV4,
                                 MATCH_T_IPV4, MATCH_T_IPV6, MATCH_T_IPV6};
    const char *const v[] = {"10.0.0.0/8",     "10.1.0.0/16",   "10.1.2.0/24",
                             "203.0.113.9/32", "2001:db8::/32", "2001:db8:1::/48"};
    struct match_index *idx = build(t, v, 6);
    uint32_t out[16];
    size_t n;

    (void)state;
    /* every range containing the address is a hit, most specific first */
    n = match_index_lookup(idx, MATCH_O_IP, "10.1.2.3", 8, 0, out, 16);
    assert_int_equal(n, 3);
    assert_int_equal(look(idx, MATCH_O_IP, "10.1.3.3", 0, NULL), 2);
    assert_int_equal(look(idx, MATCH_O_IP, "10.200.3.3", 0, NULL), 1);
    assert_int_equal(look(idx, MATCH_O_IP, "11.0.0.1", 0, NULL), 0);
    assert_int_equal(look(idx, MATCH_O_IP, "203.0.113.9", 0, NULL), 1);
    assert_int_equal(look(idx, MATCH_O_IP, "203.0.113.10", 0, NULL), 0);
    assert_int_equal(look(idx, MATCH_O_IP, "2001:db8:1::5", 0, NULL), 2);
    assert_int_equal(look(idx, MATCH_O_IP, "2001:db8:2::5", 0, NULL), 1);
    assert_int_equal(look(idx, MATCH_O_IP, "2001:db9::5", 0, NULL), 0);
    match_index_free(idx);
}

/* A range written with host bits set means its network: 10.1.2.3/24 is
 * 10.1.2.0/24 (the host bits are masked off when the index is built). */
static void test_cidr_with_host_bits(void **state)
{
    const enum match_type t[] = {MATCH_T_IPV4, MATCH_T_IPV4, MATCH_T_IPV6};
    const char *const v[] = {"10.1.2.3/24", "192.168.77.200/17", "2001:db8:0:1::7/48"};
    struct match_index *idx = build(t, v, 3);

    (void)state;
    assert_int_equal(look(idx, MATCH_O_IP, "10.1.2.77", 0, NULL), 1);
    assert_int_equal(look(idx, MATCH_O_IP, "10.1.2.0", 0, NULL), 1);
    assert_int_equal(look(idx, MATCH_O_IP, "10.1.2.3", 0, NULL), 1);
    assert_int_equal(look(idx, MATCH_O_IP, "10.1.3.3", 0, NULL), 0);
    assert_int_equal(look(idx, MATCH_O_IP, "192.168.0.1", 0, NULL), 1);
    assert_int_equal(look(idx, MATCH_O_IP, "192.168.127.255", 0, NULL), 1);
    assert_int_equal(look(idx, MATCH_O_IP, "192.168.128.0", 0, NULL), 0);
    assert_int_equal(look(idx, MATCH_O_IP, "2001:db8::9", 0, NULL), 1);
    assert_int_equal(look(idx, MATCH_O_IP, "2001:db8:1::9", 0, NULL), 0);
    match_index_free(idx);
}

static void test_url_normalisation(void **state)
{
    char out[256];
    const char *host = NULL;
    size_t hl = 0, n;
    const enum match_type t[] = {MATCH_T_URL};
    const char *const v[] = {"http://Evil.example/a/B?x=1"};
    struct match_index *idx = build(t, v, 1);

    (void)state;
    n = match_url_normalize("HTTP://WWW.Example.COM:80/A?b", 29, out, sizeof(out), &host, &hl);
    assert_int_equal(n, strlen("http://www.example.com/A?b"));
    assert_memory_equal(out, "http://www.example.com/A?b", n);
    assert_int_equal(hl, 15);
    n = match_url_normalize("https://x.org:443", 17, out, sizeof(out), NULL, NULL);
    assert_memory_equal(out, "https://x.org/", n);
    n = match_url_normalize("https://x.org:8443/", 19, out, sizeof(out), NULL, NULL);
    assert_memory_equal(out, "https://x.org:8443/", n);
    n = match_url_normalize("http://[2001:DB8::1]:80/x", 25, out, sizeof(out), &host, &hl);
    assert_memory_equal(out, "http://[2001:db8::1]/x", n);
    assert_int_equal(hl, 11);
    assert_int_equal(match_url_normalize("/relative", 9, out, sizeof(out), NULL, NULL), 0);
    assert_int_equal(match_url_normalize("http://", 7, out, sizeof(out), NULL, NULL), 0);
    assert_int_equal(match_url_normalize("http://h:8x/", 12, out, sizeof(out), NULL, NULL), 0);
    /* userinfo up to the last '@'; the authority ends at '/', '?' or '#' */
    n = match_url_normalize("http://u@x:p@Host.EXAMPLE:80#f/g", 32, out, sizeof(out), &host, &hl);
    assert_memory_equal(out, "http://u@x:p@host.example/#f/g", n);
    assert_int_equal(hl, 12);
    n = match_url_normalize("ftp://H.org?q=/x", 16, out, sizeof(out), &host, &hl);
    assert_memory_equal(out, "ftp://h.org/?q=/x", n);
    assert_int_equal(hl, 5);
    assert_int_equal(match_url_normalize("http://[::1/x", 13, out, sizeof(out), NULL, NULL), 0);

    assert_int_equal(look(idx, MATCH_O_URL, "HTTP://EVIL.EXAMPLE:80/a/B?x=1", 0, NULL), 1);
    assert_int_equal(look(idx, MATCH_O_URL, "http://evil.example/a/b?x=1", 0, NULL), 0);
    assert_int_equal(look(idx, MATCH_O_URL, "http://evil.example/a/B?x=1x", 0, NULL), 0);
    assert_int_equal(look(idx, MATCH_O_URL, "https://evil.example/a/B?x=1", 0, NULL), 0);
    match_index_free(idx);
}

static void test_hashes_emails_duplicates(void **state)
{
    const char *sha = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    const enum match_type t[] = {MATCH_T_SHA256, MATCH_T_MD5, MATCH_T_EMAIL, MATCH_T_DOMAIN,
                                 MATCH_T_DOMAIN};
    const char *const v[] = {sha, "d41d8cd98f00b204e9800998ecf8427e", "Bad@Evil.com", "dup.example",
                             "DUP.example"};
    struct match_index *idx = build(t, v, 5);
    struct mrd_err err = {0};
    struct match_index *bad = NULL;

    (void)state;
    assert_int_equal(look(idx, MATCH_O_HASH,
                          "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 0,
                          NULL),
                     1);
    assert_int_equal(look(idx, MATCH_O_HASH, "D41D8CD98F00B204E9800998ECF8427E", 0, NULL), 1);
    assert_int_equal(look(idx, MATCH_O_HASH, "d41d8cd98f00b204e9800998ecf8427", 0, NULL), 0);
    assert_int_equal(look(idx, MATCH_O_EMAIL, "bad@evil.com", 0, NULL), 1);
    /* two indicators, one value: both reported */
    assert_int_equal(look(idx, MATCH_O_HOST, "dup.example", 0, NULL), 2);
    assert_int_equal(match_index_size(idx), 4);

    assert_int_equal(match_index_new(&bad, &err), MRD_OK);
    assert_int_equal(match_index_add(bad, MATCH_T_SHA256, "abc", 3, 0, &err), MRD_E_INVAL);
    assert_int_equal(match_index_add(bad, MATCH_T_IPV4, "1.2.3.4/33", 10, 0, &err), MRD_E_INVAL);
    assert_int_equal(match_index_add(bad, MATCH_T_IPV6, "2001:db8::/129", 14, 0, &err),
                     MRD_E_INVAL);
    assert_int_equal(match_index_add(bad, MATCH_T_URL, "evil.com", 8, 0, &err), MRD_E_INVAL);
    assert_int_equal(match_index_add(bad, MATCH_T_DOMAIN, "a b", 3, 0, &err), MRD_E_INVAL);
    assert_int_equal(match_index_build(bad, &err), MRD_OK);
    assert_int_equal(look(bad, MATCH_O_HOST, "anything.com", MATCH_F_SUBDOMAINS, NULL), 0);
    match_index_free(bad);
    match_index_free(idx);
}

static void test_index_many_keys(void **state)
{
    struct match_index *idx = NULL;
    struct mrd_err err = {0};
    char buf[64];

    (void)state;
    assert_int_equal(match_index_new(&idx, &err), MRD_OK);
    for (uint32_t i = 0; i < 20000; i++) {
        int n = snprintf(buf, sizeof(buf), "host%u.example", i);
        assert_int_equal(match_index_add(idx, MATCH_T_DOMAIN, buf, (size_t)n, i, &err), MRD_OK);
    }
    assert_int_equal(match_index_build(idx, &err), MRD_OK);
    for (uint32_t i = 0; i < 20000; i += 997) {
        uint32_t first = 0;
        snprintf(buf, sizeof(buf), "www.HOST%u.example", i);
        assert_int_equal(look(idx, MATCH_O_HOST, buf, MATCH_F_SUBDOMAINS, &first), 1);
        assert_int_equal(first, i);
    }
    assert_int_equal(look(idx, MATCH_O_HOST, "host20000.example", 0, NULL), 0);
    match_index_free(idx);
}

/* The shape filters (label count, length, first label) and the small
 * hash-key filter in front of the big one must never drop a key. */
static void test_filters_keep_every_key(void **state)
{
    struct match_index *idx = NULL;
    struct mrd_err err = {0};
    char buf[80];

    (void)state;
    assert_int_equal(match_index_new(&idx, &err), MRD_OK);
    for (uint32_t i = 0; i < 20000; i++) {
        int n = snprintf(buf, sizeof(buf), "%08x%056x", i * 2654435761u, i);
        assert_int_equal(match_index_add(idx, MATCH_T_SHA256, buf, (size_t)n, i, &err), MRD_OK);
    }
    assert_int_equal(match_index_add(idx, MATCH_T_DOMAIN, "ab.example", 10, 20000, &err), MRD_OK);
    assert_int_equal(match_index_add(idx, MATCH_T_DOMAIN, "abcdefgh.example", 16, 20001, &err),
                     MRD_OK);
    assert_int_equal(match_index_build(idx, &err), MRD_OK);
    for (uint32_t i = 0; i < 20000; i++) {
        uint32_t first = 0;
        snprintf(buf, sizeof(buf), "%08X%056x", i * 2654435761u, i);
        assert_int_equal(look(idx, MATCH_O_HASH, buf, 0, &first), 1);
        assert_int_equal(first, i);
    }
    snprintf(buf, sizeof(buf), "%08x%056x", 1u, 20000u);
    assert_int_equal(look(idx, MATCH_O_HASH, buf, 0, NULL), 0);
    assert_int_equal(look(idx, MATCH_O_HOST, "x.ab.example", MATCH_F_SUBDOMAINS, NULL), 1);
    assert_int_equal(
        look(idx, MATCH_O_HOST, "longer-label.abcdefgh.example", MATCH_F_SUBDOMAINS, NULL), 1);
    /* right label count and length, wrong first label: not a key */
    assert_int_equal(look(idx, MATCH_O_HOST, "abcdefghijk.ab", MATCH_F_SUBDOMAINS, NULL), 0);
    assert_int_equal(look(idx, MATCH_O_HOST, "abc.example", MATCH_F_SUBDOMAINS, NULL), 0);
    match_index_free(idx);
}

/* Keys are inserted a few adds late (their slots prefetched); repeats must
 * still find their first copy, in and across the queue, and long keys,
 * which skip the queue, must keep the order. */
static void test_queued_inserts(void **state)
{
    struct match_index *idx = NULL;
    struct mrd_err err = {0};
    char buf[160];
    uint32_t out[8];

    (void)state;
    assert_int_equal(match_index_new(&idx, &err), MRD_OK);
    for (uint32_t i = 0; i < 200; i++) {
        /* ten domains, each added 20 times by indicator (i % 10) */
        int n = snprintf(buf, sizeof(buf), "d%u.example", i % 10);
        assert_int_equal(match_index_add(idx, MATCH_T_DOMAIN, buf, (size_t)n, i % 10, &err),
                         MRD_OK);
        /* a long URL every 7th add: it skips the queue */
        if (i % 7 == 0) {
            n = snprintf(buf, sizeof(buf), "https://long.example/%0100u", i % 3);
            assert_int_equal(match_index_add(idx, MATCH_T_URL, buf, (size_t)n, 100 + i % 3, &err),
                             MRD_OK);
        }
    }
    assert_int_equal(match_index_add(idx, MATCH_T_DOMAIN, "d0.example", 10, 99, &err), MRD_OK);
    assert_int_equal(match_index_build(idx, &err), MRD_OK);
    assert_int_equal(match_index_size(idx), 13);
    assert_int_equal(match_index_lookup(idx, MATCH_O_HOST, "d3.example", 10, 0, out, 8), 1);
    assert_int_equal(out[0], 3);
    assert_int_equal(match_index_lookup(idx, MATCH_O_HOST, "d0.example", 10, 0, out, 8), 2);
    snprintf(buf, sizeof(buf), "https://long.example/%0100u", 2u);
    assert_int_equal(match_index_lookup(idx, MATCH_O_URL, buf, strlen(buf), 0, out, 8), 1);
    assert_int_equal(out[0], 102);
    match_index_free(idx);
}

static void test_alloc_failure(void **state)
{
    /* Out-of-memory at every allocation: a clean MRD_E_NOMEM, no leak. */
    (void)state;
    for (long k = 0; k < 40; k++) {
        struct match_index *idx = NULL;
        struct mrd_err err = {0};
        enum mrd_code rc;
        char buf[32];
        mrd_alloc_fail_after(k);
        rc = match_index_new(&idx, &err);
        for (uint32_t i = 0; rc == MRD_OK && i < 3000; i++) {
            int n = snprintf(buf, sizeof(buf), "10.%u.%u.1", i / 256, i % 256);
            rc = match_index_add(idx, MATCH_T_IPV4, buf, (size_t)n, i, &err);
        }
        if (rc == MRD_OK)
            rc = match_index_add(idx, MATCH_T_IPV4, "10.0.0.0/8", 10, 0, &err);
        if (rc == MRD_OK)
            rc = match_index_build(idx, &err);
        mrd_alloc_fail_after(-1);
        assert_true(rc == MRD_OK || rc == MRD_E_NOMEM);
        match_index_free(idx);
    }
}

/* ---- patterns and STIX ---- */

struct pairs {
    enum match_type t[16];
    char v[16][128];
    size_t n;
};

static enum mrd_code collect(void *ctx, enum match_type type, const char *v, size_t n,
                             struct mrd_err *err)
{
    struct pairs *p = ctx;
    (void)err;
    if (p->n < 16 && n < 128) {
        p->t[p->n] = type;
        memcpy(p->v[p->n], v, n);
        p->v[p->n][n] = '\0';
        p->n++;
    }
    return MRD_OK;
}

static enum mrd_code pairs_of(const char *pat, struct pairs *p)
{
    static char scratch[MATCH_MAX_PATTERN];
    struct mrd_err err = {0};
    memset(p, 0, sizeof(*p));
    return match_pattern_pairs(pat, strlen(pat), scratch, collect, p, &err);
}

static void test_pattern_pairs(void **state)
{
    struct pairs p;

    (void)state;
    assert_int_equal(pairs_of("[ipv4-addr:value = '1.2.3.4']", &p), MRD_OK);
    assert_int_equal(p.n, 1);
    assert_int_equal(p.t[0], MATCH_T_IPV4);
    assert_string_equal(p.v[0], "1.2.3.4");
    assert_int_equal(pairs_of("[domain-name:value = 'a.com' OR url:value = 'http://b/'] OR "
                              "[file:hashes.'SHA-256' = 'ab'] OR [file:hashes.MD5 = 'cd']",
                              &p),
                     MRD_OK);
    assert_int_equal(p.n, 4);
    assert_int_equal(p.t[1], MATCH_T_URL);
    assert_int_equal(p.t[2], MATCH_T_SHA256);
    assert_int_equal(p.t[3], MATCH_T_MD5);
    assert_int_equal(pairs_of("[ipv6-addr:value IN ('::1', '2001:db8::/32')]", &p), MRD_OK);
    assert_int_equal(p.n, 2);
    assert_string_equal(p.v[1], "2001:db8::/32");
    /* parentheses inside an observation, and around observations */
    assert_int_equal(
        pairs_of("[(ipv4-addr:value = '1.2.3.4' OR (domain-name:value = 'a.com'))]", &p), MRD_OK);
    assert_int_equal(p.n, 2);
    assert_int_equal(p.t[1], MATCH_T_DOMAIN);
    assert_int_equal(
        pairs_of("([ipv4-addr:value = '1.2.3.4'] OR [ipv4-addr:value = '5.6.7.8'])", &p), MRD_OK);
    assert_int_equal(p.n, 2);
    assert_int_equal(
        pairs_of("[(ipv4-addr:value = '1.2.3.4' AND ipv4-addr:value = '5.6.7.8')]", &p),
        MRD_E_UNSUPP);
    assert_int_equal(pairs_of("[(ipv4-addr:value = '1.2.3.4']", &p), MRD_E_PARSE);
    assert_int_equal(pairs_of("[ipv4-addr:value ISSUBSET '10.0.0.0/8']", &p), MRD_OK);
    assert_int_equal(pairs_of("[email-addr:value = 'o\\'brien@x.org']", &p), MRD_OK);
    assert_string_equal(p.v[0], "o'brien@x.org");
    /* what the index cannot express: nothing is reported */
    assert_int_equal(pairs_of("[ipv4-addr:value = '1.2.3.4' AND ipv4-addr:value = '5.6.7.8']", &p),
                     MRD_E_UNSUPP);
    assert_int_equal(p.n, 0);
    assert_int_equal(pairs_of("[domain-name:value LIKE '%.evil.com']", &p), MRD_E_UNSUPP);
    assert_int_equal(pairs_of("[url:value MATCHES '^http']", &p), MRD_E_UNSUPP);
    assert_int_equal(pairs_of("[ipv4-addr:value = '1.2.3.4'] WITHIN 5 SECONDS", &p), MRD_E_UNSUPP);
    assert_int_equal(pairs_of("[a:value = '1'] AND [b:value = '2']", &p), MRD_E_UNSUPP);
    assert_int_equal(pairs_of("[process:pid = 4]", &p), MRD_E_UNSUPP);
    assert_int_equal(p.n, 0);
    /* malformed */
    assert_int_equal(pairs_of("[ipv4-addr:value = '1.2.3.4'", &p), MRD_E_PARSE);
    assert_int_equal(pairs_of("[ipv4-addr:value = '1.2.3.4]", &p), MRD_E_PARSE);
    assert_int_equal(pairs_of("", &p), MRD_E_PARSE);
}

struct seen {
    size_t n;
    char ids[8][64];
    char pats[8][128];
    bool revoked[8];
    int64_t until[8];
};

static enum mrd_code on_ind(void *ctx, const struct match_stix_ind *ind, struct mrd_err *err)
{
    struct seen *s = ctx;
    (void)err;
    if (s->n < 8) {
        snprintf(s->ids[s->n], 64, "%.*s", (int)ind->id_len, ind->id);
        snprintf(s->pats[s->n], 128, "%.*s", (int)ind->pattern_len, ind->pattern);
        s->revoked[s->n] = ind->revoked;
        s->until[s->n] = ind->valid_until;
        s->n++;
    }
    return MRD_OK;
}

static void test_stix_walker(void **state)
{
    static char scratch[MATCH_MAX_PATTERN];
    struct mrd_err err = {0};
    struct seen s;
    const char *bundle =
        "{\"type\":\"bundle\",\"id\":\"bundle--1\",\"objects\":["
        "{\"type\":\"identity\",\"id\":\"identity--1\",\"name\":\"x\",\"nested\":{\"a\":[1,{}]}},"
        "{\"type\":\"indicator\",\"id\":\"indicator--1\",\"pattern\":"
        "\"[url:value = 'http://a\\/b\\u0041']\",\"revoked\":true,"
        "\"valid_until\":\"2027-01-01T00:00:00Z\"},"
        "{\"id\":\"indicator--2\",\"pattern\":\"[x:y = '1']\",\"type\":\"indicator\"}]}";
    const char *envelope = "{\"more\":false,\"objects\":[{\"type\":\"indicator\",\"id\":\"i\","
                           "\"pattern\":\"p\"}]}";
    const char *single = "  {\"type\": \"indicator\", \"id\": \"one\", \"pattern\": \"q\"}\n";

    (void)state;
    memset(&s, 0, sizeof(s));
    assert_int_equal(match_stix_each(bundle, strlen(bundle), scratch, on_ind, &s, &err), MRD_OK);
    assert_int_equal(s.n, 2);
    assert_string_equal(s.ids[0], "indicator--1");
    assert_string_equal(s.pats[0], "[url:value = 'http://a/bA']");
    assert_true(s.revoked[0]);
    assert_true(s.until[0] > 0 && s.until[0] != INT64_MAX);
    assert_string_equal(s.ids[1], "indicator--2");
    memset(&s, 0, sizeof(s));
    assert_int_equal(match_stix_each(envelope, strlen(envelope), scratch, on_ind, &s, &err),
                     MRD_OK);
    assert_int_equal(s.n, 1);
    memset(&s, 0, sizeof(s));
    assert_int_equal(match_stix_each(single, strlen(single), scratch, on_ind, &s, &err), MRD_OK);
    assert_int_equal(s.n, 1);
    assert_string_equal(s.ids[0], "one");
    /* truncated and trailing garbage: parse errors with an offset */
    memset(&s, 0, sizeof(s));
    assert_int_equal(match_stix_each(bundle, strlen(bundle) - 3, scratch, on_ind, &s, &err),
                     MRD_E_PARSE);
    assert_non_null(strstr(err.msg, "offset"));
    mrd_err_clear(&err);
    assert_int_equal(match_stix_each("{} x", 4, scratch, on_ind, &s, &err), MRD_E_PARSE);
    mrd_err_clear(&err);
    assert_int_equal(match_stix_each("nope", 4, scratch, on_ind, &s, &err), MRD_E_PARSE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_domain_semantics),
        cmocka_unit_test(test_ipv6_forms),
        cmocka_unit_test(test_ipv4_and_near_misses),
        cmocka_unit_test(test_cidr_longest_prefix),
        cmocka_unit_test(test_cidr_with_host_bits),
        cmocka_unit_test(test_url_normalisation),
        cmocka_unit_test(test_hashes_emails_duplicates),
        cmocka_unit_test(test_index_many_keys),
        cmocka_unit_test(test_filters_keep_every_key),
        cmocka_unit_test(test_queued_inserts),
        cmocka_unit_test(test_alloc_failure),
        cmocka_unit_test(test_pattern_pairs),
        cmocka_unit_test(test_stix_walker),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
