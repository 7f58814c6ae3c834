/*
 * stream: stix_validate_document for a document read as a stream
 * (core/jstream.h), one object at a time (stix.h, stix_stream_*).
 *
 * Each object gets the checks stix_validate_document gives it, at the same
 * path ($.objects[i] or $[i]). The rules across objects (versions of one
 * id, a UUID reused across types) cannot look back at earlier objects, so
 * each object leaves a small summary instead: a 64-bit hash of its id, of
 * its UUID and type, of its whole value (equal values hash equal, as
 * json_equal compares them), its version and created times and whether it
 * is revoked. That is about 100 bytes per object with the hash tables;
 * past STIX_STREAM_MAX_TRACKED objects the rules across objects stop
 * (said by a warning) so memory stays bounded. Two different ids with the
 * same 64-bit hash would be taken as one (about 3e-8 for a million ids).
 *
 * Objects given as text (stix_stream_text) may be checked on several
 * threads: the reader copies them into a batch (at most
 * STIX_STREAM_BATCH_OBJECTS objects or STIX_STREAM_BATCH_BYTES of text);
 * a full batch goes to stix_stream_threads threads, which parse and check
 * each object into their own report and compute its summary (struct pre),
 * while the reader fills the other batch. Only two batches exist, so memory
 * stays bounded. The rules across objects and the findings go into the
 * report on the reader's thread, object by object in input order, when the
 * batch is settled: the report is the one a single thread would give.
 */
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/jstream.h"
#include "core/str.h"
#include "core/timestamp.h"
#include "stix/stix_int.h"

#define NONE UINT32_MAX
#define EMPTY 0 /* a free slot of the id and uuid tables (calloc'd: no memset) */

struct summary {
    uint64_t idh, uuidh, typeh, content;
    int64_t vsec, csec; /* version (modified, else created) and created */
    uint32_t vnsec, cnsec;
    uint32_t next; /* next summary of the same id, or NONE */
    uint16_t type; /* index in stix_stream.types, or NO_TYPE */
    uint8_t has_v, has_c, revoked, sco;
};

#define MAX_TYPES 1024 /* distinct type names remembered for messages */
#define NO_TYPE UINT16_MAX

struct stix_stream {
    unsigned flags;
    bool top_list;
    struct stix_report *rep;
    struct summary *s;
    size_t n, cap;
    /* Open addressing over s: the first summary per id / uuid, as the high
     * 32 bits of its hash over its index, so a probe past another id costs
     * no look into s (a cache miss on a million objects). */
    uint64_t *ids, *uuids;
    size_t mask;
    bool capped;
    char *types[MAX_TYPES];
    size_t ntypes;
    /* stix_stream_text on threads: batch[fill] is being filled, the other
     * one may be in the threads' hands */
    unsigned threads;
    struct batch *batch[2];
    unsigned fill;
};

/* The index of the type name (t, n), remembered on first sight. */
static uint16_t type_index(struct stix_stream *s, const char *t, size_t n)
{
    for (size_t i = 0; i < s->ntypes; i++)
        if (strlen(s->types[i]) == n && memcmp(s->types[i], t, n) == 0)
            return (uint16_t)i;
    if (s->ntypes == MAX_TYPES || (s->types[s->ntypes] = mrd_malloc(n + 1)) == NULL)
        return NO_TYPE;
    memcpy(s->types[s->ntypes], t, n);
    s->types[s->ntypes][n] = '\0';
    return (uint16_t)s->ntypes++;
}

/* A 64-bit hash of n bytes, a word at a time (a byte at a time, FNV-1a
 * was a tenth of `meridian validate`). Not for adversaries: two values
 * taken as one only blur a warning (see the top of this file). */
static uint64_t hash_bytes(uint64_t h, const void *p, size_t n)
{
    const unsigned char *s = p;
    uint64_t w;

    h ^= (uint64_t)n * 0x9e3779b97f4a7c15ull;
    for (; n >= 8; s += 8, n -= 8) {
        memcpy(&w, s, 8);
        h = (h ^ w) * 0xff51afd7ed558ccdull;
        h ^= h >> 32;
    }
    /* the tail in a register: a byte-wise memcpy read back as one word
     * stalls on store forwarding */
    w = 0;
    for (size_t i = 0; i < n; i++)
        w |= (uint64_t)s[i] << (8 * i);
    h = (h ^ w) * 0xc4ceb9fe1a85ec53ull;
    return h ^ (h >> 29);
}

static uint64_t mix(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ull;
    x ^= x >> 33;
    return x;
}

#define H0 1469598103934665603ull

/* A hash of v under which json_equal values are equal: object members are
 * summed, so their order does not count. */
static uint64_t value_hash(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        uint64_t h = 0;
        for (void *it = json_object_iter(stix__mut(v)); it != NULL;
             it = json_object_iter_next(stix__mut(v), it))
            h += mix(hash_bytes(H0, json_object_iter_key(it), json_object_iter_key_len(it)) ^
                     mix(value_hash(json_object_iter_value(it))));
        return mix(h ^ 1);
    }
    case JSON_ARRAY: {
        uint64_t h = 2;
        for (size_t i = 0; i < json_array_size(v); i++)
            h = mix(h ^ value_hash(json_array_get(v, i)));
        return h;
    }
    case JSON_STRING:
        return hash_bytes(H0 ^ 3, json_string_value(v), json_string_length(v));
    case JSON_INTEGER:
        return mix((uint64_t)json_integer_value(v) ^ 4);
    case JSON_REAL: {
        double d = json_real_value(v);
        uint64_t b;
        if (d == 0)
            d = 0; /* -0.0 == 0.0 */
        memcpy(&b, &d, sizeof(b));
        return mix(b ^ 5);
    }
    case JSON_TRUE:
        return 6;
    case JSON_FALSE:
        return 7;
    default:
        return 8;
    }
}

static bool time_of(const json_t *v, int64_t *sec, uint32_t *nsec)
{
    struct mrd_time t;

    if (!json_is_string(v) ||
        mrd_time_parse(json_string_value(v), json_string_length(v), &t, NULL) != MRD_OK)
        return false;
    *sec = t.sec;
    *nsec = t.nsec;
    return true;
}

static int tcmp(int64_t as, uint32_t an, int64_t bs, uint32_t bn)
{
    if (as != bs)
        return as < bs ? -1 : 1;
    return an == bn ? 0 : an < bn ? -1 : 1;
}

enum mrd_code stix_stream_begin(unsigned flags, bool top_list, struct stix_report *rep,
                                struct stix_stream **ret, struct mrd_err *err)
{
    struct stix_stream *s = mrd_calloc(1, sizeof(*s));

    *ret = NULL;
    if (s == NULL)
        return mrd_err_set(err, MRD_E_NOMEM, "stix: out of memory");
    s->flags = flags;
    s->top_list = top_list;
    s->rep = rep;
    *ret = s;
    return MRD_OK;
}

static void batch_free(struct batch *b);

void stix_stream_free(struct stix_stream *s)
{
    if (s == NULL)
        return;
    batch_free(s->batch[0]);
    batch_free(s->batch[1]);
    mrd_free(s->s);
    mrd_free(s->ids);
    mrd_free(s->uuids);
    for (size_t i = 0; i < s->ntypes; i++)
        mrd_free(s->types[i]);
    mrd_free(s);
}

static uint64_t entry(uint64_t h, size_t index)
{
    return (h >> 32) << 32 | (uint64_t)(index + 1);
}

/* The summary index of a table entry. */
static uint32_t at(uint64_t e)
{
    return (uint32_t)e - 1;
}

/* The slot of hash h: the one holding its first summary, or the free one
 * where that goes. */
static uint64_t *slot(uint64_t *tab, size_t mask, const struct summary *all, uint64_t h,
                      bool by_uuid)
{
    size_t i = (size_t)h & mask;

    for (; tab[i] != EMPTY; i = (i + 1) & mask) {
        uint32_t j = at(tab[i]);
        if (tab[i] >> 32 == h >> 32 && (by_uuid ? all[j].uuidh : all[j].idh) == h)
            break;
    }
    return &tab[i];
}

/* Room for want summaries in all (at least double what there is, so
 * growing stays amortised); false (and the tables stay) when memory or
 * STIX_STREAM_MAX_TRACKED says no. */
static bool reserve(struct stix_stream *s, size_t want)
{
    size_t ncap, tcap;
    struct summary *ns;
    uint64_t *ids, *uuids;

    if (want <= s->cap)
        return true;
    if (s->cap >= STIX_STREAM_MAX_TRACKED)
        return false;
    ncap = s->cap == 0 ? 4096 : s->cap * 2;
    if (ncap < want)
        ncap = want;
    if (ncap > STIX_STREAM_MAX_TRACKED)
        ncap = STIX_STREAM_MAX_TRACKED;
    tcap = 16;
    while (tcap < ncap * 2)
        tcap *= 2;
    ns = mrd_realloc(s->s, ncap * sizeof(*ns));
    if (ns == NULL)
        return false;
    s->s = ns;
    ids = mrd_calloc(tcap, sizeof(*ids));
    uuids = mrd_calloc(tcap, sizeof(*uuids));
    if (ids == NULL || uuids == NULL) {
        mrd_free(ids);
        mrd_free(uuids);
        return false;
    }
    /* one call, not a page fault per 4 KiB (a third of a second on a
     * million objects on a virtual machine) */
    mrd_prefault(ns + s->n, (ncap - s->n) * sizeof(*ns));
    mrd_prefault(ids, tcap * sizeof(*ids));
    mrd_prefault(uuids, tcap * sizeof(*uuids));
    /* re-insert: the first summary of each id and uuid keeps its place */
    for (size_t i = 0; i < s->n; i++) {
        uint64_t *p = slot(ids, tcap - 1, ns, ns[i].idh, false);
        if (*p == EMPTY)
            *p = entry(ns[i].idh, i);
        if (ns[i].uuidh != 0) {
            p = slot(uuids, tcap - 1, ns, ns[i].uuidh, true);
            if (*p == EMPTY)
                *p = entry(ns[i].uuidh, i);
        }
    }
    mrd_free(s->ids);
    mrd_free(s->uuids);
    s->ids = ids;
    s->uuids = uuids;
    s->mask = tcap - 1;
    s->cap = ncap;
    return true;
}

/* Room for one more summary. */
static bool grow(struct stix_stream *s)
{
    return reserve(s, s->n + 1);
}

void stix_stream_expect(struct stix_stream *s, size_t objects)
{
    if (objects > STIX_STREAM_EXPECT_MAX)
        objects = STIX_STREAM_EXPECT_MAX;
    (void)reserve(s, objects); /* a hint: without the room, grow() tries again */
}

/* The longest type name kept from an id for messages ('%.40s' shows at
 * most 40 characters of it). */
#define PRE_TYPE_MAX 64

/* What the rules across objects need of one object, computed from it
 * alone (so on any thread): its summary (but its type index and next),
 * and the type and UUID of its id for messages. */
struct pre {
    bool has_id; /* an object with a non-empty "id" */
    struct summary me;
    size_t type_len;
    char type[PRE_TYPE_MAX];
    char uuid[36];
};

/* The summary of o (uuidh 0: no UUID to check, an SCO or no UUID). */
static void summarize(const json_t *o, struct pre *p)
{
    const json_t *idv = json_object_get(o, "id");
    const json_t *ver = json_object_get(o, "modified");
    const char *id = json_string_value(idv), *t;
    size_t n = json_string_length(idv);
    struct summary *me = &p->me;

    p->has_id = false;
    if (id == NULL || n == 0)
        return;
    p->has_id = true;
    memset(me, 0, sizeof(*me));
    me->idh = hash_bytes(H0, id, n);
    me->next = NONE;
    if (n >= 40 && id[n - 37] == '-' && id[n - 38] == '-' &&
        stix_type_class(id, n - 38) != STIX_CLASS_SCO) {
        me->uuidh = hash_bytes(H0, id + n - 36, 36) | 1;
        me->typeh = hash_bytes(H0, id, n - 38);
        p->type_len = n - 38 < PRE_TYPE_MAX ? n - 38 : PRE_TYPE_MAX;
        memcpy(p->type, id, p->type_len);
        memcpy(p->uuid, id + n - 36, 36);
    }
    me->content = value_hash(o);
    me->has_v = time_of(ver != NULL ? ver : json_object_get(o, "created"), &me->vsec, &me->vnsec);
    me->has_c = time_of(json_object_get(o, "created"), &me->csec, &me->cnsec);
    me->revoked = json_is_true(json_object_get(o, "revoked"));
    t = json_string_value(json_object_get(o, "type"));
    me->sco = t != NULL && stix_type_class(t, strlen(t)) == STIX_CLASS_SCO;
}

/* A prefetch of the table slots of p: the tables are too big for the
 * cache on large files, and other work runs while the slots load. */
static void prefetch(const struct stix_stream *s, const struct pre *p)
{
    if (s->ids == NULL || !p->has_id)
        return;
    __builtin_prefetch(&s->ids[(size_t)p->me.idh & s->mask]);
    if (p->me.uuidh != 0)
        __builtin_prefetch(&s->uuids[(size_t)p->me.uuidh & s->mask]);
}

/* check_versions and check_uuid_reuse of document.c, over summaries: the
 * object [i] summarised in p against the ones before it. */
static void across(struct stix_ctx *c, struct stix_stream *s, const struct pre *p, size_t i)
{
    struct summary *me;
    uint64_t *slotp;

    if (!p->has_id)
        return;
    if (!grow(s)) {
        if (!s->capped)
            stix__warn(c, "stream-limit", SEC_VERSIONING,
                       "versions and UUID reuse are checked among the first %zu objects only",
                       s->n);
        s->capped = true;
        return;
    }
    me = &s->s[s->n];
    *me = p->me;
    /* versions of one id (§3.6) */
    slotp = slot(s->ids, s->mask, s->s, me->idh, false);
    if (*slotp == EMPTY) {
        *slotp = entry(me->idh, s->n);
    } else {
        for (uint32_t j = at(*slotp);; j = s->s[j].next) {
            const struct summary *q = &s->s[j];
            int cmp;
            if (me->sco) {
                if (q->content != me->content)
                    stix__warn(c, "sco-duplicate", SEC_VERSIONING,
                               "another object in this document has the same SCO id but "
                               "different properties (objects [%u] and [%zu])",
                               j, i);
            } else if (q->has_v && me->has_v && tcmp(q->vsec, q->vnsec, me->vsec, me->vnsec) == 0) {
                if (q->content != me->content)
                    stix__error(c, "version-conflict", SEC_VERSIONING,
                                "object [%u] has the same id and version but different content; "
                                "any change needs a new 'modified'",
                                j);
            } else {
                if (q->has_c && me->has_c && tcmp(q->csec, q->cnsec, me->csec, me->cnsec) != 0)
                    stix__error_at(c, "created", "created-changed", "STIX 2.1 §3.2",
                                   "'created' differs from another version of this object "
                                   "([%u]); it never changes between versions",
                                   j);
                if (q->has_v && me->has_v) {
                    cmp = tcmp(q->vsec, q->vnsec, me->vsec, me->vnsec);
                    if (cmp < 0 ? q->revoked : me->revoked)
                        stix__error(c, "revoked-version", "STIX 2.1 §3.6",
                                    "a version newer than a revoked one exists ([%u] and [%zu]); "
                                    "revocation is final",
                                    j, i);
                }
            }
            if (s->s[j].next == NONE) {
                s->s[j].next = (uint32_t)s->n;
                break;
            }
        }
    }
    /* §2.9 / S4: one UUID, two types (SCOs left out, as in document.c) */
    if (me->uuidh != 0) {
        me->type = type_index(s, p->type, p->type_len);
        slotp = slot(s->uuids, s->mask, s->s, me->uuidh, true);
        if (*slotp == EMPTY) {
            *slotp = entry(me->uuidh, s->n);
        } else {
            const struct summary *q = &s->s[at(*slotp)];
            if (q->typeh != me->typeh)
                stix__warn_at(c, "id", "uuid-reused", SEC_ID,
                              "the UUID of this id is also used by '%.40s--%.36s' (object [%u]); "
                              "a UUID should not be reused across object types",
                              q->type != NO_TYPE ? s->types[q->type] : "another type", p->uuid,
                              at(*slotp));
        }
    }
    s->n++;
}

static void ctx_at(struct stix_ctx *c, const struct stix_stream *s, struct stix_report *rep,
                   size_t index, struct mrd_err *err)
{
    stix__ctx_init(c, s->flags, rep, err);
    c->object = (long)index;
    if (!s->top_list)
        stix__push_key(c, "objects");
    stix__push_index(c, index);
}

enum mrd_code stix_stream_object(struct stix_stream *s, size_t index, const json_t *obj,
                                 struct mrd_err *err)
{
    struct stix_ctx c;
    struct pre p = {.has_id = false};

    if (json_is_object(obj)) {
        summarize(obj, &p);
        prefetch(s, &p);
    }
    ctx_at(&c, s, s->rep, index, err);
    stix__check_object(&c, obj);
    across(&c, s, &p, index);
    s->rep->objects++;
    return stix__ctx_finish(&c);
}

enum mrd_code stix_stream_not_json(struct stix_stream *s, size_t index, const char *msg,
                                   struct mrd_err *err)
{
    struct stix_ctx c;

    ctx_at(&c, s, s->rep, index, err);
    stix__error(&c, "json-syntax", "RFC 8259, RFC 7493 (I-JSON)", "%s", msg);
    s->rep->objects++;
    return stix__ctx_finish(&c);
}

/* ---- objects as text, on threads ---- */

/* The finding of an element at byte offset that is not JSON (why). */
static void not_json(struct stix_ctx *c, uint64_t offset, const char *why)
{
    stix__error(c, "json-syntax", "RFC 8259, RFC 7493 (I-JSON)",
                "not JSON (the object at byte %llu): %s", (unsigned long long)offset, why);
}

struct item {
    size_t index;
    uint64_t offset;
    size_t at, len;   /* its text in batch.text */
    enum mrd_code rc; /* not MRD_OK: the run stops at this object (out of memory) */
    unsigned worker;  /* whose report holds its findings ... */
    size_t f0, nf;    /* ... from f0, nf of them (the kept ones) */
    size_t nerr, nwarn;
    struct pre pre;
};

struct batch;

struct bworker {
    struct batch *b;
    unsigned w;
};

struct batch {
    const struct stix_stream *s;
    struct mrd_buf text;
    struct item *items; /* STIX_STREAM_BATCH_OBJECTS of them */
    size_t n;
    atomic_size_t next; /* the next item a thread takes (CHUNK at a time) */
    bool running;
    /* Each thread's findings: the first STIX_MAX_FINDINGS it made in this
     * batch. A finding it drops follows as many of its own in input order,
     * so the report, which keeps the first STIX_MAX_FINDINGS, drops it too. */
    struct stix_report reps[STIX_STREAM_MAX_THREADS];
    struct bworker ws[STIX_STREAM_MAX_THREADS];
    pthread_t tids[STIX_STREAM_MAX_THREADS];
    bool started[STIX_STREAM_MAX_THREADS];
};

#define CHUNK 16 /* items a thread takes at once */

static struct batch *batch_new(const struct stix_stream *s)
{
    struct batch *b = mrd_calloc(1, sizeof(*b));

    if (b == NULL)
        return NULL;
    b->items = mrd_calloc(STIX_STREAM_BATCH_OBJECTS, sizeof(*b->items));
    if (b->items == NULL) {
        mrd_free(b);
        return NULL;
    }
    b->s = s;
    mrd_buf_init(&b->text, STIX_STREAM_BATCH_BYTES + STIX_STREAM_MAX_OBJECT);
    for (unsigned t = 0; t < STIX_STREAM_MAX_THREADS; t++)
        stix_report_init(&b->reps[t]);
    return b;
}

/* Parses and checks one object into the thread's report. */
static void check_item(struct batch *b, unsigned w, struct item *it)
{
    struct stix_report *rep = &b->reps[w];
    struct mrd_jstream_event ev = {.kind = MRD_JSTREAM_ITEM,
                                   .text = b->text.data + it->at,
                                   .len = it->len,
                                   .index = it->index,
                                   .offset = it->offset};
    size_t f0 = rep->nfindings, e0 = rep->errors, w0 = rep->warnings;
    struct mrd_err perr = {0}, err = {0};
    struct stix_ctx c;
    json_t *v = NULL;

    it->pre.has_id = false;
    it->worker = w;
    if (mrd_jstream_parse(&ev, &v, &perr) != MRD_OK && perr.code == MRD_E_NOMEM) {
        it->rc = MRD_E_NOMEM;
        return;
    }
    ctx_at(&c, b->s, rep, it->index, &err);
    if (v == NULL) {
        not_json(&c, it->offset, perr.msg);
    } else {
        if (json_is_object(v))
            summarize(v, &it->pre);
        stix__check_object(&c, v);
    }
    it->rc = stix__ctx_finish(&c);
    json_decref(v);
    it->f0 = f0;
    it->nf = rep->nfindings - f0;
    it->nerr = rep->errors - e0;
    it->nwarn = rep->warnings - w0;
}

static void *batch_worker(void *arg)
{
    struct bworker *bw = arg;
    struct batch *b = bw->b;

    for (;;) {
        size_t i = atomic_fetch_add(&b->next, CHUNK);
        size_t end = i + CHUNK < b->n ? i + CHUNK : b->n;
        if (i >= b->n)
            break;
        for (; i < end; i++)
            check_item(b, bw->w, &b->items[i]);
    }
    return NULL;
}

/* Hands the batch to the threads (all of it to this one when none can be
 * started). */
static void batch_start(struct stix_stream *s, struct batch *b)
{
    unsigned n = s->threads;
    bool any = false;

    if (n > b->n / CHUNK + 1)
        n = (unsigned)(b->n / CHUNK + 1);
    atomic_store(&b->next, 0);
    for (unsigned t = 0; t < n; t++) {
        stix_report_reset(&b->reps[t]);
        b->ws[t] = (struct bworker){b, t};
        b->started[t] = pthread_create(&b->tids[t], NULL, batch_worker, &b->ws[t]) == 0;
        any = any || b->started[t];
    }
    if (!any)
        (void)batch_worker(&b->ws[0]);
    b->running = true;
}

static void batch_join(struct batch *b)
{
    for (unsigned t = 0; t < STIX_STREAM_MAX_THREADS; t++)
        if (b->started[t]) {
            (void)pthread_join(b->tids[t], NULL);
            b->started[t] = false;
        }
}

static void batch_free(struct batch *b)
{
    if (b == NULL)
        return;
    batch_join(b);
    for (unsigned t = 0; t < STIX_STREAM_MAX_THREADS; t++)
        stix_report_release(&b->reps[t]);
    mrd_buf_release(&b->text);
    mrd_free(b->items);
    mrd_free(b);
}

/* How far ahead of the object being taken its table slots are prefetched. */
#define PREFETCH_AHEAD 8

/* Waits for the batch's threads and takes its objects in order: their
 * findings, then the rules across objects. The batch is empty afterwards. */
static enum mrd_code settle(struct stix_stream *s, struct batch *b, struct mrd_err *err)
{
    enum mrd_code rc = MRD_OK;

    if (b == NULL || !b->running)
        return MRD_OK;
    batch_join(b);
    for (size_t i = 0; i < b->n && rc == MRD_OK; i++) {
        const struct item *it = &b->items[i];
        struct stix_ctx c;

        if (i + PREFETCH_AHEAD < b->n)
            prefetch(s, &b->items[i + PREFETCH_AHEAD].pre);
        if (it->rc != MRD_OK) {
            rc = mrd_err_set(err, it->rc, "stix: out of memory checking object [%zu]", it->index);
            break;
        }
        rc = stix__report_take(s->rep, it->nf > 0 ? b->reps[it->worker].findings + it->f0 : NULL,
                               it->nf, it->nerr, it->nwarn, err);
        if (rc != MRD_OK)
            break;
        ctx_at(&c, s, s->rep, it->index, err);
        across(&c, s, &it->pre, it->index);
        s->rep->objects++;
        rc = stix__ctx_finish(&c);
    }
    b->n = 0;
    mrd_buf_reset(&b->text);
    b->running = false;
    return rc;
}

void stix_stream_threads(struct stix_stream *s, unsigned n)
{
    s->threads = n < 1 ? 1 : n > STIX_STREAM_MAX_THREADS ? STIX_STREAM_MAX_THREADS : n;
}

enum mrd_code stix_stream_text(struct stix_stream *s, size_t index, uint64_t offset,
                               const char *text, size_t len, struct mrd_err *err)
{
    struct mrd_jstream_event ev = {
        .kind = MRD_JSTREAM_ITEM, .text = text, .len = len, .index = index, .offset = offset};
    struct batch *b;
    struct item *it;
    enum mrd_code rc;

    if (s->threads <= 1) {
        struct mrd_err perr = {0};
        struct stix_ctx c;
        json_t *v = NULL;
        if (mrd_jstream_parse(&ev, &v, &perr) == MRD_OK) {
            rc = stix_stream_object(s, index, v, err);
            json_decref(v);
            return rc;
        }
        if (perr.code == MRD_E_NOMEM)
            return mrd_err_set(err, MRD_E_NOMEM, "%s", perr.msg);
        ctx_at(&c, s, s->rep, index, err);
        not_json(&c, offset, perr.msg);
        s->rep->objects++;
        return stix__ctx_finish(&c);
    }
    if (s->batch[s->fill] == NULL && (s->batch[s->fill] = batch_new(s)) == NULL)
        return mrd_err_set(err, MRD_E_NOMEM, "stix: out of memory");
    b = s->batch[s->fill];
    it = &b->items[b->n];
    it->index = index;
    it->offset = offset;
    it->at = b->text.len;
    it->len = len;
    rc = mrd_buf_append(&b->text, text, len, err);
    if (rc != MRD_OK)
        return rc;
    b->n++;
    if (b->n < STIX_STREAM_BATCH_OBJECTS && b->text.len < STIX_STREAM_BATCH_BYTES)
        return MRD_OK;
    /* this batch to the threads, the one before it into the report */
    batch_start(s, b);
    s->fill ^= 1;
    return settle(s, s->batch[s->fill], err);
}

enum mrd_code stix_stream_flush(struct stix_stream *s, struct mrd_err *err)
{
    struct batch *b = s->batch[s->fill];
    enum mrd_code rc;

    if (b != NULL && b->n > 0)
        batch_start(s, b);
    rc = settle(s, s->batch[s->fill ^ 1], err);
    if (rc == MRD_OK)
        rc = settle(s, b, err);
    return rc;
}
