/*
 * stix.c: notifications as STIX objects in the constituent's own
 * collection (notify_int.h; docs/notify.md, "Notifications as STIX").
 *
 * Each org that is told something gets one collection, alias = its name,
 * in the API root NOTIFY_API_ROOT, readable by that org and the own org.
 * Every object in it is created by the node's identity, marked TLP:RED
 * with the org as the only recipient (policy.h: RED is the creator org and
 * its recipients, a grant still required), and signed with the node key
 * like every object created here (fed_ingest_canon). The identities have
 * UUIDv5 ids and fixed timestamps (the same bytes every time: publishing
 * them again is a no-op); a notification gets a UUIDv4 id, once, in the
 * transaction that records it.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/alloc.h"
#include "core/json.h"
#include "core/str.h"
#include "core/timestamp.h"
#include "core/uuid.h"
#include "admin/admin.h"
#include "fed/fed.h"
#include "notify/notify_int.h"
#include "policy/policy.h"

/* The RFC 4122 URL namespace, as for the signature extension's id. */
#define NS_URL "6ba7b811-9dad-11d1-80b4-00c04fd430c8"
/* Identities are the same bytes on every run: a fixed created/modified. */
#define IDENTITY_TIME "2026-01-01T00:00:00.000Z"

enum mrd_code notify__stix_init(struct notify__stix *s, struct store *st,
                                const struct fed_trust *trust, struct mrd_err *err)
{
    struct store_org own;
    char name[128];
    enum mrd_code rc;

    memset(s, 0, sizeof(*s));
    s->st = st;
    s->trust = trust;
    rc = store_meta_get(st, "node_id", s->node_id, sizeof(s->node_id), err);
    if (rc == MRD_OK)
        rc = store_meta_get(st, "own_org", s->own_name, sizeof(s->own_name), err);
    if (rc == MRD_OK)
        rc = store_org_get(st, s->own_name, 0, &own, err);
    if (rc != MRD_OK) {
        mrd_err_prefix(err, "notifications: the node's id and own org");
        return rc;
    }
    s->own = own.key;
    (void)snprintf(name, sizeof(name), "urn:meridian:node:%s", s->node_id);
    rc = mrd_uuid_v5_id("identity", NS_URL, name, s->identity, sizeof(s->identity), err);
    s->ready = rc == MRD_OK;
    return rc;
}

/* Fills slot->in for the canonical bytes of obj: RED, the org as its one
 * recipient, created here by the own org, signed with the node key. */
static enum mrd_code slot_fill(struct notify__stix *s, int64_t org, json_t *obj,
                               struct notify__slot *slot, struct mrd_err *err)
{
    struct fed_ingest_result ir;
    struct mrd_time t;
    const char *created;
    enum mrd_code rc;

    memset(&ir, 0, sizeof(ir));
    mrd_buf_reset(&slot->body);
    rc = fed_ingest_canon(s->trust, obj, FED_ORIGIN_LOCAL, POLICY_TLP_RED, &slot->body, &ir, err);
    if (rc == MRD_OK && ir.reject)
        rc = mrd_err_set(err, MRD_E_INVALID, "notification: %s", ir.message);
    if (rc != MRD_OK)
        return rc;
    (void)snprintf(slot->id, sizeof(slot->id), "%s", json_string_value(json_object_get(obj, "id")));
    (void)snprintf(slot->signer, sizeof(slot->signer), "%s", ir.signer);
    created = json_string_value(json_object_get(obj, "created"));
    rc = mrd_time_parse(created, strlen(created), &t, err);
    if (rc != MRD_OK)
        return rc;
    slot->recipient = org;
    memset(&slot->in, 0, sizeof(slot->in));
    slot->in.id = slot->id;
    slot->in.id_len = strlen(slot->id);
    (void)snprintf(slot->type, sizeof(slot->type), "%s",
                   json_string_value(json_object_get(obj, "type")));
    slot->in.type = slot->type;
    slot->in.type_len = strlen(slot->type);
    slot->in.spec_version = "2.1";
    slot->in.spec_version_len = 3;
    slot->in.created_usec = mrd_time_to_usec(&t);
    slot->in.modified_usec = slot->in.created_usec;
    slot->in.tlp = ir.tlp;
    slot->in.local = true;
    slot->in.creator_org = s->own;
    slot->in.recipients = &slot->recipient;
    slot->in.n_recipients = 1;
    slot->in.body = slot->body.data;
    slot->in.body_len = slot->body.len;
    if (slot->signer[0] != '\0') {
        slot->in.signer = slot->signer;
        slot->in.signer_len = strlen(slot->signer);
    }
    slot->in.signer_trusted = fed_trust_knows;
    slot->in.same_content = fed_same_content;
    slot->in.signer_ctx = (void *)(uintptr_t)s->trust;
    return MRD_OK;
}

static json_t *identity_json(const char *id, const char *name, const char *creator)
{
    json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:[s]}", "type", "identity",
                          "spec_version", "2.1", "id", id, "created", IDENTITY_TIME, "modified",
                          IDENTITY_TIME, "name", name, "identity_class", "organization",
                          "object_marking_refs", POLICY_TLP2_RED_ID);

    if (o != NULL && creator != NULL)
        (void)json_object_set_new(o, "created_by_ref", json_string(creator));
    return o;
}

/* Publishes the node's and the org's identities in the org's collection:
 * the same bytes every time, so a repeat is a duplicate (a no-op). */
static enum mrd_code publish_identities(struct notify__stix *s, const struct store_org *org,
                                        const struct notify__org *o, struct mrd_err *err)
{
    struct notify__slot *slots = mrd_calloc(2, sizeof(*slots));
    struct store_object_in in[2];
    json_t *a = NULL, *b = NULL;
    enum mrd_code rc;

    if (slots == NULL)
        return mrd_err_set(err, MRD_E_NOMEM, "notifications: out of memory");
    mrd_buf_init(&slots[0].body, STORE_OBJECT_MAX);
    mrd_buf_init(&slots[1].body, STORE_OBJECT_MAX);
    a = identity_json(s->identity, s->own_name, NULL);
    b = identity_json(o->identity, org->name, s->identity);
    rc = a != NULL && b != NULL ? MRD_OK
                                : mrd_err_set(err, MRD_E_NOMEM, "notifications: out of memory");
    if (rc == MRD_OK)
        rc = slot_fill(s, org->key, a, &slots[0], err);
    if (rc == MRD_OK)
        rc = slot_fill(s, org->key, b, &slots[1], err);
    if (rc == MRD_OK) {
        in[0] = slots[0].in;
        in[1] = slots[1].in;
        in[0].recipients = &slots[0].recipient;
        in[1].recipients = &slots[1].recipient;
        rc = store_objects_insert(s->st, o->collection, in, 2, NULL, NULL, err);
    }
    json_decref(a);
    json_decref(b);
    mrd_buf_release(&slots[0].body);
    mrd_buf_release(&slots[1].body);
    mrd_free(slots);
    return rc;
}

struct create {
    struct admin *adm;
    const struct store_org *org, *own;
    struct store_collection *c;
};

/* The collection and its two grants: one change, one audit record each. */
static enum mrd_code create_change(void *ctx, struct store *st, struct admin_change *rec,
                                   struct mrd_err *err)
{
    struct create *k = ctx;
    struct store_api_root root;
    struct store_grant read = {.can_read = true, .can_write = false};
    enum mrd_code rc;

    memset(&root, 0, sizeof(root));
    (void)snprintf(root.name, sizeof(root.name), "%s", NOTIFY_API_ROOT);
    (void)snprintf(root.title, sizeof(root.title), "Early warning");
    (void)snprintf(root.description, sizeof(root.description),
                   "Notifications for each constituent, in a collection of its own");
    root.max_content_length = STORE_DEFAULT_MAX_CONTENT;
    rc = store_api_root_put(st, &root, NULL, err);
    if (rc == MRD_OK)
        rc = admin_collection_create(k->adm, k->c, err);
    if (rc == MRD_OK)
        rc = admin_grant_set(k->adm, k->org, k->c, read, err);
    if (rc == MRD_OK && k->own->key != k->org->key)
        rc = admin_grant_set(k->adm, k->own, k->c, read, err);
    if (rc != MRD_OK)
        return rc;
    (void)snprintf(rec->target, sizeof(rec->target), "%s", k->org->name);
    rec->after = json_pack("{s:s, s:s, s:s}", "api_root", k->c->api_root, "collection", k->c->id,
                           "alias", k->c->alias);
    return rec->after != NULL ? MRD_OK : mrd_err_set(err, MRD_E_NOMEM, "out of memory");
}

static enum mrd_code collection_find(struct notify__stix *s, const struct store_org *org,
                                     struct store_collection *c, struct mrd_err *err)
{
    return store_collection_get(s->st, NOTIFY_API_ROOT, strlen(NOTIFY_API_ROOT), org->name,
                                strlen(org->name), c, err);
}

enum mrd_code notify__stix_org(struct notify__stix *s, int64_t org, const struct notify__org **ret,
                               struct mrd_err *err)
{
    struct store_org o, own;
    struct store_collection c;
    struct notify__org *slot;
    char name[256];
    enum mrd_code rc;

    for (size_t i = 0; i < s->n_orgs; i++) {
        if (s->orgs[i].org == org) {
            *ret = &s->orgs[i];
            return MRD_OK;
        }
    }
    rc = store_org_get(s->st, NULL, org, &o, err);
    if (rc == MRD_OK)
        rc = store_org_get(s->st, NULL, s->own, &own, err);
    if (rc != MRD_OK)
        return rc;
    memset(&c, 0, sizeof(c));
    rc = collection_find(s, &o, &c, err);
    if (rc == MRD_E_NOTFOUND) {
        struct admin adm;
        struct create k = {.adm = &adm, .org = &o, .own = &own, .c = &c};

        mrd_err_clear(err);
        memset(&adm, 0, sizeof(adm));
        adm.st = s->st;
        (void)snprintf(adm.who.via, sizeof(adm.who.via), "notify");
        (void)snprintf(adm.who.name, sizeof(adm.who.name), "early warning");
        (void)snprintf(adm.who.org, sizeof(adm.who.org), "%s", own.name);
        adm.who.uid = -1;
        memset(&c, 0, sizeof(c));
        (void)snprintf(c.api_root, sizeof(c.api_root), "%s", NOTIFY_API_ROOT);
        (void)snprintf(c.title, sizeof(c.title), "early warning for %s", o.name);
        (void)snprintf(c.description, sizeof(c.description),
                       "Notifications for %s: findings that concern its declared assets", o.name);
        (void)snprintf(c.alias, sizeof(c.alias), "%s", o.name);
        c.default_tlp = POLICY_TLP_RED;
        rc = admin_apply(&adm, "notify", "collection", create_change, &k, err);
        if (rc == MRD_E_EXISTS) { /* another process made it meanwhile */
            mrd_err_clear(err);
            rc = collection_find(s, &o, &c, err);
        }
    }
    if (rc != MRD_OK) {
        mrd_err_prefix(err, "the early-warning collection of org %s", o.name);
        return rc;
    }
    if (s->n_orgs < NOTIFY__ORG_CACHE) {
        slot = &s->orgs[s->n_orgs++];
    } else {
        slot = &s->orgs[s->next];
        s->next = (s->next + 1) % NOTIFY__ORG_CACHE;
    }
    memset(slot, 0, sizeof(*slot));
    slot->org = org;
    slot->collection = c.key;
    (void)snprintf(name, sizeof(name), "urn:meridian:node:%s:org:%s", s->node_id, o.name);
    rc = mrd_uuid_v5_id("identity", NS_URL, name, slot->identity, sizeof(slot->identity), err);
    if (rc == MRD_OK)
        rc = publish_identities(s, &o, slot, err);
    if (rc != MRD_OK) {
        slot->org = 0; /* not a usable entry */
        return rc;
    }
    *ret = slot;
    return MRD_OK;
}

static const char *how_text(uint8_t how)
{
    return how == NOTIFY_M_EXACT ? "is" : how == NOTIFY_M_INSIDE ? "lies inside" : "holds";
}

/* The object: a sighting of the indicator (for an indicator, or a sighting
 * of one), else a note about the object; a withheld finding is a note
 * about the org itself that names only its asset and the kind. */
static json_t *finding_json(const struct notify__stix *s, const struct notify__org *o,
                            const struct store_notification *n, const struct notify__finding *f,
                            const char *id, const char *when)
{
    const char *akind = notify_akind_name((enum notify_akind)f->asset_kind);
    char text[1024];
    json_t *j;

    if (f->withheld) {
        (void)snprintf(text, sizeof(text),
                       "A finding (%s) concerns your asset %s. Its details may not be shared "
                       "with you; ask the team that runs this node.",
                       n->kind, n->asset_text);
        j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:[s], s:[s], s:b}", "type", "note",
                      "spec_version", "2.1", "id", id, "created", when, "modified", when,
                      "created_by_ref", s->identity, "abstract", "early warning", "content", text,
                      "object_refs", o->identity, "object_marking_refs", POLICY_TLP2_RED_ID,
                      "x_meridian_withheld", 1);
    } else if (f->sighted != NULL || strcmp(n->kind, "indicator") == 0) {
        (void)snprintf(text, sizeof(text), "%s %s (%s) %s your asset %s", n->kind, n->object_id,
                       n->value, how_text(n->how), n->asset_text);
        j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:[s], s:s, s:[s], s:s, s:s}", "type",
                      "sighting", "spec_version", "2.1", "id", id, "created", when, "modified",
                      when, "created_by_ref", s->identity, "sighting_of_ref",
                      f->sighted != NULL ? f->sighted : n->object_id, "where_sighted_refs",
                      o->identity, "description", text, "object_marking_refs", POLICY_TLP2_RED_ID,
                      "x_meridian_value", n->value, "x_meridian_object_ref", n->object_id);
    } else {
        (void)snprintf(text, sizeof(text), "%s %s (%s) %s your asset %s", n->kind, n->object_id,
                       n->value, how_text(n->how), n->asset_text);
        j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:[s], s:[s], s:s, s:s}", "type",
                      "note", "spec_version", "2.1", "id", id, "created", when, "modified", when,
                      "created_by_ref", s->identity, "abstract", "early warning", "content", text,
                      "object_refs", n->object_id, "object_marking_refs", POLICY_TLP2_RED_ID,
                      "x_meridian_value", n->value, "x_meridian_object_ref", n->object_id);
    }
    if (j == NULL)
        return NULL;
    /* the asset and the kind of finding: every notification names them */
    if (json_object_set_new(j, "x_meridian_asset", json_string(n->asset_text)) != 0 ||
        json_object_set_new(j, "x_meridian_asset_kind", json_string(akind)) != 0 ||
        json_object_set_new(j, "x_meridian_finding", json_string(n->kind)) != 0) {
        json_decref(j);
        return NULL;
    }
    return j;
}

enum mrd_code notify__stix_build(struct notify__stix *s, const struct notify__org *o,
                                 struct store_notification *n, const struct notify__finding *f,
                                 struct notify__slot *slot, struct mrd_err *err)
{
    char u[MRD_UUID_STR_LEN + 1], id[NOTIFY_STIX_ID_MAX + 1], when[MRD_TIME_STIX_MS_LEN + 1];
    bool sighting = !f->withheld && (f->sighted != NULL || strcmp(n->kind, "indicator") == 0);
    json_t *j;
    enum mrd_code rc;

    /* UUIDv4 as STIX 2.1 §2.9 asks of SDOs: exactly once comes from the
     * transaction (a repeated round records nothing, so makes nothing) */
    rc = mrd_uuid_v4(u, err);
    if (rc != MRD_OK)
        return rc;
    (void)snprintf(id, sizeof(id), "%s--%s", sighting ? "sighting" : "note", u);
    mrd_time_format_stix_ms(n->created_usec, when);
    j = finding_json(s, o, n, f, id, when);
    if (j == NULL)
        return mrd_err_set(err, MRD_E_NOMEM, "notification: out of memory");
    rc = slot_fill(s, n->org, j, slot, err);
    json_decref(j);
    if (rc != MRD_OK)
        return rc;
    n->stix = &slot->in;
    n->stix_collection = o->collection;
    return MRD_OK;
}
