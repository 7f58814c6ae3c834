/*
 * document: the public entry points, the four document shapes (bundle,
 * TAXII envelope, single object, JSON list), and the rules that need more
 * than one object: versions of one id within a document (STIX 2.1 §3.6).
 *
 * Versions are found with an open-addressing hash table over the ids
 * (pointers into the caller's JSON, which outlives the run), so a 100 MB
 * bundle of a few hundred thousand objects costs one pass and one table.
 */
#include <string.h>

#include "core/alloc.h"
#include "core/str.h"
#include "stix/stix_int.h"

static bool str_eq_json(const json_t *v, const char *s)
{
    return json_is_string(v) && mrd_str_eq(json_string_value(v), json_string_length(v), s);
}

void stix__ctx_init(struct stix_ctx *c, unsigned flags, struct stix_report *rep,
                    struct mrd_err *err)
{
    c->flags = flags;
    c->rep = rep;
    c->err = err;
    c->rc = MRD_OK;
    c->object = -1;
    c->depth = 0;
    c->container = NULL;
    mrd_buf_init(&c->scratch, STIX_SCOID_MAX_NAME);
}

enum mrd_code stix__ctx_finish(struct stix_ctx *c)
{
    mrd_buf_release(&c->scratch);
    if (c->rc != MRD_OK)
        return mrd_err_set(c->err, c->rc, "stix: out of memory recording findings");
    return MRD_OK;
}

enum mrd_code stix_validate_object(const json_t *obj, unsigned flags, struct stix_report *rep,
                                   struct mrd_err *err)
{
    struct stix_ctx c;

    if (obj == NULL || rep == NULL)
        return mrd_err_set(err, MRD_E_INVAL, "stix: NULL object or report");
    stix__ctx_init(&c, flags, rep, err);
    stix__check_object(&c, obj);
    rep->objects++;
    return stix__ctx_finish(&c);
}

/* ---- versions within one document ---- */

struct slot {
    const char *id; /* NULL: empty */
    size_t len;
    size_t first; /* index into the objects list of the first version seen */
};

struct vtable {
    struct slot *slots;
    size_t mask;
    size_t *next;       /* next[i]: next object index with the same id, or SIZE_MAX */
    struct slot *uuids; /* keyed by the UUID part of non-SCO ids (S4) */
};

static uint64_t hash(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */

    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ull;
    }
    return h;
}

/* The version key of an object: modified, else created (§3.6). */
static const json_t *version_of(const json_t *o)
{
    const json_t *v = json_object_get(o, "modified");

    return v != NULL ? v : json_object_get(o, "created");
}

static bool same_time(const json_t *a, const json_t *b, int *ret_cmp)
{
    struct mrd_time ta;
    struct mrd_time tb;

    if (!json_is_string(a) || !json_is_string(b))
        return false;
    if (mrd_time_parse(json_string_value(a), json_string_length(a), &ta, NULL) != MRD_OK ||
        mrd_time_parse(json_string_value(b), json_string_length(b), &tb, NULL) != MRD_OK)
        return false;
    *ret_cmp = mrd_time_cmp(&ta, &tb);
    return true;
}

/* Compares object i with every earlier version of the same id. */
static void check_versions(struct stix_ctx *c, const json_t *list, struct vtable *vt, size_t i)
{
    const json_t *o = json_array_get(list, i);
    const json_t *idv = json_object_get(o, "id");
    const char *id = json_string_value(idv);
    size_t n = json_string_length(idv);
    size_t h;

    if (id == NULL || n == 0)
        return;
    h = (size_t)hash(id, n) & vt->mask;
    while (vt->slots[h].id != NULL &&
           !(vt->slots[h].len == n && memcmp(vt->slots[h].id, id, n) == 0))
        h = (h + 1) & vt->mask;
    if (vt->slots[h].id == NULL) {
        vt->slots[h].id = id;
        vt->slots[h].len = n;
        vt->slots[h].first = i;
        return;
    }
    /* An id seen before: walk its earlier versions, then chain this one. */
    for (size_t j = vt->slots[h].first;; j = vt->next[j]) {
        const json_t *p = json_array_get(list, j);
        int cmp = 0;
        const char *t = json_string_value(json_object_get(o, "type"));
        enum stix_class cls = t != NULL ? stix_type_class(t, strlen(t)) : STIX_CLASS_CUSTOM;
        if (cls == STIX_CLASS_SCO) {
            /* SCOs are not versioned: the same id twice must be the same. */
            if (!json_equal(stix__mut(p), stix__mut(o)))
                stix__warn(c, "sco-duplicate", SEC_VERSIONING,
                           "another object in this document has the same SCO id but different "
                           "properties (objects [%zu] and [%zu])",
                           j, i);
        } else if (same_time(version_of(p), version_of(o), &cmp) && cmp == 0) {
            if (!json_equal(stix__mut(p), stix__mut(o)))
                stix__error(c, "version-conflict", SEC_VERSIONING,
                            "object [%zu] has the same id and version but different content; "
                            "any change needs a new 'modified'",
                            j);
        } else {
            const json_t *cp = json_object_get(p, "created");
            const json_t *co = json_object_get(o, "created");
            int ccmp = 0;
            if (same_time(cp, co, &ccmp) && ccmp != 0)
                stix__error_at(c, "created", "created-changed", "STIX 2.1 §3.2",
                               "'created' differs from another version of this object ([%zu]); "
                               "it never changes between versions",
                               j);
            if (same_time(version_of(p), version_of(o), &cmp)) {
                const json_t *older_revoked =
                    cmp < 0 ? json_object_get(p, "revoked") : json_object_get(o, "revoked");
                if (json_is_true(older_revoked))
                    stix__error(c, "revoked-version", "STIX 2.1 §3.6",
                                "a version newer than a revoked one exists ([%zu] and [%zu]); "
                                "revocation is final",
                                j, i);
            }
        }
        if (vt->next[j] == SIZE_MAX) {
            vt->next[j] = i;
            break;
        }
    }
}

/* §2.9 / S4: one UUID should not serve two objects of different types. A
 * warning, not an error: the spec's own examples (apt1, poisonivy) give a
 * threat actor and its identity one UUID, and no MUST in the text forbids
 * it. SCOs are left out: deterministic ids of different SCO types may share
 * a UUID by construction (the type is not part of the UUIDv5 name). */
static void check_uuid_reuse(struct stix_ctx *c, const json_t *list, struct vtable *vt, size_t i)
{
    const json_t *idv = json_object_get(json_array_get(list, i), "id");
    const char *id = json_string_value(idv);
    const char *u;
    size_t tlen;
    size_t h;

    if (id == NULL || json_string_length(idv) < 40)
        return;
    u = id + json_string_length(idv) - 36;
    if (u[-1] != '-' || u[-2] != '-')
        return;
    tlen = (size_t)(u - 2 - id);
    if (stix_type_class(id, tlen) == STIX_CLASS_SCO)
        return;
    h = (size_t)hash(u, 36) & vt->mask;
    while (vt->uuids[h].id != NULL && memcmp(vt->uuids[h].id + vt->uuids[h].len - 36, u, 36) != 0)
        h = (h + 1) & vt->mask;
    if (vt->uuids[h].id == NULL) {
        vt->uuids[h].id = id;
        vt->uuids[h].len = json_string_length(idv);
        vt->uuids[h].first = i;
    } else if (vt->uuids[h].len - 38 != tlen || memcmp(vt->uuids[h].id, id, tlen) != 0) {
        stix__warn_at(c, "id", "uuid-reused", SEC_ID,
                      "the UUID of this id is also used by '%.80s' (object [%zu]); a UUID "
                      "should not be reused across object types",
                      vt->uuids[h].id, vt->uuids[h].first);
    }
}

/* Checks each element of list as an object at key[i] (key NULL: $[i]). */
static void check_list(struct stix_ctx *c, const json_t *list, const char *key)
{
    size_t n = json_array_size(list);
    struct vtable vt = {0};
    size_t cap = 16;

    if (key != NULL)
        stix__push_key(c, key);
    while (cap < n * 2)
        cap *= 2;
    vt.slots = mrd_calloc(cap, sizeof(*vt.slots));
    vt.next = mrd_malloc((n == 0 ? 1 : n) * sizeof(*vt.next));
    vt.uuids = mrd_calloc(cap, sizeof(*vt.uuids));
    if (vt.slots == NULL || vt.next == NULL || vt.uuids == NULL) {
        c->rc = MRD_E_NOMEM;
        goto out;
    }
    vt.mask = cap - 1;
    for (size_t i = 0; i < n; i++) {
        const json_t *o = json_array_get(list, i);
        vt.next[i] = SIZE_MAX;
        c->object = (long)i;
        stix__push_index(c, i);
        stix__check_object(c, o);
        if (json_is_object(o)) {
            check_versions(c, list, &vt, i);
            check_uuid_reuse(c, list, &vt, i);
        }
        stix__pop(c);
        c->rep->objects++;
    }
    c->object = -1;
out:
    mrd_free(vt.slots);
    mrd_free(vt.next);
    mrd_free(vt.uuids);
    if (key != NULL)
        stix__pop(c);
}

/* streamed: how many objects a streamed "objects" list had (stream.c
 * checked them), or -1 when the list, if any, is in doc. */
static void check_objects_member(struct stix_ctx *c, const json_t *doc, const char *section,
                                 long streamed)
{
    const json_t *objs = json_object_get(doc, "objects");

    if (streamed == 0)
        stix__error_at(c, "objects", "empty-list", section,
                       "'objects' must not be empty; leave it out instead");
    if (streamed >= 0 || objs == NULL)
        return;
    if (!json_is_array(objs)) {
        stix__error_at(c, "objects", "property-type", section, "'objects' must be a list");
        return;
    }
    if (json_array_size(objs) == 0) {
        stix__error_at(c, "objects", "empty-list", section,
                       "'objects' must not be empty; leave it out instead");
        return;
    }
    check_list(c, objs, "objects");
}

static void check_bundle(struct stix_ctx *c, const json_t *doc, bool typed, long streamed)
{
    const json_t *id = json_object_get(doc, "id");
    const char *k;
    json_t *v;

    if (!typed)
        stix__error(c, "required-property", SEC_BUNDLE,
                    "a bundle needs \"type\": \"bundle\" (this looks like a bundle without it)");
    if (id == NULL) {
        stix__error(c, "required-property", SEC_BUNDLE, "a bundle needs an 'id'");
    } else {
        size_t tlen;
        int ver;
        bool upper;
        const char *why;
        if (!json_is_string(id) ||
            !stix__id_parse(json_string_value(id), json_string_length(id), &tlen, &ver, &upper,
                            &why) ||
            tlen != 6 || memcmp(json_string_value(id), "bundle", 6) != 0)
            stix__error_at(c, "id", "id-format", SEC_BUNDLE,
                           "a bundle id must be bundle--<RFC 4122 UUID>");
    }
    json_object_foreach(stix__mut(doc), k, v)
    {
        if (strcmp(k, "spec_version") == 0)
            stix__warn_at(c, k, "bundle-spec-version", SEC_BUNDLE,
                          "STIX 2.1 bundles have no 'spec_version' (it was a STIX 2.0 property)");
        else if (json_is_null(v))
            stix__error_at(c, k, "null-value", SEC_BUNDLE, "null is not a STIX value");
        else if (strcmp(k, "type") != 0 && strcmp(k, "id") != 0 && strcmp(k, "objects") != 0 &&
                 !stix__prop_name_ok(k, strlen(k)))
            stix__error_at(c, k, "property-name", SEC_CUSTOM,
                           "property names must be 3-250 characters of a-z, 0-9 and '_', "
                           "starting with a letter");
        else if (strcmp(k, "type") != 0 && strcmp(k, "id") != 0 && strcmp(k, "objects") != 0)
            /* §8 defines only these three; nothing forbids more, and the
             * OASIS validator treats them as custom properties (a warning). */
            stix__warn_at(c, k, "bundle-property", SEC_BUNDLE,
                          "'%.60s' is not a bundle property (a bundle has type, id and objects)",
                          k);
    }
    check_objects_member(c, doc, SEC_BUNDLE, streamed);
}

static void check_envelope(struct stix_ctx *c, const json_t *doc, long streamed)
{
    const json_t *more = json_object_get(doc, "more");
    const json_t *next = json_object_get(doc, "next");
    const char *k;
    json_t *v;

    if (more != NULL && !json_is_boolean(more))
        stix__error_at(c, "more", "property-type", SEC_ENVELOPE, "'more' must be true or false");
    if (next != NULL && !json_is_string(next))
        stix__error_at(c, "next", "property-type", SEC_ENVELOPE, "'next' must be a string");
    json_object_foreach(stix__mut(doc), k, v)
    {
        if (strcmp(k, "more") != 0 && strcmp(k, "next") != 0 && strcmp(k, "objects") != 0)
            stix__warn_at(c, k, "envelope-property", SEC_ENVELOPE,
                          "'%.60s' is not a property of a TAXII envelope", k);
    }
    check_objects_member(c, doc, SEC_ENVELOPE, streamed);
}

enum mrd_code stix_validate_document(const json_t *doc, unsigned flags, struct stix_report *rep,
                                     struct mrd_err *err)
{
    struct stix_ctx c;
    const json_t *type;

    if (doc == NULL || rep == NULL)
        return mrd_err_set(err, MRD_E_INVAL, "stix: NULL document or report");
    stix__ctx_init(&c, flags, rep, err);
    if (json_is_array(doc)) {
        rep->kind = STIX_DOC_LIST;
        if (json_array_size(doc) == 0)
            stix__error(&c, "empty-list", SEC_LIST, "an empty list holds no STIX objects");
        check_list(&c, doc, NULL);
        return stix__ctx_finish(&c);
    }
    if (!json_is_object(doc)) {
        rep->kind = STIX_DOC_UNKNOWN;
        stix__error(&c, "not-a-document", SEC_BUNDLE,
                    "expected a bundle, a STIX object, a TAXII envelope or a list of objects");
        return stix__ctx_finish(&c);
    }
    type = json_object_get(doc, "type");
    if (str_eq_json(type, "bundle")) {
        rep->kind = STIX_DOC_BUNDLE;
        check_bundle(&c, doc, true, -1);
    } else if (type != NULL) {
        rep->kind = STIX_DOC_OBJECT;
        c.object = 0;
        stix__check_object(&c, doc);
        rep->objects++;
    } else if (json_object_get(doc, "id") != NULL) {
        /* No type but an id: a bundle or object that lost its type (the
         * upstream TLP 2.0 example is such a bundle). */
        const char *id = json_string_value(json_object_get(doc, "id"));
        if (id != NULL && strncmp(id, "bundle--", 8) == 0) {
            rep->kind = STIX_DOC_BUNDLE;
            check_bundle(&c, doc, false, -1);
        } else {
            rep->kind = STIX_DOC_OBJECT;
            c.object = 0;
            stix__check_object(&c, doc);
            rep->objects++;
        }
    } else {
        rep->kind = STIX_DOC_ENVELOPE;
        check_envelope(&c, doc, -1);
    }
    return stix__ctx_finish(&c);
}

enum mrd_code stix_stream_end(struct stix_report *rep, const json_t *head, size_t n, unsigned flags,
                              struct mrd_err *err)
{
    struct stix_ctx c;
    const json_t *type, *id;

    stix__ctx_init(&c, flags, rep, err);
    if (head == NULL) {
        rep->kind = STIX_DOC_LIST;
        if (n == 0)
            stix__error(&c, "empty-list", SEC_LIST, "an empty list holds no STIX objects");
        return stix__ctx_finish(&c);
    }
    type = json_object_get(head, "type");
    id = json_object_get(head, "id");
    if (str_eq_json(type, "bundle")) {
        rep->kind = STIX_DOC_BUNDLE;
        check_bundle(&c, head, true, (long)n);
    } else if (type == NULL && id == NULL) {
        rep->kind = STIX_DOC_ENVELOPE;
        check_envelope(&c, head, (long)n);
    } else if (type == NULL && json_is_string(id) &&
               strncmp(json_string_value(id), "bundle--", 8) == 0) {
        rep->kind = STIX_DOC_BUNDLE;
        check_bundle(&c, head, false, (long)n);
    } else {
        /* "objects" came before a "type" that is not "bundle" */
        rep->kind = STIX_DOC_UNKNOWN;
        stix__error(&c, "not-a-document", SEC_BUNDLE,
                    "a top-level 'objects' list belongs to a bundle or an envelope, but 'type' "
                    "or 'id' says this is another object");
    }
    return stix__ctx_finish(&c);
}
