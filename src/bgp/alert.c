/*
 * alert.c: events as STIX 2.1 objects.
 *
 * An alert is an observed-data (STIX 2.1 §4.14: first_observed,
 * last_observed, number_observed, object_refs) carrying the event under a
 * Meridian property extension (§7.3), and referring to the SCOs it is
 * about: the prefix as ipv4-addr/ipv6-addr (CIDR value, §6.13/§6.14) and
 * the hijacker, leaker, origin and peer as autonomous-system (§6.2). SCO
 * ids follow §2.9 (UUIDv5 over the RFC 8785 form of their ID contributing
 * property), so every node names the same AS with the same id. Pure: the
 * caller stores or prints what is appended.
 */
#include <stdio.h>
#include <string.h>

#include "bgp/bgp.h"
#include "core/alert.h"
#include "core/json.h"
#include "core/timestamp.h"
#include "core/uuid.h"

/* Version 1.1 of the extension-definition (version 1.0, of the same id,
 * modified MRD_ALERT_DEFS_TIME, lacked peer, collector and otc; its alerts
 * read the same). */
#define BGP_EXT_VERSION "1.1"
#define BGP_EXT_MODIFIED "2026-12-08T00:30:00.000Z"

static const char ext_schema[] =
    "Meridian routing alert, version 1.1. A property extension of observed-data. "
    "Members: kind (hijack, leak, outage, outage-end); prefix, as_path (ASNs, a set as a "
    "nested array), peer_as, peer (that peer's address), collector (where that route was "
    "seen: the input file, or the BMP router's address:port), origin_as, peers (routes "
    "carrying it at once) for hijack and leak; first_seen, last_seen, ended (RFC 3339 or "
    "null); "
    "hijack: type (ARTEMIS Prefix|Path|Data|Policy, e.g. S|0|-|-, E|-|-|L), hijacker_as, "
    "matched_prefix, rov, reason; leak: leaker_as, leak (valley or otc), learned_from, "
    "sent_to, otc (the AS in the route's Only-to-Customer attribute, RFC 9234, or null); "
    "outage, outage-end: group, visible, baseline, lowest, visible_v4, visible_v6, "
    "peers_v4, peers_v6. Version 1.0 lacked peer, collector and otc. Specified in docs/bgp.md of "
    "Meridian.";

static const struct mrd_alert_sensor sensor = {
    BGP_STIX_IDENTITY_ID,
    "Meridian routing-stability sensor",
    "The `meridian bgp` sensor of a Meridian node",
    BGP_STIX_EXT_ID,
    "Meridian routing alert",
    "Hijack, route leak and outage alerts of the Meridian BGP sensor",
    ext_schema,
    BGP_EXT_VERSION,
    BGP_EXT_MODIFIED};

enum mrd_code bgp_stix_definitions(json_t *objects, struct mrd_err *err)
{
    return mrd_alert_definitions(&sensor, objects, err);
}

static enum mrd_code sco(json_t *objects, json_t *seen, const char *type, const char *prop,
                         json_t *value, json_t *refs, struct mrd_err *err)
{
    return mrd_alert_sco(objects, seen, type, prop, value, refs, err);
}

static enum mrd_code as_sco(json_t *objects, json_t *seen, uint32_t asn, json_t *refs,
                            struct mrd_err *err)
{
    return sco(objects, seen, "autonomous-system", "number", json_integer(asn), refs, err);
}

/* What makes the event itself: its key in the detector and first_seen. */
static enum mrd_code event_id(const struct bgp_event *ev, const json_t *j,
                              char out[MRD_UUID_STR_LEN + 1], struct mrd_err *err)
{
    char name[512];
    const json_t *prefix = json_object_get(j, "prefix");
    int n = snprintf(name, sizeof(name), "%s|%s|%s|%u|%u|%s", bgp_event_kind_name(ev->kind),
                     json_is_string(prefix) ? json_string_value(prefix) : "",
                     ev->kind == BGP_EV_HIJACK ? ev->type : "",
                     ev->kind == BGP_EV_HIJACK ? ev->hijacker_as
                     : ev->kind == BGP_EV_LEAK ? ev->leak.leaker_as
                                               : 0,
                     ev->first_seen, ev->group != NULL ? ev->group : "");
    if (n < 0 || (size_t)n >= sizeof(name))
        return mrd_err_set(err, MRD_E_TOOBIG, "alert: event name too long");
    return mrd_uuid_v5(BGP_STIX_ID_NS, name, (size_t)n, out, err);
}

enum mrd_code bgp_event_id(const struct bgp_event *ev, char out[BGP_EVENT_ID_LEN + 1],
                           struct mrd_err *err)
{
    char uuid[MRD_UUID_STR_LEN + 1];
    json_t *j = NULL;
    enum mrd_code rc = bgp_event_json(ev, &j, err);

    if (rc == MRD_OK)
        rc = event_id(ev, j, uuid, err);
    if (rc == MRD_OK)
        (void)snprintf(out, BGP_EVENT_ID_LEN + 1, "observed-data--%s", uuid);
    json_decref(j);
    return rc;
}

enum mrd_code bgp_event_stix(const struct bgp_event *ev, json_t *objects, json_t *seen,
                             struct mrd_err *err)
{
    char uuid[MRD_UUID_STR_LEN + 1];
    json_t *j = NULL, *refs = json_array();
    enum mrd_code rc;
    uint32_t origin, end = ev->last_seen;

    rc = bgp_event_json(ev, &j, err);
    if (rc == MRD_OK && refs == NULL)
        rc = mrd_err_set(err, MRD_E_NOMEM, "alert: out of memory");
    if (rc == MRD_OK)
        rc = event_id(ev, j, uuid, err);
    if (rc != MRD_OK)
        goto out;
    if (ev->kind == BGP_EV_HIJACK || ev->kind == BGP_EV_LEAK) {
        const char *t = ev->prefix.addr.afi == BGP_AFI_IPV6 ? "ipv6-addr" : "ipv4-addr";
        rc = sco(objects, seen, t, "value", json_incref(json_object_get(j, "prefix")), refs, err);
        if (rc == MRD_OK && ev->kind == BGP_EV_HIJACK && ev->has_hijacker)
            rc = as_sco(objects, seen, ev->hijacker_as, refs, err);
        if (rc == MRD_OK && ev->kind == BGP_EV_LEAK)
            rc = as_sco(objects, seen, ev->leak.leaker_as, refs, err);
        if (rc == MRD_OK && bgp_aspath_origin(ev->path, &origin))
            rc = as_sco(objects, seen, origin, refs, err);
        if (rc == MRD_OK)
            rc = as_sco(objects, seen, ev->peer_as, refs, err);
    } else {
        /* An outage is about the group's ASes. */
        for (size_t i = 0; rc == MRD_OK && i < ev->group_nasns; i++)
            rc = as_sco(objects, seen, ev->group_asns[i], refs, err);
    }
    if (rc != MRD_OK)
        goto out;
    if (ev->ended && ev->ended_at > end)
        end = ev->ended_at;
    rc = mrd_alert_observed(&sensor, objects, uuid, (int64_t)ev->first_seen * 1000000,
                            (int64_t)end * 1000000, (int64_t)(ev->peers > 0 ? ev->peers : 1), refs,
                            j, err);
out:
    json_decref(j);
    json_decref(refs);
    return rc;
}
