/*
 * config.c: the watch configuration of `meridian dns` (docs/dns.md):
 * root servers and trust anchor, watched zones with their probe names,
 * vantage resolvers and the round interval.
 *
 * Every error names the member it comes from (`zones[1].probe_names[0]`)
 * so an operator can find it in the file.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/json.h"
#include "core/str.h"
#include "dns/dns.h"

#define CFG_MAX_BYTES ((size_t)16 * 1024 * 1024) /* one configuration document */
#define CFG_MAX_DEPTH 8                          /* nesting of the document */
#define CFG_DEFAULT_INTERVAL 60
#define CFG_DEFAULT_EXPIRY_WARN (3 * 86400) /* RRSIGs expiring within 3 days warn */

/* a.root-servers.net .. m.root-servers.net (IANA root hints, IPv4). */
static const char *const iana_roots[] = {
    "198.41.0.4",   "170.247.170.2", "192.33.4.12",   "199.7.91.13",   "192.203.230.10",
    "192.5.5.241",  "192.112.36.4",  "198.97.190.53", "192.36.148.17", "192.58.128.30",
    "193.0.14.129", "199.7.83.42",   "202.12.27.33"};

void dns_config_free(struct dns_config *cfg)
{
    if (cfg == NULL)
        return;
    for (size_t i = 0; i < cfg->nzones; i++)
        mrd_free(cfg->zones[i].probes);
    mrd_free(cfg->zones);
    mrd_free(cfg->vantages);
    mrd_free(cfg->roots);
    mrd_free(cfg->anchors);
    dns_asn_table_free(cfg->asn_table);
    mrd_free(cfg);
}

bool dns_server_valid(const char *s)
{
    char host[DNS_MAX_SERVER + 1];
    const char *port = NULL;
    size_t n = strlen(s);
    uint8_t a[16];

    if (n == 0 || n > DNS_MAX_SERVER)
        return false;
    if (s[0] == '[') {
        const char *close = strchr(s, ']');
        if (close == NULL || close[1] != ':')
            return false;
        memcpy(host, s + 1, (size_t)(close - s - 1));
        host[close - s - 1] = '\0';
        port = close + 2;
        if (inet_pton(AF_INET6, host, a) != 1)
            return false;
    } else if (strchr(s, ':') != NULL && strchr(s, ':') == strrchr(s, ':')) {
        const char *colon = strchr(s, ':');
        memcpy(host, s, (size_t)(colon - s));
        host[colon - s] = '\0';
        port = colon + 1;
        if (inet_pton(AF_INET, host, a) != 1)
            return false;
    } else {
        return inet_pton(AF_INET, s, a) == 1 || inet_pton(AF_INET6, s, a) == 1;
    }
    {
        uint64_t p;
        if (mrd_str_to_u64(port, strlen(port), 65535, &p, NULL) != MRD_OK || p == 0)
            return false;
    }
    return true;
}

static enum mrd_code server_list(json_t *j, const char *where, char (**ret)[DNS_MAX_SERVER + 1],
                                 size_t *ret_n, struct mrd_err *err)
{
    size_t i, n;
    json_t *v;
    char(*a)[DNS_MAX_SERVER + 1];

    if (!json_is_array(j) || json_array_size(j) == 0)
        return mrd_err_set(err, MRD_E_PARSE, "config: %s: not a non-empty array of addresses",
                           where);
    n = json_array_size(j);
    if (n > DNS_CFG_MAX_SERVERS)
        return mrd_err_set(err, MRD_E_TOOBIG, "config: %s: more than %d servers", where,
                           DNS_CFG_MAX_SERVERS);
    a = mrd_calloc(n, sizeof(*a));
    if (a == NULL)
        return mrd_err_set(err, MRD_E_NOMEM, "config: out of memory");
    json_array_foreach(j, i, v)
    {
        if (!json_is_string(v) || !dns_server_valid(json_string_value(v))) {
            mrd_free(a);
            return mrd_err_set(err, MRD_E_PARSE, "config: %s[%zu]: not IP, IP:PORT or [IPv6]:PORT",
                               where, i);
        }
        mrd_strlcpy(a[i], json_string_value(v), sizeof(a[i]));
    }
    *ret = a;
    *ret_n = n;
    return MRD_OK;
}

static enum mrd_code parse_root(json_t *j, struct dns_config *cfg, struct mrd_err *err)
{
    const char *key;
    json_t *v;
    enum mrd_code rc;

    if (!json_is_object(j))
        return mrd_err_set(err, MRD_E_PARSE, "config: root: not an object");
    json_object_foreach(j, key, v)
    {
        if (strcmp(key, "servers") == 0) {
            rc = server_list(v, "root.servers", &cfg->roots, &cfg->nroots, err);
            if (rc != MRD_OK)
                return rc;
        } else if (strcmp(key, "trust_anchor") == 0) {
            if (!json_is_string(v) || json_string_length(v) == 0 ||
                json_string_length(v) > DNS_CFG_MAX_PATH)
                return mrd_err_set(err, MRD_E_PARSE, "config: root.trust_anchor: not a path");
            mrd_strlcpy(cfg->trust_anchor, json_string_value(v), sizeof(cfg->trust_anchor));
        } else {
            return mrd_err_set(err, MRD_E_PARSE, "config: root: unknown member");
        }
    }
    return MRD_OK;
}

/* "excuses": {"asn_table": "FILE", "tls_ca": "FILE", "tls_port": 443,
 * "tls_timeout_ms": 2000, "tls_cache_ttl": 3600, "tls_cache_fail_ttl": 300}
 * (docs/dns.md, "Excuses"). */
static enum mrd_code parse_excuses(json_t *j, struct dns_config *cfg, struct mrd_err *err)
{
    const char *key;
    json_t *v;

    if (!json_is_object(j))
        return mrd_err_set(err, MRD_E_PARSE, "config: excuses: not an object");
    json_object_foreach(j, key, v)
    {
        bool path = strcmp(key, "asn_table") == 0 || strcmp(key, "tls_ca") == 0;
        if (path && (!json_is_string(v) || json_string_length(v) == 0 ||
                     json_string_length(v) > DNS_CFG_MAX_PATH ||
                     strlen(json_string_value(v)) != json_string_length(v)))
            return mrd_err_set(err, MRD_E_PARSE, "config: excuses.%s: not a path", key);
        if (strcmp(key, "asn_table") == 0) {
            mrd_strlcpy(cfg->asn_table_path, json_string_value(v), sizeof(cfg->asn_table_path));
        } else if (strcmp(key, "tls_ca") == 0) {
            mrd_strlcpy(cfg->tls_ca, json_string_value(v), sizeof(cfg->tls_ca));
        } else if (strcmp(key, "tls_port") == 0) {
            if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > 65535)
                return mrd_err_set(err, MRD_E_PARSE, "config: excuses.tls_port: not 1 to 65535");
            cfg->tls_port = (unsigned)json_integer_value(v);
        } else if (strcmp(key, "tls_timeout_ms") == 0) {
            if (!json_is_integer(v) || json_integer_value(v) < 1 ||
                json_integer_value(v) > DNS_MAX_TLS_TIMEOUT_MS)
                return mrd_err_set(err, MRD_E_PARSE, "config: excuses.tls_timeout_ms: not 1 to %d",
                                   DNS_MAX_TLS_TIMEOUT_MS);
            cfg->tls_timeout_ms = (unsigned)json_integer_value(v);
        } else if (strcmp(key, "tls_cache_ttl") == 0 || strcmp(key, "tls_cache_fail_ttl") == 0) {
            if (!json_is_integer(v) || json_integer_value(v) < 0 ||
                json_integer_value(v) > DNS_MAX_TLS_CACHE_TTL)
                return mrd_err_set(err, MRD_E_PARSE, "config: excuses.%s: not 0 to %d", key,
                                   DNS_MAX_TLS_CACHE_TTL);
            *(strcmp(key, "tls_cache_ttl") == 0 ? &cfg->tls_cache_ttl : &cfg->tls_cache_fail_ttl) =
                (unsigned)json_integer_value(v);
        } else {
            return mrd_err_set(err, MRD_E_PARSE, "config: excuses: unknown member \"%s\"",
                               MRD_ESC(key));
        }
    }
    return MRD_OK;
}

static enum mrd_code name_member(json_t *v, const char *where, struct dns_name *ret,
                                 struct mrd_err *err)
{
    struct mrd_err nerr = {0};
    if (!json_is_string(v))
        return mrd_err_set(err, MRD_E_PARSE, "config: %s: not a domain name", where);
    if (dns_name_parse(json_string_value(v), json_string_length(v), ret, &nerr) != MRD_OK)
        return mrd_err_set(err, MRD_E_PARSE, "config: %s: %s", where, nerr.msg);
    return MRD_OK;
}

static enum mrd_code parse_zone(json_t *j, size_t idx, struct dns_cfg_zone *z, struct mrd_err *err)
{
    char where[96];
    const char *key;
    json_t *v, *p;
    size_t k;
    enum mrd_code rc;
    bool seen = false;

    if (!json_is_object(j))
        return mrd_err_set(err, MRD_E_PARSE, "config: zones[%zu]: not an object", idx);
    json_object_foreach(j, key, v)
    {
        if (strcmp(key, "zone") == 0) {
            (void)snprintf(where, sizeof(where), "zones[%zu].zone", idx);
            rc = name_member(v, where, &z->zone, err);
            if (rc != MRD_OK)
                return rc;
            seen = true;
        } else if (strcmp(key, "probe_names") == 0) {
            if (!json_is_array(v))
                return mrd_err_set(err, MRD_E_PARSE, "config: zones[%zu].probe_names: not an array",
                                   idx);
            if (json_array_size(v) > DNS_CFG_MAX_PROBES)
                return mrd_err_set(err, MRD_E_TOOBIG,
                                   "config: zones[%zu].probe_names: more than %d names", idx,
                                   DNS_CFG_MAX_PROBES);
            z->probes = mrd_calloc(json_array_size(v) + 1, sizeof(*z->probes));
            if (z->probes == NULL)
                return mrd_err_set(err, MRD_E_NOMEM, "config: out of memory");
            json_array_foreach(v, k, p)
            {
                (void)snprintf(where, sizeof(where), "zones[%zu].probe_names[%zu]", idx, k);
                rc = name_member(p, where, &z->probes[k], err);
                if (rc != MRD_OK)
                    return rc;
                z->nprobes++;
            }
        } else {
            return mrd_err_set(err, MRD_E_PARSE, "config: zones[%zu]: unknown member", idx);
        }
    }
    if (!seen)
        return mrd_err_set(err, MRD_E_PARSE, "config: zones[%zu]: no zone", idx);
    for (size_t i = 0; i < z->nprobes; i++) {
        if (!dns_name_under(&z->probes[i], &z->zone))
            return mrd_err_set(err, MRD_E_PARSE,
                               "config: zones[%zu].probe_names[%zu]: not inside the zone", idx, i);
    }
    return MRD_OK;
}

static enum mrd_code parse_vantage(json_t *j, size_t idx, struct dns_cfg_vantage *vt,
                                   struct mrd_err *err)
{
    json_t *name = json_object_get(j, "name"), *server = json_object_get(j, "server");

    if (!json_is_object(j) || json_object_size(j) != 2 || name == NULL || server == NULL)
        return mrd_err_set(err, MRD_E_PARSE,
                           "config: vantages[%zu]: not an object with name and server", idx);
    if (!json_is_string(name) || json_string_length(name) == 0 ||
        json_string_length(name) > DNS_CFG_MAX_VNAME ||
        mrd_str_needs_escape(json_string_value(name), json_string_length(name)) ||
        strcmp(json_string_value(name), "authoritative") == 0 ||
        strcmp(json_string_value(name), "validator") == 0)
        return mrd_err_set(err, MRD_E_PARSE,
                           "config: vantages[%zu].name: not a name of 1 to %d printable bytes "
                           "(\"authoritative\" and \"validator\" are reserved)",
                           idx, DNS_CFG_MAX_VNAME);
    if (!json_is_string(server) || !dns_server_valid(json_string_value(server)))
        return mrd_err_set(err, MRD_E_PARSE,
                           "config: vantages[%zu].server: not IP, IP:PORT or [IPv6]:PORT", idx);
    mrd_strlcpy(vt->name, json_string_value(name), sizeof(vt->name));
    mrd_strlcpy(vt->server, json_string_value(server), sizeof(vt->server));
    return MRD_OK;
}

enum mrd_code dns_config_parse(const char *buf, size_t len, struct dns_config **ret_cfg,
                               struct mrd_err *err)
{
    struct mrd_json_limits lim = {CFG_MAX_BYTES, CFG_MAX_DEPTH};
    struct dns_config *cfg = NULL;
    json_t *doc = NULL, *v;
    const char *key;
    size_t i;
    enum mrd_code rc;

    rc = mrd_json_parse(buf, len, &lim, &doc, err);
    if (rc != MRD_OK) {
        mrd_err_prefix(err, "config");
        return rc;
    }
    cfg = mrd_calloc(1, sizeof(*cfg));
    if (cfg == NULL) {
        rc = mrd_err_set(err, MRD_E_NOMEM, "config: out of memory");
        goto out;
    }
    cfg->interval = CFG_DEFAULT_INTERVAL;
    cfg->expiry_warn = CFG_DEFAULT_EXPIRY_WARN;
    cfg->alert_refresh = DNS_DEFAULT_ALERT_REFRESH;
    cfg->tls_port = DNS_DEFAULT_TLS_PORT;
    cfg->tls_timeout_ms = DNS_DEFAULT_TLS_TIMEOUT_MS;
    cfg->tls_cache_ttl = DNS_DEFAULT_TLS_CACHE_TTL;
    cfg->tls_cache_fail_ttl = DNS_DEFAULT_TLS_CACHE_FAIL_TTL;
    if (!json_is_object(doc)) {
        rc = mrd_err_set(err, MRD_E_PARSE, "config: not a JSON object");
        goto out;
    }
    json_object_foreach(doc, key, v)
    {
        if (strcmp(key, "root") == 0) {
            rc = parse_root(v, cfg, err);
        } else if (strcmp(key, "zones") == 0) {
            json_t *z;
            if (!json_is_array(v) || json_array_size(v) == 0) {
                rc = mrd_err_set(err, MRD_E_PARSE, "config: zones: not a non-empty array");
                goto out;
            }
            if (json_array_size(v) > DNS_CFG_MAX_ZONES) {
                rc = mrd_err_set(err, MRD_E_TOOBIG, "config: zones: more than %d zones",
                                 DNS_CFG_MAX_ZONES);
                goto out;
            }
            cfg->zones = mrd_calloc(json_array_size(v), sizeof(*cfg->zones));
            if (cfg->zones == NULL) {
                rc = mrd_err_set(err, MRD_E_NOMEM, "config: out of memory");
                goto out;
            }
            json_array_foreach(v, i, z)
            {
                cfg->nzones++;
                rc = parse_zone(z, i, &cfg->zones[i], err);
                if (rc != MRD_OK)
                    goto out;
                for (size_t k = 0; k < i; k++) {
                    if (dns_name_eq(&cfg->zones[k].zone, &cfg->zones[i].zone)) {
                        rc = mrd_err_set(err, MRD_E_PARSE,
                                         "config: zones[%zu].zone: already watched in zones[%zu]",
                                         i, k);
                        goto out;
                    }
                }
            }
        } else if (strcmp(key, "vantages") == 0) {
            json_t *vt;
            if (!json_is_array(v)) {
                rc = mrd_err_set(err, MRD_E_PARSE, "config: vantages: not an array");
                goto out;
            }
            if (json_array_size(v) > DNS_CFG_MAX_SERVERS) {
                rc = mrd_err_set(err, MRD_E_TOOBIG, "config: vantages: more than %d",
                                 DNS_CFG_MAX_SERVERS);
                goto out;
            }
            cfg->vantages = mrd_calloc(json_array_size(v) + 1, sizeof(*cfg->vantages));
            if (cfg->vantages == NULL) {
                rc = mrd_err_set(err, MRD_E_NOMEM, "config: out of memory");
                goto out;
            }
            json_array_foreach(v, i, vt)
            {
                rc = parse_vantage(vt, i, &cfg->vantages[i], err);
                if (rc != MRD_OK)
                    goto out;
                cfg->nvantages++;
                for (size_t k = 0; k < i; k++) {
                    if (strcmp(cfg->vantages[k].name, cfg->vantages[i].name) == 0) {
                        rc = mrd_err_set(err, MRD_E_PARSE,
                                         "config: vantages[%zu].name: already used by "
                                         "vantages[%zu]",
                                         i, k);
                        goto out;
                    }
                }
            }
        } else if (strcmp(key, "interval") == 0) {
            if (!json_is_integer(v) || json_integer_value(v) < DNS_MIN_INTERVAL ||
                json_integer_value(v) > DNS_MAX_INTERVAL) {
                rc = mrd_err_set(err, MRD_E_PARSE, "config: interval: not seconds from %d to %d",
                                 DNS_MIN_INTERVAL, DNS_MAX_INTERVAL);
                goto out;
            }
            cfg->interval = (unsigned)json_integer_value(v);
        } else if (strcmp(key, "expiry_warning") == 0) {
            if (!json_is_integer(v) || json_integer_value(v) < 0 ||
                json_integer_value(v) > DNS_MAX_EXPIRY_WARN) {
                rc = mrd_err_set(err, MRD_E_PARSE,
                                 "config: expiry_warning: not seconds from 0 to %d",
                                 DNS_MAX_EXPIRY_WARN);
                goto out;
            }
            cfg->expiry_warn = (unsigned)json_integer_value(v);
        } else if (strcmp(key, "alert_refresh") == 0) {
            if (!json_is_integer(v) || json_integer_value(v) < 1 ||
                json_integer_value(v) > DNS_MAX_ALERT_REFRESH) {
                rc =
                    mrd_err_set(err, MRD_E_PARSE, "config: alert_refresh: not seconds from 1 to %d",
                                DNS_MAX_ALERT_REFRESH);
                goto out;
            }
            cfg->alert_refresh = (unsigned)json_integer_value(v);
        } else if (strcmp(key, "excuses") == 0) {
            rc = parse_excuses(v, cfg, err);
        } else if (strcmp(key, "validator") == 0) {
            if (!json_is_boolean(v)) {
                rc = mrd_err_set(err, MRD_E_PARSE, "config: validator: not true or false");
                goto out;
            }
            cfg->validate = json_is_true(v);
        } else {
            char esc[80];
            rc = mrd_err_set(err, MRD_E_PARSE, "config: unknown member \"%s\"",
                             mrd_str_escape(esc, sizeof(esc), key, strlen(key)));
        }
        if (rc != MRD_OK)
            goto out;
    }
    if (cfg->nzones == 0) {
        rc = mrd_err_set(err, MRD_E_PARSE, "config: zones: missing");
        goto out;
    }
    if (cfg->validate && cfg->trust_anchor[0] == '\0') {
        rc = mrd_err_set(err, MRD_E_PARSE,
                         "config: validator: needs root.trust_anchor (the keys to validate from)");
        goto out;
    }
    if (cfg->nroots == 0) {
        size_t n = sizeof(iana_roots) / sizeof(iana_roots[0]);
        cfg->roots = mrd_calloc(n, sizeof(*cfg->roots));
        if (cfg->roots == NULL) {
            rc = mrd_err_set(err, MRD_E_NOMEM, "config: out of memory");
            goto out;
        }
        for (i = 0; i < n; i++)
            mrd_strlcpy(cfg->roots[i], iana_roots[i], sizeof(cfg->roots[i]));
        cfg->nroots = n;
    }
    *ret_cfg = cfg;
    cfg = NULL;
out:
    dns_config_free(cfg);
    json_decref(doc);
    return rc;
}
