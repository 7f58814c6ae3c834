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
 */
#include <math.h>
#include <string.h>

#include "core/alloc.h"
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

void stix_stream_free(struct stix_stream *s)
{
    if (s == NULL)
        return;
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

/* An object's id, and the hashes its summary is found by. */
struct keys {
    const char *id;
    size_t n;
    uint64_t idh, uuidh, typeh; /* uuidh 0: no UUID to check (an SCO, or no UUID) */
};

/* The keys of o, and a prefetch of their table slots: the tables are too
 * big for the cache on large files, and the checks of the object run while
 * the slots load. */
static void keys_of(const struct stix_stream *s, const json_t *o, struct keys *k)
{
    const json_t *idv = json_object_get(o, "id");

    memset(k, 0, sizeof(*k));
    k->id = json_string_value(idv);
    k->n = json_string_length(idv);
    if (k->id == NULL || k->n == 0)
        return;
    k->idh = hash_bytes(H0, k->id, k->n);
    if (k->n >= 40 && k->id[k->n - 37] == '-' && k->id[k->n - 38] == '-' &&
        stix_type_class(k->id, k->n - 38) != STIX_CLASS_SCO) {
        k->uuidh = hash_bytes(H0, k->id + k->n - 36, 36) | 1;
        k->typeh = hash_bytes(H0, k->id, k->n - 38);
    }
    if (s->ids != NULL) {
        __builtin_prefetch(&s->ids[(size_t)k->idh & s->mask]);
        if (k->uuidh != 0)
            __builtin_prefetch(&s->uuids[(size_t)k->uuidh & s->mask]);
    }
}

/* check_versions and check_uuid_reuse of document.c, over summaries. */
static void across(struct stix_ctx *c, struct stix_stream *s, const json_t *o, const struct keys *k,
                   size_t i)
{
    const char *id = k->id;
    size_t n = k->n;
    const json_t *ver = json_object_get(o, "modified");
    struct summary *me;
    uint64_t *p;
    if (id == NULL || n == 0)
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
    memset(me, 0, sizeof(*me));
    me->idh = k->idh;
    me->next = NONE;
    me->content = value_hash(o);
    me->has_v = time_of(ver != NULL ? ver : json_object_get(o, "created"), &me->vsec, &me->vnsec);
    me->has_c = time_of(json_object_get(o, "created"), &me->csec, &me->cnsec);
    me->revoked = json_is_true(json_object_get(o, "revoked"));
    {
        const char *t = json_string_value(json_object_get(o, "type"));
        me->sco = t != NULL && stix_type_class(t, strlen(t)) == STIX_CLASS_SCO;
    }
    /* versions of one id (§3.6) */
    p = slot(s->ids, s->mask, s->s, me->idh, false);
    if (*p == EMPTY) {
        *p = entry(me->idh, s->n);
    } else {
        for (uint32_t j = at(*p);; j = s->s[j].next) {
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
    if (k->uuidh != 0) {
        me->uuidh = k->uuidh;
        me->typeh = k->typeh;
        me->type = type_index(s, id, n - 38);
        p = slot(s->uuids, s->mask, s->s, me->uuidh, true);
        if (*p == EMPTY) {
            *p = entry(me->uuidh, s->n);
        } else {
            const struct summary *q = &s->s[at(*p)];
            if (q->typeh != me->typeh)
                stix__warn_at(c, "id", "uuid-reused", SEC_ID,
                              "the UUID of this id is also used by '%.40s--%.36s' (object [%u]); "
                              "a UUID should not be reused across object types",
                              q->type != NO_TYPE ? s->types[q->type] : "another type", id + n - 36,
                              at(*p));
        }
    }
    s->n++;
}

static void ctx_at(struct stix_ctx *c, struct stix_stream *s, size_t index, struct mrd_err *err)
{
    stix__ctx_init(c, s->flags, s->rep, err);
    c->object = (long)index;
    if (!s->top_list)
        stix__push_key(c, "objects");
    stix__push_index(c, index);
}

enum mrd_code stix_stream_object(struct stix_stream *s, size_t index, const json_t *obj,
                                 struct mrd_err *err)
{
    struct stix_ctx c;
    struct keys k;

    if (json_is_object(obj))
        keys_of(s, obj, &k);
    ctx_at(&c, s, index, err);
    stix__check_object(&c, obj);
    if (json_is_object(obj))
        across(&c, s, obj, &k, index);
    s->rep->objects++;
    return stix__ctx_finish(&c);
}

enum mrd_code stix_stream_not_json(struct stix_stream *s, size_t index, const char *msg,
                                   struct mrd_err *err)
{
    struct stix_ctx c;

    ctx_at(&c, s, index, err);
    stix__error(&c, "json-syntax", "RFC 8259, RFC 7493 (I-JSON)", "%s", msg);
    s->rep->objects++;
    return stix__ctx_finish(&c);
}
