/*
 * hold.c: preservation orders and case exports (hold.h).
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
#include "core/arena.h"
#include "core/json.h"
#include "core/str.h"
#include "hold/hold.h"
#include "ledger/checkpoint.h"
#include "ledger/evidence.h"
#include "ledger/ledger.h"
#include "pattern/pattern.h"
#include "taxii/taxii.h"

/* ---- the held set ---- */

/* Ids as NUL-terminated strings: the pattern's matches so far. */
struct idset {
    char (*ids)[STORE_STIX_ID_MAX + 1];
    size_t n, cap;
};

/* Object versions a hold will preserve, and a running digest of them. */
struct items {
    int64_t *seqs;
    size_t n, cap;
    crypto_hash_sha256_state digest;
    /* --pattern */
    const struct pat_prog *prog; /* the hold's pattern */
    struct pat_scratch *scratch;
    json_t *term_scos;    /* an SCO per term of the hold's pattern when simple, else NULL */
    struct idset matched; /* ids held so far, sorted between passes */
    struct idset found;   /* ids the current referrer pass adds */
    bool referrer_pass;   /* passes after the first: objects that refer to matched ids */
    enum mrd_code eval_rc;
    char eval_msg[MRD_ERR_MSG_MAX];
};

static enum mrd_code items_add(struct items *it, const struct store_held *o, struct mrd_err *err)
{
    char line[STORE_STIX_ID_MAX + STORE_UUID_LEN + 128];
    uint8_t h[crypto_hash_sha256_BYTES];
    char hex[crypto_hash_sha256_BYTES * 2 + 1];

    /* Each selector yields a version once: --object ids are deduplicated
     * by the caller, a query's rows are distinct, and the pattern's passes
     * take disjoint rows. */
    if (it->n >= STORE_HOLD_ITEMS_MAX)
        return mrd_err_set(err, MRD_E_TOOBIG, "more than %d object versions selected",
                           STORE_HOLD_ITEMS_MAX);
    if (mrd_array_grow(&it->seqs, it->n, &it->cap, sizeof(*it->seqs), 64) != MRD_OK)
        return mrd_err_set(err, MRD_E_NOMEM, "out of memory");
    it->seqs[it->n++] = o->row->seq;
    crypto_hash_sha256(h, (const unsigned char *)o->row->body, o->row->body_len);
    sodium_bin2hex(hex, sizeof(hex), h, sizeof(h));
    /* One line per version: where it is, what it is, its bytes' hash. */
    (void)snprintf(line, sizeof(line), "%s %.*s %lld %s\n", o->collection_id, (int)o->row->id_len,
                   o->row->id, (long long)o->row->version_usec, hex);
    crypto_hash_sha256_update(&it->digest, (const unsigned char *)line, strlen(line));
    return MRD_OK;
}

static enum mrd_code add_cb(void *ctx, const struct store_held *o, struct mrd_err *err)
{
    return items_add(ctx, o, err);
}

static int cmp_id(const void *a, const void *b)
{
    return strcmp(a, b);
}

static enum mrd_code idset_add(struct idset *s, const char *id, size_t n, struct mrd_err *err)
{
    if (mrd_array_grow(&s->ids, s->n, &s->cap, sizeof(*s->ids), 16) != MRD_OK)
        return mrd_err_set(err, MRD_E_NOMEM, "out of memory");
    (void)snprintf(s->ids[s->n++], STORE_STIX_ID_MAX + 1, "%.*s", (int)n, id);
    return MRD_OK;
}

/* Whether id is in s (sorted by then). */
static bool idset_has(const struct idset *s, const char *id)
{
    return s->n > 0 && bsearch(id, s->ids, s->n, sizeof(*s->ids), cmp_id) != NULL;
}

/* Evaluates the hold's pattern on one SCO taken as an observation. */
static bool eval_sco(struct items *it, const json_t *sco, int64_t t)
{
    const json_t *scos[1] = {sco};
    struct pat_obs obs = {.scos = scos, .nscos = 1, .count = 1};
    struct mrd_err e = {0};
    bool match = false;
    enum mrd_code rc;

    obs.first_usec = obs.last_usec = t;
    rc = pat_eval_obs(it->prog, &obs, 1, it->scratch, &match, &e);
    if (rc != MRD_OK && rc != MRD_E_INVALID && it->eval_rc == MRD_OK) {
        it->eval_rc = rc;
        mrd_strlcpy(it->eval_msg, e.msg, sizeof(it->eval_msg));
    }
    return rc == MRD_OK && match;
}

/* The SCO a `type:path = literal` term describes, for the paths an SCO
 * carries at its top level ("value", "name", ...) or as a hash
 * ("hashes.'SHA-256'"); NULL for other paths and literal kinds. */
static json_t *term_sco(const struct pat_term *t)
{
    json_t *o, *v;

    if (t->kind != PAT_LIT_STRING)
        return NULL;
    v = json_stringn(t->value, t->value_len);
    if (v == NULL)
        return NULL;
    o = json_pack("{s:s%, s:s}", "type", t->type, t->type_len, "spec_version", "2.1");
    if (o == NULL) {
        json_decref(v);
        return NULL;
    }
    if (t->path_len > 7 && memcmp(t->path, "hashes.", 7) == 0) {
        const char *alg = t->path + 7;
        size_t n = t->path_len - 7;

        if (n >= 2 && alg[0] == '\'' && alg[n - 1] == '\'') {
            alg++;
            n -= 2;
        }
        (void)json_object_set_new(o, "hashes", json_pack("{s%:o}", alg, n, v));
        return o;
    }
    if (memchr(t->path, '.', t->path_len) != NULL || memchr(t->path, '[', t->path_len) != NULL) {
        json_decref(v);
        json_decref(o);
        return NULL;
    }
    {
        char key[128];

        if (t->path_len >= sizeof(key)) {
            json_decref(v);
            json_decref(o);
            return NULL;
        }
        memcpy(key, t->path, t->path_len);
        key[t->path_len] = '\0';
        (void)json_object_set_new(o, key, v);
    }
    return o;
}

static enum mrd_code collect_term(void *ctx, const struct pat_term *t, struct mrd_err *err)
{
    json_t *arr = ctx;
    json_t *o = term_sco(t);

    (void)err;
    if (o != NULL)
        (void)json_array_append_new(arr, o);
    return MRD_OK;
}

/* The SCOs the simple terms of prog describe (an empty array when prog is
 * not simple). */
static json_t *prog_term_scos(const struct pat_prog *prog)
{
    json_t *arr = json_array();

    if (arr != NULL && pat_simple_terms(pat_prog_ast(prog), collect_term, arr, NULL) != MRD_OK)
        json_array_clear(arr);
    return arr;
}

/* An indicator is held when its pattern compares what the hold's pattern
 * matches: an SCO its simple terms describe matches the hold's pattern, or
 * its pattern matches an SCO the hold pattern's terms describe (so a CIDR
 * indicator is held by a hold on an address inside it). */
static bool indicator_matches(struct items *it, const json_t *ind, int64_t t)
{
    const json_t *pat = json_object_get(ind, "pattern");
    const json_t *ptype = json_object_get(ind, "pattern_type");
    struct pat_prog *prog = NULL;
    json_t *scos, *v;
    bool match = false;
    size_t i;

    if (!json_is_string(pat) ||
        (ptype != NULL && (!json_is_string(ptype) || strcmp(json_string_value(ptype), "stix"))))
        return false;
    if (pat_prog_new(json_string_value(pat), json_string_length(pat), &prog, NULL) != MRD_OK)
        return false;
    scos = prog_term_scos(prog);
    json_array_foreach(scos, i, v)
    {
        if (!match && eval_sco(it, v, t))
            match = true;
    }
    json_decref(scos);
    json_array_foreach(it->term_scos, i, v)
    {
        const json_t *one[1] = {v};
        struct pat_obs obs = {.scos = one, .nscos = 1, .count = 1};
        bool m = false;

        obs.first_usec = obs.last_usec = t;
        if (!match && pat_eval_obs(prog, &obs, 1, it->scratch, &m, NULL) == MRD_OK && m)
            match = true;
    }
    pat_prog_free(prog);
    return match;
}

/* Whether a property of obj that holds a reference (a string, or a list of
 * them) names an id already held. */
static bool refers_to_held(const struct items *it, const json_t *obj)
{
    static const char *const ref_props[] = {"object_refs", "sighting_of_ref", "observed_data_refs",
                                            "source_ref",  "target_ref",      NULL};

    for (size_t k = 0; ref_props[k] != NULL; k++) {
        const json_t *r = json_object_get(obj, ref_props[k]), *v;
        size_t i;

        if (json_is_string(r) && idset_has(&it->matched, json_string_value(r)))
            return true;
        json_array_foreach(r, i, v)
        {
            if (json_is_string(v) && idset_has(&it->matched, json_string_value(v)))
                return true;
        }
    }
    return false;
}

/* The object types that refer to what a pattern hold preserves. */
static bool is_referrer(const struct store_row *row)
{
    static const char *const types[] = {"observed-data", "sighting", "relationship", "report",
                                        "note",          "grouping", "opinion",      NULL};

    for (size_t k = 0; types[k] != NULL; k++)
        if (row->type_len == strlen(types[k]) && memcmp(row->type, types[k], row->type_len) == 0)
            return true;
    return false;
}

/* --pattern. First pass: each SCO is an observation of its own; each
 * indicator is held when its pattern compares what the hold's matches.
 * Later passes: the objects that refer to something held (observed-data,
 * sightings, relationships, reports, notes, groupings, opinions). */
static enum mrd_code pattern_cb(void *ctx, const struct store_held *o, struct mrd_err *err)
{
    struct items *it = ctx;
    const struct store_row *row = o->row;
    struct mrd_json_limits lim = {STORE_OBJECT_MAX, 128};
    bool indicator = row->type_len == 9 && memcmp(row->type, "indicator", 9) == 0;
    json_t *j = NULL;
    bool match = false;
    enum mrd_code rc;

    if (it->eval_rc != MRD_OK)
        return MRD_OK;
    if (it->referrer_pass) {
        char id[STORE_STIX_ID_MAX + 1];

        if (!is_referrer(row))
            return MRD_OK;
        (void)snprintf(id, sizeof(id), "%.*s", (int)row->id_len, row->id);
        if (idset_has(&it->matched, id)) /* held by an earlier pass */
            return MRD_OK;
        if (mrd_json_parse(row->body, row->body_len, &lim, &j, NULL) != MRD_OK)
            return MRD_OK;
        match = refers_to_held(it, j);
        json_decref(j);
        if (!match)
            return MRD_OK;
        rc = idset_add(&it->found, row->id, row->id_len, err);
        return rc == MRD_OK ? items_add(it, o, err) : rc;
    }
    /* SDOs and SROs carry `created`; SCOs do not */
    if (row->created_usec != STORE_TIME_NONE && !indicator)
        return MRD_OK;
    if (mrd_json_parse(row->body, row->body_len, &lim, &j, NULL) != MRD_OK)
        return MRD_OK;
    match =
        indicator ? indicator_matches(it, j, row->date_added) : eval_sco(it, j, row->date_added);
    json_decref(j);
    if (!match)
        return MRD_OK;
    rc = idset_add(&it->matched, row->id, row->id_len, err);
    return rc == MRD_OK ? items_add(it, o, err) : rc;
}

#define HOLD_REFERRER_PASSES 4 /* a report on a sighting of an indicator: three hops, and one */

/* Every pass over the store the --pattern selector makes. */
static enum mrd_code select_pattern(struct store *st, const struct store_find *f, struct items *it,
                                    struct mrd_err *err)
{
    enum mrd_code rc = store_objects_find(st, f, pattern_cb, it, err);

    for (int pass = 0; rc == MRD_OK && pass < HOLD_REFERRER_PASSES && it->matched.n > 0; pass++) {
        qsort(it->matched.ids, it->matched.n, sizeof(*it->matched.ids), cmp_id);
        it->referrer_pass = true;
        it->found.n = 0;
        rc = store_objects_find(st, f, pattern_cb, it, err);
        if (rc != MRD_OK || it->found.n == 0)
            break;
        for (size_t i = 0; i < it->found.n && rc == MRD_OK; i++)
            rc = idset_add(&it->matched, it->found.ids[i], strlen(it->found.ids[i]), err);
    }
    return rc;
}

/* --query FILTERS: TAXII 2.1 filters (added_after, match[id|type|version|
 * spec_version]) exactly as the objects endpoint reads them. */
struct query_ctx {
    struct items *it;
    const struct store_collection *c;
};

static enum mrd_code query_emit(void *ctx, const struct store_row *row, struct mrd_err *err)
{
    struct query_ctx *q = ctx;
    struct store_held o = {.row = row,
                           .collection = q->c->key,
                           .collection_id = q->c->id,
                           .api_root = q->c->api_root,
                           .leaf = -1};

    return items_add(q->it, &o, err);
}

struct coll_list {
    struct store_collection *c;
    size_t n, cap;
};

static enum mrd_code coll_cb(void *ctx, const struct store_collection *c)
{
    struct coll_list *l = ctx;

    if (mrd_array_grow(&l->c, l->n, &l->cap, sizeof(*l->c), 8) != MRD_OK)
        return MRD_E_NOMEM;
    l->c[l->n++] = *c;
    return MRD_OK;
}

static enum mrd_code select_query(struct store *st, const char *query,
                                  const struct store_collection *only, struct items *it,
                                  struct mrd_err *err)
{
    struct taxii_filter f;
    struct mrd_arena arena;
    struct coll_list l = {0};
    struct mrd_err e = {0};
    enum mrd_code rc;

    if (strlen(query) > TAXII_QUERY_MAX)
        return mrd_err_set(err, MRD_E_INVAL, "--query is longer than %d bytes", TAXII_QUERY_MAX);
    mrd_arena_init(&arena, (size_t)1 << 20);
    rc = taxii_filter_parse_query(query, &arena, &f, &e);
    if (rc != MRD_OK) {
        mrd_arena_release(&arena);
        return mrd_err_set(err, rc == MRD_E_NOMEM ? rc : MRD_E_INVAL, "--query: %s", e.msg);
    }
    if (only != NULL)
        rc = coll_cb(&l, only);
    else
        rc = store_collection_list(st, NULL, coll_cb, &l, &e);
    for (size_t i = 0; i < l.n && rc == MRD_OK; i++) {
        struct store_query sq = {.collection = l.c[i].key,
                                 .added_after = f.added_after,
                                 .match = f.has_match ? &f.match : NULL,
                                 .want_body = true};
        struct query_ctx qc = {.it = it, .c = &l.c[i]};
        struct store_query_result res;

        rc = store_objects_query(st, &sq, NULL, query_emit, &qc, &res, &e);
    }
    if (rc != MRD_OK)
        rc = mrd_err_set(err, rc == MRD_E_INVAL || rc == MRD_E_NOTFOUND ? MRD_E_DB : rc, "%s",
                         e.msg[0] ? e.msg : "cannot list collections");
    mrd_free(l.c);
    mrd_arena_release(&arena);
    return rc;
}

static enum mrd_code select_items(struct store *st, const struct hold_request *req,
                                  struct items *it, struct mrd_err *err)
{
    const struct store_collection *coll = req->collection;
    struct mrd_err e = {0};
    enum mrd_code rc = MRD_OK;

    if (req->query != NULL)
        return select_query(st, req->query, coll, it, err);
    if (req->n_objects > 0) {
        for (size_t i = 0; i < req->n_objects; i++) {
            struct store_find f = {.id = req->objects[i],
                                   .id_len = strlen(req->objects[i]),
                                   .version_usec = STORE_TIME_NONE,
                                   .collection = coll != NULL ? coll->key : 0,
                                   .leaf = -1};
            size_t before = it->n;

            rc = store_objects_find(st, &f, add_cb, it, &e);
            if (rc != MRD_OK)
                break;
            if (it->n == before)
                return mrd_err_set(err, MRD_E_NOTFOUND, "no stored object %s%s", req->objects[i],
                                   coll != NULL ? " in that collection" : "");
        }
    } else {
        struct pat_prog *prog = NULL;
        struct store_find f = {.version_usec = STORE_TIME_NONE,
                               .collection = coll != NULL ? coll->key : 0,
                               .leaf = -1};

        if (pat_prog_new(req->pattern, strlen(req->pattern), &prog, &e) != MRD_OK)
            return mrd_err_set(err, MRD_E_INVAL, "--pattern: %s", e.msg);
        it->prog = prog;
        it->scratch = pat_scratch_new();
        it->term_scos = prog_term_scos(prog);
        if (it->scratch == NULL || it->term_scos == NULL)
            rc = mrd_err_set(&e, MRD_E_NOMEM, "out of memory");
        else
            rc = select_pattern(st, &f, it, &e);
        json_decref(it->term_scos);
        it->term_scos = NULL;
        pat_scratch_free(it->scratch);
        pat_prog_free(prog);
        if (rc == MRD_OK && it->eval_rc != MRD_OK)
            return mrd_err_set(err, MRD_E_INTERNAL, "--pattern: %s", it->eval_msg);
    }
    if (rc != MRD_OK)
        return mrd_err_set(err, rc == MRD_E_INVAL || rc == MRD_E_NOTFOUND ? MRD_E_DB : rc, "%s",
                           e.msg);
    return MRD_OK;
}

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
    struct items it;
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
        rc = select_items(st, req, &it, err);
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

/* A copy of one hold and its record. */
struct hold_copy {
    struct store_hold h;
    json_t *record;
};

static enum mrd_code copy_cb(void *ctx, const struct store_hold *h, struct mrd_err *err)
{
    struct hold_copy *c = ctx;
    struct mrd_json_limits lim = {STORE_HOLD_RECORD_MAX, 16};

    c->h = *h;
    c->h.record = NULL;
    c->h.record_len = 0;
    return mrd_json_parse(h->record, h->record_len, &lim, &c->record, err);
}

static enum mrd_code load_hold(struct store *st, const char *id, struct hold_copy *ret,
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
static enum mrd_code save_hold(struct store *st, struct hold_copy *c, const char *action,
                               uint8_t kind, int64_t now, json_t *extra, struct mrd_err *err)
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
static enum mrd_code load_for_change(struct store *st, const char *id, struct hold_copy *c,
                                     struct mrd_err *err)
{
    enum mrd_code rc = load_hold(st, id, c, err);

    if (rc == MRD_OK && c->h.released_usec != STORE_TIME_NONE)
        rc =
            mrd_err_set(err, MRD_E_CONFLICT, "hold %s was released; create a new hold instead", id);
    return rc;
}

enum mrd_code hold_renew(struct store *st, const char *id, unsigned days, int64_t now,
                         char ret_expires[MRD_TIME_TAXII_LEN + 1], struct mrd_err *err)
{
    struct hold_copy c = {0};
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
        rc = save_hold(st, &c, "renew", LEDGER_KIND_HOLD_RENEW, now, NULL, err);
    }
    if (rc == MRD_OK)
        mrd_strlcpy(ret_expires, ts, MRD_TIME_TAXII_LEN + 1);
    json_decref(c.record);
    return rc;
}

enum mrd_code hold_release(struct store *st, const char *id, const char *reason, int64_t now,
                           struct mrd_err *err)
{
    struct hold_copy c = {0};
    char ts[MRD_TIME_TAXII_LEN + 1];
    enum mrd_code rc = hold_text_check("reason", reason, err);

    if (rc == MRD_OK)
        rc = load_for_change(st, id, &c, err);
    if (rc == MRD_OK) {
        c.h.released_usec = now;
        mrd_time_format_taxii(now, ts);
        (void)json_object_set_new(c.record, "released", json_string(ts));
        (void)json_object_set_new(c.record, "release_reason", str_or_null(reason));
        rc = save_hold(st, &c, "release", LEDGER_KIND_HOLD_RELEASE, now, NULL, err);
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
    struct hold_copy c = {0};
    struct mrd_err e = {0};
    json_t *items = json_array();
    enum mrd_code rc = load_hold(st, id, &c, err);

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

/* ---- evidence export of a case ---- */

struct export_obj {
    int64_t seq;
    int64_t leaf;
    uint8_t *data;
    size_t len;
    char id[STORE_STIX_ID_MAX + 1];
    char version[32];
};

struct export_ctx {
    struct export_obj *objs;
    size_t n, cap;
};

static int cmp_seq(const void *a, const void *b)
{
    int64_t x = ((const struct export_obj *)a)->seq, y = ((const struct export_obj *)b)->seq;

    return (x > y) - (x < y);
}

/* Sorts by seq and drops the versions two holds of the case share. */
static void export_unique(struct export_ctx *x)
{
    size_t k = 0;

    qsort(x->objs, x->n, sizeof(*x->objs), cmp_seq);
    for (size_t i = 0; i < x->n; i++) {
        if (k > 0 && x->objs[k - 1].seq == x->objs[i].seq)
            mrd_free(x->objs[i].data);
        else
            x->objs[k++] = x->objs[i];
    }
    x->n = k;
}

static enum mrd_code export_cb(void *ctx, const struct store_held *o, struct mrd_err *err)
{
    struct export_ctx *x = ctx;
    struct export_obj *e;

    if (x->n >= EVIDENCE_MAX_OBJECTS)
        return mrd_err_set(err, MRD_E_TOOBIG, "more than %d objects in one package",
                           EVIDENCE_MAX_OBJECTS);
    if (mrd_array_grow(&x->objs, x->n, &x->cap, sizeof(*x->objs), 64) != MRD_OK)
        return mrd_err_set(err, MRD_E_NOMEM, "out of memory");
    e = &x->objs[x->n];
    memset(e, 0, sizeof(*e));
    e->seq = o->row->seq;
    e->leaf = o->leaf;
    e->data = mrd_malloc(o->row->body_len > 0 ? o->row->body_len : 1);
    if (e->data == NULL)
        return mrd_err_set(err, MRD_E_NOMEM, "out of memory");
    memcpy(e->data, o->row->body, o->row->body_len);
    e->len = o->row->body_len;
    (void)snprintf(e->id, sizeof(e->id), "%.*s", (int)o->row->id_len, o->row->id);
    if (o->row->modified_usec != STORE_TIME_NONE)
        mrd_time_format_taxii(o->row->modified_usec, e->version);
    x->n++;
    return MRD_OK;
}

struct case_holds {
    char ids[HOLD_CASE_HOLDS_MAX][STORE_UUID_LEN + 1];
    size_t n;
    int64_t now;
};

static enum mrd_code case_cb(void *ctx, const struct store_hold *h, struct mrd_err *err)
{
    struct case_holds *c = ctx;

    if (strcmp(hold_state(h, c->now), "active") != 0)
        return MRD_OK;
    if (c->n >= HOLD_CASE_HOLDS_MAX)
        return mrd_err_set(err, MRD_E_TOOBIG, "more than %d active holds in one case",
                           HOLD_CASE_HOLDS_MAX);
    mrd_strlcpy(c->ids[c->n++], h->id, STORE_UUID_LEN + 1);
    return MRD_OK;
}

/* The active holds of case_id; MRD_E_NOTFOUND when none. */
static enum mrd_code case_active(struct store *st, const char *case_id, struct case_holds *ch,
                                 struct mrd_err *err)
{
    struct mrd_err e = {0};

    if (store_hold_list(st, NULL, case_id, case_cb, ch, &e) != MRD_OK)
        return mrd_err_set(err, e.code == MRD_E_TOOBIG ? MRD_E_TOOBIG : MRD_E_DB, "%s", e.msg);
    if (ch->n == 0)
        return mrd_err_set(err, MRD_E_NOTFOUND,
                           "case '%s' has no active hold (see 'meridian hold list --all')",
                           case_id);
    return MRD_OK;
}

/* Signs a checkpoint of log's current tree into note (kept as the log's
 * checkpoint when writable). */
static enum mrd_code sign_head(struct ledger *log, bool writable, const struct ckpt_signer *s,
                               int64_t now, struct mrd_buf *note, struct mrd_err *err)
{
    struct ckpt c;
    char ts[MRD_TIME_TAXII_LEN + 1];
    enum mrd_code rc;

    if (writable)
        return ledger_checkpoint(log, s, note, err);
    memset(&c, 0, sizeof(c));
    mrd_strlcpy(c.origin, s->name, sizeof(c.origin));
    c.size = ledger_size(log);
    mrd_time_format_taxii(now - now % 1000000, ts);
    /* "YYYY-MM-DDTHH:MM:SS" + "Z": the checkpoint's time has no fraction */
    (void)snprintf(c.time, sizeof(c.time), "%.19sZ", ts);
    rc = ledger_root(log, c.size, c.root, err);
    return rc == MRD_OK ? ckpt_sign(&c, s, note, err) : rc;
}

enum mrd_code hold_export_build(struct store *st, struct ledger *log, bool writable,
                                const struct ckpt_signer *signer, const char *case_id, int64_t now,
                                struct mrd_buf *pkg, struct hold_export *ret, struct mrd_err *err)
{
    struct case_holds *ch = NULL;
    struct export_ctx x = {0};
    struct evidence_object *objs = NULL;
    struct mrd_buf note;
    struct mrd_err e = {0};
    char created[MRD_TIME_TAXII_LEN + 1];
    uint64_t size;
    enum mrd_code rc;

    mrd_buf_init(&note, CKPT_MAX_NOTE);
    ch = mrd_calloc(1, sizeof(*ch));
    if (ch == NULL) {
        rc = mrd_err_set(err, MRD_E_NOMEM, "out of memory");
        goto out;
    }
    ch->now = now;
    rc = case_active(st, case_id, ch, err);
    if (rc != MRD_OK)
        goto out;
    for (size_t i = 0; i < ch->n; i++)
        if (store_hold_objects(st, ch->ids[i], export_cb, &x, &e) != MRD_OK) {
            rc = mrd_err_set(err, e.code == MRD_E_NOTFOUND ? MRD_E_DB : e.code, "%s", e.msg);
            goto out;
        }
    export_unique(&x);
    if (x.n == 0) {
        rc = mrd_err_set(err, MRD_E_NOTFOUND, "the holds of case '%s' preserve no stored object",
                         case_id);
        goto out;
    }
    size = ledger_size(log);
    objs = mrd_calloc(x.n, sizeof(*objs));
    if (objs == NULL) {
        rc = mrd_err_set(err, MRD_E_NOMEM, "out of memory");
        goto out;
    }
    if (sign_head(log, writable, signer, now, &note, &e) != MRD_OK) {
        rc =
            mrd_err_set(err, e.code == MRD_E_NOTFOUND ? MRD_E_IO : e.code, "checkpoint: %s", e.msg);
        goto out;
    }
    for (size_t i = 0; i < x.n; i++) {
        int64_t leaf = x.objs[i].leaf;

        if (leaf < 0 || (uint64_t)leaf >= size) {
            rc = mrd_err_set(err, MRD_E_NOTFOUND,
                             "%s: the ledger has not recorded this version yet (a running server "
                             "records new versions within a second); try again",
                             x.objs[i].id);
            goto out;
        }
        if (evidence_object_at(log, (uint64_t)leaf, x.objs[i].data, x.objs[i].len, size, &objs[i],
                               &e) != MRD_OK) {
            rc = mrd_err_set(err, MRD_E_NOTFOUND, "%s: %s", x.objs[i].id, e.msg);
            goto out;
        }
        objs[i].id = x.objs[i].id;
        objs[i].version = x.objs[i].version[0] != '\0' ? x.objs[i].version : NULL;
    }
    mrd_time_format_taxii(now, created);
    if (evidence_write(case_id, created, objs, x.n, note.data, note.len, signer, pkg, &e) !=
        MRD_OK) {
        rc = mrd_err_set(err, e.code == MRD_E_NOTFOUND ? MRD_E_IO : e.code, "%s", e.msg);
        goto out;
    }
    ret->objects = x.n;
    ret->tree_size = size;
out:
    for (size_t i = 0; i < x.n; i++)
        mrd_free(x.objs[i].data);
    mrd_free(x.objs);
    mrd_free(objs);
    mrd_free(ch);
    mrd_buf_release(&note);
    return rc;
}

enum mrd_code hold_export_record(struct store *st, const char *case_id, const uint8_t *pkg,
                                 size_t pkg_len, const struct hold_export *x, int64_t now,
                                 struct mrd_err *err)
{
    struct case_holds *ch = mrd_calloc(1, sizeof(*ch));
    uint8_t h[crypto_hash_sha256_BYTES];
    char hex[sizeof(h) * 2 + 1];
    enum mrd_code rc;

    if (ch == NULL)
        return mrd_err_set(err, MRD_E_NOMEM, "out of memory");
    ch->now = now;
    rc = case_active(st, case_id, ch, err);
    /* Each hold records that it was exported, and what was handed over. */
    crypto_hash_sha256(h, pkg, pkg_len);
    sodium_bin2hex(hex, sizeof(hex), h, sizeof(h));
    for (size_t i = 0; i < ch->n && rc == MRD_OK; i++) {
        struct hold_copy c;
        json_t *extra = json_object();

        (void)json_object_set_new(extra, "package_sha256", json_string(hex));
        (void)json_object_set_new(extra, "tree_size", json_integer((json_int_t)x->tree_size));
        (void)json_object_set_new(extra, "objects", json_integer((json_int_t)x->objects));
        rc = load_hold(st, ch->ids[i], &c, err);
        if (rc == MRD_OK)
            rc = save_hold(st, &c, "export", LEDGER_KIND_HOLD_EXPORT, now, extra, err);
        else
            json_decref(extra);
        json_decref(c.record);
    }
    mrd_free(ch);
    return rc;
}
