/*
 * select.c: the object versions a hold preserves (hold.h): every version of
 * given ids, what a STIX pattern selects, or what TAXII filters select.
 *
 * A pattern selects in passes over the store: first the SCOs it matches
 * (each one an observation of its own) and the indicators whose pattern
 * compares what it matches (pattern/simple.c terms, no parser of our own);
 * then, up to HOLD_REFERRER_PASSES times, the objects that refer to
 * something held.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "core/alloc.h"
#include "core/arena.h"
#include "core/json.h"
#include "core/str.h"
#include "hold/hold_int.h"
#include "pattern/pattern.h"
#include "taxii/taxii.h"

/* ---- the held set ---- */

static enum mrd_code items_add(struct hold__items *it, const struct store_held *o,
                               struct mrd_err *err)
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
static bool eval_sco(struct hold__items *it, const json_t *sco, int64_t t)
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
static bool indicator_matches(struct hold__items *it, const json_t *ind, int64_t t)
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
static bool refers_to_held(const struct hold__items *it, const json_t *obj)
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
    struct hold__items *it = ctx;
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
static enum mrd_code select_pattern(struct store *st, const struct store_find *f,
                                    struct hold__items *it, struct mrd_err *err)
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
    struct hold__items *it;
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
                                  const struct store_collection *only, struct hold__items *it,
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

enum mrd_code hold__select(struct store *st, const struct hold_request *req, struct hold__items *it,
                           struct mrd_err *err)
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
