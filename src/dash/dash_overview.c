/*
 * The overview's figures (GET /api/v1/overview?days=N): objects received
 * per hour or day by TLP and by source, sightings by reporter, the
 * most-sighted indicators, and indicators from partners nobody here has
 * sighted yet.
 *
 * Every figure is computed from rows the reader may read and nothing
 * else: the scans are store_objects_query() over the window (the
 * (collection, date_added) index, so only the window's rows are read)
 * with dash__view_may_read() deciding each row, exactly as TAXII would
 * for this org. So no chart point, count or list entry can come from an
 * object the org could not fetch.
 */
#include "dash/dash_int.h"

#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/json.h"
#include "core/str.h"
#include "core/timestamp.h"

#define HOUR_USEC ((int64_t)3600 * 1000000)
#define DAY_USEC (24 * HOUR_USEC)
#define OVERVIEW_MAX_DAYS 30
#define OVERVIEW_TOP 10
#define OVERVIEW_NEW 20
#define OVERVIEW_MAX_SIGHTINGS 1000000 /* distinct sightings folded in one answer */

struct ov {
    struct store *st;
    const struct dash_view *view;
    int64_t coll;
    int64_t start, size;
    size_t nb;
    json_t *by_tlp, *by_source; /* name -> [counts] */
    json_t *sightings;          /* sighting id -> {v, at, count, by, of, local} */
    json_t *partner;            /* [ {id, source, date_added, tlp, label?} ] newest last */
    uint64_t received, partner_total;
};

static bool visible(void *ctx, const struct store_row *row)
{
    struct ov *o = ctx;

    return dash__view_may_read(o->view, o->coll, row);
}

static enum mrd_code bump(json_t *map, const char *key, size_t nb, size_t i, json_int_t by)
{
    json_t *a = json_object_get(map, key);

    if (a == NULL) {
        a = json_array();
        for (size_t k = 0; a != NULL && k < nb; k++)
            if (json_array_append_new(a, json_integer(0)) != 0)
                break;
        if (a == NULL || json_array_size(a) != nb || json_object_set_new(map, key, a) != 0)
            return MRD_E_NOMEM;
    }
    return json_integer_set(json_array_get(a, i), json_integer_value(json_array_get(a, i)) + by) ==
                   0
               ? MRD_OK
               : MRD_E_NOMEM;
}

static size_t bucket_of(const struct ov *o, int64_t t)
{
    size_t i;

    if (t < o->start)
        return 0;
    i = (size_t)((t - o->start) / o->size);
    return i < o->nb ? i : o->nb - 1;
}

static enum mrd_code received(void *ctx, const struct store_row *row, struct mrd_err *err)
{
    struct ov *o = ctx;
    size_t i = bucket_of(o, row->date_added);
    char src[STORE_PEER_MAX + 1] = "local";
    enum mrd_code rc;

    if (row->source_peer != NULL)
        (void)snprintf(src, sizeof(src), "%.*s", (int)row->source_peer_len, row->source_peer);
    rc = bump(o->by_tlp, policy_tlp_name(row->policy.tlp), o->nb, i, 1);
    if (rc == MRD_OK)
        rc = bump(o->by_source, src, o->nb, i, 1);
    if (rc != MRD_OK)
        return mrd_err_set(err, rc, "overview: out of memory");
    o->received++;
    if (row->source_peer != NULL && mrd_str_eq(row->type, row->type_len, "indicator")) {
        char added[MRD_TIME_TAXII_LEN + 1];
        o->partner_total++;
        mrd_time_format_taxii(row->date_added, added);
        if (json_array_size(o->partner) >= 4 * OVERVIEW_NEW)
            (void)json_array_remove(o->partner, 0);
        (void)json_array_append_new(
            o->partner, json_pack("{s:s%,s:s,s:s,s:s}", "id", row->id, row->id_len, "source", src,
                                  "date_added", added, "tlp", policy_tlp_name(row->policy.tlp)));
    }
    return MRD_OK;
}

static int64_t ts(const json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    struct mrd_time t;

    if (s == NULL || mrd_time_parse(s, strlen(s), &t, NULL) != MRD_OK)
        return STORE_TIME_NONE;
    return mrd_time_to_usec(&t);
}

/* Sightings: each one counts once, as its newest readable version. */
static enum mrd_code sighting(void *ctx, const struct store_row *row, struct mrd_err *err)
{
    struct ov *o = ctx;
    struct mrd_json_limits lim = {.max_bytes = STORE_OBJECT_MAX, .max_depth = 64};
    json_t *s = NULL, *old, *e, *v;
    const char *of, *by = NULL;
    char id[STORE_STIX_ID_MAX + 1];
    int64_t at;
    json_int_t count;

    if (mrd_json_parse(row->body, row->body_len, &lim, &s, NULL) != MRD_OK)
        return MRD_OK;
    (void)snprintf(id, sizeof(id), "%.*s", (int)row->id_len, row->id);
    old = json_object_get(o->sightings, id);
    if (old != NULL && json_integer_value(json_object_get(old, "v")) >= row->version_usec)
        goto out;
    if (old == NULL && json_object_size(o->sightings) >= OVERVIEW_MAX_SIGHTINGS)
        goto out;
    of = json_string_value(json_object_get(s, "sighting_of_ref"));
    by = json_string_value(json_object_get(s, "created_by_ref"));
    if (by == NULL)
        by = json_string_value(json_array_get(json_object_get(s, "where_sighted_refs"), 0));
    v = json_object_get(s, "count");
    count = json_is_integer(v) ? json_integer_value(v) : 1; /* STIX 2.1 §5.7 */
    at = ts(s, "first_seen");
    if (at == STORE_TIME_NONE)
        at = row->date_added;
    e = json_pack("{s:I,s:I,s:I,s:s,s:s,s:b}", "v", (json_int_t)row->version_usec, "at",
                  (json_int_t)at, "count", count < 0 ? (json_int_t)0 : count, "by",
                  by != NULL ? by : "unknown", "of", of != NULL ? of : "", "local",
                  row->policy.local);
    if (e == NULL || json_object_set_new(o->sightings, id, e) != 0) {
        json_decref(s);
        return mrd_err_set(err, MRD_E_NOMEM, "overview: out of memory");
    }
out:
    json_decref(s);
    return MRD_OK;
}

static enum mrd_code scan(struct ov *o, const char *type,
                          enum mrd_code (*emit)(void *, const struct store_row *, struct mrd_err *),
                          struct mrd_err *err)
{
    const char *types[1] = {type};
    struct store_match m = {.versions = STORE_VER_ALL, .types = types, .n_types = type ? 1 : 0};
    enum mrd_code rc = MRD_OK;

    for (size_t i = 0; i < o->view->n && rc == MRD_OK; i++) {
        struct store_query q = {.collection = o->view->c[i].coll.key,
                                .added_after = o->start - 1,
                                .match = &m,
                                .want_body = type != NULL};
        struct store_query_result res;
        if (!o->view->c[i].can_read)
            continue;
        o->coll = q.collection;
        rc = store_objects_query(o->st, &q, visible, emit, o, &res, err);
    }
    return rc;
}

struct first_body {
    const struct dash_view *view;
    int64_t coll;
    json_t *obj;
};

static bool fb_visible(void *ctx, const struct store_row *row)
{
    struct first_body *f = ctx;

    return dash__view_may_read(f->view, f->coll, row);
}

static enum mrd_code fb_emit(void *ctx, const struct store_row *row, struct mrd_err *err)
{
    struct first_body *f = ctx;
    struct mrd_json_limits lim = {.max_bytes = STORE_OBJECT_MAX, .max_depth = 64};

    (void)err;
    if (f->obj == NULL)
        (void)mrd_json_parse(row->body, row->body_len, &lim, &f->obj, NULL);
    return MRD_OK;
}

/* The newest readable version of id (parsed), or NULL. */
static json_t *readable(struct store *st, const struct dash_view *view, const char *id)
{
    const char *ids[1] = {id};
    struct store_match m = {.ids = ids, .n_ids = 1};
    struct first_body f = {.view = view};

    for (size_t i = 0; i < view->n && f.obj == NULL; i++) {
        struct store_query q = {.collection = view->c[i].coll.key,
                                .added_after = STORE_TIME_NONE,
                                .match = &m,
                                .limit = 1,
                                .want_body = true};
        struct store_query_result res;
        if (!view->c[i].can_read)
            continue;
        f.coll = q.collection;
        if (store_objects_query(st, &q, fb_visible, fb_emit, &f, &res, NULL) != MRD_OK)
            break;
    }
    return f.obj;
}

static json_t *name_of(struct store *st, const struct dash_view *view, const char *id)
{
    json_t *o = readable(st, view, id), *n = NULL;
    static const char *const keys[] = {"name", "value", "pattern"};

    for (size_t i = 0; o != NULL && n == NULL && i < 3; i++)
        if (json_is_string(json_object_get(o, keys[i])))
            n = json_incref(json_object_get(o, keys[i]));
    json_decref(o);
    return n;
}

static int by_count(const void *a, const void *b)
{
    json_int_t x = json_integer_value(json_object_get(*(json_t *const *)a, "count"));
    json_int_t y = json_integer_value(json_object_get(*(json_t *const *)b, "count"));

    return x < y ? 1 : x > y ? -1 : 0;
}

enum mrd_code dash__overview(struct store *st, const struct dash_who *who, unsigned days,
                             json_t **ret, struct mrd_err *err)
{
    struct dash_view view;
    struct ov o = {.st = st};
    int64_t now = mrd_time_now_usec();
    json_t *by_rep = json_object(), *per_ind = json_object(), *names = json_object();
    json_t *seen_local = json_object(), *buckets = json_array(), *top = json_array();
    json_t *fresh = json_array(), *v;
    const char *k;
    char t[MRD_TIME_TAXII_LEN + 1];
    uint64_t sight_total = 0;
    enum mrd_code rc;

    if (days == 0 || days > OVERVIEW_MAX_DAYS)
        days = 7;
    o.size = days <= 2 ? HOUR_USEC : DAY_USEC;
    o.start = (now - (int64_t)days * DAY_USEC) / o.size * o.size;
    o.nb = (size_t)((now - o.start) / o.size) + 1;
    o.by_tlp = json_object();
    o.by_source = json_object();
    o.sightings = json_object();
    o.partner = json_array();
    rc = dash__view_load(st, who, &view, err);
    if (rc != MRD_OK)
        goto out;
    o.view = &view;
    rc = scan(&o, NULL, received, err);
    if (rc == MRD_OK)
        rc = scan(&o, "sighting", sighting, err);
    if (rc != MRD_OK)
        goto done;
    for (size_t i = 0; i < o.nb; i++) {
        mrd_time_format_taxii(o.start + (int64_t)i * o.size, t);
        (void)json_array_append_new(buckets, json_string(t));
    }
    json_object_foreach(o.sightings, k, v)
    {
        const char *by = json_string_value(json_object_get(v, "by"));
        const char *of = json_string_value(json_object_get(v, "of"));
        json_int_t c = json_integer_value(json_object_get(v, "count"));
        json_t *e, *name;
        size_t i = bucket_of(&o, json_integer_value(json_object_get(v, "at")));

        (void)k;
        sight_total += (uint64_t)c;
        name = json_object_get(names, by);
        if (name == NULL) {
            name = name_of(st, &view, by);
            if (name == NULL)
                name = json_string(by);
            (void)json_object_set_new(names, by, name);
        }
        if (bump(by_rep, json_string_value(name), o.nb, i, c) != MRD_OK) {
            rc = mrd_err_set(err, MRD_E_NOMEM, "overview: out of memory");
            goto done;
        }
        if (of[0] == '\0')
            continue;
        if (json_is_true(json_object_get(v, "local")))
            (void)json_object_set_new(seen_local, of, json_true());
        e = json_object_get(per_ind, of);
        if (e == NULL) {
            e = json_pack("{s:s,s:I,s:I}", "indicator", of, "count", (json_int_t)0, "sightings",
                          (json_int_t)0);
            (void)json_object_set_new(per_ind, of, e);
        }
        (void)json_object_set_new(
            e, "count", json_integer(json_integer_value(json_object_get(e, "count")) + c));
        (void)json_object_set_new(
            e, "sightings", json_integer(json_integer_value(json_object_get(e, "sightings")) + 1));
    }
    {
        size_t n = json_object_size(per_ind), i = 0;
        json_t **arr = mrd_calloc(n ? n : 1, sizeof(*arr));
        if (arr == NULL) {
            rc = mrd_err_set(err, MRD_E_NOMEM, "overview: out of memory");
            goto done;
        }
        json_object_foreach(per_ind, k, v) arr[i++] = v;
        qsort(arr, n, sizeof(*arr), by_count);
        for (i = 0; i < n && i < OVERVIEW_TOP; i++) {
            json_t *e = json_deep_copy(arr[i]);
            json_t *lab = name_of(st, &view, json_string_value(json_object_get(e, "indicator")));
            if (lab != NULL)
                (void)json_object_set_new(e, "label", lab);
            (void)json_array_append_new(top, e);
        }
        mrd_free(arr);
    }
    /* partner indicators of the window nobody here has sighted, newest first */
    for (size_t i = json_array_size(o.partner); i-- > 0 && json_array_size(fresh) < OVERVIEW_NEW;) {
        json_t *e = json_array_get(o.partner, i);
        const char *id = json_string_value(json_object_get(e, "id"));
        json_t *lab;
        if (json_object_get(seen_local, id) != NULL)
            continue;
        e = json_deep_copy(e);
        lab = name_of(st, &view, id);
        if (lab != NULL)
            (void)json_object_set_new(e, "label", lab);
        (void)json_array_append_new(fresh, e);
    }
    mrd_time_format_taxii(o.start, t);
    *ret = json_pack("{s:i,s:s,s:s,s:O,s:{s:O,s:O,s:I},s:{s:O,s:I},s:O,s:O,s:I}", "days", (int)days,
                     "bucket", o.size == HOUR_USEC ? "hour" : "day", "start", t, "buckets", buckets,
                     "received", "by_tlp", o.by_tlp, "by_source", o.by_source, "total",
                     (json_int_t)o.received, "sightings", "by_reporter", by_rep, "total",
                     (json_int_t)sight_total, "top_sighted", top, "new_partner_indicators", fresh,
                     "partner_indicators", (json_int_t)o.partner_total);
    if (*ret == NULL)
        rc = mrd_err_set(err, MRD_E_NOMEM, "overview: out of memory");
done:
    dash__view_release(&view);
out:
    json_decref(o.by_tlp);
    json_decref(o.by_source);
    json_decref(o.sightings);
    json_decref(o.partner);
    json_decref(by_rep);
    json_decref(per_ind);
    json_decref(names);
    json_decref(seen_local);
    json_decref(buckets);
    json_decref(top);
    json_decref(fresh);
    return rc;
}
