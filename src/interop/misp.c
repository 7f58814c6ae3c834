/*
 * misp: MISP events as STIX 2.1 objects (interop.h, docs/interop.md).
 *
 * Pure: a parsed MISP event in, STIX objects out. The MISP UUIDs become
 * the STIX ids (report--<event uuid>, indicator--<attribute uuid>,
 * <sdo type>--<galaxy cluster uuid>, sighting--<sighting uuid>, identity--
 * <Orgc uuid>) and every created/modified comes from a MISP timestamp, so
 * importing the same event twice gives the same (id, version) pairs and
 * stores nothing new. Observables (to_ids false) are SCOs with the STIX
 * deterministic ids (STIX 2.1 §2.9), which are just as stable.
 * What does not map (an attribute type without a STIX object path, a
 * galaxy of an unknown kind, a false-positive sighting) is counted, never
 * guessed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"
#include "core/json.h"
#include "core/str.h"
#include "core/timestamp.h"
#include "core/uuid.h"
#include "interop/interop_int.h"

/* TLP 2.0 ids by level (policy.h names them) */
static const char *const tlp2_ids[POLICY_TLP_COUNT] = {
    POLICY_TLP2_CLEAR_ID, POLICY_TLP2_GREEN_ID, POLICY_TLP2_AMBER_ID, POLICY_TLP2_AMBER_STRICT_ID,
    POLICY_TLP2_RED_ID};

struct conv {
    json_t *out;
    struct interop_misp_stats *st;
    struct mrd_err *err;
    const char *event_uuid;
    char created_by[64 + MRD_UUID_STR_LEN];
    json_t *refs;     /* the report's object_refs */
    json_t *markings; /* the event's markings (TLP, PAP) */
    json_t *labels;   /* the event's other tags */
    bool has_tlp;
    enum policy_tlp tlp;
    char event_time[MRD_TIME_STIX_MS_LEN + 1];
};

bool interop_misp_is_event(const json_t *doc)
{
    const json_t *resp;

    if (json_is_object(json_object_get(doc, "Event")))
        return true;
    resp = json_object_get(doc, "response");
    return json_is_array(resp) && json_array_size(resp) > 0 &&
           json_is_object(json_object_get(json_array_get(resp, 0), "Event"));
}

/* A MISP timestamp (epoch seconds, as a string or a number) as STIX text. */
static bool misp_time(const json_t *v, char out[MRD_TIME_STIX_MS_LEN + 1])
{
    uint64_t secs;

    if (json_is_integer(v) && json_integer_value(v) >= 0) {
        secs = (uint64_t)json_integer_value(v);
    } else if (!json_is_string(v) || mrd_str_to_u64(json_string_value(v), json_string_length(v),
                                                    32503680000ull, &secs, NULL) != MRD_OK) {
        return false;
    }
    mrd_time_format_stix_ms((int64_t)secs * 1000000, out);
    return true;
}

static const char *str(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

/* A MISP uuid as the uuid part of a STIX id (lower case, checked). */
static bool uuid_of(const json_t *o, char out[MRD_UUID_STR_LEN + 1])
{
    const char *u = str(o, "uuid");

    if (u == NULL || mrd_uuid_check(u, strlen(u), NULL, NULL) != MRD_OK)
        return false;
    for (size_t i = 0; i <= MRD_UUID_STR_LEN; i++)
        out[i] = (char)(u[i] >= 'A' && u[i] <= 'F' ? u[i] | 0x20 : u[i]);
    return true;
}

static enum mrd_code add(struct conv *c, json_t *obj)
{
    if (obj == NULL || json_array_append_new(c->out, obj) != 0)
        return mrd_err_set(c->err, MRD_E_NOMEM, "misp: out of memory");
    return MRD_OK;
}

/* "tlp:amber", "PAP:GREEN", other tags: markings, or labels. */
static enum mrd_code tag(struct conv *c, const char *name, json_t *markings, json_t *labels,
                         bool *has_tlp, enum policy_tlp *tlp)
{
    enum policy_tlp t;

    if (strncasecmp(name, "tlp:", 4) == 0) {
        if (policy_tlp_parse(name + 4, strlen(name + 4), &t, NULL) != MRD_OK)
            return MRD_OK; /* tlp:ex:chr and friends: not a level */
        if (!*has_tlp || t > *tlp)
            *tlp = t;
        *has_tlp = true;
        return MRD_OK;
    }
    if (strncasecmp(name, "pap:", 4) == 0) {
        /* PAP has no STIX marking of its own: a statement marking with a
         * stable id per level (created by interop_misp_event) */
        char id[64 + MRD_UUID_STR_LEN], up[16], u[MRD_UUID_STR_LEN + 1];
        size_t n = strlen(name);
        if (n >= sizeof(up))
            return MRD_OK;
        for (size_t i = 0; i <= n; i++)
            up[i] = (char)(name[i] >= 'a' && name[i] <= 'z' ? name[i] - 32 : name[i]);
        if (mrd_uuid_v5(MRD_UUID_STIX_NAMESPACE, up, n, u, c->err) != MRD_OK)
            return MRD_E_INVAL;
        (void)snprintf(id, sizeof(id), "marking-definition--%s", u);
        for (size_t i = 0; i < json_array_size(markings); i++)
            if (strcmp(json_string_value(json_array_get(markings, i)), id) == 0)
                return MRD_OK;
        if (json_array_append_new(markings, json_string(id)) != 0)
            return mrd_err_set(c->err, MRD_E_NOMEM, "misp: out of memory");
        /* the definition itself, once per import is enough: duplicates are
         * identical objects (same id and created) and store as one */
        return add(c, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:{s:s}}", "type",
                                "marking-definition", "spec_version", "2.1", "id", id, "created",
                                "2016-01-01T00:00:00.000Z", "name", up, "definition_type",
                                "statement", "definition", "statement", up));
    }
    if (json_array_append_new(labels, json_string(name)) != 0)
        return mrd_err_set(c->err, MRD_E_NOMEM, "misp: out of memory");
    return MRD_OK;
}

static enum mrd_code tags(struct conv *c, const json_t *holder, json_t *markings, json_t *labels,
                          bool *has_tlp, enum policy_tlp *tlp)
{
    const json_t *list = json_object_get(holder, "Tag");
    enum mrd_code rc = MRD_OK;

    for (size_t i = 0; rc == MRD_OK && i < json_array_size(list); i++) {
        const char *name = str(json_array_get(list, i), "name");
        if (name != NULL && name[0] != '\0')
            rc = tag(c, name, markings, labels, has_tlp, tlp);
    }
    return rc;
}

/* Sets created_by_ref, markings and labels shared by every object. */
static enum mrd_code common(struct conv *c, json_t *o, const json_t *markings, bool has_tlp,
                            enum policy_tlp tlp, const json_t *labels)
{
    json_t *m = json_deep_copy(markings);
    int bad = m == NULL;

    if (!bad && has_tlp)
        bad |= json_array_append_new(m, json_string(tlp2_ids[tlp]));
    if (!bad && json_array_size(m) > 0)
        bad |= json_object_set(o, "object_marking_refs", m);
    json_decref(m);
    if (!bad && json_array_size(labels) > 0)
        bad |= json_object_set_new(o, "labels", json_deep_copy(labels));
    if (!bad && c->created_by[0] != '\0')
        bad |= json_object_set_new(o, "created_by_ref", json_string(c->created_by));
    return bad ? mrd_err_set(c->err, MRD_E_NOMEM, "misp: out of memory") : MRD_OK;
}

/* The STIX object path of a MISP attribute type, and the value part a
 * composite type ("filename|md5", "ip-dst|port") contributes. */
static const char *path_of(const char *type, const char *value, const char **ret_value,
                           size_t *ret_len)
{
    static const struct {
        const char *misp, *path;
        int part; /* 0 whole value, 1 before '|', 2 after '|' */
    } map[] = {
        {"ip-dst", NULL, 0},
        {"ip-src", NULL, 0},
        {"ip-dst|port", NULL, 1},
        {"ip-src|port", NULL, 1},
        {"domain", "domain-name:value", 0},
        {"hostname", "domain-name:value", 0},
        {"domain|ip", "domain-name:value", 1},
        {"url", "url:value", 0},
        {"uri", NULL, -1},
        {"link", NULL, -1},
        {"email", "email-addr:value", 0},
        {"email-src", "email-addr:value", 0},
        {"email-dst", "email-addr:value", 0},
        {"md5", "file:hashes.MD5", 0},
        {"sha1", "file:hashes.'SHA-1'", 0},
        {"sha256", "file:hashes.'SHA-256'", 0},
        {"sha512", "file:hashes.'SHA-512'", 0},
        {"filename|md5", "file:hashes.MD5", 2},
        {"filename|sha1", "file:hashes.'SHA-1'", 2},
        {"filename|sha256", "file:hashes.'SHA-256'", 2},
        {"filename|sha512", "file:hashes.'SHA-512'", 2},
    };
    const char *bar = strchr(value, '|');

    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
        if (strcmp(type, map[i].misp) != 0 || map[i].part < 0)
            continue;
        *ret_value = value;
        *ret_len = strlen(value);
        if (map[i].part != 0) {
            if (bar == NULL)
                return NULL;
            if (map[i].part == 1)
                *ret_len = (size_t)(bar - value);
            else {
                *ret_value = bar + 1;
                *ret_len = strlen(bar + 1);
            }
        }
        if (*ret_len == 0)
            return NULL;
        if (map[i].path != NULL)
            return map[i].path;
        /* an address: v4 or v6 by its shape */
        return memchr(*ret_value, ':', *ret_len) != NULL ? "ipv6-addr:value" : "ipv4-addr:value";
    }
    return NULL;
}

/* '...' with \ and ' escaped (STIX 2.1 §9.2). */
static enum mrd_code pattern(struct mrd_buf *b, const char *path, const char *v, size_t n,
                             struct mrd_err *err)
{
    enum mrd_code rc = mrd_buf_printf(b, err, "[%s = '", path);

    for (size_t i = 0; rc == MRD_OK && i < n; i++) {
        if (v[i] == '\'' || v[i] == '\\')
            rc = mrd_buf_putc(b, '\\', err);
        if (rc == MRD_OK)
            rc = mrd_buf_putc(b, v[i], err);
    }
    if (rc == MRD_OK)
        rc = mrd_buf_puts(b, "']", err);
    return rc;
}

/* An observable: the SCO with its deterministic id (STIX 2.1 §2.9). */
static json_t *sco(const char *path, const char *v, size_t n, struct mrd_err *err)
{
    const char *colon = strchr(path, ':');
    char type[32], u[MRD_UUID_STR_LEN + 1], id[64 + MRD_UUID_STR_LEN];
    json_t *props, *o;
    struct mrd_buf canon;
    size_t tn = (size_t)(colon - path);

    if (tn >= sizeof(type))
        return NULL;
    memcpy(type, path, tn);
    type[tn] = '\0';
    if (strcmp(type, "file") == 0) {
        char alg[16];
        const char *a = colon + 8; /* after "hashes." */
        size_t k = 0;
        for (; *a != '\0' && k + 1 < sizeof(alg); a++)
            if (*a != '\'')
                alg[k++] = *a;
        alg[k] = '\0';
        props = json_pack("{s:{s:s%}}", "hashes", alg, v, n);
    } else {
        props = json_pack("{s:s%}", "value", v, n);
    }
    if (props == NULL)
        return NULL;
    mrd_buf_init(&canon, STORE_OBJECT_MAX);
    if (mrd_jcs_write(props, &canon, err) != MRD_OK ||
        mrd_uuid_v5(MRD_UUID_STIX_NAMESPACE, canon.data, canon.len, u, err) != MRD_OK) {
        mrd_buf_release(&canon);
        json_decref(props);
        return NULL;
    }
    mrd_buf_release(&canon);
    (void)snprintf(id, sizeof(id), "%s--%s", type, u);
    o = json_pack("{s:s, s:s, s:s}", "type", type, "spec_version", "2.1", "id", id);
    if (o != NULL && json_object_update(o, props) != 0) {
        json_decref(o);
        o = NULL;
    }
    json_decref(props);
    return o;
}

static enum mrd_code sightings(struct conv *c, const json_t *attr, const char *ind_id)
{
    const json_t *list = json_object_get(attr, "Sighting");
    enum mrd_code rc = MRD_OK;

    for (size_t i = 0; rc == MRD_OK && i < json_array_size(list); i++) {
        const json_t *s = json_array_get(list, i);
        const char *type = str(s, "type");
        char u[MRD_UUID_STR_LEN + 1], t[MRD_TIME_STIX_MS_LEN + 1], id[64 + MRD_UUID_STR_LEN];
        if (type != NULL && strcmp(type, "0") != 0) {
            c->st->skipped++; /* 1: false positive, 2: expiration */
            continue;
        }
        if (!uuid_of(s, u) || !misp_time(json_object_get(s, "date_sighting"), t)) {
            c->st->skipped++;
            continue;
        }
        (void)snprintf(id, sizeof(id), "sighting--%s", u);
        rc = add(c,
                 json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:i}", "type", "sighting",
                           "spec_version", "2.1", "id", id, "created", t, "modified", t,
                           "sighting_of_ref", ind_id, "first_seen", t, "last_seen", t, "count", 1));
        if (rc == MRD_OK)
            c->st->sightings++;
    }
    return rc;
}

static enum mrd_code attribute(struct conv *c, const json_t *a)
{
    const char *type = str(a, "type"), *value = str(a, "value"), *path, *v;
    char u[MRD_UUID_STR_LEN + 1], t[MRD_TIME_STIX_MS_LEN + 1], id[64 + MRD_UUID_STR_LEN];
    json_t *markings = NULL, *labels = NULL, *o = NULL;
    bool has_tlp = c->has_tlp;
    enum policy_tlp tlp = c->tlp;
    struct mrd_buf pat;
    size_t n = 0;
    enum mrd_code rc = MRD_OK;

    c->st->attributes++;
    if (json_is_true(json_object_get(a, "deleted")))
        return MRD_OK;
    if (type == NULL || value == NULL || (path = path_of(type, value, &v, &n)) == NULL) {
        c->st->skipped++;
        return MRD_OK;
    }
    if (!uuid_of(a, u)) {
        c->st->skipped++;
        return MRD_OK;
    }
    if (!misp_time(json_object_get(a, "timestamp"), t))
        memcpy(t, c->event_time, sizeof(t));
    markings = json_deep_copy(c->markings);
    labels = json_deep_copy(c->labels);
    if (markings == NULL || labels == NULL) {
        rc = mrd_err_set(c->err, MRD_E_NOMEM, "misp: out of memory");
        goto out;
    }
    rc = tags(c, a, markings, labels, &has_tlp, &tlp);
    if (rc != MRD_OK)
        goto out;
    mrd_buf_init(&pat, MATCH_MAX_PATTERN);
    if (json_is_true(json_object_get(a, "to_ids"))) {
        const char *comment = str(a, "comment");
        char name[256];
        rc = pattern(&pat, path, v, n, c->err);
        (void)snprintf(name, sizeof(name), "%s: %.*s", type, (int)(n > 200 ? 200 : n), v);
        (void)snprintf(id, sizeof(id), "indicator--%s", u);
        if (rc == MRD_OK)
            o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "type", "indicator",
                          "spec_version", "2.1", "id", id, "created", t, "modified", t, "name",
                          name, "pattern", pat.data, "pattern_type", "stix", "valid_from", t);
        if (o != NULL && comment != NULL && comment[0] != '\0')
            (void)json_object_set_new(o, "description", json_string(comment));
        if (o != NULL)
            c->st->indicators++;
    } else {
        o = sco(path, v, n, c->err);
        (void)snprintf(id, sizeof(id), "%s", o != NULL ? str(o, "id") : "");
        if (o != NULL)
            c->st->observables++;
    }
    mrd_buf_release(&pat);
    if (rc != MRD_OK)
        goto out;
    if (o == NULL) {
        rc = mrd_err_set(c->err, MRD_E_NOMEM, "misp: out of memory");
        goto out;
    }
    /* SCOs carry no created_by_ref or labels of their own here: they are
     * facts about a value, and their id must not depend on who saw it */
    if (strncmp(id, "indicator--", 11) == 0)
        rc = common(c, o, markings, has_tlp, tlp, labels);
    else
        rc = common(c, o, markings, has_tlp, tlp, NULL);
    if (rc == MRD_OK && json_array_append_new(c->refs, json_string(id)) != 0)
        rc = mrd_err_set(c->err, MRD_E_NOMEM, "misp: out of memory");
    if (rc == MRD_OK) {
        rc = add(c, o);
        o = NULL;
    }
    if (rc == MRD_OK && strncmp(id, "indicator--", 11) == 0)
        rc = sightings(c, a, id);
out:
    json_decref(o);
    json_decref(markings);
    json_decref(labels);
    return rc;
}

/* Galaxy clusters: the SDO their galaxy type names. */
static enum mrd_code galaxies(struct conv *c, const json_t *ev)
{
    static const struct {
        const char *galaxy, *sdo;
    } kinds[] = {{"threat-actor", "threat-actor"},
                 {"mitre-intrusion-set", "intrusion-set"},
                 {"mitre-attack-pattern", "attack-pattern"},
                 {"mitre-malware", "malware"},
                 {"malpedia", "malware"},
                 {"ransomware", "malware"},
                 {"tool", "tool"},
                 {"mitre-tool", "tool"},
                 {"mitre-course-of-action", "course-of-action"}};
    const json_t *list = json_object_get(ev, "Galaxy");
    enum mrd_code rc = MRD_OK;

    for (size_t i = 0; rc == MRD_OK && i < json_array_size(list); i++) {
        const json_t *g = json_array_get(list, i), *clusters = json_object_get(g, "GalaxyCluster");
        const char *gtype = str(g, "type"), *sdo = NULL;
        for (size_t k = 0; gtype != NULL && k < sizeof(kinds) / sizeof(kinds[0]); k++)
            if (strcmp(gtype, kinds[k].galaxy) == 0)
                sdo = kinds[k].sdo;
        for (size_t j = 0; rc == MRD_OK && j < json_array_size(clusters); j++) {
            const json_t *cl = json_array_get(clusters, j);
            const char *value = str(cl, "value"), *desc = str(cl, "description");
            char u[MRD_UUID_STR_LEN + 1], id[64 + MRD_UUID_STR_LEN];
            json_t *o;
            if (sdo == NULL || value == NULL || value[0] == '\0' || !uuid_of(cl, u)) {
                c->st->skipped++;
                continue;
            }
            (void)snprintf(id, sizeof(id), "%s--%s", sdo, u);
            o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "type", sdo, "spec_version", "2.1",
                          "id", id, "created", c->event_time, "modified", c->event_time, "name",
                          value);
            if (o != NULL && strcmp(sdo, "malware") == 0)
                (void)json_object_set_new(o, "is_family", json_true());
            if (o != NULL && desc != NULL && desc[0] != '\0')
                (void)json_object_set_new(o, "description", json_string(desc));
            if (o == NULL || json_array_append_new(c->refs, json_string(id)) != 0) {
                json_decref(o);
                return mrd_err_set(c->err, MRD_E_NOMEM, "misp: out of memory");
            }
            rc = common(c, o, c->markings, c->has_tlp, c->tlp, NULL);
            if (rc == MRD_OK)
                rc = add(c, o);
            else
                json_decref(o);
            if (rc == MRD_OK)
                c->st->galaxies++;
        }
    }
    return rc;
}

enum mrd_code interop_misp_event(const json_t *doc, json_t *out, struct interop_misp_stats *st,
                                 struct mrd_err *err)
{
    const json_t *ev = json_object_get(doc, "Event"), *orgc, *objects, *attrs;
    char u[MRD_UUID_STR_LEN + 1], id[64 + MRD_UUID_STR_LEN], published[MRD_TIME_STIX_MS_LEN + 1];
    struct conv c;
    const char *info, *date;
    json_t *report = NULL;
    enum mrd_code rc = MRD_OK;

    memset(&c, 0, sizeof(c));
    c.out = out;
    c.st = st;
    c.err = err;
    if (!json_is_object(ev))
        ev = doc; /* the bare event */
    if (!json_is_object(ev))
        return mrd_err_set(err, MRD_E_INVALID, "misp: the event is not a JSON object");
    info = str(ev, "info");
    if (!uuid_of(ev, u))
        return mrd_err_set(err, MRD_E_INVALID, "misp: Event.uuid is missing or not a UUID");
    if (info == NULL || info[0] == '\0')
        return mrd_err_set(err, MRD_E_INVALID, "misp: Event %s has no 'info'", u);
    if (!misp_time(json_object_get(ev, "timestamp"), c.event_time))
        return mrd_err_set(err, MRD_E_INVALID, "misp: Event %s: 'timestamp' is not epoch seconds",
                           u);
    attrs = json_object_get(ev, "Attribute");
    objects = json_object_get(ev, "Object");
    if ((attrs != NULL && !json_is_array(attrs)) || (objects != NULL && !json_is_array(objects)))
        return mrd_err_set(err, MRD_E_INVALID,
                           "misp: Event %s: 'Attribute' and 'Object' must be lists", u);
    c.refs = json_array();
    c.markings = json_array();
    c.labels = json_array();
    if (c.refs == NULL || c.markings == NULL || c.labels == NULL) {
        rc = mrd_err_set(err, MRD_E_NOMEM, "misp: out of memory");
        goto out;
    }
    orgc = json_object_get(ev, "Orgc");
    if (json_is_object(orgc) && str(orgc, "name") != NULL && uuid_of(orgc, id)) {
        char ident[64 + MRD_UUID_STR_LEN];
        (void)snprintf(ident, sizeof(ident), "identity--%s", id);
        rc = add(&c, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "type", "identity",
                               "spec_version", "2.1", "id", ident, "created",
                               "2016-01-01T00:00:00.000Z", "modified", "2016-01-01T00:00:00.000Z",
                               "name", str(orgc, "name"), "identity_class", "organization"));
        mrd_strlcpy(c.created_by, ident, sizeof(c.created_by));
    }
    if (rc == MRD_OK)
        rc = tags(&c, ev, c.markings, c.labels, &c.has_tlp, &c.tlp);
    for (size_t i = 0; rc == MRD_OK && i < json_array_size(attrs); i++)
        rc = attribute(&c, json_array_get(attrs, i));
    for (size_t i = 0; rc == MRD_OK && i < json_array_size(objects); i++) {
        const json_t *oa = json_object_get(json_array_get(objects, i), "Attribute");
        for (size_t k = 0; rc == MRD_OK && k < json_array_size(oa); k++)
            rc = attribute(&c, json_array_get(oa, k));
    }
    if (rc == MRD_OK)
        rc = galaxies(&c, ev);
    if (rc != MRD_OK)
        goto out;
    /* the event itself: a report of everything above */
    date = str(ev, "date");
    memcpy(published, c.event_time, sizeof(published));
    if (date != NULL && strlen(date) == 10) {
        struct mrd_time t;
        char buf[32];
        (void)snprintf(buf, sizeof(buf), "%sT00:00:00.000Z", date);
        if (mrd_time_parse(buf, strlen(buf), &t, NULL) == MRD_OK)
            mrd_strlcpy(published, buf, sizeof(published));
    }
    if (json_array_size(c.refs) == 0) {
        /* a report needs object_refs (STIX 2.1 §4.15): name the org */
        if (c.created_by[0] == '\0') {
            st->skipped++;
            goto out;
        }
        (void)json_array_append_new(c.refs, json_string(c.created_by));
    }
    (void)snprintf(id, sizeof(id), "report--%s", u);
    report = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:O}", "type", "report", "spec_version",
                       "2.1", "id", id, "created", c.event_time, "modified", c.event_time, "name",
                       info, "published", published, "object_refs", c.refs);
    if (report == NULL) {
        rc = mrd_err_set(err, MRD_E_NOMEM, "misp: out of memory");
        goto out;
    }
    (void)json_object_set_new(report, "report_types", json_pack("[s]", "threat-report"));
    rc = common(&c, report, c.markings, c.has_tlp, c.tlp, c.labels);
    if (rc == MRD_OK) {
        rc = add(&c, report);
        report = NULL;
    }
    st->events++;
out:
    json_decref(report);
    json_decref(c.refs);
    json_decref(c.markings);
    json_decref(c.labels);
    return rc;
}
