/*
 * hold.c: preservation orders (hold.h): records, create, renew, release,
 * list and show; select.c chooses what they preserve, export.c packages a
 * case.
 *
 * A hold freezes the object versions stored when it is created, chosen by
 * id, by STIX pattern or by TAXII filters, for a number of days (at most
 * 90, the Budapest Convention's article 16 period; renewable). While it is
 * active those versions cannot be deleted (TAXII DELETE answers 403 naming
 * the hold). Every action (create, renew, release, evidence export) is
 * queued in the store in the same transaction as the change and becomes a
 * ledger leaf: SHA-256 of the action's canonical JSON (RFC 8785).
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "core/alloc.h"
#include "core/json.h"
#include "core/str.h"
#include "hold/hold_int.h"
#include "ledger/ledger.h"

/* ---- records ---- */

/* Writes the JCS form of v into out (NUL-terminated; len excludes it). */
static enum mrd_code jcs(json_t *v, struct mrd_buf *out, struct mrd_err *err)
{
    struct mrd_err e = {0};

    mrd_buf_reset(out);
    if (v == NULL || mrd_jcs_write(v, out, &e) != MRD_OK || mrd_buf_append(out, "", 1, &e))
        return mrd_err_set(err, MRD_E_NOMEM, "cannot encode a record: %s",
                           e.msg[0] ? e.msg : "out of memory");
    out->len--; /* the NUL is not part of the record */
    return MRD_OK;
}

/* The ledger event of an action on a hold (record: its current JSON);
 * consumes extra. */
static enum mrd_code event_record(const char *action, int64_t now, json_t *record, json_t *extra,
                                  struct mrd_buf *out, struct mrd_err *err)
{
    char ts[MRD_TIME_TAXII_LEN + 1];
    json_t *ev = json_object();
    enum mrd_code rc;

    mrd_time_format_taxii(now, ts);
    (void)json_object_set_new(ev, "type", json_string("meridian-hold-action"));
    (void)json_object_set_new(ev, "action", json_string(action));
    (void)json_object_set_new(ev, "time", json_string(ts));
    (void)json_object_set(ev, "hold", record);
    if (extra != NULL)
        (void)json_object_update(ev, extra);
    rc = jcs(ev, out, err);
    json_decref(ev);
    json_decref(extra);
    return rc;
}

const char *hold_state(const struct store_hold *h, int64_t now)
{
    if (h->released_usec != STORE_TIME_NONE)
        return "released";
    return h->expires_usec > now ? "active" : "lapsed";
}

enum mrd_code hold_text_check(const char *what, const char *s, struct mrd_err *err)
{
    if (s == NULL)
        return MRD_OK;
    if (strlen(s) > HOLD_TEXT_MAX)
        return mrd_err_set(err, MRD_E_INVAL, "--%s is longer than %d bytes", what, HOLD_TEXT_MAX);
    if (mrd_utf8_check(s, strlen(s)) != strlen(s))
        return mrd_err_set(err, MRD_E_INVAL, "--%s is not valid UTF-8", what);
    return MRD_OK;
}

enum mrd_code hold_days_parse(const char *s, unsigned *ret, struct mrd_err *err)
{
    uint64_t v;

    if (mrd_str_to_u64(s, strlen(s), HOLD_DAYS_MAX, &v, NULL) != MRD_OK || v == 0)
        return mrd_err_set(err, MRD_E_INVAL,
                           "--days: '%s' must be 1..%d (a preservation order lasts at most "
                           "90 days; renew it)",
                           s, HOLD_DAYS_MAX);
    *ret = (unsigned)v;
    return MRD_OK;
}

static json_t *str_or_null(const char *s)
{
    return s != NULL ? json_string(s) : json_null();
}

static enum mrd_code check_request(const struct hold_request *r, struct mrd_err *err)
{
    const char *names[] = {"case",     "authority", "reason",  "offence", "relation",
                           "location", "necessity", "pattern", "query"};
    const char *vals[] = {r->case_id,  r->authority, r->reason,  r->offence, r->relation,
                          r->location, r->necessity, r->pattern, r->query};
    enum mrd_code rc;

    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if ((rc = hold_text_check(names[i], vals[i], err)) != MRD_OK)
            return rc;
    if (r->case_id == NULL || r->authority == NULL || r->reason == NULL)
        return mrd_err_set(err, MRD_E_INVAL, "create needs --case, --authority and --reason");
    if ((r->n_objects > 0) + (r->pattern != NULL) + (r->query != NULL) != 1)
        return mrd_err_set(err, MRD_E_INVAL,
                           "create needs exactly one of --object ID..., --pattern P, "
                           "--query FILTERS");
    if (strlen(r->case_id) > STORE_CASE_MAX)
        return mrd_err_set(err, MRD_E_INVAL, "--case is longer than %d bytes", STORE_CASE_MAX);
    if (r->n_objects > HOLD_OBJECTS_MAX)
        return mrd_err_set(err, MRD_E_INVAL, "more than %d --object", HOLD_OBJECTS_MAX);
    if (r->days == 0 || r->days > HOLD_DAYS_MAX)
        return mrd_err_set(err, MRD_E_INVAL, "--days: must be 1..%d", HOLD_DAYS_MAX);
    return MRD_OK;
}

/* The JSON record of a new hold. */
static json_t *create_record(const struct hold_request *req, const struct store_hold *h,
                             const char *location, const char *digest_hex, size_t n_items)
{
    char ts_created[MRD_TIME_TAXII_LEN + 1], ts_expires[MRD_TIME_TAXII_LEN + 1];
    json_t *record = json_object(), *sel = json_object();

    mrd_time_format_taxii(h->created_usec, ts_created);
    mrd_time_format_taxii(h->expires_usec, ts_expires);
    if (req->n_objects > 0) {
        json_t *ids = json_array();

        for (size_t i = 0; i < req->n_objects; i++)
            (void)json_array_append_new(ids, json_string(req->objects[i]));
        (void)json_object_set_new(sel, "objects", ids);
    }
    if (req->pattern != NULL)
        (void)json_object_set_new(sel, "pattern", json_string(req->pattern));
    if (req->query != NULL)
        (void)json_object_set_new(sel, "query", json_string(req->query));
    if (req->collection != NULL)
        (void)json_object_set_new(sel, "collection", json_string(req->collection->id));
    (void)json_object_set_new(record, "id", json_string(h->id));
    (void)json_object_set_new(record, "case", json_string(req->case_id));
    (void)json_object_set_new(record, "requesting_authority", json_string(req->authority));
    (void)json_object_set_new(record, "reason", json_string(req->reason));
    (void)json_object_set_new(record, "offence", str_or_null(req->offence));
    (void)json_object_set_new(record, "data_relation", str_or_null(req->relation));
    (void)json_object_set_new(record, "data_location",
                              json_string(req->location != NULL ? req->location : location));
    (void)json_object_set_new(record, "necessity", str_or_null(req->necessity));
    (void)json_object_set_new(record, "mutual_assistance_intended", json_boolean(req->mla));
    (void)json_object_set_new(record, "selector", sel);
    (void)json_object_set_new(record, "created", json_string(ts_created));
    (void)json_object_set_new(record, "expires", json_string(ts_expires));
    (void)json_object_set_new(record, "released", json_null());
    (void)json_object_set_new(record, "renewals", json_integer(0));
    (void)json_object_set_new(record, "items", json_integer((json_int_t)n_items));
    (void)json_object_set_new(record, "items_sha256", json_string(digest_hex));
    return record;
}

enum mrd_code hold_create(struct store *st, const struct hold_request *req, int64_t now,
                          struct hold_created *ret, struct mrd_err *err)
{
    struct hold__items it;
    struct store_hold h;
    struct store_ledger_event ev;
    struct mrd_buf rec, evrec;
    char node_id[STORE_META_VAL_MAX + 1], own[STORE_META_VAL_MAX + 1];
    char location[PATH_MAX + 256], absdir[PATH_MAX];
    uint8_t digest[crypto_hash_sha256_BYTES];
    char digest_hex[sizeof(digest) * 2 + 1];
    struct mrd_err e = {0};
    json_t *record = NULL;
    enum mrd_code rc;

    memset(&it, 0, sizeof(it));
    crypto_hash_sha256_init(&it.digest);
    mrd_buf_init(&rec, STORE_HOLD_RECORD_MAX + 1);
    mrd_buf_init(&evrec, STORE_HOLD_RECORD_MAX + 1);
    rc = check_request(req, err);
    if (rc == MRD_OK)
        rc = hold__select(st, req, &it, err);
    if (rc == MRD_OK && it.n == 0)
        rc = mrd_err_set(err, MRD_E_NOTFOUND, "%s selects no stored object%s; nothing held",
                         req->pattern != NULL ? "--pattern" : "--query",
                         req->collection != NULL ? " in that collection" : "");
    if (rc != MRD_OK)
        goto out;
    if (store_meta_get(st, "node_id", node_id, sizeof(node_id), &e) != MRD_OK ||
        store_meta_get(st, "own_org", own, sizeof(own), &e) != MRD_OK) {
        rc = mrd_err_set(err, MRD_E_DB, "the data directory has no node id or own org (%s)", e.msg);
        goto out;
    }
    if (req->data_dir == NULL || realpath(req->data_dir, absdir) == NULL)
        mrd_strlcpy(absdir, req->data_dir != NULL ? req->data_dir : "?", sizeof(absdir));
    (void)snprintf(location, sizeof(location), "meridian node %s (org %s), data directory %s",
                   node_id, own, absdir);
    crypto_hash_sha256_final(&it.digest, digest);
    sodium_bin2hex(digest_hex, sizeof(digest_hex), digest, sizeof(digest));
    memset(&h, 0, sizeof(h));
    store_uuid4(h.id);
    mrd_strlcpy(h.case_id, req->case_id, sizeof(h.case_id));
    h.created_usec = now;
    h.expires_usec = now + (int64_t)req->days * HOLD_USEC_PER_DAY;
    h.released_usec = STORE_TIME_NONE;
    record = create_record(req, &h, location, digest_hex, it.n);
    rc = jcs(record, &rec, err);
    if (rc == MRD_OK)
        rc = event_record("create", now, record, NULL, &evrec, err);
    if (rc != MRD_OK)
        goto out;
    if (rec.len > STORE_HOLD_RECORD_MAX || evrec.len > STORE_HOLD_RECORD_MAX) {
        rc = mrd_err_set(err, MRD_E_INVAL, "the hold's record exceeds %zu bytes",
                         STORE_HOLD_RECORD_MAX);
        goto out;
    }
    h.record = rec.data;
    h.record_len = rec.len;
    ev = (struct store_ledger_event){.kind = LEDGER_KIND_HOLD_CREATE,
                                     .time_usec = now,
                                     .record = evrec.data,
                                     .record_len = evrec.len};
    rc = store_hold_create(st, &h, it.seqs, it.n, &ev, &e);
    if (rc != MRD_OK) {
        rc = mrd_err_set(err, MRD_E_DB, "%s", e.msg);
        goto out;
    }
    memset(ret, 0, sizeof(*ret));
    mrd_strlcpy(ret->id, h.id, sizeof(ret->id));
    ret->items = it.n;
    mrd_time_format_taxii(h.expires_usec, ret->expires);
out:
    json_decref(record);
    mrd_free(it.seqs);
    mrd_free(it.matched.ids);
    mrd_free(it.found.ids);
    mrd_buf_release(&rec);
    mrd_buf_release(&evrec);
    return rc;
}

/* ---- renew, release, list, show ---- */

static enum mrd_code copy_cb(void *ctx, const struct store_hold *h, struct mrd_err *err)
{
    struct hold__copy *c = ctx;
    struct mrd_json_limits lim = {STORE_HOLD_RECORD_MAX, 16};

    c->h = *h;
    c->h.record = NULL;
    c->h.record_len = 0;
    return mrd_json_parse(h->record, h->record_len, &lim, &c->record, err);
}

enum mrd_code hold__load(struct store *st, const char *id, struct hold__copy *ret,
                         struct mrd_err *err)
{
    struct mrd_err e = {0};

    memset(ret, 0, sizeof(*ret));
    if (strlen(id) != STORE_UUID_LEN || store_hold_list(st, id, NULL, copy_cb, ret, &e) != MRD_OK) {
        json_decref(ret->record);
        ret->record = NULL;
        return mrd_err_set(err, MRD_E_NOTFOUND, "%s",
                           e.msg[0] ? e.msg : "no such hold (give the id hold create printed)");
    }
    return MRD_OK;
}

/* Writes hold c (record updated) with a ledger event for action; consumes
 * extra. */
enum mrd_code hold__save(struct store *st, struct hold__copy *c, const char *action, uint8_t kind,
                         int64_t now, json_t *extra, struct mrd_err *err)
{
    struct mrd_buf rec, evrec;
    struct store_ledger_event ev;
    struct mrd_err e = {0};
    enum mrd_code rc;

    mrd_buf_init(&rec, STORE_HOLD_RECORD_MAX + 1);
    mrd_buf_init(&evrec, STORE_HOLD_RECORD_MAX + 1);
    rc = jcs(c->record, &rec, err);
    if (rc == MRD_OK)
        rc = event_record(action, now, c->record, extra, &evrec, err);
    else
        json_decref(extra);
    if (rc == MRD_OK) {
        c->h.record = rec.data;
        c->h.record_len = rec.len;
        ev = (struct store_ledger_event){
            .kind = kind, .time_usec = now, .record = evrec.data, .record_len = evrec.len};
        if (store_hold_update(st, &c->h, &ev, &e) != MRD_OK)
            rc = mrd_err_set(err, MRD_E_DB, "%s", e.msg);
    }
    c->h.record = NULL;
    mrd_buf_release(&rec);
    mrd_buf_release(&evrec);
    return rc;
}

/* Loads hold id for a change: MRD_E_CONFLICT when it was released. */
static enum mrd_code load_for_change(struct store *st, const char *id, struct hold__copy *c,
                                     struct mrd_err *err)
{
    enum mrd_code rc = hold__load(st, id, c, err);

    if (rc == MRD_OK && c->h.released_usec != STORE_TIME_NONE)
        rc =
            mrd_err_set(err, MRD_E_CONFLICT, "hold %s was released; create a new hold instead", id);
    return rc;
}

enum mrd_code hold_renew(struct store *st, const char *id, unsigned days, int64_t now,
                         char ret_expires[MRD_TIME_TAXII_LEN + 1], struct mrd_err *err)
{
    struct hold__copy c = {0};
    char ts[MRD_TIME_TAXII_LEN + 1];
    enum mrd_code rc;

    if (days == 0 || days > HOLD_DAYS_MAX)
        return mrd_err_set(err, MRD_E_INVAL, "--days: must be 1..%d", HOLD_DAYS_MAX);
    rc = load_for_change(st, id, &c, err);
    if (rc == MRD_OK) {
        json_int_t n = json_integer_value(json_object_get(c.record, "renewals"));

        c.h.expires_usec = now + (int64_t)days * HOLD_USEC_PER_DAY;
        mrd_time_format_taxii(c.h.expires_usec, ts);
        (void)json_object_set_new(c.record, "expires", json_string(ts));
        (void)json_object_set_new(c.record, "renewals", json_integer(n + 1));
        rc = hold__save(st, &c, "renew", LEDGER_KIND_HOLD_RENEW, now, NULL, err);
    }
    if (rc == MRD_OK)
        mrd_strlcpy(ret_expires, ts, MRD_TIME_TAXII_LEN + 1);
    json_decref(c.record);
    return rc;
}

enum mrd_code hold_release(struct store *st, const char *id, const char *reason, int64_t now,
                           struct mrd_err *err)
{
    struct hold__copy c = {0};
    char ts[MRD_TIME_TAXII_LEN + 1];
    enum mrd_code rc = hold_text_check("reason", reason, err);

    if (rc == MRD_OK)
        rc = load_for_change(st, id, &c, err);
    if (rc == MRD_OK) {
        c.h.released_usec = now;
        mrd_time_format_taxii(now, ts);
        (void)json_object_set_new(c.record, "released", json_string(ts));
        (void)json_object_set_new(c.record, "release_reason", str_or_null(reason));
        rc = hold__save(st, &c, "release", LEDGER_KIND_HOLD_RELEASE, now, NULL, err);
    }
    json_decref(c.record);
    return rc;
}

struct list_ctx {
    bool all;
    int64_t now;
    enum mrd_code (*cb)(void *ctx, const struct hold_summary *s, struct mrd_err *err);
    void *ctx;
};

static enum mrd_code list_cb(void *ctx, const struct store_hold *h, struct mrd_err *err)
{
    struct list_ctx *l = ctx;
    struct mrd_json_limits lim = {STORE_HOLD_RECORD_MAX, 16};
    struct hold_summary s = {.h = h, .state = hold_state(h, l->now), .authority = "?"};
    json_t *j = NULL;
    enum mrd_code rc;

    if (!l->all && strcmp(s.state, "active") != 0)
        return MRD_OK;
    (void)mrd_json_parse(h->record, h->record_len, &lim, &j, NULL);
    if (json_string_value(json_object_get(j, "requesting_authority")) != NULL)
        s.authority = json_string_value(json_object_get(j, "requesting_authority"));
    rc = l->cb(l->ctx, &s, err);
    json_decref(j);
    return rc;
}

enum mrd_code hold_list(struct store *st, const char *case_id, bool all, int64_t now,
                        enum mrd_code (*cb)(void *ctx, const struct hold_summary *s,
                                            struct mrd_err *err),
                        void *ctx, struct mrd_err *err)
{
    struct list_ctx l = {.all = all, .now = now, .cb = cb, .ctx = ctx};

    return store_hold_list(st, NULL, case_id, list_cb, &l, err);
}

static enum mrd_code show_item_cb(void *ctx, const struct store_held *o, struct mrd_err *err)
{
    json_t *arr = ctx;
    json_t *it = json_object();
    uint8_t h[crypto_hash_sha256_BYTES];
    char hex[sizeof(h) * 2 + 1], v[32];

    (void)err;
    crypto_hash_sha256(h, (const unsigned char *)o->row->body, o->row->body_len);
    sodium_bin2hex(hex, sizeof(hex), h, sizeof(h));
    if (o->row->version_usec == STORE_VERSION_NONE || o->row->version_usec == STORE_TIME_NONE)
        mrd_strlcpy(v, "-", sizeof(v));
    else
        mrd_time_format_stix_ms(o->row->version_usec, v);
    (void)json_object_set_new(it, "collection", json_string(o->collection_id));
    (void)json_object_set_new(it, "id", json_stringn(o->row->id, o->row->id_len));
    (void)json_object_set_new(it, "version", json_string(v));
    (void)json_object_set_new(it, "sha256", json_string(hex));
    (void)json_object_set_new(it, "ledger_leaf",
                              o->leaf >= 0 ? json_integer(o->leaf) : json_null());
    (void)json_array_append_new(arr, it);
    return MRD_OK;
}

enum mrd_code hold_show(struct store *st, const char *id, int64_t now, json_t **ret,
                        struct mrd_err *err)
{
    struct hold__copy c = {0};
    struct mrd_err e = {0};
    json_t *items = json_array();
    enum mrd_code rc = hold__load(st, id, &c, err);

    if (rc == MRD_OK && store_hold_objects(st, id, show_item_cb, items, &e) != MRD_OK)
        rc = mrd_err_set(err, MRD_E_DB, "%s", e.msg);
    if (rc == MRD_OK) {
        (void)json_object_set_new(c.record, "state", json_string(hold_state(&c.h, now)));
        (void)json_object_set(c.record, "held_versions", items);
        *ret = c.record;
        c.record = NULL;
    }
    json_decref(items);
    json_decref(c.record);
    return rc;
}
