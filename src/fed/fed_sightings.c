/*
 * The sightings roll-up and its JSON API (/api/v1/sightings/).
 *
 * Sightings travel like any object; this file only adds them up. The
 * roll-up is computed when asked, from exactly the sighting objects the
 * asking org may read (every row passes policy_may_read), so the API can
 * never reveal a count built from a sighting the reader could not fetch
 * through TAXII. A sighting held in several collections, or under several
 * versions, counts once (its latest version).
 */
#include "fed/fed_int.h"

#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/json.h"
#include "core/str.h"
#include "core/timestamp.h"
#include "http/http.h"
#include "policy/policy.h"

#define SIGHT_MAX_INDICATORS 100000 /* distinct indicators in one roll-up */

struct roll {
    json_t *names;    /* identity id -> name, for the reporting orgs */
    json_t *by_ind;   /* indicator id -> {count, sightings, orgs{}, first, last} */
    json_t *seen;     /* sighting ids already counted */
    const char *only; /* one indicator, or NULL */
    struct policy_reader reader;
};

static bool visible(void *ctx, const struct store_row *row)
{
    struct roll *r = ctx;

    return policy_may_read(&r->reader, &row->policy);
}

static int64_t ts_of(const json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    struct mrd_time t;

    if (s == NULL || mrd_time_parse(s, strlen(s), &t, NULL) != MRD_OK)
        return STORE_TIME_NONE;
    return mrd_time_to_usec(&t);
}

static enum mrd_code add_org(json_t *orgs, const json_t *v, struct mrd_err *err)
{
    const char *s = json_string_value(v);

    if (s == NULL || json_object_size(orgs) >= FED_SIGHT_MAX_ORGS)
        return MRD_OK;
    if (json_object_set_new(orgs, s, json_true()) != 0)
        return mrd_err_set(err, MRD_E_NOMEM, "roll-up");
    return MRD_OK;
}

static enum mrd_code emit(void *ctx, const struct store_row *row, struct mrd_err *err)
{
    struct roll *r = ctx;
    struct mrd_json_limits lim = {.max_bytes = STORE_OBJECT_MAX, .max_depth = 64};
    json_t *o = NULL, *e, *orgs, *wsr, *v;
    const char *ind, *sid;
    json_int_t count;
    int64_t first, last;
    enum mrd_code rc = MRD_OK;
    size_t i;

    if (mrd_json_parse(row->body, row->body_len, &lim, &o, NULL) != MRD_OK)
        return MRD_OK; /* stored bytes were validated; skip rather than fail the API */
    if (mrd_str_eq(row->type, row->type_len, "identity")) {
        const char *iid = json_string_value(json_object_get(o, "id"));
        json_t *nm = json_object_get(o, "name");
        if (iid != NULL && json_is_string(nm) && json_object_size(r->names) < SIGHT_MAX_INDICATORS)
            (void)json_object_set(r->names, iid, nm);
        goto out;
    }
    ind = json_string_value(json_object_get(o, "sighting_of_ref"));
    sid = json_string_value(json_object_get(o, "id"));
    if (ind == NULL || sid == NULL || (r->only != NULL && strcmp(ind, r->only) != 0) ||
        json_object_get(r->seen, sid) != NULL)
        goto out;
    if (json_object_set_new(r->seen, sid, json_true()) != 0) {
        rc = mrd_err_set(err, MRD_E_NOMEM, "roll-up");
        goto out;
    }
    e = json_object_get(r->by_ind, ind);
    if (e == NULL) {
        if (json_object_size(r->by_ind) >= SIGHT_MAX_INDICATORS)
            goto out;
        e = json_pack("{s:I,s:I,s:o,s:I,s:I}", "count", (json_int_t)0, "sightings", (json_int_t)0,
                      "orgs", json_object(), "first", (json_int_t)INT64_MAX, "last",
                      (json_int_t)INT64_MIN);
        if (e == NULL || json_object_set_new(r->by_ind, ind, e) != 0) {
            rc = mrd_err_set(err, MRD_E_NOMEM, "roll-up");
            goto out;
        }
    }
    /* STIX 2.1 §5.7: count defaults to 1 when absent. */
    v = json_object_get(o, "count");
    count = json_is_integer(v) ? json_integer_value(v) : 1;
    if (count < 0)
        count = 0;
    first = ts_of(o, "first_seen");
    last = ts_of(o, "last_seen");
    if (first == STORE_TIME_NONE)
        first = ts_of(o, "created");
    if (last == STORE_TIME_NONE)
        last = first;
    (void)json_object_set_new(
        e, "count", json_integer(json_integer_value(json_object_get(e, "count")) + count));
    (void)json_object_set_new(
        e, "sightings", json_integer(json_integer_value(json_object_get(e, "sightings")) + 1));
    if (first != STORE_TIME_NONE && first < json_integer_value(json_object_get(e, "first")))
        (void)json_object_set_new(e, "first", json_integer(first));
    if (last != STORE_TIME_NONE && last > json_integer_value(json_object_get(e, "last")))
        (void)json_object_set_new(e, "last", json_integer(last));
    /* Reporting orgs: the sighting's author, else where it was seen. */
    orgs = json_object_get(e, "orgs");
    v = json_object_get(o, "created_by_ref");
    if (v != NULL) {
        rc = add_org(orgs, v, err);
    } else {
        wsr = json_object_get(o, "where_sighted_refs");
        json_array_foreach(wsr, i, v)
        {
            rc = add_org(orgs, v, err);
            if (rc != MRD_OK)
                break;
        }
    }
out:
    json_decref(o);
    return rc;
}

struct coll_list {
    struct store_collection *c;
    size_t n, cap;
};

static enum mrd_code collect(void *ctx, const struct store_collection *c)
{
    struct coll_list *l = ctx;

    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        struct store_collection *p = mrd_realloc(l->c, cap * sizeof(*p));
        if (p == NULL)
            return MRD_E_NOMEM;
        l->c = p;
        l->cap = cap;
    }
    l->c[l->n++] = *c;
    return MRD_OK;
}

/* The public shape of one entry; orgs by identity name when the reader
 * can see the identity object, else by id. */
static json_t *entry_json(const char *ind, const json_t *e, const json_t *names)
{
    char first[MRD_TIME_TAXII_LEN + 1] = "", last[MRD_TIME_TAXII_LEN + 1] = "";
    json_int_t f = json_integer_value(json_object_get(e, "first"));
    json_int_t l = json_integer_value(json_object_get(e, "last"));
    json_t *orgs = json_array(), *out;
    const char *k;
    json_t *v;

    json_object_foreach(json_object_get(e, "orgs"), k, v)
    {
        const char *nm = json_string_value(json_object_get(names, k));
        (void)v;
        (void)json_array_append_new(orgs, json_string(nm != NULL ? nm : k));
    }
    if (f != INT64_MAX)
        mrd_time_format_taxii(f, first);
    if (l != INT64_MIN)
        mrd_time_format_taxii(l, last);
    out =
        json_pack("{s:s,s:O,s:O,s:o,s:s?,s:s?}", "indicator", ind, "count",
                  json_object_get(e, "count"), "sightings", json_object_get(e, "sightings"), "orgs",
                  orgs, "first_seen", first[0] ? first : NULL, "last_seen", last[0] ? last : NULL);
    return out;
}

static int by_count_desc(const void *a, const void *b)
{
    json_int_t x = json_integer_value(json_object_get(*(json_t *const *)a, "count"));
    json_int_t y = json_integer_value(json_object_get(*(json_t *const *)b, "count"));

    return x < y ? 1 : x > y ? -1 : 0;
}

enum mrd_code fed_sightings_json(struct store *st, int64_t org_key, const char *indicator,
                                 json_t **ret, struct mrd_err *err)
{
    static const char *const types[] = {"sighting", "identity"};
    struct roll r = {.only = indicator};
    struct coll_list cl = {0};
    struct store_org org;
    struct store_match m = {.types = types, .n_types = 2};
    json_t *out = NULL;
    enum mrd_code rc;

    r.by_ind = json_object();
    r.seen = json_object();
    r.names = json_object();
    if (r.by_ind == NULL || r.seen == NULL || r.names == NULL) {
        rc = mrd_err_set(err, MRD_E_NOMEM, "roll-up");
        goto out;
    }
    rc = store_org_get(st, NULL, org_key, &org, err);
    if (rc == MRD_OK)
        rc = store_collection_list(st, NULL, collect, &cl, err);
    if (rc != MRD_OK)
        goto out;
    for (size_t i = 0; i < cl.n; i++) {
        struct store_grant g;
        struct store_query q = {.collection = cl.c[i].key,
                                .added_after = STORE_TIME_NONE,
                                .match = &m,
                                .want_body = true};
        struct store_query_result res;

        rc = store_grant_get(st, org_key, cl.c[i].key, &g, err);
        if (rc != MRD_OK)
            goto out;
        if (!g.can_read && !cl.c[i].public_read)
            continue;
        r.reader = (struct policy_reader){
            .org_id = org.key,
            .relation = org.relation,
            .has_read_grant = g.can_read,
            .collection_public = cl.c[i].public_read,
            .community = cl.c[i].api_root,
            .community_len = strlen(cl.c[i].api_root),
        };
        rc = store_objects_query(st, &q, visible, emit, &r, &res, err);
        if (rc != MRD_OK)
            goto out;
    }
    if (indicator != NULL) {
        json_t *e = json_object_get(r.by_ind, indicator);
        if (e != NULL) {
            out = entry_json(indicator, e, r.names);
        } else {
            /* No visible sighting: the same answer whether or not the
             * indicator exists, so the API reveals nothing more. */
            out = json_pack("{s:s,s:i,s:i,s:[]}", "indicator", indicator, "count", 0, "sightings",
                            0, "orgs");
        }
    } else {
        size_t n = json_object_size(r.by_ind), k = 0;
        json_t **arr = mrd_calloc(n ? n : 1, sizeof(*arr));
        json_t *list = json_array();
        const char *key;
        json_t *v;

        if (arr == NULL || list == NULL) {
            mrd_free(arr);
            json_decref(list);
            rc = mrd_err_set(err, MRD_E_NOMEM, "roll-up");
            goto out;
        }
        json_object_foreach(r.by_ind, key, v) arr[k++] = entry_json(key, v, r.names);
        qsort(arr, k, sizeof(*arr), by_count_desc);
        for (size_t i = 0; i < k; i++)
            (void)json_array_append_new(list, arr[i]);
        mrd_free(arr);
        out = json_pack("{s:o}", "indicators", list);
    }
    if (out == NULL) {
        rc = mrd_err_set(err, MRD_E_NOMEM, "roll-up");
        goto out;
    }
    *ret = out;
out:
    json_decref(r.by_ind);
    json_decref(r.seen);
    json_decref(r.names);
    mrd_free(cl.c);
    return rc;
}
