/*
 * The overview's figures (GET /api/v1/overview?days=N): objects received
 * per hour or day by TLP and by source, objects sent (to partners reading
 * through TAXII, to peers by push) by TLP and by destination, sightings
 * by reporter, the
 * most-sighted indicators, and indicators from partners nobody here has
 * sighted yet.
 *
 * The counts come from the store's aggregates (store_agg_query): counters
 * per hour kept at write time under a key made of exactly the columns the
 * read decision looks at. Each key is decided once with
 * dash__view_may_read() -- policy_may_read() with the reader of its
 * collection, as TAXII decides for this org -- and only the counters of
 * readable keys are summed. So no chart point or count comes from an object
 * the org could not fetch, and the answer costs the same at a million
 * objects as at a thousand. The few objects named (reporters, indicators)
 * are looked up as this reader, like any object page.
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
#define OVERVIEW_CANDIDATES (4 * OVERVIEW_NEW) /* partner indicators checked for sightings */

struct ov {
    struct store *st;
    const struct dash_view *view;
    int64_t start, size;
    size_t nb;
    json_t *by_tlp, *by_source, *by_rep; /* name -> [counts] */
    json_t *sent_tlp, *sent_dest;        /* name -> [counts] */
    json_t *names;                       /* reporter id -> shown name */
    json_t *top;                         /* [{indicator, count, sightings}] */
    json_t *partner;                     /* [{id, source, date_added, tlp}] newest first */
    bool *sighted;                       /* partner[i] has a readable local sighting */
    uint64_t received, partner_total, sight_total, sent;
};

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

static void source_name(const struct store_row *key, char src[STORE_PEER_MAX + 1])
{
    if (key->source_peer != NULL)
        (void)snprintf(src, STORE_PEER_MAX + 1, "%.*s", (int)key->source_peer_len,
                       key->source_peer);
    else
        (void)snprintf(src, STORE_PEER_MAX + 1, "local");
}

/* THE check, once per aggregate key. */
static bool key_readable(void *ctx, int64_t coll, const struct store_row *key)
{
    struct ov *o = ctx;

    return dash__view_may_read(o->view, coll, key);
}

/* Adds a counter to its hour's bucket of two series: by TLP and by name. */
static enum mrd_code bump_cell(const struct ov *o, const struct store_agg_cell *c, json_t *by_tlp,
                               json_t *by_name, const char *name, struct mrd_err *err)
{
    size_t i = bucket_of(o, c->hour_usec);
    enum mrd_code rc = bump(by_tlp, policy_tlp_name(c->key->policy.tlp), o->nb, i, c->n);

    if (rc == MRD_OK)
        rc = bump(by_name, name, o->nb, i, c->n);
    if (rc != MRD_OK)
        return mrd_err_set(err, rc, "overview: out of memory");
    return MRD_OK;
}

static enum mrd_code received(void *ctx, const struct store_agg_cell *c, struct mrd_err *err)
{
    struct ov *o = ctx;
    char src[STORE_PEER_MAX + 1];
    enum mrd_code rc;

    source_name(c->key, src);
    rc = bump_cell(o, c, o->by_tlp, o->by_source, src, err);
    if (rc != MRD_OK)
        return rc;
    o->received += (uint64_t)c->n;
    if (c->key->source_peer != NULL && mrd_str_eq(c->name, c->name_len, "indicator"))
        o->partner_total += (uint64_t)c->n;
    return MRD_OK;
}

/* What left the node: a partner's TAXII reads, pushes to peers. */
static enum mrd_code sent(void *ctx, const struct store_agg_cell *c, struct mrd_err *err)
{
    struct ov *o = ctx;
    char dest[STORE_NAME_MAX + 1];
    enum mrd_code rc;

    (void)snprintf(dest, sizeof(dest), "%.*s", (int)c->name_len, c->name);
    rc = bump_cell(o, c, o->sent_tlp, o->sent_dest, dest, err);
    if (rc != MRD_OK)
        return rc;
    o->sent += (uint64_t)c->n;
    return MRD_OK;
}

static json_t *name_of(struct store *st, const struct dash_view *view, const char *id);

static enum mrd_code sighted(void *ctx, const struct store_agg_cell *c, struct mrd_err *err)
{
    struct ov *o = ctx;
    char by[STORE_STIX_ID_MAX + 1];
    json_t *name;

    (void)snprintf(by, sizeof(by), "%.*s", (int)c->name_len, c->name);
    name = json_object_get(o->names, by);
    if (name == NULL) {
        /* the reporter as this reader may see it: its name when it may
         * read the identity, else its id */
        name = name_of(o->st, o->view, by);
        if (name == NULL)
            name = json_string(by);
        if (name == NULL || json_object_set_new(o->names, by, name) != 0)
            return mrd_err_set(err, MRD_E_NOMEM, "overview: out of memory");
    }
    o->sight_total += (uint64_t)c->count;
    if (bump(o->by_rep, json_string_value(name), o->nb, bucket_of(o, c->hour_usec), c->count) !=
        MRD_OK)
        return mrd_err_set(err, MRD_E_NOMEM, "overview: out of memory");
    return MRD_OK;
}

static enum mrd_code top(void *ctx, const struct store_agg_top *t, struct mrd_err *err)
{
    struct ov *o = ctx;
    json_t *e = json_pack("{s:s%,s:I,s:I}", "indicator", t->id, t->id_len, "count",
                          (json_int_t)t->count, "sightings", (json_int_t)t->n);

    if (e == NULL || json_array_append_new(o->top, e) != 0)
        return mrd_err_set(err, MRD_E_NOMEM, "overview: out of memory");
    return MRD_OK;
}

static void seen_here(void *ctx, size_t i)
{
    struct ov *o = ctx;

    o->sighted[i] = true;
}

/* The newest partner indicators of the window, per collection. */
struct newest {
    struct ov *o;
    int64_t coll;
};

static bool newest_visible(void *ctx, const struct store_row *row)
{
    struct newest *n = ctx;

    return dash__view_may_read(n->o->view, n->coll, row);
}

static enum mrd_code newest_emit(void *ctx, const struct store_row *row, struct mrd_err *err)
{
    struct newest *n = ctx;
    char added[MRD_TIME_TAXII_LEN + 1], src[STORE_PEER_MAX + 1];
    json_t *e;

    mrd_time_format_taxii(row->date_added, added);
    source_name(row, src);
    e = json_pack("{s:s%,s:s,s:s,s:s,s:I}", "id", row->id, row->id_len, "source", src, "date_added",
                  added, "tlp", policy_tlp_name(row->policy.tlp), "t", (json_int_t)row->date_added);
    if (e == NULL || json_array_append_new(n->o->partner, e) != 0)
        return mrd_err_set(err, MRD_E_NOMEM, "overview: out of memory");
    return MRD_OK;
}

static int newest_first(const void *a, const void *b)
{
    json_int_t x = json_integer_value(json_object_get(*(json_t *const *)a, "t"));
    json_int_t y = json_integer_value(json_object_get(*(json_t *const *)b, "t"));

    return x < y ? 1 : x > y ? -1 : 0;
}

/* Candidates for "new from partners": the OVERVIEW_CANDIDATES newest readable
 * partner indicators of the window, over all collections, newest first. */
static enum mrd_code partner_newest(struct ov *o, struct mrd_err *err)
{
    json_t **arr = NULL, *sorted = NULL;
    enum mrd_code rc = MRD_OK;
    size_t n;

    for (size_t i = 0; i < o->view->n && rc == MRD_OK; i++) {
        struct newest x = {.o = o, .coll = o->view->c[i].coll.key};
        struct store_newest q = {.collection = x.coll,
                                 .type = "indicator",
                                 .added_after = o->start - 1,
                                 .limit = OVERVIEW_CANDIDATES,
                                 .visible = newest_visible,
                                 .emit = newest_emit,
                                 .ctx = &x};
        if (!o->view->c[i].can_read)
            continue;
        rc = store_objects_newest(o->st, &q, err);
    }
    n = json_array_size(o->partner);
    if (rc != MRD_OK || n == 0)
        return rc;
    arr = mrd_calloc(n, sizeof(*arr));
    sorted = json_array();
    if (arr == NULL || sorted == NULL) {
        rc = mrd_err_set(err, MRD_E_NOMEM, "overview: out of memory");
        goto out;
    }
    for (size_t i = 0; i < n; i++)
        arr[i] = json_array_get(o->partner, i);
    qsort(arr, n, sizeof(*arr), newest_first);
    for (size_t i = 0; i < n && i < OVERVIEW_CANDIDATES; i++) {
        (void)json_object_del(arr[i], "t");
        if (json_array_append(sorted, arr[i]) != 0) {
            rc = mrd_err_set(err, MRD_E_NOMEM, "overview: out of memory");
            goto out;
        }
    }
    json_decref(o->partner);
    o->partner = sorted;
    sorted = NULL;
out:
    json_decref(sorted);
    mrd_free(arr);
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

enum mrd_code dash__overview(struct store *st, const struct dash_who *who, unsigned days,
                             json_t **ret, struct mrd_err *err)
{
    struct dash_view view;
    struct ov o = {.st = st};
    struct store_agg_query q = {.readable = key_readable,
                                .objects = received,
                                .sightings = sighted,
                                .sent = sent,
                                .top = OVERVIEW_TOP,
                                .top_cb = top,
                                .sighted = seen_here,
                                .ctx = &o};
    const char *ids[OVERVIEW_CANDIDATES];
    int64_t now = mrd_time_now_usec();
    json_t *buckets = json_array(), *fresh = json_array();
    char t[MRD_TIME_TAXII_LEN + 1];
    bool seen[OVERVIEW_CANDIDATES] = {false};
    enum mrd_code rc;

    if (days == 0 || days > OVERVIEW_MAX_DAYS)
        days = 7;
    o.size = days <= 2 ? HOUR_USEC : DAY_USEC;
    o.start = (now - (int64_t)days * DAY_USEC) / o.size * o.size;
    o.nb = (size_t)((now - o.start) / o.size) + 1;
    o.by_tlp = json_object();
    o.by_source = json_object();
    o.by_rep = json_object();
    o.sent_tlp = json_object();
    o.sent_dest = json_object();
    o.names = json_object();
    o.top = json_array();
    o.partner = json_array();
    o.sighted = seen;
    rc = dash__view_load(st, who, &view, err);
    if (rc != MRD_OK)
        goto out;
    o.view = &view;
    rc = partner_newest(&o, err);
    if (rc != MRD_OK)
        goto done;
    for (size_t i = 0; i < json_array_size(o.partner); i++)
        ids[i] = json_string_value(json_object_get(json_array_get(o.partner, i), "id"));
    /* Who received what is the node's business: shown to its own org
     * (like peer health), and then still only for keys it may read. */
    if (who->relation != POLICY_REL_OWN)
        q.sent = NULL;
    q.since_usec = o.start;
    q.ids = ids;
    q.n_ids = json_array_size(o.partner);
    rc = store_agg_query(st, &q, err);
    if (rc != MRD_OK)
        goto done;
    for (size_t i = 0; i < o.nb; i++) {
        mrd_time_format_taxii(o.start + (int64_t)i * o.size, t);
        (void)json_array_append_new(buckets, json_string(t));
    }
    for (size_t i = 0; i < json_array_size(o.top); i++) {
        json_t *e = json_array_get(o.top, i);
        json_t *lab = name_of(st, &view, json_string_value(json_object_get(e, "indicator")));
        if (lab != NULL)
            (void)json_object_set_new(e, "label", lab);
    }
    /* partner indicators of the window nobody here has sighted, newest first */
    for (size_t i = 0; i < json_array_size(o.partner) && json_array_size(fresh) < OVERVIEW_NEW;
         i++) {
        json_t *e = json_array_get(o.partner, i), *lab;
        if (seen[i])
            continue;
        lab = name_of(st, &view, json_string_value(json_object_get(e, "id")));
        if (lab != NULL)
            (void)json_object_set_new(e, "label", lab);
        (void)json_array_append(fresh, e);
    }
    mrd_time_format_taxii(o.start, t);
    *ret = json_pack(
        "{s:i,s:s,s:s,s:O,s:{s:O,s:O,s:I},s:{s:O,s:O,s:I},s:{s:O,s:I},s:O,s:O,s:I}", "days",
        (int)days, "bucket", o.size == HOUR_USEC ? "hour" : "day", "start", t, "buckets", buckets,
        "received", "by_tlp", o.by_tlp, "by_source", o.by_source, "total", (json_int_t)o.received,
        "sent", "by_tlp", o.sent_tlp, "by_destination", o.sent_dest, "total", (json_int_t)o.sent,
        "sightings", "by_reporter", o.by_rep, "total", (json_int_t)o.sight_total, "top_sighted",
        o.top, "new_partner_indicators", fresh, "partner_indicators", (json_int_t)o.partner_total);
    if (*ret == NULL)
        rc = mrd_err_set(err, MRD_E_NOMEM, "overview: out of memory");
done:
    dash__view_release(&view);
out:
    json_decref(o.by_tlp);
    json_decref(o.by_source);
    json_decref(o.by_rep);
    json_decref(o.sent_tlp);
    json_decref(o.sent_dest);
    json_decref(o.names);
    json_decref(o.top);
    json_decref(o.partner);
    json_decref(buckets);
    json_decref(fresh);
    return rc;
}
