/*
 * The import pipeline (feed.h): files, fetched bodies, value lists and
 * MISP events into a collection, through the one ingest path.
 *
 * Each input is a bundle, a TAXII envelope, a JSON array of objects, one
 * object, MISP event(s), or a text/CSV value list. Every object goes
 * through the STIX validator on its own (stix_validate_object), exactly
 * like a TAXII POST: an invalid object is reported with the validator's
 * findings and skipped, the valid ones are stored (RFC 8785 canonical
 * bytes) in batches, each batch one committed transaction. Objects already
 * present (same id and version) are counted, not errors.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/json.h"
#include "core/jstream.h"
#include "core/str.h"
#include "core/timestamp.h"
#include "core/uuid.h"
#include "feed/feed.h"
#include "policy/policy.h"
#include "stix/stix.h"

#define MSG_MAX 4096
/* the value index rows of one object (store_values_of_json) */
#define VALS_MAX ((size_t)STORE_VALUES_MAX * sizeof(struct store_value))
#define NO_OFFSET UINT64_MAX /* feed_importer.at: not a streamed object */

/* Objects are prepared (validated, made canonical, signed) in groups on
 * several threads, then taken in order (see "preparing" below). */
#define PREP_QUEUE FEED_IMPORT_BATCH /* objects prepared together */
#define PREP_BYTES ((size_t)4 << 20) /* ... or fewer, past this much text */
#define PREP_THREADS 4               /* at most, and no more than the CPUs */
#define PREP_PER_THREAD 64           /* a group smaller than this gets fewer */

enum prep_kind {
    PREP_OK,
    PREP_NOT_JSON,
    PREP_NOT_OBJECT,
    PREP_INVALID,
    PREP_UNUSABLE,
    PREP_REFUSED
};

/* One queued object and what preparing it gave. */
struct prep {
    json_t *obj;         /* a reference of our own; NULL until text is parsed */
    struct mrd_buf text; /* a streamed object's JSON text, parsed by prep_one */
    const char *path;    /* the input it came from (lives until it is drained) */
    size_t index;
    uint64_t at; /* byte offset, or NO_OFFSET */
    enum prep_kind kind;
    int64_t created, modified;
    struct fed_ingest_result ir;
    struct mrd_buf body;           /* PREP_OK: the canonical (signed) bytes */
    struct mrd_buf vals;           /* PREP_OK: its struct store_value's (value index) */
    char why[MRD_ERR_MSG_MAX + 1]; /* PREP_REFUSED, PREP_NOT_JSON */
};

struct feed_importer {
    struct store *st;
    const struct store_collection *coll;
    const struct store_org *org;   /* the creator of everything imported */
    const struct fed_trust *trust; /* node key (signs local objects) and trusted keys */
    struct feed_import_opts opts;
    struct feed_import_hooks hooks;
    struct stix_report rep;
    json_t *hold;  /* objects made here (lists, repairs) the pending batch's rows point into */
    json_t *spent; /* a stored batch's objects, freed by the next group's preparing threads */
    size_t repairs, fixable; /* objects repaired; invalid ones --repair would fix */
    uint64_t at;             /* byte offset of the streamed object, or NO_OFFSET */
    /* the pending batch: canonical bytes and the rows pointing into them */
    struct mrd_buf bodies[FEED_IMPORT_BATCH];
    struct mrd_buf vals[FEED_IMPORT_BATCH]; /* the rows' values (struct store_value) */
    struct store_object_in rows[FEED_IMPORT_BATCH];
    enum store_insert_outcome outcomes[FEED_IMPORT_BATCH];
    char signers[FEED_IMPORT_BATCH][STORE_SIGNER_MAX + 1];
    size_t n;
    size_t pending; /* canonical bytes in the batch */
    /* objects waiting to be prepared (NULL with --repair: one at a time) */
    struct prep *queue;
    size_t nq, qbytes;
    struct prep solo; /* the one object of the unqueued path */
};

__attribute__((format(printf, 3, 4))) static void say(struct feed_importer *im,
                                                      enum feed_msg_kind kind, const char *fmt, ...)
{
    char msg[MSG_MAX];
    va_list ap;

    if (im->hooks.msg == NULL)
        return;
    va_start(ap, fmt);
    (void)vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    im->hooks.msg(im->hooks.ctx, kind, msg);
}

static void prog_begin(struct feed_importer *im, const char *unit, uint64_t total)
{
    if (im->hooks.progress_begin != NULL)
        im->hooks.progress_begin(im->hooks.ctx, unit, total);
}

static void prog_tick(struct feed_importer *im, uint64_t done)
{
    if (im->hooks.progress_tick != NULL)
        im->hooks.progress_tick(im->hooks.ctx, done);
}

static void prog_stream(struct feed_importer *im, uint64_t done, uint64_t bytes,
                        uint64_t total_bytes)
{
    if (im->hooks.progress_stream != NULL)
        im->hooks.progress_stream(im->hooks.ctx, done, bytes, total_bytes);
}

static void prog_end(struct feed_importer *im)
{
    if (im->hooks.progress_end != NULL)
        im->hooks.progress_end(im->hooks.ctx);
}

void feed_list_opts_init(struct feed_list_opts *lo)
{
    memset(lo, 0, sizeof(*lo));
    lo->kind = INTEROP_K_COUNT;
    lo->confidence = -1;
    lo->sep = ',';
}

/* A buffer whose batch is stored: kept for the next one unless large. */
static void buf_done(struct mrd_buf *b)
{
    if (b->cap > FEED_IMPORT_BODY_KEEP)
        mrd_buf_release(b);
    else
        mrd_buf_reset(b);
}

/* Stores the pending batch in one transaction. */
static enum mrd_code store_batch(struct feed_importer *im, struct feed_counts *cnt,
                                 struct mrd_err *err)
{
    enum mrd_code rc;

    if (im->n == 0)
        return MRD_OK;
    rc = store_objects_insert(im->st, im->coll->key, im->rows, im->n, im->outcomes, NULL, err);
    for (size_t i = 0; rc == MRD_OK && i < im->n; i++) {
        enum store_insert_outcome o = im->outcomes[i];
        if (o == STORE_INS_ADDED || o == STORE_INS_REPLACED || o == STORE_INS_WRITER_ONLY)
            cnt->added++;
        else if (o == STORE_INS_DUPLICATE)
            cnt->duplicates++;
        if (o != STORE_INS_ADDED && o != STORE_INS_DUPLICATE)
            cnt->conflicts++; /* not genuine here, or outranked others: 'meridian conflicts' */
        if ((o == STORE_INS_ADDED || o == STORE_INS_DUPLICATE) && im->hooks.stored != NULL)
            im->hooks.stored(im->hooks.ctx, im->rows[i].id, im->rows[i].id_len);
    }
    for (size_t i = 0; i < im->n; i++) {
        buf_done(&im->bodies[i]);
        buf_done(&im->vals[i]);
    }
    im->n = 0;
    im->pending = 0;
    if (im->hold != NULL) {
        /* Freeing the batch's objects (a tree each: a fifteenth of the
         * storing thread) is left to the next group's preparing threads
         * (drain), unless no group came since the last batch. */
        json_t *t = im->spent;

        if (json_array_size(t) > 0)
            (void)json_array_clear(t);
        im->spent = im->hold;
        im->hold = t;
    }
    return rc;
}

/* A STIX timestamp property as usec, or STORE_TIME_NONE when absent. */
static bool get_time(const json_t *obj, const char *key, int64_t *ret)
{
    const json_t *v = json_object_get(obj, key);
    struct mrd_time t;

    *ret = STORE_TIME_NONE;
    if (v == NULL)
        return true;
    if (!json_is_string(v) ||
        mrd_time_parse(json_string_value(v), json_string_length(v), &t, NULL) != MRD_OK)
        return false;
    *ret = mrd_time_to_usec(&t);
    return true;
}

static void report_invalid(struct feed_importer *im, const char *path, size_t index,
                           const json_t *obj, const struct stix_report *rep, const char *why)
{
    const json_t *id = json_object_get(obj, "id");
    const char *ids = json_is_string(id) ? json_string_value(id) : "(no id)";
    char line[STIX_LINE_MAX], where[48] = "";
    size_t shown = 0;

    if (im->at != NO_OFFSET)
        (void)snprintf(where, sizeof(where), " at byte %llu", (unsigned long long)im->at);
    if (why != NULL) {
        say(im, FEED_MSG_ERROR, "%s: object %zu%s %s: %s; skipped", path, index, where, ids, why);
        return;
    }
    say(im, FEED_MSG_ERROR, "%s: object %zu%s %s is invalid (%zu error%s); skipped", path, index,
        where, ids, stix_report_errors(rep), stix_report_errors(rep) == 1 ? "" : "s");
    for (size_t i = 0; i < rep->nfindings && shown < FEED_IMPORT_ERRORS_SHOWN; i++) {
        if (rep->findings[i].severity != STIX_ERROR)
            continue;
        (void)stix_finding_format(&rep->findings[i], line, sizeof(line));
        say(im, FEED_MSG_DETAIL, "%s", line);
        shown++;
    }
}

/* One input's summary line; returns the verdict it deserves. */
static enum feed_verdict summary(struct feed_importer *im, const char *path, const char *unit,
                                 const struct feed_counts *c)
{
    say(im, FEED_MSG_INFO,
        "%s: %zu %s%s: %zu added, %zu already present, %zu invalid, %zu conflicts", path,
        c->objects, unit, c->objects == 1 ? "" : "s", c->added, c->duplicates, c->invalid,
        c->conflicts);
    /* a conflict ('meridian conflicts') is not an acknowledged object */
    return c->invalid > 0 || c->objects > c->added + c->duplicates + c->invalid ? FEED_INVALID
                                                                                : FEED_OK;
}

static void add_counts(struct feed_counts *total, const struct feed_counts *c)
{
    total->objects += c->objects;
    total->added += c->added;
    total->duplicates += c->duplicates;
    total->invalid += c->invalid;
    total->conflicts += c->conflicts;
}

/* repair: a repaired copy of *obj replaces it (kept in im->hold until its
 * batch is stored), and every change is reported. */
static enum mrd_code repaired(struct feed_importer *im, const char *path, size_t index,
                              const json_t **obj, struct mrd_err *err)
{
    json_t *copy = json_deep_copy(*obj);
    struct mrd_buf log;
    size_t changes = 0;
    enum mrd_code rc;

    if (copy == NULL)
        return mrd_err_set(err, MRD_E_NOMEM, "out of memory repairing an object");
    mrd_buf_init(&log, STORE_MSG_MAX * 8);
    rc = interop_repair(copy, &log, &changes, err);
    if (rc == MRD_E_TOOBIG) { /* a long log: the changes are made, the list is cut */
        mrd_err_clear(err);
        rc = MRD_OK;
    }
    if (rc == MRD_OK && changes > 0) {
        const char *id = json_string_value(json_object_get(copy, "id"));
        say(im, FEED_MSG_INFO, "%s: object %zu %s repaired (%zu change%s): %s", path, index,
            id != NULL ? id : "(no id)", changes, changes == 1 ? "" : "s",
            log.data != NULL ? log.data : "");
        im->repairs++;
        if (json_array_append(im->hold, copy) != 0)
            rc = mrd_err_set(err, MRD_E_NOMEM, "out of memory repairing an object");
        *obj = copy;
    }
    json_decref(copy); /* im->hold keeps the used copy */
    mrd_buf_release(&log);
    return rc;
}

/* Without repair: says so when repair would make obj valid. */
static void repair_hint(struct feed_importer *im, const json_t *obj)
{
    json_t *copy = json_deep_copy(obj);
    struct stix_report rep;
    struct mrd_buf log;
    size_t changes = 0;

    stix_report_init(&rep);
    mrd_buf_init(&log, STORE_MSG_MAX * 8);
    if (copy != NULL && interop_repair(copy, &log, &changes, NULL) == MRD_OK && changes > 0 &&
        stix_validate_object(copy, 0, &rep, NULL) == MRD_OK && stix_report_errors(&rep) == 0) {
        say(im, FEED_MSG_DETAIL, "--repair would fix this object: %s", log.data);
        im->fixable++;
    }
    mrd_buf_release(&log);
    stix_report_release(&rep);
    json_decref(copy);
}

/* ---- preparing ----------------------------------------------------------
 * Half of what an object costs is its own: STIX validation, the canonical
 * form and, for what this node creates, its Ed25519 signature (about 25 us);
 * the other half is storing it. So objects wait in a queue of up to
 * PREP_QUEUE, are prepared in chunks on up to PREP_THREADS threads
 * (prep_one: reads the importer, writes only its struct prep) while the
 * importer's thread stores the batch before them, then are taken one by
 * one in their order on the importer's thread (take: messages, counts, the
 * next batch), so what is reported and stored, and in which order, is what
 * one thread doing it all gave. A batch is still stored (one committed
 * transaction) before it is counted. --repair reports as it goes: one
 * object at a time. */

/* Prepares p. MRD_OK also for an object that is not stored (p->kind). */
static enum mrd_code prep_one(const struct feed_importer *im, struct prep *p,
                              struct stix_report *rep, struct mrd_err *err)
{
    const json_t *obj = p->obj;
    struct mrd_err cerr = {0};
    bool local;
    enum mrd_code rc;

    mrd_buf_reset(&p->body);
    mrd_buf_reset(&p->vals);
    if (obj == NULL) { /* streamed: its text is parsed here, not on the reading thread */
        struct mrd_jstream_event ev = {.text = p->text.data, .len = p->text.len};
        struct mrd_err perr = {0};
        json_t *v = NULL;
        if (mrd_jstream_parse(&ev, &v, &perr) != MRD_OK) {
            if (perr.code == MRD_E_NOMEM)
                return mrd_err_set(err, MRD_E_NOMEM, "%s", perr.msg);
            mrd_strlcpy(p->why, perr.msg, sizeof(p->why));
            p->kind = PREP_NOT_JSON;
            return MRD_OK;
        }
        p->obj = v;
        obj = v;
    }
    if (!json_is_object(obj)) {
        p->kind = PREP_NOT_OBJECT;
        return MRD_OK;
    }
    stix_report_reset(rep);
    rc = stix_validate_object(obj, 0, rep, err);
    if (rc != MRD_OK)
        return rc;
    if (stix_report_errors(rep) > 0) {
        p->kind = PREP_INVALID; /* take() validates again for the findings */
        return MRD_OK;
    }
    if (!json_is_string(json_object_get(obj, "id")) ||
        !json_is_string(json_object_get(obj, "type")) || !get_time(obj, "created", &p->created) ||
        !get_time(obj, "modified", &p->modified)) {
        p->kind = PREP_UNUSABLE;
        return MRD_OK;
    }
    /* signs what this node creates (its TLP written in), verifies what it
     * relays (fed_ingest_canon, fed.h) */
    local = policy_origin_local(im->org->relation, false);
    rc = fed_ingest_canon(im->trust, obj, local ? FED_ORIGIN_LOCAL : FED_ORIGIN_REMOTE,
                          im->coll->default_tlp, &p->body, &p->ir, &cerr);
    if (rc == MRD_OK && p->ir.reject)
        rc = mrd_err_set(&cerr, MRD_E_INVALID, "%s", p->ir.message);
    if (rc != MRD_OK) {
        mrd_buf_reset(&p->body);
        mrd_strlcpy(p->why, cerr.msg, sizeof(p->why));
        p->kind = PREP_REFUSED;
        return MRD_OK;
    }
    /* the value index's rows, from the object in hand (the store would
     * parse the canonical bytes again, on its one thread): fed_ingest_canon
     * changes no property they come from */
    rc = store_values_append(obj, &p->vals, err);
    if (rc != MRD_OK)
        return rc;
    p->kind = PREP_OK;
    return MRD_OK;
}

/* Takes prepared p into the batch (storing the full batch first), or
 * reports why it is not stored. Other codes: store or memory failures. */
static enum mrd_code take(struct feed_importer *im, struct prep *p, struct feed_counts *cnt,
                          struct mrd_err *err)
{
    const json_t *obj = p->obj;
    struct store_object_in *row;
    const json_t *id, *type, *spec;
    struct mrd_buf tmp;
    enum mrd_code rc;

    if (im->n == FEED_IMPORT_BATCH || im->pending >= FEED_IMPORT_BATCH_BYTES) {
        rc = store_batch(im, cnt, err);
        if (rc != MRD_OK)
            return rc;
    }
    cnt->objects++;
    im->at = p->at;
    switch (p->kind) {
    case PREP_NOT_JSON:
        cnt->invalid++;
        say(im, FEED_MSG_ERROR, "%s: object %zu at byte %llu is not JSON: %s; skipped", p->path,
            p->index, (unsigned long long)p->at, p->why);
        return MRD_OK;
    case PREP_NOT_OBJECT:
        cnt->invalid++;
        report_invalid(im, p->path, p->index, obj, NULL, "not a JSON object");
        return MRD_OK;
    case PREP_INVALID:
        stix_report_reset(&im->rep);
        rc = stix_validate_object(obj, 0, &im->rep, err);
        if (rc != MRD_OK)
            return rc;
        cnt->invalid++;
        report_invalid(im, p->path, p->index, obj, &im->rep, NULL);
        if (!im->opts.repair)
            repair_hint(im, obj);
        return MRD_OK;
    case PREP_UNUSABLE:
        cnt->invalid++;
        report_invalid(im, p->path, p->index, obj, NULL, "id, type or timestamps unusable");
        return MRD_OK;
    case PREP_REFUSED:
        cnt->invalid++;
        report_invalid(im, p->path, p->index, obj, NULL, p->why);
        return MRD_OK;
    case PREP_OK:
        break;
    }
    /* the row points into obj until its batch is stored */
    if (json_array_append(im->hold, p->obj) != 0)
        return mrd_err_set(err, MRD_E_NOMEM, "out of memory");
    row = &im->rows[im->n];
    memset(row, 0, sizeof(*row));
    /* the canonical bytes move to the batch; its spare buffer comes back */
    tmp = im->bodies[im->n];
    im->bodies[im->n] = p->body;
    p->body = tmp;
    tmp = im->vals[im->n];
    im->vals[im->n] = p->vals;
    p->vals = tmp;
    id = json_object_get(obj, "id");
    type = json_object_get(obj, "type");
    spec = json_object_get(obj, "spec_version");
    row->created_usec = p->created;
    row->modified_usec = p->modified;
    row->id = json_string_value(id);
    row->id_len = json_string_length(id);
    row->type = json_string_value(type);
    row->type_len = json_string_length(type);
    row->spec_version = json_is_string(spec) ? json_string_value(spec) : "2.1";
    row->spec_version_len = json_is_string(spec) ? json_string_length(spec) : 3;
    row->revoked = json_is_true(json_object_get(obj, "revoked"));
    row->tlp = p->ir.tlp;
    row->local = policy_origin_local(im->org->relation, false);
    row->creator_org = im->org->key;
    /* signed with the node's key like the own org's: its own only (store.h) */
    row->creator_only = im->org->relation == POLICY_REL_CONSTITUENT;
    row->versions_any = im->org->relation == POLICY_REL_OWN;
    row->recipients = im->opts.n_recipients > 0 ? im->opts.recipients : NULL;
    row->n_recipients = im->opts.n_recipients;
    row->body = im->bodies[im->n].data;
    row->body_len = im->bodies[im->n].len;
    row->values = (const struct store_value *)(const void *)im->vals[im->n].data;
    row->n_values = im->vals[im->n].len / sizeof(struct store_value);
    row->values_given = true;
    im->pending += row->body_len;
    if (p->ir.signer[0] != '\0') {
        row->signer = im->signers[im->n];
        mrd_strlcpy(im->signers[im->n], p->ir.signer, sizeof(im->signers[0]));
        row->signer_len = strlen(p->ir.signer);
    }
    row->signer_trusted = fed_trust_knows;
    row->same_content = fed_same_content;
    row->signer_ctx = (void *)(uintptr_t)im->trust;
    im->n++;
    return MRD_OK;
}

/* A group being prepared: threads take PREP_CHUNK objects at a time. */
#define PREP_CHUNK 16

struct group {
    const struct feed_importer *im;
    struct prep *q;
    size_t n;
    atomic_size_t next;
    atomic_bool stop;        /* storing the batch before failed */
    _Atomic(json_t *) spent; /* objects of a stored batch: the first thread frees them */
};

struct worker {
    struct group *g;
    enum mrd_code rc;
    struct mrd_err err;
};

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct group *g = w->g;
    struct stix_report rep;

    json_decref(atomic_exchange(&g->spent, NULL));
    stix_report_init(&rep);
    w->rc = MRD_OK;
    while (w->rc == MRD_OK && !atomic_load(&g->stop)) {
        size_t i = atomic_fetch_add(&g->next, PREP_CHUNK);
        size_t end = i + PREP_CHUNK < g->n ? i + PREP_CHUNK : g->n;
        if (i >= g->n)
            break;
        for (; i < end && w->rc == MRD_OK; i++)
            w->rc = prep_one(g->im, &g->q[i], &rep, &w->err);
    }
    stix_report_release(&rep);
    return NULL;
}

/* Forgets the queued objects. */
static void queue_drop(struct feed_importer *im)
{
    for (size_t i = 0; i < im->nq; i++) {
        struct prep *p = &im->queue[i];
        json_decref(p->obj);
        p->obj = NULL;
        buf_done(&p->text);
        buf_done(&p->body);
        buf_done(&p->vals);
    }
    im->nq = 0;
    im->qbytes = 0;
}

/* Prepares the queued objects on up to PREP_THREADS threads while this
 * one stores the batch taken from the group before (one transaction, as
 * ever: on two cores the store and the signatures overlap), then takes
 * them in order into the next batch. */
static enum mrd_code drain(struct feed_importer *im, struct feed_counts *cnt, struct mrd_err *err)
{
    struct group g = {.im = im, .q = im->queue, .n = im->nq};
    struct worker w[PREP_THREADS];
    pthread_t tids[PREP_THREADS];
    bool started[PREP_THREADS] = {false};
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    size_t nthreads = cpus > 1 ? (size_t)cpus : 1;
    uint64_t at = im->at;
    json_t *spent = NULL;
    enum mrd_code rc = MRD_OK;

    if (im->nq == 0)
        return MRD_OK;
    if (nthreads > PREP_THREADS)
        nthreads = PREP_THREADS;
    if (nthreads > im->nq / PREP_PER_THREAD + 1)
        nthreads = im->nq / PREP_PER_THREAD + 1;
    if (json_array_size(im->spent) > 0) { /* the batch stored before: its objects go */
        spent = json_array();
        if (spent != NULL) {
            json_t *t = im->spent;
            im->spent = spent;
            spent = t;
        }
    }
    atomic_init(&g.next, 0);
    atomic_init(&g.stop, false);
    atomic_init(&g.spent, spent);
    for (size_t t = 0; t < nthreads; t++) {
        w[t] = (struct worker){.g = &g, .rc = MRD_OK};
        if (t > 0)
            started[t] = pthread_create(&tids[t], NULL, worker_main, &w[t]) == 0;
    }
    if (im->n > 0) {
        rc = store_batch(im, cnt, err);
        if (rc != MRD_OK)
            atomic_store(&g.stop, true);
    }
    (void)worker_main(&w[0]); /* the rest, here; with no thread to be had, all of it */
    for (size_t t = 1; t < nthreads; t++)
        if (started[t])
            (void)pthread_join(tids[t], NULL);
    for (size_t t = 0; t < nthreads && rc == MRD_OK; t++)
        if (w[t].rc != MRD_OK)
            rc = mrd_err_set(err, w[t].rc, "%s", w[t].err.msg);
    for (size_t i = 0; i < im->nq && rc == MRD_OK; i++)
        rc = take(im, &im->queue[i], cnt, err);
    queue_drop(im);
    im->at = at;
    return rc;
}

/* The rest of queueing p (its object or its text set). */
static enum mrd_code queued(struct feed_importer *im, struct prep *p, const char *path,
                            size_t index, size_t text_len, struct feed_counts *cnt,
                            struct mrd_err *err)
{
    p->path = path;
    p->index = index;
    p->at = im->at;
    im->qbytes += text_len;
    if (im->nq == PREP_QUEUE || im->qbytes >= PREP_BYTES)
        return drain(im, cnt, err);
    return MRD_OK;
}

/* Queues one object (text_len: the size of its text, 0 when it is not
 * from a stream) to be validated and stored. Returns MRD_OK also for
 * invalid objects (counted and reported); other codes are store or memory
 * failures. */
static enum mrd_code one_object(struct feed_importer *im, const char *path, size_t index,
                                const json_t *obj, size_t text_len, struct feed_counts *cnt,
                                struct mrd_err *err)
{
    struct prep *p;
    enum mrd_code rc;

    if (im->queue == NULL) { /* --repair: now, and alone */
        rc = drain(im, cnt, err);
        if (rc != MRD_OK)
            return rc;
        p = &im->solo;
        if (im->opts.repair) {
            /* repaired() adds to im->hold: a full batch is stored first */
            if (im->n == FEED_IMPORT_BATCH || im->pending >= FEED_IMPORT_BATCH_BYTES) {
                rc = store_batch(im, cnt, err);
                if (rc != MRD_OK)
                    return rc;
            }
            if (json_is_object(obj)) {
                rc = repaired(im, path, index, &obj, err);
                if (rc != MRD_OK)
                    return rc;
            }
        }
        p->obj = json_incref((json_t *)(uintptr_t)obj);
        p->path = path;
        p->index = index;
        p->at = im->at;
        rc = prep_one(im, p, &im->rep, err);
        if (rc == MRD_OK)
            rc = take(im, p, cnt, err);
        json_decref(p->obj);
        p->obj = NULL;
        mrd_buf_reset(&p->body);
        mrd_buf_reset(&p->vals);
        return rc;
    }
    p = &im->queue[im->nq++];
    p->obj = json_incref((json_t *)(uintptr_t)obj);
    return queued(im, p, path, index, text_len, cnt, err);
}

/* Stores everything queued and pending. */
static enum mrd_code flush(struct feed_importer *im, struct feed_counts *cnt, struct mrd_err *err)
{
    enum mrd_code rc = drain(im, cnt, err);

    if (rc != MRD_OK)
        return rc;
    return store_batch(im, cnt, err);
}

/* Reports a store or memory failure and drops the pending batch. */
static enum feed_verdict store_failure(struct feed_importer *im, const char *path,
                                       const struct mrd_err *err)
{
    say(im, FEED_MSG_ERROR, "%s: %s (objects after the last committed batch were not stored)", path,
        err->msg);
    for (size_t k = 0; k < im->n; k++) {
        mrd_buf_reset(&im->bodies[k]);
        mrd_buf_reset(&im->vals[k]);
    }
    im->n = 0;
    im->pending = 0;
    queue_drop(im);
    return FEED_FAILED;
}

/* The STIX objects of every MISP event in doc, with a summary line. */
static enum feed_verdict misp_to_stix(struct feed_importer *im, const char *path, const json_t *doc,
                                      json_t **ret)
{
    struct interop_misp_stats st;
    struct mrd_err err = {0};
    const json_t *resp = json_object_get(doc, "response");
    json_t *out = json_array();

    memset(&st, 0, sizeof(st));
    if (out == NULL) {
        say(im, FEED_MSG_ERROR, "out of memory");
        return FEED_FAILED;
    }
    if (json_is_array(resp)) {
        for (size_t i = 0; i < json_array_size(resp); i++) {
            if (interop_misp_event(json_array_get(resp, i), out, &st, &err) != MRD_OK)
                break;
        }
    } else {
        (void)interop_misp_event(doc, out, &st, &err);
    }
    if (err.code != MRD_OK) {
        say(im, FEED_MSG_ERROR, "%s: %s; nothing imported from it", path, err.msg);
        json_decref(out);
        return FEED_INVALID;
    }
    say(im, FEED_MSG_INFO,
        "%s: MISP: %zu event%s, %zu attributes: %zu indicators, %zu observables, %zu galaxy "
        "objects, %zu sightings, %zu without a STIX form",
        path, st.events, st.events == 1 ? "" : "s", st.attributes, st.indicators, st.observables,
        st.galaxies, st.sightings, st.skipped);
    *ret = out;
    return FEED_OK;
}

/* One value of a list as an indicator, through one_object like any other. */
static enum mrd_code list_value(struct feed_importer *im, const char *path, size_t lineno,
                                const char *v, size_t n, struct interop_ioc *ioc,
                                struct feed_counts *cnt, size_t *bad)
{
    const struct feed_list_opts *lo = &im->opts.list;
    struct mrd_err err = {0};
    char id[64];
    json_t *o;
    enum mrd_code rc;

    if (interop_ioc_value(v, n, lo->kind, ioc, &err) != MRD_OK) {
        /* the lines before it are reported first */
        rc = drain(im, cnt, &err);
        if (rc != MRD_OK) {
            (void)store_failure(im, path, &err);
            return rc;
        }
        cnt->objects++;
        cnt->invalid++;
        if ((*bad)++ < FEED_IMPORT_ERRORS_SHOWN)
            say(im, FEED_MSG_ERROR, "%s: line %zu: %s; skipped", path, lineno, err.msg);
        return MRD_OK;
    }
    (void)snprintf(id, sizeof(id), "indicator--%s", ioc->uuid);
    o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s%, s:s, s:s, s:[s]}", "type", "indicator",
                  "spec_version", "2.1", "id", id, "created", lo->valid_from, "modified",
                  lo->valid_from, "valid_from", lo->valid_from, "name", ioc->value, ioc->value_len,
                  "pattern", ioc->pattern.data, "pattern_type", "stix", "indicator_types",
                  "malicious-activity");
    if (o == NULL)
        return mrd_err_set(&err, MRD_E_NOMEM, "out of memory");
    if (lo->valid_until[0] != '\0')
        (void)json_object_set_new(o, "valid_until", json_string(lo->valid_until));
    if (lo->confidence >= 0)
        (void)json_object_set_new(o, "confidence", json_integer(lo->confidence));
    if (lo->tlp_id != NULL)
        (void)json_object_set_new(o, "object_marking_refs", json_pack("[s]", lo->tlp_id));
    if (lo->n_labels > 0) {
        json_t *l = json_array();
        for (size_t i = 0; l != NULL && i < lo->n_labels; i++)
            (void)json_array_append_new(l, json_string(lo->labels[i]));
        (void)json_object_set_new(o, "labels", l);
    }
    rc = one_object(im, path, lineno, o, 0, cnt, &err);
    json_decref(o); /* the queue (then the batch) holds it */
    if (rc != MRD_OK)
        (void)store_failure(im, path, &err);
    return rc;
}

/* The column holding the values: lo->column (a name or a 1-based number),
 * else the first whose name says it holds indicators, else the first. */
static size_t value_column(const struct feed_list_opts *lo, const char **f, const size_t *fn,
                           size_t nf, bool *ret_ok)
{
    static const char *const names[] = {"value",  "indicator", "ioc",    "ip",   "ip_address",
                                        "domain", "url",       "hash",   "md5",  "sha1",
                                        "sha256", "email",     "dst_ip", "host", "hostname"};
    uint64_t k;

    *ret_ok = true;
    if (lo->column != NULL) {
        if (mrd_str_to_u64(lo->column, strlen(lo->column), INTEROP_CSV_MAX_FIELDS, &k, NULL) ==
                MRD_OK &&
            k >= 1)
            return (size_t)k - 1;
        for (size_t i = 0; i < nf; i++)
            if (mrd_str_eq_nocase(f[i], fn[i], lo->column, strlen(lo->column)))
                return i;
        *ret_ok = false;
        return 0;
    }
    for (size_t j = 0; j < sizeof(names) / sizeof(names[0]); j++)
        for (size_t i = 0; i < nf; i++)
            if (mrd_str_eq_nocase(f[i], fn[i], names[j], strlen(names[j])))
                return i;
    return 0;
}

/* A text list (one value per line, '#' comments) or a CSV list (a header
 * row, then one record per line) read from f in FEED_IMPORT_READ pieces:
 * memory stays flat whatever the input's size; a line over
 * FEED_IMPORT_MAX_LINE is reported and skipped without being held. */
static enum feed_verdict list_stream(struct feed_importer *im, FILE *f, const char *path,
                                     struct feed_counts *total)
{
    const struct feed_list_opts *lo = &im->opts.list;
    struct feed_counts cnt = {0};
    struct interop_ioc *ioc = NULL;
    char *buf = NULL, *scratch = NULL;
    const char **fields = NULL;
    size_t *flen = NULL, have = 0, lineno = 0, bad = 0, col = 0, too_long = 0;
    bool header = lo->csv, skipping = false, eof = false, progress = false;
    enum feed_verdict ret = FEED_FAILED;

    buf = mrd_malloc(FEED_IMPORT_MAX_LINE + FEED_IMPORT_READ);
    scratch = mrd_malloc(FEED_IMPORT_MAX_LINE);
    fields = mrd_calloc(INTEROP_CSV_MAX_FIELDS, sizeof(*fields));
    flen = mrd_calloc(INTEROP_CSV_MAX_FIELDS, sizeof(*flen));
    ioc = mrd_calloc(1, sizeof(*ioc));
    if (buf == NULL || scratch == NULL || fields == NULL || flen == NULL || ioc == NULL) {
        say(im, FEED_MSG_ERROR, "out of memory");
        goto out;
    }
    mrd_buf_init(&ioc->pattern, MATCH_MAX_PATTERN);
    prog_begin(im, "lines", 0);
    progress = true;
    while (!eof || have > 0) {
        char *nl;
        size_t n;
        if (!eof && have < FEED_IMPORT_MAX_LINE) {
            size_t r = fread(buf + have, 1, FEED_IMPORT_READ, f);
            if (r == 0 && ferror(f)) {
                say(im, FEED_MSG_ERROR, "%s: read: %s (values before it were stored)", path,
                    strerror(errno));
                goto out;
            }
            eof = r == 0;
            have += r;
        }
        nl = memchr(buf, '\n', have);
        if (nl == NULL && !eof && have >= FEED_IMPORT_MAX_LINE) {
            /* a line longer than any value: drop what we hold, find its end */
            if (!skipping && too_long++ < FEED_IMPORT_ERRORS_SHOWN)
                say(im, FEED_MSG_ERROR, "%s: line %zu: longer than %d bytes; skipped", path,
                    lineno + 1, FEED_IMPORT_MAX_LINE);
            skipping = true;
            have = 0;
            continue;
        }
        if (nl == NULL && !eof)
            continue;
        n = nl != NULL ? (size_t)(nl - buf) : have;
        lineno++;
        if ((lineno & 1023) == 0)
            prog_tick(im, lineno);
        if (skipping) {
            skipping = false;
            cnt.objects++;
            cnt.invalid++;
        } else {
            const char *line = buf;
            size_t ln = n;
            if (ln > 0 && line[ln - 1] == '\r')
                ln--;
            if (ln == 0 || line[0] == '#') {
                /* blank or comment */
            } else if (lo->text) {
                /* "value # comment" */
                for (size_t i = 1; i < ln; i++)
                    if (line[i] == '#' && (line[i - 1] == ' ' || line[i - 1] == '\t')) {
                        ln = i;
                        break;
                    }
                if (list_value(im, path, lineno, line, ln, ioc, &cnt, &bad) != MRD_OK)
                    goto out;
            } else {
                size_t nf = interop_csv_split(line, ln, lo->sep, scratch, FEED_IMPORT_MAX_LINE,
                                              fields, flen, INTEROP_CSV_MAX_FIELDS);
                if (nf == (size_t)-1) {
                    cnt.objects++;
                    cnt.invalid++;
                    if (bad++ < FEED_IMPORT_ERRORS_SHOWN)
                        say(im, FEED_MSG_ERROR,
                            "%s: line %zu: not a CSV record (RFC 4180); skipped", path, lineno);
                } else if (header) {
                    bool ok;
                    header = false;
                    col = value_column(lo, fields, flen, nf, &ok);
                    if (!ok) {
                        say(im, FEED_MSG_ERROR, "%s: no column '%s' in the header line", path,
                            lo->column);
                        goto out;
                    }
                } else if (col >= nf) {
                    cnt.objects++;
                    cnt.invalid++;
                    if (bad++ < FEED_IMPORT_ERRORS_SHOWN)
                        say(im, FEED_MSG_ERROR, "%s: line %zu: no column %zu; skipped", path,
                            lineno, col + 1);
                } else if (list_value(im, path, lineno, fields[col], flen[col], ioc, &cnt, &bad) !=
                           MRD_OK) {
                    goto out;
                }
            }
        }
        if (nl == NULL) {
            have = 0;
        } else {
            memmove(buf, nl + 1, have - n - 1);
            have -= n + 1;
        }
    }
    {
        struct mrd_err ferr = {0};
        if (flush(im, &cnt, &ferr) != MRD_OK) {
            (void)store_failure(im, path, &ferr);
            goto out;
        }
    }
    if (bad > FEED_IMPORT_ERRORS_SHOWN || too_long > FEED_IMPORT_ERRORS_SHOWN)
        say(im, FEED_MSG_ERROR, "%s: %zu more bad lines not shown", path,
            bad + too_long - (bad > FEED_IMPORT_ERRORS_SHOWN ? FEED_IMPORT_ERRORS_SHOWN : bad) -
                (too_long > FEED_IMPORT_ERRORS_SHOWN ? FEED_IMPORT_ERRORS_SHOWN : too_long));
    prog_end(im);
    progress = false;
    ret = summary(im, path, "value", &cnt);
out:
    if (progress)
        prog_end(im);
    add_counts(total, &cnt);
    if (ioc != NULL)
        mrd_buf_release(&ioc->pattern);
    mrd_free(ioc);
    mrd_free(fields);
    mrd_free(flen);
    mrd_free(scratch);
    mrd_free(buf);
    return ret;
}

/* A document read whole (the top level had no "objects" list to stream:
 * a single object, a MISP event, an envelope without objects): its
 * objects, through one_object like the streamed ones. */
static enum feed_verdict whole_doc(struct feed_importer *im, const char *path, const json_t *doc,
                                   struct feed_counts *cnt)
{
    struct mrd_err err = {0};
    json_t *misp = NULL;
    const json_t *list = NULL, *v;
    bool single = false;
    enum feed_verdict ret = FEED_INVALID;
    size_t i;

    /* MISP event(s), bundle, envelope (no "type"), list, or a single object */
    if (interop_misp_is_event(doc)) {
        if (misp_to_stix(im, path, doc, &misp) != FEED_OK)
            goto out;
        list = misp;
    } else if (json_is_object(doc)) {
        const json_t *type = json_object_get(doc, "type");
        if (type == NULL && json_object_get(doc, "objects") == NULL &&
            json_object_get(doc, "more") == NULL && json_object_get(doc, "next") == NULL) {
            say(im, FEED_MSG_ERROR,
                "%s: not a format meridian imports: expected a STIX 2.1 bundle, a TAXII "
                "envelope, a JSON list of STIX objects, a STIX object or a MISP event "
                "({\"Event\": {...}}); nothing imported from it",
                path);
            goto out;
        }
        if (type == NULL ||
            (json_is_string(type) && strcmp(json_string_value(type), "bundle") == 0))
            list = json_object_get(doc, "objects");
        else
            single = true;
    } else {
        say(im, FEED_MSG_ERROR, "%s: neither a bundle, an envelope, a list nor an object", path);
        goto out;
    }
    if (list != NULL && !json_is_array(list)) {
        say(im, FEED_MSG_ERROR, "%s: \"objects\" is not a list", path);
        goto out;
    }
    ret = FEED_OK;
    if (single) {
        if (one_object(im, path, 0, doc, 0, cnt, &err) != MRD_OK)
            ret = store_failure(im, path, &err);
    } else if (list != NULL) {
        json_array_foreach(list, i, v)
        {
            if (one_object(im, path, i, v, 0, cnt, &err) != MRD_OK) {
                ret = store_failure(im, path, &err);
                break;
            }
        }
    }
    /* rows point into doc and misp: stored before they go */
    if (ret == FEED_OK && flush(im, cnt, &err) != MRD_OK)
        ret = store_failure(im, path, &err);
out:
    json_decref(misp);
    return ret;
}

/* One element of a streamed list: parsed on its own (a bad one is
 * reported with its index and byte offset and skipped), then one_object. */
static enum mrd_code stream_item(struct feed_importer *im, const char *path,
                                 const struct mrd_jstream_event *ev, struct feed_counts *cnt,
                                 struct mrd_err *err)
{
    struct mrd_err perr = {0};
    json_t *obj = NULL;
    enum mrd_code rc;

    im->at = ev->offset;
    if (im->queue != NULL) { /* parsed by prep_one, on the preparing threads */
        struct prep *p = &im->queue[im->nq];
        mrd_buf_reset(&p->text);
        rc = mrd_buf_append(&p->text, ev->text, ev->len, err);
        if (rc != MRD_OK)
            return rc;
        p->obj = NULL;
        im->nq++;
        return queued(im, p, path, ev->index, ev->len, cnt, err);
    }
    if (mrd_jstream_parse(ev, &obj, &perr) != MRD_OK) {
        if (perr.code == MRD_E_NOMEM)
            return mrd_err_set(err, MRD_E_NOMEM, "%s", perr.msg);
        /* the objects before it are reported first */
        rc = drain(im, cnt, err);
        if (rc != MRD_OK)
            return rc;
        im->at = ev->offset;
        cnt->objects++;
        cnt->invalid++;
        say(im, FEED_MSG_ERROR, "%s: object %zu at byte %llu is not JSON: %s; skipped", path,
            ev->index, (unsigned long long)ev->offset, perr.msg);
        return MRD_OK;
    }
    rc = one_object(im, path, ev->index, obj, ev->len, cnt, err);
    json_decref(obj); /* the queue (then the batch) holds it */
    return rc;
}

/* A top-level member: kept (parsed) in head, so "type" and "id" may come
 * before or after "objects". */
static enum feed_verdict head_member(struct feed_importer *im, struct mrd_jstream *js,
                                     const char *path, const struct mrd_jstream_event *ev,
                                     json_t *head)
{
    struct mrd_err err = {0};
    json_t *v = NULL;

    if (mrd_jstream_parse(ev, &v, &err) != MRD_OK) {
        say(im, FEED_MSG_ERROR, "%s: not JSON: the member \"%s\" at byte %llu: %s", path, ev->key,
            (unsigned long long)ev->offset, err.msg);
        return FEED_INVALID;
    }
    if (json_object_get(head, ev->key) != NULL) {
        say(im, FEED_MSG_ERROR, "%s: not JSON: a second member \"%s\" at byte %llu (RFC 7493)",
            path, ev->key, (unsigned long long)ev->offset);
        json_decref(v);
        return FEED_INVALID;
    }
    if (strcmp(ev->key, "type") == 0 && !mrd_jstream_list_seen(js) &&
        !(json_is_string(v) && strcmp(json_string_value(v), "bundle") == 0))
        mrd_jstream_whole_list(js); /* one object: its "objects" is a property */
    if (json_object_set_new(head, ev->key, v) != 0) {
        say(im, FEED_MSG_ERROR, "%s: out of memory", path);
        return FEED_FAILED;
    }
    return FEED_OK;
}

/* Imports one JSON input read through read(ctx) (size bytes, 0: unknown).
 *
 * It is read as a stream (core/jstream.h): each element of the bundle's
 * or envelope's "objects" (or of a top-level list) is parsed, validated
 * and queued on its own, so memory stays flat whatever the input's size;
 * the other top-level members are kept, in any order. A document with no
 * list to stream (one object, a MISP event) is read whole, up to
 * STIX_MAX_DOCUMENT. */
static enum feed_verdict json_stream(struct feed_importer *im, const char *path,
                                     mrd_jstream_read_fn read, void *ctx, uint64_t size,
                                     struct feed_counts *total)
{
    struct mrd_jstream_opts jo = {"objects", STORE_OBJECT_MAX, STIX_MAX_DOCUMENT,
                                  MRD_JSON_MAX_DEPTH};
    struct feed_counts cnt = {0};
    struct mrd_err err = {0};
    struct mrd_jstream *js = NULL;
    struct mrd_jstream_event ev;
    json_t *head = NULL;
    bool progress = false;
    enum feed_verdict ret = FEED_FAILED;

    head = json_object();
    if (head == NULL || mrd_jstream_open(&jo, read, ctx, &js, &err) != MRD_OK) {
        say(im, FEED_MSG_ERROR, "out of memory");
        goto out;
    }
    prog_begin(im, "objects", 0);
    progress = true;
    for (;;) {
        enum mrd_code rc = mrd_jstream_next(js, &ev, &err);
        if (rc != MRD_OK) {
            /* the objects before it are counted and reported first */
            struct mrd_err derr = {0};
            if (drain(im, &cnt, &derr) != MRD_OK) {
                prog_end(im);
                ret = store_failure(im, path, &derr);
                break;
            }
        }
        if (rc == MRD_E_IO || rc == MRD_E_NOMEM) {
            prog_end(im);
            say(im, FEED_MSG_ERROR, "%s: %s (objects before it were stored)", path, err.msg);
            ret = FEED_FAILED;
            break;
        }
        if (rc != MRD_OK) {
            prog_end(im);
            say(im, FEED_MSG_ERROR, "%s: not JSON: %s; objects read before it: %zu", path, err.msg,
                cnt.objects);
            ret = FEED_INVALID;
            break;
        }
        if (ev.kind == MRD_JSTREAM_END) {
            ret = FEED_OK;
            break;
        }
        if (ev.kind == MRD_JSTREAM_ITEM) {
            if ((ev.index & 1023) == 0)
                prog_stream(im, ev.index, mrd_jstream_offset(js), size);
            if (stream_item(im, path, &ev, &cnt, &err) != MRD_OK) {
                prog_end(im);
                ret = store_failure(im, path, &err);
                break;
            }
        } else if (ev.kind == MRD_JSTREAM_MEMBER) {
            ret = head_member(im, js, path, &ev, head);
            if (ret != FEED_OK)
                break;
        } else {
            /* a top-level scalar: say first whether it is JSON at all (an
             * HTML page reads as one) */
            struct mrd_err perr = {0};
            json_t *v = NULL;
            if (mrd_jstream_parse(&ev, &v, &perr) != MRD_OK)
                say(im, FEED_MSG_ERROR, "%s: not JSON: %s (at byte %llu)", path, perr.msg,
                    (unsigned long long)ev.offset);
            else
                say(im, FEED_MSG_ERROR, "%s: neither a bundle, an envelope, a list nor an object",
                    path);
            json_decref(v);
            ret = FEED_INVALID;
            break;
        }
    }
    prog_end(im);
    progress = false;
    im->at = NO_OFFSET;
    /* what was read before an error is stored */
    if (flush(im, &cnt, &err) != MRD_OK) {
        ret = store_failure(im, path, &err);
        goto out;
    }
    if (ret != FEED_OK) {
        if (cnt.objects > 0)
            (void)summary(im, path, "object", &cnt);
        goto out;
    }
    if (mrd_jstream_top(js) == MRD_JSTREAM_TOP_OBJECT && !mrd_jstream_list_seen(js)) {
        ret = whole_doc(im, path, head, &cnt);
    } else if (mrd_jstream_list_seen(js)) {
        const json_t *type = json_object_get(head, "type");
        if (type != NULL &&
            !(json_is_string(type) && strcmp(json_string_value(type), "bundle") == 0)) {
            /* "objects" came first, so it was read as a bundle's */
            say(im, FEED_MSG_ERROR,
                "%s: a top-level object with \"type\" other than \"bundle\" and an "
                "\"objects\" list: its objects were imported as a bundle's",
                path);
            ret = FEED_INVALID;
        }
    }
    if (ret == FEED_OK)
        ret = summary(im, path, "object", &cnt);
    else if (cnt.objects > 0)
        (void)summary(im, path, "object", &cnt);
out:
    if (progress)
        prog_end(im);
    add_counts(total, &cnt);
    mrd_jstream_close(js);
    json_decref(head);
    return ret;
}

/* Input held in memory, for json_stream. */
struct mem_input {
    const char *data;
    size_t len, off;
};

static enum mrd_code mem_read(void *ctx, char *buf, size_t cap, size_t *got, struct mrd_err *err)
{
    struct mem_input *m = ctx;
    size_t n = m->len - m->off < cap ? m->len - m->off : cap;

    (void)err;
    if (n > 0)
        memcpy(buf, m->data + m->off, n);
    m->off += n;
    *got = n;
    return MRD_OK;
}

static enum feed_verdict json_buffer(struct feed_importer *im, const char *name, const char *data,
                                     size_t len, struct feed_counts *total)
{
    struct mem_input m = {data != NULL ? data : "", data != NULL ? len : 0, 0};

    return json_stream(im, name, mem_read, &m, m.len, total);
}

/* A MISP feed directory (manifest.json and one <uuid>.json per event, the
 * layout MISP publishes and subscribes to): every event the manifest
 * lists. The names come from the manifest, so each must be a UUID. */
static enum feed_verdict misp_dir(struct feed_importer *im, const char *dir,
                                  struct feed_counts *total)
{
    char path[4096];
    struct mrd_buf b;
    struct mrd_err err = {0};
    json_t *manifest = NULL;
    const char *key;
    json_t *val;
    enum feed_verdict ret = FEED_OK;

    (void)snprintf(path, sizeof(path), "%s/manifest.json", dir);
    mrd_buf_init(&b, STIX_MAX_DOCUMENT);
    if (mrd_buf_read_file(&b, path, &err) != MRD_OK ||
        mrd_json_parse(b.data, b.len, NULL, &manifest, &err) != MRD_OK) {
        say(im, FEED_MSG_ERROR,
            "%s: a directory must be a MISP feed with a manifest.json (%s); nothing imported "
            "from it",
            dir, err.msg);
        mrd_buf_release(&b);
        return FEED_INVALID;
    }
    mrd_buf_release(&b);
    if (!json_is_object(manifest)) {
        say(im, FEED_MSG_ERROR, "%s: not a MISP feed manifest (a JSON object of event uuids)",
            path);
        json_decref(manifest);
        return FEED_INVALID;
    }
    json_object_foreach(manifest, key, val)
    {
        enum feed_verdict r;
        if (mrd_uuid_check(key, strlen(key), NULL, NULL) != MRD_OK) {
            say(im, FEED_MSG_ERROR, "%s: '%.40s' is not an event uuid; skipped", path, key);
            ret = FEED_INVALID;
            continue;
        }
        (void)snprintf(path, sizeof(path), "%s/%s.json", dir, key);
        r = feed_import_file(im, path, total);
        if (r > ret)
            ret = r;
    }
    json_decref(manifest);
    return ret;
}

enum feed_verdict feed_import_file(struct feed_importer *im, const char *path,
                                   struct feed_counts *total)
{
    bool list = im->opts.list.csv || im->opts.list.text;
    uint64_t size = 0;
    struct stat sb;
    enum feed_verdict ret;
    FILE *f;

    if (!list && strcmp(path, "-") != 0 && stat(path, &sb) == 0 && S_ISDIR(sb.st_mode))
        return misp_dir(im, path, total);
    f = strcmp(path, "-") == 0 ? stdin : fopen(path, list ? "r" : "rb");
    if (f == NULL) {
        say(im, FEED_MSG_ERROR, "%s: %s", path, strerror(errno));
        return FEED_FAILED;
    }
    if (list) {
        ret = list_stream(im, f, path, total);
    } else {
        if (fstat(fileno(f), &sb) == 0 && S_ISREG(sb.st_mode))
            size = (uint64_t)sb.st_size;
        ret = json_stream(im, path, mrd_jstream_read_file, f, size, total);
    }
    if (f != stdin)
        (void)fclose(f);
    return ret;
}

enum feed_verdict feed_import_buffer(struct feed_importer *im, const char *name, const char *data,
                                     size_t len, struct feed_counts *total)
{
    enum feed_verdict ret;
    FILE *f;

    if (!im->opts.list.csv && !im->opts.list.text)
        return json_buffer(im, name, data, len, total);
    if (len == 0)
        return summary(im, name, "value", &(struct feed_counts){0});
    f = fmemopen((void *)(uintptr_t)data, len, "r");
    if (f == NULL) {
        say(im, FEED_MSG_ERROR, "%s: %s", name, strerror(errno));
        return FEED_FAILED;
    }
    ret = list_stream(im, f, name, total);
    (void)fclose(f);
    return ret;
}

enum feed_verdict feed_import_stix(struct feed_importer *im, const char *name, const char *data,
                                   size_t len, struct feed_counts *total)
{
    return json_buffer(im, name, data, len, total);
}

enum mrd_code feed_importer_new(struct store *st, const struct store_collection *coll,
                                const struct store_org *org, const struct fed_trust *trust,
                                const struct feed_import_opts *opts,
                                const struct feed_import_hooks *hooks, struct feed_importer **ret,
                                struct mrd_err *err)
{
    struct feed_importer *im = mrd_calloc(1, sizeof(*im));

    if (im == NULL)
        return mrd_err_set(err, MRD_E_NOMEM, "out of memory");
    im->st = st;
    im->coll = coll;
    im->org = org;
    im->trust = trust;
    im->opts = *opts;
    if (hooks != NULL)
        im->hooks = *hooks;
    im->at = NO_OFFSET;
    im->hold = json_array();
    im->spent = json_array();
    if (im->hold == NULL || im->spent == NULL) {
        json_decref(im->hold);
        json_decref(im->spent);
        mrd_free(im);
        return mrd_err_set(err, MRD_E_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < FEED_IMPORT_BATCH; i++) {
        mrd_buf_init(&im->bodies[i], STORE_OBJECT_MAX);
        mrd_buf_init(&im->vals[i], VALS_MAX);
    }
    stix_report_init(&im->rep);
    mrd_buf_init(&im->solo.body, STORE_OBJECT_MAX);
    mrd_buf_init(&im->solo.vals, VALS_MAX);
    if (!opts->repair) {
        im->queue = mrd_calloc(PREP_QUEUE, sizeof(*im->queue));
        if (im->queue == NULL) {
            feed_importer_free(im);
            return mrd_err_set(err, MRD_E_NOMEM, "out of memory");
        }
        for (size_t i = 0; i < PREP_QUEUE; i++) {
            mrd_buf_init(&im->queue[i].text, STORE_OBJECT_MAX);
            mrd_buf_init(&im->queue[i].body, STORE_OBJECT_MAX);
            mrd_buf_init(&im->queue[i].vals, VALS_MAX);
        }
    }
    *ret = im;
    return MRD_OK;
}

void feed_importer_free(struct feed_importer *im)
{
    if (im == NULL)
        return;
    for (size_t i = 0; i < FEED_IMPORT_BATCH; i++) {
        mrd_buf_release(&im->bodies[i]);
        mrd_buf_release(&im->vals[i]);
    }
    if (im->queue != NULL) {
        queue_drop(im);
        for (size_t i = 0; i < PREP_QUEUE; i++) {
            mrd_buf_release(&im->queue[i].text);
            mrd_buf_release(&im->queue[i].body);
            mrd_buf_release(&im->queue[i].vals);
        }
        mrd_free(im->queue);
    }
    mrd_buf_release(&im->solo.body);
    mrd_buf_release(&im->solo.vals);
    stix_report_release(&im->rep);
    json_decref(im->hold);
    json_decref(im->spent);
    mrd_free(im);
}

void feed_importer_repairs(const struct feed_importer *im, size_t *ret_repaired,
                           size_t *ret_fixable)
{
    *ret_repaired = im->repairs;
    *ret_fixable = im->fixable;
}
