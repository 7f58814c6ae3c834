/*
 * The early-warning page's routes (docs/notify.md, docs/api.md): the
 * assets each constituent declared and the notifications recorded. The
 * own org sees and manages every org's (declare, bulk upload, approve,
 * remove: notify.h, the calls `meridian asset` makes, with the same audit
 * records); any other org sees its own assets and notifications only, and
 * of a pending claim not what it overlaps (that is another org's
 * declaration).
 */
#include "dash/dash_int.h"

#include <string.h>

#include "admin/admin.h"
#include "core/alloc.h"
#include "core/str.h"
#include "core/timestamp.h"
#include "notify/notify.h"

#define ASSETS_BODY_MAX ((size_t)1 << 20) /* a bulk upload: about 10,000 lines */
#define ASSETS_LINES_MAX 20000            /* lines of one upload */
#define ASSETS_ADD_MAX 1000               /* assets in one declaration request */

/* A failure of the node, not of the line: the request fails (500). */
static bool server_fault(enum mrd_code rc)
{
    return rc == MRD_E_NOMEM || rc == MRD_E_DB || rc == MRD_E_IO || rc == MRD_E_INTERNAL ||
           rc == MRD_E_UNAVAIL;
}

static bool is_own(const struct api_req *r)
{
    return r->who.tok.org_relation == POLICY_REL_OWN;
}

/* The org a request is about: ?org= / {"org"} for the own org (NULL or ""
 * when it named none: every org, key 0); any other principal is about its
 * own org, whatever it named. False when answered (400, 404). */
static bool org_of(struct api_req *r, const char *name, bool required, struct store_org *ret)
{
    struct mrd_err err = {0};
    enum mrd_code rc;

    memset(ret, 0, sizeof(*ret));
    if (!is_own(r)) {
        ret->key = r->who.tok.org_key;
        ret->relation = r->who.tok.org_relation;
        mrd_strlcpy(ret->name, r->who.tok.org_name, sizeof(ret->name));
        return true;
    }
    if (name == NULL || name[0] == '\0') {
        if (required)
            api_error(r, 400, "Bad request", "name the org");
        return !required;
    }
    rc = store_org_get(r->st, name, 0, ret, &err);
    if (rc == MRD_E_NOTFOUND || rc == MRD_E_INVAL) {
        api_error(r, 404, "No such org", NULL);
        return false;
    }
    if (rc != MRD_OK) {
        api_internal(r, &err);
        return false;
    }
    return true;
}

static json_t *asset_json(const struct store_asset *a, bool own)
{
    return json_pack("{s:I, s:s, s:s, s:s, s:s, s:s}", "id", (json_int_t)a->id, "org", a->org_name,
                     "kind", notify_akind_name(a->kind), "asset", a->text, "status",
                     a->status == STORE_ASSET_ACTIVE ? "active" : "pending", "overlaps",
                     own ? a->overlaps : "");
}

struct lister {
    json_t *out;
    bool own;
    size_t pending;
};

static enum mrd_code list_asset(void *ctx, const struct store_asset *a, struct mrd_err *err)
{
    struct lister *l = ctx;

    if (a->status != STORE_ASSET_ACTIVE)
        l->pending++;
    if (json_array_append_new(l->out, asset_json(a, l->own)) != 0)
        return mrd_err_set(err, MRD_E_NOMEM, "out of memory");
    return MRD_OK;
}

/* GET /api/v1/assets[?org=NAME] */
static void get_assets(struct api_req *r)
{
    struct lister l = {.out = json_array(), .own = is_own(r)};
    struct store_org org;
    struct mrd_err err = {0};

    if (l.out == NULL || !org_of(r, api_query(r, "org", NULL), false, &org)) {
        json_decref(l.out);
        return;
    }
    if (store_assets_list(r->st, org.key, list_asset, &l, &err) != MRD_OK) {
        json_decref(l.out);
        api_internal(r, &err);
        return;
    }
    api_json(r, 200, json_pack("{s:o, s:I}", "assets", l.out, "pending", (json_int_t)l.pending));
}

static void admin_of(struct api_req *r, struct admin *ret)
{
    memset(ret, 0, sizeof(*ret));
    ret->st = r->st;
    admin_actor_token(&r->who.tok, &ret->who);
}

/* One line's result for the page: what was declared, or why not. */
static json_t *line_json(size_t no, const char *text, enum mrd_code rc, const struct store_asset *a,
                         const struct mrd_err *err)
{
    json_t *j;

    if (rc != MRD_OK)
        return json_pack("{s:I, s:s, s:s, s:s}", "line", (json_int_t)no, "asset", text, "status",
                         "refused", "error", err->msg);
    j = asset_json(a, true);
    if (j != NULL)
        (void)json_object_set_new(j, "line", json_integer((json_int_t)no));
    return j;
}

/* POST /api/v1/assets {"org", "assets": [...], "kind"?}: as `meridian
 * asset add`; each asset's result, in order. */
static void post_assets(struct api_req *r)
{
    struct store_org org;
    struct admin adm;
    json_t *body = NULL, *list, *v, *out = NULL;
    const char *kind;
    size_t i, bad = 0;

    if (!api_body_json(r, &body))
        return;
    list = json_object_get(body, "assets");
    kind = json_string_value(json_object_get(body, "kind"));
    if (!json_is_array(list) || json_array_size(list) == 0 ||
        json_array_size(list) > ASSETS_ADD_MAX) {
        api_error(r, 400, "Bad request", "send {\"org\", \"assets\": [1..1000 assets], \"kind\"?}");
        goto out;
    }
    if (!org_of(r, json_string_value(json_object_get(body, "org")), true, &org))
        goto out;
    out = json_array();
    admin_of(r, &adm);
    json_array_foreach(list, i, v)
    {
        struct store_asset a;
        struct mrd_err err = {0};
        const char *text = json_string_value(v);
        enum mrd_code rc = text != NULL ? notify_asset_declare(&adm, org.key, kind, text, &a, &err)
                                        : mrd_err_set(&err, MRD_E_INVAL, "not a string");

        bad += rc != MRD_OK;
        if (server_fault(rc)) {
            api_internal(r, &err);
            goto out;
        }
        if (out == NULL ||
            json_array_append_new(out, line_json(i + 1, text ? text : "", rc, &a, &err)) != 0) {
            api_internal(r, NULL);
            goto out;
        }
    }
    api_json(r, 200, json_pack("{s:O, s:I}", "results", out, "refused", (json_int_t)bad));
out:
    json_decref(out);
    json_decref(body);
}

/* POST /api/v1/assets/import {"org", "csv"}: as `meridian asset import`,
 * line by line (notify_asset_import_line): each line's result. */
static void post_import(struct api_req *r)
{
    struct store_org org;
    struct admin adm;
    json_t *body = NULL, *out = NULL;
    const char *csv;
    char *copy = NULL, *line, *next;
    size_t no = 0, declared = 0, refused = 0;

    if (!api_body_json(r, &body))
        return;
    csv = json_string_value(json_object_get(body, "csv"));
    if (csv == NULL) {
        api_error(r, 400, "Bad request", "send {\"org\", \"csv\": \"one asset per line\"}");
        goto out;
    }
    if (!org_of(r, json_string_value(json_object_get(body, "org")), true, &org))
        goto out;
    copy = mrd_strndup(csv, strlen(csv));
    out = json_array();
    if (copy == NULL || out == NULL) {
        api_internal(r, NULL);
        goto out;
    }
    admin_of(r, &adm);
    for (line = copy; line != NULL; line = next) {
        struct store_asset a;
        struct mrd_err err = {0};
        const char *text = "";
        bool skip = false;
        enum mrd_code rc;

        next = strchr(line, '\n');
        if (next != NULL)
            *next++ = '\0';
        if (++no > ASSETS_LINES_MAX) {
            api_error(r, 413, "Too many lines", "at most 20000 lines in one upload");
            goto out;
        }
        rc = notify_asset_import_line(&adm, org.key, line, &skip, &text, &a, &err);
        if (server_fault(rc)) {
            api_internal(r, &err);
            goto out;
        }
        if (skip)
            continue;
        if (rc == MRD_OK)
            declared++;
        else
            refused++;
        if (json_array_append_new(out, line_json(no, text, rc, &a, &err)) != 0) {
            api_internal(r, NULL);
            goto out;
        }
    }
    api_json(r, 200,
             json_pack("{s:O, s:I, s:I}", "lines", out, "declared", (json_int_t)declared, "refused",
                       (json_int_t)refused));
out:
    mrd_free(copy);
    json_decref(out);
    json_decref(body);
}

/* POST /api/v1/assets/{id}/approve and DELETE /api/v1/assets/{id}. */
static void set_asset(struct api_req *r, int status)
{
    struct admin adm;
    struct store_asset was;
    struct mrd_err err = {0};
    uint64_t id;
    enum mrd_code rc;

    if (mrd_str_to_u64(r->params[0], strlen(r->params[0]), INT64_MAX, &id, NULL) != MRD_OK ||
        id == 0) {
        api_error(r, 404, "No such declaration", NULL);
        return;
    }
    admin_of(r, &adm);
    rc = notify_asset_set(&adm, (int64_t)id, 0, status, &was, &err);
    if (rc == MRD_E_NOTFOUND) {
        api_error(r, 404, "No such declaration", NULL);
        return;
    }
    if (rc != MRD_OK) {
        api_internal(r, &err);
        return;
    }
    api_json(r, 200,
             json_pack("{s:I, s:s, s:s, s:s}", "id", (json_int_t)id, "org", was.org_name, "asset",
                       was.text, "status", status == STORE_ASSET_ACTIVE ? "active" : "removed"));
}

static void post_approve(struct api_req *r)
{
    set_asset(r, STORE_ASSET_ACTIVE);
}

static void delete_asset(struct api_req *r)
{
    set_asset(r, STORE_ASSET_REMOVED);
}

static const char *how_name(int how)
{
    return how == NOTIFY_M_EXACT ? "exact" : how == NOTIFY_M_INSIDE ? "inside" : "holds";
}

struct notes {
    json_t *out;
    const char *type, *asset;
    int squelched; /* -1 any, 0 new only, 1 squelched only */
    size_t limit;
    int64_t last;
};

static enum mrd_code list_note(void *ctx, const struct store_notification *n, struct mrd_err *err)
{
    struct notes *x = ctx;
    char when[MRD_TIME_TAXII_LEN + 1];
    json_t *j;

    x->last = n->id;
    if ((x->type != NULL && strcmp(x->type, n->kind) != 0) ||
        (x->asset != NULL && strcmp(x->asset, n->asset_text) != 0) ||
        (x->squelched >= 0 && (int)n->squelched != x->squelched) ||
        json_array_size(x->out) >= x->limit)
        return MRD_OK;
    mrd_time_format_taxii(n->created_usec, when);
    /* a withheld finding's row has no object id and no value (route.c) */
    j = json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:b, s:b}", "n", (json_int_t)n->id,
                  "time", when, "org", n->org_name, "asset", n->asset_text, "type", n->kind,
                  "object_id", n->object_id, "value", n->value, "match", how_name(n->how),
                  "squelched", n->squelched, "withheld", n->object_id[0] == '\0');
    if (j == NULL || json_array_append_new(x->out, j) != 0)
        return mrd_err_set(err, MRD_E_NOMEM, "out of memory");
    return MRD_OK;
}

/* GET /api/v1/notifications[?org=&after=N&limit=N&type=&asset=&squelched=0|1],
 * oldest first; "last" is the id to pass as after= for the next page. */
static void get_notifications(struct api_req *r)
{
    struct notes x = {.out = json_array(), .squelched = -1, .limit = 200};
    struct store_org org;
    struct mrd_err err = {0};
    const char *after = api_query(r, "after", NULL), *limit = api_query(r, "limit", NULL);
    const char *sq = api_query(r, "squelched", NULL);
    uint64_t a = 0, l = 0;

    if (x.out == NULL || !org_of(r, api_query(r, "org", NULL), false, &org)) {
        json_decref(x.out);
        return;
    }
    if ((after != NULL && mrd_str_to_u64(after, strlen(after), INT64_MAX, &a, NULL) != MRD_OK) ||
        (limit != NULL &&
         (mrd_str_to_u64(limit, strlen(limit), 1000, &l, NULL) != MRD_OK || l == 0)) ||
        (sq != NULL && strcmp(sq, "0") != 0 && strcmp(sq, "1") != 0)) {
        json_decref(x.out);
        api_error(r, 400, "Bad request", "after: a number; limit: 1..1000; squelched: 0 or 1");
        return;
    }
    if (l > 0)
        x.limit = (size_t)l;
    x.type = api_query(r, "type", NULL);
    x.asset = api_query(r, "asset", NULL);
    x.squelched = sq == NULL ? -1 : sq[0] == '1';
    if (store_notifications_list(r->st, org.key, (int64_t)a, STORE_NOTIFY_LIST_MAX, list_note, &x,
                                 &err) != MRD_OK) {
        json_decref(x.out);
        api_internal(r, &err);
        return;
    }
    api_json(r, 200, json_pack("{s:o, s:I}", "notifications", x.out, "last", (json_int_t)x.last));
}

static const struct api_route routes[] = {
    {"GET", "assets", 0, 0, get_assets,
     "declared assets: every org's for the own org (?org=NAME: one), else the caller's own"},
    {"POST", "assets", API_F_OWN, ASSETS_BODY_MAX, post_assets,
     "declare assets for an org (as `meridian asset add`): {org, assets: [...], kind?}"},
    {"POST", "assets/import", API_F_OWN, ASSETS_BODY_MAX, post_import,
     "bulk upload (as `meridian asset import`): {org, csv}; each line's result"},
    {"POST", "assets/{id}/approve", API_F_OWN, 0, post_approve,
     "approve a pending declaration (as `meridian asset approve`)"},
    {"DELETE", "assets/{id}", API_F_OWN, 0, delete_asset,
     "remove a declaration (as `meridian asset remove`)"},
    {"GET", "notifications", 0, 0, get_notifications,
     "notifications, oldest first: every org's for the own org (?org=NAME), else the caller's "
     "own; ?after=N, ?limit=N, ?type=, ?asset=, ?squelched=0|1"},
};

enum mrd_code dash__notify_routes(struct dash *d, struct api_router *r, struct mrd_err *err)
{
    return api_router_add(r, routes, sizeof(routes) / sizeof(routes[0]), d, err);
}
