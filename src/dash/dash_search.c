/*
 * Search by value for the console, the JSON API and `meridian search`.
 *
 * The store finds candidate versions in its value index; each one is
 * shown only when policy_may_read() says the reader may read it, with the
 * reader store_reader_for() builds for the version's collection (a
 * collection the reader may not read at all hides all of its rows). So a
 * search can never reveal a hit, a count or a "more" that TAXII would not
 * show the same org. Versions of one object are folded into one result:
 * the first (best) match, which the store hands out first.
 */
#include "dash/dash_int.h"

#include <string.h>

#include "audit/audit.h"
#include "core/alloc.h"
#include "core/json.h"
#include "core/str.h"
#include "core/timestamp.h"

#define MAX_COLLECTIONS 100000

/* ---- the reader's view: one policy reader per collection ---- */

static enum mrd_code add_coll(void *ctx, const struct store_collection *c)
{
    struct dash_view *v = ctx;

    if (v->n == v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 16;
        struct dash_view_coll *p;
        if (cap > MAX_COLLECTIONS)
            return MRD_E_TOOBIG;
        p = mrd_realloc(v->c, cap * sizeof(*p));
        if (p == NULL)
            return MRD_E_NOMEM;
        v->c = p;
        v->cap = cap;
    }
    memset(&v->c[v->n], 0, sizeof(v->c[v->n]));
    v->c[v->n].coll = *c;
    v->n++;
    return MRD_OK;
}

enum mrd_code dash__view_load(struct store *st, const struct dash_who *who, struct dash_view *ret,
                              struct mrd_err *err)
{
    enum mrd_code rc;

    memset(ret, 0, sizeof(*ret));
    ret->privacy = who->privacy;
    ret->org_name = who->org_name;
    rc = store_collection_list(st, NULL, add_coll, ret, err);
    for (size_t i = 0; rc == MRD_OK && i < ret->n; i++) {
        struct dash_view_coll *c = &ret->c[i];
        rc = store_reader_for(st, who->org_key, who->relation, &c->coll, &c->reader, &c->can_read,
                              err);
        /* the reader points into the collection record it was built from */
        c->reader.community = c->coll.api_root;
    }
    if (rc != MRD_OK) {
        dash__view_release(ret);
        if (err != NULL && err->msg[0] == '\0')
            (void)mrd_err_set(err, rc, "collections: %s", mrd_code_str(rc));
    }
    return rc;
}

void dash__view_release(struct dash_view *v)
{
    mrd_free(v->c);
    memset(v, 0, sizeof(*v));
}

const struct dash_view_coll *dash__view_find(const struct dash_view *v, int64_t key)
{
    for (size_t i = 0; i < v->n; i++)
        if (v->c[i].coll.key == key)
            return &v->c[i];
    return NULL;
}

/* What the reader may see of row's body: the stored bytes, or (a partner
 * user) what its privacy policy makes of them, appended to out. */
static enum privacy_outcome view_body(const struct dash_view *v, const struct dash_view_coll *c,
                                      const struct store_row *row, struct mrd_buf *out)
{
    struct privacy_scope scope = {.community = c->coll.api_root, .org = v->org_name};
    enum privacy_outcome po = PRIVACY_AS_IS;

    if (v->privacy == NULL || row->body == NULL)
        return PRIVACY_AS_IS;
    if (privacy_minimise_bytes(v->privacy, &scope, row->body, row->body_len, out, &po, NULL) !=
        MRD_OK)
        return PRIVACY_WITHHELD; /* what cannot be minimised is not shown */
    return po;
}

bool dash__view_may_read(const struct dash_view *v, int64_t coll, const struct store_row *row)
{
    const struct dash_view_coll *c = dash__view_find(v, coll);
    struct mrd_buf out;
    bool ok;

    if (c == NULL || !c->can_read || !policy_may_read(&c->reader, &row->policy))
        return false;
    if (v->privacy == NULL)
        return true;
    mrd_buf_init(&out, STORE_OBJECT_MAX);
    ok = view_body(v, c, row, &out) != PRIVACY_WITHHELD;
    mrd_buf_release(&out);
    return ok;
}

/* ---- results ---- */

static const char *const kind_names[] = {"", "ipv4", "ipv6", "domain", "url", "email", "hash"};
static const char *const how_names[] = {"value", "pattern", "url-host"};
static const char *const match_names[] = {"exact", "contains", "within"};

const char *dash__kind_name(unsigned kind)
{
    return kind < sizeof(kind_names) / sizeof(kind_names[0]) ? kind_names[kind] : "";
}

/* A short label for an object: its name, else its value, else its
 * pattern; NULL when it has none of them. */
json_t *dash__label_of(const json_t *o)
{
    static const char *const keys[] = {"name", "value", "pattern", "description", "abstract"};

    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        const char *s = json_string_value(json_object_get(o, keys[i]));
        if (s != NULL) {
            size_t n = strlen(s);
            return json_stringn(s, n > 300 ? 300 : n);
        }
    }
    return NULL;
}

json_t *dash__row_summary(const struct dash_view *v, int64_t coll, const struct store_row *row)
{
    const struct dash_view_coll *c = dash__view_find(v, coll);
    struct mrd_json_limits lim = {.max_bytes = STORE_OBJECT_MAX, .max_depth = 64};
    char added[MRD_TIME_TAXII_LEN + 1], ver[MRD_TIME_TAXII_LEN + 1] = "";
    enum privacy_outcome po = PRIVACY_AS_IS;
    json_t *o = NULL, *e;

    mrd_time_format_taxii(row->date_added, added);
    if (row->version_usec != STORE_VERSION_NONE)
        mrd_time_format_taxii(row->version_usec, ver);
    if (c != NULL && v->privacy != NULL) { /* the label of what the reader may see */
        struct mrd_buf seen;
        mrd_buf_init(&seen, STORE_OBJECT_MAX);
        po = view_body(v, c, row, &seen);
        if (po == PRIVACY_MINIMISED)
            (void)mrd_json_parse(seen.data, seen.len, &lim, &o, NULL);
        mrd_buf_release(&seen);
    }
    if (po == PRIVACY_AS_IS && row->body != NULL)
        (void)mrd_json_parse(row->body, row->body_len, &lim, &o, NULL);
    e = json_pack("{s:s%,s:s%,s:s,s:s%,s:s,s:s,s:s,s:s*,s:b,s:o*}", "id", row->id, row->id_len,
                  "type", row->type, row->type_len, "tlp", policy_tlp_name(row->policy.tlp),
                  "source", row->source_peer != NULL ? row->source_peer : "local",
                  row->source_peer != NULL ? row->source_peer_len : 5, "collection",
                  c != NULL ? c->coll.title : "", "api_root", c != NULL ? c->coll.api_root : "",
                  "date_added", added, "version", ver[0] ? ver : NULL, "revoked", row->revoked,
                  "label", o != NULL ? dash__label_of(o) : NULL);
    json_decref(o);
    return e;
}

struct collect {
    const struct dash_view *view;
    json_t *results;
    json_t *by_id;             /* id -> result, to fold versions */
    struct audit_batch *audit; /* the results listed (audit.h) */
};

static bool hit_visible(void *ctx, int64_t coll, const struct store_row *row)
{
    return dash__view_may_read(((struct collect *)ctx)->view, coll, row);
}

/* Adds a version to the results, or counts it as one more version of an
 * object already there. */
static enum mrd_code collect_add(struct collect *x, int64_t coll, const struct store_row *row,
                                 const char *match, const char *via, const char *matched,
                                 struct mrd_err *err)
{
    char id[STORE_STIX_ID_MAX + 1];
    json_t *e;

    (void)snprintf(id, sizeof(id), "%.*s", (int)row->id_len, row->id);
    e = json_object_get(x->by_id, id);
    if (e != NULL) {
        json_int_t n = json_integer_value(json_object_get(e, "versions"));
        (void)json_object_set_new(e, "versions", json_integer(n + 1));
        return MRD_OK;
    }
    e = dash__row_summary(x->view, coll, row);
    if (e == NULL || json_object_set_new(e, "match", json_string(match)) != 0 ||
        json_object_set_new(e, "via", json_string(via)) != 0 ||
        (matched != NULL && json_object_set_new(e, "matched", json_string(matched)) != 0) ||
        json_object_set_new(e, "versions", json_integer(1)) != 0 ||
        json_object_set(x->by_id, id, e) != 0 || json_array_append_new(x->results, e) != 0)
        return mrd_err_set(err, MRD_E_NOMEM, "search: out of memory");
    return x->audit != NULL ? audit_note(x->audit, row, err) : MRD_OK;
}

/* A batch for the reads of one search (audit.h); NULL when out of memory. */
static struct audit_batch *search_audit(struct store *st, const struct dash_who *who)
{
    struct audit_batch *b = mrd_malloc(sizeof(*b));

    if (b != NULL)
        audit_begin(b, st, AUDIT_SEARCH, who->org_name, who->token);
    return b;
}

static enum mrd_code hit_emit(void *ctx, const struct store_value_hit *h, struct mrd_err *err)
{
    char shown[STORE_VALUE_KEY_MAX * 3];

    (void)store_value_format(h->stored, shown, sizeof(shown));
    return collect_add(ctx, h->collection, h->row, match_names[h->match],
                       how_names[h->how <= 2 ? h->how : 0], shown, err);
}

static enum mrd_code text_emit(void *ctx, const struct store_found *f, struct mrd_err *err)
{
    return collect_add(ctx, f->collection, f->row, "text", "text", NULL, err);
}

/* The host of a normalised URL key ("scheme://[user@]host[:port]/..."). */
static bool url_host(const struct store_value *url, struct store_value *ret)
{
    const char *k = (const char *)url->key, *p, *end = k + url->len, *h, *he;

    p = memchr(k, ':', url->len);
    if (p == NULL || end - p < 3 || p[1] != '/' || p[2] != '/')
        return false;
    h = p + 3;
    he = h;
    while (he < end && *he != '/' && *he != '?' && *he != '#')
        he++;
    for (const char *q = h; q < he; q++)
        if (*q == '@')
            h = q + 1;
    if (h < he && *h == '[') {
        const char *rb = memchr(h, ']', (size_t)(he - h));
        if (rb == NULL)
            return false;
        return store_value_parse(h + 1, (size_t)(rb - h - 1), ret, NULL) == MRD_OK;
    }
    for (const char *q = h; q < he; q++)
        if (*q == ':')
            he = q;
    return he > h && store_value_parse(h, (size_t)(he - h), ret, NULL) == MRD_OK &&
           ret->kind != STORE_V_URL;
}

/* The hits of one value into x (at most limit). */
static enum mrd_code collect_value(struct store *st, struct collect *x, const struct store_value *v,
                                   size_t limit, bool *ret_more, struct mrd_err *err)
{
    enum mrd_code rc = store_value_search(st, v, limit, hit_visible, hit_emit, x, ret_more, err);

    /* A URL is also looked up by its host: an indicator on the domain (or
     * its parent) or the address covers every URL there. */
    if (rc == MRD_OK && v->kind == STORE_V_URL && !*ret_more &&
        json_array_size(x->results) < limit) {
        struct store_value host;
        if (url_host(v, &host))
            rc = store_value_search(st, &host, limit - json_array_size(x->results), hit_visible,
                                    hit_emit, x, ret_more, err);
    }
    return rc;
}

static enum mrd_code search_value(struct store *st, const struct dash_view *view,
                                  const struct store_value *v, size_t limit,
                                  struct audit_batch *audit, json_t **ret_results, bool *ret_more,
                                  struct mrd_err *err)
{
    struct collect x = {
        .view = view, .results = json_array(), .by_id = json_object(), .audit = audit};
    enum mrd_code rc;

    if (x.results == NULL || x.by_id == NULL) {
        rc = mrd_err_set(err, MRD_E_NOMEM, "search: out of memory");
        goto out;
    }
    rc = collect_value(st, &x, v, limit, ret_more, err);
    if (rc == MRD_OK) {
        *ret_results = x.results;
        x.results = NULL;
    }
out:
    json_decref(x.results);
    json_decref(x.by_id);
    return rc;
}

/* What points at each of the first results: the containers (reports,
 * notes, opinions, groupings) listing it, and its based-on / indicates
 * relationships, each only when the reader may read it (dash__edges). */
static enum mrd_code add_context(struct store *st, const struct dash_view *view, json_t *results,
                                 struct mrd_err *err)
{
    static const char *const hop[] = {"based-on", "indicates", NULL};
    enum mrd_code rc = MRD_OK;
    json_t *e;
    size_t i;

    json_array_foreach(results, i, e)
    {
        const char *id = json_string_value(json_object_get(e, "id"));
        json_t *refs = json_array(), *rels = json_array();

        if (i >= DASH_CONTEXT_RESULTS || id == NULL)
            break;
        if (refs == NULL || rels == NULL || json_object_set_new(e, "referenced_by", refs) != 0 ||
            json_object_set_new(e, "related", rels) != 0)
            return mrd_err_set(err, MRD_E_NOMEM, "search: out of memory");
        rc = dash__edges(st, view, id, STORE_REF_BIT(STORE_REF_CONTAINS), NULL,
                         DASH_CONTEXT_PER_RESULT, refs, err);
        if (rc == MRD_OK)
            rc = dash__edges(st, view, id,
                             STORE_REF_BIT(STORE_REF_SOURCE) | STORE_REF_BIT(STORE_REF_TARGET), hop,
                             DASH_CONTEXT_PER_RESULT, rels, err);
        if (rc != MRD_OK)
            break;
    }
    return rc;
}

enum mrd_code dash_search(struct store *st, const struct dash_who *who, const char *q, size_t qlen,
                          size_t limit, json_t **ret, struct mrd_err *err)
{
    struct store_value v;
    struct dash_view view;
    char shown[STORE_VALUE_KEY_MAX * 3] = "";
    struct collect x = {.view = &view};
    bool more = false, is_value;
    enum mrd_code rc;

    limit = limit > 0 ? limit : DASH_SEARCH_LIMIT;
    is_value = store_value_parse(q, qlen, &v, NULL) == MRD_OK;
    if (is_value) {
        (void)store_value_format(&v, shown, sizeof(shown));
    } else {
        /* not a value: free text, whose query is checked before anything is read */
        char fts[STORE_TEXT_QUERY_MAX * 2 + STORE_TEXT_TERMS_MAX * 3 + 2];
        size_t n;
        rc = store_text_query(q, qlen, fts, sizeof(fts), &n, err);
        if (rc != MRD_OK)
            return rc;
    }
    rc = dash__view_load(st, who, &view, err);
    if (rc != MRD_OK)
        return rc;
    x.results = json_array();
    x.by_id = json_object();
    x.audit = search_audit(st, who);
    if (x.results == NULL || x.by_id == NULL || x.audit == NULL) {
        rc = mrd_err_set(err, MRD_E_NOMEM, "search: out of memory");
        goto out;
    }
    if (is_value)
        rc = collect_value(st, &x, &v, limit, &more, err);
    /* Then names and descriptions: after the value's hits, never before
     * (an address's digits are no words worth matching). */
    if (rc == MRD_OK && !more && json_array_size(x.results) < limit &&
        !(is_value && (v.kind == STORE_V_IPV4 || v.kind == STORE_V_IPV6))) {
        rc = store_text_search(st, q, qlen, limit - json_array_size(x.results), hit_visible,
                               text_emit, &x, &more, err);
        if (is_value && (rc == MRD_E_INVAL || rc == MRD_E_TOOBIG)) {
            rc = MRD_OK; /* a value that is no text query (a long URL): its hits stand */
            if (err != NULL)
                memset(err, 0, sizeof(*err));
        }
    }
    if (rc == MRD_OK)
        rc = add_context(st, &view, x.results, err);
    if (rc == MRD_OK)
        rc = audit_flush(x.audit, err);
    if (rc != MRD_OK)
        goto out;
    *ret = json_pack("{s:s%,s:s,s:s,s:O,s:b}", "query", q, qlen, "value", is_value ? shown : "",
                     "kind", is_value ? dash__kind_name(v.kind) : "text", "results", x.results,
                     "more", more);
    if (*ret == NULL)
        rc = mrd_err_set(err, MRD_E_NOMEM, "search: out of memory");
out:
    mrd_free(x.audit);
    json_decref(x.results);
    json_decref(x.by_id);
    dash__view_release(&view);
    return rc;
}

/* ---- bulk ---- */

static bool sep(unsigned char c)
{
    return c <= ' ' || c == ',' || c == ';' || c == '"' || c == '\'' || c == '<' || c == '>' ||
           c == '|' || c == '`' || c == 0x7f;
}

static bool trim_char(unsigned char c)
{
    return c == '.' || c == ',' || c == ':' || c == ';' || c == ')' || c == '(' || c == '}' ||
           c == '{' || c == '!' || c == '?' || c == '*';
}

/* A word of prose that is a value worth looking up: parses, and a domain
 * ends in a label of two or more letters (so "e.g." stays prose). */
static bool word_value(const char *w, size_t n, struct store_value *v)
{
    if (store_value_parse(w, n, v, NULL) != MRD_OK)
        return false;
    if (v->kind == STORE_V_DOMAIN) {
        size_t letters = 0;
        for (size_t i = 0; i < v->len && v->key[i] != '.'; i++) {
            unsigned char c = v->key[i];
            if (!(c >= 'a' && c <= 'z'))
                return false;
            letters++;
        }
        if (letters < 2)
            return false;
    }
    return true;
}

enum mrd_code dash_search_bulk(struct store *st, const struct dash_who *who, const char *text,
                               size_t len, json_t **ret, struct mrd_err *err)
{
    struct dash_view view;
    json_t *seen = json_object(), *values = json_array();
    size_t i = 0, known = 0, n = 0;
    bool truncated = false, pinned;
    struct audit_batch *audit;
    enum mrd_code rc = MRD_OK;

    if (len > DASH_BULK_TEXT_MAX) {
        json_decref(seen);
        json_decref(values);
        return mrd_err_set(err, MRD_E_TOOBIG, "bulk: text over %zu bytes", DASH_BULK_TEXT_MAX);
    }
    if (seen == NULL || values == NULL) {
        json_decref(seen);
        json_decref(values);
        return mrd_err_set(err, MRD_E_NOMEM, "bulk: out of memory");
    }
    audit = search_audit(st, who);
    if (audit == NULL) {
        json_decref(seen);
        json_decref(values);
        return mrd_err_set(err, MRD_E_NOMEM, "bulk: out of memory");
    }
    /* One read snapshot for the whole list: one transaction, not one per
     * value (and every value is answered from the same state). */
    pinned = store_read_begin(st, NULL) == MRD_OK;
    rc = dash__view_load(st, who, &view, err);
    if (rc != MRD_OK) {
        if (pinned)
            store_read_end(st);
        mrd_free(audit);
        json_decref(seen);
        json_decref(values);
        return rc;
    }
    while (i < len && rc == MRD_OK) {
        size_t start, end;
        struct store_value v;
        char shown[STORE_VALUE_KEY_MAX * 3];
        json_t *results = NULL, *e;
        bool more = false;

        while (i < len && sep((unsigned char)text[i]))
            i++;
        start = i;
        while (i < len && !sep((unsigned char)text[i]))
            i++;
        end = i;
        while (start < end && trim_char((unsigned char)text[start]) && text[start] != '[')
            start++;
        while (end > start && (trim_char((unsigned char)text[end - 1]) ||
                               (text[end - 1] == ']' && end - start > 1 && text[end - 2] != '.')))
            end--;
        if (end == start || !word_value(text + start, end - start, &v))
            continue;
        (void)store_value_format(&v, shown, sizeof(shown));
        if (json_object_get(seen, shown) != NULL)
            continue;
        if (n == DASH_BULK_MAX) {
            truncated = true;
            break;
        }
        n++;
        (void)json_object_set_new(seen, shown, json_true());
        rc = search_value(st, &view, &v, DASH_BULK_PER_VALUE, audit, &results, &more, err);
        if (rc != MRD_OK)
            break;
        if (json_array_size(results) > 0)
            known++;
        e = json_pack("{s:s,s:s,s:i,s:b,s:o}", "value", shown, "kind", dash__kind_name(v.kind),
                      "found", (int)json_array_size(results), "more", more, "results", results);
        if (e == NULL || json_array_append_new(values, e) != 0)
            rc = mrd_err_set(err, MRD_E_NOMEM, "bulk: out of memory");
    }
    dash__view_release(&view);
    if (pinned)
        store_read_end(st);
    json_decref(seen);
    if (rc == MRD_OK)
        rc = audit_flush(audit, err); /* after the snapshot: a write */
    mrd_free(audit);
    if (rc != MRD_OK) {
        json_decref(values);
        return rc;
    }
    *ret = json_pack("{s:o,s:i,s:i,s:b}", "values", values, "known", (int)known, "unknown",
                     (int)(n - known), "truncated", truncated);
    if (*ret == NULL)
        return mrd_err_set(err, MRD_E_NOMEM, "bulk: out of memory");
    return MRD_OK;
}
