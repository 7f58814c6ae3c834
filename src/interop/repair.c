/*
 * repair: the well-known defects of real public STIX 2.1 that make whole
 * objects invalid, fixed by dropping or normalising what carries no
 * information (interop.h, docs/interop.md). Found in MITRE ATT&CK's
 * published bundles (tests/data/attack/):
 *  - empty lists ("external_references": [], "x_mitre_contributors": [],
 *    "object_marking_refs": []): STIX 2.1 §2 forbids them; an empty list
 *    says nothing an absent one does not, so it is dropped;
 *  - empty references ("x_mitre_data_source_ref": ""), and "" inside a
 *    _refs list: a reference to nothing, dropped;
 *  - timestamps to the second ("2017-06-01T00:00:00Z"): STIX 2.1 §3.2 wants
 *    milliseconds; ".000" is added (the same instant);
 *  - 'modified' before 'created': modified is set to created (the earliest
 *    time the object can have been in this state).
 * Every change is reported; nothing else is ever touched, and an object
 * still invalid after repair is rejected as usual. Pure.
 */
#include <stdio.h>
#include <string.h>

#include "core/str.h"
#include "core/timestamp.h"
#include "interop/interop_int.h"

#define REPAIR_MAX_DEPTH 16

static enum mrd_code note(struct mrd_buf *log, size_t *n, struct mrd_err *err, const char *what,
                          const char *where)
{
    (*n)++;
    if (log == NULL)
        return MRD_OK;
    return mrd_buf_printf(log, err, "%s%s '%s'", log->len > 0 ? "; " : "", what, where);
}

static bool ends_with(const char *k, const char *suffix)
{
    return mrd_str_has_suffix(k, strlen(k), suffix);
}

/* Drops empty lists and empty references inside o (depth-first). */
static enum mrd_code walk(json_t *o, const char *path, int depth, struct mrd_buf *log, size_t *n,
                          struct mrd_err *err)
{
    const char *k;
    json_t *v, *tmp;
    enum mrd_code rc = MRD_OK;

    if (depth > REPAIR_MAX_DEPTH)
        return MRD_OK;
    json_object_foreach_safe(o, tmp, k, v)
    {
        char sub[160];
        (void)snprintf(sub, sizeof(sub), "%s%s%s", path, path[0] != '\0' ? "." : "", k);
        if (json_is_array(v) && ends_with(k, "_refs")) {
            for (size_t i = json_array_size(v); rc == MRD_OK && i-- > 0;) {
                const json_t *e = json_array_get(v, i);
                if (json_is_string(e) && json_string_length(e) == 0) {
                    (void)json_array_remove(v, i);
                    rc = note(log, n, err, "removed an empty reference from", sub);
                }
            }
        }
        if (rc != MRD_OK)
            return rc;
        if (json_is_array(v) && json_array_size(v) == 0) {
            rc = note(log, n, err, "removed empty list", sub);
            (void)json_object_del(o, k);
        } else if (json_is_string(v) && json_string_length(v) == 0 && ends_with(k, "_ref")) {
            rc = note(log, n, err, "removed empty reference", sub);
            (void)json_object_del(o, k);
        } else if (json_is_object(v)) {
            rc = walk(v, sub, depth + 1, log, n, err);
        } else if (json_is_array(v)) {
            for (size_t i = 0; rc == MRD_OK && i < json_array_size(v); i++) {
                json_t *e = json_array_get(v, i);
                char el[176];
                (void)snprintf(el, sizeof(el), "%s[%zu]", sub, i);
                if (json_is_object(e))
                    rc = walk(e, el, depth + 1, log, n, err);
            }
        }
        if (rc != MRD_OK)
            return rc;
    }
    return MRD_OK;
}

/* "…T00:00:00Z" (no fraction) -> "…T00:00:00.000Z" for the timestamps of
 * the common properties. */
static enum mrd_code precision(json_t *o, struct mrd_buf *log, size_t *n, struct mrd_err *err)
{
    static const char *const keys[] = {"created",    "modified",  "valid_from", "valid_until",
                                       "first_seen", "last_seen", "published"};
    enum mrd_code rc = MRD_OK;

    for (size_t i = 0; rc == MRD_OK && i < sizeof(keys) / sizeof(keys[0]); i++) {
        const json_t *v = json_object_get(o, keys[i]);
        const char *s;
        size_t len;
        char fixed[40];
        struct mrd_time t;
        if (!json_is_string(v))
            continue;
        s = json_string_value(v);
        len = json_string_length(v);
        if (len != 20 || s[19] != 'Z' || s[10] != 'T' || memchr(s, '.', len) != NULL)
            continue;
        (void)snprintf(fixed, sizeof(fixed), "%.19s.000Z", s);
        if (mrd_time_parse(fixed, strlen(fixed), &t, NULL) != MRD_OK)
            continue;
        rc = note(log, n, err, "added milliseconds to", keys[i]);
        if (rc == MRD_OK && json_object_set_new(o, keys[i], json_string(fixed)) != 0)
            rc = mrd_err_set(err, MRD_E_NOMEM, "repair: out of memory");
    }
    return rc;
}

static enum mrd_code versions(json_t *o, struct mrd_buf *log, size_t *n, struct mrd_err *err)
{
    const json_t *c = json_object_get(o, "created"), *m = json_object_get(o, "modified");
    struct mrd_time tc, tm;

    if (!json_is_string(c) || !json_is_string(m) ||
        mrd_time_parse(json_string_value(c), json_string_length(c), &tc, NULL) != MRD_OK ||
        mrd_time_parse(json_string_value(m), json_string_length(m), &tm, NULL) != MRD_OK ||
        mrd_time_cmp(&tm, &tc) >= 0)
        return MRD_OK;
    if (json_object_set_new(o, "modified", json_string(json_string_value(c))) != 0)
        return mrd_err_set(err, MRD_E_NOMEM, "repair: out of memory");
    return note(log, n, err, "set 'modified' (before 'created') to", "created");
}

enum mrd_code interop_repair(json_t *obj, struct mrd_buf *log, size_t *ret_changes,
                             struct mrd_err *err)
{
    size_t n = 0;
    enum mrd_code rc;

    *ret_changes = 0;
    if (!json_is_object(obj))
        return MRD_OK;
    rc = walk(obj, "", 0, log, &n, err);
    if (rc == MRD_OK)
        rc = precision(obj, log, &n, err);
    if (rc == MRD_OK)
        rc = versions(obj, log, &n, err);
    *ret_changes = n;
    return rc;
}
