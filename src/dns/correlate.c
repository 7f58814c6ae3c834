/*
 * correlate.c: the DNS findings beside what the node's routing sensor
 * knows (docs/dns.md, "With the routing sensor"): the origin ASNs of the
 * ASN excuse from its routes, the routing alerts a finding's addresses
 * fall under, and the visibility of an outage's name servers' prefixes.
 * Pure: the routing sensor is reached through struct dns_routing.
 */
#include <arpa/inet.h>
#include <string.h>

#include "dns/dns.h"
#include "dns/dns_int.h"

size_t dns_origins_of(const struct dns_routing *routing, const struct dns_asn_table *table,
                      const char *addr, uint32_t out[DNS_MAX_ORIGINS], const char **ret_source)
{
    struct dns_route_info ri;
    size_t n;

    if (ret_source != NULL)
        *ret_source = NULL;
    if (routing != NULL && routing->lookup(routing->ctx, addr, &ri) && ri.routed) {
        memcpy(out, ri.origins, ri.norigins * sizeof(*out));
        if (ret_source != NULL)
            *ret_source = "rib";
        return ri.norigins;
    }
    n = dns_asn_lookup(table, addr, out);
    if (n > 0 && ret_source != NULL)
        *ret_source = "pfx2as";
    return n;
}

static bool is_addr(const char *s)
{
    uint8_t b[16];
    return s != NULL && (inet_pton(AF_INET, s, b) == 1 || inet_pton(AF_INET6, s, b) == 1);
}

/* Every address in v (a string, or arrays and objects of them, at any
 * depth up to a few levels) into addrs, once each. */
static int collect_addrs(const json_t *v, json_t *addrs, int depth)
{
    const char *key;
    const json_t *x;
    size_t i;

    if (depth > 4)
        return 0;
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        if (is_addr(s) && json_object_get(addrs, s) == NULL)
            return json_object_set_new(addrs, s, json_true());
        return 0;
    }
    if (json_is_array(v)) {
        json_array_foreach(v, i, x)
        {
            if (collect_addrs(x, addrs, depth + 1) != 0)
                return -1;
        }
    } else if (json_is_object(v)) {
        json_object_foreach((json_t *)(uintptr_t)v, key, x)
        {
            if (collect_addrs(x, addrs, depth + 1) != 0)
                return -1;
        }
    }
    return 0;
}

/* Appends to related the alerts routing lists for addr that it lacks. */
static int add_alerts(const struct dns_routing *routing, const char *addr, json_t *related)
{
    json_t *alerts, *al;
    size_t i;

    if (routing->alerts == NULL)
        return 0;
    alerts = routing->alerts(routing->ctx, addr);
    if (alerts == NULL)
        return -1;
    json_array_foreach(alerts, i, al)
    {
        const json_t *id = json_object_get(al, "id"), *have;
        bool dup = false;
        size_t k;
        json_t *one;
        if (!json_is_string(id) || json_array_size(related) >= DNS_MAX_RELATED)
            continue;
        json_array_foreach(related, k, have) dup =
            dup || json_equal(json_object_get(have, "id"), (json_t *)(uintptr_t)id);
        if (dup)
            continue;
        one = json_deep_copy(al);
        if (one == NULL || json_object_set_new(one, "address", json_string(addr)) != 0 ||
            json_array_append_new(related, one) != 0) {
            json_decref(alerts);
            return -1;
        }
    }
    json_decref(alerts);
    return 0;
}

static json_t *origins_json(const uint32_t *asn, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; a != NULL && i < n; i++)
        if (json_array_append_new(a, json_integer(asn[i])) != 0) {
            json_decref(a);
            return NULL;
        }
    return a;
}

/* The visibility of addr's prefixes, as the outage's "routing" lists it. */
static json_t *visibility(const struct dns_routing *routing, const char *addr)
{
    struct dns_route_info ri;
    bool known = routing->lookup(routing->ctx, addr, &ri);
    json_t *v = json_pack("{s:s, s:b}", "address", addr, "routed", known && ri.routed);

    if (v == NULL || !known)
        return v;
    if (ri.routed &&
        (json_object_set_new(v, "prefix", json_string(ri.prefix)) != 0 ||
         json_object_set_new(v, "origins", origins_json(ri.origins, ri.norigins)) != 0 ||
         json_object_set_new(v, "routes", json_integer((json_int_t)ri.routes)) != 0))
        goto nomem;
    if (ri.withdrawn) {
        char at[40];
        dns__time_str(ri.withdrawn_at, at);
        if (json_object_set_new(v, "withdrawn_prefix", json_string(ri.withdrawn_prefix)) != 0 ||
            json_object_set_new(v, "withdrawn_at", json_string(at)) != 0 ||
            json_object_set_new(v, "withdrawn_origins",
                                origins_json(ri.withdrawn_origins, ri.withdrawn_norigins)) != 0)
            goto nomem;
    }
    if (json_object_set_new(v, "withdrawn", json_boolean(ri.withdrawn)) != 0)
        goto nomem;
    return v;
nomem:
    json_decref(v);
    return NULL;
}

/* The baseline's glue addresses of zone, into addrs. */
static int ns_addrs(const json_t *baseline, const char *zone, json_t *addrs)
{
    const json_t *z;
    size_t i;

    json_array_foreach(json_object_get(baseline, "zones"), i, z)
    {
        const char *name = json_string_value(json_object_get(z, "zone"));
        if (name != NULL && strcmp(name, zone) == 0)
            return collect_addrs(json_object_get(z, "glue"), addrs, 0);
    }
    return 0;
}

/* Sets f[member] to v when v is a non-empty array (consumed either way). */
static int set_nonempty(json_t *f, const char *member, json_t *v)
{
    if (json_array_size(v) == 0) {
        json_decref(v);
        return 0;
    }
    return json_object_set_new(f, member, v);
}

static enum mrd_code correlate_one(json_t *f, const json_t *baseline,
                                   const struct dns_routing *routing, struct mrd_err *err)
{
    const char *kind = json_string_value(json_object_get(f, "kind"));
    const char *zone = json_string_value(json_object_get(f, "zone"));
    json_t *addrs = json_object(), *related = json_array(), *vis = NULL, *x;
    bool outage;
    const char *a;
    int bad;

    if (kind == NULL || zone == NULL) {
        json_decref(addrs);
        json_decref(related);
        return MRD_OK;
    }
    outage = strcmp(kind, "outage") == 0 || strcmp(kind, "outage-end") == 0;
    bad = addrs == NULL || related == NULL;
    if (!bad && outage)
        bad = ns_addrs(baseline, zone, addrs) != 0 || (vis = json_array()) == NULL;
    else if (!bad && (strcmp(kind, "divergence") == 0 || strcmp(kind, "injection") == 0 ||
                      strcmp(kind, "delegation") == 0))
        bad = collect_addrs(json_object_get(f, "observed"), addrs, 0) != 0;
    json_object_foreach(addrs, a, x)
    {
        if (bad)
            break;
        bad = add_alerts(routing, a, related) != 0 ||
              (vis != NULL && json_array_append_new(vis, visibility(routing, a)) != 0);
    }
    if (!bad)
        bad = set_nonempty(f, "related", related) != 0;
    else
        json_decref(related);
    if (!bad && vis != NULL)
        bad = set_nonempty(f, "routing", vis) != 0;
    else
        json_decref(vis);
    json_decref(addrs);
    return bad ? mrd_err_set(err, MRD_E_NOMEM, "dns: out of memory") : MRD_OK;
}

enum mrd_code dns_findings_correlate(json_t *findings, const json_t *baseline,
                                     const struct dns_routing *routing, struct mrd_err *err)
{
    json_t *f;
    size_t i;

    if (routing == NULL)
        return MRD_OK;
    json_array_foreach(findings, i, f)
    {
        enum mrd_code rc = correlate_one(f, baseline, routing, err);
        if (rc != MRD_OK)
            return rc;
    }
    return MRD_OK;
}
