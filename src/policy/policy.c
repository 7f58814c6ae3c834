#include "policy/policy.h"

#include <string.h>

#include "core/str.h"

/* TLP 1.0 and 2.0 ids side by side: the two schemes are equivalent for
 * decisions (WHITE = CLEAR). AMBER+STRICT exists only in TLP 2.0. */
static const struct {
    const char *id;
    enum policy_tlp tlp;
} markings[] = {
    {POLICY_TLP1_WHITE_ID, POLICY_TLP_CLEAR},
    {POLICY_TLP2_CLEAR_ID, POLICY_TLP_CLEAR},
    {POLICY_TLP1_GREEN_ID, POLICY_TLP_GREEN},
    {POLICY_TLP2_GREEN_ID, POLICY_TLP_GREEN},
    {POLICY_TLP1_AMBER_ID, POLICY_TLP_AMBER},
    {POLICY_TLP2_AMBER_ID, POLICY_TLP_AMBER},
    {POLICY_TLP2_AMBER_STRICT_ID, POLICY_TLP_AMBER_STRICT},
    {POLICY_TLP1_RED_ID, POLICY_TLP_RED},
    {POLICY_TLP2_RED_ID, POLICY_TLP_RED},
};

static const char *const tlp_names[POLICY_TLP_COUNT] = {"clear", "green", "amber", "amber+strict",
                                                        "red"};

static bool same_community(const struct policy_reader *r, const struct policy_object *o)
{
    /* A missing community on either side never matches: deny by default. */
    if (r->community == NULL || o->community == NULL || r->community_len == 0)
        return false;
    return r->community_len == o->community_len &&
           memcmp(r->community, o->community, r->community_len) == 0;
}

static bool is_recipient(const struct policy_reader *r, const struct policy_object *o)
{
    if (o->creator_org > 0 && o->creator_org == r->org_id)
        return true;
    if (o->recipients == NULL)
        return false;
    for (size_t i = 0; i < o->n_recipients; i++)
        if (o->recipients[i] > 0 && o->recipients[i] == r->org_id)
            return true;
    return false;
}

bool policy_may_read(const struct policy_reader *r, const struct policy_object *o)
{
    /* Not genuine here: its writer's own, nobody else's (public or not). */
    if (o->writer_only && (r->anonymous || o->creator_org <= 0 || o->creator_org != r->org_id))
        return false;
    /* Public collections open CLEAR, and only CLEAR, to everybody. */
    if (o->tlp == POLICY_TLP_CLEAR && r->collection_public)
        return true;
    if (r->anonymous || r->org_id <= 0 || !r->has_read_grant)
        return false;

    switch (o->tlp) {
    case POLICY_TLP_CLEAR:
        return true;
    case POLICY_TLP_GREEN:
        switch (r->relation) {
        case POLICY_REL_OWN:
        case POLICY_REL_CONSTITUENT:
            return true;
        case POLICY_REL_PARTNER:
            return same_community(r, o);
        }
        return false;
    case POLICY_TLP_AMBER:
        switch (r->relation) {
        case POLICY_REL_OWN:
        case POLICY_REL_CONSTITUENT:
            return true;
        case POLICY_REL_PARTNER:
            /* one hop: only what this node created, never relayed AMBER */
            return o->local && same_community(r, o);
        }
        return false;
    case POLICY_TLP_AMBER_STRICT:
        switch (r->relation) {
        case POLICY_REL_OWN:
            return true;
        case POLICY_REL_CONSTITUENT:
            return false;
        case POLICY_REL_PARTNER:
            return o->local && same_community(r, o);
        }
        return false;
    case POLICY_TLP_RED:
        /* the relation gives nothing: creator and named recipients only */
        return is_recipient(r, o);
    }
    return false; /* an out-of-range level denies */
}

bool policy_may_delete(const struct policy_reader *r, const struct policy_object *o)
{
    if (!policy_may_read(r, o) || r->anonymous || r->org_id <= 0)
        return false;
    return r->relation == POLICY_REL_OWN || (o->creator_org > 0 && o->creator_org == r->org_id);
}

bool policy_origin_local(enum policy_relation writer, bool from_peer)
{
    if (from_peer)
        return false;
    return writer == POLICY_REL_OWN || writer == POLICY_REL_CONSTITUENT;
}

bool policy_tlp_of_marking(const char *id, size_t len, enum policy_tlp *ret)
{
    /* Case-insensitive: RFC 4122 UUIDs are, and the validator accepts an
     * upper-case one. An exact match would read an upper-case RED id as
     * "no TLP marking", i.e. the GREEN default: a downgrade. */
    for (size_t i = 0; i < sizeof(markings) / sizeof(markings[0]); i++) {
        if (mrd_str_eq_nocase(id, len, markings[i].id, strlen(markings[i].id))) {
            *ret = markings[i].tlp;
            return true;
        }
    }
    return false;
}

/* Raises *level to the TLP named by ref when ref is a TLP marking id. */
static void raise_by_ref(const json_t *ref, bool *found, enum policy_tlp *level)
{
    enum policy_tlp t;

    if (!json_is_string(ref))
        return;
    if (!policy_tlp_of_marking(json_string_value(ref), json_string_length(ref), &t))
        return;
    if (!*found || t > *level)
        *level = t;
    *found = true;
}

enum policy_tlp policy_tlp_of_object(const json_t *obj, enum policy_tlp dflt)
{
    enum policy_tlp level = POLICY_TLP_CLEAR;
    bool found = false;
    const json_t *refs;
    const json_t *gm;
    const json_t *v;
    size_t i;

    if (!json_is_object(obj))
        return dflt;
    refs = json_object_get(obj, "object_marking_refs");
    if (json_is_array(refs))
        json_array_foreach(refs, i, v) raise_by_ref(v, &found, &level);
    /* A granular TLP marking on any part of the object makes the whole
     * object at least that restrictive: we do not redact parts, so the
     * safe reading is the maximum. */
    gm = json_object_get(obj, "granular_markings");
    if (json_is_array(gm))
        json_array_foreach(gm, i, v)
            raise_by_ref(json_object_get(v, "marking_ref"), &found, &level);
    return found ? level : dflt;
}

void policy_tlp_ingest(const json_t *obj, bool created_here, bool may_change, enum policy_tlp dflt,
                       enum policy_tlp *ret_tlp, bool *ret_write)
{
    const json_t *type = json_object_get(obj, "type");
    enum policy_tlp level;

    /* Marked exactly when the default does not decide: probe with two. */
    level = policy_tlp_of_object(obj, POLICY_TLP_CLEAR);
    if (level != POLICY_TLP_CLEAR || policy_tlp_of_object(obj, POLICY_TLP_RED) != POLICY_TLP_RED) {
        *ret_tlp = level;
        *ret_write = false;
        return;
    }
    /* Unmarked: the default for what we create, never below GREEN for what
     * we receive (a peer's default is not ours to open up). */
    level = dflt;
    if (!created_here && level < POLICY_TLP_GREEN)
        level = POLICY_TLP_GREEN;
    *ret_tlp = level;
    *ret_write = may_change && !(json_is_string(type) &&
                                 strcmp(json_string_value(type), "marking-definition") == 0);
}

const char *policy_tlp2_id(enum policy_tlp level)
{
    static const char *const ids[POLICY_TLP_COUNT] = {
        POLICY_TLP2_CLEAR_ID, POLICY_TLP2_GREEN_ID, POLICY_TLP2_AMBER_ID,
        POLICY_TLP2_AMBER_STRICT_ID, POLICY_TLP2_RED_ID};

    return (unsigned)level < POLICY_TLP_COUNT ? ids[level] : NULL;
}

enum mrd_code policy_tlp_mark(json_t *obj, enum policy_tlp level, struct mrd_err *err)
{
    json_t *refs, *id;

    if ((unsigned)level >= POLICY_TLP_COUNT || !json_is_object(obj))
        return mrd_err_set(err, MRD_E_INVAL, "policy: cannot mark a non-object");
    id = json_string(policy_tlp2_id(level));
    if (id == NULL)
        return mrd_err_set(err, MRD_E_NOMEM, "policy: out of memory marking an object");
    refs = json_object_get(obj, "object_marking_refs");
    if (json_is_array(refs)) {
        if (json_array_append_new(refs, id) != 0)
            return mrd_err_set(err, MRD_E_NOMEM, "policy: out of memory marking an object");
        return MRD_OK;
    }
    /* jansson's _new setters take the reference even when they fail. */
    refs = json_array();
    if (refs == NULL) {
        json_decref(id);
        return mrd_err_set(err, MRD_E_NOMEM, "policy: out of memory marking an object");
    }
    if (json_array_append_new(refs, id) != 0) {
        json_decref(refs);
        return mrd_err_set(err, MRD_E_NOMEM, "policy: out of memory marking an object");
    }
    if (json_object_set_new(obj, "object_marking_refs", refs) != 0)
        return mrd_err_set(err, MRD_E_NOMEM, "policy: out of memory marking an object");
    return MRD_OK;
}

bool policy_read_audited(const struct policy_object *o)
{
    return o->tlp != POLICY_TLP_CLEAR && o->tlp != POLICY_TLP_GREEN;
}

const char *policy_tlp_name(enum policy_tlp tlp)
{
    if ((unsigned)tlp >= POLICY_TLP_COUNT)
        return "unknown";
    return tlp_names[tlp];
}

enum mrd_code policy_tlp_parse(const char *s, size_t len, enum policy_tlp *ret, struct mrd_err *err)
{
    for (unsigned i = 0; i < POLICY_TLP_COUNT; i++) {
        if (mrd_str_eq_nocase(s, len, tlp_names[i], strlen(tlp_names[i]))) {
            *ret = (enum policy_tlp)i;
            return MRD_OK;
        }
    }
    if (mrd_str_eq_nocase(s, len, "white", 5)) {
        *ret = POLICY_TLP_CLEAR;
        return MRD_OK;
    }
    if (mrd_str_eq_nocase(s, len, "amber-strict", 12)) {
        *ret = POLICY_TLP_AMBER_STRICT;
        return MRD_OK;
    }
    return mrd_err_set(err, MRD_E_INVAL,
                       "unknown TLP level '%.*s' (clear, green, amber, amber+strict, red)",
                       (int)(len > 64 ? 64 : len), s);
}

const char *policy_relation_name(enum policy_relation rel)
{
    switch (rel) {
    case POLICY_REL_OWN:
        return "own";
    case POLICY_REL_CONSTITUENT:
        return "constituent";
    case POLICY_REL_PARTNER:
        return "partner";
    }
    return "unknown";
}

enum mrd_code policy_relation_parse(const char *s, size_t len, enum policy_relation *ret,
                                    struct mrd_err *err)
{
    static const enum policy_relation all[] = {POLICY_REL_OWN, POLICY_REL_CONSTITUENT,
                                               POLICY_REL_PARTNER};

    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
        if (mrd_str_eq(s, len, policy_relation_name(all[i]))) {
            *ret = all[i];
            return MRD_OK;
        }
    }
    return mrd_err_set(err, MRD_E_INVAL, "unknown relation '%.*s' (own, constituent, partner)",
                       (int)(len > 64 ? 64 : len), s);
}
