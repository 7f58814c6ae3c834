/*
 * scoid: deterministic SCO identifiers (STIX 2.1 §2.9).
 *
 * An SCO's id SHOULD be "<type>--" + UUIDv5(namespace 00abedb4-...,
 * RFC 8785 form of an object holding its ID contributing properties). The
 * recipe is a SHOULD, so a mismatch is a warning. Producers disagree about
 * `hashes`: some keep the whole dictionary, others (the OASIS python
 * library) keep one hash chosen by preference; an id that matches any of
 * those readings is accepted, so only ids that no reading explains are
 * reported.
 */
#include <string.h>

#include "core/buf.h"
#include "core/uuid.h"
#include "stix/stix_int.h"

/* Largest canonical name we hash; SCOs with bigger contributing values
 * (e.g. a huge email body) are skipped rather than buffered. */
#define SCOID_MAX_NAME ((size_t)1024 * 1024)

struct idprops {
    const char *type;
    const char *props[9];
};

/* The "ID Contributing Properties" of each SCO type in §6. */
static const struct idprops idprops[] = {
    {"artifact", {"hashes", "payload_bin", NULL}},
    {"autonomous-system", {"number", NULL}},
    {"directory", {"path", NULL}},
    {"domain-name", {"value", NULL}},
    {"email-addr", {"value", NULL}},
    {"email-message", {"from_ref", "subject", "body", NULL}},
    {"file", {"hashes", "name", "extensions", "parent_directory_ref", NULL}},
    {"ipv4-addr", {"value", NULL}},
    {"ipv6-addr", {"value", NULL}},
    {"mac-addr", {"value", NULL}},
    {"mutex", {"name", NULL}},
    {"network-traffic",
     {"start", "end", "src_ref", "dst_ref", "src_port", "dst_port", "protocols", "extensions",
      NULL}},
    {"software", {"name", "cpe", "swid", "vendor", "version", NULL}},
    {"url", {"value", NULL}},
    {"user-account", {"account_type", "user_id", "account_login", NULL}},
    {"windows-registry-key", {"key", "values", NULL}},
    {"x509-certificate", {"hashes", "serial_number", NULL}},
};

static const struct idprops *find(const char *type)
{
    for (size_t i = 0; i < sizeof(idprops) / sizeof(idprops[0]); i++)
        if (strcmp(idprops[i].type, type) == 0)
            return &idprops[i];
    return NULL;
}

/* Does v5(JCS(name)) equal uuid (36 chars, any case)? */
static enum mrd_code matches(const json_t *name, const char *uuid, bool *ret)
{
    struct mrd_buf b;
    char out[MRD_UUID_STR_LEN + 1];
    enum mrd_code rc;

    mrd_buf_init(&b, SCOID_MAX_NAME);
    rc = mrd_jcs_write(name, &b, NULL);
    if (rc == MRD_OK)
        rc = mrd_uuid_v5(MRD_UUID_STIX_NAMESPACE, b.data != NULL ? b.data : "", b.len, out, NULL);
    if (rc == MRD_OK) {
        *ret = true;
        for (size_t i = 0; i < MRD_UUID_STR_LEN && *ret; i++) {
            char a = uuid[i];
            if (a >= 'A' && a <= 'F')
                a = (char)(a - 'A' + 'a');
            *ret = a == out[i];
        }
    }
    mrd_buf_release(&b);
    return rc;
}

void stix__check_sco_id(struct stix_ctx *c, const json_t *obj, const char *type)
{
    const struct idprops *ip = find(type);
    const json_t *idv = json_object_get(obj, "id");
    const json_t *hashes;
    json_t *name = NULL;
    json_t *one = NULL;
    const char *id;
    const char *uuid;
    bool ok = false;
    bool any = false;
    enum mrd_code rc = MRD_OK;

    if (ip == NULL || !json_is_string(idv))
        return;
    id = json_string_value(idv);
    uuid = strstr(id, "--");
    if (uuid == NULL || strlen(uuid + 2) != MRD_UUID_STR_LEN)
        return; /* malformed ids are reported elsewhere */
    uuid += 2;
    name = json_object();
    if (name == NULL) {
        c->rc = MRD_E_NOMEM;
        return;
    }
    for (size_t i = 0; ip->props[i] != NULL; i++) {
        json_t *v = json_object_get(obj, ip->props[i]);
        if (v == NULL)
            continue;
        any = true;
        if (json_object_set(name, ip->props[i], v) != 0) {
            rc = MRD_E_NOMEM;
            goto out;
        }
    }
    if (!any)
        goto out; /* §2.9: no contributing property, so UUIDv4 is right */
    rc = matches(name, uuid, &ok);
    hashes = json_object_get(obj, "hashes");
    /* Readings that keep a single hash (whichever a producer preferred). */
    if (rc == MRD_OK && !ok && json_is_object(hashes) && json_object_size(hashes) > 1) {
        const char *k;
        json_t *hv;
        json_object_foreach(stix__mut(hashes), k, hv)
        {
            json_decref(one);
            one = json_pack("{s:O}", k, hv);
            if (one == NULL || json_object_set(name, "hashes", one) != 0) {
                rc = MRD_E_NOMEM;
                goto out;
            }
            rc = matches(name, uuid, &ok);
            if (rc != MRD_OK || ok)
                break;
        }
    }
out:
    if (rc == MRD_E_NOMEM)
        c->rc = MRD_E_NOMEM;
    else if (rc == MRD_OK && any && !ok)
        stix__warn_at(c, "id", "sco-id-deterministic", "STIX 2.1 §2.9",
                      "the id is not the UUIDv5 of this %s's ID contributing properties "
                      "(RFC 8785 form, namespace " MRD_UUID_STIX_NAMESPACE ")",
                      type);
    json_decref(one);
    json_decref(name);
}
