/*
 * The console's Routing page (GET /api/v1/routing): the routing alerts of
 * the BGP sensor (observed-data objects under the Meridian routing-alert
 * extension, docs/bgp.md) the reader may read, newest version of each, by
 * kind, and the sensor's status (VRP sources; BMP sessions when serve has
 * them).
 *
 * Rows come from store_objects_query over each collection the reader may
 * read, with dash__view_may_read() (THE policy check) as the visibility
 * callback: an alert the reader may not read contributes nothing, not
 * even to a count.
 */
#include "dash/dash_int.h"

#include <string.h>

#include "bgp/bgp.h"
#include "core/alloc.h"
#include "core/json.h"

struct rt {
    const struct dash_view *view;
    const struct privacy_policy *privacy; /* partner readers: minimise first */
    struct privacy_scope scope;
    int64_t coll;
    json_t *alerts; /* id -> alert */
    size_t n;
    bool more;
};

static bool rt_visible(void *ctx, const struct store_row *row)
{
    struct rt *r = ctx;
    return dash__view_may_read(r->view, r->coll, row);
}

static void copy(json_t *to, const json_t *from, const char *key)
{
    json_t *v = json_object_get(from, key);
    if (v != NULL)
        (void)json_object_set(to, key, v);
}

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
        copy(a, ext, keys[i]);
    return a;
}

static enum mrd_code rt_emit(void *ctx, const struct store_row *row, struct mrd_err *err)
{
    struct rt *r = ctx;
    const struct dash_view_coll *vc = dash__view_find(r->view, r->coll);
    json_t *o = json_loadb(row->body, row->body_len, 0, NULL), *ext, *a, *old;
    const char *id;

    if (o != NULL && r->privacy != NULL) {
        /* What leaves the node for a partner is minimised as a TAXII read
         * by its org would be (privacy.h), after the read decision. */
        enum privacy_outcome po = PRIVACY_AS_IS;
        enum mrd_code rc = privacy_minimise(r->privacy, &r->scope, o, &po, err);
        if (rc != MRD_OK || po == PRIVACY_WITHHELD) {
            json_decref(o);
            return rc;
        }
    }
    ext = json_object_get(json_object_get(o, "extensions"), BGP_STIX_EXT_ID);
    id = json_string_value(json_object_get(o, "id"));
    if (!json_is_object(ext) || id == NULL || vc == NULL) {
        json_decref(o);
        return MRD_OK;
    }
    old = json_object_get(r->alerts, id);
    /* The same alert in two collections, or two versions: keep the later. */
    if (old != NULL && json_integer_value(json_object_get(old, "_v")) >= row->version_usec) {
        json_decref(o);
        return MRD_OK;
    }
    a = alert_of(o, ext, policy_tlp_name(row->policy.tlp), vc->coll.id);
    json_decref(o);
    if (a == NULL || json_object_set_new(a, "_v", json_integer(row->version_usec)) != 0 ||
        json_object_set_new(r->alerts, id, a) != 0)
        return mrd_err_set(err, MRD_E_NOMEM, "routing: out of memory");
    if (old == NULL)
        r->n++;
    return MRD_OK;
}

static int by_first_seen(const void *pa, const void *pb)
{
    const json_t *a = *(json_t *const *)pa, *b = *(json_t *const *)pb;
    const char *x = json_string_value(json_object_get(a, "first_seen"));
    const char *y = json_string_value(json_object_get(b, "first_seen"));
    int c = strcmp(x ? x : "", y ? y : "");
    return c != 0 ? -c
                  : strcmp(json_string_value(json_object_get(a, "id")),
                           json_string_value(json_object_get(b, "id")));
}

enum mrd_code dash__routing(struct store *st, const struct dash_who *who,
                            const struct privacy_policy *privacy, const char *org_name,
                            json_t **ret, struct mrd_err *err)
{
    static const char *const types[] = {"observed-data"};
    struct store_match m = {.types = types, .n_types = 1, .versions = STORE_VER_LAST};
    struct dash_view view = {0};
    struct rt r = {.view = &view,
                   .privacy = who->relation == POLICY_REL_PARTNER ? privacy : NULL,
                   .scope = {.org = org_name}};
    json_t *out = NULL, *list = NULL, *by_kind = NULL, *a;
    json_t **v = NULL;
    const char *key;
    size_t k = 0;
    enum mrd_code rc = dash__view_load(st, who, &view, err);

    r.alerts = json_object();
    if (rc == MRD_OK && r.alerts == NULL)
        rc = mrd_err_set(err, MRD_E_NOMEM, "routing: out of memory");
    for (size_t i = 0; rc == MRD_OK && i < view.n && !r.more; i++) {
        struct store_query q = {.collection = view.c[i].coll.key,
                                .added_after = STORE_TIME_NONE,
                                .match = &m,
                                .limit = DASH_ROUTING_SCAN_MAX,
                                .want_body = true};
        struct store_query_result res;
        if (!view.c[i].can_read)
            continue;
        r.coll = view.c[i].coll.key;
        rc = store_objects_query(st, &q, rt_visible, rt_emit, &r, &res, err);
        if (rc == MRD_OK && (res.more || r.n >= DASH_ROUTING_MAX))
            r.more = true;
    }
    if (rc != MRD_OK)
        goto out;
    v = mrd_calloc(r.n + 1, sizeof(*v));
    list = json_array();
    by_kind =
        json_pack("{s:i, s:i, s:i, s:i}", "hijack", 0, "leak", 0, "outage", 0, "rpki-invalid", 0);
    if (v == NULL || list == NULL || by_kind == NULL) {
        rc = mrd_err_set(err, MRD_E_NOMEM, "routing: out of memory");
        goto out;
    }
    json_object_foreach(r.alerts, key, a)
    {
        if (k < r.n)
            v[k++] = a;
    }
    if (k > 0)
        qsort(v, k, sizeof(*v), by_first_seen);
    for (size_t i = 0; i < k && i < DASH_ROUTING_MAX; i++) {
        const char *kind = json_string_value(json_object_get(v[i], "kind"));
        json_t *c = json_object_get(by_kind, kind);
        (void)json_object_del(v[i], "_v");
        if (c != NULL)
            (void)json_integer_set(c, json_integer_value(c) + 1);
        if (json_array_append(list, v[i]) != 0) {
            rc = mrd_err_set(err, MRD_E_NOMEM, "routing: out of memory");
            goto out;
        }
    }
    out = json_pack("{s:O, s:O, s:b}", "alerts", list, "by_kind", by_kind, "more", r.more);
    if (out == NULL)
        rc = mrd_err_set(err, MRD_E_NOMEM, "routing: out of memory");
out:
    mrd_free(v);
    json_decref(list);
    json_decref(by_kind);
    json_decref(r.alerts);
    dash__view_release(&view);
    if (rc == MRD_OK)
        *ret = out;
    return rc;
}
