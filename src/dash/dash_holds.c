/*
 * The holds page's routes (own orgs only): the holds of the node, a new
 * hold on objects picked from search results, and a case's evidence
 * package. All go through hold.h, the code `meridian hold` and `meridian
 * evidence export --case` use: the same checks, the same record, the same
 * ledger leaf for every action.
 */
#include "dash/dash_int.h"

#include <string.h>

#include "core/arena.h"
#include "core/timestamp.h"
#include "hold/hold.h"
#include "ledger/evidence.h"

#define HOLDS_BODY_MAX ((size_t)64 * 1024)

static enum mrd_code add_hold(void *ctx, const struct hold_summary *s, struct mrd_err *err)
{
    char created[MRD_TIME_TAXII_LEN + 1], expires[MRD_TIME_TAXII_LEN + 1];
    json_t *e;

    mrd_time_format_taxii(s->h->created_usec, created);
    mrd_time_format_taxii(s->h->expires_usec, expires);
    e = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:I}", "id", s->h->id, "case", s->h->case_id, "state",
                  s->state, "authority", s->authority, "created", created, "expires", expires,
                  "objects", (json_int_t)s->h->n_items);
    if (e == NULL || json_array_append_new(ctx, e) != 0)
        return mrd_err_set(err, MRD_E_NOMEM, "holds: out of memory");
    return MRD_OK;
}

/* GET /api/v1/holds */
static void get_holds(struct api_req *r)
{
    struct dash *d = r->ctx;
    struct mrd_err err = {0};
    json_t *list = json_array();

    if (list == NULL ||
        hold_list(d->st, NULL, true, mrd_time_now_usec(), add_hold, list, &err) != MRD_OK) {
        json_decref(list);
        api_internal(r, &err);
        return;
    }
    api_json(r, 200, json_pack("{s:o}", "holds", list));
}

static const char *opt_str(const json_t *b, const char *k)
{
    return json_string_value(json_object_get(b, k));
}

/* POST /api/v1/holds {case, authority, reason, days, objects: [ids], offence?, necessity?} */
static void post_hold(struct api_req *r)
{
    struct dash *d = r->ctx;
    struct hold_request req = {0};
    struct hold_created made;
    const char *ids[HOLD_OBJECTS_MAX];
    struct mrd_err err = {0};
    json_t *body = NULL, *objs, *v, *days;
    size_t i;
    enum mrd_code rc;

    if (!api_body_json(r, &body))
        return;
    objs = json_object_get(body, "objects");
    days = json_object_get(body, "days");
    req.case_id = opt_str(body, "case");
    req.authority = opt_str(body, "authority");
    req.reason = opt_str(body, "reason");
    req.offence = opt_str(body, "offence");
    req.necessity = opt_str(body, "necessity");
    req.data_dir = d->data_dir;
    req.days = json_is_integer(days) && json_integer_value(days) > 0 &&
                       json_integer_value(days) <= HOLD_DAYS_MAX
                   ? (unsigned)json_integer_value(days)
                   : 0;
    if (req.case_id == NULL || req.authority == NULL || req.reason == NULL || req.days == 0 ||
        !json_is_array(objs) || json_array_size(objs) == 0 ||
        json_array_size(objs) > HOLD_OBJECTS_MAX) {
        json_decref(body);
        api_error(r, 400, "Bad request",
                  "send {case, authority, reason, days (1..90), objects: [1..256 ids]}");
        return;
    }
    json_array_foreach(objs, i, v)
    {
        ids[i] = json_string_value(v);
        if (ids[i] == NULL) {
            json_decref(body);
            api_error(r, 400, "Bad request", "objects must be STIX ids");
            return;
        }
    }
    req.objects = ids;
    req.n_objects = json_array_size(objs);
    rc = hold_create(d->st, &req, mrd_time_now_usec(), &made, &err);
    json_decref(body);
    if (rc == MRD_E_INVAL || rc == MRD_E_NOTFOUND || rc == MRD_E_TOOBIG) {
        /* about the request only: the ids came from the caller */
        api_error(r, rc == MRD_E_NOTFOUND ? 404 : 400,
                  rc == MRD_E_NOTFOUND ? "Nothing to hold" : "Bad request", err.msg);
        return;
    }
    if (rc != MRD_OK) {
        api_internal(r, &err);
        return;
    }
    api_json(r, 201,
             json_pack("{s:s,s:I,s:s}", "id", made.id, "objects", (json_int_t)made.items, "expires",
                       made.expires));
}

struct export_job {
    struct store *st;
    const char *case_id;
    int64_t now;
    struct mrd_buf *pkg;
    struct hold_export x;
};

/* Inside the ledger service's lock: the package proved into, and signed
 * with, the server's own ledger (writable: the checkpoint it signs is the
 * ledger's, as when the CLI holds the ledger itself). */
static enum mrd_code export_in(void *ctx, struct ledger *log, const struct ckpt_signer *signer,
                               struct mrd_err *err)
{
    struct export_job *j = ctx;

    return hold_export_build(j->st, log, true, signer, j->case_id, j->now, j->pkg, &j->x, err);
}

static enum mrd_code count_active(void *ctx, const struct hold_summary *s, struct mrd_err *err)
{
    (void)s;
    (void)err;
    ++*(size_t *)ctx;
    return MRD_OK;
}

/* POST /api/v1/holds/export {"case": "..."}: the case's evidence package
 * (the tar `meridian evidence export --case` writes) as a download; the
 * export is recorded on each of the case's active holds, as the CLI's. */
static void post_export(struct api_req *r)
{
    struct dash *d = r->ctx;
    struct export_job j = {.st = d->st, .now = mrd_time_now_usec()};
    struct mrd_buf pkg;
    struct mrd_err err = {0};
    char disp[64 + HOLD_TEXT_MAX];
    size_t active = 0, n = 0;
    json_t *body = NULL;
    enum mrd_code rc;

    if (!api_body_json(r, &body))
        return;
    mrd_buf_init(&pkg, EVIDENCE_MAX_PACKAGE);
    j.pkg = &pkg;
    j.case_id = json_string_value(json_object_get(body, "case"));
    if (j.case_id == NULL || j.case_id[0] == '\0' || strlen(j.case_id) > HOLD_TEXT_MAX) {
        api_error(r, 400, "Bad request", "send {\"case\": \"CASE\"}");
        goto out;
    }
    if (d->ledger == NULL) {
        api_error(r, 503, "No ledger", "this server keeps no ledger to prove from");
        goto out;
    }
    rc = hold_list(d->st, j.case_id, false, j.now, count_active, &active, &err);
    if (rc == MRD_OK && active == 0) {
        api_error(r, 404, "Nothing to export", "the case has no active hold");
        goto out;
    }
    if (rc == MRD_OK)
        rc = ledger_service_with(d->ledger, export_in, &j, &err);
    if (rc == MRD_E_NOTFOUND || rc == MRD_E_INVAL) {
        /* about the case the caller named: its holds are the own org's */
        api_error(r, rc == MRD_E_NOTFOUND ? 404 : 400, "Nothing to export", err.msg);
        goto out;
    }
    if (rc == MRD_OK)
        rc = hold_export_record(d->st, j.case_id, (const uint8_t *)pkg.data, pkg.len, &j.x, j.now,
                                &err);
    if (rc != MRD_OK) {
        api_internal(r, &err);
        goto out;
    }
    /* a file name from the case id, reduced to safe characters */
    n = (size_t)snprintf(disp, sizeof(disp), "attachment; filename=\"evidence-");
    for (const char *c = j.case_id; *c != '\0' && n + 8 < sizeof(disp); c++) {
        bool safe = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
                    (*c >= '0' && *c <= '9') || *c == '-' || *c == '_' || *c == '.';
        disp[n++] = safe ? *c : '_';
    }
    (void)snprintf(disp + n, sizeof(disp) - n, ".tar\"");
    api_raw(r, 200, "application/x-tar", pkg.data, pkg.len);
    {
        const char *v = mrd_arena_strndup(r->http->arena, disp, strlen(disp));
        if (v != NULL) /* the header outlives this frame: it is sent after we return */
            api_header(r, "Content-Disposition", v);
    }
out:
    json_decref(body);
    mrd_buf_release(&pkg);
}

static const struct api_route routes[] = {
    {"GET", "holds", API_F_OWN, 0, get_holds,
     "the node's legal holds: case, state, authority, created, expires, object versions"},
    {"POST", "holds", API_F_OWN, HOLDS_BODY_MAX, post_hold,
     "create a hold on objects (as `meridian hold create --object`): {case, authority, reason, "
     "days, objects}"},
    {"POST", "holds/export", API_F_OWN, HOLDS_BODY_MAX, post_export,
     "a case's evidence package as a tar download (as `meridian evidence export --case`): "
     "{case}; recorded on the case's holds"},
};

enum mrd_code dash__holds_routes(struct dash *d, struct api_router *r, struct mrd_err *err)
{
    return api_router_add(r, routes, sizeof(routes) / sizeof(routes[0]), d, err);
}
