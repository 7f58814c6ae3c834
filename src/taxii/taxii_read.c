/*
 * The read endpoints: discovery (TAXII §4.1), API root (§4.2), status
 * (§4.3), collections (§5.1), collection (§5.2), and the four row
 * endpoints, manifest (§5.3), objects (§5.4), object (§5.6) and versions
 * (§5.8), which share one query path so that each row is filtered by
 * policy_may_read() exactly once, in the store's scan.
 */
#include "taxii/taxii_int.h"

#include <string.h>

#include "audit/audit.h"
#include "core/str.h"
#include "core/timestamp.h"

static bool accept_or_406(struct taxii_req *r)
{
    if (taxii_accept_ok(http_request_header(r->http, "Accept")))
        return true;
    taxii_error(r, 406, "Not acceptable",
                "this server answers with application/taxii+json;version=2.1: send it in Accept "
                "(TAXII 2.1 §3.1)");
    return false;
}

static json_t *str_or_null(const char *s)
{
    return s != NULL && s[0] != '\0' ? json_string(s) : NULL;
}

/* ---- which API roots exist for the requester -------------------------------- */

/* The API roots in which the requester has a grant (read or write) on a
 * collection, or which hold a public collection. The others do not exist
 * for it (TAXII App. B; docs/design.md §5): discovery does not list them, and
 * their information and collections endpoints answer 404 exactly like a
 * root that does not exist. */
struct root_set {
    struct mrd_arena *arena;
    char (*names)[STORE_NAME_MAX + 1];
    size_t n, cap;
};

static bool root_set_has(const struct root_set *rs, const char *name)
{
    for (size_t i = 0; i < rs->n; i++)
        if (strcmp(rs->names[i], name) == 0)
            return true;
    return false;
}

static enum mrd_code root_set_add(struct root_set *rs, const char *name)
{
    if (root_set_has(rs, name))
        return MRD_OK;
    if (rs->n == rs->cap) {
        size_t cap = rs->cap == 0 ? 8 : rs->cap * 2;
        char(*v)[STORE_NAME_MAX + 1] = mrd_arena_alloc(rs->arena, cap * sizeof(*v));
        if (v == NULL)
            return MRD_E_NOMEM;
        if (rs->n > 0)
            memcpy(v, rs->names, rs->n * sizeof(*v));
        rs->names = v;
        rs->cap = cap;
    }
    mrd_strlcpy(rs->names[rs->n++], name, sizeof(rs->names[0]));
    return MRD_OK;
}

static enum mrd_code root_of_grant(void *ctx, const struct store_grant_row *g)
{
    if (!g->grant.can_read && !g->grant.can_write)
        return MRD_OK;
    return root_set_add(ctx, g->api_root);
}

static enum mrd_code root_of_public(void *ctx, const struct store_collection *c)
{
    return c->public_read ? root_set_add(ctx, c->api_root) : MRD_OK;
}

static enum mrd_code roots_of_requester(struct taxii_req *r, struct root_set *rs,
                                        struct mrd_err *err)
{
    enum mrd_code rc = MRD_OK;

    rs->arena = r->http->arena;
    if (!r->who.anonymous && r->who.tok.org_key > 0)
        rc = store_grant_list(r->ts->st, r->who.tok.org_key, 0, root_of_grant, rs, err);
    if (rc == MRD_OK)
        rc = store_collection_list(r->ts->st, NULL, root_of_public, rs, err);
    if (rc == MRD_E_NOMEM)
        rc = mrd_err_set(err, MRD_E_NOMEM, "taxii: out of memory");
    return rc;
}

/* The API root of the request path, when it exists for the requester.
 * Answers 404 (no such root, or none for it) or 500 itself and returns
 * false. */
static bool root_load(struct taxii_req *r, struct store_api_root *ret)
{
    struct root_set rs = {0};
    struct mrd_err err = {0};
    enum mrd_code rc;

    rc = store_api_root_get(r->ts->st, r->path.root, strlen(r->path.root), ret, &err);
    if (rc == MRD_OK)
        rc = roots_of_requester(r, &rs, &err);
    if (rc == MRD_E_NOTFOUND || rc == MRD_E_INVAL ||
        (rc == MRD_OK && !root_set_has(&rs, ret->name))) {
        taxii_error(r, 404, "Not found", "no such API root");
        return false;
    }
    if (rc != MRD_OK) {
        taxii_internal(r, &err);
        return false;
    }
    return true;
}

/* ---- discovery ------------------------------------------------------------ */

struct root_urls {
    json_t *a;
    const struct root_set *rs;
};

static enum mrd_code add_root(void *ctx, const struct store_api_root *root)
{
    struct root_urls *u = ctx;
    char url[STORE_NAME_MAX + 3];

    if (!root_set_has(u->rs, root->name))
        return MRD_OK;
    (void)snprintf(url, sizeof(url), "/%s/", root->name);
    return json_array_append_new(u->a, json_string(url)) == 0 ? MRD_OK : MRD_E_NOMEM;
}

void taxii_get_discovery(struct taxii_req *r)
{
    json_t *d = NULL, *roots = NULL;
    struct root_set rs = {0};
    struct root_urls u;
    struct mrd_err err = {0};

    if (!accept_or_406(r))
        return;
    d = json_object();
    roots = json_array();
    if (d == NULL || roots == NULL) {
        json_decref(d);
        json_decref(roots);
        taxii_internal(r, NULL);
        return;
    }
    u.a = roots;
    u.rs = &rs;
    if (roots_of_requester(r, &rs, &err) != MRD_OK ||
        store_api_root_list(r->ts->st, add_root, &u, &err) != MRD_OK) {
        json_decref(d);
        json_decref(roots);
        taxii_internal(r, &err);
        return;
    }
    (void)json_object_set_new(d, "title", json_string(r->ts->title));
    if (r->ts->description[0] != '\0')
        (void)json_object_set_new(d, "description", json_string(r->ts->description));
    /* Relative URLs starting with a single '/' (TAXII §4.1.1); the list is
     * omitted rather than empty (TAXII §2, lists have >= 1 element). */
    if (json_array_size(roots) > 0) {
        (void)json_object_set(d, "default", json_array_get(roots, 0));
        (void)json_object_set(d, "api_roots", roots);
    }
    json_decref(roots);
    taxii_json(r, 200, d);
}

/* ---- API root ------------------------------------------------------------- */

void taxii_get_api_root(struct taxii_req *r)
{
    struct store_api_root root;
    json_t *o, *v;

    if (!root_load(r, &root) || !accept_or_406(r))
        return;
    o = json_object();
    v = json_array();
    if (o == NULL || v == NULL) {
        json_decref(o);
        json_decref(v);
        taxii_internal(r, NULL);
        return;
    }
    (void)json_array_append_new(v, json_string(TAXII_MEDIA_TYPE));
    (void)json_object_set_new(o, "title", json_string(root.title[0] ? root.title : root.name));
    if (root.description[0] != '\0')
        (void)json_object_set_new(o, "description", json_string(root.description));
    (void)json_object_set_new(o, "versions", v);
    (void)json_object_set_new(o, "max_content_length",
                              json_integer((json_int_t)root.max_content_length));
    taxii_json(r, 200, o);
}

/* ---- status --------------------------------------------------------------- */

static json_t *details_json(const struct store_status *s, enum store_status_kind kind)
{
    json_t *a = json_array();
    char ver[MRD_TIME_TAXII_LEN + 1];

    if (a == NULL)
        return NULL;
    for (size_t i = 0; i < s->n_details; i++) {
        const struct store_status_detail *d = &s->details[i];
        json_t *o;
        if (d->kind != kind)
            continue;
        o = json_object();
        if (o == NULL)
            break;
        taxii_version_str(d->version_usec == STORE_VERSION_NONE ? s->request_usec : d->version_usec,
                          ver);
        (void)json_object_set_new(o, "id", json_string(d->id));
        (void)json_object_set_new(o, "version", json_string(ver));
        if (d->message[0] != '\0')
            (void)json_object_set_new(o, "message", json_string(d->message));
        (void)json_array_append_new(a, o);
    }
    if (json_array_size(a) == 0) {
        json_decref(a);
        return NULL;
    }
    return a;
}

json_t *taxii__status_json(const struct store_status *s);
json_t *taxii__status_json(const struct store_status *s)
{
    json_t *o = json_object();
    char ts[MRD_TIME_TAXII_LEN + 1];

    if (o == NULL)
        return NULL;
    mrd_time_format_taxii(s->request_usec, ts);
    (void)json_object_set_new(o, "id", json_string(s->id));
    (void)json_object_set_new(o, "status", json_string(s->complete ? "complete" : "pending"));
    (void)json_object_set_new(o, "request_timestamp", json_string(ts));
    (void)json_object_set_new(o, "total_count", json_integer((json_int_t)s->total_count));
    (void)json_object_set_new(o, "success_count", json_integer((json_int_t)s->success_count));
    (void)json_object_set_new(o, "failure_count", json_integer((json_int_t)s->failure_count));
    (void)json_object_set_new(o, "pending_count", json_integer((json_int_t)s->pending_count));
    json_t *a;
    if ((a = details_json(s, STORE_ST_SUCCESS)) != NULL)
        (void)json_object_set_new(o, "successes", a);
    if ((a = details_json(s, STORE_ST_FAILURE)) != NULL)
        (void)json_object_set_new(o, "failures", a);
    if ((a = details_json(s, STORE_ST_PENDING)) != NULL)
        (void)json_object_set_new(o, "pendings", a);
    return o;
}

void taxii_get_status(struct taxii_req *r)
{
    struct store_status *s = NULL;
    struct mrd_err err = {0};
    enum mrd_code rc;

    rc = store_status_get(r->ts->st, r->path.id, strlen(r->path.id), &s, &err);
    /* Only the org that posted may read a status; to anyone else it does
     * not exist (it lists object ids). */
    if (rc == MRD_E_NOTFOUND || rc == MRD_E_INVAL ||
        (rc == MRD_OK &&
         (s->org_key != r->who.tok.org_key || strcmp(s->api_root, r->path.root) != 0))) {
        store_status_free(s);
        taxii_error(r, 404, "Not found", "no such status resource (statuses expire after 48 h)");
        return;
    }
    if (rc != MRD_OK) {
        taxii_internal(r, &err);
        return;
    }
    if (accept_or_406(r))
        taxii_json(r, 200, taxii__status_json(s));
    store_status_free(s);
}

/* ---- collections ---------------------------------------------------------- */

struct coll_list {
    struct mrd_arena *arena;
    struct store_collection **v;
    size_t n, cap;
};

static enum mrd_code add_coll(void *ctx, const struct store_collection *c)
{
    struct coll_list *l = ctx;

    if (l->n == l->cap) {
        size_t cap = l->cap == 0 ? 16 : l->cap * 2;
        struct store_collection **v = mrd_arena_alloc(l->arena, cap * sizeof(*v));
        if (v == NULL)
            return MRD_E_NOMEM;
        if (l->n > 0)
            memcpy(v, l->v, l->n * sizeof(*v));
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n] = mrd_arena_alloc(l->arena, sizeof(**l->v));
    if (l->v[l->n] == NULL)
        return MRD_E_NOMEM;
    *l->v[l->n++] = *c;
    return MRD_OK;
}

static json_t *collection_json(const struct store_collection *c, struct store_grant g)
{
    json_t *o = json_object(), *mt = json_array();

    if (o == NULL || mt == NULL) {
        json_decref(o);
        json_decref(mt);
        return NULL;
    }
    (void)json_object_set_new(o, "id", json_string(c->id));
    (void)json_object_set_new(o, "title", json_string(c->title));
    if (c->description[0] != '\0')
        (void)json_object_set_new(o, "description", str_or_null(c->description));
    if (c->alias[0] != '\0')
        (void)json_object_set_new(o, "alias", str_or_null(c->alias));
    (void)json_object_set_new(o, "can_read", json_boolean(g.can_read || c->public_read));
    (void)json_object_set_new(o, "can_write", json_boolean(g.can_write));
    (void)json_array_append_new(mt, json_string(TAXII_STIX_MEDIA_TYPE));
    (void)json_object_set_new(o, "media_types", mt);
    return o;
}

void taxii_get_collections(struct taxii_req *r)
{
    struct store_api_root root;
    struct coll_list l = {.arena = r->http->arena};
    struct mrd_err err = {0};
    enum mrd_code rc;
    json_t *o = NULL, *a = NULL;

    if (!root_load(r, &root) || !accept_or_406(r))
        return;
    rc = store_collection_list(r->ts->st, r->path.root, add_coll, &l, &err);
    o = json_object();
    a = json_array();
    if (rc != MRD_OK || o == NULL || a == NULL)
        goto fail;
    /* Only collections this requester may read or write are listed: the
     * others do not exist for it (App. B). Order: creation order (§3.3). */
    for (size_t i = 0; i < l.n; i++) {
        struct store_grant g = {0};
        json_t *c;
        rc = store_grant_get(r->ts->st, r->who.tok.org_key, l.v[i]->key, &g, &err);
        if (rc != MRD_OK)
            goto fail;
        if (!g.can_read && !g.can_write && !l.v[i]->public_read)
            continue;
        c = collection_json(l.v[i], g);
        if (c == NULL || json_array_append_new(a, c) != 0)
            goto fail;
    }
    if (json_array_size(a) > 0)
        (void)json_object_set(o, "collections", a);
    json_decref(a);
    taxii_json(r, 200, o);
    return;
fail:
    json_decref(o);
    json_decref(a);
    taxii_internal(r, &err);
}

void taxii_get_collection(struct taxii_req *r)
{
    struct taxii_coll c;

    if (!taxii_coll_load(r, &c) || !accept_or_406(r))
        return;
    taxii_json(r, 200, collection_json(&c.c, c.g));
}

/* ---- rows: manifest, objects, object, versions ---------------------------- */

struct rows_ctx {
    struct taxii_req *r;
    struct taxii_coll *c;
    struct mrd_buf *out; /* the list's elements, comma-separated */
    /* objects sent to a partner (the overview's "sent" figures) */
    bool to_partner;
    /* who the objects leave the node to: minimised (privacy.h) */
    bool minimise;
    struct privacy_policy *privacy; /* the policy in force, for this whole read */
    struct privacy_scope scope;
    int64_t sent[TAXII_MAX_PAGE];
    size_t n_sent;
    struct audit_batch *audit; /* the sensitive versions sent (audit.h) */
};

static bool row_visible(void *ctx, const struct store_row *row)
{
    struct rows_ctx *x = ctx;

    return policy_may_read(&x->c->reader, &row->policy);
}

static void row_version(const struct store_row *row, char out[MRD_TIME_TAXII_LEN + 1])
{
    /* Objects without modified/created (SCOs) use their date_added, which
     * the server keeps consistent (TAXII §4.3.1). */
    taxii_version_str(row->version_usec == STORE_VERSION_NONE ? row->date_added : row->version_usec,
                      out);
}

/* Appends a JSON string; STIX ids are validated ASCII, but escaping keeps a
 * stored oddity from ever breaking the document. */
static enum mrd_code put_json_str(struct mrd_buf *b, const char *s, size_t n, struct mrd_err *err)
{
    enum mrd_code rc = mrd_buf_putc(b, '"', err);

    for (size_t i = 0; rc == MRD_OK && i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch == '"' || ch == '\\')
            rc = mrd_buf_printf(b, err, "\\%c", ch);
        else if (ch < 0x20)
            rc = mrd_buf_printf(b, err, "\\u%04x", ch);
        else
            rc = mrd_buf_putc(b, (char)ch, err);
    }
    if (rc == MRD_OK)
        rc = mrd_buf_putc(b, '"', err);
    return rc;
}

static enum mrd_code row_emit(void *ctx, const struct store_row *row, struct mrd_err *err)
{
    struct rows_ctx *x = ctx;
    struct mrd_buf *b = x->out;
    char ver[MRD_TIME_TAXII_LEN + 1], da[MRD_TIME_TAXII_LEN + 1];
    enum privacy_outcome po = PRIVACY_AS_IS;
    size_t before = b->len;
    enum mrd_code rc = MRD_OK;

    /* A version withheld from this reader (privacy.h) is not listed in the
     * manifest or versions either: its id alone may tell (an SCO's id is
     * derived from its value). */
    if (x->minimise && row->body != NULL && x->r->path.route != TAXII_R_OBJECTS &&
        x->r->path.route != TAXII_R_OBJECT) {
        struct mrd_buf scratch;
        mrd_buf_init(&scratch, STORE_OBJECT_MAX);
        rc = privacy_minimise_bytes(x->privacy, &x->scope, row->body, row->body_len, &scratch, &po,
                                    err);
        mrd_buf_release(&scratch);
        if (rc != MRD_OK || po == PRIVACY_WITHHELD)
            return rc;
    }
    if (b->len > 0)
        rc = mrd_buf_putc(b, ',', err);
    if (rc != MRD_OK)
        return rc;
    switch (x->r->path.route) {
    case TAXII_R_OBJECTS:
    case TAXII_R_OBJECT:
        if (row->body == NULL)
            return mrd_err_set(err, MRD_E_INTERNAL, "store row without body");
        /* After the read decision (row_visible), never instead of it. */
        if (!x->minimise)
            rc = mrd_buf_append(b, row->body, row->body_len, err);
        else
            rc = privacy_minimise_bytes(x->privacy, &x->scope, row->body, row->body_len, b, &po,
                                        err);
        if (rc == MRD_OK && po == PRIVACY_WITHHELD) {
            b->len = before; /* not sent: no comma either */
            if (b->data != NULL)
                b->data[before] = '\0';
            return MRD_OK;
        }
        if (rc == MRD_OK && x->to_partner && x->n_sent < TAXII_MAX_PAGE)
            x->sent[x->n_sent++] = row->seq;
        if (rc == MRD_OK)
            rc = audit_note(x->audit, row, err);
        return rc;
    case TAXII_R_VERSIONS:
        row_version(row, ver);
        return mrd_buf_printf(b, err, "\"%s\"", ver);
    default: /* manifest */
        row_version(row, ver);
        mrd_time_format_taxii(row->date_added, da);
        rc = mrd_buf_puts(b, "{\"id\":", err);
        if (rc == MRD_OK)
            rc = put_json_str(b, row->id, row->id_len, err);
        if (rc == MRD_OK)
            rc = mrd_buf_printf(b, err,
                                ",\"date_added\":\"%s\",\"version\":\"%s\",\"media_type\":\"%s\"}",
                                da, ver, TAXII_STIX_MEDIA_TYPE);
        return rc;
    }
}

static unsigned filters_of(enum taxii_route rt)
{
    const unsigned page = TAXII_F_ADDED_AFTER | TAXII_F_LIMIT | TAXII_F_NEXT;

    switch (rt) {
    case TAXII_R_OBJECT:
        return page | TAXII_F_VERSION | TAXII_F_SPEC;
    case TAXII_R_VERSIONS:
        return page | TAXII_F_SPEC;
    default: /* manifest, objects (T81) */
        return page | TAXII_F_ID | TAXII_F_TYPE | TAXII_F_VERSION | TAXII_F_SPEC;
    }
}

void taxii_get_rows(struct taxii_req *r)
{
    struct taxii_coll c;
    struct taxii_filter f;
    struct http_kv *args = NULL;
    size_t nargs = 0;
    struct mrd_err err = {0};
    struct store_match m;
    struct store_query q;
    struct store_query_result res;
    struct mrd_buf items;
    struct rows_ctx x = {.r = r, .c = &c, .out = &items};
    struct taxii_next_bind bind;
    const char *one_id[1];
    enum taxii_route rt = r->path.route;
    enum mrd_code rc;
    struct mrd_buf *b = &r->resp->body;

    mrd_buf_init(&items, (size_t)1 << 30);
    if (!taxii_coll_load(r, &c))
        goto out;
    if (!c.g.can_read && !c.c.public_read) {
        taxii_error(r, 403, "Forbidden", "the requester may not read this collection");
        goto out;
    }
    if (!accept_or_406(r))
        goto out;
    if (http_request_args(r->http, &args, &nargs, &err) != MRD_OK) {
        taxii_internal(r, &err);
        goto out;
    }
    if (taxii_filter_parse(args, nargs, filters_of(rt), r->http->arena, &f, &err) != MRD_OK) {
        if (err.code == MRD_E_NOMEM)
            taxii_internal(r, &err);
        else
            taxii_error(r, 400, "Bad request", err.msg);
        goto out;
    }
    memset(&q, 0, sizeof(q));
    bind = (struct taxii_next_bind){
        .route = rt,
        .root = c.c.api_root,
        .collection_id = c.c.id,
        .object_id = r->path.object_id,
        .org_key = r->who.anonymous ? 0 : r->who.tok.org_key,
        .token_name = r->who.anonymous ? NULL : r->who.tok.name,
    };
    if (f.next != NULL) {
        if (taxii_next_check(r->ts->next_key, &bind, &f, f.next, &q.after_date_added, &q.after_seq,
                             &err) != MRD_OK) {
            taxii_error(r, 400, "Bad request", err.msg);
            goto out;
        }
        q.has_cursor = true;
    }
    m = f.match;
    if (rt == TAXII_R_OBJECT || rt == TAXII_R_VERSIONS) {
        one_id[0] = r->path.object_id;
        m.ids = one_id;
        m.n_ids = 1;
    }
    if (rt == TAXII_R_VERSIONS) {
        m.versions = STORE_VER_ALL;
        m.timestamps = NULL;
        m.n_timestamps = 0;
    }
    q.collection = c.c.key;
    q.added_after = f.added_after;
    q.match = &m;
    q.limit = f.limit > 0 ? f.limit : TAXII_MAX_PAGE;
    x.to_partner = !r->who.anonymous && r->who.tok.org_relation == POLICY_REL_PARTNER;
    x.minimise = r->who.anonymous || x.to_partner;
    q.want_body = rt == TAXII_R_OBJECTS || rt == TAXII_R_OBJECT || x.minimise;
    if (x.minimise)
        x.privacy = privacy_live_get(r->ts->privacy);
    x.scope = (struct privacy_scope){.community = c.c.api_root,
                                     .org = r->who.anonymous ? NULL : r->who.tok.org_name};
    x.audit = mrd_arena_alloc(r->http->arena, sizeof(*x.audit));
    if (x.audit == NULL) {
        (void)mrd_err_set(&err, MRD_E_NOMEM, "access audit");
        taxii_internal(r, &err);
        goto out;
    }
    /* a peer's sync client says so (fed_client.c): only the path's label */
    audit_begin(
        x.audit, r->ts->st,
        http_request_header(r->http, TAXII_SYNC_HEADER) != NULL ? AUDIT_SYNC_PULL : AUDIT_TAXII,
        r->who.anonymous ? NULL : r->who.tok.org_name, r->who.anonymous ? NULL : r->who.tok.name);
    rc = store_objects_query(r->ts->st, &q, row_visible, row_emit, &x, &res, &err);
    if (rc != MRD_OK) {
        taxii_internal(r, &err);
        goto out;
    }
    /* An object the requester cannot see is exactly as absent as one that
     * never existed (T40). */
    if (res.delivered == 0 && f.next == NULL && (rt == TAXII_R_OBJECT || rt == TAXII_R_VERSIONS)) {
        taxii_error(r, 404, "Not found",
                    "no such object in this collection, or no version matches the filters");
        goto out;
    }
    if (res.delivered == 0)
        res.more = false; /* "more" without a row would be a lie to a pager */
    /* Recorded before anything is sent: a read that cannot be audited is
     * not served. */
    if (audit_flush(x.audit, &err) != MRD_OK) {
        taxii_internal(r, &err);
        goto out;
    }
    r->resp->status = 200;
    r->resp->content_type = TAXII_MEDIA_TYPE;
    mrd_buf_reset(b);
    b->max = items.len + TAXII_NEXT_MAX + 64;
    rc = mrd_buf_putc(b, '{', &err);
    if (rc == MRD_OK && res.delivered > 0)
        rc = mrd_buf_printf(b, &err, "\"more\":%s", res.more ? "true" : "false");
    if (rc == MRD_OK && res.more) {
        char next[TAXII_NEXT_MAX + 1];
        taxii_next_make(r->ts->next_key, &bind, &f, res.last_date_added, res.last_seq, next);
        rc = mrd_buf_printf(b, &err, ",\"next\":\"%s\"", next);
    }
    if (rc == MRD_OK && res.delivered > 0) {
        rc = mrd_buf_printf(b, &err, ",\"%s\":[", rt == TAXII_R_VERSIONS ? "versions" : "objects");
        if (rc == MRD_OK)
            rc = mrd_buf_append(b, items.data, items.len, &err);
        if (rc == MRD_OK)
            rc = mrd_buf_putc(b, ']', &err);
    }
    if (rc == MRD_OK)
        rc = mrd_buf_putc(b, '}', &err);
    if (rc != MRD_OK) {
        taxii_internal(r, &err);
        goto out;
    }
    /* What left the node for a partner: counted, never a reason to fail the
     * read (the objects are already in the answer). */
    if (x.n_sent > 0)
        (void)store_sent_record(r->ts->st, r->who.tok.org_name, x.sent, x.n_sent,
                                mrd_time_now_usec(), NULL);
    if (res.delivered > 0) {
        char *first = mrd_arena_alloc(r->http->arena, MRD_TIME_TAXII_LEN + 1);
        char *last = mrd_arena_alloc(r->http->arena, MRD_TIME_TAXII_LEN + 1);
        if (first != NULL && last != NULL) {
            mrd_time_format_taxii(res.first_date_added, first);
            mrd_time_format_taxii(res.last_date_added, last);
            (void)http_response_header(r->resp, "X-TAXII-Date-Added-First", first);
            (void)http_response_header(r->resp, "X-TAXII-Date-Added-Last", last);
        }
    }
out:
    privacy_policy_free(x.privacy);
    mrd_buf_release(&items);
}
