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
    {"process", {NULL}}, /* §6.13: none, so its id is always a UUIDv4 */
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

/* Compares the UUIDv5 of the canonical name in b with uuid (36 chars, any
 * case). */
static enum mrd_code matches(const struct mrd_buf *b, const char *uuid, bool *ret)
{
    char out[MRD_UUID_STR_LEN + 1];
    enum mrd_code rc;

    rc = mrd_uuid_v5(MRD_UUID_STIX_NAMESPACE, b->data != NULL ? b->data : "", b->len, out, NULL);
    if (rc != MRD_OK)
        return rc;
    *ret = true;
    for (size_t i = 0; i < MRD_UUID_STR_LEN && *ret; i++) {
        char a = uuid[i];
        if (a >= 'A' && a <= 'F')
            a = (char)(a - 'A' + 'a');
        *ret = a == out[i];
    }
    return MRD_OK;
}

/* Writes the RFC 8785 form of {name: obj[name] for the n names} into b.
 * The names are ASCII, so sorting them with strcmp is the UTF-16 order JCS
 * wants; writing the object by hand saves building a jansson object per SCO
 * (the id check is on the validator's hot path for bundles full of SCOs).
 * When hkey is set, "hashes" is written as {hkey: hval} instead. */
static enum mrd_code canon(struct mrd_buf *b, const json_t *obj, const char *const *names, size_t n,
                           const char *hkey, const json_t *hval)
{
    enum mrd_code rc = MRD_OK;

    mrd_buf_reset(b);
    rc = mrd_buf_putc(b, '{', NULL);
    for (size_t i = 0; i < n && rc == MRD_OK; i++) {
        if (i > 0)
            rc = mrd_buf_putc(b, ',', NULL);
        if (rc == MRD_OK)
            rc = mrd_buf_printf(b, NULL, "\"%s\":", names[i]);
        if (rc != MRD_OK)
            break;
        if (hkey != NULL && strcmp(names[i], "hashes") == 0) {
            json_t *k = json_string(hkey);
            rc = k == NULL ? MRD_E_NOMEM : mrd_buf_putc(b, '{', NULL);
            if (rc == MRD_OK)
                rc = mrd_jcs_write(k, b, NULL);
            if (rc == MRD_OK)
                rc = mrd_buf_putc(b, ':', NULL);
            if (rc == MRD_OK)
                rc = mrd_jcs_write(hval, b, NULL);
            if (rc == MRD_OK)
                rc = mrd_buf_putc(b, '}', NULL);
            json_decref(k);
        } else {
            rc = mrd_jcs_write(json_object_get(obj, names[i]), b, NULL);
        }
    }
    if (rc == MRD_OK)
        rc = mrd_buf_putc(b, '}', NULL);
    return rc;
}

void stix__check_sco_id(struct stix_ctx *c, const json_t *obj, const char *type)
{
    const struct idprops *ip = find(type);
    const json_t *idv = json_object_get(obj, "id");
    const json_t *hashes;
    const char *names[9];
    size_t n = 0;
    const char *id;
    const char *uuid;
    bool ok = false;
    enum mrd_code rc = MRD_OK;

    if (ip == NULL || !json_is_string(idv))
        return;
    id = json_string_value(idv);
    uuid = strstr(id, "--");
    if (uuid == NULL || strlen(uuid + 2) != MRD_UUID_STR_LEN)
        return; /* malformed ids are reported elsewhere */
    uuid += 2;
    /* The contributing properties present, sorted (insertion sort of <= 8). */
    for (size_t i = 0; ip->props[i] != NULL; i++) {
        size_t j;
        if (json_object_get(obj, ip->props[i]) == NULL)
            continue;
        for (j = n; j > 0 && strcmp(names[j - 1], ip->props[i]) > 0; j--)
            names[j] = names[j - 1];
        names[j] = ip->props[i];
        n++;
    }
    if (n == 0) {
        /* §2.9: without ID contributing properties a UUIDv4 MUST be used.
         * A process has none at all, so its id is always v4: an error.
         * Where the type has some but this object carries none, the TC's
         * own examples (x509-certificate without hashes or serial_number)
         * use v5 ids, so that is reported as a warning only. */
        if (uuid[14] != '4' && ip->props[0] == NULL)
            stix__error_at(c, "id", "sco-id-uuid4", "STIX 2.1 §2.9",
                           "a %s has no ID contributing properties, so its id must be a UUIDv4, "
                           "not a version %c UUID",
                           type, uuid[14]);
        else if (uuid[14] != '4')
            stix__warn_at(c, "id", "sco-id-uuid4", "STIX 2.1 §2.9",
                          "this %s has none of its ID contributing properties, so its id should "
                          "be a UUIDv4, not a version %c UUID",
                          type, uuid[14]);
        return;
    }
    rc = canon(&c->scratch, obj, names, n, NULL, NULL);
    if (rc == MRD_OK)
        rc = matches(&c->scratch, uuid, &ok);
    hashes = json_object_get(obj, "hashes");
    /* Readings that keep a single hash (whichever a producer preferred). */
    if (rc == MRD_OK && !ok && json_is_object(hashes) && json_object_size(hashes) > 1) {
        const char *k;
        json_t *hv;
        json_object_foreach(stix__mut(hashes), k, hv)
        {
            rc = canon(&c->scratch, obj, names, n, k, hv);
            if (rc == MRD_OK)
                rc = matches(&c->scratch, uuid, &ok);
            if (rc != MRD_OK || ok)
                break;
        }
    }
    if (rc == MRD_E_NOMEM)
        c->rc = MRD_E_NOMEM;
    else if (rc == MRD_OK && !ok)
        stix__warn_at(c, "id", "sco-id-deterministic", "STIX 2.1 §2.9",
                      "the id is not the UUIDv5 of this %s's ID contributing properties "
                      "(RFC 8785 form, namespace " MRD_UUID_STIX_NAMESPACE ")",
                      type);
}
