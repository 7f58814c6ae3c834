/*
 * The sensors' alerts for the console's pages (Routing, DNS): the newest
 * version of each observed-data under one alert extension that the reader
 * may read, from every collection it may read, newest first_seen first.
 *
 * Rows come from store_objects_query over each collection the reader may
 * read, with dash__view_may_read() (THE policy check) as the visibility
 * callback: an alert the reader may not read contributes nothing, not
 * even to a count. For a partner, each object is minimised as a TAXII
 * read by its org would be (privacy.h), after the read decision.
 */
#include "dash/dash_int.h"

#include <string.h>

#include "core/alloc.h"
#include "core/json.h"

struct sa {
    const struct dash_view *view;
    const struct privacy_policy *privacy; /* partner readers: minimise first */
    struct privacy_scope scope;
    const struct dash_alerts_spec *spec;
    int64_t coll;
    json_t *alerts; /* id -> alert */
    size_t n;
    bool more;
};

static bool sa_visible(void *ctx, const struct store_row *row)
{
    struct sa *r = ctx;
    return dash__view_may_read(r->view, r->coll, row);
}

void dash__alert_copy(json_t *to, const json_t *from, const char *key)
{
    json_t *v = json_object_get(from, key);
    if (v != NULL)
        (void)json_object_set(to, key, v);
}

static enum mrd_code sa_emit(void *ctx, const struct store_row *row, struct mrd_err *err)
{
    struct sa *r = ctx;
    const struct dash_view_coll *vc = dash__view_find(r->view, r->coll);
    json_t *o = json_loadb(row->body, row->body_len, 0, NULL), *ext, *a, *old;
    const char *id;

    if (o != NULL && r->privacy != NULL) {
        enum privacy_outcome po = PRIVACY_AS_IS;
        enum mrd_code rc = privacy_minimise(r->privacy, &r->scope, o, &po, err);
        if (rc != MRD_OK || po == PRIVACY_WITHHELD) {
            json_decref(o);
            return rc;
        }
    }
    ext = json_object_get(json_object_get(o, "extensions"), r->spec->ext_id);
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
    a = r->spec->alert_of(o, ext, policy_tlp_name(row->policy.tlp), vc->coll.id);
    json_decref(o);
    if (a == NULL || json_object_set_new(a, "_v", json_integer(row->version_usec)) != 0 ||
        json_object_set_new(r->alerts, id, a) != 0)
        return mrd_err_set(err, MRD_E_NOMEM, "%s: out of memory", r->spec->what);
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

enum mrd_code dash__alerts(struct store *st, const struct dash_who *who,
                           const struct privacy_policy *privacy, const char *org_name,
                           const struct dash_alerts_spec *spec, json_t **ret_list, bool *ret_more,
                           struct mrd_err *err)
{
    static const char *const types[] = {"observed-data"};
    struct store_match m = {.types = types, .n_types = 1, .versions = STORE_VER_LAST};
    struct dash_view view = {0};
    struct sa r = {.view = &view,
                   .privacy = who->relation == POLICY_REL_PARTNER ? privacy : NULL,
                   .scope = {.org = org_name},
                   .spec = spec};
    json_t *list = NULL, *a;
    json_t **v = NULL;
    const char *key;
    size_t k = 0;
    enum mrd_code rc = dash__view_load(st, who, &view, err);

    r.alerts = json_object();
    if (rc == MRD_OK && r.alerts == NULL)
        rc = mrd_err_set(err, MRD_E_NOMEM, "%s: out of memory", spec->what);
    for (size_t i = 0; rc == MRD_OK && i < view.n && !r.more; i++) {
        struct store_query q = {.collection = view.c[i].coll.key,
                                .added_after = STORE_TIME_NONE,
                                .match = &m,
                                .limit = spec->scan_max,
                                .want_body = true};
        struct store_query_result res;
        if (!view.c[i].can_read)
            continue;
        r.coll = view.c[i].coll.key;
        rc = store_objects_query(st, &q, sa_visible, sa_emit, &r, &res, err);
        if (rc == MRD_OK && (res.more || r.n >= spec->max))
            r.more = true;
    }
    if (rc != MRD_OK)
        goto out;
    v = mrd_calloc(r.n + 1, sizeof(*v));
    list = json_array();
    if (v == NULL || list == NULL) {
        rc = mrd_err_set(err, MRD_E_NOMEM, "%s: out of memory", spec->what);
        goto out;
    }
    json_object_foreach(r.alerts, key, a)
    {
        if (k < r.n)
            v[k++] = a;
    }
    if (k > 0)
        qsort(v, k, sizeof(*v), by_first_seen);
    for (size_t i = 0; i < k && i < spec->max; i++) {
        (void)json_object_del(v[i], "_v");
        if (json_array_append(list, v[i]) != 0) {
            rc = mrd_err_set(err, MRD_E_NOMEM, "%s: out of memory", spec->what);
            goto out;
        }
    }
    *ret_list = list;
    *ret_more = r.more;
    list = NULL;
out:
    mrd_free(v);
    json_decref(list);
    json_decref(r.alerts);
    dash__view_release(&view);
    return rc;
}
