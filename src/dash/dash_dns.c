/*
 * The console's DNS page (GET /api/v1/dns): the DNS sensor's alerts
 * (observed-data under the Meridian DNS alert extension, docs/dns.md)
 * through the read decision (dash__alerts), newest version of each; which
 * are open (seen in the sensor's last round, not outage-end); and each
 * watched zone's state. The node's own org only: dash_api.c refuses
 * others.
 */
#include "dash/dash_int.h"

#include <string.h>

#include "core/json.h"
#include "dns/dns.h"

#define DASH_DNS_META_ROUND "dns_sensor_round" /* kept by the sensor (src/sensor) */

static json_t *alert_of(const json_t *o, const json_t *ext, const char *tlp, const char *coll)
{
    static const char *const keys[] = {"kind",  "zone",     "name",     "vantage",    "field",
                                       "cause", "expected", "observed", "first_seen", "last_seen",
                                       "ended", "evidence", "related",  "routing"};
    json_t *a;

    if (!json_is_string(json_object_get(ext, "kind")) ||
        !json_is_string(json_object_get(ext, "zone")))
        return NULL;
    a = json_pack("{s:O, s:s, s:s}", "id", json_object_get(o, "id"), "tlp", tlp, "collection",
                  coll);
    if (a == NULL)
        return NULL;
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        dash__alert_copy(a, ext, keys[i]);
    return a;
}

/* The zone's entry in zones (created with state "ok" when missing). */
static json_t *zone_entry(json_t *zones, const char *zone)
{
    json_t *z = json_object_get(zones, zone);
    if (z == NULL) {
        z = json_pack("{s:s, s:s, s:i, s:[]}", "zone", zone, "state", "ok", "open", 0, "kinds");
        if (z == NULL || json_object_set_new(zones, zone, z) != 0)
            return NULL;
    }
    return z;
}

enum mrd_code dash__dns(struct store *st, const struct dash_who *who,
                        const struct privacy_policy *privacy, const char *org_name,
                        const json_t *sensor, json_t **ret, struct mrd_err *err)
{
    static const struct dash_alerts_spec spec = {DNS_STIX_EXT_ID, alert_of, DASH_ROUTING_SCAN_MAX,
                                                 DASH_DNS_MAX, "dns"};
    char round[STORE_META_VAL_MAX + 1] = "";
    json_t *list = NULL, *zones = json_object(), *zl = json_array(), *a, *z, *out = NULL;
    const char *key;
    bool more = false;
    size_t i;
    enum mrd_code rc = store_meta_get(st, DASH_DNS_META_ROUND, round, sizeof(round), err);

    if (rc == MRD_E_NOTFOUND)
        rc = MRD_OK; /* the sensor never ran here */
    if (rc == MRD_OK && (zones == NULL || zl == NULL))
        rc = mrd_err_set(err, MRD_E_NOMEM, "dns: out of memory");
    if (rc == MRD_OK)
        rc = dash__alerts(st, who, privacy, org_name, &spec, &list, &more, err);
    if (rc != MRD_OK)
        goto out;
    /* Watched zones first (from the running sensor), quiet until found. */
    json_array_foreach(json_object_get(sensor, "zones"), i, a)
    {
        if (json_is_string(a) && zone_entry(zones, json_string_value(a)) == NULL)
            rc = mrd_err_set(err, MRD_E_NOMEM, "dns: out of memory");
    }
    json_array_foreach(list, i, a)
    {
        const char *kind = json_string_value(json_object_get(a, "kind"));
        const char *last = json_string_value(json_object_get(a, "last_seen"));
        /* Open: one the running sensor lists as open (a lasting finding
         * is not stored every round, docs/dns.md); without the sensor's
         * list, seen in the last round or in the one being stored now (its
         * alerts go in before its time does): same-format RFC 3339. */
        const json_t *ids = json_object_get(sensor, "open");
        bool open =
            strcmp(kind, "outage-end") != 0 &&
            (json_is_array(ids) ? mrd_json_array_has(ids, json_object_get(a, "id"))
                                : round[0] != '\0' && last != NULL && strcmp(last, round) >= 0);
        json_t *kinds;
        if (rc != MRD_OK)
            break;
        (void)json_object_set_new(a, "open", json_boolean(open));
        z = zone_entry(zones, json_string_value(json_object_get(a, "zone")));
        if (z == NULL) {
            rc = mrd_err_set(err, MRD_E_NOMEM, "dns: out of memory");
            break;
        }
        if (!open)
            continue;
        (void)json_integer_set(json_object_get(z, "open"),
                               json_integer_value(json_object_get(z, "open")) + 1);
        (void)json_object_set_new(z, "state", json_string("findings"));
        kinds = json_object_get(z, "kinds");
        {
            bool have = false;
            size_t k;
            json_t *x;
            json_array_foreach(kinds, k, x) have = have || strcmp(json_string_value(x), kind) == 0;
            if (!have)
                (void)json_array_append_new(kinds, json_string(kind));
        }
    }
    if (rc != MRD_OK)
        goto out;
    json_object_foreach(zones, key, z)
    {
        (void)json_object_set_new(z, "last_check",
                                  round[0] != '\0' ? json_string(round) : json_null());
        if (json_array_append(zl, z) != 0) {
            rc = mrd_err_set(err, MRD_E_NOMEM, "dns: out of memory");
            goto out;
        }
    }
    out = json_pack("{s:O, s:O, s:o, s:b}", "zones", zl, "alerts", list, "round",
                    round[0] != '\0' ? json_string(round) : json_null(), "more", more);
    if (out == NULL)
        rc = mrd_err_set(err, MRD_E_NOMEM, "dns: out of memory");
out:
    json_decref(list);
    json_decref(zones);
    json_decref(zl);
    if (rc == MRD_OK)
        *ret = out;
    return rc;
}
