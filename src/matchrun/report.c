/*
 * report.c: sightings for `match --report` that a re-run does not double.
 *
 * Ids are deterministic: the sensor's identity is a UUIDv5 of the node id
 * and the org name (or the --identity given), created once; the sighting
 * of an indicator by that sensor is a UUIDv5 of (identity, indicator). A
 * report makes a new version of that sighting with merged counts.
 *
 * "The same log" is a log whose first bytes (up to MATCHRUN_HEAD_MAX) are
 * those recorded: a log that grew keeps its first bytes, a rotated or
 * rewritten one does not. Each sighting records, per log, the count and
 * first/last seen of its last scan (x_meridian_log_counts: the SHA-256 of
 * the log's first bytes and how many bytes that digest covers, never a
 * path). A report replaces the entry of a log it scanned again, so a
 * re-run over the same bytes changes nothing (no new version is written)
 * and a run over a grown log counts the new lines once; the sighting's
 * count is the sum over its logs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "core/alloc.h"
#include "core/json.h"
#include "core/str.h"
#include "core/timestamp.h"
#include "core/uuid.h"
#include "matchrun/matchrun_int.h"
#include "store/store.h"

#define LOGS_PROP "x_meridian_log_counts"
#define COUNT_MAX 999999999 /* STIX 2.1 §5.6: count is at most 999,999,999 */

/* The namespace of Meridian's sensor and sighting ids (a fixed UUIDv4). */
static const char NS[] = "6f4b2c1e-8d3a-4f5b-9c7e-2a1d0e9b8c7f";

static enum mrd_code uuid5_id(const char *type, const char *name, char out[MATCHRUN_ID_MAX + 1],
                              struct mrd_err *err)
{
    return mrd_uuid_v5_id(type, NS, name, out, MATCHRUN_ID_MAX + 1, err);
}

enum mrd_code matchrun_sensor_identity(const char *node_id, const char *org,
                                       char out[MATCHRUN_ID_MAX + 1], struct mrd_err *err)
{
    char name[512];

    (void)snprintf(name, sizeof(name), "meridian-sensor\n%s\n%s", node_id, org);
    return uuid5_id("identity", name, out, err);
}

static void hex_sha256(const uint8_t *p, size_t n, char out[crypto_hash_sha256_BYTES * 2 + 1])
{
    uint8_t h[crypto_hash_sha256_BYTES];

    crypto_hash_sha256(h, p, n);
    sodium_bin2hex(out, crypto_hash_sha256_BYTES * 2 + 1, h, sizeof(h));
}

/* The latest stored version of id in the collection, parsed; NULL when
 * there is none. */
struct latest {
    int64_t version;
    json_t *obj;
};

static enum mrd_code latest_cb(void *ctx, const struct store_held *o, struct mrd_err *err)
{
    struct latest *l = ctx;
    struct mrd_json_limits lim = {STORE_OBJECT_MAX, 64};
    json_t *j = NULL;

    (void)err;
    if (l->obj != NULL && o->row->version_usec <= l->version)
        return MRD_OK;
    if (mrd_json_parse(o->row->body, o->row->body_len, &lim, &j, NULL) != MRD_OK)
        return MRD_OK;
    json_decref(l->obj);
    l->obj = j;
    l->version = o->row->version_usec;
    return MRD_OK;
}

static enum mrd_code find_latest(struct store *st, int64_t coll, const char *id, json_t **ret,
                                 struct mrd_err *err)
{
    struct latest l = {0};
    struct store_find f = {.id = id,
                           .id_len = strlen(id),
                           .version_usec = STORE_TIME_NONE,
                           .collection = coll,
                           .leaf = -1};
    enum mrd_code rc = store_objects_find(st, &f, latest_cb, &l, err);

    if (rc != MRD_OK) {
        json_decref(l.obj);
        return rc;
    }
    *ret = l.obj;
    return MRD_OK;
}

static json_t *time_json(int64_t usec)
{
    char t[MRD_TIME_STIX_MS_LEN + 1];

    mrd_time_format_stix_ms(usec, t);
    return json_string(t);
}

/* A timestamp property as usec; false when absent or malformed. */
static bool time_of(const json_t *o, const char *key, int64_t *ret)
{
    const json_t *v = json_object_get(o, key);
    struct mrd_time t;

    if (!json_is_string(v) ||
        mrd_time_parse(json_string_value(v), json_string_length(v), &t, NULL) != MRD_OK)
        return false;
    *ret = mrd_time_to_usec(&t);
    return true;
}

/* Whether entry e (of an earlier report) is the log whose first bytes are
 * head: e's digest covers a prefix of them. */
static bool same_log(const json_t *e, const struct matchrun_head *head)
{
    const json_t *d = json_object_get(e, "log_sha256"), *n = json_object_get(e, "log_bytes");
    char hex[crypto_hash_sha256_BYTES * 2 + 1];
    json_int_t len;

    if (!json_is_string(d) || !json_is_integer(n) || head->len == 0)
        return false;
    len = json_integer_value(n);
    if (len <= 0 || (size_t)len > head->len)
        return false;
    hex_sha256(head->bytes, (size_t)len, hex);
    return strcmp(hex, json_string_value(d)) == 0;
}

static json_t *log_entry(const struct matchrun_head *head, const struct matchrun_sum *s)
{
    char hex[crypto_hash_sha256_BYTES * 2 + 1];
    json_t *e;

    hex_sha256(head->bytes, head->len, hex);
    e = json_pack("{s:s, s:I, s:I}", "log_sha256", hex, "log_bytes", (json_int_t)head->len, "count",
                  (json_int_t)(s->count > COUNT_MAX ? COUNT_MAX : s->count));
    if (e != NULL && s->timed) {
        (void)json_object_set_new(e, "first_seen", time_json(s->first));
        (void)json_object_set_new(e, "last_seen", time_json(s->last));
    }
    return e;
}

/* The merged log entries: the old ones, each log scanned now replaced by
 * its new counts, new logs appended; at most MATCHRUN_REPORT_LOGS, the
 * oldest folded into one "folded" entry. */
static json_t *merge_logs(const json_t *old, const struct matchrun_result *res,
                          const struct matchrun_sum *sums, size_t n)
{
    json_t *logs = json_is_array(old) ? json_deep_copy(old) : json_array();
    json_t *e;
    size_t i;

    if (logs == NULL)
        return NULL;
    for (size_t k = 0; k < n; k++) {
        const struct matchrun_head *head = &res->heads[sums[k].file];
        bool replaced = false;

        json_array_foreach(logs, i, e)
        {
            if (!replaced && same_log(e, head)) {
                (void)json_array_set_new(logs, i, log_entry(head, &sums[k]));
                replaced = true;
            }
        }
        if (!replaced)
            (void)json_array_append_new(logs, log_entry(head, &sums[k]));
    }
    while (json_array_size(logs) > MATCHRUN_REPORT_LOGS) {
        /* fold the two oldest into one entry that matches no log */
        json_t *a = json_array_get(logs, 0), *b = json_array_get(logs, 1);
        json_int_t c = json_integer_value(json_object_get(a, "count")) +
                       json_integer_value(json_object_get(b, "count"));
        json_t *f = json_pack("{s:s, s:I, s:I}", "log_sha256", "folded", "log_bytes", (json_int_t)0,
                              "count", c > COUNT_MAX ? COUNT_MAX : c);
        int64_t t0 = 0, t1 = 0, u0 = 0, u1 = 0;
        bool ta = time_of(a, "first_seen", &t0) && time_of(a, "last_seen", &t1);
        bool tb = time_of(b, "first_seen", &u0) && time_of(b, "last_seen", &u1);

        if (ta || tb) {
            (void)json_object_set_new(f, "first_seen",
                                      time_json(ta && tb ? (t0 < u0 ? t0 : u0)
                                                : ta     ? t0
                                                         : u0));
            (void)json_object_set_new(f, "last_seen",
                                      time_json(ta && tb ? (t1 > u1 ? t1 : u1)
                                                : ta     ? t1
                                                         : u1));
        }
        (void)json_array_remove(logs, 0);
        (void)json_array_set_new(logs, 0, f);
    }
    return logs;
}

/* The sighting of one indicator by the sensor: a first version, or a new
 * version of the stored one with the logs merged; NULL when nothing
 * changed. */
static enum mrd_code one_sighting(const struct matchrun_set *set, const struct matchrun_result *res,
                                  const struct matchrun_sum *sums, size_t n, struct store *st,
                                  int64_t coll, const char *ident, int64_t now, json_t **ret,
                                  struct mrd_err *err)
{
    const char *ind = matchrun_set_id(set, sums[0].ind);
    char name[2 * MATCHRUN_ID_MAX + 2], id[MATCHRUN_ID_MAX + 1];
    json_t *old = NULL, *logs = NULL, *s = NULL, *e;
    int64_t created = now, modified = now, first = 0, last = 0, t;
    json_int_t count = 0;
    bool timed = false;
    size_t i;
    enum mrd_code rc;

    *ret = NULL;
    (void)snprintf(name, sizeof(name), "%s\n%s", ident, ind);
    rc = uuid5_id("sighting", name, id, err);
    if (rc == MRD_OK)
        rc = find_latest(st, coll, id, &old, err);
    if (rc != MRD_OK)
        return rc;
    logs = merge_logs(old != NULL ? json_object_get(old, LOGS_PROP) : NULL, res, sums, n);
    if (logs == NULL) {
        json_decref(old);
        return mrd_err_set(err, MRD_E_NOMEM, "out of memory");
    }
    if (old != NULL && json_equal(logs, json_object_get(old, LOGS_PROP))) {
        json_decref(old); /* the same logs, the same counts: nothing to add */
        json_decref(logs);
        return MRD_OK;
    }
    if (old != NULL) {
        int64_t om;

        (void)time_of(old, "created", &created);
        /* a new version is strictly newer (STIX 2.1 §3.6) */
        if (time_of(old, "modified", &om) && om + 1000 > modified)
            modified = om + 1000;
    }
    json_array_foreach(logs, i, e)
    {
        int64_t t0;

        count += json_integer_value(json_object_get(e, "count"));
        if (time_of(e, "first_seen", &t0) && time_of(e, "last_seen", &t)) {
            if (!timed || t0 < first)
                first = t0;
            if (!timed || t > last)
                last = t;
            timed = true;
        }
    }
    s = json_pack("{s:s, s:s, s:s, s:o, s:o, s:s, s:I, s:[s], s:o}", "type", "sighting",
                  "spec_version", "2.1", "id", id, "created", time_json(created), "modified",
                  time_json(modified), "sighting_of_ref", ind, "count",
                  count > COUNT_MAX ? (json_int_t)COUNT_MAX : count, "where_sighted_refs", ident,
                  LOGS_PROP, logs);
    if (s != NULL && timed) {
        (void)json_object_set_new(s, "first_seen", time_json(first));
        (void)json_object_set_new(s, "last_seen", time_json(last));
    }
    json_decref(old);
    if (s == NULL)
        return mrd_err_set(err, MRD_E_NOMEM, "out of memory");
    *ret = s;
    return MRD_OK;
}

static int cmp_sum(const void *a, const void *b)
{
    const struct matchrun_sum *x = a, *y = b;

    if (x->ind != y->ind)
        return x->ind < y->ind ? -1 : 1;
    return (x->file > y->file) - (x->file < y->file);
}

enum mrd_code matchrun_report_write(const struct matchrun_set *set, struct matchrun_result *res,
                                    struct store *st, int64_t collection,
                                    const struct matchrun_sensor *sensor, int64_t now,
                                    const char *path, size_t *ret_changed, struct mrd_err *err)
{
    json_t *bundle = NULL, *objs = json_array(), *ident = NULL;
    char bid[MRD_UUID_STR_LEN + 1], bundle_id[MATCHRUN_ID_MAX + 1];
    size_t changed = 0;
    enum mrd_code rc;

    if (objs == NULL)
        return mrd_err_set(err, MRD_E_NOMEM, "out of memory");
    /* the sensor's identity: created once, never a new version per run */
    rc = find_latest(st, collection, sensor->identity, &ident, err);
    if (rc == MRD_OK && ident == NULL) {
        ident = json_pack("{s:s, s:s, s:s, s:o, s:o, s:s, s:s}", "type", "identity", "spec_version",
                          "2.1", "id", sensor->identity, "created", time_json(now), "modified",
                          time_json(now), "name", sensor->name, "identity_class", "organization");
        if (ident == NULL)
            rc = mrd_err_set(err, MRD_E_NOMEM, "out of memory");
        else
            (void)json_array_append(objs, ident);
    }
    json_decref(ident);
    qsort(res->sums, res->nsums, sizeof(*res->sums), cmp_sum);
    for (size_t i = 0, j; rc == MRD_OK && i < res->nsums; i = j) {
        json_t *s = NULL;

        for (j = i + 1; j < res->nsums && res->sums[j].ind == res->sums[i].ind; j++)
            ;
        rc = one_sighting(set, res, &res->sums[i], j - i, st, collection, sensor->identity, now, &s,
                          err);
        if (rc == MRD_OK && s != NULL) {
            (void)json_array_append_new(objs, s);
            changed++;
        }
    }
    if (rc == MRD_OK)
        rc = mrd_uuid_v4(bid, err);
    if (rc == MRD_OK) {
        (void)snprintf(bundle_id, sizeof(bundle_id), "bundle--%s", bid);
        bundle = json_pack("{s:s, s:s, s:O}", "type", "bundle", "id", bundle_id, "objects", objs);
        if (bundle == NULL || json_dump_file(bundle, path, JSON_COMPACT) != 0)
            rc = mrd_err_set(err, MRD_E_IO, "%s: cannot write the sightings", path);
    }
    json_decref(bundle);
    json_decref(objs);
    if (rc == MRD_OK && ret_changed != NULL)
        *ret_changed = changed;
    return rc;
}
