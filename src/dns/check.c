/*
 * check.c: one round of the DNS-stability sensor's detectors.
 *
 * Per watched zone: the delegation at the parent (NS, DS, glue) against
 * the baseline; the zone's own servers (SOA with authority, else an
 * outage); the DNSSEC state they serve (a DS with no matching DNSKEY,
 * missing DNSKEY or RRSIG, signatures expired, not yet valid or close to
 * expiry); and each vantage resolver: a SERVFAIL that a +CD query does
 * not get is a DNSSEC failure (cause from the RFC 8914 code), one it gets
 * too is an outage when enough vantages share it; answers with addresses
 * that neither the baseline nor the zone's servers give are divergence.
 * Findings carry a key (kind, zone, name, vantage, cause, field) that
 * ties them to the state of the previous round.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/json.h"
#include "core/str.h"
#include "dns/dns_int.h"

#define DNS_OUTAGE_SHARE_PCT 50 /* vantages failing a zone's SOA that make an outage */
#define DNS_HOLDON_TTL_SLACK 1  /* hops an answer's IP TTL may differ from the reference */
#define DNS_HOLDON_RTT_DIV 4    /* an answer in under 1/4 of the reference RTT is early */

/* What a vantage's answers normally look like, learned each round from a
 * query no censor targets (the root's NS set): the Hold-On reference. */
struct vref {
    int ip_ttl;       /* 0: unknown */
    int64_t rtt_usec; /* 0: unknown */
};

static enum mrd_code nomem(struct mrd_err *err)
{
    return mrd_err_set(err, MRD_E_NOMEM, "dns: out of memory");
}

const char *dns_ede_cause(int ede)
{
    switch (ede) {
    case 1: /* Unsupported DNSKEY Algorithm */
    case 2: /* Unsupported DS Digest Type */
        return "unsupported-algorithm";
    case 7:
        return "signature-expired";
    case 8:
        return "signature-not-yet-valid";
    case 9:
        return "dnskey-missing";
    case 10:
        return "rrsig-missing";
    case 12:
        return "nsec-missing";
    default:
        return "other";
    }
}

/* Unbound's why-bogus texts (validator/val_sigcrypt.c, val_utils.c,
 * validator.c) by the phrase that names the cause; first match wins, so
 * the more specific phrases come first. Lower case. */
static const struct {
    const char *phrase, *cause;
} why_causes[] = {
    {"signature expired", "signature-expired"},
    {"expired", "signature-expired"},
    {"before inception", "signature-not-yet-valid"},
    {"not yet valid", "signature-not-yet-valid"},
    {"ds hash mismatch", "ds-mismatch"},
    {"mismatches key", "ds-mismatch"},
    {"matches ds", "ds-mismatch"},
    {"match ds", "ds-mismatch"},
    {"a ds with", "ds-mismatch"},
    {"unsupported", "unsupported-algorithm"},
    {"not supported", "unsupported-algorithm"},
    {"no supported", "unsupported-algorithm"},
    {"no dnskey", "dnskey-missing"},
    {"dnskey rrset missing", "dnskey-missing"},
    {"dnskey lookup", "dnskey-missing"},
    {"no signature", "rrsig-missing"},
    {"no rrsig", "rrsig-missing"},
    {"missing rrsig", "rrsig-missing"},
    {"nsec", "nsec-missing"},
    {"nonexistence", "nsec-missing"},
};

const char *dns_why_bogus_cause(const char *why)
{
    char low[DNS_MAX_WHY + 1];
    size_t n = 0;

    for (; why[n] != '\0' && n < DNS_MAX_WHY; n++)
        low[n] = (char)(why[n] >= 'A' && why[n] <= 'Z' ? why[n] - 'A' + 'a' : why[n]);
    low[n] = '\0';
    for (size_t i = 0; i < sizeof(why_causes) / sizeof(why_causes[0]); i++) {
        if (strstr(low, why_causes[i].phrase) != NULL)
            return why_causes[i].cause;
    }
    return "other";
}

/* The TLS verdicts of earlier rounds (dns_tls_cache_get), shared by the
 * round's threads. */
struct tls_memo {
    pthread_mutex_t mu;
    json_t *cache; /* the state's "tls_cache" */
    size_t hits;   /* verdicts this round took from it */
};

struct round {
    json_t *found; /* findings of this round */
    int64_t now;
    const struct dns_config *cfg;
    const struct dns_transport *t;
    char zone[DNS_MAX_NAME_STR];
    struct vref *ref;     /* per vantage */
    unsigned par;         /* workers this part of the round may run at once (>= 1) */
    struct tls_memo *tls; /* NULL: no TLS excuse configured */
};

/* ---- parallel rounds: a bounded pool of threads over independent items
 * (zones, then a zone's probe names). Each item adds its findings to a
 * round of its own; they are put together in item order, so a round's
 * findings do not depend on timing. ---- */

typedef enum mrd_code (*pool_fn)(void *ctx, size_t i, struct round *r, struct mrd_err *err);

struct pool {
    const struct round *base;
    pool_fn fn;
    void *ctx;
    size_t n, next;
    unsigned sub; /* par of each item's round */
    json_t **found;
    pthread_mutex_t mu;
    enum mrd_code rc; /* the first error */
    struct mrd_err err;
};

static void *pool_worker(void *arg)
{
    struct pool *p = arg;
    for (;;) {
        struct round local;
        struct mrd_err err = {0};
        enum mrd_code rc;
        size_t i;
        (void)pthread_mutex_lock(&p->mu);
        i = p->rc == MRD_OK ? p->next++ : p->n;
        (void)pthread_mutex_unlock(&p->mu);
        if (i >= p->n)
            return NULL;
        local = *p->base;
        local.par = p->sub;
        local.found = json_array();
        rc = local.found != NULL ? p->fn(p->ctx, i, &local, &err) : nomem(&err);
        p->found[i] = local.found;
        if (rc != MRD_OK) {
            (void)pthread_mutex_lock(&p->mu);
            if (p->rc == MRD_OK) {
                p->rc = rc;
                p->err = err;
            }
            (void)pthread_mutex_unlock(&p->mu);
        }
    }
}

/* Runs fn over items 0..n-1 with at most r->par of them at once (the
 * threads share the rest of r's budget) and appends their findings to
 * r->found in item order. */
static enum mrd_code pool_run(struct round *r, size_t n, pool_fn fn, void *ctx, struct mrd_err *err)
{
    unsigned workers = r->par < 1 ? 1 : r->par;
    struct pool p = {r, fn, ctx, n, 0, 1, NULL, PTHREAD_MUTEX_INITIALIZER, MRD_OK, {0}};
    pthread_t *th = NULL;
    size_t started = 0;
    enum mrd_code rc = MRD_OK;

    if (n == 0)
        return MRD_OK;
    if (workers > n)
        workers = (unsigned)n;
    p.sub = r->par / workers > 0 ? r->par / workers : 1;
    p.found = mrd_calloc(n, sizeof(*p.found));
    th = mrd_calloc(workers, sizeof(*th));
    if (p.found == NULL || th == NULL) {
        mrd_free(p.found);
        mrd_free(th);
        return nomem(err);
    }
    for (unsigned w = 1; w < workers; w++) {
        if (pthread_create(&th[started], NULL, pool_worker, &p) != 0)
            break; /* fewer workers: the items still all run */
        started++;
    }
    (void)pool_worker(&p); /* this thread is a worker too */
    for (size_t w = 0; w < started; w++)
        (void)pthread_join(th[w], NULL);
    rc = p.rc;
    if (rc != MRD_OK)
        *err = p.err;
    for (size_t i = 0; i < n; i++) {
        if (rc == MRD_OK && p.found[i] != NULL && json_array_extend(r->found, p.found[i]) != 0)
            rc = nomem(err);
        json_decref(p.found[i]);
    }
    (void)pthread_mutex_destroy(&p.mu);
    mrd_free(p.found);
    mrd_free(th);
    return rc;
}

#define DNS_MAX_KEY (3 * DNS_MAX_NAME_STR)

/* What ties a finding to the same one of another round. */
static void finding_key(const char *kind, const char *zone, const char *name, const char *vantage,
                        const char *cause, const char *field, char out[DNS_MAX_KEY])
{
    (void)snprintf(out, DNS_MAX_KEY, "%s|%s|%s|%s|%s|%s", kind, zone, name, vantage,
                   cause != NULL ? cause : "", field != NULL ? field : "");
}

/* Adds a finding; expected, observed and evidence are consumed (NULL:
 * JSON null / none). */
static enum mrd_code add(struct round *r, const char *kind, const char *name, const char *vantage,
                         const char *cause, const char *field, json_t *expected, json_t *observed,
                         json_t *evidence, struct mrd_err *err)
{
    char key[DNS_MAX_KEY];
    json_t *f;

    finding_key(kind, r->zone, name, vantage, cause, field, key);
    f = json_pack("{s:s, s:s, s:s, s:s, s:o, s:o, s:s}", "kind", kind, "zone", r->zone, "name",
                  name, "vantage", vantage, "expected", expected != NULL ? expected : json_null(),
                  "observed", observed != NULL ? observed : json_null(), "key", key);
    if (f == NULL) {
        json_decref(evidence);
        return nomem(err);
    }
    if ((cause != NULL && json_object_set_new(f, "cause", json_string(cause)) != 0) ||
        (field != NULL && json_object_set_new(f, "field", json_string(field)) != 0) ||
        (evidence != NULL && json_object_set_new(f, "evidence", evidence) != 0) ||
        json_array_append_new(r->found, f) != 0)
        return nomem(err);
    return MRD_OK;
}

static const char *xfer_status(const struct dns_xfer *x, char buf[64])
{
    char s[16];
    if (x->status == DNS_XFER_TIMEOUT)
        return "timeout";
    if (x->status == DNS_XFER_ERROR)
        return "error";
    (void)snprintf(buf, 64, "%s%s", dns_rcode_name(x->msg->rcode, s),
                   (x->msg->flags & DNS_F_AA) ? " aa" : "");
    return buf;
}

/* NS, DS and glue at the parent against the baseline. */
static enum mrd_code check_delegation(struct round *r, const json_t *bz, const struct dns_deleg *d,
                                      struct mrd_err *err)
{
    static const char *const fields[] = {"ns", "ds", "glue"};
    const json_t *now[3] = {d->ns, d->ds, d->glue};
    enum mrd_code rc = MRD_OK;

    for (size_t i = 0; i < 3 && rc == MRD_OK; i++) {
        const json_t *was = json_object_get(bz, fields[i]);
        if (json_equal((json_t *)(uintptr_t)was, (json_t *)(uintptr_t)now[i]))
            continue;
        rc = add(r, "delegation", r->zone, "authoritative", NULL, fields[i], json_deep_copy(was),
                 json_deep_copy(now[i]), json_pack("{s:O}", "parent_servers", d->parent_servers),
                 err);
    }
    return rc;
}

/* RRSIG validity (RFC 4034 §3.1.5, serial arithmetic) of the signatures in m. */
static enum mrd_code check_sigs(struct round *r, const struct dns_msg *m, const char *server,
                                struct mrd_err *err)
{
    enum mrd_code rc = MRD_OK;
    uint32_t now = (uint32_t)r->now;
    char ts[16];

    for (size_t i = 0; i < m->nrr && rc == MRD_OK; i++) {
        const struct dns_rr *rr = &m->rr[i];
        const char *cause = NULL, *field = NULL;
        char exp[40], inc[40], what[64];
        int64_t left;
        if (rr->section != DNS_SEC_ANSWER || rr->type != DNS_T_RRSIG)
            continue;
        left = (int64_t)(int32_t)(rr->u.rrsig.expiration - now);
        if (dns_serial_gt(now, rr->u.rrsig.expiration)) {
            cause = "signature-expired";
        } else if (dns_serial_gt(rr->u.rrsig.inception, now)) {
            cause = "signature-not-yet-valid";
        } else if (left < (int64_t)r->cfg->expiry_warn) {
            cause = "other";
            field = "expires-soon"; /* the early warning */
        }
        if (cause == NULL)
            continue;
        dns__time_str(r->now + (int64_t)(int32_t)(rr->u.rrsig.expiration - now), exp);
        dns__time_str(r->now + (int64_t)(int32_t)(rr->u.rrsig.inception - now), inc);
        (void)snprintf(what, sizeof(what), "RRSIG %s key %u",
                       dns_type_name(rr->u.rrsig.covered, ts), rr->u.rrsig.key_tag);
        rc = add(
            r, "dnssec", r->zone, "authoritative", cause, field,
            json_pack("{s:s}", "validity", "inception <= now < expiration"),
            json_pack("{s:s, s:s, s:s}", "signature", what, "inception", inc, "expiration", exp),
            json_pack("{s:s, s:I}", "server", server, "seconds_left", (json_int_t)left), err);
    }
    return rc;
}

/* DNSKEY, RRSIGs and the parent's DS, asked of one of the zone's servers. */
static enum mrd_code check_dnssec_auth(struct round *r, const struct dns_name *zone,
                                       const struct dns_deleg *d, const char *server,
                                       struct mrd_err *err)
{
    struct dns_xfer x = {0};
    enum mrd_code rc;
    size_t nkeys = 0, nsigs = 0;
    bool matched = false;
    size_t nds = d->ds_msg != NULL ? d->ds_msg->count[DNS_SEC_ANSWER] : 0;

    rc = dns_ask(r->t, server, zone, DNS_T_DNSKEY, DNS_Q_DO, &x, err);
    if (rc != MRD_OK || x.status != DNS_XFER_OK)
        goto out;
    for (size_t i = 0; i < x.msg->nrr; i++) {
        const struct dns_rr *k = &x.msg->rr[i];
        if (k->section != DNS_SEC_ANSWER)
            continue;
        if (k->type == DNS_T_RRSIG && k->u.rrsig.covered == DNS_T_DNSKEY)
            nsigs++;
        if (k->type != DNS_T_DNSKEY || !dns_name_eq(&k->owner, zone))
            continue;
        nkeys++;
        for (size_t j = 0; nds > 0 && j < d->ds_msg->nrr; j++) {
            const struct dns_rr *ds = &d->ds_msg->rr[j];
            if (ds->section == DNS_SEC_ANSWER && ds->type == DNS_T_DS && dns_ds_matches(ds, k))
                matched = true;
        }
    }
    if (nkeys == 0 && json_array_size(d->ds) > 0) {
        rc = add(r, "dnssec", r->zone, "authoritative", "dnskey-missing", NULL,
                 json_string("DNSKEY RRset"), json_string("no DNSKEY"),
                 json_pack("{s:s}", "server", server), err);
        goto out;
    }
    if (nkeys > 0 && nsigs == 0) {
        rc = add(r, "dnssec", r->zone, "authoritative", "rrsig-missing", NULL,
                 json_string("RRSIG over DNSKEY"), json_string("none"),
                 json_pack("{s:s}", "server", server), err);
        if (rc != MRD_OK)
            goto out;
    }
    if (json_array_size(d->ds) > 0 && !matched) {
        rc = add(r, "dnssec", r->zone, "authoritative", "ds-mismatch", NULL, json_deep_copy(d->ds),
                 json_string("no DNSKEY matches a DS of the parent"),
                 json_pack("{s:s, s:I}", "server", server, "dnskeys", (json_int_t)nkeys), err);
        if (rc != MRD_OK)
            goto out;
    }
    rc = check_sigs(r, x.msg, server, err);
    dns_xfer_release(&x);
    if (rc == MRD_OK)
        rc = dns_ask(r->t, server, zone, DNS_T_SOA, DNS_Q_DO, &x, err);
    if (rc == MRD_OK && x.status == DNS_XFER_OK)
        rc = check_sigs(r, x.msg, server, err);
out:
    dns_xfer_release(&x);
    return rc;
}

static bool ttl_off(const struct vref *ref, int ttl)
{
    return ref->ip_ttl > 0 && ttl > 0 && abs(ttl - ref->ip_ttl) > DNS_HOLDON_TTL_SLACK;
}

static bool early(const struct vref *ref, int64_t rtt)
{
    return ref->rtt_usec > 0 && rtt * DNS_HOLDON_RTT_DIV < ref->rtt_usec;
}

static bool in_set(const json_t *set, const json_t *v)
{
    return mrd_json_array_has(set, v);
}

/* One answer as the injection rules compare it: {"rcode", "addrs",
 * "answers", "ip_ttl", "rtt_ms"}. */
static json_t *reply_view(const struct dns_msg *m, uint16_t type, int ttl, int64_t rtt,
                          struct mrd_err *err)
{
    char rc[16];
    json_t *addrs = json_array(), *v;
    if (addrs == NULL || dns__answer_addrs(m, type, addrs, err) != MRD_OK) {
        json_decref(addrs);
        return NULL;
    }
    dns__set_sort(addrs);
    v = json_pack("{s:s, s:o, s:I, s:f}", "rcode", dns_rcode_name(m->rcode, rc), "addrs", addrs,
                  "answers", (json_int_t)m->count[DNS_SEC_ANSWER], "rtt_ms", (double)rtt / 1000.0);
    if (v != NULL && ttl > 0 && json_object_set_new(v, "ip_ttl", json_integer(ttl)) != 0) {
        json_decref(v);
        v = NULL;
    }
    if (v == NULL)
        (void)nomem(err);
    return v;
}

static bool same_view(const json_t *a, const json_t *b)
{
    static const char *const m[] = {"rcode", "addrs", "answers"};
    for (size_t i = 0; i < 3; i++) {
        if (!json_equal(json_object_get(a, m[i]), json_object_get(b, m[i])))
            return false;
    }
    return true;
}

/* Applies the address rules to the addresses of view that expected
 * lacks; appends rule names and evidence, and those addresses to obs
 * (may be NULL). */
static enum mrd_code judge_addrs(const json_t *view, const json_t *expected, json_t *rules,
                                 json_t *bogons, json_t *prints, json_t *obs, bool *ret_unexpected,
                                 struct mrd_err *err)
{
    size_t i;
    json_t *a;
    *ret_unexpected = false;
    json_array_foreach(json_object_get(view, "addrs"), i, a)
    {
        const char *range, *fp;
        if (expected == NULL || in_set(expected, a))
            continue;
        *ret_unexpected = true;
        if (obs != NULL && dns__set_add(obs, json_string_value(a), err) != MRD_OK)
            return MRD_E_NOMEM;
        fp = dns_addr_fingerprint(json_string_value(a));
        if (fp != NULL && (dns__set_add(rules, "censorship", err) != MRD_OK ||
                           json_object_set_new(prints, json_string_value(a), json_string(fp)) != 0))
            return nomem(err);
        if (dns_addr_bogon(json_string_value(a), &range) &&
            (dns__set_add(rules, "bogon", err) != MRD_OK ||
             json_object_set_new(bogons, json_string_value(a), json_string(range)) != 0))
            return nomem(err);
    }
    return MRD_OK;
}

/* The injection rules over every answer one query got (the first and
 * the late ones, dns_net.h): more than one different answer (the one
 * kept is the first whose IP TTL and timing fit the vantage's reference,
 * Hold-On; the others are the forged ones), or one answer with addresses
 * the zone does not give that are bogons, censorship fingerprints, or
 * arrived with an IP TTL off the reference. *ret_taken: the answer the
 * other detectors should judge, NULL when the only one was injected. */
/* True when the truncated UDP answer that sent the query to TCP names an
 * address of type that the TCP answer does not: forged (a genuine
 * truncated answer carries a part of the full one, or nothing). */
static bool truncated_disagrees(const struct dns_xfer *x, uint16_t type)
{
    json_t *udp = json_array(), *tcp = json_array(), *a;
    bool differs = false;
    size_t i;

    if (udp != NULL && tcp != NULL && x->truncated != NULL && x->msg != NULL &&
        dns__answer_addrs(x->truncated, type, udp, NULL) == MRD_OK &&
        dns__answer_addrs(x->msg, type, tcp, NULL) == MRD_OK) {
        json_array_foreach(udp, i, a) differs = differs || !in_set(tcp, a);
    }
    json_decref(udp);
    json_decref(tcp);
    return differs;
}

const char *dns_tcp_rule(const json_t *forged, bool answered, bool reset, const json_t *tcp_addrs)
{
    size_t i;
    const json_t *a;

    if (!answered)
        return reset ? "tcp-reset" : NULL;
    json_array_foreach(tcp_addrs, i, a)
    {
        if (in_set(forged, a))
            return "tcp-forged";
    }
    return NULL;
}

/* An answer judged injected over UDP: the same question over TCP, its
 * answer (or why none) as evidence ev.tcp and its rule (dns_tcp_rule) in
 * rules. Not asked when the answer already came over TCP. */
static enum mrd_code ask_tcp(struct round *r, const struct dns_cfg_vantage *v,
                             const struct dns_name *name, uint16_t type, const json_t *forged,
                             json_t *rules, json_t *ev, struct mrd_err *err)
{
    struct dns_xfer tx = {0};
    json_t *addrs = json_array(), *tcp = NULL;
    const char *rule;
    bool answered;
    char rc_name[16];
    enum mrd_code rc = addrs != NULL ? dns_ask(r->t, v->server, name, type,
                                               DNS_Q_RD | DNS_Q_DO | DNS_Q_TCP, &tx, err)
                                     : nomem(err);

    answered = rc == MRD_OK && tx.status == DNS_XFER_OK;
    if (answered)
        rc = dns__answer_addrs(tx.msg, type, addrs, err);
    if (rc == MRD_OK) {
        rule = dns_tcp_rule(forged, answered, tx.reset, addrs);
        tcp = answered ? json_pack("{s:O, s:s}", "addrs", addrs, "rcode",
                                   dns_rcode_name(tx.msg->rcode, rc_name))
                       : json_pack("{s:s, s:b}", "error", tx.detail, "reset", tx.reset);
        if (tcp == NULL || json_object_set_new(ev, "tcp", tcp) != 0 ||
            (rule != NULL && dns__set_add(rules, rule, err) != MRD_OK))
            rc = nomem(err);
        else
            dns__set_sort(rules);
    }
    json_decref(addrs);
    dns_xfer_release(&tx);
    return rc;
}

static enum mrd_code check_injection(struct round *r, const struct dns_cfg_vantage *v,
                                     const struct vref *ref, const struct dns_name *name,
                                     const char *ns, uint16_t type, const json_t *expected,
                                     const struct dns_xfer *x, const struct dns_msg **ret_taken,
                                     struct mrd_err *err)
{
    const struct dns_msg *msgs[2 + DNS_MAX_LATE];
    int ttls[2 + DNS_MAX_LATE];
    int64_t rtts[2 + DNS_MAX_LATE];
    size_t n = 1, genuine = SIZE_MAX;
    bool multiple = false, unexpected = false, tc_forged = false;
    json_t *views = json_array(), *rules = json_array(), *bogons = json_object(),
           *prints = json_object(), *obs = json_array();
    enum mrd_code rc = MRD_OK;
    char tn[16];

    *ret_taken = x->msg;
    msgs[0] = x->msg, ttls[0] = x->ip_ttl, rtts[0] = x->rtt_usec;
    for (size_t i = 0; i < x->nlate && i < DNS_MAX_LATE; i++, n++)
        msgs[n] = x->late[i].msg, ttls[n] = x->late[i].ip_ttl, rtts[n] = x->late[i].rtt_usec;
    /* Over TCP (the UDP answer was truncated): the truncated answer is one
     * more reply when it names addresses the TCP answer does not. */
    if (x->tcp && truncated_disagrees(x, type)) {
        msgs[n] = x->truncated, ttls[n] = x->truncated_ttl, rtts[n] = x->truncated_rtt_usec;
        n++;
        tc_forged = true;
    }
    if (views == NULL || rules == NULL || bogons == NULL || prints == NULL || obs == NULL) {
        rc = nomem(err);
        goto out;
    }
    for (size_t i = 0; i < n && rc == MRD_OK; i++) {
        json_t *view = reply_view(msgs[i], type, ttls[i], rtts[i], err);
        if (view == NULL)
            rc = MRD_E_NOMEM;
        else if (json_array_append_new(views, view) != 0)
            rc = nomem(err);
    }
    if (rc != MRD_OK)
        goto out;
    /* The answer to keep: the first that fits the reference and that the
     * zone's servers agree with; else the first that fits; else the last
     * (injectors answer first). */
    for (int pass = 0; pass < 2 && genuine == SIZE_MAX; pass++) {
        for (size_t i = 0; i < n && genuine == SIZE_MAX; i++) {
            size_t k;
            json_t *a;
            bool agreed = expected != NULL;
            json_array_foreach(json_object_get(json_array_get(views, i), "addrs"), k, a) agreed =
                agreed && in_set(expected, a);
            if ((pass == 1 || agreed) && !ttl_off(ref, ttls[i]) && !early(ref, rtts[i]))
                genuine = i;
        }
    }
    if (genuine == SIZE_MAX)
        genuine = n - 1;
    for (size_t i = 0; i < n; i++)
        multiple = multiple || !same_view(json_array_get(views, i), json_array_get(views, genuine));
    if (multiple) {
        rc = dns__set_add(rules, "multiple-answers", err);
        if (rc == MRD_OK && tc_forged)
            rc = dns__set_add(rules, "tcp-disagrees", err);
        for (size_t i = 0; i < n && rc == MRD_OK; i++) {
            const json_t *view = json_array_get(views, i);
            bool any;
            if (same_view(view, json_array_get(views, genuine)))
                continue;
            if (ttl_off(ref, ttls[i]))
                rc = dns__set_add(rules, "ip-ttl", err);
            if (rc == MRD_OK && early(ref, rtts[i]))
                rc = dns__set_add(rules, "early", err);
            if (rc == MRD_OK)
                rc = judge_addrs(view, expected, rules, bogons, prints, NULL, &any, err);
            /* observed: what the forged answers said, addresses or RCODE */
            if (rc == MRD_OK && json_array_size(json_object_get(view, "addrs")) == 0)
                rc = dns__set_add(obs, json_string_value(json_object_get(view, "rcode")), err);
            if (rc == MRD_OK && json_array_extend(obs, json_object_get(view, "addrs")) != 0)
                rc = nomem(err);
        }
        *ret_taken = msgs[genuine];
    } else {
        const json_t *view = json_array_get(views, genuine);
        rc = judge_addrs(view, expected, rules, bogons, prints, obs, &unexpected, err);
        if (rc == MRD_OK && unexpected && ttl_off(ref, ttls[genuine]))
            rc = dns__set_add(rules, "ip-ttl", err);
        if (json_array_size(rules) == 0)
            goto out; /* nothing marks it injected: divergence judges it */
        *ret_taken = NULL;
    }
    if (rc != MRD_OK)
        goto out;
    for (size_t i = 0; i < n; i++)
        (void)json_object_set_new(json_array_get(views, i), "taken",
                                  json_boolean(multiple && i == genuine));
    dns__set_sort(rules);
    dns__set_sort(obs);
    {
        json_t *ev =
            json_pack("{s:s, s:s, s:O, s:O, s:{s:i, s:f}}", "server", v->server, "type",
                      dns_type_name(type, tn), "rules", rules, "replies", views, "reference",
                      "ip_ttl", ref->ip_ttl, "rtt_ms", (double)ref->rtt_usec / 1000.0);
        if (ev != NULL && json_object_size(bogons) > 0)
            (void)json_object_set(ev, "bogons", bogons);
        if (ev != NULL && json_object_size(prints) > 0)
            (void)json_object_set(ev, "fingerprints", prints);
        if (ev != NULL && !x->tcp)
            rc = ask_tcp(r, v, name, type, obs, json_object_get(ev, "rules"), ev, err);
        if (rc != MRD_OK) {
            json_decref(ev);
            goto out;
        }
        rc = add(r, "injection", ns, v->name, NULL, dns_type_name(type, tn),
                 expected != NULL ? json_deep_copy(expected) : NULL, json_incref(obs), ev, err);
    }
out:
    json_decref(views);
    json_decref(rules);
    json_decref(bogons);
    json_decref(prints);
    json_decref(obs);
    return rc;
}

/* The TLS verdict of (addr, name): from an earlier round when the cache
 * holds a fresh one (cached gets the time it was made), else a handshake,
 * whose verdict is then cached. */
static enum mrd_code tls_verdict(struct round *r, const char *addr, const char *name,
                                 struct dns_tls_result *ret, char cached[40], struct mrd_err *err)
{
    int64_t at = 0;
    bool hit;
    enum mrd_code rc;

    (void)pthread_mutex_lock(&r->tls->mu);
    hit = dns_tls_cache_get(r->tls->cache, addr, name, r->now, r->cfg->tls_cache_ttl,
                            r->cfg->tls_cache_fail_ttl, ret, &at);
    r->tls->hits += hit;
    (void)pthread_mutex_unlock(&r->tls->mu);
    if (hit) {
        dns__time_str(at, cached);
        return MRD_OK;
    }
    rc = r->t->tls->probe(r->t->tls->ctx, addr, name, ret, err);
    if (rc != MRD_OK)
        return rc;
    (void)pthread_mutex_lock(&r->tls->mu);
    rc = dns_tls_cache_put(r->tls->cache, addr, name, ret, r->now, r->cfg->tls_cache_ttl,
                           r->cfg->tls_cache_fail_ttl, err);
    (void)pthread_mutex_unlock(&r->tls->mu);
    return rc;
}

/* The excuses of a divergence (docs/dns.md, "Excuses"): for each address
 * of got that expected lacks, its origin ASNs and those of the expected
 * addresses (the routing sensor's routes, r->t->routing, then
 * cfg->asn_table: dns_origins_of), then, when they share none, a TLS
 * handshake with SNI name (r->t->tls). An address under an open routing
 * alert is never excused by its ASN. Adds evidence.excuses {address:
 * {"asn", "asn_source", "tls", "excused"}}; *ret_excused when every such
 * address is excused. None configured: nothing to do, not excused. */
static enum mrd_code judge_excuses(struct round *r, const char *name, const json_t *expected,
                                   const json_t *got, json_t *ev, bool *ret_excused,
                                   struct mrd_err *err)
{
    uint32_t exp[DNS_MAX_SET * DNS_MAX_ORIGINS];
    size_t nexp = 0, i;
    const json_t *a;
    json_t *all;

    *ret_excused = false;
    if (r->cfg->asn_table == NULL && r->t->tls == NULL && r->t->routing == NULL)
        return MRD_OK;
    json_array_foreach(expected, i, a)
    {
        if (nexp + DNS_MAX_ORIGINS <= sizeof(exp) / sizeof(exp[0]))
            nexp += dns_origins_of(r->t->routing, r->cfg->asn_table, json_string_value(a),
                                   exp + nexp, NULL);
    }
    all = json_object();
    if (all == NULL || json_object_set_new(ev, "excuses", all) != 0)
        return nomem(err);
    *ret_excused = true;
    json_array_foreach(got, i, a)
    {
        uint32_t mine[DNS_MAX_ORIGINS];
        size_t n;
        struct dns_tls_result tls = {DNS_TLS_NOT_TRIED, ""};
        char cached[40] = "";
        const char *why, *source = NULL;
        json_t *asns = json_array(), *one, *alerts = NULL;
        enum mrd_code rc;

        if (in_set(expected, a))
            continue;
        n = dns_origins_of(r->t->routing, r->cfg->asn_table, json_string_value(a), mine, &source);
        if (r->t->routing != NULL && r->t->routing->alerts != NULL)
            alerts = r->t->routing->alerts(r->t->routing->ctx, json_string_value(a));
        /* a hijacked prefix carries the victim's origin too: no ASN excuse */
        why = dns_excuse_decide(mine, json_array_size(alerts) > 0 ? 0 : n, exp, nexp,
                                DNS_TLS_NOT_TRIED);
        json_decref(alerts);
        if (why == NULL && r->t->tls != NULL) {
            rc = tls_verdict(r, json_string_value(a), name, &tls, cached, err);
            if (rc != MRD_OK) {
                json_decref(asns);
                return rc;
            }
            why = dns_excuse_decide(mine, 0, exp, nexp, tls.verdict);
        }
        for (size_t k = 0; k < n && asns != NULL; k++)
            if (json_array_append_new(asns, json_integer(mine[k])) != 0)
                json_decref(asns), asns = NULL;
        one = asns == NULL
                  ? NULL
                  : json_pack("{s:o, s:s?, s:s, s:s?, s:s*}", "asn", asns, "asn_source", source,
                              "tls", tls.verdict == DNS_TLS_NOT_TRIED ? "not tried" : tls.detail,
                              "excused", why, "tls_cached", cached[0] != '\0' ? cached : NULL);
        if (one == NULL || json_object_set_new(all, json_string_value(a), one) != 0)
            return nomem(err);
        *ret_excused = *ret_excused && why != NULL;
    }
    return MRD_OK;
}

/* RFC 8914 codes that say the resolver could not reach the zone's servers
 * (22 No Reachable Authority, 23 Network Error): an outage, not a DNSSEC
 * failure, whatever a +CD query gets later. */
static bool ede_unreachable(int ede)
{
    return ede == 22 || ede == 23;
}

/* What a vantage gives for (name, type): injection, divergence and DNSSEC
 * findings; *ret_failed when neither a plain nor a +CD query got an
 * answer. */
static enum mrd_code check_vantage_name(struct round *r, const struct dns_cfg_vantage *v,
                                        const struct vref *ref, const struct dns_name *name,
                                        uint16_t type, const json_t *expected, bool *ret_failed,
                                        struct mrd_err *err)
{
    struct dns_xfer x = {0}, cd = {0};
    char ns[DNS_MAX_NAME_STR], st[64], tn[16];
    const struct dns_msg *taken = NULL;
    enum mrd_code rc;

    *ret_failed = false;
    dns_name_format(name, ns);
    rc = dns_ask(r->t, v->server, name, type, DNS_Q_RD | DNS_Q_DO, &x, err);
    if (rc == MRD_OK && x.status == DNS_XFER_OK && x.msg->rcode == DNS_RCODE_SERVFAIL &&
        !ede_unreachable(x.msg->ede)) {
        /* A validation failure repeats; a resolver's SERVFAIL because its
         * own upstream query timed out (a loaded resolver) usually does not:
         * asked once more, an answer now is taken instead. */
        struct dns_xfer again = {0};
        rc = dns_ask(r->t, v->server, name, type, DNS_Q_RD | DNS_Q_DO, &again, err);
        if (rc == MRD_OK && again.status == DNS_XFER_OK && again.msg->rcode != DNS_RCODE_SERVFAIL) {
            dns_xfer_release(&x);
            x = again;
        } else {
            dns_xfer_release(&again);
        }
    }
    if (rc != MRD_OK)
        goto out;
    if (x.status != DNS_XFER_OK || x.msg->rcode == DNS_RCODE_SERVFAIL) {
        rc = dns_ask(r->t, v->server, name, type, DNS_Q_RD | DNS_Q_DO | DNS_Q_CD, &cd, err);
        if (rc != MRD_OK)
            goto out;
        if (x.status == DNS_XFER_OK && cd.status == DNS_XFER_OK &&
            cd.msg->rcode == DNS_RCODE_NOERROR && !ede_unreachable(x.msg->ede)) {
            json_t *ev = json_pack("{s:s, s:s, s:s, s:s}", "server", v->server, "query", ns, "type",
                                   dns_type_name(type, tn), "cd_rcode", "NOERROR");
            if (ev != NULL && x.msg->ede >= 0) {
                (void)json_object_set_new(ev, "ede", json_integer(x.msg->ede));
                (void)json_object_set_new(ev, "ede_text", json_string(x.msg->ede_text));
            }
            rc = add(r, "dnssec", ns, v->name, dns_ede_cause(x.msg->ede), NULL,
                     json_string("validated answer"), json_string(xfer_status(&x, st)), ev, err);
            /* No EDE: a resolver's own upstream timeout looks the same;
             * reported when the next round sees it again (is_held). */
            if (rc == MRD_OK && x.msg->ede < 0 &&
                json_object_set_new(json_array_get(r->found, json_array_size(r->found) - 1),
                                    "unconfirmed", json_true()) != 0)
                rc = nomem(err);
        } else {
            *ret_failed = true;
        }
        goto out;
    }
    rc = check_injection(r, v, ref, name, ns, type, expected, &x, &taken, err);
    if (rc == MRD_OK && taken != NULL && expected != NULL && taken->rcode == DNS_RCODE_NOERROR) {
        json_t *got = json_array();
        size_t i;
        json_t *a;
        bool extra = false;
        if (got == NULL) {
            rc = nomem(err);
            goto out;
        }
        rc = dns__answer_addrs(taken, type, got, err);
        dns__set_sort(got);
        json_array_foreach(got, i, a) extra = extra || !in_set(expected, a);
        if (rc == MRD_OK && extra) {
            json_t *ev = json_pack("{s:s, s:s, s:b}", "server", v->server, "type",
                                   dns_type_name(type, tn), "ad", (taken->flags & DNS_F_AD) != 0);
            bool excused = false;
            if (ev == NULL)
                rc = nomem(err);
            else
                rc = judge_excuses(r, ns, expected, got, ev, &excused, err);
            if (rc != MRD_OK)
                json_decref(ev);
            else
                rc = add(r, excused ? "excused" : "divergence", ns, v->name, NULL,
                         dns_type_name(type, tn), json_deep_copy(expected), json_incref(got), ev,
                         err);
        }
        json_decref(got);
    }
out:
    dns_xfer_release(&x);
    dns_xfer_release(&cd);
    return rc;
}

/* The zone's SOA through the in-process validator (when configured): a
 * bogus verdict is a dnssec finding whose cause is the validator's
 * why-bogus text. Asked only when a zone server answered, so that an
 * outage is not also reported as a DNSSEC failure. */
static enum mrd_code check_validator(struct round *r, const struct dns_name *zone,
                                     struct mrd_err *err)
{
    struct dns_verdict vd = {0};
    char rs[16];
    enum mrd_code rc = r->t->validator->validate(r->t->validator->ctx, zone, DNS_T_SOA, &vd, err);

    if (rc != MRD_OK || !vd.bogus)
        return rc;
    return add(r, "dnssec", r->zone, "validator", dns_why_bogus_cause(vd.why), NULL,
               json_string("validated answer"), json_string("bogus"),
               json_pack("{s:s, s:s, s:s, s:s}", "query", r->zone, "type", "SOA", "rcode",
                         dns_rcode_name((uint16_t)vd.rcode, rs), "why_bogus", vd.why),
               err);
}

/* The NS set the zone's own server gives against the parent's. */
static enum mrd_code check_child_ns(struct round *r, const struct dns_name *zone,
                                    const struct dns_deleg *d, const char *server,
                                    struct mrd_err *err)
{
    struct dns_xfer x = {0};
    json_t *child = json_array();
    enum mrd_code rc;

    if (child == NULL)
        return nomem(err);
    rc = dns_ask(r->t, server, zone, DNS_T_NS, DNS_Q_NOEDNS, &x, err);
    if (rc != MRD_OK || x.status != DNS_XFER_OK || x.msg->rcode != DNS_RCODE_NOERROR ||
        (x.msg->flags & DNS_F_AA) == 0)
        goto out;
    for (size_t k = 0; k < x.msg->nrr && rc == MRD_OK; k++) {
        const struct dns_rr *rr = &x.msg->rr[k];
        char s[DNS_MAX_NAME_STR];
        if (rr->section == DNS_SEC_ANSWER && rr->type == DNS_T_NS &&
            dns_name_eq(&rr->owner, zone)) {
            dns_name_format(&rr->u.target, s);
            rc = dns__set_add(child, s, err);
        }
    }
    dns__set_sort(child);
    if (rc == MRD_OK && json_array_size(child) > 0 && !json_equal(child, d->ns))
        rc = add(r, "delegation", r->zone, "authoritative", NULL, "child-ns", json_deep_copy(d->ns),
                 json_incref(child), json_pack("{s:s}", "server", server), err);
out:
    dns_xfer_release(&x);
    json_decref(child);
    return rc;
}

static const json_t *baseline_zone(const json_t *baseline, const char *zone)
{
    size_t i;
    json_t *z;
    json_array_foreach(json_object_get(baseline, "zones"), i, z)
    {
        if (json_is_string(json_object_get(z, "zone")) &&
            strcmp(json_string_value(json_object_get(z, "zone")), zone) == 0)
            return z;
    }
    return NULL;
}

struct probe_ctx {
    const struct dns_cfg_zone *z;
    const json_t *bz;
    const struct dns_deleg *d;
    const char *ok_server;
    const bool *failed; /* per vantage: failed the zone's SOA */
};

/* One probe name: what the zone's servers give now, then each vantage's
 * A and AAAA (a pool_fn). */
static enum mrd_code check_probe(void *ctx, size_t p, struct round *r, struct mrd_err *err)
{
    const struct probe_ctx *pc = ctx;
    const struct dns_cfg_zone *z = pc->z;
    char ps[DNS_MAX_NAME_STR];
    json_t *expected = json_array();
    bool ok = false, dummy;
    enum mrd_code rc = MRD_OK;

    if (expected == NULL)
        return nomem(err);
    dns_name_format(&z->probes[p], ps);
    if (pc->bz != NULL)
        (void)json_array_extend(expected, json_object_get(json_object_get(pc->bz, "probes"), ps));
    if (pc->ok_server != NULL)
        rc = dns__auth_addrs(r->t, pc->d, &z->probes[p], expected, &ok, err);
    dns__set_sort(expected);
    for (int ti = 0; ti < 2 && rc == MRD_OK; ti++) {
        for (size_t v = 0; v < r->cfg->nvantages && rc == MRD_OK; v++) {
            if (pc->failed[v])
                continue;
            rc = check_vantage_name(r, &r->cfg->vantages[v], &r->ref[v], &z->probes[p],
                                    ti == 0 ? DNS_T_A : DNS_T_AAAA, expected, &dummy, err);
        }
    }
    json_decref(expected);
    return rc;
}

static enum mrd_code check_zone(struct round *r, const struct dns_cfg_zone *z, const json_t *bz,
                                struct mrd_err *err)
{
    struct dns_deleg d;
    struct mrd_err derr = {0};
    enum mrd_code rc;
    const char *ok_server = NULL;
    json_t *servers = NULL, *serials = json_object();
    size_t vfailed = 0, nserials = 0;
    uint32_t serial = 0;
    bool serial_differs = false;
    bool *failed = NULL;

    dns_name_format(&z->zone, r->zone);
    rc = dns__delegation(r->cfg, r->t, &z->zone, &d, &derr);
    if (rc == MRD_E_IO) {
        /* Nobody on the path answers: the parent side is out. */
        rc = add(r, "outage", r->zone, "authoritative", NULL, "parent",
                 json_string("referral from the parent"), json_string(derr.msg), NULL, err);
        goto out;
    }
    if (rc != MRD_OK) {
        rc = mrd_err_set(err, rc, "%s", derr.msg);
        goto out;
    }
    if (bz != NULL) {
        rc = check_delegation(r, bz, &d, err);
        if (rc != MRD_OK)
            goto out;
    }
    /* The zone's own servers, asked directly. */
    servers = json_object();
    if (servers == NULL || serials == NULL) {
        rc = nomem(err);
        goto out;
    }
    for (size_t i = 0; i < d.nnext && rc == MRD_OK; i++) {
        struct dns_xfer x = {0};
        char st[64];
        rc = dns_ask(r->t, d.next[i], &z->zone, DNS_T_SOA, DNS_Q_NOEDNS, &x, err);
        if (rc != MRD_OK)
            break;
        if (x.status == DNS_XFER_OK && x.msg->rcode == DNS_RCODE_NOERROR &&
            (x.msg->flags & DNS_F_AA)) {
            if (ok_server == NULL)
                ok_server = d.next[i];
            for (size_t k = 0; k < x.msg->nrr && rc == MRD_OK; k++) {
                const struct dns_rr *rr = &x.msg->rr[k];
                if (rr->section != DNS_SEC_ANSWER || rr->type != DNS_T_SOA)
                    continue;
                if (nserials > 0 && rr->u.soa.serial != serial)
                    serial_differs = true;
                serial = rr->u.soa.serial;
                nserials++;
                if (json_object_set_new(serials, d.next[i], json_integer(serial)) != 0)
                    rc = nomem(err);
                break;
            }
        }
        if (json_object_set_new(servers, d.next[i], json_string(xfer_status(&x, st))) != 0)
            rc = nomem(err);
        dns_xfer_release(&x);
    }
    if (rc != MRD_OK)
        goto out;
    /* Zonemaster's consistency tests: one SOA serial on every server, and
     * the zone's own NS set equal to the parent's. */
    if (serial_differs) {
        rc = add(r, "delegation", r->zone, "authoritative", NULL, "soa-serial",
                 json_string("one SOA serial on every server"), json_incref(serials), NULL, err);
        if (rc != MRD_OK)
            goto out;
    }
    if (ok_server != NULL) {
        rc = check_child_ns(r, &z->zone, &d, ok_server, err);
        if (rc != MRD_OK)
            goto out;
    }
    if (ok_server == NULL) {
        rc = add(r, "outage", r->zone, "authoritative", NULL, "servers",
                 json_string("SOA with authority"), json_incref(servers), NULL, err);
        if (rc != MRD_OK)
            goto out;
    } else if (bz != NULL && json_array_size(json_object_get(bz, "ds")) > 0) {
        rc = check_dnssec_auth(r, &z->zone, &d, ok_server, err);
        if (rc != MRD_OK)
            goto out;
    }
    if (ok_server != NULL && r->t->validator != NULL) {
        rc = check_validator(r, &z->zone, err);
        if (rc != MRD_OK)
            goto out;
    }
    /* Vantages: the zone's SOA, then every probe name. */
    failed = mrd_calloc(r->cfg->nvantages + 1, sizeof(*failed));
    if (failed == NULL) {
        rc = nomem(err);
        goto out;
    }
    for (size_t v = 0; v < r->cfg->nvantages && rc == MRD_OK; v++) {
        rc = check_vantage_name(r, &r->cfg->vantages[v], &r->ref[v], &z->zone, DNS_T_SOA, NULL,
                                &failed[v], err);
        vfailed += failed[v];
    }
    if (rc == MRD_OK) {
        struct probe_ctx pc = {z, bz, &d, ok_server, failed};
        rc = pool_run(r, z->nprobes, check_probe, &pc, err);
    }
    if (rc == MRD_OK && vfailed > 0 &&
        vfailed * 100 >= r->cfg->nvantages * (size_t)DNS_OUTAGE_SHARE_PCT) {
        for (size_t v = 0; v < r->cfg->nvantages && rc == MRD_OK; v++) {
            if (failed[v])
                rc = add(r, "outage", r->zone, r->cfg->vantages[v].name, NULL, "vantage",
                         json_string("an answer to SOA"),
                         json_string("timeout or SERVFAIL, +cd too"),
                         json_pack("{s:s, s:I, s:I}", "server", r->cfg->vantages[v].server,
                                   "vantages_failing", (json_int_t)vfailed, "vantages",
                                   (json_int_t)r->cfg->nvantages),
                         err);
        }
    }
out:
    mrd_free(failed);
    json_decref(servers);
    json_decref(serials);
    dns__deleg_release(&d);
    return rc;
}

/* The root's DNSKEY set against the trust anchor: a key it names must be
 * there, and the signatures over the set valid (asked of the first root
 * server that answers; none answering is the zones' parent outage). */
static enum mrd_code check_anchor(struct round *r, struct mrd_err *err)
{
    struct dns_name root;
    struct dns_xfer x = {0};
    enum mrd_code rc = MRD_OK;
    const char *server = NULL;
    json_t *expected = NULL, *observed = NULL;
    bool matched = false;

    (void)dns_name_parse(".", 1, &root, NULL);
    (void)snprintf(r->zone, sizeof(r->zone), ".");
    for (size_t i = 0; i < r->cfg->nroots && rc == MRD_OK && server == NULL; i++) {
        dns_xfer_release(&x);
        rc = dns_ask(r->t, r->cfg->roots[i], &root, DNS_T_DNSKEY, DNS_Q_DO, &x, err);
        if (rc == MRD_OK && x.status == DNS_XFER_OK && x.msg->rcode == DNS_RCODE_NOERROR)
            server = r->cfg->roots[i];
    }
    if (rc != MRD_OK || server == NULL)
        goto out;
    expected = json_array();
    observed = json_array();
    if (expected == NULL || observed == NULL) {
        rc = nomem(err);
        goto out;
    }
    for (size_t k = 0; k < x.msg->nrr && rc == MRD_OK; k++) {
        const struct dns_rr *rr = &x.msg->rr[k];
        char s[32];
        if (rr->section != DNS_SEC_ANSWER || rr->type != DNS_T_DNSKEY)
            continue;
        (void)snprintf(s, sizeof(s), "DNSKEY %u %u", rr->u.dnskey.key_tag, rr->u.dnskey.alg);
        rc = dns__set_add(observed, s, err);
        for (size_t a = 0; a < r->cfg->nanchors; a++)
            matched = matched || dns_anchor_matches(&r->cfg->anchors[a], rr);
    }
    for (size_t a = 0; a < r->cfg->nanchors && rc == MRD_OK; a++) {
        const struct dns_anchor *an = &r->cfg->anchors[a];
        char s[32];
        (void)snprintf(s, sizeof(s), "%s %u %u", an->type == DNS_T_DS ? "DS" : "DNSKEY",
                       an->type == DNS_T_DS ? (unsigned)(an->rdata[0] << 8 | an->rdata[1])
                                            : dns_key_tag(an->rdata, an->rdlen),
                       an->rdata[an->type == DNS_T_DS ? 2 : 3]);
        rc = dns__set_add(expected, s, err);
    }
    dns__set_sort(expected);
    dns__set_sort(observed);
    if (rc == MRD_OK && !matched)
        rc = add(r, "dnssec", ".", "authoritative", "ds-mismatch", "trust-anchor",
                 json_incref(expected), json_incref(observed),
                 json_pack("{s:s, s:s}", "server", server, "trust_anchor", r->cfg->trust_anchor),
                 err);
    if (rc == MRD_OK)
        rc = check_sigs(r, x.msg, server, err);
out:
    json_decref(expected);
    json_decref(observed);
    dns_xfer_release(&x);
    return rc;
}

/* Zone i of the configuration (a pool_fn; ctx is the baseline). */
static enum mrd_code check_zone_i(void *ctx, size_t i, struct round *r, struct mrd_err *err)
{
    char zs[DNS_MAX_NAME_STR];
    dns_name_format(&r->cfg->zones[i].zone, zs);
    return check_zone(r, &r->cfg->zones[i], baseline_zone(ctx, zs), err);
}

/* first_seen from the previous round, last_seen now; outages that were
 * open and are gone become outage-end. */
static enum mrd_code carry_state(struct round *r, const json_t *state, json_t **ret_state,
                                 struct mrd_err *err)
{
    char now[40];
    size_t i, k;
    json_t *f, *o, *open = json_array();
    enum mrd_code rc = MRD_OK;

    if (open == NULL)
        return nomem(err);
    dns__time_str(r->now, now);
    json_array_foreach(r->found, i, f)
    {
        const char *first = now;
        /* open before, or pending (a confirmed SERVFAIL: seen first then) */
        json_array_foreach(json_object_get(state, "pending"), k, o)
        {
            if (json_equal(json_object_get(o, "key"), json_object_get(f, "key")) &&
                json_is_string(json_object_get(o, "first_seen")))
                first = json_string_value(json_object_get(o, "first_seen"));
        }
        json_array_foreach(json_object_get(state, "open"), k, o)
        {
            if (json_equal(json_object_get(o, "key"), json_object_get(f, "key")) &&
                json_is_string(json_object_get(o, "first_seen")))
                first = json_string_value(json_object_get(o, "first_seen"));
        }
        if (json_object_set_new(f, "first_seen", json_string(first)) != 0 ||
            json_object_set_new(f, "last_seen", json_string(now)) != 0 ||
            json_array_append(open, f) != 0) {
            rc = nomem(err);
            goto out;
        }
    }
    json_array_foreach(json_object_get(state, "open"), k, o)
    {
        bool still = false;
        json_t *end;
        const char *kind = json_string_value(json_object_get(o, "kind"));
        if (kind == NULL || strcmp(kind, "outage") != 0)
            continue;
        json_array_foreach(r->found, i, f) still =
            still || json_equal(json_object_get(o, "key"), json_object_get(f, "key"));
        if (still)
            continue;
        end = json_deep_copy(o);
        if (end == NULL || json_object_set_new(end, "kind", json_string("outage-end")) != 0 ||
            json_object_set_new(end, "last_seen", json_string(now)) != 0 ||
            json_object_set_new(end, "ended", json_string(now)) != 0 ||
            json_array_append_new(r->found, end) != 0) {
            rc = nomem(err);
            goto out;
        }
    }
    *ret_state = json_pack("{s:i, s:s, s:O}", "version", 1, "round", now, "open", open);
    if (*ret_state == NULL)
        rc = nomem(err);
out:
    json_decref(open);
    return rc;
}

/* Moves the findings of r->found that aside(f) picks (it may edit them)
 * to *ret_aside, a new array; the others stay in r->found, in order. */
static enum mrd_code split_found(struct round *r, bool (*aside)(json_t *f, const void *ctx),
                                 const void *ctx, json_t **ret_aside, struct mrd_err *err)
{
    json_t *kept = json_array(), *set = json_array(), *f;
    size_t i;

    if (kept == NULL || set == NULL) {
        json_decref(kept);
        json_decref(set);
        return nomem(err);
    }
    json_array_foreach(r->found, i, f)
    {
        if (json_array_append(aside(f, ctx) ? set : kept, f) != 0) {
            json_decref(kept);
            json_decref(set);
            return nomem(err);
        }
    }
    json_decref(r->found);
    r->found = kept;
    *ret_aside = set;
    return MRD_OK;
}

/* An excused divergence (kind "excused", as check_vantage marks them):
 * recorded in the state as a divergence seen at now, without its key;
 * never reported nor carried as open. */
static bool is_excused(json_t *f, const void *now)
{
    if (strcmp(json_string_value(json_object_get(f, "kind")), "excused") != 0)
        return false;
    (void)json_object_del(f, "key");
    (void)json_object_set_new(f, "kind", json_string("divergence"));
    (void)json_object_set_new(f, "seen", json_string(now));
    return true;
}

static bool key_in(const json_t *list, const json_t *key)
{
    size_t i;
    const json_t *f;

    json_array_foreach(list, i, f)
    {
        if (json_equal(json_object_get(f, "key"), key))
            return true;
    }
    return false;
}

/* Findings marked "unconfirmed" (a vantage's SERVFAIL without EDE that a
 * +CD query answers) are reported only when the previous round (state)
 * had them open or pending; the others are held, carried to the next
 * round in the state's "pending". Without a state (one round alone) there
 * is no next round: they are reported at once. */
struct held_ctx {
    const json_t *state;
    const char *now;
};

/* A held finding gets first_seen (now) and last_seen: carried in the
 * state, it keeps first_seen when the next round confirms it. */
static bool is_held(json_t *f, const void *ctx)
{
    const struct held_ctx *h = ctx;
    const json_t *key = json_object_get(f, "key");

    if (!json_is_true(json_object_get(f, "unconfirmed")))
        return false;
    (void)json_object_del(f, "unconfirmed");
    if (h->state == NULL || key_in(json_object_get(h->state, "open"), key) ||
        key_in(json_object_get(h->state, "pending"), key))
        return false;
    (void)json_object_set_new(f, "first_seen", json_string(h->now));
    (void)json_object_set_new(f, "last_seen", json_string(h->now));
    return true;
}

enum mrd_code dns_check_round(const struct dns_config *cfg, const json_t *baseline,
                              const json_t *state, const struct dns_transport *t,
                              json_t **ret_findings, json_t **ret_state, struct mrd_err *err)
{
    struct round r = {json_array(),
                      t->now(t->ctx),
                      cfg,
                      t,
                      "",
                      mrd_calloc(cfg->nvantages + 1, sizeof(struct vref)),
                      t->parallel > DNS_MAX_PARALLEL ? DNS_MAX_PARALLEL : t->parallel,
                      NULL};
    json_t *st = NULL, *excused = NULL, *pending = NULL;
    char now[40];
    enum mrd_code rc = MRD_OK;
    struct dns_name root;
    struct tls_memo memo = {PTHREAD_MUTEX_INITIALIZER, NULL, 0};

    if (t->tls != NULL) {
        const json_t *was = json_object_get(state, "tls_cache");
        memo.cache = json_is_object(was) ? json_deep_copy(was) : json_object();
        r.tls = &memo;
    }
    if (r.found == NULL || r.ref == NULL || (t->tls != NULL && memo.cache == NULL)) {
        json_decref(r.found);
        json_decref(memo.cache);
        mrd_free(r.ref);
        return nomem(err);
    }
    /* Each round's time is later than the one before it (the state's, which
     * a restart rebuilds from the store): the time is the alerts' modified,
     * and two rounds in one second would give two bodies of one version. */
    if (json_is_string(json_object_get(state, "round"))) {
        const char *prev = json_string_value(json_object_get(state, "round"));
        struct mrd_time pt;
        if (mrd_time_parse(prev, strlen(prev), &pt, NULL) == MRD_OK &&
            r.now <= mrd_time_to_usec(&pt) / 1000000)
            r.now = mrd_time_to_usec(&pt) / 1000000 + 1;
    }
    /* The Hold-On reference of each vantage: the root's NS set. */
    (void)dns_name_parse(".", 1, &root, NULL);
    for (size_t v = 0; v < cfg->nvantages && rc == MRD_OK; v++) {
        struct dns_xfer x = {0};
        rc = dns_ask(t, cfg->vantages[v].server, &root, DNS_T_NS, DNS_Q_RD, &x, err);
        if (rc == MRD_OK && x.status == DNS_XFER_OK && x.nlate == 0) {
            r.ref[v].ip_ttl = x.ip_ttl;
            r.ref[v].rtt_usec = x.rtt_usec;
        }
        dns_xfer_release(&x);
    }
    for (size_t i = 0; i < cfg->nzones && rc == MRD_OK; i++) {
        char zs[DNS_MAX_NAME_STR];
        dns_name_format(&cfg->zones[i].zone, zs);
        if (baseline_zone(baseline, zs) == NULL)
            rc = mrd_err_set(err, MRD_E_INVAL,
                             "dns: %s is watched but not in the baseline (learn it again with "
                             "`meridian dns baseline`)",
                             zs);
    }
    if (rc == MRD_OK && cfg->nanchors > 0)
        rc = check_anchor(&r, err);
    if (rc == MRD_OK)
        rc = pool_run(&r, cfg->nzones, check_zone_i, (void *)(uintptr_t)baseline, err);
    dns__time_str(r.now, now);
    if (rc == MRD_OK)
        rc = split_found(&r, is_excused, now, &excused, err);
    if (rc == MRD_OK)
        rc = split_found(&r, is_held, &(struct held_ctx){state, now}, &pending, err);
    if (rc == MRD_OK)
        rc = carry_state(&r, state, &st, err);
    if (rc == MRD_OK && json_object_set_new(st, "excused", excused) != 0)
        rc = nomem(err);
    else if (rc != MRD_OK)
        json_decref(excused);
    if (rc == MRD_OK && json_object_set_new(st, "pending", pending) != 0)
        rc = nomem(err);
    else if (rc != MRD_OK)
        json_decref(pending);
    if (rc == MRD_OK && memo.cache != NULL &&
        (json_object_set(st, "tls_cache", memo.cache) != 0 ||
         json_object_set_new(st, "tls_cached", json_integer((json_int_t)memo.hits)) != 0))
        rc = nomem(err);
    json_decref(memo.cache);
    (void)pthread_mutex_destroy(&memo.mu);
    mrd_free(r.ref);
    if (rc != MRD_OK) {
        json_decref(st);
        json_decref(r.found);
        return rc;
    }
    *ret_findings = r.found;
    *ret_state = st;
    return MRD_OK;
}

enum mrd_code dns_state_from_alerts(const json_t *findings, const char *round, unsigned refresh,
                                    json_t **ret_state, struct mrd_err *err)
{
    json_t *open = json_array(), *f;
    size_t i;
    struct mrd_time rt;
    char oldest[40];

    if (open == NULL)
        return nomem(err);
    if (mrd_time_parse(round, strlen(round), &rt, NULL) != MRD_OK) {
        json_decref(open);
        return mrd_err_set(err, MRD_E_PARSE, "dns: round %s: not a time", MRD_ESC(round));
    }
    /* last_seen is written as dns__time_str writes it: compared as text */
    dns__time_str(mrd_time_to_usec(&rt) / 1000000 - (int64_t)refresh, oldest);
    json_array_foreach(findings, i, f)
    {
        const char *kind = json_string_value(json_object_get(f, "kind"));
        const char *last = json_string_value(json_object_get(f, "last_seen"));
        const char *zone = json_string_value(json_object_get(f, "zone"));
        const char *name = json_string_value(json_object_get(f, "name"));
        const char *vantage = json_string_value(json_object_get(f, "vantage"));
        char key[DNS_MAX_KEY];
        json_t *o;
        if (kind == NULL || last == NULL || zone == NULL || name == NULL || vantage == NULL ||
            strcmp(kind, "outage-end") == 0 || strcmp(last, oldest) < 0 ||
            !json_is_string(json_object_get(f, "first_seen")))
            continue; /* ended, or not seen since the last round: closed */
        finding_key(kind, zone, name, vantage, json_string_value(json_object_get(f, "cause")),
                    json_string_value(json_object_get(f, "field")), key);
        o = json_deep_copy(f);
        if (o == NULL || json_object_set_new(o, "key", json_string(key)) != 0 ||
            json_array_append_new(open, o) != 0) {
            json_decref(open);
            return nomem(err);
        }
    }
    *ret_state = json_pack("{s:i, s:s, s:o}", "version", 1, "round", round, "open", open);
    return *ret_state != NULL ? MRD_OK : nomem(err);
}

/* What a finding's stored versions must agree on: its state (the routing
 * alerts it is linked to included), not the timings of its evidence. */
static json_t *finding_sig(const json_t *f)
{
    static const char *const members[] = {"kind",     "cause", "field",  "expected",
                                          "observed", "ended", "related"};
    json_t *sig = json_object();

    for (size_t i = 0; sig != NULL && i < sizeof(members) / sizeof(members[0]); i++) {
        json_t *v = json_object_get(f, members[i]);
        if (v != NULL && json_object_set(sig, members[i], v) != 0) {
            json_decref(sig);
            return NULL;
        }
    }
    return sig;
}

enum mrd_code dns_findings_due(const json_t *found, const json_t *stored, int64_t now,
                               unsigned refresh, json_t **ret_due, json_t **ret_stored,
                               struct mrd_err *err)
{
    json_t *due = json_array(), *next = json_object(), *f;
    size_t i;

    if (due == NULL || next == NULL)
        goto nomem;
    json_array_foreach(found, i, f)
    {
        const char *key = json_string_value(json_object_get(f, "key"));
        const json_t *was = key != NULL ? json_object_get(stored, key) : NULL;
        json_t *sig = finding_sig(f);
        int64_t at = json_integer_value(json_object_get(was, "at"));
        bool is_due = was == NULL || !json_equal(json_object_get(was, "sig"), sig) ||
                      now - at >= (int64_t)refresh || now < at;
        if (sig == NULL)
            goto nomem;
        if (is_due && json_array_append(due, f) != 0) {
            json_decref(sig);
            goto nomem;
        }
        if (key == NULL) { /* not from dns_check_round: always due, never kept */
            json_decref(sig);
            continue;
        }
        if (json_object_set_new(next, key,
                                is_due ? json_pack("{s:o, s:I}", "sig", sig, "at", (json_int_t)now)
                                       : json_deep_copy(was)) != 0) {
            if (!is_due)
                json_decref(sig);
            goto nomem;
        }
        if (!is_due)
            json_decref(sig);
    }
    *ret_due = due;
    *ret_stored = next;
    return MRD_OK;
nomem:
    json_decref(due);
    json_decref(next);
    return nomem(err);
}

json_t *dns_findings_stored(const json_t *state)
{
    json_t *stored = json_object(), *f;
    size_t i;

    json_array_foreach(json_object_get(state, "open"), i, f)
    {
        const char *key = json_string_value(json_object_get(f, "key"));
        const char *last = json_string_value(json_object_get(f, "last_seen"));
        struct mrd_time t;
        json_t *sig;
        if (stored == NULL || key == NULL || last == NULL ||
            mrd_time_parse(last, strlen(last), &t, NULL) != MRD_OK)
            continue;
        sig = finding_sig(f);
        if (sig == NULL ||
            json_object_set_new(stored, key,
                                json_pack("{s:o, s:I}", "sig", sig, "at",
                                          (json_int_t)(mrd_time_to_usec(&t) / 1000000))) != 0) {
            json_decref(stored);
            return NULL;
        }
    }
    return stored;
}

enum mrd_code dns_pending_pack(const json_t *state, char *out, size_t size, size_t *ret_kept,
                               struct mrd_err *err)
{
    json_t *list = json_array(), *f;
    size_t i, kept = 0, used = 2; /* "[]" */

    if (list == NULL || size < 3) {
        json_decref(list);
        return size < 3 ? mrd_err_set(err, MRD_E_TOOBIG, "dns: pending: no room") : nomem(err);
    }
    json_array_foreach(json_object_get(state, "pending"), i, f)
    {
        json_t *one = json_pack("[s?, s?]", json_string_value(json_object_get(f, "key")),
                                json_string_value(json_object_get(f, "first_seen")));
        size_t n = one != NULL ? json_dumpb(one, NULL, 0, JSON_COMPACT) : 0;
        if (one == NULL || !json_is_string(json_array_get(one, 0)) ||
            !json_is_string(json_array_get(one, 1))) {
            json_decref(one);
            continue; /* not one dns_check_round held */
        }
        if (used + n + (kept > 0) + 1 > size) { /* the rest waits one more round */
            json_decref(one);
            break;
        }
        if (json_array_append_new(list, one) != 0) {
            json_decref(list);
            return nomem(err);
        }
        used += n + (kept > 0);
        kept++;
    }
    if (json_dumpb(list, out, size - 1, JSON_COMPACT) != used) {
        json_decref(list);
        return mrd_err_set(err, MRD_E_INTERNAL, "dns: pending: packed size");
    }
    out[used] = '\0';
    json_decref(list);
    if (ret_kept != NULL)
        *ret_kept = kept;
    return MRD_OK;
}

enum mrd_code dns_pending_unpack(json_t *state, const char *text, struct mrd_err *err)
{
    json_t *list = NULL, *pending = json_array(), *p;
    size_t i;
    enum mrd_code rc = mrd_json_parse(text, strlen(text), NULL, &list, err);

    if (rc == MRD_OK && !json_is_array(list))
        rc = mrd_err_set(err, MRD_E_PARSE, "dns: pending: not an array");
    if (rc == MRD_OK && pending == NULL)
        rc = nomem(err);
    json_array_foreach(list, i, p)
    {
        const char *key = json_string_value(json_array_get(p, 0));
        const char *first = json_string_value(json_array_get(p, 1));
        struct mrd_time t;
        if (rc != MRD_OK)
            break;
        if (json_array_size(p) != 2 || key == NULL || first == NULL ||
            mrd_time_parse(first, strlen(first), &t, NULL) != MRD_OK) {
            rc = mrd_err_set(err, MRD_E_PARSE, "dns: pending[%zu]: not [key, first_seen]", i);
            break;
        }
        if (json_array_append_new(pending,
                                  json_pack("{s:s, s:s}", "key", key, "first_seen", first)) != 0)
            rc = nomem(err);
    }
    if (rc == MRD_OK && json_object_set(state, "pending", pending) != 0)
        rc = nomem(err);
    json_decref(pending);
    json_decref(list);
    return rc;
}
