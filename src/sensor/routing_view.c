/*
 * routing_view.c: what the routing sensor knows, for the DNS sensor of the
 * same node (sensor.h, struct sensor_view; docs/dns.md "With the routing
 * sensor"): every route the BMP sessions reported (bgp_rib) and the
 * routing alerts open now, behind one lock, read through struct
 * dns_routing from the DNS sensor's thread.
 */
#include <arpa/inet.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "sensor/sensor.h"

struct sensor_view {
    pthread_mutex_t mu;
    struct bgp_rib *rib;
    /* open alerts by id: {"id", "kind", "prefix"} (hijack, leak) or
     * {"id", "kind", "group", "asns"} (outage) */
    json_t *open;
};

enum mrd_code sensor_view_new(struct sensor_view **ret, struct mrd_err *err)
{
    struct sensor_view *v = mrd_calloc(1, sizeof(*v));
    enum mrd_code rc;

    if (v == NULL)
        return mrd_err_set(err, MRD_E_NOMEM, "routing view: out of memory");
    (void)pthread_mutex_init(&v->mu, NULL);
    v->open = json_object();
    rc = v->open != NULL ? bgp_rib_new(&v->rib, err)
                         : mrd_err_set(err, MRD_E_NOMEM, "routing view: out of memory");
    if (rc != MRD_OK) {
        sensor_view_free(v);
        return rc;
    }
    *ret = v;
    return MRD_OK;
}

void sensor_view_free(struct sensor_view *v)
{
    if (v == NULL)
        return;
    bgp_rib_free(v->rib);
    json_decref(v->open);
    (void)pthread_mutex_destroy(&v->mu);
    mrd_free(v);
}

enum mrd_code sensor_view_route(struct sensor_view *v, const struct bgp_route *r,
                                struct mrd_err *err)
{
    enum mrd_code rc;
    (void)pthread_mutex_lock(&v->mu);
    rc = bgp_rib_route(v->rib, r, err);
    (void)pthread_mutex_unlock(&v->mu);
    return rc;
}

static bool prefix_str(const struct bgp_prefix *p, char out[DNS_MAX_PREFIX_STR])
{
    struct mrd_buf b;
    bool ok;

    mrd_buf_init(&b, DNS_MAX_PREFIX_STR);
    ok = bgp_prefix_format(p, &b, NULL) == MRD_OK && b.len < DNS_MAX_PREFIX_STR;
    if (ok) {
        memcpy(out, b.data, b.len);
        out[b.len] = '\0';
    }
    mrd_buf_release(&b);
    return ok;
}

void sensor_view_event(struct sensor_view *v, const struct bgp_event *ev)
{
    char id[BGP_EVENT_ID_LEN + 1], pfx[DNS_MAX_PREFIX_STR];
    json_t *o = NULL;

    if (ev->kind == BGP_EV_OUTAGE_END || bgp_event_id(ev, id, NULL) != MRD_OK)
        return;
    if (!ev->ended) {
        if (ev->kind == BGP_EV_OUTAGE) {
            json_t *asns = json_array();
            for (size_t i = 0; asns != NULL && i < ev->group_nasns; i++)
                (void)json_array_append_new(asns, json_integer(ev->group_asns[i]));
            o = json_pack("{s:s, s:s, s:s, s:o*}", "id", id, "kind", "outage", "group",
                          ev->group != NULL ? ev->group : "", "asns", asns);
        } else if (prefix_str(&ev->prefix, pfx)) {
            o = json_pack("{s:s, s:s, s:s}", "id", id, "kind", bgp_event_kind_name(ev->kind),
                          "prefix", pfx);
        }
    }
    (void)pthread_mutex_lock(&v->mu);
    if (o != NULL)
        (void)json_object_set_new(v->open, id, o);
    else
        (void)json_object_del(v->open, id);
    (void)pthread_mutex_unlock(&v->mu);
}

static bool parse_addr(const char *s, struct bgp_addr *a)
{
    memset(a, 0, sizeof(*a));
    if (s != NULL && inet_pton(AF_INET, s, a->bytes) == 1)
        a->afi = BGP_AFI_IPV4;
    else if (s != NULL && inet_pton(AF_INET6, s, a->bytes) == 1)
        a->afi = BGP_AFI_IPV6;
    return a->afi != 0;
}

/* lookup under v->mu. */
static bool lookup_locked(struct sensor_view *v, const struct bgp_addr *a,
                          struct dns_route_info *ret)
{
    struct bgp_rib_entry now, any;
    bool routed = bgp_rib_lookup(v->rib, a, true, &now);
    bool known = bgp_rib_lookup(v->rib, a, false, &any);

    memset(ret, 0, sizeof(*ret));
    if (routed && prefix_str(&now.prefix, ret->prefix)) {
        ret->routed = true;
        ret->routes = now.routes;
        ret->norigins = now.norigins < DNS_MAX_ORIGINS ? now.norigins : DNS_MAX_ORIGINS;
        memcpy(ret->origins, now.origins, ret->norigins * sizeof(ret->origins[0]));
    }
    if (known && any.routes == 0 && (!routed || any.prefix.len > now.prefix.len) &&
        prefix_str(&any.prefix, ret->withdrawn_prefix)) {
        ret->withdrawn = true;
        ret->withdrawn_at = any.withdrawn_at;
        ret->withdrawn_norigins = any.norigins < DNS_MAX_ORIGINS ? any.norigins : DNS_MAX_ORIGINS;
        memcpy(ret->withdrawn_origins, any.origins,
               ret->withdrawn_norigins * sizeof(ret->withdrawn_origins[0]));
    }
    return ret->routed || ret->withdrawn;
}

static bool view_lookup(void *ctx, const char *addr, struct dns_route_info *ret)
{
    struct sensor_view *v = ctx;
    struct bgp_addr a;
    bool found;

    memset(ret, 0, sizeof(*ret));
    if (!parse_addr(addr, &a))
        return false;
    (void)pthread_mutex_lock(&v->mu);
    found = lookup_locked(v, &a, ret);
    (void)pthread_mutex_unlock(&v->mu);
    return found;
}

static bool has_asn(const json_t *asns, const uint32_t *list, size_t n)
{
    const json_t *x;
    size_t i;

    json_array_foreach(asns, i, x)
    {
        for (size_t k = 0; k < n; k++)
            if ((json_int_t)list[k] == json_integer_value(x))
                return true;
    }
    return false;
}

/* Whether open alert o is about address a (whose routes say ri). */
static bool alert_holds(const json_t *o, const struct bgp_addr *a, const struct dns_route_info *ri)
{
    const char *p = json_string_value(json_object_get(o, "prefix"));
    struct bgp_prefix pfx;

    if (p != NULL)
        return bgp_prefix_parse(p, strlen(p), &pfx, NULL) == MRD_OK && bgp_prefix_holds(&pfx, a);
    return has_asn(json_object_get(o, "asns"), ri->origins, ri->norigins) ||
           has_asn(json_object_get(o, "asns"), ri->withdrawn_origins, ri->withdrawn_norigins);
}

static json_t *view_alerts(void *ctx, const char *addr)
{
    struct sensor_view *v = ctx;
    struct dns_route_info ri;
    struct bgp_addr a;
    json_t *out = json_array(), *o;
    const char *id;

    if (out == NULL || !parse_addr(addr, &a))
        return out;
    (void)pthread_mutex_lock(&v->mu);
    (void)lookup_locked(v, &a, &ri);
    json_object_foreach(v->open, id, o)
    {
        json_t *one;
        if (json_array_size(out) >= DNS_MAX_RELATED || !alert_holds(o, &a, &ri))
            continue;
        one = json_deep_copy(o);
        if (one != NULL)
            (void)json_object_del(one, "asns");
        if (one == NULL || json_array_append_new(out, one) != 0) {
            json_decref(out);
            out = NULL;
            break;
        }
    }
    (void)pthread_mutex_unlock(&v->mu);
    return out;
}

struct dns_routing sensor_view_routing(struct sensor_view *v)
{
    struct dns_routing r = {view_lookup, view_alerts, v};
    return r;
}
