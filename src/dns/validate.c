/*
 * validate.c: the in-process validator (dns_net.h) over libunbound.
 *
 * One libunbound context per round (a fresh cache: what the zone serves
 * now, not what was cached rounds ago), iterating from the configured root
 * servers (a stub zone for ".") with the configured trust anchor. Its verdict
 * (secure / bogus / neither) and its why-bogus text are what check.c
 * classifies (dns_why_bogus_cause). Not pure: libunbound opens sockets, so
 * this file lives in mrd_dnsnet beside net.c.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <unbound.h>

#include "core/alloc.h"
#include "dns/dns_net.h"

struct dns_unbound {
    struct ub_ctx *ub;
    pthread_mutex_t mu; /* one query at a time: a round asks one per zone */
};

/* "IP", "IP:PORT", "[IPv6]:PORT" as Unbound's "IP@PORT". */
static void ub_addr(const char *server, char out[DNS_MAX_SERVER + 8])
{
    const char *colon = strrchr(server, ':');

    if (server[0] == '[') {
        const char *close = strchr(server, ']');
        (void)snprintf(out, DNS_MAX_SERVER + 8, "%.*s@%s", (int)(close - server - 1), server + 1,
                       close[1] == ':' ? close + 2 : "53");
    } else if (colon != NULL && colon == strchr(server, ':')) {
        (void)snprintf(out, DNS_MAX_SERVER + 8, "%.*s@%s", (int)(colon - server), server,
                       colon + 1);
    } else {
        (void)snprintf(out, DNS_MAX_SERVER + 8, "%s", server);
    }
}

static enum mrd_code ub_fail(struct mrd_err *err, const char *what, int e)
{
    return mrd_err_set(err, MRD_E_IO, "dns: validator: %s: %s", what, ub_strerror(e));
}

static enum mrd_code unbound_validate(void *ctx, const struct dns_name *name, uint16_t type,
                                      struct dns_verdict *ret, struct mrd_err *err)
{
    struct dns_unbound *u = ctx;
    struct ub_result *res = NULL;
    char ns[DNS_MAX_NAME_STR];
    int e;

    memset(ret, 0, sizeof(*ret));
    dns_name_format(name, ns);
    (void)pthread_mutex_lock(&u->mu);
    e = ub_resolve(u->ub, ns, type, DNS_CLASS_IN, &res);
    (void)pthread_mutex_unlock(&u->mu);
    if (e != 0)
        return ub_fail(err, ns, e);
    ret->answered = true;
    ret->rcode = res->rcode;
    ret->secure = res->secure != 0;
    ret->bogus = res->bogus != 0;
    if (ret->bogus && res->why_bogus != NULL) {
        size_t n = 0;
        /* It names records from outside: printable ASCII only. */
        for (; res->why_bogus[n] != '\0' && n < DNS_MAX_WHY; n++) {
            unsigned char c = (unsigned char)res->why_bogus[n];
            ret->why[n] = (char)(c >= 0x20 && c < 0x7f ? c : '?');
        }
        ret->why[n] = '\0';
    }
    ub_resolve_free(res);
    return MRD_OK;
}

enum mrd_code dns_validator_unbound(const struct dns_config *cfg, struct dns_validator *ret,
                                    struct mrd_err *err)
{
    struct dns_unbound *u = mrd_calloc(1, sizeof(*u));
    enum mrd_code rc = MRD_OK;
    int e;

    if (u == NULL)
        return mrd_err_set(err, MRD_E_NOMEM, "dns: validator: out of memory");
    (void)pthread_mutex_init(&u->mu, NULL);
    u->ub = ub_ctx_create();
    if (u->ub == NULL) {
        rc = mrd_err_set(err, MRD_E_NOMEM, "dns: validator: ub_ctx_create failed");
        goto out;
    }
    /* val-log-level 2 makes Unbound keep why a validation failed (the
     * why_bogus text); its log goes nowhere. */
    e = ub_ctx_set_option(u->ub, "val-log-level:", "2");
    if (e == 0)
        e = ub_ctx_set_option(u->ub, "verbosity:", "0");
    if (e == 0)
        e = ub_ctx_set_option(u->ub, "do-not-query-localhost:", "no");
    if (e == 0)
        e = ub_ctx_set_option(u->ub, "logfile:", "/dev/null");
    if (e != 0) {
        rc = ub_fail(err, "options", e);
        goto out;
    }
    e = ub_ctx_add_ta_file(u->ub, cfg->trust_anchor);
    if (e != 0) {
        rc = ub_fail(err, cfg->trust_anchor, e);
        goto out;
    }
    for (size_t i = 0; i < cfg->nroots && rc == MRD_OK; i++) {
        char a[DNS_MAX_SERVER + 8];
        ub_addr(cfg->roots[i], a);
        e = ub_ctx_set_stub(u->ub, ".", a, 0);
        if (e != 0)
            rc = ub_fail(err, cfg->roots[i], e);
    }
out:
    if (rc != MRD_OK) {
        dns_validator_free(&(struct dns_validator){NULL, u});
        return rc;
    }
    ret->validate = unbound_validate;
    ret->ctx = u;
    return MRD_OK;
}

void dns_validator_free(struct dns_validator *v)
{
    struct dns_unbound *u = v->ctx;

    if (u == NULL)
        return;
    if (u->ub != NULL)
        ub_ctx_delete(u->ub);
    (void)pthread_mutex_destroy(&u->mu);
    mrd_free(u);
    v->ctx = NULL;
}

enum mrd_code dns_check_round_net(const struct dns_config *cfg, const struct dns_net *opts,
                                  const json_t *baseline, const json_t *state,
                                  json_t **ret_findings, json_t **ret_state, struct mrd_err *err)
{
    struct dns_transport t = dns_transport_net(opts);
    struct dns_validator v = {0};
    struct dns_tls_prober tls = {0};
    enum mrd_code rc = MRD_OK;

    if (cfg->validate) {
        rc = dns_validator_unbound(cfg, &v, err);
        t.validator = &v;
    }
    if (rc == MRD_OK && cfg->tls_ca[0] != '\0') {
        rc = dns_tls_prober_new(cfg, &tls, err);
        t.tls = &tls;
    }
    if (rc == MRD_OK)
        rc = dns_check_round(cfg, baseline, state, &t, ret_findings, ret_state, err);
    dns_tls_prober_free(&tls);
    dns_validator_free(&v);
    return rc;
}
