/*
 * sensor.c: asking servers, following referrals from the root, and the
 * baseline (what the parents publish for each watched zone and what its
 * servers answer for the probe names).
 *
 * All traffic goes through struct dns_transport. The parent side is
 * always asked directly (RD clear), never through a cache, so a changed
 * delegation shows at once. Sets are kept as sorted JSON string arrays so
 * the baseline file reads well and comparing is json_equal().
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/str.h"
#include "dns/dns_int.h"
#include "core/timestamp.h"

enum mrd_code dns_ask(const struct dns_transport *t, const char *server,
                      const struct dns_name *name, uint16_t type, unsigned qflags,
                      struct dns_xfer *ret, struct mrd_err *err)
{
    uint8_t q[DNS_MAX_NAME + 64];
    size_t qlen;
    enum mrd_code rc;

    memset(ret, 0, sizeof(*ret));
    ret->want_tcp = (qflags & DNS_Q_TCP) != 0;
    rc = dns_query_build(0, name, type, qflags, q, sizeof(q), &qlen, err);
    if (rc == MRD_OK)
        rc = t->exchange(t->ctx, server, q, qlen, ret, err);
    if (rc != MRD_OK)
        return rc;
    if (ret->status == DNS_XFER_OK &&
        (ret->msg == NULL || ret->msg->qdcount != 1 || !dns_name_eq(&ret->msg->qname, name) ||
         ret->msg->qtype != type || (ret->msg->flags & DNS_F_QR) == 0)) {
        dns_msg_free(ret->msg);
        ret->msg = NULL;
        ret->status = DNS_XFER_ERROR;
        (void)snprintf(ret->detail, sizeof(ret->detail), "answer to another question");
    }
    /* Late answers to another question are dropped like a first one. */
    {
        size_t kept = 0;
        for (size_t i = 0; i < ret->nlate && i < DNS_MAX_LATE; i++) {
            const struct dns_msg *m = ret->late[i].msg;
            if (ret->status == DNS_XFER_OK && m != NULL && m->qdcount == 1 &&
                dns_name_eq(&m->qname, name) && m->qtype == type && (m->flags & DNS_F_QR) != 0)
                ret->late[kept++] = ret->late[i];
            else
                dns_msg_free(ret->late[i].msg);
        }
        ret->nlate = kept;
    }
    return MRD_OK;
}

void dns_xfer_release(struct dns_xfer *x)
{
    dns_msg_free(x->msg);
    x->msg = NULL;
    dns_msg_free(x->truncated);
    x->truncated = NULL;
    for (size_t i = 0; i < x->nlate; i++)
        dns_msg_free(x->late[i].msg);
    x->nlate = 0;
}

/* "IP" on port 53 as a server string. */
void dns__server_of(const struct dns_rr *rr, char out[DNS_MAX_SERVER + 1])
{
    char a[INET6_ADDRSTRLEN];
    if (rr->type == DNS_T_A) {
        (void)inet_ntop(AF_INET, rr->u.a, a, sizeof(a));
        (void)snprintf(out, DNS_MAX_SERVER + 1, "%s", a);
    } else {
        (void)inet_ntop(AF_INET6, rr->u.aaaa, a, sizeof(a));
        (void)snprintf(out, DNS_MAX_SERVER + 1, "[%s]:53", a);
    }
}

void dns__addr_str(const struct dns_rr *rr, char out[INET6_ADDRSTRLEN])
{
    (void)inet_ntop(rr->type == DNS_T_A ? AF_INET : AF_INET6,
                    rr->type == DNS_T_A ? (const void *)rr->u.a : (const void *)rr->u.aaaa, out,
                    INET6_ADDRSTRLEN);
}

static int cmp_json_str(const void *a, const void *b)
{
    return strcmp(json_string_value(*(json_t *const *)a), json_string_value(*(json_t *const *)b));
}

/* Sorts a JSON array of strings and drops duplicates, in place. */
void dns__set_sort(json_t *arr)
{
    size_t n = json_array_size(arr), k = 0;
    json_t **v;

    if (n < 2)
        return;
    v = mrd_calloc(n, sizeof(*v));
    if (v == NULL)
        return; /* left unsorted: comparisons then err on the side of a finding */
    for (size_t i = 0; i < n; i++)
        v[i] = json_incref(json_array_get(arr, i));
    qsort(v, n, sizeof(*v), cmp_json_str);
    json_array_clear(arr);
    for (size_t i = 0; i < n; i++) {
        if (k == 0 || strcmp(json_string_value(v[i]), json_string_value(v[k - 1])) != 0) {
            v[k++] = v[i];
            (void)json_array_append(arr, v[i]);
        }
    }
    for (size_t i = 0; i < n; i++)
        json_decref(v[i]);
    mrd_free(v);
}

static enum mrd_code nomem(struct mrd_err *err)
{
    return mrd_err_set(err, MRD_E_NOMEM, "dns: out of memory");
}

enum mrd_code dns__set_add(json_t *arr, const char *s, struct mrd_err *err)
{
    if (json_array_append_new(arr, json_string(s)) != 0)
        return nomem(err);
    return MRD_OK;
}

/* The NS set, glue and referral zone of a referral or authoritative NS
 * answer for zone: authority NS records whose owner is the deepest cut
 * that zone lies under. */
static enum mrd_code referral_read(const struct dns_msg *m, const struct dns_name *zone,
                                   struct dns_deleg *d, struct mrd_err *err)
{
    const struct dns_name *cut = NULL;
    char s[DNS_MAX_NAME_STR];
    enum mrd_code rc = MRD_OK;
    int sec = DNS_SEC_AUTHORITY;

    /* An authoritative NS answer (the same server serves parent and
     * child) carries the set in the answer section. */
    if ((m->flags & DNS_F_AA) && m->count[DNS_SEC_ANSWER] > 0)
        sec = DNS_SEC_ANSWER;
    for (size_t i = 0; i < m->nrr; i++) {
        const struct dns_rr *rr = &m->rr[i];
        if (rr->section == sec && rr->type == DNS_T_NS && dns_name_under(zone, &rr->owner) &&
            (cut == NULL || dns_name_labels(&rr->owner) > dns_name_labels(cut)))
            cut = &rr->owner;
    }
    if (cut == NULL)
        return MRD_OK;
    d->cut = *cut;
    for (size_t i = 0; i < m->nrr && rc == MRD_OK; i++) {
        const struct dns_rr *rr = &m->rr[i];
        if (rr->section == sec && rr->type == DNS_T_NS && dns_name_eq(&rr->owner, cut)) {
            dns_name_format(&rr->u.target, s);
            rc = dns__set_add(d->ns, s, err);
        }
    }
    /* Glue: addresses of the NS names, from the additional section. */
    for (size_t i = 0; i < m->nrr && rc == MRD_OK; i++) {
        const struct dns_rr *rr = &m->rr[i];
        char a[INET6_ADDRSTRLEN];
        json_t *list;
        bool named = false;
        if (rr->section != DNS_SEC_ADDITIONAL || (rr->type != DNS_T_A && rr->type != DNS_T_AAAA))
            continue;
        for (size_t k = 0; k < m->nrr && !named; k++) {
            const struct dns_rr *ns = &m->rr[k];
            named = ns->section == sec && ns->type == DNS_T_NS && dns_name_eq(&ns->owner, cut) &&
                    dns_name_eq(&ns->u.target, &rr->owner);
        }
        if (!named)
            continue;
        dns_name_format(&rr->owner, s);
        list = json_object_get(d->glue, s);
        if (list == NULL) {
            list = json_array();
            if (list == NULL || json_object_set_new(d->glue, s, list) != 0)
                return nomem(err);
        }
        dns__addr_str(rr, a);
        rc = dns__set_add(list, a, err);
        if (rc == MRD_OK && d->nnext < DNS_MAX_SET)
            dns__server_of(rr, d->next[d->nnext++]);
    }
    dns__set_sort(d->ns);
    {
        const char *k;
        json_t *v;
        json_object_foreach(d->glue, k, v) dns__set_sort(v);
    }
    return rc;
}

void dns__deleg_release(struct dns_deleg *d)
{
    json_decref(d->ns);
    json_decref(d->glue);
    json_decref(d->ds);
    json_decref(d->parent_servers);
    dns_msg_free(d->ds_msg);
    memset(d, 0, sizeof(*d));
}

static enum mrd_code deleg_init(struct dns_deleg *d, struct mrd_err *err)
{
    memset(d, 0, sizeof(*d));
    d->ns = json_array();
    d->glue = json_object();
    d->ds = json_array();
    d->parent_servers = json_array();
    if (d->ns == NULL || d->glue == NULL || d->ds == NULL || d->parent_servers == NULL)
        return nomem(err);
    return MRD_OK;
}

/* A DS record as "tag alg digest-type HEX" (RFC 4034 §5.3). */
void dns__ds_str(const struct dns_rr *rr, char *out, size_t cap)
{
    int n = snprintf(out, cap, "%u %u %u ", rr->u.ds.key_tag, rr->u.ds.alg, rr->u.ds.digest_type);
    for (size_t i = 0; i < rr->u.ds.digest_len && n > 0 && (size_t)n + 3 < cap; i++)
        n += snprintf(out + n, cap - (size_t)n, "%02X", rr->u.ds.digest[i]);
}

/* Name servers are looked up this many levels deep when a referral
 * names them without glue (the NS of an NS of an NS ...). */
#define DNS_NS_LEVELS 3

static enum mrd_code fill_unglued(const struct dns_config *cfg, const struct dns_transport *t,
                                  struct dns_deleg *step, unsigned level, struct mrd_err *err);

/* The addresses of name (A records), found by iteration from the roots
 * like a resolver with an empty cache; appended as servers to out. */
static enum mrd_code iterate_addrs(const struct dns_config *cfg, const struct dns_transport *t,
                                   const struct dns_name *name, unsigned level,
                                   char (*out)[DNS_MAX_SERVER + 1], size_t *nout,
                                   struct mrd_err *err)
{
    char servers[DNS_MAX_SET][DNS_MAX_SERVER + 1];
    size_t nservers = 0;
    enum mrd_code rc = MRD_OK;

    for (size_t i = 0; i < cfg->nroots && i < DNS_MAX_SET; i++)
        memcpy(servers[nservers++], cfg->roots[i], sizeof(servers[0]));
    for (unsigned hop = 0; hop < DNS_MAX_DEPTH && rc == MRD_OK; hop++) {
        struct dns_deleg step;
        bool referred = false, answered = false;

        rc = deleg_init(&step, err);
        for (size_t i = 0; i < nservers && rc == MRD_OK && !referred && !answered; i++) {
            struct dns_xfer x = {0};
            rc = dns_ask(t, servers[i], name, DNS_T_A, DNS_Q_NOEDNS, &x, err);
            if (rc != MRD_OK || x.status != DNS_XFER_OK)
                continue;
            for (size_t k = 0; k < x.msg->nrr; k++) {
                const struct dns_rr *rr = &x.msg->rr[k];
                if (rr->section == DNS_SEC_ANSWER && rr->type == DNS_T_A &&
                    dns_name_eq(&rr->owner, name) && *nout < DNS_MAX_SET) {
                    dns__server_of(rr, out[(*nout)++]);
                    answered = true;
                }
            }
            if (!answered && x.msg->rcode == DNS_RCODE_NOERROR && (x.msg->flags & DNS_F_AA) == 0)
                rc = referral_read(x.msg, name, &step, err);
            referred = step.cut.len > 0;
            answered = answered || (x.msg->flags & DNS_F_AA) || x.msg->rcode == DNS_RCODE_NXDOMAIN;
            dns_xfer_release(&x);
        }
        if (rc == MRD_OK && referred && !answered && step.nnext == 0)
            rc = fill_unglued(cfg, t, &step, level + 1, err);
        if (rc != MRD_OK || answered || !referred || step.nnext == 0) {
            dns__deleg_release(&step);
            break;
        }
        nservers = step.nnext;
        memcpy(servers, step.next, sizeof(servers));
        dns__deleg_release(&step);
    }
    return rc;
}

/* Adds the addresses of the NS names of step that came without glue. */
static enum mrd_code fill_unglued(const struct dns_config *cfg, const struct dns_transport *t,
                                  struct dns_deleg *step, unsigned level, struct mrd_err *err)
{
    size_t i;
    json_t *v;
    enum mrd_code rc = MRD_OK;

    if (level > DNS_NS_LEVELS)
        return MRD_OK;
    json_array_foreach(step->ns, i, v)
    {
        struct dns_name n;
        if (rc != MRD_OK || json_object_get(step->glue, json_string_value(v)) != NULL ||
            dns_name_parse(json_string_value(v), json_string_length(v), &n, NULL) != MRD_OK)
            continue;
        rc = iterate_addrs(cfg, t, &n, level, step->next, &step->nnext, err);
    }
    return rc;
}

enum mrd_code dns__delegation(const struct dns_config *cfg, const struct dns_transport *t,
                              const struct dns_name *zone, struct dns_deleg *d, struct mrd_err *err)
{
    char servers[DNS_MAX_SET][DNS_MAX_SERVER + 1], zs[DNS_MAX_NAME_STR];
    size_t nservers = 0;
    enum mrd_code rc;

    rc = deleg_init(d, err);
    if (rc != MRD_OK)
        return rc;
    dns_name_format(zone, zs);
    for (size_t i = 0; i < cfg->nroots && i < DNS_MAX_SET; i++)
        memcpy(servers[nservers++], cfg->roots[i], sizeof(servers[0]));
    for (unsigned depth = 0; depth < DNS_MAX_DEPTH; depth++) {
        struct dns_deleg step;
        struct dns_xfer x = {0};
        size_t answered = 0;
        bool found = false;

        rc = deleg_init(&step, err);
        /* The first server with a usable answer decides the next step;
         * every server of the last cut is then asked for the record. */
        for (size_t i = 0; i < nservers && rc == MRD_OK && !found; i++) {
            rc = dns_ask(t, servers[i], zone, DNS_T_NS, DNS_Q_DO, &x, err);
            if (rc != MRD_OK || x.status != DNS_XFER_OK)
                continue;
            answered++;
            if (x.msg->rcode == DNS_RCODE_NOERROR)
                rc = referral_read(x.msg, zone, &step, err);
            found = step.cut.len > 0;
            dns_xfer_release(&x);
        }
        dns_xfer_release(&x);
        if (rc == MRD_OK && !found) {
            rc = mrd_err_set(err, MRD_E_IO, "dns: %s: %s", zs,
                             answered == 0 ? "no server on the path from the root answered"
                                           : "no referral towards the zone");
        }
        /* Name servers named without glue (out of the parent's
         * bailiwick) are looked up from the root. */
        if (rc == MRD_OK)
            rc = fill_unglued(cfg, t, &step, 1, err);
        if (rc != MRD_OK) {
            dns__deleg_release(&step);
            return rc;
        }
        if (dns_name_eq(&step.cut, zone)) {
            /* The parent's view: every server of the parent is asked,
             * and the first answer is the delegation compared. */
            json_decref(d->ns);
            json_decref(d->glue);
            d->ns = json_incref(step.ns);
            d->glue = json_incref(step.glue);
            d->cut = step.cut;
            memcpy(d->next, step.next, sizeof(d->next));
            d->nnext = step.nnext;
            d->nparent = nservers;
            memcpy(d->parent, servers, sizeof(d->parent));
            for (size_t i = 0; i < nservers && rc == MRD_OK; i++)
                rc = dns__set_add(d->parent_servers, servers[i], err);
            dns__deleg_release(&step);
            break;
        }
        if (step.nnext == 0) {
            char cs[DNS_MAX_NAME_STR];
            dns_name_format(&step.cut, cs);
            dns__deleg_release(&step);
            return mrd_err_set(err, MRD_E_IO, "dns: %s: no address found for any name server of %s",
                               zs, cs);
        }
        nservers = step.nnext;
        memcpy(servers, step.next, sizeof(servers));
        dns__deleg_release(&step);
        if (depth + 1 == DNS_MAX_DEPTH)
            return mrd_err_set(err, MRD_E_IO, "dns: %s: more than %d referrals", zs, DNS_MAX_DEPTH);
    }
    if (rc != MRD_OK)
        return rc;
    /* DS from the parent, with DO so that its RRSIGs come too. */
    for (size_t i = 0; i < d->nparent; i++) {
        struct dns_xfer x = {0};
        rc = dns_ask(t, d->parent[i], zone, DNS_T_DS, DNS_Q_DO, &x, err);
        if (rc != MRD_OK)
            return rc;
        if (x.status != DNS_XFER_OK || x.msg->rcode != DNS_RCODE_NOERROR) {
            dns_xfer_release(&x);
            continue;
        }
        for (size_t k = 0; k < x.msg->nrr && rc == MRD_OK; k++) {
            const struct dns_rr *rr = &x.msg->rr[k];
            char s[DNS_MAX_SET * 4];
            if (rr->section == DNS_SEC_ANSWER && rr->type == DNS_T_DS &&
                dns_name_eq(&rr->owner, zone)) {
                dns__ds_str(rr, s, sizeof(s));
                rc = dns__set_add(d->ds, s, err);
            }
        }
        dns__set_sort(d->ds);
        d->ds_msg = x.msg;
        break;
    }
    return rc;
}

/* The A and AAAA of name from the first zone server that answers with
 * authority; ret_set gets sorted addresses. False when none answered. */
enum mrd_code dns__auth_addrs(const struct dns_transport *t, const struct dns_deleg *d,
                              const struct dns_name *name, json_t *ret_set, bool *ret_ok,
                              struct mrd_err *err)
{
    static const uint16_t types[] = {DNS_T_A, DNS_T_AAAA};
    enum mrd_code rc = MRD_OK;
    bool ok = true;

    for (size_t ti = 0; ti < 2 && rc == MRD_OK; ti++) {
        bool got = false;
        for (size_t i = 0; i < d->nnext && !got && rc == MRD_OK; i++) {
            struct dns_xfer x = {0};
            rc = dns_ask(t, d->next[i], name, types[ti], DNS_Q_NOEDNS, &x, err);
            if (rc != MRD_OK || x.status != DNS_XFER_OK)
                continue;
            if ((x.msg->flags & DNS_F_AA) &&
                (x.msg->rcode == DNS_RCODE_NOERROR || x.msg->rcode == DNS_RCODE_NXDOMAIN)) {
                got = true;
                rc = dns__answer_addrs(x.msg, types[ti], ret_set, err);
            }
            dns_xfer_release(&x);
        }
        ok = ok && got;
    }
    dns__set_sort(ret_set);
    *ret_ok = ok;
    return rc;
}

enum mrd_code dns__answer_addrs(const struct dns_msg *m, uint16_t type, json_t *set,
                                struct mrd_err *err)
{
    enum mrd_code rc = MRD_OK;
    for (size_t k = 0; k < m->nrr && rc == MRD_OK; k++) {
        const struct dns_rr *rr = &m->rr[k];
        char a[INET6_ADDRSTRLEN];
        if (rr->section == DNS_SEC_ANSWER && rr->type == type) {
            dns__addr_str(rr, a);
            rc = dns__set_add(set, a, err);
        }
    }
    return rc;
}

enum mrd_code dns_baseline_learn(const struct dns_config *cfg, const struct dns_transport *t,
                                 json_t **ret_baseline, struct mrd_err *err)
{
    json_t *zones = json_array(), *doc = NULL;
    enum mrd_code rc = MRD_OK;
    char when[40];

    if (zones == NULL)
        return nomem(err);
    for (size_t i = 0; i < cfg->nzones && rc == MRD_OK; i++) {
        const struct dns_cfg_zone *z = &cfg->zones[i];
        struct dns_deleg d;
        char zs[DNS_MAX_NAME_STR];
        json_t *probes = json_object(), *zo;

        if (probes == NULL) {
            rc = nomem(err);
            break;
        }
        rc = dns__delegation(cfg, t, &z->zone, &d, err);
        for (size_t p = 0; p < z->nprobes && rc == MRD_OK; p++) {
            char ps[DNS_MAX_NAME_STR];
            json_t *set = json_array();
            bool ok;
            if (set == NULL) {
                rc = nomem(err);
                break;
            }
            rc = dns__auth_addrs(t, &d, &z->probes[p], set, &ok, err);
            dns_name_format(&z->probes[p], ps);
            if (rc == MRD_OK && !ok)
                rc = mrd_err_set(err, MRD_E_IO,
                                 "dns: %s: no server of the zone answered with authority", ps);
            if (rc == MRD_OK && json_object_set(probes, ps, set) != 0)
                rc = nomem(err);
            json_decref(set);
        }
        dns_name_format(&z->zone, zs);
        zo = rc == MRD_OK ? json_pack("{s:s, s:O, s:O, s:O, s:O, s:O}", "zone", zs,
                                      "parent_servers", d.parent_servers, "ns", d.ns, "glue",
                                      d.glue, "ds", d.ds, "probes", probes)
                          : NULL;
        if (rc == MRD_OK && (zo == NULL || json_array_append_new(zones, zo) != 0))
            rc = nomem(err);
        json_decref(probes);
        dns__deleg_release(&d);
    }
    if (rc == MRD_OK) {
        dns__time_str(t->now(t->ctx), when);
        doc = json_pack("{s:i, s:s, s:O}", "version", 1, "learned", when, "zones", zones);
        if (doc == NULL)
            rc = nomem(err);
    }
    json_decref(zones);
    if (rc == MRD_OK)
        *ret_baseline = doc;
    return rc;
}

void dns__time_str(int64_t sec, char out[40])
{
    char s[MRD_TIME_STIX_MS_LEN + 1];
    mrd_time_format_stix_ms(sec * 1000000, s);
    (void)snprintf(out, 40, "%s", s);
}

static bool str_array(const json_t *a)
{
    size_t i;
    json_t *v;
    if (!json_is_array(a) || json_array_size(a) > DNS_MAX_SET * 16)
        return false;
    json_array_foreach(a, i, v)
    {
        if (!json_is_string(v))
            return false;
    }
    return true;
}

enum mrd_code dns_baseline_check(const json_t *baseline, struct mrd_err *err)
{
    json_t *zones = json_object_get(baseline, "zones"), *z;
    size_t i;

    if (!json_is_object(baseline) || !json_is_array(zones))
        return mrd_err_set(err, MRD_E_PARSE, "baseline: not an object with a zones array");
    json_array_foreach(zones, i, z)
    {
        json_t *glue = json_object_get(z, "glue"), *probes = json_object_get(z, "probes"), *v;
        const char *k;
        struct dns_name n;
        const json_t *zn = json_object_get(z, "zone");
        if (!json_is_string(zn) ||
            dns_name_parse(json_string_value(zn), json_string_length(zn), &n, NULL) != MRD_OK)
            return mrd_err_set(err, MRD_E_PARSE, "baseline: zones[%zu].zone: not a domain name", i);
        if (!str_array(json_object_get(z, "ns")) || !str_array(json_object_get(z, "ds")) ||
            !json_is_object(glue) || !json_is_object(probes))
            return mrd_err_set(err, MRD_E_PARSE,
                               "baseline: zones[%zu]: needs ns and ds (arrays of strings), glue "
                               "and probes (objects)",
                               i);
        json_object_foreach(glue, k, v)
        {
            if (!str_array(v))
                return mrd_err_set(err, MRD_E_PARSE,
                                   "baseline: zones[%zu].glue: not arrays of addresses", i);
        }
        json_object_foreach(probes, k, v)
        {
            if (!str_array(v))
                return mrd_err_set(err, MRD_E_PARSE,
                                   "baseline: zones[%zu].probes: not arrays of addresses", i);
        }
    }
    return MRD_OK;
}
