/*
 * One sync round with one peer: pull, then push (docs/design.md §7).
 *
 * Pull asks objects/ for what was added after the persisted cursor and
 * follows `next` (or, for servers without it, added_after = the last
 * X-TAXII-Date-Added-Last). Each page is stored in one committed
 * transaction and only then is the cursor saved, so a crash re-fetches at
 * most one page and never skips one; identical (id, version) pairs are
 * no-ops, so the re-fetch changes nothing.
 *
 * Push reads the local collection after its own cursor exactly as the peer
 * would read it through TAXII (policy_may_read with the peer as the
 * reader, the peer's community as the community), posts batches, and
 * follows each status resource until it is complete. Objects that came
 * from this very peer are not sent back to it.
 */
#include "fed/fed_int.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "audit/audit.h"
#include "core/alloc.h"
#include "core/json.h"
#include "core/metrics.h"
#include "core/str.h"
#include "core/timestamp.h"
#include "policy/policy.h"
#include "stix/stix.h"

/* What one peer's round works with. */
struct job {
    const char *data_dir;
    struct store *st;
    const struct fed_trust *trust;
    struct fed_peer peer;
    struct fed_peer_state state;
    struct fed_round_report rep;
    struct store_collection coll; /* the local collection */
    bool has_org;                 /* the peer has an org of its name on this node */
    struct store_org org;
    const atomic_bool *stop; /* NULL or the runner's stop flag */
};

/* Like fed__http, with the runner's stop flag able to abort the transfer. */
static enum mrd_code request(struct job *j, struct fed_client *c, const char *url, const char *body,
                             size_t len, struct fed_response *resp, struct mrd_err *err)
{
    if (j->stop != NULL && atomic_load(j->stop))
        return mrd_err_set(err, MRD_E_IO, "stopping");
    return fed__http(c, url, body, len, resp, err);
}

/* ---- pull ---- */

static const char *str_of(const json_t *o, const char *key, size_t *ret_len)
{
    const json_t *v = json_object_get(o, key);

    if (!json_is_string(v))
        return NULL;
    *ret_len = json_string_length(v);
    return json_string_value(v);
}

static int64_t usec_of(const json_t *o, const char *key)
{
    size_t n = 0;
    const char *s = str_of(o, key, &n);
    struct mrd_time t;

    if (s == NULL || mrd_time_parse(s, n, &t, NULL) != MRD_OK)
        return STORE_TIME_NONE;
    return mrd_time_to_usec(&t);
}

static void note_reject(struct job *j, size_t i, const char *id, const char *why)
{
    j->rep.rejected++;
    mrd_metric_inc(MRD_M_OBJECTS_REJECTED, "from_peer");
    if (j->rep.first_reject[0] == '\0') {
        /* Truncation is fine: the start names the object. */
        int k = snprintf(j->rep.first_reject, sizeof(j->rep.first_reject),
                         "objects[%zu] %.80s: ", i, id != NULL ? id : "(no id)");
        if (k > 0 && (size_t)k < sizeof(j->rep.first_reject))
            mrd_strlcpy(j->rep.first_reject + k, why, sizeof(j->rep.first_reject) - (size_t)k);
    }
}

/* One object of a page: checked on a worker thread, stored in order. */
struct page_obj {
    struct mrd_buf canon;
    bool ok;
    bool unverified;
    enum policy_tlp tlp;
    char signer[CRYPTO_PUBKEY_TEXT_LEN + 1];
    char why[FED_ERROR_MAX + 1];
};

/* Validates (STIX), verifies (signature) and canonicalises one object.
 * MRD_OK also for a rejected one (ok false, why set). */
static enum mrd_code check_one(struct job *j, json_t *o, struct stix_report *rep,
                               struct page_obj *po, struct mrd_err *err)
{
    struct fed_ingest_result ir;
    enum mrd_code rc;

    if (!json_is_object(o)) {
        mrd_strlcpy(po->why, "not a JSON object", sizeof(po->why));
        return MRD_OK;
    }
    stix_report_reset(rep);
    rc = stix_validate_object(o, STIX_NO_WARNINGS, rep, err);
    if (rc != MRD_OK)
        return rc;
    if (stix_report_errors(rep) > 0) {
        char line[STIX_LINE_MAX] = "invalid STIX object";
        for (size_t k = 0; k < rep->nfindings; k++)
            if (rep->findings[k].severity == STIX_ERROR) {
                (void)stix_finding_format(&rep->findings[k], line, sizeof(line));
                break;
            }
        mrd_strlcpy(po->why, line, sizeof(po->why));
        return MRD_OK;
    }
    /* received: verified, and an unmarked one is at least GREEN here
     * (marked so when unsigned: policy_tlp_ingest) */
    rc =
        fed_ingest_canon(j->trust, o, FED_ORIGIN_REMOTE, j->coll.default_tlp, &po->canon, &ir, err);
    if (rc == MRD_OK && ir.reject) {
        mrd_strlcpy(po->why, ir.message, sizeof(po->why));
        return MRD_OK;
    }
    if (rc == MRD_E_TOOBIG || rc == MRD_E_INVAL) {
        mrd_err_clear(err);
        mrd_strlcpy(po->why, "too big or not representable as RFC 8785 JSON", sizeof(po->why));
        return MRD_OK;
    }
    if (rc != MRD_OK)
        return rc;
    po->ok = true;
    po->unverified = ir.verdict != CRYPTO_VALID;
    po->tlp = ir.tlp;
    mrd_strlcpy(po->signer, ir.signer, sizeof(po->signer));
    return MRD_OK;
}

#define FED_CHECK_THREADS 4 /* workers per page; signature checks dominate */

struct stripe {
    struct job *j;
    json_t *objs;
    struct page_obj *po;
    size_t first, step;
    enum mrd_code rc;
    struct mrd_err err;
};

static void *stripe_main(void *arg)
{
    struct stripe *sp = arg;
    size_t n = json_array_size(sp->objs);
    struct stix_report rep;

    stix_report_init(&rep);
    sp->rc = MRD_OK;
    for (size_t i = sp->first; i < n && sp->rc == MRD_OK; i += sp->step)
        sp->rc = check_one(sp->j, json_array_get(sp->objs, i), &rep, &sp->po[i], &sp->err);
    stix_report_release(&rep);
    return NULL;
}

static bool pull_writer_sees(void *ctx, const struct store_row *row)
{
    return policy_may_read(ctx, &row->policy);
}

/* Validates, verifies and stores one page of objects. The checks (mostly
 * Ed25519 verification) run on up to FED_CHECK_THREADS threads, each on
 * its own objects of the page; the insert is one transaction, in order.
 * A peer with an org here writes as that org: a version it serves that
 * this node holds only where that org may not read it is stored as the
 * peer's own copy (store_objects_insert), so the peer, reading back over
 * TAXII, cannot tell whether the node held it (docs/design.md §5). */
static enum mrd_code store_page(struct job *j, json_t *objs, struct mrd_err *err)
{
    struct store_grant g = {0};
    struct policy_reader writer;
    size_t n = json_array_size(objs), nin = 0, nthreads;
    struct page_obj *po = NULL;
    struct store_object_in *ins = NULL;
    enum store_insert_outcome *outs = NULL;
    struct stripe sp[FED_CHECK_THREADS];
    pthread_t tids[FED_CHECK_THREADS];
    bool started[FED_CHECK_THREADS] = {false};
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    enum mrd_code rc = MRD_OK;

    if (n == 0)
        return MRD_OK;
    /* What the peer's org would read here over TAXII (taxii_coll_load) */
    if (j->has_org) {
        rc = store_grant_get(j->st, j->org.key, j->coll.key, &g, err);
        if (rc != MRD_OK)
            return rc;
    }
    writer = (struct policy_reader){
        .anonymous = false,
        .org_id = j->org.key,
        .relation = j->org.relation,
        .has_read_grant = g.can_read,
        .collection_public = j->coll.public_read,
        .community = j->coll.api_root,
        .community_len = strlen(j->coll.api_root),
    };
    po = mrd_calloc(n, sizeof(*po));
    ins = mrd_calloc(n, sizeof(*ins));
    outs = mrd_calloc(n, sizeof(*outs));
    if (po == NULL || ins == NULL || outs == NULL) {
        rc = mrd_err_set(err, MRD_E_NOMEM, "page of %zu objects", n);
        goto out;
    }
    for (size_t i = 0; i < n; i++)
        mrd_buf_init(&po[i].canon, STORE_OBJECT_MAX);
    nthreads = cpus > 1 ? (size_t)cpus : 1;
    if (nthreads > FED_CHECK_THREADS)
        nthreads = FED_CHECK_THREADS;
    if (nthreads > n / 64 + 1)
        nthreads = n / 64 + 1; /* small pages: not worth a thread */
    for (size_t t = 0; t < nthreads; t++) {
        sp[t] = (struct stripe){.j = j, .objs = objs, .po = po, .first = t, .step = nthreads};
        if (t > 0)
            started[t] = pthread_create(&tids[t], NULL, stripe_main, &sp[t]) == 0;
    }
    stripe_main(&sp[0]);
    for (size_t t = 1; t < nthreads; t++) {
        if (started[t])
            (void)pthread_join(tids[t], NULL);
        else
            stripe_main(&sp[t]); /* no thread to be had: do it here */
    }
    for (size_t t = 0; t < nthreads && rc == MRD_OK; t++)
        if (sp[t].rc != MRD_OK)
            rc = mrd_err_set(err, sp[t].rc, "%s", sp[t].err.msg);
    if (rc != MRD_OK)
        goto out;
    for (size_t i = 0; i < n; i++) {
        json_t *o = json_array_get(objs, i);
        struct store_object_in *in = &ins[nin];
        size_t idn = 0;
        const char *id = json_is_object(o) ? str_of(o, "id", &idn) : NULL;

        if (!po[i].ok) {
            note_reject(j, i, id, po[i].why);
            continue;
        }
        if (po[i].unverified)
            j->rep.unverified++;
        in->id = id;
        in->id_len = idn;
        in->type = str_of(o, "type", &in->type_len);
        in->spec_version = str_of(o, "spec_version", &in->spec_version_len);
        if (in->spec_version == NULL) {
            in->spec_version = "2.1";
            in->spec_version_len = 3;
        }
        in->created_usec = usec_of(o, "created");
        in->modified_usec = usec_of(o, "modified");
        in->revoked = json_is_true(json_object_get(o, "revoked"));
        in->tlp = po[i].tlp;
        in->local = policy_origin_local(POLICY_REL_PARTNER, true);
        in->creator_org = j->has_org ? j->org.key : 0;
        in->source_peer = j->peer.name;
        in->source_peer_len = strlen(j->peer.name);
        in->community = j->peer.community;
        in->community_len = strlen(j->peer.community);
        in->body = po[i].canon.data;
        in->body_len = po[i].canon.len;
        if (po[i].signer[0] != '\0') {
            in->signer = po[i].signer;
            in->signer_len = strlen(po[i].signer);
        }
        in->signer_trusted = fed_trust_knows;
        in->same_content = fed_same_content;
        in->signer_ctx = (void *)(uintptr_t)j->trust;
        if (j->has_org) { /* else nobody reads as the peer: it sees every copy */
            in->writer_sees = pull_writer_sees;
            in->writer_ctx = &writer;
        }
        nin++;
    }
    if (nin > 0) {
        rc = store_objects_insert(j->st, j->coll.key, ins, nin, outs, NULL, err);
        if (rc != MRD_OK)
            goto out;
        for (size_t i = 0; i < nin; i++) {
            switch (outs[i]) {
            case STORE_INS_ADDED:
                j->rep.pulled++;
                break;
            case STORE_INS_DUPLICATE:
                j->rep.duplicates++;
                break;
            case STORE_INS_REPLACED: /* the genuine copy, late: stored */
                j->rep.pulled++;
                j->rep.conflicts++;
                break;
            default: /* not genuine here (docs/federation.md) */
                j->rep.conflicts++;
                break;
            }
        }
    }
out:
    if (po != NULL)
        for (size_t i = 0; i < n; i++)
            mrd_buf_release(&po[i].canon);
    mrd_free(po);
    mrd_free(ins);
    mrd_free(outs);
    return rc;
}

static enum mrd_code save_state(struct job *j, struct mrd_err *err)
{
    struct fed_state *fs = NULL;
    enum mrd_code rc = fed_state_open(j->data_dir, &fs, err);

    if (rc == MRD_OK)
        rc = fed_peer_state_put(fs, j->peer.name, &j->state, err);
    fed_state_close(fs);
    return rc;
}

/* One page request, run on a helper thread so that the next page travels
 * while this one is validated, verified and stored. */
struct fetch {
    struct job *j;
    struct fed_client *c;
    char url[FED_URL_MAX * 3];
    struct fed_response resp;
    enum mrd_code rc;
    struct mrd_err err;
};

static void *fetch_main(void *arg)
{
    struct fetch *f = arg;

    mrd_buf_reset(&f->resp.body);
    f->resp.date_added_last[0] = '\0';
    f->resp.status = 0;
    f->err = (struct mrd_err){0};
    f->rc = request(f->j, f->c, f->url, NULL, 0, &f->resp, &f->err);
    return NULL;
}

/* base?limit=..[&added_after=..][&next=..] into url. */
static enum mrd_code page_url(struct fed_client *c, const char *base, int64_t after,
                              const char *next, char *url, size_t size, struct mrd_err *err)
{
    char ts[MRD_TIME_TAXII_LEN + 1];
    int k = snprintf(url, size, "%s?limit=%d", base, FED_PAGE_LIMIT);

    if (after != STORE_TIME_NONE && k > 0 && (size_t)k < size) {
        mrd_time_format_taxii(after, ts);
        k += snprintf(url + k, size - (size_t)k, "&added_after=%s", ts);
    }
    if (next != NULL && k > 0 && (size_t)k < size) {
        char *esc = curl_easy_escape(c->curl, next, 0);
        if (esc == NULL)
            return mrd_err_set(err, MRD_E_NOMEM, "escape");
        k += snprintf(url + k, size - (size_t)k, "&next=%s", esc);
        curl_free(esc);
    }
    if (k < 0 || (size_t)k >= size)
        return mrd_err_set(err, MRD_E_TOOBIG, "%s: request URL too long", base);
    return MRD_OK;
}

static int64_t header_usec(const char *s)
{
    struct mrd_time t;

    if (s[0] == '\0' || mrd_time_parse(s, strlen(s), &t, NULL) != MRD_OK)
        return STORE_TIME_NONE;
    return mrd_time_to_usec(&t);
}

static enum mrd_code pull(struct job *j, struct fed_client *c, struct mrd_err *err)
{
    char base[FED_URL_MAX * 2];
    int64_t query_after = j->state.pull_cursor;
    struct fed_client *c2 = NULL;
    struct fetch *f = NULL;
    pthread_t tid;
    bool running = false;
    json_t *doc = NULL;
    enum mrd_code rc;
    int cur = 0;

    rc = fed__objects_url(c, j->peer.collection, base, sizeof(base), err);
    if (rc != MRD_OK)
        return rc;
    f = mrd_calloc(2, sizeof(*f));
    if (f == NULL)
        return mrd_err_set(err, MRD_E_NOMEM, "pull");
    fed__response_init(&f[0].resp);
    fed__response_init(&f[1].resp);
    rc = fed__client_new(&j->peer, &c2, err);
    if (rc != MRD_OK)
        goto out;
    memcpy(c2->root_url, c->root_url, sizeof(c2->root_url));
    c2->stop = c->stop;
    f[0].j = f[1].j = j;
    f[0].c = c;
    f[1].c = c2;
    rc = page_url(c, base, query_after, NULL, f[0].url, sizeof(f[0].url), err);
    if (rc != MRD_OK)
        goto out;
    fetch_main(&f[0]);
    for (uint64_t page = 0; page < FED_MAX_PAGES_PER_ROUND; page++) {
        struct fetch *cf = &f[cur], *nf = &f[1 - cur];
        bool more, have_next = false;
        const char *nx;
        int64_t last;
        json_t *objs;

        if (cf->rc != MRD_OK) {
            rc = mrd_err_set(err, cf->rc, "%s", cf->err.msg);
            goto out;
        }
        rc = fed__json(&cf->resp, 200, cf->url, &doc, err);
        if (rc != MRD_OK)
            goto out;
        j->rep.pages++;
        objs = json_object_get(doc, "objects");
        if (objs != NULL && !json_is_array(objs)) {
            rc = mrd_err_set(err, MRD_E_PARSE, "%s: \"objects\" is not a list (TAXII 2.1 §3.7)",
                             cf->url);
            goto out;
        }
        last = header_usec(cf->resp.date_added_last);
        more = json_is_true(json_object_get(doc, "more"));
        nx = json_string_value(json_object_get(doc, "next"));
        if (more && json_array_size(objs) > 0) {
            if (nx != NULL && strlen(nx) < FED_URL_MAX) {
                /* same filters, the server's cursor */
                rc = page_url(c, base, query_after, nx, nf->url, sizeof(nf->url), err);
                have_next = rc == MRD_OK;
            } else if (last != STORE_TIME_NONE && last != query_after) {
                query_after = last; /* servers without `next` (TAXII 2.1 §3.4) */
                rc = page_url(c, base, query_after, NULL, nf->url, sizeof(nf->url), err);
                have_next = rc == MRD_OK;
            } /* else neither next nor dates: nothing safe to page with */
            if (rc != MRD_OK)
                goto out;
        }
        if (have_next)
            running = pthread_create(&tid, NULL, fetch_main, nf) == 0;
        rc = store_page(j, objs, err);
        /* The page is committed: now the cursor may move past it. */
        if (rc == MRD_OK && last != STORE_TIME_NONE) {
            if (j->state.pull_cursor == STORE_TIME_NONE || last > j->state.pull_cursor)
                j->state.pull_cursor = last;
            rc = save_state(j, err);
        }
        if (running) {
            (void)pthread_join(tid, NULL);
            running = false;
        } else if (have_next && rc == MRD_OK) {
            fetch_main(nf); /* no thread to be had: fetch here */
        }
        if (rc != MRD_OK || !have_next)
            goto out;
        json_decref(doc);
        doc = NULL;
        cur = 1 - cur;
    }
out:
    if (running)
        (void)pthread_join(tid, NULL);
    json_decref(doc);
    if (f != NULL) {
        fed__response_release(&f[0].resp);
        fed__response_release(&f[1].resp);
    }
    mrd_free(f);
    fed__client_free(c2);
    return rc;
}

/* ---- push ---- */

struct push_ctx {
    struct job *j;
    struct policy_reader reader;
    struct privacy_policy *privacy; /* the policy in force for this push round */
    struct mrd_buf *env;
    size_t n;
    int64_t sent[FED_PUSH_BATCH]; /* the batch's versions, for the overview */
    struct audit_batch *audit;    /* the sensitive ones (audit.h) */
};

static bool push_visible(void *ctx, const struct store_row *row)
{
    struct push_ctx *x = ctx;
    const char *name = x->j->peer.name;

    /* Never echo an object back to the peer it came from. */
    if (row->source_peer != NULL && mrd_str_eq(row->source_peer, row->source_peer_len, name))
        return false;
    return policy_may_read(&x->reader, &row->policy);
}

static enum mrd_code push_emit(void *ctx, const struct store_row *row, struct mrd_err *err)
{
    struct push_ctx *x = ctx;
    struct privacy_scope scope = {
        .community = x->j->peer.community, .org = x->j->org.name, .peer = x->j->peer.name};
    enum privacy_outcome po = PRIVACY_AS_IS;
    size_t before = x->env->len;
    enum mrd_code rc = MRD_OK;

    if (x->n > 0)
        rc = mrd_buf_putc(x->env, ',', err);
    /* Minimised for this peer after the read decision (push_visible). */
    if (rc == MRD_OK)
        rc = privacy_minimise_bytes(x->privacy, &scope, row->body, row->body_len, x->env, &po, err);
    if (rc == MRD_OK && po == PRIVACY_WITHHELD) {
        x->env->len = before;
        x->env->data[before] = '\0';
        return MRD_OK;
    }
    if (x->n < FED_PUSH_BATCH)
        x->sent[x->n] = row->seq;
    x->n++;
    if (rc == MRD_OK)
        rc = audit_note(x->audit, row, err);
    return rc;
}

/* Reads a status resource's counters into the report; true when complete. */
static bool status_counts(struct job *j, const json_t *st)
{
    json_int_t ok = json_integer_value(json_object_get(st, "success_count"));
    json_int_t bad = json_integer_value(json_object_get(st, "failure_count"));
    const char *s = json_string_value(json_object_get(st, "status"));

    if (s != NULL && strcmp(s, "complete") != 0)
        return false;
    j->rep.pushed += ok > 0 ? (uint64_t)ok : 0;
    j->rep.push_failed += bad > 0 ? (uint64_t)bad : 0;
    return true;
}

/* Polls status/{id}/ until complete or FED_STATUS_WAIT_S passes. */
static enum mrd_code follow_status(struct job *j, struct fed_client *c, const char *id,
                                   struct mrd_err *err)
{
    char url[FED_URL_MAX * 2];
    int64_t until = mrd_time_now_usec() + (int64_t)FED_STATUS_WAIT_S * 1000000;
    struct fed_response resp;
    enum mrd_code rc = MRD_OK;
    unsigned delay_ms = 50;
    char *esc = curl_easy_escape(c->curl, id, 0);

    if (esc == NULL)
        return mrd_err_set(err, MRD_E_NOMEM, "escape");
    (void)snprintf(url, sizeof(url), "%sstatus/%s/", c->root_url, esc);
    curl_free(esc);
    fed__response_init(&resp);
    for (;;) {
        json_t *st = NULL;
        bool done;
        struct timespec ts = {.tv_sec = delay_ms / 1000,
                              .tv_nsec = (long)(delay_ms % 1000) * 1000000L};

        (void)nanosleep(&ts, NULL);
        delay_ms = delay_ms < 1000 ? delay_ms * 2 : 1000;
        mrd_buf_reset(&resp.body);
        rc = request(j, c, url, NULL, 0, &resp, err);
        if (rc == MRD_OK)
            rc = fed__json(&resp, 200, url, &st, err);
        if (rc != MRD_OK)
            break;
        done = status_counts(j, st);
        json_decref(st);
        if (done)
            break;
        if (mrd_time_now_usec() > until) {
            rc = mrd_err_set(err, MRD_E_TIMEOUT, "%s: still pending after %d s", url,
                             FED_STATUS_WAIT_S);
            break;
        }
    }
    fed__response_release(&resp);
    return rc;
}

static enum mrd_code push(struct job *j, struct fed_client *c, struct mrd_err *err)
{
    char url[FED_URL_MAX * 2];
    struct mrd_buf env;
    struct fed_response resp;
    struct push_ctx x = {.j = j, .env = &env};
    struct store_grant g = {0};
    enum mrd_code rc = fed__objects_url(c, j->peer.collection, url, sizeof(url), err);

    if (rc != MRD_OK)
        return rc;
    /* The peer reads as its partner org on this node (fed_peer_check_org
     * made sure there is one): its grant and relation decide, exactly as
     * for a TAXII pull by that org. */
    if (!j->has_org || j->org.relation != POLICY_REL_PARTNER)
        return mrd_err_set(err, MRD_E_INVAL, "peer '%s': no partner org to push to", j->peer.name);
    if (j->trust == NULL || j->trust->privacy == NULL)
        return mrd_err_set(err, MRD_E_INVAL, "peer '%s': no privacy policy loaded, nothing pushed",
                           j->peer.name);
    rc = store_grant_get(j->st, j->org.key, j->coll.key, &g, err);
    if (rc != MRD_OK)
        return rc;
    x.reader = (struct policy_reader){
        .anonymous = false,
        .org_id = j->org.key,
        .relation = j->org.relation,
        .has_read_grant = g.can_read,
        .collection_public = j->coll.public_read,
        .community = j->peer.community,
        .community_len = strlen(j->peer.community),
    };
    x.audit = mrd_malloc(sizeof(*x.audit));
    if (x.audit == NULL)
        return mrd_err_set(err, MRD_E_NOMEM, "access audit");
    /* one policy for the whole round, even if it changes meanwhile */
    x.privacy = privacy_live_get(j->trust->privacy);
    {
        char who[STORE_READ_WHO_MAX + 1];
        (void)snprintf(who, sizeof(who), "peer:%s", j->peer.name);
        audit_begin(x.audit, j->st, AUDIT_SYNC_PUSH, j->org.name, who);
    }
    mrd_buf_init(&env, FED_MAX_RESPONSE);
    fed__response_init(&resp);
    for (;;) {
        struct store_query q = {
            .collection = j->coll.key,
            .added_after = STORE_TIME_NONE,
            .has_cursor = j->state.push_has_cursor,
            .after_date_added = j->state.push_date_added,
            .after_seq = j->state.push_seq,
            .limit = FED_PUSH_BATCH,
            .want_body = true,
        };
        struct store_query_result res;
        json_t *st = NULL;

        mrd_buf_reset(&env);
        x.n = 0;
        rc = mrd_buf_puts(&env, "{\"objects\":[", err);
        if (rc == MRD_OK)
            rc = store_objects_query(j->st, &q, push_visible, push_emit, &x, &res, err);
        if (rc != MRD_OK)
            break;
        if (res.delivered == 0)
            break;
        if (x.n == 0) { /* every row of the batch withheld (privacy.h) */
            j->state.push_has_cursor = true;
            j->state.push_date_added = res.last_date_added;
            j->state.push_seq = res.last_seq;
            rc = save_state(j, err);
            if (rc != MRD_OK || !res.more)
                break;
            continue;
        }
        rc = mrd_buf_puts(&env, "]}", err);
        /* recorded before the batch is sent: what cannot be audited is
         * not pushed (a failed push is recorded all the same: it may have
         * arrived) */
        if (rc == MRD_OK)
            rc = audit_flush(x.audit, err);
        if (rc != MRD_OK)
            break;
        mrd_buf_reset(&resp.body);
        rc = request(j, c, url, env.data, env.len, &resp, err);
        if (rc == MRD_OK)
            rc = fed__json(&resp, 202, url, &st, err);
        if (rc != MRD_OK)
            break;
        if (!status_counts(j, st)) {
            const char *id = json_string_value(json_object_get(st, "id"));
            if (id == NULL)
                rc = mrd_err_set(err, MRD_E_PARSE, "%s: pending status without an id", url);
            else
                rc = follow_status(j, c, id, err);
        }
        json_decref(st);
        if (rc != MRD_OK)
            break;
        /* Accepted (objects the peer refused are counted, not retried:
         * they would be refused again). They left this node: the overview
         * counts them (a statistic: never a reason to fail the push). */
        (void)store_sent_record(j->st, j->org.name, x.sent,
                                x.n < FED_PUSH_BATCH ? x.n : FED_PUSH_BATCH, mrd_time_now_usec(),
                                NULL);
        j->state.push_has_cursor = true;
        j->state.push_date_added = res.last_date_added;
        j->state.push_seq = res.last_seq;
        rc = save_state(j, err);
        if (rc != MRD_OK || !res.more)
            break;
    }
    fed__response_release(&resp);
    mrd_buf_release(&env);
    mrd_free(x.audit);
    privacy_policy_free(x.privacy);
    return rc;
}

/* ---- one peer ---- */

enum mrd_code fed_peer_check_org(struct store *st, const struct fed_peer *p,
                                 const struct store_collection *local_coll,
                                 struct store_org *ret_org, bool *ret_has_org, struct mrd_err *err)
{
    struct store_org org;
    struct store_grant g = {0};
    struct mrd_err oerr = {0};
    enum mrd_code rc;
    bool has;

    rc = store_org_get(st, p->name, 0, &org, &oerr);
    if (rc != MRD_OK && rc != MRD_E_NOTFOUND && rc != MRD_E_INVAL)
        return mrd_err_set(err, rc, "%s", oerr.msg);
    has = rc == MRD_OK;
    if (has && org.relation != POLICY_REL_PARTNER)
        return mrd_err_set(err, MRD_E_INVAL,
                           "peer '%s': the org of that name on this node is '%s', not a partner; "
                           "a peer is another team's node: name it after a partner org "
                           "(docs/federation.md)",
                           p->name, policy_relation_name(org.relation));
    if ((p->direction & FED_DIR_PUSH) && !has)
        return mrd_err_set(err, MRD_E_INVAL,
                           "peer '%s': pushing needs a partner org of that name on this node "
                           "(meridian org create %s --relation partner, then grant it read on the "
                           "local collection): it receives exactly what that org may read",
                           p->name, p->name);
    if ((p->direction & FED_DIR_PUSH) && local_coll != NULL) {
        rc = store_grant_get(st, org.key, local_coll->key, &g, err);
        if (rc != MRD_OK)
            return rc;
        if (!g.can_read)
            return mrd_err_set(err, MRD_E_INVAL,
                               "peer '%s': pushing needs a read grant for org '%s' on the local "
                               "collection %s (meridian grant --org %s --collection %s --read)",
                               p->name, p->name, local_coll->id, p->name, local_coll->id);
    }
    if (ret_org != NULL && has)
        *ret_org = org;
    if (ret_has_org != NULL)
        *ret_has_org = has;
    return MRD_OK;
}

/* Runs one peer's round and records its outcome (state and report). */
static void run_job(struct job *j)
{
    struct fed_client *c = NULL;
    struct mrd_err err = {0};
    enum mrd_code rc;
    int64_t t0 = mrd_time_now_usec();
    uint64_t rejected0;

    mrd_strlcpy(j->rep.peer, j->peer.name, sizeof(j->rep.peer));
    j->rep.attempted = true;
    rejected0 = j->rep.rejected;
    rc = store_collection_get(j->st, NULL, 0, j->peer.local_collection,
                              strlen(j->peer.local_collection), &j->coll, &err);
    if (rc != MRD_OK)
        mrd_err_prefix(&err, "local collection %s", j->peer.local_collection);
    /* Orgs change after `peer add`: who the peer is is checked every round. */
    if (rc == MRD_OK)
        rc = fed_peer_check_org(j->st, &j->peer, &j->coll, &j->org, &j->has_org, &err);
    if (rc == MRD_OK)
        rc = fed__client_new(&j->peer, &c, &err);
    if (rc == MRD_OK) {
        c->stop = j->stop;
        rc = fed__discover(c, &err);
    }
    if (rc == MRD_OK && (j->peer.direction & FED_DIR_PULL))
        rc = pull(j, c, &err);
    if (rc == MRD_OK && (j->peer.direction & FED_DIR_PUSH))
        rc = push(j, c, &err);
    j->state.last_attempt_usec = mrd_time_now_usec();
    j->state.pulled += j->rep.pulled;
    j->state.pushed += j->rep.pushed;
    j->state.rejected += j->rep.rejected - rejected0;
    if (rc == MRD_OK) {
        j->rep.ok = true;
        j->state.failures = 0;
        j->state.next_attempt_usec = 0;
        j->state.last_ok_usec = j->state.last_attempt_usec;
        j->state.last_error[0] = '\0';
    } else {
        j->state.failures++;
        j->state.next_attempt_usec =
            j->state.last_attempt_usec +
            fed_backoff_usec(j->state.failures, (double)randombytes_uniform(1000001) / 1e6);
        mrd_strlcpy(j->state.last_error, err.msg, sizeof(j->state.last_error));
        mrd_strlcpy(j->rep.error, err.msg, sizeof(j->rep.error));
    }
    err = (struct mrd_err){0};
    if (save_state(j, &err) != MRD_OK && j->rep.error[0] == '\0') {
        j->rep.ok = false;
        mrd_strlcpy(j->rep.error, err.msg, sizeof(j->rep.error));
    }
    j->rep.usec = mrd_time_now_usec() - t0;
    fed__client_free(c);
    mrd_metric_inc(MRD_M_SYNC_ROUNDS, j->peer.name);
    if (!j->rep.ok)
        mrd_metric_inc(MRD_M_SYNC_ERRORS, j->peer.name);
    mrd_metric_add(MRD_M_SYNC_PULLED, j->peer.name, j->rep.pulled);
    mrd_metric_add(MRD_M_SYNC_PUSHED, j->peer.name, j->rep.pushed);
}

void fed__peer_round(const char *data_dir, struct store *st, const struct fed_trust *trust,
                     const struct fed_peer *p, const struct fed_peer_state *s,
                     const atomic_bool *stop, struct fed_round_report *ret)
{
    struct job *j = mrd_calloc(1, sizeof(*j));

    memset(ret, 0, sizeof(*ret));
    mrd_strlcpy(ret->peer, p->name, sizeof(ret->peer));
    if (j == NULL) {
        mrd_strlcpy(ret->error, "out of memory", sizeof(ret->error));
        return;
    }
    j->data_dir = data_dir;
    j->st = st;
    j->trust = trust;
    j->peer = *p;
    j->state = *s;
    j->stop = stop;
    run_job(j);
    *ret = j->rep;
    mrd_free(j);
}

/* ---- a round over all peers ---- */

struct round {
    const char *data_dir;
    struct store *st;
    const struct fed_trust *trust;
    const struct fed_sync_opts *opts;
    struct job *jobs;
    size_t n;
    int64_t now;
    void (*cb)(void *ctx, const struct fed_round_report *r);
    void *ctx;
    pthread_mutex_t mu;
    const atomic_bool *stop;
};

static enum mrd_code collect(void *ctx, const struct fed_peer *p, const struct fed_peer_state *s)
{
    struct round *r = ctx;
    struct job *j;

    if (r->opts != NULL && r->opts->only != NULL && strcmp(r->opts->only, p->name) != 0)
        return MRD_OK;
    if (!p->enabled || r->n >= FED_MAX_PEERS)
        return MRD_OK;
    if ((r->opts == NULL || !r->opts->ignore_backoff) && s->next_attempt_usec > r->now)
        return MRD_OK;
    j = &r->jobs[r->n++];
    memset(j, 0, sizeof(*j));
    j->data_dir = r->data_dir;
    j->st = r->st;
    j->trust = r->trust;
    j->peer = *p;
    j->state = *s;
    j->stop = r->stop;
    return MRD_OK;
}

struct worker {
    struct round *r;
    struct job *j;
};

static void *worker_main(void *arg)
{
    struct worker *w = arg;

    run_job(w->j);
    if (w->r->cb != NULL) {
        pthread_mutex_lock(&w->r->mu);
        w->r->cb(w->r->ctx, &w->j->rep);
        pthread_mutex_unlock(&w->r->mu);
    }
    return NULL;
}

static enum mrd_code round_all(const char *data_dir, struct store *st,
                               const struct fed_trust *trust, const struct fed_sync_opts *opts,
                               const atomic_bool *stop,
                               void (*cb)(void *ctx, const struct fed_round_report *r), void *ctx,
                               struct mrd_err *err)
{
    struct round r = {.data_dir = data_dir,
                      .st = st,
                      .trust = trust,
                      .opts = opts,
                      .cb = cb,
                      .ctx = ctx,
                      .stop = stop};
    struct fed_state *fs = NULL;
    struct worker *ws = NULL;
    pthread_t *tids = NULL;
    bool *started = NULL;
    enum mrd_code rc;

    pthread_mutex_init(&r.mu, NULL);
    r.now = mrd_time_now_usec();
    r.jobs = mrd_calloc(FED_MAX_PEERS, sizeof(*r.jobs));
    ws = mrd_calloc(FED_MAX_PEERS, sizeof(*ws));
    tids = mrd_calloc(FED_MAX_PEERS, sizeof(*tids));
    started = mrd_calloc(FED_MAX_PEERS, sizeof(*started));
    if (r.jobs == NULL || ws == NULL || tids == NULL || started == NULL) {
        rc = mrd_err_set(err, MRD_E_NOMEM, "sync round");
        goto out;
    }
    rc = fed_state_open(data_dir, &fs, err);
    if (rc == MRD_OK)
        rc = fed_peer_list(fs, collect, &r, err);
    fed_state_close(fs);
    if (rc != MRD_OK)
        goto out;
    /* One thread per peer: a peer that hangs until its timeout delays no
     * other peer's round. */
    for (size_t i = 0; i < r.n; i++) {
        ws[i] = (struct worker){.r = &r, .j = &r.jobs[i]};
        started[i] = pthread_create(&tids[i], NULL, worker_main, &ws[i]) == 0;
        if (!started[i])
            worker_main(&ws[i]); /* no thread to be had: do it here */
    }
    for (size_t i = 0; i < r.n; i++)
        if (started[i])
            (void)pthread_join(tids[i], NULL);
out:
    mrd_free(r.jobs);
    mrd_free(ws);
    mrd_free(tids);
    mrd_free(started);
    pthread_mutex_destroy(&r.mu);
    return rc;
}

enum mrd_code fed_sync_round(const char *data_dir, struct store *st, const struct fed_trust *trust,
                             const struct fed_sync_opts *opts,
                             void (*cb)(void *ctx, const struct fed_round_report *r), void *ctx,
                             struct mrd_err *err)
{
    return round_all(data_dir, st, trust, opts, NULL, cb, ctx, err);
}

enum mrd_code fed_global_init(struct mrd_err *err)
{
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return mrd_err_set(err, MRD_E_INTERNAL, "curl_global_init failed");
    if (sodium_init() < 0)
        return mrd_err_set(err, MRD_E_CRYPTO, "sodium_init failed");
    return MRD_OK;
}

void fed_global_cleanup(void)
{
    curl_global_cleanup();
}
