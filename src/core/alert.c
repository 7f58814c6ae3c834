/*
 * alert.c: sensor alerts as STIX 2.1 objects (core/alert.h). Shared by
 * src/bgp/alert.c and src/dns/alert.c so that both sensors' alerts have
 * one shape.
 */
#include <stdio.h>
#include <string.h>

#include "core/alert.h"
#include "core/buf.h"
#include "core/json.h"
#include "core/timestamp.h"
#include "core/uuid.h"

static enum mrd_code append(json_t *objects, json_t *o, struct mrd_err *err)
{
    if (o == NULL || json_array_append_new(objects, o) != 0)
        return mrd_err_set(err, MRD_E_NOMEM, "alert: out of memory");
    return MRD_OK;
}

enum mrd_code mrd_alert_definitions(const struct mrd_alert_sensor *s, json_t *objects,
                                    struct mrd_err *err)
{
    enum mrd_code rc;
    json_t *ident = json_pack(
        "{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "type", "identity", "spec_version", "2.1", "id",
        s->identity_id, "created", MRD_ALERT_DEFS_TIME, "modified", MRD_ALERT_DEFS_TIME, "name",
        s->identity_name, "identity_class", "system", "description", s->identity_description);
    rc = append(objects, ident, err);
    if (rc != MRD_OK)
        return rc;
    return append(objects,
                  json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:[s]}", "type",
                            "extension-definition", "spec_version", "2.1", "id", s->ext_id,
                            "created_by_ref", s->identity_id, "created", MRD_ALERT_DEFS_TIME,
                            "modified",
                            s->ext_modified != NULL ? s->ext_modified : MRD_ALERT_DEFS_TIME, "name",
                            s->ext_name, "description", s->ext_description, "schema", s->ext_schema,
                            "version", s->ext_version != NULL ? s->ext_version : "1.0",
                            "extension_types", "property-extension"),
                  err);
}

enum mrd_code mrd_alert_sco(json_t *objects, json_t *seen, const char *type, const char *prop,
                            json_t *value, json_t *refs, struct mrd_err *err)
{
    char uuid[MRD_UUID_STR_LEN + 1], id[128];
    struct mrd_buf b;
    json_t *contrib = json_object(), *o;
    enum mrd_code rc;

    mrd_buf_init(&b, 4096);
    if (value == NULL || contrib == NULL || json_object_set(contrib, prop, value) != 0) {
        rc = mrd_err_set(err, MRD_E_NOMEM, "alert: out of memory");
        goto out;
    }
    rc = mrd_jcs_write(contrib, &b, err);
    if (rc == MRD_OK)
        rc = mrd_uuid_v5(MRD_UUID_STIX_NAMESPACE, b.data, b.len, uuid, err);
    if (rc != MRD_OK)
        goto out;
    (void)snprintf(id, sizeof(id), "%s--%s", type, uuid);
    for (size_t i = 0; i < json_array_size(refs); i++) {
        if (strcmp(json_string_value(json_array_get(refs, i)), id) == 0)
            goto out; /* e.g. the hijacker is the origin */
    }
    if (json_array_append_new(refs, json_string(id)) != 0) {
        rc = mrd_err_set(err, MRD_E_NOMEM, "alert: out of memory");
        goto out;
    }
    if (json_object_get(seen, id) != NULL)
        goto out;
    o = json_pack("{s:s, s:s, s:s, s:O}", "type", type, "spec_version", "2.1", "id", id, prop,
                  value);
    rc = append(objects, o, err);
    if (rc == MRD_OK && json_object_set_new(seen, id, json_true()) != 0)
        rc = mrd_err_set(err, MRD_E_NOMEM, "alert: out of memory");
out:
    json_decref(contrib);
    json_decref(value);
    mrd_buf_release(&b);
    return rc;
}

enum mrd_code mrd_alert_observed(const struct mrd_alert_sensor *s, json_t *objects,
                                 const char *uuid, int64_t first_usec, int64_t last_usec,
                                 int64_t number, const json_t *refs, const json_t *ext,
                                 struct mrd_err *err)
{
    char id[64], first[MRD_TIME_STIX_MS_LEN + 1], last[MRD_TIME_STIX_MS_LEN + 1];
    json_t *j = json_deep_copy(ext), *od;
    enum mrd_code rc;

    if (j == NULL || json_object_set_new(j, "extension_type", json_string("property-extension"))) {
        json_decref(j);
        return mrd_err_set(err, MRD_E_NOMEM, "alert: out of memory");
    }
    mrd_time_format_stix_ms(first_usec, first);
    mrd_time_format_stix_ms(last_usec, last);
    (void)snprintf(id, sizeof(id), "observed-data--%s", uuid);
    od = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:O, s:{s:O}}", "type",
                   "observed-data", "spec_version", "2.1", "id", id, "created_by_ref",
                   s->identity_id, "created", first, "modified", last, "first_observed", first,
                   "last_observed", last, "number_observed", (json_int_t)number, "object_refs",
                   refs, "extensions", s->ext_id, j);
    rc = append(objects, od, err);
    json_decref(j);
    return rc;
}
