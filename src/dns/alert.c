/*
 * alert.c: findings as STIX 2.1 objects, in the shape every Meridian
 * sensor alert has (core/alert.h): an observed-data under the DNS alert
 * extension, referring to the domain-name SCOs of the zone and the name,
 * and to the ipv4-addr/ipv6-addr SCOs of addresses a vantage returned
 * that it should not have. The id is a UUIDv5 of the finding's key and
 * first_seen, so a later round's view of the same finding is a new
 * version (modified = last_seen) of the same object.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "core/alert.h"
#include "core/timestamp.h"
#include "core/uuid.h"
#include "dns/dns.h"

/* Version 1.2 of the extension-definition (version 1.1, modified
 * 2026-12-07T14:00:00.000Z, lacked related and routing; version 1.0, of
 * the same id, modified MRD_ALERT_DEFS_TIME, also lacked injection, the
 * validator vantage and the expires-soon and trust-anchor fields; their
 * alerts read the same). */
#define DNS_EXT_VERSION "1.2"
#define DNS_EXT_MODIFIED "2026-12-07T21:00:00.000Z"

static const char ext_schema[] =
    "Meridian DNS alert, version 1.2. A property extension of observed-data. Members: kind "
    "(delegation, divergence, injection, dnssec, outage, outage-end); zone; name; vantage (a "
    "resolver's name, authoritative for the parent's and the zone's own servers asked "
    "directly, or validator for the node's in-process validator); expected; observed; "
    "first_seen, last_seen (RFC 3339); ended (outage-end); cause (dnssec: signature-expired, "
    "signature-not-yet-valid, ds-mismatch, dnskey-missing, rrsig-missing, nsec-missing, "
    "unsupported-algorithm, other); field (delegation: ns, ds, glue, soa-serial, child-ns; "
    "outage: parent, servers, vantage; divergence and injection: the record type; dnssec: "
    "expires-soon, trust-anchor); evidence (servers, RCODE, EDE, why_bogus, TTLs; injection: "
    "rules, replies, reference; excuses with asn_source rib or pfx2as); related (the routing "
    "alerts of the node's BGP sensor open over the finding's addresses: id, kind, prefix or "
    "group, address); routing (outage, outage-end: per name server address its prefix routed "
    "or withdrawn, withdrawn_at, origins). Version 1.1 lacked related and routing; 1.0 also "
    "injection, validator, expires-soon and trust-anchor; their alerts keep their meaning. "
    "Specified in docs/dns.md of Meridian.";

static const struct mrd_alert_sensor sensor = {
    DNS_STIX_IDENTITY_ID,
    "Meridian DNS-stability sensor",
    "The `meridian dns` sensor of a Meridian node",
    DNS_STIX_EXT_ID,
    "Meridian DNS alert",
    "Delegation change, forged or injected answer, DNSSEC failure and outage alerts of the "
    "Meridian DNS sensor",
    ext_schema,
    DNS_EXT_VERSION,
    DNS_EXT_MODIFIED};

enum mrd_code dns_stix_definitions(json_t *objects, struct mrd_err *err)
{
    return mrd_alert_definitions(&sensor, objects, err);
}

static int64_t usec_of(const json_t *f, const char *member, int64_t dflt)
{
    const json_t *v = json_object_get(f, member);
    struct mrd_time t;
    if (!json_is_string(v) ||
        mrd_time_parse(json_string_value(v), json_string_length(v), &t, NULL) != MRD_OK)
        return dflt;
    return mrd_time_to_usec(&t);
}

enum mrd_code dns_finding_id(const json_t *finding, char out[DNS_FINDING_ID_LEN + 1],
                             struct mrd_err *err)
{
    char uuid[MRD_UUID_STR_LEN + 1];
    const char *key = json_string_value(json_object_get(finding, "key"));
    const char *first = json_string_value(json_object_get(finding, "first_seen"));
    struct mrd_buf idname;
    enum mrd_code rc;

    if (key == NULL || first == NULL)
        return mrd_err_set(err, MRD_E_INVAL, "alert: finding without key, first_seen");
    mrd_buf_init(&idname, 4096);
    rc = mrd_buf_printf(&idname, err, "%s|%s", key, first);
    if (rc == MRD_OK)
        rc = mrd_uuid_v5(DNS_STIX_ID_NS, idname.data, idname.len, uuid, err);
    if (rc == MRD_OK)
        (void)snprintf(out, DNS_FINDING_ID_LEN + 1, "observed-data--%s", uuid);
    mrd_buf_release(&idname);
    return rc;
}

enum mrd_code dns_finding_stix(const json_t *finding, json_t *objects, json_t *seen,
                               struct mrd_err *err)
{
    char id[DNS_FINDING_ID_LEN + 1];
    const char *key = json_string_value(json_object_get(finding, "key"));
    const char *zone = json_string_value(json_object_get(finding, "zone"));
    const char *name = json_string_value(json_object_get(finding, "name"));
    const char *first = json_string_value(json_object_get(finding, "first_seen"));
    json_t *refs = json_array(), *ext = NULL;
    enum mrd_code rc = MRD_OK;
    int64_t f_us, l_us;
    size_t i;
    json_t *a;

    if (key == NULL || zone == NULL || name == NULL || first == NULL) {
        rc = mrd_err_set(err, MRD_E_INVAL, "alert: finding without key, zone, name, first_seen");
        goto out;
    }
    if (refs == NULL) {
        rc = mrd_err_set(err, MRD_E_NOMEM, "alert: out of memory");
        goto out;
    }
    rc = dns_finding_id(finding, id, err);
    /* domain-name values carry no final dot (STIX 2.1 §6.3). */
    if (rc == MRD_OK && strcmp(zone, ".") != 0)
        rc = mrd_alert_sco(objects, seen, "domain-name", "value",
                           json_stringn(zone, strlen(zone) - 1), refs, err);
    if (rc == MRD_OK && strcmp(name, zone) != 0 && strcmp(name, ".") != 0)
        rc = mrd_alert_sco(objects, seen, "domain-name", "value",
                           json_stringn(name, strlen(name) - 1), refs, err);
    if (rc == MRD_OK && json_is_array(json_object_get(finding, "observed")) &&
        (strcmp(json_string_value(json_object_get(finding, "kind")), "divergence") == 0 ||
         strcmp(json_string_value(json_object_get(finding, "kind")), "injection") == 0)) {
        json_array_foreach(json_object_get(finding, "observed"), i, a)
        {
            uint8_t b[16];
            const char *s = json_string_value(a);
            if (rc != MRD_OK || s == NULL)
                continue;
            if (inet_pton(AF_INET, s, b) == 1)
                rc = mrd_alert_sco(objects, seen, "ipv4-addr", "value", json_string(s), refs, err);
            else if (inet_pton(AF_INET6, s, b) == 1)
                rc = mrd_alert_sco(objects, seen, "ipv6-addr", "value", json_string(s), refs, err);
        }
    }
    if (rc != MRD_OK)
        goto out;
    ext = json_deep_copy(finding);
    if (ext == NULL || json_object_del(ext, "key") != 0) {
        rc = mrd_err_set(err, MRD_E_NOMEM, "alert: out of memory");
        goto out;
    }
    f_us = usec_of(finding, "first_seen", 0);
    l_us = usec_of(finding, "ended", usec_of(finding, "last_seen", f_us));
    rc = mrd_alert_observed(&sensor, objects, id + strlen("observed-data--"), f_us, l_us, 1, refs,
                            ext, err);
out:
    json_decref(ext);
    json_decref(refs);
    return rc;
}
