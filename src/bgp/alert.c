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
#include "core/json.h"
#include "core/timestamp.h"
#include "core/uuid.h"

#define DEFS_TIME "2026-12-07T00:00:00.000Z" /* created/modified of the definitions */

static const char ext_schema[] =
    "Meridian routing alert, version 1.0. A property extension of observed-data. "
    "Members: kind (hijack, leak, outage, outage-end); prefix, as_path (ASNs, a set as a "
    "nested array), peer_as, origin_as, peers (routes carrying it at once) for hijack and "
    "leak; first_seen, last_seen, ended (RFC 3339 or null); hijack: type (ARTEMIS "
    "Prefix|Path|Data|Policy, e.g. S|0|-|-), hijacker_as, matched_prefix, rov, reason; "
    "leak: leaker_as, leak (valley or otc), learned_from, sent_to; outage, outage-end: "
    "group, visible, baseline, lowest, visible_v4, visible_v6, peers_v4, peers_v6. "
    "Specified in docs/bgp.md of Meridian.";

static enum mrd_code append(json_t *objects, json_t *o, struct mrd_err *err)
{
    if (o == NULL || json_array_append_new(objects, o) != 0)
        return mrd_err_set(err, MRD_E_NOMEM, "alert: out of memory");
    return MRD_OK;
}

enum mrd_code bgp_stix_definitions(json_t *objects, struct mrd_err *err)
{
    enum mrd_code rc;
    json_t *ident =
        json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "type", "identity", "spec_version",
                  "2.1", "id", BGP_STIX_IDENTITY_ID, "created", DEFS_TIME, "modified", DEFS_TIME,
                  "name", "Meridian routing-stability sensor", "identity_class", "system",
                  "description", "The `meridian bgp` sensor of a Meridian node");
    rc = append(objects, ident, err);
    if (rc != MRD_OK)
        return rc;
    return append(objects,
                  json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:[s]}", "type",
                            "extension-definition", "spec_version", "2.1", "id", BGP_STIX_EXT_ID,
                            "created_by_ref", BGP_STIX_IDENTITY_ID, "created", DEFS_TIME,
                            "modified", DEFS_TIME, "name", "Meridian routing alert", "description",
                            "Hijack, route leak and outage alerts of the Meridian BGP sensor",
                            "schema", ext_schema, "version", "1.0", "extension_types",
                            "property-extension"),
                  err);
}

/* An SCO with one ID contributing property (§2.9), appended once. */
static enum mrd_code sco(json_t *objects, json_t *seen, const char *type, const char *prop,
                         json_t *value, json_t *refs, struct mrd_err *err)
{
    char uuid[MRD_UUID_STR_LEN + 1], id[128];
    struct mrd_buf b;
    json_t *contrib = json_object(), *o;
    enum mrd_code rc;

    mrd_buf_init(&b, 4096);
    if (value == NULL || contrib == NULL || json_object_set(contrib, prop, value) != 0) {
        rc = mrd_err_set(err, MRD_E_NOMEM, "alert: out of memory");
        goto out;
    }
    rc = mrd_jcs_write(contrib, &b, err);
    if (rc == MRD_OK)
        rc = mrd_uuid_v5(MRD_UUID_STIX_NAMESPACE, b.data, b.len, uuid, err);
    if (rc != MRD_OK)
        goto out;
    (void)snprintf(id, sizeof(id), "%s--%s", type, uuid);
    for (size_t i = 0; i < json_array_size(refs); i++) {
        if (strcmp(json_string_value(json_array_get(refs, i)), id) == 0)
            goto out; /* e.g. the hijacker is the origin */
    }
    if (json_array_append_new(refs, json_string(id)) != 0) {
        rc = mrd_err_set(err, MRD_E_NOMEM, "alert: out of memory");
        goto out;
    }
    if (json_object_get(seen, id) != NULL)
        goto out;
    o = json_pack("{s:s, s:s, s:s, s:O}", "type", type, "spec_version", "2.1", "id", id, prop,
                  value);
    rc = append(objects, o, err);
    if (rc == MRD_OK && json_object_set_new(seen, id, json_true()) != 0)
        rc = mrd_err_set(err, MRD_E_NOMEM, "alert: out of memory");
out:
    json_decref(contrib);
    json_decref(value);
    mrd_buf_release(&b);
    return rc;
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

enum mrd_code bgp_event_stix(const struct bgp_event *ev, json_t *objects, json_t *seen,
                             struct mrd_err *err)
{
    char uuid[MRD_UUID_STR_LEN + 1], id[64], first[MRD_TIME_STIX_MS_LEN + 1],
        last[MRD_TIME_STIX_MS_LEN + 1];
    json_t *j = NULL, *refs = json_array(), *od;
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
    mrd_time_format_stix_ms((int64_t)ev->first_seen * 1000000, first);
    mrd_time_format_stix_ms((int64_t)end * 1000000, last);
    (void)snprintf(id, sizeof(id), "observed-data--%s", uuid);
    if (json_object_set_new(j, "extension_type", json_string("property-extension")) != 0) {
        rc = mrd_err_set(err, MRD_E_NOMEM, "alert: out of memory");
        goto out;
    }
    od = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:O, s:{s:O}}", "type",
                   "observed-data", "spec_version", "2.1", "id", id, "created_by_ref",
                   BGP_STIX_IDENTITY_ID, "created", first, "modified", last, "first_observed",
                   first, "last_observed", last, "number_observed",
                   (json_int_t)(ev->peers > 0 ? ev->peers : 1), "object_refs", refs, "extensions",
                   BGP_STIX_EXT_ID, j);
    rc = append(objects, od, err);
out:
    json_decref(j);
    json_decref(refs);
    return rc;
}
