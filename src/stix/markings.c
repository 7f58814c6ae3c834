/*
 * markings: marking-definition objects (STIX 2.1 §7.2.1), the canonical
 * TLP 1.0 (§7.2.1.4) and TLP 2.0 (OASIS common-objects extension) objects,
 * and granular markings with their selectors (§7.2.3).
 *
 * TLP markings are compared with fixed tables rather than "looks like TLP"
 * heuristics: a TLP marking that differs from the published object in any
 * property is exactly the kind of forgery or mistake that breaks sharing
 * rules downstream, so it is an error, not a warning.
 */
#include <stdio.h>
#include <string.h>

#include "core/str.h"
#include "stix/stix_int.h"

struct tlp {
    const char *id;
    const char *level;
    const char *name;
};

static const struct tlp tlp1[] = {
    {"marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9", "white", "TLP:WHITE"},
    {"marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da", "green", "TLP:GREEN"},
    {"marking-definition--f88d31f6-486f-44da-b317-01333bde0b82", "amber", "TLP:AMBER"},
    {"marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed", "red", "TLP:RED"},
};

static const struct tlp tlp2[] = {
    {"marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487", "clear", "TLP:CLEAR"},
    {"marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb", "green", "TLP:GREEN"},
    {"marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421", "amber", "TLP:AMBER"},
    {"marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003", "amber+strict",
     "TLP:AMBER+STRICT"},
    {"marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1", "red", "TLP:RED"},
};

#define TLP2_EXT "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"
#define TLP1_CREATED "2017-01-20T00:00:00.000Z"
#define TLP2_CREATED "2022-10-01T00:00:00.000Z"

static const struct tlp *tlp_find(const struct tlp *t, size_t n, const char *id, size_t len)
{
    for (size_t i = 0; i < n; i++)
        if (mrd_str_eq(id, len, t[i].id))
            return &t[i];
    return NULL;
}

int stix__tlp_version(const char *id, size_t n)
{
    if (tlp_find(tlp1, 4, id, n) != NULL)
        return 1;
    if (tlp_find(tlp2, 5, id, n) != NULL)
        return 2;
    return 0;
}

static bool str_is(const json_t *v, const char *s)
{
    return json_is_string(v) && mrd_str_eq(json_string_value(v), json_string_length(v), s);
}

/* created equal to the canonical instant (any precision spelling). */
static bool created_is(const json_t *obj, const char *want)
{
    const json_t *v = json_object_get(obj, "created");
    struct mrd_time a;
    struct mrd_time b;

    if (!json_is_string(v) ||
        mrd_time_parse(json_string_value(v), json_string_length(v), &a, NULL) != MRD_OK)
        return false;
    (void)mrd_time_parse(want, strlen(want), &b, NULL);
    return mrd_time_cmp(&a, &b) == 0;
}

static void only_keys(struct stix_ctx *c, const json_t *obj, const char *const *allowed,
                      const char *rule, const char *section, const char *what)
{
    const char *k;
    json_t *v;

    json_object_foreach(stix__mut(obj), k, v)
    {
        if (!stix__in_vocab(allowed, k))
            stix__error_at(c, k, rule, section,
                           "the canonical %s marking definition has no '%s' property", what, k);
    }
}

static void check_tlp1(struct stix_ctx *c, const json_t *obj, const struct tlp *t)
{
    static const char *const keys[] = {"type", "spec_version", "id", "created", "definition_type",
                                       "name", "definition",   NULL};
    const json_t *def = json_object_get(obj, "definition");
    const json_t *name = json_object_get(obj, "name");

    if (!str_is(json_object_get(obj, "definition_type"), "tlp"))
        stix__error_at(c, "definition_type", "tlp-canonical", SEC_TLP1,
                       "the TLP 1.0 marking %s must have definition_type \"tlp\"", t->name);
    if (!json_is_object(def) || json_object_size(def) != 1 ||
        !str_is(json_object_get(def, "tlp"), t->level))
        stix__error_at(c, "definition", "tlp-canonical", SEC_TLP1,
                       "the TLP 1.0 marking %s must have definition {\"tlp\": \"%s\"}", t->name,
                       t->level);
    if (!created_is(obj, TLP1_CREATED))
        stix__error_at(c, "created", "tlp-canonical", SEC_TLP1,
                       "the TLP 1.0 marking %s was created " TLP1_CREATED, t->name);
    if (name == NULL)
        stix__warn(c, "tlp-canonical", SEC_TLP1,
                   "the canonical TLP 1.0 marking %s has \"name\": \"%s\"", t->name, t->name);
    else if (!str_is(name, t->name))
        stix__error_at(c, "name", "tlp-canonical", SEC_TLP1, "the name of this marking is \"%s\"",
                       t->name);
    only_keys(c, obj, keys, "tlp-canonical", SEC_TLP1, "TLP 1.0");
}

static void check_tlp2(struct stix_ctx *c, const json_t *obj, const struct tlp *t)
{
    static const char *const keys[] = {"type", "spec_version", "id", "created",
                                       "name", "extensions",   NULL};
    const json_t *exts = json_object_get(obj, "extensions");
    const json_t *e = json_object_get(exts, TLP2_EXT);

    if (!json_is_object(exts) || json_object_size(exts) != 1 || !json_is_object(e) ||
        json_object_size(e) != 2 ||
        !str_is(json_object_get(e, "extension_type"), "property-extension") ||
        !str_is(json_object_get(e, "tlp_2_0"), t->level))
        stix__error_at(c, "extensions", "tlp-canonical", SEC_TLP2,
                       "the TLP 2.0 marking %s has exactly {\"" TLP2_EXT
                       "\": {\"extension_type\": \"property-extension\", \"tlp_2_0\": \"%s\"}}",
                       t->name, t->level);
    if (!created_is(obj, TLP2_CREATED))
        stix__error_at(c, "created", "tlp-canonical", SEC_TLP2,
                       "the TLP 2.0 marking %s was created " TLP2_CREATED, t->name);
    if (!str_is(json_object_get(obj, "name"), t->name))
        stix__error_at(c, "name", "tlp-canonical", SEC_TLP2,
                       "the TLP 2.0 marking needs \"name\": \"%s\"", t->name);
    only_keys(c, obj, keys, "tlp-canonical", SEC_TLP2, "TLP 2.0");
}

void stix__check_marking_definition(struct stix_ctx *c, const json_t *obj)
{
    const json_t *idv = json_object_get(obj, "id");
    const json_t *dt = json_object_get(obj, "definition_type");
    const json_t *def = json_object_get(obj, "definition");
    const json_t *exts = json_object_get(obj, "extensions");
    const json_t *omr = json_object_get(obj, "object_marking_refs");
    const json_t *gm = json_object_get(obj, "granular_markings");
    const char *id = json_string_value(idv);
    size_t idn = json_string_length(idv);
    const struct tlp *t1 = id != NULL ? tlp_find(tlp1, 4, id, idn) : NULL;
    const struct tlp *t2 = id != NULL ? tlp_find(tlp2, 5, id, idn) : NULL;

    if ((dt != NULL) != (def != NULL))
        stix__error(c, "marking-definition", "STIX 2.1 §7.2.1",
                    "'definition_type' and 'definition' must appear together");
    else if (dt == NULL && exts == NULL)
        stix__error(c, "marking-definition", "STIX 2.1 §7.2.1",
                    "a marking definition needs 'definition_type' and 'definition', or "
                    "'extensions'");
    if (def != NULL && !json_is_object(def))
        stix__error_at(c, "definition", "property-type", "STIX 2.1 §7.2.1",
                       "'definition' must be an object");
    if (json_is_string(dt)) {
        const char *s = json_string_value(dt);
        if (strcmp(s, "statement") == 0) {
            if (json_is_object(def) && !json_is_string(json_object_get(def, "statement")))
                stix__error_at(c, "definition", "statement-marking", "STIX 2.1 §7.2.1.3",
                               "a statement marking needs a string 'statement'");
        } else if (strcmp(s, "tlp") == 0) {
            if (t1 == NULL)
                stix__error(c, "tlp-canonical", SEC_TLP1,
                            "only the four TLP 1.0 marking definitions of §7.2.1.4 may have "
                            "definition_type \"tlp\"; reference one of them instead");
        } else {
            stix__warn_at(c, "definition_type", "marking-definition-type", "STIX 2.1 §7.2.1",
                          "'%.60s' is not a STIX definition type (statement, tlp)", s);
        }
    }
    if (t1 != NULL)
        check_tlp1(c, obj, t1);
    if (t2 != NULL)
        check_tlp2(c, obj, t2);
    else if (json_is_object(exts) && json_object_get(exts, TLP2_EXT) != NULL)
        stix__error_at(c, "id", "tlp-canonical", SEC_TLP2,
                       "only the five TLP 2.0 marking definitions may use the TLP 2.0 extension; "
                       "reference one of them instead");

    /* §7.2.2 / §7.2.3: a marking definition must not mark itself. */
    for (size_t i = 0; id != NULL && i < json_array_size(omr); i++) {
        if (str_is(json_array_get(omr, i), id)) {
            stix__push_key(c, "object_marking_refs");
            stix__push_index(c, i);
            stix__error(c, "marking-self-reference", "STIX 2.1 §7.2.2",
                        "a marking definition must not mark itself");
            stix__pop(c);
            stix__pop(c);
        }
    }
    for (size_t i = 0; id != NULL && i < json_array_size(gm); i++) {
        if (str_is(json_object_get(json_array_get(gm, i), "marking_ref"), id)) {
            stix__push_key(c, "granular_markings");
            stix__push_index(c, i);
            stix__error_at(c, "marking_ref", "marking-self-reference", "STIX 2.1 §7.2.3",
                           "a marking definition must not mark itself");
            stix__pop(c);
            stix__pop(c);
        }
    }
}

/* ---- granular markings ---- */

/* Resolves selector (s, n) against obj (§7.2.3.1): '.'-separated property
 * names, dictionary keys and [N] list indices. On failure *why says which
 * step broke. */
static bool selector_resolves(const json_t *obj, const char *s, size_t n, char *why, size_t whysize)
{
    const json_t *cur = obj;
    size_t i = 0;

    if (n == 0) {
        (void)mrd_strlcpy(why, "the selector is empty", whysize);
        return false;
    }
    while (i <= n) {
        size_t j = i;
        while (j < n && s[j] != '.')
            j++;
        if (j == i) {
            (void)mrd_strlcpy(why, "it has an empty component", whysize);
            return false;
        }
        if (s[i] == '[' && s[j - 1] == ']' && j - i > 2) {
            uint64_t idx;
            if (mrd_str_to_u64(s + i + 1, j - i - 2, UINT32_MAX, &idx, NULL) != MRD_OK) {
                snprintf(why, whysize, "'%.*s' is not a list index [N]", (int)(j - i), s + i);
                return false;
            }
            if (!json_is_array(cur)) {
                snprintf(why, whysize, "'%.*s' indexes something that is not a list", (int)(j - i),
                         s + i);
                return false;
            }
            if (idx >= json_array_size(cur)) {
                snprintf(why, whysize, "index %llu is past the end of a list of %zu",
                         (unsigned long long)idx, json_array_size(cur));
                return false;
            }
            cur = json_array_get(cur, (size_t)idx);
        } else {
            const json_t *next;
            char key[256];
            if (!json_is_object(cur)) {
                snprintf(why, whysize,
                         "'%.*s' names a property of something that is not an "
                         "object",
                         (int)(j - i > 60 ? 60 : j - i), s + i);
                return false;
            }
            if (j - i >= sizeof(key)) {
                (void)mrd_strlcpy(why, "a component is too long", whysize);
                return false;
            }
            memcpy(key, s + i, j - i);
            key[j - i] = '\0';
            next = json_object_get(cur, key);
            if (next == NULL) {
                snprintf(why, whysize, "there is no '%.60s' here", key);
                return false;
            }
            cur = next;
        }
        i = j + 1;
    }
    return true;
}

void stix__check_granular(struct stix_ctx *c, const json_t *obj, const json_t *list)
{
    if (!json_is_array(list)) {
        stix__error(c, "property-type", SEC_GRANULAR, "must be a list of granular markings");
        return;
    }
    for (size_t i = 0; i < json_array_size(list); i++) {
        const json_t *g = json_array_get(list, i);
        const json_t *sel;
        const json_t *mref;
        const json_t *lang;
        stix__push_index(c, i);
        if (!json_is_object(g)) {
            stix__error(c, "property-type", SEC_GRANULAR, "a granular marking must be an object");
            stix__pop(c);
            continue;
        }
        sel = json_object_get(g, "selectors");
        mref = json_object_get(g, "marking_ref");
        lang = json_object_get(g, "lang");
        if ((mref != NULL) == (lang != NULL))
            stix__error(c, "granular-marking", "STIX 2.1 §7.2.3.1",
                        "a granular marking needs exactly one of 'marking_ref' or 'lang'");
        if (mref != NULL) {
            stix__push_key(c, "marking_ref");
            stix__check_ref(c, mref, "marking-definition", "STIX 2.1 §7.2.3.1");
            stix__pop(c);
        }
        if (lang != NULL && (!json_is_string(lang) ||
                             !stix__lang_tag_ok(json_string_value(lang), json_string_length(lang))))
            stix__error_at(c, "lang", "language-tag", "STIX 2.1 §7.2.3.1",
                           "must be an RFC 5646 language tag");
        if (sel == NULL) {
            stix__error(c, "required-property", "STIX 2.1 §7.2.3.1",
                        "a granular marking needs 'selectors'");
        } else if (!json_is_array(sel) || json_array_size(sel) == 0) {
            stix__error_at(c, "selectors", "property-type", "STIX 2.1 §7.2.3.1",
                           "'selectors' must be a non-empty list of strings");
        } else {
            stix__push_key(c, "selectors");
            for (size_t j = 0; j < json_array_size(sel); j++) {
                const json_t *s = json_array_get(sel, j);
                char why[128];
                stix__push_index(c, j);
                if (!json_is_string(s))
                    stix__error(c, "property-type", "STIX 2.1 §7.2.3.1",
                                "a selector must be a string");
                else if (!selector_resolves(obj, json_string_value(s), json_string_length(s), why,
                                            sizeof(why)))
                    stix__error(c, "selector-unresolved", "STIX 2.1 §7.2.3.1",
                                "selector '%.80s' does not resolve within the object: %s",
                                json_string_value(s), why);
                stix__pop(c);
            }
            stix__pop(c);
        }
        stix__pop(c);
    }
}
