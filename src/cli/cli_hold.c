/*
 * cli_hold.c: `meridian hold ...`, preservation orders (legal holds), and
 * the case-based `meridian evidence export --case ID` (docs/ledger.md,
 * "Holds").
 *
 * A hold freezes the object versions stored when it is created, chosen by
 * id, by STIX pattern or by TAXII filters, for --days (at most 90, the
 * Budapest Convention's article 16 period; renewable). While it is active
 * those versions cannot be deleted (TAXII DELETE answers 403 naming the
 * hold). Every action (create, renew, release, evidence export) is queued
 * in the store in the same transaction as the change and becomes a ledger
 * leaf: SHA-256 of the action's canonical JSON (RFC 8785), which records
 * the article 29 fields and a digest of the held versions.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "cli/cli.h"
#include "cli/cli_data.h"
#include "cli/cli_hold.h"
#include "cli/verbs.h"
#include "core/alloc.h"
#include "core/arena.h"
#include "core/json.h"
#include "core/str.h"
#include "core/timestamp.h"
#include "ledger/checkpoint.h"
#include "ledger/evidence.h"
#include "ledger/sync.h"
#include "pattern/pattern.h"
#include "taxii/taxii_int.h"

#define VERB "hold"
#define HOLD_DAYS_MAX 90
#define HOLD_TEXT_MAX 2048   /* one free-text field (authority, reason, ...) */
#define HOLD_OBJECTS_MAX 256 /* --object options */
#define HOLD_QUERY_MAX 4096  /* --query FILTERS */
#define HOLD_QUERY_ARGS 32

#define USEC_PER_DAY ((int64_t)86400 * 1000000)

/* ---- the held set ---- */

/* Object versions a hold will preserve, and a running digest of them. */
struct items {
    int64_t *seqs;
    size_t n, cap;
    crypto_hash_sha256_state digest;
    const struct pat_prog *prog; /* --pattern: keep only SCOs it matches */
    struct pat_scratch *scratch;
    char (*matched)[STORE_STIX_ID_MAX + 1]; /* --pattern: SCO ids matched */
    size_t n_matched, cap_matched;
    bool observed_pass; /* --pattern, second pass: observed-data refs */
    enum mrd_code eval_rc;
    char eval_msg[MRD_ERR_MSG_MAX];
};

static enum mrd_code items_add(struct items *it, const struct store_held *o, struct mrd_err *err)
{
    char line[STORE_STIX_ID_MAX + STORE_UUID_LEN + 128];
    uint8_t h[crypto_hash_sha256_BYTES];
    char hex[crypto_hash_sha256_BYTES * 2 + 1];

    /* Each selector yields a version once: --object ids are deduplicated
     * when parsed, a query's rows are distinct, and the pattern's two
     * passes take disjoint types. */
    if (it->n >= STORE_HOLD_ITEMS_MAX)
        return mrd_err_set(err, MRD_E_TOOBIG, "more than %d object versions selected",
                           STORE_HOLD_ITEMS_MAX);
    if (it->n == it->cap) {
        size_t ncap = it->cap == 0 ? 64 : it->cap * 2;
        int64_t *p = mrd_realloc(it->seqs, ncap * sizeof(*p));

        if (p == NULL)
            return mrd_err_set(err, MRD_E_NOMEM, "out of memory");
        it->seqs = p;
        it->cap = ncap;
    }
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

/* Whether id is one of the SCOs the first pass matched (sorted by then). */
static bool is_matched(const struct items *it, const char *id)
{
    return it->n_matched > 0 &&
           bsearch(id, it->matched, it->n_matched, sizeof(*it->matched), cmp_id) != NULL;
}

/* --pattern, first pass: each SCO is an observation of its own. */
static enum mrd_code pattern_cb(void *ctx, const struct store_held *o, struct mrd_err *err)
{
    struct items *it = ctx;
    const struct store_row *row = o->row;
    struct mrd_json_limits lim = {STORE_OBJECT_MAX, 128};
    json_t *j = NULL;
    bool match = false;
    enum mrd_code rc;

    if (it->eval_rc != MRD_OK)
        return MRD_OK;
    if (it->observed_pass) {
        json_t *refs, *v;
        size_t i;

        if (row->type_len != 13 || memcmp(row->type, "observed-data", 13) != 0)
            return MRD_OK;
        if (mrd_json_parse(row->body, row->body_len, &lim, &j, NULL) != MRD_OK)
            return MRD_OK;
        refs = json_object_get(j, "object_refs");
        json_array_foreach(refs, i, v)
        {
            const char *s = json_string_value(v);

            if (s != NULL && is_matched(it, s))
                match = true;
        }
        json_decref(j);
        return match ? items_add(it, o, err) : MRD_OK;
    }
    if (row->created_usec != STORE_TIME_NONE)
        return MRD_OK; /* SDOs and SROs carry `created`; SCOs do not */
    if (mrd_json_parse(row->body, row->body_len, &lim, &j, NULL) != MRD_OK)
        return MRD_OK;
    {
        const json_t *scos[1] = {j};
        struct pat_obs obs = {.scos = scos, .nscos = 1, .count = 1};
        struct mrd_err e = {0};

        obs.first_usec = obs.last_usec = row->date_added;
        rc = pat_eval_obs(it->prog, &obs, 1, it->scratch, &match, &e);
        if (rc != MRD_OK && rc != MRD_E_INVALID) {
            it->eval_rc = rc;
            mrd_strlcpy(it->eval_msg, e.msg, sizeof(it->eval_msg));
        }
    }
    json_decref(j);
    if (!match)
        return MRD_OK;
    if (it->n_matched == it->cap_matched) {
        size_t ncap = it->cap_matched == 0 ? 16 : it->cap_matched * 2;
        void *p = mrd_realloc(it->matched, ncap * sizeof(*it->matched));

        if (p == NULL)
            return mrd_err_set(err, MRD_E_NOMEM, "out of memory");
        it->matched = p;
        it->cap_matched = ncap;
    }
    (void)snprintf(it->matched[it->n_matched++], STORE_STIX_ID_MAX + 1, "%.*s", (int)row->id_len,
                   row->id);
    return items_add(it, o, err);
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

/* Splits "k=v&k=v" (percent-decoding in place) into args. */
static int split_query(char *q, struct http_kv *args, size_t *ret_n)
{
    size_t n = 0;

    for (char *p = q; *p != '\0';) {
        char *amp = strchr(p, '&'), *eq, *w, *r;

        if (amp != NULL)
            *amp = '\0';
        if (*p != '\0') {
            if (n >= HOLD_QUERY_ARGS)
                return cli_usage_error(&cli_verb_hold, "--query: more than %d filters",
                                       HOLD_QUERY_ARGS);
            for (w = r = p; *r != '\0'; r++) {
                if (*r == '%' && mrd_hex_digit((unsigned char)r[1]) >= 0 &&
                    mrd_hex_digit((unsigned char)r[2]) >= 0) {
                    *w++ = (char)(mrd_hex_digit((unsigned char)r[1]) * 16 +
                                  mrd_hex_digit((unsigned char)r[2]));
                    r += 2;
                } else {
                    *w++ = *r == '+' ? ' ' : *r;
                }
            }
            *w = '\0';
            eq = strchr(p, '=');
            if (eq != NULL)
                *eq = '\0';
            args[n].key = p;
            args[n].value = eq != NULL ? eq + 1 : NULL;
            n++;
        }
        if (amp == NULL)
            break;
        p = amp + 1;
    }
    *ret_n = n;
    return CLI_EXIT_OK;
}

struct coll_list {
    struct store_collection *c;
    size_t n, cap;
};

static enum mrd_code coll_cb(void *ctx, const struct store_collection *c)
{
    struct coll_list *l = ctx;

    if (l->n == l->cap) {
        size_t ncap = l->cap == 0 ? 8 : l->cap * 2;
        void *p = mrd_realloc(l->c, ncap * sizeof(*l->c));

        if (p == NULL)
            return MRD_E_NOMEM;
        l->c = p;
        l->cap = ncap;
    }
    l->c[l->n++] = *c;
    return MRD_OK;
}

static int select_query(struct store *st, const char *query, const struct store_collection *only,
                        struct items *it)
{
    char q[HOLD_QUERY_MAX + 1];
    struct http_kv args[HOLD_QUERY_ARGS];
    struct taxii_filter f;
    struct mrd_arena arena;
    struct coll_list l = {0};
    struct mrd_err err = {0};
    size_t n = 0;
    int ret;

    if (strlen(query) > HOLD_QUERY_MAX)
        return cli_usage_error(&cli_verb_hold, "--query is longer than %d bytes", HOLD_QUERY_MAX);
    mrd_strlcpy(q, query, sizeof(q));
    ret = split_query(q, args, &n);
    if (ret != CLI_EXIT_OK)
        return ret;
    mrd_arena_init(&arena, (size_t)1 << 20);
    if (taxii_filter_parse(args, n,
                           TAXII_F_ADDED_AFTER | TAXII_F_ID | TAXII_F_TYPE | TAXII_F_VERSION |
                               TAXII_F_SPEC,
                           &arena, &f, &err) != MRD_OK) {
        mrd_arena_release(&arena);
        return cli_usage_error(&cli_verb_hold, "--query: %s", err.msg);
    }
    for (size_t i = 0; i < n; i++)
        if (strcmp(args[i].key, "added_after") != 0 && strncmp(args[i].key, "match[", 6) != 0) {
            mrd_arena_release(&arena);
            return cli_usage_error(&cli_verb_hold,
                                   "--query: '%s' is not a filter (added_after, match[id], "
                                   "match[type], match[version], match[spec_version])",
                                   args[i].key);
        }
    if (only != NULL)
        (void)coll_cb(&l, only);
    else if (store_collection_list(st, NULL, coll_cb, &l, &err) != MRD_OK)
        ret = CLI_EXIT_USAGE;
    for (size_t i = 0; i < l.n && ret == CLI_EXIT_OK; i++) {
        struct store_query sq = {.collection = l.c[i].key,
                                 .added_after = f.added_after,
                                 .match = f.has_match ? &f.match : NULL,
                                 .want_body = true};
        struct query_ctx qc = {.it = it, .c = &l.c[i]};
        struct store_query_result res;

        if (store_objects_query(st, &sq, NULL, query_emit, &qc, &res, &err) != MRD_OK)
            ret = CLI_EXIT_USAGE;
    }
    if (ret != CLI_EXIT_OK)
        cli_errorf(VERB, "%s", err.msg[0] ? err.msg : "cannot list collections");
    mrd_free(l.c);
    mrd_arena_release(&arena);
    return ret;
}

/* ---- records ---- */

static void time_str(int64_t usec, char out[MRD_TIME_TAXII_LEN + 1])
{
    mrd_time_format_taxii(usec, out);
}

/* Writes the JCS form of v into a NUL-terminated buffer. */
static int jcs(json_t *v, struct mrd_buf *out)
{
    struct mrd_err err = {0};

    mrd_buf_reset(out);
    if (v == NULL || mrd_jcs_write(v, out, &err) != MRD_OK || mrd_buf_append(out, "", 1, &err)) {
        cli_errorf(VERB, "cannot encode a record: %s", err.msg[0] ? err.msg : "out of memory");
        return CLI_EXIT_USAGE;
    }
    out->len--; /* the NUL is not part of the record */
    return CLI_EXIT_OK;
}

/* The ledger event of an action on hold (record: its current JSON). */
static int event_record(const char *action, int64_t now, json_t *record, json_t *extra,
                        struct mrd_buf *out)
{
    char ts[MRD_TIME_TAXII_LEN + 1];
    json_t *ev = json_object();
    int ret;

    time_str(now, ts);
    (void)json_object_set_new(ev, "type", json_string("meridian-hold-action"));
    (void)json_object_set_new(ev, "action", json_string(action));
    (void)json_object_set_new(ev, "time", json_string(ts));
    (void)json_object_set(ev, "hold", record);
    if (extra != NULL)
        (void)json_object_update(ev, extra);
    ret = jcs(ev, out);
    json_decref(ev);
    json_decref(extra);
    return ret;
}

static const char *state_of(const struct store_hold *h, int64_t now)
{
    if (h->released_usec != STORE_TIME_NONE)
        return "released";
    return h->expires_usec > now ? "active" : "lapsed";
}

/* ---- hold create ---- */

struct create_opts {
    const char *case_id, *authority, *reason, *offence, *relation, *location, *necessity;
    const char *pattern, *query, *collection;
    const char *objects[HOLD_OBJECTS_MAX];
    size_t n_objects;
    unsigned days;
    bool mla;
};

static int text_ok(const char *what, const char *s)
{
    if (s == NULL)
        return CLI_EXIT_OK;
    if (strlen(s) > HOLD_TEXT_MAX)
        return cli_usage_error(&cli_verb_hold, "--%s is longer than %d bytes", what, HOLD_TEXT_MAX);
    if (mrd_utf8_check(s, strlen(s)) != strlen(s))
        return cli_usage_error(&cli_verb_hold, "--%s is not valid UTF-8", what);
    return CLI_EXIT_OK;
}

static int parse_days(const char *s, unsigned *ret)
{
    uint64_t v;

    if (mrd_str_to_u64(s, strlen(s), HOLD_DAYS_MAX, &v, NULL) != MRD_OK || v == 0)
        return cli_usage_error(&cli_verb_hold,
                               "--days: '%s' must be 1..%d (a preservation order lasts at most "
                               "90 days; renew it)",
                               s, HOLD_DAYS_MAX);
    *ret = (unsigned)v;
    return CLI_EXIT_OK;
}

static int parse_create(int argc, char **argv, const char **data, struct create_opts *o)
{
    static const char *const text_opts[] = {"case",     "authority",  "reason",    "offence",
                                            "relation", "location",   "necessity", "pattern",
                                            "query",    "collection", NULL};
    const char **slots[] = {&o->case_id,  &o->authority, &o->reason,  &o->offence, &o->relation,
                            &o->location, &o->necessity, &o->pattern, &o->query,   &o->collection};
    int ret;

    memset(o, 0, sizeof(*o));
    o->days = HOLD_DAYS_MAX;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        size_t k;

        if (strcmp(a, "--mla") == 0) {
            o->mla = true;
            continue;
        }
        if (strncmp(a, "--", 2) != 0 || i + 1 >= argc)
            return cli_usage_error(&cli_verb_hold, "create: unexpected argument '%s'", a);
        if (strcmp(a, "--data") == 0) {
            *data = argv[++i];
            continue;
        }
        if (strcmp(a, "--days") == 0) {
            if ((ret = parse_days(argv[++i], &o->days)) != CLI_EXIT_OK)
                return ret;
            continue;
        }
        if (strcmp(a, "--object") == 0) {
            if (o->n_objects >= HOLD_OBJECTS_MAX)
                return cli_usage_error(&cli_verb_hold, "more than %d --object", HOLD_OBJECTS_MAX);
            {
                const char *id = argv[++i];
                bool dup = false;

                for (size_t j = 0; j < o->n_objects && !dup; j++)
                    dup = strcmp(o->objects[j], id) == 0;
                if (!dup)
                    o->objects[o->n_objects++] = id;
            }
            continue;
        }
        for (k = 0; text_opts[k] != NULL; k++)
            if (strcmp(a + 2, text_opts[k]) == 0)
                break;
        if (text_opts[k] == NULL)
            return cli_usage_error(&cli_verb_hold, "create: unknown option '%s'", a);
        if (*slots[k] != NULL)
            return cli_usage_error(&cli_verb_hold, "create: '%s' given twice", a);
        *slots[k] = argv[++i];
        if ((ret = text_ok(text_opts[k], *slots[k])) != CLI_EXIT_OK)
            return ret;
    }
    if (o->case_id == NULL || o->authority == NULL || o->reason == NULL)
        return cli_usage_error(&cli_verb_hold, "create needs --case, --authority and --reason");
    if ((o->n_objects > 0) + (o->pattern != NULL) + (o->query != NULL) != 1)
        return cli_usage_error(&cli_verb_hold,
                               "create needs exactly one of --object ID..., --pattern P, "
                               "--query FILTERS");
    if (strlen(o->case_id) > STORE_CASE_MAX)
        return cli_usage_error(&cli_verb_hold, "--case is longer than %d bytes", STORE_CASE_MAX);
    return CLI_EXIT_OK;
}

static json_t *str_or_null(const char *s)
{
    return s != NULL ? json_string(s) : json_null();
}

static int select_items(struct store *st, const struct create_opts *o,
                        const struct store_collection *coll, struct items *it)
{
    struct mrd_err err = {0};
    enum mrd_code rc = MRD_OK;

    if (o->query != NULL)
        return select_query(st, o->query, coll, it);
    if (o->n_objects > 0) {
        for (size_t i = 0; i < o->n_objects; i++) {
            struct store_find f = {.id = o->objects[i],
                                   .id_len = strlen(o->objects[i]),
                                   .version_usec = STORE_TIME_NONE,
                                   .collection = coll != NULL ? coll->key : 0,
                                   .leaf = -1};
            size_t before = it->n;

            rc = store_objects_find(st, &f, add_cb, it, &err);
            if (rc != MRD_OK)
                break;
            if (it->n == before) {
                cli_errorf(VERB, "no stored object %s%s", o->objects[i],
                           coll != NULL ? " in that collection" : "");
                return CLI_EXIT_FAIL;
            }
        }
    } else {
        struct pat_prog *prog = NULL;
        struct store_find f = {.version_usec = STORE_TIME_NONE,
                               .collection = coll != NULL ? coll->key : 0,
                               .leaf = -1};

        if (pat_prog_new(o->pattern, strlen(o->pattern), &prog, &err) != MRD_OK)
            return cli_usage_error(&cli_verb_hold, "--pattern: %s", err.msg);
        it->prog = prog;
        it->scratch = pat_scratch_new();
        rc = store_objects_find(st, &f, pattern_cb, it, &err);
        if (rc == MRD_OK && it->n_matched > 0) {
            qsort(it->matched, it->n_matched, sizeof(*it->matched), cmp_id);
            it->observed_pass = true;
            rc = store_objects_find(st, &f, pattern_cb, it, &err);
        }
        pat_scratch_free(it->scratch);
        pat_prog_free(prog);
        if (rc == MRD_OK && it->eval_rc != MRD_OK) {
            cli_errorf(VERB, "--pattern: %s", it->eval_msg);
            return CLI_EXIT_USAGE;
        }
    }
    if (rc != MRD_OK) {
        cli_errorf(VERB, "%s", err.msg);
        return CLI_EXIT_USAGE;
    }
    return CLI_EXIT_OK;
}

static int cmd_create(int argc, char **argv)
{
    const char *data = NULL;
    struct create_opts o;
    struct store *st = NULL;
    struct store_collection coll;
    struct items it;
    struct store_hold h;
    struct store_ledger_event ev;
    struct mrd_buf rec, evrec;
    char node_id[STORE_META_VAL_MAX + 1], own[STORE_META_VAL_MAX + 1];
    char ts_created[MRD_TIME_TAXII_LEN + 1], ts_expires[MRD_TIME_TAXII_LEN + 1];
    char location[PATH_MAX + 256], absdir[PATH_MAX];
    uint8_t digest[crypto_hash_sha256_BYTES];
    char digest_hex[sizeof(digest) * 2 + 1];
    int64_t now = mrd_time_now_usec();
    struct mrd_err err = {0};
    json_t *record = NULL, *sel;
    int ret;

    memset(&it, 0, sizeof(it));
    crypto_hash_sha256_init(&it.digest);
    mrd_buf_init(&rec, STORE_HOLD_RECORD_MAX + 1);
    mrd_buf_init(&evrec, STORE_HOLD_RECORD_MAX + 1);
    ret = parse_create(argc, argv, &data, &o);
    if (ret != CLI_EXIT_OK)
        goto out;
    data = cli_data_dir(data);
    ret = cli_data_open(VERB, data, &st);
    if (ret != CLI_EXIT_OK)
        goto out;
    if (o.collection != NULL &&
        (ret = cli_data_collection(VERB, st, o.collection, &coll)) != CLI_EXIT_OK)
        goto out;
    ret = select_items(st, &o, o.collection != NULL ? &coll : NULL, &it);
    if (ret != CLI_EXIT_OK)
        goto out;
    if (store_meta_get(st, "node_id", node_id, sizeof(node_id), &err) != MRD_OK ||
        store_meta_get(st, "own_org", own, sizeof(own), &err) != MRD_OK) {
        cli_errorf(VERB, "the data directory has no node id or own org (%s)", err.msg);
        ret = CLI_EXIT_USAGE;
        goto out;
    }
    if (realpath(data, absdir) == NULL)
        mrd_strlcpy(absdir, data, sizeof(absdir));
    (void)snprintf(location, sizeof(location), "meridian node %s (org %s), data directory %s",
                   node_id, own, absdir);
    crypto_hash_sha256_final(&it.digest, digest);
    sodium_bin2hex(digest_hex, sizeof(digest_hex), digest, sizeof(digest));
    memset(&h, 0, sizeof(h));
    store_uuid4(h.id);
    mrd_strlcpy(h.case_id, o.case_id, sizeof(h.case_id));
    h.created_usec = now;
    h.expires_usec = now + (int64_t)o.days * USEC_PER_DAY;
    h.released_usec = STORE_TIME_NONE;
    time_str(h.created_usec, ts_created);
    time_str(h.expires_usec, ts_expires);
    sel = json_object();
    if (o.n_objects > 0) {
        json_t *ids = json_array();

        for (size_t i = 0; i < o.n_objects; i++)
            (void)json_array_append_new(ids, json_string(o.objects[i]));
        (void)json_object_set_new(sel, "objects", ids);
    }
    if (o.pattern != NULL)
        (void)json_object_set_new(sel, "pattern", json_string(o.pattern));
    if (o.query != NULL)
        (void)json_object_set_new(sel, "query", json_string(o.query));
    if (o.collection != NULL)
        (void)json_object_set_new(sel, "collection", json_string(coll.id));
    record = json_object();
    (void)json_object_set_new(record, "id", json_string(h.id));
    (void)json_object_set_new(record, "case", json_string(o.case_id));
    (void)json_object_set_new(record, "requesting_authority", json_string(o.authority));
    (void)json_object_set_new(record, "reason", json_string(o.reason));
    (void)json_object_set_new(record, "offence", str_or_null(o.offence));
    (void)json_object_set_new(record, "data_relation", str_or_null(o.relation));
    (void)json_object_set_new(record, "data_location",
                              json_string(o.location != NULL ? o.location : location));
    (void)json_object_set_new(record, "necessity", str_or_null(o.necessity));
    (void)json_object_set_new(record, "mutual_assistance_intended", json_boolean(o.mla));
    (void)json_object_set_new(record, "selector", sel);
    (void)json_object_set_new(record, "created", json_string(ts_created));
    (void)json_object_set_new(record, "expires", json_string(ts_expires));
    (void)json_object_set_new(record, "released", json_null());
    (void)json_object_set_new(record, "renewals", json_integer(0));
    (void)json_object_set_new(record, "items", json_integer((json_int_t)it.n));
    (void)json_object_set_new(record, "items_sha256", json_string(digest_hex));
    if ((ret = jcs(record, &rec)) != CLI_EXIT_OK ||
        (ret = event_record("create", now, record, NULL, &evrec)) != CLI_EXIT_OK)
        goto out;
    if (rec.len > STORE_HOLD_RECORD_MAX || evrec.len > STORE_HOLD_RECORD_MAX) {
        ret = cli_usage_error(&cli_verb_hold, "the hold's record exceeds %zu bytes",
                              STORE_HOLD_RECORD_MAX);
        goto out;
    }
    h.record = rec.data;
    h.record_len = rec.len;
    ev = (struct store_ledger_event){.kind = LEDGER_KIND_HOLD_CREATE,
                                     .time_usec = now,
                                     .record = evrec.data,
                                     .record_len = evrec.len};
    if (store_hold_create(st, &h, it.seqs, it.n, &ev, &err) != MRD_OK) {
        cli_errorf(VERB, "%s", err.msg);
        ret = CLI_EXIT_USAGE;
        goto out;
    }
    cli_data_ledger_catch_up(VERB, st, data);
    fprintf(stderr, "meridian hold: %s preserves %zu object version(s) of case '%s' until %s\n",
            h.id, it.n, MRD_ESC(o.case_id), ts_expires);
    printf("%s\n", h.id);
out:
    json_decref(record);
    mrd_free(it.seqs);
    mrd_free(it.matched);
    mrd_buf_release(&rec);
    mrd_buf_release(&evrec);
    store_close(st);
    return ret;
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

static int load_hold(struct store *st, const char *id, struct hold_copy *ret)
{
    struct mrd_err err = {0};

    memset(ret, 0, sizeof(*ret));
    if (strlen(id) != STORE_UUID_LEN ||
        store_hold_list(st, id, NULL, copy_cb, ret, &err) != MRD_OK) {
        cli_errorf(VERB, "%s",
                   err.msg[0] ? err.msg : "no such hold (give the id hold create printed)");
        json_decref(ret->record);
        ret->record = NULL;
        return CLI_EXIT_USAGE;
    }
    return CLI_EXIT_OK;
}

/* Writes hold c (record updated) with a ledger event for action. */
static int save_hold(struct store *st, struct hold_copy *c, const char *action, uint8_t kind,
                     int64_t now, json_t *extra)
{
    struct mrd_buf rec, evrec;
    struct store_ledger_event ev;
    struct mrd_err err = {0};
    int ret;

    mrd_buf_init(&rec, STORE_HOLD_RECORD_MAX + 1);
    mrd_buf_init(&evrec, STORE_HOLD_RECORD_MAX + 1);
    ret = jcs(c->record, &rec);
    if (ret == CLI_EXIT_OK)
        ret = event_record(action, now, c->record, extra, &evrec);
    else
        json_decref(extra);
    if (ret == CLI_EXIT_OK) {
        c->h.record = rec.data;
        c->h.record_len = rec.len;
        ev = (struct store_ledger_event){
            .kind = kind, .time_usec = now, .record = evrec.data, .record_len = evrec.len};
        if (store_hold_update(st, &c->h, &ev, &err) != MRD_OK) {
            cli_errorf(VERB, "%s", err.msg);
            ret = CLI_EXIT_USAGE;
        }
    }
    c->h.record = NULL;
    mrd_buf_release(&rec);
    mrd_buf_release(&evrec);
    return ret;
}

static int cmd_change(int argc, char **argv, bool renew)
{
    const char *data = NULL, *id = NULL, *why = NULL;
    unsigned days = HOLD_DAYS_MAX;
    struct store *st = NULL;
    struct hold_copy c = {0};
    char ts[MRD_TIME_TAXII_LEN + 1];
    int64_t now = mrd_time_now_usec();
    int ret;

    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--data") == 0 && i + 1 < argc)
            data = argv[++i];
        else if (renew && strcmp(argv[i], "--days") == 0 && i + 1 < argc) {
            if ((ret = parse_days(argv[++i], &days)) != CLI_EXIT_OK)
                return ret;
        } else if (!renew && strcmp(argv[i], "--reason") == 0 && i + 1 < argc) {
            why = argv[++i];
            if ((ret = text_ok("reason", why)) != CLI_EXIT_OK)
                return ret;
        } else if (argv[i][0] != '-' && id == NULL)
            id = argv[i];
        else
            return cli_usage_error(&cli_verb_hold, "unexpected argument '%s'", argv[i]);
    }
    if (id == NULL)
        return cli_usage_error(&cli_verb_hold, "%s needs a hold id", renew ? "renew" : "release");
    data = cli_data_dir(data);
    ret = cli_data_open(VERB, data, &st);
    if (ret == CLI_EXIT_OK)
        ret = load_hold(st, id, &c);
    if (ret != CLI_EXIT_OK)
        goto out;
    if (c.h.released_usec != STORE_TIME_NONE) {
        cli_errorf(VERB, "hold %s was released; create a new hold instead", id);
        ret = CLI_EXIT_FAIL;
        goto out;
    }
    if (renew) {
        json_int_t n = json_integer_value(json_object_get(c.record, "renewals"));

        c.h.expires_usec = now + (int64_t)days * USEC_PER_DAY;
        time_str(c.h.expires_usec, ts);
        (void)json_object_set_new(c.record, "expires", json_string(ts));
        (void)json_object_set_new(c.record, "renewals", json_integer(n + 1));
        ret = save_hold(st, &c, "renew", LEDGER_KIND_HOLD_RENEW, now, NULL);
        if (ret == CLI_EXIT_OK)
            fprintf(stderr, "meridian hold: %s renewed until %s\n", MRD_ESC(id), ts);
    } else {
        c.h.released_usec = now;
        time_str(now, ts);
        (void)json_object_set_new(c.record, "released", json_string(ts));
        (void)json_object_set_new(c.record, "release_reason", str_or_null(why));
        ret = save_hold(st, &c, "release", LEDGER_KIND_HOLD_RELEASE, now, NULL);
        if (ret == CLI_EXIT_OK)
            fprintf(stderr, "meridian hold: %s released; its objects may be deleted again\n",
                    MRD_ESC(id));
    }
    if (ret == CLI_EXIT_OK)
        cli_data_ledger_catch_up(VERB, st, data);
out:
    json_decref(c.record);
    store_close(st);
    return ret;
}

struct list_ctx {
    bool all;
    int64_t now;
    size_t shown;
};

static enum mrd_code list_cb(void *ctx, const struct store_hold *h, struct mrd_err *err)
{
    struct list_ctx *l = ctx;
    struct mrd_json_limits lim = {STORE_HOLD_RECORD_MAX, 16};
    const char *state = state_of(h, l->now);
    char ts[MRD_TIME_TAXII_LEN + 1];
    json_t *j = NULL;

    (void)err;
    if (!l->all && strcmp(state, "active") != 0)
        return MRD_OK;
    if (l->shown++ == 0)
        printf("%-36s  %-8s  %-27s  %7s  %s\n", "HOLD", "STATE", "EXPIRES", "OBJECTS", "CASE");
    time_str(h->expires_usec, ts);
    (void)mrd_json_parse(h->record, h->record_len, &lim, &j, NULL);
    printf("%-36s  %-8s  %-27s  %7llu  %s (%s)\n", h->id, state, ts, (unsigned long long)h->n_items,
           MRD_ESC(h->case_id),
           json_string_value(json_object_get(j, "requesting_authority")) != NULL
               ? MRD_ESC(json_string_value(json_object_get(j, "requesting_authority")))
               : "?");
    json_decref(j);
    return MRD_OK;
}

static int cmd_list(int argc, char **argv)
{
    const char *data = NULL, *case_id = NULL;
    struct list_ctx l = {.now = mrd_time_now_usec()};
    struct store *st = NULL;
    struct mrd_err err = {0};
    int ret;

    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--data") == 0 && i + 1 < argc)
            data = argv[++i];
        else if (strcmp(argv[i], "--case") == 0 && i + 1 < argc)
            case_id = argv[++i];
        else if (strcmp(argv[i], "--all") == 0)
            l.all = true;
        else
            return cli_usage_error(&cli_verb_hold, "list: unexpected argument '%s'", argv[i]);
    }
    ret = cli_data_open(VERB, cli_data_dir(data), &st);
    if (ret != CLI_EXIT_OK)
        return ret;
    if (store_hold_list(st, NULL, case_id, list_cb, &l, &err) != MRD_OK) {
        cli_errorf(VERB, "%s", err.msg);
        ret = CLI_EXIT_USAGE;
    } else if (l.shown == 0) {
        fprintf(stderr, "meridian hold: no %sholds%s\n", l.all ? "" : "active ",
                case_id != NULL ? " for that case" : "");
    }
    store_close(st);
    return ret;
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
    cli_data_time(
        o->row->version_usec == STORE_VERSION_NONE ? STORE_TIME_NONE : o->row->version_usec, v);
    (void)json_object_set_new(it, "collection", json_string(o->collection_id));
    (void)json_object_set_new(it, "id", json_stringn(o->row->id, o->row->id_len));
    (void)json_object_set_new(it, "version", json_string(v));
    (void)json_object_set_new(it, "sha256", json_string(hex));
    (void)json_object_set_new(it, "ledger_leaf",
                              o->leaf >= 0 ? json_integer(o->leaf) : json_null());
    (void)json_array_append_new(arr, it);
    return MRD_OK;
}

static int cmd_show(int argc, char **argv)
{
    const char *data = NULL, *id = NULL;
    struct store *st = NULL;
    struct hold_copy c = {0};
    struct mrd_err err = {0};
    json_t *items = json_array();
    int ret;

    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--data") == 0 && i + 1 < argc)
            data = argv[++i];
        else if (argv[i][0] != '-' && id == NULL)
            id = argv[i];
        else {
            json_decref(items);
            return cli_usage_error(&cli_verb_hold, "show: unexpected argument '%s'", argv[i]);
        }
    }
    if (id == NULL) {
        json_decref(items);
        return cli_usage_error(&cli_verb_hold, "show needs a hold id");
    }
    ret = cli_data_open(VERB, cli_data_dir(data), &st);
    if (ret == CLI_EXIT_OK)
        ret = load_hold(st, id, &c);
    if (ret == CLI_EXIT_OK && store_hold_objects(st, id, show_item_cb, items, &err) != MRD_OK) {
        cli_errorf(VERB, "%s", err.msg);
        ret = CLI_EXIT_USAGE;
    }
    if (ret == CLI_EXIT_OK) {
        (void)json_object_set_new(c.record, "state",
                                  json_string(state_of(&c.h, mrd_time_now_usec())));
        (void)json_object_set(c.record, "held_versions", items);
        (void)cli_print_json(c.record, JSON_INDENT(2) | JSON_SORT_KEYS);
    }
    json_decref(items);
    json_decref(c.record);
    store_close(st);
    return ret;
}

/* ---- evidence export --case ---- */

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
    if (x->n == x->cap) {
        size_t ncap = x->cap == 0 ? 64 : x->cap * 2;
        void *p = mrd_realloc(x->objs, ncap * sizeof(*x->objs));

        if (p == NULL)
            return mrd_err_set(err, MRD_E_NOMEM, "out of memory");
        x->objs = p;
        x->cap = ncap;
    }
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
    char ids[64][STORE_UUID_LEN + 1];
    size_t n;
    int64_t now;
};

static enum mrd_code case_cb(void *ctx, const struct store_hold *h, struct mrd_err *err)
{
    struct case_holds *c = ctx;

    if (strcmp(state_of(h, c->now), "active") != 0)
        return MRD_OK;
    if (c->n >= 64)
        return mrd_err_set(err, MRD_E_TOOBIG, "more than 64 active holds in one case");
    mrd_strlcpy(c->ids[c->n++], h->id, STORE_UUID_LEN + 1);
    return MRD_OK;
}

/* Opens the ledger to prove from: for writing (synced, and then it keeps
 * the checkpoint we sign) when no server holds it, else read-only. */
static int open_for_export(struct store *st, const char *data, struct ledger **ret, bool *writable)
{
    char path[LEDGER_MAX_PATH];
    struct mrd_err err = {0};
    int r = cli_data_ledger(VERB, st, data, ret);

    if (r != CLI_EXIT_OK)
        return r;
    *writable = *ret != NULL;
    if (*ret != NULL)
        return CLI_EXIT_OK;
    (void)snprintf(path, sizeof(path), "%s/%s", data, LEDGER_DATA_SUBDIR);
    if (ledger_open(path, LEDGER_OPEN_READONLY, ret, NULL, &err) != MRD_OK) {
        cli_errorf(VERB, "%s", err.msg);
        return CLI_EXIT_USAGE;
    }
    return CLI_EXIT_OK;
}

/* Signs a checkpoint of log's current tree into note (kept as the log's
 * checkpoint when writable). */
static enum mrd_code sign_head(struct ledger *log, bool writable, const struct ckpt_signer *s,
                               struct mrd_buf *note, struct mrd_err *err)
{
    struct ckpt c;
    int64_t now = mrd_time_now_usec();
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

int cli_hold_export_case(const char *data, const char *case_id, const char *outp)
{
    struct store *st = NULL;
    struct ledger *log = NULL;
    struct case_holds ch = {.now = mrd_time_now_usec()};
    struct export_ctx x = {0};
    struct evidence_object *objs = NULL;
    struct ckpt_signer signer;
    struct mrd_buf note, pkg;
    struct mrd_err err = {0};
    uint8_t h[crypto_hash_sha256_BYTES];
    char hex[sizeof(h) * 2 + 1], created[MRD_TIME_TAXII_LEN + 1];
    bool writable = false;
    uint64_t size;
    int ret, fd = -1;

    memset(&signer, 0, sizeof(signer));
    mrd_buf_init(&note, CKPT_MAX_NOTE);
    mrd_buf_init(&pkg, EVIDENCE_MAX_PACKAGE);
    data = cli_data_dir(data);
    ret = cli_data_open("evidence", data, &st);
    if (ret != CLI_EXIT_OK)
        goto out;
    if (store_hold_list(st, NULL, case_id, case_cb, &ch, &err) != MRD_OK) {
        cli_errorf("evidence", "%s", err.msg);
        ret = CLI_EXIT_USAGE;
        goto out;
    }
    if (ch.n == 0) {
        cli_errorf("evidence", "case '%s' has no active hold (see 'meridian hold list --all')",
                   case_id);
        ret = CLI_EXIT_FAIL;
        goto out;
    }
    /* The ledger first: opening it for writing records what is pending. */
    ret = cli_data_signer("evidence", st, data, &signer);
    if (ret == CLI_EXIT_OK)
        ret = open_for_export(st, data, &log, &writable);
    if (ret != CLI_EXIT_OK)
        goto out;
    for (size_t i = 0; i < ch.n; i++)
        if (store_hold_objects(st, ch.ids[i], export_cb, &x, &err) != MRD_OK) {
            cli_errorf("evidence", "%s", err.msg);
            ret = CLI_EXIT_USAGE;
            goto out;
        }
    export_unique(&x);
    if (x.n == 0) {
        cli_errorf("evidence", "the holds of case '%s' preserve no stored object", case_id);
        ret = CLI_EXIT_FAIL;
        goto out;
    }
    size = ledger_size(log);
    objs = mrd_calloc(x.n, sizeof(*objs));
    if (objs == NULL) {
        cli_errorf("evidence", "out of memory");
        ret = CLI_EXIT_USAGE;
        goto out;
    }
    if (sign_head(log, writable, &signer, &note, &err) != MRD_OK) {
        cli_errorf("evidence", "checkpoint: %s", err.msg);
        ret = CLI_EXIT_USAGE;
        goto out;
    }
    for (size_t i = 0; i < x.n; i++) {
        int64_t leaf = x.objs[i].leaf;

        if (leaf < 0 || (uint64_t)leaf >= size) {
            cli_errorf("evidence",
                       "%s: the ledger has not recorded this version yet (a running server "
                       "records new versions within a second); try again",
                       x.objs[i].id);
            ret = CLI_EXIT_FAIL;
            goto out;
        }
        if (evidence_object_at(log, (uint64_t)leaf, x.objs[i].data, x.objs[i].len, size, &objs[i],
                               &err) != MRD_OK) {
            cli_errorf("evidence", "%s: %s", x.objs[i].id, err.msg);
            ret = CLI_EXIT_FAIL;
            goto out;
        }
        objs[i].id = x.objs[i].id;
        objs[i].version = x.objs[i].version[0] != '\0' ? x.objs[i].version : NULL;
    }
    mrd_time_format_taxii(mrd_time_now_usec(), created);
    if (evidence_write(case_id, created, objs, x.n, note.data, note.len, &signer, &pkg, &err) !=
        MRD_OK) {
        cli_errorf("evidence", "%s", err.msg);
        ret = CLI_EXIT_USAGE;
        goto out;
    }
    fd = open(outp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0 || write(fd, pkg.data, pkg.len) != (ssize_t)pkg.len || fsync(fd) != 0) {
        cli_errorf("evidence", "%s: %s", outp, strerror(errno));
        ret = CLI_EXIT_USAGE;
        goto out;
    }
    /* Each hold records that it was exported, and what was handed over. */
    crypto_hash_sha256(h, (const unsigned char *)pkg.data, pkg.len);
    sodium_bin2hex(hex, sizeof(hex), h, sizeof(h));
    for (size_t i = 0; i < ch.n && ret == CLI_EXIT_OK; i++) {
        struct hold_copy c;
        json_t *extra = json_object();

        (void)json_object_set_new(extra, "package_sha256", json_string(hex));
        (void)json_object_set_new(extra, "tree_size", json_integer((json_int_t)size));
        (void)json_object_set_new(extra, "objects", json_integer((json_int_t)x.n));
        ret = load_hold(st, ch.ids[i], &c);
        if (ret == CLI_EXIT_OK)
            ret = save_hold(st, &c, "export", LEDGER_KIND_HOLD_EXPORT, mrd_time_now_usec(), extra);
        else
            json_decref(extra);
        json_decref(c.record);
    }
    ledger_free(log);
    log = NULL;
    if (ret == CLI_EXIT_OK) {
        cli_data_ledger_catch_up("evidence", st, data);
        printf("%s: %zu objects of case '%s', proved into tree size %llu\n", MRD_ESC(outp), x.n,
               MRD_ESC(case_id), (unsigned long long)size);
    }
out:
    if (fd >= 0)
        (void)close(fd);
    sodium_memzero(&signer, sizeof(signer));
    for (size_t i = 0; i < x.n; i++)
        mrd_free(x.objs[i].data);
    mrd_free(x.objs);
    mrd_free(objs);
    mrd_buf_release(&note);
    mrd_buf_release(&pkg);
    ledger_free(log);
    store_close(st);
    return ret;
}

/* ---- the verb ---- */

static int run(int argc, char **argv)
{
    if (sodium_init() < 0) {
        cli_errorf(VERB, "libsodium failed to initialise");
        return CLI_EXIT_USAGE;
    }
    if (argc < 2)
        return cli_usage_error(&cli_verb_hold, "needs a command");
    if (strcmp(argv[1], "create") == 0)
        return cmd_create(argc - 2, argv + 2);
    if (strcmp(argv[1], "renew") == 0)
        return cmd_change(argc - 2, argv + 2, true);
    if (strcmp(argv[1], "release") == 0)
        return cmd_change(argc - 2, argv + 2, false);
    if (strcmp(argv[1], "list") == 0)
        return cmd_list(argc - 2, argv + 2);
    if (strcmp(argv[1], "show") == 0)
        return cmd_show(argc - 2, argv + 2);
    return cli_usage_error(&cli_verb_hold, "unknown command '%s'", argv[1]);
}

const struct cli_verb cli_verb_hold = {
    .name = "hold",
    .summary = "legal holds: preserve objects for law enforcement",
    .usage = "usage: meridian hold create [--data DIR] --case ID --authority TEXT --reason TEXT\n"
             "                            (--object ID [--object ID...] | --pattern P |\n"
             "                             --query FILTERS) [--collection C] [--days N]\n"
             "                            [--offence TEXT] [--relation TEXT] [--location TEXT]\n"
             "                            [--necessity TEXT] [--mla]\n"
             "       meridian hold renew [--data DIR] HOLD [--days N]\n"
             "       meridian hold release [--data DIR] HOLD [--reason TEXT]\n"
             "       meridian hold list [--data DIR] [--case ID] [--all]\n"
             "       meridian hold show [--data DIR] HOLD\n"
             "\n"
             "A hold (an expedited preservation order, Budapest Convention articles 16\n"
             "and 29) freezes the object versions stored now that it selects: every\n"
             "version of each --object ID; the SCOs a STIX --pattern matches (each SCO\n"
             "as an observation) and the observed-data that refer to them; or the\n"
             "versions TAXII filters select (--query 'match[type]=indicator&added_after=\n"
             "2026-11-01T00:00:00Z', as the objects endpoint reads them). --collection\n"
             "limits the selection to one collection (its id or ROOT/ALIAS).\n"
             "\n"
             "It lasts --days (1..90, default 90) and can be renewed for up to 90 days\n"
             "more each time. While active, its versions cannot be deleted (TAXII\n"
             "DELETE answers 403 naming the hold). The record keeps what an article 29\n"
             "request carries: requesting authority, reason, offence, how the data\n"
             "relates to it (--relation), where it is stored (--location; default: this\n"
             "node and data directory), necessity, and the intent to request mutual\n"
             "assistance (--mla). Every action is a ledger leaf.\n"
             "\n"
             "create prints the hold id. 'meridian evidence export --case ID -o FILE'\n"
             "packages the versions the case's active holds preserve.\n"
             "\n"
             "Exit status: 0 done, 1 nothing to hold / no such object, 2 usage or data\n"
             "error.\n",
    .run = run,
};
