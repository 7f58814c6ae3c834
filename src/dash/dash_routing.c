/*
 * The console's Routing page (GET /api/v1/routing): the routing alerts of
 * the BGP sensor (observed-data objects under the Meridian routing-alert
 * extension, docs/bgp.md) the reader may read, newest version of each, by
 * kind, and the sensor's status (VRP sources; BMP sessions when serve has
 * them).
 *
 * The rows come from dash__alerts (dash_alerts.c): through the read
 * decision, an alert the reader may not read contributes nothing, not
 * even to a count.
 */
#include "dash/dash_int.h"

#include <string.h>

#include "bgp/bgp.h"
#include "core/json.h"

/* The alert as the page shows it: kind (hijack, leak, outage,
 * rpki-invalid), the victim (prefix, AS), the culprit, times, the rest. */
static json_t *alert_of(const json_t *o, const json_t *ext, const char *tlp, const char *coll)
{
    const char *kind = json_string_value(json_object_get(ext, "kind"));
    const char *shown = kind;
    json_t *a, *victim_prefix, *victim_as = NULL, *culprit = NULL;

    if (kind == NULL)
        return NULL;
    if (strcmp(kind, "outage-end") == 0)
        shown = "outage";
    else if (strcmp(kind, "rov") == 0)
        shown = "rpki-invalid";
    victim_prefix = json_object_get(ext, "matched_prefix");
    if (victim_prefix == NULL)
        victim_prefix = json_object_get(ext, "prefix");
    if (strcmp(kind, "hijack") == 0) {
        culprit = json_object_get(ext, "hijacker_as");
    } else if (strcmp(kind, "leak") == 0) {
        culprit = json_object_get(ext, "leaker_as");
        victim_as = json_object_get(ext, "origin_as");
    } else if (strcmp(kind, "rov") == 0) {
        culprit = json_object_get(ext, "origin_as");
    }
    a = json_pack("{s:O, s:s, s:s, s:s, s:s}", "id", json_object_get(o, "id"), "kind", shown,
                  "event", kind, "tlp", tlp, "collection", coll);
    if (a == NULL)
        return NULL;
    if (victim_prefix != NULL)
        (void)json_object_set(a, "victim_prefix", victim_prefix);
    if (victim_as != NULL)
        (void)json_object_set(a, "victim_as", victim_as);
    if (culprit != NULL)
        (void)json_object_set(a, "culprit_as", culprit);
    static const char *const keys[] = {"prefix", "as_path", "peer_as", "first_seen", "last_seen",
                                       "ended",  "peers",   "type",    "rov",        "reason",
                                       "group",  "visible", "baseline"};
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        dash__alert_copy(a, ext, keys[i]);
    return a;
}

enum mrd_code dash__routing(struct store *st, const struct dash_who *who,
                            const struct privacy_policy *privacy, const char *org_name,
                            json_t **ret, struct mrd_err *err)
{
    static const struct dash_alerts_spec spec = {BGP_STIX_EXT_ID, alert_of, DASH_ROUTING_SCAN_MAX,
                                                 DASH_ROUTING_MAX, "routing"};
    json_t *out = NULL, *list = NULL, *by_kind = NULL, *a;
    bool more = false;
    size_t i;
    enum mrd_code rc = dash__alerts(st, who, privacy, org_name, &spec, &list, &more, err);

    if (rc != MRD_OK)
        return rc;
    by_kind =
        json_pack("{s:i, s:i, s:i, s:i}", "hijack", 0, "leak", 0, "outage", 0, "rpki-invalid", 0);
    if (by_kind == NULL) {
        json_decref(list);
        return mrd_err_set(err, MRD_E_NOMEM, "routing: out of memory");
    }
    json_array_foreach(list, i, a)
    {
        json_t *c = json_object_get(by_kind, json_string_value(json_object_get(a, "kind")));
        if (c != NULL)
            (void)json_integer_set(c, json_integer_value(c) + 1);
    }
    out = json_pack("{s:o, s:o, s:b}", "alerts", list, "by_kind", by_kind, "more", more);
    if (out == NULL)
        return mrd_err_set(err, MRD_E_NOMEM, "routing: out of memory");
    *ret = out;
    return MRD_OK;
}
