/*
 * fuzz_dns: the DNS message decoder (src/dns/wire.c), the watch
 * configuration, and the sensor's baseline and check rounds fed with
 * answers taken from the input.
 *
 * The first byte modulo 4 chooses: 3, a trust-anchor file, also read as
 * a validator's why-bogus text (dns_why_bogus_cause) and as a
 * prefix-to-ASN table (the divergence excuses: dns_asn_table_parse, then
 * lookups and decisions); 0, the rest is
 * one DNS message, whose
 * names are formatted and whose DS and DNSKEY records are matched against
 * each other; 1, a configuration; 2, a stream of answers (2-byte length,
 * then a header and records, the question copied in from each query) that
 * a fake transport hands to a baseline and a check round of a fixed
 * configuration, some as late answers with their IP TTL and timing (the
 * injection rules), and to an in-process validator whose verdicts (bogus
 * or not, and the why-bogus text) come from the stream too; a fixed
 * prefix-to-ASN table and a TLS prober that always fails make divergences
 * go through the excuses. Nothing may crash, leak or read outside
 * the buffer; an error must carry a message.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns/dns.h"

static const char fixed_cfg[] =
    "{\"root\": {\"servers\": [\"10.0.0.1\"]}, \"zones\": [{\"zone\": \"example.\", "
    "\"probe_names\": [\"www.example.\"]}], \"vantages\": [{\"name\": \"v\", \"server\": "
    "\"10.0.0.9\"}]}";
static const char fixed_base[] =
    "{\"zones\": [{\"zone\": \"example.\", \"ns\": [\"ns1.example.\"], \"ds\": [\"1 13 2 AA\"], "
    "\"glue\": {\"ns1.example.\": [\"10.0.0.2\"]}, \"probes\": {\"www.example.\": "
    "[\"192.0.2.1\"]}}]}";

struct feed {
    const uint8_t *p;
    size_t n;
};

/* The next answer of the stream for query q: 2-byte length (the top bit
 * marks an answer that arrives late, after the previous one, Hold-On),
 * then a header whose id bytes carry the IP TTL and the RTT in units of
 * 100 us, then records. */
static bool next_answer(struct feed *f, const uint8_t *q, size_t qlen, bool late,
                        struct dns_msg **ret, int *ret_ttl, int64_t *ret_rtt)
{
    uint8_t buf[DNS_MAX_MSG];
    size_t len, qsec, n;
    bool ok;

    *ret = NULL;
    if (f->n < 2 || ((f->p[0] & 0x80) != 0) != late)
        return false;
    len = (size_t)(f->p[0] & 0x7F) << 8 | f->p[1];
    f->p += 2;
    f->n -= 2;
    if (len > f->n)
        len = f->n;
    if (len < 12) {
        f->p += len;
        f->n -= len;
        return false;
    }
    /* The query's question (and OPT: it is the end of the query), then the
     * fuzzer's records; counts come from the fuzzer's header. */
    qsec = qlen - 12 - (qlen > 23 && q[qlen - 11] == 0 && q[qlen - 9] == DNS_T_OPT ? 11 : 0);
    n = 12 + qsec + (len - 12);
    if (n > sizeof(buf))
        n = sizeof(buf);
    memcpy(buf, f->p, 12);
    *ret_ttl = f->p[0];
    *ret_rtt = (int64_t)f->p[1] * 100;
    buf[0] = q[0];
    buf[1] = q[1];
    buf[4] = 0;
    buf[5] = 1;
    memcpy(buf + 12, q + 12, qsec);
    memcpy(buf + 12 + qsec, f->p + 12, n - 12 - qsec);
    f->p += len;
    f->n -= len;
    ok = dns_msg_parse(buf, n, ret, NULL) == MRD_OK;
    return ok;
}

static enum mrd_code exchange(void *ctx, const char *server, const uint8_t *q, size_t qlen,
                              struct dns_xfer *ret, struct mrd_err *err)
{
    struct feed *f = ctx;
    struct dns_late *l;

    (void)server;
    (void)err;
    memset(ret, 0, sizeof(*ret));
    ret->status = DNS_XFER_TIMEOUT;
    if (!next_answer(f, q, qlen, false, &ret->msg, &ret->ip_ttl, &ret->rtt_usec))
        return MRD_OK;
    ret->status = DNS_XFER_OK;
    for (l = &ret->late[0]; ret->nlate < DNS_MAX_LATE; l = &ret->late[ret->nlate]) {
        if (!next_answer(f, q, qlen, true, &l->msg, &l->ip_ttl, &l->rtt_usec))
            break;
        ret->nlate++;
    }
    return MRD_OK;
}

static int64_t now_fn(void *ctx)
{
    (void)ctx;
    return 0x68000000;
}

/* The validator's verdict from the stream: a flag byte (bit 0: bogus),
 * then up to 64 bytes of why-bogus text. */
static enum mrd_code fuzz_validate(void *ctx, const struct dns_name *name, uint16_t type,
                                   struct dns_verdict *ret, struct mrd_err *err)
{
    struct feed *f = ctx;
    size_t n;

    (void)name;
    (void)type;
    (void)err;
    memset(ret, 0, sizeof(*ret));
    if (f->n == 0)
        return MRD_OK;
    ret->answered = true;
    ret->bogus = (f->p[0] & 1) != 0;
    ret->rcode = ret->bogus ? DNS_RCODE_SERVFAIL : DNS_RCODE_NOERROR;
    n = f->n - 1 < 64 ? f->n - 1 : 64;
    for (size_t i = 0; i < n; i++)
        ret->why[i] = (char)(f->p[1 + i] >= 0x20 && f->p[1 + i] < 0x7f ? f->p[1 + i] : '?');
    f->p += 1 + n;
    f->n -= 1 + n;
    return MRD_OK;
}

/* A state file's parts read back: the sensor's pending text and the TLS
 * verdict cache (an operator may edit the state file). */
static void fuzz_state(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    json_t *st = json_object(), *cache;
    struct dns_tls_result r;
    int64_t at;

    if (text == NULL || st == NULL)
        abort();
    memcpy(text, data, size);
    text[size] = '\0';
    (void)dns_pending_unpack(st, text, NULL);
    cache = json_loadb((const char *)data, size, 0, NULL);
    if (dns_tls_cache_get(cache, "192.0.2.1", "www.example.", 1000, 3600, 300, &r, &at) &&
        (r.verdict < DNS_TLS_VALID || r.verdict > DNS_TLS_FAILED))
        abort();
    json_decref(cache);
    json_decref(st);
    free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static enum mrd_code fuzz_tls(void *ctx, const char *addr, const char *name,
                              struct dns_tls_result *ret, struct mrd_err *err)
{
    (void)ctx;
    (void)err;
    if (addr == NULL || name == NULL)
        abort();
    ret->verdict = DNS_TLS_INVALID;
    (void)snprintf(ret->detail, sizeof(ret->detail), "certificate: fuzz");
    return MRD_OK;
}

/* A table and its lookups: addresses from the input's own prefixes. */
static void fuzz_pfx2as(const uint8_t *data, size_t size)
{
    static const char *const addrs[] = {"45.33.32.66", "192.0.2.1", "0.0.0.0", "255.255.255.255",
                                        "2001:db8::1", "::",        "x"};
    struct dns_asn_table *t = NULL;
    struct mrd_err err = {0};
    uint32_t a[DNS_MAX_ORIGINS], b[DNS_MAX_ORIGINS];

    if (dns_asn_table_parse((const char *)data, size, &t, &err) != MRD_OK) {
        if (err.msg[0] == '\0' || t != NULL)
            abort();
        return;
    }
    for (size_t i = 0; i < sizeof(addrs) / sizeof(addrs[0]); i++) {
        size_t n = dns_asn_lookup(t, addrs[i], a), m = dns_asn_lookup(t, addrs[0], b);
        if (n > DNS_MAX_ORIGINS || m > DNS_MAX_ORIGINS)
            abort();
        (void)dns_excuse_decide(a, n, b, m, (enum dns_tls_verdict)(i % 4));
    }
    dns_asn_table_free(t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct mrd_err err = {0};

    if (size < 1)
        return 0;
    switch (data[0] % 4) {
    case 3: {
        /* A trust-anchor file (zone-file presentation form). */
        static struct dns_config *acfg;
        static const char c[] = "{\"zones\": [{\"zone\": \"example.\"}]}";
        if (acfg == NULL && dns_config_parse(c, strlen(c), &acfg, NULL) != MRD_OK)
            abort();
        char why[DNS_MAX_WHY + 1];
        size_t wn = size - 1 < DNS_MAX_WHY ? size - 1 : DNS_MAX_WHY;
        memcpy(why, data + 1, wn);
        why[wn] = '\0';
        if (dns_why_bogus_cause(why) == NULL)
            abort();
        fuzz_pfx2as(data + 1, size - 1);
        acfg->nanchors = 0;
        if (dns_anchor_parse((const char *)data + 1, size - 1, acfg, &err) != MRD_OK &&
            err.msg[0] == '\0')
            abort();
        break;
    }
    case 0: {
        struct dns_msg *m = NULL;
        char s[DNS_MAX_NAME_STR];
        if (dns_msg_parse(data + 1, size - 1, &m, &err) != MRD_OK) {
            if (err.msg[0] == '\0')
                abort();
            return 0;
        }
        dns_name_format(&m->qname, s);
        for (size_t i = 0; i < m->nrr; i++) {
            dns_name_format(&m->rr[i].owner, s);
            for (size_t k = 0; k < m->nrr; k++)
                (void)dns_ds_matches(&m->rr[i], &m->rr[k]);
        }
        dns_msg_free(m);
        break;
    }
    case 1: {
        struct dns_config *cfg = NULL;
        fuzz_state(data + 1, size - 1);
        if (dns_config_parse((const char *)data + 1, size - 1, &cfg, &err) != MRD_OK) {
            if (err.msg[0] == '\0')
                abort();
            return 0;
        }
        dns_config_free(cfg);
        break;
    }
    default: {
        static struct dns_config *cfg;
        static json_t *base;
        struct feed f = {data + 1, size - 1};
        struct dns_validator v = {fuzz_validate, &f};
        struct dns_tls_prober p = {fuzz_tls, NULL};
        struct dns_transport t = {exchange, &f, now_fn, 0, &v, &p, NULL};
        json_t *b = NULL, *found = NULL, *state = NULL, *objs, *seen, *x;
        size_t i;
        static const char table[] = "0.0.0.0\t1\t64500\n128.0.0.0\t1\t64500_64501\n"
                                    "45.33.32.0\t24\t63949\n::\t0\t64502\n";
        if (cfg == NULL &&
            (dns_config_parse(fixed_cfg, strlen(fixed_cfg), &cfg, NULL) != MRD_OK ||
             (base = json_loads(fixed_base, 0, NULL)) == NULL ||
             dns_asn_table_parse(table, strlen(table), &cfg->asn_table, NULL) != MRD_OK))
            abort();
        if (dns_baseline_learn(cfg, &t, &b, &err) == MRD_OK)
            json_decref(b);
        if (dns_check_round(cfg, base, NULL, &t, &found, &state, &err) != MRD_OK)
            return 0;
        /* a second round from the first one's state (pending, tls_cache) */
        if (dns_check_round(cfg, base, state, &t, &x, &b, &err) == MRD_OK) {
            json_decref(x);
            json_decref(b);
        }
        objs = json_array();
        seen = json_object();
        json_array_foreach(found, i, x)(void) dns_finding_stix(x, objs, seen, NULL);
        json_decref(objs);
        json_decref(seen);
        json_decref(found);
        json_decref(state);
        break;
    }
    }
    return 0;
}
