/*
 * Objects as the reader sees them (the newest readable version of an id
 * across the collections it may read) and the edges between them: the
 * relationships, sightings and containers pointing at an object, found in
 * the store's reference index. An edge is shown only when the reader may
 * read the edge object AND the object at its other end; an unreadable
 * other end hides the edge exactly as a missing one would, so no id,
 * count or type of an object the reader may not read comes out.
 */
#include "dash/dash_int.h"

#include <string.h>

#include "core/alloc.h"
#include "core/json.h"
#include "core/str.h"

static bool obj_visible(void *ctx, const struct store_row *row)
{
    struct dash_obj *x = ctx;

    return dash__view_may_read(x->view, x->coll, row);
}

static enum mrd_code obj_emit(void *ctx, const struct store_row *row, struct mrd_err *err)
{
    struct dash_obj *x = ctx;
    json_t *e = dash__row_summary(x->view, x->coll, row);

    if (e == NULL)
        return mrd_err_set(err, MRD_E_NOMEM, "object: out of memory");
    (void)json_object_del(e, "label");
    if (json_array_size(x->versions) >= DASH_MAX_VERSIONS)
        json_decref(e);
    else if (json_array_append_new(x->versions, e) != 0)
        return mrd_err_set(err, MRD_E_NOMEM, "object: out of memory");
    if (row->source_peer != NULL) {
        char peer[STORE_PEER_MAX + 1];
        (void)snprintf(peer, sizeof(peer), "%.*s", (int)row->source_peer_len, row->source_peer);
        (void)json_object_set_new(x->peers, peer, json_true());
    }
    if (!x->any || row->version_usec > x->best_version ||
        (row->version_usec == x->best_version && row->date_added < x->best_added)) {
        char *b = mrd_strndup(row->body, row->body_len);
        if (b == NULL)
            return mrd_err_set(err, MRD_E_NOMEM, "object: out of memory");
        mrd_free(x->best);
        x->best = b;
        x->best_len = row->body_len;
        x->best_version = row->version_usec;
        x->best_added = row->date_added;
        x->best_tlp = row->policy.tlp;
        memset(&x->best_row, 0, sizeof(x->best_row));
        x->best_row.seq = row->seq;
        x->best_row.policy.tlp = row->policy.tlp;
        x->best_row.version_usec = row->version_usec;
        x->best_row.date_added = row->date_added;
        x->best_row.id_len = row->id_len < sizeof(x->best_id) ? row->id_len : 0;
        memcpy(x->best_id, row->id, x->best_row.id_len);
        x->best_row.id = x->best_id;
        x->any = true;
    }
    return MRD_OK;
}

enum mrd_code dash__object_load(struct store *st, const struct dash_view *view, const char *id,
                                struct dash_obj *x, struct mrd_err *err)
{
    const char *ids[1] = {id};
    struct store_match m = {.ids = ids, .n_ids = 1, .versions = STORE_VER_ALL};
    enum mrd_code rc = MRD_OK;

    x->view = view;
    x->versions = json_array();
    x->peers = json_object();
    if (x->versions == NULL || x->peers == NULL)
        return mrd_err_set(err, MRD_E_NOMEM, "object: out of memory");
    for (size_t i = 0; i < view->n && rc == MRD_OK; i++) {
        struct store_query q = {.collection = view->c[i].coll.key,
                                .added_after = STORE_TIME_NONE,
                                .match = &m,
                                .limit = DASH_MAX_VERSIONS,
                                .want_body = true};
        struct store_query_result res;
        if (!view->c[i].can_read)
            continue;
        x->coll = view->c[i].coll.key;
        rc = store_objects_query(st, &q, obj_visible, obj_emit, x, &res, err);
    }
    return rc;
}

void dash__object_release(struct dash_obj *x)
{
    json_decref(x->versions);
    json_decref(x->peers);
    mrd_free(x->best);
}

/* ---- edges ---- */

static const char *const role_names[] = {"container", "relationship", "relationship", "sighting"};

struct edges {
    struct store *st;
    const struct dash_view *view;
    const char *id;               /* the object the edges point at */
    const char *const *rel_types; /* NULL: every relationship type */
    json_t *out;
    json_t *seen; /* edge id -> true: versions fold into one edge */
    size_t max;
};

static bool edge_visible(void *ctx, int64_t coll, const struct store_row *row)
{
    return dash__view_may_read(((struct edges *)ctx)->view, coll, row);
}

/* {id, type, tlp, label} of the newest version of id the reader may read;
 * NULL when there is none (hidden and missing look alike). */
static json_t *other_end(struct store *st, const struct dash_view *view, const char *id,
                         struct mrd_err *err)
{
    struct dash_obj x = {0};
    struct mrd_json_limits lim = {.max_bytes = STORE_OBJECT_MAX, .max_depth = 64};
    json_t *o = NULL, *e = NULL;

    if (dash__object_load(st, view, id, &x, err) == MRD_OK && x.any &&
        mrd_json_parse(x.best, x.best_len, &lim, &o, NULL) == MRD_OK)
        e = json_pack("{s:s,s:O*,s:s,s:o*}", "id", id, "type", json_object_get(o, "type"), "tlp",
                      policy_tlp_name(x.best_tlp), "label", dash__label_of(o));
    json_decref(o);
    dash__object_release(&x);
    return e;
}

static enum mrd_code edge_emit(void *ctx, const struct store_found *f, struct mrd_err *err)
{
    struct edges *x = ctx;
    struct mrd_json_limits lim = {.max_bytes = STORE_OBJECT_MAX, .max_depth = 64};
    char id[STORE_STIX_ID_MAX + 1];
    const char *rtype = NULL, *other = NULL;
    json_t *body = NULL, *e = NULL, *end = NULL;
    enum mrd_code rc = MRD_OK;

    if (json_array_size(x->out) >= x->max)
        return MRD_OK;
    (void)snprintf(id, sizeof(id), "%.*s", (int)f->row->id_len, f->row->id);
    if (json_object_get(x->seen, id) != NULL)
        return MRD_OK;
    if (mrd_json_parse(f->row->body, f->row->body_len, &lim, &body, NULL) != MRD_OK)
        return MRD_OK; /* stored bytes are canonical JSON; nothing to show otherwise */
    if (f->role == STORE_REF_SOURCE || f->role == STORE_REF_TARGET) {
        rtype = json_string_value(json_object_get(body, "relationship_type"));
        other = json_string_value(
            json_object_get(body, f->role == STORE_REF_SOURCE ? "target_ref" : "source_ref"));
        if (x->rel_types != NULL) {
            bool wanted = false;
            for (size_t i = 0; rtype != NULL && x->rel_types[i] != NULL; i++)
                wanted |= strcmp(rtype, x->rel_types[i]) == 0;
            if (!wanted)
                goto out;
        }
        /* the other end must be readable too */
        if (other == NULL || strstr(other, "--") == NULL || strlen(other) > STORE_STIX_ID_MAX)
            goto out;
        end = other_end(x->st, x->view, other, err);
        if (end == NULL)
            goto out;
    }
    e = dash__row_summary(x->view, f->collection, f->row);
    if (e == NULL || json_object_set_new(e, "edge", json_string(role_names[f->role & 3])) != 0 ||
        json_object_set_new(e, "direction",
                            json_string(f->role == STORE_REF_SOURCE ? "out" : "in")) != 0 ||
        (rtype != NULL && json_object_set_new(e, "relationship_type", json_string(rtype)) != 0) ||
        (end != NULL && json_object_set(e, "other", end) != 0) ||
        json_object_set_new(x->seen, id, json_true()) != 0 || json_array_append(x->out, e) != 0)
        rc = mrd_err_set(err, MRD_E_NOMEM, "edges: out of memory");
out:
    json_decref(e);
    json_decref(end);
    json_decref(body);
    return rc;
}

enum mrd_code dash__edges(struct store *st, const struct dash_view *view, const char *id,
                          unsigned roles, const char *const *rel_types, size_t max, json_t *out,
                          struct mrd_err *err)
{
    struct edges x = {.st = st,
                      .view = view,
                      .id = id,
                      .rel_types = rel_types,
                      .out = out,
                      .seen = json_object(),
                      .max = max};
    enum mrd_code rc;

    if (x.seen == NULL)
        return mrd_err_set(err, MRD_E_NOMEM, "edges: out of memory");
    /* versions of one edge fold into one: ask for more rows than shown */
    rc = store_refs_to(st, id, strlen(id), roles, STORE_SEARCH_MAX, edge_visible, edge_emit, &x,
                       NULL, err);
    json_decref(x.seen);
    return rc;
}
