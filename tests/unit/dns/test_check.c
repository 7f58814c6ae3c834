/*
 * test_check.c: the sensor's baseline and detectors (src/dns/sensor.c,
 * check.c, alert.c) against a canned world behind struct dns_transport:
 * a root at 10.0.0.1 delegating example. to ns1.example. (10.0.0.2),
 * signed with the ldns-keygen key of test_wire.c, and a vantage resolver
 * at 10.0.0.9. Each test breaks one thing and expects exactly the
 * finding it should give, and none in the healthy world. Every answer
 * of the vantage arrives with IP TTL 64 after 2 ms unless the world says
 * otherwise (the Hold-On reference).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <arpa/inet.h>

#include "core/alloc.h"
#include "core/timestamp.h"
#include "dns/dns.h"
#include "msgbuild.h"

#define NOW 0x68000000u

static const char key_hex[] =
    "0101030d48bbbd1c8ed7c743bddefcc95b28fb80cb3d9cd930a956876aec1d8a9bca13862e5b76eae1c837e1cd"
    "cd7f41457baa3084c341b5f3d0cf22b7a095022f4042f2";
static const char ds2_hex[] = "6f8f2bf9358b4529160389434517fa3274a380b7286e3db82660a31081963c86";

struct world {
    bool hijack;        /* the root delegates to ns9.example. at 10.0.0.66 */
    bool forged;        /* the vantage answers www with 45.33.32.66 (a routed address) */
    int forged_ttl;     /* the IP TTL that answer arrives with (0: like the reference, 64) */
    const char *inject; /* an on-path injector answers www A with this address before
                           the vantage (IP TTL 200, 0.1 ms); the real answer comes late */
    bool inject_fits;   /* ... with the reference's IP TTL and timing instead */
    const char *single; /* the vantage's only answer to www A is this address */
    bool bogus;         /* the vantage fails validation (EDE 7) unless CD */
    bool auth_down;     /* 10.0.0.2 does not answer; the vantage SERVFAILs */
    bool wrong_ds;      /* the parent's DS names another key */
    bool child_ns;      /* the zone's server lists ns2.example. as its NS */
    bool two;           /* the root adds ns2.example. (10.0.0.3), whose SOA serial is 8 */
    bool unglued;       /* the root names ns.other. without glue; other.'s server (10.0.0.7)
                           gives its address, 10.0.0.2 */
    int64_t sig_exp;    /* RRSIG expiration relative to NOW */
    const char *tc;     /* the vantage's www A went to TCP after a truncated UDP answer
                           naming this address ("" : naming none) */
    unsigned flaky;     /* the vantage SERVFAILs (no EDE) this many plain www A queries first */
    int tcp_mode;       /* the vantage's www A over TCP (DNS_Q_TCP): 0 the zone's answer,
                           1 reset before an answer, 2 the injected address (inject/single) */
    unsigned tcp_asked; /* www A queries over TCP */
    unsigned queries;
};

static struct world W;

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

static void referral(struct mb *m)
{
    uint8_t a2[4] = {10, 0, 0, 2}, a66[4] = {10, 0, 0, 66};
    if (W.unglued) {
        mb_rr_name(m, 2, "example.", DNS_T_NS, "ns.other.");
    } else if (W.hijack) {
        mb_rr_name(m, 2, "example.", DNS_T_NS, "ns9.example.");
        mb_rr(m, 3, "ns9.example.", DNS_T_A, a66, 4);
    } else {
        mb_rr_name(m, 2, "example.", DNS_T_NS, "ns1.example.");
        if (W.two)
            mb_rr_name(m, 2, "example.", DNS_T_NS, "ns2.example.");
        mb_rr(m, 3, "ns1.example.", DNS_T_A, a2, 4);
        if (W.two)
            mb_rr(m, 3, "ns2.example.", DNS_T_A, "\x0a\x00\x00\x03", 4);
    }
}

static void rrsig(struct mb *m, const char *owner, uint16_t covered)
{
    uint8_t r[128], sig[64] = {0};
    struct dns_name signer;
    uint32_t exp = (uint32_t)(NOW + W.sig_exp), inc = NOW - 86400;
    size_t k = 0;

    (void)dns_name_parse("example.", 8, &signer, NULL);
    r[k++] = (uint8_t)(covered >> 8), r[k++] = (uint8_t)covered, r[k++] = 13, r[k++] = 1;
    memcpy(r + k, "\0\0\x0e\x10", 4), k += 4;
    for (int i = 3; i >= 0; i--)
        r[k++] = (uint8_t)(exp >> (8 * i));
    for (int i = 3; i >= 0; i--)
        r[k++] = (uint8_t)(inc >> (8 * i));
    r[k++] = 56399 >> 8, r[k++] = 56399 & 0xFF;
    memcpy(r + k, signer.wire, signer.len), k += signer.len;
    memcpy(r + k, sig, sizeof(sig)), k += sizeof(sig);
    mb_rr(m, 1, owner, DNS_T_RRSIG, r, k);
}

static void soa(struct mb *m, uint8_t serial)
{
    uint8_t r[128];
    struct dns_name n;
    size_t k = 0;
    (void)dns_name_parse("ns1.example.", 12, &n, NULL);
    memcpy(r, n.wire, n.len), k += n.len;
    memcpy(r + k, n.wire, n.len), k += n.len;
    memset(r + k, 0, 20), r[k + 3] = serial, k += 20;
    mb_rr(m, 1, "example.", DNS_T_SOA, r, k);
}

static enum mrd_code exchange(void *ctx, const char *server, const uint8_t *query, size_t len,
                              struct dns_xfer *ret, struct mrd_err *err)
{
    struct dns_msg *q = NULL;
    struct mb m;
    char qn[DNS_MAX_NAME_STR];
    uint16_t flags = DNS_F_QR;
    bool cd, rd, want_tcp = ret->want_tcp;

    (void)ctx;
    __atomic_fetch_add(&W.queries, 1, __ATOMIC_RELAXED); /* the pool test runs in threads */
    assert_int_equal(dns_msg_parse(query, len, &q, NULL), MRD_OK);
    dns_name_format(&q->qname, qn);
    cd = (q->flags & DNS_F_CD) != 0;
    rd = (q->flags & DNS_F_RD) != 0;
    memset(ret, 0, sizeof(*ret));
    ret->status = DNS_XFER_OK;
    if (strcmp(server, "10.0.0.1") == 0) {
        assert_false(rd); /* the parent is asked directly, never through a cache */
        mb_start(&m, q->id, flags);
        mb_question(&m, qn, q->qtype);
        if (q->qtype == DNS_T_DS && strcmp(qn, "example.") == 0) {
            uint8_t ds[64] = {56399 >> 8, 56399 & 0xFF, 13, 2};
            size_t dl = unhex(ds2_hex, ds + 4);
            if (W.wrong_ds)
                ds[1] ^= 1;
            m.b[2] |= DNS_F_AA >> 8;
            mb_rr(&m, 1, "example.", DNS_T_DS, ds, 4 + dl);
        } else if (strcmp(qn, "ns.other.") == 0) {
            mb_rr_name(&m, 2, "other.", DNS_T_NS, "ns1.other.");
            mb_rr(&m, 3, "ns1.other.", DNS_T_A, "\x0a\x00\x00\x07", 4);
        } else {
            referral(&m);
        }
    } else if (strcmp(server, "10.0.0.7") == 0) {
        assert_true(strcmp(qn, "ns.other.") == 0 && q->qtype == DNS_T_A);
        mb_start(&m, q->id, flags | DNS_F_AA);
        mb_question(&m, qn, q->qtype);
        mb_rr(&m, 1, "ns.other.", DNS_T_A, "\x0a\x00\x00\x02", 4);
    } else if (strcmp(server, "10.0.0.2") == 0 || strcmp(server, "10.0.0.66") == 0 ||
               strcmp(server, "10.0.0.3") == 0) {
        bool evil = strcmp(server, "10.0.0.66") == 0, second = strcmp(server, "10.0.0.3") == 0;
        if (W.auth_down && !evil) {
            ret->status = DNS_XFER_TIMEOUT;
            dns_msg_free(q);
            return MRD_OK;
        }
        mb_start(&m, q->id, flags | DNS_F_AA);
        mb_question(&m, qn, q->qtype);
        if (q->qtype == DNS_T_NS && strcmp(qn, "example.") == 0) {
            mb_rr_name(&m, 1, "example.", DNS_T_NS,
                       evil         ? "ns9.example."
                       : W.child_ns ? "ns2.example."
                                    : "ns1.example.");
        } else if (q->qtype == DNS_T_SOA && strcmp(qn, "example.") == 0) {
            soa(&m, second ? 8 : 7);
            rrsig(&m, "example.", DNS_T_SOA);
        } else if (q->qtype == DNS_T_DNSKEY && strcmp(qn, "example.") == 0) {
            uint8_t k[128];
            size_t kl = unhex(key_hex, k);
            mb_rr(&m, 1, "example.", DNS_T_DNSKEY, k, kl);
            rrsig(&m, "example.", DNS_T_DNSKEY);
        } else if (q->qtype == DNS_T_A && strcmp(qn, "www.example.") == 0) {
            uint8_t a[4] = {192, 0, 2, 1};
            if (evil)
                a[3] = 99;
            mb_rr(&m, 1, "www.example.", DNS_T_A, a, 4);
        }
    } else if (strcmp(server, "10.0.0.9") == 0) {
        assert_true(rd);
        ret->ip_ttl = 64;
        ret->rtt_usec = 2000;
        mb_start(&m, q->id, flags | DNS_F_RA);
        mb_question(&m, qn, q->qtype);
        if (want_tcp) {
            uint8_t a[4] = {192, 0, 2, 1};
            assert_true(q->qtype == DNS_T_A && strcmp(qn, "www.example.") == 0);
            W.tcp_asked++;
            if (W.tcp_mode == 1) {
                ret->status = DNS_XFER_ERROR;
                ret->reset = true;
                (void)snprintf(ret->detail, sizeof(ret->detail), "tcp connection reset");
                dns_msg_free(q);
                return MRD_OK;
            }
            if (W.tcp_mode == 2)
                assert_int_equal(inet_pton(AF_INET, W.inject ? W.inject : W.single, a), 1);
            mb_rr(&m, 1, "www.example.", DNS_T_A, a, 4);
            ret->tcp = true;
            ret->ip_ttl = 0;
        } else if (W.flaky > 0 && !cd && q->qtype == DNS_T_A && strcmp(qn, "www.example.") == 0) {
            W.flaky--;
            m.b[3] |= DNS_RCODE_SERVFAIL;
        } else if (W.auth_down || (W.bogus && !cd)) {
            m.b[3] |= DNS_RCODE_SERVFAIL;
            mb_opt_ede(&m, W.auth_down ? 22 : 7, W.auth_down ? "no reachable authority" : "");
        } else if (q->qtype == DNS_T_SOA) {
            soa(&m, 7);
        } else if (q->qtype == DNS_T_A && strcmp(qn, "www.example.") == 0) {
            uint8_t a[4] = {192, 0, 2, 1};
            if (W.forged)
                memcpy(a, "\x2d\x21\x20\x42", 4);
            if (W.single != NULL)
                assert_int_equal(inet_pton(AF_INET, W.single, a), 1);
            if (W.forged && W.forged_ttl != 0)
                ret->ip_ttl = W.forged_ttl;
            mb_rr(&m, 1, "www.example.", DNS_T_A, a, 4);
            if (W.tc != NULL) {
                /* The truncated UDP answer (kept) and the TCP one (this). */
                struct mb t;
                uint8_t ta[4];
                mb_start(&t, q->id, flags | DNS_F_RA | DNS_F_TC);
                mb_question(&t, qn, q->qtype);
                if (W.tc[0] != '\0') {
                    assert_int_equal(inet_pton(AF_INET, W.tc, ta), 1);
                    mb_rr(&t, 1, "www.example.", DNS_T_A, ta, 4);
                }
                mb_finish(&t);
                assert_int_equal(dns_msg_parse(t.b, t.n, &ret->truncated, err), MRD_OK);
                ret->truncated_ttl = 200;
                ret->truncated_rtt_usec = 100;
                ret->tcp = true;
                ret->ip_ttl = 0;
            }
            if (W.inject != NULL) {
                /* The injector's answer is the first; the vantage's is late. */
                struct mb f;
                uint8_t fa[4];
                assert_int_equal(inet_pton(AF_INET, W.inject, fa), 1);
                mb_start(&f, q->id, flags | DNS_F_RA);
                mb_question(&f, qn, q->qtype);
                mb_rr(&f, 1, "www.example.", DNS_T_A, fa, 4);
                mb_finish(&f);
                mb_finish(&m);
                ret->late[0].ip_ttl = ret->ip_ttl != 0 ? ret->ip_ttl : 64;
                ret->late[0].rtt_usec = 2000;
                assert_int_equal(dns_msg_parse(m.b, m.n, &ret->late[0].msg, err), MRD_OK);
                ret->nlate = 1;
                ret->ip_ttl = W.inject_fits ? 64 : 200;
                ret->rtt_usec = W.inject_fits ? 1900 : 100;
                dns_msg_free(q);
                return dns_msg_parse(f.b, f.n, &ret->msg, err);
            }
        }
    } else {
        ret->status = DNS_XFER_ERROR;
        dns_msg_free(q);
        return MRD_OK;
    }
    mb_finish(&m);
    dns_msg_free(q);
    return dns_msg_parse(m.b, m.n, &ret->msg, err);
}

static int64_t now_fn(void *ctx)
{
    (void)ctx;
    return NOW;
}

static const struct dns_transport T = {exchange, NULL, now_fn, 0, NULL, NULL, NULL};

static const char config[] = "{\"root\": {\"servers\": [\"10.0.0.1\"]},"
                             " \"zones\": [{\"zone\": \"example.\", \"probe_names\": "
                             "[\"www.example.\"]}],"
                             " \"vantages\": [{\"name\": \"isp-1\", \"server\": \"10.0.0.9\"}]}";

static struct dns_config *CFG;
static json_t *BASE;

static int setup(void **state)
{
    struct mrd_err err = {0};
    (void)state;
    memset(&W, 0, sizeof(W));
    W.sig_exp = 30 * 86400;
    if (dns_config_parse(config, strlen(config), &CFG, &err) != MRD_OK)
        return -1;
    if (dns_baseline_learn(CFG, &T, &BASE, &err) != MRD_OK) {
        fprintf(stderr, "baseline: %s\n", err.msg);
        return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    json_decref(BASE);
    dns_config_free(CFG);
    return 0;
}

static int reset(void **state)
{
    (void)state;
    memset(&W, 0, sizeof(W));
    W.sig_exp = 30 * 86400;
    return 0;
}

/* One round; returns the findings (caller frees) and keeps the state. */
static json_t *round_(json_t **state)
{
    json_t *found = NULL, *next = NULL;
    struct mrd_err err = {0};
    if (dns_check_round(CFG, BASE, state != NULL ? *state : NULL, &T, &found, &next, &err) !=
        MRD_OK)
        fail_msg("check: %s", err.msg);
    if (state != NULL) {
        json_decref(*state);
        *state = next;
    } else {
        json_decref(next);
    }
    return found;
}

static const json_t *only(const json_t *found, const char *kind)
{
    if (json_array_size(found) != 1) {
        char *s = json_dumps(found, JSON_COMPACT);
        fail_msg("expected one %s finding, got %s", kind, s);
    }
    assert_string_equal(json_string_value(json_object_get(json_array_get(found, 0), "kind")), kind);
    return json_array_get(found, 0);
}

static void test_baseline(void **state)
{
    char *s = json_dumps(json_array_get(json_object_get(BASE, "zones"), 0), JSON_SORT_KEYS);
    (void)state;
    assert_string_equal(s, "{\"ds\": [\"56399 13 2 "
                           "6F8F2BF9358B4529160389434517FA3274A380B7286E3DB82660A31081963C86\"], "
                           "\"glue\": {\"ns1.example.\": [\"10.0.0.2\"]}, \"ns\": "
                           "[\"ns1.example.\"], \"parent_servers\": [\"10.0.0.1\"], \"probes\": "
                           "{\"www.example.\": [\"192.0.2.1\"]}, \"zone\": \"example.\"}");
    free(s);
    assert_int_equal(dns_baseline_check(BASE, NULL), MRD_OK);
}

static void test_healthy_world_is_quiet(void **state)
{
    json_t *found = round_(NULL);
    (void)state;
    assert_int_equal(json_array_size(found), 0);
    json_decref(found);
}

static void test_delegation_hijack(void **state)
{
    json_t *found, *f;
    size_t i;
    bool ns = false, glue = false, divergence = false;

    (void)state;
    W.hijack = true;
    found = round_(NULL);
    json_array_foreach(found, i, f)
    {
        const char *kind = json_string_value(json_object_get(f, "kind"));
        const char *field = json_string_value(json_object_get(f, "field"));
        if (strcmp(kind, "delegation") == 0 && strcmp(field, "ns") == 0) {
            ns = true;
            assert_string_equal(
                json_string_value(json_array_get(json_object_get(f, "observed"), 0)),
                "ns9.example.");
            assert_string_equal(
                json_string_value(json_array_get(json_object_get(f, "expected"), 0)),
                "ns1.example.");
            assert_string_equal(json_string_value(json_object_get(f, "vantage")), "authoritative");
        }
        glue = glue || (strcmp(kind, "delegation") == 0 && strcmp(field, "glue") == 0);
        divergence = divergence || strcmp(kind, "divergence") == 0;
    }
    assert_true(ns);
    assert_true(glue);
    /* The hijacker's answer (192.0.2.99) never reached the vantage here. */
    assert_false(divergence);
    json_decref(found);
}

static void test_forged_answer(void **state)
{
    json_t *found;
    const json_t *f;

    (void)state;
    W.forged = true;
    found = round_(NULL);
    f = only(found, "divergence");
    assert_string_equal(json_string_value(json_object_get(f, "vantage")), "isp-1");
    assert_string_equal(json_string_value(json_object_get(f, "name")), "www.example.");
    assert_string_equal(json_string_value(json_array_get(json_object_get(f, "observed"), 0)),
                        "45.33.32.66");
    assert_string_equal(json_string_value(json_array_get(json_object_get(f, "expected"), 0)),
                        "192.0.2.1");
    json_decref(found);
}

static void test_bogus_at_vantage(void **state)
{
    json_t *found, *f;
    size_t i;

    (void)state;
    W.bogus = true;
    found = round_(NULL);
    assert_true(json_array_size(found) >= 1);
    json_array_foreach(found, i, f)
    {
        assert_string_equal(json_string_value(json_object_get(f, "kind")), "dnssec");
        assert_string_equal(json_string_value(json_object_get(f, "cause")), "signature-expired");
        assert_string_equal(json_string_value(json_object_get(f, "vantage")), "isp-1");
    }
    json_decref(found);
}

/* A SERVFAIL that the next plain query does not repeat (a loaded resolver
 * whose upstream query timed out) is no DNSSEC failure, though a +CD query
 * would have got an answer; one that repeats is. */
static void test_transient_servfail(void **state)
{
    json_t *found, *st = NULL;
    const json_t *f;
    char *first;

    (void)state;
    W.flaky = 1;
    found = round_(&st);
    assert_int_equal(json_array_size(found), 0);
    assert_int_equal(W.flaky, 0);
    json_decref(found);
    /* Repeated, but without EDE: pending in the state, reported when the
     * next round sees it again. */
    W.flaky = 2;
    found = round_(&st);
    assert_int_equal(json_array_size(found), 0);
    assert_int_equal(json_array_size(json_object_get(st, "pending")), 1);
    first = mrd_strdup(json_string_value(json_object_get(st, "round")));
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(json_object_get(st, "pending"), 0), "first_seen")),
                        first);
    json_decref(found);
    W.flaky = 2;
    found = round_(&st);
    f = only(found, "dnssec");
    assert_string_equal(json_string_value(json_object_get(f, "cause")), "other");
    assert_string_equal(json_string_value(json_object_get(f, "name")), "www.example.");
    assert_null(json_object_get(f, "unconfirmed"));
    /* seen first in the round that held it, not when confirmed */
    assert_string_equal(json_string_value(json_object_get(f, "first_seen")), first);
    assert_string_not_equal(json_string_value(json_object_get(f, "last_seen")), first);
    mrd_free(first);
    json_decref(found);
    /* gone in the round after: nothing, and nothing pending */
    found = round_(&st);
    assert_int_equal(json_array_size(found), 0);
    assert_int_equal(json_array_size(json_object_get(st, "pending")), 0);
    json_decref(found);
    json_decref(st);
    /* one round alone (no state): reported at once */
    W.flaky = 2;
    found = round_(NULL);
    (void)only(found, "dnssec");
    json_decref(found);
}

/* serve restarted between the round that held a SERVFAIL without EDE and
 * the one that confirms it: the pending findings kept in the metadata
 * (dns_pending_pack) and the state rebuilt from the alerts plus them
 * (dns_pending_unpack) still confirm it, with its first_seen. */
static void test_pending_survives_restart(void **state)
{
    json_t *found, *st = NULL, *none = json_array(), *again = NULL;
    char text[4096], small[40];
    const char *first;
    size_t kept = 9;

    (void)state;
    found = round_(&st); /* a healthy round: the state exists */
    json_decref(found);
    W.flaky = 2;
    found = round_(&st);
    assert_int_equal(json_array_size(found), 0);
    json_decref(found);
    assert_int_equal(dns_pending_pack(st, text, sizeof(text), &kept, NULL), MRD_OK);
    assert_int_equal(kept, 1);
    assert_non_null(strstr(text, "dnssec|example.|www.example.|isp-1|other|"));
    /* past the room: kept out whole, still valid text */
    assert_int_equal(dns_pending_pack(st, small, sizeof(small), &kept, NULL), MRD_OK);
    assert_int_equal(kept, 0);
    assert_string_equal(small, "[]");
    first = json_string_value(json_object_get(st, "round"));
    assert_int_equal(dns_state_from_alerts(none, first, 3600, &again, NULL), MRD_OK);
    assert_int_equal(dns_pending_unpack(again, text, NULL), MRD_OK);
    W.flaky = 2;
    found = round_(&again);
    assert_string_equal(json_string_value(json_object_get(only(found, "dnssec"), "first_seen")),
                        first);
    json_decref(found);
    /* without the pending kept, the restarted round would hold it again */
    json_decref(again);
    again = NULL;
    assert_int_equal(dns_state_from_alerts(none, first, 3600, &again, NULL), MRD_OK);
    W.flaky = 2;
    found = round_(&again);
    assert_int_equal(json_array_size(found), 0);
    json_decref(found);
    assert_int_equal(dns_pending_unpack(again, "[[\"k\"]]", NULL), MRD_E_PARSE);
    assert_int_equal(dns_pending_unpack(again, "{}", NULL), MRD_E_PARSE);
    json_decref(again);
    json_decref(none);
    json_decref(st);
}

static void test_ds_mismatch(void **state)
{
    json_t *found, *f;
    size_t i;
    bool seen = false;

    (void)state;
    W.wrong_ds = true;
    found = round_(NULL);
    json_array_foreach(found, i, f)
    {
        const char *cause = json_string_value(json_object_get(f, "cause"));
        seen = seen || (cause != NULL && strcmp(cause, "ds-mismatch") == 0);
    }
    assert_true(seen); /* and the DS change itself is a delegation finding */
    json_decref(found);
}

static void test_signatures(void **state)
{
    json_t *found, *f;
    size_t i;

    (void)state;
    W.sig_exp = -3600;
    found = round_(NULL);
    assert_int_equal(json_array_size(found), 2); /* over DNSKEY and over SOA */
    json_array_foreach(found, i, f)
    {
        assert_string_equal(json_string_value(json_object_get(f, "cause")), "signature-expired");
        assert_string_equal(json_string_value(json_object_get(f, "vantage")), "authoritative");
    }
    json_decref(found);
    W.sig_exp = 3600; /* valid, but for an hour: the early warning */
    found = round_(NULL);
    assert_int_equal(json_array_size(found), 2);
    f = json_array_get(found, 0);
    assert_string_equal(json_string_value(json_object_get(f, "cause")), "other");
    assert_string_equal(json_string_value(json_object_get(f, "field")), "expires-soon");
    json_decref(found);
}

static void test_outage_and_end(void **state)
{
    json_t *found, *st = NULL, *f;
    size_t i;
    bool auth = false, vantage = false;

    (void)state;
    W.auth_down = true;
    found = round_(&st);
    json_array_foreach(found, i, f)
    {
        const char *v = json_string_value(json_object_get(f, "vantage"));
        assert_string_equal(json_string_value(json_object_get(f, "kind")), "outage");
        auth = auth || strcmp(v, "authoritative") == 0;
        vantage = vantage || strcmp(v, "isp-1") == 0;
    }
    assert_true(auth);
    assert_true(vantage);
    json_decref(found);
    found = round_(&st); /* still down: same findings, same first_seen */
    assert_int_equal(json_array_size(found), 2);
    json_decref(found);
    W.auth_down = false;
    found = round_(&st);
    assert_int_equal(json_array_size(found), 2);
    json_array_foreach(found, i, f)
    {
        assert_string_equal(json_string_value(json_object_get(f, "kind")), "outage-end");
        assert_non_null(json_object_get(f, "ended"));
    }
    json_decref(found);
    found = round_(&st); /* reported once */
    assert_int_equal(json_array_size(found), 0);
    json_decref(found);
    json_decref(st);
}

static void test_zone_consistency(void **state)
{
    json_t *found, *f;
    size_t i;
    bool serial = false;

    (void)state;
    W.child_ns = true;
    found = round_(NULL);
    f = (json_t *)(uintptr_t)only(found, "delegation");
    assert_string_equal(json_string_value(json_object_get(f, "field")), "child-ns");
    assert_string_equal(json_string_value(json_array_get(json_object_get(f, "observed"), 0)),
                        "ns2.example.");
    json_decref(found);
    W.child_ns = false;
    W.two = true;
    found = round_(NULL);
    json_array_foreach(found, i, f)
    {
        const char *field = json_string_value(json_object_get(f, "field"));
        if (field != NULL && strcmp(field, "soa-serial") == 0) {
            serial = true;
            assert_int_equal(
                json_integer_value(json_object_get(json_object_get(f, "observed"), "10.0.0.3")), 8);
        }
    }
    assert_true(serial);
    json_decref(found);
}

static void test_name_servers_without_glue(void **state)
{
    json_t *found, *f;
    size_t i;
    bool ns = false;

    (void)state;
    W.unglued = true;
    found = round_(NULL);
    /* The delegation changed (ns.other., no glue), but the zone is still
     * served: its server's address came from other.'s server. */
    json_array_foreach(found, i, f)
    {
        const char *field = json_string_value(json_object_get(f, "field"));
        assert_string_equal(json_string_value(json_object_get(f, "kind")), "delegation");
        ns = ns || strcmp(field, "ns") == 0;
        assert_true(strcmp(field, "ns") == 0 || strcmp(field, "glue") == 0 ||
                    strcmp(field, "child-ns") == 0);
    }
    assert_true(ns);
    json_decref(found);
}

static void test_stix(void **state)
{
    json_t *found, *objs = json_array(), *seen = json_object(), *o, *od = NULL;
    size_t i, domains = 0, addrs = 0;

    (void)state;
    W.forged = true;
    found = round_(NULL);
    assert_int_equal(dns_stix_definitions(objs, NULL), MRD_OK);
    assert_int_equal(dns_finding_stix(json_array_get(found, 0), objs, seen, NULL), MRD_OK);
    json_array_foreach(objs, i, o)
    {
        const char *t = json_string_value(json_object_get(o, "type"));
        if (strcmp(t, "observed-data") == 0)
            od = o;
        domains += strcmp(t, "domain-name") == 0;
        addrs += strcmp(t, "ipv4-addr") == 0;
    }
    assert_non_null(od);
    assert_int_equal(domains, 2); /* example and www.example */
    assert_int_equal(addrs, 1);
    assert_int_equal(json_array_size(json_object_get(od, "object_refs")), 3);
    o = json_object_get(json_object_get(od, "extensions"), DNS_STIX_EXT_ID);
    assert_string_equal(json_string_value(json_object_get(o, "kind")), "divergence");
    assert_string_equal(json_string_value(json_object_get(o, "extension_type")),
                        "property-extension");
    /* The extension-definition: version 1.2 of the same id, later than 1.0
     * (created and modified 2026-12-07T00:00:00.000Z), listing injection
     * and the links to routing alerts. */
    json_array_foreach(objs, i, o)
    {
        const char *t = json_string_value(json_object_get(o, "type"));
        if (strcmp(t, "extension-definition") != 0)
            continue;
        assert_string_equal(json_string_value(json_object_get(o, "id")), DNS_STIX_EXT_ID);
        assert_string_equal(json_string_value(json_object_get(o, "version")), "1.2");
        assert_true(strcmp(json_string_value(json_object_get(o, "modified")),
                           json_string_value(json_object_get(o, "created"))) > 0);
        assert_non_null(strstr(json_string_value(json_object_get(o, "schema")), "injection"));
        assert_non_null(strstr(json_string_value(json_object_get(o, "schema")), "validator"));
        assert_non_null(strstr(json_string_value(json_object_get(o, "schema")), "related"));
        domains = 0;
    }
    assert_int_equal(domains, 0); /* one was there */
    json_decref(found);
    json_decref(objs);
    json_decref(seen);
}

/* The rules of one injection finding, as "a,b,c". */
static void rules_of(const json_t *f, char *out, size_t cap)
{
    size_t i, k = 0;
    json_t *r;
    out[0] = '\0';
    json_array_foreach(json_object_get(json_object_get(f, "evidence"), "rules"), i, r) k +=
        (size_t)snprintf(out + k, cap - k, "%s%s", i > 0 ? "," : "", json_string_value(r));
}

/* One round that must give exactly one injection finding, and its rules. */
static const json_t *one_injection(json_t **ret_found, char *rules, size_t cap)
{
    const json_t *f;
    *ret_found = round_(NULL);
    f = only(*ret_found, "injection");
    rules_of(f, rules, cap);
    return f;
}

static void test_injected_answer_racing_the_vantage(void **state)
{
    json_t *found, *replies;
    const json_t *f;
    char rules[128];

    (void)state;
    W.inject = "10.10.34.35";
    /* One injection finding; the late real answer is taken, so no divergence. */
    f = one_injection(&found, rules, sizeof(rules));
    assert_string_equal(json_string_value(json_object_get(f, "vantage")), "isp-1");
    assert_string_equal(json_string_value(json_object_get(f, "name")), "www.example.");
    assert_string_equal(json_string_value(json_object_get(f, "field")), "A");
    assert_string_equal(json_string_value(json_array_get(json_object_get(f, "observed"), 0)),
                        "10.10.34.35");
    assert_string_equal(json_string_value(json_array_get(json_object_get(f, "expected"), 0)),
                        "192.0.2.1");
    assert_string_equal(rules, "bogon,censorship,early,ip-ttl,multiple-answers");
    assert_string_equal(
        json_string_value(json_object_get(
            json_object_get(json_object_get(f, "evidence"), "fingerprints"), "10.10.34.35")),
        "ooni.ir_5");
    replies = json_object_get(json_object_get(f, "evidence"), "replies");
    assert_int_equal(json_array_size(replies), 2);
    assert_false(json_is_true(json_object_get(json_array_get(replies, 0), "taken")));
    assert_true(json_is_true(json_object_get(json_array_get(replies, 1), "taken")));
    assert_int_equal(json_integer_value(json_object_get(json_array_get(replies, 0), "ip_ttl")),
                     200);
    assert_int_equal(json_integer_value(json_object_get(
                         json_object_get(json_object_get(f, "evidence"), "reference"), "ip_ttl")),
                     64);
    json_decref(found);
}

/* An answer judged injected over UDP is asked again over TCP: an answer
 * that agrees with the zone is evidence (no rule), a reset before any
 * answer is "tcp-reset", the forged address over TCP too "tcp-forged";
 * no injection, no TCP query. */
static void test_injection_asked_again_over_tcp(void **state)
{
    json_t *found, *tcp;
    const json_t *f;
    char rules[128];

    (void)state;
    found = round_(NULL);
    assert_int_equal(json_array_size(found), 0);
    assert_int_equal(W.tcp_asked, 0);
    json_decref(found);
    W.inject = "10.10.34.35";
    f = one_injection(&found, rules, sizeof(rules));
    assert_string_equal(rules, "bogon,censorship,early,ip-ttl,multiple-answers");
    assert_int_equal(W.tcp_asked, 1);
    tcp = json_object_get(json_object_get(f, "evidence"), "tcp");
    assert_string_equal(json_string_value(json_array_get(json_object_get(tcp, "addrs"), 0)),
                        "192.0.2.1");
    assert_string_equal(json_string_value(json_object_get(tcp, "rcode")), "NOERROR");
    json_decref(found);
    W.tcp_mode = 1;
    f = one_injection(&found, rules, sizeof(rules));
    assert_string_equal(rules, "bogon,censorship,early,ip-ttl,multiple-answers,tcp-reset");
    tcp = json_object_get(json_object_get(f, "evidence"), "tcp");
    assert_true(json_is_true(json_object_get(tcp, "reset")));
    assert_string_equal(json_string_value(json_object_get(tcp, "error")), "tcp connection reset");
    json_decref(found);
    W.tcp_mode = 2;
    f = one_injection(&found, rules, sizeof(rules));
    assert_string_equal(rules, "bogon,censorship,early,ip-ttl,multiple-answers,tcp-forged");
    json_decref(found);
    /* a lone injected answer (address rules) is asked over TCP too */
    W.inject = NULL;
    W.single = "10.1.2.3";
    f = one_injection(&found, rules, sizeof(rules));
    assert_string_equal(rules, "bogon,tcp-forged");
    json_decref(found);
}

static void test_tcp_rule(void **state)
{
    json_t *forged = json_pack("[s]", "10.10.34.35"), *good = json_pack("[s]", "192.0.2.1"),
           *none = json_array();

    (void)state;
    assert_null(dns_tcp_rule(forged, true, false, good));
    assert_string_equal(dns_tcp_rule(forged, true, false, forged), "tcp-forged");
    assert_string_equal(dns_tcp_rule(forged, false, true, none), "tcp-reset");
    /* no answer without a reset (timeout, refused): no rule; an empty answer neither */
    assert_null(dns_tcp_rule(forged, false, false, none));
    assert_null(dns_tcp_rule(forged, true, false, none));
    json_decref(forged);
    json_decref(good);
    json_decref(none);
}

static void test_second_answer_alone_is_enough(void **state)
{
    json_t *found;
    const json_t *f;
    char rules[128];

    (void)state;
    /* A forger that gets TTL and timing right still gives two answers;
     * the one the zone's servers agree with is taken. */
    W.inject = "45.33.32.66";
    W.inject_fits = true;
    f = one_injection(&found, rules, sizeof(rules));
    assert_string_equal(rules, "multiple-answers");
    assert_string_equal(json_string_value(json_array_get(json_object_get(f, "observed"), 0)),
                        "45.33.32.66");
    json_decref(found);
}

static void test_bogon_and_ttl_rules(void **state)
{
    json_t *found;
    const json_t *f;
    char rules[128];

    (void)state;
    /* A lone bogon the zone does not give. */
    W.single = "10.1.2.3";
    f = one_injection(&found, rules, sizeof(rules));
    assert_string_equal(rules, "bogon");
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(json_object_get(f, "evidence"), "bogons"), "10.1.2.3")),
                        "10.0.0.0/8");
    json_decref(found);
    /* A routed address with the reference's TTL is a divergence ... */
    W.single = NULL;
    W.forged = true;
    found = round_(NULL);
    (void)only(found, "divergence");
    json_decref(found);
    /* ... and with a TTL 20 hops off, an injection. */
    W.forged_ttl = 44;
    f = one_injection(&found, rules, sizeof(rules));
    assert_string_equal(rules, "ip-ttl");
    json_decref(found);
}

static void test_address_rules(void **state)
{
    const char *range = NULL;
    (void)state;
    assert_true(dns_addr_bogon("10.0.0.1", &range));
    assert_string_equal(range, "10.0.0.0/8");
    assert_true(dns_addr_bogon("100.127.255.255", &range));
    assert_false(dns_addr_bogon("100.128.0.0", &range));
    assert_true(dns_addr_bogon("172.31.0.1", NULL));
    assert_false(dns_addr_bogon("172.32.0.1", NULL));
    assert_true(dns_addr_bogon("198.19.255.1", NULL));
    assert_false(dns_addr_bogon("198.20.0.1", NULL));
    assert_true(dns_addr_bogon("255.255.255.255", NULL));
    assert_false(dns_addr_bogon("8.8.8.8", NULL));
    assert_true(dns_addr_bogon("::1", &range));
    assert_string_equal(range, "outside 2000::/3");
    assert_true(dns_addr_bogon("fe80::1", NULL));
    assert_true(dns_addr_bogon("2001:db8::53", &range));
    assert_string_equal(range, "2001:db8::/32");
    assert_false(dns_addr_bogon("64:ff9b::c000:201", NULL)); /* DNS64 */
    assert_false(dns_addr_bogon("2001:4860::8888", NULL));
    assert_false(dns_addr_bogon("not an address", NULL));
    assert_string_equal(dns_addr_fingerprint("10.10.34.34"), "ooni.ir_4");
    assert_string_equal(dns_addr_fingerprint("8.7.198.45"), "ooni.cn_0");
    assert_null(dns_addr_fingerprint("8.7.198.46"));
}

/* The findings as a restarted `serve` reads them back from its stored
 * alerts: the extension members, without the key. */
static json_t *as_stored(const json_t *found)
{
    json_t *out = json_array(), *f;
    size_t i;
    json_array_foreach(found, i, f)
    {
        json_t *c = json_deep_copy(f);
        assert_int_equal(json_object_del(c, "key"), 0);
        json_array_append_new(out, c);
    }
    return out;
}

static void test_state_rebuilt_from_alerts(void **state)
{
    json_t *found, *st = NULL, *stored, *again = NULL, *f;
    const char *round;
    size_t i;

    (void)state;
    W.auth_down = true;
    found = round_(&st);
    round = json_string_value(json_object_get(st, "round"));
    assert_non_null(round);
    /* Two outages, both open. */
    assert_int_equal(json_array_size(found), 2);
    stored = as_stored(found);
    /* An alert of an older round is closed; so is an outage that ended. */
    f = json_deep_copy(json_array_get(stored, 0));
    json_object_set_new(f, "last_seen", json_string("2020-01-01T00:00:00.000Z"));
    json_object_set_new(f, "vantage", json_string("isp-9"));
    json_array_append_new(stored, f);
    f = json_deep_copy(json_array_get(stored, 0));
    json_object_set_new(f, "kind", json_string("outage-end"));
    json_object_set_new(f, "vantage", json_string("isp-8"));
    json_array_append_new(stored, f);
    assert_int_equal(dns_state_from_alerts(stored, round, 3600, &again, NULL), MRD_OK);
    assert_true(json_equal(json_object_get(again, "open"), json_object_get(st, "open")));
    json_decref(found);
    json_decref(st);
    json_decref(stored);
    /* The restarted round: both outages end (the closed ones do not). */
    W.auth_down = false;
    found = round_(&again);
    json_array_foreach(found, i, f)
    {
        assert_string_equal(json_string_value(json_object_get(f, "kind")), "outage-end");
        assert_string_not_equal(json_string_value(json_object_get(f, "vantage")), "isp-9");
    }
    assert_int_equal(json_array_size(found), 2);
    json_decref(found);
    json_decref(again);
}

static void test_parallel_round_equals_sequential(void **state)
{
    /* Twenty probe names (one forged at the vantage) over a transport that
     * lets 8 exchanges run at once: the same findings, in the same order,
     * as one query at a time. */
    static const struct dns_transport T8 = {exchange, NULL, now_fn, 8, NULL, NULL, NULL};
    char cfg[2048];
    size_t k;
    struct dns_config *c = NULL;
    json_t *base = NULL, *seq = NULL, *par = NULL, *st = NULL;
    unsigned before;

    (void)state;
    k = (size_t)snprintf(cfg, sizeof(cfg),
                         "{\"root\": {\"servers\": [\"10.0.0.1\"]}, \"zones\": [{\"zone\": "
                         "\"example.\", \"probe_names\": [");
    for (int i = 0; i < 19; i++)
        k += (size_t)snprintf(cfg + k, sizeof(cfg) - k, "\"p%d.example.\", ", i);
    (void)snprintf(cfg + k, sizeof(cfg) - k,
                   "\"www.example.\"]}], \"vantages\": [{\"name\": \"isp-1\", \"server\": "
                   "\"10.0.0.9\"}]}");
    assert_int_equal(dns_config_parse(cfg, strlen(cfg), &c, NULL), MRD_OK);
    assert_int_equal(dns_baseline_learn(c, &T, &base, NULL), MRD_OK);
    W.forged = true;
    assert_int_equal(dns_check_round(c, base, NULL, &T, &seq, &st, NULL), MRD_OK);
    json_decref(st);
    before = W.queries;
    assert_int_equal(dns_check_round(c, base, NULL, &T8, &par, &st, NULL), MRD_OK);
    json_decref(st);
    assert_int_equal(json_array_size(seq), 1);
    assert_true(json_equal(seq, par));
    assert_true(W.queries - before > 40); /* every probe name asked: 20 x (A, AAAA) at least */
    json_decref(seq);
    json_decref(par);
    json_decref(base);
    dns_config_free(c);
}

/* The in-process validator's verdict, canned. */
static struct dns_verdict VERDICT;
static int validations;

static enum mrd_code canned_validate(void *ctx, const struct dns_name *name, uint16_t type,
                                     struct dns_verdict *ret, struct mrd_err *err)
{
    (void)ctx;
    (void)name;
    (void)err;
    assert_int_equal(type, DNS_T_SOA);
    validations++;
    *ret = VERDICT;
    return MRD_OK;
}

static void test_why_bogus_causes(void **state)
{
    /* Unbound 1.17's texts, as the lab gets them, and the fallback. */
    static const char *const cases[][2] = {
        {"validation failure <example.tld. SOA IN>: signature expired from 10.53.0.3 for key "
         "example.tld. while building chain of trust",
         "signature-expired"},
        {"validation failure <example.tld. SOA IN>: signature before inception date from "
         "10.53.0.3 for key example.tld. while building chain of trust",
         "signature-not-yet-valid"},
        {"validation failure <x. DNSKEY IN>: DS hash mismatches key", "ds-mismatch"},
        {"validation failure <x. A IN>: no signatures from 10.53.0.3", "rrsig-missing"},
        {"validation failure <x. DNSKEY IN>: no DNSKEY rrset", "dnskey-missing"},
        {"validation failure <x. A IN>: algorithm 253 not supported", "unsupported-algorithm"},
        {"validation failure <y.x. A IN>: no NSEC3 records", "nsec-missing"},
        {"validation failure <x. A IN>: key for validation x. is marked as invalid", "other"},
        {"", "other"},
    };
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        assert_string_equal(dns_why_bogus_cause(cases[i][0]), cases[i][1]);
}

static void test_validator_verdict(void **state)
{
    struct dns_validator v = {canned_validate, NULL};
    struct dns_transport tv = T;
    json_t *found = NULL, *next = NULL;
    const json_t *f;
    struct mrd_err err = {0};

    (void)state;
    tv.validator = &v;
    validations = 0;
    memset(&VERDICT, 0, sizeof(VERDICT));
    VERDICT.answered = VERDICT.secure = true;
    assert_int_equal(dns_check_round(CFG, BASE, NULL, &tv, &found, &next, &err), MRD_OK);
    assert_int_equal(json_array_size(found), 0); /* secure: quiet */
    assert_int_equal(validations, 1);
    json_decref(found);
    json_decref(next);
    VERDICT.secure = false;
    VERDICT.bogus = true;
    VERDICT.rcode = DNS_RCODE_SERVFAIL;
    (void)snprintf(VERDICT.why, sizeof(VERDICT.why), "%s",
                   "validation failure <example. SOA IN>: signature expired");
    assert_int_equal(dns_check_round(CFG, BASE, NULL, &tv, &found, &next, &err), MRD_OK);
    f = only(found, "dnssec");
    assert_string_equal(json_string_value(json_object_get(f, "vantage")), "validator");
    assert_string_equal(json_string_value(json_object_get(f, "cause")), "signature-expired");
    assert_string_equal(json_string_value(json_object_get(f, "observed")), "bogus");
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(f, "evidence"), "why_bogus")),
        VERDICT.why);
    assert_string_equal(json_string_value(json_object_get(json_object_get(f, "evidence"), "rcode")),
                        "SERVFAIL");
    json_decref(found);
    json_decref(next);
    /* The zone's servers silent: an outage, and the validator is not asked. */
    validations = 0;
    W.auth_down = true;
    assert_int_equal(dns_check_round(CFG, BASE, NULL, &tv, &found, &next, &err), MRD_OK);
    assert_int_equal(validations, 0);
    json_decref(found);
    json_decref(next);
}

/* The prefix-to-ASN table (CAIDA pfx2as): longest prefix wins, several
 * origins, IPv6, comments; bad lines name the line. */
static void test_asn_table(void **state)
{
    static const char text[] = "# comment\n"
                               "45.33.0.0\t16\t100\n"
                               "45.33.32.0\t24\t63949\n"
                               "192.0.2.0 24 64500_64501\r\n"
                               "\n"
                               "2001:db8::\t32\t64510,64511\n";
    struct dns_asn_table *t = NULL;
    uint32_t asn[DNS_MAX_ORIGINS];
    struct mrd_err err = {0};
    static const char *const bad[] = {"45.33.0.0\t16\n",
                                      "45.33.0.1\t16\t100\n",
                                      "45.33.0.0\t33\t100\n",
                                      "45.33.0.0\t16\tAS100\n",
                                      "45.33.0.0\t16\t100_\n",
                                      "45.33.0.0\t16\t4294967296\n",
                                      "x\ty\tz\n",
                                      "45.33.0.0\t16\t1 2\n"};

    (void)state;
    assert_int_equal(dns_asn_table_parse(text, strlen(text), &t, &err), MRD_OK);
    assert_int_equal(dns_asn_lookup(t, "45.33.32.66", asn), 1);
    assert_int_equal(asn[0], 63949);
    assert_int_equal(dns_asn_lookup(t, "45.33.200.1", asn), 1);
    assert_int_equal(asn[0], 100);
    assert_int_equal(dns_asn_lookup(t, "192.0.2.1", asn), 2);
    assert_int_equal(asn[0], 64500);
    assert_int_equal(asn[1], 64501);
    assert_int_equal(dns_asn_lookup(t, "2001:db8:1::5", asn), 2);
    assert_int_equal(asn[1], 64511);
    assert_int_equal(dns_asn_lookup(t, "198.51.100.1", asn), 0);
    assert_int_equal(dns_asn_lookup(t, "2001:db9::1", asn), 0);
    assert_int_equal(dns_asn_lookup(t, "not an address", asn), 0);
    assert_int_equal(dns_asn_lookup(NULL, "45.33.32.66", asn), 0);
    dns_asn_table_free(t);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char buf[128];
        int n = snprintf(buf, sizeof(buf), "# ok\n%s", bad[i]);
        t = NULL;
        memset(&err, 0, sizeof(err));
        assert_int_equal(dns_asn_table_parse(buf, (size_t)n, &t, &err), MRD_E_PARSE);
        assert_non_null(strstr(err.msg, "line 2"));
        assert_null(t);
    }
}

static void test_excuse_decide(void **state)
{
    const uint32_t mine[] = {64501, 63949}, exp[] = {64500, 64501}, other[] = {100};

    (void)state;
    assert_string_equal(dns_excuse_decide(mine, 2, exp, 2, DNS_TLS_NOT_TRIED), "asn");
    assert_string_equal(dns_excuse_decide(mine, 2, exp, 2, DNS_TLS_INVALID), "asn");
    assert_null(dns_excuse_decide(other, 1, exp, 2, DNS_TLS_NOT_TRIED));
    assert_null(dns_excuse_decide(other, 1, exp, 2, DNS_TLS_INVALID));
    assert_null(dns_excuse_decide(other, 1, exp, 2, DNS_TLS_FAILED));
    assert_string_equal(dns_excuse_decide(other, 1, exp, 2, DNS_TLS_VALID), "tls");
    /* no ASN known on either side is no match */
    assert_null(dns_excuse_decide(NULL, 0, NULL, 0, DNS_TLS_NOT_TRIED));
    assert_string_equal(dns_excuse_decide(NULL, 0, NULL, 0, DNS_TLS_VALID), "tls");
}

static enum dns_tls_verdict TLS_VERDICT;
static int tls_probes;
static char tls_asked[128];

static enum mrd_code canned_tls(void *ctx, const char *addr, const char *name,
                                struct dns_tls_result *ret, struct mrd_err *err)
{
    (void)ctx;
    (void)err;
    tls_probes++;
    (void)snprintf(tls_asked, sizeof(tls_asked), "%s %s", addr, name);
    ret->verdict = TLS_VERDICT;
    (void)snprintf(ret->detail, sizeof(ret->detail), "%s",
                   TLS_VERDICT == DNS_TLS_VALID ? "certificate valid" : "certificate: bad name");
    return MRD_OK;
}

/* The verdict cache alone: a valid verdict lasts ttl, any other fail_ttl;
 * a verdict from the future (clock set back) is not taken; past
 * DNS_TLS_CACHE_MAX the oldest goes. */
static void test_tls_cache(void **state)
{
    json_t *c = json_object();
    struct dns_tls_result ok = {DNS_TLS_VALID, "certificate valid"},
                          bad = {DNS_TLS_FAILED, "connect: refused"}, got;
    int64_t at = 0;
    char addr[32];

    (void)state;
    assert_false(dns_tls_cache_get(c, "192.0.2.7", "www.example.", 1000, 3600, 300, &got, &at));
    assert_int_equal(dns_tls_cache_put(c, "192.0.2.7", "www.example.", &ok, 1000, 3600, 300, NULL),
                     MRD_OK);
    assert_int_equal(dns_tls_cache_put(c, "192.0.2.8", "www.example.", &bad, 1000, 3600, 300, NULL),
                     MRD_OK);
    assert_true(dns_tls_cache_get(c, "192.0.2.7", "www.example.", 4599, 3600, 300, &got, &at));
    assert_int_equal(got.verdict, DNS_TLS_VALID);
    assert_string_equal(got.detail, "certificate valid");
    assert_int_equal(at, 1000);
    assert_false(dns_tls_cache_get(c, "192.0.2.7", "www.example.", 4600, 3600, 300, &got, &at));
    assert_false(dns_tls_cache_get(c, "192.0.2.7", "www.other.", 1001, 3600, 300, &got, &at));
    assert_true(dns_tls_cache_get(c, "192.0.2.8", "www.example.", 1299, 3600, 300, &got, &at));
    assert_int_equal(got.verdict, DNS_TLS_FAILED);
    assert_string_equal(got.detail, "connect: refused");
    assert_false(dns_tls_cache_get(c, "192.0.2.8", "www.example.", 1300, 3600, 300, &got, &at));
    assert_false(dns_tls_cache_get(c, "192.0.2.7", "www.example.", 999, 3600, 300, &got, &at));
    assert_false(dns_tls_cache_get(c, "192.0.2.7", "www.example.", 1000, 0, 0, &got, &at));
    /* a put drops the expired ones; the cache is bounded */
    assert_int_equal(dns_tls_cache_put(c, "192.0.2.9", "www.example.", &ok, 1300, 3600, 300, NULL),
                     MRD_OK);
    assert_int_equal(json_object_size(c), 2);
    for (int i = 0; i < DNS_TLS_CACHE_MAX + 10; i++) {
        (void)snprintf(addr, sizeof(addr), "10.%d.%d.1", i / 256, i % 256);
        assert_int_equal(
            dns_tls_cache_put(c, addr, "www.example.", &ok, 1400 + i, 86400, 300, NULL), MRD_OK);
    }
    assert_int_equal(json_object_size(c), DNS_TLS_CACHE_MAX);
    assert_false(dns_tls_cache_get(c, "192.0.2.9", "www.example.", 9000, 86400, 300, &got, &at));
    assert_false(dns_tls_cache_get(c, "10.0.9.1", "www.example.", 9000, 86400, 300, &got, &at));
    assert_true(dns_tls_cache_get(c, "10.0.20.1", "www.example.", 9000, 86400, 300, &got, &at));
    /* a state edited by hand: a bad entry is not taken */
    json_object_set_new(c, "192.0.2.10 www.example.",
                        json_pack("{s:s, s:s, s:i}", "verdict", "maybe", "detail", "", "at", 1400));
    assert_false(dns_tls_cache_get(c, "192.0.2.10", "www.example.", 1500, 3600, 300, &got, &at));
    json_decref(c);
}

/* The excuses evidence of 45.33.32.66 in the first excused divergence of
 * a round's state. */
static const json_t *first_excuse(const json_t *st)
{
    return json_object_get(
        json_object_get(
            json_object_get(json_array_get(json_object_get(st, "excused"), 0), "evidence"),
            "excuses"),
        "45.33.32.66");
}

/* A forged answer (45.33.32.66 for 192.0.2.1) excused by the ASN rule or
 * the TLS rule is recorded in the state's "excused", not reported; a TLS
 * failure leaves the divergence with the evidence of both rules. */
static void test_divergence_excuses(void **state)
{
    static const char same[] = "45.33.32.0\t24\t64500\n192.0.2.0\t24\t64500\n";
    static const char differ[] = "45.33.32.0\t24\t63949\n192.0.2.0\t24\t64500\n";
    struct dns_tls_prober p = {canned_tls, NULL};
    struct dns_transport tt = T;
    json_t *found = NULL, *next = NULL, *ex;
    const json_t *f, *e;
    struct mrd_err err = {0};

    (void)state;
    W.forged = true;
    tls_probes = 0;
    assert_int_equal(dns_asn_table_parse(same, strlen(same), &CFG->asn_table, &err), MRD_OK);
    assert_int_equal(dns_check_round(CFG, BASE, NULL, &T, &found, &next, &err), MRD_OK);
    assert_int_equal(json_array_size(found), 0);
    ex = json_object_get(next, "excused");
    assert_int_equal(json_array_size(ex), 1);
    e = first_excuse(next);
    assert_string_equal(json_string_value(json_object_get(e, "excused")), "asn");
    assert_int_equal(json_integer_value(json_array_get(json_object_get(e, "asn"), 0)), 64500);
    assert_string_equal(json_string_value(json_object_get(json_array_get(ex, 0), "vantage")),
                        "isp-1");
    json_decref(found);
    json_decref(next);
    dns_asn_table_free(CFG->asn_table);
    CFG->asn_table = NULL;

    /* another origin: the TLS rule decides */
    assert_int_equal(dns_asn_table_parse(differ, strlen(differ), &CFG->asn_table, &err), MRD_OK);
    tt.tls = &p;
    TLS_VERDICT = DNS_TLS_VALID;
    assert_int_equal(dns_check_round(CFG, BASE, NULL, &tt, &found, &next, &err), MRD_OK);
    assert_int_equal(json_array_size(found), 0);
    assert_int_equal(tls_probes, 1);
    assert_string_equal(tls_asked, "45.33.32.66 www.example.");
    e = first_excuse(next);
    assert_string_equal(json_string_value(json_object_get(e, "excused")), "tls");
    json_decref(found);
    json_decref(next);

    TLS_VERDICT = DNS_TLS_INVALID;
    assert_int_equal(dns_check_round(CFG, BASE, NULL, &tt, &found, &next, &err), MRD_OK);
    f = only(found, "divergence");
    e = json_object_get(json_object_get(json_object_get(f, "evidence"), "excuses"), "45.33.32.66");
    assert_true(json_is_null(json_object_get(e, "excused")));
    assert_string_equal(json_string_value(json_object_get(e, "tls")), "certificate: bad name");
    assert_int_equal(json_integer_value(json_array_get(json_object_get(e, "asn"), 0)), 63949);
    assert_int_equal(json_array_size(json_object_get(next, "excused")), 0);
    json_decref(found);
    json_decref(next);
    dns_asn_table_free(CFG->asn_table);
    CFG->asn_table = NULL;

    /* neither rule configured: the divergence as before, no excuses member */
    found = round_(NULL);
    f = only(found, "divergence");
    assert_null(json_object_get(json_object_get(f, "evidence"), "excuses"));
    json_decref(found);
}

/* The sensor in serve stores a lasting finding again only when it changed
 * or alert_refresh has passed; a restart takes its last version, however
 * old within alert_refresh, as open. */
/* A lasting divergence asks for one handshake, not one per round: the
 * next round takes the verdict from the state's cache (evidence
 * tls_cached, the state's tls_cached count); once it expires, a new one. */
static void test_tls_verdict_cached_between_rounds(void **state)
{
    struct dns_tls_prober p = {canned_tls, NULL};
    struct dns_transport tt = T;
    json_t *found = NULL, *st = NULL, *next = NULL;
    const json_t *e;
    struct mrd_err err = {0};

    (void)state;
    W.forged = true;
    tls_probes = 0;
    tt.tls = &p;
    TLS_VERDICT = DNS_TLS_VALID;
    for (int round = 0; round < 3; round++) {
        assert_int_equal(dns_check_round(CFG, BASE, st, &tt, &found, &next, &err), MRD_OK);
        assert_int_equal(json_array_size(found), 0);
        e = first_excuse(next);
        assert_string_equal(json_string_value(json_object_get(e, "excused")), "tls");
        assert_int_equal(tls_probes, 1);
        assert_int_equal(json_integer_value(json_object_get(next, "tls_cached")), round > 0);
        if (round > 0)
            assert_non_null(json_string_value(json_object_get(e, "tls_cached")));
        else
            assert_null(json_object_get(e, "tls_cached"));
        json_decref(found);
        json_decref(st);
        st = next;
    }
    /* the verdict an hour old: asked again */
    json_integer_set(
        json_object_get(
            json_object_get(json_object_get(st, "tls_cache"), "45.33.32.66 www.example."), "at"),
        NOW - 3600);
    assert_int_equal(dns_check_round(CFG, BASE, st, &tt, &found, &next, &err), MRD_OK);
    assert_int_equal(tls_probes, 2);
    assert_int_equal(json_integer_value(json_object_get(next, "tls_cached")), 0);
    json_decref(found);
    json_decref(next);
    json_decref(st);
}

static void test_findings_due(void **state)
{
    json_t *st = NULL, *found, *due = NULL, *stored = json_object(), *next = NULL, *f;
    json_t *rebuilt = NULL;

    (void)state;
    W.auth_down = true; /* two outages: authoritative and isp-1 */
    found = round_(&st);
    assert_int_equal(json_array_size(found), 2);
    /* first round: both new */
    assert_int_equal(dns_findings_due(found, stored, NOW, 3600, &due, &next, NULL), MRD_OK);
    assert_int_equal(json_array_size(due), 2);
    json_decref(due);
    json_decref(stored);
    stored = next;
    /* a minute later, nothing changed: none due; the map keeps their time */
    assert_int_equal(dns_findings_due(found, stored, NOW + 60, 3600, &due, &next, NULL), MRD_OK);
    assert_int_equal(json_array_size(due), 0);
    assert_true(json_equal(next, stored));
    json_decref(due);
    json_decref(next);
    /* the evidence's timings change: still none; the observed state: due
     * (on a copy: the state holds the same findings) */
    {
        json_t *copy = json_deep_copy(found);
        json_decref(found);
        found = copy;
    }
    f = json_array_get(found, 0);
    json_object_set_new(f, "evidence", json_pack("{s:i}", "rtt_ms", 12));
    assert_int_equal(dns_findings_due(found, stored, NOW + 60, 3600, &due, &next, NULL), MRD_OK);
    assert_int_equal(json_array_size(due), 0);
    json_decref(due);
    json_decref(next);
    json_object_set_new(f, "observed", json_string("timeout"));
    assert_int_equal(dns_findings_due(found, stored, NOW + 60, 3600, &due, &next, NULL), MRD_OK);
    assert_int_equal(json_array_size(due), 1);
    assert_ptr_equal(json_array_get(due, 0), f);
    json_decref(due);
    json_decref(next);
    /* an hour after they were stored: both due again (last_seen refresh) */
    assert_int_equal(dns_findings_due(found, stored, NOW + 3600, 3600, &due, &next, NULL), MRD_OK);
    assert_int_equal(json_array_size(due), 2);
    json_decref(due);
    json_decref(next);
    /* a finding gone is forgotten */
    f = json_array();
    assert_int_equal(dns_findings_due(f, stored, NOW + 60, 3600, &due, &next, NULL), MRD_OK);
    json_decref(f);
    assert_int_equal(json_object_size(next), 0);
    json_decref(due);
    json_decref(next);
    json_decref(stored);
    /* dns_findings_stored: from a rebuilt state, not due until refresh */
    stored = dns_findings_stored(st);
    assert_non_null(stored);
    assert_int_equal(json_object_size(stored), 2);
    json_decref(found);
    found = round_(&st);
    assert_int_equal(dns_findings_due(found, stored, NOW + 60, 3600, &due, &next, NULL), MRD_OK);
    assert_int_equal(json_array_size(due), 0);
    json_decref(due);
    json_decref(next);
    /* a restart 30 minutes after the last stored version: open with a
     * refresh of an hour, closed with one of a minute */
    {
        char round[MRD_TIME_STIX_MS_LEN + 1];
        const char *last =
            json_string_value(json_object_get(json_array_get(found, 0), "last_seen"));
        struct mrd_time t;
        assert_int_equal(mrd_time_parse(last, strlen(last), &t, NULL), MRD_OK);
        mrd_time_format_stix_ms(mrd_time_to_usec(&t) + (int64_t)1800 * 1000000, round);
        assert_int_equal(dns_state_from_alerts(found, round, 3600, &rebuilt, NULL), MRD_OK);
        assert_int_equal(json_array_size(json_object_get(rebuilt, "open")), 2);
        json_decref(rebuilt);
        assert_int_equal(dns_state_from_alerts(found, round, 60, &rebuilt, NULL), MRD_OK);
        assert_int_equal(json_array_size(json_object_get(rebuilt, "open")), 0);
        json_decref(rebuilt);
    }
    json_decref(stored);
    json_decref(found);
    json_decref(st);
}

/* A truncated UDP answer sends the query to TCP; one that names an
 * address the TCP answer lacks was forged (injection, tcp-disagrees); a
 * genuine one (empty, or a part of the full answer) is quiet. */
static void test_truncated_answer_disagreeing_with_tcp(void **state)
{
    json_t *found;
    const json_t *f;

    (void)state;
    W.tc = "";
    found = round_(NULL);
    assert_int_equal(json_array_size(found), 0);
    json_decref(found);
    W.tc = "192.0.2.1";
    found = round_(NULL);
    assert_int_equal(json_array_size(found), 0);
    json_decref(found);
    W.tc = "10.10.34.34";
    found = round_(NULL);
    f = only(found, "injection");
    assert_string_equal(json_string_value(json_array_get(json_object_get(f, "observed"), 0)),
                        "10.10.34.34");
    {
        const json_t *rules = json_object_get(json_object_get(f, "evidence"), "rules");
        size_t i;
        json_t *r;
        bool tcp = false, multiple = false;
        json_array_foreach(rules, i, r)
        {
            tcp = tcp || strcmp(json_string_value(r), "tcp-disagrees") == 0;
            multiple = multiple || strcmp(json_string_value(r), "multiple-answers") == 0;
        }
        assert_true(tcp && multiple);
    }
    json_decref(found);
}

static void test_trust_anchor(void **state)
{
    /* The DS of the test key (as ldns-key2ds writes it), the key itself
     * over two lines in parentheses, and what must be refused. */
    static const char ds_file[] =
        "; the root of the lab\n"
        "example.\t3600\tIN\tDS\t56399 13 2 "
        "6F8F2BF9358B4529160389434517FA3274A380B7286E3DB82660A31081963C86\n";
    static const char key_file[] =
        "example. IN DNSKEY 257 3 13 ( SLu9HI7Xx0O93vzJWyj7gMs9nNkwqVaHauwdipvKE4YuW3bq4cg34c3N\n"
        "   f0FFe6owhMNBtfPQzyK3oJUCL0BC8g== ) ; KSK\n";
    struct dns_config *c = NULL;
    struct mrd_err err = {0};
    struct dns_msg *m = NULL;
    struct mb b;
    uint8_t k[128];
    size_t kl = unhex(key_hex, k);

    (void)state;
    mb_start(&b, 1, DNS_F_QR);
    mb_question(&b, "example.", DNS_T_DNSKEY);
    mb_rr(&b, 1, "example.", DNS_T_DNSKEY, k, kl);
    mb_finish(&b);
    assert_int_equal(dns_msg_parse(b.b, b.n, &m, NULL), MRD_OK);
    assert_int_equal(dns_config_parse(config, strlen(config), &c, NULL), MRD_OK);
    assert_int_equal(dns_anchor_parse(ds_file, strlen(ds_file), c, &err), MRD_OK);
    assert_int_equal(dns_anchor_parse(key_file, strlen(key_file), c, &err), MRD_OK);
    assert_int_equal(c->nanchors, 2);
    assert_true(dns_anchor_matches(&c->anchors[0], &m->rr[0]));
    assert_true(dns_anchor_matches(&c->anchors[1], &m->rr[0]));
    c->anchors[0].rdata[10] ^= 1; /* another digest */
    assert_false(dns_anchor_matches(&c->anchors[0], &m->rr[0]));
    c->anchors[1].rdata[10] ^= 1; /* another key */
    assert_false(dns_anchor_matches(&c->anchors[1], &m->rr[0]));
    assert_int_equal(dns_anchor_parse("example. IN A 192.0.2.1\n", 24, c, &err), MRD_E_PARSE);
    assert_non_null(strstr(err.msg, "line 1: expected DS or DNSKEY"));
    memset(&err, 0, sizeof(err)); /* an error keeps its first message */
    assert_int_equal(dns_anchor_parse("\n. IN DS 1 13 2 ZZ\n", 19, c, &err), MRD_E_PARSE);
    assert_non_null(strstr(err.msg, "line 2: bad DS digest"));
    assert_int_equal(dns_anchor_parse(". IN DS ( 1 13 2 AA\n", 20, c, &err), MRD_E_PARSE);
    assert_int_equal(dns_anchor_parse("; nothing\n", 10, c, &err), MRD_E_PARSE);
    dns_msg_free(m);
    dns_config_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_baseline, reset),
        cmocka_unit_test_setup(test_healthy_world_is_quiet, reset),
        cmocka_unit_test_setup(test_delegation_hijack, reset),
        cmocka_unit_test_setup(test_forged_answer, reset),
        cmocka_unit_test_setup(test_bogus_at_vantage, reset),
        cmocka_unit_test_setup(test_ds_mismatch, reset),
        cmocka_unit_test_setup(test_signatures, reset),
        cmocka_unit_test_setup(test_outage_and_end, reset),
        cmocka_unit_test_setup(test_zone_consistency, reset),
        cmocka_unit_test_setup(test_name_servers_without_glue, reset),
        cmocka_unit_test_setup(test_stix, reset),
        cmocka_unit_test_setup(test_injected_answer_racing_the_vantage, reset),
        cmocka_unit_test_setup(test_second_answer_alone_is_enough, reset),
        cmocka_unit_test_setup(test_bogon_and_ttl_rules, reset),
        cmocka_unit_test_setup(test_address_rules, reset),
        cmocka_unit_test_setup(test_state_rebuilt_from_alerts, reset),
        cmocka_unit_test_setup(test_parallel_round_equals_sequential, reset),
        cmocka_unit_test_setup(test_trust_anchor, reset),
        cmocka_unit_test(test_why_bogus_causes),
        cmocka_unit_test_setup(test_validator_verdict, reset),
        cmocka_unit_test_setup(test_findings_due, reset),
        cmocka_unit_test_setup(test_truncated_answer_disagreeing_with_tcp, reset),
        cmocka_unit_test(test_asn_table),
        cmocka_unit_test(test_excuse_decide),
        cmocka_unit_test_setup(test_divergence_excuses, reset),
        cmocka_unit_test(test_tls_cache),
        cmocka_unit_test_setup(test_injection_asked_again_over_tcp, reset),
        cmocka_unit_test(test_tcp_rule),
        cmocka_unit_test_setup(test_tls_verdict_cached_between_rounds, reset),
        cmocka_unit_test_setup(test_transient_servfail, reset),
        cmocka_unit_test_setup(test_pending_survives_restart, reset),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
