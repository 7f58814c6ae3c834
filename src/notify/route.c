/*
 * route.c: constituency early warning over the store (notify.h, "routing
 * rounds" and "declaring assets").
 *
 * A round reads the object versions stored since the routing cursor (in
 * seq order, whatever path stored them: TAXII, sync, import, feeds, the
 * matcher, the sensors), routes each through the asset index, keeps the
 * hits the owning org may read exactly as a TAXII read of that version
 * would allow (policy_may_read with the org's grant on the version's
 * collection), and records them with the cursor in one transaction. A
 * sighting is routed by the indicator it sights. A crash between rounds
 * repeats nothing: the cursor moves with the notifications it produced,
 * and with their STIX forms (stix.c).
 */
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/json.h"
#include "core/str.h"
#include "core/timestamp.h"
#include "admin/admin.h"
#include "notify/notify.h"
#include "notify/notify_int.h"
#include "notify/deliver.h"
#include "policy/policy.h"

/* ---- declaring assets ---- */

struct load {
    struct notify_asset *a;
    size_t n, cap, pending;
    bool all; /* overlaps: pending declarations count too */
};

static enum mrd_code load_cb(void *ctx, const struct store_asset *sa, struct mrd_err *err)
{
    struct load *l = ctx;

    if (sa->status != STORE_ASSET_ACTIVE) {
        l->pending++;
        if (!l->all)
            return MRD_OK;
    }
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 256;
        struct notify_asset *p;
        if (cap > NOTIFY_ASSETS_MAX)
            return mrd_err_set(err, MRD_E_TOOBIG, "assets: more than %d declared",
                               NOTIFY_ASSETS_MAX);
        p = mrd_realloc(l->a, cap * sizeof(*p));
        if (p == NULL)
            return mrd_err_set(err, MRD_E_NOMEM, "assets: out of memory");
        l->a = p;
        l->cap = cap;
    }
    memset(&l->a[l->n], 0, sizeof(l->a[l->n]));
    l->a[l->n].id = sa->id;
    l->a[l->n].org = sa->org;
    l->a[l->n].kind = sa->kind;
    l->a[l->n].asn = sa->asn;
    l->a[l->n].v = sa->v;
    l->n++;
    return MRD_OK;
}

static enum mrd_code load(struct store *st, bool all, struct notify_index **ret,
                          size_t *ret_pending, struct mrd_err *err)
{
    struct load l = {.all = all};
    enum mrd_code rc;

    rc = store_assets_list(st, 0, load_cb, &l, err);
    if (rc == MRD_OK)
        rc = notify_index_build(l.a, l.n, ret, err);
    if (rc == MRD_OK && ret_pending != NULL)
        *ret_pending = l.pending;
    free(l.a);
    return rc;
}

enum mrd_code notify_index_load(struct store *st, struct notify_index **ret, size_t *ret_pending,
                                struct mrd_err *err)
{
    return load(st, false, ret, ret_pending, err);
}

struct overlap {
    struct store *st;
    char *out;
    size_t size;
    size_t n;
};

static enum mrd_code overlap_cb(void *ctx, const struct notify_hit *h, struct mrd_err *err)
{
    struct overlap *o = ctx;
    struct store_org org;
    char shown[NOTIFY_ASSET_TEXT_MAX + 2];
    size_t used = strlen(o->out);

    (void)err;
    if (o->n++ > 0)
        return MRD_OK; /* the first one names it; the count says the rest */
    if (store_org_get(o->st, NULL, h->asset->org, &org, NULL) != MRD_OK)
        (void)snprintf(org.name, sizeof(org.name), "#%lld", (long long)h->asset->org);
    (void)notify_asset_format(h->asset, shown, sizeof(shown));
    (void)snprintf(o->out + used, o->size - used, "org %s's %s", org.name, shown);
    return MRD_OK;
}

static json_t *asset_json(const struct store_asset *sa)
{
    return json_pack("{s:I, s:I, s:s, s:s, s:s, s:s}", "id", (json_int_t)sa->id, "org",
                     (json_int_t)sa->org, "kind", notify_akind_name(sa->kind), "asset", sa->text,
                     "status", sa->status == STORE_ASSET_ACTIVE ? "active" : "pending", "overlaps",
                     sa->overlaps);
}

/* The change of admin_apply for a declaration: the store write, and what
 * the audit record says about it. */
static enum mrd_code declare_change(void *ctx, struct store *st, struct admin_change *rec,
                                    struct mrd_err *err)
{
    struct store_asset *sa = ctx;
    enum mrd_code rc = store_asset_add(st, sa, err);

    if (rc != MRD_OK)
        return rc;
    (void)snprintf(rec->target, sizeof(rec->target), "%s", sa->text);
    rec->after = asset_json(sa);
    return rec->after != NULL ? MRD_OK : mrd_err_set(err, MRD_E_NOMEM, "asset: out of memory");
}

struct set_change {
    int64_t id, org;
    int status;
    struct store_asset was;
};

static enum mrd_code set_change(void *ctx, struct store *st, struct admin_change *rec,
                                struct mrd_err *err)
{
    struct set_change *c = ctx;
    enum mrd_code rc = store_asset_set(st, c->id, c->org, c->status, &c->was, err);

    if (rc != MRD_OK)
        return rc;
    (void)snprintf(rec->target, sizeof(rec->target), "%s", c->was.text);
    rec->before = asset_json(&c->was);
    return rec->before != NULL ? MRD_OK : mrd_err_set(err, MRD_E_NOMEM, "asset: out of memory");
}

enum mrd_code notify_asset_declare(struct admin *adm, int64_t org, const char *kind,
                                   const char *text, struct store_asset *ret, struct mrd_err *err)
{
    struct store *st = adm->st;
    struct notify_asset a;
    struct notify_index *ix = NULL;
    struct store_asset sa;
    struct overlap o;
    enum mrd_code rc;

    rc = notify_asset_parse(kind, text, &a, err);
    if (rc != MRD_OK)
        return rc;
    a.org = org;
    memset(&sa, 0, sizeof(sa));
    sa.org = org;
    sa.kind = a.kind;
    sa.asn = a.asn;
    sa.v = a.v;
    (void)notify_asset_format(&a, sa.text, sizeof(sa.text));
    /* a claim on what another org declared (even pending) waits for the
     * own org's approval */
    rc = load(st, true, &ix, NULL, err);
    if (rc != MRD_OK)
        return rc;
    o = (struct overlap){.st = st, .out = sa.overlaps, .size = sizeof(sa.overlaps)};
    rc = notify_overlaps(ix, &a, overlap_cb, &o, err);
    notify_index_free(ix);
    if (rc != MRD_OK)
        return rc;
    if (o.n > 1) {
        size_t used = strlen(sa.overlaps);
        (void)snprintf(sa.overlaps + used, sizeof(sa.overlaps) - used, " and %zu more", o.n - 1);
    }
    sa.status = o.n > 0 ? STORE_ASSET_PENDING : STORE_ASSET_ACTIVE;
    /* the declaration and its audit record commit together */
    rc = admin_apply(adm, "asset", "declare", declare_change, &sa, err);
    if (rc == MRD_OK && ret != NULL)
        *ret = sa;
    return rc;
}

enum mrd_code notify_asset_import_line(struct admin *adm, int64_t org, char *line, bool *ret_skip,
                                       const char **ret_text, struct store_asset *ret,
                                       struct mrd_err *err)
{
    const char *kind = NULL;

    *ret_skip = false;
    *ret_text = "";
    if (strlen(line) > NOTIFY_IMPORT_LINE_MAX)
        return mrd_err_set(err, MRD_E_TOOBIG, "longer than %d bytes", NOTIFY_IMPORT_LINE_MAX);
    if (!notify_asset_line(line, &kind, ret_text)) {
        *ret_skip = true;
        return MRD_OK;
    }
    return notify_asset_declare(adm, org, kind, *ret_text, ret, err);
}

enum mrd_code notify_asset_set(struct admin *adm, int64_t id, int64_t org, int status,
                               struct store_asset *ret, struct mrd_err *err)
{
    struct set_change c = {.id = id, .org = org, .status = status};
    enum mrd_code rc;

    rc = admin_apply(adm, "asset", status == STORE_ASSET_ACTIVE ? "approve" : "remove", set_change,
                     &c, err);
    if (rc == MRD_OK && ret != NULL)
        *ret = c.was;
    return rc;
}

enum mrd_code notify_withheld_parse(const char *s, enum notify_withheld *ret, struct mrd_err *err)
{
    if (strcmp(s, "nothing") == 0)
        *ret = NOTIFY_WITHHELD_NOTHING;
    else if (strcmp(s, "asset-only") == 0)
        *ret = NOTIFY_WITHHELD_ASSET_ONLY;
    else
        return mrd_err_set(err, MRD_E_INVAL, "expected nothing or asset-only");
    return MRD_OK;
}

/* ---- routing rounds ---- */

/* One stored version waiting to be routed, kept past the query. */
struct pend {
    int64_t seq, collection;
    char id[STORE_STIX_ID_MAX + 1];
    char type[32];
    char *body;
    size_t body_len;
    struct store_policy_kept policy;
    bool ours; /* a notification (API root NOTIFY_API_ROOT): never routed again */
};

struct fetch {
    struct pend *p;
    size_t n, cap;
};

static enum mrd_code fetch_cb(void *ctx, const struct store_held *h, struct mrd_err *err)
{
    struct fetch *f = ctx;
    struct pend *p;

    if (f->n == f->cap)
        return MRD_OK;
    p = &f->p[f->n];
    p->body = mrd_malloc(h->row->body_len + 1);
    if (p->body == NULL)
        return mrd_err_set(err, MRD_E_NOMEM, "routing: out of memory");
    memcpy(p->body, h->row->body, h->row->body_len);
    p->body[h->row->body_len] = '\0';
    p->body_len = h->row->body_len;
    p->seq = h->row->seq;
    p->collection = h->collection;
    p->ours = h->api_root != NULL && strcmp(h->api_root, NOTIFY_API_ROOT) == 0;
    (void)snprintf(p->id, sizeof(p->id), "%.*s", (int)h->row->id_len, h->row->id);
    (void)snprintf(p->type, sizeof(p->type), "%.*s", (int)h->row->type_len, h->row->type);
    store_policy_keep(&h->row->policy, &p->policy);
    f->n++;
    return MRD_OK;
}

/* The latest stored version of an object (any collection), for routing a
 * sighting by what it sights. */
struct latest {
    struct pend p;
    int64_t version;
    bool found;
};

static enum mrd_code latest_cb(void *ctx, const struct store_held *h, struct mrd_err *err)
{
    struct latest *l = ctx;
    struct fetch f = {.p = &l->p, .cap = 1};

    if (l->found && h->row->version_usec <= l->version)
        return MRD_OK;
    free(l->p.body);
    l->p.body = NULL;
    l->found = false;
    if (fetch_cb(&f, h, err) != MRD_OK)
        return MRD_E_NOMEM;
    l->version = h->row->version_usec;
    l->found = true;
    return MRD_OK;
}

/* Whether org may read the version p as TAXII would let it: its read
 * grant on p's collection, then THE read decision. */
struct reader_cache {
    int64_t org;
    enum policy_relation relation;
    bool known;
};

static enum mrd_code may_read(struct store *st, struct reader_cache *rc_org, int64_t org,
                              const struct pend *p, bool *ret, struct mrd_err *err)
{
    struct store_grant g = {0};
    struct policy_reader r;
    enum mrd_code rc;

    *ret = false;
    if (!rc_org->known || rc_org->org != org) {
        struct store_org o;
        rc = store_org_get(st, NULL, org, &o, err);
        if (rc == MRD_E_NOTFOUND) {
            mrd_err_clear(err);
            return MRD_OK; /* deleted since it declared: nobody to tell */
        }
        if (rc != MRD_OK)
            return rc;
        if (o.disabled_usec != STORE_TIME_NONE)
            return MRD_OK;
        rc_org->org = org;
        rc_org->relation = o.relation;
        rc_org->known = true;
    }
    rc = store_grant_get(st, org, p->collection, &g, err);
    if (rc != MRD_OK)
        return rc;
    memset(&r, 0, sizeof(r));
    r.org_id = org;
    r.relation = rc_org->relation;
    r.has_read_grant = g.can_read;
    r.community = p->policy.community;
    r.community_len = strlen(p->policy.community);
    *ret = g.can_read && policy_may_read(&r, &p->policy.po);
    return MRD_OK;
}

struct hits {
    struct notify_hit h[NOTIFY_OBJECT_HITS_MAX];
    char value[NOTIFY_OBJECT_HITS_MAX][STORE_ASSET_TEXT_MAX + 1];
    size_t n;
};

static enum mrd_code hit_cb(void *ctx, const struct notify_hit *h, struct mrd_err *err)
{
    struct hits *x = ctx;

    (void)err;
    if (x->n == NOTIFY_OBJECT_HITS_MAX)
        return MRD_OK;
    x->h[x->n] = *h;
    if (h->value != NULL)
        (void)store_value_format(h->value, x->value[x->n], sizeof(x->value[x->n]));
    else
        (void)snprintf(x->value[x->n], sizeof(x->value[x->n]), "AS%u", (unsigned)h->asn);
    x->h[x->n].value = NULL; /* points into the routed object's scratch */
    x->n++;
    return MRD_OK;
}

/* The id a sighting sights, or "" */
static void sighting_of(const struct pend *p, char *out, size_t size)
{
    struct mrd_json_limits lim = {.max_bytes = STORE_OBJECT_MAX, .max_depth = 64};
    json_t *j = NULL;
    const char *ref;

    out[0] = '\0';
    if (mrd_json_parse(p->body, p->body_len, &lim, &j, NULL) != MRD_OK)
        return;
    ref = json_string_value(json_object_get(j, "sighting_of_ref"));
    if (ref != NULL)
        (void)snprintf(out, size, "%s", ref);
    json_decref(j);
}

struct round {
    struct store *st;
    const struct notify_index *ix;
    const struct notify_opts *opts;
    struct notify_round *stats;
    struct store_notification *batch;
    struct notify__slot *slots; /* batch[i]'s STIX form */
    size_t n;
    struct reader_cache reader;
    struct hits *hits;
    struct notify__stix stix;
    int64_t now;
};

static enum mrd_code flush(struct round *r, int64_t cursor, struct mrd_err *err)
{
    enum mrd_code rc;

    rc = store_notifications_add(r->st, r->batch, r->n, r->opts->squelch_usec, cursor, err);
    if (rc != MRD_OK)
        return rc;
    for (size_t i = 0; i < r->n; i++) {
        if (r->batch[i].squelched)
            r->stats->squelched++;
        else
            r->stats->notified++;
        if (r->opts->on_notify != NULL && !r->batch[i].squelched)
            r->opts->on_notify(r->opts->ctx, &r->batch[i]);
    }
    r->n = 0;
    r->stats->cursor = cursor;
    return MRD_OK;
}

static enum mrd_code route_one(struct round *r, struct pend *p, struct mrd_err *err)
{
    struct latest sighted = {.found = false};
    const struct pend *routed = p;
    enum mrd_code rc;

    r->hits->n = 0;
    if (p->ours)
        return MRD_OK; /* what we told an org is not news to route */
    if (strcmp(p->type, "sighting") == 0) {
        char ref[STORE_STIX_ID_MAX + 1];
        sighting_of(p, ref, sizeof(ref));
        if (ref[0] != '\0') {
            struct store_find f = {
                .id = ref, .id_len = strlen(ref), .version_usec = STORE_TIME_NONE, .leaf = -1};
            rc = store_objects_find(r->st, &f, latest_cb, &sighted, err);
            if (rc != MRD_OK)
                goto out;
            if (sighted.found)
                routed = &sighted.p;
        }
    }
    rc = notify_route_object(r->ix, routed->body, routed->body_len, hit_cb, r->hits, err);
    if (rc != MRD_OK)
        goto out;
    for (size_t i = 0; i < r->hits->n; i++) {
        const struct notify_hit *h = &r->hits->h[i];
        struct store_notification *n;
        bool ok = false;

        struct notify__finding f = {.asset_kind = h->asset->kind};
        const struct notify__org *o = NULL;

        /* the org must be able to read what it is told about: the object
         * and, for a sighting, the indicator whose value it would learn */
        rc = may_read(r->st, &r->reader, h->asset->org, p, &ok, err);
        if (rc == MRD_OK && ok && routed != p)
            rc = may_read(r->st, &r->reader, h->asset->org, routed, &ok, err);
        if (rc != MRD_OK)
            goto out;
        if (!ok) {
            r->stats->withheld++;
            /* asset-only: its own asset and the kind, to an org that is
             * there to be told (may_read knew it: not disabled, deleted) */
            if (r->opts->withheld != NOTIFY_WITHHELD_ASSET_ONLY || !r->reader.known ||
                r->reader.org != h->asset->org)
                continue;
            f.withheld = true;
        }
        n = &r->batch[r->n];
        memset(n, 0, sizeof(*n));
        n->org = h->asset->org;
        n->asset = h->asset->id;
        n->seq = p->seq;
        n->created_usec = r->now;
        /* withheld: no id, no value; what the store keeps is what the
         * org could be shown (the seq stays, for the team) */
        if (!f.withheld) {
            (void)snprintf(n->object_id, sizeof(n->object_id), "%s", p->id);
            (void)snprintf(n->value, sizeof(n->value), "%s", r->hits->value[i]);
        }
        (void)snprintf(n->kind, sizeof(n->kind), "%s", p->type);
        (void)notify_asset_format(h->asset, n->asset_text, sizeof(n->asset_text));
        n->how = (uint8_t)h->how;
        if (routed != p && !f.withheld)
            f.sighted = routed->id;
        if (!r->stix.ready)
            rc = notify__stix_init(&r->stix, r->st, r->opts->trust, err);
        if (rc == MRD_OK)
            rc = notify__stix_org(&r->stix, n->org, &o, err);
        if (rc == MRD_OK)
            rc = notify__stix_build(&r->stix, o, n, &f, &r->slots[r->n], err);
        if (rc != MRD_OK)
            goto out;
        r->n++;
    }
out:
    free(sighted.p.body);
    return rc;
}

enum mrd_code notify_run_round(struct store *st, const struct notify_index *ix,
                               const struct notify_opts *opts, struct notify_round *ret,
                               struct mrd_err *err)
{
    struct notify_opts defaults = {.squelch_usec = NOTIFY_SQUELCH_DEFAULT_USEC,
                                   .batch = NOTIFY_ROUND_DEFAULT};
    char val[32];
    int64_t cursor = 0;
    uint64_t u;
    struct fetch f = {0};
    struct round r;
    enum mrd_code rc;

    if (opts == NULL)
        opts = &defaults;
    memset(ret, 0, sizeof(*ret));
    rc = store_meta_get(st, STORE_NOTIFY_CURSOR_KEY, val, sizeof(val), err);
    if (rc == MRD_OK && mrd_str_to_u64(val, strlen(val), INT64_MAX, &u, NULL) == MRD_OK)
        cursor = (int64_t)u;
    else if (rc == MRD_E_NOTFOUND)
        mrd_err_clear(err);
    else if (rc != MRD_OK)
        return rc;
    ret->cursor = cursor;
    f.cap = opts->batch > 0 && opts->batch <= NOTIFY_ROUND_MAX ? opts->batch : NOTIFY_ROUND_DEFAULT;
    f.p = mrd_calloc(f.cap, sizeof(*f.p));
    memset(&r, 0, sizeof(r));
    r.batch = mrd_calloc(STORE_NOTIFY_BATCH_MAX, sizeof(*r.batch));
    r.slots = mrd_calloc(STORE_NOTIFY_BATCH_MAX, sizeof(*r.slots));
    r.hits = mrd_malloc(sizeof(*r.hits));
    if (r.slots != NULL) {
        for (size_t i = 0; i < STORE_NOTIFY_BATCH_MAX; i++)
            mrd_buf_init(&r.slots[i].body, STORE_OBJECT_MAX);
    }
    if (f.p == NULL || r.batch == NULL || r.slots == NULL || r.hits == NULL) {
        rc = mrd_err_set(err, MRD_E_NOMEM, "routing: out of memory");
        goto out;
    }
    {
        struct store_find q = {
            .version_usec = STORE_TIME_NONE, .leaf = -1, .after_seq = cursor, .limit = f.cap};
        rc = store_objects_find(st, &q, fetch_cb, &f, err);
        if (rc != MRD_OK)
            goto out;
    }
    r.st = st;
    r.ix = ix;
    r.opts = opts;
    r.stats = ret;
    r.now = mrd_time_now_usec();
    for (size_t i = 0; i < f.n; i++) {
        if (r.n + NOTIFY_OBJECT_HITS_MAX > STORE_NOTIFY_BATCH_MAX) {
            rc = flush(&r, f.p[i - 1].seq, err);
            if (rc != MRD_OK)
                goto out;
        }
        rc = route_one(&r, &f.p[i], err);
        if (rc != MRD_OK) {
            mrd_err_prefix(err, "routing %s", f.p[i].id);
            goto out;
        }
        if (!f.p[i].ours)
            ret->objects++;
    }
    if (f.n > 0)
        rc = flush(&r, f.p[f.n - 1].seq, err);
    ret->more = f.n == f.cap;
out:
    for (size_t i = 0; i < f.n; i++)
        free(f.p[i].body);
    free(f.p);
    free(r.batch);
    if (r.slots != NULL) {
        for (size_t i = 0; i < STORE_NOTIFY_BATCH_MAX; i++)
            mrd_buf_release(&r.slots[i].body);
    }
    free(r.slots);
    free(r.hits);
    return rc;
}

/* ---- the hook for delivery (deliver.h) ---- */

struct by_seq {
    int64_t seq;
    struct pend p;
    bool found;
};

static enum mrd_code by_seq_cb(void *ctx, const struct store_held *h, struct mrd_err *err)
{
    struct by_seq *b = ctx;
    struct fetch f = {.p = &b->p, .cap = 1};

    if (b->found || h->row->seq != b->seq)
        return MRD_OK;
    if (fetch_cb(&f, h, err) != MRD_OK)
        return MRD_E_NOMEM;
    b->found = true;
    return MRD_OK;
}

enum mrd_code notify_object_for(struct store *st, int64_t org, int64_t seq, char **ret_body,
                                size_t *ret_len, struct mrd_err *err)
{
    struct store_find q = {
        .version_usec = STORE_TIME_NONE, .leaf = -1, .after_seq = seq - 1, .limit = 1};
    struct by_seq b = {.seq = seq};
    struct reader_cache reader = {.known = false};
    bool ok = false;
    enum mrd_code rc;

    *ret_body = NULL;
    *ret_len = 0;
    rc = store_objects_find(st, &q, by_seq_cb, &b, err);
    if (rc == MRD_OK && b.found)
        rc = may_read(st, &reader, org, &b.p, &ok, err);
    if (rc == MRD_OK && ok) {
        *ret_body = b.p.body;
        *ret_len = b.p.body_len;
        b.p.body = NULL;
    }
    free(b.p.body);
    return rc;
}
