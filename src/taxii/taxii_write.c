/*
 * The write endpoints: Add Objects (TAXII §5.5) and Delete An Object
 * (§5.7).
 *
 * POST is synchronous: every object is validated (stix.h), the valid ones
 * are stored in one committed transaction, and the status resource (in
 * the same transaction unless the envelope holds SCOs) says "complete"
 * with one detail per object. So a 202 means everything it lists as a
 * success survives `kill -9`.
 */
#include "taxii/taxii_int.h"

#include <string.h>

#include "core/alloc.h"
#include "core/json.h"
#include "core/metrics.h"
#include "core/str.h"
#include "core/timestamp.h"
#include "stix/stix.h"

json_t *taxii__status_json(const struct store_status *s);

/* One POSTed element as we process it. */
struct post_item {
    struct mrd_buf canon; /* canonical bytes of a valid object */
    struct mrd_buf vals;  /* ... and the values it mentions (struct store_value) */
    struct taxii_ingested ingested;
    bool valid;
    char id[STORE_STIX_ID_MAX + 1];
    int64_t version_usec;
    char message[STORE_MSG_MAX + 1];
};

static const char *json_str(const json_t *o, const char *key, size_t *ret_len)
{
    const json_t *v = json_object_get(o, key);

    if (!json_is_string(v))
        return NULL;
    *ret_len = json_string_length(v);
    return json_string_value(v);
}

/* modified, else created, as usec; STORE_TIME_NONE when absent or bad. */
static int64_t time_of(const json_t *o, const char *key)
{
    size_t n = 0;
    const char *s = json_str(o, key, &n);
    struct mrd_time t;

    if (s == NULL || mrd_time_parse(s, n, &t, NULL) != MRD_OK)
        return STORE_TIME_NONE;
    return mrd_time_to_usec(&t);
}

/* Validates element i and, when valid, prepares its store input. */
static enum mrd_code check_item(const json_t *obj, size_t i, const struct taxii_coll *c,
                                const struct taxii_principal *who, const struct taxii_ingest *ing,
                                struct stix_report *rep, struct post_item *it,
                                struct store_object_in *in, struct mrd_err *err)
{
    size_t n = 0;
    const char *s;
    int64_t created, modified;
    bool local;
    enum mrd_code rc;

    it->version_usec = STORE_VERSION_NONE;
    if (!json_is_object(obj)) {
        (void)snprintf(it->message, sizeof(it->message),
                       "objects[%zu]: not a JSON object (TAXII 2.1 §3.7)", i);
        mrd_metric_inc(MRD_M_OBJECTS_REJECTED, "not_object");
        return MRD_OK;
    }
    s = json_str(obj, "id", &n);
    if (s != NULL && n <= STORE_STIX_ID_MAX && mrd_utf8_valid(s, n) && memchr(s, '\0', n) == NULL) {
        memcpy(it->id, s, n);
        it->id[n] = '\0';
    }
    created = time_of(obj, "created");
    modified = time_of(obj, "modified");
    it->version_usec = modified != STORE_TIME_NONE  ? modified
                       : created != STORE_TIME_NONE ? created
                                                    : STORE_VERSION_NONE;
    stix_report_reset(rep);
    rc = stix_validate_object(obj, STIX_NO_WARNINGS, rep, err);
    if (rc != MRD_OK)
        return rc;
    if (stix_report_errors(rep) > 0) {
        char line[STIX_LINE_MAX];
        mrd_metric_inc(MRD_M_OBJECTS_REJECTED, "invalid_stix");
        const struct stix_finding *f = NULL;
        for (size_t k = 0; k < rep->nfindings && f == NULL; k++)
            if (rep->findings[k].severity == STIX_ERROR)
                f = &rep->findings[k];
        if (f != NULL)
            (void)stix_finding_format(f, line, sizeof(line));
        else
            mrd_strlcpy(line, "invalid STIX object", sizeof(line));
        /* Truncating a long finding is fine: the prefix says which object. */
        int k = snprintf(it->message, sizeof(it->message), "objects[%zu]: ", i);
        if (k > 0 && (size_t)k < sizeof(it->message))
            (void)mrd_strlcpy(it->message + k, line, sizeof(it->message) - (size_t)k);
        return MRD_OK;
    }
    mrd_buf_init(&it->canon, STORE_OBJECT_MAX);
    mrd_buf_init(&it->vals, (size_t)STORE_VALUES_MAX * sizeof(struct store_value));
    local = policy_origin_local(who->tok.org_relation, false);
    {
        char why[STORE_MSG_MAX - 32] = "";
        rc = ing->canon(ing->ctx, obj, local, c->c.default_tlp, &it->canon, &it->ingested, why,
                        sizeof(why), err);
        if (rc == MRD_OK && why[0] != '\0') { /* e.g. a signature that does not match */
            (void)snprintf(it->message, sizeof(it->message), "objects[%zu]: %s", i, why);
            mrd_metric_inc(MRD_M_OBJECTS_REJECTED, "bad_signature");
            return MRD_OK;
        }
    }
    if (rc == MRD_E_TOOBIG || rc == MRD_E_INVAL) {
        mrd_err_clear(err);
        (void)snprintf(it->message, sizeof(it->message),
                       "objects[%zu]: cannot be stored: larger than %zu bytes or not "
                       "representable as canonical JSON (RFC 8785)",
                       i, STORE_OBJECT_MAX);
        mrd_metric_inc(MRD_M_OBJECTS_REJECTED, "unstorable");
        return MRD_OK;
    }
    /* the value index's rows, here on the request's thread rather than
     * from the stored bytes on the store's one */
    if (rc == MRD_OK)
        rc = store_values_append(obj, &it->vals, err);
    if (rc != MRD_OK)
        return rc;
    it->valid = true;
    memset(in, 0, sizeof(*in));
    in->id = json_str(obj, "id", &in->id_len);
    in->type = json_str(obj, "type", &in->type_len);
    in->spec_version = json_str(obj, "spec_version", &in->spec_version_len);
    if (in->spec_version == NULL) { /* SCOs may omit it (STIX 2.1 §6) */
        in->spec_version = "2.1";
        in->spec_version_len = 3;
    }
    in->created_usec = created;
    in->modified_usec = modified;
    in->revoked = json_is_true(json_object_get(obj, "revoked"));
    in->tlp = it->ingested.tlp;
    in->local = local;
    in->creator_org = who->tok.org_key;
    if (who->tok.org_relation == POLICY_REL_PARTNER) { /* provenance: a peer pushing (fed.h) */
        in->source_peer = who->tok.org_name;
        in->source_peer_len = strlen(who->tok.org_name);
    }
    in->body = it->canon.data;
    in->body_len = it->canon.len;
    in->values = (const struct store_value *)(const void *)it->vals.data;
    in->n_values = it->vals.len / sizeof(struct store_value);
    in->values_given = true;
    if (it->ingested.signer[0] != '\0') {
        in->signer = it->ingested.signer;
        in->signer_len = strlen(it->ingested.signer);
    }
    in->signer_trusted = ing->trusted;
    in->same_content = ing->same_content;
    in->signer_ctx = ing->ctx;
    /* constituents' objects are signed with the node's key, as the own
     * org's: the key cannot tell them apart, the store's creator can */
    in->creator_only = who->tok.org_relation == POLICY_REL_CONSTITUENT;
    in->versions_any = who->tok.org_relation == POLICY_REL_OWN; /* the node's operator */
    return MRD_OK;
}

/* The status of what the store refused (store_objects_insert: a version
 * not signed by the object's signer, another copy of a stored version, a
 * version that breaks the object's history).
 * The store refuses only what the poster may read, so saying why tells it
 * nothing new. vi[v] is the status detail of the v-th stored object. */
struct post_finish {
    struct store_status *st;
    const size_t *vi;
};

static void post_finish(void *ctx, const enum store_insert_outcome *out, size_t n)
{
    struct post_finish *pf = ctx;

    for (size_t v = 0; v < n; v++) {
        struct store_status_detail *d = &pf->st->details[pf->vi[v]];
        const char *why;
        if (out[v] == STORE_INS_NOT_SIGNER)
            why = "not stored: this object is signed, and only its signer makes its versions "
                  "(STIX 2.1 §3.6)";
        else if (out[v] == STORE_INS_OTHER_COPY)
            why = "not stored: a different copy of this version (id and modified) is stored "
                  "(STIX 2.1 §3.6)";
        else if (out[v] == STORE_INS_NOT_CREATOR)
            why = "not stored: only the organisation that created this object on this node "
                  "makes its versions (STIX 2.1 §3.6)";
        else if (out[v] == STORE_INS_HISTORY)
            why = "not stored: it breaks this object's history: a version after its "
                  "revocation, a revocation older than a stored version, or another "
                  "'created' (STIX 2.1 §3.2, §3.6)";
        else
            continue;
        if (d->kind == STORE_ST_SUCCESS) {
            d->kind = STORE_ST_FAILURE;
            pf->st->success_count--;
            pf->st->failure_count++;
        }
        (void)snprintf(d->message, sizeof(d->message), "objects[%zu]: %s", pf->vi[v], why);
    }
}

/* Why an envelope as a whole is unprocessable, or NULL when it is fine. */
static const char *envelope_problem(const json_t *doc)
{
    const json_t *objs, *type;

    if (!json_is_object(doc))
        return "the body must be a TAXII envelope, a JSON object with \"objects\" "
               "(TAXII 2.1 §3.7)";
    type = json_object_get(doc, "type");
    if (json_is_string(type) && strcmp(json_string_value(type), "bundle") == 0)
        return "the body is a STIX bundle; POST a TAXII envelope {\"objects\": [...]} instead "
               "(TAXII 2.1 §5.5)";
    if (type != NULL)
        return "the body is a single STIX object; wrap it in a TAXII envelope "
               "{\"objects\": [...]} (TAXII 2.1 §5.5)";
    objs = json_object_get(doc, "objects");
    if (!json_is_array(objs))
        return "the envelope has no \"objects\" list (TAXII 2.1 §3.7)";
    if (json_array_size(objs) == 0)
        return "the envelope's \"objects\" list is empty (TAXII 2.1 §2: lists have at least one "
               "element)";
    return NULL;
}

static bool row_readable(void *ctx, const struct store_row *row)
{
    return policy_may_read(ctx, &row->policy);
}

/* The status version of a duplicate SCO is the stored row's date_added,
 * which tells "it was already here" (and since when). SCO ids are
 * deterministic, so for a row the poster may not read that would answer
 * "does the node hold this value?" (docs/design.md §5): only a readable copy
 * gives its date; otherwise the caller reports a date of this request. */
static enum mrd_code dup_readable(struct taxii_req *r, struct taxii_coll *c, const char *id,
                                  bool *ret, struct mrd_err *err)
{
    const char *ids[1] = {id};
    struct store_match m = {.ids = ids, .n_ids = 1, .versions = STORE_VER_ALL};
    struct store_query q = {
        .collection = c->c.key, .added_after = STORE_TIME_NONE, .match = &m, .limit = 1};
    struct store_query_result res;
    enum mrd_code rc;

    rc = store_objects_query(r->ts->st, &q, row_readable, NULL, &c->reader, &res, err);
    *ret = rc == MRD_OK && res.delivered > 0;
    return rc;
}

/* Per object: its post_item, store input, outcome, date and status detail
 * (with their id and message buffers). */
#define TAXII_POST_PER_OBJECT                                                                      \
    (sizeof(struct post_item) + sizeof(struct store_object_in) +                                   \
     sizeof(enum store_insert_outcome) + sizeof(int64_t) + sizeof(struct store_status_detail))
/* RFC 8785 may write a number longer than it came ("1e20" has 21 digits). */
#define TAXII_CANON_NUMBER_GROWTH 24

/* a + count x each, saturating at SIZE_MAX. */
static size_t plus(size_t a, size_t count, size_t each)
{
    if (each != 0 && count > (SIZE_MAX - a) / each)
        return SIZE_MAX;
    return a + count * each;
}

/* Makes the request hold `want` bytes in all of the server's body budget,
 * taking only what it does not hold yet (its up-front share). Answers 503
 * with Retry-After when the budget is busy and 413 when it could never
 * hold that much; returns false then. */
static bool post_reserve(struct taxii_req *r, size_t want)
{
    size_t have = http_request_reserved(r->http);
    bool never = false;

    if (want <= have || http_request_reserve(r->http, want - have, &never))
        return true;
    if (never) {
        taxii_error(r, 413, "Request entity too large",
                    "processing this envelope needs more memory than the server allows for "
                    "bodies in flight (serve --max-body-memory); split it into smaller posts");
        return false;
    }
    taxii_error(r, 503, "Service busy", "too many large requests are being processed; retry later");
    (void)http_response_header(r->resp, "Retry-After", "1");
    return false;
}

void taxii_post_objects(struct taxii_req *r)
{
    struct taxii_coll c;
    struct mrd_err err = {0};
    json_t *doc = NULL, *objs;
    struct mrd_json_limits lim;
    struct mrd_json_shape shape;
    size_t need;
    struct post_item *items = NULL;
    struct store_object_in *ins = NULL;
    enum store_insert_outcome *out = NULL;
    int64_t *dates = NULL;
    struct store_status st;
    struct store_status_detail *det = NULL;
    struct stix_report rep;
    struct post_finish pf;
    size_t *vi = NULL;
    size_t n = 0, nvalid = 0;
    const char *problem;
    int64_t t0 = 0;
    bool one_txn = true;
    enum mrd_code rc;

    stix_report_init(&rep);
    memset(&st, 0, sizeof(st));
    if (!taxii_coll_load(r, &c))
        goto out;
    if (r->who.anonymous) {
        taxii_error(r, 401, "Authentication required", "adding objects needs an API token");
        goto out;
    }
    if (!c.g.can_write) {
        taxii_error(r, 403, "Forbidden", "the requester may not write to this collection");
        goto out;
    }
    if (!taxii_accept_ok(http_request_header(r->http, "Accept"))) {
        taxii_error(r, 406, "Not acceptable",
                    "send Accept: application/taxii+json;version=2.1 (TAXII 2.1 §3.1)");
        goto out;
    }
    if (!taxii_content_type_ok(http_request_header(r->http, "Content-Type"))) {
        taxii_error(r, 415, "Unsupported media type",
                    "send Content-Type: application/taxii+json;version=2.1 (TAXII 2.1 §3.1)");
        goto out;
    }
    /* The memory the parse and the processing take counts against the
     * server's body budget (http.h): an envelope of dense JSON can need
     * many times its size. */
    mrd_json_shape_scan(r->http->body, r->http->body_len, &shape);
    need = plus(r->http->body_len, 1, mrd_json_shape_cost(&shape, r->http->body_len));
    need = plus(need, 1, r->http->body_len); /* canonical copies */
    need = plus(need, shape.numbers, TAXII_CANON_NUMBER_GROWTH);
    if (!post_reserve(r, need))
        goto out;
    lim.max_bytes = r->http->body_len + 1;
    lim.max_depth = TAXII_MAX_JSON_DEPTH;
    if (mrd_json_parse(r->http->body, r->http->body_len, &lim, &doc, &err) != MRD_OK) {
        if (err.code == MRD_E_NOMEM) {
            taxii_internal(r, &err);
        } else {
            char msg[MRD_ERR_MSG_MAX + 32];
            /* TAXII §5.5 lists "a malformed body" under 422. */
            (void)snprintf(msg, sizeof(msg), "the body is not valid JSON: %s", err.msg);
            taxii_error(r, 422, "Unprocessable entity", msg);
        }
        goto out;
    }
    problem = envelope_problem(doc);
    if (problem != NULL) {
        taxii_error(r, 422, "Unprocessable entity", problem);
        goto out;
    }
    objs = json_object_get(doc, "objects");
    n = json_array_size(objs);
    if (!post_reserve(r, plus(need, n, TAXII_POST_PER_OBJECT)))
        goto out;
    items = mrd_calloc(n, sizeof(*items));
    ins = mrd_calloc(n, sizeof(*ins));
    out = mrd_calloc(n, sizeof(*out));
    dates = mrd_calloc(n, sizeof(*dates));
    det = mrd_calloc(n, sizeof(*det));
    vi = mrd_calloc(n, sizeof(*vi));
    if (items == NULL || ins == NULL || out == NULL || dates == NULL || det == NULL || vi == NULL) {
        taxii_internal(r, NULL);
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        rc = check_item(json_array_get(objs, i), i, &c, &r->who, &r->ts->ingest, &rep, &items[i],
                        &ins[nvalid], &err);
        if (rc != MRD_OK) {
            taxii_internal(r, &err);
            goto out;
        }
        if (items[i].valid)
            vi[nvalid++] = i;
    }
    /* The writer's view decides what counts as a duplicate: a version
     * stored only where the writer may not read it is stored again as the
     * writer's own copy (store_objects_insert), so reading back what it
     * posted never tells it a hidden copy exists (docs/design.md §5). */
    for (size_t i = 0; i < nvalid; i++) {
        ins[i].writer_sees = row_readable;
        ins[i].writer_ctx = &c.reader;
    }
    /* The status normally rides in the objects' transaction: one commit
     * (one fsync, shared by the store's group commit) for both. Only a
     * valid object without created/modified (an SCO) needs its date_added
     * -- and, when a duplicate, a read check -- before its status detail
     * can be written; then the status gets a commit of its own. */
    for (size_t i = 0; i < n && one_txn; i++)
        one_txn = !items[i].valid || items[i].version_usec != STORE_VERSION_NONE;
    if (nvalid > 0 && !one_txn) {
        t0 = mrd_time_now_usec();
        rc = store_objects_insert(r->ts->st, c.c.key, ins, nvalid, out, dates, &err);
        if (rc != MRD_OK) {
            taxii_internal(r, &err);
            goto out;
        }
    }
    store_uuid4(st.id);
    mrd_strlcpy(st.api_root, c.c.api_root, sizeof(st.api_root));
    st.org_key = r->who.tok.org_key;
    st.request_usec = mrd_time_now_usec();
    st.complete = true;
    st.total_count = n;
    st.details = det;
    st.n_details = n;
    for (size_t i = 0, v = 0; i < n; i++) {
        struct store_status_detail *d = &det[i];
        mrd_strlcpy(d->id, items[i].id, sizeof(d->id));
        d->version_usec = items[i].version_usec;
        if (items[i].valid) {
            d->kind = STORE_ST_SUCCESS;
            if (d->version_usec == STORE_VERSION_NONE) {
                bool readable = true;
                if (out[v] == STORE_INS_DUPLICATE &&
                    dup_readable(r, &c, items[i].id, &readable, &err) != MRD_OK) {
                    taxii_internal(r, &err);
                    goto out;
                }
                /* SCOs: the date_added, as elsewhere */
                d->version_usec = readable ? dates[v] : t0;
            }
            /* A duplicate reads exactly like a new object: saying "already
             * present" would tell the poster that an object it may not read
             * exists (docs/design.md §5). */
            st.success_count++;
            v++;
        } else {
            d->kind = STORE_ST_FAILURE;
            mrd_strlcpy(d->message, items[i].message, sizeof(d->message));
            st.failure_count++;
        }
    }
    pf.st = &st;
    pf.vi = vi;
    if (one_txn) {
        st.finish = post_finish;
        st.finish_ctx = &pf;
        rc = store_objects_insert_status(r->ts->st, c.c.key, ins, nvalid, out, dates, &st, &err);
    } else {
        post_finish(&pf, out, nvalid);
        rc = store_status_put(r->ts->st, &st, &err);
    }
    if (rc != MRD_OK) {
        /* One transaction: nothing was stored. Two: the objects are
         * committed, only the status could not be kept, and a 202 would
         * promise a status id that 404s. Either way 500, and the client
         * re-posts (duplicates are no-ops). */
        taxii_internal(r, &err);
        goto out;
    }
    taxii_json(r, 202, taxii__status_json(&st));
out:
    if (items != NULL)
        for (size_t i = 0; i < n; i++) {
            mrd_buf_release(&items[i].canon);
            mrd_buf_release(&items[i].vals);
        }
    mrd_free(items);
    mrd_free(ins);
    mrd_free(out);
    mrd_free(dates);
    mrd_free(det);
    mrd_free(vi);
    stix_report_release(&rep);
    json_decref(doc);
}

static bool delete_visible(void *ctx, const struct store_row *row)
{
    return policy_may_delete(ctx, &row->policy);
}

void taxii_delete_object(struct taxii_req *r)
{
    struct taxii_coll c;
    struct taxii_filter f;
    struct http_kv *args = NULL;
    size_t nargs = 0, deleted = 0;
    struct mrd_err err = {0};
    struct store_match m;
    bool can_read;

    if (!taxii_coll_load(r, &c))
        return;
    if (r->who.anonymous) {
        taxii_error(r, 401, "Authentication required", "deleting objects needs an API token");
        return;
    }
    /* TAXII §5.7's table: neither -> 404 (taxii_coll_load), one of the
     * two -> 403, both -> go on. */
    can_read = c.g.can_read || c.c.public_read;
    if (!can_read || !c.g.can_write) {
        taxii_error(r, 403, "Forbidden",
                    "deleting needs both read and write access to the collection");
        return;
    }
    if (!taxii_accept_ok(http_request_header(r->http, "Accept"))) {
        taxii_error(r, 406, "Not acceptable",
                    "send Accept: application/taxii+json;version=2.1 (TAXII 2.1 §3.1)");
        return;
    }
    if (http_request_args(r->http, &args, &nargs, &err) != MRD_OK) {
        taxii_internal(r, &err);
        return;
    }
    if (taxii_filter_parse(args, nargs, TAXII_F_VERSION | TAXII_F_SPEC, r->http->arena, &f, &err) !=
        MRD_OK) {
        taxii_error(r, 400, "Bad request", err.msg);
        return;
    }
    m = f.match;
    if (f.raw_version == NULL)
        m.versions = STORE_VER_ALL; /* no match[version]: the whole object */
    /* Only versions the requester can see are deleted, so DELETE cannot be
     * used to probe for (or destroy) objects above its TLP; and only its
     * own org's, unless it is the own org (policy_may_delete): a partner
     * deleting another's object gets the 404 of an absent one. */
    if (store_objects_delete(r->ts->st, c.c.key, r->path.object_id, strlen(r->path.object_id), &m,
                             delete_visible, &c.reader, &deleted, &err) != MRD_OK) {
        /* A legal hold (docs/ledger.md): name it, nothing more. Only a
         * version the requester can see reaches the check. */
        if (err.code == MRD_E_PERM)
            taxii_error(r, 403, "Forbidden", err.msg);
        else
            taxii_internal(r, &err);
        return;
    }
    if (deleted == 0) {
        taxii_error(r, 404, "Not found",
                    "no such object in this collection, or no version matches the filters");
        return;
    }
    /* 200 without a body, still with the TAXII content type (§5.7). */
    r->resp->status = 200;
    r->resp->content_type = TAXII_MEDIA_TYPE;
    mrd_buf_reset(&r->resp->body);
}
